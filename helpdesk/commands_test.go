package helpdesk_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/helpdesk/helpdesk/helpdesk"
)

// withBasicCustomers adds the org "Basic" (plan basic) with Ann (en) and
// Minji (ko).
func withBasicCustomers(t *testing.T, e *env) {
	t.Helper()
	ctx := context.Background()
	mustOrg(t, e.s.DB(), "Basic", "basic", "basic.example")
	for _, u := range []helpdesk.NewUser{
		{Email: "ann@basic.example", Name: "Ann Lee", Role: "customer", Org: "Basic", Locale: "en"},
		{Email: "minji@basic.example", Name: "김민지", Role: "customer", Org: "Basic", Locale: "ko"},
	} {
		if _, err := helpdesk.CreateUser(ctx, e.s.DB(), u); err != nil {
			t.Fatal(err)
		}
	}
}

func readEML(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The customer chooses the severity when opening: a first-lines
// "Severity: S2" (or Korean "심각도: S2"), a subject tag (S1 only on a plan
// with it), a priority header; the acknowledgement says which, what the
// levels mean, the target and how to change it, in the customer's language.
func TestIngest_SeverityChosenByTheCustomerAndExplainedInTheAcknowledgement(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		raw      func(t *testing.T) string
		severity string
		ack      []string
	}{
		{"body line, en", func(t *testing.T) string { return readEML(t, "severity-body-line.eml") }, "S2", []string{
			`severity S2, as you asked: "Severity: S2"`, "(S2: within 4 business hours)",
			"S1  Critical:", "S4  Low:", "First response within 2 hours, around the clock. Not part of your basic plan.",
			`reply with "#severity S2"`, "#solve", "#close"}},
		{"Korean body line, ko", func(t *testing.T) string { return readEML(t, "severity-korean-line.eml") }, "S2", []string{
			"심각도는 S2입니다", `본문의 "심각도: S2"에 따라`, "(S2: 업무 시간 기준 4시간 이내)", "S1  긴급:", "#severity S2", "#solve"}},
		{"S1 subject tag on a basic plan is lowered", func(t *testing.T) string { return readEML(t, "severity-s1-subject-basic.eml") }, "S2", []string{
			`You asked for S1 ("[S1]"), which your basic plan does not include`}},
		{"priority header on a premium plan", func(t *testing.T) string {
			return msg("minsu@acme.example", "VPN down", "sev-h@acme.example", "", "Nobody can connect.", "X-Priority: 1 (Highest)")
		}, "S2", []string{`메일의 높은 중요도 표시("X-Priority: 1 (Highest)")`, "#escalate"}},
		{"Priority line on a premium plan", func(t *testing.T) string {
			return msg("minsu@acme.example", "Export", "sev-p@acme.example", "", "Hi,\nPriority: urgent\n\nThe export fails.")
		}, "S1", []string{`본문의 "Priority: urgent"에 따라`, "24시간 언제든 2시간 이내"}},
		{"nothing named: the default", func(t *testing.T) string {
			return msg("Ann Lee <ann@basic.example>", "Invoice", "sev-d@basic.example", "", "Where is my invoice?")
		}, "S3", []string{"severity S3, our default when a mail names none", "(S3: within 8 business hours)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			withBasicCustomers(t, e)
			r := e.ingest(tt.raw(t))
			if r.Decision != helpdesk.DecisionNewCase {
				t.Fatalf("decision %+v", r)
			}
			if c := e.caseState(r.CaseID); c.Severity != tt.severity {
				t.Errorf("severity %s, want %s", c.Severity, tt.severity)
			}
			ack := bodyText(t, lastOutOfKindRow(t, e, r.CaseID, "case_received").Data)
			for _, w := range tt.ack {
				if !strings.Contains(ack, w) {
					t.Errorf("acknowledgement lacks %q:\n%s", w, ack)
				}
			}
		})
	}
}

// openAndAck opens a case for from and returns it with the Message-IDs of
// the acknowledgement and of the agents' notice.
func openAndAck(t *testing.T, e *env, from, id string) (caseID int64, ack, notice string) {
	t.Helper()
	r := e.ingest(msg(from, "Login fails", id, "", "I cannot log in since this morning."))
	out := outbox(t, e.s.DB(), r.CaseID)
	if len(out) < 2 || out[0].Kind != "case_received" || out[1].Kind != "agent_new_case" {
		t.Fatalf("new case notices: %v", kinds(t, e, r.CaseID))
	}
	return r.CaseID, out[0].MessageID, out[1].MessageID
}

func TestIngest_CustomerSolveSolvesTheCase(t *testing.T) {
	t.Parallel()
	for _, word := range []string{"#solve", "#close"} {
		t.Run(word, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			id, ack, _ := openAndAck(t, e, "minsu@acme.example", "cs-1@acme.example")
			e.ingest(msg("minsu@acme.example", "Re: Login fails", "cs-2@acme.example", ack, word+"\n\nIt works again, thank you."))
			c := e.caseState(id)
			if c.Status != "solved" || c.SolvedReason != "solved by customer" {
				t.Fatalf("status %s, reason %q", c.Status, c.SolvedReason)
			}
			d, err := helpdesk.GetCaseDetail(context.Background(), e.s.DB(), id)
			if err != nil {
				t.Fatal(err)
			}
			last := d.Comments[len(d.Comments)-1]
			if !last.Public || strings.Contains(last.Body, word) || !strings.Contains(last.Body, "It works again") {
				t.Errorf("the customer's comment: %+v", last)
			}
			var ev *helpdesk.Event
			for i := range d.Events {
				if d.Events[i].Kind == "status" && d.Events[i].To == "solved" {
					ev = &d.Events[i]
				}
			}
			if ev == nil || ev.Reason != "solved by customer" || ev.Actor == nil || *ev.Actor != "minsu@acme.example" {
				t.Errorf("solved event %+v", ev)
			}
			agents := lastOutOfKindRow(t, e, id, "agent_customer_replied")
			if text := bodyText(t, agents.Data); agents.Rcpt != "agents@example.com" || !strings.Contains(text, "Solved by customer") ||
				!strings.Contains(text, "It works again") {
				t.Errorf("agents' notice to %s:\n%s", agents.Rcpt, text)
			}
			if o := lastOutOfKindRow(t, e, id, "status_changed"); o.Rcpt != "minsu@acme.example" {
				t.Errorf("solved notice to %s", o.Rcpt)
			}
		})
	}
}

func TestIngest_CustomerSeverityDowngradeIsAppliedAndAgentsTold(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id, ack, _ := openAndAck(t, e, "minsu@acme.example", "sd-1@acme.example")
	e.ingest(msg("minsu@acme.example", "Re: Login fails", "sd-2@acme.example", ack, "#severity S4"))
	if c := e.caseState(id); c.Severity != "S4" || c.Status != "open" {
		t.Fatalf("severity %s status %s", c.Severity, c.Status)
	}
	d, _ := helpdesk.GetCaseDetail(context.Background(), e.s.DB(), id)
	found := false
	for _, ev := range d.Events {
		if ev.Kind == "severity" && ev.From == "S3" && ev.To == "S4" && ev.Actor != nil && *ev.Actor == "minsu@acme.example" {
			found = true
		}
	}
	if !found {
		t.Errorf("no severity event by the customer: %+v", d.Events)
	}
	if len(d.Comments) != 1 {
		t.Errorf("a command-only mail added a comment: %+v", d.Comments)
	}
	text := bodyText(t, lastOutOfKindRow(t, e, id, "agent_customer_replied").Data)
	if !strings.Contains(text, "Severity changed by customer: S3 → S4") {
		t.Errorf("agents' notice:\n%s", text)
	}
	for _, o := range outbox(t, e.s.DB(), id) {
		if o.Kind == "customer_command_result" {
			t.Errorf("an applied command was answered as refused")
		}
	}
}

func TestIngest_CustomerRefusedUpgradeGetsAReplySayingWhy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	withBasicCustomers(t, e)
	id, ack, _ := openAndAck(t, e, "Ann Lee <ann@basic.example>", "su-1@basic.example")
	e.ingest(msg("Ann Lee <ann@basic.example>", "Re: Login fails", "su-2@basic.example", ack, "#severity S1\nNobody can work."))
	if c := e.caseState(id); c.Severity != "S3" {
		t.Fatalf("severity %s, want S3 kept", c.Severity)
	}
	o := lastOutOfKindRow(t, e, id, "customer_command_result")
	text := bodyText(t, o.Data)
	if o.Rcpt != "ann@basic.example" || !strings.Contains(text, "#severity S1") || !strings.Contains(text, "S1 is not part of your basic support plan") {
		t.Errorf("refusal to %s:\n%s", o.Rcpt, text)
	}
	if strings.Contains(text, "#internal") || strings.Contains(text, "#assign") {
		t.Errorf("the customer's refusal explains agents' commands:\n%s", text)
	}
	// The text still reached the agents as a reply.
	if a := bodyText(t, lastOutOfKindRow(t, e, id, "agent_customer_replied").Data); !strings.Contains(a, "Nobody can work.") {
		t.Errorf("agents' notice:\n%s", a)
	}
}

func TestIngest_CustomerAgentsCommandIsRefusedInKorean(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id, ack, _ := openAndAck(t, e, "minsu@acme.example", "ka-1@acme.example")
	e.ingest(msg("minsu@acme.example", "Re: Login fails", "ka-2@acme.example", ack, "#hold"))
	if c := e.caseState(id); c.Status != "open" {
		t.Fatalf("status %s", c.Status)
	}
	text := bodyText(t, lastOutOfKindRow(t, e, id, "customer_command_result").Data)
	if !strings.Contains(text, "#hold") || !strings.Contains(text, "지원팀만 사용할 수 있습니다") {
		t.Errorf("refusal:\n%s", text)
	}
}

func TestIngest_InternalNoteIsStoredInternalNotHeld(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id, _, notice := openAndAck(t, e, "minsu@acme.example", "in-1@acme.example")
	e.ingest(msg("Alice <alice@example.com>", "Re: Login fails", "in-2@example.com", notice, "#internal\nTheir SSO certificate expired."))
	ctx := context.Background()
	d, err := helpdesk.GetCaseDetail(ctx, e.s.DB(), id)
	if err != nil {
		t.Fatal(err)
	}
	note := d.Comments[len(d.Comments)-1]
	if !note.Internal || note.Held || note.Public || !strings.Contains(note.Body, "SSO certificate") {
		t.Errorf("note %+v, want internal, not held, not public", note)
	}
	w, err := helpdesk.ExplainMessage(ctx, e.s.DB(), "in-2@example.com")
	if err != nil || w.Comment == nil || *w.Comment != "internal note" {
		t.Errorf("why: %v %+v", err, w)
	}
	if n := count(t, e.s.DB(), `SELECT count(*) FROM comments WHERE case_id = $1 AND held`, id); n != 0 {
		t.Errorf("%d held comments", n)
	}
}
