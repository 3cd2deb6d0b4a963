package helpdesk

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/helpdesk/helpdesk/helpdesk/lifecycle"
	"github.com/helpdesk/helpdesk/templates"
	"github.com/helpdesk/helpdesk/threading"
)

// Self-service by mail: a customer asks for their cases (support+cases@…
// or a first line "#cases"), or follows a known issue by mailing its signed
// address (support+ki-<token>@…) and stops by writing "unsubscribe" to it,
// to the unsubscribe address of List-Unsubscribe, or into the linked case.
// None of these opens a case but the first subscription to a known issue.

// DecisionSelfService is the decision of a self-service mail answered (or
// not) without a case of its own.
const DecisionSelfService = "self_service"

// DefaultSelfServiceLimit is how many self-service mails one address gets
// answered per hour.
const DefaultSelfServiceLimit = 10

const (
	selfCases       = "cases"
	selfPlan        = "plan"
	selfSubscribe   = "subscribe"
	selfUnsubscribe = "unsubscribe"
)

// selfRequest is a self-service request read from a mail.
type selfRequest struct {
	kind     string
	all, org bool  // #cases options
	issue    int64 // the known issue a token names
	user     int64 // an unsubscribe token's subscriber
}

// parseSelfService reads a self-service request from the addresses a mail
// was sent to and its new text; ok is false for any other mail.
func parseSelfService(addrs, own []string, text string, tokens *threading.Tokens) (selfRequest, bool) {
	first := firstLine(text)
	for _, a := range addrs {
		tok, ok := threading.TokenFromAddress(a, own)
		if !ok || tokens == nil || !threading.IsKnownIssueToken(tok) {
			continue
		}
		k, err := tokens.VerifyKnownIssue(tok)
		if err != nil {
			continue // a forged token is no request: the mail goes on as any other
		}
		r := selfRequest{kind: selfSubscribe, issue: k.IssueID, user: k.UserID}
		if k.Unsubscribe || isUnsubscribe(first) {
			r.kind = selfUnsubscribe
		}
		return r, true
	}
	r := selfRequest{kind: selfCases}
	if opts, ok := casesCommand(first); ok {
		r.all, r.org = opts["all"], opts["org"]
		return r, true
	}
	if isPlanCommand(first) {
		return selfRequest{kind: selfPlan}, true
	}
	for _, a := range addrs {
		if ownPlus(a, own, "cases") {
			return r, true
		}
		if ownPlus(a, own, "plan") {
			return selfRequest{kind: selfPlan}, true
		}
	}
	return selfRequest{}, false
}

// firstLine is the first non-blank line of text, trimmed.
func firstLine(text string) string {
	for _, l := range strings.Split(text, "\n") {
		if l = strings.TrimSpace(strings.TrimPrefix(l, "\ufeff")); l != "" {
			return l
		}
	}
	return ""
}

// casesCommand parses "#cases [all] [org]".
func casesCommand(line string) (map[string]bool, bool) {
	f := strings.Fields(strings.ToLower(line))
	if len(f) == 0 || (f[0] != "#cases" && f[0] != "＃cases") {
		return nil, false
	}
	opts := map[string]bool{}
	for _, o := range f[1:] {
		opts[o] = true
	}
	return opts, true
}

// isPlanCommand reports whether line is "#plan".
func isPlanCommand(line string) bool {
	f := strings.Fields(strings.ToLower(line))
	return len(f) == 1 && (f[0] == "#plan" || f[0] == "＃plan")
}

func isUnsubscribe(line string) bool {
	l := strings.ToLower(strings.Trim(line, " .!#"))
	return l == "unsubscribe" || l == "구독 해지" || l == "구독해지"
}

// selfService decides a self-service mail; it reports whether the mail was
// one. c is the case the mail threads to, if any: "unsubscribe" in a case
// linked to a known issue ends the submitter's subscription.
func (d *decider) selfService(c *caseView, sender *User) bool {
	p := d.p
	req, ok := parseSelfService(mailAddresses(p.msg), d.cfg.Own, p.replyText, d.cfg.Tokens)
	if !ok {
		if c != nil && sender != nil && sender.Active && IsStaff(sender.Role) {
			d.agentKnown(c, sender)
			return false // the reply goes on as any agent's
		}
		if c != nil && c.KnownIssueID != nil && sender != nil && sender.ID == c.SubmitterID && isUnsubscribe(firstLine(p.replyText)) {
			d.unsubscribe(selfRequest{kind: selfUnsubscribe, issue: *c.KnownIssueID}, sender, c)
			return true
		}
		return false
	}
	switch req.kind {
	case selfCases:
		d.caseList(req, sender)
	case selfPlan:
		d.planInfo(sender)
	case selfSubscribe:
		d.subscribe(req, sender)
	case selfUnsubscribe:
		d.unsubscribe(req, sender, nil)
	}
	return true
}

// overSelfServiceLimit counts this mail against its sender's hourly limit
// and reports whether it is over.
func (d *decider) overSelfServiceLimit(from string) bool {
	limit := d.selfServiceLimit()
	if d.w.self.recent == nil {
		d.w.self.recent = map[string]int{}
	}
	d.w.self.recent[from]++
	return limit > 0 && d.w.self.recent[from] > limit
}

func (d *decider) selfServiceLimit() int {
	if d.cfg.SelfServiceLimit == 0 {
		return DefaultSelfServiceLimit
	}
	return d.cfg.SelfServiceLimit
}

// caseList answers a "my cases" request.
func (d *decider) caseList(req selfRequest, sender *User) {
	from := d.p.msg.From.Canonical()
	d.p.out.access = "self-service: " + selfAccess(sender)
	if d.overSelfServiceLimit(from) {
		d.record(nil, DecisionSelfService, "self-service", fmt.Sprintf("case list request over the limit of %d per hour for %s: stored, not answered",
			d.selfServiceLimit(), from))
		return
	}
	data := templates.CaseListData{All: req.all}
	var to Recipient
	switch {
	case sender == nil || !sender.Active:
		data.Answer = templates.CaseListUnknown
		to = Recipient{Email: from, Name: d.p.msg.From.Name}
		d.record(nil, DecisionSelfService, "self-service", "case list request from an unknown sender: told so; no case opened")
	case IsStaff(sender.Role):
		data.Answer = templates.CaseListStaff
		to = UserRecipient(sender)
		d.record(nil, DecisionSelfService, "self-service", "case list request from "+sender.Role+" "+sender.LoginEmail+": told to use the CLI; no case opened")
	default:
		data.Answer = templates.CaseListCases
		to = UserRecipient(sender)
		visible := visibleCases(sender, d.w.self.visible[sender.ID], d.w.grantLookup, d.cfg.Access)
		reply := func(id int64) string { return "" }
		if d.n != nil && d.cfg.Tokens != nil {
			reply = func(id int64) string {
				return threading.PlusAddress(d.n.cfg.SupportAddress, d.cfg.Tokens.Sign(id, sender.ID))
			}
		}
		data.Groups = caseListGroups(sender, visible, req.all, req.org, d.now, reply)
		data.Subscriptions = d.subscriptionItems(sender)
		n := 0
		for _, g := range data.Groups {
			n += len(g.Cases)
		}
		d.record(nil, DecisionSelfService, "self-service", fmt.Sprintf("case list request (all=%t, org=%t): %d of %d cases %s may see listed; no case opened",
			req.all, req.org, n, len(visible), sender.LoginEmail))
	}
	if d.n == nil {
		return
	}
	subject := strings.TrimSpace(d.p.msg.Subject)
	if subject == "" {
		subject = "#cases"
	}
	d.notify(&notice{subject: subject, to: to, inReplyTo: d.p.msg.MessageID, autoReplied: true,
		data: func(b templates.Base) templates.Data { data.Base = b; return data }})
}

// planInfo answers a "#plan" request with what the sender's support plan
// includes, all of it read from the lifecycle policy.
func (d *decider) planInfo(sender *User) {
	from := d.p.msg.From.Canonical()
	d.p.out.access = "self-service: " + selfAccess(sender)
	if d.overSelfServiceLimit(from) {
		d.record(nil, DecisionSelfService, "self-service", fmt.Sprintf("plan request over the limit of %d per hour for %s: stored, not answered",
			d.selfServiceLimit(), from))
		return
	}
	data := templates.PlanInfoData{}
	var to Recipient
	switch {
	case sender == nil || !sender.Active:
		data.Answer = templates.PlanInfoUnknown
		to = Recipient{Email: from, Name: d.p.msg.From.Name}
		d.record(nil, DecisionSelfService, "self-service", "plan request from an unknown sender: told so; no case opened")
	case IsStaff(sender.Role):
		data.Answer = templates.PlanInfoStaff
		to = UserRecipient(sender)
		d.record(nil, DecisionSelfService, "self-service", "plan request from "+sender.Role+" "+sender.LoginEmail+": told to use the CLI; no case opened")
	default:
		to = UserRecipient(sender)
		data = planInfoData(d.w.orgOf(sender), d.cfg.Policy)
		plan := data.Plan
		if plan == "" {
			plan = "none"
		}
		d.record(nil, DecisionSelfService, "self-service", fmt.Sprintf("plan request from %s (plan %s): answered; no case opened", sender.LoginEmail, plan))
	}
	if d.n == nil {
		return
	}
	subject := strings.TrimSpace(d.p.msg.Subject)
	if subject == "" {
		subject = "#plan"
	}
	d.notify(&notice{subject: subject, to: to, inReplyTo: d.p.msg.MessageID, autoReplied: true,
		data: func(b templates.Base) templates.Data { data.Base = b; return data }})
}

// planInfoData is what org's plan includes under policy p (org nil: no plan).
func planInfoData(org *orgView, p lifecycle.Policy) templates.PlanInfoData {
	data := templates.PlanInfoData{Answer: templates.PlanInfoPlan}
	if org != nil {
		data.Plan, data.Org = org.Plan, org.Name
	}
	ack := caseReceived(lifecycle.SeverityChoice{}, data.Plan, p.SLA)
	data.Levels, data.CanEscalate = ack.Levels, ack.CanEscalate
	// What a mail client's high-priority mark does on this plan.
	if ch := lifecycle.ChooseSeverity("", "", map[string][]string{"Importance": {"high"}}, data.Plan); ch.Source == lifecycle.FromHeader {
		data.PrioritySeverity = string(ch.Severity)
	}
	h := p.SLA.Hours
	loc := h.Location
	if loc == nil {
		loc = time.UTC
	}
	data.Hours = templates.SupportHours{Open: clockTime(h.Open), Close: clockTime(h.Close), TimeZone: loc.String(), Holidays: len(h.Holidays) > 0}
	for i := range 7 {
		if wd := time.Weekday((i + 1) % 7); h.Days[wd] { // from Monday
			data.Hours.Days = append(data.Hours.Days, wd)
		}
	}
	return data
}

// clockTime writes a time of day as "09:00" ("24:00" for the day's end).
func clockTime(d time.Duration) string {
	return fmt.Sprintf("%02d:%02d", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func selfAccess(u *User) string {
	switch {
	case u == nil:
		return "unknown sender"
	case !u.Active:
		return u.LoginEmail + " is deactivated"
	}
	return u.Role + " " + u.LoginEmail
}

// grantLookup returns the grant of customer org to reseller org, if any.
func (w *world) grantLookup(customer, reseller int64) *grantView {
	if g, ok := w.grants[[2]int64{customer, reseller}]; ok {
		return &g
	}
	return nil
}

// visibleCases keeps the candidate cases u may see, by exactly the rules
// of decideAccess.
func visibleCases(u *User, cands []selfCase, grant func(customer, reseller int64) *grantView, p AccessPolicy) []selfCase {
	var out []selfCase
	for _, sc := range cands {
		f := accessFacts{participant: sc.Participant, submitterRole: sc.SubmitterRole}
		if sc.HasGrant {
			f.grant = &grantView{GrantedAt: deTime(sc.GrantedAt), RevokedAt: sc.RevokedAt}
		} else if u.Role == RoleReseller && u.OrgID != nil && sc.OrgID != nil && grant != nil {
			f.grant = grant(*sc.OrgID, *u.OrgID)
		}
		c := &Case{OrgID: sc.OrgID, SubmitterID: sc.SubmitterID}
		c.ID, c.CreatedAt = sc.ID, sc.CreatedAt
		if ok, _ := decideAccess(u, c, f, p); ok {
			out = append(out, sc)
		}
	}
	return out
}

func caseIsOpen(status string) bool { return status != StatusSolved && status != StatusClosed }

// caseListGroups sorts and groups the cases u may see: without all, only
// cases not solved or closed; open ones first, then the latest activity
// first. The cases of u's own org (and of no org) come first without a
// heading, then one group per other org by name; with byOrg, u's own org
// gets its heading too.
func caseListGroups(u *User, cases []selfCase, all, byOrg bool, now time.Time, reply func(int64) string) []templates.CaseListGroup {
	cases = slices.Clone(cases)
	if !all {
		cases = slices.DeleteFunc(cases, func(c selfCase) bool { return !caseIsOpen(c.Status) })
	}
	slices.SortStableFunc(cases, func(a, b selfCase) int {
		if oa, ob := caseIsOpen(a.Status), caseIsOpen(b.Status); oa != ob {
			if oa {
				return -1
			}
			return 1
		}
		if c := b.LastActivity.Compare(a.LastActivity); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	own := func(c selfCase) bool { return c.OrgID == nil || (u.OrgID != nil && *c.OrgID == *u.OrgID) }
	var groups []templates.CaseListGroup
	index := map[string]int{}
	for _, c := range cases {
		key := ""
		if !own(c) || byOrg {
			key = c.Org
		}
		i, ok := index[key]
		if !ok {
			i = len(groups)
			index[key] = i
			groups = append(groups, templates.CaseListGroup{Org: key})
		}
		groups[i].Cases = append(groups[i].Cases, templates.CaseListItem{ID: c.ID, Title: c.Subject, Created: c.CreatedAt,
			LastActivity: c.LastActivity, LastActivityAt: templates.AgoSince(c.LastActivity, now), Status: c.Status, Severity: c.Severity,
			ReplyAddress: reply(c.ID)})
	}
	slices.SortStableFunc(groups, func(a, b templates.CaseListGroup) int {
		if (a.Org == "") != (b.Org == "") {
			if a.Org == "" {
				return -1
			}
			return 1
		}
		if !byOrg {
			return strings.Compare(a.Org, b.Org)
		}
		return 0
	})
	if byOrg && u.OrgName != nil {
		// u's own org first.
		slices.SortStableFunc(groups, func(a, b templates.CaseListGroup) int {
			return boolInt(b.Org == *u.OrgName) - boolInt(a.Org == *u.OrgName)
		})
	}
	return groups
}

// subscriptionItems lists u's known-issue subscriptions.
func (d *decider) subscriptionItems(u *User) []templates.KnownIssueItem {
	var out []templates.KnownIssueItem
	for _, s := range d.w.self.subs[u.ID] {
		it := templates.KnownIssueItem{ID: s.IssueID, Title: s.Title, Status: s.Status, CaseID: deref64(s.CaseID)}
		if d.n != nil && d.cfg.Tokens != nil {
			it.Address = threading.PlusAddress(d.n.cfg.SupportAddress, d.cfg.Tokens.SignKnownIssueUnsubscribe(s.IssueID, u.ID))
		}
		out = append(out, it)
	}
	return out
}

// subscribe follows a known issue: the sender's open case linked to it is
// reused, else a case is opened for them, linked to it.
func (d *decider) subscribe(req selfRequest, known *User) {
	ki := d.w.self.issues[req.issue]
	switch {
	case ki == nil:
		d.record(nil, DecisionIgnored, "known-issue", fmt.Sprintf("known issue #%d does not exist", req.issue))
		return
	case known != nil && IsStaff(known.Role):
		d.record(nil, DecisionSelfService, "known-issue", fmt.Sprintf("%s %s wrote to known issue #%d: staff do not subscribe; nothing done",
			known.Role, known.LoginEmail, ki.ID))
		return
	case ki.Status == KnownIssueResolved:
		d.record(nil, DecisionSelfService, "known-issue", fmt.Sprintf("known issue #%d is resolved: no subscription", ki.ID))
		return
	}
	if known != nil {
		if id, ok := d.w.self.linked[[2]int64{ki.ID, known.ID}]; ok {
			if c := d.w.caseOf(id); c != nil {
				d.plan.self.subs = append(d.plan.self.subs, kiSubChange{issue: ki.ID, user: known, add: true, now: d.now})
				d.addComment(c, known, true)
				d.record(c, DecisionSelfService, "known-issue", fmt.Sprintf("%s follows known issue #%d on their open case #%d; the mail is a comment there",
					known.LoginEmail, ki.ID, c.ID))
				return
			}
		}
	}
	if d.throttled() {
		return
	}
	sender, refusal, err := d.admit(known)
	if err != nil || sender == nil {
		d.record(nil, DecisionRefused, "known-issue", fmt.Sprintf("unknown sender refused by the %s policy", d.cfg.UnknownSenders))
		d.refuse(refusal)
		return
	}
	d.p.out.access = "may open cases"
	org := d.w.orgOf(sender)
	plan := ""
	if org != nil {
		plan = org.Plan
	}
	choice := lifecycle.ChooseSeverity(ki.Title, d.p.replyText, d.p.msg.Header, plan)
	c := d.newCase(truncateText(fmt.Sprintf("Known issue #%d: %s", ki.ID, ki.Title), 500), choice.Severity, org, sender, nil)
	c.sevChoice = choice
	c.KnownIssueID = &ki.ID
	d.plan.self.links = append(d.plan.self.links, kiLink{c: c, issue: ki.ID})
	d.plan.self.subs = append(d.plan.self.subs, kiSubChange{issue: ki.ID, user: sender, add: true, now: d.now})
	d.w.self.linked[[2]int64{ki.ID, sender.ID}] = c.ID
	d.addComment(c, sender, true)
	d.record(c, DecisionNewCase, "known-issue", fmt.Sprintf("%s follows known issue #%d: case opened, linked to it", sender.LoginEmail, ki.ID))
	d.event(c, sender, NewEvent{Kind: "known_issue", To: fmt.Sprint(ki.ID), Reason: "subscribed by mail"})
	d.w.senderOf(d.p.msg.From.Canonical()).recent = append(d.w.senderOf(d.p.msg.From.Canonical()).recent,
		senderEvent{CaseID: &c.ID, Decision: DecisionNewCase, CreatedAt: d.now})
	out := lifecycle.Opened(c.state)
	x := effects{actor: sender, comment: d.commentData(sender), inReplyTo: d.p.msg.MessageID}
	for _, nt := range out.Notices {
		d.lifecycleNotice(c, c.state, &out, nt, x)
	}
}

// unsubscribe ends the sender's subscription to a known issue: its linked
// open case is unlinked and solved.
func (d *decider) unsubscribe(req selfRequest, sender *User, threaded *caseView) {
	switch {
	case sender == nil:
		d.record(nil, DecisionSelfService, "known-issue", "unsubscribe from an unknown sender: nothing to end")
		return
	case req.user > 0 && req.user != sender.ID:
		d.record(nil, DecisionSelfService, "known-issue", fmt.Sprintf("unsubscribe token of user %d used by %s: ignored", req.user, sender.LoginEmail))
		return
	}
	d.plan.self.subs = append(d.plan.self.subs, kiSubChange{issue: req.issue, user: sender, now: d.now})
	reason := fmt.Sprintf("%s unsubscribed from known issue #%d", sender.LoginEmail, req.issue)
	c := threaded
	if id, ok := d.w.self.linked[[2]int64{req.issue, sender.ID}]; ok {
		c = d.w.caseOf(id)
	}
	if c == nil || !caseIsOpen(c.Status) {
		d.record(nil, DecisionSelfService, "known-issue", reason+"; no open linked case")
		return
	}
	delete(d.w.self.linked, [2]int64{req.issue, sender.ID})
	c.KnownIssueID = nil
	d.plan.self.links = append(d.plan.self.links, kiLink{c: c})
	d.link(c)
	d.record(c, DecisionSelfService, "known-issue", fmt.Sprintf("%s; case #%d unlinked and solved", reason, c.ID))
	d.event(c, sender, NewEvent{Kind: "known_issue", From: fmt.Sprint(req.issue), Reason: "unsubscribed by mail"})
	before := c.state
	cmd := lifecycle.Command{Name: lifecycle.CmdStatus, Arg: StatusSolved, Line: "#status solved"}
	out := lifecycle.Apply(before, lifecycle.Event{Kind: lifecycle.AgentNote, Commands: []lifecycle.Command{cmd}}, d.cfg.Policy, d.now)
	out.Notices = withoutNotice(out.Notices, lifecycle.NoticeCommandResult)
	d.carryOut(c, before, &out, effects{actor: sender, inReplyTo: d.p.msg.MessageID})
}

// knownLines takes the "#known ID" lines out of the command block at the
// top of text (the leading lines that are blank or hold a command): the
// known issues they name and the text without them.
func knownLines(text string) ([]int64, string) {
	var ids []int64
	lines := strings.SplitAfter(text, "\n")
	keep := make([]string, 0, len(lines))
	block := true
	for _, l := range lines {
		t := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "\ufeff"))
		if block && t != "" {
			if id, ok := knownLine(t); ok {
				ids = append(ids, id)
				continue
			}
			if cmds, _ := lifecycle.ParseCommands(t); len(cmds) == 0 {
				block = false
			}
		}
		keep = append(keep, l)
	}
	return ids, strings.Join(keep, "")
}

// knownLine parses "#known 7" (also "#known #7").
func knownLine(t string) (int64, bool) {
	f := strings.Fields(t)
	if len(f) != 2 || (!strings.EqualFold(f[0], "#known") && !strings.EqualFold(f[0], "＃known")) {
		return 0, false
	}
	var id int64
	if _, err := fmt.Sscan(strings.TrimPrefix(f[1], "#"), &id); err != nil || id <= 0 {
		return 0, false
	}
	return id, true
}

// agentKnown applies an agent's "#known ID" lines on c: the case is linked
// to the known issue and its submitter follows it; the lines leave the
// comment. Unauthenticated staff mail is held by reply and links nothing.
func (d *decider) agentKnown(c *caseView, agent *User) {
	ids, rest := knownLines(d.p.replyText)
	if len(ids) == 0 || (d.cfg.AgentAuth && !borderAuth(d.p.msg, *d.cfg).Pass) {
		return
	}
	d.p.replyText = rest
	for _, id := range ids {
		ki := d.w.self.issues[id]
		if ki == nil {
			d.event(c, agent, NewEvent{Kind: "known_issue", To: fmt.Sprint(id), Reason: "#known: no such known issue; not linked"})
			continue
		}
		c.KnownIssueID = &ki.ID
		d.plan.self.links = append(d.plan.self.links, kiLink{c: c, issue: ki.ID})
		if c.submitter != nil {
			d.plan.self.subs = append(d.plan.self.subs, kiSubChange{issue: ki.ID, user: c.submitter, add: true, now: d.now})
		}
		d.event(c, agent, NewEvent{Kind: "known_issue", To: fmt.Sprint(ki.ID), Reason: "linked by #known"})
	}
}
