package helpdesk

import (
	"slices"
	"strings"
	"testing"

	"github.com/helpdesk/helpdesk/mail"
)

func TestAttachFit_FilesInMailOrderWhileTheTotalFits(t *testing.T) {
	t.Parallel()
	file := func(size int64, truncated bool) *mail.Attachment {
		return &mail.Attachment{Size: size, Truncated: truncated}
	}
	for _, tc := range []struct {
		name  string
		sizes []int64
		trunc int // index of a truncated file, -1: none
		limit int64
		want  []bool
	}{
		{"all fit", []int64{1229, 29571}, -1, 10 << 20, []bool{true, true}},
		{"the second would pass the limit", []int64{1229, 29571}, -1, 10_000, []bool{true, false}},
		{"a large first file leaves room for the small later ones", []int64{40 << 20, 1229, 29571}, -1, 10 << 20, []bool{false, true, true}},
		{"exactly the limit fits", []int64{600, 400}, -1, 1000, []bool{true, true}},
		{"a truncated file never goes", []int64{10, 20}, 0, 1000, []bool{false, true}},
		{"limit off attaches none", []int64{1, 2}, -1, -1, []bool{false, false}},
	} {
		var atts []*mail.Attachment
		for i, s := range tc.sizes {
			atts = append(atts, file(s, i == tc.trunc))
		}
		got := attachFit(atts, func(*mail.Attachment) bool { return true }, tc.limit)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	unstored := attachFit([]*mail.Attachment{file(1, false)}, func(*mail.Attachment) bool { return false }, 100)
	if unstored[0] {
		t.Error("a file without stored content is attached")
	}
}

func TestSafeContentID_KeepsWellFormedIDsAndReplacesOthers(t *testing.T) {
	t.Parallel()
	for _, id := range []string{"part1.shot@customer.example", "image001.png@01DA3C4F.5A1B2C30"} {
		if got := safeContentID(id); got != id {
			t.Errorf("%q became %q", id, got)
		}
	}
	seen := map[string]bool{}
	for _, id := range []string{"ii_lq2x9f0a0", "a b@x", "@x", "x@", "a..b@x", `<x>@y`, strings.Repeat("a", 300) + "@x"} {
		got := safeContentID(id)
		if got == id || !strings.HasSuffix(got, "@inline.invalid") || seen[got] {
			t.Errorf("%q became %q", id, got)
		}
		if again := safeContentID(id); again != got {
			t.Errorf("%q: %q then %q; the notice's HTML and its part must agree", id, got, again)
		}
		seen[got] = true
	}
}
