package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/helpdesk/helpdesk/helpdesk"
	"github.com/helpdesk/helpdesk/helpdesk/pgtest"
	"github.com/helpdesk/helpdesk/migrations"
)

// cli runs helpdeskd in-process with the given environment.
type cli struct {
	t   *testing.T
	env map[string]string
}

func newCLI(t *testing.T) *cli {
	return &cli{t: t, env: map[string]string{"HELPDESK_DATABASE_URL": pgtest.Schema(t)}}
}

func (c *cli) run(args ...string) (stdout, stderr string, code int) {
	c.t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb, func(k string) string { return c.env[k] })
	return out.String(), errb.String(), code
}

func (c *cli) ok(args ...string) string {
	c.t.Helper()
	out, errs, code := c.run(args...)
	if code != 0 {
		c.t.Fatalf("helpdeskd %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

func (c *cli) json(v any, args ...string) {
	c.t.Helper()
	out := c.ok(args...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		c.t.Fatalf("helpdeskd %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func TestMigrate_TwiceIsNoOp(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	if out := c.ok("migrate"); !strings.Contains(out, "applied migration 0001") {
		t.Fatalf("first migrate: %s", out)
	}
	if out := c.ok("migrate"); !strings.Contains(out, "schema is current") || strings.Contains(out, "applied") {
		t.Fatalf("second migrate: %s", out)
	}
}

func TestAdminCommands_RefuseAnUnmigratedDatabase(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	_, errs, code := c.run("orgs", "list")
	if code != 1 || !strings.Contains(errs, "helpdeskd migrate") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
}

func TestCLI_RoundTripOrgsUsersGrants(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("migrate")
	c.ok("orgs", "add", "Acme", "--domain", "acme.example", "--domain", "ACME.co.kr", "--plan", "premium")
	c.ok("orgs", "add", "--plan", "advanced", "Resell Co", "--domain", "resell.example")
	c.ok("users", "add", "Minsu.Kim@acme.example", "--name", "김민수", "--role", "customer", "--org", "Acme", "--locale", "ko", "--address", "minsu@gmail.example")
	c.ok("users", "add", "rita@resell.example", "--name", "Rita", "--role", "reseller", "--org", "Resell Co")
	c.ok("grants", "add", "--customer", "Acme", "--reseller", "Resell Co")

	var orgs []struct {
		Name    string   `json:"name"`
		Plan    string   `json:"plan"`
		Domains []string `json:"domains"`
	}
	c.json(&orgs, "orgs", "list", "--json")
	if len(orgs) != 2 || orgs[0].Name != "Acme" || orgs[0].Plan != "premium" || strings.Join(orgs[0].Domains, ",") != "acme.co.kr,acme.example" || orgs[1].Plan != "advanced" {
		t.Fatalf("orgs = %+v", orgs)
	}
	var users []struct {
		Email, Name, Role, Org, Locale string
	}
	c.json(&users, "users", "list", "--json")
	if len(users) != 2 || users[0].Email != "minsu.kim@acme.example" || users[0].Name != "김민수" || users[0].Locale != "ko" || users[0].Org != "Acme" || users[1].Role != "reseller" {
		t.Fatalf("users = %+v", users)
	}
	var grants []struct {
		Customer, Reseller string
		Active             bool
	}
	c.json(&grants, "grants", "list", "--json")
	if len(grants) != 1 || grants[0].Customer != "Acme" || grants[0].Reseller != "Resell Co" || !grants[0].Active {
		t.Fatalf("grants = %+v", grants)
	}
	c.ok("grants", "revoke", "--customer", "Acme", "--reseller", "Resell Co")
	c.json(&grants, "grants", "list", "--json")
	if len(grants) != 1 || grants[0].Active {
		t.Fatalf("after revoke: grants = %+v", grants)
	}
}

func TestCLI_BadInputExitsOneWithAClearError(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("migrate")
	c.ok("orgs", "add", "Acme", "--domain", "acme.example")
	c.ok("users", "add", "a@acme.example", "--org", "Acme")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown org", []string{"users", "add", "b@acme.example", "--org", "Initech"}, `org "Initech": not found`},
		{"duplicate user", []string{"users", "add", "A@Acme.Example", "--org", "Acme"}, "a@acme.example"},
		{"malformed address", []string{"users", "add", "not-an-address", "--org", "Acme"}, `"not-an-address"`},
		{"duplicate org", []string{"orgs", "add", "ACME"}, `"ACME"`},
		{"domain of another org", []string{"orgs", "add", "Other", "--domain", "acme.example"}, "acme.example belongs to another org"},
		{"bad plan", []string{"orgs", "add", "Other", "--plan", "gold"}, `plan "gold"`},
		{"bad role", []string{"users", "add", "c@acme.example", "--role", "root", "--org", "Acme"}, `role "root"`},
		{"grant to unknown org", []string{"grants", "add", "--customer", "Acme", "--reseller", "Nobody"}, "not found"},
		{"unknown case", []string{"cases", "show", "999"}, "case 999: not found"},
		{"bad status filter", []string{"cases", "list", "--status", "deleted"}, `status "deleted"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errs, code := c.run(tc.args...)
			if code != 1 || !strings.Contains(errs, tc.want) {
				t.Fatalf("exit %d, stderr %q; want exit 1 mentioning %q", code, errs, tc.want)
			}
		})
	}
	if _, _, code := c.run("orgs", "frobnicate"); code != 2 {
		t.Fatalf("unknown subcommand: exit %d, want 2", code)
	}
}

func TestCases_ListAndShowJSON(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("migrate")
	c.ok("orgs", "add", "Acme", "--domain", "acme.example")
	c.ok("users", "add", "kim@acme.example", "--org", "Acme", "--name", "Kim")
	c.ok("users", "add", "other@acme.example", "--org", "Acme")

	ctx := context.Background()
	s, err := helpdesk.Open(ctx, c.env["HELPDESK_DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	kim, _ := helpdesk.UserByAddress(ctx, s.DB(), "kim@acme.example")
	other, _ := helpdesk.UserByAddress(ctx, s.DB(), "other@acme.example")
	now := time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC)
	id, err := helpdesk.CreateCase(ctx, s.DB(), helpdesk.NewCase{Subject: "프린터가 안 돼요", OrgID: kim.OrgID, SubmitterID: kim.ID, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := helpdesk.AddComment(ctx, s.DB(), helpdesk.NewComment{CaseID: id, AuthorID: &kim.ID, Public: true, Body: "It prints nothing.", Now: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := helpdesk.CreateCase(ctx, s.DB(), helpdesk.NewCase{Subject: "VPN", OrgID: other.OrgID, SubmitterID: other.ID, Now: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}

	var list []map[string]any
	c.json(&list, "cases", "list", "--search", "프린터", "--json")
	if len(list) != 1 {
		t.Fatalf("list = %v", list)
	}
	for _, k := range []string{"id", "subject", "status", "severity", "org", "submitter", "created_at", "last_activity_at"} {
		if _, ok := list[0][k]; !ok {
			t.Errorf("cases list --json: key %q missing in %v", k, list[0])
		}
	}
	if list[0]["submitter"] != "kim@acme.example" || list[0]["org"] != "Acme" || list[0]["status"] != "open" || list[0]["severity"] != "S3" {
		t.Errorf("list[0] = %v", list[0])
	}

	var show map[string]any
	c.json(&show, "cases", "show", "#"+itoa(id), "--json")
	for _, k := range []string{"id", "subject", "status", "severity", "org", "submitter", "assignee", "created_at",
		"last_activity_at", "follow_up_of", "merged_into", "comments", "events", "messages"} {
		if _, ok := show[k]; !ok {
			t.Errorf("cases show --json: key %q missing", k)
		}
	}
	comments, _ := show["comments"].([]any)
	if len(comments) != 1 {
		t.Fatalf("comments = %v", show["comments"])
	}
	cm := comments[0].(map[string]any)
	for _, k := range []string{"author", "public", "body", "created_at", "attachments"} {
		if _, ok := cm[k]; !ok {
			t.Errorf("comment key %q missing in %v", k, cm)
		}
	}
	if cm["body"] != "It prints nothing." || cm["author"] != "kim@acme.example" {
		t.Errorf("comment = %v", cm)
	}
	if text := c.ok("cases", "show", itoa(id)); !strings.Contains(text, "프린터가 안 돼요") || !strings.Contains(text, "It prints nothing.") {
		t.Errorf("cases show text:\n%s", text)
	}
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestConfigCommand_RedactsSecrets(t *testing.T) {
	t.Parallel()
	c := &cli{t: t, env: map[string]string{
		"HELPDESK_DATABASE_URL": "postgres://hd:hunter2@127.0.0.1:5432/hd?sslmode=disable",
		"HELPDESK_TOKEN_SECRET": strings.Repeat("s3cr3t", 8),
	}}
	out := c.ok("config")
	if strings.Contains(out, "hunter2") || strings.Contains(out, "s3cr3t") {
		t.Fatalf("config shows a secret:\n%s", out)
	}
	if !strings.Contains(out, "HELPDESK_REOPEN_WINDOW") || !strings.Contains(out, "720h0m0s") {
		t.Fatalf("config lacks defaults:\n%s", out)
	}
}

func TestServe_RefusesIncompleteConfiguration(t *testing.T) {
	t.Parallel()
	c := &cli{t: t, env: map[string]string{}}
	_, errs, code := c.run("serve")
	if code != 1 || !strings.Contains(errs, "HELPDESK_SUPPORT_ADDRESS") || !strings.Contains(errs, "HELPDESK_TOKEN_SECRET") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
}

func TestServe_MigratesAndStopsOnCancel(t *testing.T) {
	t.Parallel()
	url := pgtest.Schema(t)
	env := map[string]string{
		"HELPDESK_DATABASE_URL":    url,
		"HELPDESK_SUPPORT_ADDRESS": "support@example.com",
		"HELPDESK_TOKEN_SECRET":    strings.Repeat("k", 32),
		"HELPDESK_IMAP_ADDR":       "127.0.0.1:1143",
		"HELPDESK_IMAP_USERNAME":   "support",
		"HELPDESK_IMAP_PASSWORD":   "secret",
		"HELPDESK_IMAP_TLS":        "none",
		"HELPDESK_SMTP_ADDR":       "127.0.0.1:1025",
		"HELPDESK_SMTP_TLS":        "none",
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	var errb bytes.Buffer
	go func() {
		done <- run(ctx, []string{"serve"}, &bytes.Buffer{}, &errb, func(k string) string { return env[k] })
	}()
	s, err := helpdesk.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	all, err := migrations.All()
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var n int
		if s.DB().Get(&n, `SELECT count(*) FROM schema_migrations`) == nil && n == len(all) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not migrate; stderr: %s", errb.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exit %d: %s", code, errb.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop within 10s of cancellation")
	}
}

func TestParse_JSONHasTheParsedViewAndReplyText(t *testing.T) {
	t.Parallel()
	c := &cli{t: t, env: map[string]string{}}
	var out map[string]any
	c.json(&out, "parse", "--json", "../../threading/reply/testdata/ko_gmail_html.eml")
	for _, k := range []string{"message_id", "from", "to", "cc", "reply_to", "subject", "date", "in_reply_to", "references",
		"class", "class_reason", "text", "html", "attachments", "warnings", "reply_text"} {
		if _, ok := out[k]; !ok {
			t.Errorf("parse --json lacks key %q", k)
		}
	}
	rt, _ := out["reply_text"].(string)
	text, _ := out["text"].(string)
	if rt == "" || len(rt) >= len(text) || strings.Contains(rt, "작성:") {
		t.Fatalf("reply_text = %q (text %q)", rt, text)
	}
	if out["class"] != "human" {
		t.Fatalf("class = %v", out["class"])
	}
}

func TestCases_SetMergeEscalateAndTick(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.env["HELPDESK_SUPPORT_ADDRESS"] = "support@example.com"
	c.env["HELPDESK_TOKEN_SECRET"] = strings.Repeat("t", 40)
	c.env["HELPDESK_MANAGER_ADDRESS"] = "boss@example.com"
	c.ok("migrate")
	c.ok("orgs", "add", "Example", "--domain", "example.com")
	c.ok("orgs", "add", "Acme", "--domain", "acme.example", "--plan", "premium")
	c.ok("users", "add", "alice@example.com", "--role", "agent", "--org", "Example")
	c.ok("users", "add", "kim@acme.example", "--org", "Acme")

	ctx := context.Background()
	s, err := helpdesk.Open(ctx, c.env["HELPDESK_DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	kim, _ := helpdesk.UserByAddress(ctx, s.DB(), "kim@acme.example")
	now := time.Now().UTC()
	a, _ := helpdesk.CreateCase(ctx, s.DB(), helpdesk.NewCase{Subject: "A", OrgID: kim.OrgID, SubmitterID: kim.ID, Now: now})
	b, _ := helpdesk.CreateCase(ctx, s.DB(), helpdesk.NewCase{Subject: "B", OrgID: kim.OrgID, SubmitterID: kim.ID, Now: now})
	status := func(id int64) (st, sev string, assignee *string) {
		cs, err := helpdesk.GetCase(ctx, s.DB(), id)
		if err != nil {
			t.Fatal(err)
		}
		return cs.Status, cs.Severity, cs.Assignee
	}

	c.ok("cases", "set", itoa(a), "--status", "pending", "--severity", "S2", "--assign", "alice@example.com", "--as", "alice@example.com")
	if st, sev, who := status(a); st != "pending" || sev != "S2" || who == nil || *who != "alice@example.com" {
		t.Fatalf("after set: %s %s %v", st, sev, who)
	}
	if _, errs, code := c.run("cases", "set", itoa(a), "--assign", "kim@acme.example"); code != 1 || !strings.Contains(errs, "rejected") {
		t.Fatalf("assigning a customer: exit %d %s", code, errs)
	}
	c.ok("cases", "escalate", itoa(a), "--reason", "production down")
	var n int
	s.DB().Get(&n, `SELECT count(*) FROM outbox WHERE kind = 'agent_escalation' AND case_id = $1`, a)
	if n != 1 {
		t.Fatalf("%d escalation notices to the manager", n)
	}
	c.ok("cases", "merge", itoa(b), itoa(a))
	if cs, _ := helpdesk.GetCase(ctx, s.DB(), b); cs.MergedInto == nil || *cs.MergedInto != a || cs.Status != "solved" {
		t.Fatalf("after merge: %+v", cs)
	}
	if _, _, code := c.run("cases", "merge", itoa(a), "9999"); code != 1 {
		t.Fatalf("merge into a missing case: exit %d", code)
	}

	if st, _, _ := status(a); st != "pending" {
		t.Fatalf("status before the tick: %s", st)
	}
	// Four days later the pending case gets its first reminder.
	out := c.ok("tick", "--now", now.Add(4*24*time.Hour).Format(time.RFC3339))
	if !strings.Contains(out, "1 case(s) changed") {
		t.Fatalf("tick: %s", out)
	}
	s.DB().Get(&n, `SELECT count(*) FROM outbox WHERE kind = 'pending_reminder' AND case_id = $1`, a)
	if n != 1 {
		t.Fatalf("%d reminders after the tick", n)
	}
	if out := c.ok("tick", "--now", now.Add(4*24*time.Hour).Format(time.RFC3339)); !strings.Contains(out, "0 case(s) changed") {
		t.Fatalf("second tick at the same time: %s", out)
	}
}
