package helpdesk

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/helpdesk/helpdesk/helpdesk/lifecycle"
	"github.com/helpdesk/helpdesk/mail"
	"github.com/helpdesk/helpdesk/threading"
)

// Ingest is exactly-once per Message-ID: each inbound mail is stored, threaded
// and applied in one transaction together with its mailbox cursor, so a crash
// at any point followed by a restart yields the same cases, comments and
// notifications as a run without the crash; a second delivery of a stored
// Message-ID changes nothing.

// Decisions recorded on inbound messages.
const (
	DecisionNewCase   = "new_case"
	DecisionComment   = "comment"
	DecisionHeld      = "held"
	DecisionStored    = "stored"  // automated mail kept on the case it threads to
	DecisionIgnored   = "ignored" // own mail coming back, automated mail without a case
	DecisionOversized = "oversized"
	DecisionFailed    = "failed"
	DecisionRefused   = "refused"   // an unknown sender the policy does not let open cases
	DecisionFollowUp  = "follow_up" // a reply to a closed case opened a new linked case
)

// IngestConfig configures an Ingester.
type IngestConfig struct {
	Own             []string // our addresses (support address and aliases), lower-case
	MessageIDDomain string
	LoopID          string
	RawRetention    time.Duration // default 90 days
	SuppressFor     time.Duration // how long a permanently bounced address gets no mail (default 30 days)
	MaxAttachment   int64         // stored bytes per attachment (default 50 MiB)
	// MaxMessageSize is the poller's fetch limit, quoted to the sender of a
	// larger mail (default DefaultMaxMessageSize).
	MaxMessageSize int64
	// SenderCaseLimit is how many new cases one sender opens per hour; more
	// mail is stored as throttled, unanswered, and agents get one digest
	// (default 5; negative: no limit). See loops.go.
	SenderCaseLimit int
	// SelfServiceLimit is how many self-service mails ("my cases") one
	// address gets answered per hour (default 10; negative: no limit).
	SelfServiceLimit int
	// LoopWindow: a new case from an address we sent an automated mail to
	// within this time is not acknowledged when it quotes that mail (default
	// 10m; negative: off).
	LoopWindow time.Duration
	Notifier   *Notifier // nil: no notifications
	Tokens     *threading.Tokens
	// UnknownSenders: "open" (anyone may open a case; a customer user is
	// created), "domain" (only addresses of known org domains) or
	// "registered" (only known users). Default open.
	UnknownSenders string
	Access         AccessPolicy
	// StrangerNewCase: mail from a sender not allowed on the case it threads
	// to opens a case of its own instead of being held for review.
	StrangerNewCase bool
	// AgentAuth: staff mail acts only when Authentication-Results from
	// AuthServID show an aligned dkim or spf pass; otherwise it is held.
	AgentAuth  bool
	AuthServID string
	// TrustedHops is how many Received fields sit above the border's
	// Authentication-Results (threading.Border); the zero value, the
	// strictest, trusts only fields above every Received field.
	TrustedHops  int
	RefusalEvery time.Duration // at most one refusal per address in this time (default 24h)
	// MaxAttempts is how many temporary failures of one message are
	// retried before it is set aside as failed (default 5; negative: never).
	MaxAttempts int
	// GiveUpAfter is the least time between the first and the last failed
	// attempt before a message is set aside (default 1m): a burst of
	// failures in a short outage never costs a good mail.
	GiveUpAfter time.Duration
	// ParentWait is how long a reply whose parent we have not seen waits
	// for it before it opens a case (default 2m; negative: no waiting).
	ParentWait time.Duration
	// Policy is the case lifecycle (reopen window, reminders, SLA); zero
	// value: lifecycle.DefaultPolicy().
	Policy lifecycle.Policy
	Now    func() time.Time
	Logger *slog.Logger
}

// Ingester turns inbound mail into cases and comments.
type Ingester struct {
	store *Store
	cfg   IngestConfig
	log   *slog.Logger
}

// NewIngester validates cfg.
func NewIngester(s *Store, cfg IngestConfig) (*Ingester, error) {
	if s == nil {
		return nil, errors.New("ingester: nil store")
	}
	if len(cfg.Own) == 0 || cfg.MessageIDDomain == "" || cfg.LoopID == "" {
		return nil, errors.New("ingester: own addresses, message-id domain and loop id are required")
	}
	for i, a := range cfg.Own {
		cfg.Own[i] = strings.ToLower(a)
	}
	if cfg.RawRetention <= 0 {
		cfg.RawRetention = 90 * 24 * time.Hour
	}
	if cfg.SuppressFor <= 0 {
		cfg.SuppressFor = 30 * 24 * time.Hour
	}
	if cfg.MaxMessageSize <= 0 {
		cfg.MaxMessageSize = DefaultMaxMessageSize
	}
	if cfg.SenderCaseLimit == 0 {
		cfg.SenderCaseLimit = 5
	}
	if cfg.LoopWindow == 0 {
		cfg.LoopWindow = 10 * time.Minute
	}
	switch cfg.UnknownSenders {
	case "":
		cfg.UnknownSenders = "open"
	case "open", "domain", "registered":
	default:
		return nil, fmt.Errorf("ingester: unknown-sender policy %q", cfg.UnknownSenders)
	}
	if cfg.Policy.ReopenWindow == 0 {
		cfg.Policy = lifecycle.DefaultPolicy()
	}
	if err := cfg.Policy.Validate(); err != nil {
		return nil, fmt.Errorf("ingester: lifecycle policy: %w", err)
	}
	if cfg.RefusalEvery <= 0 {
		cfg.RefusalEvery = 24 * time.Hour
	}
	if cfg.GiveUpAfter == 0 {
		cfg.GiveUpAfter = time.Minute
	}
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = 5
	}
	if cfg.ParentWait == 0 {
		cfg.ParentWait = 2 * time.Minute
	}
	if cfg.MaxAttachment == 0 {
		cfg.MaxAttachment = mail.DefaultMaxAttachmentBytes
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Ingester{store: s, cfg: cfg, log: log.With("component", "ingest")}, nil
}

// Inbound is one message as fetched from a mailbox.
type Inbound struct {
	Mailbox     string // cursor key
	UIDValidity uint32
	UID         uint32
	Size        int64 // as the server reports it
	Oversized   bool  // Body holds only the header
	Body        io.Reader
	// Local: written on this machine with the CLI (helpdeskd cases
	// comment|open; localmail.go), never by the poller. It moves no
	// mailbox cursor, and its sender counts as authenticated (trust.go).
	Local bool

	replay bool // stored mail run again: the mailbox position stays
	final  bool // decided for good: no more waiting for a parent
}

// Result says what ingest did with a message.
type Result struct {
	MessageID string
	Duplicate bool
	CaseID    int64
	Class     string
	Decision  string
	Rule      string
	Reason    string
}

// ErrPermanent marks a failure that retrying cannot fix: the message must be
// set aside (recorded as failed) so that it does not block the mailbox.
var ErrPermanent = errors.New("cannot be ingested")

// IsPermanent reports whether err means the message can never be ingested.
func IsPermanent(err error) bool {
	return errors.Is(err, ErrPermanent) || errors.Is(err, ErrInvalid)
}

// Cursor returns the committed position in a mailbox; zero values when the
// mailbox was never read.
func (g *Ingester) Cursor(ctx context.Context, mailbox string) (uidValidity, lastUID uint32, err error) {
	var c struct {
		V int64 `db:"uid_validity"`
		L int64 `db:"last_uid"`
	}
	err = g.store.db.GetContext(ctx, &c, `SELECT uid_validity, last_uid FROM mailbox_cursors WHERE mailbox = $1`, mailbox)
	if errors.Is(mapErr(err), ErrNotFound) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, fmt.Errorf("cursor %s: %w", mailbox, mapErr(err))
	}
	return uint32(c.V), uint32(c.L), nil
}

// ResetCursor starts a mailbox over under a new UIDVALIDITY. Messages seen
// before are recognised by Message-ID, so the rescan duplicates nothing.
func (g *Ingester) ResetCursor(ctx context.Context, mailbox string, uidValidity uint32) error {
	_, err := g.store.db.ExecContext(ctx, `INSERT INTO mailbox_cursors (mailbox, uid_validity, last_uid, updated_at)
		VALUES ($1, $2, 0, now())
		ON CONFLICT (mailbox) DO UPDATE SET uid_validity = $2, last_uid = 0, updated_at = now()`, mailbox, int64(uidValidity))
	if err != nil {
		return fmt.Errorf("reset cursor %s: %w", mailbox, mapErr(err))
	}
	return nil
}

func advanceCursor(ctx context.Context, q Queryer, in Inbound) error {
	if in.Mailbox == "" || in.replay || in.Local {
		return nil // reprocessing or the CLI: no mailbox position
	}
	_, err := q.ExecContext(ctx, `INSERT INTO mailbox_cursors (mailbox, uid_validity, last_uid, updated_at)
		VALUES ($1, $2, $3, now())
		ON CONFLICT (mailbox) DO UPDATE SET last_uid = greatest(mailbox_cursors.last_uid, $3), updated_at = now()
		WHERE mailbox_cursors.uid_validity = $2`, in.Mailbox, int64(in.UIDValidity), int64(in.UID))
	if err != nil {
		return fmt.Errorf("advance cursor %s: %w", in.Mailbox, mapErr(err))
	}
	return nil
}

// Fail records a message that cannot be handled at all and moves the cursor
// past it. The raw mail stays on the server (in the Failed folder).
func (g *Ingester) Fail(ctx context.Context, in Inbound, cause error) error {
	id := fmt.Sprintf("failed.%d.%d.%s@helpdesk.invalid", in.UIDValidity, in.UID, strings.NewReplacer("/", "-", " ", "-").Replace(in.Mailbox))
	return g.store.WithTx(ctx, func(tx *sqlx.Tx) error {
		// Not when another daemon ingested this UID meanwhile.
		_, err := tx.ExecContext(ctx, `INSERT INTO messages (message_id, direction, mailbox, uid_validity, uid, decision, reason, size, received_at)
			SELECT $1, 'in', $2, $3, $4, 'failed', $5, $6, $7
			WHERE NOT EXISTS (SELECT 1 FROM messages WHERE mailbox = $2 AND uid_validity = $3 AND uid = $4 AND uid IS NOT NULL)
			ON CONFLICT (message_id, direction) DO NOTHING`,
			id, in.Mailbox, int64(in.UIDValidity), int64(in.UID), truncateText(cause.Error(), 2000), in.Size, g.cfg.Now())
		if err != nil {
			return fmt.Errorf("record failed message: %w", mapErr(err))
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM inbound_attempts WHERE mailbox = $1 AND uid_validity = $2 AND uid = $3`,
			in.Mailbox, int64(in.UIDValidity), int64(in.UID)); err != nil {
			return fmt.Errorf("record failed message: %w", mapErr(err))
		}
		return advanceCursor(ctx, tx, in)
	})
}

// Ingest stores, threads and applies one message in one transaction.
//
// Every failure is either temporary (the database or the mailbox connection
// went away, a serialization failure, a race with another daemon) or
// permanent (anything about the message itself): IsPermanent(err) says the
// message can never be ingested and must be set aside. A temporary failure
// changes nothing and is counted per message; once one message has failed
// MaxAttempts times it is reported as permanent too, so no message can hold
// the mailbox, whatever made it fail. A failure while the database cannot
// even record the attempt is not counted: an outage poisons nothing.
func (g *Ingester) Ingest(ctx context.Context, in Inbound) (Result, error) {
	res, err := g.ingestOnce(ctx, in)
	if err == nil || IsPermanent(err) {
		return res, err
	}
	if !Temporary(err) {
		return res, fmt.Errorf("%w: %w", ErrPermanent, err)
	}
	if in.Mailbox == "" || in.Local || g.cfg.MaxAttempts <= 0 || ctx.Err() != nil {
		return res, err
	}
	n, first, rerr := g.recordAttempt(ctx, in, err)
	if rerr != nil {
		g.log.Warn("ingest failed; the attempt could not be counted", "mailbox", in.Mailbox, "uid", in.UID, "err", err, "count_err", rerr)
		return res, err
	}
	if span := g.cfg.Now().Sub(first); n >= g.cfg.MaxAttempts && span >= g.cfg.GiveUpAfter {
		return res, fmt.Errorf("%w: gave up after %d attempts in %s: %w", ErrPermanent, n, span.Round(time.Second), err)
	}
	g.log.Warn("ingest failed temporarily; will retry", "mailbox", in.Mailbox, "uid", in.UID, "attempt", n, "max_attempts", g.cfg.MaxAttempts, "err", err)
	return res, fmt.Errorf("attempt %d of %d: %w", n, g.cfg.MaxAttempts, err)
}

// Temporary reports whether err may go away by itself: the database or a
// connection is unavailable, a transaction lost a race (serialization
// failure, deadlock, a unique key another daemon took first), the mailbox
// stream broke, or ctx ended. Everything else is about the message.
func Temporary(err error) bool {
	if err == nil {
		return false
	}
	var se *sourceError
	if errors.As(err, &se) || errors.Is(err, ErrUnavailable) || errors.Is(err, context.Canceled) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrConflict) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, sql.ErrConnDone) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		switch pqErr.Code.Class() {
		case "08", "40", "53", "55", "57", "58", "XX":
			// connection, transaction rollback, resources, lock not
			// available, operator intervention, system and internal errors
			return true
		}
		return false
	}
	var netErr net.Error
	return errors.As(err, &netErr)
}

// sourceError is a failure reading the mail itself from the mailbox (a
// broken connection), as opposed to a failure handling what was read.
type sourceError struct{ err error }

func (e *sourceError) Error() string { return "reading the mail: " + e.err.Error() }
func (e *sourceError) Unwrap() error { return e.err }

type sourceReader struct{ r io.Reader }

func (s sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		err = &sourceError{err}
	}
	return n, err
}

// recordAttempt counts a failed attempt at in and returns how many there
// were. It runs outside the failed transaction.
func (g *Ingester) recordAttempt(ctx context.Context, in Inbound, cause error) (int, time.Time, error) {
	var a struct {
		N     int       `db:"attempts"`
		First time.Time `db:"first_at"`
	}
	err := g.store.WithTx(ctx, func(tx *sqlx.Tx) error {
		now := g.cfg.Now()
		if err := tx.GetContext(ctx, &a, `INSERT INTO inbound_attempts (mailbox, uid_validity, uid, attempts, last_error, first_at, last_at)
			VALUES ($1, $2, $3, 1, $4, $5, $5)
			ON CONFLICT (mailbox, uid_validity, uid) DO UPDATE SET attempts = inbound_attempts.attempts + 1, last_error = $4, last_at = $5
			RETURNING attempts, first_at`, in.Mailbox, int64(in.UIDValidity), int64(in.UID), truncateText(cause.Error(), 2000), now); err != nil {
			return fmt.Errorf("count attempt: %w", mapErr(err))
		}
		// Attempts at messages committed since are of no use any more.
		_, err := tx.ExecContext(ctx, `DELETE FROM inbound_attempts a USING mailbox_cursors c
			WHERE a.mailbox = c.mailbox AND (a.uid_validity <> c.uid_validity OR a.uid <= c.last_uid)`)
		if err != nil {
			return fmt.Errorf("purge attempts: %w", mapErr(err))
		}
		return nil
	})
	return a.N, a.First, err
}

func (g *Ingester) ingestOnce(ctx context.Context, in Inbound) (Result, error) {
	if in.Body != nil {
		in.Body = sourceReader{in.Body}
	}
	res, err := g.transact(ctx, []Inbound{in})
	if err != nil {
		return Result{}, err
	}
	return res[0], nil
}

// transact runs one batch in one transaction; a panic is a permanent
// failure of the batch.
func (g *Ingester) transact(ctx context.Context, batch []Inbound) (res []Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			g.log.Error("ingest panicked", "mailbox", batch[0].Mailbox, "uid", batch[0].UID, "batch", len(batch), "panic", p, "stack", string(debug.Stack()))
			err = fmt.Errorf("%w: panic: %v", ErrPermanent, p)
		}
	}()
	err = g.store.WithTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		res, err = g.runBatch(ctx, tx, batch)
		return err
	})
	return res, err
}

// Reprocess runs a stored inbound message through ingest again, e.g. after a
// grant was added for a held message or a poison message's cause was fixed.
// Messages that became a case or a comment are refused: running them again
// would apply them twice.
func (g *Ingester) Reprocess(ctx context.Context, messageID string) (Result, error) {
	return g.reprocess(ctx, messageID, false)
}

// reprocess runs a stored message again in one transaction. onlyWaiting
// takes a mail that waits for its parent and decides it for good; it returns
// errNotWaiting when the mail was decided meanwhile.
func (g *Ingester) reprocess(ctx context.Context, messageID string, onlyWaiting bool) (Result, error) {
	var res Result
	err := g.store.WithTx(ctx, func(tx *sqlx.Tx) error {
		var m struct {
			ID          int64   `db:"id"`
			Decision    string  `db:"decision"`
			RawID       *int64  `db:"raw_id"`
			Mailbox     string  `db:"mailbox"`
			UIDValidity *uint32 `db:"uid_validity"`
			UID         *uint32 `db:"uid"`
		}
		err := tx.GetContext(ctx, &m, `SELECT id, decision, raw_id, mailbox, uid_validity, uid FROM messages
			WHERE message_id = $1 AND direction = 'in' FOR UPDATE`, strings.Trim(messageID, "<> "))
		if onlyWaiting && (errors.Is(mapErr(err), ErrNotFound) || err == nil && m.Decision != DecisionWaiting) {
			return errNotWaiting
		}
		if err != nil {
			return fmt.Errorf("message <%s>: %w", messageID, mapErr(err))
		}
		if m.Decision == DecisionNewCase || m.Decision == DecisionComment {
			return fmt.Errorf("%w: message <%s> was applied (%s); reprocessing would apply it twice", ErrConflict, messageID, m.Decision)
		}
		if m.RawID == nil {
			return fmt.Errorf("%w: the raw mail of <%s> is no longer kept", ErrNotFound, messageID)
		}
		var chunks [][]byte
		if err := tx.SelectContext(ctx, &chunks, `SELECT data FROM raw_chunks WHERE raw_id = $1 ORDER BY seq`, *m.RawID); err != nil {
			return fmt.Errorf("read raw mail: %w", mapErr(err))
		}
		for _, q := range []string{
			`DELETE FROM attachments WHERE comment_id IN (SELECT id FROM comments WHERE message_id = $1)`,
			`DELETE FROM comments WHERE message_id = $1`,
			`UPDATE case_events SET message_id = NULL WHERE message_id = $1`,
			`UPDATE suppressions SET message_id = NULL WHERE message_id = $1`,
			`DELETE FROM messages WHERE id = $1`,
		} {
			if _, err := tx.ExecContext(ctx, q, m.ID); err != nil {
				return fmt.Errorf("reprocess: %w", mapErr(err))
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM raw_messages WHERE id = $1`, *m.RawID); err != nil {
			return fmt.Errorf("reprocess: %w", mapErr(err))
		}
		in := Inbound{Mailbox: m.Mailbox, Body: bytes.NewReader(bytes.Join(chunks, nil)), replay: true, final: onlyWaiting}
		if m.UIDValidity != nil && m.UID != nil {
			in.UIDValidity, in.UID = *m.UIDValidity, *m.UID
		}
		out, err := g.runBatch(ctx, tx, []Inbound{in})
		if err == nil {
			res = out[0]
		}
		return err
	})
	return res, err
}

// BatchResult is what IngestBatch did with one message of a batch.
type BatchResult struct {
	Result
	// Err nil: committed. IsPermanent(Err): the message can never be
	// ingested and must be set aside (Fail). Otherwise Err is temporary:
	// the message is not committed, nor is any later one of the batch.
	Err error
}

// IngestBatch ingests a batch of messages in mailbox order, in one
// transaction when it can. Every Body must be an io.ReadSeeker holding the
// whole mail (the caller holds the bytes). When the batch fails as a whole,
// its messages are ingested one per transaction, so that a single bad
// message never holds the others and its error is its own.
func (g *Ingester) IngestBatch(ctx context.Context, batch []Inbound) []BatchResult {
	out := make([]BatchResult, len(batch))
	if len(batch) == 0 {
		return out
	}
	if len(batch) > 1 && seekable(batch) {
		res, err := g.transact(ctx, batch)
		if err == nil {
			for i := range batch {
				out[i].Result = res[i]
			}
			return out
		}
		if ctx.Err() != nil {
			for i := range out {
				out[i].Err = err
			}
			return out
		}
		g.log.Warn("batch failed; ingesting its mail one by one", "mailbox", batch[0].Mailbox, "first_uid", batch[0].UID,
			"batch", len(batch), "err", err)
		for _, in := range batch {
			if _, err := in.Body.(io.Seeker).Seek(0, io.SeekStart); err != nil {
				for i := range out {
					out[i].Err = fmt.Errorf("rewind for retry: %w", err)
				}
				return out
			}
		}
	}
	for i, in := range batch {
		res, err := g.Ingest(ctx, in)
		out[i] = BatchResult{Result: res, Err: err}
		if IsPermanent(err) && i < len(batch)-1 {
			// Recorded now: the later mail moves the cursor past it, and a
			// crash before the caller sets it aside must not lose its trace.
			if ferr := g.Fail(ctx, in, err); ferr != nil {
				err = ferr
				out[i].Err = fmt.Errorf("record the failure of uid %d: %w", in.UID, ferr)
			}
		}
		if err != nil && !IsPermanent(err) {
			for j := i + 1; j < len(batch); j++ {
				out[j].Err = fmt.Errorf("not attempted: an earlier message of the batch failed: %w", err)
			}
			break
		}
	}
	return out
}

func seekable(batch []Inbound) bool {
	for _, in := range batch {
		if _, ok := in.Body.(io.ReadSeeker); !ok {
			return false
		}
	}
	return true
}
