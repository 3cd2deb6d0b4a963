package helpdesk

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lib/pq"
)

// Outbox row statuses.
const (
	OutboxQueued     = "queued"
	OutboxSending    = "sending"
	OutboxSent       = "sent"
	OutboxFailed     = "failed"
	OutboxSuppressed = "suppressed" // recorded, never sent: budget, suppression list or our own address
)

// outboxChannel is the LISTEN/NOTIFY channel that wakes dispatchers.
const outboxChannel = "helpdesk_outbox"

// OutMail is a rendered mail to queue. Data is the complete RFC 5322 message,
// whose Message-ID header must be MessageID.
type OutMail struct {
	// ID is the outbox row id reserved with ReserveOutboxID (its envelope
	// sender names it); 0: assigned when the row is inserted.
	ID           int64
	MessageID    string // without angle brackets; chosen before sending, stable across retries
	CaseID       *int64
	Kind         string // what notification this is, e.g. "case_received"
	RecipientID  *int64
	EnvelopeFrom string
	Recipients   []string
	Subject      string
	Data         []byte
	Now          time.Time
	// Staff marks mail to our own team (agents, the duty manager): exempt
	// from the per-recipient budget, which protects outside addresses.
	Staff bool
}

// Budget limits notifications so that a burst of mail never becomes a burst
// of notifications (a mail loop). Zero fields mean no limit.
type Budget struct {
	PerCase      int // per case per Window
	PerRecipient int // per recipient per Window
	// PerStaff limits mail to one of our own addresses (an agent, the agent
	// address, the duty manager) per Window: agent notices of a flood of
	// junk mail stop too.
	PerStaff int
	Window   time.Duration
}

// Enqueued says what happened to a queued mail.
type Enqueued struct {
	ID     int64
	Status string // queued, or suppressed with Reason
	Reason string
}

// EnqueueMail stores one mail in the outbox: EnqueueBatch of one.
func EnqueueMail(ctx context.Context, q Queryer, m OutMail, own []string, b Budget) (Enqueued, error) {
	es, err := EnqueueBatch(ctx, q, []OutMail{m}, own, b)
	if err != nil {
		return Enqueued{}, err
	}
	return es[0], nil
}

// EnqueueBatch stores mails in the outbox, in order, inside the caller's
// transaction, and wakes the dispatchers at commit. Recipients on the
// suppression list, our own addresses and mail over budget are recorded as
// suppressed, not sent; a mail's budgets count the mails queued before it,
// earlier ones of the batch included. Each Message-ID is also recorded as an
// outbound message of its case, so replies to it thread.
//
// The statements issued do not depend on len(ms) (up to maxRowsPerInsert
// mails). Send counters are locked until commit: call it late in the
// transaction.
func EnqueueBatch(ctx context.Context, q Queryer, ms []OutMail, own []string, b Budget) ([]Enqueued, error) {
	if len(ms) == 0 {
		return nil, nil
	}
	mails := make([]outMail, len(ms))
	for i, m := range ms {
		rcpts, err := checkOutMail(m)
		if err != nil {
			return nil, err
		}
		mails[i] = outMail{OutMail: m, rcpts: rcpts}
	}
	st, err := loadSendState(ctx, q, mails, b)
	if err != nil {
		return nil, err
	}
	out := make([]Enqueued, len(mails))
	queued := false
	for i, m := range mails {
		out[i].Status, out[i].Reason = outboxVerdict(m, own, st, b)
		if out[i].Status == OutboxQueued {
			st.tally.add(counterKeys(m), m.Now)
			queued = true
		}
	}
	if err := insertOutbox(ctx, q, mails, out); err != nil {
		return nil, err
	}
	if err := insertOutMessages(ctx, q, mails, out); err != nil {
		return nil, err
	}
	if err := bumpSendCounters(ctx, q, st.tally.added()); err != nil {
		return nil, err
	}
	if queued {
		if _, err := q.ExecContext(ctx, `SELECT pg_notify($1, '')`, outboxChannel); err != nil {
			return nil, fmt.Errorf("enqueue: notify: %w", mapErr(err))
		}
	}
	return out, nil
}

// outMail is an OutMail whose recipients were checked and made canonical.
type outMail struct {
	OutMail
	rcpts []string
}

func checkOutMail(m OutMail) ([]string, error) {
	if m.MessageID == "" || strings.ContainsAny(m.MessageID, "<> \r\n") {
		return nil, fmt.Errorf("%w: outgoing Message-ID %q", ErrInvalid, m.MessageID)
	}
	if m.EnvelopeFrom == "" || len(m.Data) == 0 {
		return nil, fmt.Errorf("%w: outgoing mail needs an envelope sender and data", ErrInvalid)
	}
	var rcpts []string
	for _, r := range m.Recipients {
		a, err := CanonicalAddress(r)
		if err != nil {
			return nil, err
		}
		rcpts = append(rcpts, a)
	}
	if len(rcpts) == 0 {
		return nil, fmt.Errorf("%w: outgoing mail without recipients", ErrInvalid)
	}
	return rcpts, nil
}

// sendState is what the verdicts of a batch read: the suppressed addresses
// among its recipients and the send counters of its cases and recipients.
type sendState struct {
	suppressed map[string]time.Time // address → suppressed until
	tally      *sendTally
}

func loadSendState(ctx context.Context, q Queryer, mails []outMail, b Budget) (*sendState, error) {
	st := &sendState{suppressed: map[string]time.Time{}, tally: newSendTally(b.Window)}
	earliest := mails[0].Now
	var addrs, keys []string
	seen := map[string]bool{}
	for _, m := range mails {
		if m.Now.Before(earliest) {
			earliest = m.Now
		}
		addrs = append(addrs, m.rcpts...)
		for _, k := range counterKeys(m) {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	var sup []struct {
		Address string    `db:"address"`
		Until   time.Time `db:"suppressed_until"`
	}
	if err := q.SelectContext(ctx, &sup, `SELECT address, suppressed_until FROM suppressions
		WHERE address = ANY($1) AND suppressed_until > $2`, pq.Array(addrs), earliest); err != nil {
		return nil, fmt.Errorf("suppression check: %w", mapErr(err))
	}
	for _, s := range sup {
		st.suppressed[s.Address] = s.Until
	}
	if b.Window <= 0 || (b.PerCase <= 0 && b.PerRecipient <= 0 && b.PerStaff <= 0) {
		return st, nil
	}
	var counts []sendCount
	if err := q.SelectContext(ctx, &counts, `SELECT key, bucket_start, mails FROM send_counters
		WHERE key = ANY($1) AND bucket_start >= $2`, pq.Array(keys), st.tally.since(earliest)); err != nil {
		return nil, fmt.Errorf("send budgets: %w", mapErr(err))
	}
	for _, c := range counts {
		st.tally.load(c)
	}
	return st, nil
}

// outboxVerdict decides whether a mail may be sent at all: not to our own
// addresses, not to suppressed ones, not over a budget.
func outboxVerdict(m outMail, own []string, st *sendState, b Budget) (status, reason string) {
	for _, r := range m.rcpts {
		for _, o := range own {
			if strings.EqualFold(r, o) {
				return OutboxSuppressed, "recipient " + r + " is our own address"
			}
		}
	}
	var suppressed []string
	for _, r := range m.rcpts {
		if until, ok := st.suppressed[r]; ok && until.After(m.Now) {
			suppressed = append(suppressed, r)
		}
	}
	if len(suppressed) > 0 {
		return OutboxSuppressed, "recipient " + strings.Join(suppressed, ", ") + " is suppressed after a permanent bounce"
	}
	if b.Window <= 0 {
		return OutboxQueued, ""
	}
	if b.PerCase > 0 && m.CaseID != nil {
		if n := st.tally.sum(caseKey(*m.CaseID), m.Now); n >= b.PerCase {
			return OutboxSuppressed, fmt.Sprintf("case budget: %d mails in %s", n, b.Window)
		}
	}
	// Staff and outside addresses share one counter per address, as mail to
	// an address counted whoever it was for; only the limit differs.
	limit, budget := b.PerRecipient, "recipient"
	if m.Staff {
		limit, budget = b.PerStaff, "staff"
	}
	if limit > 0 {
		n := 0
		for _, r := range m.rcpts {
			n = max(n, st.tally.sum(rcptKey(r), m.Now))
		}
		if n >= limit {
			return OutboxSuppressed, fmt.Sprintf("%s budget: %d mails in %s", budget, n, b.Window)
		}
	}
	return OutboxQueued, ""
}

// maxRowsPerInsert bounds the rows of one multi-row INSERT (PostgreSQL takes
// at most 65535 parameters).
const maxRowsPerInsert = 1000

func insertOutbox(ctx context.Context, q Queryer, mails []outMail, vs []Enqueued) error {
	// Due at once, even when queued as of a later time (tick --now).
	const row = `(coalesce($1, nextval(pg_get_serial_sequence('outbox', 'id'))), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, LEAST($12, now()))`
	return inChunks(len(mails), func(lo, hi int) error {
		var args []any
		for i := lo; i < hi; i++ {
			m := mails[i]
			args = append(args, nullID(m.ID), m.MessageID, m.CaseID, m.Kind, m.RecipientID, m.EnvelopeFrom, pq.Array(m.rcpts),
				m.Subject, m.Data, vs[i].Status, vs[i].Reason, m.Now)
		}
		var ids []struct {
			ID        int64  `db:"id"`
			MessageID string `db:"message_id"`
		}
		err := q.SelectContext(ctx, &ids, `INSERT INTO outbox (id, message_id, case_id, kind, recipient_id, envelope_from, recipients,
				subject, data, status, last_error, created_at, next_attempt_at)
			VALUES `+repeatRow(row, 12, hi-lo)+` RETURNING id, message_id`, args...)
		if err != nil {
			return fmt.Errorf("enqueue %s: %w", mails[lo].Kind, mapErr(err))
		}
		byMsgID := make(map[string]int64, len(ids))
		for _, r := range ids {
			byMsgID[r.MessageID] = r.ID
		}
		for i := lo; i < hi; i++ {
			vs[i].ID = byMsgID[mails[i].MessageID]
		}
		return nil
	})
}

func insertOutMessages(ctx context.Context, q Queryer, mails []outMail, vs []Enqueued) error {
	const row = `($1, 'out', $2, $3, $4, '', $5, $6, $7)`
	return inChunks(len(mails), func(lo, hi int) error {
		var args []any
		for i := lo; i < hi; i++ {
			m := mails[i]
			args = append(args, m.MessageID, m.CaseID, m.EnvelopeFrom, m.Subject, m.Kind, vs[i].Reason, m.Now)
		}
		if _, err := q.ExecContext(ctx, `INSERT INTO messages (message_id, direction, case_id, from_address, subject, decision, rule, reason, created_at)
			VALUES `+repeatRow(row, 7, hi-lo), args...); err != nil {
			return fmt.Errorf("enqueue %s: record message: %w", mails[lo].Kind, mapErr(err))
		}
		return nil
	})
}

func bumpSendCounters(ctx context.Context, q Queryer, cs []sendCount) error {
	const row = `($1, $2, $3, $4)`
	return inChunks(len(cs), func(lo, hi int) error {
		var args []any
		for _, c := range cs[lo:hi] {
			args = append(args, c.Key, c.Start, c.Mails, c.Expires)
		}
		if _, err := q.ExecContext(ctx, `INSERT INTO send_counters (key, bucket_start, mails, expires_at)
			VALUES `+repeatRow(row, 4, hi-lo)+`
			ON CONFLICT (key, bucket_start) DO UPDATE SET mails = send_counters.mails + excluded.mails,
				expires_at = greatest(send_counters.expires_at, excluded.expires_at)`, args...); err != nil {
			return fmt.Errorf("send counters: %w", mapErr(err))
		}
		return nil
	})
}

// PurgeSendCounters deletes the send counters no budget window reaches any
// more. The timer pass calls it.
func PurgeSendCounters(ctx context.Context, q Queryer, now time.Time) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM send_counters WHERE expires_at < $1`, now); err != nil {
		return fmt.Errorf("purge send counters: %w", mapErr(err))
	}
	return nil
}

// inChunks calls f for consecutive ranges [lo, hi) of at most
// maxRowsPerInsert of n rows.
func inChunks(n int, f func(lo, hi int) error) error {
	for lo := 0; lo < n; lo += maxRowsPerInsert {
		if err := f(lo, min(lo+maxRowsPerInsert, n)); err != nil {
			return err
		}
	}
	return nil
}

// repeatRow returns n copies of row, a VALUES row of k parameters written as
// $1…$k, renumbered for each copy: "($1, $2), ($3, $4)".
func repeatRow(row string, k, n int) string {
	// Split row once into the text between placeholders and their numbers.
	var texts []string
	var nums []int
	last := 0
	for i := 0; i < len(row); i++ {
		if row[i] != '$' {
			continue
		}
		j := i + 1
		for j < len(row) && row[j] >= '0' && row[j] <= '9' {
			j++
		}
		if j == i+1 {
			continue
		}
		num, _ := strconv.Atoi(row[i+1 : j])
		texts, nums = append(texts, row[last:i]), append(nums, num)
		last, i = j, j-1
	}
	var b strings.Builder
	b.Grow(n * (len(row) + 2 + 4*len(nums)))
	for c := range n {
		if c > 0 {
			b.WriteString(", ")
		}
		for x, t := range texts {
			b.WriteString(t)
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(c*k + nums[x]))
		}
		b.WriteString(row[last:])
	}
	return b.String()
}

// ReserveOutboxID takes the id of an outbox row before the row is written,
// so that the mail's envelope sender can name it (see threading.SignBounce).
func ReserveOutboxID(ctx context.Context, q Queryer) (int64, error) {
	ids, err := ReserveOutboxIDs(ctx, q, 1)
	if err != nil {
		return 0, err
	}
	return ids[0], nil
}

// ReserveOutboxIDs takes n outbox row ids in one round trip (their envelope
// senders name them).
func ReserveOutboxIDs(ctx context.Context, q Queryer, n int) ([]int64, error) {
	if n <= 0 {
		return nil, nil
	}
	var ids []int64
	if err := q.SelectContext(ctx, &ids, `SELECT nextval(pg_get_serial_sequence('outbox', 'id')) FROM generate_series(1, $1)`, n); err != nil {
		return nil, fmt.Errorf("reserve outbox ids: %w", mapErr(err))
	}
	return ids, nil
}

// defaultSendWindow sizes the counter buckets of mail queued without a
// budget window: it still counts against later budgets.
const defaultSendWindow = time.Hour

// sendCount is one row of send_counters: mails queued for a key (a case, a
// recipient) in the bucket starting at Start.
type sendCount struct {
	Key     string    `db:"key"`
	Start   time.Time `db:"bucket_start"`
	Mails   int       `db:"mails"`
	Expires time.Time `db:"-"`
}

func caseKey(id int64) string    { return "case:" + strconv.FormatInt(id, 10) }
func rcptKey(addr string) string { return "rcpt:" + addr }

// counterKeys are the counters a queued mail increments: its case's and each
// distinct recipient's.
func counterKeys(m outMail) []string {
	var keys []string
	if m.CaseID != nil {
		keys = append(keys, caseKey(*m.CaseID))
	}
	for i, r := range m.rcpts {
		if !slices.Contains(m.rcpts[:i], r) {
			keys = append(keys, rcptKey(r))
		}
	}
	return keys
}

// sendTally counts queued mails per key in buckets of a sixth of the budget
// window. A window's count sums the buckets from the one holding its start:
// it may count mail up to one bucket older than the window (never less than
// the window), in at most seven rows per key.
type sendTally struct {
	bucket, window time.Duration
	counts         map[string]map[int64]int // key → bucket start (Unix seconds) → mails
	adds           map[string]map[int64]int // what this batch queued
}

func newSendTally(window time.Duration) *sendTally {
	if window <= 0 {
		window = defaultSendWindow
	}
	return &sendTally{
		bucket: max((window / 6).Truncate(time.Second), time.Second), window: window,
		counts: map[string]map[int64]int{}, adds: map[string]map[int64]int{},
	}
}

// since is the start of the oldest bucket a window ending at now reads.
func (t *sendTally) since(now time.Time) time.Time {
	return now.Add(-t.window).Truncate(t.bucket)
}

// sum counts the mails queued for key in the window ending at now.
func (t *sendTally) sum(key string, now time.Time) int {
	since := t.since(now).Unix()
	n := 0
	for start, k := range t.counts[key] {
		if start >= since {
			n += k
		}
	}
	return n
}

func (t *sendTally) load(c sendCount) {
	bump(t.counts, c.Key, c.Start.Unix(), c.Mails)
}

func (t *sendTally) add(keys []string, now time.Time) {
	start := now.Truncate(t.bucket).Unix()
	for _, k := range keys {
		bump(t.counts, k, start, 1)
		bump(t.adds, k, start, 1)
	}
}

// added lists this batch's increments in key order, so that concurrent
// batches lock counter rows in the same order.
func (t *sendTally) added() []sendCount {
	var out []sendCount
	for key, buckets := range t.adds {
		for start, n := range buckets {
			s := time.Unix(start, 0).UTC()
			out = append(out, sendCount{Key: key, Start: s, Mails: n, Expires: s.Add(t.bucket + t.window)})
		}
	}
	slices.SortFunc(out, func(a, b sendCount) int {
		return cmp.Or(strings.Compare(a.Key, b.Key), a.Start.Compare(b.Start))
	})
	return out
}

func bump(m map[string]map[int64]int, key string, start int64, n int) {
	if m[key] == nil {
		m[key] = map[int64]int{}
	}
	m[key][start] += n
}

// Claimed is an outbox row leased to one sender.
type Claimed struct {
	ID           int64          `db:"id"`
	MessageID    string         `db:"message_id"`
	EnvelopeFrom string         `db:"envelope_from"`
	Recipients   pq.StringArray `db:"recipients"`
	Data         []byte         `db:"data"`
	Attempts     int            `db:"attempts"`
}

// ClaimOutbox leases the next due row to owner until now+lease: a queued row
// whose time has come, or a row whose previous lease expired (its sender
// crashed). Concurrent claimers never get the same row. It returns
// ErrNotFound when nothing is due.
func ClaimOutbox(ctx context.Context, q Queryer, owner string, now time.Time, lease time.Duration) (*Claimed, error) {
	cs, err := ClaimOutboxBatch(ctx, q, owner, now, lease, 1)
	if err != nil {
		return nil, err
	}
	if len(cs) == 0 {
		return nil, ErrNotFound
	}
	return &cs[0], nil
}

// ClaimOutboxBatch leases up to n due rows to owner until now+lease, as
// ClaimOutbox does one, oldest due first.
func ClaimOutboxBatch(ctx context.Context, q Queryer, owner string, now time.Time, lease time.Duration, n int) ([]Claimed, error) {
	var cs []Claimed
	err := q.SelectContext(ctx, &cs, `WITH due AS MATERIALIZED (
			SELECT id FROM outbox
			WHERE (status = 'queued' AND next_attempt_at <= $2) OR (status = 'sending' AND lease_until < $2)
			ORDER BY next_attempt_at, id
			LIMIT $4
			FOR UPDATE SKIP LOCKED)
		UPDATE outbox o SET status = 'sending', lease_owner = $1, lease_until = $3, attempts = attempts + 1
		FROM due WHERE o.id = due.id
		RETURNING o.id, o.message_id, o.envelope_from, o.recipients, o.data, o.attempts`, owner, now, now.Add(lease), n)
	if err != nil {
		return nil, fmt.Errorf("claim outbox: %w", mapErr(err))
	}
	slices.SortFunc(cs, func(a, b Claimed) int { return cmp.Compare(a.ID, b.ID) })
	return cs, nil
}

// RenewOutboxLease extends owner's lease on ids until until and returns
// those still leased to owner (the others were taken over).
func RenewOutboxLease(ctx context.Context, q Queryer, ids []int64, owner string, until time.Time) ([]int64, error) {
	var kept []int64
	if err := q.SelectContext(ctx, &kept, `UPDATE outbox SET lease_until = $3
		WHERE id = ANY($1) AND lease_owner = $2 AND status = 'sending' RETURNING id`, pq.Array(ids), owner, until); err != nil {
		return nil, fmt.Errorf("renew outbox lease: %w", mapErr(err))
	}
	return kept, nil
}

// ReleaseOutbox hands rows claimed but not tried back to the queue, as they
// were before the claim.
func ReleaseOutbox(ctx context.Context, q Queryer, ids []int64, owner string) error {
	if _, err := q.ExecContext(ctx, `UPDATE outbox SET status = 'queued', lease_owner = NULL, lease_until = NULL, attempts = attempts - 1
		WHERE id = ANY($1) AND lease_owner = $2 AND status = 'sending'`, pq.Array(ids), owner); err != nil {
		return fmt.Errorf("release outbox rows: %w", mapErr(err))
	}
	return nil
}

// ErrLeaseLost: the row was reclaimed by another sender after our lease expired.
var ErrLeaseLost = errors.New("outbox lease lost")

// SentMail is an outbox row the relay accepted at At.
type SentMail struct {
	ID int64
	At time.Time
}

// MarkSent records a successful send.
func MarkSent(ctx context.Context, q Queryer, id int64, owner string, now time.Time) error {
	lost, err := MarkSentBatch(ctx, q, owner, []SentMail{{ID: id, At: now}})
	if err != nil {
		return err
	}
	if len(lost) > 0 {
		return fmt.Errorf("outbox %d: %w", id, ErrLeaseLost)
	}
	return nil
}

// MarkSentBatch records successful sends, and their outbound messages as
// sent, in one statement. It returns the ids no longer leased to owner,
// which it left alone.
func MarkSentBatch(ctx context.Context, q Queryer, owner string, sent []SentMail) (lost []int64, err error) {
	if len(sent) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(sent))
	ats := make([]string, len(sent))
	for i, s := range sent {
		ids[i], ats[i] = s.ID, s.At.Format(time.RFC3339Nano)
	}
	var marked []int64
	err = q.SelectContext(ctx, &marked, `WITH sent AS (
			UPDATE outbox o SET status = 'sent', sent_at = v.at, lease_owner = NULL, lease_until = NULL, last_error = ''
			FROM unnest($1::bigint[], $2::timestamptz[]) AS v (id, at)
			WHERE o.id = v.id AND o.lease_owner = $3 AND o.status = 'sending'
			RETURNING o.id, o.message_id, v.at),
		msgs AS (
			UPDATE messages m SET sent_at = sent.at, decision = 'sent'
			FROM sent WHERE m.direction = 'out' AND m.message_id = sent.message_id)
		SELECT id FROM sent`, pq.Array(ids), pq.Array(ats), owner)
	if err != nil {
		return nil, fmt.Errorf("mark %d outbox rows sent: %w", len(sent), mapErr(err))
	}
	for _, id := range ids {
		if !slices.Contains(marked, id) {
			lost = append(lost, id)
		}
	}
	return lost, nil
}

// MarkRetry puts a row back in the queue until next.
func MarkRetry(ctx context.Context, q Queryer, id int64, owner string, next time.Time, cause string) error {
	return finishOutbox(ctx, q, `UPDATE outbox SET status = 'queued', next_attempt_at = $3, lease_owner = NULL, lease_until = NULL, last_error = $4
		WHERE id = $1 AND lease_owner = $2 AND status = 'sending'`, id, owner, next, cause)
}

// MarkFailed gives up on a row, keeping the error.
func MarkFailed(ctx context.Context, q Queryer, id int64, owner string, cause string) error {
	return finishOutbox(ctx, q, `UPDATE outbox SET status = 'failed', lease_owner = NULL, lease_until = NULL, last_error = $3
		WHERE id = $1 AND lease_owner = $2 AND status = 'sending'`, id, owner, cause)
}

func finishOutbox(ctx context.Context, q Queryer, query string, args ...any) error {
	res, err := q.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("outbox %v: %w", args[0], mapErr(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("outbox %v: %w", args[0], ErrLeaseLost)
	}
	return nil
}

// NextOutboxDue is when the next queued row becomes due (zero: none queued).
func NextOutboxDue(ctx context.Context, q Queryer) (time.Time, error) {
	var t *time.Time
	if err := q.GetContext(ctx, &t, `SELECT min(t) FROM (
			SELECT min(next_attempt_at) AS t FROM outbox WHERE status = 'queued'
			UNION ALL SELECT min(lease_until) FROM outbox WHERE status = 'sending') x`); err != nil {
		return time.Time{}, mapErr(err)
	}
	if t == nil {
		return time.Time{}, nil
	}
	return *t, nil
}
