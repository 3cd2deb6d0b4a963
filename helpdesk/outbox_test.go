package helpdesk_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/helpdesk/helpdesk/helpdesk"
)

// countingQueryer counts the statements sent through it.
type countingQueryer struct {
	helpdesk.Queryer
	n int
}

func (c *countingQueryer) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	c.n++
	return c.Queryer.ExecContext(ctx, q, args...)
}

func (c *countingQueryer) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	c.n++
	return c.Queryer.QueryContext(ctx, q, args...)
}

func (c *countingQueryer) QueryxContext(ctx context.Context, q string, args ...any) (*sqlx.Rows, error) {
	c.n++
	return c.Queryer.QueryxContext(ctx, q, args...)
}

func (c *countingQueryer) QueryRowxContext(ctx context.Context, q string, args ...any) *sqlx.Row {
	c.n++
	return c.Queryer.QueryRowxContext(ctx, q, args...)
}

func (c *countingQueryer) GetContext(ctx context.Context, dest any, q string, args ...any) error {
	c.n++
	return c.Queryer.GetContext(ctx, dest, q, args...)
}

func (c *countingQueryer) SelectContext(ctx context.Context, dest any, q string, args ...any) error {
	c.n++
	return c.Queryer.SelectContext(ctx, dest, q, args...)
}

func outMail(id, to string, caseID *int64, staff bool, now time.Time) helpdesk.OutMail {
	return helpdesk.OutMail{MessageID: id, CaseID: caseID, Kind: "test", EnvelopeFrom: "support@example.com",
		Recipients: []string{to}, Subject: "test " + id, Data: rawMail(id, to), Now: now, Staff: staff}
}

func newCase(t testing.TB, s *helpdesk.Store, submitter string, now time.Time) int64 {
	t.Helper()
	u := mustUser(t, s.DB(), submitter, "customer", "")
	id, err := helpdesk.CreateCase(context.Background(), s.DB(), helpdesk.NewCase{Subject: "x", SubmitterID: u.ID, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestEnqueueMail_BudgetCountersHoldOverTheWindow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	t0 := time.Date(2026, 11, 20, 15, 3, 0, 0, time.UTC)
	caseA, caseB := newCase(t, s, "a@acme.example", t0), newCase(t, s, "b@acme.example", t0)
	budget := helpdesk.Budget{PerCase: 6, PerRecipient: 6, PerStaff: 6, Window: time.Hour}
	type step struct {
		at     time.Duration
		to     string
		caseID *int64
		staff  bool
		want   string // queued, or the reason of the suppression
	}
	// Each test uses its own recipients and cases: the counters are shared.
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"the seventh mail to a recipient within the window is suppressed", []step{
			{0, "r1@acme.example", nil, false, "queued"}, {10 * time.Minute, "r1@acme.example", nil, false, "queued"},
			{20 * time.Minute, "r1@acme.example", nil, false, "queued"}, {30 * time.Minute, "r1@acme.example", nil, false, "queued"},
			{40 * time.Minute, "r1@acme.example", nil, false, "queued"}, {50 * time.Minute, "R1@acme.example", nil, false, "queued"},
			{59*time.Minute + 59*time.Second, "r1@acme.example", nil, false, "recipient budget: 6 mails in 1h0m0s"},
		}},
		{"a mail after the window passes", []step{
			{0, "r2@acme.example", nil, false, "queued"}, {0, "r2@acme.example", nil, false, "queued"},
			{0, "r2@acme.example", nil, false, "queued"}, {0, "r2@acme.example", nil, false, "queued"},
			{0, "r2@acme.example", nil, false, "queued"}, {0, "r2@acme.example", nil, false, "queued"},
			{30 * time.Minute, "r2@acme.example", nil, false, "recipient budget: 6 mails in 1h0m0s"},
			{time.Hour + 10*time.Minute, "r2@acme.example", nil, false, "queued"},
		}},
		{"the case budget counts mail to every recipient of the case", []step{
			{0, "c1@acme.example", &caseA, false, "queued"}, {1 * time.Minute, "c2@acme.example", &caseA, false, "queued"},
			{2 * time.Minute, "c3@acme.example", &caseA, false, "queued"}, {3 * time.Minute, "c4@acme.example", &caseA, false, "queued"},
			{4 * time.Minute, "c5@acme.example", &caseA, false, "queued"}, {5 * time.Minute, "c6@acme.example", &caseA, true, "queued"},
			{6 * time.Minute, "c7@acme.example", &caseA, false, "case budget: 6 mails in 1h0m0s"},
		}},
		{"suppressed mail does not count", []step{
			{0, "support@example.com", &caseB, false, "recipient support@example.com is our own address"},
			{0, "support@example.com", &caseB, false, "recipient support@example.com is our own address"},
			{0, "bounced@acme.example", &caseB, false, "recipient bounced@acme.example is suppressed after a permanent bounce"},
			{1 * time.Minute, "d1@acme.example", &caseB, false, "queued"}, {1 * time.Minute, "d1@acme.example", &caseB, false, "queued"},
			{1 * time.Minute, "d1@acme.example", &caseB, false, "queued"}, {1 * time.Minute, "d1@acme.example", &caseB, false, "queued"},
			{1 * time.Minute, "d1@acme.example", &caseB, false, "queued"}, {1 * time.Minute, "d1@acme.example", &caseB, false, "queued"},
			{2 * time.Minute, "d2@acme.example", &caseB, false, "case budget: 6 mails in 1h0m0s"},
			{2 * time.Minute, "d1@acme.example", nil, false, "recipient budget: 6 mails in 1h0m0s"},
		}},
		{"staff and outside mail to one address share its count under their own limits", []step{
			{0, "agents@example.com", nil, true, "queued"}, {0, "agents@example.com", nil, true, "queued"},
			{0, "agents@example.com", nil, true, "queued"}, {0, "agents@example.com", nil, false, "queued"},
			{0, "agents@example.com", nil, false, "queued"}, {0, "agents@example.com", nil, false, "queued"},
			{0, "agents@example.com", nil, true, "staff budget: 6 mails in 1h0m0s"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.DB().Exec(`INSERT INTO suppressions (address, reason, suppressed_until) VALUES ('bounced@acme.example', '5.1.1', $1)
				ON CONFLICT DO NOTHING`, t0.Add(24*time.Hour)); err != nil {
				t.Fatal(err)
			}
			for i, st := range tc.steps {
				id := fmt.Sprintf("%s-%d@x", strings.ReplaceAll(tc.name, " ", "-"), i)
				e, err := helpdesk.EnqueueMail(ctx, s.DB(), outMail(id, st.to, st.caseID, st.staff, t0.Add(st.at)), []string{"support@example.com"}, budget)
				if err != nil {
					t.Fatal(err)
				}
				got := e.Reason
				if e.Status == "queued" {
					got = "queued"
				}
				if got != st.want {
					t.Fatalf("mail %d at +%s to %s: %s %q, want %q", i, st.at, st.to, e.Status, got, st.want)
				}
			}
		})
	}
}

// oracleVerdict decides as outboxVerdict did when it counted the outbox
// (a recipient's or case's queued mails since the window's start), with the
// window's start at the start of its bucket, as the counters keep it.
func oracleVerdict(queued []helpdesk.OutMail, m helpdesk.OutMail, b helpdesk.Budget) string {
	since := m.Now.Add(-b.Window).Truncate(b.Window / 6)
	var perCase, perRcpt int
	for _, q := range queued {
		if q.Now.Before(since) {
			continue
		}
		if m.CaseID != nil && q.CaseID != nil && *q.CaseID == *m.CaseID {
			perCase++
		}
		if strings.EqualFold(q.Recipients[0], m.Recipients[0]) {
			perRcpt++
		}
	}
	limit := b.PerRecipient
	if m.Staff {
		limit = b.PerStaff
	}
	switch {
	case m.CaseID != nil && perCase >= b.PerCase:
		return "case budget"
	case perRcpt >= limit:
		return map[bool]string{true: "staff budget", false: "recipient budget"}[m.Staff]
	}
	return "queued"
}

func TestEnqueueBatch_CountersAgreeWithCountingSentMail(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	now := time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC)
	cases := []int64{newCase(t, s, "a@acme.example", now), newCase(t, s, "b@acme.example", now)}
	rcpts := []string{"x@acme.example", "y@acme.example", "agents@example.com"}
	b := helpdesk.Budget{PerCase: 5, PerRecipient: 4, PerStaff: 6, Window: time.Hour}
	rnd := rand.New(rand.NewPCG(1, 2))
	var queued []helpdesk.OutMail
	for n := 0; n < 300; {
		var batch []helpdesk.OutMail
		for range 1 + rnd.IntN(8) {
			now = now.Add(time.Duration(rnd.IntN(5*60)) * time.Second)
			r := rnd.IntN(len(rcpts))
			var caseID *int64
			if k := rnd.IntN(3); k < len(cases) {
				caseID = &cases[k]
			}
			batch = append(batch, outMail(fmt.Sprintf("o%d@x", n), rcpts[r], caseID, r == 2, now))
			n++
		}
		es, err := helpdesk.EnqueueBatch(ctx, s.DB(), batch, nil, b)
		if err != nil {
			t.Fatal(err)
		}
		for i, e := range es {
			want := oracleVerdict(queued, batch[i], b)
			if got := e.Status; got != want && !strings.HasPrefix(e.Reason, want+":") {
				t.Fatalf("%s at %s to %s: %s %q, counting the outbox says %s", batch[i].MessageID, batch[i].Now,
					batch[i].Recipients[0], e.Status, e.Reason, want)
			}
			if e.Status == "queued" {
				queued = append(queued, batch[i])
			}
		}
	}
	if len(queued) < 50 || len(queued) > 250 {
		t.Fatalf("%d of 300 queued: the sequence does not exercise the budgets", len(queued))
	}
}

func TestEnqueueBatch_ConstantStatementsAndLaterMailsSeeEarlierOnes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	now := time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC)
	caseID := newCase(t, s, "a@acme.example", now)
	b := helpdesk.Budget{PerCase: 15, PerRecipient: 20, PerStaff: 100, Window: time.Hour}
	enqueue := func(ms []helpdesk.OutMail) ([]helpdesk.Enqueued, int) {
		var es []helpdesk.Enqueued
		cq := &countingQueryer{}
		err := s.WithTx(ctx, func(tx *sqlx.Tx) error {
			cq.Queryer = tx
			var err error
			es, err = helpdesk.EnqueueBatch(ctx, cq, ms, []string{"support@example.com"}, b)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return es, cq.n
	}
	_, one := enqueue([]helpdesk.OutMail{outMail("one@x", "z@acme.example", nil, false, now)})
	var ms []helpdesk.OutMail
	for i := range 50 {
		if i < 25 {
			ms = append(ms, outMail(fmt.Sprintf("a%d@x", i), "kim@acme.example", nil, false, now))
		} else {
			ms = append(ms, outMail(fmt.Sprintf("c%d@x", i), "lee@acme.example", &caseID, false, now))
		}
	}
	es, fifty := enqueue(ms)
	t.Logf("statements: %d for 1 mail, %d for 50", one, fifty)
	if fifty != one || fifty > 6 {
		t.Errorf("EnqueueBatch took %d statements for 50 mails, %d for one; want the same, at most 6", fifty, one)
	}
	for i, e := range es {
		want := "queued"
		switch {
		case i >= 20 && i < 25:
			want = "recipient budget: 20 mails in 1h0m0s"
		case i >= 40:
			want = "case budget: 15 mails in 1h0m0s"
		}
		if got := map[bool]string{true: "queued", false: e.Reason}[e.Status == "queued"]; got != want {
			t.Errorf("mail %d: %s %q, want %q", i, e.Status, e.Reason, want)
		}
	}
	var rows, msgs int
	s.DB().Get(&rows, `SELECT count(*) FROM outbox WHERE status = 'queued'`)
	s.DB().Get(&msgs, `SELECT count(*) FROM messages WHERE direction = 'out'`)
	if rows != 1+35 || msgs != 51 {
		t.Errorf("%d queued outbox rows, %d outbound messages; want 36 and 51", rows, msgs)
	}
}

func TestEnqueueBatch_UsesReservedIDs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	now := time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC)
	ids, err := helpdesk.ReserveOutboxIDs(ctx, s.DB(), 3)
	if err != nil || len(ids) != 3 || ids[0] == ids[1] || ids[1] == ids[2] {
		t.Fatalf("ReserveOutboxIDs = %v, %v", ids, err)
	}
	var ms []helpdesk.OutMail
	for i, id := range ids {
		m := outMail(fmt.Sprintf("r%d@x", i), "kim@acme.example", nil, false, now)
		m.ID = id
		ms = append(ms, m)
	}
	ms = append(ms, outMail("unreserved@x", "kim@acme.example", nil, false, now))
	es, err := helpdesk.EnqueueBatch(ctx, s.DB(), ms, nil, helpdesk.Budget{})
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		if es[i].ID != id {
			t.Errorf("mail %d stored as %d, want its reserved id %d", i, es[i].ID, id)
		}
	}
	if es[3].ID == 0 || es[3].ID == ids[0] || es[3].ID == ids[1] || es[3].ID == ids[2] {
		t.Errorf("unreserved mail got id %d", es[3].ID)
	}
	if _, err := helpdesk.EnqueueBatch(ctx, s.DB(), []helpdesk.OutMail{outMail("bad id@x", "kim@acme.example", nil, false, now)}, nil, helpdesk.Budget{}); err == nil {
		t.Error("a Message-ID with a space was accepted")
	}
}

func TestPurgeSendCounters_DropsOnlyBucketsNoWindowReaches(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	t0 := time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC)
	b := helpdesk.Budget{PerRecipient: 1, Window: time.Hour}
	if _, err := helpdesk.EnqueueMail(ctx, s.DB(), outMail("p0@x", "kim@acme.example", nil, false, t0), nil, b); err != nil {
		t.Fatal(err)
	}
	count := func() int {
		var n int
		s.DB().Get(&n, `SELECT count(*) FROM send_counters`)
		return n
	}
	if err := helpdesk.PurgeSendCounters(ctx, s.DB(), t0.Add(time.Hour+5*time.Minute)); err != nil || count() != 1 {
		t.Fatalf("purged a bucket a window still reaches: %d left, %v", count(), err)
	}
	if e, _ := helpdesk.EnqueueMail(ctx, s.DB(), outMail("p1@x", "kim@acme.example", nil, false, t0.Add(time.Hour+5*time.Minute)), nil, b); e.Status != "suppressed" {
		t.Fatalf("within the counted buckets: %+v", e)
	}
	if err := helpdesk.PurgeSendCounters(ctx, s.DB(), t0.Add(time.Hour+11*time.Minute)); err != nil || count() != 0 {
		t.Fatalf("after its window: %d left, %v", count(), err)
	}
}
