package htmltext

import (
	"strings"

	"golang.org/x/net/html"
)

// TokenType says what a Token is.
type TokenType uint8

// Token types produced by the Tokenizer.
const (
	TextToken        TokenType = iota + 1 // character data between tags (Data is raw, entities not decoded)
	StartTagToken                         // <name attr=...>
	EndTagToken                           // </name>
	SelfClosingToken                      // <name .../>
	CommentToken                          // <!-- ... -->
	DirectiveToken                        // <!DOCTYPE ...>, <?xml ...?>, <![if ...]> and other markup declarations
)

// Attribute is one attribute of a tag. Key is lower-cased, Val has its
// entities decoded.
type Attribute struct {
	Key, Val string
}

// Token is one piece of an HTML document. Start and End are byte offsets of
// the token in the tokenized input, so callers can cut the input at a token.
type Token struct {
	Type       TokenType
	Data       string // lower-cased tag name, or the raw text of a text, comment or directive
	Attr       []Attribute
	Start, End int
}

// AttrVal returns the value of the attribute key (lower-case) and whether
// the token has it.
func (t Token) AttrVal(key string) (string, bool) {
	for _, a := range t.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

// HasClass reports whether the token's class attribute contains the class c
// (case-insensitive).
func (t Token) HasClass(c string) bool {
	v, ok := t.AttrVal("class")
	if !ok {
		return false
	}
	for _, f := range strings.Fields(v) {
		if strings.EqualFold(f, c) {
			return true
		}
	}
	return false
}

// Tokenizer splits HTML into tokens with golang.org/x/net/html's tokenizer,
// adding the byte offsets of each token in the input and two rules of ours:
//   - an attribute value with an unterminated quote ends at the next '>'
//     after the quote (x/net/html would let it run to the end of the input),
//     so that one bad attribute does not swallow the whole document; a tag
//     cut off by the end of the input is still a tag;
//   - only script, style, textarea, title, xmp, iframe, noembed and noframes
//     hold raw text, and only after a start tag that is not self-closing:
//     <noscript> and <plaintext> content is markup.
//
// Any input, however broken, yields a finite sequence of tokens covering it,
// without panicking, in time linear in the input size.
type Tokenizer struct {
	s string
	z *html.Tokenizer
	// in is what z reads: s from some offset on, or, after a repaired tag,
	// the repaired tag followed by the rest of s.
	in    string
	inPos int // offset in in of the end of the current token
	// extra is how many bytes the next token has in in beyond its bytes in
	// s: the quote and '>' a repair added.
	extra      int
	typ        TokenType
	start, end int    // offsets of the current token in s
	raw        []byte // the current token as z reads it
	done       bool
}

// NewTokenizer returns a tokenizer over s.
func NewTokenizer(s string) *Tokenizer {
	return &Tokenizer{s: s, in: s, z: html.NewTokenizer(strings.NewReader(s))}
}

// Next returns the next token, or false at the end of the input.
func (z *Tokenizer) Next() (Token, bool) {
	typ := z.next()
	if typ == 0 {
		return Token{}, false
	}
	t := Token{Type: typ, Start: z.start, End: z.end}
	raw := z.s[z.start:z.end]
	switch typ {
	case TextToken, CommentToken, DirectiveToken:
		t.Data = raw
	case StartTagToken, SelfClosingToken, EndTagToken:
		name, more := z.z.TagName()
		t.Data = z.str(name)
		if typ == EndTagToken {
			break
		}
		for more {
			var key, val []byte
			key, val, more = z.z.TagAttr()
			t.Attr = append(t.Attr, Attribute{Key: z.str(key), Val: z.str(val)})
		}
	}
	return t, true
}

// next advances to the next token and returns its type, or 0 at the end.
// Tag names and attributes are then read from z.z (TagName, TagAttr); the
// token is z.s[z.start:z.end].
func (z *Tokenizer) next() TokenType {
	if z.done {
		return 0
	}
	tt := z.z.Next()
	if tt == html.ErrorToken {
		if z.inPos >= len(z.in) || !z.repair() {
			z.done = true
			z.typ = 0
			return 0
		}
		tt = z.z.Next()
	}
	z.raw = z.z.Raw()
	n := len(z.raw)
	z.inPos += n
	z.start = z.end
	z.end += n - z.extra
	z.extra = 0
	switch tt {
	case html.TextToken:
		z.typ = TextToken
	case html.StartTagToken:
		z.typ = StartTagToken
		z.checkRawText(true)
	case html.SelfClosingTagToken:
		z.typ = SelfClosingToken
		z.checkRawText(false)
	case html.EndTagToken:
		z.typ = EndTagToken
	case html.DoctypeToken:
		z.typ = DirectiveToken
	default: // html.CommentToken: comments, and bogus comments such as <?xml ...> and <![if ...]>
		z.typ = CommentToken
		if raw := z.s[z.start:z.end]; !strings.HasPrefix(raw, "<!--") && !strings.HasPrefix(raw, "</") {
			z.typ = DirectiveToken
		}
	}
	return z.typ
}

// checkRawText undoes x/net/html's raw-text mode where ours differs: after
// <noscript> and <plaintext>, and after a self-closing tag.
func (z *Tokenizer) checkRawText(start bool) {
	name := z.s[z.start+1 : z.end]
	if i := strings.IndexAny(name, " \t\n\r\f/>"); i >= 0 {
		name = name[:i]
	}
	if len(name) < 3 || len(name) > len("plaintext") {
		return
	}
	name = strings.ToLower(name)
	if name == "noscript" || name == "plaintext" || !start && rawTextElements[name] {
		z.z.NextIsNotRawText()
	}
}

// rawTextElements hold text that is not parsed as markup.
var rawTextElements = map[string]bool{
	"script": true, "style": true, "textarea": true, "title": true,
	"xmp": true, "iframe": true, "noembed": true, "noframes": true,
}

// repair is called when x/net/html stops at a tag it could not finish
// before the end of the input. If an attribute value's quote is
// unterminated, the value ends at the next '>' after the quote; else the tag
// ends at the end of the input. repair restarts x/net/html on the mended
// tag followed by the rest of the input, and reports whether it could.
func (z *Tokenizer) repair() bool {
	rest := z.in[z.inPos:]
	if len(rest) < 2 || rest[0] != '<' {
		return false
	}
	try := func(tag, closing string, consumed int) bool {
		cand := tag + closing
		t := html.NewTokenizer(strings.NewReader(cand))
		switch t.Next() {
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
		default:
			return false
		}
		if len(t.Raw()) != len(cand) {
			return false
		}
		z.in = cand + rest[consumed:]
		z.inPos = 0
		z.extra = len(cand) - consumed
		z.z = html.NewTokenizer(strings.NewReader(z.in))
		return true
	}
	if try(rest, ">", len(rest)) {
		return true
	}
	for _, q := range []string{`"`, `'`} {
		i := strings.LastIndex(rest, q)
		if i < 0 {
			continue
		}
		gt := strings.IndexByte(rest[i+1:], '>')
		if gt < 0 {
			if try(rest, q+">", len(rest)) {
				return true
			}
			continue
		}
		gt += i + 1
		if try(rest[:gt], q+">", gt+1) {
			return true
		}
	}
	return false
}

// str returns b, a piece of the current token as x/net/html returns it
// (lower-cased, unescaped), as a string: the same bytes of the input when
// they are unchanged, so that most names and values do not allocate.
func (z *Tokenizer) str(b []byte) string {
	// b and z.raw share x/net/html's buffer: the difference of their
	// capacities is b's offset in the token.
	if off := cap(z.raw) - cap(b); off >= 0 && off+len(b) <= z.end-z.start {
		if src := z.s[z.start+off : z.start+off+len(b)]; src == string(b) {
			return src
		}
	}
	return string(b)
}
