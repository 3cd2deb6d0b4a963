package helpdesk_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/helpdesk/helpdesk/helpdesk"
)

func heldIDOf(t testing.TB, e *env, messageID string) int64 {
	t.Helper()
	hs, err := helpdesk.ListHeld(context.Background(), e.s.DB())
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hs {
		if h.MessageID == messageID {
			return h.ID
		}
	}
	t.Fatalf("<%s> is not in the held list %+v", messageID, hs)
	return 0
}

// Releasing a held mail appends it as its sender's public comment, as a
// reply from an allowed sender would be: the sender becomes a participant
// (not the people it Cc'd: released mail adds nobody else),
// a solved case reopens, agents are told, the event names the operator.
// The same mail cannot be released or discarded again.
func TestHeld_ReleaseAppendsTheMailAsItsSendersComment(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	db := e.s.DB()
	first := e.ingest(msg("minsu@acme.example", "Printer", "hr-1@acme.example", "", "Broken."))
	if _, err := db.Exec(`UPDATE cases SET status = 'solved', solved_at = $2 WHERE id = $1`, first.CaseID, e.clk.Now()); err != nil {
		t.Fatal(err)
	}
	held := e.ingest(msg("Sam <sam@partner.example>", "Re: Printer", "hr-2@partner.example", "hr-1@acme.example", "Still broken here.",
		"Cc: friend@partner.example"))
	if held.Decision != "held" {
		t.Fatalf("stranger: %+v", held)
	}
	id := heldIDOf(t, e, "hr-2@partner.example")
	if notice := bodyText(t, lastOutOfKindRow(t, e, first.CaseID, "held_for_review").Data); !strings.Contains(notice,
		"helpdeskd held release "+strconv.FormatInt(id, 10)) {
		t.Fatalf("the held notice does not say how to release it:\n%s", notice)
	}
	op, err := helpdesk.UserByAddress(ctx, db, "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	before := len(outbox(t, db, first.CaseID))
	r, err := e.g.Release(ctx, id, false, op)
	if err != nil || r.Decision != "comment" || r.CaseID != first.CaseID {
		t.Fatalf("release: %+v, %v", r, err)
	}
	d, _ := helpdesk.GetCaseDetail(ctx, db, first.CaseID)
	last := d.Comments[len(d.Comments)-1]
	if len(d.Comments) != 2 || !last.Public || last.Held || strOf(last.Author) != "sam@partner.example" {
		t.Fatalf("comments after release: %+v", d.Comments)
	}
	if d.Status != "open" {
		t.Fatalf("status %s: a released reply reopens a solved case like any reply", d.Status)
	}
	if got := strings.Join(participants(t, e, first.CaseID), ","); got != "sam@partner.example released" {
		t.Fatalf("participants = %s", got)
	}
	var sent []string
	for _, o := range outbox(t, db, first.CaseID)[before:] {
		sent = append(sent, o.Kind)
	}
	if !strings.Contains(strings.Join(sent, ","), "agent_reopened") {
		t.Fatalf("notices after release: %v", sent)
	}
	if n := count(t, db, `SELECT count(*) FROM case_events e JOIN users u ON u.id = e.actor_id
		WHERE e.case_id = $1 AND e.kind = 'released' AND u.login_email = 'alice@example.com' AND e.message_id = $2`, first.CaseID, id); n != 1 {
		t.Fatalf("%d released events by the operator", n)
	}
	if n := count(t, db, `SELECT count(*) FROM case_events WHERE kind = 'held' AND message_id = $1`, id); n != 1 {
		t.Fatalf("the held event lost its mail: %d", n)
	}
	w, err := helpdesk.ExplainMessage(ctx, db, "hr-2@partner.example")
	if err != nil || w.Decision != "comment" || !strings.Contains(w.Reason, "released by alice@example.com") {
		t.Fatalf("why after release: %+v, %v", w, err)
	}
	if hs, _ := helpdesk.ListHeld(ctx, db); len(hs) != 0 {
		t.Fatalf("still listed: %+v", hs)
	}
	if _, err := e.g.Release(ctx, id, false, op); !errors.Is(err, helpdesk.ErrConflict) || !strings.Contains(err.Error(), "was released by alice@example.com") {
		t.Fatalf("second release: %v", err)
	}
	if err := helpdesk.DiscardHeld(ctx, e.s, id, nil, "", e.clk.Now()); !errors.Is(err, helpdesk.ErrConflict) {
		t.Fatalf("discarding a released mail: %v", err)
	}
}

// Released as a new case, a held mail opens a case for its sender.
func TestHeld_ReleaseAsNewCaseOpensACaseForTheSender(t *testing.T) {
	t.Parallel()
	e := withPolicy(t, func(c *helpdesk.IngestConfig) { c.UnknownSenders = "registered" })
	ctx := context.Background()
	db := e.s.DB()
	refused := e.ingest(msg("Nora <nora@newcorp.example>", "Quote please", "hn-1@newcorp.example", "", "Can we buy support?"))
	if refused.Decision != "refused" {
		t.Fatalf("unknown sender: %+v", refused)
	}
	id := heldIDOf(t, e, "hn-1@newcorp.example")
	if _, err := e.g.Release(ctx, id, false, nil); !errors.Is(err, helpdesk.ErrInvalid) || !strings.Contains(err.Error(), "--as-new-case") {
		t.Fatalf("releasing refused mail onto no case: %v", err)
	}
	r, err := e.g.Release(ctx, id, true, nil)
	if err != nil || r.Decision != "new_case" || r.CaseID == 0 {
		t.Fatalf("release as a new case: %+v, %v", r, err)
	}
	d, _ := helpdesk.GetCaseDetail(ctx, db, r.CaseID)
	if d.Submitter != "nora@newcorp.example" || len(d.Comments) != 1 {
		t.Fatalf("new case: submitter %s, comments %+v", d.Submitter, d.Comments)
	}
	if got := kinds(t, e, r.CaseID); len(got) == 0 || got[0] != "case_received>nora@newcorp.example" {
		t.Fatalf("notices: %v", got)
	}
	if _, err := e.g.Release(ctx, id, true, nil); !errors.Is(err, helpdesk.ErrConflict) {
		t.Fatalf("second release: %v", err)
	}
}

// Discarding keeps the mail for audit, takes it off the list, records who
// did it on the case, and ends its review.
func TestHeld_DiscardKeepsTheMailButListsItNoMore(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	db := e.s.DB()
	first := e.ingest(msg("minsu@acme.example", "VPN", "hd-1@acme.example", "", "Down."))
	e.ingest(msg("spam@evil.example", "Re: VPN", "hd-2@evil.example", "hd-1@acme.example", "Buy now."))
	id := heldIDOf(t, e, "hd-2@evil.example")
	op, _ := helpdesk.UserByAddress(ctx, db, "alice@example.com")
	if err := helpdesk.DiscardHeld(ctx, e.s, id, op, "spam", e.clk.Now()); err != nil {
		t.Fatal(err)
	}
	if hs, _ := helpdesk.ListHeld(ctx, db); len(hs) != 0 {
		t.Fatalf("still listed: %+v", hs)
	}
	if n := count(t, db, `SELECT count(*) FROM messages WHERE id = $1 AND review = 'discarded' AND reviewed_by = 'alice@example.com'`, id); n != 1 {
		t.Fatal("the discarded mail is not kept with its review")
	}
	if n := count(t, db, `SELECT count(*) FROM case_events WHERE case_id = $1 AND kind = 'discarded' AND reason LIKE '%spam'`, first.CaseID); n != 1 {
		t.Fatalf("%d discarded events", n)
	}
	if _, err := e.g.Release(ctx, id, false, nil); !errors.Is(err, helpdesk.ErrConflict) || !strings.Contains(err.Error(), "was discarded") {
		t.Fatalf("releasing a discarded mail: %v", err)
	}
	if _, err := e.g.Release(ctx, 999999, false, nil); !errors.Is(err, helpdesk.ErrNotFound) {
		t.Fatalf("releasing an unknown id: %v", err)
	}
	var applied int64
	if err := db.Get(&applied, `SELECT id FROM messages WHERE message_id = 'hd-1@acme.example' AND direction = 'in'`); err != nil {
		t.Fatal(err)
	}
	if _, err := e.g.Release(ctx, applied, false, nil); !errors.Is(err, helpdesk.ErrInvalid) || !strings.Contains(err.Error(), "is not held") {
		t.Fatalf("releasing a mail that was never held: %v", err)
	}
}
