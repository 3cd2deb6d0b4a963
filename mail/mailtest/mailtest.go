// Package mailtest holds what the tests of several packages share: a mail
// builder and a polling wait. It is imported by tests only.
package mailtest

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// Mail is a plain-text mail to build for a test.
type Mail struct {
	From, To, Subject, MessageID string // MessageID without <>
	InReplyTo                    string // without <>; also References
	Date                         string // default a fixed date
	Headers                      []string
	Body                         string
}

// Bytes renders m with CRLF line ends, UTF-8 text.
func (m Mail) Bytes() []byte {
	var b strings.Builder
	to, date := m.To, m.Date
	if to == "" {
		to = "support@example.com"
	}
	if date == "" {
		date = "Fri, 20 Nov 2026 15:00:00 +0900"
	}
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s>\r\nDate: %s\r\n", m.From, to, m.Subject, m.MessageID, date)
	if m.InReplyTo != "" {
		fmt.Fprintf(&b, "In-Reply-To: <%s>\r\nReferences: <%s>\r\n", m.InReplyTo, m.InReplyTo)
	}
	for _, h := range m.Headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("Content-Type: text/plain; charset=UTF-8\r\n\r\n" + strings.ReplaceAll(m.Body, "\n", "\r\n") + "\r\n")
	return []byte(b.String())
}

// Wait polls cond until it holds and fails the test when it does not
// within a minute: a generous deadline, never a timing assertion.
func Wait(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
