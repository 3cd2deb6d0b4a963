package mail

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// multipartReader splits a multipart body into its parts while streaming.
// It is lenient: trailing garbage after a delimiter is tolerated only when it
// is white space, a missing close delimiter ends the last part at EOF, and the
// preamble is kept (capped) so that a body without any delimiter line can
// still be shown.
type multipartReader struct {
	br        *bufio.Reader
	dash      []byte // "--" + boundary
	cur       *partReader
	started   bool
	done      bool
	closed    bool // saw the close delimiter
	preamble  []byte
	truncated bool
	err       error // I/O error of the underlying reader
}

const maxPreamble = 4 << 20

func newMultipartReader(r io.Reader, boundary string) *multipartReader {
	return &multipartReader{
		br:   bufio.NewReaderSize(r, 8192),
		dash: []byte("--" + boundary),
	}
}

// isDelimiter reports whether line (without end of line) is a delimiter, and
// whether it is the close delimiter.
func (m *multipartReader) isDelimiter(line []byte) (bool, bool) {
	if !bytes.HasPrefix(line, m.dash) {
		return false, false
	}
	rest := line[len(m.dash):]
	closing := bytes.HasPrefix(rest, []byte("--"))
	if closing {
		rest = rest[2:]
	}
	if len(bytes.Trim(rest, " \t\r")) != 0 {
		return false, false
	}
	return true, closing
}

// next returns the reader of the next part, or io.EOF after the last one.
func (m *multipartReader) next() (io.Reader, error) {
	if m.cur != nil {
		if _, err := io.Copy(io.Discard, m.cur); err != nil {
			return nil, err
		}
		m.cur = nil
	}
	if m.done {
		return nil, io.EOF
	}
	if !m.started {
		m.started = true
		for {
			line, err := m.br.ReadSlice('\n')
			full := errors.Is(err, bufio.ErrBufferFull)
			if !full {
				if d, closing := m.isDelimiter(bytes.TrimRight(line, "\r\n")); d {
					if closing {
						m.done, m.closed = true, true
						return nil, io.EOF
					}
					break
				}
			}
			if len(m.preamble)+len(line) <= maxPreamble {
				m.preamble = append(m.preamble, line...)
			} else {
				m.truncated = true
			}
			if err != nil && !full {
				m.done = true
				if !errors.Is(err, io.EOF) {
					m.err = err
					return nil, err
				}
				return nil, io.EOF
			}
		}
	}
	m.cur = &partReader{m: m, atLineStart: true}
	return m.cur, nil
}

// partReader yields one part's bytes (header and body). The line break
// before a delimiter belongs to the delimiter and is not returned.
type partReader struct {
	m           *multipartReader
	pendingEOL  []byte
	buf         []byte
	out         []byte
	atLineStart bool
	eof         bool
}

func (p *partReader) Read(b []byte) (int, error) {
	for len(p.out) == 0 {
		if p.eof {
			return 0, io.EOF
		}
		if err := p.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(b, p.out)
	p.out = p.out[n:]
	return n, nil
}

func (p *partReader) fill() error {
	m := p.m
	line, err := m.br.ReadSlice('\n')
	full := errors.Is(err, bufio.ErrBufferFull)
	if err != nil && !full && !errors.Is(err, io.EOF) {
		m.err = err
		return err
	}
	if p.atLineStart && !full {
		if d, closing := m.isDelimiter(bytes.TrimRight(line, "\r\n")); d {
			p.eof = true
			if closing {
				m.done, m.closed = true, true
			}
			return nil
		}
	}
	p.buf = append(p.buf[:0], p.pendingEOL...)
	p.pendingEOL = p.pendingEOL[:0]
	content := line
	if !full && bytes.HasSuffix(content, []byte("\n")) {
		eol := 1
		if bytes.HasSuffix(content, []byte("\r\n")) {
			eol = 2
		}
		p.pendingEOL = append(p.pendingEOL, content[len(content)-eol:]...)
		content = content[:len(content)-eol]
		p.atLineStart = true
	} else {
		p.atLineStart = !full && len(content) == 0
	}
	p.buf = append(p.buf, content...)
	p.out = p.buf
	if errors.Is(err, io.EOF) {
		// No close delimiter: the part ends with the data.
		p.out = append(p.out, p.pendingEOL...)
		p.eof = true
		m.done = true
	}
	return nil
}
