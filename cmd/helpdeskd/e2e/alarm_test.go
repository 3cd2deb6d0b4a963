package e2e_test

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// A wrong IMAP password: Dovecot refuses the daemon, /readyz answers 503,
// and after HELPDESK_ALARM_AFTER the operator finds one alarm mail in their
// mailbox on Dovecot, naming the mailbox and the refusal (never the
// password). With the right password (a restart, as after fixing the
// configuration) /readyz answers 200 and one recovery mail follows.
func TestAlarm_WrongIMAPPasswordMailsTheOperatorThenTheRecovery(t *testing.T) {
	httpAddr := alarmHTTPAddr(t)
	w := newWorld(t, map[string]string{
		"HELPDESK_IMAP_PASSWORD": "not-the-password",
		"HELPDESK_ALARM_AFTER":   "3s",
		"HELPDESK_HTTP_ADDR":     httpAddr,
	})
	ops := w.mailbox("ops", "help")
	w.env["HELPDESK_OPERATOR_ADDRESS"] = ops
	w.start()

	alarm := w.waitMail(ops, 1)[0]
	subject := alarm.get("Subject")
	if !strings.HasPrefix(subject, "ALARM: mailbox support/INBOX has not worked since") {
		t.Fatalf("alarm subject %q", subject)
	}
	text := alarm.text()
	if !strings.Contains(text, "authenticating as "+w.addr("support", "help")) || strings.Contains(text, "not-the-password") {
		t.Fatalf("alarm text should name the refusal and never the password:\n%s", text)
	}
	if code := httpStatus(t, "http://"+httpAddr+"/readyz"); code != 503 {
		t.Fatalf("/readyz = %d with a wrong password, want 503", code)
	}
	time.Sleep(3 * time.Second) // more checks: still one mail
	if n := len(w.inbox(ops)); n != 1 {
		t.Fatalf("operator has %d mails, want 1 alarm per incident", n)
	}

	w.stop()
	w.env["HELPDESK_IMAP_PASSWORD"] = password
	w.start()
	got := w.waitMail(ops, 2)
	if s := got[1].get("Subject"); s != "Recovered: mailbox support/INBOX works again" {
		t.Fatalf("recovery subject %q", s)
	}
	w.waitFor("/readyz 200", patience, func() (bool, error) { return httpStatus(t, "http://"+httpAddr+"/readyz") == 200, nil })
	if n := w.count(`SELECT count(*) FROM incidents WHERE resolved_at IS NOT NULL`); n != 1 {
		t.Fatalf("%d resolved incidents, want 1", n)
	}

	// SIGTERM: the poller ends IDLE and logs out; Dovecot logs "Logged
	// out" for a LOGOUT, "Disconnected" for a dropped connection.
	w.stop()
	support := w.addr("support", "help")
	w.waitFor("Dovecot to log the daemon's LOGOUT", 10*time.Second, func() (bool, error) {
		b, err := os.ReadFile(w.ms.path("dovecot/dovecot.log"))
		for _, line := range strings.Split(string(b), "\n") {
			if strings.Contains(line, "imap("+support+")") && strings.Contains(line, "Logged out") {
				return true, nil
			}
		}
		return false, err
	})
}

func alarmHTTPAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func httpStatus(t *testing.T, url string) int {
	t.Helper()
	c := http.Client{Timeout: 5 * time.Second}
	for i := 0; ; i++ {
		resp, err := c.Get(url)
		if err == nil {
			resp.Body.Close()
			return resp.StatusCode
		}
		if i == 50 {
			t.Fatal(fmt.Errorf("GET %s: %w", url, err))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
