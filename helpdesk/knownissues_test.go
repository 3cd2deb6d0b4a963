package helpdesk_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/helpdesk/helpdesk/helpdesk"
	"github.com/helpdesk/helpdesk/helpdesk/lifecycle"
	"github.com/helpdesk/helpdesk/templates"
	"github.com/helpdesk/helpdesk/threading"
)

func TestIngest_KnownIssueFollowUpdateAndResolve(t *testing.T) {
	t.Parallel()
	e := selfServiceEnv(t)
	db := e.s.DB()
	ctx := context.Background()
	ki, err := helpdesk.AddKnownIssue(ctx, db, helpdesk.NewKnownIssue{Title: "Login slow in EU", Body: "Logins take a minute.", Product: "portal"}, e.clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	addr := helpdesk.KnownIssueAddress(mustTokens(t), "support@example.com", ki.ID)

	// +1 by mail opens a case linked to the issue and subscribes.
	r := e.ingest(mailTo("jane@acme.example", addr, "Same here", "ki-1@acme.example", "", "+1, we are affected."))
	if r.Decision != "new_case" {
		t.Fatalf("+1: %+v", r)
	}
	if n := count(t, db, `SELECT count(*) FROM cases WHERE id = $1 AND known_issue_id = $2`, r.CaseID, ki.ID); n != 1 {
		t.Fatal("the case is not linked to the known issue")
	}
	if n := count(t, db, `SELECT count(*) FROM known_issue_subscriptions WHERE known_issue_id = $1`, ki.ID); n != 1 {
		t.Fatalf("%d subscriptions, want 1", n)
	}
	// A second +1 reuses the open case.
	again := e.ingest(mailTo("jane@acme.example", addr, "Still", "ki-2@acme.example", "", "+1"))
	if again.CaseID != r.CaseID || again.Decision != helpdesk.DecisionSelfService {
		t.Fatalf("second +1: %+v, want the case #%d reused", again, r.CaseID)
	}
	// A forged address is no subscription.
	forged := strings.Replace(addr, "ki-", "ki-9", 1)
	if f := e.ingest(mailTo("jin@acme.example", forged, "me too", "ki-3@acme.example", "", "+1")); f.Decision == helpdesk.DecisionSelfService {
		t.Fatalf("forged known-issue address: %+v", f)
	}
	if n := count(t, db, `SELECT count(*) FROM cases WHERE known_issue_id = $1`, ki.ID); n != 1 {
		t.Fatalf("%d linked cases after a forged address, want 1", n)
	}

	// #cases lists the subscription.
	e.ingest(mailTo("jane@acme.example", "support+cases@example.com", "cases", "ki-list@acme.example", "", "list"))
	lists := sentOfKind(t, db, "case_list")
	if text := lists[len(lists)-1].m.Text; !strings.Contains(text, "Login slow in EU") || !strings.Contains(text, "support+ki-unsub-") {
		t.Fatalf("the case list lacks the subscription:\n%s", text)
	}

	told, err := e.lc.UpdateKnownIssue(ctx, ki.ID, "A fix is rolling out to EU-West.", e.clk.Now())
	if err != nil || len(told) != 1 || told[0] != r.CaseID {
		t.Fatalf("update told %v, %v", told, err)
	}
	comments := sentOfKind(t, db, "comment_added")
	if len(comments) != 1 || comments[0].Rcpt != "jane@acme.example" || !strings.Contains(comments[0].m.Text, "A fix is rolling out") {
		t.Fatalf("update notices: %+v", comments)
	}
	unsub := threading.PlusAddress("support@example.com", mustTokens(t).SignKnownIssueUnsubscribe(ki.ID, ssUserID(t, db, "jane@acme.example")))
	if got := comments[0].m.Header["List-Unsubscribe"]; len(got) != 1 || got[0] != "<mailto:"+unsub+"?subject=unsubscribe>" {
		t.Fatalf("List-Unsubscribe %q, want the mailto of %s", got, unsub)
	}

	if _, err := e.lc.ResolveKnownIssue(ctx, ki.ID, "Fixed in release 4.2.", e.clk.Now()); err != nil {
		t.Fatal(err)
	}
	if s := e.caseState(r.CaseID); s.Status != "solved" {
		t.Fatalf("after resolve the linked case is %s", s.Status)
	}
	got, err := helpdesk.GetKnownIssue(ctx, db, ki.ID)
	if err != nil || got.Status != helpdesk.KnownIssueResolved || len(got.Updates) != 2 {
		t.Fatalf("resolved issue: %+v, %v", got, err)
	}
	if comments := sentOfKind(t, db, "comment_added"); len(comments) != 2 || !strings.Contains(comments[1].m.Text, "Fixed in release 4.2.") {
		t.Fatalf("resolution notices: %d", len(comments))
	}
}

func TestIngest_KnownIssueUnsubscribeUnlinksAndSolves(t *testing.T) {
	t.Parallel()
	e := selfServiceEnv(t)
	db := e.s.DB()
	ctx := context.Background()
	ki, err := helpdesk.AddKnownIssue(ctx, db, helpdesk.NewKnownIssue{Title: "Reports empty"}, e.clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	addr := helpdesk.KnownIssueAddress(mustTokens(t), "support@example.com", ki.ID)
	byToken := e.ingest(mailTo("jane@acme.example", addr, "+1", "u-1@acme.example", "", "+1"))
	byReply := e.ingest(mailTo("jin@acme.example", addr, "+1", "u-2@acme.example", "", "+1"))
	if byToken.Decision != "new_case" || byReply.Decision != "new_case" {
		t.Fatalf("subscriptions: %+v %+v", byToken, byReply)
	}
	unsub := threading.PlusAddress("support@example.com", mustTokens(t).SignKnownIssueUnsubscribe(ki.ID, ssUserID(t, db, "jane@acme.example")))
	// The List-Unsubscribe mailto: the token alone says it.
	r1 := e.ingest(mailTo("jane@acme.example", unsub, "unsubscribe", "u-3@acme.example", "", ""))
	// "unsubscribe" written into the linked case.
	ack := lastOutOfKindRow(t, e, byReply.CaseID, "case_received").MessageID
	r2 := e.ingest(msg("jin@acme.example", "Re: Reports empty", "u-4@acme.example", ack, "unsubscribe"))
	for _, tc := range []struct {
		r    helpdesk.Result
		want int64
	}{{r1, byToken.CaseID}, {r2, byReply.CaseID}} {
		if tc.r.Decision != helpdesk.DecisionSelfService || tc.r.CaseID != tc.want {
			t.Fatalf("unsubscribe: %+v, want case #%d", tc.r, tc.want)
		}
		if s := e.caseState(tc.want); s.Status != "solved" {
			t.Fatalf("case #%d is %s after unsubscribe", tc.want, s.Status)
		}
	}
	if n := count(t, db, `SELECT count(*) FROM cases WHERE known_issue_id = $1`, ki.ID); n != 0 {
		t.Fatalf("%d cases still linked", n)
	}
	if n := count(t, db, `SELECT count(*) FROM known_issue_subscriptions WHERE known_issue_id = $1`, ki.ID); n != 0 {
		t.Fatalf("%d subscriptions left", n)
	}
	// Someone else's unsubscribe address ends nothing.
	mallory := e.ingest(mailTo("carol@acme.example", unsub, "unsubscribe", "u-5@acme.example", "", ""))
	if !strings.Contains(mallory.Reason, "ignored") {
		t.Fatalf("another user's unsubscribe token: %+v", mallory)
	}
}

// An agent's "#known ID" line links the case and makes its submitter a
// follower; the line leaves the comment and the commands after it apply.
func TestIngest_AgentKnownLinksTheCaseAndSubscribesItsSubmitter(t *testing.T) {
	t.Parallel()
	e := selfServiceEnv(t)
	db := e.s.DB()
	ki, err := helpdesk.AddKnownIssue(context.Background(), db, helpdesk.NewKnownIssue{Title: "Exports time out"}, e.clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	id := openCase(t, e, "jane@acme.example", "Export fails")
	agentNotice := lastOutOfKindRow(t, e, id, "agent_new_case").MessageID
	r := e.ingest(msg("alice@example.com", "Re: Export fails", "known-1@example.com", agentNotice,
		fmt.Sprintf("#known %d\n#status pending\nThis is a known issue; we will keep you posted.", ki.ID)))
	if r.Decision != "comment" || r.CaseID != id {
		t.Fatalf("agent reply: %+v", r)
	}
	if n := count(t, db, `SELECT count(*) FROM cases WHERE id = $1 AND known_issue_id = $2 AND status = 'pending'`, id, ki.ID); n != 1 {
		t.Fatal("the case is not linked to the known issue and pending")
	}
	if n := count(t, db, `SELECT count(*) FROM known_issue_subscriptions s JOIN users u ON u.id = s.user_id
		WHERE s.known_issue_id = $1 AND u.login_email = 'jane@acme.example'`, ki.ID); n != 1 {
		t.Fatal("the submitter does not follow the known issue")
	}
	if n := count(t, db, `SELECT count(*) FROM comments WHERE case_id = $1 AND body LIKE '%#known%'`, id); n != 0 {
		t.Fatal("the #known line reached the comment")
	}
	if n := count(t, db, `SELECT count(*) FROM case_events WHERE case_id = $1 AND kind = 'known_issue' AND reason = 'linked by #known'`, id); n != 1 {
		t.Fatal("no audit entry for the link")
	}
	// A customer's "#known" does nothing of the kind.
	ack := lastOutOfKindRow(t, e, id, "comment_added").MessageID
	e.ingest(msg("jane@acme.example", "Re: Export fails", "known-2@acme.example", ack, fmt.Sprintf("#known %d\nthanks", ki.ID+1)))
	if n := count(t, db, `SELECT count(*) FROM cases WHERE id = $1 AND known_issue_id = $2`, id, ki.ID); n != 1 {
		t.Fatal("a customer's #known changed the link")
	}
}

// With a public HTTP listener, every known-issue update carries an RFC 8058
// one-click List-Unsubscribe; its token, posted back, ends the subscription
// through ingest like the unsubscribe mail. A subscribe or forged token
// ends nothing.
func TestIngest_KnownIssueOneClickUnsubscribe(t *testing.T) {
	t.Parallel()
	e := selfServiceEnv(t)
	db := e.s.DB()
	ctx := context.Background()
	tmpl, err := templates.New(templates.Options{})
	if err != nil {
		t.Fatal(err)
	}
	links, err := helpdesk.NewAttachmentLinks(helpdesk.AttachmentLinksConfig{Secrets: []string{"test-secret-0123456789abcdef"},
		BaseURL: "https://help.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	n, err := helpdesk.NewNotifier(helpdesk.NotifierConfig{Templates: tmpl, Tokens: mustTokens(t), SupportAddress: "support@example.com",
		Name: "Example Support", MessageIDDomain: "example.com", LoopID: loopID, AgentAddress: "agents@example.com", Links: links})
	if err != nil {
		t.Fatal(err)
	}
	lc, err := helpdesk.NewLifecycle(e.s, n, lifecycle.DefaultPolicy(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ki, err := helpdesk.AddKnownIssue(ctx, db, helpdesk.NewKnownIssue{Title: "Exports fail"}, e.clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	addr := helpdesk.KnownIssueAddress(mustTokens(t), "support@example.com", ki.ID)
	r := e.ingest(mailTo("jane@acme.example", addr, "+1", "oc-1@acme.example", "", "+1"))
	if _, err := lc.UpdateKnownIssue(ctx, ki.ID, "A fix is being tested.", e.clk.Now()); err != nil {
		t.Fatal(err)
	}
	updates := sentOfKind(t, db, "comment_added")
	h := updates[len(updates)-1].m.Header
	lu, post := first(h["List-Unsubscribe"]), first(h["List-Unsubscribe-Post"])
	const prefix = "<https://help.example.com/unsubscribe/"
	if !strings.HasPrefix(lu, prefix) || !strings.Contains(lu, "<mailto:") || post != "List-Unsubscribe=One-Click" {
		t.Fatalf("List-Unsubscribe %q, List-Unsubscribe-Post %q", lu, post)
	}
	token := lu[len(prefix):strings.Index(lu, ">")]

	for _, bad := range []string{strings.TrimPrefix(addr[:strings.Index(addr, "@")], "support+"), token + "x"} {
		if _, err := e.g.Unsubscribe(ctx, bad); !errors.Is(err, helpdesk.ErrInvalid) {
			t.Errorf("Unsubscribe(%q) = %v, want ErrInvalid", bad, err)
		}
	}
	res, err := e.g.Unsubscribe(ctx, token)
	if err != nil || res.Decision != helpdesk.DecisionSelfService || res.CaseID != r.CaseID {
		t.Fatalf("one-click unsubscribe: %+v, %v", res, err)
	}
	if s := e.caseState(r.CaseID); s.Status != "solved" {
		t.Fatalf("case #%d is %s after the one-click unsubscribe", r.CaseID, s.Status)
	}
	if n := count(t, db, `SELECT count(*) FROM known_issue_subscriptions WHERE known_issue_id = $1`, ki.ID); n != 0 {
		t.Fatalf("%d subscriptions left", n)
	}
}

func first(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}
