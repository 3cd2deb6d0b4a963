package mail

import (
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// parseParams parses a Content-Type or Content-Disposition value leniently:
// duplicate parameters keep the first, unquoted specials are accepted, and
// RFC 2231 continuations and charsets (any charset, not only UTF-8) and RFC
// 2047 encoded words in quoted values are decoded. The value is lower-case.
func parseParams(v string) (value string, params map[string]string) {
	parts := splitParams(v)
	value = strings.ToLower(strings.TrimSpace(parts[0]))
	params = map[string]string{}

	type section struct {
		n       int
		encoded bool
		val     string
	}
	ext := map[string][]section{}
	for _, p := range parts[1:] {
		k, val, ok := strings.Cut(p, "=")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		val = unquote(strings.TrimSpace(val))
		if k == "" {
			continue
		}
		if i := strings.IndexByte(k, '*'); i >= 0 {
			name, rest := k[:i], k[i+1:]
			s := section{encoded: strings.HasSuffix(rest, "*") || rest == "", val: val}
			rest = strings.TrimSuffix(rest, "*")
			if rest != "" {
				n, err := strconv.Atoi(rest)
				if err != nil {
					continue
				}
				s.n = n
			}
			if k == name+"*" {
				s.encoded = true
			}
			ext[name] = append(ext[name], s)
			continue
		}
		if _, dup := params[k]; !dup {
			if k != "boundary" {
				val = decodeWordsRaw(val)
			}
			params[k] = val
		}
	}
	for name, secs := range ext {
		sort.SliceStable(secs, func(i, j int) bool { return secs[i].n < secs[j].n })
		var cs string
		var raw []byte
		for i, s := range secs {
			val := s.val
			if s.encoded {
				if i == 0 {
					// charset'language'value
					if a, rest, ok := strings.Cut(val, "'"); ok {
						if _, v2, ok := strings.Cut(rest, "'"); ok {
							cs, val = a, v2
						}
					}
				}
				if u, err := url.PathUnescape(val); err == nil {
					val = u
				} else {
					val = percentDecodeLenient(val)
				}
			}
			raw = append(raw, val...)
		}
		decoded, _ := decodeCharset(cs, raw)
		// An RFC 2231 value wins over the plain one (which is often a
		// lossy fallback for old clients).
		params[name] = decoded
	}
	return value, params
}

// splitParams splits on ";" outside double quotes.
func splitParams(v string) []string {
	var parts []string
	var b strings.Builder
	inQuote := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '\\' && inQuote && i+1 < len(v):
			b.WriteByte(c)
			b.WriteByte(v[i+1])
			i++
			continue
		case c == '"':
			inQuote = !inQuote
		case c == ';' && !inQuote:
			parts = append(parts, b.String())
			b.Reset()
			continue
		}
		b.WriteByte(c)
	}
	return append(parts, b.String())
}

func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' {
		s = strings.TrimSuffix(s[1:], `"`)
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			if s[i] == '\\' && i+1 < len(s) {
				i++
			}
			b.WriteByte(s[i])
		}
		return b.String()
	}
	return s
}

func percentDecodeLenient(s string) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		b = append(b, s[i])
	}
	return string(b)
}
