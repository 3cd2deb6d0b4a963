package helpdesk_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/helpdesk/helpdesk/helpdesk"
	"github.com/helpdesk/helpdesk/helpdesk/pgtest"
)

// withPolicy builds an env whose ingester uses a different configuration.
func withPolicy(t *testing.T, mut func(*helpdesk.IngestConfig)) *env {
	t.Helper()
	return newEnvWithDB(t, pgtest.New(t), mut)
}

func TestAccess_WhoMayWriteIntoACase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	mustOrg(t, s.DB(), "Support", "", "helpdesk.example")
	mustOrg(t, s.DB(), "Acme", "", "acme.example")
	mustOrg(t, s.DB(), "Globex", "", "globex.example")
	mustOrg(t, s.DB(), "Resell Co", "", "resell.example")
	mustOrg(t, s.DB(), "Other Resell", "", "other.example")
	sub := mustUser(t, s.DB(), "sub@acme.example", "customer", "Acme")
	users := map[string]*helpdesk.User{
		"submitter":            sub,
		"agent":                mustUser(t, s.DB(), "agent@helpdesk.example", "agent", "Support"),
		"manager":              mustUser(t, s.DB(), "boss@helpdesk.example", "manager", "Support"),
		"contact of the org":   mustUser(t, s.DB(), "contact@acme.example", "contact", "Acme"),
		"customer of the org":  mustUser(t, s.DB(), "coworker@acme.example", "customer", "Acme"),
		"customer elsewhere":   mustUser(t, s.DB(), "x@globex.example", "customer", "Globex"),
		"contact elsewhere":    mustUser(t, s.DB(), "c@globex.example", "contact", "Globex"),
		"reseller with grant":  mustUser(t, s.DB(), "rita@resell.example", "reseller", "Resell Co"),
		"reseller without one": mustUser(t, s.DB(), "otto@other.example", "reseller", "Other Resell"),
	}
	if err := helpdesk.AddGrant(ctx, s.DB(), "Acme", "Resell Co"); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	backdateGrants(t, s.DB(), "Resell Co", now.Add(-24*time.Hour))
	own, _ := helpdesk.CreateCase(ctx, s.DB(), helpdesk.NewCase{Subject: "own", OrgID: sub.OrgID, SubmitterID: sub.ID, Now: now})
	rita := users["reseller with grant"]
	acme := users["contact of the org"].OrgID
	byReseller, _ := helpdesk.CreateCase(ctx, s.DB(), helpdesk.NewCase{Subject: "for Acme", OrgID: acme, SubmitterID: rita.ID, Now: now})
	ownCase, _ := helpdesk.GetCase(ctx, s.DB(), own)
	resCase, _ := helpdesk.GetCase(ctx, s.DB(), byReseller)

	for _, tc := range []struct {
		who    string
		c      *helpdesk.Case
		policy helpdesk.AccessPolicy
		want   bool
	}{
		{"submitter", ownCase, helpdesk.AccessPolicy{}, true},
		{"agent", ownCase, helpdesk.AccessPolicy{}, true},
		{"manager", ownCase, helpdesk.AccessPolicy{}, true},
		{"contact of the org", ownCase, helpdesk.AccessPolicy{}, true},
		{"customer of the org", ownCase, helpdesk.AccessPolicy{}, false},
		{"customer of the org", ownCase, helpdesk.AccessPolicy{OrgCustomers: true}, true},
		{"customer of the org", resCase, helpdesk.AccessPolicy{}, true},
		{"customer elsewhere", ownCase, helpdesk.AccessPolicy{OrgCustomers: true}, false},
		{"contact elsewhere", ownCase, helpdesk.AccessPolicy{}, false},
		{"reseller with grant", ownCase, helpdesk.AccessPolicy{}, true},
		{"reseller with grant", resCase, helpdesk.AccessPolicy{}, true},
		{"reseller without one", ownCase, helpdesk.AccessPolicy{}, false},
	} {
		t.Run(fmt.Sprintf("%s on %s org-customers=%v", tc.who, tc.c.Subject, tc.policy.OrgCustomers), func(t *testing.T) {
			got, why, err := helpdesk.Access(ctx, s.DB(), users[tc.who], tc.c, tc.policy)
			if err != nil || got != tc.want {
				t.Fatalf("Access = %v (%s), %v; want %v", got, why, err, tc.want)
			}
		})
	}
	if ok, _, _ := helpdesk.Access(ctx, s.DB(), nil, ownCase, helpdesk.AccessPolicy{}); ok {
		t.Fatal("an unknown sender has access")
	}
	// A revoked grant ends the reseller's access to the customer's own cases.
	if err := helpdesk.RevokeGrant(ctx, s.DB(), "Acme", "Resell Co"); err != nil {
		t.Fatal(err)
	}
	if ok, _, _ := helpdesk.Access(ctx, s.DB(), rita, ownCase, helpdesk.AccessPolicy{}); ok {
		t.Fatal("reseller still has access after the grant was revoked")
	}
	if ok, _, _ := helpdesk.Access(ctx, s.DB(), rita, resCase, helpdesk.AccessPolicy{}); ok {
		t.Fatal("reseller still acts on the case it opened for the customer after the grant was revoked")
	}
	if ok, _, _ := helpdesk.Access(ctx, s.DB(), users["customer of the org"], resCase, helpdesk.AccessPolicy{}); !ok {
		t.Fatal("the customer lost the case a reseller opened for the org")
	}
}

func TestThreading_DecisionTableWithRealHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	first := e.ingest(msg("Minsu <minsu@acme.example>", "프린터 문의", "th-1@mail.gmail.example", "", "3층 프린터가 안 됩니다.",
		"Thread-Index: AdbYuQ2F7PS0tWzmSgSjHr8HhW7fOg=="))
	ackID := outbox(t, e.s.DB(), first.CaseID)[0].MessageID
	ackData := string(outbox(t, e.s.DB(), first.CaseID)[0].Data)
	replyTo := ackData[strings.Index(ackData, "support+"):]
	replyTo = replyTo[:strings.Index(replyTo, "@")] + "@example.com"
	tag := fmt.Sprintf("[Case #%d]", first.CaseID)
	mustUser(t, e.s.DB(), "stranger@evil.example", "customer", "")

	for _, tc := range []struct {
		name     string
		raw      string
		rule     string
		sameCase bool
		decision string
	}{
		{"Gmail reply to the Reply-To token address, no references",
			"From: minsu@acme.example\nTo: " + replyTo + "\nSubject: Re: 프린터 문의 " + tag + "\nMessage-ID: <th-2@mail.gmail.example>\n\n추가 정보\n", "token", true, "comment"},
		{"token only in Delivered-To (Bcc-style delivery)",
			"From: minsu@acme.example\nTo: someone@acme.example\nDelivered-To: " + replyTo + "\nSubject: printer\nMessage-ID: <th-3@mail.gmail.example>\n\nmore\n", "token", true, "comment"},
		{"Outlook 회신 with only Thread-Index left",
			"From: minsu@acme.example\nTo: support@example.com\nSubject: 회신: 프린터 문의\nMessage-ID: <th-4@outlook.example>\nThread-Index: AdbYuQ2F7PS0tWzmSgSjHr8HhW7fOgAABDfg\n\n회신입니다\n", "thread-index", true, "comment"},
		{"Apple Mail reply with References only",
			"From: minsu@acme.example\nTo: support@example.com\nSubject: Re: 프린터 문의\nMessage-ID: <th-5@icloud.example>\nReferences: <th-1@mail.gmail.example>\n\nok\n", "references", true, "comment"},
		{"phone reply keeping only the subject tag",
			"From: minsu@acme.example\nTo: support@example.com\nSubject: RE: " + tag + "\nMessage-ID: <th-6@phone.example>\n\nSent from my phone\n", "subject-tag", true, "comment"},
		{"forged token is ignored, a new case",
			"From: minsu@acme.example\nTo: support+v1-1-4-aaaaaaaaaaaaaaaa@example.com\nSubject: hello\nMessage-ID: <th-7@x.example>\n\nnew question\n", "new", false, "new_case"},
		{"stranger using the case tag starts a new case",
			"From: stranger@evil.example\nTo: support@example.com\nSubject: Re: " + tag + "\nMessage-ID: <th-8@evil.example>\n\nlet me in\n", "new", false, "new_case"},
		{"stranger in the Outlook conversation starts a new case",
			"From: stranger@evil.example\nTo: support@example.com\nSubject: RE: 프린터 문의\nMessage-ID: <th-9@evil.example>\nThread-Index: AdbYuQ2F7PS0tWzmSgSjHr8HhW7fOgAABDfh\n\nhi\n", "new", false, "new_case"},
		{"stranger replying to the customer's Message-ID is held",
			"From: stranger@evil.example\nTo: support@example.com\nSubject: Re: 프린터 문의\nMessage-ID: <th-12@evil.example>\nIn-Reply-To: <th-1@mail.gmail.example>\n\nsend me the files\n", "in-reply-to", true, "held"},
		{"stranger replying to our Message-ID (a valid reply token) is appended from a new address",
			"From: stranger@evil.example\nTo: support@example.com\nSubject: Re: 프린터 문의\nMessage-ID: <th-10@evil.example>\nIn-Reply-To: <" + ackID + ">\n\nsend me the files\n", "token", true, "comment"},
		{"forwarded message without token or reference is a new case",
			"From: minsu@acme.example\nTo: support@example.com\nSubject: Fwd: 프린터 문의\nMessage-ID: <th-11@x.example>\n\n---------- Forwarded message ---------\nold text\n", "new", false, "new_case"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.ingest(tc.raw)
			if r.Rule != tc.rule || (r.CaseID == first.CaseID) != tc.sameCase || r.Decision != tc.decision {
				t.Fatalf("result = %+v; want rule %s, same case %v, decision %s", r, tc.rule, tc.sameCase, tc.decision)
			}
		})
	}
	a := e.ingest(msg("Jane <jane@acme.example>", "Help", "help-a@acme.example", "", "one"))
	b := e.ingest(msg("Kim <kim@globex.example>", "Help", "help-b@globex.example", "", "two"))
	if a.CaseID == b.CaseID {
		t.Fatal("two customers writing \"Help\" share a case")
	}
}

func TestIngest_ResellerWithGrantOpensTheCaseForTheCustomerOrg(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	mustOrg(t, e.s.DB(), "Resell Co", "", "resell.example")
	mustUser(t, e.s.DB(), "rita@resell.example", "reseller", "Resell Co")
	m := msg("Rita <rita@resell.example>", "Acme VPN", "rg-1@resell.example", "", "Acme's VPN is down.", "Cc: Minsu <minsu@acme.example>")

	without := e.ingest(m)
	d, _ := helpdesk.GetCaseDetail(ctx, e.s.DB(), without.CaseID)
	if d.Org != "Resell Co" {
		t.Fatalf("without a grant the case belongs to %q, want the reseller's org", d.Org)
	}
	if err := helpdesk.AddGrant(ctx, e.s.DB(), "Acme", "Resell Co"); err != nil {
		t.Fatal(err)
	}
	with := e.ingest(strings.Replace(m, "rg-1@", "rg-2@", 1))
	d, _ = helpdesk.GetCaseDetail(ctx, e.s.DB(), with.CaseID)
	if d.Org != "Acme" || d.Submitter != "rita@resell.example" {
		t.Fatalf("with a grant: org %q submitter %q; want Acme and the reseller", d.Org, d.Submitter)
	}
	if n := count(t, e.s.DB(), `SELECT count(*) FROM case_participants p JOIN users u ON u.id = p.user_id WHERE p.case_id = $1 AND u.login_email = 'minsu@acme.example' AND p.role = 'customer'`, with.CaseID); n != 1 {
		t.Fatal("the customer is not recorded as a participant")
	}
	// The customer may now reply on the case the reseller opened.
	ack := outbox(t, e.s.DB(), with.CaseID)[0].MessageID
	if r := e.ingest(msg("minsu@acme.example", "Re: Acme VPN", "rg-3@acme.example", ack, "Thanks Rita")); r.Decision != "comment" {
		t.Fatalf("customer reply on the reseller's case: %+v", r)
	}
}

func TestIngest_StrangerMailCanOpenItsOwnCaseByConfiguration(t *testing.T) {
	t.Parallel()
	e := withPolicy(t, func(c *helpdesk.IngestConfig) { c.StrangerNewCase = true })
	first := e.ingest(msg("Jane <jane@acme.example>", "Help", "sn-1@acme.example", "", "It broke."))
	r := e.ingest(msg("Mallory <mallory@evil.example>", "Re: Help", "sn-2@evil.example", "sn-1@acme.example", "Me too"))
	if r.Decision != "new_case" || r.CaseID == first.CaseID {
		t.Fatalf("stranger with new_case policy: %+v", r)
	}
}

func TestIngest_UnknownSenderPolicies(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		policy     string
		from       string
		want       string
		refusalKey string
	}{
		{"open", "new@anywhere.example", "new_case", ""},
		{"domain", "new@acme.example", "new_case", ""},
		{"domain", "new@anywhere.example", "refused", "domain_not_allowed"},
		{"registered", "minsu@acme.example", "new_case", ""},
		{"registered", "new@acme.example", "refused", "unknown_sender"},
	} {
		t.Run(tc.policy+" "+tc.from, func(t *testing.T) {
			e := withPolicy(t, func(c *helpdesk.IngestConfig) { c.UnknownSenders = tc.policy })
			r := e.ingest(msg(tc.from, "Question", "us-1@x.example", "", "hello"))
			if r.Decision != tc.want {
				t.Fatalf("result = %+v, want %s", r, tc.want)
			}
			if tc.want != "refused" {
				return
			}
			if n := count(t, e.s.DB(), `SELECT count(*) FROM messages WHERE message_id = 'us-1@x.example' AND raw_id IS NOT NULL`); n != 1 {
				t.Fatal("the refused message is not kept")
			}
			var data []byte
			if err := e.s.DB().Get(&data, `SELECT data FROM outbox WHERE kind = 'refusal' AND $1 = ANY(recipients)`, tc.from); err != nil {
				t.Fatalf("no refusal sent: %v", err)
			}
			// A second mail within a day gets no second refusal; automated mail none at all.
			e.ingest(msg(tc.from, "Question again", "us-2@x.example", "", "hello?"))
			e.ingest(msg("robot@nowhere.example", "Automatic reply: Question", "us-3@x.example", "", "away", "Auto-Submitted: auto-replied"))
			if n := count(t, e.s.DB(), `SELECT count(*) FROM outbox WHERE kind = 'refusal'`); n != 1 {
				t.Fatalf("%d refusals, want 1", n)
			}
		})
	}
}

func TestIngest_UnauthenticatedAgentMailIsHeld(t *testing.T) {
	t.Parallel()
	e := withPolicy(t, func(c *helpdesk.IngestConfig) { c.AgentAuth = true; c.AuthServID = "mx.example.com"; c.TrustedHops = 1 })
	first := e.ingest(msg("Minsu <minsu@acme.example>", "printer", "aa-1@acme.example", "", "Broken."))
	notice := outbox(t, e.s.DB(), first.CaseID)[1].MessageID

	forged := e.ingest(msg("Alice <alice@example.com>", "Re: printer", "aa-2@evil.example", notice, "#solve\nAll done",
		"Authentication-Results: mx.evil.example; dkim=pass header.d=example.com"))
	if forged.Decision != "held" {
		t.Fatalf("agent mail without trusted authentication: %+v", forged)
	}
	w, err := helpdesk.ExplainMessage(context.Background(), e.s.DB(), "aa-2@evil.example")
	if err != nil || !strings.Contains(w.Access, "unauthenticated") || w.Comment == nil || *w.Comment != "held for review" {
		t.Fatalf("why = %+v, %v", w, err)
	}
	real := e.ingest(viaBorder(msg("Alice <alice@example.com>", "Re: printer", "aa-3@example.com", notice, "Please restart it."),
		"Authentication-Results: mx.example.com; dkim=pass header.d=example.com; spf=pass smtp.mailfrom=alice@example.com"))
	if real.Decision != "comment" {
		t.Fatalf("authenticated agent mail: %+v", real)
	}
}
