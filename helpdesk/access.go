package helpdesk

import (
	"context"
	"fmt"
)

// AccessPolicy tunes who may act on a case besides its submitter and staff.
type AccessPolicy struct {
	// OrgCustomers lets plain customers act on every case of their org, not
	// only their own (contacts always may).
	OrgCustomers bool
}

// Access decides whether user u may see and write into case c. Identity is
// the From address (canonicalised); Reply-To never counts. The rules:
// agents and managers on every case; the submitter; participants recorded on
// the case (e.g. the customer a reseller wrote for); a contact of the case's
// org; a plain customer of the case's org on cases a reseller opened for the
// org (and on every org case when the policy says so); a reseller on cases
// of a customer org that has granted it access, while the grant lasts.
func Access(ctx context.Context, q Queryer, u *User, c *Case, p AccessPolicy) (bool, string, error) {
	if u == nil {
		return false, "unknown sender", nil
	}
	switch {
	case !u.Active:
		return false, u.LoginEmail + " is deactivated", nil
	case IsStaff(u.Role):
		return true, u.Role, nil
	case u.ID == c.SubmitterID:
		return true, "submitter", nil
	}
	var participant bool
	if err := q.GetContext(ctx, &participant, `SELECT EXISTS (SELECT 1 FROM case_participants WHERE case_id = $1 AND user_id = $2)`,
		c.ID, u.ID); err != nil {
		return false, "", fmt.Errorf("access: %w", mapErr(err))
	}
	if participant {
		return true, "participant", nil
	}
	sameOrg := c.OrgID != nil && u.OrgID != nil && *c.OrgID == *u.OrgID
	switch u.Role {
	case RoleContact:
		if sameOrg {
			return true, "contact of the case's org", nil
		}
	case RoleCustomer:
		if sameOrg && p.OrgCustomers {
			return true, "customer of the case's org", nil
		}
		if sameOrg {
			var byReseller bool
			if err := q.GetContext(ctx, &byReseller, `SELECT role = 'reseller' FROM users WHERE id = $1`, c.SubmitterID); err != nil {
				return false, "", fmt.Errorf("access: %w", mapErr(err))
			}
			if byReseller {
				return true, "customer of the org a reseller opened the case for", nil
			}
		}
	case RoleReseller:
		if c.OrgID != nil && u.OrgID != nil {
			ok, err := HasGrant(ctx, q, *c.OrgID, *u.OrgID)
			if err != nil {
				return false, "", err
			}
			if ok {
				return true, "reseller with a grant from the case's org", nil
			}
		}
	}
	return false, fmt.Sprintf("%s (%s) is not allowed on case #%d", u.LoginEmail, u.Role, c.ID), nil
}
