package migrations_test

import (
	"context"
	"strings"
	"testing"

	"github.com/helpdesk/helpdesk/migrations"
)

// Mail bytes are compressed with lz4, not pglz: the servers we run on
// (Debian's PostgreSQL, the postgres image) have it.
func TestMigration_MailBytesAreCompressedWithLZ4(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openSchema(t)
	if _, err := migrations.Up(ctx, db); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"outbox", "raw_chunks", "blob_chunks"} {
		var c string
		if err := db.QueryRowContext(ctx, `SELECT attcompression::text FROM pg_attribute WHERE attrelid = $1::regclass AND attname = 'data'`, table).Scan(&c); err != nil {
			t.Fatal(err)
		}
		if c != "l" {
			t.Errorf("%s.data compression = %q, want l (lz4)", table, c)
		}
	}
	mail := strings.Repeat("Hello, your case was updated. ", 400) // 12 KB, compressible
	if _, err := db.ExecContext(ctx, `INSERT INTO outbox (message_id, kind, envelope_from, recipients, data)
		VALUES ('a@x', 'comment_added', 'support@example.com', '{ann@acme.example}', $1)`, []byte(mail)); err != nil {
		t.Fatal(err)
	}
	var got string
	if err := db.QueryRowContext(ctx, `SELECT coalesce(pg_column_compression(data), 'none') FROM outbox`).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != "lz4" {
		t.Errorf("a stored notice is compressed with %q, want lz4", got)
	}
}
