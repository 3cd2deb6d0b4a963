package helpdesk

import (
	"context"
	"fmt"
	"time"
)

// Stats is what an operator watches: backlog, failures and volume.
type Stats struct {
	CasesByStatus     map[string]int
	OutboxByStatus    map[string]int
	OldestQueuedAge   time.Duration // how long the oldest due, unsent mail has waited
	InboundByDecision map[string]int
	Suppressed        int // addresses currently suppressed
	OutboxDue         int // unsent mail due now: queued or being sent, next attempt not in the future
	SLAWarned         int // cases whose assignee was ever warned of the first-response target
	SLABreached       int // cases that ever breached the first-response target
}

// ReadStats gathers Stats in a few aggregate queries.
func ReadStats(ctx context.Context, q Queryer, now time.Time) (*Stats, error) {
	st := &Stats{CasesByStatus: map[string]int{}, OutboxByStatus: map[string]int{}, InboundByDecision: map[string]int{}}
	type kv struct {
		K string `db:"k"`
		N int    `db:"n"`
	}
	for _, g := range []struct {
		query string
		into  map[string]int
	}{
		{`SELECT status AS k, count(*) AS n FROM cases GROUP BY status`, st.CasesByStatus},
		{`SELECT status AS k, count(*) AS n FROM outbox GROUP BY status`, st.OutboxByStatus},
		{`SELECT decision AS k, count(*) AS n FROM messages WHERE direction = 'in' GROUP BY decision`, st.InboundByDecision},
	} {
		var rows []kv
		if err := q.SelectContext(ctx, &rows, g.query); err != nil {
			return nil, fmt.Errorf("stats: %w", mapErr(err))
		}
		for _, r := range rows {
			g.into[r.K] = r.N
		}
	}
	var oldest *time.Time
	if err := q.GetContext(ctx, &oldest, `SELECT min(next_attempt_at) FROM outbox WHERE status IN ('queued', 'sending') AND next_attempt_at <= $1`, now); err != nil {
		return nil, fmt.Errorf("stats: %w", mapErr(err))
	}
	if oldest != nil {
		st.OldestQueuedAge = now.Sub(*oldest)
	}
	if err := q.GetContext(ctx, &st.OutboxDue, `SELECT count(*) FROM outbox WHERE status IN ('queued', 'sending') AND next_attempt_at <= $1`, now); err != nil {
		return nil, fmt.Errorf("stats: %w", mapErr(err))
	}
	if err := q.QueryRowxContext(ctx, `SELECT count(sla_warned_at), count(sla_breached_at) FROM cases`).Scan(&st.SLAWarned, &st.SLABreached); err != nil {
		return nil, fmt.Errorf("stats: %w", mapErr(err))
	}
	if err := q.GetContext(ctx, &st.Suppressed, `SELECT count(*) FROM suppressions WHERE suppressed_until > $1`, now); err != nil {
		return nil, fmt.Errorf("stats: %w", mapErr(err))
	}
	return st, nil
}
