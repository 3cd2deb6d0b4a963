package htmltext

import (
	"bytes"
	"encoding/base64"
	"io"
	"io/fs"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// BenchmarkConvert_Mail converts real HTML mail bodies, one mail per
// operation (ns/op, B/op and allocs/op are per mail): the client fixtures in
// testdata, and, when the shared corpora are checked out beside the
// repository (or HTMLTEXT_CORPORA names them), every text/html part of
// their messages and their .html fixtures.
func BenchmarkConvert_Mail(b *testing.B) {
	docs := benchMails(b)
	size := 0
	for _, d := range docs {
		size += len(d)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = Convert(docs[i%len(docs)])
	}
	b.ReportMetric(float64(len(docs)), "mails")
	b.ReportMetric(float64(size)/float64(len(docs)), "bytes/mail")
}

func benchMails(b *testing.B) []string {
	b.Helper()
	seen := map[string]bool{}
	var docs []string
	add := func(s string) {
		if strings.TrimSpace(s) != "" && !seen[s] {
			seen[s] = true
			docs = append(docs, s)
		}
	}
	files, _ := filepath.Glob("testdata/*.html")
	for _, f := range files {
		d, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		add(string(d))
	}
	root := os.Getenv("HTMLTEXT_CORPORA")
	if root == "" {
		root = filepath.Join("..", "..", "..", "shared", "corpora")
	}
	var paths []string
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			paths = append(paths, p)
		}
		return nil
	})
	sort.Strings(paths)
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		ext := strings.ToLower(filepath.Ext(p))
		if ext == ".html" || ext == ".htm" {
			add(string(data))
			continue
		}
		if !bytes.Contains(bytes.ToLower(data), []byte("text/html")) {
			continue
		}
		msg, err := mail.ReadMessage(bytes.NewReader(data))
		if err != nil {
			continue
		}
		htmlParts(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body, 0, add)
	}
	if len(docs) == 0 {
		b.Skip("no HTML mails found")
	}
	return docs
}

// htmlParts calls add with the decoded body of every text/html part.
func htmlParts(ctype, cte string, body io.Reader, depth int, add func(string)) {
	if depth > 8 {
		return
	}
	mt, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		return
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err != nil {
				return
			}
			htmlParts(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p, depth+1, add)
		}
	}
	if mt != "text/html" {
		return
	}
	var r io.Reader = body
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, &skipSpace{r: body})
	case "quoted-printable":
		r = quotedprintable.NewReader(body)
	}
	d, _ := io.ReadAll(r)
	add(string(d))
}

// skipSpace drops line breaks and spaces from base64 input.
type skipSpace struct{ r io.Reader }

func (s *skipSpace) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	j := 0
	for _, c := range p[:n] {
		if c != '\r' && c != '\n' && c != ' ' && c != '\t' {
			p[j] = c
			j++
		}
	}
	return j, err
}
