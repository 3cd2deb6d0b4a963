package e2e_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// cliIn runs an admin command with stdin and returns its standard output; a
// non-zero exit fails the test.
func (w *world) cliIn(stdin string, args ...string) string {
	w.t.Helper()
	cmd := exec.Command(w.bin, args...)
	cmd.Env = w.environ()
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		w.t.Fatalf("helpdeskd %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return out.String()
}

// An agent comments from the command line with agent authentication on
// (no Authentication-Results needed: the CLI wrote the mail): the customer
// receives the comment with the file, and the case waits for them. The
// customer asks for their plan with "#plan" and gets it as an answer to
// their mail, with no case opened. An operator opens a case for them from
// the command line: they get the acknowledgement.
func TestCLIWrite_CommentPlanAndCaseOpenedForACustomerReachTheirMailbox(t *testing.T) {
	t.Parallel()
	w := newWorld(t, map[string]string{"HELPDESK_AGENT_AUTH": "on", "HELPDESK_AUTHSERV_ID": "mx.unused.test"})
	w.start()
	jane := w.mailbox("jane", "acme")
	alice, support := w.addr("alice", "help"), w.addr("support", "help")
	caseID, _, _ := w.openCase("Jane Doe", jane, "Export broken", "The export button does nothing.")

	file := filepath.Join(t.TempDir(), "fix.txt")
	if err := os.WriteFile(file, []byte("set export.enabled=true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	before := len(w.inbox(jane))
	w.cliIn("Please apply the attached setting.\n", "cases", "comment", fmt.Sprint(caseID), "--as", alice, "--attach", file)
	relay := only(t, w.waitMail(jane, before+1)[before:], "comment_added")
	if !strings.Contains(relay.text(), "Please apply the attached setting.") {
		t.Fatalf("relayed comment:\n%s", relay.text())
	}
	if got := string(attachmentsOf(t, relay.Raw)["fix.txt"]); got != "set export.enabled=true\n" {
		t.Fatalf("attached fix.txt = %q", got)
	}
	if c := w.showCase(caseID); c.Status != "pending" {
		t.Fatalf("status after the agent's comment: %s, want pending", c.Status)
	}

	cases := w.count(`SELECT count(*) FROM cases`)
	req := w.newID("plan", jane)
	before = len(w.inbox(jane))
	w.sendMail("thunderbird-new", jane, []string{support}, mailData{From: person("Jane Doe", jane), To: support,
		Subject: "our plan", MessageID: req, Body: "#plan"})
	if d, id := w.waitIngested(req); d != "self_service" || id != 0 {
		t.Fatalf("#plan: decision %q, case %d", d, id)
	}
	plan := only(t, w.waitMail(jane, before+1)[before:], "plan_info")
	if got := plan.get("In-Reply-To"); got != "<"+req+">" {
		t.Errorf("the plan answers %q, want <%s>", got, req)
	}
	if text := plan.text(); !strings.Contains(text, "Acme has the premium support plan") || !strings.Contains(text, "Escalation: included") {
		t.Fatalf("plan answer:\n%s", text)
	}
	if n := w.count(`SELECT count(*) FROM cases`); n != cases {
		t.Fatalf("#plan opened a case: %d cases, want %d", n, cases)
	}

	before = len(w.inbox(jane))
	var opened struct {
		CaseID   int64  `json:"case_id"`
		Decision string `json:"decision"`
	}
	out := w.cliIn("Called at 10:00: the November invoices are missing.\n", "cases", "open", "--for", jane, "--subject", "Phone: invoices missing",
		"--as", alice, "--json")
	if err := json.Unmarshal([]byte(out), &opened); err != nil || opened.Decision != "new_case" {
		t.Fatalf("cases open: %v\n%s", err, out)
	}
	ack := only(t, w.waitMail(jane, before+1)[before:], "case_received")
	if !strings.Contains(ack.get("Subject"), fmt.Sprintf("[Case #%d]", opened.CaseID)) {
		t.Fatalf("acknowledgement subject %q, want case #%d", ack.get("Subject"), opened.CaseID)
	}
	if c := w.showCase(opened.CaseID); c.Submitter != jane {
		t.Fatalf("submitter %q, want %s", c.Submitter, jane)
	}
}
