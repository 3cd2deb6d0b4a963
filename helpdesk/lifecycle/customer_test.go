package lifecycle

import (
	"slices"
	"testing"
	"time"
)

func customerCmds(text string) Event {
	cmds, rest := ParseCommands(text)
	return Event{Kind: CustomerReply, Text: rest, Commands: cmds, Sender: "ann@acme.example"}
}

func TestApply_CustomerSolveSolvesTheCase(t *testing.T) {
	type want struct {
		status  Status
		comment Visibility
		notices []string
		applied bool
		code    CommandCode
	}
	solvedNotices := []string{"status_changed→submitter", "agent_customer_replied→agents"}
	tests := []struct {
		name string
		st   Status
		text string
		want want
	}{
		{"#solve on open", Open, "#solve", want{Solved, NoComment, solvedNotices, true, CodeSolved}},
		{"#close on pending", Pending, "#close", want{Solved, NoComment, solvedNotices, true, CodeSolved}},
		{"#solve on hold, with thanks kept as a comment", OnHold, "#solve\n\nWorks now, thank you.", want{Solved, PublicComment, solvedNotices, true, CodeSolved}},
		{"#solve with words after it", Open, "#solve fixed by the update", want{Solved, NoComment, solvedNotices, true, CodeSolved}},
		{"#solve on solved stays solved, text does not reopen", Solved, "#solve\nstill fine", want{Solved, PublicComment, nil, true, CodeAlreadySolved}},
		{"#solve on closed is refused", Closed, "#solve", want{Closed, NoComment, []string{"customer_command_result→sender"}, false, CodeCaseClosed}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := caseIn(tt.st)
			o := Apply(c, customerCmds(tt.text), DefaultPolicy(), now)
			checkInvariants(t, o.Case)
			if o.Case.Status != tt.want.status || o.Comment != tt.want.comment || !slices.Equal(notices(o.Notices), tt.want.notices) {
				t.Errorf("status %s comment %q notices %v, want %s %q %v (%s)", o.Case.Status, o.Comment, notices(o.Notices),
					tt.want.status, tt.want.comment, tt.want.notices, o.Reason)
			}
			if r := o.Commands[0]; r.Applied != tt.want.applied || r.Code != tt.want.code {
				t.Errorf("command %+v, want applied %v code %s", r, tt.want.applied, tt.want.code)
			}
			if tt.want.code != CodeSolved {
				return
			}
			if o.Case.SolvedReason != ReasonSolvedByCustomer || !o.Case.SolvedAt.Equal(now) {
				t.Errorf("solved reason %q at %v", o.Case.SolvedReason, o.Case.SolvedAt)
			}
			if len(o.Audit) != 1 || o.Audit[0].Kind != "status" || o.Audit[0].To != "solved" || o.Audit[0].Reason[:len(ReasonSolvedByCustomer)] != ReasonSolvedByCustomer {
				t.Errorf("audit %+v", o.Audit)
			}
			if o.Notices[0].At != ReopenUntil(o.Case, DefaultPolicy()) || o.Notices[1].Reason != ReasonSolvedByCustomer {
				t.Errorf("notices %+v", o.Notices)
			}
		})
	}
}

func TestApply_CustomerSeverity(t *testing.T) {
	type want struct {
		severity Severity
		applied  bool
		code     CommandCode
		value    string
		notices  []string
	}
	agentsTold := []string{"agent_customer_replied→agents"}
	refused := []string{"customer_command_result→sender"}
	tests := []struct {
		name string
		plan string
		from Severity
		st   Status
		text string
		want want
	}{
		{"downgrade on basic", PlanBasic, S2, Open, "#severity S4", want{S4, true, CodeSeveritySet, "S4", agentsTold}},
		{"upgrade to S2 on basic", PlanBasic, S3, Pending, "#severity S2", want{S2, true, CodeSeveritySet, "S2", agentsTold}},
		{"upgrade to S1 on premium", PlanPremium, S3, Open, "#severity s1", want{S1, true, CodeSeveritySet, "S1", agentsTold}},
		{"upgrade to S1 on advanced", PlanAdvanced, S2, Open, "#severity S1", want{S1, true, CodeSeveritySet, "S1", agentsTold}},
		{"upgrade to S1 on basic is refused", PlanBasic, S3, Open, "#severity S1", want{S3, false, CodePlanSeverity, "basic", refused}},
		{"upgrade to S1 without an org is refused", "", S3, Open, "#severity S1", want{S3, false, CodePlanSeverity, "none", refused}},
		{"S1 to S2 on basic is a downgrade", PlanBasic, S1, Open, "#severity S2", want{S2, true, CodeSeveritySet, "S2", agentsTold}},
		{"unknown severity", PlanPremium, S3, Open, "#severity high", want{S3, false, CodeBadSeverity, "high", refused}},
		{"same severity", PlanPremium, S3, Open, "#severity S3", want{S3, true, CodeSeveritySame, "S3", nil}},
		{"on a solved case", PlanPremium, S3, Solved, "#severity S4", want{S3, false, CodeCaseSolved, "", refused}},
		{"on a closed case", PlanPremium, S3, Closed, "#severity S4", want{S3, false, CodeCaseClosed, "", refused}},
		{"with text, one agent notice", PlanBasic, S3, Pending, "#severity S2\nIt got worse.", want{S2, true, CodeSeveritySet, "S2", agentsTold}},
		{"a reply that reopens may change it", PlanBasic, S3, Solved, "#severity S2\nBroken again.", want{S2, true, CodeSeveritySet, "S2",
			[]string{"status_changed→submitter", "agent_reopened→agents"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := caseIn(tt.st)
			c.Plan, c.Severity = tt.plan, tt.from
			o := Apply(c, customerCmds(tt.text), DefaultPolicy(), now)
			checkInvariants(t, o.Case)
			r := o.Commands[0]
			if o.Case.Severity != tt.want.severity || r.Applied != tt.want.applied || r.Code != tt.want.code || r.Value != tt.want.value {
				t.Errorf("severity %s, command %+v; want %s applied %v code %s value %q", o.Case.Severity, r, tt.want.severity, tt.want.applied, tt.want.code, tt.want.value)
			}
			if !slices.Equal(notices(o.Notices), tt.want.notices) {
				t.Errorf("notices %v, want %v", notices(o.Notices), tt.want.notices)
			}
			changed := tt.want.severity != tt.from
			var sevAudit []AuditEntry
			for _, a := range o.Audit {
				if a.Kind == "severity" {
					sevAudit = append(sevAudit, a)
				}
			}
			if changed != (len(sevAudit) == 1) || changed && (sevAudit[0].From != string(tt.from) || sevAudit[0].To != string(tt.want.severity)) {
				t.Errorf("severity audit %+v", sevAudit)
			}
		})
	}
}

func TestApply_CustomerSeverityMovesTheDueTimeUntilTheFirstResponse(t *testing.T) {
	p := DefaultPolicy()
	c := NewCase(S3, PlanBasic, now.Add(-time.Hour), p)
	c.ID = 9
	o := Apply(c, customerCmds("#severity S2"), p, now)
	if want := FirstResponseDue(S2, c.CreatedAt, p.SLA); !o.Case.FirstResponseDue.Equal(want) {
		t.Errorf("due %v, want %v", o.Case.FirstResponseDue, want)
	}
}

func TestApply_CustomerAgentsCommandsAreRefusedAndAnswered(t *testing.T) {
	o := Apply(caseIn(Open), customerCmds("#assign me\n#severity S2\n#severity S4\nplease hurry"), DefaultPolicy(), now)
	codes := []CommandCode{}
	for _, r := range o.Commands {
		codes = append(codes, r.Code)
	}
	if want := []CommandCode{CodeAgentsOnly, CodeSeveritySet, CodeOnePerMail}; !slices.Equal(codes, want) {
		t.Errorf("codes %v, want %v", codes, want)
	}
	if o.Assign != "" || o.Case.Severity != S2 {
		t.Errorf("assign %q severity %s", o.Assign, o.Case.Severity)
	}
	if want := []string{"agent_customer_replied→agents", "customer_command_result→sender"}; !slices.Equal(notices(o.Notices), want) {
		t.Errorf("notices %v, want %v", notices(o.Notices), want)
	}
}

// A refused escalation has its own answer; it is not answered twice.
func TestApply_CustomerRefusedEscalationIsAnsweredOnce(t *testing.T) {
	c := caseIn(Open)
	c.Plan = PlanBasic
	o := Apply(c, customerCmds("#escalate please"), DefaultPolicy(), now)
	if want := []string{"escalation_refused→submitter"}; !slices.Equal(notices(o.Notices), want) {
		t.Errorf("notices %v, want %v", notices(o.Notices), want)
	}
}

func TestApply_AgentsCloseIsSolve(t *testing.T) {
	o := Apply(caseIn(Open), Event{Kind: AgentReply, Commands: []Command{cmd("#close")}, Sender: "bob@support.example"}, DefaultPolicy(), now)
	if o.Case.Status != Solved || !o.Commands[0].Applied {
		t.Errorf("status %s command %+v", o.Case.Status, o.Commands[0])
	}
}

func TestApply_CustomerSolveWithARatingIsNoRefusal(t *testing.T) {
	o := Apply(caseIn(Solved), customerCmds("#rating good\n#solve"), DefaultPolicy(), now)
	if o.Case.Status != Solved || !o.Commands[0].Applied || !o.Commands[1].Applied || o.Commands[1].Code != CodeAlreadySolved {
		t.Errorf("status %s commands %+v", o.Case.Status, o.Commands)
	}
	if len(o.Notices) != 0 {
		t.Errorf("notices %v", notices(o.Notices))
	}
}
