package main

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/helpdesk/helpdesk/helpdesk"
)

// observer holds the daemon's metrics in a registry of its own (nothing is
// registered globally). Counters and histograms are updated where the events
// happen (ingest, IMAP failures, sends); what the database knows (cases,
// outbox, SLA) and what the pollers know (connection state, last poll) is
// read at scrape time by collectors. A nil *observer records nothing.
type observer struct {
	reg *prometheus.Registry

	ingested      *prometheus.CounterVec
	ingestFailed  *prometheus.CounterVec
	decisions     *prometheus.CounterVec
	ingestLatency prometheus.Histogram
	imapErrors    *prometheus.CounterVec
	sends         *prometheus.CounterVec
	sendLatency   prometheus.Histogram
	alarms        *prometheus.CounterVec
	alarmActive   *prometheus.GaugeVec
}

func newObserver(ready *readiness) *observer {
	o := &observer{reg: prometheus.NewRegistry()}
	o.ingested = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "helpdesk_ingested_messages_total",
		Help: "Inbound mails committed, by mailbox and class (human, auto_reply, bounce, list, ...; duplicate for a second copy).",
	}, []string{"mailbox", "class"})
	o.ingestFailed = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "helpdesk_ingest_failures_total",
		Help: "Failed attempts to ingest an inbound mail, by mailbox and kind (temporary: retried; permanent: set aside).",
	}, []string{"mailbox", "kind"})
	o.decisions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "helpdesk_threading_decisions_total",
		Help: "Threading decisions of ingested mails, by decision and the rule that made it.",
	}, []string{"decision", "rule"})
	o.ingestLatency = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "helpdesk_ingest_latency_seconds",
		Help:    "From the mail's arrival on the IMAP server (INTERNALDATE) to its commit.",
		Buckets: []float64{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600},
	})
	o.imapErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "helpdesk_imap_errors_total",
		Help: "Failed IMAP sessions, by mailbox and kind (auth, tls, network, server, handler).",
	}, []string{"mailbox", "kind"})
	o.sends = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "helpdesk_sends_total",
		Help: "SMTP sends of outbox mail, by result (sent, temporary, permanent).",
	}, []string{"result"})
	o.sendLatency = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "helpdesk_send_duration_seconds",
		Help:    "Time of one SMTP send, connection set-up included.",
		Buckets: []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60},
	})
	o.alarms = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "helpdesk_alarms_total",
		Help: "Intake alarms seen by this daemon, by alarm and event (raised, recovered).",
	}, []string{"alarm", "event"})
	o.alarmActive = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "helpdesk_alarm_active",
		Help: "1 while an intake alarm (a mailbox not polled, the outbox stuck) is raised, as this daemon sees it.",
	}, []string{"alarm"})
	o.reg.MustRegister(o.ingested, o.ingestFailed, o.decisions, o.ingestLatency, o.imapErrors, o.sends, o.sendLatency,
		o.alarms, o.alarmActive,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&stateCollector{ready: ready})
	return o
}

// handler serves the registry in the Prometheus text format (or OpenMetrics
// when asked). A failing collector (the database) is logged and its metrics
// left out; the others are still served.
func (o *observer) handler(log *slog.Logger) http.Handler {
	return promhttp.HandlerFor(o.reg, promhttp.HandlerOpts{
		ErrorLog:      slogPrinter{log},
		ErrorHandling: promhttp.ContinueOnError,
		Timeout:       10 * time.Second,
	})
}

type slogPrinter struct{ log *slog.Logger }

func (p slogPrinter) Println(v ...any) {
	if p.log != nil {
		p.log.Warn("metrics", "err", v)
	}
}

// ingestedMail records a committed mail.
func (o *observer) ingestedMail(mailbox string, res helpdesk.Result, arrived, committed time.Time) {
	if o == nil {
		return
	}
	class := res.Class
	if res.Duplicate {
		class = "duplicate"
	}
	if class == "" {
		class = "unknown"
	}
	o.ingested.WithLabelValues(mailbox, class).Inc()
	if !res.Duplicate {
		o.decisions.WithLabelValues(res.Decision, res.Rule).Inc()
		if !arrived.IsZero() {
			o.ingestLatency.Observe(max(committed.Sub(arrived), 0).Seconds())
		}
	}
}

func (o *observer) ingestFailure(mailbox string, permanent bool) {
	if o == nil {
		return
	}
	kind := "temporary"
	if permanent {
		kind = "permanent"
	}
	o.ingestFailed.WithLabelValues(mailbox, kind).Inc()
}

func (o *observer) imapError(mailbox, kind string) {
	if o == nil {
		return
	}
	o.imapErrors.WithLabelValues(mailbox, kind).Inc()
}

func (o *observer) alarm(name string, raised bool) {
	if o == nil {
		return
	}
	if raised {
		o.alarms.WithLabelValues(name, "raised").Inc()
		o.alarmActive.WithLabelValues(name).Set(1)
	} else {
		o.alarms.WithLabelValues(name, "recovered").Inc()
		o.alarmActive.WithLabelValues(name).Set(0)
	}
}

// timedSender counts and times the sends of a helpdesk.MailSender.
type timedSender struct {
	helpdesk.MailSender
	o           *observer
	isPermanent func(error) bool
}

func (o *observer) wrapSender(s helpdesk.MailSender, isPermanent func(error) bool) helpdesk.MailSender {
	if o == nil || s == nil {
		return s
	}
	return timedSender{MailSender: s, o: o, isPermanent: isPermanent}
}

func (t timedSender) Send(ctx context.Context, from string, to []string, data []byte) error {
	start := time.Now()
	err := t.MailSender.Send(ctx, from, to, data)
	t.o.sendLatency.Observe(time.Since(start).Seconds())
	result := "sent"
	switch {
	case err == nil:
	case t.isPermanent(err):
		result = "permanent"
	default:
		result = "temporary"
	}
	t.o.sends.WithLabelValues(result).Inc()
	return err
}

// stateCollector reads, at scrape time, the database's counts (the metric
// names of the hand-written exporter it replaces are kept) and each
// mailbox's poller state.
type stateCollector struct {
	ready *readiness
}

var (
	descCases         = prometheus.NewDesc("helpdesk_cases", "Cases by status.", []string{"status"}, nil)
	descOutbox        = prometheus.NewDesc("helpdesk_outbox", "Outgoing mails by status.", []string{"status"}, nil)
	descOutboxDue     = prometheus.NewDesc("helpdesk_outbox_due", "Outbox depth: unsent mails due now (queued or being sent).", nil, nil)
	descOldestDue     = prometheus.NewDesc("helpdesk_outbox_oldest_due_seconds", "Age of the oldest due, unsent mail.", nil, nil)
	descInbound       = prometheus.NewDesc("helpdesk_inbound_messages", "Inbound messages by decision.", []string{"decision"}, nil)
	descSuppressed    = prometheus.NewDesc("helpdesk_suppressed_addresses", "Addresses suppressed after a permanent bounce.", nil, nil)
	descSLAWarnings   = prometheus.NewDesc("helpdesk_sla_warnings_total", "Cases whose assignee was warned before the first-response target.", nil, nil)
	descSLABreaches   = prometheus.NewDesc("helpdesk_sla_breaches_total", "Cases that breached the first-response target.", nil, nil)
	descDatabaseUp    = prometheus.NewDesc("helpdesk_database_up", "1 when the database answered the metrics queries.", nil, nil)
	descIMAPUp        = prometheus.NewDesc("helpdesk_imap_up", "1 when the mailbox's last IMAP round succeeded and its session is up.", []string{"mailbox"}, nil)
	descIMAPIdle      = prometheus.NewDesc("helpdesk_imap_idle", "1 when the server has IDLE (new mail wakes the poller).", []string{"mailbox"}, nil)
	descIMAPFailing   = prometheus.NewDesc("helpdesk_imap_failing", "1 while the mailbox fails, labelled with the kind of the latest failure.", []string{"mailbox", "kind"}, nil)
	descIMAPFailSince = prometheus.NewDesc("helpdesk_imap_failing_seconds", "How long the mailbox has been failing (0 when up).", []string{"mailbox"}, nil)
	descLastPollAge   = prometheus.NewDesc("helpdesk_imap_last_success_age_seconds", "Time since the mailbox was last polled successfully (absent before the first success).", []string{"mailbox"}, nil)
)

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descCases, descOutbox, descOutboxDue, descOldestDue, descInbound, descSuppressed,
		descSLAWarnings, descSLABreaches, descDatabaseUp, descIMAPUp, descIMAPIdle, descIMAPFailing, descIMAPFailSince, descLastPollAge} {
		ch <- d
	}
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	now := time.Now()
	c.ready.mu.Lock()
	store := c.ready.store
	mailboxes := append([]mailboxCheck(nil), c.ready.mailboxes...)
	c.ready.mu.Unlock()

	for _, m := range mailboxes {
		st := m.p.Status()
		ch <- prometheus.MustNewConstMetric(descIMAPUp, prometheus.GaugeValue, b2f(st.Connected), m.key)
		ch <- prometheus.MustNewConstMetric(descIMAPIdle, prometheus.GaugeValue, b2f(st.Idle), m.key)
		failing := 0.0
		if st.LastError != "" {
			ch <- prometheus.MustNewConstMetric(descIMAPFailing, prometheus.GaugeValue, 1, m.key, st.ErrorKind)
			failing = now.Sub(st.Since).Seconds()
		}
		ch <- prometheus.MustNewConstMetric(descIMAPFailSince, prometheus.GaugeValue, failing, m.key)
		if !st.LastSuccess.IsZero() {
			ch <- prometheus.MustNewConstMetric(descLastPollAge, prometheus.GaugeValue, now.Sub(st.LastSuccess).Seconds(), m.key)
		}
	}

	if store == nil {
		ch <- prometheus.MustNewConstMetric(descDatabaseUp, prometheus.GaugeValue, 0)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := helpdesk.ReadStats(ctx, store.DB(), now)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(descDatabaseUp, prometheus.GaugeValue, 0)
		ch <- prometheus.NewInvalidMetric(descDatabaseUp, redactedError{c.ready, err})
		return
	}
	ch <- prometheus.MustNewConstMetric(descDatabaseUp, prometheus.GaugeValue, 1)
	for _, g := range []struct {
		desc *prometheus.Desc
		m    map[string]int
	}{{descCases, st.CasesByStatus}, {descOutbox, st.OutboxByStatus}, {descInbound, st.InboundByDecision}} {
		for k, v := range g.m {
			ch <- prometheus.MustNewConstMetric(g.desc, prometheus.GaugeValue, float64(v), k)
		}
	}
	ch <- prometheus.MustNewConstMetric(descOutboxDue, prometheus.GaugeValue, float64(st.OutboxDue))
	ch <- prometheus.MustNewConstMetric(descOldestDue, prometheus.GaugeValue, st.OldestQueuedAge.Seconds())
	ch <- prometheus.MustNewConstMetric(descSuppressed, prometheus.GaugeValue, float64(st.Suppressed))
	ch <- prometheus.MustNewConstMetric(descSLAWarnings, prometheus.CounterValue, float64(st.SLAWarned))
	ch <- prometheus.MustNewConstMetric(descSLABreaches, prometheus.CounterValue, float64(st.SLABreached))
}

// redactedError masks secrets in a collector's error, which promhttp logs.
type redactedError struct {
	ready *readiness
	err   error
}

func (e redactedError) Error() string { return e.ready.redact.String(e.err.Error()) }

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// observerOnce lazily creates the observer of a readiness, so that every
// way of building one (serve, dev, tests) gets metrics.
type observerOnce struct {
	once sync.Once
	o    *observer
}
