package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/mail"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/helpdesk/helpdesk/helpdesk"
	"github.com/helpdesk/helpdesk/helpdesk/pgtest"
	"github.com/helpdesk/helpdesk/mail/devmail"
	"github.com/helpdesk/helpdesk/mail/mailtest"
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
	return mailtest.Mail{From: from, Subject: subject, MessageID: id, InReplyTo: strings.Trim(inReplyTo, "<>"), Body: body}.Bytes()
}

func TestServe_MailInCaseOutAcknowledgementBack(t *testing.T) {
	t.Parallel()
	m := startMail(t)
	d := newDaemon(t, m, nil)

	if err := m.Deliver("support@example.com", customerMail("김민수 <minsu@acme.example>", "VPN 접속 불가", "c1@acme.example", "", "VPN이 안 됩니다.")); err != nil {
		t.Fatal(err)
	}
	mailtest.Wait(t, "the case", func() bool { return d.count(`SELECT count(*) FROM cases`) == 1 })
	mailtest.Wait(t, "the acknowledgement in the customer's mailbox", func() bool { return len(d.inbox("minsu@acme.example")) == 1 })
	ack := d.inbox("minsu@acme.example")[0]
	if ack.Header.Get("In-Reply-To") != "<c1@acme.example>" || !strings.Contains(ack.Header.Get("Reply-To"), "support+v1-") ||
		ack.Header.Get("Auto-Submitted") != "auto-replied" {
		t.Fatalf("acknowledgement headers: %v", ack.Header)
	}
	mailtest.Wait(t, "the agent notice", func() bool { return len(d.inbox("agents@example.com")) == 1 })

	// The customer answers the acknowledgement: same case.
	if err := m.Deliver("support@example.com", customerMail("minsu@acme.example", "Re: VPN", "c2@acme.example", ack.Header.Get("Message-Id"), "추가 정보입니다.")); err != nil {
		t.Fatal(err)
	}
	mailtest.Wait(t, "the reply as a comment", func() bool { return d.count(`SELECT count(*) FROM comments`) == 2 })
	if n := d.count(`SELECT count(*) FROM cases`); n != 1 {
		t.Fatalf("%d cases after a reply", n)
	}

	// The agent answers the agent notice from her mail client: relayed to the customer, threaded.
	notice := d.inbox("agents@example.com")[0]
	if err := m.Deliver("support@example.com", customerMail("Alice <alice@example.com>", "Re: "+notice.Header.Get("Subject"), "a1@example.com",
		notice.Header.Get("Message-Id"), "Please reinstall the client.")); err != nil {
		t.Fatal(err)
	}
	mailtest.Wait(t, "the relayed comment", func() bool { return len(d.inbox("minsu@acme.example")) == 2 })
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
	mailtest.Wait(t, "INBOX to be emptied into Processed", func() bool {
		in, _ := m.Mailbox("support@example.com", "INBOX")
		done, _ := m.Mailbox("support@example.com", "Processed")
		return len(in) == 0 && len(done) == 3
	})
}

func TestServe_DuplicatesAndUIDValidityChangeMakeNoSecondCase(t *testing.T) {
	t.Parallel()
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
	mailtest.Wait(t, "three messages consumed", func() bool {
		var last int
		d.store.DB().Get(&last, `SELECT last_uid FROM mailbox_cursors`)
		return last == 3
	})
	if n := d.count(`SELECT count(*) FROM cases`); n != 2 {
		t.Fatalf("%d cases, want 2", n)
	}

	// The mail server restarts with a new UIDVALIDITY (as after a crash):
	// everything is seen again.
	stop := d.stop
	d.stop = nil
	stop()
	m.Close()
	m2, err := devmail.Start(devmail.Config{StateDir: dir, RenumberUIDs: true})
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
	mailtest.Wait(t, "the rescan under the new UIDVALIDITY", func() bool {
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
	t.Parallel()
	m := startMail(t)
	d := newDaemon(t, m, nil)
	// No From at all: nobody to open a case for.
	m.Deliver("support@example.com", []byte("To: support@example.com\r\nSubject: ???\r\nMessage-ID: <poison@x>\r\n\r\nwho am I\r\n"))
	m.Deliver("support@example.com", customerMail("jane@acme.example", "Help", "after-poison@acme.example", "", "Next one."))
	mailtest.Wait(t, "the next message as a case", func() bool { return d.count(`SELECT count(*) FROM cases`) == 1 })
	mailtest.Wait(t, "the poison message in Failed", func() bool {
		f, _ := m.Mailbox("support@example.com", "Failed")
		return len(f) == 1
	})
	if n := d.count(`SELECT count(*) FROM messages WHERE decision = 'failed'`); n != 1 {
		t.Fatalf("%d failed messages recorded, want 1", n)
	}
}

func TestServe_OversizedMailIsRecordedAndItsSenderTold(t *testing.T) {
	t.Parallel()
	m := startMail(t)
	d := newDaemon(t, m, map[string]string{"HELPDESK_MAX_MESSAGE_SIZE": "4096"})
	big := customerMail("jane@acme.example", "Logs", "big@acme.example", "", strings.Repeat("log line\r\n", 1000))
	m.Deliver("support@example.com", big)
	mailtest.Wait(t, "the oversized message recorded", func() bool {
		return d.count(`SELECT count(*) FROM messages WHERE decision = 'oversized'`) == 1
	})
	mailtest.Wait(t, "the too-large notice", func() bool { return len(d.inbox("jane@acme.example")) == 1 })
	if s := d.inbox("jane@acme.example")[0].Header.Get("X-Helpdesk-Reason"); s != "too_large" {
		t.Fatalf("notice reason %q", s)
	}
}

// backdate moves a case's clock: its solved or pending time goes back by d,
// as if d had passed (the daemon itself runs on the real clock).
func (d *daemon) backdate(caseID int64, col string, by time.Duration) {
	d.t.Helper()
	if _, err := d.store.DB().Exec(`UPDATE cases SET `+col+` = `+col+` - $2::interval WHERE id = $1`, caseID, fmt.Sprintf("%d seconds", int(by.Seconds()))); err != nil {
		d.t.Fatal(err)
	}
}

func (d *daemon) caseStatus(id int64) string {
	var s string
	if err := d.store.DB().Get(&s, `SELECT status FROM cases WHERE id = $1`, id); err != nil {
		d.t.Fatal(err)
	}
	return s
}

func TestServe_LifecycleThroughTheMailbox(t *testing.T) {
	t.Parallel()
	m := startMail(t)
	d := newDaemon(t, m, nil)
	c := &cli{t: t, env: d.env}
	send := func(raw []byte) {
		t.Helper()
		if err := m.Deliver("support@example.com", raw); err != nil {
			t.Fatal(err)
		}
	}
	inboxLen := func(addr string) int { return len(d.inbox(addr)) }

	send(customerMail("김민수 <minsu@acme.example>", "VPN", "lm-1@acme.example", "", "VPN이 안 됩니다."))
	mailtest.Wait(t, "the acknowledgement", func() bool { return inboxLen("minsu@acme.example") == 1 })
	ack := d.inbox("minsu@acme.example")[0].Header.Get("Message-Id")
	mailtest.Wait(t, "the agent notice", func() bool { return inboxLen("agents@example.com") == 1 })
	notice := d.inbox("agents@example.com")[0].Header.Get("Message-Id")
	var id int64
	d.store.DB().Get(&id, `SELECT id FROM cases`)

	// Agent reply → pending, relayed.
	send(customerMail("Alice <alice@example.com>", "Re: VPN", "lm-2@example.com", notice, "Please restart the client."))
	mailtest.Wait(t, "the relayed comment", func() bool { return inboxLen("minsu@acme.example") == 2 })
	if st := d.caseStatus(id); st != "pending" {
		t.Fatalf("after the agent reply: %s", st)
	}
	// Customer reply → open.
	send(customerMail("minsu@acme.example", "Re: VPN", "lm-3@acme.example", ack, "Still broken."))
	mailtest.Wait(t, "open again", func() bool { return d.caseStatus(id) == "open" })
	// #solve → solved, the customer gets the comment with the solved status.
	send(customerMail("Alice <alice@example.com>", "Re: VPN", "lm-4@example.com", notice, "#solve\nFixed on our side."))
	mailtest.Wait(t, "solved", func() bool { return d.caseStatus(id) == "solved" })
	mailtest.Wait(t, "the solved comment", func() bool { return inboxLen("minsu@acme.example") == 3 })
	if body := string(mustRaw(t, m, "minsu@acme.example", 2)); strings.Contains(body, "#solve") {
		t.Fatal("the command reached the customer")
	}
	// An out-of-office reply changes nothing and sends nothing.
	mailtest.Wait(t, "the agents' notice of the customer's reply", func() bool { return inboxLen("agents@example.com") == 2 })
	sent := inboxLen("minsu@acme.example") + inboxLen("agents@example.com")
	send(append([]byte("Auto-Submitted: auto-replied\r\n"), customerMail("minsu@acme.example", "자동 회신: Re: VPN", "lm-5@acme.example", ack, "부재중")...))
	mailtest.Wait(t, "the out-of-office stored", func() bool {
		var n int
		d.store.DB().Get(&n, `SELECT count(*) FROM messages WHERE message_id = 'lm-5@acme.example' AND decision = 'stored'`)
		return n == 1
	})
	if st := d.caseStatus(id); st != "solved" || inboxLen("minsu@acme.example")+inboxLen("agents@example.com") != sent {
		t.Fatalf("out-of-office: status %s, mails %d → %d", st, sent, inboxLen("minsu@acme.example")+inboxLen("agents@example.com"))
	}
	// Ten days later a reply reopens.
	d.backdate(id, "solved_at", 10*24*time.Hour)
	send(customerMail("minsu@acme.example", "Re: VPN", "lm-6@acme.example", ack, "It broke again."))
	mailtest.Wait(t, "reopened", func() bool { return d.caseStatus(id) == "open" })
	// Solved again, and forty days later a reply opens a follow-up case.
	send(customerMail("Alice <alice@example.com>", "Re: VPN", "lm-7@example.com", notice, "#solve\nFixed for good."))
	mailtest.Wait(t, "solved again", func() bool { return d.caseStatus(id) == "solved" })
	d.backdate(id, "solved_at", 40*24*time.Hour)
	send(customerMail("minsu@acme.example", "Re: VPN", "lm-8@acme.example", ack, "It is back."))
	mailtest.Wait(t, "the follow-up case", func() bool {
		var n int
		d.store.DB().Get(&n, `SELECT count(*) FROM cases WHERE follow_up_of = $1`, id)
		return n == 1
	})
	if st := d.caseStatus(id); st != "closed" {
		t.Fatalf("old case after 40 days: %s", st)
	}

	// A pending case left alone: two reminders, then solved for no response (timers run by `tick --now`).
	var follow int64
	d.store.DB().Get(&follow, `SELECT id FROM cases WHERE follow_up_of = $1`, id)
	c.ok("cases", "set", strconv.FormatInt(follow, 10), "--status", "pending")
	start := time.Now().UTC()
	for _, days := range []int{3, 6, 7} {
		c.ok("tick", "--now", start.Add(time.Duration(days)*24*time.Hour+time.Minute).Format(time.RFC3339))
	}
	// Count by kind: the daemon's own timer pass may add a survey meanwhile.
	reasons := func() map[string]int {
		n := map[string]int{}
		for _, m := range d.inbox("minsu@acme.example") {
			n[m.Header.Get("X-Helpdesk-Reason")]++
		}
		return n
	}
	mailtest.Wait(t, "two reminders and the auto-solve notice", func() bool {
		r := reasons()
		return r["pending_reminder"] == 2 && r["auto_solved"] == 1
	})
	if st := d.caseStatus(follow); st != "solved" {
		t.Fatalf("after a week of silence: %s", st)
	}
}

func mustRaw(t *testing.T, m *devmail.Server, addr string, i int) []byte {
	t.Helper()
	raws, err := m.Mailbox(addr, "INBOX")
	if err != nil || len(raws) <= i {
		t.Fatalf("mailbox %s: %d messages, %v", addr, len(raws), err)
	}
	return raws[i]
}

func TestServe_HealthAndMetrics(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	m := startMail(t)
	d := newDaemon(t, m, map[string]string{"HELPDESK_HTTP_ADDR": addr})
	m.Deliver("support@example.com", customerMail("jane@acme.example", "Help", "hm-1@acme.example", "", "It broke."))
	mailtest.Wait(t, "the acknowledgement sent", func() bool { return len(d.inbox("jane@acme.example")) == 1 })
	get := func(path string) string {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
		}
		return string(b)
	}
	if h := get("/healthz"); !strings.Contains(h, "ok") {
		t.Fatalf("/healthz: %q", h)
	}
	mailtest.Wait(t, "both notifications sent", func() bool {
		return strings.Contains(get("/metrics"), `helpdesk_outbox{status="sent"} 2`)
	})
	metrics := get("/metrics")
	for _, want := range []string{`helpdesk_cases{status="open"} 1`, `helpdesk_inbound_messages{decision="new_case"} 1`,
		"helpdesk_outbox_oldest_due_seconds 0", "helpdesk_suppressed_addresses 0"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, metrics)
		}
	}
}
