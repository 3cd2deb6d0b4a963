// Package migrations holds the helpdesk's PostgreSQL schema as numbered,
// forward-only SQL files embedded in the binary, and the runner that applies
// them.
//
// Guarantees: Up holds a PostgreSQL advisory lock (scoped to the current
// schema) while it runs, so concurrent migrators never collide; each file is
// applied and recorded in one transaction, so a crash leaves the schema at a
// known version; Up on a current schema changes nothing; Up refuses a schema
// newer than this binary knows.
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strconv"
)

//go:embed sql/*.sql
var files embed.FS

// Migration is one numbered SQL file.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// ErrSchemaTooNew is returned when the database was migrated by a newer binary.
var ErrSchemaTooNew = errors.New("database schema is newer than this binary")

// lockKey is the first half of the two-key advisory lock; the second half
// is the hash of the current schema, so separate schemas migrate in parallel.
const lockKey = 0x68656c70 // "help"

var fileName = regexp.MustCompile(`^(\d{4})_([a-z0-9_]+)\.sql$`)

// All returns the embedded migrations in version order.
func All() ([]Migration, error) {
	sub, err := fs.Sub(files, "sql")
	if err != nil {
		return nil, fmt.Errorf("embedded migrations: %w", err)
	}
	return Load(sub)
}

// Load reads NNNN_name.sql files from the root of fsys in version order. It
// fails on a malformed file name or a gap in the numbering.
func Load(fsys fs.FS) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var ms []Migration
	for _, e := range entries {
		m := fileName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migration %q: name must look like 0001_name.sql", e.Name())
		}
		v, _ := strconv.Atoi(m[1])
		b, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		ms = append(ms, Migration{Version: v, Name: m[2], SQL: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migration %04d_%s: expected version %d (numbering must have no gaps)", m.Version, m.Name, i+1)
		}
	}
	return ms, nil
}

// Latest is the highest version this binary knows.
func Latest() int {
	ms, err := All()
	if err != nil || len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].Version
}

// Up applies every pending migration and returns the versions it applied.
func Up(ctx context.Context, db *sql.DB) ([]int, error) {
	ms, err := All()
	if err != nil {
		return nil, err
	}
	return Apply(ctx, db, ms)
}

// Apply applies the pending ones of ms, which must be in version order.
func Apply(ctx context.Context, db *sql.DB, ms []Migration) ([]int, error) {
	// Session-level advisory locks belong to one connection: hold it throughout.
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: connect: %w", err)
	}
	defer conn.Close()

	// Building an index on a large table, or waiting for another daemon's
	// migration, may take longer than the pool's statement timeout.
	if _, err := conn.ExecContext(ctx, `SET statement_timeout = 0`); err != nil {
		return nil, fmt.Errorf("migrate: lift statement timeout: %w", err)
	}
	defer conn.ExecContext(context.Background(), `RESET statement_timeout`) //nolint:errcheck // the connection's own default comes back
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1, hashtext(current_schema()))`, lockKey); err != nil {
		return nil, fmt.Errorf("migrate: take advisory lock: %w", err)
	}
	defer func() {
		// A fresh context: the caller's may be cancelled, and the lock must not outlive us.
		_, _ = conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1, hashtext(current_schema()))`, lockKey)
	}()

	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer PRIMARY KEY,
		name       text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now()
	)`); err != nil {
		return nil, fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	current, err := version(ctx, conn)
	if err != nil {
		return nil, err
	}
	latest := 0
	if len(ms) > 0 {
		latest = ms[len(ms)-1].Version
	}
	if current > latest {
		return nil, fmt.Errorf("%w: database is at version %d, this binary knows up to %d; upgrade helpdeskd", ErrSchemaTooNew, current, latest)
	}

	var applied []int
	for _, m := range ms {
		if m.Version <= current {
			continue
		}
		if err := applyOne(ctx, conn, m); err != nil {
			return applied, err
		}
		applied = append(applied, m.Version)
	}
	return applied, nil
}

func applyOne(ctx context.Context, conn *sql.Conn, m Migration) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migration %04d_%s: begin: %w", m.Version, m.Name, err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return fmt.Errorf("migration %04d_%s: %w", m.Version, m.Name, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name); err != nil {
		return fmt.Errorf("migration %04d_%s: record: %w", m.Version, m.Name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migration %04d_%s: commit: %w", m.Version, m.Name, err)
	}
	return nil
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func version(ctx context.Context, q querier) (int, error) {
	var v sql.NullInt64
	if err := q.QueryRowContext(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("migrate: read schema version: %w", err)
	}
	return int(v.Int64), nil
}

// Status reports the database's schema version and the binary's latest.
// A database never migrated reports version 0.
func Status(ctx context.Context, db *sql.DB) (current, latest int, err error) {
	var exists bool
	if err := db.QueryRowContext(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists); err != nil {
		return 0, 0, fmt.Errorf("migrate: status: %w", err)
	}
	if exists {
		if current, err = version(ctx, db); err != nil {
			return 0, 0, err
		}
	}
	return current, Latest(), nil
}
