package poller

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/helpdesk/helpdesk/mail/mailtest"
)

// batchHandler is the fake Handler with DeliverBatch: each message of a
// batch goes through the fake's Deliver (check, commit, cursor), and the
// first temporary failure leaves the rest of the batch unattempted, as the
// contract says.
type batchHandler struct {
	*fakeHandler

	bmu      sync.Mutex
	batches  [][]uint32 // UIDs of each DeliverBatch call
	singles  int        // Deliver calls
	notBytes []uint32   // deliveries whose Body was not a *bytes.Reader
	// inBatch, if set, runs at the start of each DeliverBatch call.
	inBatch func(ds []Delivery)
}

func newBatchHandler() *batchHandler { return &batchHandler{fakeHandler: newFakeHandler()} }

func (h *batchHandler) Deliver(ctx context.Context, d Delivery) error {
	h.bmu.Lock()
	h.singles++
	h.bmu.Unlock()
	return h.fakeHandler.Deliver(ctx, d)
}

func (h *batchHandler) DeliverBatch(ctx context.Context, ds []Delivery) []error {
	h.bmu.Lock()
	var uids []uint32
	for _, d := range ds {
		uids = append(uids, d.UID)
		if _, ok := d.Body.(*bytes.Reader); !ok {
			h.notBytes = append(h.notBytes, d.UID)
		}
	}
	h.batches = append(h.batches, uids)
	in := h.inBatch
	h.bmu.Unlock()
	if in != nil {
		in(ds)
	}
	errs := make([]error, len(ds))
	for i, d := range ds {
		errs[i] = h.fakeHandler.Deliver(ctx, d)
		if errs[i] != nil && !IsPermanent(errs[i]) {
			for j := i + 1; j < len(ds); j++ {
				errs[j] = errors.New("not attempted: an earlier message failed")
			}
			break
		}
	}
	return errs
}

func (h *batchHandler) calls() (batches [][]uint32, singles int) {
	h.bmu.Lock()
	defer h.bmu.Unlock()
	if len(h.notBytes) > 0 {
		panic(fmt.Sprintf("UIDs %v were not delivered as bytes", h.notBytes))
	}
	return slices.Clone(h.batches), h.singles
}

func batchConfig(srv *testServer, logs *logRecorder, n int) Config {
	cfg := testConfig(srv, logs)
	cfg.DeliveryBatch = n
	return cfg
}

func uidRange(from, to uint32) []uint32 {
	var out []uint32
	for u := from; u <= to; u++ {
		out = append(out, u)
	}
	return out
}

func TestBatch_DeliversInUIDOrderInBatchesOfDeliveryBatch(t *testing.T) {
	srv := newTestServer(t, capsMove, "none")
	for i := 1; i <= 10; i++ {
		srv.appendMsg("INBOX", testMessage(i, ""))
	}
	h := newBatchHandler()
	cfg := batchConfig(srv, &logRecorder{}, 4)
	cfg.ProcessedMailbox = "Processed"
	start(t, newTestPoller(t, cfg, h))

	mailtest.Wait(t, "10 delivered and moved", func() bool {
		return len(h.deliveredUIDs()) >= 10 && srv.count("Processed") == 10
	})
	batches, singles := h.calls()
	want := [][]uint32{uidRange(1, 4), uidRange(5, 8), uidRange(9, 10)}
	if !slices.EqualFunc(batches, want, slices.Equal) || singles != 0 {
		t.Fatalf("batches %v and %d single deliveries, want %v and none", batches, singles, want)
	}
	for i, d := range h.deliveries() {
		if d.uid != uint32(i+1) || !bytes.Equal(d.body, testMessage(i+1, "")) || d.size != int64(len(d.body)) {
			t.Errorf("delivery %d: UID %d size %d body %q", i, d.uid, d.size, d.body)
		}
	}
	if c := h.cursor(); c.LastUID != 10 {
		t.Errorf("cursor %+v, want LastUID 10", c)
	}
	for id, flags := range srv.flags("Processed") {
		if slices.Contains(flags, imap.FlagSeen) {
			t.Errorf("%s was marked \\Seen", id)
		}
	}
}

func TestBatch_DeliveryBatchOfOneDeliversMessageByMessage(t *testing.T) {
	srv := newTestServer(t, capsMove, "none")
	for i := 1; i <= 3; i++ {
		srv.appendMsg("INBOX", testMessage(i, ""))
	}
	h := newBatchHandler()
	start(t, newTestPoller(t, batchConfig(srv, &logRecorder{}, 1), h))

	mailtest.Wait(t, "3 delivered", func() bool { return len(h.deliveredUIDs()) >= 3 })
	if batches, singles := h.calls(); len(batches) != 0 || singles != 3 {
		t.Errorf("batches %v and %d single deliveries, want none and 3", batches, singles)
	}
}

func TestBatch_PermanentFailureMidBatchSetsOnlyThatMessageAside(t *testing.T) {
	srv := newTestServer(t, capsMove, "none")
	for i := 1; i <= 5; i++ {
		extra := ""
		if i == 3 {
			extra = "X-Test: poison\r\n"
		}
		srv.appendMsg("INBOX", testMessage(i, extra))
	}
	h := newBatchHandler()
	h.check = func(d Delivery, body []byte) error {
		if bytes.Contains(body, []byte("X-Test: poison")) {
			return Permanent(errors.New("cannot parse"))
		}
		return nil
	}
	logs := &logRecorder{}
	cfg := batchConfig(srv, logs, 10)
	cfg.ProcessedMailbox, cfg.FailedMailbox = "Processed", "Failed"
	start(t, newTestPoller(t, cfg, h))

	mailtest.Wait(t, "all settled and moved", func() bool {
		return srv.count("Processed") == 4 && srv.count("Failed") == 1
	})
	if got := h.deliveredUIDs(); !slices.Equal(got, []uint32{1, 2, 4, 5}) {
		t.Errorf("delivered %v, want [1 2 4 5]", got)
	}
	if batches, _ := h.calls(); len(batches) != 1 {
		t.Errorf("batches %v, want one batch of the five", batches)
	}
	h.mu.Lock()
	failed := slices.Clone(h.failed)
	h.mu.Unlock()
	if len(failed) != 1 || failed[0].uid != 3 || !IsPermanent(failed[0].cause) {
		t.Errorf("failed %+v, want UID 3 with the handler's cause", failed)
	}
	if got := srv.messageIDs("Failed"); !slices.Equal(got, []string{"m3@customer.example"}) {
		t.Errorf("Failed holds %v", got)
	}
	if set := logs.find("message cannot be handled; setting it aside"); len(set) != 1 || set[0].attrs["uid"] != "3" {
		t.Errorf("setting aside logged as %+v, want once with uid 3", set)
	}
	if c := h.cursor(); c.LastUID != 5 {
		t.Errorf("cursor %+v, want LastUID 5 (Fail must not move it back)", c)
	}
}

func TestBatch_TemporaryFailureMidBatchRedeliversFromThatMessage(t *testing.T) {
	srv := newTestServer(t, capsMove, "none")
	for i := 1; i <= 6; i++ {
		srv.appendMsg("INBOX", testMessage(i, ""))
	}
	var failures atomic.Int32
	h := newBatchHandler()
	h.check = func(d Delivery, body []byte) error {
		if d.UID == 3 && failures.Add(1) <= 2 {
			return errors.New("could not serialize access")
		}
		return nil
	}
	logs := &logRecorder{}
	cfg := batchConfig(srv, logs, 10)
	cfg.ProcessedMailbox = "Processed"
	start(t, newTestPoller(t, cfg, h))

	mailtest.Wait(t, "all delivered and moved", func() bool {
		return len(h.deliveredUIDs()) >= 6 && srv.count("Processed") == 6
	})
	if got := h.deliveredUIDs(); !slices.Equal(got, uidRange(1, 6)) {
		t.Errorf("delivered %v, want each of 1..6 once, in order", got)
	}
	batches, _ := h.calls()
	want := [][]uint32{uidRange(1, 6), uidRange(3, 6), uidRange(3, 6)}
	if !slices.EqualFunc(batches, want, slices.Equal) {
		t.Errorf("batches %v, want %v: the retry starts at the failed message", batches, want)
	}
	if n := h.attemptsOf(4); n != 1 {
		t.Errorf("UID 4 attempted %d times, want once: it waits behind UID 3", n)
	}
	retries := logs.find("delivery failed temporarily; will retry")
	if len(retries) != 2 {
		t.Errorf("retry logged %d times, want 2", len(retries))
	}
	for _, r := range retries {
		if r.attrs["uid"] != "3" {
			t.Errorf("retry logged with uid %q, want 3", r.attrs["uid"])
		}
	}
}

func TestBatch_ByteBoundSendsALargeMessageAlone(t *testing.T) {
	srv := newTestServer(t, capsMove, "none")
	large := testMessage(3, "")
	large = append(large, bytes.Repeat([]byte("0123456789abcdef0123456789abcdef\r\n"), 100)...)
	for i := 1; i <= 5; i++ {
		raw := testMessage(i, "")
		if i == 3 {
			raw = large
		}
		srv.appendMsg("INBOX", raw)
	}
	h := newBatchHandler()
	cfg := batchConfig(srv, &logRecorder{}, 10)
	cfg.DeliveryBatchBytes = 1000 // three small messages fit; the large one (3.6 KB) does not
	start(t, newTestPoller(t, cfg, h))

	mailtest.Wait(t, "5 delivered", func() bool { return len(h.deliveredUIDs()) >= 5 })
	batches, _ := h.calls()
	want := [][]uint32{{1, 2}, {3}, {4, 5}}
	if !slices.EqualFunc(batches, want, slices.Equal) {
		t.Errorf("batches %v, want %v", batches, want)
	}
	if d := h.deliveries()[2]; !bytes.Equal(d.body, large) {
		t.Errorf("large message body differs (%d bytes, want %d)", len(d.body), len(large))
	}
}

func TestBatch_OversizedMessagesAreBatchedWithTheirHeaderOnly(t *testing.T) {
	srv := newTestServer(t, capsMove, "none")
	big := func(n int) []byte {
		return append(testMessage(n, ""), bytes.Repeat([]byte("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=\r\n"), 300)...)
	}
	srv.appendMsg("INBOX", testMessage(1, ""))
	srv.appendMsg("INBOX", big(2))
	srv.appendMsg("INBOX", big(3))
	srv.appendMsg("INBOX", testMessage(4, ""))
	h := newBatchHandler()
	cfg := batchConfig(srv, &logRecorder{}, 10)
	cfg.MaxMessageBytes = 4096
	start(t, newTestPoller(t, cfg, h))

	mailtest.Wait(t, "4 delivered", func() bool { return len(h.deliveredUIDs()) >= 4 })
	batches, _ := h.calls()
	if want := [][]uint32{{1}, {2, 3}, {4}}; !slices.EqualFunc(batches, want, slices.Equal) {
		t.Errorf("batches %v, want %v: one FETCH gets whole messages or headers", batches, want)
	}
	for _, d := range h.deliveries()[1:3] {
		raw := big(int(d.uid))
		header := raw[:bytes.Index(raw, []byte("\r\n\r\n"))+4]
		if !d.oversized || d.size != int64(len(raw)) || !bytes.Equal(d.body, header) {
			t.Errorf("UID %d: Oversized %v Size %d body %q, want the header only", d.uid, d.oversized, d.size, d.body)
		}
	}
}

func TestBatch_ConnectionDropWhileReadingABatchLosesNothing(t *testing.T) {
	srv := newTestServer(t, capsMove, "none")
	const size = 20 << 10
	raw := func(n int) []byte {
		m := testMessage(n, "")
		return append(m, bytes.Repeat([]byte("x"), size-len(m)-2)...)
	}
	for i := 1; i <= 8; i++ {
		srv.appendMsg("INBOX", append(raw(i), "\r\n"...))
	}
	// The first connection dies inside UID 6, after the first batch
	// (UIDs 1-4) was read and while the second is being read.
	cut := newCutProxy(t, srv.addr, 5*size+size/2)
	h := newBatchHandler()
	logs := &logRecorder{}
	cfg := batchConfig(srv, logs, 4)
	cfg.Addr = cut.addr()
	cfg.ProcessedMailbox = "Processed"
	start(t, newTestPoller(t, cfg, h))

	mailtest.Wait(t, "8 delivered and moved", func() bool {
		return len(h.deliveredUIDs()) >= 8 && srv.count("Processed") == 8
	})
	if !cut.done.Load() {
		t.Fatal("the connection was never cut")
	}
	if got := h.deliveredUIDs(); !slices.Equal(got, uidRange(1, 8)) {
		t.Errorf("delivered %v, want each of 1..8 once, in order", got)
	}
	for _, d := range h.deliveries() {
		if !bytes.Equal(d.body, append(raw(int(d.uid)), "\r\n"...)) {
			t.Errorf("UID %d: body of %d bytes differs from the %d appended", d.uid, len(d.body), size)
		}
	}
	batches, _ := h.calls()
	if want := [][]uint32{uidRange(1, 4), uidRange(5, 8)}; !slices.EqualFunc(batches, want, slices.Equal) {
		t.Errorf("batches %v, want %v", batches, want)
	}
	// The first round never completed: the drop is told as unreachable.
	if lost := logs.find("mailbox unreachable"); len(lost) != 1 || !strings.Contains(lost[0].attrs["err"], "unexpected EOF") {
		t.Errorf("the drop was logged as %+v, want once, as a truncated body", lost)
	}
	if n := srv.count("INBOX"); n != 0 {
		t.Errorf("INBOX has %d messages, want 0", n)
	}
}

func TestBatch_ShutdownFinishesTheBatchInHand(t *testing.T) {
	srv := newTestServer(t, capsMove, "none")
	for i := 1; i <= 4; i++ {
		srv.appendMsg("INBOX", testMessage(i, ""))
	}
	h := newBatchHandler()
	inHand, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	h.inBatch = func([]Delivery) {
		once.Do(func() { close(inHand) })
		<-release
	}
	cfg := batchConfig(srv, &logRecorder{}, 2)
	cfg.DrainTimeout = 5 * time.Second
	p := newTestPoller(t, cfg, h)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	select {
	case <-inHand:
	case <-time.After(15 * time.Second):
		t.Fatal("no batch started")
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
	if got := h.deliveredUIDs(); !slices.Equal(got, []uint32{1, 2}) {
		t.Fatalf("delivered %v, want the batch in hand [1 2] and no other", got)
	}
}
