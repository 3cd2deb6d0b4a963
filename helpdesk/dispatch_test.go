package helpdesk_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/helpdesk/helpdesk/helpdesk"
	"github.com/helpdesk/helpdesk/helpdesk/pgtest"
	"github.com/helpdesk/helpdesk/mail/sender"
)

// clock is a controllable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func rawMail(id, to string) []byte {
	return []byte("From: Support <support@example.com>\r\nTo: " + to + "\r\nSubject: test " + id +
		"\r\nMessage-ID: <" + id + ">\r\nDate: Fri, 20 Nov 2026 15:00:00 +0000\r\n\r\nbody of " + id + "\r\n")
}

func enqueue(t testing.TB, q helpdesk.Queryer, id, to string, now time.Time) helpdesk.Enqueued {
	t.Helper()
	e, err := helpdesk.EnqueueMail(context.Background(), q, helpdesk.OutMail{
		MessageID: id, Kind: "test", EnvelopeFrom: "bounces@example.com", Recipients: []string{to},
		Subject: "test " + id, Data: rawMail(id, to), Now: now,
	}, []string{"support@example.com"}, helpdesk.Budget{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func newDispatcher(t testing.TB, s *helpdesk.Store, r *relay, c *clock, mut func(*helpdesk.DispatcherConfig)) *helpdesk.Dispatcher {
	t.Helper()
	cfg := helpdesk.DispatcherConfig{
		NewSender: func() (helpdesk.MailSender, error) {
			return sender.New(sender.Config{Addr: r.addr, TLS: "none", Timeout: 10 * time.Second})
		},
		IsPermanent: sender.IsPermanent,
		Poll:        50 * time.Millisecond,
		Rand:        func() float64 { return 0.5 },
	}
	if c != nil {
		cfg.Now = c.Now
	}
	if mut != nil {
		mut(&cfg)
	}
	d, err := helpdesk.NewDispatcher(s, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// runFor runs the dispatcher until cond holds (checked every 20ms) or 30s pass.
func runUntil(t testing.TB, ds []*helpdesk.Dispatcher, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, d := range ds {
		wg.Add(1)
		go func() { defer wg.Done(); d.Run(ctx) }()
	}
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			cancel()
			wg.Wait()
			t.Fatal("condition not reached within 30s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	wg.Wait()
}

type outboxRow struct {
	Status    string     `db:"status"`
	Attempts  int        `db:"attempts"`
	LastError string     `db:"last_error"`
	NextAt    time.Time  `db:"next_attempt_at"`
	SentAt    *time.Time `db:"sent_at"`
}

func row(t testing.TB, db *sqlx.DB, id int64) outboxRow {
	t.Helper()
	var r outboxRow
	if err := db.Get(&r, `SELECT status, attempts, last_error, next_attempt_at, sent_at FROM outbox WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestDispatcher_SendsAndRecordsOverOneConnection(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	r := newRelay(t)
	c := &clock{now: time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC)}
	var ids []int64
	for i := range 20 {
		ids = append(ids, enqueue(t, s.DB(), fmt.Sprintf("n%d@example.com", i), "kim@acme.example", c.Now()).ID)
	}
	d := newDispatcher(t, s, r, c, nil)
	runUntil(t, []*helpdesk.Dispatcher{d}, func() bool { _, total, _ := r.counts(); return total == 20 })
	byID, _, conns := r.counts()
	if len(byID) != 20 || conns != 1 {
		t.Fatalf("received %d distinct mails over %d connections, want 20 over 1", len(byID), conns)
	}
	for _, id := range ids {
		if rw := row(t, s.DB(), id); rw.Status != "sent" || rw.SentAt == nil || rw.Attempts != 1 {
			t.Fatalf("row %d = %+v", id, rw)
		}
	}
	var decision string
	if err := s.DB().Get(&decision, `SELECT decision FROM messages WHERE message_id = 'n0@example.com' AND direction = 'out'`); err != nil || decision != "sent" {
		t.Fatalf("outbound message decision = %q, %v", decision, err)
	}
}

func TestDispatcher_TemporaryFailureRetriesWithBackoff(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	r := newRelay(t)
	c := &clock{now: time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC)}
	id := enqueue(t, s.DB(), "retry@example.com", "kim@acme.example", c.Now()).ID
	r.fail(&smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}, 2)
	d := newDispatcher(t, s, r, c, nil)

	runUntil(t, []*helpdesk.Dispatcher{d}, func() bool { return row(t, s.DB(), id).Attempts == 1 && row(t, s.DB(), id).Status == "queued" })
	rw := row(t, s.DB(), id)
	if want := c.Now().Add(time.Minute); !rw.NextAt.Equal(want) || !strings.Contains(rw.LastError, "try later") {
		t.Fatalf("after a 451: %+v, want next attempt at %v (base delay, no jitter at r=0.5)", rw, want)
	}
	c.Add(time.Minute)
	runUntil(t, []*helpdesk.Dispatcher{d}, func() bool { return row(t, s.DB(), id).Attempts == 2 && row(t, s.DB(), id).Status == "queued" })
	if rw := row(t, s.DB(), id); !rw.NextAt.Equal(c.Now().Add(2 * time.Minute)) {
		t.Fatalf("second delay: next at %v, want doubled to %v", rw.NextAt, c.Now().Add(2*time.Minute))
	}
	c.Add(2 * time.Minute)
	runUntil(t, []*helpdesk.Dispatcher{d}, func() bool { return row(t, s.DB(), id).Status == "sent" })
	if byID, _, _ := r.counts(); byID["retry@example.com"] != 1 {
		t.Fatalf("deliveries = %v", byID)
	}
}

func TestDispatcher_PermanentFailureIsRecordedNotRetried(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	r := newRelay(t)
	c := &clock{now: time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC)}
	id := enqueue(t, s.DB(), "perm@example.com", "gone@acme.example", c.Now()).ID
	r.fail(&smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}, -1)
	runUntil(t, []*helpdesk.Dispatcher{newDispatcher(t, s, r, c, nil)}, func() bool { return row(t, s.DB(), id).Status == "failed" })
	if rw := row(t, s.DB(), id); rw.Attempts != 1 || !strings.Contains(rw.LastError, "no such user") {
		t.Fatalf("row = %+v", rw)
	}
}

func TestDispatcher_GivesUpAfterMaxAttempts(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	r := newRelay(t)
	c := &clock{now: time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC)}
	id := enqueue(t, s.DB(), "tired@example.com", "kim@acme.example", c.Now()).ID
	r.fail(&smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 4, 2}, Message: "busy"}, -1)
	d := newDispatcher(t, s, r, c, func(cfg *helpdesk.DispatcherConfig) {
		cfg.MaxAttempts = 3
		cfg.RetryBase = time.Millisecond
		cfg.RetryMax = time.Millisecond
	})
	runUntil(t, []*helpdesk.Dispatcher{d}, func() bool {
		c.Add(time.Second)
		return row(t, s.DB(), id).Status == "failed"
	})
	if rw := row(t, s.DB(), id); rw.Attempts != 3 || !strings.Contains(rw.LastError, "gave up after 3 attempts") {
		t.Fatalf("row = %+v", rw)
	}
}

func TestDispatcher_ReclaimsAnExpiredLease(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	r := newRelay(t)
	c := &clock{now: time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC)}
	id := enqueue(t, s.DB(), "orphan@example.com", "kim@acme.example", c.Now()).ID
	// A sender claimed it and crashed.
	if _, err := helpdesk.ClaimOutbox(context.Background(), s.DB(), "crashed", c.Now(), 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	d := newDispatcher(t, s, r, c, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	d.Run(ctx) // lease still valid: nothing may be sent
	cancel()
	if _, total, _ := r.counts(); total != 0 {
		t.Fatal("a row under a live lease was sent")
	}
	c.Add(6 * time.Minute)
	runUntil(t, []*helpdesk.Dispatcher{d}, func() bool { return row(t, s.DB(), id).Status == "sent" })
	if rw := row(t, s.DB(), id); rw.Attempts != 2 {
		t.Fatalf("row = %+v, want 2 attempts (the crashed one and ours)", rw)
	}
	if err := helpdesk.MarkSent(context.Background(), s.DB(), id, "crashed", c.Now()); err == nil {
		t.Fatal("the crashed sender could still mark a row it lost")
	}
}

func TestDispatcher_TwoDispatchersNeverSendARowTwice(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	r := newRelay(t)
	const n = 400
	now := time.Now()
	err := s.WithTx(context.Background(), func(tx *sqlx.Tx) error {
		for i := range n {
			enqueue(t, tx, fmt.Sprintf("pair%d@example.com", i), fmt.Sprintf("c%d@acme.example", i), now)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	a := newDispatcher(t, s, r, nil, func(c *helpdesk.DispatcherConfig) { c.Workers = 4; c.Owner = "a" })
	b := newDispatcher(t, s, r, nil, func(c *helpdesk.DispatcherConfig) { c.Workers = 4; c.Owner = "b" })
	runUntil(t, []*helpdesk.Dispatcher{a, b}, func() bool { _, total, _ := r.counts(); return total >= n })
	time.Sleep(100 * time.Millisecond) // a duplicate would arrive now
	byID, total, _ := r.counts()
	if total != n || len(byID) != n {
		t.Fatalf("relay got %d mails, %d distinct; want %d each", total, len(byID), n)
	}
	for id, k := range byID {
		if k != 1 {
			t.Fatalf("%s delivered %d times", id, k)
		}
	}
	var sent int
	s.DB().Get(&sent, `SELECT count(*) FROM outbox WHERE status = 'sent'`)
	if sent != n {
		t.Fatalf("%d rows marked sent, want %d", sent, n)
	}
}

func TestDispatcher_NotifyWakesItWithoutPolling(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	r := newRelay(t)
	r.got = make(chan string, 1)
	d := newDispatcher(t, s, r, nil, func(c *helpdesk.DispatcherConfig) {
		c.Poll = time.Hour
		c.ListenURL = pgtest.BaseURL() // NOTIFY is per database, whatever the schema
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	time.Sleep(300 * time.Millisecond) // let it LISTEN and go to sleep
	err := s.WithTx(ctx, func(tx *sqlx.Tx) error {
		enqueue(t, tx, "woken@example.com", "kim@acme.example", time.Now())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case id := <-r.got:
		if id != "woken@example.com" {
			t.Fatalf("got %s", id)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("NOTIFY did not wake the dispatcher (poll interval is 1h)")
	}
}

func TestEnqueueMail_SuppressesWhatMustNotBeSent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	mustOrg(t, s.DB(), "Acme", "", "acme.example")
	u := mustUser(t, s.DB(), "kim@acme.example", "customer", "Acme")
	now := time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC)
	caseID, err := helpdesk.CreateCase(ctx, s.DB(), helpdesk.NewCase{Subject: "x", SubmitterID: u.ID, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().Exec(`INSERT INTO suppressions (address, reason, suppressed_until) VALUES ('bounced@acme.example', '5.1.1', $1)`, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	budget := helpdesk.Budget{PerCase: 3, PerRecipient: 5, Window: time.Hour}
	send := func(id, to string, caseID *int64) helpdesk.Enqueued {
		e, err := helpdesk.EnqueueMail(ctx, s.DB(), helpdesk.OutMail{MessageID: id, CaseID: caseID, Kind: "test",
			EnvelopeFrom: "support@example.com", Recipients: []string{to}, Data: rawMail(id, to), Now: now}, []string{"support@example.com"}, budget)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	if e := send("own@x", "Support@Example.com", nil); e.Status != "suppressed" || !strings.Contains(e.Reason, "our own address") {
		t.Errorf("to our own address: %+v", e)
	}
	if e := send("bounced@x", "bounced@acme.example", nil); e.Status != "suppressed" || !strings.Contains(e.Reason, "bounce") {
		t.Errorf("to a suppressed address: %+v", e)
	}
	for i := range 3 {
		if e := send(fmt.Sprintf("c%d@x", i), "kim@acme.example", &caseID); e.Status != "queued" {
			t.Fatalf("mail %d within the case budget: %+v", i, e)
		}
	}
	if e := send("c3@x", "kim@acme.example", &caseID); e.Status != "suppressed" || !strings.Contains(e.Reason, "case budget") {
		t.Errorf("4th mail on a case within an hour: %+v", e)
	}
	for i := range 2 {
		send(fmt.Sprintf("r%d@x", i), "kim@acme.example", nil)
	}
	if e := send("r2@x", "KIM@acme.example", nil); e.Status != "suppressed" || !strings.Contains(e.Reason, "recipient budget") {
		t.Errorf("6th mail to one recipient within an hour: %+v", e)
	}
	if _, err := helpdesk.EnqueueMail(ctx, s.DB(), helpdesk.OutMail{MessageID: "c0@x", Kind: "t", EnvelopeFrom: "s@x.example",
		Recipients: []string{"a@b.example"}, Data: []byte("x"), Now: now}, nil, helpdesk.Budget{}); err == nil {
		t.Error("a second row with the same Message-ID was accepted")
	}
}

func TestRetryDelay_ExponentialCappedWithJitter(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		attempt int
		r       float64
		want    time.Duration
	}{
		{1, 0.5, time.Minute},
		{2, 0.5, 2 * time.Minute},
		{5, 0.5, 16 * time.Minute},
		{20, 0.5, 4 * time.Hour},
		{1, 0, 48 * time.Second},
		{1, 0.999999, 72 * time.Second},
	} {
		got := helpdesk.RetryDelay(tc.attempt, time.Minute, 4*time.Hour, tc.r)
		if got.Round(time.Second) != tc.want {
			t.Errorf("RetryDelay(%d, r=%v) = %v, want %v", tc.attempt, tc.r, got, tc.want)
		}
	}
}

func TestEnqueueMail_StaffAreExemptFromTheRecipientBudget(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	now := time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC)
	budget := helpdesk.Budget{PerRecipient: 2, Window: time.Hour}
	for i := range 5 {
		e, err := helpdesk.EnqueueMail(ctx, s.DB(), helpdesk.OutMail{MessageID: fmt.Sprintf("s%d@x", i), Kind: "agent_new_case",
			EnvelopeFrom: "support@example.com", Recipients: []string{"agents@example.com"}, Data: rawMail("x", "agents@example.com"),
			Now: now, Staff: true}, nil, budget)
		if err != nil || e.Status != "queued" {
			t.Fatalf("agent notice %d: %+v, %v", i, e, err)
		}
	}
}

func TestClaimOutboxBatch_NeverHandsARowToTwoClaimers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	const n = 300
	now := time.Now()
	var ms []helpdesk.OutMail
	for i := range n {
		ms = append(ms, outMail(fmt.Sprintf("claim%d@example.com", i), fmt.Sprintf("c%d@acme.example", i), nil, false, now))
	}
	if _, err := helpdesk.EnqueueBatch(ctx, s.DB(), ms, nil, helpdesk.Budget{}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	claimedBy := map[int64]int{}
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				cs, err := helpdesk.ClaimOutboxBatch(ctx, s.DB(), fmt.Sprintf("w%d", w), now, time.Minute, 7)
				if err != nil {
					t.Error(err)
					return
				}
				if len(cs) == 0 {
					return
				}
				mu.Lock()
				for _, c := range cs {
					claimedBy[c.ID]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(claimedBy) != n {
		t.Fatalf("%d rows claimed, want %d", len(claimedBy), n)
	}
	for id, k := range claimedBy {
		if k != 1 {
			t.Fatalf("row %d claimed %d times", id, k)
		}
	}
}

func TestDispatcher_SmallBatchesOfTwoDispatchersAreEachSentOnce(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	r := newRelay(t)
	const n = 300
	var ms []helpdesk.OutMail
	for i := range n {
		ms = append(ms, outMail(fmt.Sprintf("small%d@example.com", i), fmt.Sprintf("c%d@acme.example", i), nil, false, time.Now()))
	}
	if _, err := helpdesk.EnqueueBatch(context.Background(), s.DB(), ms, nil, helpdesk.Budget{}); err != nil {
		t.Fatal(err)
	}
	a := newDispatcher(t, s, r, nil, func(c *helpdesk.DispatcherConfig) { c.Workers = 3; c.Batch = 7; c.Owner = "a" })
	b := newDispatcher(t, s, r, nil, func(c *helpdesk.DispatcherConfig) { c.Workers = 3; c.Batch = 7; c.Owner = "b" })
	runUntil(t, []*helpdesk.Dispatcher{a, b}, func() bool { _, total, _ := r.counts(); return total >= n })
	time.Sleep(100 * time.Millisecond)
	byID, total, _ := r.counts()
	if total != n || len(byID) != n {
		t.Fatalf("relay got %d mails, %d distinct; want %d each", total, len(byID), n)
	}
	var sent, attempts int
	s.DB().Get(&sent, `SELECT count(*) FROM outbox WHERE status = 'sent' AND sent_at IS NOT NULL`)
	s.DB().Get(&attempts, `SELECT sum(attempts) FROM outbox`)
	if sent != n || attempts != n {
		t.Fatalf("%d rows marked sent after %d attempts, want %d and %d", sent, attempts, n, n)
	}
}

func TestMarkSentBatch_MarksOurRowsInOneStatementAndReportsLostOnes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	now := time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC)
	var ids []int64
	for i := range 4 {
		ids = append(ids, enqueue(t, s.DB(), fmt.Sprintf("mark%d@example.com", i), "kim@acme.example", now).ID)
	}
	ours, err := helpdesk.ClaimOutboxBatch(ctx, s.DB(), "a", now, time.Minute, 3)
	if err != nil || len(ours) != 3 {
		t.Fatalf("claimed %d, %v", len(ours), err)
	}
	if _, err := helpdesk.ClaimOutboxBatch(ctx, s.DB(), "b", now, time.Minute, 3); err != nil {
		t.Fatal(err)
	}
	var sent []helpdesk.SentMail
	for i, id := range ids {
		sent = append(sent, helpdesk.SentMail{ID: id, At: now.Add(time.Duration(i) * time.Second)})
	}
	cq := &countingQueryer{Queryer: s.DB()}
	lost, err := helpdesk.MarkSentBatch(ctx, cq, "a", sent)
	if err != nil {
		t.Fatal(err)
	}
	if cq.n != 1 || len(lost) != 1 || lost[0] != ids[3] {
		t.Fatalf("MarkSentBatch: %d statements, lost %v; want 1 statement, lost [%d] (b's row)", cq.n, lost, ids[3])
	}
	for i, id := range ids[:3] {
		rw := row(t, s.DB(), id)
		if rw.Status != "sent" || rw.SentAt == nil || !rw.SentAt.Equal(now.Add(time.Duration(i)*time.Second)) {
			t.Errorf("row %d = %+v", id, rw)
		}
	}
	if rw := row(t, s.DB(), ids[3]); rw.Status != "sending" {
		t.Errorf("b's row was touched: %+v", rw)
	}
	var decisions []string
	s.DB().Select(&decisions, `SELECT decision FROM messages WHERE direction = 'out' ORDER BY message_id`)
	if strings.Join(decisions, ",") != "sent,sent,sent," {
		t.Errorf("outbound message decisions = %q", decisions)
	}
}

// fakeSender calls onSend for each mail and records the Message-IDs.
type fakeSender struct {
	mu     sync.Mutex
	sent   []string
	onSend func()
}

func (f *fakeSender) Send(_ context.Context, _ string, _ []string, data []byte) error {
	f.onSend()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, string(data))
	return nil
}

func (f *fakeSender) Close() error { return nil }

func (f *fakeSender) count() int { f.mu.Lock(); defer f.mu.Unlock(); return len(f.sent) }

func TestDispatcher_RenewsTheLeaseOfALongBatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	c := &clock{now: time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC)}
	for i := range 6 {
		enqueue(t, s.DB(), fmt.Sprintf("long%d@example.com", i), "kim@acme.example", c.Now())
	}
	stolen := 0
	f := &fakeSender{}
	f.onSend = func() {
		c.Add(45 * time.Second) // six sends take longer than one lease
		if cs, err := helpdesk.ClaimOutboxBatch(ctx, s.DB(), "other", c.Now(), time.Minute, 10); err != nil || len(cs) > 0 {
			stolen += len(cs)
		}
	}
	d := newDispatcher(t, s, nil, c, func(cfg *helpdesk.DispatcherConfig) {
		cfg.NewSender = func() (helpdesk.MailSender, error) { return f, nil }
		cfg.Lease, cfg.SendTimeout = 2*time.Minute, time.Minute
	})
	runUntil(t, []*helpdesk.Dispatcher{d}, func() bool { return f.count() == 6 })
	var sent int
	s.DB().Get(&sent, `SELECT count(*) FROM outbox WHERE status = 'sent'`)
	if stolen != 0 || sent != 6 {
		t.Fatalf("another sender took %d rows of the batch; %d marked sent", stolen, sent)
	}
}

func TestDispatcher_ShutdownReturnsUntriedRowsToTheQueue(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	var ids []int64
	for i := range 5 {
		ids = append(ids, enqueue(t, s.DB(), fmt.Sprintf("stop%d@example.com", i), "kim@acme.example", time.Now()).ID)
	}
	ctx, cancel := context.WithCancel(context.Background())
	f := &fakeSender{onSend: cancel} // the daemon stops during the first send
	d := newDispatcher(t, s, nil, nil, func(cfg *helpdesk.DispatcherConfig) {
		cfg.NewSender = func() (helpdesk.MailSender, error) { return f, nil }
	})
	d.Run(ctx)
	if rw := row(t, s.DB(), ids[0]); f.count() != 1 || rw.Status != "sent" {
		t.Fatalf("%d sent; the send in flight: %+v", f.count(), rw)
	}
	for _, id := range ids[1:] {
		if rw := row(t, s.DB(), id); rw.Status != "queued" || rw.Attempts != 0 {
			t.Errorf("untried row %d = %+v, want queued with no attempt", id, rw)
		}
	}
}

// A crash mid-batch must leave in doubt only the row in flight: the rows
// already sent are marked while the batch goes on, so a restart does not
// send them again.
func TestDispatcher_RowsSentEarlierInABatchAreMarkedWhileItGoesOn(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	var ids []int64
	for i := range 6 {
		ids = append(ids, enqueue(t, s.DB(), fmt.Sprintf("mid%d@example.com", i), "kim@acme.example", time.Now()).ID)
	}
	inFlight, release := make(chan struct{}), make(chan struct{})
	f := &fakeSender{}
	f.onSend = func() {
		if f.count() == 3 { // the fourth send hangs, as if the process were about to die
			close(inFlight)
			<-release
		}
	}
	d := newDispatcher(t, s, nil, nil, func(cfg *helpdesk.DispatcherConfig) {
		cfg.NewSender = func() (helpdesk.MailSender, error) { return f, nil }
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); d.Run(ctx) }()
	defer func() { cancel(); <-done }()
	<-inFlight
	deadline := time.Now().Add(10 * time.Second)
	for {
		var marked int
		if err := s.DB().Get(&marked, `SELECT count(*) FROM outbox WHERE id = ANY($1) AND status = 'sent'`, pq.Array(ids[:3])); err != nil {
			t.Fatal(err)
		}
		if marked == 3 {
			break
		}
		if time.Now().After(deadline) {
			close(release)
			t.Fatalf("while the fourth row is being sent, %d of the three sent before it are marked sent; a crash now would send them again", marked)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if rw := row(t, s.DB(), ids[3]); rw.Status != "sending" {
		t.Errorf("the row in flight is %q, want sending", rw.Status)
	}
	close(release)
	deadline = time.Now().Add(10 * time.Second)
	for f.count() < 6 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	for _, id := range ids {
		if rw := row(t, s.DB(), id); rw.Status != "sent" || rw.Attempts != 1 {
			t.Errorf("row %d = %+v, want sent once", id, rw)
		}
	}
}
