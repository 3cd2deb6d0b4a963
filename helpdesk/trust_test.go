package helpdesk_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/helpdesk/helpdesk/helpdesk"
)

// viaBorder returns raw as our mail system delivers it: the border
// mx.example.com's Received field on top of it, the given fields above that
// (where the border's milters insert theirs), and Dovecot's LMTP delivery
// fields on top of all.
func viaBorder(raw string, border ...string) string {
	lines := []string{
		"Return-Path: <alice@example.com>",
		"Delivered-To: support@example.com",
		"Received: from mx.example.com by imap.example.com with LMTP id 8Jk2ZQA for <support@example.com>; Fri, 20 Nov 2026 06:00:02 +0000",
	}
	lines = append(lines, border...)
	lines = append(lines, "Received: from mail.example.com (mail.example.com [192.0.2.10]) by mx.example.com (Postfix) with ESMTPS id 4Qx1; Fri, 20 Nov 2026 06:00:01 +0000")
	return strings.Join(lines, "\n") + "\n" + raw
}

func TestIngest_OnlyTheBordersAuthenticationResultsLetAnAgentAct(t *testing.T) {
	t.Parallel()
	const (
		realPass = "Authentication-Results: mx.example.com; dkim=pass header.d=example.com header.s=s1; spf=pass smtp.mailfrom=alice@example.com"
		realFail = "Authentication-Results: mx.example.com; dkim=fail (bad signature) header.d=example.com; spf=fail smtp.mailfrom=alice@example.com"
		forged   = "Authentication-Results: mx.example.com; dkim=pass header.d=example.com"
	)
	e := withPolicy(t, func(c *helpdesk.IngestConfig) { c.AgentAuth = true; c.AuthServID = "mx.example.com"; c.TrustedHops = 1 })
	ctx := context.Background()
	db := e.s.DB()
	for i, tc := range []struct {
		name      string
		noBorder  bool     // the mail never passed our border: no Received at all
		border    []string // fields the border put on top
		inMail    []string // fields the sender wrote
		decision  string
		status    string
		reasonHas string
	}{
		{name: "a stranger's forged pass with no header from the border", inMail: []string{forged},
			decision: "held", status: "open", reasonHas: "no Authentication-Results from mx.example.com at the border; ignored Authentication-Results from mx.example.com below the border (forged?)"},
		{name: "a forged pass below the border's real fail", border: []string{realFail}, inMail: []string{forged},
			decision: "held", status: "open", reasonHas: "dkim=fail spf=fail; ignored Authentication-Results from mx.example.com below the border (forged?)"},
		{name: "a forged pass in mail that never passed our border", noBorder: true, inMail: []string{forged},
			decision: "held", status: "open", reasonHas: "no Received field: the mail never came through our border"},
		{name: "our authserv-id only inside a comment", border: []string{"Authentication-Results: (mx.example.com) mx.evil.example; dkim=pass header.d=example.com"},
			decision: "held", status: "open", reasonHas: "no Authentication-Results from mx.example.com"},
		{name: "several headers from the border: the topmost fail decides", border: []string{realFail, realPass},
			decision: "held", status: "open", reasonHas: "show no dkim, spf or dmarc pass aligned with example.com"},
		{name: "the border's real pass on top", border: []string{realPass},
			decision: "comment", status: "solved", reasonHas: "authenticated: dkim=pass header.d=example.com"},
		{name: "the border's real pass on top, a forged fail in the mail changes nothing", border: []string{realPass},
			inMail:   []string{"Authentication-Results: mx.example.com; dkim=fail header.d=example.com"},
			decision: "comment", status: "solved", reasonHas: "authenticated: dkim=pass header.d=example.com; ignored Authentication-Results"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A customer of their own per row: the per-sender brakes on new cases stay out of the way.
			customer := fmt.Sprintf("customer%d@acme.example", i)
			first := e.ingest(msg(customer, "printer", fmt.Sprintf("tr-%d@acme.example", i), "", "Broken."))
			notice := outbox(t, db, first.CaseID)[1].MessageID
			raw := msg("Alice <alice@example.com>", "Re: printer", fmt.Sprintf("tr-%d@example.com", i), notice,
				"#solve\nPlease log in at http://phish.example/acme to restore printing.", tc.inMail...)
			if !tc.noBorder {
				raw = viaBorder(raw, tc.border...)
			}
			r := e.ingest(raw)
			c, err := helpdesk.GetCase(ctx, db, first.CaseID)
			if err != nil {
				t.Fatal(err)
			}
			if r.Decision != tc.decision || r.CaseID != first.CaseID || c.Status != tc.status {
				t.Fatalf("agent mail: %+v, case %s; want %s and the case %s", r, c.Status, tc.decision, tc.status)
			}
			w, err := helpdesk.ExplainMessage(ctx, db, r.MessageID)
			if err != nil || !strings.Contains(w.Access, tc.reasonHas) {
				t.Fatalf("why: sender access %q (%v); want it to say %q", w.Access, err, tc.reasonHas)
			}
			relayed := count(t, db, `SELECT count(*) FROM outbox WHERE case_id = $1 AND kind = 'comment_added' AND $2 = ANY(recipients)`, first.CaseID, customer)
			if want := map[string]int{"held": 0, "comment": 1}[tc.decision]; relayed != want {
				t.Fatalf("%d comments relayed to the customer, want %d", relayed, want)
			}
		})
	}
}
