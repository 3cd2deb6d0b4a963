package main

import (
	"context"
	"strings"
	"testing"

	"github.com/helpdesk/helpdesk/helpdesk"
)

func TestUsersAndOrgsAdd_TimeZoneIsStoredAndAnUnknownOneRefused(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("migrate")
	c.ok("orgs", "add", "Acme", "--domain", "acme.example", "--timezone", "Asia/Seoul")
	c.ok("users", "add", "kim@acme.example", "--org", "Acme")
	c.ok("users", "add", "lee@acme.example", "--org", "Acme", "--timezone", "Europe/Berlin")

	for _, tt := range []struct{ args []string }{
		{[]string{"users", "add", "park@acme.example", "--org", "Acme", "--timezone", "Mars/Olympus"}},
		{[]string{"users", "add", "choi@acme.example", "--org", "Acme", "--timezone", "KST"}},
		{[]string{"orgs", "add", "Initech", "--domain", "initech.example", "--timezone", "Seoul"}},
	} {
		_, errs, code := c.run(tt.args...)
		if code == 0 || !strings.Contains(errs, "IANA") || !strings.Contains(errs, tt.args[len(tt.args)-1]) {
			t.Errorf("helpdeskd %s: exit %d, stderr %q; want a refusal naming the zone and the IANA form", strings.Join(tt.args, " "), code, errs)
		}
	}

	s, err := helpdesk.Open(context.Background(), c.env["HELPDESK_DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	for addr, want := range map[string][2]string{
		"kim@acme.example": {"", "Asia/Seoul"},
		"lee@acme.example": {"Europe/Berlin", "Asia/Seoul"},
	} {
		u, err := helpdesk.UserByAddress(ctx, s.DB(), addr)
		if err != nil {
			t.Fatal(err)
		}
		if u.TimeZone != want[0] || u.OrgTimeZone != want[1] {
			t.Errorf("%s: zone %q, org zone %q; want %q, %q", addr, u.TimeZone, u.OrgTimeZone, want[0], want[1])
		}
	}
	for _, refused := range []string{"park@acme.example", "choi@acme.example"} {
		if _, err := helpdesk.UserByAddress(ctx, s.DB(), refused); err == nil {
			t.Errorf("%s was added despite the refused zone", refused)
		}
	}
	if _, err := helpdesk.OrgByName(ctx, s.DB(), "Initech"); err == nil {
		t.Error("Initech was added despite the refused zone")
	}
}
