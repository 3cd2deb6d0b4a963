package e2e_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/helpdesk/helpdesk/threading"
)

// muttSend sends a draft (headers, blank line, body) with mutt in batch
// mode through the test's Postfix, as a person at addr. mutt decodes the
// draft's encoded words and encodes the subject again itself when sending.
func (w *world) muttSend(name, addr, draft string) {
	w.t.Helper()
	mutt, err := exec.LookPath("mutt")
	if err != nil {
		if os.Getenv("CI") == "true" {
			w.t.Fatal("mutt is required under CI")
		}
		w.t.Skip("mutt not installed")
	}
	dir := w.t.TempDir()
	rc := fmt.Sprintf(`set from="%s"
set realname="%s"
set use_from=yes
set smtp_url="smtp://%s/"
set ssl_starttls=no
set ssl_force_tls=no
set charset="utf-8"
set send_charset="us-ascii:utf-8"
set record=""
set copy=no
`, addr, name, w.ms.smtpAddr)
	muttrc := filepath.Join(dir, "muttrc")
	if err := os.WriteFile(muttrc, []byte(rc), 0o600); err != nil {
		w.t.Fatal(err)
	}
	draftFile := filepath.Join(dir, "draft")
	if err := os.WriteFile(draftFile, []byte(draft), 0o600); err != nil {
		w.t.Fatal(err)
	}
	cmd := exec.Command(mutt, "-n", "-F", muttrc, "-H", draftFile)
	cmd.Env = append(os.Environ(), "HOME="+dir, "TERM=dumb", "LC_ALL=C.UTF-8")
	cmd.Stdin = strings.NewReader("")
	if out, err := cmd.CombinedOutput(); err != nil {
		w.t.Fatalf("mutt: %v\n%s", err, out)
	}
}

func TestKorean_ASubjectWhoseTagSurvivesAReplyFromMutt(t *testing.T) {
	t.Parallel()
	w := newWorld(t, map[string]string{"HELPDESK_TIMEZONE": "Europe/Berlin"})
	minsu := w.mailbox("minsu", "acme")
	w.cli("users", "add", minsu, "--name", "김민수", "--org", "Acme", "--locale", "ko", "--timezone", "Asia/Seoul")
	w.start()
	support := w.addr("support", "help")

	subject := "첫 응답이 늦습니다 — 프린터가 인쇄하지 않고 드라이버를 다시 설치해도 같은 오류가 계속 발생합니다"
	caseID, _, ack := w.openCase("김민수", minsu, subject, "도와주세요. 프린터가 동작하지 않습니다.")
	tag := fmt.Sprintf("[Case #%d]", caseID)
	raw := ack.Header.Get("Subject")
	if !strings.Contains(raw, tag) {
		t.Errorf("the acknowledgement's raw Subject does not carry %s whole: %q", tag, raw)
	}
	decoded := ack.get("Subject")
	if !strings.Contains(decoded, subject) || !strings.Contains(decoded, tag) {
		t.Errorf("acknowledgement Subject decodes to %q; want the subject and %s", decoded, tag)
	}
	if text := ack.text(); !strings.Contains(text, "KST") || strings.Contains(text, " UTC") || strings.Contains(text, " CET") {
		t.Errorf("the acknowledgement does not show times in the customer's zone (KST):\n%s", text)
	}

	// Minsu answers with mutt, to the plain support address and without
	// In-Reply-To or References: only the subject's tag can thread it.
	id := w.newID("mutt", minsu)
	before := len(w.showCase(caseID).Comments)
	w.muttSend("김민수", minsu, fmt.Sprintf("To: %s\nSubject: Re: %s\nMessage-ID: <%s>\n\n드라이버 버전은 5.2입니다.\n", support, raw, id))
	decision, got := w.waitIngested(id)
	if got != caseID {
		t.Fatalf("mutt's reply: decision %q on case %d; want case %d", decision, got, caseID)
	}
	c := w.showCase(caseID)
	if len(c.Comments) != before+1 || !strings.Contains(c.Comments[len(c.Comments)-1].Body, "드라이버 버전은 5.2입니다.") {
		t.Fatalf("mutt's reply is not a comment on case %d: %+v", caseID, c.Comments)
	}

	// What mutt put on the wire still decodes to the tag.
	var sent *message
	w.waitFor("mutt's mail in Processed", patience, func() (bool, error) {
		ms, err := w.ms.fetch(support, "Processed")
		for _, m := range ms {
			if m.id() == id {
				sent = m
			}
		}
		return sent != nil, err
	})
	t.Logf("mutt sent Subject: %s", sent.Header.Get("Subject"))
	if n, ok := threading.CaseTag(sent.get("Subject")); !ok || n != caseID {
		t.Errorf("mutt's Subject %q (raw %q) decodes without the tag of case %d", sent.get("Subject"), sent.Header.Get("Subject"), caseID)
	}
}
