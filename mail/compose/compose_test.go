package compose

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/textproto"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
)

var kst = time.FixedZone("KST", 9*3600)

func baseMessage() *Message {
	return &Message{
		From:      Address{Name: "김민수 via 지원팀", Address: "support@example.com"},
		To:        []Address{{Name: "이영희", Address: "younghee@example.co.kr"}},
		Subject:   "[Case #1234] 로그인이 되지 않습니다",
		MessageID: "hd.abc123@example.com",
		Date:      time.Date(2025, 3, 1, 10, 30, 0, 0, kst),
		Text:      "안녕하세요,\n문의하신 내용을 확인했습니다.",
	}
}

// leaf is a decoded non-multipart entity.
type leaf struct {
	mediaType   string
	params      map[string]string
	disposition string
	filename    string
	contentID   string
	body        []byte
}

type decoded struct {
	header mail.Header
	shape  string // e.g. multipart/mixed(text/plain,application/pdf)
	leaves []leaf
}

// decode parses raw with go-message, the way a receiving client would.
func decode(t *testing.T, raw []byte) decoded {
	t.Helper()
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("message.Read: %v", err)
	}
	var d decoded
	d.header = mail.Header{Header: e.Header}
	d.shape = walk(t, e, &d.leaves)
	return d
}

func walk(t *testing.T, e *message.Entity, leaves *[]leaf) string {
	t.Helper()
	mediaType, params, err := e.Header.ContentType()
	if err != nil {
		t.Fatalf("Content-Type: %v", err)
	}
	if mr := e.MultipartReader(); mr != nil {
		var kids []string
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil && !message.IsUnknownCharset(err) {
				t.Fatalf("NextPart: %v", err)
			}
			kids = append(kids, walk(t, p, leaves))
		}
		return mediaType + "(" + strings.Join(kids, ",") + ")"
	}
	body, err := io.ReadAll(e.Body)
	if err != nil {
		t.Fatalf("reading %s body: %v", mediaType, err)
	}
	disp, dparams, _ := e.Header.ContentDisposition()
	cid := strings.Trim(e.Header.Get("Content-Id"), "<>")
	*leaves = append(*leaves, leaf{mediaType, params, disp, dparams["filename"], cid, body})
	return mediaType
}

func crlf(s string) string {
	return strings.ReplaceAll(s, "\n", "\r\n")
}

func TestBytes_Shapes(t *testing.T) {
	pdf := Attachment{Filename: "견적서 2025.pdf", ContentType: "application/pdf", Content: []byte("%PDF-1.4\x00\xff binary")}
	logo := Attachment{Filename: "logo.png", ContentType: "image/png", Content: []byte("\x89PNG\r\n\x1a\n"), ContentID: "logo.1@example.com"}
	html := `<p>안녕하세요 <img src="cid:logo.1@example.com"></p>`

	tests := []struct {
		name      string
		edit      func(m *Message)
		wantShape string
	}{
		{"text only is a single text/plain entity", func(m *Message) {}, "text/plain"},
		{"HTML only is a single text/html entity", func(m *Message) { m.Text, m.HTML = "", html }, "text/html"},
		{"text and HTML are alternatives, text first", func(m *Message) { m.HTML = html },
			"multipart/alternative(text/plain,text/html)"},
		{"attachments follow the body in multipart/mixed", func(m *Message) {
			m.HTML = html
			m.Attachments = []Attachment{pdf}
		}, "multipart/mixed(multipart/alternative(text/plain,text/html),application/pdf)"},
		{"text with an attachment", func(m *Message) { m.Attachments = []Attachment{pdf} },
			"multipart/mixed(text/plain,application/pdf)"},
		{"inline parts are related to the HTML", func(m *Message) {
			m.Text, m.HTML = "", html
			m.Attachments = []Attachment{logo}
		}, "multipart/related(text/html,image/png)"},
		{"everything", func(m *Message) {
			m.HTML = html
			m.Attachments = []Attachment{pdf, logo}
		}, "multipart/mixed(multipart/alternative(text/plain,multipart/related(text/html,image/png)),application/pdf)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := baseMessage()
			tt.edit(m)
			raw, err := m.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			d := decode(t, raw)
			if d.shape != tt.wantShape {
				t.Fatalf("shape = %s, want %s", d.shape, tt.wantShape)
			}
			atts := map[string]Attachment{}
			for _, a := range m.Attachments {
				atts[a.Filename] = a
			}
			for _, l := range d.leaves {
				switch {
				case l.mediaType == "text/plain" && l.disposition == "":
					if string(l.body) != crlf(m.Text) {
						t.Errorf("text body = %q, want %q", l.body, crlf(m.Text))
					}
					if l.params["charset"] != "utf-8" {
						t.Errorf("text charset = %q", l.params["charset"])
					}
				case l.mediaType == "text/html":
					if string(l.body) != m.HTML {
						t.Errorf("HTML body = %q, want %q", l.body, m.HTML)
					}
				default:
					a, ok := atts[l.filename]
					if !ok {
						t.Fatalf("unexpected part %s with filename %q", l.mediaType, l.filename)
					}
					if !bytes.Equal(l.body, a.Content) {
						t.Errorf("%s content = %q, want %q", a.Filename, l.body, a.Content)
					}
					wantDisp := "attachment"
					if a.ContentID != "" {
						wantDisp = "inline"
					}
					if l.disposition != wantDisp || l.contentID != a.ContentID {
						t.Errorf("%s: disposition %q, Content-ID %q; want %q, %q",
							a.Filename, l.disposition, l.contentID, wantDisp, a.ContentID)
					}
				}
			}
		})
	}
}

func TestBytes_HeadersRoundTripInKorean(t *testing.T) {
	m := baseMessage()
	m.To = append(m.To, Address{Address: "plain@example.org"}, Address{Name: `Kim, "Jay"`, Address: "jay@example.org"})
	m.Cc = []Address{{Name: "박지성 (리셀러)", Address: "reseller@partner.example"}}
	m.ReplyTo = []Address{{Name: "지원팀", Address: "support+v1.abc.def@example.com"}}
	m.InReplyTo = "CAB123@mail.gmail.com"
	m.References = []string{"first@a.example", "CAB123@mail.gmail.com"}
	m.Subject = "[Case #1234] 로그인이 되지 않습니다 — 비밀번호를 재설정해도 같은 오류가 계속 발생합니다 (긴급)"
	m.Headers = [][2]string{
		{"Auto-Submitted", "auto-generated"},
		{"X-Auto-Response-Suppress", "All"},
		{"X-Helpdesk-Loop", "example.com"},
		{"X-Helpdesk-Reason", "새 댓글이 등록되었습니다"},
	}
	raw, err := m.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	h := decode(t, raw).header

	if got, err := h.Subject(); err != nil || got != m.Subject {
		t.Errorf("Subject = %q, %v; want %q", got, err, m.Subject)
	}
	checkAddrs := func(field string, want []Address) {
		t.Helper()
		got, err := h.AddressList(field)
		if err != nil {
			t.Fatalf("%s: %v", field, err)
		}
		var gotA []Address
		for _, a := range got {
			gotA = append(gotA, Address{a.Name, a.Address})
		}
		if !slices.Equal(gotA, want) {
			t.Errorf("%s = %+v, want %+v", field, gotA, want)
		}
	}
	checkAddrs("From", []Address{m.From})
	checkAddrs("To", m.To)
	checkAddrs("Cc", m.Cc)
	checkAddrs("Reply-To", m.ReplyTo)
	if got, err := h.Date(); err != nil || !got.Equal(m.Date) {
		t.Errorf("Date = %v, %v; want %v", got, err, m.Date)
	}
	if got, err := h.MessageID(); err != nil || got != m.MessageID {
		t.Errorf("Message-ID = %q, %v", got, err)
	}
	if got, err := h.MsgIDList("In-Reply-To"); err != nil || !slices.Equal(got, []string{m.InReplyTo}) {
		t.Errorf("In-Reply-To = %q, %v", got, err)
	}
	if got, err := h.MsgIDList("References"); err != nil || !slices.Equal(got, m.References) {
		t.Errorf("References = %q, %v", got, err)
	}
	if got, err := h.Text("X-Helpdesk-Reason"); err != nil || got != "새 댓글이 등록되었습니다" {
		t.Errorf("X-Helpdesk-Reason = %q, %v", got, err)
	}

	// Each field exactly once, extra headers in the order given.
	var order []string
	fields := h.Fields()
	for fields.Next() {
		order = append(order, textproto.CanonicalMIMEHeaderKey(fields.Key()))
	}
	for _, k := range []string{"Date", "From", "To", "Cc", "Reply-To", "Subject", "Message-Id",
		"In-Reply-To", "References", "Mime-Version", "Content-Type", "Content-Transfer-Encoding",
		"Auto-Submitted", "X-Auto-Response-Suppress", "X-Helpdesk-Loop", "X-Helpdesk-Reason"} {
		if n := countOf(order, k); n != 1 {
			t.Errorf("%s appears %d times in %v", k, n, order)
		}
	}
	if n := countOf(order, "Bcc"); n != 0 {
		t.Errorf("Bcc present")
	}
	extras := slices.DeleteFunc(slices.Clone(order), func(k string) bool { return !strings.HasPrefix(k, "X-") && k != "Auto-Submitted" })
	if want := []string{"Auto-Submitted", "X-Auto-Response-Suppress", "X-Helpdesk-Loop", "X-Helpdesk-Reason"}; !slices.Equal(extras, want) {
		t.Errorf("extra headers in order %v, want %v", extras, want)
	}
}

func countOf(s []string, v string) int {
	n := 0
	for _, x := range s {
		if x == v {
			n++
		}
	}
	return n
}

func TestBytes_EveryLineEndsInCRLFAndFitsTheLimits(t *testing.T) {
	m := baseMessage()
	m.Text = strings.Repeat("A long English line without any breaks at all, ", 40) + "\nbare LF\rbare CR\r\nCRLF\n"
	m.HTML = "<p>" + strings.Repeat("한국어 ", 400) + "</p>"
	m.Subject = strings.Repeat("긴 제목 ", 60)
	m.From.Name = strings.Repeat("아주 긴 이름 ", 30)
	m.Attachments = []Attachment{{Filename: strings.Repeat("아주긴파일이름", 20) + ".txt", Content: bytes.Repeat([]byte{0, 1, 2, 255}, 1000)}}
	raw, err := m.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(bytes.ReplaceAll(raw, []byte("\r\n"), nil), []byte("\n")) ||
		bytes.Contains(bytes.ReplaceAll(raw, []byte("\r\n"), nil), []byte("\r")) {
		t.Fatal("output has a bare CR or LF")
	}
	for i, line := range bytes.Split(raw, []byte("\r\n")) {
		if len(line) > 78 {
			t.Errorf("line %d is %d octets (RFC 5322 recommends 78): %q", i+1, len(line), line)
		}
		for _, c := range line {
			if c >= 0x80 {
				t.Fatalf("line %d has 8-bit data: %q", i+1, line)
			}
		}
	}
	d := decode(t, raw)
	if got, _ := d.header.Subject(); got != m.Subject {
		t.Errorf("Subject = %q", got)
	}
	if d.leaves[0].mediaType != "text/plain" || string(d.leaves[0].body) != crlf(strings.ReplaceAll(strings.ReplaceAll(m.Text, "\r\n", "\n"), "\r", "\n")) {
		t.Errorf("text body with mixed line endings = %q", d.leaves[0].body)
	}
	if got := d.leaves[2].filename; got != m.Attachments[0].Filename {
		t.Errorf("long filename = %q", got)
	}
}

func TestBytes_FiftyReferencesStayParseable(t *testing.T) {
	m := baseMessage()
	for i := range 50 {
		m.References = append(m.References, fmt.Sprintf("CAFx%03d.a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6@mail.gmail.com", i))
	}
	raw, err := m.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	head, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	refLines := 0
	inRefs := false
	for _, line := range strings.Split(string(head), "\r\n") {
		if len(line) > 998 {
			t.Errorf("header line of %d octets", len(line))
		}
		if strings.HasPrefix(line, "References:") {
			inRefs = true
		} else if !strings.HasPrefix(line, " ") {
			inRefs = false
		}
		if inRefs {
			refLines++
		}
	}
	if refLines < 2 {
		t.Errorf("References folded onto %d line(s), want several", refLines)
	}
	h := decode(t, raw).header
	got, err := h.MsgIDList("References")
	if err != nil || !slices.Equal(got, m.References) {
		t.Fatalf("References = %d ids, %v; want the 50 given", len(got), err)
	}
}

func TestBytes_ChoosesTransferEncodingByContent(t *testing.T) {
	tests := []struct {
		text string
		want string
	}{
		{"Hello, your case was updated.\nSee you.\n", "7bit"},
		{strings.Repeat("x", 998) + "\nthe longest line RFC 5322 allows\n", "7bit"},
		{"Café crème: mostly ASCII text with an accent or two.", "quoted-printable"},
		{"안녕하세요, 문의하신 내용을 확인했습니다.", "base64"},
		{strings.Repeat("x", 999) + "\none octet too long for 7bit\n", "quoted-printable"},
		{"a line ending in a space \nthat a relay could strip", "quoted-printable"},
		{"a last line ending in a tab\t", "quoted-printable"},
		{"a NUL \x00 byte", "quoted-printable"},
		{"--=_hd_ could pass for our boundary", "quoted-printable"},
	}
	for _, tt := range tests {
		t.Run(tt.want+" for "+tt.text[:5], func(t *testing.T) {
			m := baseMessage()
			m.Text = tt.text
			raw, err := m.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			e, err := message.Read(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			if got := e.Header.Get("Content-Transfer-Encoding"); got != tt.want {
				t.Errorf("Content-Transfer-Encoding = %q, want %q", got, tt.want)
			}
			body, _ := io.ReadAll(e.Body)
			if want := strings.ReplaceAll(tt.text, "\n", "\r\n"); string(body) != want {
				t.Errorf("body = %q", body)
			}
		})
	}
}

// go-message's writer sends text parts in UTF-8 only: a text attachment in
// another charset keeps its bytes and name and goes out as a file to save.
func TestBytes_KeepsTheBytesOfATextAttachmentInAnotherCharset(t *testing.T) {
	m := baseMessage()
	eucKR := []byte{0xbe, 0xc8, 0xb3, 0xe7} // 안녕 in EUC-KR
	m.Attachments = []Attachment{{Filename: "log.txt", ContentType: "text/plain; charset=euc-kr", Content: eucKR}}
	raw, err := m.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	d := decode(t, raw) // no charset decoders registered: bytes come back as sent
	att := d.leaves[1]
	if att.mediaType != "application/octet-stream" || att.filename != "log.txt" || !bytes.Equal(att.body, eucKR) || att.disposition != "attachment" {
		t.Fatalf("attachment = %+v", att)
	}
}

func TestBytes_Refuses(t *testing.T) {
	tests := []struct {
		name      string
		edit      func(m *Message)
		injection bool
		wantErr   string
	}{
		{"CRLF in subject", func(m *Message) { m.Subject = "hi\r\nBcc: victim@example.org" }, true, "Subject"},
		{"LF in subject", func(m *Message) { m.Subject = "hi\nBcc: victim@example.org" }, true, "Subject"},
		{"CR in display name", func(m *Message) { m.From.Name = "Eve\rBcc: x@y" }, true, "From name"},
		{"LF in address", func(m *Message) { m.To[0].Address = "a@example.org\nBcc: x@y" }, true, "To address"},
		{"CRLF in extra header value", func(m *Message) { m.Headers = [][2]string{{"X-Helpdesk-Reason", "x\r\nBcc: y@z"}} }, true, "X-Helpdesk-Reason"},
		{"LF in extra header name", func(m *Message) { m.Headers = [][2]string{{"X-A\nBcc", "y@z"}} }, true, "header name"},
		{"CRLF in Message-ID", func(m *Message) { m.MessageID = "a@b\r\nBcc: y@z" }, true, "MessageID"},
		{"CRLF in In-Reply-To", func(m *Message) { m.InReplyTo = "a@b\r\nBcc: y@z" }, true, "InReplyTo"},
		{"CRLF in a reference", func(m *Message) { m.References = []string{"ok@b", "a@b\r\nBcc: y@z"} }, true, "References"},
		{"CRLF in filename", func(m *Message) { m.Attachments = []Attachment{{Filename: "a\r\nBcc: y@z", Content: []byte("x")}} }, true, "filename"},
		{"CRLF in attachment content type", func(m *Message) {
			m.Attachments = []Attachment{{Filename: "a", ContentType: "text/plain\r\nBcc: y@z", Content: []byte("x")}}
		}, true, "content type"},
		{"CRLF in Content-ID", func(m *Message) {
			m.HTML = "<p>x</p>"
			m.Attachments = []Attachment{{Filename: "a.png", ContentID: "a@b\r\nBcc: y@z", Content: []byte("x")}}
		}, true, "ContentID"},

		{"missing Date", func(m *Message) { m.Date = time.Time{} }, false, "Date is required"},
		{"missing Message-ID", func(m *Message) { m.MessageID = "" }, false, "MessageID is required"},
		{"no recipient", func(m *Message) { m.To = nil }, false, "no recipient"},
		{"no body", func(m *Message) { m.Text = "" }, false, "neither Text nor HTML"},
		{"empty From", func(m *Message) { m.From = Address{} }, false, "From: empty address"},
		{"address that does not parse", func(m *Message) { m.To[0].Address = "not an address" }, false, "invalid address"},
		{"display name smuggled into the address", func(m *Message) { m.To[0].Address = "Eve <eve@example.org>" }, false, "invalid address"},
		{"two addresses in one", func(m *Message) { m.To[0].Address = "a@example.org, b@example.org" }, false, "invalid address"},
		{"non-ASCII address", func(m *Message) { m.To[0].Address = "고객@example.kr" }, false, "not ASCII"},
		{"control character in subject", func(m *Message) { m.Subject = "a\x00b" }, false, "control character"},
		{"invalid UTF-8 in subject", func(m *Message) { m.Subject = "a\xffb" }, false, "invalid UTF-8"},
		{"Message-ID with angle brackets", func(m *Message) { m.MessageID = "<a@b>" }, false, "invalid message id"},
		{"Message-ID without @", func(m *Message) { m.MessageID = "abc" }, false, "left@right"},
		{"Message-ID with a space", func(m *Message) { m.MessageID = "a b@c" }, false, "invalid message id"},
		{"Message-ID too long to fit a header line", func(m *Message) { m.MessageID = strings.Repeat("a", 900) + "@b" }, false, "longer than"},
		{"reserved header in Headers", func(m *Message) { m.Headers = [][2]string{{"subject", "again"}} }, false, "set by the Message"},
		{"Bcc in Headers", func(m *Message) { m.Headers = [][2]string{{"Bcc", "x@y"}} }, false, "set by the Message"},
		{"Content-Type in Headers", func(m *Message) { m.Headers = [][2]string{{"Content-Type", "text/html"}} }, false, "set by the Message"},
		{"header name with a colon", func(m *Message) { m.Headers = [][2]string{{"X-A:B", "v"}} }, false, "invalid header name"},
		{"attachment without filename", func(m *Message) { m.Attachments = []Attachment{{Content: []byte("x")}} }, false, "no Filename"},
		{"malformed content type", func(m *Message) {
			m.Attachments = []Attachment{{Filename: "a", ContentType: "text/", Content: []byte("x")}}
		}, false, "content type"},
		{"multipart attachment", func(m *Message) {
			m.Attachments = []Attachment{{Filename: "a", ContentType: "multipart/mixed; boundary=x", Content: []byte("x")}}
		}, false, "cannot be sent"},
		{"inline part without HTML", func(m *Message) {
			m.Attachments = []Attachment{{Filename: "logo.png", ContentID: "logo@x", Content: []byte("x")}}
		}, false, "no HTML body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := baseMessage()
			tt.edit(m)
			raw, err := m.Bytes()
			if err == nil {
				t.Fatalf("no error; rendered:\n%s", raw)
			}
			if raw != nil {
				t.Error("bytes returned with an error")
			}
			if got := errors.Is(err, ErrHeaderInjection); got != tt.injection {
				t.Errorf("errors.Is(err, ErrHeaderInjection) = %v, want %v (err: %v)", got, tt.injection, err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %q, want it to mention %q", err, tt.wantErr)
			}
		})
	}
}

func TestEncodeText_WordsDecodeBackAndStayShort(t *testing.T) {
	for _, s := range []string{"plain ascii", "é", "로그인 오류 — 비밀번호", strings.Repeat("😀", 20)} {
		enc := encodeText(s, maxWordLen)
		for _, w := range strings.Fields(enc) {
			if len(w) > 75 {
				t.Errorf("encoded word of %d chars: %s", len(w), w)
			}
		}
		dec, err := new(mime.WordDecoder).DecodeHeader(enc)
		if err != nil || dec != s {
			t.Errorf("encodeText(%q) = %q decodes to %q, %v", s, enc, dec, err)
		}
	}
}

func TestBytes_TextBodiesAreCanonicalCRLF(t *testing.T) {
	for _, body := range []string{
		"English\nbare LF\rbare CR\r\nCRLF\n", // 7bit
		"한국어 본문\n줄바꿈\r캐리지 리턴\r\n정상 줄바꿈\n",     // base64
	} {
		t.Run(body[:5], func(t *testing.T) {
			m := baseMessage()
			m.Text = body
			raw, err := m.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			want := strings.NewReplacer("\r\n", "\r\n", "\r", "\r\n", "\n", "\r\n").Replace(body)
			if got := decode(t, raw).leaves[0].body; string(got) != want {
				t.Errorf("decoded body = %q, want %q", got, want)
			}
		})
	}
}

// BenchmarkBytes renders a typical notification: Korean text and HTML,
// threading headers and the automation headers.
func BenchmarkBytes(b *testing.B) {
	m := baseMessage()
	m.Text = strings.Repeat("안녕하세요, 문의하신 케이스가 업데이트되었습니다. Your case was updated.\n", 20)
	m.HTML = "<p>" + strings.Repeat("안녕하세요, 문의하신 케이스가 업데이트되었습니다. Your case was updated.<br>", 20) + "</p>"
	m.InReplyTo = "CAB123@mail.gmail.com"
	m.References = []string{"first@a.example", "CAB123@mail.gmail.com"}
	m.Headers = [][2]string{{"Auto-Submitted", "auto-generated"}, {"X-Auto-Response-Suppress", "All"}}
	b.ReportAllocs()
	for range b.N {
		if _, err := m.Bytes(); err != nil {
			b.Fatal(err)
		}
	}
}
