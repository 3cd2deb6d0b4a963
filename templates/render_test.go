package templates

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// Exact strings another package recognises; literals on purpose, not the constants.
var wantMarker = map[string]string{
	"en": "##- Please type your reply above this line -##",
	"ko": "##- 이 줄 위에 답장을 입력해 주세요 -##",
}

// allSamples calls f for every sample of every kind in every locale.
func allSamples(t *testing.T, f func(t *testing.T, loc string, spec kindSpec, v variant)) {
	t.Helper()
	for _, loc := range Locales() {
		for _, spec := range specs {
			for _, v := range spec.samples() {
				t.Run(loc+"/"+goldenName(spec.kind, v), func(t *testing.T) { f(t, loc, spec, v) })
			}
		}
	}
}

func mustRender(t *testing.T, s *Set, loc string, d Data) Rendered {
	t.Helper()
	r, err := s.Render(loc, d)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRender_EveryNotificationStartsWithTheReplyMarker(t *testing.T) {
	s := newSet(t, Options{})
	allSamples(t, func(t *testing.T, loc string, spec kindSpec, v variant) {
		r := mustRender(t, s, loc, v.data)
		if first, _, _ := strings.Cut(r.Text, "\n"); first != wantMarker[loc] {
			t.Errorf("text starts with %q, want the marker %q", first, wantMarker[loc])
		}
		visible := strings.Index(r.HTML, ">"+wantMarker[loc]+"</div>")
		hidden := strings.Index(r.HTML, `<div id="helpdesk-reply-marker" style="display:none`)
		body := strings.Index(r.HTML, "<p")
		switch {
		case visible < 0 || hidden < 0:
			t.Errorf("HTML lacks the marker (%d) or its hidden element (%d)", visible, hidden)
		case !(visible < hidden && hidden < body):
			t.Errorf("HTML: marker at %d, hidden element at %d, first paragraph at %d; want them in that order", visible, hidden, body)
		}
	})
}

func TestRender_TextHasNoStrayBlankLinesOrTrailingSpace(t *testing.T) {
	s := newSet(t, Options{})
	allSamples(t, func(t *testing.T, loc string, spec kindSpec, v variant) {
		r := mustRender(t, s, loc, v.data)
		if strings.Contains(r.Text, "\n\n\n") || !strings.HasSuffix(r.Text, "\n") || strings.HasSuffix(r.Text, "\n\n") {
			t.Errorf("text has runs of blank lines or a bad ending:\n%s", r.Text)
		}
		for _, l := range strings.Split(r.Text, "\n") {
			if strings.TrimRight(l, " \t") != l {
				t.Errorf("trailing space in %q", l)
			}
		}
	})
}

func TestRender_SubjectCarriesTheCaseTagOnce(t *testing.T) {
	s := newSet(t, Options{})
	allSamples(t, func(t *testing.T, loc string, spec kindSpec, v variant) {
		r := mustRender(t, s, loc, v.data)
		id := v.data.base().CaseID
		if id == 0 {
			if strings.Contains(r.Subject, "[Case #") {
				t.Errorf("subject %q has a case tag but the mail is about no case", r.Subject)
			}
			return
		}
		if tag := caseTag(id); !strings.HasSuffix(r.Subject, " "+tag) || strings.Count(r.Subject, "[Case #") != 1 {
			t.Errorf("subject %q: want it to end with %q, the only tag", r.Subject, tag)
		}
	})
}

func TestRender_SubjectIsOneLineAndNotTaggedTwice(t *testing.T) {
	s := newSet(t, Options{})
	tests := []struct {
		name, caseSubject, want string
	}{
		{"newlines and tabs collapse", "Broken\r\n\tlogin", "Re: Broken login [Case #7]"},
		{"CR LF cannot start a header line", "x\r\nBcc: evil@example.com", "Re: x Bcc: evil@example.com [Case #7]"},
		{"a tag already present is not repeated", "Re: Help [Case #7]", "Re: Re: Help [Case #7]"},
		{"another case's tag does not count", "About [Case #8]", "Re: About [Case #8] [Case #7]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := CommentAddedData{Base: customerBase(), Comment: Comment{Author: "A", Body: "b"}}
			d.CaseID, d.CaseSubject = 7, tt.caseSubject
			if got := mustRender(t, s, "en", d).Subject; got != tt.want {
				t.Errorf("subject %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRender_ChoosesTheRecipientsLocaleElseTheDefault(t *testing.T) {
	en := newSet(t, Options{})
	ko := newSet(t, Options{DefaultLocale: "ko"})
	tests := []struct {
		name      string
		set       *Set
		recipient string
		want      string
	}{
		{"Korean recipient gets Korean", en, "ko", "ko"},
		{"region subtag is ignored", en, "ko-KR", "ko"},
		{"case and underscore are ignored", en, "KO_kr", "ko"},
		{"English recipient with Korean default gets English", ko, "en-US", "en"},
		{"unknown locale gets the default (en)", en, "fr", "en"},
		{"unknown locale gets the default (ko)", ko, "fr-FR", "ko"},
		{"empty locale gets the default", ko, "", "ko"},
	}
	greeting := map[string]string{"en": "Hello Jane Doe,", "ko": "안녕하세요, Jane Doe 님."}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustRender(t, tt.set, tt.recipient, Sample(CaseReceived))
			if r.Locale != tt.want {
				t.Fatalf("Locale %q, want %q", r.Locale, tt.want)
			}
			if !strings.Contains(r.Text, greeting[tt.want]) || !strings.Contains(r.HTML, greeting[tt.want]) {
				t.Errorf("text or HTML not in %s:\n%s", tt.want, r.Text)
			}
			if !strings.Contains(r.HTML, `<html lang="`+tt.want+`">`) {
				t.Errorf("HTML lang is not %s", tt.want)
			}
		})
	}
}

func TestRender_CommentIsEscapedInHTMLWithLineBreaks(t *testing.T) {
	s := newSet(t, Options{})
	d := CommentAddedData{Base: customerBase(), Comment: Comment{
		Author: `<b>Eve</b>`,
		Body:   "<script>alert(1)</script>\r\nsecond & line",
	}}
	for _, loc := range Locales() {
		r := mustRender(t, s, loc, d)
		for _, bad := range []string{"<script>", "<b>Eve"} {
			if strings.Contains(r.HTML, bad) {
				t.Errorf("%s: HTML contains unescaped %q", loc, bad)
			}
		}
		if want := "&lt;script&gt;alert(1)&lt;/script&gt;<br>\nsecond &amp; line"; !strings.Contains(r.HTML, want) {
			t.Errorf("%s: HTML lacks %q:\n%s", loc, want, r.HTML)
		}
		if !strings.Contains(r.Text, "<script>alert(1)</script>\nsecond & line") {
			t.Errorf("%s: text does not carry the comment as written:\n%s", loc, r.Text)
		}
	}
}

func TestRender_AttachmentTooLargeIsListedByNameAndSize(t *testing.T) {
	s := newSet(t, Options{})
	notAttached := map[string]string{"en": "not attached", "ko": "첨부하지 못했습니다"}
	for _, loc := range Locales() {
		r := mustRender(t, s, loc, Sample(CommentAdded))
		for part, body := range map[string]string{"text": r.Text, "html": r.HTML} {
			var big, small string
			for _, l := range strings.Split(body, "\n") {
				if strings.Contains(l, "session-log.zip") {
					big = l
				}
				if strings.Contains(l, "steps.pdf") {
					small = l
				}
			}
			if !strings.Contains(big, "(25 MB)") || !strings.Contains(big, notAttached[loc]) {
				t.Errorf("%s %s: large attachment line %q lacks size or note", loc, part, big)
			}
			if !strings.Contains(small, "(180 KB)") || strings.Contains(small, notAttached[loc]) {
				t.Errorf("%s %s: attached file line %q", loc, part, small)
			}
		}
	}
}

func TestRender_PreviousMessageIsAShortQuote(t *testing.T) {
	s := newSet(t, Options{})
	d := Sample(CommentAdded).(CommentAddedData)
	d.PreviousQuote = strings.Repeat("word ", 1000)
	r := mustRender(t, s, "en", d)
	var quoted int
	for _, l := range strings.Split(r.Text, "\n") {
		if strings.HasPrefix(l, ">") {
			quoted += utf8.RuneCountInString(l)
		}
	}
	if quoted == 0 || quoted > 450 || !strings.Contains(r.Text, "…") {
		t.Errorf("quote of %d runes (want 1..450, ending with …):\n%s", quoted, r.Text)
	}
}

func TestRender_NamesWhatTheRecipientNeeds(t *testing.T) {
	s := newSet(t, Options{})
	tests := []struct {
		kind Kind
		want map[string][]string // per locale; checked in text and HTML
	}{
		{CaseReceived, map[string][]string{
			"en": {"#1042", "[Case #1042]", "reply to this email", "S3", "Tue, 4 Mar 2025 22:30 UTC"},
			"ko": {"#1042", "[Case #1042]", "회신해 주세요", "S3", "2025년 3월 4일 (화) 22:30 UTC"},
		}},
		{FollowUpOpened, map[string][]string{"en": {"#1042", "#1187"}, "ko": {"#1042", "#1187"}}},
		{Merged, map[string][]string{"en": {"#1043", "#1042"}, "ko": {"#1043", "#1042"}}},
		{TooLarge, map[string][]string{"en": {"40 MB", "25 MB"}, "ko": {"40 MB", "25 MB"}}},
		{EscalationRefused, map[string][]string{"en": {"basic"}, "ko": {"basic"}}},
		{PendingReminder, map[string][]string{"en": {"Fri, 7 Mar 2025"}, "ko": {"2025년 3월 7일 (금)"}}},
		{Survey, map[string][]string{"en": {"#rating good", "#rating bad"}, "ko": {"#rating good", "#rating bad"}}},
		{CommandResult, map[string][]string{
			"en": {"#severity S2", "severity: S3 → S2", "#assign bob@example.com", "no agent has this address"},
			"ko": {"#severity S2", "severity: S3 → S2", "#assign bob@example.com", "no agent has this address"},
		}},
		{HeldForReview, map[string][]string{
			"en": {"mallory@other.example", "sender is not allowed on this case", "helpdeskd why"},
			"ko": {"mallory@other.example", "sender is not allowed on this case", "helpdeskd why"},
		}},
		{BounceRecorded, map[string][]string{"en": {"jane@customer.example", "5.1.1"}, "ko": {"jane@customer.example", "5.1.1"}}},
		{SenderThrottled, map[string][]string{
			"en": {"vacation@customer.example", "#1042", "#1049", "15:10 UTC", "helpdeskd why"},
			"ko": {"vacation@customer.example", "#1042", "#1049", "15:10 UTC", "helpdeskd why"},
		}},
		{SLABreach, map[string][]string{"en": {"first response", "15:30 UTC"}, "ko": {"첫 답변", "15:30 UTC"}}},
	}
	for _, tt := range tests {
		for loc, wants := range tt.want {
			t.Run(loc+"/"+string(tt.kind), func(t *testing.T) {
				r := mustRender(t, s, loc, Sample(tt.kind))
				for _, w := range wants {
					if !strings.Contains(r.Text, w) {
						t.Errorf("text lacks %q:\n%s", w, r.Text)
					}
					if !strings.Contains(r.HTML, w) {
						t.Errorf("HTML lacks %q", w)
					}
				}
			})
		}
	}
}

// The kinds an agent answers with #commands explain them; no customer mail
// mentions the agents' commands.
func TestRender_CommandHelpOnlyInAgentNotices(t *testing.T) {
	s := newSet(t, Options{})
	withHelp := map[Kind]bool{AgentNewCase: true, AgentCustomerReplied: true, AgentReopened: true,
		AgentEscalation: true, SLAWarning: true, SLABreach: true, CommandResult: true}
	commands := []string{"#status open|pending|on_hold|solved", "#solve", "#pending", "#hold", "#severity S1..S4", "#assign EMAIL|me", "#internal", "#merge N"}
	allSamples(t, func(t *testing.T, loc string, spec kindSpec, v variant) {
		r := mustRender(t, s, loc, v.data)
		for _, c := range commands {
			if withHelp[spec.kind] && (!strings.Contains(r.Text, c) || !strings.Contains(r.HTML, c)) {
				t.Errorf("agent notice does not explain %q", c)
			}
		}
		if !spec.agents && (strings.Contains(r.Text, "#internal") || strings.Contains(r.Text, "#assign")) {
			t.Errorf("customer mail mentions agent commands:\n%s", r.Text)
		}
	})
}

type foreignData struct{ Base }

func (foreignData) Kind() Kind { return CommentAdded }

func TestRender_RejectsDataItCannotRender(t *testing.T) {
	s := newSet(t, Options{})
	noCase := Sample(CommentAdded).(CommentAddedData)
	noCase.CaseID = 0
	negative := Sample(TooLarge).(TooLargeData)
	negative.CaseID = -1
	noName := Sample(Survey).(SurveyData)
	noName.HelpdeskName = ""
	noAddress := Sample(Survey).(SurveyData)
	noAddress.SupportAddress = ""
	var nilPtr *SurveyData
	tests := []struct {
		name string
		d    Data
		want string
	}{
		{"nil", nil, "nil data"},
		{"nil pointer", nilPtr, "nil *templates.SurveyData"},
		{"a type of another package that embeds Base", foreignData{customerBase()}, "comment_added wants templates.CommentAddedData"},
		{"no case where one is needed", noCase, "invalid case id 0"},
		{"negative case id", negative, "invalid case id -1"},
		{"no helpdesk name", noName, "HelpdeskName is empty"},
		{"no support address", noAddress, "SupportAddress is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Render("en", tt.d)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestRender_AcceptsAPointerToData(t *testing.T) {
	s := newSet(t, Options{})
	d := Sample(Survey).(SurveyData)
	byPtr := mustRender(t, s, "en", &d)
	byVal := mustRender(t, s, "en", d)
	if byPtr != byVal {
		t.Errorf("pointer and value render differently")
	}
}

func TestKinds_EachHasASampleOfItsOwnType(t *testing.T) {
	seen := map[Kind]bool{}
	for _, k := range Kinds() {
		if seen[k] {
			t.Errorf("%s listed twice", k)
		}
		seen[k] = true
		d := Sample(k)
		if d == nil || d.Kind() != k {
			t.Errorf("Sample(%s) = %#v", k, d)
		}
	}
	if len(seen) != 28 {
		t.Errorf("%d kinds, want 28", len(seen))
	}
	if Sample("nope") != nil || Kind("nope").ToAgents() {
		t.Errorf("unknown kind has a sample or an audience")
	}
	if CaseReceived.ToAgents() || !AgentNewCase.ToAgents() || !BounceRecorded.ToAgents() || Refusal.ToAgents() {
		t.Errorf("ToAgents wrong")
	}
}

// A line starting with "#" would be a command if a reply's quote were not cut;
// the command help and the survey indent theirs. The reply marker is the exception.
func TestRender_NoLineStartsWithAHash(t *testing.T) {
	s := newSet(t, Options{})
	allSamples(t, func(t *testing.T, loc string, spec kindSpec, v variant) {
		r := mustRender(t, s, loc, v.data)
		for _, l := range strings.Split(r.Text+"\n"+r.HTML, "\n") {
			if strings.HasPrefix(l, wantMarker[loc]) {
				continue
			}
			if strings.HasPrefix(l, "#") || strings.Contains(l, "<pre") && strings.Contains(l, ">#") {
				t.Errorf("line starts with #: %q", l)
			}
		}
	})
}
