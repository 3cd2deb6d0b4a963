package helpdesk

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lib/pq"
)

// Outbox row statuses.
const (
	OutboxQueued     = "queued"
	OutboxSending    = "sending"
	OutboxSent       = "sent"
	OutboxFailed     = "failed"
	OutboxSuppressed = "suppressed" // recorded, never sent: budget, suppression list or our own address
)

// outboxChannel is the LISTEN/NOTIFY channel that wakes dispatchers.
const outboxChannel = "helpdesk_outbox"

// OutMail is a rendered mail to queue. Data is the complete RFC 5322 message,
// whose Message-ID header must be MessageID.
type OutMail struct {
	// ID is the outbox row id reserved with ReserveOutboxID (its envelope
	// sender names it); 0: assigned when the row is inserted.
	ID           int64
	MessageID    string // without angle brackets; chosen before sending, stable across retries
	CaseID       *int64
	Kind         string // what notification this is, e.g. "case_received"
	RecipientID  *int64
	EnvelopeFrom string
	Recipients   []string
	Subject      string
	Data         []byte
	Now          time.Time
	// Staff marks mail to our own team (agents, the duty manager): exempt
	// from the per-recipient budget, which protects outside addresses.
	Staff bool
}

// Budget limits notifications so that a burst of mail never becomes a burst
// of notifications (a mail loop). Zero fields mean no limit.
type Budget struct {
	PerCase      int // per case per Window
	PerRecipient int // per recipient per Window
	// PerStaff limits mail to one of our own addresses (an agent, the agent
	// address, the duty manager) per Window: agent notices of a flood of
	// junk mail stop too.
	PerStaff int
	Window   time.Duration
}

// Enqueued says what happened to a queued mail.
type Enqueued struct {
	ID     int64
	Status string // queued, or suppressed with Reason
	Reason string
}

// EnqueueMail stores a mail in the outbox, inside the caller's transaction,
// and wakes the dispatchers at commit. Recipients on the suppression list, our
// own addresses and mail over budget are recorded as suppressed, not sent.
// The mail's Message-ID is also recorded as an outbound message of the case,
// so replies to it thread.
func EnqueueMail(ctx context.Context, q Queryer, m OutMail, own []string, b Budget) (Enqueued, error) {
	if m.MessageID == "" || strings.ContainsAny(m.MessageID, "<> \r\n") {
		return Enqueued{}, fmt.Errorf("%w: outgoing Message-ID %q", ErrInvalid, m.MessageID)
	}
	if m.EnvelopeFrom == "" || len(m.Data) == 0 {
		return Enqueued{}, fmt.Errorf("%w: outgoing mail needs an envelope sender and data", ErrInvalid)
	}
	var rcpts []string
	for _, r := range m.Recipients {
		a, err := CanonicalAddress(r)
		if err != nil {
			return Enqueued{}, err
		}
		rcpts = append(rcpts, a)
	}
	if len(rcpts) == 0 {
		return Enqueued{}, fmt.Errorf("%w: outgoing mail without recipients", ErrInvalid)
	}

	status, reason, err := outboxVerdict(ctx, q, m, rcpts, own, b)
	if err != nil {
		return Enqueued{}, err
	}
	var id int64
	err = q.GetContext(ctx, &id, `INSERT INTO outbox (id, message_id, case_id, kind, recipient_id, envelope_from, recipients,
			subject, data, status, last_error, created_at, next_attempt_at)
		VALUES (coalesce($12, nextval(pg_get_serial_sequence('outbox', 'id'))), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,
			LEAST($11, now())) RETURNING id`, // due at once, even when queued as of a later time (tick --now)
		m.MessageID, m.CaseID, m.Kind, m.RecipientID, m.EnvelopeFrom, pq.Array(rcpts), m.Subject, m.Data, status, reason, m.Now, nullID(m.ID))
	if err != nil {
		return Enqueued{}, fmt.Errorf("enqueue %s: %w", m.Kind, mapErr(err))
	}
	if _, err := q.ExecContext(ctx, `INSERT INTO messages (message_id, direction, case_id, from_address, subject, decision, rule, reason, created_at)
		VALUES ($1, 'out', $2, $3, $4, '', $5, $6, $7)`,
		m.MessageID, m.CaseID, m.EnvelopeFrom, m.Subject, m.Kind, reason, m.Now); err != nil {
		return Enqueued{}, fmt.Errorf("enqueue %s: record message: %w", m.Kind, mapErr(err))
	}
	if status == OutboxQueued {
		if _, err := q.ExecContext(ctx, `SELECT pg_notify($1, '')`, outboxChannel); err != nil {
			return Enqueued{}, fmt.Errorf("enqueue %s: notify: %w", m.Kind, mapErr(err))
		}
	}
	return Enqueued{ID: id, Status: status, Reason: reason}, nil
}

// outboxVerdict decides whether a mail may be sent at all.
func outboxVerdict(ctx context.Context, q Queryer, m OutMail, rcpts, own []string, b Budget) (status, reason string, err error) {
	for _, r := range rcpts {
		for _, o := range own {
			if strings.EqualFold(r, o) {
				return OutboxSuppressed, "recipient " + r + " is our own address", nil
			}
		}
	}
	var suppressed []string
	if err := q.SelectContext(ctx, &suppressed, `SELECT address FROM suppressions
		WHERE address = ANY($1) AND suppressed_until > $2`, pq.Array(rcpts), m.Now); err != nil {
		return "", "", fmt.Errorf("suppression check: %w", mapErr(err))
	}
	if len(suppressed) > 0 {
		return OutboxSuppressed, "recipient " + strings.Join(suppressed, ", ") + " is suppressed after a permanent bounce", nil
	}
	since := m.Now.Add(-b.Window)
	if b.PerCase > 0 && m.CaseID != nil {
		var n int
		// Counting stops at the budget: the cost stays bounded however busy the case is.
		if err := q.GetContext(ctx, &n, `SELECT count(*) FROM (SELECT 1 FROM outbox
			WHERE case_id = $1 AND created_at > $2 AND status <> 'suppressed' LIMIT $3) x`,
			*m.CaseID, since, b.PerCase); err != nil {
			return "", "", fmt.Errorf("case budget: %w", mapErr(err))
		}
		if n >= b.PerCase {
			return OutboxSuppressed, fmt.Sprintf("case budget: %d mails in %s", n, b.Window), nil
		}
	}
	if b.PerStaff > 0 && m.Staff {
		var n int
		if err := q.GetContext(ctx, &n, `SELECT count(*) FROM (SELECT 1 FROM outbox
			WHERE recipients && $1 AND created_at > $2 AND status <> 'suppressed' LIMIT $3) x`,
			pq.Array(rcpts), since, b.PerStaff); err != nil {
			return "", "", fmt.Errorf("staff budget: %w", mapErr(err))
		}
		if n >= b.PerStaff {
			return OutboxSuppressed, fmt.Sprintf("staff budget: %d mails in %s", n, b.Window), nil
		}
	}
	if b.PerRecipient > 0 && !m.Staff {
		var n int
		if err := q.GetContext(ctx, &n, `SELECT count(*) FROM (SELECT 1 FROM outbox
			WHERE recipients && $1 AND created_at > $2 AND status <> 'suppressed' LIMIT $3) x`,
			pq.Array(rcpts), since, b.PerRecipient); err != nil {
			return "", "", fmt.Errorf("recipient budget: %w", mapErr(err))
		}
		if n >= b.PerRecipient {
			return OutboxSuppressed, fmt.Sprintf("recipient budget: %d mails in %s", n, b.Window), nil
		}
	}
	return OutboxQueued, "", nil
}

// ReserveOutboxID takes the id of an outbox row before the row is written,
// so that the mail's envelope sender can name it (see threading.SignBounce).
func ReserveOutboxID(ctx context.Context, q Queryer) (int64, error) {
	var id int64
	if err := q.GetContext(ctx, &id, `SELECT nextval(pg_get_serial_sequence('outbox', 'id'))`); err != nil {
		return 0, fmt.Errorf("reserve outbox id: %w", mapErr(err))
	}
	return id, nil
}

// Claimed is an outbox row leased to one sender.
type Claimed struct {
	ID           int64          `db:"id"`
	MessageID    string         `db:"message_id"`
	EnvelopeFrom string         `db:"envelope_from"`
	Recipients   pq.StringArray `db:"recipients"`
	Data         []byte         `db:"data"`
	Attempts     int            `db:"attempts"`
}

// ClaimOutbox leases the next due row to owner until now+lease: a queued row
// whose time has come, or a row whose previous lease expired (its sender
// crashed). Concurrent claimers never get the same row. It returns
// ErrNotFound when nothing is due.
func ClaimOutbox(ctx context.Context, q Queryer, owner string, now time.Time, lease time.Duration) (*Claimed, error) {
	c := &Claimed{}
	err := q.GetContext(ctx, c, `UPDATE outbox SET status = 'sending', lease_owner = $1, lease_until = $3, attempts = attempts + 1
		WHERE id = (
			SELECT id FROM outbox
			WHERE (status = 'queued' AND next_attempt_at <= $2) OR (status = 'sending' AND lease_until < $2)
			ORDER BY next_attempt_at, id
			LIMIT 1
			FOR UPDATE SKIP LOCKED)
		RETURNING id, message_id, envelope_from, recipients, data, attempts`, owner, now, now.Add(lease))
	if err != nil {
		return nil, mapErr(err)
	}
	return c, nil
}

// ErrLeaseLost: the row was reclaimed by another sender after our lease expired.
var ErrLeaseLost = errors.New("outbox lease lost")

// MarkSent records a successful send.
func MarkSent(ctx context.Context, q Queryer, id int64, owner string, now time.Time) error {
	if err := finishOutbox(ctx, q, `UPDATE outbox SET status = 'sent', sent_at = $3, lease_owner = NULL, lease_until = NULL, last_error = ''
		WHERE id = $1 AND lease_owner = $2 AND status = 'sending'`, id, owner, now); err != nil {
		return err
	}
	if _, err := q.ExecContext(ctx, `UPDATE messages SET sent_at = $2, decision = 'sent'
		WHERE direction = 'out' AND message_id = (SELECT message_id FROM outbox WHERE id = $1)`, id, now); err != nil {
		return fmt.Errorf("outbox %d: record sent: %w", id, mapErr(err))
	}
	return nil
}

// MarkRetry puts a row back in the queue until next.
func MarkRetry(ctx context.Context, q Queryer, id int64, owner string, next time.Time, cause string) error {
	return finishOutbox(ctx, q, `UPDATE outbox SET status = 'queued', next_attempt_at = $3, lease_owner = NULL, lease_until = NULL, last_error = $4
		WHERE id = $1 AND lease_owner = $2 AND status = 'sending'`, id, owner, next, cause)
}

// MarkFailed gives up on a row, keeping the error.
func MarkFailed(ctx context.Context, q Queryer, id int64, owner string, cause string) error {
	return finishOutbox(ctx, q, `UPDATE outbox SET status = 'failed', lease_owner = NULL, lease_until = NULL, last_error = $3
		WHERE id = $1 AND lease_owner = $2 AND status = 'sending'`, id, owner, cause)
}

func finishOutbox(ctx context.Context, q Queryer, query string, args ...any) error {
	res, err := q.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("outbox %v: %w", args[0], mapErr(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("outbox %v: %w", args[0], ErrLeaseLost)
	}
	return nil
}

// NextOutboxDue is when the next queued row becomes due (zero: none queued).
func NextOutboxDue(ctx context.Context, q Queryer) (time.Time, error) {
	var t *time.Time
	if err := q.GetContext(ctx, &t, `SELECT min(t) FROM (
			SELECT min(next_attempt_at) AS t FROM outbox WHERE status = 'queued'
			UNION ALL SELECT min(lease_until) FROM outbox WHERE status = 'sending') x`); err != nil {
		return time.Time{}, mapErr(err)
	}
	if t == nil {
		return time.Time{}, nil
	}
	return *t, nil
}
