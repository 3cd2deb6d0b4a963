package helpdesk_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/helpdesk/helpdesk/helpdesk"
)

// withAgentAuth: agents' mail must be authenticated by the border.
func withAgentAuth(c *helpdesk.IngestConfig) {
	c.AgentAuth, c.AuthServID, c.TrustedHops = true, "mx.example.com", 1
}

func TestComment_FromTheCLIIsRelayedToTheCustomerWithItsFilesAndSetsPending(t *testing.T) {
	t.Parallel()
	e := withPolicy(t, withAgentAuth)
	first := e.ingest(msg("Minsu <minsu@acme.example>", "VPN", "lc-1@acme.example", "", "VPN is down."))
	ctx := context.Background()
	r, err := e.g.Comment(ctx, helpdesk.AgentComment{CaseID: first.CaseID, Agent: "Alice@Example.com",
		Body: "Please restart the client.\n", Files: []helpdesk.LocalFile{{Name: "steps.txt", ContentType: "text/plain", Content: []byte("1. quit\n2. start\n")}}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Decision != "comment" || r.CaseID != first.CaseID || r.Status != "pending" {
		t.Fatalf("result = %+v; want a comment that sets the case pending", r)
	}
	out := outbox(t, e.s.DB(), first.CaseID)
	relay := out[len(out)-1]
	if relay.Kind != "comment_added" || relay.Rcpt != "minsu@acme.example" {
		t.Fatalf("last mail = %s to %s; want comment_added to the customer", relay.Kind, relay.Rcpt)
	}
	data := string(relay.Data)
	for _, want := range []string{"Please restart the client.", "filename=steps.txt", "via Example Support"} {
		if !strings.Contains(data, want) {
			t.Errorf("relayed comment lacks %q", want)
		}
	}
	w, err := helpdesk.ExplainMessage(ctx, e.s.DB(), r.MessageID)
	if err != nil || !strings.Contains(w.Access, "helpdeskd CLI") {
		t.Fatalf("why = %+v, %v; want the CLI named as the authentication", w, err)
	}
	if n := count(t, e.s.DB(), `SELECT count(*) FROM messages WHERE message_id = $1 AND mailbox = 'cli'`, r.MessageID); n != 1 {
		t.Errorf("the comment's mail is not recorded as from mailbox cli")
	}
	if n := count(t, e.s.DB(), `SELECT count(*) FROM mailbox_cursors WHERE mailbox <> 'support/INBOX'`); n != 0 {
		t.Errorf("%d mailbox cursors besides the real mailbox: the CLI moved a cursor", n)
	}
}

func TestComment_FromTheCLIAppliesCommandsAndInternalNotesStayInternal(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	first := e.ingest(msg("Minsu <minsu@acme.example>", "printer", "lc-2@acme.example", "", "Broken."))
	ctx := context.Background()
	r, err := e.g.Comment(ctx, helpdesk.AgentComment{CaseID: first.CaseID, Agent: "alice@example.com", Body: "#status on_hold\nWaiting for the vendor."})
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != "on_hold" {
		t.Fatalf("status = %s; want on_hold from the #status command", r.Status)
	}
	before := len(sentOfKind(t, e.s.DB(), "comment_added"))
	r, err = e.g.Comment(ctx, helpdesk.AgentComment{CaseID: first.CaseID, Agent: "alice@example.com", Body: "Vendor ticket 4711.", Internal: true})
	if err != nil {
		t.Fatal(err)
	}
	if after := len(sentOfKind(t, e.s.DB(), "comment_added")); after != before {
		t.Fatalf("an internal note reached the customer (%d comment_added, was %d)", after, before)
	}
	d, err := helpdesk.GetCaseDetail(ctx, e.s.DB(), first.CaseID)
	if err != nil {
		t.Fatal(err)
	}
	last := d.Comments[len(d.Comments)-1]
	if !last.Internal || strings.Contains(last.Body, "#internal") || !strings.Contains(last.Body, "Vendor ticket 4711.") {
		t.Fatalf("last comment = %+v; want the internal note without the command", last)
	}
}

func TestComment_FromTheCLIRefusesNonAgentsAndUnknownCases(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	first := e.ingest(msg("Minsu <minsu@acme.example>", "printer", "lc-3@acme.example", "", "Broken."))
	db := e.s.DB()
	mustUser(t, db, "gone@example.com", "agent", "Example")
	if _, err := db.Exec(`UPDATE users SET active = false WHERE login_email = 'gone@example.com'`); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name, agent string
		caseID      int64
		want        string
		is          error
	}{
		{"customer", "minsu@acme.example", first.CaseID, "not an active agent", helpdesk.ErrInvalid},
		{"deactivated agent", "gone@example.com", first.CaseID, "deactivated agent", helpdesk.ErrInvalid},
		{"nobody", "nobody@example.com", first.CaseID, "no agent or manager", helpdesk.ErrInvalid},
		{"unknown case", "alice@example.com", 9999, "case 9999", helpdesk.ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.g.Comment(ctx, helpdesk.AgentComment{CaseID: tc.caseID, Agent: tc.agent, Body: "hello"})
			if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v; want %v mentioning %q", err, tc.is, tc.want)
			}
		})
	}
	if n := count(t, db, `SELECT count(*) FROM comments WHERE case_id = $1`, first.CaseID); n != 1 {
		t.Fatalf("%d comments; a refused comment was stored", n)
	}
}

func TestOpenFor_OpensACaseForTheCustomerWhoIsAcknowledgedAndRecordsTheOpener(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	r, err := e.g.OpenFor(ctx, helpdesk.OpenForCustomer{Customer: "minsu.kim@gmail.example", Subject: "Phone call: invoices missing",
		Severity: "s2", Body: "Called at 10:00: the November invoices are missing.", As: "alice@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Decision != "new_case" || r.Status != "open" || r.Severity != "S2" {
		t.Fatalf("result = %+v; want a new open S2 case", r)
	}
	d, err := helpdesk.GetCaseDetail(ctx, e.s.DB(), r.CaseID)
	if err != nil {
		t.Fatal(err)
	}
	if d.Submitter != "minsu@acme.example" || d.Subject != "Phone call: invoices missing" || d.Org != "Acme" {
		t.Fatalf("case = %+v; want Minsu's case in his org", d.Case)
	}
	out := outbox(t, e.s.DB(), r.CaseID)
	if len(out) == 0 || out[0].Kind != "case_received" || out[0].Rcpt != "minsu@acme.example" {
		t.Fatalf("outbox = %+v; want the acknowledgement to the customer first", out)
	}
	found := false
	for _, ev := range d.Events {
		if ev.Kind == "created" && ev.Actor != nil && *ev.Actor == "alice@example.com" && strings.Contains(ev.Reason, "minsu@acme.example") {
			found = true
		}
	}
	if !found {
		t.Fatalf("events = %+v; want created by alice on Minsu's behalf", d.Events)
	}
}

func TestOpenFor_RefusesUnknownCustomersStaffAndBadInputAndOpensNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		in   helpdesk.OpenForCustomer
		want string
		is   error
	}{
		{"unknown customer", helpdesk.OpenForCustomer{Customer: "who@acme.example", Subject: "x", Body: "x"}, "who@acme.example", helpdesk.ErrNotFound},
		{"staff as customer", helpdesk.OpenForCustomer{Customer: "alice@example.com", Subject: "x", Body: "x"}, "not a customer", helpdesk.ErrInvalid},
		{"customer as opener", helpdesk.OpenForCustomer{Customer: "minsu@acme.example", Subject: "x", Body: "x", As: "minsu@acme.example"}, "not an active agent", helpdesk.ErrInvalid},
		{"bad severity", helpdesk.OpenForCustomer{Customer: "minsu@acme.example", Subject: "x", Body: "x", Severity: "S9"}, `severity "S9"`, helpdesk.ErrInvalid},
		{"no subject", helpdesk.OpenForCustomer{Customer: "minsu@acme.example", Body: "x"}, "subject", helpdesk.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.g.OpenFor(ctx, tc.in)
			if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v; want %v mentioning %q", err, tc.is, tc.want)
			}
		})
	}
	if n := count(t, e.s.DB(), `SELECT count(*) FROM cases`); n != 0 {
		t.Fatalf("%d cases opened by refused requests", n)
	}
}
