package config

import (
	"errors"
	"fmt"
	"net"
	"net/mail"
	"os"
	"strconv"
	"strings"
	"time"
)

// set parses v by the setting's kind and stores it in c or m.
func (s Setting) set(c *Config, m *Mailbox, v string) error {
	if s.fileOf != nil {
		return s.setFromFile(c, m, v)
	}
	if s.Check != nil {
		if err := s.Check(v); err != nil {
			return err
		}
	}
	p := s.Field.ptr(c, m)
	switch s.Kind {
	case KindString:
		*p.(*string) = v
	case KindEnum:
		if !contains(s.Allowed, v) {
			return fmt.Errorf("want one of %s, got %q", strings.Join(s.Allowed, ", "), v)
		}
		*p.(*string) = v
	case KindAddress:
		if err := checkAddress(v); err != nil {
			return err
		}
		*p.(*string) = v
	case KindAddressList:
		list, err := addressList(v)
		*p.(*[]string) = list
		return err
	case KindHostPort, KindLoopback:
		if err := checkListener(v, s.Kind == KindLoopback); err != nil {
			return err
		}
		*p.(*string) = v
	case KindInt:
		n, err := strconv.Atoi(v)
		if err != nil || int64(n) < s.Min || int64(n) > s.Max {
			return fmt.Errorf("want a whole number from %d to %d, got %q", s.Min, s.Max, v)
		}
		*p.(*int) = n
	case KindBytes:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < s.Min {
			return fmt.Errorf("want a byte count of at least %d, got %q", s.Min, v)
		}
		*p.(*int64) = n
	case KindBool:
		b, err := onOff(v)
		*p.(*bool) = b
		return err
	case KindDuration:
		d, err := parseDuration(v)
		*p.(*time.Duration) = d
		return err
	case KindDurationOrZero:
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return fmt.Errorf("want a duration such as 2m, or 0 for %s, got %q", s.Zero, v)
		}
		*p.(*time.Duration) = d
	case KindDurationList:
		list, err := durationList(v)
		*p.(*[]time.Duration) = list
		return err
	case KindSecretList:
		list, err := secretList(v)
		*p.(*[]string) = list
		return err
	case KindTime:
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return fmt.Errorf("want an RFC 3339 time such as 2026-12-31T00:00:00Z, got %q", v)
		}
		*p.(*time.Time) = t
	default:
		return fmt.Errorf("unknown kind %d", s.Kind) // a bug in the table
	}
	return nil
}

// setFromFile reads the secret from the named file (one trailing newline
// dropped), then sets it. Errors name the file, never its content.
func (s Setting) setFromFile(c *Config, m *Mailbox, file string) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("cannot read the file: %w", err) // *PathError: names the path
	}
	v := strings.TrimSuffix(string(b), "\n")
	v = strings.TrimSuffix(v, "\r")
	if strings.TrimSpace(v) == "" {
		return fmt.Errorf("file %s is empty", file)
	}
	if err := s.fileOf.set(c, m, v); err != nil {
		return fmt.Errorf("%s in file %s: %w", s.fileOf.Env, file, err)
	}
	*s.Field.ptr(c, m).(*string) = file
	return nil
}

// get formats the setting's value in c or m as it would be written.
func (s Setting) get(c *Config, m *Mailbox) string {
	switch p := s.Field.ptr(c, m).(type) {
	case *string:
		return *p
	case *[]string:
		return strings.Join(*p, ",")
	case *int:
		return strconv.Itoa(*p)
	case *int64:
		return strconv.FormatInt(*p, 10)
	case *bool:
		if *p {
			return "on"
		}
		return "off"
	case *time.Duration:
		return p.String()
	case *[]time.Duration:
		parts := make([]string, len(*p))
		for i, d := range *p {
			parts[i] = d.String()
		}
		return strings.Join(parts, ",")
	case *time.Time:
		if p.IsZero() {
			return ""
		}
		return p.Format(time.RFC3339)
	}
	return fmt.Sprintf("%v", s.Field.ptr(c, m))
}

func durationList(v string) ([]time.Duration, error) {
	var list []time.Duration
	for _, part := range splitList(v, ",") {
		d, err := parseDuration(part)
		if err != nil {
			return nil, err
		}
		list = append(list, d)
	}
	return list, nil
}

func secretList(v string) ([]string, error) {
	list := splitList(v, ",\n") // a _FILE may hold one a line
	for _, secret := range list {
		if len(secret) < 32 {
			return nil, errors.New("each old secret must be at least 32 characters")
		}
	}
	return list, nil
}

// splitList splits v at any of seps, trimming parts and dropping empty ones.
func splitList(v, seps string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(v, func(r rune) bool { return strings.ContainsRune(seps, r) }) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func contains(list []string, v string) bool {
	for _, a := range list {
		if a == v {
			return true
		}
	}
	return false
}

func parseDuration(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("want a positive duration such as 90s, 15m or 720h, got %q", v)
	}
	return d, nil
}

func nonEmpty(v string) error {
	if v == "" {
		return errors.New("must not be empty")
	}
	return nil
}

func onOff(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "on", "true", "yes", "1":
		return true, nil
	case "off", "false", "no", "0":
		return false, nil
	}
	return false, fmt.Errorf("want on or off, got %q", v)
}

func checkAddress(v string) error {
	a, err := mail.ParseAddress(v)
	if err != nil || a.Name != "" || a.Address != v {
		return fmt.Errorf("want a bare email address such as support@example.com, got %q", v)
	}
	return nil
}

func addressList(v string) ([]string, error) {
	var out []string
	for _, p := range splitList(v, ",") {
		if err := checkAddress(p); err != nil {
			return nil, err
		}
		out = append(out, strings.ToLower(p))
	}
	return out, nil
}

func checkHostPort(v string) error {
	_, port, err := net.SplitHostPort(v)
	if err != nil || port == "" {
		return fmt.Errorf("want host:port such as 127.0.0.1:993, got %q", v)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("bad port in %q", v)
	}
	return nil
}

func checkListener(v string, loopback bool) error {
	if err := checkHostPort(v); err != nil {
		return err
	}
	if loopback {
		return checkLoopback(v)
	}
	return nil
}

// checkLoopback refuses a listener reachable from other hosts: an empty
// host listens on every interface, and a name could resolve anywhere.
func checkLoopback(v string) error {
	host, _, _ := net.SplitHostPort(v)
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("want a loopback address such as 127.0.0.1:6060 or [::1]:6060 (profiles expose the process's memory), got %q", v)
}

func checkDays(v string) error {
	_, err := ParseDays(v)
	return err
}

func checkTimeZone(v string) error {
	_, err := time.LoadLocation(v)
	return err
}
