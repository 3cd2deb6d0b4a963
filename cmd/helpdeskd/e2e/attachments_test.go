package e2e_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"strconv"
	"testing"

	gomail "github.com/emersion/go-message/mail"
)

// attachmentsOf reads the attached files of a mail as a mail client does:
// filename → content.
func attachmentsOf(t *testing.T, raw []byte) map[string][]byte {
	t.Helper()
	r, err := gomail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("reading the mail: %v", err)
	}
	out := map[string][]byte{}
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("reading a part: %v", err)
		}
		if h, ok := p.Header.(*gomail.AttachmentHeader); ok {
			name, _ := h.Filename()
			b, err := io.ReadAll(p.Body)
			if err != nil {
				t.Fatal(err)
			}
			out[name] = b
		}
	}
}

func TestAttachments_A29KBScreenshotArrivesAttachedInTheAgentsMailbox(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	w.start()
	jane := w.mailbox("jane", "acme")
	support, agents := w.addr("support", "help"), w.addr("agents", "help")

	id := w.newID("shot", jane)
	sent := mailData{From: person("Jane Doe", jane), To: support, Subject: "VPN error dialog", MessageID: id,
		Body: "The VPN client shows this error every ten minutes; screenshot attached."}
	want := attachmentsOf(t, render(t, "thunderbird-screenshot", sent))["vpn-error.png"]
	if len(want) < 28<<10 || len(want) > 30<<10 {
		t.Fatalf("the fixture's screenshot is %d bytes; the test needs about 29 KB", len(want))
	}
	w.sendMail("thunderbird-screenshot", jane, []string{support}, sent)
	decision, caseID := w.waitIngested(id)
	if decision != "new_case" {
		t.Fatalf("decision %q, want new_case", decision)
	}

	notice := only(t, w.waitMail(agents, 1), "agent_new_case")
	got, ok := attachmentsOf(t, notice.Raw)["vpn-error.png"]
	if !ok || !bytes.Equal(got, want) {
		t.Fatalf("the agent notice carries %d bytes as vpn-error.png (present: %v), want the %d bytes Jane sent", len(got), ok, len(want))
	}
	text := notice.text()
	if !bytes.Contains([]byte(text), []byte("vpn-error.png (29 KB), attached")) {
		t.Errorf("the notice text does not say the screenshot is attached:\n%s", text)
	}

	// The operator finds the same file with the CLI.
	var list []struct {
		ID       int64  `json:"id"`
		Filename string `json:"filename"`
		Size     int64  `json:"size"`
		SHA256   string `json:"sha256"`
	}
	w.cliJSON(&list, "attachments", "list", strconv.FormatInt(caseID, 10))
	sum := sha256.Sum256(want)
	if len(list) != 1 || list[0].Filename != "vpn-error.png" || list[0].Size != int64(len(want)) || list[0].SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("attachments list: %+v", list)
	}
	if out := w.cli("attachments", "get", strconv.FormatInt(list[0].ID, 10)); out != string(want) {
		t.Errorf("attachments get wrote %d bytes, want the %d bytes Jane sent", len(out), len(want))
	}
}
