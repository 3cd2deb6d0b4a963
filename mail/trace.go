package mail

// TraceField is a trace header field of the top-level header: the fields
// mail servers prepend on the way (RFC 5322 section 3.6.7, RFC 8601). Their
// order and place matter: a field is only as trustworthy as the server that
// added it, and only fields above our own servers' Received fields can be
// theirs.
type TraceField struct {
	Name  string `json:"name"`  // canonical key, e.g. "Received", "Authentication-Results"
	Value string `json:"value"` // unfolded, valid UTF-8 without NUL
	// Pos is the field's index in the top-level header (0 is the topmost
	// field), so a reader can tell whether other fields sit between two
	// trace fields.
	Pos int `json:"pos"`
}

// traceNames are the trace fields kept in Message.Trace, canonical keys.
var traceNames = map[string]bool{
	"Received":                   true,
	"Received-Spf":               true,
	"Authentication-Results":     true,
	"Arc-Authentication-Results": true,
}

// traceFields returns the trace fields of h, top to bottom.
func traceFields(h header) []TraceField {
	var out []TraceField
	for i, f := range h {
		if traceNames[f.Key] {
			out = append(out, TraceField{Name: f.Key, Value: SafeString([]byte(f.Value)), Pos: i})
		}
	}
	return out
}
