package mail

import (
	"reflect"
	"strings"
	"testing"
)

func TestParse_TraceKeepsTheTraceFieldsInOrderWithTheirPlace(t *testing.T) {
	raw := strings.Join([]string{
		"Return-Path: <alice@example.test>",
		"Received: from mx.example.test by imap.example.test with LMTP",
		"\tid 8Jk2; Fri, 04 Dec 2026 16:00:02 +0000",
		"Authentication-Results: mx.example.test;",
		"  dkim=pass header.d=example.test",
		"Received: from mail.example.test by mx.example.test (Postfix); Fri, 04 Dec 2026 16:00:01 +0000",
		"Received-SPF: pass (mx.example.test: 192.0.2.10 is allowed) client-ip=192.0.2.10",
		"From: Alice <alice@example.test>",
		"authentication-results: mx.example.test; dkim=pass header.d=example.test",
		"ARC-Authentication-Results: i=1; mx.example.test; spf=pass",
		"Subject: forwarded",
		"Content-Type: multipart/mixed; boundary=b",
		"",
		"--b",
		"Content-Type: message/rfc822",
		"",
		"Received: from inner.example.test by nowhere.example.test",
		"Authentication-Results: mx.example.test; dkim=pass",
		"From: x@inner.example.test",
		"",
		"inner",
		"--b--",
		"",
	}, "\r\n")
	m, err := Parse(strings.NewReader(raw), ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []TraceField{
		{"Received", "from mx.example.test by imap.example.test with LMTP id 8Jk2; Fri, 04 Dec 2026 16:00:02 +0000", 1},
		{"Authentication-Results", "mx.example.test; dkim=pass header.d=example.test", 2},
		{"Received", "from mail.example.test by mx.example.test (Postfix); Fri, 04 Dec 2026 16:00:01 +0000", 3},
		{"Received-Spf", "pass (mx.example.test: 192.0.2.10 is allowed) client-ip=192.0.2.10", 4},
		{"Authentication-Results", "mx.example.test; dkim=pass header.d=example.test", 6},
		{"Arc-Authentication-Results", "i=1; mx.example.test; spf=pass", 7},
	}
	if !reflect.DeepEqual(m.Trace, want) {
		t.Fatalf("Trace =\n%+v\nwant\n%+v", m.Trace, want)
	}
}
