package main

import (
	"fmt"
	"os/exec"
	"strconv"
	"strings"
)

// goBenchPattern selects the Go benchmarks: IMAP to PostgreSQL on
// the in-process IMAP server, ingest of small mails, the dispatcher.
const goBenchPattern = "IMAPToPostgres|IngestSmall|Dispatch"

// goBench runs the Go benchmarks in a target's source tree and reports
// every metric of every benchmark line.
func goBench(t target, benchtime string, res *results) error {
	if t.src == "" {
		return fmt.Errorf("no source tree (-src %s=DIR)", t.name)
	}
	logf("%s: go test -bench '%s' -benchtime %s in %s", t.name, goBenchPattern, benchtime, t.src)
	cmd := exec.Command("go", "test", "-run", "^$", "-bench", goBenchPattern, "-benchtime", benchtime, "./cmd/helpdeskd", "./helpdesk")
	cmd.Dir = t.src
	out, err := cmd.CombinedOutput()
	lines := parseBench(string(out))
	own := map[string]bool{} // benchmarks reporting a metric of their own: ns/op of one run says little more
	for _, l := range lines {
		own[l.name] = own[l.name] || l.unit != "ns/op"
	}
	for _, l := range lines {
		if l.unit != "ns/op" || !own[l.name] {
			res.add(t.name, "go bench "+l.name+" "+l.unit, l.value)
		}
	}
	if err != nil {
		logf("%s: go test -bench: %v\n%s", t.name, err, tail(string(out), 15))
		if i := strings.Index(string(out), "--- FAIL: "); i >= 0 {
			failed, _, _ := strings.Cut(string(out)[i:], "\n")
			return fmt.Errorf("%v (%s)", err, failed)
		}
		return err
	}
	if len(lines) == 0 {
		return fmt.Errorf("no benchmark matched %q", goBenchPattern)
	}
	return nil
}

type benchMetric struct {
	name, unit string
	value      float64
}

// parseBench reads `go test -bench` output: "BenchmarkName-2  N  v unit  v unit ...".
// The iteration count and the GOMAXPROCS suffix are dropped.
func parseBench(out string) []benchMetric {
	var ms []benchMetric
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue
		}
		name := strings.TrimPrefix(f[0], "Benchmark")
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				break
			}
			ms = append(ms, benchMetric{name: name, unit: f[i+1], value: v})
		}
	}
	return ms
}
