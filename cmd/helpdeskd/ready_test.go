package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/helpdesk/helpdesk/helpdesk"
	"github.com/helpdesk/helpdesk/helpdesk/pgtest"
	"github.com/helpdesk/helpdesk/mail/devmail"
	"github.com/helpdesk/helpdesk/mail/mailtest"
)

// freeAddr returns a loopback address nothing listens on (for a moment).
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// serveProcess is `helpdeskd serve` running in-process with its stderr kept.
type serveProcess struct {
	stderr *syncBuffer
	stop   func() int // cancels and returns the exit status
}

func startServe(t *testing.T, env map[string]string) *serveProcess {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	sp := &serveProcess{stderr: &syncBuffer{}}
	go func() {
		done <- run(ctx, []string{"serve"}, &bytes.Buffer{}, sp.stderr, func(k string) string { return env[k] })
	}()
	var once sync.Once
	code := -1
	sp.stop = func() int {
		once.Do(func() {
			cancel()
			select {
			case code = <-done:
			case <-time.After(15 * time.Second):
				t.Errorf("serve did not stop within 15s of cancellation")
			}
		})
		return code
	}
	t.Cleanup(func() { sp.stop() })
	return sp
}

// readyz answers GET /readyz: the status and the decoded body.
func readyz(t *testing.T, addr string) (int, readyReport) {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		return 0, readyReport{}
	}
	defer resp.Body.Close()
	var rep readyReport
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("/readyz %d: not JSON: %v\n%s", resp.StatusCode, err, b)
	}
	if (resp.StatusCode == 200) != rep.Ready {
		t.Fatalf("/readyz status %d with ready=%v", resp.StatusCode, rep.Ready)
	}
	return resp.StatusCode, rep
}

func healthz(t *testing.T, addr string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// pgProxy stands between the daemon and PostgreSQL: while closed it accepts
// connections and closes them at once (PostgreSQL down); while open it
// forwards them. Closing it also cuts the connections it forwards.
type pgProxy struct {
	ln     net.Listener
	target string
	open   atomic.Bool

	mu    sync.Mutex
	conns map[net.Conn]bool
}

func newPGProxy(t *testing.T, target string) *pgProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &pgProxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	t.Cleanup(func() { ln.Close(); p.setOpen(false) })
	go p.serve()
	return p
}

func (p *pgProxy) addr() string { return p.ln.Addr().String() }

func (p *pgProxy) setOpen(open bool) {
	p.open.Store(open)
	if !open {
		p.mu.Lock()
		for c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
	}
}

func (p *pgProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.open.Load() {
		return false
	}
	p.conns[c] = true
	return true
}

func (p *pgProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if !p.open.Load() {
			c.Close()
			continue
		}
		go func() {
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				return
			}
			if !p.track(c) || !p.track(up) {
				c.Close()
				up.Close()
				return
			}
			done := make(chan struct{}, 2)
			go func() { io.Copy(up, c); done <- struct{}{} }()
			go func() { io.Copy(c, up); done <- struct{}{} }()
			<-done
			c.Close()
			up.Close()
		}()
	}
}

// proxied is the URL u with its host replaced by addr.
func proxied(t *testing.T, u, addr string) (target, through string) {
	t.Helper()
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	target = pu.Host
	if pu.Port() == "" {
		target += ":5432"
	}
	pu.Host = addr
	return target, pu.String()
}

func serveEnv(m *devmail.Server, dbURL, httpAddr string) map[string]string {
	return map[string]string{
		"HELPDESK_DATABASE_URL":       dbURL,
		"HELPDESK_SUPPORT_ADDRESS":    "support@example.com",
		"HELPDESK_TOKEN_SECRET":       strings.Repeat("s", 40),
		"HELPDESK_IMAP_ADDR":          m.IMAPAddr(),
		"HELPDESK_IMAP_TLS":           "none",
		"HELPDESK_IMAP_USERNAME":      "support@example.com",
		"HELPDESK_IMAP_PASSWORD":      "pw",
		"HELPDESK_IMAP_POLL_INTERVAL": "1h",
		"HELPDESK_SMTP_ADDR":          m.SMTPAddr(),
		"HELPDESK_SMTP_TLS":           "none",
		"HELPDESK_AGENT_AUTH":         "off",
		"HELPDESK_HTTP_ADDR":          httpAddr,
		"HELPDESK_LOG_LEVEL":          "warn",
	}
}

func TestServe_WaitsForPostgreSQLAtStartThenIngests(t *testing.T) {
	t.Parallel()
	m := startMail(t)
	schema := pgtest.Schema(t)
	target, _ := proxied(t, schema, "")
	proxy := newPGProxy(t, target)
	_, through := proxied(t, schema, proxy.addr())
	httpAddr := freeAddr(t)
	sp := startServe(t, serveEnv(m, through, httpAddr))

	// PostgreSQL is "down": serve keeps trying, saying so at WARN each time.
	mailtest.Wait(t, "a second attempt", func() bool { return strings.Contains(sp.stderr.String(), "attempt=2") })
	for _, line := range strings.Split(strings.TrimSpace(sp.stderr.String()), "\n") {
		if !strings.Contains(line, "level=WARN") || !strings.Contains(line, `msg="database unreachable; retrying"`) ||
			!strings.Contains(line, "next_in=") || !strings.Contains(line, "err=") {
			t.Fatalf("unexpected log line while the database is down: %s", line)
		}
	}
	if code, body := healthz(t, httpAddr); code != 200 || !strings.Contains(body, "ok") {
		t.Fatalf("/healthz while the database is down: %d %q", code, body)
	}
	code, rep := readyz(t, httpAddr)
	if code != 503 || !strings.HasPrefix(rep.Checks["database"], "not connected: ") || !strings.Contains(rep.Checks["database"], "since") {
		t.Fatalf("/readyz while the database is down: %d %+v", code, rep)
	}
	if err := m.Deliver("support@example.com", customerMail("jane@acme.example", "Printer", "wait-1@acme.example", "", "On fire.")); err != nil {
		t.Fatal(err)
	}

	// PostgreSQL comes up: the daemon migrates, ingests the mail and is ready.
	proxy.setOpen(true)
	s, err := helpdesk.Open(context.Background(), schema)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mailtest.Wait(t, "the mail ingested", func() bool {
		var n int
		return s.DB().Get(&n, `SELECT count(*) FROM cases`) == nil && n == 1
	})
	mailtest.Wait(t, "/readyz 200", func() bool { code, _ := readyz(t, httpAddr); return code == 200 })
	_, rep = readyz(t, httpAddr)
	if rep.Checks["database"] != "ok" || rep.Checks["mailbox support/INBOX"] != "ok" || len(rep.Checks) != 2 {
		t.Fatalf("/readyz when all is well: %+v", rep)
	}

	// PostgreSQL goes away again: not ready, still healthy, still running.
	proxy.setOpen(false)
	mailtest.Wait(t, "/readyz 503", func() bool { code, _ := readyz(t, httpAddr); return code == 503 })
	if _, rep := readyz(t, httpAddr); rep.Checks["database"] == "ok" || rep.Checks["database"] == "" {
		t.Fatalf("/readyz with the database gone: %+v", rep)
	}
	if code, _ := healthz(t, httpAddr); code != 200 {
		t.Fatalf("/healthz with the database gone: %d", code)
	}
	proxy.setOpen(true)
	mailtest.Wait(t, "/readyz 200 again", func() bool { code, _ := readyz(t, httpAddr); return code == 200 })
	if code := sp.stop(); code != 0 {
		t.Fatalf("serve exit %d: %s", code, sp.stderr)
	}
}

func TestServe_StopsCleanlyWhileWaitingForPostgreSQL(t *testing.T) {
	t.Parallel()
	m := startMail(t)
	sp := startServe(t, serveEnv(m, "postgres://hd:x@"+freeAddr(t)+"/hd?sslmode=disable", freeAddr(t)))
	mailtest.Wait(t, "a first attempt", func() bool { return strings.Contains(sp.stderr.String(), "attempt=1") })
	if code := sp.stop(); code != 0 {
		t.Fatalf("serve exit %d: %s", code, sp.stderr)
	}
}

func TestServe_NoSecretInAnyLogLine(t *testing.T) {
	t.Parallel()
	m := startMail(t)
	closed := freeAddr(t) // nothing listens: every attempt fails and is logged
	host, port, _ := net.SplitHostPort(closed)
	for _, tc := range []struct{ name, dsn string }{
		{"url userinfo", "postgres://hd:Hunter2pw@" + closed + "/hd?sslmode=disable"},
		{"?password=", "postgres://hd@" + closed + "/hd?password=Hunter2pw&sslmode=disable"},
		{"&password=", "postgres://hd@" + closed + "/hd?sslmode=disable&password=Hunter2pw"},
		{"key=value", "host=" + host + " port=" + port + " user=hd password=Hunter2pw dbname=hd sslmode=disable"},
		{"key=value quoted", "host=" + host + " port=" + port + " user=hd password='Hunter2pw x' dbname=hd sslmode=disable"},
		{"_FILE", "file"},
	} {
		for _, format := range []string{"text", "json"} {
			t.Run(tc.name+"/"+format, func(t *testing.T) {
				t.Parallel()
				env := serveEnv(m, tc.dsn, freeAddr(t))
				env["HELPDESK_LOG_FORMAT"] = format
				env["HELPDESK_IMAP_PASSWORD"] = "Imap-Pa55word"
				if tc.dsn == "file" {
					path := filepath.Join(t.TempDir(), "db")
					os.WriteFile(path, []byte("postgres://hd:Hunter2pw@"+closed+"/hd?sslmode=disable\n"), 0o600)
					delete(env, "HELPDESK_DATABASE_URL")
					env["HELPDESK_DATABASE_URL_FILE"] = path
				}
				sp := startServe(t, env)
				mailtest.Wait(t, "two attempts logged", func() bool {
					out := sp.stderr.String()
					return strings.Contains(out, "attempt=2") || strings.Contains(out, `"attempt":2`)
				})
				sp.stop()
				out := sp.stderr.String()
				for _, secret := range []string{"Hunter2pw", "Imap-Pa55word"} {
					if strings.Contains(out, secret) {
						t.Fatalf("the log shows %q:\n%s", secret, out)
					}
				}
			})
		}
	}
}

func TestServe_KeepsRunningWhileTheIMAPServerIsDownAtStart(t *testing.T) {
	t.Parallel()
	m := startMail(t)
	imapAddr := freeAddr(t)
	httpAddr := freeAddr(t)
	d := newDaemon(t, m, map[string]string{"HELPDESK_IMAP_ADDR": imapAddr, "HELPDESK_HTTP_ADDR": httpAddr})

	mailtest.Wait(t, "/readyz naming the mailbox", func() bool {
		_, rep := readyz(t, httpAddr)
		return strings.Contains(rep.Checks["mailbox support/INBOX"], "dial")
	})
	code, rep := readyz(t, httpAddr)
	if code != 503 || rep.Checks["database"] != "ok" {
		t.Fatalf("/readyz with the IMAP server down: %d %+v", code, rep)
	}

	up, err := devmail.Start(devmail.Config{IMAPAddr: imapAddr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { up.Close() })
	if err := up.AddUser("support@example.com", "pw"); err != nil {
		t.Fatal(err)
	}
	if err := up.Deliver("support@example.com", customerMail("jane@acme.example", "Late", "late-1@acme.example", "", "Hello?")); err != nil {
		t.Fatal(err)
	}
	mailtest.Wait(t, "the mail ingested once the IMAP server is up", func() bool { return d.count(`SELECT count(*) FROM cases`) == 1 })
	mailtest.Wait(t, "/readyz 200", func() bool { code, _ := readyz(t, httpAddr); return code == 200 })
}

func TestServe_ReadyzNamesWhatIsNotReady(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, password string
		want           int
		wantMailbox    string
	}{
		{"all good", "pw", 200, "ok"},
		{"wrong IMAP password", "not-the-password", 503, "authenticating as support@example.com"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := startMail(t)
			httpAddr := freeAddr(t)
			newDaemon(t, m, map[string]string{"HELPDESK_HTTP_ADDR": httpAddr, "HELPDESK_IMAP_PASSWORD": tc.password})
			mailtest.Wait(t, "the mailbox checked", func() bool {
				_, rep := readyz(t, httpAddr)
				return rep.Checks["mailbox support/INBOX"] != "" && rep.Checks["mailbox support/INBOX"] != "not connected yet"
			})
			code, rep := readyz(t, httpAddr)
			if code != tc.want || rep.Checks["database"] != "ok" || !strings.Contains(rep.Checks["mailbox support/INBOX"], tc.wantMailbox) {
				t.Fatalf("/readyz = %d %+v, want %d with mailbox %q", code, rep, tc.want, tc.wantMailbox)
			}
			if tc.want != 200 && (!strings.Contains(rep.Checks["mailbox support/INBOX"], "since") || strings.Contains(rep.Checks["mailbox support/INBOX"], tc.password)) {
				t.Fatalf("reason %q: want since when, never the password", rep.Checks["mailbox support/INBOX"])
			}
			if code, body := healthz(t, httpAddr); code != 200 || strings.TrimSpace(body) != "ok" {
				t.Fatalf("/healthz = %d %q", code, body)
			}
		})
	}
}

func TestConfigCommand_MasksEveryConnectionStringForm(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tc := range []struct{ name, dsn string }{
		{"url userinfo", "postgres://hd:Hunter2pw@127.0.0.1:5432/hd?sslmode=disable"},
		{"?password=", "postgres://hd@127.0.0.1:5432/hd?password=Hunter2pw&sslmode=disable"},
		{"&password=", "postgres://hd@127.0.0.1:5432/hd?sslmode=disable&password=Hunter2pw"},
		{"key=value", "host=127.0.0.1 user=hd password=Hunter2pw dbname=hd sslmode=disable"},
		{"key=value quoted", "host=127.0.0.1 user=hd password='Hunter2pw x' dbname=hd sslmode=disable"},
	} {
		for _, viaFile := range []bool{false, true} {
			env := map[string]string{
				"HELPDESK_TOKEN_SECRET":  strings.Repeat("T0ken", 8),
				"HELPDESK_IMAP_ADDR":     "127.0.0.1:993",
				"HELPDESK_IMAP_PASSWORD": "Imap-Pa55word",
				"HELPDESK_SMTP_PASSWORD": "Smtp-Pa55word",
			}
			if viaFile {
				path := filepath.Join(dir, strings.NewReplacer("?", "q", "&", "a", "=", "", " ", "_").Replace(tc.name))
				os.WriteFile(path, []byte(tc.dsn+"\n"), 0o600)
				env["HELPDESK_DATABASE_URL_FILE"] = path
			} else {
				env["HELPDESK_DATABASE_URL"] = tc.dsn
			}
			c := &cli{t: t, env: env}
			for _, args := range [][]string{{"config"}, {"config", "--json"}} {
				out := c.ok(args...)
				for _, secret := range []string{"Hunter2pw", "T0ken", "Imap-Pa55word", "Smtp-Pa55word"} {
					if strings.Contains(out, secret) {
						t.Errorf("%s (file %v): helpdeskd %s shows %q:\n%s", tc.name, viaFile, strings.Join(args, " "), secret, out)
					}
				}
				if !strings.Contains(out, "sslmode=disable") {
					t.Errorf("%s: the database setting lost what is not secret:\n%s", tc.name, out)
				}
			}
		}
	}
}

func TestCommands_ErrorsNeverShowAPassword(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
	}{
		{"invalid URL", map[string]string{"HELPDESK_DATABASE_URL": "postgres://hd:Hunter2pw@127.0.0.1:port/hd?sslmode=disable"}, []string{"config"}},
		{"invalid URL, serve", map[string]string{"HELPDESK_DATABASE_URL": "postgres://hd:Hunter2pw@[::1/hd?sslmode=disable"}, []string{"serve"}},
		{"both forms", map[string]string{"HELPDESK_DATABASE_URL": "postgres://hd:Hunter2pw@127.0.0.1/hd?sslmode=disable", "HELPDESK_DATABASE_URL_FILE": "/nonexistent"}, []string{"migrate"}},
		{"unreadable file", map[string]string{"HELPDESK_IMAP_PASSWORD_FILE": "/nonexistent/Hunter2pw-dir/pw"}, []string{"config"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errs, code := (&cli{t: t, env: tc.env}).run(tc.args...)
			if code != 1 || !strings.Contains(errs, "HELPDESK_") {
				t.Fatalf("exit %d, stderr %q", code, errs)
			}
			if tc.name == "unreadable file" { // the path is no secret: it is named, with the variable
				if !strings.Contains(errs, "HELPDESK_IMAP_PASSWORD_FILE") || !strings.Contains(errs, "/nonexistent/Hunter2pw-dir/pw") {
					t.Fatalf("stderr does not name the variable and path: %q", errs)
				}
				return
			}
			if strings.Contains(errs, "Hunter2pw") {
				t.Fatalf("stderr shows the password: %q", errs)
			}
		})
	}
}
