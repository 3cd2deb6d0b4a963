package helpdesk_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/helpdesk/helpdesk/helpdesk"
)

func TestListCases_SearchFindsWordsPartsAndKorean(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	u := mustUser(t, s.DB(), "jane@acme.example", "customer", "")
	base := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	newCase := func(subject, comment string, activity int) int64 {
		id, err := helpdesk.CreateCase(ctx, s.DB(), helpdesk.NewCase{Subject: subject, SubmitterID: u.ID, Now: base})
		if err != nil {
			t.Fatal(err)
		}
		if comment != "" {
			if _, err := helpdesk.AddComment(ctx, s.DB(), helpdesk.NewComment{CaseID: id, AuthorID: &u.ID, Public: true,
				Body: comment, Now: base.Add(time.Duration(activity) * time.Hour)}); err != nil {
				t.Fatal(err)
			}
		}
		return id
	}
	// Most recently active first: c1, c2, c3, c4, c5.
	c1 := newCase("Printer on fire", "결제가 안 됩니다", 5)
	c2 := newCase("결제 오류", "see logs", 4)
	c3 := newCase("VPN down", "the Printers are offline too", 3)
	c4 := newCase("비밀번호 변경 요청", "", 0)
	c5 := newCase("카드결제 실패", "urgent", 1)
	for _, tc := range []struct {
		name   string
		search string
		limit  int
		want   []int64
	}{
		{"an English word in subjects and comments", "printer", 0, []int64{c1, c3}},
		{"case does not matter", "PRINT", 0, []int64{c1, c3}},
		{"part of an English word", "rinte", 0, []int64{c1, c3}},
		{"a two-syllable Korean word at the start of an eojeol", "결제", 0, []int64{c1, c2}},
		{"a whole Korean eojeol in a comment", "결제가", 0, []int64{c1}},
		{"three syllables inside a Korean word", "밀번호", 0, []int64{c4}},
		{"three syllables inside a compound", "드결제", 0, []int64{c5}},
		{"the limit keeps the most recent", "결제", 1, []int64{c1}},
		{"the limit keeps the most recent of a part", "rinte", 1, []int64{c1}},
		{"words of a phrase", "are offline", 0, []int64{c3}},
		{"nothing", "zebra", 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs, err := helpdesk.ListCases(ctx, s.DB(), helpdesk.CaseFilter{Search: tc.search, Limit: tc.limit})
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, c := range cs {
				got = append(got, c.ID)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("search %q = %v, want %v", tc.search, got, tc.want)
			}
		})
	}
}
