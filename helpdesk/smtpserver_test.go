package helpdesk_test

import (
	"errors"
	"io"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// relay is an in-process SMTP server that records what it receives.
type relay struct {
	addr string

	mu       sync.Mutex
	byID     map[string]int // Message-ID → deliveries
	total    int
	conns    int
	failWith *smtp.SMTPError // returned at DATA while set
	failLeft int             // how many more DATA commands fail (-1: all)
	discard  bool
	got      chan string                // Message-IDs, if set
	rcptFail map[string]*smtp.SMTPError // recipients refused at RCPT
}

func newRelay(t testing.TB) *relay {
	t.Helper()
	r := &relay{byID: map[string]int{}}
	s := smtp.NewServer(r)
	s.Domain = "relay.test"
	s.AllowInsecureAuth = true
	s.ReadTimeout = 30 * time.Second
	s.WriteTimeout = 30 * time.Second
	s.MaxMessageBytes = 50 << 20
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.addr = l.Addr().String()
	go s.Serve(l)
	t.Cleanup(func() { s.Close() })
	return r
}

func (r *relay) fail(e *smtp.SMTPError, times int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failWith, r.failLeft = e, times
}

// refuse makes RCPT TO:<addr> fail with e.
func (r *relay) refuse(addr string, e *smtp.SMTPError) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.rcptFail == nil {
		r.rcptFail = map[string]*smtp.SMTPError{}
	}
	r.rcptFail[strings.ToLower(addr)] = e
}

func (r *relay) counts() (map[string]int, int, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := make(map[string]int, len(r.byID))
	for k, v := range r.byID {
		m[k] = v
	}
	return m, r.total, r.conns
}

func (r *relay) NewSession(*smtp.Conn) (smtp.Session, error) {
	r.mu.Lock()
	r.conns++
	r.mu.Unlock()
	return &relaySession{r: r}, nil
}

type relaySession struct{ r *relay }

func (s *relaySession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *relaySession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	if e := s.r.rcptFail[strings.ToLower(to)]; e != nil {
		return e
	}
	return nil
}
func (s *relaySession) Reset()        {}
func (s *relaySession) Logout() error { return nil }

func (s *relaySession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	if s.r.failWith != nil && s.r.failLeft != 0 {
		if s.r.failLeft > 0 {
			s.r.failLeft--
		}
		return s.r.failWith
	}
	s.r.total++
	if s.r.discard {
		return nil
	}
	m, err := mail.ReadMessage(strings.NewReader(string(b)))
	if err != nil {
		return errors.New("unparsable message")
	}
	id := strings.Trim(m.Header.Get("Message-Id"), "<>")
	s.r.byID[id]++
	if s.r.got != nil {
		select {
		case s.r.got <- id:
		default:
		}
	}
	return nil
}
