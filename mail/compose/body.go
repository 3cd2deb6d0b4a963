package compose

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"strings"

	"github.com/emersion/go-message/textproto"
)

// part is one MIME entity: a leaf with content, or a multipart with
// children. fields are its Content-* header fields in order.
type part struct {
	fields   [][2]string
	encoding string // of a leaf: "base64" or "quoted-printable"
	content  []byte
	boundary string // of a multipart
	children []*part
}

// writeBody writes p's body, encoded, to w.
func (p *part) writeBody(w io.Writer) error {
	if p.children != nil {
		mw := textproto.NewMultipartWriter(w)
		if err := mw.SetBoundary(p.boundary); err != nil {
			return err
		}
		for _, c := range p.children {
			cw, err := mw.CreatePart(headerOf(c.fields))
			if err != nil {
				return err
			}
			if err := c.writeBody(cw); err != nil {
				return err
			}
		}
		return mw.Close()
	}
	if p.encoding == "quoted-printable" {
		qw := quotedprintable.NewWriter(w)
		if _, err := qw.Write(p.content); err != nil {
			return err
		}
		return qw.Close()
	}
	enc := base64.StdEncoding.EncodeToString(p.content)
	for len(enc) > 0 {
		n := min(len(enc), 76)
		if _, err := io.WriteString(w, enc[:n]+"\r\n"); err != nil {
			return err
		}
		enc = enc[n:]
	}
	return nil
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
	if mostlyNonASCII(s) {
		enc = "base64"
	}
	return &part{
		fields: [][2]string{
			{"Content-Type", mime.FormatMediaType(mediaType, map[string]string{"charset": "utf-8"})},
			{"Content-Transfer-Encoding", enc},
		},
		encoding: enc,
		content:  []byte(s),
	}
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
	params["name"] = encodeText(a.Filename)
	disposition := "attachment"
	if a.ContentID != "" {
		disposition = "inline"
		if err := checkMsgID(what+" ContentID", a.ContentID); err != nil {
			return nil, err
		}
	}
	fields := [][2]string{
		{"Content-Type", mime.FormatMediaType(mediaType, params)},
		{"Content-Transfer-Encoding", "base64"},
		{"Content-Disposition", mime.FormatMediaType(disposition, map[string]string{"filename": encodeText(a.Filename)})},
	}
	if a.ContentID != "" {
		fields = append(fields, [2]string{"Content-ID", "<" + a.ContentID + ">"})
	}
	return &part{fields: fields, encoding: "base64", content: a.Content}, nil
}

func multipart(subtype string, params map[string]string, children []*part) *part {
	if params == nil {
		params = map[string]string{}
	}
	// "=_" never occurs in quoted-printable or base64 output, so the
	// boundary cannot collide with encoded content.
	params["boundary"] = "=_hd_" + rand.Text()
	return &part{
		fields:   [][2]string{{"Content-Type", mime.FormatMediaType("multipart/"+subtype, params)}},
		boundary: params["boundary"],
		children: children,
	}
}
