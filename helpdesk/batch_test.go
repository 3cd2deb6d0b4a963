package helpdesk_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/helpdesk/helpdesk/helpdesk"
	"github.com/helpdesk/helpdesk/helpdesk/pgtest"
)

func (e *env) batch(raws ...string) []helpdesk.BatchResult {
	e.t.Helper()
	var in []helpdesk.Inbound
	for _, raw := range raws {
		e.uid++
		raw = strings.ReplaceAll(raw, "\n", "\r\n")
		in = append(in, helpdesk.Inbound{Mailbox: "support/INBOX", UIDValidity: 7, UID: e.uid, Size: int64(len(raw)), Body: strings.NewReader(raw)})
	}
	return e.g.IngestBatch(context.Background(), in)
}

func TestIngestBatch_LaterMailSeesWhatEarlierMailOfTheBatchDid(t *testing.T) {
	e := newEnvWithDB(t, pgtest.New(t))
	res := e.batch(
		msg("jane@new.example", "VPN down", "b1@new.example", "", "The VPN is down."),
		msg("bob@other.example", "Invoice", "b2@other.example", "", "Where is my invoice?"),
		msg("jane@new.example", "Re: VPN down", "b3@new.example", "b1@new.example", "Still down."),
		msg("jane@new.example", "Re: VPN down", "b1@new.example", "", "The VPN is down."), // the first again
	)
	for i, r := range res {
		if r.Err != nil {
			t.Fatalf("mail %d: %v", i+1, r.Err)
		}
	}
	if res[0].Decision != helpdesk.DecisionNewCase || res[1].Decision != helpdesk.DecisionNewCase || res[0].CaseID == res[1].CaseID {
		t.Fatalf("the first two mails: %+v %+v, want two new cases", res[0].Result, res[1].Result)
	}
	if res[2].Decision != helpdesk.DecisionComment || res[2].CaseID != res[0].CaseID {
		t.Errorf("the reply to the batch's first mail: %+v, want a comment on case #%d", res[2].Result, res[0].CaseID)
	}
	if !res[3].Duplicate {
		t.Errorf("the first mail again in the same batch: %+v, want a duplicate", res[3].Result)
	}
	if n := count(t, e.s.DB(), `SELECT count(*) FROM cases`); n != 2 {
		t.Errorf("%d cases, want 2", n)
	}
	if n := count(t, e.s.DB(), `SELECT count(*) FROM comments`); n != 3 {
		t.Errorf("%d comments, want 3", n)
	}
	if n := count(t, e.s.DB(), `SELECT last_uid FROM mailbox_cursors WHERE mailbox = 'support/INBOX'`); n != int(e.uid) {
		t.Errorf("cursor at %d, want %d", n, e.uid)
	}
	// Every notification threads under its case and the mail it answers.
	var refs []string
	if err := e.s.DB().Select(&refs, `SELECT m.message_id FROM outbox o JOIN messages m ON m.message_id = o.message_id
		WHERE o.case_id = $1 AND o.kind = 'agent_customer_replied'`, res[0].CaseID); err != nil || len(refs) != 1 {
		t.Fatalf("agent notice of the reply: %v %v", refs, err)
	}
	var data []byte
	if err := e.s.DB().Get(&data, `SELECT data FROM outbox WHERE message_id = $1`, refs[0]); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "In-Reply-To: <b3@new.example>") || !strings.Contains(string(data), "<b1@new.example>") {
		t.Errorf("the agent notice of the reply is not threaded under it:\n%s", data[:min(len(data), 800)])
	}
}

func TestIngestBatch_AMessageThatCannotBeIngestedHoldsNoOther(t *testing.T) {
	e := newEnvWithDB(t, pgtest.New(t))
	res := e.batch(
		msg("jane@new.example", "One", "p1@new.example", "", "First."),
		"To: support@example.com\nSubject: no sender\nMessage-ID: <p2@nowhere.example>\n\nWho am I?\n",
		msg("bob@other.example", "Three", "p3@other.example", "", "Third."),
	)
	if res[0].Err != nil || res[2].Err != nil {
		t.Fatalf("the good mails failed: %v / %v", res[0].Err, res[2].Err)
	}
	if !helpdesk.IsPermanent(res[1].Err) {
		t.Errorf("the mail without a sender: %v, want a permanent error of its own", res[1].Err)
	}
	if n := count(t, e.s.DB(), `SELECT count(*) FROM cases`); n != 2 {
		t.Errorf("%d cases, want 2", n)
	}
}

func TestIngestBatch_IsExactlyOnceWhenRunAgain(t *testing.T) {
	e := newEnvWithDB(t, pgtest.New(t))
	var raws []string
	for i := range 10 {
		raws = append(raws, msg(fmt.Sprintf("c%d@new.example", i), "Help", fmt.Sprintf("x%d@new.example", i), "", "Please."))
	}
	e.batch(raws...)
	before := count(t, e.s.DB(), `SELECT count(*) FROM outbox`)
	e.uid = 0 // the same mail again, as after a UIDVALIDITY reset
	for _, r := range e.batch(raws...) {
		if r.Err != nil || !r.Duplicate {
			t.Fatalf("second run: %+v %v, want a duplicate", r.Result, r.Err)
		}
	}
	if n := count(t, e.s.DB(), `SELECT count(*) FROM cases`); n != 10 {
		t.Errorf("%d cases, want 10", n)
	}
	if after := count(t, e.s.DB(), `SELECT count(*) FROM outbox`); after != before {
		t.Errorf("outbox %d → %d: the second run notified again", before, after)
	}
}
