package helpdesk

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lib/pq"

	"github.com/helpdesk/helpdesk/helpdesk/lifecycle"
)

// Case statuses.
const (
	StatusOpen    = "open"    // waiting on support
	StatusPending = "pending" // waiting on the requester
	StatusOnHold  = "on_hold" // waiting on an internal team
	StatusSolved  = "solved"
	StatusClosed  = "closed" // terminal
)

// ValidStatus reports whether s is a case status.
func ValidStatus(s string) bool {
	switch s {
	case StatusOpen, StatusPending, StatusOnHold, StatusSolved, StatusClosed:
		return true
	}
	return false
}

// ValidSeverity reports whether s is S1..S4.
func ValidSeverity(s string) bool {
	return s == "S1" || s == "S2" || s == "S3" || s == "S4"
}

// CaseSummary is one row of a case list: the columns a customer portal shows.
type CaseSummary struct {
	ID             int64     `db:"id" json:"id"`
	Subject        string    `db:"subject" json:"subject"`
	Status         string    `db:"status" json:"status"`
	Severity       string    `db:"severity" json:"severity"`
	Org            string    `db:"org" json:"org"`
	Submitter      string    `db:"submitter" json:"submitter"`
	CreatedAt      time.Time `db:"created_at" json:"created_at"`
	LastActivityAt time.Time `db:"last_activity_at" json:"last_activity_at"`
}

// Case is a case with everything cases show displays.
type Case struct {
	CaseSummary
	OrgID              *int64     `db:"org_id" json:"-"`
	SubmitterID        int64      `db:"submitter_id" json:"-"`
	AssigneeID         *int64     `db:"assignee_id" json:"-"`
	Assignee           *string    `db:"assignee" json:"assignee"`
	FollowUpOf         *int64     `db:"follow_up_of" json:"follow_up_of"`
	MergedInto         *int64     `db:"merged_into" json:"merged_into"`
	KnownIssueID       *int64     `db:"known_issue_id" json:"known_issue_id"`
	Mailbox            string     `db:"mailbox" json:"mailbox"`
	UpdatedAt          time.Time  `db:"updated_at" json:"updated_at"`
	FirstResponseAt    *time.Time `db:"first_response_at" json:"first_response_at"`
	FirstResponseDueAt *time.Time `db:"first_response_due_at" json:"first_response_due_at"`
	PendingSince       *time.Time `db:"pending_since" json:"pending_since"`
	SolvedAt           *time.Time `db:"solved_at" json:"solved_at"`
	SolvedReason       string     `db:"solved_reason" json:"solved_reason,omitempty"`
	ClosedAt           *time.Time `db:"closed_at" json:"closed_at"`
}

// CaseDetail is a case with its history.
type CaseDetail struct {
	Case
	Comments []Comment `json:"comments"`
	Events   []Event   `json:"events"`
	Messages []Message `json:"messages"`
}

// Comment is one entry of a case's conversation.
type Comment struct {
	ID          int64        `db:"id" json:"id"`
	CaseID      int64        `db:"case_id" json:"-"`
	Author      *string      `db:"author" json:"author"`
	Public      bool         `db:"public" json:"public"`
	Held        bool         `db:"held" json:"held"`
	Internal    bool         `db:"internal" json:"internal"` // an agent's internal note
	Body        string       `db:"body" json:"body"`
	CreatedAt   time.Time    `db:"created_at" json:"created_at"`
	Attachments []Attachment `db:"-" json:"attachments"`
}

// Attachment describes a stored file; the bytes live in blobs.
type Attachment struct {
	ID          int64  `db:"id" json:"id"`
	CommentID   int64  `db:"comment_id" json:"-"`
	Filename    string `db:"filename" json:"filename"`
	ContentType string `db:"content_type" json:"content_type"`
	Size        int64  `db:"size" json:"size"`
	Inline      bool   `db:"inline" json:"inline"`
}

// Event is one audit entry of a case.
type Event struct {
	ID        int64     `db:"id" json:"id"`
	Kind      string    `db:"kind" json:"kind"`
	Actor     *string   `db:"actor" json:"actor"`
	From      string    `db:"from_value" json:"from,omitempty"`
	To        string    `db:"to_value" json:"to,omitempty"`
	Reason    string    `db:"reason" json:"reason,omitempty"`
	CreatedAt time.Time `db:"created_at" json:"created_at"`
}

// Message is a mail we know on a case, inbound or outbound.
type Message struct {
	ID          int64     `db:"id" json:"-"`
	MessageID   string    `db:"message_id" json:"message_id"`
	Direction   string    `db:"direction" json:"direction"`
	From        string    `db:"from_address" json:"from"`
	Subject     string    `db:"subject" json:"subject"`
	Class       string    `db:"class" json:"class"`
	ClassReason string    `db:"class_reason" json:"class_reason,omitempty"`
	Decision    string    `db:"decision" json:"decision"`
	Rule        string    `db:"rule" json:"rule,omitempty"`
	Reason      string    `db:"reason" json:"reason,omitempty"`
	CreatedAt   time.Time `db:"created_at" json:"created_at"`
}

// NewCase is the input of CreateCase.
type NewCase struct {
	Subject     string
	Severity    string // default S3
	OrgID       *int64
	SubmitterID int64
	FollowUpOf  *int64
	Mailbox     string
	Now         time.Time
	FirstDue    *time.Time
	// Policy decides when the case's first timer (the SLA warning) is due.
	// Without one a case with FirstDue is due at once, and the next timer
	// pass schedules it.
	Policy *lifecycle.Policy
}

// nextTimer is the next_timer_at of the new case.
func (in NewCase) nextTimer(sev string) sql.NullTime {
	if in.FirstDue == nil || in.FirstDue.IsZero() {
		return sql.NullTime{}
	}
	if in.Policy == nil {
		return sql.NullTime{Time: in.Now, Valid: true}
	}
	return nextTimerAt(lifecycle.Case{Status: lifecycle.Open, Severity: lifecycle.Severity(sev), CreatedAt: in.Now,
		FirstResponseDue: *in.FirstDue}, *in.Policy)
}

// CreateCase inserts an open case and its "created" event.
func CreateCase(ctx context.Context, q Queryer, in NewCase) (int64, error) {
	sev := in.Severity
	if sev == "" {
		sev = "S3"
	}
	if !ValidSeverity(sev) {
		return 0, fmt.Errorf("%w: severity %q", ErrInvalid, in.Severity)
	}
	var id int64
	err := q.GetContext(ctx, &id, `INSERT INTO cases (subject, severity, org_id, submitter_id, follow_up_of, mailbox,
			created_at, updated_at, last_activity_at, first_response_due_at, next_timer_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $7, $8, $9) RETURNING id`,
		in.Subject, sev, in.OrgID, in.SubmitterID, in.FollowUpOf, in.Mailbox, in.Now, in.FirstDue, in.nextTimer(sev))
	if err != nil {
		return 0, fmt.Errorf("create case: %w", mapErr(err))
	}
	if err := AddEvent(ctx, q, NewEvent{CaseID: id, ActorID: &in.SubmitterID, Kind: "created", To: StatusOpen, Now: in.Now}); err != nil {
		return 0, err
	}
	return id, nil
}

// NewEvent is the input of AddEvent.
type NewEvent struct {
	CaseID    int64
	ActorID   *int64 // nil: the system
	Kind      string
	From, To  string
	Reason    string
	MessageID *int64
	Now       time.Time
}

// AddEvent appends to a case's audit log.
func AddEvent(ctx context.Context, q Queryer, e NewEvent) error {
	_, err := q.ExecContext(ctx, `INSERT INTO case_events (case_id, actor_id, kind, from_value, to_value, reason, message_id, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, e.CaseID, e.ActorID, e.Kind, e.From, e.To, e.Reason, e.MessageID, e.Now)
	if err != nil {
		return fmt.Errorf("case %d: add %s event: %w", e.CaseID, e.Kind, mapErr(err))
	}
	return nil
}

// NewComment is the input of AddComment.
type NewComment struct {
	CaseID    int64
	AuthorID  *int64
	MessageID *int64
	Public    bool
	Held      bool
	Internal  bool
	Body      string
	FullBody  string
	Now       time.Time
}

// AddComment appends a comment and marks the case active.
func AddComment(ctx context.Context, q Queryer, c NewComment) (int64, error) {
	var id int64
	err := q.GetContext(ctx, &id, `INSERT INTO comments (case_id, author_id, message_id, public, held, internal, body, full_body, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		c.CaseID, c.AuthorID, c.MessageID, c.Public, c.Held, c.Internal, c.Body, c.FullBody, c.Now)
	if err != nil {
		return 0, fmt.Errorf("case %d: add comment: %w", c.CaseID, mapErr(err))
	}
	if _, err := q.ExecContext(ctx, `UPDATE cases SET last_activity_at = greatest(last_activity_at, $2), updated_at = $2 WHERE id = $1`,
		c.CaseID, c.Now); err != nil {
		return 0, fmt.Errorf("case %d: touch: %w", c.CaseID, mapErr(err))
	}
	return id, nil
}

// CaseFilter narrows ListCases. Zero values match everything.
type CaseFilter struct {
	Status string
	Org    string
	// Search finds text in the subject and the comments, case-insensitively:
	// anywhere when it has three characters or more, at the start of a word
	// when shorter (결제 finds 결제가, not 카드결제).
	Search string
	// Submitter and Assignee are addresses of users (any of their
	// addresses); Assignee "none" matches unassigned cases.
	Submitter string
	Assignee  string
	Limit     int // default 100
}

const caseSummarySelect = `SELECT c.id, c.subject, c.status, c.severity, coalesce(o.name, '') AS org,
	s.login_email AS submitter, c.created_at, c.last_activity_at`

// ListCases returns the most recently active cases first.
func ListCases(ctx context.Context, q Queryer, f CaseFilter) ([]CaseSummary, error) {
	if f.Status != "" && !ValidStatus(f.Status) {
		return nil, fmt.Errorf("%w: status %q (want open, pending, on_hold, solved or closed)", ErrInvalid, f.Status)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	var w sqlWhere
	if f.Status != "" {
		w.add("c.status = " + w.arg(f.Status))
	}
	if f.Org != "" {
		o, err := OrgByName(ctx, q, f.Org)
		if err != nil {
			return nil, err
		}
		w.add("c.org_id = " + w.arg(o.ID))
	}
	if f.Submitter != "" {
		u, err := UserByAddress(ctx, q, f.Submitter)
		if err != nil {
			return nil, fmt.Errorf("submitter: %w", err)
		}
		w.add("c.submitter_id = " + w.arg(u.ID))
	}
	switch a := strings.TrimSpace(f.Assignee); {
	case strings.EqualFold(a, "none"):
		w.add("c.assignee_id IS NULL")
	case a != "":
		u, err := UserByAddress(ctx, q, a)
		if err != nil {
			return nil, fmt.Errorf("assignee: %w", err)
		}
		w.add("c.assignee_id = " + w.arg(u.ID))
	}
	term := strings.TrimSpace(f.Search)
	if term == "" {
		return selectCases(ctx, q, caseListFrom+w.sql()+caseListOrder+w.arg(limit), w.args)
	}
	// A common word is found among the most recent cases without reading
	// every case that has it; a rarer one through the text indexes.
	r := sqlWhere{conds: w.conds[:len(w.conds):len(w.conds)], args: append([]any(nil), w.args...)}
	window := r.arg(searchWindow * limit)
	match := "(" + textMatch("c.subject", term, r.arg) + " OR EXISTS (SELECT 1 FROM comments m WHERE m.case_id = c.id AND " +
		textMatch("m.body", term, r.arg) + "))"
	recent, err := selectCases(ctx, q, caseSummarySelect+` FROM (SELECT * FROM cases c`+r.sql()+caseListOrder+window+`) c
		JOIN users s ON s.id = c.submitter_id LEFT JOIN orgs o ON o.id = c.org_id WHERE `+match+caseListOrder+r.arg(limit), r.args)
	if err != nil || len(recent) == limit {
		return recent, err
	}
	w.add("c.id IN (SELECT id FROM cases WHERE " + textMatch("subject", term, w.arg) +
		" UNION SELECT case_id FROM comments WHERE " + textMatch("body", term, w.arg) + ")")
	return selectCases(ctx, q, caseListFrom+w.sql()+caseListOrder+w.arg(limit), w.args)
}

// searchWindow: a search first reads this many times its limit of the most
// recent cases.
const searchWindow = 20

const (
	caseListFrom  = caseSummarySelect + ` FROM cases c JOIN users s ON s.id = c.submitter_id LEFT JOIN orgs o ON o.id = c.org_id`
	caseListOrder = ` ORDER BY c.last_activity_at DESC, c.id DESC LIMIT `
)

func selectCases(ctx context.Context, q Queryer, query string, args []any) ([]CaseSummary, error) {
	cs := []CaseSummary{}
	if err := q.SelectContext(ctx, &cs, query, args...); err != nil {
		return nil, fmt.Errorf("list cases: %w", mapErr(err))
	}
	return cs, nil
}

// sqlWhere collects the conditions of a query and their arguments.
type sqlWhere struct {
	conds []string
	args  []any
}

func (w *sqlWhere) arg(v any) string {
	w.args = append(w.args, v)
	return fmt.Sprintf("$%d", len(w.args))
}

func (w *sqlWhere) add(cond string) { w.conds = append(w.conds, cond) }

func (w *sqlWhere) sql() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// textMatch is the condition that column holds term, case-insensitively:
// as a substring (pg_trgm serves ILIKE) when term has three characters or
// more; shorter text has no trigram, so it matches word prefixes in the
// 'simple' full-text index instead.
func textMatch(column, term string, arg func(any) string) string {
	if utf8.RuneCountInString(term) >= 3 {
		return column + " ILIKE " + arg("%"+escapeLike(term)+"%")
	}
	return "to_tsvector('simple', " + column + ") @@ to_tsquery('simple', " + arg(prefixQuery(term)) + ")"
}

// prefixQuery is a tsquery matching words that start with each word of s.
func prefixQuery(s string) string {
	var parts []string
	for _, w := range strings.Fields(s) {
		w = strings.NewReplacer(`\`, `\\`, `'`, `''`).Replace(w)
		parts = append(parts, "'"+w+"':*")
	}
	return strings.Join(parts, " & ")
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// GetCase loads one case.
func GetCase(ctx context.Context, q Queryer, id int64) (*Case, error) {
	c := &Case{}
	err := q.GetContext(ctx, c, caseSummarySelect+`, c.org_id, c.submitter_id, c.assignee_id, a.login_email AS assignee,
			c.follow_up_of, c.merged_into, c.known_issue_id, c.mailbox, c.updated_at, c.first_response_at,
			c.first_response_due_at, c.pending_since, c.solved_at, c.solved_reason, c.closed_at
		FROM cases c JOIN users s ON s.id = c.submitter_id LEFT JOIN orgs o ON o.id = c.org_id
		LEFT JOIN users a ON a.id = c.assignee_id
		WHERE c.id = $1`, id)
	if err != nil {
		return nil, fmt.Errorf("case %d: %w", id, mapErr(err))
	}
	return c, nil
}

// GetCaseDetail loads a case with its comments (and their attachments),
// events and messages, oldest first.
func GetCaseDetail(ctx context.Context, q Queryer, id int64) (*CaseDetail, error) {
	c, err := GetCase(ctx, q, id)
	if err != nil {
		return nil, err
	}
	d := &CaseDetail{Case: *c, Comments: []Comment{}, Events: []Event{}, Messages: []Message{}}
	if err := q.SelectContext(ctx, &d.Comments, `SELECT m.id, m.case_id, u.login_email AS author, m.public, m.held, m.internal, m.body, m.created_at
		FROM comments m LEFT JOIN users u ON u.id = m.author_id WHERE m.case_id = $1 ORDER BY m.created_at, m.id`, id); err != nil {
		return nil, fmt.Errorf("case %d comments: %w", id, mapErr(err))
	}
	ids := make([]int64, len(d.Comments))
	byID := make(map[int64]*Comment, len(d.Comments))
	for i := range d.Comments {
		d.Comments[i].Attachments = []Attachment{}
		ids[i] = d.Comments[i].ID
		byID[ids[i]] = &d.Comments[i]
	}
	var atts []Attachment
	if err := q.SelectContext(ctx, &atts, `SELECT id, comment_id, filename, content_type, size, inline
		FROM attachments WHERE comment_id = ANY($1) ORDER BY id`, pq.Array(ids)); err != nil {
		return nil, fmt.Errorf("case %d attachments: %w", id, mapErr(err))
	}
	for _, a := range atts {
		byID[a.CommentID].Attachments = append(byID[a.CommentID].Attachments, a)
	}
	if err := q.SelectContext(ctx, &d.Events, `SELECT e.id, e.kind, u.login_email AS actor, e.from_value, e.to_value, e.reason, e.created_at
		FROM case_events e LEFT JOIN users u ON u.id = e.actor_id WHERE e.case_id = $1 ORDER BY e.created_at, e.id`, id); err != nil {
		return nil, fmt.Errorf("case %d events: %w", id, mapErr(err))
	}
	if err := q.SelectContext(ctx, &d.Messages, `SELECT id, message_id, direction, from_address, subject, class, class_reason,
			decision, rule, reason, created_at
		FROM messages WHERE case_id = $1 ORDER BY created_at, id`, id); err != nil {
		return nil, fmt.Errorf("case %d messages: %w", id, mapErr(err))
	}
	return d, nil
}

// Why is what was decided about one inbound message, for `helpdeskd why`.
type Why struct {
	MessageID string `db:"message_id" json:"message_id"`
	// OriginalID is the Message-ID field as written when it was malformed
	// and MessageID stands in for it.
	OriginalID  string    `db:"original_message_id" json:"original_message_id,omitempty"`
	From        string    `db:"from_address" json:"from"`
	Subject     string    `db:"subject" json:"subject"`
	Mailbox     string    `db:"mailbox" json:"mailbox"`
	ReceivedAt  time.Time `db:"created_at" json:"received_at"`
	Class       string    `db:"class" json:"class"`
	ClassReason string    `db:"class_reason" json:"class_reason"`
	Rule        string    `db:"rule" json:"rule"`
	Reason      string    `db:"reason" json:"reason"`
	TokenCheck  string    `db:"token_check" json:"token_check"`
	Access      string    `db:"sender_access" json:"sender_access"`
	Decision    string    `db:"decision" json:"decision"`
	CaseID      *int64    `db:"case_id" json:"case_id"`
	RawKept     bool      `db:"raw_kept" json:"raw_kept"`
	Comment     *string   `db:"comment" json:"comment"`
	Events      []Event   `db:"-" json:"events"`
}

// ExplainMessage loads the decision record of an inbound message.
func ExplainMessage(ctx context.Context, q Queryer, messageID string) (*Why, error) {
	id := strings.Trim(strings.TrimSpace(messageID), "<>")
	w := &Why{}
	err := q.GetContext(ctx, w, `SELECT m.message_id, m.original_message_id, m.from_address, m.subject, m.mailbox, m.created_at, m.class, m.class_reason,
			m.rule, m.reason, m.token_check, m.sender_access, m.decision, m.case_id, m.raw_id IS NOT NULL AS raw_kept,
			(SELECT CASE WHEN c.internal THEN 'internal note' WHEN c.held THEN 'held for review' WHEN c.public THEN 'public comment' ELSE 'internal note' END
			 FROM comments c WHERE c.message_id = m.id) AS comment
		FROM messages m WHERE m.direction = 'in' AND (m.message_id = $1 OR m.id = (SELECT min(o.id) FROM messages o
			WHERE o.thread_alias = $1 AND o.direction = 'in') OR m.id = (SELECT min(o.id) FROM messages o
			WHERE o.original_message_id IN ($1, '<' || $1 || '>') AND o.original_message_id <> '' AND o.direction = 'in'))
		ORDER BY m.message_id = $1 DESC, m.id LIMIT 1`, id)
	if err != nil {
		return nil, fmt.Errorf("message <%s>: %w", id, mapErr(err))
	}
	w.Events = []Event{}
	if err := q.SelectContext(ctx, &w.Events, `SELECT e.id, e.kind, u.login_email AS actor, e.from_value, e.to_value, e.reason, e.created_at
		FROM case_events e LEFT JOIN users u ON u.id = e.actor_id
		WHERE e.message_id = (SELECT id FROM messages WHERE message_id = $1 AND direction = 'in') ORDER BY e.id`, w.MessageID); err != nil {
		return nil, fmt.Errorf("message <%s> events: %w", id, mapErr(err))
	}
	return w, nil
}
