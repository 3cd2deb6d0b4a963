package helpdesk

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/lib/pq"

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
	NextTimerAt      sql.NullTime   `db:"next_timer_at"`
}

// caseRowColumns selects a caseRow from cases c LEFT JOIN orgs o.
const caseRowColumns = `c.id, c.status, c.severity, o.plan, c.created_at, c.first_response_at, c.first_response_due_at,
	c.sla_warned_at, c.sla_breached_at, c.pending_since, c.reminders_sent, c.solved_at, c.solved_reason, c.closed_at, c.next_timer_at`

func (r caseRow) state() lifecycle.Case {
	return lifecycle.Case{
		ID: r.ID, Status: lifecycle.Status(r.Status), Severity: lifecycle.Severity(r.Severity), Plan: r.Plan.String,
		CreatedAt: r.CreatedAt, FirstResponseAt: timeOf(r.FirstResponseAt), FirstResponseDue: timeOf(r.FirstResponseDue),
		SLAWarnedAt: timeOf(r.SLAWarnedAt), SLABreachedAt: timeOf(r.SLABreachedAt), PendingSince: timeOf(r.PendingSince),
		RemindersSent: r.RemindersSent, SolvedAt: timeOf(r.SolvedAt), SolvedReason: r.SolvedReason, ClosedAt: timeOf(r.ClosedAt),
	}
}

func timeOf(t sql.NullTime) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time
}

func nullTime(t time.Time) sql.NullTime { return sql.NullTime{Time: t, Valid: !t.IsZero()} }

// nextTimerAt is what cases.next_timer_at holds for c under p: when its
// next timer is due (lifecycle.NextDue), NULL when none is scheduled.
func nextTimerAt(c lifecycle.Case, p lifecycle.Policy) sql.NullTime {
	t, ok := lifecycle.NextDue(c, p)
	if !ok {
		return sql.NullTime{}
	}
	return sql.NullTime{Time: t, Valid: true}
}

// sameInstant reports whether a and b are both NULL or the same instant at
// PostgreSQL's microsecond precision.
func sameInstant(a, b sql.NullTime) bool {
	if a.Valid != b.Valid {
		return false
	}
	return !a.Valid || a.Time.Truncate(time.Microsecond).Equal(b.Time.Truncate(time.Microsecond))
}

// LoadCaseState reads what the lifecycle rules need of a case, locking the
// row for the rest of the transaction.
func LoadCaseState(ctx context.Context, q Queryer, id int64) (lifecycle.Case, error) {
	var r caseRow
	err := q.GetContext(ctx, &r, `SELECT `+caseRowColumns+`
		FROM cases c LEFT JOIN orgs o ON o.id = c.org_id WHERE c.id = $1 FOR UPDATE OF c`, id)
	if err != nil {
		return lifecycle.Case{}, fmt.Errorf("case %d: %w", id, mapErr(err))
	}
	return r.state(), nil
}

// SaveCaseState writes the lifecycle fields of a case back, with the time
// its next timer is due under p.
func SaveCaseState(ctx context.Context, q Queryer, c lifecycle.Case, p lifecycle.Policy, now time.Time) error {
	_, err := q.ExecContext(ctx, `UPDATE cases SET status = $2, severity = $3, first_response_at = $4, first_response_due_at = $5,
			sla_warned_at = $6, sla_breached_at = $7, pending_since = $8, reminders_sent = $9, solved_at = $10, solved_reason = $11,
			closed_at = $12, updated_at = $13, next_timer_at = $14
		WHERE id = $1`, c.ID, string(c.Status), string(c.Severity), nullTime(c.FirstResponseAt), nullTime(c.FirstResponseDue),
		nullTime(c.SLAWarnedAt), nullTime(c.SLABreachedAt), nullTime(c.PendingSince), c.RemindersSent, nullTime(c.SolvedAt),
		c.SolvedReason, nullTime(c.ClosedAt), now, nextTimerAt(c, p))
	if err != nil {
		return fmt.Errorf("case %d: save state: %w", c.ID, mapErr(err))
	}
	return nil
}

// timerCursor is the position of a timer pass in next_timer_at, id order.
type timerCursor struct {
	at time.Time // zero: the start
	id int64
}

// dueCaseRows loads and locks up to limit cases whose next timer is due at
// now, in due order after cur. Rows another transaction holds are skipped:
// they are being changed, and get a new next_timer_at with the change.
func dueCaseRows(ctx context.Context, q Queryer, now time.Time, cur timerCursor, limit int) ([]caseRow, error) {
	var rows []caseRow
	err := q.SelectContext(ctx, &rows, `SELECT `+caseRowColumns+`
		FROM cases c LEFT JOIN orgs o ON o.id = c.org_id
		WHERE c.next_timer_at <= $1 AND (c.next_timer_at, c.id) > ($2, $3)
		ORDER BY c.next_timer_at, c.id LIMIT $4 FOR UPDATE OF c SKIP LOCKED`, now, cur.at, cur.id, limit)
	if err != nil {
		return nil, fmt.Errorf("due cases: %w", mapErr(err))
	}
	return rows, nil
}

// openCaseRows loads and locks up to limit cases that are not closed, in id
// order after id.
func openCaseRows(ctx context.Context, q Queryer, after int64, limit int) ([]caseRow, error) {
	var rows []caseRow
	err := q.SelectContext(ctx, &rows, `SELECT `+caseRowColumns+`
		FROM cases c LEFT JOIN orgs o ON o.id = c.org_id
		WHERE c.id > $1 AND c.status <> 'closed' ORDER BY c.id LIMIT $2 FOR UPDATE OF c`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("open cases: %w", mapErr(err))
	}
	return rows, nil
}

// rescheduleRows sets next_timer_at of rows to their next timer under p, in
// one statement, where it differs.
func rescheduleRows(ctx context.Context, q Queryer, rows []caseRow, p lifecycle.Policy) error {
	var ids []int64
	var ats []sql.NullTime
	for _, r := range rows {
		if next := nextTimerAt(r.state(), p); !sameInstant(next, r.NextTimerAt) {
			ids = append(ids, r.ID)
			ats = append(ats, next)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	if _, err := q.ExecContext(ctx, `UPDATE cases c SET next_timer_at = v.at
		FROM unnest($1::bigint[], $2::timestamptz[]) AS v (id, at) WHERE c.id = v.id`, pq.Array(ids), pq.Array(ats)); err != nil {
		return fmt.Errorf("reschedule timers: %w", mapErr(err))
	}
	return nil
}
