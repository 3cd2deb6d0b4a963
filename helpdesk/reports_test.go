package helpdesk_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/helpdesk/helpdesk/helpdesk"
)

func TestParseSince_AcceptsADateAnRFC3339TimeOrAnAge(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 5, 10, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{"2026-11-01", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)},
		{"2026-11-01T09:00:00+09:00", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)},
		{"30d", now.AddDate(0, 0, -30)},
		{"12h", now.Add(-12 * time.Hour)},
		{"90m", now.Add(-90 * time.Minute)},
		{" 1d ", now.Add(-24 * time.Hour)},
	} {
		got, err := helpdesk.ParseSince(tc.in, now)
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("ParseSince(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "yesterday", "30", "-3d", "0d", "3x", "2026-13-01", "d"} {
		if _, err := helpdesk.ParseSince(bad, now); !errors.Is(err, helpdesk.ErrInvalid) {
			t.Errorf("ParseSince(%q): err = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestPercentile_InterpolatesBetweenTheClosestRanks(t *testing.T) {
	t.Parallel()
	m := time.Minute
	tenMinutes := []time.Duration{10 * m, 3 * m, 1 * m, 2 * m, 4 * m, 5 * m, 6 * m, 7 * m, 8 * m, 9 * m}
	for _, tc := range []struct {
		name string
		ds   []time.Duration
		p    float64
		want time.Duration
	}{
		{"none", nil, 0.5, 0},
		{"one", []time.Duration{7 * m}, 0.9, 7 * m},
		{"median of an odd count is the middle", []time.Duration{3 * m, 1 * m, 2 * m}, 0.5, 2 * m},
		{"median of an even count is the mean of the middle two", []time.Duration{time.Hour, 2 * time.Hour}, 0.5, 90 * m},
		{"p90 of 1..10 minutes", tenMinutes, 0.9, 9*m + 6*time.Second},
		{"p0 is the minimum", tenMinutes, 0, 1 * m},
		{"p100 is the maximum", tenMinutes, 1, 10 * m},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := append([]time.Duration(nil), tc.ds...)
			if got := helpdesk.Percentile(tc.ds, tc.p); got != tc.want {
				t.Errorf("Percentile(%v, %v) = %v, want %v", tc.ds, tc.p, got, tc.want)
			}
			if !reflect.DeepEqual(before, tc.ds) {
				t.Errorf("Percentile reordered its input: %v", tc.ds)
			}
		})
	}
}

func TestClassifySLA_EachOutcome(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { x := t0.Add(d); return &x }
	now := t0.Add(10 * time.Hour)
	for _, tc := range []struct {
		name string
		c    helpdesk.SLACase
		want helpdesk.SLAOutcome
	}{
		{"answered by the due time", helpdesk.SLACase{Status: "pending", DueAt: at(2 * time.Hour), FirstResponseAt: at(2 * time.Hour)}, helpdesk.SLAMet},
		{"answered late", helpdesk.SLACase{Status: "open", DueAt: at(2 * time.Hour), FirstResponseAt: at(3 * time.Hour)}, helpdesk.SLABreached},
		{"unanswered past due", helpdesk.SLACase{Status: "on_hold", DueAt: at(2 * time.Hour)}, helpdesk.SLAOverdue},
		{"unanswered, not yet due", helpdesk.SLACase{Status: "open", DueAt: at(11 * time.Hour)}, helpdesk.SLAWaiting},
		{"solved unanswered before due", helpdesk.SLACase{Status: "solved", DueAt: at(8 * time.Hour), SolvedAt: at(time.Hour)}, helpdesk.SLAUnanswered},
		{"closed unanswered after due", helpdesk.SLACase{Status: "closed", DueAt: at(2 * time.Hour), SolvedAt: at(5 * time.Hour)}, helpdesk.SLABreached},
		{"no due time", helpdesk.SLACase{Status: "open", FirstResponseAt: at(time.Hour)}, helpdesk.SLANoTarget},
	} {
		tc.c.CreatedAt = t0
		if got := helpdesk.ClassifySLA(tc.c, now); got != tc.want {
			t.Errorf("%s: ClassifySLA = %s, want %s", tc.name, got, tc.want)
		}
	}
}

// reportSeed builds cases directly in the store, the way the daemon leaves them.
type reportSeed struct {
	t   *testing.T
	ctx context.Context
	s   *helpdesk.Store
}

func (r reportSeed) exec(query string, args ...any) {
	r.t.Helper()
	if _, err := r.s.DB().ExecContext(r.ctx, query, args...); err != nil {
		r.t.Fatalf("%s: %v", query, err)
	}
}

func (r reportSeed) newCase(u *helpdesk.User, sev string, created time.Time, due *time.Time) int64 {
	r.t.Helper()
	id, err := helpdesk.CreateCase(r.ctx, r.s.DB(), helpdesk.NewCase{Subject: "case", Severity: sev, OrgID: u.OrgID,
		SubmitterID: u.ID, Now: created, FirstDue: due})
	if err != nil {
		r.t.Fatal(err)
	}
	return id
}

func (r reportSeed) event(caseID int64, kind, to, reason string, at time.Time) {
	r.t.Helper()
	if err := helpdesk.AddEvent(r.ctx, r.s.DB(), helpdesk.NewEvent{CaseID: caseID, Kind: kind, To: to, Reason: reason, Now: at}); err != nil {
		r.t.Fatal(err)
	}
}

// assign assigns the case as #assign does: the column and an event.
func (r reportSeed) assign(caseID int64, agent *helpdesk.User, at time.Time) {
	r.t.Helper()
	r.exec(`UPDATE cases SET assignee_id = $2 WHERE id = $1`, caseID, agent.ID)
	r.event(caseID, "assignee", agent.LoginEmail, "#assign "+agent.LoginEmail, at)
}

func rptPct(v float64) *float64 { return &v }
func rptInt(v int64) *int64     { return &v }

func rptJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestReportCSAT_RatingsPerAgentAsAssignedWhenRatedWithResponseRateAndComments(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	r := reportSeed{t, ctx, s}
	mustOrg(t, s.DB(), "Support", "basic", "support.example")
	mustOrg(t, s.DB(), "Acme", "basic", "acme.example")
	alice := mustUser(t, s.DB(), "alice@support.example", "agent", "Support")
	bob := mustUser(t, s.DB(), "bob@support.example", "agent", "Support")
	kim := mustUser(t, s.DB(), "kim@acme.example", "customer", "Acme")
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	h := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }

	c1 := r.newCase(kim, "S3", h(0), nil) // alice; good with a comment
	r.assign(c1, alice, h(1))
	r.event(c1, "survey", "sent", "", h(30))
	r.event(c1, "survey", "good", "quick fix", h(31))

	c2 := r.newCase(kim, "S3", h(0), nil) // alice; bad, then good: the latest counts, both comments listed
	r.assign(c2, alice, h(1))
	r.event(c2, "survey", "sent", "", h(40))
	r.event(c2, "survey", "bad", "slow", h(41))
	r.event(c2, "survey", "good", "actually fine", h(42))

	c3 := r.newCase(kim, "S3", h(0), nil) // bob; never answered
	r.assign(c3, bob, h(1))
	r.event(c3, "survey", "sent", "", h(50))

	c4 := r.newCase(kim, "S3", h(0), nil) // surveyed under alice, rated after a handover to bob
	r.assign(c4, alice, h(1))
	r.event(c4, "survey", "sent", "", h(60))
	r.assign(c4, bob, h(61))
	r.event(c4, "survey", "bad", "handover lost context", h(62))

	c5 := r.newCase(kim, "S3", h(0), nil) // unassigned; bad without a comment
	r.event(c5, "survey", "sent", "", h(70))
	r.event(c5, "survey", "bad", "", h(71))

	c6 := r.newCase(kim, "S3", h(-100), nil) // before --since
	r.assign(c6, alice, h(-99))
	r.event(c6, "survey", "sent", "", h(-50))
	r.event(c6, "survey", "bad", "old complaint", h(-49))

	c7 := r.newCase(kim, "S3", h(0), nil) // assigned to bob when created (no assignment event)
	r.exec(`UPDATE cases SET assignee_id = $2 WHERE id = $1`, c7, bob.ID)
	r.event(c7, "survey", "sent", "", h(80))
	r.event(c7, "survey", "good", "", h(81))

	c8 := r.newCase(kim, "S3", h(0), nil) // bob; rated before the survey went out: that survey is unanswered
	r.assign(c8, bob, h(1))
	r.event(c8, "survey", "good", "", h(90))
	r.event(c8, "survey", "sent", "", h(91))

	evs, err := helpdesk.SurveyEvents(ctx, s.DB(), t0)
	if err != nil {
		t.Fatal(err)
	}
	got := helpdesk.SummarizeCSAT(evs)

	// By hand: alice was assigned when c1, c2 and c4 were surveyed (all
	// three answered) and when c1 and c2 were last rated (good, good); bob
	// when c3, c7 and c8 were surveyed (c7 answered after) and when c4
	// (bad), c7 and c8 (good) were rated; c5 is unassigned.
	want := []helpdesk.CSATLine{
		{Agent: "alice@support.example", Good: 2, Bad: 0, Satisfaction: rptPct(100), SurveysSent: 3, SurveysAnswered: 3, ResponseRate: rptPct(100)},
		{Agent: "bob@support.example", Good: 2, Bad: 1, Satisfaction: rptPct(66.7), SurveysSent: 3, SurveysAnswered: 1, ResponseRate: rptPct(33.3)},
		{Agent: "", Good: 0, Bad: 1, Satisfaction: rptPct(0), SurveysSent: 1, SurveysAnswered: 1, ResponseRate: rptPct(100)},
	}
	if !reflect.DeepEqual(got.Agents, want) {
		t.Errorf("agents:\n got %s\nwant %s", rptJSON(t, got.Agents), rptJSON(t, want))
	}
	overall := helpdesk.CSATLine{Good: 4, Bad: 2, Satisfaction: rptPct(66.7), SurveysSent: 7, SurveysAnswered: 5, ResponseRate: rptPct(71.4)}
	if !reflect.DeepEqual(got.Overall, overall) {
		t.Errorf("overall:\n got %s\nwant %s", rptJSON(t, got.Overall), rptJSON(t, overall))
	}
	type comment struct {
		caseID        int64
		agent, rating string
		comment       string
	}
	var comments []comment
	for _, c := range got.Comments {
		comments = append(comments, comment{c.CaseID, c.Agent, c.Rating, c.Comment})
	}
	wantComments := []comment{
		{c4, "bob@support.example", "bad", "handover lost context"},
		{c2, "alice@support.example", "good", "actually fine"},
		{c2, "alice@support.example", "bad", "slow"},
		{c1, "alice@support.example", "good", "quick fix"},
	}
	if !reflect.DeepEqual(comments, wantComments) {
		t.Errorf("comments (newest first):\n got %+v\nwant %+v", comments, wantComments)
	}
}

func TestReportSLA_FirstResponseAttainmentBySeverityAndPlan(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	r := reportSeed{t, ctx, s}
	mustOrg(t, s.DB(), "Acme", "basic", "acme.example")
	mustOrg(t, s.DB(), "Bigco", "premium", "bigco.example")
	acme := mustUser(t, s.DB(), "kim@acme.example", "customer", "Acme")
	big := mustUser(t, s.DB(), "lee@bigco.example", "customer", "Bigco")
	loner := mustUser(t, s.DB(), "solo@mail.example", "customer", "")
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { x := t0.Add(d); return &x }
	now := t0.Add(10 * time.Hour)
	respond := func(id int64, d time.Duration) {
		r.exec(`UPDATE cases SET first_response_at = $2 WHERE id = $1`, id, *at(d))
	}
	solve := func(id int64, d time.Duration) {
		r.exec(`UPDATE cases SET status = 'solved', solved_at = $2 WHERE id = $1`, id, *at(d))
	}

	a := r.newCase(acme, "S2", t0, at(4*time.Hour)) // met in 1h
	respond(a, time.Hour)
	b := r.newCase(acme, "S2", t0, at(4*time.Hour)) // breached: 6h
	respond(b, 6*time.Hour)
	c := r.newCase(big, "S1", t0, at(2*time.Hour)) // met in 30m
	respond(c, 30*time.Minute)
	r.newCase(big, "S1", t0, at(2*time.Hour))        // overdue at now
	r.newCase(big, "S3", t0, at(12*time.Hour))       // waiting
	f := r.newCase(loner, "S3", t0, at(8*time.Hour)) // solved unanswered before due
	solve(f, time.Hour)
	g := r.newCase(loner, "S4", t0, at(9*time.Hour)) // solved unanswered after due: breached
	solve(g, 9*time.Hour+30*time.Minute)
	h := r.newCase(acme, "S3", t0, at(8*time.Hour)) // merged: not counted
	r.exec(`UPDATE cases SET status = 'solved', solved_at = $2, merged_into = $3 WHERE id = $1`, h, *at(time.Hour), a)
	old := r.newCase(acme, "S1", t0.Add(-48*time.Hour), at(-46*time.Hour)) // before --since
	respond(old, -40*time.Hour)
	j := r.newCase(acme, "S4", t0, nil) // no target; answered in 2h
	respond(j, 2*time.Hour)

	cs, err := helpdesk.SLACases(ctx, s.DB(), t0)
	if err != nil {
		t.Fatal(err)
	}
	got := helpdesk.SummarizeSLA(cs, now)

	// By hand. Response times: a 1h, b 6h, c 30m, j 2h.
	secs := func(d time.Duration) *int64 { return rptInt(int64(d / time.Second)) }
	want := helpdesk.SLAReport{
		// median of 30m,1h,2h,6h = 1h30m; p90: rank 2.7 = 2h + 0.7×4h = 4h48m
		Overall: helpdesk.SLALine{Group: "all", Cases: 8, Met: 2, Breached: 2, Overdue: 1, Waiting: 1, Unanswered: 1, NoTarget: 1,
			Attainment: rptPct(40), Responded: 4, MedianSeconds: secs(90 * time.Minute), P90Seconds: secs(4*time.Hour + 48*time.Minute)},
		BySeverity: []helpdesk.SLALine{
			{Group: "S1", Cases: 2, Met: 1, Overdue: 1, Attainment: rptPct(50), Responded: 1, MedianSeconds: secs(30 * time.Minute), P90Seconds: secs(30 * time.Minute)},
			// median of 1h,6h = 3h30m; p90: 1h + 0.9×5h = 5h30m
			{Group: "S2", Cases: 2, Met: 1, Breached: 1, Attainment: rptPct(50), Responded: 2, MedianSeconds: secs(210 * time.Minute), P90Seconds: secs(330 * time.Minute)},
			{Group: "S3", Cases: 2, Waiting: 1, Unanswered: 1},
			{Group: "S4", Cases: 2, Breached: 1, NoTarget: 1, Attainment: rptPct(0), Responded: 1, MedianSeconds: secs(2 * time.Hour), P90Seconds: secs(2 * time.Hour)},
		},
		ByPlan: []helpdesk.SLALine{
			// 1h, 2h, 6h: median 2h; p90: rank 1.8 = 2h + 0.8×4h = 5h12m
			{Group: "basic", Cases: 3, Met: 1, Breached: 1, NoTarget: 1, Attainment: rptPct(50), Responded: 3, MedianSeconds: secs(2 * time.Hour),
				P90Seconds: secs(5*time.Hour + 12*time.Minute)},
			{Group: "advanced"},
			{Group: "premium", Cases: 3, Met: 1, Overdue: 1, Waiting: 1, Attainment: rptPct(50), Responded: 1, MedianSeconds: secs(30 * time.Minute), P90Seconds: secs(30 * time.Minute)},
			{Group: "none", Cases: 2, Breached: 1, Unanswered: 1, Attainment: rptPct(0)},
		},
	}
	if !reflect.DeepEqual(rptJSON(t, got), rptJSON(t, want)) {
		t.Errorf("sla report:\n got %s\nwant %s", rptJSON(t, got), rptJSON(t, want))
	}
}

func TestReportLoad_UnsolvedCasesPerAgentAndTheOldestOpenOne(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	r := reportSeed{t, ctx, s}
	mustOrg(t, s.DB(), "Support", "basic", "support.example")
	mustOrg(t, s.DB(), "Acme", "basic", "acme.example")
	alice := mustUser(t, s.DB(), "alice@support.example", "agent", "Support")
	bob := mustUser(t, s.DB(), "bob@support.example", "agent", "Support")
	carol := mustUser(t, s.DB(), "carol@support.example", "agent", "Support")
	mustUser(t, s.DB(), "dave@support.example", "manager", "Support")
	mustUser(t, s.DB(), "erin@support.example", "agent", "Support") // disabled, nothing assigned: not listed
	r.exec(`UPDATE users SET active = false WHERE login_email IN ('carol@support.example', 'erin@support.example')`)
	kim := mustUser(t, s.DB(), "kim@acme.example", "customer", "Acme")
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	newCase := func(assignee *helpdesk.User, status string, age time.Duration) int64 {
		id := r.newCase(kim, "S3", now.Add(-age), nil)
		if assignee != nil {
			r.exec(`UPDATE cases SET assignee_id = $2 WHERE id = $1`, id, assignee.ID)
		}
		switch status {
		case "pending":
			r.exec(`UPDATE cases SET status = 'pending', pending_since = $2 WHERE id = $1`, id, now)
		case "on_hold":
			r.exec(`UPDATE cases SET status = 'on_hold' WHERE id = $1`, id)
		case "solved":
			r.exec(`UPDATE cases SET status = 'solved', solved_at = $2 WHERE id = $1`, id, now)
		}
		return id
	}
	aliceOldest := newCase(alice, "open", 3*day)
	newCase(alice, "open", day)
	newCase(alice, "pending", 9*day) // older, but waiting on the customer
	newCase(bob, "on_hold", 4*day)
	newCase(bob, "solved", 20*day)
	carolOld := newCase(carol, "open", 5*day)
	unassignedOldest := newCase(nil, "open", 2*day)
	newCase(nil, "open", 10*time.Hour)

	rows, err := helpdesk.LoadRows(ctx, s.DB())
	if err != nil {
		t.Fatal(err)
	}
	got := helpdesk.SummarizeLoad(rows, now)
	secs := func(d time.Duration) *int64 { return rptInt(int64(d / time.Second)) }
	want := helpdesk.LoadReport{At: now, Agents: []helpdesk.LoadLine{
		{Agent: "alice@support.example", Open: 2, Pending: 1, Total: 3, OldestOpenCase: &aliceOldest, OldestOpenAgeSeconds: secs(3 * day)},
		{Agent: "bob@support.example", OnHold: 1, Total: 1},
		{Agent: "carol@support.example", Disabled: true, Open: 1, Total: 1, OldestOpenCase: &carolOld, OldestOpenAgeSeconds: secs(5 * day)},
		{Agent: "dave@support.example"},
		{Agent: "", Open: 2, Total: 2, OldestOpenCase: &unassignedOldest, OldestOpenAgeSeconds: secs(2 * day)},
	}, Total: helpdesk.LoadLine{Open: 5, Pending: 1, OnHold: 1, Total: 7, OldestOpenCase: &carolOld, OldestOpenAgeSeconds: secs(5 * day)}}
	if !reflect.DeepEqual(rptJSON(t, got), rptJSON(t, want)) {
		t.Errorf("load report:\n got %s\nwant %s", rptJSON(t, got), rptJSON(t, want))
	}
}
