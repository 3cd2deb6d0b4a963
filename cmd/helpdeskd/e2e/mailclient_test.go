package e2e_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	netmail "net/mail"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	_ "github.com/emersion/go-message/charset" // EUC-KR, ISO-2022-JP, ... in bodies we read back
	gomail "github.com/emersion/go-message/mail"
	"github.com/emersion/go-smtp"
)

// message is one mail read back from a Dovecot mailbox.
type message struct {
	UID    imap.UID
	Raw    []byte
	Header netmail.Header
}

// get returns a header field, RFC 2047 words decoded.
func (m *message) get(name string) string {
	v := m.Header.Get(name)
	if d, err := new(mime.WordDecoder).DecodeHeader(v); err == nil {
		return d
	}
	return v
}

// id is the Message-ID without angle brackets.
func (m *message) id() string { return strings.Trim(m.Header.Get("Message-Id"), "<> ") }

// text is the decoded text/plain content (the first text/plain part of a
// multipart mail).
func (m *message) text() string {
	r, err := gomail.CreateReader(bytes.NewReader(m.Raw))
	if err != nil && r == nil {
		return ""
	}
	for {
		p, err := r.NextPart()
		if err != nil {
			return ""
		}
		if h, ok := p.Header.(*gomail.InlineHeader); ok {
			if ct, _, _ := h.ContentType(); ct == "text/plain" {
				b, _ := io.ReadAll(p.Body)
				return string(b)
			}
		}
	}
}

// ids returns the Message-IDs in a References or In-Reply-To field.
func ids(field string) []string {
	var out []string
	for _, f := range strings.Fields(field) {
		out = append(out, strings.Trim(f, "<>"))
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// byReason keeps the mails whose X-Helpdesk-Reason is reason.
func byReason(ms []*message, reason string) []*message {
	var out []*message
	for _, m := range ms {
		if m.Header.Get("X-Helpdesk-Reason") == reason {
			out = append(out, m)
		}
	}
	return out
}

// imapConn is an IMAP session with a deadline on every byte: imapclient has
// no timeouts of its own.
type imapConn struct {
	*imapclient.Client
	conn net.Conn
}

// extend moves the connection's deadline d into the future.
func (c *imapConn) extend(d time.Duration) error { return c.conn.SetDeadline(time.Now().Add(d)) }

// imapSession logs in as addr; the session must be done within a minute.
func (ms *mailSystem) imapSession(addr string) (*imapConn, error) {
	pw, ok := ms.password(addr)
	if !ok {
		return nil, fmt.Errorf("e2e: %s has no mailbox (AddUsers first)", addr)
	}
	conn, err := net.DialTimeout("tcp", ms.imapAddr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	c := &imapConn{Client: imapclient.New(conn, nil), conn: conn}
	if err := c.extend(time.Minute); err != nil {
		c.Close()
		return nil, err
	}
	if err := c.Login(addr, pw).Wait(); err != nil {
		c.Close()
		return nil, fmt.Errorf("IMAP login %s: %w", addr, err)
	}
	return c, nil
}

// fetch reads every message of a folder (none when it does not exist),
// without setting \Seen.
func (ms *mailSystem) fetch(addr, folder string) ([]*message, error) {
	return ms.fetchSection(addr, folder, &imap.FetchItemBodySection{Peek: true})
}

// fetchHeaders is fetch with only the named header fields: cheap for counting.
func (ms *mailSystem) fetchHeaders(addr, folder string, fields ...string) ([]*message, error) {
	return ms.fetchSection(addr, folder, &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, HeaderFields: fields, Peek: true})
}

func (ms *mailSystem) fetchSection(addr, folder string, section *imap.FetchItemBodySection) ([]*message, error) {
	c, err := ms.imapSession(addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	sel, err := c.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait()
	var ierr *imap.Error
	if errors.As(err, &ierr) && ierr.Type == imap.StatusResponseTypeNo {
		return nil, nil // no such folder (yet)
	}
	if err != nil {
		return nil, fmt.Errorf("select %s of %s: %w", folder, addr, err)
	}
	var out []*message
	if sel.NumMessages > 0 {
		bufs, err := c.Fetch(imap.SeqSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{
			UID: true, BodySection: []*imap.FetchItemBodySection{section},
		}).Collect()
		if err != nil {
			return nil, fmt.Errorf("fetch %s of %s: %w", folder, addr, err)
		}
		for _, b := range bufs {
			raw := b.FindBodySection(section)
			m, err := netmail.ReadMessage(bytes.NewReader(raw))
			if err != nil {
				return nil, fmt.Errorf("message %d in %s of %s: %w", b.UID, folder, addr, err)
			}
			out = append(out, &message{UID: b.UID, Raw: raw, Header: m.Header})
		}
	}
	_ = c.Logout().Wait()
	return out, nil
}

// count is the number of messages in a folder (0 when it does not exist).
func (ms *mailSystem) count(addr, folder string) (int, error) {
	c, err := ms.imapSession(addr)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	st, err := c.Status(folder, &imap.StatusOptions{NumMessages: true}).Wait()
	var ierr *imap.Error
	if errors.As(err, &ierr) && ierr.Type == imap.StatusResponseTypeNo {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("status %s of %s: %w", folder, addr, err)
	}
	_ = c.Logout().Wait()
	return int(*st.NumMessages), nil
}

// smtpSession is one SMTP connection to Postfix, for many transactions.
type smtpSession struct {
	c *smtp.Client
}

func (ms *mailSystem) dialSMTP(helo string) (*smtpSession, error) {
	conn, err := net.DialTimeout("tcp", ms.smtpAddr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	c := smtp.NewClient(conn)
	c.CommandTimeout = 30 * time.Second
	c.SubmissionTimeout = 60 * time.Second
	if err := c.Hello(helo); err != nil {
		c.Close()
		return nil, err
	}
	return &smtpSession{c: c}, nil
}

// send hands one mail to Postfix and returns when it accepted it (the 250
// after DATA), with Postfix's reply text (which names the queue ID).
func (s *smtpSession) send(from string, to []string, raw []byte) (string, error) {
	if err := s.c.Mail(from, nil); err != nil {
		return "", fmt.Errorf("MAIL FROM:<%s>: %w", from, err)
	}
	for _, r := range to {
		if err := s.c.Rcpt(r, nil); err != nil {
			_ = s.c.Reset()
			return "", fmt.Errorf("RCPT TO:<%s>: %w", r, err)
		}
	}
	w, err := s.c.Data()
	if err != nil {
		return "", fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write(raw); err != nil {
		return "", fmt.Errorf("DATA: %w", err)
	}
	resp, err := w.CloseWithResponse()
	if err != nil {
		return "", fmt.Errorf("end of DATA: %w", err)
	}
	return resp.StatusText, nil
}

func (s *smtpSession) close() { _ = s.c.Quit() }

// send delivers one mail through Postfix on a connection of its own.
func (ms *mailSystem) send(from string, to []string, raw []byte) error {
	s, err := ms.dialSMTP("client.e2e.localhost")
	if err != nil {
		return err
	}
	defer s.close()
	_, err = s.send(from, to, raw)
	return err
}
