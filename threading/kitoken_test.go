package threading

import (
	"strings"
	"testing"
)

func TestKnownIssueToken_VerifiesItsOwnPurposeOnly(t *testing.T) {
	tk, err := NewTokens("known-issue-secret-0123456789")
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewTokens("another-secret-0123456789abc")
	sub := tk.SignKnownIssue(7)
	unsub := tk.SignKnownIssueUnsubscribe(7, 42)
	if got, err := tk.VerifyKnownIssue(sub); err != nil || got != (KnownIssueToken{IssueID: 7}) {
		t.Fatalf("subscribe token %q: %+v, %v", sub, got, err)
	}
	if got, err := tk.VerifyKnownIssue(strings.ToUpper(unsub)); err != nil || got != (KnownIssueToken{IssueID: 7, UserID: 42, Unsubscribe: true}) {
		t.Fatalf("unsubscribe token %q: %+v, %v", unsub, got, err)
	}
	if !IsKnownIssueToken(sub) || !IsKnownIssueToken(unsub) || IsKnownIssueToken(tk.Sign(7, 42)) {
		t.Fatal("IsKnownIssueToken does not tell the shapes apart")
	}
	for name, s := range map[string]string{
		"another secret":               other.SignKnownIssue(7),
		"another issue's mac":          "ki-8-" + sub[len("ki-7-"):],
		"a reply token":                tk.Sign(7, 42),
		"a bounce token":               tk.SignBounce(7),
		"unsubscribe mac as subscribe": "ki-7-" + unsub[strings.LastIndexByte(unsub, '-')+1:],
		"padded id":                    "ki-07-" + sub[len("ki-7-"):],
		"truncated":                    sub[:len(sub)-1],
		"another user":                 "ki-unsub-7-15-" + unsub[strings.LastIndexByte(unsub, '-')+1:],
	} {
		if _, err := tk.VerifyKnownIssue(s); err == nil {
			t.Errorf("%s (%q) verified", name, s)
		}
	}
	// Neither verifies as a reply token.
	for _, s := range []string{sub, unsub} {
		if _, err := tk.Verify(s); err == nil {
			t.Errorf("%q verified as a reply token", s)
		}
	}
}
