package lifecycle_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/helpdesk/helpdesk/helpdesk/lifecycle"
	"github.com/helpdesk/helpdesk/migrations"
	"github.com/helpdesk/helpdesk/templates"
)

// The diagnostics values are the templates' and the schema's.
func TestDiagnosticsValuesAreTheTemplatesAndTheSchemas(t *testing.T) {
	for _, k := range []string{lifecycle.NoticeDiagnosticsRequest, lifecycle.NoticeConsentRequest} {
		if !slices.Contains(templates.Kinds(), templates.Kind(k)) || templates.Kind(k).ToAgents() {
			t.Errorf("notice kind %q is no customer template", k)
		}
	}
	if string(lifecycle.CodeNoConsentRequest) != string(templates.CustomerNoConsentRequest) {
		t.Errorf("code %q, templates say %q", lifecycle.CodeNoConsentRequest, templates.CustomerNoConsentRequest)
	}
	items := []templates.DiagnosticItem{templates.DiagnosticTimeWindow, templates.DiagnosticVersion, templates.DiagnosticError,
		templates.DiagnosticSteps, templates.DiagnosticImpact, templates.DiagnosticFiles}
	for i, d := range lifecycle.Diagnostics() {
		if i >= len(items) || string(d) != string(items[i]) {
			t.Errorf("diagnostic %d is %q, templates say %v", i, d, items)
		}
	}
	all, err := migrations.All()
	if err != nil {
		t.Fatal(err)
	}
	var sql strings.Builder
	for _, m := range all {
		sql.WriteString(m.SQL)
	}
	s := sql.String()
	events := s[strings.Index(s, "CREATE TABLE case_events"):]
	now := time.Date(2026, time.November, 23, 10, 0, 0, 0, time.UTC)
	c := lifecycle.NewCase(lifecycle.S3, lifecycle.PlanBasic, now, lifecycle.DefaultPolicy())
	ask, _ := lifecycle.ParseCommands("#consent logs")
	o := lifecycle.Apply(c, lifecycle.Event{Kind: lifecycle.AgentReply, Commands: ask}, lifecycle.DefaultPolicy(), now)
	approve, _ := lifecycle.ParseCommands("#approve")
	o2 := lifecycle.Apply(o.Case, lifecycle.Event{Kind: lifecycle.CustomerReply, Commands: approve}, lifecycle.DefaultPolicy(), now)
	for _, a := range append(o.Audit, o2.Audit...) {
		if !strings.Contains(events, "'"+a.Kind+"'") {
			t.Errorf("audit kind %q is not a case_events kind", a.Kind)
		}
	}
	if len(o.Audit)+len(o2.Audit) != 2 {
		t.Errorf("audit %+v %+v, want a request and an answer", o.Audit, o2.Audit)
	}
}
