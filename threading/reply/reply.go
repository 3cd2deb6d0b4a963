// Package reply extracts what the sender of a mail reply actually wrote: the
// new text above (or between) the quoted history, without the quote headers
// ("On ... wrote:", "2026년 11월 20일 (금) 오후 3:00, 홍길동 <a@b.com>님이 작성:",
// "-----Original Message-----", "From: / Sent: / To: / Subject:" blocks in
// many languages), the signature after "-- " and "Sent from my iPhone"-style
// footers.
//
// The rule, the same in every language (testdata/own/README.md states it
// for the corpus):
//   - Kept: the sender's text, with the sign-off and the name under it
//     ("Thanks,\nMinsu"); an undelimited contact block under the name is
//     kept too (nothing guesses where a signature without "-- " starts).
//   - Stripped with all below: a "-- " signature, a mobile/app footer
//     ("Sent from my iPhone", "Samsung 갤럭시에서 보냄", "Get Outlook for
//     Android"; an unquoted original right below a footer is history), a
//     legal disclaimer paragraph, and quoted history: "> " lines (also lines
//     that lost their ">" when a long quoted line was re-wrapped), quote
//     headers recognised from their structure (a verb such as "wrote",
//     "schrieb", "kirjoitti", "작성" anywhere in a line ending with a colon
//     that holds a time or an address; a date + an address + a colon; an
//     opener and date on the same line as the reply's last words), runs of
//     localized From/Sent/To/Subject lines, "-----Original Message-----"
//     separators, GroupWise ">>> ... >>>" and Lotus Notes headers. A short
//     closing written below the quoted history goes with it.
//   - A forwarded message (a forward separator, or a header block whose
//     Subject says "FW:"/"WG:"/"전달:") below a note is kept: Text is the
//     note, Forwarded the forwarded message; Comment joins them with
//     ForwardMarker. Inline replies keep the quoted lines they answer.
//   - Lines right-trimmed; at most two blank lines in a row.
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
	ReasonDisclaimer    = "disclaimer"      // a legal/confidentiality notice below the reply
	ReasonForward       = "forward"         // a forwarded message below a note: kept, marked with ForwardMarker
)

// Result of extracting the new text of a reply.
type Result struct {
	Text   string // what the sender wrote: quotes, quote headers, signature and footers removed
	Cut    string // what was removed (may be empty)
	Reason string // short machine-readable why, e.g. "marker", "quote-header:ko", "signature", "none", "all-quoted-kept"
	// CutLine is the 1-based line of the body (after line endings are
	// normalised) where the removal named by Reason starts; 0 when nothing
	// was cut or the input was HTML.
	CutLine int
	// Forwarded is the forwarded message (its header lines and body) kept
	// below the note; empty when the mail forwards nothing. Text holds only
	// the note; Comment joins both.
	Forwarded string
	// ForwardOnly: the mail is a forward without a note; Text is then what
	// the general rules make of the forwarded message (its body).
	ForwardOnly bool
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
	if f := d.forwardUnit(m); f >= 0 {
		r, ok := d.extractForward(f, m)
		if ok {
			return r, true
		}
		if fwd := d.forwarded(f, m); fwd != "" {
			r, ok := d.extractReply(m)
			if !ok {
				r = Result{Text: fwd, Reason: ReasonAllQuotedKept}
			}
			r.Forwarded, r.ForwardOnly = fwd, true
			return r, true
		}
	}
	return d.extractReply(m)
}

// extractReply applies the marker, then the general rules.
func (d *doc) extractReply(m int) (Result, bool) {
	if m >= 0 {
		cut := d.markerCut(m)
		t := newTrimmer(d, cut)
		t.run()
		if t.hasContent() {
			r := t.result(ReasonMarker)
			r.CutLine = cut + 1
			return r, true
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
	r := t.result(reason)
	if m >= 0 && reason == ReasonNone {
		r.Reason, r.CutLine = ReasonMarker, m+1 // only the marker line itself went
	}
	return r, true
}

// ForwardMarker is the line that separates a forwarder's note from the
// forwarded message in Result.Text, whatever separator the client wrote.
const ForwardMarker = "---------- Forwarded message ----------"

// forwardUnit returns the index of the unit that starts a forwarded message
// when the first piece of history in the body (above the marker line m, if
// any) is a forward; otherwise -1.
func (d *doc) forwardUnit(m int) int {
	for ui, u := range d.units {
		if m >= 0 && u.start > m {
			return -1
		}
		if u.forward {
			return ui
		}
		if u.kind == unitSeparator && ui+1 < len(d.units) && d.units[ui+1].forward &&
			d.units[ui+1].kind == unitFields && d.onlyEmptyBetween(u.end, d.units[ui+1].start) {
			return ui // "-----Original Message-----" above a "Subject: FW: ..." block
		}
		if u.kind != unitGeneric {
			return -1
		}
	}
	return -1
}

func (d *doc) onlyEmptyBetween(a, b int) bool {
	for k := a + 1; k < b; k++ {
		if d.lines[k].kind != lineEmpty {
			return false
		}
	}
	return true
}

// forwardSpan is the line range of the forwarded message that unit ui
// introduces: below its separator line (or from its header block) down to
// the marker line m or the end.
func (d *doc) forwardSpan(ui, m int) (from, end int) {
	u := d.units[ui]
	from = u.start
	if u.kind == unitSeparator {
		from = u.end + 1
	}
	end = len(d.lines)
	if m > from {
		end = m
	}
	return from, end
}

// forwarded is the forwarded message's text, tidied.
func (d *doc) forwarded(ui, m int) string {
	from, end := d.forwardSpan(ui, m)
	var b strings.Builder
	for k := from; k < end; k++ {
		b.WriteString(d.lines[k].raw)
		b.WriteByte('\n')
	}
	return tidy(b.String())
}

// extractForward keeps the note above a forwarded message (trimmed by the
// general rules) and the forwarded message itself, joined by ForwardMarker.
func (d *doc) extractForward(ui, m int) (Result, bool) {
	top := d.extendUp(d.units[ui].start, func(int) bool { return true })
	from, end := d.forwardSpan(ui, m)
	forwarded := d.forwarded(ui, m)
	if forwarded == "" {
		return Result{}, false
	}
	t := newTrimmer(d, top)
	t.run()
	var note, cut strings.Builder
	for k := 0; k < end; k++ {
		b := &cut
		if k < top && t.keep[k] {
			b = &note
		} else if k >= from {
			continue
		}
		b.WriteString(d.lines[k].raw)
		b.WriteByte('\n')
	}
	n := tidy(note.String())
	if n == "" || !t.textBefore(t.limit) {
		return Result{}, false // a bare forward: the general rules, then Forwarded is set
	}
	return Result{Text: n, Cut: tidy(cut.String()), Reason: ReasonForward, CutLine: top + 1, Forwarded: forwarded}, true
}

// Comment is what an agent reads: Text, and below it the forwarded message
// marked by ForwardMarker (only the marked forward when the mail is a bare
// forward).
func (r Result) Comment() string {
	switch {
	case r.Forwarded == "":
		return r.Text
	case r.ForwardOnly:
		return ForwardMarker + "\n" + r.Forwarded
	}
	return r.Text + "\n\n" + ForwardMarker + "\n" + r.Forwarded
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
