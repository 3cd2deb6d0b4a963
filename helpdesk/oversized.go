package helpdesk

import (
	"errors"
	"fmt"

	"github.com/lib/pq"

	"github.com/helpdesk/helpdesk/templates"
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

// oversized records a mail over the fetch limit (only its header was read):
// on the case it threads to as an event, and by telling a sender who passes
// answerTooLarge, quoting the real limit.
func (d *delivery) oversized(caseID int64, known *User, dec threading.Decision) error {
	limit := d.g.cfg.MaxMessageSize
	from := d.msg.From.Canonical()
	d.decide(caseID, DecisionOversized, dec.Rule, fmt.Sprintf("%s; %d bytes is over the size limit of %d bytes", dec.Reason, d.in.Size, limit))
	allowed := false
	if caseID > 0 {
		c, err := GetCase(d.ctx, d.tx, caseID)
		if err != nil {
			return err
		}
		if allowed, d.access, err = Access(d.ctx, d.tx, known, c, d.g.cfg.Access); err != nil {
			return err
		}
		var actor *int64
		if known != nil {
			actor = &known.ID
		}
		sender := from
		if sender == "" {
			sender = "an unknown sender"
		}
		if err := AddEvent(d.ctx, d.tx, NewEvent{CaseID: caseID, ActorID: actor, Kind: "oversized", From: from, MessageID: &d.msgRowID, Now: d.now,
			Reason: fmt.Sprintf("a mail of %s from %s was too large (limit %s) and was not added: %q",
				templates.HumanSize(d.in.Size), sender, templates.HumanSize(limit), truncateText(d.msg.Subject, 200))}); err != nil {
			return err
		}
	}
	n := d.g.cfg.Notifier
	if n == nil {
		return nil
	}
	facts := tooLargeFacts{Class: d.class.Class, From: from, KnownUser: known != nil, Policy: d.g.cfg.UnknownSenders}
	if from != "" {
		if known == nil && d.g.cfg.UnknownSenders == "domain" {
			_, err := OrgByDomain(d.ctx, d.tx, domainOf(from))
			if err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
			facts.KnownDomain = err == nil
		}
		if err := d.tx.GetContext(d.ctx, &facts.RecentlyTold, `SELECT EXISTS (SELECT 1 FROM outbox WHERE kind = 'too_large' AND recipients && $1 AND created_at > $2)`,
			pq.Array([]string{from}), d.now.Add(-d.g.cfg.RefusalEvery)); err != nil {
			return fmt.Errorf("too large: %w", mapErr(err))
		}
	}
	ok, why := answerTooLarge(facts)
	if !ok {
		d.reason += "; sender not told: " + why
		return nil
	}
	to := Recipient{Email: from, Name: d.msg.From.Name}
	if known != nil {
		to = UserRecipient(known)
	}
	// Only a sender allowed on the case learns its number (and gets a reply
	// token for it).
	answerCase := int64(0)
	if allowed {
		answerCase = caseID
	}
	_, err := n.Notify(d.ctx, d.tx, Notice{
		Data: templates.TooLargeData{Base: n.Base(answerCase, d.msg.Subject, to.Name), Size: d.in.Size, Limit: limit},
		To:   to, CaseID: answerCase, InReplyTo: d.msg.MessageID, AutoReplied: true, Now: d.now,
	})
	return err
}
