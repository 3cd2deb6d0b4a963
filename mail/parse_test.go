package mail

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/helpdesk/helpdesk/threading"
)

func parseTestdata(t *testing.T, name string) *Message {
	t.Helper()
	return parseFile(t, filepath.Join("testdata", name))
}

func hasWarning(m *Message, substr string) bool {
	for _, w := range m.Warnings {
		if strings.Contains(w, substr) {
			return true
		}
	}
	return false
}

func TestParse_ClientReplies(t *testing.T) {
	tests := []struct {
		file       string
		from       Address
		subject    string
		messageID  string
		inReplyTo  []string
		textPrefix string
		hasHTML    bool
	}{
		{
			file:       "gmail-reply.eml",
			from:       Address{Name: "Jane Doe", Address: "Jane.Doe@gmail.com"},
			subject:    "Re: [Case #1234] Printer is offline",
			messageID:  "CAKx2mZ4u7-pQ5d0R8yXh4kE9w@mail.gmail.com",
			inReplyTo:  []string{"case-1234.0.7f3a@helpdesk.example.com"},
			textPrefix: "Thanks, it works again after the restart.\n\nOn Mon, Mar 11, 2024 at 5:02\u202fPM Support",
			hasHTML:    true,
		},
		{
			file:       "outlook-reply-korean.eml",
			from:       Address{Address: "chulsoo.kim@example.co.kr"},
			subject:    "회신: 견적 문의 드립니다",
			messageID:  "KR1P153MB01230E1A2B3C4D5E6F7A8B9C0D1E2F3A4B@KR1P153MB0123.APCP153.PROD.OUTLOOK.COM",
			inReplyTo:  []string{"case-77.1.aa@helpdesk.example.com"},
			textPrefix: "안녕하세요,\n\n견적서 잘 받았습니다. 감사합니다.",
			hasHTML:    true,
		},
		{
			file:       "apple-mail-reply.eml",
			from:       Address{Name: "Tom Example", Address: "tom@example.org"},
			subject:    "Re: Invoice question",
			messageID:  "6E5F1A2B-3C4D-4E5F-8A9B-0C1D2E3F4A5B@example.org",
			inReplyTo:  []string{"case-5.2.bb@helpdesk.example.com"},
			textPrefix: "Yes, the address is correct – thank you.",
			hasHTML:    true,
		},
		{
			file:       "iphone-reply.eml",
			from:       Address{Name: "Mia Lee", Address: "mia@example.net"},
			subject:    "Re: Your ticket",
			messageID:  "A1B2C3D4-E5F6-4711-8899-AABBCCDDEEFF@example.net",
			inReplyTo:  []string{"case-9.3.cc@helpdesk.example.com"},
			textPrefix: "Still broken, sorry.\n\nSent from my iPhone",
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			m := parseTestdata(t, tt.file)
			if tt.from.Name != "" && m.From != tt.from || m.From.Address != tt.from.Address {
				t.Errorf("From = %+v, want %+v", m.From, tt.from)
			}
			if m.Subject != tt.subject {
				t.Errorf("Subject = %q, want %q", m.Subject, tt.subject)
			}
			if m.MessageID != tt.messageID || m.SyntheticMessageID {
				t.Errorf("MessageID = %q (synthetic %v), want %q", m.MessageID, m.SyntheticMessageID, tt.messageID)
			}
			if !reflect.DeepEqual(m.InReplyTo, tt.inReplyTo) || !reflect.DeepEqual(m.References, tt.inReplyTo) {
				t.Errorf("InReplyTo = %q, References = %q, want %q", m.InReplyTo, m.References, tt.inReplyTo)
			}
			if !strings.HasPrefix(m.Text, tt.textPrefix) {
				t.Errorf("Text = %q, want prefix %q", m.Text, tt.textPrefix)
			}
			if (m.HTML != "") != tt.hasHTML {
				t.Errorf("HTML = %q, want present: %v", m.HTML, tt.hasHTML)
			}
			if len(m.Warnings) != 0 {
				t.Errorf("unexpected warnings %q", m.Warnings)
			}
			if c := threading.Classify(m.ClassifyInput()); c.Class != threading.ClassHuman {
				t.Errorf("Classify = %+v, want human", c)
			}
		})
	}
}

func TestParse_AddressDomainIsLowerCasedAndCanonicalIsAllLower(t *testing.T) {
	m := parseTestdata(t, "gmail-reply.eml")
	if m.From.Address != "Jane.Doe@gmail.com" {
		t.Errorf("From.Address = %q, want local part kept and domain lower-cased", m.From.Address)
	}
	if got := m.From.Canonical(); got != "jane.doe@gmail.com" {
		t.Errorf("Canonical() = %q", got)
	}
	if len(m.DeliveredTo) != 1 || m.DeliveredTo[0].Address != "support@example.com" {
		t.Errorf("DeliveredTo = %+v", m.DeliveredTo)
	}
}

func TestParse_OutlookThreadIndexIsKeptInHeader(t *testing.T) {
	m := parseTestdata(t, "outlook-reply-korean.eml")
	if got := m.Header["Thread-Index"]; len(got) != 1 || got[0] != "AQHadRHQt2mF4Cq2Ak2Ue5J0Vh3xCLE2vCOA" {
		t.Errorf("Header[Thread-Index] = %q", got)
	}
}

func TestParse_KoreanOutlookOutOfOfficeIsAutoReply(t *testing.T) {
	m := parseTestdata(t, "outlook-ooo-korean.eml")
	if m.Subject != "자동 회신: 견적 문의 드립니다" {
		t.Errorf("Subject = %q", m.Subject)
	}
	if !strings.HasPrefix(m.Text, "3월 20일까지 휴가입니다.") {
		t.Errorf("Text = %q", m.Text)
	}
	c := threading.Classify(m.ClassifyInput())
	if c.Class != threading.ClassAutoReply {
		t.Errorf("Classify = %+v, want auto-reply", c)
	}
}

func TestParse_MalformedInputDegradesWithWarning(t *testing.T) {
	tests := []struct {
		file    string
		warning string
		check   func(t *testing.T, m *Message)
	}{
		{"header-without-colon.eml", "malformed line skipped", func(t *testing.T, m *Message) {
			if m.MessageID != "broken-1@example.com" || m.Text != "The body survives.\n" {
				t.Errorf("fields after the bad line lost: id %q text %q", m.MessageID, m.Text)
			}
			if m.Date.IsZero() {
				t.Error("Date after the bad line lost")
			}
		}},
		{"multipart-without-boundary.eml", "without boundary", func(t *testing.T, m *Message) {
			if m.Text != "First part text." {
				t.Errorf("Text = %q", m.Text)
			}
			if len(m.Attachments) != 1 || !bytes.Equal(m.Attachments[0].Content, []byte{0, 1, 2, 3, 4}) {
				t.Errorf("Attachments = %+v", m.Attachments)
			}
		}},
		{"unknown-transfer-encoding.eml", "unknown x-mystery", func(t *testing.T, m *Message) {
			if m.Text != "Plain words under a strange label.\n" {
				t.Errorf("Text = %q", m.Text)
			}
		}},
		{"undeclared-euc-kr.eml", "decoded as euc-kr", func(t *testing.T, m *Message) {
			if m.Subject != "문의: 로그인이 안 됩니다" {
				t.Errorf("Subject = %q", m.Subject)
			}
			if m.Text != "비밀번호를 바꿨는데도 로그인이 되지 않습니다.\n" {
				t.Errorf("Text = %q", m.Text)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			m := parseTestdata(t, tt.file)
			if !hasWarning(m, tt.warning) {
				t.Errorf("warnings %q lack %q", m.Warnings, tt.warning)
			}
			tt.check(t, m)
		})
	}
}

func TestParse_NulBytesAreRemoved(t *testing.T) {
	m := parseTestdata(t, "nul-byte.eml")
	if m.Subject != "Nul inside" || m.Text != "beforeafter\n" {
		t.Errorf("Subject %q Text %q", m.Subject, m.Text)
	}
}

func TestParse_RFC2231KoreanFilename(t *testing.T) {
	m := parseTestdata(t, "rfc2231-korean-filename.eml")
	if len(m.Attachments) != 1 {
		t.Fatalf("Attachments = %+v", m.Attachments)
	}
	a := m.Attachments[0]
	if a.Filename != "견적서.pdf" || a.ContentType != "application/pdf" || string(a.Content) != "%PDF-1.4\n" {
		t.Errorf("attachment = %+v", a)
	}
	sum := sha256.Sum256([]byte("%PDF-1.4\n"))
	if a.SHA256 != hex.EncodeToString(sum[:]) || a.Size != 9 {
		t.Errorf("SHA256 %s Size %d", a.SHA256, a.Size)
	}
}

func TestParse_InlineMeansReferencedByContentIDWhateverTheDisposition(t *testing.T) {
	m := parseTestdata(t, "inline-image-as-attachment.eml")
	if len(m.Attachments) != 2 {
		t.Fatalf("Attachments = %+v", m.Attachments)
	}
	referenced, unreferenced := m.Attachments[0], m.Attachments[1]
	if !referenced.Inline || referenced.ContentID != "image001.png@01DA7A1B.2C3D4E50" {
		t.Errorf("disposition attachment but referenced by cid: %+v", referenced)
	}
	if unreferenced.Inline {
		t.Errorf("disposition inline but not referenced: %+v", unreferenced)
	}
	if !strings.Contains(m.Text, "See the error:") {
		t.Errorf("Text from HTML = %q", m.Text)
	}
}

func TestParse_NestedMessageIsAnAttachmentNamedAfterItsSubject(t *testing.T) {
	m := parseTestdata(t, "nested-rfc822.eml")
	if m.Text != "Forwarding the customer's mail as attachment." {
		t.Errorf("Text = %q", m.Text)
	}
	if len(m.Attachments) != 1 {
		t.Fatalf("Attachments = %+v", m.Attachments)
	}
	a := m.Attachments[0]
	if a.ContentType != "message/rfc822" || a.Filename != "Beschädigte Lieferung.eml" {
		t.Errorf("attachment = %+v", a)
	}
	if !bytes.Contains(a.Content, []byte("The parcel arrived damaged.")) {
		t.Errorf("nested message content lost: %q", a.Content)
	}
	if !strings.Contains(m.OriginalHeaders, "Message-ID: <orig-9@example.net>") {
		t.Errorf("OriginalHeaders = %q", m.OriginalHeaders)
	}
}

func TestParse_TextIsDerivedFromHTMLOnlyWhenThereIsNoTextPart(t *testing.T) {
	m := parseTestdata(t, "gmail-reply.eml")
	if strings.Contains(m.Text, "<div") || !strings.HasPrefix(m.Text, "Thanks, it works") {
		t.Errorf("Text = %q", m.Text)
	}
}

func TestParse_ReferencesWithGarbageKeepEveryID(t *testing.T) {
	tests := []struct {
		name, value string
		want        []string
	}{
		{"garbage between ids", "<a@x> junk, (comment) <b@y>\t<c@z>", []string{"a@x", "b@y", "c@z"}},
		{"unterminated id before good ones", "<broken@x <b@y> <c@z>", []string{"b@y", "c@z"}},
		{"bare ids without brackets", "a@x b@y,c@z", []string{"a@x", "b@y", "c@z"}},
		{"white space inside brackets", "< a@x >\r\n <b@\r\n y>", []string{"a@x", "b@y"}},
		{"duplicates dropped", "<a@x> <a@x> <b@y>", []string{"a@x", "b@y"}},
		// A bracketed id without "@" names a malformed Message-ID: it maps to
		// the same stand-in the Message-ID was stored under.
		{"bracketed id without @ kept as its stand-in", "<notanid> <a@x>", []string{"notanid@" + MalformedIDDomain, "a@x"}},
		{"bare tokens without @ ignored", "notanid a@x", []string{"a@x"}},
		{"empty", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseIDs(tt.value); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parseIDs(%q) = %q, want %q", tt.value, got, tt.want)
			}
		})
	}
}

func TestParse_MissingMessageIDGetsStableSyntheticID(t *testing.T) {
	raw := "From: a@example.com\r\nSubject: hi\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n\r\nbody\r\n"
	// The same mail delivered twice: different trace fields.
	raw2 := "Received: from relay2\r\n" + raw
	other := strings.Replace(raw, "body", "other body", 1)
	id := func(s string) string {
		m, err := Parse(strings.NewReader(s), ParseOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !m.SyntheticMessageID || !strings.HasSuffix(m.MessageID, "@"+SyntheticIDDomain) {
			t.Fatalf("MessageID = %q, synthetic %v", m.MessageID, m.SyntheticMessageID)
		}
		return m.MessageID
	}
	if id(raw) != id(raw2) {
		t.Error("same message delivered twice got different synthetic ids")
	}
	if id(raw) == id(other) {
		t.Error("different messages got the same synthetic id")
	}
}

func TestParse_KoreanAndJapaneseCorpusMessagesDecode(t *testing.T) {
	dir := filepath.Join(corpusDir(t, "mikel-mail"), "spec/fixtures/emails")
	tests := []struct {
		file, subject, textPrefix string
	}{
		{"multi_charset/ks_c_5601-1987.eml", "test", "스티해"},
		{"plain_emails/raw_email.eml", "NOTE: 한국말로 하는 것", "대부분의 마찬가지로, 우리는 하나님을 믿습니다.\n\n제 이름은 Jamis입니다."},
		{"multi_charset/japanese_iso_2022.eml", "まみむめも", "すみません。"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			m := parseFile(t, filepath.Join(dir, tt.file))
			if m.Subject != tt.subject {
				t.Errorf("Subject = %q, want %q", m.Subject, tt.subject)
			}
			if !strings.HasPrefix(m.Text, tt.textPrefix) {
				t.Errorf("Text = %q, want prefix %q", m.Text, tt.textPrefix)
			}
		})
	}
}

func TestParse_JapaneseISO2022JPSubjectInSisimai(t *testing.T) {
	// "ニャーン" ("Nyaan") in an ISO-2022-JP encoded word.
	raw := "From: a@example.jp\r\nSubject: =?iso-2022-jp?B?GyRCJUslYyE8JXMbKEI=?=\r\n\r\n\x1b$B$3$s$K$A$O\x1b(B\r\n"
	m, err := Parse(strings.NewReader(raw), ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "ニャーン" {
		t.Errorf("Subject = %q", m.Subject)
	}
	if m.Text != "こんにちは\n" {
		t.Errorf("undeclared ISO-2022-JP text = %q", m.Text)
	}
}

func TestParse_BareCRLineEndings(t *testing.T) {
	raw := "From: a@example.com\rSubject: old mac\rContent-Type: text/plain\r\rline one\rline two\r"
	m, err := Parse(strings.NewReader(raw), ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "old mac" || m.Text != "line one\nline two\n" {
		t.Errorf("Subject %q Text %q", m.Subject, m.Text)
	}
}

func TestParse_ReadErrorIsReturned(t *testing.T) {
	boom := errors.New("connection reset")
	r := io.MultiReader(strings.NewReader("From: a@example.com\r\nSubject: x\r\n\r\nsome"), iotest.ErrReader(boom))
	if _, err := Parse(r, ParseOptions{}); !errors.Is(err, boom) {
		t.Errorf("err = %v, want %v", err, boom)
	}
}

func TestParse_SinkErrorAbortsParse(t *testing.T) {
	full := errors.New("disk full")
	_, err := Parse(bytes.NewReader(mustRead(t, "testdata/rfc2231-korean-filename.eml")), ParseOptions{
		AttachmentSink: func(*Attachment, io.Reader) error { return full },
	})
	if !errors.Is(err, full) {
		t.Errorf("err = %v, want %v", err, full)
	}
}

func TestParse_AttachmentOverCapIsTruncatedWithWarning(t *testing.T) {
	m, err := Parse(bytes.NewReader(mustRead(t, "testdata/rfc2231-korean-filename.eml")), ParseOptions{MaxAttachmentBytes: 4})
	if err != nil {
		t.Fatal(err)
	}
	a := m.Attachments[0]
	if !a.Truncated || string(a.Content) != "%PDF" || a.Size != 4 || !hasWarning(m, "truncated") {
		t.Errorf("attachment = %+v, warnings %q", a, m.Warnings)
	}
}

func TestParse_BodyOverCapIsTruncatedWithWarning(t *testing.T) {
	raw := "From: a@example.com\r\n\r\n" + strings.Repeat("x", 100)
	m, err := Parse(strings.NewReader(raw), ParseOptions{MaxBodyBytes: 10})
	if err != nil {
		t.Fatal(err)
	}
	if m.Text != strings.Repeat("x", 10) || !hasWarning(m, "truncated") {
		t.Errorf("Text %q warnings %q", m.Text, m.Warnings)
	}
}

func TestParse_JSONHasTheContractKeys(t *testing.T) {
	m := parseTestdata(t, "gmail-reply.eml")
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"message_id", "from", "to", "cc", "reply_to", "subject", "date", "in_reply_to", "references", "text", "html", "attachments", "warnings"} {
		if _, ok := got[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	if got["date"] != m.Date.Format(time.RFC3339) {
		t.Errorf("date = %v", got["date"])
	}
}

func TestDecodeCharset_WrongDeclaredCharsetFallsBack(t *testing.T) {
	tests := []struct {
		name, label string
		in          []byte
		want        string
	}{
		{"utf-8 declared as euc-kr", "euc-kr", []byte("안녕하세요"), "안녕하세요"},
		{"euc-kr declared as utf-8", "utf-8", []byte{0xbe, 0xc8, 0xb3, 0xe7}, "안녕"},
		{"latin-1 undeclared", "", []byte("caf\xe9"), "café"},
		{"latin-1 that is also a CP949 extension pair", "", []byte("Dij\x8aat"), "DijŠat"},
		{"unknown charset label", "x-klingon", []byte("plain"), "plain"},
		{"ks_c_5601-1987 alias", "ks_c_5601-1987", []byte{0xbe, 0xc8, 0xb3, 0xe7}, "안녕"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, _ := decodeCharset(tt.label, tt.in); got != tt.want {
				t.Errorf("decodeCharset(%q, %q) = %q, want %q", tt.label, tt.in, got, tt.want)
			}
		})
	}
}

func TestDecodeWords_SplitMultibyteAcrossWords(t *testing.T) {
	// "한글" in UTF-8 split in the middle of a character across two words.
	v := "=?UTF-8?Q?=ED=95=9C=EA?= =?UTF-8?Q?=B8=80?= ok"
	if got := decodeWords(v); got != "한글 ok" {
		t.Errorf("decodeWords = %q", got)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCanonicalMsgID_MalformedIdsGetStableStandIns(t *testing.T) {
	long := strings.Repeat("x", 2048) + "@acme.example"
	tests := []struct {
		name, in, want string
	}{
		{"valid kept", "<a.b@acme.example>", "a.b@acme.example"},
		{"domain literal kept", "<a@[127.0.0.1]>", "a@[127.0.0.1]"},
		{"no @ gets the malformed domain", "<abc123>", "abc123@" + MalformedIDDomain},
		{"spaces and NUL dropped", "<a b\x00c@acme.example>", "abc@acme.example"},
		{"only @ is no id", "<@>", ""},
		{"empty is no id", "<>", ""},
		{"quoted local part hashed", `<"weird"@acme.example>`, CanonicalMsgID(`"weird"@acme.example`)},
		{"2 KB hashed", "<" + long + ">", CanonicalMsgID(long)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CanonicalMsgID(tt.in)
			if got != tt.want {
				t.Fatalf("CanonicalMsgID(%.40q) = %q, want %q", tt.in, got, tt.want)
			}
			if got != "" && !validMsgID(got) {
				t.Fatalf("%q is not a valid msg-id", got)
			}
			if got != "" && CanonicalMsgID(got) != got {
				t.Fatalf("not idempotent: %q -> %q", got, CanonicalMsgID(got))
			}
		})
	}
	if a, b := CanonicalMsgID("<"+long+">"), CanonicalMsgID("<"+long[1:]+">"); a == b || len(a) > maxMsgIDLen {
		t.Fatalf("hashed ids must differ per id and be short: %q %q", a, b)
	}
}

func TestParse_MalformedMessageIDKeepsTheOriginalAndRepliesMatchIt(t *testing.T) {
	orig, err := Parse(strings.NewReader("From: a@acme.example\r\nMessage-ID: <abc123>\r\nSubject: x\r\n\r\nbody\r\n"), ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	reply, err := Parse(strings.NewReader("From: b@acme.example\r\nMessage-ID: <r@acme.example>\r\nIn-Reply-To: <abc123>\r\nReferences: <abc123>\r\nSubject: Re: x\r\n\r\nbody\r\n"), ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if orig.OriginalMessageID != "<abc123>" || !orig.SyntheticMessageID || orig.MessageIDAlias != "abc123@"+MalformedIDDomain {
		t.Fatalf("original %q synthetic %v alias %q", orig.OriginalMessageID, orig.SyntheticMessageID, orig.MessageIDAlias)
	}
	if len(reply.InReplyTo) != 1 || reply.InReplyTo[0] != orig.MessageIDAlias || reply.References[0] != orig.MessageIDAlias {
		t.Fatalf("reply names %v / %v, the original's alias is %s", reply.InReplyTo, reply.References, orig.MessageIDAlias)
	}
	// Another mail with the same broken id is another message.
	other, err := Parse(strings.NewReader("From: a@acme.example\r\nMessage-ID: <abc123>\r\nSubject: y\r\n\r\nother body\r\n"), ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if other.MessageID == orig.MessageID || other.MessageIDAlias != orig.MessageIDAlias {
		t.Fatalf("two mails with one broken id: %s / %s", orig.MessageID, other.MessageID)
	}
}

func TestParse_SubjectIsOneLineAndCapped(t *testing.T) {
	tests := []struct {
		name, subject, want string
	}{
		{"encoded CRLF unfolded", "=?utf-8?Q?line1=0D=0ABcc:_x@evil.example?=", "line1 Bcc: x@evil.example"},
		{"tabs and NUL", "a\tb\x00c", "a bc"},
		{"folded", "first\r\n second", "first second"},
		{"line separator", "=?utf-8?B?" + base64.StdEncoding.EncodeToString([]byte("a\u2028b")) + "?=", "a b"},
		{"capped", strings.Repeat("가", 1500), strings.Repeat("가", MaxSubjectRunes)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse(strings.NewReader("From: a@acme.example\r\nSubject: "+tt.subject+"\r\nMessage-ID: <s@acme.example>\r\n\r\nbody\r\n"), ParseOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if m.Subject != tt.want {
				t.Fatalf("Subject = %.80q, want %.80q", m.Subject, tt.want)
			}
		})
	}
}

func TestParse_MessageIDInOurReservedDomainsIsTreatedAsMalformed(t *testing.T) {
	for _, id := range []string{"abc123@" + MalformedIDDomain, "0123456789abcdef0123456789abcdef@" + SyntheticIDDomain} {
		m, err := Parse(strings.NewReader("From: a@acme.example\r\nMessage-ID: <"+id+">\r\nSubject: x\r\n\r\nbody\r\n"), ParseOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if m.MessageID == id || m.MessageIDAlias == id || m.MessageIDAlias == "" {
			t.Fatalf("<%s> stored as %s alias %s: a sender could claim one of our made-up ids", id, m.MessageID, m.MessageIDAlias)
		}
	}
}

func TestParse_MalformedIDSurvivesARelayRewritingRecipientsOrFooter(t *testing.T) {
	a, _ := Parse(strings.NewReader("From: a@acme.example\r\nTo: x@acme.example\r\nDate: Fri, 20 Nov 2026 15:00:00 +0900\r\nMessage-ID: <abc123>\r\nSubject: x\r\n\r\nbody\r\n"), ParseOptions{})
	b, _ := Parse(strings.NewReader("From: a@acme.example\r\nTo: list@acme.example\r\nDate: Fri, 20 Nov 2026 15:00:00 +0900\r\nMessage-ID: <abc123>\r\nSubject: x\r\n\r\nbody\r\n--\r\nlist footer\r\n"), ParseOptions{})
	if a.MessageID != b.MessageID {
		t.Fatalf("two copies of one mail: %s / %s", a.MessageID, b.MessageID)
	}
}
