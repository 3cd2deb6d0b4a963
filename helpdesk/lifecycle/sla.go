package lifecycle

import (
	"fmt"
	"time"
)

// Date is a calendar date in the business hours' time zone.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// BusinessHours are the hours support works, in one time zone.
type BusinessHours struct {
	Location    *time.Location // nil means UTC
	Open, Close time.Duration  // time of day, e.g. 9h and 18h; Close may be 24h
	Days        [7]bool        // indexed by time.Weekday
	Holidays    []Date         // dates without business hours
}

// Clock says how a target's time runs.
type Clock int

const (
	AroundTheClock  Clock = iota // wall time
	BusinessTime                 // only within business hours
	NextBusinessDay              // due at the close of the first business day after the day of creation
)

// Target is a first-response target. Within is unused for NextBusinessDay.
type Target struct {
	Clock  Clock
	Within time.Duration
}

// SLAPolicy holds the first-response targets and when to warn.
type SLAPolicy struct {
	Hours   BusinessHours
	Targets map[Severity]Target
	// WarnFraction: warn when this fraction of the target's time elapsed
	// (counted in the target's clock), e.g. 0.75.
	WarnFraction float64
	// WarnLead, when positive, replaces WarnFraction: warn this long (in the
	// target's clock) before the due time.
	WarnLead time.Duration
}

// DefaultSLA: Monday to Friday 09:00–18:00 UTC; S1 2h around the clock, S2 4h
// and S3 8h of business time, S4 the next business day; warn at 75%.
func DefaultSLA() SLAPolicy {
	return SLAPolicy{
		Hours: BusinessHours{
			Location: time.UTC,
			Open:     9 * time.Hour,
			Close:    18 * time.Hour,
			Days:     [7]bool{time.Monday: true, time.Tuesday: true, time.Wednesday: true, time.Thursday: true, time.Friday: true},
		},
		Targets: map[Severity]Target{
			S1: {Clock: AroundTheClock, Within: 2 * time.Hour},
			S2: {Clock: BusinessTime, Within: 4 * time.Hour},
			S3: {Clock: BusinessTime, Within: 8 * time.Hour},
			S4: {Clock: NextBusinessDay},
		},
		WarnFraction: 0.75,
	}
}

// Validate reports the first problem of p, if any.
func (p SLAPolicy) Validate() error {
	if err := p.Hours.Validate(); err != nil {
		return fmt.Errorf("business hours: %w", err)
	}
	for _, s := range []Severity{S1, S2, S3, S4} {
		t, ok := p.Targets[s]
		if !ok {
			return fmt.Errorf("no first-response target for %s", s)
		}
		switch t.Clock {
		case AroundTheClock, BusinessTime:
			if t.Within <= 0 {
				return fmt.Errorf("%s target %v: must be positive", s, t.Within)
			}
		case NextBusinessDay:
		default:
			return fmt.Errorf("%s target: unknown clock %d", s, t.Clock)
		}
	}
	if p.WarnLead < 0 {
		return fmt.Errorf("warn lead %v: must not be negative", p.WarnLead)
	}
	if p.WarnLead == 0 && (p.WarnFraction <= 0 || p.WarnFraction >= 1) {
		return fmt.Errorf("warn fraction %v: must be between 0 and 1", p.WarnFraction)
	}
	return nil
}

// Validate reports the first problem of h, if any.
func (h BusinessHours) Validate() error {
	if h.Open < 0 || h.Close > 24*time.Hour || h.Open >= h.Close {
		return fmt.Errorf("hours %v–%v: want 0 <= open < close <= 24h", h.Open, h.Close)
	}
	for _, d := range h.Days {
		if d {
			return nil
		}
	}
	return errNoBusinessDay
}

func (h BusinessHours) loc() *time.Location {
	if h.Location == nil {
		return time.UTC
	}
	return h.Location
}

// maxDays bounds the day walks; only a calendar of holidays without end
// reaches it, and then the walks fall back to wall time.
const maxDays = 3660

// date returns the calendar date offset days after t's date in h's zone.
func (h BusinessHours) date(t time.Time, offset int) Date {
	y, m, d := t.In(h.loc()).Date()
	y, m, d = time.Date(y, m, d+offset, 12, 0, 0, 0, h.loc()).Date()
	return Date{y, m, d}
}

// at returns the wall time of day tod on date d in h's zone (24h is the next
// midnight).
func (h BusinessHours) at(d Date, tod time.Duration) time.Time {
	return time.Date(d.Year, d.Month, d.Day, int(tod/time.Hour), int(tod%time.Hour/time.Minute),
		int(tod%time.Minute/time.Second), int(tod%time.Second), h.loc())
}

// IsBusinessDay reports whether d is a working day that is no holiday.
func (h BusinessHours) IsBusinessDay(d Date) bool {
	if !h.Days[time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, h.loc()).Weekday()] {
		return false
	}
	for _, x := range h.Holidays {
		if x == d {
			return false
		}
	}
	return true
}

// window returns the business hours of date d, if it is a business day.
func (h BusinessHours) window(d Date) (start, end time.Time, ok bool) {
	if !h.IsBusinessDay(d) {
		return time.Time{}, time.Time{}, false
	}
	return h.at(d, h.Open), h.at(d, h.Close), true
}

// Add returns the instant when d of business time has passed since t. A
// t outside business hours starts counting at the next opening; the result
// may be a closing time (Fri 17:00 plus 1h with hours 09–18 is Fri 18:00).
// Add(t, 0) is t.
func (h BusinessHours) Add(t time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return t
	}
	for i := range maxDays {
		start, end, ok := h.window(h.date(t, i))
		if !ok || !end.After(t) {
			continue
		}
		if start.Before(t) {
			start = t
		}
		avail := end.Sub(start)
		if d <= avail {
			return start.Add(d)
		}
		d -= avail
	}
	return t.Add(d)
}

// Between returns the business time from a to b (0 when b is not after a).
func (h BusinessHours) Between(a, b time.Time) time.Duration {
	var sum time.Duration
	for i := range maxDays {
		if !b.After(a) {
			break
		}
		start, end, ok := h.window(h.date(a, i))
		if !ok {
			continue
		}
		if !start.Before(b) {
			break
		}
		if start.Before(a) {
			start = a
		}
		if end.After(b) {
			end = b
		}
		if end.After(start) {
			sum += end.Sub(start)
		}
	}
	return sum
}

// NextBusinessDayClose returns the closing time of the first business day
// after t's date.
func (h BusinessHours) NextBusinessDayClose(t time.Time) time.Time {
	for i := 1; i <= maxDays; i++ {
		if d := h.date(t, i); h.IsBusinessDay(d) {
			return h.at(d, h.Close)
		}
	}
	return t.Add(24 * time.Hour)
}

// FirstResponseDue returns when the first response to a case of severity sev
// created at created is due, or the zero time when p has no target for sev.
func FirstResponseDue(sev Severity, created time.Time, p SLAPolicy) time.Time {
	t, ok := p.Targets[sev]
	if !ok {
		return time.Time{}
	}
	switch t.Clock {
	case AroundTheClock:
		return created.Add(t.Within)
	case BusinessTime:
		return p.Hours.Add(created, t.Within)
	case NextBusinessDay:
		return p.Hours.NextBusinessDayClose(created)
	}
	return time.Time{}
}

// SLAWarnAt returns when to warn that the first response to a case of
// severity sev, created at created and due at due, is due soon: when
// WarnFraction of the time from created to due elapsed, or WarnLead before
// due, both counted in the target's clock (business time for BusinessTime and
// NextBusinessDay). It is the zero time when due is, and due when created
// is zero or not before due.
func SLAWarnAt(sev Severity, created, due time.Time, p SLAPolicy) time.Time {
	if due.IsZero() {
		return time.Time{}
	}
	if created.IsZero() || !created.Before(due) {
		return due
	}
	business := p.Targets[sev].Clock != AroundTheClock
	total := due.Sub(created)
	if business {
		total = p.Hours.Between(created, due)
	}
	var elapsed time.Duration
	if p.WarnLead > 0 {
		elapsed = total - p.WarnLead
	} else {
		elapsed = time.Duration(float64(total) * p.WarnFraction)
	}
	if elapsed <= 0 {
		return created
	}
	if business {
		return p.Hours.Add(created, elapsed)
	}
	return created.Add(elapsed)
}
