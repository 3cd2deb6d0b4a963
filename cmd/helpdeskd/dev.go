package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/jmoiron/sqlx"

	"github.com/helpdesk/helpdesk/helpdesk"
	"github.com/helpdesk/helpdesk/migrations"
)

// demoData is what `helpdeskd dev` seeds.
func demoData() (orgs []helpdesk.NewOrg, users []helpdesk.NewUser, grants [][2]string) {
	orgs = []helpdesk.NewOrg{
		{Name: "Helpdesk Demo", Plan: helpdesk.PlanPremium, Domains: []string{"helpdesk.test"}},
		{Name: "Acme", Plan: helpdesk.PlanPremium, Domains: []string{"acme.test"}},
		{Name: "Resell Co", Plan: helpdesk.PlanAdvanced, Domains: []string{"resell.test"}},
	}
	users = []helpdesk.NewUser{
		{Email: "alice@helpdesk.test", Name: "Alice Agent", Role: helpdesk.RoleAgent, Org: "Helpdesk Demo"},
		{Email: "bob@helpdesk.test", Name: "Bob Agent", Role: helpdesk.RoleAgent, Org: "Helpdesk Demo"},
		{Email: "carol@helpdesk.test", Name: "Carol Manager", Role: helpdesk.RoleManager, Org: "Helpdesk Demo"},
		{Email: "minsu@acme.test", Name: "김민수", Role: helpdesk.RoleCustomer, Org: "Acme", Locale: helpdesk.LocaleKO},
		{Email: "jane@acme.test", Name: "Jane Customer", Role: helpdesk.RoleCustomer, Org: "Acme"},
		{Email: "rita@resell.test", Name: "Rita Reseller", Role: helpdesk.RoleReseller, Org: "Resell Co"},
	}
	grants = [][2]string{{"Acme", "Resell Co"}}
	return orgs, users, grants
}

func cmdDev(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	dataDir := fs.String("data", ".dev", "directory for the sandbox's state (kept between runs)")
	reset := fs.Bool("reset", false, "delete the sandbox's state first")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	dir, err := filepath.Abs(*dataDir)
	if err != nil {
		return err
	}
	c, err := e.config()
	if err != nil {
		return err
	}
	out := e.stdout
	say := func(format string, args ...any) { fmt.Fprintf(out, "dev: "+format+"\n", args...) }

	dbURL := c.DatabaseURL
	if dbURL == "" {
		cluster, err := newDevCluster(filepath.Join(dir, "postgres"), say)
		if err != nil {
			return err
		}
		if *reset {
			say("--reset: removing %s", dir)
			if err := cluster.Remove(ctx); err != nil {
				return fmt.Errorf("reset: %w", err)
			}
			if err := os.RemoveAll(dir); err != nil {
				return fmt.Errorf("reset: %w", err)
			}
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if err := cluster.Start(ctx); err != nil {
			return fmt.Errorf("start the dev PostgreSQL: %w", err)
		}
		defer func() {
			if err := cluster.Stop(); err != nil {
				fmt.Fprintf(e.stderr, "dev: stop PostgreSQL: %v\n", err)
			} else {
				say("PostgreSQL stopped; state kept in %s", dir)
			}
		}()
		dbURL = cluster.URL()
		say("PostgreSQL running from %s on 127.0.0.1:%d", cluster.dir, cluster.port)
	} else {
		say("using HELPDESK_DATABASE_URL")
		if *reset {
			return errors.New("--reset only applies to the sandbox's own PostgreSQL, not to HELPDESK_DATABASE_URL")
		}
	}

	s, err := helpdesk.Open(ctx, dbURL)
	if err != nil {
		return err
	}
	defer s.Close()
	applied, err := migrations.Up(ctx, s.DB().DB)
	if err != nil {
		return err
	}
	say("schema at version %d (applied now: %d)", migrations.Latest(), len(applied))
	created, err := seedDemo(ctx, s)
	if err != nil {
		return fmt.Errorf("seed demo data: %w", err)
	}
	for _, line := range created {
		say("seeded %s", line)
	}
	if len(created) == 0 {
		say("demo data already present")
	}

	envFile := filepath.Join(dir, "env")
	if err := os.WriteFile(envFile, []byte("export HELPDESK_DATABASE_URL='"+dbURL+"'\n"), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(out, `
helpdesk sandbox is ready.

  Demo org "Acme" (customers minsu@acme.test, jane@acme.test), reseller rita@resell.test
  (granted access to Acme), agents alice@ and bob@helpdesk.test, manager carol@helpdesk.test.

  In another terminal:
    . %s                 # sets HELPDESK_DATABASE_URL
    helpdeskd users list
    helpdeskd cases list
    helpdeskd cases show 1 --json

Press Ctrl-C to stop (state is kept; --reset starts over).
`, envFile)
	<-ctx.Done()
	return nil
}

// seedDemo adds the demo orgs, users and grants that are missing and says
// what it added.
func seedDemo(ctx context.Context, s *helpdesk.Store) ([]string, error) {
	demoOrgs, demoUsers, demoGrants := demoData()
	var created []string
	err := s.WithTx(ctx, func(tx *sqlx.Tx) error {
		for _, o := range demoOrgs {
			if _, err := helpdesk.OrgByName(ctx, tx, o.Name); err == nil {
				continue
			} else if !errors.Is(err, helpdesk.ErrNotFound) {
				return err
			}
			if _, err := helpdesk.CreateOrg(ctx, tx, o); err != nil {
				return err
			}
			created = append(created, fmt.Sprintf("org %s (%s plan)", o.Name, o.Plan))
		}
		for _, u := range demoUsers {
			if _, err := helpdesk.UserByAddress(ctx, tx, u.Email); err == nil {
				continue
			} else if !errors.Is(err, helpdesk.ErrNotFound) {
				return err
			}
			if _, err := helpdesk.CreateUser(ctx, tx, u); err != nil {
				return err
			}
			created = append(created, fmt.Sprintf("%s %s", u.Role, u.Email))
		}
		for _, g := range demoGrants {
			gs, err := helpdesk.ListGrants(ctx, tx)
			if err != nil {
				return err
			}
			have := false
			for _, x := range gs {
				have = have || (x.Customer == g[0] && x.Reseller == g[1] && x.Active)
			}
			if have {
				continue
			}
			if err := helpdesk.AddGrant(ctx, tx, g[0], g[1]); err != nil {
				return err
			}
			created = append(created, fmt.Sprintf("grant %s → %s", g[0], g[1]))
		}
		return nil
	})
	return created, err
}
