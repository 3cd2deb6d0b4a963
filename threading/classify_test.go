package threading

import (
	"bufio"
	"io"
	"mime"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestClassify_Headers(t *testing.T) {
	tests := []struct {
		name    string
		header  map[string][]string
		subject string
		want    Class
	}{
		{"plain mail is human", nil, "Help with my order", ClassHuman},
		{"Auto-Submitted: no is human", hdr("Auto-Submitted", "no"), "Re: order", ClassHuman},
		{"X-Auto-Response-Suppress is a request, not automation", hdr("X-Auto-Response-Suppress", "All"), "Re: order", ClassHuman},
		{"Auto-Submitted auto-replied", hdr("Auto-Submitted", "auto-replied"), "Away", ClassAutoReply},
		{"Auto-Submitted auto-generated with parameters", hdr("auto-submitted", "Auto-Generated; owner-email=x@y"), "Report", ClassAutoReply},
		{"X-Autoreply", hdr("X-Autoreply", "yes"), "Away", ClassAutoReply},
		{"X-Autorespond", hdr("X-Autorespond", "yes"), "Away", ClassAutoReply},
		{"Precedence auto_reply", hdr("Precedence", "auto_reply"), "Away", ClassAutoReply},
		{"Exchange inbox rule", hdr("X-MS-Exchange-Inbox-Rules-Loop", "a@b.c"), "Nyaan", ClassAutoReply},
		{"Apple vacation", hdr("X-Apple-Action", "VACATION"), "Nyaan", ClassAutoReply},
		{"List-Id", hdr("List-Id", "<dev.lists.example.org>"), "[dev] release", ClassList},
		{"Precedence bulk", hdr("Precedence", "bulk"), "Newsletter", ClassList},
		{"Precedence list", hdr("Precedence", "list"), "Digest", ClassList},
		{"Precedence junk", hdr("Precedence", "junk"), "Offer", ClassList},
		{"null Return-Path without bounce text", hdr("Return-Path", "<>"), "Notice", ClassAutoReply},
		{"auto-reply wins over bulk", hdr("Precedence", "bulk", "Auto-Submitted", "auto-replied"), "Away", ClassAutoReply},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Classify(ClassifyInput{Header: tt.header, From: "someone@example.com", Subject: tt.subject})
			if c.Class != tt.want {
				t.Errorf("Classify = %+v, want %s", c, tt.want)
			}
			if c.Reason == "" {
				t.Error("empty reason")
			}
		})
	}
}

func TestClassify_OutOfOfficeSubjectsInManyLanguages(t *testing.T) {
	for _, subject := range []string{
		"Automatic reply: Your request",
		"Auto Reply: Your request",
		"Out of Office: Your request",
		"Out of Office AutoReply: Your request",
		"자동 회신: 견적 문의",
		"자동회신: 견적 문의",
		"[부재중] 견적 문의",
		"부재중: 견적 문의",
		"Abwesenheitsnotiz: Ihre Anfrage",
		"Automatische Antwort: Ihre Anfrage",
		"Réponse automatique : Votre demande",
		"Absence du bureau: Votre demande",
		"自動応答: お問い合わせ",
		"自動返信：お問い合わせ",
		"不在: お問い合わせ",
		"Respuesta automática: Su consulta",
		"Risposta automatica: La richiesta",
		"Automatisch antwoord: Uw vraag",
		"Autosvar: Din forespørsel",
		"[support.example.com #33575] AutoReply: Printer broken",
		"Out of office",
	} {
		t.Run(subject, func(t *testing.T) {
			c := Classify(ClassifyInput{From: "person@example.com", Subject: subject})
			if c.Class != ClassAutoReply {
				t.Errorf("Classify = %+v, want auto-reply", c)
			}
		})
	}
}

func TestClassify_RepliesThatMentionAutoReplyWordsAreHuman(t *testing.T) {
	for _, subject := range []string{
		"Re: Automatic reply: Your request",
		"회신: 견적 문의 드립니다",
		"Out of office settings do not save",
		"Fwd: Undeliverable: Invoice",
		"Question about absence management",
	} {
		t.Run(subject, func(t *testing.T) {
			if c := Classify(ClassifyInput{From: "person@example.com", Subject: subject}); c.Class != ClassHuman {
				t.Errorf("Classify = %+v, want human", c)
			}
		})
	}
}

func TestClassify_OwnLoop(t *testing.T) {
	base := ClassifyInput{LoopID: "hd-1", OwnMessageIDDomain: "helpdesk.example.com", OwnAddresses: []string{"support@example.com"}}
	tests := []struct {
		name string
		mod  func(*ClassifyInput)
		want Class
	}{
		{"our loop header", func(in *ClassifyInput) { in.Header = hdr("X-Helpdesk-Loop", "hd-1") }, ClassLoop},
		{"our form of Message-ID", func(in *ClassifyInput) { in.MessageID = "HD.v1-a-b-c.xyz@Helpdesk.Example.com" }, ClassLoop},
		{"a colleague's Message-ID in our domain is not a loop", func(in *ClassifyInput) { in.MessageID = "CAF+123@helpdesk.example.com" }, ClassHuman},
		{"our own From address", func(in *ClassifyInput) { in.From = "Support@Example.com" }, ClassLoop},
		{"another instance's loop header is automated", func(in *ClassifyInput) { in.Header = hdr("X-Helpdesk-Loop", "hd-2") }, ClassAutoReply},
		{"a reply referencing our ids is not a loop", func(in *ClassifyInput) {
			in.From = "customer@example.net"
			in.MessageID = "abc@mail.example.net"
		}, ClassHuman},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := base
			in.From = "x@example.org"
			tt.mod(&in)
			if c := Classify(in); c.Class != tt.want {
				t.Errorf("Classify = %+v, want %s", c, tt.want)
			}
		})
	}
}

func TestClassify_DeliveryStatusReport(t *testing.T) {
	ds := "Reporting-MTA: dns; mx.example.com\n\n" +
		"Final-Recipient: rfc822; ok@example.net\nAction: delivered\nStatus: 2.0.0\n\n" +
		"Original-Recipient: rfc822;Gone@Example.NET\nFinal-Recipient: rfc822; gone@example.net\n" +
		"Action: failed\nStatus: 5.1.1 (user unknown)\nDiagnostic-Code: smtp; 550 5.1.1 User unknown\n"
	c := Classify(ClassifyInput{
		From: "mailer-daemon@mx.example.com", ReportType: "delivery-status", DeliveryStatus: ds,
		OriginalHeaders: "From: support@example.com\nMessage-ID:\n <case-1.2.x@helpdesk.example.com>\n",
	})
	want := Bounce{Recipient: "gone@example.net", Status: "5.1.1", Action: "failed", Permanent: true,
		OriginalMessageID: "case-1.2.x@helpdesk.example.com", Diagnostic: "550 5.1.1 User unknown"}
	if c.Class != ClassBounce || c.Bounce == nil || *c.Bounce != want {
		t.Errorf("Classify = %+v %+v, want %+v", c, c.Bounce, want)
	}
}

func TestClassify_DelayedDSNIsABounceButNotPermanent(t *testing.T) {
	c := Classify(ClassifyInput{ReportType: "delivery-status",
		DeliveryStatus: "Final-Recipient: rfc822; slow@example.net\nAction: delayed\nStatus: 4.4.7\n"})
	if c.Class != ClassBounce || c.Bounce.Permanent || c.Bounce.Action != "delayed" {
		t.Errorf("Classify = %+v %+v", c, c.Bounce)
	}
}

func TestClassify_MachineReportsAreNeverHuman(t *testing.T) {
	for rt, want := range map[string]Class{"disposition-notification": ClassReceipt, "feedback-report": ClassAutoReply} {
		if c := Classify(ClassifyInput{ReportType: rt, From: "person@example.com", Subject: "Read: hi"}); c.Class != want {
			t.Errorf("%s: Classify = %+v, want %s", rt, c, want)
		}
	}
}

func TestClassify_AutoForwardedIsHumanUnlessOtherwiseAutomated(t *testing.T) {
	fwd := func(kv ...string) map[string][]string {
		return hdr(append([]string{"Auto-Submitted", "auto-forwarded"}, kv...)...)
	}
	tests := []struct {
		name    string
		header  map[string][]string
		subject string
		report  string
		want    Class
	}{
		{"mailbox rule forward of a customer's mail is human", fwd(), "Re: [#42] Invoice question", "", ClassHuman},
		{"Exchange inbox rule forward is human", fwd("X-MS-Exchange-Inbox-Rules-Loop", "minji@customer.example",
			"X-MS-Exchange-Organization-AutoForwarded", "true"), "Invoice question", "", ClassHuman},
		{"auto-forwarded with parameters is human", hdr("Auto-Submitted", "Auto-Forwarded; by=rule"), "Order 1234", "", ClassHuman},
		{"forward carrying X-Forwarded-To and auto-forwarded is human", hdr("X-Forwarded-For", "support@helpdesk.example.com support@helpdesk.example.com",
			"X-Forwarded-To", "support@helpdesk.example.com", "Auto-Submitted", "auto-forwarded"), "Re: [#42] Invoice question", "", ClassHuman},
		{"forwarded vacation reply by subject stays auto-reply", fwd(), "Automatic reply: Invoice question", "", ClassAutoReply},
		{"forwarded vacation reply by X-Autoreply stays auto-reply", fwd("X-Autoreply", "yes"), "Away", "", ClassAutoReply},
		{"forwarded Apple Mail vacation stays auto-reply", fwd("X-Apple-Action", "VACATION"), "Re: Invoice", "", ClassAutoReply},
		{"forwarded with null Return-Path stays auto-reply", fwd("Return-Path", "<>"), "Notice", "", ClassAutoReply},
		{"forwarded with Precedence auto_reply stays auto-reply", fwd("Precedence", "auto_reply"), "Re: Invoice", "", ClassAutoReply},
		{"forwarded with Precedence bulk stays list", fwd("Precedence", "bulk"), "Newsletter", "", ClassList},
		{"forwarded delivery report stays bounce", fwd(), "Delivery Status Notification (Failure)", "delivery-status", ClassBounce},
		{"forwarded read receipt stays receipt", fwd(), "Read: Invoice", "disposition-notification", ClassReceipt},
		{"forwarded mail from another helpdesk stays auto-reply", fwd(LoopHeader, "other-instance"), "Re: Invoice", "", ClassAutoReply},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Classify(ClassifyInput{Header: tt.header, From: "minji@customer.example", Subject: tt.subject, ReportType: tt.report})
			if c.Class != tt.want {
				t.Errorf("Classify = %+v, want %s", c, tt.want)
			}
			if c.Class == ClassHuman && !strings.Contains(c.Reason, "auto-forwarded") {
				t.Errorf("Reason = %q, want it to say auto-forwarded", c.Reason)
			}
		})
	}
}

// A contact form mails from a no-reply address with the visitor in
// Reply-To: a human request from that person, unless the mail carries a
// sign of automation or its Reply-To does not name exactly one person.
func TestClassify_WebFormIsAHumanRequestFromReplyTo(t *testing.T) {
	tests := []struct {
		name      string
		from      string
		header    map[string][]string
		replyTo   []string
		want      Class
		requester string
	}{
		{"noreply with a Reply-To person", "noreply@shop.example", nil, []string{"Jane@Customer.example"}, ClassHuman, "jane@customer.example"},
		{"no-reply with Reply-To in the header", "no-reply@forms.example", hdr("Reply-To", "Jane Doe <jane@customer.example>"), nil, ClassHuman, "jane@customer.example"},
		{"do-not-reply", "do-not-reply@forms.example", nil, []string{"kim@customer.example"}, ClassHuman, "kim@customer.example"},
		{"donotreply", "donotreply@forms.example", nil, []string{"kim@customer.example"}, ClassHuman, "kim@customer.example"},
		{"no_reply", "no_reply@forms.example", nil, []string{"kim@customer.example"}, ClassHuman, "kim@customer.example"},
		{"encoded name in another charset", "noreply@shop.example", hdr("Reply-To", "=?EUC-KR?B?sejHz7TD?= <haneul@customer.example>"), nil, ClassHuman, "haneul@customer.example"},
		{"noreply without Reply-To stays auto-reply", "noreply@shop.example", nil, nil, ClassAutoReply, ""},
		{"two Reply-To addresses stay auto-reply", "noreply@shop.example", nil, []string{"a@customer.example", "b@customer.example"}, ClassAutoReply, ""},
		{"Reply-To another no-reply stays auto-reply", "noreply@shop.example", nil, []string{"no-reply@shop.example"}, ClassAutoReply, ""},
		{"Reply-To the sender stays auto-reply", "noreply@shop.example", nil, []string{"noreply@shop.example"}, ClassAutoReply, ""},
		{"Reply-To our own address stays auto-reply", "noreply@shop.example", nil, []string{"support@example.com"}, ClassAutoReply, ""},
		{"Auto-Submitted stays auto-reply", "noreply@shop.example", hdr("Auto-Submitted", "auto-generated"), []string{"jane@customer.example"}, ClassAutoReply, ""},
		{"X-Autoreply stays auto-reply", "noreply@shop.example", hdr("X-Autoreply", "yes"), []string{"jane@customer.example"}, ClassAutoReply, ""},
		{"Precedence auto_reply stays auto-reply", "noreply@shop.example", hdr("Precedence", "auto_reply"), []string{"jane@customer.example"}, ClassAutoReply, ""},
		{"null Return-Path stays auto-reply", "noreply@shop.example", hdr("Return-Path", "<>"), []string{"jane@customer.example"}, ClassAutoReply, ""},
		{"list mail is no web form", "noreply@shop.example", hdr("List-Id", "<news.shop.example>"), []string{"jane@customer.example"}, ClassAutoReply, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Classify(ClassifyInput{Header: tt.header, From: tt.from, Subject: "Contact form: order 5521", ReplyTo: tt.replyTo,
				OwnAddresses: []string{"support@example.com"}})
			if c.Class != tt.want || c.Requester != tt.requester {
				t.Fatalf("Classify = %+v, want %s with requester %q", c, tt.want, tt.requester)
			}
			if tt.requester != "" && !strings.HasPrefix(c.Reason, WebFormReason) {
				t.Errorf("Reason = %q, want it to start with %q", c.Reason, WebFormReason)
			}
		})
	}
}

func TestClassify_AutoForwardedPostmasterIsNotABounce(t *testing.T) {
	c := Classify(ClassifyInput{Header: hdr("Auto-Submitted", "Auto-Forwarded; by=rule"), From: "postmaster@customer.example", Subject: "Question about my order"})
	if c.Class != ClassHuman {
		t.Errorf("Classify = %+v, want human", c)
	}
}

func TestClassify_ReadReceiptsAreReceipts(t *testing.T) {
	tests := []struct {
		name    string
		report  string
		subject string
	}{
		{"Outlook read receipt", "disposition-notification", "Read: [#42] Invoice question"},
		{"Thunderbird return receipt", "disposition-notification", "Return Receipt (displayed) - Invoice question"},
		{"Korean Outlook read receipt", "disposition-notification", "읽음: [#42] 견적 문의"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Classify(ClassifyInput{Header: hdr("X-MS-Has-Attach", ""), From: "jisoo@customer.example", Subject: tt.subject, ReportType: tt.report})
			if c.Class != ClassReceipt || c.Bounce != nil {
				t.Errorf("Classify = %+v, want receipt", c)
			}
		})
	}
}

func TestClasses_ListsReceipt(t *testing.T) {
	seen := map[Class]bool{}
	for _, c := range Classes {
		seen[c] = true
	}
	for _, c := range []Class{ClassHuman, ClassAutoReply, ClassBounce, ClassList, ClassLoop, ClassReceipt} {
		if !seen[c] {
			t.Errorf("Classes lacks %s", c)
		}
	}
}

func TestClassify_PostmasterNeedsMoreThanTheName(t *testing.T) {
	if c := Classify(ClassifyInput{From: "postmaster@customer.example", Subject: "Question about our contract"}); c.Class != ClassHuman {
		t.Errorf("postmaster writing a question: %+v, want human", c)
	}
	c := Classify(ClassifyInput{From: "postmaster@customer.example", Subject: "Notice",
		Header: hdr("Return-Path", "<>"), Text: "<a@customer.example>: user unknown (#5.1.1)"})
	if c.Class != ClassBounce || c.Bounce.Recipient != "a@customer.example" || c.Bounce.Status != "5.1.1" {
		t.Errorf("postmaster bounce: %+v %+v", c, c.Bounce)
	}
}

func TestClassify_NonStandardBounceRecipientFromText(t *testing.T) {
	tests := []struct{ name, text, want string }{
		{"qmail", "Hi. This is the qmail-send program.\n\n<nobody@example.net>:\nSorry, no mailbox here by that name. (#5.1.1)\n", "nobody@example.net"},
		{"exim", "This message was created automatically by mail delivery software.\n\n  gone@example.net\n    SMTP error from remote mail server after RCPT TO:<gone@example.net>:\n    550 5.1.1 unknown\n", "gone@example.net"},
		{"sendmail", "   ----- The following addresses had permanent fatal errors -----\n<who@example.net>\n    (reason: 550 5.1.1 User unknown)\n", "who@example.net"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Classify(ClassifyInput{From: "MAILER-DAEMON@mx.example.com", Subject: "failure notice", Text: tt.text})
			if c.Class != ClassBounce || c.Bounce.Recipient != tt.want || !c.Bounce.Permanent {
				t.Errorf("Classify = %+v %+v, want recipient %s", c, c.Bounce, tt.want)
			}
		})
	}
}

// TestClassify_Testdata classifies the messages in testdata/classify, read
// with the standard library only.
func TestClassify_Testdata(t *testing.T) {
	tests := []struct {
		file      string
		want      Class
		recipient string
	}{
		{"outlook-ooo-german.eml", ClassAutoReply, ""},
		{"outlook-ooo-french.eml", ClassAutoReply, ""},
		{"gmail-vacation-japanese.eml", ClassAutoReply, ""},
		{"human-with-suppress-header.eml", ClassHuman, ""},
		{"postfix-bounce.eml", ClassBounce, "gone.user@example.net"},
		{"exchange-rule-forwarded-customer.eml", ClassHuman, ""},
		{"outlook-read-receipt.eml", ClassReceipt, ""},
		{"webform-contact.eml", ClassHuman, ""},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			in := readInput(t, filepath.Join("testdata", "classify", tt.file))
			c := Classify(in)
			if c.Class != tt.want {
				t.Fatalf("Classify = %+v, want %s", c, tt.want)
			}
			if tt.recipient != "" {
				if c.Bounce.Recipient != tt.recipient || c.Bounce.Status != "5.1.1" || !c.Bounce.Permanent ||
					c.Bounce.OriginalMessageID != "case-7.3.aa@helpdesk.example.com" {
					t.Errorf("Bounce = %+v", c.Bounce)
				}
			}
		})
	}
}

func readInput(t *testing.T, path string) ClassifyInput {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := textproto.NewReader(bufio.NewReader(f))
	h, err := r.ReadMIMEHeader()
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(r.R)
	if err != nil {
		t.Fatal(err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	from := h.Get("From")
	if i := strings.IndexAny(from, "<"); i >= 0 {
		from = strings.Trim(from[i:], "<>")
	} else if f := strings.Fields(from); len(f) > 0 {
		from = f[0]
	}
	var report string
	if mt, params, err := mime.ParseMediaType(h.Get("Content-Type")); err == nil && mt == "multipart/report" {
		report = strings.ToLower(params["report-type"])
	}
	return ClassifyInput{
		ReportType: report,
		Header:     h,
		From:       from,
		Subject:    subject,
		MessageID:  strings.Trim(h.Get("Message-Id"), "<>"),
		Text:       strings.ReplaceAll(string(body), "\r\n", "\n"),
	}
}

func hdr(kv ...string) map[string][]string {
	h := map[string][]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		h[kv[i]] = append(h[kv[i]], kv[i+1])
	}
	return h
}
