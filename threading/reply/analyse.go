package reply

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"
)

type lineKind uint8

const (
	lineEmpty     lineKind = iota
	lineText               // anything the sender may have written
	lineQuote              // "> ..." (any depth)
	lineWeakQuote          // supercite style "Name> ...": removed only at the end of a reply
)

type delimKind uint8

const (
	delimNone  delimKind = iota
	delimSig             // "-- " (RFC 3676), "--", Gmail's tracker mark "ᐧ"
	delimPunct           // a line of one repeated punctuation character
)

type unitKind uint8

const (
	unitHeader    unitKind = iota // "On ... wrote:" and its translations
	unitGeneric                   // "<date> <address>:" — counts only before quoted text
	unitSeparator                 // "-----Original Message-----", "Begin forwarded message:"
	unitFields                    // an embedded "From: / Sent: / To: / Subject:" block
)

// unit is a run of lines that together introduce quoted history.
type unit struct {
	start, end int // inclusive line range
	kind       unitKind
	lang       string
	forward    bool // introduces a forwarded message, kept and marked
}

type lineInfo struct {
	raw    string
	kind   lineKind
	code   bool // inside a ``` fenced block: never a header, quote or delimiter
	unit   int  // index into doc.units, or -1
	delim  delimKind
	punct  byte // the repeated character of a delimPunct line
	footer footerStrength
	field  fieldName
	marker bool
	header *headerMatch // the line alone reads as a quote header
	// disclaimer: the line opens a legal or confidentiality notice.
	disclaimer bool
	// split > 0: the sender's last words fill the line up to byte split,
	// where a quote header starts.
	split int
}

// doc is a body split into classified lines.
type doc struct {
	lines []lineInfo
	units []unit
}

func analyse(body string) *doc {
	raw := strings.Split(body, "\n")
	d := &doc{lines: make([]lineInfo, len(raw))}
	inCode := false
	for i, r := range raw {
		li := &d.lines[i]
		li.raw = r
		li.unit = -1
		trimmed := strings.TrimSpace(r)
		if strings.HasPrefix(trimmed, "```") {
			li.code = true
			li.kind = lineText
			inCode = !inCode
			continue
		}
		if inCode {
			li.code = true
			if trimmed == "" {
				li.kind = lineEmpty
			} else {
				li.kind = lineText
			}
			continue
		}
		li.marker = strings.Contains(r, MarkerPrefix) && strings.Contains(r, MarkerSuffix)
		if isGroupWiseHeader(trimmed) {
			// ">>> Jane <jane@example.com> 11/17/2021 11:00 AM >>>" is a header, not a quote.
			li.kind = lineText
			d.addUnit(unit{start: i, end: i, kind: unitSeparator})
			continue
		}
		switch {
		case trimmed == "":
			li.kind = lineEmpty
		case isQuote(r):
			li.kind = lineQuote
		case isWeakQuote(r):
			li.kind = lineWeakQuote
		default:
			li.kind = lineText
		}
		if li.kind != lineText {
			continue
		}
		d.classifyText(i, trimmed)
	}
	d.rewrapped()
	d.joinHeaders()
	d.fieldBlocks()
	d.notesBlocks()
	sortUnits(d.units, d.lines)
	return d
}

// classifyText looks at one unquoted, non-empty line on its own.
func (d *doc) classifyText(i int, trimmed string) {
	li := &d.lines[i]
	if k, c := delimiter(trimmed, li.raw); k != delimNone {
		li.delim, li.punct = k, c
		return
	}
	n := normalise(trimmed)
	lower := strings.ToLower(n)
	if lang, ok := matchNotesRespond(lower); ok && i >= 2 && d.lines[i-2].kind == lineText &&
		d.lines[i-1].kind == lineText && strings.ContainsAny(d.lines[i-1].raw, "0123456789") {
		// Lotus Notes: "Jane <jane@example.com>\n11/17/2021 11:00 AM\nPlease respond to"
		d.addUnit(unit{start: i - 2, end: i, kind: unitSeparator, lang: lang})
		return
	}
	if lang, fwd, ok := matchSeparatorN(n, lower); ok {
		d.addUnit(unit{start: i, end: i, kind: unitSeparator, lang: lang, forward: fwd})
		return
	}
	m, ok := matchQuoteHeader(n)
	if (!ok || !headerStart(n)) && mayBeHeader(n) {
		// "Thanks, Emily On Wed, Nov 17, 2021 at 11:00 AM Support <s@x.com> wrote:"
		prevText := i > 0 && d.lines[i-1].kind == lineText && d.lines[i-1].header == nil
		if p, hm, found := splitHeader(trimmed, prevText); found {
			li.header, li.split = &hm, p+len(li.raw)-len(strings.TrimLeft(li.raw, " \t"))
			return
		}
	}
	if ok {
		li.header = &m // becomes a unit in joinHeaders, maybe with lines above
		return
	}
	if f, ok := matchField(n); ok {
		li.field = f
		return
	}
	li.footer = matchFooterN(n, lower)
	li.disclaimer = li.footer == footerNone && isDisclaimerStart(lower)
}

func (d *doc) addUnit(u unit) {
	d.units = append(d.units, u)
	for k := u.start; k <= u.end; k++ {
		d.lines[k].unit = len(d.units) - 1
	}
}

// maxHeaderLines is how many lines a wrapped quote header may span
// ("On Thu, Jun 20, 2013 at 4:18 PM, Jane <\njane@example.com> wrote:").
const maxHeaderLines = 5

// joinHeaders turns quote headers, possibly wrapped over several lines,
// into units. For each line that ends like a header, the windows of lines
// ending there are tried: the longest one that starts like a header ("On
// ...", "Am ...", a date) wins; otherwise the shortest, so that text above
// a header is never swallowed into it.
func (d *doc) joinHeaders() {
	for j := range d.lines {
		end := &d.lines[j]
		if end.unit >= 0 || end.code || end.kind == lineEmpty {
			continue
		}
		tail := strings.TrimSpace(end.raw)
		endsLikeHeader := strings.HasSuffix(tail, ":") || strings.HasSuffix(tail, "：")
		if end.kind != lineText {
			// A wrapped header can end in a line that looks quoted: "> wrote:".
			if !endsLikeHeader || end.kind != lineQuote || utf8.RuneCountInString(stripQuote(tail)) > 12 {
				continue
			}
			tail = stripQuote(tail)
		}
		best, bestStart, bestOpens := end.header, j, end.header != nil && headerStart(normalise(tail))
		if endsLikeHeader && end.split == 0 {
			parts := []string{tail}
			size := len(tail)
			for s := j - 1; s >= 0 && s > j-maxHeaderLines; s-- {
				li := &d.lines[s]
				if li.unit >= 0 || li.code || li.kind == lineQuote || li.kind == lineWeakQuote || li.delim != delimNone {
					break
				}
				t := strings.TrimSpace(li.raw)
				size += len(t) + 1
				if size > maxHeaderLen {
					break
				}
				parts = append(parts, t)
				if li.kind == lineEmpty {
					if bestOpens {
						break // a header that starts like one needs no words from above a blank line
					}
					continue
				}
				joined := normalise(joinReversed(parts))
				m, ok := matchQuoteHeader(joined)
				if !ok {
					continue
				}
				switch {
				case headerStart(joined):
					best, bestStart, bestOpens = &m, s, true
				case best == nil:
					best, bestStart = &m, s
				}
			}
		}
		if best == nil {
			continue
		}
		k := unitHeader
		if !best.strong || end.split > 0 && bestStart == j {
			k = unitGeneric // counts only when quoted text follows
		}
		d.addUnit(unit{start: bestStart, end: j, kind: k, lang: best.lang})
	}
}

// maxRewrapped is how many unquoted lines a re-wrapped quoted line may
// have left behind.
const maxRewrapped = 3

// rewrapped marks as quoted the lines that lost their ">" when a client
// re-wrapped a long quoted line: unquoted lines directly below a long quoted
// line that does not end a sentence, directly followed by more quoted text.
func (d *doc) rewrapped() {
	n := len(d.lines)
	for i := 1; i < n; i++ {
		prev := &d.lines[i-1]
		if prev.kind != lineQuote || prev.code || !d.plainText(i) {
			continue
		}
		long, open := continues(prev.raw)
		if !long {
			continue
		}
		j := i
		for j < n && j-i < maxRewrapped && d.plainText(j) {
			j++
		}
		if j == i || j >= n {
			continue
		}
		next := j
		if d.lines[next].kind == lineEmpty && next+1 < n && open {
			next++ // a sentence cut mid-way may also end its paragraph
		}
		if d.lines[next].kind != lineQuote {
			continue
		}
		for k := i; k < j; k++ {
			d.lines[k].kind = lineQuote
			d.lines[k].header = nil
			d.lines[k].field = fieldName{}
			d.lines[k].footer = footerNone
			d.lines[k].disclaimer = false
		}
		i = j
	}
}

// plainText reports an unquoted line of ordinary text (no unit, delimiter,
// header or footer).
func (d *doc) plainText(k int) bool {
	li := &d.lines[k]
	return li.kind == lineText && !li.code && li.unit < 0 && li.delim == delimNone &&
		li.header == nil && li.footer == footerNone && !li.marker
}

// continues reports whether a quoted line is long enough to have been
// wrapped, and whether it stops mid-sentence.
func continues(quoted string) (long, open bool) {
	s := strings.TrimSpace(quoted)
	if len(s) < 40 { // a column takes at least a byte
		return false, false
	}
	if len(s) < 1024 && displayWidth(stripQuote(s)) < 40 {
		return false, false
	}
	r, _ := utf8.DecodeLastRuneInString(s)
	return true, !strings.ContainsRune(".!?:;。！？…)」』", r)
}

// displayWidth counts East Asian wide characters as two columns.
func displayWidth(s string) int {
	w := 0
	for _, r := range s {
		switch width.LookupRune(r).Kind() {
		case width.EastAsianWide, width.EastAsianFullwidth:
			w += 2
		default:
			w++
		}
	}
	return w
}

// splitHeader finds a quote header that starts inside a line, after the
// sender's last words, and names an address. It starts at an opener word
// ("On", "Am", "Le"...), right after words that end a sentence ("Thanks!
// Jane <j@x.com> wrote:"), or at a date when a line of text is above, so
// that "Pe vin., 20 nov. 2026 ..." stays one header. It returns the byte
// offset where the header starts.
func splitHeader(line string, prevText bool) (int, headerMatch, bool) {
	if len(line) > maxHeaderLen || !strings.ContainsAny(line, "@<＠") {
		return 0, headerMatch{}, false
	}
	for p := 1; p < len(line); p++ {
		if line[p-1] != ' ' || line[p] == ' ' {
			continue
		}
		n := normalise(line[p:])
		if !headerOpeners.MatchString(n) && !endsSentence(line[:p]) &&
			!(prevText && (dateStart.MatchString(n) || hanName(line[:p]) && !strings.HasPrefix(n, "<"))) {
			continue
		}
		if _, addr := evidenceIn(n); !addr {
			continue
		}
		if m, ok := matchQuoteHeader(n); ok {
			return p, m, true
		}
	}
	return 0, headerMatch{}, false
}

// hanName reports a Chinese name alone before a header glued to it
// ("张伟 Support <s@x.com> 于2021年11月17日周三 11:00写道："): Chinese
// names have no spaces, so a first word of 2-4 Han characters is the
// sender's signature.
func hanName(s string) bool {
	s = strings.TrimSpace(s)
	n := utf8.RuneCountInString(s)
	if n < 2 || n > 4 {
		return false
	}
	for _, r := range s {
		if !unicode.Is(unicode.Han, r) {
			return false
		}
	}
	return true
}

// endsSentence reports whether words end with sentence punctuation.
func endsSentence(s string) bool {
	s = strings.TrimSpace(s)
	r, _ := utf8.DecodeLastRuneInString(s)
	// A full stop after a digit or an abbreviated date ("pá 20. 11.") is not one.
	return strings.ContainsRune("!?。！？", r) ||
		r == '.' && len(strings.Fields(s)) >= 3 && !strings.ContainsAny(s, "0123456789")
}

func joinReversed(parts []string) string {
	var b strings.Builder
	for k := len(parts) - 1; k >= 0; k-- {
		if parts[k] == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(parts[k])
	}
	return b.String()
}

// sortUnits orders units by start line (joined headers and field blocks are
// appended out of order) and renumbers the lines' unit indexes.
func sortUnits(units []unit, lines []lineInfo) {
	sort.Slice(units, func(a, b int) bool { return units[a].start < units[b].start })
	for ui, u := range units {
		for k := u.start; k <= u.end; k++ {
			lines[k].unit = ui
		}
	}
}

// fieldBlocks groups embedded header field lines ("From: ...", "Sent: ...")
// into units when they look like the header of an embedded message.
func (d *doc) fieldBlocks() {
	n := len(d.lines)
	for i := 0; i < n; i++ {
		if d.lines[i].field.kind == fieldNone || d.lines[i].unit >= 0 {
			continue
		}
		var seen [fieldOther + 1]bool
		last := i
		j := i
		for j < n {
			li := &d.lines[j]
			if li.unit >= 0 || li.kind != lineText || li.code {
				break
			}
			if li.field.kind != fieldNone {
				seen[li.field.kind] = true
				last = j
				j++
				continue
			}
			// A continuation of a wrapped value ("Subject: a long\nsubject")
			// counts only when another field follows closely.
			if j-last > 2 || !d.fieldFollows(j, last) {
				break
			}
			j++
		}
		distinct := 0
		for k := fieldFrom; k < fieldOther; k++ {
			if seen[k] {
				distinct++
			}
		}
		ok := seen[fieldFrom] && seen[fieldDate] ||
			distinct >= 3 && (seen[fieldFrom] || seen[fieldDate] || seen[fieldSubject])
		if !ok || !fieldEvidence(d.lines[i:last+1], distinct) {
			i = last
			continue
		}
		d.addUnit(unit{start: i, end: last, kind: unitFields, lang: fieldLang(d.lines[i : last+1]),
			forward: forwardSubject(d.lines[i : last+1])})
		i = last
	}
}

// notesBlocks finds Lotus Notes' classic header: a "Name <address>" line,
// a date line, then field names alone on their lines ("To", "Kime", "An").
func (d *doc) notesBlocks() {
	n := len(d.lines)
	for i := 0; i+2 < n; i++ {
		a, b := &d.lines[i], &d.lines[i+1]
		if a.kind != lineText || b.kind != lineText || a.unit >= 0 || b.unit >= 0 || a.code ||
			len(a.raw) > 120 || len(b.raw) > 40 || !strings.ContainsAny(a.raw, "@<") ||
			!timeToken.MatchString(b.raw) {
			continue
		}
		for k := i + 2; k < n && k <= i+4; k++ {
			if d.lines[k].kind == lineEmpty {
				continue
			}
			if f, ok := fieldNames[strings.ToLower(normalise(d.lines[k].raw))]; ok && f.kind != fieldNone && d.lines[k].unit < 0 {
				d.addUnit(unit{start: i, end: i + 1, kind: unitSeparator, lang: f.lang})
				i++
			}
			break
		}
	}
}

// fieldEvidence reports whether field lines carry what a real message
// header has: an address, a Date/Sent field with a time, or a Date/Sent
// field among four kinds of fields. "From: Example Ltd.\nTo: Jane\nSubject:
// 3 printers" or "Från: Stockholm\nTill: Göteborg\nDatum: 2026-11-23"
// written by the sender stay text.
func fieldEvidence(lines []lineInfo, distinct int) bool {
	for _, li := range lines {
		_, v, _ := strings.Cut(normalise(li.raw), ":")
		if strings.ContainsAny(v, "@<＠") ||
			li.field.kind == fieldDate && (distinct >= 4 || timeToken.MatchString(v)) {
			return true
		}
	}
	return false
}

// forwardSubject reports whether the block's Subject says the message was
// forwarded ("FW: ...", "WG: ...", "전달: ..."); "RE: FW: ..." is a reply.
func forwardSubject(lines []lineInfo) bool {
	for _, li := range lines {
		if li.field.kind != fieldSubject {
			continue
		}
		n := normalise(li.raw)
		i := strings.IndexAny(n, ":：")
		if i < 0 {
			return false
		}
		v := strings.TrimLeft(n[i:], ":： ")
		p := strings.IndexAny(v, ":：")
		if p <= 0 || p > 12 {
			return false
		}
		return forwardPrefixes[strings.ToLower(strings.TrimSpace(v[:p]))]
	}
	return false
}

// forwardPrefixes are the subject prefixes clients put on forwarded mail.
var forwardPrefixes = map[string]bool{
	"fw": true, "fwd": true, "wg": true, "tr": true, "rv": true, "i": true, "doorst": true,
	"vs": true, "vb": true, "vl": true, "pd": true, "wd": true, "enc": true, "tov": true,
	"továbbítás": true, "pr": true, "i̇lt": true, "ilt": true, "пересл": true, "переслать": true,
	"전달": true, "转发": true, "轉寄": true, "転送": true, "doorgestuurd": true,
}

// fieldLang picks the block's language; the short names "de", "da", "a"
// are shared by several languages, so a more specific name decides.
func fieldLang(lines []lineInfo) string {
	fallback := ""
	for _, li := range lines {
		f := li.field
		if f.kind == fieldNone {
			continue
		}
		if fallback == "" {
			fallback = f.lang
		}
		name := strings.ToLower(strings.Trim(fieldKey(li.raw), "*_ "))
		switch name {
		case "de", "da", "a", "data", "para", "date", "cc", "dato", "datum":
			continue
		}
		return f.lang
	}
	return fallback
}

func fieldKey(raw string) string {
	n := normalise(raw)
	if i := strings.IndexAny(n, ":："); i > 0 {
		return n[:i]
	}
	return n
}

// fieldFollows reports whether a field line follows line j within the
// continuation allowance, without an empty line in between.
func (d *doc) fieldFollows(j, last int) bool {
	for k := j + 1; k < len(d.lines) && k-last <= 3; k++ {
		li := &d.lines[k]
		if li.kind != lineText {
			return false
		}
		if li.field.kind != fieldNone {
			return true
		}
	}
	return false
}

// delimiter classifies signature and separator lines.
func delimiter(trimmed, raw string) (delimKind, byte) {
	switch trimmed {
	case "--", "ᐧ":
		// "--" must start the line: " --" inside text is a dash.
		if trimmed == "--" && !strings.HasPrefix(raw, "--") {
			return delimNone, 0
		}
		return delimSig, 0
	}
	if len(trimmed) < 3 {
		return delimNone, 0
	}
	c := trimmed[0]
	if !strings.ContainsRune("-_=*#~+", rune(c)) {
		return delimNone, 0
	}
	for k := 1; k < len(trimmed); k++ {
		if trimmed[k] != c {
			return delimNone, 0
		}
	}
	return delimPunct, c
}

func isQuote(line string) bool {
	for k := 0; k < len(line) && k <= 3; k++ {
		switch line[k] {
		case ' ', '\t':
			continue
		case '>':
			return true
		}
		return false
	}
	return false
}

// isWeakQuote matches supercite prefixes: "Richard> text", "C> text".
func isWeakQuote(line string) bool {
	k := 0
	for k < len(line) && k < 12 && isASCIILetter(line[k]) {
		k++
	}
	return k > 0 && k < len(line) && line[k] == '>' && (k+1 == len(line) || line[k+1] == ' ')
}

func isASCIILetter(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// stripQuote removes leading quote markers ("> > ").
func stripQuote(s string) string {
	s = strings.TrimLeft(s, " \t")
	for strings.HasPrefix(s, ">") {
		s = strings.TrimLeft(s[1:], " \t")
	}
	return s
}
