package helpdesk

import (
	"strings"
	"testing"

	"github.com/helpdesk/helpdesk/threading"
)

func TestJudgeBounce_OnlyProofThatItConcernsOurMailToThatAddressVerifies(t *testing.T) {
	t.Parallel()
	caseID := int64(7)
	sent := func(id int64, status string, attempts int, rcpts ...string) *sentMail {
		return &sentMail{ID: id, MessageID: "hd.m" + string(rune('0'+id)) + "@example.com", CaseID: &caseID, Recipients: rcpts, Status: status, Attempts: attempts}
	}
	jane := &threading.Bounce{Recipient: "jane@acme.example", Permanent: true}
	nobody := &threading.Bounce{Permanent: true}
	tests := []struct {
		name     string
		bounce   *threading.Bounce
		ev       bounceEvidence
		verified bool
		address  string
		why      string
	}{
		{"VERP of a mail to that recipient", jane,
			bounceEvidence{Envelope: []envelopeSeen{{Address: "support+bounce-1-x@example.com", Where: "to", Mail: sent(1, "sent", 1, "jane@acme.example")}}},
			true, "jane@acme.example", "envelope sender of our mail"},
		{"VERP, the report names no recipient, one recipient", nobody,
			bounceEvidence{Envelope: []envelopeSeen{{Where: "to", Mail: sent(1, "sent", 1, "jane@acme.example")}}},
			true, "jane@acme.example", "went only to jane@acme.example"},
		{"VERP of a mail to someone else", jane,
			bounceEvidence{Envelope: []envelopeSeen{{Where: "to", Mail: sent(1, "sent", 1, "minsu@acme.example")}}},
			false, "", "not minsu@acme.example"},
		{"forged VERP", jane,
			bounceEvidence{Envelope: []envelopeSeen{{Address: "support+bounce-1-zz@example.com", Where: "to", Problem: "bounce token: bad signature"}}},
			false, "", "bad signature"},
		{"VERP of a mail never sent", jane,
			bounceEvidence{Envelope: []envelopeSeen{{Where: "to", Mail: sent(1, "suppressed", 0, "jane@acme.example")}}},
			false, "", "never sent"},
		{"VERP of a mail whose send result was lost", jane,
			bounceEvidence{Envelope: []envelopeSeen{{Where: "to", Mail: sent(1, "queued", 1, "jane@acme.example")}}},
			true, "jane@acme.example", ""},
		{"names our Message-ID sent to that recipient", jane,
			bounceEvidence{IDs: []string{"hd.m2@example.com"}, ByID: []sentMail{*sent(2, "sent", 1, "jane@acme.example")}},
			true, "jane@acme.example", "names our mail"},
		{"names our Message-ID sent to someone else", jane,
			bounceEvidence{IDs: []string{"hd.m2@example.com"}, ByID: []sentMail{*sent(2, "sent", 1, "minsu@acme.example")}},
			false, "", "no mail of ours it names went to jane@acme.example"},
		{"names our Message-ID but no recipient", nobody,
			bounceEvidence{IDs: []string{"hd.m2@example.com"}, ByID: []sentMail{*sent(2, "sent", 1, "jane@acme.example")}},
			false, "", "names no failed recipient"},
		{"no evidence at all", jane, bounceEvidence{},
			false, "", "did not come to our envelope sender and names no mail we sent to jane@acme.example"},
		{"no report details", nil, bounceEvidence{}, false, "", "names no failed recipient"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := judgeBounce(tt.bounce, tt.ev)
			if v.Verified != tt.verified || v.Address != tt.address || !strings.Contains(v.Why, tt.why) {
				t.Fatalf("judgeBounce = %+v, want verified %v address %q why containing %q", v, tt.verified, tt.address, tt.why)
			}
			if v.Verified && v.Mail == nil {
				t.Fatal("verified without the mail that bounced")
			}
		})
	}
}

func TestSenderThrottle_OverTheLimitHoldsBackAndTellsAgentsOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                    string
		cases, throttled, limit int
		throttle, digest        bool
	}{
		{"under the limit", 4, 0, 5, false, false},
		{"at the limit: first held back mail tells agents", 5, 0, 5, true, true},
		{"later held back mail: no more digests", 5, 3, 5, true, false},
		{"no limit", 500, 0, -1, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			th, dg := senderThrottle(tt.cases, tt.throttled, tt.limit)
			if th != tt.throttle || dg != tt.digest {
				t.Fatalf("senderThrottle(%d, %d, %d) = %v, %v", tt.cases, tt.throttled, tt.limit, th, dg)
			}
		})
	}
}

func TestQuotesOurMail_SubjectMessageIDOrCaseTag(t *testing.T) {
	t.Parallel()
	seven := int64(7)
	ours := []ourMail{{MessageID: "hd.v1-7-3-abc.123@example.com", Subject: "We received your request: Printer on fire [Case #7]", CaseID: &seven}}
	tests := []struct {
		name, subject, text string
		quotes              bool
		how                 string
	}{
		{"our subject in the body", "I am away", "I am away until Monday.\n\n> We received your  request: printer on fire [Case #7]\n", true, "case tag"},
		{"our subject, tag dropped", "Re: We received your request: Printer on fire", "away", true, "subject"},
		{"our Message-ID", "Away", "Regarding <hd.v1-7-3-abc.123@example.com>: I am away.", true, "Message-ID"},
		{"our case tag in the subject", "Away [Case #7]", "", true, "case tag"},
		{"another case's tag", "Away [Case #71]", "", false, ""},
		{"an unrelated new request", "Printer on fire again", "The printer in room 3 is on fire.", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			how, ok := quotesOurMail(tt.subject, tt.text, ours)
			if ok != tt.quotes || !strings.Contains(how, tt.how) {
				t.Fatalf("quotesOurMail = %q, %v; want %v (%q)", how, ok, tt.quotes, tt.how)
			}
		})
	}
	if _, ok := quotesOurMail("Hi", "Hi", []ourMail{{MessageID: "x@y", Subject: "Hi"}}); ok {
		t.Error("a two-letter subject counted as a quote")
	}
}

func TestAnswerTooLarge_OnlyHumansWhoMayOpenCasesOncePerInterval(t *testing.T) {
	t.Parallel()
	human := threading.ClassHuman
	tests := []struct {
		name string
		f    tooLargeFacts
		want bool
	}{
		{"known user", tooLargeFacts{Class: human, From: "jane@acme.example", KnownUser: true, Policy: "registered"}, true},
		{"stranger under the open policy", tooLargeFacts{Class: human, From: "x@y.example", Policy: "open"}, true},
		{"stranger under the registered policy", tooLargeFacts{Class: human, From: "x@y.example", Policy: "registered"}, false},
		{"unknown address of a known org domain", tooLargeFacts{Class: human, From: "new@acme.example", Policy: "domain", KnownDomain: true}, true},
		{"unknown domain under the domain policy", tooLargeFacts{Class: human, From: "x@y.example", Policy: "domain"}, false},
		{"automated mail", tooLargeFacts{Class: threading.ClassAutoReply, From: "jane@acme.example", KnownUser: true, Policy: "open"}, false},
		{"told recently", tooLargeFacts{Class: human, From: "jane@acme.example", KnownUser: true, Policy: "open", RecentlyTold: true}, false},
		{"no From", tooLargeFacts{Class: human, Policy: "open"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, why := answerTooLarge(tt.f); got != tt.want {
				t.Fatalf("answerTooLarge(%+v) = %v (%s), want %v", tt.f, got, why, tt.want)
			}
		})
	}
}
