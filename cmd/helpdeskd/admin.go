package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/helpdesk/helpdesk/helpdesk"
	"github.com/helpdesk/helpdesk/migrations"
)

// openStore connects to the configured database and checks that its schema
// is the one this binary expects.
func (e *env) openStore(ctx context.Context) (*helpdesk.Store, error) {
	c, err := e.config()
	if err != nil {
		return nil, err
	}
	if err := c.RequireDatabase(); err != nil {
		return nil, err
	}
	s, err := helpdesk.Open(ctx, c.DatabaseURL)
	if err != nil {
		return nil, err
	}
	cur, latest, err := migrations.Status(ctx, s.DB().DB)
	if err != nil {
		s.Close()
		return nil, err
	}
	if cur != latest {
		s.Close()
		if cur > latest {
			return nil, fmt.Errorf("database schema is at version %d, newer than this binary (%d): upgrade helpdeskd", cur, latest)
		}
		return nil, fmt.Errorf("database schema is at version %d, this binary needs %d: run `helpdeskd migrate`", cur, latest)
	}
	return s, nil
}

func cmdMigrate(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	c, err := e.config()
	if err != nil {
		return err
	}
	if err := c.RequireDatabase(); err != nil {
		return err
	}
	s, err := helpdesk.Open(ctx, c.DatabaseURL)
	if err != nil {
		return err
	}
	defer s.Close()
	applied, err := migrations.Up(ctx, s.DB().DB)
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintf(e.stdout, "schema is current (version %d)\n", migrations.Latest())
		return nil
	}
	for _, v := range applied {
		fmt.Fprintf(e.stdout, "applied migration %04d\n", v)
	}
	fmt.Fprintf(e.stdout, "schema is at version %d\n", migrations.Latest())
	return nil
}

func cmdConfig(_ context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("config", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	c, err := e.config()
	if err != nil {
		return err
	}
	entries := c.Redacted()
	if *asJSON {
		return writeJSON(e.stdout, entries)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	for _, en := range entries {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", en.Key, en.Value, en.Env)
	}
	return tw.Flush()
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func subcommand(args []string, names ...string) (string, []string, error) {
	if len(args) == 0 {
		return "", nil, usagef("missing subcommand: %s", strings.Join(names, ", "))
	}
	for _, n := range names {
		if args[0] == n {
			return n, args[1:], nil
		}
	}
	return "", nil, usagef("unknown subcommand %q (want %s)", args[0], strings.Join(names, ", "))
}

func cmdOrgs(ctx context.Context, e *env, args []string) error {
	sub, args, err := subcommand(args, "add", "list")
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("orgs "+sub, flag.ContinueOnError)
	var domains listFlag
	var plan *string
	asJSON := fs.Bool("json", false, "print JSON")
	if sub == "add" {
		fs.Var(&domains, "domain", "mail domain of the org (repeatable)")
		plan = fs.String("plan", "basic", "support plan: basic, advanced or premium")
	}
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	s, err := e.openStore(ctx)
	if err != nil {
		return err
	}
	defer s.Close()

	switch sub {
	case "add":
		if len(pos) != 1 {
			return usagef("want exactly one org NAME, got %d arguments", len(pos))
		}
		var o *helpdesk.Org
		err := s.WithTx(ctx, func(tx *sqlx.Tx) error {
			var err error
			o, err = helpdesk.CreateOrg(ctx, tx, helpdesk.NewOrg{Name: pos[0], Plan: *plan, Domains: domains})
			return err
		})
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(e.stdout, o)
		}
		fmt.Fprintf(e.stdout, "added org %q (id %d, plan %s, domains %s)\n", o.Name, o.ID, o.Plan, strings.Join(o.Domains, ", "))
		return nil
	default:
		if len(pos) != 0 {
			return usagef("unexpected arguments %q", pos)
		}
		orgs, err := helpdesk.ListOrgs(ctx, s.DB())
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(e.stdout, orgs)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tPLAN\tDOMAINS")
		for _, o := range orgs {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", o.ID, o.Name, o.Plan, strings.Join(o.Domains, ","))
		}
		return tw.Flush()
	}
}

func cmdUsers(ctx context.Context, e *env, args []string) error {
	sub, args, err := subcommand(args, "add", "list")
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("users "+sub, flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON")
	var name, role, org, locale *string
	var also listFlag
	if sub == "add" {
		name = fs.String("name", "", "display name")
		role = fs.String("role", "customer", "customer, contact, reseller, agent or manager")
		org = fs.String("org", "", "org NAME (required except for customers)")
		locale = fs.String("locale", "", "en or ko (default en)")
		fs.Var(&also, "address", "another address the user writes from (repeatable)")
	}
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	s, err := e.openStore(ctx)
	if err != nil {
		return err
	}
	defer s.Close()

	switch sub {
	case "add":
		if len(pos) != 1 {
			return usagef("want exactly one EMAIL, got %d arguments", len(pos))
		}
		var u *helpdesk.User
		err := s.WithTx(ctx, func(tx *sqlx.Tx) error {
			var err error
			u, err = helpdesk.CreateUser(ctx, tx, helpdesk.NewUser{Email: pos[0], Name: *name, Role: *role, Org: *org, Locale: *locale})
			if err != nil {
				return err
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
		if *asJSON {
			return writeJSON(e.stdout, u)
		}
		fmt.Fprintf(e.stdout, "added %s %s (id %d)\n", u.Role, u.LoginEmail, u.ID)
		return nil
	default:
		if len(pos) != 0 {
			return usagef("unexpected arguments %q", pos)
		}
		users, err := helpdesk.ListUsers(ctx, s.DB())
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(e.stdout, users)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tEMAIL\tNAME\tROLE\tORG\tLOCALE")
		for _, u := range users {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", u.ID, u.LoginEmail, u.Name, u.Role, deref(u.OrgName), u.Locale)
		}
		return tw.Flush()
	}
}

func cmdGrants(ctx context.Context, e *env, args []string) error {
	sub, args, err := subcommand(args, "add", "revoke", "list")
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("grants "+sub, flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON")
	var customer, reseller *string
	if sub != "list" {
		customer = fs.String("customer", "", "customer org NAME")
		reseller = fs.String("reseller", "", "reseller org NAME")
	}
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("unexpected arguments %q", pos)
	}
	if sub != "list" && (*customer == "" || *reseller == "") {
		return usagef("--customer and --reseller are required")
	}
	s, err := e.openStore(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	switch sub {
	case "add":
		if err := helpdesk.AddGrant(ctx, s.DB(), *customer, *reseller); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s may now act on %s's cases\n", *reseller, *customer)
		return nil
	case "revoke":
		if err := helpdesk.RevokeGrant(ctx, s.DB(), *customer, *reseller); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s may no longer act on %s's cases\n", *reseller, *customer)
		return nil
	default:
		gs, err := helpdesk.ListGrants(ctx, s.DB())
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(e.stdout, gs)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CUSTOMER\tRESELLER\tGRANTED\tREVOKED")
		for _, g := range gs {
			revoked := "-"
			if g.RevokedAt != nil {
				revoked = stamp(*g.RevokedAt)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", g.Customer, g.Reseller, stamp(g.GrantedAt), revoked)
		}
		return tw.Flush()
	}
}

func cmdCases(ctx context.Context, e *env, args []string) error {
	sub, args, err := subcommand(args, "list", "show", "set", "merge", "escalate")
	if err != nil {
		return err
	}
	if sub == "set" || sub == "merge" || sub == "escalate" {
		return cmdCaseChange(ctx, e, sub, args)
	}
	fs := flag.NewFlagSet("cases "+sub, flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON")
	var status, org, search *string
	var limit *int
	if sub == "list" {
		status = fs.String("status", "", "open, pending, on_hold, solved or closed")
		org = fs.String("org", "", "org NAME")
		search = fs.String("search", "", "text in the subject or the comments")
		limit = fs.Int("limit", 100, "at most this many cases")
	}
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	var id int64
	if sub == "show" {
		if len(pos) != 1 {
			return usagef("want exactly one case ID")
		}
		id, err = strconv.ParseInt(strings.TrimPrefix(pos[0], "#"), 10, 64)
		if err != nil || id <= 0 {
			return usagef("case ID %q is not a number", pos[0])
		}
	} else if len(pos) != 0 {
		return usagef("unexpected arguments %q", pos)
	}
	s, err := e.openStore(ctx)
	if err != nil {
		return err
	}
	defer s.Close()

	if sub == "list" {
		cs, err := helpdesk.ListCases(ctx, s.DB(), helpdesk.CaseFilter{Status: *status, Org: *org, Search: *search, Limit: *limit})
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(e.stdout, cs)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSUBJECT\tSTATUS\tSEV\tORG\tSUBMITTER\tCREATED\tLAST ACTIVITY")
		for _, c := range cs {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, truncate(c.Subject, 48), c.Status, c.Severity,
				c.Org, c.Submitter, stamp(c.CreatedAt), stamp(c.LastActivityAt))
		}
		return tw.Flush()
	}

	d, err := helpdesk.GetCaseDetail(ctx, s.DB(), id)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, d)
	}
	w := e.stdout
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
		if c.Held {
			vis = "held for review"
		} else if !c.Public {
			vis = "internal"
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
	return nil
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

// cmdCaseChange runs `cases set|merge|escalate`: the same rules, events and
// notifications as agents' #commands.
func cmdCaseChange(ctx context.Context, e *env, sub string, args []string) error {
	fs := flag.NewFlagSet("cases "+sub, flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON")
	as := fs.String("as", "", "the agent or manager acting (login email); default: the system")
	var ch helpdesk.CaseChange
	switch sub {
	case "set":
		fs.StringVar(&ch.Status, "status", "", "open, pending, on_hold or solved")
		fs.StringVar(&ch.Severity, "severity", "", "S1, S2, S3 or S4")
		fs.StringVar(&ch.Assign, "assign", "", "login email of the agent to assign")
	case "escalate":
		fs.StringVar(&ch.Escalate, "reason", "", "why (required)")
	}
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	want := 1
	if sub == "merge" {
		want = 2
	}
	if len(pos) != want {
		return usagef("want %d case ID(s), got %d", want, len(pos))
	}
	ids := make([]int64, len(pos))
	for i, p := range pos {
		if ids[i], err = strconv.ParseInt(strings.TrimPrefix(p, "#"), 10, 64); err != nil || ids[i] <= 0 {
			return usagef("case ID %q is not a number", p)
		}
	}
	switch {
	case sub == "merge":
		ch.Merge = ids[1]
	case sub == "escalate" && strings.TrimSpace(ch.Escalate) == "":
		return usagef("--reason is required")
	case sub == "set" && ch == (helpdesk.CaseChange{}):
		return usagef("nothing to change: give --status, --severity or --assign")
	}
	s, lc, _, err := e.openLifecycle(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	var actor *helpdesk.User
	if *as != "" {
		if actor, err = helpdesk.UserByAddress(ctx, s.DB(), *as); err != nil {
			return err
		}
		if !helpdesk.IsStaff(actor.Role) {
			return fmt.Errorf("%w: %s is not an agent or manager", helpdesk.ErrInvalid, actor.LoginEmail)
		}
	}
	results, err := lc.Change(ctx, ids[0], ch, actor, time.Now())
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
	if *asJSON {
		if err := writeJSON(e.stdout, out); err != nil {
			return err
		}
	} else {
		for _, r := range out {
			mark := "applied"
			if !r.Applied {
				mark = "rejected"
			}
			fmt.Fprintf(e.stdout, "%-9s %s: %s\n", mark, r.Command, r.Detail)
		}
	}
	if rejected > 0 {
		return fmt.Errorf("%d of %d changes rejected", rejected, len(out))
	}
	return nil
}

// cmdTick runs one pass of the timers as of --now (default: now).
func cmdTick(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("tick", flag.ContinueOnError)
	at := fs.String("now", "", "the time to run as of, RFC 3339 (default: now)")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	now := time.Now()
	if *at != "" {
		t, err := time.Parse(time.RFC3339, *at)
		if err != nil {
			return usagef("--now %q: want RFC 3339, e.g. 2026-12-01T09:00:00Z", *at)
		}
		now = t
	}
	s, lc, log, err := e.openLifecycle(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	n, ran, err := helpdesk.NewScheduler(s, 0, lc.Pass, func() time.Time { return now }, log).Once(ctx)
	if err != nil {
		return err
	}
	if !ran {
		return errors.New("another daemon is running the timers right now; try again")
	}
	fmt.Fprintf(e.stdout, "timers as of %s: %d case(s) changed\n", now.UTC().Format(time.RFC3339), n)
	return nil
}

// openLifecycle opens the store and builds the lifecycle for commands that
// change cases: they notify exactly as the daemon would.
func (e *env) openLifecycle(ctx context.Context) (*helpdesk.Store, *helpdesk.Lifecycle, *slog.Logger, error) {
	c, err := e.config()
	if err != nil {
		return nil, nil, nil, err
	}
	if err := c.RequireNotify(); err != nil {
		return nil, nil, nil, err
	}
	s, err := e.openStore(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	log := e.logger(c)
	_, lc, err := newDomain(c, s, log)
	if err != nil {
		s.Close()
		return nil, nil, nil, err
	}
	return s, lc, log, nil
}
