package mail

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func readFile(path string) ([]byte, error) { return os.ReadFile(path) }

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.eml")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n\r\n--x--"))
	f.Add([]byte("Subject: =?euc-kr?B?x9GxuQ==?=\r\n\r\n\xff\xfe\x00"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := Parse(bytes.NewReader(raw), ParseOptions{MaxBodyBytes: 1 << 16, MaxAttachmentBytes: 1 << 16})
		if err != nil {
			t.Fatalf("Parse returned %v for in-memory input", err)
		}
		if m.MessageID == "" {
			t.Fatal("empty MessageID")
		}
		assertSafe(t, m)
	})
}
