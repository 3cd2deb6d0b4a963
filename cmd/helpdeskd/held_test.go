package main

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"

	"github.com/helpdesk/helpdesk/helpdesk"
)

// `held list` shows held mail by id; `held release ID --as OPERATOR`
// appends it as its sender's comment (once: a second release is a clear
// error); `held discard ID` takes mail off the list.
func TestHeld_ListReleaseAndDiscard(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.env["HELPDESK_SUPPORT_ADDRESS"] = "support@example.com"
	c.env["HELPDESK_TOKEN_SECRET"] = strings.Repeat("t", 40)
	c.ok("migrate")
	c.ok("orgs", "add", "Example", "--domain", "example.com")
	c.ok("orgs", "add", "Acme", "--domain", "acme.example")
	c.ok("users", "add", "alice@example.com", "--role", "agent", "--org", "Example")
	c.ok("users", "add", "kim@acme.example", "--org", "Acme")

	ctx := context.Background()
	s, err := helpdesk.Open(ctx, c.env["HELPDESK_DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	g, err := helpdesk.NewIngester(s, helpdesk.IngestConfig{Own: []string{"support@example.com"}, MessageIDDomain: "example.com",
		LoopID: "held-test", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	uid := uint32(0)
	ingest := func(from, id, inReplyTo, body string) helpdesk.Result {
		uid++
		raw := "From: " + from + "\r\nTo: support@example.com\r\nSubject: Re: VPN\r\nMessage-ID: <" + id + ">\r\n"
		if inReplyTo != "" {
			raw += "In-Reply-To: <" + inReplyTo + ">\r\n"
		}
		raw += "Content-Type: text/plain\r\n\r\n" + body + "\r\n"
		r, err := g.Ingest(ctx, helpdesk.Inbound{Mailbox: "INBOX", UIDValidity: 1, UID: uid, Body: strings.NewReader(raw)})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	first := ingest("kim@acme.example", "hc-1@acme.example", "", "VPN is down.")
	ingest("Sam <sam@partner.example>", "hc-2@partner.example", "hc-1@acme.example", "Same here.")
	ingest("spam@evil.example", "hc-3@evil.example", "hc-1@acme.example", "Buy now.")

	var held []struct {
		ID        int64  `json:"id"`
		MessageID string `json:"message_id"`
		Decision  string `json:"decision"`
		CaseID    *int64 `json:"case_id"`
	}
	c.json(&held, "held", "list", "--json")
	if len(held) != 2 || held[0].MessageID != "hc-2@partner.example" || held[0].CaseID == nil || *held[0].CaseID != first.CaseID {
		t.Fatalf("held list = %+v", held)
	}
	if out := c.ok("held", "list"); !strings.Contains(out, "hc-2") && !strings.Contains(out, "sam@partner.example") {
		t.Fatalf("held list text:\n%s", out)
	}
	sam, spam := strconv.FormatInt(held[0].ID, 10), strconv.FormatInt(held[1].ID, 10)

	if out := c.ok("held", "release", sam, "--as", "alice@example.com"); !strings.Contains(out, "comment on case #"+strconv.FormatInt(first.CaseID, 10)) {
		t.Fatalf("release: %s", out)
	}
	d, err := helpdesk.GetCaseDetail(ctx, s.DB(), first.CaseID)
	if err != nil {
		t.Fatal(err)
	}
	if last := d.Comments[len(d.Comments)-1]; !last.Public || last.Author == nil || *last.Author != "sam@partner.example" {
		t.Fatalf("released comment: %+v", last)
	}
	if _, errs, code := c.run("held", "release", sam); code != 1 || !strings.Contains(errs, "was released by alice@example.com") {
		t.Fatalf("second release: exit %d, %s", code, errs)
	}
	if _, errs, code := c.run("held", "release", spam, "--as", "kim@acme.example"); code != 1 || !strings.Contains(errs, "not an agent or manager") {
		t.Fatalf("release as a customer: exit %d, %s", code, errs)
	}
	c.ok("held", "discard", spam, "--reason", "spam")
	c.json(&held, "held", "list", "--json")
	if len(held) != 0 {
		t.Fatalf("held list after release and discard = %+v", held)
	}
	if _, errs, code := c.run("held", "discard", spam); code != 1 || !strings.Contains(errs, "was discarded") {
		t.Fatalf("second discard: exit %d, %s", code, errs)
	}
	if _, _, code := c.run("held", "release", "abc"); code != 2 {
		t.Fatalf("release of a non-number: exit %d, want 2", code)
	}
	var show struct {
		Participants []struct {
			Email string `json:"email"`
			Role  string `json:"role"`
		} `json:"participants"`
	}
	c.json(&show, "cases", "show", strconv.FormatInt(first.CaseID, 10), "--json")
	if len(show.Participants) != 1 || show.Participants[0].Email != "sam@partner.example" || show.Participants[0].Role != "released" {
		t.Fatalf("participants after release = %+v", show.Participants)
	}
}
