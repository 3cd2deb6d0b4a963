package helpdesk

import (
	"context"
	"fmt"
	"time"
)

// CheckTimeZone accepts an IANA time zone name such as Asia/Seoul or UTC.
func CheckTimeZone(name string) error {
	if name == "" || name == "Local" {
		return fmt.Errorf("%w: time zone %q: want an IANA name such as Asia/Seoul, Europe/Berlin or UTC", ErrInvalid, name)
	}
	if _, err := time.LoadLocation(name); err != nil {
		return fmt.Errorf("%w: time zone %q is not an IANA name such as Asia/Seoul, Europe/Berlin or UTC", ErrInvalid, name)
	}
	return nil
}

// SetUserTimeZone sets the zone a user's mail shows times in ("" : none,
// their org's or the helpdesk's then).
func SetUserTimeZone(ctx context.Context, q Queryer, userID int64, name string) error {
	if name != "" {
		if err := CheckTimeZone(name); err != nil {
			return err
		}
	}
	res, err := q.ExecContext(ctx, `UPDATE users SET timezone = nullif($2, '') WHERE id = $1`, userID, name)
	if err != nil {
		return fmt.Errorf("user %d time zone: %w", userID, mapErr(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("user %d: %w", userID, ErrNotFound)
	}
	return nil
}

// SetOrgTimeZone sets the zone of mail to the org's customers who have none
// of their own ("" : none).
func SetOrgTimeZone(ctx context.Context, q Queryer, orgID int64, name string) error {
	if name != "" {
		if err := CheckTimeZone(name); err != nil {
			return err
		}
	}
	res, err := q.ExecContext(ctx, `UPDATE orgs SET timezone = nullif($2, '') WHERE id = $1`, orgID, name)
	if err != nil {
		return fmt.Errorf("org %d time zone: %w", orgID, mapErr(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("org %d: %w", orgID, ErrNotFound)
	}
	return nil
}
