package main

import (
	"strings"
	"testing"
)

func TestParse_JSONShowsWhereTheReplyWasCutAndWhy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file, rule string
		line       float64
		forwarded  string
	}{
		{"en_plain_reply.eml", "quote-header:en", 8, ""},
		{"en_forward_note.eml", "forward", 3, "My order 1043 never arrived."},
	}
	for _, tt := range tests {
		c := &cli{t: t, env: map[string]string{}}
		var out map[string]any
		c.json(&out, "parse", "--json", "../../threading/reply/testdata/"+tt.file)
		if out["reply_rule"] != tt.rule || out["reply_cut_line"] != tt.line {
			t.Errorf("%s: reply_rule %v, reply_cut_line %v; want %s, %v", tt.file, out["reply_rule"], out["reply_cut_line"], tt.rule, tt.line)
		}
		fwd, _ := out["reply_forwarded"].(string)
		if tt.forwarded == "" && fwd != "" || !strings.Contains(fwd, tt.forwarded) {
			t.Errorf("%s: reply_forwarded = %q, want it to hold %q", tt.file, fwd, tt.forwarded)
		}
	}
}
