package helpdesk

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/lib/pq"

	"github.com/helpdesk/helpdesk/mail"
	"github.com/helpdesk/helpdesk/threading"
)

// Self-service by mail (selfservice.go): what gather loads for the "my
// cases" requests and known-issue mail of a batch, in a fixed number of
// queries whatever its size, and what apply writes for them.

// selfServiceKeys is what a batch's self-service mail asks the database.
type selfServiceKeys struct {
	froms  set            // senders of list requests and known-issue mail
	issues map[int64]bool // known issues named by valid tokens
}

// selfServiceWorld is what decisions about self-service mail read.
type selfServiceWorld struct {
	recent  map[string]int           // self-service mail per From within the last hour
	visible map[int64][]selfCase     // candidate cases per viewer (user id), before access is decided
	subs    map[int64][]selfSub      // known-issue subscriptions per user
	issues  map[int64]*knownIssueRow // by id
	linked  map[[2]int64]int64       // (issue, user) → the user's open case linked to it
}

// selfCase is a case as a case list needs it, with the facts deciding
// access for one viewer needs.
type selfCase struct {
	Viewer        int64      `db:"viewer"`
	ID            int64      `db:"id"`
	Subject       string     `db:"subject"`
	Status        string     `db:"status"`
	Severity      string     `db:"severity"`
	OrgID         *int64     `db:"org_id"`
	Org           string     `db:"org"`
	SubmitterID   int64      `db:"submitter_id"`
	SubmitterRole string     `db:"submitter_role"`
	CreatedAt     time.Time  `db:"created_at"`
	LastActivity  time.Time  `db:"last_activity_at"`
	Participant   bool       `db:"participant"`
	GrantedAt     *time.Time `db:"granted_at"`
	RevokedAt     *time.Time `db:"revoked_at"`
	HasGrant      bool       `db:"has_grant"`
}

// selfSub is one known-issue subscription of a user.
type selfSub struct {
	UserID  int64  `db:"user_id"`
	IssueID int64  `db:"id"`
	Title   string `db:"title"`
	Status  string `db:"status"`
	CaseID  *int64 `db:"case_id"`
}

// selfServiceKeys adds what p's self-service request needs to k; the
// request is decided again, purely, in decide.
func (g *Ingester) selfServiceKeys(p *prepared, k *gatherKeys) {
	init := func() {
		if k.self == nil {
			k.self = &selfServiceKeys{froms: set{}, issues: map[int64]bool{}}
		}
	}
	if ids, _ := knownLines(p.replyText); len(ids) > 0 {
		init()
		for _, id := range ids {
			k.self.issues[id] = true // an agent's #known
		}
	}
	req, ok := parseSelfService(mailAddresses(p.msg), g.cfg.Own, p.replyText, g.cfg.Tokens)
	if !ok {
		return
	}
	init()
	k.self.froms.add(p.msg.From.Canonical())
	if req.issue > 0 {
		k.self.issues[req.issue] = true
	}
}

// mailAddresses lists where a mail was sent: To, Cc, Delivered-To and
// X-Original-To, canonical.
func mailAddresses(m *mail.Message) []string {
	var out []string
	for _, a := range append(append(append(append([]mail.Address{}, m.To...), m.Cc...), m.DeliveredTo...), m.XOriginalTo...) {
		if s := a.Canonical(); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// gatherSelfService loads, for the batch's self-service senders, their
// recent requests (the rate limit), every case they might see, their
// known-issue subscriptions with the linked cases, and the known issues
// named. The linked cases are added to the cases gatherCases loads.
func gatherSelfService(ctx context.Context, q Queryer, w *world, k gatherKeys, _ *IngestConfig, now time.Time) error {
	if k.self == nil {
		return nil
	}
	w.self = selfServiceWorld{recent: map[string]int{}, visible: map[int64][]selfCase{}, subs: map[int64][]selfSub{},
		issues: map[int64]*knownIssueRow{}, linked: map[[2]int64]int64{}}
	froms := k.self.froms.list()
	var recent []struct {
		From string `db:"from_address"`
		N    int    `db:"n"`
	}
	if len(froms) > 0 { // none: only an agent's #known
		if err := q.SelectContext(ctx, &recent, `SELECT from_address, count(*) AS n FROM messages
			WHERE direction = 'in' AND decision = 'self_service' AND from_address = ANY($1) AND created_at > $2
			GROUP BY from_address`, pq.Array(froms), now.Add(-time.Hour)); err != nil {
			return fmt.Errorf("gather self-service requests: %w", mapErr(err))
		}
	}
	for _, r := range recent {
		w.self.recent[r.From] = r.N
	}
	var viewers []int64
	for _, f := range froms {
		if u := w.user(f); u != nil && !IsStaff(u.Role) {
			viewers = append(viewers, u.ID)
		}
	}
	issues := make([]int64, 0, len(k.self.issues))
	for id := range k.self.issues {
		issues = append(issues, id)
	}
	if len(viewers) > 0 {
		var rows []selfCase
		// Candidates: what a viewer submitted, takes part in, their org's
		// cases and those of orgs that granted their org; decideAccess
		// then keeps what they may see.
		if err := q.SelectContext(ctx, &rows, `WITH v AS (SELECT id, org_id, role FROM users WHERE id = ANY($1)),
			cand AS (
				SELECT v.id AS viewer, c.id FROM v JOIN cases c ON c.submitter_id = v.id
				UNION SELECT v.id, p.case_id FROM v JOIN case_participants p ON p.user_id = v.id
				UNION SELECT v.id, c.id FROM v JOIN cases c ON c.org_id = v.org_id
				UNION SELECT v.id, c.id FROM v JOIN grants g ON g.reseller_org_id = v.org_id
					JOIN cases c ON c.org_id = g.customer_org_id WHERE v.role = 'reseller')
			SELECT cand.viewer, c.id, c.subject, c.status, c.severity, c.org_id, coalesce(o.name, '') AS org, c.submitter_id,
				s.role AS submitter_role, c.created_at, c.last_activity_at,
				EXISTS (SELECT 1 FROM case_participants p WHERE p.case_id = c.id AND p.user_id = cand.viewer) AS participant,
				g.granted_at, g.revoked_at, g.customer_org_id IS NOT NULL AS has_grant
			FROM cand JOIN cases c ON c.id = cand.id JOIN users s ON s.id = c.submitter_id
			JOIN users vu ON vu.id = cand.viewer LEFT JOIN orgs o ON o.id = c.org_id
			LEFT JOIN grants g ON g.customer_org_id = c.org_id AND g.reseller_org_id = vu.org_id
			WHERE c.merged_into IS NULL
			ORDER BY cand.viewer, c.id`, pq.Array(viewers)); err != nil {
			return fmt.Errorf("gather visible cases: %w", mapErr(err))
		}
		for _, r := range rows {
			w.self.visible[r.Viewer] = append(w.self.visible[r.Viewer], r)
		}
	}
	var subs []selfSub
	if len(viewers) > 0 {
		if err := q.SelectContext(ctx, &subs, `SELECT s.user_id, k.id, k.title, k.status,
				(SELECT c.id FROM cases c WHERE c.known_issue_id = k.id AND c.submitter_id = s.user_id AND c.merged_into IS NULL
				 ORDER BY c.status IN ('solved', 'closed'), c.id DESC LIMIT 1) AS case_id
			FROM known_issue_subscriptions s JOIN known_issues k ON k.id = s.known_issue_id
			WHERE s.user_id = ANY($1) ORDER BY s.user_id, k.id`, pq.Array(viewers)); err != nil {
			return fmt.Errorf("gather subscriptions: %w", mapErr(err))
		}
	}
	for _, s := range subs {
		w.self.subs[s.UserID] = append(w.self.subs[s.UserID], s)
	}
	if len(issues) > 0 {
		var rows []knownIssueRow
		if err := q.SelectContext(ctx, &rows, `SELECT `+knownIssueColumns+` FROM known_issues k WHERE k.id = ANY($1)`, pq.Array(issues)); err != nil {
			return fmt.Errorf("gather known issues: %w", mapErr(err))
		}
		for i := range rows {
			w.self.issues[rows[i].ID] = &rows[i]
		}
		// The viewers' open cases linked to these issues, loaded in full
		// with the batch's other cases: a subscription reuses, and an
		// unsubscription solves, them.
		var linked []struct {
			Issue int64 `db:"known_issue_id"`
			User  int64 `db:"submitter_id"`
			ID    int64 `db:"id"`
		}
		if err := q.SelectContext(ctx, &linked, `SELECT DISTINCT ON (known_issue_id, submitter_id) known_issue_id, submitter_id, id FROM cases
			WHERE known_issue_id = ANY($1) AND submitter_id = ANY($2) AND merged_into IS NULL AND status NOT IN ('solved', 'closed')
			ORDER BY known_issue_id, submitter_id, id DESC`, pq.Array(issues), pq.Array(viewers)); err != nil {
			return fmt.Errorf("gather linked cases: %w", mapErr(err))
		}
		for _, l := range linked {
			w.self.linked[[2]int64{l.Issue, l.User}] = l.ID
			k.caseIDs[l.ID] = true
		}
	}
	return nil
}

// selfServicePlan is what self-service mail of a batch writes besides
// messages, cases and notices.
type selfServicePlan struct {
	links   []kiLink // cases linked to (issue > 0) or unlinked from (issue 0) a known issue
	subs    []kiSubChange
	changed bool
}

type kiLink struct {
	c     *caseView
	issue int64
}

type kiSubChange struct {
	issue int64
	user  *User // may be created in the batch: its id is read when applied
	add   bool
	now   time.Time
}

// applySelfService writes the plan's known-issue links and subscriptions.
func applySelfService(ctx context.Context, q Queryer, pl *plan) error {
	sp := &pl.self
	for _, l := range sp.links {
		var issue *int64
		if l.issue > 0 {
			issue = &l.issue
		}
		if _, err := q.ExecContext(ctx, `UPDATE cases SET known_issue_id = $2 WHERE id = $1`, l.c.ID, issue); err != nil {
			return fmt.Errorf("link case %d to known issue: %w", l.c.ID, mapErr(err))
		}
	}
	for _, s := range sp.subs {
		var err error
		if s.add {
			_, err = q.ExecContext(ctx, `INSERT INTO known_issue_subscriptions (known_issue_id, user_id, created_at) VALUES ($1, $2, $3)
				ON CONFLICT DO NOTHING`, s.issue, s.user.ID, s.now)
		} else {
			_, err = q.ExecContext(ctx, `DELETE FROM known_issue_subscriptions WHERE known_issue_id = $1 AND user_id = $2`, s.issue, s.user.ID)
		}
		if err != nil {
			return fmt.Errorf("known issue %d subscription of %s: %w", s.issue, s.user.LoginEmail, mapErr(err))
		}
	}
	return nil
}

// ownPlus reports whether addr is one of our addresses with the plus part
// plus, e.g. support+cases@….
func ownPlus(addr string, own []string, plus string) bool {
	tok, ok := threading.TokenFromAddress(addr, own)
	return ok && strings.EqualFold(tok, plus)
}
