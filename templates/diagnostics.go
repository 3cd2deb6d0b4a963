package templates

// Diagnostics (issue 13 section 3): what support needs to start work on a
// case, an agent's request for logs and reproduction details, and a request
// for consent to access logs and diagnostic data.

// DiagnosticItem is one thing support needs to start work; an
// acknowledgement lists those the first mail seems to lack
// (CaseReceivedData.Missing).
type DiagnosticItem string

const (
	DiagnosticTimeWindow DiagnosticItem = "time_window" // when it started (and ended), with the time zone
	DiagnosticVersion    DiagnosticItem = "version"     // the product version
	DiagnosticError      DiagnosticItem = "error"       // the error text or stack trace
	DiagnosticSteps      DiagnosticItem = "steps"       // steps to reproduce
	DiagnosticImpact     DiagnosticItem = "impact"      // users affected and business impact
	DiagnosticFiles      DiagnosticItem = "files"       // logs or screenshots
)

// Notifications to the submitter about diagnostics.
const (
	// DiagnosticsRequest asks for logs, reproduction details, versions and
	// the time window (an agent's #diagnostics); the case waits on the reply.
	DiagnosticsRequest Kind = "diagnostics_request"
	// ConsentRequest asks to approve access to logs and diagnostic data by
	// replying #approve or #deny (an agent's #consent).
	ConsentRequest Kind = "consent_request"
)

// CustomerNoConsentRequest: #approve or #deny without a pending consent request.
const CustomerNoConsentRequest CustomerCommandCode = "no_consent_request"

// DiagnosticsRequestData asks the submitter for diagnostic information.
type DiagnosticsRequestData struct {
	Base
	What string // optional: what the agent asked for in particular
}

// ConsentRequestData asks the submitter to approve access to logs and
// diagnostic data.
type ConsentRequestData struct {
	Base
	Scope string // optional: what the agent wants to access
}

func (DiagnosticsRequestData) Kind() Kind { return DiagnosticsRequest }
func (ConsentRequestData) Kind() Kind     { return ConsentRequest }

func diagnosticsRequestSamples() []variant {
	return []variant{
		{"", DiagnosticsRequestData{Base: customerBase(), What: "a HAR file of the login page"}},
		{"plain", DiagnosticsRequestData{Base: customerBase()}},
	}
}

func consentRequestSamples() []variant {
	return []variant{
		{"", ConsentRequestData{Base: customerBase(), Scope: "read-only access to the authentication logs of 4 March"}},
		{"plain", ConsentRequestData{Base: customerBase()}},
	}
}
