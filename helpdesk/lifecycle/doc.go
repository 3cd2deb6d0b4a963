// Package lifecycle holds the pure rules of a support case's life (DESIGN.md
// section 5): what an inbound mail or an agent's #command does to a case's
// status, which timers are due (pending reminders, auto-solve, closing after
// the reopen window, first-response SLA warnings and breaches), the severity of
// a new case and its first-response due time in business hours, the parsing of
// #commands, the recognition of thank-you replies, and escalation eligibility.
//
// Guarantees:
//   - Every function is pure: no I/O, no SQL, no clock reads (the time is an
//     argument), no shared mutable state. Same inputs, same result.
//   - Apply and Timers return the whole next state of the case (Outcome.Case)
//     together with the audit entries (Outcome.Audit, whose kinds are
//     case_events kinds) and the notifications (Outcome.Notices, whose kinds
//     are templates.Kind values) that the caller persists in one transaction.
//   - Every Case an Outcome returns satisfies the cases table's constraints
//     when its input did: solved and closed cases have SolvedAt, exactly closed
//     cases have ClosedAt, pending cases have PendingSince.
//   - Timers is idempotent: applying its Outcome and calling it again at the
//     same time does nothing; each reminder, SLA warning and SLA breach fires
//     at most once. Every timer fires at the first now >= its due time.
//
// Decisions where the design is silent:
//   - A solved case reopens on a reply while now < SolvedAt + ReopenWindow;
//     from that instant on it counts as closed (a reply opens a follow-up case
//     and Apply closes it) and Timers closes it.
//   - Customer mail: a thank-you never opens a follow-up either; a mail with
//     nothing but commands changes no status; #rating on a solved or closed
//     case is a survey answer and never reopens; #escalate is judged after the
//     mail's own effect, so a reply that reopens may escalate.
//   - Agent mail without text or attachments is no reply: it neither relays
//     nor starts pending. A public reply on a pending case restarts the
//     reminders. Of several commands of one kind the last wins; #merge beats
//     status commands. A severity change moves the due time until the first
//     response.
//   - "#word" at the top is a command only for a known name; anything else
//     ends the command block and stays text (ParseCommands).
//   - Severity of a new case (ChooseSeverity): subject tag, then a
//     "Severity:"/"Priority:" line among the first five non-empty lines,
//     then priority headers (advanced and premium plans only), else S3.
//     What a customer asks for is capped by AllowedSeverity: S1 needs an
//     advanced or premium plan (like escalations), else it becomes S2.
//   - Customers' #solve/#close solve the case ("solved by customer") and
//     their text never reopens it; #severity lowers freely and raises
//     within the plan; any customer allowed on the case may use them.
//   - Diagnostics (diagnostics.go): an agent's #diagnostics sends the
//     submitter a request for logs and details and sets pending like
//     #pending (a status command of the same mail wins, #merge drops it);
//     the request replaces the status notice. #consent asks for access to
//     logs and changes no status. A customer's #approve or #deny counts
//     only while a request is pending (Case.Consent) on a case that is not
//     closed. MissingDiagnostics is a heuristic in English and Korean.
package lifecycle
