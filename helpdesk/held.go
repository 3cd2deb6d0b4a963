package helpdesk

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Held mail is inbound mail kept for review (decision held: a sender not
// allowed on the case it threads to) or refused (no case: the unknown-sender
// policy, a web form's Reply-To naming staff or one of our addresses). An operator releases it
// (appended to its case as a comment from its sender, or opened as a new
// case) or discards it (kept for audit, no longer listed). Either happens
// once.

// Reviews of held mail.
const (
	ReviewReleased  = "released"
	ReviewDiscarded = "discarded"
)

// HeldMessage is one held or refused inbound mail waiting for an operator.
type HeldMessage struct {
	ID         int64     `db:"id" json:"id"`
	MessageID  string    `db:"message_id" json:"message_id"`
	From       string    `db:"from_address" json:"from"`
	Subject    string    `db:"subject" json:"subject"`
	Decision   string    `db:"decision" json:"decision"`
	CaseID     *int64    `db:"case_id" json:"case_id"`
	Reason     string    `db:"reason" json:"reason"`
	Access     string    `db:"sender_access" json:"sender_access"`
	ReceivedAt time.Time `db:"created_at" json:"received_at"`
}

// ListHeld lists the held and refused mail no operator has reviewed,
// oldest first.
func ListHeld(ctx context.Context, q Queryer) ([]HeldMessage, error) {
	out := []HeldMessage{}
	if err := q.SelectContext(ctx, &out, `SELECT id, message_id, from_address, subject, decision, case_id, reason, sender_access, created_at
		FROM messages WHERE direction = 'in' AND decision IN ('held', 'refused') AND review = '' ORDER BY id`); err != nil {
		return nil, fmt.Errorf("list held mail: %w", mapErr(err))
	}
	return out, nil
}

// releaseOrder is what the decider needs to decide a released mail.
type releaseOrder struct {
	rowID     int64 // the mail's messages row, kept
	caseID    int64 // the case it was held on; 0 for refused mail
	asNewCase bool
	operator  *User // nil: the system
}

// heldRow is a held mail as review reads it, locked.
type heldRow struct {
	ID          int64      `db:"id"`
	MessageID   string     `db:"message_id"`
	Decision    string     `db:"decision"`
	Review      string     `db:"review"`
	ReviewedBy  string     `db:"reviewed_by"`
	ReviewedAt  *time.Time `db:"reviewed_at"`
	CaseID      *int64     `db:"case_id"`
	RawID       *int64     `db:"raw_id"`
	Mailbox     string     `db:"mailbox"`
	UIDValidity *uint32    `db:"uid_validity"`
	UID         *uint32    `db:"uid"`
}

// lockHeld loads inbound message id for review and checks that it is held
// and not reviewed yet.
func lockHeld(ctx context.Context, q Queryer, id int64) (*heldRow, error) {
	var m heldRow
	err := q.GetContext(ctx, &m, `SELECT id, message_id, decision, review, reviewed_by, reviewed_at, case_id, raw_id, mailbox, uid_validity, uid
		FROM messages WHERE id = $1 AND direction = 'in' FOR UPDATE`, id)
	if err != nil {
		return nil, fmt.Errorf("held message %d: %w", id, mapErr(err))
	}
	if m.Review != "" {
		by := m.ReviewedBy
		if by == "" {
			by = "the system"
		}
		return nil, fmt.Errorf("%w: message %d <%s> was %s by %s at %s; it cannot be released or discarded again", ErrConflict, id,
			m.MessageID, m.Review, by, deTime(m.ReviewedAt).UTC().Format(time.RFC3339))
	}
	if m.Decision != DecisionHeld && m.Decision != DecisionRefused {
		return nil, fmt.Errorf("%w: message %d <%s> is not held (decision %q)", ErrInvalid, id, m.MessageID, m.Decision)
	}
	return &m, nil
}

func operatorName(u *User) string {
	if u == nil {
		return ""
	}
	return u.LoginEmail
}

// Release decides held inbound message id again as its operator released
// it, through ingest's decide and apply: appended to the case it was held
// on as a public comment from its sender (who becomes a participant), as
// if allowed, with the lifecycle's effects (reopen, notices); or, with
// asNewCase, opened as a new case for its sender. The message keeps its id
// and is marked released.
func (g *Ingester) Release(ctx context.Context, id int64, asNewCase bool, operator *User) (Result, error) {
	var res Result
	err := g.store.WithTx(ctx, func(tx *sqlx.Tx) error {
		m, err := lockHeld(ctx, tx, id)
		if err != nil {
			return err
		}
		if m.CaseID == nil && !asNewCase {
			return fmt.Errorf("%w: message %d <%s> was refused and is on no case: release it --as-new-case", ErrInvalid, id, m.MessageID)
		}
		if m.RawID == nil {
			return fmt.Errorf("%w: the raw mail of message %d <%s> is no longer kept", ErrNotFound, id, m.MessageID)
		}
		var chunks [][]byte
		if err := tx.SelectContext(ctx, &chunks, `SELECT data FROM raw_chunks WHERE raw_id = $1 ORDER BY seq`, *m.RawID); err != nil {
			return fmt.Errorf("read raw mail: %w", mapErr(err))
		}
		// The mail is decided again under its own id; the audit entries it
		// caused keep pointing at it.
		var events []int64
		if err := tx.SelectContext(ctx, &events, `SELECT id FROM case_events WHERE message_id = $1`, id); err != nil {
			return fmt.Errorf("release: %w", mapErr(err))
		}
		for _, q := range []string{
			`DELETE FROM attachments WHERE comment_id IN (SELECT id FROM comments WHERE message_id = $1)`,
			`DELETE FROM comments WHERE message_id = $1`,
			`UPDATE case_events SET message_id = NULL WHERE message_id = $1`,
			`UPDATE suppressions SET message_id = NULL WHERE message_id = $1`,
			`DELETE FROM messages WHERE id = $1`,
		} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return fmt.Errorf("release: %w", mapErr(err))
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM raw_messages WHERE id = $1`, *m.RawID); err != nil {
			return fmt.Errorf("release: %w", mapErr(err))
		}
		in := Inbound{Mailbox: m.Mailbox, Body: bytes.NewReader(bytes.Join(chunks, nil)), replay: true, final: true}
		if m.UIDValidity != nil && m.UID != nil {
			in.UIDValidity, in.UID = *m.UIDValidity, *m.UID
		}
		order := &releaseOrder{rowID: id, caseID: deref64(m.CaseID), asNewCase: asNewCase, operator: operator}
		out, err := g.runBatchWith(ctx, tx, []Inbound{in}, order)
		if err != nil {
			return err
		}
		res = out[0]
		if _, err := tx.ExecContext(ctx, `UPDATE case_events SET message_id = $1 WHERE id = ANY($2)`, id, pq.Array(events)); err != nil {
			return fmt.Errorf("release: %w", mapErr(err))
		}
		if _, err := tx.ExecContext(ctx, `UPDATE messages SET review = $2, reviewed_by = $3, reviewed_at = $4 WHERE id = $1`,
			id, ReviewReleased, operatorName(operator), g.cfg.Now()); err != nil {
			return fmt.Errorf("release: %w", mapErr(err))
		}
		return nil
	})
	return res, err
}

// DiscardHeld marks held inbound message id discarded: kept for audit, no
// longer listed, never released. The case it was held on records who did
// it.
func DiscardHeld(ctx context.Context, s *Store, id int64, operator *User, reason string, now time.Time) error {
	return s.WithTx(ctx, func(tx *sqlx.Tx) error {
		m, err := lockHeld(ctx, tx, id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE messages SET review = $2, reviewed_by = $3, reviewed_at = $4 WHERE id = $1`,
			id, ReviewDiscarded, operatorName(operator), now); err != nil {
			return fmt.Errorf("discard: %w", mapErr(err))
		}
		if m.CaseID == nil {
			return nil
		}
		why := "discarded held mail <" + m.MessageID + ">"
		if r := strings.TrimSpace(reason); r != "" {
			why += ": " + r
		}
		e := NewEvent{CaseID: *m.CaseID, Kind: "discarded", Reason: why, MessageID: &m.ID, Now: now}
		if operator != nil {
			e.ActorID = &operator.ID
		}
		return AddEvent(ctx, tx, e)
	})
}

// Participant is one person on a case besides its submitter.
type Participant struct {
	Email     string    `db:"email" json:"email"`
	Name      string    `db:"name" json:"name"`
	Role      string    `db:"role" json:"role"`
	Address   string    `db:"address" json:"address,omitempty"` // the address they were added as
	AddedBy   *string   `db:"added_by" json:"added_by"`
	Reason    string    `db:"reason" json:"reason,omitempty"`
	CreatedAt time.Time `db:"created_at" json:"added_at"`
}

// CaseParticipants lists the participants of case id, in the order they
// joined.
func CaseParticipants(ctx context.Context, q Queryer, id int64) ([]Participant, error) {
	out := []Participant{}
	if err := q.SelectContext(ctx, &out, `SELECT u.login_email AS email, u.name, p.role, p.address, b.login_email AS added_by, p.reason, p.created_at
		FROM case_participants p JOIN users u ON u.id = p.user_id LEFT JOIN users b ON b.id = p.added_by
		WHERE p.case_id = $1 ORDER BY p.created_at, u.id`, id); err != nil {
		return nil, fmt.Errorf("case %d participants: %w", id, mapErr(err))
	}
	return out, nil
}
