package threading

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNormalizeSubject_StripsPrefixesInManyLanguages(t *testing.T) {
	for in, want := range map[string]string{
		"Re: Help":                         "Help",
		"RE: RE: Fwd: Help":                "Help",
		"AW: WG: Drucker":                  "Drucker",
		"SV: VS: Skrivare":                 "Skrivare",
		"Antw: printer":                    "printer",
		"Re[2]: Help":                      "Help",
		"답장: 회신: 프린터 문의":                   "프린터 문의",
		"전달: 프린터":                          "프린터",
		"回复：打印机":                           "打印机",
		"转发: 打印机":                          "打印机",
		"返信: プリンター":                        "プリンター",
		"Re: printer [Case #1234]":         "printer",
		"  Re:   many   spaces ":           "many spaces",
		"Return policy":                    "Return policy",
		"Fwd: Re: [Case #7] 회신: VPN 접속 불가": "VPN 접속 불가",
		"Ireland office":                   "Ireland office",
		"Re:":                              "",
	} {
		if got := NormalizeSubject(in); got != want {
			t.Errorf("NormalizeSubject(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIsForward(t *testing.T) {
	for s, want := range map[string]bool{
		"Fwd: invoice": true, "FW: invoice": true, "WG: Rechnung": true, "TR: facture": true, "전달: 청구서": true,
		"转发: 发票": true, "Re: invoice": false, "Fwdx invoice": false, "invoice": false,
	} {
		if got := IsForward(s); got != want {
			t.Errorf("IsForward(%q) = %v", s, got)
		}
	}
}

func TestCaseTag(t *testing.T) {
	for s, want := range map[string]int64{
		"Re: printer [Case #1234]": 1234, "[case # 7] x": 7, "[Case #0] x": 0, "Case #5": 0,
		"[Case #99999999999999999999] x": 0, "회신: [Case #42] 프린터": 42,
	} {
		got, _ := CaseTag(s)
		if got != want {
			t.Errorf("CaseTag(%q) = %d, want %d", s, got, want)
		}
	}
}

func FuzzNormalizeSubject(f *testing.F) {
	for _, s := range []string{"Re: Re: x", "회신: [Case #1] y", "Fwd:", "RE[3]：z", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := NormalizeSubject(s)
		if len(got) > len(s)+1 {
			t.Fatalf("normalised subject grew: %q -> %q", s, got)
		}
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Fatalf("invalid UTF-8 from valid input %q", s)
		}
		if NormalizeSubject(got) != got {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, got, NormalizeSubject(got))
		}
		if strings.HasPrefix(strings.ToLower(got), "re:") {
			t.Fatalf("prefix left in %q", got)
		}
		CaseTag(s)
	})
}
