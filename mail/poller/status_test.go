package poller

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/helpdesk/helpdesk/mail/mailtest"
)

func TestStatus_ServerDownAtStartIsRetriedUntilItComesUp(t *testing.T) {
	srv := newTestServer(t, capsMove, "none")
	srv.client().Close() // serving, so that stop closes the listener too
	srv.stop()           // down before the poller ever connects
	srv.appendMsg("INBOX", testMessage(1, ""))
	h := newFakeHandler()
	logs := &logRecorder{}
	p := newTestPoller(t, testConfig(srv, logs), h)
	if err := p.Check(time.Now()); err == nil || !strings.Contains(err.Error(), "not connected yet") {
		t.Fatalf("Check before the first attempt = %v", err)
	}
	start(t, p)

	mailtest.Wait(t, "several failed dials", func() bool { return len(logs.find("still failing")) >= 3 })
	st := p.Status()
	if st.Connected || !strings.Contains(st.LastError, "dial") || st.Since.IsZero() || !st.LastSuccess.IsZero() {
		t.Fatalf("status while the server is down = %+v", st)
	}
	if err := p.Check(time.Now()); err == nil || !strings.Contains(err.Error(), "dial") || !strings.Contains(err.Error(), "since") {
		t.Fatalf("Check while down = %v", err)
	}

	srv.start()
	mailtest.Wait(t, "delivery once the server is up", func() bool { return len(h.deliveredUIDs()) == 1 })
	mailtest.Wait(t, "connected status", func() bool { return p.Status().Connected })
	st = p.Status()
	if !st.Idle || st.LastError != "" || st.LastSuccess.IsZero() || st.Since.IsZero() {
		t.Fatalf("status once up = %+v", st)
	}
	if err := p.Check(time.Now()); err != nil {
		t.Fatalf("Check once up = %v", err)
	}
}

func TestStatus_WrongPasswordIsTheReason(t *testing.T) {
	srv := newTestServer(t, capsMove, "none")
	cfg := testConfig(srv, &logRecorder{})
	cfg.Password = "not the password"
	p := newTestPoller(t, cfg, newFakeHandler())
	start(t, p)
	mailtest.Wait(t, "a failed login", func() bool { return strings.Contains(p.Status().LastError, "authenticating as "+testUser) })
	if err := p.Check(time.Now()); err == nil || !strings.Contains(err.Error(), "authenticating as") {
		t.Fatalf("Check = %v", err)
	}
}

func TestStatus_ConnectionLostIsNotConnected(t *testing.T) {
	srv := newTestServer(t, capsMove, "none")
	proxy := newBlackHole(t, srv.addr, true) // no IDLE: polled
	cfg := testConfig(srv, &logRecorder{})
	cfg.Addr = proxy.addr()
	cfg.PollInterval = 50 * time.Millisecond
	p := newTestPoller(t, cfg, newFakeHandler())
	start(t, p)
	mailtest.Wait(t, "connected", func() bool { return p.Status().Connected })
	first := p.Status().LastSuccess
	mailtest.Wait(t, "a later round", func() bool { return p.Status().LastSuccess.After(first) })
	if st := p.Status(); st.Idle {
		t.Fatalf("Idle on a server without IDLE: %+v", st)
	}

	srv.stop()
	mailtest.Wait(t, "the loss noticed", func() bool { return !p.Status().Connected })
	st := p.Status()
	if st.LastError == "" || st.Since.Before(first) || st.LastSuccess.IsZero() {
		t.Fatalf("status after the loss = %+v", st)
	}
	if err := p.Check(time.Now()); err == nil {
		t.Fatal("Check is nil after the connection was lost")
	}
}

func TestCheck_ReadyOnlyWithinTheExpectedInterval(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name         string
		pollInterval time.Duration
		idle         bool
		age          time.Duration
		ready        bool
	}{
		{"just polled", time.Minute, false, 0, true},
		{"two intervals and a timeout ago", time.Minute, false, 2*time.Minute + 10*time.Second, true},
		{"longer ago", time.Minute, false, 2*time.Minute + 11*time.Second, false},
		{"idle: rechecked every 25 minutes at most", time.Hour, true, 50*time.Minute + 10*time.Second, true},
		{"idle, but the rechecks stopped", time.Hour, true, 51 * time.Minute, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := New(Config{Name: "support", Addr: "127.0.0.1:993", TLS: "none", Username: "u", Password: "p",
				PollInterval: tc.pollInterval, IOTimeout: 10 * time.Second}, newFakeHandler())
			if err != nil {
				t.Fatal(err)
			}
			p.status.ok(t0, tc.idle)
			err = p.Check(t0.Add(tc.age))
			if (err == nil) != tc.ready {
				t.Fatalf("Check = %v, want ready %v", err, tc.ready)
			}
			if err != nil && !strings.Contains(err.Error(), "no successful poll since 2026-03-01T09:00:00Z") {
				t.Fatalf("Check = %v", err)
			}
		})
	}
}

func TestStatus_IsSafeForConcurrentReaders(t *testing.T) {
	srv := newTestServer(t, capsMove, "none")
	cfg := testConfig(srv, &logRecorder{})
	cfg.PollInterval = 10 * time.Millisecond
	p := newTestPoller(t, cfg, newFakeHandler())
	stop := start(t, p)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				_ = p.Status()
				_ = p.Check(time.Now())
				time.Sleep(time.Millisecond)
			}
		}()
	}
	wg.Wait()
	stop()
}
