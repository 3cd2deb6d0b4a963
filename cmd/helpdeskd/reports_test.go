package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/helpdesk/helpdesk/helpdesk"
)

func TestReport_CSATSLAAndLoadPrintJSONAndText(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("migrate")
	c.ok("orgs", "add", "Support", "--domain", "support.example")
	c.ok("orgs", "add", "Acme", "--domain", "acme.example", "--plan", "premium")
	c.ok("users", "add", "alice@support.example", "--role", "agent", "--org", "Support")
	c.ok("users", "add", "kim@acme.example", "--org", "Acme")
	ctx := context.Background()
	s := c.hkStore()
	kim := hkUserByAddress(t, s, "kim@acme.example")
	alice := hkUserByAddress(t, s, "alice@support.example")
	now := time.Now()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := s.DB().ExecContext(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	event := func(id int64, kind, to, reason string, at time.Time) {
		t.Helper()
		if err := helpdesk.AddEvent(ctx, s.DB(), helpdesk.NewEvent{CaseID: id, Kind: kind, To: to, Reason: reason, Now: at}); err != nil {
			t.Fatal(err)
		}
	}
	newCase := func(created time.Time, due time.Duration) int64 {
		t.Helper()
		d := created.Add(due)
		id, err := helpdesk.CreateCase(ctx, s.DB(), helpdesk.NewCase{Subject: "VPN", Severity: "S2", OrgID: kim.OrgID, SubmitterID: kim.ID,
			Now: created, FirstDue: &d})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	// Rated good by Kim, answered in 1h (due in 4h), assigned to Alice.
	rated := newCase(now.Add(-72*time.Hour), 4*time.Hour)
	exec(`UPDATE cases SET assignee_id = $2, first_response_at = $3, status = 'solved', solved_at = $4 WHERE id = $1`,
		rated, alice.ID, now.Add(-71*time.Hour), now.Add(-60*time.Hour))
	event(rated, "assignee", "alice@support.example", "", now.Add(-71*time.Hour))
	event(rated, "survey", "sent", "", now.Add(-36*time.Hour))
	event(rated, "survey", "good", "fixed the tunnel", now.Add(-30*time.Hour))
	// Unanswered, past due, assigned to Alice.
	late := newCase(now.Add(-10*time.Hour), 4*time.Hour)
	exec(`UPDATE cases SET assignee_id = $2 WHERE id = $1`, late, alice.ID)
	// Answered in 2h and solved, 40 days ago: outside --since 30d.
	old := newCase(now.Add(-40*24*time.Hour), 4*time.Hour)
	exec(`UPDATE cases SET first_response_at = $2, status = 'solved', solved_at = $2 WHERE id = $1`, old, now.Add(-40*24*time.Hour+2*time.Hour))

	var csat helpdesk.CSATReport
	c.json(&csat, "report", "csat", "--since", "30d", "--json")
	if o := csat.Overall; o.Good != 1 || o.Bad != 0 || o.SurveysSent != 1 || o.SurveysAnswered != 1 || len(csat.Agents) != 1 ||
		csat.Agents[0].Agent != "alice@support.example" || len(csat.Comments) != 1 || csat.Comments[0].CaseID != rated || csat.Since == nil {
		t.Errorf("csat = %+v", csat)
	}
	if out := c.ok("report", "csat"); !strings.Contains(out, "alice@support.example") || !strings.Contains(out, "100.0%") ||
		!strings.Contains(out, "fixed the tunnel") || !strings.Contains(out, "all time") {
		t.Errorf("csat text:\n%s", out)
	}

	var sla helpdesk.SLAReport
	c.json(&sla, "report", "sla", "--since", "30d", "--json")
	// By hand: within 30 days, one met (1h) and one overdue.
	if o := sla.Overall; o.Cases != 2 || o.Met != 1 || o.Overdue != 1 || o.Attainment == nil || *o.Attainment != 50 ||
		o.MedianSeconds == nil || *o.MedianSeconds != 3600 {
		t.Errorf("sla overall = %+v", o)
	}
	if len(sla.ByPlan) != 3 || sla.ByPlan[2].Group != "premium" || sla.ByPlan[2].Cases != 2 || sla.BySeverity[1].Cases != 2 {
		t.Errorf("sla by plan %+v, by severity %+v", sla.ByPlan, sla.BySeverity)
	}
	c.json(&sla, "report", "sla", "--json")
	if sla.Overall.Cases != 3 || sla.Overall.MedianSeconds == nil || *sla.Overall.MedianSeconds != 5400 {
		t.Errorf("sla of all time = %+v", sla.Overall)
	}
	if out := c.ok("report", "sla", "--since", "2000-01-01"); !strings.Contains(out, "premium") || !strings.Contains(out, "1h30m") {
		t.Errorf("sla text:\n%s", out)
	}

	var load helpdesk.LoadReport
	c.json(&load, "report", "load", "--json")
	if len(load.Agents) != 1 || load.Agents[0].Open != 1 || load.Agents[0].OldestOpenCase == nil || *load.Agents[0].OldestOpenCase != late {
		t.Errorf("load = %+v", load)
	}
	if out := c.ok("report", "load"); !strings.Contains(out, "alice@support.example") || !strings.Contains(out, "10h00m old") {
		t.Errorf("load text:\n%s", out)
	}
}

func TestReport_BadSinceIsAUsageErrorBeforeTheDatabase(t *testing.T) {
	t.Parallel()
	c := &cli{t: t, env: map[string]string{}} // no database: reaching it would exit 1
	for _, bad := range []string{"yesterday", "2026-13-01", "-5d", "30"} {
		for _, report := range []string{"csat", "sla"} {
			c.hkFails(2, `--since "`+bad+`": want a date (2006-01-02), an RFC 3339 time or an age`, "report", report, "--since", bad)
		}
	}
	c.hkFails(2, "unexpected arguments", "report", "load", "extra")
}
