// Package reply extracts what the sender of a mail reply actually wrote: the
// new text above (or between) the quoted history, without the quote headers
// ("On ... wrote:", "2026년 11월 20일 (금) 오후 3:00, 홍길동 <a@b.com>님이 작성:",
// "-----Original Message-----", "From: / Sent: / To: / Subject:" blocks in
// many languages), the signature after "-- " and "Sent from my iPhone"-style
// footers.
//
// Guarantees:
//   - FromText and FromHTML are pure functions: no I/O, no global state.
//   - They never panic and run in time linear in the input size (every
//     pattern is an RE2 regexp matched against at most a few joined lines).
//   - Text is never empty when the input has non-space content: when
//     everything looks quoted, the whole text is kept (Reason
//     "all-quoted-kept").
//   - The helpdesk's own "reply above this line" marker (a line containing
//     MarkerPrefix and MarkerSuffix, or the HTML element HTMLMarkerID) always
//     cuts everything from it down.
//   - Text and Cut are valid UTF-8 without NUL, with "\n" line endings.
package reply

import (
	"strings"
)

// The marker our notifications put above the quoted notification text. Any
// line containing both MarkerPrefix and MarkerSuffix, possibly quoted, cuts
// the reply there ("##- Please type your reply above this line -##",
// "##- 이 줄 위에 답장을 입력해 주세요 -##").
const (
	MarkerPrefix = "##-"
	MarkerSuffix = "-##"
	// HTMLMarkerID is the id (or class) of the hidden element that marks the
	// same place in HTML notifications.
	HTMLMarkerID = "helpdesk-reply-marker"
)

// Reasons reported in Result.Reason. Quote headers carry their language:
// "quote-header:ko", "quote-header:en"; "quote-header" alone when the
// language is unknown.
const (
	ReasonNone          = "none"            // nothing was removed
	ReasonMarker        = "marker"          // our reply marker cut the text
	ReasonQuoteHeader   = "quote-header"    // a quote header or embedded message header
	ReasonQuoted        = "quoted"          // trailing "> " quoted lines
	ReasonSignature     = "signature"       // "-- " signature or a separator line
	ReasonMobileFooter  = "mobile-footer"   // "Sent from my iPhone" and similar
	ReasonAllQuotedKept = "all-quoted-kept" // everything looked quoted: kept whole
	ReasonQuoteHTML     = "quote-html"      // an HTML quote container, e.g. "quote-html:gmail"
)

// Result of extracting the new text of a reply.
type Result struct {
	Text   string // what the sender wrote: quotes, quote headers, signature and footers removed
	Cut    string // what was removed (may be empty)
	Reason string // short machine-readable why, e.g. "marker", "quote-header:ko", "signature", "none", "all-quoted-kept"
}

// FromText extracts the new text of a reply from a plain-text body.
func FromText(body string) Result {
	body = clean(body)
	if strings.TrimSpace(body) == "" {
		return Result{Reason: ReasonNone}
	}
	d := analyse(body)
	if r, ok := d.extract(); ok {
		return r
	}
	return Result{Text: tidy(body), Reason: ReasonAllQuotedKept}
}

// clean makes the body valid UTF-8 without NUL and with "\n" line endings.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	if strings.IndexByte(s, '\r') >= 0 {
		s = strings.ReplaceAll(s, "\r\n", "\n")
		s = strings.ReplaceAll(s, "\r", "\n")
	}
	return s
}

// extract applies the marker, then the general rules. It returns false when
// nothing would be left.
func (d *doc) extract() (Result, bool) {
	m := d.markerLine()
	if m >= 0 {
		t := newTrimmer(d, d.markerCut(m))
		t.run()
		if t.hasContent() {
			return t.result(ReasonMarker), true
		}
		// Nothing above the marker (a reply written below it): fall back to
		// the general rules on the whole body, without the marker line.
	}
	t := newTrimmer(d, len(d.lines))
	if m >= 0 {
		t.keep[m] = false
	}
	t.run()
	if !t.hasContent() {
		return Result{}, false
	}
	if !t.textBefore(t.limit) {
		// Only quotes and headers are left: keep the whole text.
		return Result{}, false
	}
	reason := t.reason()
	if m >= 0 && reason == ReasonNone {
		reason = ReasonMarker // only the marker line itself went
	}
	return t.result(reason), true
}

func (d *doc) markerLine() int {
	for i := range d.lines {
		if d.lines[i].marker {
			return i
		}
	}
	return -1
}

// markerCut returns where the cut for a marker on line m starts: the marker
// line, or the quote header (or header block and its separator line) just
// above it.
func (d *doc) markerCut(m int) int {
	k := m - 1
	for k >= 0 && (d.lines[k].kind == lineEmpty || isBareQuote(d.lines[k].raw)) {
		k--
	}
	if k < 0 || d.lines[k].unit < 0 {
		return m
	}
	u := d.units[d.lines[k].unit]
	return d.extendUp(u.start, func(int) bool { return true })
}

// extendUp moves a cut start up over empty lines, separator lines and
// original-message separators directly above it.
func (d *doc) extendUp(start int, kept func(int) bool) int {
	k := start - 1
	best := start
	for k >= 0 && kept(k) {
		li := &d.lines[k]
		switch {
		case li.kind == lineEmpty:
		case li.delim != delimNone:
			best = k
		case li.unit >= 0 && d.units[li.unit].kind == unitSeparator:
			best = d.units[li.unit].start
			k = best
		default:
			return best
		}
		k--
	}
	return best
}

func isBareQuote(s string) bool {
	s = strings.TrimSpace(s)
	return s != "" && strings.Trim(s, "> \t") == ""
}

// tidy right-trims lines, drops leading and trailing blank lines and keeps
// at most two blank lines in a row.
func tidy(s string) string {
	lines := strings.Split(s, "\n")
	var b strings.Builder
	blank := 0
	started := false
	for _, l := range lines {
		l = strings.TrimRight(l, " \t\u00a0")
		if l == "" {
			if started {
				blank++
			}
			continue
		}
		if started {
			b.WriteByte('\n')
			for k := 0; k < min(blank, 2); k++ {
				b.WriteByte('\n')
			}
		}
		blank = 0
		started = true
		b.WriteString(l)
	}
	return b.String()
}
