package poller

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// Status is what the poller last knew of its mailbox, for readiness checks.
type Status struct {
	Connected   bool      // the last round succeeded and the session is up
	Idle        bool      // the server has IDLE: new mail wakes the poller
	LastSuccess time.Time // end of the last successful round; zero: none yet
	LastError   string    // the latest failure; "" when connected
	ErrorKind   string    // ErrorKind of the latest failure: auth, tls, network, server or handler; "" when connected
	Since       time.Time // when the current state (connected, or failing) began
}

// Status returns the poller's current state. It is safe to call from any
// goroutine.
func (p *Poller) Status() Status {
	p.status.mu.Lock()
	defer p.status.mu.Unlock()
	return p.status.s
}

// Check reports whether the mailbox was polled successfully within its
// expected interval, measured at now: twice the time between rounds (the
// poll interval, or the IDLE safety-net recheck) plus one I/O timeout for the
// round itself. The error says why not, and since when.
func (p *Poller) Check(now time.Time) error {
	st := p.Status()
	maxAge := 2*min(p.cfg.PollInterval, maxIdle) + p.cfg.IOTimeout
	switch {
	case st.LastError != "":
		return fmt.Errorf("%s (since %s)", st.LastError, st.Since.UTC().Format(time.RFC3339))
	case st.LastSuccess.IsZero():
		return errors.New("not connected yet")
	case now.Sub(st.LastSuccess) > maxAge:
		return fmt.Errorf("no successful poll since %s (expected every %s)", st.LastSuccess.UTC().Format(time.RFC3339), min(p.cfg.PollInterval, maxIdle))
	}
	return nil
}

// status holds a Status behind a lock: the poller's goroutine writes it
// through health, readiness checks read it.
type status struct {
	mu sync.Mutex
	s  Status
}

// ok records a successful round. A nil status records nothing.
func (st *status) ok(now time.Time, idle bool) {
	if st == nil {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if !st.s.Connected {
		st.s.Since = now
	}
	st.s.Connected, st.s.Idle, st.s.LastSuccess, st.s.LastError, st.s.ErrorKind = true, idle, now, "", ""
}

// fail records a failed session; since is when the failure streak began.
func (st *status) fail(err error, kind string, since time.Time) {
	if st == nil {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	st.s.Connected, st.s.Idle, st.s.LastError, st.s.ErrorKind, st.s.Since = false, false, err.Error(), kind, since
}
