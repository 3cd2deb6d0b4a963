package poller

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math/big"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/emersion/go-sasl"
)

const (
	testUser  = "support@example.com"
	testPass  = "correct horse"
	testToken = "ya29.a0-test-access-token"
)

// ---- in-process IMAP server ----

var (
	capsMove     = imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapMove: {}, imap.CapUIDPlus: {}}
	capsUIDPlus  = imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapUIDPlus: {}}
	capsNoUIDExt = imap.CapSet{imap.CapIMAP4rev1: {}}
)

type testServer struct {
	t    testing.TB
	user *imapmemserver.User
	caps imap.CapSet
	tls  string // "none", "starttls" or "tls"
	cert *tls.Config

	mu   sync.Mutex
	addr string
	srv  *imapserver.Server
}

func newTestServer(t testing.TB, caps imap.CapSet, tlsMode string) *testServer {
	t.Helper()
	s := &testServer{t: t, user: imapmemserver.NewUser(testUser, testPass), caps: caps, tls: tlsMode}
	if err := s.user.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	if tlsMode != "none" {
		s.cert = serverTLS(t)
	}
	s.start()
	t.Cleanup(s.stop)
	return s
}

// start listens on the server's address (a fresh one the first time).
func (s *testServer) start() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	addr := s.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ { // the port may linger briefly after a stop
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		s.t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	opts := &imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return &testSession{user: s.user}, nil, nil
		},
		Caps:         s.caps,
		InsecureAuth: true,
		Logger:       log.New(io.Discard, "", 0),
	}
	switch s.tls {
	case "starttls":
		opts.TLSConfig = s.cert
	case "tls":
		ln = tls.NewListener(ln, s.cert)
	}
	s.srv = imapserver.New(opts)
	go s.srv.Serve(ln)
}

// stop closes the listener and every connection.
func (s *testServer) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		s.srv.Close()
		s.srv = nil
	}
}

type literal struct {
	*bytes.Reader
}

func (l literal) Size() int64 { return int64(l.Len()) }

func (s *testServer) appendMsg(folder string, raw []byte, flags ...imap.Flag) imap.UID {
	s.t.Helper()
	data, err := s.user.Append(folder, literal{bytes.NewReader(raw)}, &imap.AppendOptions{Flags: flags})
	if err != nil {
		s.t.Fatal(err)
	}
	return data.UID
}

func (s *testServer) count(folder string) int {
	s.t.Helper()
	st, err := s.user.Status(folder, &imap.StatusOptions{NumMessages: true})
	if err != nil {
		return -1
	}
	return int(*st.NumMessages)
}

// messageIDs lists the Message-ID of each message in folder, via a client.
func (s *testServer) messageIDs(folder string) []string {
	s.t.Helper()
	c := s.client()
	defer c.Close()
	if _, err := c.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		s.t.Fatalf("select %s: %v", folder, err)
	}
	bufs, err := c.Fetch(imap.SeqSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{Envelope: true}).Collect()
	if err != nil {
		var ie *imap.Error
		if errors.As(err, &ie) {
			return nil // empty mailbox
		}
		s.t.Fatalf("fetch %s: %v", folder, err)
	}
	var ids []string
	for _, b := range bufs {
		ids = append(ids, b.Envelope.MessageID)
	}
	slices.Sort(ids)
	return ids
}

func (s *testServer) flags(folder string) map[string][]imap.Flag {
	s.t.Helper()
	c := s.client()
	defer c.Close()
	if _, err := c.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		s.t.Fatalf("select %s: %v", folder, err)
	}
	bufs, err := c.Fetch(imap.SeqSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{Envelope: true, Flags: true}).Collect()
	if err != nil {
		s.t.Fatalf("fetch %s: %v", folder, err)
	}
	out := map[string][]imap.Flag{}
	for _, b := range bufs {
		out[b.Envelope.MessageID] = b.Flags
	}
	return out
}

func (s *testServer) client() *imapclient.Client {
	s.t.Helper()
	conn, err := net.Dial("tcp", s.addr)
	if err != nil {
		s.t.Fatal(err)
	}
	var c *imapclient.Client
	switch s.tls {
	case "tls":
		c = imapclient.New(tls.Client(conn, &tls.Config{InsecureSkipVerify: true}), nil)
	default:
		c = imapclient.New(conn, nil)
	}
	if err := c.Login(testUser, testPass).Wait(); err != nil {
		s.t.Fatal(err)
	}
	return c
}

// testSession is imapmemserver's session plus PLAIN and XOAUTH2.
type testSession struct {
	*imapmemserver.UserSession
	user *imapmemserver.User
}

var _ imapserver.SessionSASL = (*testSession)(nil)

func (s *testSession) Login(username, password string) error {
	if err := s.user.Login(username, password); err != nil {
		return err
	}
	s.UserSession = imapmemserver.NewUserSession(s.user)
	return nil
}

// Idle works around a race in imapmemserver: it starts listening for
// updates only after "+ idling" went out, so an append in between would
// wait for the next command. One extra poll, once it listens, flushes it.
func (s *testSession) Idle(w *imapserver.UpdateWriter, stop <-chan struct{}) error {
	done := make(chan error, 1)
	go func() { done <- s.UserSession.Idle(w, stop) }()
	t := time.NewTimer(20 * time.Millisecond)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		if err := s.UserSession.Poll(w, true); err != nil {
			return errors.Join(err, <-done)
		}
	}
	return <-done
}

func (s *testSession) AuthenticateMechanisms() []string { return []string{"PLAIN", "XOAUTH2"} }

func (s *testSession) Authenticate(mech string) (sasl.Server, error) {
	switch mech {
	case "PLAIN":
		return sasl.NewPlainServer(func(identity, username, password string) error {
			return s.Login(username, password)
		}), nil
	case "XOAUTH2":
		return &xoauth2Server{sess: s}, nil
	}
	return nil, &imap.Error{Type: imap.StatusResponseTypeNo, Text: "unsupported mechanism"}
}

// xoauth2Server accepts "user=U\x01auth=Bearer testToken\x01\x01" and
// otherwise answers like Gmail: a JSON challenge, then NO.
type xoauth2Server struct {
	sess     *testSession
	rejected bool
}

func (x *xoauth2Server) Next(resp []byte) ([]byte, bool, error) {
	if x.rejected {
		return nil, true, &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeAuthenticationFailed, Text: "Invalid credentials"}
	}
	if resp == nil {
		return []byte{}, false, nil
	}
	parts := strings.Split(string(resp), "\x01")
	if len(parts) != 4 || !strings.HasPrefix(parts[0], "user=") || parts[1] != "auth=Bearer "+testToken {
		x.rejected = true
		return []byte(`{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}`), false, nil
	}
	return nil, true, x.sess.Login(strings.TrimPrefix(parts[0], "user="), testPass)
}

// serverTLS returns a server config with a fresh self-signed certificate
// for 127.0.0.1.
func serverTLS(t testing.TB) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}

// clientTLS trusts the server's certificate.
func clientTLS(t testing.TB, srv *testServer) *tls.Config {
	t.Helper()
	cert, err := x509.ParseCertificate(srv.cert.Certificates[0].Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{RootCAs: pool}
}

// ---- a TCP proxy that can turn into a black hole ----

// blackHole forwards connections to target until frozen; from then on the
// connections it carried swallow everything, like a peer that vanished
// without closing, and new ones do the same until it thaws.
type blackHole struct {
	ln     net.Listener
	target string
	frozen atomic.Bool
	// hideIdle renames the IDLE capability in what the server sends, to
	// play a server without IDLE.
	hideIdle bool
}

func newBlackHole(t testing.TB, target string, hideIdle bool) *blackHole {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &blackHole{ln: ln, target: target, hideIdle: hideIdle}
	t.Cleanup(func() { ln.Close() })
	go b.serve()
	return b
}

func (b *blackHole) addr() string { return b.ln.Addr().String() }

func (b *blackHole) serve() {
	for {
		c, err := b.ln.Accept()
		if err != nil {
			return
		}
		go b.handle(c)
	}
}

func (b *blackHole) handle(c net.Conn) {
	defer c.Close()
	var dead atomic.Bool
	if b.frozen.Load() {
		dead.Store(true)
		io.Copy(io.Discard, c)
		return
	}
	up, err := net.Dial("tcp", b.target)
	if err != nil {
		return
	}
	defer up.Close()
	pipe := func(dst, src net.Conn, fromServer bool) {
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			if n > 0 && !dead.Load() {
				data := buf[:n]
				if fromServer && b.hideIdle {
					data = bytes.ReplaceAll(data, []byte(" IDLE"), []byte(" XDLE"))
				}
				if b.frozen.Load() {
					dead.Store(true)
				} else if _, werr := dst.Write(data); werr != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}
	done := make(chan struct{}, 2)
	go func() { pipe(up, c, false); done <- struct{}{} }()
	go func() { pipe(c, up, true); done <- struct{}{} }()
	<-done
}

// cutProxy forwards connections to target; the first one is closed after
// limit bytes from the server, like a network path that dies mid-FETCH.
type cutProxy struct {
	ln     net.Listener
	target string
	limit  int
	first  atomic.Bool
	done   atomic.Bool
}

func newCutProxy(t testing.TB, target string, limit int) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target, limit: limit}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.handle(c, p.first.CompareAndSwap(false, true))
		}
	}()
	return p
}

func (p *cutProxy) addr() string { return p.ln.Addr().String() }

func (p *cutProxy) handle(c net.Conn, cut bool) {
	defer c.Close()
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer up.Close()
	go func() { buf := make([]byte, 32<<10); copyUntil(up, c, buf, -1) }()
	limit := -1
	if cut {
		limit = p.limit
	}
	copyUntil(c, up, make([]byte, 32<<10), limit)
	if cut {
		p.done.Store(true)
	}
}

// copyUntil copies src to dst, at most limit bytes if limit >= 0.
func copyUntil(dst, src net.Conn, buf []byte, limit int) {
	for limit != 0 {
		n, err := src.Read(buf)
		if limit > 0 && n > limit {
			n = limit
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
			if limit > 0 {
				limit -= n
			}
		}
		if err != nil {
			return
		}
	}
}

// ---- fake Handler ----

type delivery struct {
	validity, uid uint32
	size          int64
	oversized     bool
	flags         []string
	date          time.Time
	body          []byte
}

type failure struct {
	uid   uint32
	cause error
}

type fakeHandler struct {
	mu        sync.Mutex
	cursors   map[string]Cursor
	delivered []delivery
	failed    []failure
	resets    []Cursor
	attempts  map[uint32]int

	// check runs before the commit; a non-nil error is returned instead.
	check func(d Delivery, body []byte) error
	// afterCommit runs after the commit.
	afterCommit func(d Delivery)
}

func newFakeHandler() *fakeHandler {
	return &fakeHandler{cursors: map[string]Cursor{}, attempts: map[uint32]int{}}
}

func (h *fakeHandler) Cursor(ctx context.Context, mailbox string) (Cursor, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.cursors[mailbox], nil
}

func (h *fakeHandler) Deliver(ctx context.Context, d Delivery) error {
	body, err := io.ReadAll(d.Body)
	if err != nil {
		return err
	}
	h.mu.Lock()
	h.attempts[d.UID]++
	check := h.check
	h.mu.Unlock()
	if check != nil {
		if err := check(d, body); err != nil {
			return err
		}
	}
	h.mu.Lock()
	cur := h.cursors[d.Mailbox]
	if cur.UIDValidity == d.UIDValidity && d.UID <= cur.LastUID {
		h.mu.Unlock()
		return fmt.Errorf("fake handler: UID %d delivered at or below cursor %d", d.UID, cur.LastUID)
	}
	h.cursors[d.Mailbox] = Cursor{UIDValidity: d.UIDValidity, LastUID: d.UID}
	h.delivered = append(h.delivered, delivery{
		validity: d.UIDValidity, uid: d.UID, size: d.Size, oversized: d.Oversized,
		flags: d.Flags, date: d.InternalDate, body: body,
	})
	after := h.afterCommit
	h.mu.Unlock()
	if after != nil {
		after(d)
	}
	return nil
}

func (h *fakeHandler) Fail(ctx context.Context, d Delivery, cause error) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	// Like the ingester, never moves the cursor back: in a batch, later
	// messages may have been committed before this one is set aside.
	if cur := h.cursors[d.Mailbox]; cur.UIDValidity != d.UIDValidity || cur.LastUID < d.UID {
		h.cursors[d.Mailbox] = Cursor{UIDValidity: d.UIDValidity, LastUID: d.UID}
	}
	h.failed = append(h.failed, failure{uid: d.UID, cause: cause})
	return nil
}

func (h *fakeHandler) ResetCursor(ctx context.Context, mailbox string, uidValidity uint32) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.cursors[mailbox] = Cursor{UIDValidity: uidValidity}
	h.resets = append(h.resets, Cursor{UIDValidity: uidValidity})
	return nil
}

func (h *fakeHandler) deliveredUIDs() []uint32 {
	h.mu.Lock()
	defer h.mu.Unlock()
	var uids []uint32
	for _, d := range h.delivered {
		uids = append(uids, d.uid)
	}
	return uids
}

func (h *fakeHandler) deliveries() []delivery {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.delivered)
}

func (h *fakeHandler) cursor() Cursor {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.cursors["support/INBOX"]
}

func (h *fakeHandler) attemptsOf(uid uint32) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.attempts[uid]
}

// ---- log capture ----

type logRecord struct {
	level slog.Level
	msg   string
	attrs map[string]string
}

type logRecorder struct {
	mu      sync.Mutex
	records []logRecord
}

func (r *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *logRecorder) WithGroup(string) slog.Handler            { return r }
func (r *logRecorder) Handle(_ context.Context, rec slog.Record) error {
	lr := logRecord{level: rec.Level, msg: rec.Message, attrs: map[string]string{}}
	rec.Attrs(func(a slog.Attr) bool {
		lr.attrs[a.Key] = a.Value.String()
		return true
	})
	r.mu.Lock()
	r.records = append(r.records, lr)
	r.mu.Unlock()
	if testing.Verbose() && os.Getenv("POLLER_LOG") != "" {
		fmt.Fprintln(os.Stderr, rec.Level, rec.Message, lr.attrs)
	}
	return nil
}

// find returns the records with this message.
func (r *logRecorder) find(msg string) []logRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []logRecord
	for _, rec := range r.records {
		if rec.msg == msg {
			out = append(out, rec)
		}
	}
	return out
}

// ---- helpers ----

func testConfig(srv *testServer, logs *logRecorder) Config {
	return Config{
		Name:         "support",
		Addr:         srv.addr,
		TLS:          "none",
		Username:     testUser,
		Password:     testPass,
		PollInterval: time.Hour,
		IOTimeout:    5 * time.Second,
		Logger:       slog.New(logs),
	}
}

func newTestPoller(t testing.TB, cfg Config, h Handler) *Poller {
	t.Helper()
	p, err := New(cfg, h)
	if err != nil {
		t.Fatal(err)
	}
	p.minBackoff, p.maxBackoff = 5*time.Millisecond, 40*time.Millisecond
	return p
}

// start runs p until the returned stop is called (or the test ends).
func start(t testing.TB, p *Poller) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run returned %v, want nil", err)
				}
			case <-time.After(10 * time.Second):
				t.Error("Run did not return after cancel")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func testMessage(n int, extra string) []byte {
	return []byte(fmt.Sprintf("From: Customer %d <c%d@customer.example>\r\n"+
		"To: support@example.com\r\n"+
		"Subject: Question %d\r\n"+
		"Message-ID: <m%d@customer.example>\r\n"+
		"Date: Tue, 12 Nov 2024 09:13:58 +0900\r\n"+
		"%s"+
		"\r\n"+
		"Hello, this is question %d.\r\n", n, n, n, n, extra, n))
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
