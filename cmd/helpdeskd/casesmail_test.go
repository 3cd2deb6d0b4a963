package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/helpdesk/helpdesk/helpdesk"
)

// runIn runs helpdeskd in-process with stdin.
func (c *cli) runIn(stdin string, args ...string) (stdout, stderr string, code int) {
	c.t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdout: &out, stderr: &errb, stdin: strings.NewReader(stdin), getenv: func(k string) string { return c.env[k] }}
	code = execute(context.Background(), e, commands(e), args)
	return out.String(), errb.String(), code
}

// casesMailCLI has an agent, a basic-plan customer and their case.
func casesMailCLI(t *testing.T) (*cli, *helpdesk.Store, int64) {
	t.Helper()
	c := newCLI(t)
	c.env["HELPDESK_SUPPORT_ADDRESS"] = "support@example.com"
	c.env["HELPDESK_TOKEN_SECRET"] = strings.Repeat("c", 40)
	c.env["HELPDESK_AGENT_AUTH"] = "on" // the CLI's mail needs no Authentication-Results
	c.env["HELPDESK_AUTHSERV_ID"] = "mx.example.com"
	c.ok("migrate")
	c.ok("orgs", "add", "Example", "--domain", "example.com")
	c.ok("orgs", "add", "Acme", "--domain", "acme.example", "--plan", "basic")
	c.ok("users", "add", "alice@example.com", "--role", "agent", "--org", "Example", "--name", "Alice")
	c.ok("users", "add", "kim@acme.example", "--org", "Acme", "--name", "Kim")
	s := c.hkStore()
	out, errs, code := c.runIn("The export button does nothing.\n", "cases", "open", "--for", "kim@acme.example", "--subject", "Export broken",
		"--severity", "S1", "--as", "alice@example.com", "--json")
	if code != 0 {
		t.Fatalf("cases open: exit %d: %s", code, errs)
	}
	var r struct {
		CaseID   int64  `json:"case_id"`
		Decision string `json:"decision"`
		Status   string `json:"status"`
		Severity string `json:"severity"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("cases open --json: %v\n%s", err, out)
	}
	// S1 asked for as the customer would: the basic plan lowers it to S2.
	if r.Decision != "new_case" || r.Status != "open" || r.Severity != "S2" {
		t.Fatalf("cases open = %+v; want a new open S2 case", r)
	}
	return c, s, r.CaseID
}

func outboxKinds(t *testing.T, s *helpdesk.Store, caseID int64) []string {
	t.Helper()
	var rows []string
	if err := s.DB().Select(&rows, `SELECT kind || ' ' || array_to_string(recipients, ',') FROM outbox WHERE case_id = $1 ORDER BY id`, caseID); err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestCasesOpen_OpensForTheCustomerWhoGetsTheAcknowledgement(t *testing.T) {
	t.Parallel()
	_, s, id := casesMailCLI(t)
	d, err := helpdesk.GetCaseDetail(context.Background(), s.DB(), id)
	if err != nil {
		t.Fatal(err)
	}
	if d.Submitter != "kim@acme.example" || d.Subject != "Export broken" || d.Mailbox != "cli" {
		t.Fatalf("case = %+v", d.Case)
	}
	if got := outboxKinds(t, s, id); len(got) == 0 || got[0] != "case_received kim@acme.example" {
		t.Fatalf("outbox = %v; want the acknowledgement to kim first", got)
	}
	if d.Events[0].Kind != "created" || d.Events[0].Actor == nil || *d.Events[0].Actor != "alice@example.com" ||
		!strings.Contains(d.Events[0].Reason, "on behalf of kim@acme.example") {
		t.Fatalf("created event = %+v; want alice opening it for kim", d.Events[0])
	}
}

func TestCasesComment_IsRelayedToTheCustomerWithTheFileAndSetsPending(t *testing.T) {
	t.Parallel()
	c, s, id := casesMailCLI(t)
	file := filepath.Join(t.TempDir(), "fix.txt")
	if err := os.WriteFile(file, []byte("set export.enabled=true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errs, code := c.runIn("Please apply the attached setting.\n", "cases", "comment", strconv.FormatInt(id, 10), "--as", "alice@example.com", "--attach", file)
	if code != 0 {
		t.Fatalf("cases comment: exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "comment; status pending") {
		t.Fatalf("output = %q; want the decision and the new status", out)
	}
	var data []byte
	if err := s.DB().Get(&data, `SELECT data FROM outbox WHERE case_id = $1 AND kind = 'comment_added' AND recipients = '{kim@acme.example}'`, id); err != nil {
		t.Fatalf("no comment_added to the customer: %v (outbox %v)", err, outboxKinds(t, s, id))
	}
	for _, want := range []string{"Please apply the attached setting.", "filename=fix.txt", "via "} {
		if !bytes.Contains(data, []byte(want)) {
			t.Errorf("the relayed comment lacks %q", want)
		}
	}

	out, errs, code = c.runIn("#internal\nChecked with R&D.\n", "cases", "comment", "#"+strconv.FormatInt(id, 10), "--as", "alice@example.com", "--json")
	if code != 0 || !strings.Contains(out, `"decision": "comment"`) {
		t.Fatalf("internal comment: exit %d: %s %s", code, out, errs)
	}
	var relayed int
	if err := s.DB().Get(&relayed, `SELECT count(*) FROM outbox WHERE case_id = $1 AND kind = 'comment_added'`, id); err != nil || relayed != 1 {
		t.Fatalf("%d comment_added (%v); the internal note must not reach the customer", relayed, err)
	}
}

func TestCasesComment_InternalFlagMakesAnInternalNote(t *testing.T) {
	t.Parallel()
	c, s, id := casesMailCLI(t)
	if _, errs, code := c.runIn("Looks like bug 77.\n", "cases", "comment", strconv.FormatInt(id, 10), "--as", "alice@example.com", "--internal"); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	d, err := helpdesk.GetCaseDetail(context.Background(), s.DB(), id)
	if err != nil {
		t.Fatal(err)
	}
	last := d.Comments[len(d.Comments)-1]
	if !last.Internal || strings.TrimSpace(last.Body) != "Looks like bug 77." || d.Status != "open" {
		t.Fatalf("comment = %+v, status %s; want an internal note, the case still open", last, d.Status)
	}
}

func TestCasesCommentAndOpen_RefuseWithAClearError(t *testing.T) {
	t.Parallel()
	c, s, id := casesMailCLI(t)
	before := outboxKinds(t, s, id)
	sid := strconv.FormatInt(id, 10)
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"comment without --as", []string{"cases", "comment", sid}, 2, "--as is required"},
		{"comment as a customer", []string{"cases", "comment", sid, "--as", "kim@acme.example"}, 1, "not an active agent or manager"},
		{"comment as nobody", []string{"cases", "comment", sid, "--as", "ghost@example.com"}, 1, "no agent or manager ghost@example.com"},
		{"comment on no case", []string{"cases", "comment", "999", "--as", "alice@example.com"}, 1, "case 999: not found"},
		{"open for nobody", []string{"cases", "open", "--for", "ghost@acme.example", "--subject", "x"}, 1, "ghost@acme.example: not found"},
		{"open for an agent", []string{"cases", "open", "--for", "alice@example.com", "--subject", "x"}, 1, "not a customer"},
		{"open without subject", []string{"cases", "open", "--for", "kim@acme.example"}, 2, "--subject are required"},
		{"open as a customer", []string{"cases", "open", "--for", "kim@acme.example", "--subject", "x", "--as", "kim@acme.example"}, 1, "not an active agent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errs, code := c.runIn("text\n", tc.args...)
			if code != tc.code || !strings.Contains(errs, tc.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d mentioning %q", code, errs, tc.code, tc.want)
			}
		})
	}
	if after := outboxKinds(t, s, id); len(after) != len(before) {
		t.Fatalf("outbox %v -> %v: a refused command sent mail", before, after)
	}
	var n int
	if err := s.DB().Get(&n, `SELECT count(*) FROM cases`); err != nil || n != 1 {
		t.Fatalf("%d cases (%v); refused commands opened one", n, err)
	}
}

func TestCasesList_FiltersBySubmitterAndAssignee(t *testing.T) {
	t.Parallel()
	c, s, kimCase := casesMailCLI(t)
	c.ok("users", "add", "lee@acme.example", "--org", "Acme")
	ctx := context.Background()
	lee, err := helpdesk.UserByAddress(ctx, s.DB(), "lee@acme.example")
	if err != nil {
		t.Fatal(err)
	}
	leeCase, err := helpdesk.CreateCase(ctx, s.DB(), helpdesk.NewCase{Subject: "Lee's", OrgID: lee.OrgID, SubmitterID: lee.ID, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	c.ok("cases", "set", strconv.FormatInt(leeCase, 10), "--assign", "alice@example.com")
	ids := func(args ...string) []int64 {
		var list []struct {
			ID int64 `json:"id"`
		}
		c.json(&list, append([]string{"cases", "list", "--json"}, args...)...)
		var out []int64
		for _, l := range list {
			out = append(out, l.ID)
		}
		return out
	}
	for _, tc := range []struct {
		args []string
		want []int64
	}{
		{[]string{"--submitter", "KIM@acme.example"}, []int64{kimCase}},
		{[]string{"--submitter", "lee@acme.example"}, []int64{leeCase}},
		{[]string{"--assignee", "alice@example.com"}, []int64{leeCase}},
		{[]string{"--assignee", "none"}, []int64{kimCase}},
		{[]string{"--assignee", "none", "--submitter", "lee@acme.example"}, nil},
	} {
		if got := ids(tc.args...); !slicesEqual(got, tc.want) {
			t.Errorf("cases list %v = %v, want %v", tc.args, got, tc.want)
		}
	}
	if _, errs, code := c.run("cases", "list", "--submitter", "ghost@acme.example"); code != 1 || !strings.Contains(errs, "ghost@acme.example: not found") {
		t.Fatalf("unknown submitter: exit %d, %q", code, errs)
	}
}

func slicesEqual(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
