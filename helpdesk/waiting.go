package helpdesk

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"time"

	"github.com/helpdesk/helpdesk/mail"
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

// ResolveWaiting decides again every waiting mail whose parent has arrived
// since, or whose wait is over as of now: it threads to the parent's case or
// opens its own. It returns how many it decided. A mail that cannot be
// decided is recorded as failed (with the reason; `reprocess` can run it
// again) so that it never holds the others; only a temporary failure (the
// database went away) ends the pass.
func (g *Ingester) ResolveWaiting(ctx context.Context, now time.Time) (int, error) {
	var ids []string
	// One index probe per referenced id: the parent by Message-ID, or by
	// the alias of a malformed one.
	err := g.store.db.SelectContext(ctx, &ids, `SELECT m.message_id FROM messages m
		WHERE m.decision = 'waiting' AND m.direction = 'in'
		  AND (m.received_at <= $1 OR EXISTS (
		      SELECT 1 FROM unnest(m.refs || string_to_array(nullif(m.in_reply_to, ''), ' ')) AS r(id)
		      WHERE EXISTS (SELECT 1 FROM messages p WHERE p.message_id = r.id AND p.case_id IS NOT NULL)
		         OR EXISTS (SELECT 1 FROM messages p WHERE p.thread_alias = r.id AND p.thread_alias <> '' AND p.case_id IS NOT NULL)))
		ORDER BY m.id LIMIT 500`, now.Add(-g.cfg.ParentWait))
	if err != nil {
		return 0, fmt.Errorf("waiting mail: %w", mapErr(err))
	}
	n := 0
	for _, id := range ids {
		res, err := g.decideWaiting(ctx, id)
		switch {
		case errors.Is(err, errNotWaiting):
			continue // another daemon decided it meanwhile
		case err != nil && Temporary(err):
			return n, fmt.Errorf("deciding waiting mail <%s>: %w", id, err)
		case err != nil:
			if ferr := g.failWaiting(ctx, id, err); ferr != nil {
				return n, ferr
			}
			g.log.Error("waiting mail cannot be decided; recorded as failed", "message_id", id, "err", err)
		default:
			g.log.Info("waiting mail decided", "message_id", id, "decision", res.Decision, "case", res.CaseID, "rule", res.Rule)
		}
		n++
	}
	return n, nil
}

// decideWaiting runs a waiting mail again for good; a panic is an error
// about that mail.
func (g *Ingester) decideWaiting(ctx context.Context, id string) (res Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			g.log.Error("deciding a waiting mail panicked", "message_id", id, "panic", p, "stack", string(debug.Stack()))
			err = fmt.Errorf("%w: panic: %v", ErrPermanent, p)
		}
	}()
	return g.reprocess(ctx, id, true)
}

// failWaiting records a waiting mail that cannot be decided.
func (g *Ingester) failWaiting(ctx context.Context, id string, cause error) error {
	_, err := g.store.db.ExecContext(ctx, `UPDATE messages SET decision = 'failed', reason = $2
		WHERE message_id = $1 AND direction = 'in' AND decision = 'waiting'`,
		id, truncateText("waited for its parent, then could not be decided: "+cause.Error(), 2000))
	if err != nil {
		return fmt.Errorf("record waiting mail <%s> as failed: %w", id, mapErr(err))
	}
	return nil
}

var errNotWaiting = errors.New("not waiting")
