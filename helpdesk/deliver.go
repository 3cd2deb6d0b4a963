package helpdesk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/helpdesk/helpdesk/helpdesk/lifecycle"
	"github.com/helpdesk/helpdesk/mail"
	"github.com/helpdesk/helpdesk/mail/compose"
	"github.com/helpdesk/helpdesk/templates"
	"github.com/helpdesk/helpdesk/threading"
	"github.com/helpdesk/helpdesk/threading/reply"
)

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
	tokenCheck, access     string
}

// link records the case of the inbound message at once, so notifications
// rendered next put it in their References.
func (d *delivery) link(caseID int64) error {
	if _, err := d.tx.ExecContext(d.ctx, `UPDATE messages SET case_id = $2 WHERE id = $1`, d.msgRowID, caseID); err != nil {
		return fmt.Errorf("link message: %w", mapErr(err))
	}
	return nil
}

func (d *delivery) decide(caseID int64, decision, rule, reason string) {
	d.caseID, d.decision, d.rule, d.reason = caseID, decision, rule, reason
}

func (d *delivery) apply() error {
	if d.class.Class == threading.ClassLoop {
		d.decide(0, DecisionIgnored, threading.RuleOwnMail, d.class.Reason)
		d.tokenCheck = "not checked"
		return nil
	}
	sender, err := d.knownSender()
	if err != nil {
		return err
	}
	dec, err := d.thread(sender)
	if err != nil {
		return err
	}
	caseID := dec.CaseID
	if caseID > 0 {
		if caseID, err = followMerges(d.ctx, d.tx, caseID); err != nil {
			return err
		}
		if caseID != dec.CaseID {
			dec.Reason += fmt.Sprintf("; case #%d was merged into #%d", dec.CaseID, caseID)
		}
	}
	d.tokenCheck = dec.TokenCheck
	if handled, err := d.toEnvelopeSender(caseID, dec); handled || err != nil {
		return err // an automated reply to our envelope sender (bounces.go)
	}
	if d.in.Oversized {
		return d.oversized(caseID, sender, dec) // oversized.go
	}
	switch d.class.Class {
	case threading.ClassBounce:
		return d.bounce(caseID, dec.Rule, dec.Reason)
	case threading.ClassAutoReply, threading.ClassList:
		if caseID > 0 {
			d.decide(caseID, DecisionStored, dec.Rule, d.class.Reason+"; automated mail never reopens or notifies")
		} else {
			d.decide(0, DecisionIgnored, "automated", d.class.Reason+"; automated mail never opens a case")
		}
		return nil
	}
	if caseID > 0 {
		return d.reply(caseID, sender, dec)
	}
	if d.waitForParent(dec) {
		return nil
	}
	return d.open(sender, dec.Reason)
}

// knownSender is the user the From address belongs to, or nil.
func (d *delivery) knownSender() (*User, error) {
	from := d.msg.From.Canonical()
	if from == "" {
		return nil, nil
	}
	u, err := UserByAddress(d.ctx, d.tx, from)
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrInvalid) {
		return nil, nil
	}
	return u, err
}

// thread gathers what the threading rules need from the database and decides.
func (d *delivery) thread(sender *User) (threading.Decision, error) {
	in := threading.ThreadInput{Now: d.now, Class: d.class.Class, InReplyTo: d.msg.InReplyTo, References: d.msg.References}
	for _, list := range []struct {
		where string
		addrs []mail.Address
	}{{"to", d.msg.To}, {"cc", d.msg.Cc}, {"delivered-to", d.msg.DeliveredTo}, {"x-original-to", d.msg.XOriginalTo}} {
		for _, a := range list.addrs {
			if tok, ok := threading.TokenFromAddress(a.Canonical(), d.g.cfg.Own); ok {
				in.Tokens = append(in.Tokens, threading.TokenSeen{Where: list.where, Token: tok})
			}
		}
	}
	ids := append(append([]string{}, d.msg.InReplyTo...), d.msg.References...)
	for _, id := range ids {
		if tok, ok := threading.TokenFromMessageID(id, d.g.cfg.MessageIDDomain); ok {
			in.Tokens = append(in.Tokens, threading.TokenSeen{Where: "references", Token: tok})
		}
	}
	if len(ids) > 0 {
		var rows []struct {
			MessageID string `db:"message_id"`
			CaseID    int64  `db:"case_id"`
		}
		// A reply names a malformed Message-ID by the stand-in it is known
		// as. An exact Message-ID wins over an alias, our mail over theirs,
		// then the oldest: the same mail always threads the same way.
		if err := d.tx.SelectContext(d.ctx, &rows, `SELECT DISTINCT ON (k) k AS message_id, case_id FROM (
				SELECT message_id AS k, case_id, direction, false AS alias, id FROM messages
				WHERE message_id = ANY($1) AND case_id IS NOT NULL
				UNION ALL
				SELECT thread_alias, case_id, direction, true, id FROM messages
				WHERE thread_alias = ANY($1) AND thread_alias <> '' AND case_id IS NOT NULL) m
			ORDER BY k, alias, direction = 'out' DESC, id`, pq.Array(ids)); err != nil {
			return threading.Decision{}, fmt.Errorf("thread: %w", mapErr(err))
		}
		in.Known = make(map[string]int64, len(rows))
		for _, r := range rows {
			in.Known[r.MessageID] = r.CaseID
		}
	}
	allowed := func(caseID int64) (bool, error) {
		c, err := GetCase(d.ctx, d.tx, caseID)
		if errors.Is(err, ErrNotFound) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		ok, _, err := Access(d.ctx, d.tx, sender, c, d.g.cfg.Access)
		return ok, err
	}
	if v := first(d.msg.Header, "Thread-Index"); v != "" {
		if root, ok := threading.ThreadIndexRoot(v); ok {
			var c *int64
			err := d.tx.GetContext(d.ctx, &c, `SELECT case_id FROM messages WHERE thread_index_root = $1 AND case_id IS NOT NULL
				AND id <> $2 ORDER BY created_at LIMIT 1`, root, d.msgRowID)
			if err != nil && !errors.Is(mapErr(err), ErrNotFound) {
				return threading.Decision{}, fmt.Errorf("thread-index: %w", mapErr(err))
			}
			if c != nil {
				in.ThreadIndexCase = *c
				if in.ThreadIndexAllowed, err = allowed(*c); err != nil {
					return threading.Decision{}, err
				}
			}
		}
	}
	if n, ok := threading.CaseTag(d.msg.Subject); ok {
		var exists bool
		if err := d.tx.GetContext(d.ctx, &exists, `SELECT EXISTS (SELECT 1 FROM cases WHERE id = $1)`, n); err != nil {
			return threading.Decision{}, fmt.Errorf("subject tag: %w", mapErr(err))
		}
		if exists {
			in.TagCase = n
			var err error
			if in.TagAllowed, err = allowed(n); err != nil {
				return threading.Decision{}, err
			}
		}
	}
	return threading.Thread(in, d.g.cfg.Tokens), nil
}

func first(h map[string][]string, k string) string {
	if v := h[k]; len(v) > 0 {
		return v[0]
	}
	return ""
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

// admit returns the sender as a user, creating one when the unknown-sender
// policy lets them open cases; nil and the refusal when it does not.
func (d *delivery) admit(known *User) (*User, templates.RefusalReason, error) {
	if known != nil {
		return known, "", nil
	}
	from := d.msg.From.Canonical()
	if from == "" {
		return nil, "", fmt.Errorf("%w: no usable From address", ErrPermanent)
	}
	org := ""
	o, err := OrgByDomain(d.ctx, d.tx, from[strings.LastIndexByte(from, '@')+1:])
	if err == nil {
		org = o.Name
	} else if !errors.Is(err, ErrNotFound) {
		return nil, "", err
	}
	switch d.g.cfg.UnknownSenders {
	case "registered":
		return nil, templates.RefusalUnknownSender, nil
	case "domain":
		if org == "" {
			return nil, templates.RefusalDomainNotAllowed, nil
		}
	}
	u, err := CreateUser(d.ctx, d.tx, NewUser{Email: from, Name: d.msg.From.Name, Role: RoleCustomer, Org: org})
	if errors.Is(err, ErrInvalid) {
		return nil, "", fmt.Errorf("%w: sender %s: %v", ErrPermanent, from, err)
	}
	return u, "", err
}

// open starts a new case for a human mail that threads nowhere.
func (d *delivery) open(known *User, why string) error {
	if held, err := d.throttled(); held || err != nil {
		return err // over the per-sender limit (loops.go)
	}
	sender, refusal, err := d.admit(known)
	if err != nil {
		return err
	}
	if sender == nil {
		d.decide(0, DecisionRefused, threading.RuleNew, "unknown sender refused by the "+d.g.cfg.UnknownSenders+" policy")
		d.access = string(refusal)
		return d.refuse(refusal)
	}
	d.access = "may open cases"
	subject := strings.TrimSpace(d.msg.Subject)
	if subject == "" {
		subject = "(no subject)"
	}
	orgID := sender.OrgID
	var customers []*User
	if sender.Role == RoleReseller {
		var onBehalf *Org
		onBehalf, customers, err = d.grantedCustomers(sender)
		if err != nil {
			return err
		}
		if onBehalf != nil {
			orgID = &onBehalf.ID
			why += "; reseller writing for " + onBehalf.Name
		}
	}
	plan := ""
	if orgID != nil {
		if err := d.tx.GetContext(d.ctx, &plan, `SELECT plan FROM orgs WHERE id = $1`, *orgID); err != nil {
			return fmt.Errorf("plan: %w", mapErr(err))
		}
	}
	sev, sevWhy := lifecycle.SeverityFor(subject, d.msg.Header, plan)
	lc := lifecycle.NewCase(sev, plan, d.now, d.g.cfg.Policy)
	caseID, err := CreateCase(d.ctx, d.tx, NewCase{Subject: truncateText(subject, 500), Severity: string(lc.Severity), OrgID: orgID,
		SubmitterID: sender.ID, Mailbox: d.in.Mailbox, Now: d.now, FirstDue: &lc.FirstResponseDue})
	if err != nil {
		return err
	}
	why += "; severity " + string(lc.Severity) + " (" + sevWhy + ")"
	if err := d.link(caseID); err != nil {
		return err
	}
	for _, c := range customers {
		if _, err := d.tx.ExecContext(d.ctx, `INSERT INTO case_participants (case_id, user_id, role, created_at) VALUES ($1, $2, 'customer', $3)
			ON CONFLICT DO NOTHING`, caseID, c.ID, d.now); err != nil {
			return fmt.Errorf("participant: %w", mapErr(err))
		}
	}
	if _, err := d.addComment(caseID, sender, true); err != nil {
		return err
	}
	d.decide(caseID, DecisionNewCase, threading.RuleNew, why)
	n := d.g.cfg.Notifier
	if n == nil {
		return nil
	}
	loop, answers, err := d.answersOurMail() // loops.go
	if err != nil {
		return err
	}
	if answers {
		d.reason += "; not acknowledged: " + loop
	} else if _, err := n.Notify(d.ctx, d.tx, Notice{
		Data: templates.CaseReceivedData{Base: n.Base(caseID, subject, sender.Name), Severity: string(lc.Severity), FirstResponseDue: lc.FirstResponseDue},
		To:   UserRecipient(sender), CaseID: caseID, InReplyTo: d.msg.MessageID, AutoReplied: true, Now: d.now,
	}); err != nil {
		return err
	}
	org := deref(sender.OrgName)
	if orgID != nil {
		if o, err := orgName(d.ctx, d.tx, *orgID); err == nil {
			org = o
		}
	}
	return d.notifyAgents(caseID, func(b templates.Base) templates.Data {
		return templates.AgentNewCaseData{Base: b, Requester: templates.Person{Name: sender.Name, Email: sender.LoginEmail},
			Organization: org, Severity: string(lc.Severity), FirstResponseDue: lc.FirstResponseDue, Comment: d.commentData(sender)}
	})
}

func orgName(ctx context.Context, q Queryer, id int64) (string, error) {
	var name string
	err := q.GetContext(ctx, &name, `SELECT name FROM orgs WHERE id = $1`, id)
	return name, mapErr(err)
}

// grantedCustomers finds the customer org a reseller writes for: the org of a
// To/Cc address (a known user, or an org domain) that granted the reseller's
// org access. The known users among them become participants.
func (d *delivery) grantedCustomers(reseller *User) (*Org, []*User, error) {
	if reseller.OrgID == nil {
		return nil, nil, nil
	}
	var org *Org
	var users []*User
	for _, a := range append(append([]mail.Address{}, d.msg.To...), d.msg.Cc...) {
		addr := a.Canonical()
		if addr == "" || d.g.isOwn(addr) {
			continue
		}
		var o *Org
		u, err := UserByAddress(d.ctx, d.tx, addr)
		switch {
		case err == nil && u.OrgID != nil:
			if o, err = orgByID(d.ctx, d.tx, *u.OrgID); err != nil {
				return nil, nil, err
			}
		case err == nil || errors.Is(err, ErrNotFound) || errors.Is(err, ErrInvalid):
			u = nil
			o, err = OrgByDomain(d.ctx, d.tx, addr[strings.LastIndexByte(addr, '@')+1:])
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, nil, err
			}
		default:
			return nil, nil, err
		}
		if o == nil || o.ID == *reseller.OrgID {
			continue
		}
		ok, err := HasGrant(d.ctx, d.tx, o.ID, *reseller.OrgID)
		if err != nil {
			return nil, nil, err
		}
		if !ok || (org != nil && org.ID != o.ID) {
			continue // the first granting org wins; others are only Cc'd
		}
		org = o
		if u != nil {
			users = append(users, u)
		}
	}
	return org, users, nil
}

func orgByID(ctx context.Context, q Queryer, id int64) (*Org, error) {
	name, err := orgName(ctx, q, id)
	if err != nil {
		return nil, err
	}
	return OrgByName(ctx, q, name)
}

func (g *Ingester) isOwn(addr string) bool {
	for _, o := range g.cfg.Own {
		if addr == o {
			return true
		}
	}
	_, ok := threading.TokenFromAddress(addr, g.cfg.Own)
	return ok
}

// refuse answers a refused sender once per RefusalEvery; never automated mail
// (the caller only refuses human mail).
func (d *delivery) refuse(reason templates.RefusalReason) error {
	n := d.g.cfg.Notifier
	from := d.msg.From.Canonical()
	if n == nil || from == "" {
		return nil
	}
	var recent bool
	if err := d.tx.GetContext(d.ctx, &recent, `SELECT EXISTS (SELECT 1 FROM outbox WHERE kind = 'refusal' AND recipients && $1 AND created_at > $2)`,
		pq.Array([]string{from}), d.now.Add(-d.g.cfg.RefusalEvery)); err != nil {
		return fmt.Errorf("refusal: %w", mapErr(err))
	}
	if recent {
		d.reason += "; already told within " + d.g.cfg.RefusalEvery.String()
		return nil
	}
	_, err := n.Notify(d.ctx, d.tx, Notice{
		Data: templates.RefusalData{Base: n.Base(0, d.msg.Subject, d.msg.From.Name), Reason: reason},
		To:   Recipient{Email: from, Name: d.msg.From.Name}, InReplyTo: d.msg.MessageID, AutoReplied: true, Now: d.now,
	})
	return err
}

// reply handles human mail that threads to a case: a comment when the sender
// may write there, else held for review (or, by configuration, a new case).
func (d *delivery) reply(caseID int64, known *User, dec threading.Decision) error {
	c, err := GetCase(d.ctx, d.tx, caseID)
	if err != nil {
		return err
	}
	ok, why, err := Access(d.ctx, d.tx, known, c, d.g.cfg.Access)
	if err != nil {
		return err
	}
	if ok && IsStaff(known.Role) && d.g.cfg.AgentAuth {
		res := borderAuth(d.msg, d.g.cfg)
		if !res.Pass {
			ok, why = false, "unauthenticated mail from "+known.Role+" "+known.LoginEmail+": "+res.Reason
		} else {
			why += "; authenticated: " + res.Reason
		}
	}
	d.access = why
	if ok {
		return d.comment(c, known, dec)
	}
	if d.g.cfg.StrangerNewCase && (known == nil || !IsStaff(known.Role)) {
		return d.open(known, dec.Reason+"; "+why+", so a case of its own")
	}
	return d.hold(c, known, dec, why)
}

func domainOf(addr string) string { return addr[strings.LastIndexByte(addr, '@')+1:] }

// hold keeps a message on the case for review: not public, no status change,
// agents told.
func (d *delivery) hold(c *Case, known *User, dec threading.Decision, why string) error {
	var author *User
	if known != nil {
		author = known
	}
	if _, err := d.addCommentBy(c.ID, author, false); err != nil {
		return err
	}
	d.decide(c.ID, DecisionHeld, dec.Rule, dec.Reason+"; held for review: "+why)
	var actor *int64
	if author != nil {
		actor = &author.ID
	}
	if err := AddEvent(d.ctx, d.tx, NewEvent{CaseID: c.ID, ActorID: actor, Kind: "held", Reason: why, MessageID: &d.msgRowID, Now: d.now}); err != nil {
		return err
	}
	if d.g.cfg.Notifier == nil {
		return nil
	}
	return d.notifyAgents(c.ID, func(b templates.Base) templates.Data {
		return templates.HeldForReviewData{Base: b, Sender: templates.Person{Name: d.msg.From.Name, Email: d.msg.From.Canonical()},
			Reason: why, MessageSubject: d.msg.Subject, MessageID: d.msg.MessageID}
	})
}

func (d *delivery) comment(c *Case, sender *User, dec threading.Decision) error {
	before, err := LoadCaseState(d.ctx, d.tx, c.ID)
	if err != nil {
		return err
	}
	cmds, rest := lifecycle.ParseCommands(d.replyText)
	kind := lifecycle.CustomerReply
	var rejected []lifecycle.CommandResult
	if IsStaff(sender.Role) {
		kind = lifecycle.AgentReply
		if cmds, rejected, err = checkMerges(d.ctx, d.tx, c.ID, cmds); err != nil {
			return err
		}
	}
	out := lifecycle.Apply(before, lifecycle.Event{Kind: kind, Text: rest, Attachments: len(d.msg.Attachments), Commands: cmds,
		Sender: sender.LoginEmail}, d.g.cfg.Policy, d.now)
	out.Commands = append(out.Commands, rejected...)
	if len(rejected) > 0 && !hasNotice(out.Notices, lifecycle.NoticeCommandResult) {
		out.Notices = append(out.Notices, lifecycle.Notice{Kind: lifecycle.NoticeCommandResult, To: lifecycle.ToSender})
	}
	d.replyText = rest // commands never reach the comment
	if err := d.link(c.ID); err != nil {
		return err
	}
	if out.FollowUp {
		return d.followUp(c, sender, before, out, dec)
	}
	decision := DecisionStored // commands only: nothing to keep as a comment
	switch out.Comment {
	case lifecycle.PublicComment, lifecycle.InternalComment:
		if _, err := d.addComment(c.ID, sender, out.Comment == lifecycle.PublicComment); err != nil {
			return err
		}
		decision = DecisionComment
	}
	d.decide(c.ID, decision, dec.Rule, dec.Reason+"; "+out.Reason)
	return carryOut(d.ctx, d.tx, d.g.cfg.Notifier, c.ID, before, &out, effects{
		actor: sender, comment: d.commentData(sender), inReplyTo: d.msg.MessageID, msgRowID: &d.msgRowID, now: d.now,
		relay: func(c *Case, newStatus string) error { return d.relayToSubmitter(c, sender, newStatus) },
	})
}

// followUp opens a new case linked to a closed one for a reply that came too
// late to reopen it; the notices name both numbers.
func (d *delivery) followUp(old *Case, sender *User, before lifecycle.Case, out lifecycle.Outcome, dec threading.Decision) error {
	notices := out.Notices
	out.Notices = nil
	if err := carryOut(d.ctx, d.tx, nil, old.ID, before, &out, effects{actor: sender, msgRowID: &d.msgRowID, now: d.now}); err != nil {
		return err
	}
	submitter := sender
	if IsStaff(sender.Role) {
		u, err := UserByID(d.ctx, d.tx, old.SubmitterID)
		if err != nil {
			return err
		}
		submitter = u
	}
	lc := lifecycle.NewCase(lifecycle.Severity(old.Severity), before.Plan, d.now, d.g.cfg.Policy)
	id, err := CreateCase(d.ctx, d.tx, NewCase{Subject: old.Subject, Severity: old.Severity, OrgID: old.OrgID, SubmitterID: submitter.ID,
		FollowUpOf: &old.ID, Mailbox: d.in.Mailbox, Now: d.now, FirstDue: &lc.FirstResponseDue})
	if err != nil {
		return err
	}
	if err := d.link(id); err != nil {
		return err
	}
	if err := AddEvent(d.ctx, d.tx, NewEvent{CaseID: old.ID, ActorID: &sender.ID, Kind: "follow_up", To: caseLabel(id),
		Reason: out.Reason, MessageID: &d.msgRowID, Now: d.now}); err != nil {
		return err
	}
	if err := AddEvent(d.ctx, d.tx, NewEvent{CaseID: id, ActorID: &sender.ID, Kind: "follow_up", From: caseLabel(old.ID),
		Reason: out.Reason, MessageID: &d.msgRowID, Now: d.now}); err != nil {
		return err
	}
	if _, err := d.addComment(id, sender, true); err != nil {
		return err
	}
	d.decide(id, DecisionFollowUp, dec.Rule, dec.Reason+fmt.Sprintf("; case #%d is closed: follow-up case #%d", old.ID, id))
	after, err := LoadCaseState(d.ctx, d.tx, id)
	if err != nil {
		return err
	}
	fo := lifecycle.Outcome{Case: after, Notices: notices}
	return carryOut(d.ctx, d.tx, d.g.cfg.Notifier, id, after, &fo, effects{actor: sender, comment: d.commentData(sender),
		inReplyTo: d.msg.MessageID, msgRowID: &d.msgRowID, now: d.now})
}

// relayToSubmitter sends support's public comment to the case's submitter,
// at their login email, from the support address "Agent via Helpdesk". The
// attachments go along while their total stays under the attach limit;
// otherwise the mail lists their names and sizes.
func (d *delivery) relayToSubmitter(c *Case, agent *User, newStatus string) error {
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
		Data: templates.CommentAddedData{Base: n.Base(c.ID, c.Subject, submitter.Name), Comment: cd, NewStatus: newStatus,
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

// ReplyText is what the sender of m wrote: quoted history, signature and
// footers removed (never empty when the mail has text).
func ReplyText(m *mail.Message) string {
	if m.TextFromHTML {
		return reply.FromHTML(m.HTML).Text
	}
	return reply.FromText(m.Text).Text
}

func (d *delivery) addComment(caseID int64, author *User, public bool) (int64, error) {
	return d.addCommentBy(caseID, author, public)
}

// addCommentBy adds the mail as a comment; author may be nil for a sender
// who is not a user (a held stranger).
func (d *delivery) addCommentBy(caseID int64, author *User, public bool) (int64, error) {
	var authorID *int64
	if author != nil {
		authorID = &author.ID
	}
	text := d.replyText
	if strings.TrimSpace(text) == "" && len(d.msg.Attachments) > 0 {
		text = "(attachments only)"
	}
	id, err := AddComment(d.ctx, d.tx, NewComment{CaseID: caseID, AuthorID: authorID, MessageID: &d.msgRowID,
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
	to, ok, err := audience(d.ctx, d.tx, n, c, nil, lifecycle.ToAgents, effects{})
	if err != nil || !ok {
		return err
	}
	_, err = n.Notify(d.ctx, d.tx, Notice{Data: data(n.Base(caseID, c.Subject, to.Name)), To: to, CaseID: caseID,
		InReplyTo: d.msg.MessageID, Now: d.now})
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

func hasNotice(ns []lifecycle.Notice, kind string) bool {
	for _, n := range ns {
		if n.Kind == kind {
			return true
		}
	}
	return false
}
