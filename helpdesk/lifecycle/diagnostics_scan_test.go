package lifecycle

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// scanLines are lines for every branch of the diagnostics expressions, and
// near misses of them.
var scanLines = []string{
	"since 14:00", "at 9:30 the export failed", "2026-11-20", "on 11/20 we saw it", "Nov 20 it started", "20 Nov 09:00 +09:00",
	"today it broke", "Yesterday", "THIS MORNING", "last night's run", "lastnight", "on Monday", "mondays", "11월 20일", "오후 2시", "오늘 아침",
	"UTC", "utc", "UTC+9", "GMT -5", "14:00:00Z", "09:00 +0900", "KST.", "in IST", "ISTANBUL", "our local time", "seoul time zone",
	"localtime", "한국 시간", "한국시간", "서울  시간", "한국 표준시", "한국표준시", "server time",
	"v2.3.1", "version 5", "ver. 3.2", "Build #1234", "버전: 2.3", "release 7", "10.0.0.1", "2.3.1", "2026.11.20",
	"error", "Errors everywhere", "ERRNO 2", "segfault", "it crashed", "crashes", "stack trace", "stacktrace", "stack-trace",
	"TypeError: x", "NullPointerException", "xterror", "terror", "mirror", "Exceptional", "java.lang.IllegalStateException: no rows",
	"    at com.example.Export.run(Export.java:42)", "look at this (please)", "  File \"job.py\", line 3, in <module>",
	"goroutine 1 [running]:", "HTTP 500", "http://example.com/500", "502 Bad Gateway", "404 Not Found", "Not found", "403 forbidden",
	"오류가 납니다", "에러", "예외 발생", "장애 메시지", "my_TypeError", "TypeError2",
	"Steps to reproduce:", "reproducible", "how to repeat it", "재현 방법", "1단계",
	"40 users", "all of our users", "users: 40", "nobody can log in", "business impact", "impacted", "모든 사용자", "사용자 약 40명", "업무 영향",
}

// corpusLines are the distinct lines of the mail in this repository's test
// data: replies in 27 languages and the public MIME, bounce and reply
// corpora.
func corpusLines(t *testing.T) []string {
	t.Helper()
	seen := map[string]bool{}
	lines := append([]string(nil), scanLines...)
	for _, dir := range []string{"../../threading/reply/testdata/own", "../../threading/reply/testdata/blind", "../../threading/reply/testdata/corpora"} {
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if !utf8.Valid(b) {
				return nil
			}
			for _, l := range strings.Split(string(b), "\n") {
				if l = strings.TrimSuffix(l, "\r"); len(l) <= 400 && !seen[l] {
					seen[l] = true
					lines = append(lines, l)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("reading %s: %v", dir, err)
		}
	}
	return lines
}

// A scan's sure words must be matches of its expression, and a line the
// expression matches must be sure or may: then a scan says what its
// expression would say on the whole text, without running it on most lines.
func TestScans_AgreeWithTheirExpressions(t *testing.T) {
	lines := corpusLines(t)
	if len(lines) < 5000 {
		t.Fatalf("only %d corpus lines: is the test data there?", len(lines))
	}
	scans := map[string]scan{"when": scanWhen, "zone": scanZone, "version": scanVersion, "error": scanError, "steps": scanSteps, "impact": scanImpact}
	for name, s := range scans {
		matched, settled := 0, 0
		for _, raw := range lines {
			l := newLine(raw)
			re := s.re.MatchString(raw)
			sure := s.sure(l)
			if sure && !re {
				t.Errorf("%s: %q is sure but the expression does not match it", name, raw)
			}
			if re && !sure && (s.may == nil || !s.may(l)) {
				t.Errorf("%s: the expression matches %q, but the scan would not run it there", name, raw)
			}
			if re {
				matched++
				if sure {
					settled++
				}
			}
		}
		t.Logf("%-7s %6d of %d lines match; %d of them settled by a word", name, matched, len(lines), settled)
	}
}

func TestHasPhrase_NeedsWordBoundaries(t *testing.T) {
	for _, tt := range []struct {
		s    string
		want bool
	}{
		{"since this morning.", true}, {"this morning", true}, {"xthis morning", false}, {"this mornings", false},
		{"this mornings and this morning", true}, {"this  morning", false},
	} {
		if got := hasPhrase(tt.s, "this morning"); got != tt.want {
			t.Errorf("hasPhrase(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
}

// Runes whose lower case is longer (Ⱥ) or shorter (ẞ) than
// themselves must not shift the words a scan sees.
func TestNewLine_WordsSurviveRunesThatChangeLengthInLowerCase(t *testing.T) {
	l := newLine("Ⱥ ERROR ẞ at 09:30 UTC") // as long as its lower case, with ERROR shifted
	want := []string{"error", "at", "09", "30", "utc"}
	if strings.Join(l.lowerWords, ",") != strings.Join(want, ",") || !l.digit {
		t.Fatalf("lower words %q (digit %v), want %q", l.lowerWords, l.digit, want)
	}
	if !scanError.sure(l) || !scanZone.sure(l) {
		t.Error("ERROR and UTC were not seen")
	}
}
