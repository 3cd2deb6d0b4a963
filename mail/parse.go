package mail

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// SyntheticIDDomain is the domain of the Message-IDs Parse makes up for
// messages that have none.
const SyntheticIDDomain = "synthetic.helpdesk.invalid"

const (
	maxDepth        = 30
	maxReportBytes  = 256 << 10
	maxNestedHeader = 64 << 10
)

// Parse reads one message from r. It returns an error only when reading r
// fails or the AttachmentSink fails: malformed MIME degrades to a best-effort
// result with Warnings. Parse does not keep the raw bytes; the caller stores
// them if it needs them.
func Parse(r io.Reader, opts ParseOptions) (*Message, error) {
	return parse(r, opts, nil)
}

// parse is Parse with a hook that sees every transfer-decoded body part held
// in memory, by part path ("1", "1_2", ...); tests compare them with corpora.
func parse(r io.Reader, opts ParseOptions, leaves func(path, mediaType string, body []byte)) (*Message, error) {
	if opts.MaxAttachmentBytes == 0 {
		opts.MaxAttachmentBytes = DefaultMaxAttachmentBytes
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	cr := &countingReader{r: r}
	br := bufio.NewReaderSize(cr, 16<<10)
	var src io.Reader = br
	if peek, _ := br.Peek(8192); bytes.IndexByte(peek, '\n') < 0 && bytes.IndexByte(peek, '\r') >= 0 {
		src = crToLF{br} // old Mac line endings
	}
	p := &parser{opts: opts, msg: &Message{}, leaves: leaves}
	if src != io.Reader(br) {
		p.warn("line endings: bare CR converted")
		br = bufio.NewReaderSize(src, 16<<10)
	}

	h, rest, warnings, err := readHeader(br)
	if err != nil {
		return nil, fmt.Errorf("mail: read header: %w", err)
	}
	p.warn(warnings...)
	var body io.Reader = br
	if rest != nil {
		body = io.MultiReader(bytes.NewReader(rest), br)
	}
	p.envelope(h)
	if err := p.entity(h, body, "1", context{top: true}); err != nil {
		return nil, err
	}
	if _, err := io.Copy(io.Discard, br); err != nil {
		return nil, fmt.Errorf("mail: read: %w", err)
	}
	if cr.err != nil {
		return nil, fmt.Errorf("mail: read: %w", cr.err)
	}
	p.msg.Size = cr.n
	p.finish()
	return p.msg, nil
}

type countingReader struct {
	r   io.Reader
	n   int64
	err error
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	if err != nil && !errors.Is(err, io.EOF) && c.err == nil {
		c.err = err
	}
	return n, err
}

type crToLF struct{ r io.Reader }

func (c crToLF) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	for i := range b[:n] {
		if b[i] == '\r' {
			b[i] = '\n'
		}
	}
	return n, err
}

type parser struct {
	opts ParseOptions
	msg  *Message
	text strings.Builder
	html strings.Builder
	// leaves records transfer-decoded leaf bodies by part path; tests only.
	leaves func(path string, mediaType string, body []byte)
}

type context struct {
	top      bool
	depth    int
	inReport bool
	digest   bool
}

func (p *parser) warn(w ...string) {
	for _, s := range w {
		if s != "" {
			p.msg.Warnings = append(p.msg.Warnings, SafeString([]byte(s)))
		}
	}
}

func (p *parser) entity(h header, body io.Reader, path string, c context) error {
	mt, params := p.mediaType(h, c)
	if c.top {
		p.msg.ContentType = mt
	}
	if c.depth > maxDepth {
		p.warn(fmt.Sprintf("mime: nesting deeper than %d; part %s skipped", maxDepth, path))
		_, err := io.Copy(io.Discard, body)
		return err
	}
	if strings.HasPrefix(mt, "multipart/") {
		return p.multipart(mt, params, body, path, c)
	}
	dec, w := transferDecoder(h.get("Content-Transfer-Encoding"), body)
	p.warn(w)
	if b64, ok := dec.(*base64Reader); ok {
		defer func() {
			if b64.stray {
				p.warn("transfer encoding: invalid base64 characters skipped in part " + path)
			}
		}()
	}
	return p.leaf(h, mt, params, dec, path, c)
}

var tokenRe = regexp.MustCompile(`^[a-z0-9!#$&^_.+\-]+/[a-z0-9!#$&^_.+\-]+$`)

func (p *parser) mediaType(h header, c context) (string, map[string]string) {
	raw := h.get("Content-Type")
	if len(h.values("Content-Type")) > 1 {
		p.warn("header: several Content-Type fields; the first is used")
	}
	mt, params := parseParams(raw)
	def := "text/plain"
	if c.digest {
		def = "message/rfc822"
	}
	switch {
	case strings.TrimSpace(raw) == "":
		return def, params
	case mt == "text":
		p.warn("mime: Content-Type without subtype: " + mt)
		return "text/plain", params
	case !tokenRe.MatchString(mt):
		p.warn(fmt.Sprintf("mime: malformed Content-Type %.60q", raw))
		if strings.HasPrefix(mt, "multipart/") {
			return "multipart/mixed", params
		}
		if strings.HasPrefix(mt, "text/") {
			return "text/plain", params
		}
		return "application/octet-stream", params
	}
	return mt, params
}

func (p *parser) multipart(mt string, params map[string]string, body io.Reader, path string, c context) error {
	boundary := params["boundary"]
	if boundary == "" {
		br := bufio.NewReaderSize(body, 64<<10)
		body = br
		boundary = guessBoundary(br)
		if boundary == "" {
			p.warn("mime: " + mt + " without boundary and no delimiter line; body taken as text")
			return p.leaf(header{}, "text/plain", map[string]string{}, body, path, c)
		}
		p.warn("mime: " + mt + " without boundary; guessed from the first delimiter line")
	}
	if mt == "multipart/report" && p.msg.ReportType == "" {
		p.msg.ReportType = strings.ToLower(params["report-type"])
	}
	child := context{depth: c.depth + 1, inReport: mt == "multipart/report", digest: mt == "multipart/digest"}
	mr := newMultipartReader(body, boundary)
	n := 0
	for {
		pr, err := mr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		n++
		pbr := bufio.NewReaderSize(pr, 4096)
		ph, rest, warnings, err := readHeader(pbr)
		if err != nil {
			return err
		}
		p.warn(warnings...)
		var pbody io.Reader = pbr
		if rest != nil {
			pbody = io.MultiReader(bytes.NewReader(rest), pbr)
		}
		if err := p.entity(ph, pbody, fmt.Sprintf("%s_%d", path, n), child); err != nil {
			return err
		}
	}
	if mr.err != nil {
		return mr.err
	}
	switch {
	case n == 0 && len(bytes.TrimSpace(mr.preamble)) > 0 && !mr.closed:
		p.warn("mime: " + mt + " has no delimiter line for its boundary; body taken as text")
		return p.leaf(header{}, "text/plain", map[string]string{}, bytes.NewReader(mr.preamble), path, c)
	case n > 0 && !mr.closed:
		p.warn("mime: " + mt + " ends without a close delimiter")
	}
	return nil
}

// guessBoundary looks for the first line that looks like a delimiter.
func guessBoundary(br *bufio.Reader) string {
	peek, _ := br.Peek(64 << 10)
	for _, line := range bytes.Split(peek, []byte("\n")) {
		line = bytes.TrimRight(line, " \t\r")
		if len(line) > 2 && bytes.HasPrefix(line, []byte("--")) && !bytes.ContainsAny(line, " \t") {
			return string(line[2:])
		}
	}
	return ""
}

func (p *parser) leaf(h header, mt string, params map[string]string, r io.Reader, path string, c context) error {
	disp, dparams := parseParams(h.get("Content-Disposition"))
	filename := dparams["filename"]
	if filename == "" {
		filename = params["name"]
	}
	filename = cleanFilename(filename)
	isAttachment := disp == "attachment" || filename != ""

	switch {
	case (mt == "text/plain" || mt == "text/html") && !isAttachment:
		data, truncated, err := readCapped(r, p.opts.MaxBodyBytes)
		if err != nil {
			return err
		}
		if p.leaves != nil {
			p.leaves(path, mt, data)
		}
		if truncated {
			p.warn(fmt.Sprintf("body: %s part %s longer than %d bytes; truncated", mt, path, p.opts.MaxBodyBytes))
		}
		cs, ok := params["charset"]
		if !ok && mt == "text/html" {
			cs = metaCharset(data)
		}
		s, w := decodeCharset(cs, data)
		p.warn(w)
		if g := bodyGuess(cs, data); g != "" {
			p.msg.CharsetGuesses = append(p.msg.CharsetGuesses, "body "+path+": guessed "+g)
		}
		s = strings.ReplaceAll(s, "\r\n", "\n")
		dst := &p.text
		if mt == "text/html" {
			dst = &p.html
		}
		if dst.Len()+len(s) > p.opts.MaxBodyBytes {
			p.warn("body: " + mt + " over the size cap; later parts dropped")
			return nil
		}
		if dst.Len() > 0 && !strings.HasSuffix(dst.String(), "\n") {
			dst.WriteString("\n")
		}
		dst.WriteString(s)
		return nil
	case mt == "message/disposition-notification" || mt == "message/feedback-report":
		p.partReportType(strings.TrimPrefix(mt, "message/"))
		return p.attachment(h, mt, filename, r, path)
	case mt == "message/delivery-status" || mt == "message/global-delivery-status":
		p.partReportType("delivery-status")
		data, _, err := readCapped(r, maxReportBytes)
		if err != nil {
			return err
		}
		if p.leaves != nil {
			p.leaves(path, mt, data)
		}
		if p.msg.DeliveryStatus == "" {
			p.msg.DeliveryStatus = strings.ReplaceAll(SafeString(data), "\r\n", "\n")
		}
		return nil
	case mt == "text/rfc822-headers" || mt == "message/rfc822-headers" || mt == "message/global-headers":
		data, _, err := readCapped(r, maxReportBytes)
		if err != nil {
			return err
		}
		if p.leaves != nil {
			p.leaves(path, mt, data)
		}
		if p.msg.OriginalHeaders == "" {
			p.msg.OriginalHeaders = strings.ReplaceAll(SafeString(data), "\r\n", "\n")
		}
		return nil
	case mt == "message/rfc822" || mt == "message/global":
		br := bufio.NewReaderSize(r, maxNestedHeader)
		block, nh := nestedHeader(br)
		if p.msg.OriginalHeaders == "" {
			p.msg.OriginalHeaders = block
		}
		if filename == "" {
			filename = cleanFilename(decodeWords(nh.get("Subject")))
			if filename == "" {
				filename = "message"
			}
			filename += ".eml"
		}
		return p.attachment(h, mt, filename, br, path)
	}
	return p.attachment(h, mt, filename, r, path)
}

// partReportType sets ReportType from a report part when the multipart/report
// did not name a known type.
func (p *parser) partReportType(t string) {
	switch p.msg.ReportType {
	case "delivery-status", "global-delivery-status", "disposition-notification", "feedback-report":
	default:
		p.msg.ReportType = t
	}
}

// nestedHeader returns the header block at the start of br (without
// consuming it) as safe text, and parsed.
func nestedHeader(br *bufio.Reader) (string, header) {
	peek, _ := br.Peek(maxNestedHeader)
	end := len(peek)
	for _, sep := range []string{"\r\n\r\n", "\n\n"} {
		if i := bytes.Index(peek, []byte(sep)); i >= 0 && i < end {
			end = i
		}
	}
	block := peek[:end]
	h, _, _, _ := readHeader(bufio.NewReader(bytes.NewReader(block)))
	return strings.ReplaceAll(SafeString(block), "\r\n", "\n"), h
}

func (p *parser) attachment(h header, mt, filename string, r io.Reader, path string) error {
	a := &Attachment{
		Filename:    filename,
		ContentType: mt,
		ContentID:   normalizeID(h.get("Content-Id")),
	}
	limited := r
	if p.opts.MaxAttachmentBytes >= 0 {
		limited = io.LimitReader(r, p.opts.MaxAttachmentBytes)
	}
	sum := sha256.New()
	cw := &countWriter{}
	tee := io.TeeReader(limited, io.MultiWriter(sum, cw))
	if p.opts.AttachmentSink != nil {
		if err := p.opts.AttachmentSink(a, tee); err != nil {
			return fmt.Errorf("mail: attachment sink: %w", err)
		}
		if _, err := io.Copy(io.Discard, tee); err != nil {
			return err
		}
	} else {
		b, err := io.ReadAll(tee)
		if err != nil {
			return err
		}
		a.Content = b
	}
	if p.leaves != nil && a.Content != nil {
		p.leaves(path, mt, a.Content)
	}
	extra, err := io.Copy(io.Discard, r)
	if err != nil {
		return err
	}
	if extra > 0 {
		a.Truncated = true
		p.warn(fmt.Sprintf("attachment: %q longer than %d bytes; truncated", a.Filename, p.opts.MaxAttachmentBytes))
	}
	a.Size = cw.n
	a.SHA256 = hex.EncodeToString(sum.Sum(nil))
	p.msg.Attachments = append(p.msg.Attachments, a)
	return nil
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(b []byte) (int, error) {
	c.n += int64(len(b))
	return len(b), nil
}

// readCapped reads up to max bytes and discards the rest, reporting whether
// there was more.
func readCapped(r io.Reader, max int) ([]byte, bool, error) {
	b, err := io.ReadAll(io.LimitReader(r, int64(max)))
	if err != nil {
		return b, false, err
	}
	n, err := io.Copy(io.Discard, r)
	return b, n > 0, err
}

var metaCharsetRe = regexp.MustCompile(`(?i)<meta[^>]+charset\s*=\s*["']?([a-z0-9_\-:.]+)`)

func metaCharset(b []byte) string {
	if len(b) > 4096 {
		b = b[:4096]
	}
	if m := metaCharsetRe.FindSubmatch(b); m != nil {
		return string(m[1])
	}
	return ""
}

// cleanFilename keeps the last path element and drops control characters.
func cleanFilename(s string) string {
	if i := strings.LastIndexAny(s, `/\`); i >= 0 {
		s = s[i+1:]
	}
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if s == "." || s == ".." {
		return ""
	}
	return s
}

func (p *parser) finish() {
	m := p.msg
	m.Text = p.text.String()
	m.HTML = p.html.String()
	if m.Text == "" && m.HTML != "" {
		m.Text = htmlToText(m.HTML)
		m.TextFromHTML = true
	}
	lower := strings.ToLower(m.HTML)
	for _, a := range m.Attachments {
		if a.ContentID != "" && strings.Contains(lower, "cid:"+strings.ToLower(a.ContentID)) {
			a.Inline = true
		}
	}
	for _, l := range []*[]Address{&m.To, &m.Cc, &m.ReplyTo} {
		if *l == nil {
			*l = []Address{}
		}
	}
	for _, l := range []*[]string{&m.InReplyTo, &m.References, &m.Warnings} {
		if *l == nil {
			*l = []string{}
		}
	}
	if m.Attachments == nil {
		m.Attachments = []*Attachment{}
	}
	if m.MessageID == "" {
		m.MessageID = syntheticID(m)
		m.SyntheticMessageID = true
		if m.MessageIDAlias == "" {
			m.Warnings = append(m.Warnings, "header: no Message-ID; synthetic id "+m.MessageID)
		}
	}
}

// syntheticID derives a stable id from what stays the same when one message
// is delivered twice: sender, date, subject, recipients and content.
func syntheticID(m *Message) string {
	h := sha256.New()
	if m.MessageIDAlias != "" {
		// A malformed id: the id and what a relay never changes (not the
		// body or recipients, which lists and aliases may rewrite), so a
		// second delivery of the mail is recognised.
		io.WriteString(h, m.MessageIDAlias)
		for _, k := range []string{"From", "Date", "Subject"} {
			for _, v := range m.Header[k] {
				io.WriteString(h, v)
			}
			h.Write([]byte{0})
		}
		return hex.EncodeToString(h.Sum(nil))[:32] + "@" + SyntheticIDDomain
	}
	for _, k := range []string{"From", "Date", "Subject", "To", "Cc"} {
		for _, v := range m.Header[k] {
			io.WriteString(h, v)
		}
		h.Write([]byte{0})
	}
	for _, s := range []string{m.Text, m.HTML} {
		if len(s) > 16<<10 {
			s = s[:16<<10]
		}
		io.WriteString(h, s)
		h.Write([]byte{0})
	}
	for _, a := range m.Attachments {
		io.WriteString(h, a.SHA256)
	}
	return hex.EncodeToString(h.Sum(nil))[:32] + "@" + SyntheticIDDomain
}
