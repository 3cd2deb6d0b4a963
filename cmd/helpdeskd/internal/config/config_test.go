package config

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoad_Defaults(t *testing.T) {
	c, err := Load(env(nil), "")
	if err != nil {
		t.Fatal(err)
	}
	if c.ReopenWindow != 720*time.Hour || c.UnknownSenders != "open" || !c.AgentAuth || c.DefaultLocale != "en" ||
		c.Name != "Support" || c.MaxMessageSize != 25<<20 || c.SMTP.TLS != "starttls" {
		t.Fatalf("defaults = %+v", c)
	}
	if len(c.Mailboxes) != 0 {
		t.Fatalf("mailboxes without any IMAP setting: %+v", c.Mailboxes)
	}
	if c.TrustedHops != 1 {
		t.Fatalf("trusted Received hops = %d, want 1", c.TrustedHops)
	}
}

func TestLoad_EnvironmentConfiguresTheFirstMailbox(t *testing.T) {
	c, err := Load(env(map[string]string{
		"HELPDESK_SUPPORT_ADDRESS": "support@example.com",
		"HELPDESK_IMAP_ADDR":       "127.0.0.1:993",
		"HELPDESK_IMAP_USERNAME":   "support",
		"HELPDESK_REOPEN_WINDOW":   "240h",
		"HELPDESK_AGENT_AUTH":      "off",
	}), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Mailboxes) != 1 {
		t.Fatalf("mailboxes = %+v", c.Mailboxes)
	}
	m := c.Mailboxes[0]
	if m.Addr != "127.0.0.1:993" || m.Mailbox != "INBOX" || m.TLS != "tls" || m.Address != "support@example.com" || m.FailedMailbox != "Failed" {
		t.Fatalf("mailbox = %+v", m)
	}
	if c.ReopenWindow != 240*time.Hour || c.AgentAuth || c.MessageIDDomain != "example.com" {
		t.Fatalf("config = %+v", c)
	}
}

func TestLoad_ErrorsNameTheVariable(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"HELPDESK_REOPEN_WINDOW": "thirty days"}, "HELPDESK_REOPEN_WINDOW"},
		{map[string]string{"HELPDESK_UNKNOWN_SENDERS": "everyone"}, "HELPDESK_UNKNOWN_SENDERS"},
		{map[string]string{"HELPDESK_IMAP_TLS": "ssl"}, "HELPDESK_IMAP_TLS"},
		{map[string]string{"HELPDESK_SMTP_ADDR": "mail.example.com"}, "HELPDESK_SMTP_ADDR"},
		{map[string]string{"HELPDESK_SUPPORT_ADDRESS": "Support <s@example.com>"}, "HELPDESK_SUPPORT_ADDRESS"},
		{map[string]string{"HELPDESK_DATABASE_URL": "postgres://x@127.0.0.1/db"}, "sslmode"},
		{map[string]string{"HELPDESK_TOKEN_SECRET": "short"}, "HELPDESK_TOKEN_SECRET"},
		{map[string]string{"HELPDESK_DEFAULT_LOCALE": "fr"}, "HELPDESK_DEFAULT_LOCALE"},
		{map[string]string{"HELPDESK_TRUSTED_RECEIVED_HOPS": "-1"}, "HELPDESK_TRUSTED_RECEIVED_HOPS"},
		{map[string]string{"HELPDESK_IMAP_ADDR": "127.0.0.1:993", "HELPDESK_IMAP_AUTH": "xoauth2"}, "HELPDESK_IMAP_TOKEN_FILE"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			_, err := Load(env(tc.env), "")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %s", err, tc.want)
			}
		})
	}
}

func TestLoad_FileWithSeveralMailboxesAndEnvOverride(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "helpdesk.toml")
	os.WriteFile(path, []byte(`
support_address = "support@example.com"
name = "Example Support"
reopen_window = "48h"
support_aliases = ["help@example.com", "Billing@Example.com"]
agent_auth = false

[[mailboxes]]
name = "support"
imap_addr = "127.0.0.1:993"
imap_username = "support"
imap_password = "s3cret"

[[mailboxes]]
name = "billing"
address = "billing@example.com"
imap_addr = "127.0.0.1:1993"
imap_username = "billing"
imap_poll_interval = "15s"
`), 0o600)
	c, err := Load(env(map[string]string{"HELPDESK_NAME": "From Env", "HELPDESK_IMAP_PASSWORD": "override"}), path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "From Env" || c.ReopenWindow != 48*time.Hour || c.AgentAuth || len(c.SupportAliases) != 2 || c.SupportAliases[1] != "billing@example.com" {
		t.Fatalf("config = %+v", c)
	}
	if len(c.Mailboxes) != 2 || c.Mailboxes[1].Address != "billing@example.com" || c.Mailboxes[1].PollInterval != 15*time.Second ||
		c.Mailboxes[0].Address != "support@example.com" || c.Mailboxes[0].Password != "override" || c.Mailboxes[1].Mailbox != "INBOX" {
		t.Fatalf("mailboxes = %+v", c.Mailboxes)
	}
}

func TestLoad_FileRejectsUnknownKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.toml")
	os.WriteFile(path, []byte("reopen_windw = \"48h\"\n[[mailboxes]]\nimap_adr = \"x:1\"\n"), 0o600)
	_, err := Load(env(nil), path)
	if err == nil || !strings.Contains(err.Error(), `"reopen_windw"`) || !strings.Contains(err.Error(), `"imap_adr"`) {
		t.Fatalf("err = %v", err)
	}
}

func TestRequireServe_ListsEverythingMissing(t *testing.T) {
	c, err := Load(env(nil), "")
	if err != nil {
		t.Fatal(err)
	}
	err = c.RequireServe()
	for _, v := range []string{"HELPDESK_DATABASE_URL", "HELPDESK_SUPPORT_ADDRESS", "HELPDESK_TOKEN_SECRET", "HELPDESK_IMAP_ADDR", "HELPDESK_SMTP_ADDR"} {
		if err == nil || !strings.Contains(err.Error(), v) {
			t.Errorf("RequireServe error %v does not name %s", err, v)
		}
	}
}

func TestRedacted_HidesSecrets(t *testing.T) {
	c, err := Load(env(map[string]string{
		"HELPDESK_DATABASE_URL":  "postgres://hd:dbpass@127.0.0.1:5432/hd?sslmode=disable",
		"HELPDESK_TOKEN_SECRET":  strings.Repeat("k", 40),
		"HELPDESK_IMAP_ADDR":     "127.0.0.1:993",
		"HELPDESK_IMAP_PASSWORD": "imappass",
		"HELPDESK_SMTP_PASSWORD": "smtppass",
	}), "")
	if err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	for _, e := range c.Redacted() {
		all.WriteString(e.Key + "=" + e.Value + "\n")
	}
	out := all.String()
	for _, secret := range []string{"dbpass", "kkkk", "imappass", "smtppass"} {
		if strings.Contains(out, secret) {
			t.Errorf("redacted config shows %q:\n%s", secret, out)
		}
	}
	if !strings.Contains(out, "postgres://hd:********@127.0.0.1:5432/hd?sslmode=disable") || !strings.Contains(out, "mailboxes[0].imap_addr=127.0.0.1:993") {
		t.Errorf("redacted config lost non-secret values:\n%s", out)
	}
}

// Regenerate the README table after changing a setting:
//
//	go test ./cmd/helpdeskd/internal/config -run TestREADME -update-readme
var updateREADME = flag.Bool("update-readme", false, "rewrite the configuration table of README.md from Settings()")

func TestREADME_ConfigurationTableIsGeneratedFromTheSettings(t *testing.T) {
	const path = "../../../../README.md"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	start := strings.Index(readme, "| variable | TOML key | default | meaning |\n")
	if start < 0 {
		t.Fatal("README.md has no configuration table")
	}
	end := strings.Index(readme[start:], "\n\n")
	if end < 0 {
		t.Fatal("README.md: the configuration table is not followed by a blank line")
	}
	end += start + 1
	want := MarkdownTable()
	if *updateREADME {
		if err := os.WriteFile(path, []byte(readme[:start]+want+readme[end:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got := readme[start:end]; got != want {
		gotRows, wantRows := strings.Split(got, "\n"), strings.Split(want, "\n")
		for i := 0; i < len(gotRows) || i < len(wantRows); i++ {
			g, w := "", ""
			if i < len(gotRows) {
				g = gotRows[i]
			}
			if i < len(wantRows) {
				w = wantRows[i]
			}
			if g != w {
				t.Fatalf("README.md configuration table differs from Settings() at row %d:\nREADME: %s\nwant:   %s\n(regenerate: go test ./cmd/helpdeskd/internal/config -run TestREADME -update-readme)", i, g, w)
			}
		}
	}
}

func TestMarkdownTable_GivesEverySettingWithItsDefault(t *testing.T) {
	table := MarkdownTable()
	for _, s := range Settings() {
		line := ""
		for _, l := range strings.Split(table, "\n") {
			if strings.HasPrefix(l, "| `"+s.Env+"` |") {
				line = l
			}
		}
		if line == "" {
			t.Errorf("no table row for %s", s.Env)
			continue
		}
		if s.Default != "" && !strings.Contains(line, "`"+s.Default+"`") {
			t.Errorf("row for %s does not give its default %q", s.Env, s.Default)
		}
	}
}
