// Package redact masks secrets in text that may reach a log line, the output
// of `helpdeskd config` or an HTTP answer: passwords in connection strings of
// every form (URL userinfo, password query parameters, key=value DSNs), and
// secret values the daemon knows it holds.
//
// One function, String, decides what a connection string looks like once
// masked; the configuration printer and the logger both use it.
package redact

import (
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// Mask is what a secret is replaced with.
const Mask = "********"

// minSecret is the shortest known secret that is masked wherever it appears:
// masking every "a" or "pw" would garble the logs without hiding anything.
const minSecret = 4

var (
	// scheme://user:password@host: the password runs to the last @ before a
	// space, quote or angle bracket, so an unencoded @ or / in it is covered.
	urlPassword = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.\-]*://[^:@/\s"'<>]*:)[^\s"'<>]*@`)
	// ?password=... and &password=... in a URL's query.
	queryPassword = regexp.MustCompile(`(?i)([?&](?:ssl)?password=)[^&#\s"'<>]*`)
	// password=... in a key=value DSN (libpq style), PGPASSWORD=... in an
	// environment, "password":"..." in JSON: the value bare, or quoted with
	// backslash escapes.
	kvPassword = regexp.MustCompile(`(?i)(^|[\s(,;:{"])((?:[a-z_]*)password"?\s*[=:]\s*)('(?:[^'\\]|\\.)*'?|"(?:[^"\\]|\\.)*"?|[^\s",}]+)`)
)

// String masks every password of a connection string in s, whether s is one
// connection string or text (an error message, a log line) that contains some.
func String(s string) string {
	if !mayHold(s) {
		return s
	}
	s = urlPassword.ReplaceAllString(s, "${1}"+Mask+"@")
	s = queryPassword.ReplaceAllString(s, "${1}"+Mask)
	s = kvPassword.ReplaceAllStringFunc(s, func(m string) string {
		sub := kvPassword.FindStringSubmatch(m)
		if sub[3] == Mask {
			return m
		}
		return sub[1] + sub[2] + Mask
	})
	return s
}

// Passwords returns the passwords written in connection string dsn, decoded,
// so that they can be masked where they appear without their connection
// string (Redactor).
func Passwords(dsn string) []string {
	var out []string
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" {
		if p, ok := u.User.Password(); ok && p != "" {
			out = append(out, p)
		}
		for k, vs := range u.Query() {
			if strings.EqualFold(k, "password") || strings.EqualFold(k, "sslpassword") {
				out = append(out, vs...)
			}
		}
	}
	for _, m := range urlPassword.FindAllString(dsn, -1) { // URLs url.Parse refused
		userinfo := m[strings.Index(m, "://")+3 : len(m)-1]
		if _, p, ok := strings.Cut(userinfo, ":"); ok && p != "" {
			out = append(out, p)
		}
	}
	for _, sub := range kvPassword.FindAllStringSubmatch(dsn, -1) {
		v := sub[3]
		if strings.HasPrefix(v, "'") {
			v = strings.TrimSuffix(strings.TrimPrefix(v, "'"), "'")
			v = strings.NewReplacer(`\'`, `'`, `\\`, `\`).Replace(v)
		}
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

func mayHold(s string) bool {
	if strings.Contains(s, "://") {
		return true
	}
	l := strings.ToLower(s)
	return strings.Contains(l, "password")
}

// Redactor masks connection-string passwords (String) and, wherever they
// appear, the secret values it was given. The zero value and nil mask
// connection strings only.
type Redactor struct {
	secrets []string // longest first, with their URL-encoded forms
}

// New returns a Redactor for the given secrets; empty ones and those shorter
// than four characters are ignored.
func New(secrets ...string) *Redactor {
	r := &Redactor{}
	seen := map[string]bool{}
	add := func(s string) {
		if len(s) >= minSecret && !seen[s] {
			seen[s] = true
			r.secrets = append(r.secrets, s)
		}
	}
	for _, s := range secrets {
		add(s)
		add(url.QueryEscape(s))
		add(url.PathEscape(s))
	}
	slices.SortFunc(r.secrets, func(a, b string) int { return len(b) - len(a) })
	return r
}

// String masks s.
func (r *Redactor) String(s string) string {
	if r != nil {
		for _, secret := range r.secrets {
			s = strings.ReplaceAll(s, secret, Mask)
		}
	}
	return String(s)
}

// ReplaceAttr is a slog.HandlerOptions.ReplaceAttr that masks every string,
// error and formatted value of a log record, its message included.
func (r *Redactor) ReplaceAttr(_ []string, a slog.Attr) slog.Attr {
	switch a.Value.Kind() {
	case slog.KindString:
		a.Value = slog.StringValue(r.String(a.Value.String()))
	case slog.KindAny:
		switch v := a.Value.Any().(type) {
		case nil:
		case error:
			a.Value = slog.StringValue(r.String(v.Error()))
		default:
			s := fmt.Sprint(v)
			if m := r.String(s); m != s {
				a.Value = slog.StringValue(m)
			}
		}
	}
	return a
}
