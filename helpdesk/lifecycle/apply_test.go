package lifecycle

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

const day = 24 * time.Hour

// now is a Monday.
var now = time.Date(2026, time.November, 23, 10, 0, 0, 0, time.UTC)

// caseIn returns a consistent case of status st as it stands at now: solved
// 10 days ago, closed after a solve 40 days ago, pending for a day.
func caseIn(st Status) Case {
	c := Case{ID: 7, Status: st, Severity: S3, Plan: PlanPremium, CreatedAt: now.Add(-20 * day),
		FirstResponseAt: now.Add(-19 * day), FirstResponseDue: now.Add(-19 * day)}
	switch st {
	case Pending:
		c.PendingSince = now.Add(-day)
	case Solved:
		c.SolvedAt = now.Add(-10 * day)
	case Closed:
		c.SolvedAt, c.ClosedAt = now.Add(-40*day), now.Add(-10*day)
	}
	return c
}

func notices(ns []Notice) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.Kind+"→"+string(n.To))
	}
	return out
}

// checkInvariants asserts the cases table's CHECK constraints.
func checkInvariants(t *testing.T, c Case) {
	t.Helper()
	if (c.Status == Solved || c.Status == Closed) && c.SolvedAt.IsZero() {
		t.Errorf("%s case without SolvedAt", c.Status)
	}
	if (c.Status == Closed) != !c.ClosedAt.IsZero() {
		t.Errorf("status %s with ClosedAt %v", c.Status, c.ClosedAt)
	}
	if c.Status == Pending && c.PendingSince.IsZero() {
		t.Errorf("pending case without PendingSince")
	}
	if c.RemindersSent < 0 {
		t.Errorf("RemindersSent %d", c.RemindersSent)
	}
}

var (
	customerText   = Event{Kind: CustomerReply, Text: "It still fails with error 42.", Sender: "ann@acme.example"}
	customerThanks = Event{Kind: CustomerReply, Text: "Thanks!", Sender: "ann@acme.example"}
	agentPublic    = Event{Kind: AgentReply, Text: "Please try the new build.", Sender: "bob@support.example"}
	agentNote      = Event{Kind: AgentNote, Text: "Asked engineering.", Sender: "bob@support.example"}
	automated      = Event{Kind: Automated, Text: "I am out of the office."}
	bounce         = Event{Kind: Bounce, Text: "Delivery failed."}
	held           = Event{Kind: Held, Text: "Me too!", Sender: "eve@other.example"}
)

// TestApply_TransitionTable is DESIGN.md section 5 for every status and every
// kind of event.
func TestApply_TransitionTable(t *testing.T) {
	type row struct {
		from     Status
		ev       Event
		want     Status
		comment  Visibility
		followUp bool
		notices  []string
	}
	agentsReplied := []string{"agent_customer_replied→agents"}
	relay := []string{"comment_added→submitter"}
	heldNotice := []string{"held_for_review→agents"}
	rows := []row{
		{Open, customerText, Open, PublicComment, false, agentsReplied},
		{Open, customerThanks, Open, PublicComment, false, agentsReplied},
		{Open, agentPublic, Pending, PublicComment, false, relay},
		{Open, agentNote, Open, InternalComment, false, nil},
		{Open, automated, Open, NoComment, false, nil},
		{Open, bounce, Open, NoComment, false, nil},
		{Open, held, Open, HeldComment, false, heldNotice},

		{Pending, customerText, Open, PublicComment, false, agentsReplied},
		{Pending, customerThanks, Open, PublicComment, false, agentsReplied},
		{Pending, agentPublic, Pending, PublicComment, false, relay},
		{Pending, agentNote, Pending, InternalComment, false, nil},
		{Pending, automated, Pending, NoComment, false, nil},
		{Pending, bounce, Pending, NoComment, false, nil},
		{Pending, held, Pending, HeldComment, false, heldNotice},

		{OnHold, customerText, Open, PublicComment, false, agentsReplied},
		{OnHold, customerThanks, Open, PublicComment, false, agentsReplied},
		{OnHold, agentPublic, OnHold, PublicComment, false, relay},
		{OnHold, agentNote, OnHold, InternalComment, false, nil},
		{OnHold, automated, OnHold, NoComment, false, nil},
		{OnHold, bounce, OnHold, NoComment, false, nil},
		{OnHold, held, OnHold, HeldComment, false, heldNotice},

		{Solved, customerText, Open, PublicComment, false, []string{"status_changed→submitter", "agent_reopened→agents"}},
		{Solved, customerThanks, Solved, PublicComment, false, nil},
		{Solved, agentPublic, Solved, PublicComment, false, relay},
		{Solved, agentNote, Solved, InternalComment, false, nil},
		{Solved, automated, Solved, NoComment, false, nil},
		{Solved, bounce, Solved, NoComment, false, nil},
		{Solved, held, Solved, HeldComment, false, heldNotice},

		{Closed, customerText, Closed, PublicComment, true, []string{"follow_up_opened→submitter", "agent_new_case→agents"}},
		{Closed, customerThanks, Closed, PublicComment, false, nil},
		{Closed, agentPublic, Closed, PublicComment, false, relay},
		{Closed, agentNote, Closed, InternalComment, false, nil},
		{Closed, automated, Closed, NoComment, false, nil},
		{Closed, bounce, Closed, NoComment, false, nil},
		{Closed, held, Closed, HeldComment, false, heldNotice},
	}
	covered := map[string]bool{}
	for _, r := range rows {
		name := fmt.Sprintf("%s/%s/%q", r.from, r.ev.Kind, r.ev.Text)
		covered[string(r.from)+"/"+string(r.ev.Kind)] = true
		t.Run(name, func(t *testing.T) {
			c := caseIn(r.from)
			o := Apply(c, r.ev, DefaultPolicy(), now)
			if o.Case.Status != r.want {
				t.Errorf("status %s, want %s (%s)", o.Case.Status, r.want, o.Reason)
			}
			if o.Comment != r.comment {
				t.Errorf("comment %q, want %q", o.Comment, r.comment)
			}
			if o.FollowUp != r.followUp {
				t.Errorf("follow-up %v, want %v", o.FollowUp, r.followUp)
			}
			if got := notices(o.Notices); !slices.Equal(got, r.notices) {
				t.Errorf("notices %v, want %v", got, r.notices)
			}
			if o.Reason == "" {
				t.Error("no reason")
			}
			changes := 0
			for _, a := range o.Audit {
				if a.Kind == "status" {
					changes++
					if a.From != string(r.from) || a.To != string(r.want) {
						t.Errorf("status audit %s → %s, want %s → %s", a.From, a.To, r.from, r.want)
					}
				}
			}
			if want := map[bool]int{true: 0, false: 1}[r.from == r.want]; changes != want {
				t.Errorf("%d status audit entries, want %d", changes, want)
			}
			checkInvariants(t, o.Case)
		})
	}
	for _, st := range Statuses() {
		for _, k := range EventKinds() {
			if !covered[string(st)+"/"+string(k)] {
				t.Errorf("the table has no row for %s × %s", st, k)
			}
		}
	}
}

func TestApply_ReopenWindowBoundary(t *testing.T) {
	solvedAt := now.Add(-40 * day)
	tests := []struct {
		name     string
		at       time.Time
		want     Status
		followUp bool
	}{
		{"day 29 reopens", solvedAt.Add(29 * day), Open, false},
		{"a nanosecond before 30 days reopens", solvedAt.Add(30*day - 1), Open, false},
		{"exactly 30 days is closed: follow-up", solvedAt.Add(30 * day), Closed, true},
		{"day 31 is closed: follow-up", solvedAt.Add(31 * day), Closed, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Case{ID: 7, Status: Solved, Severity: S3, SolvedAt: solvedAt, CreatedAt: solvedAt.Add(-day)}
			o := Apply(c, customerText, DefaultPolicy(), tt.at)
			if o.Case.Status != tt.want || o.FollowUp != tt.followUp {
				t.Errorf("status %s follow-up %v, want %s %v (%s)", o.Case.Status, o.FollowUp, tt.want, tt.followUp, o.Reason)
			}
			if tt.want == Closed && !o.Case.ClosedAt.Equal(tt.at) {
				t.Errorf("ClosedAt %v, want %v", o.Case.ClosedAt, tt.at)
			}
			if tt.want == Open && (!o.Case.SolvedAt.IsZero() || o.Case.SolvedReason != "") {
				t.Errorf("reopened case keeps SolvedAt %v reason %q", o.Case.SolvedAt, o.Case.SolvedReason)
			}
			checkInvariants(t, o.Case)
		})
	}
}

func TestApply_ReopenWindowIsConfigurable(t *testing.T) {
	p := DefaultPolicy()
	p.ReopenWindow = 2 * day
	c := caseIn(Solved) // solved 10 days ago
	if o := Apply(c, customerText, p, now); !o.FollowUp {
		t.Errorf("a 2-day window: want a follow-up, got %s (%s)", o.Case.Status, o.Reason)
	}
	if !strings.Contains(Apply(c, customerText, p, now).Reason, "2 days") {
		t.Errorf("reason does not name the window")
	}
}

func TestApply_ThankYouOnSolvedKeepsItSolvedOnlyWhenConfigured(t *testing.T) {
	tests := []struct {
		name string
		on   bool
		ev   Event
		from Status
		want Status
	}{
		{"thanks on solved stays solved", true, customerThanks, Solved, Solved},
		{"Korean thanks on solved stays solved", true, Event{Kind: CustomerReply, Text: "감사합니다!"}, Solved, Solved},
		{"thanks with a new problem reopens", true, Event{Kind: CustomerReply, Text: "Thanks, but it still fails."}, Solved, Open},
		{"thanks with an attachment reopens", true, Event{Kind: CustomerReply, Text: "Thanks!", Attachments: 1}, Solved, Open},
		{"thanks reopens when the option is off", false, customerThanks, Solved, Open},
		{"thanks on pending opens: the requester answered", true, customerThanks, Pending, Open},
		{"thanks on closed opens no follow-up", true, customerThanks, Closed, Closed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := DefaultPolicy()
			p.ThankYouKeepsSolved = tt.on
			o := Apply(caseIn(tt.from), tt.ev, p, now)
			if o.Case.Status != tt.want || o.FollowUp {
				t.Errorf("status %s follow-up %v, want %s (%s)", o.Case.Status, o.FollowUp, tt.want, o.Reason)
			}
			if o.Comment != PublicComment {
				t.Errorf("comment %q: a thank-you is still recorded", o.Comment)
			}
		})
	}
	p := DefaultPolicy()
	p.ThankYouKeepsSolved = false
	if o := Apply(caseIn(Closed), customerThanks, p, now); !o.FollowUp {
		t.Error("with the option off, thanks on a closed case opens a follow-up")
	}
}

func TestApply_CustomerMailWithOnlyCommandsOrNothingChangesNoStatus(t *testing.T) {
	for _, st := range []Status{Pending, OnHold, Solved} {
		t.Run(string(st), func(t *testing.T) {
			ev := Event{Kind: CustomerReply, Commands: []Command{{Name: CmdHold, Line: "#hold"}}}
			o := Apply(caseIn(st), ev, DefaultPolicy(), now)
			if o.Case.Status != st || o.Comment != NoComment || !slices.Equal(notices(o.Notices), []string{"customer_command_result→sender"}) {
				t.Errorf("status %s comment %q notices %v (%s)", o.Case.Status, o.Comment, notices(o.Notices), o.Reason)
			}
			if o.Commands[0].Applied || !strings.Contains(o.Commands[0].Detail, "only agents") || o.Commands[0].Code != CodeAgentsOnly {
				t.Errorf("customer #hold: %+v", o.Commands[0])
			}
		})
	}
	// An attachment alone is an answer.
	o := Apply(caseIn(Pending), Event{Kind: CustomerReply, Attachments: 1}, DefaultPolicy(), now)
	if o.Case.Status != Open {
		t.Errorf("attachment-only reply on pending: %s, want open", o.Case.Status)
	}
}

func TestApply_AgentReplyTimestamps(t *testing.T) {
	t.Run("first public reply sets the first response and starts pending", func(t *testing.T) {
		c := NewCase(S3, PlanBasic, now.Add(-time.Hour), DefaultPolicy())
		o := Apply(c, agentPublic, DefaultPolicy(), now)
		if !o.Case.FirstResponseAt.Equal(now) || !o.Case.PendingSince.Equal(now) || o.Case.RemindersSent != 0 {
			t.Errorf("first response %v pending since %v reminders %d", o.Case.FirstResponseAt, o.Case.PendingSince, o.Case.RemindersSent)
		}
	})
	t.Run("a later reply keeps the first response", func(t *testing.T) {
		c := caseIn(Open)
		o := Apply(c, agentPublic, DefaultPolicy(), now)
		if !o.Case.FirstResponseAt.Equal(c.FirstResponseAt) {
			t.Errorf("first response moved to %v", o.Case.FirstResponseAt)
		}
	})
	t.Run("an internal note is no first response", func(t *testing.T) {
		c := NewCase(S3, PlanBasic, now.Add(-time.Hour), DefaultPolicy())
		for _, ev := range []Event{agentNote, {Kind: AgentReply, Text: "note", Commands: []Command{{Name: CmdInternal, Line: "#internal"}}}} {
			if o := Apply(c, ev, DefaultPolicy(), now); !o.Case.FirstResponseAt.IsZero() || o.Case.Status != Open {
				t.Errorf("%s: first response %v status %s", ev.Kind, o.Case.FirstResponseAt, o.Case.Status)
			}
		}
	})
	t.Run("a reply on pending restarts the reminders", func(t *testing.T) {
		c := caseIn(Pending)
		c.RemindersSent = 1
		o := Apply(c, agentPublic, DefaultPolicy(), now)
		if !o.Case.PendingSince.Equal(now) || o.Case.RemindersSent != 0 {
			t.Errorf("pending since %v reminders %d", o.Case.PendingSince, o.Case.RemindersSent)
		}
	})
	t.Run("a customer reply on pending clears the reminders", func(t *testing.T) {
		c := caseIn(Pending)
		c.RemindersSent = 2
		o := Apply(c, customerText, DefaultPolicy(), now)
		if !o.Case.PendingSince.IsZero() || o.Case.RemindersSent != 0 {
			t.Errorf("pending since %v reminders %d", o.Case.PendingSince, o.Case.RemindersSent)
		}
	})
	t.Run("an agent mail with only commands is no reply", func(t *testing.T) {
		c := NewCase(S3, PlanBasic, now.Add(-time.Hour), DefaultPolicy())
		ev := Event{Kind: AgentReply, Sender: "bob@support.example", Commands: []Command{{Name: CmdAssign, Arg: "me", Line: "#assign me"}}}
		o := Apply(c, ev, DefaultPolicy(), now)
		if o.Case.Status != Open || !o.Case.FirstResponseAt.IsZero() || o.Comment != NoComment {
			t.Errorf("status %s first response %v comment %q", o.Case.Status, o.Case.FirstResponseAt, o.Comment)
		}
		if got := notices(o.Notices); !slices.Equal(got, []string{"command_result→sender"}) {
			t.Errorf("notices %v", got)
		}
	})
}

func cmd(line string) Command {
	cs, _ := ParseCommands(line)
	if len(cs) != 1 {
		panic("not one command: " + line)
	}
	return cs[0]
}

func TestApply_AgentCommands(t *testing.T) {
	type want struct {
		status   Status
		comment  Visibility
		notices  []string
		applied  []bool
		detail   string // in the last command's detail
		assign   string
		merge    int64
		severity Severity
	}
	tests := []struct {
		name  string
		from  Status
		kind  EventKind
		text  string
		lines []string
		want  want
	}{
		{"#solve with a reply solves and relays", Open, AgentReply, "Fixed in 2.1.", []string{"#solve"},
			want{Solved, PublicComment, []string{"comment_added→submitter", "command_result→sender"}, []bool{true}, "open → solved", "", 0, S3}},
		{"#solve alone tells the submitter the status", Open, AgentReply, "", []string{"#solve"},
			want{Solved, NoComment, []string{"status_changed→submitter", "command_result→sender"}, []bool{true}, "open → solved", "", 0, S3}},
		{"#status open keeps a replied case open", Open, AgentReply, "Looking into it.", []string{"#status open"},
			want{Open, PublicComment, []string{"comment_added→submitter", "command_result→sender"}, []bool{true}, "already open", "", 0, S3}},
		{"#hold on a reply", Open, AgentReply, "Waiting for engineering.", []string{"#hold"},
			want{OnHold, PublicComment, []string{"comment_added→submitter", "command_result→sender"}, []bool{true}, "open → on_hold", "", 0, S3}},
		{"#status on-hold is on_hold", Pending, AgentNote, "", []string{"#status on-hold"},
			want{OnHold, NoComment, []string{"status_changed→submitter", "command_result→sender"}, []bool{true}, "pending → on_hold", "", 0, S3}},
		{"#pending from on hold", OnHold, AgentReply, "", []string{"#pending"},
			want{Pending, NoComment, []string{"status_changed→submitter", "command_result→sender"}, []bool{true}, "on_hold → pending", "", 0, S3}},
		{"#status open reopens a solved case", Solved, AgentReply, "", []string{"#status open"},
			want{Open, NoComment, []string{"status_changed→submitter", "command_result→sender"}, []bool{true}, "solved → open", "", 0, S3}},
		{"#status closed is refused", Solved, AgentReply, "", []string{"#status closed"},
			want{Solved, NoComment, []string{"command_result→sender"}, []bool{false}, "closes by itself", "", 0, S3}},
		{"#status with an unknown status is refused", Open, AgentReply, "", []string{"#status done"},
			want{Open, NoComment, []string{"command_result→sender"}, []bool{false}, `unknown status "done"`, "", 0, S3}},
		{"#solve with an argument is refused", Open, AgentReply, "", []string{"#solve now"},
			want{Open, NoComment, []string{"command_result→sender"}, []bool{false}, "takes no argument", "", 0, S3}},
		{"a later status command overrides an earlier one", Open, AgentReply, "", []string{"#solve", "#hold"},
			want{OnHold, NoComment, []string{"status_changed→submitter", "command_result→sender"}, []bool{false, true}, "open → on_hold", "", 0, S3}},
		{"#internal keeps the reply internal and the status", Open, AgentReply, "Customer is on v1.", []string{"#internal"},
			want{Open, InternalComment, []string{"command_result→sender"}, []bool{true}, "internal", "", 0, S3}},
		{"#internal with #solve solves without relaying", Open, AgentReply, "Root cause found.", []string{"#internal", "#solve"},
			want{Solved, InternalComment, []string{"status_changed→submitter", "command_result→sender"}, []bool{true, true}, "open → solved", "", 0, S3}},
		{"#internal with an argument is refused and the reply relayed", Open, AgentReply, "Hi", []string{"#internal please"},
			want{Pending, PublicComment, []string{"comment_added→submitter", "command_result→sender"}, []bool{false}, "no argument", "", 0, S3}},
		{"#severity s1 reclassifies", Open, AgentReply, "", []string{"#severity s1"},
			want{Open, NoComment, []string{"command_result→sender"}, []bool{true}, "S3 → S1", "", 0, S1}},
		{"#severity to the same severity", Open, AgentReply, "", []string{"#severity S3"},
			want{Open, NoComment, []string{"command_result→sender"}, []bool{true}, "already S3", "", 0, S3}},
		{"#severity S5 is refused", Open, AgentReply, "", []string{"#severity S5"},
			want{Open, NoComment, []string{"command_result→sender"}, []bool{false}, "unknown severity", "", 0, S3}},
		{"#assign me assigns the sender", Open, AgentReply, "", []string{"#assign me"},
			want{Open, NoComment, []string{"command_result→sender"}, []bool{true}, "bob@support.example", "bob@support.example", 0, S3}},
		{"#assign an address lower-cases it", Open, AgentReply, "", []string{"#assign <Carol@Support.Example>"},
			want{Open, NoComment, []string{"command_result→sender"}, []bool{true}, "carol@support.example", "carol@support.example", 0, S3}},
		{"#assign without an address is refused", Open, AgentReply, "", []string{"#assign carol"},
			want{Open, NoComment, []string{"command_result→sender"}, []bool{false}, "want #assign EMAIL", "", 0, S3}},
		{"#assign with nothing is refused", Open, AgentReply, "", []string{"#assign"},
			want{Open, NoComment, []string{"command_result→sender"}, []bool{false}, "want #assign EMAIL", "", 0, S3}},
		{"#merge solves the source and wins over a status command", Open, AgentReply, "", []string{"#pending", "#merge #12"},
			want{Solved, NoComment, []string{"merged→submitter", "command_result→sender"}, []bool{false, true}, "merged into #12", "", 12, S3}},
		{"#merge into itself is refused", Open, AgentReply, "", []string{"#merge 7"},
			want{Open, NoComment, []string{"command_result→sender"}, []bool{false}, "into itself", "", 0, S3}},
		{"#merge without a number is refused", Open, AgentReply, "", []string{"#merge the other one"},
			want{Open, NoComment, []string{"command_result→sender"}, []bool{false}, "want #merge N", "", 0, S3}},
		{"agents cannot escalate", Open, AgentReply, "", []string{"#escalate now"},
			want{Open, NoComment, []string{"command_result→sender"}, []bool{false}, "only customers", "", 0, S3}},
		{"agents cannot rate", Solved, AgentReply, "", []string{"#rating good"},
			want{Solved, NoComment, []string{"command_result→sender"}, []bool{false}, "only customers", "", 0, S3}},
		{"a closed case takes no status command but the reply is relayed", Closed, AgentReply, "One more note.", []string{"#status open"},
			want{Closed, PublicComment, []string{"comment_added→submitter", "command_result→sender"}, []bool{false}, "case is closed", "", 0, S3}},
		{"a closed case takes #internal", Closed, AgentReply, "For the record.", []string{"#internal", "#severity S1"},
			want{Closed, InternalComment, []string{"command_result→sender"}, []bool{true, false}, "case is closed", "", 0, S3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cmds []Command
			for _, l := range tt.lines {
				cmds = append(cmds, cmd(l))
			}
			ev := Event{Kind: tt.kind, Text: tt.text, Commands: cmds, Sender: "Bob@Support.example"}
			c := caseIn(tt.from)
			o := Apply(c, ev, DefaultPolicy(), now)
			w := tt.want
			if o.Case.Status != w.status || o.Comment != w.comment {
				t.Errorf("status %s comment %q, want %s %q (%s)", o.Case.Status, o.Comment, w.status, w.comment, o.Reason)
			}
			if got := notices(o.Notices); !slices.Equal(got, w.notices) {
				t.Errorf("notices %v, want %v", got, w.notices)
			}
			if len(o.Commands) != len(cmds) {
				t.Fatalf("%d command results for %d commands", len(o.Commands), len(cmds))
			}
			for i, r := range o.Commands {
				if r.Applied != w.applied[i] || r.Command != cmds[i] || r.Detail == "" {
					t.Errorf("command %d: %+v, want applied %v", i, r, w.applied[i])
				}
			}
			if last := o.Commands[len(o.Commands)-1].Detail; !strings.Contains(last, w.detail) {
				t.Errorf("detail %q, want it to contain %q", last, w.detail)
			}
			if o.Assign != w.assign || o.MergeInto != w.merge || o.Case.Severity != w.severity {
				t.Errorf("assign %q merge %d severity %s, want %q %d %s", o.Assign, o.MergeInto, o.Case.Severity, w.assign, w.merge, w.severity)
			}
			checkInvariants(t, o.Case)
		})
	}
}

func TestApply_AssignMeNeedsTheSender(t *testing.T) {
	o := Apply(caseIn(Open), Event{Kind: AgentReply, Commands: []Command{cmd("#assign me")}}, DefaultPolicy(), now)
	if o.Commands[0].Applied || o.Assign != "" || !strings.Contains(o.Commands[0].Detail, "sender is unknown") {
		t.Errorf("assign %q result %+v", o.Assign, o.Commands[0])
	}
}

func TestApply_AgentCommandsAreAudited(t *testing.T) {
	ev := Event{Kind: AgentReply, Sender: "bob@support.example",
		Commands: []Command{cmd("#severity S2"), cmd("#assign me"), cmd("#merge 12")}}
	o := Apply(caseIn(Open), ev, DefaultPolicy(), now)
	want := []AuditEntry{
		{Kind: "severity", From: "S3", To: "S2", Reason: "#severity S2"},
		{Kind: "assignee", To: "bob@support.example", Reason: "#assign me"},
		{Kind: "merged", To: "#12", Reason: "#merge 12"},
		{Kind: "status", From: "open", To: "solved", Reason: "merged into #12"},
	}
	if !slices.Equal(o.Audit, want) {
		t.Errorf("audit\n got %+v\nwant %+v", o.Audit, want)
	}
	if o.Case.SolvedReason != "merged into #12" || !o.Case.SolvedAt.Equal(now) {
		t.Errorf("solved reason %q at %v", o.Case.SolvedReason, o.Case.SolvedAt)
	}
}

func TestApply_SeverityChangeMovesTheDueTimeUntilTheFirstResponse(t *testing.T) {
	p := DefaultPolicy()
	created := now.Add(-time.Hour)
	c := NewCase(S3, PlanBasic, created, p)
	o := Apply(c, Event{Kind: AgentNote, Commands: []Command{cmd("#severity S1")}}, p, now)
	if want := created.Add(2 * time.Hour); !o.Case.FirstResponseDue.Equal(want) {
		t.Errorf("due %v, want %v", o.Case.FirstResponseDue, want)
	}
	answered := caseIn(Open)
	o = Apply(answered, Event{Kind: AgentNote, Commands: []Command{cmd("#severity S1")}}, p, now)
	if !o.Case.FirstResponseDue.Equal(answered.FirstResponseDue) {
		t.Errorf("answered case: due moved to %v", o.Case.FirstResponseDue)
	}
}

func TestApply_SolvedStatusNoticeSaysUntilWhenAReplyReopens(t *testing.T) {
	o := Apply(caseIn(Open), Event{Kind: AgentReply, Commands: []Command{cmd("#solve")}}, DefaultPolicy(), now)
	if want := now.Add(30 * day); !o.Notices[0].At.Equal(want) {
		t.Errorf("status_changed At %v, want %v", o.Notices[0].At, want)
	}
	if got := ReopenUntil(caseIn(Open), DefaultPolicy()); !got.IsZero() {
		t.Errorf("ReopenUntil of an open case: %v", got)
	}
}

func TestApply_EscalationByCustomers(t *testing.T) {
	esc := func(text, arg string) Event {
		return Event{Kind: CustomerReply, Text: text, Commands: []Command{cmd("#escalate " + arg)}}
	}
	tests := []struct {
		name     string
		from     Status
		plan     string
		ev       Event
		status   Status
		applied  bool
		detail   string
		notices  []string
		followUp bool
	}{
		{"premium open case escalates", Open, PlanPremium, esc("", "production down"), Open, true, "escalated",
			[]string{"escalation_received→submitter", "agent_escalation→manager"}, false},
		{"advanced pending case with text opens and escalates", Pending, PlanAdvanced, esc("Logs attached.", "urgent"), Open, true, "escalated",
			[]string{"agent_customer_replied→agents", "escalation_received→submitter", "agent_escalation→manager"}, false},
		{"basic plan is refused", Open, PlanBasic, esc("", "please"), Open, false, "plan_not_eligible",
			[]string{"escalation_refused→submitter"}, false},
		{"no org is refused", Open, "", esc("", "please"), Open, false, "plan_not_eligible",
			[]string{"escalation_refused→submitter"}, false},
		{"solved case with only the command is refused and stays solved", Solved, PlanPremium, esc("", "again"), Solved, false, "case_solved",
			[]string{"escalation_refused→submitter"}, false},
		{"solved case with text reopens first, then escalates", Solved, PlanPremium, esc("It is broken again.", "again"), Open, true, "escalated",
			[]string{"status_changed→submitter", "agent_reopened→agents", "escalation_received→submitter", "agent_escalation→manager"}, false},
		{"closed case is refused", Closed, PlanPremium, esc("", "x"), Closed, false, "case_closed",
			[]string{"escalation_refused→submitter"}, false},
		{"closed case with text opens a follow-up and is refused", Closed, PlanPremium, esc("Broken again.", "x"), Closed, false, "case_closed",
			[]string{"follow_up_opened→submitter", "agent_new_case→agents", "escalation_refused→submitter"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := caseIn(tt.from)
			c.Plan = tt.plan
			o := Apply(c, tt.ev, DefaultPolicy(), now)
			if o.Case.Status != tt.status || o.FollowUp != tt.followUp {
				t.Errorf("status %s follow-up %v, want %s %v (%s)", o.Case.Status, o.FollowUp, tt.status, tt.followUp, o.Reason)
			}
			if r := o.Commands[0]; r.Applied != tt.applied || !strings.Contains(r.Detail, tt.detail) {
				t.Errorf("result %+v, want applied %v detail %q", r, tt.applied, tt.detail)
			}
			if got := notices(o.Notices); !slices.Equal(got, tt.notices) {
				t.Errorf("notices %v, want %v", got, tt.notices)
			}
			escalated := slices.ContainsFunc(o.Audit, func(a AuditEntry) bool { return a.Kind == "escalated" })
			if escalated != tt.applied {
				t.Errorf("escalated audit %v, want %v", escalated, tt.applied)
			}
			for _, n := range o.Notices {
				if n.Kind == NoticeEscalationRefused && n.Reason != tt.detail {
					t.Errorf("refusal notice reason %q, want %q", n.Reason, tt.detail)
				}
				if n.Kind == NoticeAgentEscalation && n.Reason != tt.ev.Commands[0].Arg {
					t.Errorf("escalation reason %q, want %q", n.Reason, tt.ev.Commands[0].Arg)
				}
			}
		})
	}
}

func TestApply_SecondEscalationInOneMailIsRejected(t *testing.T) {
	ev := Event{Kind: CustomerReply, Commands: []Command{cmd("#escalate a"), cmd("#escalate b")}}
	o := Apply(caseIn(Open), ev, DefaultPolicy(), now)
	if !o.Commands[0].Applied || o.Commands[1].Applied {
		t.Errorf("results %+v", o.Commands)
	}
}

func TestCanEscalate_PlanFirstThenStatus(t *testing.T) {
	for _, plan := range []string{"", PlanBasic, PlanAdvanced, PlanPremium} {
		for _, st := range Statuses() {
			ok, why := CanEscalate(Case{Status: st, Plan: plan})
			var want Refusal
			switch {
			case plan != PlanAdvanced && plan != PlanPremium:
				want = RefusalPlanNotEligible
			case st == Closed:
				want = RefusalCaseClosed
			case st == Solved:
				want = RefusalCaseSolved
			}
			if ok != (want == "") || why != want {
				t.Errorf("plan %q status %s: %v %q, want %q", plan, st, ok, why, want)
			}
		}
	}
}

func TestApply_SurveyAnswers(t *testing.T) {
	tests := []struct {
		name    string
		from    Status
		text    string
		line    string
		status  Status
		applied bool
		audit   []AuditEntry
		comment Visibility
	}{
		{"good rating on a solved case", Solved, "", "#rating good", Solved, true,
			[]AuditEntry{{Kind: "survey", To: "good"}}, NoComment},
		{"bad rating with a comment and text never reopens", Solved, "Took a week.", "#rating BAD too slow", Solved, true,
			[]AuditEntry{{Kind: "survey", To: "bad", Reason: "too slow"}}, PublicComment},
		{"rating on a closed case opens no follow-up", Closed, "Fine in the end.", "#rating good", Closed, true,
			[]AuditEntry{{Kind: "survey", To: "good"}}, PublicComment},
		{"unknown rating is refused", Solved, "", "#rating meh", Solved, false, nil, NoComment},
		{"rating on a pending case is refused and the text answers", Pending, "Here are the logs.", "#rating good", Open, false,
			[]AuditEntry{{Kind: "status", From: "pending", To: "open", Reason: "customer replied"}}, PublicComment},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := Event{Kind: CustomerReply, Text: tt.text, Commands: []Command{cmd(tt.line)}}
			o := Apply(caseIn(tt.from), ev, DefaultPolicy(), now)
			if o.Case.Status != tt.status || o.FollowUp || o.Comment != tt.comment {
				t.Errorf("status %s follow-up %v comment %q, want %s false %q (%s)", o.Case.Status, o.FollowUp, o.Comment, tt.status, tt.comment, o.Reason)
			}
			if o.Commands[0].Applied != tt.applied {
				t.Errorf("result %+v", o.Commands[0])
			}
			if !slices.Equal(o.Audit, tt.audit) {
				t.Errorf("audit %+v, want %+v", o.Audit, tt.audit)
			}
		})
	}
}

func TestApply_UnknownEventKindChangesNothing(t *testing.T) {
	c := caseIn(Pending)
	o := Apply(c, Event{Kind: "telepathy", Text: "hi", Commands: []Command{cmd("#solve")}}, DefaultPolicy(), now)
	if o.Case != c || o.Comment != NoComment || len(o.Notices) != 0 || o.Commands[0].Applied {
		t.Errorf("outcome %+v", o)
	}
}

func TestApply_AutomatedHeldAndBouncedMailRunNoCommands(t *testing.T) {
	for _, k := range []EventKind{Automated, Bounce, Held} {
		c := caseIn(Open)
		o := Apply(c, Event{Kind: k, Commands: []Command{cmd("#solve")}}, DefaultPolicy(), now)
		if o.Case != c || o.Commands[0].Applied {
			t.Errorf("%s: status %s result %+v", k, o.Case.Status, o.Commands[0])
		}
	}
}

// TestApply_KeepsTheTableConstraints runs every event on every state a case
// can be in and checks the result satisfies the cases table's constraints.
func TestApply_KeepsTheTableConstraints(t *testing.T) {
	lines := []string{"", "#solve", "#pending", "#hold", "#status open", "#merge 12", "#internal", "#escalate x", "#rating good"}
	texts := []string{"", "Thanks!", "It still fails."}
	offsets := []time.Duration{0, 29 * day, 30 * day, 31 * day, 60 * day}
	for _, st := range Statuses() {
		for _, k := range EventKinds() {
			for _, l := range lines {
				for _, text := range texts {
					for _, off := range offsets {
						ev := Event{Kind: k, Text: text, Sender: "x@y.example"}
						if l != "" {
							ev.Commands = []Command{cmd(l)}
						}
						o := Apply(caseIn(st), ev, DefaultPolicy(), now.Add(off))
						checkInvariants(t, o.Case)
						if len(o.Commands) != len(ev.Commands) || o.Reason == "" {
							t.Fatalf("%s %s %q %q: %d results, reason %q", st, k, l, text, len(o.Commands), o.Reason)
						}
						for _, r := range o.Commands {
							if r.Detail == "" {
								t.Errorf("%s %s %q: command without detail", st, k, l)
							}
						}
					}
				}
			}
		}
	}
}

func TestOpened_AcknowledgesTheSubmitterAndTellsTheAgents(t *testing.T) {
	c := NewCase(S2, "premium", time.Date(2026, 11, 20, 6, 0, 0, 0, time.UTC), DefaultPolicy())
	out := Opened(c)
	want := []Notice{{Kind: NoticeCaseReceived, To: ToSubmitter}, {Kind: NoticeAgentNewCase, To: ToAgents}}
	if len(out.Notices) != len(want) {
		t.Fatalf("notices %+v, want %+v", out.Notices, want)
	}
	for i, n := range out.Notices {
		if n.Kind != want[i].Kind || n.To != want[i].To {
			t.Errorf("notice %d: %+v, want %+v", i, n, want[i])
		}
	}
	if out.Case != c {
		t.Errorf("opening changed the case: %+v", out.Case)
	}
}
