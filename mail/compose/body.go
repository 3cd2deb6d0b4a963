package compose

import (
	"crypto/rand"
	"fmt"
	"mime"
	"strings"

	"github.com/emersion/go-message"
)

// part is one MIME entity: a leaf with content, or a multipart with
// children. fields are its Content-* header fields in order; go-message's
// writer encodes the content as Content-Transfer-Encoding says.
type part struct {
	fields   [][2]string
	content  []byte
	children []*part
}

// write writes p's body through w, which was created with p's header.
func (p *part) write(w *message.Writer) error {
	if p.children == nil {
		if _, err := w.Write(p.content); err != nil {
			return err
		}
		return w.Close()
	}
	for _, c := range p.children {
		cw, err := w.CreatePart(headerOf(c.fields))
		if err != nil {
			return err
		}
		if err := c.write(cw); err != nil {
			return err
		}
	}
	return w.Close()
}

func (m *Message) bodyTree() (*part, error) {
	var text, html *part
	if m.Text != "" {
		text = textPart("text/plain", m.Text)
	}
	if m.HTML != "" {
		html = textPart("text/html", m.HTML)
	}
	var inline, attached []*part
	for i := range m.Attachments {
		a := &m.Attachments[i]
		p, err := attachmentPart(a)
		if err != nil {
			return nil, err
		}
		if a.ContentID != "" {
			if m.HTML == "" {
				return nil, fmt.Errorf("attachment %q has a ContentID but the message has no HTML body", a.Filename)
			}
			inline = append(inline, p)
		} else {
			attached = append(attached, p)
		}
	}

	if len(inline) > 0 {
		html = multipart("related", map[string]string{"type": "text/html"}, append([]*part{html}, inline...))
	}
	body := text
	switch {
	case text != nil && html != nil:
		body = multipart("alternative", nil, []*part{text, html})
	case html != nil:
		body = html
	}
	if len(attached) > 0 {
		body = multipart("mixed", nil, append([]*part{body}, attached...))
	}
	return body, nil
}

func textPart(mediaType, s string) *part {
	// Text is canonical CRLF before any transfer encoding (RFC 2045).
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	s = strings.ReplaceAll(s, "\n", "\r\n")
	enc := "quoted-printable"
	switch {
	case sevenBit(s):
		enc = "7bit" // nothing to encode: the text goes as it is
	case mostlyNonASCII(s):
		enc = "base64"
	}
	return &part{
		fields: [][2]string{
			{"Content-Type", withParams(mediaType, map[string]string{"charset": "utf-8"})},
			{"Content-Transfer-Encoding", enc},
		},
		content: []byte(s),
	}
}

// maxLine is RFC 5322's limit on a line, without its CRLF.
const maxLine = 998

// sevenBit reports whether s, with CRLF line ends, can go as 7bit (RFC
// 2045): ASCII without NUL or a bare CR, no line over maxLine octets, no
// line ending in a space or tab, which relays may strip, and no "=_", which
// starts our multipart boundaries.
func sevenBit(s string) bool {
	if strings.Contains(s, "=_") {
		return false
	}
	line := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == 0 || c >= 0x80:
			return false
		case c == '\r':
			if i+1 >= len(s) || s[i+1] != '\n' || (i > 0 && (s[i-1] == ' ' || s[i-1] == '\t')) {
				return false
			}
			line = 0
		case c == '\n': // always after the CR above: the text is canonical CRLF
		default:
			if line++; line > maxLine {
				return false
			}
		}
	}
	return len(s) == 0 || (s[len(s)-1] != ' ' && s[len(s)-1] != '\t')
}

func attachmentPart(a *Attachment) (*part, error) {
	what := fmt.Sprintf("attachment %q", a.Filename)
	if a.Filename == "" {
		return nil, fmt.Errorf("attachment %d bytes long has no Filename", len(a.Content))
	}
	if err := checkText("attachment filename", a.Filename); err != nil {
		return nil, err
	}
	ct := a.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	if err := checkText(what+" content type", ct); err != nil {
		return nil, err
	}
	mediaType, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return nil, fmt.Errorf("%s: content type %q: %w", what, ct, err)
	}
	if strings.HasPrefix(mediaType, "multipart/") || strings.HasPrefix(mediaType, "message/") {
		return nil, fmt.Errorf("%s: content type %s cannot be sent base64-encoded", what, mediaType)
	}
	switch strings.ToLower(params["charset"]) {
	case "", "utf-8", "us-ascii":
	default:
		// go-message's writer sends text in UTF-8 only. The bytes go out
		// unchanged as a file to save, not as text to show in a charset
		// the label would no longer match.
		mediaType = "application/octet-stream"
		delete(params, "charset")
	}
	params["name"] = encodeText(a.Filename, paramRoom)
	disposition := "attachment"
	if a.ContentID != "" {
		disposition = "inline"
		if err := checkMsgID(what+" ContentID", a.ContentID); err != nil {
			return nil, err
		}
	}
	fields := [][2]string{
		{"Content-Type", withParams(mediaType, params)},
		{"Content-Transfer-Encoding", "base64"},
		{"Content-Disposition", withParams(disposition, map[string]string{"filename": encodeText(a.Filename, paramRoom)})},
	}
	if a.ContentID != "" {
		fields = append(fields, [2]string{"Content-ID", "<" + a.ContentID + ">"})
	}
	return &part{fields: fields, content: a.Content}, nil
}

func multipart(subtype string, params map[string]string, children []*part) *part {
	if params == nil {
		params = map[string]string{}
	}
	// "=_" never occurs in quoted-printable, base64 or 7bit parts (see
	// sevenBit), so the boundary cannot collide with content.
	params["boundary"] = "=_hd_" + rand.Text()
	return &part{
		fields:   [][2]string{{"Content-Type", withParams("multipart/"+subtype, params)}},
		children: children,
	}
}

// paramRoom is the room for a file name's first word on a folded line that
// starts with ` filename="`.
const paramRoom = 76 - len(` filename="`)

// withParams formats a Content-Type or Content-Disposition value the way
// go-message does: non-ASCII parameter values (file names) as encoded words.
func withParams(value string, params map[string]string) string {
	var h message.Header
	h.SetContentType(value, params)
	return h.Get("Content-Type")
}
