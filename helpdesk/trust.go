package helpdesk

import (
	"github.com/helpdesk/helpdesk/mail"
	"github.com/helpdesk/helpdesk/threading"
)

// borderAuth checks the sender authentication our border recorded in msg's
// Authentication-Results (threading.BorderAuthenticated).
func borderAuth(msg *mail.Message, cfg IngestConfig) threading.AuthResult {
	if msg.Local {
		return threading.AuthResult{Pass: true, Reason: "written with the helpdeskd CLI on this machine"}
	}
	trace := make([]threading.TraceHeader, len(msg.Trace))
	for i, f := range msg.Trace {
		trace[i] = threading.TraceHeader{Name: f.Name, Value: f.Value, Pos: f.Pos}
	}
	return threading.BorderAuthenticated(trace, threading.Border{AuthservID: cfg.AuthServID, Hops: cfg.TrustedHops},
		domainOf(msg.From.Canonical()))
}
