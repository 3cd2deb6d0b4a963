package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math/rand"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"time"
)

// Mail is one generated inbound mail.
type Mail struct {
	MessageID string // without angle brackets
	From      string // the sender's address
	Parent    int    // index of the mail this one replies to, -1 for a new case
	Subject   string
	Raw       []byte // CRLF line ends

	text string // the text body, for replies to quote
	refs string // References of a reply to this mail
}

// Batch is a generated INBOX: the mails in delivery order and what a correct
// helpdesk makes of them.
type Batch struct {
	Mails   []Mail
	New     int // mails that open a case (one distinct sender each)
	Replies int // mails that reply to an earlier mail of the same sender
}

// Senders lists every distinct sender address, in order of first mail.
func (b Batch) Senders() []string {
	var out []string
	for _, m := range b.Mails {
		if m.Parent < 0 {
			out = append(out, m.From)
		}
	}
	return out
}

// isReply spreads exactly floor(n*3/10) replies evenly over n mails; the
// first is the fourth mail, so every reply has earlier mails to answer.
func isReply(i int) bool { return (i+1)*3/10 > i*3/10 }

// Generate makes n mails to support: 70% open a case, each from a sender
// of its own; 30% reply to an earlier mail of that mail's sender, by
// In-Reply-To and References. About one in seven is in Korean, one in five
// has an HTML alternative, one in twenty an attachment. tag keeps the
// Message-IDs and senders of batches apart; the same seed gives the same mails.
func Generate(n int, tag, support string, seed int64, now time.Time) Batch {
	rng := rand.New(rand.NewSource(seed))
	b := Batch{Mails: make([]Mail, 0, n)}
	for i := range n {
		m := Mail{Parent: -1, MessageID: fmt.Sprintf("%s-%06d.%x@mua.%s.bench.test", tag, i, rng.Uint32(), tag)}
		date := now.Add(time.Duration(i-n) * time.Second)
		var parent *Mail
		if isReply(i) {
			m.Parent = rng.Intn(i)
			parent = &b.Mails[m.Parent]
			m.From = parent.From
			b.Replies++
		} else {
			m.From = fmt.Sprintf("%s.c%06d@cust.bench.test", tag, b.New)
			b.New++
		}
		render(rng, &m, parent, support, date)
		b.Mails = append(b.Mails, m)
	}
	return b
}

var (
	namesEN = []string{"Alice Walker", "Bob Stone", "Carol Diaz", "Dan Okafor", "Eve Martin", "Frank Li", "Grace Kim", "Hiro Tanaka"}
	namesKO = []string{"김민준", "이서연", "박지후", "최수아", "정예준", "강하은"}
	topicEN = []string{
		"Printer offline after the firmware update", "Cannot log in to the billing portal",
		"Invoice %d shows the wrong amount", "VPN drops every ten minutes", "Request: add two seats to our plan",
		"Backup job failed overnight", "Slow response times on the API since Monday", "Password reset mail never arrives",
	}
	topicKO = []string{"프린터가 연결되지 않습니다", "청구서 %d 금액 오류 문의", "VPN 접속이 자주 끊깁니다", "비밀번호 재설정 메일이 오지 않아요"}
	bodyEN  = []string{
		"Hello support team,\n\nsince this morning the problem described in the subject keeps happening on three of our machines.",
		"We restarted the service and cleared the cache, but nothing changed. The error log says \"connection reset by peer\".",
		"Could you please have a look and tell us what we should try next? This blocks our accounting department.",
		"Our account number is ACME-4711 and the contract runs until the end of the year.",
	}
	bodyKO = []string{
		"안녕하세요, 지원팀 여러분.\n\n오늘 아침부터 제목에 적은 문제가 계속 발생하고 있습니다.",
		"서비스를 재시작하고 캐시도 지웠지만 달라진 것이 없습니다.",
		"확인 부탁드립니다. 감사합니다.",
	}
	replyEN = []string{"Thanks for the quick answer. I tried the steps but the printer still shows offline.", "One more detail: it only happens when the laptop is docked.", "Attached is the log you asked for; the error appears at 09:14."}
	replyKO = []string{"빠른 답변 감사합니다. 알려주신 방법을 해 보았지만 여전히 같은 문제가 있습니다.", "추가로, 이 문제는 재부팅 후에도 계속됩니다."}
)

// render writes one mail: headers a real client and two relays would add,
// a text body (quoting the parent in a reply), and the odd HTML
// alternative or attachment.
func render(rng *rand.Rand, m *Mail, parent *Mail, support string, date time.Time) {
	korean := rng.Intn(7) == 0
	names, topics, body, replies := namesEN, topicEN, bodyEN, replyEN
	if korean {
		names, topics, body, replies = namesKO, topicKO, bodyKO, replyKO
	}
	name := names[rng.Intn(len(names))]
	subject := topics[rng.Intn(len(topics))]
	if strings.Contains(subject, "%d") {
		subject = fmt.Sprintf(subject, 10000+rng.Intn(90000))
	}
	text := strings.Join(pick(rng, body, 2+rng.Intn(2)), "\n\n") + "\n\n-- \n" + name + "\n"
	m.refs = "<" + m.MessageID + ">"
	if parent != nil {
		subject = "Re: " + strings.TrimPrefix(parent.Subject, "Re: ")
		text = replies[rng.Intn(len(replies))] + "\n\n" + name + "\n\nOn " + date.Add(-time.Hour).Format("Mon, 2 Jan 2006 at 15:04") +
			", Support wrote:\n> " + strings.ReplaceAll(strings.TrimSpace(parent.text), "\n", "\n> ") + "\n"
		m.refs = parent.refs + " " + m.refs
	}
	m.Subject, m.text = subject, text
	var h bytes.Buffer
	fmt.Fprintf(&h, "Return-Path: <%s>\n", m.From)
	fmt.Fprintf(&h, "Received: from mx.cust.bench.test (mx.cust.bench.test [192.0.2.%d])\n\tby mx.help.bench.test (Postfix) with ESMTPS id %X\n\tfor <%s>; %s\n",
		1+rng.Intn(250), rng.Uint32(), support, date.Format(time.RFC1123Z))
	fmt.Fprintf(&h, "Received: from [10.0.0.%d] (laptop.cust.bench.test [10.0.0.%[1]d])\n\tby mx.cust.bench.test (Postfix) with ESMTPSA id %X;\n\t%s\n",
		1+rng.Intn(250), rng.Uint32(), date.Add(-2*time.Second).Format(time.RFC1123Z))
	fmt.Fprintf(&h, "From: %s\nTo: %s\n", (&mail.Address{Name: name, Address: m.From}).String(), support)
	fmt.Fprintf(&h, "Subject: %s\nDate: %s\nMessage-ID: <%s>\n", mime.QEncoding.Encode("UTF-8", subject), date.Format(time.RFC1123Z), m.MessageID)
	if parent != nil {
		fmt.Fprintf(&h, "In-Reply-To: <%s>\nReferences: %s\n", parent.MessageID, parent.refs)
	}
	fmt.Fprintf(&h, "User-Agent: Mozilla/5.0 Thunderbird/115.%d\nMIME-Version: 1.0\n", rng.Intn(12))
	var out string
	switch r := rng.Intn(20); {
	case r == 0:
		out = h.String() + withAttachment(rng, text)
	case r < 5:
		out = h.String() + withHTML(text)
	default:
		out = h.String() + part("plain", text)
	}
	m.Raw = []byte(strings.ReplaceAll(out, "\n", "\r\n"))
}

func pick(rng *rand.Rand, from []string, n int) []string {
	out := make([]string, 0, n)
	for _, i := range rng.Perm(len(from))[:min(n, len(from))] {
		out = append(out, from[i])
	}
	return out
}

// part is a text/subtype body: quoted-printable, so UTF-8 text stays 7-bit.
func part(subtype, text string) string {
	var b bytes.Buffer
	w := quotedprintable.NewWriter(&b)
	_, _ = w.Write([]byte(text))
	_ = w.Close()
	return "Content-Type: text/" + subtype + "; charset=UTF-8\nContent-Transfer-Encoding: quoted-printable\n\n" +
		strings.ReplaceAll(b.String(), "\r\n", "\n") + "\n"
}

func withHTML(text string) string {
	html := "<html><body><p>" + strings.ReplaceAll(mimeEscape(text), "\n\n", "</p><p>") + "</p></body></html>"
	return "Content-Type: multipart/alternative; boundary=\"alt-b\"\n\n--alt-b\n" + part("plain", text) +
		"--alt-b\n" + part("html", html) + "--alt-b--\n"
}

func mimeEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// withAttachment adds a small CSV (a few hundred bytes to 2 KB) as a
// base64 attachment.
func withAttachment(rng *rand.Rand, text string) string {
	var csv bytes.Buffer
	csv.WriteString("time,host,error\n")
	for i := range 10 + rng.Intn(40) {
		fmt.Fprintf(&csv, "09:%02d,host%d,connection reset by peer\n", i%60, rng.Intn(9))
	}
	enc := base64.StdEncoding.EncodeToString(csv.Bytes())
	var wrapped strings.Builder
	for len(enc) > 76 {
		wrapped.WriteString(enc[:76] + "\n")
		enc = enc[76:]
	}
	wrapped.WriteString(enc + "\n")
	return "Content-Type: multipart/mixed; boundary=\"mix-b\"\n\n--mix-b\n" + part("plain", text) +
		"--mix-b\nContent-Type: text/csv; name=\"errors.csv\"\nContent-Disposition: attachment; filename=\"errors.csv\"\n" +
		"Content-Transfer-Encoding: base64\n\n" + wrapped.String() + "--mix-b--\n"
}
