package mail

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func BenchmarkParseSmall(b *testing.B) {
	raw := mustReadB(b, "testdata/gmail-reply.eml")
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(bytes.NewReader(raw), ParseOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// bigMessage streams a message with one base64 attachment of size bytes,
// generated on the fly.
func bigMessage(size int64) io.Reader {
	head := "From: a@example.com\r\nTo: support@example.com\r\nSubject: big\r\n" +
		"Message-ID: <big@example.com>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"BIG\"\r\n\r\n" +
		"--BIG\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n" +
		"--BIG\r\nContent-Type: application/octet-stream\r\n" +
		"Content-Disposition: attachment; filename=\"big.bin\"\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n"
	pr, pw := io.Pipe()
	go func() {
		enc := base64.NewEncoder(base64.StdEncoding, &lineWriter{w: pw})
		chunk := bytes.Repeat([]byte("0123456789abcdef"), 4096)
		for left := size; left > 0; {
			n := int64(len(chunk))
			if left < n {
				n = left
			}
			if _, err := enc.Write(chunk[:n]); err != nil {
				return
			}
			left -= n
		}
		enc.Close()
		pw.Close()
	}()
	return io.MultiReader(strings.NewReader(head), pr, strings.NewReader("\r\n--BIG--\r\n"))
}

// lineWriter breaks base64 output into 76-character lines.
type lineWriter struct {
	w   io.Writer
	col int
}

func (l *lineWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		k := 76 - l.col
		if k > len(p) {
			k = len(p)
		}
		if _, err := l.w.Write(p[:k]); err != nil {
			return 0, err
		}
		p, l.col = p[k:], l.col+k
		if l.col == 76 {
			if _, err := l.w.Write([]byte("\r\n")); err != nil {
				return 0, err
			}
			l.col = 0
		}
	}
	return n, nil
}

// parseBigPeakHeap parses a message with a size-byte attachment through a
// sink and returns the peak HeapInuse growth seen while parsing.
func parseBigPeakHeap(tb testing.TB, size int64) (peak uint64, got int64) {
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var max atomic.Uint64
	done := make(chan struct{})
	go func() {
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > max.Load() {
				max.Store(ms.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	m, err := Parse(bigMessage(size), ParseOptions{
		MaxAttachmentBytes: -1,
		AttachmentSink: func(a *Attachment, r io.Reader) error {
			n, err := io.Copy(io.Discard, r)
			got = n
			return err
		},
	})
	close(done)
	if err != nil {
		tb.Fatal(err)
	}
	if len(m.Attachments) != 1 || m.Attachments[0].Size != size || got != size {
		tb.Fatalf("attachments %+v, sink got %d", m.Attachments, got)
	}
	if max.Load() < base.HeapInuse {
		return 0, got
	}
	return max.Load() - base.HeapInuse, got
}

// BenchmarkParseLargeAttachmentStreamed reports the peak heap growth while a
// 100 MB attachment streams through an AttachmentSink.
func BenchmarkParseLargeAttachmentStreamed(b *testing.B) {
	const size = 100 << 20
	var worst uint64
	for b.Loop() {
		peak, _ := parseBigPeakHeap(b, size)
		worst = max(worst, peak)
	}
	b.SetBytes(size)
	b.ReportMetric(float64(worst)/(1<<20), "peak-heap-MiB")
}

// TestParse_LargeAttachmentStreamsInBoundedMemory guards the streaming
// property: the heap must not grow with the attachment. (The benchmark above
// measures the 100 MB case; 24 MiB, half again the 16 MiB limit, keeps this
// test quick under -race.)
func TestParse_LargeAttachmentStreamsInBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("parses a 24 MiB attachment")
	}
	const size = 24 << 20
	peak, _ := parseBigPeakHeap(t, size)
	t.Logf("peak heap growth for a %d MiB attachment: %.1f MiB", size>>20, float64(peak)/(1<<20))
	if peak > 16<<20 {
		t.Errorf("peak heap growth %s: attachment is not streamed", fmt.Sprintf("%.1f MiB", float64(peak)/(1<<20)))
	}
}

func mustReadB(b *testing.B, path string) []byte {
	b.Helper()
	raw, err := readFile(path)
	if err != nil {
		b.Fatal(err)
	}
	return raw
}
