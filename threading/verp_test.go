package threading

import (
	"strings"
	"testing"
	"time"
)

func TestBounceToken_RoundTripsThroughAnEnvelopeSender(t *testing.T) {
	tk, _ := NewTokens("current-secret-0123456789")
	addr := tk.BounceAddress("support@example.com", 98765)
	if !strings.HasPrefix(addr, "support+bounce-") || !strings.HasSuffix(addr, "@example.com") || len(addr) > 64+12 {
		t.Fatalf("BounceAddress = %q", addr)
	}
	tok, ok := TokenFromAddress(strings.ToUpper(addr), []string{"support@example.com"})
	if !ok || !IsBounceToken(tok) {
		t.Fatalf("TokenFromAddress(%q) = %q, %v", addr, tok, ok)
	}
	id, err := tk.VerifyBounce(tok, time.Time{}) // survives upper-casing mail systems
	if err != nil || id != 98765 {
		t.Fatalf("VerifyBounce = %d, %v", id, err)
	}
}

func TestBounceToken_RejectsForgedTruncatedAndReplyTokens(t *testing.T) {
	tk, _ := NewTokens("current-secret-0123456789")
	other, _ := NewTokens("someone-elses-secret-xyz")
	good := tk.SignBounce(42)
	_, mac, _ := strings.Cut(strings.TrimPrefix(good, BounceTokenPrefix), "-")
	for name, s := range map[string]string{
		"another row, same mac": BounceTokenPrefix + "2a-" + mac,
		"truncated mac":         good[:len(good)-2],
		"signed by another key": other.SignBounce(42),
		"a reply token":         tk.Sign(42, 1),
		"leading zero id":       BounceTokenPrefix + "016-" + mac,
		"no mac":                BounceTokenPrefix + "16",
		"only the prefix":       BounceTokenPrefix,
		"wrong mac":             BounceTokenPrefix + "16-" + strings.Repeat("a", len(mac)),
	} {
		t.Run(name, func(t *testing.T) {
			if id, err := tk.VerifyBounce(s, time.Time{}); err == nil {
				t.Fatalf("VerifyBounce(%q) accepted: %d", s, id)
			}
		})
	}
	if _, err := tk.Verify(good); err == nil {
		t.Fatal("a bounce token verified as a reply token")
	}
}

func TestBounceToken_OldSecretUntilRetired(t *testing.T) {
	old, _ := NewTokens("old-secret-0123456789abc")
	rotated, _ := NewTokens("new-secret-0123456789abc", "old-secret-0123456789abc")
	retire := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	rotated.RetireOld(retire)
	tok := old.SignBounce(7)
	if id, err := rotated.VerifyBounce(tok, retire.Add(-time.Hour)); err != nil || id != 7 {
		t.Fatalf("before retirement: %d, %v", id, err)
	}
	if _, err := rotated.VerifyBounce(tok, retire.Add(time.Hour)); err == nil {
		t.Fatal("a token of a retired secret verified")
	}
}

func TestThread_BounceTokenIsNotAReplyToken(t *testing.T) {
	tk, _ := NewTokens("current-secret-0123456789")
	d := Thread(ThreadInput{Class: ClassHuman, Tokens: []TokenSeen{{Where: "to", Token: tk.SignBounce(5)}}}, tk)
	if d.Rule != RuleNew || d.TokenCheck != "no token" {
		t.Fatalf("Thread = %+v, want a new case with no token checked", d)
	}
}
