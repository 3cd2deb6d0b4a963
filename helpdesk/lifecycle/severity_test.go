package lifecycle

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func readMail(t *testing.T, name string) (subject string, header map[string][]string) {
	subject, header, _ = readMailBody(t, name)
	return subject, header
}

// readMailBody reads a single-part test mail with its text (7bit or base64).
func readMailBody(t *testing.T, name string) (subject string, header map[string][]string, text string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	subject = m.Header.Get("Subject")
	if dec, err := new(mime.WordDecoder).DecodeHeader(subject); err == nil {
		subject = dec // ks_c_5601-1987 needs a charset reader; that subject has no tag anyway
	}
	var body io.Reader = m.Body
	if strings.EqualFold(m.Header.Get("Content-Transfer-Encoding"), "base64") {
		body = base64.NewDecoder(base64.StdEncoding, m.Body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return subject, m.Header, string(b)
}

func TestChooseSeverity_RealMail(t *testing.T) {
	tests := []struct {
		file string
		plan string
		want Severity
		why  string
	}{
		{"outlook-high-importance.eml", PlanPremium, S2, "X-Priority: 1 with plan premium"},
		{"outlook-high-importance.eml", PlanAdvanced, S2, "X-Priority: 1 with plan advanced"},
		{"outlook-high-importance.eml", PlanBasic, S3, "plan basic does not include priority"},
		{"outlook-high-importance.eml", "", S3, "plan none does not include priority"},
		{"thunderbird-highest.eml", PlanPremium, S2, "X-Priority: 1 (Highest)"},
		{"gmail-s1-subject-tag.eml", PlanPremium, S1, "subject tag [S1]"},
		{"gmail-s1-subject-tag.eml", PlanBasic, S2, "subject tag [S1]; S1 lowered to S2: plan basic does not include S1"},
		{"gmail-normal.eml", PlanPremium, S3, "default"},
		{"body-severity-s2.eml", PlanBasic, S2, "mail says Severity: S2"},
		{"korean-body-severity.eml", PlanBasic, S2, "mail says 심각도: S2"},
		{"body-priority-high.eml", PlanBasic, S2, "mail says Priority: high"},
		{"quoted-severity.eml", PlanPremium, S3, "default"},
	}
	for _, tt := range tests {
		t.Run(tt.file+"/"+tt.plan, func(t *testing.T) {
			subject, header, text := readMailBody(t, tt.file)
			got := ChooseSeverity(subject, text, header, tt.plan)
			if got.Severity != tt.want || !strings.Contains(got.Why, tt.why) {
				t.Errorf("ChooseSeverity = %s %q, want %s with %q", got.Severity, got.Why, tt.want, tt.why)
			}
		})
	}
}

// The acknowledgement says where the severity came from: the source, what
// the mail asked for and said.
func TestChooseSeverity_SaysWhereItCameFrom(t *testing.T) {
	h := map[string][]string{"Importance": {"High"}}
	tests := []struct {
		name          string
		subject, text string
		header        map[string][]string
		plan          string
		want          SeverityChoice
	}{
		{"subject tag", "[S2] slow", "", nil, PlanBasic, SeverityChoice{Severity: S2, Source: FromSubject, Asked: S2, Said: "[S2]"}},
		{"S1 on basic is lowered", "[S1] down", "", nil, PlanBasic, SeverityChoice{Severity: S2, Source: FromSubject, Asked: S1, Said: "[S1]"}},
		{"S1 without an org is lowered", "x", "Priority: urgent", nil, "", SeverityChoice{Severity: S2, Source: FromBody, Asked: S1, Said: "Priority: urgent"}},
		{"body line", "x", "Hi,\nSeverity: S4 (just a question)\n", nil, PlanBasic, SeverityChoice{Severity: S4, Source: FromBody, Asked: S4, Said: "Severity: S4 (just a question)"}},
		{"header on premium", "x", "", h, PlanPremium, SeverityChoice{Severity: S2, Source: FromHeader, Asked: S2, Said: "Importance: High"}},
		{"header on basic is ignored", "x", "", h, PlanBasic, SeverityChoice{Severity: S3}},
		{"nothing", "x", "hello", nil, PlanPremium, SeverityChoice{Severity: S3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ChooseSeverity(tt.subject, tt.text, tt.header, tt.plan)
			if got.Why == "" {
				t.Errorf("no reason")
			}
			got.Why = ""
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			if got.Lowered() != (tt.want.Asked != "" && tt.want.Asked != tt.want.Severity) {
				t.Errorf("Lowered = %v", got.Lowered())
			}
		})
	}
}

func TestChooseSeverity_BodyLines(t *testing.T) {
	tests := []struct {
		name string
		text string
		want Severity
	}{
		{"Severity: S2", "Severity: S2\nthe site is slow", S2},
		{"lower case name and value", "severity: s4", S4},
		{"full-width colon", "Severity：S1", S1},
		{"text after the value", "Severity: S3 - reports are late", S3},
		{"Korean severity", "안녕하세요\n심각도: S1\n", S1},
		{"Priority urgent", "Priority: urgent", S1},
		{"Priority high", "Priority: High", S2},
		{"Priority normal", "Priority: normal", S3},
		{"Priority low", "PRIORITY: low", S4},
		{"우선순위 긴급", "우선순위: 긴급", S1},
		{"우선순위 높음", "우선순위: 높음", S2},
		{"우선순위 보통", "우선순위 : 보통", S3},
		{"우선순위 낮음", "우선순위: 낮음", S4},
		{"#severity command line", "#severity S2\nslow", S2},
		{"fifth non-empty line counts", "a\n\nb\n\nc\nd\nSeverity: S2", S2},
		{"sixth non-empty line does not", "a\nb\nc\nd\ne\nSeverity: S2", S3},
		{"quoted line never counts", "> Severity: S1\nhello", S3},
		{"quoted lines do not use up the first lines", "> a\n> b\n> c\n> d\n> e\nSeverity: S2", S2},
		{"S5 is no severity", "Severity: S5", S3},
		{"unknown priority word", "Priority: whenever", S3},
		{"no value", "Severity:", S3},
		{"a sentence about severity", "The severity of this is S1 for us", S3},
		{"other name", "Sev: S1", S3},
		{"empty", "", S3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ChooseSeverity("question", tt.text, nil, PlanPremium); got.Severity != tt.want {
				t.Errorf("ChooseSeverity(%q) = %s (%s), want %s", tt.text, got.Severity, got.Why, tt.want)
			}
		})
	}
}

func TestAllowedSeverity_S1OnlyOnAdvancedAndPremium(t *testing.T) {
	for _, tt := range []struct {
		plan string
		s    Severity
		want Severity
	}{
		{PlanPremium, S1, S1}, {PlanAdvanced, S1, S1}, {PlanBasic, S1, S2}, {"", S1, S2},
		{PlanBasic, S2, S2}, {PlanBasic, S4, S4}, {"", S3, S3},
	} {
		if got := AllowedSeverity(tt.s, tt.plan); got != tt.want {
			t.Errorf("AllowedSeverity(%s, %q) = %s, want %s", tt.s, tt.plan, got, tt.want)
		}
	}
}

func TestChooseSeverity_TagsAndHeaders(t *testing.T) {
	h := func(kv ...string) map[string][]string {
		m := map[string][]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = append(m[kv[i]], kv[i+1])
		}
		return m
	}
	tests := []struct {
		name    string
		subject string
		header  map[string][]string
		plan    string
		want    Severity
	}{
		{"tag S4", "[S4] feature idea", nil, PlanBasic, S4},
		{"lower-case tag", "Re: [s2] slow", nil, PlanBasic, S2},
		{"first tag wins", "[S3] was [S1]", nil, PlanBasic, S3},
		{"tag beats a header", "[S4] minor", h("X-Priority", "1"), PlanPremium, S4},
		{"S5 is no tag", "[S5] what", nil, PlanPremium, S3},
		{"unclosed tag", "[S1 down", nil, PlanPremium, S3},
		{"X-Priority 2", "x", h("X-Priority", "2 (High)"), PlanPremium, S2},
		{"X-Priority 3 is normal", "x", h("X-Priority", "3 (Normal)"), PlanPremium, S3},
		{"X-Priority 12 is not 1", "x", h("X-Priority", "12"), PlanPremium, S3},
		{"X-Priority 5 lowest stays default", "x", h("X-Priority", "5"), PlanPremium, S3},
		{"Importance high in any case", "x", h("importance", "HIGH"), PlanAdvanced, S2},
		{"Importance low", "x", h("Importance", "low"), PlanAdvanced, S3},
		{"X-MSMail-Priority high", "x", h("X-MSMail-Priority", "High"), PlanAdvanced, S2},
		{"Priority urgent", "x", h("Priority", "urgent"), PlanAdvanced, S2},
		{"Priority non-urgent", "x", h("Priority", "non-urgent"), PlanAdvanced, S3},
		{"empty header value", "x", h("X-Priority", ""), PlanAdvanced, S3},
		{"no subject, no headers", "", nil, "", S3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ChooseSeverity(tt.subject, "", tt.header, tt.plan); got.Severity != tt.want || got.Why == "" {
				t.Errorf("ChooseSeverity = %s %q, want %s", got.Severity, got.Why, tt.want)
			}
		})
	}
}

func TestNewCase_StartsOpenWithTheDueTime(t *testing.T) {
	p := DefaultPolicy()
	c := NewCase(S1, PlanPremium, now, p)
	want := Case{Status: Open, Severity: S1, Plan: PlanPremium, CreatedAt: now, FirstResponseDue: now.Add(2 * 60 * 60 * 1e9)}
	if c != want {
		t.Errorf("got %+v, want %+v", c, want)
	}
	if c := NewCase("", "", now, p); c.Severity != S3 {
		t.Errorf("invalid severity: %s, want S3", c.Severity)
	}
}
