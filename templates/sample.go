package templates

import "time"

// sampleTime is the fixed "now" of every sample.
var sampleTime = time.Date(2025, time.March, 4, 14, 30, 0, 0, time.UTC)

func customerBase() Base {
	return Base{
		HelpdeskName:   "Example Support",
		SupportAddress: "support@example.com",
		CaseID:         1042,
		CaseSubject:    "Cannot log in after password reset",
		RecipientName:  "Jane Doe",
	}
}

func agentBase() Base {
	b := customerBase()
	b.RecipientName = "Minji Kim"
	return b
}

var (
	sampleRequester = Person{Name: "Jane Doe", Email: "jane@customer.example"}
	sampleQuote     = "Could you tell us which browser you use,\nand send a screenshot of the error?"
)

func sampleComment() Comment {
	return Comment{
		Author: "Minji Kim",
		Body:   "Thanks for the screenshot.\nThe reset link expired; I sent a new one.\n\nPlease try again & tell us if <it> works.",
		Attachments: []AttachmentInfo{
			{Name: "steps.pdf", ContentType: "application/pdf", Size: 184_320, Attached: true},
			{Name: "session-log.zip", ContentType: "application/zip", Size: 26_214_400, Attached: false},
		},
	}
}

func customerComment() Comment {
	return Comment{
		Author: "Jane Doe",
		Body:   "I still get \"invalid token\" after the reset.\nScreenshot attached.",
		Attachments: []AttachmentInfo{
			{Name: "error.png", ContentType: "image/png", Size: 1_258_291, Attached: true},
		},
	}
}

// sampleLevels are the default first-response targets; S1 needs a plan
// with it when allowS1 is false.
func sampleLevels(allowS1 bool) []SeverityLevel {
	return []SeverityLevel{
		{Severity: "S1", Clock: TargetAroundTheClock, Hours: 2, Allowed: allowS1},
		{Severity: "S2", Clock: TargetBusinessHours, Hours: 4, Allowed: true},
		{Severity: "S3", Clock: TargetBusinessHours, Hours: 8, Allowed: true},
		{Severity: "S4", Clock: TargetNextBusinessDay, Allowed: true},
	}
}

func caseReceivedSamples() []variant {
	return []variant{
		{"", CaseReceivedData{Base: customerBase(), Severity: "S3", FirstResponseDue: sampleTime.Add(8 * time.Hour),
			SeveritySource: SeverityFromBody, SeveritySaid: "Priority: normal", Plan: "premium", Levels: sampleLevels(true), CanEscalate: true,
			Missing: []DiagnosticItem{DiagnosticTimeWindow, DiagnosticVersion, DiagnosticSteps, DiagnosticFiles}}},
		{"missing_all", CaseReceivedData{Base: customerBase(), Severity: "S3", FirstResponseDue: sampleTime.Add(8 * time.Hour),
			Missing: []DiagnosticItem{DiagnosticTimeWindow, DiagnosticVersion, DiagnosticError, DiagnosticSteps, DiagnosticImpact, DiagnosticFiles}}},
		{"no_target", CaseReceivedData{Base: customerBase()}},
		{"default", CaseReceivedData{Base: customerBase(), Severity: "S3", FirstResponseDue: sampleTime.Add(8 * time.Hour),
			Plan: "basic", Levels: sampleLevels(false)}},
		{"subject_tag", CaseReceivedData{Base: customerBase(), Severity: "S4", FirstResponseDue: sampleTime.Add(27 * time.Hour),
			SeveritySource: SeverityFromSubject, SeveritySaid: "[S4]", Plan: "advanced", Levels: sampleLevels(true), CanEscalate: true}},
		{"s1_lowered", CaseReceivedData{Base: customerBase(), Severity: "S2", FirstResponseDue: sampleTime.Add(4 * time.Hour),
			SeveritySource: SeverityFromSubject, SeveritySaid: "[S1]", SeverityAsked: "S1", Plan: "basic", Levels: sampleLevels(false)}},
		{"header", CaseReceivedData{Base: customerBase(), Severity: "S2", FirstResponseDue: sampleTime.Add(4 * time.Hour),
			SeveritySource: SeverityFromHeader, SeveritySaid: "X-Priority: 1 (Highest)", Plan: "premium", Levels: sampleLevels(true), CanEscalate: true}},
	}
}

func commentAddedSamples() []variant {
	return []variant{
		{"", CommentAddedData{Base: customerBase(), Comment: sampleComment(), NewStatus: "pending",
			PreviousAuthor: "Jane Doe", PreviousQuote: "I still get \"invalid token\" after the reset."}},
		{"plain", CommentAddedData{Base: customerBase(), Comment: Comment{Author: "Minji Kim", Body: "We are looking into it."}}},
	}
}

func statusChangedSamples() []variant {
	b := customerBase()
	return []variant{
		{"", StatusChangedData{Base: b, From: "open", To: "solved", Reason: "A new reset link fixed the login.", ReopenUntil: sampleTime.AddDate(0, 0, 30)}},
		{"pending", StatusChangedData{Base: b, From: "open", To: "pending"}},
		{"on_hold", StatusChangedData{Base: b, From: "open", To: "on_hold", Reason: "Waiting for the identity team."}},
		{"closed", StatusChangedData{Base: b, From: "solved", To: "closed"}},
		{"reopened", StatusChangedData{Base: b, From: "solved", To: "open"}},
		{"reopened_by_customer", StatusChangedData{Base: b, From: "solved", To: "open", ByCustomer: true,
			Reason: "customer replied to a solved case: reopened"}},
		{"solved_by_customer", StatusChangedData{Base: b, From: "open", To: "solved", ByCustomer: true,
			Reason: "customer command #solve", ReopenUntil: sampleTime.AddDate(0, 0, 30)}},
	}
}

func followUpOpenedSamples() []variant {
	b := customerBase()
	b.CaseID = 1187
	return []variant{{"", FollowUpOpenedData{Base: b, PreviousCaseID: 1042, PreviousSubject: "Cannot log in after password reset"}}}
}

func pendingReminderSamples() []variant {
	return []variant{{"", PendingReminderData{Base: customerBase(), AutoSolveAt: sampleTime.AddDate(0, 0, 3),
		PreviousAuthor: "Minji Kim", PreviousQuote: sampleQuote}}}
}

func autoSolvedSamples() []variant {
	return []variant{{"", AutoSolvedData{Base: customerBase(), ReopenUntil: sampleTime.AddDate(0, 0, 30)}}}
}

func escalationReceivedSamples() []variant {
	return []variant{{"", EscalationReceivedData{Base: customerBase(), Reason: "Our whole team is locked out."}}}
}

func escalationRefusedSamples() []variant {
	b := customerBase()
	return []variant{
		{"", EscalationRefusedData{Base: b, Why: EscalationPlanNotEligible, Plan: "basic"}},
		{"case_solved", EscalationRefusedData{Base: b, Why: EscalationCaseSolved}},
		{"case_closed", EscalationRefusedData{Base: b, Why: EscalationCaseClosed}},
	}
}

func refusalSamples() []variant {
	b := customerBase()
	b.CaseID = 0
	b.CaseSubject = "Invoice question"
	b.RecipientName = ""
	return []variant{
		{"", RefusalData{Base: b, Reason: RefusalUnknownSender}},
		{"domain_not_allowed", RefusalData{Base: b, Reason: RefusalDomainNotAllowed}},
		{"no_grant", RefusalData{Base: customerBase(), Reason: RefusalNoGrant, CustomerOrg: "Customer Corp"}},
		{"no_grant_other_org", RefusalData{Base: customerBase(), Reason: RefusalNoGrant, CustomerOrg: "Customer Corp", OpenedFor: "Acme"}},
	}
}

func tooLargeSamples() []variant {
	b := customerBase()
	b.CaseID = 0
	b.CaseSubject = "Log files"
	return []variant{
		{"", TooLargeData{Base: b, Size: 41_943_040, Limit: 26_214_400}},
		{"reply", TooLargeData{Base: customerBase(), Limit: 26_214_400}},
	}
}

func surveySamples() []variant {
	return []variant{{"", SurveyData{Base: customerBase()}}}
}

func mergedSamples() []variant {
	b := customerBase()
	b.CaseID = 1043
	b.CaseSubject = "Login broken"
	return []variant{{"", MergedData{Base: b, TargetCaseID: 1042, TargetSubject: "Cannot log in after password reset"}}}
}

func agentNewCaseSamples() []variant {
	return []variant{
		{"", AgentNewCaseData{Base: agentBase(), Requester: sampleRequester, Organization: "Customer Corp",
			Severity: "S3", FirstResponseDue: sampleTime.Add(8 * time.Hour), Comment: customerComment()}},
		{"minimal", AgentNewCaseData{Base: Base{HelpdeskName: "Example Support", SupportAddress: "support@example.com",
			CaseID: 1042, CaseSubject: "Help"}, Requester: Person{Email: "someone@example.net"},
			Comment: Comment{Body: "Help please"}}},
		{"attachments", AgentNewCaseData{Base: agentBase(), Requester: sampleRequester, Severity: "S3",
			FirstResponseDue: sampleTime.Add(8 * time.Hour), Comment: agentAttachmentsComment()}},
		{"follow_up", AgentNewCaseData{Base: agentBase(), Requester: sampleRequester, Organization: "Customer Corp",
			Severity: "S3", FirstResponseDue: sampleTime.Add(8 * time.Hour), Comment: customerComment(),
			FollowsCaseID: 1001, FollowsSubject: "Cannot log in after password reset"}},
	}
}

// agentAttachmentsComment shows each way an agent notice lists a customer's
// file: attached, inline, behind a download link, or fetched by an operator.
func agentAttachmentsComment() Comment {
	return Comment{
		Author: "Jane Doe",
		Body:   "The log and a screenshot are attached; the capture is too big.",
		Attachments: []AttachmentInfo{
			{Name: "client.log", ContentType: "text/plain", Size: 1_229, Attached: true},
			{Name: "화면.png", ContentType: "image/png", Size: 29_696, Attached: true, ContentID: "part1.shot@customer.example"},
			{Name: "capture.pcap", ContentType: "application/vnd.tcpdump.pcap", Size: 41_943_040,
				URL: "https://help.example.com/attachments/a1-ab-cd-ef-token", URLExpires: sampleTime.AddDate(0, 0, 30)},
			{Name: "core.dump", ContentType: "application/octet-stream", Size: 73_400_320, Fetch: "helpdeskd attachments list 1042"},
		},
	}
}

func agentCustomerRepliedSamples() []variant {
	return []variant{{"", AgentCustomerRepliedData{Base: agentBase(), Requester: sampleRequester, Organization: "Customer Corp",
		Status: "open", Comment: customerComment(), PreviousAuthor: "Minji Kim", PreviousQuote: sampleQuote}},
		{"solved_by_customer", AgentCustomerRepliedData{Base: agentBase(), Requester: sampleRequester, Status: "solved",
			Comment: Comment{Author: "Jane Doe", Body: "Works now, thank you."}, SolvedByCustomer: true}},
		{"severity_by_customer", AgentCustomerRepliedData{Base: agentBase(), Requester: sampleRequester, Status: "open",
			Comment: Comment{Author: "Jane Doe"}, SeverityFrom: "S3", SeverityTo: "S2"}},
		{"new_address", AgentCustomerRepliedData{Base: agentBase(), Requester: sampleRequester, Status: "open", Comment: customerComment(),
			NewAddress: "minji.home@mail.example"}},
		{"consent", AgentCustomerRepliedData{Base: agentBase(), Requester: sampleRequester, Status: "open",
			Comment: Comment{Author: "Jane Doe"}, Consent: "approved"}},
		{"consent_denied", AgentCustomerRepliedData{Base: agentBase(), Requester: sampleRequester, Status: "open",
			Comment: Comment{Author: "Jane Doe", Body: "Sorry, our policy does not allow it."}, Consent: "denied"}}}
}

func agentReopenedSamples() []variant {
	return []variant{{"", AgentReopenedData{Base: agentBase(), Requester: sampleRequester, Organization: "Customer Corp",
		Comment: customerComment()}},
		{"new_address", AgentReopenedData{Base: agentBase(), Requester: sampleRequester, Comment: customerComment(),
			NewAddress: "minji.home@mail.example"}}}
}

func agentEscalationSamples() []variant {
	b := agentBase()
	b.RecipientName = "Duty Manager"
	return []variant{
		{"", AgentEscalationData{Base: b, Requester: sampleRequester, Organization: "Customer Corp", Plan: "premium",
			Severity: "S2", Status: "open", Assignee: "Minji Kim", Reason: "Our whole team is locked out."}},
		{"unassigned", AgentEscalationData{Base: b, Requester: sampleRequester, Severity: "S2", Status: "pending"}},
	}
}

func sampleSLA() SLA {
	return SLA{Target: SLAFirstResponse, Due: sampleTime.Add(time.Hour), Severity: "S2", Status: "open",
		Assignee: "Minji Kim", Organization: "Customer Corp"}
}

func slaWarningSamples() []variant {
	next := sampleSLA()
	next.Target, next.Assignee = SLANextResponse, ""
	return []variant{
		{"", SLAWarningData{Base: agentBase(), SLA: sampleSLA()}},
		{"next_response", SLAWarningData{Base: agentBase(), SLA: next}},
	}
}

func slaBreachSamples() []variant {
	next := sampleSLA()
	next.Target, next.Assignee = SLANextResponse, ""
	return []variant{
		{"", SLABreachData{Base: agentBase(), SLA: sampleSLA()}},
		{"next_response", SLABreachData{Base: agentBase(), SLA: next}},
	}
}

func commandResultSamples() []variant {
	applied := []CommandOutcome{
		{Command: "#pending", Detail: "status: open → pending"},
		{Command: "#severity S2", Detail: "severity: S3 → S2"},
	}
	return []variant{
		{"", CommandResultData{Base: agentBase(), Applied: applied,
			Rejected: []CommandOutcome{{Command: "#assign bob@example.com", Detail: "no agent has this address"}}}},
		{"all_applied", CommandResultData{Base: agentBase(), Applied: applied}},
	}
}

func customerCommandResultSamples() []variant {
	return []variant{
		{"", CustomerCommandResultData{Base: customerBase(),
			Applied: []CustomerCommand{{Command: "#solve", Code: CustomerSolved}},
			Refused: []CustomerCommand{{Command: "#severity S1", Code: CustomerPlanSeverity, Value: "basic"},
				{Command: "#hold", Code: CustomerAgentsOnly}}}},
		{"every_reason", CustomerCommandResultData{Base: customerBase(),
			Applied: []CustomerCommand{{Command: "#severity S2", Code: CustomerSeveritySet, Value: "S2"},
				{Command: "#severity S3", Code: CustomerSeveritySame, Value: "S3"}, {Command: "#close", Code: CustomerAlreadySolved}},
			Refused: []CustomerCommand{{Command: "#severity S2", Code: CustomerOnePerMail}, {Command: "#severity high", Code: CustomerBadSeverity, Value: "high"},
				{Command: "#solve", Code: CustomerCaseClosed}, {Command: "#severity S4", Code: CustomerCaseSolved},
				{Command: "#rating good", Code: CustomerNotSolved}, {Command: "#rating ok", Code: CustomerBadRating}}}},
		{"no_consent_request", CustomerCommandResultData{Base: customerBase(),
			Refused: []CustomerCommand{{Command: "#approve", Code: CustomerNoConsentRequest}}}},
	}
}

func heldForReviewSamples() []variant {
	return []variant{{"", HeldForReviewData{Base: agentBase(), Sender: Person{Name: "Mallory", Email: "mallory@other.example"},
		Reason: "sender is not allowed on this case", MessageSubject: "Re: Cannot log in after password reset",
		MessageID: "<20250304143000.1234@other.example>", HeldID: 4711}}}
}

func senderThrottledSamples() []variant {
	b := agentBase()
	b.CaseID = 0
	b.CaseSubject = "Out of office"
	return []variant{{"", SenderThrottledData{Base: b, Sender: Person{Name: "Auto Responder", Email: "vacation@customer.example"},
		Cases: []int64{1042, 1043, 1045, 1046, 1049}, Limit: 5, Until: sampleTime.Add(40 * time.Minute),
		MessageSubject: "Out of office", MessageID: "<20250304143000.99@customer.example>"}}}
}

func bounceRecordedSamples() []variant {
	noCase := agentBase()
	noCase.CaseID = 0
	return []variant{
		{"", BounceRecordedData{Base: agentBase(), Address: "jane@customer.example", Status: "5.1.1",
			Diagnostic:      "550 5.1.1 <jane@customer.example>: Recipient address rejected: User unknown",
			SuppressedUntil: sampleTime.AddDate(0, 0, 30)}},
		{"no_case", BounceRecordedData{Base: noCase, Address: "jane@customer.example"}},
	}
}
