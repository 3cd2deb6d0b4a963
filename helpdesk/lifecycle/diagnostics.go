package lifecycle

import (
	"regexp"
	"strings"
	"time"
)

// Diagnostics (issue 13 section 3): what a new case needs to start work,
// agents' requests for it (#diagnostics) and for consent to access logs and
// diagnostic data (#consent), and the customer's answer (#approve, #deny).

// Command names of diagnostics requests and consent.
const (
	CmdDiagnostics = "diagnostics" // #diagnostics [what]: ask the submitter for logs and details, pending (agents)
	CmdConsent     = "consent"     // #consent [scope]: ask the submitter to approve access to logs (agents)
	CmdApprove     = "approve"     // the customer approves the pending consent request
	CmdDeny        = "deny"        // the customer denies it
)

// Notification kinds (templates.Kind values) of diagnostics and consent.
const (
	NoticeDiagnosticsRequest = "diagnostics_request"
	NoticeConsentRequest     = "consent_request"
)

// AuditConsent is the case_events kind of consent requests and answers;
// the entry's To is a Consent value.
const AuditConsent = "consent"

// Consent is where a case's request for access to logs and diagnostic data
// stands: the To of its latest consent event, "" when none was asked.
type Consent string

const (
	ConsentNone      Consent = ""
	ConsentRequested Consent = "requested"
	ConsentApproved  Consent = "approved"
	ConsentDenied    Consent = "denied"
)

// CodeNoConsentRequest: #approve or #deny without a pending request
// (templates.CustomerNoConsentRequest).
const CodeNoConsentRequest CommandCode = "no_consent_request"

// Diagnostic is one thing support needs to start work on a case; the values
// are those of templates.DiagnosticItem.
type Diagnostic string

const (
	DiagTimeWindow Diagnostic = "time_window" // when it started (and ended), with the time zone
	DiagVersion    Diagnostic = "version"     // the product version
	DiagError      Diagnostic = "error"       // the error text or stack trace
	DiagSteps      Diagnostic = "steps"       // steps to reproduce
	DiagImpact     Diagnostic = "impact"      // users affected and business impact
	DiagFiles      Diagnostic = "files"       // logs or screenshots
)

// Diagnostics lists every item, in the order an acknowledgement asks for them.
func Diagnostics() []Diagnostic {
	return []Diagnostic{DiagTimeWindow, DiagVersion, DiagError, DiagSteps, DiagImpact, DiagFiles}
}

var (
	// A time of day, a date or a weekday/relative day.
	reWhen = regexp.MustCompile(`(?i)(^|\D)\d{1,2}:\d{2}|\b\d{4}-\d{2}-\d{2}|\b\d{1,2}/\d{1,2}\b|` +
		`\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.? \d{1,2}\b|\b\d{1,2} (jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)|` +
		`\b(today|yesterday|this morning|last night|monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b|` +
		`\d{1,2}\s*월\s*\d{1,2}\s*일|\d{1,2}\s*시|오늘|어제|그저께|오전|오후`)
	// A time zone: an abbreviation, an offset, or a zone said in words.
	reZone = regexp.MustCompile(`\b(UTC|GMT|KST|JST|CST|CDT|PST|PDT|MST|MDT|EST|EDT|CET|CEST|BST|IST|AEST|AEDT|SGT|HKT|WIB)\b|` +
		`\b(UTC|GMT)\s*[+-]\s*\d{1,2}|\d{1,2}:\d{2}(:\d{2})?\s*[+-]\d{2}:?\d{2}\b|\d{2}:\d{2}(:\d{2})?Z\b|` +
		`(?i)\b(local|server|seoul|tokyo|pacific|eastern|central) time\b|한국\s*시간|서울\s*시간|한국\s*표준시`)
	// A version: v2.3, "version 2.3", "버전 2.3", "build 1234", a bare x.y.z.
	reVersion = regexp.MustCompile(`(?i)\bv\d+(\.\d+)*\b|\b(version|ver\.?|release|build)\s*[:#]?\s*v?\d+(\.\d+)*|` +
		`버전\s*:?\s*v?\d+(\.\d+)*|(^|[^\d.])\d{1,3}\.\d+\.\d+([^\d.]|$)`)
	// Error text or a stack trace.
	reError = regexp.MustCompile(`(?i)\b(error|errors|exception|traceback|stack ?trace|panic|fatal|errno|segfault|crash(ed|es)?)\b|` +
		`\b[A-Z][A-Za-z]+(Error|Exception)\b|(?m)^\s+at [\w$.<>]+\(|(?m)^\s*File "[^"]+", line \d+|goroutine \d+ \[|` +
		`\bHTTP \d{3}\b|\b[45]\d{2} (Internal Server Error|Bad Gateway|Service Unavailable|Not Found|Forbidden|Unauthorized)\b|` +
		`오류|에러|예외|장애 메시지`)
	// Steps to reproduce, said as such.
	reSteps = regexp.MustCompile(`(?i)\b(steps to reproduce|to reproduce|reproduc(e|ible|tion)|repro steps|how to repeat)\b|재현|순서대로|단계`)
	// A numbered or step line.
	reStepLine = regexp.MustCompile(`(?i)^\s*(\d{1,2}[.)]|step \d+|\d+\s*단계)\s*\S`)
	// Users affected, with a number or "all", or business impact said as such.
	reImpact = regexp.MustCompile(`(?i)\b(\d[\d,]*|all|every|most|several|many|some|hundreds of|thousands of)\s+(of\s+(our|the|my)\s+)?` +
		`(users|employees|customers|people|staff|agents|accounts|stores|sites)\b|` +
		`\b(users|employees|customers)\s*(affected)?\s*[:=]\s*\d|\b(nobody|no one|everyone|everybody)\b|\bbusiness impact\b|\bimpact(s|ed)?\b|` +
		`(모든|전체|전\s)\s*(사용자|직원|고객|임직원)|(사용자|직원|고객|임직원)\s*(약\s*)?\d[\d,]*\s*명|\d[\d,]*\s*명|` +
		`(사용자|직원)\s*전원|업무\s*영향|영향`)
)

// MissingDiagnostics returns what support needs to start work and the first
// mail of a case (its subject and text, and how many files it had) does not
// seem to contain, in the order of Diagnostics; nil when nothing is missing.
// The rules are heuristics in English and Korean: a time or date together
// with a time zone; a version; error text, an exception name or
// stack-trace lines; steps to reproduce or at least two numbered lines;
// users affected with a number or "all users", or the impact said; and any
// attachment counts as logs or screenshots.
func MissingDiagnostics(subject, text string, attachments int) []Diagnostic {
	lines := strings.Split(subject+"\n"+text, "\n")
	lower := make([]string, len(lines))
	for i, l := range lines {
		lower[i] = strings.ToLower(l)
	}
	has := map[Diagnostic]bool{
		DiagTimeWindow: scanWhen.match(lines, lower) && scanZone.match(lines, lower),
		DiagVersion:    scanVersion.match(lines, lower),
		DiagError:      scanError.match(lines, lower),
		DiagSteps:      scanSteps.match(lines, lower) || stepLines(text) >= 2,
		DiagImpact:     scanImpact.match(lines, lower),
		DiagFiles:      attachments > 0,
	}
	var missing []Diagnostic
	for _, d := range Diagnostics() {
		if !has[d] {
			missing = append(missing, d)
		}
	}
	return missing
}

// A scan runs its regular expression only over the lines that could take
// part in a match: those with a digit (when a branch needs one) or one of
// the literal words every other branch needs. Large alternations cost
// 50-100 µs on a short mail; most lines hold none of the words.
type scan struct {
	re     *regexp.Regexp
	digits bool     // some branch matches on a line with a digit
	words  []string // lower case; every other branch contains one
	also   func(lower string) bool
}

func (s scan) match(lines, lower []string) bool {
	var cand []string
	for i, l := range lines {
		if (s.digits && strings.ContainsAny(l, "0123456789")) || containsAny(lower[i], s.words) || (s.also != nil && s.also(lower[i])) {
			cand = append(cand, l)
		}
	}
	return len(cand) > 0 && s.re.MatchString(strings.Join(cand, "\n"))
}

func containsAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

var (
	scanWhen = scan{re: reWhen, digits: true, words: []string{"today", "yesterday", "this morning", "last night", "monday", "tuesday",
		"wednesday", "thursday", "friday", "saturday", "sunday", "오늘", "어제", "그저께", "오전", "오후"}}
	scanZone = scan{re: reZone, digits: true, words: []string{"utc", "gmt", "kst", "jst", "cst", "cdt", "pst", "pdt", "mst", "mdt",
		"est", "edt", "cet", "cest", "bst", "ist", "aest", "aedt", "sgt", "hkt", "wib", "time", "한국", "서울"}}
	scanVersion = scan{re: reVersion, digits: true}
	scanError   = scan{re: reError, digits: true, words: []string{"error", "exception", "traceback", "stack", "panic", "fatal", "errno",
		"segfault", "crash", "오류", "에러", "예외", "장애 메시지"},
		also: func(l string) bool { return strings.Contains(l, "at ") && strings.Contains(l, "(") }}
	scanSteps  = scan{re: reSteps, words: []string{"reproduc", "repro steps", "how to repeat", "재현", "순서대로", "단계"}}
	scanImpact = scan{re: reImpact, digits: true, words: []string{"users", "employees", "customers", "people", "staff", "agents",
		"accounts", "stores", "sites", "nobody", "no one", "everyone", "everybody", "impact", "사용자", "직원", "고객", "임직원", "전원", "영향"}}
)

func stepLines(text string) int {
	n := 0
	for _, l := range strings.Split(text, "\n") {
		if reStepLine.MatchString(l) {
			n++
		}
	}
	return n
}

// requestDiagnostics carries out an agent's "#diagnostics [what]" (the i-th
// command): the submitter is sent a request for logs and reproduction
// details, with what the agent named, and the case waits on them. The
// status was set by Apply (pending, unless a status command or #merge said
// otherwise); a pending case restarts its reminders, the request being
// something new to answer. The request replaces the status notice.
func requestDiagnostics(o *Outcome, ev Event, i int, now time.Time) {
	if o.MergeInto != 0 {
		o.reject(i, "#merge solves the case")
		return
	}
	if o.Case.Status == Pending {
		o.Case.PendingSince, o.Case.RemindersSent = now, 0
	}
	detail := "diagnostics requested from the submitter; status " + string(o.Case.Status)
	o.apply(i, detail)
	o.Notices = withoutSubmitterStatus(o.Notices)
	o.Notices = append(o.Notices, Notice{Kind: NoticeDiagnosticsRequest, To: ToSubmitter, Reason: ev.Commands[i].Arg})
}

// withoutSubmitterStatus drops the submitter's status notice: a request
// says itself that support waits for them.
func withoutSubmitterStatus(ns []Notice) []Notice {
	out := ns[:0]
	for _, n := range ns {
		if n.Kind != NoticeStatusChanged || n.To != ToSubmitter {
			out = append(out, n)
		}
	}
	return out
}

// requestConsent carries out an agent's "#consent [scope]" (the i-th
// command): the submitter is asked to approve access to logs and
// diagnostic data by replying #approve or #deny; the case records the
// request. The status does not change.
func requestConsent(o *Outcome, ev Event, i int) {
	cmd := ev.Commands[i]
	o.apply(i, "consent to access logs and diagnostic data requested from the submitter")
	o.Audit = append(o.Audit, AuditEntry{Kind: AuditConsent, From: string(o.Case.Consent), To: string(ConsentRequested), Reason: cmd.Arg})
	o.Case.Consent = ConsentRequested
	o.Notices = append(o.Notices, Notice{Kind: NoticeConsentRequest, To: ToSubmitter, Reason: cmd.Arg})
}

// answerConsent records a customer's "#approve" or "#deny" (the i-th
// command), judged after the mail's own effect: only while a consent
// request is pending and the case is not closed. The agents are told (their
// notice reads the audit entry); a refusal is answered to the customer.
func answerConsent(o *Outcome, ev Event, i int) {
	cmd := ev.Commands[i]
	switch {
	case o.FollowUp || o.Case.Status == Closed:
		o.refuse(i, "case is closed", CodeCaseClosed, "")
		return
	case o.Case.Consent != ConsentRequested:
		o.refuse(i, "no consent request is pending", CodeNoConsentRequest, "")
		return
	}
	to := ConsentApproved
	if cmd.Name == CmdDeny {
		to = ConsentDenied
	}
	who := ev.Sender
	if who == "" {
		who = "the customer"
	}
	o.apply(i, "access to logs and diagnostic data "+string(to))
	o.Audit = append(o.Audit, AuditEntry{Kind: AuditConsent, From: string(ConsentRequested), To: string(to), Reason: string(to) + " by " + who})
	o.Case.Consent = to
	if o.Reason == "no text besides commands: status unchanged" {
		o.Reason = "customer command " + cmd.Line + ": consent " + string(to)
	}
	for _, n := range o.Notices {
		if n.Kind == NoticeAgentCustomerReplied || n.Kind == NoticeAgentReopened {
			return // their notice says it
		}
	}
	o.Notices = append(o.Notices, Notice{Kind: NoticeAgentCustomerReplied, To: ToAgents})
}

// ConsentAnswer returns the consent answer an outcome recorded, if any.
func ConsentAnswer(o Outcome) Consent {
	for _, a := range o.Audit {
		if a.Kind == AuditConsent && (a.To == string(ConsentApproved) || a.To == string(ConsentDenied)) {
			return Consent(a.To)
		}
	}
	return ConsentNone
}
