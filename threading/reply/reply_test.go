package reply

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// TestFromText_Fixtures runs the hand-written replies in testdata: NAME.txt
// is the body, NAME.want.txt the text the sender wrote.
func TestFromText_Fixtures(t *testing.T) {
	tests := []struct {
		name, reason string
	}{
		{"ko_gmail", "quote-header:ko"},
		{"ko_gmail_wrapped", "quote-header:ko"},
		{"ko_outlook", "quote-header:ko"},
		{"ko_original_message", "quote-header:ko"},
		{"ko_naver", "quote-header:en"},
		{"ko_iphone", "quote-header:ko"},
		{"ko_galaxy", "quote-header:ko"},
		{"ko_thunderbird", "quote-header:ko"},
		{"ko_marker", ReasonMarker},
		{"ko_inline", "quote-header:ko"},
		{"ja_gmail", "quote-header:ja"},
		{"ja_outlook", "quote-header:ja"},
		{"ja_apple", "quote-header:ja"},
		{"ja_wrote", "quote-header:ja"},
		{"ja_original_message", "quote-header:en"},
		{"zh_outlook", "quote-header:zh"},
		{"zh_qq", "quote-header:zh"},
		{"zh_gmail", "quote-header:zh"},
		{"de_outlook", "quote-header:de"},
		{"de_gmail", "quote-header:de"},
		{"fr_outlook", "quote-header:fr"},
		{"fr_gmail", "quote-header:fr"},
		{"es_gmail", "quote-header:es"},
		{"pt_gmail", "quote-header:pt"},
		{"it_gmail", "quote-header:it"},
		{"nl_gmail", "quote-header:nl"},
		{"sv_apple", "quote-header:sv"},
		{"ru_thunderbird", "quote-header:ru"},
		{"ru_gmail", "quote-header:ru"},
		{"ru_outlook", "quote-header:ru"},
		{"en_outlook_marker", ReasonMarker},
		{"en_marker_below", "quote-header:en"},
		{"en_iphone", "quote-header:en"},
		{"en_signature", ReasonSignature},
		{"en_bracketed_log", ReasonNone},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		seen[tt.name] = true
		t.Run(tt.name, func(t *testing.T) {
			in := readFile(t, filepath.Join("testdata", tt.name+".txt"))
			want := readFile(t, filepath.Join("testdata", tt.name+".want.txt"))
			got := FromText(in)
			if got.Text != strings.TrimSpace(want) {
				t.Errorf("Text:\n%s\nwant:\n%s", got.Text, want)
			}
			if got.Reason != tt.reason {
				t.Errorf("Reason = %q, want %q", got.Reason, tt.reason)
			}
			if normalizeWS(got.Text+"\n"+got.Cut) == "" || (got.Reason != ReasonNone && got.Cut == "") {
				t.Errorf("Cut = %q for reason %q", got.Cut, got.Reason)
			}
		})
	}
	// Every fixture in testdata is listed above.
	files, _ := filepath.Glob(filepath.Join("testdata", "*.want.txt"))
	for _, f := range files {
		if name := strings.TrimSuffix(filepath.Base(f), ".want.txt"); !seen[name] {
			t.Errorf("testdata fixture %s is not in the table", name)
		}
	}
}

func TestFromText(t *testing.T) {
	tests := []struct {
		name, in, want, reason string
	}{
		{
			name:   "plain reply without history is kept whole",
			in:     "Hello,\n\nthe printer is on fire.\n\nBob",
			want:   "Hello,\n\nthe printer is on fire.\n\nBob",
			reason: ReasonNone,
		},
		{
			name:   "gmail quote header cuts the quote below",
			in:     "Works now.\n\nOn Fri, Nov 20, 2026 at 3:00 PM Support <support@example.com> wrote:\n\n> Try again?\n",
			want:   "Works now.",
			reason: "quote-header:en",
		},
		{
			name:   "on ... wrote split over two lines",
			in:     "Works now.\n\nOn Fri, Nov 20, 2026 at 3:00 PM Support <\nsupport@example.com> wrote:\n\n> Try again?\n",
			want:   "Works now.",
			reason: "quote-header:en",
		},
		{
			name:   "text above a wrapped header is not swallowed",
			in:     "Regards, Bob\nOn Fri, Nov 20, 2026 at 3:00 PM Alice <\nalice@example.com> wrote:\n> Try again?",
			want:   "Regards, Bob",
			reason: "quote-header:en",
		},
		{
			name:   "original message separator cuts unquoted history",
			in:     "Done.\n\n-----Original Message-----\nFrom: Support\nSent: Friday\nTo: Bob\nSubject: Test\n\nOld text",
			want:   "Done.",
			reason: "quote-header:en",
		},
		{
			name:   "outlook header block without separator",
			in:     "Done.\n\nFrom: Support <support@example.com>\nSent: Friday, November 20, 2026 3:00 PM\nTo: Bob\nSubject: Test\n\nOld text",
			want:   "Done.",
			reason: "quote-header:en",
		},
		{
			name:   "outlook bold header block with underscore separator",
			in:     "Done.\n________________________________\n*From:* Support <support@example.com>\n*Sent:* Friday\n*To:* Bob\n*Subject:* Test\n\nOld text",
			want:   "Done.",
			reason: "quote-header:en",
		},
		{
			name:   "single header-like lines in text are not a header block",
			in:     "Subject: the new printer\n\nTo: whom it may concern, it is broken.",
			want:   "Subject: the new printer\n\nTo: whom it may concern, it is broken.",
			reason: ReasonNone,
		},
		{
			name:   "signature after dash dash space",
			in:     "See attached.\n\n-- \nBob\nACME",
			want:   "See attached.",
			reason: ReasonSignature,
		},
		{
			name:   "dash dash inside a line is not a signature",
			in:     "Use the flag --force -- it works.\nThanks",
			want:   "Use the flag --force -- it works.\nThanks",
			reason: ReasonNone,
		},
		{
			name:   "sent from my iphone footer",
			in:     "Yes.\n\nSent from my iPhone",
			want:   "Yes.",
			reason: ReasonMobileFooter,
		},
		{
			name:   "sent from outlook for android footer",
			in:     "Yes.\n\nSent from Outlook for Android",
			want:   "Yes.",
			reason: ReasonMobileFooter,
		},
		{
			name:   "korean galaxy footer",
			in:     "네.\n\nGalaxy 스마트폰에서 보냄",
			want:   "네.",
			reason: ReasonMobileFooter,
		},
		{
			name:   "korean iphone footer",
			in:     "네.\n\niPhone에서 보냄",
			want:   "네.",
			reason: ReasonMobileFooter,
		},
		{
			name:   "japanese iphone footer",
			in:     "はい。\n\niPhoneから送信",
			want:   "はい。",
			reason: ReasonMobileFooter,
		},
		{
			name:   "sent from my inside a sentence is kept",
			in:     "Thanks\n\nSent from my desk, which is easier than my phone.",
			want:   "Thanks\n\nSent from my desk, which is easier than my phone.",
			reason: ReasonNone,
		},
		{
			name:   "trailing quote without header is removed",
			in:     "Sure.\n\n> Can you do it?\n> Thanks",
			want:   "Sure.",
			reason: ReasonQuoted,
		},
		{
			name:   "quoted header names the language",
			in:     "Sure.\n> Am 20.11.2026 um 15:00 schrieb Support <support@example.com>:\n> Geht das?",
			want:   "Sure.",
			reason: "quote-header:de",
		},
		{
			name:   "inline answers keep the quotes they answer",
			in:     "Hi,\nOn Fri, Nov 20, 2026 at 3:00 PM Support <support@example.com> wrote:\n> Version?\n\n3.2\n\n> Since when?\n\nYesterday.\n\n> Thanks",
			want:   "Hi,\n> Version?\n\n3.2\n\n> Since when?\n\nYesterday.",
			reason: "quote-header:en",
		},
		{
			name:   "bottom posting drops the quoted context",
			in:     "On Fri, Nov 20, 2026 at 3:00 PM Support <support@example.com> wrote:\n> Version?\n\n3.2",
			want:   "3.2",
			reason: "quote-header:en",
		},
		{
			name:   "everything quoted is kept whole",
			in:     "> only a quote\n> nothing else",
			want:   "> only a quote\n> nothing else",
			reason: ReasonAllQuotedKept,
		},
		{
			name:   "header and quote only is kept whole",
			in:     "On Fri, Nov 20, 2026 at 3:00 PM Support <support@example.com> wrote:\n> Version?",
			want:   "On Fri, Nov 20, 2026 at 3:00 PM Support <support@example.com> wrote:\n> Version?",
			reason: ReasonAllQuotedKept,
		},
		{
			name:   "english marker cuts everything below",
			in:     "Fixed.\n##- Please type your reply above this line -##\nYour case #1234 was updated.",
			want:   "Fixed.",
			reason: ReasonMarker,
		},
		{
			name:   "quoted marker takes the quote header above it",
			in:     "Fixed.\n\nOn Fri, Nov 20, 2026 at 3:00 PM Support <support@example.com> wrote:\n>\n>> ##- Please type your reply above this line -##\n>> old",
			want:   "Fixed.",
			reason: ReasonMarker,
		},
		{
			name:   "marker with unknown header language still cuts",
			in:     "Kiitos!\n\nLähetetty: perjantai\n> ##- Kirjoita vastauksesi tämän rivin yläpuolelle -##\n> vanha",
			want:   "Kiitos!\n\nLähetetty: perjantai",
			reason: ReasonMarker,
		},
		{
			name:   "marker text below the reply is cut even without quotes",
			in:     "Ok\n\nsome unquoted notification text\n##- 이 줄 위에 답장을 입력해 주세요 -##\n본문",
			want:   "Ok\n\nsome unquoted notification text",
			reason: ReasonMarker,
		},
		{
			name:   "reply written below an unquoted marker is kept without the marker",
			in:     "##- Please type your reply above this line -##\nMy answer is below.",
			want:   "My answer is below.",
			reason: ReasonMarker,
		},
		{
			name:   "crlf line endings",
			in:     "Works.\r\n\r\nOn Fri, Nov 20, 2026 at 3:00 PM Support <support@example.com> wrote:\r\n> Try\r\n",
			want:   "Works.",
			reason: "quote-header:en",
		},
		{
			name:   "nul and invalid utf-8 are cleaned",
			in:     "a\x00b \xff",
			want:   "ab \uFFFD",
			reason: ReasonNone,
		},
		{
			name:   "code fences protect delimiter-like lines",
			in:     "Config:\n```\n---\nkey: value\n```\nThanks",
			want:   "Config:\n```\n---\nkey: value\n```\nThanks",
			reason: ReasonNone,
		},
		{
			name:   "forwarded message at the top keeps the forwarded text",
			in:     "---------- Forwarded message ---------\nFrom: Alice <alice@example.com>\nDate: Fri, Nov 20, 2026\nSubject: Broken\nTo: <bob@example.com>\n\nThe site is down.",
			want:   "The site is down.",
			reason: "quote-header:en",
		},
		{
			name:   "setext underline is not a separator",
			in:     "Plan\n====\nStep one\nStep two",
			want:   "Plan\n====\nStep one\nStep two",
			reason: ReasonNone,
		},
		{
			name:   "separator followed by long text is part of the reply",
			in:     "Intro\n\n*****\n" + strings.Repeat("more of my own text\n", 14),
			want:   "Intro\n\n*****\n" + strings.TrimSpace(strings.Repeat("more of my own text\n", 14)),
			reason: ReasonNone,
		},
		{
			name:   "date and address line without a quote below is text",
			in:     "Please call bob@example.com on 20.11.2026 at 15:00:\nhe knows the details.",
			want:   "Please call bob@example.com on 20.11.2026 at 15:00:\nhe knows the details.",
			reason: ReasonNone,
		},
		{
			name:   "closing -Name line is a signature",
			in:     "Works now.\n\n-Bob",
			want:   "Works now.",
			reason: ReasonSignature,
		},
		{
			name:   "empty body",
			in:     " \n\t\n",
			want:   "",
			reason: ReasonNone,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FromText(tt.in)
			if got.Text != tt.want {
				t.Errorf("Text = %q, want %q", got.Text, tt.want)
			}
			if got.Reason != tt.reason {
				t.Errorf("Reason = %q, want %q", got.Reason, tt.reason)
			}
		})
	}
}

func TestFromText_CutHoldsWhatWasRemoved(t *testing.T) {
	got := FromText("Yes.\n\nSent from my iPhone\n\nOn Fri, Nov 20, 2026 at 3:00 PM Support <support@example.com> wrote:\n> Ok?")
	if got.Text != "Yes." {
		t.Fatalf("Text = %q", got.Text)
	}
	for _, s := range []string{"Sent from my iPhone", "wrote:", "> Ok?"} {
		if !strings.Contains(got.Cut, s) {
			t.Errorf("Cut %q lacks %q", got.Cut, s)
		}
	}
	if got.Reason != "quote-header:en" {
		t.Errorf("Reason = %q: the quote header outranks the footer", got.Reason)
	}
}

// TestFromHTML_Fixtures runs the HTML-only and multipart replies in
// testdata/*.eml through FromHTML (and FromText when there is a plain part).
func TestFromHTML_Fixtures(t *testing.T) {
	tests := []struct {
		file, want, reason string
	}{
		{"ko_gmail_html.eml", "안녕하세요,\n\n재시작 후 정상적으로 로그인됩니다.\n감사합니다.", "quote-html:gmail"},
		{"ko_outlook_html.eml", "로그 파일을 첨부했습니다.\n\n김영희 드림", ReasonMarker},
		{"ko_outlook_divrplyfwdmsg.eml", "설정을 변경했습니다. 확인 부탁드립니다.", "quote-html:outlook"},
		{"ja_apple_html.eml", "承知しました。明日設定を変更します。\n\n山田", "quote-html:apple"},
		{"en_yahoo_html.eml", "The printer is back online, thanks!", "quote-html:yahoo"},
		{"en_gmail_inline_html.eml", "Answers inline.\n\n> 1. Which version do you run?\n3.2.1\n\n> 2. Since when?\nSince yesterday.", "quote-header:en"},
		{"en_multipart_marker.eml", "Thanks, fixed.", ReasonMarker},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			plain, html := mimeBodies(t, readFile(t, filepath.Join("testdata", tt.file)))
			if html == "" {
				t.Fatal("no html part")
			}
			got := FromHTML(html)
			if got.Text != tt.want {
				t.Errorf("Text:\n%s\nwant:\n%s", got.Text, tt.want)
			}
			if got.Reason != tt.reason {
				t.Errorf("Reason = %q, want %q", got.Reason, tt.reason)
			}
			if got.Cut == "" {
				t.Error("Cut is empty")
			}
			if plain != "" {
				if pt := FromText(plain); pt.Text != tt.want {
					t.Errorf("plain part Text = %q, want %q", pt.Text, tt.want)
				}
			}
		})
	}
}

func TestFromHTML(t *testing.T) {
	tests := []struct {
		name, in, want, reason string
	}{
		{
			name:   "hidden marker by id cuts everything after it",
			in:     `<div>Thanks!</div><div id="helpdesk-reply-marker" style="display:none"></div><div>##- Please type your reply above this line -##</div><p>old</p>`,
			want:   "Thanks!",
			reason: ReasonMarker,
		},
		{
			name:   "hidden marker by class",
			in:     `<p>Ok</p><span class="x helpdesk-reply-marker"></span><p>old</p>`,
			want:   "Ok",
			reason: ReasonMarker,
		},
		{
			name:   "visible marker alone still cuts",
			in:     `<p>Ok</p><p>##- Please type your reply above this line -##</p><p>old</p>`,
			want:   "Ok",
			reason: ReasonMarker,
		},
		{
			name:   "marker with nothing above falls back to the whole text",
			in:     `<div id="helpdesk-reply-marker"></div><p>only text below</p>`,
			want:   "only text below",
			reason: ReasonNone,
		},
		{
			name:   "thunderbird moz-cite-prefix",
			in:     `<p>Fine.</p><div class="moz-cite-prefix">On 20.11.26 15:00, Support wrote:<br></div><blockquote type="cite">old</blockquote>`,
			want:   "Fine.",
			reason: "quote-html:thunderbird",
		},
		{
			name:   "outlook border-top block without ids",
			in:     `<p class=MsoNormal>Fine.</p><div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm"><p class=MsoNormal><b>Von:</b> Support<br><b>Gesendet:</b> Freitag<br><b>An:</b> Jan<br><b>Betreff:</b> Test</p></div><p>old</p>`,
			want:   "Fine.",
			reason: "quote-html:outlook",
		},
		{
			name:   "a border-top box that is not a header is kept",
			in:     `<p>Fine.</p><div style="border-top:1px solid #ccc">Note: the box is part of my reply.</div>`,
			want:   "Fine.\n\nNote: the box is part of my reply.",
			reason: ReasonNone,
		},
		{
			name:   "blockquote cite with nothing above keeps the text below",
			in:     `<blockquote type="cite">Question?</blockquote><div>Answer.</div>`,
			want:   "> Question?\nAnswer.",
			reason: ReasonNone,
		},
		{
			name:   "only a quote is kept whole",
			in:     `<blockquote type="cite">Question?</blockquote>`,
			want:   "> Question?",
			reason: ReasonAllQuotedKept,
		},
		{
			name:   "empty html",
			in:     `<html><body> </body></html>`,
			want:   "",
			reason: ReasonNone,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FromHTML(tt.in)
			if got.Text != tt.want {
				t.Errorf("Text = %q, want %q", got.Text, tt.want)
			}
			if got.Reason != tt.reason {
				t.Errorf("Reason = %q, want %q", got.Reason, tt.reason)
			}
		})
	}
}

func TestFromText_PathologicalInputsFinish(t *testing.T) {
	// Large inputs of every line class; BenchmarkFromText measures speed.
	inputs := map[string]string{
		"many headers":        strings.Repeat("On Fri, Nov 20, 2026 at 3:00 PM A <a@b.c> wrote:\n> q\ntext\n", 20000),
		"many footers":        strings.Repeat("Sent from my iPhone\n", 30000) + strings.Repeat("x", 100),
		"many delimiters":     strings.Repeat("text\n-----\n", 30000),
		"many field lines":    strings.Repeat("From: a\nSent: b\nTo: c\nSubject: d\n\nbody\n", 10000),
		"one huge line":       strings.Repeat("On a b c wrote ", 100000) + ":",
		"wrapped header bait": strings.Repeat("On Fri, Nov 20, 2026 <\n", 30000) + "x@y> wrote:",
	}
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			got := FromText(in)
			if strings.TrimSpace(got.Text) == "" {
				t.Errorf("empty Text for non-empty input")
			}
		})
	}
}

func FuzzFromText(f *testing.F) {
	seeds := []string{
		"", "x", ">", "-- \n", "On 1 a@b wrote:\n> x", "##- a -##", "\x00", "\r\r\n",
		"From: a\nSent: b\nTo: c\n", "```\n", "Sent from my iPhone",
	}
	for _, pattern := range []string{"testdata/*.txt", corpora + "/email_reply_trimmer/test/emails/*.txt"} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			if b, err := os.ReadFile(file); err == nil && len(b) < 20000 {
				seeds = append(seeds, string(b))
			}
		}
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		checkResult(t, in, FromText(in))
	})
}

func FuzzFromHTML(f *testing.F) {
	for _, s := range []string{
		"", "<p>x</p>", `<div class="gmail_quote">x</div>`, `<blockquote type=cite>`,
		`<div id="helpdesk-reply-marker">`, `<hr><b>From:</b> a<br><b>Sent:</b> b`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		r := FromHTML(in)
		if !utf8.ValidString(r.Text) || !utf8.ValidString(r.Cut) || strings.ContainsRune(r.Text, 0) {
			t.Fatalf("invalid output for %q", in)
		}
	})
}

// checkResult asserts the package guarantees for one input.
func checkResult(t *testing.T, in string, r Result) {
	t.Helper()
	if !utf8.ValidString(r.Text) || !utf8.ValidString(r.Cut) {
		t.Fatalf("invalid UTF-8 for %q", in)
	}
	if strings.ContainsRune(r.Text, 0) || strings.ContainsRune(r.Cut, 0) || strings.Contains(r.Text, "\r") {
		t.Fatalf("NUL or CR in output for %q", in)
	}
	if r.Reason == "" {
		t.Fatalf("empty reason for %q", in)
	}
	if hasContent(clean(in)) && strings.TrimSpace(r.Text) == "" {
		t.Fatalf("empty Text for %q (reason %s, cut %q)", in, r.Reason, r.Cut)
	}
}

func hasContent(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return !unicode.IsSpace(r) }) >= 0
}

// BenchmarkFromText runs the whole email_reply_trimmer corpus per iteration.
func BenchmarkFromText(b *testing.B) {
	files, _ := filepath.Glob(filepath.Join(corpora, "email_reply_trimmer", "test", "emails", "*.txt"))
	if len(files) == 0 {
		b.Fatal("no corpus")
	}
	var bodies []string
	size := 0
	for _, f := range files {
		body := readFile(b, f)
		bodies = append(bodies, body)
		size += len(body)
	}
	b.SetBytes(int64(size))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, body := range bodies {
			_ = FromText(body)
		}
	}
}

// BenchmarkFromText_LongQuote is email_reply_parser's 750 KB ReDoS guard.
func BenchmarkFromText_LongQuote(b *testing.B) {
	body := readFile(b, filepath.Join(corpora, "email_reply_parser", "test", "emails", "email_long_quote.txt"))
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = FromText(body)
	}
}
