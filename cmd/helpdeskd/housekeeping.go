package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/helpdesk/helpdesk/helpdesk"
)

// Operator housekeeping: users set, users addresses, orgs set, suppressions.

// optString is a string flag that records whether it was given, into *dst.
type optString struct{ dst **string }

func (o *optString) String() string {
	if o == nil || o.dst == nil || *o.dst == nil {
		return ""
	}
	return **o.dst
}

func (o *optString) Set(v string) error { *o.dst = &v; return nil }

// optBool is a boolean flag that records whether it was given, into *dst.
type optBool struct{ dst **bool }

func (o *optBool) String() string {
	if o == nil || o.dst == nil || *o.dst == nil {
		return "false"
	}
	return strconv.FormatBool(**o.dst)
}

func (o *optBool) Set(v string) error {
	b, err := strconv.ParseBool(v)
	if err != nil {
		return err
	}
	*o.dst = &b
	return nil
}

func (o *optBool) IsBoolFlag() bool { return true }

func usersSetCommand() *command {
	var ch helpdesk.UserChange
	return &command{
		Name: "set", Args: "EMAIL", Usage: "change a user's name, role, org, locale or whether they are disabled", JSON: true,
		Help: `Only the flags given change; the rules of ` + "`users add`" + ` apply (an org is
required except for customers; --org "" removes it). A disabled user keeps
the cases assigned to them (reassign them with ` + "`cases set --assign`" + `) but
may no longer write to any case or be assigned one; the notices of their
cases go to the agent address.`,
		Flags: func(fs *flag.FlagSet) {
			ch = helpdesk.UserChange{}
			fs.Var(&optString{&ch.Name}, "name", "display `NAME`")
			fs.Var(&optString{&ch.Role}, "role", "customer, contact, reseller, agent or manager")
			fs.Var(&optString{&ch.Org}, "org", "org `NAME` (\"\": none, customers only)")
			fs.Var(&optString{&ch.Locale}, "locale", "en or ko")
			fs.Var(&optString{&ch.TimeZone}, "timezone", "IANA time `ZONE` of the user's mail, e.g. Asia/Seoul (\"\": the org's)")
			fs.Var(&optBool{&ch.Disabled}, "disabled", "disable the user (--disabled=false enables)")
		},
		Run: func(ctx context.Context, inv *invocation) error {
			if ch.IsZero() {
				return usagef("nothing to change: give --name, --role, --org, --locale, --timezone or --disabled")
			}
			s, err := inv.openStore(ctx)
			if err != nil {
				return err
			}
			var u *helpdesk.User
			err = s.WithTx(ctx, func(tx *sqlx.Tx) error {
				var err error
				u, err = helpdesk.UpdateUser(ctx, tx, inv.args[0], ch)
				return err
			})
			if err != nil {
				return err
			}
			return inv.print(u, func(w io.Writer) error {
				state := "active"
				if !u.Active {
					state = "disabled"
				}
				_, err := fmt.Fprintf(w, "updated %s (id %d): %s, name %q, org %s, locale %s, %s\n",
					u.LoginEmail, u.ID, u.Role, u.Name, orDash(deref(u.OrgName)), u.Locale, state)
				return err
			})
		},
	}
}

// usersAddressesCommand is `users addresses add|remove|list`.
func usersAddressesCommand() *command {
	change := func(name, usage string) *command {
		return &command{
			Name: name, Args: "EMAIL ADDRESS", Usage: usage, JSON: true,
			Run: func(ctx context.Context, inv *invocation) error {
				s, err := inv.openStore(ctx)
				if err != nil {
					return err
				}
				var u *helpdesk.User
				var as []helpdesk.UserAddress
				done := "removed"
				err = s.WithTx(ctx, func(tx *sqlx.Tx) error {
					var err error
					if u, err = helpdesk.UserByAddress(ctx, tx, inv.args[0]); err != nil {
						return err
					}
					if name == "add" {
						added, err := helpdesk.AddSecondAddress(ctx, tx, u, inv.args[1])
						if err != nil {
							return err
						}
						done = map[bool]string{true: "added", false: "already had"}[added]
					} else if err := helpdesk.RemoveSecondAddress(ctx, tx, u, inv.args[1]); err != nil {
						return err
					}
					as, err = helpdesk.SecondAddresses(ctx, tx, u)
					return err
				})
				if err != nil {
					return err
				}
				return inv.print(as, func(w io.Writer) error {
					addr, _ := helpdesk.CanonicalAddress(inv.args[1])
					_, err := fmt.Fprintf(w, "%s %s %s (%d second address(es))\n", u.LoginEmail, done, addr, len(as))
					return err
				})
			},
		}
	}
	list := &command{
		Name: "list", Args: "EMAIL", Usage: "list a user's second addresses", JSON: true,
		Run: func(ctx context.Context, inv *invocation) error {
			s, err := inv.openStore(ctx)
			if err != nil {
				return err
			}
			u, err := helpdesk.UserByAddress(ctx, s.DB(), inv.args[0])
			if err != nil {
				return err
			}
			as, err := helpdesk.SecondAddresses(ctx, s.DB(), u)
			if err != nil {
				return err
			}
			return inv.print(as, func(w io.Writer) error {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ADDRESS\tVERIFIED\tADDED")
				for _, a := range as {
					verified := "-"
					if a.VerifiedAt != nil {
						verified = stamp(*a.VerifiedAt)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\n", a.Address, verified, stamp(a.CreatedAt))
				}
				return tw.Flush()
			})
		},
	}
	return &command{
		Name: "addresses", Usage: "a user's verified second addresses (they identify the user, never receive mail)",
		Children: []*command{
			change("add", "add a verified second address (refused if it is another user's)"),
			change("remove", "remove a second address"),
			list,
		},
	}
}

func orgsSetCommand() *command {
	var ch helpdesk.OrgChange
	var add, remove listFlag
	return &command{
		Name: "set", Args: "NAME", Usage: "change an org's plan or mail domains", JSON: true,
		Help: "Domains are removed before they are added; a domain of another org is refused.",
		Flags: func(fs *flag.FlagSet) {
			ch, add, remove = helpdesk.OrgChange{}, nil, nil
			fs.StringVar(&ch.Plan, "plan", "", "support plan: basic, advanced or premium")
			fs.Var(&optString{&ch.TimeZone}, "timezone", "IANA time `ZONE` for customers without their own, e.g. Asia/Seoul (\"\": none)")
			fs.Var(&add, "domain", "add a mail `DOMAIN` (repeatable)")
			fs.Var(&remove, "remove-domain", "remove a mail `DOMAIN` (repeatable)")
		},
		Run: func(ctx context.Context, inv *invocation) error {
			if ch.Plan == "" && ch.TimeZone == nil && len(add) == 0 && len(remove) == 0 {
				return usagef("nothing to change: give --plan, --timezone, --domain or --remove-domain")
			}
			ch.AddDomains, ch.RemoveDomains = add, remove
			s, err := inv.openStore(ctx)
			if err != nil {
				return err
			}
			var o *helpdesk.Org
			err = s.WithTx(ctx, func(tx *sqlx.Tx) error {
				var err error
				o, err = helpdesk.UpdateOrg(ctx, tx, inv.args[0], ch)
				return err
			})
			if err != nil {
				return err
			}
			return inv.print(o, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "updated org %q (id %d): plan %s, domains %s\n", o.Name, o.ID, o.Plan, orDash(strings.Join(o.Domains, ", ")))
				return err
			})
		},
	}
}

// suppressionsCommand is `suppressions list|remove`.
func suppressionsCommand() *command {
	list := &command{
		Name: "list", Usage: "list suppressed addresses, newest first", JSON: true,
		Run: func(ctx context.Context, inv *invocation) error {
			s, err := inv.openStore(ctx)
			if err != nil {
				return err
			}
			ss, err := helpdesk.ListSuppressions(ctx, s.DB(), time.Now())
			if err != nil {
				return err
			}
			return inv.print(ss, func(w io.Writer) error {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ADDRESS\tSTATUS\tSINCE\tUNTIL\tCASE\tREASON")
				for _, x := range ss {
					until := stamp(x.Until)
					if !x.Active {
						until += " (expired)"
					}
					c := "-"
					if x.CaseID != nil {
						c = fmt.Sprintf("#%d", *x.CaseID)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", x.Address, orDash(x.StatusCode), stamp(x.CreatedAt), until, c,
						truncate(strings.Join(strings.Fields(x.Reason), " "), 60))
				}
				return tw.Flush()
			})
		},
	}
	remove := &command{
		Name: "remove", Args: "ADDRESS", Usage: "mail an address again", JSON: true,
		Run: func(ctx context.Context, inv *invocation) error {
			s, err := inv.openStore(ctx)
			if err != nil {
				return err
			}
			if err := helpdesk.RemoveSuppression(ctx, s.DB(), inv.args[0]); err != nil {
				return err
			}
			addr, _ := helpdesk.CanonicalAddress(inv.args[0])
			out := struct {
				Address string `json:"address"`
				Removed bool   `json:"removed"`
			}{addr, true}
			return inv.print(out, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "%s is no longer suppressed\n", addr)
				return err
			})
		},
	}
	return &command{Name: "suppressions", Usage: "addresses not mailed after a permanent delivery failure",
		Children: []*command{list, remove}}
}
