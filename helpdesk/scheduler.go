package helpdesk

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// schedulerLock is the advisory lock that makes one daemon at a time run the
// timers; the others skip the round.
const schedulerLock = 0x68656c71 // "helq"

// WaitingLock is the advisory lock of the pass deciding waiting replies
// (Ingester.ResolveWaiting): a long timer pass must not delay it.
const WaitingLock = 0x68656c77 // "helw"

// Scheduler runs a timer pass every Interval on at most one daemon at a time.
type Scheduler struct {
	store    *Store
	interval time.Duration
	pass     func(ctx context.Context, now time.Time) (int, error)
	lock     int64
	now      func() time.Time
	log      *slog.Logger
}

// NewScheduler runs pass every interval (default 1 minute) while this daemon
// holds the scheduler lock.
func NewScheduler(s *Store, interval time.Duration, pass func(ctx context.Context, now time.Time) (int, error), now func() time.Time, log *slog.Logger) *Scheduler {
	if interval <= 0 {
		interval = time.Minute
	}
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.Default()
	}
	return &Scheduler{store: s, interval: interval, pass: pass, lock: schedulerLock, now: now, log: log.With("component", "scheduler")}
}

// Run passes until ctx is done. A failed pass is logged and retried at the
// next interval.
func (s *Scheduler) Run(ctx context.Context) error {
	t := time.NewTicker(s.interval)
	defer t.Stop()
	failing := false
	for {
		n, ran, err := s.Once(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			if !failing {
				s.log.Error("timer pass failed; retrying every interval", "err", err)
			}
			failing = true
		case err == nil:
			if failing {
				s.log.Info("timer passes work again")
			}
			failing = false
			if ran && n > 0 {
				s.log.Info("timer pass", "cases", n)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// WithLock makes the scheduler take advisory lock key instead of the timer
// pass's, so that it runs beside the timers rather than taking turns.
func (s *Scheduler) WithLock(key int64) *Scheduler {
	s.lock = key
	return s
}

// Once runs one pass if no other daemon is running one; ran says whether it did.
func (s *Scheduler) Once(ctx context.Context) (n int, ran bool, err error) {
	conn, err := s.store.db.Conn(ctx)
	if err != nil {
		return 0, false, fmt.Errorf("scheduler: %w", mapErr(err))
	}
	defer conn.Close()
	var got bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1, hashtext(current_schema()))`, s.lock).Scan(&got); err != nil {
		return 0, false, fmt.Errorf("scheduler lock: %w", mapErr(err))
	}
	if !got {
		return 0, false, nil
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1, hashtext(current_schema()))`, s.lock) //nolint:errcheck
	n, err = s.pass(ctx, s.now())
	return n, true, err
}
