package e2e_test

import (
	"bytes"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"text/template"
	"time"
)

// peopleMail is the data of the templates these tests send: mailData with
// Cc and Reply-To, which the other mails need not.
type peopleMail struct {
	From, To, Cc, Subject, MessageID, InReplyTo, References, Date, Body string
	ReplyTo, ReplyToAddress, Name                                       string
	QuotedFrom, QuotedTo, QuotedSubject, QuotedBody                     string
}

func (w *world) sendPeopleMail(name, envFrom string, to []string, d peopleMail) {
	w.t.Helper()
	if d.Date == "" {
		d.Date = time.Now().Format(time.RFC1123Z)
	}
	tmpl, err := template.ParseFiles(filepath.Join("testdata", name+".eml"))
	if err != nil {
		w.t.Fatal(err)
	}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, d); err != nil {
		w.t.Fatal(err)
	}
	raw := strings.ReplaceAll(strings.ReplaceAll(b.String(), "\r\n", "\n"), "\n", "\r\n")
	if err := w.ms.send(envFrom, to, []byte(raw)); err != nil {
		w.t.Fatalf("sending %s <%s>: %v", name, d.MessageID, err)
	}
}

// participantsJSON is the participants part of `cases show --json`.
type participantsJSON struct {
	Participants []struct {
		Email string `json:"email"`
		Role  string `json:"role"`
	} `json:"participants"`
	Comments []struct {
		Author *string `json:"author"`
		Public bool    `json:"public"`
		Held   bool    `json:"held"`
		Body   string  `json:"body"`
	} `json:"comments"`
}

// A customer writes with a colleague in Cc; the colleague answers with
// reply-all from Outlook: the answer is a public comment of the colleague
// on the same case, agents are told, and only the customer gets our mail.
func TestParticipants_ColleagueInCcWhoseReplyIsAppended(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	w.start()
	jane, minho := w.mailbox("jane", "acme"), w.mailbox("minho", "acme")
	support, agents := w.addr("support", "help"), w.addr("agents", "help")

	first := w.newID("new", jane)
	w.sendPeopleMail("thunderbird-new-cc", jane, []string{support, minho}, peopleMail{
		From: person("Jane Doe", jane), To: support, Cc: person("Minho Lee", minho), Subject: "Badge readers offline",
		MessageID: first, Body: "The badge readers on floor 3 are offline since 9:00. Minho has the details.",
	})
	decision, caseID := w.waitIngested(first)
	if decision != "new_case" {
		t.Fatalf("first mail: %s", decision)
	}
	only(t, w.waitMail(jane, 1), "case_received")
	w.waitMail(agents, 1)
	var c participantsJSON
	w.cliJSON(&c, "cases", "show", strconv.FormatInt(caseID, 10))
	if len(c.Participants) != 1 || c.Participants[0].Email != minho || c.Participants[0].Role != "cc" {
		t.Fatalf("participants = %+v, want the Cc'd colleague", c.Participants)
	}
	if out := w.cli("cases", "show", strconv.FormatInt(caseID, 10)); !strings.Contains(out, "Participants (1)") || !strings.Contains(out, minho) {
		t.Fatalf("cases show does not list the participant:\n%s", out)
	}

	// Minho got Jane's mail from Postfix and answers all.
	orig := w.waitMail(minho, 1)[0]
	if orig.id() != first {
		t.Fatalf("the colleague's mailbox has <%s>, want Jane's mail", orig.id())
	}
	reply := w.newID("reply", minho)
	w.sendPeopleMail("outlook-reply-all", minho, []string{jane, support}, peopleMail{
		From: person("Minho Lee", minho), To: person("Jane Doe", jane), Cc: support, Subject: "RE: Badge readers offline",
		MessageID: reply, InReplyTo: "<" + first + ">", References: "<" + first + ">",
		Body:       "The controller in rack B3 lost power. It is back, but readers 3-07 and 3-09 still blink red.",
		QuotedFrom: person("Jane Doe", jane), QuotedTo: support, QuotedSubject: "Badge readers offline",
		QuotedBody: "The badge readers on floor 3 are offline since 9:00. Minho has the details.",
	})
	if d, id := w.waitIngested(reply); d != "comment" || id != caseID {
		t.Fatalf("colleague's reply: decision %q on case %d, want a comment on case %d", d, id, caseID)
	}
	w.cliJSON(&c, "cases", "show", strconv.FormatInt(caseID, 10))
	last := c.Comments[len(c.Comments)-1]
	if len(c.Comments) != 2 || last.Author == nil || *last.Author != minho || !last.Public || !strings.Contains(last.Body, "rack B3") ||
		strings.Contains(last.Body, "since 9:00") {
		t.Fatalf("comments = %+v", c.Comments)
	}
	only(t, w.waitMail(agents, 2)[1:], "agent_customer_replied")
	w.waitSent()
	for _, m := range w.inbox(minho) {
		if m.Header.Get("X-Helpdesk-Reason") != "" {
			t.Fatalf("the participant got our %s mail", m.Header.Get("X-Helpdesk-Reason"))
		}
	}
	if n := w.count(`SELECT count(*) FROM outbox WHERE $1 = ANY(recipients)`, minho); n != 0 {
		t.Fatalf("%d mails queued to the participant", n)
	}
}

// A contact form mails from a no-reply address with the visitor in
// Reply-To: a case for the visitor, acknowledged in the visitor's mailbox.
func TestParticipants_WebFormOpensACaseForTheReplyToPerson(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	w.start()
	visitor := w.mailbox("haneul", "acme")
	support, agents := w.addr("support", "help"), w.addr("agents", "help")
	form := w.addr("noreply", "acme")
	id := w.newID("form", form)
	w.sendPeopleMail("webform-contact", form, []string{support}, peopleMail{
		From: form, To: support, ReplyTo: person("김하늘", visitor), ReplyToAddress: visitor, Name: "김하늘",
		Subject: "[Contact form] Order 5521 never arrived", MessageID: id,
		Body: "I ordered on 10 November and the parcel never arrived. Can you check?",
	})
	decision, caseID := w.waitIngested(id)
	if decision != "new_case" {
		t.Fatalf("web form: decision %q\n%s", decision, w.cli("why", id))
	}
	c := w.showCase(caseID)
	if c.Submitter != visitor {
		t.Fatalf("submitter = %s, want the Reply-To person", c.Submitter)
	}
	ack := only(t, w.waitMail(visitor, 1), "case_received")
	if !strings.Contains(ack.get("Subject"), "Order 5521") {
		t.Fatalf("acknowledgement subject %q", ack.get("Subject"))
	}
	only(t, w.waitMail(agents, 1), "agent_new_case")
	out := w.cli("why", id)
	if !strings.Contains(out, "web form: requester from Reply-To") {
		t.Fatalf("why does not name the web form:\n%s", out)
	}
}
