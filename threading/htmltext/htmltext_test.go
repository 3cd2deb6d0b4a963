package htmltext

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestConvert(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{
			name: "plain text passes through",
			in:   "Hello world",
			want: "Hello world",
		},
		{
			name: "head, style, script, title and comments are dropped",
			in: `<html><head><title>Subject</title><style>p{color:red}</style>
<script>alert("x<b>")</script></head><body><!-- a comment <p>hidden</p> -->
<p>Visible</p><script type="text/javascript">var a = "</p>";</script></body></html>`,
			want: "Visible",
		},
		{
			name: "unterminated head ends at the first body element",
			in:   `<head><meta charset="utf-8"><div>Body text</div>`,
			want: "Body text",
		},
		{
			name: "text directly in an unterminated head is body text",
			in:   `<head><meta charset="utf-8">Hello`,
			want: "Hello",
		},
		{
			name: "block elements become line breaks",
			in:   `<div>one</div><div>two</div><p>three</p><h1>four</h1>five<br>six`,
			want: "one\ntwo\n\nthree\n\nfour\n\nfive\nsix",
		},
		{
			name: "whitespace inside lines collapses",
			in:   "<p>  a \n\t b&nbsp;&nbsp; c  </p>",
			want: "a b c",
		},
		{
			name: "at most one blank line in a row",
			in:   "a<br><br><br><br><br>b<p></p><p></p><p>c</p>",
			want: "a\n\nb\n\nc",
		},
		{
			name: "entities are decoded",
			in:   "<p>Tom &amp; Jerry &lt;tom@example.com&gt; &quot;caf&eacute;&quot; &#xAC00;&#44032; &copy;</p>",
			want: `Tom & Jerry <tom@example.com> "café" 가가 ©`,
		},
		{
			name: "list items get a dash, nested lists are indented",
			in:   "<ul><li>one</li><li>two<ul><li>two.a</li></ul></li><li>three</ul>after",
			want: "- one\n- two\n  - two.a\n- three\nafter",
		},
		{
			name: "unclosed list items close each other",
			in:   "<ol><li>first<li>second</ol>",
			want: "- first\n- second",
		},
		{
			name: "link keeps its text and adds a differing target",
			in:   `<p>See <a href="https://example.com/kb/42">the article</a>.</p>`,
			want: "See the article <https://example.com/kb/42>.",
		},
		{
			name: "link whose text is its target is not repeated",
			in:   `<a href="https://example.com/">https://example.com</a> <a href="mailto:bob@example.com">bob@example.com</a>`,
			want: "https://example.com bob@example.com",
		},
		{
			name: "mailto target is shown as the address",
			in:   `<a href="mailto:bob@example.com?subject=Hi">Bob</a>`,
			want: "Bob <bob@example.com>",
		},
		{
			name: "non-http targets and empty link texts add nothing",
			in:   `<a href="javascript:void(0)">click</a> <a href="https://example.com/logo"><img src="logo.png" alt="Logo"></a>done`,
			want: "click done",
		},
		{
			name: "blockquote content is prefixed per line",
			in:   `<p>Reply</p><blockquote>Line one<br>Line two<blockquote>Nested</blockquote></blockquote><p>After</p>`,
			want: "Reply\n\n> Line one\n> Line two\n> > Nested\n\nAfter",
		},
		{
			name: "blank lines inside a blockquote keep the prefix",
			in:   `<blockquote><div>a</div><div><br></div><div>b</div></blockquote>`,
			want: "> a\n>\n> b",
		},
		{
			name: "pre keeps its spacing",
			in:   "<pre>func main() {\n\tfmt.Println(\"hi\")\n}</pre>after",
			want: "func main() {\n\tfmt.Println(\"hi\")\n}\nafter",
		},
		{
			name: "table cells are separated, rows are lines",
			in:   "<table><tr><td>Name</td><td>Kim</td></tr><tr><th>Case</th><td>#42</td></tr></table>",
			want: "Name Kim\nCase #42",
		},
		{
			name: "display none and hidden elements are dropped",
			in:   `<div style="display: none; max-height:0">preheader</div><span hidden>x</span><p>shown</p>`,
			want: "shown",
		},
		{
			name: "emoji images keep their alt text",
			in:   `Thanks <img src="x.png" alt="👍" class="emoji"> <img src="logo.png" alt="ACME logo">`,
			want: "Thanks 👍",
		},
		{
			name: "outlook conditional comments and o:p tags vanish",
			in:   `<!--[if gte mso 9]><xml><o:shapedefaults v:ext="edit" spidmax="1026" /></xml><![endif]--><p class=MsoNormal>Hi<o:p></o:p></p><![if !supportLists]><span>·</span><![endif]>`,
			want: "Hi\n·",
		},
		{
			name: "outlook empty paragraphs are blank lines",
			in:   `<p class=MsoNormal>One<o:p></o:p></p><p class=MsoNormal><o:p>&nbsp;</o:p></p><p class=MsoNormal>Two<o:p></o:p></p>`,
			want: "One\n\nTwo",
		},
		{
			name: "broken markup degrades to text",
			in:   `a < b and c<d <p class="x>broken</p> 1<2 <3 </>end`,
			want: "a < b and cbroken\n\n1<2 <3 end",
		},
		{
			name: "unterminated comment swallows the rest",
			in:   "before<!-- never closed <p>x</p>",
			want: "before",
		},
		{
			name: "control characters and NUL are removed",
			in:   "a\x00b\x01c\x7f\u0085d",
			want: "abc d",
		},
		{
			name: "invalid UTF-8 is replaced",
			in:   "caf\xe9 ok",
			want: "caf\uFFFD ok",
		},
		{
			name: "a stray end tag inside a quoted table cell does not end the quote",
			in:   "<blockquote><table><tr><td>cell</blockquote>x</td></tr></table>still quoted</blockquote>after",
			want: "> cellx\n> still quoted\nafter",
		},
		{
			name: "a div end tag does not leave its table cell",
			in:   "<div><table><tr><td>cell</div>same cell</td></tr></table>out</div>",
			want: "cellsame cell\nout",
		},
		{
			name: "korean text and entities",
			in:   `<div>안녕하세요,</div><div><br></div><div>확인 부탁드립니다&nbsp;&amp;&nbsp;감사합니다.</div>`,
			want: "안녕하세요,\n\n확인 부탁드립니다 & 감사합니다.",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Convert(tt.in); got != tt.want {
				t.Errorf("Convert(%q)\n got: %q\nwant: %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestConvert_MailClients converts real-looking bodies written by Gmail,
// Outlook, Apple Mail and Thunderbird (testdata/*.html) and compares them to
// the expected text (testdata/*.txt).
func TestConvert_MailClients(t *testing.T) {
	files, err := filepath.Glob("testdata/*.html")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 4 {
		t.Fatalf("expected at least 4 client fixtures, found %d", len(files))
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".html")
		t.Run(name, func(t *testing.T) {
			in, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(strings.TrimSuffix(f, ".html") + ".txt")
			if err != nil {
				t.Fatal(err)
			}
			got := Convert(string(in))
			if got != strings.TrimRight(string(want), "\n") {
				t.Errorf("Convert(%s)\n got:\n%s\nwant:\n%s", f, got, want)
			}
		})
	}
}

func TestTokenizer_OffsetsCoverInput(t *testing.T) {
	in := `<!DOCTYPE html><div id="a" class='x y'>t&amp;<br/><!--c--><style>p{}</style></div>tail`
	z := NewTokenizer(in)
	pos := 0
	var types []TokenType
	for {
		tok, ok := z.Next()
		if !ok {
			break
		}
		if tok.Start != pos || tok.End <= tok.Start {
			t.Fatalf("token %+v does not continue at %d", tok, pos)
		}
		pos = tok.End
		types = append(types, tok.Type)
	}
	if pos != len(in) {
		t.Fatalf("tokens end at %d, input is %d bytes", pos, len(in))
	}
	want := []TokenType{DirectiveToken, StartTagToken, TextToken, SelfClosingToken, CommentToken, StartTagToken, TextToken, EndTagToken, EndTagToken, TextToken}
	if len(types) != len(want) {
		t.Fatalf("types = %v, want %v", types, want)
	}
	for i := range want {
		if types[i] != want[i] {
			t.Fatalf("types = %v, want %v", types, want)
		}
	}
}

func TestToken_AttributesAndClasses(t *testing.T) {
	z := NewTokenizer(`<DIV ID="helpdesk-reply-marker" Class="gmail_quote  Extra" data-x=a&amp;b hidden>`)
	tok, ok := z.Next()
	if !ok || tok.Type != StartTagToken || tok.Data != "div" {
		t.Fatalf("got %+v", tok)
	}
	if v, _ := tok.AttrVal("id"); v != "helpdesk-reply-marker" {
		t.Errorf("id = %q", v)
	}
	if v, _ := tok.AttrVal("data-x"); v != "a&b" {
		t.Errorf("data-x = %q", v)
	}
	if _, ok := tok.AttrVal("hidden"); !ok {
		t.Error("hidden attribute missing")
	}
	if !tok.HasClass("gmail_quote") || !tok.HasClass("extra") || tok.HasClass("gmail") {
		t.Errorf("HasClass wrong for %q", tok.Attr)
	}
}

func TestConvert_PathologicalInputFinishes(t *testing.T) {
	// Deep nesting and many unmatched tags must not blow up (the test only
	// checks the result; BenchmarkConvert measures speed).
	in := strings.Repeat("<div><blockquote><a href='https://x'>", 20000) + "x" + strings.Repeat("</span>", 20000)
	got := Convert(in)
	if !strings.Contains(got, "x") {
		t.Fatalf("lost the text: %q", got[:min(len(got), 100)])
	}
	in = strings.Repeat(`<a b="`, 5000) + strings.Repeat("<!--", 5000) + strings.Repeat("<p>&amp;", 5000)
	_ = Convert(in)
}

func FuzzConvert(f *testing.F) {
	seeds := []string{
		"",
		"<p>Hello</p>",
		"<blockquote type=cite>a<blockquote>b</blockquote></blockquote>",
		"<a href='https://x'>y</a><ul><li>z",
		"<pre>\x00\t x</pre>",
		"<!--", "<!", "</", "<a b='", "<script>", "<style>a</styl", "&#0;&#xD800;&",
		"<head>x<body>y", "<p class=MsoNormal>&nbsp;</p>",
		"\xff\xfe<div>\xc3</div>",
	}
	if files, err := filepath.Glob("testdata/*.html"); err == nil {
		for _, file := range files {
			if b, err := os.ReadFile(file); err == nil {
				seeds = append(seeds, string(b))
			}
		}
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := Convert(in)
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 output for %q", in)
		}
		for _, r := range out {
			if r == 0 || (r < 0x20 && r != '\n' && r != '\t') {
				t.Fatalf("control character %U in output for %q", r, in)
			}
		}
		if strings.Contains(out, "\n\n\n") {
			t.Fatalf("more than one blank line in a row for %q: %q", in, out)
		}
	})
}

func BenchmarkConvert(b *testing.B) {
	files, _ := filepath.Glob("testdata/*.html")
	var docs []string
	size := 0
	for _, f := range files {
		d, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		docs = append(docs, string(d))
		size += len(d)
	}
	b.SetBytes(int64(size))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, d := range docs {
			_ = Convert(d)
		}
	}
}
