package config

import (
	"errors"
	"net/url"
	"time"
)

// Kind is how a setting's text is parsed, checked and shown.
type Kind int

const (
	KindString         Kind = iota // *string, checked by Check if set
	KindEnum                       // *string, one of Allowed
	KindAddress                    // *string, a bare email address
	KindAddressList                // *[]string, comma-separated addresses, lowercased
	KindHostPort                   // *string, host:port
	KindLoopback                   // *string, host:port on a loopback host
	KindInt                        // *int, from Min to Max
	KindBytes                      // *int64, at least Min
	KindBool                       // *bool, on or off
	KindDuration                   // *time.Duration, positive
	KindDurationOrZero             // *time.Duration, positive or 0 (Zero says what 0 means)
	KindDurationList               // *[]time.Duration, comma-separated positive durations
	KindSecretList                 // *[]string, comma- or line-separated, each at least 32 characters
	KindTime                       // *time.Time, RFC 3339 (empty: zero)
)

// Field points at where a setting's value lives: in the Config or in one
// Mailbox. The pointer's type is the one its Kind names.
type Field struct {
	cfg func(*Config) any
	mb  func(*Mailbox) any
}

func inConfig(f func(*Config) any) Field   { return Field{cfg: f} }
func inMailbox(f func(*Mailbox) any) Field { return Field{mb: f} }

func (f Field) ptr(c *Config, m *Mailbox) any {
	if f.mb != nil {
		return f.mb(m)
	}
	return f.cfg(c)
}

// Setting describes one configuration value, for loading and for docs.
type Setting struct {
	Env     string
	Key     string // TOML key; mailbox settings live in [[mailboxes]] tables
	Default string
	Doc     string
	Secret  bool // masked in `helpdeskd config`; gets a _FILE variant
	Kind    Kind
	Min     int64    // KindInt, KindBytes
	Max     int64    // KindInt
	Allowed []string // KindEnum
	Zero    string   // KindDurationOrZero: what 0 means
	Check   func(string) error
	Field   Field
	File    Field // secrets: where the path of the _FILE variant is kept

	fileOf *Setting // for a _FILE variant: the secret it holds
}

// IsMailbox reports whether the setting belongs to a [[mailboxes]] table.
func (s Setting) IsMailbox() bool { return s.Field.mb != nil }

func cfgString(f func(*Config) *string) Field { return inConfig(func(c *Config) any { return f(c) }) }
func mbString(f func(*Mailbox) *string) Field { return inMailbox(func(m *Mailbox) any { return f(m) }) }
func cfgInt(f func(*Config) *int) Field       { return inConfig(func(c *Config) any { return f(c) }) }
func cfgDur(f func(*Config) *time.Duration) Field {
	return inConfig(func(c *Config) any { return f(c) })
}
func cfgBool(f func(*Config) *bool) Field { return inConfig(func(c *Config) any { return f(c) }) }

// table lists every setting in documentation order, without the _FILE
// variants of secrets (Settings adds them).
func table() []Setting {
	return []Setting{
		{Env: "HELPDESK_DATABASE_URL", Key: "database_url", Secret: true, Check: checkDatabaseURL,
			Doc:   "PostgreSQL URL; sslmode must be explicit (e.g. `?sslmode=disable` on loopback)",
			Field: cfgString(func(c *Config) *string { return &c.DatabaseURL }),
			File:  cfgString(func(c *Config) *string { return &c.DatabaseURLFile })},
		{Env: "HELPDESK_DATABASE_MAX_CONNS", Key: "database_max_conns", Default: "10", Kind: KindInt, Min: 1, Max: 1000,
			Doc:   "most open connections to PostgreSQL (ingest, sending, timers and HTTP share them)",
			Field: cfgInt(func(c *Config) *int { return &c.DatabaseMaxConns })},
		{Env: "HELPDESK_DATABASE_MAX_IDLE_CONNS", Key: "database_max_idle_conns", Kind: KindInt, Min: 1, Max: 1000,
			Doc:   "connections kept open while idle, for reuse; default HELPDESK_DATABASE_MAX_CONNS",
			Field: cfgInt(func(c *Config) *int { return &c.DatabaseMaxIdleConns })},
		{Env: "HELPDESK_DATABASE_CONN_MAX_IDLE_TIME", Key: "database_conn_max_idle_time", Default: "5m", Kind: KindDuration,
			Doc:   "an idle connection is closed after this long",
			Field: cfgDur(func(c *Config) *time.Duration { return &c.DatabaseConnMaxIdleTime })},
		{Env: "HELPDESK_DATABASE_CONN_MAX_LIFETIME", Key: "database_conn_max_lifetime", Default: "1h", Kind: KindDuration,
			Doc:   "a connection is replaced after this long (spreads load after a failover)",
			Field: cfgDur(func(c *Config) *time.Duration { return &c.DatabaseConnMaxLifetime })},
		{Env: "HELPDESK_DATABASE_STATEMENT_TIMEOUT", Key: "database_statement_timeout", Default: "30s", Kind: KindDurationOrZero, Zero: "none",
			Doc:   "PostgreSQL cancels a statement running longer (statement_timeout; 0: none)",
			Field: cfgDur(func(c *Config) *time.Duration { return &c.DatabaseStatementTimeout })},
		{Env: "HELPDESK_DATABASE_IDLE_TX_TIMEOUT", Key: "database_idle_tx_timeout", Default: "60s", Kind: KindDurationOrZero, Zero: "none",
			Doc:   "PostgreSQL ends a session idle this long inside a transaction, releasing its locks (idle_in_transaction_session_timeout; 0: none)",
			Field: cfgDur(func(c *Config) *time.Duration { return &c.DatabaseIdleTxTimeout })},
		{Env: "HELPDESK_SUPPORT_ADDRESS", Key: "support_address", Kind: KindAddress,
			Doc:   "the support address customers write to, e.g. support@example.com",
			Field: cfgString(func(c *Config) *string { return &c.SupportAddress })},
		{Env: "HELPDESK_SUPPORT_ALIASES", Key: "support_aliases", Kind: KindAddressList,
			Doc:   "further addresses of ours, comma-separated (never notified, recognised as our own)",
			Field: inConfig(func(c *Config) any { return &c.SupportAliases })},
		{Env: "HELPDESK_NAME", Key: "name", Default: "Support", Check: nonEmpty,
			Doc:   "the public name used in From and templates",
			Field: cfgString(func(c *Config) *string { return &c.Name })},
		{Env: "HELPDESK_MESSAGE_ID_DOMAIN", Key: "message_id_domain",
			Doc:   "domain of our Message-IDs; default the support address's domain",
			Field: cfgString(func(c *Config) *string { return &c.MessageIDDomain })},
		{Env: "HELPDESK_TOKEN_SECRET", Key: "token_secret", Secret: true, Check: minLength32,
			Doc:   "HMAC secret for reply tokens, at least 32 characters",
			Field: cfgString(func(c *Config) *string { return &c.TokenSecret }),
			File:  cfgString(func(c *Config) *string { return &c.TokenSecretFile })},
		{Env: "HELPDESK_TOKEN_SECRET_OLD", Key: "token_secret_old", Secret: true, Kind: KindSecretList,
			Doc:   "previous token secrets, comma-separated, still accepted after a rotation",
			Field: inConfig(func(c *Config) any { return &c.OldSecrets }),
			File:  cfgString(func(c *Config) *string { return &c.OldSecretsFile })},
		{Env: "HELPDESK_TOKEN_SECRET_OLD_UNTIL", Key: "token_secret_old_until", Kind: KindTime,
			Doc:   "RFC 3339 time after which tokens of the old secrets stop working (empty: no end)",
			Field: inConfig(func(c *Config) any { return &c.OldSecretsUntil })},
		{Env: "HELPDESK_CUSTOMER_ACCESS", Key: "customer_access", Default: "own", Kind: KindEnum, Allowed: []string{"own", "org"},
			Doc:   "own: a plain customer acts on their own cases (and those a reseller opened for their org); org: on every case of their org",
			Field: cfgString(func(c *Config) *string { return &c.CustomerAccess })},
		{Env: "HELPDESK_STRANGER_MAIL", Key: "stranger_mail", Default: "hold", Kind: KindEnum, Allowed: []string{"hold", "new_case"},
			Doc:   "mail from a sender not allowed on the case it threads to: hold (kept for review, agents told) or new_case",
			Field: cfgString(func(c *Config) *string { return &c.StrangerMail })},
		{Env: "HELPDESK_NEW_ADDRESS_POLICY", Key: "new_address_policy", Default: "append", Kind: KindEnum, Allowed: []string{"append", "hold"},
			Doc:   "a reply from an address we did not mail carrying a valid reply token: append (it becomes a participant, agents told) or hold",
			Field: cfgString(func(c *Config) *string { return &c.NewAddressPolicy })},
		{Env: "HELPDESK_UNKNOWN_SENDERS", Key: "unknown_senders", Default: "open", Kind: KindEnum, Allowed: []string{"open", "domain", "registered"},
			Doc:   "who may open a case: open (anyone), domain (known org domains), registered (known users)",
			Field: cfgString(func(c *Config) *string { return &c.UnknownSenders })},
		{Env: "HELPDESK_REOPEN_WINDOW", Key: "reopen_window", Default: "720h", Kind: KindDuration,
			Doc:   "how long after solving a reply reopens the case; later replies open a follow-up case",
			Field: cfgDur(func(c *Config) *time.Duration { return &c.ReopenWindow })},
		{Env: "HELPDESK_AGENT_AUTH", Key: "agent_auth", Default: "on", Kind: KindBool,
			Doc:   "on: agents' mail acts only when Authentication-Results shows aligned dkim/spf pass; off: trust From",
			Field: cfgBool(func(c *Config) *bool { return &c.AgentAuth })},
		{Env: "HELPDESK_AUTHSERV_ID", Key: "authserv_id",
			Doc:   "authserv-id of the receiving server whose Authentication-Results are trusted",
			Field: cfgString(func(c *Config) *string { return &c.AuthServID })},
		{Env: "HELPDESK_TRUSTED_RECEIVED_HOPS", Key: "trusted_received_hops", Default: "1", Kind: KindInt, Min: 0, Max: 20,
			Doc:   "how many Received headers sit above the border's own Authentication-Results (0 to 20); only those above the last of them, or directly below it, are trusted (see Trust model)",
			Field: cfgInt(func(c *Config) *int { return &c.TrustedHops })},
		{Env: "HELPDESK_AGENT_ADDRESS", Key: "agent_address", Kind: KindAddress,
			Doc:   "where agent notices go when a case has no assignee",
			Field: cfgString(func(c *Config) *string { return &c.AgentAddress })},
		{Env: "HELPDESK_MANAGER_ADDRESS", Key: "manager_address", Kind: KindAddress,
			Doc:   "the duty manager (escalations, SLA breaches)",
			Field: cfgString(func(c *Config) *string { return &c.ManagerAddress })},
		{Env: "HELPDESK_DEFAULT_LOCALE", Key: "default_locale", Default: "en", Kind: KindEnum, Allowed: []string{"en", "ko"},
			Doc:   "language of notifications to recipients without one: en or ko",
			Field: cfgString(func(c *Config) *string { return &c.DefaultLocale })},
		{Env: "HELPDESK_HTTP_ADDR", Key: "http_addr", Kind: KindHostPort,
			Doc:   "health (/healthz), readiness (/readyz) and metrics (/metrics) listener, e.g. 127.0.0.1:8080 (empty: off)",
			Field: cfgString(func(c *Config) *string { return &c.HTTPAddr })},
		{Env: "HELPDESK_PUBLIC_URL", Key: "public_url", Check: checkPublicURL,
			Doc:   "public base URL of the HTTP listener, e.g. https://help.example.com; with HELPDESK_HTTP_ADDR, agent notices link the files too large to attach (signed, expiring) under /attachments/ (empty: no links)",
			Field: cfgString(func(c *Config) *string { return &c.PublicURL })},
		{Env: "HELPDESK_ATTACHMENT_LINK_TTL", Key: "attachment_link_ttl", Default: "720h", Kind: KindDuration,
			Doc:   "how long a download link in an agent notice works",
			Field: cfgDur(func(c *Config) *time.Duration { return &c.AttachmentLinkTTL })},
		{Env: "HELPDESK_AGENT_ATTACH_LIMIT", Key: "agent_attach_limit", Default: "10485760", Kind: KindBytes, Min: 0,
			Doc:   "largest total size in bytes of a customer's files attached to one agent notice, in mail order while they fit; the others are listed with their size and a link (0: attach none)",
			Field: inConfig(func(c *Config) any { return &c.AgentAttachLimit })},
		{Env: "HELPDESK_PPROF_ADDR", Key: "pprof_addr", Kind: KindLoopback,
			Doc:   "Go profiling (/debug/pprof/) listener on a loopback address only, e.g. 127.0.0.1:6060 (empty: off)",
			Field: cfgString(func(c *Config) *string { return &c.PprofAddr })},
		{Env: "HELPDESK_TEMPLATES_DIR", Key: "templates_dir",
			Doc:   "directory whose templates override the embedded ones (empty: none)",
			Field: cfgString(func(c *Config) *string { return &c.TemplatesDir })},
		{Env: "HELPDESK_MAX_MESSAGE_SIZE", Key: "max_message_size", Default: "26214400", Kind: KindBytes, Min: 1024,
			Doc:   "largest inbound mail in bytes that is fetched and ingested; larger mail is recorded and its sender told",
			Field: inConfig(func(c *Config) any { return &c.MaxMessageSize })},
		{Env: "HELPDESK_RAW_RETENTION", Key: "raw_retention", Default: "2160h", Kind: KindDuration,
			Doc:   "how long raw inbound mail is kept for reprocessing",
			Field: cfgDur(func(c *Config) *time.Duration { return &c.RawRetention })},
		{Env: "HELPDESK_INGEST_MAX_ATTEMPTS", Key: "ingest_max_attempts", Default: "5", Kind: KindInt, Min: 1, Max: 1000,
			Doc:   "temporary failures of one inbound mail before it is set aside in the Failed folder, so it never holds the mailbox",
			Field: cfgInt(func(c *Config) *int { return &c.IngestAttempts })},
		{Env: "HELPDESK_INGEST_GIVE_UP_AFTER", Key: "ingest_give_up_after", Default: "1m0s", Kind: KindDuration,
			Doc:   "least time a mail keeps failing (with HELPDESK_INGEST_MAX_ATTEMPTS attempts) before it is set aside: a short outage never costs a good mail",
			Field: cfgDur(func(c *Config) *time.Duration { return &c.IngestGiveUp })},
		{Env: "HELPDESK_INGEST_BATCH", Key: "ingest_batch", Default: "64", Kind: KindInt, Min: 1, Max: 1000,
			Doc:   "messages ingested per database transaction (1: one message per transaction)",
			Field: cfgInt(func(c *Config) *int { return &c.IngestBatch })},
		{Env: "HELPDESK_PARENT_WAIT", Key: "parent_wait", Default: "2m0s", Kind: KindDurationOrZero, Zero: "no waiting",
			Doc:   "how long a reply to a mail we have not seen yet waits for it before opening a case (0: no waiting)",
			Field: cfgDur(func(c *Config) *time.Duration { return &c.ParentWait })},
		{Env: "HELPDESK_SMTP_WORKERS", Key: "smtp_workers", Default: "2", Kind: KindInt, Min: 1, Max: 64,
			Doc:   "concurrent SMTP connections sending the outbox",
			Field: cfgInt(func(c *Config) *int { return &c.SMTPWorkers })},
		{Env: "HELPDESK_CASE_BUDGET", Key: "case_budget", Default: "20", Kind: KindInt, Min: 1, Max: 100000,
			Doc:   "most notifications per case per hour; more are recorded, not sent (mail-loop brake)",
			Field: cfgInt(func(c *Config) *int { return &c.CaseBudget })},
		{Env: "HELPDESK_RECIPIENT_BUDGET", Key: "recipient_budget", Default: "40", Kind: KindInt, Min: 1, Max: 100000,
			Doc:   "most notifications per recipient per hour",
			Field: cfgInt(func(c *Config) *int { return &c.RecipientBudget })},
		{Env: "HELPDESK_SUPPRESS_DURATION", Key: "suppress_duration", Default: "720h", Kind: KindDuration,
			Doc:   "how long an address that bounced permanently gets no mail",
			Field: cfgDur(func(c *Config) *time.Duration { return &c.SuppressFor })},
		{Env: "HELPDESK_AGENT_BUDGET", Key: "agent_budget", Default: "1000", Kind: KindInt, Min: 1, Max: 100000,
			Doc:   "most notices per agent address (and duty manager) per hour; more are recorded, not sent (mail-loop brake; set above your busiest hour)",
			Field: cfgInt(func(c *Config) *int { return &c.AgentBudget })},
		{Env: "HELPDESK_SENDER_CASE_LIMIT", Key: "sender_case_limit", Default: "5", Kind: KindInt, Min: 0, Max: 100000,
			Doc:   "most new cases one sender opens per hour; later mail is stored unanswered and agents get one digest (0: no limit)",
			Field: cfgInt(func(c *Config) *int { return &c.SenderCaseLimit })},
		{Env: "HELPDESK_SELF_SERVICE_LIMIT", Key: "self_service_limit", Default: "10", Kind: KindInt, Min: 0, Max: 100000,
			Doc:   "most self-service mails (\"my cases\" lists) one address gets answered per hour; later ones are stored unanswered (0: no limit)",
			Field: cfgInt(func(c *Config) *int { return &c.SelfServiceLimit })},
		{Env: "HELPDESK_LOOP_WINDOW", Key: "loop_window", Default: "10m", Kind: KindDurationOrZero, Zero: "off",
			Doc:   "a new mail that quotes an automated mail we sent its sender this recently opens a case without acknowledgement (0: off)",
			Field: cfgDur(func(c *Config) *time.Duration { return &c.LoopWindow })},
		{Env: "HELPDESK_VERP", Key: "verp", Default: "on", Kind: KindBool,
			Doc:   "on: the envelope sender of our mail is a signed support+bounce-…@ address, so bounces and autoresponders are recognised; off: the support address (for relays that refuse it)",
			Field: cfgBool(func(c *Config) *bool { return &c.VERP })},
		{Env: "HELPDESK_REMINDERS", Key: "reminders", Default: "72h,144h", Kind: KindDurationList,
			Doc:   "reminders to the requester of a pending case, this long after it became pending",
			Field: inConfig(func(c *Config) any { return &c.Reminders })},
		{Env: "HELPDESK_AUTO_SOLVE_AFTER", Key: "auto_solve_after", Default: "168h", Kind: KindDuration,
			Doc:   "a pending case without reply is solved (\"no response\") this long after it became pending",
			Field: cfgDur(func(c *Config) *time.Duration { return &c.AutoSolveAfter })},
		{Env: "HELPDESK_THANKS_KEEP_SOLVED", Key: "thanks_keep_solved", Default: "on", Kind: KindBool,
			Doc:   "a reply that is only a thank-you does not reopen a solved case",
			Field: cfgBool(func(c *Config) *bool { return &c.ThanksKeepOpen })},
		{Env: "HELPDESK_BUSINESS_HOURS", Key: "business_hours", Default: "09:00-18:00", Check: checkHours,
			Doc:   "business hours for the S2–S4 first-response targets, in HELPDESK_TIMEZONE",
			Field: cfgString(func(c *Config) *string { return &c.BusinessHours })},
		{Env: "HELPDESK_BUSINESS_DAYS", Key: "business_days", Default: "mon-fri", Check: checkDays,
			Doc:   "business days: a range such as mon-fri or a list such as mon,tue,thu",
			Field: cfgString(func(c *Config) *string { return &c.BusinessDays })},
		{Env: "HELPDESK_TIMEZONE", Key: "timezone", Default: "UTC", Check: checkTimeZone,
			Doc:   "time zone of the business hours, e.g. Asia/Seoul, and of the times in mail to users whose own zone (users add --timezone) and org's zone are not set",
			Field: cfgString(func(c *Config) *string { return &c.TimeZone })},
		{Env: "HELPDESK_TIMER_INTERVAL", Key: "timer_interval", Default: "1m", Kind: KindDuration,
			Doc:   "how often the timers (reminders, auto-solve, close, SLA) run",
			Field: cfgDur(func(c *Config) *time.Duration { return &c.TimerInterval })},
		{Env: "HELPDESK_OPERATOR_ADDRESS", Key: "operator_address", Kind: KindAddress,
			Doc:   "who is mailed intake alarms (a mailbox not polled, the outbox stuck) and their recovery (empty: alarms are only logged)",
			Field: cfgString(func(c *Config) *string { return &c.OperatorAddress })},
		{Env: "HELPDESK_ALARM_AFTER", Key: "alarm_after", Default: "10m", Kind: KindDuration,
			Doc:   "a mailbox that cannot be polled, or an outbox whose oldest due mail has waited, this long raises an intake alarm",
			Field: cfgDur(func(c *Config) *time.Duration { return &c.AlarmAfter })},
		{Env: "HELPDESK_SHUTDOWN_TIMEOUT", Key: "shutdown_timeout", Default: "10s", Kind: KindDuration,
			Doc:   "at SIGTERM, how long the mail being ingested or sent may take to finish before the daemon exits anyway",
			Field: cfgDur(func(c *Config) *time.Duration { return &c.ShutdownTimeout })},
		{Env: "HELPDESK_LOG_LEVEL", Key: "log_level", Default: "info", Kind: KindEnum, Allowed: []string{"debug", "info", "warn", "error"},
			Doc:   "debug, info, warn or error",
			Field: cfgString(func(c *Config) *string { return &c.LogLevel })},
		{Env: "HELPDESK_LOG_FORMAT", Key: "log_format", Default: "text", Kind: KindEnum, Allowed: []string{"text", "json"},
			Doc:   "text or json",
			Field: cfgString(func(c *Config) *string { return &c.LogFormat })},

		{Env: "HELPDESK_IMAP_NAME", Key: "name", Default: "support", Check: nonEmpty,
			Doc:   "label of the mailbox (its cursor key)",
			Field: mbString(func(m *Mailbox) *string { return &m.Name })},
		{Env: "HELPDESK_IMAP_ADDRESS", Key: "address", Kind: KindAddress,
			Doc:   "the support address this mailbox receives; default HELPDESK_SUPPORT_ADDRESS",
			Field: mbString(func(m *Mailbox) *string { return &m.Address })},
		{Env: "HELPDESK_IMAP_ADDR", Key: "imap_addr", Kind: KindHostPort,
			Doc:   "IMAP server host:port",
			Field: mbString(func(m *Mailbox) *string { return &m.Addr })},
		{Env: "HELPDESK_IMAP_USERNAME", Key: "imap_username",
			Doc:   "IMAP user",
			Field: mbString(func(m *Mailbox) *string { return &m.Username })},
		{Env: "HELPDESK_IMAP_PASSWORD", Key: "imap_password", Secret: true,
			Doc:   "IMAP password",
			Field: mbString(func(m *Mailbox) *string { return &m.Password }),
			File:  mbString(func(m *Mailbox) *string { return &m.PasswordFile })},
		{Env: "HELPDESK_IMAP_TLS", Key: "imap_tls", Default: "tls", Kind: KindEnum, Allowed: []string{"none", "starttls", "tls"},
			Doc:   "none, starttls or tls",
			Field: mbString(func(m *Mailbox) *string { return &m.TLS })},
		{Env: "HELPDESK_IMAP_AUTH", Key: "imap_auth", Default: "login", Kind: KindEnum, Allowed: []string{"login", "plain", "xoauth2"},
			Doc:   "login, plain or xoauth2",
			Field: mbString(func(m *Mailbox) *string { return &m.Auth })},
		{Env: "HELPDESK_IMAP_TOKEN_FILE", Key: "imap_token_file",
			Doc:   "file holding the OAuth2 access token for xoauth2, re-read at every login (else HELPDESK_IMAP_PASSWORD is the token)",
			Field: mbString(func(m *Mailbox) *string { return &m.TokenFile })},
		{Env: "HELPDESK_IMAP_MAILBOX", Key: "imap_mailbox", Default: "INBOX", Check: nonEmpty,
			Doc:   "folder to poll",
			Field: mbString(func(m *Mailbox) *string { return &m.Mailbox })},
		{Env: "HELPDESK_IMAP_PROCESSED_MAILBOX", Key: "imap_processed_mailbox",
			Doc:   "folder mail is moved to after it is committed (empty: leave it in place)",
			Field: mbString(func(m *Mailbox) *string { return &m.ProcessedMailbox })},
		{Env: "HELPDESK_IMAP_FAILED_MAILBOX", Key: "imap_failed_mailbox", Default: "Failed",
			Doc:   "folder a message that cannot be handled at all is moved to",
			Field: mbString(func(m *Mailbox) *string { return &m.FailedMailbox })},
		{Env: "HELPDESK_IMAP_POLL_INTERVAL", Key: "imap_poll_interval", Default: "60s", Kind: KindDuration,
			Doc:   "poll interval when the server has no IDLE, and safety net when it has",
			Field: inMailbox(func(m *Mailbox) any { return &m.PollInterval })},

		{Env: "HELPDESK_SMTP_ADDR", Key: "smtp_addr", Kind: KindHostPort,
			Doc:   "SMTP server host:port for outgoing mail",
			Field: cfgString(func(c *Config) *string { return &c.SMTP.Addr })},
		{Env: "HELPDESK_SMTP_USERNAME", Key: "smtp_username",
			Doc:   "SMTP user (empty: no AUTH)",
			Field: cfgString(func(c *Config) *string { return &c.SMTP.Username })},
		{Env: "HELPDESK_SMTP_PASSWORD", Key: "smtp_password", Secret: true,
			Doc:   "SMTP password",
			Field: cfgString(func(c *Config) *string { return &c.SMTP.Password }),
			File:  cfgString(func(c *Config) *string { return &c.SMTP.PasswordFile })},
		{Env: "HELPDESK_SMTP_TLS", Key: "smtp_tls", Default: "starttls", Kind: KindEnum, Allowed: []string{"none", "starttls", "tls"},
			Doc:   "none, starttls or tls",
			Field: cfgString(func(c *Config) *string { return &c.SMTP.TLS })},
		{Env: "HELPDESK_SMTP_AUTH", Key: "smtp_auth", Kind: KindEnum, Allowed: []string{"", "plain", "login", "xoauth2"},
			Doc:   "plain, login or xoauth2; empty: plain when a username is set",
			Field: cfgString(func(c *Config) *string { return &c.SMTP.Auth })},
		{Env: "HELPDESK_SMTP_TOKEN_FILE", Key: "smtp_token_file",
			Doc:   "file holding the OAuth2 access token for xoauth2",
			Field: cfgString(func(c *Config) *string { return &c.SMTP.TokenFile })},
		{Env: "HELPDESK_SMTP_HELO", Key: "smtp_helo", Default: "localhost", Check: nonEmpty,
			Doc:   "name sent in EHLO",
			Field: cfgString(func(c *Config) *string { return &c.SMTP.HeloName })},
	}
}

// Settings lists every setting in documentation order, each secret followed
// by its _FILE variant.
func Settings() []Setting {
	list := table()
	out := make([]Setting, 0, len(list)+8)
	for _, s := range list {
		out = append(out, s)
		if s.Secret {
			out = append(out, fileVariant(s))
		}
	}
	return out
}

// fileVariant is the _FILE variant of secret setting s: the value is read
// from the named file (one trailing newline dropped), as with Docker and
// systemd credentials. Its Field is where the path is kept, for display.
func fileVariant(s Setting) Setting {
	return Setting{
		Env: s.Env + "_FILE", Key: s.Key + "_file", fileOf: &s, Field: s.File,
		Doc: "file holding " + s.Env + " (one trailing newline dropped); set one of the two",
	}
}

// checkPublicURL accepts an absolute http(s) URL without query or fragment.
func checkPublicURL(v string) error {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return errors.New("want an absolute http(s) URL without query, e.g. https://help.example.com")
	}
	return nil
}

func minLength32(v string) error {
	if len(v) < 32 {
		return errors.New("must be at least 32 characters")
	}
	return nil
}
