package threading

import "testing"

func TestAuthenticated(t *testing.T) {
	const id = "mx.example.com"
	for _, tc := range []struct {
		name    string
		headers []string
		from    string
		want    bool
	}{
		{"dkim pass aligned", []string{"mx.example.com; dkim=pass (2048-bit key) header.d=example.com header.s=s1; spf=fail smtp.mailfrom=x@other.example"}, "example.com", true},
		{"spf pass aligned", []string{"mx.example.com; spf=pass (sender SPF authorized) smtp.mailfrom=alice@example.com; dkim=none"}, "example.com", true},
		{"dkim pass for a parent domain", []string{"mx.example.com; dkim=pass header.d=example.com"}, "mail.example.com", true},
		{"dkim pass for another domain", []string{"mx.example.com; dkim=pass header.d=evil.example"}, "example.com", false},
		{"lookalike domain is not aligned", []string{"mx.example.com; dkim=pass header.d=badexample.com"}, "example.com", false},
		{"forged header from another authserv-id", []string{"mx.evil.example; dkim=pass header.d=example.com"}, "example.com", false},
		{"authserv-id hidden in a comment", []string{"(mx.example.com) mx.evil.example; dkim=pass header.d=example.com"}, "example.com", false},
		{"fail results", []string{"mx.example.com; dkim=fail header.d=example.com; spf=softfail smtp.mailfrom=a@example.com"}, "example.com", false},
		{"the trusted header among others", []string{"mx.evil.example; dkim=pass header.d=example.com", "mx.example.com 1; dkim=pass header.i=@example.com"}, "example.com", true},
		{"no header", nil, "example.com", false},
		{"Gmail style", []string{"mx.example.com;\r\n       dkim=pass header.i=@example.com header.s=20230601 header.b=AbCd;\r\n       spf=pass (google.com: domain of alice@example.com designates 1.2.3.4 as permitted sender) smtp.mailfrom=alice@example.com;\r\n       dmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from=example.com"}, "example.com", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Authenticated(tc.headers, id, tc.from); got.Pass != tc.want {
				t.Fatalf("Authenticated = %+v, want pass=%v", got, tc.want)
			}
		})
	}
	if got := Authenticated([]string{"mx.example.com; dkim=pass header.d=example.com"}, "", "example.com"); got.Pass {
		t.Fatal("passed without a configured authserv-id")
	}
}

func TestThreadIndexRoot(t *testing.T) {
	// A real Outlook Thread-Index: 22-byte root, then 5-byte child blocks.
	root, ok := ThreadIndexRoot("AdbYuQ2F7PS0tWzmSgSjHr8HhW7fOg==")
	reply, ok2 := ThreadIndexRoot("AdbYuQ2F7PS0tWzmSgSjHr8HhW7fOgAABDfg")
	if !ok || !ok2 || root != reply || len(root) != 44 {
		t.Fatalf("roots %q (%v) and %q (%v) should be equal 22-byte roots", root, ok, reply, ok2)
	}
	other, _ := ThreadIndexRoot("AdbYuQ2F7PS0tWzmSgSjHr8HhW7fOx==")
	if other == root {
		t.Fatal("a different conversation has the same root")
	}
	for _, bad := range []string{"", "not base64!", "AAAA"} {
		if _, ok := ThreadIndexRoot(bad); ok {
			t.Errorf("ThreadIndexRoot(%q) accepted", bad)
		}
	}
}
