package reply

import (
	"sort"
	"strings"
	"unicode/utf8"
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
	d.joinHeaders()
	d.fieldBlocks()
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
	if lang, ok := matchSeparator(n); ok {
		d.addUnit(unit{start: i, end: i, kind: unitSeparator, lang: lang})
		return
	}
	if m, ok := matchQuoteHeader(n); ok {
		li.header = &m // becomes a unit in joinHeaders, maybe with lines above
		return
	}
	if f, ok := matchField(n); ok {
		li.field = f
		return
	}
	li.footer = matchFooter(trimmed)
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
		best, bestStart := end.header, j
		if endsLikeHeader {
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
					continue
				}
				joined := normalise(joinReversed(parts))
				m, ok := matchQuoteHeader(joined)
				if !ok {
					continue
				}
				switch {
				case headerStart(joined):
					best, bestStart = &m, s
				case best == nil:
					best, bestStart = &m, s
				}
			}
		}
		if best == nil {
			continue
		}
		k := unitHeader
		if !best.strong {
			k = unitGeneric
		}
		d.addUnit(unit{start: bestStart, end: j, kind: k, lang: best.lang})
	}
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
		if !ok {
			i = last
			continue
		}
		d.addUnit(unit{start: i, end: last, kind: unitFields, lang: fieldLang(d.lines[i : last+1])})
		i = last
	}
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
