package sender

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/emersion/go-smtp"
)

// Error is a failed Send.
//
// Temporary says whether sending the same message later can succeed: 4xx
// replies, network errors, timeouts and TLS failures are temporary; 5xx
// replies to MAIL, RCPT and DATA are permanent, except 530 and 538
// (authentication or encryption required) and 552 to RCPT (too many
// recipients, RFC 5321 section 4.5.3.1.10). Failures while setting up
// the connection (Op "dial", "tls", "starttls", "hello", "auth") are
// temporary whatever the reply code: they concern the relay or our
// credentials, not the message, and must not fail every queued message.
type Error struct {
	// Op is the step that failed: "send" (before any I/O), "dial", "tls",
	// "starttls", "hello", "auth", "mail", "rcpt" or "data".
	Op        string
	Code      int    // SMTP reply code, 0 if there was no reply
	Enhanced  string // RFC 3463 status such as "5.1.1", if given
	Msg       string
	Temporary bool
	Err       error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("smtp " + e.Op + ": ")
	if e.Code != 0 {
		fmt.Fprintf(&b, "%d ", e.Code)
		if e.Enhanced != "" {
			b.WriteString(e.Enhanced + " ")
		}
	}
	b.WriteString(e.Msg)
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Rejection is a recipient the server refused.
type Rejection struct {
	Recipient string
	Err       *Error
}

// RecipientError reports refused recipients. The message was delivered to
// Accepted, if any.
type RecipientError struct {
	Rejected []Rejection
	Accepted []string
}

func (e *RecipientError) Error() string {
	parts := make([]string, len(e.Rejected))
	for i, r := range e.Rejected {
		parts[i] = fmt.Sprintf("<%s>: %v", r.Recipient, r.Err)
	}
	return fmt.Sprintf("smtp: %d of %d recipients rejected: %s",
		len(e.Rejected), len(e.Rejected)+len(e.Accepted), strings.Join(parts, "; "))
}

// Unwrap returns the per-recipient errors.
func (e *RecipientError) Unwrap() []error {
	errs := make([]error, len(e.Rejected))
	for i, r := range e.Rejected {
		errs[i] = r.Err
	}
	return errs
}

// IsPermanent reports whether err means the message cannot be delivered by
// retrying. A *RecipientError is permanent when every rejection is. Errors
// not from this package count as temporary unless they are 5xx SMTP replies.
func IsPermanent(err error) bool {
	if err == nil {
		return false
	}
	var re *RecipientError
	if errors.As(err, &re) {
		for _, r := range re.Rejected {
			if r.Err == nil || r.Err.Temporary {
				return false
			}
		}
		return len(re.Rejected) > 0
	}
	var e *Error
	if errors.As(err, &e) {
		return !e.Temporary
	}
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return se.Code/100 == 5
	}
	return false
}

// classify turns an error from step op into an *Error.
func classify(ctx context.Context, op string, err error) *Error {
	e := &Error{Op: op, Msg: err.Error(), Temporary: true, Err: err}
	var se *smtp.SMTPError
	switch {
	case ctx.Err() != nil:
		e.Msg = fmt.Sprintf("%v (%v)", ctx.Err(), err)
		e.Err = fmt.Errorf("%w: %w", ctx.Err(), err)
	case errors.Is(err, os.ErrDeadlineExceeded):
		e.Msg = fmt.Sprintf("timed out (%v)", err)
		e.Err = fmt.Errorf("%w: %w", context.DeadlineExceeded, err)
	case errors.As(err, &se):
		e.Code = se.Code
		e.Msg = se.Message
		if se.EnhancedCode != smtp.NoEnhancedCode && se.EnhancedCode != (smtp.EnhancedCode{}) {
			e.Enhanced = fmt.Sprintf("%d.%d.%d", se.EnhancedCode[0], se.EnhancedCode[1], se.EnhancedCode[2])
		}
		switch {
		case se.Code == 530 || se.Code == 538:
			// RFC 4954: authentication or encryption required, a
			// configuration problem rather than the message's.
		case op == "mail" || op == "data":
			e.Temporary = se.Code/100 != 5
		case op == "rcpt":
			// RFC 5321 4.5.3.1.10: 552 to RCPT means too many recipients,
			// to be treated as 452.
			e.Temporary = se.Code/100 != 5 || se.Code == 552
		}
	}
	return e
}

// isReply reports whether err is a reply from the server, after which the
// connection is in a known state.
func isReply(err error) bool {
	var se *smtp.SMTPError
	return errors.As(err, &se)
}

// isClosing reports a 421 reply: the server is closing the connection.
func isClosing(err error) bool {
	var se *smtp.SMTPError
	return errors.As(err, &se) && se.Code == 421
}
