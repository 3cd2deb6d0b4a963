// Package config loads helpdeskd's settings: defaults, then an optional TOML
// file, then HELPDESK_* environment variables (which win). Every value is
// validated when loaded, and errors name the variable (or file key) at fault.
//
// Every setting is one row of the table in settings.go (variable, TOML key,
// default, doc, kind, bounds, field), parsed by one switch on its kind; the
// configuration reference in README.md is generated from it (see
// TestREADME_ConfigurationTableIsGeneratedFromTheSettings).
//
// The variable names are a contract that operators' scripts rely on: add
// freely, rename none.
package config

import (
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/helpdesk/helpdesk/cmd/helpdeskd/internal/redact"
)

// Config is the effective configuration.
type Config struct {
	DatabaseURL     string
	DatabaseURLFile string // where DatabaseURL was read from (HELPDESK_DATABASE_URL_FILE), for display
	// Connection pool and per-connection limits (see helpdesk.PoolConfig).
	DatabaseMaxConns         int
	DatabaseMaxIdleConns     int // 0 until loaded: then DatabaseMaxConns unless set
	DatabaseConnMaxIdleTime  time.Duration
	DatabaseConnMaxLifetime  time.Duration
	DatabaseStatementTimeout time.Duration // 0: none
	DatabaseIdleTxTimeout    time.Duration // 0: none
	SupportAddress           string
	SupportAliases           []string
	Name                     string
	MessageIDDomain          string
	TokenSecret              string
	TokenSecretFile          string // HELPDESK_TOKEN_SECRET_FILE, for display
	OldSecrets               []string
	OldSecretsFile           string // HELPDESK_TOKEN_SECRET_OLD_FILE, for display
	OldSecretsUntil          time.Time
	CustomerAccess           string
	StrangerMail             string
	NewAddressPolicy         string
	UnknownSenders           string
	ReopenWindow             time.Duration
	AgentAuth                bool
	AuthServID               string
	TrustedHops              int
	AgentAddress             string
	ManagerAddress           string
	DefaultLocale            string
	HTTPAddr                 string
	PublicURL                string        // base URL of download links ("": none)
	AttachmentLinkTTL        time.Duration // how long a download link works
	AgentAttachLimit         int64         // bytes of a customer's files attached to one agent notice (0: none)
	PprofAddr                string        // net/http/pprof listener, loopback only ("": off)
	TemplatesDir             string
	MaxMessageSize           int64
	RawRetention             time.Duration
	LogLevel                 string
	LogFormat                string
	SMTPWorkers              int
	CaseBudget               int
	RecipientBudget          int
	SuppressFor              time.Duration
	AgentBudget              int           // notices per staff address per hour
	SenderCaseLimit          int           // new cases per sender per hour (0: no limit)
	SelfServiceLimit         int           // answered self-service mails per address per hour (0: no limit)
	LoopWindow               time.Duration // no acknowledgement of a mail quoting ours sent this recently (0: off)
	VERP                     bool          // envelope sender support+bounce-<signed>@domain
	Reminders                []time.Duration
	AutoSolveAfter           time.Duration
	ThanksKeepOpen           bool
	BusinessHours            string
	BusinessDays             string
	TimeZone                 string
	TimerInterval            time.Duration
	IngestAttempts           int
	IngestGiveUp             time.Duration
	IngestBatch              int // messages per ingest transaction (1: one message per transaction)
	ParentWait               time.Duration
	// Operations (intake alarms, shutdown).
	OperatorAddress string        // intake alarms are mailed here ("": logged only)
	AlarmAfter      time.Duration // a mailbox failing, or the outbox's oldest due mail waiting, this long raises an alarm
	ShutdownTimeout time.Duration // drain time for the mail in hand at shutdown

	Mailboxes []Mailbox
	SMTP      SMTP
}

// Mailbox is one polled support mailbox.
type Mailbox struct {
	Name             string // cursor key and log label
	Address          string // the support address mail to this mailbox was sent to; default SupportAddress
	Addr             string // IMAP host:port
	Username         string
	Password         string
	PasswordFile     string // where Password was read from (HELPDESK_IMAP_PASSWORD_FILE), for display
	TLS              string // none, starttls, tls
	Auth             string // login, plain, xoauth2
	TokenFile        string // OAuth2 access token, re-read on every login (xoauth2)
	Mailbox          string
	ProcessedMailbox string // move here after commit; empty: leave in place
	FailedMailbox    string // move poison messages here
	PollInterval     time.Duration
}

// SMTP is the outgoing mail server.
type SMTP struct {
	Addr         string
	Username     string
	Password     string
	PasswordFile string // where Password was read from (HELPDESK_SMTP_PASSWORD_FILE), for display
	TLS          string
	Auth         string // "" (none), plain, login, xoauth2
	TokenFile    string
	HeloName     string
}

// Load builds the configuration from defaults, the TOML file at path (if not
// empty) and the environment as read by getenv.
func Load(getenv func(string) string, path string) (*Config, error) {
	c := &Config{}
	defaults := Mailbox{}
	for _, s := range Settings() {
		if s.Default == "" {
			continue
		}
		if err := s.set(c, &defaults, s.Default); err != nil {
			return nil, fmt.Errorf("default of %s: %w", s.Env, err) // a bug, not an operator error
		}
	}

	if path != "" {
		if err := loadFile(c, defaults, path); err != nil {
			return nil, err
		}
	}

	var errs []error
	var envMailbox *Mailbox
	for _, s := range Settings() {
		v := strings.TrimSpace(getenv(s.Env))
		if v == "" {
			continue
		}
		if s.fileOf != nil && strings.TrimSpace(getenv(s.fileOf.Env)) != "" {
			errs = append(errs, fmt.Errorf("%s and %s are both set: set one of them", s.fileOf.Env, s.Env))
			continue
		}
		if s.IsMailbox() {
			// HELPDESK_IMAP_* configure the first mailbox (creating it if the file has none).
			if envMailbox == nil {
				if len(c.Mailboxes) == 0 {
					c.Mailboxes = append(c.Mailboxes, defaults)
				}
				envMailbox = &c.Mailboxes[0]
			}
		}
		if err := s.set(c, envMailbox, v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.Env, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	c.fillDerived()
	if err := c.check(); err != nil {
		return nil, err
	}
	return c, nil
}

func loadFile(c *Config, defaults Mailbox, path string) error {
	var raw map[string]any
	if _, err := toml.DecodeFile(path, &raw); err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	byKey := map[string]Setting{}
	mbByKey := map[string]Setting{}
	for _, s := range Settings() {
		if s.IsMailbox() {
			mbByKey[s.Key] = s
		} else {
			byKey[s.Key] = s
		}
	}
	var errs []error
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := raw[k]
		if k == "mailboxes" {
			tables, ok := v.([]map[string]any)
			if !ok {
				errs = append(errs, fmt.Errorf("config file %s: mailboxes must be an array of tables ([[mailboxes]])", path))
				continue
			}
			for i, t := range tables {
				mb := defaults
				for mk, mv := range t {
					s, ok := mbByKey[mk]
					if !ok {
						errs = append(errs, fmt.Errorf("config file %s: mailboxes[%d]: unknown key %q", path, i, mk))
						continue
					}
					if _, both := t[strings.TrimSuffix(mk, "_file")]; s.fileOf != nil && both {
						errs = append(errs, fmt.Errorf("config file %s: mailboxes[%d]: %s and %s are both set: set one of them", path, i, strings.TrimSuffix(mk, "_file"), mk))
						continue
					}
					if err := s.set(c, &mb, tomlString(mv)); err != nil {
						errs = append(errs, fmt.Errorf("config file %s: mailboxes[%d].%s: %w", path, i, mk, err))
					}
				}
				c.Mailboxes = append(c.Mailboxes, mb)
			}
			continue
		}
		s, ok := byKey[k]
		if !ok {
			errs = append(errs, fmt.Errorf("config file %s: unknown key %q", path, k))
			continue
		}
		if _, both := raw[strings.TrimSuffix(k, "_file")]; s.fileOf != nil && both {
			errs = append(errs, fmt.Errorf("config file %s: %s and %s are both set: set one of them", path, strings.TrimSuffix(k, "_file"), k))
			continue
		}
		if err := s.set(c, nil, tomlString(v)); err != nil {
			errs = append(errs, fmt.Errorf("config file %s: %s (%s): %w", path, k, s.Env, err))
		}
	}
	return errors.Join(errs...)
}

func tomlString(v any) string {
	switch x := v.(type) {
	case []any:
		parts := make([]string, len(x))
		for i, p := range x {
			parts[i] = fmt.Sprint(p)
		}
		return strings.Join(parts, ",")
	case bool:
		if x {
			return "on"
		}
		return "off"
	default:
		return fmt.Sprint(x)
	}
}

func (c *Config) fillDerived() {
	if c.DatabaseMaxIdleConns == 0 {
		c.DatabaseMaxIdleConns = c.DatabaseMaxConns
	}
	if c.MessageIDDomain == "" && c.SupportAddress != "" {
		c.MessageIDDomain = c.SupportAddress[strings.LastIndexByte(c.SupportAddress, '@')+1:]
	}
	for i := range c.Mailboxes {
		if c.Mailboxes[i].Address == "" {
			c.Mailboxes[i].Address = c.SupportAddress
		}
	}
	if c.SMTP.Auth == "" && c.SMTP.Username != "" {
		c.SMTP.Auth = "plain"
	}
}

// check validates what single values cannot: combinations.
func (c *Config) check() error {
	var errs []error
	if c.DatabaseMaxIdleConns > c.DatabaseMaxConns {
		errs = append(errs, fmt.Errorf("HELPDESK_DATABASE_MAX_IDLE_CONNS (%d) is more than HELPDESK_DATABASE_MAX_CONNS (%d): at most that many connections can be idle", c.DatabaseMaxIdleConns, c.DatabaseMaxConns))
	}
	seen := map[string]bool{}
	for i, m := range c.Mailboxes {
		if seen[m.Name] {
			errs = append(errs, fmt.Errorf("mailboxes[%d]: name %q used twice (HELPDESK_IMAP_NAME / name)", i, m.Name))
		}
		seen[m.Name] = true
		if m.Auth == "xoauth2" && m.TokenFile == "" && m.Password == "" {
			errs = append(errs, fmt.Errorf("mailbox %s: HELPDESK_IMAP_AUTH=xoauth2 needs HELPDESK_IMAP_TOKEN_FILE (or the token in HELPDESK_IMAP_PASSWORD)", m.Name))
		}
	}
	if c.SMTP.Auth == "xoauth2" && c.SMTP.TokenFile == "" && c.SMTP.Password == "" {
		errs = append(errs, errors.New("HELPDESK_SMTP_AUTH=xoauth2 needs HELPDESK_SMTP_TOKEN_FILE (or the token in HELPDESK_SMTP_PASSWORD)"))
	}
	return errors.Join(errs...)
}

// Secrets lists every secret value of the configuration (passwords, token
// secrets, the database password), for masking wherever they might appear.
func (c *Config) Secrets() []string {
	out := redact.Passwords(c.DatabaseURL)
	out = append(out, c.TokenSecret, c.SMTP.Password)
	out = append(out, c.OldSecrets...)
	for _, m := range c.Mailboxes {
		out = append(out, m.Password)
	}
	return out
}

// RequireDatabase fails unless a database URL is set.
func (c *Config) RequireDatabase() error {
	if c.DatabaseURL == "" {
		return errors.New("HELPDESK_DATABASE_URL (or HELPDESK_DATABASE_URL_FILE) is not set (e.g. postgres://user:pass@127.0.0.1:5432/helpdesk?sslmode=disable)")
	}
	return nil
}

// RequireNotify fails unless what rendering and queueing mail needs is set:
// commands that change cases notify like the daemon does.
func (c *Config) RequireNotify() error {
	var errs []error
	if err := c.RequireDatabase(); err != nil {
		errs = append(errs, err)
	}
	if c.SupportAddress == "" {
		errs = append(errs, errors.New("HELPDESK_SUPPORT_ADDRESS is not set"))
	}
	if c.TokenSecret == "" {
		errs = append(errs, errors.New("HELPDESK_TOKEN_SECRET is not set"))
	}
	return errors.Join(errs...)
}

// RequireServe fails unless everything the daemon needs is set.
func (c *Config) RequireServe() error {
	var errs []error
	if err := c.RequireDatabase(); err != nil {
		errs = append(errs, err)
	}
	if c.SupportAddress == "" {
		errs = append(errs, errors.New("HELPDESK_SUPPORT_ADDRESS is not set"))
	}
	if c.TokenSecret == "" {
		errs = append(errs, errors.New("HELPDESK_TOKEN_SECRET (or HELPDESK_TOKEN_SECRET_FILE) is not set (at least 32 random characters, e.g. `openssl rand -hex 32`)"))
	}
	if len(c.Mailboxes) == 0 {
		errs = append(errs, errors.New("no mailbox: set HELPDESK_IMAP_ADDR (or [[mailboxes]] in the config file)"))
	}
	for _, m := range c.Mailboxes {
		if m.Addr == "" {
			errs = append(errs, fmt.Errorf("mailbox %s: HELPDESK_IMAP_ADDR is not set", m.Name))
		}
		if m.Username == "" {
			errs = append(errs, fmt.Errorf("mailbox %s: HELPDESK_IMAP_USERNAME is not set", m.Name))
		}
		if m.Auth != "xoauth2" && m.Password == "" {
			errs = append(errs, fmt.Errorf("mailbox %s: HELPDESK_IMAP_PASSWORD (or HELPDESK_IMAP_PASSWORD_FILE) is not set", m.Name))
		}
	}
	if c.SMTP.Addr == "" {
		errs = append(errs, errors.New("HELPDESK_SMTP_ADDR is not set"))
	}
	if op := c.OperatorAddress; op != "" {
		// Mail to our own addresses is never sent (loop protection).
		own := append([]string{c.SupportAddress}, c.SupportAliases...)
		for _, m := range c.Mailboxes {
			own = append(own, m.Address)
		}
		for _, a := range own {
			if a != "" && strings.EqualFold(a, op) {
				errs = append(errs, fmt.Errorf("HELPDESK_OPERATOR_ADDRESS %s is one of the support addresses, which get no mail: use a person's or a team's address", op))
				break
			}
		}
	}
	return errors.Join(errs...)
}

// Entry is one line of the effective configuration.
type Entry struct {
	Env   string `json:"env"`
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Redacted is the effective configuration with secrets masked: passwords and
// the token secrets become "********", the database URL keeps all but its
// password (in any form: URL userinfo, password parameter, key=value), and a
// _FILE setting shows its path, never the content.
func (c *Config) Redacted() []Entry {
	var out []Entry
	mask := func(s Setting, v string) string {
		switch {
		case v == "":
			return v
		case s.Env == "HELPDESK_DATABASE_URL":
			return redact.New(redact.Passwords(v)...).String(v)
		case s.Secret:
			return redact.Mask
		}
		return redact.String(v)
	}
	for _, s := range Settings() {
		if s.IsMailbox() {
			continue
		}
		out = append(out, Entry{Env: s.Env, Key: s.Key, Value: mask(s, s.get(c, nil))})
	}
	for i := range c.Mailboxes {
		for _, s := range Settings() {
			if !s.IsMailbox() {
				continue
			}
			out = append(out, Entry{Env: s.Env, Key: fmt.Sprintf("mailboxes[%d].%s", i, s.Key), Value: mask(s, s.get(c, &c.Mailboxes[i]))})
		}
	}
	return out
}

// checkHours accepts "HH:MM-HH:MM".
func checkHours(v string) error {
	_, _, err := ParseHours(v)
	return err
}

// ParseHours reads "09:00-18:00" into times of day.
func ParseHours(v string) (open, close time.Duration, err error) {
	a, b, ok := strings.Cut(v, "-")
	if !ok {
		return 0, 0, fmt.Errorf("want HH:MM-HH:MM, got %q", v)
	}
	parse := func(s string) (time.Duration, error) {
		t, err := time.Parse("15:04", strings.TrimSpace(s))
		if err != nil {
			if strings.TrimSpace(s) == "24:00" {
				return 24 * time.Hour, nil
			}
			return 0, fmt.Errorf("want HH:MM-HH:MM, got %q", v)
		}
		return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
	}
	if open, err = parse(a); err != nil {
		return 0, 0, err
	}
	if close, err = parse(b); err != nil {
		return 0, 0, err
	}
	if close <= open {
		return 0, 0, fmt.Errorf("closing time must be after opening time in %q", v)
	}
	return open, close, nil
}

// ParseDays reads "mon-fri" or "mon,tue,thu" into a weekday set.
func ParseDays(v string) ([7]bool, error) {
	var days [7]bool
	names := map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
		"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}
	for _, part := range strings.Split(strings.ToLower(v), ",") {
		part = strings.TrimSpace(part)
		a, b, isRange := strings.Cut(part, "-")
		from, ok1 := names[strings.TrimSpace(a)]
		to := from
		ok2 := true
		if isRange {
			to, ok2 = names[strings.TrimSpace(b)]
		}
		if !ok1 || !ok2 {
			return days, fmt.Errorf("want days such as mon-fri or mon,tue,thu, got %q", v)
		}
		for d := from; ; d = (d + 1) % 7 {
			days[d] = true
			if d == to {
				break
			}
		}
	}
	return days, nil
}

func checkDatabaseURL(v string) error {
	if strings.HasPrefix(v, "postgres://") || strings.HasPrefix(v, "postgresql://") {
		u, err := url.Parse(v)
		if err != nil {
			// Not err itself: it quotes the URL, password and all.
			return errors.New("not a valid URL (a password with characters such as @ / : ? # % must be percent-encoded)")
		}
		if u.Query().Get("sslmode") == "" {
			return errors.New("set sslmode explicitly (disable, require, verify-full, ...): lib/pq defaults to require")
		}
		return nil
	}
	if strings.Contains(v, "=") { // key=value form
		if !strings.Contains(v, "sslmode=") {
			return errors.New("set sslmode explicitly (disable, require, verify-full, ...): lib/pq defaults to require")
		}
		return nil
	}
	return errors.New("want postgres://user:pass@host:port/db?sslmode=...")
}
