package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-smtp"

	"github.com/helpdesk/helpdesk/helpdesk"
	"github.com/helpdesk/helpdesk/helpdesk/pgtest"
	"github.com/helpdesk/helpdesk/mail/mailtest"
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
	return startDevEnv(t, dir, nil, args...)
}

// startDevEnv is startDev with environment variables.
func startDevEnv(t *testing.T, dir string, vars map[string]string, args ...string) (out *syncBuffer, stop func()) {
	t.Helper()
	needPostgresBin(t)
	if vars["HELPDESK_DATABASE_URL"] == "" {
		// As root, the cluster's data may be outside dir (under /var/tmp).
		t.Cleanup(func() {
			if c, err := newDevCluster(dir, t.Logf); err == nil {
				c.Remove(context.Background())
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	out = &syncBuffer{}
	errb := &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		args := append([]string{"dev", "--data", dir, "--imap", "127.0.0.1:0", "--smtp", "127.0.0.1:0"}, args...)
		done <- run(ctx, args, out, errb, func(k string) string {
			if v, ok := vars[k]; ok {
				return v
			}
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
	t.Parallel()
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
	if c := clusterOf(t, dir); c.Running(context.Background()) {
		t.Errorf("PostgreSQL still running from %s after dev stopped", c.dir)
	}
	for _, want := range []string{"initialising a PostgreSQL cluster", "seeded agent alice@helpdesk.test", "seeded customer minsu@acme.test", "seeded grant Acme → Resell Co", "PostgreSQL stopped"} {
		if !strings.Contains(first+out.String(), want) {
			t.Errorf("first run output lacks %q:\n%s", want, out.String())
		}
	}
	env, err := os.ReadFile(filepath.Join(dir, "env"))
	if err != nil || !strings.Contains(string(env), "export HELPDESK_DATABASE_URL='postgres://helpdesk@127.0.0.1:") {
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

	s, err := helpdesk.Open(context.Background(), devDatabaseURL(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mailtest.Wait(t, "the case and its acknowledgement sent", func() bool {
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
	mailtest.Wait(t, "the acknowledgement in jane's mailbox", func() bool {
		st, err := ic.Status("INBOX", &imap.StatusOptions{NumMessages: true}).Wait()
		return err == nil && st.NumMessages != nil && *st.NumMessages == 1
	})
}

// devDatabaseURL reads HELPDESK_DATABASE_URL from the sandbox's env file.
func devDatabaseURL(t *testing.T, dir string) string {
	t.Helper()
	env, err := os.ReadFile(filepath.Join(dir, "env"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^export HELPDESK_DATABASE_URL='([^']*)'$`).FindSubmatch(env)
	if m == nil {
		t.Fatalf("env file without HELPDESK_DATABASE_URL:\n%s", env)
	}
	return string(m[1])
}

// clusterOf is the dev cluster of a state directory, located as Start does.
func clusterOf(t *testing.T, state string) *devCluster {
	t.Helper()
	c, err := newDevCluster(state, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	c.dir = c.locate()
	return c
}

// fakeDir is a directory's stat for reachableWith.
type fakeDir struct {
	mode     os.FileMode
	uid, gid uint32
}

func (d fakeDir) Name() string       { return "" }
func (d fakeDir) Size() int64        { return 0 }
func (d fakeDir) Mode() os.FileMode  { return os.ModeDir | d.mode }
func (d fakeDir) ModTime() time.Time { return time.Time{} }
func (d fakeDir) IsDir() bool        { return true }
func (d fakeDir) Sys() any           { return &syscall.Stat_t{Uid: d.uid, Gid: d.gid} }

func TestReachable_NeedsSearchPermissionOnEveryAncestor(t *testing.T) {
	const pgUID, pgGID = 100, 200 // the postgres user and its group
	open := fakeDir{0o755, 0, 0}
	for _, tc := range []struct {
		name string
		dirs map[string]fakeDir // besides / (open)
		path string
		want bool
	}{
		{"every directory open to others", map[string]fakeDir{"/work": open, "/work/x": open}, "/work/x", true},
		{"search without read is enough", map[string]fakeDir{"/home": {0o711, 0, 0}, "/home/u": {0o711, 1000, 1000}}, "/home/u", true},
		{"a 0700 home of root blocks", map[string]fakeDir{"/root": {0o700, 0, 0}, "/root/x": open}, "/root/x/.dev", false},
		{"the directory itself 0700 blocks", map[string]fakeDir{"/work": open, "/work/x": {0o700, 0, 0}}, "/work/x", false},
		{"read without search blocks", map[string]fakeDir{"/work": {0o754, 0, 0}, "/work/x": open}, "/work/x", false},
		{"owned by postgres, owner search", map[string]fakeDir{"/srv": {0o700, pgUID, 0}}, "/srv", true},
		{"group postgres, group search", map[string]fakeDir{"/srv": {0o750, 0, pgGID}}, "/srv", true},
		{"group postgres without group search", map[string]fakeDir{"/srv": {0o705, 0, pgGID}}, "/srv", false},
		{"parts not made yet are judged by the deepest existing one", map[string]fakeDir{"/work": open}, "/work/new/.dev", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stat := func(p string) (os.FileInfo, error) {
				if p == "/" {
					return open, nil
				}
				if d, ok := tc.dirs[p]; ok {
					return d, nil
				}
				return nil, os.ErrNotExist
			}
			if got := reachableWith(stat, tc.path, pgUID, []uint32{pgGID}); got != tc.want {
				t.Errorf("reachable(%s) = %v, want %v", tc.path, got, tc.want)
			}
		})
	}
}

// As root, the cluster runs as postgres; a state directory under a 0700
// directory (a checkout in /root) cannot hold its data, so it goes to
// /var/tmp. A cluster left running (dev crashed) is reused, and stopped by
// Stop.
func TestDevCluster_RootIn0700DirRelocatesReusesAndStops(t *testing.T) {
	if os.Geteuid() != 0 {
		// CI runs as root (the e2e suite needs it too).
		if os.Getenv("CI") == "true" {
			t.Fatal("needs root: the relocation only happens when the cluster runs as the postgres user")
		}
		t.Skip("needs root: the relocation only happens when the cluster runs as the postgres user")
	}
	needPostgresBin(t)
	base := t.TempDir()
	if err := os.Chmod(base, 0o700); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(base, "checkout", ".dev")
	if err := os.MkdirAll(state, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c := clusterOf(t, state)
	t.Cleanup(func() {
		if err := c.Remove(ctx); err != nil {
			t.Errorf("remove: %v", err)
		}
		if _, err := os.Stat(filepath.Dir(c.altDir())); !os.IsNotExist(err) {
			t.Errorf("%s left behind: %v", filepath.Dir(c.altDir()), err)
		}
	})
	if err := c.Start(ctx); err != nil {
		t.Fatalf("start in a 0700 directory: %v", err)
	}
	if !strings.HasPrefix(c.dir, devAltBase+"/helpdesk-dev-") {
		t.Errorf("data in %s, want under %s", c.dir, devAltBase)
	}
	if err := pingDatabase(ctx, c.URL()); err != nil {
		t.Fatalf("helpdesk database: %v", err)
	}
	// dev crashes: no Stop. The next one finds it running.
	again := clusterOf(t, state)
	if err := again.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if !again.reused || again.port != c.port || again.dir != c.dir {
		t.Errorf("second start: reused %v, port %d, dir %s; want the running cluster (port %d, %s)", again.reused, again.port, again.dir, c.port, c.dir)
	}
	if err := again.Stop(); err != nil {
		t.Fatal(err)
	}
	if again.Running(ctx) {
		t.Error("the reused cluster still runs after Stop")
	}
}

// dev started over a PostgreSQL a crashed dev left running reuses it and
// stops it on exit, and says so truthfully.
func TestDev_StopsThePostgresACrashedDevLeftRunning(t *testing.T) {
	needPostgresBin(t)
	dir := filepath.Join(t.TempDir(), "state")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	leftover := clusterOf(t, dir)
	if err := leftover.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { leftover.Remove(context.Background()) })
	out, stop := startDev(t, dir)
	stop()
	if !strings.Contains(out.String(), "reusing the PostgreSQL left running") || !strings.Contains(out.String(), "PostgreSQL stopped") {
		t.Errorf("output:\n%s", out)
	}
	if leftover.Running(context.Background()) {
		t.Error("PostgreSQL still running after dev stopped")
	}
}

func TestDev_SecondDevOnTheSameStateFails(t *testing.T) {
	dir := t.TempDir()
	unlock, err := lockState(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	if _, err := lockState(dir); err == nil || !strings.Contains(err.Error(), "another helpdeskd dev") {
		t.Errorf("second lock: %v, want refused", err)
	}
}

// With HELPDESK_DATABASE_URL naming a database that does not exist, dev
// creates it (and honours HELPDESK_HTTP_ADDR).
func TestDev_CreatesTheDatabaseHELPDESK_DATABASE_URLNames(t *testing.T) {
	base := pgtest.BaseURL()
	ctx := context.Background()
	if err := pingDatabase(ctx, base); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skipf("no test PostgreSQL (%v)", err)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("helpdesk_devtest_%d", time.Now().UnixNano())
	u.Path = "/" + name
	t.Cleanup(func() {
		admin, err := sql.Open("postgres", base)
		if err == nil {
			admin.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`)
			admin.Close()
		}
	})
	for _, tc := range []struct {
		name    string
		created bool
	}{{"missing: created", true}, {"present: left alone", false}} {
		created, err := createDatabaseIfMissing(ctx, u.String())
		if err != nil || created != tc.created {
			t.Fatalf("%s: created %v, %v; want %v", tc.name, created, err, tc.created)
		}
	}
	admin, err := sql.Open("postgres", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec(`DROP DATABASE ` + name + ` WITH (FORCE)`); err != nil {
		t.Fatal(err)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	httpAddr := l.Addr().String()
	l.Close()
	out, stop := startDevEnv(t, t.TempDir(), map[string]string{"HELPDESK_DATABASE_URL": u.String(), "HELPDESK_HTTP_ADDR": httpAddr})
	defer stop()
	for _, want := range []string{"created the database", "seeded agent alice@helpdesk.test", "http://" + httpAddr + "/healthz"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	resp, err := http.Get("http://" + httpAddr + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Errorf("GET /healthz on HELPDESK_HTTP_ADDR: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
}

// Every command the banner prints works as printed: the env file puts
// helpdeskd on PATH, the agent's reply it describes becomes a comment, and
// the HTTP listener answers on the port it prints.
func TestDev_BannerCommandsWork(t *testing.T) {
	if testing.Short() {
		t.Skip("builds helpdeskd")
	}
	bin := filepath.Join(t.TempDir(), "bin")
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "helpdeskd"), ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	old := devExecutable
	devExecutable = func() string { return filepath.Join(bin, "helpdeskd") }
	t.Cleanup(func() { devExecutable = old })

	dir := filepath.Join(t.TempDir(), "state")
	out, stop := startDev(t, dir)
	defer stop()
	banner := out.String()
	sendAndSeeAcknowledged(t, dir, banner)

	// The agent's reply, exactly as the banner's swaks command sends it.
	m := regexp.MustCompile(`swaks --server (\S+) --from (alice@\S+) --to (\S+) \\\n\s+--header '([^']*)' --body '([^']*)'`).FindStringSubmatch(banner)
	if m == nil {
		t.Fatalf("banner has no agent reply command:\n%s", banner)
	}
	c, err := smtp.Dial(m[1])
	if err != nil {
		t.Fatal(err)
	}
	msg := "From: " + m[2] + "\r\nTo: " + m[3] + "\r\n" + m[4] + "\r\nMessage-ID: <agent-1@helpdesk.test>\r\n\r\n" + m[5] + "\r\n"
	if err := c.SendMail(m[2], []string{m[3]}, strings.NewReader(msg)); err != nil {
		t.Fatal(err)
	}
	c.Quit()
	s, err := helpdesk.Open(context.Background(), devDatabaseURL(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mailtest.Wait(t, "alice's reply as a comment on case 1", func() bool {
		var n int
		s.DB().Get(&n, `SELECT count(*) FROM comments c JOIN users u ON u.id = c.author_id
			WHERE c.case_id = 1 AND u.login_email = 'alice@helpdesk.test'`)
		return n == 1
	})

	// `. ENVFILE` then `helpdeskd cases list`, in a shell started here.
	em := regexp.MustCompile(`\n\s+\. (\S+)\s+#`).FindStringSubmatch(banner)
	if em == nil {
		t.Fatalf("banner does not say which env file to source:\n%s", banner)
	}
	sh := exec.Command("sh", "-c", ". "+em[1]+" && helpdeskd cases list && helpdeskd cases show 1")
	sh.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + os.Getenv("HOME")}
	shOut, err := sh.CombinedOutput()
	if err != nil || !strings.Contains(string(shOut), "Printer on fire") || !strings.Contains(string(shOut), "On my way.") {
		t.Errorf("the banner's commands: %v\n%s", err, shOut)
	}

	hm := regexp.MustCompile(`HTTP\s+http://(127\.0\.0\.1:\d+)/healthz`).FindStringSubmatch(banner)
	if hm == nil {
		t.Fatalf("banner does not print the HTTP listener:\n%s", banner)
	}
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		mailtest.Wait(t, "GET "+path+" 200", func() bool {
			resp, err := http.Get("http://" + hm[1] + path)
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == 200
		})
	}
}

// needPostgresBin skips a test without the PostgreSQL server binaries,
// except in CI, which installs them: there it fails.
func needPostgresBin(t *testing.T) {
	t.Helper()
	if _, err := findPostgresBin(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
}
