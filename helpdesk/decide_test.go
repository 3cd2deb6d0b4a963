package helpdesk

import (
	"strings"
	"testing"
	"time"

	"github.com/helpdesk/helpdesk/helpdesk/lifecycle"
	"github.com/helpdesk/helpdesk/mail"
	"github.com/helpdesk/helpdesk/templates"
	"github.com/helpdesk/helpdesk/threading"
)

// The decision table: Decide is pure, so each behaviour is a world, a
// batch of mail and what must be decided, without a database.

var decideNow = time.Date(2026, 11, 20, 6, 0, 0, 0, time.UTC)

func decideConfig(t *testing.T) *IngestConfig {
	t.Helper()
	tokens, err := threading.NewTokens("test-secret-0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := templates.New(templates.Options{})
	if err != nil {
		t.Fatal(err)
	}
	n, err := NewNotifier(NotifierConfig{Templates: tmpl, Tokens: tokens, SupportAddress: "support@example.com", Name: "Support",
		MessageIDDomain: "example.com", LoopID: "loop", AgentAddress: "agents@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	return &IngestConfig{Own: []string{"support@example.com"}, MessageIDDomain: "example.com", LoopID: "loop", Tokens: tokens,
		Notifier: n, UnknownSenders: "open", Policy: lifecycle.DefaultPolicy(), SenderCaseLimit: 5, LoopWindow: 10 * time.Minute,
		RefusalEvery: 24 * time.Hour, MaxMessageSize: DefaultMaxMessageSize}
}

// decideWorld: Acme (premium) with customer minsu, agent alice, and case
// #7 by minsu (open), whose first mail was <first@acme.example>; case #8
// by minsu is solved 3 days ago.
func decideWorld() *world {
	w := newWorld()
	acme := &orgView{ID: 1, Name: "Acme", Plan: "premium"}
	w.orgs[1], w.domains["acme.example"] = acme, acme
	minsu := &User{ID: 10, LoginEmail: "minsu@acme.example", Name: "Minsu", Role: RoleCustomer, OrgID: &acme.ID, Active: true, Locale: "en"}
	alice := &User{ID: 20, LoginEmail: "alice@example.com", Name: "Alice", Role: RoleAgent, Active: true, Locale: "en"}
	for _, u := range []*User{minsu, alice} {
		w.users[u.LoginEmail], w.usersByID[u.ID] = u, u
	}
	for _, c := range []struct {
		id     int64
		status lifecycle.Status
		solved time.Time
		first  string
	}{{7, lifecycle.Open, time.Time{}, "first@acme.example"}, {8, lifecycle.Solved, decideNow.Add(-72 * time.Hour), "old@acme.example"}} {
		cv := &caseView{participants: map[int64]bool{}, submitter: minsu, plan: "premium"}
		cv.ID, cv.Subject, cv.Status, cv.Severity, cv.OrgID, cv.Org, cv.SubmitterID = c.id, "Printer", string(c.status), "S3", &acme.ID, "Acme", minsu.ID
		cv.CreatedAt = decideNow.Add(-96 * time.Hour)
		cv.state = lifecycle.Case{ID: c.id, Status: c.status, Severity: lifecycle.S3, Plan: "premium", CreatedAt: cv.CreatedAt, SolvedAt: c.solved}
		cv.thread = []threadRef{{id: c.first}}
		w.cases[c.id] = cv
		w.known[c.first] = c.id
	}
	return w
}

func decideMail(t *testing.T, from, id, inReplyTo, subject, body string, extra ...string) *prepared {
	t.Helper()
	h := "From: " + from + "\r\nTo: support@example.com\r\nSubject: " + subject + "\r\nMessage-ID: <" + id + ">\r\n"
	if inReplyTo != "" {
		h += "In-Reply-To: <" + inReplyTo + ">\r\n"
	}
	for _, x := range extra {
		h += x + "\r\n"
	}
	m, err := mail.Parse(strings.NewReader(h+"\r\n"+body+"\r\n"), mail.ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := decideConfig(t)
	ci := m.ClassifyInput()
	ci.LoopID, ci.OwnMessageIDDomain, ci.OwnAddresses = cfg.LoopID, cfg.MessageIDDomain, cfg.Own
	return &prepared{msg: m, now: decideNow, class: threading.Classify(ci), replyText: ReplyText(m), blobs: map[*mail.Attachment]*storedBlob{}}
}

// tokenMessageID is the Message-ID of our mail about case to recipient.
func tokenMessageID(t *testing.T, caseID, recipient int64) string {
	t.Helper()
	tokens, err := threading.NewTokens("test-secret-0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	return threading.OwnMessageIDPrefix + tokens.Sign(caseID, recipient) + ".1@example.com"
}

type decided struct {
	decision string
	caseID   int64 // < 0: the n-th case the batch opened (-1 the first)
	notices  []string
}

func TestDecide_Table(t *testing.T) {
	tests := []struct {
		name  string
		cfg   func(*IngestConfig)
		mails func(t *testing.T) []*prepared
		want  []decided
	}{
		{"a new mail from a customer opens a case, acknowledged, agents told", nil,
			func(t *testing.T) []*prepared {
				return []*prepared{decideMail(t, "minsu@acme.example", "n1@acme.example", "", "Login broken", "It fails.")}
			},
			[]decided{{DecisionNewCase, -1, []string{"case_received", "agent_new_case"}}}},
		{"a reply by In-Reply-To is a comment on its case and agents are told", nil,
			func(t *testing.T) []*prepared {
				return []*prepared{decideMail(t, "minsu@acme.example", "r1@acme.example", "first@acme.example", "Re: Printer", "Still broken.")}
			},
			[]decided{{DecisionComment, 7, []string{"agent_customer_replied"}}}},
		{"a reply to a solved case reopens it", nil,
			func(t *testing.T) []*prepared {
				return []*prepared{decideMail(t, "minsu@acme.example", "r2@acme.example", "old@acme.example", "Re: Printer", "It broke again.")}
			},
			[]decided{{DecisionComment, 8, []string{"status_changed", "agent_reopened"}}}},
		{"a stranger's reply is held for review, agents told", nil,
			func(t *testing.T) []*prepared {
				return []*prepared{decideMail(t, "eve@evil.example", "s1@evil.example", "first@acme.example", "Re: Printer", "Let me in.")}
			},
			[]decided{{DecisionHeld, 7, []string{"held_for_review"}}}},
		{"an agent's reply is relayed to the submitter and waits on them", nil,
			func(t *testing.T) []*prepared {
				return []*prepared{decideMail(t, "alice@example.com", "a1@example.com", "first@acme.example", "Re: Printer", "Try turning it off.")}
			},
			[]decided{{DecisionComment, 7, []string{"comment_added"}}}},
		{"a later mail of the batch threads to the case an earlier one opened", nil,
			func(t *testing.T) []*prepared {
				return []*prepared{
					decideMail(t, "jane@new.example", "b1@new.example", "", "Help", "First."),
					decideMail(t, "minsu@acme.example", "b2@acme.example", "", "Other", "Unrelated."),
					decideMail(t, "jane@new.example", "b3@new.example", "b1@new.example", "Re: Help", "More."),
				}
			},
			[]decided{{DecisionNewCase, -1, []string{"case_received", "agent_new_case"}}, {DecisionNewCase, -2, []string{"case_received", "agent_new_case"}},
				{DecisionComment, -1, []string{"agent_customer_replied"}}}},
		{"an out-of-office reply opens nothing and tells nobody", nil,
			func(t *testing.T) []*prepared {
				return []*prepared{decideMail(t, "minsu@acme.example", "o1@acme.example", "", "Out of office", "Away.", "Auto-Submitted: auto-replied")}
			},
			[]decided{{DecisionIgnored, 0, nil}}},
		{"a read receipt is stored on its case and never reopens it or tells anyone", nil,
			func(t *testing.T) []*prepared {
				return []*prepared{decideMail(t, "minsu@acme.example", "m1@acme.example", "old@acme.example", "Read: Printer",
					"--b\r\nContent-Type: text/plain\r\n\r\nYour message was read.\r\n--b\r\nContent-Type: message/disposition-notification\r\n\r\n"+
						"Final-Recipient: rfc822; minsu@acme.example\r\nDisposition: manual-action/MDN-sent-manually; displayed\r\n--b--",
					"MIME-Version: 1.0", `Content-Type: multipart/report; report-type=disposition-notification; boundary="b"`)}
			},
			[]decided{{DecisionStored, 8, nil}}},
		{"a customer's mail forwarded by their mailbox rule opens a case like their own", nil,
			func(t *testing.T) []*prepared {
				return []*prepared{decideMail(t, "minsu@acme.example", "f1@acme.example", "", "Printer on fire", "Please help.",
					"Auto-Submitted: auto-forwarded", "X-MS-Exchange-Inbox-Rules-Loop: minsu@acme.example")}
			},
			[]decided{{DecisionNewCase, -1, []string{"case_received", "agent_new_case"}}}},
		{"our own mail coming back is ignored", nil,
			func(t *testing.T) []*prepared {
				return []*prepared{decideMail(t, "support@example.com", "l1@example.com", "", "Loop", "Ours.", "X-Helpdesk-Loop: loop")}
			},
			[]decided{{DecisionIgnored, 0, nil}}},
		{"a colleague in Cc of the submitter's mail is a participant whose reply is a comment", nil,
			func(t *testing.T) []*prepared {
				return []*prepared{
					decideMail(t, "minsu@acme.example", "cc1@acme.example", "first@acme.example", "Re: Printer", "Jiwoo knows more.",
						"Cc: Jiwoo <jiwoo@partner.example>"),
					decideMail(t, "jiwoo@partner.example", "cc2@partner.example", "cc1@acme.example", "Re: Printer", "It is the fuser."),
				}
			},
			[]decided{{DecisionComment, 7, []string{"agent_customer_replied"}}, {DecisionComment, 7, []string{"agent_customer_replied"}}}},
		{"a stranger's Cc adds no participant: their colleague's reply is held", nil,
			func(t *testing.T) []*prepared {
				return []*prepared{
					decideMail(t, "eve@evil.example", "cc3@evil.example", "first@acme.example", "Re: Printer", "Me too.", "Cc: mal@evil.example"),
					decideMail(t, "mal@evil.example", "cc4@evil.example", "cc3@evil.example", "Re: Printer", "Let us in."),
				}
			},
			[]decided{{DecisionHeld, 7, []string{"held_for_review"}}, {DecisionHeld, 7, []string{"held_for_review"}}}},
		{"a reply from a new address with a valid reply token is appended", nil,
			func(t *testing.T) []*prepared {
				return []*prepared{decideMail(t, "minsu.phone@mobile.example", "na1@mobile.example", tokenMessageID(t, 7, 10), "Re: Printer", "From my phone.")}
			},
			[]decided{{DecisionComment, 7, []string{"agent_customer_replied"}}}},
		{"a reply from a new address is held under the strict policy", func(c *IngestConfig) { c.Access.NewAddressHold = true },
			func(t *testing.T) []*prepared {
				return []*prepared{decideMail(t, "minsu.phone@mobile.example", "na2@mobile.example", tokenMessageID(t, 7, 10), "Re: Printer", "From my phone.")}
			},
			[]decided{{DecisionHeld, 7, []string{"held_for_review"}}}},
		{"a web form's mail opens a case for the Reply-To person", nil,
			func(t *testing.T) []*prepared {
				return []*prepared{decideMail(t, "Shop <noreply@shop.example>", "w1@shop.example", "", "Contact form", "Where is my order?",
					"Reply-To: Kim <kim@customer.example>")}
			},
			[]decided{{DecisionNewCase, -1, []string{"case_received", "agent_new_case"}}}},
		{"a web form's Reply-To naming staff opens no case", nil,
			func(t *testing.T) []*prepared {
				return []*prepared{decideMail(t, "noreply@shop.example", "w2@shop.example", "", "Contact form", "Hi.", "Reply-To: alice@example.com")}
			},
			[]decided{{DecisionRefused, 0, nil}}},
		{"a web form's Reply-To never gives access to a case", nil,
			func(t *testing.T) []*prepared {
				return []*prepared{decideMail(t, "noreply@shop.example", "w3@shop.example", "first@acme.example", "Re: Printer", "Hi.",
					"Reply-To: minsu@acme.example")}
			},
			[]decided{{DecisionHeld, 7, []string{"held_for_review"}}}},
		{"an unknown sender under the registered policy is refused once", func(c *IngestConfig) { c.UnknownSenders = "registered" },
			func(t *testing.T) []*prepared {
				return []*prepared{
					decideMail(t, "who@else.example", "u1@else.example", "", "Hi", "Hello."),
					decideMail(t, "who@else.example", "u2@else.example", "", "Hi again", "Hello?"),
				}
			},
			[]decided{{DecisionRefused, 0, []string{"refusal"}}, {DecisionRefused, 0, nil}}},
		{"a sender over the new-case limit is throttled, agents told once", func(c *IngestConfig) { c.SenderCaseLimit = 2 },
			func(t *testing.T) []*prepared {
				var ps []*prepared
				for _, id := range []string{"t1", "t2", "t3", "t4"} {
					ps = append(ps, decideMail(t, "bot@spam.example", id+"@spam.example", "", "Offer "+id, "Buy."))
				}
				return ps
			},
			[]decided{{DecisionNewCase, -1, []string{"case_received", "agent_new_case"}}, {DecisionNewCase, -2, []string{"case_received", "agent_new_case"}},
				{DecisionThrottled, 0, []string{"sender_throttled"}}, {DecisionThrottled, 0, nil}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := decideConfig(t)
			if tt.cfg != nil {
				tt.cfg(cfg)
			}
			w, pl := decideWorld(), &plan{}
			mails := tt.mails(t)
			for i, p := range mails {
				before := len(pl.notices)
				d := &decider{w: w, cfg: cfg, n: cfg.Notifier, plan: pl, p: p, now: decideNow}
				if err := d.decide(); err != nil {
					t.Fatal(err)
				}
				w.learn(p)
				want := tt.want[i]
				if p.out.decision != want.decision {
					t.Errorf("mail %d: decision %q (%s), want %q", i+1, p.out.decision, p.out.reason, want.decision)
				}
				switch got := p.out.c; {
				case want.caseID == 0 && got != nil:
					t.Errorf("mail %d: on case #%d, want none", i+1, got.ID)
				case want.caseID > 0 && (got == nil || got.ID != want.caseID):
					t.Errorf("mail %d: on case %v, want #%d", i+1, got, want.caseID)
				case want.caseID < 0 && (got == nil || int(-want.caseID) > len(pl.cases) || got != pl.cases[-want.caseID-1]):
					t.Errorf("mail %d: not on new case %d of the batch", i+1, -want.caseID)
				}
				var kinds []string
				for _, nt := range pl.notices[before:] {
					var c int64
					if nt.c != nil {
						c = nt.c.ID
					}
					kinds = append(kinds, string(nt.data(cfg.Notifier.Base(c, "s", "n")).Kind()))
				}
				if strings.Join(kinds, ",") != strings.Join(want.notices, ",") {
					t.Errorf("mail %d: notices %v, want %v", i+1, kinds, want.notices)
				}
			}
		})
	}
}

// The batch's notices follow their case's thread as it stood when they
// were decided: the acknowledgement answers the customer's mail and the
// agent notice references both.
func TestReferences_FollowTheThreadAsDecided(t *testing.T) {
	a, b := &notice{messageID: "ack@example.com"}, &notice{messageID: "agent@example.com"}
	thread := []threadRef{{id: "first@x"}, {id: "reply@x"}, {nt: a}, {nt: b}}
	irt, refs := references(thread, 2, "")
	if irt != "reply@x" || strings.Join(refs, " ") != "first@x reply@x" {
		t.Errorf("ack: In-Reply-To %q References %v", irt, refs)
	}
	irt, refs = references(thread, 3, "reply@x")
	if irt != "reply@x" || strings.Join(refs, " ") != "first@x reply@x ack@example.com" {
		t.Errorf("agent notice: In-Reply-To %q References %v", irt, refs)
	}
	long := []threadRef{{id: "root@x"}}
	for range 40 {
		long = append(long, threadRef{id: "m@x"})
	}
	long = append(long, threadRef{id: "last@x"})
	_, refs = references(long, len(long), "")
	if len(refs) != maxReferences || refs[0] != "root@x" || refs[len(refs)-1] != "last@x" {
		t.Errorf("a long thread gives %d references %v…%v, want %d with the root first and the latest last", len(refs), refs[0], refs[len(refs)-1], maxReferences)
	}
}
