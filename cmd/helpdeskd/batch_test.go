package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/helpdesk/helpdesk/cmd/helpdeskd/internal/config"
	"github.com/helpdesk/helpdesk/helpdesk"
	"github.com/helpdesk/helpdesk/helpdesk/pgtest"
	"github.com/helpdesk/helpdesk/mail/poller"
)

func testConfig(t *testing.T, extra map[string]string) *config.Config {
	t.Helper()
	env := map[string]string{"HELPDESK_SUPPORT_ADDRESS": "support@example.com", "HELPDESK_TOKEN_SECRET": strings.Repeat("s", 40),
		"HELPDESK_AGENT_ADDRESS": "agents@example.com"}
	for k, v := range extra {
		env[k] = v
	}
	c, err := config.Load(func(k string) string { return env[k] }, "")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestPollerConfig_HandsTheIngesterIngestBatchMessagesPerCall(t *testing.T) {
	c := testConfig(t, map[string]string{"HELPDESK_INGEST_BATCH": "17",
		"HELPDESK_IMAP_ADDR": "imap.example.com:993", "HELPDESK_IMAP_TLS": "tls", "HELPDESK_IMAP_USERNAME": "u", "HELPDESK_IMAP_PASSWORD": "p"})
	if len(c.Mailboxes) != 1 {
		t.Fatalf("%d mailboxes configured", len(c.Mailboxes))
	}
	if pc := pollerConfig(c, c.Mailboxes[0], slog.Default()); pc.DeliveryBatch != 17 {
		t.Errorf("DeliveryBatch %d, want HELPDESK_INGEST_BATCH's 17", pc.DeliveryBatch)
	}
	var _ poller.BatchHandler = mailboxHandler{}
}

// DeliverBatch passes each message's verdict to the poller (permanent
// failures marked for the Failed folder, the first temporary failure ending
// the batch) and counts every message in the metrics.
func TestMailboxHandler_DeliverBatchMapsEachResultAndCountsIt(t *testing.T) {
	db := pgtest.New(t)
	s, err := helpdesk.NewStore(db)
	if err != nil {
		t.Fatal(err)
	}
	g, _, err := newDomain(testConfig(t, nil), s, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	// "bad" can never be stored (a permanent failure); "busy" meets a
	// serialization failure (temporary).
	for _, q := range []string{
		`CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.subject = 'bad' THEN
				RAISE EXCEPTION 'not storable' USING ERRCODE = '22023';
			END IF;
			IF NEW.subject = 'busy' THEN
				RAISE EXCEPTION 'could not serialize access' USING ERRCODE = '40001';
			END IF;
			RETURN NEW;
		END $$`,
		`CREATE TRIGGER refuse BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION refuse()`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	obs := newObserver(&readiness{})
	h := mailboxHandler{g: g, obs: obs}
	ctx := context.Background()
	const mbox = "support/INBOX"
	if err := h.ResetCursor(ctx, mbox, 7); err != nil {
		t.Fatal(err)
	}
	var ds []poller.Delivery
	for i, subject := range []string{"fine", "bad", "fine", "busy", "fine"} {
		raw := customerMail("c@acme.example", subject, "b"+strconv.FormatInt(int64(i), 10)+"@acme.example", "", "Hello.")
		ds = append(ds, poller.Delivery{Mailbox: mbox, UIDValidity: 7, UID: uint32(i + 1), Size: int64(len(raw)),
			InternalDate: time.Now().Add(-time.Minute), Body: bytes.NewReader(raw)})
	}

	errs := h.DeliverBatch(ctx, ds)
	if len(errs) < 4 || errs[0] != nil || !poller.IsPermanent(errs[1]) || errs[2] != nil || errs[3] == nil || poller.IsPermanent(errs[3]) {
		t.Fatalf("errors %v, want [nil permanent nil temporary ...]", errs)
	}
	for _, err := range errs[4:] {
		if err == nil || poller.IsPermanent(err) {
			t.Errorf("after a temporary failure: %v, want a temporary error", err)
		}
	}
	var stored []string
	if err := db.Select(&stored, `SELECT message_id FROM messages WHERE direction = 'in' ORDER BY message_id`); err != nil {
		t.Fatal(err)
	}
	// The mail that cannot be stored is recorded as failed at once: the
	// fine mail after it moves the cursor past it.
	if strings.Join(stored, " ") != "b0@acme.example b2@acme.example failed.7.2.support-INBOX@helpdesk.invalid" {
		t.Errorf("stored %v, want the two fine mails before the temporary failure and the failed one recorded", stored)
	}
	for _, c := range []struct {
		metric string
		labels map[string]string
		want   float64
	}{
		{"helpdesk_ingested_messages_total", map[string]string{"mailbox": mbox}, 2},
		{"helpdesk_ingest_failures_total", map[string]string{"mailbox": mbox, "kind": "permanent"}, 1},
		{"helpdesk_ingest_failures_total", map[string]string{"mailbox": mbox, "kind": "temporary"}, 1},
	} {
		if got := counterSum(t, obs, c.metric, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.metric, c.labels, got, c.want)
		}
	}
}

// counterSum adds up the counters of metric whose labels include labels.
func counterSum(t *testing.T, o *observer, metric string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := o.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != metric {
			continue
		}
		for _, m := range mf.GetMetric() {
			n := 0
			for _, l := range m.GetLabel() {
				if v, ok := labels[l.GetName()]; ok && v == l.GetValue() {
					n++
				}
			}
			if n == len(labels) {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}
