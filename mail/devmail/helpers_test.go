package devmail

import (
	"bytes"
	"errors"
	"net"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

const (
	supportAddr = "support@example.com"
	supportPass = "correct horse"
	agentAddr   = "agent@example.com"
	agentPass   = "battery staple"
)

// generous bounds every wait, so a bug fails the test instead of hanging it.
const generous = 60 * time.Second

// startServer starts a server with the support and agent users and closes
// it when the test ends.
func startServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	s, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	for _, u := range [][2]string{{supportAddr, supportPass}, {agentAddr, agentPass}} {
		if err := s.AddUser(u[0], u[1]); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// tx is one SMTP transaction.
type tx struct {
	auth  []string // username, password; nil: no AUTH
	from  string
	rcpts []string
	msg   []byte
}

// result is what the SMTP server answered to a transaction.
type result struct {
	authErr  error
	rcptErrs []error
	dataErr  error
}

// send runs tx over a fresh SMTP connection.
func send(t *testing.T, s *Server, m tx) result {
	t.Helper()
	conn, err := net.DialTimeout("tcp", s.SMTPAddr(), generous)
	if err != nil {
		t.Fatal(err)
	}
	conn.SetDeadline(time.Now().Add(generous))
	c := smtp.NewClient(conn)
	defer c.Close()
	if err := c.Hello("client.example"); err != nil {
		t.Fatal(err)
	}
	var r result
	if m.auth != nil {
		if r.authErr = c.Auth(sasl.NewPlainClient("", m.auth[0], m.auth[1])); r.authErr != nil {
			return r
		}
	}
	if err := c.Mail(m.from, nil); err != nil {
		t.Fatalf("MAIL FROM:<%s>: %v", m.from, err)
	}
	accepted := 0
	for _, rcpt := range m.rcpts {
		err := c.Rcpt(rcpt, nil)
		r.rcptErrs = append(r.rcptErrs, err)
		if err == nil {
			accepted++
		}
	}
	if accepted == 0 {
		return r
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(m.msg); err != nil {
		t.Fatal(err)
	}
	r.dataErr = w.Close()
	c.Quit()
	return r
}

func mustSend(t *testing.T, s *Server, m tx) {
	t.Helper()
	r := send(t, s, m)
	if r.authErr != nil || r.dataErr != nil || slices.ContainsFunc(r.rcptErrs, func(e error) bool { return e != nil }) {
		t.Fatalf("send: auth %v, rcpt %v, data %v", r.authErr, r.rcptErrs, r.dataErr)
	}
}

func smtpCode(err error) int {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return se.Code
	}
	return 0
}

// dialIMAP connects without logging in.
func dialIMAP(t *testing.T, s *Server, opts *imapclient.Options) *imapclient.Client {
	t.Helper()
	conn, err := net.DialTimeout("tcp", s.IMAPAddr(), generous)
	if err != nil {
		t.Fatal(err)
	}
	conn.SetDeadline(time.Now().Add(generous))
	c := imapclient.New(conn, opts)
	t.Cleanup(func() { c.Close() })
	return c
}

func loginIMAP(t *testing.T, s *Server, user, pass string) *imapclient.Client {
	t.Helper()
	c := dialIMAP(t, s, nil)
	if err := c.Login(user, pass).Wait(); err != nil {
		t.Fatalf("login %s: %v", user, err)
	}
	return c
}

type fetched struct {
	raw   []byte
	flags []imap.Flag
	date  time.Time
}

// fetchAll reads a folder through a client, without setting \Seen.
func fetchAll(t *testing.T, c *imapclient.Client, mailbox string) []fetched {
	t.Helper()
	sel, err := c.Select(mailbox, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		t.Fatalf("select %s: %v", mailbox, err)
	}
	if sel.NumMessages == 0 {
		return nil
	}
	body := &imap.FetchItemBodySection{Peek: true}
	bufs, err := c.Fetch(imap.SeqSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{
		Flags: true, InternalDate: true, BodySection: []*imap.FetchItemBodySection{body},
	}).Collect()
	if err != nil {
		t.Fatalf("fetch %s: %v", mailbox, err)
	}
	var out []fetched
	for _, b := range bufs {
		flags := slices.Clone(b.Flags)
		slices.Sort(flags)
		out = append(out, fetched{raw: b.FindBodySection(body), flags: flags, date: b.InternalDate})
	}
	return out
}

// onlyMessage returns the single message expected in a user's INBOX.
func onlyMessage(t *testing.T, s *Server, address string) []byte {
	t.Helper()
	msgs, err := s.Mailbox(address, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 {
		t.Fatalf("%s INBOX has %d messages, want 1", address, len(msgs))
	}
	return msgs[0]
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func crlf(b []byte) []byte {
	return bytes.ReplaceAll(bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n"))
}

func simpleMessage(subject string) []byte {
	return []byte("From: Customer <customer@customer.example>\r\n" +
		"To: support@example.com\r\n" +
		"Subject: " + subject + "\r\n" +
		"Message-ID: <" + subject + "@customer.example>\r\n" +
		"Date: Tue, 12 Nov 2024 09:13:58 +0900\r\n" +
		"\r\n" +
		"Hello.\r\n")
}
