package helpdesk_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/helpdesk/helpdesk/helpdesk"
	"github.com/helpdesk/helpdesk/helpdesk/pgtest"
)

// bigMail streams a message with an attachment of n bytes, base64-encoded,
// without ever holding it in memory.
func bigMail(id string, n int64) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		head := "From: jane@acme.example\r\nTo: support@example.com\r\nSubject: big\r\nMessage-ID: <" + id + ">\r\n" +
			"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n" +
			"--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=dump.bin\r\nContent-Transfer-Encoding: base64\r\n\r\n"
		pw.Write([]byte(head))
		enc := base64.NewEncoder(base64.StdEncoding, &lineWriter{w: pw})
		buf := make([]byte, 57*1024)
		for i := range buf {
			buf[i] = byte(i * 7)
		}
		for left := n; left > 0; {
			k := min(int64(len(buf)), left)
			enc.Write(buf[:k])
			left -= k
		}
		enc.Close()
		pw.Write([]byte("\r\n--b--\r\n"))
		pw.Close()
	}()
	return pr
}

// lineWriter breaks base64 into 76-character lines.
type lineWriter struct {
	w   io.Writer
	col int
}

func (l *lineWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		k := min(76-l.col, len(p))
		l.w.Write(p[:k])
		p, l.col = p[k:], l.col+k
		if l.col == 76 {
			l.w.Write([]byte("\r\n"))
			l.col = 0
		}
	}
	return n, nil
}

// BenchmarkIngestLargeAttachment ingests a mail with a 100 MB attachment into
// PostgreSQL and reports the peak heap growth while doing so.
func BenchmarkIngestLargeAttachment(b *testing.B) {
	const size = 100 << 20
	e := newEnvWithDB(b, pgtest.New(b), func(c *helpdesk.IngestConfig) { c.MaxAttachment = 2 * size })
	var peak atomic.Uint64
	for i := 0; i < b.N; i++ {
		runtime.GC()
		var base runtime.MemStats
		runtime.ReadMemStats(&base)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			var m runtime.MemStats
			for {
				select {
				case <-stop:
					return
				case <-time.After(5 * time.Millisecond):
				}
				runtime.ReadMemStats(&m)
				if m.HeapInuse > base.HeapInuse && m.HeapInuse-base.HeapInuse > peak.Load() {
					peak.Store(m.HeapInuse - base.HeapInuse)
				}
			}
		}()
		r, err := e.g.Ingest(context.Background(), helpdesk.Inbound{Mailbox: "bench", UIDValidity: 1, UID: uint32(i + 1),
			Body: bigMail(fmt.Sprintf("big-%d@acme.example", i), size)})
		close(stop)
		wg.Wait()
		if err != nil || r.Decision != "new_case" {
			b.Fatalf("ingest: %+v, %v", r, err)
		}
	}
	var stored int64
	e.s.DB().Get(&stored, `SELECT max(size) FROM attachments`)
	if stored != size {
		b.Fatalf("stored attachment is %d bytes, want %d", stored, size)
	}
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
	b.SetBytes(size)
}

// BenchmarkIngestSmall ingests small mails directly (no IMAP), one
// transaction each.
func BenchmarkIngestSmall(b *testing.B) {
	// Many mails per sender: measure ingest, not the loop brake.
	e := newEnvWithDB(b, pgtest.New(b), func(c *helpdesk.IngestConfig) { c.SenderCaseLimit = -1 })
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		raw := msg(fmt.Sprintf("c%d@acme.example", i%50), "Help", fmt.Sprintf("small-%d@acme.example", i), "", strings.Repeat("text ", 40))
		if _, err := e.ingestErr(raw); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
