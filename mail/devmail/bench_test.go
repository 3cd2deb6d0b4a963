package devmail

import (
	"fmt"
	"testing"

	"github.com/emersion/go-smtp"
)

// BenchmarkSMTPDelivery sends the 8-bit Korean test message over one SMTP
// connection, one transaction per iteration.
func BenchmarkSMTPDelivery(b *testing.B) {
	s, err := Start(Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.AddUser(supportAddr, supportPass); err != nil {
		b.Fatal(err)
	}
	c, err := smtp.Dial(s.SMTPAddr())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	msg := readTestdata(b, "ks_c_5601-1987.eml")
	b.SetBytes(int64(len(msg)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := c.Mail("kim@customer.example", nil); err != nil {
			b.Fatal(err)
		}
		if err := c.Rcpt("support+tok@example.com", nil); err != nil {
			b.Fatal(err)
		}
		w, err := c.Data()
		if err != nil {
			b.Fatal(err)
		}
		w.Write(msg)
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCloseAndStart saves and reloads 1,000 messages of ~4 KiB.
func BenchmarkCloseAndStart(b *testing.B) {
	dir := b.TempDir()
	s, err := Start(Config{StateDir: dir})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.AddUser(supportAddr, supportPass); err != nil {
		b.Fatal(err)
	}
	body := make([]byte, 4096)
	for i := range body {
		body[i] = 'a' + byte(i%26)
		if i%76 == 75 {
			body[i] = '\n'
		}
	}
	for i := 0; i < 1000; i++ {
		msg := append(simpleMessage(fmt.Sprintf("m%d", i)), body...)
		if err := s.Deliver(supportAddr, msg); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		if s, err = Start(Config{StateDir: dir}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	s.Close()
}
