package mail

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/helpdesk/helpdesk/threading"
)

// The public corpora these tests read are copied, unchanged, into
// testdata/corpora (see its README.md for sources and licenses). One is not:
// notmuch-corpora (GPL-3.0-or-later) is read from the project's shared
// corpora beside the repository (../../shared/corpora) when it is there.
// talon is shipped once, in threading/reply's testdata, and read from there.
var corporaDirs = []string{"testdata/corpora", "../threading/reply/testdata/corpora", "../../shared/corpora"}

// corpusDir finds a corpus. A missing one skips the test, saying so (make
// test's summary repeats it), except under CI=true, where it fails.
func corpusDir(t *testing.T, name string) string {
	t.Helper()
	for _, d := range corporaDirs {
		dir := filepath.Join(d, name)
		if _, err := os.Stat(dir); err == nil {
			return dir
		}
	}
	msg := fmt.Sprintf("corpus %s not available: not in %s", name, strings.Join(corporaDirs, " or "))
	if os.Getenv("CI") == "true" && !optionalCorpora[name] {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// optionalCorpora cannot ship with the project (their license differs); a
// checkout without the shared corpora skips them, announced in make test's
// summary, even in CI. Every shipped corpus covers the same parse paths.
var optionalCorpora = map[string]bool{"notmuch-corpora": true}

// corpusFiles lists the message files of a corpus, leaving out licenses,
// documentation and expected-output files.
func corpusFiles(t *testing.T, name string) []string {
	t.Helper()
	dir := corpusDir(t, name)
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		base := d.Name()
		upper := strings.ToUpper(base)
		switch {
		case strings.HasSuffix(base, ".md"), strings.HasPrefix(upper, "LICENSE"),
			strings.HasPrefix(upper, "COPYING"), strings.HasPrefix(upper, "NOTICE"),
			strings.HasPrefix(upper, "README"), strings.HasPrefix(upper, "ARTISTIC"),
			strings.HasPrefix(base, "."):
			return nil
		}
		switch name {
		case "james-mime4j":
			if !strings.HasSuffix(base, ".msg") {
				return nil
			}
		case "mikel-mail":
			if !strings.HasSuffix(base, ".eml") {
				return nil
			}
		}
		files = append(files, path)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func parseFile(t *testing.T, path string) *Message {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Parse(bytes.NewReader(b), ParseOptions{})
	if err != nil {
		t.Fatalf("Parse(%s): %v", path, err)
	}
	assertSafe(t, m)
	return m
}

// assertSafe checks the guarantee PostgreSQL relies on: every string is
// valid UTF-8 without NUL.
func assertSafe(t *testing.T, m *Message) {
	t.Helper()
	check := func(what, s string) {
		if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
			t.Errorf("%s is not valid UTF-8 without NUL: %q", what, s)
		}
	}
	check("MessageID", m.MessageID)
	check("Subject", m.Subject)
	check("Text", m.Text)
	check("HTML", m.HTML)
	check("DeliveryStatus", m.DeliveryStatus)
	check("OriginalHeaders", m.OriginalHeaders)
	for _, l := range [][]Address{{m.From}, m.To, m.Cc, m.ReplyTo, m.DeliveredTo, m.XOriginalTo} {
		for _, a := range l {
			check("address name", a.Name)
			check("address", a.Address)
		}
	}
	for _, s := range append(append(append([]string{}, m.InReplyTo...), m.References...), m.Warnings...) {
		check("id or warning", s)
	}
	for _, a := range m.Attachments {
		check("filename", a.Filename)
		check("content id", a.ContentID)
	}
	for k, vs := range m.Header {
		check("header key", k)
		for _, v := range vs {
			check("header "+k, v)
		}
	}
}

func TestParse_EveryCorpusMessageParsesSafely(t *testing.T) {
	for _, corpus := range []string{"sisimai-set-of-emails", "enmime", "mikel-mail", "mimekit", "james-mime4j", "notmuch-corpora", "talon"} {
		t.Run(corpus, func(t *testing.T) {
			files := corpusFiles(t, corpus)
			if len(files) == 0 {
				t.Fatal("no files")
			}
			var warned, synthetic int
			for _, f := range files {
				rel, _ := filepath.Rel(corpusDir(t, corpus), f)
				t.Run(rel, func(t *testing.T) {
					m := parseFile(t, f)
					if len(m.Warnings) > 0 {
						warned++
					}
					if m.SyntheticMessageID {
						synthetic++
					}
					if m.MessageID == "" {
						t.Error("empty MessageID")
					}
				})
			}
			t.Logf("%s: %d files, %d with warnings, %d synthetic Message-IDs", corpus, len(files), warned, synthetic)
		})
	}
}

// TestParse_JamesMime4jDecodedPartsMatch compares every transfer-decoded leaf
// body with mime4j's expected NAME_decoded_<path>.txt/.bin. Leaves inside a
// message/rfc822 part are not compared: Parse keeps such a part whole as an
// attachment instead of descending into it.
func TestParse_JamesMime4jDecodedPartsMatch(t *testing.T) {
	files := corpusFiles(t, "james-mime4j")
	var total, matched, skipped int
	for _, f := range files {
		name := strings.TrimSuffix(f, ".msg")
		expected, _ := filepath.Glob(name + "_decoded_*")
		if len(expected) == 0 {
			continue
		}
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string][]byte{}
		_, err = parse(bytes.NewReader(raw), ParseOptions{}, func(path, _ string, body []byte) {
			got[path] = body
		})
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, e := range expected {
			path := strings.TrimPrefix(e, name+"_decoded_")
			path = strings.TrimSuffix(strings.TrimSuffix(path, ".txt"), ".bin")
			if strings.Contains(path, ".") {
				continue
			}
			want, err := os.ReadFile(e)
			if err != nil {
				t.Fatal(err)
			}
			body, ok := got[path]
			if !ok {
				if insideRFC822(raw) {
					skipped++
					continue
				}
				total++
				t.Logf("%s: part %s not found", filepath.Base(f), path)
				continue
			}
			total++
			if bytes.Equal(normalizeEOL(body), normalizeEOL(want)) {
				matched++
			} else {
				t.Logf("%s: part %s differs: got %d bytes, want %d", filepath.Base(f), path, len(body), len(want))
			}
		}
	}
	t.Logf("mime4j decoded parts: %d/%d match (%d inside message/rfc822 not compared)", matched, total, skipped)
	if total == 0 || matched*100 < total*90 {
		t.Errorf("match rate %d/%d is below 90%%", matched, total)
	}
}

func insideRFC822(raw []byte) bool {
	return bytes.Contains(bytes.ToLower(raw), []byte("message/rfc822"))
}

func normalizeEOL(b []byte) []byte {
	b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	return bytes.TrimRight(b, "\n")
}

func classifyFile(t *testing.T, path string) threading.Classification {
	t.Helper()
	return threading.Classify(parseFile(t, path).ClassifyInput())
}

// sisimaiForwardedBounces are people forwarding a bounce ("Fwd: Returned
// mail: ...", "Forward the message."): a helpdesk must treat them as human,
// although the corpus files them with the machine-generated messages.
var sisimaiForwardedBounces = map[string]bool{
	"lhost-sendmail-14.eml": true,
	"make-test-36.eml":      true,
}

func TestClassify_SisimaiMachineMailIsNeverHuman(t *testing.T) {
	dir := corpusDir(t, "sisimai-set-of-emails")
	var files []string
	for _, sub := range []string{"bsd", "dos", "mac", "err", "tmp"} {
		m, _ := filepath.Glob(filepath.Join(dir, "maildir", sub, "*.eml"))
		files = append(files, m...)
	}
	if len(files) < 800 {
		t.Fatalf("only %d files found", len(files))
	}
	counts := map[threading.Class]int{}
	var bounces, withRecipient int
	for _, f := range files {
		base := filepath.Base(f)
		c := classifyFile(t, f)
		counts[c.Class]++
		switch {
		case sisimaiForwardedBounces[base]:
			if c.Class != threading.ClassHuman {
				t.Errorf("%s: forwarded bounce classified %+v, want human", f, c)
			}
		case c.Class == threading.ClassHuman:
			t.Errorf("%s: classified human: %s", f, c.Reason)
		case strings.HasPrefix(base, "rfc3834-"):
			if c.Class != threading.ClassAutoReply {
				t.Errorf("%s: vacation message classified %+v, want auto-reply", f, c)
			}
		case strings.HasPrefix(base, "rfc3464-"):
			if c.Class != threading.ClassBounce || c.Bounce.Recipient == "" {
				t.Errorf("%s: RFC 3464 report classified %+v, want bounce with recipient", f, c)
			}
		}
		if c.Class == threading.ClassBounce {
			bounces++
			if c.Bounce.Recipient != "" {
				withRecipient++
			}
		}
	}
	t.Logf("sisimai: %d files: %v; %d/%d bounces name a recipient", len(files), counts, withRecipient, bounces)
	if withRecipient*100 < bounces*98 {
		t.Errorf("only %d/%d bounces name a recipient", withRecipient, bounces)
	}
}

func TestClassify_SisimaiMboxMessagesAreNeverHuman(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(corpusDir(t, "sisimai-set-of-emails"), "mailbox", "mbox-0"))
	if err != nil {
		t.Fatal(err)
	}
	msgs := bytes.Split(raw, []byte("\nFrom "))
	if len(msgs) != 37 {
		t.Fatalf("mbox-0 split into %d messages, want 37", len(msgs))
	}
	for i, b := range msgs {
		m, err := Parse(bytes.NewReader(b), ParseOptions{})
		if err != nil {
			t.Fatal(err)
		}
		c := threading.Classify(m.ClassifyInput())
		if c.Class == threading.ClassHuman && !strings.HasPrefix(m.Subject, "Fwd:") {
			t.Errorf("message %d (%q): classified human", i, m.Subject)
		}
	}
}

func TestClassify_SisimaiBounceDetails(t *testing.T) {
	dir := filepath.Join(corpusDir(t, "sisimai-set-of-emails"), "maildir")
	// Ground truth taken from each file's own Final-Recipient and Status
	// fields (read with a plain scan, independent of the classifier).
	for _, name := range []string{"bsd/lhost-postfix-01.eml", "bsd/lhost-exim-01.eml", "bsd/lhost-sendmail-01.eml", "bsd/lhost-qmail-01.eml", "bsd/lhost-gmail-01.eml", "bsd/lhost-office365-01.eml", "dos/lhost-postfix-01.eml", "mac/lhost-postfix-01.eml"} {
		t.Run(name, func(t *testing.T) {
			raw := mustRead(t, filepath.Join(dir, name))
			want := scanField(raw, "Final-Recipient")
			c := classifyFile(t, filepath.Join(dir, name))
			if c.Class != threading.ClassBounce {
				t.Fatalf("Classify = %+v", c)
			}
			if want != "" && c.Bounce.Recipient != want {
				t.Errorf("Recipient = %q, want %q", c.Bounce.Recipient, want)
			}
			if c.Bounce.Recipient == "" {
				t.Error("no recipient")
			}
			if st := scanField(raw, "Status"); st != "" && c.Bounce.Status != st {
				t.Errorf("Status = %q, want %q", c.Bounce.Status, st)
			}
		})
	}
}

// scanField returns the address or status of the first "Key: type; value"
// line in raw, lower-cased, or "".
func scanField(raw []byte, key string) string {
	for _, line := range strings.Split(strings.ReplaceAll(string(raw), "\r", "\n"), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || !strings.EqualFold(k, key) {
			continue
		}
		if _, after, ok := strings.Cut(v, ";"); ok {
			v = after
		}
		v = strings.Trim(strings.TrimSpace(v), "<>")
		if f := strings.Fields(v); len(f) > 0 {
			return strings.ToLower(f[0])
		}
	}
	return ""
}

func TestClassify_CorpusReportsAndLists(t *testing.T) {
	tests := []struct {
		corpus, file string
		class        threading.Class
		action       string
		permanent    bool
	}{
		{"sisimai-set-of-emails", "maildir/not/is-not-bounce-01.eml", threading.ClassHuman, "", false},
		{"sisimai-set-of-emails", "maildir/not/is-not-bounce-02.eml", threading.ClassHuman, "", false},
		{"sisimai-set-of-emails", "maildir/not/rb-issue-368-bug.eml", threading.ClassBounce, "", false},
		{"mimekit", "UnitTests/TestData/messages/disposition-notification.txt", threading.ClassReceipt, "", false},
		{"mimekit", "UnitTests/TestData/messages/disposition-notification.anonymized.eml", threading.ClassReceipt, "", false},
		{"mimekit", "UnitTests/TestData/messages/feedback-report.txt", threading.ClassAutoReply, "", false},
		{"mimekit", "UnitTests/TestData/messages/bounce.txt", threading.ClassBounce, "", true},
		{"enmime", "dsn/testdata/delayed_dsn.raw", threading.ClassBounce, "delayed", false},
		{"enmime", "dsn/testdata/dsn_with_multipart_alternative.raw", threading.ClassBounce, "failed", true},
		{"mikel-mail", "spec/fixtures/emails/multipart_report_emails/report_530.eml", threading.ClassBounce, "failed", true},
		{"mikel-mail", "spec/fixtures/emails/multipart_report_emails/report_422.eml", threading.ClassBounce, "delayed", false},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			c := classifyFile(t, filepath.Join(corpusDir(t, tt.corpus), tt.file))
			if c.Class != tt.class {
				t.Fatalf("Classify = %+v, want %s", c, tt.class)
			}
			if c.Class == threading.ClassBounce && tt.action != "" {
				if c.Bounce.Action != tt.action || c.Bounce.Permanent != tt.permanent {
					t.Errorf("Bounce = %+v, want action %s permanent %v", c.Bounce, tt.action, tt.permanent)
				}
			}
		})
	}
}

func TestClassify_NotmuchListMailIsList(t *testing.T) {
	var lists, listed int
	for _, f := range corpusFiles(t, "notmuch-corpora") {
		m := parseFile(t, f)
		c := threading.Classify(m.ClassifyInput())
		if _, ok := m.Header["List-Id"]; ok {
			listed++
			if c.Class == threading.ClassList {
				lists++
			} else if c.Class == threading.ClassHuman {
				t.Errorf("%s: has List-Id but classified human", f)
			}
		}
		if strings.Contains(m.Subject, "AutoReply") && c.Class != threading.ClassAutoReply {
			t.Errorf("%s: RT AutoReply classified %+v", f, c)
		}
	}
	t.Logf("notmuch: %d/%d messages with List-Id classified list", lists, listed)
	if listed == 0 {
		t.Error("no List-Id messages found")
	}
}
