package main

import (
	"fmt"
	"time"
)

// growSQL adds $1 open cases, each with the inbound message that opened
// it, its first comment and its created event, from $2 generated
// customers, in one statement. They await a first response due in 13 days
// and were opened in the last week: inside a timer pass's view, yet short of
// any SLA warning (at 75% of the time), so no pass sends anything. Subjects and bodies mix English and Korean
// so that a search finds about one case in twelve. It writes only columns
// of the first migration: later migrations must give new columns defaults.
// The customers' ids are consecutive (one statement on a fresh sequence).
const growSQL = `
WITH u AS (
	INSERT INTO users (login_email, name, role)
	SELECT 'gen' || g || '@gen.bench.test', 'Generated Customer ' || g, 'customer' FROM generate_series(1, $2::int) g
	RETURNING id, login_email
), topics AS (
	SELECT ARRAY['Printer offline after the update', 'Cannot log in to the portal', 'Invoice shows the wrong amount',
		'VPN drops every ten minutes', 'Add two seats to our plan', 'Backup job failed overnight',
		'Slow API responses since Monday', 'Password reset mail never arrives', '프린터가 연결되지 않습니다',
		'청구서 금액 오류 문의', 'VPN 접속이 자주 끊깁니다', '비밀번호 재설정 메일이 오지 않아요'] AS t
), c AS (
	INSERT INTO cases (subject, status, submitter_id, created_at, updated_at, last_activity_at, first_response_due_at)
	SELECT (SELECT t FROM topics)[1 + g % 12] || ' (' || g || ')', 'open', (SELECT min(id) FROM u) + g % $2::int,
		now() - (g % 10000) * interval '1 minute', now() - (g % 10000) * interval '1 minute',
		now() - (g % 10000) * interval '1 minute', now() + interval '13 days'
	FROM generate_series(1, $1::int) g
	RETURNING id, subject, submitter_id, created_at
), m AS (
	INSERT INTO messages (message_id, direction, case_id, from_address, subject, decision, received_at, created_at)
	SELECT 'gen-' || c.id || '@gen.bench.test', 'in', c.id, u.login_email, c.subject, 'new_case', c.created_at, c.created_at
	FROM c JOIN u ON u.id = c.submitter_id
	RETURNING id, case_id
), e AS (
	INSERT INTO case_events (case_id, actor_id, kind, to_value, message_id, created_at)
	SELECT c.id, c.submitter_id, 'created', 'open', m.id, c.created_at FROM c JOIN m ON m.case_id = c.id
)
INSERT INTO comments (case_id, author_id, message_id, public, body, full_body, created_at)
SELECT c.id, c.submitter_id, m.id, true,
	'Hello support, ' || c.subject || E'. It started this morning on three machines; we restarted the service and cleared the cache.\n\nRegards',
	'Hello support, ' || c.subject || E'. It started this morning on three machines; we restarted the service and cleared the cache.\n\nRegards\n-- \nsent from a generated account',
	c.created_at
FROM c JOIN m ON m.case_id = c.id`

// grow fills the database with k open cases (and k/10 customers who
// opened them), then vacuums so that autovacuum does not run during the
// measurements. It returns the Message-ID of a generated mail for `why`.
func (s *stack) grow(k int) (whyID string, err error) {
	t0 := time.Now()
	if _, err := s.db.Exec(growSQL, k, max(1, k/10)); err != nil {
		return "", fmt.Errorf("generating %d cases: %w", k, err)
	}
	// Rows written behind the daemon's back get what migration 0006 gives the
	// cases it finds: their timers are due at once (computed by the next pass).
	var dueCol bool
	if err := s.db.QueryRow(`SELECT EXISTS (SELECT FROM information_schema.columns
		WHERE table_name = 'cases' AND column_name = 'next_timer_at' AND table_schema = current_schema())`).Scan(&dueCol); err != nil {
		return "", err
	}
	if dueCol {
		if _, err := s.db.Exec(`UPDATE cases SET next_timer_at = now() WHERE next_timer_at IS NULL AND status <> 'closed'`); err != nil {
			return "", err
		}
	}
	if _, err := s.db.Exec(`VACUUM ANALYZE`); err != nil {
		return "", err
	}
	s.logf("generated %d cases in %s", k, time.Since(t0).Round(time.Second))
	var id string
	err = s.db.QueryRow(`SELECT message_id FROM messages WHERE message_id LIKE 'gen-%' ORDER BY id OFFSET $1 LIMIT 1`, k/2).Scan(&id)
	return id, err
}
