package e2e_test

import (
	"strings"
	"testing"

	"github.com/helpdesk/helpdesk/helpdesk/pgtest"
)

// TestTrust_ForgedAuthenticationResultsDoNotLetAStrangerActAsAnAgent: a
// stranger sends, through Postfix, a mail From the agent with an
// Authentication-Results field claiming our border's dkim pass as its first
// line, and #solve. The case stays open, the mail is held and nothing reaches
// the customer — whether the border writes no header at all, writes its own
// above Postfix's Received field (rspamd) or just below it (OpenDKIM 2.11,
// counted with HELPDESK_TRUSTED_RECEIVED_HOPS=2), and although the border
// does not strip the forgery. The agent's own mail, passed by the border,
// does solve the case.
func TestTrust_ForgedAuthenticationResultsDoNotLetAStrangerActAsAnAgent(t *testing.T) {
	t.Parallel()
	const authservID = "mx.e2e.localhost" // the private Postfix's myhostname
	for _, tc := range []struct {
		name   string
		milter bool
		index  uint32 // where the milter inserts its field
		hops   string
		why    string // what `why` says of the forged mail
	}{
		{"border writes no Authentication-Results", false, 0, "1", "below the border (forged?)"},
		{"border milter above Postfix's Received", true, 0, "1", "below the border (forged?)"},
		{"border milter just below Postfix's Received", true, 1, "2", "show no dkim, spf or dmarc pass"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dbURL := pgtest.Schema(t)
			bin, ms := setup(t)
			var m *authMilter
			if tc.milter {
				var err error
				if m, err = startAuthMilter(authservID, tc.index); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { m.Close() })
				if ms, err = startMailSystem(shared.dir, mailOptions{Milter: m.addr()}); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { ms.Close() })
			}
			w := newWorldOn(t, bin, ms, dbURL, map[string]string{
				"HELPDESK_AGENT_AUTH":            "on",
				"HELPDESK_AUTHSERV_ID":           authservID,
				"HELPDESK_TRUSTED_RECEIVED_HOPS": tc.hops,
			})
			jane := w.mailbox("jane", "acme")
			w.start()
			agents, alice, mallory := w.addr("agents", "help"), w.addr("alice", "help"), w.addr("mallory", "evil")
			if m != nil {
				m.verdict(mallory, "dkim=none; spf=fail smtp.mailfrom="+mallory)
				m.verdict(alice, "dkim=pass header.d="+w.domain("help")+" header.s=e2e; spf=pass smtp.mailfrom="+alice)
			}
			caseID, _, _ := w.openCase("Jane Doe", jane, "VPN down", "Nobody can connect to the VPN since this morning.")
			notice := only(t, w.waitMail(agents, 1), "agent_new_case")

			forgedID := w.newID("forged", alice)
			raw := append([]byte("Authentication-Results: "+authservID+"; dkim=pass header.d="+w.domain("help")+"\r\n"),
				render(t, "gmail-reply", replyTo(notice, mailData{
					From: person("Alice Agent", alice), To: notice.Header.Get("Reply-To"), MessageID: forgedID,
					Body: "#solve\n\nPlease sign in at http://vpn-reset.evil.test/acme to restore access.",
				}))...)
			if err := w.ms.send(mallory, []string{replyAddress(t, notice)}, raw); err != nil {
				t.Fatal(err)
			}
			if d, id := w.waitIngested(forgedID); d != "held" || id != caseID {
				t.Fatalf("forged agent mail: decision %q on case %d, want held on case %d", d, id, caseID)
			}
			if c := w.showCase(caseID); c.Status != "open" {
				t.Fatalf("status after the forged #solve: %q, want open", c.Status)
			}
			var why struct {
				Access string `json:"sender_access"`
			}
			w.cliJSON(&why, "why", forgedID)
			if !strings.Contains(why.Access, "unauthenticated mail from agent") || !strings.Contains(why.Access, tc.why) {
				t.Errorf("why of the forged mail: sender access %q, want it to say %q", why.Access, tc.why)
			}
			w.waitSent()
			if n := len(w.inbox(jane)); n != 1 {
				t.Fatalf("the customer's mailbox holds %d mails, want only her acknowledgement", n)
			}

			realID := w.newID("alice", alice)
			w.sendMail("gmail-reply", alice, []string{replyAddress(t, notice)}, replyTo(notice, mailData{
				From: person("Alice Agent", alice), To: notice.Header.Get("Reply-To"), MessageID: realID,
				Body: "#solve\n\nThe VPN concentrator was restarted; please try again.",
			}))
			d, _ := w.waitIngested(realID)
			switch status := w.showCase(caseID).Status; {
			case m == nil && (d != "held" || status != "open"):
				t.Fatalf("agent mail with no header from the border: decision %q, case %s; want held, open", d, status)
			case m != nil && (d != "comment" || status != "solved"):
				t.Fatalf("agent mail the border passed: decision %q, case %s; want a comment solving the case", d, status)
			}
		})
	}
}
