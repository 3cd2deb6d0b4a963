package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-smtp"

	"github.com/helpdesk/helpdesk/helpdesk"
)

// syncBuffer is written by the command's goroutine and read by the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startDev runs `helpdeskd dev` until it says it is ready and returns a stop function.
func startDev(t *testing.T, dir string, args ...string) (out *syncBuffer, stop func()) {
	t.Helper()
	if _, err := findPostgresBin(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	out = &syncBuffer{}
	errb := &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		args := append([]string{"dev", "--data", dir, "--imap", "127.0.0.1:0", "--smtp", "127.0.0.1:0"}, args...)
		done <- run(ctx, args, out, errb, func(k string) string {
			if k == "HELPDESK_LOG_LEVEL" {
				return "warn"
			}
			return ""
		})
	}()
	deadline := time.After(2 * time.Minute)
	for !strings.Contains(out.String(), "sandbox is ready") {
		select {
		case code := <-done:
			cancel()
			t.Fatalf("dev exited with %d before it was ready\nstdout: %s\nstderr: %s", code, out, errb)
		case <-deadline:
			cancel()
			t.Fatalf("dev not ready within 2 minutes\nstdout: %s\nstderr: %s", out, errb)
		case <-time.After(100 * time.Millisecond):
		}
	}
	return out, func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("dev exit %d: %s", code, errb)
			}
		case <-time.After(time.Minute):
			t.Error("dev did not stop")
		}
	}
}

func TestDev_StartsItsOwnPostgresSeedsAndKeepsState(t *testing.T) {
	// The cluster runs as the postgres user when we are root: it must reach the directory.
	base := t.TempDir()
	for d := base; d != filepath.Dir(d) && strings.HasPrefix(d, os.TempDir()) && d != os.TempDir(); d = filepath.Dir(d) {
		os.Chmod(d, 0o755)
	}
	dir := filepath.Join(base, "state")

	out, stop := startDev(t, dir)
	first := out.String()
	sendAndSeeAcknowledged(t, dir, first)
	stop()
	for _, want := range []string{"initialising a PostgreSQL cluster", "seeded agent alice@helpdesk.test", "seeded customer minsu@acme.test", "seeded grant Acme → Resell Co", "PostgreSQL stopped"} {
		if !strings.Contains(first+out.String(), want) {
			t.Errorf("first run output lacks %q:\n%s", want, out.String())
		}
	}
	env, err := os.ReadFile(filepath.Join(dir, "env"))
	if err != nil || !strings.Contains(string(env), "HELPDESK_DATABASE_URL='postgres://helpdesk@127.0.0.1:") {
		t.Fatalf("env file: %q, %v", env, err)
	}

	out, stop = startDev(t, dir)
	second := out.String()
	stop()
	if strings.Contains(second, "initialising") || !strings.Contains(second, "demo data already present") {
		t.Errorf("second run did not keep state:\n%s", second)
	}

	out, stop = startDev(t, dir, "--reset")
	third := out.String()
	stop()
	if !strings.Contains(third, "initialising a PostgreSQL cluster") || !strings.Contains(third, "seeded agent alice@helpdesk.test") {
		t.Errorf("--reset did not start over:\n%s", third)
	}
}

// sendAndSeeAcknowledged mails support as a customer through the sandbox's
// SMTP server and waits for the case and the acknowledgement in her mailbox.
func sendAndSeeAcknowledged(t *testing.T, dir, out string) {
	t.Helper()
	m := regexp.MustCompile(`IMAP\s+(127\.0\.0\.1:\d+).*SMTP\s+(127\.0\.0\.1:\d+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("dev did not print its IMAP and SMTP addresses:\n%s", out)
	}
	imapAddr, smtpAddr := m[1], m[2]
	c, err := smtp.Dial(smtpAddr)
	if err != nil {
		t.Fatal(err)
	}
	msg := "From: Jane <jane@acme.test>\r\nTo: support@helpdesk.test\r\nSubject: Printer on fire\r\nMessage-ID: <dev-1@acme.test>\r\n\r\nIt smells of smoke.\r\n"
	if err := c.SendMail("jane@acme.test", []string{"support@helpdesk.test"}, strings.NewReader(msg)); err != nil {
		t.Fatal(err)
	}
	c.Quit()

	env, _ := os.ReadFile(filepath.Join(dir, "env"))
	url := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(string(env)), "export HELPDESK_DATABASE_URL='"), "'")
	s, err := helpdesk.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	waitFor(t, "the case and its acknowledgement sent", func() bool {
		var n int
		s.DB().Get(&n, `SELECT count(*) FROM outbox WHERE kind = 'case_received' AND status = 'sent'`)
		return n == 1
	})
	ic, err := imapclient.DialInsecure(imapAddr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ic.Close()
	if err := ic.Login("jane@acme.test", "demo").Wait(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the acknowledgement in jane's mailbox", func() bool {
		st, err := ic.Status("INBOX", &imap.StatusOptions{NumMessages: true}).Wait()
		return err == nil && st.NumMessages != nil && *st.NumMessages == 1
	})
}
