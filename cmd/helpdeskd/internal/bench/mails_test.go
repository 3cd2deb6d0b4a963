package main

import (
	"bytes"
	"io"
	"net/mail"
	"strings"
	"testing"
	"time"

	gomail "github.com/emersion/go-message/mail"
)

func TestGenerate_SeventyPercentNewCasesFromDistinctSendersThirtyPercentReplies(t *testing.T) {
	t.Parallel()
	const n = 1000
	b := Generate(n, "t", "support@help.bench.test", 1, time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	if len(b.Mails) != n || b.New != 700 || b.Replies != 300 {
		t.Fatalf("got %d mails, %d new, %d replies; want %d, 700, 300", len(b.Mails), b.New, b.Replies, n)
	}
	ids := map[string]int{}
	senders := map[string]bool{}
	for i, m := range b.Mails {
		msg, err := mail.ReadMessage(bytes.NewReader(m.Raw))
		if err != nil {
			t.Fatalf("mail %d does not parse: %v", i, err)
		}
		id := strings.Trim(msg.Header.Get("Message-Id"), "<>")
		if id != m.MessageID {
			t.Fatalf("mail %d: Message-ID %q, want %q", i, id, m.MessageID)
		}
		if _, dup := ids[id]; dup {
			t.Fatalf("mail %d repeats Message-ID %s", i, id)
		}
		ids[id] = i
		from, err := mail.ParseAddress(msg.Header.Get("From"))
		if err != nil || from.Address != m.From {
			t.Fatalf("mail %d: From %q (%v), want %s", i, msg.Header.Get("From"), err, m.From)
		}
		if m.Parent < 0 {
			if senders[m.From] {
				t.Fatalf("mail %d opens a case from %s, who already has one", i, m.From)
			}
			senders[m.From] = true
			continue
		}
		parent, ok := ids[strings.Trim(msg.Header.Get("In-Reply-To"), "<>")]
		if !ok || parent != m.Parent || b.Mails[parent].From != m.From {
			t.Fatalf("mail %d replies to %q: not an earlier mail of %s", i, msg.Header.Get("In-Reply-To"), m.From)
		}
		if !strings.Contains(msg.Header.Get("References"), "<"+b.Mails[parent].MessageID+">") {
			t.Fatalf("mail %d: References %q lack the parent", i, msg.Header.Get("References"))
		}
	}
	if len(b.Senders()) != 700 {
		t.Errorf("Senders() = %d addresses, want 700", len(b.Senders()))
	}
}

func TestGenerate_BodiesDecodeIncludingKoreanAndAttachments(t *testing.T) {
	t.Parallel()
	b := Generate(300, "t", "support@help.bench.test", 2, time.Now())
	var korean, attachments int
	for i, m := range b.Mails {
		r, err := gomail.CreateReader(bytes.NewReader(m.Raw))
		if err != nil {
			t.Fatalf("mail %d: %v", i, err)
		}
		subject, err := r.Header.Subject()
		if err != nil {
			t.Fatalf("mail %d subject: %v", i, err)
		}
		if subject != m.Subject {
			t.Fatalf("mail %d: subject %q, want %q", i, subject, m.Subject)
		}
		var text string
		for {
			p, err := r.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("mail %d part: %v", i, err)
			}
			body, _ := io.ReadAll(p.Body)
			switch h := p.Header.(type) {
			case *gomail.InlineHeader:
				if ct, _, _ := h.ContentType(); ct == "text/plain" && text == "" {
					text = string(body)
				}
			case *gomail.AttachmentHeader:
				attachments++
			}
		}
		if text == "" {
			t.Fatalf("mail %d has no text", i)
		}
		if strings.ContainsAny(text, "안녕빠") {
			korean++
		}
	}
	if korean == 0 || attachments == 0 {
		t.Errorf("got %d Korean mails and %d attachments in 300 mails; want some of each", korean, attachments)
	}
}
