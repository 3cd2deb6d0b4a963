package helpdesk

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/helpdesk/helpdesk/mail"
	"github.com/helpdesk/helpdesk/mail/sender"
	"github.com/helpdesk/helpdesk/threading"
)

// A bounce is believed only when it proves it concerns a mail we sent to the
// address it names: it came to the signed envelope sender (VERP) of that
// mail, or it names that mail's Message-ID (Original-Envelope-Id,
// X-Original-Message-ID, or the Message-ID of the returned headers). Anyone
// can write a delivery report naming any address; without that proof a
// report is stored and explained (`helpdeskd why`), never acted on.

// sentMail is an outbox row a bounce may be about.
type sentMail struct {
	ID         int64          `db:"id"`
	MessageID  string         `db:"message_id"`
	CaseID     *int64         `db:"case_id"`
	Recipients pq.StringArray `db:"recipients"`
	Status     string         `db:"status"`
	Attempts   int            `db:"attempts"`
}

// wasSent: only mail that left can bounce. A row not marked sent may have
// left too (a send whose result was lost is retried), unless it was never
// tried or was held back.
func (m *sentMail) wasSent() bool {
	return m.Status == OutboxSent || (m.Status != OutboxSuppressed && m.Attempts > 0)
}

func (m *sentMail) sentTo(addr string) bool {
	for _, r := range m.Recipients {
		if strings.EqualFold(r, addr) {
			return true
		}
	}
	return false
}

// envelopeSeen is one of our VERP addresses among a message's recipients.
type envelopeSeen struct {
	Address string
	Where   string    // to, cc, delivered-to, x-original-to
	Mail    *sentMail // the mail its valid token names; nil when invalid or unknown
	Problem string    // why it names no mail
}

// bounceEvidence is what the database says about a delivery report.
type bounceEvidence struct {
	Envelope []envelopeSeen
	IDs      []string   // the Message-IDs the report names
	ByID     []sentMail // our outbox rows with one of those Message-IDs
	// VERPOnly: our mail goes out with VERP envelope senders, so a real
	// bounce comes to one. A named Message-ID is then no proof: every
	// Message-ID of a case is in the References of mail to everyone on it,
	// so a customer could name the agent notice's and silence the agents.
	VERPOnly bool
}

// bounceVerdict says whether a report is proven to concern a mail we sent.
type bounceVerdict struct {
	Verified bool
	Address  string    // the recipient whose failure is proven
	Mail     *sentMail // the mail that bounced, when verified
	Why      string
}

// judgeBounce decides whether bounce b is proven by the evidence: a valid
// VERP token naming a mail sent to the address the report names (or, when
// the report names none, a mail with a single recipient), else a Message-ID
// named in the report of a mail sent to that address.
func judgeBounce(b *threading.Bounce, ev bounceEvidence) bounceVerdict {
	rcpt := ""
	if b != nil {
		rcpt = strings.ToLower(b.Recipient)
	}
	var problems []string
	for _, e := range ev.Envelope {
		m := e.Mail
		switch {
		case m == nil:
			problems = append(problems, fmt.Sprintf("%s %s names no mail of ours (%s)", e.Where, e.Address, e.Problem))
		case !m.wasSent():
			problems = append(problems, fmt.Sprintf("%s %s names our mail <%s>, which was never sent (%s)", e.Where, e.Address, m.MessageID, m.Status))
		case rcpt != "" && m.sentTo(rcpt):
			return bounceVerdict{Verified: true, Address: rcpt, Mail: m,
				Why: fmt.Sprintf("it came to the envelope sender of our mail <%s> to %s", m.MessageID, rcpt)}
		case rcpt == "" && len(m.Recipients) == 1:
			return bounceVerdict{Verified: true, Address: m.Recipients[0], Mail: m,
				Why: fmt.Sprintf("it came to the envelope sender of our mail <%s>, which went only to %s", m.MessageID, m.Recipients[0])}
		default:
			problems = append(problems, fmt.Sprintf("it came to the envelope sender of our mail <%s>, but names %s, not %s",
				m.MessageID, orNone(rcpt), strings.Join(m.Recipients, ", ")))
		}
	}
	if rcpt != "" && ev.VERPOnly {
		for i := range ev.ByID {
			if m := &ev.ByID[i]; m.wasSent() && m.sentTo(rcpt) {
				problems = append(problems, fmt.Sprintf("it names our mail <%s> to %s, but did not come to that mail's envelope sender", m.MessageID, rcpt))
				return bounceVerdict{Why: strings.Join(problems, "; ")}
			}
		}
	}
	if rcpt != "" && !ev.VERPOnly {
		for i := range ev.ByID {
			if m := &ev.ByID[i]; m.wasSent() && m.sentTo(rcpt) {
				return bounceVerdict{Verified: true, Address: rcpt, Mail: m,
					Why: fmt.Sprintf("it names our mail <%s>, sent to %s", m.MessageID, rcpt)}
			}
		}
	}
	switch {
	case rcpt == "":
		problems = append(problems, "the report names no failed recipient")
	case len(ev.ByID) > 0:
		problems = append(problems, fmt.Sprintf("no mail of ours it names went to %s", rcpt))
	case len(ev.Envelope) == 0:
		problems = append(problems, fmt.Sprintf("it did not come to our envelope sender and names no mail we sent to %s", rcpt))
	}
	return bounceVerdict{Why: strings.Join(problems, "; ")}
}

func orNone(s string) string {
	if s == "" {
		return "no recipient"
	}
	return s
}

// reportedIDs are the Message-IDs a report names for the mail that bounced.
func reportedIDs(b *threading.Bounce) []string {
	if b == nil {
		return nil
	}
	var ids []string
	for _, id := range []string{b.OriginalMessageID, b.XOriginalMessageID, b.EnvelopeID} {
		if id = strings.Trim(strings.TrimSpace(id), "<>"); id != "" && !containsString(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// envelopeAddresses returns our VERP addresses among the message's
// recipients (To, Cc, Delivered-To, X-Original-To) with their tokens.
func envelopeAddresses(m *mail.Message, own []string) (addrs, wheres, tokens []string) {
	for _, list := range []struct {
		where string
		addrs []mail.Address
	}{{"to", m.To}, {"cc", m.Cc}, {"delivered-to", m.DeliveredTo}, {"x-original-to", m.XOriginalTo}} {
		for _, a := range list.addrs {
			addr := a.Canonical()
			if tok, ok := threading.TokenFromAddress(addr, own); ok && threading.IsBounceToken(tok) && !containsString(addrs, addr) {
				addrs, wheres, tokens = append(addrs, addr), append(wheres, list.where), append(tokens, tok)
			}
		}
	}
	return addrs, wheres, tokens
}

// suppression is an address to stop mailing after a proven permanent failure.
type suppression struct {
	Address      string // canonical
	Diagnostic   string // the remote server's words
	Status       string // e.g. 5.1.1
	CaseID       int64  // the case of the mail that failed (0: none)
	MessageRowID *int64 // the inbound report, if any
	Now, Until   time.Time
}

// suppress records s, and on its case an event saying so.
func suppress(ctx context.Context, q Queryer, s suppression) error {
	if _, err := q.ExecContext(ctx, `INSERT INTO suppressions (address, reason, status_code, case_id, message_id, created_at, suppressed_until)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (address) DO UPDATE SET reason = $2, status_code = $3, case_id = coalesce($4, suppressions.case_id),
			message_id = $5, suppressed_until = greatest(suppressions.suppressed_until, $7)`,
		s.Address, truncateText(s.Diagnostic, 1000), s.Status, nullID(s.CaseID), s.MessageRowID, s.Now, s.Until); err != nil {
		return fmt.Errorf("suppress %s: %w", s.Address, mapErr(err))
	}
	if s.CaseID <= 0 {
		return nil
	}
	return AddEvent(ctx, q, NewEvent{CaseID: s.CaseID, Kind: "suppressed", To: s.Address,
		Reason: strings.TrimSpace(s.Status + " " + truncateText(s.Diagnostic, 1000)), MessageID: s.MessageRowID, Now: s.Now})
}

// rejection is a recipient the relay refused permanently at RCPT.
type rejection struct {
	Address, Status, Reply string
}

// permanentRejections lists the recipients a send error says were refused
// permanently at RCPT: a synchronous 5xx is as good as a verified bounce.
func permanentRejections(err error) []rejection {
	var re *sender.RecipientError
	if !errors.As(err, &re) {
		return nil
	}
	var out []rejection
	for _, r := range re.Rejected {
		if r.Err == nil || r.Err.Temporary || r.Err.Code/100 != 5 {
			continue
		}
		status := r.Err.Enhanced
		if status == "" {
			status = fmt.Sprintf("%d.0.0", r.Err.Code/100)
		}
		out = append(out, rejection{Address: strings.ToLower(r.Recipient), Status: status, Reply: r.Err.Error()})
	}
	return out
}

// markRejected fails an outbox row whose recipients were refused at RCPT
// and suppresses them, in one transaction.
func markRejected(ctx context.Context, s *Store, c *Claimed, owner, cause string, rejected []rejection, now time.Time, suppressFor time.Duration) error {
	return s.WithTx(ctx, func(tx *sqlx.Tx) error {
		if err := MarkFailed(ctx, tx, c.ID, owner, cause); err != nil {
			return err
		}
		var caseID *int64
		if err := tx.GetContext(ctx, &caseID, `SELECT case_id FROM outbox WHERE id = $1`, c.ID); err != nil {
			return fmt.Errorf("outbox %d: %w", c.ID, mapErr(err))
		}
		for _, r := range rejected {
			addr, err := CanonicalAddress(r.Address)
			if err != nil {
				continue
			}
			var cid int64
			if caseID != nil {
				cid = *caseID
			}
			if err := suppress(ctx, tx, suppression{Address: addr, Diagnostic: r.Reply, Status: r.Status, CaseID: cid,
				Now: now, Until: now.Add(suppressFor)}); err != nil {
				return err
			}
		}
		return nil
	})
}
