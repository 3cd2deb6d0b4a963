package helpdesk

import (
	"fmt"
	"strings"

	"github.com/helpdesk/helpdesk/mail"
	"github.com/helpdesk/helpdesk/templates"
	"github.com/helpdesk/helpdesk/threading"
)

// Participants are the people on a case besides its submitter: whom an
// allowed sender put in To or Cc, the customer a reseller wrote for, a new
// address a reply token vouched for, the sender of a released mail. They
// may write into the case; they are never notified (notices go to the
// submitter's login email).

// maxNewParticipants bounds how many people one mail adds.
const maxNewParticipants = 20

// ccParticipants adds the people in To and Cc of a mail from sender, who
// may write into c, as participants: never our own addresses, staff, the
// submitter or the sender. Unknown addresses become customers (org by
// domain) as far as the unknown-sender policy lets them open cases. A
// reseller adds only people of the case's org: a customer org that has not
// granted it access gets no participant. Never for a web form, mail from a
// new address or released mail.
func (d *decider) ccParticipants(c *caseView, sender *User) {
	if d.newAddress != "" || d.release != nil || d.p.webFrom != "" {
		return // only mail from someone already allowed adds people
	}
	m := d.p.msg
	var added, skipped []string
	for _, a := range append(append([]mail.Address{}, m.To...), m.Cc...) {
		addr := a.Canonical()
		if addr == "" || addr == m.From.Canonical() || isOwn(addr, d.cfg.Own) || d.isStaffAddress(addr) {
			continue
		}
		u := d.w.user(addr)
		if u != nil && (IsStaff(u.Role) || u.ID == c.SubmitterID || u.ID == sender.ID || c.participants[u.ID]) {
			continue
		}
		if sender.Role == RoleReseller && !d.inCaseOrg(c, u, addr) {
			continue
		}
		if len(added) >= maxNewParticipants {
			skipped = append(skipped, addr)
			continue
		}
		if u == nil {
			if u = d.newCustomer(a, false); u == nil {
				skipped = append(skipped, addr)
				continue
			}
		}
		d.addParticipant(c, u, "cc", addr, sender, "in To/Cc of a mail from "+sender.LoginEmail)
		added = append(added, addr)
	}
	if len(added) > 0 {
		d.because("; participants added from To/Cc: " + strings.Join(added, ", "))
	}
	if len(skipped) > 0 {
		d.because(fmt.Sprintf("; not added as participants (limit %d per mail, or the %s unknown-sender policy): %s",
			maxNewParticipants, d.cfg.UnknownSenders, strings.Join(skipped, ", ")))
	}
}

func (d *decider) isStaffAddress(addr string) bool {
	if d.n == nil {
		return false
	}
	return strings.EqualFold(addr, d.n.cfg.AgentAddress) || strings.EqualFold(addr, d.n.cfg.ManagerAddress)
}

// inCaseOrg reports whether a user (or, unknown, an address's domain)
// belongs to c's org.
func (d *decider) inCaseOrg(c *caseView, u *User, addr string) bool {
	if c.OrgID == nil {
		return false
	}
	if u != nil {
		return u.OrgID != nil && *u.OrgID == *c.OrgID
	}
	o := d.w.domains[domainOf(addr)]
	return o != nil && o.ID == *c.OrgID
}

// addParticipant records u on c (once).
func (d *decider) addParticipant(c *caseView, u *User, role, addr string, by *User, why string) {
	if c.participants[u.ID] {
		return
	}
	c.participants[u.ID] = true
	d.plan.participants = append(d.plan.participants, plannedParticipant{c: c, u: u, role: role, address: addr, addedBy: by, reason: why, now: d.now})
	d.event(c, by, NewEvent{Kind: "participant", To: addr, Reason: why})
}

// newCustomer creates a customer user for a, org by domain, the way admit
// does for a sender; force ignores the unknown-sender policy (a reply token
// or an operator vouched for the address). Nil when the policy refuses or
// the address is unusable.
func (d *decider) newCustomer(a mail.Address, force bool) *User {
	addr := a.Canonical()
	if _, err := CanonicalAddress(addr); err != nil {
		return nil
	}
	org := d.w.domains[domainOf(addr)]
	if !force {
		switch d.cfg.UnknownSenders {
		case "registered":
			return nil
		case "domain":
			if org == nil {
				return nil
			}
		}
	}
	u := &User{ID: d.w.provisional(), LoginEmail: addr, Name: strings.TrimSpace(a.Name), Role: RoleCustomer, Locale: LocaleEN, Active: true,
		CreatedAt: d.now}
	if org != nil {
		u.OrgID, u.OrgName, u.OrgTimeZone = &org.ID, &org.Name, org.TimeZone
	}
	d.w.users[addr] = u
	d.w.usersByID[u.ID] = u
	d.plan.users = append(d.plan.users, u)
	return u
}

// vouched decides about a reply a valid signed reply token threaded to c
// from a sender not allowed there: whoever wrote it received our mail, so
// (unless the policy is strict) it is appended from that address, which
// becomes a participant. Never for staff (staff powers need the staff
// address and its authentication), a reseller (grants decide), or a
// deactivated user. Nil: hold as before.
func (d *decider) vouched(c *caseView, known *User, dec threading.Decision) *User {
	if dec.Rule != threading.RuleToken || d.cfg.Access.NewAddressHold {
		return nil
	}
	if known != nil && (IsStaff(known.Role) || known.Role == RoleReseller || !known.Active) {
		return nil
	}
	from := d.p.msg.From
	u := known
	if u == nil {
		if u = d.newCustomer(from, true); u == nil {
			return nil
		}
	}
	addr := from.Canonical()
	d.addParticipant(c, u, "new_address", addr, u, "replied from a new address with a valid reply token")
	d.newAddress = addr
	d.p.out.access = "from a new address: " + addr + ", appended because the mail carries a valid reply token (" + dec.TokenCheck + ")"
	return u
}

// webForm opens a case for a web form's mail: the Reply-To person is the
// requester (submitter, notified at their login email), and the mail is
// stored as theirs. A Reply-To naming staff, the agent or manager address
// or one of ours gets no case (a Reply-To never carries staff powers): the
// mail is refused, silently, and `held list` shows it.
func (d *decider) webForm(dec threading.Decision) error {
	m := d.p.msg
	addr := d.p.class.Requester
	why := dec.Reason + "; " + threading.WebFormReason + " <" + addr + "> (From " + m.From.Canonical() + ")"
	if who := d.notARequester(addr); who != "" {
		d.record(nil, DecisionRefused, "web-form", why+": the Reply-To is "+who+
			", and a Reply-To never carries staff powers, so no case is opened; an operator may release it")
		d.p.out.access = "not checked: a Reply-To naming " + who
		return nil
	}
	d.asRequester()
	return d.open(d.w.user(addr), why)
}

// notARequester says what a web form's Reply-To is when it may not be a
// requester: one of our own addresses, the agent or manager address, or
// staff; "" when it may.
func (d *decider) notARequester(addr string) string {
	switch u := d.w.user(addr); {
	case isOwn(addr, d.cfg.Own):
		return "our own address " + addr
	case d.isStaffAddress(addr):
		return "the staff address " + addr
	case u != nil && IsStaff(u.Role):
		return u.Role + " " + u.LoginEmail
	}
	return ""
}

// asRequester makes a web form's Reply-To person the mail's sender; the
// form's own From stays in the reason.
func (d *decider) asRequester() {
	m := d.p.msg
	name := ""
	for _, a := range m.ReplyTo {
		if a.Canonical() == d.p.class.Requester {
			name = a.Name
		}
	}
	d.p.webFrom = m.From.Canonical()
	m.From = mail.Address{Name: name, Address: d.p.class.Requester}
}

// tellNoGrant tells a reseller, once per customer org and RefusalEvery,
// that an org of the people in To/Cc has not granted it access and that
// the mail opened case c without them (under the reseller's own org, or
// the org that granted access).
func (d *decider) tellNoGrant(c *caseView, reseller *User) {
	if reseller.OrgID == nil {
		return
	}
	seen := map[int64]bool{}
	for _, a := range append(append([]mail.Address{}, d.p.msg.To...), d.p.msg.Cc...) {
		addr := a.Canonical()
		if addr == "" || isOwn(addr, d.cfg.Own) {
			continue
		}
		var o *orgView
		if u := d.w.user(addr); u != nil {
			if IsStaff(u.Role) || u.OrgID == nil {
				continue
			}
			o = d.w.orgs[*u.OrgID]
		} else {
			o = d.w.domains[domainOf(addr)]
		}
		if o == nil || o.ID == *reseller.OrgID || seen[o.ID] || (c.OrgID != nil && o.ID == *c.OrgID) {
			continue
		}
		seen[o.ID] = true
		if g, ok := d.w.grants[[2]int64{o.ID, *reseller.OrgID}]; ok && g.RevokedAt == nil {
			continue // granted, only not the org the case is for
		}
		under := "the reseller's own org"
		if c.OrgID != nil && *c.OrgID != *reseller.OrgID {
			under = c.Org
		}
		d.because("; " + o.Name + " has not granted " + deref(reseller.OrgName) + " access: opened under " + under + ", " +
			addr + " not added")
		key := [2]int64{reseller.ID, o.ID}
		if t, ok := d.w.grantTold[key]; ok && t.After(d.now.Add(-d.cfg.RefusalEvery)) {
			d.because(" (reseller already told within " + d.cfg.RefusalEvery.String() + ")")
			continue
		}
		if d.n == nil {
			continue
		}
		d.w.grantTold[key] = d.now
		d.plan.grantNotices = append(d.plan.grantNotices, plannedGrantNotice{reseller: reseller, org: o.ID, now: d.now})
		org, openedFor := o.Name, ""
		if c.OrgID != nil && *c.OrgID != *reseller.OrgID {
			openedFor = c.Org
		}
		d.notify(&notice{c: c, to: UserRecipient(reseller), inReplyTo: d.p.msg.MessageID, autoReplied: true,
			data: func(b templates.Base) templates.Data {
				return templates.RefusalData{Base: b, Reason: templates.RefusalNoGrant, CustomerOrg: org, OpenedFor: openedFor}
			}})
		d.because(" (reseller told)")
	}
}

// released decides a held or refused mail an operator released: appended
// to its case as a comment from its sender (who becomes a participant), as
// if allowed but without its commands, or opened as a new case for its
// sender (a web form's: its requester).
func (d *decider) released() error {
	o := d.release
	m := d.p.msg
	if o.asNewCase && d.p.class.Requester != "" && d.notARequester(d.p.class.Requester) == "" {
		d.asRequester() // a web form's case is its requester's
	}
	sender := d.w.user(m.From.Canonical())
	if sender == nil {
		if sender = d.newCustomer(m.From, true); sender == nil {
			return fmt.Errorf("%w: the sender %q of <%s> is not a usable address", ErrInvalid, m.From.Canonical(), m.MessageID)
		}
	}
	by := "the system"
	if o.operator != nil {
		by = o.operator.LoginEmail
	}
	why := "released by " + by
	d.p.out.tokenCheck = "not checked: released by an operator"
	if held := d.w.caseOf(o.caseID); held != nil {
		kind := "appended as a comment"
		if o.asNewCase {
			kind = "opened as a new case"
		}
		d.event(held, o.operator, NewEvent{Kind: "released", From: m.From.Canonical(), To: kind, Reason: why})
	}
	if o.asNewCase {
		d.p.out.access = why + ": a case of its own"
		return d.open(sender, why+" as a new case")
	}
	c := d.w.caseOf(o.caseID)
	if c == nil {
		return fmt.Errorf("%w: case #%d of <%s>", ErrNotFound, o.caseID, m.MessageID)
	}
	if IsStaff(sender.Role) {
		return d.releasedStaffNote(c, sender, why)
	}
	if sender.ID != c.SubmitterID {
		d.addParticipant(c, sender, "released", m.From.Canonical(), o.operator, why)
	}
	d.p.out.access = why + ": appended as if allowed"
	return d.comment(c, sender, threading.Decision{Rule: "released", CaseID: c.ID, Reason: why})
}

// releasedStaffNote keeps a released mail from a staff address (held: it
// failed authentication, so it may be spoofed) as an internal note: no
// staff powers, commands not applied, nothing relayed to the customer.
func (d *decider) releasedStaffNote(c *caseView, sender *User, why string) error {
	d.link(c)
	d.addComment(c, sender, false)
	d.plan.comments[len(d.plan.comments)-1].internal = true
	d.p.out.access = why + ": kept as an internal note"
	d.record(c, DecisionComment, "released", why+"; released held mail from "+sender.LoginEmail+
		": commands not applied; kept as an internal note, not sent to the customer")
	return nil
}
