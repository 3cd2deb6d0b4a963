// Package config loads helpdeskd's settings: defaults, then an optional TOML
// file, then HELPDESK_* environment variables (which win). Every value is
// validated when loaded, and errors name the variable (or file key) at fault.
//
// The variable names are a contract that operators' scripts rely on: add
// freely, rename none.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/helpdesk/helpdesk/cmd/helpdeskd/internal/redact"
)

// Config is the effective configuration.
type Config struct {
	DatabaseURL     string
	DatabaseURLFile string // where DatabaseURL was read from (HELPDESK_DATABASE_URL_FILE), for display
	SupportAddress  string
	SupportAliases  []string
	Name            string
	MessageIDDomain string
	TokenSecret     string
	TokenSecretFile string // HELPDESK_TOKEN_SECRET_FILE, for display
	OldSecrets      []string
	OldSecretsFile  string // HELPDESK_TOKEN_SECRET_OLD_FILE, for display
	OldSecretsUntil time.Time
	CustomerAccess  string
	StrangerMail    string
	UnknownSenders  string
	ReopenWindow    time.Duration
	AgentAuth       bool
	AuthServID      string
	TrustedHops     int
	AgentAddress    string
	ManagerAddress  string
	DefaultLocale   string
	HTTPAddr        string
	TemplatesDir    string
	MaxMessageSize  int64
	RawRetention    time.Duration
	LogLevel        string
	LogFormat       string
	SMTPWorkers     int
	CaseBudget      int
	RecipientBudget int
	SuppressFor     time.Duration
	AgentBudget     int           // notices per staff address per hour
	SenderCaseLimit int           // new cases per sender per hour (0: no limit)
	LoopWindow      time.Duration // no acknowledgement of a mail quoting ours sent this recently (0: off)
	VERP            bool          // envelope sender support+bounce-<signed>@domain
	Reminders       []time.Duration
	AutoSolveAfter  time.Duration
	ThanksKeepOpen  bool
	BusinessHours   string
	BusinessDays    string
	TimeZone        string
	TimerInterval   time.Duration
	IngestAttempts  int
	IngestGiveUp    time.Duration
	ParentWait      time.Duration
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

// Setting describes one configuration value, for loading and for docs.
type Setting struct {
	Env     string
	Key     string // TOML key; mailbox settings live in [[mailboxes]] tables
	Default string
	Secret  bool
	Doc     string

	mailbox bool
	fileOf  string // for a _FILE variant: the Env of the secret it holds
	set     func(c *Config, mb *Mailbox, v string) error
	get     func(c *Config, mb *Mailbox) string
}

// Settings lists every setting in documentation order.
func Settings() []Setting {
	s := []Setting{
		{Env: "HELPDESK_DATABASE_URL", Key: "database_url", Secret: true,
			Doc: "PostgreSQL URL; sslmode must be explicit (e.g. `?sslmode=disable` on loopback)",
			set: str(func(c *Config) *string { return &c.DatabaseURL }, checkDatabaseURL),
			get: get(func(c *Config) string { return c.DatabaseURL })},
		{Env: "HELPDESK_SUPPORT_ADDRESS", Key: "support_address",
			Doc: "the support address customers write to, e.g. support@example.com",
			set: str(func(c *Config) *string { return &c.SupportAddress }, checkAddress),
			get: get(func(c *Config) string { return c.SupportAddress })},
		{Env: "HELPDESK_SUPPORT_ALIASES", Key: "support_aliases",
			Doc: "further addresses of ours, comma-separated (never notified, recognised as our own)",
			set: func(c *Config, _ *Mailbox, v string) error {
				list, err := addressList(v)
				c.SupportAliases = list
				return err
			},
			get: get(func(c *Config) string { return strings.Join(c.SupportAliases, ",") })},
		{Env: "HELPDESK_NAME", Key: "name", Default: "Support",
			Doc: "the public name used in From and templates",
			set: str(func(c *Config) *string { return &c.Name }, nonEmpty),
			get: get(func(c *Config) string { return c.Name })},
		{Env: "HELPDESK_MESSAGE_ID_DOMAIN", Key: "message_id_domain",
			Doc: "domain of our Message-IDs; default the support address's domain",
			set: str(func(c *Config) *string { return &c.MessageIDDomain }, nil),
			get: get(func(c *Config) string { return c.MessageIDDomain })},
		{Env: "HELPDESK_TOKEN_SECRET", Key: "token_secret", Secret: true,
			Doc: "HMAC secret for reply tokens, at least 32 characters",
			set: str(func(c *Config) *string { return &c.TokenSecret }, func(v string) error {
				if len(v) < 32 {
					return errors.New("must be at least 32 characters")
				}
				return nil
			}),
			get: get(func(c *Config) string { return c.TokenSecret })},
		{Env: "HELPDESK_TOKEN_SECRET_OLD", Key: "token_secret_old", Secret: true,
			Doc: "previous token secrets, comma-separated, still accepted after a rotation",
			set: func(c *Config, _ *Mailbox, v string) error {
				c.OldSecrets = nil
				for _, p := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == '\n' }) { // a _FILE may hold one a line
					if p = strings.TrimSpace(p); p != "" {
						if len(p) < 32 {
							return errors.New("each old secret must be at least 32 characters")
						}
						c.OldSecrets = append(c.OldSecrets, p)
					}
				}
				return nil
			},
			get: get(func(c *Config) string { return strings.Join(c.OldSecrets, ",") })},
		{Env: "HELPDESK_TOKEN_SECRET_OLD_UNTIL", Key: "token_secret_old_until",
			Doc: "RFC 3339 time after which tokens of the old secrets stop working (empty: no end)",
			set: func(c *Config, _ *Mailbox, v string) error {
				t, err := time.Parse(time.RFC3339, v)
				if err != nil {
					return fmt.Errorf("want an RFC 3339 time such as 2026-12-31T00:00:00Z, got %q", v)
				}
				c.OldSecretsUntil = t
				return nil
			},
			get: get(func(c *Config) string {
				if c.OldSecretsUntil.IsZero() {
					return ""
				}
				return c.OldSecretsUntil.Format(time.RFC3339)
			})},
		{Env: "HELPDESK_CUSTOMER_ACCESS", Key: "customer_access", Default: "own",
			Doc: "own: a plain customer acts on their own cases (and those a reseller opened for their org); org: on every case of their org",
			set: str(func(c *Config) *string { return &c.CustomerAccess }, oneOf("own", "org")),
			get: get(func(c *Config) string { return c.CustomerAccess })},
		{Env: "HELPDESK_STRANGER_MAIL", Key: "stranger_mail", Default: "hold",
			Doc: "mail from a sender not allowed on the case it threads to: hold (kept for review, agents told) or new_case",
			set: str(func(c *Config) *string { return &c.StrangerMail }, oneOf("hold", "new_case")),
			get: get(func(c *Config) string { return c.StrangerMail })},
		{Env: "HELPDESK_UNKNOWN_SENDERS", Key: "unknown_senders", Default: "open",
			Doc: "who may open a case: open (anyone), domain (known org domains), registered (known users)",
			set: str(func(c *Config) *string { return &c.UnknownSenders }, oneOf("open", "domain", "registered")),
			get: get(func(c *Config) string { return c.UnknownSenders })},
		{Env: "HELPDESK_REOPEN_WINDOW", Key: "reopen_window", Default: "720h",
			Doc: "how long after solving a reply reopens the case; later replies open a follow-up case",
			set: dur(func(c *Config) *time.Duration { return &c.ReopenWindow }),
			get: get(func(c *Config) string { return c.ReopenWindow.String() })},
		{Env: "HELPDESK_AGENT_AUTH", Key: "agent_auth", Default: "on",
			Doc: "on: agents' mail acts only when Authentication-Results shows aligned dkim/spf pass; off: trust From",
			set: flagSet(func(c *Config) *bool { return &c.AgentAuth }),
			get: flagGet(func(c *Config) *bool { return &c.AgentAuth })},
		{Env: "HELPDESK_AUTHSERV_ID", Key: "authserv_id",
			Doc: "authserv-id of the receiving server whose Authentication-Results are trusted",
			set: str(func(c *Config) *string { return &c.AuthServID }, nil),
			get: get(func(c *Config) string { return c.AuthServID })},
		{Env: "HELPDESK_TRUSTED_RECEIVED_HOPS", Key: "trusted_received_hops", Default: "1",
			Doc: "how many Received headers sit above the border's own Authentication-Results; only those above the last of them, or directly below it, are trusted",
			set: intSetting(func(c *Config) *int { return &c.TrustedHops }, 0, 20),
			get: get(func(c *Config) string { return strconv.Itoa(c.TrustedHops) })},
		{Env: "HELPDESK_AGENT_ADDRESS", Key: "agent_address",
			Doc: "where agent notices go when a case has no assignee",
			set: str(func(c *Config) *string { return &c.AgentAddress }, checkAddress),
			get: get(func(c *Config) string { return c.AgentAddress })},
		{Env: "HELPDESK_MANAGER_ADDRESS", Key: "manager_address",
			Doc: "the duty manager (escalations, SLA breaches)",
			set: str(func(c *Config) *string { return &c.ManagerAddress }, checkAddress),
			get: get(func(c *Config) string { return c.ManagerAddress })},
		{Env: "HELPDESK_DEFAULT_LOCALE", Key: "default_locale", Default: "en",
			Doc: "language of notifications to recipients without one: en or ko",
			set: str(func(c *Config) *string { return &c.DefaultLocale }, oneOf("en", "ko")),
			get: get(func(c *Config) string { return c.DefaultLocale })},
		{Env: "HELPDESK_HTTP_ADDR", Key: "http_addr",
			Doc: "health (/healthz), readiness (/readyz) and metrics (/metrics) listener, e.g. 127.0.0.1:8080 (empty: off)",
			set: str(func(c *Config) *string { return &c.HTTPAddr }, checkHostPort),
			get: get(func(c *Config) string { return c.HTTPAddr })},
		{Env: "HELPDESK_TEMPLATES_DIR", Key: "templates_dir",
			Doc: "directory whose templates override the embedded ones (empty: none)",
			set: str(func(c *Config) *string { return &c.TemplatesDir }, nil),
			get: get(func(c *Config) string { return c.TemplatesDir })},
		{Env: "HELPDESK_MAX_MESSAGE_SIZE", Key: "max_message_size", Default: "26214400",
			Doc: "largest inbound mail in bytes that is fetched and ingested; larger mail is recorded and its sender told",
			set: func(c *Config, _ *Mailbox, v string) error {
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil || n < 1024 {
					return fmt.Errorf("want a byte count of at least 1024, got %q", v)
				}
				c.MaxMessageSize = n
				return nil
			},
			get: get(func(c *Config) string { return strconv.FormatInt(c.MaxMessageSize, 10) })},
		{Env: "HELPDESK_RAW_RETENTION", Key: "raw_retention", Default: "2160h",
			Doc: "how long raw inbound mail is kept for reprocessing",
			set: dur(func(c *Config) *time.Duration { return &c.RawRetention }),
			get: get(func(c *Config) string { return c.RawRetention.String() })},
		{Env: "HELPDESK_INGEST_MAX_ATTEMPTS", Key: "ingest_max_attempts", Default: "5",
			Doc: "temporary failures of one inbound mail before it is set aside in the Failed folder, so it never holds the mailbox",
			set: intSetting(func(c *Config) *int { return &c.IngestAttempts }, 1, 1000),
			get: get(func(c *Config) string { return strconv.Itoa(c.IngestAttempts) })},
		{Env: "HELPDESK_INGEST_GIVE_UP_AFTER", Key: "ingest_give_up_after", Default: "1m0s",
			Doc: "least time a mail keeps failing (with HELPDESK_INGEST_MAX_ATTEMPTS attempts) before it is set aside: a short outage never costs a good mail",
			set: dur(func(c *Config) *time.Duration { return &c.IngestGiveUp }),
			get: get(func(c *Config) string { return c.IngestGiveUp.String() })},
		{Env: "HELPDESK_PARENT_WAIT", Key: "parent_wait", Default: "2m0s",
			Doc: "how long a reply to a mail we have not seen yet waits for it before opening a case (0: no waiting)",
			set: func(c *Config, _ *Mailbox, v string) error {
				d, err := time.ParseDuration(v)
				if err != nil || d < 0 {
					return fmt.Errorf("want a duration such as 2m, or 0 for no waiting, got %q", v)
				}
				c.ParentWait = d
				return nil
			},
			get: get(func(c *Config) string { return c.ParentWait.String() })},
		{Env: "HELPDESK_SMTP_WORKERS", Key: "smtp_workers", Default: "2",
			Doc: "concurrent SMTP connections sending the outbox",
			set: intSetting(func(c *Config) *int { return &c.SMTPWorkers }, 1, 64),
			get: get(func(c *Config) string { return strconv.Itoa(c.SMTPWorkers) })},
		{Env: "HELPDESK_CASE_BUDGET", Key: "case_budget", Default: "20",
			Doc: "most notifications per case per hour; more are recorded, not sent (mail-loop brake)",
			set: intSetting(func(c *Config) *int { return &c.CaseBudget }, 1, 100000),
			get: get(func(c *Config) string { return strconv.Itoa(c.CaseBudget) })},
		{Env: "HELPDESK_RECIPIENT_BUDGET", Key: "recipient_budget", Default: "40",
			Doc: "most notifications per recipient per hour",
			set: intSetting(func(c *Config) *int { return &c.RecipientBudget }, 1, 100000),
			get: get(func(c *Config) string { return strconv.Itoa(c.RecipientBudget) })},
		{Env: "HELPDESK_SUPPRESS_DURATION", Key: "suppress_duration", Default: "720h",
			Doc: "how long an address that bounced permanently gets no mail",
			set: dur(func(c *Config) *time.Duration { return &c.SuppressFor }),
			get: get(func(c *Config) string { return c.SuppressFor.String() })},
		{Env: "HELPDESK_AGENT_BUDGET", Key: "agent_budget", Default: "1000",
			Doc: "most notices per agent address (and duty manager) per hour; more are recorded, not sent (mail-loop brake; set above your busiest hour)",
			set: intSetting(func(c *Config) *int { return &c.AgentBudget }, 1, 100000),
			get: get(func(c *Config) string { return strconv.Itoa(c.AgentBudget) })},
		{Env: "HELPDESK_SENDER_CASE_LIMIT", Key: "sender_case_limit", Default: "5",
			Doc: "most new cases one sender opens per hour; later mail is stored unanswered and agents get one digest (0: no limit)",
			set: intSetting(func(c *Config) *int { return &c.SenderCaseLimit }, 0, 100000),
			get: get(func(c *Config) string { return strconv.Itoa(c.SenderCaseLimit) })},
		{Env: "HELPDESK_LOOP_WINDOW", Key: "loop_window", Default: "10m",
			Doc: "a new mail that quotes an automated mail we sent its sender this recently opens a case without acknowledgement (0: off)",
			set: func(c *Config, _ *Mailbox, v string) error {
				if v == "0" {
					c.LoopWindow = 0
					return nil
				}
				d, err := parseDuration(v)
				c.LoopWindow = d
				return err
			},
			get: get(func(c *Config) string { return c.LoopWindow.String() })},
		{Env: "HELPDESK_VERP", Key: "verp", Default: "on",
			Doc: "on: the envelope sender of our mail is a signed support+bounce-…@ address, so bounces and autoresponders are recognised; off: the support address (for relays that refuse it)",
			set: flagSet(func(c *Config) *bool { return &c.VERP }),
			get: flagGet(func(c *Config) *bool { return &c.VERP })},
		{Env: "HELPDESK_REMINDERS", Key: "reminders", Default: "72h,144h",
			Doc: "reminders to the requester of a pending case, this long after it became pending",
			set: func(c *Config, _ *Mailbox, v string) error {
				c.Reminders = nil
				for _, p := range strings.Split(v, ",") {
					if p = strings.TrimSpace(p); p == "" {
						continue
					}
					d, err := parseDuration(p)
					if err != nil {
						return err
					}
					c.Reminders = append(c.Reminders, d)
				}
				return nil
			},
			get: get(func(c *Config) string {
				var parts []string
				for _, d := range c.Reminders {
					parts = append(parts, d.String())
				}
				return strings.Join(parts, ",")
			})},
		{Env: "HELPDESK_AUTO_SOLVE_AFTER", Key: "auto_solve_after", Default: "168h",
			Doc: "a pending case without reply is solved (\"no response\") this long after it became pending",
			set: dur(func(c *Config) *time.Duration { return &c.AutoSolveAfter }),
			get: get(func(c *Config) string { return c.AutoSolveAfter.String() })},
		{Env: "HELPDESK_THANKS_KEEP_SOLVED", Key: "thanks_keep_solved", Default: "on",
			Doc: "a reply that is only a thank-you does not reopen a solved case",
			set: flagSet(func(c *Config) *bool { return &c.ThanksKeepOpen }),
			get: flagGet(func(c *Config) *bool { return &c.ThanksKeepOpen })},
		{Env: "HELPDESK_BUSINESS_HOURS", Key: "business_hours", Default: "09:00-18:00",
			Doc: "business hours for the S2–S4 first-response targets, in HELPDESK_TIMEZONE",
			set: str(func(c *Config) *string { return &c.BusinessHours }, checkHours),
			get: get(func(c *Config) string { return c.BusinessHours })},
		{Env: "HELPDESK_BUSINESS_DAYS", Key: "business_days", Default: "mon-fri",
			Doc: "business days: a range such as mon-fri or a list such as mon,tue,thu",
			set: str(func(c *Config) *string { return &c.BusinessDays }, func(v string) error { _, err := ParseDays(v); return err }),
			get: get(func(c *Config) string { return c.BusinessDays })},
		{Env: "HELPDESK_TIMEZONE", Key: "timezone", Default: "UTC",
			Doc: "time zone of the business hours, e.g. Asia/Seoul",
			set: str(func(c *Config) *string { return &c.TimeZone }, func(v string) error { _, err := time.LoadLocation(v); return err }),
			get: get(func(c *Config) string { return c.TimeZone })},
		{Env: "HELPDESK_TIMER_INTERVAL", Key: "timer_interval", Default: "1m",
			Doc: "how often the timers (reminders, auto-solve, close, SLA) run",
			set: dur(func(c *Config) *time.Duration { return &c.TimerInterval }),
			get: get(func(c *Config) string { return c.TimerInterval.String() })},
		{Env: "HELPDESK_OPERATOR_ADDRESS", Key: "operator_address",
			Doc: "who is mailed intake alarms (a mailbox not polled, the outbox stuck) and their recovery (empty: alarms are only logged)",
			set: str(func(c *Config) *string { return &c.OperatorAddress }, checkAddress),
			get: get(func(c *Config) string { return c.OperatorAddress })},
		{Env: "HELPDESK_ALARM_AFTER", Key: "alarm_after", Default: "10m",
			Doc: "a mailbox that cannot be polled, or an outbox whose oldest due mail has waited, this long raises an intake alarm",
			set: dur(func(c *Config) *time.Duration { return &c.AlarmAfter }),
			get: get(func(c *Config) string { return c.AlarmAfter.String() })},
		{Env: "HELPDESK_SHUTDOWN_TIMEOUT", Key: "shutdown_timeout", Default: "10s",
			Doc: "at SIGTERM, how long the mail being ingested or sent may take to finish before the daemon exits anyway",
			set: dur(func(c *Config) *time.Duration { return &c.ShutdownTimeout }),
			get: get(func(c *Config) string { return c.ShutdownTimeout.String() })},
		{Env: "HELPDESK_LOG_LEVEL", Key: "log_level", Default: "info",
			Doc: "debug, info, warn or error",
			set: str(func(c *Config) *string { return &c.LogLevel }, oneOf("debug", "info", "warn", "error")),
			get: get(func(c *Config) string { return c.LogLevel })},
		{Env: "HELPDESK_LOG_FORMAT", Key: "log_format", Default: "text",
			Doc: "text or json",
			set: str(func(c *Config) *string { return &c.LogFormat }, oneOf("text", "json")),
			get: get(func(c *Config) string { return c.LogFormat })},

		{Env: "HELPDESK_IMAP_NAME", Key: "name", Default: "support", mailbox: true,
			Doc: "label of the mailbox (its cursor key)",
			set: mstr(func(m *Mailbox) *string { return &m.Name }, nonEmpty),
			get: mget(func(m *Mailbox) string { return m.Name })},
		{Env: "HELPDESK_IMAP_ADDRESS", Key: "address", mailbox: true,
			Doc: "the support address this mailbox receives; default HELPDESK_SUPPORT_ADDRESS",
			set: mstr(func(m *Mailbox) *string { return &m.Address }, checkAddress),
			get: mget(func(m *Mailbox) string { return m.Address })},
		{Env: "HELPDESK_IMAP_ADDR", Key: "imap_addr", mailbox: true,
			Doc: "IMAP server host:port",
			set: mstr(func(m *Mailbox) *string { return &m.Addr }, checkHostPort),
			get: mget(func(m *Mailbox) string { return m.Addr })},
		{Env: "HELPDESK_IMAP_USERNAME", Key: "imap_username", mailbox: true,
			Doc: "IMAP user",
			set: mstr(func(m *Mailbox) *string { return &m.Username }, nil),
			get: mget(func(m *Mailbox) string { return m.Username })},
		{Env: "HELPDESK_IMAP_PASSWORD", Key: "imap_password", Secret: true, mailbox: true,
			Doc: "IMAP password",
			set: mstr(func(m *Mailbox) *string { return &m.Password }, nil),
			get: mget(func(m *Mailbox) string { return m.Password })},
		{Env: "HELPDESK_IMAP_TLS", Key: "imap_tls", Default: "tls", mailbox: true,
			Doc: "none, starttls or tls",
			set: mstr(func(m *Mailbox) *string { return &m.TLS }, oneOf("none", "starttls", "tls")),
			get: mget(func(m *Mailbox) string { return m.TLS })},
		{Env: "HELPDESK_IMAP_AUTH", Key: "imap_auth", Default: "login", mailbox: true,
			Doc: "login, plain or xoauth2",
			set: mstr(func(m *Mailbox) *string { return &m.Auth }, oneOf("login", "plain", "xoauth2")),
			get: mget(func(m *Mailbox) string { return m.Auth })},
		{Env: "HELPDESK_IMAP_TOKEN_FILE", Key: "imap_token_file", mailbox: true,
			Doc: "file holding the OAuth2 access token for xoauth2, re-read at every login (else HELPDESK_IMAP_PASSWORD is the token)",
			set: mstr(func(m *Mailbox) *string { return &m.TokenFile }, nil),
			get: mget(func(m *Mailbox) string { return m.TokenFile })},
		{Env: "HELPDESK_IMAP_MAILBOX", Key: "imap_mailbox", Default: "INBOX", mailbox: true,
			Doc: "folder to poll",
			set: mstr(func(m *Mailbox) *string { return &m.Mailbox }, nonEmpty),
			get: mget(func(m *Mailbox) string { return m.Mailbox })},
		{Env: "HELPDESK_IMAP_PROCESSED_MAILBOX", Key: "imap_processed_mailbox", mailbox: true,
			Doc: "folder mail is moved to after it is committed (empty: leave it in place)",
			set: mstr(func(m *Mailbox) *string { return &m.ProcessedMailbox }, nil),
			get: mget(func(m *Mailbox) string { return m.ProcessedMailbox })},
		{Env: "HELPDESK_IMAP_FAILED_MAILBOX", Key: "imap_failed_mailbox", Default: "Failed", mailbox: true,
			Doc: "folder a message that cannot be handled at all is moved to",
			set: mstr(func(m *Mailbox) *string { return &m.FailedMailbox }, nil),
			get: mget(func(m *Mailbox) string { return m.FailedMailbox })},
		{Env: "HELPDESK_IMAP_POLL_INTERVAL", Key: "imap_poll_interval", Default: "60s", mailbox: true,
			Doc: "poll interval when the server has no IDLE, and safety net when it has",
			set: func(_ *Config, m *Mailbox, v string) error {
				d, err := parseDuration(v)
				m.PollInterval = d
				return err
			},
			get: mget(func(m *Mailbox) string { return m.PollInterval.String() })},

		{Env: "HELPDESK_SMTP_ADDR", Key: "smtp_addr",
			Doc: "SMTP server host:port for outgoing mail",
			set: str(func(c *Config) *string { return &c.SMTP.Addr }, checkHostPort),
			get: get(func(c *Config) string { return c.SMTP.Addr })},
		{Env: "HELPDESK_SMTP_USERNAME", Key: "smtp_username",
			Doc: "SMTP user (empty: no AUTH)",
			set: str(func(c *Config) *string { return &c.SMTP.Username }, nil),
			get: get(func(c *Config) string { return c.SMTP.Username })},
		{Env: "HELPDESK_SMTP_PASSWORD", Key: "smtp_password", Secret: true,
			Doc: "SMTP password",
			set: str(func(c *Config) *string { return &c.SMTP.Password }, nil),
			get: get(func(c *Config) string { return c.SMTP.Password })},
		{Env: "HELPDESK_SMTP_TLS", Key: "smtp_tls", Default: "starttls",
			Doc: "none, starttls or tls",
			set: str(func(c *Config) *string { return &c.SMTP.TLS }, oneOf("none", "starttls", "tls")),
			get: get(func(c *Config) string { return c.SMTP.TLS })},
		{Env: "HELPDESK_SMTP_AUTH", Key: "smtp_auth",
			Doc: "plain, login or xoauth2; empty: plain when a username is set",
			set: str(func(c *Config) *string { return &c.SMTP.Auth }, oneOf("", "plain", "login", "xoauth2")),
			get: get(func(c *Config) string { return c.SMTP.Auth })},
		{Env: "HELPDESK_SMTP_TOKEN_FILE", Key: "smtp_token_file",
			Doc: "file holding the OAuth2 access token for xoauth2",
			set: str(func(c *Config) *string { return &c.SMTP.TokenFile }, nil),
			get: get(func(c *Config) string { return c.SMTP.TokenFile })},
		{Env: "HELPDESK_SMTP_HELO", Key: "smtp_helo", Default: "localhost",
			Doc: "name sent in EHLO",
			set: str(func(c *Config) *string { return &c.SMTP.HeloName }, nonEmpty),
			get: get(func(c *Config) string { return c.SMTP.HeloName })},
	}
	return withSecretFiles(s)
}

// withSecretFiles puts after every secret setting its _FILE variant.
func withSecretFiles(list []Setting) []Setting {
	out := make([]Setting, 0, len(list)+8)
	for _, s := range list {
		out = append(out, s)
		if s.Secret {
			if path := secretFilePath(s.Env); path != nil {
				out = append(out, secretFile(s, path))
			}
		}
	}
	return out
}

// secretFilePath is where the file a secret was read from is kept, for
// `helpdeskd config`.
func secretFilePath(env string) func(*Config, *Mailbox) *string {
	switch env {
	case "HELPDESK_DATABASE_URL":
		return func(c *Config, _ *Mailbox) *string { return &c.DatabaseURLFile }
	case "HELPDESK_TOKEN_SECRET":
		return func(c *Config, _ *Mailbox) *string { return &c.TokenSecretFile }
	case "HELPDESK_TOKEN_SECRET_OLD":
		return func(c *Config, _ *Mailbox) *string { return &c.OldSecretsFile }
	case "HELPDESK_IMAP_PASSWORD":
		return func(_ *Config, m *Mailbox) *string { return &m.PasswordFile }
	case "HELPDESK_SMTP_PASSWORD":
		return func(c *Config, _ *Mailbox) *string { return &c.SMTP.PasswordFile }
	}
	return nil // TestSettings_EverySecretHasAFileVariant fails
}

// secretFile is the _FILE variant of secret setting s: the value is read
// from the named file (one trailing newline dropped), as with Docker and
// systemd credentials. Errors name the file, never its content.
func secretFile(s Setting, path func(*Config, *Mailbox) *string) Setting {
	return Setting{
		Env: s.Env + "_FILE", Key: s.Key + "_file", mailbox: s.mailbox, fileOf: s.Env,
		Doc: "file holding " + s.Env + " (one trailing newline dropped); set one of the two",
		set: func(c *Config, m *Mailbox, file string) error {
			b, err := os.ReadFile(file)
			if err != nil {
				return fmt.Errorf("cannot read the file: %w", err) // *PathError: names the path
			}
			v := strings.TrimSuffix(string(b), "\n")
			v = strings.TrimSuffix(v, "\r")
			if strings.TrimSpace(v) == "" {
				return fmt.Errorf("file %s is empty", file)
			}
			if err := s.set(c, m, v); err != nil {
				return fmt.Errorf("%s in file %s: %w", s.Env, file, err)
			}
			*path(c, m) = file
			return nil
		},
		get: func(c *Config, m *Mailbox) string { return *path(c, m) },
	}
}

// IsMailbox reports whether the setting belongs to a [[mailboxes]] table.
func (s Setting) IsMailbox() bool { return s.mailbox }

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
		if s.fileOf != "" && strings.TrimSpace(getenv(s.fileOf)) != "" {
			errs = append(errs, fmt.Errorf("%s and %s are both set: set one of them", s.fileOf, s.Env))
			continue
		}
		if s.mailbox {
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
		if s.mailbox {
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
					if _, both := t[strings.TrimSuffix(mk, "_file")]; s.fileOf != "" && both {
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
		if _, both := raw[strings.TrimSuffix(k, "_file")]; s.fileOf != "" && both {
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
		if s.mailbox {
			continue
		}
		out = append(out, Entry{Env: s.Env, Key: s.Key, Value: mask(s, s.get(c, nil))})
	}
	for i := range c.Mailboxes {
		for _, s := range Settings() {
			if !s.mailbox {
				continue
			}
			out = append(out, Entry{Env: s.Env, Key: fmt.Sprintf("mailboxes[%d].%s", i, s.Key), Value: mask(s, s.get(c, &c.Mailboxes[i]))})
		}
	}
	return out
}

func str(field func(*Config) *string, check func(string) error) func(*Config, *Mailbox, string) error {
	return func(c *Config, _ *Mailbox, v string) error {
		if check != nil {
			if err := check(v); err != nil {
				return err
			}
		}
		*field(c) = v
		return nil
	}
}

func mstr(field func(*Mailbox) *string, check func(string) error) func(*Config, *Mailbox, string) error {
	return func(_ *Config, m *Mailbox, v string) error {
		if check != nil {
			if err := check(v); err != nil {
				return err
			}
		}
		*field(m) = v
		return nil
	}
}

func dur(field func(*Config) *time.Duration) func(*Config, *Mailbox, string) error {
	return func(c *Config, _ *Mailbox, v string) error {
		d, err := parseDuration(v)
		if err != nil {
			return err
		}
		*field(c) = d
		return nil
	}
}

func intSetting(field func(*Config) *int, lo, hi int) func(*Config, *Mailbox, string) error {
	return func(c *Config, _ *Mailbox, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return fmt.Errorf("want a whole number from %d to %d, got %q", lo, hi, v)
		}
		*field(c) = n
		return nil
	}
}

func flagSet(field func(*Config) *bool) func(*Config, *Mailbox, string) error {
	return func(c *Config, _ *Mailbox, v string) error {
		b, err := onOff(v)
		*field(c) = b
		return err
	}
}

func flagGet(field func(*Config) *bool) func(*Config, *Mailbox) string {
	return func(c *Config, _ *Mailbox) string {
		if *field(c) {
			return "on"
		}
		return "off"
	}
}

func get(f func(*Config) string) func(*Config, *Mailbox) string {
	return func(c *Config, _ *Mailbox) string { return f(c) }
}

func mget(f func(*Mailbox) string) func(*Config, *Mailbox) string {
	return func(_ *Config, m *Mailbox) string { return f(m) }
}

func parseDuration(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("want a positive duration such as 90s, 15m or 720h, got %q", v)
	}
	return d, nil
}

func nonEmpty(v string) error {
	if v == "" {
		return errors.New("must not be empty")
	}
	return nil
}

func oneOf(allowed ...string) func(string) error {
	return func(v string) error {
		for _, a := range allowed {
			if v == a {
				return nil
			}
		}
		return fmt.Errorf("want one of %s, got %q", strings.Join(allowed, ", "), v)
	}
}

func onOff(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "on", "true", "yes", "1":
		return true, nil
	case "off", "false", "no", "0":
		return false, nil
	}
	return false, fmt.Errorf("want on or off, got %q", v)
}

func checkAddress(v string) error {
	a, err := mail.ParseAddress(v)
	if err != nil || a.Name != "" || a.Address != v {
		return fmt.Errorf("want a bare email address such as support@example.com, got %q", v)
	}
	return nil
}

func addressList(v string) ([]string, error) {
	var out []string
	for _, p := range strings.Split(v, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if err := checkAddress(p); err != nil {
			return nil, err
		}
		out = append(out, strings.ToLower(p))
	}
	return out, nil
}

func checkHostPort(v string) error {
	_, port, err := net.SplitHostPort(v)
	if err != nil || port == "" {
		return fmt.Errorf("want host:port such as 127.0.0.1:993, got %q", v)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("bad port in %q", v)
	}
	return nil
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
