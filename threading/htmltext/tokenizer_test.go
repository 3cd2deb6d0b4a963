package htmltext

import (
	"strings"
	"testing"
)

func TestTokenizer_UnterminatedQuoteEndsAtNextAngle(t *testing.T) {
	for _, tc := range []struct {
		in, name, key, val, next string
	}{
		{`<p class="x>broken</p>`, "p", "class", "x", "broken"},
		{`<a title="a>b" c='x>text`, "a", "c", "x", "text"},
		{`<div id='a' style="x>tail`, "div", "style", "x", "tail"},
		{`<img alt="👍`, "img", "alt", "👍", ""},
		{`<br`, "br", "", "", ""},
	} {
		z := NewTokenizer(tc.in)
		tok, ok := z.Next()
		if !ok || tok.Data != tc.name || tok.Start != 0 {
			t.Fatalf("%q: first token %+v", tc.in, tok)
		}
		if tc.key != "" {
			if v, _ := tok.AttrVal(tc.key); v != tc.val {
				t.Errorf("%q: %s = %q, want %q", tc.in, tc.key, v, tc.val)
			}
		}
		next, ok := z.Next()
		if tc.next == "" {
			if ok || tok.End != len(tc.in) {
				t.Errorf("%q: tag ends at %d, then %+v", tc.in, tok.End, next)
			}
			continue
		}
		if !ok || next.Type != TextToken || next.Data != tc.next || next.Start != tok.End {
			t.Errorf("%q: after the tag %+v", tc.in, next)
		}
	}
}

func TestTokenizer_NoscriptIsMarkupScriptIsNot(t *testing.T) {
	var got []string
	z := NewTokenizer(`<noscript><b>x</b></noscript><script/><i>y</i><script>a<b>c</script>`)
	for {
		tok, ok := z.Next()
		if !ok {
			break
		}
		got = append(got, tok.Data)
	}
	want := "noscript b x b noscript script i y i script a<b>c script"
	if strings.Join(got, " ") != want {
		t.Errorf("tokens %q, want %q", strings.Join(got, " "), want)
	}
}

func FuzzTokenizer_OffsetsCoverInput(f *testing.F) {
	for _, s := range []string{"", "<p>x</p>", `<a b="`, `<a b='x>y`, "</", "<!--", "<br", `<x y="a>b" z='c>d`, "<script><!--<script></script>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		z := NewTokenizer(in)
		pos := 0
		for {
			tok, ok := z.Next()
			if !ok {
				break
			}
			if tok.Start != pos || tok.End <= tok.Start || tok.End > len(in) {
				t.Fatalf("token %+v does not continue at %d in %q", tok, pos, in)
			}
			pos = tok.End
		}
		if pos != len(in) {
			t.Fatalf("tokens end at %d, input %q is %d bytes", pos, in, len(in))
		}
	})
}
