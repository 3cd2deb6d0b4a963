package templates

import "time"

// PlanInfoAnswer says what a "#plan" request gets.
type PlanInfoAnswer string

const (
	PlanInfoPlan    PlanInfoAnswer = "plan"    // what the sender's plan includes (Plan "": they have none)
	PlanInfoStaff   PlanInfoAnswer = "staff"   // staff: use the CLI
	PlanInfoUnknown PlanInfoAnswer = "unknown" // not a registered user
)

// PlanInfoData answers a "#plan" request (support+plan@ or a first line
// "#plan") with the sender's support plan: support hours, first-response
// targets by severity, and what the plan adds.
type PlanInfoData struct {
	Base
	Answer PlanInfoAnswer
	Plan   string // basic, advanced or premium; "": the sender is on no plan
	Org    string // optional: the sender's org
	Hours  SupportHours
	// Levels are S1..S4 with their first-response targets; Allowed: the
	// plan lets the customer choose it.
	Levels      []SeverityLevel
	CanEscalate bool // the plan includes #escalate
	// PrioritySeverity is the severity a mail marked high priority by the
	// mail client opens a case with; "": the plan ignores the mark.
	PrioritySeverity string
}

// SupportHours are the business hours the targets count in.
type SupportHours struct {
	Days        []time.Weekday // business days, in week order from Monday
	Open, Close string         // "09:00", "18:00" (Close may be "24:00")
	TimeZone    string         // e.g. "UTC", "Asia/Seoul"
	Holidays    bool           // some dates are holidays without business hours
}

func (PlanInfoData) Kind() Kind { return PlanInfo }

func planInfoSamples() []variant {
	b := customerBase()
	b.CaseID = 0
	b.CaseSubject = "What does my plan include?"
	hours := SupportHours{Days: []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday},
		Open: "09:00", Close: "18:00", TimeZone: "Asia/Seoul", Holidays: true}
	return []variant{
		{"", PlanInfoData{Base: b, Answer: PlanInfoPlan, Plan: "premium", Org: "Acme", Hours: hours, Levels: sampleLevels(true),
			CanEscalate: true, PrioritySeverity: "S2"}},
		{"basic", PlanInfoData{Base: b, Answer: PlanInfoPlan, Plan: "basic", Org: "Acme", Hours: hours, Levels: sampleLevels(false)}},
		{"no_plan", PlanInfoData{Base: b, Answer: PlanInfoPlan, Hours: SupportHours{Days: hours.Days[:3], Open: "00:00", Close: "24:00", TimeZone: "UTC"},
			Levels: sampleLevels(false)}},
		{"staff", PlanInfoData{Base: b, Answer: PlanInfoStaff}},
		{"unknown", PlanInfoData{Base: b, Answer: PlanInfoUnknown}},
	}
}
