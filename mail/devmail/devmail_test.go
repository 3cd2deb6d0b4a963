package devmail

import (
	"bytes"
	"errors"
	"net"
	"testing"
	"time"
)

func TestStart_RefusesNonLoopbackAddress(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0", "192.0.2.1:25", "example.com:25", "127.0.0.1"} {
		for _, cfg := range []Config{{IMAPAddr: addr}, {SMTPAddr: addr}} {
			s, err := Start(cfg)
			if err == nil {
				s.Close()
				t.Errorf("Start(%+v) succeeded", cfg)
			}
		}
	}
}

func TestCheckLoopback(t *testing.T) {
	tests := []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:0", true},
		{"127.0.0.2:1143", true},
		{"[::1]:0", true},
		{"localhost:2525", true},
		{"LOCALHOST:2525", true},
		{"0.0.0.0:0", false},
		{":0", false},
		{"[::]:0", false},
		{"10.0.0.1:25", false},
		{"mail.example.com:25", false},
		{"127.0.0.1", false},
	}
	for _, tt := range tests {
		if err := checkLoopback(tt.addr); (err == nil) != tt.ok {
			t.Errorf("checkLoopback(%q) = %v, want ok=%v", tt.addr, err, tt.ok)
		}
	}
}

func TestStart_DefaultsListenOnLoopback(t *testing.T) {
	s := startServer(t, Config{})
	for _, addr := range []string{s.IMAPAddr(), s.SMTPAddr()} {
		host, port, err := net.SplitHostPort(addr)
		if err != nil || host != "127.0.0.1" || port == "0" {
			t.Errorf("listening on %q", addr)
		}
	}
}

func TestAddUser(t *testing.T) {
	tests := []struct {
		name    string
		addr    string
		pass    string
		wantErr bool
	}{
		{"same user and password again is a no-op", supportAddr, supportPass, false},
		{"address in another case is the same user", "Support@Example.COM", supportPass, false},
		{"existing user with another password fails", supportAddr, "other", true},
		{"another case with another password fails", "SUPPORT@example.com", "other", true},
		{"new user", "new@example.com", "pw", false},
		{"empty password", "new@example.com", "", true},
		{"no domain", "support", "pw", true},
		{"no local part", "@example.com", "pw", true},
		{"two at signs", "a@b@example.com", "pw", true},
		{"space", "a b@example.com", "pw", true},
		{"slash", "a/b@example.com", "pw", true},
		{"angle brackets", "<a@example.com>", "pw", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t, Config{})
			err := s.AddUser(tt.addr, tt.pass)
			if (err != nil) != tt.wantErr {
				t.Fatalf("AddUser(%q, %q) = %v, want error %v", tt.addr, tt.pass, err, tt.wantErr)
			}
			if err != nil {
				// A failed AddUser leaves the existing user's password alone.
				loginIMAP(t, s, supportAddr, supportPass)
				return
			}
			c := loginIMAP(t, s, tt.addr, tt.pass)
			if _, err := c.Select("INBOX", nil).Wait(); err != nil {
				t.Errorf("INBOX: %v", err)
			}
		})
	}
}

func TestDeliver_PrependsDeliveredToAndStoresCRLF(t *testing.T) {
	crlfMsg := readTestdata(t, "ks_c_5601-1987.eml")
	lfMsg := readTestdata(t, "dsn-rfc3464-lf.eml")
	tests := []struct {
		name     string
		rcpt     string
		raw      []byte
		wantUser string
		want     []byte
	}{
		{"CRLF message kept byte for byte", supportAddr, crlfMsg, supportAddr,
			append([]byte("Delivered-To: support@example.com\r\n"), crlfMsg...)},
		{"LF message stored with CRLF, as SMTP would carry it", supportAddr, lfMsg, supportAddr,
			append([]byte("Delivered-To: support@example.com\r\n"), crlf(lfMsg)...)},
		{"plus address goes to the base user", "support+abc@example.com", crlfMsg, supportAddr,
			append([]byte("Delivered-To: support+abc@example.com\r\n"), crlfMsg...)},
		{"case-insensitive", "Agent@Example.com", crlfMsg, agentAddr,
			append([]byte("Delivered-To: Agent@Example.com\r\n"), crlfMsg...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t, Config{})
			if err := s.Deliver(tt.rcpt, tt.raw); err != nil {
				t.Fatal(err)
			}
			if got := onlyMessage(t, s, tt.wantUser); !bytes.Equal(got, tt.want) {
				t.Errorf("delivered:\n%q\nwant:\n%q", got[:min(len(got), 120)], tt.want[:min(len(tt.want), 120)])
			}
		})
	}
}

func TestDeliver_RefusesHeaderIMAPWouldServeEmpty(t *testing.T) {
	s := startServer(t, Config{})
	err := s.Deliver(supportAddr, readTestdata(t, "header-without-colon.eml"))
	if !errors.Is(err, ErrMalformedMessage) {
		t.Fatalf("Deliver = %v, want ErrMalformedMessage", err)
	}
	if msgs, _ := s.Mailbox(supportAddr, "INBOX"); len(msgs) != 0 {
		t.Errorf("INBOX has %d messages, want none", len(msgs))
	}
}

func TestDeliver_UnknownRecipient(t *testing.T) {
	s := startServer(t, Config{})
	for _, rcpt := range []string{"nobody@example.com", "nobody+support@example.com", "support@example.org", "support"} {
		if err := s.Deliver(rcpt, simpleMessage("x")); !errors.Is(err, ErrUnknownRecipient) {
			t.Errorf("Deliver(%q) = %v, want ErrUnknownRecipient", rcpt, err)
		}
	}
}

func TestMailbox_UnknownUserOrFolderFails(t *testing.T) {
	s := startServer(t, Config{})
	if _, err := s.Mailbox("nobody@example.com", "INBOX"); err == nil {
		t.Error("unknown user: no error")
	}
	if _, err := s.Mailbox(supportAddr, "Nope"); err == nil {
		t.Error("unknown folder: no error")
	}
	if msgs, err := s.Mailbox("SUPPORT@example.com", "INBOX"); err != nil || len(msgs) != 0 {
		t.Errorf("empty INBOX: %d messages, %v", len(msgs), err)
	}
}

func TestClose_IdempotentAndStopsEverything(t *testing.T) {
	s := startServer(t, Config{})
	idle := loginIMAP(t, s, supportAddr, supportPass)
	if _, err := idle.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := idle.Idle(); err != nil {
		t.Fatal(err)
	}
	imapAddr, smtpAddr := s.IMAPAddr(), s.SMTPAddr()

	for i := 0; i < 2; i++ {
		if err := s.Close(); err != nil {
			t.Fatalf("Close #%d: %v", i+1, err)
		}
	}
	select {
	case <-idle.Closed():
	case <-time.After(generous):
		t.Error("IDLE connection still open after Close")
	}
	for _, addr := range []string{imapAddr, smtpAddr} {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			t.Errorf("%s still accepts connections", addr)
		}
	}
	if err := s.Deliver(supportAddr, simpleMessage("late")); !errors.Is(err, ErrClosed) {
		t.Errorf("Deliver after Close: %v", err)
	}
	if err := s.AddUser("late@example.com", "pw"); !errors.Is(err, ErrClosed) {
		t.Errorf("AddUser after Close: %v", err)
	}
	if _, err := s.Mailbox(supportAddr, "INBOX"); !errors.Is(err, ErrClosed) {
		t.Errorf("Mailbox after Close: %v", err)
	}
}

func TestToCRLF(t *testing.T) {
	tests := []struct{ in, want string }{
		{"A: b\r\n\r\nx\r\n", "A: b\r\n\r\nx\r\n"},
		{"A: b\n\nx\n", "A: b\r\n\r\nx\r\n"},
		{"\nmixed\r\nend\n", "\r\nmixed\r\nend\r\n"},
		{"bare\rCR stays", "bare\rCR stays"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := toCRLF([]byte(tt.in)); string(got) != tt.want {
			t.Errorf("toCRLF(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
