package threading

import (
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// ThreadIndexRoot returns the conversation root of an Outlook Thread-Index
// header: the first 22 bytes of its base64-decoded value, hex-encoded. Replies
// in one Outlook conversation share it even when References were stripped.
func ThreadIndexRoot(v string) (string, bool) {
	v = strings.Join(strings.Fields(v), "")
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		b, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(v, "="))
	}
	if err != nil || len(b) < 22 {
		return "", false
	}
	return hex.EncodeToString(b[:22]), true
}

// AuthResult says whether a message is authenticated for its From domain.
type AuthResult struct {
	Pass   bool
	Reason string
}

// Authenticated checks the Authentication-Results headers added by the
// receiving server named authservID (RFC 8601): the message passes when dkim
// passed for a domain aligned with fromDomain (header.d), or spf passed for an
// aligned envelope sender (smtp.mailfrom). Headers from any other authserv-id
// are ignored: anyone can add one before the mail reaches us.
func Authenticated(headers []string, authservID, fromDomain string) AuthResult {
	authservID = strings.ToLower(strings.TrimSpace(authservID))
	fromDomain = strings.ToLower(strings.TrimSpace(fromDomain))
	if authservID == "" {
		return AuthResult{Reason: "no trusted authserv-id configured"}
	}
	seen := false
	for _, h := range headers {
		id, results := splitAuthResults(h)
		if id != authservID {
			continue
		}
		seen = true
		for _, r := range results {
			method, result, props := parseResinfo(r)
			if result != "pass" {
				continue
			}
			switch method {
			case "dkim":
				if d := props["header.d"]; aligned(d, fromDomain) {
					return AuthResult{Pass: true, Reason: "dkim=pass header.d=" + d}
				}
				if i := props["header.i"]; i != "" && aligned(i[strings.LastIndexByte(i, '@')+1:], fromDomain) {
					return AuthResult{Pass: true, Reason: "dkim=pass header.i=" + i}
				}
			case "spf":
				mf := props["smtp.mailfrom"]
				if mf != "" && aligned(mf[strings.LastIndexByte(mf, '@')+1:], fromDomain) {
					return AuthResult{Pass: true, Reason: "spf=pass smtp.mailfrom=" + mf}
				}
			}
		}
	}
	if !seen {
		return AuthResult{Reason: "no Authentication-Results from " + authservID}
	}
	return AuthResult{Reason: "no dkim or spf pass aligned with " + fromDomain}
}

// aligned is relaxed alignment: the same domain, or one a subdomain of the other.
func aligned(d, from string) bool {
	d = strings.ToLower(strings.Trim(strings.TrimSpace(d), "."))
	if d == "" || from == "" {
		return false
	}
	return d == from || strings.HasSuffix(from, "."+d) || strings.HasSuffix(d, "."+from)
}

// splitAuthResults returns the authserv-id and the ';'-separated results.
func splitAuthResults(h string) (string, []string) {
	h = stripComments(h)
	parts := strings.Split(h, ";")
	id := strings.ToLower(strings.TrimSpace(parts[0]))
	if f := strings.Fields(id); len(f) > 0 {
		id = f[0] // an optional version number may follow
	}
	return id, parts[1:]
}

// parseResinfo reads "dkim=pass (reason) header.d=example.com header.s=sel".
func parseResinfo(r string) (method, result string, props map[string]string) {
	props = map[string]string{}
	for i, f := range strings.Fields(r) {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			continue
		}
		k, v = strings.ToLower(k), strings.Trim(v, `"`)
		if i == 0 {
			method, result = k, strings.ToLower(v)
			continue
		}
		props[k] = v
	}
	return method, result, props
}

// stripComments removes RFC 5322 comments, which may contain anything.
func stripComments(s string) string {
	var b strings.Builder
	depth := 0
	for _, r := range s {
		switch {
		case r == '(':
			depth++
		case r == ')' && depth > 0:
			depth--
		case depth == 0:
			b.WriteRune(r)
		}
	}
	return b.String()
}
