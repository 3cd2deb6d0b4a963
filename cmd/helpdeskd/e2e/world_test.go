package e2e_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"text/template"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"

	"github.com/helpdesk/helpdesk/helpdesk/pgtest"
)

// world is one test's helpdesk: a schema, a namespace of .test domains on the
// mail system, and the helpdeskd processes run against them.
//
//	support@help.<ns>.test   the support mailbox the daemon polls (and sends from)
//	agents@help.<ns>.test    HELPDESK_AGENT_ADDRESS: where agent notices go
//	alice@help.<ns>.test     an agent (org "Support"), who answers from her mail client
//	*@acme.<ns>.test         org "Acme" (customers)
type world struct {
	t   *testing.T
	ms  *mailSystem
	bin string
	ns  string
	dir string
	env map[string]string
	db  *sqlx.DB

	d      *daemon
	starts int
	seq    atomic.Int64
}

var worlds atomic.Int64

const password = "e2e-secret"

// newWorld prepares a world on the shared mail system: schema migrated,
// mailboxes and users created. The daemon is not started.
func newWorld(t *testing.T, env map[string]string) *world {
	t.Helper()
	dbURL := pgtest.Schema(t) // skips (or fails under CI) without PostgreSQL
	bin, ms := setup(t)
	return newWorldOn(t, bin, ms, dbURL, env)
}

func newWorldOn(t *testing.T, bin string, ms *mailSystem, dbURL string, env map[string]string) *world {
	t.Helper()
	w := &world{t: t, ms: ms, bin: bin, ns: fmt.Sprintf("w%d", worlds.Add(1)), dir: t.TempDir()}
	w.env = map[string]string{
		"HELPDESK_DATABASE_URL":           dbURL,
		"HELPDESK_SUPPORT_ADDRESS":        w.addr("support", "help"),
		"HELPDESK_NAME":                   "Example Support",
		"HELPDESK_TOKEN_SECRET":           "e2e-token-secret-0123456789abcdef-" + w.ns,
		"HELPDESK_IMAP_ADDR":              ms.imapAddr,
		"HELPDESK_IMAP_TLS":               "none",
		"HELPDESK_IMAP_USERNAME":          w.addr("support", "help"),
		"HELPDESK_IMAP_PASSWORD":          password,
		"HELPDESK_IMAP_PROCESSED_MAILBOX": "Processed",
		"HELPDESK_IMAP_POLL_INTERVAL":     "30s", // IDLE does the work; this is only the safety net
		"HELPDESK_SMTP_ADDR":              ms.smtpAddr,
		"HELPDESK_SMTP_TLS":               "none",
		"HELPDESK_SMTP_HELO":              "helpdesk." + w.domain("help"),
		"HELPDESK_AGENT_ADDRESS":          w.addr("agents", "help"),
		// Postfix on loopback adds no Authentication-Results: agents are trusted by From.
		"HELPDESK_AGENT_AUTH": "off",
		"HELPDESK_LOG_LEVEL":  "info",
	}
	for k, v := range env {
		w.env[k] = v
	}
	w.mailboxes("help", "support", "agents", "alice")
	w.cli("migrate")
	w.cli("orgs", "add", "Support", "--domain", w.domain("help"))
	w.cli("orgs", "add", "Acme", "--domain", w.domain("acme"), "--plan", "premium")
	w.cli("users", "add", w.addr("alice", "help"), "--role", "agent", "--org", "Support", "--name", "Alice Agent")

	db, err := sqlx.Open("postgres", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(4)
	w.db = db
	t.Cleanup(func() {
		if w.d != nil && w.d.running() {
			w.stop()
		}
		if t.Failed() {
			w.dumpLogs()
		}
		db.Close()
	})
	return w
}

func (w *world) domain(org string) string { return org + "." + w.ns + ".test" }

func (w *world) addr(local, org string) string { return local + "@" + w.domain(org) }

// mailbox creates a Dovecot user for local@org's domain and returns the address.
func (w *world) mailbox(local, org string) string {
	w.t.Helper()
	return w.mailboxes(org, local)[0]
}

// mailboxes creates Dovecot users in org's domain and returns their addresses.
func (w *world) mailboxes(org string, locals ...string) []string {
	w.t.Helper()
	var addrs []string
	for _, l := range locals {
		addrs = append(addrs, w.addr(l, org))
	}
	if err := w.ms.AddUsers(password, addrs...); err != nil {
		w.t.Fatal(err)
	}
	return addrs
}

func (w *world) environ() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HELPDESK_") {
			env = append(env, kv)
		}
	}
	for k, v := range w.env {
		env = append(env, k+"="+v)
	}
	return env
}

// cli runs an admin command and returns its standard output; a non-zero
// exit fails the test.
func (w *world) cli(args ...string) string {
	w.t.Helper()
	cmd := exec.Command(w.bin, args...)
	cmd.Env = w.environ()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		w.t.Fatalf("helpdeskd %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return out.String()
}

// cliJSON runs an admin command with --json and decodes its output.
func (w *world) cliJSON(v any, args ...string) {
	w.t.Helper()
	out := w.cli(append(args, "--json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		w.t.Fatalf("helpdeskd %s --json: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// caseJSON is what `cases list --json` and `cases show ID --json` print
// (the fields these tests read).
type caseJSON struct {
	ID        int64  `json:"id"`
	Subject   string `json:"subject"`
	Status    string `json:"status"`
	Org       string `json:"org"`
	Submitter string `json:"submitter"`
	Comments  []struct {
		Author *string `json:"author"`
		Public bool    `json:"public"`
		Held   bool    `json:"held"`
		Body   string  `json:"body"`
	} `json:"comments"`
	Events []struct {
		Kind string `json:"kind"`
		From string `json:"from"`
		To   string `json:"to"`
	} `json:"events"`
	Messages []struct {
		MessageID string `json:"message_id"`
		Direction string `json:"direction"`
		Class     string `json:"class"`
		Decision  string `json:"decision"`
	} `json:"messages"`
}

func (w *world) cases() []caseJSON {
	w.t.Helper()
	var cs []caseJSON
	w.cliJSON(&cs, "cases", "list", "--limit", "1000")
	return cs
}

func (w *world) showCase(id int64) caseJSON {
	w.t.Helper()
	var c caseJSON
	w.cliJSON(&c, "cases", "show", fmt.Sprint(id))
	return c
}

// daemon is one `helpdeskd serve` process.
type daemon struct {
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error
}

func (d *daemon) running() bool {
	select {
	case <-d.done:
		return false
	default:
		return true
	}
}

// start runs `helpdeskd serve` with the world's environment, its output to
// a log file of its own.
func (w *world) start() {
	w.t.Helper()
	if w.d != nil && w.d.running() {
		w.t.Fatal("e2e: the daemon is already running")
	}
	w.starts++
	log := filepath.Join(w.dir, fmt.Sprintf("helpdeskd-%d.log", w.starts))
	f, err := os.Create(log)
	if err != nil {
		w.t.Fatal(err)
	}
	cmd := exec.Command(w.bin, "serve", "--no-migrate")
	cmd.Env = w.environ()
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = dieWithParent(syscall.SIGKILL)
	if err := cmd.Start(); err != nil {
		f.Close()
		w.t.Fatalf("start helpdeskd serve: %v", err)
	}
	d := &daemon{cmd: cmd, log: log, done: make(chan struct{})}
	go func() {
		d.err = cmd.Wait()
		f.Close()
		close(d.done)
	}()
	w.d = d
}

// stop ends the daemon with SIGTERM; it must exit cleanly.
func (w *world) stop() {
	w.t.Helper()
	d := w.d
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
		if d.err != nil {
			w.t.Errorf("helpdeskd serve exited with %v after SIGTERM\n%s", d.err, tailFile(d.log, 30))
		}
	case <-time.After(30 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.done
		w.t.Errorf("helpdeskd serve did not stop within 30s of SIGTERM\n%s", tailFile(d.log, 30))
	}
}

// kill ends the daemon with SIGKILL: no clean-up of any kind.
func (w *world) kill() {
	w.t.Helper()
	if err := w.d.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		w.t.Fatalf("kill -9 helpdeskd: %v", err)
	}
	<-w.d.done
}

func (w *world) dumpLogs() {
	for i := 1; i <= w.starts; i++ {
		w.t.Logf("%s", tailFile(filepath.Join(w.dir, fmt.Sprintf("helpdeskd-%d.log", i)), 40))
	}
	w.t.Logf("%s\n%s", w.ms.tail("postfix/maillog", 30), w.ms.tail("dovecot/dovecot.log", 30))
}

func tailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(%v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "--- " + path + "\n" + strings.Join(lines, "\n")
}

// count runs a counting query against the world's schema.
func (w *world) count(q string, args ...any) int {
	w.t.Helper()
	var n int
	if err := w.db.Get(&n, q, args...); err != nil {
		w.t.Fatalf("%s: %v", q, err)
	}
	return n
}

// waitFor polls cond until it holds. The deadline is generous: it catches a
// hang, it is not a timing assertion. The interval grows from 50 ms to
// 500 ms: many conditions log in to Dovecot (a process each), and a dozen
// tests polling at once must not starve the daemons they wait for.
func (w *world) waitFor(what string, timeout time.Duration, cond func() (bool, error)) {
	w.t.Helper()
	deadline := time.Now().Add(timeout)
	var last error
	interval := 50 * time.Millisecond
	for {
		ok, err := cond()
		if ok && err == nil {
			return
		}
		if err != nil {
			last = err
		}
		if w.d != nil && !w.d.running() {
			w.t.Fatalf("waiting for %s: helpdeskd serve exited: %v\n%s", what, w.d.err, tailFile(w.d.log, 30))
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("timed out after %s waiting for %s (last error: %v)", timeout, what, last)
		}
		time.Sleep(interval)
		interval = min(interval*3/2, 500*time.Millisecond)
	}
}

const patience = 60 * time.Second

// waitMail waits until addr's INBOX holds at least n mails and returns them.
func (w *world) waitMail(addr string, n int) []*message {
	w.t.Helper()
	var got []*message
	w.waitFor(fmt.Sprintf("%d mails in %s's INBOX", n, addr), patience, func() (bool, error) {
		var err error
		got, err = w.ms.fetch(addr, "INBOX")
		return len(got) >= n, err
	})
	return got
}

// inbox reads addr's INBOX now.
func (w *world) inbox(addr string) []*message {
	w.t.Helper()
	got, err := w.ms.fetch(addr, "INBOX")
	if err != nil {
		w.t.Fatal(err)
	}
	return got
}

// waitIngested waits until the inbound mail with this Message-ID is
// committed and returns its decision and case. Ingest writes the message
// row, the case or comment and every notification in one transaction, so
// after this the outbox holds everything the mail caused.
func (w *world) waitIngested(messageID string) (decision string, caseID int64) {
	w.t.Helper()
	w.waitFor("ingest of <"+messageID+">", patience, func() (bool, error) {
		var rows []struct {
			Decision string `db:"decision"`
			CaseID   *int64 `db:"case_id"`
		}
		err := w.db.Select(&rows, `SELECT decision, case_id FROM messages WHERE message_id = $1 AND direction = 'in'`, messageID)
		if len(rows) == 1 {
			decision = rows[0].Decision
			if rows[0].CaseID != nil {
				caseID = *rows[0].CaseID
			}
		}
		return len(rows) == 1, err
	})
	return decision, caseID
}

// outboxRow is one notification in the outbox.
type outboxRow struct {
	ID        int64  `db:"id"`
	MessageID string `db:"message_id"`
	Kind      string `db:"kind"`
	Recipient string `db:"recipient"`
	Status    string `db:"status"`
	Attempts  int    `db:"attempts"`
}

// outbox lists the outbox rows matching a WHERE clause (empty: all), oldest first.
func (w *world) outbox(where string, args ...any) []outboxRow {
	w.t.Helper()
	var rows []outboxRow
	if err := w.db.Select(&rows, `SELECT id, message_id, kind, recipients[1] AS recipient, status, attempts FROM outbox `+where+` ORDER BY id`, args...); err != nil {
		w.t.Fatal(err)
	}
	return rows
}

// waitSent waits until no outbox row is queued or being sent.
func (w *world) waitSent() {
	w.t.Helper()
	w.waitFor("the outbox to drain", patience, func() (bool, error) {
		var n int
		err := w.db.Get(&n, `SELECT count(*) FROM outbox WHERE status IN ('queued', 'sending')`)
		return n == 0, err
	})
}

// mailData fills a testdata/*.eml template.
type mailData struct {
	From       string // a full From field: use person()
	To         string
	Subject    string
	MessageID  string
	InReplyTo  string
	References string
	Date       string
	Body       string
	// ThreadIndex is Outlook's conversation index; render makes a fresh
	// one (a new conversation) when empty.
	ThreadIndex string
}

// person formats a From/To field, RFC 2047-encoding a non-ASCII name.
func person(name, addr string) string {
	return (&mail.Address{Name: name, Address: addr}).String()
}

// newID returns a fresh Message-ID in the domain of addr.
func (w *world) newID(label, addr string) string {
	return fmt.Sprintf("%s.%d.%d@%s", label, w.seq.Add(1), time.Now().UnixNano(), addr[strings.LastIndexByte(addr, '@')+1:])
}

// render fills testdata/<name>.eml and returns it with CRLF line ends.
func render(t testing.TB, name string, d mailData) []byte {
	t.Helper()
	if d.Date == "" {
		d.Date = time.Now().Format(time.RFC1123Z)
	}
	if d.ThreadIndex == "" {
		var b [22]byte
		_, _ = rand.Read(b[:])
		d.ThreadIndex = base64.StdEncoding.EncodeToString(b[:])
	}
	tmpl, err := template.ParseFiles(filepath.Join("testdata", name+".eml"))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, d); err != nil {
		t.Fatal(err)
	}
	s := strings.ReplaceAll(b.String(), "\r\n", "\n")
	return []byte(strings.ReplaceAll(s, "\n", "\r\n"))
}

// sendMail renders a template and sends it through Postfix.
func (w *world) sendMail(tmpl, envFrom string, to []string, d mailData) {
	w.t.Helper()
	if err := w.ms.send(envFrom, to, render(w.t, tmpl, d)); err != nil {
		w.t.Fatalf("sending %s <%s>: %v", tmpl, d.MessageID, err)
	}
}
