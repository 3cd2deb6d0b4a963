package lifecycle

// Refusal says why an escalation was refused; the values are those of
// templates.EscalationRefusal.
type Refusal string

const (
	RefusalPlanNotEligible Refusal = "plan_not_eligible"
	RefusalCaseSolved      Refusal = "case_solved"
	RefusalCaseClosed      Refusal = "case_closed"
)

// CanEscalate reports whether a customer may escalate c: only on an advanced
// or premium plan (checked first, as it does not change by replying), and
// only while c is neither solved nor closed.
func CanEscalate(c Case) (ok bool, why Refusal) {
	switch {
	case !premiumPlan(c.Plan):
		return false, RefusalPlanNotEligible
	case c.Status == Closed:
		return false, RefusalCaseClosed
	case c.Status == Solved:
		return false, RefusalCaseSolved
	}
	return true, ""
}

// PlanEscalates reports whether plan lets customers escalate (#escalate).
func PlanEscalates(plan string) bool { return premiumPlan(plan) }
