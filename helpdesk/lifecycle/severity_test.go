package lifecycle

import (
	"bytes"
	"mime"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func readMail(t *testing.T, name string) (subject string, header map[string][]string) {
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
	return subject, m.Header
}

func TestSeverityFor_RealMail(t *testing.T) {
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
		{"gmail-s1-subject-tag.eml", PlanBasic, S1, "subject tag [S1]"},
		{"gmail-normal.eml", PlanPremium, S3, "default"},
	}
	for _, tt := range tests {
		t.Run(tt.file+"/"+tt.plan, func(t *testing.T) {
			subject, header := readMail(t, tt.file)
			got, why := SeverityFor(subject, header, tt.plan)
			if got != tt.want || !strings.Contains(why, tt.why) {
				t.Errorf("SeverityFor = %s %q, want %s with %q", got, why, tt.want, tt.why)
			}
		})
	}
}

func TestSeverityFor_TagsAndHeaders(t *testing.T) {
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
			if got, why := SeverityFor(tt.subject, tt.header, tt.plan); got != tt.want || why == "" {
				t.Errorf("SeverityFor = %s %q, want %s", got, why, tt.want)
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
