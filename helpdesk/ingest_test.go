package helpdesk_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/helpdesk/helpdesk/helpdesk"
	"github.com/helpdesk/helpdesk/helpdesk/lifecycle"
	"github.com/helpdesk/helpdesk/helpdesk/pgtest"
	"github.com/helpdesk/helpdesk/migrations"
	"github.com/helpdesk/helpdesk/templates"
	"github.com/helpdesk/helpdesk/threading"
)

const loopID = "test-instance"

type env struct {
	t   testing.TB
	s   *helpdesk.Store
	g   *helpdesk.Ingester
	lc  *helpdesk.Lifecycle
	clk *clock
	uid uint32
}

func newEnv(t testing.TB) *env {
	t.Helper()
	return newEnvWithDB(t, pgtest.New(t))
}

func newEnvWithDB(t testing.TB, db *sqlx.DB, opts ...func(*helpdesk.IngestConfig)) *env {
	t.Helper()
	s, err := helpdesk.NewStore(db)
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := templates.New(templates.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := threading.NewTokens("test-secret-0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	n, err := helpdesk.NewNotifier(helpdesk.NotifierConfig{Templates: tmpl, Tokens: tokens, SupportAddress: "support@example.com",
		Name: "Example Support", MessageIDDomain: "example.com", LoopID: loopID, AgentAddress: "agents@example.com",
		ManagerAddress: "boss@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{now: time.Date(2026, 11, 20, 6, 0, 0, 0, time.UTC)}
	cfg := helpdesk.IngestConfig{Own: []string{"support@example.com"}, MessageIDDomain: "example.com",
		LoopID: loopID, Notifier: n, Tokens: tokens, Now: clk.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, o := range opts {
		o(&cfg)
	}
	g, err := helpdesk.NewIngester(s, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	mustOrg(t, s.DB(), "Example", "", "example.com")
	mustOrg(t, s.DB(), "Acme", "premium", "acme.example")
	mustUser(t, s.DB(), "alice@example.com", "agent", "Example")
	u, err := helpdesk.CreateUser(ctx, s.DB(), helpdesk.NewUser{Email: "minsu@acme.example", Name: "김민수", Role: "customer", Org: "Acme", Locale: "ko"})
	if err != nil {
		t.Fatal(err)
	}
	if err := helpdesk.AddUserAddress(ctx, s.DB(), u.ID, "minsu.kim@gmail.example"); err != nil {
		t.Fatal(err)
	}
	lc, err := helpdesk.NewLifecycle(s, n, lifecycle.DefaultPolicy(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, s: s, g: g, lc: lc, clk: clk}
}

func (e *env) ingest(raw string) helpdesk.Result {
	e.t.Helper()
	r, err := e.ingestErr(raw)
	if err != nil {
		e.t.Fatalf("Ingest: %v", err)
	}
	return r
}

func (e *env) ingestErr(raw string) (helpdesk.Result, error) {
	e.uid++
	raw = strings.ReplaceAll(raw, "\n", "\r\n")
	return e.g.Ingest(context.Background(), helpdesk.Inbound{Mailbox: "support/INBOX", UIDValidity: 7, UID: e.uid, Size: int64(len(raw)), Body: strings.NewReader(raw)})
}

func msg(from, subject, id, inReplyTo, body string, extra ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\nTo: support@example.com\nSubject: %s\nMessage-ID: <%s>\nDate: Fri, 20 Nov 2026 15:00:00 +0900\n", from, subject, id)
	if inReplyTo != "" {
		fmt.Fprintf(&b, "In-Reply-To: <%s>\nReferences: <garbage <%s>\n", inReplyTo, inReplyTo)
	}
	for _, h := range extra {
		b.WriteString(h + "\n")
	}
	b.WriteString("Content-Type: text/plain; charset=UTF-8\n\n" + body + "\n")
	return b.String()
}

func count(t testing.TB, db *sqlx.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.Get(&n, query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

type outRow struct {
	Kind       string   `db:"kind"`
	Recipients []string `db:"-"`
	Rcpt       string   `db:"rcpt"`
	MessageID  string   `db:"message_id"`
	Data       []byte   `db:"data"`
	Status     string   `db:"status"`
}

func outbox(t testing.TB, db *sqlx.DB, caseID int64) []outRow {
	t.Helper()
	var rows []outRow
	if err := db.Select(&rows, `SELECT kind, array_to_string(recipients, ',') AS rcpt, message_id, data, status FROM outbox WHERE case_id = $1 ORDER BY id`, caseID); err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestIngest_NewMailOpensACaseAndAcknowledges(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	raw, err := os.ReadFile("testdata/new-case-korean.eml")
	if err != nil {
		t.Fatal(err)
	}
	r := e.ingest(string(raw))
	if r.Decision != "new_case" || r.CaseID == 0 || r.Class != "human" || r.MessageID != "CAKx1+first@mail.gmail.com" {
		t.Fatalf("result = %+v", r)
	}
	d, err := helpdesk.GetCaseDetail(context.Background(), e.s.DB(), r.CaseID)
	if err != nil {
		t.Fatal(err)
	}
	if d.Subject != "프린터가 안 돼요" || d.Status != "open" || d.Submitter != "minsu@acme.example" || d.Org != "Acme" {
		t.Fatalf("case = %+v", d.Case)
	}
	if len(d.Comments) != 1 || !strings.Contains(d.Comments[0].Body, "3층 프린터가") || !d.Comments[0].Public {
		t.Fatalf("comments = %+v", d.Comments)
	}
	if a := d.Comments[0].Attachments; len(a) != 1 || a[0].Filename != "오류.png" || a[0].Size != 70 || a[0].ContentType != "image/png" {
		t.Fatalf("attachments = %+v", a)
	}
	out := outbox(t, e.s.DB(), r.CaseID)
	if len(out) != 2 || out[0].Kind != "case_received" || out[0].Rcpt != "minsu@acme.example" || out[1].Kind != "agent_new_case" || out[1].Rcpt != "agents@example.com" {
		t.Fatalf("outbox = %+v", out)
	}
	ack := string(out[0].Data)
	for _, want := range []string{"In-Reply-To: <CAKx1+first@mail.gmail.com>", "Auto-Submitted: auto-replied", "X-Auto-Response-Suppress: All",
		"X-Helpdesk-Loop: " + loopID, "Reply-To:", "support+v1-"} {
		if !strings.Contains(ack, want) {
			t.Errorf("acknowledgement lacks %q:\n%s", want, ack)
		}
	}
	if cur := count(t, e.s.DB(), `SELECT last_uid FROM mailbox_cursors WHERE mailbox = 'support/INBOX'`); cur != 1 {
		t.Fatalf("cursor = %d, want 1", cur)
	}
	var raw2 []byte
	if err := e.s.DB().Get(&raw2, `SELECT string_agg(c.data, ''::bytea ORDER BY c.seq) FROM messages m JOIN raw_chunks c ON c.raw_id = m.raw_id WHERE m.message_id = $1`, r.MessageID); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(raw2, []byte(strings.ReplaceAll(string(raw), "\n", "\r\n"))) {
		t.Fatal("stored raw mail differs from what was delivered")
	}
}

func TestIngest_SameMessageTwiceIsOneCase(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	m := msg("Jane <jane@acme.example>", "Help", "dup-1@acme.example", "", "It broke.")
	first := e.ingest(m)
	second := e.ingest(m)
	if first.Duplicate || !second.Duplicate {
		t.Fatalf("first = %+v, second = %+v", first, second)
	}
	if n := count(t, e.s.DB(), `SELECT count(*) FROM cases`); n != 1 {
		t.Fatalf("%d cases, want 1", n)
	}
	if n := count(t, e.s.DB(), `SELECT count(*) FROM outbox`); n != 2 {
		t.Fatalf("%d notifications, want the 2 of the first delivery", n)
	}
	if n := count(t, e.s.DB(), `SELECT count(*) FROM raw_messages`); n != 1 {
		t.Fatalf("%d raw messages kept, want 1", n)
	}
	if cur := count(t, e.s.DB(), `SELECT last_uid FROM mailbox_cursors`); cur != 2 {
		t.Fatalf("cursor = %d, want 2 (the duplicate is consumed)", cur)
	}
}

func TestIngest_ThreadsRepliesByInReplyToAndReferences(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mustUser(t, e.s.DB(), "carla@acme.example", "contact", "Acme")
	first := e.ingest(msg("Jane <jane@acme.example>", "Help", "t-1@acme.example", "", "It broke."))
	ack := outbox(t, e.s.DB(), first.CaseID)[0].MessageID

	for _, tc := range []struct {
		name, raw, rule string
	}{
		{"reply to the acknowledgement (token in our Message-ID)", msg("jane@acme.example", "Re: Help", "t-2@acme.example", ack, "More detail."), "token"},
		{"reply to her own first mail", msg("jane@acme.example", "Re: Help", "t-3@acme.example", "t-1@acme.example", "Still broken."), "in-reply-to"},
		{"only References, garbage before the id", "From: jane@acme.example\nTo: support@example.com\nSubject: RE: Help\nMessage-ID: <t-4@acme.example>\nReferences: <unknown@x> junk (comment) <t-1@acme.example>\n\nAnother.\n", "references"},
		{"a contact of the same org", msg("Carla <carla@acme.example>", "Re: Help", "t-5@acme.example", ack, "Me too."), "token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.ingest(tc.raw)
			if r.CaseID != first.CaseID || r.Decision != "comment" || r.Rule != tc.rule {
				t.Fatalf("result = %+v, want a comment on case %d by %s", r, first.CaseID, tc.rule)
			}
		})
	}
	if n := count(t, e.s.DB(), `SELECT count(*) FROM cases`); n != 1 {
		t.Fatalf("%d cases, want 1", n)
	}
	two := e.ingest(msg("jane@acme.example", "Help", "t-6@acme.example", "", "A new problem with the same subject."))
	if two.CaseID == first.CaseID || two.Decision != "new_case" {
		t.Fatalf("same subject without references: %+v; subject text must never thread", two)
	}
}

func TestIngest_NotificationsGoToTheLoginEmail(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	first := e.ingest(msg("Minsu <minsu.kim@gmail.example>", "VPN", "n-1@gmail.example", "", "VPN is down."))
	out := outbox(t, e.s.DB(), first.CaseID)
	if out[0].Kind != "case_received" || out[0].Rcpt != "minsu@acme.example" {
		t.Fatalf("acknowledgement went to %q, want the registered login email", out[0].Rcpt)
	}
	if !strings.Contains(string(out[0].Data), "Content-Type: text/plain; charset=") || !strings.Contains(string(out[0].Data), "=?") {
		t.Fatalf("Korean recipient should get a Korean (encoded) subject:\n%.600s", out[0].Data)
	}
	d, _ := helpdesk.GetCaseDetail(context.Background(), e.s.DB(), first.CaseID)
	if d.Submitter != "minsu@acme.example" {
		t.Fatalf("submitter = %s", d.Submitter)
	}
}

func TestIngest_AutomatedMailNeverOpensReopensOrNotifies(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	first := e.ingest(msg("Minsu <minsu@acme.example>", "printer", "a-1@acme.example", "", "Broken."))
	before := count(t, e.s.DB(), `SELECT count(*) FROM outbox`)
	ack := outbox(t, e.s.DB(), first.CaseID)[0].MessageID

	raw, err := os.ReadFile("testdata/ooo-reply.eml")
	if err != nil {
		t.Fatal(err)
	}
	ooo := e.ingest(strings.ReplaceAll(string(raw), "{{ref}}", ack))
	if ooo.Class != "auto-reply" || ooo.Decision != "stored" || ooo.CaseID != first.CaseID {
		t.Fatalf("out-of-office reply: %+v", ooo)
	}
	list := e.ingest(msg("news@lists.example", "Weekly digest", "l-1@lists.example", "", "news", "List-Id: <news.lists.example>", "Precedence: list"))
	if list.Class != "list" || list.Decision != "ignored" || list.CaseID != 0 {
		t.Fatalf("list mail: %+v", list)
	}
	if n := count(t, e.s.DB(), `SELECT count(*) FROM outbox`); n != before {
		t.Fatalf("automated mail caused %d notifications", n-before)
	}
	if n := count(t, e.s.DB(), `SELECT count(*) FROM comments`); n != 1 {
		t.Fatalf("%d comments, want only the first mail's", n)
	}
	if n := count(t, e.s.DB(), `SELECT count(*) FROM cases`); n != 1 {
		t.Fatalf("%d cases", n)
	}
}

func TestIngest_OwnMailComingBackIsIgnored(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.ingest(msg("Example Support <support@example.com>", "Re: x [Case #1]", "hd.abc@example.com", "", "loop", "X-Helpdesk-Loop: "+loopID, "Auto-Submitted: auto-generated"))
	if r.Class != "loop" || r.Decision != "ignored" || r.CaseID != 0 {
		t.Fatalf("result = %+v", r)
	}
	if n := count(t, e.s.DB(), `SELECT count(*) FROM outbox`); n != 0 {
		t.Fatalf("%d notifications about our own mail", n)
	}
}

func TestIngest_PermanentBounceSuppressesTheAddress(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	first := e.ingest(msg("Jane <jane@acme.example>", "Help", "b-1@acme.example", "", "It broke."))
	ack, verp := ackOf(t, e, first.CaseID) // sent: only mail that left can bounce
	bounce := "From: MAILER-DAEMON@mx.acme.example (Mail Delivery System)\nTo: " + verp + "\nSubject: Undelivered Mail Returned to Sender\n" +
		"Message-ID: <bounce-1@mx.acme.example>\nReturn-Path: <>\nAuto-Submitted: auto-replied\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\n\n--r\nContent-Type: text/plain\n\nYour mail could not be delivered.\n" +
		"--r\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.acme.example\n\nFinal-Recipient: rfc822; jane@acme.example\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 user unknown\n\n" +
		"--r\nContent-Type: text/rfc822-headers\n\nFrom: support@example.com\nTo: jane@acme.example\nMessage-ID: <" + ack + ">\nSubject: received\n\n--r--\n"
	r := e.ingest(bounce)
	if r.Class != "bounce" || r.CaseID != first.CaseID || r.Decision != "stored" {
		t.Fatalf("bounce: %+v", r)
	}
	var until time.Time
	if err := e.s.DB().Get(&until, `SELECT suppressed_until FROM suppressions WHERE address = 'jane@acme.example'`); err != nil {
		t.Fatalf("no suppression: %v", err)
	}
	if !until.After(e.clk.Now().Add(29 * 24 * time.Hour)) {
		t.Fatalf("suppressed until %v", until)
	}
	if n := count(t, e.s.DB(), `SELECT count(*) FROM case_events WHERE case_id = $1 AND kind = 'suppressed'`, first.CaseID); n != 1 {
		t.Fatal("the case does not record the suppression")
	}
	// A new mail from her still opens a case, but its acknowledgement is not sent.
	again := e.ingest(msg("jane@acme.example", "Help again", "b-2@acme.example", "", "Hello?"))
	if out := outbox(t, e.s.DB(), again.CaseID); out[0].Status != "suppressed" {
		t.Fatalf("acknowledgement to a suppressed address: %+v", out[0].Status)
	}
}

func TestIngest_StrangerReplyIsHeldNotAComment(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	first := e.ingest(msg("Jane <jane@acme.example>", "Help", "s-1@acme.example", "", "It broke."))
	// No reply token: a reply to our mail would prove receipt (participants_test.go).
	r := e.ingest(msg("Mallory <mallory@evil.example>", "Re: Help", "s-2@evil.example", "s-1@acme.example", "Send me the passwords."))
	if r.Decision != "held" || r.CaseID != first.CaseID {
		t.Fatalf("result = %+v", r)
	}
	d, _ := helpdesk.GetCaseDetail(context.Background(), e.s.DB(), first.CaseID)
	if len(d.Comments) != 2 || d.Comments[1].Public || !d.Comments[1].Held {
		t.Fatalf("comments = %+v", d.Comments)
	}
}

func TestIngest_IdenticalAttachmentsAreStoredOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	raw, _ := os.ReadFile("testdata/new-case-korean.eml")
	e.ingest(string(raw))
	e.ingest(strings.Replace(string(raw), "CAKx1+first@mail.gmail.com", "CAKx1+second@mail.gmail.com", 1))
	if a, b := count(t, e.s.DB(), `SELECT count(*) FROM attachments`), count(t, e.s.DB(), `SELECT count(*) FROM blobs`); a != 2 || b != 1 {
		t.Fatalf("%d attachments in %d blobs, want 2 in 1", a, b)
	}
}

func TestIngest_CursorResetsOnNewUIDValidity(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	if err := e.g.ResetCursor(ctx, "support/INBOX", 7); err != nil {
		t.Fatal(err)
	}
	e.ingest(msg("jane@acme.example", "Help", "c-1@acme.example", "", "x"))
	v, last, err := e.g.Cursor(ctx, "support/INBOX")
	if err != nil || v != 7 || last != 1 {
		t.Fatalf("cursor = %d/%d, %v", v, last, err)
	}
	if err := e.g.ResetCursor(ctx, "support/INBOX", 8); err != nil {
		t.Fatal(err)
	}
	if v, last, _ := e.g.Cursor(ctx, "support/INBOX"); v != 8 || last != 0 {
		t.Fatalf("after reset: %d/%d", v, last)
	}
}

// killingReader terminates the ingest's database connection half way through the mail.
type killingReader struct {
	r    io.Reader
	kill func()
	n    int
}

func (k *killingReader) Read(p []byte) (int, error) {
	if k.n == 1 {
		k.kill()
	}
	k.n++
	if len(p) > 64 {
		p = p[:64]
	}
	return k.r.Read(p)
}

func TestIngest_DatabaseGoneMidIngestLosesNothing(t *testing.T) {
	t.Parallel()
	u, _ := url.Parse(pgtest.Schema(t))
	q := u.Query()
	app := fmt.Sprintf("ingest-kill-%d", time.Now().UnixNano())
	q.Set("application_name", app)
	u.RawQuery = q.Encode()
	db, err := sqlx.Open("postgres", u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := migrations.Up(context.Background(), db.DB); err != nil {
		t.Fatal(err)
	}
	e := newEnvWithDB(t, db)
	admin, err := sql.Open("postgres", pgtest.BaseURL())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()

	m := strings.ReplaceAll(msg("jane@acme.example", "Help", "k-1@acme.example", "", strings.Repeat("long body line\n", 50)), "\n", "\r\n")
	in := helpdesk.Inbound{Mailbox: "support/INBOX", UIDValidity: 7, UID: 1, Body: &killingReader{r: strings.NewReader(m), kill: func() {
		admin.Exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, app)
	}}}
	_, err = e.g.Ingest(context.Background(), in)
	if err == nil || helpdesk.IsPermanent(err) {
		t.Fatalf("Ingest with the database gone: err = %v, want a temporary error", err)
	}
	if n := count(t, db, `SELECT count(*) FROM messages`); n != 0 {
		t.Fatalf("%d messages recorded by a failed ingest", n)
	}
	if _, last, _ := e.g.Cursor(context.Background(), "support/INBOX"); last != 0 {
		t.Fatalf("cursor advanced to %d by a failed ingest", last)
	}
	in.Body = strings.NewReader(m)
	r, err := e.g.Ingest(context.Background(), in)
	if err != nil || r.Decision != "new_case" {
		t.Fatalf("retry: %+v, %v", r, err)
	}
	if n := count(t, db, `SELECT count(*) FROM cases`); n != 1 {
		t.Fatalf("%d cases after the retry, want 1", n)
	}
}

func TestIngest_AgentReplyIsRelayedToTheSubmitterOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// Minsu writes from his second address with a colleague in Cc.
	first := e.ingest(msg("Minsu <minsu.kim@gmail.example>", "VPN", "r-1@gmail.example", "", "VPN is down.", "Cc: jane@acme.example"))
	out := outbox(t, e.s.DB(), first.CaseID)
	agentNotice := out[1].MessageID
	reply := "From: Alice <alice@example.com>\nTo: support@example.com\nSubject: Re: VPN\nMessage-ID: <r-2@example.com>\n" +
		"In-Reply-To: <" + agentNotice + ">\nContent-Type: multipart/mixed; boundary=x\n\n--x\nContent-Type: text/plain; charset=UTF-8\n\n" +
		"Please restart the client.\n--x\nContent-Type: text/plain; name=steps.txt\nContent-Disposition: attachment; filename=steps.txt\n\n1. quit\n2. start\n--x--\n"
	r := e.ingest(reply)
	if r.Decision != "comment" || r.CaseID != first.CaseID {
		t.Fatalf("agent reply: %+v", r)
	}
	out = outbox(t, e.s.DB(), first.CaseID)
	relay := out[len(out)-1]
	if relay.Kind != "comment_added" || relay.Rcpt != "minsu@acme.example" {
		t.Fatalf("relay = %s to %s; want comment_added to the login email only", relay.Kind, relay.Rcpt)
	}
	for _, o := range out {
		if strings.Contains(o.Rcpt, "jane@") || strings.Contains(o.Rcpt, "gmail.example") {
			t.Fatalf("a notification went to %s", o.Rcpt)
		}
	}
	data := string(relay.Data)
	for _, want := range []string{"via Example Support", "<support@example.com>", "Please restart the client.", "filename=steps.txt", "In-Reply-To:", "References:"} {
		if !strings.Contains(data, want) {
			t.Errorf("relayed comment lacks %q", want)
		}
	}
	if strings.Contains(data, "From: Alice <alice@example.com>") {
		t.Error("the relay is From the agent's own address")
	}
}

func TestIngest_CommentKeepsOnlyTheNewTextOfAReply(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	first := e.ingest(msg("Minsu <minsu@acme.example>", "printer", "q-1@acme.example", "", "The printer is broken."))
	ack := outbox(t, e.s.DB(), first.CaseID)[0]
	reply := "네, 3층 프린터입니다.\n\n2026년 11월 20일 (금) 오후 3:00, Example Support <support@example.com>님이 작성:\n" +
		"> ##- 이 줄 위에 답장을 입력해 주세요 -##\n> 문의가 접수되었습니다.\n"
	r := e.ingest(msg("minsu@acme.example", "Re: printer", "q-2@acme.example", ack.MessageID, reply))
	var c struct {
		Body string `db:"body"`
		Full string `db:"full_body"`
	}
	if err := e.s.DB().Get(&c, `SELECT body, full_body FROM comments c JOIN messages m ON m.id = c.message_id WHERE m.message_id = $1`, r.MessageID); err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(c.Body) != "네, 3층 프린터입니다." {
		t.Fatalf("comment body = %q, want only the new text", c.Body)
	}
	if !strings.Contains(c.Full, "문의가 접수되었습니다") {
		t.Fatalf("full body lost the quoted history: %q", c.Full)
	}
}

func TestIngest_ResellerSubmittedCaseNotifiesTheReseller(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mustOrg(t, e.s.DB(), "Resell Co", "", "resell.example")
	mustUser(t, e.s.DB(), "rita@resell.example", "reseller", "Resell Co")
	r := e.ingest(msg("Rita <rita@resell.example>", "For our customer Acme", "rs-1@resell.example", "", "Acme's VPN is down.", "Cc: minsu@acme.example"))
	d, err := helpdesk.GetCaseDetail(context.Background(), e.s.DB(), r.CaseID)
	if err != nil {
		t.Fatal(err)
	}
	if d.Submitter != "rita@resell.example" {
		t.Fatalf("submitter = %s, want the reseller", d.Submitter)
	}
	for _, o := range outbox(t, e.s.DB(), r.CaseID) {
		if o.Kind == "case_received" && o.Rcpt != "rita@resell.example" {
			t.Fatalf("acknowledgement went to %s, want the reseller's login email", o.Rcpt)
		}
		if strings.Contains(o.Rcpt, "minsu") {
			t.Fatalf("the Cc'd customer got %s", o.Kind)
		}
	}
}

func TestReprocess_HeldMessageBecomesACommentOnceTheSenderIsAllowed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	first := e.ingest(msg("Jane <jane@acme.example>", "Help", "rp-1@acme.example", "", "It broke."))
	mustOrg(t, e.s.DB(), "Partner", "", "partner.example")
	mustUser(t, e.s.DB(), "sam@partner.example", "customer", "Partner")
	held := e.ingest(msg("Sam <sam@partner.example>", "Re: Help", "rp-2@partner.example", "rp-1@acme.example", "I can help."))
	if held.Decision != "held" {
		t.Fatalf("first pass: %+v", held)
	}
	if _, err := e.g.Reprocess(ctx, "rp-1@acme.example"); !errors.Is(err, helpdesk.ErrConflict) {
		t.Fatalf("reprocessing an applied message: err = %v, want ErrConflict", err)
	}
	// Sam joins Acme; the held mail is run again.
	if _, err := e.s.DB().Exec(`UPDATE users SET role = 'contact', org_id = (SELECT id FROM orgs WHERE name = 'Acme') WHERE login_email = 'sam@partner.example'`); err != nil {
		t.Fatal(err)
	}
	r, err := e.g.Reprocess(ctx, "<rp-2@partner.example>")
	if err != nil || r.Decision != "comment" || r.CaseID != first.CaseID {
		t.Fatalf("reprocess: %+v, %v", r, err)
	}
	d, _ := helpdesk.GetCaseDetail(ctx, e.s.DB(), first.CaseID)
	if len(d.Comments) != 2 || !d.Comments[1].Public || d.Comments[1].Held {
		t.Fatalf("comments after reprocess = %+v", d.Comments)
	}
	if n := count(t, e.s.DB(), `SELECT count(*) FROM messages WHERE message_id = 'rp-2@partner.example'`); n != 1 {
		t.Fatalf("%d message rows after reprocess", n)
	}
	if n := count(t, e.s.DB(), `SELECT count(*) FROM raw_messages`); n != 2 {
		t.Fatalf("%d raw mails kept, want 2 (the old copy replaced)", n)
	}
}

func TestIngest_ForwardedMailBelowANoteIsKeptAsTheForwardedPart(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	body := "참고하세요. 어제부터 이 오류가 납니다.\n\n---------- Forwarded message ---------\n" +
		"From: Billing <billing@vendor.example>\nDate: Thu, Nov 19, 2026 at 9:12 AM\nSubject: Payment failed\nTo: <minsu@acme.example>\n\n" +
		"Your payment of 120,000 KRW failed: card declined (code 51).\n"
	r := e.ingest(msg("Minsu <minsu@acme.example>", "Fwd: Payment failed", "fwd-1@acme.example", "", body))
	var got string
	if err := e.s.DB().Get(&got, `SELECT body FROM comments c JOIN messages m ON m.id = c.message_id WHERE m.message_id = $1`, r.MessageID); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"참고하세요. 어제부터 이 오류가 납니다.", "---------- Forwarded message ----------", "From: Billing <billing@vendor.example>",
		"card declined (code 51)"} {
		if !strings.Contains(got, want) {
			t.Errorf("comment lacks %q:\n%s", want, got)
		}
	}
}

func TestIngest_NoticesForADisabledAssigneeGoToTheAgentAddress(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	first := e.ingest(msg("Minsu <minsu@acme.example>", "printer", "da-1@acme.example", "", "The printer is broken."))
	ack := outbox(t, e.s.DB(), first.CaseID)[0]
	e.ingest(msg("alice@example.com", "Re: printer", "da-2@example.com", ack.MessageID, "#assign me\nLooking into it."))
	if _, err := e.s.DB().Exec(`UPDATE users SET active = false WHERE login_email = 'alice@example.com'`); err != nil {
		t.Fatal(err)
	}
	e.ingest(msg("minsu@acme.example", "Re: printer", "da-3@acme.example", ack.MessageID, "Still broken."))
	rows := outbox(t, e.s.DB(), first.CaseID)
	last := rows[len(rows)-1]
	if last.Kind != "agent_customer_replied" || last.Rcpt != "agents@example.com" {
		t.Fatalf("last notice %s to %s, want agent_customer_replied to agents@example.com (alice is disabled)", last.Kind, last.Rcpt)
	}
}
