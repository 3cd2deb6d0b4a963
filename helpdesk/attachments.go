package helpdesk

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"strconv"
	"strings"
	"time"

	"github.com/helpdesk/helpdesk/helpdesk/lifecycle"
	"github.com/helpdesk/helpdesk/mail"
	"github.com/helpdesk/helpdesk/templates"
)

// DefaultAgentAttachLimit is the largest total size of a customer's files
// attached to one agent notice when NotifierConfig.AgentAttachLimit is 0.
const DefaultAgentAttachLimit = 10 << 20

// DefaultLinkTTL is how long a download link works when
// AttachmentLinksConfig.TTL is 0.
const DefaultLinkTTL = 30 * 24 * time.Hour

// ErrLinkInvalid is returned for a download link that is malformed, forged,
// signed with a retired secret or expired. Callers never say which.
var ErrLinkInvalid = errors.New("invalid or expired link")

// AttachmentLinksConfig configures signed download links.
type AttachmentLinksConfig struct {
	Secrets  []string      // the token secrets: the first signs, all verify
	OldUntil time.Time     // links signed with an older secret fail after this (zero: never)
	BaseURL  string        // public base URL of the HTTP listener, e.g. https://help.example.com
	TTL      time.Duration // how long a link works (0: DefaultLinkTTL)
}

// AttachmentLinks signs and verifies download links of stored attachments.
//
// A link token is "a1-<comment>-<blob>-<expires>-<mac>", the numbers in
// base 36 and mac the first 16 bytes of HMAC-SHA256 in lower-case hex, keyed
// with a key derived from the token secret for this purpose only: a reply
// token ("v1-…", keyed with the secret itself) never verifies as a link, nor
// a link as a reply token.
type AttachmentLinks struct {
	keys     [][]byte
	oldUntil time.Time
	base     string
	ttl      time.Duration
}

// NewAttachmentLinks validates cfg.
func NewAttachmentLinks(cfg AttachmentLinksConfig) (*AttachmentLinks, error) {
	if len(cfg.Secrets) == 0 {
		return nil, errors.New("attachment links: no secret")
	}
	base := strings.TrimRight(cfg.BaseURL, "/")
	if !strings.HasPrefix(base, "https://") && !strings.HasPrefix(base, "http://") {
		return nil, fmt.Errorf("attachment links: base URL %q is not http(s)", cfg.BaseURL)
	}
	l := &AttachmentLinks{oldUntil: cfg.OldUntil, base: base, ttl: cfg.TTL}
	if l.ttl <= 0 {
		l.ttl = DefaultLinkTTL
	}
	for i, s := range cfg.Secrets {
		if len(s) < 16 {
			return nil, fmt.Errorf("attachment links: secret %d is shorter than 16 bytes", i)
		}
		h := hmac.New(sha256.New, []byte(s))
		h.Write([]byte("helpdesk attachment download link"))
		l.keys = append(l.keys, h.Sum(nil))
	}
	return l, nil
}

// AttachmentRef is what a valid link names: the attachment of a comment
// with the given content.
type AttachmentRef struct {
	CommentID int64
	BlobID    int64
	Expires   time.Time
}

// Sign returns the link token for the file blobID of commentID, working
// until expires.
func (l *AttachmentLinks) Sign(commentID, blobID int64, expires time.Time) string {
	body := "a1-" + strconv.FormatInt(commentID, 36) + "-" + strconv.FormatInt(blobID, 36) + "-" + strconv.FormatInt(expires.Unix(), 36)
	return body + "-" + linkMAC(l.keys[0], body)
}

// URL is the download address of a token.
func (l *AttachmentLinks) URL(token string) string { return l.base + "/attachments/" + token }

// UnsubscribeURL is the RFC 8058 one-click address of a known-issue
// unsubscribe token, on the same public listener as the download links.
func (l *AttachmentLinks) UnsubscribeURL(token string) string {
	return l.base + "/unsubscribe/" + token
}

// Link signs a link working for the configured TTL from now.
func (l *AttachmentLinks) Link(commentID, blobID int64, now time.Time) (string, time.Time) {
	exp := now.Add(l.ttl).Truncate(time.Second)
	return l.URL(l.Sign(commentID, blobID, exp)), exp
}

func linkMAC(key []byte, body string) string {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(body))
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// Verify checks a link token as of now.
func (l *AttachmentLinks) Verify(token string, now time.Time) (AttachmentRef, error) {
	parts := strings.Split(token, "-")
	if len(parts) != 5 || parts[0] != "a1" {
		return AttachmentRef{}, ErrLinkInvalid
	}
	var n [3]int64
	for i, p := range parts[1:4] {
		v, err := strconv.ParseInt(p, 36, 64)
		if err != nil || v <= 0 || p != strconv.FormatInt(v, 36) {
			return AttachmentRef{}, ErrLinkInvalid
		}
		n[i] = v
	}
	body := strings.Join(parts[:4], "-")
	for i, k := range l.keys {
		if !hmac.Equal([]byte(parts[4]), []byte(linkMAC(k, body))) {
			continue
		}
		exp := time.Unix(n[2], 0)
		if !now.Before(exp) || (i > 0 && !l.oldUntil.IsZero() && now.After(l.oldUntil)) {
			return AttachmentRef{}, ErrLinkInvalid
		}
		return AttachmentRef{CommentID: n[0], BlobID: n[1], Expires: exp}, nil
	}
	return AttachmentRef{}, ErrLinkInvalid
}

// agentCommentNotice reports whether a notice of kind relays a customer's
// comment to agents, and so carries its files.
func agentCommentNotice(kind string) bool {
	switch kind {
	case lifecycle.NoticeAgentNewCase, lifecycle.NoticeAgentCustomerReplied, lifecycle.NoticeAgentReopened:
		return true
	}
	return false
}

// attachFit decides which files go along with one mail: in mail order, each
// that still fits under limit with those before it; a truncated or unstored
// file never goes (its bytes are not all there).
func attachFit(atts []*mail.Attachment, stored func(*mail.Attachment) bool, limit int64) []bool {
	fit := make([]bool, len(atts))
	var total int64
	for i, a := range atts {
		if a.Truncated || !stored(a) || total+a.Size > limit {
			continue
		}
		total += a.Size
		fit[i] = true
	}
	return fit
}

// agentFiles is a customer's files as one agent notice lists them. infos is
// shared with the notice's data; the links of the files not attached are
// filled in when the notice is rendered, once the comment has its id.
type agentFiles struct {
	infos   []templates.AttachmentInfo
	blobs   []*storedBlob // per info
	comment *plannedComment
}

// filesForAgents chooses the files of the current mail an agent notice about c
// carries, and points x's comment at the notice's own list of them.
func (d *decider) filesForAgents(c *caseView, x *effects) ([]relayFile, *agentFiles) {
	if d.p == nil || len(d.p.msg.Attachments) == 0 || len(x.comment.Attachments) != len(d.p.msg.Attachments) {
		return nil, nil
	}
	af := &agentFiles{infos: append([]templates.AttachmentInfo(nil), x.comment.Attachments...)}
	for i := len(d.plan.comments) - 1; i >= 0; i-- {
		if pc := d.plan.comments[i]; pc.msg == d.p && pc.c == c {
			af.comment = pc
			break
		}
	}
	limit := d.n.cfg.AgentAttachLimit
	if limit == 0 {
		limit = DefaultAgentAttachLimit
	}
	atts := d.p.msg.Attachments
	html := d.p.msg.HTML != ""
	fit := attachFit(atts, func(a *mail.Attachment) bool { return d.p.blobs[a] != nil }, limit)
	var files []relayFile
	for i, a := range atts {
		blob := d.p.blobs[a]
		af.blobs = append(af.blobs, blob)
		if !fit[i] {
			continue
		}
		files = append(files, relayFile{att: a, blob: blob, html: html})
		af.infos[i].Attached = true
		if a.Inline && a.ContentID != "" && html {
			af.infos[i].ContentID = safeContentID(a.ContentID)
		}
	}
	x.comment.Attachments = af.infos
	return files, af
}

// fill gives each file not attached a download link, or without links the
// command an operator fetches it with.
func (af *agentFiles) fill(links *AttachmentLinks, caseID int64, now time.Time) {
	for i := range af.infos {
		info := &af.infos[i]
		if info.Attached {
			continue
		}
		if b := af.blobs[i]; links != nil && af.comment != nil && af.comment.id > 0 && b != nil && b.id > 0 {
			info.URL, info.URLExpires = links.Link(af.comment.id, b.id, now)
			continue
		}
		info.Fetch = "helpdeskd attachments list " + strconv.FormatInt(caseID, 10)
	}
}

// sendableName is the filename a file is sent under: the parser keeps an
// unnamed part unnamed, and an outgoing part needs a name.
func sendableName(name string) string {
	if strings.TrimSpace(name) == "" {
		return "attachment"
	}
	return name
}

// sendableType is the type a file is sent as: a message/* or multipart/*
// part (a forwarded mail) cannot be sent base64-encoded, so it goes as
// plain bytes under its name (.eml); so does a type that does not parse.
func sendableType(ct string) string {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || !strings.Contains(mt, "/") || strings.HasPrefix(mt, "message/") || strings.HasPrefix(mt, "multipart/") {
		return "application/octet-stream"
	}
	return ct
}

// safeContentID is the Content-ID an inline file is sent with: its own
// when it is a well-formed id-left@id-right (RFC 5322 msg-id), else one
// derived from it. Clients such as Gmail write ids without "@"; the notice's
// HTML names the file by the id returned here, so nothing else refers to
// the original.
func safeContentID(cid string) string {
	if at := strings.LastIndexByte(cid, '@'); at > 0 && len(cid) <= 200 && dotAtom(cid[:at]) && dotAtom(cid[at+1:]) {
		return cid
	}
	sum := sha256.Sum256([]byte(cid))
	return hex.EncodeToString(sum[:8]) + "@inline.invalid"
}

// dotAtom reports whether s is an RFC 5322 dot-atom-text.
func dotAtom(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-/=?^_`{|}~.", c) >= 0) {
			return false
		}
	}
	return true
}

// StoredAttachment is an attachment as the CLI and the download handler see
// it.
type StoredAttachment struct {
	ID          int64     `db:"id" json:"id"`
	CaseID      int64     `db:"case_id" json:"case"`
	CommentID   int64     `db:"comment_id" json:"comment"`
	MessageID   string    `db:"message_id" json:"message"` // the mail it came with ("" for none)
	Filename    string    `db:"filename" json:"filename"`
	ContentType string    `db:"content_type" json:"content_type"`
	Size        int64     `db:"size" json:"size"` // bytes stored
	SHA256      string    `db:"sha256" json:"sha256,omitempty"`
	Truncated   bool      `db:"truncated" json:"truncated,omitempty"`
	Inline      bool      `db:"inline" json:"inline,omitempty"`
	BlobID      int64     `db:"blob_id" json:"-"`
	CreatedAt   time.Time `db:"created_at" json:"created_at"`
}

const storedAttachmentSelect = `SELECT a.id, c.case_id, a.comment_id, COALESCE(m.message_id, '') AS message_id, a.filename,
	a.content_type, b.size, COALESCE(encode(b.sha256, 'hex'), '') AS sha256, a.truncated, a.inline, a.blob_id, a.created_at
	FROM attachments a JOIN comments c ON c.id = a.comment_id JOIN blobs b ON b.id = a.blob_id
	LEFT JOIN messages m ON m.id = c.message_id`

// ListAttachments lists the files of a case's comments, oldest first.
func ListAttachments(ctx context.Context, q Queryer, caseID int64) ([]StoredAttachment, error) {
	if _, err := GetCase(ctx, q, caseID); err != nil {
		return nil, err
	}
	out := []StoredAttachment{}
	if err := q.SelectContext(ctx, &out, storedAttachmentSelect+` WHERE c.case_id = $1 ORDER BY a.id`, caseID); err != nil {
		return nil, fmt.Errorf("case %d attachments: %w", caseID, mapErr(err))
	}
	return out, nil
}

// GetAttachment returns one attachment by id.
func GetAttachment(ctx context.Context, q Queryer, id int64) (*StoredAttachment, error) {
	var a StoredAttachment
	if err := q.GetContext(ctx, &a, storedAttachmentSelect+` WHERE a.id = $1`, id); err != nil {
		return nil, fmt.Errorf("attachment %d: %w", id, mapErr(err))
	}
	return &a, nil
}

// LinkedAttachment returns the attachment a download link names.
func LinkedAttachment(ctx context.Context, q Queryer, ref AttachmentRef) (*StoredAttachment, error) {
	var a StoredAttachment
	if err := q.GetContext(ctx, &a, storedAttachmentSelect+` WHERE a.comment_id = $1 AND a.blob_id = $2 ORDER BY a.id LIMIT 1`,
		ref.CommentID, ref.BlobID); err != nil {
		return nil, fmt.Errorf("linked attachment: %w", mapErr(err))
	}
	return &a, nil
}

// CopyBlob writes a stored file's content to w one chunk at a time, so a
// large file never sits in memory whole, and returns how many bytes it wrote.
// Content shorter than the size recorded for the blob (a chunk gone
// meanwhile) is an error, never a silently short file.
func CopyBlob(ctx context.Context, q Queryer, blobID int64, w io.Writer) (int64, error) {
	var size int64
	if err := q.GetContext(ctx, &size, `SELECT size FROM blobs WHERE id = $1`, blobID); err != nil {
		return 0, fmt.Errorf("attachment content %d: %w", blobID, mapErr(err))
	}
	var written int64
	for seq := 0; written < size; seq++ {
		var chunk []byte
		err := q.GetContext(ctx, &chunk, `SELECT data FROM blob_chunks WHERE blob_id = $1 AND seq = $2`, blobID, seq)
		if errors.Is(mapErr(err), ErrNotFound) {
			return written, fmt.Errorf("attachment content %d: chunk %d is missing after %d of %d bytes", blobID, seq, written, size)
		}
		if err != nil {
			return written, fmt.Errorf("attachment content %d: %w", blobID, mapErr(err))
		}
		n, err := w.Write(chunk)
		written += int64(n)
		if err != nil {
			return written, fmt.Errorf("attachment content %d: %w", blobID, err)
		}
	}
	if written != size {
		return written, fmt.Errorf("attachment content %d: %d bytes stored, %d recorded", blobID, written, size)
	}
	return written, nil
}
