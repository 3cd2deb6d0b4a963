package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/helpdesk/helpdesk/cmd/helpdeskd/internal/config"
	"github.com/helpdesk/helpdesk/helpdesk"
	"github.com/helpdesk/helpdesk/threading"
)

// knownIssuesCommand is `helpdeskd known-issues add|update|resolve|link|list|show`.
func knownIssuesCommand() *command {
	return &command{Name: "known-issues", Usage: "problems many customers share: customers follow them by mail", Children: []*command{
		kiAddCommand(), kiUpdateCommand(), kiResolveCommand(), kiLinkCommand(), kiListCommand(), kiShowCommand()}}
}

// kiAddress fills each issue's follow address when the token secret is set.
func kiAddress(inv *invocation, issues ...*helpdesk.KnownIssue) {
	c, err := inv.config()
	if err != nil || c.TokenSecret == "" || c.SupportAddress == "" {
		return
	}
	tokens, err := threading.NewTokens(append([]string{c.TokenSecret}, c.OldSecrets...)...)
	if err != nil {
		return
	}
	for _, k := range issues {
		k.Address = helpdesk.KnownIssueAddress(tokens, c.SupportAddress, k.ID)
	}
}

func kiID(s string) (int64, error) {
	ids, err := caseIDs([]string{s})
	if err != nil {
		return 0, usagef("known issue id %q: want a number", s)
	}
	return ids[0], nil
}

func kiAddCommand() *command {
	var in helpdesk.NewKnownIssue
	return &command{
		Name: "add", Usage: "record a known issue and print the address customers follow it by", JSON: true,
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&in.Title, "title", "", "short title (required)")
			fs.StringVar(&in.Body, "body", "", "what customers see")
			fs.StringVar(&in.Product, "product", "", "the product concerned")
		},
		Run: func(ctx context.Context, inv *invocation) error {
			if strings.TrimSpace(in.Title) == "" {
				return usagef("--title is required")
			}
			s, err := inv.openStore(ctx)
			if err != nil {
				return err
			}
			k, err := helpdesk.AddKnownIssue(ctx, s.DB(), in, time.Now())
			if err != nil {
				return err
			}
			kiAddress(inv, k)
			return inv.print(k, func(w io.Writer) error {
				fmt.Fprintf(w, "known issue #%d: %s\n", k.ID, k.Title)
				if k.Address != "" {
					fmt.Fprintf(w, "customers follow it by mailing %s\n", k.Address)
				}
				return nil
			})
		},
	}
}

// kiTellCommand is update or resolve: text to every follower's linked case.
func kiTellCommand(name, usage, help string, tell func(*helpdesk.Lifecycle) func(context.Context, int64, string, time.Time) ([]int64, error)) *command {
	var body string
	return &command{
		Name: name, Args: "ID", Usage: usage, Help: help, JSON: true,
		Flags: func(fs *flag.FlagSet) { fs.StringVar(&body, "body", "", "the text followers receive (required)") },
		Run: func(ctx context.Context, inv *invocation) error {
			id, err := kiID(inv.args[0])
			if err != nil {
				return err
			}
			if strings.TrimSpace(body) == "" {
				return usagef("--body is required")
			}
			_, lc, _, err := inv.domain(ctx, (*config.Config).RequireNotify)
			if err != nil {
				return err
			}
			cases, err := tell(lc)(ctx, id, body, time.Now())
			if err != nil {
				return err
			}
			out := struct {
				ID    int64   `json:"id"`
				Cases []int64 `json:"cases"`
			}{id, append([]int64{}, cases...)}
			return inv.print(out, func(w io.Writer) error {
				fmt.Fprintf(w, "known issue #%d: %s sent on %d linked case(s)\n", id, name, len(cases))
				return nil
			})
		},
	}
}

func kiUpdateCommand() *command {
	return kiTellCommand("update", "tell every follower an update, as a comment on their linked case",
		"Each open case linked to the issue gets the text as a public comment from support, mailed to its submitter.",
		func(l *helpdesk.Lifecycle) func(context.Context, int64, string, time.Time) ([]int64, error) {
			return l.UpdateKnownIssue
		})
}

func kiResolveCommand() *command {
	return kiTellCommand("resolve", "resolve the issue: followers get the text and their linked cases are solved",
		"Each open case linked to the issue gets the text as a public comment from support and is solved, as by an agent's #status solved.",
		func(l *helpdesk.Lifecycle) func(context.Context, int64, string, time.Time) ([]int64, error) {
			return l.ResolveKnownIssue
		})
}

func kiLinkCommand() *command {
	var as string
	return &command{
		Name: "link", Args: "ID CASE-ID", Usage: "link a case to a known issue; its submitter follows the issue",
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&as, "as", "", "the agent or manager acting (login email); default: the system")
		},
		Run: func(ctx context.Context, inv *invocation) error {
			ids, err := caseIDs(inv.args)
			if err != nil {
				return err
			}
			s, err := inv.openStore(ctx)
			if err != nil {
				return err
			}
			var actor *helpdesk.User
			if as != "" {
				if actor, err = helpdesk.UserByAddress(ctx, s.DB(), as); err != nil {
					return err
				}
				if !helpdesk.IsStaff(actor.Role) {
					return fmt.Errorf("%w: %s is not an agent or manager", helpdesk.ErrInvalid, actor.LoginEmail)
				}
			}
			if err := helpdesk.LinkKnownIssue(ctx, s.DB(), ids[0], ids[1], actor, time.Now()); err != nil {
				return err
			}
			fmt.Fprintf(inv.stdout, "case #%d linked to known issue #%d\n", ids[1], ids[0])
			return nil
		},
	}
}

func kiListCommand() *command {
	return &command{
		Name: "list", Usage: "list known issues, open ones first", JSON: true,
		Run: func(ctx context.Context, inv *invocation) error {
			s, err := inv.openStore(ctx)
			if err != nil {
				return err
			}
			ks, err := helpdesk.ListKnownIssues(ctx, s.DB())
			if err != nil {
				return err
			}
			for i := range ks {
				kiAddress(inv, &ks[i])
			}
			if ks == nil {
				ks = []helpdesk.KnownIssue{}
			}
			return inv.print(ks, func(w io.Writer) error {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tSTATUS\tPRODUCT\tFOLLOWERS\tCREATED\tTITLE")
				for _, k := range ks {
					fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%s\n", k.ID, k.Status, k.Product, k.Subscribers, stamp(k.CreatedAt), k.Title)
				}
				return tw.Flush()
			})
		},
	}
}

func kiShowCommand() *command {
	return &command{
		Name: "show", Args: "ID", Usage: "show a known issue, its updates, linked cases and follow address", JSON: true,
		Run: func(ctx context.Context, inv *invocation) error {
			id, err := kiID(inv.args[0])
			if err != nil {
				return err
			}
			s, err := inv.openStore(ctx)
			if err != nil {
				return err
			}
			k, err := helpdesk.GetKnownIssue(ctx, s.DB(), id)
			if err != nil {
				return err
			}
			kiAddress(inv, k)
			return inv.print(k, func(w io.Writer) error {
				fmt.Fprintf(w, "Known issue #%d: %s\nStatus: %s", k.ID, k.Title, k.Status)
				if k.ResolvedAt != nil {
					fmt.Fprintf(w, " (%s)", stamp(*k.ResolvedAt))
				}
				fmt.Fprintf(w, "\nCreated: %s\n", stamp(k.CreatedAt))
				if k.Product != "" {
					fmt.Fprintf(w, "Product: %s\n", k.Product)
				}
				if k.Address != "" {
					fmt.Fprintf(w, "Follow address: %s\n", k.Address)
				}
				fmt.Fprintf(w, "Followers: %d\n", k.Subscribers)
				if len(k.Cases) > 0 {
					fmt.Fprintf(w, "Linked cases: %s\n", strings.Trim(strings.ReplaceAll(fmt.Sprint(k.Cases), " ", ", "), "[]"))
				}
				if k.Body != "" {
					fmt.Fprintf(w, "\n%s\n", k.Body)
				}
				for _, u := range k.Updates {
					fmt.Fprintf(w, "\n%s, %s:\n%s\n", u.Kind, stamp(u.CreatedAt), u.Body)
				}
				return nil
			})
		},
	}
}
