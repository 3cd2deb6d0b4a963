// Package xoauth2 implements the client side of the XOAUTH2 SASL mechanism
// used by Gmail and Microsoft 365 for IMAP and SMTP, which go-sasl lacks.
//
// The initial response is sent in one round trip. When the server rejects the
// token it sends a JSON error as a challenge; the client answers with an empty
// response, as the mechanism requires, so the server finishes the exchange
// with its final error, and the decoded JSON is kept (see Client.ServerError)
// so callers can report why the token was refused.
package xoauth2

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Mechanism is the SASL mechanism name.
const Mechanism = "XOAUTH2"

// TokenSource supplies an OAuth 2.0 access token. It is called once per
// authentication, so an implementation may return a freshly refreshed token.
type TokenSource interface {
	Token() (string, error)
}

// StaticToken is a fixed access token.
type StaticToken string

// Token returns the token, or an error if it is empty.
func (t StaticToken) Token() (string, error) {
	tok := strings.TrimSpace(string(t))
	if tok == "" {
		return "", errors.New("xoauth2: static token is empty")
	}
	return tok, nil
}

// FileToken is the path of a file holding an access token. The file is read
// on every call, so an external refresher can keep it current.
type FileToken string

// Token reads the file and returns its content without surrounding
// whitespace. An empty file is an error.
func (p FileToken) Token() (string, error) {
	b, err := os.ReadFile(string(p))
	if err != nil {
		return "", fmt.Errorf("xoauth2: reading token file: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("xoauth2: token file %s is empty", string(p))
	}
	return tok, nil
}

// ServerError is the JSON error a server sends as a challenge when it
// rejects a token, e.g. {"status":"401","schemes":"bearer","scope":"..."}.
type ServerError struct {
	Status  string `json:"status"`
	Schemes string `json:"schemes"`
	Scope   string `json:"scope"`
	// Raw is the challenge as received, for servers that send something
	// other than JSON.
	Raw string `json:"-"`
}

func (e *ServerError) Error() string {
	if e.Status == "" && e.Schemes == "" && e.Scope == "" {
		return fmt.Sprintf("xoauth2: server rejected the token: %q", e.Raw)
	}
	return fmt.Sprintf("xoauth2: server rejected the token: status %s, schemes %q, scope %q",
		e.Status, e.Schemes, e.Scope)
}

// Client is an XOAUTH2 sasl.Client. Use a new Client for each
// authentication.
type Client struct {
	username string
	token    TokenSource
	srvErr   *ServerError
}

// NewClient returns an XOAUTH2 client authenticating username with the
// tokens from token. It satisfies github.com/emersion/go-sasl.Client.
func NewClient(username string, token TokenSource) *Client {
	return &Client{username: username, token: token}
}

// Start returns the mechanism and the initial response
// "user=<username>\x01auth=Bearer <token>\x01\x01".
func (c *Client) Start() (mech string, ir []byte, err error) {
	if c.username == "" {
		return "", nil, errors.New("xoauth2: username is empty")
	}
	if hasControl(c.username) {
		return "", nil, errors.New("xoauth2: username contains control characters")
	}
	if c.token == nil {
		return "", nil, errors.New("xoauth2: no token source")
	}
	tok, err := c.token.Token()
	if err != nil {
		return "", nil, err
	}
	if hasControl(tok) {
		return "", nil, errors.New("xoauth2: token contains control characters")
	}
	c.srvErr = nil
	ir = []byte("user=" + c.username + "\x01auth=Bearer " + tok + "\x01\x01")
	return Mechanism, ir, nil
}

// Next handles a server challenge. The first challenge is the server's error
// report: it is decoded and kept, and an empty response is returned so the
// server can send its final error. A further challenge aborts with that
// error.
func (c *Client) Next(challenge []byte) ([]byte, error) {
	if c.srvErr != nil {
		return nil, c.srvErr
	}
	se := &ServerError{Raw: string(challenge)}
	// Not JSON: Raw alone describes it.
	_ = json.Unmarshal(challenge, se)
	c.srvErr = se
	return []byte{}, nil
}

// ServerError returns the error the server reported in its challenge during
// the last authentication, or nil if it sent none. Protocol clients return
// only the final status (e.g. SMTP 535), so callers add this for the reason.
func (c *Client) ServerError() *ServerError {
	return c.srvErr
}

// WithServerError adds the server's reported reason, if any, to err, the
// error an IMAP or SMTP client returned from authenticating with c. Both
// errors stay reachable with errors.As.
func (c *Client) WithServerError(err error) error {
	if err == nil || c.srvErr == nil {
		return err
	}
	return fmt.Errorf("%w: %w", err, c.srvErr)
}

func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return true
		}
	}
	return false
}
