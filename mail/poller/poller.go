// Package poller watches one IMAP mailbox and hands every new message to a
// Handler, exactly once per UIDVALIDITY, in UID order.
//
// Guarantees:
//   - The cursor (UIDVALIDITY, last committed UID) belongs to the Handler,
//     which commits it together with the message. The poller only fetches
//     UIDs above it, so a restart never redelivers a committed message.
//   - Messages are fetched with BODY.PEEK[]: \Seen is never set and never
//     used as the work queue. Bodies are streamed to the Handler.
//   - A changed UIDVALIDITY resets the cursor and rescans the mailbox; the
//     Handler's idempotency makes the redelivery safe.
//   - A message the Handler cannot handle at all (a Permanent error) is
//     recorded with Handler.Fail and moved aside, so it never blocks the
//     mailbox. Any other error stops the batch without advancing the cursor;
//     the same message is delivered again after a backoff.
//   - A BatchHandler gets up to DeliveryBatch messages per call, read into
//     memory first, and every message is settled in order as if delivered
//     alone: the first temporary failure stops the run there.
//   - A message over the size cap is delivered with its header only and
//     Oversized set; it is never dropped silently.
//   - Committed messages are moved to ProcessedMailbox if set, with MOVE, or
//     COPY + STORE \Deleted + UID EXPUNGE when the server has UIDPLUS; never
//     with a plain EXPUNGE. Without either they are copied and left in place.
//   - Every wait on the server has a deadline; a dead connection is closed and
//     redialled with jittered exponential backoff. State changes (connected,
//     connection lost, recovered) are logged once, not on every retry.
package poller

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/helpdesk/helpdesk/mail/xoauth2"
)

// Defaults for the zero values of Config.
const (
	DefaultMailbox            = "INBOX"
	DefaultPollInterval       = 60 * time.Second
	DefaultMaxMessageBytes    = 25 << 20
	DefaultBatchSize          = 200
	DefaultDeliveryBatch      = 64
	DefaultDeliveryBatchBytes = 16 << 20
	DefaultIOTimeout          = 2 * time.Minute
	DefaultDrainTimeout       = 10 * time.Second

	// maxIdle caps one IDLE command below the 30 minutes after which
	// servers may log an idle client out (RFC 2177).
	maxIdle = 25 * time.Minute
)

// Config describes one mailbox to watch.
type Config struct {
	// Name identifies the configured mailbox, e.g. "support". Together
	// with Mailbox it forms the cursor key passed to the Handler.
	Name string

	Addr string // host:port
	// TLS is "tls" (implicit, usually port 993), "starttls" or "none".
	TLS       string
	TLSConfig *tls.Config // optional; ServerName defaults to Addr's host

	// Auth is "login" (the default), "plain" (AUTHENTICATE PLAIN) or
	// "xoauth2" (Gmail, Microsoft 365), which takes its access token from
	// Token, or from Password when Token is nil.
	Auth     string
	Username string
	Password string
	Token    xoauth2.TokenSource

	Mailbox          string // default "INBOX"
	ProcessedMailbox string // committed messages go here; "" leaves them in place
	FailedMailbox    string // permanently failed messages go here; "" leaves them in place

	// PollInterval is how often the mailbox is checked when the server
	// lacks IDLE, and the safety-net recheck while idling (capped at 25
	// minutes). Default 60s.
	PollInterval time.Duration
	// MaxMessageBytes is the largest message delivered whole; larger ones
	// are delivered with their header only. Default 25 MiB.
	MaxMessageBytes int64
	// BatchSize is the most messages fetched by one FETCH command.
	// Default 200.
	BatchSize int
	// DeliveryBatch is the most messages handed to a BatchHandler in one
	// DeliverBatch call; 1 delivers message by message. A FETCH then
	// carries up to max(BatchSize, DeliveryBatch) messages. Default 64.
	DeliveryBatch int
	// DeliveryBatchBytes bounds the message bytes held in memory for one
	// DeliverBatch call; a single message over it goes alone. Default
	// 16 MiB.
	DeliveryBatchBytes int64
	// IOTimeout bounds every wait for the server (dial, greeting, each
	// command, each read of a body). Default 2m.
	IOTimeout time.Duration

	// DrainTimeout is how long, once Run's ctx is done, the message in hand
	// may still take to be delivered and the session to end with LOGOUT;
	// then the connection is closed regardless. Default 10s.
	DrainTimeout time.Duration

	// OnError, if set, is called from the poller's goroutine after every
	// failed attempt with its kind (see ErrorKind), e.g. to count errors.
	OnError func(kind string)

	Logger *slog.Logger // default slog.Default()
}

// Key returns the cursor key the poller passes to the Handler:
// Name + "/" + Mailbox, e.g. "support/INBOX".
func (c Config) Key() string {
	mbox := c.Mailbox
	if mbox == "" {
		mbox = DefaultMailbox
	}
	return c.Name + "/" + mbox
}

// Cursor is the position of a mailbox: every message with a UID up to
// LastUID under UIDValidity has been committed.
type Cursor struct {
	UIDValidity uint32
	LastUID     uint32
}

// Delivery is one message handed to the Handler.
type Delivery struct {
	Mailbox      string // the cursor key, Config.Key()
	UIDValidity  uint32
	UID          uint32
	Size         int64 // RFC822.SIZE reported by the server
	InternalDate time.Time
	Flags        []string
	// Oversized is set when Size is over the cap: Body holds only the
	// header section (ending with its blank line).
	Oversized bool
	// Body streams the raw message straight from the connection. It is
	// valid only during the call; what the Handler does not read is
	// discarded. Read it promptly (the server's literal waits on it; a
	// stall of minutes mid-body drops the connection). A read error means
	// the connection failed: the Handler should return it.
	// In a DeliverBatch call it is a *bytes.Reader holding the whole
	// message (or header), readable for the whole call.
	Body io.Reader
}

// Handler is the ingest side. One Poller calls it from one goroutine;
// several Pollers may share a Handler.
type Handler interface {
	// Cursor returns the stored cursor for mailbox; the zero Cursor if
	// none.
	Cursor(ctx context.Context, mailbox string) (Cursor, error)
	// Deliver commits the message and advances the cursor to
	// (d.UIDValidity, d.UID) atomically. It must be idempotent: after a
	// UIDVALIDITY reset the same message comes again. A Permanent error
	// means the message can never be handled; any other error is
	// temporary and the message is delivered again later.
	Deliver(ctx context.Context, d Delivery) error
	// Fail records a message that cannot be handled and advances the
	// cursor past it. d.Body is empty: the message stays on the server
	// (in FailedMailbox if set). An error stops the batch, as a temporary
	// Deliver error does.
	Fail(ctx context.Context, d Delivery, cause error) error
	// ResetCursor stores (uidValidity, 0) for mailbox. It is called on the
	// first run and when the server's UIDVALIDITY changed.
	ResetCursor(ctx context.Context, mailbox string, uidValidity uint32) error
}

// BatchHandler is a Handler that can commit several messages in one call.
// The poller uses it when Config.DeliveryBatch is over 1.
type BatchHandler interface {
	Handler
	// DeliverBatch commits the messages of ds, in order, each with the
	// cursor as Deliver does, and returns one error per delivery with
	// Deliver's meaning: nil committed; Permanent, never handled (the
	// poller calls Fail); any other error is temporary and neither that
	// message nor any later one of ds is committed. Returning fewer errors
	// than deliveries counts as a temporary failure of the missing ones.
	DeliverBatch(ctx context.Context, ds []Delivery) []error
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks err as a permanent failure: the message will never be
// handled, so it is recorded and set aside instead of retried.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

// IsPermanent reports whether err, or an error it wraps, was marked with
// Permanent.
func IsPermanent(err error) bool {
	var pe *permanentError
	return errors.As(err, &pe)
}

// Poller watches one mailbox. Create it with New.
type Poller struct {
	cfg Config
	h   Handler
	// batch is h when it delivers in batches (BatchHandler and
	// DeliveryBatch > 1), else nil.
	batch BatchHandler
	log   *slog.Logger

	// Backoff bounds between failed attempts; tests shorten them.
	minBackoff, maxBackoff time.Duration
	// onIdle, if set, is called each time IDLE is established (tests).
	onIdle func()

	copyOnlyOnce sync.Once

	status status // for Status and Check
}

// New validates cfg, fills in defaults and returns a Poller.
func New(cfg Config, h Handler) (*Poller, error) {
	if h == nil {
		return nil, errors.New("poller: nil handler")
	}
	if cfg.Name == "" || strings.ContainsAny(cfg.Name, "/ \t\r\n") {
		return nil, fmt.Errorf("poller: name %q must be non-empty, without '/' or spaces", cfg.Name)
	}
	if _, _, err := net.SplitHostPort(cfg.Addr); err != nil {
		return nil, fmt.Errorf("poller %s: address %q: %w", cfg.Name, cfg.Addr, err)
	}
	switch cfg.TLS {
	case "tls", "starttls", "none":
	default:
		return nil, fmt.Errorf("poller %s: TLS must be tls, starttls or none, not %q", cfg.Name, cfg.TLS)
	}
	if cfg.Auth == "" {
		cfg.Auth = "login"
	}
	if cfg.Username == "" {
		return nil, fmt.Errorf("poller %s: username is required", cfg.Name)
	}
	switch cfg.Auth {
	case "login", "plain":
		if cfg.Password == "" {
			return nil, fmt.Errorf("poller %s: password is required for auth %s", cfg.Name, cfg.Auth)
		}
	case "xoauth2":
		if cfg.Token == nil {
			if cfg.Password == "" {
				return nil, fmt.Errorf("poller %s: xoauth2 needs a token source or a token as password", cfg.Name)
			}
			cfg.Token = xoauth2.StaticToken(cfg.Password)
		}
	default:
		return nil, fmt.Errorf("poller %s: auth must be login, plain or xoauth2, not %q", cfg.Name, cfg.Auth)
	}
	if cfg.Mailbox == "" {
		cfg.Mailbox = DefaultMailbox
	}
	for _, f := range []string{cfg.ProcessedMailbox, cfg.FailedMailbox} {
		if f != "" && strings.EqualFold(f, cfg.Mailbox) {
			return nil, fmt.Errorf("poller %s: folder %q is the watched mailbox", cfg.Name, f)
		}
	}
	if cfg.PollInterval < 0 || cfg.MaxMessageBytes < 0 || cfg.BatchSize < 0 || cfg.DeliveryBatch < 0 ||
		cfg.DeliveryBatchBytes < 0 || cfg.IOTimeout < 0 || cfg.DrainTimeout < 0 {
		return nil, fmt.Errorf("poller %s: negative interval, size or timeout", cfg.Name)
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.MaxMessageBytes == 0 {
		cfg.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.DeliveryBatch == 0 {
		cfg.DeliveryBatch = DefaultDeliveryBatch
	}
	if cfg.DeliveryBatchBytes == 0 {
		cfg.DeliveryBatchBytes = DefaultDeliveryBatchBytes
	}
	if cfg.IOTimeout == 0 {
		cfg.IOTimeout = DefaultIOTimeout
	}
	if cfg.DrainTimeout == 0 {
		cfg.DrainTimeout = DefaultDrainTimeout
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	p := &Poller{
		cfg:        cfg,
		h:          h,
		log:        log.With("mailbox", cfg.Key(), "addr", cfg.Addr),
		minBackoff: time.Second,
		maxBackoff: time.Minute,
	}
	if bh, ok := h.(BatchHandler); ok && cfg.DeliveryBatch > 1 {
		p.batch = bh
	}
	return p, nil
}

// fetchSize is the most messages of one FETCH.
func (p *Poller) fetchSize() int {
	if p.batch != nil {
		return max(p.cfg.BatchSize, p.cfg.DeliveryBatch)
	}
	return p.cfg.BatchSize
}

// Run polls until ctx is done, then returns nil. Failures (network, server,
// Handler) never end it: it logs the change of state once and retries with
// backoff. When ctx is done, the message being delivered is finished (within
// DrainTimeout), no further one is started, and the session ends with LOGOUT.
func (p *Poller) Run(ctx context.Context) error {
	st := health{status: &p.status, onError: p.cfg.OnError}
	for {
		err := p.session(ctx, &st)
		if ctx.Err() != nil {
			return nil
		}
		st.fail(p.log, err, time.Now())
		delay := backoff(st.failures, p.minBackoff, p.maxBackoff, rand.Float64())
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// backoff returns the wait before retry number attempt (1-based): doubling
// from min up to max, with the upper half jittered by r in [0,1).
func backoff(attempt int, min, max time.Duration, r float64) time.Duration {
	d := max
	if attempt < 1 {
		attempt = 1
	}
	if attempt < 32 {
		if v := min << (attempt - 1); v > 0 && v < max {
			d = v
		}
	}
	return d/2 + time.Duration(r*float64(d/2))
}

// handlerError marks a temporary Handler failure, to tell it apart from a
// connection failure in the logs.
type handlerError struct {
	uid uint32 // the message that failed, if it was a delivery
	err error
}

func (e *handlerError) Error() string { return "handler: " + e.err.Error() }
func (e *handlerError) Unwrap() error { return e.err }

// health tracks the poller's state across sessions so that each change is
// logged once.
type health struct {
	connected bool // a round has succeeded since the last failure
	everUp    bool
	failures  int    // consecutive failed attempts
	kind      string // what is failing: "connection" or "handler"
	since     time.Time
	status    *status           // mirrors the state for Poller.Status; may be nil
	onError   func(kind string) // Config.OnError; may be nil
}

func (h *health) ok(log *slog.Logger, now time.Time, idle bool) {
	h.status.ok(now, idle)
	if h.connected {
		return
	}
	switch {
	case !h.everUp:
		log.Info("mailbox connected", "idle", idle)
	case h.kind == "handler":
		log.Info("delivery recovered", "attempts", h.failures, "after", now.Sub(h.since).Round(time.Millisecond))
	default:
		log.Info("mailbox reconnected", "attempts", h.failures, "after", now.Sub(h.since).Round(time.Millisecond), "idle", idle)
	}
	h.connected, h.everUp, h.failures, h.kind = true, true, 0, ""
}

func (h *health) fail(log *slog.Logger, err error, now time.Time) {
	kind := "connection"
	var he *handlerError
	if errors.As(err, &he) {
		kind = "handler"
	}
	if h.failures == 0 {
		h.since = now
	}
	h.failures++
	h.status.fail(err, ErrorKind(err), h.since)
	if h.onError != nil {
		h.onError(ErrorKind(err))
	}
	if he != nil && he.uid != 0 {
		// Each retry of a message is worth a line: it names the UID and,
		// from the Handler, the attempt.
		h.kind = kind
		h.connected = false
		log.Warn("delivery failed temporarily; will retry", "uid", he.uid, "retries", h.failures, "err", err)
		return
	}
	if kind == h.kind {
		log.Debug("still failing", "kind", kind, "attempts", h.failures, "err", err)
		return
	}
	h.kind = kind
	switch {
	case kind == "handler":
		log.Warn("delivery failed temporarily; will retry", "err", err)
	case h.connected:
		log.Warn("mailbox connection lost", "err", err)
	default:
		log.Warn("mailbox unreachable", "err", err)
	}
	h.connected = false
}
