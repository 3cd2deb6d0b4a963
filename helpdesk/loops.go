package helpdesk

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lib/pq"

	"github.com/helpdesk/helpdesk/templates"
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

// throttled holds back a new case from a sender over the limit. It reports
// whether it did.
func (d *delivery) throttled() (bool, error) {
	from := d.msg.From.Canonical()
	limit := d.g.cfg.SenderCaseLimit
	if from == "" || limit <= 0 {
		return false, nil
	}
	since := d.now.Add(-throttleWindow)
	var recent []struct {
		CaseID    *int64    `db:"case_id"`
		Decision  string    `db:"decision"`
		CreatedAt time.Time `db:"created_at"`
	}
	if err := d.tx.SelectContext(d.ctx, &recent, `SELECT case_id, decision, created_at FROM messages
		WHERE direction = 'in' AND from_address = $1 AND created_at > $2 AND id <> $3
			AND decision IN ('new_case', 'follow_up', 'throttled')
		ORDER BY created_at, id`, from, since, d.msgRowID); err != nil {
		return false, fmt.Errorf("sender limit: %w", mapErr(err))
	}
	var cases []int64
	var held int
	var oldest time.Time
	for _, r := range recent {
		if r.Decision == DecisionThrottled {
			held++
			continue
		}
		if oldest.IsZero() {
			oldest = r.CreatedAt
		}
		if r.CaseID != nil {
			cases = append(cases, *r.CaseID)
		}
	}
	throttle, digest := senderThrottle(len(cases), held, limit)
	if !throttle {
		return false, nil
	}
	until := oldest.Add(throttleWindow)
	d.decide(0, DecisionThrottled, "sender-limit", fmt.Sprintf("%s opened %d cases within %s (limit %d): stored without a case or an answer until %s",
		from, len(cases), throttleWindow, limit, until.UTC().Format(time.RFC3339)))
	d.access = "not checked: over the new-case limit"
	n := d.g.cfg.Notifier
	if !digest {
		d.reason += "; agents were told at the first held-back mail"
		return true, nil
	}
	to := n.staffAddress()
	if to == "" {
		return true, nil
	}
	if _, err := n.Notify(d.ctx, d.tx, Notice{
		Data: templates.SenderThrottledData{Base: n.Base(0, d.msg.Subject, ""), Sender: templates.Person{Name: d.msg.From.Name, Email: from},
			Cases: cases, Limit: limit, Until: until, MessageSubject: d.msg.Subject, MessageID: "<" + d.msg.MessageID + ">"},
		To: Recipient{Email: to, Staff: true}, InReplyTo: d.msg.MessageID, Now: d.now,
	}); err != nil {
		return false, err
	}
	d.reason += "; agents told in one digest"
	return true, nil
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

// answersOurMail reports whether a new mail is an answer to an automated
// mail we sent its sender within LoopWindow (and so must not be
// acknowledged), with the reason.
func (d *delivery) answersOurMail() (string, bool, error) {
	from := d.msg.From.Canonical()
	if from == "" || d.g.cfg.LoopWindow <= 0 {
		return "", false, nil
	}
	var ours []ourMail
	if err := d.tx.SelectContext(d.ctx, &ours, `SELECT message_id, subject, case_id FROM outbox
		WHERE recipients && $1 AND created_at > $2 AND status <> 'suppressed' AND kind <> 'comment_added'
		ORDER BY id DESC LIMIT 20`, pq.Array([]string{from}), d.now.Add(-d.g.cfg.LoopWindow)); err != nil {
		return "", false, fmt.Errorf("recent mail to %s: %w", from, mapErr(err))
	}
	text := d.msg.Text
	if len(text) > maxQuoteScan {
		text = text[:maxQuoteScan]
	}
	how, ok := quotesOurMail(d.msg.Subject, text, ours)
	if !ok {
		return "", false, nil
	}
	return fmt.Sprintf("%s got an automated mail from us within %s and this mail %s", from, d.g.cfg.LoopWindow, how), true, nil
}
