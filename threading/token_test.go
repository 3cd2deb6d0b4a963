package threading

import (
	"strings"
	"testing"
	"time"
)

func TestTokens_SignVerifyRoundTrip(t *testing.T) {
	tk, err := NewTokens("current-secret-0123456789")
	if err != nil {
		t.Fatal(err)
	}
	s := tk.Sign(1234, 56)
	if strings.ToLower(s) != s || strings.ContainsAny(s, "+@. ") {
		t.Fatalf("token %q is not safe in a local part", s)
	}
	got, err := tk.Verify(strings.ToUpper(s)) // survives upper-casing mail systems
	if err != nil || got.CaseID != 1234 || got.RecipientID != 56 || got.KeyIndex != 0 {
		t.Fatalf("Verify = %+v, %v", got, err)
	}
}

func TestTokens_RejectForgedTruncatedAndForeign(t *testing.T) {
	tk, _ := NewTokens("current-secret-0123456789")
	other, _ := NewTokens("someone-elses-secret-xyz")
	good := tk.Sign(1234, 56)
	parts := strings.Split(good, "-")
	for name, s := range map[string]string{
		"other case, same mac":  "v1-" + "yb" + "-" + parts[2] + "-" + parts[3],
		"other recipient":       "v1-" + parts[1] + "-1-" + parts[3],
		"truncated mac":         good[:len(good)-3],
		"signed by another key": other.Sign(1234, 56),
		"unknown version":       "v2" + good[2:],
		"empty":                 "",
		"leading zero id":       "v1-0" + parts[1] + "-" + parts[2] + "-" + parts[3],
		"negative id":           "v1--" + parts[1] + "-" + parts[2] + "-" + parts[3],
	} {
		t.Run(name, func(t *testing.T) {
			if got, err := tk.Verify(s); err == nil {
				t.Fatalf("Verify(%q) accepted: %+v", s, got)
			}
		})
	}
}

func TestTokens_OldSecretStillVerifiesAfterRotation(t *testing.T) {
	old, _ := NewTokens("old-secret-0123456789abc")
	rotated, _ := NewTokens("new-secret-0123456789abc", "old-secret-0123456789abc")
	got, err := rotated.Verify(old.Sign(7, 8))
	if err != nil || got.KeyIndex != 1 {
		t.Fatalf("old token after rotation: %+v, %v", got, err)
	}
	if _, err := old.Verify(rotated.Sign(7, 8)); err == nil {
		t.Fatal("a token signed with the new secret verified with the old one alone")
	}
}

func TestTokenFromAddress(t *testing.T) {
	ours := []string{"support@example.com"}
	for _, tc := range []struct {
		addr, want string
		ok         bool
	}{
		{"support+v1-a-b-c@example.com", "v1-a-b-c", true},
		{"Support+v1-a-b-c@Example.COM", "v1-a-b-c", true},
		{"support@example.com", "", false},
		{"billing+v1-a-b-c@example.com", "", false},
		{"support+v1-a-b-c@evil.example", "", false},
	} {
		got, ok := TokenFromAddress(tc.addr, ours)
		if got != tc.want || ok != tc.ok {
			t.Errorf("TokenFromAddress(%q) = %q, %v", tc.addr, got, ok)
		}
	}
	if PlusAddress("support@example.com", "tok") != "support+tok@example.com" {
		t.Error("PlusAddress")
	}
}

func FuzzTokensVerify(f *testing.F) {
	tk, _ := NewTokens("current-secret-0123456789")
	f.Add(tk.Sign(1, 2))
	f.Add("v1-zz-zz-abcdefghijklmnop")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := tk.Verify(s)
		if err == nil && tk.Sign(got.CaseID, got.RecipientID) != strings.ToLower(s) {
			t.Fatalf("Verify accepted %q which Sign would not produce", s)
		}
	})
}

func TestTokens_RetiredSecretStopsVerifying(t *testing.T) {
	old, _ := NewTokens("old-secret-0123456789abc")
	rotated, _ := NewTokens("new-secret-0123456789abc", "old-secret-0123456789abc")
	until := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	rotated.RetireOld(until)
	tok := old.Sign(7, 8)
	if _, err := rotated.VerifyAt(tok, until.Add(-time.Hour)); err != nil {
		t.Fatalf("before retirement: %v", err)
	}
	if _, err := rotated.VerifyAt(tok, until.Add(time.Hour)); err == nil {
		t.Fatal("a token of a retired secret still verifies")
	}
	if _, err := rotated.VerifyAt(rotated.Sign(7, 8), until.Add(time.Hour)); err != nil {
		t.Fatalf("current secret after retirement: %v", err)
	}
}
