package helpdesk

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/helpdesk/helpdesk/helpdesk/lifecycle"
	"github.com/helpdesk/helpdesk/templates"
)

// Lifecycle runs the case timers (reminders, auto-solve, closing after the
// reopen window, SLA warnings and breaches) and the operator's case actions.
// A pass visits only the cases whose next timer is due (cases.next_timer_at,
// kept by SaveCaseState), a set at a time in one transaction with their rows
// locked, so passes on several daemons never apply a timer twice.
type Lifecycle struct {
	store *Store
	n     *Notifier
	p     lifecycle.Policy
	log   *slog.Logger
	// scheduled: next_timer_at was checked against this policy.
	scheduled atomic.Bool
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

// timerSetSize is how many due cases one transaction of a pass handles.
const timerSetSize = 200

// Pass applies every timer due at now and returns how many cases changed.
// A case whose timer fails is logged and skipped (it stays due); the pass
// goes on and returns the first such error at the end.
func (l *Lifecycle) Pass(ctx context.Context, now time.Time) (int, error) {
	if err := l.Reschedule(ctx); err != nil {
		return 0, err
	}
	if err := purgeRaw(ctx, l.store.db, now); err != nil {
		return 0, err
	}
	if err := PurgeSendCounters(ctx, l.store.db, now); err != nil {
		return 0, err
	}
	changed, err := l.surveys(ctx, now)
	if err != nil {
		return changed, err
	}
	p := timerPass{now: now, seen: map[int64]bool{}}
	for {
		if err := ctx.Err(); err != nil {
			return changed, err
		}
		n, more, err := l.timerSet(ctx, &p)
		changed += n
		if err != nil {
			return changed, err
		}
		if !more {
			return changed, p.failed
		}
	}
}

// timerPass is the progress of one pass through the due cases.
type timerPass struct {
	now    time.Time
	cur    timerCursor
	seen   map[int64]bool // a case is handled once per pass, even if due again
	failed error          // the first case that failed
}

// timerSet handles the next set of due cases in one transaction and says
// whether more may be due.
func (l *Lifecycle) timerSet(ctx context.Context, p *timerPass) (changed int, more bool, err error) {
	err = l.store.WithTx(ctx, func(tx *sqlx.Tx) error {
		changed = 0
		rows, err := dueCaseRows(ctx, tx, p.now, p.cur, timerSetSize)
		if err != nil {
			return err
		}
		more = len(rows) == timerSetSize
		var idle []caseRow
		for _, r := range rows {
			p.cur = timerCursor{at: r.NextTimerAt.Time, id: r.ID}
			if p.seen[r.ID] {
				continue
			}
			p.seen[r.ID] = true
			did, err := l.timers(ctx, tx, r.state(), p.now)
			switch {
			case err != nil:
				l.log.Error("timer failed", "case", r.ID, "err", err)
				if p.failed == nil {
					p.failed = fmt.Errorf("case %d: %w", r.ID, err)
				}
			case did:
				changed++
			default:
				idle = append(idle, r)
			}
		}
		return rescheduleRows(ctx, tx, idle, l.p)
	})
	return changed, more, err
}

// timers applies what is due on one case of a set, inside a savepoint so
// that a failure leaves the rest of the set alone; did says whether the
// case changed (its next timer is then saved with it).
func (l *Lifecycle) timers(ctx context.Context, tx *sqlx.Tx, before lifecycle.Case, now time.Time) (did bool, err error) {
	out := lifecycle.Timers(before, l.p, now)
	if reflect.DeepEqual(out.Case, before) && len(out.Audit) == 0 && len(out.Notices) == 0 {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, `SAVEPOINT timer`); err != nil {
		return false, fmt.Errorf("savepoint: %w", mapErr(err))
	}
	l.log.Info("timer", "case", before.ID, "what", out.Reason)
	if err := carryOut(ctx, tx, l.n, before.ID, before, &out, effects{now: now, policy: l.p}); err != nil {
		if _, rerr := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT timer`); rerr != nil {
			return false, fmt.Errorf("%w (and rollback: %v)", err, mapErr(rerr))
		}
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `RELEASE SAVEPOINT timer`); err != nil {
		return false, fmt.Errorf("release savepoint: %w", mapErr(err))
	}
	return true, nil
}

// Reschedule makes next_timer_at of every case follow this Lifecycle's
// policy when it was computed under another one (the operator changed the
// reminders, the reopen window or the SLA, or the column is new), a set of
// cases per transaction. Pass calls it first; it checks the database once
// per Lifecycle.
func (l *Lifecycle) Reschedule(ctx context.Context) error {
	if l.scheduled.Load() {
		return nil
	}
	fp := policyFingerprint(l.p)
	var stored string
	err := l.store.db.GetContext(ctx, &stored, `SELECT fingerprint FROM timer_policy`)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("timer policy: %w", mapErr(err))
	}
	if stored != fp {
		if err := l.rescheduleAll(ctx); err != nil {
			return err
		}
		if _, err := l.store.db.ExecContext(ctx, `INSERT INTO timer_policy (fingerprint, updated_at) VALUES ($1, now())
			ON CONFLICT (singleton) DO UPDATE SET fingerprint = excluded.fingerprint, updated_at = excluded.updated_at`, fp); err != nil {
			return fmt.Errorf("timer policy: %w", mapErr(err))
		}
		l.log.Info("timers rescheduled for the lifecycle policy")
	}
	l.scheduled.Store(true)
	return nil
}

func (l *Lifecycle) rescheduleAll(ctx context.Context) error {
	var after int64
	for {
		var n int
		err := l.store.WithTx(ctx, func(tx *sqlx.Tx) error {
			rows, err := openCaseRows(ctx, tx, after, rescheduleSetSize)
			if err != nil || len(rows) == 0 {
				return err
			}
			n, after = len(rows), rows[len(rows)-1].ID
			return rescheduleRows(ctx, tx, rows, l.p)
		})
		if err != nil {
			return err
		}
		if n < rescheduleSetSize {
			return nil
		}
	}
}

const rescheduleSetSize = 2000

// policyFingerprint identifies what of p decides when timers are due.
func policyFingerprint(p lifecycle.Policy) string {
	h := p.SLA.Hours
	loc := "UTC"
	if h.Location != nil {
		loc = h.Location.String()
	}
	s := fmt.Sprintf("reopen=%v reminders=%v autosolve=%v warn=%v/%v hours=%s %v-%v %v %v targets=%v",
		p.ReopenWindow, p.Reminders, p.AutoSolveAfter, p.SLA.WarnFraction, p.SLA.WarnLead,
		loc, h.Open, h.Close, h.Days, h.Holidays, p.SLA.Targets)
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
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
			if err := carryOut(ctx, tx, l.n, id, before, &out, effects{actor: actor, now: now, policy: l.p}); err != nil {
				return err
			}
			results = append(results, out.Commands...)
			state = out.Case
		}
		if ch.Escalate != "" {
			esc := lifecycle.Command{Name: lifecycle.CmdEscalate, Arg: ch.Escalate, Line: "#escalate " + ch.Escalate}
			out := lifecycle.Apply(state, lifecycle.Event{Kind: lifecycle.CustomerReply, Commands: []lifecycle.Command{esc}}, l.p, now)
			if err := carryOut(ctx, tx, l.n, id, state, &out, effects{actor: actor, now: now, policy: l.p}); err != nil {
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
