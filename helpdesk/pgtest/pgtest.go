// Package pgtest gives tests a real PostgreSQL: each call returns a fresh,
// private schema (migrated or empty) that is dropped when the test ends.
//
// The server comes from HELPDESK_TEST_DATABASE_URL, by default the local one
// (postgres://postgres:postgres@127.0.0.1:5432/helpdesk_test?sslmode=disable); the
// database is created when missing. When the server is unreachable the test
// is skipped, except under CI=true, where it fails.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/helpdesk/helpdesk/migrations"
)

// DefaultURL is used when HELPDESK_TEST_DATABASE_URL is not set.
const DefaultURL = "postgres://postgres:postgres@127.0.0.1:5432/helpdesk_test?sslmode=disable"

// BaseURL is the test server's URL without a schema.
func BaseURL() string {
	if u := os.Getenv("HELPDESK_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// New returns a connection to a fresh schema with every migration applied.
func New(t testing.TB) *sqlx.DB {
	t.Helper()
	u := Schema(t)
	db := open(t, u)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := migrations.Up(ctx, db.DB); err != nil {
		t.Fatalf("pgtest: migrate: %v", err)
	}
	return db
}

// Schema creates a fresh empty schema and returns a URL whose connections use
// it as their search_path. The schema is dropped when the test ends.
func Schema(t testing.TB) string {
	t.Helper()
	base := BaseURL()
	admin := connect(t, base)

	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	schema := "t_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("pgtest: create schema: %v", err)
	}
	t.Cleanup(func() {
		// Registered before the test's own connections, so it runs after they close.
		if _, err := admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`); err != nil {
			t.Logf("pgtest: drop schema %s: %v", schema, err)
		}
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("pgtest: parse HELPDESK_TEST_DATABASE_URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	q.Set("binary_parameters", "yes") // as helpdesk.Open does
	u.RawQuery = q.Encode()
	return u.String()
}

func open(t testing.TB, u string) *sqlx.DB {
	t.Helper()
	db, err := sqlx.Open("postgres", u)
	if err != nil {
		t.Fatalf("pgtest: open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// connect opens the base database, creating it first when it does not exist.
func connect(t testing.TB, base string) *sql.DB {
	t.Helper()
	db, err := sql.Open("postgres", base)
	if err != nil {
		t.Fatalf("pgtest: open %s: %v", redact(base), err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = db.PingContext(ctx)
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code == "3D000" { // invalid_catalog_name
		if cerr := createDatabase(ctx, base); cerr != nil {
			unavailable(t, base, cerr)
		}
		err = db.PingContext(ctx)
	}
	if err != nil {
		db.Close()
		unavailable(t, base, err)
	}
	return db
}

func createDatabase(ctx context.Context, base string) error {
	u, err := url.Parse(base)
	if err != nil {
		return err
	}
	name := strings.TrimPrefix(u.Path, "/")
	u.Path = "/postgres"
	db, err := sql.Open("postgres", u.String())
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, `CREATE DATABASE `+pq.QuoteIdentifier(name))
	var pqErr *pq.Error
	// Several test binaries race to create it: losing the race is fine.
	if errors.As(err, &pqErr) && (pqErr.Code == "42P04" || pqErr.Code == "23505") {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

func unavailable(t testing.TB, base string, err error) {
	t.Helper()
	msg := fmt.Sprintf("pgtest: PostgreSQL at %s is unavailable: %v (set HELPDESK_TEST_DATABASE_URL, or run `make test`)", redact(base), err)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

func redact(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(unparsable URL)"
	}
	return p.Redacted()
}
