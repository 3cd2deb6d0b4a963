package main

import (
	"bytes"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/helpdesk/helpdesk/cmd/helpdeskd/internal/mailstack"
)

const (
	supportAddr = "support@help.bench.test"
	agentsAddr  = "agents@help.bench.test"
	mailPass    = "bench-secret"
)

// stack is one binary's world: a database of its own, a private Postfix
// and Dovecot, and the `helpdeskd serve` under test.
type stack struct {
	bin    string
	pg     *pgServer
	ms     *mailstack.System
	dbName string
	db     *sql.DB
	dir    string
	env    []string
	logf   func(format string, args ...any)

	daemon *exec.Cmd
	done   chan error
	starts int
}

// newStack creates the database (migrated by the binary itself) and starts
// the mail system with the support and agents mailboxes and users for
// senders, so that every notification is delivered and none bounces back.
func newStack(bin string, pg *pgServer, dir, dbName string, timerInterval time.Duration, senders []string, logf func(string, ...any)) (_ *stack, err error) {
	s := &stack{bin: bin, pg: pg, dir: dir, dbName: dbName, logf: logf}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	dbURL, err := pg.createDB(dbName)
	if err != nil {
		return nil, err
	}
	if s.ms, err = mailstack.Start(dir, mailstack.Options{}); err != nil {
		return nil, err
	}
	if err := s.ms.AddUsers(mailPass, append(senders, supportAddr, agentsAddr)...); err != nil {
		return nil, err
	}
	s.env = daemonEnv(dbURL, s.ms, timerInterval)
	if _, err := s.cli("migrate"); err != nil {
		return nil, err
	}
	if s.db, err = sql.Open("postgres", dbURL); err != nil {
		return nil, err
	}
	s.db.SetMaxOpenConns(2)
	return s, nil
}

// daemonEnv configures helpdeskd as the e2e tests do, with every brake
// that would stop a flood of distinct customers lifted (budgets, the
// per-sender case limit): the benchmark measures throughput, not brakes.
// Unknown HELPDESK_ variables are ignored by older binaries.
func daemonEnv(dbURL string, ms *mailstack.System, timerInterval time.Duration) []string {
	env := map[string]string{
		"HELPDESK_DATABASE_URL":           dbURL,
		"HELPDESK_SUPPORT_ADDRESS":        supportAddr,
		"HELPDESK_NAME":                   "Bench Support",
		"HELPDESK_TOKEN_SECRET":           "bench-token-secret-0123456789abcdef-0123456789",
		"HELPDESK_IMAP_ADDR":              ms.IMAPAddr,
		"HELPDESK_IMAP_TLS":               "none",
		"HELPDESK_IMAP_USERNAME":          supportAddr,
		"HELPDESK_IMAP_PASSWORD":          mailPass,
		"HELPDESK_IMAP_PROCESSED_MAILBOX": "Processed",
		"HELPDESK_IMAP_POLL_INTERVAL":     "30s",
		"HELPDESK_SMTP_ADDR":              ms.SMTPAddr,
		"HELPDESK_SMTP_TLS":               "none",
		"HELPDESK_SMTP_HELO":              "helpdesk.help.bench.test",
		"HELPDESK_AGENT_ADDRESS":          agentsAddr,
		"HELPDESK_AGENT_AUTH":             "off",
		"HELPDESK_LOG_LEVEL":              "info",
		"HELPDESK_TIMER_INTERVAL":         timerInterval.String(),
		"HELPDESK_SENDER_CASE_LIMIT":      "100000",
		"HELPDESK_AGENT_BUDGET":           "100000",
		"HELPDESK_RECIPIENT_BUDGET":       "100000",
		"HELPDESK_CASE_BUDGET":            "100000",
	}
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HELPDESK_") {
			out = append(out, kv)
		}
	}
	// BENCH_HELPDESK_X=v sets HELPDESK_X for the daemon: a setting to
	// compare (e.g. BENCH_HELPDESK_SMTP_WORKERS=8).
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "BENCH_HELPDESK_") {
			env[strings.TrimPrefix(k, "BENCH_")] = v
		}
	}
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

func (s *stack) close() {
	if s.daemon != nil {
		_ = s.stop()
	}
	if s.db != nil {
		s.db.Close()
	}
	if s.ms != nil {
		if err := s.ms.Close(); err != nil {
			s.logf("stopping the mail system: %v", err)
		}
	}
	if err := s.pg.dropDB(s.dbName); err != nil {
		s.logf("drop database %s: %v", s.dbName, err)
	}
}

// cli runs a helpdeskd command and returns its standard output.
func (s *stack) cli(args ...string) (string, error) {
	cmd := exec.Command(s.bin, args...)
	cmd.Env = s.env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("helpdeskd %s: %v\n%s", strings.Join(args, " "), err, tail(errb.String(), 10))
	}
	return out.String(), nil
}

// start runs `helpdeskd serve`, its output to a log file of its own.
func (s *stack) start() error {
	s.starts++
	f, err := os.Create(filepath.Join(s.dir, fmt.Sprintf("helpdeskd-%d.log", s.starts)))
	if err != nil {
		return err
	}
	cmd := exec.Command(s.bin, "serve", "--no-migrate")
	cmd.Env = s.env
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("start helpdeskd serve: %w", err)
	}
	s.daemon, s.done = cmd, make(chan error, 1)
	go func() {
		err := cmd.Wait()
		f.Close()
		s.done <- err
	}()
	return nil
}

// stop ends serve with SIGTERM; it must exit cleanly within 30 s.
func (s *stack) stop() error {
	if s.daemon == nil {
		return nil
	}
	defer func() { s.daemon = nil }()
	_ = s.daemon.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		if err != nil {
			return fmt.Errorf("helpdeskd serve exited with %v after SIGTERM\n%s", err, s.logTail())
		}
		return nil
	case <-time.After(30 * time.Second):
		_ = s.daemon.Process.Kill()
		<-s.done
		return fmt.Errorf("helpdeskd serve did not stop within 30s of SIGTERM")
	}
}

func (s *stack) logTail() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, fmt.Sprintf("helpdeskd-%d.log", s.starts)))
	return tail(string(b), 20)
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func (s *stack) watched() watched {
	w := watched{postmaster: s.pg.postmaster}
	w.dovecot, w.postfix = s.ms.PIDs()
	if s.daemon != nil {
		w.daemon = s.daemon.Process.Pid
	}
	return w
}

// waitFor polls cond every 100 ms until it holds, the daemon dies or the
// time is up.
func (s *stack) waitFor(what string, patience time.Duration, cond func() (bool, error)) error {
	deadline := time.Now().Add(patience)
	for {
		ok, err := cond()
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", what, err)
		}
		if ok {
			return nil
		}
		if s.daemon != nil {
			select {
			case err := <-s.done:
				s.done <- err
				return fmt.Errorf("waiting for %s: helpdeskd serve exited: %v\n%s", what, err, s.logTail())
			default:
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s waiting for %s\n%s", patience, what, s.logTail())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// deliver puts the mails into the support INBOX over Dovecot's LMTP, in
// order, on one connection: as a mail server would, much faster than any
// helpdesk ingests.
func (s *stack) deliver(b Batch) error {
	conn, err := net.Dial("unix", s.ms.LMTPSocket())
	if err != nil {
		return err
	}
	c := smtp.NewClientLMTP(conn)
	defer c.Close()
	if err := c.Hello("bench.localhost"); err != nil {
		return err
	}
	for i, m := range b.Mails {
		if err := c.Mail(m.From, nil); err != nil {
			return fmt.Errorf("mail %d: MAIL FROM: %w", i, err)
		}
		if err := c.Rcpt(supportAddr, nil); err != nil {
			return fmt.Errorf("mail %d: RCPT TO: %w", i, err)
		}
		w, err := c.Data()
		if err != nil {
			return fmt.Errorf("mail %d: DATA: %w", i, err)
		}
		if _, err := w.Write(m.Raw); err != nil {
			return fmt.Errorf("mail %d: DATA: %w", i, err)
		}
		if _, err := w.CloseWithLMTPResponse(); err != nil {
			return fmt.Errorf("mail %d: end of DATA: %w", i, err)
		}
	}
	return c.Quit()
}

func (s *stack) scalar(q string, args ...any) (int64, error) {
	var n sql.NullInt64
	err := s.db.QueryRow(q, args...).Scan(&n)
	return n.Int64, err
}
