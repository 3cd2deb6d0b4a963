package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is written by the command's goroutine and read by the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startDev runs `helpdeskd dev` until it says it is ready and returns a stop function.
func startDev(t *testing.T, dir string, args ...string) (out *syncBuffer, stop func()) {
	t.Helper()
	if _, err := findPostgresBin(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	out = &syncBuffer{}
	errb := &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"dev", "--data", dir}, args...), out, errb, func(string) string { return "" })
	}()
	deadline := time.After(2 * time.Minute)
	for !strings.Contains(out.String(), "sandbox is ready") {
		select {
		case code := <-done:
			cancel()
			t.Fatalf("dev exited with %d before it was ready\nstdout: %s\nstderr: %s", code, out, errb)
		case <-deadline:
			cancel()
			t.Fatalf("dev not ready within 2 minutes\nstdout: %s\nstderr: %s", out, errb)
		case <-time.After(100 * time.Millisecond):
		}
	}
	return out, func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("dev exit %d: %s", code, errb)
			}
		case <-time.After(time.Minute):
			t.Error("dev did not stop")
		}
	}
}

func TestDev_StartsItsOwnPostgresSeedsAndKeepsState(t *testing.T) {
	// The cluster runs as the postgres user when we are root: it must reach the directory.
	base := t.TempDir()
	for d := base; d != filepath.Dir(d) && strings.HasPrefix(d, os.TempDir()) && d != os.TempDir(); d = filepath.Dir(d) {
		os.Chmod(d, 0o755)
	}
	dir := filepath.Join(base, "state")

	out, stop := startDev(t, dir)
	first := out.String()
	stop()
	for _, want := range []string{"initialising a PostgreSQL cluster", "seeded agent alice@helpdesk.test", "seeded customer minsu@acme.test", "seeded grant Acme → Resell Co", "PostgreSQL stopped"} {
		if !strings.Contains(first+out.String(), want) {
			t.Errorf("first run output lacks %q:\n%s", want, out.String())
		}
	}
	env, err := os.ReadFile(filepath.Join(dir, "env"))
	if err != nil || !strings.Contains(string(env), "HELPDESK_DATABASE_URL='postgres://helpdesk@127.0.0.1:") {
		t.Fatalf("env file: %q, %v", env, err)
	}

	out, stop = startDev(t, dir)
	second := out.String()
	stop()
	if strings.Contains(second, "initialising") || !strings.Contains(second, "demo data already present") {
		t.Errorf("second run did not keep state:\n%s", second)
	}

	out, stop = startDev(t, dir, "--reset")
	third := out.String()
	stop()
	if !strings.Contains(third, "initialising a PostgreSQL cluster") || !strings.Contains(third, "seeded agent alice@helpdesk.test") {
		t.Errorf("--reset did not start over:\n%s", third)
	}
}
