package lifecycle

import (
	"strings"
)

// SeverityFor returns the severity of a new case and why: a subject tag
// "[S1]".."[S4]" (any case, the first one wins) always; otherwise, when plan
// is advanced or premium, a high priority header (X-Priority 1 or 2,
// Importance: high, X-MSMail-Priority: high, Priority: urgent) gives S2;
// otherwise S3. Header names match in any case.
func SeverityFor(subject string, header map[string][]string, plan string) (Severity, string) {
	if s, ok := subjectTag(subject); ok {
		return s, "subject tag [" + string(s) + "]"
	}
	if h, ok := highPriority(header); ok {
		if premiumPlan(plan) {
			return S2, h + " with plan " + plan
		}
		p := plan
		if p == "" {
			p = "none"
		}
		return S3, "default; " + h + " ignored: plan " + p + " does not include priority"
	}
	return S3, "default"
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
