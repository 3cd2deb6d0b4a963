package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/helpdesk/helpdesk/cmd/helpdeskd/internal/config"
	"github.com/helpdesk/helpdesk/helpdesk"
)

// heldCommand is `held list|release|discard`: what an operator does with
// mail held for review or refused.
func heldCommand() *command {
	return &command{Name: "held", Usage: "list, release or discard mail held for review or refused", Children: []*command{
		heldListCommand(), heldReleaseCommand(), heldDiscardCommand()}}
}

func heldListCommand() *command {
	return &command{
		Name: "list", Usage: "list held and refused mail no operator has released or discarded, oldest first", JSON: true,
		Run: func(ctx context.Context, inv *invocation) error {
			s, err := inv.openStore(ctx)
			if err != nil {
				return err
			}
			hs, err := helpdesk.ListHeld(ctx, s.DB())
			if err != nil {
				return err
			}
			return inv.print(hs, func(w io.Writer) error {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tRECEIVED\tDECISION\tCASE\tFROM\tSUBJECT\tWHY")
				for _, h := range hs {
					c := "-"
					if h.CaseID != nil {
						c = "#" + strconv.FormatInt(*h.CaseID, 10)
					}
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", h.ID, stamp(h.ReceivedAt), h.Decision, c, h.From, truncate(h.Subject, 40),
						truncate(orDash(h.Access), 80))
				}
				return tw.Flush()
			})
		},
	}
}

// heldOperator loads the --as operator: an agent or manager; nil for none.
func heldOperator(ctx context.Context, q helpdesk.Queryer, as string) (*helpdesk.User, error) {
	if as == "" {
		return nil, nil
	}
	u, err := helpdesk.UserByAddress(ctx, q, as)
	if err != nil {
		return nil, err
	}
	if !helpdesk.IsStaff(u.Role) {
		return nil, fmt.Errorf("%w: %s is not an agent or manager", helpdesk.ErrInvalid, u.LoginEmail)
	}
	return u, nil
}

func heldID(arg string) (int64, error) {
	id, err := strconv.ParseInt(arg, 10, 64)
	if err != nil || id <= 0 {
		return 0, usagef("held message ID %q is not a number (see `held list`)", arg)
	}
	return id, nil
}

func heldReleaseCommand() *command {
	var asNew bool
	var as string
	return &command{
		Name: "release", Args: "ID", Usage: "append a held mail to its case as its sender's public comment, or open a case for it", JSON: true,
		Help: `Appends the mail to the case it was held on as a public comment from its
sender, as if the sender were allowed (the sender becomes a participant;
the case reopens and agents are told as for any reply). --as-new-case opens
a new case for the sender instead (the only way for refused mail). A mail
is released or discarded once.`,
		Flags: func(fs *flag.FlagSet) {
			fs.BoolVar(&asNew, "as-new-case", false, "open a new case for the sender instead")
			fs.StringVar(&as, "as", "", "the agent or manager acting (login email); default: the system")
		},
		Run: func(ctx context.Context, inv *invocation) error {
			id, err := heldID(inv.args[0])
			if err != nil {
				return err
			}
			g, _, _, err := inv.domain(ctx, (*config.Config).RequireNotify)
			if err != nil {
				return err
			}
			op, err := heldOperator(ctx, inv.store.DB(), as)
			if err != nil {
				return err
			}
			res, err := g.Release(ctx, id, asNew, op)
			if err != nil {
				return err
			}
			return inv.print(res, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "message %d <%s>: %s on case #%d (%s)\n", id, res.MessageID, res.Decision, res.CaseID, res.Reason)
				return err
			})
		},
	}
}

func heldDiscardCommand() *command {
	var as, reason string
	return &command{
		Name: "discard", Args: "ID", Usage: "discard a held mail: kept for audit, no longer listed", JSON: true,
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&as, "as", "", "the agent or manager acting (login email); default: the system")
			fs.StringVar(&reason, "reason", "", "why, for the case's audit log")
		},
		Run: func(ctx context.Context, inv *invocation) error {
			id, err := heldID(inv.args[0])
			if err != nil {
				return err
			}
			s, err := inv.openStore(ctx)
			if err != nil {
				return err
			}
			op, err := heldOperator(ctx, s.DB(), as)
			if err != nil {
				return err
			}
			if err := helpdesk.DiscardHeld(ctx, s, id, op, reason, time.Now()); err != nil {
				return err
			}
			out := struct {
				ID       int64  `json:"id"`
				Discard  bool   `json:"discarded"`
				Operator string `json:"operator,omitempty"`
			}{id, true, as}
			return inv.print(out, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "message %d discarded\n", id)
				return err
			})
		},
	}
}
