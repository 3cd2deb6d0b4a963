package mail

import (
	"fmt"
	netmail "net/mail"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	gomail "github.com/emersion/go-message/mail"

	"github.com/helpdesk/helpdesk/threading/htmltext"
)

func htmlToText(html string) string { return htmltext.Convert(html) }

// envelope fills the addressing, identity and threading fields from the
// top-level header.
func (p *parser) envelope(h header) {
	m := p.msg
	m.Header = h.safeMap()
	m.Trace = traceFields(h)

	if from := p.addresses(h, "From"); len(from) > 0 {
		m.From = from[0]
		if len(from) > 1 {
			p.warn("header: several From addresses; the first is used")
		}
	} else if s := p.addresses(h, "Sender"); len(s) > 0 {
		m.From = s[0]
		p.warn("header: no From; Sender used")
	} else if a, ok := fromWithoutAddress(h.get("From")); ok {
		m.From = a
		p.warn(fmt.Sprintf("header: From has no address with a domain; kept %q as the name", a.Name))
	} else {
		p.warn("header: no From")
	}
	m.To = p.addresses(h, "To")
	m.Cc = p.addresses(h, "Cc")
	m.ReplyTo = p.addresses(h, "Reply-To")
	m.DeliveredTo = p.addresses(h, "Delivered-To")
	m.XOriginalTo = p.addresses(h, "X-Original-To")
	m.Subject = oneLine(decodeWords(h.get("Subject")), MaxSubjectRunes)
	for _, k := range []string{"From", "Subject"} {
		if g := guessRaw(h.get(k)); g != "" {
			m.CharsetGuesses = append(m.CharsetGuesses, "header "+k+": guessed "+g)
		}
	}

	if v := h.get("Date"); v != "" {
		if t, ok := parseDate(v); ok {
			m.Date = t
		} else {
			p.warn(fmt.Sprintf("header: unparsable Date %.60q", v))
		}
	}

	if v := h.get("Message-Id"); v != "" {
		v = SafeString([]byte(v))
		raw := v
		if sub := idRe.FindStringSubmatch(v); sub != nil {
			raw = sub[1]
		}
		// Of several ids (or fields), the first well-formed one.
		for _, f := range h.values("Message-Id") {
			if ok := firstValidID(SafeString([]byte(f))); ok != "" {
				raw, v = ok, f
				break
			}
		}
		id := CanonicalMsgID(raw)
		if n := normalizeID(raw); validMsgID(n) && reservedID(n) {
			id = hashedID(n)
		}
		switch {
		case id == "":
			p.warn(fmt.Sprintf("header: unusable Message-ID %.60q", v))
		case id != strings.TrimSpace(raw):
			m.OriginalMessageID = truncateID(v)
			m.MessageIDAlias = id // finish derives MessageID from the content
			p.warn(fmt.Sprintf("header: malformed Message-ID %.60q; replies naming it match %s", v, id))
			id = ""
		}
		m.MessageID = id
	}
	m.InReplyTo = parseIDs(strings.Join(h.values("In-Reply-To"), " "))
	m.References = capIDs(parseIDs(strings.Join(h.values("References"), " ")), maxReferences)
}

// MaxSubjectRunes caps the subjects we keep (and so echo in our mail).
const MaxSubjectRunes = 1000

// oneLine makes a header text safe to store and show on one line: every run
// of white space and control characters (a CR/LF that RFC 2047 smuggled in,
// tabs, NUL) becomes one space, and it is cut at max runes.
func oneLine(s string, max int) string {
	var b strings.Builder
	b.Grow(len(s))
	space, n := false, 0
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			space = true
			continue
		}
		if n >= max {
			break
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
			n++
		}
		space = false
		b.WriteRune(r)
		n++
	}
	return b.String()
}

func firstValidID(v string) string {
	for _, m := range idRe.FindAllStringSubmatch(v, -1) {
		if id := strings.TrimSpace(m[1]); validMsgID(id) {
			return id
		}
	}
	return ""
}

// maxReferences bounds the References we keep: the first (the thread's root)
// and the newest, as RFC 5322 section 3.6.4 suggests for trimming.
const maxReferences = 100

func capIDs(ids []string, n int) []string {
	if len(ids) <= n {
		return ids
	}
	return append(ids[:1:1], ids[len(ids)-n+1:]...)
}

func truncateID(v string) string {
	v = strings.TrimSpace(v)
	if len(v) <= 1000 {
		return v
	}
	for i := 1000; i > 0; i-- {
		if utf8.RuneStart(v[i]) {
			return v[:i]
		}
	}
	return ""
}

// addresses parses every field named k as an address list. go-message's
// parser is tried first; on failure each comma-separated item is parsed
// leniently, and items without an address are dropped with a warning.
func (p *parser) addresses(h header, k string) []Address {
	var out []Address
	for _, raw := range h.values(k) {
		v := SafeString([]byte(raw))
		if strings.TrimSpace(v) == "" {
			continue
		}
		if list, err := gomail.ParseAddressList(v); err == nil && !namesGarbled(list, v) {
			for _, a := range list {
				out = append(out, newAddress(a.Name, a.Address))
			}
			continue
		}
		for _, item := range splitAddressList(v) {
			if a, ok := lenientAddress(item); ok {
				out = append(out, a)
			} else if strings.TrimSpace(item) != "" && !strings.HasSuffix(strings.TrimSpace(item), ":;") {
				p.warn(fmt.Sprintf("header: %s: no address in %.60q", k, item))
			}
		}
	}
	return out
}

// namesGarbled reports whether go-message decoded a display name into
// replacement characters that the header did not hold, as when an encoded
// word's declared charset does not match its bytes; the lenient path then
// decodes the names with decodeWords, which falls back to UTF-8 or a guess.
func namesGarbled(list []*gomail.Address, v string) bool {
	if strings.ContainsRune(v, utf8.RuneError) {
		return false
	}
	for _, a := range list {
		if strings.ContainsRune(a.Name, utf8.RuneError) {
			return true
		}
	}
	return false
}

// fromWithoutAddress makes a best-effort sender of a From with no usable
// address ("<moderator>", "moderator", "Team:;"): the display name, local
// part or group name as Name, with Address left empty so no domain is
// invented and no case can be opened for it.
func fromWithoutAddress(raw string) (Address, bool) {
	v := strings.TrimSpace(decodeWords(raw))
	if grp, rest, ok := strings.Cut(v, ":"); ok && !strings.ContainsAny(grp, "<@\"") {
		v = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), ";"))
		if v == "" {
			v = strings.TrimSpace(grp)
		}
	}
	name := v
	if i := strings.IndexByte(v, '<'); i >= 0 {
		local := strings.TrimSpace(strings.Trim(v[i:], "<> \t"))
		name = strings.Trim(strings.TrimSpace(v[:i]), `"'`)
		if local != "" && name != "" && !strings.EqualFold(name, local) {
			name += " (" + local + ")"
		} else if name == "" {
			name = local
		}
	}
	name = strings.Trim(strings.TrimSpace(name), `"'`)
	if name == "" {
		return Address{}, false
	}
	return Address{Name: oneLine(name, 200)}, true
}

func newAddress(name, addr string) Address {
	addr = strings.TrimSpace(addr)
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		addr = addr[:i] + "@" + strings.ToLower(addr[i+1:])
	}
	return Address{Name: strings.TrimSpace(stripNUL(name)), Address: stripNUL(addr)}
}

var (
	angleRe = regexp.MustCompile(`<\s*([^<>\s]+@[^<>\s]+?)\s*>`)
	bareRe  = regexp.MustCompile(`[^\s<>()"',;:]+@[^\s<>()"',;:]+`)
)

func lenientAddress(item string) (Address, bool) {
	item = strings.TrimSpace(item)
	if _, after, ok := strings.Cut(item, ":"); ok && !strings.Contains(item[:strings.Index(item, ":")], "<") && !strings.Contains(item[:strings.Index(item, ":")], "@") {
		item = strings.TrimSuffix(strings.TrimSpace(after), ";") // group syntax
	}
	if m := angleRe.FindStringSubmatchIndex(item); m != nil {
		name := strings.Trim(strings.TrimSpace(item[:m[0]]), `"'`)
		return newAddress(decodeWords(name), item[m[2]:m[3]]), true
	}
	if a := bareRe.FindString(item); a != "" {
		return newAddress("", strings.Trim(a, ".")), true
	}
	return Address{}, false
}

// splitAddressList splits on commas outside quotes, angle brackets and
// comments.
func splitAddressList(v string) []string {
	var out []string
	depthAngle, depthParen, inQuote, start := 0, 0, false, 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '\\' && inQuote:
			i++
		case c == '"':
			inQuote = !inQuote
		case inQuote:
		case c == '<':
			depthAngle++
		case c == '>' && depthAngle > 0:
			depthAngle--
		case c == '(':
			depthParen++
		case c == ')' && depthParen > 0:
			depthParen--
		case (c == ',' || c == ';') && depthAngle == 0 && depthParen == 0:
			out = append(out, v[start:i])
			start = i + 1
		}
	}
	return append(out, v[start:])
}

var idRe = regexp.MustCompile(`<([^<>]*)>`)

// parseIDs extracts message ids from an In-Reply-To or References value:
// every <...> token, whatever garbage surrounds it, or, when the value has no
// angle brackets at all, every white-space separated token with an "@". Ids
// are returned in canonical form (CanonicalMsgID, so a malformed id matches
// the Message-ID it was stored under), deduplicated, in order.
func parseIDs(v string) []string {
	v = SafeString([]byte(v))
	var ids []string
	seen := map[string]bool{}
	add := func(id string) {
		id = CanonicalMsgID(id)
		if id == "" || seen[id] {
			return
		}
		seen[id] = true
		ids = append(ids, id)
	}
	if strings.ContainsAny(v, "<>") {
		for _, m := range idRe.FindAllStringSubmatch(v, -1) {
			add(m[1])
		}
		return ids
	}
	for _, tok := range strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == '\t' || r == ',' || r == ';' }) {
		if strings.Contains(tok, "@") {
			add(tok)
		}
	}
	return ids
}

// normalizeID strips angle brackets and all white space and control
// characters from a message id or Content-ID.
func normalizeID(v string) string {
	v = strings.TrimSpace(v)
	v = strings.TrimPrefix(v, "<")
	v = strings.TrimSuffix(v, ">")
	return strings.Map(func(r rune) rune {
		if r <= ' ' || r == 0x7f || r == '<' || r == '>' {
			return -1
		}
		return r
	}, v)
}

var (
	commentRe = regexp.MustCompile(`\([^()]*\)`)
	dateForms = []string{
		"2 Jan 2006 15:04:05 -0700",
		"2 Jan 2006 15:04:05 MST",
		"2 Jan 2006 15:04 -0700",
		"2 Jan 06 15:04:05 -0700",
		"2 Jan 2006 15:04:05",
		"Jan 2 15:04:05 2006",
		"Jan 2 2006 15:04:05 -0700",
		"2006-01-02 15:04:05 -0700",
		"2006-01-02T15:04:05Z07:00",
		"2 January 2006 15:04:05 -0700",
		"2006/01/02 15:04:05",
		"2 Jan 2006",
	}
)

// parseDate parses a Date header, first strictly, then with common
// deviations (comments, missing or extra day names, odd zones).
func parseDate(v string) (time.Time, bool) {
	v = SafeString([]byte(v))
	if t, err := netmail.ParseDate(v); err == nil {
		return t, true
	}
	s := commentRe.ReplaceAllString(v, " ")
	if i := strings.IndexByte(s, ','); i >= 0 && i < 12 {
		s = s[i+1:]
	}
	f := strings.Fields(s)
	if len(f) > 0 && len(f[0]) >= 3 && isDayName(f[0]) {
		f = f[1:]
	}
	s = strings.Join(f, " ")
	s = strings.ReplaceAll(s, " UT", " UTC")
	for _, layout := range dateForms {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	// Drop a trailing zone name after a numeric zone: "+0900 JST".
	if len(f) > 1 {
		s = strings.Join(f[:len(f)-1], " ")
		for _, layout := range dateForms {
			if t, err := time.Parse(layout, s); err == nil {
				return t, true
			}
		}
	}
	return time.Time{}, false
}

func isDayName(s string) bool {
	s = strings.ToLower(strings.TrimSuffix(s, ","))
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
		if strings.HasPrefix(s, d) {
			return true
		}
	}
	return false
}
