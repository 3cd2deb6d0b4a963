package migrations_test

import (
	"context"
	"testing"

	"github.com/helpdesk/helpdesk/migrations"
)

// Migration comments_internal gives internal notes their own flag: old
// agent notes (stored as held) become internal; mail held for review stays
// held; public comments are untouched.
func TestMigration_CommentsInternalBackfillsOldNotes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openSchema(t)
	all, err := migrations.All()
	if err != nil {
		t.Fatal(err)
	}
	at := -1
	for i, m := range all {
		if m.Name == "comments_internal" {
			at = i
		}
	}
	if at < 0 {
		t.Fatal("no comments_internal migration")
	}
	if _, err := migrations.Apply(ctx, db, all[:at]); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO users (id, login_email, name, role) VALUES (1, 'ann@acme.example', 'Ann', 'customer'), (2, 'bob@example.com', 'Bob', 'agent')`,
		`INSERT INTO cases (id, subject, submitter_id) VALUES (1, 'VPN', 1)`,
		`INSERT INTO messages (id, message_id, direction, case_id, decision) VALUES
			(1, 'a@x', 'in', 1, 'new_case'), (2, 'b@x', 'in', 1, 'comment'), (3, 'c@x', 'in', 1, 'held')`,
		`INSERT INTO comments (id, case_id, author_id, message_id, public, held, body) VALUES
			(1, 1, 1, 1, true, false, 'public'), (2, 1, 2, 2, false, true, 'old note'),
			(3, 1, NULL, 3, false, true, 'held mail'), (4, 1, 2, NULL, false, false, 'note without a mail')`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if _, err := migrations.Apply(ctx, db, all[:at+1]); err != nil {
		t.Fatal(err)
	}
	want := map[int][3]bool{1: {true, false, false}, 2: {false, false, true}, 3: {false, true, false}, 4: {false, false, true}}
	rows, err := db.QueryContext(ctx, `SELECT id, public, held, internal FROM comments ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int
		var got [3]bool
		if err := rows.Scan(&id, &got[0], &got[1], &got[2]); err != nil {
			t.Fatal(err)
		}
		if got != want[id] {
			t.Errorf("comment %d: public, held, internal = %v, want %v", id, got, want[id])
		}
	}
	if _, err := db.ExecContext(ctx, `UPDATE comments SET internal = true WHERE id = 3`); err == nil {
		t.Error("a held comment could be internal too")
	}
}
