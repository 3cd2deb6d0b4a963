// Package compose renders outgoing RFC 5322 messages.
//
// Message.Bytes validates before it renders: addresses must parse with
// net/mail, Message-IDs must be well-formed, and a CR or LF in any header
// value, address, name or filename is refused (ErrHeaderInjection), so no
// caller-supplied text can add a header. What is ours is that policy, the
// word-wise header encoding (encodeText: ASCII words such as "[Case #12]"
// stay readable and whole, other words become RFC 2047 encoded words that
// hold whole words, so folding happens only between words) and the MIME
// structure the parts call for:
//
//	text or HTML alone          text/plain or text/html
//	text and HTML               multipart/alternative
//	HTML with inline parts      multipart/related (HTML first, then the parts)
//	with attachments            multipart/mixed (body first, then attachments)
//
// go-message writes the rest: header folding at 76 columns, multipart
// boundaries, quoted-printable and base64 bodies, and parameter encoding.
package compose

import (
	"bytes"
	"errors"
	"fmt"
	netmail "net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
)

// ErrHeaderInjection is wrapped by the error Bytes returns when a value that
// ends up in a header contains CR or LF.
var ErrHeaderInjection = errors.New("CR or LF in a header value")

// Address is a mailbox with an optional display name.
type Address struct {
	Name    string
	Address string
}

// Attachment is a file attached to the message. When ContentID is set it is
// an inline part of the HTML body (referenced as cid:<ContentID>) and the
// message must have HTML.
type Attachment struct {
	Filename    string
	ContentType string // default application/octet-stream
	Content     []byte
	ContentID   string // without <>
}

// Message is an outgoing message.
type Message struct {
	From       Address
	To         []Address
	Cc         []Address
	ReplyTo    []Address
	Subject    string
	MessageID  string // without <>; required
	InReplyTo  string // without <>
	References []string
	Date       time.Time // required
	// Headers are extra header fields, written in order after the standard
	// ones, e.g. Auto-Submitted or X-Auto-Response-Suppress. They may not
	// repeat a field the Message sets itself.
	Headers     [][2]string
	Text, HTML  string // at least one
	Attachments []Attachment
}

const (
	dateLayout = "Mon, 02 Jan 2006 15:04:05 -0700"
	// maxIDLen keeps "<id>" on one header line: longer ids would be split
	// by folding, which changes them.
	maxIDLen = 900
)

// Bytes validates m and renders it.
func (m *Message) Bytes() ([]byte, error) {
	top, err := m.headerFields()
	if err != nil {
		return nil, fmt.Errorf("compose: %w", err)
	}
	body, err := m.bodyTree()
	if err != nil {
		return nil, fmt.Errorf("compose: %w", err)
	}

	fields := append(top, [2]string{"MIME-Version", "1.0"})
	fields = append(fields, body.fields...)
	var buf bytes.Buffer
	w, err := message.CreateWriter(&buf, headerOf(fields))
	if err != nil {
		return nil, fmt.Errorf("compose: writing header: %w", err)
	}
	if err := body.write(w); err != nil {
		return nil, fmt.Errorf("compose: writing body: %w", err)
	}
	return buf.Bytes(), nil
}

// reserved are the fields the Message sets itself; Headers may not add them.
var reserved = map[string]bool{
	"date": true, "from": true, "reply-to": true, "to": true, "cc": true, "bcc": true,
	"subject": true, "message-id": true, "in-reply-to": true, "references": true,
	"mime-version": true,
}

func (m *Message) headerFields() ([][2]string, error) {
	if m.Date.IsZero() {
		return nil, errors.New("Date is required")
	}
	if m.MessageID == "" {
		return nil, errors.New("MessageID is required")
	}
	if len(m.To)+len(m.Cc) == 0 {
		return nil, errors.New("no recipient in To or Cc")
	}
	if m.Text == "" && m.HTML == "" {
		return nil, errors.New("neither Text nor HTML body")
	}

	from, err := formatAddresses("From", []Address{m.From})
	if err != nil {
		return nil, err
	}
	fields := [][2]string{
		{"Date", m.Date.Format(dateLayout)},
		{"From", from},
	}
	for _, f := range []struct {
		name  string
		addrs []Address
	}{{"Reply-To", m.ReplyTo}, {"To", m.To}, {"Cc", m.Cc}} {
		if len(f.addrs) == 0 {
			continue
		}
		v, err := formatAddresses(f.name, f.addrs)
		if err != nil {
			return nil, err
		}
		fields = append(fields, [2]string{f.name, v})
	}

	if err := checkText("Subject", m.Subject); err != nil {
		return nil, err
	}
	fields = append(fields, [2]string{"Subject", encodeText(m.Subject, firstRoom("Subject"))})

	if err := checkMsgID("MessageID", m.MessageID); err != nil {
		return nil, err
	}
	fields = append(fields, [2]string{"Message-ID", "<" + m.MessageID + ">"})
	if m.InReplyTo != "" {
		if err := checkMsgID("InReplyTo", m.InReplyTo); err != nil {
			return nil, err
		}
		fields = append(fields, [2]string{"In-Reply-To", "<" + m.InReplyTo + ">"})
	}
	if len(m.References) > 0 {
		for _, id := range m.References {
			if err := checkMsgID("References", id); err != nil {
				return nil, err
			}
		}
		// Folding happens at the spaces between ids.
		fields = append(fields, [2]string{"References", "<" + strings.Join(m.References, "> <") + ">"})
	}

	for _, kv := range m.Headers {
		name, value := kv[0], kv[1]
		if err := checkFieldName(name); err != nil {
			return nil, err
		}
		lower := strings.ToLower(name)
		if reserved[lower] || strings.HasPrefix(lower, "content-") {
			return nil, fmt.Errorf("header %s is set by the Message itself", name)
		}
		if err := checkText("header "+name, value); err != nil {
			return nil, err
		}
		fields = append(fields, [2]string{name, encodeText(value, firstRoom(name))})
	}
	return fields, nil
}

func formatAddresses(field string, addrs []Address) (string, error) {
	out := make([]string, len(addrs))
	for i, a := range addrs {
		if err := checkText(field+" name", a.Name); err != nil {
			return "", err
		}
		if err := checkText(field+" address", a.Address); err != nil {
			return "", err
		}
		if a.Address == "" {
			return "", fmt.Errorf("%s: empty address", field)
		}
		if !isASCII(a.Address) {
			return "", fmt.Errorf("%s: address %q is not ASCII (SMTPUTF8 is not supported)", field, a.Address)
		}
		parsed, err := netmail.ParseAddress(a.Address)
		if err != nil || parsed.Address != a.Address || parsed.Name != "" {
			return "", fmt.Errorf("%s: invalid address %q", field, a.Address)
		}
		if isASCII(a.Name) {
			// go-message's Address (net/mail's) quotes ASCII names.
			out[i] = (&mail.Address{Name: a.Name, Address: a.Address}).String()
			continue
		}
		out[i] = encodePhrase(a.Name, firstRoom(field)) + " <" + a.Address + ">"
	}
	return strings.Join(out, ", "), nil
}

// checkText refuses values that cannot go into a header: CR or LF
// (injection), other control characters, and invalid UTF-8.
func checkText(what, s string) error {
	if strings.ContainsAny(s, "\r\n") {
		return fmt.Errorf("%s %q: %w", what, s, ErrHeaderInjection)
	}
	for _, r := range s {
		if (r < 0x20 && r != '\t') || r == 0x7f {
			return fmt.Errorf("%s %q: control character", what, s)
		}
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s %q: invalid UTF-8", what, s)
	}
	return nil
}

func checkFieldName(name string) error {
	if strings.ContainsAny(name, "\r\n") {
		return fmt.Errorf("header name %q: %w", name, ErrHeaderInjection)
	}
	if name == "" {
		return errors.New("empty header name")
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < '!' || c > '~' || c == ':' {
			return fmt.Errorf("invalid header name %q", name)
		}
	}
	return nil
}

// checkMsgID accepts a msg-id without angle brackets: a dot-atom, "@", and a
// dot-atom or domain literal (RFC 5322 section 3.6.4).
func checkMsgID(what, id string) error {
	if strings.ContainsAny(id, "\r\n") {
		return fmt.Errorf("%s %q: %w", what, id, ErrHeaderInjection)
	}
	if len(id) > maxIDLen {
		return fmt.Errorf("%s: id longer than %d octets", what, maxIDLen)
	}
	at := strings.LastIndexByte(id, '@')
	if at <= 0 || at == len(id)-1 {
		return fmt.Errorf("%s %q: not of the form left@right", what, id)
	}
	left, right := id[:at], id[at+1:]
	ok := isDotAtom(left)
	if strings.HasPrefix(right, "[") && strings.HasSuffix(right, "]") {
		for i := 1; i < len(right)-1; i++ {
			if c := right[i]; c < '!' || c > '~' || c == '[' || c == ']' || c == '\\' {
				ok = false
			}
		}
	} else {
		ok = ok && isDotAtom(right)
	}
	if !ok {
		return fmt.Errorf("%s %q: invalid message id", what, id)
	}
	return nil
}

func isDotAtom(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// mostlyNonASCII reports whether quoted-printable or Q encoding would more
// than double s: each non-ASCII byte costs three.
func mostlyNonASCII(s string) bool {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			n++
		}
	}
	return n*3 > len(s)
}

// headerOf builds a header whose fields are written in the order given.
func headerOf(fields [][2]string) message.Header {
	var h message.Header
	// Add inserts at the top, so add in reverse.
	for i := len(fields) - 1; i >= 0; i-- {
		h.Add(fields[i][0], fields[i][1])
	}
	return h
}
