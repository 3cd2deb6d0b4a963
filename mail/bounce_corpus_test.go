package mail

import (
	"path/filepath"
	"testing"

	"github.com/helpdesk/helpdesk/threading"
)

// TestClassify_SisimaiNonDSNBouncesThatSayPermanentArePermanent: bounces
// without an RFC 3464 Action field (qmail, Exim, Gmail's text, ...) that
// say the failure is permanent are permanent, whatever their status code.
func TestClassify_SisimaiNonDSNBouncesThatSayPermanentArePermanent(t *testing.T) {
	dir := filepath.Join(corpusDir(t, "sisimai-set-of-emails"), "maildir")
	for _, tt := range []struct {
		file, recipient string
	}{
		{"bsd/lhost-qmail-05.eml", "kijitora@example.net"},         // "permanent error; I've given up", (#4.4.3)
		{"bsd/lhost-qmail-06.eml", "kijitora@example.jp"},          // the same, "450 4.2.2 Mailbox Full"
		{"bsd/lhost-qmail-10.eml", "kijitora@neko2.example.co.jp"}, // the same, no code at all
		{"bsd/lhost-exim-06.eml", ""},                              // "This is a permanent error."
		{"bsd/lhost-gmail-10.eml", ""},                             // "failed permanently"
		{"bsd/lhost-zoho-03.eml", ""},
		{"bsd/lhost-qmail-02.eml", "userunknown@example.jp"}, // 5.1.1
	} {
		t.Run(tt.file, func(t *testing.T) {
			c := classifyFile(t, filepath.Join(dir, tt.file))
			if c.Class != threading.ClassBounce || c.Bounce == nil {
				t.Fatalf("Classify = %+v", c)
			}
			if !c.Bounce.Permanent {
				t.Errorf("not permanent: %+v", c.Bounce)
			}
			if tt.recipient != "" && c.Bounce.Recipient != tt.recipient {
				t.Errorf("Recipient = %q, want %q", c.Bounce.Recipient, tt.recipient)
			}
		})
	}
}

// TestClassify_SisimaiGmailDSNNamesTheOriginalMessageID: Gmail's report
// names the bounced mail in X-Original-Message-ID, which verifies a bounce
// against our outbox.
func TestClassify_SisimaiGmailDSNNamesTheOriginalMessageID(t *testing.T) {
	c := classifyFile(t, filepath.Join(corpusDir(t, "sisimai-set-of-emails"), "maildir", "bsd", "rhost-gsuite-03.eml"))
	if c.Bounce == nil || c.Bounce.XOriginalMessageID == "" {
		t.Fatalf("Classify = %+v %+v", c, c.Bounce)
	}
}
