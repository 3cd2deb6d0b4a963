package helpdesk_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/helpdesk/helpdesk/helpdesk"
	"github.com/helpdesk/helpdesk/helpdesk/lifecycle"
	"github.com/helpdesk/helpdesk/helpdesk/pgtest"
	"github.com/helpdesk/helpdesk/migrations"
	"github.com/helpdesk/helpdesk/templates"
	"github.com/helpdesk/helpdesk/threading"
)

var timerBase = time.Date(2026, 11, 16, 9, 0, 0, 0, time.UTC) // a Monday

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newTimerLifecycle(t testing.TB, s *helpdesk.Store, n *helpdesk.Notifier, p lifecycle.Policy) *helpdesk.Lifecycle {
	t.Helper()
	lc, err := helpdesk.NewLifecycle(s, n, p, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	return lc
}

func timerNotifier(t testing.TB) *helpdesk.Notifier {
	t.Helper()
	tmpl, err := templates.New(templates.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := threading.NewTokens("test-secret-0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	n, err := helpdesk.NewNotifier(helpdesk.NotifierConfig{Templates: tmpl, Tokens: tokens, SupportAddress: "support@example.com",
		Name: "Example Support", MessageIDDomain: "example.com", LoopID: "test-instance", AgentAddress: "agents@example.com",
		ManagerAddress: "boss@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// saveState gives case id the lifecycle state c, as the rules would.
func saveState(t testing.TB, s *helpdesk.Store, c lifecycle.Case, p lifecycle.Policy) {
	t.Helper()
	if err := helpdesk.SaveCaseState(context.Background(), s.DB(), c, p, timerBase); err != nil {
		t.Fatal(err)
	}
}

func nextTimerOf(t testing.TB, s *helpdesk.Store, id int64) *time.Time {
	t.Helper()
	var at *time.Time
	if err := s.DB().Get(&at, `SELECT next_timer_at FROM cases WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	return at
}

func passAt(t testing.TB, lc *helpdesk.Lifecycle, now time.Time) int {
	t.Helper()
	n, err := lc.Pass(context.Background(), now)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestTimers_CaseIsDueExactlyWhenNextDueSays(t *testing.T) {
	t.Parallel()
	p := lifecycle.DefaultPolicy()
	pending := lifecycle.Case{Status: lifecycle.Pending, Severity: lifecycle.S3, CreatedAt: timerBase,
		FirstResponseAt: timerBase.Add(time.Hour), PendingSince: timerBase.Add(time.Hour)}
	remindedTwice := pending
	remindedTwice.RemindersSent = 2
	solved := lifecycle.Case{Status: lifecycle.Solved, Severity: lifecycle.S3, CreatedAt: timerBase,
		FirstResponseAt: timerBase.Add(time.Hour), SolvedAt: timerBase.Add(2 * time.Hour), SolvedReason: "fixed"}
	warned := lifecycle.Case{Status: lifecycle.Open, Severity: lifecycle.S1, CreatedAt: timerBase,
		FirstResponseDue: timerBase.Add(2 * time.Hour), SLAWarnedAt: timerBase.Add(90 * time.Minute)}
	onHold := lifecycle.Case{Status: lifecycle.OnHold, Severity: lifecycle.S2, CreatedAt: timerBase,
		FirstResponseDue: lifecycle.FirstResponseDue(lifecycle.S2, timerBase, p.SLA)}
	for _, tc := range []struct {
		name  string
		state *lifecycle.Case // nil: as CreateCase leaves a new S1 case
		fired func(c *helpdesk.Case, reminders int) bool
	}{
		{"a new case warns before its first response is due", nil,
			func(c *helpdesk.Case, _ int) bool { return c.Status == "open" }},
		{"pending sends the first reminder", &pending,
			func(c *helpdesk.Case, r int) bool { return r == 1 }},
		{"pending after every reminder is auto-solved", &remindedTwice,
			func(c *helpdesk.Case, _ int) bool { return c.Status == "solved" && c.SolvedReason == "no response" }},
		{"solved closes after the reopen window", &solved,
			func(c *helpdesk.Case, _ int) bool { return c.Status == "closed" }},
		{"warned breaches at the due time", &warned,
			func(c *helpdesk.Case, _ int) bool { return c.Status == "open" }},
		{"on hold warns in business time", &onHold,
			func(c *helpdesk.Case, _ int) bool { return c.Status == "on_hold" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := newStore(t)
			u := mustUser(t, s.DB(), "jane@acme.example", "customer", "")
			state := lifecycle.NewCase(lifecycle.S1, "", timerBase, p)
			id, err := helpdesk.CreateCase(ctx, s.DB(), helpdesk.NewCase{Subject: "x", Severity: "S1", SubmitterID: u.ID, Now: timerBase,
				FirstDue: &state.FirstResponseDue, Policy: &p})
			if err != nil {
				t.Fatal(err)
			}
			if tc.state != nil {
				state = *tc.state
				state.ID = id
				saveState(t, s, state, p)
			}
			state.ID = id
			due, ok := lifecycle.NextDue(state, p)
			if !ok {
				t.Fatal("nothing due")
			}
			if at := nextTimerOf(t, s, id); at == nil || !at.Equal(due) {
				t.Fatalf("next_timer_at = %v, want %v", at, due)
			}
			lc := newTimerLifecycle(t, s, nil, p)
			events := func() int {
				var n int
				if err := s.DB().Get(&n, `SELECT count(*) FROM case_events WHERE case_id = $1`, id); err != nil {
					t.Fatal(err)
				}
				return n
			}
			before := events()
			if n := passAt(t, lc, due.Add(-time.Microsecond)); n != 0 || events() != before {
				t.Fatalf("a microsecond early: %d cases changed", n)
			}
			if n := passAt(t, lc, due); n != 1 || events() == before {
				t.Fatalf("at the due time: %d cases changed, events %d → %d", n, before, events())
			}
			c, err := helpdesk.GetCase(ctx, s.DB(), id)
			if err != nil {
				t.Fatal(err)
			}
			var reminders int
			if err := s.DB().Get(&reminders, `SELECT reminders_sent FROM cases WHERE id = $1`, id); err != nil {
				t.Fatal(err)
			}
			if !tc.fired(c, reminders) {
				t.Fatalf("after the pass: %+v, %d reminders", c, reminders)
			}
			after, err := helpdesk.LoadCaseState(ctx, s.DB(), id)
			if err != nil {
				t.Fatal(err)
			}
			want, ok := lifecycle.NextDue(after, p)
			if at := nextTimerOf(t, s, id); (at == nil) == ok || (ok && !at.Equal(want)) {
				t.Fatalf("next_timer_at after the pass = %v, want %v (%v)", at, want, ok)
			}
		})
	}
}

func TestTimers_CaseWithoutTimersIsNeverDue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	u := mustUser(t, s.DB(), "jane@acme.example", "customer", "")
	p := lifecycle.DefaultPolicy()
	noSLA, err := helpdesk.CreateCase(ctx, s.DB(), helpdesk.NewCase{Subject: "x", SubmitterID: u.ID, Now: timerBase, Policy: &p})
	if err != nil {
		t.Fatal(err)
	}
	closed, err := helpdesk.CreateCase(ctx, s.DB(), helpdesk.NewCase{Subject: "y", SubmitterID: u.ID, Now: timerBase, Policy: &p})
	if err != nil {
		t.Fatal(err)
	}
	saveState(t, s, lifecycle.Case{ID: closed, Status: lifecycle.Closed, Severity: lifecycle.S3, CreatedAt: timerBase,
		SolvedAt: timerBase, ClosedAt: timerBase}, p)
	for _, id := range []int64{noSLA, closed} {
		if at := nextTimerOf(t, s, id); at != nil {
			t.Fatalf("case %d: next_timer_at = %v, want NULL", id, at)
		}
	}
	if n := passAt(t, newTimerLifecycle(t, s, nil, p), timerBase.AddDate(1, 0, 0)); n != 0 {
		t.Fatalf("%d cases changed", n)
	}
}

func TestTimers_CaseCreatedWithoutPolicyIsScheduledByTheNextPass(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	u := mustUser(t, s.DB(), "jane@acme.example", "customer", "")
	p := lifecycle.DefaultPolicy()
	c := lifecycle.NewCase(lifecycle.S1, "", timerBase, p)
	id, err := helpdesk.CreateCase(ctx, s.DB(), helpdesk.NewCase{Subject: "x", Severity: "S1", SubmitterID: u.ID, Now: timerBase,
		FirstDue: &c.FirstResponseDue})
	if err != nil {
		t.Fatal(err)
	}
	if at := nextTimerOf(t, s, id); at == nil || !at.Equal(timerBase) {
		t.Fatalf("next_timer_at = %v, want due at once", at)
	}
	if n := passAt(t, newTimerLifecycle(t, s, nil, p), timerBase); n != 0 {
		t.Fatalf("%d cases changed", n)
	}
	c.ID = id
	want, _ := lifecycle.NextDue(c, p)
	if at := nextTimerOf(t, s, id); at == nil || !at.Equal(want) {
		t.Fatalf("next_timer_at = %v, want %v", at, want)
	}
}

func TestTimers_ChangedPolicyReschedulesOpenCases(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	u := mustUser(t, s.DB(), "jane@acme.example", "customer", "")
	slow := lifecycle.DefaultPolicy() // first reminder after 3 days
	id, err := helpdesk.CreateCase(ctx, s.DB(), helpdesk.NewCase{Subject: "x", SubmitterID: u.ID, Now: timerBase, Policy: &slow})
	if err != nil {
		t.Fatal(err)
	}
	saveState(t, s, lifecycle.Case{ID: id, Status: lifecycle.Pending, Severity: lifecycle.S3, CreatedAt: timerBase,
		PendingSince: timerBase}, slow)
	if n := passAt(t, newTimerLifecycle(t, s, nil, slow), timerBase.Add(25*time.Hour)); n != 0 {
		t.Fatalf("under the old policy: %d cases changed", n)
	}
	fast := lifecycle.DefaultPolicy()
	fast.Reminders = []time.Duration{24 * time.Hour}
	if n := passAt(t, newTimerLifecycle(t, s, nil, fast), timerBase.Add(25*time.Hour)); n != 1 {
		t.Fatalf("under the new policy: %d cases changed, want the reminder", n)
	}
}

// statementCounter counts the statements (and BEGIN, COMMIT, ROLLBACK) sent
// through the connections of a pool.
type statementCounter struct {
	connector driver.Connector
	n         atomic.Int64
}

func (c *statementCounter) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: conn, n: &c.n}, nil
}

func (c *statementCounter) Driver() driver.Driver { return c.connector.Driver() }

type countingConn struct {
	driver.Conn
	n *atomic.Int64
}

func (c *countingConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	c.n.Add(1)
	return c.Conn.(driver.QueryerContext).QueryContext(ctx, q, args)
}

func (c *countingConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	c.n.Add(1)
	return c.Conn.(driver.ExecerContext).ExecContext(ctx, q, args)
}

func (c *countingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	c.n.Add(1)
	tx, err := c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return countingTx{Tx: tx, n: c.n}, nil
}

func (c *countingConn) CheckNamedValue(v *driver.NamedValue) error {
	if nc, ok := c.Conn.(driver.NamedValueChecker); ok {
		return nc.CheckNamedValue(v)
	}
	return driver.ErrSkip
}

type countingTx struct {
	driver.Tx
	n *atomic.Int64
}

func (t countingTx) Commit() error   { t.n.Add(1); return t.Tx.Commit() }
func (t countingTx) Rollback() error { t.n.Add(1); return t.Tx.Rollback() }

// countedStore is a migrated fresh schema whose statements are counted.
func countedStore(t testing.TB) (*helpdesk.Store, *statementCounter) {
	t.Helper()
	pc, err := pq.NewConnector(pgtest.Schema(t))
	if err != nil {
		t.Fatal(err)
	}
	sc := &statementCounter{connector: pc}
	db := sqlx.NewDb(sql.OpenDB(sc), "postgres")
	t.Cleanup(func() { db.Close() })
	if _, err := migrations.Up(context.Background(), db.DB); err != nil {
		t.Fatal(err)
	}
	s, err := helpdesk.NewStore(db)
	if err != nil {
		t.Fatal(err)
	}
	return s, sc
}

// openCases adds n open cases of u, none answered yet, first response due
// in ten days (so their SLA warnings are days away).
func openCases(t testing.TB, s *helpdesk.Store, u *helpdesk.User, n int) {
	t.Helper()
	if _, err := s.DB().Exec(`INSERT INTO cases (subject, severity, submitter_id, created_at, updated_at, last_activity_at, first_response_due_at)
		SELECT 'case ' || g, 'S1', $1, $2, $2, $2, $2::timestamptz + interval '10 days' FROM generate_series(1, $3::int) g`,
		u.ID, timerBase, n); err != nil {
		t.Fatal(err)
	}
}

// rowVersions identifies the versions and locks of every case row.
func rowVersions(t testing.TB, s *helpdesk.Store) string {
	t.Helper()
	var v string
	if err := s.DB().Get(&v, `SELECT md5(string_agg(xmin::text || '/' || xmax::text, ',' ORDER BY id)) FROM cases`); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestTimers_IdlePassCostDoesNotGrowWithOpenCases(t *testing.T) {
	t.Parallel()
	statements := map[int]int64{}
	for _, open := range []int{5, 5000} {
		s, sc := countedStore(t)
		u := mustUser(t, s.DB(), "jane@acme.example", "customer", "")
		openCases(t, s, u, open)
		lc := newTimerLifecycle(t, s, nil, lifecycle.DefaultPolicy())
		passAt(t, lc, timerBase) // schedules the new rows
		versions := rowVersions(t, s)
		start := sc.n.Load()
		if n := passAt(t, lc, timerBase.Add(time.Minute)); n != 0 {
			t.Fatalf("%d open cases: %d changed", open, n)
		}
		statements[open] = sc.n.Load() - start
		if v := rowVersions(t, s); v != versions {
			t.Fatalf("%d open cases: the idle pass wrote or locked case rows", open)
		}
	}
	t.Logf("statements per idle pass: %v", statements)
	if statements[5000] != statements[5] || statements[5000] > 6 {
		t.Fatalf("statements of an idle pass: %v, want the same small number", statements)
	}
}

func TestTimers_ConcurrentPassesSendEachReminderOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	n := timerNotifier(t)
	p := lifecycle.DefaultPolicy()
	const cases = 300
	for i := 0; i < cases; i++ {
		u := mustUser(t, s.DB(), fmt.Sprintf("user%d@acme.example", i), "customer", "")
		id, err := helpdesk.CreateCase(ctx, s.DB(), helpdesk.NewCase{Subject: "VPN", SubmitterID: u.ID, Now: timerBase, Policy: &p})
		if err != nil {
			t.Fatal(err)
		}
		saveState(t, s, lifecycle.Case{ID: id, Status: lifecycle.Pending, Severity: lifecycle.S3, CreatedAt: timerBase,
			PendingSince: timerBase}, p)
	}
	now := timerBase.Add(3*24*time.Hour + time.Minute)
	var wg sync.WaitGroup
	changed := make([]int, 2)
	for i := range changed {
		lc := newTimerLifecycle(t, s, n, p)
		wg.Add(1)
		go func() {
			defer wg.Done()
			k, err := lc.Pass(ctx, now)
			if err != nil {
				t.Error(err)
			}
			changed[i] = k
		}()
	}
	wg.Wait()
	var sent, perCase int
	if err := s.DB().Get(&sent, `SELECT count(*) FROM outbox WHERE kind = 'pending_reminder'`); err != nil {
		t.Fatal(err)
	}
	if err := s.DB().Get(&perCase, `SELECT coalesce(max(k), 0) FROM (SELECT count(*) AS k FROM outbox
		WHERE kind = 'pending_reminder' GROUP BY case_id) x`); err != nil {
		t.Fatal(err)
	}
	if sent != cases || perCase != 1 || changed[0]+changed[1] != cases {
		t.Fatalf("%d reminders (at most %d per case), passes changed %v; want %d, one each", sent, perCase, changed, cases)
	}
}
