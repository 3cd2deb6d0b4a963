package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/helpdesk/helpdesk/mail/mailtest"
)

// brokenHeaders is a fuzz-style table of top-level headers broken in the ways
// real (and hostile) mail breaks them. Each entry replaces or adds header
// lines in an otherwise ordinary mail.
var brokenHeaders = []struct {
	name   string
	header string // the header section, without the blank line
	body   string
}{
	{"message-id without @", "From: a1@acme.example\r\nMessage-ID: <abc123>\r\nSubject: no at", "hello"},
	{"message-id bare word", "From: a2@acme.example\r\nMessage-ID: abc123\r\nSubject: bare", "hello"},
	{"message-id cut by NUL", "From: a3@acme.example\r\nMessage-ID: <abc\x00\r\nSubject: nul", "hello"},
	{"message-id with spaces", "From: a4@acme.example\r\nMessage-ID: <a b c@acme.example>\r\nSubject: spaces", "hello"},
	{"message-id 2 KB long", "From: a5@acme.example\r\nMessage-ID: <" + strings.Repeat("x", 2048) + "@acme.example>\r\nSubject: long id", "hello"},
	{"message-id empty brackets", "From: a6@acme.example\r\nMessage-ID: <>\r\nSubject: empty id", "hello"},
	{"message-id only @", "From: a7@acme.example\r\nMessage-ID: <@>\r\nSubject: only at", "hello"},
	{"message-id quoted local part", "From: a8@acme.example\r\nMessage-ID: <\"we ird\"@acme.example>\r\nSubject: quoted", "hello"},
	{"message-id non-ASCII", "From: a9@acme.example\r\nMessage-ID: <메일@acme.example>\r\nSubject: hangul id", "hello"},
	{"two message-ids", "From: a10@acme.example\r\nMessage-ID: <one>\r\nMessage-ID: <two@acme.example>\r\nSubject: two ids", "hello"},
	{"in-reply-to without @", "From: a11@acme.example\r\nMessage-ID: <irt1@acme.example>\r\nIn-Reply-To: <nothing-here>\r\nReferences: <x> <y> <z@>\r\nSubject: irt", "hello"},
	{"no from", "Message-ID: <nofrom@acme.example>\r\nSubject: who", "hello"},
	{"from empty", "From: \r\nMessage-ID: <fromempty@acme.example>\r\nSubject: from empty", "hello"},
	{"from null address", "From: <>\r\nMessage-ID: <fromnull@acme.example>\r\nSubject: from null", "hello"},
	{"from without domain", "From: Someone <someone>\r\nMessage-ID: <fromnodomain@acme.example>\r\nSubject: no domain", "hello"},
	{"from at signs", "From: @@@\r\nMessage-ID: <fromats@acme.example>\r\nSubject: ats", "hello"},
	{"from 2 KB name", "From: \"" + strings.Repeat("N", 2048) + "\" <a12@acme.example>\r\nMessage-ID: <fromlong@acme.example>\r\nSubject: long name", "hello"},
	{"from bad encoded word", "From: =?utf-8?B?!!!?= <a13@acme.example>\r\nMessage-ID: <fromenc@acme.example>\r\nSubject: enc", "hello"},
	{"from group", "From: undisclosed-recipients:;\r\nMessage-ID: <fromgroup@acme.example>\r\nSubject: group", "hello"},
	{"from with NUL", "From: a14\x00@acme.example\r\nMessage-ID: <fromnul@acme.example>\r\nSubject: nul from", "hello"},
	{"date words", "From: a15@acme.example\r\nDate: yesterday\r\nMessage-ID: <date1@acme.example>\r\nSubject: date words", "hello"},
	{"date empty", "From: a16@acme.example\r\nDate: \r\nMessage-ID: <date2@acme.example>\r\nSubject: date empty", "hello"},
	{"date year 99999", "From: a17@acme.example\r\nDate: Thu, 1 Jan 99999 00:00:00 +0000\r\nMessage-ID: <date3@acme.example>\r\nSubject: far future", "hello"},
	{"date impossible", "From: a18@acme.example\r\nDate: Thu, 31 Feb 2026 25:61:00 +9999\r\nMessage-ID: <date4@acme.example>\r\nSubject: impossible", "hello"},
	{"subject 10 KB", "From: a19@acme.example\r\nMessage-ID: <subj1@acme.example>\r\nSubject: " + strings.Repeat("long ", 2048), "hello"},
	{"subject encoded CRLF", "From: a20@acme.example\r\nMessage-ID: <subj2@acme.example>\r\nSubject: =?utf-8?Q?line1=0D=0ABcc:_x@evil.example?=", "hello"},
	{"subject invalid UTF-8", "From: a21@acme.example\r\nMessage-ID: <subj3@acme.example>\r\nSubject: caf\xe9 \xff\xfe", "hello"},
	{"subject unknown charset", "From: a22@acme.example\r\nMessage-ID: <subj4@acme.example>\r\nSubject: =?x-unknown?Q?abc?=", "hello"},
	{"subject NUL", "From: a23@acme.example\r\nMessage-ID: <subj5@acme.example>\r\nSubject: a\x00b", "hello"},
	{"content-type multipart without boundary", "From: a24@acme.example\r\nMessage-ID: <ct1@acme.example>\r\nSubject: ct1\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed", "--x\r\nhello\r\n--x--"},
	{"content-type unknown charset", "From: a25@acme.example\r\nMessage-ID: <ct2@acme.example>\r\nSubject: ct2\r\nContent-Type: text/plain; charset=x-klingon", "hello"},
	{"content-type garbage", "From: a26@acme.example\r\nMessage-ID: <ct3@acme.example>\r\nSubject: ct3\r\nContent-Type: ;;;=\"", "hello"},
	{"content-transfer-encoding unknown", "From: a27@acme.example\r\nMessage-ID: <ct4@acme.example>\r\nSubject: ct4\r\nContent-Transfer-Encoding: x-weird", "hello"},
	{"base64 garbage", "From: a28@acme.example\r\nMessage-ID: <ct5@acme.example>\r\nSubject: ct5\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64", "!!!not base64!!!"},
	{"boundary never used", "From: a29@acme.example\r\nMessage-ID: <ct6@acme.example>\r\nSubject: ct6\r\nContent-Type: multipart/alternative; boundary=never", "just text"},
	{"deeply nested multipart", "From: a30@acme.example\r\nMessage-ID: <ct7@acme.example>\r\nSubject: ct7\r\nContent-Type: multipart/mixed; boundary=b0", nested(60)},
}

// nested returns a body of n multiparts inside each other.
func nested(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n", i, i+1)
	}
	b.WriteString("--b" + fmt.Sprint(n) + "\r\nContent-Type: text/plain\r\n\r\ndeep\r\n")
	for i := n; i >= 0; i-- {
		fmt.Fprintf(&b, "--b%d--\r\n", i)
	}
	return b.String()
}

func TestServe_NoBrokenHeaderStallsTheMailbox(t *testing.T) {
	t.Parallel()
	m := startMail(t)
	d := newDaemon(t, m, nil)
	delivered, broken := 0, 0
	for i, c := range brokenHeaders {
		raw := c.header + "\r\nTo: support@example.com\r\n\r\n" + c.body + "\r\n"
		if err := m.Deliver("support@example.com", []byte(raw)); err != nil {
			t.Logf("%s: the mail server refuses it (%v)", c.name, err)
		} else {
			broken++
		}
		normal := customerMail(fmt.Sprintf("n%d@acme.example", i), fmt.Sprintf("Normal %d", i), fmt.Sprintf("normal-%d@acme.example", i), "", "A normal mail.")
		if err := m.Deliver("support@example.com", normal); err != nil {
			t.Fatal(err)
		}
		delivered++
	}
	mailtest.Wait(t, "every normal mail ingested", func() bool {
		return d.count(`SELECT count(*) FROM messages WHERE message_id LIKE 'normal-%@acme.example' AND decision = 'new_case'`) == delivered
	})
	mailtest.Wait(t, "the mailbox drained", func() bool {
		in, _ := m.Mailbox("support@example.com", "INBOX")
		return len(in) == 0
	})
	var rows []struct {
		ID       string `db:"message_id"`
		Decision string `db:"decision"`
		Reason   string `db:"reason"`
	}
	if err := d.store.DB().Select(&rows, `SELECT message_id, decision, reason FROM messages WHERE direction = 'in' AND message_id NOT LIKE 'normal-%' ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	if len(rows) != broken {
		for _, r := range rows {
			t.Logf("%.60s: %s (%.100s)", r.ID, r.Decision, r.Reason)
		}
		t.Errorf("%d of %d broken mails recorded", len(rows), broken)
	}
	// A message set aside is recorded with its reason, never dropped silently.
	failed, _ := m.Mailbox("support@example.com", "Failed")
	if n := d.count(`SELECT count(*) FROM messages WHERE decision = 'failed' AND reason <> ''`); n != len(failed) {
		t.Errorf("%d messages in Failed, %d recorded as failed", len(failed), n)
	}
}

func TestServe_AMessageThatKeepsFailingTemporarilyIsSetAside(t *testing.T) {
	t.Parallel()
	m := startMail(t)
	d := newDaemon(t, m, map[string]string{"HELPDESK_INGEST_MAX_ATTEMPTS": "3", "HELPDESK_INGEST_GIVE_UP_AFTER": "1s"})
	// Whatever the bug, this mail's insert always fails with a
	// serialization failure: a temporary error that never goes away.
	for _, q := range []string{
		`CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.subject = 'poison' THEN
				RAISE EXCEPTION 'could not serialize access' USING ERRCODE = '40001';
			END IF;
			RETURN NEW;
		END $$`,
		`CREATE TRIGGER poison BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION poison()`,
	} {
		if _, err := d.store.DB().Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	m.Deliver("support@example.com", customerMail("jane@acme.example", "poison", "poison@acme.example", "", "Boom."))
	for i := 0; i < 5; i++ {
		m.Deliver("support@example.com", customerMail(fmt.Sprintf("n%d@acme.example", i), "Fine", fmt.Sprintf("after-%d@acme.example", i), "", "Fine."))
	}
	mailtest.Wait(t, "the 5 mails behind the poison ingested", func() bool {
		return d.count(`SELECT count(*) FROM messages WHERE message_id LIKE 'after-%' AND decision = 'new_case'`) == 5
	})
	mailtest.Wait(t, "the poison in Failed", func() bool {
		f, _ := m.Mailbox("support@example.com", "Failed")
		return len(f) == 1
	})
	if n := d.count(`SELECT count(*) FROM messages WHERE decision = 'failed' AND reason LIKE '%gave up after % attempts in %could not serialize%'`); n != 1 {
		t.Fatalf("%d failed records naming the attempts and the cause", n)
	}
}

func TestServe_ReplyArrivingBeforeItsParentJoinsTheParentsCase(t *testing.T) {
	t.Parallel()
	m := startMail(t)
	d := newDaemon(t, m, map[string]string{"HELPDESK_PARENT_WAIT": "8s"})
	m.Deliver("support@example.com", customerMail("jane@acme.example", "Re: Printer", "early-reply@acme.example", "<late-parent@acme.example>", "Also smoke."))
	mailtest.Wait(t, "the reply waiting", func() bool {
		return d.count(`SELECT count(*) FROM messages WHERE message_id = 'early-reply@acme.example' AND decision = 'waiting'`) == 1
	})
	m.Deliver("support@example.com", customerMail("jane@acme.example", "Printer", "late-parent@acme.example", "", "On fire."))
	mailtest.Wait(t, "the reply on the parent's case", func() bool {
		return d.count(`SELECT count(*) FROM messages c JOIN messages p ON p.case_id = c.case_id
			WHERE c.message_id = 'early-reply@acme.example' AND c.decision = 'comment' AND p.message_id = 'late-parent@acme.example'`) == 1
	})
	if n := d.count(`SELECT count(*) FROM cases`); n != 1 {
		t.Fatalf("%d cases, want 1", n)
	}
}
