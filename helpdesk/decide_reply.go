package helpdesk

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/helpdesk/helpdesk/helpdesk/lifecycle"
	"github.com/helpdesk/helpdesk/templates"
	"github.com/helpdesk/helpdesk/threading"
)

// comment applies a reply from someone allowed on c: the lifecycle decides
// the comment, the state change and every notice.
func (d *decider) comment(c *caseView, sender *User, dec threading.Decision) error {
	before := c.state
	cmds, rest := lifecycle.ParseCommands(d.p.replyText)
	noCommands := d.commandAuthority(c, sender)
	if noCommands != "" {
		if len(cmds) > 0 {
			dec.Reason += "; commands not applied (" + noCommands + "): kept as text"
		}
		cmds, rest = nil, d.p.replyText
	}
	kind := lifecycle.CustomerReply
	var rejected []lifecycle.CommandResult
	if IsStaff(sender.Role) {
		kind = lifecycle.AgentReply
		cmds, rejected = d.checkMerges(c, cmds)
	}
	out := lifecycle.Apply(before, lifecycle.Event{Kind: kind, Text: rest, Attachments: len(d.p.msg.Attachments), Commands: cmds,
		Sender: sender.LoginEmail}, d.cfg.Policy, d.now)
	out.Commands = append(out.Commands, rejected...)
	if len(rejected) > 0 && !hasNotice(out.Notices, lifecycle.NoticeCommandResult) {
		out.Notices = append(out.Notices, lifecycle.Notice{Kind: lifecycle.NoticeCommandResult, To: lifecycle.ToSender})
	}
	if !IsStaff(sender.Role) && sender.ID != c.SubmitterID && hasNotice(out.Notices, lifecycle.NoticeCustomerCommandResult) {
		// Only the submitter is mailed about a case: say it here instead.
		out.Notices = withoutNotice(out.Notices, lifecycle.NoticeCustomerCommandResult)
		dec.Reason += "; " + refusedCommands(out.Commands) + " (not answered: only the submitter is mailed)"
	}
	d.p.replyText = rest // commands never reach the comment
	d.link(c)
	if out.FollowUp {
		d.followUp(c, sender, before, out, dec)
		return nil
	}
	prevAuthor, prevBody := c.prevAuthor, c.prevBody
	decision := DecisionStored // commands only: nothing to keep as a comment
	switch out.Comment {
	case lifecycle.PublicComment, lifecycle.InternalComment:
		d.addComment(c, sender, out.Comment == lifecycle.PublicComment)
		d.plan.comments[len(d.plan.comments)-1].internal = out.Comment == lifecycle.InternalComment
		decision = DecisionComment
	}
	d.record(c, decision, dec.Rule, dec.Reason+"; "+out.Reason)
	d.ccParticipants(c, sender)
	d.carryOut(c, before, &out, effects{actor: sender, comment: d.commentData(sender), inReplyTo: d.p.msg.MessageID,
		prevAuthor: prevAuthor, prevBody: prevBody, relay: true, newAddress: d.newAddress})
	return nil
}

// commandAuthority says why sender's commands on c are not applied, or ""
// when they are: only the submitter, a contact of the case's org or staff
// command, and never by released mail or from a new address.
func (d *decider) commandAuthority(c *caseView, sender *User) string {
	sameOrg := c.OrgID != nil && sender.OrgID != nil && *c.OrgID == *sender.OrgID
	switch {
	case d.release != nil:
		return "released held mail from " + sender.LoginEmail
	case d.newAddress != "":
		return "from a new address"
	case IsStaff(sender.Role), sender.ID == c.SubmitterID, sender.Role == RoleContact && sameOrg:
		return ""
	}
	return sender.LoginEmail + " is neither the submitter, a contact of the case's org nor staff"
}

// refusedCommands lists the commands not applied and why.
func refusedCommands(rs []lifecycle.CommandResult) string {
	var out []string
	for _, r := range rs {
		if !r.Applied {
			out = append(out, r.Command.Line+": "+r.Detail)
		}
	}
	return "command not applied: " + strings.Join(out, "; ")
}

// followUp opens a new case linked to a closed one for a reply that came too
// late to reopen it; the notices name both numbers.
func (d *decider) followUp(old *caseView, sender *User, before lifecycle.Case, out lifecycle.Outcome, dec threading.Decision) {
	notices := out.Notices
	out.Notices = nil
	d.carryOut(old, before, &out, effects{actor: sender})
	submitter := sender
	if IsStaff(sender.Role) && old.submitter != nil {
		submitter = old.submitter
	}
	var org *orgView
	if old.OrgID != nil {
		org = d.w.orgs[*old.OrgID]
	}
	oldID := old.ID
	c := d.newCase(old.Subject, lifecycle.Severity(old.Severity), org, submitter, &oldID)
	d.event(old, sender, NewEvent{Kind: "follow_up", Reason: out.Reason, To: caseLabel(provisionalLabel)})
	d.plan.events[len(d.plan.events)-1].toCase = c
	d.event(c, sender, NewEvent{Kind: "follow_up", From: caseLabel(old.ID), Reason: out.Reason})
	d.addComment(c, sender, true)
	if from := d.p.msg.From.Canonical(); from != "" {
		s := d.w.senderOf(from)
		s.recent = append(s.recent, senderEvent{CaseID: &c.ID, Decision: DecisionFollowUp, CreatedAt: d.now})
	}
	d.record(c, DecisionFollowUp, dec.Rule, dec.Reason)
	d.ccParticipants(c, sender)
	d.p.out.followUpOf = old // the reason names both numbers once they are known
	fo := lifecycle.Outcome{Case: c.state, Notices: notices}
	d.carryOut(c, c.state, &fo, effects{actor: sender, comment: d.commentData(sender), inReplyTo: d.p.msg.MessageID})
}

// provisionalLabel stands for a case number that is not known yet.
const provisionalLabel = -1

// checkMerges takes out the #merge commands whose target cannot take a
// merge, before the rules run (a merge solves the case, so a rejected one
// must not reach them), and returns them as rejected results.
func (d *decider) checkMerges(c *caseView, cmds []lifecycle.Command) ([]lifecycle.Command, []lifecycle.CommandResult) {
	var keep []lifecycle.Command
	var rejected []lifecycle.CommandResult
	for _, cmd := range cmds {
		if cmd.Name != lifecycle.CmdMerge {
			keep = append(keep, cmd)
			continue
		}
		n, err := strconv.ParseInt(strings.TrimPrefix(strings.TrimSpace(cmd.Arg), "#"), 10, 64)
		if err != nil || n <= 0 {
			keep = append(keep, cmd) // malformed: the rules reject it with their own words
			continue
		}
		why := ""
		switch target := d.w.caseOf(n); {
		case target == nil:
			why = fmt.Sprintf("case #%d does not exist", n)
		case target == c:
			why = "a case cannot be merged into itself"
		case target.Status == StatusClosed:
			why = fmt.Sprintf("case #%d is closed", target.ID)
		}
		if why != "" {
			rejected = append(rejected, lifecycle.CommandResult{Command: cmd, Detail: why})
			continue
		}
		keep = append(keep, cmd)
	}
	return keep, rejected
}

// effects is the context an outcome is carried out in: who acted, which
// mail caused it, and what its comment said.
type effects struct {
	actor      *User // nil: the system (timers)
	comment    templates.Comment
	inReplyTo  string
	prevAuthor string // the public comment before this one
	prevBody   string
	relay      bool             // a public agent comment goes to the submitter
	held       string           // why the mail was held for review
	newAddress string           // the reply came from this address, vouched for by a reply token
	now        time.Time        // outside ingest: when
	policy     lifecycle.Policy // outside ingest: the lifecycle policy
}

// carryOut records what lifecycle decided for c: the resolved assignment
// and merge (rejecting what cannot be done), the new state, audit entries
// and notices.
func (d *decider) carryOut(c *caseView, before lifecycle.Case, out *lifecycle.Outcome, x effects) {
	d.resolveAssign(c, out)
	if out.MergeInto != 0 {
		if t := d.w.caseOf(out.MergeInto); t != nil {
			out.MergeInto = t.ID
			c.mergeInto = t
			c.MergedInto = &t.ID
		}
	}
	c.state = out.Case
	c.Status, c.Severity = string(out.Case.Status), string(out.Case.Severity)
	c.dirty, c.UpdatedAt = true, d.now
	for _, a := range out.Audit {
		d.event(c, x.actor, NewEvent{Kind: a.Kind, From: a.From, To: a.To, Reason: a.Reason})
	}
	for _, nt := range out.Notices {
		d.lifecycleNotice(c, before, out, nt, x)
	}
}

// resolveAssign turns "#assign EMAIL" into an assignee, or rejects it.
func (d *decider) resolveAssign(c *caseView, out *lifecycle.Outcome) {
	if out.Assign == "" {
		return
	}
	u := d.w.user(strings.ToLower(out.Assign))
	if u == nil || !IsStaff(u.Role) || !u.Active {
		rejectCommand(out, lifecycle.CmdAssign, "no agent or manager with the address "+out.Assign)
		dropAudit(out, "assignee")
		out.Assign = ""
		return
	}
	c.assignTo, c.assignee = u, u
	c.AssigneeID, c.Assignee = &u.ID, &u.LoginEmail
}

func rejectCommand(out *lifecycle.Outcome, name, why string) {
	for i := range out.Commands {
		if out.Commands[i].Command.Name == name && out.Commands[i].Applied {
			out.Commands[i].Applied, out.Commands[i].Detail = false, why
		}
	}
}

func dropAudit(out *lifecycle.Outcome, kind string) {
	kept := out.Audit[:0]
	for _, a := range out.Audit {
		if a.Kind != kind {
			kept = append(kept, a)
		}
	}
	out.Audit = kept
}

func hasNotice(ns []lifecycle.Notice, kind string) bool {
	for _, n := range ns {
		if n.Kind == kind {
			return true
		}
	}
	return false
}

// caseLabel is "#N" for messages.
func caseLabel(id int64) string { return "#" + strconv.FormatInt(id, 10) }
