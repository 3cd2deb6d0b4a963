package helpdesk

import (
	"fmt"
	"time"

	"github.com/helpdesk/helpdesk/helpdesk/lifecycle"
	"github.com/helpdesk/helpdesk/mail"
	"github.com/helpdesk/helpdesk/templates"
)

// notice is a notification decided for a batch: to whom, about which case,
// and its template data as of the moment it was decided. It is rendered
// once the batch's ids are known (render.go).
type notice struct {
	c           *caseView // nil: not about a case
	subject     string    // the subject of a notice about no case
	to          Recipient // UserID may point at a user created in the batch
	data        func(templates.Base) templates.Data
	inReplyTo   string
	autoReplied bool
	fromName    string
	files       []relayFile // attachments sent along
	agentFiles  *agentFiles // a customer's files listed to agents: links filled when rendered
	err         error       // a notice the rules cannot render
	threadLen   int         // how much of the case's thread it follows
	messageID   string      // chosen when rendered
	outboxID    int64       // reserved: the VERP envelope sender names it
	now         time.Time
}

// relayFile is a customer's or agent's attachment relayed with a comment.
type relayFile struct {
	att  *mail.Attachment
	blob *storedBlob
	html bool // the mail has HTML, which may show inline images by cid:
}

func (d *decider) notify(nt *notice) {
	if d.n == nil {
		return
	}
	nt.now = d.now
	if nt.c != nil {
		nt.threadLen = len(nt.c.thread)
		nt.c.thread = append(nt.c.thread, threadRef{nt: nt})
	}
	d.plan.notices = append(d.plan.notices, nt)
}

// audience resolves who a notice goes to; ok is false when nobody is
// configured.
func (d *decider) audience(c *caseView, a lifecycle.Audience, actor *User) (Recipient, bool) {
	byAddress := func(addr string) (Recipient, bool) {
		if addr == "" {
			return Recipient{}, false
		}
		if u := d.w.user(addr); u != nil {
			return UserRecipient(u), true
		}
		return Recipient{Email: addr, Staff: true}, true
	}
	switch a {
	case lifecycle.ToSubmitter:
		if c.submitter == nil {
			return Recipient{}, false
		}
		return UserRecipient(c.submitter), true
	case lifecycle.ToSender:
		if actor == nil {
			return Recipient{}, false
		}
		return UserRecipient(actor), true
	case lifecycle.ToManager:
		return byAddress(d.n.cfg.ManagerAddress)
	default: // agents: the assignee, else (none, or disabled) the agent address
		if c.assignee != nil && c.assignee.Active {
			return UserRecipient(c.assignee), true
		}
		return byAddress(d.n.cfg.AgentAddress)
	}
}

// lifecycleNotice turns one notice the lifecycle decided into a
// notification with its data as of now.
func (d *decider) lifecycleNotice(c *caseView, before lifecycle.Case, out *lifecycle.Outcome, nt lifecycle.Notice, x effects) {
	if d.n == nil {
		return
	}
	if nt.Kind == lifecycle.NoticeCommentAdded {
		if x.relay {
			d.relay(c, x.actor, before, x)
		}
		return
	}
	to, ok := d.audience(c, nt.To, x.actor)
	if !ok {
		return
	}
	var files []relayFile
	var af *agentFiles
	if agentCommentNotice(nt.Kind) {
		files, af = d.filesForAgents(c, &x)
	}
	data, ok := d.noticeData(c, before, out, nt, x)
	if !ok {
		return
	}
	// The acknowledgement answers the mail itself (auto-replied, RFC 3834).
	d.notify(&notice{c: c, to: to, data: data, inReplyTo: x.inReplyTo, autoReplied: nt.Kind == lifecycle.NoticeCaseReceived,
		files: files, agentFiles: af})
}

// noticeData captures the template data of a lifecycle notice.
func (d *decider) noticeData(c *caseView, before lifecycle.Case, out *lifecycle.Outcome, nt lifecycle.Notice, x effects) (func(templates.Base) templates.Data, bool) {
	v := *c // the case as it is now, not as later mail leaves it
	requester := templates.Person{}
	if c.submitter != nil {
		requester = templates.Person{Name: c.submitter.Name, Email: c.submitter.LoginEmail}
	}
	if x.actor != nil && !IsStaff(x.actor.Role) {
		requester = templates.Person{Name: x.actor.Name, Email: x.actor.LoginEmail}
	}
	assignee := ""
	if c.assignee != nil {
		assignee = c.assignee.LoginEmail
	}
	switch nt.Kind {
	case lifecycle.NoticeHeldForReview:
		if d.p == nil {
			return nil, false
		}
		p, m, why := d.p, d.p.msg, x.held
		return func(b templates.Base) templates.Data {
			return templates.HeldForReviewData{Base: b, Sender: templates.Person{Name: m.From.Name, Email: m.From.Canonical()},
				Reason: why, MessageSubject: m.Subject, MessageID: m.MessageID, HeldID: p.rowID} // the row id is reserved before rendering
		}, true
	case lifecycle.NoticeCaseReceived:
		ack := caseReceived(v.sevChoice, v.plan, d.cfg.Policy.SLA)
		ack.Severity, ack.FirstResponseDue = v.Severity, deTime(v.FirstResponseDueAt)
		ack.Missing = d.missingDiagnostics(c) // diagnostics.go
		return func(b templates.Base) templates.Data {
			a := ack
			a.Base = b
			return a
		}, true
	case lifecycle.NoticeCustomerCommandResult:
		return customerCommandResultData(out)
	case lifecycle.NoticeStatusChanged:
		reason := out.Reason
		// "You marked …" only to the submitter about their own mail.
		byCustomer := x.actor != nil && !IsStaff(x.actor.Role) && x.actor.ID == c.SubmitterID
		return func(b templates.Base) templates.Data {
			return templates.StatusChangedData{Base: b, From: string(before.Status), To: v.Status, Reason: reason, ReopenUntil: nt.At,
				ByCustomer: byCustomer}
		}, true
	case lifecycle.NoticeFollowUpOpened:
		prev := d.w.cases[deref64(c.FollowUpOf)]
		if prev == nil {
			return nil, false
		}
		return func(b templates.Base) templates.Data {
			return templates.FollowUpOpenedData{Base: b, PreviousCaseID: prev.ID, PreviousSubject: prev.Subject}
		}, true
	case lifecycle.NoticePendingReminder:
		return func(b templates.Base) templates.Data {
			return templates.PendingReminderData{Base: b, AutoSolveAt: nt.At, PreviousAuthor: v.prevAuthor, PreviousQuote: v.prevBody}
		}, true
	case lifecycle.NoticeAutoSolved:
		return func(b templates.Base) templates.Data { return templates.AutoSolvedData{Base: b, ReopenUntil: nt.At} }, true
	case lifecycle.NoticeEscalationReceived:
		return func(b templates.Base) templates.Data {
			return templates.EscalationReceivedData{Base: b, Reason: nt.Reason}
		}, true
	case lifecycle.NoticeEscalationRefused:
		return func(b templates.Base) templates.Data {
			return templates.EscalationRefusedData{Base: b, Why: templates.EscalationRefusal(nt.Reason), Plan: v.plan}
		}, true
	case lifecycle.NoticeMerged:
		target := c.mergeInto
		if target == nil {
			return nil, false
		}
		return func(b templates.Base) templates.Data {
			return templates.MergedData{Base: b, TargetCaseID: target.ID, TargetSubject: target.Subject}
		}, true
	case lifecycle.NoticeCommandResult:
		return commandResultData(out)
	}
	if data, ok := diagnosticsNoticeData(nt); ok { // diagnostics.go
		return data, true
	}
	if data, ok := agentNoticeData(&v, nt, x, requester, assignee); ok {
		if nt.Kind == lifecycle.NoticeAgentCustomerReplied {
			data = changedByCustomer(data, nt, before.Severity, out.Case.Severity)
			data = withConsent(data, out)
		}
		if prev := d.w.cases[deref64(c.FollowUpOf)]; prev != nil && nt.Kind == lifecycle.NoticeAgentNewCase {
			return followsCase(data, prev.ID, prev.Subject), true
		}
		return data, true
	}
	d.notify(&notice{c: c, err: fmt.Errorf("lifecycle notice %q has no template", nt.Kind)})
	return nil, false
}

// agentNoticeData captures the data of the notices to agents.
func agentNoticeData(v *caseView, nt lifecycle.Notice, x effects, requester templates.Person, assignee string) (func(templates.Base) templates.Data, bool) {
	switch nt.Kind {
	case lifecycle.NoticeAgentNewCase:
		return func(b templates.Base) templates.Data {
			return templates.AgentNewCaseData{Base: b, Requester: requester, Organization: v.Org, Severity: v.Severity,
				FirstResponseDue: deTime(v.FirstResponseDueAt), Comment: x.comment}
		}, true
	case lifecycle.NoticeAgentCustomerReplied:
		return func(b templates.Base) templates.Data {
			return templates.AgentCustomerRepliedData{Base: b, Requester: requester, Organization: v.Org, Status: v.Status, Comment: x.comment,
				NewAddress: x.newAddress}
		}, true
	case lifecycle.NoticeAgentReopened:
		return func(b templates.Base) templates.Data {
			return templates.AgentReopenedData{Base: b, Requester: requester, Organization: v.Org, Comment: x.comment, NewAddress: x.newAddress}
		}, true
	case lifecycle.NoticeAgentEscalation:
		return func(b templates.Base) templates.Data {
			return templates.AgentEscalationData{Base: b, Requester: requester, Organization: v.Org, Plan: v.plan,
				Severity: v.Severity, Status: v.Status, Assignee: assignee, Reason: nt.Reason}
		}, true
	case lifecycle.NoticeSLAWarning, lifecycle.NoticeSLABreach:
		sla := templates.SLA{Target: templates.SLAFirstResponse, Due: nt.At, Severity: v.Severity, Status: v.Status,
			Assignee: assignee, Organization: v.Org}
		if nt.Kind == lifecycle.NoticeSLAWarning {
			return func(b templates.Base) templates.Data { return templates.SLAWarningData{Base: b, SLA: sla} }, true
		}
		return func(b templates.Base) templates.Data { return templates.SLABreachData{Base: b, SLA: sla} }, true
	}
	return nil, false
}

// followsCase names the closed case a follow-up case continues in its
// agent notice.
func followsCase(data func(templates.Base) templates.Data, id int64, subject string) func(templates.Base) templates.Data {
	return func(b templates.Base) templates.Data {
		d, ok := data(b).(templates.AgentNewCaseData)
		if !ok {
			return data(b)
		}
		d.FollowsCaseID, d.FollowsSubject = id, subject
		return d
	}
}

func deref64(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// relay sends support's public comment to the case's submitter, at their
// login email, from the support address "Agent via Helpdesk". The
// attachments go along while their total stays under the attach limit;
// otherwise the mail lists their names and sizes.
func (d *decider) relay(c *caseView, agent *User, before lifecycle.Case, x effects) {
	if c.submitter == nil {
		return
	}
	cd := x.comment
	cd.Attachments = append([]templates.AttachmentInfo(nil), cd.Attachments...)
	var total int64
	for _, a := range d.p.msg.Attachments {
		total += a.Size
	}
	var files []relayFile
	if total <= d.n.cfg.AttachLimit {
		for i, a := range d.p.msg.Attachments {
			blob := d.p.blobs[a]
			if blob == nil || a.Truncated {
				continue
			}
			files = append(files, relayFile{att: a, blob: blob, html: d.p.msg.HTML != ""})
			cd.Attachments[i].Attached = true
		}
	}
	newStatus := ""
	if before.Status != c.state.Status {
		newStatus = string(c.state.Status)
	}
	d.notify(&notice{c: c, to: UserRecipient(c.submitter), fromName: displayName(agent), files: files,
		data: func(b templates.Base) templates.Data {
			return templates.CommentAddedData{Base: b, Comment: cd, NewStatus: newStatus, PreviousAuthor: x.prevAuthor, PreviousQuote: x.prevBody}
		}})
}

// commandResultData tells an agent which of their commands applied.
func commandResultData(out *lifecycle.Outcome) (func(templates.Base) templates.Data, bool) {
	var applied, rejected []templates.CommandOutcome
	for _, r := range out.Commands {
		co := templates.CommandOutcome{Command: r.Command.Line, Detail: r.Detail}
		if r.Applied {
			applied = append(applied, co)
		} else {
			rejected = append(rejected, co)
		}
	}
	if len(applied)+len(rejected) == 0 {
		return nil, false
	}
	return func(b templates.Base) templates.Data {
		return templates.CommandResultData{Base: b, Applied: applied, Rejected: rejected}
	}, true
}

// caseReceived is the acknowledgement's account of the severity: where it
// came from, what S1..S4 mean on the plan and what the customer can do.
func caseReceived(ch lifecycle.SeverityChoice, plan string, sla lifecycle.SLAPolicy) templates.CaseReceivedData {
	ack := templates.CaseReceivedData{SeveritySource: string(ch.Source), SeveritySaid: ch.Said, Plan: plan,
		CanEscalate: lifecycle.PlanEscalates(plan)}
	if ch.Lowered() {
		ack.SeverityAsked = string(ch.Asked)
	}
	for _, s := range []lifecycle.Severity{lifecycle.S1, lifecycle.S2, lifecycle.S3, lifecycle.S4} {
		t, ok := sla.Targets[s]
		if !ok {
			return ack // no explanation rather than a wrong one
		}
		l := templates.SeverityLevel{Severity: string(s), Allowed: lifecycle.AllowedSeverity(s, plan) == s,
			Hours: int((t.Within + time.Hour - 1) / time.Hour)}
		switch t.Clock {
		case lifecycle.AroundTheClock:
			l.Clock = templates.TargetAroundTheClock
		case lifecycle.BusinessTime:
			l.Clock = templates.TargetBusinessHours
		default:
			l.Clock, l.Hours = templates.TargetNextBusinessDay, 0
		}
		ack.Levels = append(ack.Levels, l)
	}
	return ack
}

// changedByCustomer adds to the agents' notice what the customer's own
// commands changed: solved by customer, a new severity.
func changedByCustomer(data func(templates.Base) templates.Data, nt lifecycle.Notice, from, to lifecycle.Severity) func(templates.Base) templates.Data {
	solved := nt.Reason == lifecycle.ReasonSolvedByCustomer
	if !solved && from == to {
		return data
	}
	return func(b templates.Base) templates.Data {
		d, ok := data(b).(templates.AgentCustomerRepliedData)
		if !ok {
			return data(b)
		}
		d.SolvedByCustomer = solved
		if from != to {
			d.SeverityFrom, d.SeverityTo = string(from), string(to)
		}
		return d
	}
}

// customerCommandResultData tells a customer what became of the commands
// of their mail (sent when one was refused; an escalation has its own answer).
func customerCommandResultData(out *lifecycle.Outcome) (func(templates.Base) templates.Data, bool) {
	var applied, refused []templates.CustomerCommand
	for _, r := range out.Commands {
		if r.Command.Name == lifecycle.CmdEscalate && r.Code == "" {
			continue // answered by escalation_received or escalation_refused
		}
		cc := templates.CustomerCommand{Command: r.Command.Line, Code: templates.CustomerCommandCode(r.Code), Value: r.Value}
		if r.Applied {
			applied = append(applied, cc)
		} else {
			refused = append(refused, cc)
		}
	}
	if len(refused) == 0 {
		return nil, false
	}
	return func(b templates.Base) templates.Data {
		return templates.CustomerCommandResultData{Base: b, Applied: applied, Refused: refused}
	}, true
}
