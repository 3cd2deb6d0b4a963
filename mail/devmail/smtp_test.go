package devmail

import (
	"bytes"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"
)

// traceRE matches the headers SMTP delivery prepends.
var traceRE = regexp.MustCompile(`^Return-Path: <([^>]*)>\r\n` +
	`Delivered-To: (\S+)\r\n` +
	`Received: from client\.example \(\[127\.0\.0\.1\]\)\r\n` +
	`\tby localhost \(devmail\) with (ESMTPA?)\r\n` +
	`\tfor <(\S+)>; [A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}\r\n`)

// splitTrace returns the trace header values (return path, Delivered-To,
// protocol, Received "for") and the message as sent.
func splitTrace(t *testing.T, msg []byte) (returnPath, deliveredTo, with, forAddr string, rest []byte) {
	t.Helper()
	m := traceRE.FindSubmatch(msg)
	if m == nil {
		head, _, _ := bytes.Cut(msg, []byte("\r\n\r\n"))
		t.Fatalf("no trace headers on top of:\n%s", head)
	}
	return string(m[1]), string(m[2]), string(m[3]), string(m[4]), msg[len(m[0]):]
}

func TestSMTP_RecipientDeliveredToBaseInboxWithDeliveredToAsGiven(t *testing.T) {
	raw := readTestdata(t, "ks_c_5601-1987.eml") // 8-bit, CRLF
	for _, rcpt := range []string{
		"support@example.com",
		"support+c1234.AbC_x@example.com",
		"SUPPORT+Tok@EXAMPLE.COM",
		"support+@example.com",
	} {
		t.Run(rcpt, func(t *testing.T) {
			s := startServer(t, Config{})
			mustSend(t, s, tx{from: "kim@customer.example", rcpts: []string{rcpt}, msg: raw})

			rp, dt, with, forAddr, rest := splitTrace(t, onlyMessage(t, s, supportAddr))
			if rp != "kim@customer.example" || dt != rcpt || forAddr != rcpt || with != "ESMTP" {
				t.Errorf("Return-Path %q, Delivered-To %q, for %q, with %q", rp, dt, forAddr, with)
			}
			if !bytes.Equal(rest, raw) {
				t.Errorf("message changed on the way:\n got %q\nwant %q", rest, raw)
			}
			if msgs, _ := s.Mailbox(agentAddr, "INBOX"); len(msgs) != 0 {
				t.Errorf("agent got %d messages", len(msgs))
			}
		})
	}
}

func TestSMTP_UnknownRecipientRejectedWhileOthersInSameTransactionGetTheMail(t *testing.T) {
	s := startServer(t, Config{})
	r := send(t, s, tx{
		from:  "customer@customer.example",
		rcpts: []string{"nobody@example.com", "support+x@example.com", "nobody+support@example.com", agentAddr, "support@other.example"},
		msg:   simpleMessage("mixed"),
	})
	wantCodes := []int{550, 0, 550, 0, 550}
	for i, err := range r.rcptErrs {
		if smtpCode(err) != wantCodes[i] {
			t.Errorf("RCPT %d: %v, want code %d", i, err, wantCodes[i])
		}
		if se, ok := err.(*smtp.SMTPError); ok && se.EnhancedCode != (smtp.EnhancedCode{5, 1, 1}) {
			t.Errorf("RCPT %d: enhanced code %v, want 5.1.1", i, se.EnhancedCode)
		}
	}
	if r.dataErr != nil {
		t.Fatalf("DATA: %v", r.dataErr)
	}
	for addr, rcpt := range map[string]string{supportAddr: "support+x@example.com", agentAddr: agentAddr} {
		_, dt, _, _, _ := splitTrace(t, onlyMessage(t, s, addr))
		if dt != rcpt {
			t.Errorf("%s: Delivered-To %q, want %q", addr, dt, rcpt)
		}
	}
}

func TestSMTP_SameRecipientTwiceGetsOneCopy(t *testing.T) {
	s := startServer(t, Config{})
	mustSend(t, s, tx{from: "c@customer.example", rcpts: []string{supportAddr, "Support@Example.com"}, msg: simpleMessage("twice")})
	onlyMessage(t, s, supportAddr)
}

func TestSMTP_NullSenderBounceAcceptedWithEmptyReturnPath(t *testing.T) {
	s := startServer(t, Config{})
	dsn := readTestdata(t, "dsn-rfc3464-lf.eml")
	mustSend(t, s, tx{from: "", rcpts: []string{"support+bounce@example.com"}, msg: dsn})

	rp, _, _, _, rest := splitTrace(t, onlyMessage(t, s, supportAddr))
	if rp != "" {
		t.Errorf("Return-Path <%s>, want <>", rp)
	}
	if !bytes.Equal(rest, crlf(dsn)) { // SMTP carries lines as CRLF
		t.Errorf("bounce changed on the way")
	}
}

func TestSMTP_Auth(t *testing.T) {
	tests := []struct {
		name     string
		user     string
		pass     string
		wantCode int // 0: accepted
	}{
		{"own password accepted", supportAddr, supportPass, 0},
		{"address in another case accepted", "Support@EXAMPLE.com", supportPass, 0},
		{"wrong password rejected", supportAddr, "wrong", 535},
		{"another user's password rejected", supportAddr, agentPass, 535},
		{"unknown user rejected", "ghost@example.com", supportPass, 535},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t, Config{})
			r := send(t, s, tx{auth: []string{tt.user, tt.pass}, from: agentAddr, rcpts: []string{supportAddr}, msg: simpleMessage("auth")})
			if got := smtpCode(r.authErr); got != tt.wantCode || (tt.wantCode == 0 && r.authErr != nil) {
				t.Fatalf("AUTH: %v, want code %d", r.authErr, tt.wantCode)
			}
			if tt.wantCode != 0 {
				return
			}
			if r.dataErr != nil {
				t.Fatal(r.dataErr)
			}
			if _, _, with, _, _ := splitTrace(t, onlyMessage(t, s, supportAddr)); with != "ESMTPA" {
				t.Errorf("Received with %s, want ESMTPA", with)
			}
		})
	}
}

func TestSMTP_FiftyMebibyteLimitAdvertisedAndEnforced(t *testing.T) {
	s := startServer(t, Config{})
	c, err := smtp.Dial(s.SMTPAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("client.example"); err != nil {
		t.Fatal(err)
	}
	if size, ok := c.MaxMessageSize(); !ok || size != 50<<20 {
		t.Errorf("SIZE %d (%v), want %d", size, ok, 50<<20)
	}
	err = c.Mail("c@customer.example", &smtp.MailOptions{Size: 50<<20 + 1})
	if code := smtpCode(err); code != 552 {
		t.Errorf("MAIL with SIZE over the limit: %v, want 552", err)
	}
	if err := c.Reset(); err != nil {
		t.Fatal(err)
	}
	if err := c.Mail("c@customer.example", &smtp.MailOptions{Size: 50 << 20}); err != nil {
		t.Errorf("MAIL with SIZE at the limit: %v", err)
	}
}

func TestSMTP_MalformedHeaderRefusedWith554(t *testing.T) {
	s := startServer(t, Config{})
	r := send(t, s, tx{from: "alice@example.com", rcpts: []string{supportAddr}, msg: readTestdata(t, "header-without-colon.eml")})
	var se *smtp.SMTPError
	if !errors.As(r.dataErr, &se) || se.Code != 554 || se.EnhancedCode != (smtp.EnhancedCode{5, 6, 0}) {
		t.Fatalf("DATA: %v, want 554 5.6.0", r.dataErr)
	}
	if msgs, _ := s.Mailbox(supportAddr, "INBOX"); len(msgs) != 0 {
		t.Errorf("INBOX has %d messages, want none", len(msgs))
	}
}

func TestSMTP_LinesLongerThanRFCLimitArriveIntact(t *testing.T) {
	s := startServer(t, Config{})
	msg := append(simpleMessage("long"), []byte(strings.Repeat("x", 10000)+"\r\n")...)
	mustSend(t, s, tx{from: "c@customer.example", rcpts: []string{supportAddr}, msg: msg})
	if _, _, _, _, rest := splitTrace(t, onlyMessage(t, s, supportAddr)); !bytes.Equal(rest, msg) {
		t.Error("long line changed on the way")
	}
}
