package templates

import "time"

// IntakeAlarmData tells the operator that intake is broken — a mailbox has
// not been polled (wrong password, expired OAuth token, server down) or the
// outbox's oldest due mail has waited — for longer than the alarm threshold;
// or, with Recovered set, that it works again. One mail per incident and one
// at its recovery. CaseID is 0.
type IntakeAlarmData struct {
	Base
	Mailbox     string    // the mailbox that cannot be polled, e.g. "support/INBOX"; "" for the outbox
	Problem     string    // the latest error, or what waits
	Since       time.Time // when the failure began
	Recovered   bool      // this mail announces the recovery
	RecoveredAt time.Time // when it recovered (Recovered only)
	Host        string    // optional: the daemon that noticed
}

func (IntakeAlarmData) Kind() Kind { return IntakeAlarm }

func intakeAlarmSamples() []variant {
	b := agentBase()
	b.CaseID = 0
	b.CaseSubject = ""
	b.RecipientName = ""
	alarm := IntakeAlarmData{Base: b, Mailbox: "support/INBOX",
		Problem: "authenticating as support@example.com: NO [AUTHENTICATIONFAILED] Authentication failed.",
		Since:   sampleTime.Add(-12 * time.Minute), Host: "helpdesk-1"}
	recovered := alarm
	recovered.Recovered, recovered.RecoveredAt = true, sampleTime.Add(25*time.Minute)
	return []variant{{"", alarm}, {"recovered", recovered}}
}
