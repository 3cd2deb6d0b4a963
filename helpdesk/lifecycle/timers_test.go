package lifecycle

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func answered(c Case) Case {
	c.FirstResponseAt = c.CreatedAt.Add(time.Hour)
	return c
}

// TestTimers_PendingRemindersThenAutoSolve runs a scheduler once a day over
// a pending case with the default policy.
func TestTimers_PendingRemindersThenAutoSolve(t *testing.T) {
	p := DefaultPolicy()
	since := now
	c := answered(Case{ID: 7, Status: Pending, Severity: S3, CreatedAt: since.Add(-day), PendingSince: since})
	steps := []struct {
		at      time.Duration
		notices []string
		status  Status
		sent    int
	}{
		{2 * day, nil, Pending, 0},
		{3*day - time.Nanosecond, nil, Pending, 0},
		{3 * day, []string{"pending_reminder→submitter"}, Pending, 1},
		{3 * day, nil, Pending, 1}, // the same tick again: idempotent
		{5 * day, nil, Pending, 1},
		{6 * day, []string{"pending_reminder→submitter"}, Pending, 2},
		{6*day + time.Hour, nil, Pending, 2},
		{7 * day, []string{"auto_solved→submitter"}, Solved, 0},
		{7 * day, nil, Solved, 0},
		{8 * day, nil, Solved, 0},
	}
	for _, s := range steps {
		at := since.Add(s.at)
		o := Timers(c, p, at)
		if got := notices(o.Notices); !slices.Equal(got, s.notices) {
			t.Fatalf("at +%v: notices %v, want %v (%s)", s.at, got, s.notices, o.Reason)
		}
		if o.Case.Status != s.status || o.Case.RemindersSent != s.sent {
			t.Fatalf("at +%v: status %s reminders %d, want %s %d", s.at, o.Case.Status, o.Case.RemindersSent, s.status, s.sent)
		}
		for _, n := range o.Notices {
			switch n.Kind {
			case NoticePendingReminder:
				if want := since.Add(7 * day); !n.At.Equal(want) {
					t.Errorf("reminder's auto-solve time %v, want %v", n.At, want)
				}
			case NoticeAutoSolved:
				if want := at.Add(30 * day); !n.At.Equal(want) {
					t.Errorf("auto-solved reopen-until %v, want %v", n.At, want)
				}
			}
		}
		checkInvariants(t, o.Case)
		c = o.Case
	}
	if c.SolvedReason != ReasonNoResponse || !c.SolvedAt.Equal(since.Add(7*day)) || !c.PendingSince.IsZero() {
		t.Errorf("solved reason %q at %v, pending since %v", c.SolvedReason, c.SolvedAt, c.PendingSince)
	}
}

func TestTimers_AuditsRemindersAndTheAutoSolve(t *testing.T) {
	p := DefaultPolicy()
	c := answered(Case{Status: Pending, Severity: S3, CreatedAt: now.Add(-day), PendingSince: now})
	o := Timers(c, p, now.Add(3*day))
	if len(o.Audit) != 1 || o.Audit[0].Kind != "reminder" || o.Audit[0].To != "1" {
		t.Errorf("audit %+v", o.Audit)
	}
	c.RemindersSent = 2
	o = Timers(c, p, now.Add(7*day))
	want := []AuditEntry{{Kind: "status", From: "pending", To: "solved", Reason: "no response"}}
	if !slices.Equal(o.Audit, want) {
		t.Errorf("audit %+v, want %+v", o.Audit, want)
	}
}

func TestTimers_AfterDowntimeSendsOnlyTheLatestReminderBeforeSolving(t *testing.T) {
	p := DefaultPolicy()
	c := answered(Case{Status: Pending, Severity: S3, CreatedAt: now.Add(-day), PendingSince: now})
	at := now.Add(8 * day)
	o := Timers(c, p, at)
	if o.Case.Status != Pending || o.Case.RemindersSent != 2 || len(o.Notices) != 1 {
		t.Fatalf("first tick: status %s reminders %d notices %v", o.Case.Status, o.Case.RemindersSent, notices(o.Notices))
	}
	if !o.Notices[0].At.IsZero() {
		t.Errorf("a reminder past the auto-solve time announces %v", o.Notices[0].At)
	}
	o = Timers(o.Case, p, at)
	if o.Case.Status != Solved {
		t.Errorf("second tick: status %s, want solved", o.Case.Status)
	}
}

func TestTimers_NeverSolvesBeforeTheLastReminder(t *testing.T) {
	// A policy Validate refuses (a reminder after the auto-solve time) still
	// sends the reminder first.
	p := DefaultPolicy()
	p.Reminders, p.AutoSolveAfter = []time.Duration{8 * day}, 7*day
	c := answered(Case{Status: Pending, Severity: S3, CreatedAt: now.Add(-day), PendingSince: now})
	if o := Timers(c, p, now.Add(7*day)); o.Case.Status != Pending {
		t.Errorf("solved at day 7 before the day-8 reminder")
	}
	o := Timers(c, p, now.Add(8*day))
	if o.Case.Status != Pending || o.Case.RemindersSent != 1 {
		t.Errorf("day 8: status %s reminders %d, want the reminder", o.Case.Status, o.Case.RemindersSent)
	}
	if o = Timers(o.Case, p, now.Add(8*day)); o.Case.Status != Solved {
		t.Errorf("after the reminder: status %s, want solved", o.Case.Status)
	}
}

func TestTimers_CustomRemindersAndNone(t *testing.T) {
	p := DefaultPolicy()
	p.Reminders, p.AutoSolveAfter = nil, 2*day
	c := answered(Case{Status: Pending, Severity: S3, CreatedAt: now.Add(-day), PendingSince: now})
	if o := Timers(c, p, now.Add(2*day-time.Second)); o.Case.Status != Pending || len(o.Notices) != 0 {
		t.Errorf("before: %s %v", o.Case.Status, notices(o.Notices))
	}
	if o := Timers(c, p, now.Add(2*day)); o.Case.Status != Solved {
		t.Errorf("no reminders: status %s, want solved", o.Case.Status)
	}
}

func TestTimers_ClosesAfterTheReopenWindow(t *testing.T) {
	p := DefaultPolicy()
	c := answered(Case{Status: Solved, Severity: S3, CreatedAt: now.Add(-2 * day), SolvedAt: now})
	if o := Timers(c, p, now.Add(30*day-time.Nanosecond)); o.Case.Status != Solved || len(o.Audit) != 0 {
		t.Errorf("before the window ends: %s %+v", o.Case.Status, o.Audit)
	}
	at := now.Add(30 * day)
	o := Timers(c, p, at)
	if o.Case.Status != Closed || !o.Case.ClosedAt.Equal(at) || !o.Case.SolvedAt.Equal(now) {
		t.Fatalf("status %s closed at %v solved at %v", o.Case.Status, o.Case.ClosedAt, o.Case.SolvedAt)
	}
	if len(o.Notices) != 0 {
		t.Errorf("closing notifies %v", notices(o.Notices))
	}
	if !strings.Contains(o.Audit[0].Reason, "30 days") {
		t.Errorf("audit %+v", o.Audit)
	}
	if again := Timers(o.Case, p, at.Add(day)); again.Case != o.Case || len(again.Audit) != 0 {
		t.Errorf("closed case changed again: %+v", again)
	}
}

func TestTimers_SLAWarningThenBreachOnce(t *testing.T) {
	kst := mustZone(t, "Asia/Seoul")
	p := DefaultPolicy()
	p.SLA = seoulSLA(t)
	created := time.Date(2026, time.November, 20, 17, 0, 0, 0, kst) // Friday
	c := NewCase(S3, PlanBasic, created, p)
	mon := func(h, m int) time.Time { return time.Date(2026, time.November, 23, h, m, 0, 0, kst) }
	due := mon(16, 0)
	if !c.FirstResponseDue.Equal(due) {
		t.Fatalf("due %v, want %v", c.FirstResponseDue, due)
	}
	steps := []struct {
		at      time.Time
		notices []string
	}{
		{mon(13, 59), nil},
		{mon(14, 0), []string{"sla_warning→agents"}},
		{mon(14, 0), nil},
		{mon(15, 59), nil},
		{mon(16, 0), []string{"sla_breach→agents", "sla_breach→manager"}},
		{mon(16, 0), nil},
		{mon(23, 0), nil},
	}
	for _, s := range steps {
		o := Timers(c, p, s.at)
		if got := notices(o.Notices); !slices.Equal(got, s.notices) {
			t.Fatalf("at %v: notices %v, want %v", s.at, got, s.notices)
		}
		for _, n := range o.Notices {
			if !n.At.Equal(due) {
				t.Errorf("%s At %v, want the due time %v", n.Kind, n.At, due)
			}
		}
		c = o.Case
	}
	if !c.SLAWarnedAt.Equal(mon(14, 0)) || !c.SLABreachedAt.Equal(mon(16, 0)) {
		t.Errorf("warned %v breached %v", c.SLAWarnedAt, c.SLABreachedAt)
	}
}

func TestTimers_LateSchedulerBreachesWithoutWarning(t *testing.T) {
	p := DefaultPolicy()
	c := NewCase(S1, PlanPremium, now, p)
	o := Timers(c, p, now.Add(3*time.Hour))
	if got := notices(o.Notices); !slices.Equal(got, []string{"sla_breach→agents", "sla_breach→manager"}) {
		t.Errorf("notices %v", got)
	}
	if !o.Case.SLAWarnedAt.IsZero() {
		t.Errorf("warned at %v after the breach", o.Case.SLAWarnedAt)
	}
	if again := Timers(o.Case, p, now.Add(4*time.Hour)); len(again.Notices) != 0 {
		t.Errorf("a breached case warns: %v", notices(again.Notices))
	}
}

func TestTimers_NoSLAAfterFirstResponseOrSolve(t *testing.T) {
	p := DefaultPolicy()
	c := NewCase(S1, PlanPremium, now, p)
	late := now.Add(5 * time.Hour)
	responded := c
	responded.FirstResponseAt = now.Add(time.Hour)
	solved := c
	solved.Status, solved.SolvedAt = Solved, now.Add(time.Hour)
	noDue := c
	noDue.FirstResponseDue = time.Time{}
	for name, c := range map[string]Case{"responded": responded, "solved": solved, "no due time": noDue} {
		if o := Timers(c, p, late); len(o.Notices) != 0 || o.Reason != "nothing due" {
			t.Errorf("%s: %v (%s)", name, notices(o.Notices), o.Reason)
		}
	}
}

func TestTimers_PendingCaseWithoutFirstResponseGetsBothTimers(t *testing.T) {
	// An agent set #pending by an internal note: no public reply yet.
	p := DefaultPolicy()
	c := NewCase(S3, PlanBasic, now, p)
	c.Status, c.PendingSince = Pending, now
	o := Timers(c, p, now.Add(3*day))
	want := []string{"pending_reminder→submitter", "sla_breach→agents", "sla_breach→manager"}
	if got := notices(o.Notices); !slices.Equal(got, want) {
		t.Errorf("notices %v, want %v", got, want)
	}
	if !strings.Contains(o.Reason, "reminder 1 of 2") || !strings.Contains(o.Reason, "SLA breach") {
		t.Errorf("reason %q", o.Reason)
	}
}

func TestTimers_InconsistentRowsDoNothing(t *testing.T) {
	p := DefaultPolicy()
	for _, c := range []Case{
		{Status: Pending},                    // no PendingSince
		{Status: Solved},                     // no SolvedAt
		{Status: Closed, SolvedAt: now},      // terminal
		{Status: OnHold, CreatedAt: now},     // no due time
		{Status: Open, FirstResponseAt: now}, // answered
	} {
		if o := Timers(c, p, now.Add(400*day)); o.Case != c || len(o.Notices) != 0 {
			t.Errorf("%+v: %+v", c, o)
		}
		if next, ok := NextDue(c, p); ok {
			t.Errorf("%+v: next due %v", c, next)
		}
	}
}

// TestNextDue_IsWhenTimersActs checks, along each case's whole life, that
// Timers does nothing just before NextDue and something at it.
func TestNextDue_IsWhenTimersActs(t *testing.T) {
	p := DefaultPolicy()
	p.SLA = seoulSLA(t)
	created := time.Date(2026, time.November, 20, 17, 0, 0, 0, p.SLA.Hours.Location)
	starts := map[string]Case{
		"new S3":               NewCase(S3, PlanBasic, created, p),
		"new S1":               NewCase(S1, PlanBasic, created, p),
		"new S4":               NewCase(S4, PlanBasic, created, p),
		"pending and answered": answered(Case{Status: Pending, Severity: S3, CreatedAt: created, PendingSince: created}),
		"pending, unanswered": func() Case {
			c := NewCase(S2, PlanBasic, created, p)
			c.Status, c.PendingSince = Pending, created.Add(time.Hour)
			return c
		}(),
		"solved": answered(Case{Status: Solved, Severity: S3, CreatedAt: created, SolvedAt: created}),
	}
	for name, c := range starts {
		t.Run(name, func(t *testing.T) {
			for step := 0; step < 10; step++ {
				next, ok := NextDue(c, p)
				if !ok {
					if c.Status != Closed && c.Status != Open && c.Status != OnHold {
						t.Errorf("nothing scheduled for a %s case", c.Status)
					}
					return
				}
				if before := Timers(c, p, next.Add(-time.Nanosecond)); len(before.Audit) != 0 {
					t.Fatalf("step %d: Timers acts before NextDue %v: %+v", step, next, before.Audit)
				}
				o := Timers(c, p, next)
				if len(o.Audit) == 0 {
					t.Fatalf("step %d: Timers does nothing at NextDue %v (%+v)", step, next, c)
				}
				c = o.Case
			}
			t.Errorf("still scheduling after 10 steps: %+v", c)
		})
	}
}
