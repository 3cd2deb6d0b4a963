package helpdesk

import (
	"fmt"
	"time"

	"github.com/helpdesk/helpdesk/templates"
	"github.com/helpdesk/helpdesk/threading"
)

// envelopeSeen verifies the VERP addresses of the message and finds the
// mails they name.
func (d *decider) envelopeSeen() []envelopeSeen {
	addrs, wheres, tokens := envelopeAddresses(d.p.msg, d.cfg.Own)
	var seen []envelopeSeen
	for i, addr := range addrs {
		e := envelopeSeen{Address: addr, Where: wheres[i]}
		if d.cfg.Tokens == nil {
			e.Problem = "no token secret to verify it"
			seen = append(seen, e)
			continue
		}
		id, err := d.cfg.Tokens.VerifyBounce(tokens[i], d.now)
		switch {
		case err != nil:
			e.Problem = err.Error()
		case d.w.sent[id] == nil:
			e.Problem = fmt.Sprintf("outbox row %d does not exist", id)
		default:
			e.Mail = d.w.sent[id]
		}
		seen = append(seen, e)
	}
	return seen
}

// bounce records a delivery report. Only a verified permanent failure
// suppresses the address (and is recorded on the case of the mail that
// bounced); anything else is stored and explained.
func (d *decider) bounce(c *caseView, rule, reason string) {
	b := d.p.class.Bounce
	ev := bounceEvidence{Envelope: d.envelopeSeen(), VERPOnly: d.n != nil && !d.n.cfg.PlainEnvelope, IDs: reportedIDs(b)}
	for _, id := range ev.IDs {
		for _, m := range d.w.sentByMID[id] {
			ev.ByID = append(ev.ByID, *m)
		}
	}
	v := judgeBounce(b, ev)
	if v.Verified && v.Mail.CaseID != nil && c == nil {
		if c = d.w.caseOf(*v.Mail.CaseID); c != nil {
			rule, reason = "bounce-original", "bounced mail <"+v.Mail.MessageID+">"
		}
	}
	reason += "; " + d.p.class.Reason
	switch {
	case !v.Verified:
		d.record(c, DecisionStored, rule, reason+"; unverified bounce: "+v.Why+"; not acted on")
		return
	case b == nil || !b.Permanent:
		d.record(c, DecisionStored, rule, reason+"; verified bounce ("+v.Why+") of a failure that is not permanent; not acted on")
		return
	}
	d.record(c, DecisionStored, rule, reason+"; verified bounce: "+v.Why)
	addr, err := CanonicalAddress(v.Address)
	if err != nil {
		d.because("; the address is unusable, nothing suppressed")
		return
	}
	until := d.now.Add(d.cfg.SuppressFor)
	d.plan.suppressions = append(d.plan.suppressions, plannedSuppression{c: c, msg: d.p,
		s: suppression{Address: addr, Diagnostic: b.Diagnostic, Status: b.Status, Now: d.now, Until: until}})
	d.because("; " + addr + " suppressed until " + until.UTC().Format(time.RFC3339))
}

// toEnvelopeSender handles mail that came to one of our VERP envelope
// senders and is not a bounce: only machines answer the envelope sender
// (vacation responders, autoresponders), so it is an automated reply to our
// own mail. It is stored on the case of that mail, never opens a case and
// is never answered. It reports whether it handled the message.
func (d *decider) toEnvelopeSender(c *caseView, dec threading.Decision) bool {
	if d.p.class.Class == threading.ClassBounce || d.p.class.Class == threading.ClassLoop {
		return false
	}
	seen := d.envelopeSeen()
	if len(seen) == 0 {
		return false
	}
	rule, about := dec.Rule, "a mail of ours"
	for _, e := range seen {
		if e.Mail == nil {
			continue
		}
		about = "our mail <" + e.Mail.MessageID + ">"
		if c == nil && e.Mail.CaseID != nil {
			if c = d.w.caseOf(*e.Mail.CaseID); c != nil {
				rule = "envelope-sender"
			}
		}
		break
	}
	why := fmt.Sprintf("sent to our envelope sender %s (%s): an automated reply to %s; never opens a case or gets an answer",
		seen[0].Address, d.p.class.Reason, about)
	if seen[0].Mail == nil && seen[0].Problem != "" {
		why += " (" + seen[0].Problem + ")"
	}
	if c != nil {
		d.record(c, DecisionStored, rule, why)
	} else {
		d.record(nil, DecisionIgnored, "automated", why)
	}
	d.p.out.access = "not checked: automated reply"
	return true
}

// oversized records a mail over the fetch limit (only its header was read):
// on the case it threads to as an event, and by telling a sender who passes
// answerTooLarge, quoting the real limit.
func (d *decider) oversized(c *caseView, known *User, dec threading.Decision) {
	limit, size := d.cfg.MaxMessageSize, d.p.in.Size
	from := d.p.msg.From.Canonical()
	d.record(c, DecisionOversized, dec.Rule, fmt.Sprintf("%s; %d bytes is over the size limit of %d bytes", dec.Reason, size, limit))
	allowed := false
	if c != nil {
		allowed, d.p.out.access = d.access(known, c)
		sender := from
		if sender == "" {
			sender = "an unknown sender"
		}
		d.event(c, known, NewEvent{Kind: "oversized", From: from, Reason: fmt.Sprintf("a mail of %s from %s was too large (limit %s) and was not added: %q",
			templates.HumanSize(size), sender, templates.HumanSize(limit), truncateText(d.p.msg.Subject, 200))})
	}
	if d.n == nil {
		return
	}
	facts := tooLargeFacts{Class: d.p.class.Class, From: from, KnownUser: known != nil, Policy: d.cfg.UnknownSenders}
	if from != "" {
		facts.KnownDomain = d.w.domains[domainOf(from)] != nil
		told := d.w.senderOf(from).tooLargeAt
		facts.RecentlyTold = !told.IsZero() && told.After(d.now.Add(-d.cfg.RefusalEvery))
	}
	ok, why := answerTooLarge(facts)
	if ok && allowed && known != nil && !IsStaff(known.Role) && known.ID != c.SubmitterID {
		// Only the submitter is mailed about a case, never a participant.
		ok, why = false, known.LoginEmail+" is not the submitter of case #"+fmt.Sprint(c.ID)+" (only the submitter is mailed)"
	}
	if !ok {
		d.because("; sender not told: " + why)
		return
	}
	d.w.senderOf(from).tooLargeAt = d.now
	to := Recipient{Email: from, Name: d.p.msg.From.Name}
	if known != nil {
		to = UserRecipient(known)
	}
	// Only a sender allowed on the case learns its number (and gets a reply
	// token for it).
	nt := &notice{subject: d.p.msg.Subject, to: to, inReplyTo: d.p.msg.MessageID, autoReplied: true,
		data: func(b templates.Base) templates.Data {
			return templates.TooLargeData{Base: b, Size: size, Limit: limit}
		}}
	if allowed {
		nt.c = c
	}
	d.notify(nt)
}
