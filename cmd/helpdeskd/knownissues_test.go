package main

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/helpdesk/helpdesk/helpdesk"
	"github.com/helpdesk/helpdesk/threading"
)

// known-issues add prints a follow address that verifies as the issue's;
// link makes a case's submitter a follower; update and resolve reach the
// linked case (comment mailed, then solved); list and show report it all.
func TestKnownIssues_AddLinkUpdateResolveListShow(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	secret := strings.Repeat("k", 40)
	c.env["HELPDESK_SUPPORT_ADDRESS"] = "support@example.com"
	c.env["HELPDESK_TOKEN_SECRET"] = secret
	c.ok("migrate")
	c.ok("orgs", "add", "Acme", "--domain", "acme.example")
	c.ok("users", "add", "kim@acme.example", "--org", "Acme")
	s := c.hkStore()
	ctx := context.Background()
	kim := hkUserByAddress(t, s, "kim@acme.example")
	caseID, err := helpdesk.CreateCase(ctx, s.DB(), helpdesk.NewCase{Subject: "Reports are empty", Severity: "S3", OrgID: kim.OrgID,
		SubmitterID: kim.ID, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}

	var added helpdesk.KnownIssue
	c.json(&added, "known-issues", "add", "--title", "Reports empty", "--body", "Reports show no rows.", "--product", "analytics", "--json")
	tokens, _ := threading.NewTokens(secret)
	tok, ok := threading.TokenFromAddress(added.Address, []string{"support@example.com"})
	if k, err := tokens.VerifyKnownIssue(tok); !ok || err != nil || k.IssueID != added.ID || k.Unsubscribe {
		t.Fatalf("follow address %q: %+v, %v", added.Address, k, err)
	}
	id := added.ID
	c.ok("known-issues", "link", kiItoa(id), kiItoa(caseID))
	c.ok("known-issues", "update", kiItoa(id), "--body", "We found the cause.")
	c.ok("known-issues", "resolve", kiItoa(id), "--body", "Fixed in 4.2.")
	if out, _, code := c.run("known-issues", "update", kiItoa(id), "--body", "late"); code == 0 {
		t.Fatalf("an update after the resolution succeeded: %s", out)
	}

	var kinds []string
	if err := s.DB().Select(&kinds, `SELECT kind FROM outbox WHERE case_id = $1 ORDER BY id`, caseID); err != nil {
		t.Fatal(err)
	}
	if strings.Join(kinds, ",") != "comment_added,comment_added,status_changed" {
		t.Fatalf("mail on the linked case: %v", kinds)
	}
	var status string
	if err := s.DB().Get(&status, `SELECT status FROM cases WHERE id = $1`, caseID); err != nil || status != "solved" {
		t.Fatalf("linked case %s, %v", status, err)
	}

	var list []helpdesk.KnownIssue
	c.json(&list, "known-issues", "list", "--json")
	if len(list) != 1 || list[0].Status != "resolved" || list[0].Subscribers != 1 || list[0].Product != "analytics" {
		t.Fatalf("list: %+v", list)
	}
	var shown helpdesk.KnownIssue
	c.json(&shown, "known-issues", "show", kiItoa(id), "--json")
	if len(shown.Updates) != 2 || shown.Updates[1].Kind != "resolution" || len(shown.Cases) != 1 || shown.Cases[0] != caseID {
		t.Fatalf("show: %+v", shown)
	}
	if out := c.ok("known-issues", "show", kiItoa(id)); !strings.Contains(out, "Fixed in 4.2.") || !strings.Contains(out, added.Address) {
		t.Fatalf("show text:\n%s", out)
	}
}

func kiItoa(n int64) string { return strconv.FormatInt(n, 10) }
