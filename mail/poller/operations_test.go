package poller

import (
	"bytes"
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/helpdesk/helpdesk/mail/mailtest"
)

// tap is a TCP proxy in front of the test server that records what the
// client sends.
type tap struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	sent   bytes.Buffer
}

func newTap(t *testing.T, target string) *tap {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tp := &tap{ln: ln, target: target}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go tp.relay(c)
		}
	}()
	return tp
}

func (tp *tap) relay(c net.Conn) {
	defer c.Close()
	s, err := net.Dial("tcp", tp.target)
	if err != nil {
		return
	}
	defer s.Close()
	go func() { _, _ = io.Copy(c, s); c.Close() }()
	_, _ = io.Copy(io.MultiWriter(tp, s), c) // recorded before the server sees it
}

func (tp *tap) Write(b []byte) (int, error) {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return tp.sent.Write(b)
}

func (tp *tap) commands() string {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return tp.sent.String()
}

// At shutdown the poller ends IDLE and logs out of the server instead of
// dropping the connection.
func TestPoller_ShutdownEndsIdleAndLogsOut(t *testing.T) {
	srv := newTestServer(t, capsMove, "none")
	tp := newTap(t, srv.addr)
	h := newFakeHandler()
	cfg := testConfig(srv, &logRecorder{})
	cfg.Addr = tp.ln.Addr().String()
	p := newTestPoller(t, cfg, h)
	idling := make(chan struct{}, 10)
	p.onIdle = func() { idling <- struct{}{} }
	stop := start(t, p)
	select {
	case <-idling:
	case <-time.After(15 * time.Second):
		t.Fatal("poller never entered IDLE")
	}
	stop()
	sent := tp.commands()
	if !strings.Contains(sent, "DONE\r\n") || !strings.Contains(strings.ToUpper(sent), " LOGOUT\r\n") {
		t.Fatalf("client did not end IDLE and log out; it sent:\n%s", sent)
	}
}

// A message in hand when shutdown begins is still committed: the Handler's
// context outlives Run's by the drain time.
func TestPoller_ShutdownFinishesTheMessageInHand(t *testing.T) {
	srv := newTestServer(t, capsMove, "none")
	h := newFakeHandler()
	cfg := testConfig(srv, &logRecorder{})
	cfg.DrainTimeout = 5 * time.Second
	p := newTestPoller(t, cfg, h)
	inHand := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	h.check = func(d Delivery, body []byte) error {
		once.Do(func() { close(inHand) })
		<-release
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	srv.appendMsg("INBOX", testMessage(1, ""))
	srv.appendMsg("INBOX", testMessage(2, ""))
	select {
	case <-inHand:
	case <-time.After(15 * time.Second):
		t.Fatal("no delivery started")
	}
	cancel()
	time.Sleep(100 * time.Millisecond) // shutdown has begun
	close(release)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return within the drain time")
	}
	if got := h.deliveredUIDs(); len(got) != 1 || got[0] != 1 {
		t.Fatalf("delivered %v, want the message in hand [1] and no other", got)
	}
}

// Failures are told apart by kind, for metrics and alarms: refused
// credentials, a TLS failure, an unreachable server.
func TestPoller_ErrorKinds(t *testing.T) {
	srv := newTestServer(t, capsMove, "none")
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close()
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"wrong password", func(c *Config) { c.Password = "wrong" }, KindAuth},
		{"TLS to a plaintext server", func(c *Config) { c.TLS = "tls" }, KindTLS},
		{"nothing listening", func(c *Config) { c.Addr = closedAddr }, KindNetwork},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(srv, &logRecorder{})
			tc.edit(&cfg)
			var mu sync.Mutex
			var kinds []string
			cfg.OnError = func(k string) { mu.Lock(); kinds = append(kinds, k); mu.Unlock() }
			p := newTestPoller(t, cfg, newFakeHandler())
			start(t, p)
			// The status is set before OnError runs: wait for both.
			mailtest.Wait(t, "a failure", func() bool {
				mu.Lock()
				defer mu.Unlock()
				return p.Status().ErrorKind != "" && len(kinds) > 0
			})
			if k := p.Status().ErrorKind; k != tc.want {
				t.Fatalf("kind %q (%s), want %q", k, p.Status().LastError, tc.want)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(kinds) == 0 || kinds[0] != tc.want {
				t.Fatalf("OnError got %v, want %q", kinds, tc.want)
			}
		})
	}
}
