package mail

import (
	"io"
	"strings"
	"time"
)

// Address is a mailbox. Address has a lower-case domain; the local part keeps
// its case (it may matter to the receiving server).
type Address struct {
	Name    string `json:"name,omitempty"`
	Address string `json:"address"`
}

// Canonical returns the address lower-cased, the form used for identity.
func (a Address) Canonical() string { return strings.ToLower(a.Address) }

// String formats the address for display.
func (a Address) String() string {
	if a.Name == "" {
		return a.Address
	}
	return a.Name + " <" + a.Address + ">"
}

// Attachment is a non-body part. Content is set only when no AttachmentSink
// was given. Size and SHA256 describe the stored content (at most
// MaxAttachmentBytes; Truncated says the part was longer).
type Attachment struct {
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	ContentID   string `json:"content_id,omitempty"`
	// Inline is true when the HTML body references the part by Content-ID,
	// whatever its Content-Disposition says. It is final only after Parse
	// returns.
	Inline    bool   `json:"inline"`
	Size      int64  `json:"size"`
	SHA256    string `json:"sha256"`
	Truncated bool   `json:"truncated,omitempty"`
	Content   []byte `json:"-"`
}

// Message is the parsed, safe view of an inbound message. Every string is
// valid UTF-8 without NUL.
type Message struct {
	MessageID  string    `json:"message_id"`
	From       Address   `json:"from"`
	To         []Address `json:"to"`
	Cc         []Address `json:"cc"`
	ReplyTo    []Address `json:"reply_to"`
	Subject    string    `json:"subject"`
	Date       time.Time `json:"date,omitzero"`
	InReplyTo  []string  `json:"in_reply_to"`
	References []string  `json:"references"`
	Text       string    `json:"text"`
	HTML       string    `json:"html"`
	// Attachments are in message order, inline parts included.
	Attachments []*Attachment `json:"attachments"`
	Warnings    []string      `json:"warnings"`
	// CharsetGuesses names the charsets guessed for 8-bit text that was not
	// valid UTF-8 and carried no usable charset ("header Subject: guessed
	// euc-kr", "body: guessed shift_jis").
	CharsetGuesses []string `json:"charset_guesses,omitempty"`

	// SyntheticMessageID is true when the message had no usable Message-ID
	// and MessageID was derived from its content.
	SyntheticMessageID bool `json:"synthetic_message_id,omitempty"`
	// OriginalMessageID is the Message-ID field as written, when it was
	// malformed. MessageID is then synthetic (derived from the content, so
	// two different mails with one broken id stay two), and
	// MessageIDAlias is the id's canonical stand-in (CanonicalMsgID), which
	// is what replies naming the broken id carry in In-Reply-To/References.
	OriginalMessageID string    `json:"original_message_id,omitempty"`
	MessageIDAlias    string    `json:"message_id_alias,omitempty"`
	DeliveredTo       []Address `json:"delivered_to,omitempty"`
	XOriginalTo       []Address `json:"x_original_to,omitempty"`
	// Header is the top-level header: canonical keys, unfolded values not
	// RFC 2047 decoded.
	Header map[string][]string `json:"-"`
	// Trace holds the trace fields (Received, Authentication-Results, ...)
	// top to bottom, with their place in the header.
	Trace []TraceField `json:"trace,omitempty"`
	// ContentType is the top-level media type, lower-case.
	ContentType string `json:"-"`
	// ReportType is the report-type of a multipart/report, lower-case.
	ReportType string `json:"-"`
	// DeliveryStatus is the text of a message/delivery-status part.
	DeliveryStatus string `json:"-"`
	// OriginalHeaders is the header block of the first attached message
	// (message/rfc822 or text/rfc822-headers part): in a bounce, the message
	// that could not be delivered.
	OriginalHeaders string `json:"-"`
	// TextFromHTML is true when the message had no text part and Text was
	// derived from HTML.
	TextFromHTML bool `json:"-"`
	// Size is the number of bytes read.
	Size int64 `json:"size"`
	// Local is set by the caller, never by Parse: the mail was written on
	// this machine (the helpdesk's CLI) and crossed no mail border.
	Local bool `json:"-"`
}

// ParseOptions tune Parse. The zero value keeps attachments in memory up to
// DefaultMaxAttachmentBytes each.
type ParseOptions struct {
	// MaxAttachmentBytes caps each attachment's stored content; 0 means
	// DefaultMaxAttachmentBytes and a negative value means no cap.
	MaxAttachmentBytes int64
	// AttachmentSink, when set, receives each attachment's decoded content
	// as a stream instead of Attachment.Content. It should read r to EOF;
	// Size and SHA256 are set when it returns. An error it returns aborts
	// Parse.
	AttachmentSink func(a *Attachment, r io.Reader) error
	// MaxBodyBytes caps Text and HTML each; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int
}

// Defaults for ParseOptions.
const (
	DefaultMaxAttachmentBytes = 50 << 20
	DefaultMaxBodyBytes       = 4 << 20
)
