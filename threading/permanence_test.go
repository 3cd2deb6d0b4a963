package threading

import (
	"strings"
	"testing"
)

// Texts of bounces that are not RFC 3464 reports, in the shapes real mail
// servers write them (see the sisimai corpus in ../../shared/corpora).
func TestClassify_NonDSNBouncePermanence(t *testing.T) {
	tests := []struct {
		name, text string
		permanent  bool
	}{
		{"qmail gave up, with a 4.x.x code", "Hi. This is the qmail-send program at mx.example.jp.\n" +
			"I'm afraid I wasn't able to deliver your message to the following addresses.\n" +
			"This is a permanent error; I've given up. Sorry it didn't work out.\n\n<kijitora@example.net>:\n" +
			"Unable to contact LDAP server. (#4.4.3)I'm not going to try again; this\nmessage has been in the queue too long.\n", true},
		{"qmail gave up, no code", "Hi. This is the qmail-send program at example.co.jp.\n" +
			"I'm afraid I wasn't able to deliver your message to the following addresses.\n" +
			"This is a permanent error; I've given up. Sorry it didn't work out.\n\n<kijitora@neko2.example.co.jp>:\n" +
			"vdelivermail: account is locked email bounced\n", true},
		{"qmail host not found", "Hi. This is the qmail-send program at example.net.\n\n<who@nohost.example>:\n" +
			"Sorry, I couldn't find any host named nohost.example. (#5.1.2)\n", true},
		{"exim", "This message was created automatically by mail delivery software.\n\n" +
			"A message that you sent could not be delivered to one or more of its\nrecipients. This is a permanent error. The following address(es) failed:\n\n  gone@example.net\n", true},
		{"gmail", "Delivery to the following recipient failed permanently:\n\n     gone@example.net\n\n" +
			"Technical details of permanent failure:\nThe email account that you tried to reach does not exist.\n", true},
		{"5.x.x code only", "<gone@example.net>:\nremote server said: 550 5.1.1 no such user\n", true},
		{"delay warning in qmail's words", "Hi. This is the qmail-send program at mx.example.jp.\n" +
			"I'm still trying to deliver your message to the following addresses.\n" +
			"This is not a permanent error; I've not given up.\n\n<slow@example.net>:\nConnection refused. (#4.4.1)\n", false},
		{"exim delay warning", "This message was created automatically by mail delivery software.\n" +
			"A message that you sent has not yet been delivered to one or more of its\nrecipients after more than 24 hours on the queue.\n" +
			"  slow@example.net\n    Delay reason: 451 4.4.1 try later\nNo action is required on your part. Delivery attempts will continue for some time.\n", false},
		{"4.x.x code and no verdict", "<slow@example.net>:\n451 4.7.1 greylisted, come back later\n", false},
		{"permanent phrase only in the returned message", "<who@example.net>:\n451 4.4.1 try later\n" +
			strings.Repeat("> returned text\n", bounceExplanationBytes/16) + "\nMy last mail said this is a permanent error.\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Classify(ClassifyInput{From: "MAILER-DAEMON@mx.example.com", Subject: "failure notice", Text: tt.text})
			if c.Class != ClassBounce {
				t.Fatalf("Classify = %+v, want a bounce", c)
			}
			if c.Bounce.Permanent != tt.permanent {
				t.Errorf("Permanent = %v, want %v (%+v)", c.Bounce.Permanent, tt.permanent, c.Bounce)
			}
		})
	}
}

func TestClassify_DSNNamesTheMailThatBounced(t *testing.T) {
	ds := "Reporting-MTA: dns; googlemail.com\nOriginal-Envelope-Id: env-77\nX-Original-Message-ID: <hd.abc@example.com>\n\n" +
		"Final-Recipient: rfc822; gone@example.net\nAction: failed\nStatus: 5.1.1\n"
	c := Classify(ClassifyInput{From: "mailer-daemon@googlemail.com", ReportType: "delivery-status", DeliveryStatus: ds})
	if c.Bounce == nil || c.Bounce.EnvelopeID != "env-77" || c.Bounce.XOriginalMessageID != "hd.abc@example.com" {
		t.Fatalf("Classify = %+v %+v", c, c.Bounce)
	}
}
