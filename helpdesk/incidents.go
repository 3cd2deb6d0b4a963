package helpdesk

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/helpdesk/helpdesk/mail/compose"
	"github.com/helpdesk/helpdesk/templates"
	"github.com/helpdesk/helpdesk/threading"
)

// Incident is one intake alarm (see helpdeskd's alarms): a mailbox that
// could not be polled, or an outbox whose oldest due mail waited, for longer
// than the threshold. At most one incident per key is open at a time, over
// every daemon sharing the database.
type Incident struct {
	ID         int64      `db:"id"`
	Key        string     `db:"key"` // e.g. "mailbox support/INBOX", "outbox"
	Problem    string     `db:"problem"`
	StartedAt  time.Time  `db:"started_at"` // when the failure began
	OpenedAt   time.Time  `db:"opened_at"`  // when the alarm was raised
	ResolvedAt *time.Time `db:"resolved_at"`
}

// OpenIncident raises the alarm key unless it is already open. The daemon
// whose insert wins runs notify in the same transaction (to queue or send
// the operator's mail) and gets true; an error from notify rolls the
// incident back, so that the next check tries again. Every other daemon
// gets false and mails nobody.
func (s *Store) OpenIncident(ctx context.Context, key, problem string, started, now time.Time,
	notify func(ctx context.Context, q Queryer, inc Incident) error) (bool, error) {
	opened := false
	err := s.WithTx(ctx, func(tx *sqlx.Tx) error {
		inc := Incident{Key: key, Problem: truncateText(problem, 2000), StartedAt: started, OpenedAt: now}
		err := tx.GetContext(ctx, &inc.ID, `INSERT INTO incidents (key, problem, started_at, opened_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (key) WHERE resolved_at IS NULL DO NOTHING RETURNING id`, inc.Key, inc.Problem, inc.StartedAt, inc.OpenedAt)
		if errors.Is(mapErr(err), ErrNotFound) {
			return nil // open already
		}
		if err != nil {
			return fmt.Errorf("open incident %s: %w", key, mapErr(err))
		}
		if notify != nil {
			if err := notify(ctx, tx, inc); err != nil {
				return err
			}
		}
		opened = true
		return nil
	})
	return opened && err == nil, err
}

// ResolveIncident closes the open incident of key, if any: the daemon whose
// update wins runs notify in the same transaction and gets the incident; the
// others (and a key without an open incident) get nil.
func (s *Store) ResolveIncident(ctx context.Context, key string, now time.Time,
	notify func(ctx context.Context, q Queryer, inc Incident) error) (*Incident, error) {
	var resolved *Incident
	err := s.WithTx(ctx, func(tx *sqlx.Tx) error {
		var inc Incident
		err := tx.GetContext(ctx, &inc, `UPDATE incidents SET resolved_at = greatest($2, opened_at)
			WHERE key = $1 AND resolved_at IS NULL
			RETURNING id, key, problem, started_at, opened_at, resolved_at`, key, now)
		if errors.Is(mapErr(err), ErrNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("resolve incident %s: %w", key, mapErr(err))
		}
		if notify != nil {
			if err := notify(ctx, tx, inc); err != nil {
				return err
			}
		}
		resolved = &inc
		return nil
	})
	if err != nil {
		return nil, err
	}
	return resolved, nil
}

// OldestDueAge is how long the oldest due, unsent mail of the outbox has
// waited (0: none is due), and how many are due.
func OldestDueAge(ctx context.Context, q Queryer, now time.Time) (time.Duration, int, error) {
	var row struct {
		Oldest *time.Time `db:"oldest"`
		N      int        `db:"n"`
	}
	if err := q.GetContext(ctx, &row, `SELECT min(next_attempt_at) AS oldest, count(*) AS n FROM outbox
		WHERE status IN ('queued', 'sending') AND next_attempt_at <= $1`, now); err != nil {
		return 0, 0, fmt.Errorf("outbox age: %w", mapErr(err))
	}
	if row.Oldest == nil {
		return 0, 0, nil
	}
	return max(now.Sub(*row.Oldest), 0), row.N, nil
}

// Notifier returns the ingester's notifier (nil when it sends none).
func (g *Ingester) Notifier() *Notifier { return g.cfg.Notifier }

// NotifyOperator queues an intake alarm for the operator at to, in q's
// transaction, through the outbox.
func (n *Notifier) NotifyOperator(ctx context.Context, q Queryer, to string, d templates.IntakeAlarmData, now time.Time) error {
	d.Base = n.Base(0, "", "")
	_, err := n.Notify(ctx, q, Notice{Data: d, To: Recipient{Email: to, Staff: true}, Now: now, Reason: string(d.Kind())})
	return err
}

// DirectMail renders an intake alarm for the operator at to as a complete
// mail to hand to an SMTP sender directly, bypassing the outbox (for when
// the outbox is what is stuck). The envelope sender is the support address.
func (n *Notifier) DirectMail(to string, d templates.IntakeAlarmData, now time.Time) (from string, data []byte, err error) {
	d.Base = n.Base(0, "", "")
	r, err := n.cfg.Templates.Render(n.cfg.DefaultLocale, d)
	if err != nil {
		return "", nil, fmt.Errorf("render %s: %w", d.Kind(), err)
	}
	m := compose.Message{
		From:      compose.Address{Name: n.cfg.Name, Address: n.cfg.SupportAddress},
		To:        []compose.Address{{Address: to}},
		Subject:   r.Subject,
		MessageID: threading.NewOwnMessageID(n.cfg.MessageIDDomain, ""),
		Date:      now,
		Headers: [][2]string{
			{"Auto-Submitted", "auto-generated"},
			{"X-Auto-Response-Suppress", "All"},
			{threading.LoopHeader, n.cfg.LoopID},
			{"X-Helpdesk-Reason", string(d.Kind())},
			{"Precedence", "bulk"},
		},
		Text: r.Text,
		HTML: r.HTML,
	}
	data, err = m.Bytes()
	if err != nil {
		return "", nil, fmt.Errorf("compose %s: %w", d.Kind(), err)
	}
	return n.cfg.SupportAddress, data, nil
}
