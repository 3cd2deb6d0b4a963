package e2e_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"
)

// killPoint is the state of the database right after a kill -9.
type killPoint struct {
	ingested, sent, queued int
	inDoubt                []string // outbox Message-IDs that were being sent
}

// killNine kills the daemon, records what was in flight, and expires the
// leases of the rows it was sending. A lease (5 minutes) is how the
// dispatcher takes over rows of a crashed sender; expiring it now stands in
// for waiting that long before the restart. A row in flight may or may not
// have reached Postfix: it is "in doubt", and SMTP cannot tell.
func (w *world) killNine() killPoint {
	w.t.Helper()
	w.kill()
	var k killPoint
	k.ingested = w.count(`SELECT count(*) FROM messages WHERE direction = 'in'`)
	k.sent = w.count(`SELECT count(*) FROM outbox WHERE status = 'sent'`)
	k.queued = w.count(`SELECT count(*) FROM outbox WHERE status = 'queued'`)
	if err := w.db.Select(&k.inDoubt, `SELECT message_id FROM outbox WHERE status = 'sending'`); err != nil {
		w.t.Fatal(err)
	}
	if _, err := w.db.Exec(`UPDATE outbox SET lease_until = now() - interval '1 second' WHERE status = 'sending'`); err != nil {
		w.t.Fatal(err)
	}
	return k
}

// killWhen waits until at least lo mails are ingested and a notification
// is being sent (or hi mails are ingested, if no send is caught in the act).
func (w *world) killWhen(what string, lo, hi int) {
	w.t.Helper()
	deadline := time.Now().Add(3 * patience)
	for {
		var st struct {
			In      int `db:"inbound"`
			Sending int `db:"sending"`
		}
		err := w.db.Get(&st, `SELECT (SELECT count(*) FROM messages WHERE direction = 'in') AS inbound,
			(SELECT count(*) FROM outbox WHERE status = 'sending') AS sending`)
		if err != nil {
			w.t.Fatal(err)
		}
		if st.In >= hi || (st.In >= lo && st.Sending > 0) {
			return
		}
		if !w.d.running() {
			w.t.Fatalf("waiting for %s: helpdeskd serve exited: %v\n%s", what, w.d.err, tailFile(w.d.log, 30))
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestCrash_KillNineDuring500MailsLosesNothingAndDuplicatesNothing(t *testing.T) {
	t.Parallel()
	const (
		customers = 25
		originals = 400 // new mails: a case each, an acknowledgement and an agent notice each
		followUps = 100 // customers writing again on their case: a comment and an agent notice each
	)
	w := newWorld(t, map[string]string{
		// 16 new cases per customer and 500 agent notices: no budget or limit may hold any back.
		"HELPDESK_CASE_BUDGET":       "100000",
		"HELPDESK_RECIPIENT_BUDGET":  "100000",
		"HELPDESK_AGENT_BUDGET":      "100000",
		"HELPDESK_SENDER_CASE_LIMIT": "0",
	})
	locals := make([]string, customers)
	for i := range locals {
		locals[i] = fmt.Sprintf("c%02d", i)
	}
	addrs := w.mailboxes("acme", locals...)
	support, agents := w.addr("support", "help"), w.addr("agents", "help")
	w.start()
	began := time.Now()

	type mailSent struct{ id, from, replyTo string }
	var all []mailSent
	sendBatch := func(batch []mailSent, tmpl string) {
		s, err := w.ms.dialSMTP("client.e2e.localhost")
		if err != nil {
			t.Fatal(err)
		}
		defer s.close()
		for i, m := range batch {
			d := mailData{From: person(fmt.Sprintf("Customer %s", m.from[:3]), m.from), To: support, MessageID: m.id,
				Subject: fmt.Sprintf("Problem report %d", i), Body: fmt.Sprintf("Report %d: the export job fails with code %d.", i, 1000+i)}
			if m.replyTo != "" {
				d.Subject, d.InReplyTo, d.References = "Re: Problem report", "<"+m.replyTo+">", "<"+m.replyTo+">"
				d.Body = "One more detail: it only fails on the first run of the day."
			}
			if _, err := s.send(m.from, []string{support}, render(t, tmpl, d)); err != nil {
				t.Fatalf("mail %d of %d: %v", i, len(batch), err)
			}
		}
	}

	// 1. The new mails. Kill -9 while they are ingested and their notifications sent.
	batch := make([]mailSent, originals)
	for i := range batch {
		from := addrs[i%customers]
		batch[i] = mailSent{id: w.newID("crash", from), from: from}
	}
	all = append(all, batch...)
	sendBatch(batch, "thunderbird-new")
	w.killWhen("ingest and sending under way", originals/4, originals*3/4)
	k1 := w.killNine()
	w.start()
	w.waitFor("the new mails ingested after the restart", 3*patience, func() (bool, error) {
		return w.count(`SELECT count(*) FROM messages WHERE direction = 'in'`) == originals, nil
	})

	// 2. Follow-ups on the first cases. Kill -9 again while they are ingested.
	batch = make([]mailSent, followUps)
	for i := range batch {
		batch[i] = mailSent{id: w.newID("again", all[i].from), from: all[i].from, replyTo: all[i].id}
	}
	all = append(all, batch...)
	sendBatch(batch, "apple-mail-reply")
	w.killWhen("follow-ups under way", originals+followUps/5, originals+followUps*4/5)
	k2 := w.killNine()
	w.start()

	total := originals + followUps
	wantOutbox := 2*originals + followUps
	w.waitFor("every mail ingested and every notification sent", 3*patience, func() (bool, error) {
		var done struct {
			In      int `db:"inbound"`
			Outbox  int `db:"outbox"`
			Pending int `db:"pending"`
		}
		err := w.db.Get(&done, `SELECT (SELECT count(*) FROM messages WHERE direction = 'in') AS inbound,
			(SELECT count(*) FROM outbox) AS outbox,
			(SELECT count(*) FROM outbox WHERE status IN ('queued', 'sending')) AS pending`)
		return done.In == total && done.Outbox == wantOutbox && done.Pending == 0, err
	})
	w.waitFor("every notification delivered into Dovecot", 3*patience, func() (bool, error) {
		n, err := w.ms.count(agents, "INBOX")
		if err != nil || n < originals+followUps {
			return false, err
		}
		sum := 0
		for _, a := range addrs {
			n, err := w.ms.count(a, "INBOX")
			if err != nil {
				return false, err
			}
			sum += n
		}
		return sum >= originals, nil
	})
	w.waitFor("support's INBOX emptied into Processed", patience, func() (bool, error) {
		in, err := w.ms.count(support, "INBOX")
		if err != nil {
			return false, err
		}
		done, err := w.ms.count(support, "Processed")
		return in == 0 && done >= total, err
	})
	elapsed := time.Since(began)

	// Every mail is exactly one message row: a case for a new mail, a comment
	// on the right case for a follow-up.
	var rows []struct {
		MessageID string `db:"message_id"`
		Decision  string `db:"decision"`
		CaseID    *int64 `db:"case_id"`
	}
	if err := w.db.Select(&rows, `SELECT message_id, decision, case_id FROM messages WHERE direction = 'in'`); err != nil {
		t.Fatal(err)
	}
	byID := map[string]int64{}
	for _, r := range rows {
		if _, dup := byID[r.MessageID]; dup {
			t.Errorf("<%s> is recorded twice", r.MessageID)
		}
		if r.CaseID == nil {
			t.Errorf("<%s>: decision %q, no case", r.MessageID, r.Decision)
			continue
		}
		byID[r.MessageID] = *r.CaseID
	}
	caseOf := map[int64]string{}
	for i, m := range all {
		c, ok := byID[m.id]
		switch {
		case !ok:
			t.Errorf("mail %d <%s> was lost", i, m.id)
		case m.replyTo == "":
			if prev, dup := caseOf[c]; dup {
				t.Errorf("new mails <%s> and <%s> share case %d", prev, m.id, c)
			}
			caseOf[c] = m.id
		case c != byID[m.replyTo]:
			t.Errorf("follow-up <%s> is on case %d, want %d (the case of <%s>)", m.id, c, byID[m.replyTo], m.replyTo)
		}
	}
	if n := w.count(`SELECT count(*) FROM cases`); n != originals {
		t.Errorf("%d cases, want %d", n, originals)
	}
	if n := w.count(`SELECT count(DISTINCT message_id) FROM comments`); n != total {
		t.Errorf("%d comments made from mail, want %d", n, total)
	}
	if n := w.count(`SELECT count(*) FROM comments`); n != total {
		t.Errorf("%d comments, want %d", n, total)
	}

	// Every notification row exists once and was sent.
	out := w.outbox(``)
	kinds := map[string]int{}
	for _, r := range out {
		kinds[r.Kind]++
		if r.Status != "sent" {
			t.Errorf("outbox %d (%s to %s): status %s", r.ID, r.Kind, r.Recipient, r.Status)
		}
	}
	if want := map[string]int{"case_received": originals, "agent_new_case": originals, "agent_customer_replied": followUps}; fmt.Sprint(kinds) != fmt.Sprint(want) {
		t.Errorf("outbox rows by kind %v, want %v", kinds, want)
	}
	if n := w.count(`SELECT count(*) FROM (SELECT case_id, kind FROM outbox WHERE kind IN ('case_received', 'agent_new_case')
		GROUP BY case_id, kind HAVING count(*) > 1) x`); n != 0 {
		t.Errorf("%d cases have a notification twice", n)
	}

	// Every row reached its recipient's mailbox: once, except that a row
	// killed mid-send may have been accepted by Postfix already and is sent
	// again after the restart (SMTP cannot make that exactly-once).
	inDoubt := map[string]bool{}
	for _, id := range append(k1.inDoubt, k2.inDoubt...) {
		inDoubt[id] = true
	}
	copies := map[string]int{}
	for _, a := range append([]string{agents}, addrs...) {
		ms, err := w.ms.fetchHeaders(a, "INBOX", "Message-ID")
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			copies[m.id()]++
		}
	}
	duplicated := 0
	for _, r := range out {
		n := copies[r.MessageID]
		delete(copies, r.MessageID)
		switch {
		case n == 0:
			t.Errorf("outbox %d (%s to %s) <%s> is marked sent but not in the mailbox", r.ID, r.Kind, r.Recipient, r.MessageID)
		case n == 2 && inDoubt[r.MessageID]:
			duplicated++
		case n > 1:
			t.Errorf("outbox %d (%s to %s) <%s> arrived %d times", r.ID, r.Kind, r.Recipient, r.MessageID, n)
		}
	}
	var strays []string
	for id := range copies {
		strays = append(strays, id)
	}
	sort.Strings(strays)
	if len(strays) > 0 {
		t.Errorf("mails in the mailboxes that no outbox row sent: %s", strings.Join(strays, ", "))
	}
	processed, err := w.ms.fetchHeaders(support, "Processed", "Message-ID")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, m := range processed {
		if seen[m.id()] {
			t.Errorf("<%s> is twice in support's Processed folder", m.id())
		}
		seen[m.id()] = true
	}

	t.Logf("%d mails in, %d notifications out in %s with two kill -9s", total, len(out), elapsed.Round(100*time.Millisecond))
	for i, k := range []killPoint{k1, k2} {
		t.Logf("kill %d: %d mails ingested, %d notifications sent, %d queued, %d in flight", i+1, k.ingested, k.sent, k.queued, len(k.inDoubt))
	}
	t.Logf("in-flight notifications delivered twice (accepted by Postfix before the kill, sent again after): %d of %d", duplicated, len(inDoubt))
}
