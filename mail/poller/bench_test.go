package poller

import (
	"context"
	"sync"
	"testing"
	"time"
)

// nopHandler commits nothing but the cursor and reads no body: the poller
// drains it.
type nopHandler struct {
	mu     sync.Mutex
	cur    Cursor
	n      int
	target int
	done   chan struct{}
}

func (h *nopHandler) Cursor(context.Context, string) (Cursor, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.cur, nil
}

func (h *nopHandler) Deliver(_ context.Context, d Delivery) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.cur = Cursor{UIDValidity: d.UIDValidity, LastUID: d.UID}
	h.n++
	if h.n == h.target {
		close(h.done)
	}
	return nil
}

func (h *nopHandler) Fail(context.Context, Delivery, error) error { return nil }

func (h *nopHandler) ResetCursor(_ context.Context, _ string, v uint32) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.cur = Cursor{UIDValidity: v}
	return nil
}

// BenchmarkPoller_5000SmallMessages measures messages/s from the in-process
// IMAP server through the poller into a no-op handler.
func BenchmarkPoller_5000SmallMessages(b *testing.B) {
	const n = 5000
	for _, bc := range []struct {
		name      string
		processed string
	}{
		{"left in place", ""},
		{"moved to Processed", "Processed"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var elapsed time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				srv := newTestServer(b, capsMove, "none")
				for j := 1; j <= n; j++ {
					srv.appendMsg("INBOX", testMessage(j, ""))
				}
				h := &nopHandler{target: n, done: make(chan struct{})}
				cfg := testConfig(srv, &logRecorder{})
				cfg.ProcessedMailbox = bc.processed
				p := newTestPoller(b, cfg, h)
				ctx, cancel := context.WithCancel(context.Background())
				ran := make(chan struct{})
				b.StartTimer()

				t0 := time.Now()
				go func() { p.Run(ctx); close(ran) }()
				select {
				case <-h.done:
				case <-time.After(5 * time.Minute):
					b.Fatal("timed out")
				}
				elapsed += time.Since(t0)

				b.StopTimer()
				cancel()
				<-ran
				srv.stop()
				b.StartTimer()
			}
			b.ReportMetric(float64(n*b.N)/elapsed.Seconds(), "msgs/s")
		})
	}
}
