// Package devmail runs a tiny, real mail system in-process on loopback: an
// IMAP server (go-imap's imapmemserver: IDLE, MOVE, UIDPLUS) and an SMTP
// server (go-smtp) whose deliveries land in the IMAP users' INBOX. It backs
// `helpdeskd dev` and integration tests; it is not a production MTA.
//
// Guarantees:
//   - Both servers listen on loopback addresses only; Start refuses others.
//   - Every recipient accepted over SMTP gets its own copy in INBOX, with
//     Return-Path, Delivered-To (the RCPT TO address as given, plus part
//     included) and Received prepended. local+anything@domain is delivered
//     to local@domain.
//   - What is stored is served back by FETCH BODY[] byte for byte. Bare LF
//     line endings are stored as CRLF (as SMTP carries them); a message
//     whose header imapmemserver cannot parse, which it would serve empty,
//     is refused (SMTP 554 5.6.0) rather than stored.
//   - A delivery, an IMAP APPEND or any other mailbox change wakes IDLE
//     clients promptly.
//   - With a StateDir, Close writes every user (with password), folder and
//     message (bytes, flags, internal date) to disk atomically, and Start
//     restores them with the same UIDVALIDITY, UIDs and UIDNEXT, so a
//     client's (UIDVALIDITY, UID) cursor stays valid across restarts. After
//     a run that stopped without saving (a crash), whose clients may have
//     seen later UIDs, and for a state saved without UIDs (by an older
//     version), UIDs are renumbered instead, and every folder then gets a
//     UIDVALIDITY above any the user's folders had before, so such a cursor
//     never points at the wrong mail.
//   - After Close returns, no mailbox changes; Close is idempotent.
package devmail

import (
	"bufio"
	"bytes"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/emersion/go-message/textproto"
	"github.com/emersion/go-smtp"
)

// MaxMessageBytes is the largest message the SMTP server accepts.
const MaxMessageBytes = 50 << 20

var (
	// ErrUnknownRecipient is returned by Deliver for an address that is
	// not a user's, even after removing a +detail.
	ErrUnknownRecipient = errors.New("devmail: unknown recipient")
	// ErrClosed is returned by methods called after Close.
	ErrClosed = errors.New("devmail: server closed")
	// ErrMalformedMessage is returned for a message the IMAP server could
	// not serve back unchanged; SMTP answers it with 554 5.6.0.
	ErrMalformedMessage = errors.New("devmail: message refused, the IMAP server could not serve it unchanged")
)

// Config configures Start.
type Config struct {
	IMAPAddr string // default "127.0.0.1:0"; loopback only
	SMTPAddr string // default "127.0.0.1:0"; loopback only
	// StateDir, when set, is where Close saves every mailbox and Start
	// loads them from. "" keeps everything in memory.
	StateDir string
	// RenumberUIDs restores the saved state under new UIDVALIDITY values,
	// renumbering the UIDs, as a restart after a crash does: for tests of
	// clients' UIDVALIDITY handling.
	RenumberUIDs bool
	Logger       *slog.Logger // default: discard
}

// Server is a running IMAP + SMTP pair. Create it with Start.
type Server struct {
	cfg    Config
	log    *slog.Logger
	wake   notifier
	domain string // SMTP greeting and Received "by"

	usersMu sync.Mutex
	users   map[string]*user // by lower-cased address

	// state guards closed: mailbox changes hold it for reading, so once
	// Close has set closed under the write lock nothing changes any more.
	state  sync.RWMutex
	closed bool

	imapLn, smtpLn net.Listener
	imapSrv        *imapserver.Server
	smtpSrv        *smtp.Server
	internal       *imapserver.Server // serves in-process clients over pipes
	pipes          *pipeListener
	// Closed when the matching Serve has returned.
	imapDone, smtpDone, internalDone <-chan struct{}

	closeOnce sync.Once
	closeErr  error
}

type user struct {
	address  string // lower-cased
	password string
	mem      *imapmemserver.User
}

// Start validates cfg, loads the saved state if any, and starts both
// servers.
func Start(cfg Config) (*Server, error) {
	if cfg.IMAPAddr == "" {
		cfg.IMAPAddr = "127.0.0.1:0"
	}
	if cfg.SMTPAddr == "" {
		cfg.SMTPAddr = "127.0.0.1:0"
	}
	if err := checkLoopback(cfg.IMAPAddr); err != nil {
		return nil, fmt.Errorf("devmail: IMAP address: %w", err)
	}
	if err := checkLoopback(cfg.SMTPAddr); err != nil {
		return nil, fmt.Errorf("devmail: SMTP address: %w", err)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		cfg:    cfg,
		log:    cfg.Logger,
		domain: "localhost",
		users:  map[string]*user{},
	}
	if cfg.StateDir != "" {
		if err := s.load(); err != nil {
			return nil, err
		}
	}

	var err error
	if s.imapLn, err = net.Listen("tcp", cfg.IMAPAddr); err != nil {
		return nil, fmt.Errorf("devmail: listen IMAP: %w", err)
	}
	if s.smtpLn, err = net.Listen("tcp", cfg.SMTPAddr); err != nil {
		s.imapLn.Close()
		return nil, fmt.Errorf("devmail: listen SMTP: %w", err)
	}

	s.imapSrv = s.newIMAPServer()
	s.internal = s.newIMAPServer()
	s.pipes = newPipeListener()
	s.smtpSrv = s.newSMTPServer()
	s.imapDone = s.serve("imap", func() error { return s.imapSrv.Serve(s.imapLn) })
	s.internalDone = s.serve("imap-internal", func() error { return s.internal.Serve(s.pipes) })
	s.smtpDone = s.serve("smtp", func() error { return s.smtpSrv.Serve(s.smtpLn) })
	s.log.Info("devmail: started", "imap", s.IMAPAddr(), "smtp", s.SMTPAddr(), "state_dir", cfg.StateDir)
	return s, nil
}

func (s *Server) serve(name string, f func() error) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := f(); err != nil && !errors.Is(err, smtp.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			s.log.Error("devmail: server stopped", "server", name, "err", err)
		}
	}()
	return done
}

// checkLoopback accepts host:port where host is a loopback IP literal or
// "localhost".
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if strings.EqualFold(host, "localhost") {
		return nil
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.IsLoopback() {
		return fmt.Errorf("%q is not a loopback address", addr)
	}
	return nil
}

// IMAPAddr is the IMAP listener's address (host:port).
func (s *Server) IMAPAddr() string { return s.imapLn.Addr().String() }

// SMTPAddr is the SMTP listener's address (host:port).
func (s *Server) SMTPAddr() string { return s.smtpLn.Addr().String() }

// AddUser creates a user with an empty INBOX. Adding an existing user
// again with the same password does nothing; with another password it
// fails. Addresses are case-insensitive.
func (s *Server) AddUser(address, password string) error {
	addr, err := canonicalAddress(address)
	if err != nil {
		return err
	}
	if password == "" {
		return fmt.Errorf("devmail: add user %s: empty password", addr)
	}
	s.state.RLock()
	defer s.state.RUnlock()
	if s.closed {
		return ErrClosed
	}
	_, err = s.addUser(addr, password, 0)
	return err
}

// addUser creates or finds the user; addr must be canonical. A new user's
// mailboxes get UIDVALIDITY values above uidValidityFloor.
func (s *Server) addUser(addr, password string, uidValidityFloor uint32) (*user, error) {
	s.usersMu.Lock()
	defer s.usersMu.Unlock()
	if u := s.users[addr]; u != nil {
		if !u.checkPassword(password) {
			return nil, fmt.Errorf("devmail: add user %s: exists with another password", addr)
		}
		return u, nil
	}
	u := &user{address: addr, password: password, mem: imapmemserver.NewUser(addr, password)}
	// imapmemserver numbers UIDVALIDITY per user from 1 with each Create;
	// burning values is the only way to move past earlier ones.
	for i := uint32(0); i < uidValidityFloor; i++ {
		if err := u.mem.Create("burn", nil); err != nil {
			return nil, fmt.Errorf("devmail: add user %s: %w", addr, err)
		}
		if err := u.mem.Delete("burn"); err != nil {
			return nil, fmt.Errorf("devmail: add user %s: %w", addr, err)
		}
	}
	if err := u.mem.Create("INBOX", nil); err != nil {
		return nil, fmt.Errorf("devmail: add user %s: %w", addr, err)
	}
	s.users[addr] = u
	return u, nil
}

func (u *user) checkPassword(password string) bool {
	return subtle.ConstantTimeCompare([]byte(password), []byte(u.password)) == 1
}

// canonicalAddress lower-cases a bare address and rejects what cannot be
// a mailbox name (or a directory name in the state directory).
func canonicalAddress(address string) (string, error) {
	addr := strings.ToLower(strings.TrimSpace(address))
	local, domain, ok := strings.Cut(addr, "@")
	if !ok || local == "" || domain == "" || strings.Contains(domain, "@") || len(addr) > 254 ||
		strings.ContainsAny(addr, "/\\<>\"") {
		return "", fmt.Errorf("devmail: invalid address %q", address)
	}
	for _, r := range addr {
		if r <= ' ' || r == 0x7f {
			return "", fmt.Errorf("devmail: invalid address %q", address)
		}
	}
	return addr, nil
}

func (s *Server) lookup(address string) *user {
	s.usersMu.Lock()
	defer s.usersMu.Unlock()
	return s.users[strings.ToLower(address)]
}

// resolve finds the user a recipient address delivers to: the address
// itself, or without its +detail.
func (s *Server) resolve(rcpt string) *user {
	if u := s.lookup(rcpt); u != nil {
		return u
	}
	local, domain, ok := strings.Cut(rcpt, "@")
	if !ok {
		return nil
	}
	base, _, plus := strings.Cut(local, "+")
	if !plus {
		return nil
	}
	return s.lookup(base + "@" + domain)
}

func (s *Server) sortedUsers() []*user {
	s.usersMu.Lock()
	defer s.usersMu.Unlock()
	out := make([]*user, 0, len(s.users))
	for _, u := range s.users {
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].address < out[j].address })
	return out
}

// Deliver puts raw into the INBOX of the user rcpt resolves to (with
// +detail removed), with a Delivered-To: rcpt header prepended: what the
// SMTP server does for each recipient, minus the envelope headers.
func (s *Server) Deliver(rcpt string, raw []byte) error {
	return s.deliver(rcpt, nil, raw)
}

// envelope is what an SMTP transaction adds on top of Delivered-To.
type envelope struct {
	from     string // "" is the null sender
	received string // the Received header's value; may contain "\n"
}

// deliver prepends Return-Path (with env), Delivered-To and Received
// (with env) and appends to INBOX.
func (s *Server) deliver(rcpt string, env *envelope, raw []byte) error {
	u := s.resolve(rcpt)
	if u == nil {
		return fmt.Errorf("%w: %s", ErrUnknownRecipient, rcpt)
	}
	var buf bytes.Buffer
	buf.Grow(len(raw) + 512)
	if env != nil {
		buf.WriteString("Return-Path: <" + env.from + ">\r\n")
	}
	buf.WriteString("Delivered-To: " + rcpt + "\r\n")
	if env != nil {
		buf.WriteString("Received: " + strings.ReplaceAll(env.received, "\n", "\r\n") + "\r\n")
	}
	buf.Write(raw)
	msg, err := storable(buf.Bytes())
	if err != nil {
		return fmt.Errorf("devmail: deliver to %s: %w", rcpt, err)
	}

	s.state.RLock()
	defer s.state.RUnlock()
	if s.closed {
		return ErrClosed
	}
	data, err := u.mem.Append("INBOX", literal{bytes.NewReader(msg)}, &imap.AppendOptions{Time: time.Now()})
	if err != nil {
		return fmt.Errorf("devmail: deliver to %s: %w", rcpt, err)
	}
	s.wake.notify()
	s.log.Info("devmail: delivered", "rcpt", rcpt, "user", u.address, "uid", data.UID, "size", len(msg))
	return nil
}

// storable returns raw with bare LFs turned into CRLF, as SMTP carries
// it and IMAP servers serve it, or ErrMalformedMessage when imapmemserver
// would not serve it back byte for byte: its FETCH BODY[] re-reads the
// header with go-message and returns nothing for a header that does not
// parse (a line without a colon, say).
func storable(raw []byte) ([]byte, error) {
	msg := toCRLF(raw)
	served := imapserver.ExtractBodySection(bytes.NewReader(msg), &imap.FetchItemBodySection{})
	if bytes.Equal(served, msg) {
		return msg, nil
	}
	if _, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(msg))); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedMessage, err)
	}
	return nil, fmt.Errorf("%w: IMAP would serve it altered", ErrMalformedMessage)
}

// toCRLF turns every LF not preceded by CR into CRLF.
func toCRLF(raw []byte) []byte {
	bare := 0
	for i, c := range raw {
		if c == '\n' && (i == 0 || raw[i-1] != '\r') {
			bare++
		}
	}
	if bare == 0 {
		return raw
	}
	out := make([]byte, 0, len(raw)+bare)
	for i, c := range raw {
		if c == '\n' && (i == 0 || raw[i-1] != '\r') {
			out = append(out, '\r')
		}
		out = append(out, c)
	}
	return out
}

// Mailbox returns the raw messages currently in a user's folder, in order.
func (s *Server) Mailbox(address, mailbox string) ([][]byte, error) {
	s.state.RLock()
	closed := s.closed
	s.state.RUnlock()
	if closed {
		return nil, ErrClosed
	}
	u := s.lookup(address)
	if u == nil {
		return nil, fmt.Errorf("devmail: mailbox %s of %s: no such user", mailbox, address)
	}
	var out [][]byte
	err := s.withClient(u, func(c *internalClient) error {
		_, err := c.messages(mailbox, func(m storedMessage) error {
			out = append(out, m.raw)
			return nil
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("devmail: mailbox %s of %s: %w", mailbox, u.address, err)
	}
	return out, nil
}

// Close stops both servers and, with a StateDir, saves every mailbox. It
// returns the first call's result on every call.
func (s *Server) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.close() })
	return s.closeErr
}

func (s *Server) close() error {
	// Stop the outside world first, then freeze the mailboxes. Each
	// listener is closed and its Serve awaited before the server's Close:
	// imapserver's Close would race with a Serve that is just starting.
	s.smtpLn.Close()
	s.imapLn.Close()
	<-s.smtpDone
	<-s.imapDone
	s.smtpSrv.Close() // and the connections
	s.imapSrv.Close()
	s.state.Lock()
	s.closed = true
	s.state.Unlock()

	var err error
	if s.cfg.StateDir != "" {
		err = s.save()
	}
	s.pipes.Close()
	<-s.internalDone
	s.internal.Close()
	if err != nil {
		return err
	}
	s.log.Info("devmail: stopped")
	return nil
}

// literal adapts a bytes.Reader to imap.LiteralReader.
type literal struct{ *bytes.Reader }

func (l literal) Size() int64 { return l.Reader.Size() }

// slogPrinter adapts slog to the Printf loggers of imapserver and go-smtp.
type slogPrinter struct {
	log    *slog.Logger
	server string
}

func (p slogPrinter) Printf(format string, v ...any) {
	p.log.Warn("devmail: "+strings.TrimSpace(fmt.Sprintf(format, v...)), "server", p.server)
}

func (p slogPrinter) Println(v ...any) {
	p.log.Warn("devmail: "+strings.TrimSpace(fmt.Sprintln(v...)), "server", p.server)
}
