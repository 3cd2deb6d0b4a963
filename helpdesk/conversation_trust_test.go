package helpdesk_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/helpdesk/helpdesk/helpdesk"
)

// A web form's Reply-To never names one of our own addresses, the agent or
// manager address or staff as requester: the mail is refused without an
// answer and listed for review.
func TestIngest_WebFormReplyToOurOwnOrStaffAddressIsRefusedAndListed(t *testing.T) {
	t.Parallel()
	for i, replyTo := range []string{"support+v1-1-1-aaaaaaaaaaaaaaaa@example.com", "support+cases@example.com", "agents@example.com",
		"boss@example.com", "alice@example.com"} {
		t.Run(replyTo, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			ctx := context.Background()
			id := fmt.Sprintf("wo-%d@forms.example", i)
			r := e.ingest(msg("noreply@forms.example", "Contact", id, "", "Hello.", "Reply-To: "+replyTo))
			if r.Decision != "refused" || r.CaseID != 0 || !strings.Contains(r.Reason, "a Reply-To never carries staff powers") {
				t.Fatalf("Reply-To %s: %+v", replyTo, r)
			}
			if n := count(t, e.s.DB(), `SELECT count(*) FROM outbox`); n != 0 {
				t.Fatalf("%d mails sent for a refused web form", n)
			}
			if n := count(t, e.s.DB(), `SELECT count(*) FROM users WHERE login_email = $1`, replyTo); n != 0 && !strings.HasPrefix(replyTo, "alice") {
				t.Fatalf("a user was made for %s", replyTo)
			}
			hs, err := helpdesk.ListHeld(ctx, e.s.DB())
			if err != nil || len(hs) != 1 || hs[0].MessageID != id {
				t.Fatalf("held list: %+v, %v", hs, err)
			}
		})
	}
}

// A web form's mail adds no Cc'd participants and, whoever its Reply-To
// is, writes for no customer org that granted a reseller access.
func TestIngest_WebFormAddsNoParticipantsAndWritesForNoGrantingOrg(t *testing.T) {
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
	plain := e.ingest(msg("noreply@forms.example", "Contact", "wp-1@forms.example", "", "Hello.",
		"Reply-To: haneul@customer.example", "Cc: friend@customer.example"))
	if plain.Decision != "new_case" || len(participants(t, e, plain.CaseID)) != 0 {
		t.Fatalf("web form with a Cc: %+v, participants %v", plain, participants(t, e, plain.CaseID))
	}
	resold := e.ingest(msg("noreply@forms.example", "Contact", "wp-2@forms.example", "", "For Acme.",
		"Reply-To: rita@resell.example", "Cc: minsu@acme.example"))
	d, _ := helpdesk.GetCaseDetail(ctx, db, resold.CaseID)
	if resold.Decision != "new_case" || d.Org != "Resell Co" || d.Submitter != "rita@resell.example" {
		t.Fatalf("web form from a reseller: %+v in %q by %s", resold, d.Org, d.Submitter)
	}
	if got := participants(t, e, resold.CaseID); len(got) != 0 {
		t.Fatalf("participants %v", got)
	}
	if n := count(t, db, `SELECT count(*) FROM outbox WHERE kind = 'refusal'`); n != 0 {
		t.Fatalf("%d refusal notices for a web form", n)
	}
}

// The per-sender new-case limit counts web-form cases against their
// requester, also across batches: the 6th form within an hour (limit 5)
// is throttled.
func TestIngest_WebFormSenderLimitCountsTheRequesterAcrossBatches(t *testing.T) {
	t.Parallel()
	e := withPolicy(t, func(c *helpdesk.IngestConfig) { c.SenderCaseLimit = 5 })
	var last helpdesk.Result
	for i := 1; i <= 6; i++ {
		last = e.ingest(msg(fmt.Sprintf("Form %d <noreply@form%d.example>", i, i), fmt.Sprintf("Contact %d", i), fmt.Sprintf("wl-%d@forms.example", i),
			"", "Please call me.", "Reply-To: flood@customer.example"))
		if i < 6 && last.Decision != "new_case" {
			t.Fatalf("form %d: %+v", i, last)
		}
		e.clk.Add(time.Minute)
	}
	if last.Decision != "throttled" || !strings.Contains(last.Reason, "flood@customer.example opened 5 cases") {
		t.Fatalf("6th form from the same requester: %+v", last)
	}
	w, err := helpdesk.ExplainMessage(context.Background(), e.s.DB(), "wl-6@forms.example")
	if err != nil || w.From != "flood@customer.example" {
		t.Fatalf("why: %+v, %v", w, err)
	}
}

// Released as a new case, a refused web form's mail opens the case for its
// Reply-To requester, not the form's no-reply From.
func TestHeld_ReleaseAsNewCaseOfAWebFormIsTheRequesters(t *testing.T) {
	t.Parallel()
	e := withPolicy(t, func(c *helpdesk.IngestConfig) { c.UnknownSenders = "registered" })
	ctx := context.Background()
	r := e.ingest(readEML(t, "webform-contact.eml"))
	if r.Decision != "refused" {
		t.Fatalf("web form under the registered policy: %+v", r)
	}
	rel, err := e.g.Release(ctx, heldIDOf(t, e, "f3c1a9e0b2d4@shop.example"), true, nil)
	if err != nil || rel.Decision != "new_case" {
		t.Fatalf("release: %+v, %v", rel, err)
	}
	d, _ := helpdesk.GetCaseDetail(ctx, e.s.DB(), rel.CaseID)
	if d.Submitter != "haneul.kim@customer.example" {
		t.Fatalf("submitter %s, want the Reply-To requester", d.Submitter)
	}
}

// Only the submitter is mailed about a case: a participant's refused
// command and a participant's too-large mail get no answer; the decision
// says why.
func TestIngest_ParticipantsAreNeverMailedCommandResultsOrTooLarge(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	db := e.s.DB()
	mustUser(t, db, "chul@acme.example", "contact", "Acme")
	first := e.ingest(msg("minsu@acme.example", "VPN", "pm-1@acme.example", "", "Down.", "Cc: jiwoo@partner.example"))
	ack := outbox(t, db, first.CaseID)[0].MessageID
	r := e.ingest(msg("chul@acme.example", "Re: VPN", "pm-2@acme.example", ack, "#assign me\nStill down."))
	if r.Decision != "comment" || !strings.Contains(r.Reason, "command not applied: #assign me") ||
		!strings.Contains(r.Reason, "only the submitter is mailed") {
		t.Fatalf("contact's refused command: %+v", r)
	}
	big := e.ingestOversized(header("jiwoo@partner.example", "Re: VPN", "pm-3@partner.example", ack), 5<<20)
	if !strings.Contains(big.Reason, "sender not told: jiwoo@partner.example is not the submitter") {
		t.Fatalf("participant's oversized mail: %+v", big)
	}
	for _, who := range []string{"chul@acme.example", "jiwoo@partner.example"} {
		if n := count(t, db, `SELECT count(*) FROM outbox WHERE $1 = ANY(recipients)`, who); n != 0 {
			t.Fatalf("%s got %d mails", who, n)
		}
	}
}

// Only the submitter, a contact of the case's org or staff may command a
// case: a Cc'd participant's or a new address's command lines stay text
// and are not applied; a contact's #solve is, and the submitter is not
// told "You marked" for it.
func TestIngest_OnlyTheSubmitterAContactOrStaffCommandACase(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, from, want string
		applied          bool
	}{
		{"Cc'd participant", "jiwoo@partner.example", "is neither the submitter, a contact of the case's org nor staff", false},
		{"new address by reply token", "minsu.home@mail.example", "from a new address", false},
		{"contact of the case's org", "chul@acme.example", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			ctx := context.Background()
			db := e.s.DB()
			mustUser(t, db, "chul@acme.example", "contact", "Acme")
			first := e.ingest(msg("minsu@acme.example", "VPN", "ca-1@acme.example", "", "Down.", "Cc: jiwoo@partner.example"))
			ack := outbox(t, db, first.CaseID)[0].MessageID
			r := e.ingest(msg(tc.from, "Re: VPN", "ca-2@x.example", ack, "#solve\n#severity S4\nWorks for me."))
			c := e.caseState(first.CaseID)
			if tc.applied {
				if c.Status != "solved" || c.Severity != "S4" {
					t.Fatalf("contact's commands: status %s severity %s (%+v)", c.Status, c.Severity, r)
				}
				if o := lastOutOfKindRow(t, e, first.CaseID, "status_changed"); o.Rcpt != "minsu@acme.example" ||
					strings.Contains(bodyText(t, o.Data), "고객님께서 문의") { // Korean "You marked …"
					t.Fatalf("solved notice to %s:\n%s", o.Rcpt, bodyText(t, o.Data))
				}
				return
			}
			if r.Decision != "comment" || c.Status != "open" || c.Severity == "S4" ||
				!strings.Contains(r.Reason, "commands not applied (") || !strings.Contains(r.Reason, tc.want+"): kept as text") {
				t.Fatalf("%s: %+v; status %s severity %s", tc.name, r, c.Status, c.Severity)
			}
			d, _ := helpdesk.GetCaseDetail(ctx, db, first.CaseID)
			last := d.Comments[len(d.Comments)-1]
			if !last.Public || !strings.Contains(last.Body, "#solve") || !strings.Contains(last.Body, "Works for me") {
				t.Fatalf("the comment: %+v", last)
			}
		})
	}
}

// A mail let in by the new-address token rule adds nobody it Cc's.
func TestIngest_NewAddressMailAddsNoCcParticipants(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	db := e.s.DB()
	first := e.ingest(msg("minsu@acme.example", "Invoice", "nc-1@acme.example", "", "Wrong amount."))
	ack := outbox(t, db, first.CaseID)[0].MessageID
	r := e.ingest(msg("minsu.home@mail.example", "Re: Invoice", "nc-2@mail.example", ack, "Any news?", "Cc: mallory@evil.example"))
	if r.Decision != "comment" {
		t.Fatalf("new address: %+v", r)
	}
	if got := strings.Join(participants(t, e, first.CaseID), ","); got != "minsu.home@mail.example new_address" {
		t.Fatalf("participants = %s", got)
	}
}

// A released held mail from a staff address (it failed authentication,
// so may be spoofed) carries no staff powers: its commands are not
// applied and its text is kept as an internal note, not relayed.
func TestHeld_ReleasedStaffMailIsAnInternalNoteWithoutCommands(t *testing.T) {
	t.Parallel()
	e := withPolicy(t, func(c *helpdesk.IngestConfig) { c.AgentAuth, c.AuthServID = true, "mx.example.com" })
	ctx := context.Background()
	db := e.s.DB()
	first := e.ingest(msg("minsu@acme.example", "Invoice", "rs-1@acme.example", "", "Wrong amount."))
	ack := outbox(t, db, first.CaseID)[0].MessageID
	if r := e.ingest(msg("alice@example.com", "Re: Invoice", "rs-2@example.com", ack, "#solve\nRefunded, sorry.")); r.Decision != "held" {
		t.Fatalf("unauthenticated agent mail: %+v", r)
	}
	before := len(outbox(t, db, first.CaseID))
	rel, err := e.g.Release(ctx, heldIDOf(t, e, "rs-2@example.com"), false, nil)
	if err != nil || rel.Decision != "comment" || !strings.Contains(rel.Reason, "released held mail from alice@example.com: commands not applied") {
		t.Fatalf("release: %+v, %v", rel, err)
	}
	if c := e.caseState(first.CaseID); c.Status != "open" {
		t.Fatalf("status %s: the released #solve was applied", c.Status)
	}
	d, _ := helpdesk.GetCaseDetail(ctx, db, first.CaseID)
	last := d.Comments[len(d.Comments)-1]
	if last.Public || last.Held || !strings.Contains(last.Body, "#solve") {
		t.Fatalf("released staff comment: %+v", last)
	}
	for _, o := range outbox(t, db, first.CaseID)[before:] {
		if strings.Contains(o.Rcpt, "minsu") {
			t.Fatalf("released staff mail reached the customer: %s %s", o.Kind, o.Rcpt)
		}
	}
}

// A reseller Cc'ing a granting org and a non-granting one writes for the
// granting one and is told, once, about the other.
func TestIngest_ResellerIsToldAboutTheNonGrantingOrgBesideAGrantingOne(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	db := e.s.DB()
	mustOrg(t, db, "Resell Co", "", "resell.example")
	mustOrg(t, db, "Globex", "", "globex.example")
	mustUser(t, db, "rita@resell.example", "reseller", "Resell Co")
	if err := helpdesk.AddGrant(ctx, db, "Acme", "Resell Co"); err != nil {
		t.Fatal(err)
	}
	backdateGrants(t, db, "Resell Co", e.clk.Now().Add(-time.Hour))
	r := e.ingest(msg("rita@resell.example", "Mail down", "rg-1@resell.example", "", "Both are down.", "Cc: minsu@acme.example, hank@globex.example"))
	d, _ := helpdesk.GetCaseDetail(ctx, db, r.CaseID)
	if d.Org != "Acme" || !strings.Contains(r.Reason, "Globex has not granted Resell Co access: opened under Acme") {
		t.Fatalf("case in %q: %+v", d.Org, r)
	}
	if got := strings.Join(participants(t, e, r.CaseID), ","); got != "minsu@acme.example customer" {
		t.Fatalf("participants = %s", got)
	}
	if n := count(t, db, `SELECT count(*) FROM outbox WHERE kind = 'refusal' AND recipients = '{rita@resell.example}'`); n != 1 {
		t.Fatalf("%d notices to the reseller, want 1", n)
	}
	var told string
	if err := db.Get(&told, `SELECT convert_from(data, 'UTF8') FROM outbox WHERE kind = 'refusal'`); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(told, "for Acme, which has granted") || strings.Contains(told, "under your own organisation") {
		t.Errorf("the reseller's notice does not say the case was opened for Acme:\n%s", told)
	}
	again := e.ingest(msg("rita@resell.example", "Printer", "rg-2@resell.example", "", "And the printer.", "Cc: minsu@acme.example, hank@globex.example"))
	if n := count(t, db, `SELECT count(*) FROM outbox WHERE kind = 'refusal'`); n != 1 || !strings.Contains(again.Reason, "already told") {
		t.Fatalf("second mail: %d notices, reason %q", n, again.Reason)
	}
}
