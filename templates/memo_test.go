package templates

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// countingMemo is a memo whose executions are counted.
func countingMemo(n *int) *memo {
	m := newMemo()
	m.exec = func(w io.Writer, name string, data any) error {
		*n++
		_, err := fmt.Fprintf(w, "%s:%v", name, data)
		return err
	}
	return m
}

func TestMemo_RendersEachDistinctValueOnce(t *testing.T) {
	var n int
	m := countingMemo(&n)
	basic := SeverityGuide{Plan: "basic", Levels: sampleLevels(false)}
	premium := SeverityGuide{Plan: "premium", Levels: sampleLevels(true), CanEscalate: true}
	for range 3 {
		for _, g := range []SeverityGuide{basic, premium} {
			got, err := m.render("severity-guide", g)
			if err != nil {
				t.Fatal(err)
			}
			if want := fmt.Sprintf("severity-guide:%v", g); got != want {
				t.Fatalf("render = %q, want %q", got, want)
			}
		}
	}
	if n != 2 {
		t.Fatalf("executed %d times for 2 distinct values, want 2", n)
	}
	// The same value under another template name is another output.
	if _, err := m.render("other", basic); err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Fatalf("executed %d times, want 3 after a second name", n)
	}
}

func TestMemo_ValuesWithPointersOrTimesRenderEveryTime(t *testing.T) {
	for _, v := range []any{
		time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC), // holds a *Location
		&SeverityGuide{Plan: "basic"},
		map[string]string{"a": "b"},
		[]any{"x"},
		nil,
	} {
		var n int
		m := countingMemo(&n)
		for range 2 {
			if _, err := m.render("x", v); err != nil {
				t.Fatal(err)
			}
		}
		if n != 2 {
			t.Errorf("%T: executed %d times, want 2 (never memoized)", v, n)
		}
	}
}

func TestMemo_StopsGrowingAtItsBound(t *testing.T) {
	var n int
	m := countingMemo(&n)
	for i := range memoMax + 10 {
		if _, err := m.render("x", i); err != nil {
			t.Fatal(err)
		}
	}
	if len(m.out) != memoMax {
		t.Fatalf("memo holds %d outputs, want its bound %d", len(m.out), memoMax)
	}
	if _, err := m.render("x", memoMax+5); err != nil { // past the bound: rendered, still right
		t.Fatal(err)
	}
	if n != memoMax+11 {
		t.Fatalf("executed %d times, want %d", n, memoMax+11)
	}
}

// The acknowledgement renders its plan's part through memo: a second mail
// for another plan must not get the first plan's levels, and an operator's
// override of the memoized definition is what renders.
func TestRender_AcknowledgementsForTwoPlansKeepTheirOwnGuide(t *testing.T) {
	s := newSet(t, Options{})
	basic := Sample(CaseReceived).(CaseReceivedData)
	basic.Plan, basic.Levels, basic.CanEscalate = "basic", sampleLevels(false), false
	premium := basic
	premium.Plan, premium.Levels, premium.CanEscalate = "premium", sampleLevels(true), true
	for range 2 {
		for _, loc := range Locales() {
			b, err := s.Render(loc, basic)
			if err != nil {
				t.Fatal(err)
			}
			p, err := s.Render(loc, premium)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(b.Text, "#escalate") || strings.Contains(b.HTML, "#escalate") {
				t.Errorf("%s: the basic plan's acknowledgement offers #escalate:\n%s", loc, b.Text)
			}
			if !strings.Contains(p.Text, "#escalate") || !strings.Contains(p.HTML, "#escalate") {
				t.Errorf("%s: the premium plan's acknowledgement lacks #escalate:\n%s", loc, p.Text)
			}
			if !strings.Contains(b.Text, "basic") || strings.Contains(p.Text, "Not part of your basic") {
				t.Errorf("%s: plans mixed up:\nbasic:\n%s\npremium:\n%s", loc, b.Text, p.Text)
			}
		}
	}

	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "en"), 0o755); err != nil {
		t.Fatal(err)
	}
	src, err := embedded.ReadFile("tmpl/en/case_received.txt.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	over := strings.Replace(string(src), `{{define "severity-guide"}}`, `{{define "severity-guide"}}OUR OWN GUIDE for {{.Plan}}{{end}}{{define "unused"}}`, 1)
	if err := os.WriteFile(filepath.Join(dir, "en", "case_received.txt.tmpl"), []byte(over), 0o644); err != nil {
		t.Fatal(err)
	}
	o := newSet(t, Options{OverrideDir: dir})
	r, err := o.Render("en", premium)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.Text, "OUR OWN GUIDE for premium") {
		t.Fatalf("the override's severity-guide did not render:\n%s", r.Text)
	}
	if r, _ := s.Render("en", premium); strings.Contains(r.Text, "OUR OWN GUIDE") {
		t.Fatal("an override leaked into another template set")
	}
}

// Renders run in parallel (the dispatcher and several ingest batches share
// one Set): memoized outputs must be the same as rendered alone.
func TestRender_ParallelAcknowledgementsMatchTheirSequentialRender(t *testing.T) {
	s := newSet(t, Options{})
	base := Sample(CaseReceived).(CaseReceivedData)
	var datas []CaseReceivedData
	for i, plan := range []string{"basic", "advanced", "premium", ""} {
		d := base
		d.Plan, d.Levels, d.CanEscalate = plan, sampleLevels(i > 0), i == 2
		d.Missing = []DiagnosticItem{DiagnosticTimeWindow, DiagnosticVersion, DiagnosticError, DiagnosticSteps}[:i+1]
		datas = append(datas, d)
	}
	want := map[string]Rendered{}
	fresh := newSet(t, Options{}) // its memos are empty until the goroutines below start
	for i, d := range datas {
		for _, loc := range Locales() {
			r, err := s.Render(loc, d)
			if err != nil {
				t.Fatal(err)
			}
			want[fmt.Sprint(loc, i)] = r
		}
	}
	errs := make(chan error, 8)
	for g := range 8 {
		go func() {
			for n := range 40 {
				i, loc := (g+n)%len(datas), Locales()[n%2]
				got, err := fresh.Render(loc, datas[i])
				if err == nil && got != want[fmt.Sprint(loc, i)] {
					err = fmt.Errorf("%s plan %q: parallel render differs:\n%s\nwant:\n%s", loc, datas[i].Plan, got.Text, want[fmt.Sprint(loc, i)].Text)
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
