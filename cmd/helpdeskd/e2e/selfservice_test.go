package e2e_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// A customer asks for their cases by mailing support+cases@: the list
// answers the request, shows their case and not another org's, and opens no
// case. They follow a known issue by mailing its address, receive its
// update on the linked case, and unsubscribe with the address in that mail.
func TestSelfService_CaseListAndKnownIssueByMail(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	w.cli("orgs", "add", "Other", "--domain", w.domain("other"))
	w.start()
	jane := w.mailbox("jane", "acme")
	bob := w.mailbox("bob", "other")
	support := w.addr("support", "help")

	janeCase, _, _ := w.openCase("Jane Doe", jane, "Invoices show the wrong VAT", "The March invoices show 10% VAT.")
	bobCase, _, _ := w.openCase("Bob", bob, "Other org's outage", "Everything is down.")
	cases := w.count(`SELECT count(*) FROM cases`)

	casesAddr := strings.Replace(support, "@", "+cases@", 1)
	req := w.newID("cases", jane)
	before := len(w.inbox(jane))
	w.sendMail("thunderbird-new", jane, []string{casesAddr}, mailData{From: person("Jane Doe", jane), To: casesAddr,
		Subject: "my cases", MessageID: req, Body: "Which cases are open?"})
	if d, id := w.waitIngested(req); d != "self_service" || id != 0 {
		t.Fatalf("case list request: decision %q, case %d", d, id)
	}
	list := only(t, w.waitMail(jane, before+1)[before:], "case_list")
	if got := list.get("In-Reply-To"); got != "<"+req+">" {
		t.Errorf("the list answers %q, want <%s>", got, req)
	}
	text := list.text()
	if !strings.Contains(text, "Case #"+fmt.Sprint(janeCase)+":") || strings.Contains(text, "Case #"+fmt.Sprint(bobCase)+":") {
		t.Fatalf("jane's list (her case #%d, not bob's #%d):\n%s", janeCase, bobCase, text)
	}
	if n := w.count(`SELECT count(*) FROM cases`); n != cases {
		t.Fatalf("the list request opened a case: %d cases, want %d", n, cases)
	}

	var ki struct {
		ID      int64  `json:"id"`
		Address string `json:"address"`
	}
	w.cliJSON(&ki, "known-issues", "add", "--title", "Invoices slow to render", "--body", "Rendering takes minutes.", "--json")
	plus := w.newID("plus1", jane)
	before = len(w.inbox(jane))
	w.sendMail("thunderbird-new", jane, []string{ki.Address}, mailData{From: person("Jane Doe", jane), To: ki.Address,
		Subject: "Affected too", MessageID: plus, Body: "+1"})
	d, linked := w.waitIngested(plus)
	if d != "new_case" || w.count(`SELECT count(*) FROM cases WHERE id = $1 AND known_issue_id = $2`, linked, ki.ID) != 1 {
		t.Fatalf("+1: decision %q, case %d not linked to known issue %d", d, linked, ki.ID)
	}
	only(t, w.waitMail(jane, before+1)[before:], "case_received")

	before = len(w.inbox(jane))
	w.cli("known-issues", "update", fmt.Sprint(ki.ID), "--body", "A fix is being deployed.")
	update := only(t, w.waitMail(jane, before+1)[before:], "known_issue_update")
	utext := update.text()
	unsub := regexp.MustCompile(`support\+ki-unsub-[a-z0-9-]+@[^\s)"]+`).FindString(utext)
	if !strings.Contains(utext, "A fix is being deployed.") || unsub == "" {
		t.Fatalf("update mail:\n%s", utext)
	}
	if got := update.get("List-Unsubscribe"); got != "<mailto:"+unsub+"?subject=unsubscribe>" {
		t.Fatalf("List-Unsubscribe %q, want the mailto of %s", got, unsub)
	}

	stop := w.newID("unsub", jane)
	w.sendMail("thunderbird-new", jane, []string{unsub}, mailData{From: person("Jane Doe", jane), To: unsub,
		Subject: "unsubscribe", MessageID: stop, Body: "unsubscribe"})
	if d, id := w.waitIngested(stop); d != "self_service" || id != linked {
		t.Fatalf("unsubscribe: decision %q on case %d, want case %d", d, id, linked)
	}
	if c := w.showCase(linked); c.Status != "solved" {
		t.Fatalf("after unsubscribe the linked case is %s", c.Status)
	}
	if n := w.count(`SELECT count(*) FROM known_issue_subscriptions`); n != 0 {
		t.Fatalf("%d subscriptions left", n)
	}
}
