package threading

import (
	"fmt"
	"strings"
	"time"
)

// Threading rules, in the order they are tried (DESIGN.md section 4).
const (
	RuleOwnMail     = "own-mail"
	RuleToken       = "token"
	RuleInReplyTo   = "in-reply-to"
	RuleReferences  = "references"
	RuleThreadIndex = "thread-index"
	RuleSubjectTag  = "subject-tag"
	RuleNew         = "new"
)

// TokenSeen is a reply token found in a message, and where.
type TokenSeen struct {
	Where string // "to", "cc", "delivered-to", "x-original-to", "in-reply-to", "references"
	Token string
}

// ThreadInput is everything the threading decision needs. The caller looks
// up what needs the database (known Message-IDs, the case of an Outlook
// conversation, whether the sender may write into a tagged case) first.
type ThreadInput struct {
	Now        time.Time // for retired token secrets
	Class      Class
	Tokens     []TokenSeen
	InReplyTo  []string
	References []string // oldest first, as in the header
	// Known maps the Message-IDs of In-Reply-To and References that we
	// know to their case.
	Known map[string]int64
	// ThreadIndexCase is the case holding a message of the same Outlook
	// conversation (0: none); ThreadIndexAllowed says the sender may write there.
	ThreadIndexCase    int64
	ThreadIndexAllowed bool
	// TagCase is the case named by a [Case #N] subject tag, if it exists;
	// TagAllowed says the sender may write there.
	TagCase    int64
	TagAllowed bool
}

// Decision is where a message belongs and why.
type Decision struct {
	Rule   string
	CaseID int64 // 0: a new case (or nothing, for own mail)
	Reason string
	// TokenCheck says what became of reply tokens: valid, forged, none.
	TokenCheck string
}

// Thread decides which case a message belongs to. Subject text alone never
// threads: two customers both writing "Help" get two cases, and a forward
// without a token or known reference starts a new case.
func Thread(in ThreadInput, tokens *Tokens) Decision {
	if in.Class == ClassLoop {
		return Decision{Rule: RuleOwnMail, Reason: "our own mail came back", TokenCheck: "not checked"}
	}
	check := "no token"
	var bad []string
	if tokens != nil {
		for _, t := range in.Tokens {
			if IsBounceToken(t.Token) {
				continue // our envelope sender: it names a mail, not a case (see verp.go)
			}
			tok, err := tokens.VerifyAt(t.Token, in.Now)
			if err != nil {
				bad = append(bad, t.Where+": "+err.Error())
				continue
			}
			return Decision{Rule: RuleToken, CaseID: tok.CaseID,
				Reason:     fmt.Sprintf("signed token in %s names case #%d (issued to user %d)", t.Where, tok.CaseID, tok.RecipientID),
				TokenCheck: fmt.Sprintf("valid (%s, key %d, recipient %d)", t.Where, tok.KeyIndex, tok.RecipientID)}
		}
	}
	if len(bad) > 0 {
		check = "ignored: " + strings.Join(bad, "; ")
	}
	for _, id := range in.InReplyTo {
		if c := in.Known[id]; c > 0 {
			return Decision{Rule: RuleInReplyTo, CaseID: c, Reason: "known Message-ID <" + id + "> in In-Reply-To", TokenCheck: check}
		}
	}
	for i := len(in.References) - 1; i >= 0; i-- {
		id := in.References[i]
		if c := in.Known[id]; c > 0 {
			return Decision{Rule: RuleReferences, CaseID: c, Reason: "known Message-ID <" + id + "> in References", TokenCheck: check}
		}
	}
	if in.ThreadIndexCase > 0 {
		if in.ThreadIndexAllowed {
			return Decision{Rule: RuleThreadIndex, CaseID: in.ThreadIndexCase,
				Reason: fmt.Sprintf("Outlook conversation of case #%d", in.ThreadIndexCase), TokenCheck: check}
		}
		check += fmt.Sprintf("; Thread-Index matches case #%d but the sender may not write there", in.ThreadIndexCase)
	}
	if in.TagCase > 0 {
		if in.TagAllowed {
			return Decision{Rule: RuleSubjectTag, CaseID: in.TagCase,
				Reason: fmt.Sprintf("subject tag [Case #%d] from a sender allowed on it", in.TagCase), TokenCheck: check}
		}
		return Decision{Rule: RuleNew, Reason: fmt.Sprintf("subject tag [Case #%d] ignored: the sender may not write there", in.TagCase), TokenCheck: check}
	}
	return Decision{Rule: RuleNew, Reason: "no token, known Message-ID, conversation or allowed tag", TokenCheck: check}
}
