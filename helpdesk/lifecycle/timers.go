package lifecycle

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ReasonNoResponse is the solved reason of a case solved by the auto-solve timer.
const ReasonNoResponse = "no response"

// Timers returns what is due on c at now:
//
//   - pending: reminder k when Reminders[k-1] has passed since PendingSince
//     and fewer than k went out. After downtime only the latest due reminder
//     is sent (RemindersSent jumps to k). Once every reminder went out and
//     AutoSolveAfter has passed, the case is solved with reason "no response"
//     (never in the same call as a reminder, so the last reminder always goes
//     out first).
//   - solved: closed once the reopen window has passed.
//   - not solved or closed and no first response yet: an SLA warning at
//     SLAWarnAt, a breach at FirstResponseDue; each once, and no warning
//     after a breach.
//
// Applying the Outcome and calling Timers again at the same now does nothing.
func Timers(c Case, p Policy, now time.Time) Outcome {
	o := &Outcome{Case: c}
	var did []string
	switch c.Status {
	case Pending:
		if c.PendingSince.IsZero() {
			break
		}
		due := 0
		for _, r := range p.Reminders {
			if !now.Before(c.PendingSince.Add(r)) {
				due++
			}
		}
		autoSolveAt := c.PendingSince.Add(p.AutoSolveAfter)
		switch {
		case due > c.RemindersSent:
			o.Case.RemindersSent = due
			n := Notice{Kind: NoticePendingReminder, To: ToSubmitter}
			if autoSolveAt.After(now) {
				n.At = autoSolveAt
			}
			o.Notices = append(o.Notices, n)
			o.Audit = append(o.Audit, AuditEntry{Kind: "reminder", To: strconv.Itoa(due),
				Reason: "pending since " + c.PendingSince.UTC().Format(time.RFC3339)})
			did = append(did, fmt.Sprintf("reminder %d of %d", due, len(p.Reminders)))
		case c.RemindersSent >= len(p.Reminders) && !now.Before(autoSolveAt):
			o.setStatus(Solved, ReasonNoResponse, now)
			o.Case.SolvedReason = ReasonNoResponse
			o.Notices = append(o.Notices, Notice{Kind: NoticeAutoSolved, To: ToSubmitter, At: ReopenUntil(o.Case, p)})
			did = append(did, "auto-solved: no response")
		}
	case Solved:
		if expired(c, p, now) {
			o.setStatus(Closed, "reopen window of "+days(p.ReopenWindow)+" elapsed", now)
			did = append(did, "closed")
		}
	}
	if slaRunning(o.Case) {
		due := o.Case.FirstResponseDue
		switch {
		case o.Case.SLABreachedAt.IsZero() && !now.Before(due):
			o.Case.SLABreachedAt = now
			o.Audit = append(o.Audit, AuditEntry{Kind: "sla_breach", To: due.UTC().Format(time.RFC3339),
				Reason: "no first response by the " + string(c.Severity) + " due time"})
			o.Notices = append(o.Notices, Notice{Kind: NoticeSLABreach, To: ToAgents, At: due},
				Notice{Kind: NoticeSLABreach, To: ToManager, At: due})
			did = append(did, "SLA breach")
		case o.Case.SLABreachedAt.IsZero() && o.Case.SLAWarnedAt.IsZero() &&
			!now.Before(SLAWarnAt(c.Severity, c.CreatedAt, due, p.SLA)):
			o.Case.SLAWarnedAt = now
			o.Audit = append(o.Audit, AuditEntry{Kind: "sla_warning", To: due.UTC().Format(time.RFC3339),
				Reason: "first response due soon"})
			o.Notices = append(o.Notices, Notice{Kind: NoticeSLAWarning, To: ToAgents, At: due})
			did = append(did, "SLA warning")
		}
	}
	if len(did) == 0 {
		o.Reason = "nothing due"
	} else {
		o.Reason = strings.Join(did, "; ")
	}
	return *o
}

// slaRunning: the first-response target still counts.
func slaRunning(c Case) bool {
	return c.Status != Solved && c.Status != Closed && c.FirstResponseAt.IsZero() && !c.FirstResponseDue.IsZero()
}

// NextDue returns the earliest time at which Timers will do something for c,
// and false when nothing is scheduled (Timers at an earlier time does
// nothing; at that time it does something). A scheduler can sleep until the
// earliest NextDue of its cases.
func NextDue(c Case, p Policy) (time.Time, bool) {
	var next time.Time
	consider := func(t time.Time) {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	switch c.Status {
	case Pending:
		if c.PendingSince.IsZero() {
			break
		}
		if c.RemindersSent < len(p.Reminders) {
			consider(c.PendingSince.Add(p.Reminders[c.RemindersSent]))
		} else {
			consider(c.PendingSince.Add(p.AutoSolveAfter))
		}
	case Solved:
		if u := ReopenUntil(c, p); !u.IsZero() {
			consider(u)
		}
	}
	if slaRunning(c) && c.SLABreachedAt.IsZero() {
		if c.SLAWarnedAt.IsZero() {
			consider(SLAWarnAt(c.Severity, c.CreatedAt, c.FirstResponseDue, p.SLA))
		}
		consider(c.FirstResponseDue)
	}
	return next, !next.IsZero()
}
