package helpdesk

import (
	"fmt"
	"strings"
	"time"

	"github.com/helpdesk/helpdesk/helpdesk/lifecycle"
	"github.com/helpdesk/helpdesk/mail"
	"github.com/helpdesk/helpdesk/templates"
	"github.com/helpdesk/helpdesk/threading"
)

// open starts a new case for a human mail that threads nowhere.
func (d *decider) open(known *User, why string) error {
	if d.throttled() {
		return nil // over the per-sender limit (loops.go)
	}
	sender, refusal, err := d.admit(known)
	if err != nil {
		return err
	}
	if sender == nil {
		d.record(nil, DecisionRefused, threading.RuleNew, "unknown sender refused by the "+d.cfg.UnknownSenders+" policy")
		d.p.out.access = string(refusal)
		d.refuse(refusal)
		return nil
	}
	d.p.out.access = "may open cases"
	subject := strings.TrimSpace(d.p.msg.Subject)
	if subject == "" {
		subject = "(no subject)"
	}
	org := d.w.orgOf(sender)
	var customers []*User
	reseller := sender.Role == RoleReseller && d.p.webFrom == "" // a web form's Reply-To writes for nobody else
	if reseller {
		if onBehalf, users := d.grantedCustomers(sender); onBehalf != nil {
			org, customers = onBehalf, users
			why += "; reseller writing for " + onBehalf.Name
		}
	}
	plan := ""
	if org != nil {
		plan = org.Plan
	}
	choice := lifecycle.ChooseSeverity(subject, d.p.replyText, d.p.msg.Header, plan)
	sev, sevWhy := choice.Severity, choice.Why
	c := d.newCase(truncateText(subject, 500), sev, org, sender, nil)
	c.sevChoice = choice
	why += "; severity " + string(c.state.Severity) + " (" + sevWhy + ")"
	for _, u := range customers {
		d.addParticipant(c, u, "customer", u.LoginEmail, sender, "the customer the reseller "+sender.LoginEmail+" wrote for")
	}
	d.addComment(c, sender, true)
	d.record(c, DecisionNewCase, threading.RuleNew, why)
	d.ccParticipants(c, sender)
	if reseller {
		d.tellNoGrant(c, sender)
	}
	d.w.senderOf(d.p.msg.From.Canonical()).recent = append(d.w.senderOf(d.p.msg.From.Canonical()).recent,
		senderEvent{CaseID: &c.ID, Decision: DecisionNewCase, CreatedAt: d.now})
	out := lifecycle.Opened(c.state)
	if loop, answers := d.answersOurMail(); answers {
		out.Notices = withoutNotice(out.Notices, lifecycle.NoticeCaseReceived)
		d.because("; not acknowledged: " + loop)
	}
	x := effects{actor: sender, comment: d.commentData(sender), inReplyTo: d.p.msg.MessageID}
	for _, nt := range out.Notices {
		d.lifecycleNotice(c, c.state, &out, nt, x)
	}
	return nil
}

// newCase registers a case opened by this message in the world and the
// plan; its id is provisional until the plan reserves one.
func (d *decider) newCase(subject string, sev lifecycle.Severity, org *orgView, submitter *User, followUpOf *int64) *caseView {
	plan := ""
	if org != nil {
		plan = org.Plan
	}
	lc := lifecycle.NewCase(sev, plan, d.now, d.cfg.Policy)
	c := &caseView{isNew: true, plan: plan, participants: map[int64]bool{}, submitter: submitter, state: lc}
	c.ID = d.w.provisional()
	c.Subject, c.Status, c.Severity, c.CreatedAt, c.LastActivityAt, c.UpdatedAt = subject, StatusOpen, string(lc.Severity), d.now, d.now, d.now
	c.SubmitterID, c.Submitter, c.FollowUpOf, c.Mailbox = submitter.ID, submitter.LoginEmail, followUpOf, d.p.in.Mailbox
	due := lc.FirstResponseDue
	c.FirstResponseDueAt = &due
	if org != nil {
		c.OrgID, c.Org = &org.ID, org.Name
	}
	c.state.ID = c.ID
	d.w.cases[c.ID] = c
	d.plan.cases = append(d.plan.cases, c)
	d.event(c, submitter, NewEvent{Kind: "created", To: StatusOpen})
	d.link(c)
	return c
}

func (w *world) orgOf(u *User) *orgView {
	if u == nil || u.OrgID == nil {
		return nil
	}
	return w.orgs[*u.OrgID]
}

func (w *world) senderOf(addr string) *senderView {
	s := w.senders[addr]
	if s == nil {
		s = &senderView{}
		w.senders[addr] = s
	}
	return s
}

// admit returns the sender as a user, creating one when the unknown-sender
// policy lets them open cases; nil and the refusal when it does not.
func (d *decider) admit(known *User) (*User, templates.RefusalReason, error) {
	if known != nil {
		return known, "", nil
	}
	from := d.p.msg.From.Canonical()
	if from == "" {
		return nil, "", fmt.Errorf("%w: no usable From address", ErrPermanent)
	}
	org := d.w.domains[domainOf(from)]
	switch d.cfg.UnknownSenders {
	case "registered":
		return nil, templates.RefusalUnknownSender, nil
	case "domain":
		if org == nil {
			return nil, templates.RefusalDomainNotAllowed, nil
		}
	}
	if _, err := CanonicalAddress(from); err != nil {
		return nil, "", fmt.Errorf("%w: sender %s: %v", ErrPermanent, from, err)
	}
	u := &User{ID: d.w.provisional(), LoginEmail: from, Name: strings.TrimSpace(d.p.msg.From.Name), Role: RoleCustomer,
		Locale: LocaleEN, Active: true, CreatedAt: d.now}
	if org != nil {
		u.OrgID, u.OrgName, u.OrgTimeZone = &org.ID, &org.Name, org.TimeZone
	}
	d.w.users[from] = u
	d.w.usersByID[u.ID] = u
	d.plan.users = append(d.plan.users, u)
	return u, "", nil
}

// grantedCustomers finds the customer org a reseller writes for: the org of a
// To/Cc address (a known user, or an org domain) that granted the reseller's
// org access. The known users among them become participants.
func (d *decider) grantedCustomers(reseller *User) (*orgView, []*User) {
	if reseller.OrgID == nil {
		return nil, nil
	}
	var org *orgView
	var users []*User
	for _, a := range append(append([]mail.Address{}, d.p.msg.To...), d.p.msg.Cc...) {
		addr := a.Canonical()
		if addr == "" || isOwn(addr, d.cfg.Own) {
			continue
		}
		u := d.w.user(addr)
		var o *orgView
		if u != nil && u.OrgID != nil {
			o = d.w.orgs[*u.OrgID]
		} else {
			u, o = nil, d.w.domains[domainOf(addr)]
		}
		if o == nil || o.ID == *reseller.OrgID {
			continue
		}
		g, ok := d.w.grants[[2]int64{o.ID, *reseller.OrgID}]
		if !ok || g.RevokedAt != nil || (org != nil && org.ID != o.ID) {
			continue // the first granting org wins; others are only Cc'd
		}
		org = o
		if u != nil {
			users = append(users, u)
		}
	}
	return org, users
}

func isOwn(addr string, own []string) bool {
	for _, o := range own {
		if addr == o {
			return true
		}
	}
	_, ok := threading.TokenFromAddress(addr, own)
	return ok
}

// refuse answers a refused sender once per RefusalEvery; never automated
// mail (the caller only refuses human mail).
func (d *decider) refuse(reason templates.RefusalReason) {
	from := d.p.msg.From.Canonical()
	if d.n == nil || from == "" {
		return
	}
	s := d.w.senderOf(from)
	if !s.refusedAt.IsZero() && s.refusedAt.After(d.now.Add(-d.cfg.RefusalEvery)) {
		d.because("; already told within " + d.cfg.RefusalEvery.String())
		return
	}
	s.refusedAt = d.now
	subject, name := d.p.msg.Subject, d.p.msg.From.Name
	d.notify(&notice{subject: subject, to: Recipient{Email: from, Name: name}, inReplyTo: d.p.msg.MessageID, autoReplied: true,
		data: func(b templates.Base) templates.Data { return templates.RefusalData{Base: b, Reason: reason} }})
}

// throttled holds back a new case from a sender over the limit. It reports
// whether it did.
func (d *decider) throttled() bool {
	if d.release != nil {
		return false // an operator's decision
	}
	from := d.p.msg.From.Canonical()
	limit := d.cfg.SenderCaseLimit
	if from == "" || limit <= 0 {
		return false
	}
	s := d.w.senderOf(from)
	since := d.now.Add(-throttleWindow)
	var cases []*int64 // read when rendered: a case of this batch has its number only then
	var held int
	var oldest time.Time
	for _, r := range s.recent {
		if !r.CreatedAt.After(since) {
			continue
		}
		if r.Decision == DecisionThrottled {
			held++
			continue
		}
		if oldest.IsZero() {
			oldest = r.CreatedAt
		}
		if r.CaseID != nil {
			cases = append(cases, r.CaseID)
		}
	}
	throttle, digest := senderThrottle(len(cases), held, limit)
	if !throttle {
		return false
	}
	s.recent = append(s.recent, senderEvent{Decision: DecisionThrottled, CreatedAt: d.now})
	until := oldest.Add(throttleWindow)
	d.record(nil, DecisionThrottled, "sender-limit", fmt.Sprintf("%s opened %d cases within %s (limit %d): stored without a case or an answer until %s",
		from, len(cases), throttleWindow, limit, until.UTC().Format(time.RFC3339)))
	d.p.out.access = "not checked: over the new-case limit"
	if !digest {
		d.because("; agents were told at the first held-back mail")
		return true
	}
	to := d.n.staffAddress()
	if to == "" {
		return true
	}
	m := d.p.msg
	d.notify(&notice{subject: m.Subject, to: Recipient{Email: to, Staff: true}, inReplyTo: m.MessageID,
		data: func(b templates.Base) templates.Data {
			ids := make([]int64, len(cases))
			for i, id := range cases {
				ids[i] = *id
			}
			return templates.SenderThrottledData{Base: b, Sender: templates.Person{Name: m.From.Name, Email: from},
				Cases: ids, Limit: limit, Until: until, MessageSubject: m.Subject, MessageID: "<" + m.MessageID + ">"}
		}})
	d.because("; agents told in one digest")
	return true
}

// answersOurMail reports whether a new mail is an answer to an automated
// mail we sent its sender within LoopWindow (and so must not be
// acknowledged), with the reason.
func (d *decider) answersOurMail() (string, bool) {
	from := d.p.msg.From.Canonical()
	if from == "" || d.cfg.LoopWindow <= 0 {
		return "", false
	}
	text := d.p.msg.Text
	if len(text) > maxQuoteScan {
		text = text[:maxQuoteScan]
	}
	how, ok := quotesOurMail(d.p.msg.Subject, text, d.w.senderOf(from).ours)
	if !ok {
		return "", false
	}
	return fmt.Sprintf("%s got an automated mail from us within %s and this mail %s", from, d.cfg.LoopWindow, how), true
}
