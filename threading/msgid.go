package threading

import (
	"crypto/rand"
	"strings"
)

// Our Message-IDs have one form, made and read only here:
// "hd.<random>@domain", or "hd.<token>.<random>@domain" when the mail is
// about a case and to a known recipient: the token threads a reply whose
// References survive but whose Reply-To did not.

// OwnMessageIDPrefix starts the local part of every Message-ID we generate.
const OwnMessageIDPrefix = "hd."

// NewOwnMessageID returns a fresh Message-ID (without <>) in domain,
// carrying token when it is not empty.
func NewOwnMessageID(domain, token string) string {
	id := OwnMessageIDPrefix
	if token != "" {
		id += token + "."
	}
	return id + strings.ToLower(rand.Text()) + "@" + domain
}

// IsOwnMessageID reports whether id is of our form in domain. Agents' mail
// clients on the same domain make Message-IDs in it too: those are not ours.
func IsOwnMessageID(id, domain string) bool {
	d := strings.ToLower(strings.TrimSpace(domain))
	lower := strings.ToLower(id)
	return d != "" && strings.HasPrefix(lower, OwnMessageIDPrefix) && strings.HasSuffix(lower, "@"+d)
}

// TokenFromMessageID returns the token inside one of our Message-IDs.
func TokenFromMessageID(id, domain string) (string, bool) {
	if !IsOwnMessageID(id, domain) {
		return "", false
	}
	lower := strings.ToLower(id)
	rest := lower[len(OwnMessageIDPrefix):strings.LastIndexByte(lower, '@')]
	tok, _, ok := strings.Cut(rest, ".")
	if !ok || !strings.HasPrefix(tok, "v1-") {
		return "", false
	}
	return tok, true
}
