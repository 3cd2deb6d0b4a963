package main

import (
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/helpdesk/helpdesk/helpdesk"
	"github.com/helpdesk/helpdesk/mail/mailtest"
)

// metricsText fetches /metrics; a non-200 answer fails the test.
func metricsText(t *testing.T, addr string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /metrics: %d %s", resp.StatusCode, b)
	}
	return string(b)
}

// tryMetrics fetches /metrics, "" while the listener is not up yet.
func tryMetrics(addr string) string {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// metricValue returns the value of the sample whose line starts with
// series (name and labels as printed), or -1 when there is none.
func metricValue(text, series string) float64 {
	for _, line := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			if err == nil {
				return v
			}
		}
	}
	return -1
}

// /metrics counts what happens where it happens (ingest by mailbox and
// class, threading decisions by rule, ingest latency from the server's
// arrival time, sends by result and their latency) and reads the state at
// scrape time (IMAP up, last poll age, outbox depth, SLA), in the
// Prometheus text format of client_golang, keeping the earlier names.
func TestServe_MetricsCountIntakeAndSends(t *testing.T) {
	t.Parallel()
	m := startMail(t)
	addr := freeAddr(t)
	d := newDaemon(t, m, map[string]string{"HELPDESK_HTTP_ADDR": addr})
	m.Deliver("support@example.com", customerMail("jane@acme.example", "Help", "mx-1@acme.example", "", "It broke."))
	mailtest.Wait(t, "both notifications sent", func() bool {
		return metricValue(tryMetrics(addr), `helpdesk_sends_total{result="sent"}`) == 2
	})
	text := metricsText(t, addr)
	for series, want := range map[string]float64{
		`helpdesk_ingested_messages_total{class="human",mailbox="support/INBOX"}`: 1,
		`helpdesk_threading_decisions_total{decision="new_case",rule="new"}`:      1,
		`helpdesk_ingest_latency_seconds_count`:                                   1,
		`helpdesk_send_duration_seconds_count`:                                    2,
		`helpdesk_imap_up{mailbox="support/INBOX"}`:                               1,
		`helpdesk_imap_failing_seconds{mailbox="support/INBOX"}`:                  0,
		`helpdesk_outbox{status="sent"}`:                                          2,
		`helpdesk_outbox_due`:                                                     0,
		`helpdesk_outbox_oldest_due_seconds`:                                      0,
		`helpdesk_cases{status="open"}`:                                           1,
		`helpdesk_inbound_messages{decision="new_case"}`:                          1,
		`helpdesk_suppressed_addresses`:                                           0,
		`helpdesk_sla_warnings_total`:                                             0,
		`helpdesk_sla_breaches_total`:                                             0,
		`helpdesk_database_up`:                                                    1,
	} {
		if got := metricValue(text, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
	if age := metricValue(text, `helpdesk_imap_last_success_age_seconds{mailbox="support/INBOX"}`); age < 0 || age > 60 {
		t.Errorf("last successful poll age %v, want a few seconds", age)
	}
	for _, typ := range []string{"# TYPE helpdesk_ingest_latency_seconds histogram", "# TYPE helpdesk_sends_total counter",
		"# TYPE helpdesk_cases gauge", "# TYPE helpdesk_sla_breaches_total counter"} {
		if !strings.Contains(text, typ) {
			t.Errorf("/metrics lacks %q", typ)
		}
	}
	_ = d
}

// IMAP failures are counted by kind: a refused password is "auth", and the
// mailbox shows as down and failing with that kind.
func TestServe_MetricsIMAPErrorsByKind(t *testing.T) {
	t.Parallel()
	m := startMail(t)
	addr := freeAddr(t)
	newDaemon(t, m, map[string]string{"HELPDESK_HTTP_ADDR": addr, "HELPDESK_IMAP_PASSWORD": "wrong"})
	mailtest.Wait(t, "an auth error counted", func() bool {
		return metricValue(tryMetrics(addr), `helpdesk_imap_errors_total{kind="auth",mailbox="support/INBOX"}`) >= 1
	})
	text := metricsText(t, addr)
	if v := metricValue(text, `helpdesk_imap_up{mailbox="support/INBOX"}`); v != 0 {
		t.Errorf("helpdesk_imap_up = %v, want 0", v)
	}
	if v := metricValue(text, `helpdesk_imap_failing{kind="auth",mailbox="support/INBOX"}`); v != 1 {
		t.Errorf("helpdesk_imap_failing{kind=auth} = %v, want 1", v)
	}
	if regexp.MustCompile(`helpdesk_imap_errors_total\{kind="(network|tls)"`).MatchString(text) {
		t.Errorf("a refused password counted as a network or TLS error:\n%s", text)
	}
	if strings.Contains(text, "wrong") {
		t.Errorf("/metrics shows the password")
	}
}

// The per-mail cost of the metrics on the ingest path.
func BenchmarkObserver_IngestedMail(b *testing.B) {
	o := newObserver(&readiness{})
	res := helpdesk.Result{Class: "human", Decision: "new_case", Rule: "new"}
	arrived := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		o.ingestedMail("support/INBOX", res, arrived, arrived.Add(time.Second))
	}
}
