// Package e2e_test plays whole helpdesk conversations end to end: the real
// helpdeskd binary runs as a separate process against PostgreSQL (a fresh
// schema per test), a private Postfix that takes the customers' and the
// daemon's mail over SMTP, and a private Dovecot that Postfix delivers to over
// LMTP and that the daemon and the tests read over IMAP. Nothing is mocked:
// a test sends real mail and reads real mailboxes.
//
// One Postfix and one Dovecot serve the whole package (started on first use,
// stopped after the last test); each test has its own namespace of .test
// domains (support@help.w3.test, jane@acme.w3.test, ...), its own schema and
// its own daemon, so tests do not see each other's mail.
//
// Requirements: the Debian packages dovecot-imapd, dovecot-lmtpd and postfix
// (.ci/run installs them), root (Postfix's master starts as root), and the
// PostgreSQL of helpdesk/pgtest. Without them the tests skip, saying why,
// except under CI=true, where they fail.
//
// A failing test prints the tails of its daemons' logs and of the Postfix
// and Dovecot logs. Knobs: HELPDESK_E2E_BIN uses a prebuilt helpdeskd instead
// of building one; HELPDESK_E2E_KEEP=1 keeps the mail system's directory
// (configuration, queue, logs, mailboxes) after the run;
// HELPDESK_E2E_LATENCY=1 runs the latency measurement.
package e2e_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// suite holds what every test shares: the helpdeskd binary and the mail
// system, both made on first use.
type suite struct {
	once sync.Once
	dir  string
	bin  string
	mail *mailSystem
	err  error
}

var shared suite

func TestMain(m *testing.M) {
	code := m.Run()
	shared.close()
	os.Exit(code)
}

// setup returns the shared binary and mail system, or ends the test: skipped
// when the machine lacks Postfix/Dovecot/root (failed under CI=true), failed
// on any other error.
func setup(t testing.TB) (bin string, ms *mailSystem) {
	t.Helper()
	shared.once.Do(shared.start)
	if shared.err != nil {
		unavailable(t, shared.err)
	}
	return shared.bin, shared.mail
}

func unavailable(t testing.TB, err error) {
	t.Helper()
	var missing errMissing
	if errors.As(err, &missing) && os.Getenv("CI") != "true" {
		t.Skip(err)
	}
	t.Fatal(err)
}

func (s *suite) start() {
	// Checked first: no point building anything on a machine that cannot run the test.
	if _, _, _, err := mailBinaries(); err != nil {
		s.err = err
		return
	}
	dir, err := os.MkdirTemp("", "helpdesk-e2e-")
	if err != nil {
		s.err = err
		return
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		s.err = err
		return
	}
	s.dir = dir
	if s.bin, s.err = buildDaemon(dir); s.err != nil {
		return
	}
	s.mail, s.err = startMailSystem(dir, mailOptions{})
}

func (s *suite) close() {
	if s.mail != nil {
		if err := s.mail.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "e2e: stopping the mail system:", err)
		}
	}
	if s.dir != "" && os.Getenv("HELPDESK_E2E_KEEP") == "" {
		os.RemoveAll(s.dir)
	} else if s.dir != "" {
		fmt.Fprintln(os.Stderr, "e2e: state kept in", s.dir)
	}
}

// buildDaemon builds helpdeskd (without -race: it is the system under test,
// not the test) or takes HELPDESK_E2E_BIN.
func buildDaemon(dir string) (string, error) {
	if p := os.Getenv("HELPDESK_E2E_BIN"); p != "" {
		if !isExecutable(p) {
			return "", fmt.Errorf("e2e: HELPDESK_E2E_BIN=%s is not an executable", p)
		}
		return p, nil
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("e2e: the go command is needed to build helpdeskd: %w", err)
	}
	bin := filepath.Join(dir, "helpdeskd")
	start := time.Now()
	cmd := exec.Command(goBin, "build", "-o", bin, "github.com/helpdesk/helpdesk/cmd/helpdeskd")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("e2e: go build helpdeskd: %v\n%s", err, out)
	}
	if d := time.Since(start); d > 30*time.Second {
		fmt.Fprintf(os.Stderr, "e2e: building helpdeskd took %s\n", d.Round(time.Second))
	}
	return bin, nil
}
