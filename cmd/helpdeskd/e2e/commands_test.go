package e2e_test

import (
	"fmt"
	"strings"
	"testing"
)

// The customer answers the acknowledgement from Apple Mail with "#solve"
// on the first line: the case is solved "by customer", the command does not
// reach the comment, agents are told, and the customer gets the solved mail.
func TestCommands_CustomerSolveSolvesTheCase(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	w.start()
	jane := w.mailbox("jane", "acme")
	agents := w.addr("agents", "help")

	caseID, _, ack := w.openCase("Jane Doe", jane, "Invoices show the wrong VAT", "The March invoices show 10% VAT instead of 20%.")
	if text := ack.text(); !strings.Contains(text, "#solve") || !strings.Contains(text, "#severity S2") {
		t.Errorf("the acknowledgement does not explain the customer's commands:\n%s", text)
	}
	only(t, w.waitMail(agents, 1), "agent_new_case")

	reply := w.newID("solve", jane)
	w.sendMail("apple-mail-reply", jane, []string{replyAddress(t, ack)}, replyTo(ack, mailData{
		From: person("Jane Doe", jane), To: ack.Header.Get("Reply-To"), MessageID: reply,
		Body: "#solve\n\nThe corrected invoices arrived, thank you.",
	}))
	if d, id := w.waitIngested(reply); d != "comment" || id != caseID {
		t.Fatalf("customer #solve: decision %q on case %d, want a comment on case %d", d, id, caseID)
	}

	var c struct {
		Status       string `json:"status"`
		SolvedReason string `json:"solved_reason"`
		Comments     []struct {
			Public bool   `json:"public"`
			Body   string `json:"body"`
		} `json:"comments"`
		Events []struct {
			Kind   string `json:"kind"`
			To     string `json:"to"`
			Reason string `json:"reason"`
		} `json:"events"`
	}
	w.cliJSON(&c, "cases", "show", fmt.Sprint(caseID))
	if c.Status != "solved" || c.SolvedReason != "solved by customer" {
		t.Fatalf("case after #solve: status %q, solved reason %q", c.Status, c.SolvedReason)
	}
	last := c.Comments[len(c.Comments)-1]
	if !last.Public || strings.Contains(last.Body, "#solve") || !strings.Contains(last.Body, "corrected invoices arrived") {
		t.Errorf("the customer's comment: %+v", last)
	}
	solved := false
	for _, ev := range c.Events {
		solved = solved || ev.Kind == "status" && ev.To == "solved" && ev.Reason == "solved by customer"
	}
	if !solved {
		t.Errorf("no status event \"solved by customer\": %+v", c.Events)
	}

	notice := only(t, w.waitMail(agents, 2)[1:], "agent_customer_replied")
	if s, text := notice.get("Subject"), notice.text(); !strings.HasPrefix(s, "Solved by customer") || !strings.Contains(text, "Solved by customer") {
		t.Errorf("agents' notice %q:\n%s", s, text)
	}
	only(t, w.waitMail(jane, 2)[1:], "status_changed")
}
