package main

import (
	"bytes"
	"strings"
	"testing"
)

func runReport(t *testing.T, stream string) (string, int) {
	t.Helper()
	var out bytes.Buffer
	r := newReport(&out, false)
	r.read(strings.NewReader(stream))
	code := r.finish()
	return out.String(), code
}

func TestReport_PackagesFailuresAndLoudSkips(t *testing.T) {
	t.Parallel()
	const m = "github.com/helpdesk/helpdesk/"
	stream := strings.Join([]string{
		`{"Action":"start","Package":"` + m + `threading"}`,
		`{"Action":"run","Package":"` + m + `threading","Test":"TestA"}`,
		`{"Action":"output","Package":"` + m + `threading","Test":"TestA","Output":"=== RUN   TestA\n"}`,
		`{"Action":"pass","Package":"` + m + `threading","Test":"TestA","Elapsed":0.1}`,
		`{"Action":"run","Package":"` + m + `threading","Test":"TestB"}`,
		`{"Action":"run","Package":"` + m + `threading","Test":"TestB/sub"}`,
		`{"Action":"output","Package":"` + m + `threading","Test":"TestB/sub","Output":"    b_test.go:12: got 1, want 2\n"}`,
		`{"Action":"output","Package":"` + m + `threading","Test":"TestB/sub","Output":"    --- FAIL: TestB/sub (0.00s)\n"}`,
		`{"Action":"fail","Package":"` + m + `threading","Test":"TestB/sub","Elapsed":0}`,
		`{"Action":"fail","Package":"` + m + `threading","Test":"TestB","Elapsed":0.2}`,
		`{"Action":"fail","Package":"` + m + `threading","Elapsed":1.5}`,
		`{"Action":"start","Package":"` + m + `helpdesk"}`,
		`{"Action":"run","Package":"` + m + `helpdesk","Test":"TestDB1"}`,
		`{"Action":"output","Package":"` + m + `helpdesk","Test":"TestDB1","Output":"    pgtest.go:150: pgtest: PostgreSQL at postgres://x is unavailable: refused\n"}`,
		`{"Action":"skip","Package":"` + m + `helpdesk","Test":"TestDB1","Elapsed":0}`,
		`{"Action":"run","Package":"` + m + `helpdesk","Test":"TestDB2"}`,
		`{"Action":"output","Package":"` + m + `helpdesk","Test":"TestDB2","Output":"    pgtest.go:150: pgtest: PostgreSQL at postgres://x is unavailable: refused\n"}`,
		`{"Action":"skip","Package":"` + m + `helpdesk","Test":"TestDB2","Elapsed":0}`,
		`{"Action":"pass","Package":"` + m + `helpdesk","Elapsed":0.3}`,
		`{"ImportPath":"` + m + `mail [` + m + `mail.test]","Action":"build-output","Output":"mail/x.go:1:1: syntax error\n"}`,
		`{"ImportPath":"` + m + `mail [` + m + `mail.test]","Action":"build-fail"}`,
		`{"Action":"fail","Package":"` + m + `mail","Elapsed":0,"FailedBuild":"` + m + `mail [` + m + `mail.test]"}`,
	}, "\n") + "\n"
	out, code := runReport(t, stream)
	if code == 0 {
		t.Errorf("exit 0 after failures")
	}
	for _, want := range []string{
		"--- FAIL: threading TestB/sub",
		"b_test.go:12: got 1, want 2",
		"FAIL threading",
		"ok   helpdesk",
		"(2 tests, 2 skipped)",
		"SKIPPED: 2 tests need PostgreSQL",
		"HELPDESK_TEST_DATABASE_URL",
		"FAIL mail",
		"mail/x.go:1:1: syntax error",
		"threading TestB/sub: b_test.go:12: got 1, want 2",
		"mail: build failed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "--- FAIL: threading TestB (") {
		t.Errorf("a parent failing only through its subtest is reported again:\n%s", out)
	}
	if i, j := strings.Index(out, "SKIPPED"), strings.Index(out, "ok   helpdesk"); i < j {
		t.Errorf("the skip announcement is not at the end:\n%s", out)
	}
}

func TestReport_AllPassedExitsZero(t *testing.T) {
	t.Parallel()
	out, code := runReport(t, `{"Action":"start","Package":"p"}
{"Action":"run","Package":"p","Test":"TestA"}
{"Action":"pass","Package":"p","Test":"TestA","Elapsed":0.1}
{"Action":"pass","Package":"p","Elapsed":0.2}
`)
	if code != 0 || !strings.Contains(out, "PASS: 1 test in 1 package") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

func TestReport_PackageWithoutResultFails(t *testing.T) {
	t.Parallel()
	out, code := runReport(t, `{"Action":"start","Package":"p"}
{"Action":"run","Package":"p","Test":"TestA"}
not json: the stream was cut
`)
	if code == 0 || !strings.Contains(out, "no result") || !strings.Contains(out, "not json: the stream was cut") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}
