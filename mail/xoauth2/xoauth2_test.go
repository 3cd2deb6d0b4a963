package xoauth2

import (
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

var _ sasl.Client = (*Client)(nil)

func TestStart_SendsUserAndBearerTokenInOneInitialResponse(t *testing.T) {
	mech, ir, err := NewClient("agent@example.com", StaticToken("ya29.abc")).Start()
	if err != nil {
		t.Fatal(err)
	}
	if mech != "XOAUTH2" {
		t.Errorf("mech = %q, want XOAUTH2", mech)
	}
	want := "user=agent@example.com\x01auth=Bearer ya29.abc\x01\x01"
	if string(ir) != want {
		t.Errorf("initial response = %q, want %q", ir, want)
	}
}

type failingSource struct{}

func (failingSource) Token() (string, error) { return "", errors.New("refresher is down") }

func TestStart_Refuses(t *testing.T) {
	tests := []struct {
		name    string
		user    string
		token   TokenSource
		wantErr string
	}{
		{"empty username", "", StaticToken("t"), "username is empty"},
		{"username with CR LF", "a@b\r\nQUIT", StaticToken("t"), "control characters"},
		{"token with SOH that would end the field", "a@b", StaticToken("t\x01user=x"), "control characters"},
		{"empty static token", "a@b", StaticToken("  "), "static token is empty"},
		{"nil token source", "a@b", nil, "no token source"},
		{"token source error is propagated", "a@b", failingSource{}, "refresher is down"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := NewClient(tt.user, tt.token).Start()
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestNext_AnswersErrorChallengeWithEmptyResponseAndKeepsTheReason(t *testing.T) {
	c := NewClient("a@b", StaticToken("t"))
	if _, _, err := c.Start(); err != nil {
		t.Fatal(err)
	}
	resp, err := c.Next([]byte(`{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}`))
	if err != nil {
		t.Fatalf("first challenge: %v", err)
	}
	if resp == nil || len(resp) != 0 {
		t.Fatalf("response = %#v, want empty non-nil", resp)
	}
	se := c.ServerError()
	if se == nil || se.Status != "401" || se.Schemes != "bearer" || se.Scope != "https://mail.google.com/" {
		t.Fatalf("ServerError = %+v", se)
	}
	if _, err := c.Next([]byte("again")); !errors.Is(err, error(se)) {
		t.Fatalf("second challenge: err = %v, want the kept server error", err)
	}
}

func TestNext_NonJSONChallengeIsKeptRaw(t *testing.T) {
	c := NewClient("a@b", StaticToken("t"))
	if _, err := c.Next([]byte("go away")); err != nil {
		t.Fatal(err)
	}
	if got := c.ServerError().Error(); !strings.Contains(got, `"go away"`) {
		t.Fatalf("error = %q, want the raw challenge", got)
	}
}

func TestStart_ForgetsThePreviousServerError(t *testing.T) {
	c := NewClient("a@b", StaticToken("t"))
	c.Next([]byte(`{"status":"400"}`))
	if _, _, err := c.Start(); err != nil {
		t.Fatal(err)
	}
	if c.ServerError() != nil {
		t.Fatal("server error from an earlier attempt survived Start")
	}
}

func TestFileToken_ReadsTheFileFreshOnEveryCall(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(path, []byte("first\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src := FileToken(path)
	if tok, err := src.Token(); err != nil || tok != "first" {
		t.Fatalf("Token() = %q, %v; want first", tok, err)
	}
	if err := os.WriteFile(path, []byte("  second\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if tok, err := src.Token(); err != nil || tok != "second" {
		t.Fatalf("Token() after refresh = %q, %v; want second", tok, err)
	}
}

func TestFileToken_ErrorsNameThePath(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty-token")
	if err := os.WriteFile(empty, []byte(" \n\t"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing-token")
	for _, path := range []string{empty, missing} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			_, err := FileToken(path).Token()
			if err == nil || !strings.Contains(err.Error(), path) {
				t.Fatalf("err = %v, want naming %s", err, path)
			}
		})
	}
}

// xoauth2Server is a minimal server side of the mechanism, for tests only.
type xoauth2Server struct {
	user, token string
	rejected    bool
}

func (s *xoauth2Server) Next(resp []byte) ([]byte, bool, error) {
	if s.rejected {
		if len(resp) != 0 {
			return nil, false, &smtp.SMTPError{Code: 501, Message: "expected an empty response after the error challenge"}
		}
		return nil, false, smtp.ErrAuthFailed
	}
	if resp == nil {
		return []byte{}, false, nil
	}
	want := "user=" + s.user + "\x01auth=Bearer " + s.token + "\x01\x01"
	if string(resp) == want {
		return nil, true, nil
	}
	s.rejected = true
	return []byte(`{"status":"401","schemes":"bearer","scope":"https://outlook.office.com/SMTP.Send"}`), false, nil
}

type backend struct{ user, token string }

func (b backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{b: b}, nil }

type session struct{ b backend }

func (s *session) AuthMechanisms() []string { return []string{Mechanism} }
func (s *session) Auth(mech string) (sasl.Server, error) {
	return &xoauth2Server{user: s.b.user, token: s.b.token}, nil
}
func (s *session) Reset()                               {}
func (s *session) Logout() error                        { return nil }
func (s *session) Mail(string, *smtp.MailOptions) error { return nil }
func (s *session) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *session) Data(r io.Reader) error               { _, err := io.Copy(io.Discard, r); return err }

func startServer(t *testing.T, user, token string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := smtp.NewServer(backend{user, token})
	srv.AllowInsecureAuth = true
	srv.ErrorLog = nopLogger{}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return l.Addr().String()
}

type nopLogger struct{}

func (nopLogger) Printf(string, ...interface{}) {}
func (nopLogger) Println(...interface{})        {}

func TestAgainstSMTPServer(t *testing.T) {
	addr := startServer(t, "agent@example.com", "good-token")

	t.Run("valid token authenticates", func(t *testing.T) {
		c, err := smtp.Dial(addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Auth(NewClient("agent@example.com", StaticToken("good-token"))); err != nil {
			t.Fatalf("Auth: %v", err)
		}
	})

	t.Run("rejected token ends with 535 and the JSON reason", func(t *testing.T) {
		c, err := smtp.Dial(addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		xc := NewClient("agent@example.com", StaticToken("expired-token"))
		err = xc.WithServerError(c.Auth(xc))
		var smtpErr *smtp.SMTPError
		if !errors.As(err, &smtpErr) || smtpErr.Code != 535 {
			t.Fatalf("err = %v, want SMTP 535 (the server's answer to an empty response)", err)
		}
		var se *ServerError
		if !errors.As(err, &se) || se.Status != "401" {
			t.Fatalf("err = %v, want the decoded server error", err)
		}
		if !strings.Contains(err.Error(), "SMTP.Send") {
			t.Errorf("error text %q does not name the scope the server wanted", err)
		}
		// The connection stays usable after a failed AUTH.
		if err := c.Noop(); err != nil {
			t.Fatalf("NOOP after failed AUTH: %v", err)
		}
	})
}

func TestWithServerError_LeavesOtherErrorsAlone(t *testing.T) {
	c := NewClient("a@b", StaticToken("t"))
	base := errors.New("dial failed")
	if got := c.WithServerError(base); got != base {
		t.Fatalf("got %v, want the error unchanged", got)
	}
	if c.WithServerError(nil) != nil {
		t.Fatal("nil error became non-nil")
	}
}
