package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/helpdesk/helpdesk/cmd/helpdeskd/internal/config"
	"github.com/helpdesk/helpdesk/helpdesk"
	"github.com/helpdesk/helpdesk/helpdesk/pgtest"
	"github.com/helpdesk/helpdesk/mail/devmail"
	"github.com/helpdesk/helpdesk/mail/poller"
)

// BenchmarkIMAPToPostgres measures ingest throughput end to end: 5,000 small
// mails fetched from an IMAP server by the poller and ingested into
// PostgreSQL (cases, comments, acknowledgements and agent notices queued),
// as the daemon runs it (batches of HELPDESK_INGEST_BATCH mails). cpu-ms/msg
// is this process's CPU (the poller, ingest and the in-process IMAP server)
// per mail; PostgreSQL's is not in it.
func BenchmarkIMAPToPostgres(b *testing.B) {
	const n = 5000
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		m, err := devmail.Start(devmail.Config{})
		if err != nil {
			b.Fatal(err)
		}
		m.AddUser("support@example.com", "pw")
		for j := range n {
			raw := fmt.Sprintf("From: c%d@acme.example\r\nTo: support@example.com\r\nSubject: help %d\r\nMessage-ID: <bench-%d@acme.example>\r\n"+
				"Content-Type: text/plain\r\n\r\n%s\r\n", j%200, j, j, strings.Repeat("The printer does not print. ", 10))
			if err := m.Deliver("support@example.com", []byte(raw)); err != nil {
				b.Fatal(err)
			}
		}
		db := pgtest.New(b)
		s, _ := helpdesk.NewStore(db)
		c, err := config.Load(func(k string) string {
			return map[string]string{"HELPDESK_SUPPORT_ADDRESS": "support@example.com", "HELPDESK_TOKEN_SECRET": strings.Repeat("s", 40),
				"HELPDESK_AGENT_ADDRESS": "agents@example.com",
				// 25 mails per sender: measure ingest, not the loop brake.
				"HELPDESK_SENDER_CASE_LIMIT": "100000"}[k]
		}, "")
		if err != nil {
			b.Fatal(err)
		}
		quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
		g, _, err := newDomain(c, s, quiet)
		if err != nil {
			b.Fatal(err)
		}
		p, err := poller.New(poller.Config{Name: "bench", Addr: m.IMAPAddr(), TLS: "none", Username: "support@example.com", Password: "pw",
			PollInterval: time.Hour, Logger: quiet}, mailboxHandler{g: g})
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		b.StartTimer()
		cpu0 := processCPU()
		start := time.Now()
		go func() { done <- p.Run(ctx) }()
		for {
			var last int
			db.Get(&last, `SELECT coalesce(max(last_uid), 0) FROM mailbox_cursors`)
			if last >= n {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		elapsed := time.Since(start)
		cpu := processCPU() - cpu0
		b.StopTimer()
		cancel()
		<-done
		m.Close()
		var cases int
		db.Get(&cases, `SELECT count(*) FROM cases`)
		if cases != n {
			b.Fatalf("%d cases, want %d", cases, n)
		}
		b.ReportMetric(float64(n)/elapsed.Seconds(), "msgs/s")
		b.ReportMetric(float64(cpu.Microseconds())/1000/n, "cpu-ms/msg")
	}
}

// processCPU is the user and system CPU time this process used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
