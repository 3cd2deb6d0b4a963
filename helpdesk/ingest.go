package helpdesk

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/helpdesk/helpdesk/mail"
	"github.com/helpdesk/helpdesk/mail/compose"
	"github.com/helpdesk/helpdesk/templates"
	"github.com/helpdesk/helpdesk/threading"
	"github.com/helpdesk/helpdesk/threading/reply"
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
)

// IngestConfig configures an Ingester.
type IngestConfig struct {
	Own             []string // our addresses (support address and aliases), lower-case
	MessageIDDomain string
	LoopID          string
	RawRetention    time.Duration // default 90 days
	SuppressFor     time.Duration // how long a permanently bounced address gets no mail (default 30 days)
	MaxAttachment   int64         // stored bytes per attachment (default 50 MiB)
	Notifier        *Notifier     // nil: no notifications
	Now             func() time.Time
	Logger          *slog.Logger
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
	if in.Mailbox == "" {
		return nil // reprocessing: no mailbox position
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
		_, err := tx.ExecContext(ctx, `INSERT INTO messages (message_id, direction, mailbox, uid_validity, uid, decision, reason, size, received_at)
			VALUES ($1, 'in', $2, $3, $4, 'failed', $5, $6, $7) ON CONFLICT (message_id, direction) DO NOTHING`,
			id, in.Mailbox, int64(in.UIDValidity), int64(in.UID), truncateText(cause.Error(), 2000), in.Size, g.cfg.Now())
		if err != nil {
			return fmt.Errorf("record failed message: %w", mapErr(err))
		}
		return advanceCursor(ctx, tx, in)
	})
}

// Ingest stores, threads and applies one message in one transaction.
// A temporary failure (database down, broken connection) returns an error
// and changes nothing; IsPermanent(err) says the message can never be
// ingested.
func (g *Ingester) Ingest(ctx context.Context, in Inbound) (res Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			g.log.Error("ingest panicked", "mailbox", in.Mailbox, "uid", in.UID, "panic", p, "stack", string(debug.Stack()))
			err = fmt.Errorf("%w: panic: %v", ErrPermanent, p)
		}
	}()
	now := g.cfg.Now()
	err = g.store.WithTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		res, err = g.ingest(ctx, tx, in, now)
		return err
	})
	if errors.Is(err, errDuplicate) {
		// Nothing of the second copy is kept, but the mailbox moves on.
		if err := g.store.WithTx(ctx, func(tx *sqlx.Tx) error { return advanceCursor(ctx, tx, in) }); err != nil {
			return res, err
		}
		res.Duplicate = true
		return res, nil
	}
	return res, err
}

var errDuplicate = errors.New("duplicate Message-ID")

func (g *Ingester) ingest(ctx context.Context, tx *sqlx.Tx, in Inbound, now time.Time) (Result, error) {
	var rawID int64
	if err := tx.GetContext(ctx, &rawID, `INSERT INTO raw_messages (stored_at, expires_at) VALUES ($1, $2) RETURNING id`,
		now, now.Add(g.cfg.RawRetention)); err != nil {
		return Result{}, fmt.Errorf("store raw: %w", mapErr(err))
	}
	raw := newChunkWriter(ctx, tx, `INSERT INTO raw_chunks (raw_id, seq, data) VALUES ($1, $2, $3)`, rawID)
	body := io.TeeReader(in.Body, raw)

	blobs := map[*mail.Attachment]int64{}
	msg, err := mail.Parse(body, mail.ParseOptions{
		MaxAttachmentBytes: g.cfg.MaxAttachment,
		AttachmentSink: func(a *mail.Attachment, r io.Reader) error {
			id, err := storeBlob(ctx, tx, r)
			if err != nil {
				return err
			}
			blobs[a] = id
			return nil
		},
	})
	if err == nil {
		_, err = io.Copy(io.Discard, body) // the rest of the raw mail, if the parser stopped early
	}
	if err == nil {
		err = raw.Close()
	}
	if err != nil {
		return Result{}, fmt.Errorf("read message: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE raw_messages SET size = $2, sha256 = $3 WHERE id = $1`, rawID, raw.size, raw.sum()); err != nil {
		return Result{}, fmt.Errorf("store raw: %w", mapErr(err))
	}

	ci := msg.ClassifyInput()
	ci.LoopID, ci.OwnMessageIDDomain, ci.OwnAddresses = g.cfg.LoopID, g.cfg.MessageIDDomain, g.cfg.Own
	class := threading.Classify(ci)

	res := Result{MessageID: msg.MessageID, Class: string(class.Class)}
	var msgRowID int64
	err = tx.GetContext(ctx, &msgRowID, `INSERT INTO messages (message_id, direction, mailbox, uid_validity, uid, from_address,
			subject, in_reply_to, refs, class, class_reason, size, received_at, raw_id, created_at)
		VALUES ($1, 'in', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $12)
		ON CONFLICT (message_id, direction) DO NOTHING RETURNING id`,
		msg.MessageID, in.Mailbox, int64(in.UIDValidity), int64(in.UID), msg.From.Canonical(), truncateText(msg.Subject, 1000),
		strings.Join(msg.InReplyTo, " "), pq.Array(msg.References), string(class.Class), class.Reason, max(raw.size, in.Size), now, rawID)
	if errors.Is(mapErr(err), ErrNotFound) {
		return res, errDuplicate
	}
	if err != nil {
		return res, fmt.Errorf("record message %s: %w", msg.MessageID, mapErr(err))
	}

	d := &delivery{g: g, tx: tx, ctx: ctx, in: in, msg: msg, class: class, msgRowID: msgRowID, blobs: blobs, now: now,
		replyText: ReplyText(msg)}
	if err := d.apply(); err != nil {
		return res, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE messages SET case_id = $2, decision = $3, rule = $4, reason = $5 WHERE id = $1`,
		msgRowID, nullID(d.caseID), d.decision, d.rule, truncateText(d.reason, 2000)); err != nil {
		return res, fmt.Errorf("record decision: %w", mapErr(err))
	}
	if err := d.dropUnusedBlobs(); err != nil {
		return res, err
	}
	if err := advanceCursor(ctx, tx, in); err != nil {
		return res, err
	}
	res.CaseID, res.Decision, res.Rule, res.Reason = d.caseID, d.decision, d.rule, d.reason
	g.log.Info("ingested", "message_id", msg.MessageID, "class", class.Class, "decision", d.decision, "case", d.caseID, "rule", d.rule)
	return res, nil
}

// delivery is the work on one message inside its transaction.
type delivery struct {
	g         *Ingester
	tx        *sqlx.Tx
	ctx       context.Context
	in        Inbound
	msg       *mail.Message
	class     threading.Classification
	msgRowID  int64
	blobs     map[*mail.Attachment]int64
	now       time.Time
	linked    bool   // attachments were linked to a comment
	replyText string // the new text of the mail, without quotes

	caseID                 int64
	decision, rule, reason string
}

func (d *delivery) decide(caseID int64, decision, rule, reason string) {
	d.caseID, d.decision, d.rule, d.reason = caseID, decision, rule, reason
}

func (d *delivery) apply() error {
	if d.class.Class == threading.ClassLoop {
		d.decide(0, DecisionIgnored, "own-mail", d.class.Reason)
		return nil
	}
	caseID, rule, reason, err := d.thread()
	if err != nil {
		return err
	}
	if d.in.Oversized {
		d.decide(caseID, DecisionOversized, rule, fmt.Sprintf("%d bytes is over the size limit", d.in.Size))
		return d.tooLarge(caseID)
	}
	switch d.class.Class {
	case threading.ClassBounce:
		return d.bounce(caseID, rule, reason)
	case threading.ClassAutoReply, threading.ClassList:
		if caseID > 0 {
			d.decide(caseID, DecisionStored, rule, d.class.Reason+"; automated mail never reopens or notifies")
		} else {
			d.decide(0, DecisionIgnored, "automated", d.class.Reason+"; automated mail never opens a case")
		}
		return nil
	}
	sender, err := d.sender()
	if err != nil {
		return err
	}
	if caseID > 0 {
		return d.comment(caseID, sender, rule, reason)
	}
	return d.newCase(sender)
}

// thread finds the case a message belongs to by its In-Reply-To, then its
// References (newest first), against every Message-ID we know.
func (d *delivery) thread() (caseID int64, rule, reason string, err error) {
	try := func(ids []string, rule string) (bool, error) {
		for _, id := range ids {
			var c *int64
			err := d.tx.GetContext(d.ctx, &c, `SELECT case_id FROM messages WHERE message_id = $1 AND case_id IS NOT NULL
				ORDER BY direction = 'out' DESC LIMIT 1`, id)
			if errors.Is(mapErr(err), ErrNotFound) {
				continue
			}
			if err != nil {
				return false, fmt.Errorf("thread: %w", mapErr(err))
			}
			caseID, err = followMerges(d.ctx, d.tx, *c)
			if err != nil {
				return false, err
			}
			reason = "known Message-ID <" + id + ">"
			if caseID != *c {
				reason += fmt.Sprintf(" of case #%d, merged into #%d", *c, caseID)
			}
			return true, nil
		}
		return false, nil
	}
	if ok, err := try(d.msg.InReplyTo, "in-reply-to"); ok || err != nil {
		return caseID, "in-reply-to", reason, err
	}
	refs := make([]string, len(d.msg.References))
	for i, r := range d.msg.References {
		refs[len(refs)-1-i] = r
	}
	if ok, err := try(refs, "references"); ok || err != nil {
		return caseID, "references", reason, err
	}
	return 0, "new", "no known Message-ID in In-Reply-To or References", nil
}

// followMerges returns the case that finally holds a (possibly merged) case.
func followMerges(ctx context.Context, q Queryer, caseID int64) (int64, error) {
	for range 16 { // merges never chain this deep; the bound guards against a cycle
		var into *int64
		if err := q.GetContext(ctx, &into, `SELECT merged_into FROM cases WHERE id = $1`, caseID); err != nil {
			return 0, fmt.Errorf("case %d: %w", caseID, mapErr(err))
		}
		if into == nil {
			return caseID, nil
		}
		caseID = *into
	}
	return caseID, nil
}

// sender returns the user the From address belongs to, creating a customer
// for an unknown address (in the org that owns its domain, if any).
func (d *delivery) sender() (*User, error) {
	from := d.msg.From.Canonical()
	if from == "" {
		return nil, fmt.Errorf("%w: no usable From address", ErrPermanent)
	}
	u, err := UserByAddress(d.ctx, d.tx, from)
	if err == nil {
		return u, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	org := ""
	if o, err := OrgByDomain(d.ctx, d.tx, from[strings.LastIndexByte(from, '@')+1:]); err == nil {
		org = o.Name
	} else if !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	return CreateUser(d.ctx, d.tx, NewUser{Email: from, Name: d.msg.From.Name, Role: RoleCustomer, Org: org})
}

func (d *delivery) newCase(sender *User) error {
	subject := strings.TrimSpace(d.msg.Subject)
	if subject == "" {
		subject = "(no subject)"
	}
	caseID, err := CreateCase(d.ctx, d.tx, NewCase{Subject: truncateText(subject, 500), OrgID: sender.OrgID, SubmitterID: sender.ID,
		Mailbox: d.in.Mailbox, Now: d.now})
	if err != nil {
		return err
	}
	commentID, err := d.addComment(caseID, sender, true)
	if err != nil {
		return err
	}
	_ = commentID
	d.decide(caseID, DecisionNewCase, "new", "no known Message-ID in In-Reply-To or References")
	if n := d.g.cfg.Notifier; n != nil {
		if _, err := n.Notify(d.ctx, d.tx, Notice{
			Data: templates.CaseReceivedData{Base: n.Base(caseID, subject, sender.Name), Severity: "S3"},
			To:   UserRecipient(sender), CaseID: caseID, InReplyTo: d.msg.MessageID, AutoReplied: true, Now: d.now,
		}); err != nil {
			return err
		}
		if err := d.notifyAgents(caseID, func(b templates.Base) templates.Data {
			return templates.AgentNewCaseData{Base: b, Requester: templates.Person{Name: sender.Name, Email: sender.LoginEmail},
				Organization: deref(sender.OrgName), Severity: "S3", Comment: d.commentData(sender)}
		}); err != nil {
			return err
		}
	}
	return nil
}

func (d *delivery) comment(caseID int64, sender *User, rule, reason string) error {
	c, err := GetCase(d.ctx, d.tx, caseID)
	if err != nil {
		return err
	}
	allowed, why, err := mayWrite(d.ctx, d.tx, sender, c)
	if err != nil {
		return err
	}
	if !allowed {
		if _, err := d.addComment(caseID, sender, false); err != nil {
			return err
		}
		d.decide(caseID, DecisionHeld, rule, reason+"; held for review: "+why)
		return AddEvent(d.ctx, d.tx, NewEvent{CaseID: caseID, ActorID: &sender.ID, Kind: "held", Reason: why, MessageID: &d.msgRowID, Now: d.now})
	}
	if _, err := d.addComment(caseID, sender, true); err != nil {
		return err
	}
	d.decide(caseID, DecisionComment, rule, reason)
	n := d.g.cfg.Notifier
	if n == nil {
		return nil
	}
	if IsStaff(sender.Role) {
		return d.relayToSubmitter(c, sender)
	}
	return d.notifyAgents(caseID, func(b templates.Base) templates.Data {
		return templates.AgentCustomerRepliedData{Base: b, Requester: templates.Person{Name: sender.Name, Email: sender.LoginEmail},
			Organization: deref(sender.OrgName), Status: c.Status, Comment: d.commentData(sender)}
	})
}

// relayToSubmitter sends support's public comment to the case's submitter,
// at their login email, from the support address "Agent via Helpdesk". The
// attachments go along while their total stays under the attach limit;
// otherwise the mail lists their names and sizes.
func (d *delivery) relayToSubmitter(c *Case, agent *User) error {
	n := d.g.cfg.Notifier
	submitter, err := UserByID(d.ctx, d.tx, c.SubmitterID)
	if err != nil {
		return err
	}
	cd := d.commentData(agent)
	var total int64
	for _, a := range d.msg.Attachments {
		total += a.Size
	}
	var files []compose.Attachment
	if total <= n.cfg.AttachLimit {
		for i, a := range d.msg.Attachments {
			blob, ok := d.blobs[a]
			if !ok || a.Truncated {
				continue
			}
			content, err := readBlob(d.ctx, d.tx, blob)
			if err != nil {
				return err
			}
			f := compose.Attachment{Filename: a.Filename, ContentType: a.ContentType, Content: content}
			if a.Inline && a.ContentID != "" && d.msg.HTML != "" {
				f.ContentID = a.ContentID
			}
			files = append(files, f)
			cd.Attachments[i].Attached = true
		}
	}
	prevAuthor, prevQuote, err := previousPublic(d.ctx, d.tx, c.ID, d.msgRowID)
	if err != nil {
		return err
	}
	name := agent.Name
	if name == "" {
		name = agent.LoginEmail
	}
	_, err = n.Notify(d.ctx, d.tx, Notice{
		Data: templates.CommentAddedData{Base: n.Base(c.ID, c.Subject, submitter.Name), Comment: cd,
			PreviousAuthor: prevAuthor, PreviousQuote: prevQuote},
		To: UserRecipient(submitter), CaseID: c.ID, FromName: name, Attachments: files, Now: d.now,
	})
	return err
}

// previousPublic returns the author and text of the public comment before
// the one made from message msgRowID, for context in a notification.
func previousPublic(ctx context.Context, q Queryer, caseID, msgRowID int64) (string, string, error) {
	var prev []struct {
		Author *string `db:"author"`
		Body   string  `db:"body"`
	}
	err := q.SelectContext(ctx, &prev, `SELECT coalesce(nullif(u.name, ''), u.login_email) AS author, c.body
		FROM comments c LEFT JOIN users u ON u.id = c.author_id
		WHERE c.case_id = $1 AND c.public AND c.message_id IS DISTINCT FROM $2
		ORDER BY c.created_at DESC, c.id DESC LIMIT 1`, caseID, msgRowID)
	if err != nil {
		return "", "", fmt.Errorf("previous comment: %w", mapErr(err))
	}
	if len(prev) == 0 {
		return "", "", nil
	}
	return deref(prev[0].Author), prev[0].Body, nil
}

// readBlob reads stored attachment content back.
func readBlob(ctx context.Context, q Queryer, id int64) ([]byte, error) {
	var chunks [][]byte
	if err := q.SelectContext(ctx, &chunks, `SELECT data FROM blob_chunks WHERE blob_id = $1 ORDER BY seq`, id); err != nil {
		return nil, fmt.Errorf("read attachment: %w", mapErr(err))
	}
	return bytes.Join(chunks, nil), nil
}

// mayWrite is the basic access rule: staff, the submitter, and people of the
// case's org write into a case; anyone else is held for review.
func mayWrite(ctx context.Context, q Queryer, u *User, c *Case) (bool, string, error) {
	switch {
	case IsStaff(u.Role):
		return true, "", nil
	case u.ID == c.SubmitterID:
		return true, "", nil
	case c.OrgID != nil && u.OrgID != nil && *c.OrgID == *u.OrgID:
		return true, "", nil
	}
	return false, u.LoginEmail + " is not a participant of case #" + fmt.Sprint(c.ID), nil
}

// ReplyText is what the sender of m wrote: quoted history, signature and
// footers removed (never empty when the mail has text).
func ReplyText(m *mail.Message) string {
	if m.TextFromHTML {
		return reply.FromHTML(m.HTML).Text
	}
	return reply.FromText(m.Text).Text
}

func (d *delivery) addComment(caseID int64, author *User, public bool) (int64, error) {
	text := d.replyText
	if strings.TrimSpace(text) == "" && len(d.msg.Attachments) > 0 {
		text = "(attachments only)"
	}
	id, err := AddComment(d.ctx, d.tx, NewComment{CaseID: caseID, AuthorID: &author.ID, MessageID: &d.msgRowID,
		Public: public, Held: !public, Body: text, FullBody: d.msg.Text, Now: d.now})
	if err != nil {
		return 0, err
	}
	for _, a := range d.msg.Attachments {
		blob, ok := d.blobs[a]
		if !ok {
			continue
		}
		if _, err := d.tx.ExecContext(d.ctx, `INSERT INTO attachments (comment_id, blob_id, filename, content_type, size, truncated, content_id, inline, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, id, blob, a.Filename, a.ContentType, a.Size, a.Truncated, a.ContentID, a.Inline, d.now); err != nil {
			return 0, fmt.Errorf("attachment %q: %w", a.Filename, mapErr(err))
		}
	}
	d.linked = true
	return id, nil
}

func (d *delivery) commentData(author *User) templates.Comment {
	c := templates.Comment{Author: author.Name, Body: d.replyText}
	if c.Author == "" {
		c.Author = author.LoginEmail
	}
	for _, a := range d.msg.Attachments {
		c.Attachments = append(c.Attachments, templates.AttachmentInfo{Name: a.Filename, ContentType: a.ContentType, Size: a.Size})
	}
	return c
}

// notifyAgents tells the assignee, or the agent address when unassigned.
func (d *delivery) notifyAgents(caseID int64, data func(templates.Base) templates.Data) error {
	n := d.g.cfg.Notifier
	c, err := GetCase(d.ctx, d.tx, caseID)
	if err != nil {
		return err
	}
	var to Recipient
	if c.AssigneeID != nil {
		u, err := UserByID(d.ctx, d.tx, *c.AssigneeID)
		if err != nil {
			return err
		}
		to = UserRecipient(u)
	} else if n.cfg.AgentAddress != "" {
		to = Recipient{Email: n.cfg.AgentAddress}
		if u, err := UserByAddress(d.ctx, d.tx, n.cfg.AgentAddress); err == nil {
			to = UserRecipient(u)
		}
	} else {
		return nil
	}
	_, err = n.Notify(d.ctx, d.tx, Notice{Data: data(n.Base(caseID, c.Subject, to.Name)), To: to, CaseID: caseID,
		InReplyTo: d.msg.MessageID, Now: d.now})
	return err
}

// bounce suppresses a permanently failed recipient and records it on the
// case of the mail that bounced.
func (d *delivery) bounce(caseID int64, rule, reason string) error {
	b := d.class.Bounce
	if b != nil && b.OriginalMessageID != "" && caseID == 0 {
		var c *int64
		err := d.tx.GetContext(d.ctx, &c, `SELECT case_id FROM messages WHERE message_id = $1 AND direction = 'out'`, b.OriginalMessageID)
		if err == nil && c != nil {
			caseID, rule, reason = *c, "bounce-original", "bounced mail <"+b.OriginalMessageID+">"
		} else if err != nil && !errors.Is(mapErr(err), ErrNotFound) {
			return fmt.Errorf("bounce: %w", mapErr(err))
		}
	}
	d.decide(caseID, DecisionStored, rule, reason+"; "+d.class.Reason)
	if b == nil || !b.Permanent || b.Recipient == "" {
		return nil
	}
	addr, err := CanonicalAddress(b.Recipient)
	if err != nil {
		return nil // an unusable address in a bounce is nothing to suppress
	}
	until := d.now.Add(d.g.cfg.SuppressFor)
	if _, err := d.tx.ExecContext(d.ctx, `INSERT INTO suppressions (address, reason, status_code, case_id, message_id, created_at, suppressed_until)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (address) DO UPDATE SET reason = $2, status_code = $3, case_id = coalesce($4, suppressions.case_id),
			message_id = $5, suppressed_until = greatest(suppressions.suppressed_until, $7)`,
		addr, truncateText(b.Diagnostic, 1000), b.Status, nullID(caseID), d.msgRowID, d.now, until); err != nil {
		return fmt.Errorf("suppress %s: %w", addr, mapErr(err))
	}
	d.reason += "; " + addr + " suppressed until " + until.UTC().Format(time.RFC3339)
	if caseID > 0 {
		return AddEvent(d.ctx, d.tx, NewEvent{CaseID: caseID, Kind: "suppressed", To: addr,
			Reason: strings.TrimSpace(b.Status + " " + b.Diagnostic), MessageID: &d.msgRowID, Now: d.now})
	}
	return nil
}

// tooLarge tells a human sender once that their mail was too large.
func (d *delivery) tooLarge(caseID int64) error {
	n := d.g.cfg.Notifier
	if n == nil || d.class.Class != threading.ClassHuman || d.msg.From.Canonical() == "" {
		return nil
	}
	to := Recipient{Email: d.msg.From.Canonical(), Name: d.msg.From.Name}
	if u, err := UserByAddress(d.ctx, d.tx, to.Email); err == nil {
		to = UserRecipient(u)
	}
	_, err := n.Notify(d.ctx, d.tx, Notice{
		Data: templates.TooLargeData{Base: n.Base(caseID, d.msg.Subject, to.Name), Size: d.in.Size, Limit: d.g.cfg.MaxAttachment},
		To:   to, CaseID: caseID, InReplyTo: d.msg.MessageID, AutoReplied: true, Now: d.now,
	})
	return err
}

// dropUnusedBlobs deletes attachment content stored while parsing a message
// that did not become a comment.
func (d *delivery) dropUnusedBlobs() error {
	if d.linked || len(d.blobs) == 0 {
		return nil
	}
	ids := make([]int64, 0, len(d.blobs))
	for _, id := range d.blobs {
		ids = append(ids, id)
	}
	_, err := d.tx.ExecContext(d.ctx, `DELETE FROM blobs b WHERE b.id = ANY($1) AND NOT EXISTS (SELECT 1 FROM attachments a WHERE a.blob_id = b.id)`, pq.Array(ids))
	if err != nil {
		return fmt.Errorf("drop unused blobs: %w", mapErr(err))
	}
	return nil
}

// storeBlob streams content into a blob and returns its id; identical content
// is stored once.
func storeBlob(ctx context.Context, tx *sqlx.Tx, r io.Reader) (int64, error) {
	var id int64
	if err := tx.GetContext(ctx, &id, `INSERT INTO blobs DEFAULT VALUES RETURNING id`); err != nil {
		return 0, fmt.Errorf("store attachment: %w", mapErr(err))
	}
	w := newChunkWriter(ctx, tx, `INSERT INTO blob_chunks (blob_id, seq, data) VALUES ($1, $2, $3)`, id)
	if _, err := io.Copy(w, r); err != nil {
		return 0, fmt.Errorf("store attachment: %w", err)
	}
	if err := w.Close(); err != nil {
		return 0, fmt.Errorf("store attachment: %w", err)
	}
	sum := w.sum()
	var existing int64
	err := tx.GetContext(ctx, &existing, `SELECT id FROM blobs WHERE sha256 = $1`, sum)
	if err == nil {
		if _, err := tx.ExecContext(ctx, `DELETE FROM blobs WHERE id = $1`, id); err != nil {
			return 0, fmt.Errorf("store attachment: %w", mapErr(err))
		}
		return existing, nil
	}
	if !errors.Is(mapErr(err), ErrNotFound) {
		return 0, fmt.Errorf("store attachment: %w", mapErr(err))
	}
	if _, err := tx.ExecContext(ctx, `UPDATE blobs SET sha256 = $2, size = $3 WHERE id = $1`, id, sum, w.size); err != nil {
		// A concurrent transaction stored the same content first: retrying dedupes.
		return 0, fmt.Errorf("store attachment: %w", mapErr(err))
	}
	return id, nil
}

// chunkSize bounds memory per stream: a large mail is written 1 MiB at a time.
const chunkSize = 1 << 20

// chunkWriter writes a byte stream as numbered rows, hashing it on the way.
type chunkWriter struct {
	ctx    context.Context
	tx     *sqlx.Tx
	insert string
	owner  int64
	seq    int
	buf    []byte
	size   int64
	hash   hash.Hash
}

func newChunkWriter(ctx context.Context, tx *sqlx.Tx, insert string, owner int64) *chunkWriter {
	// buf grows as needed: most mail is far smaller than a chunk.
	return &chunkWriter{ctx: ctx, tx: tx, insert: insert, owner: owner, hash: sha256.New()}
}

func (w *chunkWriter) Write(p []byte) (int, error) {
	n := len(p)
	w.size += int64(n)
	w.hash.Write(p)
	for len(p) > 0 {
		k := min(len(p), chunkSize-len(w.buf))
		w.buf = append(w.buf, p[:k]...)
		p = p[k:]
		if len(w.buf) == chunkSize {
			if err := w.flush(); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

func (w *chunkWriter) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	if _, err := w.tx.ExecContext(w.ctx, w.insert, w.owner, w.seq, w.buf); err != nil {
		return mapErr(err)
	}
	w.seq++
	w.buf = w.buf[:0]
	return nil
}

// Close writes what is left; an empty stream still gets one (empty) chunk.
func (w *chunkWriter) Close() error {
	if w.seq == 0 && len(w.buf) == 0 {
		_, err := w.tx.ExecContext(w.ctx, w.insert, w.owner, 0, []byte{})
		w.seq++
		return mapErr(err)
	}
	return w.flush()
}

func (w *chunkWriter) sum() []byte { return w.hash.Sum(nil) }

func nullID(id int64) *int64 {
	if id <= 0 {
		return nil
	}
	return &id
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// truncateText cuts s to at most n bytes on a rune boundary.
func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// Reprocess runs a stored inbound message through ingest again, e.g. after a
// grant was added for a held message or a poison message's cause was fixed.
// Messages that became a case or a comment are refused: running them again
// would apply them twice.
func (g *Ingester) Reprocess(ctx context.Context, messageID string) (Result, error) {
	var res Result
	err := g.store.WithTx(ctx, func(tx *sqlx.Tx) error {
		var m struct {
			ID       int64  `db:"id"`
			Decision string `db:"decision"`
			RawID    *int64 `db:"raw_id"`
		}
		err := tx.GetContext(ctx, &m, `SELECT id, decision, raw_id FROM messages WHERE message_id = $1 AND direction = 'in' FOR UPDATE`,
			strings.Trim(messageID, "<> "))
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
		readers := make([]io.Reader, len(chunks))
		for i, c := range chunks {
			readers[i] = bytes.NewReader(c)
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
		res, err = g.ingest(ctx, tx, Inbound{Body: io.MultiReader(readers...)}, g.cfg.Now())
		return err
	})
	return res, err
}
