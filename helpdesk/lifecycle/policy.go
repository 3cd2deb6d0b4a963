package lifecycle

import (
	"errors"
	"fmt"
	"time"
)

// Status is a case status; the values are those of the cases table.
type Status string

const (
	Open    Status = "open"    // waiting on support
	Pending Status = "pending" // waiting on the requester
	OnHold  Status = "on_hold" // waiting on an internal team
	Solved  Status = "solved"
	Closed  Status = "closed" // terminal
)

// Statuses lists every status.
func Statuses() []Status { return []Status{Open, Pending, OnHold, Solved, Closed} }

// Severity is S1 (most urgent) to S4.
type Severity string

const (
	S1 Severity = "S1"
	S2 Severity = "S2"
	S3 Severity = "S3" // the default
	S4 Severity = "S4"
)

// Valid reports whether s is S1..S4.
func (s Severity) Valid() bool { return s == S1 || s == S2 || s == S3 || s == S4 }

// Support plans of an org (orgs.plan); "" is a submitter without an org.
const (
	PlanBasic    = "basic"
	PlanAdvanced = "advanced"
	PlanPremium  = "premium"
)

// premiumPlan reports whether the plan includes escalations and priority headers.
func premiumPlan(plan string) bool { return plan == PlanAdvanced || plan == PlanPremium }

// Case is the part of a case row the rules read and write. A zero time means
// NULL (not set).
type Case struct {
	ID       int64
	Status   Status
	Severity Severity
	Plan     string // the support plan of the case's org, "" without one

	CreatedAt        time.Time
	FirstResponseAt  time.Time
	FirstResponseDue time.Time
	SLAWarnedAt      time.Time
	SLABreachedAt    time.Time
	PendingSince     time.Time
	RemindersSent    int
	SolvedAt         time.Time
	SolvedReason     string
	ClosedAt         time.Time
	// Consent is where the case's request for access to logs stands (its
	// latest consent event; not a cases column).
	Consent Consent
}

// Policy holds the configurable rules. Start from DefaultPolicy.
type Policy struct {
	// ReopenWindow: a reply reopens a solved case within it; afterwards the
	// case closes and a reply opens a follow-up case.
	ReopenWindow time.Duration
	// Reminders are sent to the requester this long after the case became
	// pending, ascending.
	Reminders []time.Duration
	// AutoSolveAfter: a pending case is solved with reason "no response" this
	// long after it became pending, once every reminder went out.
	AutoSolveAfter time.Duration
	// ThankYouKeepsSolved: a reply that is only a thank-you does not reopen a
	// solved case (nor open a follow-up of a closed one).
	ThankYouKeepsSolved bool
	SLA                 SLAPolicy
}

// DefaultPolicy returns the defaults of DESIGN.md: reopen window 30 days,
// reminders after 3 and 6 days, auto-solve on day 7, thank-you keeps a case
// solved, and DefaultSLA.
func DefaultPolicy() Policy {
	return Policy{
		ReopenWindow:        30 * 24 * time.Hour,
		Reminders:           []time.Duration{3 * 24 * time.Hour, 6 * 24 * time.Hour},
		AutoSolveAfter:      7 * 24 * time.Hour,
		ThankYouKeepsSolved: true,
		SLA:                 DefaultSLA(),
	}
}

// Validate reports the first problem of p, if any.
func (p Policy) Validate() error {
	if p.ReopenWindow <= 0 {
		return fmt.Errorf("reopen window %v: must be positive", p.ReopenWindow)
	}
	if p.AutoSolveAfter <= 0 {
		return fmt.Errorf("auto-solve after %v: must be positive", p.AutoSolveAfter)
	}
	var prev time.Duration
	for i, r := range p.Reminders {
		if r <= prev {
			return fmt.Errorf("reminder %d after %v: reminders must be positive and ascending", i+1, r)
		}
		if r >= p.AutoSolveAfter {
			return fmt.Errorf("reminder %d after %v: must come before auto-solve after %v", i+1, r, p.AutoSolveAfter)
		}
		prev = r
	}
	if err := p.SLA.Validate(); err != nil {
		return fmt.Errorf("sla: %w", err)
	}
	return nil
}

var errNoBusinessDay = errors.New("no business day in the week")
