package helpdesk_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message"
	gomail "github.com/emersion/go-message/mail"

	"github.com/helpdesk/helpdesk/helpdesk"
	"github.com/helpdesk/helpdesk/helpdesk/lifecycle"
	"github.com/helpdesk/helpdesk/helpdesk/pgtest"
	"github.com/helpdesk/helpdesk/templates"
	"github.com/helpdesk/helpdesk/threading"
)

// newZonedEnv is newEnv with HELPDESK_TIMEZONE set to zone.
func newZonedEnv(t *testing.T, zone string) *env {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	s, err := helpdesk.NewStore(pgtest.New(t))
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
		ManagerAddress: "boss@example.com", TimeZone: loc})
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{now: time.Date(2026, 11, 20, 6, 0, 0, 0, time.UTC)}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	g, err := helpdesk.NewIngester(s, helpdesk.IngestConfig{Own: []string{"support@example.com"}, MessageIDDomain: "example.com",
		LoopID: loopID, Notifier: n, Tokens: tokens, Now: clk.Now, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	mustOrg(t, s.DB(), "Example", "", "example.com")
	mustOrg(t, s.DB(), "Acme", "premium", "acme.example")
	mustUser(t, s.DB(), "alice@example.com", "agent", "Example")
	if _, err := helpdesk.CreateUser(ctx, s.DB(), helpdesk.NewUser{Email: "minsu@acme.example", Name: "김민수", Role: "customer", Org: "Acme", Locale: "ko"}); err != nil {
		t.Fatal(err)
	}
	lc, err := helpdesk.NewLifecycle(s, n, lifecycle.DefaultPolicy(), log)
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, s: s, g: g, lc: lc, clk: clk}
}

func userID(t *testing.T, e *env, addr string) int64 {
	t.Helper()
	u, err := helpdesk.UserByAddress(context.Background(), e.s.DB(), addr)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

// readMail parses an outgoing mail as a client would: the decoded header
// and the text part.
func readMail(t *testing.T, data []byte) (gomail.Header, string) {
	t.Helper()
	r, err := gomail.CreateReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var text string
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if ih, ok := p.Header.(*gomail.InlineHeader); ok {
			if ct, _, _ := ih.ContentType(); ct == "text/plain" {
				b, _ := io.ReadAll(p.Body)
				text = string(b)
			}
		}
	}
	return r.Header, text
}

func TestOutbound_TimesAreInTheRecipientsZoneAndNamed(t *testing.T) {
	t.Parallel()
	e := newZonedEnv(t, "Europe/Berlin")
	ctx := context.Background()
	if err := helpdesk.SetUserTimeZone(ctx, e.s.DB(), userID(t, e, "minsu@acme.example"), "Asia/Seoul"); err != nil {
		t.Fatal(err)
	}
	acme, err := helpdesk.OrgByName(ctx, e.s.DB(), "Acme")
	if err != nil {
		t.Fatal(err)
	}
	if err := helpdesk.SetOrgTimeZone(ctx, e.s.DB(), acme.ID, "America/New_York"); err != nil {
		t.Fatal(err)
	}
	mustUser(t, e.s.DB(), "jane@acme.example", "customer", "Acme")

	tests := []struct {
		name, from   string
		wantZone     string // in the acknowledgement's text
		wantOffset   string // of its Date header
		wantNotZones []string
	}{
		{"the user's own zone", "minsu@acme.example", "KST", "+0900", []string{"UTC", "CET", "EST"}},
		{"the org's zone when the user has none", "jane@acme.example", "EST", "-0500", []string{"UTC", "CET", "KST"}},
		{"the org's zone for a customer created by this very mail", "new.person@acme.example", "EST", "-0500", []string{"UTC", "CET", "KST"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.ingest(msg(tt.from, "Printer "+strconv.Itoa(i), "tz-"+strconv.Itoa(i)+"@acme.example", "", "The printer is down.", "X-Priority: 1"))
			out := outbox(t, e.s.DB(), r.CaseID)
			ack := out[0]
			if ack.Kind != "case_received" {
				t.Fatalf("first mail is %s", ack.Kind)
			}
			h, text := readMail(t, ack.Data)
			if !strings.Contains(text, " "+tt.wantZone) {
				t.Errorf("acknowledgement does not show times in %s:\n%s", tt.wantZone, text)
			}
			for _, z := range tt.wantNotZones {
				if strings.Contains(text, " "+z) {
					t.Errorf("acknowledgement shows a time in %s:\n%s", z, text)
				}
			}
			if d := h.Get("Date"); !strings.HasSuffix(d, tt.wantOffset) {
				t.Errorf("Date = %q, want the recipient's offset %s", d, tt.wantOffset)
			}
			// The agent notice goes to agents@example.com, no user: HELPDESK_TIMEZONE.
			_, agentText := readMail(t, out[1].Data)
			if out[1].Kind != "agent_new_case" || !strings.Contains(agentText, " CET") || strings.Contains(agentText, " "+tt.wantZone) {
				t.Errorf("agent notice (%s) does not show times in the helpdesk's zone (CET):\n%s", out[1].Kind, agentText)
			}
		})
	}
}

func TestOutbound_AnAgentsOwnZoneIsUsedForTheirMail(t *testing.T) {
	t.Parallel()
	e := newZonedEnv(t, "UTC")
	ctx := context.Background()
	if err := helpdesk.SetUserTimeZone(ctx, e.s.DB(), userID(t, e, "alice@example.com"), "Asia/Tokyo"); err != nil {
		t.Fatal(err)
	}
	// Assigned to Alice, the agent notice of the customer's reply goes to her.
	r := e.ingest(msg("minsu@acme.example", "VPN", "az-1@acme.example", "", "VPN is down.", "X-Priority: 1"))
	notice := outbox(t, e.s.DB(), r.CaseID)[1].MessageID
	e.ingest(msg("Alice <alice@example.com>", "Re: VPN", "az-2@example.com", notice, "#assign me\nLooking."))
	e.ingest(msg("minsu@acme.example", "Re: VPN", "az-3@acme.example", outbox(t, e.s.DB(), r.CaseID)[0].MessageID, "Still down."))
	var toAlice []outRow
	for _, o := range outbox(t, e.s.DB(), r.CaseID) {
		if o.Rcpt == "alice@example.com" {
			toAlice = append(toAlice, o)
		}
	}
	if len(toAlice) == 0 {
		t.Fatalf("nothing went to alice: %v", kinds(t, e, r.CaseID))
	}
	for _, o := range toAlice {
		h, _ := readMail(t, o.Data)
		if d := h.Get("Date"); !strings.HasSuffix(d, "+0900") {
			t.Errorf("%s to alice: Date = %q, want her zone (+0900)", o.Kind, d)
		}
	}
}

func TestOutbound_CustomersNeverSeeInternalReasons(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	first := e.ingest(msg("Minsu <minsu@acme.example>", "VPN", "ir-1@acme.example", "", "VPN is down."))
	id := first.CaseID
	notice := outbox(t, e.s.DB(), id)[1].MessageID
	ack := outbox(t, e.s.DB(), id)[0].MessageID
	e.clk.Add(time.Hour)
	e.ingest(msg("Alice <alice@example.com>", "Re: VPN", "ir-2@example.com", notice, "#hold\nWaiting for the vendor."))
	e.clk.Add(time.Hour)
	e.ingest(msg("Alice <alice@example.com>", "Re: VPN", "ir-3@example.com", notice, "#solve\nFixed."))
	e.clk.Add(24 * time.Hour)
	e.ingest(msg("minsu@acme.example", "Re: VPN", "ir-4@acme.example", ack, "It broke again."))
	if c := e.caseState(id); c.Status != "open" {
		t.Fatalf("the customer's reply did not reopen: %s", c.Status)
	}
	sawStatus := false
	for _, o := range outbox(t, e.s.DB(), id) {
		if o.Rcpt != "minsu@acme.example" {
			continue
		}
		sawStatus = sawStatus || o.Kind == "status_changed"
		text := bodyText(t, o.Data)
		for _, internal := range []string{"Reason:", "사유:", "agent command", "#hold:", "->", "→", "customer replied to a solved case"} {
			if strings.Contains(text, internal) {
				t.Errorf("%s to the customer shows internal text %q:\n%s", o.Kind, internal, text)
			}
		}
	}
	if !sawStatus {
		t.Fatalf("the customer got no status mail: %v", kinds(t, e, id))
	}
	reopened := lastOutOfKindRow(t, e, id, "status_changed")
	if text := bodyText(t, reopened.Data); !strings.Contains(text, "고객님의 회신으로") {
		t.Errorf("the reopen notice does not tell the customer their reply reopened the case:\n%s", text)
	}
}

func TestOutbound_AgentCommentIsAHumanReplyNoticesAreAutomatic(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	first := e.ingest(msg("Minsu <minsu@acme.example>", "VPN", "as-1@acme.example", "", "VPN is down."))
	notice := outbox(t, e.s.DB(), first.CaseID)[1].MessageID
	e.ingest(msg("Alice <alice@example.com>", "Re: VPN", "as-2@example.com", notice, "Please restart the client."))
	tests := []struct {
		kind                                string
		autoSubmitted, precedence, suppress string
	}{
		{"case_received", "auto-replied", "bulk", "All"},
		{"agent_new_case", "auto-generated", "bulk", "All"},
		{"comment_added", "", "", "All"},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			o := lastOutOfKindRow(t, e, first.CaseID, tt.kind)
			e, err := message.Read(bytes.NewReader(o.Data))
			if err != nil {
				t.Fatal(err)
			}
			h := e.Header
			if got := h.Get("Auto-Submitted"); got != tt.autoSubmitted {
				t.Errorf("Auto-Submitted = %q, want %q", got, tt.autoSubmitted)
			}
			if got := h.Get("Precedence"); got != tt.precedence {
				t.Errorf("Precedence = %q, want %q", got, tt.precedence)
			}
			if got := h.Get("X-Auto-Response-Suppress"); got != tt.suppress {
				t.Errorf("X-Auto-Response-Suppress = %q, want %q", got, tt.suppress)
			}
			if got := h.Get(threading.LoopHeader); got != loopID {
				t.Errorf("%s = %q: our own mail must stay recognisable", threading.LoopHeader, got)
			}
		})
	}
}

func TestOutbound_FollowUpAgentNoticeNamesTheEarlierCase(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	first := e.ingest(msg("Minsu <minsu@acme.example>", "VPN 연결 끊김", "fu-1@acme.example", "", "VPN is down."))
	id := first.CaseID
	notice := outbox(t, e.s.DB(), id)[1].MessageID
	ack := outbox(t, e.s.DB(), id)[0].MessageID
	e.ingest(msg("Alice <alice@example.com>", "Re: VPN", "fu-2@example.com", notice, "#solve\nFixed."))
	e.clk.Add(40 * 24 * time.Hour)
	r := e.ingest(msg("minsu@acme.example", "Re: VPN 연결 끊김", "fu-3@acme.example", ack, "It is back."))
	if r.Decision != "follow_up" {
		t.Fatalf("reply after the window: %+v", r)
	}
	o := lastOutOfKindRow(t, e, r.CaseID, "agent_new_case")
	want := "#" + strconv.FormatInt(id, 10) + ": VPN 연결 끊김"
	if text := bodyText(t, o.Data); !strings.Contains(text, "Follows case "+want) {
		t.Errorf("the agent notice of the follow-up does not say it follows %q:\n%s", want, text)
	}
	// A first case says nothing of the kind.
	if text := bodyText(t, outbox(t, e.s.DB(), id)[1].Data); strings.Contains(text, "Follows case") {
		t.Errorf("a new case's notice claims to follow one:\n%s", text)
	}
}

func TestOutbound_KoreanSubjectKeepsItsCaseTagWhole(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	subject := "긴급: 첫 응답 시간 초과 — 프린터가 인쇄하지 않습니다, 드라이버를 다시 설치해도 같은 오류가 납니다"
	r := e.ingest(msg("Minsu <minsu@acme.example>", subject, "kt-1@acme.example", "", "도와주세요."))
	tag := "[Case #" + strconv.FormatInt(r.CaseID, 10) + "]"
	for _, o := range outbox(t, e.s.DB(), r.CaseID) {
		head, _, _ := bytes.Cut(o.Data, []byte("\r\n\r\n"))
		if !bytes.Contains(head, []byte(tag)) {
			t.Errorf("%s: the raw header does not carry %s whole:\n%s", o.Kind, tag, head)
		}
		h, _ := readMail(t, o.Data)
		got, err := h.Subject()
		if n, ok := threading.CaseTag(got); err != nil || !ok || n != r.CaseID {
			t.Errorf("%s: decoded subject %q (%v) has no tag for case %d", o.Kind, got, err, r.CaseID)
		}
	}
	// A reply carrying only the tag (no In-Reply-To) threads back.
	ackSubject, _ := func() (string, error) {
		h, _ := readMail(t, outbox(t, e.s.DB(), r.CaseID)[0].Data)
		return h.Subject()
	}()
	reply := e.ingest(msg("minsu@acme.example", "Re: "+ackSubject, "kt-2@acme.example", "", "추가 정보입니다."))
	if reply.CaseID != r.CaseID {
		t.Fatalf("a reply with %q went to case %d (%s), want %d", ackSubject, reply.CaseID, reply.Decision, r.CaseID)
	}
}
