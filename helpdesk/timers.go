package helpdesk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/helpdesk/helpdesk/helpdesk/lifecycle"
	"github.com/helpdesk/helpdesk/templates"
)

// Lifecycle runs the case timers (reminders, auto-solve, closing after the
// reopen window, SLA warnings and breaches) and the operator's case actions.
// Each case is handled in its own transaction with its row locked, so passes
// on several daemons never apply a timer twice.
type Lifecycle struct {
	store *Store
	n     *Notifier
	p     lifecycle.Policy
	log   *slog.Logger
}

// NewLifecycle validates the policy; n may be nil (no notifications).
func NewLifecycle(s *Store, n *Notifier, p lifecycle.Policy, log *slog.Logger) (*Lifecycle, error) {
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("lifecycle policy: %w", err)
	}
	if log == nil {
		log = slog.Default()
	}
	return &Lifecycle{store: s, n: n, p: p, log: log.With("component", "lifecycle")}, nil
}

// Pass applies every timer due at now and returns how many cases changed.
func (l *Lifecycle) Pass(ctx context.Context, now time.Time) (int, error) {
	var ids []int64
	// Coarse candidates; lifecycle.Timers decides exactly.
	err := l.store.db.SelectContext(ctx, &ids, `SELECT id FROM cases
		WHERE status = 'pending'
		   OR (status = 'solved' AND solved_at <= $1)
		   OR (status IN ('open', 'pending', 'on_hold') AND first_response_at IS NULL AND sla_breached_at IS NULL
		       AND first_response_due_at IS NOT NULL AND first_response_due_at <= $2)
		ORDER BY id`, now.Add(-l.p.ReopenWindow), now.Add(14*24*time.Hour))
	if err != nil {
		return 0, fmt.Errorf("timer candidates: %w", mapErr(err))
	}
	if err := purgeRaw(ctx, l.store.db, now); err != nil {
		return 0, err
	}
	changed, err := l.surveys(ctx, now)
	if err != nil {
		return changed, err
	}
	for _, id := range ids {
		if ctx.Err() != nil {
			return changed, ctx.Err()
		}
		did, err := l.timers(ctx, id, now)
		if err != nil {
			return changed, fmt.Errorf("case %d: %w", id, err)
		}
		if did {
			changed++
		}
	}
	return changed, nil
}

func (l *Lifecycle) timers(ctx context.Context, id int64, now time.Time) (bool, error) {
	did := false
	err := l.store.WithTx(ctx, func(tx *sqlx.Tx) error {
		before, err := LoadCaseState(ctx, tx, id)
		if err != nil {
			return err
		}
		out := lifecycle.Timers(before, l.p, now)
		if reflect.DeepEqual(out.Case, before) && len(out.Audit) == 0 && len(out.Notices) == 0 {
			return nil
		}
		did = true
		l.log.Info("timer", "case", id, "what", out.Reason)
		return carryOut(ctx, tx, l.n, id, before, &out, effects{now: now})
	})
	return did, err
}

// purgeRaw deletes raw mail past its retention, a bounded batch per pass;
// the decisions recorded about the messages stay.
func purgeRaw(ctx context.Context, q Queryer, now time.Time) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM raw_messages WHERE id IN (
		SELECT r.id FROM raw_messages r WHERE r.expires_at < $1
		  AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.raw_id = r.id AND m.decision = 'waiting')
		ORDER BY r.expires_at LIMIT 1000)`, now); err != nil {
		return fmt.Errorf("purge raw mail: %w", mapErr(err))
	}
	return nil
}

// SurveyDelay is how long after solving the satisfaction survey goes out, so
// that a quick "it works, thanks" comes first and a reopen cancels it.
const SurveyDelay = 24 * time.Hour

// surveys sends the satisfaction survey for cases solved SurveyDelay ago and
// still solved (not merged, not for "no response"), once per case.
func (l *Lifecycle) surveys(ctx context.Context, now time.Time) (int, error) {
	var ids []int64
	if err := l.store.db.SelectContext(ctx, &ids, `SELECT id FROM cases WHERE status = 'solved' AND survey_sent_at IS NULL
		AND merged_into IS NULL AND solved_reason <> $2 AND solved_at <= $1 ORDER BY id`,
		now.Add(-SurveyDelay), lifecycle.ReasonNoResponse); err != nil {
		return 0, fmt.Errorf("survey candidates: %w", mapErr(err))
	}
	n := 0
	for _, id := range ids {
		err := l.store.WithTx(ctx, func(tx *sqlx.Tx) error {
			res, err := tx.ExecContext(ctx, `UPDATE cases SET survey_sent_at = $2 WHERE id = $1 AND survey_sent_at IS NULL AND status = 'solved'`, id, now)
			if err != nil {
				return fmt.Errorf("survey: %w", mapErr(err))
			}
			if k, _ := res.RowsAffected(); k == 0 || l.n == nil {
				return nil // another daemon sent it, or the case changed meanwhile
			}
			c, err := GetCase(ctx, tx, id)
			if err != nil {
				return err
			}
			submitter, err := UserByID(ctx, tx, c.SubmitterID)
			if err != nil {
				return err
			}
			if _, err := l.n.Notify(ctx, tx, Notice{Data: templates.SurveyData{Base: l.n.Base(id, c.Subject, submitter.Name)},
				To: UserRecipient(submitter), CaseID: id, Now: now}); err != nil {
				return err
			}
			n++
			return AddEvent(ctx, tx, NewEvent{CaseID: id, Kind: "survey", To: "sent", Now: now})
		})
		if err != nil {
			return n, fmt.Errorf("case %d: %w", id, err)
		}
	}
	return n, nil
}

// CaseChange is an operator's change to a case (`helpdeskd cases set`).
type CaseChange struct {
	Status   string // "" no change
	Severity string // "" no change
	Assign   string // login email of an agent; "" no change
	Merge    int64  // merge into this case; 0 no merge
	Escalate string // escalate with this reason; "" no escalation
}

// Change applies an operator's change to case id as the given actor (a
// staff user, or nil for the system), through the same rules as agents'
// #commands, and returns what was applied and rejected.
func (l *Lifecycle) Change(ctx context.Context, id int64, ch CaseChange, actor *User, now time.Time) ([]lifecycle.CommandResult, error) {
	var cmds []lifecycle.Command
	add := func(name, arg string) {
		line := "#" + name
		if arg != "" {
			line += " " + arg
		}
		cmds = append(cmds, lifecycle.Command{Name: name, Arg: arg, Line: line})
	}
	if ch.Status != "" {
		add(lifecycle.CmdStatus, ch.Status)
	}
	if ch.Severity != "" {
		add(lifecycle.CmdSeverity, ch.Severity)
	}
	if ch.Assign != "" {
		add(lifecycle.CmdAssign, ch.Assign)
	}
	if ch.Merge != 0 {
		add(lifecycle.CmdMerge, fmt.Sprint(ch.Merge))
	}
	kind := lifecycle.AgentNote
	sender := ""
	if actor != nil {
		sender = actor.LoginEmail
	}
	var results []lifecycle.CommandResult
	err := l.store.WithTx(ctx, func(tx *sqlx.Tx) error {
		before, err := LoadCaseState(ctx, tx, id)
		if err != nil {
			return err
		}
		state := before
		cmds, rejected, err := checkMerges(ctx, tx, id, cmds)
		if err != nil {
			return err
		}
		results = append(results, rejected...)
		if len(cmds) > 0 {
			out := lifecycle.Apply(before, lifecycle.Event{Kind: kind, Commands: cmds, Sender: sender}, l.p, now)
			// The operator sees the results here, not in a mail.
			out.Notices = withoutNotice(out.Notices, lifecycle.NoticeCommandResult)
			if err := carryOut(ctx, tx, l.n, id, before, &out, effects{actor: actor, now: now}); err != nil {
				return err
			}
			results = append(results, out.Commands...)
			state = out.Case
		}
		if ch.Escalate != "" {
			esc := lifecycle.Command{Name: lifecycle.CmdEscalate, Arg: ch.Escalate, Line: "#escalate " + ch.Escalate}
			out := lifecycle.Apply(state, lifecycle.Event{Kind: lifecycle.CustomerReply, Commands: []lifecycle.Command{esc}}, l.p, now)
			if err := carryOut(ctx, tx, l.n, id, state, &out, effects{actor: actor, now: now}); err != nil {
				return err
			}
			results = append(results, out.Commands...)
		}
		return nil
	})
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("case %d: %w", id, ErrNotFound)
	}
	return results, err
}

func withoutNotice(ns []lifecycle.Notice, kind string) []lifecycle.Notice {
	var out []lifecycle.Notice
	for _, n := range ns {
		if n.Kind != kind {
			out = append(out, n)
		}
	}
	return out
}
