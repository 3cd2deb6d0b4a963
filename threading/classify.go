package threading

import (
	"io"
	"mime"
	netmail "net/mail"
	"net/textproto"
	"regexp"
	"strings"
	"unicode"
)

// Class is what kind of sender produced an inbound message.
type Class string

// The classes of inbound mail. Only ClassHuman may open or reopen a case.
const (
	ClassHuman     Class = "human"
	ClassAutoReply Class = "auto-reply"
	ClassBounce    Class = "bounce"
	ClassList      Class = "list"
	ClassLoop      Class = "loop"
	// ClassReceipt is a read receipt or other disposition notification
	// (RFC 8098): a machine report about our message, not a reply.
	ClassReceipt Class = "receipt"
)

// Classes lists every Class.
var Classes = []Class{ClassHuman, ClassAutoReply, ClassBounce, ClassList, ClassLoop, ClassReceipt}

// LoopHeader is the header our outgoing mail carries, with the instance id as
// value.
const LoopHeader = "X-Helpdesk-Loop"

// ClassifyInput is everything Classify looks at. It holds standard types only
// so that this package does not depend on the MIME parser.
type ClassifyInput struct {
	// Header is the top-level header of the message. Keys may be in any case;
	// values are unfolded and not RFC 2047 decoded.
	Header map[string][]string
	// From is the sender's address (addr-spec, no display name).
	From string
	// Subject is the decoded subject.
	Subject string
	// MessageID is the message's own Message-ID, without angle brackets.
	MessageID string
	// ReportType is the report-type parameter of a multipart/report in the
	// message ("delivery-status", "disposition-notification",
	// "feedback-report"), lower-case; empty when there is none.
	ReportType string
	// DeliveryStatus is the text of a message/delivery-status part.
	DeliveryStatus string
	// OriginalHeaders is the header block of the returned message, from a
	// message/rfc822 or text/rfc822-headers part of a report.
	OriginalHeaders string
	// Text is the plain-text body (or a prefix of it); used to find the
	// failed recipient of bounces that are not RFC 3464 reports.
	Text string

	// LoopID is this instance's value of LoopHeader.
	LoopID string
	// OwnMessageIDDomain is the domain of the Message-IDs we generate.
	OwnMessageIDDomain string
	// OwnAddresses are addresses we send from (the support address).
	OwnAddresses []string
	// ReplyTo are the Reply-To addresses (addr-spec); when nil, Classify
	// reads them from Header.
	ReplyTo []string
}

// Classification is the verdict of Classify.
type Classification struct {
	Class  Class  `json:"class"`
	Reason string `json:"reason"`
	// Bounce is set when Class is ClassBounce.
	Bounce *Bounce `json:"bounce,omitempty"`
	// Requester is set for a web form's mail (a no-reply sender with a
	// Reply-To naming one person): the Reply-To address, lower-case.
	Requester string `json:"requester,omitempty"`
}

// Bounce describes a delivery failure report.
type Bounce struct {
	// Recipient is the address that could not be reached (lower-case), or
	// empty when the report does not say.
	Recipient string `json:"recipient"`
	// Status is the RFC 3463 status code, e.g. "5.1.1", when known.
	Status string `json:"status,omitempty"`
	// Action is the RFC 3464 action ("failed", "delayed", ...), when given.
	Action string `json:"action,omitempty"`
	// Permanent is true only for a definite permanent failure.
	Permanent bool `json:"permanent"`
	// OriginalMessageID is the Message-ID of the message that bounced,
	// without angle brackets, when the report includes it.
	OriginalMessageID string `json:"original_message_id,omitempty"`
	// Diagnostic is the remote server's diagnostic text, when given.
	Diagnostic string `json:"diagnostic,omitempty"`
	// EnvelopeID is the report's Original-Envelope-Id (the ENVID of the
	// failed transaction, RFC 3461), when given.
	EnvelopeID string `json:"envelope_id,omitempty"`
	// XOriginalMessageID is the Message-ID some reports (Gmail, Exchange)
	// name in an X-Original-Message-ID field of the delivery status.
	XOriginalMessageID string `json:"x_original_message_id,omitempty"`
}

// Classify decides whether a message was written by a human. The checks run
// from the most to the least specific: our own loop, delivery reports, other
// machine reports, bounce senders and subjects, auto-reply markers, a null
// Return-Path, mailing-list markers; everything else is human.
//
// An explicit "Auto-Submitted: no" is human, and X-Auto-Response-Suppress is a
// request to others, not a sign that the message itself is automated.
// "Auto-Submitted: auto-forwarded" is a mailbox rule passing on someone's mail
// unchanged (RFC 3834 §5), so it is human unless another sign says otherwise.
func Classify(in ClassifyInput) Classification {
	h := canonicalHeader(in.Header)
	subject := normalizeSubject(in.Subject)
	from := strings.ToLower(strings.TrimSpace(in.From))

	if reason := ownLoop(in, h, from); reason != "" {
		return Classification{Class: ClassLoop, Reason: reason}
	}

	switch in.ReportType {
	case "delivery-status", "global-delivery-status":
		return bounce(in, "multipart/report delivery-status (RFC 3464)")
	case "disposition-notification":
		return Classification{Class: ClassReceipt, Reason: "read receipt: disposition-notification report (RFC 8098)"}
	case "feedback-report":
		return Classification{Class: ClassAutoReply, Reason: "abuse feedback report: multipart/report feedback-report (RFC 5965)"}
	}
	if p := matchPrefix(subject, feedbackSubjects); p != "" {
		return Classification{Class: ClassAutoReply, Reason: "abuse feedback report: subject starts with " + quote(p)}
	}
	if in.DeliveryStatus != "" {
		return bounce(in, "message/delivery-status part")
	}

	local, _, _ := strings.Cut(from, "@")
	if bounceSenders[local] || (postmasters[local] && machineSigns(in, h)) {
		if p := matchPrefix(subject, autoReplySubjects); p != "" {
			return Classification{Class: ClassAutoReply, Reason: "subject starts with " + quote(p)}
		}
		return bounce(in, "sender is "+local)
	}
	if p := matchPrefix(subject, bounceSubjects); p != "" {
		return bounce(in, "subject starts with "+quote(p))
	}

	if reason := autoReply(h, subject); reason != "" {
		return Classification{Class: ClassAutoReply, Reason: reason}
	}

	if noReplySenders[local] {
		if dsnInText(in.Text) || bouncePhraseRe.MatchString(in.Text) {
			return bounce(in, "sender is "+local+" and the text reports a delivery failure")
		}
		if c, ok := webForm(in, h, from, local); ok {
			return c
		}
		return Classification{Class: ClassAutoReply, Reason: "sender is " + local}
	}

	if rp, ok := h["Return-Path"]; ok && len(rp) > 0 && isNullPath(rp[0]) {
		if dsnInText(in.Text) {
			return bounce(in, "null Return-Path and delivery-status fields in the body")
		}
		return Classification{Class: ClassAutoReply, Reason: "null Return-Path <> (machine-generated)"}
	}

	if reason := listMail(h); reason != "" {
		return Classification{Class: ClassList, Reason: reason}
	}

	reason := "no sign of automation"
	if autoForwarded(h) {
		reason = "auto-forwarded by a mailbox rule (Auto-Submitted: auto-forwarded, RFC 3834 §5)"
	} else if v := first(h, "Auto-Submitted"); v != "" {
		reason = "Auto-Submitted: " + v
	}
	return Classification{Class: ClassHuman, Reason: reason}
}

// WebFormReason starts the reason of every web form's classification.
const WebFormReason = "web form: requester from Reply-To"

// webForm recognises a contact form's mail: a no-reply sender (already
// checked for auto-reply markers) whose Reply-To names exactly one person,
// not the sender itself, not another no-reply address and not ours, and
// which is neither list mail nor sent with a null Return-Path.
func webForm(in ClassifyInput, h map[string][]string, from, local string) (Classification, bool) {
	rt := in.ReplyTo
	if rt == nil {
		rt = headerAddresses(first(h, "Reply-To"))
	}
	if len(rt) != 1 || listMail(h) != "" {
		return Classification{}, false
	}
	if rp, ok := h["Return-Path"]; ok && len(rp) > 0 && isNullPath(rp[0]) {
		return Classification{}, false
	}
	addr := strings.ToLower(strings.TrimSpace(rt[0]))
	rlocal, domain, ok := strings.Cut(addr, "@")
	if !ok || rlocal == "" || domain == "" || addr == from || noReplySenders[rlocal] || bounceSenders[rlocal] {
		return Classification{}, false
	}
	for _, a := range in.OwnAddresses {
		if strings.EqualFold(strings.TrimSpace(a), addr) {
			return Classification{}, false
		}
	}
	return Classification{Class: ClassHuman, Requester: addr,
		Reason: WebFormReason + " <" + addr + "> (sender is " + local + ", no auto-reply headers)"}, true
}

// headerAddresses parses an address list field as written (encoded names in
// any charset are left undecoded: only the addresses matter).
func headerAddresses(v string) []string {
	if strings.TrimSpace(v) == "" {
		return nil
	}
	p := netmail.AddressParser{WordDecoder: &mime.WordDecoder{CharsetReader: func(_ string, r io.Reader) (io.Reader, error) { return r, nil }}}
	list, err := p.ParseList(v)
	if err != nil {
		return nil
	}
	out := make([]string, len(list))
	for i, a := range list {
		out[i] = strings.ToLower(a.Address)
	}
	return out
}

func ownLoop(in ClassifyInput, h map[string][]string, from string) string {
	for _, v := range h[textproto.CanonicalMIMEHeaderKey(LoopHeader)] {
		v = strings.TrimSpace(v)
		if in.LoopID != "" && v == in.LoopID {
			return LoopHeader + " is ours"
		}
	}
	// Only our own form of Message-ID counts: agents' mail clients on the
	// same domain make Message-IDs in it too.
	if IsOwnMessageID(in.MessageID, in.OwnMessageIDDomain) {
		return "Message-ID is one of ours (" + OwnMessageIDPrefix + "…@" + strings.ToLower(strings.TrimSpace(in.OwnMessageIDDomain)) + ")"
	}
	for _, a := range in.OwnAddresses {
		if a = strings.ToLower(strings.TrimSpace(a)); a != "" && a == from {
			return "From is our own address"
		}
	}
	return ""
}

// autoSubmitted returns the lower-case token of Auto-Submitted, or "".
func autoSubmitted(h map[string][]string) string {
	token, _, _ := strings.Cut(strings.ToLower(first(h, "Auto-Submitted")), ";")
	return strings.TrimSpace(token)
}

func autoForwarded(h map[string][]string) bool { return autoSubmitted(h) == "auto-forwarded" }

func autoReply(h map[string][]string, subject string) string {
	forwarded := autoForwarded(h)
	if token := autoSubmitted(h); token != "" && token != "no" && !forwarded {
		return "Auto-Submitted: " + token
	}
	// The message itself was produced by an auto-responder or a rule.
	for _, k := range []string{
		"X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Auto-Reply",
		"X-Autoreply-From", "X-Mail-Autoreply", "X-Vacation",
		"X-Ms-Exchange-Inbox-Rules-Loop", "X-Ms-Exchange-Generated-Message-Source",
	} {
		// Exchange stamps the rules-loop header on what an inbox rule
		// forwards as well as on what it answers.
		if forwarded && k == "X-Ms-Exchange-Inbox-Rules-Loop" {
			continue
		}
		if _, ok := h[k]; ok {
			return "header " + k
		}
	}
	if v := first(h, LoopHeader); v != "" {
		return LoopHeader + " of another helpdesk instance (" + v + ")"
	}
	if strings.EqualFold(first(h, "X-Apple-Action"), "VACATION") {
		return "X-Apple-Action: VACATION"
	}
	if strings.EqualFold(first(h, "X-Fc-Machinegenerated"), "true") {
		return "X-FC-MachineGenerated: true"
	}
	for _, k := range []string{"Precedence", "X-Precedence"} {
		if v := strings.ToLower(first(h, k)); v == "auto_reply" || v == "auto-reply" {
			return k + ": " + v
		}
	}
	if p := matchPrefix(subject, autoReplySubjects); p != "" {
		return "subject starts with " + quote(p)
	}
	if autoReplyWholeSubjects[subject] {
		return "subject is " + quote(subject)
	}
	return ""
}

func listMail(h map[string][]string) string {
	for _, k := range []string{"List-Id", "List-Post", "X-Mailing-List", "Mailing-List", "X-Ml-Name", "X-Mlserver"} {
		if _, ok := h[k]; ok {
			return "header " + k
		}
	}
	for _, k := range []string{"Precedence", "X-Precedence"} {
		switch v := strings.ToLower(first(h, k)); v {
		case "bulk", "list", "junk":
			return k + ": " + v
		}
	}
	return ""
}

func bounce(in ClassifyInput, reason string) Classification {
	b := &Bounce{}
	groups := parseDSN(in.DeliveryStatus)
	if !hasRecipient(groups) {
		// Many non-RFC 3464 bounces quote the DSN fields in their text.
		groups = parseDSN(dsnTextPart(in.Text))
	}
	if g := pickRecipientGroup(groups); g != nil {
		b.Recipient = dsnAddress(g["Final-Recipient"])
		if b.Recipient == "" {
			b.Recipient = dsnAddress(g["Original-Recipient"])
		}
		b.Action = strings.ToLower(strings.TrimSpace(firstWord(g["Action"])))
		b.Status = statusRe.FindString(g["Status"])
		b.Diagnostic = dsnValue(g["Diagnostic-Code"])
	}
	if b.Recipient == "" {
		b.Recipient = recipientFromText(in.Text, in.From)
	}
	if b.Recipient == "" {
		b.Recipient = headerAddress(in.OriginalHeaders, "To")
	}
	if b.Status == "" {
		b.Status = statusInText(b.Diagnostic)
	}
	if b.Status == "" {
		b.Status = statusInText(in.Text)
	}
	switch b.Action {
	case "failed":
		b.Permanent = b.Status == "" || strings.HasPrefix(b.Status, "5.")
	case "", "failure":
		b.Permanent = permanentWithoutAction(b.Status, in.Text)
	}
	for _, g := range append(parseDSN(in.DeliveryStatus), groups...) {
		if v := g["Original-Envelope-Id"]; v != "" && b.EnvelopeID == "" {
			b.EnvelopeID = strings.Trim(strings.TrimSpace(v), "<>")
		}
		if v := g["X-Original-Message-Id"]; v != "" && b.XOriginalMessageID == "" {
			b.XOriginalMessageID = strings.Trim(strings.TrimSpace(v), "<>")
		}
	}
	b.OriginalMessageID = headerMessageID(in.OriginalHeaders)
	if b.OriginalMessageID == "" {
		b.OriginalMessageID = headerMessageID(in.Text)
	}
	return Classification{Class: ClassBounce, Reason: reason, Bounce: b}
}

// bounceSenders are local parts that only mail systems send from. Postmaster
// is also a person, so it counts only together with machineSigns.
var bounceSenders = map[string]bool{
	"mailer-daemon": true, "mail-daemon": true, "mail-delivery-subsystem": true,
	"maildelivery": true, "mmdf": true, "mail.delivery.system": true,
	"mail-delivery-system": true, "double-bounce": true,
}

var postmasters = map[string]bool{"postmaster": true, "post_master": true, "post-master": true}

// noReplySenders cannot be answered, so they are never a customer writing.
var noReplySenders = map[string]bool{
	"no-reply": true, "noreply": true, "do-not-reply": true, "donotreply": true,
	"do_not_reply": true, "no_reply": true,
}

func machineSigns(in ClassifyInput, h map[string][]string) bool {
	if rp, ok := h["Return-Path"]; ok && len(rp) > 0 && isNullPath(rp[0]) {
		return true
	}
	v := autoSubmitted(h)
	return (v != "" && v != "no" && v != "auto-forwarded") || dsnInText(in.Text) ||
		statusRe.MatchString(in.Text) || bouncePhraseRe.MatchString(in.Text)
}

var bouncePhraseRe = regexp.MustCompile(`(?i)undeliver|delivery (has )?failed|could not be delivered|` +
	`permanent(ly)? (fatal )?error|user unknown|unknown user|invalid (user|recipient|address)|` +
	`mailbox (is )?(unavailable|not found|full)|no such user|error message below|"bouncetype"`)

// Subjects of abuse feedback reports that are not RFC 5965 multipart/report.
var feedbackSubjects = []string{"complaint about message from", "abuse report", "feedback report"}

// Subject prefixes of non-standard delivery failure notices, lower-case, after
// normalizeSubject.
var bounceSubjects = []string{
	"undelivered mail returned to sender", "delivery status notification (failure)",
	"delivery status notification (delay)", "delivery status notification: failed",
	"delivery status notification: error", "delivery status notification: delayed",
	"mail delivery failed", "mail delivery failure", "undeliverable:", "undeliverable mail",
	"undeliverable message", "undelivered mail", "returned mail:", "failure notice",
	"delivery failure", "delivery notification: delivery has failed", "mail system error - returned mail",
	"message delivery failure", "delivery has failed", "non-delivery report",
	"nondeliverable mail", "warning: could not send message", "unzustellbar:",
	"nicht zustellbar:", "non remis :", "non remis:", "no se puede entregar:", "onbestelbaar:",
	"配信不能", "配信エラー", "メールエラー", "전달되지 않음:", "배달되지 않음:",
}

// Subject prefixes of auto-replies and out-of-office notices in the languages
// Outlook, Gmail, Apple Mail and common responders use, lower-case, after
// normalizeSubject.
var autoReplySubjects = []string{
	// English
	"automatic reply:", "auto reply:", "auto-reply:", "autoreply:", "auto response:",
	"auto-response:", "autoresponse:", "automatic response:", "autorespons:", "out of office:",
	"out of office reply", "out of office autoreply", "out of the office:", "ooo:", "vacation reply",
	// Korean
	"자동 회신:", "자동회신:", "자동 응답:", "자동응답:", "부재중:", "[부재중]", "부재 중:",
	// German
	"automatische antwort:", "abwesenheitsnotiz:", "abwesend:", "automatische antwort",
	// French
	"réponse automatique:", "réponse automatique", "absence du bureau:", "absent du bureau:",
	"message d'absence:", "absence:",
	// Japanese, Chinese
	"自動応答:", "自動返信:", "不在:", "不在通知:", "自动回复:", "自動回覆:", "自動回复:",
	// Spanish, Portuguese, Italian, Dutch
	"respuesta automática:", "fuera de la oficina:", "resposta automática:", "ausência:",
	"risposta automatica:", "fuori sede:", "automatisch antwoord:", "afwezig:",
	// Nordic, Slavic, Finnish
	"autosvar:", "automatisk svar:", "automatiskt svar:", "automaattinen vastaus:",
	"автоматический ответ:", "automatyczna odpowiedź:", "automatická odpověď:",
	// Request Tracker
	"autoreply:",
}

// Whole subjects that are auto-replies without a colon.
var autoReplyWholeSubjects = map[string]bool{
	"out of office": true, "out of the office": true, "abwesenheitsnotiz": true,
	"부재중": true, "부재중입니다": true, "自動応答": true, "不在": true, "absence": true,
	"auto reply": true, "automatic reply": true, "autoreply": true,
}

// normalizeSubject lower-cases the subject, unifies colons and spaces and
// removes leading "[tag]" groups (ticket systems put their tag first).
func normalizeSubject(s string) string {
	s = strings.ToLower(s)
	s = strings.ReplaceAll(s, "：", ":")
	s = strings.Join(strings.FieldsFunc(s, unicode.IsSpace), " ")
	s = strings.ReplaceAll(s, " :", ":")
	for strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			break
		}
		// "[부재중]" is itself a marker, not a ticket tag.
		if strings.HasPrefix(s, "[부재중]") {
			break
		}
		s = strings.TrimSpace(s[end+1:])
	}
	return s
}

func matchPrefix(s string, prefixes []string) string {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return p
		}
	}
	return ""
}

func canonicalHeader(in map[string][]string) map[string][]string {
	out := make(map[string][]string, len(in))
	for k, v := range in {
		ck := textproto.CanonicalMIMEHeaderKey(k)
		out[ck] = append(out[ck], v...)
	}
	return out
}

func first(h map[string][]string, k string) string {
	if v := h[k]; len(v) > 0 {
		return strings.TrimSpace(v[0])
	}
	return ""
}

func isNullPath(v string) bool {
	v = strings.TrimSpace(v)
	return v == "<>" || v == "" || v == "< >"
}

func quote(s string) string { return `"` + s + `"` }

func firstWord(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// parseDSN splits delivery-status text into groups of fields. A new group
// starts at a blank line or, for reports that omit the blank lines, when a
// recipient field repeats.
func parseDSN(text string) []map[string]string {
	var groups []map[string]string
	cur := map[string]string{}
	last := ""
	flush := func() {
		if len(cur) > 0 {
			groups = append(groups, cur)
		}
		cur = map[string]string{}
		last = ""
	}
	for _, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		if strings.TrimSpace(line) == "" {
			flush()
			continue
		}
		if (line[0] == ' ' || line[0] == '\t') && last != "" {
			cur[last] += " " + strings.TrimSpace(line)
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok || strings.ContainsAny(strings.TrimSpace(k), " \t") {
			last = ""
			continue
		}
		k = textproto.CanonicalMIMEHeaderKey(strings.TrimSpace(k))
		if _, dup := cur[k]; dup {
			flush()
		}
		cur[k] = strings.TrimSpace(v)
		last = k
	}
	flush()
	return groups
}

func hasRecipient(groups []map[string]string) bool {
	for _, g := range groups {
		if dsnAddress(g["Final-Recipient"]) != "" || dsnAddress(g["Original-Recipient"]) != "" {
			return true
		}
	}
	return false
}

// pickRecipientGroup returns the first failed recipient, else the first
// recipient group.
func pickRecipientGroup(groups []map[string]string) map[string]string {
	var firstRcpt map[string]string
	for _, g := range groups {
		if dsnAddress(g["Final-Recipient"]) == "" && dsnAddress(g["Original-Recipient"]) == "" {
			continue
		}
		if strings.EqualFold(firstWord(g["Action"]), "failed") {
			return g
		}
		if firstRcpt == nil {
			firstRcpt = g
		}
	}
	return firstRcpt
}

// dsnTextPart returns text from the first Final-Recipient or
// Original-Recipient line on, or "" when there is none.
func dsnTextPart(text string) string {
	lower := strings.ToLower(text)
	i := strings.Index(lower, "original-recipient:")
	if j := strings.Index(lower, "final-recipient:"); j >= 0 && (i < 0 || j < i) {
		i = j
	}
	if i < 0 {
		return ""
	}
	if nl := strings.LastIndexByte(text[:i], '\n'); nl >= 0 {
		i = nl + 1
	} else {
		i = 0
	}
	return text[i:]
}

func dsnInText(text string) bool { return dsnTextPart(text) != "" }

// dsnValue strips the type of a "type; value" DSN field.
func dsnValue(v string) string {
	if _, after, ok := strings.Cut(v, ";"); ok {
		v = after
	}
	return strings.TrimSpace(v)
}

func dsnAddress(v string) string {
	a := addrRe.FindString(dsnValue(v))
	return strings.ToLower(a)
}

var (
	statusRe     = regexp.MustCompile(`\b[245]\.\d{1,3}\.\d{1,3}\b`)
	addrRe       = regexp.MustCompile(`[A-Za-z0-9!#$%&'*+/=?^_{|}~.\-]+@[A-Za-z0-9](?:[A-Za-z0-9\-.]*[A-Za-z0-9])?`)
	angleAddrRe  = regexp.MustCompile(`<([^<>@\s]+@[^<>@\s]+)>`)
	msgIDFieldRe = regexp.MustCompile(`(?im)^[ \t>]*message-id:[ \t]*(?:\r?\n[ \t]+)?<?([^<>\s]+@[^<>\s]+?)>?\s*$`)
	smtpCodeRe   = regexp.MustCompile(`\b([45])[0-9]{2}[ -]`)
)

// recipientFromText finds the failed recipient in the text of a bounce that
// is not an RFC 3464 report: an address at the start of a line ("<a@b>:" by
// Postfix and qmail, "  a@b" by Exim and Sendmail) wins over any other address.
func recipientFromText(text, from string) string {
	from = strings.ToLower(from)
	var fallback string
	for _, line := range strings.Split(text, "\n") {
		t := strings.TrimSpace(line)
		if t == "" {
			continue
		}
		for _, m := range angleAddrRe.FindAllStringSubmatch(t, -1) {
			if a := cleanRecipient(m[1], from); a != "" {
				if strings.HasPrefix(t, "<") || strings.HasPrefix(t, "To:") || strings.HasPrefix(t, "RCPT TO:") {
					return a
				}
				if fallback == "" {
					fallback = a
				}
			}
		}
		if a := addrRe.FindString(t); a != "" && len(a) >= len(t)-2 {
			if a = cleanRecipient(a, from); a != "" {
				return a
			}
		}
		if fallback == "" {
			for _, a := range addrRe.FindAllString(t, -1) {
				if a = cleanRecipient(a, from); a != "" {
					fallback = a
					break
				}
			}
		}
	}
	return fallback
}

func cleanRecipient(a, from string) string {
	a = strings.ToLower(strings.Trim(a, ".:;,<>()[]\"'"))
	local, domain, ok := strings.Cut(a, "@")
	if !ok || local == "" || !strings.Contains(domain, ".") || a == from || bounceSenders[local] || local == "postmaster" {
		return ""
	}
	return a
}

func statusInText(text string) string {
	if s := statusRe.FindString(text); s != "" {
		return s
	}
	if m := smtpCodeRe.FindStringSubmatch(text); m != nil {
		return m[1] + ".0.0"
	}
	return ""
}

func headerMessageID(text string) string {
	if m := msgIDFieldRe.FindStringSubmatch(text); m != nil {
		return m[1]
	}
	return ""
}

// headerAddress returns the first address of field k in a header block.
func headerAddress(block, k string) string {
	prefix := strings.ToLower(k) + ":"
	for _, line := range strings.Split(block, "\n") {
		if strings.HasPrefix(strings.ToLower(line), prefix) {
			return strings.ToLower(addrRe.FindString(line[len(prefix):]))
		}
	}
	return ""
}
