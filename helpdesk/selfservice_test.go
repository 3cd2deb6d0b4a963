package helpdesk_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/helpdesk/helpdesk/helpdesk"
	"github.com/helpdesk/helpdesk/helpdesk/pgtest"
	"github.com/helpdesk/helpdesk/mail"
	"github.com/helpdesk/helpdesk/threading"
)

// mailTo is msg addressed to to instead of the support address.
func mailTo(from, to, subject, id, inReplyTo, body string, extra ...string) string {
	return strings.Replace(msg(from, subject, id, inReplyTo, body, extra...), "To: support@example.com\n", "To: "+to+"\n", 1)
}

type sentMail struct {
	Kind string `db:"kind"`
	Rcpt string `db:"rcpt"`
	Data []byte `db:"data"`
	m    *mail.Message
}

// sentOfKind parses the queued mails of a kind, oldest first.
func sentOfKind(t testing.TB, db *sqlx.DB, kind string) []sentMail {
	t.Helper()
	var rows []sentMail
	if err := db.Select(&rows, `SELECT kind, array_to_string(recipients, ',') AS rcpt, data FROM outbox WHERE kind = $1 ORDER BY id`, kind); err != nil {
		t.Fatal(err)
	}
	for i := range rows {
		m, err := mail.Parse(bytes.NewReader(rows[i].Data), mail.ParseOptions{})
		if err != nil {
			t.Fatal(err)
		}
		rows[i].m = m
	}
	return rows
}

// listedCases reads the case numbers of a case list's text, in order.
func listedCases(text string) []int64 {
	var ids []int64
	for _, l := range strings.Split(text, "\n") {
		var n int64
		if _, err := fmt.Sscanf(strings.TrimSpace(l), "Case #%d:", &n); err == nil {
			ids = append(ids, n)
		}
	}
	return ids
}

func openCase(t testing.TB, e *env, from, subject string) int64 {
	t.Helper()
	r := e.ingest(msg(from, subject, fmt.Sprintf("open-%d@x.example", e.uid+1), "", "Please help with "+subject+"."))
	if r.Decision != "new_case" {
		t.Fatalf("opening %q: %+v", subject, r)
	}
	return r.CaseID
}

func selfServiceEnv(t *testing.T, opts ...func(*helpdesk.IngestConfig)) *env {
	t.Helper()
	e := newEnvWithDB(t, pgtest.New(t), opts...)
	db := e.s.DB()
	mustOrg(t, db, "Other", "", "other.example")
	mustUser(t, db, "jane@acme.example", "customer", "Acme")
	mustUser(t, db, "jin@acme.example", "customer", "Acme")
	mustUser(t, db, "carol@acme.example", "contact", "Acme")
	mustUser(t, db, "bob@other.example", "customer", "Other")
	return e
}

func TestIngest_CaseListShowsTheSendersCasesOnlyAndOpensNoCase(t *testing.T) {
	t.Parallel()
	e := selfServiceEnv(t)
	db := e.s.DB()
	older := openCase(t, e, "jane@acme.example", "Printer jams")
	e.clk.Add(24 * time.Hour)
	newer := openCase(t, e, "jane@acme.example", "VPN drops")
	colleague := openCase(t, e, "jin@acme.example", "Jin's laptop")
	other := openCase(t, e, "bob@other.example", "Other org's outage")
	e.clk.Add(72 * time.Hour)
	cases := count(t, db, `SELECT count(*) FROM cases`)

	r := e.ingest(mailTo("Jane <jane@acme.example>", "support+cases@example.com", "my cases", "list-1@acme.example", "", "Which cases do I have?"))
	if r.Decision != helpdesk.DecisionSelfService || r.CaseID != 0 {
		t.Fatalf("list request: %+v", r)
	}
	if n := count(t, db, `SELECT count(*) FROM cases`); n != cases {
		t.Fatalf("the request opened a case: %d cases, want %d", n, cases)
	}
	lists := sentOfKind(t, db, "case_list")
	if len(lists) != 1 || lists[0].Rcpt != "jane@acme.example" {
		t.Fatalf("case lists sent: %+v", lists)
	}
	m := lists[0].m
	if !slices.Equal(m.InReplyTo, []string{"list-1@acme.example"}) || !slices.Contains(m.References, "list-1@acme.example") {
		t.Fatalf("the list does not answer the request: In-Reply-To %v, References %v", m.InReplyTo, m.References)
	}
	if got := listedCases(m.Text); !slices.Equal(got, []int64{newer, older}) {
		t.Fatalf("listed %v, want jane's cases newest first %v (not %d, %d):\n%s", got, []int64{newer, older}, colleague, other, m.Text)
	}
	if !strings.Contains(m.Text, "last activity 3 days ago") || !strings.Contains(m.Text, "Status: open, severity") {
		t.Fatalf("the list lacks the status and the last activity:\n%s", m.Text)
	}
	// The reply address of a case continues it.
	tok := threading.PlusAddress("support@example.com", mustTokens(t).Sign(older, ssUserID(t, db, "jane@acme.example")))
	if !strings.Contains(m.Text, tok) {
		t.Fatalf("the list lacks the reply address %s:\n%s", tok, m.Text)
	}
	if r := e.ingest(mailTo("jane@acme.example", tok, "printer", "cont-1@acme.example", "", "It jams again.")); r.Decision != "comment" || r.CaseID != older {
		t.Fatalf("a mail to the listed reply address: %+v, want a comment on #%d", r, older)
	}
}

func mustTokens(t testing.TB) *threading.Tokens {
	tk, err := threading.NewTokens("test-secret-0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func ssUserID(t testing.TB, db *sqlx.DB, email string) int64 {
	t.Helper()
	return int64(count(t, db, `SELECT id FROM users WHERE login_email = $1`, email))
}

func TestIngest_CaseListFollowsTheAccessRules(t *testing.T) {
	t.Parallel()
	e := selfServiceEnv(t)
	db := e.s.DB()
	ctx := context.Background()
	mustOrg(t, db, "Alpha Resell", "", "alpha.example")
	mustUser(t, db, "ana@alpha.example", "reseller", "Alpha Resell")
	jane := openCase(t, e, "jane@acme.example", "Jane's case")
	jin := openCase(t, e, "jin@acme.example", "Jin's case")
	bob := openCase(t, e, "bob@other.example", "Bob's case")
	own := openCase(t, e, "ana@alpha.example", "Alpha's own case")

	list := func(from string) []int64 {
		t.Helper()
		before := len(sentOfKind(t, db, "case_list"))
		r := e.ingest(mailTo(from, "support+cases@example.com", "cases", fmt.Sprintf("l-%d@x.example", e.uid+1), "", "list please"))
		if r.Decision != helpdesk.DecisionSelfService {
			t.Fatalf("%s: %+v", from, r)
		}
		sent := sentOfKind(t, db, "case_list")
		if len(sent) != before+1 {
			t.Fatalf("%s got no list", from)
		}
		got := listedCases(sent[len(sent)-1].m.Text)
		slices.Sort(got)
		return got
	}
	// Without a grant, the reseller sees only its own case.
	if got := list("ana@alpha.example"); !slices.Equal(got, []int64{own}) {
		t.Fatalf("reseller without a grant sees %v, want only %d", got, own)
	}
	if err := helpdesk.AddGrant(ctx, db, "Acme", "Alpha Resell"); err != nil {
		t.Fatal(err)
	}
	backdateGrants(t, db, "Alpha Resell", e.clk.Now().Add(time.Minute))
	// A grant given after the cases were filed covers none of them.
	if got := list("ana@alpha.example"); !slices.Equal(got, []int64{own}) {
		t.Fatalf("reseller with a later grant sees %v, want only %d", got, own)
	}
	e.clk.Add(time.Hour)
	filedUnderGrant := openCase(t, e, "jin@acme.example", "Filed under the grant")
	forAcme := e.ingest(msg("ana@alpha.example", "Acme: DNS", "dns-1@alpha.example", "", "Acme's DNS fails.", "Cc: jin@acme.example"))
	if got := list("ana@alpha.example"); !slices.Equal(got, []int64{own, filedUnderGrant, forAcme.CaseID}) {
		t.Fatalf("reseller under its grant sees %v, want %v", got, []int64{own, filedUnderGrant, forAcme.CaseID})
	}
	// A contact sees exactly their org; customers their own and what a
	// reseller filed for their org; nobody another org's case.
	for _, tc := range []struct {
		from string
		want []int64
	}{
		{"carol@acme.example", []int64{jane, jin, filedUnderGrant, forAcme.CaseID}},
		{"jane@acme.example", []int64{jane, forAcme.CaseID}},
		{"jin@acme.example", []int64{jin, filedUnderGrant, forAcme.CaseID}},
		{"bob@other.example", []int64{bob}},
	} {
		if got := list(tc.from); !slices.Equal(got, tc.want) {
			t.Errorf("%s sees %v, want %v", tc.from, got, tc.want)
		}
	}
	// The reseller's list groups the customer's cases under its name.
	sent := sentOfKind(t, db, "case_list")
	for _, s := range sent {
		if s.Rcpt == "ana@alpha.example" && strings.Contains(s.m.Text, "Cases of Acme:") {
			return
		}
	}
	t.Fatal("no reseller list groups Acme's cases")
}

func TestIngest_CaseListCommandLineAndOptions(t *testing.T) {
	t.Parallel()
	e := selfServiceEnv(t)
	db := e.s.DB()
	ctx := context.Background()
	solved := openCase(t, e, "jane@acme.example", "Old question")
	if _, err := e.lc.Change(ctx, solved, helpdesk.CaseChange{Status: "solved"}, nil, e.clk.Now()); err != nil {
		t.Fatal(err)
	}
	e.clk.Add(time.Hour)
	open := openCase(t, e, "jane@acme.example", "New question")
	for _, tc := range []struct {
		body string
		want []int64
	}{
		{"#cases\n", []int64{open}},
		{"#cases all\n", []int64{open, solved}},
	} {
		r := e.ingest(msg("jane@acme.example", "list", fmt.Sprintf("c-%d@acme.example", e.uid+1), "", tc.body))
		if r.Decision != helpdesk.DecisionSelfService || r.CaseID != 0 {
			t.Fatalf("%q: %+v", tc.body, r)
		}
		sent := sentOfKind(t, db, "case_list")
		if got := listedCases(sent[len(sent)-1].m.Text); !slices.Equal(got, tc.want) {
			t.Errorf("%q lists %v, want %v", tc.body, got, tc.want)
		}
	}
}

func TestIngest_CaseListRequestsOverTheLimitAreStoredUnanswered(t *testing.T) {
	t.Parallel()
	e := selfServiceEnv(t, func(c *helpdesk.IngestConfig) { c.SelfServiceLimit = 2 })
	db := e.s.DB()
	var last helpdesk.Result
	for i := range 3 {
		last = e.ingest(mailTo("jane@acme.example", "support+cases@example.com", "cases", fmt.Sprintf("rl-%d@acme.example", i), "", "list"))
	}
	if last.Decision != helpdesk.DecisionSelfService || !strings.Contains(last.Reason, "over the limit of 2 per hour") {
		t.Fatalf("third request: %+v", last)
	}
	if n := len(sentOfKind(t, db, "case_list")); n != 2 {
		t.Fatalf("%d lists sent, want 2", n)
	}
	if n := count(t, db, `SELECT count(*) FROM messages WHERE direction = 'in' AND decision = 'self_service'`); n != 3 {
		t.Fatalf("%d requests stored, want 3", n)
	}
	e.clk.Add(61 * time.Minute)
	e.ingest(mailTo("jane@acme.example", "support+cases@example.com", "cases", "rl-later@acme.example", "", "list"))
	if n := len(sentOfKind(t, db, "case_list")); n != 3 {
		t.Fatalf("an hour later: %d lists sent, want 3", n)
	}
}

func TestIngest_CaseListForStaffAndStrangersIsShortAndNeverForAutomatedMail(t *testing.T) {
	t.Parallel()
	e := selfServiceEnv(t)
	db := e.s.DB()
	openCase(t, e, "jane@acme.example", "Jane's case")
	cases := count(t, db, `SELECT count(*) FROM cases`)
	auto := e.ingest(mailTo("jane@acme.example", "support+cases@example.com", "Out of office", "auto-1@acme.example", "", "I am away.", "Auto-Submitted: auto-replied"))
	if auto.Decision == helpdesk.DecisionSelfService || len(sentOfKind(t, db, "case_list")) != 0 {
		t.Fatalf("automated mail answered: %+v", auto)
	}
	for _, tc := range []struct{ from, want string }{
		{"alice@example.com", "helpdeskd cases list"},
		{"stranger@nowhere.example", "not registered"},
	} {
		r := e.ingest(mailTo(tc.from, "support+cases@example.com", "cases", "s-"+tc.from, "", "list"))
		sent := sentOfKind(t, db, "case_list")
		if r.Decision != helpdesk.DecisionSelfService || len(sent) == 0 || sent[len(sent)-1].Rcpt != tc.from {
			t.Fatalf("%s: %+v", tc.from, r)
		}
		if text := sent[len(sent)-1].m.Text; !strings.Contains(text, tc.want) || len(listedCases(text)) != 0 {
			t.Fatalf("%s got:\n%s", tc.from, text)
		}
	}
	if n := count(t, db, `SELECT count(*) FROM cases`); n != cases {
		t.Fatal("a case list request opened a case")
	}
	if n := count(t, db, `SELECT count(*) FROM users WHERE login_email = 'stranger@nowhere.example'`); n != 0 {
		t.Fatal("a stranger's case list request created a user")
	}
}
