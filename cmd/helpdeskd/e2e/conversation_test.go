package e2e_test

import (
	"fmt"
	"net/mail"
	"strings"
	"testing"
)

// replyAddress is where a mail client sends a reply to m: its Reply-To, else From.
func replyAddress(t *testing.T, m *message) string {
	t.Helper()
	f := m.Header.Get("Reply-To")
	if f == "" {
		f = m.Header.Get("From")
	}
	a, err := mail.ParseAddress(f)
	if err != nil {
		t.Fatalf("reply address %q: %v", f, err)
	}
	return a.Address
}

// replyTo fills the threading fields of a reply to m, as mail clients do.
func replyTo(m *message, d mailData) mailData {
	d.InReplyTo = "<" + m.id() + ">"
	refs := strings.TrimSpace(m.Header.Get("References"))
	d.References = strings.TrimSpace(refs + " <" + m.id() + ">")
	if d.Subject == "" {
		d.Subject = "Re: " + m.get("Subject")
	}
	return d
}

func only(t *testing.T, ms []*message, reason string) *message {
	t.Helper()
	got := byReason(ms, reason)
	if len(got) != 1 {
		var have []string
		for _, m := range ms {
			have = append(have, m.Header.Get("X-Helpdesk-Reason"))
		}
		t.Fatalf("want exactly one %s mail, have %q", reason, have)
	}
	return got[0]
}

func fromAddress(t *testing.T, m *message) *mail.Address {
	t.Helper()
	a, err := mail.ParseAddress(m.Header.Get("From"))
	if err != nil {
		t.Fatalf("From %q: %v", m.Header.Get("From"), err)
	}
	return a
}

// openCase sends a new mail from addr and waits for its case and the
// acknowledgement in addr's mailbox.
func (w *world) openCase(name, addr, subject, body string) (caseID int64, first string, ack *message) {
	w.t.Helper()
	support := w.addr("support", "help")
	first = w.newID("new", addr)
	before := len(w.inbox(addr))
	w.sendMail("thunderbird-new", addr, []string{support}, mailData{
		From: person(name, addr), To: support, Subject: subject, MessageID: first, Body: body,
	})
	decision, caseID := w.waitIngested(first)
	if decision != "new_case" || caseID == 0 {
		w.t.Fatalf("new mail <%s>: decision %q, case %d; want a new case", first, decision, caseID)
	}
	ack = only(w.t, w.waitMail(addr, before+1)[before:], "case_received")
	return caseID, first, ack
}

func TestConversation_CustomerMailAgentReplyAndCustomerReplyThreadOnOneCase(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	w.start()
	jane := w.mailbox("jane", "acme")
	support, agents, alice := w.addr("support", "help"), w.addr("agents", "help"), w.addr("alice", "help")

	// The customer writes: a case, and an acknowledgement in her mailbox.
	caseID, first, ack := w.openCase("Jane Doe", jane, "VPN drops every ten minutes",
		"Since this morning the VPN disconnects every ten minutes on all laptops.")
	c := w.showCase(caseID)
	if c.Submitter != jane || c.Status != "open" || c.Org != "Acme" || len(c.Comments) != 1 {
		t.Fatalf("new case: submitter %q, status %q, org %q, %d comments", c.Submitter, c.Status, c.Org, len(c.Comments))
	}
	if got := ids(ack.Header.Get("In-Reply-To")); len(got) != 1 || got[0] != first {
		t.Errorf("acknowledgement In-Reply-To = %q, want <%s>", ack.Header.Get("In-Reply-To"), first)
	}
	t.Run("acknowledgement References names the customer's mail (RFC 5322 3.6.4)", func(t *testing.T) {
		if !contains(ids(ack.Header.Get("References")), first) {
			t.Errorf("acknowledgement References = %q, want it to contain <%s>", ack.Header.Get("References"), first)
		}
	})
	if from := fromAddress(t, ack); from.Address != support {
		t.Errorf("acknowledgement From = %q, want the support address", ack.Header.Get("From"))
	}
	if rt := replyAddress(t, ack); !strings.HasPrefix(rt, "support+") || !strings.HasSuffix(rt, "@"+w.domain("help")) {
		t.Errorf("acknowledgement Reply-To = %q, want a support+token address", rt)
	}
	if got := ack.Header.Get("Auto-Submitted"); got != "auto-replied" {
		t.Errorf("acknowledgement Auto-Submitted = %q", got)
	}
	if s := ack.get("Subject"); !strings.Contains(s, fmt.Sprintf("[Case #%d]", caseID)) {
		t.Errorf("acknowledgement Subject = %q, want the case tag", s)
	}
	notice := only(t, w.waitMail(agents, 1), "agent_new_case")

	// The agent answers the notice from her mail client: a comment, relayed to
	// the customer threaded under the acknowledgement.
	answer := w.newID("alice", alice)
	w.sendMail("gmail-reply", alice, []string{replyAddress(t, notice)}, replyTo(notice, mailData{
		From: person("Alice Agent", alice), To: notice.Header.Get("Reply-To"), MessageID: answer,
		Body: "Please install VPN client 5.2.1; it fixes the idle timeout.",
	}))
	if d, id := w.waitIngested(answer); d != "comment" || id != caseID {
		t.Fatalf("agent reply: decision %q on case %d, want a comment on case %d", d, id, caseID)
	}
	relay := only(t, w.waitMail(jane, 2)[1:], "comment_added")
	if !contains(ids(relay.Header.Get("References")), ack.id()) {
		t.Errorf("relayed comment References = %q, want the acknowledgement <%s>", relay.Header.Get("References"), ack.id())
	}
	if !contains(ids(relay.Header.Get("References")), first) {
		t.Errorf("relayed comment References = %q, want the customer's first mail <%s>", relay.Header.Get("References"), first)
	}
	if irt := ids(relay.Header.Get("In-Reply-To")); len(irt) != 1 || !contains(ids(relay.Header.Get("References")), irt[0]) {
		t.Errorf("relayed comment In-Reply-To = %q, want one mail of the thread", relay.Header.Get("In-Reply-To"))
	}
	if from := fromAddress(t, relay); from.Address != support || !strings.Contains(from.Name, "Alice Agent") {
		t.Errorf("relayed comment From = %q, want \"Alice Agent via ...\" <%s>", relay.get("From"), support)
	}
	if body := relay.text(); !strings.Contains(body, "VPN client 5.2.1") || strings.Contains(body, "New case from a customer") {
		t.Errorf("relayed comment body is not the agent's new text:\n%s", body)
	}

	// The customer answers the relayed comment: a comment on the same case,
	// through the plus address of its Reply-To.
	reply := w.newID("reply", jane)
	tokenAddr := replyAddress(t, relay)
	w.sendMail("apple-mail-reply", jane, []string{tokenAddr}, replyTo(relay, mailData{
		From: person("Jane Doe", jane), To: relay.Header.Get("Reply-To"), MessageID: reply,
		Body: "Installed 5.2.1 on two laptops, no drop for an hour now. Thanks!",
	}))
	if d, id := w.waitIngested(reply); d != "comment" || id != caseID {
		t.Fatalf("customer reply: decision %q on case %d, want a comment on case %d", d, id, caseID)
	}
	if n := len(w.cases()); n != 1 {
		t.Fatalf("%d cases after the conversation, want 1", n)
	}
	c = w.showCase(caseID)
	if len(c.Comments) != 3 {
		t.Fatalf("%d comments, want 3", len(c.Comments))
	}
	if last := c.Comments[2]; !strings.Contains(last.Body, "no drop for an hour") || strings.Contains(last.Body, "Thank you for contacting") {
		t.Errorf("customer reply comment is not the new text without the quote: %q", last.Body)
	}
	only(t, w.waitMail(agents, 2)[1:], "agent_customer_replied")

	// The plus address reached the support mailbox, and everything ingested was moved to Processed.
	w.waitFor("three mails in support's Processed folder", patience, func() (bool, error) {
		n, err := w.ms.count(support, "Processed")
		return n == 3, err
	})
	processed, err := w.ms.fetch(support, "Processed")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range processed {
		if m.id() == reply && m.Header.Get("Delivered-To") != tokenAddr {
			t.Errorf("customer reply Delivered-To = %q, want the plus address %s", m.Header.Get("Delivered-To"), tokenAddr)
		}
	}
}

func TestConversation_OutOfOfficeReplyChangesNothingAndSendsNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	w.start()
	jane := w.mailbox("jane", "acme")
	support, agents := w.addr("support", "help"), w.addr("agents", "help")
	caseID, _, ack := w.openCase("Jane Doe", jane, "Printer queue stuck", "Nothing prints since the update.")
	w.waitMail(agents, 1)
	w.waitSent()

	outbox := w.count(`SELECT count(*) FROM outbox`)
	comments := w.count(`SELECT count(*) FROM comments`)
	status := w.showCase(caseID).Status

	tests := []struct {
		name     string
		inReply  *message // nil: an auto-reply that threads to nothing
		decision string
		caseID   int64
	}{
		{"auto-reply to the acknowledgement is stored on its case", ack, "stored", caseID},
		{"auto-reply to nothing we know is ignored", nil, "ignored", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := w.newID("ooo", jane)
			d := mailData{From: person("Jane Doe", jane), To: support, Subject: "Printer queue stuck", MessageID: id,
				Body: "Jane Doe | IT operations | Acme"}
			if tt.inReply != nil {
				d = replyTo(tt.inReply, d)
				d.Subject = tt.inReply.get("Subject")
			}
			// An out-of-office answers the envelope sender, which is support@.
			w.sendMail("exchange-out-of-office", "", []string{support}, d)
			if dec, c := w.waitIngested(id); dec != tt.decision || c != tt.caseID {
				t.Fatalf("out-of-office: decision %q on case %d, want %q on case %d", dec, c, tt.decision, tt.caseID)
			}
			if n := w.count(`SELECT count(*) FROM outbox`); n != outbox {
				t.Errorf("outbox has %d rows after the out-of-office, want %d: it must send nothing", n, outbox)
			}
			if n := w.count(`SELECT count(*) FROM comments`); n != comments {
				t.Errorf("%d comments after the out-of-office, want %d", n, comments)
			}
			if cs := w.cases(); len(cs) != 1 || cs[0].Status != status {
				t.Errorf("cases after the out-of-office: %+v; want the one case, still %s", cs, status)
			}
		})
	}
	// Nothing was queued, so nothing can arrive: the mailboxes still hold what they held.
	if n := len(w.inbox(jane)); n != 1 {
		t.Errorf("customer's mailbox holds %d mails, want only the acknowledgement", n)
	}
	if n := len(w.inbox(agents)); n != 1 {
		t.Errorf("agents' mailbox holds %d mails, want only the new-case notice", n)
	}
}

func TestBounce_PermanentFailureSuppressesTheAddress(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	w.start()
	support := w.addr("support", "help")
	ghost := w.addr("ghost", "acme") // Postfix accepts it; Dovecot has no such user

	first := w.newID("ghost", ghost)
	w.sendMail("thunderbird-new", ghost, []string{support}, mailData{
		From: person("Gone Away", ghost), To: support, Subject: "Invoice copy", MessageID: first, Body: "Please send the invoice again.",
	})
	_, caseID := w.waitIngested(first)
	// The acknowledgement goes out, Dovecot refuses it, Postfix returns a DSN to support@.
	w.waitFor("the suppression of "+ghost, patience, func() (bool, error) {
		var n int
		err := w.db.Get(&n, `SELECT count(*) FROM suppressions WHERE address = $1`, ghost)
		return n == 1, err
	})
	var sup struct {
		Status string `db:"status_code"`
		CaseID *int64 `db:"case_id"`
	}
	if err := w.db.Get(&sup, `SELECT status_code, case_id FROM suppressions WHERE address = $1`, ghost); err != nil {
		t.Fatal(err)
	}
	if sup.Status != "5.1.1" || sup.CaseID == nil || *sup.CaseID != caseID {
		t.Errorf("suppression: status %q, case %v; want 5.1.1 on case %d", sup.Status, sup.CaseID, caseID)
	}
	if n := w.count(`SELECT count(*) FROM messages WHERE direction = 'in' AND class = 'bounce' AND case_id = $1`, caseID); n != 1 {
		t.Errorf("%d bounces recorded on case %d, want 1", n, caseID)
	}
	if rows := w.outbox(`WHERE kind = 'case_received' AND case_id = $1`, caseID); len(rows) != 1 || rows[0].Status != "sent" {
		t.Errorf("the bounced acknowledgement: %+v, want one row, sent (Postfix accepted it)", rows)
	}

	// The next mail from the suppressed address is still a case, but nothing is sent to it.
	second := w.newID("ghost", ghost)
	w.sendMail("thunderbird-new", ghost, []string{support}, mailData{
		From: person("Gone Away", ghost), To: support, Subject: "Invoice copy, again", MessageID: second, Body: "Still waiting.",
	})
	_, case2 := w.waitIngested(second)
	rows := w.outbox(`WHERE kind = 'case_received' AND case_id = $1`, case2)
	if len(rows) != 1 || rows[0].Status != "suppressed" {
		t.Errorf("acknowledgement to a suppressed address: %+v, want one row, suppressed", rows)
	}
}

func TestReseller_WithGrantOpensCaseAsSubmitterAndGetsTheMail(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	w.cli("orgs", "add", "Resell Co", "--domain", w.domain("resell"))
	w.cli("grants", "add", "--customer", "Acme", "--reseller", "Resell Co")
	bob := w.mailbox("bob", "resell")
	jane := w.mailbox("jane", "acme")
	w.cli("users", "add", bob, "--role", "reseller", "--org", "Resell Co", "--name", "Bob Reseller")
	w.cli("users", "add", jane, "--org", "Acme", "--name", "Jane Doe")
	w.start()
	agents, alice := w.addr("agents", "help"), w.addr("alice", "help")

	caseID, first, ack := w.openCase("Bob Reseller", bob, "Acme: mail server certificate expired",
		"On behalf of Acme: their mail server certificate expired last night.")
	if c := w.showCase(caseID); c.Submitter != bob {
		t.Errorf("case submitter %q, want the reseller %s", c.Submitter, bob)
	}
	if !contains(ids(ack.Header.Get("In-Reply-To")), first) {
		t.Errorf("acknowledgement In-Reply-To = %q, want <%s>", ack.Header.Get("In-Reply-To"), first)
	}
	notice := only(t, w.waitMail(agents, 1), "agent_new_case")
	if !strings.Contains(notice.text(), bob) {
		t.Errorf("agent notice does not name the requester %s:\n%s", bob, notice.text())
	}

	// The agent's answer goes to the submitter, the reseller.
	answer := w.newID("alice", alice)
	w.sendMail("gmail-reply", alice, []string{replyAddress(t, notice)}, replyTo(notice, mailData{
		From: person("Alice Agent", alice), To: notice.Header.Get("Reply-To"), MessageID: answer,
		Body: "We renewed the certificate; please ask Acme to restart their mail client.",
	}))
	if d, id := w.waitIngested(answer); d != "comment" || id != caseID {
		t.Fatalf("agent reply: decision %q on case %d, want a comment on case %d", d, id, caseID)
	}
	relay := only(t, w.waitMail(bob, 2)[1:], "comment_added")
	if !contains(ids(relay.Header.Get("References")), ack.id()) {
		t.Errorf("relayed comment is not threaded under the acknowledgement: References %q", relay.Header.Get("References"))
	}
	w.waitSent()
	if n := len(w.inbox(jane)); n != 0 {
		t.Errorf("the customer received %d mails of the reseller's case, want none", n)
	}
}

func TestStranger_CaseTagInSubjectOpensANewCase(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	w.start()
	jane := w.mailbox("jane", "acme")
	eve := w.mailbox("eve", "stranger")
	support := w.addr("support", "help")
	caseID, _, _ := w.openCase("Jane Doe", jane, "Salary export fails", "The payroll export stops at 50%.")

	// A stranger writes a new mail (no references) naming Jane's case.
	id := w.newID("eve", eve)
	w.sendMail("outlook-new", eve, []string{support}, mailData{
		From: person("Eve Mallory", eve), To: support, Subject: fmt.Sprintf("RE: [Case #%d] Salary export fails", caseID),
		MessageID: id, Body: "Please send me the exported salary file of this case.",
	})
	d, got := w.waitIngested(id)
	if d != "new_case" || got == caseID || got == 0 {
		t.Fatalf("stranger's mail: decision %q on case %d; want a new case, not case %d", d, got, caseID)
	}
	if c := w.showCase(caseID); len(c.Comments) != 1 {
		t.Errorf("case %d has %d comments, want only Jane's", caseID, len(c.Comments))
	}
	if c := w.showCase(got); c.Submitter != eve {
		t.Errorf("new case submitter %q, want %s", c.Submitter, eve)
	}
	ack := only(t, w.waitMail(eve, 1), "case_received")
	if s := ack.get("Subject"); !strings.Contains(s, fmt.Sprintf("[Case #%d]", got)) {
		t.Errorf("stranger's acknowledgement Subject = %q, want case #%d", s, got)
	}
	w.waitSent()
	if n := len(w.inbox(jane)); n != 1 {
		t.Errorf("Jane's mailbox holds %d mails, want only her acknowledgement", n)
	}
}

// TestLifecycle_SolveAndReopen: the agent's #solve solves the case and tells
// the customer (one mail: the agent's comment with the new status); the
// customer's reply reopens it.
func TestLifecycle_SolveAndReopen(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	w.start()
	jane := w.mailbox("jane", "acme")
	agents, alice := w.addr("agents", "help"), w.addr("alice", "help")
	caseID, _, _ := w.openCase("Jane Doe", jane, "Backup job fails", "The nightly backup fails with error 17.")
	notice := only(t, w.waitMail(agents, 1), "agent_new_case")

	solve := w.newID("alice", alice)
	w.sendMail("gmail-reply", alice, []string{replyAddress(t, notice)}, replyTo(notice, mailData{
		From: person("Alice Agent", alice), To: notice.Header.Get("Reply-To"), MessageID: solve,
		Body: "#solve\n\nFixed by the storage firmware update last night.",
	}))
	w.waitIngested(solve)
	if c := w.showCase(caseID); c.Status != "solved" {
		t.Fatalf("status after #solve: %q, want solved", c.Status)
	}
	mails := w.waitMail(jane, 2)
	solved := only(t, mails[1:], "comment_added")
	if txt := solved.text(); !strings.Contains(txt, "storage firmware") || strings.Contains(txt, "#solve") || !strings.Contains(strings.ToLower(txt), "solved") {
		t.Errorf("the solving mail should carry the comment and the solved status, without the command:\n%s", txt)
	}
	if !contains(ids(solved.Header.Get("References")), mails[0].id()) {
		t.Errorf("solved notice is not threaded under the acknowledgement: References %q", solved.Header.Get("References"))
	}

	reply := w.newID("reply", jane)
	w.sendMail("apple-mail-reply", jane, []string{replyAddress(t, solved)}, replyTo(solved, mailData{
		From: person("Jane Doe", jane), To: solved.Header.Get("Reply-To"), MessageID: reply,
		Body: "It failed again tonight, same error.",
	}))
	if d, id := w.waitIngested(reply); d != "comment" || id != caseID {
		t.Fatalf("reply to the solved case: decision %q on case %d, want a comment on case %d", d, id, caseID)
	}
	if c := w.showCase(caseID); c.Status != "open" {
		t.Fatalf("status after the customer's reply: %q, want open (reopened)", c.Status)
	}
	only(t, w.waitMail(agents, 2)[1:], "agent_reopened")
}
