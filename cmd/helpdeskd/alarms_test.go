package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/helpdesk/helpdesk/helpdesk"
	"github.com/helpdesk/helpdesk/helpdesk/pgtest"
	"github.com/helpdesk/helpdesk/mail/mailtest"
	"github.com/helpdesk/helpdesk/migrations"
)

const operator = "ops@example.com"

// alarmMails returns the operator's mails whose subject starts with prefix.
func alarmMails(d *daemon, prefix string) []*mail.Message {
	var out []*mail.Message
	for _, m := range d.inbox(operator) {
		if strings.HasPrefix(m.Header.Get("Subject"), prefix) {
			out = append(out, m)
		}
	}
	return out
}

// A mailbox that cannot be polled (a wrong password) for longer than
// HELPDESK_ALARM_AFTER is logged at ERROR and mailed to the operator once,
// through the outbox, even with two daemons watching it; with the right
// password the recovery is mailed once.
func TestServe_MailboxAlarmMailsTheOperatorOnceAndAtRecovery(t *testing.T) {
	t.Parallel()
	m := startMail(t)
	if err := m.AddUser(operator, "pw"); err != nil {
		t.Fatal(err)
	}
	d := newDaemon(t, m, map[string]string{
		"HELPDESK_IMAP_PASSWORD":    "wrong",
		"HELPDESK_OPERATOR_ADDRESS": operator,
		"HELPDESK_ALARM_AFTER":      "3s", // also the margin for connecting after the restart
		"HELPDESK_LOG_LEVEL":        "error",
	})
	// A second daemon (a replica) against the same database and mailbox.
	replica := &daemon{t: t, mail: m, env: d.env, store: d.store}
	replica.start()

	mailtest.Wait(t, "the alarm mail", func() bool { return len(alarmMails(d, "ALARM: mailbox support/INBOX")) >= 1 })
	time.Sleep(2 * time.Second) // several more checks by both daemons
	alarms := alarmMails(d, "ALARM:")
	if len(alarms) != 1 {
		t.Fatalf("operator got %d alarm mails, want 1", len(alarms))
	}
	body, _ := io.ReadAll(alarms[0].Body)
	if !bytes.Contains(body, []byte("authenticating as support@example.com")) || bytes.Contains(body, []byte("wrong")) {
		t.Errorf("alarm mail should name the failure and never the password:\n%s", body)
	}
	if n := d.count(`SELECT count(*) FROM incidents WHERE key = 'mailbox support/INBOX' AND resolved_at IS NULL`); n != 1 {
		t.Fatalf("%d open incidents, want 1", n)
	}
	if n := d.count(`SELECT count(*) FROM outbox WHERE kind = 'intake_alarm'`); n != 1 {
		t.Fatalf("%d intake_alarm rows in the outbox, want 1", n)
	}

	// Fixed: both restarted with the right password.
	d.stop()
	replica.stop()
	d.env["HELPDESK_IMAP_PASSWORD"] = "pw"
	d.start()
	replica.start()
	mailtest.Wait(t, "the recovery mail", func() bool { return len(alarmMails(d, "Recovered: mailbox support/INBOX works again")) >= 1 })
	time.Sleep(1500 * time.Millisecond)
	if got := len(alarmMails(d, "Recovered:")); got != 1 {
		t.Fatalf("operator got %d recovery mails, want 1", got)
	}
	if got := len(alarmMails(d, "ALARM:")); got != 1 {
		t.Fatalf("operator got %d alarm mails after recovery, want still 1", got)
	}
	if n := d.count(`SELECT count(*) FROM incidents WHERE resolved_at IS NOT NULL`); n != 1 {
		t.Fatalf("%d resolved incidents, want 1", n)
	}
}

// An outbox whose oldest due mail waits longer than the threshold cannot
// carry its own alarm: that mail goes directly over SMTP. Then recovery.
func TestServe_OutboxAlarmIsSentDirectly(t *testing.T) {
	t.Parallel()
	m := startMail(t)
	if err := m.AddUser(operator, "pw"); err != nil {
		t.Fatal(err)
	}
	d := newDaemon(t, m, map[string]string{
		"HELPDESK_OPERATOR_ADDRESS": operator,
		"HELPDESK_ALARM_AFTER":      "1s",
		"HELPDESK_LOG_LEVEL":        "error",
	})
	// A row due for a minute that nobody can send: another daemon holds
	// its lease (a dispatcher wedged somewhere).
	if _, err := d.store.DB().Exec(`INSERT INTO outbox (message_id, kind, envelope_from, recipients, data, status,
			next_attempt_at, lease_owner, lease_until)
		VALUES ('stuck@example.com', 'case_received', 'support@example.com', '{jane@acme.example}', 'x', 'sending',
			now() - interval '1 minute', 'wedged', now() + interval '1 hour')`); err != nil {
		t.Fatal(err)
	}
	mailtest.Wait(t, "the outbox alarm", func() bool { return len(alarmMails(d, "ALARM: outbox")) == 1 })
	if n := d.count(`SELECT count(*) FROM outbox WHERE kind = 'intake_alarm'`); n != 0 {
		t.Fatalf("the outbox alarm went into the outbox (%d rows)", n)
	}
	if _, err := d.store.DB().Exec(`UPDATE outbox SET status = 'sent', sent_at = now() WHERE message_id = 'stuck@example.com'`); err != nil {
		t.Fatal(err)
	}
	mailtest.Wait(t, "the outbox recovery", func() bool { return len(alarmMails(d, "Recovered: outbox")) == 1 })
}

// Without an operator address an alarm is logged at ERROR only, once.
func TestAlarms_WithoutOperatorLogOnly(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.Schema(t)
	s, err := helpdesk.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := migrations.Up(context.Background(), s.DB().DB); err != nil {
		t.Fatal(err)
	}
	var logs lockedBuffer
	a := newAlarms(s, nil, "", time.Second, nil, slog.New(slog.NewTextHandler(&logs, nil)), nil)
	now := time.Now()
	for i := 0; i < 3; i++ {
		a.update(context.Background(), outboxAlarm, "", true, false, "stuck", now.Add(-time.Minute), now)
	}
	if n := strings.Count(logs.String(), "level=ERROR"); n != 1 {
		t.Fatalf("%d ERROR lines, want 1:\n%s", n, logs.String())
	}
	a.update(context.Background(), outboxAlarm, "", false, true, "", time.Time{}, now.Add(time.Second))
	if !strings.Contains(logs.String(), "recovered") {
		t.Fatalf("recovery not logged:\n%s", logs.String())
	}
}
