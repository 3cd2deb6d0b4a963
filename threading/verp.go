package threading

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"strconv"
	"strings"
	"time"
)

// A bounce token names one outgoing mail (its outbox row) in the envelope
// sender (MAIL FROM) of that mail: support+bounce-<id>-<mac>@domain, a VERP
// address. Mail servers send bounces to the envelope sender, and so do
// vacation responders that follow RFC 3834 and RFC 5230; a reply to it
// therefore proves it concerns our mail, and a valid token says which one.
// Humans answer From or Reply-To, never the envelope sender.
//
// Format: "bounce-<id>-<mac>", id in base 36, mac the first 10 bytes of
// HMAC-SHA256(secret, "bounce|id") in lower-case base32. The "bounce|"
// prefix keeps bounce and reply tokens from ever verifying as each other.

// BounceTokenPrefix starts every bounce token.
const BounceTokenPrefix = "bounce-"

// IsBounceToken reports whether the plus part of an address is shaped like
// a bounce token (valid or not): mail to it was sent to our envelope sender.
func IsBounceToken(s string) bool {
	return strings.HasPrefix(strings.ToLower(s), BounceTokenPrefix)
}

// SignBounce returns the bounce token for an outgoing mail.
func (t *Tokens) SignBounce(outboxID int64) string {
	return BounceTokenPrefix + strconv.FormatInt(outboxID, 36) + "-" + bounceMAC(t.secrets[0], outboxID)
}

// BounceAddress is the envelope sender of outgoing mail outboxID:
// support+bounce-…@domain.
func (t *Tokens) BounceAddress(support string, outboxID int64) string {
	return PlusAddress(support, t.SignBounce(outboxID))
}

// VerifyBounce checks a bounce token and returns the outbox row it names. A
// malformed or forged token is an error; one signed with a retired secret
// fails once now is past the retirement time.
func (t *Tokens) VerifyBounce(s string, now time.Time) (int64, error) {
	s = strings.ToLower(s)
	rest, ok := strings.CutPrefix(s, BounceTokenPrefix)
	if !ok {
		return 0, errors.New("bounce token: not a bounce token")
	}
	idPart, sig, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, errors.New("bounce token: malformed")
	}
	id, err := strconv.ParseInt(idPart, 36, 64)
	if err != nil || id <= 0 || strconv.FormatInt(id, 36) != idPart {
		return 0, errors.New("bounce token: malformed id")
	}
	for i, sec := range t.secrets {
		if hmac.Equal([]byte(sig), []byte(bounceMAC(sec, id))) {
			if i > 0 && !t.oldUntil.IsZero() && now.After(t.oldUntil) {
				return 0, errors.New("bounce token: signed with a retired secret")
			}
			return id, nil
		}
	}
	return 0, errors.New("bounce token: bad signature")
}

func bounceMAC(secret []byte, id int64) string {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte("bounce|" + strconv.FormatInt(id, 10)))
	return b32.EncodeToString(h.Sum(nil)[:10])
}
