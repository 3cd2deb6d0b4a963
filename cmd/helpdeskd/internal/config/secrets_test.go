package config

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const goodSecret = "0123456789abcdef0123456789abcdef-token"

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestSettings_EverySecretHasAFileVariant(t *testing.T) {
	byEnv := map[string]Setting{}
	for _, s := range Settings() {
		byEnv[s.Env] = s
	}
	for _, s := range Settings() {
		if !s.Secret {
			continue
		}
		f, ok := byEnv[s.Env+"_FILE"]
		if !ok {
			t.Errorf("secret %s has no %s_FILE variant", s.Env, s.Env)
			continue
		}
		if f.Key != s.Key+"_file" || f.IsMailbox() != s.IsMailbox() || f.Secret {
			t.Errorf("%s: key %q, mailbox %v, secret %v; want key %q in the same table, not itself secret", f.Env, f.Key, f.IsMailbox(), f.Secret, s.Key+"_file")
		}
	}
}

func TestLoad_FileVariantReadsTheSecretWithoutOneTrailingNewline(t *testing.T) {
	for _, tc := range []struct {
		env, content string
		got          func(*Config) string
		want         string
	}{
		{"HELPDESK_DATABASE_URL_FILE", "postgres://hd:dbpw@127.0.0.1/hd?sslmode=disable\n",
			func(c *Config) string { return c.DatabaseURL }, "postgres://hd:dbpw@127.0.0.1/hd?sslmode=disable"},
		{"HELPDESK_TOKEN_SECRET_FILE", goodSecret + "\r\n",
			func(c *Config) string { return c.TokenSecret }, goodSecret},
		{"HELPDESK_TOKEN_SECRET_OLD_FILE", goodSecret + "-1\n" + goodSecret + "-2\n",
			func(c *Config) string { return strings.Join(c.OldSecrets, ",") }, goodSecret + "-1," + goodSecret + "-2"},
		{"HELPDESK_IMAP_PASSWORD_FILE", "imap pw\n",
			func(c *Config) string { return c.Mailboxes[0].Password }, "imap pw"},
		{"HELPDESK_IMAP_PASSWORD_FILE", "only one newline goes\n\n",
			func(c *Config) string { return c.Mailboxes[0].Password }, "only one newline goes\n"},
		{"HELPDESK_IMAP_PASSWORD_FILE", " spaces stay ",
			func(c *Config) string { return c.Mailboxes[0].Password }, " spaces stay "},
		{"HELPDESK_SMTP_PASSWORD_FILE", "smtp-pw",
			func(c *Config) string { return c.SMTP.Password }, "smtp-pw"},
	} {
		t.Run(tc.env+"/"+strings.ReplaceAll(tc.content, "\n", `\n`), func(t *testing.T) {
			path := writeFile(t, "secret", tc.content)
			c, err := Load(env(map[string]string{tc.env: path, "HELPDESK_IMAP_ADDR": "127.0.0.1:993"}), "")
			if err != nil {
				t.Fatal(err)
			}
			if got := tc.got(c); got != tc.want {
				t.Fatalf("value = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestLoad_FileVariantsInTheConfigFile(t *testing.T) {
	dbFile := writeFile(t, "db", "host=127.0.0.1 password=dbpw sslmode=disable\n")
	imapFile := writeFile(t, "imap", "billing-pw\n")
	path := writeFile(t, "h.toml", `
database_url_file = "`+dbFile+`"
[[mailboxes]]
name = "support"
imap_addr = "127.0.0.1:993"
imap_password = "inline"
[[mailboxes]]
name = "billing"
imap_addr = "127.0.0.1:993"
imap_password_file = "`+imapFile+`"
`)
	c, err := Load(env(nil), path)
	if err != nil {
		t.Fatal(err)
	}
	if c.DatabaseURL != "host=127.0.0.1 password=dbpw sslmode=disable" || c.Mailboxes[0].Password != "inline" ||
		c.Mailboxes[1].Password != "billing-pw" || c.Mailboxes[1].PasswordFile != imapFile || c.Mailboxes[0].PasswordFile != "" {
		t.Fatalf("config = %+v", c)
	}
	// The environment wins over the file, whichever form either uses.
	c, err = Load(env(map[string]string{"HELPDESK_DATABASE_URL": "postgres://127.0.0.1/other?sslmode=disable"}), path)
	if err != nil || c.DatabaseURL != "postgres://127.0.0.1/other?sslmode=disable" {
		t.Fatalf("env over file: %v, %+v", err, c)
	}
}

func TestLoad_VariableAndItsFileVariantBothSetIsAnErrorNamingBoth(t *testing.T) {
	pw := writeFile(t, "pw", "secret\n")
	for _, env := range []string{"HELPDESK_DATABASE_URL", "HELPDESK_TOKEN_SECRET", "HELPDESK_TOKEN_SECRET_OLD", "HELPDESK_IMAP_PASSWORD", "HELPDESK_SMTP_PASSWORD"} {
		t.Run(env, func(t *testing.T) {
			_, err := Load(func(k string) string {
				switch k {
				case env:
					return "postgres://127.0.0.1/hd?sslmode=disable&x=" + goodSecret
				case env + "_FILE":
					return pw
				}
				return ""
			}, "")
			if err == nil || !strings.Contains(err.Error(), env+" and "+env+"_FILE are both set") {
				t.Fatalf("err = %v, want it to name %s and %s_FILE", err, env, env)
			}
		})
	}
	for _, tc := range []struct{ name, toml, want string }{
		{"top level", "token_secret = \"" + goodSecret + "\"\ntoken_secret_file = \"" + pw + "\"\n", "token_secret and token_secret_file are both set"},
		{"mailbox", "[[mailboxes]]\nimap_addr = \"127.0.0.1:993\"\nimap_password = \"x\"\nimap_password_file = \"" + pw + "\"\n", "mailboxes[0]: imap_password and imap_password_file are both set"},
	} {
		t.Run("file/"+tc.name, func(t *testing.T) {
			_, err := Load(env(nil), writeFile(t, "h.toml", tc.toml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestLoad_BadSecretFileErrorNamesVariableAndPathNeverTheContent(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, env, path string
	}{
		{"missing file", "HELPDESK_IMAP_PASSWORD_FILE", filepath.Join(dir, "nope")},
		{"a directory", "HELPDESK_SMTP_PASSWORD_FILE", dir},
		{"empty file", "HELPDESK_TOKEN_SECRET_FILE", writeFile(t, "empty", "\n")},
		{"secret too short", "HELPDESK_TOKEN_SECRET_FILE", writeFile(t, "short", "Sh0rtS3cret\n")},
		{"invalid database URL", "HELPDESK_DATABASE_URL_FILE", writeFile(t, "db", "postgres://hd:Sh0rtS3cret@127.0.0.1:port/hd?sslmode=disable\n")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(env(map[string]string{tc.env: tc.path}), "")
			if err == nil || !strings.Contains(err.Error(), tc.env) || !strings.Contains(err.Error(), tc.path) {
				t.Fatalf("err = %v, want it to name %s and %s", err, tc.env, tc.path)
			}
			if strings.Contains(err.Error(), "Sh0rtS3cret") {
				t.Fatalf("err shows the file's content: %v", err)
			}
		})
	}
}

func TestLoad_InvalidDatabaseURLErrorHidesThePassword(t *testing.T) {
	for _, u := range []string{
		"postgres://hd:Hunter2pw@127.0.0.1:port/hd?sslmode=disable",
		"postgres://hd:Hunter2pw@[::1/hd?sslmode=disable",
		"postgres://hd:Hunter2pw\x7f@127.0.0.1/hd?sslmode=disable",
		"postgres://hd:Hunter2pw@127.0.0.1/hd",
	} {
		_, err := Load(env(map[string]string{"HELPDESK_DATABASE_URL": u}), "")
		if err == nil || !strings.Contains(err.Error(), "HELPDESK_DATABASE_URL") || strings.Contains(err.Error(), "Hunter2pw") {
			t.Errorf("Load(%q): %v", u, err)
		}
	}
}

// everyDSNForm is a database connection string in every form, each carrying
// the password "Hunter2pw".
var everyDSNForm = map[string]string{
	"url userinfo":       "postgres://hd:Hunter2pw@127.0.0.1:5432/hd?sslmode=disable",
	"url userinfo coded": "postgres://hd:Hunter2pw%40x@127.0.0.1:5432/hd?sslmode=disable",
	"?password=":         "postgres://hd@127.0.0.1:5432/hd?password=Hunter2pw&sslmode=disable",
	"&password=":         "postgres://hd@127.0.0.1:5432/hd?sslmode=disable&password=Hunter2pw",
	"key=value":          "host=127.0.0.1 user=hd password=Hunter2pw dbname=hd sslmode=disable",
	"key=value quoted":   "host=127.0.0.1 user=hd password='Hunter2pw and more' sslmode=disable",
}

func TestRedacted_MasksThePasswordOfEveryFormAndEverySecretFromFiles(t *testing.T) {
	for name, dsn := range everyDSNForm {
		for _, viaFile := range []bool{false, true} {
			t.Run(name+map[bool]string{false: "", true: " via _FILE"}[viaFile], func(t *testing.T) {
				dir := t.TempDir()
				e := map[string]string{"HELPDESK_IMAP_ADDR": "127.0.0.1:993"}
				secrets := map[string]string{
					"HELPDESK_DATABASE_URL":     dsn,
					"HELPDESK_TOKEN_SECRET":     "T0kenSecret-" + goodSecret,
					"HELPDESK_TOKEN_SECRET_OLD": "0ldSecret-" + goodSecret,
					"HELPDESK_IMAP_PASSWORD":    "Imap-Pa55",
					"HELPDESK_SMTP_PASSWORD":    "Smtp-Pa55",
				}
				for k, v := range secrets {
					if viaFile {
						path := filepath.Join(dir, k)
						os.WriteFile(path, []byte(v+"\n"), 0o600)
						e[k+"_FILE"] = path
					} else {
						e[k] = v
					}
				}
				c, err := Load(env(e), "")
				if err != nil {
					t.Fatal(err)
				}
				var text strings.Builder
				for _, en := range c.Redacted() {
					text.WriteString(en.Key + "\t" + en.Value + "\t" + en.Env + "\n")
				}
				js, _ := json.Marshal(c.Redacted())
				for _, out := range []string{text.String(), string(js)} {
					for _, secret := range []string{"Hunter2pw", "T0kenSecret", "0ldSecret", "Imap-Pa55", "Smtp-Pa55"} {
						if strings.Contains(out, secret) {
							t.Fatalf("config output shows %q:\n%s", secret, out)
						}
					}
					if !strings.Contains(out, "127.0.0.1") || !strings.Contains(out, "sslmode=disable") {
						t.Fatalf("the database URL lost what is not secret:\n%s", out)
					}
					if viaFile && !strings.Contains(out, filepath.Join(dir, "HELPDESK_IMAP_PASSWORD")) {
						t.Fatalf("the _FILE path is not shown:\n%s", out)
					}
				}
			})
		}
	}
}

func TestSecrets_ListsEverySecretValue(t *testing.T) {
	pw := writeFile(t, "pw", "billing-Pa55\n")
	path := writeFile(t, "h.toml", "[[mailboxes]]\nname = \"billing\"\nimap_addr = \"127.0.0.1:993\"\nimap_password_file = \""+pw+"\"\n")
	c, err := Load(env(map[string]string{
		"HELPDESK_DATABASE_URL":     "postgres://hd:Db-Pa55@127.0.0.1/hd?sslmode=disable",
		"HELPDESK_TOKEN_SECRET":     "T0ken-" + goodSecret,
		"HELPDESK_TOKEN_SECRET_OLD": "0ld-" + goodSecret,
		"HELPDESK_SMTP_PASSWORD":    "Smtp-Pa55",
	}), path)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(c.Secrets(), "\n")
	for _, want := range []string{"Db-Pa55", "T0ken-" + goodSecret, "0ld-" + goodSecret, "Smtp-Pa55", "billing-Pa55"} {
		if !strings.Contains(got, want) {
			t.Errorf("Secrets() lacks %q: %q", want, c.Secrets())
		}
	}
}
