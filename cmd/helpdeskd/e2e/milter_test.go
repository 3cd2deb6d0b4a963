package e2e_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
)

// authMilter stands in for the border's OpenDKIM or rspamd: a milter
// (the Sendmail/Postfix filter protocol, version 6) that adds an
// Authentication-Results field to every mail Postfix takes over SMTP, at
// the header index a real one uses: 0 (above Postfix's own Received field,
// as rspamd and OpenDKIM ≥ 2.11.0-Beta3 do) or 1 (just below it, as
// OpenDKIM 2.11.0-Beta2 — Debian 12's — and OpenDMARC do). It verifies
// nothing: the verdict for an envelope sender is what the test set with
// verdict, "none" otherwise. Like a border that was not told to, it does not
// strip Authentication-Results fields the sender wrote.
type authMilter struct {
	ln         net.Listener
	authservID string
	index      uint32

	mu       sync.Mutex
	verdicts map[string]string // envelope sender → results
}

func startAuthMilter(authservID string, index uint32) (*authMilter, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	m := &authMilter{ln: ln, authservID: authservID, index: index, verdicts: map[string]string{}}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go m.serve(c)
		}
	}()
	return m, nil
}

// addr is the milter's address in Postfix's notation.
func (m *authMilter) addr() string { return "inet:" + m.ln.Addr().String() }

func (m *authMilter) Close() error { return m.ln.Close() }

// verdict sets the results written for mail from this envelope sender, e.g.
// "dkim=pass header.d=example.test".
func (m *authMilter) verdict(envFrom, results string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.verdicts[strings.ToLower(envFrom)] = results
}

// Milter commands and replies used here.
const (
	smfiOptneg   = 'O'
	smfiMacro    = 'D'
	smfiMail     = 'M'
	smfiEOM      = 'E'
	smfiAbort    = 'A'
	smfiQuit     = 'Q'
	smfiQuitNC   = 'K'
	smfirCont    = 'c'
	smfirInsHdr  = 'i'
	smfifAddHdrs = 0x01
)

func (m *authMilter) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	var envFrom string
	for {
		cmd, data, err := readPacket(r)
		if err != nil {
			return
		}
		switch cmd {
		case smfiOptneg:
			// Version 6, may add header fields, wants every step and
			// answers each (protocol mask 0).
			var b [12]byte
			binary.BigEndian.PutUint32(b[0:], 6)
			binary.BigEndian.PutUint32(b[4:], smfifAddHdrs)
			err = writePacket(c, smfiOptneg, b[:])
		case smfiMacro, smfiAbort, smfiQuitNC:
			// no reply
		case smfiQuit:
			return
		case smfiMail:
			envFrom = strings.ToLower(strings.Trim(string(bytes.SplitN(data, []byte{0}, 2)[0]), "<>"))
			err = writePacket(c, smfirCont, nil)
		case smfiEOM:
			m.mu.Lock()
			results, ok := m.verdicts[envFrom]
			m.mu.Unlock()
			if !ok {
				results = "none"
			}
			var b bytes.Buffer
			_ = binary.Write(&b, binary.BigEndian, m.index)
			fmt.Fprintf(&b, "Authentication-Results\x00%s; %s\x00", m.authservID, results)
			if err = writePacket(c, smfirInsHdr, b.Bytes()); err == nil {
				err = writePacket(c, smfirCont, nil)
			}
		default:
			err = writePacket(c, smfirCont, nil)
		}
		if err != nil {
			return
		}
	}
}

func readPacket(r io.Reader) (byte, []byte, error) {
	var n uint32
	if err := binary.Read(r, binary.BigEndian, &n); err != nil {
		return 0, nil, err
	}
	if n == 0 || n > 1<<20 {
		return 0, nil, fmt.Errorf("milter: packet of %d bytes", n)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return 0, nil, err
	}
	return b[0], b[1:], nil
}

func writePacket(w io.Writer, cmd byte, data []byte) error {
	b := make([]byte, 5+len(data))
	binary.BigEndian.PutUint32(b, uint32(1+len(data)))
	b[4] = cmd
	copy(b[5:], data)
	_, err := w.Write(b)
	return err
}
