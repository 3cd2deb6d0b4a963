package helpdesk

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/lib/pq"

	"github.com/helpdesk/helpdesk/helpdesk/lifecycle"
)

// apply writes a decided batch: a fixed number of multi-row statements
// whatever its size, then the mailbox cursor, once.
func (g *Ingester) apply(ctx context.Context, q Queryer, pl *plan, preps []*prepared, mails []OutMail) error {
	if err := applyPlan(ctx, q, pl, preps, mails, &g.cfg, g.cfg.Notifier); err != nil {
		return err
	}
	for _, p := range preps {
		if !p.dup {
			g.log.Info("ingested", "message_id", p.msg.MessageID, "class", p.class.Class, "decision", p.out.decision,
				"case", caseIDOf(p.out.c), "rule", p.out.rule)
		}
	}
	return nil
}

// applyPlan writes a plan and the mail it was decided for (none outside
// ingest).
func applyPlan(ctx context.Context, q Queryer, pl *plan, preps []*prepared, mails []OutMail, cfg *IngestConfig, n *Notifier) error {
	for _, step := range []func() error{
		func() error { return insertUsers(ctx, q, pl.users) },
		func() error { return insertCases(ctx, q, pl.cases, cfg.Policy) },
		func() error { return insertRaw(ctx, q, preps, cfg) },
		func() error { return insertBlobs(ctx, q, preps) },
		func() error { return insertMessages(ctx, q, preps, pl.fix) },
		func() error { return insertComments(ctx, q, pl.comments) },
		func() error { return updateCases(ctx, q, pl, cfg.Policy) },
		func() error { return insertEvents(ctx, q, pl.events, pl.fix) },
		func() error { return insertParticipants(ctx, q, pl.participants) },
		func() error { return applySelfService(ctx, q, pl) },
		func() error { return insertGrantNotices(ctx, q, pl.grantNotices) },
		func() error { return applySuppressions(ctx, q, pl.suppressions) },
		func() error { return enqueue(ctx, q, n, mails) },
		func() error { return dropStreamedBlobs(ctx, q, preps) },
		func() error { return advanceCursorTo(ctx, q, preps) },
	} {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

func mergeTarget(c *caseView) *int64 {
	if c.mergeInto == nil {
		return nil
	}
	return &c.mergeInto.ID
}

func caseIDOf(c *caseView) int64 {
	if c == nil {
		return 0
	}
	return c.ID
}

// rows collects the values of a multi-row INSERT ... VALUES.
type rows struct {
	cols int
	args []any
}

func (r *rows) add(vals ...any) {
	if len(vals) != r.cols {
		panic(fmt.Sprintf("rows: %d values for %d columns", len(vals), r.cols))
	}
	r.args = append(r.args, vals...)
}

// maxParams keeps one statement under PostgreSQL's 65535 parameters.
const maxParams = 60000

// exec runs head + VALUES (...), (...) + tail for the collected rows, in as
// few statements as the parameter limit allows; casts types the first row.
func (r *rows) exec(ctx context.Context, q Queryer, what, head, tail string, casts ...string) error {
	per := max(1, maxParams/r.cols)
	for start := 0; start < len(r.args); start += per * r.cols {
		end := min(len(r.args), start+per*r.cols)
		chunk := r.args[start:end]
		var b strings.Builder
		b.WriteString(head)
		b.WriteString(" VALUES ")
		for i := 0; i < len(chunk); i++ {
			switch {
			case i%r.cols == 0 && i > 0:
				b.WriteString("), (")
			case i%r.cols == 0:
				b.WriteString("(")
			default:
				b.WriteString(", ")
			}
			b.WriteString("$" + strconv.Itoa(i+1))
			if i < r.cols && i < len(casts) && casts[i] != "" {
				b.WriteString("::" + casts[i])
			}
		}
		b.WriteString(") ")
		b.WriteString(tail)
		if _, err := q.ExecContext(ctx, b.String(), chunk...); err != nil {
			return fmt.Errorf("write %s: %w", what, mapErr(err))
		}
	}
	return nil
}

func insertUsers(ctx context.Context, q Queryer, users []*User) error {
	r := rows{cols: 7}
	for _, u := range users {
		r.add(u.ID, u.LoginEmail, u.Name, u.Role, u.Locale, u.OrgID, u.CreatedAt)
	}
	return r.exec(ctx, q, "users", `INSERT INTO users (id, login_email, name, role, locale, org_id, created_at)`, "")
}

func insertCases(ctx context.Context, q Queryer, cases []*caseView, p lifecycle.Policy) error {
	r := rows{cols: 21}
	for _, c := range cases {
		s := c.state
		r.add(c.ID, c.Subject, string(s.Status), string(s.Severity), c.OrgID, c.submitter.ID, c.AssigneeID, c.FollowUpOf, mergeTarget(c),
			c.Mailbox, c.CreatedAt, c.UpdatedAt, c.LastActivityAt, nullTime(s.FirstResponseAt), nullTime(s.FirstResponseDue),
			nullTime(s.PendingSince), s.RemindersSent, nullTime(s.SolvedAt), s.SolvedReason, nullTime(s.ClosedAt), nextTimer(s, p))
	}
	return r.exec(ctx, q, "cases", `INSERT INTO cases (id, subject, status, severity, org_id, submitter_id, assignee_id, follow_up_of,
		merged_into, mailbox, created_at, updated_at, last_activity_at, first_response_at, first_response_due_at, pending_since,
		reminders_sent, solved_at, solved_reason, closed_at, next_timer_at)`, "")
}

// updateCases writes the state, activity, assignee and merge of the stored
// cases the batch changed, in one statement.
func updateCases(ctx context.Context, q Queryer, pl *plan, p lifecycle.Policy) error {
	seen := map[*caseView]bool{}
	r := rows{cols: 17}
	for _, c := range changedCases(pl) {
		if c.isNew || seen[c] || (!c.dirty && !c.touched && c.assignTo == nil && c.mergeInto == nil) {
			continue
		}
		seen[c] = true
		s := c.state
		r.add(c.ID, string(s.Status), string(s.Severity), nullTime(s.FirstResponseAt), nullTime(s.FirstResponseDue),
			nullTime(s.SLAWarnedAt), nullTime(s.SLABreachedAt), nullTime(s.PendingSince), s.RemindersSent, nullTime(s.SolvedAt),
			s.SolvedReason, nullTime(s.ClosedAt), c.LastActivityAt, c.UpdatedAt, c.AssigneeID, mergeTarget(c), nextTimer(s, p))
	}
	if len(r.args) == 0 {
		return nil
	}
	return r.exec(ctx, q, "case state", `UPDATE cases c SET status = v.status, severity = v.severity, first_response_at = v.fra,
		first_response_due_at = v.frd, sla_warned_at = v.warned, sla_breached_at = v.breached, pending_since = v.pending,
		reminders_sent = v.reminders, solved_at = v.solved, solved_reason = v.why, closed_at = v.closed,
		last_activity_at = greatest(c.last_activity_at, v.activity), updated_at = greatest(c.updated_at, v.updated),
		assignee_id = coalesce(v.assignee, c.assignee_id), merged_into = coalesce(v.merged, c.merged_into), next_timer_at = v.next
		FROM (`, `) AS v(id, status, severity, fra, frd, warned, breached, pending, reminders, solved, why, closed, activity, updated,
			assignee, merged, next) WHERE c.id = v.id`,
		"bigint", "text", "text", "timestamptz", "timestamptz", "timestamptz", "timestamptz", "timestamptz", "int",
		"timestamptz", "text", "timestamptz", "timestamptz", "timestamptz", "bigint", "bigint", "timestamptz")
}

// changedCases lists the cases the plan's comments, events and notices
// touch, in order.
func changedCases(pl *plan) []*caseView {
	var out []*caseView
	for _, c := range pl.comments {
		out = append(out, c.c)
	}
	for _, e := range pl.events {
		out = append(out, e.c)
	}
	return out
}

// nextTimer is the case's next timer instant, NULL when none is due.
func nextTimer(s lifecycle.Case, p lifecycle.Policy) any {
	t, ok := lifecycle.NextDue(s, p)
	if !ok {
		return nil
	}
	return t
}

func insertRaw(ctx context.Context, q Queryer, preps []*prepared, cfg *IngestConfig) error {
	heads, chunks := rows{cols: 5}, rows{cols: 3}
	for _, p := range preps {
		if p.dup || p.raw.data == nil {
			continue
		}
		heads.add(p.raw.id, p.raw.size, p.raw.sum, p.now, p.now.Add(cfg.RawRetention))
		addChunks(&chunks, p.raw.id, p.raw.data)
	}
	if err := heads.exec(ctx, q, "raw mail", `INSERT INTO raw_messages (id, size, sha256, stored_at, expires_at)`, ""); err != nil {
		return err
	}
	return chunks.exec(ctx, q, "raw mail", `INSERT INTO raw_chunks (raw_id, seq, data)`, "")
}

// addChunks splits data into chunkSize rows; empty data is one empty row.
func addChunks(r *rows, owner int64, data []byte) {
	seq := 0
	for {
		k := min(len(data), chunkSize)
		r.add(owner, seq, data[:k])
		data, seq = data[k:], seq+1
		if len(data) == 0 {
			return
		}
	}
}

// insertBlobs stores the held attachment content of the mails that keep
// their attachments, once per content.
func insertBlobs(ctx context.Context, q Queryer, preps []*prepared) error {
	heads, chunks := rows{cols: 3}, rows{cols: 3}
	done := map[int64]bool{}
	for _, p := range preps {
		if p.dup || !p.out.linked {
			continue
		}
		for _, a := range p.msg.Attachments {
			b := p.blobs[a]
			if b == nil || !b.fresh || done[b.id] {
				continue
			}
			done[b.id] = true
			heads.add(b.id, b.sum, b.size)
			addChunks(&chunks, b.id, b.data)
		}
	}
	// Content another daemon stored meanwhile fails the batch on the
	// unique sha256: the retry finds it stored.
	if err := heads.exec(ctx, q, "attachments", `INSERT INTO blobs (id, sha256, size)`, ""); err != nil {
		return err
	}
	return chunks.exec(ctx, q, "attachments", `INSERT INTO blob_chunks (blob_id, seq, data)`, "")
}

func insertMessages(ctx context.Context, q Queryer, preps []*prepared, fix *numberFix) error {
	r := rows{cols: 25}
	for _, p := range preps {
		if p.dup {
			continue
		}
		m, o := p.msg, p.out
		var ti *string
		if p.tiRoot != "" {
			ti = &p.tiRoot
		}
		reason := o.reason
		if o.followUpOf != nil {
			reason += fmt.Sprintf("; case #%d is closed: follow-up case #%d", o.followUpOf.ID, o.c.ID)
		}
		if fix != nil {
			reason, p.out.access, p.out.tokenCheck = fix.Replace(reason), fix.Replace(o.access), fix.Replace(o.tokenCheck)
			o = p.out
		}
		p.out.reason = reason
		var caseID *int64
		if o.c != nil {
			caseID = &o.c.ID
		}
		uidValidity, uid := int64(p.in.UIDValidity), int64(p.in.UID)
		from := m.From.Canonical() // a web form's requester: the sender limit and why count it
		r.add(p.rowID, m.MessageID, p.in.Mailbox, uidValidity, uid, from, truncateText(m.Subject, 1000),
			strings.Join(m.InReplyTo, " "), pq.Array(m.References), string(p.class.Class), p.class.Reason, max(p.raw.size, p.in.Size),
			p.now, p.raw.id, ti, m.OriginalMessageID, m.MessageIDAlias, caseID, o.decision, o.rule, truncateText(reason, 2000),
			truncateText(o.tokenCheck, 1000), truncateText(o.access, 1000), p.now, "in")
	}
	// No ON CONFLICT: a Message-ID another daemon stored since gather fails
	// the batch, and the retry finds it stored.
	return r.exec(ctx, q, "messages", `INSERT INTO messages (id, message_id, mailbox, uid_validity, uid, from_address, subject,
		in_reply_to, refs, class, class_reason, size, received_at, raw_id, thread_index_root, original_message_id, thread_alias,
		case_id, decision, rule, reason, token_check, sender_access, created_at, direction)`, "")
}

func insertComments(ctx context.Context, q Queryer, comments []*plannedComment) error {
	cr, ar := rows{cols: 10}, rows{cols: 9}
	for _, c := range comments {
		var author *int64
		if c.author != nil {
			author = &c.author.ID
		}
		cr.add(c.id, c.c.ID, author, c.msg.rowID, c.public, !c.public && !c.internal, c.internal, c.body, c.msg.msg.Text, c.now)
		for _, a := range c.msg.msg.Attachments {
			b := c.msg.blobs[a]
			if b == nil {
				continue
			}
			ar.add(c.id, b.id, a.Filename, a.ContentType, a.Size, a.Truncated, a.ContentID, a.Inline, c.now)
		}
	}
	if err := cr.exec(ctx, q, "comments", `INSERT INTO comments (id, case_id, author_id, message_id, public, held, internal, body, full_body, created_at)`, ""); err != nil {
		return err
	}
	return ar.exec(ctx, q, "attachments", `INSERT INTO attachments (comment_id, blob_id, filename, content_type, size, truncated,
		content_id, inline, created_at)`, "")
}

func insertEvents(ctx context.Context, q Queryer, events []*plannedEvent, fix *numberFix) error {
	r := rows{cols: 8}
	for _, e := range events {
		var actor, msg *int64
		if e.actor != nil {
			actor = &e.actor.ID
		}
		if e.msg != nil {
			msg = &e.msg.rowID
		}
		to := e.e.To
		if e.toCase != nil {
			to = caseLabel(e.toCase.ID)
		}
		from, reason := e.e.From, e.e.Reason
		if fix != nil {
			from, to, reason = fix.Replace(from), fix.Replace(to), fix.Replace(reason)
		}
		r.add(e.c.ID, actor, e.e.Kind, from, to, reason, msg, e.e.Now)
	}
	return r.exec(ctx, q, "case events", `INSERT INTO case_events (case_id, actor_id, kind, from_value, to_value, reason, message_id, created_at)`, "")
}

func insertParticipants(ctx context.Context, q Queryer, ps []plannedParticipant) error {
	r := rows{cols: 7}
	for _, p := range ps {
		var by *int64
		if p.addedBy != nil {
			by = &p.addedBy.ID
		}
		r.add(p.c.ID, p.u.ID, p.role, p.now, p.address, by, p.reason)
	}
	return r.exec(ctx, q, "participants", `INSERT INTO case_participants (case_id, user_id, role, created_at, address, added_by, reason)`,
		"ON CONFLICT DO NOTHING")
}

func insertGrantNotices(ctx context.Context, q Queryer, gs []plannedGrantNotice) error {
	r := rows{cols: 3}
	seen := map[[2]int64]bool{}
	for _, g := range gs {
		if k := [2]int64{g.reseller.ID, g.org}; !seen[k] {
			seen[k] = true
			r.add(g.reseller.ID, g.org, g.now)
		}
	}
	return r.exec(ctx, q, "grant notices", `INSERT INTO grant_notices (reseller_id, customer_org_id, told_at)`,
		"ON CONFLICT (reseller_id, customer_org_id) DO UPDATE SET told_at = excluded.told_at")
}

// applySuppressions records verified permanent bounces (rare: one
// statement each).
func applySuppressions(ctx context.Context, q Queryer, ss []plannedSuppression) error {
	for _, s := range ss {
		s.s.CaseID, s.s.MessageRowID = caseIDOf(s.c), &s.msg.rowID
		if err := suppress(ctx, q, s.s); err != nil {
			return err
		}
	}
	return nil
}

func enqueue(ctx context.Context, q Queryer, n *Notifier, mails []OutMail) error {
	if n == nil || len(mails) == 0 {
		return nil
	}
	_, err := EnqueueBatch(ctx, q, mails, n.cfg.Own, n.cfg.Budget)
	return err
}

// dropStreamedBlobs deletes attachment content streamed while parsing a
// mail that did not become a comment.
func dropStreamedBlobs(ctx context.Context, q Queryer, preps []*prepared) error {
	var ids []int64
	for _, p := range preps {
		if p.out.linked && !p.dup {
			continue
		}
		for _, b := range p.blobs {
			if b.data == nil && b.id > 0 {
				ids = append(ids, b.id)
			}
		}
	}
	if len(ids) == 0 {
		return nil
	}
	_, err := q.ExecContext(ctx, `DELETE FROM blobs b WHERE b.id = ANY($1) AND NOT EXISTS (SELECT 1 FROM attachments a WHERE a.blob_id = b.id)`, pq.Array(ids))
	if err != nil {
		return fmt.Errorf("drop unused blobs: %w", mapErr(err))
	}
	return nil
}

// advanceCursorTo moves the mailbox cursor past the batch.
func advanceCursorTo(ctx context.Context, q Queryer, preps []*prepared) error {
	if len(preps) == 0 {
		return nil
	}
	last := preps[0].in
	for _, p := range preps {
		if p.in.UID > last.UID {
			last = p.in
		}
	}
	return advanceCursor(ctx, q, last)
}
