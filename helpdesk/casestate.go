package helpdesk

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/helpdesk/helpdesk/helpdesk/lifecycle"
)

// caseRow is the cases row as lifecycle reads and writes it.
type caseRow struct {
	ID               int64          `db:"id"`
	Status           string         `db:"status"`
	Severity         string         `db:"severity"`
	Plan             sql.NullString `db:"plan"`
	CreatedAt        time.Time      `db:"created_at"`
	FirstResponseAt  sql.NullTime   `db:"first_response_at"`
	FirstResponseDue sql.NullTime   `db:"first_response_due_at"`
	SLAWarnedAt      sql.NullTime   `db:"sla_warned_at"`
	SLABreachedAt    sql.NullTime   `db:"sla_breached_at"`
	PendingSince     sql.NullTime   `db:"pending_since"`
	RemindersSent    int            `db:"reminders_sent"`
	SolvedAt         sql.NullTime   `db:"solved_at"`
	SolvedReason     string         `db:"solved_reason"`
	ClosedAt         sql.NullTime   `db:"closed_at"`
}

func timeOf(t sql.NullTime) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time
}

func nullTime(t time.Time) sql.NullTime { return sql.NullTime{Time: t, Valid: !t.IsZero()} }

// LoadCaseState reads what the lifecycle rules need of a case, locking the
// row for the rest of the transaction.
func LoadCaseState(ctx context.Context, q Queryer, id int64) (lifecycle.Case, error) {
	var r caseRow
	err := q.GetContext(ctx, &r, `SELECT c.id, c.status, c.severity, o.plan, c.created_at, c.first_response_at, c.first_response_due_at,
			c.sla_warned_at, c.sla_breached_at, c.pending_since, c.reminders_sent, c.solved_at, c.solved_reason, c.closed_at
		FROM cases c LEFT JOIN orgs o ON o.id = c.org_id WHERE c.id = $1 FOR UPDATE OF c`, id)
	if err != nil {
		return lifecycle.Case{}, fmt.Errorf("case %d: %w", id, mapErr(err))
	}
	return lifecycle.Case{
		ID: r.ID, Status: lifecycle.Status(r.Status), Severity: lifecycle.Severity(r.Severity), Plan: r.Plan.String,
		CreatedAt: r.CreatedAt, FirstResponseAt: timeOf(r.FirstResponseAt), FirstResponseDue: timeOf(r.FirstResponseDue),
		SLAWarnedAt: timeOf(r.SLAWarnedAt), SLABreachedAt: timeOf(r.SLABreachedAt), PendingSince: timeOf(r.PendingSince),
		RemindersSent: r.RemindersSent, SolvedAt: timeOf(r.SolvedAt), SolvedReason: r.SolvedReason, ClosedAt: timeOf(r.ClosedAt),
	}, nil
}

// SaveCaseState writes the lifecycle fields of a case back.
func SaveCaseState(ctx context.Context, q Queryer, c lifecycle.Case, now time.Time) error {
	_, err := q.ExecContext(ctx, `UPDATE cases SET status = $2, severity = $3, first_response_at = $4, first_response_due_at = $5,
			sla_warned_at = $6, sla_breached_at = $7, pending_since = $8, reminders_sent = $9, solved_at = $10, solved_reason = $11,
			closed_at = $12, updated_at = $13
		WHERE id = $1`, c.ID, string(c.Status), string(c.Severity), nullTime(c.FirstResponseAt), nullTime(c.FirstResponseDue),
		nullTime(c.SLAWarnedAt), nullTime(c.SLABreachedAt), nullTime(c.PendingSince), c.RemindersSent, nullTime(c.SolvedAt),
		c.SolvedReason, nullTime(c.ClosedAt), now)
	if err != nil {
		return fmt.Errorf("case %d: save state: %w", c.ID, mapErr(err))
	}
	return nil
}
