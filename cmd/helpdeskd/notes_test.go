package main

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/helpdesk/helpdesk/helpdesk"
)

// An agent's internal note reads "internal note", never "held", in
// `cases show` (text and JSON); mail held for review stays "held for review".
func TestCasesShow_InternalNoteIsAnInternalNote(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("migrate")
	c.ok("orgs", "add", "Acme", "--domain", "acme.example")
	c.ok("users", "add", "kim@acme.example", "--org", "Acme", "--name", "Kim")
	ctx := context.Background()
	s, err := helpdesk.Open(ctx, c.env["HELPDESK_DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	kim, _ := helpdesk.UserByAddress(ctx, s.DB(), "kim@acme.example")
	now := time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC)
	id, err := helpdesk.CreateCase(ctx, s.DB(), helpdesk.NewCase{Subject: "VPN", OrgID: kim.OrgID, SubmitterID: kim.ID, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	for _, nc := range []helpdesk.NewComment{
		{CaseID: id, Internal: true, Body: "Their certificate expired.", Now: now},
		{CaseID: id, Held: true, Body: "A stranger wrote.", Now: now.Add(time.Minute)},
	} {
		if _, err := helpdesk.AddComment(ctx, s.DB(), nc); err != nil {
			t.Fatal(err)
		}
	}
	text := c.ok("cases", "show", strconv.FormatInt(id, 10))
	if !strings.Contains(text, ", internal note\nTheir certificate expired.") || !strings.Contains(text, ", held for review\nA stranger wrote.") {
		t.Errorf("cases show:\n%s", text)
	}
	var show struct {
		Comments []struct {
			Internal, Held, Public bool
		} `json:"comments"`
	}
	c.json(&show, "cases", "show", strconv.FormatInt(id, 10), "--json")
	if len(show.Comments) != 2 || !show.Comments[0].Internal || show.Comments[0].Held || show.Comments[1].Internal || !show.Comments[1].Held {
		t.Errorf("cases show --json comments: %+v", show.Comments)
	}
}
