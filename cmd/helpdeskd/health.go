package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/helpdesk/helpdesk/cmd/helpdeskd/internal/redact"
	"github.com/helpdesk/helpdesk/helpdesk"
	"github.com/helpdesk/helpdesk/mail/poller"
)

// Waits between attempts to reach PostgreSQL at start: doubling from
// dbRetryMin to dbRetryMax, jittered. One attempt may take dbAttemptTimeout
// (a server that accepts and never answers).
const (
	dbRetryMin       = time.Second
	dbRetryMax       = time.Minute
	dbAttemptTimeout = 30 * time.Second
)

// openDatabase connects to the database at url with the pool, waiting for it with backoff
// while it does not answer: each failed attempt is logged at WARN with its
// number and the wait before the next, and told to ready. It returns nil, nil
// when ctx is done first.
func openDatabase(ctx context.Context, url string, pool helpdesk.PoolConfig, log *slog.Logger, ready *readiness) (*helpdesk.Store, error) {
	var since time.Time
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, dbAttemptTimeout)
		s, err := helpdesk.OpenWith(actx, url, pool)
		cancel()
		if err == nil {
			if attempt > 1 {
				log.Info("database reachable", "attempts", attempt, "after", time.Since(since).Round(time.Millisecond))
			}
			ready.setStore(s)
			return s, nil
		}
		if ctx.Err() != nil {
			return nil, nil
		}
		if attempt == 1 {
			since = time.Now()
		}
		ready.setDatabaseError(err, since)
		delay := retryDelay(attempt, dbRetryMin, dbRetryMax, rand.Float64())
		log.Warn("database unreachable; retrying", "attempt", attempt, "next_in", delay.Round(time.Millisecond), "err", err)
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, nil
		case <-t.C:
		}
	}
}

// retryDelay is the wait after failed attempt number attempt (1-based):
// doubling from lo up to hi, the upper half jittered by r in [0,1).
func retryDelay(attempt int, lo, hi time.Duration, r float64) time.Duration {
	d := hi
	if attempt < 1 {
		attempt = 1
	}
	if attempt < 32 {
		if v := lo << (attempt - 1); v > 0 && v < hi {
			d = v
		}
	}
	return d/2 + time.Duration(r*float64(d/2))
}

// readiness is what /readyz reports: whether the database answers and every
// mailbox was polled within its expected interval. It is filled in as serve
// starts: the database once connected, the mailboxes once their pollers
// exist. A nil *readiness records nothing (helpdeskd dev).
type readiness struct {
	redact *redact.Redactor

	mu        sync.Mutex
	store     *helpdesk.Store
	ingester  *helpdesk.Ingester // once the mail components are built
	dbErr     string             // the last failed attempt to connect at start
	dbSince   time.Time
	mailboxes []mailboxCheck

	obs observerOnce // the metrics, made on first use
}

// observer returns the daemon's metrics (see metrics.go); nil for a nil
// readiness, whose events are not counted.
func (r *readiness) observer() *observer {
	if r == nil {
		return nil
	}
	r.obs.once.Do(func() { r.obs.o = newObserver(r) })
	return r.obs.o
}

type mailboxCheck struct {
	key string // poller.Config.Key(), e.g. support/INBOX
	p   *poller.Poller
}

func (r *readiness) setStore(s *helpdesk.Store) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.store, r.dbErr = s, ""
}

func (r *readiness) setDatabaseError(err error, since time.Time) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.dbErr, r.dbSince = err.Error(), since
}

func (r *readiness) addMailbox(key string, p *poller.Poller) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.mailboxes = append(r.mailboxes, mailboxCheck{key: key, p: p})
}

// readyReport is the body of /readyz.
type readyReport struct {
	Ready  bool              `json:"ready"`
	Checks map[string]string `json:"checks"` // "ok" or why not
}

// check runs every check: a database ping (bounded by ctx) and each
// mailbox's poller status.
func (r *readiness) check(ctx context.Context, now time.Time) readyReport {
	r.mu.Lock()
	store, dbErr, dbSince := r.store, r.dbErr, r.dbSince
	mailboxes := append([]mailboxCheck(nil), r.mailboxes...)
	r.mu.Unlock()

	rep := readyReport{Ready: true, Checks: map[string]string{}}
	set := func(name string, err error) {
		if err == nil {
			rep.Checks[name] = "ok"
			return
		}
		rep.Ready = false
		rep.Checks[name] = r.redact.String(err.Error())
	}
	switch {
	case store != nil:
		set("database", store.DB().PingContext(ctx))
	case dbErr != "":
		set("database", fmt.Errorf("not connected: %s (since %s)", dbErr, dbSince.UTC().Format(time.RFC3339)))
	default:
		set("database", errors.New("not connected yet"))
	}
	if len(mailboxes) == 0 {
		set("mailboxes", errors.New("not started yet"))
	}
	for _, m := range mailboxes {
		set("mailbox "+m.key, m.p.Check(now))
	}
	return rep
}

// httpHandler serves /healthz (the process is up: always 200), /readyz
// (200 only when every check passes, else 503; JSON either way) and
// /metrics (Prometheus, see metrics.go).
func httpHandler(ready *readiness) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		rep := ready.check(ctx, time.Now())
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		if !rep.Ready {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rep)
	})
	mux.Handle("GET /metrics", ready.observer().handler(nil))
	return mux
}

// serveHTTP serves h on l until ctx is done.
func serveHTTP(ctx context.Context, l net.Listener, h http.Handler, log *slog.Logger) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	log.Info("health listener", "addr", l.Addr().String())
	stop := context.AfterFunc(ctx, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	})
	defer stop()
	if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
