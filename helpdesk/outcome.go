package helpdesk

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/helpdesk/helpdesk/helpdesk/lifecycle"
)

// carryOut persists what lifecycle decided for case id outside ingest (the
// timers, the CLI), through the same gather → decide → render → apply path
// as mail: the resolved assignment and merge (rejecting what cannot be
// done), the case's new state, audit entries and notices, in the caller's
// transaction.
func carryOut(ctx context.Context, q Queryer, n *Notifier, id int64, before lifecycle.Case, out *lifecycle.Outcome, x effects) error {
	k := gatherKeys{addrs: set{}, caseIDs: map[int64]bool{id: true}}
	if out.Assign != "" {
		k.addrs.add(strings.ToLower(out.Assign))
	}
	if out.MergeInto != 0 {
		k.caseIDs[out.MergeInto] = true
	}
	if n != nil {
		k.addrs.add(strings.ToLower(n.cfg.AgentAddress))
		k.addrs.add(strings.ToLower(n.cfg.ManagerAddress))
	}
	cfg := &IngestConfig{Policy: x.policy}
	w, err := gather(ctx, q, k, cfg, x.now)
	if err != nil {
		return err
	}
	c := w.cases[id]
	if c == nil {
		return ErrNotFound
	}
	pl := &plan{}
	d := &decider{w: w, cfg: cfg, n: n, plan: pl, now: x.now}
	if x.actor != nil {
		if u := w.usersByID[x.actor.ID]; u != nil {
			x.actor = u
		} else {
			cp := *x.actor
			w.usersByID[cp.ID], x.actor = &cp, &cp
		}
	}
	d.carryOut(c, before, out, x)
	if err := reserveIDs(ctx, q, pl, nil, w, n); err != nil {
		return err
	}
	mails, err := renderNotices(ctx, q, n, pl.notices, pl.fix)
	if err != nil {
		return err
	}
	return applyPlan(ctx, q, pl, nil, mails, cfg, n)
}

// checkMerges takes out the #merge commands whose target cannot take a
// merge (see decider.checkMerges), for commands given outside mail.
func checkMerges(ctx context.Context, q Queryer, id int64, cmds []lifecycle.Command) ([]lifecycle.Command, []lifecycle.CommandResult, error) {
	k := gatherKeys{caseIDs: map[int64]bool{id: true}}
	for _, c := range cmds {
		if c.Name != lifecycle.CmdMerge {
			continue
		}
		if n, err := strconv.ParseInt(strings.TrimPrefix(strings.TrimSpace(c.Arg), "#"), 10, 64); err == nil && n > 0 {
			k.caseIDs[n] = true
		}
	}
	w, err := gather(ctx, q, k, &IngestConfig{}, time.Now())
	if err != nil {
		return nil, nil, err
	}
	d := &decider{w: w, plan: &plan{}}
	keep, rejected := d.checkMerges(w.cases[id], cmds)
	return keep, rejected, nil
}
