package e2e_test

import (
	"os"

	"github.com/helpdesk/helpdesk/cmd/helpdeskd/internal/mailstack"
)

// mailSystem is the private Postfix and Dovecot of package mailstack, with
// the IMAP and SMTP clients of mailclient_test.go on top.
type mailSystem struct {
	*mailstack.System
	smtpAddr string
	imapAddr string
}

type mailOptions = mailstack.Options

// errMissing says the machine cannot run the mail system at all (packages
// not installed, not root); the tests skip on it, except under CI=true.
type errMissing = mailstack.ErrMissing

func mailBinaries() (dovecot, postfix, postconf string, err error) { return mailstack.Binaries() }

func isExecutable(p string) bool { return mailstack.IsExecutable(p) }

// startMailSystem starts Postfix and Dovecot under a fresh directory in
// base; HELPDESK_E2E_KEEP keeps that directory after Close.
func startMailSystem(base string, opts mailOptions) (*mailSystem, error) {
	opts.Keep = os.Getenv("HELPDESK_E2E_KEEP") != ""
	s, err := mailstack.Start(base, opts)
	if err != nil {
		return nil, err
	}
	return &mailSystem{System: s, smtpAddr: s.SMTPAddr, imapAddr: s.IMAPAddr}, nil
}

func (ms *mailSystem) path(rel string) string { return ms.Path(rel) }

func (ms *mailSystem) tail(rel string, n int) string { return ms.Tail(rel, n) }

func (ms *mailSystem) password(addr string) (string, bool) { return ms.Password(addr) }
