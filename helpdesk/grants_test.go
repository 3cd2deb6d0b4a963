package helpdesk_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/helpdesk/helpdesk/helpdesk"
)

// backdateGrants sets when the reseller org's grants were given: AddGrant
// stamps the database's clock, the tests' ingester runs on its own.
func backdateGrants(t testing.TB, q helpdesk.Queryer, reseller string, at time.Time) {
	t.Helper()
	if _, err := q.ExecContext(context.Background(), `UPDATE grants SET granted_at = $2
		WHERE reseller_org_id = (SELECT id FROM orgs WHERE name = $1)`, reseller, at); err != nil {
		t.Fatal(err)
	}
}

// A customer org moves from reseller Alpha to reseller Beta: each reseller
// acts only on the cases filed while its grant was held, and only while it
// lasts; the customer keeps every case.
func TestIngest_ResellerGrantCoversOnlyCasesFiledWhileItWasHeld(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	db := e.s.DB()
	mustOrg(t, db, "Alpha Resell", "", "alpha.example")
	mustOrg(t, db, "Beta Resell", "", "beta.example")
	mustUser(t, db, "ana@alpha.example", "reseller", "Alpha Resell")
	mustUser(t, db, "ben@beta.example", "reseller", "Beta Resell")
	if err := helpdesk.AddGrant(ctx, db, "Acme", "Alpha Resell"); err != nil {
		t.Fatal(err)
	}
	backdateGrants(t, db, "Alpha Resell", e.clk.Now().Add(-30*24*time.Hour))

	byAlpha := e.ingest(msg("Ana <ana@alpha.example>", "Acme: VPN down", "gr-1@alpha.example", "", "Acme's VPN is down.", "Cc: Minsu <minsu@acme.example>"))
	if d, _ := helpdesk.GetCaseDetail(ctx, db, byAlpha.CaseID); byAlpha.Decision != "new_case" || d.Org != "Acme" {
		t.Fatalf("Alpha's case for Acme: %+v in org %q", byAlpha, d.Org)
	}
	byCustomer := e.ingest(msg("Minsu <minsu@acme.example>", "Printer", "gr-2@acme.example", "", "The printer is broken."))
	alphaAck := outbox(t, db, byAlpha.CaseID)[0].MessageID
	customerAck := outbox(t, db, byCustomer.CaseID)[0].MessageID

	// While Alpha holds the grant it acts on both.
	for _, r := range []helpdesk.Result{
		e.ingest(msg("ana@alpha.example", "Re: Acme: VPN down", "gr-3@alpha.example", alphaAck, "It is back up.")),
		e.ingest(msg("ana@alpha.example", "Re: Printer", "gr-4@alpha.example", customerAck, "We ordered toner.")),
	} {
		if r.Decision != "comment" {
			t.Fatalf("Alpha under its grant: %+v", r)
		}
	}

	e.clk.Add(time.Hour)
	if err := helpdesk.RevokeGrant(ctx, db, "Acme", "Alpha Resell"); err != nil {
		t.Fatal(err)
	}
	if err := helpdesk.AddGrant(ctx, db, "Acme", "Beta Resell"); err != nil {
		t.Fatal(err)
	}
	backdateGrants(t, db, "Beta Resell", e.clk.Now())
	e.clk.Add(time.Hour)

	for _, tc := range []struct {
		name     string
		raw      string
		caseID   int64
		decision string
		access   string
	}{
		{"Beta replying to the case Alpha filed is held",
			msg("ben@beta.example", "Re: Acme: VPN down", "gr-5@beta.example", alphaAck, "We are Acme's partner now, send us the logs."),
			byAlpha.CaseID, "held", "before the grant"},
		{"Beta replying to the customer's case filed before its grant is held",
			msg("ben@beta.example", "Re: Printer", "gr-6@beta.example", customerAck, "Which printer?"),
			byCustomer.CaseID, "held", "before the grant"},
		{"Alpha replying to its own case after the revocation is held",
			msg("ana@alpha.example", "Re: Acme: VPN down", "gr-7@alpha.example", alphaAck, "Still there?"),
			byAlpha.CaseID, "held", "revoked its grant"},
		{"Alpha replying to the customer's case after the revocation is held",
			msg("ana@alpha.example", "Re: Printer", "gr-8@alpha.example", customerAck, "Toner shipped."),
			byCustomer.CaseID, "held", "revoked its grant"},
		{"the customer still writes into the case Alpha opened for the org",
			msg("minsu@acme.example", "Re: Acme: VPN down", "gr-9@acme.example", alphaAck, "Thanks, it works."),
			byAlpha.CaseID, "comment", "participant"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.ingest(tc.raw)
			if r.Decision != tc.decision || r.CaseID != tc.caseID {
				t.Fatalf("result = %+v; want %s on case %d", r, tc.decision, tc.caseID)
			}
			w, err := helpdesk.ExplainMessage(ctx, db, r.MessageID)
			if err != nil || !strings.Contains(w.Access, tc.access) {
				t.Fatalf("why: access %q (%v); want it to say %q", w.Access, err, tc.access)
			}
		})
	}

	// Beta's own case for the customer works, and Beta acts on it.
	byBeta := e.ingest(msg("Ben <ben@beta.example>", "Acme: new laptops", "gr-10@beta.example", "", "Acme needs five laptops set up.", "Cc: minsu@acme.example"))
	if d, _ := helpdesk.GetCaseDetail(ctx, db, byBeta.CaseID); byBeta.Decision != "new_case" || d.Org != "Acme" || d.Submitter != "ben@beta.example" {
		t.Fatalf("Beta's case for Acme: %+v in org %q by %q", byBeta, d.Org, d.Submitter)
	}
	betaAck := outbox(t, db, byBeta.CaseID)[0].MessageID
	if r := e.ingest(msg("ben@beta.example", "Re: Acme: new laptops", "gr-11@beta.example", betaAck, "Make that six.")); r.Decision != "comment" {
		t.Fatalf("Beta on its own case for Acme: %+v", r)
	}
}
