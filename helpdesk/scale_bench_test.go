package helpdesk_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/helpdesk/helpdesk/helpdesk"
	"github.com/helpdesk/helpdesk/helpdesk/lifecycle"
)

// scaleCases is the size of the benchmark database (issue 15's target).
const scaleCases = 200_000

// generateCases fills the schema with n cases, each with one inbound
// message, one comment and one event, in one statement. Statuses: 60%
// closed, 10% solved (survey sent), 10% pending for an hour, 20% open (half
// of them without a first response, due in ten days). None has a timer due
// at now. Subjects and comments mix English and Korean; "zebra" is in 0.01%
// of the comments.
func generateCases(b *testing.B, s *helpdesk.Store, n int, now time.Time) {
	b.Helper()
	ctx := context.Background()
	if _, err := s.DB().ExecContext(ctx, `INSERT INTO orgs (name) SELECT 'org' || g FROM generate_series(1, 100) g;
		INSERT INTO users (login_email, name, role, org_id)
			SELECT 'user' || g || '@org' || (g % 100 + 1) || '.example', 'User ' || g, 'customer', g % 100 + 1
			FROM generate_series(1, 2000) g`); err != nil {
		b.Fatal(err)
	}
	_, err := s.DB().ExecContext(ctx, `WITH src AS (
		SELECT g,
			$2::timestamptz - ((g * 7919) % 31536000) * interval '1 second' AS active,
			CASE WHEN g % 10 < 6 THEN 'closed' WHEN g % 10 = 6 THEN 'solved' WHEN g % 10 = 7 THEN 'pending' ELSE 'open' END AS status,
			(ARRAY['Printer not working', 'VPN connection drops', 'Invoice payment failed', 'Password reset request',
				'Email delivery delayed', '결제가 안 됩니다', '프린터가 안 돼요', '비밀번호 변경 요청', '메일 수신 지연', '로그인 오류 문의'])[g % 10 + 1]
				|| ' ' || g AS subject,
			(ARRAY['The printer shows an error after the update.', 'Since this morning the connection drops every ten minutes.',
				'카드 결제가 계속 실패합니다. 확인 부탁드립니다.', '로그인하면 오류 메시지가 나옵니다.', 'We cannot receive mail from our partner.',
				'Please reset the password of our shared account.', '메일이 한 시간 늦게 도착합니다.'])[g % 7 + 1]
				|| CASE WHEN g % 10000 = 0 THEN ' A zebra crossed the server room.' ELSE '' END AS body
		FROM generate_series(1, $1::int) g
	), c AS (
		INSERT INTO cases (subject, status, severity, org_id, submitter_id, mailbox, created_at, updated_at, last_activity_at,
			first_response_at, first_response_due_at, pending_since, solved_at, survey_sent_at, closed_at)
		SELECT subject, status, 'S' || (g % 4 + 1), g % 100 + 1, g % 2000 + 1, 'INBOX', active - interval '1 day', active, active,
			CASE WHEN status = 'open' AND g % 2 = 0 THEN NULL ELSE active - interval '20 hours' END,
			CASE WHEN status = 'open' AND g % 2 = 0 THEN $2::timestamptz + interval '10 days' ELSE active END,
			CASE WHEN status = 'pending' THEN $2::timestamptz - interval '1 hour' END,
			CASE WHEN status = 'solved' THEN $2::timestamptz - interval '2 days' WHEN status = 'closed' THEN active END,
			CASE WHEN status = 'solved' THEN $2::timestamptz - interval '1 day' END,
			CASE WHEN status = 'closed' THEN active END
		FROM src ORDER BY g RETURNING id, subject, created_at, submitter_id
	), m AS (
		INSERT INTO messages (message_id, direction, case_id, mailbox, from_address, subject, decision, created_at)
		SELECT 'bench-' || id || '@org.example', 'in', id, 'INBOX', 'user' || submitter_id || '@example.com', subject, 'new_case', created_at
		FROM c RETURNING id AS msg_id, case_id, created_at
	), e AS (
		INSERT INTO case_events (case_id, actor_id, kind, to_value, message_id, created_at)
		SELECT m.case_id, NULL, 'created', 'open', m.msg_id, m.created_at FROM m
	)
	INSERT INTO comments (case_id, message_id, public, body, created_at)
	SELECT m.case_id, m.msg_id, true, src.body, m.created_at FROM m JOIN src ON src.g = m.case_id`, n, now)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.DB().ExecContext(ctx, `ANALYZE`); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkScale measures the operator's queries and an idle timer pass on
// a database of 200,000 cases (generated once, about a minute).
func BenchmarkScale(b *testing.B) {
	ctx := context.Background()
	s := newStore(b)
	now := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	start := time.Now()
	generateCases(b, s, scaleCases, now)
	b.Logf("generated %d cases in %v", scaleCases, time.Since(start).Round(time.Millisecond))
	lc, err := helpdesk.NewLifecycle(s, nil, lifecycle.DefaultPolicy(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	start = time.Now()
	if _, err := lc.Pass(ctx, now); err != nil {
		b.Fatal(err)
	}
	b.Logf("first timer pass in %v", time.Since(start).Round(time.Millisecond))

	list := func(f helpdesk.CaseFilter, want int) func(b *testing.B) {
		return func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				cs, err := helpdesk.ListCases(ctx, s.DB(), f)
				if err != nil {
					b.Fatal(err)
				}
				if len(cs) < want {
					b.Fatalf("%d cases, want at least %d", len(cs), want)
				}
			}
		}
	}
	b.Run("list", list(helpdesk.CaseFilter{}, 100))
	b.Run("list-status", list(helpdesk.CaseFilter{Status: "open"}, 100))
	b.Run("search-english", list(helpdesk.CaseFilter{Search: "printer"}, 100))
	b.Run("search-english-partial", list(helpdesk.CaseFilter{Search: "rinte"}, 100))
	b.Run("search-english-rare", list(helpdesk.CaseFilter{Search: "zebra"}, 20))
	b.Run("search-korean", list(helpdesk.CaseFilter{Search: "결제"}, 100))
	b.Run("search-korean-long", list(helpdesk.CaseFilter{Search: "비밀번호"}, 100))
	b.Run("why", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := helpdesk.ExplainMessage(ctx, s.DB(), "<bench-123457@org.example>"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("show", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := helpdesk.GetCaseDetail(ctx, s.DB(), 123457); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("idle-pass", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			n, err := lc.Pass(ctx, now.Add(time.Duration(i)*time.Second))
			if err != nil {
				b.Fatal(err)
			}
			if n != 0 {
				b.Fatalf("idle pass changed %d cases", n)
			}
		}
	})
}
