package threading

import (
	"strings"
	"testing"
)

// header turns a top-level header, given as "Name: value" lines top first,
// into the trace the mail package hands over: the trace fields with their
// place among all fields.
func header(lines ...string) []TraceHeader {
	var out []TraceHeader
	for i, l := range lines {
		name, value, _ := strings.Cut(l, ":")
		switch strings.ToLower(name) {
		case "received", "received-spf", "authentication-results", "arc-authentication-results":
			out = append(out, TraceHeader{Name: name, Value: strings.TrimSpace(value), Pos: i})
		}
	}
	return out
}

// Layouts as Postfix and Dovecot write them for mail from alice@example.test
// to support@example.test, whose border MTA is mx.example.test.
const (
	returnPath  = "Return-Path: <alice@example.test>"
	deliveredTo = "Delivered-To: support@example.test"
	lmtp        = "Received: from mx.example.test by imap.example.test with LMTP id 8Jk2ZQA for <support@example.test>; Fri, 04 Dec 2026 16:00:02 +0000"
	border      = "Received: from mail.example.test (mail.example.test [192.0.2.10]) by mx.example.test (Postfix) with ESMTPS id 4Qx1; Fri, 04 Dec 2026 16:00:01 +0000"
	outside     = "Received: from [198.51.100.7] (unknown [198.51.100.7]) by mail.example.test (Postfix) with ESMTPSA id 77AB; Fri, 04 Dec 2026 16:00:00 +0000"
	from        = "From: Alice <alice@example.test>"
	subject     = "Subject: Re: printer"

	realPass = "Authentication-Results: mx.example.test; dkim=pass (2048-bit key) header.d=example.test header.s=s1; spf=pass smtp.mailfrom=alice@example.test"
	realFail = "Authentication-Results: mx.example.test; dkim=fail (bad signature) header.d=example.test; spf=fail smtp.mailfrom=alice@example.test"
	forged   = "Authentication-Results: mx.example.test; dkim=pass header.d=example.test"
)

func TestBorderAuthenticated_OnlyTheBordersOwnHeaderCounts(t *testing.T) {
	for _, tc := range []struct {
		name   string
		hops   int
		header []string
		pass   bool
		reason string // a part of the reason
	}{
		{"real pass on top, inserted above the border's Received (rspamd, milters at index 0)", 1,
			[]string{returnPath, deliveredTo, lmtp, realPass, border, outside, from, subject}, true, "dkim=pass header.d=example.test"},
		{"real pass just below the border's Received (OpenDKIM 2.11, OpenDMARC) with both our hops counted", 2,
			[]string{returnPath, deliveredTo, lmtp, border, realPass, outside, from, subject}, true, "dkim=pass"},
		{"the same layout with the default single hop is not believed", 1,
			[]string{returnPath, deliveredTo, lmtp, border, realPass, outside, from, subject}, false, "below the border (forged?)"},
		{"forged pass below a real fail", 1,
			[]string{returnPath, deliveredTo, lmtp, realFail, border, forged, from, subject}, false, "dkim=fail spf=fail; ignored Authentication-Results from mx.example.test below the border (forged?)"},
		{"forged pass with no real header at all", 1,
			[]string{returnPath, deliveredTo, lmtp, border, forged, from, subject}, false,
			"no Authentication-Results from mx.example.test at the border; ignored Authentication-Results from mx.example.test below the border (forged?)"},
		{"forged pass under the sender's own Received", 2,
			[]string{returnPath, deliveredTo, lmtp, border, outside, forged, from, subject}, false, "below the border (forged?)"},
		{"forged pass right under the border's real fail, the border not stripping it: the topmost decides", 2,
			[]string{returnPath, deliveredTo, lmtp, border, realFail, forged, from, subject}, false, "dkim=fail"},
		{"several real headers: a fail on top is never overridden below", 1,
			[]string{lmtp, realFail, realPass, border, from}, false, "show no dkim, spf or dmarc pass aligned with example.test"},
		{"several real headers: OpenDMARC's pass on top of OpenDKIM's", 2,
			[]string{lmtp, border, "Authentication-Results: mx.example.test; dmarc=pass (p=reject dis=none) header.from=example.test",
				"Authentication-Results: mx.example.test; dkim=pass header.d=example.test", from}, true, "dmarc=pass header.from=example.test"},
		{"a field between the border's Received and the header: not the border's", 2,
			[]string{lmtp, border, "Message-ID: <x@evil.test>", forged, from}, false, "below the border (forged?)"},
		{"authserv-id only inside a comment is no id", 1,
			[]string{lmtp, "Authentication-Results: (mx.example.test) mx.evil.test; dkim=pass header.d=example.test", border, from}, false,
			"no Authentication-Results from mx.example.test"},
		{"another authserv-id on top is not ours", 1,
			[]string{lmtp, "Authentication-Results: mx.evil.test; dkim=pass header.d=example.test", border, from}, false, "no Authentication-Results from mx.example.test"},
		{"authserv-id with a version and a comment", 1,
			[]string{lmtp, "Authentication-Results: mx.example.test 1 (rspamd); dkim=pass header.i=@example.test", border, from}, true, "dkim=pass header.i=@example.test"},
		{"forged header above no Received at all", 1,
			[]string{forged, from, subject}, false, "no Received field: the mail never came through our border"},
		{"forged header above no Received at all, even with no hops of ours", 0,
			[]string{forged, from, subject}, false, "no Received field"},
		{"fewer Received fields than our hops", 2,
			[]string{realPass, border, from}, false, "1 Received field(s), fewer than the 2 of our own"},
		{"no header at all", 1, nil, false, "no Received field"},
		{"no hops of ours: the border's header above every Received field (milter at index 0, delivered without LMTP)", 0,
			[]string{returnPath, realPass, border, outside, from}, true, "dkim=pass"},
		{"no hops of ours: nothing below the first Received field counts", 0,
			[]string{returnPath, border, forged, from}, false, "below the border (forged?)"},
		{"one hop counting the border's own Received: a forgery right below it stands for the border's when the border writes none", 1,
			[]string{returnPath, border, forged, from}, true, "dkim=pass"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := BorderAuthenticated(header(tc.header...), Border{AuthservID: "mx.example.test", Hops: tc.hops}, "example.test")
			if got.Pass != tc.pass || !strings.Contains(got.Reason, tc.reason) {
				t.Fatalf("BorderAuthenticated = %+v; want pass=%v with a reason containing %q", got, tc.pass, tc.reason)
			}
		})
	}
}

func TestBorderAuthenticated_GmailMailbox(t *testing.T) {
	// A support mailbox at Gmail: Google's internal Received on top, then
	// mx.google.com's, with Received-SPF and the A-R directly below it.
	gmail := header(
		"Delivered-To: support@example.test",
		"Received: by 2002:a05:7010:5d8e:b0:3f1:2c4e:1a2b with SMTP id p14csp1234567mdj; Fri, 4 Dec 2026 08:00:02 -0800 (PST)",
		"X-Received: by 2002:a17:907:1c0a:b0:a9a:1234:5678 with SMTP id nc10mr1234567ejc.5.1733328002000; Fri, 04 Dec 2026 08:00:02 -0800 (PST)",
		"ARC-Authentication-Results: i=1; mx.google.com; dkim=pass header.i=@example.test header.s=s1; spf=pass smtp.mailfrom=alice@example.test",
		"Return-Path: <alice@example.test>",
		"Received: from mail.example.test (mail.example.test. [192.0.2.10]) by mx.google.com with ESMTPS id a1si123; Fri, 04 Dec 2026 08:00:01 -0800 (PST)",
		"Received-SPF: pass (google.com: domain of alice@example.test designates 192.0.2.10 as permitted sender) client-ip=192.0.2.10;",
		"Authentication-Results: mx.google.com; dkim=pass header.i=@example.test header.s=s1 header.b=AbCd; spf=pass (google.com: domain of alice@example.test designates 192.0.2.10 as permitted sender) smtp.mailfrom=alice@example.test; dmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from=example.test",
		"DKIM-Signature: v=1; a=rsa-sha256; d=example.test; s=s1; h=from:to:subject; bh=x; b=y",
		"From: Alice <alice@example.test>",
	)
	if got := BorderAuthenticated(gmail, Border{AuthservID: "mx.google.com", Hops: 2}, "example.test"); !got.Pass {
		t.Fatalf("Gmail's own header with two hops: %+v", got)
	}
	if got := BorderAuthenticated(gmail, Border{AuthservID: "mx.google.com", Hops: 1}, "example.test"); got.Pass {
		t.Fatalf("Gmail's header below its second Received believed with one hop: %+v", got)
	}
}

// The results of the one header that decides, read as before.
func TestBorderAuthenticated_ReadsTheResults(t *testing.T) {
	for _, tc := range []struct {
		name string
		ar   string
		from string
		want bool
	}{
		{"dkim pass aligned", "mx.example.test; dkim=pass (2048-bit key) header.d=example.test header.s=s1; spf=fail smtp.mailfrom=x@other.example", "example.test", true},
		{"spf pass aligned", "mx.example.test; spf=pass (sender SPF authorized) smtp.mailfrom=alice@example.test; dkim=none", "example.test", true},
		{"dkim pass for a parent domain", "mx.example.test; dkim=pass header.d=example.test", "mail.example.test", true},
		{"dkim pass for another domain", "mx.example.test; dkim=pass header.d=evil.example", "example.test", false},
		{"lookalike domain is not aligned", "mx.example.test; dkim=pass header.d=badexample.test", "example.test", false},
		{"dmarc pass for another From domain", "mx.example.test; dmarc=pass header.from=evil.example", "example.test", false},
		{"fail results", "mx.example.test; dkim=fail header.d=example.test; spf=softfail smtp.mailfrom=a@example.test", "example.test", false},
		{"no results", "mx.example.test; none", "example.test", false},
		{"folded, Gmail style", "mx.example.test;\r\n       dkim=pass header.i=@example.test header.s=20230601 header.b=AbCd;\r\n       spf=pass (google.com: domain of alice@example.test designates 1.2.3.4 as permitted sender) smtp.mailfrom=alice@example.test;\r\n       dmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from=example.test", "example.test", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			trace := header(lmtp, "Authentication-Results: "+tc.ar, border)
			if got := BorderAuthenticated(trace, Border{AuthservID: "MX.example.test", Hops: 1}, tc.from); got.Pass != tc.want {
				t.Fatalf("BorderAuthenticated = %+v, want pass=%v", got, tc.want)
			}
		})
	}
	if got := BorderAuthenticated(header(lmtp, realPass, border), Border{Hops: 1}, "example.test"); got.Pass {
		t.Fatal("passed without a configured authserv-id")
	}
}
