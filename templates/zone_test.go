package templates

import (
	"html"
	"strings"
	"testing"
	"time"
)

func TestRenderIn_ShowsEveryTimeInTheRecipientsZoneAndNamesIt(t *testing.T) {
	s := newSet(t, Options{})
	due := time.Date(2026, 12, 5, 7, 30, 0, 0, time.UTC)
	link := time.Date(2026, 12, 20, 0, 0, 0, 0, time.UTC)
	data := AgentNewCaseData{Base: agentBase(), Requester: sampleRequester, FirstResponseDue: due,
		Comment: Comment{Body: "x", Attachments: []AttachmentInfo{{Name: "big.zip", Size: 50 << 20, URL: "https://help.example.com/a/1", URLExpires: link}}}}
	seoul, _ := time.LoadLocation("Asia/Seoul")
	istanbul, _ := time.LoadLocation("Europe/Istanbul")
	tests := []struct {
		locale string
		loc    *time.Location
		want   []string
		never  string
	}{
		{"en", seoul, []string{"Sat, 5 Dec 2026 16:30 KST", "20 Dec 2026 09:00 KST"}, "UTC"},
		{"ko", seoul, []string{"2026년 12월 5일 (토) 16:30 KST", "2026년 12월 20일 (일) 09:00 KST"}, "UTC"},
		{"en", istanbul, []string{"Sat, 5 Dec 2026 10:30 +03 (Europe/Istanbul)"}, "UTC"},
		{"en", nil, []string{"Sat, 5 Dec 2026 07:30 UTC"}, "KST"},
	}
	for _, tt := range tests {
		r, err := s.RenderIn(tt.locale, tt.loc, data)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range tt.want {
			if !strings.Contains(r.Text, w) || !strings.Contains(html.UnescapeString(r.HTML), w) {
				t.Errorf("%s in %v: text or HTML lacks %q:\n%s", tt.locale, tt.loc, w, r.Text)
			}
		}
		if strings.Contains(r.Text, " "+tt.never) {
			t.Errorf("%s in %v shows a time in %s:\n%s", tt.locale, tt.loc, tt.never, r.Text)
		}
	}
	if data.FirstResponseDue.Location() != time.UTC || data.Comment.Attachments[0].URLExpires.Location() != time.UTC {
		t.Error("RenderIn changed the caller's data")
	}
}

func TestInZone_MovesTimesInArraysToo(t *testing.T) {
	seoul, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		t.Skip("no tzdata")
	}
	at := time.Date(2026, 12, 5, 7, 30, 0, 0, time.UTC)
	in := withArray{At: [2]time.Time{at, at}}
	out := inZone(in, seoul).(withArray)
	for i, tm := range out.At {
		if tm.Location() != seoul || !tm.Equal(at) {
			t.Errorf("At[%d] = %v, want %v in Asia/Seoul", i, tm, at)
		}
	}
	if in.At[0].Location() != time.UTC {
		t.Error("the caller's value changed")
	}
}

type withArray struct {
	Base
	At [2]time.Time
}

func (withArray) Kind() Kind { return CaseReceived }
