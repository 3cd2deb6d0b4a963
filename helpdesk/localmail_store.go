package helpdesk

import (
	"context"
	"fmt"
)

// caseSubject returns a case's subject, for mail written into it with the CLI.
func caseSubject(ctx context.Context, q Queryer, caseID int64) (string, error) {
	var subject string
	if err := q.GetContext(ctx, &subject, `SELECT subject FROM cases WHERE id = $1`, caseID); err != nil {
		return "", fmt.Errorf("case %d: %w", caseID, mapErr(err))
	}
	return subject, nil
}

// markOpenedFor records on a case's "created" event who opened it on the
// customer's behalf (actor nil: the system, the customer stays the actor).
func markOpenedFor(ctx context.Context, q Queryer, caseID int64, actor *int64, reason string) error {
	res, err := q.ExecContext(ctx, `UPDATE case_events SET actor_id = coalesce($2, actor_id), reason = $3
		WHERE case_id = $1 AND kind = 'created'`, caseID, actor, reason)
	if err != nil {
		return fmt.Errorf("case %d: record who opened it: %w", caseID, mapErr(err))
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("case %d: record who opened it: %d created events (%v)", caseID, n, err)
	}
	return nil
}
