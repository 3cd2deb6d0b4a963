package mail

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// MalformedIDDomain is the domain of the Message-IDs that stand in for
// identifiers which are not of the form left@right, too long, or not
// writable in a header of ours.
const MalformedIDDomain = "malformed.helpdesk.invalid"

// maxMsgIDLen bounds the ids we keep: longer ones are replaced by a digest,
// so that a 2 KB identifier neither bloats the index nor breaks the headers
// we write in reply.
const maxMsgIDLen = 250

// CanonicalMsgID turns a message identifier as found in a Message-ID,
// In-Reply-To or References field into the form we store and write back:
// without angle brackets, white space and control characters, and of the form
// dot-atom "@" (dot-atom | domain-literal) in at most 250 octets. Anything
// else maps to a stand-in in MalformedIDDomain that depends only on the
// identifier, so a reply naming the same malformed id threads to the same
// message. The result is "" only when v holds no identifier at all.
func CanonicalMsgID(v string) string {
	id := normalizeID(v)
	if id == "" || id == "@" {
		return ""
	}
	if validMsgID(id) {
		return id
	}
	if len(id) <= 64 && isDotAtomText(id) {
		return id + "@" + MalformedIDDomain // "<abc123>": keep it readable
	}
	return hashedID(id)
}

func hashedID(id string) string {
	sum := sha256.Sum256([]byte(id))
	return "sha-" + hex.EncodeToString(sum[:16]) + "@" + MalformedIDDomain
}

// reservedID reports an id in a domain of the ids we make up: a Message-ID
// a sender writes there is treated as malformed, so that it can never pass
// for one of ours (or for another mail's stand-in).
func reservedID(id string) bool {
	d := strings.ToLower(id[strings.LastIndexByte(id, '@')+1:])
	return d == MalformedIDDomain || d == SyntheticIDDomain
}

// validMsgID is RFC 5322's msg-id without the brackets (obsolete forms
// aside), bounded in length.
func validMsgID(id string) bool {
	if len(id) > maxMsgIDLen {
		return false
	}
	at := strings.LastIndexByte(id, '@')
	if at <= 0 || at == len(id)-1 {
		return false
	}
	left, right := id[:at], id[at+1:]
	if !isDotAtomText(left) {
		return false
	}
	if strings.HasPrefix(right, "[") && strings.HasSuffix(right, "]") {
		for i := 1; i < len(right)-1; i++ {
			if c := right[i]; c < '!' || c > '~' || c == '[' || c == ']' || c == '\\' {
				return false
			}
		}
		return true
	}
	return isDotAtomText(right)
}

func isDotAtomText(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
