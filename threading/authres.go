package threading

import (
	"fmt"
	"strings"
)

// TraceHeader is one trace field of a message's top-level header
// (Received, Authentication-Results, ...), given top to bottom.
type TraceHeader struct {
	Name  string // field name, any case
	Value string // unfolded value
	// Pos is the field's index among all fields of the header, so that a
	// field of another kind between two trace fields can be seen.
	Pos int
}

// Border describes the receiving mail system whose Authentication-Results
// are believed.
type Border struct {
	// AuthservID is the authserv-id the border writes in its
	// Authentication-Results (RFC 8601 section 2.5).
	AuthservID string
	// Hops is how many Received fields sit above the border's
	// Authentication-Results in mail from outside: those of our internal
	// hops after the border (LMTP delivery, a relay to the mailbox server),
	// plus the border MTA's own when its milters insert their field below
	// it. 0: the field sits above every Received field.
	Hops int
}

// AuthResult says whether a message is authenticated for its From domain,
// and why.
type AuthResult struct {
	Pass   bool
	Reason string
}

// BorderAuthenticated decides whether a message passed our border's sender
// authentication for fromDomain: dkim passed for an aligned domain
// (header.d or header.i), spf passed for an aligned envelope sender
// (smtp.mailfrom), or dmarc passed for the From domain (header.from).
//
// Only the border's own Authentication-Results count (RFC 8601 section 5).
// Anyone can write such a field into a mail before it reaches us, but no
// one outside can put a field above a Received field our servers add. So the
// trusted fields are those above the Hops-th Received field, and the run of
// trace fields directly below it, with no other field between (where Postfix
// puts a field its milters insert at index 1, and Gmail its own); with Hops
// 0, only those above the first Received field. Of the trusted fields
// carrying our authserv-id the topmost alone decides: the border writes its
// verdict on top, and a field further down, even inside the trusted run, may
// be a forgery the border failed to strip. A field with our authserv-id
// anywhere else is ignored, and the reason says so. A message with no
// Received field, or fewer than Hops, never came through our border: nothing
// in it is trusted.
func BorderAuthenticated(trace []TraceHeader, b Border, fromDomain string) AuthResult {
	id := strings.ToLower(strings.TrimSpace(b.AuthservID))
	fromDomain = strings.ToLower(strings.TrimSpace(fromDomain))
	if id == "" {
		return AuthResult{Reason: "no trusted authserv-id configured"}
	}
	hops := max(b.Hops, 0)

	zoneEnd, reached, received := trustedZone(trace, hops)
	top, ignored := -1, 0
	for i, f := range trace {
		if !strings.EqualFold(f.Name, "Authentication-Results") {
			continue
		}
		if fid, _ := splitAuthResults(f.Value); fid != id {
			continue
		}
		switch {
		case i > zoneEnd:
			ignored++
		case top < 0:
			top = i
		}
	}

	var note string
	switch {
	case ignored > 0 && !reached:
		note = fmt.Sprintf("ignored %s from %s under no Received field of our border (forged?)", fieldCount(ignored), id)
	case ignored > 0:
		note = fmt.Sprintf("ignored %s from %s below the border (forged?)", fieldCount(ignored), id)
	}
	if top < 0 {
		reason := "no Authentication-Results from " + id
		switch {
		case received == 0:
			reason = "no Received field: the mail never came through our border, no Authentication-Results is trusted"
		case !reached:
			reason = fmt.Sprintf("%d Received field(s), fewer than the %d of our own: no Authentication-Results is trusted", received, hops)
		case ignored > 0:
			reason += " at the border"
		}
		return AuthResult{Reason: join(reason, note)}
	}
	pass, verdict := borderVerdict(trace[top].Value, fromDomain)
	if !pass {
		verdict = fmt.Sprintf("the border's Authentication-Results (%s) show no dkim, spf or dmarc pass aligned with %s: %s", id, fromDomain, verdict)
	}
	return AuthResult{Pass: pass, Reason: join(verdict, note)}
}

// trustedZone returns the index in trace of the last field that may be the
// border's: everything above the hops-th Received field and the run of other
// trace fields directly below it, or, with hops 0, everything above the first
// Received field. reached is false when the message has no Received field or
// fewer than hops; received counts those seen.
func trustedZone(trace []TraceHeader, hops int) (end int, reached bool, received int) {
	for i, f := range trace {
		if !isReceived(f) {
			continue
		}
		received++
		if hops == 0 {
			return i - 1, true, received
		}
		if received < hops {
			continue
		}
		end = i
		for j := i + 1; j < len(trace) && !isReceived(trace[j]) && trace[j].Pos == trace[j-1].Pos+1; j++ {
			end = j
		}
		return end, true, received
	}
	return -1, false, received
}

// borderVerdict reads one Authentication-Results value: the first aligned
// pass, or a summary of what it says.
func borderVerdict(h, fromDomain string) (bool, string) {
	_, results := splitAuthResults(h)
	var seen []string
	for _, r := range results {
		method, result, props := parseResinfo(r)
		if method == "" {
			continue
		}
		seen = append(seen, method+"="+result)
		if result != "pass" {
			continue
		}
		switch method {
		case "dkim":
			if d := props["header.d"]; aligned(d, fromDomain) {
				return true, "dkim=pass header.d=" + d
			}
			if i := props["header.i"]; i != "" && aligned(i[strings.LastIndexByte(i, '@')+1:], fromDomain) {
				return true, "dkim=pass header.i=" + i
			}
		case "spf":
			if mf := props["smtp.mailfrom"]; mf != "" && aligned(mf[strings.LastIndexByte(mf, '@')+1:], fromDomain) {
				return true, "spf=pass smtp.mailfrom=" + mf
			}
		case "dmarc":
			// DMARC evaluates the From domain itself: a pass is an aligned
			// dkim or spf pass by definition.
			if hf := props["header.from"]; hf != "" && strings.EqualFold(hf, fromDomain) {
				return true, "dmarc=pass header.from=" + hf
			}
		}
	}
	if len(seen) == 0 {
		return false, "no results"
	}
	return false, strings.Join(seen, " ")
}

func isReceived(f TraceHeader) bool { return strings.EqualFold(f.Name, "Received") }

func fieldCount(n int) string {
	if n == 1 {
		return "Authentication-Results"
	}
	return fmt.Sprintf("%d Authentication-Results", n)
}

func join(a, b string) string {
	if b == "" {
		return a
	}
	return a + "; " + b
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
// Comments are removed first: an authserv-id inside a comment is no id.
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
