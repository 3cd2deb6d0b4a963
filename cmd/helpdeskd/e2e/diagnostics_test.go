package e2e_test

import (
	"fmt"
	"strings"
	"testing"
)

// Diagnostics by mail: the acknowledgement asks for what the first mail
// lacks; the agent's #diagnostics and #consent reach the customer and the
// case waits on them; the customer's answer with a screenshot reopens it,
// and their #approve is recorded and shown to the agents.
func TestDiagnostics_RequestsAndConsentByMail(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	w.start()
	jane := w.mailbox("jane", "acme")
	agents, alice := w.addr("agents", "help"), w.addr("alice", "help")

	caseID, _, ack := w.openCase("Jane Doe", jane, "Report export fails", "The monthly report export fails with an error.")
	if text := ack.text(); !strings.Contains(text, "To start work on your case") || !strings.Contains(text, "The version of the product") ||
		strings.Contains(text, "The exact error message") {
		t.Errorf("the acknowledgement does not ask for exactly the missing details:\n%s", text)
	}
	notice := only(t, w.waitMail(agents, 1), "agent_new_case")

	ask := w.newID("diag", alice)
	before := len(w.inbox(jane))
	w.sendMail("gmail-reply", alice, []string{replyAddress(t, notice)}, replyTo(notice, mailData{
		From: person("Alice Agent", alice), To: notice.Header.Get("Reply-To"), MessageID: ask,
		Body: "#diagnostics a HAR file of the export page\n#consent read-only access to the export service logs",
	}))
	if d, id := w.waitIngested(ask); d != "stored" && d != "comment" || id != caseID {
		t.Fatalf("agent's commands: decision %q on case %d", d, id)
	}
	mails := w.waitMail(jane, before+2)[before:]
	req := only(t, mails, "diagnostics_request")
	consent := only(t, mails, "consent_request")
	if text := req.text(); !strings.Contains(text, "a HAR file of the export page") || !strings.Contains(text, "Logs or screenshots") {
		t.Errorf("diagnostics request:\n%s", text)
	}
	if text := consent.text(); !strings.Contains(text, "read-only access to the export service logs") || !strings.Contains(text, "#approve") {
		t.Errorf("consent request:\n%s", text)
	}
	if c := w.showCase(caseID); c.Status != "pending" {
		t.Fatalf("after #diagnostics the case is %s, want pending", c.Status)
	}

	// The answer with a screenshot, to the request's reply address.
	answer := w.newID("shot", jane)
	w.sendMail("thunderbird-screenshot", jane, []string{replyAddress(t, req)}, mailData{From: person("Jane Doe", jane),
		To: req.Header.Get("Reply-To"), Subject: "Re: " + req.get("Subject"), MessageID: answer, Body: "The screenshot of the error is attached."})
	if d, id := w.waitIngested(answer); d != "comment" || id != caseID {
		t.Fatalf("the answer: decision %q on case %d", d, id)
	}
	if c := w.showCase(caseID); c.Status != "open" {
		t.Fatalf("after the answer the case is %s, want open", c.Status)
	}
	only(t, w.waitMail(agents, 2)[1:], "agent_customer_replied")

	approve := w.newID("approve", jane)
	w.sendMail("apple-mail-reply", jane, []string{replyAddress(t, consent)}, replyTo(consent, mailData{
		From: person("Jane Doe", jane), To: consent.Header.Get("Reply-To"), MessageID: approve, Body: "#approve",
	}))
	if d, id := w.waitIngested(approve); id != caseID {
		t.Fatalf("#approve: decision %q on case %d", d, id)
	}
	told := only(t, w.waitMail(agents, 3)[2:], "agent_customer_replied")
	if text := told.text(); !strings.Contains(text, "Consent: approved") {
		t.Errorf("agents' notice:\n%s", text)
	}
	var c struct {
		Events []struct {
			Kind  string  `json:"kind"`
			Actor *string `json:"actor"`
			To    string  `json:"to"`
		} `json:"events"`
	}
	w.cliJSON(&c, "cases", "show", fmt.Sprint(caseID))
	var got []string
	for _, ev := range c.Events {
		if ev.Kind == "consent" && ev.Actor != nil {
			got = append(got, ev.To+" by "+*ev.Actor)
		}
	}
	if want := "requested by " + alice + ",approved by " + jane; strings.Join(got, ",") != want {
		t.Errorf("consent events %q, want %q", got, want)
	}
}
