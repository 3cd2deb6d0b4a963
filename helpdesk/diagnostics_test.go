package helpdesk_test

import (
	"context"
	"strings"
	"testing"

	"github.com/helpdesk/helpdesk/helpdesk"
)

// The acknowledgement asks, in the customer's language, only for what the
// first mail lacks of what support needs to start work.
func TestIngest_AcknowledgementAsksOnlyForMissingDiagnostics(t *testing.T) {
	t.Parallel()
	en := map[string]string{"time": "with your time zone", "version": "The version of the product", "error": "exact error message",
		"steps": "The steps to reproduce", "impact": "How many users are affected", "files": "Logs or screenshots"}
	ko := map[string]string{"time": "시간대. 예:", "version": "사용 중인 제품 버전", "error": "정확한 오류 메시지",
		"steps": "문제를 재현하는 단계", "impact": "영향받는 사용자 수", "files": "로그 파일이나 스크린샷"}
	tests := []struct {
		name    string
		eml     string
		lines   map[string]string
		intro   string
		missing []string
	}{
		{"en: a mail without any of it", "severity-body-line.eml", en, "To start work on your case",
			[]string{"time", "version", "error", "steps", "impact", "files"}},
		{"ko: error text and a screenshot given", "new-case-korean.eml", ko, "문제 확인을 바로 시작할 수 있도록",
			[]string{"time", "version", "steps", "impact"}},
		{"en: a complete report", "diagnostics-complete-en.eml", en, "To start work on your case", nil},
		{"ko: a complete report", "diagnostics-complete-ko.eml", ko, "문제 확인을 바로 시작할 수 있도록", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			withBasicCustomers(t, e)
			r := e.ingest(readEML(t, tt.eml))
			if r.Decision != helpdesk.DecisionNewCase {
				t.Fatalf("decision %+v", r)
			}
			ack := lastOutOfKindRow(t, e, r.CaseID, "case_received")
			text := bodyText(t, ack.Data)
			if strings.Contains(text, tt.intro) != (len(tt.missing) > 0) {
				t.Errorf("the request for details is shown: %t, want %t:\n%s", !(len(tt.missing) > 0), len(tt.missing) > 0, text)
			}
			for item, line := range tt.lines {
				want := false
				for _, m := range tt.missing {
					want = want || m == item
				}
				if strings.Contains(text, line) != want {
					t.Errorf("%s (%q) asked for: %t, want %t:\n%s", item, line, !want, want, text)
				}
			}
		})
	}
}

// openedBy opens a case for from and returns it with the Message-ID of the
// agents' notice.
func openedBy(t *testing.T, e *env, from, id string) (int64, string) {
	t.Helper()
	r := e.ingest(msg(from, "Export fails", id, "", "The export fails since the upgrade."))
	return r.CaseID, lastOutOfKind(t, e, r.CaseID, "agent_new_case")
}

func TestIngest_AgentDiagnosticsRequestsDetailsAndWaitsOnTheCustomer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id, notice := openedBy(t, e, "minsu@acme.example", "dg-1@acme.example")
	e.ingest(msg("Alice <alice@example.com>", "Re: Export fails", "dg-2@example.com", notice, "#diagnostics the HAR file of the export page"))
	if c := e.caseState(id); c.Status != "pending" {
		t.Fatalf("status %s after #diagnostics, want pending", c.Status)
	}
	req := lastOutOfKindRow(t, e, id, "diagnostics_request")
	text := bodyText(t, req.Data)
	for _, w := range []string{"진단 정보", "the HAR file of the export page", "로그 파일이나 스크린샷", "문제를 재현하는 단계", "제품 버전", "시간대"} {
		if req.Rcpt != "minsu@acme.example" || !strings.Contains(text, w) {
			t.Errorf("request to %s lacks %q:\n%s", req.Rcpt, w, text)
		}
	}
	if res := bodyText(t, lastOutOfKindRow(t, e, id, "command_result").Data); !strings.Contains(res, "diagnostics requested from the submitter") {
		t.Errorf("agent's command result:\n%s", res)
	}
	for _, o := range outbox(t, e.s.DB(), id) {
		if o.Kind == "status_changed" || o.Kind == "comment_added" {
			t.Errorf("the customer also got %s: the request is the one mail", o.Kind)
		}
	}

	// The customer's answer with a file reopens the case for the agents.
	answer := "From: minsu@acme.example\nTo: support@example.com\nSubject: Re: Export fails\nMessage-ID: <dg-3@acme.example>\n" +
		"In-Reply-To: <" + req.MessageID + ">\nContent-Type: multipart/mixed; boundary=x\n\n--x\nContent-Type: text/plain; charset=UTF-8\n\n" +
		"HAR 파일을 첨부합니다.\n--x\nContent-Type: application/json; name=export.har\nContent-Disposition: attachment; filename=export.har\n\n{\"log\":{}}\n--x--\n"
	r := e.ingest(answer)
	if r.CaseID != id || r.Decision != "comment" {
		t.Fatalf("answer: %+v", r)
	}
	if c := e.caseState(id); c.Status != "open" {
		t.Errorf("status %s after the answer, want open", c.Status)
	}
	if a := bodyText(t, lastOutOfKindRow(t, e, id, "agent_customer_replied").Data); !strings.Contains(a, "export.har") {
		t.Errorf("agents' notice does not name the file:\n%s", a)
	}
}

func TestIngest_ConsentApprovedIsRecordedAndAgentsTold(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ word, answer string }{{"#approve", "approved"}, {"#deny", "denied"}} {
		t.Run(tt.word, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			id, notice := openedBy(t, e, "minsu@acme.example", "cn-1@acme.example")
			e.ingest(msg("Alice <alice@example.com>", "Re: Export fails", "cn-2@example.com", notice, "#consent read-only access to the export service logs"))
			req := lastOutOfKindRow(t, e, id, "consent_request")
			text := bodyText(t, req.Data)
			if req.Rcpt != "minsu@acme.example" || !strings.Contains(text, "read-only access to the export service logs") ||
				!strings.Contains(text, "#approve") || !strings.Contains(text, "#deny") {
				t.Errorf("consent request to %s:\n%s", req.Rcpt, text)
			}
			// The answer comes in a later batch: the request is read back from the case's events.
			e.ingest(msg("minsu@acme.example", "Re: Export fails", "cn-3@acme.example", req.MessageID, tt.word))
			d, err := helpdesk.GetCaseDetail(context.Background(), e.s.DB(), id)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, ev := range d.Events {
				if ev.Kind == "consent" {
					actor := ""
					if ev.Actor != nil {
						actor = *ev.Actor
					}
					got = append(got, ev.To+" by "+actor)
				}
			}
			if want := "requested by alice@example.com," + tt.answer + " by minsu@acme.example"; strings.Join(got, ",") != want {
				t.Errorf("consent events %q, want %q", got, want)
			}
			agents := lastOutOfKindRow(t, e, id, "agent_customer_replied")
			if a := bodyText(t, agents.Data); agents.Rcpt != "agents@example.com" || !strings.Contains(a, "Consent: "+tt.answer) {
				t.Errorf("agents' notice to %s:\n%s", agents.Rcpt, a)
			}
			for _, o := range outbox(t, e.s.DB(), id) {
				if o.Kind == "customer_command_result" {
					t.Errorf("an applied %s was answered as refused", tt.word)
				}
			}
			if len(d.Comments) != 1 {
				t.Errorf("a command-only answer added a comment: %d comments", len(d.Comments))
			}
		})
	}
}

func TestIngest_ApproveWithoutAConsentRequestIsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	withBasicCustomers(t, e)
	id, ack, _ := openAndAck(t, e, "Ann Lee <ann@basic.example>", "na-1@basic.example")
	e.ingest(msg("Ann Lee <ann@basic.example>", "Re: Login fails", "na-2@basic.example", ack, "#approve"))
	o := lastOutOfKindRow(t, e, id, "customer_command_result")
	if text := bodyText(t, o.Data); o.Rcpt != "ann@basic.example" || !strings.Contains(text, "#approve") ||
		!strings.Contains(text, "We have not asked you for access to logs") {
		t.Errorf("refusal to %s:\n%s", o.Rcpt, text)
	}
	if n := count(t, e.s.DB(), `SELECT count(*) FROM case_events WHERE case_id = $1 AND kind = 'consent'`, id); n != 0 {
		t.Errorf("%d consent events without a request", n)
	}
}

// Only the submitter or a contact of the case's org answers for it: a
// colleague in Cc who writes #approve leaves the request pending.
func TestIngest_ConsentAnswerFromAParticipantIsNotApplied(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	first := e.ingest(msg("minsu@acme.example", "Export fails", "cp-1@acme.example", "", "The export fails.", "Cc: jane@acme.example"))
	notice := lastOutOfKind(t, e, first.CaseID, "agent_new_case")
	e.ingest(msg("Alice <alice@example.com>", "Re: Export fails", "cp-2@example.com", notice, "#consent"))
	req := lastOutOfKind(t, e, first.CaseID, "consent_request")
	e.ingest(msg("jane@acme.example", "Re: Export fails", "cp-3@acme.example", req, "#approve"))
	if n := count(t, e.s.DB(), `SELECT count(*) FROM case_events WHERE case_id = $1 AND kind = 'consent' AND to_value = 'approved'`, first.CaseID); n != 0 {
		t.Errorf("a participant's #approve was recorded")
	}
	// The submitter can still answer.
	e.ingest(msg("minsu@acme.example", "Re: Export fails", "cp-4@acme.example", req, "#approve"))
	if n := count(t, e.s.DB(), `SELECT count(*) FROM case_events WHERE case_id = $1 AND kind = 'consent' AND to_value = 'approved'`, first.CaseID); n != 1 {
		t.Errorf("%d approvals after the submitter's #approve, want 1", n)
	}
}
