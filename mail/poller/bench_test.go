package poller

import (
	"context"
	"fmt"
	"io"
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
	for _, bc := range []struct {
		name      string
		processed string
	}{
		{"left in place", ""},
		{"moved to Processed", "Processed"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			benchPoller(b, 5000, func(c *Config) { c.ProcessedMailbox = bc.processed }, func(h *nopHandler) Handler { return h })
		})
	}
}

// costHandler stands for an ingester paying a fixed cost per call (one
// database transaction) on top of reading the bodies.
type costHandler struct {
	*nopHandler
	commit time.Duration
}

func (h costHandler) Deliver(ctx context.Context, d Delivery) error {
	if _, err := io.Copy(io.Discard, d.Body); err != nil {
		return err
	}
	time.Sleep(h.commit)
	return h.nopHandler.Deliver(ctx, d)
}

func (h costHandler) DeliverBatch(ctx context.Context, ds []Delivery) []error {
	errs := make([]error, len(ds))
	time.Sleep(h.commit)
	for i, d := range ds {
		if _, err := io.Copy(io.Discard, d.Body); err != nil {
			errs[i] = err
			continue
		}
		errs[i] = h.nopHandler.Deliver(ctx, d)
	}
	return errs
}

// BenchmarkPoller_EachVsBatch compares message-by-message delivery with
// batches of 64, with a free handler and with one costing 200µs per call.
func BenchmarkPoller_EachVsBatch(b *testing.B) {
	for _, commit := range []time.Duration{0, 200 * time.Microsecond} {
		for _, batch := range []int{1, 64} {
			b.Run(fmt.Sprintf("commit=%v/batch=%d", commit, batch), func(b *testing.B) {
				benchPoller(b, 2000, func(c *Config) { c.DeliveryBatch, c.ProcessedMailbox = batch, "Processed" },
					func(h *nopHandler) Handler { return costHandler{nopHandler: h, commit: commit} })
			})
		}
	}
}

// benchPoller reports messages/s for n small messages through a poller
// configured by mut into the Handler wrap makes of a counting nopHandler.
func benchPoller(b *testing.B, n int, mut func(*Config), wrap func(*nopHandler) Handler) {
	var elapsed time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		srv := newTestServer(b, capsMove, "none")
		for j := 1; j <= n; j++ {
			srv.appendMsg("INBOX", testMessage(j, ""))
		}
		h := &nopHandler{target: n, done: make(chan struct{})}
		cfg := testConfig(srv, &logRecorder{})
		mut(&cfg)
		p := newTestPoller(b, cfg, wrap(h))
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
}
