package helpdesk

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Operator housekeeping: change users and orgs, a user's second addresses,
// and the suppression list.

// UserChange is the input of UpdateUser: nil fields stay as they are.
type UserChange struct {
	Name     *string
	Role     *string
	Org      *string // org name; "" : no org (customers only)
	Locale   *string
	TimeZone *string // IANA name; "" : none (their org's or the helpdesk's then)
	Disabled *bool
}

// IsZero reports whether ch changes nothing.
func (ch UserChange) IsZero() bool {
	return ch.Name == nil && ch.Role == nil && ch.Org == nil && ch.Locale == nil && ch.TimeZone == nil && ch.Disabled == nil
}

// UpdateUser changes the user with the given address, by the rules of
// CreateUser. A disabled user keeps their cases but may no longer act on
// them or be assigned.
func UpdateUser(ctx context.Context, q Queryer, email string, ch UserChange) (*User, error) {
	u, err := UserByAddress(ctx, q, email)
	if err != nil {
		return nil, err
	}
	if ch.Name != nil {
		u.Name = strings.TrimSpace(*ch.Name)
	}
	if ch.Role != nil {
		switch *ch.Role {
		case RoleCustomer, RoleContact, RoleReseller, RoleAgent, RoleManager:
			u.Role = *ch.Role
		default:
			return nil, fmt.Errorf("%w: role %q (want customer, contact, reseller, agent or manager)", ErrInvalid, *ch.Role)
		}
	}
	if ch.Locale != nil {
		if *ch.Locale != LocaleEN && *ch.Locale != LocaleKO {
			return nil, fmt.Errorf("%w: locale %q (want en or ko)", ErrInvalid, *ch.Locale)
		}
		u.Locale = *ch.Locale
	}
	if ch.Org != nil {
		u.OrgID = nil
		if strings.TrimSpace(*ch.Org) != "" {
			o, err := OrgByName(ctx, q, *ch.Org)
			if err != nil {
				return nil, err
			}
			u.OrgID = &o.ID
		}
	}
	if u.OrgID == nil && u.Role != RoleCustomer {
		return nil, fmt.Errorf("%w: a %s needs an org", ErrInvalid, u.Role)
	}
	if ch.Disabled != nil {
		u.Active = !*ch.Disabled
	}
	if _, err := q.ExecContext(ctx, `UPDATE users SET name = $2, role = $3, locale = $4, org_id = $5, active = $6 WHERE id = $1`,
		u.ID, u.Name, u.Role, u.Locale, u.OrgID, u.Active); err != nil {
		return nil, fmt.Errorf("update user %s: %w", u.LoginEmail, mapErr(err))
	}
	if ch.TimeZone != nil {
		if err := SetUserTimeZone(ctx, q, u.ID, strings.TrimSpace(*ch.TimeZone)); err != nil {
			return nil, err
		}
	}
	return UserByID(ctx, q, u.ID)
}

// UserAddress is a second address a user writes from.
type UserAddress struct {
	Address    string     `db:"address" json:"address"`
	VerifiedAt *time.Time `db:"verified_at" json:"verified_at"`
	CreatedAt  time.Time  `db:"created_at" json:"created_at"`
}

// addressOwner is the user an address belongs to, and how.
type addressOwner struct {
	UserID int64  `db:"user_id"`
	Email  string `db:"login_email"`
	Login  bool   `db:"login"`
}

func ownerOf(ctx context.Context, q Queryer, addr string) (*addressOwner, error) {
	var o addressOwner
	err := q.GetContext(ctx, &o, `SELECT id AS user_id, login_email, true AS login FROM users WHERE login_email = $1
		UNION ALL
		SELECT u.id, u.login_email, false FROM user_addresses a JOIN users u ON u.id = a.user_id WHERE a.address = $1
		LIMIT 1`, addr)
	if errors.Is(mapErr(err), ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("owner of %s: %w", addr, mapErr(err))
	}
	return &o, nil
}

// AddSecondAddress records a verified second address of u; it reports false
// when u already had it. An address of another user is refused.
func AddSecondAddress(ctx context.Context, q Queryer, u *User, address string) (bool, error) {
	addr, err := CanonicalAddress(address)
	if err != nil {
		return false, err
	}
	o, err := ownerOf(ctx, q, addr)
	switch {
	case err != nil:
		return false, err
	case o != nil && o.UserID != u.ID && o.Login:
		return false, fmt.Errorf("%w: %s is the login email of another user", ErrConflict, addr)
	case o != nil && o.UserID != u.ID:
		return false, fmt.Errorf("%w: %s is already an address of %s", ErrConflict, addr, o.Email)
	case o != nil && o.Login:
		return false, fmt.Errorf("%w: %s is %s's login email", ErrInvalid, addr, u.LoginEmail)
	case o != nil:
		return false, nil
	}
	if _, err := q.ExecContext(ctx, `INSERT INTO user_addresses (address, user_id, verified_at) VALUES ($1, $2, now())`, addr, u.ID); err != nil {
		return false, fmt.Errorf("address %s: %w", addr, mapErr(err))
	}
	return true, nil
}

// RemoveSecondAddress forgets one of u's second addresses.
func RemoveSecondAddress(ctx context.Context, q Queryer, u *User, address string) error {
	addr, err := CanonicalAddress(address)
	if err != nil {
		return err
	}
	res, err := q.ExecContext(ctx, `DELETE FROM user_addresses WHERE address = $1 AND user_id = $2`, addr, u.ID)
	if err != nil {
		return fmt.Errorf("remove address %s: %w", addr, mapErr(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: %s is not a second address of %s", ErrNotFound, addr, u.LoginEmail)
	}
	return nil
}

// SecondAddresses lists u's second addresses.
func SecondAddresses(ctx context.Context, q Queryer, u *User) ([]UserAddress, error) {
	as := []UserAddress{}
	if err := q.SelectContext(ctx, &as, `SELECT address, verified_at, created_at FROM user_addresses
		WHERE user_id = $1 ORDER BY address`, u.ID); err != nil {
		return nil, fmt.Errorf("addresses of %s: %w", u.LoginEmail, mapErr(err))
	}
	return as, nil
}

// OrgChange is the input of UpdateOrg.
type OrgChange struct {
	Plan          string  // "" : unchanged
	TimeZone      *string // IANA name; "" : none
	AddDomains    []string
	RemoveDomains []string
}

// UpdateOrg changes an org's plan and mail domains (removals first). A
// domain of another org is refused; adding one the org has is a no-op.
func UpdateOrg(ctx context.Context, q Queryer, name string, ch OrgChange) (*Org, error) {
	o, err := OrgByName(ctx, q, name)
	if err != nil {
		return nil, err
	}
	if ch.Plan != "" {
		if ch.Plan != PlanBasic && ch.Plan != PlanAdvanced && ch.Plan != PlanPremium {
			return nil, fmt.Errorf("%w: plan %q (want basic, advanced or premium)", ErrInvalid, ch.Plan)
		}
		if _, err := q.ExecContext(ctx, `UPDATE orgs SET plan = $2 WHERE id = $1`, o.ID, ch.Plan); err != nil {
			return nil, fmt.Errorf("org %q: set plan: %w", o.Name, mapErr(err))
		}
	}
	if ch.TimeZone != nil {
		if err := SetOrgTimeZone(ctx, q, o.ID, strings.TrimSpace(*ch.TimeZone)); err != nil {
			return nil, err
		}
	}
	for _, d := range ch.RemoveDomains {
		cd, err := CanonicalDomain(d)
		if err != nil {
			return nil, err
		}
		res, err := q.ExecContext(ctx, `DELETE FROM org_domains WHERE domain = $1 AND org_id = $2`, cd, o.ID)
		if err != nil {
			return nil, fmt.Errorf("org %q: remove domain %s: %w", o.Name, cd, mapErr(err))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil, fmt.Errorf("%w: %s is not a domain of %s", ErrNotFound, cd, o.Name)
		}
	}
	for _, d := range ch.AddDomains {
		cd, err := CanonicalDomain(d)
		if err != nil {
			return nil, err
		}
		var owner string
		err = q.GetContext(ctx, &owner, `SELECT o.name FROM org_domains d JOIN orgs o ON o.id = d.org_id WHERE d.domain = $1`, cd)
		switch err = mapErr(err); {
		case errors.Is(err, ErrNotFound):
		case err != nil:
			return nil, fmt.Errorf("org %q: domain %s: %w", o.Name, cd, err)
		case strings.EqualFold(owner, o.Name):
			continue
		default:
			return nil, fmt.Errorf("%w: domain %s belongs to org %s", ErrConflict, cd, owner)
		}
		if _, err := q.ExecContext(ctx, `INSERT INTO org_domains (domain, org_id) VALUES ($1, $2)`, cd, o.ID); err != nil {
			return nil, fmt.Errorf("org %q: add domain %s: %w", o.Name, cd, mapErr(err))
		}
	}
	return OrgByName(ctx, q, o.Name)
}

// Suppression is an address mail is not sent to after a permanent failure.
type Suppression struct {
	Address    string    `db:"address" json:"address"`
	Reason     string    `db:"reason" json:"reason"`
	StatusCode string    `db:"status_code" json:"status_code"`
	CaseID     *int64    `db:"case_id" json:"case_id"`
	CreatedAt  time.Time `db:"created_at" json:"created_at"`
	Until      time.Time `db:"suppressed_until" json:"suppressed_until"`
	Active     bool      `db:"active" json:"active"` // still suppressed at the time of listing
}

// ListSuppressions returns every suppression, newest first; Active says
// whether it still holds at now.
func ListSuppressions(ctx context.Context, q Queryer, now time.Time) ([]Suppression, error) {
	ss := []Suppression{}
	if err := q.SelectContext(ctx, &ss, `SELECT address, reason, status_code, case_id, created_at, suppressed_until,
			suppressed_until > $1 AS active
		FROM suppressions ORDER BY created_at DESC, address`, now); err != nil {
		return nil, fmt.Errorf("list suppressions: %w", mapErr(err))
	}
	return ss, nil
}

// RemoveSuppression lets mail go to address again.
func RemoveSuppression(ctx context.Context, q Queryer, address string) error {
	addr, err := CanonicalAddress(address)
	if err != nil {
		return err
	}
	res, err := q.ExecContext(ctx, `DELETE FROM suppressions WHERE address = $1`, addr)
	if err != nil {
		return fmt.Errorf("remove suppression %s: %w", addr, mapErr(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: %s is not suppressed", ErrNotFound, addr)
	}
	return nil
}
