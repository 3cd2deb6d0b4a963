package templates

import (
	"strconv"
	"time"
)

// CaseListAnswer says what a "my cases" request gets.
type CaseListAnswer string

const (
	CaseListCases   CaseListAnswer = "cases"   // the sender's cases (possibly none)
	CaseListStaff   CaseListAnswer = "staff"   // staff: use the CLI
	CaseListUnknown CaseListAnswer = "unknown" // not a registered user
)

// CaseListData answers a "my cases" request (support+cases@ or #cases)
// with the cases the sender may see, grouped by org for resellers.
type CaseListData struct {
	Base
	Answer CaseListAnswer
	All    bool // closed and solved cases included
	Groups []CaseListGroup
	// Subscriptions are the known issues the sender is subscribed to.
	Subscriptions []KnownIssueItem
}

// CaseListGroup is the cases of one org: Org "" for the sender's own.
type CaseListGroup struct {
	Org   string
	Cases []CaseListItem
}

// CaseListItem is one case of a case list.
type CaseListItem struct {
	ID             int64
	Title          string
	Created        time.Time
	LastActivity   time.Time
	LastActivityAt Ago // relative to when the list was made
	Status         string
	Severity       string
	ReplyAddress   string // signed: mail to it continues the case
}

// KnownIssueItem is one known issue a sender is subscribed to.
type KnownIssueItem struct {
	ID      int64
	Title   string
	Status  string // open, resolved
	CaseID  int64  // the sender's case linked to it; 0: none
	Address string // mail to it with "unsubscribe" ends the subscription
}

// Ago is a duration in the past, in its largest whole unit.
type Ago struct {
	N    int
	Unit string // minute, hour, day, week, month, year
}

// AgoSince is how long before now t was, in its largest whole unit.
func AgoSince(t, now time.Time) Ago {
	d := now.Sub(t)
	if d < 0 {
		d = 0
	}
	day := 24 * time.Hour
	switch {
	case d < time.Hour:
		return Ago{int(d / time.Minute), "minute"}
	case d < day:
		return Ago{int(d / time.Hour), "hour"}
	case d < 7*day:
		return Ago{int(d / day), "day"}
	case d < 30*day:
		return Ago{int(d / (7 * day)), "week"}
	case d < 365*day:
		return Ago{int(d / (30 * day)), "month"}
	}
	return Ago{int(d / (365 * day)), "year"}
}

// EN reads as "3 days ago".
func (a Ago) EN() string {
	if a.Unit == "minute" && a.N == 0 {
		return "just now"
	}
	s := strconv.Itoa(a.N) + " " + a.Unit
	if a.N != 1 {
		s += "s"
	}
	return s + " ago"
}

// KO reads as "3일 전".
func (a Ago) KO() string {
	units := map[string]string{"minute": "분", "hour": "시간", "day": "일", "week": "주", "month": "개월", "year": "년"}
	if a.Unit == "minute" && a.N == 0 {
		return "방금 전"
	}
	return strconv.Itoa(a.N) + units[a.Unit] + " 전"
}

func (CaseListData) Kind() Kind { return CaseList }

func caseListSamples() []variant {
	b := customerBase()
	b.CaseID = 0
	b.CaseSubject = "My cases"
	item := func(id int64, title, status, sev string, created, last time.Time) CaseListItem {
		return CaseListItem{ID: id, Title: title, Created: created, LastActivity: last, LastActivityAt: AgoSince(last, sampleTime),
			Status: status, Severity: sev, ReplyAddress: "support+v1-" + strconv.FormatInt(id, 36) + "-2s-abcdefghijklmnop@example.com"}
	}
	own := CaseListGroup{Cases: []CaseListItem{
		item(1042, "Cannot log in after password reset", "open", "S2", sampleTime.Add(-72*time.Hour), sampleTime.Add(-3*time.Hour)),
		item(1017, "Invoice shows the wrong VAT number", "solved", "S4", sampleTime.Add(-40*24*time.Hour), sampleTime.Add(-9*24*time.Hour)),
	}}
	subs := []KnownIssueItem{{ID: 7, Title: "Login page slow in EU region", Status: "open", CaseID: 1042,
		Address: "support+ki-7-abcdefghijklmnop@example.com"}}
	return []variant{
		{"", CaseListData{Base: b, Answer: CaseListCases, All: true, Groups: []CaseListGroup{own}, Subscriptions: subs}},
		{"reseller", CaseListData{Base: b, Answer: CaseListCases, Groups: []CaseListGroup{
			{Cases: own.Cases[:1]},
			{Org: "Customer Corp", Cases: []CaseListItem{item(1050, "VPN drops every hour", "pending", "S3", sampleTime.Add(-26*time.Hour), sampleTime.Add(-20*time.Minute))}},
		}}},
		{"empty", CaseListData{Base: b, Answer: CaseListCases}},
		{"staff", CaseListData{Base: b, Answer: CaseListStaff}},
		{"unknown", CaseListData{Base: b, Answer: CaseListUnknown}},
	}
}
