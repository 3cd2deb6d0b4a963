package poller

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/helpdesk/helpdesk/mail/mailtest"
	"github.com/helpdesk/helpdesk/mail/xoauth2"
)

func TestPoller_NewMailIsDeliveredOnceInUIDOrderByteForByte(t *testing.T) {
	srv := newTestServer(t, capsMove, "none")
	raws := [][]byte{readTestdata(t, "plain.eml"), readTestdata(t, "ks_c_5601-1987.eml"), testMessage(3, "")}
	for _, raw := range raws {
		srv.appendMsg("INBOX", raw)
	}
	h := newFakeHandler()
	logs := &logRecorder{}
	start(t, newTestPoller(t, testConfig(srv, logs), h))

	mailtest.Wait(t, "3 deliveries", func() bool { return len(h.deliveredUIDs()) >= 3 })
	// Give a wrongly repeated delivery the chance to happen.
	srv.appendMsg("INBOX", testMessage(4, ""))
	mailtest.Wait(t, "4th delivery", func() bool { return len(h.deliveredUIDs()) >= 4 })

	ds := h.deliveries()
	if got := h.deliveredUIDs(); !slices.Equal(got, []uint32{1, 2, 3, 4}) {
		t.Fatalf("delivered UIDs %v, want [1 2 3 4]", got)
	}
	for i, raw := range raws {
		d := ds[i]
		if !bytes.Equal(d.body, raw) {
			t.Errorf("UID %d: body differs from the appended bytes:\n%q\nwant\n%q", d.uid, d.body, raw)
		}
		if d.size != int64(len(raw)) || d.oversized {
			t.Errorf("UID %d: size %d oversized %v, want %d false", d.uid, d.size, d.oversized, len(raw))
		}
		if d.date.IsZero() || d.validity == 0 {
			t.Errorf("UID %d: internal date %v, UIDVALIDITY %d", d.uid, d.date, d.validity)
		}
	}
	if c := h.cursor(); c.LastUID != 4 {
		t.Errorf("cursor %+v, want LastUID 4", c)
	}
	// BODY.PEEK: nothing was marked \Seen.
	for id, flags := range srv.flags("INBOX") {
		if slices.Contains(flags, imap.FlagSeen) {
			t.Errorf("%s was marked \\Seen", id)
		}
	}
	if n := len(logs.find("mailbox connected")); n != 1 {
		t.Errorf("logged %q %d times, want once", "mailbox connected", n)
	}
}

func TestPoller_RestartDoesNotRedeliverCommittedUIDs(t *testing.T) {
	srv := newTestServer(t, capsMove, "none")
	srv.appendMsg("INBOX", testMessage(1, ""))
	srv.appendMsg("INBOX", testMessage(2, ""))
	h := newFakeHandler()
	logs := &logRecorder{}
	cfg := testConfig(srv, logs) // no Processed folder: messages stay in INBOX

	stop := start(t, newTestPoller(t, cfg, h))
	mailtest.Wait(t, "2 deliveries", func() bool { return len(h.deliveredUIDs()) >= 2 })
	stop()

	// Restarted with the same stored cursor: "3:*" answers with UID 2
	// while nothing is new; it must not be delivered again.
	stop = start(t, newTestPoller(t, cfg, h))
	mailtest.Wait(t, "second poller connected", func() bool { return len(logs.find("mailbox connected")) == 2 })
	srv.appendMsg("INBOX", testMessage(3, ""))
	mailtest.Wait(t, "3rd delivery", func() bool { return len(h.deliveredUIDs()) >= 3 })
	stop()

	if got := h.deliveredUIDs(); !slices.Equal(got, []uint32{1, 2, 3}) {
		t.Fatalf("delivered UIDs %v, want [1 2 3]", got)
	}
	if srv.count("INBOX") != 3 {
		t.Errorf("INBOX has %d messages, want 3 left in place", srv.count("INBOX"))
	}
}

func TestPoller_UIDValidityChangeResetsCursorAndRedelivers(t *testing.T) {
	srv := newTestServer(t, capsMove, "none")
	srv.appendMsg("INBOX", testMessage(1, ""))
	srv.appendMsg("INBOX", testMessage(2, ""))
	h := newFakeHandler()
	logs := &logRecorder{}
	cfg := testConfig(srv, logs)

	stop := start(t, newTestPoller(t, cfg, h))
	mailtest.Wait(t, "2 deliveries", func() bool { return len(h.deliveredUIDs()) >= 2 })
	stop()
	old := h.cursor()

	// The mailbox is rebuilt (as after a server migration): same
	// messages, new UIDVALIDITY, UIDs starting again at 1.
	if err := srv.user.Delete("INBOX"); err != nil {
		t.Fatal(err)
	}
	if err := srv.user.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		srv.appendMsg("INBOX", testMessage(i, ""))
	}

	start(t, newTestPoller(t, cfg, h))
	mailtest.Wait(t, "rescan", func() bool { return len(h.deliveredUIDs()) >= 5 })

	h.mu.Lock()
	resets := slices.Clone(h.resets)
	h.mu.Unlock()
	if len(resets) != 2 || resets[1].UIDValidity == old.UIDValidity || resets[1].LastUID != 0 {
		t.Fatalf("resets %+v, want a second reset to a new UIDVALIDITY (old %d)", resets, old.UIDValidity)
	}
	ds := h.deliveries()[2:]
	for i, d := range ds {
		if d.validity != resets[1].UIDValidity || d.uid != uint32(i+1) {
			t.Errorf("redelivery %d: validity %d UID %d, want %d %d", i, d.validity, d.uid, resets[1].UIDValidity, i+1)
		}
		if !bytes.Equal(d.body, testMessage(i+1, "")) {
			t.Errorf("redelivery %d: wrong body", i)
		}
	}
	if n := len(logs.find("UIDVALIDITY changed; rescanning the mailbox")); n != 1 {
		t.Errorf("UIDVALIDITY change logged %d times, want once", n)
	}
}

func TestPoller_PoisonMessageGoesToFailedAndNextIsDelivered(t *testing.T) {
	srv := newTestServer(t, capsMove, "none")
	srv.appendMsg("INBOX", testMessage(1, ""))
	srv.appendMsg("INBOX", testMessage(2, "X-Test: poison\r\n"))
	srv.appendMsg("INBOX", testMessage(3, ""))
	h := newFakeHandler()
	h.check = func(d Delivery, body []byte) error {
		if bytes.Contains(body, []byte("X-Test: poison")) {
			return Permanent(errors.New("cannot parse"))
		}
		return nil
	}
	logs := &logRecorder{}
	cfg := testConfig(srv, logs)
	cfg.ProcessedMailbox, cfg.FailedMailbox = "Processed", "Failed"
	start(t, newTestPoller(t, cfg, h))

	mailtest.Wait(t, "all settled and moved", func() bool {
		return srv.count("Processed") == 2 && srv.count("Failed") == 1
	})
	if set := logs.find("message cannot be handled; setting it aside"); len(set) != 1 || set[0].level != slog.LevelError || set[0].attrs["uid"] != "2" {
		t.Errorf("the Failed move logged as %+v, want once at ERROR with uid 2", set)
	}
	if got := h.deliveredUIDs(); !slices.Equal(got, []uint32{1, 3}) {
		t.Errorf("delivered %v, want [1 3]", got)
	}
	h.mu.Lock()
	failed := slices.Clone(h.failed)
	h.mu.Unlock()
	if len(failed) != 1 || failed[0].uid != 2 || !IsPermanent(failed[0].cause) || !strings.Contains(failed[0].cause.Error(), "cannot parse") {
		t.Errorf("failed %+v, want UID 2 with the handler's cause", failed)
	}
	if got := srv.messageIDs("Failed"); !slices.Equal(got, []string{"m2@customer.example"}) {
		t.Errorf("Failed holds %v", got)
	}
	if n := srv.count("INBOX"); n != 0 {
		t.Errorf("INBOX still has %d messages", n)
	}
	if c := h.cursor(); c.LastUID != 3 {
		t.Errorf("cursor %+v, want LastUID 3", c)
	}
}

func TestPoller_MessageExpungedBeforeItsFetchIsSkippedNotStuck(t *testing.T) {
	srv := newTestServer(t, capsMove, "none")
	for i := 1; i <= 3; i++ {
		srv.appendMsg("INBOX", testMessage(i, ""))
	}
	h := newFakeHandler()
	// While UID 1 is being handled, another client deletes UID 2, which
	// the poller has already listed.
	h.check = func(d Delivery, body []byte) error {
		if d.UID != 1 {
			return nil
		}
		c := srv.client()
		defer c.Close()
		if _, err := c.Select("INBOX", nil).Wait(); err != nil {
			return err
		}
		uid2 := imap.UIDSetNum(2)
		if err := c.Store(uid2, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
			return err
		}
		return c.UIDExpunge(uid2).Close()
	}
	logs := &logRecorder{}
	cfg := testConfig(srv, logs)
	cfg.BatchSize = 1 // UID 2 gets a FETCH of its own, after the expunge
	start(t, newTestPoller(t, cfg, h))

	mailtest.Wait(t, "UID 3 delivered", func() bool { return len(h.deliveredUIDs()) == 2 })
	if got := h.deliveredUIDs(); !slices.Equal(got, []uint32{1, 3}) {
		t.Errorf("delivered %v, want [1 3]", got)
	}
	h.mu.Lock()
	nfailed := len(h.failed)
	h.mu.Unlock()
	if nfailed != 0 {
		t.Errorf("%d messages recorded as failed, want none: UID 2 is simply gone", nfailed)
	}
	if n := len(logs.find("message vanished before it was fetched")); n != 1 {
		t.Errorf("vanished message logged %d times, want once", n)
	}
}

func TestPoller_TemporaryFailureStopsBatchUntilHandlerRecovers(t *testing.T) {
	srv := newTestServer(t, capsMove, "none")
	srv.appendMsg("INBOX", testMessage(1, ""))
	var dbDown atomic.Bool
	h := newFakeHandler()
	h.check = func(d Delivery, body []byte) error {
		if d.UID == 2 && dbDown.Load() {
			return errors.New("dial tcp 127.0.0.1:5432: connection refused")
		}
		return nil
	}
	logs := &logRecorder{}
	cfg := testConfig(srv, logs)
	cfg.ProcessedMailbox = "Processed"
	start(t, newTestPoller(t, cfg, h))
	mailtest.Wait(t, "first delivery", func() bool { return len(h.deliveredUIDs()) == 1 })

	dbDown.Store(true)
	srv.appendMsg("INBOX", testMessage(2, ""))
	srv.appendMsg("INBOX", testMessage(3, ""))

	mailtest.Wait(t, "several retries of UID 2", func() bool { return h.attemptsOf(2) >= 3 })
	if got := h.deliveredUIDs(); !slices.Equal(got, []uint32{1}) {
		t.Fatalf("while failing: delivered %v, want [1]", got)
	}
	if c := h.cursor(); c.LastUID != 1 {
		t.Fatalf("while failing: cursor %+v, want LastUID 1", c)
	}
	if n := h.attemptsOf(3); n != 0 {
		t.Fatalf("UID 3 was attempted %d times behind a failing UID 2", n)
	}

	dbDown.Store(false)
	mailtest.Wait(t, "recovery", func() bool { return len(h.deliveredUIDs()) >= 3 })
	mailtest.Wait(t, "moves", func() bool { return srv.count("Processed") == 3 })
	if got := h.deliveredUIDs(); !slices.Equal(got, []uint32{1, 2, 3}) {
		t.Errorf("delivered %v, want [1 2 3]", got)
	}
	// Every retry of the message is logged at WARN, naming its UID.
	retries := logs.find("delivery failed temporarily; will retry")
	if len(retries) < 3 {
		t.Errorf("temporary failure logged %d times, want once per retry (at least 3)", len(retries))
	}
	for _, r := range retries {
		if r.level != slog.LevelWarn || r.attrs["uid"] != "2" {
			t.Errorf("retry logged as %v with uid %q, want WARN with uid 2", r.level, r.attrs["uid"])
		}
	}
	// Recovery is logged once, when the round that moved the mail ends; on a
	// loaded machine a connection may also have dropped meanwhile, and then
	// it is told as a reconnection.
	recovered := func() int { return len(logs.find("delivery recovered")) + len(logs.find("mailbox reconnected")) }
	mailtest.Wait(t, "recovery logged", func() bool { return recovered() >= 1 })
	if n := recovered(); n != 1 {
		t.Errorf("recovery logged %d times, want once", n)
	}
}

func TestPoller_KillBetweenCommitAndMoveDoesNotRedeliver(t *testing.T) {
	srv := newTestServer(t, capsMove, "none")
	srv.appendMsg("INBOX", testMessage(1, ""))
	srv.appendMsg("INBOX", testMessage(2, ""))
	h := newFakeHandler()
	cfg := testConfig(srv, &logRecorder{})
	cfg.ProcessedMailbox = "Processed"

	// The process dies right after UID 1 is committed.
	ctx, kill := context.WithCancel(context.Background())
	h.afterCommit = func(d Delivery) {
		if d.UID == 1 {
			kill()
		}
	}
	if err := newTestPoller(t, cfg, h).Run(ctx); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := h.deliveredUIDs(); !slices.Equal(got, []uint32{1}) {
		t.Fatalf("before restart: delivered %v, want [1]", got)
	}
	if n := srv.count("INBOX"); n != 2 {
		t.Fatalf("before restart: INBOX has %d messages, want 2 (UID 1 committed, not moved)", n)
	}

	h.afterCommit = nil
	start(t, newTestPoller(t, cfg, h))
	mailtest.Wait(t, "UID 2 and both moved", func() bool {
		return len(h.deliveredUIDs()) >= 2 && srv.count("Processed") == 2
	})
	if got := h.deliveredUIDs(); !slices.Equal(got, []uint32{1, 2}) {
		t.Errorf("delivered %v, want [1 2]: UID 1 must not come again", got)
	}
	if n := srv.count("INBOX"); n != 0 {
		t.Errorf("INBOX has %d messages, want 0 (the committed leftover is moved on restart)", n)
	}
}

func TestPoller_MovesCommittedMessagesWithoutPlainExpunge(t *testing.T) {
	tests := []struct {
		name          string
		caps          imap.CapSet
		wantInbox     int
		wantCopyWarns int
	}{
		{"MOVE", capsMove, 0, 0},
		{"UIDPLUS without MOVE: COPY, STORE, UID EXPUNGE", capsUIDPlus, 0, 0},
		{"neither: copied and left in place", capsNoUIDExt, 2, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTestServer(t, tt.caps, "none")
			srv.appendMsg("INBOX", testMessage(1, ""))
			srv.appendMsg("INBOX", testMessage(2, ""))
			h := newFakeHandler()
			logs := &logRecorder{}
			cfg := testConfig(srv, logs)
			cfg.ProcessedMailbox = "Processed"
			start(t, newTestPoller(t, cfg, h))

			mailtest.Wait(t, "copies in Processed", func() bool { return srv.count("Processed") == 2 })
			mailtest.Wait(t, "INBOX settled", func() bool { return srv.count("INBOX") == tt.wantInbox })
			srv.appendMsg("INBOX", testMessage(3, ""))
			mailtest.Wait(t, "third copy", func() bool { return srv.count("Processed") == 3 })
			if got := h.deliveredUIDs(); !slices.Equal(got, []uint32{1, 2, 3}) {
				t.Errorf("delivered %v", got)
			}
			if n := len(logs.find("server has neither MOVE nor UIDPLUS; copying messages and leaving them in place")); n != tt.wantCopyWarns {
				t.Errorf("copy-only warning logged %d times, want %d", n, tt.wantCopyWarns)
			}
		})
	}
}

func TestPoller_UIDExpungeLeavesOthersDeletedMessages(t *testing.T) {
	// UID 2 is marked \Deleted by someone else and fails temporarily, so
	// it stays in INBOX while UID 1 is moved by COPY + STORE + UID
	// EXPUNGE. A plain EXPUNGE would destroy it.
	srv := newTestServer(t, capsUIDPlus, "none")
	srv.appendMsg("INBOX", testMessage(1, ""))
	srv.appendMsg("INBOX", testMessage(2, ""), imap.FlagDeleted)
	h := newFakeHandler()
	h.check = func(d Delivery, body []byte) error {
		if d.UID == 2 {
			return errors.New("database down")
		}
		return nil
	}
	cfg := testConfig(srv, &logRecorder{})
	cfg.ProcessedMailbox = "Processed"
	start(t, newTestPoller(t, cfg, h))

	mailtest.Wait(t, "UID 1 moved", func() bool { return srv.count("Processed") == 1 })
	mailtest.Wait(t, "UID 2 retried after the move", func() bool { return h.attemptsOf(2) >= 3 })
	if got := srv.messageIDs("INBOX"); !slices.Equal(got, []string{"m2@customer.example"}) {
		t.Errorf("INBOX holds %v, want the \\Deleted UID 2 untouched", got)
	}
}

func TestPoller_IdlePicksUpNewMailWithoutWaitingForThePollInterval(t *testing.T) {
	srv := newTestServer(t, capsMove, "none")
	h := newFakeHandler()
	cfg := testConfig(srv, &logRecorder{})
	cfg.PollInterval = time.Hour
	p := newTestPoller(t, cfg, h)
	idling := make(chan struct{}, 10)
	p.onIdle = func() { idling <- struct{}{} }
	start(t, p)

	select {
	case <-idling:
	case <-time.After(15 * time.Second):
		t.Fatal("poller never entered IDLE")
	}
	srv.appendMsg("INBOX", testMessage(1, ""))
	// With a one-hour poll interval only IDLE can bring it in.
	mailtest.Wait(t, "delivery through IDLE", func() bool { return len(h.deliveredUIDs()) == 1 })
	select {
	case <-idling: // and it goes back to idling
	case <-time.After(15 * time.Second):
		t.Fatal("poller did not return to IDLE")
	}
}

func TestPoller_PollsAtTheIntervalWhenServerLacksIdle(t *testing.T) {
	srv := newTestServer(t, capsMove, "none")
	proxy := newBlackHole(t, srv.addr, true)
	h := newFakeHandler()
	logs := &logRecorder{}
	cfg := testConfig(srv, logs)
	cfg.Addr = proxy.addr()
	cfg.PollInterval = 50 * time.Millisecond
	p := newTestPoller(t, cfg, h)
	var idled atomic.Bool
	p.onIdle = func() { idled.Store(true) }
	start(t, p)

	mailtest.Wait(t, "connected", func() bool { return len(logs.find("mailbox connected")) == 1 })
	srv.appendMsg("INBOX", testMessage(1, ""))
	mailtest.Wait(t, "delivery by polling", func() bool { return len(h.deliveredUIDs()) == 1 })
	if idled.Load() {
		t.Error("sent IDLE to a server that does not offer it")
	}
	if got := logs.find("mailbox connected")[0].attrs["idle"]; got != "false" {
		t.Errorf("connected with idle=%s, want false", got)
	}
}

func TestPoller_RedialsWithBackoffAfterServerGoesAway(t *testing.T) {
	srv := newTestServer(t, capsMove, "none")
	srv.appendMsg("INBOX", testMessage(1, ""))
	h := newFakeHandler()
	logs := &logRecorder{}
	start(t, newTestPoller(t, testConfig(srv, logs), h))
	mailtest.Wait(t, "first delivery", func() bool { return len(h.deliveredUIDs()) == 1 })

	srv.stop() // closes the idling connection and refuses new ones
	mailtest.Wait(t, "several failed redials", func() bool { return len(logs.find("still failing")) >= 3 })
	srv.appendMsg("INBOX", testMessage(2, ""))
	srv.start()

	mailtest.Wait(t, "delivery after reconnecting", func() bool { return len(h.deliveredUIDs()) == 2 })
	if n := len(logs.find("mailbox connection lost")); n != 1 {
		t.Errorf("connection loss logged %d times, want once", n)
	}
	rec := logs.find("mailbox reconnected")
	if len(rec) != 1 {
		t.Fatalf("reconnection logged %d times, want once", len(rec))
	}
	if rec[0].attrs["attempts"] == "" || rec[0].attrs["attempts"] == "1" {
		t.Errorf("reconnected after %s attempts, want several", rec[0].attrs["attempts"])
	}
}

func TestPoller_DetectsAServerThatStopsAnswering(t *testing.T) {
	srv := newTestServer(t, capsMove, "none")
	hole := newBlackHole(t, srv.addr, false)
	srv.appendMsg("INBOX", testMessage(1, ""))
	h := newFakeHandler()
	logs := &logRecorder{}
	cfg := testConfig(srv, logs)
	cfg.Addr = hole.addr()
	cfg.IOTimeout = 300 * time.Millisecond
	cfg.PollInterval = 200 * time.Millisecond // IDLE is ended and must be answered
	start(t, newTestPoller(t, cfg, h))
	mailtest.Wait(t, "first delivery", func() bool { return len(h.deliveredUIDs()) == 1 })

	// The network path dies silently: no FIN, no RST, just nothing.
	// (On a loaded machine the 300 ms watchdog may have fired before: count
	// from here.)
	before := len(logs.find("mailbox connection lost"))
	hole.frozen.Store(true)
	mailtest.Wait(t, "dead connection detected", func() bool { return len(logs.find("mailbox connection lost")) > before })
	hole.frozen.Store(false)
	srv.appendMsg("INBOX", testMessage(2, ""))
	mailtest.Wait(t, "delivery on a new connection", func() bool { return len(h.deliveredUIDs()) == 2 })
	if rec := logs.find("mailbox connection lost"); !strings.Contains(rec[before].attrs["err"], errTimeout.Error()) {
		t.Errorf("connection lost because %q, want the watchdog's timeout", rec[before].attrs["err"])
	}
}

// The IMAP client ends a body at a closed connection as if it were
// complete; the poller must tell the truncation apart.
func TestPoller_ConnectionDropMidBodyNeverDeliversATruncatedMessage(t *testing.T) {
	srv := newTestServer(t, capsMove, "none")
	raw := append(testMessage(1, ""), bytes.Repeat([]byte("0123456789abcdef0123456789abcdef\r\n"), 1000)...)
	srv.appendMsg("INBOX", raw)
	cut := newCutProxy(t, srv.addr, len(raw)/2)
	h := newFakeHandler()
	cfg := testConfig(srv, &logRecorder{})
	cfg.Addr = cut.addr()
	start(t, newTestPoller(t, cfg, h))

	mailtest.Wait(t, "delivery on the second connection", func() bool { return len(h.deliveredUIDs()) >= 1 })
	if !cut.done.Load() {
		t.Fatal("the connection was never cut")
	}
	if ds := h.deliveries(); len(ds) != 1 || !bytes.Equal(ds[0].body, raw) {
		t.Errorf("delivered %d messages, the first with %d bytes; want one of %d", len(ds), len(ds[0].body), len(raw))
	}
}

func TestPoller_OversizedMailIsDeliveredWithHeaderOnly(t *testing.T) {
	srv := newTestServer(t, capsMove, "none")
	big := testMessage(2, "Content-Type: application/octet-stream\r\n")
	big = append(big, bytes.Repeat([]byte("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=\r\n"), 300)...)
	srv.appendMsg("INBOX", testMessage(1, ""))
	srv.appendMsg("INBOX", big)
	srv.appendMsg("INBOX", testMessage(3, ""))
	h := newFakeHandler()
	cfg := testConfig(srv, &logRecorder{})
	cfg.MaxMessageBytes = 4096
	start(t, newTestPoller(t, cfg, h))

	mailtest.Wait(t, "3 deliveries", func() bool { return len(h.deliveredUIDs()) == 3 })
	ds := h.deliveries()
	header := big[:bytes.Index(big, []byte("\r\n\r\n"))+4]
	if d := ds[1]; !d.oversized || d.size != int64(len(big)) || !bytes.Equal(d.body, header) {
		t.Errorf("oversized: Oversized %v Size %d (want %d) body %q, want the header section only", d.oversized, d.size, len(big), d.body)
	}
	for _, i := range []int{0, 2} {
		if d := ds[i]; d.oversized || !bytes.Equal(d.body, testMessage(i+1, "")) {
			t.Errorf("UID %d: Oversized %v, body %q", d.uid, d.oversized, d.body)
		}
	}
}

func TestPoller_ConnectsWithEachTransportAndMechanism(t *testing.T) {
	tests := []struct {
		tls, auth, password string
		token               xoauth2.TokenSource
		wantErr             string // in the "mailbox unreachable" log; "" = must deliver
	}{
		{tls: "none", auth: "login", password: testPass},
		{tls: "none", auth: "plain", password: testPass},
		{tls: "starttls", auth: "login", password: testPass},
		{tls: "tls", auth: "plain", password: testPass},
		{tls: "tls", auth: "xoauth2", token: xoauth2.StaticToken(testToken)},
		{tls: "starttls", auth: "xoauth2", password: testToken}, // token given as password
		{tls: "tls", auth: "xoauth2", token: xoauth2.StaticToken("expired"), wantErr: `status 401`},
		{tls: "none", auth: "login", password: "wrong", wantErr: "authenticating as " + testUser},
	}
	for _, tt := range tests {
		t.Run(tt.tls+"/"+tt.auth+"/"+tt.wantErr, func(t *testing.T) {
			srv := newTestServer(t, capsMove, tt.tls)
			srv.appendMsg("INBOX", testMessage(1, ""))
			h := newFakeHandler()
			logs := &logRecorder{}
			cfg := testConfig(srv, logs)
			cfg.TLS, cfg.Auth, cfg.Password, cfg.Token = tt.tls, tt.auth, tt.password, tt.token
			if tt.tls != "none" {
				cfg.TLSConfig = clientTLS(t, srv)
			}
			start(t, newTestPoller(t, cfg, h))
			if tt.wantErr == "" {
				mailtest.Wait(t, "delivery", func() bool { return len(h.deliveredUIDs()) == 1 })
				return
			}
			mailtest.Wait(t, "failure logged", func() bool { return len(logs.find("mailbox unreachable")) == 1 })
			if got := logs.find("mailbox unreachable")[0].attrs["err"]; !strings.Contains(got, tt.wantErr) {
				t.Errorf("logged error %q, want it to mention %q", got, tt.wantErr)
			}
			if n := len(h.deliveredUIDs()); n != 0 {
				t.Errorf("delivered %d messages without authenticating", n)
			}
		})
	}
}

func TestPoller_RefusesPlaintextStartTLSDowngrade(t *testing.T) {
	srv := newTestServer(t, capsMove, "none") // offers no STARTTLS
	srv.appendMsg("INBOX", testMessage(1, ""))
	h := newFakeHandler()
	logs := &logRecorder{}
	cfg := testConfig(srv, logs)
	cfg.TLS = "starttls"
	start(t, newTestPoller(t, cfg, h))
	mailtest.Wait(t, "failure logged", func() bool { return len(logs.find("mailbox unreachable")) == 1 })
	if n := len(h.deliveredUIDs()); n != 0 {
		t.Errorf("delivered %d messages over an unencrypted connection", n)
	}
}

func TestNew_RejectsInvalidConfig(t *testing.T) {
	valid := Config{Name: "support", Addr: "imap.example.com:993", TLS: "tls", Username: "u", Password: "p"}
	tests := []struct {
		name   string
		modify func(*Config)
	}{
		{"no name", func(c *Config) { c.Name = "" }},
		{"name with a slash", func(c *Config) { c.Name = "a/b" }},
		{"address without port", func(c *Config) { c.Addr = "imap.example.com" }},
		{"empty TLS mode", func(c *Config) { c.TLS = "" }},
		{"unknown TLS mode", func(c *Config) { c.TLS = "ssl" }},
		{"unknown auth", func(c *Config) { c.Auth = "cram-md5" }},
		{"no username", func(c *Config) { c.Username = "" }},
		{"login without password", func(c *Config) { c.Password = "" }},
		{"xoauth2 without token", func(c *Config) { c.Auth, c.Password = "xoauth2", "" }},
		{"processed folder is the mailbox", func(c *Config) { c.ProcessedMailbox = "inbox" }},
		{"failed folder is the mailbox", func(c *Config) { c.Mailbox, c.FailedMailbox = "Support", "Support" }},
		{"negative poll interval", func(c *Config) { c.PollInterval = -time.Second }},
		{"negative size cap", func(c *Config) { c.MaxMessageBytes = -1 }},
		{"negative delivery batch", func(c *Config) { c.DeliveryBatch = -1 }},
		{"negative delivery batch bytes", func(c *Config) { c.DeliveryBatchBytes = -1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid
			tt.modify(&cfg)
			if _, err := New(cfg, newFakeHandler()); err == nil {
				t.Errorf("New accepted %+v", cfg)
			}
		})
	}
	t.Run("valid config gets defaults", func(t *testing.T) {
		p, err := New(valid, newFakeHandler())
		if err != nil {
			t.Fatal(err)
		}
		c := p.cfg
		if c.Mailbox != "INBOX" || c.Auth != "login" || c.PollInterval != DefaultPollInterval ||
			c.MaxMessageBytes != 25<<20 || c.BatchSize != DefaultBatchSize || c.IOTimeout != DefaultIOTimeout ||
			c.DeliveryBatch != 64 || c.DeliveryBatchBytes != 16<<20 {
			t.Errorf("defaults not applied: %+v", c)
		}
		if c.Key() != "support/INBOX" {
			t.Errorf("key %q", c.Key())
		}
	})
	t.Run("nil handler", func(t *testing.T) {
		if _, err := New(valid, nil); err == nil {
			t.Error("New accepted a nil handler")
		}
	})
}

func TestBackoff_DoublesWithJitterUpToTheCap(t *testing.T) {
	min, max := time.Second, time.Minute
	tests := []struct {
		attempt int
		r       float64
		want    time.Duration
	}{
		{1, 0, 500 * time.Millisecond},
		{1, 0.999999, 999999500 * time.Nanosecond},
		{2, 0, time.Second},
		{3, 0.5, 3 * time.Second},
		{6, 0, 16 * time.Second},
		{7, 0, 30 * time.Second}, // 64s capped to 60s
		{7, 1, time.Minute},
		{1000, 0.5, 45 * time.Second},
		{0, 0, 500 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := backoff(tt.attempt, min, max, tt.r); got != tt.want {
			t.Errorf("backoff(%d, r=%v) = %v, want %v", tt.attempt, tt.r, got, tt.want)
		}
	}
}

func TestPendingAfter_DropsTheCursorEchoOfStarRangeAndSorts(t *testing.T) {
	bufs := []*imapclient.FetchMessageBuffer{
		{UID: 9, RFC822Size: 90},
		{UID: 7, RFC822Size: 70, Flags: []imap.Flag{imap.FlagFlagged}},
		{UID: 5, RFC822Size: 50}, // "6:*" answered with the last message, already committed
		{UID: 9, RFC822Size: 90}, // duplicate response
	}
	got := pendingAfter(bufs, 5)
	var uids []imap.UID
	for _, m := range got {
		uids = append(uids, m.uid)
	}
	if !slices.Equal(uids, []imap.UID{7, 9}) {
		t.Fatalf("pending UIDs %v, want [7 9]", uids)
	}
	if got[0].size != 70 || !slices.Equal(got[0].flags, []string{`\Flagged`}) {
		t.Errorf("metadata lost: %+v", got[0])
	}
	if got := pendingAfter(bufs[2:3], 5); len(got) != 0 {
		t.Errorf("only the echo: got %+v, want nothing", got)
	}
}

func TestNextRun_GroupsWholeAndHeaderOnlyFetchesUpToBatch(t *testing.T) {
	m := func(sizes ...int64) []meta {
		var out []meta
		for i, s := range sizes {
			out = append(out, meta{uid: imap.UID(i + 1), size: s})
		}
		return out
	}
	tests := []struct {
		name  string
		in    []meta
		batch int
		want  int
	}{
		{"all small", m(1, 2, 3), 10, 3},
		{"batch limit", m(1, 2, 3), 2, 2},
		{"small then big", m(1, 2, 500, 3), 10, 2},
		{"big first", m(500, 600, 3), 10, 2},
		{"exactly the cap is small", m(100, 100), 10, 2},
	}
	for _, tt := range tests {
		if got := len(nextRun(tt.in, tt.batch, 100)); got != tt.want {
			t.Errorf("%s: run of %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestPermanent_SurvivesWrappingAndNilStaysNil(t *testing.T) {
	base := errors.New("malformed beyond repair")
	wrapped := fmt.Errorf("ingest: %w", Permanent(base))
	if !IsPermanent(wrapped) || !errors.Is(wrapped, base) {
		t.Errorf("wrapped permanent error lost its mark or cause: %v", wrapped)
	}
	if IsPermanent(base) || IsPermanent(nil) {
		t.Error("unmarked error reported permanent")
	}
	if Permanent(nil) != nil {
		t.Error("Permanent(nil) != nil")
	}
}
