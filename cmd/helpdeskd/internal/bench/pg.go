package main

import (
	"context"
	"database/sql"
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

	_ "github.com/lib/pq"
)

// pgServer is the PostgreSQL server the daemons under test use.
type pgServer struct {
	admin      string // URL of its postgres database
	postmaster int    // its postmaster's pid: the root of its process tree
	shared     bool   // other clients may use it: its CPU is not only ours
	cmd        *exec.Cmd
	dir        string
}

// startPrivatePG makes a throwaway cluster under base with the installed
// PostgreSQL binaries, run as the postgres user when we are root, on a free
// loopback port. Its process tree serves the benchmark alone, so its CPU is
// the daemon's doing.
func startPrivatePG(base string) (*pgServer, error) {
	bin, err := postgresBin()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(base, "pg-")
	if err != nil {
		return nil, err
	}
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("PostgreSQL refuses to run as root and there is no postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			return nil, err
		}
	}
	as := func(name string, args ...string) *exec.Cmd {
		c := exec.Command(filepath.Join(bin, name), args...)
		c.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGTERM}
		return c
	}
	data := filepath.Join(dir, "data")
	if out, err := as("initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	p := &pgServer{admin: fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port), dir: dir}
	p.cmd = as("postgres", "-D", data, "-p", strconv.Itoa(port), "-k", dir, "-c", "listen_addresses=127.0.0.1",
		"-c", "max_connections=300", "-c", "shared_buffers=128MB")
	logf, err := os.Create(filepath.Join(base, "postgres.log"))
	if err != nil {
		return nil, err
	}
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	p.postmaster = p.cmd.Process.Pid
	if err := waitPG(p.admin, 30*time.Second); err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

// sharedPG uses an existing server; the postmaster is the parent of our
// own backend.
func sharedPG(admin string) (*pgServer, error) {
	if err := waitPG(admin, 5*time.Second); err != nil {
		return nil, err
	}
	db, err := sql.Open("postgres", admin)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	var backend int
	if err := db.QueryRow(`SELECT pg_backend_pid()`).Scan(&backend); err != nil {
		return nil, err
	}
	p := &pgServer{admin: admin, shared: true}
	if pc, ok := readProcs()[backend]; ok {
		p.postmaster = pc.ppid // 0 (no CPU figures) when the server is not on this machine's pid namespace
	}
	return p, nil
}

func waitPG(admin string, patience time.Duration) error {
	db, err := sql.Open("postgres", admin)
	if err != nil {
		return err
	}
	defer db.Close()
	deadline := time.Now().Add(patience)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err = db.PingContext(ctx)
		cancel()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (p *pgServer) close() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGINT) // fast shutdown
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
	os.RemoveAll(p.dir)
}

// createDB makes a fresh database and returns its URL.
func (p *pgServer) createDB(name string) (string, error) {
	db, err := sql.Open("postgres", p.admin)
	if err != nil {
		return "", err
	}
	defer db.Close()
	if _, err := db.Exec(`DROP DATABASE IF EXISTS ` + name); err != nil {
		return "", err
	}
	if _, err := db.Exec(`CREATE DATABASE ` + name); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	u, err := url.Parse(p.admin)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	q := u.Query()
	if q.Get("sslmode") == "" {
		q.Set("sslmode", "disable")
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

func (p *pgServer) dropDB(name string) error {
	db, err := sql.Open("postgres", p.admin)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`)
	return err
}

// postgresBin finds initdb: on PATH, else Debian's newest
// /usr/lib/postgresql/<version>/bin.
func postgresBin() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	sort.Slice(matches, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(matches[i]))))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(matches[j]))))
		return vi > vj
	})
	if len(matches) == 0 {
		return "", errors.New("no PostgreSQL server binaries (initdb) found: install them, or pass -pg URL")
	}
	return strings.TrimSuffix(filepath.Dir(matches[0]), "/"), nil
}
