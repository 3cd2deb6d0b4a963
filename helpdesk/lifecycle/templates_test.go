package lifecycle_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/helpdesk/helpdesk/helpdesk/lifecycle"
	"github.com/helpdesk/helpdesk/migrations"
	"github.com/helpdesk/helpdesk/templates"
)

// The package names the values of templates and of the schema without
// importing them; these tests keep them in step.

func TestRefusalsAreTheTemplatesReasons(t *testing.T) {
	pairs := []struct {
		ours   lifecycle.Refusal
		theirs templates.EscalationRefusal
	}{
		{lifecycle.RefusalPlanNotEligible, templates.EscalationPlanNotEligible},
		{lifecycle.RefusalCaseSolved, templates.EscalationCaseSolved},
		{lifecycle.RefusalCaseClosed, templates.EscalationCaseClosed},
	}
	for _, p := range pairs {
		if string(p.ours) != string(p.theirs) {
			t.Errorf("refusal %q, templates say %q", p.ours, p.theirs)
		}
	}
}

func TestNoticeKindsAreTemplateKinds(t *testing.T) {
	kinds := templates.Kinds()
	for _, k := range []string{lifecycle.NoticeCaseReceived, lifecycle.NoticeCommentAdded, lifecycle.NoticeStatusChanged, lifecycle.NoticeFollowUpOpened,
		lifecycle.NoticePendingReminder, lifecycle.NoticeAutoSolved, lifecycle.NoticeEscalationReceived,
		lifecycle.NoticeEscalationRefused, lifecycle.NoticeMerged, lifecycle.NoticeAgentNewCase,
		lifecycle.NoticeAgentCustomerReplied, lifecycle.NoticeAgentReopened, lifecycle.NoticeAgentEscalation,
		lifecycle.NoticeSLAWarning, lifecycle.NoticeSLABreach, lifecycle.NoticeCommandResult, lifecycle.NoticeHeldForReview,
		lifecycle.NoticeCustomerCommandResult} {
		if !slices.Contains(kinds, templates.Kind(k)) {
			t.Errorf("notice kind %q is no template", k)
		}
	}
	if !templates.Kind(lifecycle.NoticeCommandResult).ToAgents() || templates.Kind(lifecycle.NoticeStatusChanged).ToAgents() ||
		templates.Kind(lifecycle.NoticeCustomerCommandResult).ToAgents() {
		t.Error("audiences disagree with the templates")
	}
}

func TestCommandCodesAreTheTemplatesCodes(t *testing.T) {
	pairs := []struct {
		ours   lifecycle.CommandCode
		theirs templates.CustomerCommandCode
	}{
		{lifecycle.CodeSolved, templates.CustomerSolved}, {lifecycle.CodeAlreadySolved, templates.CustomerAlreadySolved},
		{lifecycle.CodeSeveritySet, templates.CustomerSeveritySet}, {lifecycle.CodeSeveritySame, templates.CustomerSeveritySame},
		{lifecycle.CodeAgentsOnly, templates.CustomerAgentsOnly}, {lifecycle.CodeOnePerMail, templates.CustomerOnePerMail},
		{lifecycle.CodeBadSeverity, templates.CustomerBadSeverity}, {lifecycle.CodePlanSeverity, templates.CustomerPlanSeverity},
		{lifecycle.CodeCaseClosed, templates.CustomerCaseClosed}, {lifecycle.CodeCaseSolved, templates.CustomerCaseSolved},
		{lifecycle.CodeNotSolved, templates.CustomerNotSolved}, {lifecycle.CodeBadRating, templates.CustomerBadRating},
	}
	for _, p := range pairs {
		if string(p.ours) != string(p.theirs) {
			t.Errorf("command code %q, templates say %q", p.ours, p.theirs)
		}
	}
	sources := []struct{ ours, theirs string }{
		{string(lifecycle.FromSubject), templates.SeverityFromSubject}, {string(lifecycle.FromBody), templates.SeverityFromBody},
		{string(lifecycle.FromHeader), templates.SeverityFromHeader},
	}
	for _, s := range sources {
		if s.ours != s.theirs {
			t.Errorf("severity source %q, templates say %q", s.ours, s.theirs)
		}
	}
}

// TestValuesFitTheSchema checks statuses and audit kinds against the
// cases and case_events constraints of the migrations.
func TestValuesFitTheSchema(t *testing.T) {
	all, err := migrations.All()
	if err != nil {
		t.Fatal(err)
	}
	var sql strings.Builder
	for _, m := range all {
		sql.WriteString(m.SQL)
	}
	s := sql.String()
	cases := s[strings.Index(s, "CREATE TABLE cases"):]
	for _, st := range lifecycle.Statuses() {
		if !strings.Contains(cases, "'"+string(st)+"'") {
			t.Errorf("status %q is not in the cases table", st)
		}
	}
	events := s[strings.Index(s, "CREATE TABLE case_events"):]
	p := lifecycle.DefaultPolicy()
	now := time.Date(2026, time.November, 23, 10, 0, 0, 0, time.UTC)
	open := lifecycle.NewCase(lifecycle.S3, lifecycle.PlanPremium, now, p)
	open.ID = 1
	cmds, _ := lifecycle.ParseCommands("#severity S1\n#assign me\n#merge 2\n")
	esc, _ := lifecycle.ParseCommands("#escalate now")
	rate, _ := lifecycle.ParseCommands("#rating good")
	solved := open
	solved.Status, solved.SolvedAt = lifecycle.Solved, now
	pending := open
	pending.Status, pending.PendingSince = lifecycle.Pending, now
	outcomes := []lifecycle.Outcome{
		lifecycle.Apply(open, lifecycle.Event{Kind: lifecycle.AgentReply, Commands: cmds, Sender: "a@b.example"}, p, now),
		lifecycle.Apply(open, lifecycle.Event{Kind: lifecycle.CustomerReply, Commands: esc}, p, now),
		lifecycle.Apply(open, lifecycle.Event{Kind: lifecycle.Held, Text: "x"}, p, now),
		lifecycle.Apply(solved, lifecycle.Event{Kind: lifecycle.CustomerReply, Commands: rate}, p, now),
		lifecycle.Timers(pending, p, now.Add(3*24*time.Hour)),
		lifecycle.Timers(open, p, now.Add(6*time.Hour)),
		lifecycle.Timers(open, p, now.Add(48*time.Hour)),
	}
	seen := map[string]bool{}
	for _, o := range outcomes {
		for _, a := range o.Audit {
			seen[a.Kind] = true
			if !strings.Contains(events, "'"+a.Kind+"'") {
				t.Errorf("audit kind %q is not a case_events kind", a.Kind)
			}
		}
	}
	for _, k := range []string{"status", "severity", "assignee", "merged", "escalated", "held", "survey", "reminder", "sla_warning", "sla_breach"} {
		if !seen[k] {
			t.Errorf("audit kind %q was not exercised", k)
		}
	}
}
