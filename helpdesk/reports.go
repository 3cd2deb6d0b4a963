package helpdesk

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Reports for operators (`helpdeskd report csat|sla|load`): the store
// functions read typed rows, the Summarize functions aggregate them in Go
// as of a given now.

// ParseSince reads a report's --since: a date (2006-01-02, midnight UTC), an
// RFC 3339 time, or an age before now such as 30d, 12h or 90m.
func ParseSince(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	var d time.Duration
	var err error
	if n, ok := strings.CutSuffix(s, "d"); ok {
		var days int
		if days, err = strconv.Atoi(n); err == nil {
			d = time.Duration(days) * 24 * time.Hour
		}
	} else {
		d, err = time.ParseDuration(s)
	}
	if err != nil || d <= 0 || s == "" {
		return time.Time{}, fmt.Errorf("%w: since %q: want a date (2006-01-02), an RFC 3339 time or an age such as 30d or 12h", ErrInvalid, s)
	}
	return now.Add(-d), nil
}

// Percentile is the p-quantile (0 <= p <= 1) of ds by linear interpolation
// between the closest ranks: the median of 1h and 2h is 1h30m. It is 0 for
// no values; ds need not be sorted and is not changed.
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	p = math.Min(1, math.Max(0, p))
	h := p * float64(len(s)-1)
	lo := int(math.Floor(h))
	if lo >= len(s)-1 {
		return s[len(s)-1]
	}
	return s[lo] + time.Duration(math.Round((h-float64(lo))*float64(s[lo+1]-s[lo])))
}

// percent is part of whole in percent, rounded to a tenth; nil when whole is 0.
func percent(part, whole int) *float64 {
	if whole == 0 {
		return nil
	}
	v := math.Round(float64(part)*1000/float64(whole)) / 10
	return &v
}

// --- Satisfaction (csat) ---

// SurveyEvent is a survey sent ("sent") or answered ("good", "bad") on a
// case, with the case's assignee at that moment.
type SurveyEvent struct {
	ID      int64     `db:"id"`
	CaseID  int64     `db:"case_id"`
	Subject string    `db:"subject"`
	Answer  string    `db:"answer"` // sent, good or bad
	Comment string    `db:"comment"`
	Agent   string    `db:"agent"` // "" : unassigned
	At      time.Time `db:"created_at"`
}

// SurveyEvents returns the survey events since since, oldest first. The
// agent is the target of the case's last assignment at or before the event,
// else (a case assigned when it was created) its assignee now.
func SurveyEvents(ctx context.Context, q Queryer, since time.Time) ([]SurveyEvent, error) {
	evs := []SurveyEvent{}
	err := q.SelectContext(ctx, &evs, `SELECT e.id, e.case_id, c.subject, e.to_value AS answer, e.reason AS comment, e.created_at,
			coalesce((SELECT a.to_value FROM case_events a
			          WHERE a.case_id = e.case_id AND a.kind = 'assignee' AND (a.created_at, a.id) <= (e.created_at, e.id)
			          ORDER BY a.created_at DESC, a.id DESC LIMIT 1),
			         u.login_email, '') AS agent
		FROM case_events e JOIN cases c ON c.id = e.case_id LEFT JOIN users u ON u.id = c.assignee_id
		WHERE e.kind = 'survey' AND e.to_value IN ('sent', 'good', 'bad') AND e.created_at >= $1
		ORDER BY e.created_at, e.id`, since)
	if err != nil {
		return nil, fmt.Errorf("survey events: %w", mapErr(err))
	}
	return evs, nil
}

// CSATLine is the satisfaction of one agent, or of everyone.
type CSATLine struct {
	Agent           string   `json:"agent"` // "" : unassigned cases (or, as overall, everyone)
	Good            int      `json:"good"`
	Bad             int      `json:"bad"`
	Satisfaction    *float64 `json:"satisfaction_pct"` // good of good+bad; null without ratings
	SurveysSent     int      `json:"surveys_sent"`
	SurveysAnswered int      `json:"surveys_answered"`
	ResponseRate    *float64 `json:"response_rate_pct"` // answered of sent; null when none was sent
}

// CSATComment is a rating's comment.
type CSATComment struct {
	CaseID  int64     `json:"case_id"`
	Subject string    `json:"subject"`
	Agent   string    `json:"agent"`
	Rating  string    `json:"rating"`
	Comment string    `json:"comment"`
	At      time.Time `json:"at"`
}

// CSATReport is `report csat`.
type CSATReport struct {
	Since    *time.Time    `json:"since"`
	Overall  CSATLine      `json:"overall"`
	Agents   []CSATLine    `json:"agents"`
	Comments []CSATComment `json:"comments"`
}

// SummarizeCSAT aggregates survey events (oldest first). A case's latest
// rating counts, for the agent assigned when it was given; every comment is
// listed, newest first. A survey counts as answered when its case was rated
// at or after it was sent, and belongs to the agent assigned when it was sent.
func SummarizeCSAT(evs []SurveyEvent) CSATReport {
	latest := map[int64]SurveyEvent{}
	rep := CSATReport{Agents: []CSATLine{}, Comments: []CSATComment{}}
	for _, e := range evs {
		if e.Answer == "good" || e.Answer == "bad" {
			latest[e.CaseID] = e
			if c := strings.TrimSpace(e.Comment); c != "" {
				rep.Comments = append(rep.Comments, CSATComment{CaseID: e.CaseID, Subject: e.Subject, Agent: e.Agent,
					Rating: e.Answer, Comment: c, At: e.At})
			}
		}
	}
	lines := map[string]*CSATLine{}
	line := func(agent string) *CSATLine {
		if lines[agent] == nil {
			lines[agent] = &CSATLine{Agent: agent}
		}
		return lines[agent]
	}
	for _, e := range evs {
		if e.Answer != "sent" {
			continue
		}
		l := line(e.Agent)
		l.SurveysSent++
		rep.Overall.SurveysSent++
		if r, ok := latest[e.CaseID]; ok && !r.At.Before(e.At) {
			l.SurveysAnswered++
			rep.Overall.SurveysAnswered++
		}
	}
	for _, e := range latest {
		l := line(e.Agent)
		if e.Answer == "good" {
			l.Good++
			rep.Overall.Good++
		} else {
			l.Bad++
			rep.Overall.Bad++
		}
	}
	fill := func(l *CSATLine) {
		l.Satisfaction = percent(l.Good, l.Good+l.Bad)
		l.ResponseRate = percent(l.SurveysAnswered, l.SurveysSent)
	}
	fill(&rep.Overall)
	for _, l := range lines {
		fill(l)
		rep.Agents = append(rep.Agents, *l)
	}
	sort.Slice(rep.Agents, func(i, j int) bool { return agentLess(rep.Agents[i].Agent, rep.Agents[j].Agent) })
	sort.SliceStable(rep.Comments, func(i, j int) bool { return rep.Comments[i].At.After(rep.Comments[j].At) })
	return rep
}

// agentLess orders agents by address, unassigned ("") last.
func agentLess(a, b string) bool {
	if (a == "") != (b == "") {
		return b == ""
	}
	return a < b
}

// --- First-response SLA ---

// SLACase is what the SLA report needs of a case.
type SLACase struct {
	ID              int64      `db:"id"`
	Severity        string     `db:"severity"`
	Plan            string     `db:"plan"` // "" : no org
	Status          string     `db:"status"`
	CreatedAt       time.Time  `db:"created_at"`
	FirstResponseAt *time.Time `db:"first_response_at"`
	DueAt           *time.Time `db:"first_response_due_at"`
	SolvedAt        *time.Time `db:"solved_at"`
}

// SLACases returns the cases created since since, merged ones excepted (a
// duplicate's answer is on the case it was merged into).
func SLACases(ctx context.Context, q Queryer, since time.Time) ([]SLACase, error) {
	cs := []SLACase{}
	err := q.SelectContext(ctx, &cs, `SELECT c.id, c.severity, coalesce(o.plan, '') AS plan, c.status, c.created_at,
			c.first_response_at, c.first_response_due_at, c.solved_at
		FROM cases c LEFT JOIN orgs o ON o.id = c.org_id
		WHERE c.merged_into IS NULL AND c.created_at >= $1
		ORDER BY c.id`, since)
	if err != nil {
		return nil, fmt.Errorf("sla cases: %w", mapErr(err))
	}
	return cs, nil
}

// SLAOutcome is where a case stands against its first-response target.
type SLAOutcome string

const (
	SLAMet        SLAOutcome = "met"        // answered by the due time
	SLABreached   SLAOutcome = "breached"   // answered late, or solved unanswered after the due time
	SLAOverdue    SLAOutcome = "overdue"    // still unanswered and unsolved, past the due time
	SLAWaiting    SLAOutcome = "waiting"    // unanswered, not yet due
	SLAUnanswered SLAOutcome = "unanswered" // solved before the due time without a response
	SLANoTarget   SLAOutcome = "no_target"  // no due time recorded
)

// ClassifySLA says where c stands at now.
func ClassifySLA(c SLACase, now time.Time) SLAOutcome {
	switch {
	case c.DueAt == nil:
		return SLANoTarget
	case c.FirstResponseAt != nil && !c.FirstResponseAt.After(*c.DueAt):
		return SLAMet
	case c.FirstResponseAt != nil:
		return SLABreached
	}
	if c.Status == StatusSolved || c.Status == StatusClosed {
		if c.SolvedAt != nil && c.SolvedAt.After(*c.DueAt) {
			return SLABreached
		}
		return SLAUnanswered
	}
	if now.After(*c.DueAt) {
		return SLAOverdue
	}
	return SLAWaiting
}

// SLALine is the first-response attainment of a group of cases.
type SLALine struct {
	Group      string   `json:"group"` // severity, plan ("none": no org) or "all"
	Cases      int      `json:"cases"`
	Met        int      `json:"met"`
	Breached   int      `json:"breached"`
	Overdue    int      `json:"overdue"`
	Waiting    int      `json:"waiting"`
	Unanswered int      `json:"unanswered"`
	NoTarget   int      `json:"no_target"`
	Attainment *float64 `json:"attainment_pct"` // met of met+breached+overdue
	Responded  int      `json:"responded"`
	// Wall time from creation to the first response, over answered cases.
	MedianSeconds *int64 `json:"median_first_response_seconds"`
	P90Seconds    *int64 `json:"p90_first_response_seconds"`

	times []time.Duration
}

func (l *SLALine) add(c SLACase, o SLAOutcome) {
	l.Cases++
	switch o {
	case SLAMet:
		l.Met++
	case SLABreached:
		l.Breached++
	case SLAOverdue:
		l.Overdue++
	case SLAWaiting:
		l.Waiting++
	case SLAUnanswered:
		l.Unanswered++
	case SLANoTarget:
		l.NoTarget++
	}
	if c.FirstResponseAt != nil {
		l.Responded++
		l.times = append(l.times, c.FirstResponseAt.Sub(c.CreatedAt))
	}
}

func (l *SLALine) finish() {
	l.Attainment = percent(l.Met, l.Met+l.Breached+l.Overdue)
	if len(l.times) > 0 {
		med, p90 := int64(Percentile(l.times, 0.5)/time.Second), int64(Percentile(l.times, 0.9)/time.Second)
		l.MedianSeconds, l.P90Seconds = &med, &p90
	}
}

// SLAReport is `report sla`.
type SLAReport struct {
	Since      *time.Time `json:"since"`
	Overall    SLALine    `json:"overall"`
	BySeverity []SLALine  `json:"by_severity"` // S1..S4, always all four
	ByPlan     []SLALine  `json:"by_plan"`     // basic, advanced, premium, then none when a case has no org
}

// SummarizeSLA aggregates cases as of now.
func SummarizeSLA(cs []SLACase, now time.Time) SLAReport {
	sev := map[string]*SLALine{}
	for _, s := range []string{"S1", "S2", "S3", "S4"} {
		sev[s] = &SLALine{Group: s}
	}
	plan := map[string]*SLALine{}
	for _, p := range []string{PlanBasic, PlanAdvanced, PlanPremium} {
		plan[p] = &SLALine{Group: p}
	}
	rep := SLAReport{Overall: SLALine{Group: "all"}}
	for _, c := range cs {
		o := ClassifySLA(c, now)
		rep.Overall.add(c, o)
		if l := sev[c.Severity]; l != nil {
			l.add(c, o)
		}
		p := c.Plan
		if p == "" {
			p = "none"
		}
		if plan[p] == nil {
			plan[p] = &SLALine{Group: p}
		}
		plan[p].add(c, o)
	}
	rep.Overall.finish()
	for _, s := range []string{"S1", "S2", "S3", "S4"} {
		sev[s].finish()
		rep.BySeverity = append(rep.BySeverity, *sev[s])
	}
	for _, p := range []string{PlanBasic, PlanAdvanced, PlanPremium, "none"} {
		if l := plan[p]; l != nil {
			l.finish()
			rep.ByPlan = append(rep.ByPlan, *l)
		}
	}
	return rep
}

// --- Load ---

// LoadRow is the unsolved cases of one assignee (or of none).
type LoadRow struct {
	Agent        string     `db:"agent"` // "" : unassigned
	Active       bool       `db:"active"`
	Open         int        `db:"open"`
	Pending      int        `db:"pending"`
	OnHold       int        `db:"on_hold"`
	OldestOpenID *int64     `db:"oldest_open_id"`
	OldestOpenAt *time.Time `db:"oldest_open_at"`
}

// LoadRows returns the open, pending and on-hold cases per assignee: every
// active agent and manager (with none too), any other user with such cases
// assigned, and the unassigned ones.
func LoadRows(ctx context.Context, q Queryer) ([]LoadRow, error) {
	rows := []LoadRow{}
	err := q.SelectContext(ctx, &rows, `WITH load AS (
			SELECT assignee_id,
				count(*) FILTER (WHERE status = 'open') AS open,
				count(*) FILTER (WHERE status = 'pending') AS pending,
				count(*) FILTER (WHERE status = 'on_hold') AS on_hold,
				(array_agg(id ORDER BY created_at, id) FILTER (WHERE status = 'open'))[1] AS oldest_open_id,
				min(created_at) FILTER (WHERE status = 'open') AS oldest_open_at
			FROM cases WHERE status IN ('open', 'pending', 'on_hold')
			GROUP BY assignee_id),
		staff AS (
			SELECT id, login_email, active FROM users
			WHERE (role IN ('agent', 'manager') AND active) OR id IN (SELECT assignee_id FROM load))
		SELECT coalesce(s.login_email, '') AS agent, coalesce(s.active, true) AS active,
			coalesce(l.open, 0) AS open, coalesce(l.pending, 0) AS pending, coalesce(l.on_hold, 0) AS on_hold,
			l.oldest_open_id, l.oldest_open_at
		FROM staff s FULL JOIN load l ON l.assignee_id = s.id
		ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("load: %w", mapErr(err))
	}
	return rows, nil
}

// LoadLine is one line of `report load`.
type LoadLine struct {
	Agent    string `json:"agent"` // "" : unassigned
	Disabled bool   `json:"disabled,omitempty"`
	Open     int    `json:"open"`
	Pending  int    `json:"pending"`
	OnHold   int    `json:"on_hold"`
	Total    int    `json:"total"`
	// The oldest case waiting on support (status open) and its age.
	OldestOpenCase       *int64 `json:"oldest_open_case"`
	OldestOpenAgeSeconds *int64 `json:"oldest_open_age_seconds"`
}

// LoadReport is `report load`.
type LoadReport struct {
	At     time.Time  `json:"at"`
	Agents []LoadLine `json:"agents"` // by address, unassigned last
	Total  LoadLine   `json:"total"`
}

// SummarizeLoad computes totals and ages as of now.
func SummarizeLoad(rows []LoadRow, now time.Time) LoadReport {
	rep := LoadReport{At: now, Agents: []LoadLine{}}
	var oldest *time.Time
	for _, r := range rows {
		l := LoadLine{Agent: r.Agent, Disabled: !r.Active, Open: r.Open, Pending: r.Pending, OnHold: r.OnHold,
			Total: r.Open + r.Pending + r.OnHold, OldestOpenCase: r.OldestOpenID}
		if r.OldestOpenAt != nil {
			age := int64(now.Sub(*r.OldestOpenAt) / time.Second)
			l.OldestOpenAgeSeconds = &age
			if oldest == nil || r.OldestOpenAt.Before(*oldest) {
				oldest = r.OldestOpenAt
				rep.Total.OldestOpenCase, rep.Total.OldestOpenAgeSeconds = r.OldestOpenID, &age
			}
		}
		rep.Total.Open += l.Open
		rep.Total.Pending += l.Pending
		rep.Total.OnHold += l.OnHold
		rep.Total.Total += l.Total
		rep.Agents = append(rep.Agents, l)
	}
	sort.SliceStable(rep.Agents, func(i, j int) bool { return agentLess(rep.Agents[i].Agent, rep.Agents[j].Agent) })
	return rep
}
