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
	ls := make([]line, len(lines))
	for i, l := range lines {
		ls[i] = newLine(l)
	}
	has := map[Diagnostic]bool{
		DiagTimeWindow: scanWhen.match(ls) && scanZone.match(ls),
		DiagVersion:    scanVersion.match(ls),
		DiagError:      scanError.match(ls),
		DiagSteps:      scanSteps.match(ls) || stepLines(text) >= 2,
		DiagImpact:     scanImpact.match(ls),
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

// line is one line of a mail as the scans look at it.
type line struct {
	raw, lower string
	words      []string // its ASCII word runs ([0-9A-Za-z_]+, what \b bounds), as written
	lowerWords []string // the same in lower case
	digit      bool
}

func newLine(raw string) line {
	l := line{raw: raw, lower: strings.ToLower(raw)}
	start := -1
	for i := 0; i <= len(raw); i++ {
		w := i < len(raw) && isWordByte(raw[i])
		if i < len(raw) && raw[i] >= '0' && raw[i] <= '9' {
			l.digit = true
		}
		switch {
		case w && start < 0:
			start = i
		case !w && start >= 0:
			l.words = append(l.words, raw[start:i])
			l.lowerWords = append(l.lowerWords, strings.ToLower(raw[start:i])) // ASCII: allocates only for upper case
			start = -1
		}
	}
	return l
}

func isWordByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

// A scan decides whether its regular expression matches a mail without
// running it where it can: a sure word or phrase is a match of one of its
// branches by itself, and the expression runs only over the lines that
// could match without one (may). Large alternations cost 30-80 µs on a few
// lines of a short mail, for every new case; most mails settle on a word.
// TestScans_AgreeWithTheirExpressions checks both sides against the
// expression on every line of our corpora.
type scan struct {
	re *regexp.Regexp
	// Whole words (case-insensitive unless in sureCase) and phrases of
	// whole words, each a match of re by itself.
	sureWords, sureCase map[string]bool
	surePhrases         []string // lower case, words separated by one space
	sureText            []string // substrings that match wherever they are (Korean has no \b)
	sureWord            func(word string) bool
	// may reports whether re could match the line without a sure word; nil:
	// never.
	may func(l line) bool
}

func (s scan) sure(l line) bool {
	for i, w := range l.words {
		if s.sureCase[w] || s.sureWords[l.lowerWords[i]] || (s.sureWord != nil && s.sureWord(l.lowerWords[i])) {
			return true
		}
	}
	for _, p := range s.surePhrases {
		if hasPhrase(l.lower, p) {
			return true
		}
	}
	for _, t := range s.sureText {
		if strings.Contains(l.raw, t) {
			return true
		}
	}
	return false
}

func (s scan) match(lines []line) bool {
	var cand []string
	for _, l := range lines {
		if s.sure(l) {
			return true
		}
		if s.may != nil && s.may(l) {
			cand = append(cand, l.raw)
		}
	}
	return len(cand) > 0 && s.re.MatchString(strings.Join(cand, "\n"))
}

// hasPhrase reports whether lower holds phrase between word boundaries.
func hasPhrase(lower, phrase string) bool {
	for from := 0; ; {
		i := strings.Index(lower[from:], phrase)
		if i < 0 {
			return false
		}
		i += from
		end := i + len(phrase)
		if (i == 0 || !isWordByte(lower[i-1])) && (end == len(lower) || !isWordByte(lower[end])) {
			return true
		}
		from = i + 1
	}
}

func containsAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// digitSep reports whether s has one of the separators between two digits.
func digitSep(s, seps string) bool {
	for i := 1; i+1 < len(s); i++ {
		if strings.IndexByte(seps, s[i]) >= 0 && isDigit(s[i-1]) && isDigit(s[i+1]) {
			return true
		}
	}
	return false
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

var monthPrefixes = []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}

// hasWordPrefix reports whether a word starts with one of the lower-case
// prefixes, in any case.
func hasWordPrefix(words, prefixes []string) bool {
	for _, w := range words {
		for _, p := range prefixes {
			if len(w) >= len(p) && strings.EqualFold(w[:len(p)], p) {
				return true
			}
		}
	}
	return false
}

func set(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// camelError is a word like TypeError or NullPointerException, given in
// lower case: reError's \b[A-Z][A-Za-z]+(Error|Exception)\b,
// case-insensitive like all of it.
func camelError(lw string) bool {
	if !(strings.HasSuffix(lw, "error") && len(lw) >= len("error")+2) && !(strings.HasSuffix(lw, "exception") && len(lw) >= len("exception")+2) {
		return false
	}
	for i := 0; i < len(lw); i++ {
		if lw[i] < 'a' || lw[i] > 'z' {
			return false
		}
	}
	return true
}

var (
	scanWhen = scan{re: reWhen,
		sureWords:   set("today", "yesterday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"),
		surePhrases: []string{"this morning", "last night"},
		sureText:    []string{"오늘", "어제", "그저께", "오전", "오후"},
		// Every other branch has digits around a separator (9:30,
		// 2026-11-20, 11/20), a month, or 월/시 after a number.
		may: func(l line) bool {
			return l.digit && (digitSep(l.raw, ":-/") || strings.ContainsAny(l.raw, "월시") || hasWordPrefix(l.words, monthPrefixes))
		}}
	scanZone = scan{re: reZone,
		sureCase: set("UTC", "GMT", "KST", "JST", "CST", "CDT", "PST", "PDT", "MST", "MDT", "EST", "EDT", "CET", "CEST", "BST", "IST",
			"AEST", "AEDT", "SGT", "HKT", "WIB"),
		surePhrases: []string{"local time", "server time", "seoul time", "tokyo time", "pacific time", "eastern time", "central time"},
		sureText:    []string{"한국표준시"},
		// An offset or a Z after a time; 한국 시간, 서울 시간 with spaces.
		may: func(l line) bool {
			return digitSep(l.raw, ":") || strings.Contains(l.raw, "한국") || strings.Contains(l.raw, "서울")
		}}
	scanVersion = scan{re: reVersion, may: func(l line) bool { // x.y.z, v2, or a word that says version
		return l.digit && (strings.Contains(l.raw, ".") || hasWordPrefix(l.words, []string{"v"}) ||
			containsAny(l.lower, []string{"version", "ver", "release", "build", "버전"}))
	}}
	scanError = scan{re: reError,
		sureWords:   set("error", "errors", "exception", "traceback", "stacktrace", "panic", "fatal", "errno", "segfault", "crash", "crashed", "crashes"),
		surePhrases: []string{"stack trace"},
		sureText:    []string{"오류", "에러", "예외", "장애 메시지"},
		sureWord:    camelError,
		// Stack frames, Python's File "x", line N, Go's goroutine N [,
		// HTTP 500 and "502 Bad Gateway".
		may: func(l line) bool {
			return (strings.Contains(l.lower, "at ") && strings.Contains(l.lower, "(")) ||
				containsAny(l.lower, []string{`file "`, "goroutine", "http"}) ||
				(l.digit && containsAny(l.lower, []string{"gateway", "unavailable", "not found", "forbidden", "unauthorized"}))
		}}
	scanSteps = scan{re: reSteps, may: func(l line) bool {
		return containsAny(l.lower, []string{"reproduc", "repro steps", "how to repeat", "재현", "순서대로", "단계"})
	}}
	impactWho  = set("users", "employees", "customers", "people", "staff", "agents", "accounts", "stores", "sites")
	scanImpact = scan{re: reImpact,
		sureWords:   set("nobody", "everyone", "everybody", "impact", "impacts", "impacted"),
		surePhrases: []string{"no one"},
		sureText:    []string{"영향"},
		// Who is affected, with a number or "all"; a number of 명.
		may: func(l line) bool {
			for _, w := range l.lowerWords {
				if impactWho[w] {
					return true
				}
			}
			return containsAny(l.raw, []string{"사용자", "직원", "고객", "전원"}) || (l.digit && strings.Contains(l.raw, "명"))
		}}
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
