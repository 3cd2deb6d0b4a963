package poller

import (
	"bytes"
	"context"
	"errors"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// errNoVerdict stands for a delivery the BatchHandler returned no error for.
var errNoVerdict = errors.New("batch handler returned no result for this message")

// batch is the messages read into memory for one DeliverBatch call.
type batch struct {
	ds    []Delivery
	bytes int64
}

// deliverBatches reads the run's messages into memory and hands them to
// the BatchHandler in batches of at most DeliveryBatch messages and
// DeliveryBatchBytes bytes (a message over that goes alone).
func (s *session) deliverBatches(ctx context.Context, fetch *imapclient.FetchCommand, validity uint32, run []meta, oversized bool, res *runResult) error {
	cfg := &s.p.cfg
	var b batch
	for _, m := range run {
		lit, err := s.nextBody(fetch, m.uid)
		if err != nil {
			return err
		}
		if lit == nil {
			break // the server skipped m: deliver what came before it
		}
		if len(b.ds) > 0 && b.bytes+lit.Size() > cfg.DeliveryBatchBytes {
			if err := s.deliverBatch(ctx, &b, res); err != nil {
				return err
			}
		}
		body, err := s.readBody(lit)
		if err != nil {
			return err
		}
		b.ds = append(b.ds, s.delivery(validity, m, oversized, bytes.NewReader(body)))
		b.bytes += int64(len(body))
		if len(b.ds) >= cfg.DeliveryBatch || b.bytes >= cfg.DeliveryBatchBytes {
			if err := s.deliverBatch(ctx, &b, res); err != nil {
				return err
			}
		}
	}
	return s.deliverBatch(ctx, &b, res)
}

// readBody reads a body literal whole. Each read is guarded by the
// watchdog; a failure is a connection failure.
func (s *session) readBody(lit imap.LiteralReader) ([]byte, error) {
	var buf bytes.Buffer
	// Sized up front (within reason: the size is the server's word) so
	// that reading to EOF does not copy the message again.
	buf.Grow(int(min(max(lit.Size(), 0), s.p.cfg.MaxMessageBytes)) + bytes.MinRead)
	if _, err := buf.ReadFrom(&bodyReader{r: lit, wd: s.wd}); err != nil {
		s.abandonFetch()
		return nil, err
	}
	return buf.Bytes(), nil
}

// deliverBatch hands b to the BatchHandler, then settles its messages in
// order as deliver settles one, and empties b. Nothing is started once ctx
// is done; a batch in hand is finished (the work context outlives ctx).
func (s *session) deliverBatch(ctx context.Context, b *batch, res *runResult) error {
	if len(b.ds) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	ds := b.ds
	*b = batch{}
	errs := s.p.batch.DeliverBatch(s.work, ds)
	for i, d := range ds {
		herr := errNoVerdict
		if i < len(errs) {
			herr = errs[i]
		}
		if err := s.settle(ctx, d, herr, res); err != nil {
			return err
		}
		res.consumed++
	}
	return nil
}
