package e2e_test

import (
	"fmt"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
)

// responder is a vacation(1)-style autoresponder on the e2e mail system: it
// reads its IMAP INBOX and answers the envelope sender (Return-Path) of every
// mail with a fresh mail through Postfix — a new Message-ID, no In-Reply-To,
// no Auto-Submitted, neutral words. It answers every mail, every time: the
// worst responder there is. Mail with a null Return-Path it leaves alone, as
// every responder must (RFC 3834).
type responder struct {
	w    *world
	addr string

	mu       sync.Mutex
	answered map[imap.UID]string // UID → the address answered
	errs     []error

	stop chan struct{}
	done chan struct{}
}

func (w *world) startResponder(addr string) *responder {
	r := &responder{w: w, addr: addr, answered: map[imap.UID]string{}, stop: make(chan struct{}), done: make(chan struct{})}
	go r.run()
	w.t.Cleanup(r.close)
	return r
}

func (r *responder) close() {
	select {
	case <-r.stop:
	default:
		close(r.stop)
	}
	<-r.done
}

func (r *responder) run() {
	defer close(r.done)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-tick.C:
		}
		msgs, err := r.w.ms.fetch(r.addr, "INBOX")
		if err != nil {
			r.fail(err)
			continue
		}
		for _, m := range msgs {
			r.mu.Lock()
			_, done := r.answered[m.UID]
			r.mu.Unlock()
			if done {
				continue
			}
			to := strings.Trim(strings.TrimSpace(m.Header.Get("Return-Path")), "<>")
			if to != "" {
				if err := r.answer(to); err != nil {
					r.fail(err)
					continue
				}
			}
			r.mu.Lock()
			r.answered[m.UID] = to
			r.mu.Unlock()
		}
	}
}

func (r *responder) answer(to string) error {
	id := r.w.newID("away", r.addr)
	raw := "From: " + (&mail.Address{Name: "Kim Away", Address: r.addr}).String() + "\r\nTo: " + to + "\r\n" +
		"Subject: Away from my desk\r\nMessage-ID: <" + id + ">\r\nDate: " + time.Now().Format(time.RFC1123Z) + "\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n" +
		"I am out until next week and will read your message when I am back.\r\n"
	return r.w.ms.send(r.addr, []string{to}, []byte(raw))
}

func (r *responder) fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, err)
}

// replies returns the addresses the responder answered (mail with a null
// Return-Path excluded).
func (r *responder) replies() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, to := range r.answered {
		if to != "" {
			out = append(out, to)
		}
	}
	return out
}

func (r *responder) errors() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]error(nil), r.errs...)
}

// TestLoops_VacationResponderOpensAtMostOneJunkCase: a mail claiming to be
// from an autoresponder's address opens a case; the acknowledgement reaches
// the responder, which answers its envelope sender — our signed VERP
// address. That answer is recognised as an automated reply to our mail:
// stored, no case, no acknowledgement. The exchange stops there.
func TestLoops_VacationResponderOpensAtMostOneJunkCase(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	w.start()
	away := w.mailbox("kim", "away")
	support := w.addr("support", "help")
	r := w.startResponder(away)

	// Someone (anyone) writes to support in the responder's name.
	first := w.newID("junk", away)
	w.sendMail("thunderbird-new", away, []string{support}, mailData{
		From: person("Kim Away", away), To: support, Subject: "Newsletter signup", MessageID: first, Body: "Sign me up.",
	})
	if d, _ := w.waitIngested(first); d != "new_case" {
		t.Fatalf("the first mail: decision %q", d)
	}
	// The acknowledgement reaches the responder, and its answer reaches us.
	w.waitFor("the responder's answer to be ingested", patience, func() (bool, error) {
		var n int
		err := w.db.Get(&n, `SELECT count(*) FROM messages WHERE direction = 'in' AND from_address = $1 AND decision <> ''`, away)
		return n >= 2, err
	})
	// Give a loop every chance to happen.
	time.Sleep(8 * time.Second)
	w.waitSent()
	time.Sleep(2 * time.Second)

	if errs := r.errors(); len(errs) > 0 {
		t.Fatalf("responder: %v", errs)
	}
	if n := w.count(`SELECT count(*) FROM cases c JOIN users u ON u.id = c.submitter_id WHERE u.login_email = $1`, away); n > 1 {
		t.Fatalf("%d junk cases from the responder, want at most 1", n)
	}
	if n := w.count(`SELECT count(*) FROM outbox WHERE $1 = ANY (recipients)`, away); n > 1 {
		t.Fatalf("%d mails to the responder, want at most 1", n)
	}
	replies := r.replies()
	if len(replies) != 1 {
		t.Fatalf("the responder answered %d mails, want 1: the exchange must stop after one round", len(replies))
	}
	if !strings.HasPrefix(replies[0], "support+bounce-") || !strings.HasSuffix(replies[0], "@"+w.domain("help")) {
		t.Fatalf("the responder answered %q; want our VERP envelope sender", replies[0])
	}
	var answers []struct {
		Class    string `db:"class"`
		Decision string `db:"decision"`
		Reason   string `db:"reason"`
	}
	if err := w.db.Select(&answers, `SELECT class, decision, reason FROM messages WHERE direction = 'in' AND from_address = $1 AND message_id <> $2`, away, first); err != nil {
		t.Fatal(err)
	}
	if len(answers) != 1 || answers[0].Decision != "stored" || !strings.Contains(answers[0].Reason, "automated reply to our mail") {
		t.Fatalf("the responder's answer: %+v; want it stored as an automated reply", answers)
	}
}

// dsnMail is a delivery status notification as a mail server writes it.
func dsnMail(id, from, to, recipient, returnedID string) []byte {
	raw := "From: Mail Delivery System <" + from + ">\r\nTo: " + to + "\r\nSubject: Undelivered Mail Returned to Sender\r\n" +
		"Message-ID: <" + id + ">\r\nDate: " + time.Now().Format(time.RFC1123Z) + "\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"dsn\"\r\n\r\n" +
		"--dsn\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered to <" + recipient + ">: user unknown.\r\n" +
		"--dsn\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.evil.test\r\n\r\n" +
		"Final-Recipient: rfc822; " + recipient + "\r\nAction: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 user unknown\r\n\r\n" +
		"--dsn\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: " + to + "\r\nTo: " + recipient + "\r\nMessage-ID: <" + returnedID + ">\r\nSubject: hello\r\n\r\n" +
		"--dsn--\r\n"
	return []byte(raw)
}

// TestLoops_ForgedBounceSuppressesNobody: delivery reports for an address we
// never wrote to, and for a customer's address without proof that we wrote
// to it, are stored and explained, never acted on.
func TestLoops_ForgedBounceSuppressesNobody(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	w.start()
	support := w.addr("support", "help")
	jane := w.mailbox("jane", "acme")
	victim := w.addr("victim", "other")

	forged := map[string]string{} // Message-ID → the address it names
	for _, rcpt := range []string{victim, jane} {
		id := w.newID("forged-dsn", "x@mx.evil.test")
		forged[id] = rcpt
		if err := w.ms.send("", []string{support}, dsnMail(id, "MAILER-DAEMON@mx.evil.test", support, rcpt, "made-up."+id)); err != nil {
			t.Fatal(err)
		}
	}
	for id, rcpt := range forged {
		if d, _ := w.waitIngested(id); d != "stored" {
			t.Fatalf("forged bounce for %s: decision %q, want stored", rcpt, d)
		}
		var why struct {
			Class    string `json:"class"`
			Decision string `json:"decision"`
			Reason   string `json:"reason"`
		}
		w.cliJSON(&why, "why", id)
		if why.Class != "bounce" || !strings.Contains(why.Reason, "unverified bounce") || !strings.Contains(why.Reason, "not acted on") {
			t.Errorf("why of the forged bounce for %s: %+v", rcpt, why)
		}
	}
	if n := w.count(`SELECT count(*) FROM suppressions`); n != 0 {
		t.Fatalf("forged bounces suppressed %d addresses", n)
	}
	// Jane's acknowledgement still reaches her.
	w.openCase("Jane Doe", jane, "Printer on fire", "It smells of smoke.")
}

// TestLoops_RealBounceToOurVERPAddressSuppresses: our acknowledgement to an
// address Dovecot does not know is refused at delivery; Postfix returns a
// real DSN to the envelope sender — our VERP address, which plus-addressing
// delivers to the support mailbox — and the verified bounce suppresses the
// address and is recorded on the case.
func TestLoops_RealBounceToOurVERPAddressSuppresses(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	w.start()
	support := w.addr("support", "help")
	ghost := w.addr("ghost", "acme") // no mailbox: mail to it bounces

	first := w.newID("ghost", ghost)
	w.sendMail("thunderbird-new", ghost, []string{support}, mailData{
		From: person("Ghost", ghost), To: support, Subject: "Where is my order?", MessageID: first, Body: "Order 4711.",
	})
	decision, caseID := w.waitIngested(first)
	if decision != "new_case" {
		t.Fatalf("the first mail: decision %q", decision)
	}
	w.waitFor("the bounce of the acknowledgement to suppress "+ghost, patience, func() (bool, error) {
		var n int
		err := w.db.Get(&n, `SELECT count(*) FROM suppressions WHERE address = $1`, ghost)
		return n == 1, err
	})
	var status string
	if err := w.db.Get(&status, `SELECT status_code FROM suppressions WHERE address = $1`, ghost); err != nil || !strings.HasPrefix(status, "5.") {
		t.Fatalf("suppression status %q, %v", status, err)
	}
	var bounce struct {
		MessageID string `db:"message_id"`
		Reason    string `db:"reason"`
		CaseID    *int64 `db:"case_id"`
	}
	if err := w.db.Get(&bounce, `SELECT message_id, reason, case_id FROM messages WHERE direction = 'in' AND class = 'bounce'`); err != nil {
		t.Fatal(err)
	}
	if bounce.CaseID == nil || *bounce.CaseID != caseID || !strings.Contains(bounce.Reason, "verified bounce: it came to the envelope sender of our mail") {
		t.Fatalf("the bounce: %+v; want it verified by our envelope sender, on case %d", bounce, caseID)
	}
	c := w.showCase(caseID)
	found := false
	for _, ev := range c.Events {
		found = found || ev.Kind == "suppressed" && ev.To == ghost
	}
	if !found {
		t.Fatalf("case %d records no suppression: %+v", caseID, c.Events)
	}
	// The bounce came through the support mailbox at the plus address.
	w.waitFor("the bounce in Processed", patience, func() (bool, error) {
		ms, err := w.ms.fetch(support, "Processed")
		for _, m := range ms {
			if m.id() == bounce.MessageID {
				if to := m.Header.Get("To"); !strings.Contains(to, "support+bounce-") {
					return false, fmt.Errorf("bounce To: %q", to)
				}
				return true, nil
			}
		}
		return false, err
	})
}
