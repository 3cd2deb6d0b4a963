package helpdesk

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/helpdesk/helpdesk/mail/compose"
	"github.com/helpdesk/helpdesk/templates"
	"github.com/helpdesk/helpdesk/threading"
)

// NotifierConfig configures a Notifier.
type NotifierConfig struct {
	Templates       *templates.Set
	Tokens          *threading.Tokens
	SupportAddress  string   // From of every notification
	Name            string   // public name of the helpdesk
	MessageIDDomain string   // domain of our Message-IDs
	LoopID          string   // value of LoopHeader
	Own             []string // our addresses: never a recipient
	AgentAddress    string   // agent notices of unassigned cases ("" : none)
	ManagerAddress  string   // the duty manager ("" : none)
	DefaultLocale   string
	// TimeZone shows the times of mail to recipients without a zone of
	// their own or their org's (HELPDESK_TIMEZONE; nil: UTC).
	TimeZone *time.Location
	Budget   Budget
	// AttachLimit is the largest total size of attachments relayed with a
	// comment; above it they are listed by name and size (default 10 MiB).
	AttachLimit int64
	// AgentAttachLimit is the largest total size of a customer's files
	// attached to one agent notice (0: DefaultAgentAttachLimit, <0: none);
	// the others are listed with a download link (Links) or the command an
	// operator fetches them with.
	AgentAttachLimit int64
	Links            *AttachmentLinks // nil: no download links
	// PlainEnvelope sends with the support address itself as envelope
	// sender instead of a signed VERP address (support+bounce-…@domain),
	// for relays that refuse plus addresses in MAIL FROM. Bounces then
	// verify only by the Message-ID they name.
	PlainEnvelope bool
}

// Notifier renders notifications and queues them in the caller's transaction.
type Notifier struct {
	cfg NotifierConfig
}

// NewNotifier validates cfg.
func NewNotifier(cfg NotifierConfig) (*Notifier, error) {
	if cfg.Templates == nil || cfg.Tokens == nil {
		return nil, errors.New("notifier: templates and tokens are required")
	}
	if _, err := CanonicalAddress(cfg.SupportAddress); err != nil {
		return nil, fmt.Errorf("notifier: support address: %w", err)
	}
	if cfg.MessageIDDomain == "" || cfg.LoopID == "" || cfg.Name == "" {
		return nil, errors.New("notifier: message-id domain, loop id and name are required")
	}
	cfg.SupportAddress = strings.ToLower(cfg.SupportAddress)
	if cfg.AttachLimit == 0 {
		cfg.AttachLimit = 10 << 20
	}
	cfg.Own = append([]string{cfg.SupportAddress}, cfg.Own...)
	return &Notifier{cfg: cfg}, nil
}

// Base fills the fields every template needs.
func (n *Notifier) Base(caseID int64, subject, recipientName string) templates.Base {
	return templates.Base{HelpdeskName: n.cfg.Name, SupportAddress: n.cfg.SupportAddress, CaseID: caseID,
		CaseSubject: subject, RecipientName: recipientName}
}

// Recipient is who a notification goes to.
type Recipient struct {
	UserID *int64 // set for users: the token names them
	Email  string
	Name   string
	Locale string
	Staff  bool // one of our agents or managers
	// TimeZone is the IANA zone the mail shows times in ("" or unknown:
	// the helpdesk's TimeZone).
	TimeZone string
}

// UserRecipient addresses a user at their registered login email, the only
// address notifications go to. Customers see times in their own zone, else
// their org's; agents in their own.
func UserRecipient(u *User) Recipient {
	r := Recipient{UserID: &u.ID, Email: u.LoginEmail, Name: u.Name, Locale: u.Locale, Staff: IsStaff(u.Role), TimeZone: u.TimeZone}
	if r.TimeZone == "" && !r.Staff {
		r.TimeZone = u.OrgTimeZone
	}
	return r
}

// zone is where the recipient's mail shows times.
func (n *Notifier) zone(r Recipient) *time.Location {
	if r.TimeZone != "" {
		if loc, err := time.LoadLocation(r.TimeZone); err == nil {
			return loc
		}
	}
	if n.cfg.TimeZone != nil {
		return n.cfg.TimeZone
	}
	return time.UTC
}

// Notice is one notification to send.
type Notice struct {
	Data      templates.Data
	To        Recipient
	CaseID    int64  // 0: not about a case
	FromName  string // display name before "via <helpdesk>", e.g. the agent's name
	InReplyTo string // the mail this answers, if any
	// AutoReplied marks a direct answer to an incoming mail (acknowledgement,
	// refusal): Auto-Submitted: auto-replied instead of auto-generated.
	AutoReplied bool
	Reason      string // why this mail was sent, for X-Helpdesk-Reason
	Attachments []compose.Attachment
	Now         time.Time
	Headers     [][2]string // extra fields, e.g. List-Unsubscribe
	fix         *numberFix  // case numbers a batch learnt after deciding
}

// Notify renders the notice and queues it. The Message-ID is chosen now and
// never changes; Reply-To carries a token naming the case and the recipient.
func (n *Notifier) Notify(ctx context.Context, q Queryer, nt Notice) (Enqueued, error) {
	inReplyTo, refs, err := caseThread(ctx, q, nt.CaseID, nt.InReplyTo)
	if err != nil {
		return Enqueued{}, err
	}
	var outboxID int64
	if !n.cfg.PlainEnvelope {
		if outboxID, err = ReserveOutboxID(ctx, q); err != nil {
			return Enqueued{}, err
		}
	}
	m, err := n.compose(nt, inReplyTo, refs, outboxID)
	if err != nil {
		return Enqueued{}, err
	}
	return EnqueueMail(ctx, q, m, n.cfg.Own, n.cfg.Budget)
}

// compose renders a notice into outbox mail threaded under refs; outboxID
// is the row it will be (0 with a plain envelope sender).
func (n *Notifier) compose(nt Notice, inReplyTo string, refs []string, outboxID int64) (OutMail, error) {
	locale := nt.To.Locale
	if locale == "" {
		locale = n.cfg.DefaultLocale
	}
	zone := n.zone(nt.To)
	r, err := n.cfg.Templates.RenderIn(locale, zone, nt.Data)
	if err != nil {
		return OutMail{}, fmt.Errorf("render %s: %w", nt.Data.Kind(), err)
	}
	r.Subject, r.Text, r.HTML = nt.fix.Replace(r.Subject), nt.fix.Replace(r.Text), nt.fix.Replace(r.HTML)
	var recipientID int64
	if nt.To.UserID != nil {
		recipientID = *nt.To.UserID
	}
	replyTo, tok := n.cfg.SupportAddress, ""
	if nt.CaseID > 0 && recipientID > 0 {
		tok = n.cfg.Tokens.Sign(nt.CaseID, recipientID)
		replyTo = threading.PlusAddress(n.cfg.SupportAddress, tok)
	}
	msgID := threading.NewOwnMessageID(n.cfg.MessageIDDomain, tok)
	from := n.cfg.Name
	if nt.FromName != "" {
		from = nt.FromName + " via " + n.cfg.Name
	}
	reason := nt.Reason
	if reason == "" {
		reason = string(nt.Data.Kind())
	}
	headers := [][2]string{
		{"Auto-Submitted", "auto-generated"},
		{"X-Auto-Response-Suppress", "All"},
		{threading.LoopHeader, n.cfg.LoopID},
		{"X-Helpdesk-Reason", reason},
		{"Precedence", "bulk"},
	}
	switch {
	case nt.Data.Kind() == templates.CommentAdded:
		// An agent's comment is a person's reply, not an automatic
		// message (RFC 3834): no Auto-Submitted, and not bulk mail.
		headers = slices.DeleteFunc(headers, func(h [2]string) bool { return h[0] == "Auto-Submitted" || h[0] == "Precedence" })
	case nt.AutoReplied:
		headers[0][1] = "auto-replied"
	}
	headers = append(headers, nt.Headers...)
	m := compose.Message{
		From:        compose.Address{Name: from, Address: n.cfg.SupportAddress},
		To:          []compose.Address{{Name: nt.To.Name, Address: nt.To.Email}},
		ReplyTo:     []compose.Address{{Name: n.cfg.Name, Address: replyTo}},
		Subject:     r.Subject,
		MessageID:   msgID,
		InReplyTo:   inReplyTo,
		References:  refs,
		Date:        nt.Now.In(zone),
		Headers:     headers,
		Text:        r.Text,
		HTML:        r.HTML,
		Attachments: nt.Attachments,
	}
	data, err := m.Bytes()
	if err != nil {
		return OutMail{}, fmt.Errorf("compose %s: %w", nt.Data.Kind(), err)
	}
	var caseID *int64
	if nt.CaseID > 0 {
		caseID = &nt.CaseID
	}
	// Bounces and vacation replies go to the envelope sender: a VERP
	// address naming this row tells them apart from mail people write.
	envelope := n.cfg.SupportAddress
	if outboxID > 0 {
		envelope = n.cfg.Tokens.BounceAddress(n.cfg.SupportAddress, outboxID)
	}
	return OutMail{
		ID: outboxID, MessageID: msgID, CaseID: caseID, Kind: string(nt.Data.Kind()), RecipientID: nt.To.UserID,
		EnvelopeFrom: envelope, Recipients: []string{nt.To.Email}, Subject: r.Subject, Data: data, Now: nt.Now,
		Staff: nt.To.Staff || strings.EqualFold(nt.To.Email, n.cfg.AgentAddress) || strings.EqualFold(nt.To.Email, n.cfg.ManagerAddress),
	}, nil
}

// maxReferences bounds References: the first message and the latest ones
// are what mail clients need to keep a conversation together.
const maxReferences = 20

// caseThread returns In-Reply-To and References for a new mail on a case:
// the case's first message and its latest ones, oldest first.
func caseThread(ctx context.Context, q Queryer, caseID int64, inReplyTo string) (string, []string, error) {
	if caseID <= 0 {
		return inReplyTo, nil, nil
	}
	var rows []struct {
		MessageID string    `db:"message_id"`
		CreatedAt time.Time `db:"created_at"`
		ID        int64     `db:"id"`
	}
	err := q.SelectContext(ctx, &rows, `(SELECT message_id, created_at, id FROM messages WHERE case_id = $1 ORDER BY created_at, id LIMIT 1)
		UNION
		(SELECT message_id, created_at, id FROM messages WHERE case_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2)
		ORDER BY 2, 3`, caseID, maxReferences-1)
	if err != nil {
		return "", nil, fmt.Errorf("case %d thread: %w", caseID, mapErr(err))
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.MessageID
	}
	if inReplyTo == "" && len(ids) > 0 {
		inReplyTo = ids[len(ids)-1]
	}
	return inReplyTo, ids, nil
}
