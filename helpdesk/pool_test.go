package helpdesk_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/helpdesk/helpdesk/helpdesk"
	"github.com/helpdesk/helpdesk/helpdesk/pgtest"
)

func openWith(t *testing.T, url string, p helpdesk.PoolConfig) *helpdesk.Store {
	t.Helper()
	s, err := helpdesk.OpenWith(context.Background(), url, p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// holdConns takes n connections at once (as ingest, the dispatcher and the
// timers do), returns their backend PIDs and gives them back to the pool.
func holdConns(t *testing.T, s *helpdesk.Store, n int) map[int]bool {
	t.Helper()
	ctx := context.Background()
	pids := map[int]bool{}
	var conns []*sql.Conn
	for range n {
		c, err := s.DB().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		var pid int
		if err := c.QueryRowContext(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
			t.Fatal(err)
		}
		pids[pid] = true
	}
	for _, c := range conns {
		c.Close()
	}
	return pids
}

// Go keeps 2 idle connections by default: with more at work, every burst
// closed the rest and opened new ones (about 700 per 2,000 mails).
func TestOpenWith_PoolKeepsItsConnectionsForReuse(t *testing.T) {
	t.Parallel()
	p := helpdesk.DefaultPoolConfig()
	p.MaxConns, p.MaxIdleConns = 6, 0 // 0: as many as MaxConns
	s := openWith(t, pgtest.Schema(t), p)
	first := holdConns(t, s, 6)
	for round := range 3 {
		again := holdConns(t, s, 6)
		for pid := range again {
			if !first[pid] {
				t.Fatalf("round %d: a new backend (pid %d) where the pool had 6 idle connections", round, pid)
			}
		}
	}
	st := s.DB().Stats()
	if st.OpenConnections != 6 || st.Idle != 6 || st.MaxIdleClosed != 0 || st.MaxIdleTimeClosed != 0 || st.MaxLifetimeClosed != 0 {
		t.Fatalf("stats %+v: want 6 open and idle, none closed", st)
	}
	if st.MaxOpenConnections != 6 {
		t.Fatalf("max open = %d, want 6", st.MaxOpenConnections)
	}
}

func TestOpen_EveryPooledConnectionHasTheTimeouts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := helpdesk.Open(ctx, pgtest.Schema(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	custom := openWith(t, pgtest.Schema(t), helpdesk.PoolConfig{MaxConns: 3, StatementTimeout: 1500 * time.Millisecond, IdleTxTimeout: 0})
	for _, tc := range []struct {
		name           string
		s              *helpdesk.Store
		stmt, idleInTx string
	}{
		{"Open: the defaults", s, "30s", "1min"},
		{"OpenWith", custom, "1500ms", "0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Several connections at once: each is a new backend, each must have them.
			var conns []*sql.Conn
			defer func() {
				for _, c := range conns {
					c.Close()
				}
			}()
			for range 3 {
				c, err := tc.s.DB().Conn(ctx)
				if err != nil {
					t.Fatal(err)
				}
				conns = append(conns, c)
				var stmt, idle string
				if err := c.QueryRowContext(ctx, `SELECT current_setting('statement_timeout'), current_setting('idle_in_transaction_session_timeout')`).Scan(&stmt, &idle); err != nil {
					t.Fatal(err)
				}
				if stmt != tc.stmt || idle != tc.idleInTx {
					t.Fatalf("statement_timeout %q, idle_in_transaction_session_timeout %q; want %q, %q", stmt, idle, tc.stmt, tc.idleInTx)
				}
			}
		})
	}
}

func TestOpenWith_AStatementOverTheTimeoutFailsClearly(t *testing.T) {
	t.Parallel()
	s := openWith(t, pgtest.Schema(t), helpdesk.PoolConfig{MaxConns: 2, StatementTimeout: 100 * time.Millisecond})
	_, err := s.DB().ExecContext(context.Background(), `SELECT pg_sleep(10)`)
	var pqErr *pq.Error
	if !errors.As(err, &pqErr) || pqErr.Code != "57014" || !strings.Contains(err.Error(), "statement timeout") {
		t.Fatalf("err = %v, want PostgreSQL's query_canceled naming the statement timeout", err)
	}
	// The connection stays usable.
	var one int
	if err := s.DB().QueryRow(`SELECT 1`).Scan(&one); err != nil || one != 1 {
		t.Fatalf("after the timeout: %d, %v", one, err)
	}
}

func TestOpenWith_ASettingInTheURLWins(t *testing.T) {
	t.Parallel()
	s := openWith(t, pgtest.Schema(t)+"&statement_timeout=7s", helpdesk.DefaultPoolConfig())
	var v string
	if err := s.DB().QueryRow(`SHOW statement_timeout`).Scan(&v); err != nil || v != "7s" {
		t.Fatalf("statement_timeout = %q, %v; want the URL's 7s", v, err)
	}
}

func TestWithParameter_AddsToEveryFormUnlessSet(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"postgres://u@h/db", "postgres://u@h/db?statement_timeout=30000"},
		{"postgresql://u@h/db?sslmode=disable", "postgresql://u@h/db?sslmode=disable&statement_timeout=30000"},
		{"host=h sslmode=disable", "host=h sslmode=disable statement_timeout=30000"},
		{"postgres://u@h/db?statement_timeout=5s", "postgres://u@h/db?statement_timeout=5s"},
		{"host=h statement_timeout=0", "host=h statement_timeout=0"},
	} {
		if got := helpdesk.WithParameter(tc.in, "statement_timeout", "30000"); got != tc.want {
			t.Errorf("WithParameter(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestOpenWith_RefusesNegativeLimits(t *testing.T) {
	t.Parallel()
	if _, err := helpdesk.OpenWith(context.Background(), "postgres://x@127.0.0.1:1/x?sslmode=disable", helpdesk.PoolConfig{MaxConns: -1}); err == nil {
		t.Fatal("a negative pool limit was accepted")
	}
}

// BenchmarkPool_NewConnectionsInBursts counts the backends (PostgreSQL
// processes, each a fork and an authentication) opened when 6 workers wake
// together for a short transaction each, as ingest, the dispatcher and the
// timers do: with Go's default of 2 idle connections, and the default pool.
func BenchmarkPool_NewConnectionsInBursts(b *testing.B) {
	for _, bc := range []struct {
		name string
		p    helpdesk.PoolConfig
	}{
		{"go-default-2-idle", helpdesk.PoolConfig{MaxIdleConns: 2}},
		{"default-pool", helpdesk.DefaultPoolConfig()},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s, err := helpdesk.OpenWith(context.Background(), pgtest.Schema(b), bc.p)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			b.ResetTimer()
			for range b.N {
				var wg sync.WaitGroup
				for range 6 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						err := s.WithTx(context.Background(), func(tx *sqlx.Tx) error {
							_, err := tx.Exec(`SELECT pg_sleep(0.001)`)
							return err
						})
						if err != nil {
							b.Error(err)
						}
					}()
				}
				wg.Wait()
			}
			st := s.DB().Stats()
			b.ReportMetric(float64(st.MaxIdleClosed+int64(st.OpenConnections))/float64(b.N), "conns/burst")
		})
	}
}
