package main

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// report adds one binary's figures to the results.
type report func(label string, v float64)

// ingest delivers a batch into the INBOX, starts serve and measures until
// every mail is committed, then until the outbox is drained, then checks
// what became of the batch. prefix names the scenario in the row labels.
func (s *stack) ingest(b Batch, prefix string, add report) (rate float64, err error) {
	n := len(b.Mails)
	if err := s.stop(); err != nil {
		return 0, err
	}
	maxMsg, err := s.scalar(`SELECT coalesce(max(id), 0) FROM messages`)
	if err != nil {
		return 0, err
	}
	maxCase, err := s.scalar(`SELECT coalesce(max(id), 0) FROM cases`)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	if err := s.deliver(b); err != nil {
		return 0, fmt.Errorf("delivering %d mails: %w", n, err)
	}
	s.logf("%s: %d mails delivered over LMTP in %s", prefix, n, time.Since(start).Round(time.Millisecond))
	if err := s.start(); err != nil {
		return 0, err
	}
	w := s.watched()
	before := w.snap()
	var firstAt time.Time
	var firstN int64
	ingested := func() (bool, error) {
		c, err := s.scalar(`SELECT count(*) FROM messages WHERE id > $1 AND direction = 'in'`, maxMsg)
		if c > 0 && firstAt.IsZero() {
			firstAt, firstN = time.Now(), c
		}
		return c >= int64(n), err
	}
	if err := s.waitFor(fmt.Sprintf("%d mails ingested", n), 2*time.Minute+time.Duration(n)*200*time.Millisecond, ingested); err != nil {
		return 0, err
	}
	after := w.snap()
	d := before.to(after)
	rate = float64(n) / d.wall.Seconds()
	if span := after.at.Sub(firstAt); n-int(firstN) >= 10 && span > 0 {
		rate = float64(int64(n)-firstN) / span.Seconds() // from the first commit: start-up aside
	}
	add(prefix+": ingest msg/s", rate)
	add(prefix+": ingest wall s (serve start to last mail)", d.wall.Seconds())
	perMail := func(sec float64) float64 { return sec * 1000 / float64(n) }
	add(prefix+": daemon CPU ms/mail", perMail(d.daemon))
	add(prefix+": PostgreSQL CPU ms/mail", perMail(d.pg))
	add(prefix+": Dovecot+Postfix CPU ms/mail", perMail(d.mail))
	add(prefix+": stack CPU ms/mail (daemon+PG+mail)", perMail(d.daemon+d.pg+d.mail))
	add(prefix+": host CPU ms/mail (all processes)", perMail(d.host))
	if err := s.waitDrained(prefix, after.at, add); err != nil {
		return rate, err
	}
	if rss, err := peakRSS(w.daemon); err == nil {
		add(prefix+": daemon peak RSS MiB", float64(rss)/(1<<20))
	}
	s.logf("%s: %.1f msg/s", prefix, rate)
	return rate, s.check(b, prefix, maxMsg, maxCase, add)
}

// waitDrained waits until no notification is queued or being sent and
// reports how long that took after ingest ended.
func (s *stack) waitDrained(prefix string, ingestEnd time.Time, add report) error {
	err := s.waitFor("the outbox to drain", 10*time.Minute, func() (bool, error) {
		c, err := s.scalar(`SELECT count(*) FROM outbox WHERE status IN ('queued', 'sending')`)
		return c == 0, err
	})
	if err != nil {
		return err
	}
	add(prefix+": outbox drained, s after ingest", time.Since(ingestEnd).Seconds())
	return nil
}

// check compares what the daemon made of the batch with what it should
// have: one case per new mail, one comment per mail, each reply on the case
// of the mail it answers.
func (s *stack) check(b Batch, prefix string, maxMsg, maxCase int64, add report) error {
	cases, err := s.scalar(`SELECT count(*) FROM cases WHERE id > $1`, maxCase)
	if err != nil {
		return err
	}
	add(fmt.Sprintf("%s: cases opened (want %d)", prefix, b.New), float64(cases))
	comments, err := s.scalar(`SELECT count(*) FROM comments c JOIN messages m ON m.id = c.message_id WHERE m.id > $1 AND m.direction = 'in'`, maxMsg)
	if err != nil {
		return err
	}
	add(fmt.Sprintf("%s: comments from the mails (want %d)", prefix, len(b.Mails)), float64(comments))
	rows, err := s.db.Query(`SELECT message_id, coalesce(case_id, 0) FROM messages WHERE id > $1 AND direction = 'in'`, maxMsg)
	if err != nil {
		return err
	}
	defer rows.Close()
	caseOf := map[string]int64{}
	for rows.Next() {
		var id string
		var c int64
		if err := rows.Scan(&id, &c); err != nil {
			return err
		}
		caseOf[strings.Trim(id, "<>")] = c
	}
	if err := rows.Err(); err != nil {
		return err
	}
	wrong, opened := 0, map[int64]bool{}
	for _, m := range b.Mails {
		root := m
		for root.Parent >= 0 {
			root = b.Mails[root.Parent]
		}
		c, ok := caseOf[m.MessageID]
		switch {
		case !ok || c == 0:
			wrong++
		case m.Parent < 0 && opened[c]: // two new mails on one case
			wrong++
		case m.Parent >= 0 && c != caseOf[root.MessageID]:
			wrong++
		}
		if m.Parent < 0 {
			opened[c] = true
		}
	}
	add(prefix+": mails on a wrong or no case (want 0)", float64(wrong))
	return nil
}

// dispatch measures the dispatcher alone: with serve stopped, k sent
// notifications are queued again under fresh Message-IDs; then serve starts
// and sends them to Postfix.
func (s *stack) dispatch(k int, prefix string, add report) error {
	if err := s.stop(); err != nil {
		return err
	}
	maxOut, err := s.scalar(`SELECT coalesce(max(id), 0) FROM outbox`)
	if err != nil {
		return err
	}
	res, err := s.db.Exec(`INSERT INTO outbox (message_id, case_id, kind, recipient_id, envelope_from, recipients, subject, data)
		SELECT 'bench-' || id || '-' || message_id, case_id, kind, recipient_id, envelope_from, recipients, subject, data
		FROM outbox WHERE status = 'sent' ORDER BY id LIMIT $1`, k)
	if err != nil {
		return fmt.Errorf("queueing %d notifications again: %w", k, err)
	}
	queued, _ := res.RowsAffected()
	if queued == 0 {
		return fmt.Errorf("no sent notification to queue again")
	}
	if err := s.start(); err != nil {
		return err
	}
	w := s.watched()
	before := w.snap()
	err = s.waitFor(fmt.Sprintf("%d notifications sent", queued), 10*time.Minute, func() (bool, error) {
		c, err := s.scalar(`SELECT count(*) FROM outbox WHERE id > $1 AND status IN ('queued', 'sending')`, maxOut)
		return c == 0, err
	})
	if err != nil {
		return err
	}
	d := before.to(w.snap())
	var spanMS int64
	if spanMS, err = s.scalar(`SELECT (extract(epoch FROM max(sent_at) - min(sent_at)) * 1000)::bigint FROM outbox WHERE id > $1 AND status = 'sent'`, maxOut); err != nil {
		return err
	}
	rate := float64(queued) / d.wall.Seconds()
	if spanMS > 0 && queued >= 10 {
		rate = float64(queued-1) / (float64(spanMS) / 1000) // first to last send: start-up aside
	}
	add(fmt.Sprintf("%s: notifications/s to Postfix (%d queued)", prefix, queued), rate)
	add(prefix+": daemon CPU ms/notification", d.daemon*1000/float64(queued))
	return nil
}

// cliTimes runs the admin commands an operator runs on a big database and
// reports the median wall time of three runs each (process start included).
func (s *stack) cliTimes(prefix, whyID string, add report) error {
	for _, c := range []struct {
		label string
		args  []string
	}{
		{"cases list", []string{"cases", "list"}},
		{"cases list --search printer", []string{"cases", "list", "--search", "printer"}},
		{"cases list --search 프린터", []string{"cases", "list", "--search", "프린터"}},
		{"why <message-id>", []string{"why", whyID}},
	} {
		var times []float64
		for range 3 {
			t0 := time.Now()
			if _, err := s.cli(c.args...); err != nil {
				return err
			}
			times = append(times, time.Since(t0).Seconds()*1000)
		}
		sort.Float64s(times)
		add(prefix+": "+c.label+" ms", times[1])
	}
	return nil
}

// idle measures serve's CPU (and PostgreSQL's on its behalf) over one
// timer interval with nothing to ingest or send.
func (s *stack) idle(window time.Duration, prefix string, add report) error {
	time.Sleep(2 * time.Second) // let the last moves to Processed settle
	w := s.watched()
	before := w.snap()
	time.Sleep(window)
	d := before.to(w.snap())
	select {
	case err := <-s.done:
		s.done <- err
		return fmt.Errorf("helpdeskd serve exited while idle: %v\n%s", err, s.logTail())
	default:
	}
	pct := func(sec float64) float64 { return sec / d.wall.Seconds() * 100 }
	add(fmt.Sprintf("%s: idle daemon CPU %% of a core (%s)", prefix, window), pct(d.daemon))
	add(fmt.Sprintf("%s: idle PostgreSQL CPU %% of a core (%s)", prefix, window), pct(d.pg))
	return nil
}
