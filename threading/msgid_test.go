package threading

import (
	"regexp"
	"testing"
)

func TestNewOwnMessageID_IsRandomAndReadBackByItsOwner(t *testing.T) {
	plain := regexp.MustCompile(`^hd\.[a-z2-7]{26}@support\.example\.com$`)
	seen := map[string]bool{}
	for range 100 {
		id := NewOwnMessageID("support.example.com", "")
		if !plain.MatchString(id) || seen[id] {
			t.Fatalf("id %q: not of our form or repeated", id)
		}
		seen[id] = true
		if !IsOwnMessageID(id, "Support.Example.com") {
			t.Fatalf("%q is not recognised as ours", id)
		}
		if _, ok := TokenFromMessageID(id, "support.example.com"); ok {
			t.Fatalf("%q carries no token, but one was read", id)
		}
	}
	id := NewOwnMessageID("support.example.com", "v1-abc")
	if tok, ok := TokenFromMessageID(id, "support.example.com"); !ok || tok != "v1-abc" {
		t.Errorf("token of %q: %q %v, want v1-abc", id, tok, ok)
	}
	for _, other := range []string{"hd.x@other.example", "abc@support.example.com", "HD.v1-abc.x@elsewhere"} {
		if IsOwnMessageID(other, "support.example.com") {
			t.Errorf("%q counted as ours", other)
		}
	}
}
