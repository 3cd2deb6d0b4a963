package reply

import (
	"strings"

	"github.com/helpdesk/helpdesk/threading/htmltext"
)

// FromHTML extracts the new text of a reply from an HTML body (for mail that
// has no plain-text part). It cuts at our hidden marker element, or at the
// first quote container a mail client left: Gmail's gmail_quote, Outlook's
// divRplyFwdMsg and border-top header block, Apple Mail's blockquote
// type=cite, Thunderbird's moz-cite-prefix, Yahoo's yahoo_quoted, ... It then
// converts the rest with htmltext.Convert and applies the same rules as
// FromText. When the quote container is interleaved with new text (an inline
// reply), no container is cut and the text rules decide alone.
func FromHTML(htmlBody string) Result {
	htmlBody = clean(htmlBody)
	if strings.TrimSpace(htmlBody) == "" {
		return Result{Reason: ReasonNone}
	}
	c := findHTMLCut(htmlBody)
	if c.pos < 0 {
		return FromText(htmltext.Convert(htmlBody))
	}
	removed := htmltext.Convert(htmlBody[c.pos:])
	r := FromText(htmltext.Convert(htmlBody[:c.pos]))
	if strings.TrimSpace(r.Text) == "" || r.Reason == ReasonAllQuotedKept {
		// Nothing of the sender's above the cut: the reply is below or
		// between the quotes.
		return FromText(htmltext.Convert(htmlBody))
	}
	r.Cut = joinCut(r.Cut, removed)
	if c.reason == ReasonMarker || !strings.HasPrefix(r.Reason, ReasonQuoteHeader) {
		r.Reason = c.reason
	}
	if c.reason != ReasonMarker && r.Forwarded == "" {
		// A forward in a quote container (Gmail's gmail_quote) is kept.
		if f := FromText(removed); f.ForwardOnly {
			r.Forwarded, r.Reason = f.Forwarded, ReasonForward
		}
	}
	r.CutLine = 0
	return r
}

func joinCut(a, b string) string {
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "\n\n" + b
}

type htmlCut struct {
	pos    int // byte offset in the HTML where the cut starts, or -1
	reason string
}

// quoteContainer names the client whose quote container an element is, and
// whether the quoted history is inside it (a container) or follows it (a
// separator such as Outlook's header block).
func quoteContainer(t htmltext.Token) (client string, container bool) {
	id, _ := t.AttrVal("id")
	lid := strings.ToLower(id)
	switch {
	case t.HasClass("gmail_quote"), t.HasClass("gmail_quote_container"), t.HasClass("gmail_attr"):
		return "gmail", true
	case t.Data == "blockquote" && strings.EqualFold(attrVal(t, "type"), "cite"):
		return "apple", true
	case t.HasClass("moz-cite-prefix"), t.HasClass("moz-forward-container"):
		return "thunderbird", true
	case t.HasClass("yahoo_quoted"), strings.HasPrefix(lid, "yahoo_quoted"):
		return "yahoo", true
	case t.HasClass("protonmail_quote"), t.HasClass("zmail_extra"):
		return "webmail", true
	case lid == "divrplyfwdmsg", lid == "appendonsend", lid == "olk_src_body_section",
		lid == "mail-editor-reference-message-container", t.HasClass("outlookmessageheader"),
		t.Data == "hr" && lid == "stopspelling":
		return "outlook", false
	case t.Data == "hr" && lid == "zwchr":
		return "zimbra", false
	}
	return "", false
}

// maxGenericChecks bounds how many <hr> and border-top elements are
// examined for a header block following them.
const maxGenericChecks = 8

// genericSnippet is how much HTML after a <hr> or border-top element is
// converted to look for a "From: / Sent:" block.
const genericSnippet = 16 << 10

// findHTMLCut returns where the quoted history of an HTML reply starts: our
// marker element wherever it is, else the first quote container.
func findHTMLCut(s string) htmlCut {
	z := htmltext.NewTokenizer(s)
	for {
		t, ok := z.Next()
		if !ok {
			break
		}
		if t.Type != htmltext.StartTagToken && t.Type != htmltext.SelfClosingToken {
			continue
		}
		if id, _ := t.AttrVal("id"); strings.EqualFold(id, HTMLMarkerID) || t.HasClass(HTMLMarkerID) {
			return htmlCut{pos: t.Start, reason: ReasonMarker}
		}
	}
	z = htmltext.NewTokenizer(s)
	checks := 0
	for {
		t, ok := z.Next()
		if !ok {
			break
		}
		if t.Type != htmltext.StartTagToken && t.Type != htmltext.SelfClosingToken {
			continue
		}
		client, container := quoteContainer(t)
		if client == "" {
			if checks < maxGenericChecks && isGenericSeparator(t) {
				checks++
				if startsWithHeaderBlock(s[t.Start:min(len(s), t.Start+genericSnippet)]) {
					return htmlCut{pos: t.Start, reason: ReasonQuoteHTML + ":outlook"}
				}
			}
			continue
		}
		if container && inlineReply(htmltext.Convert(s[t.Start:])) {
			return htmlCut{pos: -1}
		}
		return htmlCut{pos: t.Start, reason: ReasonQuoteHTML + ":" + client}
	}
	return htmlCut{pos: -1}
}

// isGenericSeparator reports a <hr> or an element with a top border, which
// Outlook and other clients put above an embedded "From:/Sent:" block.
func isGenericSeparator(t htmltext.Token) bool {
	if t.Data == "hr" {
		return true
	}
	if t.Data != "div" && t.Data != "p" {
		return false
	}
	style := strings.ToLower(attrVal(t, "style"))
	return strings.Contains(style, "border-top") && (strings.Contains(style, "solid") || strings.Contains(style, "1px") || strings.Contains(style, "1.0pt"))
}

// startsWithHeaderBlock reports whether the text of an HTML fragment starts
// with an embedded message header ("From: ... Sent: ...") or an
// original-message separator.
func startsWithHeaderBlock(fragment string) bool {
	d := analyse(clean(htmltext.Convert(fragment)))
	for i, li := range d.lines {
		if li.kind == lineEmpty || li.delim != delimNone {
			continue
		}
		if li.unit < 0 {
			return false
		}
		u := d.units[li.unit]
		return u.start == i && (u.kind == unitFields || u.kind == unitSeparator)
	}
	return false
}

// inlineReply reports whether the text of a quote container holds new text
// after quoted lines: the sender answered between the quotes.
func inlineReply(text string) bool {
	d := analyse(clean(text))
	quoted := false
	for _, li := range d.lines {
		switch {
		case li.kind == lineQuote:
			quoted = true
		case quoted && li.kind == lineText && li.unit < 0 && li.delim == delimNone && li.footer == footerNone:
			return true
		}
	}
	return false
}

func attrVal(t htmltext.Token, key string) string {
	v, _ := t.AttrVal(key)
	return v
}
