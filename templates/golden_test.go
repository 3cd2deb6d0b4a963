package templates

import (
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the current templates")

// goldenName is the file stem of a sample: <kind> for the primary sample,
// <kind>.<variant> for the others.
func goldenName(k Kind, v variant) string {
	if v.name == "" {
		return string(k)
	}
	return string(k) + "." + v.name
}

// TestGolden renders every sample of every kind in every locale and compares
// subject, text and HTML with testdata/golden/<locale>/. Run with -update to
// rewrite the files after changing a template, and review the diff.
func TestGolden(t *testing.T) {
	s := newSet(t, Options{})
	want := map[string]bool{}
	t.Run("render", func(t *testing.T) { // returns once its parallel subtests are done
		renderGolden(t, s, want)
	})
	t.Run("no stale golden files", func(t *testing.T) {
		var stale []string
		err := filepath.WalkDir(filepath.Join("testdata", "golden"), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			if !want[filepath.ToSlash(p)] {
				stale = append(stale, p)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		sort.Strings(stale)
		if *update {
			for _, p := range stale {
				if err := os.Remove(p); err != nil {
					t.Fatal(err)
				}
			}
			return
		}
		if len(stale) > 0 {
			t.Errorf("golden files without a sample (remove them or run -update):\n%s", strings.Join(stale, "\n"))
		}
	})
}

func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./templates -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the rendering (run -update and review the diff)\n--- got:\n%s\n--- want:\n%s", path, got, want)
	}
}

func newSet(t *testing.T, opts Options) *Set {
	t.Helper()
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func renderGolden(t *testing.T, s *Set, want map[string]bool) {
	for _, loc := range Locales() {
		for _, spec := range specs {
			for _, v := range spec.samples() {
				stem := filepath.Join("testdata", "golden", loc, goldenName(spec.kind, v))
				t.Run(loc+"/"+goldenName(spec.kind, v), func(t *testing.T) {
					t.Parallel()
					r, err := s.Render(loc, v.data)
					if err != nil {
						t.Fatal(err)
					}
					for ext, got := range map[string]string{"subject": r.Subject + "\n", "txt": r.Text, "html": r.HTML} {
						checkGolden(t, stem+"."+ext, got)
					}
				})
				for _, ext := range []string{"subject", "txt", "html"} {
					want[filepath.ToSlash(stem+"."+ext)] = true
				}
			}
		}
	}
}
