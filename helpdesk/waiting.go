package helpdesk

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/helpdesk/helpdesk/mail"
	"github.com/helpdesk/helpdesk/threading"
)

// DecisionWaiting: a reply whose parent has not arrived yet. Mail does not
// always arrive in the order it was written (a slow relay, a retry queue): a
// reply seen before the mail it answers would otherwise open a second case.
// It waits up to ParentWait and is then decided again (ResolveWaiting).
const DecisionWaiting = "waiting"

// awaitedParent returns the first message id the mail answers that may still
// arrive: not one of ours (ours are known the moment we send them) and not
// made up by the parser.
func awaitedParent(msg *mail.Message, ownDomain string) (string, bool) {
	for _, ids := range [][]string{msg.InReplyTo, msg.References} {
		for _, id := range ids {
			domain := strings.ToLower(id[strings.LastIndexByte(id, '@')+1:])
			if domain != strings.ToLower(ownDomain) && domain != mail.SyntheticIDDomain {
				return id, true
			}
		}
	}
	return "", false
}

// waitForParent parks a mail that would open a case although it answers a
// mail we have not seen, unless this is its second look.
func (d *delivery) waitForParent(dec threading.Decision) bool {
	if d.g.cfg.ParentWait <= 0 || d.in.final || dec.Rule != threading.RuleNew {
		return false
	}
	id, ok := awaitedParent(d.msg, d.g.cfg.MessageIDDomain)
	if !ok {
		return false
	}
	d.decide(0, DecisionWaiting, "waiting", fmt.Sprintf("a reply to <%s>, which has not arrived; waiting up to %s for it before opening a case",
		id, d.g.cfg.ParentWait))
	return true
}

// ResolveWaiting decides again every waiting mail whose parent has arrived
// since, or whose wait is over as of now: it threads to the parent's case or
// opens its own. It returns how many it decided.
func (g *Ingester) ResolveWaiting(ctx context.Context, now time.Time) (int, error) {
	var ids []string
	err := g.store.db.SelectContext(ctx, &ids, `SELECT m.message_id FROM messages m
		WHERE m.decision = 'waiting' AND m.direction = 'in'
		  AND (m.received_at <= $1 OR EXISTS (SELECT 1 FROM messages p WHERE p.case_id IS NOT NULL
		       AND (p.message_id = ANY (m.refs || string_to_array(nullif(m.in_reply_to, ''), ' '))
		            OR p.thread_alias = ANY (m.refs || string_to_array(nullif(m.in_reply_to, ''), ' ')))))
		ORDER BY m.id LIMIT 500`, now.Add(-g.cfg.ParentWait))
	if err != nil {
		return 0, fmt.Errorf("waiting mail: %w", mapErr(err))
	}
	n := 0
	for _, id := range ids {
		res, err := g.reprocess(ctx, id, true)
		switch {
		case errors.Is(err, errNotWaiting):
			continue // another daemon decided it meanwhile
		case err != nil:
			return n, fmt.Errorf("deciding waiting mail <%s>: %w", id, err)
		}
		n++
		g.log.Info("waiting mail decided", "message_id", id, "decision", res.Decision, "case", res.CaseID, "rule", res.Rule)
	}
	return n, nil
}

var errNotWaiting = errors.New("not waiting")
