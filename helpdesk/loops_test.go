package helpdesk_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/helpdesk/helpdesk/helpdesk"
)

func outboxKinds(t testing.TB, e *env, where string, args ...any) map[string]int {
	t.Helper()
	var rows []struct {
		Kind string `db:"kind"`
		N    int    `db:"n"`
	}
	if err := e.s.DB().Select(&rows, `SELECT kind, count(*) AS n FROM outbox `+where+` GROUP BY kind`, args...); err != nil {
		t.Fatal(err)
	}
	m := map[string]int{}
	for _, r := range rows {
		m[r.Kind] = r.N
	}
	return m
}

func TestIngest_SenderOverTheCaseLimitIsThrottledWithOneDigest(t *testing.T) {
	t.Parallel()
	e := newEnv(t) // default limit: 5 new cases per sender per hour
	var decisions []string
	for i := range 8 {
		r := e.ingest(msg("Robot <bot@robots.example>", fmt.Sprintf("Report %d", i), fmt.Sprintf("bot-%d@robots.example", i), "", "Automatic report."))
		decisions = append(decisions, r.Decision)
		if r.Decision == "throttled" && (r.CaseID != 0 || !strings.Contains(r.Reason, "bot@robots.example opened 5 cases within 1h0m0s (limit 5)")) {
			t.Fatalf("mail %d: %+v", i, r)
		}
		e.clk.Add(time.Minute)
	}
	if want := "new_case new_case new_case new_case new_case throttled throttled throttled"; strings.Join(decisions, " ") != want {
		t.Fatalf("decisions %v, want %s", decisions, want)
	}
	if n := count(t, e.s.DB(), `SELECT count(*) FROM cases`); n != 5 {
		t.Fatalf("%d cases, want 5", n)
	}
	got := outboxKinds(t, e, "")
	if got["case_received"] != 5 || got["agent_new_case"] != 5 || got["sender_throttled"] != 1 {
		t.Fatalf("outbox by kind: %v; want 5 acknowledgements, 5 agent notices and one digest", got)
	}
	var digest outRow
	if err := e.s.DB().Get(&digest, `SELECT kind, array_to_string(recipients, ',') AS rcpt, message_id, data, status FROM outbox WHERE kind = 'sender_throttled'`); err != nil {
		t.Fatal(err)
	}
	if digest.Rcpt != "agents@example.com" || !strings.Contains(string(digest.Data), "bot@robots.example") {
		t.Fatalf("digest: to %s\n%s", digest.Rcpt, digest.Data)
	}
	w, err := helpdesk.ExplainMessage(context.Background(), e.s.DB(), "bot-7@robots.example")
	if err != nil || w.Decision != "throttled" || !strings.Contains(w.Reason, "agents were told") {
		t.Fatalf("why: %+v, %v", w, err)
	}
	// An hour after the first case, the sender opens cases again.
	e.clk.Add(time.Hour)
	if r := e.ingest(msg("bot@robots.example", "Report 9", "bot-9@robots.example", "", "Automatic report.")); r.Decision != "new_case" {
		t.Fatalf("after the hour: %+v", r)
	}
}

func TestIngest_NewMailQuotingOurRecentMailIsNotAcknowledged(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		after time.Duration
		mail  func(ackID, ackSubject string) string
		acked bool
	}{
		{"quotes our subject two minutes later", 2 * time.Minute, func(id, subject string) string {
			return msg("jane@acme.example", "away from my mail", "q-2@acme.example", "", "I am away until Monday.\n\nYour message: "+subject)
		}, false},
		{"names our Message-ID", 2 * time.Minute, func(id, subject string) string {
			return msg("jane@acme.example", "Message received", "q-2@acme.example", "", "Your message <"+id+"> was received.")
		}, false},
		{"an unrelated new request", 2 * time.Minute, func(id, subject string) string {
			return msg("jane@acme.example", "Another problem", "q-2@acme.example", "", "The scanner is broken too.")
		}, true},
		{"another address quoting it", 2 * time.Minute, func(id, subject string) string {
			return msg("minsu@acme.example", "Fwd: "+subject, "q-2@acme.example", "", "Jane forwarded me this: "+subject)
		}, true},
		{"quotes it after the loop window", 20 * time.Minute, func(id, subject string) string {
			return msg("jane@acme.example", "away from my mail", "q-2@acme.example", "", "Your message: "+subject)
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			first := e.ingest(msg("Jane <jane@acme.example>", "Printer on fire", "q-1@acme.example", "", "It smells of smoke."))
			ack := outbox(t, e.s.DB(), first.CaseID)[0]
			var subject string
			if err := e.s.DB().Get(&subject, `SELECT subject FROM outbox WHERE message_id = $1`, ack.MessageID); err != nil {
				t.Fatal(err)
			}
			e.clk.Add(tt.after)
			r := e.ingest(tt.mail(ack.MessageID, subject))
			if r.Decision != "new_case" || r.CaseID == first.CaseID {
				t.Fatalf("second mail: %+v; want a new case", r)
			}
			got := outboxKinds(t, e, "WHERE case_id = $1", r.CaseID)
			if acked := got["case_received"] == 1; acked != tt.acked {
				t.Fatalf("acknowledged = %v, want %v (%v; %s)", acked, tt.acked, got, r.Reason)
			}
			if got["agent_new_case"] != 1 {
				t.Fatalf("agents not told about the case: %v", got)
			}
			if !tt.acked && !strings.Contains(r.Reason, "not acknowledged: jane@acme.example got an automated mail from us within 10m0s") {
				t.Fatalf("reason %q", r.Reason)
			}
		})
	}
}

func TestEnqueueMail_StaffBudgetLimitsAgentNotices(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	now := time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC)
	budget := helpdesk.Budget{PerRecipient: 2, PerStaff: 3, Window: time.Hour}
	send := func(i int, to string, staff bool) helpdesk.Enqueued {
		id := fmt.Sprintf("s%d@x", i)
		e, err := helpdesk.EnqueueMail(ctx, s.DB(), helpdesk.OutMail{MessageID: id, Kind: "agent_new_case", EnvelopeFrom: "support@example.com",
			Recipients: []string{to}, Data: rawMail(id, to), Now: now, Staff: staff}, nil, budget)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	for i := range 3 {
		if e := send(i, "agents@example.com", true); e.Status != "queued" {
			t.Fatalf("agent notice %d within the staff budget: %+v", i, e)
		}
	}
	if e := send(3, "agents@example.com", true); e.Status != "suppressed" || !strings.Contains(e.Reason, "staff budget") {
		t.Fatalf("4th agent notice within an hour: %+v", e)
	}
	if e := send(4, "bob@example.com", true); e.Status != "queued" {
		t.Fatalf("another agent's notice: %+v", e)
	}
}
