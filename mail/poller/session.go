package poller

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"

	"github.com/helpdesk/helpdesk/mail/xoauth2"
)

var errServerClosed = errors.New("server closed the connection")

// session is one connection, from dial to close.
type session struct {
	p    *Poller
	raw  net.Conn
	wd   *watchdog
	c    *imapclient.Client
	wake chan struct{} // an EXISTS arrived

	stopAfterFunc func() bool
	open          *imapclient.FetchCommand // a FETCH to drain before closing

	// work is the context of the Handler's calls: it outlives Run's ctx by
	// DrainTimeout, so a message in hand at shutdown is still committed.
	work       context.Context
	cancelWork context.CancelFunc
	drainMu    sync.Mutex
	drain      *time.Timer // armed when Run's ctx is done: closes the connection

	idle     bool // IDLE is available
	move     bool // moving never needs a plain EXPUNGE: MOVE or UIDPLUS
	validity uint32
	swept    bool
}

// session connects, then alternates rounds and waits until something
// fails or ctx is done. It always returns an error.
func (p *Poller) session(ctx context.Context, st *health) error {
	s, err := p.connect(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if ctx.Err() != nil {
			s.logout()
		}
		s.close()
	}()
	for {
		if err := s.round(ctx); err != nil {
			return err
		}
		st.ok(p.log, time.Now(), s.idle)
		if err := s.wait(ctx); err != nil {
			return err
		}
	}
}

// connect dials, authenticates, prepares the folders and selects the
// mailbox.
func (p *Poller) connect(ctx context.Context) (_ *session, err error) {
	cfg := &p.cfg
	d := net.Dialer{Timeout: cfg.IOTimeout}
	raw, err := d.DialContext(ctx, "tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	s := &session{
		p:    p,
		raw:  raw,
		wd:   newWatchdog(raw, cfg.IOTimeout),
		wake: make(chan struct{}, 1),
	}
	// At shutdown the session gets DrainTimeout to finish the message in
	// hand and log out; then the socket is closed, which ends every wait.
	s.work, s.cancelWork = context.WithCancel(context.WithoutCancel(ctx))
	s.stopAfterFunc = context.AfterFunc(ctx, func() {
		s.drainMu.Lock()
		defer s.drainMu.Unlock()
		s.drain = time.AfterFunc(cfg.DrainTimeout, func() {
			s.cancelWork()
			raw.Close()
		})
	})
	defer func() {
		if err != nil {
			s.close()
		}
	}()

	conn := net.Conn(watchedConn{Conn: raw, wd: s.wd})
	opts := &imapclient.Options{
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			// Runs on the client's reader goroutine: signal only.
			Mailbox: func(m *imapclient.UnilateralDataMailbox) {
				if m.NumMessages != nil {
					select {
					case s.wake <- struct{}{}:
					default:
					}
				}
			},
		},
	}
	switch cfg.TLS {
	case "tls":
		tc := tls.Client(conn, p.tlsConfig())
		if err := s.wd.guard(func() error { return tc.HandshakeContext(ctx) }); err != nil {
			return nil, withKind(KindTLS, fmt.Errorf("TLS handshake: %w", err))
		}
		s.c = imapclient.New(tc, opts)
	case "starttls":
		opts.TLSConfig = p.tlsConfig()
		err := s.wd.guard(func() (err error) {
			s.c, err = imapclient.NewStartTLS(conn, opts)
			return err
		})
		if err != nil {
			return nil, withKind(KindTLS, fmt.Errorf("STARTTLS: %w", err))
		}
	default:
		s.c = imapclient.New(conn, opts)
	}
	if err := s.wd.guard(s.c.WaitGreeting); err != nil {
		return nil, fmt.Errorf("greeting: %w", err)
	}
	if err := s.wd.guard(s.authenticate); err != nil {
		return nil, withKind(KindAuth, fmt.Errorf("authenticating as %s: %w", cfg.Username, err))
	}
	var caps imap.CapSet
	s.wd.guard(func() error { caps = s.c.Caps(); return nil })
	if caps == nil {
		return nil, errors.New("no CAPABILITY from server")
	}
	s.idle = caps.Has(imap.CapIdle)
	s.move = caps.Has(imap.CapMove) || caps.Has(imap.CapUIDPlus)
	for _, f := range []string{cfg.ProcessedMailbox, cfg.FailedMailbox} {
		if f != "" {
			if err := s.ensureFolder(f); err != nil {
				return nil, err
			}
		}
	}
	var sel *imap.SelectData
	err = s.wd.guard(func() (err error) {
		sel, err = s.c.Select(cfg.Mailbox, nil).Wait()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("selecting %s: %w", cfg.Mailbox, err)
	}
	if sel.UIDValidity == 0 {
		return nil, fmt.Errorf("selecting %s: server sent no UIDVALIDITY", cfg.Mailbox)
	}
	s.validity = sel.UIDValidity
	return s, nil
}

func (p *Poller) tlsConfig() *tls.Config {
	var c *tls.Config
	if p.cfg.TLSConfig != nil {
		c = p.cfg.TLSConfig.Clone()
	} else {
		c = &tls.Config{}
	}
	if c.ServerName == "" {
		c.ServerName, _, _ = net.SplitHostPort(p.cfg.Addr)
	}
	if c.NextProtos == nil && p.cfg.TLS == "tls" {
		c.NextProtos = []string{"imap"}
	}
	return c
}

func (s *session) authenticate() error {
	cfg := &s.p.cfg
	switch cfg.Auth {
	case "plain":
		return s.c.Authenticate(sasl.NewPlainClient("", cfg.Username, cfg.Password))
	case "xoauth2":
		xc := xoauth2.NewClient(cfg.Username, cfg.Token)
		return xc.WithServerError(s.c.Authenticate(xc))
	default:
		return s.c.Login(cfg.Username, cfg.Password).Wait()
	}
}

// ensureFolder creates folder unless it exists. A server refusal is logged,
// not fatal: moves into it will fail and be logged, and mail still flows.
func (s *session) ensureFolder(folder string) error {
	var list []*imap.ListData
	err := s.wd.guard(func() (err error) {
		list, err = s.c.List("", folder, nil).Collect()
		return err
	})
	if err != nil && !isServerRefusal(err) {
		return fmt.Errorf("listing %s: %w", folder, err)
	}
	for _, l := range list {
		if l.Mailbox == folder || (strings.EqualFold(folder, "INBOX") && strings.EqualFold(l.Mailbox, "INBOX")) {
			return nil
		}
	}
	err = s.wd.guard(func() error { return s.c.Create(folder, nil).Wait() })
	var ie *imap.Error
	switch {
	case err == nil:
		s.p.log.Info("created folder", "folder", folder)
	case errors.As(err, &ie) && ie.Code == imap.ResponseCodeAlreadyExists:
	case isServerRefusal(err):
		s.p.log.Warn("cannot create folder; messages stay in place", "folder", folder, "err", err)
	default:
		return fmt.Errorf("creating %s: %w", folder, err)
	}
	return nil
}

// isServerRefusal reports a NO or BAD answer, as opposed to a failed
// connection.
func isServerRefusal(err error) bool {
	var ie *imap.Error
	return errors.As(err, &ie)
}

// logout ends the session politely at shutdown: the FETCH in progress is
// drained, then LOGOUT. It is bounded by DrainTimeout (the socket is closed
// then) and by the I/O timeout.
func (s *session) logout() {
	if s.c == nil {
		return
	}
	select {
	case <-s.c.Closed():
		return
	default:
	}
	if s.open != nil {
		_ = s.wd.guard(s.open.Close)
		s.open = nil
	}
	if err := s.wd.guard(func() error { return s.c.Logout().Wait() }); err != nil {
		s.p.log.Debug("LOGOUT failed", "err", err)
		return
	}
	s.p.log.Info("logged out of the mailbox")
}

// close ends the connection without waiting on a dead server.
func (s *session) close() {
	s.stopAfterFunc()
	s.drainMu.Lock()
	if s.drain != nil {
		s.drain.Stop()
	}
	s.drainMu.Unlock()
	s.cancelWork()
	s.wd.stop()
	s.raw.Close()
	if s.c == nil {
		return
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if s.open != nil {
			// Unblocks the client's reader, which may be waiting for a
			// body literal to be consumed.
			s.open.Close()
		}
		s.c.Close()
	}()
	select {
	case <-done:
	case <-time.After(s.p.cfg.IOTimeout):
		s.p.log.Warn("IMAP client did not shut down; abandoning it")
	}
}

// wait returns when the mailbox should be checked again: new mail while
// idling, or the poll interval.
func (s *session) wait(ctx context.Context) error {
	timer := time.NewTimer(min(s.p.cfg.PollInterval, maxIdle))
	defer timer.Stop()
	if !s.idle {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.c.Closed():
			return errServerClosed
		case <-timer.C:
			return nil
		}
	}

	var idle *imapclient.IdleCommand
	err := s.wd.guard(func() (err error) {
		idle, err = s.c.Idle()
		return err
	})
	if err != nil {
		return fmt.Errorf("starting IDLE: %w", err)
	}
	if s.p.onIdle != nil {
		s.p.onIdle()
	}
	select {
	case <-ctx.Done():
	case <-s.c.Closed():
		return errServerClosed
	case <-s.wake:
	case <-timer.C:
	}
	// Ended with DONE also at shutdown, so that LOGOUT can follow.
	err = s.wd.guard(func() error {
		if err := idle.Close(); err != nil {
			return err
		}
		return idle.Wait()
	})
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		return fmt.Errorf("ending IDLE: %w", err)
	}
	return nil
}

// meta is what the poller knows of a message before fetching its body.
type meta struct {
	uid   imap.UID
	size  int64
	date  time.Time
	flags []string
}

// round delivers every message above the cursor.
func (s *session) round(ctx context.Context) error {
	h, key := s.p.h, s.p.cfg.Key()
	cur, err := h.Cursor(ctx, key)
	if err != nil {
		return &handlerError{err: fmt.Errorf("reading cursor: %w", err)}
	}
	if cur.UIDValidity != s.validity {
		if cur != (Cursor{}) {
			s.p.log.Warn("UIDVALIDITY changed; rescanning the mailbox",
				"old", cur.UIDValidity, "new", s.validity, "last_uid", cur.LastUID)
		}
		if err := h.ResetCursor(ctx, key, s.validity); err != nil {
			return &handlerError{err: fmt.Errorf("resetting cursor: %w", err)}
		}
		cur = Cursor{UIDValidity: s.validity}
	}
	if !s.swept {
		s.swept = true
		if err := s.sweep(cur.LastUID); err != nil {
			return err
		}
	}
	pending, err := s.pending(cur.LastUID)
	if err != nil {
		return err
	}

	single := false
	for len(pending) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		run := nextRun(pending, s.p.fetchSize(), s.p.cfg.MaxMessageBytes)
		if single {
			run = run[:1]
		}
		res, err := s.deliverRun(ctx, cur.UIDValidity, run)
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if len(res.processed) > 0 && s.p.cfg.ProcessedMailbox != "" {
			if err := s.transfer(res.processed, s.p.cfg.ProcessedMailbox); err != nil {
				return err
			}
		}
		if len(res.failed) > 0 && s.p.cfg.FailedMailbox != "" {
			if err := s.transfer(res.failed, s.p.cfg.FailedMailbox); err != nil {
				return err
			}
		}
		pending = pending[res.consumed:]
		// A message the server skipped is retried alone, which settles
		// whether it vanished or cannot be fetched.
		single = res.consumed < len(run)
	}
	return nil
}

// sweep moves committed messages still in the mailbox to ProcessedMailbox:
// those whose move was cut short by a crash or by a failure later in their
// batch. Once per connection, and only where moving needs no plain EXPUNGE.
func (s *session) sweep(last uint32) error {
	if !s.move || s.p.cfg.ProcessedMailbox == "" || last == 0 {
		return nil
	}
	var bufs []*imapclient.FetchMessageBuffer
	err := s.wd.guard(func() (err error) {
		bufs, err = s.c.Fetch(imap.UIDSet{{Start: 1, Stop: imap.UID(last)}}, &imap.FetchOptions{UID: true}).Collect()
		return err
	})
	if err != nil {
		return fmt.Errorf("listing committed messages: %w", err)
	}
	var left imap.UIDSet
	n := 0
	for _, b := range bufs {
		if b.UID != 0 && uint32(b.UID) <= last {
			left.AddNum(b.UID)
			n++
		}
	}
	if n == 0 {
		return nil
	}
	s.p.log.Info("moving committed messages left in the mailbox", "count", n, "folder", s.p.cfg.ProcessedMailbox)
	return s.transfer(left, s.p.cfg.ProcessedMailbox)
}

// pending returns the messages above last, in UID order.
func (s *session) pending(last uint32) ([]meta, error) {
	if last == math.MaxUint32 {
		return nil, nil
	}
	set := imap.UIDSet{{Start: imap.UID(last + 1), Stop: 0}} // last+1:*
	var bufs []*imapclient.FetchMessageBuffer
	err := s.wd.guard(func() (err error) {
		// Some servers (Dovecot) announce new mail only at the end of the next
		// command's response; a NOOP first makes this listing see it now,
		// not one poll interval later.
		if err := s.c.Noop().Wait(); err != nil {
			return err
		}
		bufs, err = s.c.Fetch(set, &imap.FetchOptions{
			UID: true, Flags: true, RFC822Size: true, InternalDate: true,
		}).Collect()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("listing new messages: %w", err)
	}
	return pendingAfter(bufs, last), nil
}

// pendingAfter keeps the messages above last, sorted by UID, once each.
// "n:*" includes the last message even when n is past it, so the server's
// answer is filtered.
func pendingAfter(bufs []*imapclient.FetchMessageBuffer, last uint32) []meta {
	out := make([]meta, 0, len(bufs))
	for _, b := range bufs {
		if b == nil || uint32(b.UID) <= last {
			continue
		}
		flags := make([]string, len(b.Flags))
		for i, f := range b.Flags {
			flags[i] = string(f)
		}
		out = append(out, meta{uid: b.UID, size: b.RFC822Size, date: b.InternalDate, flags: flags})
	}
	slices.SortFunc(out, func(a, b meta) int { return cmp.Compare(a.uid, b.uid) })
	return slices.CompactFunc(out, func(a, b meta) bool { return a.uid == b.uid })
}

// nextRun returns the longest prefix of pending, up to batch messages, whose
// messages are all under max or all over it: one FETCH gets the whole
// message or only the header for all of them.
func nextRun(pending []meta, batch int, max int64) []meta {
	over := pending[0].size > max
	n := 1
	for n < len(pending) && n < batch && (pending[n].size > max) == over {
		n++
	}
	return pending[:n]
}

type runResult struct {
	consumed  int // leading messages of the run settled: delivered, failed or gone
	processed imap.UIDSet
	failed    imap.UIDSet
}

// deliverRun fetches the run in one FETCH and delivers its messages in UID
// order, one by one or in batches. It stops at the first message the server
// skipped; a run of one settles that message instead (see settleMissing).
func (s *session) deliverRun(ctx context.Context, validity uint32, run []meta) (res runResult, err error) {
	oversized := run[0].size > s.p.cfg.MaxMessageBytes
	section := &imap.FetchItemBodySection{Peek: true}
	if oversized {
		section.Specifier = imap.PartSpecifierHeader
	}
	var set imap.UIDSet
	for _, m := range run {
		set.AddNum(m.uid)
	}
	fetch := s.c.Fetch(set, &imap.FetchOptions{
		UID:         true,
		BodySection: []*imap.FetchItemBodySection{section},
	})
	s.open = fetch

	if s.p.batch != nil {
		err = s.deliverBatches(ctx, fetch, validity, run, oversized, &res)
	} else {
		err = s.deliverEach(ctx, fetch, validity, run, oversized, &res)
	}
	if err != nil {
		return res, err
	}

	err = s.wd.guard(fetch.Close)
	s.open = nil
	if err != nil && !isServerRefusal(err) {
		return res, fmt.Errorf("fetching messages: %w", err)
	}
	if err != nil {
		s.p.log.Debug("FETCH refused", "err", err)
	}
	if res.consumed == 0 && len(run) == 1 {
		return res, s.settleMissing(ctx, validity, run[0], oversized, &res)
	}
	return res, nil
}

// deliverEach streams each message of the run to Handler.Deliver.
func (s *session) deliverEach(ctx context.Context, fetch *imapclient.FetchCommand, validity uint32, run []meta, oversized bool, res *runResult) error {
	for res.consumed < len(run) {
		m := run[res.consumed]
		lit, err := s.nextBody(fetch, m.uid)
		if err != nil || lit == nil {
			return err
		}
		if err := s.deliver(ctx, validity, m, oversized, lit, res); err != nil {
			return err
		}
		res.consumed++
	}
	return nil
}

// nextBody returns the body literal of want, the next message of the run,
// or nil when the server skipped it or the response ended.
func (s *session) nextBody(fetch *imapclient.FetchCommand, want imap.UID) (imap.LiteralReader, error) {
	for {
		var msg *imapclient.FetchMessageData
		if err := s.wd.guard(func() error { msg = fetch.Next(); return nil }); err != nil {
			return nil, err
		}
		if msg == nil {
			return nil, nil
		}
		uid, lit, err := s.readUntilBody(msg)
		if err != nil {
			return nil, err
		}
		if lit == nil || uid < want {
			continue // not one we can use; the next Next discards it
		}
		if uid > want {
			return nil, nil // the server skipped want
		}
		return lit, nil
	}
}

// readUntilBody reads a FETCH response's items up to the body literal.
func (s *session) readUntilBody(msg *imapclient.FetchMessageData) (imap.UID, imap.LiteralReader, error) {
	var uid imap.UID
	for {
		var item imapclient.FetchItemData
		if err := s.wd.guard(func() error { item = msg.Next(); return nil }); err != nil {
			return 0, nil, err
		}
		switch it := item.(type) {
		case nil:
			return uid, nil, nil
		case imapclient.FetchItemDataUID:
			uid = it.UID
		case imapclient.FetchItemDataBodySection:
			if it.Literal == nil {
				return uid, nil, nil
			}
			return uid, it.Literal, nil
		}
	}
}

// deliver hands one message to the Handler and settles its outcome.
func (s *session) deliver(ctx context.Context, validity uint32, m meta, oversized bool, lit imap.LiteralReader, res *runResult) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	body := &bodyReader{r: lit, wd: s.wd}
	d := s.delivery(validity, m, oversized, body)
	herr := s.p.h.Deliver(s.work, d) // a message in hand is finished at shutdown
	if err := body.drain(); err != nil {
		s.abandonFetch()
		return err
	}
	return s.settle(ctx, d, herr, res)
}

// abandonFetch forgets the open FETCH after a body read failed: the
// connection is dead, the client's reader no longer waits on the literal, and
// draining the FETCH would read the connection concurrently with it.
func (s *session) abandonFetch() { s.open = nil }

// delivery describes message m of the mailbox to the Handler.
func (s *session) delivery(validity uint32, m meta, oversized bool, body io.Reader) Delivery {
	return Delivery{
		Mailbox:      s.p.cfg.Key(),
		UIDValidity:  validity,
		UID:          uint32(m.uid),
		Size:         m.size,
		InternalDate: m.date,
		Flags:        m.flags,
		Oversized:    oversized,
		Body:         body,
	}
}

// settle records the Handler's verdict on d: committed messages are moved
// after the run, permanent failures are set aside, and a temporary failure
// stops the run.
func (s *session) settle(ctx context.Context, d Delivery, herr error, res *runResult) error {
	switch {
	case herr == nil:
		res.processed.AddNum(imap.UID(d.UID))
		return nil
	case IsPermanent(herr):
		return s.fail(ctx, d, herr, res)
	default:
		return &handlerError{uid: d.UID, err: fmt.Errorf("delivering UID %d: %w", d.UID, herr)}
	}
}

func (s *session) fail(ctx context.Context, d Delivery, cause error, res *runResult) error {
	s.p.log.Error("message cannot be handled; setting it aside",
		"uid", d.UID, "folder", s.p.cfg.FailedMailbox, "err", cause)
	d.Body = strings.NewReader("")
	if err := s.p.h.Fail(s.work, d, cause); err != nil {
		return &handlerError{err: fmt.Errorf("recording failed UID %d: %w", d.UID, err)}
	}
	res.failed.AddNum(imap.UID(d.UID))
	return nil
}

// settleMissing handles a message the server did not return when asked for
// it alone: gone (expunged meanwhile) is fine; still there means it cannot
// be fetched, a permanent failure.
func (s *session) settleMissing(ctx context.Context, validity uint32, m meta, oversized bool, res *runResult) error {
	var bufs []*imapclient.FetchMessageBuffer
	err := s.wd.guard(func() (err error) {
		bufs, err = s.c.Fetch(imap.UIDSetNum(m.uid), &imap.FetchOptions{UID: true}).Collect()
		return err
	})
	if err != nil && !isServerRefusal(err) {
		return fmt.Errorf("checking UID %d: %w", m.uid, err)
	}
	res.consumed = 1
	for _, b := range bufs {
		if b.UID == m.uid {
			d := s.delivery(validity, m, oversized, nil)
			return s.fail(ctx, d, Permanent(errors.New("the server does not return this message's content")), res)
		}
	}
	s.p.log.Info("message vanished before it was fetched", "uid", m.uid)
	return nil
}

// transfer moves committed messages to folder. A refusal is logged, not
// fatal: the messages are committed and the cursor is past them.
func (s *session) transfer(uids imap.UIDSet, folder string) error {
	var err error
	if s.move {
		err = s.wd.guard(func() error {
			_, err := s.c.Move(uids, folder).Wait()
			return err
		})
	} else {
		// Without UIDPLUS the only way to remove them is a plain
		// EXPUNGE, which would also remove anyone's \Deleted messages.
		s.p.copyOnlyOnce.Do(func() {
			s.p.log.Warn("server has neither MOVE nor UIDPLUS; copying messages and leaving them in place",
				"folder", folder)
		})
		err = s.wd.guard(func() error {
			_, err := s.c.Copy(uids, folder).Wait()
			return err
		})
	}
	if err == nil {
		return nil
	}
	if isServerRefusal(err) {
		s.p.log.Warn("cannot move messages", "folder", folder, "uids", uids.String(), "err", err)
		return nil
	}
	return fmt.Errorf("moving to %s: %w", folder, err)
}
