package redact

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"testing"
)

// connectionStrings holds a connection string in every form, each with the
// secret it carries.
var connectionStrings = []struct {
	name, dsn, secret, keep string
}{
	{"url userinfo", "postgres://hd:Hunter2pw@127.0.0.1:5432/hd?sslmode=disable", "Hunter2pw", "postgres://hd:" + Mask + "@127.0.0.1:5432/hd?sslmode=disable"},
	{"postgresql scheme", "postgresql://hd:Hunter2pw@db.internal/hd?sslmode=require", "Hunter2pw", "@db.internal/hd?sslmode=require"},
	{"url userinfo, empty user", "postgres://:Hunter2pw@127.0.0.1/hd?sslmode=disable", "Hunter2pw", "127.0.0.1/hd"},
	{"url userinfo, percent-encoded", "postgres://hd:p%40ss%2Fw0rd@127.0.0.1/hd?sslmode=disable", "p%40ss%2Fw0rd", "127.0.0.1/hd"},
	{"url userinfo, raw @ and / in the password", "postgres://hd:p@ss/w0rd@127.0.0.1/hd?sslmode=disable", "ss/w0rd", "127.0.0.1/hd"},
	{"query ?password=", "postgres://127.0.0.1/hd?password=Hunter2pw&sslmode=disable", "Hunter2pw", "sslmode=disable"},
	{"query &password=", "postgres://hd@127.0.0.1/hd?sslmode=disable&password=Hunter2pw", "Hunter2pw", "postgres://hd@127.0.0.1/hd?sslmode=disable&password=" + Mask},
	{"query sslpassword", "postgres://hd@127.0.0.1/hd?sslmode=verify-full&sslpassword=Hunter2pw", "Hunter2pw", "sslmode=verify-full"},
	{"query PASSWORD upper case", "postgres://hd@127.0.0.1/hd?sslmode=disable&PASSWORD=Hunter2pw", "Hunter2pw", "sslmode=disable"},
	{"key=value", "host=127.0.0.1 user=hd password=Hunter2pw dbname=hd sslmode=disable", "Hunter2pw", "host=127.0.0.1 user=hd password=" + Mask + " dbname=hd sslmode=disable"},
	{"key=value first", "password=Hunter2pw host=127.0.0.1 sslmode=disable", "Hunter2pw", "host=127.0.0.1 sslmode=disable"},
	{"key = value with spaces", "host=127.0.0.1 password = Hunter2pw sslmode=disable", "Hunter2pw", "sslmode=disable"},
	{"key=value quoted", `host=127.0.0.1 password='Hun ter2pw' sslmode=disable`, "ter2pw", "sslmode=disable"},
	{"key=value quoted with escapes", `host=127.0.0.1 password='Hun\'ter2 pw' sslmode=disable`, "ter2 pw", "sslmode=disable"},
	{"key=value with & in the password", "host=127.0.0.1 password=Hun&ter2pw sslmode=disable", "ter2pw", "sslmode=disable"},
	{"in an error message", `connect to database: parse "postgres://hd:Hunter2pw@127.0.0.1:x/hd": invalid port ":x" after host`, "Hunter2pw", "invalid port"},
	{"key=value in an error message", `pq: cannot open "host=db password=Hunter2pw sslmode=disable": refused`, "Hunter2pw", "refused"},
	{"other scheme", "amqp://guest:Hunter2pw@127.0.0.1:5672/", "Hunter2pw", "127.0.0.1:5672"},
}

func TestString_MasksThePasswordOfEveryConnectionStringForm(t *testing.T) {
	for _, tc := range connectionStrings {
		t.Run(tc.name, func(t *testing.T) {
			got := String(tc.dsn)
			if strings.Contains(got, tc.secret) {
				t.Fatalf("String(%q) = %q: the secret shows", tc.dsn, got)
			}
			if !strings.Contains(got, Mask) || !strings.Contains(got, tc.keep) {
				t.Fatalf("String(%q) = %q, want the mask and %q kept", tc.dsn, got, tc.keep)
			}
			if again := String(got); again != got {
				t.Fatalf("masking twice changes %q into %q", got, again)
			}
		})
	}
}

func TestString_LeavesTextWithoutPasswordsAlone(t *testing.T) {
	for _, s := range []string{
		"",
		"postgres://hd@127.0.0.1:5432/hd?sslmode=disable",
		"postgres://127.0.0.1/hd?sslmode=disable",
		"host=127.0.0.1 user=hd sslmode=disable",
		"dial tcp 127.0.0.1:5432: connect: connection refused",
		"mail from jane@acme.example to support@example.com",
		"https://example.com/a?b=c&d=e",
	} {
		if got := String(s); got != s {
			t.Errorf("String(%q) = %q, want it unchanged", s, got)
		}
	}
}

func TestPasswords_FindsThePasswordOfEveryForm(t *testing.T) {
	for _, tc := range []struct{ dsn, want string }{
		{"postgres://hd:Hunter2pw@127.0.0.1/hd?sslmode=disable", "Hunter2pw"},
		{"postgres://hd:p%40ss@127.0.0.1/hd?sslmode=disable", "p@ss"},
		{"postgres://hd@127.0.0.1/hd?sslmode=disable&password=Hunter2pw", "Hunter2pw"},
		{"host=x password=Hunter2pw sslmode=disable", "Hunter2pw"},
		{`host=x password='Hun\'ter 2' sslmode=disable`, "Hun'ter 2"},
	} {
		if got := Passwords(tc.dsn); !containsString(got, tc.want) {
			t.Errorf("Passwords(%q) = %q, want %q among them", tc.dsn, got, tc.want)
		}
	}
}

func TestRedactor_MasksKnownSecretsAnywhere(t *testing.T) {
	r := New("imap-Pa55word", "tok/en secret+", "pw", "")
	for _, tc := range []struct{ in, secret string }{
		{"authenticating as support: NO bad password imap-Pa55word", "imap-Pa55word"},
		{"token tok/en secret+ rejected", "tok/en secret+"},
		{"sent " + url.QueryEscape("tok/en secret+") + " in a query", url.QueryEscape("tok/en secret+")},
		{"sent " + url.PathEscape("tok/en secret+") + " in a path", url.PathEscape("tok/en secret+")},
	} {
		if got := r.String(tc.in); strings.Contains(got, tc.secret) || !strings.Contains(got, Mask) {
			t.Errorf("String(%q) = %q", tc.in, got)
		}
	}
	if got := r.String("pw of a dev mailbox"); got != "pw of a dev mailbox" {
		t.Errorf("a two-letter secret masked: %q", got)
	}
	var nilR *Redactor
	if got := nilR.String("postgres://a:Hunter2pw@h/db"); strings.Contains(got, "Hunter2pw") {
		t.Errorf("nil Redactor: %q", got)
	}
}

func TestReplaceAttr_NoSecretInAnyLogLine(t *testing.T) {
	r := New("imap-Pa55word")
	for _, format := range []string{"text", "json"} {
		for _, tc := range connectionStrings {
			t.Run(format+"/"+tc.name, func(t *testing.T) {
				var b bytes.Buffer
				opts := &slog.HandlerOptions{ReplaceAttr: r.ReplaceAttr}
				var h slog.Handler = slog.NewTextHandler(&b, opts)
				if format == "json" {
					h = slog.NewJSONHandler(&b, opts)
				}
				log := slog.New(h).With("dsn", tc.dsn)
				log.Warn("cannot connect to "+tc.dsn,
					"err", fmt.Errorf("connect: %w", errors.New("open "+tc.dsn)),
					"url", tc.dsn,
					slog.Group("db", "url", tc.dsn),
					"stringer", stringer(tc.dsn),
					"login", "imap-Pa55word rejected")
				out := b.String()
				for _, secret := range []string{tc.secret, "imap-Pa55word"} {
					if strings.Contains(out, secret) {
						t.Fatalf("log line shows %q:\n%s", secret, out)
					}
				}
				if !strings.Contains(out, Mask) {
					t.Fatalf("nothing masked:\n%s", out)
				}
			})
		}
	}
}

type stringer string

func (s stringer) String() string { return string(s) }

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestString_MasksEnvironmentAndJSONAndDoubleQuotedForms(t *testing.T) {
	for _, in := range []string{
		"PGPASSWORD=hunter22 psql",
		`host=db password="a b c" user=x`,
		`{"user":"x","password":"hunter22"}`,
		"imap_password=hunter22",
	} {
		out := String(in)
		if strings.Contains(out, "hunter22") || strings.Contains(out, "a b c") {
			t.Errorf("String(%q) = %q", in, out)
		}
	}
}
