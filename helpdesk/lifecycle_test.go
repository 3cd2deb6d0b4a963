package helpdesk_test

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/helpdesk/helpdesk/helpdesk"
	"github.com/helpdesk/helpdesk/mail"
)

func (e *env) caseState(id int64) *helpdesk.Case {
	e.t.Helper()
	c, err := helpdesk.GetCase(context.Background(), e.s.DB(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// tick runs the timers at the env's clock.
func (e *env) tick() int {
	e.t.Helper()
	n, err := e.lc.Pass(context.Background(), e.clk.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

func kinds(t testing.TB, e *env, caseID int64) []string {
	var ks []string
	for _, o := range outbox(t, e.s.DB(), caseID) {
		ks = append(ks, o.Kind+">"+o.Rcpt)
	}
	return ks
}

func lastOut(t testing.TB, e *env, caseID int64) outRow {
	out := outbox(t, e.s.DB(), caseID)
	return out[len(out)-1]
}

func TestLifecycle_FullConversationReopenAndFollowUp(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	first := e.ingest(msg("Minsu <minsu@acme.example>", "VPN", "lc-1@acme.example", "", "VPN is down."))
	id := first.CaseID
	notice := outbox(t, e.s.DB(), id)[1].MessageID
	ack := outbox(t, e.s.DB(), id)[0].MessageID

	// Agent answers the agent notice: relayed, first response, pending.
	e.clk.Add(time.Hour)
	e.ingest(msg("Alice <alice@example.com>", "Re: VPN", "lc-2@example.com", notice, "Please restart the client."))
	if c := e.caseState(id); c.Status != "pending" || c.FirstResponseAt == nil {
		t.Fatalf("after the agent reply: status %s, first response %v", c.Status, c.FirstResponseAt)
	}
	if o := lastOut(t, e, id); o.Kind != "comment_added" || o.Rcpt != "minsu@acme.example" {
		t.Fatalf("agent reply relayed as %s to %s", o.Kind, o.Rcpt)
	}

	// Customer answers: open again, agents told.
	e.clk.Add(time.Hour)
	e.ingest(msg("minsu@acme.example", "Re: VPN", "lc-3@acme.example", ack, "Still down."))
	if c := e.caseState(id); c.Status != "open" {
		t.Fatalf("after the customer reply: %s", c.Status)
	}

	// Agent solves with a command; the command does not leak, the customer gets the comment and the solved notice.
	e.clk.Add(time.Hour)
	e.ingest(msg("Alice <alice@example.com>", "Re: VPN", "lc-4@example.com", notice, "#solve\nFixed on our side."))
	c := e.caseState(id)
	if c.Status != "solved" {
		t.Fatalf("after #solve: %s", c.Status)
	}
	d, _ := helpdesk.GetCaseDetail(ctx, e.s.DB(), id)
	for _, cm := range d.Comments {
		if strings.Contains(cm.Body, "#solve") {
			t.Fatalf("a command leaked into a comment: %q", cm.Body)
		}
	}
	if ks := strings.Join(kinds(t, e, id), " "); !strings.Contains(ks, "command_result>alice@example.com") {
		t.Errorf("notifications %s lack the agent's command result", ks)
	}
	solvedMail := lastOutOfKindRow(t, e, id, "comment_added")
	if text := bodyText(t, solvedMail.Data); !strings.Contains(text, "Fixed on our side.") || !strings.Contains(text, "해결") {
		t.Errorf("the solving comment to the customer does not carry the comment and the solved status:\n%s", text)
	}

	// A reply on day 10 reopens, with a reopened notice.
	e.clk.Add(10 * 24 * time.Hour)
	e.ingest(msg("minsu@acme.example", "Re: VPN", "lc-5@acme.example", ack, "It broke again."))
	if c := e.caseState(id); c.Status != "open" {
		t.Fatalf("reply on day 10: %s", c.Status)
	}
	if ks := strings.Join(kinds(t, e, id), " "); !strings.Contains(ks, "agent_reopened>agents@example.com") {
		t.Fatalf("no reopened notice to agents: %s", ks)
	}

	// Solved again; a reply on day 40 opens a follow-up case naming both numbers.
	e.ingest(msg("Alice <alice@example.com>", "Re: VPN", "lc-6@example.com", notice, "#solve\nFixed for good."))
	e.clk.Add(40 * 24 * time.Hour)
	r := e.ingest(msg("minsu@acme.example", "Re: VPN", "lc-7@acme.example", ack, "It is back."))
	if r.Decision != "follow_up" || r.CaseID == id {
		t.Fatalf("reply on day 40: %+v", r)
	}
	if c := e.caseState(id); c.Status != "closed" {
		t.Fatalf("old case after the window: %s", c.Status)
	}
	nc := e.caseState(r.CaseID)
	if nc.FollowUpOf == nil || *nc.FollowUpOf != id || nc.Status != "open" || nc.Submitter != "minsu@acme.example" {
		t.Fatalf("follow-up case = %+v", nc)
	}
	fo := outbox(t, e.s.DB(), r.CaseID)
	if len(fo) == 0 || fo[0].Kind != "follow_up_opened" {
		t.Fatalf("no follow-up notice: %v", kinds(t, e, r.CaseID))
	}
	if text := bodyText(t, fo[0].Data); !strings.Contains(text, "#"+strconv.FormatInt(id, 10)) || !strings.Contains(text, "#"+strconv.FormatInt(r.CaseID, 10)) {
		t.Fatalf("the follow-up notice does not name both numbers:\n%s", text)
	}
}

func TestLifecycle_SilenceGivesTwoRemindersThenAutoSolve(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.ingest(msg("Minsu <minsu@acme.example>", "VPN", "rm-1@acme.example", "", "VPN is down.")).CaseID
	notice := outbox(t, e.s.DB(), id)[1].MessageID
	e.ingest(msg("Alice <alice@example.com>", "Re: VPN", "rm-2@example.com", notice, "Can you send the logs?"))
	count := func(kind string) int {
		return count(t, e.s.DB(), `SELECT count(*) FROM outbox WHERE case_id = $1 AND kind = $2`, id, kind)
	}
	for _, step := range []struct {
		days           int
		reminders      int
		status         string
		autoSolvedSent int
	}{
		{2, 0, "pending", 0},
		{3, 1, "pending", 0},
		{5, 1, "pending", 0},
		{6, 2, "pending", 0},
		{7, 2, "solved", 1},
		{8, 2, "solved", 1},
	} {
		e.clk.now = time.Date(2026, 11, 20, 6, 0, 0, 0, time.UTC).Add(time.Duration(step.days)*24*time.Hour + time.Minute)
		e.tick()
		e.tick() // a second pass at the same time changes nothing
		if got := count("pending_reminder"); got != step.reminders {
			t.Fatalf("day %d: %d reminders, want %d", step.days, got, step.reminders)
		}
		if c := e.caseState(id); c.Status != step.status {
			t.Fatalf("day %d: status %s, want %s", step.days, c.Status, step.status)
		}
		if got := count("auto_solved"); got != step.autoSolvedSent {
			t.Fatalf("day %d: %d auto-solved notices", step.days, got)
		}
	}
	if c := e.caseState(id); c.SolvedReason != "no response" {
		t.Fatalf("solved reason %q", c.SolvedReason)
	}
	// After the reopen window the case closes.
	e.clk.Add(31 * 24 * time.Hour)
	e.tick()
	if c := e.caseState(id); c.Status != "closed" {
		t.Fatalf("after the window: %s", c.Status)
	}
}

func TestLifecycle_MergeMovesLaterMailToTheTarget(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.ingest(msg("Minsu <minsu@acme.example>", "VPN", "mg-1@acme.example", "", "VPN is down.")).CaseID
	b := e.ingest(msg("Minsu <minsu@acme.example>", "VPN again", "mg-2@acme.example", "", "Still no VPN.")).CaseID
	notice := outbox(t, e.s.DB(), b)[1].MessageID
	ackB := outbox(t, e.s.DB(), b)[0].MessageID
	e.ingest(msg("Alice <alice@example.com>", "Re: VPN again", "mg-3@example.com", notice, "#merge "+strconv.FormatInt(a, 10)+"\nSame problem as the first one."))
	src := e.caseState(b)
	if src.Status != "solved" || src.MergedInto == nil || *src.MergedInto != a {
		t.Fatalf("source after #merge: %+v", src)
	}
	if o := outbox(t, e.s.DB(), b); !strings.Contains(strings.Join(kinds(t, e, b), " "), "merged>minsu@acme.example") {
		t.Fatalf("the submitter is not told about the merge: %v", len(o))
	}
	r := e.ingest(msg("minsu@acme.example", "Re: VPN again", "mg-4@acme.example", ackB, "Any news?"))
	if r.CaseID != a {
		t.Fatalf("mail to the merged case landed on #%d, want #%d", r.CaseID, a)
	}
	bad := e.ingest(msg("Alice <alice@example.com>", "Re: VPN", "mg-5@example.com", outbox(t, e.s.DB(), a)[1].MessageID, "#merge 999999\nx"))
	if st := e.caseState(a); bad.CaseID != a || st.MergedInto != nil || st.Status == "solved" {
		t.Fatalf("merge into a missing case was applied: %+v", st)
	}
	if ks := strings.Join(kinds(t, e, a), " "); !strings.Contains(ks, "command_result>alice@example.com") {
		t.Fatalf("the agent is not told the merge was rejected: %s", ks)
	}
}

func TestLifecycle_EscalationAllowedAndRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mustOrg(t, e.s.DB(), "Basic Co", "basic", "basic.example")
	premium := e.ingest(msg("Minsu <minsu@acme.example>", "Outage", "es-1@acme.example", "", "All down."))
	ack := outbox(t, e.s.DB(), premium.CaseID)[0].MessageID
	comments := count(t, e.s.DB(), `SELECT count(*) FROM comments WHERE case_id = $1`, premium.CaseID)
	if r := e.ingest(msg("minsu@acme.example", "Re: Outage", "es-2@acme.example", ack, "#escalate production is down for 200 users")); r.Decision != "stored" {
		t.Errorf("a mail of commands only: decision %q, want stored (no comment)", r.Decision)
	}
	if n := count(t, e.s.DB(), `SELECT count(*) FROM comments WHERE case_id = $1`, premium.CaseID); n != comments {
		t.Errorf("a mail of commands only added %d comments", n-comments)
	}
	ks := strings.Join(kinds(t, e, premium.CaseID), " ")
	for _, want := range []string{"escalation_received>minsu@acme.example", "agent_escalation>boss@example.com"} {
		if !strings.Contains(ks, want) {
			t.Errorf("premium escalation: notifications %s lack %s", ks, want)
		}
	}
	if n := count(t, e.s.DB(), `SELECT count(*) FROM case_events WHERE case_id = $1 AND kind = 'escalated'`, premium.CaseID); n != 1 {
		t.Errorf("%d escalation events", n)
	}

	basic := e.ingest(msg("Bo <bo@basic.example>", "Slow", "es-3@basic.example", "", "It is slow."))
	ack = outbox(t, e.s.DB(), basic.CaseID)[0].MessageID
	e.ingest(msg("bo@basic.example", "Re: Slow", "es-4@basic.example", ack, "#escalate I want a manager"))
	refusal := lastOut(t, e, basic.CaseID)
	if refusal.Kind != "escalation_refused" || refusal.Rcpt != "bo@basic.example" {
		t.Fatalf("basic plan escalation: last notice %s to %s", refusal.Kind, refusal.Rcpt)
	}
	if n := count(t, e.s.DB(), `SELECT count(*) FROM outbox WHERE kind = 'agent_escalation' AND case_id = $1`, basic.CaseID); n != 0 {
		t.Fatal("the duty manager was told about a refused escalation")
	}
}

func TestLifecycle_OutOfOfficeOnASolvedCaseLeavesItSolved(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.ingest(msg("Minsu <minsu@acme.example>", "printer", "oo-1@acme.example", "", "Broken.")).CaseID
	notice := outbox(t, e.s.DB(), id)[1].MessageID
	e.ingest(msg("Alice <alice@example.com>", "Re: printer", "oo-2@example.com", notice, "#solve\nReplaced the toner."))
	relay := lastOutOfKind(t, e, id, "comment_added")
	before := count(t, e.s.DB(), `SELECT count(*) FROM outbox`)
	e.ingest(msg("Minsu <minsu@acme.example>", "자동 회신: Re: printer", "oo-3@acme.example", relay, "부재중입니다.", "Auto-Submitted: auto-replied"))
	if c := e.caseState(id); c.Status != "solved" {
		t.Fatalf("out-of-office reopened the case: %s", c.Status)
	}
	if n := count(t, e.s.DB(), `SELECT count(*) FROM outbox`); n != before {
		t.Fatalf("out-of-office caused %d notifications", n-before)
	}
	// A plain thank-you keeps it solved too.
	e.ingest(msg("minsu@acme.example", "Re: printer", "oo-4@acme.example", relay, "감사합니다!"))
	if c := e.caseState(id); c.Status != "solved" {
		t.Fatalf("a thank-you reopened the case: %s", c.Status)
	}
}

func TestLifecycle_InternalNoteIsNeverSentToTheCustomer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.ingest(msg("Minsu <minsu@acme.example>", "VPN", "in-1@acme.example", "", "VPN is down.")).CaseID
	notice := outbox(t, e.s.DB(), id)[1].MessageID
	e.ingest(msg("Alice <alice@example.com>", "Re: VPN", "in-2@example.com", notice, "#internal\n#severity S1\nCustomer is on the old client; escalate to network team."))
	for _, o := range outbox(t, e.s.DB(), id) {
		if o.Rcpt == "minsu@acme.example" && strings.Contains(string(o.Data), "network team") {
			t.Fatalf("the internal note reached the customer in %s", o.Kind)
		}
	}
	d, _ := helpdesk.GetCaseDetail(context.Background(), e.s.DB(), id)
	last := d.Comments[len(d.Comments)-1]
	if last.Public || !strings.Contains(last.Body, "network team") || strings.Contains(last.Body, "#internal") {
		t.Fatalf("internal note stored as %+v", last)
	}
	if c := e.caseState(id); c.Severity != "S1" || c.Status != "open" {
		t.Fatalf("after #internal #severity S1: %s %s", c.Severity, c.Status)
	}
}

// bodyText decodes a queued mail's text part.
func bodyText(t testing.TB, data []byte) string {
	t.Helper()
	m, err := mail.Parse(bytes.NewReader(data), mail.ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return m.Subject + "\n" + m.Text
}

func lastOutOfKindRow(t testing.TB, e *env, caseID int64, kind string) outRow {
	var last outRow
	for _, o := range outbox(t, e.s.DB(), caseID) {
		if o.Kind == kind {
			last = o
		}
	}
	if last.Kind == "" {
		t.Fatalf("no %s notice on case %d", kind, caseID)
	}
	return last
}

func lastOutOfKind(t testing.TB, e *env, caseID int64, kind string) string {
	id := ""
	for _, o := range outbox(t, e.s.DB(), caseID) {
		if o.Kind == kind {
			id = o.MessageID
		}
	}
	if id == "" {
		t.Fatalf("no %s notice on case %d", kind, caseID)
	}
	return id
}

func TestLifecycle_RawMailIsPurgedAfterItsRetention(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.ingest(msg("Minsu <minsu@acme.example>", "VPN", "pr-1@acme.example", "", "VPN is down."))
	e.tick()
	if n := count(t, e.s.DB(), `SELECT count(*) FROM raw_chunks`); n == 0 {
		t.Fatal("raw mail purged before its retention")
	}
	e.clk.Add(91 * 24 * time.Hour)
	e.tick()
	if n := count(t, e.s.DB(), `SELECT count(*) FROM raw_chunks`); n != 0 {
		t.Fatalf("%d raw chunks left after the retention", n)
	}
	if n := count(t, e.s.DB(), `SELECT count(*) FROM messages WHERE message_id = 'pr-1@acme.example' AND raw_id IS NULL AND decision = 'new_case'`); n != 1 {
		t.Fatal("the message's record went with its raw mail")
	}
}
