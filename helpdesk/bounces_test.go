package helpdesk_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/helpdesk/helpdesk/helpdesk"
	"github.com/helpdesk/helpdesk/templates"
	"github.com/helpdesk/helpdesk/threading"
)

// ackOf returns the acknowledgement of a case after marking it sent (as
// the dispatcher would), with its envelope sender.
func ackOf(t testing.TB, e *env, caseID int64) (messageID, envelopeFrom string) {
	t.Helper()
	if err := e.s.DB().Get(&messageID, `UPDATE outbox SET status = 'sent', attempts = 1, sent_at = $2
		WHERE case_id = $1 AND kind = 'case_received' RETURNING message_id`, caseID, e.clk.Now()); err != nil {
		t.Fatalf("acknowledgement of case %d: %v", caseID, err)
	}
	if err := e.s.DB().Get(&envelopeFrom, `SELECT envelope_from FROM outbox WHERE message_id = $1`, messageID); err != nil {
		t.Fatal(err)
	}
	return messageID, envelopeFrom
}

// dsn is an RFC 3464 report from Postfix at mx.acme.example.
func dsn(id, to, recipient, action, status, perMessage, returned string) string {
	return "From: MAILER-DAEMON@mx.acme.example (Mail Delivery System)\nTo: " + to + "\nSubject: Undelivered Mail Returned to Sender\n" +
		"Message-ID: <" + id + ">\nReturn-Path: <>\nAuto-Submitted: auto-replied\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\n\n--r\nContent-Type: text/plain\n\nYour mail could not be delivered.\n" +
		"--r\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.acme.example\n" + perMessage + "\n" +
		"Final-Recipient: rfc822; " + recipient + "\nAction: " + action + "\nStatus: " + status + "\nDiagnostic-Code: smtp; 550 5.1.1 user unknown\n\n" +
		"--r\nContent-Type: text/rfc822-headers\n\n" + returned + "\n--r--\n"
}

func suppressed(t testing.TB, e *env, addr string) bool {
	t.Helper()
	return count(t, e.s.DB(), `SELECT count(*) FROM suppressions WHERE address = $1`, addr) == 1
}

func TestIngest_BouncesActOnlyWhenVerified(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		mail       func(ack, verp string) string
		suppressed string // the address suppressed, "" for none
		reason     string // in the recorded reason (helpdeskd why)
	}{
		{"a report to the VERP envelope sender of our mail to that address",
			func(ack, verp string) string {
				return dsn("b1@mx.acme.example", verp, "jane@acme.example", "failed", "5.1.1", "", "From: support@example.com\nSubject: x")
			}, "jane@acme.example", "verified bounce: it came to the envelope sender of our mail"},
		{"a qmail failure notice to the VERP envelope sender, permanent in words only",
			func(ack, verp string) string {
				return "From: MAILER-DAEMON@mx.acme.example\nTo: " + verp + "\nSubject: failure notice\nMessage-ID: <q1@mx.acme.example>\n\n" +
					"Hi. This is the qmail-send program at mx.acme.example.\nI'm afraid I wasn't able to deliver your message to the following addresses.\n" +
					"This is a permanent error; I've given up. Sorry it didn't work out.\n\n<jane@acme.example>:\nUnable to contact LDAP server. (#4.4.3)\n"
			}, "jane@acme.example", "verified bounce"},
		// With VERP on, real bounces come to the envelope sender; a named
		// Message-ID proves nothing (it is in the References of every mail
		// on the case, so anyone on it could silence anyone else).
		{"a report naming our Message-ID in the returned headers, not to our envelope sender",
			func(ack, verp string) string {
				return dsn("b2@mx.acme.example", "support@example.com", "jane@acme.example", "failed", "5.1.1", "",
					"From: support@example.com\nTo: jane@acme.example\nMessage-ID: <"+ack+">\nSubject: received")
			}, "", "but did not come to that mail's envelope sender"},
		{"a Gmail report naming our Message-ID in X-Original-Message-ID, not to our envelope sender",
			func(ack, verp string) string {
				return dsn("b3@mx.acme.example", "support@example.com", "jane@acme.example", "failed", "5.0.0", "X-Original-Message-ID: <"+ack+">\n", "Subject: x")
			}, "", "but did not come to that mail's envelope sender"},
		{"a forged report for an address we never wrote to",
			func(ack, verp string) string {
				return dsn("f1@evil.example", "support@example.com", "victim@other.example", "failed", "5.1.1", "", "Subject: x")
			}, "", "unverified bounce: it did not come to our envelope sender and names no mail we sent to victim@other.example; not acted on"},
		{"a forged report naming our customer, without proof",
			func(ack, verp string) string {
				return dsn("f2@evil.example", "support@example.com", "jane@acme.example", "failed", "5.1.1", "", "Message-ID: <made-up@evil.example>")
			}, "", "unverified bounce"},
		{"a report to a forged VERP address",
			func(ack, verp string) string {
				return dsn("f3@evil.example", "support+bounce-1-aaaaaaaaaaaaaaaa@example.com", "jane@acme.example", "failed", "5.1.1", "", "Subject: x")
			}, "", "bad signature"},
		{"a report to our VERP address naming someone else",
			func(ack, verp string) string {
				return dsn("f4@evil.example", verp, "minsu@acme.example", "failed", "5.1.1", "", "Subject: x")
			}, "", "but names minsu@acme.example, not jane@acme.example"},
		{"a verified report of a delay",
			func(ack, verp string) string {
				return dsn("d1@mx.acme.example", verp, "jane@acme.example", "delayed", "4.4.7", "", "Subject: x")
			}, "", "not permanent; not acted on"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			first := e.ingest(msg("Jane <jane@acme.example>", "Help", "j-1@acme.example", "", "It broke."))
			ack, verp := ackOf(t, e, first.CaseID)
			if !strings.HasPrefix(verp, "support+bounce-") || !strings.HasSuffix(verp, "@example.com") {
				t.Fatalf("the acknowledgement's envelope sender is %q, want a VERP address", verp)
			}
			r := e.ingest(tt.mail(ack, verp))
			if r.Class != "bounce" || r.Decision != "stored" || !strings.Contains(r.Reason, tt.reason) {
				t.Fatalf("bounce: %+v; want a stored bounce whose reason says %q", r, tt.reason)
			}
			n := count(t, e.s.DB(), `SELECT count(*) FROM suppressions`)
			if tt.suppressed == "" {
				if n != 0 {
					t.Fatalf("%d addresses suppressed by an unproven bounce", n)
				}
				return
			}
			if n != 1 || !suppressed(t, e, tt.suppressed) {
				t.Fatalf("%s not suppressed (%d suppressions)", tt.suppressed, n)
			}
			if r.CaseID != first.CaseID || count(t, e.s.DB(), `SELECT count(*) FROM case_events WHERE case_id = $1 AND kind = 'suppressed' AND to_value = $2`,
				first.CaseID, tt.suppressed) != 1 {
				t.Fatalf("the case does not record the suppression: %+v", r)
			}
		})
	}
}

func TestIngest_ForgedBounceStormSuppressesNobody(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for i := range 50 {
		victim := fmt.Sprintf("victim%d@other.example", i)
		r := e.ingest(dsn(fmt.Sprintf("storm-%d@evil.example", i), "support@example.com", victim, "failed", "5.1.1", "", "To: "+victim))
		if r.Class != "bounce" || r.Decision != "stored" {
			t.Fatalf("forged bounce %d: %+v", i, r)
		}
	}
	if n := count(t, e.s.DB(), `SELECT count(*) FROM suppressions`); n != 0 {
		t.Fatalf("a storm of forged bounces suppressed %d addresses", n)
	}
	// Nor does a forged bounce stop a customer's acknowledgement.
	e.ingest(dsn("storm-jane@evil.example", "support@example.com", "jane@acme.example", "failed", "5.1.1", "", "To: jane@acme.example"))
	r := e.ingest(msg("jane@acme.example", "Help", "storm-j@acme.example", "", "Hello?"))
	if out := outbox(t, e.s.DB(), r.CaseID); len(out) == 0 || out[0].Kind != "case_received" || out[0].Status != "queued" {
		t.Fatalf("acknowledgement after a forged bounce: %+v", out)
	}
	w, err := helpdesk.ExplainMessage(context.Background(), e.s.DB(), "storm-jane@evil.example")
	if err != nil || w.Class != "bounce" || !strings.Contains(w.Reason, "unverified bounce") || !strings.Contains(w.Reason, "not acted on") {
		t.Fatalf("why: %+v, %v", w, err)
	}
}

// A vacation(1)-style responder answers the envelope sender with a fresh
// mail: no In-Reply-To, no Auto-Submitted, neutral words.
func vacationReply(from, to, id string) string {
	return "From: " + from + "\nTo: " + to + "\nSubject: away from my mail\nMessage-ID: <" + id + ">\n" +
		"Date: Fri, 20 Nov 2026 15:01:00 +0900\nContent-Type: text/plain; charset=UTF-8\n\nI will read your message when I am back.\n"
}

func TestIngest_ReplyToOurEnvelopeSenderNeverOpensACaseOrIsAnswered(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	first := e.ingest(msg("Jane <jane@acme.example>", "Help", "v-1@acme.example", "", "It broke."))
	_, verp := ackOf(t, e, first.CaseID)
	before := count(t, e.s.DB(), `SELECT count(*) FROM outbox`)

	r := e.ingest(vacationReply("jane@acme.example", verp, "v-2@acme.example"))
	if r.Class != "human" || r.Decision != "stored" || r.CaseID != first.CaseID || !strings.Contains(r.Reason, "automated reply to our mail") {
		t.Fatalf("vacation reply to our envelope sender: %+v", r)
	}
	forged := e.ingest(vacationReply("jane@acme.example", "support+bounce-5-aaaaaaaaaaaaaaaa@example.com", "v-3@acme.example"))
	if forged.Decision != "ignored" || forged.CaseID != 0 || !strings.Contains(forged.Reason, "envelope sender") {
		t.Fatalf("mail to a forged envelope sender: %+v", forged)
	}
	if n := count(t, e.s.DB(), `SELECT count(*) FROM cases`); n != 1 {
		t.Fatalf("%d cases, want 1", n)
	}
	if n := count(t, e.s.DB(), `SELECT count(*) FROM outbox`); n != before {
		t.Fatalf("%d mails sent because of replies to our envelope sender", n-before)
	}
	if n := count(t, e.s.DB(), `SELECT count(*) FROM comments`); n != 1 {
		t.Fatalf("%d comments, want only the first mail's", n)
	}
}

func TestDispatcher_RecipientRefusedAtRCPTIsSuppressed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		rcpt, data *smtp.SMTPError
		suppressed bool
	}{
		{"550 5.1.1 at RCPT", &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}, nil, true},
		{"450 at RCPT", &smtp.SMTPError{Code: 450, EnhancedCode: smtp.EnhancedCode{4, 2, 1}, Message: "try later"}, nil, false},
		{"554 at DATA", nil, &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "spam"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			first := e.ingest(msg("Jane <jane@acme.example>", "Help", "r-1@acme.example", "", "It broke."))
			r := newRelay(t)
			if tt.rcpt != nil {
				r.refuse("jane@acme.example", tt.rcpt)
			}
			if tt.data != nil {
				r.fail(tt.data, -1)
			}
			var id int64
			if err := e.s.DB().Get(&id, `SELECT id FROM outbox WHERE case_id = $1 AND kind = 'case_received'`, first.CaseID); err != nil {
				t.Fatal(err)
			}
			runUntil(t, []*helpdesk.Dispatcher{newDispatcher(t, e.s, r, e.clk, nil)}, func() bool {
				rw := row(t, e.s.DB(), id)
				return rw.Status == "failed" || rw.Attempts > 0 && rw.Status == "queued"
			})
			if got := suppressed(t, e, "jane@acme.example"); got != tt.suppressed {
				t.Fatalf("suppressed = %v, want %v (row %+v)", got, tt.suppressed, row(t, e.s.DB(), id))
			}
			if tt.suppressed && count(t, e.s.DB(), `SELECT count(*) FROM case_events WHERE case_id = $1 AND kind = 'suppressed' AND reason LIKE '5.1.1%'`, first.CaseID) != 1 {
				t.Fatal("the case does not record the suppression")
			}
		})
	}
}

func TestNotify_EnvelopeSenderIsASignedVERPAddressUnlessTurnedOff(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.ingest(msg("Jane <jane@acme.example>", "Help", "e-1@acme.example", "", "It broke."))
	tokens, err := threading.NewTokens("test-secret-0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	var rows []struct {
		ID       int64  `db:"id"`
		Envelope string `db:"envelope_from"`
		Data     []byte `db:"data"`
	}
	if err := e.s.DB().Select(&rows, `SELECT id, envelope_from, data FROM outbox WHERE case_id = $1`, r.CaseID); err != nil || len(rows) != 2 {
		t.Fatalf("outbox: %v, %v", rows, err)
	}
	for _, o := range rows {
		if want := tokens.BounceAddress("support@example.com", o.ID); o.Envelope != want {
			t.Errorf("row %d: envelope sender %q, want %q", o.ID, o.Envelope, want)
		}
		// The header From stays the support address; automated-mail headers are set.
		for _, h := range []string{"<support@example.com>", "X-Auto-Response-Suppress: All", "Auto-Submitted: auto-"} {
			if !strings.Contains(string(o.Data), h) {
				t.Errorf("row %d lacks %q", o.ID, h)
			}
		}
		if strings.Contains(string(o.Data), "bounce-") {
			t.Errorf("row %d shows its envelope sender in the message", o.ID)
		}
	}

	tmpl, err := templates.New(templates.Options{})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := helpdesk.NewNotifier(helpdesk.NotifierConfig{Templates: tmpl, Tokens: tokens, SupportAddress: "support@example.com",
		Name: "Example Support", MessageIDDomain: "example.com", LoopID: loopID, PlainEnvelope: true})
	if err != nil {
		t.Fatal(err)
	}
	q, err := plain.Notify(context.Background(), e.s.DB(), helpdesk.Notice{Data: templates.TooLargeData{Base: plain.Base(0, "x", ""), Limit: 1 << 20},
		To: helpdesk.Recipient{Email: "x@y.example"}, Now: e.clk.Now()})
	if err != nil {
		t.Fatal(err)
	}
	var env string
	if err := e.s.DB().Get(&env, `SELECT envelope_from FROM outbox WHERE id = $1`, q.ID); err != nil || env != "support@example.com" {
		t.Fatalf("with VERP off the envelope sender is %q (%v)", env, err)
	}
}
