package helpdesk

import (
	"github.com/helpdesk/helpdesk/helpdesk/lifecycle"
	"github.com/helpdesk/helpdesk/templates"
)

// Diagnostics (issue 13 section 3; the rules are in lifecycle/diagnostics.go):
// the acknowledgement asks for what the first mail lacks, agents' #diagnostics
// and #consent requests reach the submitter, and the customer's #approve or
// #deny (a consent case event) reaches the agents' notice.

// missingDiagnostics is what the acknowledgement of the new case c asks
// for: what the mail that opened it seems to lack. A case opened by
// following a known issue asks for nothing.
func (d *decider) missingDiagnostics(c *caseView) []templates.DiagnosticItem {
	if d.p == nil || d.p.msg == nil || c.KnownIssueID != nil {
		return nil
	}
	var out []templates.DiagnosticItem
	for _, m := range lifecycle.MissingDiagnostics(d.p.msg.Subject, d.p.replyText, len(d.p.msg.Attachments)) {
		out = append(out, templates.DiagnosticItem(m))
	}
	return out
}

// diagnosticsNoticeData captures the data of an agent's diagnostics or
// consent request to the submitter; ok is false for other notices.
func diagnosticsNoticeData(nt lifecycle.Notice) (func(templates.Base) templates.Data, bool) {
	arg := nt.Reason // what the agent wrote after the command
	switch nt.Kind {
	case lifecycle.NoticeDiagnosticsRequest:
		return func(b templates.Base) templates.Data { return templates.DiagnosticsRequestData{Base: b, What: arg} }, true
	case lifecycle.NoticeConsentRequest:
		return func(b templates.Base) templates.Data { return templates.ConsentRequestData{Base: b, Scope: arg} }, true
	}
	return nil, false
}

// withConsent adds the customer's answer to a consent request, if the mail
// gave one, to the agents' notice.
func withConsent(data func(templates.Base) templates.Data, out *lifecycle.Outcome) func(templates.Base) templates.Data {
	answer := lifecycle.ConsentAnswer(*out)
	if answer == lifecycle.ConsentNone {
		return data
	}
	return func(b templates.Base) templates.Data {
		d, ok := data(b).(templates.AgentCustomerRepliedData)
		if !ok {
			return data(b)
		}
		d.Consent = string(answer)
		return d
	}
}
