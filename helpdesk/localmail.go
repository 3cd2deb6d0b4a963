package helpdesk

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/helpdesk/helpdesk/mail/compose"
	"github.com/helpdesk/helpdesk/threading"
)

// Mail written with the CLI (helpdeskd cases comment|open) is a real RFC
// 5322 message run through ingest, so that the code that decides mail
// decides it too: the same lifecycle, commands, notices and audit. It is
// Local: no mailbox cursor moves, and it needs no Authentication-Results
// (an operator on this machine wrote it). A mail that would not become
// what was asked (a comment, a new case) is rolled back and refused.

// LocalMailbox is the mailbox recorded for mail written with the CLI.
const LocalMailbox = "cli"

// LocalFile is a file attached to mail written with the CLI.
type LocalFile struct {
	Name        string
	ContentType string // default application/octet-stream
	Content     []byte
}

// AgentComment is an agent's comment written with the CLI.
type AgentComment struct {
	CaseID   int64
	Agent    string // an address of an active agent or manager
	Body     string // may start with #commands, as in a reply by mail
	Internal bool   // an internal note (#internal)
	Files    []LocalFile
}

// OpenForCustomer opens a case on a customer's behalf.
type OpenForCustomer struct {
	Customer string // an address of an existing, active customer, contact or reseller
	Subject  string
	Severity string // optional: S1..S4, asked for as the customer would (the plan may lower it)
	Body     string
	As       string // optional: the agent or manager who opens it (recorded); "": the system
	Files    []LocalFile
}

// LocalResult is what ingest did with mail written with the CLI, and the
// case's status afterwards.
type LocalResult struct {
	Result
	Status   string
	Severity string
}

// Comment relays an agent's comment exactly as their reply by mail.
func (g *Ingester) Comment(ctx context.Context, in AgentComment) (LocalResult, error) {
	db := g.store.db
	agent, err := activeStaff(ctx, db, in.Agent)
	if err != nil {
		return LocalResult{}, err
	}
	if strings.TrimSpace(in.Body) == "" && len(in.Files) == 0 {
		return LocalResult{}, fmt.Errorf("%w: an empty comment (no text, no file)", ErrInvalid)
	}
	subject, err := caseSubject(ctx, db, in.CaseID)
	if err != nil {
		return LocalResult{}, err
	}
	inReplyTo, refs, err := caseThread(ctx, db, in.CaseID, "")
	if err != nil {
		return LocalResult{}, err
	}
	to := g.supportAddress()
	if g.cfg.Tokens != nil {
		to = threading.PlusAddress(to, g.cfg.Tokens.Sign(in.CaseID, agent.ID))
	}
	body := in.Body
	if in.Internal {
		body = "#internal\n" + body
	}
	m := compose.Message{
		From: compose.Address{Name: agent.Name, Address: agent.LoginEmail}, To: []compose.Address{{Address: to}},
		Subject: "Re: " + subject + " [Case #" + fmt.Sprint(in.CaseID) + "]", Text: textBody(body),
		Headers: [][2]string{{"X-Helpdesk-Via", "helpdeskd cases comment"}},
	}
	m.InReplyTo, m.References = inReplyTo, refs
	return g.local(ctx, m, in.Files, func(tx *sqlx.Tx, r Result) error {
		switch r.Decision {
		case DecisionComment, DecisionStored, DecisionFollowUp:
			return nil
		}
		return fmt.Errorf("%w: not a comment on case #%d: %s (%s)", ErrInvalid, in.CaseID, r.Decision, r.Reason)
	})
}

// OpenFor opens a case for a customer as if they had written: they get the
// acknowledgement; the case's "created" event records who opened it.
func (g *Ingester) OpenFor(ctx context.Context, in OpenForCustomer) (LocalResult, error) {
	db := g.store.db
	cust, err := UserByAddress(ctx, db, in.Customer)
	if err != nil {
		return LocalResult{}, fmt.Errorf("customer: %w", err)
	}
	switch {
	case IsStaff(cust.Role):
		return LocalResult{}, fmt.Errorf("%w: %s is %s, not a customer", ErrInvalid, cust.LoginEmail, cust.Role)
	case !cust.Active:
		return LocalResult{}, fmt.Errorf("%w: %s is deactivated", ErrInvalid, cust.LoginEmail)
	}
	var actor *User
	if in.As != "" {
		if actor, err = activeStaff(ctx, db, in.As); err != nil {
			return LocalResult{}, err
		}
	}
	if strings.TrimSpace(in.Subject) == "" {
		return LocalResult{}, fmt.Errorf("%w: a case needs a subject", ErrInvalid)
	}
	body := in.Body
	if in.Severity != "" {
		if in.Severity = strings.ToUpper(in.Severity); !ValidSeverity(in.Severity) {
			return LocalResult{}, fmt.Errorf("%w: severity %q (want S1, S2, S3 or S4)", ErrInvalid, in.Severity)
		}
		// Asked for as the customer would: the plan decides (S1 needs one with it).
		body = "Severity: " + in.Severity + "\n\n" + body
	}
	if strings.TrimSpace(body) == "" && len(in.Files) == 0 {
		return LocalResult{}, fmt.Errorf("%w: an empty case (no text, no file)", ErrInvalid)
	}
	m := compose.Message{
		From: compose.Address{Name: cust.Name, Address: cust.LoginEmail}, To: []compose.Address{{Address: g.supportAddress()}},
		Subject: in.Subject, Text: textBody(body),
		Headers: [][2]string{{"X-Helpdesk-Via", "helpdeskd cases open"}},
	}
	return g.local(ctx, m, in.Files, func(tx *sqlx.Tx, r Result) error {
		if r.Decision != DecisionNewCase {
			return fmt.Errorf("%w: no case opened for %s: %s (%s)", ErrInvalid, cust.LoginEmail, r.Decision, r.Reason)
		}
		reason := "opened with helpdeskd cases open on behalf of " + cust.LoginEmail
		var actorID *int64
		if actor != nil {
			actorID = &actor.ID
			reason += " by " + actor.LoginEmail
		}
		return markOpenedFor(ctx, tx, r.CaseID, actorID, reason)
	})
}

func (g *Ingester) supportAddress() string {
	if n := g.cfg.Notifier; n != nil && n.cfg.SupportAddress != "" {
		return n.cfg.SupportAddress
	}
	return g.cfg.Own[0]
}

// local composes m (Message-ID and Date are set here) and ingests it in one
// transaction with check, which may refuse the result (rolling it back) or
// add to it.
func (g *Ingester) local(ctx context.Context, m compose.Message, files []LocalFile, check func(*sqlx.Tx, Result) error) (out LocalResult, err error) {
	var nonce [8]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return out, fmt.Errorf("message-id: %w", err)
	}
	now := g.cfg.Now()
	// Not our notifications' form (threading.OwnMessageIDPrefix): that would read as our own mail coming back.
	m.MessageID = fmt.Sprintf("cli.%d.%s@%s", now.UnixNano(), hex.EncodeToString(nonce[:]), g.cfg.MessageIDDomain)
	m.Date = now
	for _, f := range files {
		m.Attachments = append(m.Attachments, compose.Attachment{Filename: f.Name, ContentType: f.ContentType, Content: f.Content})
	}
	raw, err := m.Bytes()
	if err != nil && (m.InReplyTo != "" || len(m.References) > 0) {
		// A stored Message-ID a mail header cannot carry: the reply token
		// alone threads the mail.
		m.InReplyTo, m.References = "", nil
		raw, err = m.Bytes()
	}
	if err != nil {
		return out, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	in := Inbound{Mailbox: LocalMailbox, Local: true, Size: int64(len(raw)), Body: bytes.NewReader(raw)}
	defer func() {
		if p := recover(); p != nil {
			g.log.Error("local mail panicked", "panic", p, "stack", string(debug.Stack()))
			err = fmt.Errorf("%w: panic: %v", ErrPermanent, p)
		}
	}()
	err = g.store.WithTx(ctx, func(tx *sqlx.Tx) error {
		res, err := g.runBatch(ctx, tx, []Inbound{in})
		if err != nil {
			return err
		}
		out.Result = res[0]
		return check(tx, out.Result)
	})
	if err != nil {
		return LocalResult{}, err
	}
	if c, err := GetCase(ctx, g.store.db, out.CaseID); err == nil {
		out.Status, out.Severity = c.Status, c.Severity
	}
	return out, nil
}

// textBody is body as a mail's text: never empty, lines ending in "\n".
func textBody(body string) string {
	body = strings.ReplaceAll(body, "\r\n", "\n")
	if strings.TrimSpace(body) == "" {
		return "\n"
	}
	return body
}

// activeStaff is the active agent or manager with address addr.
func activeStaff(ctx context.Context, q Queryer, addr string) (*User, error) {
	u, err := UserByAddress(ctx, q, addr)
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("%w: no agent or manager %s", ErrInvalid, addr)
	}
	if err != nil {
		return nil, err
	}
	if !IsStaff(u.Role) || !u.Active {
		what := u.Role
		if !u.Active {
			what = "deactivated " + u.Role
		}
		return nil, fmt.Errorf("%w: %s is a %s, not an active agent or manager", ErrInvalid, u.LoginEmail, what)
	}
	return u, nil
}

// Unsubscribe carries out a one-click unsubscribe (RFC 8058) of a signed
// known-issue unsubscribe token: a mail from the token's subscriber to its
// unsubscribe address, decided like one they sent. A forged, subscribe or
// unknown-user token is refused.
func (g *Ingester) Unsubscribe(ctx context.Context, token string) (LocalResult, error) {
	if g.cfg.Tokens == nil {
		return LocalResult{}, fmt.Errorf("%w: no token secret", ErrInvalid)
	}
	t, err := g.cfg.Tokens.VerifyKnownIssue(token)
	if err != nil || !t.Unsubscribe {
		return LocalResult{}, fmt.Errorf("%w: not an unsubscribe token", ErrInvalid)
	}
	u, err := UserByID(ctx, g.store.db, t.UserID)
	if err != nil {
		return LocalResult{}, fmt.Errorf("unsubscribe: %w", err)
	}
	m := compose.Message{
		From: compose.Address{Name: u.Name, Address: u.LoginEmail}, To: []compose.Address{{Address: threading.PlusAddress(g.supportAddress(), token)}},
		Subject: "unsubscribe", Text: "unsubscribe\n",
		Headers: [][2]string{{"X-Helpdesk-Via", "one-click unsubscribe (RFC 8058)"}},
	}
	return g.local(ctx, m, nil, func(_ *sqlx.Tx, r Result) error {
		if r.Decision != DecisionSelfService {
			return fmt.Errorf("%w: unsubscribe not carried out: %s (%s)", ErrInvalid, r.Decision, r.Reason)
		}
		return nil
	})
}
