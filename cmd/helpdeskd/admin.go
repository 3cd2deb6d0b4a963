package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/helpdesk/helpdesk/cmd/helpdeskd/internal/config"
	"github.com/helpdesk/helpdesk/helpdesk"
	"github.com/helpdesk/helpdesk/migrations"
)

// connect opens the configured database with the configured pool: the one
// place the CLI opens a store.
func connect(ctx context.Context, c *config.Config) (*helpdesk.Store, error) {
	if err := c.RequireDatabase(); err != nil {
		return nil, err
	}
	return helpdesk.OpenWith(ctx, c.DatabaseURL, poolConfig(c))
}

// checkSchema fails unless the database's schema is the one this binary
// expects.
func checkSchema(ctx context.Context, s *helpdesk.Store) error {
	cur, latest, err := migrations.Status(ctx, s.DB().DB)
	if err != nil {
		return err
	}
	if cur > latest {
		return fmt.Errorf("database schema is at version %d, newer than this binary (%d): upgrade helpdeskd", cur, latest)
	}
	if cur != latest {
		return fmt.Errorf("database schema is at version %d, this binary needs %d: run `helpdeskd migrate`", cur, latest)
	}
	return nil
}

func migrateCommand() *command {
	return &command{
		Name: "migrate", Usage: "apply pending database migrations",
		Run: func(ctx context.Context, inv *invocation) error {
			c, err := inv.config()
			if err != nil {
				return err
			}
			s, err := connect(ctx, c)
			if err != nil {
				return err
			}
			defer s.Close()
			applied, err := migrations.Up(ctx, s.DB().DB)
			if err != nil {
				return err
			}
			if len(applied) == 0 {
				fmt.Fprintf(inv.stdout, "schema is current (version %d)\n", migrations.Latest())
				return nil
			}
			for _, v := range applied {
				fmt.Fprintf(inv.stdout, "applied migration %04d\n", v)
			}
			fmt.Fprintf(inv.stdout, "schema is at version %d\n", migrations.Latest())
			return nil
		},
	}
}

func configCommand() *command {
	return &command{
		Name: "config", Usage: "print the effective configuration, secrets redacted", JSON: true,
		Run: func(_ context.Context, inv *invocation) error {
			c, err := inv.config()
			if err != nil {
				return err
			}
			entries := c.Redacted()
			return inv.print(entries, func(w io.Writer) error {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				for _, en := range entries {
					fmt.Fprintf(tw, "%s\t%s\t%s\n", en.Key, en.Value, en.Env)
				}
				return tw.Flush()
			})
		},
	}
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func orgsAddCommand() *command {
	var domains listFlag
	var plan, tz string
	return &command{
		Name: "add", Args: "NAME", Usage: "add an org", JSON: true,
		Help: "The org's mail domains decide which org a new sender belongs to.",
		Flags: func(fs *flag.FlagSet) {
			fs.Var(&domains, "domain", "mail domain of the org (repeatable)")
			fs.StringVar(&plan, "plan", "basic", "support plan: basic, advanced or premium")
			fs.StringVar(&tz, "timezone", "", "IANA `ZONE` of the times in mail to the org's customers, e.g. Asia/Seoul (default HELPDESK_TIMEZONE)")
		},
		Run: func(ctx context.Context, inv *invocation) error {
			if tz != "" {
				if err := helpdesk.CheckTimeZone(tz); err != nil {
					return err
				}
			}
			s, err := inv.openStore(ctx)
			if err != nil {
				return err
			}
			var o *helpdesk.Org
			err = s.WithTx(ctx, func(tx *sqlx.Tx) error {
				var err error
				if o, err = helpdesk.CreateOrg(ctx, tx, helpdesk.NewOrg{Name: inv.args[0], Plan: plan, Domains: domains}); err != nil || tz == "" {
					return err
				}
				return helpdesk.SetOrgTimeZone(ctx, tx, o.ID, tz)
			})
			if err != nil {
				return err
			}
			return inv.print(o, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "added org %q (id %d, plan %s, domains %s)\n", o.Name, o.ID, o.Plan, strings.Join(o.Domains, ", "))
				return err
			})
		},
	}
}

func orgsListCommand() *command {
	return &command{
		Name: "list", Usage: "list the orgs", JSON: true,
		Run: func(ctx context.Context, inv *invocation) error {
			s, err := inv.openStore(ctx)
			if err != nil {
				return err
			}
			orgs, err := helpdesk.ListOrgs(ctx, s.DB())
			if err != nil {
				return err
			}
			return inv.print(orgs, func(w io.Writer) error {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tNAME\tPLAN\tDOMAINS")
				for _, o := range orgs {
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", o.ID, o.Name, o.Plan, strings.Join(o.Domains, ","))
				}
				return tw.Flush()
			})
		},
	}
}

func usersAddCommand() *command {
	var nu helpdesk.NewUser
	var also listFlag
	var tz string
	return &command{
		Name: "add", Args: "EMAIL", Usage: "add a user", JSON: true,
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&nu.Name, "name", "", "display name")
			fs.StringVar(&nu.Role, "role", "customer", "customer, contact, reseller, agent or manager")
			fs.StringVar(&nu.Org, "org", "", "org `NAME` (required except for customers)")
			fs.StringVar(&nu.Locale, "locale", "", "en or ko (default en)")
			fs.Var(&also, "address", "another address the user writes from (repeatable)")
			fs.StringVar(&tz, "timezone", "", "IANA `ZONE` of the times in the user's mail, e.g. Asia/Seoul (default: the org's, else HELPDESK_TIMEZONE)")
		},
		Run: func(ctx context.Context, inv *invocation) error {
			if tz != "" {
				if err := helpdesk.CheckTimeZone(tz); err != nil {
					return err
				}
			}
			s, err := inv.openStore(ctx)
			if err != nil {
				return err
			}
			nu.Email = inv.args[0]
			var u *helpdesk.User
			err = s.WithTx(ctx, func(tx *sqlx.Tx) error {
				var err error
				if u, err = helpdesk.CreateUser(ctx, tx, nu); err != nil {
					return err
				}
				if tz != "" {
					if err := helpdesk.SetUserTimeZone(ctx, tx, u.ID, tz); err != nil {
						return err
					}
					u.TimeZone = tz
				}
				for _, a := range also {
					if err := helpdesk.AddUserAddress(ctx, tx, u.ID, a); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
			return inv.print(u, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "added %s %s (id %d)\n", u.Role, u.LoginEmail, u.ID)
				return err
			})
		},
	}
}

func usersListCommand() *command {
	return &command{
		Name: "list", Usage: "list the users", JSON: true,
		Run: func(ctx context.Context, inv *invocation) error {
			s, err := inv.openStore(ctx)
			if err != nil {
				return err
			}
			users, err := helpdesk.ListUsers(ctx, s.DB())
			if err != nil {
				return err
			}
			return inv.print(users, func(w io.Writer) error {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tEMAIL\tNAME\tROLE\tORG\tLOCALE")
				for _, u := range users {
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", u.ID, u.LoginEmail, u.Name, u.Role, deref(u.OrgName), u.Locale)
				}
				return tw.Flush()
			})
		},
	}
}

// grantCommand is `grants add` or `grants revoke`.
func grantCommand(name string) *command {
	var customer, reseller string
	usage, done, change := "let a reseller act on a customer org's cases", "may now", helpdesk.AddGrant
	if name == "revoke" {
		usage, done, change = "end a reseller's grant", "may no longer", helpdesk.RevokeGrant
	}
	return &command{
		Name: name, Usage: usage, JSON: true,
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&customer, "customer", "", "customer org `NAME`")
			fs.StringVar(&reseller, "reseller", "", "reseller org `NAME`")
		},
		Run: func(ctx context.Context, inv *invocation) error {
			if customer == "" || reseller == "" {
				return usagef("--customer and --reseller are required")
			}
			s, err := inv.openStore(ctx)
			if err != nil {
				return err
			}
			if err := change(ctx, s.DB(), customer, reseller); err != nil {
				return err
			}
			out := struct {
				Customer string `json:"customer"`
				Reseller string `json:"reseller"`
				Active   bool   `json:"active"`
			}{customer, reseller, name == "add"}
			return inv.print(out, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "%s %s act on %s's cases\n", reseller, done, customer)
				return err
			})
		},
	}
}

func grantsListCommand() *command {
	return &command{
		Name: "list", Usage: "list the grants, revoked ones included", JSON: true,
		Run: func(ctx context.Context, inv *invocation) error {
			s, err := inv.openStore(ctx)
			if err != nil {
				return err
			}
			gs, err := helpdesk.ListGrants(ctx, s.DB())
			if err != nil {
				return err
			}
			return inv.print(gs, func(w io.Writer) error {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "CUSTOMER\tRESELLER\tGRANTED\tREVOKED")
				for _, g := range gs {
					revoked := "-"
					if g.RevokedAt != nil {
						revoked = stamp(*g.RevokedAt)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", g.Customer, g.Reseller, stamp(g.GrantedAt), revoked)
				}
				return tw.Flush()
			})
		},
	}
}

func casesListCommand() *command {
	var f helpdesk.CaseFilter
	return &command{
		Name: "list", Usage: "list cases, most recent activity first", JSON: true,
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&f.Status, "status", "", "open, pending, on_hold, solved or closed")
			fs.StringVar(&f.Org, "org", "", "org `NAME`")
			fs.StringVar(&f.Search, "search", "", "text in the subject or the comments")
			fs.StringVar(&f.Submitter, "submitter", "", "cases submitted by the user with this `EMAIL`")
			fs.StringVar(&f.Assignee, "assignee", "", "cases assigned to the user with this `EMAIL`; none: unassigned")
			fs.IntVar(&f.Limit, "limit", 100, "at most this many cases")
		},
		Run: func(ctx context.Context, inv *invocation) error {
			s, err := inv.openStore(ctx)
			if err != nil {
				return err
			}
			cs, err := helpdesk.ListCases(ctx, s.DB(), f)
			if err != nil {
				return err
			}
			return inv.print(cs, func(w io.Writer) error {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tSUBJECT\tSTATUS\tSEV\tORG\tSUBMITTER\tCREATED\tLAST ACTIVITY")
				for _, c := range cs {
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, truncate(c.Subject, 48), c.Status, c.Severity,
						c.Org, c.Submitter, stamp(c.CreatedAt), stamp(c.LastActivityAt))
				}
				return tw.Flush()
			})
		},
	}
}

func casesShowCommand() *command {
	return &command{
		Name: "show", Args: "CASE-ID", Usage: "show a case with its comments, events and messages", JSON: true,
		Run: func(ctx context.Context, inv *invocation) error {
			ids, err := caseIDs(inv.args)
			if err != nil {
				return err
			}
			s, err := inv.openStore(ctx)
			if err != nil {
				return err
			}
			d, err := helpdesk.GetCaseDetail(ctx, s.DB(), ids[0])
			if err != nil {
				return err
			}
			ps, err := helpdesk.CaseParticipants(ctx, s.DB(), ids[0])
			if err != nil {
				return err
			}
			out := struct {
				*helpdesk.CaseDetail
				Participants []helpdesk.Participant `json:"participants"`
			}{d, ps}
			return inv.print(out, func(w io.Writer) error { writeCaseDetail(w, d); writeParticipants(w, ps); return nil })
		},
	}
}

// caseIDs parses case IDs, written 42 or #42.
func caseIDs(args []string) ([]int64, error) {
	ids := make([]int64, len(args))
	for i, a := range args {
		id, err := strconv.ParseInt(strings.TrimPrefix(a, "#"), 10, 64)
		if err != nil || id <= 0 {
			return nil, usagef("case ID %q is not a number", a)
		}
		ids[i] = id
	}
	return ids, nil
}

func writeCaseDetail(w io.Writer, d *helpdesk.CaseDetail) {
	fmt.Fprintf(w, "Case #%d: %s\n", d.ID, d.Subject)
	fmt.Fprintf(w, "  status %s, severity %s, org %s\n", d.Status, d.Severity, orDash(d.Org))
	fmt.Fprintf(w, "  submitter %s, assignee %s\n", d.Submitter, orDash(deref(d.Assignee)))
	fmt.Fprintf(w, "  created %s, last activity %s\n", stamp(d.CreatedAt), stamp(d.LastActivityAt))
	if d.FollowUpOf != nil {
		fmt.Fprintf(w, "  follow-up of #%d\n", *d.FollowUpOf)
	}
	if d.MergedInto != nil {
		fmt.Fprintf(w, "  merged into #%d\n", *d.MergedInto)
	}
	fmt.Fprintf(w, "\nComments (%d)\n", len(d.Comments))
	for _, c := range d.Comments {
		vis := "public"
		switch {
		case c.Internal, !c.Public && !c.Held:
			vis = "internal note"
		case c.Held:
			vis = "held for review"
		}
		fmt.Fprintf(w, "--- %s, %s, %s\n", orDash(deref(c.Author)), stamp(c.CreatedAt), vis)
		fmt.Fprintln(w, strings.TrimRight(c.Body, "\n"))
		for _, a := range c.Attachments {
			fmt.Fprintf(w, "  [attachment] %s (%s, %d bytes)\n", a.Filename, a.ContentType, a.Size)
		}
	}
	fmt.Fprintf(w, "\nEvents (%d)\n", len(d.Events))
	for _, ev := range d.Events {
		fmt.Fprintf(w, "  %s  %-10s %s", stamp(ev.CreatedAt), ev.Kind, orDash(deref(ev.Actor)))
		if ev.From != "" || ev.To != "" {
			fmt.Fprintf(w, "  %s -> %s", orDash(ev.From), orDash(ev.To))
		}
		if ev.Reason != "" {
			fmt.Fprintf(w, "  (%s)", ev.Reason)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "\nMessages (%d)\n", len(d.Messages))
	for _, m := range d.Messages {
		fmt.Fprintf(w, "  %s  %-3s %-10s %-9s <%s>\n", stamp(m.CreatedAt), m.Direction, m.Class, m.Decision, m.MessageID)
	}
}

// writeParticipants lists the people on a case besides its submitter.
func writeParticipants(w io.Writer, ps []helpdesk.Participant) {
	fmt.Fprintf(w, "\nParticipants (%d)\n", len(ps))
	for _, p := range ps {
		fmt.Fprintf(w, "  %s  %-11s %s", stamp(p.CreatedAt), p.Role, p.Email)
		if p.Address != "" && p.Address != p.Email {
			fmt.Fprintf(w, " (as %s)", p.Address)
		}
		if p.Reason != "" {
			fmt.Fprintf(w, "  (%s)", p.Reason)
		}
		fmt.Fprintln(w)
	}
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04") }

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func casesSetCommand() *command {
	var ch helpdesk.CaseChange
	return caseChangeCommand(&command{
		Name: "set", Args: "CASE-ID", Usage: "change a case's status, severity or assignee",
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&ch.Status, "status", "", "open, pending, on_hold or solved")
			fs.StringVar(&ch.Severity, "severity", "", "S1, S2, S3 or S4")
			fs.StringVar(&ch.Assign, "assign", "", "login email of the agent to assign")
		},
	}, &ch, func([]int64) error {
		if ch == (helpdesk.CaseChange{}) {
			return usagef("nothing to change: give --status, --severity or --assign")
		}
		return nil
	})
}

func casesMergeCommand() *command {
	var ch helpdesk.CaseChange
	return caseChangeCommand(&command{
		Name: "merge", Args: "CASE-ID INTO-CASE-ID", Usage: "solve a case and merge it into another",
		Help: "Later mail for the merged case lands on the case it was merged into.",
	}, &ch, func(ids []int64) error {
		ch.Merge = ids[1]
		return nil
	})
}

func casesEscalateCommand() *command {
	var ch helpdesk.CaseChange
	return caseChangeCommand(&command{
		Name: "escalate", Args: "CASE-ID", Usage: "escalate a case to the duty manager",
		Flags: func(fs *flag.FlagSet) { fs.StringVar(&ch.Escalate, "reason", "", "why (required)") },
	}, &ch, func([]int64) error {
		if strings.TrimSpace(ch.Escalate) == "" {
			return usagef("--reason is required")
		}
		return nil
	})
}

// caseChangeCommand completes c, a `cases set|merge|escalate` that changes
// *ch once check has vetted the IDs: the same rules, events and
// notifications as agents' #commands.
func caseChangeCommand(c *command, ch *helpdesk.CaseChange, check func(ids []int64) error) *command {
	var as string
	bind := c.Flags
	c.JSON = true
	c.Flags = func(fs *flag.FlagSet) {
		if bind != nil {
			bind(fs)
		}
		fs.StringVar(&as, "as", "", "the agent or manager acting (login email); default: the system")
	}
	c.Run = func(ctx context.Context, inv *invocation) error {
		ids, err := caseIDs(inv.args)
		if err != nil {
			return err
		}
		if err := check(ids); err != nil {
			return err
		}
		return changeCase(ctx, inv, ids[0], *ch, as)
	}
	return c
}

func changeCase(ctx context.Context, inv *invocation, id int64, ch helpdesk.CaseChange, as string) error {
	_, lc, _, err := inv.domain(ctx, (*config.Config).RequireNotify)
	if err != nil {
		return err
	}
	var actor *helpdesk.User
	if as != "" {
		if actor, err = helpdesk.UserByAddress(ctx, inv.store.DB(), as); err != nil {
			return err
		}
		if !helpdesk.IsStaff(actor.Role) {
			return fmt.Errorf("%w: %s is not an agent or manager", helpdesk.ErrInvalid, actor.LoginEmail)
		}
	}
	results, err := lc.Change(ctx, id, ch, actor, time.Now())
	if err != nil {
		return err
	}
	type result struct {
		Command string `json:"command"`
		Applied bool   `json:"applied"`
		Detail  string `json:"detail"`
	}
	out := []result{}
	rejected := 0
	for _, r := range results {
		out = append(out, result{r.Command.Line, r.Applied, r.Detail})
		if !r.Applied {
			rejected++
		}
	}
	err = inv.print(out, func(w io.Writer) error {
		for _, r := range out {
			mark := "applied"
			if !r.Applied {
				mark = "rejected"
			}
			fmt.Fprintf(w, "%-9s %s: %s\n", mark, r.Command, r.Detail)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if rejected > 0 {
		return fmt.Errorf("%d of %d changes rejected", rejected, len(out))
	}
	return nil
}

// tickCommand runs one pass of the timers as of --now (default: now).
func tickCommand() *command {
	var at string
	return &command{
		Name: "tick", Usage: "run the case timers once (--now TIME for a given time)",
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&at, "now", "", "the time to run as of, RFC 3339 (default: now)")
		},
		Run: func(ctx context.Context, inv *invocation) error {
			now := time.Now()
			if at != "" {
				t, err := time.Parse(time.RFC3339, at)
				if err != nil {
					return usagef("--now %q: want RFC 3339, e.g. 2026-12-01T09:00:00Z", at)
				}
				now = t
			}
			_, lc, log, err := inv.domain(ctx, (*config.Config).RequireNotify)
			if err != nil {
				return err
			}
			n, ran, err := helpdesk.NewScheduler(inv.store, 0, lc.Pass, func() time.Time { return now }, log).Once(ctx)
			if err != nil {
				return err
			}
			if !ran {
				return errors.New("another daemon is running the timers right now; try again")
			}
			fmt.Fprintf(inv.stdout, "timers as of %s: %d case(s) changed\n", now.UTC().Format(time.RFC3339), n)
			return nil
		},
	}
}
