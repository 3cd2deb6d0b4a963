package mail

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"
)

// SafeString returns b as valid UTF-8 without NUL bytes. Bytes that are not
// UTF-8 are taken as EUC-KR (CP949) when they decode cleanly to mostly Hangul,
// as UTF-8 with each stray byte replaced by U+FFFD when valid multi-byte
// sequences outnumber the bad bytes, then as Shift_JIS, KOI8-R/windows-1251
// or GB18030 when one reads as that script, and as windows-1252 otherwise.
// ISO-2022-JP is recognised by its escape sequences.
func SafeString(b []byte) string {
	s, _ := guessDecode(b)
	return s
}

// guessDecode is SafeString that also names the charset it picked ("" for
// UTF-8 or ASCII).
func guessDecode(b []byte) (string, string) {
	if utf8.Valid(b) {
		if bytes.Contains(b, []byte("\x1b$B")) || bytes.Contains(b, []byte("\x1b$@")) {
			if s, ok := decodeStrict(japanese.ISO2022JP.NewDecoder(), b); ok {
				return stripNUL(s), "iso-2022-jp"
			}
		}
		return stripNUL(string(b)), ""
	}
	// EUC-KR comes first: its Hangul can hold accidental UTF-8 sequences,
	// while UTF-8 Korean never decodes as CP949 (its trail bytes are < 0xA1).
	if s, ok := decodeStrict(korean.EUCKR.NewDecoder(), b); ok && mostlyHangul(s) && hasKSX1001Hangul(b) {
		return stripNUL(s), "euc-kr"
	}
	if mostlyUTF8(b) {
		return stripNUL(repairUTF8(b)), "utf-8 (invalid bytes replaced)"
	}
	if s, ok := decodeStrict(japanese.ShiftJIS.NewDecoder(), b); ok && mostlyKana(s) {
		return stripNUL(s), "shift_jis"
	}
	if s, cs, ok := guessCyrillic(b); ok {
		return stripNUL(s), cs
	}
	if s, ok := decodeStrict(simplifiedchinese.GB18030.NewDecoder(), b); ok && mostlyHan(s) {
		return stripNUL(s), "gb18030"
	}
	s, _ := decodeStrict(charmap.Windows1252.NewDecoder(), b)
	return stripNUL(strings.ToValidUTF8(s, "\uFFFD")), "windows-1252"
}

// guessRaw names the charset guessed for the raw (not encoded-word) 8-bit
// bytes of a header value, "" when they are UTF-8 or ASCII.
func guessRaw(v string) string {
	if utf8.ValidString(v) && !strings.Contains(v, "\x1b$") {
		return ""
	}
	_, g := guessDecode([]byte(v))
	return g
}

func decodeStrict(t transform.Transformer, b []byte) (string, bool) {
	out, _, err := transform.Bytes(t, b)
	if err != nil {
		return "", false
	}
	s := string(out)
	if strings.ContainsRune(s, utf8.RuneError) && !bytes.Contains(b, []byte("\uFFFD")) {
		return s, false
	}
	return s, utf8.ValidString(s)
}

// mostlyUTF8 reports whether b is UTF-8 with a few stray bytes: it holds at
// least one valid multi-byte sequence and no more invalid bytes than those.
// Such text is repaired per byte rather than re-read as a legacy charset.
func mostlyUTF8(b []byte) bool {
	var multi, bad int
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		switch {
		case r == utf8.RuneError && n == 1:
			bad++
		case n > 1:
			multi++
		}
		b = b[n:]
	}
	return multi > 0 && bad <= multi
}

// repairUTF8 replaces each invalid byte of b with U+FFFD and keeps every
// valid sequence.
func repairUTF8(b []byte) string {
	var sb strings.Builder
	sb.Grow(len(b) + 8)
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			sb.WriteString("\uFFFD")
		} else {
			sb.Write(b[:n])
		}
		b = b[n:]
	}
	return sb.String()
}

// mostlyKana reports whether s holds kana and at least half of its non-ASCII
// runes are Japanese (kana, CJK ideographs, full-width forms).
func mostlyKana(s string) bool {
	var kana, ja, other int
	for _, r := range s {
		switch {
		case r < 0x80:
		case r >= 0x3040 && r <= 0x30FF:
			kana++
			ja++
		case r >= 0x4E00 && r <= 0x9FFF, r >= 0xFF00 && r <= 0xFFEF, r >= 0x3000 && r <= 0x303F:
			ja++
		default:
			other++
		}
	}
	return kana > 0 && ja >= other
}

// mostlyHan reports whether at least half of the non-ASCII runes of s are CJK
// ideographs or CJK punctuation.
func mostlyHan(s string) bool {
	var han, other int
	for _, r := range s {
		switch {
		case r < 0x80:
		case r >= 0x4E00 && r <= 0x9FFF, r >= 0x3000 && r <= 0x303F, r >= 0xFF00 && r <= 0xFFEF:
			han++
		default:
			other++
		}
	}
	return han >= 2 && han >= other
}

// guessCyrillic decodes b as KOI8-R or windows-1251 when either reads as
// mostly Cyrillic, preferring the one with more lower-case letters (running
// Russian text is mostly lower case; the wrong table swaps the cases).
func guessCyrillic(b []byte) (string, string, bool) {
	koi, _ := decodeStrict(charmap.KOI8R.NewDecoder(), b)
	cp, _ := decodeStrict(charmap.Windows1251.NewDecoder(), b)
	kc, kl := cyrillicScore(koi)
	cc, cl := cyrillicScore(cp)
	switch {
	case kc && (!cc || kl >= cl):
		return koi, "koi8-r", true
	case cc:
		return cp, "windows-1251", true
	}
	return "", "", false
}

// cyrillicScore reports whether at least 3 and most non-ASCII runes of s are
// Cyrillic letters, and how many of them are lower case.
func cyrillicScore(s string) (bool, int) {
	var cyr, lower, other int
	for _, r := range s {
		switch {
		case r < 0x80:
		case r >= 0x0410 && r <= 0x044F, r == 0x0401, r == 0x0451:
			cyr++
			if r >= 0x0430 || r == 0x0451 {
				lower++
			}
		default:
			other++
		}
	}
	return cyr >= 3 && cyr >= 4*other, lower
}

// mostlyHangul reports whether three quarters of the non-ASCII letters of s
// are Hangul: windows-1252 text ("é") can also decode as EUC-KR (as Hanja),
// and GB2312 text as a mix of rare Hangul and Hanja.
func mostlyHangul(s string) bool {
	var hangul, other int
	for _, r := range s {
		switch {
		case r < 0x80:
		case r >= 0xAC00 && r <= 0xD7A3, r >= 0x3130 && r <= 0x318F:
			hangul++
		default:
			other++
		}
	}
	return hangul > 0 && hangul >= 3*other
}

// hasKSX1001Hangul reports whether b holds a Hangul syllable of the core
// EUC-KR range; a lone CP949 extension pair is more likely Latin-1 noise.
func hasKSX1001Hangul(b []byte) bool {
	for i := 0; i+1 < len(b); i++ {
		if b[i] >= 0xB0 && b[i] <= 0xC8 && b[i+1] >= 0xA1 && b[i+1] <= 0xFE {
			return true
		}
	}
	return false
}

func stripNUL(s string) string {
	if strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(s, "\x00", "")
}

// decodeCharset converts b from the declared charset to safe UTF-8. It returns
// a warning when the charset is unknown or wrong and a guess was used.
func decodeCharset(label string, b []byte) (string, string) {
	label = strings.ToLower(strings.Trim(strings.TrimSpace(label), `"'`))
	switch label {
	case "", "us-ascii", "ascii", "utf-8", "utf8":
		s, guessed := guessDecode(b)
		if guessed != "" {
			return s, "charset: text declared " + orNone(label) + " is not; decoded as " + guessed
		}
		return s, ""
	case "ks_c_5601-1987", "ks_c_5601", "ksc5601", "cp949", "uhc", "x-windows-949", "windows-949":
		label = "euc-kr" // x/text's EUC-KR decoder is CP949, a superset
	}
	r, err := charset.Reader(label, bytes.NewReader(b))
	if err != nil {
		s, guessed := guessDecode(b)
		return s, "charset: unknown charset " + label + "; decoded as " + orNone(guessed)
	}
	out, err := io.ReadAll(r)
	if err == nil && utf8.Valid(out) && (!bytes.ContainsRune(out, utf8.RuneError) || bytes.Contains(b, []byte("\uFFFD"))) {
		return stripNUL(string(out)), ""
	}
	// The declared charset does not fit: the bytes are often UTF-8 or
	// another legacy charset.
	if utf8.Valid(b) {
		return stripNUL(string(b)), "charset: text declared " + label + " is UTF-8"
	}
	if s, guessed := guessDecode(b); guessed != label {
		return s, "charset: text is not valid " + label + "; decoded as " + guessed
	}
	return stripNUL(strings.ToValidUTF8(string(out), "\uFFFD")), "charset: invalid " + label + " bytes replaced"
}

func orNone(s string) string {
	if s == "" {
		return "utf-8"
	}
	return s
}

// decodeWords decodes RFC 2047 encoded words in a header value. Adjacent
// encoded words are joined before charset conversion, because some mailers
// split a multi-byte character across two words. Malformed words are left as
// they are. Raw 8-bit bytes are converted with SafeString.
func decodeWords(v string) string { return strings.TrimSpace(decodeWordsRaw(v)) }

// decodeWordsRaw is decodeWords without trimming.
func decodeWordsRaw(v string) string {
	if !strings.Contains(v, "=?") {
		return SafeString([]byte(v))
	}
	var (
		out      strings.Builder
		pending  []byte
		pendCS   string
		lastWord bool
		space    string
	)
	flush := func() {
		if pending != nil {
			s, _ := decodeCharset(pendCS, pending)
			out.WriteString(s)
			pending, pendCS = nil, ""
		}
	}
	for len(v) > 0 {
		i := strings.Index(v, "=?")
		if i < 0 {
			flush()
			out.WriteString(space)
			out.WriteString(SafeString([]byte(v)))
			break
		}
		between := v[:i]
		cs, raw, n, ok := parseWord(v[i:])
		if !ok {
			flush()
			out.WriteString(space)
			space = ""
			out.WriteString(SafeString([]byte(v[:i+2])))
			v = v[i+2:]
			lastWord = false
			continue
		}
		if lastWord && strings.TrimSpace(between) == "" {
			// white space between encoded words is dropped
		} else {
			flush()
			out.WriteString(space)
			out.WriteString(SafeString([]byte(between)))
		}
		space = ""
		if pending != nil && !strings.EqualFold(cs, pendCS) {
			flush()
		}
		pendCS = cs
		pending = append(pending, raw...)
		lastWord = true
		v = v[i+n:]
	}
	flush()
	return stripNUL(out.String())
}

// parseWord parses one encoded word at the start of s: charset, the decoded
// bytes and its length.
func parseWord(s string) (cs string, raw []byte, n int, ok bool) {
	parts := strings.SplitN(s[2:], "?", 3)
	if len(parts) < 3 {
		return "", nil, 0, false
	}
	end := strings.Index(parts[2], "?=")
	if end < 0 {
		return "", nil, 0, false
	}
	cs, enc, text := parts[0], parts[1], parts[2][:end]
	if k := strings.IndexByte(cs, '*'); k >= 0 { // RFC 2231 language
		cs = cs[:k]
	}
	if cs == "" || strings.ContainsAny(cs, " \t") || strings.ContainsAny(text, " \t") {
		return "", nil, 0, false
	}
	n = 2 + len(parts[0]) + 1 + len(parts[1]) + 1 + end + 2
	switch strings.ToLower(enc) {
	case "b":
		raw = decodeBase64Lenient([]byte(text))
	case "q":
		raw = decodeQWord(text)
	default:
		return "", nil, 0, false
	}
	return cs, raw, n, true
}

func decodeQWord(s string) []byte {
	var b []byte
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '_':
			b = append(b, ' ')
		case c == '=' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			b = append(b, c)
		}
	}
	return b
}

func decodeBase64Lenient(b []byte) []byte {
	out, _ := io.ReadAll(newBase64Reader(bytes.NewReader(b)))
	return out
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// transferDecoder returns a reader that undoes the Content-Transfer-Encoding.
// Unknown encodings pass the bytes through and return a warning.
func transferDecoder(enc string, r io.Reader) (io.Reader, string) {
	enc = strings.ToLower(strings.Trim(strings.TrimSpace(enc), `"';`))
	switch enc {
	case "", "7bit", "8bit", "binary", "7-bit", "8-bit", "none":
		return r, ""
	case "base64":
		return newBase64Reader(r), ""
	case "quoted-printable", "quoted_printable", "qp":
		return newQPReader(r), ""
	}
	return r, "transfer encoding: unknown " + enc + "; body taken as is"
}

var base64Values = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xFF
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = byte(i)
	}
	return t
}()

// base64Reader decodes base64 and skips every byte outside the alphabet;
// padding resets the bit buffer so concatenated encodings decode too.
type base64Reader struct {
	r     io.Reader
	in    []byte
	buf   []byte
	out   []byte
	acc   uint32
	bits  uint
	err   error
	stray bool // saw bytes that are neither alphabet nor white space
}

func newBase64Reader(r io.Reader) *base64Reader {
	return &base64Reader{r: r, in: make([]byte, 8192)}
}

func (d *base64Reader) Read(p []byte) (int, error) {
	for len(d.out) == 0 {
		if d.err != nil {
			return 0, d.err
		}
		n, err := d.r.Read(d.in)
		d.buf = d.buf[:0]
		for _, c := range d.in[:n] {
			v := base64Values[c]
			if v == 0xFF {
				switch c {
				case '=':
					d.acc, d.bits = 0, 0
				case ' ', '\t', '\r', '\n':
				default:
					d.stray = true
				}
				continue
			}
			d.acc = d.acc<<6 | uint32(v)
			d.bits += 6
			if d.bits >= 8 {
				d.bits -= 8
				d.buf = append(d.buf, byte(d.acc>>d.bits))
			}
		}
		d.out = d.buf
		if err != nil {
			d.err = err
		}
	}
	n := copy(p, d.out)
	d.out = d.out[n:]
	return n, nil
}

// qpReader decodes quoted-printable leniently: a "=" not followed by two hex
// digits stays literal, and control bytes pass through.
type qpReader struct {
	br  *bufio.Reader
	buf []byte
	out []byte
	err error
}

func newQPReader(r io.Reader) *qpReader { return &qpReader{br: bufio.NewReaderSize(r, 4096)} }

func (q *qpReader) Read(p []byte) (int, error) {
	for len(q.out) == 0 {
		if q.err != nil {
			return 0, q.err
		}
		line, err := q.br.ReadSlice('\n')
		full := !errors.Is(err, bufio.ErrBufferFull)
		if err != nil && full {
			q.err = err
		}
		var eol []byte
		if full && bytes.HasSuffix(line, []byte("\n")) {
			eol = []byte("\n")
			line = line[:len(line)-1]
			if bytes.HasSuffix(line, []byte("\r")) {
				eol = []byte("\r\n")
				line = line[:len(line)-1]
			}
		}
		if full {
			line = bytes.TrimRight(line, " \t")
		}
		soft := full && bytes.HasSuffix(line, []byte("="))
		if soft {
			line = line[:len(line)-1]
		}
		q.buf = q.buf[:0]
		for i := 0; i < len(line); i++ {
			c := line[i]
			if c == '=' && i+2 < len(line) && isHex(line[i+1]) && isHex(line[i+2]) {
				q.buf = append(q.buf, unhex(line[i+1])<<4|unhex(line[i+2]))
				i += 2
				continue
			}
			q.buf = append(q.buf, c)
		}
		if !soft {
			q.buf = append(q.buf, eol...)
		}
		q.out = q.buf
	}
	n := copy(p, q.out)
	q.out = q.out[n:]
	return n, nil
}

// bodyGuess names the charset guessed for a text part whose charset is
// missing, ASCII/UTF-8 by label only, or unknown ("unknown-8bit").
func bodyGuess(label string, b []byte) string {
	label = strings.ToLower(strings.Trim(strings.TrimSpace(label), `"'`))
	switch label {
	case "", "us-ascii", "ascii", "utf-8", "utf8", "unknown-8bit", "x-unknown", "unknown":
	default:
		if _, err := charset.Reader(label, bytes.NewReader(nil)); err == nil {
			return ""
		}
	}
	if utf8.Valid(b) && !bytes.Contains(b, []byte("\x1b$")) {
		return ""
	}
	_, g := guessDecode(b)
	return g
}
