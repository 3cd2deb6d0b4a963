package helpdesk

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// AccessPolicy tunes who may act on a case besides its submitter and staff.
type AccessPolicy struct {
	// OrgCustomers lets plain customers act on every case of their org, not
	// only their own (contacts always may).
	OrgCustomers bool
	// NewAddressHold holds for review a reply from an address we did not
	// mail that carries a valid reply token (strict); by default it is
	// appended and the address becomes a participant.
	NewAddressHold bool
}

// Access decides whether user u may see and write into case c. Identity is
// the From address (canonicalised); Reply-To never counts. The rules:
// agents and managers on every case; the submitter; participants recorded on
// the case (e.g. the customer a reseller wrote for); a contact of the case's
// org; a plain customer of the case's org on cases a reseller opened for the
// org (and on every org case when the policy says so). A reseller acts on a
// case of another org only under that org's grant, and only while the grant
// lasts, on cases filed while it was held: not on the cases an earlier
// reseller filed, nor, once revoked, on its own. Being the submitter or a
// participant does not lift that.
func Access(ctx context.Context, q Queryer, u *User, c *Case, p AccessPolicy) (bool, string, error) {
	var f accessFacts
	if u != nil && !IsStaff(u.Role) {
		if err := q.GetContext(ctx, &f.participant, `SELECT EXISTS (SELECT 1 FROM case_participants WHERE case_id = $1 AND user_id = $2)`,
			c.ID, u.ID); err != nil {
			return false, "", fmt.Errorf("access: %w", mapErr(err))
		}
		if err := q.GetContext(ctx, &f.submitterRole, `SELECT role FROM users WHERE id = $1`, c.SubmitterID); err != nil {
			return false, "", fmt.Errorf("access: %w", mapErr(err))
		}
	}
	if u != nil && u.Role == RoleReseller && u.OrgID != nil && c.OrgID != nil {
		var g grantView
		err := q.GetContext(ctx, &g, `SELECT granted_at, revoked_at FROM grants
			WHERE customer_org_id = $1 AND reseller_org_id = $2`, *c.OrgID, *u.OrgID)
		switch err = mapErr(err); {
		case err == nil:
			f.grant = &g
		case !errors.Is(err, ErrNotFound):
			return false, "", fmt.Errorf("access: grant: %w", err)
		}
	}
	ok, why := decideAccess(u, c, f, p)
	return ok, why, nil
}

// accessFacts is what deciding access needs beyond the user and the case.
type accessFacts struct {
	participant   bool
	submitterRole string
	grant         *grantView // the case org's grant to the reseller's org, if any
}

// decideAccess is Access on gathered facts.
func decideAccess(u *User, c *Case, f accessFacts, p AccessPolicy) (bool, string) {
	if u == nil {
		return false, "unknown sender"
	}
	switch {
	case !u.Active:
		return false, u.LoginEmail + " is deactivated"
	case IsStaff(u.Role):
		return true, u.Role
	case u.Role == RoleReseller && c.OrgID != nil && (u.OrgID == nil || *u.OrgID != *c.OrgID):
		return resellerAccess(u, c, f.grant)
	case u.ID == c.SubmitterID:
		return true, "submitter"
	case f.participant:
		return true, "participant"
	}
	sameOrg := c.OrgID != nil && u.OrgID != nil && *c.OrgID == *u.OrgID
	switch {
	case u.Role == RoleContact && sameOrg:
		return true, "contact of the case's org"
	case u.Role == RoleCustomer && sameOrg && p.OrgCustomers:
		return true, "customer of the case's org"
	case u.Role == RoleCustomer && sameOrg && f.submitterRole == RoleReseller:
		return true, "customer of the org a reseller opened the case for"
	}
	return false, fmt.Sprintf("%s (%s) is not allowed on case #%d", u.LoginEmail, u.Role, c.ID)
}

// resellerAccess decides for a reseller on a case of another org: the case's
// org must hold a grant to the reseller's org now, given before the case was
// filed. A grant revoked and given again covers only what was filed since.
func resellerAccess(u *User, c *Case, g *grantView) (bool, string) {
	deny := func(why string) (bool, string) {
		return false, fmt.Sprintf("%s (reseller) is not allowed on case #%d: %s", u.LoginEmail, c.ID, why)
	}
	switch {
	case u.OrgID == nil:
		return deny("no org of its own, so no grant")
	case g == nil:
		return deny("the case's org has not granted access")
	case g.RevokedAt != nil:
		return deny("the case's org revoked its grant on " + g.RevokedAt.UTC().Format(time.DateOnly))
	case c.CreatedAt.Before(g.GrantedAt):
		const at = "2006-01-02 15:04 MST"
		return deny(fmt.Sprintf("the case was filed at %s, before the grant of %s", c.CreatedAt.UTC().Format(at), g.GrantedAt.UTC().Format(at)))
	}
	return true, "reseller with a grant from the case's org, held since before the case was filed"
}
