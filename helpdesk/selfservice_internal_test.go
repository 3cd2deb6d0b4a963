package helpdesk

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/helpdesk/helpdesk/templates"
	"github.com/helpdesk/helpdesk/threading"
)

func TestParseSelfService_ReadsAddressesAndTheFirstLine(t *testing.T) {
	tokens, err := threading.NewTokens("test-secret-0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	own := []string{"support@example.com"}
	ki := threading.PlusAddress("support@example.com", tokens.SignKnownIssue(7))
	unsub := threading.PlusAddress("support@example.com", tokens.SignKnownIssueUnsubscribe(7, 3))
	for _, tc := range []struct {
		name  string
		addrs []string
		text  string
		want  selfRequest
		ok    bool
	}{
		{"plus address", []string{"support+cases@example.com"}, "hello", selfRequest{kind: selfCases}, true},
		{"plus address, upper case", []string{"Support+CASES@example.com"}, "", selfRequest{kind: selfCases}, true},
		{"first line", []string{"support@example.com"}, "\n  #cases\nthanks", selfRequest{kind: selfCases}, true},
		{"options", []string{"support@example.com"}, "#cases all org", selfRequest{kind: selfCases, all: true, org: true}, true},
		{"options on the plus address", []string{"support+cases@example.com"}, "#cases all", selfRequest{kind: selfCases, all: true}, true},
		{"#cases not first", []string{"support@example.com"}, "hello\n#cases", selfRequest{}, false},
		{"another word", []string{"support@example.com"}, "#casesall", selfRequest{}, false},
		{"another domain's plus address", []string{"support+cases@other.example"}, "", selfRequest{}, false},
		{"known issue", []string{ki}, "+1", selfRequest{kind: selfSubscribe, issue: 7}, true},
		{"known issue, unsubscribe", []string{ki}, "Unsubscribe.", selfRequest{kind: selfUnsubscribe, issue: 7}, true},
		{"unsubscribe token", []string{unsub}, "", selfRequest{kind: selfUnsubscribe, issue: 7, user: 3}, true},
		{"forged known issue", []string{strings.Replace(ki, "ki-7-", "ki-8-", 1)}, "+1", selfRequest{}, false},
		{"plain mail", []string{"support@example.com"}, "My printer is broken", selfRequest{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseSelfService(tc.addrs, own, tc.text, tokens)
			if ok != tc.ok || got != tc.want {
				t.Fatalf("got %+v, %t; want %+v, %t", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestCaseListGroups_OpenFirstThenLatestActivityGroupedByOrg(t *testing.T) {
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	acme, cust := int64(1), int64(2)
	acmeName := "Acme"
	u := &User{ID: 9, Role: RoleReseller, OrgID: &acme, OrgName: &acmeName}
	at := func(h int) time.Time { return now.Add(-time.Duration(h) * time.Hour) }
	cases := []selfCase{
		{ID: 1, Status: StatusSolved, OrgID: &acme, Org: "Acme", LastActivity: at(1)},
		{ID: 2, Status: StatusOpen, OrgID: &acme, Org: "Acme", LastActivity: at(50)},
		{ID: 3, Status: StatusPending, OrgID: &acme, Org: "Acme", LastActivity: at(2)},
		{ID: 4, Status: StatusOpen, OrgID: &cust, Org: "Customer", LastActivity: at(3)},
		{ID: 5, Status: StatusClosed, OrgID: &cust, Org: "Customer", LastActivity: at(1)},
		{ID: 6, Status: StatusOpen, Org: "", LastActivity: at(4)},
	}
	ids := func(gs []templates.CaseListGroup) string {
		var parts []string
		for _, g := range gs {
			var s []string
			for _, c := range g.Cases {
				s = append(s, fmt.Sprint(c.ID))
			}
			parts = append(parts, g.Org+":"+strings.Join(s, ","))
		}
		return strings.Join(parts, " | ")
	}
	for _, tc := range []struct {
		name       string
		all, byOrg bool
		want       string
	}{
		{"open only", false, false, ":3,6,2 | Customer:4"},
		{"all", true, false, ":3,6,2,1 | Customer:4,5"},
		{"by org", true, true, "Acme:3,2,1 | :6 | Customer:4,5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := caseListGroups(u, cases, tc.all, tc.byOrg, now, func(id int64) string { return fmt.Sprint("r", id) })
			if ids(got) != tc.want {
				t.Fatalf("got %s, want %s", ids(got), tc.want)
			}
			if c := got[0].Cases[0]; c.ReplyAddress != "r3" || c.LastActivityAt != (templates.Ago{N: 2, Unit: "hour"}) {
				t.Fatalf("first case %+v", c)
			}
		})
	}
}

func TestVisibleCases_ExactlyTheAccessRules(t *testing.T) {
	acme, other, resell := int64(1), int64(2), int64(3)
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	grantedAt := now.Add(-24 * time.Hour)
	cands := []selfCase{
		{ID: 1, OrgID: &acme, SubmitterID: 10, SubmitterRole: RoleCustomer, CreatedAt: now.Add(-48 * time.Hour)},
		{ID: 2, OrgID: &acme, SubmitterID: 11, SubmitterRole: RoleCustomer, CreatedAt: now.Add(-time.Hour)},
		{ID: 3, OrgID: &acme, SubmitterID: 30, SubmitterRole: RoleReseller, CreatedAt: now.Add(-time.Hour)},
		{ID: 4, OrgID: &other, SubmitterID: 20, SubmitterRole: RoleCustomer, CreatedAt: now},
		{ID: 5, OrgID: &other, SubmitterID: 21, SubmitterRole: RoleCustomer, CreatedAt: now, Participant: true},
	}
	withGrant := func(cs []selfCase) []selfCase {
		out := slices.Clone(cs)
		for i := range out {
			if *out[i].OrgID == acme {
				out[i].HasGrant, out[i].GrantedAt = true, &grantedAt
			}
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		u     User
		cands []selfCase
		want  []int64
	}{
		{"customer: own, participant and reseller-filed", User{ID: 10, Role: RoleCustomer, OrgID: &acme, Active: true}, cands, []int64{1, 3, 5}},
		{"contact: their org and participant", User{ID: 12, Role: RoleContact, OrgID: &acme, Active: true}, cands, []int64{1, 2, 3, 5}},
		{"reseller without a grant", User{ID: 30, Role: RoleReseller, OrgID: &resell, Active: true}, cands, nil},
		{"reseller with a grant: cases filed since", User{ID: 30, Role: RoleReseller, OrgID: &resell, Active: true}, withGrant(cands), []int64{2, 3}},
		{"deactivated", User{ID: 10, Role: RoleCustomer, OrgID: &acme}, cands, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []int64
			for _, c := range visibleCases(&tc.u, tc.cands, nil, AccessPolicy{}) {
				got = append(got, c.ID)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestRunBatch_CaseListRequestsCostTheSameStatementsForAnyBatchSize(t *testing.T) {
	e := newBatchEnv(t)
	ctx := context.Background()
	for i := range 68 {
		if _, err := CreateUser(ctx, e.s.DB(), NewUser{Email: fmt.Sprintf("u%d@acme.example", i), Role: RoleCustomer}); err != nil {
			t.Fatal(err)
		}
	}
	next := 0
	statements := func(n int) int {
		var batch []Inbound
		for range n {
			e.uid++
			raw := fmt.Sprintf("From: u%d@acme.example\r\nTo: support+cases@example.com\r\nSubject: cases\r\nMessage-ID: <l%d@acme.example>\r\n\r\nlist\r\n", next, e.uid)
			next++
			batch = append(batch, Inbound{Mailbox: "INBOX", UIDValidity: 1, UID: e.uid, Body: strings.NewReader(raw)})
		}
		c := &statementCounter{}
		err := e.s.WithTx(ctx, func(tx *sqlx.Tx) error {
			c.Queryer = tx
			res, err := e.g.runBatch(ctx, c, batch)
			for _, r := range res {
				if r.Decision != DecisionSelfService {
					t.Errorf("%+v: not a self-service decision", r)
				}
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return c.n
	}
	if small, large := statements(4), statements(64); small != large {
		t.Errorf("%d statements for 4 list requests, %d for 64", small, large)
	}
}

func TestKnownLines_OnlyInTheCommandBlock(t *testing.T) {
	for _, tc := range []struct {
		text string
		ids  []int64
		rest string
	}{
		{"#known 7\n#status pending\nText", []int64{7}, "#status pending\nText"},
		{"\n#status pending\n＃Known #8\nText", []int64{8}, "\n#status pending\nText"},
		{"Text first\n#known 7\n", nil, "Text first\n#known 7\n"},
		{"#known seven\n", nil, "#known seven\n"},
		{"#knownissue 7\n", nil, "#knownissue 7\n"},
	} {
		ids, rest := knownLines(tc.text)
		if !slices.Equal(ids, tc.ids) || rest != tc.rest {
			t.Errorf("knownLines(%q) = %v, %q; want %v, %q", tc.text, ids, rest, tc.ids, tc.rest)
		}
	}
}
