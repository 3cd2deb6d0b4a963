package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLayout_DependenciesPointOneWay enforces DESIGN.md section 1: mail never
// imports helpdesk; threading and templates import no project package (their
// own subpackages aside); only cmd/helpdeskd imports everything.
func TestLayout_DependenciesPointOneWay(t *testing.T) {
	t.Parallel()
	const mod = "github.com/helpdesk/helpdesk/"
	for _, tc := range []struct {
		pkg       string
		forbidden func(dep string) bool
	}{
		{mod + "mail/...", func(d string) bool { return strings.HasPrefix(d, mod+"helpdesk") || strings.HasPrefix(d, mod+"cmd") }},
		{mod + "threading/...", func(d string) bool { return strings.HasPrefix(d, mod) && !strings.HasPrefix(d, mod+"threading") }},
		{mod + "templates/...", func(d string) bool { return strings.HasPrefix(d, mod) && !strings.HasPrefix(d, mod+"templates") }},
		{mod + "migrations/...", func(d string) bool { return strings.HasPrefix(d, mod) && !strings.HasPrefix(d, mod+"migrations") }},
		{mod + "helpdesk", func(d string) bool { return strings.HasPrefix(d, mod+"cmd") || strings.HasPrefix(d, mod+"mail/poller") }},
	} {
		t.Run(tc.pkg, func(t *testing.T) {
			out, err := exec.Command("go", "list", "-deps", tc.pkg).CombinedOutput()
			if err != nil {
				t.Fatalf("go list -deps %s: %v\n%s", tc.pkg, err, out)
			}
			for _, dep := range strings.Fields(string(out)) {
				if tc.forbidden(dep) {
					t.Errorf("%s depends on %s", tc.pkg, dep)
				}
			}
		})
	}
}
