package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/helpdesk/helpdesk/cmd/helpdeskd/internal/config"
	"github.com/helpdesk/helpdesk/helpdesk"
	"github.com/helpdesk/helpdesk/helpdesk/lifecycle"
	"github.com/helpdesk/helpdesk/mail/poller"
	"github.com/helpdesk/helpdesk/mail/sender"
	"github.com/helpdesk/helpdesk/mail/xoauth2"
	"github.com/helpdesk/helpdesk/templates"
	"github.com/helpdesk/helpdesk/threading"
)

// loopID identifies this installation in the loop header of every mail we
// send. It is derived from the token secret, so every daemon of one
// installation agrees on it and it survives restarts.
func loopID(c *config.Config) string {
	sum := sha256.Sum256([]byte("helpdesk-loop:" + c.TokenSecret))
	return hex.EncodeToString(sum[:8])
}

// mailComponents builds the pollers (one per mailbox) and the outbox
// dispatcher. Templates are parsed here, so a broken template fails start-up.
// Each poller is added to ready (which may be nil) for /readyz.
func mailComponents(c *config.Config, s *helpdesk.Store, log *slog.Logger, ready *readiness) ([]component, *helpdesk.Ingester, error) {
	g, lc, err := newDomain(c, s, log)
	if err != nil {
		return nil, nil, err
	}
	var cs []component
	ready.setIngester(g)
	obs := ready.observer() // nil without a readiness: nothing is counted
	al := newAlarms(s, g.Notifier(), c.OperatorAddress, c.AlarmAfter, nil, log, obs)
	for _, m := range c.Mailboxes {
		pc := pollerConfig(c, m, log)
		key := pc.Key()
		pc.OnError = func(kind string) { obs.imapError(key, kind) }
		p, err := poller.New(pc, mailboxHandler{g: g, obs: obs})
		if err != nil {
			return nil, nil, fmt.Errorf("mailbox %s: %w", m.Name, err)
		}
		cs = append(cs, component{"poller " + m.Name, p.Run})
		ready.addMailbox(pc.Key(), p)
		al.addMailbox(pc.Key(), p)
	}
	sc := sender.Config{Addr: c.SMTP.Addr, TLS: c.SMTP.TLS, Auth: c.SMTP.Auth, Username: c.SMTP.Username,
		Password: c.SMTP.Password, HeloName: c.SMTP.HeloName}
	if c.SMTP.TokenFile != "" {
		sc.Token = xoauth2.FileToken(c.SMTP.TokenFile)
	} else if c.SMTP.Auth == "xoauth2" {
		sc.Token = xoauth2.StaticToken(c.SMTP.Password)
	}
	if _, err := sender.New(sc); err != nil { // validate now, not at the first send
		return nil, nil, err
	}
	al.send = func(ctx context.Context, from string, to []string, data []byte) error {
		snd, err := sender.New(sc)
		if err != nil {
			return err
		}
		defer snd.Close()
		return snd.Send(ctx, from, to, data)
	}
	cs = append(cs, component{"alarms", al.run})
	d, err := helpdesk.NewDispatcher(s, helpdesk.DispatcherConfig{
		Workers: c.SMTPWorkers,
		NewSender: func() (helpdesk.MailSender, error) {
			s, err := sender.New(sc)
			if err != nil {
				return nil, err
			}
			return obs.wrapSender(s, sender.IsPermanent), nil
		},
		IsPermanent: sender.IsPermanent,
		ListenURL:   c.DatabaseURL,
		Logger:      log,
		SuppressFor: c.SuppressFor,
	})
	if err != nil {
		return nil, nil, err
	}
	cs = append(cs, component{"dispatcher", d.Run})
	sched := helpdesk.NewScheduler(s, c.TimerInterval, lc.Pass, nil, log)
	cs = append(cs, component{"scheduler", sched.Run})
	if c.ParentWait > 0 {
		// Replies that arrived before their parent are decided again soon
		// after the parent comes, and at the latest when the wait is over.
		every := max(min(c.ParentWait/4, 15*time.Second), time.Second)
		cs = append(cs, component{"waiting replies", helpdesk.NewScheduler(s, every, g.ResolveWaiting, nil, log).WithLock(helpdesk.WaitingLock).Run})
	}
	return cs, g, nil
}

// pollerConfig is the poller's configuration for mailbox m. The poller
// hands the ingester up to IngestBatch messages per call.
func pollerConfig(c *config.Config, m config.Mailbox, log *slog.Logger) poller.Config {
	pc := poller.Config{
		Name: m.Name, Addr: m.Addr, TLS: m.TLS, Auth: m.Auth, Username: m.Username, Password: m.Password,
		Mailbox: m.Mailbox, ProcessedMailbox: m.ProcessedMailbox, FailedMailbox: m.FailedMailbox,
		PollInterval: m.PollInterval, MaxMessageBytes: c.MaxMessageSize, Logger: log,
		DrainTimeout: c.ShutdownTimeout, DeliveryBatch: c.IngestBatch,
	}
	if m.TokenFile != "" {
		pc.Token = xoauth2.FileToken(m.TokenFile)
	}
	return pc
}

// policy is the case lifecycle configured by HELPDESK_* settings.
func policy(c *config.Config) (lifecycle.Policy, error) {
	p := lifecycle.DefaultPolicy()
	p.ReopenWindow = c.ReopenWindow
	p.Reminders = c.Reminders
	p.AutoSolveAfter = c.AutoSolveAfter
	p.ThankYouKeepsSolved = c.ThanksKeepOpen
	open, closeAt, err := config.ParseHours(c.BusinessHours)
	if err != nil {
		return p, fmt.Errorf("HELPDESK_BUSINESS_HOURS: %w", err)
	}
	days, err := config.ParseDays(c.BusinessDays)
	if err != nil {
		return p, fmt.Errorf("HELPDESK_BUSINESS_DAYS: %w", err)
	}
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil {
		return p, fmt.Errorf("HELPDESK_TIMEZONE: %w", err)
	}
	p.SLA.Hours = lifecycle.BusinessHours{Location: loc, Open: open, Close: closeAt, Days: days}
	if err := p.Validate(); err != nil {
		return p, fmt.Errorf("lifecycle settings: %w", err)
	}
	return p, nil
}

// newDomain builds the ingester and the lifecycle, sharing one notifier.
func newDomain(c *config.Config, s *helpdesk.Store, log *slog.Logger) (*helpdesk.Ingester, *helpdesk.Lifecycle, error) {
	p, err := policy(c)
	if err != nil {
		return nil, nil, err
	}
	tmpl, err := templates.New(templates.Options{OverrideDir: c.TemplatesDir, DefaultLocale: c.DefaultLocale})
	if err != nil {
		return nil, nil, fmt.Errorf("templates: %w", err)
	}
	tokens, err := threading.NewTokens(append([]string{c.TokenSecret}, c.OldSecrets...)...)
	if err != nil {
		return nil, nil, err
	}
	if !c.OldSecretsUntil.IsZero() {
		tokens.RetireOld(c.OldSecretsUntil)
	}
	own := append([]string{c.SupportAddress}, c.SupportAliases...)
	for _, m := range c.Mailboxes {
		if m.Address != "" {
			own = append(own, m.Address)
		}
	}
	links, err := attachmentLinks(c)
	if err != nil {
		return nil, nil, err
	}
	n, err := helpdesk.NewNotifier(helpdesk.NotifierConfig{
		Templates: tmpl, Tokens: tokens, SupportAddress: c.SupportAddress, Name: c.Name,
		MessageIDDomain: c.MessageIDDomain, LoopID: loopID(c), Own: own,
		AgentAddress: c.AgentAddress, ManagerAddress: c.ManagerAddress, DefaultLocale: c.DefaultLocale,
		Budget:        helpdesk.Budget{PerCase: c.CaseBudget, PerRecipient: c.RecipientBudget, PerStaff: c.AgentBudget, Window: time.Hour},
		PlainEnvelope: !c.VERP, AgentAttachLimit: orNegative64(c.AgentAttachLimit), Links: links,
		TimeZone: p.SLA.Hours.Location,
	})
	if err != nil {
		return nil, nil, err
	}
	lc, err := helpdesk.NewLifecycle(s, n, p, log)
	if err != nil {
		return nil, nil, err
	}
	g, err := helpdesk.NewIngester(s, helpdesk.IngestConfig{
		Own: own, MessageIDDomain: c.MessageIDDomain, LoopID: loopID(c), RawRetention: c.RawRetention,
		SuppressFor: c.SuppressFor, Notifier: n, Logger: log, Tokens: tokens,
		UnknownSenders: c.UnknownSenders, Access: helpdesk.AccessPolicy{OrgCustomers: c.CustomerAccess == "org",
			NewAddressHold: c.NewAddressPolicy == "hold"},
		StrangerNewCase: c.StrangerMail == "new_case", AgentAuth: c.AgentAuth, AuthServID: c.AuthServID, TrustedHops: c.TrustedHops, Policy: p,
		MaxAttempts: c.IngestAttempts, GiveUpAfter: c.IngestGiveUp, ParentWait: orNegative(c.ParentWait),
		MaxMessageSize: c.MaxMessageSize, SenderCaseLimit: limitOrOff(c.SenderCaseLimit), LoopWindow: orNegative(c.LoopWindow),
		SelfServiceLimit: limitOrOff(c.SelfServiceLimit),
	})
	return g, lc, err
}

// mailboxHandler adapts the ingester to the poller.
type mailboxHandler struct {
	g   *helpdesk.Ingester
	obs *observer // counts ingested mail; may be nil
}

func (h mailboxHandler) Cursor(ctx context.Context, mailbox string) (poller.Cursor, error) {
	v, last, err := h.g.Cursor(ctx, mailbox)
	return poller.Cursor{UIDValidity: v, LastUID: last}, err
}

func (h mailboxHandler) Deliver(ctx context.Context, d poller.Delivery) error {
	res, err := h.g.Ingest(ctx, inbound(d, d.Body))
	if err != nil {
		h.obs.ingestFailure(d.Mailbox, helpdesk.IsPermanent(err))
	} else {
		h.obs.ingestedMail(d.Mailbox, res, d.InternalDate, time.Now())
	}
	if helpdesk.IsPermanent(err) {
		return poller.Permanent(err)
	}
	return err
}

// DeliverBatch ingests ds with IngestBatch. The poller holds every body in
// memory for the call (a *bytes.Reader). A temporary failure is counted once,
// for the message that failed, not for the later ones left unattempted.
func (h mailboxHandler) DeliverBatch(ctx context.Context, ds []poller.Delivery) []error {
	batch := make([]helpdesk.Inbound, len(ds))
	for i, d := range ds {
		batch[i] = inbound(d, d.Body)
	}
	res := h.g.IngestBatch(ctx, batch)
	now := time.Now()
	errs := make([]error, min(len(res), len(ds))) // the poller retries any missing
	for i := range errs {
		d, r := ds[i], res[i]
		switch {
		case r.Err == nil:
			h.obs.ingestedMail(d.Mailbox, r.Result, d.InternalDate, now)
		case helpdesk.IsPermanent(r.Err):
			h.obs.ingestFailure(d.Mailbox, true)
			errs[i] = poller.Permanent(r.Err)
		default:
			h.obs.ingestFailure(d.Mailbox, false)
			return append(errs[:i], r.Err) // the rest is not committed
		}
	}
	return errs
}

func (h mailboxHandler) Fail(ctx context.Context, d poller.Delivery, cause error) error {
	return h.g.Fail(ctx, inbound(d, nil), cause)
}

func (h mailboxHandler) ResetCursor(ctx context.Context, mailbox string, uidValidity uint32) error {
	return h.g.ResetCursor(ctx, mailbox, uidValidity)
}

func inbound(d poller.Delivery, body io.Reader) helpdesk.Inbound {
	return helpdesk.Inbound{Mailbox: d.Mailbox, UIDValidity: d.UIDValidity, UID: d.UID, Size: d.Size, Oversized: d.Oversized, Body: body}
}

// orNegative maps a zero setting ("off") to the negative value the domain
// reads as off; its zero value means "the default".
// limitOrOff maps a configured limit of 0 ("no limit") to the domain's -1.
func limitOrOff(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

func orNegative(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}
