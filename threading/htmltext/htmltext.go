// Package htmltext turns the HTML body of a mail into readable plain text.
//
// Guarantees: Convert never panics, whatever its input; it runs in time
// linear in the input size; its output is valid UTF-8 without NUL or other
// control characters except '\n' and '\t'. It does no I/O. Tokenizing is
// golang.org/x/net/html's tokenizer (the one dependency outside the standard
// library in package threading), wrapped as Tokenizer for callers that need
// to cut a document at an element; the rendering rules below are ours.
//
// The conversion is deliberately simple: <head>, <style>, <script>,
// comments and elements hidden with display:none are dropped; block
// elements become line breaks; list items get "- "; links keep their text
// followed by " <url>" when the target differs from the text; blockquote
// content is prefixed with "> " per line (so plain-text quote rules apply);
// whitespace inside lines is collapsed and there is never more than one
// blank line in a row.
package htmltext

import (
	"html"
	"strings"
	"unicode/utf8"
)

// Convert returns the plain-text rendering of an HTML mail body.
func Convert(htmlBody string) string {
	c := newConverter()
	z := NewTokenizer(strings.ToValidUTF8(htmlBody, "\uFFFD"))
	for {
		switch typ := z.next(); typ {
		case 0:
			return c.finish()
		case TextToken:
			c.textToken(z.s[z.start:z.end])
		case StartTagToken, SelfClosingToken:
			c.start(readTag(z, typ))
		case EndTagToken:
			name, _ := z.z.TagName()
			c.end(z.str(name))
		}
	}
}

// tag is what the conversion needs of a start tag.
type tag struct {
	name        string
	selfClosing bool
	hidden      bool   // hidden attribute, or display:none / visibility:hidden
	tight       bool   // class MsoNormal: Outlook's paragraph without margins
	href, alt   string // of <a> and <img>
	hasAlt      bool
}

// readTag reads the current start tag's name and the attributes the
// conversion uses (the first of each, as Token.AttrVal does).
func readTag(z *Tokenizer, typ TokenType) tag {
	name, more := z.z.TagName()
	t := tag{name: z.str(name), selfClosing: typ == SelfClosingToken}
	var seenClass, seenStyle, seenHref, seenAlt bool
	for more {
		var key, val []byte
		key, val, more = z.z.TagAttr()
		switch string(key) {
		case "hidden":
			t.hidden = true
		case "style":
			if !seenStyle {
				seenStyle = true
				t.hidden = t.hidden || hiddenStyle(z.str(val))
			}
		case "class":
			if !seenClass {
				seenClass = true
				t.tight = containsFold(z.str(val), "msonormal")
			}
		case "href":
			if !seenHref && t.name == "a" {
				seenHref = true
				t.href = z.str(val)
			}
		case "alt":
			if !seenAlt && t.name == "img" {
				seenAlt = true
				t.hasAlt = true
				t.alt = z.str(val)
			}
		}
	}
	return t
}

type kind uint8

const (
	kindOther kind = iota
	kindBlock
	kindPara
	kindSkip // content dropped: style, script, title, template, ...
	kindHead
	kindQuote
	kindPre
	kindList
	kindItem
	kindCell
	kindRow
	kindLink
)

var voidElements = map[string]bool{
	"area": true, "base": true, "br": true, "col": true, "embed": true, "hr": true,
	"img": true, "input": true, "link": true, "meta": true, "param": true,
	"source": true, "track": true, "wbr": true, "keygen": true,
}

var elementKinds = map[string]kind{
	"address": kindBlock, "article": kindBlock, "aside": kindBlock, "center": kindBlock,
	"dd": kindBlock, "details": kindBlock, "dialog": kindBlock, "dir": kindList,
	"div": kindBlock, "dl": kindBlock, "dt": kindBlock, "fieldset": kindBlock,
	"figcaption": kindBlock, "figure": kindBlock, "footer": kindBlock, "form": kindBlock,
	"header": kindBlock, "main": kindBlock, "menu": kindList, "nav": kindBlock,
	"section": kindBlock, "summary": kindBlock, "caption": kindBlock, "legend": kindBlock,
	"table": kindBlock, "tbody": kindBlock, "thead": kindBlock, "tfoot": kindBlock,
	"p": kindPara, "h1": kindPara, "h2": kindPara, "h3": kindPara, "h4": kindPara,
	"h5": kindPara, "h6": kindPara,
	"blockquote": kindQuote, "pre": kindPre, "listing": kindPre, "plaintext": kindPre,
	"ul": kindList, "ol": kindList, "li": kindItem,
	"td": kindCell, "th": kindCell, "tr": kindRow,
	"a":     kindLink,
	"style": kindSkip, "script": kindSkip, "title": kindSkip, "template": kindSkip,
	"svg": kindSkip, "xml": kindSkip, "object": kindSkip, "select": kindSkip,
	"head": kindHead,
}

// headContent are the elements that may appear in <head>; any other start
// tag closes an unterminated <head>.
var headContent = map[string]bool{
	"meta": true, "link": true, "style": true, "script": true, "title": true,
	"base": true, "noscript": true, "template": true, "xml": true, "head": true, "html": true,
}

type element struct {
	name   string
	kind   kind
	hidden bool
	tight  bool // a paragraph without margins (Outlook's MsoNormal)
	// written and nbsp are the converter's counters when the element
	// opened: an Outlook paragraph holding only &nbsp; is a blank line.
	written, nbsp int
	href          string
	text          strings.Builder // link text, for kindLink
}

type line struct {
	depth int
	text  string // empty for a blank line
}

type converter struct {
	lines []line

	cur          strings.Builder
	curDepth     int
	curHasText   bool
	pendingSpace bool
	wantBlank    bool
	itemPrefix   string

	stack  []*element
	counts map[string]int // open elements by name

	quoteDepth, preDepth, listDepth, skipDepth, hiddenDepth, headDepth int
	links                                                              []*element

	written int // runes written so far
	nbsp    int // text tokens seen that contain a no-break space
}

func newConverter() *converter {
	return &converter{counts: make(map[string]int)}
}

// textToken renders a text token (raw, entities not yet decoded).
func (c *converter) textToken(raw string) {
	if c.skipDepth > 0 || c.hiddenDepth > 0 {
		return
	}
	text := html.UnescapeString(raw)
	if c.headDepth > 0 {
		if strings.TrimSpace(text) == "" {
			return
		}
		c.popTo("head") // text cannot live in <head>: the body has started
	}
	if strings.ContainsRune(text, '\u00a0') {
		c.nbsp++
	}
	if c.preDepth > 0 {
		c.preText(text)
	} else {
		c.text(text)
	}
}

func (c *converter) start(t tag) {
	name := t.name
	if c.headDepth > 0 && !headContent[name] && !strings.Contains(name, ":") {
		c.popTo("head")
	}
	if name == "body" && c.headDepth > 0 {
		c.popTo("head")
	}
	switch name {
	case "br":
		c.lineBreak()
		return
	case "hr":
		c.blank()
		return
	case "img":
		// Mail clients render emoji as images; keep their alt text.
		if t.hasAlt && c.skipDepth == 0 && c.hiddenDepth == 0 && isEmojiAlt(t.alt) {
			c.text(t.alt)
		}
		return
	}
	if voidElements[name] {
		return
	}
	k := elementKinds[name]
	selfClosing := t.selfClosing
	if selfClosing && k != kindOther {
		// <div/> and the like: a block boundary with no content.
		c.boundary(k, t)
		return
	}
	if selfClosing {
		return
	}
	if k == kindLink && c.counts["a"] > 0 {
		c.popTo("a") // links do not nest
	}
	if k == kindItem {
		// An unclosed <li> is closed by the next one.
		if n := len(c.stack); n > 0 && c.stack[n-1].kind == kindItem {
			c.pop()
		}
	}
	e := &element{name: name, kind: k, hidden: t.hidden, tight: t.tight, written: c.written, nbsp: c.nbsp}
	if k == kindLink {
		e.href = t.href
	}
	c.push(e)
	c.boundary(k, t)
	if k == kindItem && c.skipDepth == 0 && c.hiddenDepth == 0 {
		depth := max(c.listDepth, 1)
		c.itemPrefix = strings.Repeat("  ", depth-1) + "- "
	}
}

// boundary emits the line break a block element causes at its start.
func (c *converter) boundary(k kind, t tag) {
	switch k {
	case kindBlock, kindRow, kindItem, kindList, kindQuote, kindPre:
		c.newline()
	case kindPara:
		if t.tight {
			c.newline()
		} else {
			c.blank()
		}
	case kindCell:
		if c.curHasText {
			c.pendingSpace = true
		}
	}
}

// scopeSearch bounds how deep an end tag looks for its element, keeping
// the conversion linear on deeply nested garbage.
const scopeSearch = 256

func (c *converter) end(name string) {
	if c.counts[name] == 0 || !c.inScope(name) {
		// A stray end tag still breaks lines the way browsers do for </p>, </br>.
		switch name {
		case "br":
			c.lineBreak()
		case "p":
			c.blank()
		}
		return
	}
	c.popTo(name)
}

// inScope reports whether an end tag can close an open element: like a
// browser, a cell or table boundary stops the search, so a stray </td> in a
// quoted table does not close the blockquote around it.
func (c *converter) inScope(name string) bool {
	tablePart := false
	switch name {
	case "td", "th", "tr", "tbody", "thead", "tfoot", "caption":
		tablePart = true
	}
	for k := len(c.stack) - 1; k >= 0 && k >= len(c.stack)-scopeSearch; k-- {
		e := c.stack[k].name
		if e == name {
			return true
		}
		switch e {
		case "table":
			return false
		case "td", "th", "caption":
			if !tablePart {
				return false
			}
		}
	}
	return false
}

func (c *converter) push(e *element) {
	c.stack = append(c.stack, e)
	c.counts[e.name]++
	switch e.kind {
	case kindSkip:
		c.skipDepth++
	case kindHead:
		c.headDepth++
	case kindQuote:
		c.newline()
		c.quoteDepth++
	case kindPre:
		c.preDepth++
	case kindList:
		c.listDepth++
	case kindLink:
		c.links = append(c.links, e)
	}
	if e.hidden {
		c.hiddenDepth++
	}
}

// popTo pops elements up to and including the innermost one named name.
func (c *converter) popTo(name string) {
	if c.counts[name] == 0 {
		return
	}
	for len(c.stack) > 0 {
		e := c.pop()
		if e.name == name {
			return
		}
	}
}

func (c *converter) pop() *element {
	n := len(c.stack) - 1
	e := c.stack[n]
	c.stack[n] = nil
	c.stack = c.stack[:n]
	c.counts[e.name]--
	if e.hidden {
		c.hiddenDepth--
	}
	switch e.kind {
	case kindSkip:
		c.skipDepth--
	case kindHead:
		c.headDepth--
	case kindQuote:
		c.newline()
		c.quoteDepth--
	case kindPre:
		c.newline()
		c.preDepth--
	case kindList:
		c.newline()
		c.listDepth--
		c.itemPrefix = ""
	case kindItem, kindBlock, kindRow:
		c.newline()
	case kindPara:
		if e.tight {
			if c.written == e.written && c.nbsp > e.nbsp {
				c.lineBreak()
			}
			c.newline()
		} else {
			c.blank()
		}
	case kindLink:
		c.links = c.links[:len(c.links)-1]
		if c.skipDepth == 0 && c.hiddenDepth == 0 {
			if suffix := linkSuffix(e.href, e.text.String()); suffix != "" {
				c.text(suffix)
			}
		}
	}
	return e
}

// text writes normal-flow text: whitespace runs collapse to one space.
func (c *converter) text(s string) {
	for _, r := range s {
		if isCollapsible(r) {
			if c.curHasText {
				c.pendingSpace = true
			}
			continue
		}
		if dropRune(r) {
			continue
		}
		c.startLine()
		if c.pendingSpace {
			c.write(' ')
			c.pendingSpace = false
		}
		c.write(r)
	}
}

// preText writes preformatted text: spaces and line breaks are kept.
func (c *converter) preText(s string) {
	for _, r := range s {
		switch {
		case r == '\n':
			c.lineBreak()
		case r == '\r':
		case r == '\t' || r == ' ' || r == '\u00a0':
			c.startLine()
			if r == '\t' {
				c.write('\t')
			} else {
				c.write(' ')
			}
		case dropRune(r):
		default:
			c.startLine()
			c.write(r)
		}
	}
}

func (c *converter) write(r rune) {
	c.written++
	c.cur.WriteRune(r)
	for _, l := range c.links {
		l.text.WriteRune(r)
	}
}

// startLine begins a new output line if none is open.
func (c *converter) startLine() {
	if c.curHasText {
		return
	}
	if c.wantBlank && len(c.lines) > 0 && c.lines[len(c.lines)-1].text != "" {
		c.lines = append(c.lines, line{depth: min(c.quoteDepth, c.lines[len(c.lines)-1].depth)})
	}
	c.wantBlank = false
	c.curDepth = c.quoteDepth
	c.cur.Reset()
	c.curHasText = true
	c.pendingSpace = false
	if c.itemPrefix != "" {
		c.cur.WriteString(c.itemPrefix)
		c.itemPrefix = ""
	}
}

// newline ends the current line, if any.
func (c *converter) newline() {
	c.pendingSpace = false
	if !c.curHasText {
		return
	}
	c.lines = append(c.lines, line{depth: c.curDepth, text: strings.TrimRight(c.cur.String(), " \t")})
	c.cur.Reset()
	c.curHasText = false
}

// lineBreak is <br>: it ends the current line, or adds an empty one.
func (c *converter) lineBreak() {
	if c.skipDepth > 0 || c.hiddenDepth > 0 {
		return
	}
	if c.curHasText {
		c.newline()
		return
	}
	c.wantBlank = false
	c.lines = append(c.lines, line{depth: c.quoteDepth})
}

// blank asks for an empty line before the next text.
func (c *converter) blank() {
	c.newline()
	if c.skipDepth == 0 && c.hiddenDepth == 0 {
		c.wantBlank = true
	}
}

func (c *converter) finish() string {
	c.newline()
	var b strings.Builder
	lastBlank := true // suppresses leading blank lines
	pendingBlank := ""
	for _, l := range c.lines {
		prefix := strings.Repeat("> ", l.depth)
		if l.text == "" {
			if !lastBlank {
				pendingBlank = strings.TrimRight(prefix, " ")
				lastBlank = true
			}
			continue
		}
		if pendingBlank != "" || (lastBlank && b.Len() > 0) {
			b.WriteString(pendingBlank)
			b.WriteByte('\n')
		}
		pendingBlank = ""
		lastBlank = false
		b.WriteString(prefix)
		b.WriteString(l.text)
		b.WriteByte('\n')
	}
	return strings.TrimRight(b.String(), "\n")
}

// hiddenStyle reports a style attribute with display:none or
// visibility:hidden (whitespace and case ignored).
func hiddenStyle(style string) bool {
	if !containsFold(style, "none") && !containsFold(style, "hidden") && utf8.RuneCountInString(style) == len(style) {
		return false // the fast path; non-ASCII letters may lower-case to ASCII
	}
	style = strings.ToLower(strings.Join(strings.Fields(style), ""))
	return strings.Contains(style, "display:none") || strings.Contains(style, "visibility:hidden")
}

// containsFold reports whether s contains the lower-case ASCII word w,
// ignoring case.
func containsFold(s, w string) bool {
	for i := 0; i+len(w) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(w)], w) {
			return true
		}
	}
	return false
}

func isCollapsible(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\r', '\f', '\v', '\u00a0', '\u0085':
		return true
	}
	return false
}

// dropRune reports control characters (and a byte order mark) that must not
// reach the output.
func dropRune(r rune) bool {
	return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\ufeff'
}

func isEmojiAlt(alt string) bool {
	alt = strings.TrimSpace(alt)
	if alt == "" || utf8.RuneCountInString(alt) > 4 {
		return false
	}
	for _, r := range alt {
		if (r >= 0x2190 && r <= 0x2bff) || (r >= 0x1f000 && r <= 0x1faff) {
			return true
		}
	}
	return false
}

// linkSuffix returns " <target>" for a link whose http(s) or mailto target is
// not already its visible text.
func linkSuffix(href, text string) string {
	href = strings.TrimSpace(href)
	lower := strings.ToLower(href)
	target := href
	switch {
	case strings.HasPrefix(lower, "mailto:"):
		target = href[len("mailto:"):]
		if i := strings.IndexByte(target, '?'); i >= 0 {
			target = target[:i]
		}
		if target == "" {
			return ""
		}
	case strings.HasPrefix(lower, "http://"), strings.HasPrefix(lower, "https://"):
	default:
		return ""
	}
	text = strings.TrimSpace(text)
	if text == "" || sameTarget(target, text) {
		return ""
	}
	for _, r := range target {
		if dropRune(r) || isCollapsible(r) {
			return ""
		}
	}
	return " <" + target + ">"
}

func sameTarget(target, text string) bool {
	norm := func(s string) string {
		s = strings.ToLower(strings.TrimSpace(s))
		for _, p := range []string{"mailto:", "https://", "http://", "www."} {
			s = strings.TrimPrefix(s, p)
		}
		return strings.TrimRight(s, "/")
	}
	return norm(target) == norm(text)
}
