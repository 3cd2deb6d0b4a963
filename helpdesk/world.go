package helpdesk

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/lib/pq"

	"github.com/helpdesk/helpdesk/helpdesk/lifecycle"
)

// world is everything the decisions about one batch of mail need, loaded
// by gather in a few set queries, as plain values. decide reads it and
// records its effects in it, so that later mail of the batch sees what
// earlier mail did (a case it opened, a user it created, a status it set).
type world struct {
	users     map[string]*User // by canonical address (login or extra)
	usersByID map[int64]*User
	orgs      map[int64]*orgView
	domains   map[string]*orgView    // by mail domain
	grants    map[[2]int64]grantView // (customer org, reseller org)
	known     map[string]int64       // Message-ID or alias → case
	stored    map[string]bool        // inbound Message-IDs already stored
	tiRoots   map[string]int64       // Thread-Index root → case
	cases     map[int64]*caseView    // by id (new cases by provisional id)
	senders   map[string]*senderView // by canonical From
	sent      map[int64]*sentMail    // our outbox rows a report or an envelope names, by id
	sentByMID map[string][]*sentMail // the same by Message-ID
	blobs     map[string]int64       // stored attachment content by sha256
	nextProv  int64                  // next provisional id of a new case or user
	staffAddr map[string]bool        // the agent and manager addresses
	grantTold map[[2]int64]time.Time // (reseller user, customer org) → when last told the org has not granted access
	self      selfServiceWorld       // self-service mail (selfservice_store.go)
}

type orgView struct {
	ID       int64
	Name     string
	Plan     string
	TimeZone string // "" : unknown or none
}

type grantView struct {
	GrantedAt time.Time  `db:"granted_at"`
	RevokedAt *time.Time `db:"revoked_at"`
}

// caseView is a case as decisions see it: its row, its lifecycle state, who
// takes part, and what notifications about it thread under.
type caseView struct {
	Case
	state        lifecycle.Case
	participants map[int64]bool
	submitter    *User
	assignee     *User
	plan         string
	thread       []threadRef // the case's Message-IDs, oldest first: stored ones (first and latest), then the batch's
	prevAuthor   string      // the latest public comment, for context in notices
	prevBody     string
	isNew        bool
	dirty        bool // lifecycle fields changed
	touched      bool // activity to record
	assignTo     *User
	mergeInto    *caseView
	sevChoice    lifecycle.SeverityChoice // a case opened in the batch: how its severity was chosen
}

// senderView is what the sender limit, loop brakes and refusal rate need
// to know of one From address.
type senderView struct {
	recent       []senderEvent // new cases, follow-ups and throttled mail within the throttle window
	ours         []ourMail     // our automated mail to it within LoopWindow, newest first
	refusedAt    time.Time     // the latest refusal sent to it
	tooLargeAt   time.Time     // the latest "too large" answer sent to it
	throttledNow int           // throttled mail decided in this batch
}

type senderEvent struct {
	CaseID    *int64    `db:"case_id"`
	Decision  string    `db:"decision"`
	CreatedAt time.Time `db:"created_at"`
	From      string    `db:"from_address"`
}

// provisionalBase separates ids of cases and users created in a batch from
// stored ones until real ids are reserved; threading needs ids > 0.
const provisionalBase = int64(1) << 52

func (w *world) provisional() int64 {
	w.nextProv++
	return provisionalBase + w.nextProv
}

func (w *world) user(addr string) *User {
	if addr == "" {
		return nil
	}
	return w.users[strings.ToLower(addr)]
}

// caseOf follows merges to the case that finally holds id; nil if unknown.
func (w *world) caseOf(id int64) *caseView {
	c := w.cases[id]
	for range 16 { // merges never chain this deep; the bound guards against a cycle
		if c == nil || c.MergedInto == nil {
			return c
		}
		next := w.cases[*c.MergedInto]
		if next == nil {
			return c
		}
		c = next
	}
	return c
}

func newWorld() *world {
	return &world{users: map[string]*User{}, usersByID: map[int64]*User{}, orgs: map[int64]*orgView{}, domains: map[string]*orgView{},
		grants: map[[2]int64]grantView{}, known: map[string]int64{}, stored: map[string]bool{}, tiRoots: map[string]int64{},
		cases: map[int64]*caseView{}, senders: map[string]*senderView{}, sent: map[int64]*sentMail{}, sentByMID: map[string][]*sentMail{},
		blobs: map[string]int64{}, grantTold: map[[2]int64]time.Time{}}
}

// gatherKeys is what a batch asks the database about.
type gatherKeys struct {
	addrs    set // senders, To/Cc, #assign targets, staff addresses
	domains  set
	refs     set // In-Reply-To and References
	ids      set // own Message-IDs of the batch (duplicates)
	tiRoots  set
	caseIDs  map[int64]bool // tokens, subject tags, #merge targets
	froms    set
	outIDs   map[int64]bool // outbox rows named by VERP tokens
	outMIDs  set            // Message-IDs named by delivery reports
	blobSums [][]byte
	self     *selfServiceKeys // nil: no self-service mail in the batch
}

type set map[string]bool

func (s set) add(v string) {
	if v != "" {
		s[v] = true
	}
}

func (s set) list() []string {
	out := make([]string, 0, len(s))
	for k := range s {
		out = append(out, k)
	}
	return out
}

// gather loads the world of a batch: a fixed number of queries whatever
// its size.
func gather(ctx context.Context, q Queryer, k gatherKeys, cfg *IngestConfig, now time.Time) (*world, error) {
	w := newWorld()
	for _, step := range []func(context.Context, Queryer, *world, gatherKeys, *IngestConfig, time.Time) error{
		gatherMessages, gatherUsers, gatherGrantNotices, gatherOrgs, gatherSent, gatherSelfService, gatherCases, gatherSenders, gatherBlobs,
	} {
		if err := step(ctx, q, w, k, cfg, now); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// gatherMessages: which Message-IDs are stored, which cases referenced
// ones and Thread-Index roots belong to.
func gatherMessages(ctx context.Context, q Queryer, w *world, k gatherKeys, _ *IngestConfig, _ time.Time) error {
	if len(k.refs)+len(k.ids)+len(k.tiRoots) == 0 {
		return nil
	}
	var rows []struct {
		Kind string `db:"kind"`
		Key  string `db:"k"`
		Case *int64 `db:"case_id"`
	}
	// A reply names a malformed Message-ID by the stand-in it is known as.
	// An exact Message-ID wins over an alias, our mail over theirs, then the
	// oldest: the same mail always threads the same way.
	err := q.SelectContext(ctx, &rows, `SELECT 'ref' AS kind, k, case_id FROM (
			SELECT DISTINCT ON (k) k, case_id FROM (
				SELECT message_id AS k, case_id, direction, false AS alias, id FROM messages
				WHERE message_id = ANY($1) AND case_id IS NOT NULL
				UNION ALL
				SELECT thread_alias, case_id, direction, true, id FROM messages
				WHERE thread_alias = ANY($1) AND thread_alias <> '' AND case_id IS NOT NULL) m
			ORDER BY k, alias, direction = 'out' DESC, id) r
		UNION ALL
		SELECT 'stored', message_id, NULL FROM messages WHERE message_id = ANY($2) AND direction = 'in'
		UNION ALL
		(SELECT DISTINCT ON (thread_index_root) 'ti', thread_index_root, case_id FROM messages
		WHERE thread_index_root = ANY($3) AND case_id IS NOT NULL ORDER BY thread_index_root, created_at, id)`,
		pq.Array(k.refs.list()), pq.Array(k.ids.list()), pq.Array(k.tiRoots.list()))
	if err != nil {
		return fmt.Errorf("gather messages: %w", mapErr(err))
	}
	for _, r := range rows {
		switch r.Kind {
		case "ref":
			w.known[r.Key] = *r.Case
		case "stored":
			w.stored[r.Key] = true
		case "ti":
			w.tiRoots[r.Key] = *r.Case
		}
	}
	return nil
}

const userSelect = `SELECT a.address AS addr, ` + userColumns + `, coalesce(o.plan, '') AS org_plan
	FROM (SELECT user_id, address FROM user_addresses UNION SELECT id, login_email FROM users) a
	JOIN users u ON u.id = a.user_id LEFT JOIN orgs o ON o.id = u.org_id`

type userRow struct {
	Addr string `db:"addr"`
	User
	OrgPlan string `db:"org_plan"`
}

// gatherUsers loads the users behind every address of the batch.
func gatherUsers(ctx context.Context, q Queryer, w *world, k gatherKeys, _ *IngestConfig, _ time.Time) error {
	if len(k.addrs) == 0 {
		return nil
	}
	var rows []userRow
	if err := q.SelectContext(ctx, &rows, userSelect+` WHERE a.address = ANY($1)`, pq.Array(k.addrs.list())); err != nil {
		return fmt.Errorf("gather users: %w", mapErr(err))
	}
	for i := range rows {
		w.addUser(rows[i])
	}
	return nil
}

// gatherGrantNotices loads when the batch's resellers were last told that a
// customer org has not granted them access.
func gatherGrantNotices(ctx context.Context, q Queryer, w *world, _ gatherKeys, _ *IngestConfig, _ time.Time) error {
	var ids []int64
	for _, u := range w.usersByID {
		if u.Role == RoleReseller {
			ids = append(ids, u.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	var rows []struct {
		Reseller int64     `db:"reseller_id"`
		Org      int64     `db:"customer_org_id"`
		ToldAt   time.Time `db:"told_at"`
	}
	if err := q.SelectContext(ctx, &rows, `SELECT reseller_id, customer_org_id, told_at FROM grant_notices WHERE reseller_id = ANY($1)`,
		pq.Array(ids)); err != nil {
		return fmt.Errorf("gather grant notices: %w", mapErr(err))
	}
	for _, r := range rows {
		w.grantTold[[2]int64{r.Reseller, r.Org}] = r.ToldAt
	}
	return nil
}

func (w *world) addUser(r userRow) *User {
	u := w.usersByID[r.ID]
	if u == nil {
		cp := r.User
		u = &cp
		w.usersByID[u.ID] = u
	}
	if r.Addr != "" {
		w.users[strings.ToLower(r.Addr)] = u
	}
	w.users[strings.ToLower(u.LoginEmail)] = u // "#assign me" names the login email
	if u.OrgID != nil && w.orgs[*u.OrgID] == nil {
		w.orgs[*u.OrgID] = &orgView{ID: *u.OrgID, Name: deref(u.OrgName), Plan: r.OrgPlan, TimeZone: u.OrgTimeZone}
	}
	return u
}

// gatherOrgs loads the orgs of the batch's mail domains and every grant
// between the orgs seen so far.
func gatherOrgs(ctx context.Context, q Queryer, w *world, k gatherKeys, _ *IngestConfig, _ time.Time) error {
	var rows []struct {
		Domain string `db:"domain"`
		ID     int64  `db:"id"`
		Name   string `db:"name"`
		Plan   string `db:"plan"`
		TZ     string `db:"timezone"`
	}
	if len(k.domains) > 0 {
		if err := q.SelectContext(ctx, &rows, `SELECT d.domain, o.id, o.name, o.plan, coalesce(o.timezone, '') AS timezone
			FROM org_domains d JOIN orgs o ON o.id = d.org_id
			WHERE d.domain = ANY($1)`, pq.Array(k.domains.list())); err != nil {
			return fmt.Errorf("gather orgs: %w", mapErr(err))
		}
	}
	for _, r := range rows {
		o := w.orgs[r.ID]
		if o == nil {
			o = &orgView{ID: r.ID, Name: r.Name, Plan: r.Plan}
			w.orgs[r.ID] = o
		}
		o.TimeZone = r.TZ // an org first seen through a case has none yet
		w.domains[r.Domain] = o
	}
	return nil
}

// gatherGrants loads the grants between the orgs of the world.
func gatherGrants(ctx context.Context, q Queryer, w *world) error {
	ids := make([]int64, 0, len(w.orgs))
	for id := range w.orgs {
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return nil
	}
	var rows []struct {
		Customer  int64      `db:"customer_org_id"`
		Reseller  int64      `db:"reseller_org_id"`
		GrantedAt time.Time  `db:"granted_at"`
		RevokedAt *time.Time `db:"revoked_at"`
	}
	if err := q.SelectContext(ctx, &rows, `SELECT customer_org_id, reseller_org_id, granted_at, revoked_at FROM grants
		WHERE reseller_org_id = ANY($1)`, pq.Array(ids)); err != nil {
		return fmt.Errorf("gather grants: %w", mapErr(err))
	}
	for _, r := range rows {
		w.grants[[2]int64{r.Customer, r.Reseller}] = grantView{GrantedAt: r.GrantedAt, RevokedAt: r.RevokedAt}
	}
	return nil
}

const caseViewSelect = `SELECT c.id, c.subject, c.status, c.severity, coalesce(o.name, '') AS org, s.login_email AS submitter,
	c.created_at, c.last_activity_at, c.org_id, c.submitter_id, c.assignee_id, a.login_email AS assignee, c.follow_up_of,
	c.merged_into, c.known_issue_id, c.mailbox, c.updated_at, c.first_response_at, c.first_response_due_at, c.pending_since,
	c.solved_at, c.solved_reason, c.closed_at, c.sla_warned_at, c.sla_breached_at, c.reminders_sent, coalesce(o.plan, '') AS plan,
	coalesce(array(SELECT user_id FROM case_participants p WHERE p.case_id = c.id), '{}') AS participants,
	coalesce((SELECT e.to_value FROM case_events e WHERE e.case_id = c.id AND e.kind = 'consent' ORDER BY e.id DESC LIMIT 1), '') AS consent
	FROM cases c JOIN users s ON s.id = c.submitter_id LEFT JOIN users a ON a.id = c.assignee_id LEFT JOIN orgs o ON o.id = c.org_id`

type caseViewRow struct {
	Case
	SLAWarnedAt   *time.Time    `db:"sla_warned_at"`
	SLABreachedAt *time.Time    `db:"sla_breached_at"`
	RemindersSent int           `db:"reminders_sent"`
	Plan          string        `db:"plan"`
	Participants  pq.Int64Array `db:"participants"`
	Consent       string        `db:"consent"` // the latest consent event's to_value (diagnostics.go)
}

// gatherCases loads every case the batch may touch (referenced, by token,
// by tag, by Thread-Index, #merge targets) with the cases they were merged
// into, their people, their notification thread and latest public comment;
// rows are locked for the transaction.
func gatherCases(ctx context.Context, q Queryer, w *world, k gatherKeys, _ *IngestConfig, _ time.Time) error {
	want := map[int64]bool{}
	for id := range k.caseIDs {
		want[id] = true
	}
	for _, id := range w.known {
		want[id] = true
	}
	for _, id := range w.tiRoots {
		want[id] = true
	}
	for _, m := range w.sent {
		if m.CaseID != nil {
			want[*m.CaseID] = true
		}
	}
	for len(want) > 0 {
		ids := make([]int64, 0, len(want))
		for id := range want {
			ids = append(ids, id)
		}
		want = map[int64]bool{}
		var rows []caseViewRow
		if err := q.SelectContext(ctx, &rows, caseViewSelect+` WHERE c.id = ANY($1) ORDER BY c.id FOR UPDATE OF c`, pq.Array(ids)); err != nil {
			return fmt.Errorf("gather cases: %w", mapErr(err))
		}
		for i := range rows {
			c := w.addCase(rows[i])
			if c.MergedInto != nil && w.cases[*c.MergedInto] == nil {
				want[*c.MergedInto] = true // rare: a second round for merge targets
			}
		}
	}
	if err := gatherCasePeople(ctx, q, w); err != nil {
		return err
	}
	if err := gatherGrants(ctx, q, w); err != nil {
		return err
	}
	return gatherThreads(ctx, q, w)
}

func (w *world) addCase(r caseViewRow) *caseView {
	c := &caseView{Case: r.Case, plan: r.Plan, participants: map[int64]bool{}}
	for _, p := range r.Participants {
		c.participants[p] = true
	}
	c.state = lifecycle.Case{
		ID: c.ID, Status: lifecycle.Status(c.Status), Severity: lifecycle.Severity(c.Severity), Plan: r.Plan, CreatedAt: c.CreatedAt,
		FirstResponseAt: deTime(c.FirstResponseAt), FirstResponseDue: deTime(c.FirstResponseDueAt), SLAWarnedAt: deTime(r.SLAWarnedAt),
		SLABreachedAt: deTime(r.SLABreachedAt), PendingSince: deTime(c.PendingSince), RemindersSent: r.RemindersSent,
		SolvedAt: deTime(c.SolvedAt), SolvedReason: c.SolvedReason, ClosedAt: deTime(c.ClosedAt), Consent: lifecycle.Consent(r.Consent),
	}
	if c.OrgID != nil && w.orgs[*c.OrgID] == nil {
		w.orgs[*c.OrgID] = &orgView{ID: *c.OrgID, Name: c.Org, Plan: r.Plan}
	}
	w.cases[c.ID] = c
	return c
}

// gatherCasePeople loads the submitters and assignees of the cases.
func gatherCasePeople(ctx context.Context, q Queryer, w *world) error {
	var ids []int64
	for _, c := range w.cases {
		for _, id := range []*int64{&c.SubmitterID, c.AssigneeID} {
			if id != nil && w.usersByID[*id] == nil {
				ids = append(ids, *id)
			}
		}
	}
	if len(ids) > 0 {
		var rows []userRow
		if err := q.SelectContext(ctx, &rows, `SELECT '' AS addr, `+userColumns+`, coalesce(o.plan, '') AS org_plan
			FROM users u LEFT JOIN orgs o ON o.id = u.org_id WHERE u.id = ANY($1)`, pq.Array(ids)); err != nil {
			return fmt.Errorf("gather case people: %w", mapErr(err))
		}
		for i := range rows {
			w.addUser(rows[i])
		}
	}
	for _, c := range w.cases {
		c.submitter = w.usersByID[c.SubmitterID]
		if c.AssigneeID != nil {
			c.assignee = w.usersByID[*c.AssigneeID]
		}
	}
	return nil
}

// gatherThreads loads, per case, the Message-IDs notifications reference
// (the first and the latest ones) and the latest public comment.
func gatherThreads(ctx context.Context, q Queryer, w *world) error {
	if len(w.cases) == 0 {
		return nil
	}
	ids := make([]int64, 0, len(w.cases))
	for id := range w.cases {
		ids = append(ids, id)
	}
	var refs []struct {
		CaseID    int64  `db:"case_id"`
		MessageID string `db:"message_id"`
	}
	if err := q.SelectContext(ctx, &refs, `SELECT case_id, message_id FROM (
			SELECT case_id, message_id, created_at, id,
				row_number() OVER (PARTITION BY case_id ORDER BY created_at, id) AS first,
				row_number() OVER (PARTITION BY case_id ORDER BY created_at DESC, id DESC) AS last
			FROM messages WHERE case_id = ANY($1)) m
		WHERE first = 1 OR last < $2 ORDER BY case_id, created_at, id`, pq.Array(ids), maxReferences); err != nil {
		return fmt.Errorf("gather threads: %w", mapErr(err))
	}
	for _, r := range refs {
		c := w.cases[r.CaseID]
		c.thread = append(c.thread, threadRef{id: r.MessageID})
	}
	var prev []struct {
		CaseID int64   `db:"case_id"`
		Author *string `db:"author"`
		Body   string  `db:"body"`
	}
	if err := q.SelectContext(ctx, &prev, `SELECT DISTINCT ON (c.case_id) c.case_id, coalesce(nullif(u.name, ''), u.login_email) AS author, c.body
		FROM comments c LEFT JOIN users u ON u.id = c.author_id
		WHERE c.case_id = ANY($1) AND c.public ORDER BY c.case_id, c.created_at DESC, c.id DESC`, pq.Array(ids)); err != nil {
		return fmt.Errorf("gather latest comments: %w", mapErr(err))
	}
	for _, p := range prev {
		c := w.cases[p.CaseID]
		c.prevAuthor, c.prevBody = deref(p.Author), p.Body
	}
	return nil
}

// gatherSenders loads, per From address, its recent new cases (sender
// limit), our recent automated mail to it (loop brake) and when it was last
// refused or told a mail was too large.
func gatherSenders(ctx context.Context, q Queryer, w *world, k gatherKeys, cfg *IngestConfig, now time.Time) error {
	froms := k.froms.list()
	for _, f := range froms {
		w.senders[f] = &senderView{}
	}
	if len(froms) == 0 {
		return nil
	}
	var recent []senderEvent
	if err := q.SelectContext(ctx, &recent, `SELECT from_address, case_id, decision, created_at FROM messages
		WHERE direction = 'in' AND from_address = ANY($1) AND created_at > $2 AND decision IN ('new_case', 'follow_up', 'throttled')
		ORDER BY created_at, id`, pq.Array(froms), now.Add(-throttleWindow)); err != nil {
		return fmt.Errorf("gather sender limit: %w", mapErr(err))
	}
	for _, r := range recent {
		if s := w.senders[r.From]; s != nil {
			s.recent = append(s.recent, r)
		}
	}
	var out []struct {
		ourMail
		Kind      string         `db:"kind"`
		Rcpts     pq.StringArray `db:"recipients"`
		CreatedAt time.Time      `db:"created_at"`
	}
	since := now.Add(-max(cfg.LoopWindow, cfg.RefusalEvery))
	if err := q.SelectContext(ctx, &out, `SELECT message_id, subject, case_id, kind, recipients, created_at FROM outbox
		WHERE recipients && $1 AND created_at > $2 AND status <> 'suppressed' AND kind <> 'comment_added'
		ORDER BY id DESC`, pq.Array(froms), since); err != nil {
		return fmt.Errorf("gather our recent mail: %w", mapErr(err))
	}
	for _, o := range out {
		for _, r := range o.Rcpts {
			s := w.senders[r]
			if s == nil {
				continue
			}
			switch {
			case o.Kind == "refusal" && o.CreatedAt.After(s.refusedAt):
				s.refusedAt = o.CreatedAt
			case o.Kind == "too_large" && o.CreatedAt.After(s.tooLargeAt):
				s.tooLargeAt = o.CreatedAt
			}
			if cfg.LoopWindow > 0 && o.CreatedAt.After(now.Add(-cfg.LoopWindow)) && len(s.ours) < 20 {
				s.ours = append(s.ours, o.ourMail)
			}
		}
	}
	return nil
}

// gatherSent loads the outbox rows delivery reports and VERP envelope
// addresses of the batch name.
func gatherSent(ctx context.Context, q Queryer, w *world, k gatherKeys, _ *IngestConfig, _ time.Time) error {
	if len(k.outIDs)+len(k.outMIDs) == 0 {
		return nil
	}
	ids := make([]int64, 0, len(k.outIDs))
	for id := range k.outIDs {
		ids = append(ids, id)
	}
	var rows []sentMail
	if err := q.SelectContext(ctx, &rows, `SELECT id, message_id, case_id, recipients, status, attempts FROM outbox
		WHERE id = ANY($1) OR message_id = ANY($2) ORDER BY id`, pq.Array(ids), pq.Array(k.outMIDs.list())); err != nil {
		return fmt.Errorf("gather bounced mail: %w", mapErr(err))
	}
	for i := range rows {
		m := &rows[i]
		w.sent[m.ID] = m
		w.sentByMID[m.MessageID] = append(w.sentByMID[m.MessageID], m)
	}
	return nil
}

// gatherBlobs finds attachment content that is stored already.
func gatherBlobs(ctx context.Context, q Queryer, w *world, k gatherKeys, _ *IngestConfig, _ time.Time) error {
	if len(k.blobSums) == 0 {
		return nil
	}
	var rows []struct {
		ID  int64  `db:"id"`
		Sum []byte `db:"sha256"`
	}
	if err := q.SelectContext(ctx, &rows, `SELECT id, sha256 FROM blobs WHERE sha256 = ANY($1) FOR KEY SHARE`, pq.ByteaArray(k.blobSums)); err != nil {
		return fmt.Errorf("gather attachments: %w", mapErr(err))
	}
	for _, r := range rows {
		w.blobs[string(r.Sum)] = r.ID
	}
	return nil
}

func deTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}
