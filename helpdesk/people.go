package helpdesk

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"time"
)

// Plans decide which cases may escalate and whether priority headers count.
const (
	PlanBasic    = "basic"
	PlanAdvanced = "advanced"
	PlanPremium  = "premium"
)

// Roles of users.
const (
	RoleCustomer = "customer" // acts on their own cases
	RoleContact  = "contact"  // acts on every case of their org
	RoleReseller = "reseller" // acts for customer orgs that granted access
	RoleAgent    = "agent"
	RoleManager  = "manager"
)

// Locales with templates.
const (
	LocaleEN = "en"
	LocaleKO = "ko"
)

// IsStaff reports whether role belongs to the support team.
func IsStaff(role string) bool { return role == RoleAgent || role == RoleManager }

// Org is a customer, reseller or the support organisation itself.
type Org struct {
	ID        int64     `db:"id" json:"id"`
	Name      string    `db:"name" json:"name"`
	Plan      string    `db:"plan" json:"plan"`
	Domains   []string  `db:"-" json:"domains"`
	CreatedAt time.Time `db:"created_at" json:"created_at"`
}

// User is anyone who writes to or works at support. LoginEmail is where
// notifications go.
type User struct {
	ID         int64     `db:"id" json:"id"`
	LoginEmail string    `db:"login_email" json:"email"`
	Name       string    `db:"name" json:"name"`
	Role       string    `db:"role" json:"role"`
	Locale     string    `db:"locale" json:"locale"`
	OrgID      *int64    `db:"org_id" json:"-"`
	OrgName    *string   `db:"org_name" json:"org"`
	Active     bool      `db:"active" json:"active"`
	CreatedAt  time.Time `db:"created_at" json:"created_at"`
	// TimeZone is the user's IANA time zone ("" : none), OrgTimeZone their
	// org's; mail shows times in the first set (see UserRecipient).
	TimeZone    string `db:"timezone" json:"timezone,omitempty"`
	OrgTimeZone string `db:"org_timezone" json:"org_timezone,omitempty"`
}

// Grant lets a reseller org act on a customer org's cases.
type Grant struct {
	Customer  string     `db:"customer" json:"customer"`
	Reseller  string     `db:"reseller" json:"reseller"`
	GrantedAt time.Time  `db:"granted_at" json:"granted_at"`
	RevokedAt *time.Time `db:"revoked_at" json:"revoked_at"`
	Active    bool       `db:"active" json:"active"`
}

// CanonicalAddress parses an email address (with or without a display name)
// and returns it lower-cased, the form identities are compared in.
func CanonicalAddress(s string) (string, error) {
	a, err := mail.ParseAddress(strings.TrimSpace(s))
	if err != nil {
		return "", fmt.Errorf("%w: address %q: %v", ErrInvalid, s, err)
	}
	addr := strings.ToLower(a.Address)
	if strings.ContainsAny(addr, " \t\r\n") || !strings.Contains(addr, "@") {
		return "", fmt.Errorf("%w: address %q", ErrInvalid, s)
	}
	return addr, nil
}

var domainRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$`)

// CanonicalDomain lower-cases a mail domain and checks its syntax.
func CanonicalDomain(s string) (string, error) {
	d := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "@"))), ".")
	if !domainRE.MatchString(d) {
		return "", fmt.Errorf("%w: domain %q", ErrInvalid, s)
	}
	return d, nil
}

// NewOrg is the input of CreateOrg.
type NewOrg struct {
	Name    string
	Plan    string // default basic
	Domains []string
}

// CreateOrg inserts an org with its mail domains.
func CreateOrg(ctx context.Context, q Queryer, in NewOrg) (*Org, error) {
	name := strings.TrimSpace(in.Name)
	if name == "" {
		return nil, fmt.Errorf("%w: org name is empty", ErrInvalid)
	}
	plan := in.Plan
	if plan == "" {
		plan = PlanBasic
	}
	if plan != PlanBasic && plan != PlanAdvanced && plan != PlanPremium {
		return nil, fmt.Errorf("%w: plan %q (want basic, advanced or premium)", ErrInvalid, in.Plan)
	}
	domains := make([]string, 0, len(in.Domains))
	for _, d := range in.Domains {
		cd, err := CanonicalDomain(d)
		if err != nil {
			return nil, err
		}
		domains = append(domains, cd)
	}
	o := &Org{}
	err := q.GetContext(ctx, o, `INSERT INTO orgs (name, plan) VALUES ($1, $2) RETURNING id, name, plan, created_at`, name, plan)
	if err = mapErr(err); errors.Is(err, ErrConflict) {
		return nil, fmt.Errorf("%w: an org named %q", ErrConflict, name)
	} else if err != nil {
		return nil, fmt.Errorf("create org %q: %w", name, err)
	}
	for _, d := range domains {
		_, err := q.ExecContext(ctx, `INSERT INTO org_domains (domain, org_id) VALUES ($1, $2)`, d, o.ID)
		if err = mapErr(err); errors.Is(err, ErrConflict) {
			return nil, fmt.Errorf("%w: domain %s belongs to another org (or is listed twice)", ErrConflict, d)
		} else if err != nil {
			return nil, fmt.Errorf("org %q: domain %s: %w", name, d, err)
		}
	}
	o.Domains = domains
	return o, nil
}

// OrgByName finds an org by its case-insensitive name.
func OrgByName(ctx context.Context, q Queryer, name string) (*Org, error) {
	o := &Org{}
	err := q.GetContext(ctx, o, `SELECT id, name, plan, created_at FROM orgs WHERE lower(name) = lower($1)`, strings.TrimSpace(name))
	if err != nil {
		return nil, fmt.Errorf("org %q: %w", name, mapErr(err))
	}
	if err := q.SelectContext(ctx, &o.Domains, `SELECT domain FROM org_domains WHERE org_id = $1 ORDER BY domain`, o.ID); err != nil {
		return nil, fmt.Errorf("org %q domains: %w", name, mapErr(err))
	}
	return o, nil
}

// OrgByDomain finds the org that owns a mail domain.
func OrgByDomain(ctx context.Context, q Queryer, domain string) (*Org, error) {
	var name string
	err := q.GetContext(ctx, &name, `SELECT o.name FROM orgs o JOIN org_domains d ON d.org_id = o.id WHERE d.domain = lower($1)`, domain)
	if err != nil {
		return nil, fmt.Errorf("org for domain %q: %w", domain, mapErr(err))
	}
	return OrgByName(ctx, q, name)
}

// ListOrgs returns every org, by name.
func ListOrgs(ctx context.Context, q Queryer) ([]Org, error) {
	orgs := []Org{}
	if err := q.SelectContext(ctx, &orgs, `SELECT id, name, plan, created_at FROM orgs ORDER BY lower(name)`); err != nil {
		return nil, fmt.Errorf("list orgs: %w", mapErr(err))
	}
	var rows []struct {
		OrgID  int64  `db:"org_id"`
		Domain string `db:"domain"`
	}
	if err := q.SelectContext(ctx, &rows, `SELECT org_id, domain FROM org_domains ORDER BY domain`); err != nil {
		return nil, fmt.Errorf("list org domains: %w", mapErr(err))
	}
	byID := make(map[int64]*Org, len(orgs))
	for i := range orgs {
		orgs[i].Domains = []string{}
		byID[orgs[i].ID] = &orgs[i]
	}
	for _, r := range rows {
		if o := byID[r.OrgID]; o != nil {
			o.Domains = append(o.Domains, r.Domain)
		}
	}
	return orgs, nil
}

// NewUser is the input of CreateUser.
type NewUser struct {
	Email  string
	Name   string
	Role   string
	Org    string // org name; required for every role but customer
	Locale string // default en
}

// CreateUser inserts a user. The login email is canonicalised and unique.
func CreateUser(ctx context.Context, q Queryer, in NewUser) (*User, error) {
	email, err := CanonicalAddress(in.Email)
	if err != nil {
		return nil, err
	}
	switch in.Role {
	case RoleCustomer, RoleContact, RoleReseller, RoleAgent, RoleManager:
	default:
		return nil, fmt.Errorf("%w: role %q (want customer, contact, reseller, agent or manager)", ErrInvalid, in.Role)
	}
	locale := in.Locale
	if locale == "" {
		locale = LocaleEN
	}
	if locale != LocaleEN && locale != LocaleKO {
		return nil, fmt.Errorf("%w: locale %q (want en or ko)", ErrInvalid, in.Locale)
	}
	var orgID *int64
	if in.Org != "" {
		o, err := OrgByName(ctx, q, in.Org)
		if err != nil {
			return nil, err
		}
		orgID = &o.ID
	} else if in.Role != RoleCustomer {
		return nil, fmt.Errorf("%w: a %s needs an org", ErrInvalid, in.Role)
	}
	var taken bool
	if err := q.GetContext(ctx, &taken, `SELECT EXISTS (SELECT 1 FROM user_addresses WHERE address = $1)`, email); err != nil {
		return nil, fmt.Errorf("create user %s: %w", email, mapErr(err))
	}
	if taken {
		return nil, fmt.Errorf("%w: %s is already another user's address", ErrConflict, email)
	}
	var id int64
	err = q.GetContext(ctx, &id, `INSERT INTO users (login_email, name, role, locale, org_id)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`, email, strings.TrimSpace(in.Name), in.Role, locale, orgID)
	if err = mapErr(err); errors.Is(err, ErrConflict) {
		return nil, fmt.Errorf("%w: a user with login email %s", ErrConflict, email)
	} else if err != nil {
		return nil, fmt.Errorf("create user %s: %w", email, err)
	}
	return UserByID(ctx, q, id)
}

const userColumns = `u.id, u.login_email, u.name, u.role, u.locale, u.org_id, o.name AS org_name, u.active, u.created_at,
	coalesce(u.timezone, '') AS timezone, coalesce(o.timezone, '') AS org_timezone`

// UserByID loads a user.
func UserByID(ctx context.Context, q Queryer, id int64) (*User, error) {
	u := &User{}
	err := q.GetContext(ctx, u, `SELECT `+userColumns+` FROM users u LEFT JOIN orgs o ON o.id = u.org_id WHERE u.id = $1`, id)
	if err != nil {
		return nil, fmt.Errorf("user %d: %w", id, mapErr(err))
	}
	return u, nil
}

// UserByAddress finds the user who owns an address, as login email or as one
// of their extra addresses.
func UserByAddress(ctx context.Context, q Queryer, address string) (*User, error) {
	addr, err := CanonicalAddress(address)
	if err != nil {
		return nil, err
	}
	u := &User{}
	err = q.GetContext(ctx, u, `SELECT `+userColumns+` FROM users u LEFT JOIN orgs o ON o.id = u.org_id
		WHERE u.login_email = $1
		   OR u.id = (SELECT user_id FROM user_addresses WHERE address = $1)
		ORDER BY u.login_email = $1 DESC LIMIT 1`, addr)
	if err != nil {
		return nil, fmt.Errorf("user %s: %w", addr, mapErr(err))
	}
	return u, nil
}

// AddUserAddress records another address a user writes from.
func AddUserAddress(ctx context.Context, q Queryer, userID int64, address string) error {
	addr, err := CanonicalAddress(address)
	if err != nil {
		return err
	}
	var taken bool
	if err := q.GetContext(ctx, &taken, `SELECT EXISTS (SELECT 1 FROM users WHERE login_email = $1)`, addr); err != nil {
		return fmt.Errorf("address %s: %w", addr, mapErr(err))
	}
	if taken {
		return fmt.Errorf("%w: %s is another user's login email", ErrConflict, addr)
	}
	if _, err := q.ExecContext(ctx, `INSERT INTO user_addresses (address, user_id, verified_at) VALUES ($1, $2, now())`, addr, userID); err != nil {
		return fmt.Errorf("address %s: %w", addr, mapErr(err))
	}
	return nil
}

// ListUsers returns every user, by org then email.
func ListUsers(ctx context.Context, q Queryer) ([]User, error) {
	users := []User{}
	err := q.SelectContext(ctx, &users, `SELECT `+userColumns+` FROM users u LEFT JOIN orgs o ON o.id = u.org_id
		ORDER BY lower(coalesce(o.name, '')), u.login_email`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", mapErr(err))
	}
	return users, nil
}

// AddGrant lets the reseller org act on the customer org's cases (again, if
// it was revoked).
func AddGrant(ctx context.Context, q Queryer, customer, reseller string) error {
	c, r, err := grantOrgs(ctx, q, customer, reseller)
	if err != nil {
		return err
	}
	_, err = q.ExecContext(ctx, `INSERT INTO grants (customer_org_id, reseller_org_id) VALUES ($1, $2)
		ON CONFLICT (customer_org_id, reseller_org_id) DO UPDATE SET granted_at = now(), revoked_at = NULL
		WHERE grants.revoked_at IS NOT NULL`, c.ID, r.ID)
	if err != nil {
		return fmt.Errorf("grant %s → %s: %w", c.Name, r.Name, mapErr(err))
	}
	return nil
}

// RevokeGrant ends a grant; the row stays for the record.
func RevokeGrant(ctx context.Context, q Queryer, customer, reseller string) error {
	c, r, err := grantOrgs(ctx, q, customer, reseller)
	if err != nil {
		return err
	}
	res, err := q.ExecContext(ctx, `UPDATE grants SET revoked_at = now()
		WHERE customer_org_id = $1 AND reseller_org_id = $2 AND revoked_at IS NULL`, c.ID, r.ID)
	if err != nil {
		return fmt.Errorf("revoke grant %s → %s: %w", c.Name, r.Name, mapErr(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: no active grant from %s to %s", ErrNotFound, c.Name, r.Name)
	}
	return nil
}

func grantOrgs(ctx context.Context, q Queryer, customer, reseller string) (*Org, *Org, error) {
	c, err := OrgByName(ctx, q, customer)
	if err != nil {
		return nil, nil, fmt.Errorf("customer %w", err)
	}
	r, err := OrgByName(ctx, q, reseller)
	if err != nil {
		return nil, nil, fmt.Errorf("reseller %w", err)
	}
	if c.ID == r.ID {
		return nil, nil, fmt.Errorf("%w: an org cannot grant itself", ErrInvalid)
	}
	return c, r, nil
}

// ListGrants returns all grants, active and revoked.
func ListGrants(ctx context.Context, q Queryer) ([]Grant, error) {
	gs := []Grant{}
	err := q.SelectContext(ctx, &gs, `SELECT c.name AS customer, r.name AS reseller, g.granted_at, g.revoked_at,
			g.revoked_at IS NULL AS active
		FROM grants g JOIN orgs c ON c.id = g.customer_org_id JOIN orgs r ON r.id = g.reseller_org_id
		ORDER BY lower(c.name), lower(r.name)`)
	if err != nil {
		return nil, fmt.Errorf("list grants: %w", mapErr(err))
	}
	return gs, nil
}

// HasGrant reports whether the reseller org may act on the customer org's cases now.
func HasGrant(ctx context.Context, q Queryer, customerOrgID, resellerOrgID int64) (bool, error) {
	var ok bool
	err := q.GetContext(ctx, &ok, `SELECT EXISTS (SELECT 1 FROM grants
		WHERE customer_org_id = $1 AND reseller_org_id = $2 AND revoked_at IS NULL)`, customerOrgID, resellerOrgID)
	if err != nil {
		return false, fmt.Errorf("grant check: %w", mapErr(err))
	}
	return ok, nil
}
