package compose

import (
	"encoding/base64"
	"mime"
	"strings"
	"unicode/utf8"
)

// maxWordLen is the longest encoded word RFC 2047 allows.
const maxWordLen = 75

// encodeText prepares s for an unstructured header field such as Subject.
// ASCII words are written as they are, so a tag like "[Case #12]" is never
// split or hidden inside an encoded word. Runs of other words become RFC 2047
// encoded words; each holds whole words (with the space before them, since
// decoders drop the space between two encoded words), packed up to 75
// octets, so the header folds between words. Only a single word too long
// for one encoded word is split, between characters. first is the room on
// the line for the value's first word (after "Subject: " for instance): an
// encoded word that does not fit there could not be folded.
func encodeText(s string, first int) string {
	if isASCII(s) && !strings.Contains(s, "=?") {
		return s
	}
	return encodeWords(s, first, false)
}

// encodePhrase encodes a non-ASCII display name like encodeText, except
// that only atoms stay plain and encoded words are always B-encoded (Q
// text may not hold specials in a phrase, RFC 2047 section 5).
func encodePhrase(s string, first int) string {
	return encodeWords(s, first, true)
}

func encodeWords(s string, first int, phrase bool) string {
	needsEncoding := func(word string) bool {
		return !isASCII(word) || strings.Contains(word, "=?") || phrase && !isAtom(word)
	}
	encode := encodeUnstructured
	if phrase {
		encode = encodeB
	}
	toks := splitWords(s)
	var b strings.Builder
	for i := 0; i < len(toks); {
		if !needsEncoding(toks[i].word) {
			b.WriteString(toks[i].space)
			b.WriteString(toks[i].word)
			i++
			continue
		}
		b.WriteString(toks[i].space)
		limit := maxWordLen
		if i == 0 {
			limit = first
		}
		cur := toks[i].word
		var words []string
		// Trailing whitespace (an empty last word) goes into the encoded
		// word, where parsers keep it.
		for i++; i < len(toks) && (needsEncoding(toks[i].word) || toks[i].word == ""); i++ {
			next := toks[i].space + toks[i].word
			if fits(encode, cur+next, limit) {
				cur += next
				continue
			}
			words = append(words, encodeWord(encode, cur, limit))
			cur, limit = next, maxWordLen
		}
		words = append(words, encodeWord(encode, cur, limit))
		b.WriteString(strings.Join(words, " "))
	}
	return b.String()
}

// token is a word with the whitespace before it.
type token struct{ space, word string }

func splitWords(s string) []token {
	var toks []token
	for len(s) > 0 {
		n := len(s) - len(strings.TrimLeft(s, " \t"))
		space := s[:n]
		s = s[n:]
		end := strings.IndexAny(s, " \t")
		if end < 0 {
			end = len(s)
		}
		toks = append(toks, token{space, s[:end]})
		s = s[end:]
	}
	return toks
}

func isAtom(word string) bool {
	for i := 0; i < len(word); i++ {
		c := word[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

func fits(encode func(string) string, s string, limit int) bool {
	w := encode(s)
	return len(w) <= limit && !strings.Contains(w, " ")
}

// encodeWord encodes s as one encoded word of at most limit octets, or as
// several separated by spaces, split between characters.
func encodeWord(encode func(string) string, s string, limit int) string {
	var words []string
	for len(s) > 0 {
		n := len(s)
		for n > 1 && !fits(encode, s[:n], limit) {
			n--
			for n > 1 && !utf8.RuneStart(s[n]) {
				n--
			}
		}
		words = append(words, encode(s[:n]))
		s, limit = s[n:], maxWordLen
	}
	return strings.Join(words, " ")
}

// encodeUnstructured returns s as encoded words: B encoding for mostly
// non-ASCII text, Q (more readable) otherwise.
func encodeUnstructured(s string) string {
	if isASCII(s) || mostlyNonASCII(s) {
		return encodeB(s)
	}
	return mime.QEncoding.Encode("utf-8", s)
}

func encodeB(s string) string {
	if isASCII(s) {
		// mime.WordEncoder leaves ASCII alone, but "=?" must be hidden.
		return "=?utf-8?b?" + base64.StdEncoding.EncodeToString([]byte(s)) + "?="
	}
	return mime.BEncoding.Encode("utf-8", s)
}

// firstRoom is the room for the first word of a field's value on the line
// "Name: value" of at most 76 columns; at least 20 for very long names.
func firstRoom(name string) int {
	return max(76-len(name)-len(": "), 20)
}
