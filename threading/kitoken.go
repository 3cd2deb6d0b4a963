package threading

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"strconv"
	"strings"
)

// A known-issue token names a known issue in the plus address customers
// subscribe by (support+ki-<id>-<mac>@domain); an unsubscribe token names a
// known issue and a subscriber (support+ki-unsub-<id>-<user>-<mac>@domain).
// Their MACs cover a purpose of their own, so neither verifies as the other
// nor as a reply or bounce token, which also never verify as these.

// KnownIssueTokenPrefix starts every known-issue token, subscribe or unsubscribe.
const KnownIssueTokenPrefix = "ki-"

const kiUnsubPrefix = "ki-unsub-"

// IsKnownIssueToken reports whether the plus part of an address is shaped
// like a known-issue token (valid or not).
func IsKnownIssueToken(s string) bool {
	return strings.HasPrefix(strings.ToLower(s), KnownIssueTokenPrefix)
}

// SignKnownIssue returns the subscribe token of known issue id.
func (t *Tokens) SignKnownIssue(id int64) string {
	return KnownIssueTokenPrefix + strconv.FormatInt(id, 36) + "-" + purposeMAC(t.secrets[0], "ki", id)
}

// SignKnownIssueUnsubscribe returns the token that ends user's subscription
// to known issue id.
func (t *Tokens) SignKnownIssueUnsubscribe(id, user int64) string {
	return kiUnsubPrefix + strconv.FormatInt(id, 36) + "-" + strconv.FormatInt(user, 36) + "-" + purposeMAC(t.secrets[0], "ki-unsub", id, user)
}

// KnownIssueToken is what a valid known-issue token says.
type KnownIssueToken struct {
	IssueID int64
	// UserID is set for an unsubscribe token: whose subscription it ends.
	UserID      int64
	Unsubscribe bool
}

// VerifyKnownIssue checks a subscribe or unsubscribe token. A malformed or
// forged token is an error.
func (t *Tokens) VerifyKnownIssue(s string) (KnownIssueToken, error) {
	s = strings.ToLower(s)
	unsub := strings.HasPrefix(s, kiUnsubPrefix)
	rest, ok := strings.CutPrefix(s, KnownIssueTokenPrefix)
	if unsub {
		rest = strings.TrimPrefix(s, kiUnsubPrefix)
	}
	if !ok {
		return KnownIssueToken{}, errors.New("known-issue token: wrong prefix")
	}
	parts := strings.Split(rest, "-")
	want := 2
	if unsub {
		want = 3
	}
	if len(parts) != want {
		return KnownIssueToken{}, errors.New("known-issue token: malformed")
	}
	ids := make([]int64, want-1)
	for i := range ids {
		n, err := strconv.ParseInt(parts[i], 36, 64)
		if err != nil || n <= 0 || parts[i] != strconv.FormatInt(n, 36) {
			return KnownIssueToken{}, errors.New("known-issue token: malformed ids")
		}
		ids[i] = n
	}
	purpose := "ki"
	if unsub {
		purpose = "ki-unsub"
	}
	for _, sec := range t.secrets {
		if hmac.Equal([]byte(parts[want-1]), []byte(purposeMAC(sec, purpose, ids...))) {
			k := KnownIssueToken{IssueID: ids[0], Unsubscribe: unsub}
			if unsub {
				k.UserID = ids[1]
			}
			return k, nil
		}
	}
	return KnownIssueToken{}, errors.New("known-issue token: bad signature")
}

func purposeMAC(secret []byte, purpose string, ids ...int64) string {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(purpose))
	for _, id := range ids {
		h.Write([]byte("|" + strconv.FormatInt(id, 10)))
	}
	return b32.EncodeToString(h.Sum(nil)[:10])
}
