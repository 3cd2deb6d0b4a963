package main

import (
	"bytes"
	"context"
	"fmt"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/helpdesk/helpdesk/helpdesk"
	"github.com/helpdesk/helpdesk/helpdesk/pgtest"
	"github.com/helpdesk/helpdesk/mail/devmail"
)

// daemon is `helpdeskd serve` running in-process against an in-process mail
// system and a fresh PostgreSQL schema.
type daemon struct {
	t     *testing.T
	mail  *devmail.Server
	env   map[string]string
	store *helpdesk.Store
	stop  func()
}

func startMail(t *testing.T) *devmail.Server {
	t.Helper()
	m, err := devmail.Start(devmail.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	for _, u := range []string{"support@example.com", "minsu@acme.example", "jane@acme.example", "alice@example.com", "agents@example.com"} {
		if err := m.AddUser(u, "pw"); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

func newDaemon(t *testing.T, m *devmail.Server, extra map[string]string) *daemon {
	t.Helper()
	d := &daemon{t: t, mail: m, env: map[string]string{
		"HELPDESK_DATABASE_URL":           pgtest.Schema(t),
		"HELPDESK_SUPPORT_ADDRESS":        "support@example.com",
		"HELPDESK_NAME":                   "Example Support",
		"HELPDESK_TOKEN_SECRET":           strings.Repeat("s", 40),
		"HELPDESK_IMAP_ADDR":              m.IMAPAddr(),
		"HELPDESK_IMAP_TLS":               "none",
		"HELPDESK_IMAP_USERNAME":          "support@example.com",
		"HELPDESK_IMAP_PASSWORD":          "pw",
		"HELPDESK_IMAP_PROCESSED_MAILBOX": "Processed",
		"HELPDESK_IMAP_POLL_INTERVAL":     "1h", // IDLE must do the work
		"HELPDESK_SMTP_ADDR":              m.SMTPAddr(),
		"HELPDESK_SMTP_TLS":               "none",
		"HELPDESK_AGENT_ADDRESS":          "agents@example.com",
		"HELPDESK_AGENT_AUTH":             "off", // the in-process mail system adds no Authentication-Results
		"HELPDESK_LOG_LEVEL":              "warn",
	}}
	for k, v := range extra {
		d.env[k] = v
	}
	c := &cli{t: t, env: d.env}
	c.ok("migrate")
	c.ok("orgs", "add", "Example", "--domain", "example.com")
	c.ok("orgs", "add", "Acme", "--domain", "acme.example", "--plan", "premium")
	c.ok("users", "add", "alice@example.com", "--role", "agent", "--org", "Example", "--name", "Alice")
	c.ok("users", "add", "minsu@acme.example", "--org", "Acme", "--name", "김민수", "--locale", "ko")
	s, err := helpdesk.Open(context.Background(), d.env["HELPDESK_DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	d.store = s
	d.start()
	return d
}

func (d *daemon) start() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	errb := &syncBuffer{}
	go func() {
		done <- run(ctx, []string{"serve"}, &bytes.Buffer{}, errb, func(k string) string { return d.env[k] })
	}()
	d.stop = func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				d.t.Errorf("serve exit %d: %s", code, errb)
			}
		case <-time.After(15 * time.Second):
			d.t.Error("serve did not stop within 15s")
		}
	}
	d.t.Cleanup(func() {
		if stop := d.stop; stop != nil {
			d.stop = nil
			stop()
		}
	})
}

// waitFor polls cond until it holds; the deadline is generous, not a timing assertion.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (d *daemon) count(q string, args ...any) int {
	var n int
	if err := d.store.DB().Get(&n, q, args...); err != nil {
		d.t.Fatalf("%s: %v", q, err)
	}
	return n
}

func (d *daemon) inbox(addr string) []*mail.Message {
	raws, err := d.mail.Mailbox(addr, "INBOX")
	if err != nil {
		d.t.Fatal(err)
	}
	var out []*mail.Message
	for _, r := range raws {
		m, err := mail.ReadMessage(bytes.NewReader(r))
		if err != nil {
			d.t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func customerMail(from, subject, id, inReplyTo, body string) []byte {
	s := fmt.Sprintf("From: %s\r\nTo: support@example.com\r\nSubject: %s\r\nMessage-ID: <%s>\r\nDate: Fri, 20 Nov 2026 15:00:00 +0900\r\n", from, subject, id)
	if inReplyTo != "" {
		s += "In-Reply-To: " + inReplyTo + "\r\nReferences: " + inReplyTo + "\r\n"
	}
	return []byte(s + "Content-Type: text/plain; charset=UTF-8\r\n\r\n" + body + "\r\n")
}

func TestServe_MailInCaseOutAcknowledgementBack(t *testing.T) {
	m := startMail(t)
	d := newDaemon(t, m, nil)

	if err := m.Deliver("support@example.com", customerMail("김민수 <minsu@acme.example>", "VPN 접속 불가", "c1@acme.example", "", "VPN이 안 됩니다.")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the case", func() bool { return d.count(`SELECT count(*) FROM cases`) == 1 })
	waitFor(t, "the acknowledgement in the customer's mailbox", func() bool { return len(d.inbox("minsu@acme.example")) == 1 })
	ack := d.inbox("minsu@acme.example")[0]
	if ack.Header.Get("In-Reply-To") != "<c1@acme.example>" || !strings.Contains(ack.Header.Get("Reply-To"), "support+v1-") ||
		ack.Header.Get("Auto-Submitted") != "auto-replied" {
		t.Fatalf("acknowledgement headers: %v", ack.Header)
	}
	waitFor(t, "the agent notice", func() bool { return len(d.inbox("agents@example.com")) == 1 })

	// The customer answers the acknowledgement: same case.
	if err := m.Deliver("support@example.com", customerMail("minsu@acme.example", "Re: VPN", "c2@acme.example", ack.Header.Get("Message-Id"), "추가 정보입니다.")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the reply as a comment", func() bool { return d.count(`SELECT count(*) FROM comments`) == 2 })
	if n := d.count(`SELECT count(*) FROM cases`); n != 1 {
		t.Fatalf("%d cases after a reply", n)
	}

	// The agent answers the agent notice from her mail client: relayed to the customer, threaded.
	notice := d.inbox("agents@example.com")[0]
	if err := m.Deliver("support@example.com", customerMail("Alice <alice@example.com>", "Re: "+notice.Header.Get("Subject"), "a1@example.com",
		notice.Header.Get("Message-Id"), "Please reinstall the client.")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the relayed comment", func() bool { return len(d.inbox("minsu@acme.example")) == 2 })
	relay := d.inbox("minsu@acme.example")[1]
	if !strings.Contains(relay.Header.Get("References"), ack.Header.Get("Message-Id")) || relay.Header.Get("In-Reply-To") == "" {
		t.Fatalf("relayed comment is not threaded under the acknowledgement: %v", relay.Header)
	}
	if from := relay.Header.Get("From"); !strings.Contains(from, "support@example.com") {
		t.Fatalf("relayed comment From = %s", from)
	}

	// why explains each decision.
	var why map[string]any
	(&cli{t: t, env: d.env}).json(&why, "why", "<c2@acme.example>", "--json")
	for k, want := range map[string]string{"class": "human", "rule": "token", "decision": "comment", "sender_access": "submitter"} {
		if why[k] != want {
			t.Errorf("why %s = %v, want %s", k, why[k], want)
		}
	}
	if tc, _ := why["token_check"].(string); !strings.HasPrefix(tc, "valid") {
		t.Errorf("why token_check = %q", tc)
	}

	// Everything was moved to Processed after commit.
	waitFor(t, "INBOX to be emptied into Processed", func() bool {
		in, _ := m.Mailbox("support@example.com", "INBOX")
		done, _ := m.Mailbox("support@example.com", "Processed")
		return len(in) == 0 && len(done) == 3
	})
}

func TestServe_DuplicatesAndUIDValidityChangeMakeNoSecondCase(t *testing.T) {
	dir := t.TempDir()
	m, err := devmail.Start(devmail.Config{StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	m.AddUser("support@example.com", "pw")
	m.AddUser("jane@acme.example", "pw")
	m.AddUser("agents@example.com", "pw")
	d := newDaemon(t, m, map[string]string{"HELPDESK_IMAP_PROCESSED_MAILBOX": ""})
	raw := customerMail("jane@acme.example", "Help", "dup@acme.example", "", "It broke.")
	m.Deliver("support@example.com", raw)
	m.Deliver("support@example.com", raw) // the same mail delivered twice
	m.Deliver("support@example.com", customerMail("jane@acme.example", "Other", "other@acme.example", "", "Another."))
	waitFor(t, "three messages consumed", func() bool {
		var last int
		d.store.DB().Get(&last, `SELECT last_uid FROM mailbox_cursors`)
		return last == 3
	})
	if n := d.count(`SELECT count(*) FROM cases`); n != 2 {
		t.Fatalf("%d cases, want 2", n)
	}

	// The mail server restarts with a new UIDVALIDITY: everything is seen again.
	stop := d.stop
	d.stop = nil
	stop()
	m.Close()
	m2, err := devmail.Start(devmail.Config{StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m2.Close() })
	d.mail = m2
	d.env["HELPDESK_IMAP_ADDR"] = m2.IMAPAddr()
	d.env["HELPDESK_SMTP_ADDR"] = m2.SMTPAddr()
	var before int
	d.store.DB().Get(&before, `SELECT uid_validity FROM mailbox_cursors`)
	d.start()
	waitFor(t, "the rescan under the new UIDVALIDITY", func() bool {
		var v, last int
		d.store.DB().Get(&v, `SELECT uid_validity FROM mailbox_cursors`)
		d.store.DB().Get(&last, `SELECT last_uid FROM mailbox_cursors`)
		return v != before && last == 3
	})
	if n := d.count(`SELECT count(*) FROM cases`); n != 2 {
		t.Fatalf("%d cases after the rescan, want 2", n)
	}
	if n := d.count(`SELECT count(*) FROM comments`); n != 2 {
		t.Fatalf("%d comments after the rescan, want 2", n)
	}
}

func TestServe_PoisonMessageGoesToFailedAndTheNextIsIngested(t *testing.T) {
	m := startMail(t)
	d := newDaemon(t, m, nil)
	// No From at all: nobody to open a case for.
	m.Deliver("support@example.com", []byte("To: support@example.com\r\nSubject: ???\r\nMessage-ID: <poison@x>\r\n\r\nwho am I\r\n"))
	m.Deliver("support@example.com", customerMail("jane@acme.example", "Help", "after-poison@acme.example", "", "Next one."))
	waitFor(t, "the next message as a case", func() bool { return d.count(`SELECT count(*) FROM cases`) == 1 })
	waitFor(t, "the poison message in Failed", func() bool {
		f, _ := m.Mailbox("support@example.com", "Failed")
		return len(f) == 1
	})
	if n := d.count(`SELECT count(*) FROM messages WHERE decision = 'failed'`); n != 1 {
		t.Fatalf("%d failed messages recorded, want 1", n)
	}
}

func TestServe_OversizedMailIsRecordedAndItsSenderTold(t *testing.T) {
	m := startMail(t)
	d := newDaemon(t, m, map[string]string{"HELPDESK_MAX_MESSAGE_SIZE": "4096"})
	big := customerMail("jane@acme.example", "Logs", "big@acme.example", "", strings.Repeat("log line\r\n", 1000))
	m.Deliver("support@example.com", big)
	waitFor(t, "the oversized message recorded", func() bool {
		return d.count(`SELECT count(*) FROM messages WHERE decision = 'oversized'`) == 1
	})
	waitFor(t, "the too-large notice", func() bool { return len(d.inbox("jane@acme.example")) == 1 })
	if s := d.inbox("jane@acme.example")[0].Header.Get("X-Helpdesk-Reason"); s != "too_large" {
		t.Fatalf("notice reason %q", s)
	}
}
