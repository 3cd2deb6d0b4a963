package threading

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"strconv"
	"strings"
	"time"
)

// A reply token names a case and the user a mail was sent to, signed with
// HMAC-SHA256. It travels in the plus address of Reply-To
// (support+<token>@domain) and inside our Message-IDs, so a reply threads even
// when its References are stripped. Its alphabet is lower-case letters,
// digits and '-', which survive mail systems that lower-case addresses.
//
// Format v1: "v1-<case>-<recipient>-<mac>", case and recipient in base 36,
// mac the first 10 bytes of HMAC-SHA256(secret, "v1|case|recipient") in
// lower-case base32.

// Token is what a valid reply token says.
type Token struct {
	CaseID      int64
	RecipientID int64
	// KeyIndex is the index of the secret that verified it: 0 for the
	// current secret, more for older ones kept during a rotation.
	KeyIndex int
}

// Tokens signs with the first secret and verifies with any of them; older
// secrets only until OldUntil, when set.
type Tokens struct {
	secrets  [][]byte
	oldUntil time.Time
}

// RetireOld makes tokens signed with an older secret invalid after until.
func (t *Tokens) RetireOld(until time.Time) { t.oldUntil = until }

var b32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewTokens takes the current secret first, then older ones still accepted.
func NewTokens(secrets ...string) (*Tokens, error) {
	if len(secrets) == 0 {
		return nil, errors.New("tokens: no secret")
	}
	t := &Tokens{}
	for i, s := range secrets {
		if len(s) < 16 {
			return nil, errors.New("tokens: secret " + strconv.Itoa(i) + " is shorter than 16 bytes")
		}
		t.secrets = append(t.secrets, []byte(s))
	}
	return t, nil
}

// Sign returns the token for a case and recipient.
func (t *Tokens) Sign(caseID, recipientID int64) string {
	return tokenBody(caseID, recipientID) + "-" + mac(t.secrets[0], caseID, recipientID)
}

func tokenBody(caseID, recipientID int64) string {
	return "v1-" + strconv.FormatInt(caseID, 36) + "-" + strconv.FormatInt(recipientID, 36)
}

func mac(secret []byte, caseID, recipientID int64) string {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte("v1|" + strconv.FormatInt(caseID, 10) + "|" + strconv.FormatInt(recipientID, 10)))
	return b32.EncodeToString(h.Sum(nil)[:10])
}

// Verify checks a token as of the zero time (older secrets accepted).
func (t *Tokens) Verify(s string) (Token, error) { return t.VerifyAt(s, time.Time{}) }

// VerifyAt checks a token and says what it names. A malformed, truncated or
// forged token is an error; its content is never trusted. A token signed with
// an older secret fails once now is past the retirement time.
func (t *Tokens) VerifyAt(s string, now time.Time) (Token, error) {
	s = strings.ToLower(s)
	parts := strings.Split(s, "-")
	if len(parts) != 4 || parts[0] != "v1" {
		return Token{}, errors.New("token: not a v1 token")
	}
	caseID, err1 := strconv.ParseInt(parts[1], 36, 64)
	rcpt, err2 := strconv.ParseInt(parts[2], 36, 64)
	if err1 != nil || err2 != nil || caseID <= 0 || rcpt <= 0 || parts[1] != strconv.FormatInt(caseID, 36) || parts[2] != strconv.FormatInt(rcpt, 36) {
		return Token{}, errors.New("token: malformed ids")
	}
	for i, sec := range t.secrets {
		if hmac.Equal([]byte(parts[3]), []byte(mac(sec, caseID, rcpt))) {
			if i > 0 && !t.oldUntil.IsZero() && now.After(t.oldUntil) {
				return Token{}, errors.New("token: signed with a retired secret")
			}
			return Token{CaseID: caseID, RecipientID: rcpt, KeyIndex: i}, nil
		}
	}
	return Token{}, errors.New("token: bad signature")
}

// PlusAddress puts a token in the local part of addr: support@x → support+tok@x.
func PlusAddress(addr, token string) string {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return addr
	}
	return addr[:at] + "+" + token + addr[at:]
}

// TokenFromAddress returns the plus part of addr when its base (without the
// plus part) is one of ours, e.g. support+tok@x for support@x.
func TokenFromAddress(addr string, ours []string) (string, bool) {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return "", false
	}
	local, domain := addr[:at], addr[at:]
	plus := strings.IndexByte(local, '+')
	if plus < 0 {
		return "", false
	}
	base := local[:plus] + domain
	for _, o := range ours {
		if strings.EqualFold(base, o) {
			return local[plus+1:], true
		}
	}
	return "", false
}
