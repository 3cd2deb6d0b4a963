package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"strconv"
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
	c.json(&show, "cases", "show", "#"+strconv.FormatInt(id, 10), "--json")
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
	if text := c.ok("cases", "show", strconv.FormatInt(id, 10)); !strings.Contains(text, "프린터가 안 돼요") || !strings.Contains(text, "It prints nothing.") {
		t.Errorf("cases show text:\n%s", text)
	}
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

	c.ok("cases", "set", strconv.FormatInt(a, 10), "--status", "pending", "--severity", "S2", "--assign", "alice@example.com", "--as", "alice@example.com")
	if st, sev, who := status(a); st != "pending" || sev != "S2" || who == nil || *who != "alice@example.com" {
		t.Fatalf("after set: %s %s %v", st, sev, who)
	}
	if _, errs, code := c.run("cases", "set", strconv.FormatInt(a, 10), "--assign", "kim@acme.example"); code != 1 || !strings.Contains(errs, "rejected") {
		t.Fatalf("assigning a customer: exit %d %s", code, errs)
	}
	c.ok("cases", "escalate", strconv.FormatInt(a, 10), "--reason", "production down")
	var n int
	s.DB().Get(&n, `SELECT count(*) FROM outbox WHERE kind = 'agent_escalation' AND case_id = $1`, a)
	if n != 1 {
		t.Fatalf("%d escalation notices to the manager", n)
	}
	c.ok("cases", "merge", strconv.FormatInt(b, 10), strconv.FormatInt(a, 10))
	if cs, _ := helpdesk.GetCase(ctx, s.DB(), b); cs.MergedInto == nil || *cs.MergedInto != a || cs.Status != "solved" {
		t.Fatalf("after merge: %+v", cs)
	}
	if _, _, code := c.run("cases", "merge", strconv.FormatInt(a, 10), "9999"); code != 1 {
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

// leaves walks the command tree: every leaf with its path.
func leaves(c *command, path string, visit func(c *command, path string)) {
	if len(c.Children) == 0 {
		visit(c, path)
		return
	}
	for _, ch := range c.Children {
		leaves(ch, path+" "+ch.Name, visit)
	}
}

func TestUsage_ListsEveryCommandOfTheTable(t *testing.T) {
	t.Parallel()
	e := &env{getenv: func(string) string { return "" }}
	root := commands(e)
	// A command added to the table appears in the usage: nothing is hand-written.
	root.Children = append(root.Children, &command{Name: "frobnicate", Args: "THING", Usage: "frobnicate a thing",
		Run: func(context.Context, *invocation) error { return nil }})
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"no command", nil, 2},
		{"help", []string{"help"}, 0},
		{"--help", []string{"--help"}, 0},
		{"-h", []string{"-h"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			e := &env{stdout: &out, stderr: &out, getenv: func(string) string { return "" }}
			if code := execute(context.Background(), e, root, tc.args); code != tc.code {
				t.Fatalf("exit %d, want %d", code, tc.code)
			}
			usage := out.String()
			for _, c := range root.Children {
				if !strings.Contains(usage, "\n  "+strings.TrimSpace(c.Name+" "+c.Args)+" ") {
					t.Errorf("usage lacks %q:\n%s", c.Name, usage)
				}
				for _, sub := range c.Children {
					if !strings.Contains(usage, sub.Name) {
						t.Errorf("usage lacks %s %s:\n%s", c.Name, sub.Name, usage)
					}
				}
			}
			if !strings.Contains(usage, "Usage: helpdeskd [--config FILE] COMMAND [ARGS]") {
				t.Errorf("usage lacks the synopsis:\n%s", usage)
			}
		})
	}
}

func TestHelp_PrintsEachCommandsUsageAndFlags(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := &env{getenv: func(string) string { return "" }}
	c := &cli{t: t, env: map[string]string{}}
	leaves(commands(e), "helpdeskd", func(cmd *command, path string) {
		words := strings.Fields(path)[1:]
		t.Run(strings.Join(words, "_"), func(t *testing.T) {
			byHelp := c.ok(append([]string{"help"}, words...)...)
			byFlag := c.ok(append(words, "--help")...)
			if byHelp != byFlag {
				t.Errorf("help %s and %s --help differ:\n%s\n---\n%s", path, path, byHelp, byFlag)
			}
			var synopsis string
			for _, l := range strings.Split(byHelp, "\n") {
				if strings.HasPrefix(l, "Usage: "+path) {
					synopsis = l
				}
			}
			if synopsis == "" || !strings.Contains(byHelp, cmd.Usage) {
				t.Fatalf("no usage line or summary for %s:\n%s", path, byHelp)
			}
			n := 0
			flagsOf(ctx, e, cmd, path).VisitAll(func(f *flag.Flag) {
				n++
				if !strings.Contains(synopsis, "[--"+f.Name) || !strings.Contains(byHelp, "\n  --"+f.Name) {
					t.Errorf("help %s does not list --%s:\n%s", path, f.Name, byHelp)
				}
			})
			if cmd.JSON && !strings.Contains(synopsis, "[--json]") {
				t.Errorf("%s takes --json but its usage line does not say so: %s", path, synopsis)
			}
			if n == 0 && strings.Contains(byHelp, "Flags:") {
				t.Errorf("%s has no flags but its help lists some:\n%s", path, byHelp)
			}
		})
	})
	// A group's help lists its subcommands with their positionals.
	for _, g := range commands(e).Children {
		if len(g.Children) == 0 {
			continue
		}
		byHelp, byFlag := c.ok("help", g.Name), c.ok(g.Name, "--help")
		if byHelp != byFlag || !strings.Contains(byHelp, "Usage: helpdeskd "+g.Name+" COMMAND") {
			t.Errorf("help %s:\n%s\n---\n%s --help:\n%s", g.Name, byHelp, g.Name, byFlag)
		}
		for _, sub := range g.Children {
			if !strings.Contains(byHelp, "\n  "+strings.TrimSpace(sub.Name+" "+sub.Args)+" ") {
				t.Errorf("help %s lacks %s:\n%s", g.Name, sub.Name, byHelp)
			}
		}
	}
	// Commands that parse their own flags are asked for them.
	for _, tc := range []struct{ cmd, flag string }{{"serve", "--no-migrate"}, {"dev", "--reset"}, {"dev", "--data DATA"}} {
		if out := c.ok("help", tc.cmd); !strings.Contains(out, tc.flag) {
			t.Errorf("help %s lacks %s:\n%s", tc.cmd, tc.flag, out)
		}
	}
}

func TestCLI_UnknownOrMissingCommandExitsTwoWithTheParentsUsage(t *testing.T) {
	t.Parallel()
	c := &cli{t: t, env: map[string]string{}}
	for _, tc := range []struct {
		name       string
		args       []string
		msg, usage string
	}{
		{"unknown command", []string{"frobnicate"}, `helpdeskd: unknown command "frobnicate"`, "Usage: helpdeskd [--config FILE] COMMAND"},
		{"unknown subcommand", []string{"orgs", "frobnicate"}, `helpdeskd orgs: unknown command "frobnicate"`, "Usage: helpdeskd orgs COMMAND"},
		{"unknown subcommand of cases", []string{"cases", "delete", "1"}, `unknown command "delete"`, "show CASE-ID"},
		{"missing subcommand", []string{"grants"}, "helpdeskd grants: missing command", "revoke"},
		{"flag instead of subcommand", []string{"cases", "--json"}, "flag provided but not defined: -json", "Usage: helpdeskd cases COMMAND"},
		{"help for an unknown command", []string{"help", "cases", "delete"}, `helpdeskd cases: unknown command "delete"`, "Usage: helpdeskd cases COMMAND"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errs, code := c.run(tc.args...)
			if code != 2 || out != "" || !strings.Contains(errs, tc.msg) || !strings.Contains(errs, tc.usage) {
				t.Fatalf("exit %d\nstdout %q\nstderr %q\nwant exit 2, %q and %q on stderr", code, out, errs, tc.msg, tc.usage)
			}
		})
	}
}

func TestCLI_UsageMistakesExitTwoBeforeTouchingTheDatabase(t *testing.T) {
	t.Parallel()
	// No database is configured: reaching it would exit 1.
	c := &cli{t: t, env: map[string]string{}}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"missing positional", []string{"cases", "show"}, "want CASE-ID, got 0"},
		{"extra positional", []string{"orgs", "list", "Acme"}, `unexpected arguments ["Acme"]`},
		{"too few to merge", []string{"cases", "merge", "1"}, "want CASE-ID INTO-CASE-ID, got 1"},
		{"case ID not a number", []string{"cases", "show", "abc"}, `case ID "abc" is not a number`},
		{"unknown flag", []string{"cases", "list", "--bogus"}, "flag provided but not defined: -bogus"},
		{"flag without its value", []string{"orgs", "add", "Acme", "--plan"}, "flag needs an argument: -plan"},
		{"required flags", []string{"grants", "revoke", "--customer", "Acme"}, "--customer and --reseller are required"},
		{"escalation without reason", []string{"cases", "escalate", "1"}, "--reason is required"},
		{"nothing to set", []string{"cases", "set", "#1"}, "nothing to change"},
		{"bad time", []string{"tick", "--now", "tomorrow"}, "want RFC 3339"},
		{"version takes no flags", []string{"version", "--json"}, "-json"},
		{"global flag without its value", []string{"--config"}, "flag needs an argument: -config"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errs, code := c.run(tc.args...)
			if code != 2 || !strings.Contains(errs, tc.want) || !strings.Contains(errs, "sage: helpdeskd") {
				t.Fatalf("exit %d, stderr %q; want exit 2 with %q and the usage line", code, errs, tc.want)
			}
		})
	}
}

func TestCLI_JSONWorksForEveryListAndShowCommand(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("migrate")
	c.ok("orgs", "add", "Acme", "--domain", "acme.example")
	c.ok("orgs", "add", "Resell Co", "--domain", "resell.example")
	c.ok("users", "add", "kim@acme.example", "--org", "Acme")

	ctx := context.Background()
	s, err := helpdesk.Open(ctx, c.env["HELPDESK_DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	kim, _ := helpdesk.UserByAddress(ctx, s.DB(), "kim@acme.example")
	id, err := helpdesk.CreateCase(ctx, s.DB(), helpdesk.NewCase{Subject: "VPN", OrgID: kim.OrgID, SubmitterID: kim.ID, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}

	ki, err := helpdesk.AddKnownIssue(ctx, s.DB(), helpdesk.NewKnownIssue{Title: "Slow exports"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}

	// Every list and show command of the table takes --json.
	covered := map[string]bool{}
	leaves(commands(&env{}), "", func(cmd *command, path string) {
		if cmd.Name == "list" || cmd.Name == "show" {
			if !cmd.JSON {
				t.Errorf("%s does not take --json", path)
			}
			covered[strings.TrimSpace(path)] = false
		}
	})
	for _, args := range [][]string{
		{"orgs", "list"}, {"users", "list"}, {"grants", "list"}, {"cases", "list"}, {"cases", "show", strconv.FormatInt(id, 10)},
		{"config"}, {"grants", "add", "--customer", "Acme", "--reseller", "Resell Co"}, {"held", "list"}, {"attachments", "list", strconv.FormatInt(id, 10)},
		{"users", "addresses", "list", "kim@acme.example"}, {"suppressions", "list"},
		{"known-issues", "list"}, {"known-issues", "show", strconv.FormatInt(ki.ID, 10)},
	} {
		var v any
		c.json(&v, append(args, "--json")...)
		if v == nil {
			t.Errorf("%s --json printed null", strings.Join(args, " "))
		}
		for n := min(3, len(args)); n > 0; n-- {
			if _, ok := covered[strings.Join(args[:n], " ")]; ok || n == 1 {
				covered[strings.Join(args[:n], " ")] = true
				break
			}
		}
	}
	for path, ok := range covered {
		if !ok {
			t.Errorf("%s --json is not exercised here", path)
		}
	}
	// Without --json the same commands print text.
	if out := c.ok("orgs", "list"); !strings.HasPrefix(out, "ID") {
		t.Errorf("orgs list without --json: %q", out)
	}
}
