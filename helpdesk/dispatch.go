package helpdesk

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	mathrand "math/rand/v2"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/lib/pq"
)

// MailSender sends one message; Close ends its connection.
type MailSender interface {
	Send(ctx context.Context, from string, to []string, data []byte) error
	Close() error
}

// DispatcherConfig configures a Dispatcher. Zero values take the defaults.
type DispatcherConfig struct {
	Workers     int                        // concurrent senders, each with its own connection (default 1)
	Batch       int                        // rows a sender claims at once (default 50)
	NewSender   func() (MailSender, error) // required
	IsPermanent func(error) bool           // required: 5xx-like errors that retrying cannot fix
	Lease       time.Duration              // how long a claimed row is ours (default 5m; longer than a send)
	SendTimeout time.Duration              // bound on one send (default 2m)
	MaxAttempts int                        // then the row fails (default 10)
	RetryBase   time.Duration              // first retry delay, doubled per attempt (default 1m)
	RetryMax    time.Duration              // cap of the retry delay (default 4h)
	ListenURL   string                     // database URL for LISTEN; empty: poll only
	Poll        time.Duration              // safety-net poll interval (default 30s)
	Owner       string                     // lease owner prefix (default host-pid-random)
	Now         func() time.Time           // clock (default time.Now)
	Logger      *slog.Logger               // default slog.Default()
	Rand        func() float64             // jitter source in [0,1) (default math/rand)
	// SuppressFor is how long a recipient the relay refused permanently at
	// RCPT gets no mail (default 30 days).
	SuppressFor time.Duration
}

// Dispatcher sends the outbox. Several dispatchers (in one or many daemons)
// may run against one database: a row is leased to one sender at a time, and
// an expired lease (a crashed sender) is taken over.
type Dispatcher struct {
	store *Store
	cfg   DispatcherConfig
	log   *slog.Logger
}

// NewDispatcher validates cfg and fills in defaults.
func NewDispatcher(s *Store, cfg DispatcherConfig) (*Dispatcher, error) {
	if s == nil || cfg.NewSender == nil || cfg.IsPermanent == nil {
		return nil, errors.New("dispatcher: store, NewSender and IsPermanent are required")
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 1
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 50
	}
	def(&cfg.SendTimeout, time.Minute)
	// Short leases: after a crash its rows are sent again within about 90s.
	def(&cfg.Lease, cfg.SendTimeout+30*time.Second)
	def(&cfg.RetryBase, time.Minute)
	def(&cfg.RetryMax, 4*time.Hour)
	def(&cfg.Poll, 30*time.Second)
	def(&cfg.SuppressFor, 30*24*time.Hour)
	if cfg.SendTimeout >= cfg.Lease {
		return nil, fmt.Errorf("dispatcher: send timeout %s must be shorter than the lease %s", cfg.SendTimeout, cfg.Lease)
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 10
	}
	if cfg.Owner == "" {
		host, _ := os.Hostname()
		var b [4]byte
		_, _ = rand.Read(b[:])
		cfg.Owner = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = mathrand.Float64
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Dispatcher{store: s, cfg: cfg, log: log.With("component", "dispatcher")}, nil
}

// RetryDelay is the wait before attempt+1 after attempt failed: exponential
// from base, capped at max, with ±20% jitter from r in [0,1).
func RetryDelay(attempt int, base, max time.Duration, r float64) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	d := float64(base) * math.Pow(2, float64(attempt-1))
	if d > float64(max) {
		d = float64(max)
	}
	return time.Duration(d * (0.8 + 0.4*r))
}

// Run sends due mail until ctx is done. A send in flight when ctx ends is
// finished (within the send timeout) and recorded, so nothing is sent twice
// because of a shutdown.
func (d *Dispatcher) Run(ctx context.Context) error {
	wakes := make([]chan struct{}, d.cfg.Workers)
	for i := range wakes {
		wakes[i] = make(chan struct{}, 1)
	}
	wakeAll := func() {
		for _, w := range wakes {
			select {
			case w <- struct{}{}:
			default:
			}
		}
	}
	var wg sync.WaitGroup
	if d.cfg.ListenURL != "" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.listen(ctx, wakeAll)
		}()
	}
	for i := range d.cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.worker(ctx, fmt.Sprintf("%s/%d", d.cfg.Owner, i), wakes[i])
		}()
	}
	wg.Wait()
	return nil
}

func (d *Dispatcher) listen(ctx context.Context, wake func()) {
	l := pq.NewListener(d.cfg.ListenURL, time.Second, time.Minute, func(ev pq.ListenerEventType, err error) {
		switch ev {
		case pq.ListenerEventConnectionAttemptFailed, pq.ListenerEventDisconnected:
			d.log.Warn("outbox listener lost its connection; polling meanwhile", "err", err)
		case pq.ListenerEventReconnected:
			d.log.Info("outbox listener reconnected")
			wake() // we may have missed notifications
		}
	})
	defer l.Close()
	if err := l.Listen(outboxChannel); err != nil {
		d.log.Warn("outbox LISTEN failed; polling only", "err", err)
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.Notify:
			wake()
		case <-time.After(90 * time.Second):
			go func() { _ = l.Ping() }()
		}
	}
}

func (d *Dispatcher) worker(ctx context.Context, owner string, wake <-chan struct{}) {
	var sender MailSender
	defer func() {
		if sender != nil {
			_ = sender.Close()
		}
	}()
	dbDown := false
	for ctx.Err() == nil {
		batch, err := ClaimOutboxBatch(ctx, d.store.db, owner, d.cfg.Now(), d.cfg.Lease, d.cfg.Batch)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if !dbDown {
				d.log.Error("cannot claim outbox rows; retrying", "err", err)
				dbDown = true
			}
			d.sleep(ctx, nil, 2*time.Second)
			continue
		}
		if dbDown {
			d.log.Info("outbox claims work again")
			dbDown = false
		}
		if len(batch) == 0 {
			d.sleep(ctx, wake, d.untilNextDue(ctx))
			continue
		}
		if sender == nil {
			if sender, err = d.cfg.NewSender(); err != nil {
				d.log.Error("cannot create sender", "err", err)
				sender = nil
			}
		}
		d.sendBatch(ctx, owner, sender, batch)
	}
}

// sendBatch sends claimed rows one after the other over one connection.
// Each success is handed to a recorder that marks it sent while the next
// row goes out (group commit), so a crash leaves only the rows of the last
// round trip in doubt, not the whole batch. Failures are recorded at once.
// When ctx ends, the send in flight is finished and recorded, and the rows
// not tried go back to the queue.
func (d *Dispatcher) sendBatch(ctx context.Context, owner string, sender MailSender, batch []Claimed) {
	bg := context.WithoutCancel(ctx)
	leaseUntil := d.cfg.Now().Add(d.cfg.Lease)
	rec := d.newSentRecorder(bg, owner)
	defer rec.close()
	for len(batch) > 0 {
		if ctx.Err() != nil {
			d.release(bg, owner, batch)
			return
		}
		// No send may outlive the lease, or another sender could take the
		// row; rows sent meanwhile are recorded before theirs expires.
		if now := d.cfg.Now(); now.Add(d.cfg.SendTimeout).After(leaseUntil) {
			rec.flush()
			leaseUntil = now.Add(d.cfg.Lease)
			if batch = d.renew(bg, owner, batch, leaseUntil); len(batch) == 0 {
				return
			}
		}
		c := batch[0]
		batch = batch[1:]
		err := errors.New("no sender")
		if sender != nil {
			sctx, cancel := context.WithTimeout(bg, d.cfg.SendTimeout)
			err = sender.Send(sctx, c.EnvelopeFrom, c.Recipients, c.Data)
			cancel()
		}
		if err == nil {
			rec.add(SentMail{ID: c.ID, At: d.cfg.Now()})
			continue
		}
		d.recordFailure(bg, owner, &c, err)
	}
}

// sentRecorder marks sent rows from a goroutine of its own: whatever was
// sent while the previous mark ran is marked by the next, in one statement.
type sentRecorder struct {
	d        *Dispatcher
	ctx      context.Context
	owner    string
	mu       sync.Mutex
	pending  []SentMail
	unmarked sync.WaitGroup // rows added and not yet marked
	wake     chan struct{}
	stop     chan struct{}
	exited   chan struct{}
}

func (d *Dispatcher) newSentRecorder(ctx context.Context, owner string) *sentRecorder {
	r := &sentRecorder{d: d, ctx: ctx, owner: owner, wake: make(chan struct{}, 1), stop: make(chan struct{}), exited: make(chan struct{})}
	go r.run()
	return r
}

func (r *sentRecorder) add(s SentMail) {
	r.unmarked.Add(1)
	r.mu.Lock()
	r.pending = append(r.pending, s)
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *sentRecorder) run() {
	defer close(r.exited)
	for {
		select {
		case <-r.wake:
			r.drain()
		case <-r.stop:
			r.drain()
			return
		}
	}
}

func (r *sentRecorder) drain() {
	for {
		r.mu.Lock()
		batch := r.pending
		r.pending = nil
		r.mu.Unlock()
		if len(batch) == 0 {
			return
		}
		r.d.recordSent(r.ctx, r.owner, batch)
		r.unmarked.Add(-len(batch))
	}
}

// flush waits until every row added so far is marked.
func (r *sentRecorder) flush() { r.unmarked.Wait() }

// close marks what is left and stops the goroutine.
func (r *sentRecorder) close() {
	close(r.stop)
	<-r.exited
}

// renew extends the lease of the rows left in batch and keeps those still ours.
func (d *Dispatcher) renew(ctx context.Context, owner string, batch []Claimed, until time.Time) []Claimed {
	kept, err := RenewOutboxLease(ctx, d.store.db, claimedIDs(batch), owner, until)
	if err != nil {
		// Not sending them is safe: they are sent again once the lease expires.
		d.log.Error("cannot renew outbox lease; leaving the rest of the batch", "err", err)
		return nil
	}
	return slices.DeleteFunc(batch, func(c Claimed) bool { return !slices.Contains(kept, c.ID) })
}

func (d *Dispatcher) release(ctx context.Context, owner string, batch []Claimed) {
	if err := ReleaseOutbox(ctx, d.store.db, claimedIDs(batch), owner); err != nil {
		d.log.Warn("cannot release unsent outbox rows; they are sent when their lease expires", "err", err)
	}
}

// recordSent marks sent rows in one statement.
func (d *Dispatcher) recordSent(ctx context.Context, owner string, sent []SentMail) {
	if len(sent) == 0 {
		return
	}
	d.record(sent[0].ID, func() error {
		lost, err := MarkSentBatch(ctx, d.store.db, owner, sent)
		if len(lost) > 0 {
			d.log.Warn("outbox rows sent after their lease was lost", "outbox_ids", lost)
		}
		return err
	})
}

// recordFailure records a failed send: a retry later, or a failure.
func (d *Dispatcher) recordFailure(ctx context.Context, owner string, c *Claimed, err error) {
	now := d.cfg.Now()
	var mark func() error
	switch {
	case d.cfg.IsPermanent(err):
		d.log.Warn("mail rejected permanently", "outbox_id", c.ID, "message_id", c.MessageID, "err", err)
		mark = func() error { return MarkFailed(ctx, d.store.db, c.ID, owner, err.Error()) }
		if rejected := permanentRejections(err); len(rejected) > 0 {
			// A 5xx at RCPT is a verified permanent failure: suppress (bounces.go).
			mark = func() error {
				return markRejected(ctx, d.store, c, owner, err.Error(), rejected, now, d.cfg.SuppressFor)
			}
		}
	case c.Attempts >= d.cfg.MaxAttempts:
		d.log.Warn("mail failed too often; giving up", "outbox_id", c.ID, "attempts", c.Attempts, "err", err)
		mark = func() error {
			return MarkFailed(ctx, d.store.db, c.ID, owner, fmt.Sprintf("gave up after %d attempts: %v", c.Attempts, err))
		}
	default:
		next := now.Add(RetryDelay(c.Attempts, d.cfg.RetryBase, d.cfg.RetryMax, d.cfg.Rand()))
		d.log.Info("mail deferred", "outbox_id", c.ID, "attempt", c.Attempts, "retry_at", next, "err", err)
		mark = func() error { return MarkRetry(ctx, d.store.db, c.ID, owner, next, err.Error()) }
	}
	d.record(c.ID, mark)
}

// record retries mark a few times: the mail may be out, and unrecorded it
// is sent again when the lease expires.
func (d *Dispatcher) record(id int64, mark func() error) {
	for i := 0; ; i++ {
		merr := mark()
		if merr == nil || errors.Is(merr, ErrLeaseLost) || i == 4 {
			if merr != nil {
				d.log.Error("cannot record outbox result", "outbox_id", id, "err", merr)
			}
			return
		}
		time.Sleep(time.Duration(i+1) * 500 * time.Millisecond)
	}
}

func claimedIDs(cs []Claimed) []int64 {
	ids := make([]int64, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	return ids
}

func (d *Dispatcher) untilNextDue(ctx context.Context) time.Duration {
	next, err := NextOutboxDue(ctx, d.store.db)
	if err != nil || next.IsZero() {
		return d.cfg.Poll
	}
	wait := next.Sub(d.cfg.Now())
	if wait < 10*time.Millisecond {
		wait = 10 * time.Millisecond
	}
	return min(wait, d.cfg.Poll)
}

func (d *Dispatcher) sleep(ctx context.Context, wake <-chan struct{}, dur time.Duration) {
	t := time.NewTimer(dur)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-wake:
	case <-t.C:
	}
}
