package helpdesk

import (
	"fmt"
	"strings"
	"time"

	"github.com/helpdesk/helpdesk/helpdesk/lifecycle"
	"github.com/helpdesk/helpdesk/mail"
	"github.com/helpdesk/helpdesk/templates"
	"github.com/helpdesk/helpdesk/threading"
	"github.com/helpdesk/helpdesk/threading/reply"
)

// Decide is pure: it reads the gathered world and the message and writes
// what is to be done into the plan, and its effects into the world, so that
// the next message of the batch sees them. It runs no SQL.

// decider decides about one message.
type decider struct {
	w    *world
	cfg  *IngestConfig
	n    *Notifier // nil: no notifications
	plan *plan
	p    *prepared
	now  time.Time
	// release: an operator released this held mail (held.go).
	release *releaseOrder
	// newAddress: the sender is a new address a reply token vouched for.
	newAddress string
}

// decide threads p and applies the lifecycle, in the order of DESIGN §4-5.
func (d *decider) decide() error {
	p := d.p
	if p.class.Class == threading.ClassLoop {
		d.record(nil, DecisionIgnored, threading.RuleOwnMail, p.class.Reason)
		p.out.tokenCheck = "not checked"
		return nil
	}
	if d.release != nil {
		return d.released()
	}
	sender := d.w.user(p.msg.From.Canonical())
	dec := d.thread(sender)
	c := d.w.caseOf(dec.CaseID)
	if c != nil && c.ID != dec.CaseID {
		dec.Reason += fmt.Sprintf("; case #%d was merged into #%d", dec.CaseID, c.ID)
	}
	p.out.tokenCheck = dec.TokenCheck
	if d.toEnvelopeSender(c, dec) {
		return nil // an automated reply to our envelope sender
	}
	if p.in.Oversized {
		d.oversized(c, sender, dec)
		return nil
	}
	switch p.class.Class {
	case threading.ClassBounce:
		d.bounce(c, dec.Rule, dec.Reason)
		return nil
	case threading.ClassAutoReply, threading.ClassList, threading.ClassReceipt:
		if c != nil {
			d.record(c, DecisionStored, dec.Rule, p.class.Reason+"; automated mail never reopens or notifies")
		} else {
			d.record(nil, DecisionIgnored, "automated", p.class.Reason+"; automated mail never opens a case")
		}
		return nil
	}
	if d.selfService(c, sender) {
		return nil // a case list or a known-issue subscription (selfservice.go)
	}
	if c != nil {
		if p.class.Requester != "" {
			// Reply-To never grants access to a case: the From decides.
			dec.Reason += "; " + threading.WebFormReason + " is used for a new case only; on a case the From " +
				p.msg.From.Canonical() + " decides"
		}
		return d.reply(c, sender, dec)
	}
	if d.waitForParent(dec) {
		return nil
	}
	if p.class.Requester != "" {
		return d.webForm(dec)
	}
	return d.open(sender, dec.Reason)
}

func (d *decider) record(c *caseView, decision, rule, reason string) {
	d.p.out.c, d.p.out.decision, d.p.out.rule, d.p.out.reason = c, decision, rule, reason
}

func (d *decider) because(more string) { d.p.out.reason += more }

// thread runs the threading rules on what the world knows.
func (d *decider) thread(sender *User) threading.Decision {
	m := d.p.msg
	in := threading.ThreadInput{Now: d.now, Class: d.p.class.Class, InReplyTo: m.InReplyTo, References: m.References, Known: d.w.known}
	for _, list := range []struct {
		where string
		addrs []mail.Address
	}{{"to", m.To}, {"cc", m.Cc}, {"delivered-to", m.DeliveredTo}, {"x-original-to", m.XOriginalTo}} {
		for _, a := range list.addrs {
			if tok, ok := threading.TokenFromAddress(a.Canonical(), d.cfg.Own); ok {
				in.Tokens = append(in.Tokens, threading.TokenSeen{Where: list.where, Token: tok})
			}
		}
	}
	for _, id := range append(append([]string{}, m.InReplyTo...), m.References...) {
		if tok, ok := threading.TokenFromMessageID(id, d.cfg.MessageIDDomain); ok {
			in.Tokens = append(in.Tokens, threading.TokenSeen{Where: "references", Token: tok})
		}
	}
	allowed := func(id int64) bool {
		c := d.w.cases[id]
		if c == nil {
			return false
		}
		ok, _ := d.access(sender, c)
		return ok
	}
	if id := d.w.tiRoots[d.p.tiRoot]; d.p.tiRoot != "" && id > 0 {
		in.ThreadIndexCase, in.ThreadIndexAllowed = id, allowed(id)
	}
	if n, ok := threading.CaseTag(m.Subject); ok && d.w.cases[n] != nil {
		in.TagCase, in.TagAllowed = n, allowed(n)
	}
	return threading.Thread(in, d.cfg.Tokens)
}

// access decides whether u may write into c (see Access).
func (d *decider) access(u *User, c *caseView) (bool, string) {
	f := accessFacts{participant: u != nil && c.participants[u.ID], submitterRole: ""}
	if c.submitter != nil {
		f.submitterRole = c.submitter.Role
	}
	if u != nil && u.Role == RoleReseller && u.OrgID != nil && c.OrgID != nil {
		g, ok := d.w.grants[[2]int64{*c.OrgID, *u.OrgID}]
		if ok {
			f.grant = &g
		}
	}
	return decideAccess(u, &c.Case, f, d.cfg.Access)
}

// waitForParent parks a mail that would open a case although it answers a
// mail we have not seen, unless this is its second look.
func (d *decider) waitForParent(dec threading.Decision) bool {
	if d.cfg.ParentWait <= 0 || d.p.in.final || dec.Rule != threading.RuleNew {
		return false
	}
	id, ok := awaitedParent(d.p.msg, d.cfg.MessageIDDomain)
	if !ok {
		return false
	}
	d.record(nil, DecisionWaiting, "waiting", fmt.Sprintf("a reply to <%s>, which has not arrived; waiting up to %s for it before opening a case",
		id, d.cfg.ParentWait))
	return true
}

// reply handles human mail that threads to a case: a comment when the sender
// may write there, else held for review (or, by configuration, a new case).
func (d *decider) reply(c *caseView, known *User, dec threading.Decision) error {
	ok, why := d.access(known, c)
	if ok && IsStaff(known.Role) && d.cfg.AgentAuth {
		res := borderAuth(d.p.msg, *d.cfg)
		if !res.Pass {
			ok, why = false, "unauthenticated mail from "+known.Role+" "+known.LoginEmail+": "+res.Reason
		} else {
			why += "; authenticated: " + res.Reason
		}
	}
	d.p.out.access = why
	if ok {
		return d.comment(c, known, dec)
	}
	if u := d.vouched(c, known, dec); u != nil {
		d.p.out.access = why + "; " + d.p.out.access
		dec.Reason += "; from a new address: " + d.newAddress + " (the reply token proves it received our mail)"
		return d.comment(c, u, dec)
	}
	if d.cfg.StrangerNewCase && (known == nil || !IsStaff(known.Role)) {
		return d.open(known, dec.Reason+"; "+why+", so a case of its own")
	}
	d.hold(c, known, dec, why)
	return nil
}

// hold keeps a message on the case for review: not public, no status
// change, agents told.
func (d *decider) hold(c *caseView, known *User, dec threading.Decision, why string) {
	d.addComment(c, known, false)
	d.record(c, DecisionHeld, dec.Rule, dec.Reason+"; held for review: "+why)
	out := lifecycle.Apply(c.state, lifecycle.Event{Kind: lifecycle.Held}, d.cfg.Policy, d.now)
	for i := range out.Audit {
		if out.Audit[i].Kind == "held" {
			out.Audit[i].Reason = why // who was refused and why, for the audit log
		}
	}
	d.carryOut(c, c.state, &out, effects{actor: known, inReplyTo: d.p.msg.MessageID, held: why})
}

// event appends an audit entry to c, caused by the current message if any.
func (d *decider) event(c *caseView, actor *User, e NewEvent) {
	e.Now = d.now
	d.plan.events = append(d.plan.events, &plannedEvent{c: c, actor: actor, msg: d.p, e: e})
}

// addComment keeps the mail's new text (and its files) on c; author nil
// for a sender who is not a user (a held stranger).
func (d *decider) addComment(c *caseView, author *User, public bool) {
	text := d.p.replyText
	if strings.TrimSpace(text) == "" && len(d.p.msg.Attachments) > 0 {
		text = "(attachments only)"
	}
	d.plan.comments = append(d.plan.comments, &plannedComment{c: c, author: author, msg: d.p, public: public, body: text, now: d.now})
	d.p.out.linked = true
	c.touched = true
	c.LastActivityAt, c.UpdatedAt = d.now, d.now
	if public {
		c.prevAuthor, c.prevBody = displayName(author), text
	}
}

func first(h map[string][]string, k string) string {
	if v := h[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// ReplyText is what the sender of m wrote: quoted history, signature and
// footers removed (never empty when the mail has text).
func ReplyText(m *mail.Message) string {
	if m.TextFromHTML {
		return reply.FromHTML(m.HTML).Comment()
	}
	return reply.FromText(m.Text).Comment()
}

func displayName(u *User) string {
	if u == nil {
		return ""
	}
	if u.Name != "" {
		return u.Name
	}
	return u.LoginEmail
}

// link puts the inbound mail on c's thread at once, so notifications
// decided next reference it.
func (d *decider) link(c *caseView) {
	d.p.out.c = c
	c.thread = append(c.thread, threadRef{id: d.p.msg.MessageID})
}

// threadRef is one Message-ID of a case's thread: a known one, or that of
// a notice of the batch, chosen when it is rendered.
type threadRef struct {
	id string
	nt *notice
}

// references returns In-Reply-To and References for a mail after the first
// n entries of a thread: its first Message-ID and the latest ones.
func references(thread []threadRef, n int, inReplyTo string) (string, []string) {
	ids := make([]string, 0, min(n, maxReferences))
	for i, r := range thread[:n] {
		if i > 0 && n-i >= maxReferences {
			continue
		}
		id := r.id
		if r.nt != nil {
			id = r.nt.messageID
		}
		ids = append(ids, id)
	}
	if inReplyTo == "" && len(ids) > 0 {
		inReplyTo = ids[len(ids)-1]
	}
	return inReplyTo, ids
}

// commentData is the mail as a comment in a notification.
func (d *decider) commentData(author *User) templates.Comment {
	c := templates.Comment{Author: displayName(author), Body: d.p.replyText}
	for _, a := range d.p.msg.Attachments {
		c.Attachments = append(c.Attachments, templates.AttachmentInfo{Name: a.Filename, ContentType: a.ContentType, Size: a.Size})
	}
	return c
}

func domainOf(addr string) string { return addr[strings.LastIndexByte(addr, '@')+1:] }
