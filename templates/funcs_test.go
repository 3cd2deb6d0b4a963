package templates

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestHumanSize(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0 B"},
		{1023, "1023 B"},
		{1024, "1 KB"},
		{184_320, "180 KB"},
		{1_258_291, "1.2 MB"},
		{1024*1024 - 1, "1 MB"}, // 1023.999 KB would print as "1024 KB"
		{26_214_400, "25 MB"},
		{5 * 1024 * 1024 * 1024, "5 GB"},
	}
	for _, tt := range tests {
		if got := humanSize(tt.n); got != tt.want {
			t.Errorf("humanSize(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestFormatDateTime_PerLocaleInTheTimesOwnZone(t *testing.T) {
	seoul := time.FixedZone("KST", 9*3600)
	at := time.Date(2025, time.March, 9, 8, 5, 0, 0, seoul)
	tests := []struct {
		locale string
		t      time.Time
		want   string
	}{
		{"en", at, "Sun, 9 Mar 2025 08:05 KST"},
		{"ko", at, "2025년 3월 9일 (일) 08:05 KST"},
		{"en", at.UTC(), "Sat, 8 Mar 2025 23:05 UTC"},
		{"ko", time.Time{}, ""},
	}
	for _, tt := range tests {
		if got := formatDateTime(tt.locale, tt.t); got != tt.want {
			t.Errorf("formatDateTime(%s, %v) = %q, want %q", tt.locale, tt.t, got, tt.want)
		}
	}
	if got := formatDate("ko", at); got != "2025년 3월 9일" {
		t.Errorf("formatDate ko = %q", got)
	}
}

func TestExcerpt(t *testing.T) {
	tests := []struct {
		name string
		n    int
		in   string
		want string
	}{
		{"short text is kept", 20, "  hello world \r\n", "hello world"},
		{"cut at a nearby space", 11, "the quick brown fox", "the quick …"},
		{"no space near the cut", 12, "hello wonderful world", "hello wonder …"},
		{"cut inside a long word", 10, "abcdefghijklmnop", "abcdefghij …"},
		{"counts runes, not bytes", 3, "문의가 접수되었습니다", "문의가 …"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := excerpt(tt.n, tt.in); got != tt.want {
				t.Errorf("excerpt(%d, %q) = %q, want %q", tt.n, tt.in, got, tt.want)
			}
		})
	}
}

func TestQuoteLinesAndHTMLLines(t *testing.T) {
	if got := quoteLines("a\r\n\nb"); got != "> a\n>\n> b" {
		t.Errorf("quoteLines = %q", got)
	}
	if got := htmlLines("<a>\r\n&"); got != "&lt;a&gt;<br>\n&amp;" {
		t.Errorf("htmlLines = %q", got)
	}
}

func TestTidyText(t *testing.T) {
	in := "\n\nHello,  \n\n\n\nbody\t\n  indented\n\n\n"
	if got, want := tidyText(in), "Hello,\n\nbody\n  indented\n"; got != want {
		t.Errorf("tidyText = %q, want %q", got, want)
	}
}

// The package imports no other package of the module (see DESIGN.md §1).
func TestPackage_ImportsOnlyTheStandardLibrary(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range af.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if first, _, _ := strings.Cut(p, "/"); strings.Contains(first, ".") {
				t.Errorf("%s imports %s, which is not in the standard library", f, p)
			}
		}
	}
}
