package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/helpdesk/helpdesk/mail/mailtest"
)

// get answers GET url: the status and body (0 when nothing answers).
func get(url string) (int, string) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestPprof_ServesProfilesUntilStopped(t *testing.T) {
	t.Parallel()
	p, err := listenPprof("127.0.0.1:0", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	addr := p.l.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	for _, path := range []string{"/debug/pprof/", "/debug/pprof/goroutine?debug=1", "/debug/pprof/heap", "/debug/pprof/cmdline"} {
		if code, body := get("http://" + addr + path); code != 200 || body == "" {
			t.Errorf("GET %s = %d", path, code)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancellation")
	}
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Fatal("still listening after Run returned")
	}
}

func TestServe_PprofListensOnlyWhenConfiguredAndOnlyOnItsAddress(t *testing.T) {
	t.Parallel()
	m := startMail(t)
	for _, on := range []bool{true, false} {
		httpAddr, pprofAddr := freeAddr(t), freeAddr(t)
		extra := map[string]string{"HELPDESK_HTTP_ADDR": httpAddr}
		if on {
			extra["HELPDESK_PPROF_ADDR"] = pprofAddr
		}
		newDaemon(t, m, extra)
		mailtest.Wait(t, "the daemon ready", func() bool { code, _ := readyz(t, httpAddr); return code == 200 })
		if on {
			if code, body := get("http://" + pprofAddr + "/debug/pprof/"); code != 200 || !strings.Contains(body, "goroutine") {
				t.Fatalf("HELPDESK_PPROF_ADDR set: GET /debug/pprof/ = %d", code)
			}
		} else if c, err := net.Dial("tcp", pprofAddr); err == nil {
			c.Close()
			t.Fatal("HELPDESK_PPROF_ADDR unset, yet something listens")
		}
		if code, _ := get("http://" + httpAddr + "/debug/pprof/"); code != 404 {
			t.Fatalf("the health listener serves /debug/pprof/: %d (pprof on %v)", code, on)
		}
	}
}
