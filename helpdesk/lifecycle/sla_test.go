package lifecycle

import (
	"strings"
	"testing"
	"time"
)

func mustZone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return loc
}

// seoulSLA: business hours 09–18 Monday to Friday in Asia/Seoul, default targets.
func seoulSLA(t testing.TB, holidays ...Date) SLAPolicy {
	p := DefaultSLA()
	p.Hours.Location = mustZone(t, "Asia/Seoul")
	p.Hours.Holidays = holidays
	return p
}

func TestFirstResponseDue_BusinessHoursInSeoul(t *testing.T) {
	kst := mustZone(t, "Asia/Seoul")
	at := func(day, h, m int) time.Time { return time.Date(2026, time.November, day, h, m, 0, 0, kst) }
	// 2026-11-20 is a Friday, 11-23 a Monday.
	tests := []struct {
		name     string
		sev      Severity
		created  time.Time
		holidays []Date
		want     time.Time
	}{
		{"S3 8h from Friday 17:00 runs 1h on Friday and 7h on Monday", S3, at(20, 17, 0), nil, at(23, 16, 0)},
		{"S3 8h from Friday 17:00 skips a Monday holiday", S3, at(20, 17, 0), []Date{{2026, time.November, 23}}, at(24, 16, 0)},
		{"S3 from Saturday starts at Monday's opening", S3, at(21, 10, 0), nil, at(23, 17, 0)},
		{"S3 before opening starts at the opening", S3, at(19, 8, 0), nil, at(19, 17, 0)},
		{"S3 after closing starts the next morning", S3, at(19, 19, 30), nil, at(20, 17, 0)},
		{"S3 that fits exactly ends at the closing time", S3, at(19, 10, 0), nil, at(19, 18, 0)},
		{"S3 a second too late for the day spills into the next", S3, at(19, 10, 0).Add(time.Second), nil, at(20, 9, 0).Add(time.Second)},
		{"S2 4h from Friday 17:00 is Monday noon", S2, at(20, 17, 0), nil, at(23, 12, 0)},
		{"S1 2h runs around the clock on a Saturday night", S1, at(21, 23, 30), nil, at(22, 1, 30)},
		{"S4 from Monday is due at Tuesday's closing", S4, at(23, 10, 0), nil, at(24, 18, 0)},
		{"S4 from Friday is due at Monday's closing", S4, at(20, 17, 0), nil, at(23, 18, 0)},
		{"S4 from Saturday is due at Monday's closing", S4, at(21, 10, 0), nil, at(23, 18, 0)},
		{"S4 from late Sunday is due at Monday's closing", S4, at(22, 23, 59), nil, at(23, 18, 0)},
		{"S4 from Friday skips a Monday holiday", S4, at(20, 9, 0), []Date{{2026, time.November, 23}}, at(24, 18, 0)},
		{"S4 from Monday before opening is still the next business day", S4, at(23, 7, 0), nil, at(24, 18, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FirstResponseDue(tt.sev, tt.created, seoulSLA(t, tt.holidays...))
			if !got.Equal(tt.want) {
				t.Errorf("due %v, want %v", got.In(kst), tt.want)
			}
		})
	}
}

func TestFirstResponseDue_CreatedInUTCCountsSeoulHours(t *testing.T) {
	// Friday 08:00 UTC is Friday 17:00 in Seoul.
	created := time.Date(2026, time.November, 20, 8, 0, 0, 0, time.UTC)
	got := FirstResponseDue(S3, created, seoulSLA(t))
	if want := time.Date(2026, time.November, 23, 7, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("due %v, want %v (Monday 16:00 KST)", got.UTC(), want)
	}
}

func TestFirstResponseDue_AcrossDaylightSavingInNewYork(t *testing.T) {
	ny := mustZone(t, "America/New_York")
	p := DefaultSLA()
	p.Hours.Location = ny
	p.Hours.Open, p.Hours.Close = 9*time.Hour, 17*time.Hour
	// Friday 2026-03-06 16:00 EST; DST starts Sunday 03-08; Monday opens 09:00 EDT.
	got := FirstResponseDue(S3, time.Date(2026, time.March, 6, 16, 0, 0, 0, ny), p)
	if want := time.Date(2026, time.March, 9, 16, 0, 0, 0, ny); !got.Equal(want) {
		t.Errorf("due %v, want %v", got, want)
	}
	if _, off := got.Zone(); off != -4*3600 {
		t.Errorf("due offset %d, want EDT", off)
	}
	// 24h business days: the short DST day counts its real 23 hours.
	p.Hours.Open, p.Hours.Close = 0, 24*time.Hour
	p.Hours.Days = [7]bool{true, true, true, true, true, true, true}
	start := time.Date(2026, time.March, 7, 23, 0, 0, 0, ny)
	if got, want := p.Hours.Add(start, 4*time.Hour), start.Add(4*time.Hour); !got.Equal(want) {
		t.Errorf("24/7 add across DST: %v, want %v", got, want)
	}
	end := time.Date(2026, time.March, 9, 0, 0, 0, 0, ny)
	if got := p.Hours.Between(time.Date(2026, time.March, 8, 0, 0, 0, 0, ny), end); got != 23*time.Hour {
		t.Errorf("business time of the DST day: %v, want 23h", got)
	}
}

func TestBusinessHours_BetweenUndoesAdd(t *testing.T) {
	h := seoulSLA(t, Date{2026, time.November, 23}).Hours
	start := time.Date(2026, time.November, 18, 0, 0, 0, 0, h.Location)
	for m := 0; m < 7*24*60; m += 37 {
		from := start.Add(time.Duration(m) * time.Minute)
		for _, d := range []time.Duration{time.Minute, 90 * time.Minute, 8 * time.Hour, 9 * time.Hour, 30 * time.Hour} {
			to := h.Add(from, d)
			if got := h.Between(from, to); got != d {
				t.Fatalf("Between(%v, Add(%v)) = %v, want %v", from, d, got, d)
			}
		}
	}
}

func TestBusinessHours_BetweenOfReversedRangeIsZero(t *testing.T) {
	h := DefaultSLA().Hours
	a := time.Date(2026, time.November, 19, 12, 0, 0, 0, time.UTC)
	if got := h.Between(a, a.Add(-time.Hour)); got != 0 {
		t.Errorf("got %v, want 0", got)
	}
	if got := h.Add(a, 0); !got.Equal(a) {
		t.Errorf("Add 0: %v, want %v", got, a)
	}
}

func TestSLAWarnAt_SeventyFivePercentOrLeadInTheTargetsClock(t *testing.T) {
	kst := mustZone(t, "Asia/Seoul")
	fri := time.Date(2026, time.November, 20, 17, 0, 0, 0, kst)
	sat := time.Date(2026, time.November, 21, 3, 0, 0, 0, kst)
	lead := func(d time.Duration) SLAPolicy { p := seoulSLA(t); p.WarnLead = d; return p }
	tests := []struct {
		name    string
		sev     Severity
		created time.Time
		p       SLAPolicy
		want    time.Time
	}{
		{"S3 warns after 6 of 8 business hours: Monday 14:00", S3, fri, seoulSLA(t), time.Date(2026, time.November, 23, 14, 0, 0, 0, kst)},
		{"S3 with a 1h lead warns at Monday 15:00", S3, fri, lead(time.Hour), time.Date(2026, time.November, 23, 15, 0, 0, 0, kst)},
		{"S3 with a 2h lead reaches back over the weekend to Friday", S3, time.Date(2026, time.November, 20, 10, 0, 0, 0, kst), lead(2 * time.Hour), time.Date(2026, time.November, 20, 16, 0, 0, 0, kst)},
		{"S1 warns after 90 wall minutes", S1, sat, seoulSLA(t), sat.Add(90 * time.Minute)},
		{"S1 with a lead longer than the target warns at once", S1, sat, lead(3 * time.Hour), sat},
		{"S4 from Friday 17:00 (due Monday 18:00, 10 business hours) warns at Monday 15:30", S4, fri, seoulSLA(t), time.Date(2026, time.November, 23, 15, 30, 0, 0, kst)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			due := FirstResponseDue(tt.sev, tt.created, tt.p)
			got := SLAWarnAt(tt.sev, tt.created, due, tt.p)
			if !got.Equal(tt.want) {
				t.Errorf("warn at %v, want %v (due %v)", got.In(kst), tt.want, due.In(kst))
			}
			if got.After(due) {
				t.Errorf("warning %v after due %v", got, due)
			}
		})
	}
}

func TestSLAWarnAt_WithoutDueTimeIsZero(t *testing.T) {
	if got := SLAWarnAt(S3, time.Now(), time.Time{}, DefaultSLA()); !got.IsZero() {
		t.Errorf("got %v, want zero", got)
	}
	due := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if got := SLAWarnAt(S3, time.Time{}, due, DefaultSLA()); !got.Equal(due) {
		t.Errorf("unknown creation: got %v, want the due time", got)
	}
}

func TestFirstResponseDue_UnknownSeverityHasNoTarget(t *testing.T) {
	if got := FirstResponseDue("S9", time.Now(), DefaultSLA()); !got.IsZero() {
		t.Errorf("got %v, want zero", got)
	}
}

func TestPolicyValidate_RejectsInconsistentSettings(t *testing.T) {
	if err := DefaultPolicy().Validate(); err != nil {
		t.Fatalf("default policy: %v", err)
	}
	tests := []struct {
		name   string
		mutate func(*Policy)
		want   string
	}{
		{"zero reopen window", func(p *Policy) { p.ReopenWindow = 0 }, "reopen window"},
		{"zero auto-solve", func(p *Policy) { p.AutoSolveAfter = 0 }, "auto-solve"},
		{"reminders out of order", func(p *Policy) { p.Reminders = []time.Duration{72 * time.Hour, 24 * time.Hour} }, "ascending"},
		{"reminder after auto-solve", func(p *Policy) { p.Reminders = []time.Duration{200 * time.Hour} }, "before auto-solve"},
		{"no business day", func(p *Policy) { p.SLA.Hours.Days = [7]bool{} }, "no business day"},
		{"closing before opening", func(p *Policy) { p.SLA.Hours.Open, p.SLA.Hours.Close = 18*time.Hour, 9*time.Hour }, "open < close"},
		{"closing after midnight", func(p *Policy) { p.SLA.Hours.Close = 25 * time.Hour }, "close <= 24h"},
		{"zero S1 target", func(p *Policy) { p.SLA.Targets[S1] = Target{} }, "S1 target"},
		{"missing target", func(p *Policy) { delete(p.SLA.Targets, S4) }, "no first-response target for S4"},
		{"zero business target", func(p *Policy) { p.SLA.Targets[S2] = Target{Clock: BusinessTime} }, "S2 target"},
		{"unknown clock", func(p *Policy) { p.SLA.Targets[S2] = Target{Clock: 7, Within: time.Hour} }, "unknown clock"},
		{"warn fraction of 1", func(p *Policy) { p.SLA.WarnFraction = 1 }, "warn fraction"},
		{"negative warn lead", func(p *Policy) { p.SLA.WarnLead = -time.Minute }, "warn lead"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := DefaultPolicy()
			tt.mutate(&p)
			err := p.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate() = %v, want an error with %q", err, tt.want)
			}
		})
	}
}

func TestPolicyValidate_WarnLeadReplacesFraction(t *testing.T) {
	p := DefaultPolicy()
	p.SLA.WarnFraction, p.SLA.WarnLead = 0, 30*time.Minute
	if err := p.Validate(); err != nil {
		t.Errorf("Validate() = %v, want nil", err)
	}
}

func TestBusinessHours_NilLocationIsUTC(t *testing.T) {
	h := DefaultSLA().Hours
	h.Location = nil
	got := h.Add(time.Date(2026, time.November, 20, 17, 0, 0, 0, time.UTC), 2*time.Hour)
	if want := time.Date(2026, time.November, 23, 10, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
