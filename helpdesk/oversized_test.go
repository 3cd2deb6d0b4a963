package helpdesk_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/helpdesk/helpdesk/helpdesk"
	"github.com/helpdesk/helpdesk/helpdesk/pgtest"
	"github.com/helpdesk/helpdesk/mail"
)

// ingestOversized delivers a mail as the poller does when it is over the
// fetch limit: Size from the server, only the header.
func (e *env) ingestOversized(header string, size int64) helpdesk.Result {
	e.t.Helper()
	e.uid++
	header = strings.ReplaceAll(header, "\n", "\r\n")
	r, err := e.g.Ingest(context.Background(), helpdesk.Inbound{Mailbox: "support/INBOX", UIDValidity: 7, UID: e.uid, Size: size,
		Oversized: true, Body: strings.NewReader(header)})
	if err != nil {
		e.t.Fatalf("Ingest: %v", err)
	}
	return r
}

func header(from, subject, id, inReplyTo string, extra ...string) string {
	h := "From: " + from + "\nTo: support@example.com\nSubject: " + subject + "\nMessage-ID: <" + id + ">\n"
	if inReplyTo != "" {
		h += "In-Reply-To: <" + inReplyTo + ">\n"
	}
	for _, x := range extra {
		h += x + "\n"
	}
	return h + "Content-Type: multipart/mixed; boundary=\"b\"\n\n"
}

func TestIngest_OversizedMailIsRecordedOnItsCaseAndAnsweredWithTheRealLimit(t *testing.T) {
	t.Parallel()
	const limit = 60 << 10 // the poller's cap, far below the 50 MB attachment cap
	tests := []struct {
		name      string
		policy    string
		mail      func(ack string) string
		answered  bool
		caseTag   bool   // the answer names the case
		onCase    bool   // an event on the case records the mail
		notToldIf string // reason, when not answered
	}{
		{"the submitter's reply", "open", func(ack string) string {
			return header("김민수 <minsu@acme.example>", "Re: printer", "o-2@acme.example", ack)
		}, true, true, true, ""},
		{"a stranger's reply under the open policy", "open", func(ack string) string {
			return header("Mallory <mallory@evil.example>", "Re: printer", "o-2@evil.example", ack)
		}, true, false, true, ""},
		{"a new mail from a stranger under the registered policy", "registered", func(string) string {
			return header("Mallory <mallory@evil.example>", "Logs", "o-2@evil.example", "")
		}, false, false, false, "the sender may not open cases (registered policy)"},
		{"an out-of-office reply", "open", func(ack string) string {
			return header("minsu@acme.example", "Out of office: printer", "o-2@acme.example", ack, "Auto-Submitted: auto-replied")
		}, false, false, true, "automated mail is never answered"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnvWithDB(t, pgtest.New(t), func(c *helpdesk.IngestConfig) {
				c.MaxMessageSize = limit
				c.UnknownSenders = tt.policy
			})
			first := e.ingest(msg("minsu@acme.example", "printer", "o-1@acme.example", "", "Broken."))
			ack := outbox(t, e.s.DB(), first.CaseID)[0].MessageID
			r := e.ingestOversized(tt.mail(ack), 5<<20)
			if r.Decision != "oversized" || !strings.Contains(r.Reason, "over the size limit of 61440 bytes") {
				t.Fatalf("result %+v", r)
			}
			events := count(t, e.s.DB(), `SELECT count(*) FROM case_events WHERE case_id = $1 AND kind = 'oversized' AND reason LIKE 'a mail of 5 MB from % was too large (limit 60 KB)%'`, first.CaseID)
			if (events == 1) != tt.onCase {
				t.Fatalf("%d oversized events on the case, want on case: %v", events, tt.onCase)
			}
			var answers []outRow
			if err := e.s.DB().Select(&answers, `SELECT kind, array_to_string(recipients, ',') AS rcpt, message_id, data, status FROM outbox WHERE kind = 'too_large'`); err != nil {
				t.Fatal(err)
			}
			if !tt.answered {
				if len(answers) != 0 || !strings.Contains(r.Reason, "sender not told: "+tt.notToldIf) {
					t.Fatalf("answered %d times; reason %q", len(answers), r.Reason)
				}
				return
			}
			if len(answers) != 1 {
				t.Fatalf("%d answers, want 1", len(answers))
			}
			parsed, err := mail.Parse(bytes.NewReader(answers[0].Data), mail.ParseOptions{})
			if err != nil {
				t.Fatal(err)
			}
			body := parsed.Subject + "\n" + parsed.Text
			if !strings.Contains(body, "60 KB") || strings.Contains(body, "50 MB") {
				t.Fatalf("the answer does not quote the 60 KB limit:\n%s", body)
			}
			if got := strings.Contains(body, "[Case #"); got != tt.caseTag {
				t.Fatalf("answer names the case: %v, want %v:\n%s", got, tt.caseTag, body)
			}
			// A second oversized mail within a day is not answered again.
			again := e.ingestOversized(strings.Replace(tt.mail(ack), "o-2@", "o-3@", 1), 5<<20)
			if n := count(t, e.s.DB(), `SELECT count(*) FROM outbox WHERE kind = 'too_large'`); n != 1 || !strings.Contains(again.Reason, "told recently") {
				t.Fatalf("%d answers after a second oversized mail; reason %q", n, again.Reason)
			}
		})
	}
}
