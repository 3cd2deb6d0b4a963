package main

import (
	"bytes"
	"context"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// At shutdown the components get the drain time to finish; one that does
// not stop by then is left behind, named in an ERROR line, and the daemon
// exits anyway.
func TestSuperviseDrain_AbandonsAComponentThatDoesNotStop(t *testing.T) {
	t.Parallel()
	var logs lockedBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	ctx, cancel := context.WithCancel(context.Background())
	release := make(chan struct{})
	defer close(release)
	var finished atomic.Bool
	cs := []component{
		{"stuck", func(ctx context.Context) error { <-ctx.Done(); <-release; return nil }},
		{"drains", func(ctx context.Context) error {
			<-ctx.Done()
			time.Sleep(100 * time.Millisecond)
			finished.Store(true)
			return nil
		}},
	}
	done := make(chan error, 1)
	go func() { done <- superviseDrain(ctx, log, cs, 200*time.Millisecond) }()
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("supervise waited for the stuck component")
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("returned after %s, before the drain time", d)
	}
	if !finished.Load() {
		t.Error("the draining component was not waited for")
	}
	if s := logs.String(); !strings.Contains(s, "level=ERROR") || !strings.Contains(s, "stuck") || strings.Contains(s, "drains]") {
		t.Errorf("want one ERROR naming only the stuck component:\n%s", s)
	}
}

func TestVersion_PrintsVersionModuleAndRevision(t *testing.T) {
	t.Parallel()
	b := readBuildInfo(func() (*debug.BuildInfo, bool) {
		return &debug.BuildInfo{GoVersion: "go1.24.1", Main: debug.Module{Path: "github.com/helpdesk/helpdesk", Version: "v1.2.3"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123abcd"}, {Key: "vcs.modified", Value: "true"},
				{Key: "vcs.time", Value: "2026-12-01T09:00:00Z"}}}, true
	})
	var out bytes.Buffer
	b.print(&out)
	for _, want := range []string{"helpdeskd " + version, "github.com/helpdesk/helpdesk v1.2.3", "go1.24.1", "0123abcd (modified)", "2026-12-01T09:00:00Z"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("version output lacks %q:\n%s", want, out.String())
		}
	}
	// The command itself, with this test binary's build information.
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"version"}, &stdout, &stderr, func(string) string { return "" }); code != 0 {
		t.Fatalf("version: exit %d: %s", code, stderr.String())
	}
	if !strings.HasPrefix(stdout.String(), "helpdeskd ") || !strings.Contains(stdout.String(), "revision") {
		t.Fatalf("version printed %q", stdout.String())
	}
}

// lockedBuffer is a bytes.Buffer safe for concurrent writers (log handlers).
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
