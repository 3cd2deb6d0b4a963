// Package mailstack runs a private Postfix (SMTP on 127.0.0.1) delivering
// over LMTP into a private Dovecot (IMAP on 127.0.0.1), all state under one
// temporary directory. The e2e tests and the benchmark driver share it; it
// needs root (Postfix's master starts as root) and the Debian packages
// dovecot-imapd, dovecot-lmtpd and postfix.
package mailstack

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// System is a private Postfix delivering into a private Dovecot. Nothing
// under /etc is read or changed beyond the packages' own defaults.
//
// Every domain ending in .test is a virtual mailbox domain. A virtual user
// exists once AddUsers registered it; mail to any other address in those
// domains is accepted by Postfix and refused by Dovecot's LMTP (550 5.1.1),
// so Postfix returns a real DSN to the envelope sender — the bounce path.
// Plus-addressing: user+detail@domain is delivered to user's INBOX.
type System struct {
	Dir      string // the state directory: configuration, queue, logs, mailboxes
	SMTPAddr string // Postfix's smtpd, host:port
	IMAPAddr string // Dovecot's IMAP, host:port
	opts     Options

	postfix *exec.Cmd
	dovecot *exec.Cmd
	exited  map[*exec.Cmd]chan error

	mu    sync.Mutex
	users map[string]string // address → password
}

// Options change the mail system's behaviour.
type Options struct {
	// NoIdle hides IDLE from Dovecot's capabilities, so clients must poll.
	NoIdle bool
	// Milter, in Postfix's notation (inet:host:port), filters the mail
	// Postfix takes over SMTP, as a border's OpenDKIM or rspamd does.
	Milter string
	// Keep leaves the state directory in place after Close.
	Keep bool
}

// ErrMissing says the machine cannot run the mail system at all (packages
// not installed, not root).
type ErrMissing struct{ Msg string }

func (e ErrMissing) Error() string { return e.Msg }

const installHint = "install them with .ci/run, or: DEBIAN_FRONTEND=noninteractive apt-get install dovecot-imapd dovecot-lmtpd postfix " +
	"(preseed postfix/main_mailer_type to \"No configuration\")"

// Binaries finds dovecot and Postfix's master; Debian puts both in /usr/sbin.
func Binaries() (dovecot, postfix, postconf string, err error) {
	find := func(name string) string {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
		for _, d := range []string{"/usr/sbin", "/usr/local/sbin", "/sbin"} {
			if p := filepath.Join(d, name); IsExecutable(p) {
				return p
			}
		}
		return ""
	}
	dovecot, postfix, postconf = find("dovecot"), find("postfix"), find("postconf")
	var missing []string
	for name, p := range map[string]string{"dovecot": dovecot, "postfix": postfix, "postconf": postconf} {
		if p == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return "", "", "", ErrMissing{fmt.Sprintf("mailstack: %s not found; %s", strings.Join(missing, ", "), installHint)}
	}
	if !IsExecutable("/usr/lib/dovecot/lmtp") && !IsExecutable("/usr/libexec/dovecot/lmtp") {
		return "", "", "", ErrMissing{"mailstack: Dovecot's LMTP server is not installed (package dovecot-lmtpd); " + installHint}
	}
	if os.Geteuid() != 0 {
		return "", "", "", ErrMissing{"mailstack: Postfix's master daemon must start as root; run as root (CI does)"}
	}
	return dovecot, postfix, postconf, nil
}

// IsExecutable says whether p is a regular file with an execute bit.
func IsExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// Start starts Postfix and Dovecot under a fresh directory in base and
// returns when both accept connections. Both get SIGTERM when the calling
// process dies.
func Start(base string, opts Options) (_ *System, err error) {
	dovecotBin, postfixBin, postconfBin, err := Binaries()
	if err != nil {
		return nil, err
	}
	mailUser, err := user.Lookup("mail")
	if err != nil {
		return nil, fmt.Errorf("mailstack: the system user \"mail\" owns the mailboxes: %w", err)
	}
	dir, err := os.MkdirTemp(base, "mail-")
	if err != nil {
		return nil, err
	}
	// Postfix and Dovecot drop privileges: they must be able to reach the directory.
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	ms := &System{
		Dir:      dir,
		SMTPAddr: fmt.Sprintf("127.0.0.1:%d", ports[0]),
		IMAPAddr: fmt.Sprintf("127.0.0.1:%d", ports[1]),
		opts:     opts,
		exited:   map[*exec.Cmd]chan error{},
		users:    map[string]string{},
	}
	defer func() {
		if err != nil {
			ms.Close()
		}
	}()
	for _, d := range []string{"dovecot", "mail", "postfix/conf", "postfix/queue", "postfix/data"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return nil, err
		}
	}
	uid, _ := strconv.Atoi(mailUser.Uid)
	gid, _ := strconv.Atoi(mailUser.Gid)
	if err := os.Chown(filepath.Join(dir, "mail"), uid, gid); err != nil {
		return nil, err
	}
	if err := ms.writeUsers(); err != nil {
		return nil, err
	}
	if err := os.WriteFile(ms.Path("dovecot/dovecot.conf"), []byte(ms.dovecotConf(uid, gid)), 0o644); err != nil {
		return nil, err
	}
	ms.dovecot = exec.Command(dovecotBin, "-F", "-c", ms.Path("dovecot/dovecot.conf"))
	if err := ms.spawn(ms.dovecot, "dovecot/stderr.log"); err != nil {
		return nil, fmt.Errorf("mailstack: start dovecot: %w", err)
	}

	if err := ms.writePostfixConf(ports[0]); err != nil {
		return nil, err
	}
	pfx, err := exec.Command(postconfBin, "-c", ms.Path("postfix/conf"), "-h", "daemon_directory").Output()
	if err != nil {
		return nil, fmt.Errorf("mailstack: postconf daemon_directory: %w", err)
	}
	// The queue directory belongs to root, its data directory to the postfix user.
	pfUser, err := user.Lookup("postfix")
	if err != nil {
		return nil, ErrMissing{"mailstack: the system user \"postfix\" is missing; " + installHint}
	}
	puid, _ := strconv.Atoi(pfUser.Uid)
	if err := os.Chown(ms.Path("postfix/data"), puid, -1); err != nil {
		return nil, err
	}
	// "postfix check" creates the queue's subdirectories with their owners and modes.
	if out, err := exec.Command(postfixBin, "-c", ms.Path("postfix/conf"), "check").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("mailstack: postfix check: %v: %s%s", err, out, ms.Tail("postfix/maillog", 20))
	}
	ms.postfix = exec.Command(filepath.Join(strings.TrimSpace(string(pfx)), "master"), "-d", "-c", ms.Path("postfix/conf"))
	if err := ms.spawn(ms.postfix, "postfix/stderr.log"); err != nil {
		return nil, fmt.Errorf("mailstack: start postfix: %w", err)
	}

	deadline := time.Now().Add(30 * time.Second)
	if err := ms.waitBanner(ms.IMAPAddr, "* OK", deadline); err != nil {
		return nil, fmt.Errorf("mailstack: dovecot does not answer on %s: %w\n%s", ms.IMAPAddr, err, ms.Tail("dovecot/dovecot.log", 20))
	}
	if err := ms.waitBanner(ms.SMTPAddr, "220 ", deadline); err != nil {
		return nil, fmt.Errorf("mailstack: postfix does not answer on %s: %w\n%s", ms.SMTPAddr, err, ms.Tail("postfix/maillog", 20))
	}
	return ms, nil
}

// Path is a file under the state directory.
func (ms *System) Path(rel string) string { return filepath.Join(ms.Dir, rel) }

// spawn starts a daemon in the foreground, its stderr to a file; it dies
// with the calling process.
func (ms *System) spawn(cmd *exec.Cmd, stderr string) error {
	f, err := os.Create(ms.Path(stderr))
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		f.Close()
		return err
	}
	done := make(chan error, 1)
	go func() {
		done <- cmd.Wait()
		f.Close()
	}()
	ms.exited[cmd] = done
	return nil
}

// waitBanner dials addr until the server's greeting starts with prefix.
func (ms *System) waitBanner(addr, prefix string, deadline time.Time) error {
	var last error
	for time.Now().Before(deadline) {
		for c, done := range ms.exited {
			select {
			case err := <-done:
				done <- err
				return fmt.Errorf("%s exited: %v", filepath.Base(c.Path), err)
			default:
			}
		}
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.SetDeadline(time.Now().Add(5 * time.Second))
			line, rerr := bufio.NewReader(conn).ReadString('\n')
			conn.Close()
			if rerr == nil && strings.HasPrefix(line, prefix) {
				return nil
			}
			err = fmt.Errorf("greeting %q: %v", line, rerr)
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	return last
}

// Close stops both daemons (SIGTERM, then SIGKILL) and removes the state.
func (ms *System) Close() error {
	var errs []error
	for _, c := range []*exec.Cmd{ms.postfix, ms.dovecot} {
		done, ok := ms.exited[c]
		if !ok {
			continue
		}
		_ = c.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = c.Process.Kill()
			<-done
			errs = append(errs, fmt.Errorf("%s did not stop on SIGTERM", filepath.Base(c.Path)))
		}
	}
	if !ms.opts.Keep {
		if err := os.RemoveAll(ms.Dir); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// AddUsers creates virtual mailbox users and returns once Dovecot knows
// them. Dovecot re-reads its passwd-file when it changes, but at most once a
// second: until then a login fails and LMTP refuses the user (a bounce).
func (ms *System) AddUsers(password string, addrs ...string) error {
	if len(addrs) == 0 {
		return nil
	}
	ms.mu.Lock()
	for _, a := range addrs {
		a = strings.ToLower(a)
		if strings.ContainsAny(a+password, ":\n") {
			ms.mu.Unlock()
			return fmt.Errorf("mailstack: user %q: no colons or newlines", a)
		}
		ms.users[a] = password
	}
	err := ms.writeUsers()
	ms.mu.Unlock()
	if err != nil {
		return err
	}
	// One file holds every user: when the last one can log in, all can.
	deadline := time.Now().Add(15 * time.Second)
	for {
		err := ms.login(addrs[len(addrs)-1], password)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("mailstack: dovecot does not know %s yet: %w", addrs[len(addrs)-1], err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// writeUsers rewrites the passwd-file atomically; the caller holds mu (or
// owns ms alone).
func (ms *System) writeUsers() error {
	addrs := make([]string, 0, len(ms.users))
	for a := range ms.users {
		addrs = append(addrs, a)
	}
	sort.Strings(addrs)
	var b bytes.Buffer
	for _, a := range addrs {
		fmt.Fprintf(&b, "%s:{PLAIN}%s::::::\n", a, ms.users[a])
	}
	tmp := ms.Path("dovecot/users.tmp")
	if err := os.WriteFile(tmp, b.Bytes(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, ms.Path("dovecot/users"))
}

// Password is the password AddUsers registered for addr.
func (ms *System) Password(addr string) (string, bool) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	p, ok := ms.users[strings.ToLower(addr)]
	return p, ok
}

// imapCapsWithoutIdle is Dovecot 2.3's default post-login capability list
// less IDLE: clients that honour CAPABILITY fall back to polling.
const imapCapsWithoutIdle = "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE SORT SORT=DISPLAY THREAD=REFERENCES THREAD=REFS " +
	"THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL CATENATE UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 " +
	"CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH LIST-STATUS BINARY MOVE STATUS=SIZE LITERAL+"

func (ms *System) dovecotConf(uid, gid int) string {
	_, port, _ := net.SplitHostPort(ms.IMAPAddr)
	caps := ""
	if ms.opts.NoIdle {
		caps = "imap_capability = " + imapCapsWithoutIdle + "\n"
	}
	return fmt.Sprintf(`# helpdesk mailstack: a private Dovecot; all state under %[1]s
instance_name = helpdesk-mailstack-%[2]s
base_dir = %[1]s/dovecot/run
state_dir = %[1]s/dovecot/state
log_path = %[1]s/dovecot/dovecot.log
protocols = imap lmtp
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
# No delay after a failed login, and no per-IP auth penalty (anvil) either:
# with it, every login from 127.0.0.1 waits seconds after one wrong password.
auth_failure_delay = 0
login_trusted_networks = 127.0.0.0/8
mail_location = sdbox:~/mail
mail_uid = %[3]d
mail_gid = %[4]d
first_valid_uid = %[3]d
first_valid_gid = %[4]d
mail_fsync = never
default_internal_user = dovecot
default_login_user = dovenull
hostname = imap.e2e.localhost
postmaster_address = postmaster@e2e.localhost
recipient_delimiter = +
lmtp_save_to_detail_mailbox = no
verbose_proctitle = no
%[5]s
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%%u %[1]s/dovecot/users
}
userdb {
  driver = passwd-file
  args = username_format=%%u %[1]s/dovecot/users
  default_fields = uid=%[3]d gid=%[4]d home=%[1]s/mail/%%d/%%n
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = %[6]s
  }
  inet_listener imaps {
    port = 0
  }
}
service lmtp {
  unix_listener %[1]s/dovecot/lmtp {
    mode = 0666
  }
}
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
`, ms.Dir, filepath.Base(ms.Dir), uid, gid, caps, port)
}

func (ms *System) writePostfixConf(port int) error {
	d := ms.Dir
	main := fmt.Sprintf(`# helpdesk mailstack: a private Postfix; all state under %[1]s
compatibility_level = 3.6
queue_directory = %[1]s/postfix/queue
data_directory = %[1]s/postfix/data
maillog_file = %[1]s/postfix/maillog
maillog_file_prefixes = %[1]s
myhostname = mx.e2e.localhost
mydomain = e2e.localhost
myorigin = $myhostname
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions =
# Accept any recipient in a .test domain: Dovecot refuses unknown users at
# delivery, and Postfix bounces with a DSN to the envelope sender.
smtpd_reject_unlisted_recipient = no
virtual_mailbox_domains = regexp:%[1]s/postfix/conf/domains
virtual_mailbox_maps =
virtual_transport = lmtp:unix:%[1]s/dovecot/lmtp
recipient_delimiter = +
local_recipient_maps =
alias_maps =
alias_database =
# Nothing ever leaves the machine.
default_transport = error:5.7.1 mailstack: only .test domains are delivered
relay_transport = error:5.7.1 mailstack: only .test domains are delivered
smtp_dns_support_level = disabled
lmtp_host_lookup = native
smtpd_peername_lookup = no
biff = no
in_flow_delay = 0
delay_warning_time = 0
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 5s
smtputf8_enable = no
`, d)
	if ms.opts.Milter != "" {
		main += "smtpd_milters = " + ms.opts.Milter + "\nmilter_default_action = tempfail\n"
	}
	master := fmt.Sprintf(`127.0.0.1:%d inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
lmtp      unix  - - n - - lmtp
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
`, port)
	files := map[string]string{
		"postfix/conf/main.cf":   main,
		"postfix/conf/master.cf": master,
		"postfix/conf/domains":   "/\\.test$/ OK\n",
	}
	for name, content := range files {
		if err := os.WriteFile(ms.Path(name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// Tail returns the last n lines of a log file under the state directory.
func (ms *System) Tail(rel string, n int) string {
	b, err := os.ReadFile(ms.Path(rel))
	if err != nil {
		return fmt.Sprintf("(%s: %v)", rel, err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "--- " + rel + "\n" + strings.Join(lines, "\n")
}

// freePorts returns n TCP ports on 127.0.0.1 that were free a moment ago.
func freePorts(n int) ([]int, error) {
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// login logs in to Dovecot over IMAP as addr and logs out again.
func (ms *System) login(addr, password string) error {
	conn, err := net.DialTimeout("tcp", ms.IMAPAddr, 5*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		return err
	}
	r := bufio.NewReader(conn)
	if line, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(line, "* OK") {
		return fmt.Errorf("IMAP greeting %q: %v", line, err)
	}
	if _, err := fmt.Fprintf(conn, "a LOGIN %s %s\r\nb LOGOUT\r\n", imapQuote(addr), imapQuote(password)); err != nil {
		return err
	}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return fmt.Errorf("IMAP login %s: %w", addr, err)
		}
		if strings.HasPrefix(line, "a ") {
			if strings.HasPrefix(line, "a OK") {
				return nil
			}
			return fmt.Errorf("IMAP login %s: %s", addr, strings.TrimSpace(line))
		}
	}
}

func imapQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// PIDs returns the process IDs of Dovecot's and Postfix's master processes.
func (ms *System) PIDs() (dovecot, postfix int) {
	return ms.dovecot.Process.Pid, ms.postfix.Process.Pid
}

// LMTPSocket is Dovecot's LMTP socket: delivering there skips Postfix.
func (ms *System) LMTPSocket() string { return ms.Path("dovecot/lmtp") }
