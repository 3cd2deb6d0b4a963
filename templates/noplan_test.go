package templates

import (
	"strings"
	"testing"
	"time"
)

// A customer without an org has no plan: the acknowledgement must still
// read well where it says S1 is not part of their plan.
func TestRender_AcknowledgementWithoutAPlanReadsWell(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	d := CaseReceivedData{Base: customerBase(), Severity: "S2", FirstResponseDue: sampleTime.Add(4 * time.Hour),
		SeveritySource: SeverityFromSubject, SeveritySaid: "[S1]", SeverityAsked: "S1", Levels: sampleLevels(false)}
	for _, loc := range []string{"en", "ko"} {
		r, err := s.Render(loc, d)
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"( 플랜", "your  plan", "your plan plan", "( ", "  plan"} {
			if strings.Contains(r.Text, bad) || strings.Contains(r.HTML, bad) {
				t.Errorf("%s: acknowledgement contains %q:\n%s", loc, bad, r.Text)
			}
		}
	}
}
