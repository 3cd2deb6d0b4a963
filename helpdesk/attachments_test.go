package helpdesk_test

import (
	"bytes"
	"context"
	"io"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset"

	"github.com/helpdesk/helpdesk/helpdesk"
	"github.com/helpdesk/helpdesk/helpdesk/pgtest"
	"github.com/helpdesk/helpdesk/templates"
	"github.com/helpdesk/helpdesk/threading"
)

const linkSecret = "test-secret-0123456789abcdef"

// withAgentFiles gives the ingester a notifier with this agent attach limit
// and, when base is set, download links under base.
func withAgentFiles(t testing.TB, limit int64, base string) func(*helpdesk.IngestConfig) {
	return func(cfg *helpdesk.IngestConfig) {
		tmpl, err := templates.New(templates.Options{})
		if err != nil {
			t.Fatal(err)
		}
		tokens, err := threading.NewTokens(linkSecret)
		if err != nil {
			t.Fatal(err)
		}
		var links *helpdesk.AttachmentLinks
		if base != "" {
			if links, err = helpdesk.NewAttachmentLinks(helpdesk.AttachmentLinksConfig{Secrets: []string{linkSecret}, BaseURL: base}); err != nil {
				t.Fatal(err)
			}
		}
		n, err := helpdesk.NewNotifier(helpdesk.NotifierConfig{Templates: tmpl, Tokens: tokens, SupportAddress: "support@example.com",
			Name: "Example Support", MessageIDDomain: "example.com", LoopID: loopID, AgentAddress: "agents@example.com",
			ManagerAddress: "boss@example.com", AgentAttachLimit: limit, Links: links})
		if err != nil {
			t.Fatal(err)
		}
		cfg.Notifier = n
	}
}

// mimePart is one leaf of a mail as a client reads it.
type mimePart struct {
	path, mediaType, disposition, filename, contentID string
	body                                              []byte
}

// mimeParts reads a mail with go-message, as a mail client would.
func mimeParts(t testing.TB, raw []byte) (root string, parts []mimePart) {
	t.Helper()
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("message.Read: %v", err)
	}
	root, _, _ = e.Header.ContentType()
	err = e.Walk(func(path []int, ent *message.Entity, err error) error {
		if err != nil {
			return err
		}
		mt, _, _ := ent.Header.ContentType()
		if strings.HasPrefix(mt, "multipart/") {
			parts = append(parts, mimePart{path: pathString(path), mediaType: mt})
			return nil
		}
		p := mimePart{path: pathString(path), mediaType: mt, contentID: strings.Trim(ent.Header.Get("Content-Id"), "<>")}
		if d, params, err := ent.Header.ContentDisposition(); err == nil {
			p.disposition, p.filename = d, params["filename"]
		}
		if p.body, err = io.ReadAll(ent.Body); err != nil {
			return err
		}
		parts = append(parts, p)
		return nil
	})
	if err != nil {
		t.Fatalf("walk: %v", err)
	}
	return root, parts
}

func pathString(p []int) string {
	var b strings.Builder
	for _, i := range p {
		b.WriteString(string(rune('0' + i)))
	}
	return b.String()
}

func partNamed(parts []mimePart, filename string) *mimePart {
	for i := range parts {
		if parts[i].filename == filename {
			return &parts[i]
		}
	}
	return nil
}

func textOf(parts []mimePart, mediaType string) string {
	for _, p := range parts {
		if p.mediaType == mediaType {
			return strings.ReplaceAll(string(p.body), "\r\n", "\n")
		}
	}
	return ""
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func agentNotice(t testing.TB, e *env, caseID int64, kind string) []byte {
	t.Helper()
	for _, o := range outbox(t, e.s.DB(), caseID) {
		if o.Kind == kind && o.Rcpt == "agents@example.com" {
			return o.Data
		}
	}
	t.Fatalf("no %s to agents@example.com on case %d", kind, caseID)
	return nil
}

// fileContent is what the customer sent: read from the stored comment, so
// the test compares with what ingest kept, not with a copy of the fixture.
func storedFiles(t testing.TB, e *env, caseID int64) map[string][]byte {
	t.Helper()
	atts, err := helpdesk.ListAttachments(context.Background(), e.s.DB(), caseID)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, a := range atts {
		var buf bytes.Buffer
		if _, err := helpdesk.CopyBlob(context.Background(), e.s.DB(), a.BlobID, &buf); err != nil {
			t.Fatal(err)
		}
		out[a.Filename] = buf.Bytes()
	}
	return out
}

func TestIngest_AgentNoticeForANewCaseCarriesTheCustomersFiles(t *testing.T) {
	t.Parallel()
	e := newEnvWithDB(t, pgtest.New(t))
	r := e.ingest(string(readTestdata(t, "attachments-log-and-screenshot.eml")))
	files := storedFiles(t, e, r.CaseID)
	if len(files["client.log"]) != 1229 || len(files["오류 화면.png"]) != 29571 {
		t.Fatalf("stored files: %d and %d bytes", len(files["client.log"]), len(files["오류 화면.png"]))
	}
	root, parts := mimeParts(t, agentNotice(t, e, r.CaseID, "agent_new_case"))
	if root != "multipart/mixed" {
		t.Fatalf("agent notice is %s, want multipart/mixed", root)
	}
	for name, want := range files {
		p := partNamed(parts, name)
		if p == nil {
			t.Fatalf("agent notice lacks %q; parts %+v", name, parts)
		}
		if p.disposition != "attachment" || !bytes.Equal(p.body, want) {
			t.Errorf("%s: disposition %q, %d bytes, want the %d stored bytes", name, p.disposition, len(p.body), len(want))
		}
	}
	if mt := partNamed(parts, "오류 화면.png").mediaType; mt != "image/png" {
		t.Errorf("screenshot sent as %s", mt)
	}
	text := textOf(parts, "text/plain")
	for _, want := range []string{"client.log (1.2 KB), attached", "오류 화면.png (29 KB), attached"} {
		if !strings.Contains(text, want) {
			t.Errorf("notice text lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "too large") {
		t.Errorf("notice says a file is too large:\n%s", text)
	}
}

func TestIngest_AgentNoticeListsFilesOverTheLimitWithASignedLink(t *testing.T) {
	t.Parallel()
	e := newEnvWithDB(t, pgtest.New(t), withAgentFiles(t, 10_000, "https://help.example.com/"))
	r := e.ingest(string(readTestdata(t, "attachments-log-and-screenshot.eml")))
	_, parts := mimeParts(t, agentNotice(t, e, r.CaseID, "agent_new_case"))
	if partNamed(parts, "client.log") == nil {
		t.Error("the log, under the limit, is not attached")
	}
	if partNamed(parts, "오류 화면.png") != nil {
		t.Error("the screenshot is attached although the two together exceed the limit")
	}
	text := textOf(parts, "text/plain")
	m := regexp.MustCompile(`(?m)^- 오류 화면\.png \(29 KB\): too large for email; download until [^\n]+:\n  (https://help\.example\.com/attachments/(\S+))$`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("notice text does not list the screenshot with its size and a link:\n%s", text)
	}
	if html := textOf(parts, "text/html"); !strings.Contains(html, `<a href="`+m[1]+`">오류 화면.png</a> (29 KB)`) {
		t.Errorf("HTML lacks the link:\n%s", html)
	}
	links, err := helpdesk.NewAttachmentLinks(helpdesk.AttachmentLinksConfig{Secrets: []string{linkSecret}, BaseURL: "https://help.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 20, 6, 0, 0, 0, time.UTC) // the env's clock
	ref, err := links.Verify(m[2], now)
	if err != nil {
		t.Fatalf("the link does not verify: %v", err)
	}
	if want := now.Add(helpdesk.DefaultLinkTTL); !ref.Expires.Equal(want) {
		t.Errorf("link expires %s, want %s", ref.Expires, want)
	}
	a, err := helpdesk.LinkedAttachment(context.Background(), e.s.DB(), ref)
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if _, err := helpdesk.CopyBlob(context.Background(), e.s.DB(), a.BlobID, &got); err != nil {
		t.Fatal(err)
	}
	if a.Filename != "오류 화면.png" || a.CaseID != r.CaseID || !bytes.Equal(got.Bytes(), storedFiles(t, e, r.CaseID)["오류 화면.png"]) {
		t.Errorf("the link names %q of case %d (%d bytes)", a.Filename, a.CaseID, got.Len())
	}
}

func TestIngest_WithoutLinksAFileOverTheLimitNamesTheOperatorCommand(t *testing.T) {
	t.Parallel()
	e := newEnvWithDB(t, pgtest.New(t), withAgentFiles(t, 10_000, ""))
	r := e.ingest(string(readTestdata(t, "attachments-log-and-screenshot.eml")))
	_, parts := mimeParts(t, agentNotice(t, e, r.CaseID, "agent_new_case"))
	text := textOf(parts, "text/plain")
	want := "- 오류 화면.png (29 KB): too large for email; ask an operator to fetch it (helpdeskd attachments list " + itoa(r.CaseID) + ")"
	if !strings.Contains(text, want) || strings.Contains(text, "https://") {
		t.Errorf("notice text lacks %q (and no link):\n%s", want, text)
	}
}

func TestIngest_AgentNoticesOfAReplyAReopenAndAFollowUpCarryTheFiles(t *testing.T) {
	t.Parallel()
	e := newEnvWithDB(t, pgtest.New(t))
	first := e.ingest(msg("Jane <jane@acme.example>", "VPN", "vpn-0@acme.example", "", "The VPN is down."))
	reply := strings.Replace(string(readTestdata(t, "attachments-log-and-screenshot.eml")), "Message-ID: <vpn-log-1@acme.example>",
		"Message-ID: <vpn-log-2@acme.example>\nIn-Reply-To: <vpn-0@acme.example>", 1)
	if r := e.ingest(reply); r.Decision != "comment" || r.CaseID != first.CaseID {
		t.Fatalf("reply: %+v", r)
	}
	_, parts := mimeParts(t, agentNotice(t, e, first.CaseID, "agent_customer_replied"))
	if partNamed(parts, "client.log") == nil || partNamed(parts, "오류 화면.png") == nil {
		t.Errorf("the reply's agent notice lacks the files: %+v", parts)
	}

	if _, err := e.s.DB().Exec(`UPDATE cases SET status = 'solved', solved_at = $2 WHERE id = $1`, first.CaseID, e.clk.Now()); err != nil {
		t.Fatal(err)
	}
	reopen := strings.Replace(reply, "<vpn-log-2@acme.example>", "<vpn-log-3@acme.example>", 1)
	if r := e.ingest(reopen); r.CaseID != first.CaseID {
		t.Fatalf("reopening reply: %+v", r)
	}
	_, parts = mimeParts(t, agentNotice(t, e, first.CaseID, "agent_reopened"))
	if partNamed(parts, "client.log") == nil || partNamed(parts, "오류 화면.png") == nil {
		t.Errorf("the reopen's agent notice lacks the files: %+v", parts)
	}

	if _, err := e.s.DB().Exec(`UPDATE cases SET status = 'closed', solved_at = $2, closed_at = $2 WHERE id = $1`, first.CaseID, e.clk.Now()); err != nil {
		t.Fatal(err)
	}
	late := strings.Replace(reply, "<vpn-log-2@acme.example>", "<vpn-log-4@acme.example>", 1)
	fu := e.ingest(late)
	if fu.Decision != "follow_up" || fu.CaseID == first.CaseID {
		t.Fatalf("reply to the closed case: %+v", fu)
	}
	_, parts = mimeParts(t, agentNotice(t, e, fu.CaseID, "agent_new_case"))
	if partNamed(parts, "client.log") == nil || partNamed(parts, "오류 화면.png") == nil {
		t.Errorf("the follow-up case's agent notice lacks the files: %+v", parts)
	}
}

func TestIngest_InlineImagesStayWithTheHTMLOfTheAgentNotice(t *testing.T) {
	t.Parallel()
	e := newEnvWithDB(t, pgtest.New(t))
	r := e.ingest(string(readTestdata(t, "inline-image-html.eml")))
	_, parts := mimeParts(t, agentNotice(t, e, r.CaseID, "agent_new_case"))
	var related bool
	for _, p := range parts {
		related = related || p.mediaType == "multipart/related"
	}
	img := partNamed(parts, "dialog.png")
	if !related || img == nil || img.contentID != "dialog.1@acme.example" || img.disposition != "inline" {
		t.Fatalf("the image is not an inline part of a multipart/related: %+v", parts)
	}
	if html := textOf(parts, "text/html"); !strings.Contains(html, `src="cid:dialog.1@acme.example"`) {
		t.Errorf("the notice's HTML does not show the image:\n%s", html)
	}
}

func TestAttachmentLinks_RefuseTamperedExpiredAndReplyTokens(t *testing.T) {
	t.Parallel()
	links, err := helpdesk.NewAttachmentLinks(helpdesk.AttachmentLinksConfig{Secrets: []string{linkSecret}, BaseURL: "https://h.example"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := helpdesk.NewAttachmentLinks(helpdesk.AttachmentLinksConfig{Secrets: []string{"another-secret-0123456789abcdef"}, BaseURL: "https://h.example"})
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := threading.NewTokens(linkSecret)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 20, 6, 0, 0, 0, time.UTC)
	good := links.Sign(12, 34, now.Add(time.Hour))
	if ref, err := links.Verify(good, now); err != nil || ref.CommentID != 12 || ref.BlobID != 34 {
		t.Fatalf("a good link: %+v, %v", ref, err)
	}
	parts := strings.Split(good, "-")
	tamper := func(i int, v string) string {
		p := append([]string(nil), parts...)
		p[i] = v
		return strings.Join(p, "-")
	}
	for name, tok := range map[string]string{
		"other comment":        tamper(1, "d"),
		"other blob":           tamper(2, "z"),
		"later expiry":         tamper(3, parts[3]+"0"),
		"flipped mac":          tamper(4, strings.Repeat("0", len(parts[4]))),
		"expired":              links.Sign(12, 34, now),
		"other secret":         other.Sign(12, 34, now.Add(time.Hour)),
		"reply token":          tokens.Sign(12, 34),
		"empty":                "",
		"padded number":        tamper(1, "0c"),
		"url-escaped":          url.PathEscape(good) + "%00",
		"missing mac":          strings.Join(parts[:4], "-"),
		"upper-case signature": tamper(4, strings.ToUpper(parts[4])),
	} {
		if _, err := links.Verify(tok, now); err != helpdesk.ErrLinkInvalid {
			t.Errorf("%s (%q): err = %v, want ErrLinkInvalid", name, tok, err)
		}
	}
	// A link is never a reply token either.
	if _, err := tokens.Verify(good); err == nil {
		t.Error("a download link verifies as a reply token")
	}
}

func TestCopyBlob_StreamsAFileOfSeveralChunks(t *testing.T) {
	t.Parallel()
	e := newEnvWithDB(t, pgtest.New(t))
	big := bytes.Repeat([]byte("0123456789abcdef"), (5<<20)/16) // 5 MiB: five chunks
	raw := "From: Jane <jane@acme.example>\nTo: support@example.com\nSubject: dump\nMessage-ID: <dump-1@acme.example>\n" +
		"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nA dump.\n--b\n" +
		"Content-Type: application/octet-stream\nContent-Disposition: attachment; filename=\"dump.bin\"\n\n" + string(big) + "\n--b--\n"
	r := e.ingest(raw)
	atts, err := helpdesk.ListAttachments(context.Background(), e.s.DB(), r.CaseID)
	if err != nil || len(atts) != 1 {
		t.Fatalf("attachments: %+v, %v", atts, err)
	}
	if n := count(t, e.s.DB(), `SELECT count(*) FROM blob_chunks WHERE blob_id = $1`, atts[0].BlobID); n < 5 {
		t.Fatalf("%d chunks; the test needs several", n)
	}
	w := &maxWrite{}
	n, err := helpdesk.CopyBlob(context.Background(), e.s.DB(), atts[0].BlobID, w)
	if err != nil || n != atts[0].Size || !bytes.Equal(w.buf.Bytes(), big) {
		t.Fatalf("copied %d of %d bytes, err %v", n, atts[0].Size, err)
	}
	if w.max > 1<<20 {
		t.Errorf("one write of %d bytes: not streamed by chunk", w.max)
	}
	if _, err := helpdesk.CopyBlob(context.Background(), e.s.DB(), 1<<40, io.Discard); err == nil {
		t.Error("an unknown blob copies without error")
	}
}

func TestCopyBlob_AMissingChunkIsAnErrorNotAShortFile(t *testing.T) {
	t.Parallel()
	e := newEnvWithDB(t, pgtest.New(t))
	big := bytes.Repeat([]byte("0123456789abcdef"), (3<<20)/16) // three chunks
	raw := "From: Jane <jane@acme.example>\nTo: support@example.com\nSubject: dump\nMessage-ID: <dump-2@acme.example>\n" +
		"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nA dump.\n--b\n" +
		"Content-Type: application/octet-stream\nContent-Disposition: attachment; filename=\"dump.bin\"\n\n" + string(big) + "\n--b--\n"
	r := e.ingest(raw)
	atts, err := helpdesk.ListAttachments(context.Background(), e.s.DB(), r.CaseID)
	if err != nil || len(atts) != 1 {
		t.Fatalf("attachments: %+v, %v", atts, err)
	}
	if _, err := e.s.DB().Exec(`DELETE FROM blob_chunks WHERE blob_id = $1 AND seq = (SELECT max(seq) FROM blob_chunks WHERE blob_id = $1)`, atts[0].BlobID); err != nil {
		t.Fatal(err)
	}
	n, err := helpdesk.CopyBlob(context.Background(), e.s.DB(), atts[0].BlobID, io.Discard)
	if err == nil {
		t.Fatalf("copied %d of %d bytes without error", n, atts[0].Size)
	}
}

type maxWrite struct {
	buf bytes.Buffer
	max int
}

func (w *maxWrite) Write(p []byte) (int, error) {
	w.max = max(w.max, len(p))
	return w.buf.Write(p)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Gmail names inline images by a Content-ID without "@" and often no
// filename, and a forwarded mail is a message/rfc822 part: neither may stop
// the mail (or its batch) from being ingested and shown to agents.
func TestIngest_GmailInlineImageAndAForwardedMailReachTheAgents(t *testing.T) {
	t.Parallel()
	e := newEnvWithDB(t, pgtest.New(t))
	r, err := e.ingestErr(string(readTestdata(t, "gmail-inline-and-forwarded-mail.eml")))
	if err != nil || r.Decision != "new_case" {
		t.Fatalf("ingest: %+v, %v", r, err)
	}
	files := storedFiles(t, e, r.CaseID)
	_, parts := mimeParts(t, agentNotice(t, e, r.CaseID, "agent_new_case"))
	var img, fwd *mimePart
	for i := range parts {
		switch {
		case parts[i].mediaType == "image/png":
			img = &parts[i]
		case parts[i].filename == "alert.eml":
			fwd = &parts[i]
		}
	}
	if img == nil || img.disposition != "inline" || img.contentID == "" || !bytes.Equal(img.body, files[""]) {
		t.Fatalf("inline image: %+v", img)
	}
	if html := textOf(parts, "text/html"); !strings.Contains(html, `src="cid:`+img.contentID+`"`) {
		t.Errorf("the HTML does not show the image by its Content-ID %q:\n%s", img.contentID, html)
	}
	if fwd == nil || fwd.mediaType != "application/octet-stream" || !bytes.Equal(fwd.body, files["alert.eml"]) {
		t.Fatalf("forwarded mail: %+v", fwd)
	}
}
