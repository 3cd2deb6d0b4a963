package htmltext

import (
	"html"
	"strings"
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
	Data       string // lower-cased tag name, or raw text / comment body
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

// Tokenizer splits HTML into tokens. It is tolerant: any input, however
// broken, yields a finite sequence of tokens covering it, without panicking.
// Every call to Next consumes at least one byte, so the work is linear in the
// input size (except for attribute-quote scans, which are bounded by the next
// '>' when a quote is unterminated).
type Tokenizer struct {
	s   string
	pos int
	// rawEnd is set after a start tag of a raw-text element (script, style,
	// ...): its content is text up to the matching end tag.
	rawTag string
}

// NewTokenizer returns a tokenizer over s.
func NewTokenizer(s string) *Tokenizer {
	return &Tokenizer{s: s}
}

// rawTextElements hold text that is not parsed as markup.
var rawTextElements = map[string]bool{
	"script": true, "style": true, "textarea": true, "title": true,
	"xmp": true, "iframe": true, "noembed": true, "noframes": true,
}

// Next returns the next token, or false at the end of the input.
func (z *Tokenizer) Next() (Token, bool) {
	if z.pos >= len(z.s) {
		return Token{}, false
	}
	if z.rawTag != "" {
		tag := z.rawTag
		z.rawTag = ""
		if t, ok := z.rawText(tag); ok {
			return t, true
		}
	}
	start := z.pos
	s := z.s
	if s[start] == '<' && start+1 < len(s) {
		c := s[start+1]
		switch {
		case c == '!' || c == '?':
			return z.markupDeclaration(), true
		case c == '/':
			if start+2 < len(s) && isASCIILetter(s[start+2]) {
				t := z.tag(start+2, EndTagToken)
				return t, true
			}
			// "</>" is ignored, "</ ..." is a bogus comment.
			end := indexFrom(s, start+2, ">")
			if end < 0 {
				z.pos = len(s)
			} else {
				z.pos = end + 1
			}
			return Token{Type: CommentToken, Data: s[start+2 : max(start+2, z.pos-1)], Start: start, End: z.pos}, true
		case isASCIILetter(c):
			t := z.tag(start+1, StartTagToken)
			if t.Type == StartTagToken && rawTextElements[t.Data] {
				z.rawTag = t.Data
			}
			return t, true
		}
	}
	// Text up to the next '<' that can start markup.
	i := start + 1
	for i < len(s) {
		j := strings.IndexByte(s[i:], '<')
		if j < 0 {
			i = len(s)
			break
		}
		i += j
		if i+1 < len(s) {
			c := s[i+1]
			if c == '!' || c == '?' || c == '/' || isASCIILetter(c) {
				break
			}
		}
		i++
	}
	z.pos = i
	return Token{Type: TextToken, Data: s[start:i], Start: start, End: i}, true
}

// rawText returns the content of a raw-text element up to (not including)
// its end tag. It returns false when the element is empty.
func (z *Tokenizer) rawText(tag string) (Token, bool) {
	s := z.s
	start := z.pos
	i := start
	for {
		j := strings.IndexByte(s[i:], '<')
		if j < 0 {
			i = len(s)
			break
		}
		i += j
		if i+2+len(tag) <= len(s) && s[i+1] == '/' && strings.EqualFold(s[i+2:i+2+len(tag)], tag) {
			if k := i + 2 + len(tag); k == len(s) || !isASCIILetter(s[k]) && s[k] != '-' && s[k] != ':' {
				break
			}
		}
		i++
	}
	if i == start {
		return Token{}, false
	}
	z.pos = i
	return Token{Type: TextToken, Data: s[start:i], Start: start, End: i}, true
}

// markupDeclaration handles "<!", "<?": comments, doctypes, CDATA and
// conditional-comment fragments.
func (z *Tokenizer) markupDeclaration() Token {
	s := z.s
	start := z.pos
	if strings.HasPrefix(s[start:], "<!--") {
		body := start + 4
		// "<!-->" and "<!--->" are empty comments.
		if strings.HasPrefix(s[body:], ">") {
			z.pos = body + 1
			return Token{Type: CommentToken, Start: start, End: z.pos}
		}
		if strings.HasPrefix(s[body:], "->") {
			z.pos = body + 2
			return Token{Type: CommentToken, Start: start, End: z.pos}
		}
		end := indexFrom(s, body, "-->")
		if end < 0 {
			z.pos = len(s)
			return Token{Type: CommentToken, Data: s[body:], Start: start, End: z.pos}
		}
		z.pos = end + 3
		return Token{Type: CommentToken, Data: s[body:end], Start: start, End: z.pos}
	}
	end := indexFrom(s, start+2, ">")
	if end < 0 {
		z.pos = len(s)
		return Token{Type: DirectiveToken, Data: s[start+2:], Start: start, End: z.pos}
	}
	z.pos = end + 1
	return Token{Type: DirectiveToken, Data: s[start+2 : end], Start: start, End: z.pos}
}

// tag parses a start or end tag whose name begins at i.
func (z *Tokenizer) tag(i int, typ TokenType) Token {
	s := z.s
	start := z.pos
	j := i
	for j < len(s) && !isSpace(s[j]) && s[j] != '/' && s[j] != '>' {
		j++
	}
	t := Token{Type: typ, Data: strings.ToLower(s[i:j]), Start: start}
	// Attributes.
	for j < len(s) {
		for j < len(s) && (isSpace(s[j]) || s[j] == '/') {
			if s[j] == '/' && j+1 < len(s) && s[j+1] == '>' && typ == StartTagToken {
				t.Type = SelfClosingToken
			}
			j++
		}
		if j >= len(s) {
			break
		}
		if s[j] == '>' {
			j++
			z.pos = j
			t.End = j
			return t
		}
		k := j
		for k < len(s) && !isSpace(s[k]) && s[k] != '=' && s[k] != '>' && s[k] != '/' {
			k++
		}
		if k == j { // a lone '=' or similar: skip it
			k++
		}
		key := strings.ToLower(s[j:k])
		j = k
		for j < len(s) && isSpace(s[j]) {
			j++
		}
		val := ""
		if j < len(s) && s[j] == '=' {
			j++
			for j < len(s) && isSpace(s[j]) {
				j++
			}
			if j < len(s) && (s[j] == '"' || s[j] == '\'') {
				q := s[j]
				end := strings.IndexByte(s[j+1:], q)
				if end < 0 {
					// Unterminated quote: end the value at the next '>' so that
					// one bad attribute does not swallow the whole document.
					gt := strings.IndexByte(s[j+1:], '>')
					if gt < 0 {
						val = s[j+1:]
						j = len(s)
					} else {
						val = s[j+1 : j+1+gt]
						j = j + 1 + gt
					}
				} else {
					val = s[j+1 : j+1+end]
					j = j + 1 + end + 1
				}
			} else {
				k := j
				for k < len(s) && !isSpace(s[k]) && s[k] != '>' {
					k++
				}
				val = s[j:k]
				j = k
			}
		}
		if typ != EndTagToken && key != "" && len(t.Attr) < 64 {
			t.Attr = append(t.Attr, Attribute{Key: key, Val: html.UnescapeString(val)})
		}
	}
	z.pos = len(s)
	t.End = len(s)
	return t
}

func indexFrom(s string, from int, sub string) int {
	if from > len(s) {
		return -1
	}
	i := strings.Index(s[from:], sub)
	if i < 0 {
		return -1
	}
	return from + i
}

func isASCIILetter(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'
}
