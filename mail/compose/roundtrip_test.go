package compose

import (
	"bytes"
	"encoding/json"
	"mime"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/helpdesk/helpdesk/threading"
)

// pythonRead parses mails (a JSON list of base64 strings on stdin) with
// Python's email package (policy.default, the parser of many mail tools)
// and returns the decoded Subject, From, To and attachment names of each.
const pythonRead = `
import base64, email, email.policy, json, sys
def read(raw):
    m = email.message_from_bytes(base64.b64decode(raw), policy=email.policy.default)
    def addrs(h):
        return [[a.display_name, a.addr_spec] for a in m[h].addresses]
    return {"subject": str(m["subject"]), "from": addrs("from"), "to": addrs("to"),
            "files": [p.get_filename() for p in m.iter_attachments()],
            "defects": [str(d) for h in ("subject", "from", "to") for d in m[h].defects]}
json.dump([read(r) for r in json.load(sys.stdin)], sys.stdout)
`

type pyHeader struct {
	Subject string      `json:"subject"`
	From    [][2]string `json:"from"`
	To      [][2]string `json:"to"`
	Files   []string    `json:"files"`
	Defects []string    `json:"defects"`
}

// readWithPython runs Python once for all of raws.
func readWithPython(t *testing.T, raws [][]byte) []pyHeader {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("python3 is required in CI")
		}
		t.Skip("python3 not found")
	}
	in, err := json.Marshal(raws) // []byte marshals as base64
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, "-c", pythonRead)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3: %v\n%s", err, stderr.String())
	}
	var hs []pyHeader
	if err := json.Unmarshal(out, &hs); err != nil || len(hs) != len(raws) {
		t.Fatalf("python3 output %q: %v", out, err)
	}
	return hs
}

func TestBytes_SubjectsAndNamesRoundTripInManyScripts(t *testing.T) {
	longName := "Maximilian Alexander von Hohenzollern-Sigmaringen, Leiter Kundenservice Süd (Vertretung)"
	tests := []struct {
		name    string
		subject string
		from    string
		to      string
		// Python 3.11 joins adjacent encoded words of a display name with
		// a space (RFC 2047 section 6.2 says to drop it; go-message does):
		// a name too long for one encoded word gains spaces there.
		pythonAddsSpaces bool
	}{
		{"Korean", "[Case #2] 첫 응답: 로그인이 되지 않습니다", "김민수 via 지원팀", "이영희", false},
		{"Korean reply with the tag in the middle", "Re: 답장 [Case #12] 비밀번호 재설정 후에도 같은 오류", "지원팀", "박지성 (리셀러)", false},
		{"Japanese", "[Case #345] ログインできません — パスワードを再設定しても同じエラー", "サポート担当 山田太郎", "佐藤花子", false},
		{"Chinese", "[Case #6789] 无法登录：重置密码后仍然出现同样的错误", "技术支持 王伟", "李娜", false},
		{"Russian", "[Case #77] Не удаётся войти в систему после сброса пароля", "Служба поддержки", "Иван Петров", false},
		{"German", "[Case #8] Anmeldung schlägt fehl – Grüße aus Köln, Straße gesperrt", "Jürgen Müller", "Björn Größ", false},
		{"emoji", "[Case #9] 🎉 Thanks! 👍 Your first response arrived 🚀🚀🚀", "Support 🤖", "Dana 🌈", false},
		{"ASCII that looks like an encoded word", "[Case #10] literal =?utf-8?q?x?= stays literal", "Support", "Ann", false},
		{"very long Korean", "[Case #123456] " + strings.Repeat("긴 제목의 첫 응답 시간이 지났습니다 ", 10) + "끝", "지원팀", "이영희", false},
		{"very long mixed", "Re: Re: [Case #42] first response overdue — " + strings.Repeat("서버가 응답하지 않습니다 server not responding ", 5) + "끝",
			longName, strings.Repeat("아주 긴 이름 ", 12) + "끝", true},
		{"very long ASCII", "[Case #5] " + strings.Repeat("first response overdue again ", 8) + "end", longName, "Ann", false},
	}
	file := func(i int) string { return tests[i].to + " " + tests[i].name + ".pdf" }
	raws := make([][]byte, len(tests))
	for i, tt := range tests {
		m := baseMessage()
		m.Subject = tt.subject
		m.From.Name = tt.from
		m.To = []Address{{Name: tt.to, Address: "customer@example.co.kr"}}
		m.Attachments = []Attachment{{Filename: file(i), ContentType: "application/pdf", Content: []byte("%PDF")}}
		var err error
		if raws[i], err = m.Bytes(); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
	}
	pys := readWithPython(t, raws)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, py := raws[i], pys[i]
			head, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
			for _, line := range strings.Split(string(head), "\r\n") {
				if len(line) > 78 {
					t.Errorf("header line of %d octets: %q", len(line), line)
				}
			}
			wantN, _ := threading.CaseTag(tt.subject)
			tag := tt.subject[strings.Index(tt.subject, "[Case"):]
			tag = tag[:strings.Index(tag, "]")+1]
			// The tag is never inside an encoded word or cut by folding.
			if !bytes.Contains(head, []byte(tag)) {
				t.Errorf("raw header does not hold %q byte-exact:\n%s", tag, head)
			}

			h := decode(t, raw).header
			if got, err := h.Subject(); err != nil || got != tt.subject {
				t.Errorf("go-message Subject = %q, %v; want %q", got, err, tt.subject)
			}
			from, err := h.AddressList("From")
			if err != nil || len(from) != 1 || from[0].Name != tt.from || from[0].Address != "support@example.com" {
				t.Errorf("go-message From = %v, %v; want %q", from, err, tt.from)
			}
			to, err := h.AddressList("To")
			if err != nil || len(to) != 1 || to[0].Name != tt.to {
				t.Errorf("go-message To = %v, %v; want %q", to, err, tt.to)
			}

			if py.Subject != tt.subject {
				t.Errorf("Python Subject = %q\n                  want %q", py.Subject, tt.subject)
			}
			if n, ok := threading.CaseTag(py.Subject); !ok || n != wantN {
				t.Errorf("CaseTag(Python's subject) = %d, %v; want %d", n, ok, wantN)
			}
			if want := [][2]string{{tt.from, "support@example.com"}}; len(py.From) != 1 || py.From[0] != want[0] {
				t.Errorf("Python From = %q, want %q", py.From, want)
			}
			if tt.pythonAddsSpaces && len(py.To) == 1 {
				py.To[0][0] = strings.Join(strings.Fields(py.To[0][0]), " ")
			}
			if len(py.To) != 1 || py.To[0] != [2]string{tt.to, "customer@example.co.kr"} {
				t.Errorf("Python To = %q, want %q", py.To, tt.to)
			}
			if len(py.Files) != 1 || py.Files[0] != file(i) {
				t.Errorf("Python attachment names = %q, want %q", py.Files, file(i))
			}
			if len(py.Defects) > 0 {
				t.Errorf("Python reports defects: %q", py.Defects)
			}
		})
	}
}

func TestEncodeText_KeepsASCIIWordsWholeAndEncodesWholeWords(t *testing.T) {
	tests := []struct {
		in        string
		wantPlain []string // words that must appear as they are
	}{
		{"[Case #2] 첫 응답", []string{"[Case", "#2]"}},
		{"Re: [Case #2] first response 지연", []string{"Re:", "[Case", "#2]", "first", "response"}},
		{"서버 [Case #31] 오류", []string{"[Case", "#31]"}},
	}
	for _, tt := range tests {
		enc := encodeText(tt.in, maxWordLen)
		fields := strings.Fields(enc)
		for _, w := range tt.wantPlain {
			found := false
			for _, f := range fields {
				found = found || f == w
			}
			if !found {
				t.Errorf("encodeText(%q) = %q: %q is not a plain word", tt.in, enc, w)
			}
		}
		// Each encoded word decodes to whole words: it never ends inside one.
		for _, f := range fields {
			if !strings.HasPrefix(f, "=?") {
				continue
			}
			dec, err := new(strings.Builder), error(nil)
			s, err := decodeWord(f)
			dec.WriteString(s)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(tt.in, strings.TrimSpace(dec.String())) {
				t.Errorf("encoded word %s decodes to %q, not whole words of %q", f, dec, tt.in)
			}
		}
	}
}

func decodeWord(w string) (string, error) {
	return new(mime.WordDecoder).Decode(w)
}
