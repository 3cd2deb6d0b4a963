package templates

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

// writeOverrides creates an override directory holding files (path → content).
func writeOverrides(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func embeddedFile(t *testing.T, name string) string {
	t.Helper()
	b, err := fs.ReadFile(embedded, "tmpl/"+name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestNew_OverrideReplacesOnlyTheFileItProvides(t *testing.T) {
	def := newSet(t, Options{})
	dir := writeOverrides(t, map[string]string{
		"en/case_received.subject.tmpl": "Got it: {{.CaseSubject}}",
		"README.md":                     "not a template, ignored",
	})
	over := newSet(t, Options{OverrideDir: dir})

	got := mustRender(t, over, "en", Sample(CaseReceived))
	want := mustRender(t, def, "en", Sample(CaseReceived))
	if got.Subject != "Got it: Cannot log in after password reset [Case #1042]" {
		t.Errorf("overridden subject %q", got.Subject)
	}
	// The HTML differs only in its <title>, which is the subject.
	if got.Text != want.Text || strings.Replace(got.HTML, got.Subject, want.Subject, 1) != want.HTML {
		t.Errorf("text or HTML changed although only the subject was overridden")
	}
	if ko := mustRender(t, over, "ko", Sample(CaseReceived)); ko.Subject != mustRender(t, def, "ko", Sample(CaseReceived)).Subject {
		t.Errorf("Korean subject changed by an English override: %q", ko.Subject)
	}
}

func TestNew_OverrideCanRedefineAPartialForItsFileOnly(t *testing.T) {
	dir := writeOverrides(t, map[string]string{
		"en/survey.txt.tmpl": `{{define "signature"}}The Survey Team{{end}}{{template "greeting" .}} Rate us.{{template "signature" .}}`,
	})
	s := newSet(t, Options{OverrideDir: dir})
	if r := mustRender(t, s, "en", Sample(Survey)); !strings.Contains(r.Text, "The Survey Team") {
		t.Errorf("redefined partial not used:\n%s", r.Text)
	}
	if r := mustRender(t, s, "en", Sample(CaseReceived)); strings.Contains(r.Text, "The Survey Team") {
		t.Errorf("a partial redefined in one file leaked into another:\n%s", r.Text)
	}
}

func TestNew_BrokenOverrideFailsStartUpNamingTheFile(t *testing.T) {
	partials := embeddedFile(t, "en/_partials.html.tmpl")
	tests := []struct {
		name, file, body string
		want             []string // in the error
	}{
		{"syntax error", "en/comment_added.txt.tmpl", "{{.Comment", []string{"comment_added.txt.tmpl"}},
		{"field the data type lacks", "ko/case_received.html.tmpl", "<p>{{.CaseNumber}}</p>", []string{"ko/case_received.html.tmpl", "CaseNumber"}},
		{"field in a branch only one sample takes", "en/status_changed.txt.tmpl",
			`{{if eq .To "on_hold"}}{{.HoldReason}}{{end}}`, []string{"status_changed.txt.tmpl", "HoldReason"}},
		{"unknown function", "en/survey.subject.tmpl", "{{shout .CaseSubject}}", []string{"survey.subject.tmpl", "shout"}},
		{"unknown partial", "en/merged.html.tmpl", `{{template "nope" .}}`, []string{"merged.html.tmpl", "nope"}},
		{"empty subject", "ko/merged.subject.tmpl", "{{/* nothing */}}", []string{"ko/merged.subject.tmpl", "empty subject"}},
		{"broken partial", "en/_partials.html.tmpl",
			strings.Replace(partials, "{{.HelpdeskName}}<br>", "{{.HelpdeskNam}}<br>", 1), []string{"_partials.html.tmpl", "HelpdeskNam"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeOverrides(t, map[string]string{tt.file: tt.body})
			_, err := New(Options{OverrideDir: dir})
			if err == nil {
				t.Fatal("New succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestNew_OverrideErrorNamesTheOverridePath(t *testing.T) {
	dir := writeOverrides(t, map[string]string{"en/survey.txt.tmpl": "{{.Nope}}"})
	_, err := New(Options{OverrideDir: dir})
	if want := "override " + filepath.ToSlash(filepath.Join(dir, "en", "survey.txt.tmpl")); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error %v, want it to name %q", err, want)
	}
}

func TestNew_MisspeltOverrideFileFailsStartUp(t *testing.T) {
	for _, name := range []string{"en/case_recieved.txt.tmpl", "fr/case_received.txt.tmpl", "case_received.txt.tmpl", "en/_partials.subject.tmpl"} {
		t.Run(name, func(t *testing.T) {
			dir := writeOverrides(t, map[string]string{name: "x"})
			_, err := New(Options{OverrideDir: dir})
			if err == nil || !strings.Contains(err.Error(), "unknown template file") || !strings.Contains(err.Error(), name) {
				t.Errorf("error %v, want an unknown template file naming %s", err, name)
			}
		})
	}
}

func TestNew_OverrideDirMustBeADirectory(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{filepath.Join(t.TempDir(), "missing"), file} {
		if _, err := New(Options{OverrideDir: dir}); err == nil {
			t.Errorf("New accepted override directory %s", dir)
		}
	}
}

func TestNew_MissingTemplateFailsStartUp(t *testing.T) {
	root, err := fs.Sub(embedded, "tmpl")
	if err != nil {
		t.Fatal(err)
	}
	for _, missing := range []string{"ko/sla_breach.html.tmpl", "en/_partials.txt.tmpl"} {
		t.Run(missing, func(t *testing.T) {
			m := fstest.MapFS{}
			err := fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() || p == missing {
					return err
				}
				b, err := fs.ReadFile(root, p)
				m[p] = &fstest.MapFile{Data: b}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := build(m, nil, "", "en"); err == nil || !strings.Contains(err.Error(), missing) {
				t.Errorf("error %v, want one naming %s", err, missing)
			}
		})
	}
}

func TestNew_DefaultLocaleMustBeSupported(t *testing.T) {
	if _, err := New(Options{DefaultLocale: "fr"}); err == nil {
		t.Error("New accepted default locale fr")
	}
	s := newSet(t, Options{DefaultLocale: "ko-KR"})
	if got := s.Locale("de"); got != "ko" {
		t.Errorf("default locale %q, want ko", got)
	}
}

// Our data has no maps, so missingkey=error is checked on the bases every
// template is cloned from: a map key a template names but the data lacks fails.
func TestNew_MissingMapKeyIsAnError(t *testing.T) {
	tb, err := newTextBase("en", "")
	if err != nil {
		t.Fatal(err)
	}
	tt, err := parseText(tb, "t", "{{.Missing}}")
	if err != nil {
		t.Fatal(err)
	}
	if err := tt.Execute(&strings.Builder{}, map[string]string{"Present": "x"}); err == nil || !strings.Contains(err.Error(), "Missing") {
		t.Errorf("text: error %v, want a missing key error", err)
	}
	hb, err := newHTMLBase("en", "")
	if err != nil {
		t.Fatal(err)
	}
	ht, err := parseHTML(hb, "h", "<p>{{.Missing}}</p>")
	if err != nil {
		t.Fatal(err)
	}
	if err := ht.Execute(&strings.Builder{}, map[string]string{"Present": "x"}); err == nil || !strings.Contains(err.Error(), "Missing") {
		t.Errorf("html: error %v, want a missing key error", err)
	}
}
