package templates

import "time"

// Data is the typed data of one notification: each kind has exactly one data
// type (<Kind>Data), and only this package's types implement Data.
type Data interface {
	Kind() Kind
	base() Base
}

// Base is embedded in every data type.
type Base struct {
	HelpdeskName   string // required: the public name, e.g. "Example Support"
	SupportAddress string // required: e.g. support@example.com
	CaseID         int64  // the case the mail is about; 0 only for refusal, too_large and bounce_recorded
	CaseSubject    string // the case's subject (for refusal and too_large: the refused message's subject)
	RecipientName  string // optional: the greeting has no name without it
}

func (b Base) base() Base { return b }

// Person is a sender or requester as agents see them.
type Person struct {
	Name  string // optional
	Email string
}

// AttachmentInfo describes one attachment of a comment. Attached is false
// when the file was too large to attach: the mail then lists name and size,
// and for agents a download link (URL) or the command an operator runs
// (Fetch); without either, the reader is asked to reply for it.
type AttachmentInfo struct {
	Name        string
	ContentType string
	Size        int64 // bytes
	Attached    bool
	ContentID   string    // optional, when attached inline: the HTML shows it as cid:ContentID
	URL         string    // optional, when not attached: a signed download link
	URLExpires  time.Time // optional: when URL stops working
	Fetch       string    // optional, when not attached and no URL: e.g. "helpdeskd attachments list 1042"
}

// Comment is the text of a comment as relayed in a notification.
type Comment struct {
	Author      string // display name of who wrote it
	Body        string // plain text, line breaks kept
	Attachments []AttachmentInfo
}

// Status values used by the templates (the helpdesk's case statuses):
// "open", "pending", "on_hold", "solved", "closed". Another value is shown as is.

// CaseReceivedData acknowledges a new case to its submitter.
type CaseReceivedData struct {
	Base
	Severity         string    // optional, "S1".."S4"
	FirstResponseDue time.Time // optional: zero leaves the target out
	// SeveritySource says where Severity came from: SeverityFromSubject,
	// SeverityFromBody, SeverityFromHeader; "" the default.
	SeveritySource string
	SeveritySaid   string // optional: what the mail said, e.g. "Priority: high" or "[S2]"
	SeverityAsked  string // optional: what the mail asked for when the plan gave a lower Severity
	Plan           string // optional: the customer's support plan
	// Levels explains S1..S4 with their first-response targets (optional;
	// without it the mail shows neither the levels nor the commands).
	Levels      []SeverityLevel
	CanEscalate bool // the plan includes #escalate
	// Missing is what support needs to start work and the first mail
	// seems to lack (optional; none: no list).
	Missing []DiagnosticItem
}

// SeverityGuide is the part of an acknowledgement that depends on the
// customer's plan alone: the severity levels with their targets and the
// commands that steer a case. The templates render it with memo, once per
// plan.
type SeverityGuide struct {
	Plan        string
	Levels      []SeverityLevel
	CanEscalate bool
}

// Guide returns the plan's part of d.
func (d CaseReceivedData) Guide() SeverityGuide {
	return SeverityGuide{Plan: d.Plan, Levels: d.Levels, CanEscalate: d.CanEscalate}
}

// Where the severity of a new case came from (CaseReceivedData.SeveritySource).
const (
	SeverityFromSubject = "subject" // a "[S2]" tag in the subject
	SeverityFromBody    = "body"    // a "Severity: S2" or "Priority: high" line
	SeverityFromHeader  = "header"  // a priority header of the mail client
)

// SeverityLevel is one severity with its first-response target. The
// templates hold what each level means.
type SeverityLevel struct {
	Severity string // "S1".."S4"
	Clock    string // TargetAroundTheClock, TargetBusinessHours or TargetNextBusinessDay
	Hours    int    // for TargetAroundTheClock and TargetBusinessHours
	// Allowed: the customer's plan lets them choose it (S1 needs advanced
	// or premium).
	Allowed bool
}

// How a first-response target's time runs (SeverityLevel.Clock).
const (
	TargetAroundTheClock  = "around_the_clock"
	TargetBusinessHours   = "business_hours"
	TargetNextBusinessDay = "next_business_day"
)

// CommentAddedData relays a public comment from support to the submitter.
type CommentAddedData struct {
	Base
	Comment
	NewStatus      string // optional: the status the comment set, if it changed
	PreviousAuthor string // optional
	PreviousQuote  string // optional: the previous message, for context; the templates shorten it
}

// StatusChangedData tells the submitter about a status change. To "open"
// reads as "reopened".
type StatusChangedData struct {
	Base
	From, To    string
	Reason      string    // optional: why, for agents and the log; never shown to the customer
	ReopenUntil time.Time // optional, for To "solved": until when a reply reopens the case
	// ByCustomer: the customer's own reply or command made the change
	// (their reply reopened the case, they marked it solved).
	ByCustomer bool
}

// FollowUpOpenedData: a reply to the closed case PreviousCaseID opened CaseID.
type FollowUpOpenedData struct {
	Base
	PreviousCaseID  int64
	PreviousSubject string // optional
}

// PendingReminderData reminds the submitter that support waits for a reply.
type PendingReminderData struct {
	Base
	AutoSolveAt    time.Time // optional: when the case is solved without a reply
	PreviousAuthor string    // optional
	PreviousQuote  string    // optional: the message that is waiting for an answer
}

// AutoSolvedData: the case was solved because the submitter did not reply.
type AutoSolvedData struct {
	Base
	ReopenUntil time.Time // optional
}

// EscalationReceivedData confirms an escalation request to the submitter.
type EscalationReceivedData struct {
	Base
	Reason string // optional: the reason the customer gave
}

// EscalationRefusal says why an escalation request was refused.
type EscalationRefusal string

const (
	EscalationPlanNotEligible EscalationRefusal = "plan_not_eligible"
	EscalationCaseSolved      EscalationRefusal = "case_solved"
	EscalationCaseClosed      EscalationRefusal = "case_closed"
)

// EscalationRefusedData tells the submitter an escalation was refused.
type EscalationRefusedData struct {
	Base
	Why  EscalationRefusal
	Plan string // optional: the customer's support plan, for EscalationPlanNotEligible
}

// RefusalReason says why a sender may not open a case.
type RefusalReason string

const (
	RefusalUnknownSender    RefusalReason = "unknown_sender"     // policy "registered"
	RefusalDomainNotAllowed RefusalReason = "domain_not_allowed" // policy "domain"
	// RefusalNoGrant: a reseller wrote for a customer org that has not
	// granted it access; the mail opened case CaseID under the reseller's
	// own org and the customer was not added.
	RefusalNoGrant RefusalReason = "no_grant"
)

// RefusalData answers a sender who may not open cases. CaseID is usually 0
// and CaseSubject is the refused message's subject.
type RefusalData struct {
	Base
	Reason RefusalReason
	// CustomerOrg is the org that has not granted access (RefusalNoGrant).
	CustomerOrg string
	// OpenedFor is the org the case was opened for when another org of
	// the mail granted access ("" : the reseller's own org).
	OpenedFor string
}

// TooLargeData answers a message over the size limit. CaseID is set when the
// message threaded to a case.
type TooLargeData struct {
	Base
	Size  int64 // optional: the message size in bytes
	Limit int64 // bytes
}

// SurveyData asks the submitter to rate a solved case by replying
// "#rating good" or "#rating bad" (the inbound side must recognise it).
type SurveyData struct {
	Base
}

// MergedData tells the source case's submitter it was merged into TargetCaseID.
type MergedData struct {
	Base
	TargetCaseID  int64
	TargetSubject string // optional
}

// AgentNewCaseData tells agents about a new case.
type AgentNewCaseData struct {
	Base
	Requester        Person
	Organization     string // optional
	Severity         string // optional
	FirstResponseDue time.Time
	Comment
	// FollowsCaseID is set when the mail was a reply to the closed case
	// FollowsCaseID and opened this case as its follow-up (optional).
	FollowsCaseID  int64
	FollowsSubject string // optional: the earlier case's subject
}

// AgentCustomerRepliedData tells agents a customer wrote into a case.
type AgentCustomerRepliedData struct {
	Base
	Requester      Person
	Organization   string // optional
	Status         string // the status after the reply
	Comment               // Author may differ from the requester (a contact, a reseller)
	PreviousAuthor string // optional
	PreviousQuote  string // optional
	// NewAddress is set when the reply came from an address we never mailed,
	// accepted because it carried a valid reply token (optional).
	NewAddress string
	// SolvedByCustomer: the customer's #solve (or #close) solved the case.
	SolvedByCustomer bool
	// SeverityFrom and SeverityTo: the customer's #severity changed it
	// (both empty when it did not).
	SeverityFrom, SeverityTo string
	// Consent: the customer's answer to a consent request, "approved" or
	// "denied" (optional).
	Consent string
}

// AgentReopenedData tells agents a reply reopened a solved case.
type AgentReopenedData struct {
	Base
	Requester    Person
	Organization string // optional
	Comment
	NewAddress string // optional: as in AgentCustomerRepliedData
}

// AgentEscalationData tells the duty manager about an escalation.
type AgentEscalationData struct {
	Base
	Requester    Person
	Organization string // optional
	Plan         string // optional
	Severity     string
	Status       string
	Assignee     string // optional: empty means unassigned
	Reason       string // optional: the reason the customer gave
}

// SLATarget names the target an SLA notice is about.
type SLATarget string

const (
	SLAFirstResponse SLATarget = "first_response"
	SLANextResponse  SLATarget = "next_response"
)

// SLA describes the target of an SLA warning or breach.
type SLA struct {
	Target       SLATarget
	Due          time.Time
	Severity     string
	Status       string
	Assignee     string // optional: empty means unassigned
	Organization string // optional
}

// SLAWarningData: a target is due soon.
type SLAWarningData struct {
	Base
	SLA
}

// SLABreachData: a target was missed.
type SLABreachData struct {
	Base
	SLA
}

// CommandOutcome is one #command of an agent's reply: for an applied command
// what it did, for a rejected one why.
type CommandOutcome struct {
	Command string // as written, e.g. "#assign bob@example.com"
	Detail  string
}

// CommandResultData confirms the #commands of an agent's reply.
type CommandResultData struct {
	Base
	Applied  []CommandOutcome
	Rejected []CommandOutcome
}

// CustomerCommandCode says what became of a customer's #command.
type CustomerCommandCode string

const (
	CustomerSolved        CustomerCommandCode = "solved"         // the case is solved
	CustomerAlreadySolved CustomerCommandCode = "already_solved" // nothing to do
	CustomerSeveritySet   CustomerCommandCode = "severity_set"   // Value: the new severity
	CustomerSeveritySame  CustomerCommandCode = "severity_same"  // Value: the severity
	CustomerAgentsOnly    CustomerCommandCode = "agents_only"    // a command of our support team
	CustomerOnePerMail    CustomerCommandCode = "one_per_mail"   // the command came twice
	CustomerBadSeverity   CustomerCommandCode = "bad_severity"   // Value: what was written
	CustomerPlanSeverity  CustomerCommandCode = "plan_severity"  // Value: the plan; S1 is not part of it
	CustomerCaseClosed    CustomerCommandCode = "case_closed"
	CustomerCaseSolved    CustomerCommandCode = "case_solved"
	CustomerNotSolved     CustomerCommandCode = "not_solved" // #rating on a case that is not solved
	CustomerBadRating     CustomerCommandCode = "bad_rating"
)

// CustomerCommand is one #command of a customer's mail and what became of it.
type CustomerCommand struct {
	Command string // as written, e.g. "#severity S1"
	Code    CustomerCommandCode
	Value   string // optional, by Code
}

// CustomerCommandResultData tells a customer that commands of their mail
// were refused, and why (and what the others did).
type CustomerCommandResultData struct {
	Base
	Applied []CustomerCommand
	Refused []CustomerCommand
}

// HeldForReviewData tells agents a sender not allowed on a case wrote into it
// and the message was kept for review.
type HeldForReviewData struct {
	Base
	Sender         Person
	Reason         string
	MessageSubject string
	MessageID      string // optional: for "helpdeskd why"
	HeldID         int64  // optional: the id `helpdeskd held release|discard` takes
}

// BounceRecordedData tells agents an address bounced permanently and is
// suppressed. CaseID is set when the bounced mail was about a case.
type BounceRecordedData struct {
	Base
	Address         string
	Status          string    // optional: the DSN status, e.g. "5.1.1"
	Diagnostic      string    // optional: the remote server's text
	SuppressedUntil time.Time // optional
}

// SenderThrottledData tells agents that one sender opened Limit cases
// within an hour: their further mail until Until is stored without a case
// or an answer (a mail loop or a flood). One such digest per sender and
// hour. CaseID is 0.
type SenderThrottledData struct {
	Base
	Sender         Person
	Cases          []int64 // the cases the sender opened in the window, oldest first
	Limit          int
	Until          time.Time // when the sender's mail opens cases again
	MessageSubject string    // the first mail held back
	MessageID      string    // optional: for "helpdeskd why"
}

func (SenderThrottledData) Kind() Kind       { return SenderThrottled }
func (CaseReceivedData) Kind() Kind          { return CaseReceived }
func (CommentAddedData) Kind() Kind          { return CommentAdded }
func (StatusChangedData) Kind() Kind         { return StatusChanged }
func (FollowUpOpenedData) Kind() Kind        { return FollowUpOpened }
func (PendingReminderData) Kind() Kind       { return PendingReminder }
func (AutoSolvedData) Kind() Kind            { return AutoSolved }
func (EscalationReceivedData) Kind() Kind    { return EscalationReceived }
func (EscalationRefusedData) Kind() Kind     { return EscalationRefused }
func (RefusalData) Kind() Kind               { return Refusal }
func (TooLargeData) Kind() Kind              { return TooLarge }
func (SurveyData) Kind() Kind                { return Survey }
func (MergedData) Kind() Kind                { return Merged }
func (AgentNewCaseData) Kind() Kind          { return AgentNewCase }
func (AgentCustomerRepliedData) Kind() Kind  { return AgentCustomerReplied }
func (AgentReopenedData) Kind() Kind         { return AgentReopened }
func (AgentEscalationData) Kind() Kind       { return AgentEscalation }
func (SLAWarningData) Kind() Kind            { return SLAWarning }
func (SLABreachData) Kind() Kind             { return SLABreach }
func (CommandResultData) Kind() Kind         { return CommandResult }
func (CustomerCommandResultData) Kind() Kind { return CustomerCommandResult }
func (HeldForReviewData) Kind() Kind         { return HeldForReview }
func (BounceRecordedData) Kind() Kind        { return BounceRecorded }
