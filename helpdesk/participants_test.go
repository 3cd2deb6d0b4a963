package helpdesk_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/helpdesk/helpdesk/helpdesk"
)

// participants returns a case's participants as "email role".
func participants(t testing.TB, e *env, caseID int64) []string {
	t.Helper()
	ps, err := helpdesk.CaseParticipants(context.Background(), e.s.DB(), caseID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range ps {
		out = append(out, p.Email+" "+p.Role)
	}
	return out
}

func strOf(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// recipients lists who the outbox of a case writes to, with the kind.
func recipients(t testing.TB, e *env, caseID int64) []string {
	t.Helper()
	var out []string
	for _, o := range outbox(t, e.s.DB(), caseID) {
		out = append(out, o.Kind+" "+o.Rcpt)
	}
	return out
}

// The people in To/Cc of the submitter's mail take part: their replies
// threading by In-Reply-To, References or a reply token are appended as
// customer comments. Never our own addresses or staff; and notifications
// still go to the submitter only.
func TestIngest_CcColleagueIsAParticipantWhoseRepliesAreAppended(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	db := e.s.DB()
	first := e.ingest(msg("김민수 <minsu@acme.example>", "Printer jams", "pc-1@acme.example", "", "The printer jams.",
		"Cc: Jiwoo Park <jiwoo@partner.example>, alice@example.com, agents@example.com, support+v1-1-1-aaaa@example.com"))
	if first.Decision != "new_case" {
		t.Fatalf("first mail: %+v", first)
	}
	if got := participants(t, e, first.CaseID); strings.Join(got, ",") != "jiwoo@partner.example cc" {
		t.Fatalf("participants = %v, want only the Cc'd colleague (not staff, not our addresses)", got)
	}
	jiwoo, err := helpdesk.UserByAddress(ctx, db, "jiwoo@partner.example")
	if err != nil || jiwoo.Role != "customer" || jiwoo.Name != "Jiwoo Park" {
		t.Fatalf("the colleague's user: %+v, %v", jiwoo, err)
	}
	ack := outbox(t, db, first.CaseID)[0].MessageID
	for _, tc := range []struct{ name, raw, rule string }{
		{"by In-Reply-To", msg("jiwoo@partner.example", "Re: Printer jams", "pc-2@partner.example", "pc-1@acme.example", "It is the fuser."), "in-reply-to"},
		{"by References", "From: jiwoo@partner.example\nTo: support@example.com\nSubject: Re: Printer jams\nMessage-ID: <pc-3@partner.example>\n" +
			"References: <pc-1@acme.example>\nContent-Type: text/plain\n\nAnd the tray.\n", "references"},
		{"by reply token", msg("jiwoo@partner.example", "Re: Printer jams", "pc-4@partner.example", ack, "Fixed?"), "token"},
	} {
		r := e.ingest(tc.raw)
		if r.Decision != "comment" || r.CaseID != first.CaseID || r.Rule != tc.rule {
			t.Fatalf("%s: %+v", tc.name, r)
		}
		w, err := helpdesk.ExplainMessage(ctx, db, r.MessageID)
		if err != nil || w.Access != "participant" || w.Comment == nil || *w.Comment != "public comment" {
			t.Fatalf("%s: why = %+v, %v", tc.name, w, err)
		}
	}
	d, _ := helpdesk.GetCaseDetail(ctx, db, first.CaseID)
	if len(d.Comments) != 4 || strOf(d.Comments[3].Author) != "jiwoo@partner.example" || !d.Comments[3].Public {
		t.Fatalf("comments = %+v", d.Comments)
	}
	e.ingest(msg("alice@example.com", "Re: Printer jams", "pc-5@example.com", "pc-4@partner.example", "Replace the fuser."))
	for _, r := range recipients(t, e, first.CaseID) {
		if strings.Contains(r, "jiwoo") {
			t.Fatalf("the participant was mailed: %s (all: %v)", r, recipients(t, e, first.CaseID))
		}
	}
	if n := count(t, db, `SELECT count(*) FROM outbox WHERE case_id = $1 AND kind = 'comment_added' AND recipients = '{minsu@acme.example}'`,
		first.CaseID); n != 1 {
		t.Fatalf("%d comment_added mails to the submitter's login email, want 1: %v", n, recipients(t, e, first.CaseID))
	}
	if n := count(t, db, `SELECT count(*) FROM case_events WHERE case_id = $1 AND kind = 'participant' AND to_value = 'jiwoo@partner.example'`,
		first.CaseID); n != 1 {
		t.Fatalf("%d participant events", n)
	}
}

// A colleague Cc'd on a later reply of the submitter joins too; a
// stranger's mail (held) adds nobody.
func TestIngest_StrangerMailAddsNoParticipants(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	first := e.ingest(msg("minsu@acme.example", "VPN", "sp-1@acme.example", "", "VPN is down."))
	held := e.ingest(msg("eve@evil.example", "Re: VPN", "sp-2@evil.example", "sp-1@acme.example", "Add my friend.", "Cc: mallory@evil.example"))
	if held.Decision != "held" {
		t.Fatalf("stranger: %+v", held)
	}
	if got := participants(t, e, first.CaseID); len(got) != 0 {
		t.Fatalf("a stranger's mail added participants %v", got)
	}
	if r := e.ingest(msg("mallory@evil.example", "Re: VPN", "sp-3@evil.example", "sp-2@evil.example", "Let me in.")); r.Decision != "held" {
		t.Fatalf("the stranger's Cc: %+v", r)
	}
	r := e.ingest(msg("minsu@acme.example", "Re: VPN", "sp-4@acme.example", "sp-1@acme.example", "Looping in Jiwoo.", "Cc: jiwoo@partner.example"))
	if r.Decision != "comment" || strings.Join(participants(t, e, first.CaseID), ",") != "jiwoo@partner.example cc" {
		t.Fatalf("the submitter's reply with a Cc: %+v, participants %v", r, participants(t, e, first.CaseID))
	}
}

// A reseller writing for a customer org that granted it access, with the
// customer's people in Cc: they are participants (a new colleague gets a
// user in the customer's org) and their replies are appended.
func TestIngest_ResellerCustomerInCcIsAParticipantWhoseReplyIsAppended(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	db := e.s.DB()
	mustOrg(t, db, "Resell Co", "", "resell.example")
	mustUser(t, db, "rita@resell.example", "reseller", "Resell Co")
	if err := helpdesk.AddGrant(ctx, db, "Acme", "Resell Co"); err != nil {
		t.Fatal(err)
	}
	backdateGrants(t, db, "Resell Co", e.clk.Now().Add(-time.Hour))
	r := e.ingest(msg("Rita <rita@resell.example>", "Acme: mail server down", "rc-1@resell.example", "", "Acme's mail server is down.",
		"Cc: minsu@acme.example, Sora <sora@acme.example>"))
	d, _ := helpdesk.GetCaseDetail(ctx, db, r.CaseID)
	if r.Decision != "new_case" || d.Org != "Acme" {
		t.Fatalf("reseller's case: %+v in %q", r, d.Org)
	}
	if got := strings.Join(participants(t, e, r.CaseID), ","); got != "minsu@acme.example customer,sora@acme.example cc" {
		t.Fatalf("participants = %s", got)
	}
	sora, err := helpdesk.UserByAddress(ctx, db, "sora@acme.example")
	if err != nil || strOf(sora.OrgName) != "Acme" {
		t.Fatalf("new colleague: %+v, %v", sora, err)
	}
	ack := outbox(t, db, r.CaseID)[0].MessageID
	if rr := e.ingest(msg("sora@acme.example", "Re: Acme: mail server down", "rc-2@acme.example", ack, "Since 9:00.")); rr.Decision != "comment" {
		t.Fatalf("the customer's reply: %+v", rr)
	}
	if n := count(t, db, `SELECT count(*) FROM outbox WHERE case_id = $1 AND NOT (recipients <@ '{rita@resell.example,agents@example.com}')`,
		r.CaseID); n != 0 {
		t.Fatalf("%d mails went to someone besides the reseller and the agents", n)
	}
}

// Without a grant the case opens under the reseller's own org as before,
// and the reseller is told once per customer org that the org has not
// granted access and what became of the mail.
func TestIngest_ResellerWithoutGrantIsToldOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	db := e.s.DB()
	mustOrg(t, db, "Resell Co", "", "resell.example")
	mustUser(t, db, "rita@resell.example", "reseller", "Resell Co")
	first := e.ingest(msg("Rita <rita@resell.example>", "For Acme: VPN", "ng-1@resell.example", "", "Acme's VPN is down.", "Cc: minsu@acme.example"))
	d, _ := helpdesk.GetCaseDetail(ctx, db, first.CaseID)
	if first.Decision != "new_case" || d.Org != "Resell Co" || len(participants(t, e, first.CaseID)) != 0 {
		t.Fatalf("without a grant: %+v in %q, participants %v", first, d.Org, participants(t, e, first.CaseID))
	}
	if !strings.Contains(first.Reason, "Acme has not granted Resell Co access") {
		t.Fatalf("reason = %q", first.Reason)
	}
	var told []outRow
	for _, o := range outbox(t, db, first.CaseID) {
		if o.Kind == "refusal" {
			told = append(told, o)
		}
	}
	if len(told) != 1 || told[0].Rcpt != "rita@resell.example" {
		t.Fatalf("refusal-style notices: %+v", told)
	}
	body := bodyText(t, told[0].Data)
	for _, want := range []string{"Acme has not granted your organisation access", "opened as case #", "under your own organisation", "was not added"} {
		if !strings.Contains(body, want) {
			t.Fatalf("the notice does not say %q:\n%s", want, body)
		}
	}
	second := e.ingest(msg("rita@resell.example", "For Acme: printer", "ng-2@resell.example", "", "And the printer.", "Cc: minsu@acme.example"))
	if n := count(t, db, `SELECT count(*) FROM outbox WHERE kind = 'refusal'`); n != 1 || !strings.Contains(second.Reason, "already told") {
		t.Fatalf("second mail: %d notices, reason %q", n, second.Reason)
	}
	e.clk.Add(25 * time.Hour)
	e.ingest(msg("rita@resell.example", "For Acme: scanner", "ng-3@resell.example", "", "And the scanner.", "Cc: minsu@acme.example"))
	if n := count(t, db, `SELECT count(*) FROM outbox WHERE kind = 'refusal'`); n != 2 {
		t.Fatalf("after a day: %d notices, want 2", n)
	}
}

// A reply from an address we never mailed carrying a valid reply token is
// appended, the address becomes a participant and the agents are told it
// came from a new address; the strict policy holds it; an invalid token
// never does this.
func TestIngest_ReplyFromANewAddressWithAValidTokenIsAppended(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		strict   bool
		forged   bool
		decision string
	}{
		{"append by default", false, false, "comment"},
		{"held under the strict policy", true, false, "held"},
		{"a forged token is held", false, true, "held"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := withPolicy(t, func(c *helpdesk.IngestConfig) { c.Access.NewAddressHold = tc.strict })
			db := e.s.DB()
			first := e.ingest(msg("minsu@acme.example", "Invoice", "na-1@acme.example", "", "Wrong amount."))
			ack := outbox(t, db, first.CaseID)[0].MessageID
			raw := msg("Minsu at home <minsu.home@mail.example>", "Re: Invoice", "na-2@mail.example", ack, "Sent from my phone: any news?")
			if tc.forged {
				raw = msg("Minsu at home <minsu.home@mail.example>", "Re: Invoice", "na-2@mail.example", "na-1@acme.example", "any news?")
				raw = strings.Replace(raw, "To: support@example.com", "To: support+v1-1-1-aaaaaaaaaaaaaaaa@example.com", 1)
			}
			r := e.ingest(raw)
			if r.Decision != tc.decision || r.CaseID != first.CaseID {
				t.Fatalf("result = %+v", r)
			}
			w, _ := helpdesk.ExplainMessage(context.Background(), db, r.MessageID)
			kinds := strings.Join(kinds(t, e, first.CaseID), ",")
			if tc.decision == "held" {
				if len(participants(t, e, first.CaseID)) != 0 || !strings.Contains(kinds, "held_for_review") {
					t.Fatalf("held: participants %v, notices %s", participants(t, e, first.CaseID), kinds)
				}
				return
			}
			if got := strings.Join(participants(t, e, first.CaseID), ","); got != "minsu.home@mail.example new_address" {
				t.Fatalf("participants = %s", got)
			}
			if !strings.Contains(w.Access, "from a new address: minsu.home@mail.example") {
				t.Fatalf("why: access %q", w.Access)
			}
			var agent *outRow
			for i, o := range outbox(t, db, first.CaseID) {
				if o.Kind == "agent_customer_replied" {
					agent = &outbox(t, db, first.CaseID)[i]
				}
			}
			if agent == nil || !strings.Contains(bodyText(t, agent.Data), "From a new address: minsu.home@mail.example") {
				t.Fatalf("agent notice missing or silent about the new address (notices %s)", kinds)
			}
			if n := count(t, db, `SELECT count(*) FROM outbox WHERE 'minsu.home@mail.example' = ANY(recipients)`); n != 0 {
				t.Fatalf("the new address got %d mails", n)
			}
		})
	}
}

// Staff powers never come by a reply token: an agent's address without
// authentication stays held even with a valid token.
func TestIngest_NewAddressNeverGivesStaffPowers(t *testing.T) {
	t.Parallel()
	e := withPolicy(t, func(c *helpdesk.IngestConfig) { c.AgentAuth, c.AuthServID = true, "mx.example.com" })
	db := e.s.DB()
	first := e.ingest(msg("minsu@acme.example", "Invoice", "sf-1@acme.example", "", "Wrong amount."))
	ack := outbox(t, db, first.CaseID)[0].MessageID
	r := e.ingest(msg("alice@example.com", "Re: Invoice", "sf-2@example.com", ack, "#solve\nDone."))
	if r.Decision != "held" {
		t.Fatalf("unauthenticated agent mail with a token: %+v", r)
	}
	if got := participants(t, e, first.CaseID); len(got) != 0 {
		t.Fatalf("participants %v", got)
	}
}

// A web form's mail (no-reply sender, Reply-To the visitor) opens a case
// for the Reply-To person, acknowledged at their login email; the mail is
// stored as the requester's, its reason naming the form's own From.
func TestIngest_WebFormOpensACaseForTheReplyToPerson(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	db := e.s.DB()
	raw, err := os.ReadFile("testdata/webform-contact.eml")
	if err != nil {
		t.Fatal(err)
	}
	r := e.ingest(string(raw))
	if r.Decision != "new_case" || r.Class != "human" || !strings.Contains(r.Reason, "web form: requester from Reply-To") {
		t.Fatalf("web form: %+v", r)
	}
	d, _ := helpdesk.GetCaseDetail(ctx, db, r.CaseID)
	if d.Submitter != "haneul.kim@customer.example" {
		t.Fatalf("submitter = %s", d.Submitter)
	}
	if got := recipients(t, e, r.CaseID); len(got) == 0 || got[0] != "case_received haneul.kim@customer.example" {
		t.Fatalf("outbox = %v", got)
	}
	w, _ := helpdesk.ExplainMessage(ctx, db, r.MessageID)
	if w.From != "haneul.kim@customer.example" || !strings.Contains(w.Reason, "From noreply@shop.example") {
		t.Fatalf("why: from %q (want the requester), reason %q (want the form's own address)", w.From, w.Reason)
	}
	// The Reply-To is a known user's extra address: the case is theirs,
	// acknowledged at their login email.
	known := e.ingest(msg("Forms <no-reply@forms.example>", "Contact: printer", "wf-2@forms.example", "", "Printer broken.",
		"Reply-To: minsu.kim@gmail.example"))
	d, _ = helpdesk.GetCaseDetail(ctx, db, known.CaseID)
	if known.Decision != "new_case" || d.Submitter != "minsu@acme.example" {
		t.Fatalf("known requester: %+v, submitter %s", known, d.Submitter)
	}
	if got := recipients(t, e, known.CaseID); got[0] != "case_received minsu@acme.example" {
		t.Fatalf("outbox = %v", got)
	}
}

// A web form's Reply-To gives no access to an existing case, and one
// naming staff opens no case; both say why.
func TestIngest_WebFormReplyToNeverGrantsAccess(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	e.ingest(msg("minsu@acme.example", "VPN", "wa-1@acme.example", "", "Down."))
	r := e.ingest(msg("noreply@forms.example", "Re: VPN", "wa-2@forms.example", "wa-1@acme.example", "Close it.", "Reply-To: minsu@acme.example"))
	if r.Decision != "held" || !strings.Contains(r.Reason, "web form: requester from Reply-To") {
		t.Fatalf("web form into a case: %+v", r)
	}
	staff := e.ingest(msg("noreply@forms.example", "Contact", "wa-3@forms.example", "", "Hi.", "Reply-To: alice@example.com"))
	if staff.Decision != "refused" || staff.CaseID != 0 || !strings.Contains(staff.Reason, "web form: requester from Reply-To") {
		t.Fatalf("Reply-To naming staff: %+v", staff)
	}
	hs, err := helpdesk.ListHeld(ctx, e.s.DB())
	if err != nil || len(hs) != 2 {
		t.Fatalf("held list: %+v, %v", hs, err)
	}
}
