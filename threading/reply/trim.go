package reply

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// trimmer decides, line by line, what of a classified body is kept. It only
// ever looks at lines [0, limit).
type trimmer struct {
	d      *doc
	keep   []bool
	limit  int
	events []event
	// prefixLine is a removed header line whose start (up to its split) is
	// the sender's text and is kept; -1 when none.
	prefixLine int
}

// event records one removal and why, for Result.Reason.
type event struct {
	prio   int // lower wins
	reason string
	line   int // first removed line
}

const (
	prioHeader = iota
	prioQuoted
	prioSignature
	prioFooter
)

func newTrimmer(d *doc, limit int) *trimmer {
	t := &trimmer{d: d, keep: make([]bool, len(d.lines)), limit: limit, prefixLine: -1}
	for i := 0; i < limit; i++ {
		t.keep[i] = true
	}
	return t
}

func (t *trimmer) run() {
	t.signature()
	t.disclaimer()
	t.footers()
	t.headers()
	t.trailingQuote()
	t.signOff()
}

func (t *trimmer) note(prio int, reason string, line int) {
	t.events = append(t.events, event{prio, reason, line})
}

func (t *trimmer) reason() string {
	e, ok := t.decisive()
	if !ok {
		return ReasonNone
	}
	return e.reason
}

// decisive is the removal that names the result: the highest priority, the
// earliest of equals.
func (t *trimmer) decisive() (event, bool) {
	if len(t.events) == 0 {
		return event{}, false
	}
	best := t.events[0]
	for _, e := range t.events[1:] {
		if e.prio < best.prio {
			best = e
		}
	}
	return best, true
}

// cutFrom removes every line from i to the limit.
func (t *trimmer) cutFrom(i int) {
	for k := i; k < t.limit; k++ {
		t.keep[k] = false
	}
	t.limit = i
}

func (t *trimmer) remove(from, to int) {
	for k := from; k <= to && k < t.limit; k++ {
		t.keep[k] = false
	}
}

// isText reports a kept line the sender may have written.
func (t *trimmer) isText(i int) bool {
	li := &t.d.lines[i]
	return t.keep[i] && (li.kind == lineText || li.kind == lineWeakQuote) && li.unit < 0 &&
		li.delim == delimNone && li.footer == footerNone || i == t.prefixLine
}

func (t *trimmer) textBefore(i int) bool {
	if t.prefixLine >= 0 && t.prefixLine <= i {
		return true
	}
	for k := 0; k < i && k < t.limit; k++ {
		if t.isText(k) {
			return true
		}
	}
	return false
}

// nextNonEmpty returns the first kept non-empty line at or after i, or -1.
func (t *trimmer) nextNonEmpty(i int) int {
	for k := i; k < t.limit; k++ {
		if t.keep[k] && t.d.lines[k].kind != lineEmpty {
			return k
		}
	}
	return -1
}

// signature cuts at the first signature delimiter that has text above it.
// A line of repeated punctuation only counts when it does not bracket
// content (no later line of the same character) and what follows is short
// or is quoted history.
func (t *trimmer) signature() {
	d := t.d
	n := t.limit
	// Suffix facts, so that each candidate is judged in constant time.
	nonEmptyAfter := make([]int, n+1)
	historyAfter := make([]bool, n+1)
	var lastPunct [256]int
	for i := range lastPunct {
		lastPunct[i] = -1
	}
	for i := n - 1; i >= 0; i-- {
		li := &d.lines[i]
		nonEmptyAfter[i] = nonEmptyAfter[i+1]
		if li.kind != lineEmpty {
			nonEmptyAfter[i]++
		}
		historyAfter[i] = historyAfter[i+1] || li.unit >= 0 || li.kind == lineQuote
		if li.delim == delimPunct && lastPunct[li.punct] < 0 {
			lastPunct[li.punct] = i
		}
	}
	seenText := false
	for i := 0; i < n; i++ {
		li := &d.lines[i]
		if li.delim == delimNone {
			if t.isText(i) {
				seenText = true
			}
			continue
		}
		if !seenText {
			continue
		}
		if nx := t.nextNonEmpty(i + 1); nx >= 0 && d.lines[nx].unit >= 0 {
			continue // the separator above an embedded header: headers() cuts both
		}
		if li.delim == delimPunct {
			if lastPunct[li.punct] > i {
				continue // brackets content: "-----\nlog\n-----"
			}
			if (li.punct == '-' || li.punct == '=') && i > 0 && d.lines[i-1].kind == lineText {
				continue // a Setext heading underline
			}
			if nonEmptyAfter[i+1] > 12 && !historyAfter[i+1] {
				continue
			}
		}
		t.cutFrom(i)
		t.note(prioSignature, ReasonSignature, i)
		return
	}
}

// disclaimer cuts at a legal notice that opens a paragraph below the
// sender's text ("CONFIDENTIALITY NOTICE: ...", "Diese E-Mail enthält
// vertrauliche ..."), with everything below it.
func (t *trimmer) disclaimer() {
	d := t.d
	seenText := false
	for i := 0; i < t.limit; i++ {
		li := &d.lines[i]
		if li.disclaimer && seenText && !li.code && (i == 0 || d.lines[i-1].kind == lineEmpty || d.lines[i-1].delim != delimNone) {
			t.cutFrom(i)
			t.note(prioSignature, ReasonDisclaimer, i)
			return
		}
		if t.isText(i) {
			seenText = true
		}
	}
}

// footerZone bounds how far a run of footer lines is examined.
const footerZone = 40

// footers removes "Sent from my iPhone"-style lines. When a footer is
// followed only by other footers and at most a few short lines before the
// quoted history (or the end), that whole zone goes.
func (t *trimmer) footers() {
	d := t.d
	seenText := false
	for i := 0; i < t.limit; i++ {
		li := &d.lines[i]
		if t.isText(i) {
			seenText = true
		}
		if !t.keep[i] || li.footer == footerNone || li.kind != lineText || li.code || !seenText {
			continue
		}
		h := i + 1
		other, examined, zone := 0, 0, true
		for ; h < t.limit; h++ {
			lh := &d.lines[h]
			if !t.keep[h] || lh.kind == lineEmpty {
				continue
			}
			if lh.unit >= 0 || lh.kind == lineQuote || lh.delim != delimNone {
				break
			}
			examined++
			if examined > footerZone {
				zone = false
				break
			}
			if lh.footer != footerNone {
				continue
			}
			if len(strings.TrimSpace(lh.raw)) > 40 || other == 3 {
				zone = false
				break
			}
			other++
		}
		switch {
		case zone:
			t.remove(i, h-1)
			t.note(prioFooter, ReasonMobileFooter, i)
			i = h - 1
		case li.footer == footerStrong:
			t.remove(i, i)
			t.note(prioFooter, ReasonMobileFooter, i)
		}
	}
}

// headers walks the quote headers and embedded message headers.
//
// With text above it, a header followed by unquoted history (Outlook's
// "From:/Sent:" block, "-----Original Message-----", "On ... wrote:" with the
// old message pasted below) or by quoted text up to the end cuts everything
// from it. A header followed by quoted text and then new text is an inline
// reply: only the header line goes. A header at the very top (nothing
// written above it) is dropped together with the quote below it when the
// reply follows the quote.
func (t *trimmer) headers() {
	d := t.d
	// textFrom[k]: sender text remains at or after line k. Only header and
	// quote lines are removed below until a cut ends the walk, so this
	// stays true while walking.
	textFrom := make([]bool, t.limit+1)
	for k := t.limit - 1; k >= 0; k-- {
		textFrom[k] = textFrom[k+1] || t.isText(k)
	}
	seenText := false
	for i := 0; i < t.limit; i++ {
		li := &d.lines[i]
		if !t.keep[i] || li.kind == lineEmpty {
			continue
		}
		if li.unit < 0 || d.units[li.unit].start != i {
			if t.isText(i) {
				seenText = true
			}
			continue
		}
		u := d.units[li.unit]
		reason := headerReason(u.lang)
		if li.split > 0 && u.start == i {
			if nx := t.nextNonEmpty(u.end + 1); nx >= 0 && d.lines[nx].kind == lineQuote {
				t.prefixLine = i // the words before the header are the sender's
				seenText = true
			}
		}
		switch u.kind {
		case unitSeparator, unitFields:
			if seenText {
				t.cutFrom(d.extendUp(u.start, func(k int) bool { return t.keep[k] }))
				t.note(prioHeader, reason, t.limit)
				return
			}
			t.remove(u.start, u.end)
			t.note(prioHeader, reason, u.start)
			i = u.end
			if u.kind == unitSeparator {
				// "---------- Forwarded message ---------" is followed by
				// its From:/Date:/Subject: block.
				if nx := t.nextNonEmpty(u.end + 1); nx >= 0 && d.lines[nx].unit >= 0 &&
					d.units[d.lines[nx].unit].kind == unitFields && d.units[d.lines[nx].unit].start == nx {
					f := d.units[d.lines[nx].unit]
					t.remove(f.start, f.end)
					i = f.end
				}
			}
		case unitHeader, unitGeneric:
			nx := t.nextNonEmpty(u.end + 1)
			if nx < 0 {
				if seenText {
					t.cutFrom(u.start)
					t.note(prioHeader, reason, u.start)
					return
				}
				t.remove(u.start, u.end)
				t.note(prioHeader, reason, u.start)
				i = u.end
				continue
			}
			if d.lines[nx].kind != lineQuote {
				if u.kind == unitGeneric {
					seenText = true // a date and an address, but not a header here
					i = u.end
					continue
				}
				if seenText {
					t.cutFrom(u.start)
					t.note(prioHeader, reason, u.start)
					return
				}
				t.remove(u.start, u.end)
				t.note(prioHeader, reason, u.start)
				i = u.end
				continue
			}
			qEnd := nx
			for k := nx; k < t.limit; k++ {
				if !t.keep[k] {
					continue
				}
				if kind := d.lines[k].kind; kind != lineQuote && kind != lineEmpty {
					break
				}
				qEnd = k
			}
			after := t.nextNonEmpty(qEnd + 1)
			historyOnly := after < 0 || d.lines[after].unit >= 0 || !textFrom[after] ||
				seenText && t.closingOnly(after)
			switch {
			case historyOnly && seenText:
				t.cutFrom(u.start)
				t.note(prioHeader, reason, u.start)
				return
			case seenText:
				t.remove(u.start, u.end) // inline reply: keep the quote as context
				i = u.end
			case !historyOnly && t.interleaved(after, textFrom):
				t.remove(u.start, u.end) // inline replies below: the first quote is their context
				i = u.end
			default:
				t.remove(u.start, qEnd) // context quoted above a bottom-posted reply
				i = qEnd
			}
			t.note(prioHeader, reason, u.start)
		}
	}
}

// maxClosingLines bounds a closing written below the quoted history.
const maxClosingLines = 3

// closingOnly reports whether the lines from i to the end are only a short
// closing (a sign-off and a name, a signature placed under the quote).
func (t *trimmer) closingOnly(i int) bool {
	n := 0
	last := ""
	for k := i; k < t.limit; k++ {
		li := &t.d.lines[k]
		if !t.keep[k] || li.kind == lineEmpty || li.footer != footerNone || li.delim != delimNone {
			continue
		}
		if li.kind != lineText || li.unit >= 0 || li.code {
			return false
		}
		s := strings.TrimSpace(li.raw)
		n, last = n+1, s
		if n > maxClosingLines || displayWidth(s) > 40 || len(strings.Fields(s)) > 5 ||
			strings.HasSuffix(s, "?") || strings.HasSuffix(s, "？") {
			return false
		}
	}
	// It ends with a name, not with a sentence ("Yes." answers the quote).
	r, _ := utf8.DecodeLastRuneInString(last)
	return n > 0 && !strings.ContainsRune(".!?。！？", r)
}

// interleaved reports whether quoted lines and new text alternate again
// after line i (an inline reply rather than a single bottom-posted answer).
func (t *trimmer) interleaved(i int, textFrom []bool) bool {
	for k := i; k < t.limit; k++ {
		if t.keep[k] && t.d.lines[k].kind == lineQuote {
			return textFrom[k]
		}
	}
	return false
}

// trailingQuote removes quoted lines that end the reply, when text remains
// above them.
func (t *trimmer) trailingQuote() {
	d := t.d
	last := -1
	for k := t.limit - 1; k >= 0; k-- {
		if t.keep[k] && d.lines[k].kind != lineEmpty {
			last = k
			break
		}
	}
	if last < 0 {
		return
	}
	if kind := d.lines[last].kind; kind != lineQuote && kind != lineWeakQuote {
		return
	}
	first := last
	for k := last; k >= 0; k-- {
		if !t.keep[k] {
			continue
		}
		li := &d.lines[k]
		if li.kind != lineQuote && li.kind != lineWeakQuote && li.kind != lineEmpty {
			break
		}
		if li.kind != lineEmpty {
			first = k
		}
	}
	if !t.textBefore(first) {
		return // only quotes: keep them rather than return nothing
	}
	t.remove(first, last)
	t.note(prioQuoted, t.quotedReason(first), first)
}

// quotedReason names the language of a quote header opening a quoted
// block ("> On ... wrote:"), if there is one.
func (t *trimmer) quotedReason(first int) string {
	n := normalise(stripQuote(t.d.lines[first].raw))
	if lang, _, ok := matchSeparator(n); ok {
		return headerReason(lang)
	}
	if m, ok := matchQuoteHeader(n); ok {
		return headerReason(m.lang)
	}
	return ReasonQuoted
}

func headerReason(lang string) string {
	if lang == "" {
		return ReasonQuoteHeader
	}
	return ReasonQuoteHeader + ":" + lang
}

func (t *trimmer) hasContent() bool {
	if t.prefixLine >= 0 {
		return true
	}
	for i := 0; i < t.limit; i++ {
		if t.keep[i] && t.d.lines[i].kind != lineEmpty {
			return true
		}
	}
	return false
}

// result assembles the kept and removed lines.
func (t *trimmer) result(reason string) Result {
	var kept, cut strings.Builder
	for i, li := range t.d.lines {
		b := &cut
		if t.keep[i] {
			b = &kept
		} else if i == t.prefixLine {
			kept.WriteString(li.raw[:li.split])
			kept.WriteByte('\n')
			li.raw = li.raw[li.split:]
		}
		b.WriteString(li.raw)
		b.WriteByte('\n')
	}
	r := Result{Text: tidy(kept.String()), Cut: tidy(cut.String()), Reason: reason}
	if e, ok := t.decisive(); ok {
		r.CutLine = e.line + 1
	}
	return r
}

// signOff removes a closing "-Name" line ("-Abhishek Kona") set apart by a
// blank line at the very end of the reply.
func (t *trimmer) signOff() {
	last, prev := -1, -1
	for k := t.limit - 1; k >= 0; k-- {
		if !t.keep[k] {
			continue
		}
		if last < 0 {
			if t.d.lines[k].kind != lineEmpty {
				last = k
			}
			continue
		}
		prev = k
		break
	}
	if last < 0 || prev < 0 || t.d.lines[prev].kind != lineEmpty || !isSignOff(t.d.lines[last].raw) {
		return
	}
	if !t.textBefore(last) {
		return
	}
	t.remove(last, last)
	t.note(prioSignature, ReasonSignature, last)
}

func isSignOff(raw string) bool {
	s := strings.TrimSpace(raw)
	if len(s) < 3 || s[0] != '-' || !isASCIILetter(s[1]) {
		return false
	}
	words := strings.Fields(s[1:])
	if len(words) > 3 {
		return false
	}
	for _, r := range s[1:] {
		if !unicode.IsLetter(r) && r != ' ' && r != '.' && r != '\'' && r != '-' {
			return false
		}
	}
	return true
}
