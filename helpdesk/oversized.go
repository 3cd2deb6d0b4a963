package helpdesk

import (
	"github.com/helpdesk/helpdesk/threading"
)

// DefaultMaxMessageSize is the fetch limit of the mailbox poller when none
// is configured (HELPDESK_MAX_MESSAGE_SIZE's default).
const DefaultMaxMessageSize = 25 << 20

// tooLargeFacts is what deciding on a "too large" answer needs.
type tooLargeFacts struct {
	Class        threading.Class
	From         string // canonical; "" when unusable
	KnownUser    bool
	Policy       string // unknown-sender policy: open, domain, registered
	KnownDomain  bool   // From's domain belongs to a known org
	RecentlyTold bool   // this address was told within RefusalEvery
}

// answerTooLarge decides whether the sender of an oversized mail is told:
// only a human sender who may open cases under the unknown-sender policy
// (the From of a mail too large to read may well be forged, and the answer
// must not become a way to mail strangers), once per refusal interval.
func answerTooLarge(f tooLargeFacts) (bool, string) {
	switch {
	case f.Class != threading.ClassHuman:
		return false, "automated mail is never answered"
	case f.From == "":
		return false, "no usable From address"
	case f.RecentlyTold:
		return false, "the sender was told recently"
	case f.KnownUser, f.Policy == "open", f.Policy == "domain" && f.KnownDomain:
		return true, ""
	default:
		return false, "the sender may not open cases (" + f.Policy + " policy)"
	}
}
