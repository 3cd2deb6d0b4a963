package helpdesk_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/helpdesk/helpdesk/helpdesk"
	"github.com/helpdesk/helpdesk/helpdesk/pgtest"
	"github.com/helpdesk/helpdesk/migrations"
)

// poisonTrigger makes PostgreSQL fail every insert of a message with this
// subject with a serialization failure: a "temporary" error that never goes
// away, as a bug could make one.
func poisonTrigger(t *testing.T, db *sqlx.DB, subject string) {
	t.Helper()
	for _, q := range []string{
		`CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.subject = '` + subject + `' THEN
				RAISE EXCEPTION 'could not serialize access' USING ERRCODE = '40001';
			END IF;
			RETURN NEW;
		END $$`,
		`CREATE TRIGGER poison BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION poison()`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
}

// logCapture keeps every record, for checks on what an operator sees.
type logCapture struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (l *logCapture) Enabled(context.Context, slog.Level) bool { return true }
func (l *logCapture) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	l.recs = append(l.recs, r.Clone())
	l.mu.Unlock()
	return nil
}
func (l *logCapture) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logCapture) WithGroup(string) slog.Handler      { return l }

func (l *logCapture) find(msg string) []map[string]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]string
	for _, r := range l.recs {
		if r.Message != msg {
			continue
		}
		m := map[string]string{"level": r.Level.String()}
		r.Attrs(func(a slog.Attr) bool { m[a.Key] = a.Value.String(); return true })
		out = append(out, m)
	}
	return out
}

func TestIngest_RepeatedTemporaryFailureSetsTheMessageAside(t *testing.T) {
	t.Parallel()
	logs := &logCapture{}
	db := pgtest.New(t)
	e := newEnvWithDB(t, db, func(c *helpdesk.IngestConfig) {
		c.MaxAttempts = 3
		c.GiveUpAfter = time.Minute
		c.Logger = slog.New(logs)
	})
	poisonTrigger(t, db, "poison")
	raw := strings.ReplaceAll(msg("jane@acme.example", "poison", "p-1@acme.example", "", "body"), "\n", "\r\n")
	in := helpdesk.Inbound{Mailbox: "support/INBOX", UIDValidity: 7, UID: 9}
	var err error
	// Three quick failures are not enough: a short outage must not cost a
	// good mail. Failing for longer than GiveUpAfter is.
	for attempt := 1; attempt <= 4; attempt++ {
		if attempt == 4 {
			e.clk.Add(time.Minute)
		}
		in.Body = strings.NewReader(raw)
		_, err = e.g.Ingest(context.Background(), in)
		if err == nil {
			t.Fatal("the poisoned insert succeeded")
		}
		if attempt < 4 && helpdesk.IsPermanent(err) {
			t.Fatalf("attempt %d: %v is permanent, want a retry", attempt, err)
		}
	}
	if !helpdesk.IsPermanent(err) || !strings.Contains(err.Error(), "gave up after 4 attempts in 1m0s") {
		t.Fatalf("fourth attempt, a minute later: %v, want permanent", err)
	}
	retries := logs.find("ingest failed temporarily; will retry")
	if len(retries) != 3 {
		t.Fatalf("%d retries logged, want 3", len(retries))
	}
	for i, r := range retries {
		if r["level"] != "WARN" || r["uid"] != "9" || r["attempt"] != string(rune('1'+i)) {
			t.Errorf("retry %d logged as %v", i+1, r)
		}
	}
	// The poller then records it as failed: the cursor moves past it, the
	// attempts are forgotten and the next mail goes in.
	if err := e.g.Fail(context.Background(), in, err); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, `SELECT count(*) FROM messages WHERE decision = 'failed' AND reason LIKE '%gave up after 4 attempts%'`); n != 1 {
		t.Fatalf("%d failed records with the reason", n)
	}
	if n := count(t, db, `SELECT count(*) FROM inbound_attempts`); n != 0 {
		t.Fatalf("%d attempt rows left", n)
	}
	in.UID, in.Body = 10, strings.NewReader(strings.ReplaceAll(msg("jane@acme.example", "fine", "p-2@acme.example", "", "body"), "\n", "\r\n"))
	if r, err := e.g.Ingest(context.Background(), in); err != nil || r.Decision != "new_case" {
		t.Fatalf("the next mail: %+v, %v", r, err)
	}
}

func TestIngest_ErrorsAboutTheMessageArePermanentAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// A mail without any sender address can never become a case.
	_, err := e.ingestErr("To: support@example.com\nSubject: who\nMessage-ID: <nofrom@acme.example>\n\nbody\n")
	if !helpdesk.IsPermanent(err) {
		t.Fatalf("err = %v, want permanent", err)
	}
	if n := count(t, e.s.DB(), `SELECT count(*) FROM inbound_attempts`); n != 0 {
		t.Fatalf("a permanent failure was counted as an attempt")
	}
}

func TestTemporary_ClassifiesByCause(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"database unavailable", helpdesk.ErrUnavailable, true},
		{"unique key taken by another daemon", helpdesk.ErrConflict, true},
		{"network", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, true},
		{"cancelled", context.Canceled, true},
		{"invalid data", helpdesk.ErrInvalid, false},
		{"anything else", errors.New("mail: malformed header"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := helpdesk.Temporary(tt.err); got != tt.want {
				t.Fatalf("Temporary(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

// switchProxy forwards TCP connections to PostgreSQL while up; while down it
// refuses them and cuts the open ones: a database outage, as the daemon sees it.
type switchProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	up     bool
	conns  []net.Conn
}

func newSwitchProxy(t *testing.T, target string) *switchProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &switchProxy{ln: ln, target: target, up: true}
	t.Cleanup(func() { ln.Close(); p.set(false) })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			up := p.up
			p.mu.Unlock()
			if !up {
				c.Close()
				continue
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			go func() { io.Copy(s, c); s.Close() }()
			go func() { io.Copy(c, s); c.Close() }()
		}
	}()
	return p
}

func (p *switchProxy) set(up bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.up = up
	if !up {
		for _, c := range p.conns {
			c.Close()
		}
		p.conns = nil
	}
}

func TestIngest_AnOutageCountsNoAttempts(t *testing.T) {
	t.Parallel()
	u, err := url.Parse(pgtest.Schema(t))
	if err != nil {
		t.Fatal(err)
	}
	p := newSwitchProxy(t, u.Host)
	u.Host = p.ln.Addr().String()
	db, err := sqlx.Open("postgres", u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := migrations.Up(context.Background(), db.DB); err != nil {
		t.Fatal(err)
	}
	e := newEnvWithDB(t, db, func(c *helpdesk.IngestConfig) { c.MaxAttempts = 2 })
	raw := strings.ReplaceAll(msg("jane@acme.example", "Help", "o-1@acme.example", "", "body"), "\n", "\r\n")
	in := helpdesk.Inbound{Mailbox: "support/INBOX", UIDValidity: 7, UID: 1}

	p.set(false)
	for i := 0; i < 5; i++ {
		in.Body = strings.NewReader(raw)
		_, err := e.g.Ingest(context.Background(), in)
		if err == nil || helpdesk.IsPermanent(err) {
			t.Fatalf("during the outage, attempt %d: err = %v, want temporary", i+1, err)
		}
	}
	p.set(true)
	in.Body = strings.NewReader(raw)
	if r, err := e.g.Ingest(context.Background(), in); err != nil || r.Decision != "new_case" {
		t.Fatalf("after the outage: %+v, %v; want the mail ingested, not given up on", r, err)
	}
}

func TestIngest_ReplyBeforeItsParentWaitsThenThreads(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	child := e.ingest(msg("jane@acme.example", "Re: Printer", "child@acme.example", "parent@acme.example", "And it smokes."))
	if child.Decision != helpdesk.DecisionWaiting || child.CaseID != 0 {
		t.Fatalf("reply before its parent: %+v, want waiting", child)
	}
	if n, err := e.g.ResolveWaiting(ctx, e.clk.Now()); err != nil || n != 0 {
		t.Fatalf("nothing to decide yet: %d, %v", n, err)
	}
	parent := e.ingest(msg("jane@acme.example", "Printer", "parent@acme.example", "", "It is on fire."))
	if parent.Decision != "new_case" {
		t.Fatalf("parent: %+v", parent)
	}
	if n, err := e.g.ResolveWaiting(ctx, e.clk.Now()); err != nil || n != 1 {
		t.Fatalf("ResolveWaiting after the parent came: %d, %v", n, err)
	}
	w, err := helpdesk.ExplainMessage(ctx, e.s.DB(), "child@acme.example")
	if err != nil {
		t.Fatal(err)
	}
	if w.Decision != "comment" || w.CaseID == nil || *w.CaseID != parent.CaseID {
		t.Fatalf("the early reply: %s on %v, want a comment on case %d", w.Decision, w.CaseID, parent.CaseID)
	}
	if n := count(t, e.s.DB(), `SELECT count(*) FROM cases`); n != 1 {
		t.Fatalf("%d cases, want 1", n)
	}
}

func TestIngest_ReplyWhoseParentNeverComesOpensACaseAfterTheWait(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	if r := e.ingest(msg("jane@acme.example", "Re: old thread", "orphan@acme.example", "elsewhere@acme.example", "Hello?")); r.Decision != helpdesk.DecisionWaiting {
		t.Fatalf("%+v, want waiting", r)
	}
	e.clk.Add(time.Minute)
	if n, _ := e.g.ResolveWaiting(ctx, e.clk.Now()); n != 0 {
		t.Fatalf("decided %d before the wait was over", n)
	}
	e.clk.Add(2 * time.Minute)
	if n, err := e.g.ResolveWaiting(ctx, e.clk.Now()); err != nil || n != 1 {
		t.Fatalf("after the wait: %d, %v", n, err)
	}
	w, err := helpdesk.ExplainMessage(ctx, e.s.DB(), "orphan@acme.example")
	if err != nil || w.Decision != "new_case" || w.Mailbox != "support/INBOX" {
		t.Fatalf("orphan: %+v, %v; want a new case, still naming its mailbox", w, err)
	}
	if n, _ := e.g.ResolveWaiting(ctx, e.clk.Now()); n != 0 {
		t.Fatalf("decided again: %d", n)
	}
}

func TestIngest_RepliesToOurOwnMailNeverWait(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// A reply naming only our Message-IDs: ours are known when sent, so an
	// unknown one will never arrive.
	r := e.ingest(msg("jane@acme.example", "Re: x", "own-ref@acme.example", "hd.unknown@example.com", "Hi"))
	if r.Decision != "new_case" {
		t.Fatalf("%+v, want a new case at once", r)
	}
}

func TestIngest_MalformedMessageIDIsNormalisedAndRepliesThread(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	first := e.ingest("From: jane@acme.example\nTo: support@example.com\nSubject: Help\nMessage-ID: <abc123>\n\nIt broke.\n")
	if first.Decision != "new_case" {
		t.Fatalf("%+v", first)
	}
	// The acknowledgement was built: it answers the id the mail is stored under.
	rows := outbox(t, e.s.DB(), first.CaseID)
	if len(rows) == 0 || !strings.Contains(string(rows[0].Data), "In-Reply-To: <"+first.MessageID+">") {
		t.Fatalf("acknowledgement: %d rows", len(rows))
	}
	reply := e.ingest("From: jane@acme.example\nTo: support@example.com\nSubject: Re: Help\nMessage-ID: <r1@acme.example>\nIn-Reply-To: <abc123>\n\nMore.\n")
	if reply.Decision != "comment" || reply.CaseID != first.CaseID {
		t.Fatalf("reply to the malformed id: %+v, want a comment on case %d", reply, first.CaseID)
	}
	w, err := helpdesk.ExplainMessage(ctx, e.s.DB(), "<abc123>")
	if err != nil || w.OriginalID != "<abc123>" || w.MessageID != first.MessageID {
		t.Fatalf("why <abc123>: %+v, %v", w, err)
	}
	// A client that writes the same broken id on every mail: each new mail
	// is a mail of its own, not a duplicate of the first.
	second := e.ingest("From: jane@acme.example\nTo: support@example.com\nSubject: Other problem\nMessage-ID: <abc123>\n\nSomething else.\n")
	if second.Duplicate || second.Decision != "new_case" || second.CaseID == first.CaseID {
		t.Fatalf("second mail with the same broken id: %+v", second)
	}
}

func TestIngest_SubjectWithLineBreaksIsStoredOnOneLine(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.ingest(msg("jane@acme.example", "=?utf-8?Q?Printer=0D=0Ais_down=0A=0ABcc:_x@evil.example?=", "crlf@acme.example", "", "body"))
	var subject string
	if err := e.s.DB().Get(&subject, `SELECT subject FROM cases WHERE id = $1`, r.CaseID); err != nil {
		t.Fatal(err)
	}
	if subject != "Printer is down Bcc: x@evil.example" {
		t.Fatalf("case subject %q, want one line", subject)
	}
	for _, row := range outbox(t, e.s.DB(), r.CaseID) {
		head, _, _ := strings.Cut(string(row.Data), "\r\n\r\n")
		for _, line := range strings.Split(head, "\r\n") {
			if strings.HasPrefix(line, "Bcc:") {
				t.Fatalf("%s mail grew a header from the subject: %q", row.Kind, line)
			}
		}
	}
}

func TestIngest_ACustomerCannotSilenceTheAgentsWithAForgedReport(t *testing.T) {
	e := newEnv(t)
	first := e.ingest(msg("Jane <jane@acme.example>", "Help", "silence-1@acme.example", "", "It broke."))
	var notice string
	if err := e.s.DB().Get(&notice, `UPDATE outbox SET status = 'sent', attempts = 1, sent_at = now() WHERE case_id = $1 AND 'agents@example.com' = ANY(recipients)
		RETURNING message_id`, first.CaseID); err != nil {
		t.Fatal(err)
	}
	// The notice's Message-ID is in the References of mail the customer
	// gets, so she can name it in a report of her own making.
	r := e.ingest(dsn("forged@acme.example", "support@example.com", "agents@example.com", "failed", "5.1.1",
		"X-Original-Message-ID: <"+notice+">\n", "Message-ID: <"+notice+">"))
	if r.Class != "bounce" || !strings.Contains(r.Reason, "unverified bounce") {
		t.Fatalf("forged report: %+v", r)
	}
	if suppressed(t, e, "agents@example.com") {
		t.Fatal("a forged report naming the agent notice suppressed the agents")
	}
}

func TestIngest_AWaitingMailThatCannotBeDecidedHoldsNoOther(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	// No sender at all, and a reply: it waits, and can never open a case.
	bad := e.ingest("To: support@example.com\nSubject: Re: ?\nMessage-ID: <nobody@acme.example>\nIn-Reply-To: <gone@elsewhere.example>\n\nwho?\n")
	if bad.Decision != helpdesk.DecisionWaiting {
		t.Fatalf("%+v, want waiting", bad)
	}
	good := e.ingest(msg("jane@acme.example", "Re: Printer", "good-child@acme.example", "good-parent@acme.example", "Smoke."))
	parent := e.ingest(msg("jane@acme.example", "Printer", "good-parent@acme.example", "", "Fire."))
	if good.Decision != helpdesk.DecisionWaiting || parent.Decision != "new_case" {
		t.Fatalf("child %+v, parent %+v", good, parent)
	}
	e.clk.Add(3 * time.Minute)
	n, err := e.g.ResolveWaiting(ctx, e.clk.Now())
	if err != nil || n != 2 {
		t.Fatalf("ResolveWaiting: %d, %v; want both decided", n, err)
	}
	w, err := helpdesk.ExplainMessage(ctx, e.s.DB(), "good-child@acme.example")
	if err != nil || w.Decision != "comment" || w.CaseID == nil || *w.CaseID != parent.CaseID {
		t.Fatalf("the good reply: %+v, %v", w, err)
	}
	w, err = helpdesk.ExplainMessage(ctx, e.s.DB(), "nobody@acme.example")
	if err != nil || w.Decision != "failed" || !strings.Contains(w.Reason, "could not be decided") {
		t.Fatalf("the bad reply: %+v, %v", w, err)
	}
	if n, err := e.g.ResolveWaiting(ctx, e.clk.Now()); err != nil || n != 0 {
		t.Fatalf("a second pass: %d, %v", n, err)
	}
}
