package lifecycle

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// EventKind says who wrote a mail into a case and how it counts.
type EventKind string

const (
	// CustomerReply: the requester or another customer allowed on the case
	// (contact, reseller, participant).
	CustomerReply EventKind = "customer_reply"
	// AgentReply: an agent's or manager's (authenticated) mail; a public
	// comment unless it says #internal.
	AgentReply EventKind = "agent_reply"
	// AgentNote: an agent's internal comment, never sent to customers.
	AgentNote EventKind = "agent_note"
	// Automated: an auto-reply or list mail that threads to the case.
	Automated EventKind = "automated"
	// Bounce: a delivery status notification about the case's mail.
	Bounce EventKind = "bounce"
	// Held: mail from a sender not allowed on the case, kept for review.
	Held EventKind = "held"
)

// EventKinds lists every event kind.
func EventKinds() []EventKind {
	return []EventKind{CustomerReply, AgentReply, AgentNote, Automated, Bounce, Held}
}

// Event is one mail (or note) on a case.
type Event struct {
	Kind EventKind
	// Text is the new text without quotes and without the command lines
	// (ParseCommands' rest).
	Text        string
	Attachments int
	Commands    []Command
	// Sender is the login email of who wrote it; "#assign me" assigns to it.
	Sender string
}

// hasContent: the mail says something besides its commands.
func (e Event) hasContent() bool { return strings.TrimSpace(e.Text) != "" || e.Attachments > 0 }

// Visibility is how the mail's text is kept as a comment.
type Visibility string

const (
	NoComment       Visibility = ""         // nothing to keep (automated mail, commands only)
	PublicComment   Visibility = "public"   // visible to the customers of the case
	InternalComment Visibility = "internal" // agents only
	HeldComment     Visibility = "held"     // kept for review, not on the case's conversation
)

// Audience is who a notice goes to.
type Audience string

const (
	ToSubmitter Audience = "submitter" // the case's submitter, at their login email
	ToAgents    Audience = "agents"    // the assignee, or the agent address
	ToManager   Audience = "manager"   // the duty manager
	ToSender    Audience = "sender"    // the agent who sent the mail (command results)
)

// Notice names one notification to render. Kind is a templates.Kind value.
type Notice struct {
	Kind string
	To   Audience
	// Reason: escalation_refused, the Refusal; escalation_received and
	// agent_escalation, the customer's reason.
	Reason string
	// At: status_changed to solved and auto_solved, until when a reply
	// reopens; pending_reminder, when the case will be solved without an
	// answer (zero when that is past); sla_warning and sla_breach, the due time.
	At time.Time
}

// Notification kinds (templates.Kind values).
const (
	NoticeCaseReceived         = "case_received"
	NoticeCommentAdded         = "comment_added"
	NoticeStatusChanged        = "status_changed"
	NoticeFollowUpOpened       = "follow_up_opened"
	NoticePendingReminder      = "pending_reminder"
	NoticeAutoSolved           = "auto_solved"
	NoticeEscalationReceived   = "escalation_received"
	NoticeEscalationRefused    = "escalation_refused"
	NoticeMerged               = "merged"
	NoticeAgentNewCase         = "agent_new_case"
	NoticeAgentCustomerReplied = "agent_customer_replied"
	NoticeAgentReopened        = "agent_reopened"
	NoticeAgentEscalation      = "agent_escalation"
	NoticeSLAWarning           = "sla_warning"
	NoticeSLABreach            = "sla_breach"
	NoticeCommandResult        = "command_result"
	// NoticeCustomerCommandResult tells a customer why a command of theirs
	// was refused.
	NoticeCustomerCommandResult = "customer_command_result"
	NoticeHeldForReview         = "held_for_review"
)

// AuditEntry is one case_events row: Kind is a case_events kind ("status",
// "severity", "assignee", "merged", "escalated", "reminder", "sla_warning",
// "sla_breach", "held", "survey").
type AuditEntry struct {
	Kind     string
	From, To string
	Reason   string
}

// CommandResult is what became of one command; Detail says what it did or
// why it was rejected (templates.CommandOutcome).
type CommandResult struct {
	Command Command
	Applied bool
	Detail  string
	// Code and Value say the same for a customer (customers' commands
	// only): what was done or why not; Value is the new severity for
	// CodeSeveritySet and CodeSeveritySame, the plan for CodePlanSeverity,
	// the argument as written for CodeBadSeverity.
	Code  CommandCode
	Value string
}

// CommandCode says what became of a customer's command; the values are
// those of templates.CustomerCommandCode.
type CommandCode string

const (
	CodeSolved        CommandCode = "solved"
	CodeAlreadySolved CommandCode = "already_solved"
	CodeSeveritySet   CommandCode = "severity_set"
	CodeSeveritySame  CommandCode = "severity_same"
	CodeAgentsOnly    CommandCode = "agents_only"
	CodeOnePerMail    CommandCode = "one_per_mail"
	CodeBadSeverity   CommandCode = "bad_severity"
	CodePlanSeverity  CommandCode = "plan_severity"
	CodeCaseClosed    CommandCode = "case_closed"
	CodeCaseSolved    CommandCode = "case_solved"
	CodeNotSolved     CommandCode = "not_solved"
	CodeBadRating     CommandCode = "bad_rating"
)

// Outcome is everything an event or a timer does to a case.
type Outcome struct {
	// Case is the case afterwards; the caller writes back what differs.
	Case Case
	// Comment is how to keep the mail's text. With FollowUp it belongs to
	// the new case.
	Comment Visibility
	// FollowUp: open a new case linked by follow_up_of to this one, for the
	// mail; Notices then concern the new case.
	FollowUp bool
	// Reason says in one line what was decided and why.
	Reason   string
	Audit    []AuditEntry
	Notices  []Notice
	Commands []CommandResult // one per Event.Commands entry, in order
	// Assign is the login email the case is to be assigned to ("" no
	// change); the caller resolves it and may still reject it.
	Assign string
	// MergeInto is the case this one is merged into (0 no merge); the
	// caller checks it exists and may still reject it.
	MergeInto int64
}

// NewCase returns the state of a case opened at now.
func NewCase(sev Severity, plan string, now time.Time, p Policy) Case {
	if !sev.Valid() {
		sev = S3
	}
	return Case{Status: Open, Severity: sev, Plan: plan, CreatedAt: now,
		FirstResponseDue: FirstResponseDue(sev, now, p.SLA)}
}

// Opened is what opening case c decides: the submitter's acknowledgement
// and the agents' notice.
func Opened(c Case) Outcome {
	return Outcome{Case: c, Comment: PublicComment, Reason: "new case", Notices: []Notice{
		{Kind: NoticeCaseReceived, To: ToSubmitter}, {Kind: NoticeAgentNewCase, To: ToAgents}}}
}

// ReopenUntil returns until when a reply reopens the solved case c (zero
// when c is not solved): the window is [SolvedAt, SolvedAt+ReopenWindow).
func ReopenUntil(c Case, p Policy) time.Time {
	if c.Status != Solved || c.SolvedAt.IsZero() {
		return time.Time{}
	}
	return c.SolvedAt.Add(p.ReopenWindow)
}

// expired: c is solved and its reopen window has passed, so it counts as closed.
func expired(c Case, p Policy, now time.Time) bool {
	u := ReopenUntil(c, p)
	return !u.IsZero() && !now.Before(u)
}

// Apply decides what ev does to c at now (DESIGN.md section 5):
//
//   - CustomerReply with text or attachments: pending, on_hold → open; solved
//     → open with a "reopened" notice, unless it is only a thank-you
//     (Policy.ThankYouKeepsSolved); closed, or solved for the reopen window or
//     longer → a follow-up case (a thank-you is only recorded). On a solved
//     or closed case a mail with a #rating is a survey answer and changes no
//     status; a mail with nothing but commands changes no status either.
//     #escalate and #severity are judged after the reply's own effect (a
//     reply that reopens can escalate).
//   - Customers' #solve and #close solve an open, pending or on-hold case
//     ("solved by customer"; the text is kept and never reopens);
//     #severity lowers freely and raises within the plan
//     (AllowedSeverity); agents are told by their notice. Agents' commands
//     are refused. A refused command (but #escalate, which has its own
//     answer) is answered with NoticeCustomerCommandResult to the sender.
//   - AgentReply with text or attachments and without #internal: a public
//     comment relayed to the submitter (first response if none yet); open →
//     pending unless a command sets the status; pending restarts the reminder
//     clock. AgentNote and #internal: an internal comment. Agents' commands
//     apply in both; on a closed case only #internal does.
//   - Automated, Bounce and Held never change the case; Held mail is held for
//     review. Their commands are rejected.
func Apply(c Case, ev Event, p Policy, now time.Time) Outcome {
	o := &Outcome{Case: c}
	for _, cmd := range ev.Commands {
		o.Commands = append(o.Commands, CommandResult{Command: cmd})
	}
	switch ev.Kind {
	case CustomerReply:
		applyCustomer(o, c, ev, p, now)
	case AgentReply, AgentNote:
		applyAgent(o, c, ev, p, now)
	case Automated, Bounce:
		o.Reason = "automated mail never changes a case or notifies"
		o.rejectAll("automated mail cannot run commands")
	case Held:
		o.Comment = HeldComment
		o.Reason = "sender not allowed on the case: held for review"
		o.Audit = append(o.Audit, AuditEntry{Kind: "held", Reason: "sender not allowed on the case"})
		o.Notices = append(o.Notices, Notice{Kind: NoticeHeldForReview, To: ToAgents})
		o.rejectAll("held mail cannot run commands")
	default:
		o.Reason = fmt.Sprintf("unknown event kind %q: case unchanged", ev.Kind)
		o.rejectAll("unknown event kind")
	}
	return *o
}

func (o *Outcome) rejectAll(why string) {
	for i := range o.Commands {
		o.Commands[i].Applied, o.Commands[i].Detail = false, why
	}
}

func (o *Outcome) apply(i int, detail string) {
	o.Commands[i].Applied, o.Commands[i].Detail = true, detail
}

func (o *Outcome) reject(i int, why string) {
	o.Commands[i].Applied, o.Commands[i].Detail = false, why
}

// refuse rejects a customer's command, saying why for the customer too.
func (o *Outcome) refuse(i int, why string, code CommandCode, value string) {
	o.reject(i, why)
	o.Commands[i].Code, o.Commands[i].Value = code, value
}

// setStatus moves o.Case to status to, keeping the timestamps consistent, and
// records the change; it reports whether the status changed.
func (o *Outcome) setStatus(to Status, reason string, now time.Time) bool {
	c := &o.Case
	from := c.Status
	if to == from {
		return false
	}
	if from == Pending {
		c.PendingSince, c.RemindersSent = time.Time{}, 0
	}
	switch to {
	case Pending:
		c.PendingSince, c.RemindersSent = now, 0
	case Solved:
		c.SolvedAt, c.SolvedReason = now, ""
	case Closed:
		c.ClosedAt = now
		if c.SolvedAt.IsZero() {
			c.SolvedAt = now
		}
	default: // open, on_hold: no longer solved
		c.SolvedAt, c.SolvedReason = time.Time{}, ""
	}
	c.Status = to
	o.Audit = append(o.Audit, AuditEntry{Kind: "status", From: string(from), To: string(to), Reason: reason})
	return true
}

// ReasonSolvedByCustomer is the solved reason (and audit reason) of a case
// the customer solved with #solve or #close.
const ReasonSolvedByCustomer = "solved by customer"

// customerCommands holds the index in Event.Commands of each customer
// command of a mail (-1: none).
type customerCommands struct{ escalate, rating, solve, severity, consent int }

func applyCustomer(o *Outcome, c Case, ev Event, p Policy, now time.Time) {
	cc := customerCommands{-1, -1, -1, -1, -1}
	for i, cmd := range ev.Commands {
		var slot *int
		switch cmd.Name {
		case CmdEscalate:
			slot = &cc.escalate
		case CmdRating:
			slot = &cc.rating
		case CmdSolve, CmdClose:
			slot = &cc.solve
		case CmdSeverity:
			slot = &cc.severity
		case CmdApprove, CmdDeny:
			slot = &cc.consent // diagnostics.go
		default:
			o.refuse(i, "only agents may use #"+cmd.Name, CodeAgentsOnly, "")
			continue
		}
		if *slot >= 0 {
			o.refuse(i, "only one #"+cmd.Name+" per mail", CodeOnePerMail, "")
			continue
		}
		*slot = i
	}
	if expired(c, p, now) {
		o.setStatus(Closed, "reopen window of "+days(p.ReopenWindow)+" elapsed", now)
	}
	thanks := p.ThankYouKeepsSolved && ev.Attachments == 0 && IsThankYou(ev.Text)
	st := o.Case.Status
	rating, solve := cc.rating, cc.solve
	if rating >= 0 && st != Solved && st != Closed {
		o.refuse(rating, "case is not solved", CodeNotSolved, "")
		rating = -1 // the mail counts as a reply
	}
	switch {
	case solve >= 0 && st == Closed:
		o.refuse(solve, "case is closed", CodeCaseClosed, "")
		solve = -1
	case solve >= 0 && rating >= 0: // a survey answer on a solved case
		o.apply(solve, "case is already solved")
		o.Commands[solve].Code = CodeAlreadySolved
		solve = -1
	}
	switch {
	case rating >= 0:
		answerSurvey(o, rating, ev)
	case solve >= 0:
		solveByCustomer(o, solve, ev, p, now)
	case !ev.hasContent():
		o.Reason = "no text besides commands: status unchanged"
	case st == Closed && thanks:
		o.Comment = PublicComment
		o.Reason = "thank-you reply to a closed case: recorded, no follow-up case"
	case st == Closed:
		o.Comment, o.FollowUp = PublicComment, true
		o.Reason = fmt.Sprintf("reply to a case closed or solved for %s or longer: new follow-up case", days(p.ReopenWindow))
		o.Notices = append(o.Notices, Notice{Kind: NoticeFollowUpOpened, To: ToSubmitter},
			Notice{Kind: NoticeAgentNewCase, To: ToAgents})
	case st == Solved && thanks:
		o.Comment = PublicComment
		o.Reason = "thank-you reply to a solved case: stays solved"
	case st == Solved:
		o.Comment = PublicComment
		o.setStatus(Open, "reopened by a customer's reply", now)
		o.Reason = "customer replied to a solved case: reopened"
		o.Notices = append(o.Notices, Notice{Kind: NoticeStatusChanged, To: ToSubmitter},
			Notice{Kind: NoticeAgentReopened, To: ToAgents})
	default: // open, pending, on_hold
		o.Comment = PublicComment
		if o.setStatus(Open, "customer replied", now) {
			o.Reason = fmt.Sprintf("customer replied: %s → open", st)
		} else {
			o.Reason = "customer replied"
		}
		o.Notices = append(o.Notices, Notice{Kind: NoticeAgentCustomerReplied, To: ToAgents})
	}
	if cc.severity >= 0 {
		severityByCustomer(o, c, ev, cc.severity, p, st)
	}
	if cc.consent >= 0 {
		answerConsent(o, ev, cc.consent)
	}
	if escalate := cc.escalate; escalate >= 0 {
		arg := ev.Commands[escalate].Arg
		if ok, why := CanEscalate(o.Case); ok {
			o.apply(escalate, "escalated to the duty manager")
			o.Audit = append(o.Audit, AuditEntry{Kind: "escalated", Reason: arg})
			o.Notices = append(o.Notices, Notice{Kind: NoticeEscalationReceived, To: ToSubmitter, Reason: arg},
				Notice{Kind: NoticeAgentEscalation, To: ToManager, Reason: arg})
		} else {
			o.reject(escalate, string(why))
			o.Notices = append(o.Notices, Notice{Kind: NoticeEscalationRefused, To: ToSubmitter, Reason: string(why)})
		}
	}
	// A refused command is answered (an escalation has its own answer).
	for i, r := range o.Commands {
		if !r.Applied && i != cc.escalate {
			o.Notices = append(o.Notices, Notice{Kind: NoticeCustomerCommandResult, To: ToSender})
			break
		}
	}
}

// solveByCustomer: "#solve" or "#close" from a customer on an open, pending
// or on-hold case solves it, "solved by customer"; the mail's text is kept
// and never reopens. On a solved case it is a no-op.
func solveByCustomer(o *Outcome, i int, ev Event, p Policy, now time.Time) {
	if ev.hasContent() {
		o.Comment = PublicComment
	}
	from := o.Case.Status
	if from == Solved {
		o.apply(i, "case is already solved")
		o.Commands[i].Code = CodeAlreadySolved
		o.Reason = "customer command " + ev.Commands[i].Line + ": already solved"
		return
	}
	reason := ReasonSolvedByCustomer
	if arg := ev.Commands[i].Arg; arg != "" {
		reason += ": " + arg
	}
	o.setStatus(Solved, reason, now)
	o.Case.SolvedReason = ReasonSolvedByCustomer
	o.apply(i, ReasonSolvedByCustomer)
	o.Commands[i].Code = CodeSolved
	o.Reason = fmt.Sprintf("customer command %s: %s → solved (%s)", ev.Commands[i].Line, from, ReasonSolvedByCustomer)
	o.Notices = append(o.Notices, Notice{Kind: NoticeStatusChanged, To: ToSubmitter, At: ReopenUntil(o.Case, p)},
		Notice{Kind: NoticeAgentCustomerReplied, To: ToAgents, Reason: ReasonSolvedByCustomer})
}

// severityByCustomer: "#severity Sn" from a customer, judged after the
// mail's own effect (before is the status the mail found). Lowering is
// always allowed; raising up to what the plan allows (AllowedSeverity). Not
// on a solved or closed case (a reply with text reopens a solved one
// first). The agents are told.
func severityByCustomer(o *Outcome, c Case, ev Event, i int, p Policy, before Status) {
	cmd := ev.Commands[i]
	s := Severity(strings.ToUpper(cmd.Arg))
	cur := o.Case.Severity
	switch {
	case !s.Valid():
		o.refuse(i, fmt.Sprintf("unknown severity %q (want S1, S2, S3 or S4)", cmd.Arg), CodeBadSeverity, cmd.Arg)
		return
	case o.FollowUp || o.Case.Status == Closed:
		o.refuse(i, "case is closed", CodeCaseClosed, "")
		return
	case o.Case.Status == Solved && before == Solved: // one this mail solves may still change
		o.refuse(i, "case is solved", CodeCaseSolved, "")
		return
	case s == cur:
		o.apply(i, "severity is already "+string(s))
		o.Commands[i].Code, o.Commands[i].Value = CodeSeveritySame, string(s)
		return
	case s < cur && AllowedSeverity(s, c.Plan) != s: // "S1" < "S2": more urgent
		o.refuse(i, "plan "+planName(c.Plan)+" does not include "+string(s), CodePlanSeverity, planName(c.Plan))
		return
	}
	o.apply(i, "severity "+string(cur)+" → "+string(s)+" (by customer)")
	o.Commands[i].Code, o.Commands[i].Value = CodeSeveritySet, string(s)
	o.Case.Severity = s
	o.Audit = append(o.Audit, AuditEntry{Kind: "severity", From: string(cur), To: string(s), Reason: cmd.Line + " (by customer)"})
	if c.FirstResponseAt.IsZero() && !c.CreatedAt.IsZero() {
		o.Case.FirstResponseDue = FirstResponseDue(s, c.CreatedAt, p.SLA)
	}
	if o.Reason == "no text besides commands: status unchanged" {
		o.Reason = "customer command " + cmd.Line + ": severity " + string(cur) + " → " + string(s)
	}
	for _, n := range o.Notices {
		if n.To == ToAgents {
			return // their notice shows the new severity
		}
	}
	o.Notices = append(o.Notices, Notice{Kind: NoticeAgentCustomerReplied, To: ToAgents})
}

// answerSurvey records "#rating good|bad [comment]" on a solved or closed
// case; the mail's text is the rating's comment too, and never reopens.
func answerSurvey(o *Outcome, i int, ev Event) {
	if ev.hasContent() {
		o.Comment = PublicComment
	}
	o.Reason = "survey answer: status unchanged"
	word, comment, _ := strings.Cut(ev.Commands[i].Arg, " ")
	switch word = strings.ToLower(word); word {
	case "good", "bad":
		o.apply(i, "rated "+word)
		o.Audit = append(o.Audit, AuditEntry{Kind: "survey", To: word, Reason: strings.TrimSpace(comment)})
	default:
		o.refuse(i, "want #rating good or #rating bad", CodeBadRating, "")
	}
}

func applyAgent(o *Outcome, c Case, ev Event, p Policy, now time.Time) {
	internal := ev.Kind == AgentNote
	// The last command of each kind wins; earlier ones are reported overridden.
	statusAt, sevAt, assignAt, mergeAt, diagAt, consentAt := -1, -1, -1, -1, -1, -1
	var status Status
	var sev Severity
	override := func(prev *int, i int, name string) {
		if *prev >= 0 {
			o.reject(*prev, "overridden by a later #"+name)
		}
		*prev = i
	}
	for i, cmd := range ev.Commands {
		if cmd.Name == CmdInternal {
			if cmd.Arg != "" {
				o.reject(i, "#internal takes no argument")
				continue
			}
			internal = true
			o.apply(i, "the comment is internal")
			continue
		}
		if cmd.Name == CmdEscalate || cmd.Name == CmdRating || cmd.Name == CmdApprove || cmd.Name == CmdDeny {
			o.reject(i, "only customers may use #"+cmd.Name)
			continue
		}
		if c.Status == Closed {
			o.reject(i, "case is closed")
			continue
		}
		switch cmd.Name {
		case CmdStatus, CmdSolve, CmdClose, CmdPending, CmdHold:
			to, err := statusArg(cmd)
			if err != nil {
				o.reject(i, err.Error())
				continue
			}
			override(&statusAt, i, "status")
			status = to
		case CmdSeverity:
			s := Severity(strings.ToUpper(cmd.Arg))
			if !s.Valid() {
				o.reject(i, fmt.Sprintf("unknown severity %q (want S1, S2, S3 or S4)", cmd.Arg))
				continue
			}
			override(&sevAt, i, "severity")
			sev = s
		case CmdAssign:
			who, err := assignArg(cmd.Arg, ev.Sender)
			if err != nil {
				o.reject(i, err.Error())
				continue
			}
			override(&assignAt, i, "assign")
			o.Assign = who
		case CmdDiagnostics: // diagnostics.go
			override(&diagAt, i, "diagnostics")
		case CmdConsent:
			override(&consentAt, i, "consent")
		case CmdMerge:
			n, err := strconv.ParseInt(cmd.Arg, 10, 64)
			if s, ok := strings.CutPrefix(cmd.Arg, "#"); err != nil && ok {
				n, err = strconv.ParseInt(s, 10, 64)
			}
			switch {
			case err != nil || n <= 0:
				o.reject(i, fmt.Sprintf("want #merge N with a case number, not %q", cmd.Arg))
				continue
			case n == c.ID:
				o.reject(i, "cannot merge a case into itself")
				continue
			}
			override(&mergeAt, i, "merge")
			o.MergeInto = n
		}
	}
	if sevAt >= 0 {
		if sev == c.Severity {
			o.apply(sevAt, "severity is already "+string(sev))
		} else {
			o.apply(sevAt, "severity "+string(c.Severity)+" → "+string(sev))
			o.Case.Severity = sev
			o.Audit = append(o.Audit, AuditEntry{Kind: "severity", From: string(c.Severity), To: string(sev), Reason: ev.Commands[sevAt].Line})
			if c.FirstResponseAt.IsZero() && !c.CreatedAt.IsZero() {
				o.Case.FirstResponseDue = FirstResponseDue(sev, c.CreatedAt, p.SLA)
			}
		}
	}
	if assignAt >= 0 {
		o.apply(assignAt, "assigned to "+o.Assign)
		o.Audit = append(o.Audit, AuditEntry{Kind: "assignee", To: o.Assign, Reason: ev.Commands[assignAt].Line})
	}

	public := ev.hasContent() && !internal
	switch {
	case public:
		o.Comment = PublicComment
		if o.Case.FirstResponseAt.IsZero() {
			o.Case.FirstResponseAt = now
		}
	case ev.hasContent():
		o.Comment = InternalComment
	}

	if diagAt >= 0 && statusAt < 0 { // #diagnostics waits on the requester, like #pending
		statusAt, status = diagAt, Pending
	}
	changed := false
	switch {
	case mergeAt >= 0:
		if statusAt >= 0 {
			o.reject(statusAt, "#merge solves the case")
		}
		reason := fmt.Sprintf("merged into #%d", o.MergeInto)
		o.apply(mergeAt, reason)
		o.Audit = append(o.Audit, AuditEntry{Kind: "merged", To: "#" + strconv.FormatInt(o.MergeInto, 10), Reason: ev.Commands[mergeAt].Line})
		o.setStatus(Solved, reason, now)
		o.Case.SolvedReason = reason
		o.Notices = append(o.Notices, Notice{Kind: NoticeMerged, To: ToSubmitter})
		o.Reason = reason
	case statusAt >= 0:
		line := ev.Commands[statusAt].Line
		if changed = o.setStatus(status, line, now); changed {
			o.apply(statusAt, fmt.Sprintf("status %s → %s", c.Status, status))
			o.Reason = fmt.Sprintf("agent command %s: %s → %s", line, c.Status, status)
		} else {
			o.apply(statusAt, "status is already "+string(status))
			o.Reason = "agent command " + line + ": status unchanged"
		}
	case public && c.Status == Open:
		changed = o.setStatus(Pending, "agent replied", now)
		o.Reason = "agent replied: open → pending"
	case public:
		o.Reason = "agent replied: status stays " + string(c.Status)
	case ev.hasContent():
		o.Reason = "internal comment: status unchanged"
	default:
		o.Reason = "no comment: status unchanged"
	}
	if public && c.Status == Pending && o.Case.Status == Pending {
		// The requester has something new to answer: remind from now on.
		o.Case.PendingSince, o.Case.RemindersSent = now, 0
	}

	if public {
		o.Notices = append(o.Notices, Notice{Kind: NoticeCommentAdded, To: ToSubmitter})
	} else if changed {
		n := Notice{Kind: NoticeStatusChanged, To: ToSubmitter}
		if o.Case.Status == Solved {
			n.At = ReopenUntil(o.Case, p)
		}
		o.Notices = append(o.Notices, n)
	}
	if diagAt >= 0 {
		requestDiagnostics(o, ev, diagAt, now)
	}
	if consentAt >= 0 {
		requestConsent(o, ev, consentAt)
	}
	if len(ev.Commands) > 0 {
		o.Notices = append(o.Notices, Notice{Kind: NoticeCommandResult, To: ToSender})
	}
}

// statusArg returns the status a status command sets.
func statusArg(cmd Command) (Status, error) {
	switch cmd.Name {
	case CmdSolve, CmdClose, CmdPending, CmdHold:
		if cmd.Arg != "" {
			return "", fmt.Errorf("#%s takes no argument", cmd.Name)
		}
		return map[string]Status{CmdSolve: Solved, CmdClose: Solved, CmdPending: Pending, CmdHold: OnHold}[cmd.Name], nil
	}
	switch strings.ToLower(cmd.Arg) {
	case "open", "reopen":
		return Open, nil
	case "pending":
		return Pending, nil
	case "on_hold", "on-hold", "onhold", "hold":
		return OnHold, nil
	case "solved", "solve":
		return Solved, nil
	case "closed":
		return "", fmt.Errorf("closed cannot be set: a solved case closes by itself after the reopen window")
	}
	return "", fmt.Errorf("unknown status %q (want open, pending, on_hold or solved)", cmd.Arg)
}

// assignArg returns the login email "#assign ARG" names.
func assignArg(arg, sender string) (string, error) {
	if strings.EqualFold(arg, "me") {
		if sender == "" {
			return "", fmt.Errorf("#assign me: the sender is unknown")
		}
		return strings.ToLower(sender), nil
	}
	arg = strings.Trim(arg, "<>")
	at := strings.IndexByte(arg, '@')
	if at <= 0 || at == len(arg)-1 || strings.Count(arg, "@") != 1 || strings.ContainsAny(arg, " \t<>,;") {
		return "", fmt.Errorf("want #assign EMAIL or #assign me, not %q", arg)
	}
	return strings.ToLower(arg), nil
}

// days formats d as "30 days" when it is whole days.
func days(d time.Duration) string {
	const day = 24 * time.Hour
	switch {
	case d == day:
		return "1 day"
	case d > 0 && d%day == 0:
		return strconv.FormatInt(int64(d/day), 10) + " days"
	}
	return d.String()
}
