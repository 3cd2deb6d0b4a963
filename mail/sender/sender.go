// Package sender delivers messages to an SMTP relay over one reused
// connection.
//
// A Sender dials lazily, speaks plain SMTP, STARTTLS or implicit TLS,
// authenticates with PLAIN, LOGIN or XOAUTH2, and keeps the connection for
// the next message: it resets the transaction after a rejected recipient or
// message, drops the connection after any protocol or network error, redials
// once transparently when a reused connection turns out to be dead before
// anything was sent, and closes it when it has been idle too long.
//
// Every Send is bounded by the smaller of the context deadline and
// Config.Timeout, including dial, TLS handshake and authentication. Errors are
// *Error or *RecipientError and say whether a later retry of the same message
// can succeed (IsPermanent). SMTP gives at-least-once delivery: a timeout
// after the final "." may hide a delivery, so a retried message can arrive
// twice; a stable Message-ID lets receivers tell.
//
// A Sender holds one connection and serialises its Send calls; make one
// Sender per parallel worker.
package sender

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/helpdesk/helpdesk/mail/xoauth2"
)

// Config configures a Sender.
type Config struct {
	// Addr is the relay's host:port.
	Addr string
	// TLS is "none", "starttls" (the default when empty) or "tls"
	// (implicit TLS, usually port 465).
	TLS string
	// TLSConfig is optional; ServerName defaults to the host of Addr.
	TLSConfig *tls.Config

	// Auth is "plain", "login", "xoauth2", or empty: PLAIN when Username is
	// set, no authentication otherwise. Credentials are never sent over a
	// connection without TLS unless the relay is on a loopback address.
	Auth     string
	Username string
	Password string
	Token    xoauth2.TokenSource // for xoauth2

	// HeloName is the name given in EHLO (default "localhost").
	HeloName string
	// Timeout bounds each Send (default 60s).
	Timeout time.Duration
	// IdleTimeout closes a connection unused for longer than this before
	// the next Send (default 30s).
	IdleTimeout time.Duration
}

const (
	defaultTimeout     = 60 * time.Second
	defaultIdleTimeout = 30 * time.Second
	quitTimeout        = 5 * time.Second
)

// Sender sends messages over one reused SMTP connection. It is safe for
// concurrent use, but sends one message at a time.
type Sender struct {
	cfg       Config
	tlsConfig *tls.Config
	auth      string
	now       func() time.Time

	mu       sync.Mutex
	client   *smtp.Client
	conn     net.Conn // the TCP connection under client
	utf8     bool     // the server offers SMTPUTF8
	lastUsed time.Time
	closed   bool
}

// New validates cfg and returns a Sender. It does not connect.
func New(cfg Config) (*Sender, error) {
	host, port, err := net.SplitHostPort(cfg.Addr)
	if err != nil || host == "" || port == "" {
		return nil, fmt.Errorf("sender: address %q is not host:port", cfg.Addr)
	}
	switch cfg.TLS {
	case "":
		cfg.TLS = "starttls"
	case "none", "starttls", "tls":
	default:
		return nil, fmt.Errorf("sender: TLS mode %q is not none, starttls or tls", cfg.TLS)
	}

	auth := cfg.Auth
	if auth == "" && cfg.Username != "" {
		auth = "plain"
	}
	switch auth {
	case "":
	case "plain", "login":
		if cfg.Username == "" || cfg.Password == "" {
			return nil, fmt.Errorf("sender: auth %s needs a username and a password", auth)
		}
	case "xoauth2":
		if cfg.Username == "" || cfg.Token == nil {
			return nil, errors.New("sender: auth xoauth2 needs a username and a token source")
		}
	default:
		return nil, fmt.Errorf("sender: auth %q is not plain, login or xoauth2", cfg.Auth)
	}
	if auth != "" && cfg.TLS == "none" && !isLoopback(host) {
		return nil, fmt.Errorf("sender: refusing to send credentials without TLS to %s; use starttls or tls", host)
	}

	if cfg.HeloName == "" {
		cfg.HeloName = "localhost"
	}
	if strings.ContainsAny(cfg.HeloName, " \t\r\n") {
		return nil, fmt.Errorf("sender: HELO name %q contains white space", cfg.HeloName)
	}
	if cfg.Timeout < 0 || cfg.IdleTimeout < 0 {
		return nil, errors.New("sender: negative timeout")
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = defaultTimeout
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = defaultIdleTimeout
	}

	tlsConfig := &tls.Config{}
	if cfg.TLSConfig != nil {
		tlsConfig = cfg.TLSConfig.Clone()
	}
	if tlsConfig.ServerName == "" {
		tlsConfig.ServerName = host
	}
	return &Sender{cfg: cfg, tlsConfig: tlsConfig, auth: auth, now: time.Now}, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Send delivers data (a complete message with CRLF line endings) from the
// envelope sender from (empty for the null sender) to the envelope
// recipients to.
//
// When some recipients are refused and others accepted, the message goes to
// the accepted ones and Send returns a *RecipientError; when all are refused
// it returns a *RecipientError with no Accepted recipients. Any other
// failure is an *Error.
func (s *Sender) Send(ctx context.Context, from string, to []string, data []byte) error {
	if err := checkEnvelope(from, to, data); err != nil {
		return err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return &Error{Op: "send", Msg: "sender is closed", Temporary: true}
	}

	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	if err := ctx.Err(); err != nil {
		return classify(ctx, "send", err)
	}

	// The watchdog closes whatever connection is in use when ctx ends, which
	// unblocks any read or write, including those go-smtp does without a
	// deadline (writing the message, the STARTTLS handshake).
	wd := &watchdog{}
	stop := context.AfterFunc(ctx, wd.fire)
	defer func() {
		if !stop() {
			s.drop()
		}
	}()

	if s.client != nil && s.now().Sub(s.lastUsed) > s.cfg.IdleTimeout {
		wd.set(s.conn)
		s.quit()
	}
	reused := s.client != nil
	for {
		if s.client == nil {
			if err := s.connect(ctx, wd); err != nil {
				return err
			}
		} else {
			wd.set(s.conn)
		}
		setTimeouts(ctx, s.client)

		stale, err := s.transaction(ctx, from, to, data)
		if stale && reused {
			// The relay closed the idle connection; nothing was sent.
			s.drop()
			reused = false
			continue
		}
		s.lastUsed = s.now()
		return err
	}
}

// transaction runs MAIL, RCPT and DATA. stale reports that the connection
// failed on its first command, before any part of the transaction.
func (s *Sender) transaction(ctx context.Context, from string, to []string, data []byte) (stale bool, err error) {
	c := s.client
	opts := &smtp.MailOptions{Size: int64(len(data))}
	if !isASCII(from) || !allASCII(to) {
		if !s.utf8 {
			return false, &Error{Op: "mail", Msg: "non-ASCII envelope address and the server lacks SMTPUTF8"}
		}
		opts.UTF8 = true
	}
	if err := c.Mail(from, opts); err != nil {
		stale := ctx.Err() == nil && (!isReply(err) || isClosing(err))
		return stale, s.replyFailed(ctx, "mail", err)
	}

	var rejected []Rejection
	var accepted []string
	for _, rcpt := range to {
		err := c.Rcpt(rcpt, nil)
		if err == nil {
			accepted = append(accepted, rcpt)
			continue
		}
		if !isReply(err) || isClosing(err) {
			return false, s.replyFailed(ctx, "rcpt", err)
		}
		rejected = append(rejected, Rejection{Recipient: rcpt, Err: classify(ctx, "rcpt", err)})
	}
	if len(accepted) == 0 {
		s.reset()
		return false, &RecipientError{Rejected: rejected}
	}

	w, err := c.Data()
	if err != nil {
		return false, s.replyFailed(ctx, "data", err)
	}
	if _, err := w.Write(data); err != nil {
		s.drop()
		return false, classify(ctx, "data", err)
	}
	if err := w.Close(); err != nil {
		return false, s.replyFailed(ctx, "data", err)
	}
	if len(rejected) > 0 {
		return false, &RecipientError{Rejected: rejected, Accepted: accepted}
	}
	return false, nil
}

// replyFailed handles a failed command: a refusal ends the transaction with
// RSET and keeps the connection; anything else drops the connection.
func (s *Sender) replyFailed(ctx context.Context, op string, err error) *Error {
	if isReply(err) && !isClosing(err) && ctx.Err() == nil {
		s.reset()
	} else {
		s.drop()
	}
	return classify(ctx, op, err)
}

func (s *Sender) connect(ctx context.Context, wd *watchdog) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return classify(ctx, "dial", err)
	}
	wd.set(conn)

	var c *smtp.Client
	switch s.cfg.TLS {
	case "tls":
		tc := tls.Client(conn, s.tlsConfig)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return classify(ctx, "tls", err)
		}
		c = smtp.NewClient(tc)
	case "starttls":
		c, err = smtp.NewClientStartTLS(conn, s.tlsConfig)
		if err != nil {
			conn.Close()
			return classify(ctx, "starttls", err)
		}
	default:
		c = smtp.NewClient(conn)
	}
	setTimeouts(ctx, c)
	if err := c.Hello(s.cfg.HeloName); err != nil {
		c.Close()
		op := "hello"
		if s.cfg.TLS == "starttls" && !isReply(err) {
			op = "starttls" // the TLS handshake runs with this EHLO
		}
		return classify(ctx, op, err)
	}
	if err := s.authenticate(c); err != nil {
		c.Close()
		e := classify(ctx, "auth", err)
		var xe *xoauth2.ServerError
		if errors.As(err, &xe) {
			e.Msg += " (" + xe.Error() + ")"
		}
		return e
	}
	s.utf8, _ = c.Extension("SMTPUTF8")
	s.client, s.conn = c, conn
	return nil
}

// setTimeouts makes go-smtp's own per-command deadlines end with ctx.
func setTimeouts(ctx context.Context, c *smtp.Client) {
	d, _ := ctx.Deadline()
	c.CommandTimeout = time.Until(d)
	c.SubmissionTimeout = time.Until(d)
}

func (s *Sender) authenticate(c *smtp.Client) error {
	var (
		client sasl.Client
		mech   string
		xc     *xoauth2.Client
	)
	switch s.auth {
	case "":
		return nil
	case "plain":
		client, mech = sasl.NewPlainClient("", s.cfg.Username, s.cfg.Password), sasl.Plain
	case "login":
		client, mech = sasl.NewLoginClient(s.cfg.Username, s.cfg.Password), sasl.Login
	case "xoauth2":
		xc = xoauth2.NewClient(s.cfg.Username, s.cfg.Token)
		client, mech = xc, xoauth2.Mechanism
	}
	if !c.SupportsAuth(mech) {
		_, offered := c.Extension("AUTH")
		return fmt.Errorf("server does not offer AUTH %s (offers %q)", mech, offered)
	}
	err := c.Auth(client)
	if xc != nil {
		err = xc.WithServerError(err)
	}
	return err
}

// reset ends the transaction; if that fails the connection is dropped.
func (s *Sender) reset() {
	if s.client == nil {
		return
	}
	if err := s.client.Reset(); err != nil {
		s.drop()
	}
}

// drop closes the connection without QUIT.
func (s *Sender) drop() {
	if s.client != nil {
		s.client.Close()
	}
	s.client, s.conn = nil, nil
}

// quit says QUIT and closes the connection.
func (s *Sender) quit() {
	if s.client == nil {
		return
	}
	s.client.CommandTimeout = quitTimeout
	if err := s.client.Quit(); err != nil {
		s.client.Close()
	}
	s.client, s.conn = nil, nil
}

// Close says QUIT on the open connection, if any, and closes it. It waits for
// a Send in progress. Send fails after Close.
func (s *Sender) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.quit()
	return nil
}

// watchdog closes the current connection once fired.
type watchdog struct {
	mu    sync.Mutex
	conn  net.Conn
	fired bool
}

func (w *watchdog) set(c net.Conn) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.conn = c
	if w.fired && c != nil {
		c.Close()
	}
}

func (w *watchdog) fire() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.fired = true
	if w.conn != nil {
		w.conn.Close()
	}
}

func checkEnvelope(from string, to []string, data []byte) error {
	if len(to) == 0 {
		return &Error{Op: "send", Msg: "no recipients"}
	}
	if len(data) == 0 {
		return &Error{Op: "send", Msg: "empty message"}
	}
	if err := checkPath(from); err != nil {
		return &Error{Op: "send", Msg: fmt.Sprintf("envelope sender: %v", err)}
	}
	for _, rcpt := range to {
		if rcpt == "" {
			return &Error{Op: "send", Msg: "empty envelope recipient"}
		}
		if err := checkPath(rcpt); err != nil {
			return &Error{Op: "send", Msg: fmt.Sprintf("envelope recipient: %v", err)}
		}
	}
	return nil
}

// checkPath refuses what would break out of "MAIL FROM:<...>" or
// "RCPT TO:<...>".
func checkPath(addr string) error {
	for _, r := range addr {
		if r < 0x20 || r == 0x7f || r == ' ' || r == '<' || r == '>' {
			return fmt.Errorf("%q contains a space, control character or angle bracket", addr)
		}
	}
	return nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func allASCII(l []string) bool {
	for _, s := range l {
		if !isASCII(s) {
			return false
		}
	}
	return true
}
