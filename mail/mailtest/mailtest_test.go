package mailtest

import (
	"bytes"
	"net/mail"
	"testing"
)

func TestMail_BytesParseBackWithTheirThread(t *testing.T) {
	raw := Mail{From: "김민수 <minsu@acme.example>", Subject: "VPN", MessageID: "r1@acme.example", InReplyTo: "c1@acme.example",
		Headers: []string{"Auto-Submitted: no"}, Body: "line one\nline two"}.Bytes()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if m.Header.Get("In-Reply-To") != "<c1@acme.example>" || m.Header.Get("References") != "<c1@acme.example>" ||
		m.Header.Get("To") != "support@example.com" || m.Header.Get("Auto-Submitted") != "no" {
		t.Errorf("headers: %v", m.Header)
	}
	if bytes.Contains(raw, []byte("one\ntwo")) || !bytes.Contains(raw, []byte("line one\r\nline two\r\n")) {
		t.Errorf("body lines not CRLF: %q", raw)
	}
}

func TestWait_ReturnsOnceTheConditionHolds(t *testing.T) {
	n := 0
	Wait(t, "three polls", func() bool { n++; return n == 3 })
	if n != 3 {
		t.Errorf("polled %d times, want 3", n)
	}
}
