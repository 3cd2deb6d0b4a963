package threading

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// replyPrefix matches one reply or forward prefix as mail clients write them
// in many languages, with an optional counter ("Re[2]:", "RE(3):") and either
// an ASCII or a full-width colon.
var replyPrefix = regexp.MustCompile(`(?i)^\s*(re|r|aw|sv|vs|antw|antwort|odp|ynt|ha|fw|fwd|fw|wg|tr|rv|enc|i|doorst|vb|pd|rif|答复|回复|回覆|转发|轉寄|返信|転送|답장|회신|전달|ответ|пересл)\s*(\[\d+\]|\(\d+\))?\s*[:：]\s*`)

var forwardPrefix = regexp.MustCompile(`(?i)^\s*(fw|fwd|wg|tr|rv|enc|doorst|vb|pd|i|转发|轉寄|転送|전달|пересл)\s*(\[\d+\]|\(\d+\))?\s*[:：]`)

// NormalizeSubject strips any run of reply and forward prefixes (Re, RE, Fwd,
// FW, AW, WG, SV, VS, Antw, 답장, 회신, 전달, 回复, 转发, 返信 ...) and bracketed
// mailing-list or case tags, and collapses whitespace, so two subjects can be
// compared. Subject text alone never threads a message; this is for display
// and for checks such as "is this a forward".
func NormalizeSubject(s string) string {
	for i := 0; i < 20; i++ { // bounded: a subject of nothing but prefixes
		before := s
		s = replyPrefix.ReplaceAllString(s, "")
		s = caseTag.ReplaceAllString(s, " ")
		if s == before {
			break
		}
	}
	return strings.Join(strings.FieldsFunc(s, unicode.IsSpace), " ")
}

// IsForward reports whether the subject starts with a forward prefix.
func IsForward(subject string) bool {
	return forwardPrefix.MatchString(subject)
}

var caseTag = regexp.MustCompile(`(?i)\[\s*case\s*#\s*(\d{1,18})\s*\]`)

// CaseTag returns the case number of the first "[Case #N]" tag in subject.
func CaseTag(subject string) (int64, bool) {
	m := caseTag.FindStringSubmatch(subject)
	if m == nil {
		return 0, false
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil || n <= 0 {
		return 0, false
	}
	return n, true
}
