package mail

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/textproto"
)

// field is one header field, unfolded. Value holds the raw bytes as they
// came (possibly 8-bit, not RFC 2047 decoded).
type field struct {
	Key   string // canonical MIME key
	Value string
}

type header []field

func (h header) get(k string) string {
	k = textproto.CanonicalMIMEHeaderKey(k)
	for _, f := range h {
		if f.Key == k {
			return f.Value
		}
	}
	return ""
}

func (h header) has(k string) bool {
	k = textproto.CanonicalMIMEHeaderKey(k)
	for _, f := range h {
		if f.Key == k {
			return true
		}
	}
	return false
}

func (h header) values(k string) []string {
	k = textproto.CanonicalMIMEHeaderKey(k)
	var out []string
	for _, f := range h {
		if f.Key == k {
			out = append(out, f.Value)
		}
	}
	return out
}

// safeMap returns the header as a map with canonical keys and values made
// valid UTF-8 without NUL.
func (h header) safeMap() map[string][]string {
	m := make(map[string][]string, len(h))
	for _, f := range h {
		m[f.Key] = append(m[f.Key], SafeString([]byte(f.Value)))
	}
	return m
}

const maxHeaderBytes = 1 << 20

// readHeader reads a header block leniently. A line that is neither a field
// nor a continuation is skipped with a warning when a field follows it;
// otherwise the header is taken to end there and the line is returned in
// rest as the start of the body. err is only ever an I/O error of br.
func readHeader(br *bufio.Reader) (h header, rest []byte, warnings []string, err error) {
	var (
		cur   []byte // the field being unfolded
		total int
		first = true
	)
	flush := func() {
		if cur == nil {
			return
		}
		k, v, _ := bytes.Cut(cur, []byte(":"))
		key := textproto.CanonicalMIMEHeaderKey(string(bytes.TrimSpace(k)))
		h = append(h, field{Key: key, Value: string(bytes.TrimSpace(v))})
		cur = nil
	}
	for {
		line, eol, rerr := readLine(br, maxHeaderBytes-total)
		if rerr != nil && !errors.Is(rerr, io.EOF) {
			return h, nil, warnings, rerr
		}
		total += len(line) + len(eol)
		if len(line) == 0 && (len(eol) > 0 || rerr != nil) {
			flush()
			return h, nil, warnings, nil
		}
		if first && bytes.HasPrefix(line, []byte("From ")) {
			// An mbox separator line.
			first = false
			continue
		}
		first = false
		switch {
		case line[0] == ' ' || line[0] == '\t':
			if cur != nil {
				cur = append(cur, ' ')
				cur = append(cur, bytes.TrimSpace(line)...)
			} else if len(h) > 0 {
				// Continuation of a field we already flushed, cannot happen;
				// or a leading space at the top: skip it.
				warnings = append(warnings, "header: continuation line without field skipped")
			} else if !nextIsField(br) {
				return h, append(line, eol...), append(warnings, "header: message starts with white space; treated as body"), nil
			} else {
				warnings = append(warnings, "header: leading continuation line skipped")
			}
		case isFieldLine(line):
			flush()
			cur = append([]byte(nil), line...)
		default:
			flush()
			if nextIsField(br) {
				warnings = append(warnings, fmt.Sprintf("header: malformed line skipped: %.60q", line))
				break
			}
			w := "header: no blank line after the header; body starts at a non-field line"
			if len(h) == 0 {
				w = "header: message has no header"
			}
			return h, append(append([]byte(nil), line...), eol...), append(warnings, w), nil
		}
		if rerr != nil {
			flush()
			return h, nil, warnings, nil
		}
		if total >= maxHeaderBytes {
			flush()
			return h, nil, append(warnings, "header: longer than 1 MiB; the rest is treated as body"), nil
		}
	}
}

func isFieldLine(line []byte) bool {
	i := bytes.IndexByte(line, ':')
	if i <= 0 {
		return false
	}
	k := bytes.TrimRight(line[:i], " \t")
	if len(k) == 0 {
		return false
	}
	for _, c := range k {
		if c < 33 || c > 126 {
			return false
		}
	}
	return true
}

// nextIsField reports whether the next line in br is a header field.
func nextIsField(br *bufio.Reader) bool {
	b, _ := br.Peek(1024)
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	}
	return isFieldLine(bytes.TrimRight(b, "\r"))
}

// readLine reads one line of at most max bytes, returning it without the end
// of line, and the end of line ("\n", "\r\n" or "" at EOF or when cut).
func readLine(br *bufio.Reader, max int) (line, eol []byte, err error) {
	for {
		frag, e := br.ReadSlice('\n')
		if len(line)+len(frag) > max && max >= 0 {
			n := max - len(line)
			if n < 0 {
				n = 0
			}
			line = append(line, frag[:n]...)
			// Skip the rest of an overlong line.
			for errors.Is(e, bufio.ErrBufferFull) {
				_, e = br.ReadSlice('\n')
			}
			if e != nil && !errors.Is(e, io.EOF) {
				return line, nil, e
			}
			return line, []byte("\n"), e
		}
		line = append(line, frag...)
		if errors.Is(e, bufio.ErrBufferFull) {
			continue
		}
		if bytes.HasSuffix(line, []byte("\n")) {
			line = line[:len(line)-1]
			eol = []byte("\n")
			if bytes.HasSuffix(line, []byte("\r")) {
				line = line[:len(line)-1]
				eol = []byte("\r\n")
			}
		}
		return line, eol, e
	}
}
