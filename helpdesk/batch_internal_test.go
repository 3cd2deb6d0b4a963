package helpdesk

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/helpdesk/helpdesk/helpdesk/pgtest"
)

// statementCounter counts the statements a batch sends.
type statementCounter struct {
	Queryer
	n int
}

func (c *statementCounter) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	c.n++
	return c.Queryer.ExecContext(ctx, q, args...)
}

func (c *statementCounter) QueryxContext(ctx context.Context, q string, args ...any) (*sqlx.Rows, error) {
	c.n++
	return c.Queryer.QueryxContext(ctx, q, args...)
}

func (c *statementCounter) QueryRowxContext(ctx context.Context, q string, args ...any) *sqlx.Row {
	c.n++
	return c.Queryer.QueryRowxContext(ctx, q, args...)
}

func (c *statementCounter) GetContext(ctx context.Context, dest any, q string, args ...any) error {
	c.n++
	return c.Queryer.GetContext(ctx, dest, q, args...)
}

func (c *statementCounter) SelectContext(ctx context.Context, dest any, q string, args ...any) error {
	c.n++
	return c.Queryer.SelectContext(ctx, dest, q, args...)
}

func TestRunBatch_StatementsDoNotGrowWithTheBatch(t *testing.T) {
	db := pgtest.New(t)
	s, err := NewStore(db)
	if err != nil {
		t.Fatal(err)
	}
	cfg := decideConfig(t)
	cfg.Now = func() time.Time { return decideNow }
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	g, err := NewIngester(s, *cfg)
	if err != nil {
		t.Fatal(err)
	}
	uid := uint32(0)
	statements := func(n int, replies bool) int {
		var batch []Inbound
		for range n {
			uid++
			raw := fmt.Sprintf("From: c%d@new%d.example\r\nTo: support@example.com\r\nSubject: Help %d\r\nMessage-ID: <m%d@new.example>\r\n\r\nPlease help.\r\n",
				uid, uid, uid, uid)
			if replies {
				raw = fmt.Sprintf("From: c%d@new%d.example\r\nTo: support@example.com\r\nSubject: Re: Help\r\nMessage-ID: <r%d@new.example>\r\nIn-Reply-To: <m%d@new.example>\r\n\r\nStill broken.\r\n",
					uid-uint32(n), uid-uint32(n), uid, uid-uint32(n))
			}
			batch = append(batch, Inbound{Mailbox: "INBOX", UIDValidity: 1, UID: uid, Body: strings.NewReader(raw)})
		}
		c := &statementCounter{}
		err := s.WithTx(context.Background(), func(tx *sqlx.Tx) error {
			c.Queryer = tx
			res, err := g.runBatch(context.Background(), c, batch)
			for _, r := range res {
				if r.Decision == "" {
					t.Errorf("%+v: undecided", r)
				}
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return c.n
	}
	small, large := statements(4, false), statements(64, false)
	if small != large {
		t.Errorf("new cases: %d statements for 4 mails, %d for 64: the count grows with the batch", small, large)
	}
	if large > 64/2 {
		t.Errorf("%d statements for 64 new cases, want well under 1 per mail", large)
	}
	largeReplies := statements(64, true)
	if largeReplies > 64/2 {
		t.Errorf("%d statements for 64 replies, want well under 1 per mail", largeReplies)
	}
	t.Logf("statements per batch: %d (4 new cases), %d (64 new cases), %d (64 replies)", small, large, largeReplies)
}

// batchEnv runs batches through runBatch itself: no fallback hides a batch
// that fails as a whole.
type batchEnv struct {
	t   *testing.T
	s   *Store
	g   *Ingester
	uid uint32
}

func newBatchEnv(t *testing.T, opts ...func(*IngestConfig)) *batchEnv {
	t.Helper()
	s, err := NewStore(pgtest.New(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg := decideConfig(t)
	cfg.Now = func() time.Time { return decideNow }
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, o := range opts {
		o(cfg)
	}
	g, err := NewIngester(s, *cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &batchEnv{t: t, s: s, g: g}
}

func (e *batchEnv) run(raws ...string) []Result {
	e.t.Helper()
	var batch []Inbound
	for _, raw := range raws {
		e.uid++
		batch = append(batch, Inbound{Mailbox: "INBOX", UIDValidity: 1, UID: e.uid, Body: strings.NewReader(strings.ReplaceAll(raw, "\n", "\r\n"))})
	}
	var res []Result
	err := e.s.WithTx(context.Background(), func(tx *sqlx.Tx) error {
		var err error
		res, err = e.g.runBatch(context.Background(), tx, batch)
		return err
	})
	if err != nil {
		e.t.Fatalf("the batch failed as a whole: %v", err)
	}
	return res
}

func plainMail(from, subject, id, inReplyTo, body string, extra ...string) string {
	h := "From: " + from + "\nTo: support@example.com\nSubject: " + subject + "\nMessage-ID: <" + id + ">\n"
	if inReplyTo != "" {
		h += "In-Reply-To: <" + inReplyTo + ">\n"
	}
	return h + strings.Join(append(extra, ""), "\n") + "\n" + body + "\n"
}

func TestRunBatch_TextsAndNoticesNameTheRealNumbersOfCasesOpenedInTheBatch(t *testing.T) {
	e := newBatchEnv(t, func(c *IngestConfig) { c.SenderCaseLimit = 2 })
	if _, err := CreateUser(context.Background(), e.s.db, NewUser{Email: "eve@evil.example", Role: RoleCustomer}); err != nil {
		t.Fatal(err)
	}
	res := e.run(
		plainMail("jane@new.example", "VPN", "j1@new.example", "", "Down."),
		plainMail("eve@evil.example", "Re: VPN", "e1@evil.example", "j1@new.example", "Let me in."),
		plainMail("bot@flood.example", "One", "f1@flood.example", "", "x"),
		plainMail("bot@flood.example", "Two", "f2@flood.example", "", "x"),
		plainMail("bot@flood.example", "Three", "f3@flood.example", "", "x"),
	)
	if res[1].Decision != DecisionHeld || res[1].CaseID != res[0].CaseID {
		t.Fatalf("the stranger's reply: %+v, want held on case #%d", res[1], res[0].CaseID)
	}
	for _, text := range []string{res[1].Reason} {
		if strings.Contains(text, "450359962737") || !strings.Contains(text, "#"+strconv.FormatInt(res[0].CaseID, 10)) {
			t.Errorf("the held mail's reason names a provisional case number: %q", text)
		}
	}
	var held, digest string
	if err := e.s.db.Get(&held, `SELECT convert_from(data, 'UTF8') FROM outbox WHERE kind = 'held_for_review'`); err != nil {
		t.Fatal(err)
	}
	if err := e.s.db.Get(&digest, `SELECT convert_from(data, 'UTF8') FROM outbox WHERE kind = 'sender_throttled'`); err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{"held notice": held, "throttle digest": digest} {
		if strings.Contains(text, "450359962737") {
			t.Errorf("the %s names a provisional case number:\n%s", name, text)
		}
	}
	if !strings.Contains(digest, "#"+strconv.FormatInt(res[2].CaseID, 10)) {
		t.Errorf("the throttle digest does not name case #%d", res[2].CaseID)
	}
}

func TestRunBatch_AnAttachmentSeenTwiceInTheBatchIsStoredOnceForTheMailThatKeepsIt(t *testing.T) {
	e := newBatchEnv(t)
	att := func(from, id string, extra ...string) string {
		return "From: " + from + "\nTo: support@example.com\nSubject: Logo\nMessage-ID: <" + id + ">\n" + strings.Join(append(extra, ""), "\n") +
			"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nSee the logo.\n" +
			"--b\nContent-Type: image/png\nContent-Disposition: attachment; filename=logo.png\nContent-Transfer-Encoding: base64\n\naGVsbG8gbG9nbw==\n--b--\n"
	}
	res := e.run(att("ooo@acme.example", "a1@acme.example", "Auto-Submitted: auto-replied"), att("jane@new.example", "a2@new.example"))
	if res[0].Decision != DecisionIgnored || res[1].Decision != DecisionNewCase {
		t.Fatalf("decisions %q %q", res[0].Decision, res[1].Decision)
	}
	var n int
	if err := e.s.db.Get(&n, `SELECT count(*) FROM attachments a JOIN blob_chunks c ON c.blob_id = a.blob_id`); err != nil || n != 1 {
		t.Errorf("%d stored attachment chunks (%v), want the customer's one", n, err)
	}
}

func TestRunBatch_AnAgentWritingFromAnotherAddressCanAssignThemselves(t *testing.T) {
	e := newBatchEnv(t)
	ctx := context.Background()
	if _, err := CreateOrg(ctx, e.s.db, NewOrg{Name: "Example", Domains: []string{"example.com"}}); err != nil {
		t.Fatal(err)
	}
	alice, err := CreateUser(ctx, e.s.db, NewUser{Email: "alice@example.com", Role: RoleAgent, Org: "Example"})
	if err != nil {
		t.Fatal(err)
	}
	if err := AddUserAddress(ctx, e.s.db, alice.ID, "alice.alt@example.com"); err != nil {
		t.Fatal(err)
	}
	res := e.run(plainMail("jane@new.example", "VPN", "v1@new.example", "", "Down."))
	res = e.run(plainMail("alice.alt@example.com", "Re: VPN", "v2@example.com", "v1@new.example", "#assign me\nLooking into it."))
	var assignee *int64
	if err := e.s.db.Get(&assignee, `SELECT assignee_id FROM cases WHERE id = $1`, res[0].CaseID); err != nil {
		t.Fatal(err)
	}
	if assignee == nil || *assignee != alice.ID {
		t.Errorf("assignee %v, want alice (%d): %s", assignee, alice.ID, res[0].Reason)
	}
}

func TestNumberFix_ReplacesProvisionalNumbersAndLeavesOtherTextsAlone(t *testing.T) {
	p1, p2 := strconv.FormatInt(provisionalBase+1, 10), strconv.FormatInt(provisionalBase+2, 10)
	f := newNumberFix([]string{p1, "1042", p2, "1043"})
	for _, tt := range []struct{ in, want string }{
		{"not allowed on case #" + p1, "not allowed on case #1042"},
		{"cases " + p1 + " and " + p2, "cases 1042 and 1043"},
		{"case #7 and S1, nothing provisional", "case #7 and S1, nothing provisional"},
		{"", ""},
	} {
		if got := f.Replace(tt.in); got != tt.want {
			t.Errorf("Replace(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	var none *numberFix
	if got := none.Replace("case #" + p1); got != "case #"+p1 {
		t.Errorf("a nil fix changed %q", got)
	}
	if newNumberFix(nil) != nil {
		t.Error("no pairs: want a nil fix")
	}
	// Numbers that share no leading digit still get replaced.
	g := newNumberFix([]string{"999", "1", "1000", "2"})
	if got := g.Replace("#999, #1000"); got != "#1, #2" {
		t.Errorf("Replace = %q, want %q", got, "#1, #2")
	}
}

func TestRepeatRow_RenumbersEachCopysPlaceholders(t *testing.T) {
	for _, tt := range []struct {
		row  string
		k, n int
		want string
	}{
		{"($1, $2)", 2, 3, "($1, $2), ($3, $4), ($5, $6)"},
		{"($1, $2::jsonb, now(), $3)", 3, 2, "($1, $2::jsonb, now(), $3), ($4, $5::jsonb, now(), $6)"},
		{"($2, $1, 'a$b', $10)", 10, 2, "($2, $1, 'a$b', $10), ($12, $11, 'a$b', $20)"},
		{"(1)", 0, 2, "(1), (1)"},
		{"($1)", 1, 0, ""},
	} {
		if got := repeatRow(tt.row, tt.k, tt.n); got != tt.want {
			t.Errorf("repeatRow(%q, %d, %d) = %q, want %q", tt.row, tt.k, tt.n, got, tt.want)
		}
	}
}
