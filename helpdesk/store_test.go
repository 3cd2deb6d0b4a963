package helpdesk_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/helpdesk/helpdesk/helpdesk"
	"github.com/helpdesk/helpdesk/helpdesk/pgtest"
)

func newStore(t testing.TB) *helpdesk.Store {
	t.Helper()
	s, err := helpdesk.NewStore(pgtest.New(t))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustOrg(t testing.TB, q helpdesk.Queryer, name, plan string, domains ...string) *helpdesk.Org {
	t.Helper()
	o, err := helpdesk.CreateOrg(context.Background(), q, helpdesk.NewOrg{Name: name, Plan: plan, Domains: domains})
	if err != nil {
		t.Fatalf("CreateOrg(%s): %v", name, err)
	}
	return o
}

func mustUser(t testing.TB, q helpdesk.Queryer, email, role, org string) *helpdesk.User {
	t.Helper()
	u, err := helpdesk.CreateUser(context.Background(), q, helpdesk.NewUser{Email: email, Name: email, Role: role, Org: org})
	if err != nil {
		t.Fatalf("CreateUser(%s): %v", email, err)
	}
	return u
}

func TestCreateUser_CanonicalisesAndRejectsDuplicates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	mustOrg(t, s.DB(), "Acme", "premium", "acme.example")

	u, err := helpdesk.CreateUser(ctx, s.DB(), helpdesk.NewUser{Email: "Kim Minsu <Minsu.Kim@ACME.example>", Name: "김민수", Role: "customer", Org: "acme", Locale: "ko"})
	if err != nil {
		t.Fatal(err)
	}
	if u.LoginEmail != "minsu.kim@acme.example" || u.Locale != "ko" || u.OrgName == nil || *u.OrgName != "Acme" {
		t.Fatalf("user = %+v", u)
	}
	_, err = helpdesk.CreateUser(ctx, s.DB(), helpdesk.NewUser{Email: "MINSU.KIM@acme.example", Role: "customer", Org: "Acme"})
	if !errors.Is(err, helpdesk.ErrConflict) {
		t.Fatalf("duplicate user in other case: err = %v, want ErrConflict", err)
	}
	found, err := helpdesk.UserByAddress(ctx, s.DB(), "<minsu.kim@Acme.Example>")
	if err != nil || found.ID != u.ID {
		t.Fatalf("UserByAddress = %+v, %v", found, err)
	}
}

func TestCreateUser_RejectsBadInput(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	mustOrg(t, s.DB(), "Acme", "", "acme.example")
	for _, tc := range []struct {
		name string
		in   helpdesk.NewUser
		want error
	}{
		{"malformed address", helpdesk.NewUser{Email: "not-an-address", Role: "customer", Org: "Acme"}, helpdesk.ErrInvalid},
		{"unknown role", helpdesk.NewUser{Email: "a@acme.example", Role: "admin", Org: "Acme"}, helpdesk.ErrInvalid},
		{"unknown locale", helpdesk.NewUser{Email: "a@acme.example", Role: "customer", Org: "Acme", Locale: "fr"}, helpdesk.ErrInvalid},
		{"unknown org", helpdesk.NewUser{Email: "a@acme.example", Role: "customer", Org: "Nope"}, helpdesk.ErrNotFound},
		{"agent without org", helpdesk.NewUser{Email: "a@acme.example", Role: "agent"}, helpdesk.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := helpdesk.CreateUser(ctx, s.DB(), tc.in)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestSchema_ConstraintsProtectTheData(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	o := mustOrg(t, s.DB(), "Acme", "", "acme.example")
	u := mustUser(t, s.DB(), "a@acme.example", "customer", "Acme")
	for _, tc := range []struct {
		name  string
		query string
		args  []any
		want  error
	}{
		{"upper-case login email", `INSERT INTO users (login_email, role) VALUES ('B@acme.example', 'customer')`, nil, helpdesk.ErrInvalid},
		{"unknown role", `INSERT INTO users (login_email, role) VALUES ('b@acme.example', 'root')`, nil, helpdesk.ErrInvalid},
		{"unknown status", `INSERT INTO cases (submitter_id, status) VALUES ($1, 'deleted')`, []any{u.ID}, helpdesk.ErrInvalid},
		{"unknown severity", `INSERT INTO cases (submitter_id, severity) VALUES ($1, 'S5')`, []any{u.ID}, helpdesk.ErrInvalid},
		{"solved without solved_at", `INSERT INTO cases (submitter_id, status) VALUES ($1, 'solved')`, []any{u.ID}, helpdesk.ErrInvalid},
		{"case of a missing user", `INSERT INTO cases (submitter_id) VALUES (999999)`, nil, helpdesk.ErrInvalid},
		{"domain owned twice", `INSERT INTO org_domains (domain, org_id) VALUES ('acme.example', $1)`, []any{o.ID}, helpdesk.ErrConflict},
		{"same Message-ID twice", `INSERT INTO messages (message_id, direction) VALUES ('x@y', 'in'), ('x@y', 'in')`, nil, helpdesk.ErrConflict},
		{"outbox without recipients", `INSERT INTO outbox (message_id, kind, envelope_from, recipients, data) VALUES ('m@x', 'k', 's@x', '{}', '')`, nil, helpdesk.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s.WithTx(ctx, func(tx *sqlx.Tx) error {
				_, err := tx.ExecContext(ctx, tc.query, tc.args...)
				return helpdesk.MapErr(err)
			})
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestGrants_AddRevokeRegrant(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	c := mustOrg(t, s.DB(), "Acme", "", "acme.example")
	r := mustOrg(t, s.DB(), "Resell Co", "", "resell.example")
	active := func() bool {
		ok, err := helpdesk.HasGrant(ctx, s.DB(), c.ID, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if err := helpdesk.AddGrant(ctx, s.DB(), "acme", "resell co"); err != nil {
		t.Fatal(err)
	}
	if !active() {
		t.Fatal("grant not active after AddGrant")
	}
	if err := helpdesk.AddGrant(ctx, s.DB(), "Acme", "Resell Co"); err != nil {
		t.Fatalf("adding an active grant again: %v", err)
	}
	if err := helpdesk.RevokeGrant(ctx, s.DB(), "Acme", "Resell Co"); err != nil {
		t.Fatal(err)
	}
	if active() {
		t.Fatal("grant still active after RevokeGrant")
	}
	if err := helpdesk.RevokeGrant(ctx, s.DB(), "Acme", "Resell Co"); !errors.Is(err, helpdesk.ErrNotFound) {
		t.Fatalf("revoking twice: err = %v, want ErrNotFound", err)
	}
	gs, err := helpdesk.ListGrants(ctx, s.DB())
	if err != nil || len(gs) != 1 || gs[0].Active || gs[0].RevokedAt == nil {
		t.Fatalf("ListGrants = %+v, %v; want one revoked grant", gs, err)
	}
	if err := helpdesk.AddGrant(ctx, s.DB(), "Acme", "Resell Co"); err != nil || !active() {
		t.Fatalf("re-grant: %v, active=%v", err, active())
	}
	if err := helpdesk.AddGrant(ctx, s.DB(), "Acme", "Acme"); !errors.Is(err, helpdesk.ErrInvalid) {
		t.Fatalf("self grant: err = %v, want ErrInvalid", err)
	}
	if err := helpdesk.AddGrant(ctx, s.DB(), "Acme", "Nobody"); !errors.Is(err, helpdesk.ErrNotFound) {
		t.Fatalf("grant to unknown org: err = %v, want ErrNotFound", err)
	}
}

func TestWithTx_RollsBackOnError(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	boom := errors.New("boom")
	err := s.WithTx(ctx, func(tx *sqlx.Tx) error {
		mustOrg(t, tx, "Acme", "", "acme.example")
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if _, err := helpdesk.OrgByName(ctx, s.DB(), "Acme"); !errors.Is(err, helpdesk.ErrNotFound) {
		t.Fatalf("org after rollback: err = %v, want ErrNotFound", err)
	}
}

func TestOpen_UnreachableDatabaseIsUnavailable(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Port 1 on loopback: nothing listens there.
	_, err := helpdesk.Open(ctx, "postgres://x@127.0.0.1:1/x?sslmode=disable&connect_timeout=2")
	if !errors.Is(err, helpdesk.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
}

func TestListCases_FiltersAndSearch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	mustOrg(t, s.DB(), "Acme", "", "acme.example")
	mustOrg(t, s.DB(), "Globex", "", "globex.example")
	a := mustUser(t, s.DB(), "a@acme.example", "customer", "Acme")
	g := mustUser(t, s.DB(), "g@globex.example", "customer", "Globex")
	base := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	newCase := func(u *helpdesk.User, subject string, at time.Time) int64 {
		id, err := helpdesk.CreateCase(ctx, s.DB(), helpdesk.NewCase{Subject: subject, OrgID: u.OrgID, SubmitterID: u.ID, Now: at})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	c1 := newCase(a, "Printer on fire", base)
	c2 := newCase(g, "VPN 접속 불가", base.Add(time.Hour))
	c3 := newCase(a, "Invoice 100% wrong", base.Add(2*time.Hour))
	if _, err := helpdesk.AddComment(ctx, s.DB(), helpdesk.NewComment{CaseID: c1, AuthorID: &a.ID, Public: true, Body: "the toner smells of smoke", Now: base.Add(3 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().Exec(`UPDATE cases SET status = 'pending', pending_since = now() WHERE id = $1`, c2); err != nil {
		t.Fatal(err)
	}
	ids := func(f helpdesk.CaseFilter) []int64 {
		cs, err := helpdesk.ListCases(ctx, s.DB(), f)
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, c := range cs {
			out = append(out, c.ID)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		f    helpdesk.CaseFilter
		want []int64
	}{
		{"all, most recently active first", helpdesk.CaseFilter{}, []int64{c1, c3, c2}},
		{"by status", helpdesk.CaseFilter{Status: "pending"}, []int64{c2}},
		{"by org, any case", helpdesk.CaseFilter{Org: "ACME"}, []int64{c1, c3}},
		{"search in comments", helpdesk.CaseFilter{Search: "SMOKE"}, []int64{c1}},
		{"search in Korean subject", helpdesk.CaseFilter{Search: "접속"}, []int64{c2}},
		{"percent is literal", helpdesk.CaseFilter{Search: "100%"}, []int64{c3}},
		{"underscore is literal", helpdesk.CaseFilter{Search: "_"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ids(tc.f)
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
	if _, err := helpdesk.ListCases(ctx, s.DB(), helpdesk.CaseFilter{Status: "deleted"}); !errors.Is(err, helpdesk.ErrInvalid) {
		t.Fatalf("bad status: err = %v", err)
	}
	if _, err := helpdesk.ListCases(ctx, s.DB(), helpdesk.CaseFilter{Org: "Initech"}); !errors.Is(err, helpdesk.ErrNotFound) {
		t.Fatalf("unknown org: err = %v", err)
	}

	d, err := helpdesk.GetCaseDetail(ctx, s.DB(), c1)
	if err != nil {
		t.Fatal(err)
	}
	if d.Submitter != "a@acme.example" || d.Org != "Acme" || len(d.Comments) != 1 || len(d.Events) != 1 || d.Events[0].Kind != "created" {
		t.Fatalf("detail = %+v", d)
	}
	if !d.LastActivityAt.Equal(base.Add(3 * time.Hour)) {
		t.Fatalf("last activity = %v, want the comment's time", d.LastActivityAt)
	}
	if _, err := helpdesk.GetCaseDetail(ctx, s.DB(), 424242); !errors.Is(err, helpdesk.ErrNotFound) {
		t.Fatalf("missing case: err = %v", err)
	}
}

func TestWithBinaryParameters(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"postgres://u@h/db?sslmode=disable":                      "postgres://u@h/db?sslmode=disable&binary_parameters=yes",
		"postgres://u@h/db":                                      "postgres://u@h/db?binary_parameters=yes",
		"postgres://u@h/db?sslmode=disable&binary_parameters=no": "postgres://u@h/db?sslmode=disable&binary_parameters=no",
		"host=127.0.0.1 dbname=helpdesk sslmode=disable":         "host=127.0.0.1 dbname=helpdesk sslmode=disable binary_parameters=yes",
	} {
		if got := helpdesk.WithBinaryParameters(in); got != want {
			t.Errorf("WithBinaryParameters(%q) = %q, want %q", in, got, want)
		}
	}
}
