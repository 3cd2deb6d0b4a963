package sender

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// received is a message as the test server got it.
type received struct {
	from string
	to   []string
	data []byte
}

// backend is an in-process relay whose behaviour each test sets before use.
type backend struct {
	// Credentials; when user is set, MAIL requires authentication.
	user, pass, token string
	mechs             []string // AUTH mechanisms offered

	mailErr, dataErr *smtp.SMTPError
	rcptErr          map[string]*smtp.SMTPError
	stall            chan struct{} // if set, DATA waits for it to close
	inData           chan struct{} // if set, receives when DATA starts
	discard          bool          // do not keep messages (benchmark)

	mu       sync.Mutex
	msgs     []received
	helos    []string
	tls      []bool
	authMech []string
	conns    []*smtp.Conn
}

func (b *backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	_, isTLS := c.TLSConnectionState()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.helos = append(b.helos, c.Hostname())
	b.tls = append(b.tls, isTLS)
	b.conns = append(b.conns, c)
	return &session{b: b}, nil
}

// valid checks a password or, when token is set, a token.
func (b *backend) valid(user, pass, token string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if token != "" {
		return user == b.user && token == b.token
	}
	return user == b.user && pass == b.pass
}

func (b *backend) messages() []received {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]received(nil), b.msgs...)
}

// closeConnections closes every connection from the server side.
func (b *backend) closeConnections() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range b.conns {
		c.Close()
	}
	b.conns = nil
}

type session struct {
	b       *backend
	authed  bool
	fromSet bool
	from    string
	to      []string
}

func (s *session) AuthMechanisms() []string {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	return s.b.mechs
}

func (s *session) Auth(mech string) (sasl.Server, error) {
	done := func(err error) error {
		if err == nil {
			s.authed = true
			s.b.mu.Lock()
			s.b.authMech = append(s.b.authMech, mech)
			s.b.mu.Unlock()
		}
		return err
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(identity, user, pass string) error {
			if !s.b.valid(user, pass, "") {
				return smtp.ErrAuthFailed
			}
			return done(nil)
		}), nil
	case sasl.Login:
		return &loginServer{check: func(user, pass string) error {
			if !s.b.valid(user, pass, "") {
				return smtp.ErrAuthFailed
			}
			return done(nil)
		}}, nil
	case "XOAUTH2":
		return &xoauth2Server{check: func(ir string) bool {
			user, token, _ := strings.Cut(strings.TrimPrefix(ir, "user="), "\x01auth=Bearer ")
			ok := s.b.valid(user, "", strings.TrimSuffix(token, "\x01\x01")) && strings.HasSuffix(ir, "\x01\x01")
			if ok {
				done(nil)
			}
			return ok
		}}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	if s.b.user != "" && !s.authed {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}
	}
	if s.fromSet {
		// As Postfix does; go-smtp's server would accept it.
		return &smtp.SMTPError{Code: 503, EnhancedCode: smtp.EnhancedCode{5, 5, 1}, Message: "nested MAIL command"}
	}
	if s.b.mailErr != nil {
		return s.b.mailErr
	}
	s.fromSet, s.from = true, from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	if err := s.b.rcptErr[to]; err != nil {
		return err
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	s.b.mu.Lock()
	inData, stall := s.b.inData, s.b.stall
	s.b.mu.Unlock()
	if inData != nil {
		select {
		case inData <- struct{}{}:
		default:
		}
	}
	if stall != nil {
		<-stall
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	if s.b.dataErr != nil {
		return s.b.dataErr
	}
	if !s.b.discard {
		s.b.msgs = append(s.b.msgs, received{s.from, s.to, data})
	}
	return nil
}

// update changes the backend's behaviour while it serves.
func (b *backend) update(f func(b *backend)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	f(b)
}

func (s *session) Reset() {
	s.fromSet, s.from, s.to = false, "", nil
}

func (s *session) Logout() error { return nil }

// loginServer is the server side of AUTH LOGIN, with or without an initial
// response.
type loginServer struct {
	check      func(user, pass string) error
	user       string
	gotUser    bool
	askedFirst bool
}

func (l *loginServer) Next(resp []byte) ([]byte, bool, error) {
	switch {
	case !l.gotUser && resp == nil && !l.askedFirst:
		l.askedFirst = true
		return []byte("Username:"), false, nil
	case !l.gotUser:
		l.user, l.gotUser = string(resp), true
		return []byte("Password:"), false, nil
	default:
		return nil, true, l.check(l.user, string(resp))
	}
}

// xoauth2Server answers a bad token with the JSON challenge, then 535 to the
// client's empty response.
type xoauth2Server struct {
	check    func(ir string) bool
	rejected bool
}

func (x *xoauth2Server) Next(resp []byte) ([]byte, bool, error) {
	if x.rejected {
		if len(resp) != 0 {
			return nil, false, errors.New("expected an empty response")
		}
		return nil, false, smtp.ErrAuthFailed
	}
	if resp == nil {
		return []byte{}, false, nil
	}
	if x.check(string(resp)) {
		return nil, true, nil
	}
	x.rejected = true
	return []byte(`{"status":"401","schemes":"bearer","scope":"https://outlook.office.com/SMTP.Send"}`), false, nil
}

// countingListener counts accepted connections.
type countingListener struct {
	net.Listener
	n atomic.Int32
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

type testServer struct {
	addr  string
	be    *backend
	lis   *countingListener
	roots *x509.CertPool
}

// connections returns how many TCP connections the server accepted.
func (s *testServer) connections() int { return int(s.lis.n.Load()) }

// startServer runs a relay on 127.0.0.1 in mode "none", "starttls" or "tls".
func startServer(t testing.TB, be *backend, mode string) *testServer {
	t.Helper()
	cert, roots := selfSigned(t)
	tlsConfig := &tls.Config{Certificates: []tls.Certificate{cert}}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl := &countingListener{Listener: l}
	var serveOn net.Listener = cl

	srv := smtp.NewServer(be)
	srv.Domain = "relay.test"
	srv.ErrorLog = nopLogger{}
	switch mode {
	case "none":
		srv.AllowInsecureAuth = true
	case "starttls":
		srv.TLSConfig = tlsConfig
	case "tls":
		serveOn = tls.NewListener(cl, tlsConfig)
	default:
		t.Fatalf("mode %q", mode)
	}
	go srv.Serve(serveOn)
	t.Cleanup(func() {
		srv.Close()
	})
	return &testServer{addr: l.Addr().String(), be: be, lis: cl, roots: roots}
}

// config is a client configuration that trusts the server's certificate.
func (s *testServer) config(mode string) Config {
	return Config{Addr: s.addr, TLS: mode, TLSConfig: &tls.Config{RootCAs: s.roots}}
}

func selfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "relay.test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, roots
}

type nopLogger struct{}

func (nopLogger) Printf(string, ...interface{}) {}
func (nopLogger) Println(...interface{})        {}
