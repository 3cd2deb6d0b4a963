package e2e_test

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// A mail that cannot be handled never holds the mailbox: through real
// Postfix and Dovecot, the mail that once stalled every replica (a
// Message-ID without "@") and a mail whose ingest fails "temporarily" for
// ever (a database trigger stands in for whatever bug could do that) are
// each followed by 5 normal mails, and every normal mail is ingested. (A
// mail without From is not tried here: Postfix adds one.)
func TestIntake_PoisonMailNeverHoldsTheMailbox(t *testing.T) {
	t.Parallel()
	w := newWorld(t, map[string]string{"HELPDESK_INGEST_MAX_ATTEMPTS": "2", "HELPDESK_INGEST_GIVE_UP_AFTER": "1s", "HELPDESK_IMAP_FAILED_MAILBOX": "Failed"})
	for _, q := range []string{
		`CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.subject = 'poison' THEN
				RAISE EXCEPTION 'could not serialize access' USING ERRCODE = '40001';
			END IF;
			RETURN NEW;
		END $$`,
		`CREATE TRIGGER poison BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION poison()`,
	} {
		if _, err := w.db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	jane := w.mailbox("jane", "acme")
	support := w.addr("support", "help")
	w.start()

	date := time.Now().Format(time.RFC1123Z)
	raw := func(header, body string) []byte {
		s := header + "\nTo: " + support + "\nDate: " + date + "\n\n" + body + "\n"
		return []byte(strings.ReplaceAll(s, "\n", "\r\n"))
	}
	poisons := [][]byte{
		raw("From: "+jane+"\nSubject: no at sign\nMessage-ID: <abc123>", "The Message-ID that stalled the mailbox."),
		raw("From: "+jane+"\nSubject: poison\nMessage-ID: <"+w.newID("poison", jane)+">", "Fails for ever."),
	}
	var normals []string
	for i, p := range poisons {
		if err := w.ms.send(jane, []string{support}, p); err != nil {
			t.Fatalf("poison %d: %v", i, err)
		}
		for j := 0; j < 5; j++ {
			// A customer each: the per-sender limit on new cases stays out of the way.
			from := w.mailbox(fmt.Sprintf("c%d%d", i, j), "acme")
			id := w.newID(fmt.Sprintf("normal-%d-%d", i, j), from)
			normals = append(normals, id)
			w.sendMail("thunderbird-new", from, []string{support}, mailData{
				From: person("Customer", from), To: support, Subject: fmt.Sprintf("Normal %d/%d", i, j), MessageID: id, Body: "A normal mail."})
		}
	}
	for _, id := range normals {
		if d, _ := w.waitIngested(id); d != "new_case" {
			t.Errorf("<%s>: %s, want new_case", id, d)
		}
	}
	w.waitFor("the poison mail in Failed", patience, func() (bool, error) {
		n, err := w.ms.count(support, "Failed")
		return n == 1, err
	})
	if n := w.count(`SELECT count(*) FROM messages WHERE decision = 'failed' AND reason LIKE '%gave up after % attempts in %'`); n != 1 {
		t.Errorf("%d failed mails recorded with the reason, want 1", n)
	}
	if n := w.count(`SELECT count(*) FROM messages WHERE original_message_id = '<abc123>' AND decision = 'new_case'`); n != 1 {
		t.Errorf("the mail with Message-ID <abc123> did not open a case")
	}
}
