package devmail

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// maxLineLength is far above RFC 5322's 998: real mail with longer lines
// (unwrapped HTML, say) must reach the helpdesk, as Postfix lets it.
const maxLineLength = 1 << 20

func (s *Server) newSMTPServer() *smtp.Server {
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &smtpSession{srv: s, conn: c}, nil
	}))
	srv.Domain = s.domain
	srv.MaxMessageBytes = MaxMessageBytes
	srv.MaxLineLength = maxLineLength
	srv.AllowInsecureAuth = true // loopback only
	srv.ReadTimeout = 10 * time.Minute
	srv.WriteTimeout = time.Minute
	srv.ErrorLog = slogPrinter{log: s.log, server: "smtp"}
	return srv
}

// smtpSession accepts mail for the server's users, authenticated or not.
type smtpSession struct {
	srv      *Server
	conn     *smtp.Conn
	authUser string
	from     string
	rcpts    []string
}

var _ smtp.AuthSession = (*smtpSession)(nil)

func (s *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *smtpSession) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		u := s.srv.lookup(username)
		if u == nil || !u.checkPassword(password) || (identity != "" && !strings.EqualFold(identity, username)) {
			s.srv.log.Info("devmail: SMTP authentication failed", "username", username)
			return smtp.ErrAuthFailed
		}
		s.authUser = u.address
		return nil
	}), nil
}

// Mail accepts any sender, the null sender included.
func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	s.rcpts = nil
	return nil
}

func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.srv.resolve(to) == nil {
		s.srv.log.Info("devmail: unknown recipient", "rcpt", to)
		return &smtp.SMTPError{
			Code:         550,
			EnhancedCode: smtp.EnhancedCode{5, 1, 1},
			Message:      fmt.Sprintf("<%s>: Recipient address rejected: User unknown", to),
		}
	}
	for _, r := range s.rcpts {
		if strings.EqualFold(r, to) {
			return nil // the same recipient twice gets one copy
		}
	}
	s.rcpts = append(s.rcpts, to)
	return nil
}

func (s *smtpSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	helo := s.conn.Hostname()
	ip := "unknown"
	if nc := s.conn.Conn(); nc != nil {
		if host, _, err := net.SplitHostPort(nc.RemoteAddr().String()); err == nil {
			ip = host
		}
	}
	with := "ESMTP"
	if s.authUser != "" {
		with = "ESMTPA"
	}
	now := time.Now().Format(time.RFC1123Z)
	for _, rcpt := range s.rcpts {
		env := &envelope{
			from:     s.from,
			received: fmt.Sprintf("from %s ([%s])\n\tby %s (devmail) with %s\n\tfor <%s>; %s", helo, ip, s.srv.domain, with, rcpt, now),
		}
		if err := s.srv.deliver(rcpt, env, raw); err != nil {
			s.srv.log.Error("devmail: delivery failed", "rcpt", rcpt, "err", err)
			if errors.Is(err, ErrMalformedMessage) {
				return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "Message refused: malformed header (devmail stores only what IMAP serves back unchanged)"}
			}
			if errors.Is(err, ErrClosed) {
				return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 2}, Message: "Server shutting down"}
			}
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Delivery failed, try again later"}
		}
	}
	return nil
}

func (s *smtpSession) Reset() {
	s.from = ""
	s.rcpts = nil
}

func (s *smtpSession) Logout() error { return nil }
