package main

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message"

	"github.com/helpdesk/helpdesk/helpdesk"
	"github.com/helpdesk/helpdesk/mail/mailtest"
	"github.com/helpdesk/helpdesk/threading"
)

func TestContentDisposition_RFC6266FilenameWithAnASCIIFallback(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, want, decoded string }{
		{"client.log", `attachment; filename="client.log"`, "client.log"},
		{"오류 화면.png", `attachment; filename="__ __.png"; filename*=UTF-8''%EC%98%A4%EB%A5%98%20%ED%99%94%EB%A9%B4.png`, "오류 화면.png"},
		{`say "hi".txt`, `attachment; filename="say _hi_.txt"; filename*=UTF-8''say%20%22hi%22.txt`, `say "hi".txt`},
		{"../../etc/passwd", `attachment; filename=".._.._etc_passwd"`, ".._.._etc_passwd"},
		{`a\b%41.txt`, `attachment; filename="a_b_41.txt"; filename*=UTF-8''a_b%2541.txt`, "a_b%41.txt"},
		{"", `attachment; filename="attachment"`, "attachment"},
	} {
		got := contentDisposition("attachment", tc.name)
		if got != tc.want {
			t.Errorf("%q: %s\nwant %s", tc.name, got, tc.want)
		}
		// A client reading the header gets the real name back.
		_, params, err := mime.ParseMediaType(got)
		if err != nil || params["filename"] != tc.decoded {
			t.Errorf("%q: a client reads %q (%v), want %q", tc.name, params["filename"], err, tc.decoded)
		}
	}
}

func TestServedType_ActiveContentIsADownload(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ stored, ct, disposition string }{
		{"image/png", "image/png", "inline"},
		{"application/pdf; name=x.pdf", "application/pdf", "attachment"},
		{"text/plain; charset=euc-kr; name=log.txt", "text/plain; charset=euc-kr", "inline"},
		{"text/html; charset=utf-8", "text/html; charset=utf-8", "attachment"},
		{"image/svg+xml", "image/svg+xml", "attachment"},
		{"application/javascript", "application/javascript", "attachment"},
		{"application/xhtml+xml", "application/xhtml+xml", "attachment"},
		{"application/zip", "application/zip", "attachment"},
		{"garbage", "application/octet-stream", "attachment"},
		{"", "application/octet-stream", "attachment"},
	} {
		ct, d := servedType(tc.stored)
		if ct != tc.ct || d != tc.disposition {
			t.Errorf("%q: served as %q %s, want %q %s", tc.stored, ct, d, tc.ct, tc.disposition)
		}
	}
}

// agentNoticeText is the text part of an agent notice as a mail client reads it.
func agentNoticeText(t *testing.T, raw []byte) string {
	t.Helper()
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var text string
	e.Walk(func(_ []int, ent *message.Entity, err error) error {
		if mt, _, _ := ent.Header.ContentType(); mt == "text/plain" && text == "" {
			b, _ := io.ReadAll(ent.Body)
			text = string(b)
		}
		return nil
	})
	return text
}

func TestServe_DownloadLinkServesTheFileAndRefusesBadLinks(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	m := startMail(t)
	d := newDaemon(t, m, map[string]string{"HELPDESK_HTTP_ADDR": addr, "HELPDESK_PUBLIC_URL": "http://" + addr,
		"HELPDESK_AGENT_ATTACH_LIMIT": "10000", "HELPDESK_ATTACHMENT_LINK_TTL": "48h"})
	raw, err := os.ReadFile("../../helpdesk/testdata/attachments-log-and-screenshot.eml")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Deliver("support@example.com", bytes.ReplaceAll(raw, []byte("\n"), []byte("\r\n"))); err != nil {
		t.Fatal(err)
	}
	mailtest.Wait(t, "the agent notice", func() bool { return len(d.inbox("agents@example.com")) == 1 })
	raws, _ := d.mail.Mailbox("agents@example.com", "INBOX")
	text := agentNoticeText(t, raws[0])
	link := regexp.MustCompile(`http://` + regexp.QuoteMeta(addr) + `/attachments/(\S+)`).FindStringSubmatch(text)
	if link == nil {
		t.Fatalf("no download link in the agent notice:\n%s", text)
	}

	// The CLI lists both files and writes the screenshot out.
	c := &cli{t: t, env: d.env}
	var caseID int64
	if err := d.store.DB().Get(&caseID, `SELECT id FROM cases`); err != nil {
		t.Fatal(err)
	}
	var atts []helpdesk.StoredAttachment
	c.json(&atts, "attachments", "list", strconv.FormatInt(caseID, 10), "--json")
	if len(atts) != 2 || atts[0].Filename != "client.log" || atts[1].Filename != "오류 화면.png" || atts[1].Size != 29571 ||
		len(atts[1].SHA256) != 64 || atts[1].MessageID != "vpn-log-1@acme.example" || atts[1].ContentType != "image/png" {
		t.Fatalf("attachments list: %+v", atts)
	}
	if out := c.ok("attachments", "list", strconv.FormatInt(caseID, 10)); !strings.Contains(out, "오류 화면.png") || !strings.Contains(out, "29 KB") {
		t.Errorf("attachments list text:\n%s", out)
	}
	shot := c.ok("attachments", "get", strconv.FormatInt(atts[1].ID, 10))
	if len(shot) != 29571 || !strings.HasPrefix(shot, "\x89PNG") {
		t.Fatalf("attachments get wrote %d bytes", len(shot))
	}
	file := filepath.Join(t.TempDir(), "shot.png")
	c.ok("attachments", "get", strconv.FormatInt(atts[1].ID, 10), "-o", file)
	if b, err := os.ReadFile(file); err != nil || string(b) != shot {
		t.Fatalf("get -o: %d bytes, %v", len(b), err)
	}
	if _, errs, code := c.run("attachments", "get", "999999"); code == 0 || !strings.Contains(errs, "not found") {
		t.Errorf("get of an unknown id: exit %d, %s", code, errs)
	}

	resp, err := http.Get(link[0])
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != shot {
		t.Fatalf("GET link: %d, %d bytes", resp.StatusCode, len(body))
	}
	for k, want := range map[string]string{
		"Content-Type":           "image/png",
		"Content-Length":         "29571",
		"Content-Disposition":    `inline; filename="__ __.png"; filename*=UTF-8''%EC%98%A4%EB%A5%98%20%ED%99%94%EB%A9%B4.png`,
		"X-Content-Type-Options": "nosniff",
	} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	head, err := http.Head(link[0])
	if err != nil {
		t.Fatal(err)
	}
	head.Body.Close()
	if head.StatusCode != 200 || head.ContentLength != 29571 || head.Header.Get("Content-Type") != "image/png" {
		t.Errorf("HEAD: %d, length %d, %s", head.StatusCode, head.ContentLength, head.Header.Get("Content-Type"))
	}

	secret := d.env["HELPDESK_TOKEN_SECRET"]
	links, err := helpdesk.NewAttachmentLinks(helpdesk.AttachmentLinksConfig{Secrets: []string{secret}, BaseURL: "http://" + addr})
	if err != nil {
		t.Fatal(err)
	}
	ref, err := links.Verify(link[1], time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if left := time.Until(ref.Expires); left < 47*time.Hour || left > 49*time.Hour {
		t.Errorf("the link works for %s more, want HELPDESK_ATTACHMENT_LINK_TTL (48h)", left)
	}
	tokens, _ := threading.NewTokens(secret)
	tampered := []byte(link[1])
	tampered[len(tampered)-1] ^= 1
	for name, tc := range map[string]struct {
		token  string
		status int
	}{
		"tampered":         {string(tampered), http.StatusForbidden},
		"expired":          {links.Sign(ref.CommentID, ref.BlobID, time.Now().Add(-time.Minute)), http.StatusForbidden},
		"a reply token":    {tokens.Sign(caseID, 1), http.StatusForbidden},
		"unknown file":     {links.Sign(ref.CommentID, ref.BlobID+1000, time.Now().Add(time.Hour)), http.StatusNotFound},
		"unknown comment":  {links.Sign(ref.CommentID+1000, ref.BlobID, time.Now().Add(time.Hour)), http.StatusNotFound},
		"not even a token": {"hello", http.StatusForbidden},
	} {
		resp, err := http.Get("http://" + addr + "/attachments/" + tc.token)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || strings.TrimSpace(string(b)) != "invalid or expired link" {
			t.Errorf("%s: %d %q, want %d and only \"invalid or expired link\"", name, resp.StatusCode, b, tc.status)
		}
	}
	// The health endpoints still answer beside the downloads.
	if resp, err := http.Get("http://" + addr + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Errorf("/healthz: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
}

// The JSON of attachments list is an array even for a case without files.
func TestAttachmentsList_EmptyCaseIsAnEmptyArray(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("migrate")
	c.ok("orgs", "add", "Acme", "--domain", "acme.example")
	c.ok("users", "add", "kim@acme.example", "--org", "Acme")
	s, err := helpdesk.Open(t.Context(), c.env["HELPDESK_DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	kim, _ := helpdesk.UserByAddress(t.Context(), s.DB(), "kim@acme.example")
	id, err := helpdesk.CreateCase(t.Context(), s.DB(), helpdesk.NewCase{Subject: "VPN", OrgID: kim.OrgID, SubmitterID: kim.ID, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	out := c.ok("attachments", "list", strconv.FormatInt(id, 10), "--json")
	var v []any
	if err := json.Unmarshal([]byte(out), &v); err != nil || v == nil || len(v) != 0 {
		t.Errorf("attachments list --json of a case without files: %q", out)
	}
	if _, errs, code := c.run("attachments", "list", "424242"); code == 0 || !strings.Contains(errs, "not found") {
		t.Errorf("list of an unknown case: exit %d, %s", code, errs)
	}
}
