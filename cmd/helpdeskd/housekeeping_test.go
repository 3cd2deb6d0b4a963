package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/helpdesk/helpdesk/helpdesk"
)

type cliUser struct {
	Email, Name, Role, Locale string
	Org                       *string
	Active                    bool
}

func (c *cli) hkUser(email string) cliUser {
	c.t.Helper()
	var users []cliUser
	c.json(&users, "users", "list", "--json")
	for _, u := range users {
		if u.Email == email {
			return u
		}
	}
	c.t.Fatalf("no user %s in %+v", email, users)
	return cliUser{}
}

// hkFails runs a command that must fail with exit code code and want in stderr.
func (c *cli) hkFails(code int, want string, args ...string) {
	c.t.Helper()
	_, errs, got := c.run(args...)
	if got != code || !strings.Contains(errs, want) {
		c.t.Errorf("helpdeskd %s: exit %d, stderr %q; want exit %d mentioning %q", strings.Join(args, " "), got, errs, code, want)
	}
}

func (c *cli) hkStore() *helpdesk.Store {
	c.t.Helper()
	s, err := helpdesk.Open(context.Background(), c.env["HELPDESK_DATABASE_URL"])
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { s.Close() })
	return s
}

func TestUsersSet_ChangesOnlyTheFlagsGiven(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("migrate")
	c.ok("orgs", "add", "Acme", "--domain", "acme.example")
	c.ok("orgs", "add", "Initech", "--domain", "initech.example")
	c.ok("users", "add", "kim@acme.example", "--name", "Kim", "--org", "Acme", "--locale", "ko")

	str := func(s string) *string { return &s }
	steps := []struct {
		args []string
		want cliUser
	}{
		{[]string{"--name", "김민수"}, cliUser{Name: "김민수", Role: "customer", Org: str("Acme"), Locale: "ko", Active: true}},
		{[]string{"--role", "contact"}, cliUser{Name: "김민수", Role: "contact", Org: str("Acme"), Locale: "ko", Active: true}},
		{[]string{"--locale", "en", "--org", "initech"}, cliUser{Name: "김민수", Role: "contact", Org: str("Initech"), Locale: "en", Active: true}},
		{[]string{"--disabled"}, cliUser{Name: "김민수", Role: "contact", Org: str("Initech"), Locale: "en", Active: false}},
		{[]string{"--disabled=false", "--role", "customer", "--org", ""}, cliUser{Name: "김민수", Role: "customer", Locale: "en", Active: true}},
	}
	for _, st := range steps {
		out := c.ok(append([]string{"users", "set", "KIM@acme.example"}, st.args...)...)
		if !strings.Contains(out, "updated kim@acme.example") {
			t.Errorf("users set %v: %q", st.args, out)
		}
		got := c.hkUser("kim@acme.example")
		st.want.Email = "kim@acme.example"
		if got.Name != st.want.Name || got.Role != st.want.Role || got.Locale != st.want.Locale || got.Active != st.want.Active ||
			deref(got.Org) != deref(st.want.Org) {
			t.Errorf("after users set %v: %+v (org %q), want %+v (org %q)", st.args, got, deref(got.Org), st.want, deref(st.want.Org))
		}
	}
}

func TestUsersSet_RefusesUnknownUsersAndBadValues(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("migrate")
	c.ok("orgs", "add", "Acme", "--domain", "acme.example")
	c.ok("users", "add", "lee@acme.example", "--role", "contact", "--org", "Acme")
	c.hkFails(1, "user nobody@acme.example: not found", "users", "set", "nobody@acme.example", "--name", "X")
	c.hkFails(1, `role "root"`, "users", "set", "lee@acme.example", "--role", "root")
	c.hkFails(1, `locale "fr"`, "users", "set", "lee@acme.example", "--locale", "fr")
	c.hkFails(1, `org "Initech": not found`, "users", "set", "lee@acme.example", "--org", "Initech")
	c.hkFails(1, "a contact needs an org", "users", "set", "lee@acme.example", "--org", "")
	c.hkFails(2, "nothing to change", "users", "set", "lee@acme.example")
	c.hkFails(2, "invalid boolean", "users", "set", "lee@acme.example", "--disabled=maybe")
	if u := c.hkUser("lee@acme.example"); u.Role != "contact" || deref(u.Org) != "Acme" || u.Locale != "en" || !u.Active {
		t.Errorf("a refused change changed the user: %+v", u)
	}
}

func TestUsersSet_DisabledAgentKeepsTheirCases(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("migrate")
	c.ok("orgs", "add", "Support", "--domain", "support.example")
	c.ok("orgs", "add", "Acme", "--domain", "acme.example")
	c.ok("users", "add", "alice@support.example", "--role", "agent", "--org", "Support")
	c.ok("users", "add", "kim@acme.example", "--org", "Acme")
	ctx := context.Background()
	s := c.hkStore()
	kim, _ := helpdesk.UserByAddress(ctx, s.DB(), "kim@acme.example")
	alice, _ := helpdesk.UserByAddress(ctx, s.DB(), "alice@support.example")
	id, err := helpdesk.CreateCase(ctx, s.DB(), helpdesk.NewCase{Subject: "VPN", OrgID: kim.OrgID, SubmitterID: kim.ID, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().ExecContext(ctx, `UPDATE cases SET assignee_id = $2 WHERE id = $1`, id, alice.ID); err != nil {
		t.Fatal(err)
	}

	c.ok("users", "set", "alice@support.example", "--disabled")
	c2, err := helpdesk.GetCase(ctx, s.DB(), id)
	if err != nil {
		t.Fatal(err)
	}
	if deref(c2.Assignee) != "alice@support.example" {
		t.Errorf("assignee after disabling = %q, want alice@support.example", deref(c2.Assignee))
	}
	// Access refuses a disabled user.
	if ok, why, err := helpdesk.Access(ctx, s.DB(), hkUserByAddress(t, s, "alice@support.example"), c2, helpdesk.AccessPolicy{}); err != nil || ok {
		t.Errorf("Access of a disabled agent = %v (%s), %v; want refused", ok, why, err)
	}
	var load struct {
		Agents []struct {
			Agent    string
			Disabled bool
			Open     int
		}
	}
	c.json(&load, "report", "load", "--json")
	if len(load.Agents) != 1 || load.Agents[0].Agent != "alice@support.example" || !load.Agents[0].Disabled || load.Agents[0].Open != 1 {
		t.Errorf("report load = %+v, want alice (disabled) with 1 open case", load.Agents)
	}
}

func hkUserByAddress(t *testing.T, s *helpdesk.Store, addr string) *helpdesk.User {
	t.Helper()
	u, err := helpdesk.UserByAddress(context.Background(), s.DB(), addr)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestUsersAddresses_AddListAndRemove(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("migrate")
	c.ok("orgs", "add", "Acme", "--domain", "acme.example")
	c.ok("users", "add", "kim@acme.example", "--org", "Acme")

	if out := c.ok("users", "addresses", "add", "kim@acme.example", "Kim <KIM.Home@Mail.Example>"); !strings.Contains(out, "added kim.home@mail.example") {
		t.Errorf("add: %q", out)
	}
	if out := c.ok("users", "addresses", "add", "kim@acme.example", "kim.home@mail.example"); !strings.Contains(out, "already had") {
		t.Errorf("add again: %q", out)
	}
	var as []struct {
		Address    string
		VerifiedAt *time.Time `json:"verified_at"`
	}
	c.json(&as, "users", "addresses", "list", "kim@acme.example", "--json")
	if len(as) != 1 || as[0].Address != "kim.home@mail.example" || as[0].VerifiedAt == nil {
		t.Fatalf("list = %+v", as)
	}
	// The second address now identifies Kim.
	if u := hkUserByAddress(t, c.hkStore(), "kim.home@mail.example"); u.LoginEmail != "kim@acme.example" {
		t.Errorf("kim.home@mail.example is %s's", u.LoginEmail)
	}
	if out := c.ok("users", "addresses", "list", "kim@acme.example"); !strings.Contains(out, "kim.home@mail.example") {
		t.Errorf("list text: %q", out)
	}
	c.ok("users", "addresses", "remove", "kim@acme.example", "kim.home@mail.example")
	c.json(&as, "users", "addresses", "list", "kim@acme.example", "--json")
	if len(as) != 0 {
		t.Errorf("after remove: %+v", as)
	}
	c.hkFails(1, "kim.home@mail.example is not a second address of kim@acme.example", "users", "addresses", "remove", "kim@acme.example", "kim.home@mail.example")
}

func TestUsersAddresses_RefusesAnAddressOfAnotherUser(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("migrate")
	c.ok("orgs", "add", "Acme", "--domain", "acme.example")
	c.ok("users", "add", "kim@acme.example", "--org", "Acme")
	c.ok("users", "add", "lee@acme.example", "--org", "Acme", "--address", "lee@mail.example")
	c.hkFails(1, "lee@acme.example is the login email of another user", "users", "addresses", "add", "kim@acme.example", "lee@acme.example")
	c.hkFails(1, "lee@mail.example is already an address of lee@acme.example", "users", "addresses", "add", "kim@acme.example", "LEE@mail.example")
	c.hkFails(1, "kim@acme.example is kim@acme.example's login email", "users", "addresses", "add", "kim@acme.example", "kim@acme.example")
	c.hkFails(1, "user nobody@acme.example: not found", "users", "addresses", "add", "nobody@acme.example", "x@mail.example")
	c.hkFails(1, `"not-an-address"`, "users", "addresses", "add", "kim@acme.example", "not-an-address")
	c.hkFails(1, "lee@mail.example is not a second address of kim@acme.example", "users", "addresses", "remove", "kim@acme.example", "lee@mail.example")
	c.hkFails(2, "want EMAIL ADDRESS", "users", "addresses", "add", "kim@acme.example")
	var as []struct{ Address string }
	c.json(&as, "users", "addresses", "list", "lee@acme.example", "--json")
	if len(as) != 1 || as[0].Address != "lee@mail.example" {
		t.Errorf("lee's addresses = %+v", as)
	}
}

func TestOrgsSet_ChangesPlanAndDomains(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("migrate")
	c.ok("orgs", "add", "Acme", "--domain", "acme.example", "--domain", "acme.co.kr")
	c.ok("orgs", "add", "Initech", "--domain", "initech.example", "--plan", "advanced")
	type org struct {
		Name, Plan string
		Domains    []string
	}
	get := func(name string) org {
		var orgs []org
		c.json(&orgs, "orgs", "list", "--json")
		for _, o := range orgs {
			if o.Name == name {
				return o
			}
		}
		t.Fatalf("no org %s", name)
		return org{}
	}
	c.ok("orgs", "set", "acme", "--plan", "premium")
	if o := get("Acme"); o.Plan != "premium" || strings.Join(o.Domains, ",") != "acme.co.kr,acme.example" {
		t.Errorf("after --plan: %+v", o)
	}
	c.ok("orgs", "set", "Acme", "--domain", "ACME.io", "--remove-domain", "acme.co.kr", "--domain", "acme.example")
	if o := get("Acme"); o.Plan != "premium" || strings.Join(o.Domains, ",") != "acme.example,acme.io" {
		t.Errorf("after domains: %+v", o)
	}
	// A removed domain is free for another org.
	c.ok("orgs", "set", "Initech", "--domain", "acme.co.kr")
	if o := get("Initech"); o.Plan != "advanced" || strings.Join(o.Domains, ",") != "acme.co.kr,initech.example" {
		t.Errorf("Initech: %+v", o)
	}

	c.hkFails(1, `plan "gold"`, "orgs", "set", "Acme", "--plan", "gold")
	c.hkFails(1, "domain initech.example belongs to org Initech", "orgs", "set", "Acme", "--domain", "initech.example")
	c.hkFails(1, "initech.example is not a domain of Acme", "orgs", "set", "Acme", "--remove-domain", "initech.example")
	c.hkFails(1, `org "Globex": not found`, "orgs", "set", "Globex", "--plan", "basic")
	c.hkFails(1, `domain "not a domain"`, "orgs", "set", "Acme", "--domain", "not a domain")
	c.hkFails(2, "nothing to change", "orgs", "set", "Acme")
	// A refused change changes nothing, not even the parts before the refusal.
	c.hkFails(1, "belongs to org Initech", "orgs", "set", "Acme", "--plan", "basic", "--domain", "initech.example")
	if o := get("Acme"); o.Plan != "premium" || strings.Join(o.Domains, ",") != "acme.example,acme.io" {
		t.Errorf("after refusals: %+v", o)
	}
}

func TestSuppressions_ListAndRemove(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("migrate")
	ctx := context.Background()
	s := c.hkStore()
	now := time.Now()
	for _, r := range []struct {
		addr        string
		created     time.Time
		until       time.Time
		status, why string
	}{
		{"gone@acme.example", now.Add(-2 * time.Hour), now.Add(30 * 24 * time.Hour), "5.1.1", "550 5.1.1 user unknown"},
		{"old@acme.example", now.Add(-60 * 24 * time.Hour), now.Add(-30 * 24 * time.Hour), "5.2.1", "mailbox disabled"},
	} {
		if _, err := s.DB().ExecContext(ctx, `INSERT INTO suppressions (address, reason, status_code, created_at, suppressed_until)
			VALUES ($1, $2, $3, $4, $5)`, r.addr, r.why, r.status, r.created, r.until); err != nil {
			t.Fatal(err)
		}
	}
	type sup struct {
		Address, Reason string
		StatusCode      string `json:"status_code"`
		Active          bool
	}
	var ss []sup
	c.json(&ss, "suppressions", "list", "--json")
	want := []sup{{"gone@acme.example", "550 5.1.1 user unknown", "5.1.1", true}, {"old@acme.example", "mailbox disabled", "5.2.1", false}}
	if len(ss) != 2 || ss[0] != want[0] || ss[1] != want[1] {
		t.Fatalf("list = %+v, want %+v", ss, want)
	}
	if out := c.ok("suppressions", "list"); !strings.Contains(out, "gone@acme.example") || !strings.Contains(out, "(expired)") {
		t.Errorf("list text:\n%s", out)
	}
	c.ok("suppressions", "remove", "GONE@acme.example")
	c.json(&ss, "suppressions", "list", "--json")
	if len(ss) != 1 || ss[0].Address != "old@acme.example" {
		t.Errorf("after remove: %+v", ss)
	}
	c.hkFails(1, "gone@acme.example is not suppressed", "suppressions", "remove", "gone@acme.example")
}

func TestUsersAndOrgsSet_TimeZoneIsStoredClearedAndAnUnknownOneRefused(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("migrate")
	c.ok("orgs", "add", "Acme", "--domain", "acme.example")
	c.ok("users", "add", "kim@acme.example", "--org", "Acme")
	zones := func() (user, org string) {
		t.Helper()
		if err := c.hkStore().DB().QueryRow(`SELECT coalesce(u.timezone, ''), coalesce(o.timezone, '')
			FROM users u JOIN orgs o ON o.id = u.org_id WHERE u.login_email = 'kim@acme.example'`).Scan(&user, &org); err != nil {
			t.Fatal(err)
		}
		return user, org
	}
	c.ok("users", "set", "kim@acme.example", "--timezone", "Asia/Seoul")
	c.ok("orgs", "set", "Acme", "--timezone", "Europe/Berlin")
	if u, o := zones(); u != "Asia/Seoul" || o != "Europe/Berlin" {
		t.Fatalf("zones user %q org %q, want Asia/Seoul and Europe/Berlin", u, o)
	}
	c.hkFails(1, "Mars/Olympus", "users", "set", "kim@acme.example", "--timezone", "Mars/Olympus")
	c.hkFails(1, "Mars/Olympus", "orgs", "set", "Acme", "--timezone", "Mars/Olympus")
	c.ok("users", "set", "kim@acme.example", "--timezone", "")
	if u, o := zones(); u != "" || o != "Europe/Berlin" {
		t.Fatalf("after clearing the user's zone: user %q org %q", u, o)
	}
}
