package poller

import (
	"errors"
	"io"
	"net"
)

// Kinds of failure, as ErrorKind reports them.
const (
	KindAuth    = "auth"    // the server refused the credentials, or the OAuth token could not be had
	KindTLS     = "tls"     // the TLS handshake or STARTTLS failed
	KindNetwork = "network" // dial, timeout, connection lost
	KindServer  = "server"  // the server answered NO or BAD to something other than the login
	KindHandler = "handler" // the Handler (the database side) failed
)

// kindError tags a connection failure with its kind.
type kindError struct {
	kind string
	err  error
}

func (e *kindError) Error() string { return e.err.Error() }
func (e *kindError) Unwrap() error { return e.err }

// withKind tags err with kind, unless the connection itself failed
// meanwhile (a timeout or a closed socket is a network failure, whatever
// the step).
func withKind(kind string, err error) error {
	if isNetwork(err) {
		kind = KindNetwork
	}
	return &kindError{kind: kind, err: err}
}

func isNetwork(err error) bool {
	if errors.Is(err, errTimeout) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, errServerClosed) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	// A TLS alert arrives as a net.OpError "remote error": that is TLS.
	var oe *net.OpError
	return errors.As(err, &oe) && (oe.Op == "read" || oe.Op == "write" || oe.Op == "dial")
}

// ErrorKind says what a failure of the poller was about: KindAuth, KindTLS,
// KindNetwork, KindServer or KindHandler. It is "" for nil.
func ErrorKind(err error) string {
	if err == nil {
		return ""
	}
	var ke *kindError
	if errors.As(err, &ke) {
		return ke.kind
	}
	var he *handlerError
	if errors.As(err, &he) {
		return KindHandler
	}
	if isServerRefusal(err) {
		return KindServer
	}
	return KindNetwork
}
