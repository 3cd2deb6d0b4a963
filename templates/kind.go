package templates

// Kind names one notification. Its value is also the file name stem of the
// notification's templates (<locale>/<kind>.{subject,txt,html}.tmpl).
type Kind string

// Notifications to the submitter (or, for refusals, to the sender).
const (
	CaseReceived       Kind = "case_received"       // acknowledgement: case number, how to reply, first-response target
	CommentAdded       Kind = "comment_added"       // a public comment from support
	StatusChanged      Kind = "status_changed"      // pending, on hold, solved, closed, reopened
	FollowUpOpened     Kind = "follow_up_opened"    // a reply to a closed case opened a new, linked case
	PendingReminder    Kind = "pending_reminder"    // still waiting for the requester
	AutoSolved         Kind = "auto_solved"         // solved after no response
	EscalationReceived Kind = "escalation_received" // the escalation request was accepted
	EscalationRefused  Kind = "escalation_refused"  // the escalation request was refused, and why
	Refusal            Kind = "refusal"             // the sender may not open cases
	TooLarge           Kind = "too_large"           // the message exceeded the size limit
	Survey             Kind = "survey"              // satisfaction survey after solve
	Merged             Kind = "merged"              // the case was merged into another
	// CustomerCommandResult: #commands of the customer's mail were refused, and why.
	CustomerCommandResult Kind = "customer_command_result"
	// CaseList answers a "my cases" request with the sender's cases.
	CaseList Kind = "case_list"
	// PlanInfo answers a "#plan" request with what the sender's support plan includes.
	PlanInfo Kind = "plan_info"
)

// Notifications to agents (the assignee, the agent address, or the duty manager).
const (
	AgentNewCase         Kind = "agent_new_case"
	AgentCustomerReplied Kind = "agent_customer_replied"
	AgentReopened        Kind = "agent_reopened"
	AgentEscalation      Kind = "agent_escalation"
	SLAWarning           Kind = "sla_warning"
	SLABreach            Kind = "sla_breach"
	CommandResult        Kind = "command_result"   // the #commands of an agent's reply: applied and rejected
	HeldForReview        Kind = "held_for_review"  // a sender not allowed on a case wrote into it
	BounceRecorded       Kind = "bounce_recorded"  // an address bounced permanently and is suppressed
	SenderThrottled      Kind = "sender_throttled" // one sender opened too many cases: further mail is stored, once a digest
)

// Notifications to the operator (HELPDESK_OPERATOR_ADDRESS).
const (
	IntakeAlarm Kind = "intake_alarm" // a mailbox cannot be polled or the outbox is stuck; or it recovered
)

// kindSpec is what the package knows about one kind besides its templates.
type kindSpec struct {
	kind Kind
	// agents: the notification goes to agents, not to a customer.
	agents bool
	// caseOptional: the notification may concern no case (CaseID 0).
	caseOptional bool
	// samples returns sample data; the first is Sample(kind), the others
	// take the templates' other branches so New executes them too.
	samples func() []variant
}

type variant struct {
	name string // "" for the primary sample
	data Data
}

// specs lists every kind, in the order Kinds returns them. Read-only.
var specs = [...]kindSpec{
	{kind: CaseReceived, samples: caseReceivedSamples},
	{kind: CommentAdded, samples: commentAddedSamples},
	{kind: StatusChanged, samples: statusChangedSamples},
	{kind: FollowUpOpened, samples: followUpOpenedSamples},
	{kind: PendingReminder, samples: pendingReminderSamples},
	{kind: AutoSolved, samples: autoSolvedSamples},
	{kind: EscalationReceived, samples: escalationReceivedSamples},
	{kind: EscalationRefused, samples: escalationRefusedSamples},
	{kind: Refusal, caseOptional: true, samples: refusalSamples},
	{kind: TooLarge, caseOptional: true, samples: tooLargeSamples},
	{kind: Survey, samples: surveySamples},
	{kind: Merged, samples: mergedSamples},
	{kind: CustomerCommandResult, samples: customerCommandResultSamples},
	{kind: CaseList, caseOptional: true, samples: caseListSamples},
	{kind: PlanInfo, caseOptional: true, samples: planInfoSamples},
	{kind: DiagnosticsRequest, samples: diagnosticsRequestSamples},
	{kind: ConsentRequest, samples: consentRequestSamples},
	{kind: AgentNewCase, agents: true, samples: agentNewCaseSamples},
	{kind: AgentCustomerReplied, agents: true, samples: agentCustomerRepliedSamples},
	{kind: AgentReopened, agents: true, samples: agentReopenedSamples},
	{kind: AgentEscalation, agents: true, samples: agentEscalationSamples},
	{kind: SLAWarning, agents: true, samples: slaWarningSamples},
	{kind: SLABreach, agents: true, samples: slaBreachSamples},
	{kind: CommandResult, agents: true, samples: commandResultSamples},
	{kind: HeldForReview, agents: true, samples: heldForReviewSamples},
	{kind: BounceRecorded, agents: true, caseOptional: true, samples: bounceRecordedSamples},
	{kind: SenderThrottled, agents: true, caseOptional: true, samples: senderThrottledSamples},
	{kind: IntakeAlarm, agents: true, caseOptional: true, samples: intakeAlarmSamples},
}

func lookup(k Kind) (kindSpec, bool) {
	for _, s := range specs {
		if s.kind == k {
			return s, true
		}
	}
	return kindSpec{}, false
}

// Kinds returns every notification kind, customer-facing first.
func Kinds() []Kind {
	ks := make([]Kind, len(specs))
	for i, s := range specs {
		ks[i] = s.kind
	}
	return ks
}

// ToAgents reports whether the notification goes to agents (and explains the
// #commands) rather than to a customer. It is false for unknown kinds.
func (k Kind) ToAgents() bool {
	s, _ := lookup(k)
	return s.agents
}

// Sample returns a complete example of the kind's data (every optional field
// set), or nil for an unknown kind. Its times are fixed and in UTC.
func Sample(k Kind) Data {
	s, ok := lookup(k)
	if !ok {
		return nil
	}
	return s.samples()[0].data
}
