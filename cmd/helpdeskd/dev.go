package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/helpdesk/helpdesk/cmd/helpdeskd/internal/config"
	"github.com/helpdesk/helpdesk/cmd/helpdeskd/internal/redact"
	"github.com/helpdesk/helpdesk/helpdesk"
	"github.com/helpdesk/helpdesk/mail/devmail"
	"github.com/helpdesk/helpdesk/migrations"
)

// demoData is what `helpdeskd dev` seeds.
func demoData() (orgs []helpdesk.NewOrg, users []helpdesk.NewUser, grants [][2]string) {
	orgs = []helpdesk.NewOrg{
		{Name: "Helpdesk Demo", Plan: helpdesk.PlanPremium, Domains: []string{"helpdesk.test"}},
		{Name: "Acme", Plan: helpdesk.PlanPremium, Domains: []string{"acme.test"}},
		{Name: "Resell Co", Plan: helpdesk.PlanAdvanced, Domains: []string{"resell.test"}},
	}
	users = []helpdesk.NewUser{
		{Email: "alice@helpdesk.test", Name: "Alice Agent", Role: helpdesk.RoleAgent, Org: "Helpdesk Demo"},
		{Email: "bob@helpdesk.test", Name: "Bob Agent", Role: helpdesk.RoleAgent, Org: "Helpdesk Demo"},
		{Email: "carol@helpdesk.test", Name: "Carol Manager", Role: helpdesk.RoleManager, Org: "Helpdesk Demo"},
		{Email: "minsu@acme.test", Name: "김민수", Role: helpdesk.RoleCustomer, Org: "Acme", Locale: helpdesk.LocaleKO},
		{Email: "jane@acme.test", Name: "Jane Customer", Role: helpdesk.RoleCustomer, Org: "Acme"},
		{Email: "rita@resell.test", Name: "Rita Reseller", Role: helpdesk.RoleReseller, Org: "Resell Co"},
	}
	grants = [][2]string{{"Acme", "Resell Co"}}
	return orgs, users, grants
}

func cmdDev(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	dataDir := fs.String("data", ".dev", "directory for the sandbox's state (kept between runs)")
	reset := fs.Bool("reset", false, "delete the sandbox's state first")
	imapAddr := fs.String("imap", "127.0.0.1:1143", "address of the sandbox's IMAP server")
	smtpAddr := fs.String("smtp", "127.0.0.1:1025", "address of the sandbox's SMTP server")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	dir, err := filepath.Abs(*dataDir)
	if err != nil {
		return err
	}
	c, err := e.config()
	if err != nil {
		return err
	}
	out := e.stdout
	say := func(format string, args ...any) { fmt.Fprintf(out, "dev: "+format+"\n", args...) }

	// The lock makes sure that a PostgreSQL found running from the state
	// directory was left by a dev that crashed, so stopping it is right.
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	unlock, err := lockState(dir)
	if err != nil {
		return err
	}
	defer unlock()

	dbURL := c.DatabaseURL
	if dbURL == "" {
		cluster, err := newDevCluster(dir, say)
		if err != nil {
			return err
		}
		if *reset {
			say("--reset: removing the sandbox's state in %s", dir)
			if err := cluster.Remove(ctx); err != nil {
				return fmt.Errorf("reset: %w", err)
			}
			if err := removeAllBut(dir, "lock"); err != nil {
				return fmt.Errorf("reset: %w", err)
			}
		}
		if err := cluster.Start(ctx); err != nil {
			return fmt.Errorf("start the dev PostgreSQL: %w", err)
		}
		defer func() {
			err := cluster.Stop()
			switch {
			case err != nil:
				fmt.Fprintf(e.stderr, "dev: stop PostgreSQL: %v\n", err)
			case cluster.Running(context.Background()):
				say("PostgreSQL is still running from %s; stop it with: pg_ctl -D %s stop", cluster.dir, cluster.dir)
			default:
				say("PostgreSQL stopped; state kept in %s", dir)
			}
		}()
		dbURL = cluster.URL()
		say("PostgreSQL running from %s on 127.0.0.1:%d", cluster.dir, cluster.port)
	} else {
		say("using HELPDESK_DATABASE_URL")
		if *reset {
			return errors.New("--reset only applies to the sandbox's own PostgreSQL, not to HELPDESK_DATABASE_URL")
		}
		created, err := createDatabaseIfMissing(ctx, dbURL)
		if err != nil {
			return err
		}
		if created {
			say("created the database HELPDESK_DATABASE_URL names")
		}
	}

	s, err := helpdesk.OpenWith(ctx, dbURL, poolConfig(c))
	if err != nil {
		return err
	}
	defer s.Close()
	applied, err := migrations.Up(ctx, s.DB().DB)
	if err != nil {
		return err
	}
	say("schema at version %d (applied now: %d)", migrations.Latest(), len(applied))
	created, err := seedDemo(ctx, s)
	if err != nil {
		return fmt.Errorf("seed demo data: %w", err)
	}
	for _, line := range created {
		say("seeded %s", line)
	}
	if len(created) == 0 {
		say("demo data already present")
	}

	// The env file: the database, and this binary first on PATH, so that
	// the commands the banner prints work as printed.
	envFile := filepath.Join(dir, "env")
	if err := os.WriteFile(envFile, []byte(devEnvFile(dbURL, devExecutable())), 0o600); err != nil {
		return err
	}

	// The mail system: every demo user has a mailbox; mail to anyone else bounces.
	mailDir := filepath.Join(dir, "mail")
	if err := os.MkdirAll(mailDir, 0o700); err != nil {
		return err
	}
	ms, err := devmail.Start(devmail.Config{IMAPAddr: *imapAddr, SMTPAddr: *smtpAddr, StateDir: mailDir})
	if err != nil {
		return fmt.Errorf("start the sandbox mail servers (--imap/--smtp to use other ports): %w", err)
	}
	defer func() {
		if err := ms.Close(); err != nil {
			fmt.Fprintf(e.stderr, "dev: save mailboxes: %v\n", err)
		}
	}()
	_, users, _ := demoData()
	accounts := []string{devSupport, devAgents}
	for _, u := range users {
		accounts = append(accounts, u.Email)
	}
	for _, a := range accounts {
		if err := ms.AddUser(a, devPassword); err != nil {
			return fmt.Errorf("mailbox %s: %w", a, err)
		}
	}
	secret, err := devSecret(filepath.Join(dir, "token-secret"))
	if err != nil {
		return err
	}
	dc, err := e.devConfig(dbURL, secret, ms)
	if err != nil {
		return err
	}
	log := e.logger(dc)

	// The HTTP listener (health, readiness, metrics): HELPDESK_HTTP_ADDR, or
	// a free port on loopback.
	httpAddr := dc.HTTPAddr
	if httpAddr == "" {
		httpAddr = "127.0.0.1:0"
	}
	hl, err := net.Listen("tcp", httpAddr)
	if err != nil {
		return fmt.Errorf("HTTP listener on %s (set HELPDESK_HTTP_ADDR to use another): %w", httpAddr, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ready := &readiness{redact: redact.New(dc.Secrets()...)}
	ready.setStore(s)
	httpDone := make(chan struct{})
	go func() {
		defer close(httpDone)
		if err := serveHTTP(ctx, hl, httpHandler(ready), log); err != nil {
			log.Error("HTTP listener failed", "err", err)
		}
	}()
	defer func() { cancel(); <-httpDone }()

	components, _, err := mailComponents(dc, s, log, ready)
	if err != nil {
		return err
	}

	fmt.Fprint(out, devBanner(devBannerData{
		IMAP: ms.IMAPAddr(), SMTP: ms.SMTPAddr(), HTTP: hl.Addr().String(),
		EnvFile: shellPath(envFile), Dir: dir,
	}))
	return supervise(ctx, log, components)
}

type devBannerData struct {
	IMAP, SMTP, HTTP string
	EnvFile          string // as to type it in a shell started in the current directory
	Dir              string
}

// devBanner is what dev prints once everything runs: every command in it
// works as printed (TestDev_BannerCommandsWork).
func devBanner(d devBannerData) string {
	return fmt.Sprintf(`
helpdesk sandbox is ready.

  Support address  %[3]s (polled over IMAP with IDLE; agent notices go to %[4]s)
  IMAP             %[1]s (no TLS)      SMTP  %[2]s (no TLS, AUTH optional)
  HTTP             http://%[8]s/healthz, /readyz, /metrics
  Accounts         every address below, password %[5]q
    customers      minsu@acme.test (Korean), jane@acme.test        org Acme
    reseller       rita@resell.test (granted access to Acme)
    agents         alice@helpdesk.test, bob@helpdesk.test; manager carol@helpdesk.test

  Try it:
    swaks --server %[2]s --from jane@acme.test --to %[3]s \
          --header 'Subject: Printer on fire' --body 'It smells of smoke.'
    then read jane's acknowledgement and the agent notice in a mail client
    (Thunderbird: IMAP %[1]s, user jane@acme.test or %[4]s, password %[5]q,
    no encryption).

  Reply as an agent: answer the agent notice as alice@helpdesk.test (an agent; mail
  from %[4]s itself is held as an unknown sender). In a mail client, reply to the
  notice with alice@helpdesk.test as the From address; or:
    swaks --server %[2]s --from alice@helpdesk.test --to %[3]s \
          --header 'Subject: Re: [Case #1] Printer on fire' --body 'On my way.'
  It becomes a comment on case 1, and jane gets it by mail.

  In another terminal, from this directory:
    . %[6]s          # sets HELPDESK_DATABASE_URL, puts helpdeskd on PATH
    helpdeskd cases list
    helpdeskd cases show 1

Press Ctrl-C to stop (state is kept in %[7]s; --reset starts over).
`, d.IMAP, d.SMTP, devSupport, devAgents, devPassword, d.EnvFile, d.Dir, d.HTTP)
}

// devExecutable is the running helpdeskd binary ("" if unknown); a
// variable for tests, whose binary is not helpdeskd.
var devExecutable = func() string {
	p, err := os.Executable()
	if err != nil {
		return ""
	}
	return p
}

// devEnvFile is the env file's text: the database URL and the directory of
// the running binary first on PATH.
func devEnvFile(dbURL, exe string) string {
	var b strings.Builder
	b.WriteString("export HELPDESK_DATABASE_URL=" + shellQuote(dbURL) + "\n")
	if exe != "" {
		b.WriteString("export PATH=" + shellQuote(filepath.Dir(exe)) + `":$PATH"` + "\n")
	}
	return b.String()
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// shellPath is path as to type it after `.` in a shell started in the
// current directory: ./relative when below it (a bare name would be
// looked up on PATH), else absolute.
func shellPath(path string) string {
	wd, err := os.Getwd()
	if err != nil {
		return path
	}
	rel, err := filepath.Rel(wd, path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return path
	}
	return "./" + rel
}

// removeAllBut empties dir except for the named entries.
func removeAllBut(dir string, keep ...string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, en := range entries {
		if slices.Contains(keep, en.Name()) {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, en.Name())); err != nil {
			return err
		}
	}
	return nil
}

// The sandbox's fixed accounts.
const (
	devSupport  = "support@helpdesk.test"
	devAgents   = "agents@helpdesk.test"
	devPassword = "demo"
)

// devConfig is serve's configuration for the sandbox: its own mail servers,
// agents' mail trusted without authentication results.
func (e *env) devConfig(dbURL, secret string, ms *devmail.Server) (*config.Config, error) {
	vars := map[string]string{
		"HELPDESK_DATABASE_URL":           dbURL,
		"HELPDESK_SUPPORT_ADDRESS":        devSupport,
		"HELPDESK_NAME":                   "Helpdesk Demo",
		"HELPDESK_TOKEN_SECRET":           secret,
		"HELPDESK_AGENT_AUTH":             "off",
		"HELPDESK_AGENT_ADDRESS":          devAgents,
		"HELPDESK_MANAGER_ADDRESS":        "carol@helpdesk.test",
		"HELPDESK_IMAP_ADDR":              ms.IMAPAddr(),
		"HELPDESK_IMAP_TLS":               "none",
		"HELPDESK_IMAP_USERNAME":          devSupport,
		"HELPDESK_IMAP_PASSWORD":          devPassword,
		"HELPDESK_IMAP_PROCESSED_MAILBOX": "Processed",
		"HELPDESK_SMTP_ADDR":              ms.SMTPAddr(),
		"HELPDESK_SMTP_TLS":               "none",
	}
	// The operator's own settings (log level, locale, templates...) still apply.
	return config.Load(func(k string) string {
		if v, ok := vars[k]; ok {
			return v
		}
		return e.getenv(k)
	}, e.configPath)
}

// devSecret returns the sandbox's token secret, made once and kept, so that
// reply tokens in mail already sent stay valid across restarts.
func devSecret(path string) (string, error) {
	if b, err := os.ReadFile(path); err == nil && len(b) >= 32 {
		return string(b), nil
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	secret := hex.EncodeToString(b[:])
	return secret, os.WriteFile(path, []byte(secret), 0o600)
}

// seedDemo adds the demo orgs, users and grants that are missing and says
// what it added.
func seedDemo(ctx context.Context, s *helpdesk.Store) ([]string, error) {
	demoOrgs, demoUsers, demoGrants := demoData()
	var created []string
	err := s.WithTx(ctx, func(tx *sqlx.Tx) error {
		for _, o := range demoOrgs {
			if _, err := helpdesk.OrgByName(ctx, tx, o.Name); err == nil {
				continue
			} else if !errors.Is(err, helpdesk.ErrNotFound) {
				return err
			}
			if _, err := helpdesk.CreateOrg(ctx, tx, o); err != nil {
				return err
			}
			created = append(created, fmt.Sprintf("org %s (%s plan)", o.Name, o.Plan))
		}
		for _, u := range demoUsers {
			if _, err := helpdesk.UserByAddress(ctx, tx, u.Email); err == nil {
				continue
			} else if !errors.Is(err, helpdesk.ErrNotFound) {
				return err
			}
			nu, err := helpdesk.CreateUser(ctx, tx, u)
			if err != nil {
				return err
			}
			if u.Locale == helpdesk.LocaleKO { // the demo's Korean customers are in Seoul
				if err := helpdesk.SetUserTimeZone(ctx, tx, nu.ID, "Asia/Seoul"); err != nil {
					return err
				}
			}
			created = append(created, fmt.Sprintf("%s %s", u.Role, u.Email))
		}
		for _, g := range demoGrants {
			gs, err := helpdesk.ListGrants(ctx, tx)
			if err != nil {
				return err
			}
			have := false
			for _, x := range gs {
				have = have || (x.Customer == g[0] && x.Reseller == g[1] && x.Active)
			}
			if have {
				continue
			}
			if err := helpdesk.AddGrant(ctx, tx, g[0], g[1]); err != nil {
				return err
			}
			created = append(created, fmt.Sprintf("grant %s → %s", g[0], g[1]))
		}
		return nil
	})
	return created, err
}
