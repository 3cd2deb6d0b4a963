package helpdesk

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/helpdesk/helpdesk/helpdesk/lifecycle"
	"github.com/helpdesk/helpdesk/templates"
	"github.com/helpdesk/helpdesk/threading"
)

// Known issues: a problem many customers share. Customers follow one by
// mail (selfservice.go); each follower has a case linked to it, where every
// update arrives as a comment from support and the resolution solves it.

const (
	KnownIssueOpen     = "open"
	KnownIssueResolved = "resolved"
)

// KnownIssue is a known issue as the CLI shows it.
type KnownIssue struct {
	ID          int64              `db:"id" json:"id"`
	Title       string             `db:"title" json:"title"`
	Body        string             `db:"body" json:"body"`
	Product     string             `db:"product" json:"product,omitempty"`
	Status      string             `db:"status" json:"status"`
	CreatedAt   time.Time          `db:"created_at" json:"created_at"`
	ResolvedAt  *time.Time         `db:"resolved_at" json:"resolved_at"`
	Subscribers int                `db:"subscribers" json:"subscribers"`
	Address     string             `db:"-" json:"address,omitempty"` // mail to it follows the issue
	Updates     []KnownIssueUpdate `db:"-" json:"updates,omitempty"`
	Cases       []int64            `db:"-" json:"cases,omitempty"` // linked cases
}

// KnownIssueUpdate is one update or the resolution of a known issue.
type KnownIssueUpdate struct {
	Kind      string    `db:"kind" json:"kind"` // update, resolution
	Body      string    `db:"body" json:"body"`
	CreatedAt time.Time `db:"created_at" json:"created_at"`
}

type knownIssueRow = KnownIssue

const knownIssueColumns = `k.id, k.title, k.body, k.product, k.status, k.created_at, k.resolved_at,
	(SELECT count(*) FROM known_issue_subscriptions s WHERE s.known_issue_id = k.id) AS subscribers`

// KnownIssueAddress is the signed address customers follow issue id by.
func KnownIssueAddress(tokens *threading.Tokens, support string, id int64) string {
	return threading.PlusAddress(strings.ToLower(support), tokens.SignKnownIssue(id))
}

// NewKnownIssue is the input of AddKnownIssue.
type NewKnownIssue struct {
	Title, Body, Product string
}

// AddKnownIssue records a known issue.
func AddKnownIssue(ctx context.Context, q Queryer, in NewKnownIssue, now time.Time) (*KnownIssue, error) {
	in.Title, in.Body, in.Product = strings.TrimSpace(in.Title), strings.TrimSpace(in.Body), strings.TrimSpace(in.Product)
	if in.Title == "" {
		return nil, errors.New("known issue: a title is required")
	}
	var id int64
	if err := q.GetContext(ctx, &id, `INSERT INTO known_issues (title, body, product, created_at) VALUES ($1, $2, $3, $4) RETURNING id`,
		in.Title, in.Body, in.Product, now); err != nil {
		return nil, fmt.Errorf("add known issue: %w", mapErr(err))
	}
	return GetKnownIssue(ctx, q, id)
}

// ListKnownIssues lists every known issue, open ones first, newest first.
func ListKnownIssues(ctx context.Context, q Queryer) ([]KnownIssue, error) {
	var out []KnownIssue
	if err := q.SelectContext(ctx, &out, `SELECT `+knownIssueColumns+` FROM known_issues k ORDER BY k.status = 'resolved', k.id DESC`); err != nil {
		return nil, fmt.Errorf("list known issues: %w", mapErr(err))
	}
	return out, nil
}

// GetKnownIssue returns a known issue with its updates and linked cases.
func GetKnownIssue(ctx context.Context, q Queryer, id int64) (*KnownIssue, error) {
	var k KnownIssue
	if err := q.GetContext(ctx, &k, `SELECT `+knownIssueColumns+` FROM known_issues k WHERE k.id = $1`, id); err != nil {
		return nil, fmt.Errorf("known issue %d: %w", id, mapErr(err))
	}
	if err := q.SelectContext(ctx, &k.Updates, `SELECT kind, body, created_at FROM known_issue_updates WHERE known_issue_id = $1 ORDER BY id`, id); err != nil {
		return nil, fmt.Errorf("known issue %d updates: %w", id, mapErr(err))
	}
	if err := q.SelectContext(ctx, &k.Cases, `SELECT id FROM cases WHERE known_issue_id = $1 ORDER BY id`, id); err != nil {
		return nil, fmt.Errorf("known issue %d cases: %w", id, mapErr(err))
	}
	return &k, nil
}

// LinkKnownIssue links case caseID to known issue id and subscribes its
// submitter (an agent's `known-issues link`).
func LinkKnownIssue(ctx context.Context, q Queryer, id, caseID int64, actor *User, now time.Time) error {
	var submitter int64
	if err := q.GetContext(ctx, &submitter, `UPDATE cases SET known_issue_id = $2, updated_at = $3 WHERE id = $1
		AND EXISTS (SELECT 1 FROM known_issues WHERE id = $2) RETURNING submitter_id`, caseID, id, now); err != nil {
		return fmt.Errorf("link case %d to known issue %d: %w", caseID, id, mapErr(err))
	}
	if _, err := q.ExecContext(ctx, `INSERT INTO known_issue_subscriptions (known_issue_id, user_id, created_at) VALUES ($1, $2, $3)
		ON CONFLICT DO NOTHING`, id, submitter, now); err != nil {
		return fmt.Errorf("subscribe to known issue %d: %w", id, mapErr(err))
	}
	var actorID *int64
	if actor != nil {
		actorID = &actor.ID
	}
	return AddEvent(ctx, q, NewEvent{CaseID: caseID, ActorID: actorID, Kind: "known_issue", To: fmt.Sprint(id), Reason: "linked by an operator", Now: now})
}

// linkedOpenCases returns the open cases linked to known issue id, locked.
func linkedOpenCases(ctx context.Context, q Queryer, id int64) ([]int64, error) {
	var ids []int64
	if err := q.SelectContext(ctx, &ids, `SELECT id FROM cases WHERE known_issue_id = $1 AND merged_into IS NULL
		AND status NOT IN ('solved', 'closed') ORDER BY id FOR UPDATE`, id); err != nil {
		return nil, fmt.Errorf("known issue %d cases: %w", id, mapErr(err))
	}
	return ids, nil
}

// UpdateKnownIssue records an update of known issue id and tells each
// follower on their linked open case, as a public comment from support.
// It returns the cases told.
func (l *Lifecycle) UpdateKnownIssue(ctx context.Context, id int64, body string, now time.Time) ([]int64, error) {
	return l.knownIssueUpdate(ctx, id, "update", body, now)
}

// ResolveKnownIssue resolves known issue id: each linked open case gets the
// resolution as a public comment from support and is solved.
func (l *Lifecycle) ResolveKnownIssue(ctx context.Context, id int64, body string, now time.Time) ([]int64, error) {
	return l.knownIssueUpdate(ctx, id, "resolution", body, now)
}

func (l *Lifecycle) knownIssueUpdate(ctx context.Context, id int64, kind, body string, now time.Time) ([]int64, error) {
	body = strings.TrimSpace(body)
	if body == "" {
		return nil, errors.New("known issue: a body is required")
	}
	var told []int64
	err := l.store.WithTx(ctx, func(tx *sqlx.Tx) error {
		told = nil
		var status string
		if err := tx.GetContext(ctx, &status, `SELECT status FROM known_issues WHERE id = $1 FOR UPDATE`, id); err != nil {
			return fmt.Errorf("known issue %d: %w", id, mapErr(err))
		}
		if status == KnownIssueResolved {
			return fmt.Errorf("known issue %d is resolved already", id)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO known_issue_updates (known_issue_id, kind, body, created_at) VALUES ($1, $2, $3, $4)`,
			id, kind, body, now); err != nil {
			return fmt.Errorf("known issue %d: %w", id, mapErr(err))
		}
		if kind == "resolution" {
			if _, err := tx.ExecContext(ctx, `UPDATE known_issues SET status = 'resolved', resolved_at = $2 WHERE id = $1`, id, now); err != nil {
				return fmt.Errorf("resolve known issue %d: %w", id, mapErr(err))
			}
		}
		cases, err := linkedOpenCases(ctx, tx, id)
		if err != nil {
			return err
		}
		for _, cid := range cases {
			if err := l.tellFollower(ctx, tx, id, cid, kind, body, now); err != nil {
				return err
			}
			told = append(told, cid)
		}
		return nil
	})
	return told, err
}

// tellFollower puts an update on one linked case: a public comment relayed
// to the submitter, and for a resolution the case solved through the
// lifecycle like any operator's change.
func (l *Lifecycle) tellFollower(ctx context.Context, tx Queryer, issue, caseID int64, kind, body string, now time.Time) error {
	detail, err := GetCaseDetail(ctx, tx, caseID)
	if err != nil {
		return err
	}
	if _, err := AddComment(ctx, tx, NewComment{CaseID: caseID, Public: true, Body: body, FullBody: body, Now: now}); err != nil {
		return err
	}
	if err := AddEvent(ctx, tx, NewEvent{CaseID: caseID, Kind: "known_issue", To: fmt.Sprint(issue), Reason: "known issue " + kind, Now: now}); err != nil {
		return err
	}
	if l.n != nil {
		u, err := UserByID(ctx, tx, detail.SubmitterID)
		if err != nil {
			return fmt.Errorf("case %d submitter: %w", caseID, err)
		}
		text := body
		var headers [][2]string
		if l.n.cfg.Tokens != nil {
			unsub := threading.PlusAddress(l.n.cfg.SupportAddress, l.n.cfg.Tokens.SignKnownIssueUnsubscribe(issue, u.ID))
			text += "\n\n(" + fmt.Sprintf("Known issue #%d. To stop following it, write \"unsubscribe\" to %s", issue, unsub) + ")"
			headers = [][2]string{{"List-Unsubscribe", "<mailto:" + unsub + "?subject=unsubscribe>"}} // RFC 2369
			if links := l.n.cfg.Links; links != nil {                                                 // RFC 8058 one-click, when the HTTP listener is public
				tok := l.n.cfg.Tokens.SignKnownIssueUnsubscribe(issue, u.ID)
				headers = [][2]string{{"List-Unsubscribe", "<" + links.UnsubscribeURL(tok) + ">, <mailto:" + unsub + "?subject=unsubscribe>"},
					{"List-Unsubscribe-Post", "List-Unsubscribe=One-Click"}}
			}
		}
		data := templates.CommentAddedData{Base: l.n.Base(caseID, detail.Subject, u.Name), Comment: templates.Comment{Author: l.n.cfg.Name, Body: text}}
		if _, err := l.n.Notify(ctx, tx, Notice{Data: data, To: UserRecipient(u), CaseID: caseID, Now: now,
			Reason: "known_issue_" + kind, Headers: headers}); err != nil {
			return fmt.Errorf("case %d: tell follower: %w", caseID, err)
		}
	}
	if kind != "resolution" {
		return nil
	}
	before, err := LoadCaseState(ctx, tx, caseID)
	if err != nil {
		return err
	}
	cmd := lifecycle.Command{Name: lifecycle.CmdStatus, Arg: StatusSolved, Line: "#status solved"}
	out := lifecycle.Apply(before, lifecycle.Event{Kind: lifecycle.AgentNote, Commands: []lifecycle.Command{cmd}}, l.p, now)
	out.Notices = withoutNotice(out.Notices, lifecycle.NoticeCommandResult)
	return carryOut(ctx, tx, l.n, caseID, before, &out, effects{now: now, policy: l.p})
}
