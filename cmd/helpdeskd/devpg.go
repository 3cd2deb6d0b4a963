package main

import (
	"context"
	"database/sql"
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
	"syscall"
	"time"

	"github.com/lib/pq"
)

// devCluster is a throwaway PostgreSQL cluster under a data directory, made
// from the installed PostgreSQL binaries. It keeps its data between runs.
type devCluster struct {
	dir    string // the cluster's data directory
	bin    string // directory of initdb, pg_ctl, postgres
	port   int
	cred   *syscall.Credential // run as postgres when we are root
	logf   func(format string, args ...any)
	reused bool // it was already running; leave it running
}

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

func newDevCluster(dir string, logf func(string, ...any)) (*devCluster, error) {
	bin, err := findPostgresBin()
	if err != nil {
		return nil, err
	}
	c := &devCluster{dir: dir, bin: bin, logf: logf}
	if os.Geteuid() == 0 {
		// PostgreSQL refuses to run as root.
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root needs a postgres user to own the dev cluster: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		c.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	return c, nil
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
// 127.0.0.1 (or reuses a cluster already running from this directory).
func (c *devCluster) Start(ctx context.Context) error {
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
		c.logf("reusing the PostgreSQL already running from %s on port %d", c.dir, port)
		return nil
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

// Stop shuts the cluster down, unless it was running before Start.
func (c *devCluster) Stop() error {
	if c.reused || c.port == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return c.run(ctx, "pg_ctl", "-D", c.dir, "-w", "-m", "fast", "stop")
}

// Remove stops a cluster running on the directory and deletes it.
func (c *devCluster) Remove(ctx context.Context) error {
	if _, ok := c.runningPort(ctx); ok {
		if err := c.run(ctx, "pg_ctl", "-D", c.dir, "-w", "-m", "fast", "stop"); err != nil {
			return err
		}
	}
	return os.RemoveAll(c.dir)
}
