package mail

import (
	"slices"
	"strings"
	"testing"
)

func TestParse_GuessesCharsetOfUndeclared8BitText(t *testing.T) {
	tests := []struct {
		name        string
		subject     string // raw header bytes
		ctype       string
		body        string // raw body bytes
		wantSubject string
		wantText    string
		wantGuesses []string
	}{
		{
			name:        "utf-8 subject with one stray 0xFF keeps Korean and emoji",
			subject:     "배송 문의 \xff 🙂",
			ctype:       "text/plain; charset=utf-8",
			body:        "안녕하세요 \xff 감사합니다",
			wantSubject: "배송 문의 \uFFFD 🙂",
			wantText:    "안녕하세요 \uFFFD 감사합니다",
			wantGuesses: []string{"header Subject: guessed utf-8 (invalid bytes replaced)", "body 1: guessed utf-8 (invalid bytes replaced)"},
		},
		{
			name:        "Outlook Korean subject in raw EUC-KR without encoded-word",
			subject:     "\xb9\xe8\xbc\xdb \xb9\xae\xc0\xc7", // 배송 문의
			ctype:       "text/plain",
			body:        "\xbe\xc8\xb3\xe7\xc7\xcf\xbc\xbc\xbf\xe4", // 안녕하세요
			wantSubject: "배송 문의",
			wantText:    "안녕하세요",
			wantGuesses: []string{"header Subject: guessed euc-kr", "body 1: guessed euc-kr"},
		},
		{
			name:        "Japanese ISO-2022-JP body without charset parameter",
			subject:     "Question",
			ctype:       "text/plain",
			body:        "\x1b$B$3$s$K$A$O\x1b(B", // こんにちは
			wantSubject: "Question",
			wantText:    "こんにちは",
			wantGuesses: []string{"body 1: guessed iso-2022-jp"},
		},
		{
			name:        "Japanese Shift_JIS body without charset",
			subject:     "Question",
			ctype:       "text/plain",
			body:        "\x82\xb1\x82\xf1\x82\xc9\x82\xbf\x82\xcd", // こんにちは
			wantSubject: "Question",
			wantText:    "こんにちは",
			wantGuesses: []string{"body 1: guessed shift_jis"},
		},
		{
			name:        "Cyrillic KOI8-R body without charset",
			subject:     "Question",
			ctype:       "text/plain",
			body:        "\xf0\xd2\xc9\xd7\xc5\xd4, \xcd\xc9\xd2", // Привет, мир
			wantSubject: "Question",
			wantText:    "Привет, мир",
			wantGuesses: []string{"body 1: guessed koi8-r"},
		},
		{
			name:        "Cyrillic windows-1251 body without charset",
			subject:     "Question",
			ctype:       "text/plain",
			body:        "\xcf\xf0\xe8\xe2\xe5\xf2, \xec\xe8\xf0", // Привет, мир
			wantSubject: "Question",
			wantText:    "Привет, мир",
			wantGuesses: []string{"body 1: guessed windows-1251"},
		},
		{
			name:        "Chinese GB18030 body without charset",
			subject:     "Question",
			ctype:       "text/plain",
			body:        "\xc4\xe3\xba\xc3\xa3\xac\xca\xc0\xbd\xe7", // 你好，世界
			wantSubject: "Question",
			wantText:    "你好，世界",
			wantGuesses: []string{"body 1: guessed gb18030"},
		},
		{
			name:        "Latin-1 body without charset stays windows-1252",
			subject:     "Caf\xe9",
			ctype:       "text/plain",
			body:        "D\xe9j\xe0 vu",
			wantSubject: "Café",
			wantText:    "Déjà vu",
			wantGuesses: []string{"header Subject: guessed windows-1252", "body 1: guessed windows-1252"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := "From: a@example.com\r\nTo: b@example.com\r\nSubject: " + tt.subject +
				"\r\nMessage-ID: <1@example.com>\r\nContent-Type: " + tt.ctype + "\r\n\r\n" + tt.body + "\r\n"
			m, err := Parse(strings.NewReader(raw), ParseOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if m.Subject != tt.wantSubject {
				t.Errorf("Subject = %q, want %q", m.Subject, tt.wantSubject)
			}
			if got := strings.TrimSpace(m.Text); got != tt.wantText {
				t.Errorf("Text = %q, want %q", got, tt.wantText)
			}
			if !slices.Equal(m.CharsetGuesses, tt.wantGuesses) {
				t.Errorf("CharsetGuesses = %q, want %q", m.CharsetGuesses, tt.wantGuesses)
			}
		})
	}
}

func TestSafeString_RepairsInvalidUTF8PerByte(t *testing.T) {
	tests := []struct{ in, want string }{
		{"한국어 \xff 텍스트", "한국어 \uFFFD 텍스트"},
		{"emoji 🎉\xc3 ok", "emoji 🎉\uFFFD ok"},
		{"두 \xff\xfe 바이트", "두 \uFFFD\uFFFD 바이트"},
	}
	for _, tt := range tests {
		if got := SafeString([]byte(tt.in)); got != tt.want {
			t.Errorf("SafeString(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParse_FromGivesBestEffortSender(t *testing.T) {
	tests := []struct {
		name, from string
		want       Address
	}{
		{"angle address without domain kept as name", "<moderator>", Address{Name: "moderator"}},
		{"bare word without domain kept as name", "moderator", Address{Name: "moderator"}},
		{"display name and local part", "List Bot <moderator>", Address{Name: "List Bot (moderator)"}},
		{"group with members gives first member", "Team: a@x.example, b@y.example;", Address{Address: "a@x.example"}},
		{"empty group gives group name", "undisclosed-recipients:;", Address{Name: "undisclosed-recipients"}},
		{"encoded-word declared euc-kr holding utf-8", "=?euc-kr?B?7ZWc6rWt?= <a@b.example>", Address{Name: "한국", Address: "a@b.example"}},
		{"encoded-word with unknown charset", "=?x-unknown?B?7ZWc6rWt?= <a@b.example>", Address{Name: "한국", Address: "a@b.example"}},
		{"raw EUC-KR display name", "\xc8\xab\xb1\xe6\xb5\xbf <hong@b.example>", Address{Name: "홍길동", Address: "hong@b.example"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := "From: " + tt.from + "\r\nSubject: x\r\nMessage-ID: <1@x.example>\r\n\r\nhi\r\n"
			m, err := Parse(strings.NewReader(raw), ParseOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if m.From != tt.want {
				t.Errorf("From = %+v, want %+v (warnings %q)", m.From, tt.want, m.Warnings)
			}
			if tt.want.Address == "" && m.From.Canonical() != "" {
				t.Errorf("Canonical() = %q, want empty: no domain may be invented", m.From.Canonical())
			}
		})
	}
}
