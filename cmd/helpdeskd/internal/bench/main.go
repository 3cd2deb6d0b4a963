// Command bench measures helpdeskd binaries side by side and prints the
// figures of issue 15 in one table: rows are figures, columns binaries.
//
//	go run ./cmd/helpdeskd/internal/bench [-quick] [-src old=/tmp/hd-old] [-bin new=bin/helpdeskd] ...
//
// For each binary, in turn (old, new, old, new, ... with -runs), it creates a
// database of its own, starts a private Postfix and Dovecot on 127.0.0.1
// (package mailstack: needs root), preloads the support INBOX with N
// generated mails and measures `helpdeskd serve` until every mail is
// committed and every notification sent; then the dispatcher alone; then,
// on the database grown to -big-cases open cases, ingest again, the admin
// commands and the idle CPU. It drives binaries through their CLI and
// HELPDESK_* environment only, so any commit's binary can be measured.
// PostgreSQL is a private throwaway cluster unless -pg names a server: on
// a shared server, others' load counts in PostgreSQL's CPU.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/helpdesk/helpdesk/cmd/helpdeskd/internal/mailstack"
)

// target is one binary under test, and the source tree it was built from
// (needed for -gobench).
type target struct {
	name, bin, src string
}

type config struct {
	targets   []target
	mails     []int
	runs      int
	bigCases  int
	bigMails  int
	dispatchN int
	idle      time.Duration
	pg        string
	gobench   bool
	benchtime string
	keep      bool
}

// namedPaths collects repeated name=PATH flags in the order given.
type namedPaths struct {
	order []string
	paths map[string]string
}

func (n *namedPaths) String() string { return fmt.Sprint(n.paths) }

func (n *namedPaths) Set(v string) error {
	name, path, ok := strings.Cut(v, "=")
	if !ok || !regexp.MustCompile(`^[a-zA-Z0-9_]+$`).MatchString(name) || path == "" {
		return fmt.Errorf("want NAME=PATH with NAME of letters, digits and _, got %q", v)
	}
	if n.paths == nil {
		n.paths = map[string]string{}
	}
	if _, dup := n.paths[name]; dup {
		return fmt.Errorf("%s given twice", name)
	}
	n.order = append(n.order, name)
	n.paths[name] = path
	return nil
}

func parseFlags(args []string) (*config, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var bins, srcs namedPaths
	fs.Var(&bins, "bin", "NAME=PATH: a helpdeskd binary to measure (repeatable; default: build ./cmd/helpdeskd as \"new\")")
	fs.Var(&srcs, "src", "NAME=DIR: the source tree of NAME; without -bin NAME it is built from there (repeatable)")
	mails := fs.String("mails", "2000,10000", "INBOX sizes for the serve scenario, comma-separated; empty: none")
	cfg := &config{}
	fs.IntVar(&cfg.runs, "runs", 1, "runs per binary, alternating binaries; the table shows medians")
	fs.IntVar(&cfg.bigCases, "big-cases", 200000, "open cases of the large database (0: skip that scenario)")
	fs.IntVar(&cfg.bigMails, "big-mails", 2000, "mails ingested into the large database")
	fs.IntVar(&cfg.dispatchN, "dispatch", 2000, "notifications queued for the dispatcher alone (0: skip)")
	fs.DurationVar(&cfg.idle, "idle", 30*time.Second, "idle CPU window; also the daemon's timer interval, so one timer pass falls in it")
	fs.StringVar(&cfg.pg, "pg", "", "PostgreSQL server URL (database postgres, may CREATE DATABASE); empty: a private throwaway cluster")
	fs.BoolVar(&cfg.gobench, "gobench", false, "also run the Go benchmarks IMAPToPostgres|IngestSmall|Dispatch in each -src tree")
	fs.StringVar(&cfg.benchtime, "benchtime", "1x", "-benchtime of the Go benchmarks")
	fs.BoolVar(&cfg.keep, "keep", false, "keep the state directory (logs, mail system, databases are still dropped)")
	quick := fs.Bool("quick", false, "a few minutes: 2000 mails, 50,000 big cases, 1000 mails into them, 1000 notifications")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if *quick {
		for name, v := range map[string]string{"mails": "2000", "big-cases": "50000", "big-mails": "1000", "dispatch": "1000"} {
			if !set[name] {
				_ = fs.Set(name, v)
			}
		}
	}
	for _, f := range strings.Split(*mails, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 10 {
			return nil, fmt.Errorf("-mails: %q is not a count of at least 10", f)
		}
		cfg.mails = append(cfg.mails, n)
	}
	if cfg.runs < 1 || cfg.bigMails < 10 || cfg.idle <= 0 {
		return nil, errors.New("-runs must be ≥ 1, -big-mails ≥ 10, -idle > 0")
	}
	if len(bins.order) == 0 && len(srcs.order) == 0 {
		srcs.Set("new=.")
	}
	seen := map[string]bool{}
	for _, name := range append(bins.order, srcs.order...) {
		if !seen[name] {
			seen[name] = true
			cfg.targets = append(cfg.targets, target{name: name, bin: bins.paths[name], src: srcs.paths[name]})
		}
	}
	return cfg, nil
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		os.Exit(2)
	}
	if err := run(cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench %s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func run(cfg *config, out io.Writer) error {
	dir, err := os.MkdirTemp("", "hdbench-")
	if err != nil {
		return err
	}
	if err := os.Chmod(dir, 0o755); err != nil { // Postfix, Dovecot and PostgreSQL drop privileges
		return err
	}
	if cfg.keep {
		logf("state kept in %s", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	for i, t := range cfg.targets {
		if t.bin == "" {
			if cfg.targets[i].bin, err = build(t, dir); err != nil {
				return err
			}
		}
	}
	res := newResults()
	if cfg.gobench {
		for _, t := range cfg.targets {
			if err := goBench(t, cfg.benchtime, res); err != nil {
				res.note("%s: go benchmarks: %v", t.name, err)
			}
		}
	}
	if len(cfg.mails) > 0 {
		if err := serveAll(cfg, dir, res); err != nil {
			return err
		}
	}
	var names []string
	for _, t := range cfg.targets {
		names = append(names, t.name)
	}
	fmt.Fprintln(out)
	res.print(out, names)
	return nil
}

// build compiles ./cmd/helpdeskd of a target's source tree.
func build(t target, dir string) (string, error) {
	if t.src == "" {
		return "", fmt.Errorf("%s: neither -bin nor -src", t.name)
	}
	bin, err := filepath.Abs(filepath.Join(dir, "helpdeskd-"+t.name))
	if err != nil {
		return "", err
	}
	logf("building %s from %s", t.name, t.src)
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/helpdeskd")
	cmd.Dir = t.src
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("%s: go build in %s: %v\n%s", t.name, t.src, err, out)
	}
	return bin, nil
}

// serveAll runs the serve scenarios: per run and INBOX size, each binary in
// turn, so that the machine's other load falls on all of them alike. The
// first size also runs the dispatcher and the large database scenarios.
func serveAll(cfg *config, dir string, res *results) error {
	if _, _, _, err := mailstack.Binaries(); err != nil {
		return err
	}
	var pg *pgServer
	var err error
	if cfg.pg == "" {
		pg, err = startPrivatePG(dir)
	} else {
		pg, err = sharedPG(cfg.pg)
		res.note("PostgreSQL at %s is shared: its CPU includes other clients' work", cfg.pg)
	}
	if err != nil {
		return fmt.Errorf("PostgreSQL: %w", err)
	}
	defer pg.close()
	for r := range cfg.runs {
		for i, n := range cfg.mails {
			for _, t := range cfg.targets {
				logf("run %d/%d: %s with %d mails", r+1, cfg.runs, t.name, n)
				if err := serve(cfg, t, pg, dir, n, i == 0, int64(r+1), res); err != nil {
					logf("%s, %d mails: %v", t.name, n, err)
					res.note("%s, run %d, %d mails: %v", t.name, r+1, n, firstLine(err))
				}
			}
		}
	}
	return nil
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

// serve runs one binary's scenarios on a stack of its own.
func serve(cfg *config, t target, pg *pgServer, dir string, n int, more bool, seed int64, res *results) error {
	add := func(label string, v float64) { res.add(t.name, label, v) }
	now := time.Now()
	a := Generate(n, "a", supportAddr, seed, now)
	senders := a.Senders()
	var b Batch
	big := more && cfg.bigCases > 0
	if big {
		b = Generate(cfg.bigMails, "b", supportAddr, seed+1000, now)
		senders = append(senders, b.Senders()...)
	}
	sdir, err := os.MkdirTemp(dir, t.name+"-")
	if err != nil {
		return err
	}
	if err := os.Chmod(sdir, 0o755); err != nil {
		return err
	}
	tlog := func(format string, args ...any) { logf(t.name+": "+format, args...) }
	s, err := newStack(t.bin, pg, sdir, fmt.Sprintf("hdbench_%d_%s_%d", os.Getpid(), t.name, n), cfg.idle, senders, tlog)
	if err != nil {
		return err
	}
	defer s.close()
	empty, err := s.ingest(a, fmt.Sprintf("serve %d mails", n), add)
	if err != nil {
		return err
	}
	if more && cfg.dispatchN > 0 {
		if err := s.dispatch(cfg.dispatchN, fmt.Sprintf("dispatch %d", cfg.dispatchN), add); err != nil {
			return err
		}
	}
	if big {
		if err := s.bigDatabase(cfg, b, empty, add); err != nil {
			return err
		}
	}
	return s.stop()
}

// bigDatabase grows the database to cfg.bigCases open cases and measures
// ingest, the admin commands and idle CPU on it.
func (s *stack) bigDatabase(cfg *config, b Batch, emptyRate float64, add report) error {
	if err := s.stop(); err != nil {
		return err
	}
	whyID, err := s.grow(cfg.bigCases)
	if err != nil {
		return err
	}
	// One timer interval of serve first: the first pass over rows it has
	// never seen is an upgrade's one-off, not the steady state measured.
	if err := s.start(); err != nil {
		return err
	}
	time.Sleep(cfg.idle + 5*time.Second)
	prefix := fmt.Sprintf("%dk cases", cfg.bigCases/1000)
	rate, err := s.ingest(b, fmt.Sprintf("%s, %d mails", prefix, len(b.Mails)), add)
	if err != nil {
		return err
	}
	if emptyRate > 0 {
		add(prefix+": ingest rate / empty database's (want ≥ 0.8)", rate/emptyRate)
	}
	if err := s.cliTimes(prefix, whyID, add); err != nil {
		return err
	}
	return s.idle(cfg.idle, prefix, add)
}
