package lifecycle

import (
	"slices"
	"testing"
)

func TestMissingDiagnostics_ListsOnlyWhatTheFirstMailLacks(t *testing.T) {
	all := Diagnostics()
	tests := []struct {
		name        string
		subject     string
		text        string
		attachments int
		want        []Diagnostic
	}{
		{"a bare complaint lacks everything", "Help", "It does not work, please help.", 0, all},
		{"an attachment counts as logs or screenshots", "Help", "See the attached file.", 1,
			[]Diagnostic{DiagTimeWindow, DiagVersion, DiagError, DiagSteps, DiagImpact}},
		{"en: a complete report lacks nothing", "Export fails in v2.3.1",
			"Since yesterday 14:00 KST the export fails with:\n  java.lang.IllegalStateException: no rows\n    at com.example.Export.run(Export.java:42)\n\n" +
				"Steps to reproduce:\n1. Open reports\n2. Click export\n\nAll users of our finance team (40 users) are affected.", 2, nil},
		{"ko: a complete report lacks nothing", "내보내기 오류",
			"어제 오후 2시(한국 시간)부터 버전 2.3에서 내보내기가 안 됩니다.\n에러 메시지: 저장 실패\n재현 방법: 보고서 화면에서 내보내기를 누르면 됩니다.\n사용자 약 40명이 업무에 영향을 받고 있습니다.", 1, nil},
		{"a time without a zone is no time window", "Login fails", "Since 14:00 the login shows an error in version 5.1. All users are affected.", 1,
			[]Diagnostic{DiagTimeWindow, DiagSteps}},
		{"a zone without a time is no time window", "Login fails", "We are in KST. v1.2, error 500.\n1. open\n2. log in\nAll users.", 1,
			[]Diagnostic{DiagTimeWindow}},
		{"an ISO timestamp with Z is a time window", "Crash", "2026-11-20T05:00:00Z", 0,
			[]Diagnostic{DiagVersion, DiagSteps, DiagImpact, DiagFiles}},
		{"a UTC offset is a zone", "Slow", "Since 20 Nov 09:00 +09:00 pages are slow.", 0,
			[]Diagnostic{DiagVersion, DiagError, DiagSteps, DiagImpact, DiagFiles}},
		{"an IP address is no version", "Cannot connect", "The server 10.0.0.1 does not answer.", 0,
			[]Diagnostic{DiagTimeWindow, DiagVersion, DiagError, DiagSteps, DiagImpact, DiagFiles}},
		{"a dotted date is no version", "2026.11.20 문의", "접속이 안 됩니다.", 0, all},
		{"a Python traceback is error text", "Job dies", "Traceback (most recent call last):\n  File \"job.py\", line 3, in <module>", 0,
			[]Diagnostic{DiagTimeWindow, DiagVersion, DiagSteps, DiagImpact, DiagFiles}},
		{"a Go panic is error text", "Daemon dies", "goroutine 1 [running]:\nmain.main()", 0,
			[]Diagnostic{DiagTimeWindow, DiagVersion, DiagSteps, DiagImpact, DiagFiles}},
		{"one numbered line is no steps", "Question", "1. Where is my invoice?", 0,
			[]Diagnostic{DiagTimeWindow, DiagVersion, DiagError, DiagSteps, DiagImpact, DiagFiles}},
		{"two numbered lines are steps", "Question", "1) open the app\n2) tap login", 0,
			[]Diagnostic{DiagTimeWindow, DiagVersion, DiagError, DiagImpact, DiagFiles}},
		{"ko: numbered steps and all employees", "앱 문제", "1단계 앱 실행\n2단계 로그인\n전 직원이 사용할 수 없습니다.", 0,
			[]Diagnostic{DiagTimeWindow, DiagVersion, DiagError, DiagFiles}},
		{"users without a number is no impact", "Users", "Our users cannot log in.", 0, all},
		{"the subject counts too", "v4.0 error since 9:00 UTC", "Please look.", 0,
			[]Diagnostic{DiagSteps, DiagImpact, DiagFiles}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := MissingDiagnostics(tt.subject, tt.text, tt.attachments)
			if !slices.Equal(got, tt.want) {
				t.Errorf("missing %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseCommands_DiagnosticsAndConsentCommands(t *testing.T) {
	cmds, rest := ParseCommands("#diagnostics HAR file of the login page\n#consent read-only access to the audit log\nPlease send them.")
	want := []Command{{Name: CmdDiagnostics, Arg: "HAR file of the login page", Line: "#diagnostics HAR file of the login page"},
		{Name: CmdConsent, Arg: "read-only access to the audit log", Line: "#consent read-only access to the audit log"}}
	if !slices.Equal(cmds, want) || rest != "Please send them." {
		t.Errorf("commands %q rest %q", cmds, rest)
	}
	cmds, rest = ParseCommands("＃Approve\n#deny\n#approved is no command")
	if len(cmds) != 2 || cmds[0].Name != CmdApprove || cmds[1].Name != CmdDeny || rest != "#approved is no command" {
		t.Errorf("commands %q rest %q", cmds, rest)
	}
}

func agentCmds(text string) Event {
	cmds, rest := ParseCommands(text)
	return Event{Kind: AgentReply, Text: rest, Commands: cmds, Sender: "bob@support.example"}
}

func TestApply_AgentDiagnosticsRequestsAndWaitsOnTheRequester(t *testing.T) {
	pendingLong := caseIn(Pending)
	pendingLong.RemindersSent = 1
	tests := []struct {
		name    string
		c       Case
		ev      Event
		status  Status
		notices []string
		applied bool
		what    string
	}{
		{"open, command only: pending, the request instead of a status notice", caseIn(Open), agentCmds("#diagnostics HAR file"),
			Pending, []string{"diagnostics_request→submitter", "command_result→sender"}, true, "HAR file"},
		{"open, with a comment: the comment and the request", caseIn(Open), agentCmds("#diagnostics\nWe need more details."),
			Pending, []string{"comment_added→submitter", "diagnostics_request→submitter", "command_result→sender"}, true, ""},
		{"an explicit status wins", caseIn(Open), agentCmds("#diagnostics\n#hold"),
			OnHold, []string{"diagnostics_request→submitter", "command_result→sender"}, true, ""},
		{"solved: pending again", caseIn(Solved), agentCmds("#diagnostics logs"),
			Pending, []string{"diagnostics_request→submitter", "command_result→sender"}, true, "logs"},
		{"pending: stays pending", pendingLong, agentCmds("#diagnostics"),
			Pending, []string{"diagnostics_request→submitter", "command_result→sender"}, true, ""},
		{"#merge beats it", caseIn(Open), agentCmds("#diagnostics\n#merge 9"),
			Solved, []string{"merged→submitter", "command_result→sender"}, false, ""},
		{"closed: rejected", caseIn(Closed), agentCmds("#diagnostics"),
			Closed, []string{"command_result→sender"}, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := Apply(tt.c, tt.ev, DefaultPolicy(), now)
			checkInvariants(t, o.Case)
			if o.Case.Status != tt.status {
				t.Errorf("status %s, want %s", o.Case.Status, tt.status)
			}
			if got := notices(o.Notices); !slices.Equal(got, tt.notices) {
				t.Errorf("notices %v, want %v", got, tt.notices)
			}
			r := o.Commands[0]
			if r.Command.Name != CmdDiagnostics || r.Applied != tt.applied || r.Detail == "" {
				t.Errorf("result %+v", r)
			}
			for _, n := range o.Notices {
				if n.Kind == NoticeDiagnosticsRequest && n.Reason != tt.what {
					t.Errorf("request names %q, want %q", n.Reason, tt.what)
				}
			}
			if tt.applied && o.Case.Status == Pending && (!o.Case.PendingSince.Equal(now) || o.Case.RemindersSent != 0) {
				t.Errorf("reminders not restarted: pending since %v, %d sent", o.Case.PendingSince, o.Case.RemindersSent)
			}
		})
	}
}

func TestApply_AgentConsentAsksTheSubmitterAndIsRecorded(t *testing.T) {
	o := Apply(caseIn(Open), agentCmds("#consent read-only access to the audit log"), DefaultPolicy(), now)
	if o.Case.Status != Open || o.Case.Consent != ConsentRequested {
		t.Errorf("status %s consent %q", o.Case.Status, o.Case.Consent)
	}
	if want := []string{"consent_request→submitter", "command_result→sender"}; !slices.Equal(notices(o.Notices), want) {
		t.Errorf("notices %v, want %v", notices(o.Notices), want)
	}
	if o.Notices[0].Reason != "read-only access to the audit log" || !o.Commands[0].Applied {
		t.Errorf("notice %+v result %+v", o.Notices[0], o.Commands[0])
	}
	want := []AuditEntry{{Kind: AuditConsent, To: "requested", Reason: "read-only access to the audit log"}}
	if !slices.Equal(o.Audit, want) {
		t.Errorf("audit %+v, want %+v", o.Audit, want)
	}
	// Asking again after an answer asks anew.
	c := caseIn(Open)
	c.Consent = ConsentDenied
	if o := Apply(c, agentCmds("#consent"), DefaultPolicy(), now); o.Case.Consent != ConsentRequested || o.Audit[0].From != "denied" {
		t.Errorf("second request: consent %q audit %+v", o.Case.Consent, o.Audit)
	}
}

func TestApply_CustomerConsentAnswer(t *testing.T) {
	requested := func(st Status) Case {
		c := caseIn(st)
		c.Consent = ConsentRequested
		return c
	}
	type want struct {
		consent Consent
		status  Status
		notices []string
		code    CommandCode
	}
	tests := []struct {
		name string
		c    Case
		text string
		want want
	}{
		{"approve: recorded, agents told", requested(Open), "#approve",
			want{ConsentApproved, Open, []string{"agent_customer_replied→agents"}, ""}},
		{"deny: recorded, agents told", requested(Open), "#deny",
			want{ConsentDenied, Open, []string{"agent_customer_replied→agents"}, ""}},
		{"approve with text on a pending case: reopened, one agent notice", requested(Pending), "#approve\nGo ahead.",
			want{ConsentApproved, Open, []string{"agent_customer_replied→agents"}, ""}},
		{"no request: refused and answered", caseIn(Open), "#approve",
			want{ConsentNone, Open, []string{"customer_command_result→sender"}, CodeNoConsentRequest}},
		{"already answered: refused", func() Case { c := caseIn(Open); c.Consent = ConsentApproved; return c }(), "#deny",
			want{ConsentApproved, Open, []string{"customer_command_result→sender"}, CodeNoConsentRequest}},
		{"closed case: refused", requested(Closed), "#approve",
			want{ConsentRequested, Closed, []string{"customer_command_result→sender"}, CodeCaseClosed}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := Apply(tt.c, customerCmds(tt.text), DefaultPolicy(), now)
			if o.Case.Consent != tt.want.consent || o.Case.Status != tt.want.status {
				t.Errorf("consent %q status %s, want %q %s", o.Case.Consent, o.Case.Status, tt.want.consent, tt.want.status)
			}
			if got := notices(o.Notices); !slices.Equal(got, tt.want.notices) {
				t.Errorf("notices %v, want %v", got, tt.want.notices)
			}
			r := o.Commands[0]
			if r.Code != tt.want.code || r.Applied != (tt.want.code == "") {
				t.Errorf("result %+v, want code %q", r, tt.want.code)
			}
			answered := ConsentAnswer(o)
			if tt.want.code == "" {
				if answered != tt.want.consent {
					t.Errorf("ConsentAnswer %q", answered)
				}
				a := o.Audit[len(o.Audit)-1]
				if a.Kind != AuditConsent || a.From != "requested" || a.To != string(tt.want.consent) ||
					a.Reason != string(tt.want.consent)+" by ann@acme.example" {
					t.Errorf("audit %+v", a)
				}
			} else if answered != ConsentNone {
				t.Errorf("a refused answer recorded %q", answered)
			}
		})
	}
}

func TestApply_ConsentAndDiagnosticsBelongToTheirSide(t *testing.T) {
	c := caseIn(Open)
	c.Consent = ConsentRequested
	o := Apply(c, agentCmds("#approve"), DefaultPolicy(), now)
	if o.Commands[0].Applied || o.Case.Consent != ConsentRequested || o.Commands[0].Detail != "only customers may use #approve" {
		t.Errorf("agent's #approve: %+v, consent %q", o.Commands[0], o.Case.Consent)
	}
	for _, line := range []string{"#diagnostics", "#consent"} {
		o := Apply(caseIn(Open), customerCmds(line), DefaultPolicy(), now)
		if o.Commands[0].Applied || o.Commands[0].Code != CodeAgentsOnly || o.Case.Consent != ConsentNone || o.Case.Status != Open {
			t.Errorf("customer's %s: %+v", line, o.Commands[0])
		}
		if want := []string{"customer_command_result→sender"}; !slices.Equal(notices(o.Notices), want) {
			t.Errorf("customer's %s: notices %v", line, notices(o.Notices))
		}
	}
}
