package helpdesk_test

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/helpdesk/helpdesk/helpdesk"
	"github.com/helpdesk/helpdesk/helpdesk/lifecycle"
	"github.com/helpdesk/helpdesk/helpdesk/pgtest"
)

// planEnv has customers on a premium plan, a basic plan and no plan, and
// support hours and targets unlike the defaults, so that what the answer
// says can only come from the policy.
func planEnv(t *testing.T) *env {
	t.Helper()
	seoul, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvWithDB(t, pgtest.New(t), func(c *helpdesk.IngestConfig) {
		p := lifecycle.DefaultPolicy()
		p.SLA.Hours.Location, p.SLA.Hours.Open, p.SLA.Hours.Close = seoul, 8*time.Hour, 17*time.Hour+30*time.Minute
		p.SLA.Hours.Days[time.Saturday] = true
		p.SLA.Targets[lifecycle.S2] = lifecycle.Target{Clock: lifecycle.BusinessTime, Within: 3 * time.Hour}
		c.Policy = p
	})
	db := e.s.DB()
	mustOrg(t, db, "Premium Co", "premium", "premium.example")
	mustOrg(t, db, "Basic Co", "basic", "basic.example")
	mustUser(t, db, "pat@premium.example", "customer", "Premium Co")
	mustUser(t, db, "bea@basic.example", "customer", "Basic Co")
	mustUser(t, db, "solo@gmail.example", "customer", "")
	return e
}

func TestIngest_PlanRequestIsAnsweredWithThePlanAndOpensNoCase(t *testing.T) {
	t.Parallel()
	e := planEnv(t)
	db := e.s.DB()
	raw, err := os.ReadFile("testdata/plan-request.eml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, rcpt, raw, requestID string
		want, not                  []string
	}{
		{"premium by #plan", "pat@premium.example", string(raw), "3f1c2a9e-6b1d-4c7e-9a52-0d1e2f3a4b5c@premium.example",
			[]string{"Premium Co has the premium support plan", "Escalation: included", "opens a case with severity S2"},
			[]string{"not part of your plan", "not included"}},
		{"basic by support+plan@", "bea@basic.example",
			mailTo("Bea <bea@basic.example>", "support+plan@example.com", "our plan", "plan-2@basic.example", "", "What do we get?"), "plan-2@basic.example",
			[]string{"Basic Co has the basic support plan", "S1  within 2 hours, around the clock (not part of your plan)",
				"Escalation: not included in your plan", "does not change the severity"},
			[]string{"Escalation: included"}},
		{"no org", "solo@gmail.example", msg("solo@gmail.example", "plan?", "plan-3@gmail.example", "", "#PLAN"), "plan-3@gmail.example",
			[]string{"You are not on a support plan", "(not part of support without a plan)", "Escalation: not included."},
			[]string{"has the"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(sentOfKind(t, db, "plan_info"))
			r := e.ingest(tc.raw)
			if r.Decision != helpdesk.DecisionSelfService || r.CaseID != 0 {
				t.Fatalf("plan request: %+v", r)
			}
			sent := sentOfKind(t, db, "plan_info")
			if len(sent) != before+1 || sent[before].Rcpt != tc.rcpt {
				t.Fatalf("plan_info mails: %+v; want one more, to %s", sent, tc.rcpt)
			}
			m := sent[before].m
			if !slices.Equal(m.InReplyTo, []string{tc.requestID}) {
				t.Fatalf("In-Reply-To %v; want the request %s", m.InReplyTo, tc.requestID)
			}
			// From the policy: Monday to Saturday, 08:00-17:30 in Seoul, S2 within 3 business hours.
			want := append([]string{"Monday, Tuesday, Wednesday, Thursday, Friday, Saturday, 08:00-17:30 (Asia/Seoul)",
				"S2  within 3 business hours", "S4  by the end of the next business day"}, tc.want...)
			for _, w := range want {
				if !strings.Contains(m.Text, w) {
					t.Errorf("the answer lacks %q:\n%s", w, m.Text)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(m.Text, n) {
					t.Errorf("the answer says %q:\n%s", n, m.Text)
				}
			}
		})
	}
	if n := count(t, db, `SELECT count(*) FROM cases`); n != 0 {
		t.Fatalf("%d cases opened by plan requests", n)
	}
}

func TestIngest_PlanRequestFromStaffOrAStrangerGetsAShortAnswer(t *testing.T) {
	t.Parallel()
	e := planEnv(t)
	db := e.s.DB()
	for _, tc := range []struct{ from, want string }{
		{"alice@example.com", "helpdeskd orgs list"},
		{"stranger@nowhere.example", "not registered with us"},
	} {
		before := len(sentOfKind(t, db, "plan_info"))
		if r := e.ingest(msg(tc.from, "plan", "p-"+tc.from, "", "#plan")); r.Decision != helpdesk.DecisionSelfService {
			t.Fatalf("%s: %+v", tc.from, r)
		}
		sent := sentOfKind(t, db, "plan_info")
		if len(sent) != before+1 || !strings.Contains(sent[before].m.Text, tc.want) || strings.Contains(sent[before].m.Text, "Support hours") {
			t.Fatalf("%s: answers %+v; want a short one mentioning %q", tc.from, sent, tc.want)
		}
	}
	if n := count(t, db, `SELECT count(*) FROM cases`); n != 0 {
		t.Fatalf("%d cases opened by plan requests", n)
	}
}

func TestIngest_PlanIsAnOrdinaryWordAfterTheFirstLine(t *testing.T) {
	t.Parallel()
	e := planEnv(t)
	r := e.ingest(msg("pat@premium.example", "Upgrade", "p-x@premium.example", "", "We want to change our plan.\n#plan"))
	if r.Decision != "new_case" || len(sentOfKind(t, e.s.DB(), "plan_info")) != 0 {
		t.Fatalf("a mail mentioning the plan later: %+v; want a case, no plan_info", r)
	}
}
