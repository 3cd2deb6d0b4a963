package helpdesk

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/helpdesk/helpdesk/helpdesk/lifecycle"
	"github.com/helpdesk/helpdesk/templates"
)

// effects is the context an outcome is carried out in: who acted, which
// mail caused it, and what its comment said.
type effects struct {
	actor     *User // nil: the system (timers)
	comment   templates.Comment
	inReplyTo string
	msgRowID  *int64
	now       time.Time
	// relay sends a public agent comment to the submitter (attachments
	// included) with the status it set, if any; nil when the outcome came
	// from elsewhere.
	relay func(c *Case, newStatus string) error
}

// carryOut persists what lifecycle decided for case id, in the caller's
// transaction: resolved assignment and merge (rejecting what cannot be
// done), the case's new state, audit entries and notifications.
func carryOut(ctx context.Context, q Queryer, n *Notifier, id int64, before lifecycle.Case, out *lifecycle.Outcome, x effects) error {
	if err := resolveAssign(ctx, q, id, out, x); err != nil {
		return err
	}
	if err := resolveMerge(ctx, q, id, out); err != nil {
		return err
	}
	if err := SaveCaseState(ctx, q, out.Case, x.now); err != nil {
		return err
	}
	var actorID *int64
	if x.actor != nil {
		actorID = &x.actor.ID
	}
	for _, a := range out.Audit {
		if err := AddEvent(ctx, q, NewEvent{CaseID: id, ActorID: actorID, Kind: a.Kind, From: a.From, To: a.To, Reason: a.Reason,
			MessageID: x.msgRowID, Now: x.now}); err != nil {
			return err
		}
	}
	if n == nil {
		return nil
	}
	c, err := GetCase(ctx, q, id)
	if err != nil {
		return err
	}
	for _, nt := range out.Notices {
		if err := sendNotice(ctx, q, n, c, before, out, nt, x); err != nil {
			return err
		}
	}
	return nil
}

// resolveAssign turns "#assign EMAIL" into an assignee, or rejects it.
func resolveAssign(ctx context.Context, q Queryer, id int64, out *lifecycle.Outcome, x effects) error {
	if out.Assign == "" {
		return nil
	}
	u, err := UserByAddress(ctx, q, out.Assign)
	if err != nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrInvalid) {
		return err
	}
	if err != nil || !IsStaff(u.Role) || !u.Active {
		rejectCommand(out, lifecycle.CmdAssign, "no agent or manager with the address "+out.Assign)
		dropAudit(out, "assignee")
		out.Assign = ""
		return nil
	}
	if _, err := q.ExecContext(ctx, `UPDATE cases SET assignee_id = $2 WHERE id = $1`, id, u.ID); err != nil {
		return fmt.Errorf("assign case %d: %w", id, mapErr(err))
	}
	return nil
}

// checkMerges takes out the #merge commands whose target cannot take a
// merge, before the rules run (a merge solves the case, so a rejected one
// must not reach them), and returns them as rejected results.
func checkMerges(ctx context.Context, q Queryer, id int64, cmds []lifecycle.Command) ([]lifecycle.Command, []lifecycle.CommandResult, error) {
	var keep []lifecycle.Command
	var rejected []lifecycle.CommandResult
	for _, c := range cmds {
		if c.Name != lifecycle.CmdMerge {
			keep = append(keep, c)
			continue
		}
		why := ""
		n, err := strconv.ParseInt(strings.TrimPrefix(strings.TrimSpace(c.Arg), "#"), 10, 64)
		if err != nil || n <= 0 {
			keep = append(keep, c) // malformed: the rules reject it with their own words
			continue
		}
		target, err := followMerges(ctx, q, n)
		var status string
		if err == nil {
			err = q.GetContext(ctx, &status, `SELECT status FROM cases WHERE id = $1`, target)
		}
		switch {
		case errors.Is(err, ErrNotFound) || errors.Is(mapErr(err), ErrNotFound):
			why = fmt.Sprintf("case #%d does not exist", n)
		case err != nil:
			return nil, nil, err
		case target == id:
			why = "a case cannot be merged into itself"
		case status == StatusClosed:
			why = fmt.Sprintf("case #%d is closed", target)
		}
		if why != "" {
			rejected = append(rejected, lifecycle.CommandResult{Command: c, Detail: why})
			continue
		}
		keep = append(keep, c)
	}
	return keep, rejected, nil
}

// resolveMerge records the merge lifecycle decided (its target was checked
// by checkMerges).
func resolveMerge(ctx context.Context, q Queryer, id int64, out *lifecycle.Outcome) error {
	if out.MergeInto == 0 {
		return nil
	}
	target, err := followMerges(ctx, q, out.MergeInto)
	if err != nil {
		return err
	}
	out.MergeInto = target
	// Mail threading to the source now lands on the target (followMerges).
	if _, err := q.ExecContext(ctx, `UPDATE cases SET merged_into = $2 WHERE id = $1`, id, target); err != nil {
		return fmt.Errorf("merge case %d: %w", id, mapErr(err))
	}
	return nil
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

// sendNotice renders one lifecycle notice for its audience.
func sendNotice(ctx context.Context, q Queryer, n *Notifier, c *Case, before lifecycle.Case, out *lifecycle.Outcome, nt lifecycle.Notice, x effects) error {
	if nt.Kind == lifecycle.NoticeCommentAdded {
		if x.relay == nil {
			return nil
		}
		newStatus := ""
		if string(before.Status) != c.Status {
			newStatus = c.Status
		}
		return x.relay(c, newStatus)
	}
	submitter, err := UserByID(ctx, q, c.SubmitterID)
	if err != nil {
		return err
	}
	to, ok, err := audience(ctx, q, n, c, submitter, nt.To, x)
	if err != nil || !ok {
		return err
	}
	base := n.Base(c.ID, c.Subject, to.Name)
	requester := templates.Person{Name: submitter.Name, Email: submitter.LoginEmail}
	if x.actor != nil && !IsStaff(x.actor.Role) {
		requester = templates.Person{Name: x.actor.Name, Email: x.actor.LoginEmail}
	}
	var data templates.Data
	switch nt.Kind {
	case lifecycle.NoticeStatusChanged:
		data = templates.StatusChangedData{Base: base, From: string(before.Status), To: c.Status, Reason: out.Reason, ReopenUntil: nt.At}
	case lifecycle.NoticeFollowUpOpened:
		var prev string
		if c.FollowUpOf != nil {
			_ = q.GetContext(ctx, &prev, `SELECT subject FROM cases WHERE id = $1`, *c.FollowUpOf)
			data = templates.FollowUpOpenedData{Base: base, PreviousCaseID: *c.FollowUpOf, PreviousSubject: prev}
		} else {
			return nil
		}
	case lifecycle.NoticePendingReminder:
		author, quote, err := previousPublic(ctx, q, c.ID, 0)
		if err != nil {
			return err
		}
		data = templates.PendingReminderData{Base: base, AutoSolveAt: nt.At, PreviousAuthor: author, PreviousQuote: quote}
	case lifecycle.NoticeAutoSolved:
		data = templates.AutoSolvedData{Base: base, ReopenUntil: nt.At}
	case lifecycle.NoticeEscalationReceived:
		data = templates.EscalationReceivedData{Base: base, Reason: nt.Reason}
	case lifecycle.NoticeEscalationRefused:
		plan := ""
		if c.OrgID != nil {
			_ = q.GetContext(ctx, &plan, `SELECT plan FROM orgs WHERE id = $1`, *c.OrgID)
		}
		data = templates.EscalationRefusedData{Base: base, Why: templates.EscalationRefusal(nt.Reason), Plan: plan}
	case lifecycle.NoticeMerged:
		if c.MergedInto == nil {
			return nil
		}
		var subj string
		_ = q.GetContext(ctx, &subj, `SELECT subject FROM cases WHERE id = $1`, *c.MergedInto)
		data = templates.MergedData{Base: base, TargetCaseID: *c.MergedInto, TargetSubject: subj}
	case lifecycle.NoticeAgentNewCase:
		data = templates.AgentNewCaseData{Base: base, Requester: requester, Organization: c.Org, Severity: c.Severity,
			FirstResponseDue: deTime(c.FirstResponseDueAt), Comment: x.comment}
	case lifecycle.NoticeAgentCustomerReplied:
		data = templates.AgentCustomerRepliedData{Base: base, Requester: requester, Organization: c.Org, Status: c.Status, Comment: x.comment}
	case lifecycle.NoticeAgentReopened:
		data = templates.AgentReopenedData{Base: base, Requester: requester, Organization: c.Org, Comment: x.comment}
	case lifecycle.NoticeAgentEscalation:
		plan := ""
		if c.OrgID != nil {
			_ = q.GetContext(ctx, &plan, `SELECT plan FROM orgs WHERE id = $1`, *c.OrgID)
		}
		data = templates.AgentEscalationData{Base: base, Requester: requester, Organization: c.Org, Plan: plan,
			Severity: c.Severity, Status: c.Status, Assignee: deref(c.Assignee), Reason: nt.Reason}
	case lifecycle.NoticeSLAWarning, lifecycle.NoticeSLABreach:
		sla := templates.SLA{Target: templates.SLAFirstResponse, Due: nt.At, Severity: c.Severity, Status: c.Status,
			Assignee: deref(c.Assignee), Organization: c.Org}
		if nt.Kind == lifecycle.NoticeSLAWarning {
			data = templates.SLAWarningData{Base: base, SLA: sla}
		} else {
			data = templates.SLABreachData{Base: base, SLA: sla}
		}
	case lifecycle.NoticeCommandResult:
		d := templates.CommandResultData{Base: base}
		for _, r := range out.Commands {
			co := templates.CommandOutcome{Command: r.Command.Line, Detail: r.Detail}
			if r.Applied {
				d.Applied = append(d.Applied, co)
			} else {
				d.Rejected = append(d.Rejected, co)
			}
		}
		if len(d.Applied)+len(d.Rejected) == 0 {
			return nil
		}
		data = d
	case lifecycle.NoticeHeldForReview:
		return nil // ingest tells agents itself, with the sender and the reason
	default:
		return fmt.Errorf("lifecycle notice %q has no template", nt.Kind)
	}
	_, err = n.Notify(ctx, q, Notice{Data: data, To: to, CaseID: c.ID, InReplyTo: x.inReplyTo, Now: x.now})
	return err
}

func deTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// audience resolves who a notice goes to; ok is false when nobody is configured.
func audience(ctx context.Context, q Queryer, n *Notifier, c *Case, submitter *User, a lifecycle.Audience, x effects) (Recipient, bool, error) {
	byAddress := func(addr string) (Recipient, bool, error) {
		if addr == "" {
			return Recipient{}, false, nil
		}
		u, err := UserByAddress(ctx, q, addr)
		if err == nil {
			return UserRecipient(u), true, nil
		}
		if !errors.Is(err, ErrNotFound) {
			return Recipient{}, false, err
		}
		return Recipient{Email: addr, Staff: true}, true, nil
	}
	switch a {
	case lifecycle.ToSubmitter:
		return UserRecipient(submitter), true, nil
	case lifecycle.ToSender:
		if x.actor == nil {
			return Recipient{}, false, nil
		}
		return UserRecipient(x.actor), true, nil
	case lifecycle.ToManager:
		return byAddress(n.cfg.ManagerAddress)
	default: // agents: the assignee, else the agent address
		if c.AssigneeID != nil {
			u, err := UserByID(ctx, q, *c.AssigneeID)
			if err != nil {
				return Recipient{}, false, err
			}
			return UserRecipient(u), true, nil
		}
		return byAddress(n.cfg.AgentAddress)
	}
}

// caseLabel is "#N" for messages.
func caseLabel(id int64) string { return "#" + strconv.FormatInt(id, 10) }
