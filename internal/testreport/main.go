// Command testreport turns `go test -json` into what a person wants to read
// while `make test` runs: one line per package as it finishes, the output of
// every failed test, a heartbeat while a slow package runs, and at the end a
// summary that says loudly which suites were skipped and why (a missing
// PostgreSQL, Postfix/Dovecot, ...).
//
//	testreport go test -race -json ./...   runs the command and reads its output
//	go test -json ./... | testreport       reads standard input
//
// TESTREPORT_JSON=file keeps a copy of the raw events (timing per test).
//
// The exit status is 1 when any test or build failed, when the command
// failed, or when a package started but never reported a result; otherwise
// 0. Standard library only.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
)

// event is one line of `go test -json` (cmd/test2json), including the
// build events of Go ≥ 1.24.
type event struct {
	Time        time.Time
	Action      string
	Package     string
	Test        string
	Elapsed     float64
	Output      string
	ImportPath  string
	FailedBuild string
}

func main() { os.Exit(run()) }

func run() int {
	r := newReport(os.Stdout, os.Getenv("CI") == "true")
	if path := os.Getenv("TESTREPORT_JSON"); path != "" {
		// A copy of the raw events, for timing per test.
		f, err := os.Create(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, "testreport:", err)
			return 1
		}
		defer f.Close()
		r.raw = f
	}
	code := 0
	if len(os.Args) > 1 {
		code = runCommand(r, os.Args[1:])
	} else {
		r.read(os.Stdin)
	}
	if c := r.finish(); c != 0 || code != 0 {
		return 1
	}
	return 0
}

// runCommand starts the command with its standard output read as events and
// its standard error passed through, and returns its exit status.
func runCommand(r *report, args []string) int {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stderr = os.Stdin, os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		fmt.Fprintln(os.Stderr, "testreport:", err)
		return 1
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "testreport:", err)
		return 1
	}
	r.read(out)
	if err := cmd.Wait(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			r.commandFailed = fmt.Sprintf("%s exited with status %d", strings.Join(args, " "), exit.ExitCode())
			return exit.ExitCode()
		}
		fmt.Fprintln(os.Stderr, "testreport:", err)
		return 1
	}
	return 0
}

type testKey struct{ pkg, test string }

type testState struct {
	output []string // lines attributed to the test, framing lines excluded
	result string   // pass, fail, skip; "" while running
	parent bool     // has subtests
	took   float64
}

type pkgState struct {
	name       string
	started    time.Time
	done       bool
	result     string
	elapsed    float64
	tests      int // top-level tests with a result
	failed     int
	skipped    int
	output     []string // package-level output (TestMain, panics, build output)
	buildError bool
}

// report accumulates the events; the mutex is for the heartbeat.
type report struct {
	mu            sync.Mutex
	w             io.Writer
	ci            bool
	began         time.Time
	lastPrint     time.Time
	pkgs          map[string]*pkgState
	order         []string
	tests         map[testKey]*testState
	testOrder     []testKey
	builds        map[string][]string // import path → build output
	builtShown    map[string]bool
	failures      []string // one line each, for the summary
	commandFailed string
	raw           io.Writer // TESTREPORT_JSON
	stop          chan struct{}
	stopped       sync.WaitGroup
}

func newReport(w io.Writer, ci bool) *report {
	return &report{w: w, ci: ci, began: time.Now(), lastPrint: time.Now(), pkgs: map[string]*pkgState{},
		tests: map[testKey]*testState{}, builds: map[string][]string{}, builtShown: map[string]bool{}, stop: make(chan struct{})}
}

func (r *report) printf(format string, args ...any) {
	fmt.Fprintf(r.w, format, args...)
	r.lastPrint = time.Now()
}

const heartbeat = 20 * time.Second

// read consumes the event stream; a line that is not JSON is printed as is.
func (r *report) read(in io.Reader) {
	r.stopped.Add(1)
	go r.beat()
	if r.raw != nil {
		in = io.TeeReader(in, r.raw)
	}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			r.mu.Lock()
			r.printf("%s\n", line)
			r.mu.Unlock()
			continue
		}
		r.mu.Lock()
		r.handle(e)
		r.mu.Unlock()
	}
	close(r.stop)
	r.stopped.Wait()
}

// beat says what is still running when nothing was printed for a while, so
// that a slow first build or a long package never looks like a hang.
func (r *report) beat() {
	defer r.stopped.Done()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
		}
		r.mu.Lock()
		if time.Since(r.lastPrint) >= heartbeat {
			var running []string
			for _, name := range r.order {
				p := r.pkgs[name]
				if !p.done && !p.started.IsZero() {
					running = append(running, fmt.Sprintf("%s (%s, %d tests done)", short(name), since(p.started), p.tests))
				}
			}
			if len(running) == 0 {
				r.printf("     ... building (%s so far)\n", since(r.began))
			} else {
				r.printf("     ... still running: %s\n", strings.Join(running, ", "))
			}
		}
		r.mu.Unlock()
	}
}

func since(t time.Time) string { return time.Since(t).Round(time.Second).String() }

func (r *report) pkg(name string) *pkgState {
	p, ok := r.pkgs[name]
	if !ok {
		p = &pkgState{name: name}
		r.pkgs[name] = p
		r.order = append(r.order, name)
	}
	return p
}

var framing = regexp.MustCompile(`^(=== (RUN|PAUSE|CONT|NAME)|--- (PASS|FAIL|SKIP):|\s+--- (PASS|FAIL|SKIP):)`)

func (r *report) handle(e event) {
	switch e.Action {
	case "build-output":
		r.builds[e.ImportPath] = append(r.builds[e.ImportPath], e.Output)
		return
	case "build-fail":
		return
	}
	if e.Package == "" {
		return
	}
	p := r.pkg(e.Package)
	if e.Test == "" {
		switch e.Action {
		case "start":
			p.started = e.Time
			if p.started.IsZero() {
				p.started = time.Now()
			}
		case "output":
			p.output = append(p.output, e.Output)
		case "pass", "fail", "skip":
			p.done, p.result, p.elapsed = true, e.Action, e.Elapsed
			if e.FailedBuild != "" {
				p.buildError = true
				if r.builtShown[e.FailedBuild] {
					p.output = []string{"(the build output of " + e.FailedBuild + " is above)\n"}
				} else {
					p.output = append(r.builds[e.FailedBuild], p.output...)
					r.builtShown[e.FailedBuild] = true
				}
			}
			r.packageDone(p)
		}
		return
	}
	k := testKey{e.Package, e.Test}
	ts, ok := r.tests[k]
	if !ok {
		ts = &testState{}
		r.tests[k] = ts
		r.testOrder = append(r.testOrder, k)
		if i := strings.LastIndexByte(e.Test, '/'); i >= 0 {
			if parent, ok := r.tests[testKey{e.Package, e.Test[:i]}]; ok {
				parent.parent = true
			}
		}
	}
	switch e.Action {
	case "output":
		if !framing.MatchString(e.Output) {
			ts.output = append(ts.output, e.Output)
		}
	case "pass", "fail", "skip":
		ts.result, ts.took = e.Action, e.Elapsed
		if !strings.Contains(e.Test, "/") {
			p.tests++
			switch e.Action {
			case "fail":
				p.failed++
			case "skip":
				p.skipped++
			}
		}
		if e.Action == "fail" {
			r.testFailed(e.Package, e.Test, ts)
		}
	}
}

// testFailed prints a failed test's output at once. A parent whose only
// failures are its subtests' adds nothing: they were printed already.
func (r *report) testFailed(pkg, test string, ts *testState) {
	body := strings.TrimRight(strings.Join(ts.output, ""), "\n ")
	if ts.parent && strings.TrimSpace(body) == "" {
		return
	}
	r.printf("--- FAIL: %s %s (%.1fs)\n", short(pkg), test, ts.took)
	if body != "" {
		r.printf("%s\n", body)
	}
	r.failures = append(r.failures, fmt.Sprintf("%s %s: %s", short(pkg), test, firstProblem(ts.output)))
}

// firstProblem is the first line of a failure that says what went wrong
// (file.go:NN: ...), or the first line at all.
var located = regexp.MustCompile(`^\s*[\w.-]+\.go:\d+: `)

func firstProblem(lines []string) string {
	first := ""
	for _, l := range lines {
		s := strings.TrimSpace(l)
		if s == "" {
			continue
		}
		if located.MatchString(l) {
			return clip(s)
		}
		if first == "" {
			first = s
		}
	}
	if first == "" {
		return "(no output)"
	}
	return clip(first)
}

func clip(s string) string {
	if len(s) > 160 {
		return s[:157] + "..."
	}
	return s
}

const modulePrefix = "github.com/helpdesk/helpdesk/"

func short(pkg string) string {
	if s := strings.TrimPrefix(pkg, modulePrefix); s != pkg {
		return s
	}
	return pkg
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

func (r *report) packageDone(p *pkgState) {
	counts := plural(p.tests, "test", "tests")
	if p.skipped > 0 {
		counts += fmt.Sprintf(", %d skipped", p.skipped)
	}
	switch {
	case p.buildError:
		r.printf("FAIL %-40s build failed\n%s", short(p.name), strings.Join(p.output, ""))
		r.failures = append(r.failures, fmt.Sprintf("%s: build failed", short(p.name)))
	case p.result == "fail":
		r.printf("FAIL %-40s %6.1fs  (%s, %d failed)\n", short(p.name), p.elapsed, counts, p.failed)
		if p.failed == 0 {
			// Not a test's failure: a panic, TestMain, a timeout. Show the package's own output.
			if out := strings.TrimRight(strings.Join(p.output, ""), "\n"); out != "" {
				r.printf("%s\n", out)
			}
			r.failures = append(r.failures, fmt.Sprintf("%s: %s", short(p.name), firstProblem(p.output)))
		}
	case p.tests == 0 && p.result == "skip":
		r.printf("?    %-40s         (no test files)\n", short(p.name))
	case p.tests == 0:
		r.printf("ok   %-40s %6.1fs  (no tests)\n", short(p.name), p.elapsed)
	default:
		r.printf("ok   %-40s %6.1fs  (%s)\n", short(p.name), p.elapsed, counts)
	}
}

// skipGroup is one reason tests were skipped for.
type skipGroup struct {
	need, hint string
	tests      int
	pkgs       map[string]bool
	reason     string
}

// needs recognises the skips that mean "this machine lacks something",
// which the summary announces loudly; other skips are listed quietly.
var needs = []struct {
	match, need, hint string
}{
	{"pgtest: PostgreSQL", "need PostgreSQL",
		"start it (Debian: apt-get install postgresql) or set HELPDESK_TEST_DATABASE_URL; .ci/run sets one up"},
	{"e2e: ", "need Postfix, Dovecot and root (the end-to-end suite)",
		"apt-get install postfix dovecot-imapd dovecot-lmtpd and run as root; .ci/run sets this up"},
	{"corpus ", "need the shared mail corpora (../shared/corpora beside the checkout)",
		"check out the shared corpora beside the repository"},
}

// skipReason is what a skipped test said, without the file:line prefix.
func skipReason(lines []string) string {
	for _, l := range lines {
		s := located.ReplaceAllString(l, "")
		if s = strings.TrimSpace(s); s != "" {
			return s
		}
	}
	return "(no reason given)"
}

// finish prints the summary and returns the exit status it implies.
func (r *report) finish() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	var loud, quiet []*skipGroup
	byNeed := map[string]*skipGroup{}
	byReason := map[string]*skipGroup{}
	total, failed := 0, 0
	for _, k := range r.testOrder {
		ts := r.tests[k]
		if ts.result != "" && !strings.Contains(k.test, "/") {
			total++
		}
		if ts.result != "skip" {
			continue
		}
		reason := skipReason(ts.output)
		var g *skipGroup
		for _, n := range needs {
			if strings.Contains(reason, n.match) {
				if g = byNeed[n.need]; g == nil {
					g = &skipGroup{need: n.need, hint: n.hint, pkgs: map[string]bool{}, reason: reason}
					byNeed[n.need] = g
					loud = append(loud, g)
				}
				break
			}
		}
		if g == nil {
			if g = byReason[reason]; g == nil {
				g = &skipGroup{reason: reason, pkgs: map[string]bool{}}
				byReason[reason] = g
				quiet = append(quiet, g)
			}
		}
		g.tests++
		g.pkgs[short(k.pkg)] = true
	}
	var unfinished []string
	for _, name := range r.order {
		if p := r.pkgs[name]; !p.done {
			unfinished = append(unfinished, short(name))
		}
	}
	if len(unfinished) > 0 {
		r.failures = append(r.failures, "no result (killed or crashed?): "+strings.Join(unfinished, ", "))
	}
	if r.commandFailed != "" && len(r.failures) == 0 {
		r.failures = append(r.failures, r.commandFailed)
	}
	failed = len(r.failures)

	r.printf("\n")
	if len(quiet) > 0 {
		for _, g := range quiet {
			r.printf("skipped %s in %s: %s\n", plural(g.tests, "test", "tests"), keys(g.pkgs), g.reason)
		}
	}
	if len(loud) > 0 {
		bar := strings.Repeat("!", 78)
		r.printf("%s\n", bar)
		for _, g := range loud {
			r.printf("SKIPPED: %s %s; %s\n", plural(g.tests, "test", "tests"), g.need, g.hint)
			r.printf("         in %s\n         because: %s\n", keys(g.pkgs), clip(g.reason))
		}
		r.printf("These tests did NOT run: a green result here does not cover them.\n%s\n", bar)
	}
	took := since(r.began)
	if failed > 0 {
		r.printf("FAILED (%s, %s):\n", plural(failed, "failure", "failures"), took)
		for _, f := range r.failures {
			r.printf("  %s\n", f)
		}
		return 1
	}
	r.printf("PASS: %s in %s, %s\n", plural(total, "test", "tests"), plural(len(r.order), "package", "packages"), took)
	return 0
}

func keys(m map[string]bool) string {
	var s []string
	for k := range m {
		s = append(s, k)
	}
	sort.Strings(s)
	return strings.Join(s, ", ")
}
