package threading

import (
	"strings"
	"testing"
)

func TestThread_RulesInOrder(t *testing.T) {
	tk, _ := NewTokens("thread-test-secret-0123456789")
	good := tk.Sign(10, 3)
	known := map[string]int64{"ack-1@helpdesk.example": 20, "old@customer.example": 30}
	for _, tc := range []struct {
		name       string
		in         ThreadInput
		rule       string
		caseID     int64
		tokenCheck string
	}{
		{"own mail is ignored before anything else", ThreadInput{Class: ClassLoop, Tokens: []TokenSeen{{"to", good}}}, RuleOwnMail, 0, "not checked"},
		{"a valid token wins over a known Message-ID", ThreadInput{Tokens: []TokenSeen{{"to", good}}, InReplyTo: []string{"ack-1@helpdesk.example"}, Known: known}, RuleToken, 10, "valid"},
		{"a forged token is ignored, then In-Reply-To", ThreadInput{Tokens: []TokenSeen{{"to", "v1-a-3-aaaaaaaaaaaaaaaa"}}, InReplyTo: []string{"ack-1@helpdesk.example"}, Known: known}, RuleInReplyTo, 20, "ignored"},
		{"a truncated token is ignored", ThreadInput{Tokens: []TokenSeen{{"cc", good[:len(good)-2]}}}, RuleNew, 0, "ignored"},
		{"In-Reply-To before References", ThreadInput{InReplyTo: []string{"ack-1@helpdesk.example"}, References: []string{"old@customer.example"}, Known: known}, RuleInReplyTo, 20, "no token"},
		{"References newest first", ThreadInput{References: []string{"old@customer.example", "ack-1@helpdesk.example", "unknown@x"}, Known: known}, RuleReferences, 20, "no token"},
		{"unknown ids fall through to new", ThreadInput{InReplyTo: []string{"unknown@x"}, Known: known}, RuleNew, 0, "no token"},
		{"Outlook conversation of an allowed sender", ThreadInput{ThreadIndexCase: 40, ThreadIndexAllowed: true}, RuleThreadIndex, 40, "no token"},
		{"Outlook conversation of a stranger", ThreadInput{ThreadIndexCase: 40}, RuleNew, 0, "may not write"},
		{"subject tag from an allowed sender", ThreadInput{TagCase: 50, TagAllowed: true}, RuleSubjectTag, 50, "no token"},
		{"subject tag from a stranger starts a new case", ThreadInput{TagCase: 50}, RuleNew, 0, "no token"},
		{"nothing at all", ThreadInput{}, RuleNew, 0, "no token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Thread(tc.in, tk)
			if d.Rule != tc.rule || d.CaseID != tc.caseID || !strings.Contains(d.TokenCheck, tc.tokenCheck) {
				t.Fatalf("Thread = %+v, want rule %s case %d token check ~%q", d, tc.rule, tc.caseID, tc.tokenCheck)
			}
		})
	}
}

func TestTokenFromMessageID(t *testing.T) {
	for id, want := range map[string]string{
		"hd.v1-a-3-abcdefghijklmnop.XYZ123@helpdesk.example": "v1-a-3-abcdefghijklmnop",
		"hd.v1-a-3-abc.x@other.example":                      "",
		"hd.ABCDEF@helpdesk.example":                         "",
		"CAF+1@helpdesk.example":                             "",
	} {
		got, _ := TokenFromMessageID(id, "helpdesk.example")
		if got != want {
			t.Errorf("TokenFromMessageID(%q) = %q, want %q", id, got, want)
		}
	}
}
