package sender

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/helpdesk/helpdesk/mail/xoauth2"
)

const from = "support@example.com"

func message(n int) []byte {
	return []byte(fmt.Sprintf("From: support@example.com\r\nTo: customer@example.org\r\nSubject: n%d\r\nMessage-Id: <m%d@example.com>\r\n\r\nbody %d\r\n", n, n, n))
}

func newSender(t testing.TB, cfg Config) *Sender {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func asError(t *testing.T, err error) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %#v (%v), want *Error", err, err)
	}
	return e
}

func TestSend_DeliversTheBytesUnchangedOverEachTransport(t *testing.T) {
	eml, err := os.ReadFile("testdata/notification.eml")
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{"none", "starttls", "tls"} {
		t.Run(mode, func(t *testing.T) {
			be := &backend{}
			srv := startServer(t, be, mode)
			cfg := srv.config(mode)
			cfg.HeloName = "helpdesk.example.com"
			s := newSender(t, cfg)

			if err := s.Send(context.Background(), from, []string{"younghee@example.co.kr"}, eml); err != nil {
				t.Fatal(err)
			}
			msgs := be.messages()
			if len(msgs) != 1 {
				t.Fatalf("server got %d messages", len(msgs))
			}
			if !bytes.Equal(msgs[0].data, eml) {
				t.Errorf("data changed in transit:\n%q\nwant\n%q", msgs[0].data, eml)
			}
			if msgs[0].from != from || !slices.Equal(msgs[0].to, []string{"younghee@example.co.kr"}) {
				t.Errorf("envelope = %q -> %q", msgs[0].from, msgs[0].to)
			}
			be.mu.Lock()
			lastTLS, lastHelo := be.tls[len(be.tls)-1], be.helos[len(be.helos)-1]
			be.mu.Unlock()
			if lastTLS != (mode != "none") {
				t.Errorf("session TLS = %v in mode %s", lastTLS, mode)
			}
			if lastHelo != "helpdesk.example.com" {
				t.Errorf("EHLO name = %q", lastHelo)
			}
		})
	}
}

func TestSend_Authenticates(t *testing.T) {
	tests := []struct {
		name     string
		offered  []string
		cfg      Config
		wantMech string // on success
		wantErr  string // on failure
	}{
		{"PLAIN", []string{"PLAIN", "LOGIN"}, Config{Auth: "plain", Username: "u", Password: "p"}, "PLAIN", ""},
		{"PLAIN is the default with a username", []string{"PLAIN"}, Config{Username: "u", Password: "p"}, "PLAIN", ""},
		{"LOGIN", []string{"PLAIN", "LOGIN"}, Config{Auth: "login", Username: "u", Password: "p"}, "LOGIN", ""},
		{"XOAUTH2", []string{"XOAUTH2"}, Config{Auth: "xoauth2", Username: "u", Token: xoauth2.StaticToken("tok")}, "XOAUTH2", ""},
		{"PLAIN wrong password", []string{"PLAIN"}, Config{Auth: "plain", Username: "u", Password: "bad"}, "", "535"},
		{"LOGIN wrong password", []string{"LOGIN"}, Config{Auth: "login", Username: "u", Password: "bad"}, "", "535"},
		{"XOAUTH2 rejected token names the server's reason", []string{"XOAUTH2"},
			Config{Auth: "xoauth2", Username: "u", Token: xoauth2.StaticToken("expired")}, "", "status 401"},
		{"mechanism not offered", []string{"PLAIN"}, Config{Auth: "login", Username: "u", Password: "p"}, "", "does not offer AUTH LOGIN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			be := &backend{user: "u", pass: "p", token: "tok", mechs: tt.offered}
			srv := startServer(t, be, "none")
			cfg := tt.cfg
			cfg.Addr, cfg.TLS = srv.addr, "none"
			s := newSender(t, cfg)

			err := s.Send(context.Background(), from, []string{"a@example.org"}, message(1))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				be.mu.Lock()
				defer be.mu.Unlock()
				if !slices.Equal(be.authMech, []string{tt.wantMech}) {
					t.Errorf("server saw AUTH %v, want %s", be.authMech, tt.wantMech)
				}
				return
			}
			e := asError(t, err)
			if e.Op != "auth" || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v (op %s), want an auth error containing %q", err, e.Op, tt.wantErr)
			}
			if IsPermanent(err) {
				t.Error("an authentication failure is permanent; it must not fail the message")
			}
			if len(be.messages()) != 0 {
				t.Error("message delivered despite failed authentication")
			}
		})
	}
}

func TestSend_XOAUTH2ErrorKeepsTheDecodedServerError(t *testing.T) {
	be := &backend{user: "u", token: "tok", mechs: []string{"XOAUTH2"}}
	srv := startServer(t, be, "none")
	cfg := srv.config("none")
	cfg.Auth, cfg.Username, cfg.Token = "xoauth2", "u", xoauth2.StaticToken("old")
	err := newSender(t, cfg).Send(context.Background(), from, []string{"a@example.org"}, message(1))
	var se *xoauth2.ServerError
	if !errors.As(err, &se) || se.Scope != "https://outlook.office.com/SMTP.Send" {
		t.Fatalf("err = %v, want the decoded XOAUTH2 error", err)
	}
	if e := asError(t, err); e.Code != 535 || e.Enhanced != "5.7.8" {
		t.Errorf("code = %d %s, want 535 5.7.8", e.Code, e.Enhanced)
	}
}

func TestSend_ReusesOneConnectionForManyMessages(t *testing.T) {
	be := &backend{user: "u", pass: "p", mechs: []string{"PLAIN"}}
	srv := startServer(t, be, "starttls")
	cfg := srv.config("starttls")
	cfg.Username, cfg.Password = "u", "p"
	s := newSender(t, cfg)
	for i := range 10 {
		if err := s.Send(context.Background(), from, []string{"a@example.org"}, message(i)); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	if n := len(be.messages()); n != 10 {
		t.Errorf("server got %d messages, want 10", n)
	}
	if n := srv.connections(); n != 1 {
		t.Errorf("%d connections for 10 messages, want 1", n)
	}
	be.mu.Lock()
	defer be.mu.Unlock()
	if n := len(be.authMech); n != 1 {
		t.Errorf("authenticated %d times, want once", n)
	}
}

func TestSend_RejectedRecipientThenSuccessOnTheSameConnection(t *testing.T) {
	be := &backend{rcptErr: map[string]*smtp.SMTPError{
		"nobody@example.org": {Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"},
	}}
	srv := startServer(t, be, "none")
	s := newSender(t, srv.config("none"))

	err := s.Send(context.Background(), from, []string{"nobody@example.org"}, message(1))
	var re *RecipientError
	if !errors.As(err, &re) || len(re.Rejected) != 1 || len(re.Accepted) != 0 {
		t.Fatalf("err = %v, want a RecipientError with one rejection and nothing accepted", err)
	}
	if r := re.Rejected[0]; r.Recipient != "nobody@example.org" || r.Err.Code != 550 || r.Err.Enhanced != "5.1.1" {
		t.Errorf("rejection = %+v %+v", r, r.Err)
	}
	if !IsPermanent(err) {
		t.Error("550 to the only recipient is not permanent")
	}

	// Without RSET the server would refuse the next MAIL as nested.
	if err := s.Send(context.Background(), from, []string{"a@example.org"}, message(2)); err != nil {
		t.Fatalf("send after rejection: %v", err)
	}
	msgs := be.messages()
	if len(msgs) != 1 || !slices.Equal(msgs[0].to, []string{"a@example.org"}) {
		t.Fatalf("server got %+v", msgs)
	}
	if n := srv.connections(); n != 1 {
		t.Errorf("%d connections, want the first one reused", n)
	}
}

func TestSend_SomeRecipientsRejectedStillDeliversToTheOthers(t *testing.T) {
	be := &backend{rcptErr: map[string]*smtp.SMTPError{
		"gone@example.org": {Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"},
		"full@example.org": {Code: 452, EnhancedCode: smtp.EnhancedCode{4, 2, 2}, Message: "mailbox full"},
	}}
	srv := startServer(t, be, "none")
	s := newSender(t, srv.config("none"))
	to := []string{"a@example.org", "gone@example.org", "b@example.org", "full@example.org"}

	err := s.Send(context.Background(), from, to, message(1))
	var re *RecipientError
	if !errors.As(err, &re) {
		t.Fatalf("err = %v, want *RecipientError", err)
	}
	if !slices.Equal(re.Accepted, []string{"a@example.org", "b@example.org"}) {
		t.Errorf("Accepted = %v", re.Accepted)
	}
	var got []string
	for _, r := range re.Rejected {
		got = append(got, fmt.Sprintf("%s %d %v", r.Recipient, r.Err.Code, r.Err.Temporary))
	}
	if want := []string{"gone@example.org 550 false", "full@example.org 452 true"}; !slices.Equal(got, want) {
		t.Errorf("Rejected = %v, want %v", got, want)
	}
	if IsPermanent(err) {
		t.Error("a RecipientError with a temporary rejection is not permanent")
	}
	msgs := be.messages()
	if len(msgs) != 1 || !slices.Equal(msgs[0].to, re.Accepted) {
		t.Fatalf("server got %+v, want one message to the accepted recipients", msgs)
	}
	if err := s.Send(context.Background(), from, []string{"a@example.org"}, message(2)); err != nil {
		t.Fatalf("next send: %v", err)
	}
	if n := srv.connections(); n != 1 {
		t.Errorf("%d connections, want 1", n)
	}
}

func TestSend_ClassifiesReplies(t *testing.T) {
	reply := func(code int, enh smtp.EnhancedCode) *smtp.SMTPError {
		return &smtp.SMTPError{Code: code, EnhancedCode: enh, Message: "refused"}
	}
	tests := []struct {
		name          string
		be            *backend
		wantOp        string
		wantCode      int
		wantPermanent bool
	}{
		{"4xx to MAIL is temporary", &backend{mailErr: reply(451, smtp.EnhancedCode{4, 3, 0})}, "mail", 451, false},
		{"5xx to MAIL is permanent", &backend{mailErr: reply(553, smtp.EnhancedCode{5, 1, 8})}, "mail", 553, true},
		{"530 authentication required is temporary", &backend{user: "u", pass: "p"}, "mail", 530, false},
		{"4xx to RCPT is temporary", &backend{rcptErr: map[string]*smtp.SMTPError{"a@example.org": reply(450, smtp.EnhancedCode{4, 2, 1})}}, "rcpt", 450, false},
		{"5xx to RCPT is permanent", &backend{rcptErr: map[string]*smtp.SMTPError{"a@example.org": reply(550, smtp.EnhancedCode{5, 1, 1})}}, "rcpt", 550, true},
		{"552 to RCPT means too many recipients and is temporary", &backend{rcptErr: map[string]*smtp.SMTPError{"a@example.org": reply(552, smtp.EnhancedCode{5, 5, 3})}}, "rcpt", 552, false},
		{"4xx after DATA is temporary", &backend{dataErr: reply(451, smtp.EnhancedCode{4, 7, 1})}, "data", 451, false},
		{"5xx after DATA is permanent", &backend{dataErr: reply(554, smtp.EnhancedCode{5, 7, 1})}, "data", 554, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			be := tt.be
			srv := startServer(t, be, "none")
			s := newSender(t, srv.config("none"))
			err := s.Send(context.Background(), from, []string{"a@example.org"}, message(1))
			if err == nil {
				t.Fatal("no error")
			}
			if got := IsPermanent(err); got != tt.wantPermanent {
				t.Errorf("IsPermanent = %v, want %v (err: %v)", got, tt.wantPermanent, err)
			}
			var e *Error
			if !errors.As(err, &e) || e.Op != tt.wantOp || e.Code != tt.wantCode || e.Temporary == tt.wantPermanent {
				t.Errorf("err = %+v, want op %s code %d", e, tt.wantOp, tt.wantCode)
			}
			// A refusal leaves the connection usable.
			be.update(func(b *backend) { b.mailErr, b.dataErr, b.rcptErr, b.user = nil, nil, nil, "" })
			if err := s.Send(context.Background(), from, []string{"a@example.org"}, message(2)); err != nil {
				t.Fatalf("send after refusal: %v", err)
			}
			if n := srv.connections(); n != 1 {
				t.Errorf("%d connections, want the first one kept", n)
			}
		})
	}
}

func TestSend_RedialsWhenTheServerClosedTheConnection(t *testing.T) {
	for _, mode := range []string{"none", "tls"} {
		t.Run(mode, func(t *testing.T) {
			be := &backend{}
			srv := startServer(t, be, mode)
			s := newSender(t, srv.config(mode))
			if err := s.Send(context.Background(), from, []string{"a@example.org"}, message(1)); err != nil {
				t.Fatal(err)
			}
			be.closeConnections()
			if err := s.Send(context.Background(), from, []string{"a@example.org"}, message(2)); err != nil {
				t.Fatalf("send after the server closed the connection: %v", err)
			}
			if n := len(be.messages()); n != 2 {
				t.Errorf("server got %d messages, want 2", n)
			}
			if n := srv.connections(); n != 2 {
				t.Errorf("%d connections, want 2", n)
			}
		})
	}
}

func TestSend_ReplacesAConnectionIdleLongerThanIdleTimeout(t *testing.T) {
	be := &backend{}
	srv := startServer(t, be, "none")
	cfg := srv.config("none")
	cfg.IdleTimeout = time.Minute
	s := newSender(t, cfg)
	clock := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return clock }

	send := func() {
		t.Helper()
		if err := s.Send(context.Background(), from, []string{"a@example.org"}, message(1)); err != nil {
			t.Fatal(err)
		}
	}
	send()
	clock = clock.Add(59 * time.Second)
	send()
	if n := srv.connections(); n != 1 {
		t.Fatalf("%d connections after a short pause, want 1", n)
	}
	clock = clock.Add(61 * time.Second)
	send()
	if n := srv.connections(); n != 2 {
		t.Fatalf("%d connections after an idle minute, want 2", n)
	}
}

func TestSend_StalledServerTimesOut(t *testing.T) {
	tests := []struct {
		name    string
		timeout time.Duration
		ctx     func(inData <-chan struct{}) (context.Context, context.CancelFunc)
		wantErr error
	}{
		{"Config.Timeout", 300 * time.Millisecond, func(<-chan struct{}) (context.Context, context.CancelFunc) {
			return context.Background(), func() {}
		}, context.DeadlineExceeded},
		{"context deadline", time.Hour, func(<-chan struct{}) (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 300*time.Millisecond)
		}, context.DeadlineExceeded},
		{"context canceled while the server holds DATA", time.Hour, func(inData <-chan struct{}) (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			go func() {
				<-inData
				cancel()
			}()
			return ctx, cancel
		}, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stall, inData := make(chan struct{}), make(chan struct{}, 1)
			be := &backend{stall: stall, inData: inData}
			srv := startServer(t, be, "none")
			t.Cleanup(func() {
				select {
				case <-stall:
				default:
					close(stall)
				}
			})
			cfg := srv.config("none")
			cfg.Timeout = tt.timeout
			s := newSender(t, cfg)

			ctx, cancel := tt.ctx(inData)
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- s.Send(ctx, from, []string{"a@example.org"}, message(1)) }()
			var err error
			select {
			case err = <-done:
			case <-time.After(30 * time.Second): // far beyond the 300ms the send may take
				t.Fatal("Send ignored its deadline or cancellation")
			}
			e := asError(t, err)
			if e.Op != "data" || !e.Temporary || !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v (op %s, temporary %v), want a temporary DATA error matching %v", err, e.Op, e.Temporary, tt.wantErr)
			}

			close(stall)
			if err := s.Send(context.Background(), from, []string{"a@example.org"}, message(2)); err != nil {
				t.Fatalf("send after timeout: %v", err)
			}
			if n := srv.connections(); n != 2 {
				t.Errorf("%d connections, want the timed-out one replaced", n)
			}
		})
	}
}

func TestSend_CanceledContextDoesNotDial(t *testing.T) {
	be := &backend{}
	srv := startServer(t, be, "none")
	s := newSender(t, srv.config("none"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := s.Send(ctx, from, []string{"a@example.org"}, message(1))
	if !errors.Is(err, context.Canceled) || IsPermanent(err) {
		t.Fatalf("err = %v, want a temporary cancellation", err)
	}
	if n := srv.connections(); n != 0 {
		t.Errorf("%d connections", n)
	}
}

func TestSend_ConnectionFailuresAreTemporary(t *testing.T) {
	implicit := startServer(t, &backend{}, "tls")
	starttls := startServer(t, &backend{}, "starttls")
	plain := startServer(t, &backend{}, "none")
	closedAddr := func() string {
		srv := startServer(t, &backend{}, "none")
		srv.lis.Close()
		return srv.addr
	}()

	tests := []struct {
		name   string
		cfg    Config
		wantOp string
		check  func(error) bool
	}{
		{"connection refused", Config{Addr: closedAddr, TLS: "none"}, "dial",
			func(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }},
		{"untrusted certificate, implicit TLS", Config{Addr: implicit.addr, TLS: "tls"}, "tls",
			func(err error) bool { var v *tls.CertificateVerificationError; return errors.As(err, &v) }},
		{"untrusted certificate, STARTTLS", Config{Addr: starttls.addr, TLS: "starttls"}, "starttls",
			func(err error) bool { var v *tls.CertificateVerificationError; return errors.As(err, &v) }},
		{"STARTTLS not offered", Config{Addr: plain.addr, TLS: "starttls"}, "starttls",
			func(err error) bool { return strings.Contains(err.Error(), "STARTTLS") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSender(t, tt.cfg)
			err := s.Send(context.Background(), from, []string{"a@example.org"}, message(1))
			e := asError(t, err)
			if e.Op != tt.wantOp || !e.Temporary || IsPermanent(err) || !tt.check(err) {
				t.Fatalf("err = %v (op %s, temporary %v), want a temporary %s error", err, e.Op, e.Temporary, tt.wantOp)
			}
		})
	}
}

func TestSend_RefusesABadEnvelopeWithoutConnecting(t *testing.T) {
	tests := []struct {
		name string
		from string
		to   []string
		data []byte
	}{
		{"no recipients", from, nil, message(1)},
		{"empty message", from, []string{"a@example.org"}, nil},
		{"CRLF in recipient", from, []string{"a@example.org>\r\nRCPT TO:<b@example.org"}, message(1)},
		{"angle bracket in sender", "a>@example.com", []string{"a@example.org"}, message(1)},
		{"empty recipient", from, []string{""}, message(1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t, &backend{}, "none")
			s := newSender(t, srv.config("none"))
			err := s.Send(context.Background(), tt.from, tt.to, tt.data)
			if e := asError(t, err); e.Op != "send" || !IsPermanent(err) {
				t.Fatalf("err = %v, want a permanent envelope error", err)
			}
			if n := srv.connections(); n != 0 {
				t.Errorf("%d connections", n)
			}
		})
	}
}

func TestSend_NullSenderIsAllowed(t *testing.T) {
	be := &backend{}
	srv := startServer(t, be, "none")
	if err := newSender(t, srv.config("none")).Send(context.Background(), "", []string{"a@example.org"}, message(1)); err != nil {
		t.Fatal(err)
	}
	if msgs := be.messages(); len(msgs) != 1 || msgs[0].from != "" {
		t.Fatalf("server got %+v", msgs)
	}
}

func TestSend_NonASCIIRecipientNeedsSMTPUTF8(t *testing.T) {
	srv := startServer(t, &backend{}, "none")
	err := newSender(t, srv.config("none")).Send(context.Background(), from, []string{"고객@example.kr"}, message(1))
	if e := asError(t, err); e.Op != "mail" || !strings.Contains(e.Msg, "SMTPUTF8") || !IsPermanent(err) {
		t.Fatalf("err = %v, want a permanent SMTPUTF8 error", err)
	}
}

func TestClose_SendAfterCloseFailsTemporarily(t *testing.T) {
	srv := startServer(t, &backend{}, "none")
	s := newSender(t, srv.config("none"))
	if err := s.Send(context.Background(), from, []string{"a@example.org"}, message(1)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	err := s.Send(context.Background(), from, []string{"a@example.org"}, message(2))
	if err == nil || IsPermanent(err) || !strings.Contains(err.Error(), "closed") {
		t.Fatalf("err = %v, want a temporary closed-sender error", err)
	}
}

func TestNew_Validates(t *testing.T) {
	tok := xoauth2.StaticToken("t")
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"missing port", Config{Addr: "smtp.example.com"}, "host:port"},
		{"missing host", Config{Addr: ":587"}, "host:port"},
		{"unknown TLS mode", Config{Addr: "smtp.example.com:587", TLS: "ssl"}, "TLS mode"},
		{"unknown auth", Config{Addr: "smtp.example.com:587", Auth: "cram-md5", Username: "u", Password: "p"}, "auth"},
		{"plain without password", Config{Addr: "smtp.example.com:587", Auth: "plain", Username: "u"}, "password"},
		{"login without username", Config{Addr: "smtp.example.com:587", Auth: "login", Password: "p"}, "username"},
		{"xoauth2 without token", Config{Addr: "smtp.example.com:587", Auth: "xoauth2", Username: "u"}, "token"},
		{"password in clear text to a remote host", Config{Addr: "smtp.example.com:25", TLS: "none", Username: "u", Password: "p"}, "without TLS"},
		{"token in clear text to a remote host", Config{Addr: "192.0.2.1:25", TLS: "none", Auth: "xoauth2", Username: "u", Token: tok}, "without TLS"},
		{"HELO name with a space", Config{Addr: "smtp.example.com:587", HeloName: "a b"}, "HELO"},
		{"negative timeout", Config{Addr: "smtp.example.com:587", Timeout: -time.Second}, "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
			}
		})
	}

	t.Run("defaults", func(t *testing.T) {
		s, err := New(Config{Addr: "127.0.0.1:25", TLS: "none", Username: "u", Password: "p"})
		if err != nil {
			t.Fatal(err)
		}
		if s.auth != "plain" || s.cfg.Timeout != 60*time.Second || s.cfg.IdleTimeout != 30*time.Second ||
			s.cfg.HeloName != "localhost" || s.tlsConfig.ServerName != "127.0.0.1" {
			t.Fatalf("defaults: auth %q, %+v, ServerName %q", s.auth, s.cfg, s.tlsConfig.ServerName)
		}
		s2, err := New(Config{Addr: "smtp.example.com:587"})
		if err != nil {
			t.Fatal(err)
		}
		if s2.cfg.TLS != "starttls" || s2.auth != "" || s2.tlsConfig.ServerName != "smtp.example.com" {
			t.Fatalf("defaults: TLS %q auth %q ServerName %q", s2.cfg.TLS, s2.auth, s2.tlsConfig.ServerName)
		}
	})
}

func TestIsPermanent(t *testing.T) {
	perm := &Error{Op: "rcpt", Code: 550}
	temp := &Error{Op: "rcpt", Code: 450, Temporary: true}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"unknown error", errors.New("boom"), false},
		{"wrapped permanent Error", fmt.Errorf("outbox 7: %w", perm), true},
		{"temporary Error", temp, false},
		{"go-smtp 5xx reply", &smtp.SMTPError{Code: 554}, true},
		{"go-smtp 4xx reply", &smtp.SMTPError{Code: 421}, false},
		{"all recipients permanently rejected", &RecipientError{Rejected: []Rejection{{"a", perm}, {"b", perm}}}, true},
		{"one recipient temporarily rejected", &RecipientError{Rejected: []Rejection{{"a", perm}, {"b", temp}}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsPermanent(tt.err); got != tt.want {
				t.Fatalf("IsPermanent(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

// BenchmarkSend measures messages per second over one reused connection.
func BenchmarkSend(b *testing.B) {
	for _, mode := range []string{"none", "tls"} {
		b.Run(mode, func(b *testing.B) {
			be := &backend{discard: true}
			srv := startServer(b, be, mode)
			s := newSender(b, srv.config(mode))
			line := []byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd\r\n")
			msg := append([]byte("From: support@example.com\r\nSubject: bench\r\n\r\n"), bytes.Repeat(line, 64)...) // 4 KiB
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if err := s.Send(ctx, from, []string{"a@example.org"}, msg); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
			if n := srv.connections(); n != 1 {
				b.Fatalf("%d connections", n)
			}
		})
	}
}
