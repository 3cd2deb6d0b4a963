package lifecycle

import (
	"strings"
	"unicode/utf8"
)

// SeveritySource says where the severity of a new case came from.
type SeveritySource string

const (
	FromDefault SeveritySource = ""        // nothing asked: S3
	FromSubject SeveritySource = "subject" // a subject tag "[S2]"
	FromBody    SeveritySource = "body"    // a "Severity: S2" or "Priority: high" line of the mail
	FromHeader  SeveritySource = "header"  // a priority header (X-Priority: 1, Importance: high, ...)
)

// SeverityChoice is the severity of a new case and why it has it.
type SeverityChoice struct {
	Severity Severity
	Source   SeveritySource
	// Asked is what the mail asked for; it differs from Severity when the
	// plan does not allow it (AllowedSeverity). Empty for FromDefault and
	// for a priority header the plan ignores.
	Asked Severity
	// Said is what the mail said, as written: "[S1]", "Priority: high",
	// "심각도: S2", "X-Priority: 1".
	Said string
	// Why is one line for the record (`helpdeskd why`).
	Why string
}

// Lowered reports whether the plan gave the case a lower severity than asked.
func (c SeverityChoice) Lowered() bool { return c.Asked != "" && c.Asked != c.Severity }

// maxSeverityLines: a severity line counts among this many first non-empty
// lines of the text.
const maxSeverityLines = 5

// ChooseSeverity returns the severity of a new case, in this order:
//   - a subject tag "[S1]".."[S4]" (any case, the first one wins);
//   - a line among the first five non-empty lines of text (the mail's new
//     text; quoted lines starting with '>' never count): "Severity: S2",
//     "심각도: S2", "#severity S2", "Priority: urgent|high|normal|low" or
//     "우선순위: 긴급|높음|보통|낮음" (urgent S1, high S2, normal S3, low S4);
//     the name in any case, ':' or '：' after it;
//   - on an advanced or premium plan, a high priority header (X-Priority 1
//     or 2, Importance: high, X-MSMail-Priority: high, Priority: urgent)
//     gives S2; other plans ignore the headers, which mail clients set
//     without the writer thinking about it;
//   - otherwise S3.
//
// What a customer asks for is capped by AllowedSeverity: S1 on a plan
// without it becomes S2.
func ChooseSeverity(subject, text string, header map[string][]string, plan string) SeverityChoice {
	if s, ok := subjectTag(subject); ok {
		return capped(SeverityChoice{Source: FromSubject, Asked: s, Said: "[" + string(s) + "]"}, plan)
	}
	if s, said, ok := severityLine(text); ok {
		return capped(SeverityChoice{Source: FromBody, Asked: s, Said: said}, plan)
	}
	if h, ok := highPriority(header); ok {
		if premiumPlan(plan) {
			return SeverityChoice{Severity: S2, Source: FromHeader, Asked: S2, Said: h, Why: h + " with plan " + plan}
		}
		return SeverityChoice{Severity: S3, Why: "default; " + h + " ignored: plan " + planName(plan) + " does not include priority"}
	}
	return SeverityChoice{Severity: S3, Why: "default"}
}

// capped applies AllowedSeverity to what the mail asked for.
func capped(c SeverityChoice, plan string) SeverityChoice {
	c.Severity = AllowedSeverity(c.Asked, plan)
	where := map[SeveritySource]string{FromSubject: "subject tag ", FromBody: "mail says "}[c.Source]
	c.Why = where + c.Said
	if c.Lowered() {
		c.Why += "; " + string(c.Asked) + " lowered to " + string(c.Severity) + ": plan " + planName(plan) + " does not include " + string(c.Asked)
	}
	return c
}

// AllowedSeverity is the most urgent severity a customer on plan may choose
// at or below asked: S1 (2 hours around the clock) is part of the advanced
// and premium plans, like escalations; on other plans (and without an org)
// S1 becomes S2. S2 to S4 are open to every plan.
func AllowedSeverity(asked Severity, plan string) Severity {
	if asked == S1 && !premiumPlan(plan) {
		return S2
	}
	return asked
}

func planName(plan string) string {
	if plan == "" {
		return "none"
	}
	return plan
}

// severityLine finds a severity line among the first non-empty lines of
// text; said is the line as written.
func severityLine(text string) (s Severity, said string, ok bool) {
	n := 0
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "\ufeff"))
		if line == "" || strings.HasPrefix(line, ">") {
			continue
		}
		if n++; n > maxSeverityLines {
			break
		}
		if s, ok := parseSeverityLine(line); ok {
			return s, line, true
		}
	}
	return "", "", false
}

// severityWords maps the values of a severity line to severities, by the
// line's name.
var severityWords = map[string]map[string]Severity{
	"severity": {"s1": S1, "s2": S2, "s3": S3, "s4": S4},
	"심각도":      {"s1": S1, "s2": S2, "s3": S3, "s4": S4},
	"priority": {"urgent": S1, "high": S2, "normal": S3, "low": S4},
	"우선순위":     {"긴급": S1, "높음": S2, "보통": S3, "낮음": S4},
}

// parseSeverityLine reads "Name: value" (or "#severity value"); the value
// is the first word after the name, and may be followed by more text
// ("Severity: S2 - checkout is slow").
func parseSeverityLine(line string) (Severity, bool) {
	var name, rest string
	if strings.HasPrefix(line, "#") || strings.HasPrefix(line, "＃") {
		cmd, ok := parseCommand(line)
		if !ok || cmd.Name != CmdSeverity {
			return "", false
		}
		name, rest = "severity", cmd.Arg
	} else {
		i := strings.IndexAny(line, ":：")
		if i <= 0 {
			return "", false
		}
		name = strings.ToLower(strings.TrimSpace(line[:i]))
		_, size := utf8.DecodeRuneInString(line[i:])
		rest = line[i+size:]
	}
	words, ok := severityWords[name]
	if !ok {
		return "", false
	}
	f := strings.FieldsFunc(rest, func(r rune) bool {
		return r == ' ' || r == '\t' || r == ',' || r == '.' || r == '(' || r == ')' || r == '-' || r == '/'
	})
	if len(f) == 0 {
		return "", false
	}
	s, ok := words[strings.ToLower(f[0])]
	return s, ok
}

func subjectTag(subject string) (Severity, bool) {
	for i := 0; i+4 <= len(subject); i++ {
		if subject[i] == '[' && (subject[i+1] == 'S' || subject[i+1] == 's') &&
			subject[i+2] >= '1' && subject[i+2] <= '4' && subject[i+3] == ']' {
			return Severity("S" + subject[i+2:i+3]), true
		}
	}
	return "", false
}

// highPriority returns the first header that asks for high priority, as
// "Name: value".
func highPriority(header map[string][]string) (string, bool) {
	get := func(name string) string {
		for k, v := range header {
			if strings.EqualFold(k, name) && len(v) > 0 {
				return strings.TrimSpace(v[0])
			}
		}
		return ""
	}
	if v := get("X-Priority"); v != "" && (v[0] == '1' || v[0] == '2') && (len(v) == 1 || v[1] < '0' || v[1] > '9') {
		return "X-Priority: " + v, true
	}
	for _, h := range [...]struct{ name, value string }{
		{"Importance", "high"}, {"X-MSMail-Priority", "high"}, {"Priority", "urgent"},
	} {
		if v := get(h.name); strings.EqualFold(v, h.value) {
			return h.name + ": " + v, true
		}
	}
	return "", false
}
