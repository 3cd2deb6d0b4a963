package helpdesk

import (
	"strconv"
	"strings"
	"time"
)

// Mail loops: an autoresponder that answers our acknowledgement with a fresh
// mail (no In-Reply-To, no Auto-Submitted) would open a case, get an
// acknowledgement, answer it, and so on. Three brakes stop it within one
// exchange, besides the VERP envelope sender that recognises replies to it
// (bounces.go):
//
//   - a sender opens at most SenderCaseLimit cases per hour; more mail is
//     stored as throttled, unanswered, and agents get one digest per sender
//     per hour instead of one notice per mail;
//   - a new case from an address that got an automated mail from us within
//     LoopWindow is not acknowledged when it quotes that mail (its subject,
//     Message-ID or case tag): that is an answer to our mail, not a request;
//   - agent notices count against Budget.PerStaff.

// DecisionThrottled: a sender over the new-case limit; the mail is stored
// without a case or an answer.
const DecisionThrottled = "throttled"

// throttleWindow is the window of SenderCaseLimit.
const throttleWindow = time.Hour

// senderThrottle decides about a new case from a sender who opened
// casesInWindow cases (and had throttledInWindow mails held back) within the
// window: over the limit the mail is held back, and the first held back
// mail of the window tells the agents.
func senderThrottle(casesInWindow, throttledInWindow, limit int) (throttle, digest bool) {
	if limit <= 0 || casesInWindow < limit {
		return false, false
	}
	return true, throttledInWindow == 0
}

// staffAddress is where notices that concern no case go: the agent
// address, else the duty manager; "" when neither is set (or no notifier).
func (n *Notifier) staffAddress() string {
	if n == nil {
		return ""
	}
	if n.cfg.AgentAddress != "" {
		return n.cfg.AgentAddress
	}
	return n.cfg.ManagerAddress
}

// ourMail is an automated mail we sent to an address recently.
type ourMail struct {
	MessageID string `db:"message_id"`
	Subject   string `db:"subject"`
	CaseID    *int64 `db:"case_id"`
}

// minQuotedSubject: shorter subjects ("Hi") are too common to count as a quote.
const minQuotedSubject = 8

// quotesOurMail reports whether a mail with this subject and text quotes
// one of ours: names its Message-ID, carries its case tag, or contains its
// subject. It says which and how.
func quotesOurMail(subject, text string, ours []ourMail) (string, bool) {
	hay := strings.ToLower(strings.Join(strings.Fields(subject+"\n"+text), " "))
	for _, m := range ours {
		if id := strings.ToLower(m.MessageID); id != "" && strings.Contains(hay, id) {
			return "names the Message-ID of our mail <" + m.MessageID + ">", true
		}
		if m.CaseID != nil {
			if tag := "[case #" + strconv.FormatInt(*m.CaseID, 10) + "]"; strings.Contains(hay, tag) {
				return "carries the case tag of our mail <" + m.MessageID + ">", true
			}
		}
		// Our subjects end with the case tag; a quote may have lost it.
		s := strings.ToLower(strings.Join(strings.Fields(m.Subject), " "))
		if m.CaseID != nil {
			s = strings.TrimSpace(strings.TrimSuffix(s, "[case #"+strconv.FormatInt(*m.CaseID, 10)+"]"))
		}
		if len(s) >= minQuotedSubject && strings.Contains(hay, s) {
			return "quotes the subject of our mail <" + m.MessageID + ">", true
		}
	}
	return "", false
}

// maxQuoteScan bounds how much of a mail's text is searched for a quote.
const maxQuoteScan = 64 << 10
