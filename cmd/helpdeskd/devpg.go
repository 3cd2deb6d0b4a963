package main

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/lib/pq"
)

// devCluster is a throwaway PostgreSQL cluster made from the installed
// PostgreSQL binaries for a sandbox state directory. It keeps its data
// between runs: in <state>/postgres, or, when the cluster must run as the
// postgres user (we are root) and that user cannot reach the state
// directory (a checkout under a 0700 home), in a directory of its own under
// /var/tmp keyed by the state directory's path.
type devCluster struct {
	state string // the sandbox's state directory
	dir   string // the cluster's data directory (set by Start or Remove)
	bin   string // directory of initdb, pg_ctl, postgres
	port  int
	cred  *syscall.Credential // run as postgres when we are root
	gids  []uint32            // the postgres user's groups
	logf  func(format string, args ...any)
	// reused: a cluster was already running from the directory (left by a
	// dev that crashed); Stop stops it all the same.
	reused bool
}

// devAltBase is where clusters live that the postgres user could not reach
// in the state directory. A variable for tests.
var devAltBase = "/var/tmp"

// findPostgresBin locates initdb and pg_ctl: on PATH, else Debian's
// /usr/lib/postgresql/<version>/bin (newest version).
func findPostgresBin() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if _, err := exec.LookPath("pg_ctl"); err == nil {
			if r, err := filepath.EvalSymlinks(p); err == nil {
				return filepath.Dir(r), nil
			}
			return filepath.Dir(p), nil
		}
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	sort.Slice(matches, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(matches[i]))))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(matches[j]))))
		return vi > vj
	})
	if len(matches) > 0 {
		return filepath.Dir(matches[0]), nil
	}
	return "", errors.New("no PostgreSQL server binaries found (initdb, pg_ctl): install them (Debian: apt-get install postgresql) or set HELPDESK_DATABASE_URL")
}

// newDevCluster prepares the cluster of the sandbox state directory state
// (an absolute path); nothing runs until Start.
func newDevCluster(state string, logf func(string, ...any)) (*devCluster, error) {
	bin, err := findPostgresBin()
	if err != nil {
		return nil, err
	}
	c := &devCluster{state: state, bin: bin, logf: logf}
	if os.Geteuid() == 0 {
		// PostgreSQL refuses to run as root.
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root needs a postgres user to own the dev cluster: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		c.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		c.gids = []uint32{uint32(gid)}
		if ids, err := u.GroupIds(); err == nil {
			for _, id := range ids {
				if g, err := strconv.Atoi(id); err == nil {
					c.gids = append(c.gids, uint32(g))
				}
			}
		}
	}
	return c, nil
}

// inTreeDir and altDir are the two places the cluster's data can be.
func (c *devCluster) inTreeDir() string { return filepath.Join(c.state, "postgres") }

func (c *devCluster) altDir() string {
	sum := sha256.Sum256([]byte(c.state))
	return filepath.Join(devAltBase, "helpdesk-dev-"+hex.EncodeToString(sum[:8]), "postgres")
}

// locate picks the data directory: the one already holding a cluster, else
// the state directory when whoever runs PostgreSQL can reach it, else altDir.
func (c *devCluster) locate() string {
	if c.cred == nil {
		return c.inTreeDir()
	}
	for _, d := range []string{c.inTreeDir(), c.altDir()} {
		if _, err := os.Stat(filepath.Join(d, "PG_VERSION")); err == nil {
			return d
		}
	}
	if reachable(c.state, c.cred.Uid, c.gids) {
		return c.inTreeDir()
	}
	return c.altDir()
}

// reachable reports whether a process of uid and groups gids can enter
// every directory from / down to path (the deepest part that exists).
func reachable(path string, uid uint32, gids []uint32) bool {
	return reachableWith(os.Stat, path, uid, gids)
}

func reachableWith(stat func(string) (os.FileInfo, error), path string, uid uint32, gids []uint32) bool {
	path = filepath.Clean(path)
	for {
		if _, err := stat(path); err == nil || path == filepath.Dir(path) {
			break
		}
		path = filepath.Dir(path)
	}
	for p := path; ; p = filepath.Dir(p) {
		fi, err := stat(p)
		if err != nil {
			return false
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			return true // not a Unix file system: let initdb say
		}
		mode := fi.Mode().Perm()
		var x bool
		switch {
		case uid == 0:
			x = true
		case st.Uid == uid:
			x = mode&0o100 != 0
		case containsGid(gids, st.Gid):
			x = mode&0o010 != 0
		default:
			x = mode&0o001 != 0
		}
		if !x {
			return false
		}
		if p == filepath.Dir(p) {
			return true
		}
	}
}

func containsGid(gids []uint32, g uint32) bool {
	for _, x := range gids {
		if x == g {
			return true
		}
	}
	return false
}

// prepareAltParent makes altDir's parent: ours (we are root), not a
// symbolic link, traversable.
func (c *devCluster) prepareAltParent() error {
	parent := filepath.Dir(c.dir)
	if err := os.Mkdir(parent, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return err
	}
	fi, err := os.Lstat(parent)
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !fi.IsDir() || !ok || st.Uid != uint32(os.Geteuid()) {
		return fmt.Errorf("%s is not a directory of ours; remove it", parent)
	}
	if err := os.Chmod(parent, 0o755); err != nil {
		return err
	}
	// For whoever finds it there.
	return os.WriteFile(filepath.Join(parent, "README"), []byte("PostgreSQL data of the helpdesk sandbox (helpdeskd dev) whose state is in\n"+c.state+"\n`helpdeskd dev --reset` there removes it.\n"), 0o644)
}

func (c *devCluster) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(c.bin, name), args...)
	cmd.Dir = c.dir
	if c.cred != nil {
		cmd.Dir = "/"
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	}
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8")
	return cmd
}

func (c *devCluster) run(ctx context.Context, name string, args ...string) error {
	out, err := c.command(ctx, name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w\n%s", name, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// Start initialises the cluster on first use and starts it on a free port on
// 127.0.0.1, or reuses a cluster already running from its directory.
func (c *devCluster) Start(ctx context.Context) error {
	c.dir = c.locate()
	if c.dir != c.inTreeDir() {
		if err := c.prepareAltParent(); err != nil {
			return fmt.Errorf("dev cluster directory: %w", err)
		}
		c.logf("the postgres user cannot reach %s: keeping the PostgreSQL data in %s", c.state, c.dir)
	}
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return fmt.Errorf("dev cluster directory: %w", err)
	}
	if c.cred != nil {
		if err := os.Chown(c.dir, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
			return fmt.Errorf("dev cluster directory: %w", err)
		}
	}
	if _, err := os.Stat(filepath.Join(c.dir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		c.logf("initialising a PostgreSQL cluster in %s", c.dir)
		if err := c.run(ctx, "initdb", "-D", c.dir, "-U", "helpdesk", "--auth=trust", "-E", "UTF8", "--no-locale"); err != nil {
			return fmt.Errorf("initdb (is %s readable by the postgres user?): %w", c.dir, err)
		}
	}
	if port, ok := c.runningPort(ctx); ok {
		c.port, c.reused = port, true
		c.logf("reusing the PostgreSQL left running from %s on port %d (it is stopped on exit)", c.dir, port)
		return c.ensureDatabase(ctx)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	c.port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -c unix_socket_directories=''", c.port)
	if err := c.run(ctx, "pg_ctl", "-D", c.dir, "-l", filepath.Join(c.dir, "server.log"), "-w", "-t", "60", "-o", opts, "start"); err != nil {
		return err
	}
	return c.ensureDatabase(ctx)
}

// runningPort reads the port of a postmaster already running on the directory.
func (c *devCluster) runningPort(ctx context.Context) (int, bool) {
	if c.command(ctx, "pg_ctl", "-D", c.dir, "status").Run() != nil {
		return 0, false
	}
	b, err := os.ReadFile(filepath.Join(c.dir, "postmaster.pid"))
	if err != nil {
		return 0, false
	}
	lines := strings.Split(string(b), "\n")
	if len(lines) < 4 {
		return 0, false
	}
	port, err := strconv.Atoi(strings.TrimSpace(lines[3]))
	return port, err == nil
}

// Running reports whether a postmaster runs from the cluster's directory.
func (c *devCluster) Running(ctx context.Context) bool {
	_, ok := c.runningPort(ctx)
	return ok
}

func (c *devCluster) ensureDatabase(ctx context.Context) error {
	db, err := sql.Open("postgres", c.url("postgres"))
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, `CREATE DATABASE helpdesk`)
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code == "42P04" { // duplicate_database
		return nil
	}
	return err
}

func (c *devCluster) url(db string) string {
	return fmt.Sprintf("postgres://helpdesk@127.0.0.1:%d/%s?sslmode=disable", c.port, db)
}

// URL is the helpdesk database's connection URL.
func (c *devCluster) URL() string { return c.url("helpdesk") }

// Stop shuts the cluster down, the one Start found running included: the
// state directory's lock (lockState) makes sure no other dev uses it.
func (c *devCluster) Stop() error {
	if c.port == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return c.run(ctx, "pg_ctl", "-D", c.dir, "-w", "-m", "fast", "stop")
}

// Remove stops a cluster running from either place and deletes both.
func (c *devCluster) Remove(ctx context.Context) error {
	for _, d := range []string{c.inTreeDir(), c.altDir()} {
		c.dir = d
		if _, err := os.Stat(d); err != nil {
			continue
		}
		if c.Running(ctx) {
			if err := c.run(ctx, "pg_ctl", "-D", c.dir, "-w", "-m", "fast", "stop"); err != nil {
				return err
			}
		}
		if err := os.RemoveAll(d); err != nil {
			return err
		}
		if d == c.altDir() {
			if err := os.RemoveAll(filepath.Dir(d)); err != nil {
				return err
			}
		}
	}
	c.dir = ""
	return nil
}

// lockState takes the state directory's lock for the life of a dev, so
// that a second dev on the same state fails at once instead of sharing (and
// then stopping) the first one's PostgreSQL.
func lockState(dir string) (unlock func(), err error) {
	path := filepath.Join(dir, "lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		b, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("another helpdeskd dev (pid %s) is using %s: stop it first, or use --data for another sandbox", strings.TrimSpace(string(b)), dir)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	f.Truncate(0)
	f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return func() { f.Close() }, nil
}

// createDatabaseIfMissing creates the database a postgres:// URL names when
// the server says it does not exist (connecting to the server's "postgres"
// database, else template1). It reports whether it created it.
func createDatabaseIfMissing(ctx context.Context, dbURL string) (bool, error) {
	err := pingDatabase(ctx, dbURL)
	var pqErr *pq.Error
	if err == nil || !errors.As(err, &pqErr) || pqErr.Code != "3D000" { // invalid_catalog_name
		return false, err
	}
	u, perr := url.Parse(dbURL)
	name := ""
	if perr == nil {
		name = strings.TrimPrefix(u.Path, "/")
	}
	if perr != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || name == "" {
		return false, fmt.Errorf("%w (create it, or give a postgres:// URL naming it to have it created)", err)
	}
	var lastErr error
	for _, maint := range []string{"postgres", "template1"} {
		mu := *u
		mu.Path = "/" + maint
		db, err := sql.Open("postgres", mu.String())
		if err != nil {
			return false, err
		}
		_, err = db.ExecContext(ctx, "CREATE DATABASE "+pq.QuoteIdentifier(name))
		db.Close()
		if errors.As(err, &pqErr) && pqErr.Code == "42P04" { // created meanwhile
			return false, nil
		}
		if err == nil {
			return true, nil
		}
		lastErr = err
		if !errors.As(err, &pqErr) || pqErr.Code != "3D000" {
			break
		}
	}
	return false, fmt.Errorf("create database %s: %w", name, lastErr)
}

func pingDatabase(ctx context.Context, dbURL string) error {
	db, err := sql.Open("postgres", dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return db.PingContext(ctx)
}
