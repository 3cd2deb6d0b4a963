package e2e_test

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	netmail "net/mail"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/helpdesk/helpdesk/helpdesk/pgtest"
)

// TestLatency_MailToCaseAndToAcknowledgement measures, over 100 mails sent
// one at a time, the time from Postfix accepting a customer's mail (the 250
// after DATA) to the case existing in PostgreSQL, and to the acknowledgement
// being in the customer's Dovecot mailbox; p50 and p99, in two modes:
//
//   - idle: Dovecot offers IDLE; the daemon idles (poll interval 30s, a
//     safety net only).
//   - poll-1s: a second Dovecot whose CAPABILITY omits IDLE (imap_capability),
//     so the daemon polls every HELPDESK_IMAP_POLL_INTERVAL=1s.
//
// Each mail waits a random gap first, so that sends do not lock step with the
// poll timer. Performance figures only: nothing here asserts a duration. Run:
//
//	HELPDESK_E2E_LATENCY=1 go test -run TestLatency -v ./cmd/helpdeskd/e2e/
func TestLatency_MailToCaseAndToAcknowledgement(t *testing.T) {
	if os.Getenv("HELPDESK_E2E_LATENCY") == "" {
		t.Skip("a measurement of several minutes: set HELPDESK_E2E_LATENCY=1 to run it")
	}
	const mails = 100
	modes := []struct {
		name   string
		noIdle bool
		poll   string
		gap    time.Duration // the random wait before each mail is below this
	}{
		{"idle", false, "30s", 300 * time.Millisecond},
		{"poll-1s", true, "1s", time.Second},
	}
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			dbURL := pgtest.Schema(t)
			bin, ms := setup(t)
			if mode.noIdle {
				var err error
				if ms, err = startMailSystem(shared.dir, mailOptions{NoIdle: true}); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { ms.Close() })
			}
			w := newWorldOn(t, bin, ms, dbURL, map[string]string{
				"HELPDESK_IMAP_POLL_INTERVAL": mode.poll,
				"HELPDESK_RECIPIENT_BUDGET":   "100000",
				"HELPDESK_AGENT_BUDGET":       "100000",
				"HELPDESK_SENDER_CASE_LIMIT":  "0", // one probe address opens 101 cases
			})
			customer := w.mailbox("lat", "acme")
			support := w.addr("support", "help")
			w.start()
			w.waitFor("the daemon's IMAP session", patience, func() (bool, error) {
				b, err := os.ReadFile(w.d.log)
				return strings.Contains(string(b), `msg="mailbox connected"`), err
			})
			b, _ := os.ReadFile(w.d.log)
			if want := fmt.Sprintf("idle=%v", !mode.noIdle); !strings.Contains(string(b), want) {
				t.Fatalf("the daemon's session is not in %s mode (want %s in its log):\n%s", mode.name, want, b)
			}

			inbox, err := newInboxWatcher(ms, customer)
			if err != nil {
				t.Fatal(err)
			}
			defer inbox.Close()
			smtp, err := ms.dialSMTP("client.e2e.localhost")
			if err != nil {
				t.Fatal(err)
			}
			defer smtp.close()

			var toCase, toAck []time.Duration
			for i := -1; i < mails; i++ { // mail -1 warms up: connections, caches, first plans
				time.Sleep(rand.N(mode.gap))
				id := w.newID("lat", customer)
				raw := render(t, "thunderbird-new", mailData{From: person("Latency Probe", customer), To: support,
					Subject: fmt.Sprintf("Latency probe %d", i), MessageID: id, Body: "Measuring."})
				if _, err := smtp.send(customer, []string{support}, raw); err != nil {
					t.Fatal(err)
				}
				accepted := time.Now()
				var c, a time.Duration
				w.pollFor("the case of <"+id+">", 5*time.Millisecond, func() bool {
					return w.count(`SELECT count(*) FROM messages WHERE message_id = $1 AND direction = 'in' AND case_id IS NOT NULL`, id) == 1
				})
				c = time.Since(accepted)
				w.pollFor("the acknowledgement of <"+id+">", 5*time.Millisecond, func() bool {
					ok, err := inbox.repliedTo(id)
					if err != nil {
						t.Fatal(err)
					}
					return ok
				})
				a = time.Since(accepted)
				if i >= 0 {
					toCase, toAck = append(toCase, c), append(toAck, a)
				}
			}
			t.Logf("%s: Postfix accepted → case exists:        %s", mode.name, summary(toCase))
			t.Logf("%s: Postfix accepted → ack in the mailbox: %s", mode.name, summary(toAck))
		})
	}
}

// pollFor polls cond every interval until it holds (or a generous deadline).
func (w *world) pollFor(what string, every time.Duration, cond func() bool) {
	w.t.Helper()
	deadline := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(deadline) {
			w.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(every)
	}
}

// summary formats p50, p99 (nearest rank), min, mean and max.
func summary(ds []time.Duration) string {
	if len(ds) == 0 {
		return "no samples"
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	rank := func(p float64) time.Duration { return s[int(math.Ceil(p*float64(len(s))))-1] }
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%dms", d.Milliseconds()) }
	return fmt.Sprintf("p50 %s  p99 %s  (min %s, mean %s, max %s; n=%d)",
		ms(rank(0.50)), ms(rank(0.99)), ms(s[0]), ms(sum/time.Duration(len(s))), ms(s[len(s)-1]), len(s))
}

// inboxWatcher keeps a mailbox selected and notices new mail with NOOP,
// which Dovecot answers with any new EXISTS: no IDLE in the measuring path.
type inboxWatcher struct {
	*imapConn
	seen    uint32
	replies map[string]bool // In-Reply-To of the mails seen
}

func newInboxWatcher(ms *mailSystem, addr string) (*inboxWatcher, error) {
	c, err := ms.imapSession(addr)
	if err != nil {
		return nil, err
	}
	sel, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		c.Close()
		return nil, err
	}
	return &inboxWatcher{imapConn: c, seen: sel.NumMessages, replies: map[string]bool{}}, nil
}

// repliedTo reports whether a mail answering Message-ID id has arrived.
func (iw *inboxWatcher) repliedTo(id string) (bool, error) {
	if iw.replies[id] {
		return true, nil
	}
	if err := iw.extend(30 * time.Second); err != nil {
		return false, err
	}
	if err := iw.Noop().Wait(); err != nil {
		return false, err
	}
	n := iw.Mailbox().NumMessages
	if n <= iw.seen {
		return false, nil
	}
	section := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, HeaderFields: []string{"In-Reply-To"}, Peek: true}
	bufs, err := iw.Fetch(imap.SeqSet{{Start: iw.seen + 1, Stop: n}}, &imap.FetchOptions{
		BodySection: []*imap.FetchItemBodySection{section},
	}).Collect()
	if err != nil {
		return false, err
	}
	iw.seen = n
	for _, b := range bufs {
		m, err := netmail.ReadMessage(bytes.NewReader(b.FindBodySection(section)))
		if err != nil {
			return false, err
		}
		for _, r := range ids(m.Header.Get("In-Reply-To")) {
			iw.replies[r] = true
		}
	}
	return iw.replies[id], nil
}
