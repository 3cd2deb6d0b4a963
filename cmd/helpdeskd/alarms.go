package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/helpdesk/helpdesk/helpdesk"
	"github.com/helpdesk/helpdesk/mail/poller"
	"github.com/helpdesk/helpdesk/templates"
)

// Intake alarms. A mailbox that cannot be polled (refused credentials, an
// expired OAuth token, a server that is down) or an outbox whose oldest due
// mail waits, for longer than HELPDESK_ALARM_AFTER, is logged at ERROR and
// mailed to HELPDESK_OPERATOR_ADDRESS once per incident, and once more when
// it recovers.
//
// Incidents live in the incidents table (one open row per key), so that of
// several daemons only one mails: the one whose INSERT (or, at recovery,
// UPDATE) won, in the transaction that queues or sends the mail. A mailbox
// alarm goes through the outbox like every notification; an outbox alarm
// cannot (the outbox is what is stuck), so it is sent directly over SMTP.

// alarms watches the pollers and the outbox. Create it with newAlarms.
type alarms struct {
	store     *helpdesk.Store
	notifier  *helpdesk.Notifier // nil: no mail
	operator  string             // "": log only
	after     time.Duration
	every     time.Duration
	mailboxes []alarmMailbox
	// send hands a mail straight to the SMTP server (outbox alarms).
	send func(ctx context.Context, from string, to []string, data []byte) error
	log  *slog.Logger
	obs  *observer
	host string

	start time.Time
	state map[string]bool // key -> raised, as this daemon last saw it; absent: not known since start
}

type alarmMailbox struct {
	key string // poller.Config.Key()
	p   *poller.Poller
}

const outboxAlarm = "outbox"

func newAlarms(s *helpdesk.Store, n *helpdesk.Notifier, operator string, after time.Duration,
	send func(ctx context.Context, from string, to []string, data []byte) error, log *slog.Logger, obs *observer) *alarms {
	host, _ := os.Hostname()
	if after <= 0 {
		after = 10 * time.Minute
	}
	return &alarms{
		store: s, notifier: n, operator: operator, after: after,
		every: min(max(after/4, 200*time.Millisecond), 30*time.Second),
		send:  send, log: log.With("component", "alarms"), obs: obs, host: host,
		state: map[string]bool{},
	}
}

func (a *alarms) addMailbox(key string, p *poller.Poller) {
	a.mailboxes = append(a.mailboxes, alarmMailbox{key: key, p: p})
}

// run checks every a.every until ctx is done.
func (a *alarms) run(ctx context.Context) error {
	a.start = time.Now()
	t := time.NewTicker(a.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		a.check(ctx, time.Now())
	}
}

// check looks at every mailbox and the outbox once.
func (a *alarms) check(ctx context.Context, now time.Time) {
	for _, m := range a.mailboxes {
		failing, problem, since := mailboxFailure(m.p, now, a.start)
		a.update(ctx, "mailbox "+m.key, m.key, failing && now.Sub(since) >= a.after, !failing, problem, since, now)
	}
	age, due, err := helpdesk.OldestDueAge(ctx, a.store.DB(), now)
	if err != nil {
		if ctx.Err() == nil {
			a.log.Debug("cannot read the outbox", "err", err)
		}
		return
	}
	problem := fmt.Sprintf("%d mails are due; the oldest has waited %s", due, age.Round(time.Second))
	a.update(ctx, outboxAlarm, "", age >= a.after, age < a.after, problem, now.Add(-age), now)
}

// mailboxFailure says whether the poller is failing: its last attempt
// failed, it never got through since start, or its last success is older
// than its poll interval allows (poller.Check). since is when it began.
func mailboxFailure(p *poller.Poller, now, start time.Time) (failing bool, problem string, since time.Time) {
	err := p.Check(now)
	if err == nil {
		return false, "", time.Time{}
	}
	st := p.Status()
	switch {
	case st.LastError != "":
		return true, st.LastError, st.Since
	case st.LastSuccess.IsZero():
		return true, "not connected yet", start
	default:
		return true, err.Error(), st.LastSuccess
	}
}

// update raises the alarm key when raise holds and it is not raised yet as
// this daemon knows, and resolves it when ok holds and it may be open
// (raised here, or not known since start: another daemon, or this one
// before a restart, may have raised it). Between the two (failing, not long
// enough yet) nothing changes.
func (a *alarms) update(ctx context.Context, key, mailbox string, raise, ok bool, problem string, since, now time.Time) {
	raised, known := a.state[key]
	switch {
	case raise && !raised:
		a.log.Error("intake alarm: "+key+" is failing", "since", since.UTC().Format(time.RFC3339),
			"for", now.Sub(since).Round(time.Second), "problem", problem, "operator", a.operator)
		opened, err := a.store.OpenIncident(ctx, key, problem, since, now, func(ctx context.Context, q helpdesk.Queryer, inc helpdesk.Incident) error {
			return a.mail(ctx, q, mailbox, templates.IntakeAlarmData{Mailbox: mailbox, Problem: problem, Since: since, Host: a.host}, now)
		})
		if err != nil {
			if ctx.Err() == nil {
				a.log.Warn("cannot record or mail the intake alarm; will retry", "alarm", key, "err", err)
			}
			return
		}
		if opened && a.operator != "" {
			a.log.Info("intake alarm mailed", "alarm", key, "to", a.operator)
		}
		a.state[key] = true
		a.obs.alarm(key, true)
	case ok && (raised || !known):
		inc, err := a.store.ResolveIncident(ctx, key, now, func(ctx context.Context, q helpdesk.Queryer, inc helpdesk.Incident) error {
			return a.mail(ctx, q, mailbox, templates.IntakeAlarmData{Mailbox: mailbox, Problem: inc.Problem, Since: inc.StartedAt,
				Recovered: true, RecoveredAt: now, Host: a.host}, now)
		})
		if err != nil {
			if ctx.Err() == nil {
				a.log.Warn("cannot record or mail the recovery; will retry", "alarm", key, "err", err)
			}
			return
		}
		if raised || inc != nil {
			a.log.Info("intake alarm: "+key+" recovered", "mailed", inc != nil && a.operator != "")
			a.obs.alarm(key, false)
		}
		a.state[key] = false
	}
}

// mail tells the operator, if one is set: a mailbox alarm through the
// outbox (in the incident's transaction q), an outbox alarm directly.
func (a *alarms) mail(ctx context.Context, q helpdesk.Queryer, mailbox string, d templates.IntakeAlarmData, now time.Time) error {
	if a.operator == "" || a.notifier == nil {
		return nil
	}
	if mailbox != "" {
		return a.notifier.NotifyOperator(ctx, q, a.operator, d, now)
	}
	if a.send == nil {
		return errors.New("no SMTP sender")
	}
	from, data, err := a.notifier.DirectMail(a.operator, d, now)
	if err != nil {
		return err
	}
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	return a.send(sctx, from, []string{a.operator}, data)
}
