// Package helpdesk is the domain of the helpdesk: cases, comments, people,
// access, lifecycle and notifications, with their PostgreSQL store.
//
// Store functions take a Queryer, so the same function runs on the database
// or inside a transaction; a unit of work runs in exactly one transaction
// (Store.WithTx). Errors are typed: errors.Is(err, ErrNotFound),
// errors.Is(err, ErrConflict) and errors.Is(err, ErrInvalid) hold whether the
// cause was found in Go or reported by PostgreSQL.
package helpdesk

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

var (
	// ErrNotFound: the thing asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the change collides with existing data (a unique key).
	ErrConflict = errors.New("already exists")
	// ErrInvalid: the input breaks a rule (a check or a reference).
	ErrInvalid = errors.New("invalid")
	// ErrUnavailable: the database cannot be reached or is shutting down; retry later.
	ErrUnavailable = errors.New("database unavailable")
)

// Queryer is what store functions need: a *sqlx.DB or a *sqlx.Tx.
type Queryer interface {
	sqlx.ExtContext
	GetContext(ctx context.Context, dest any, query string, args ...any) error
	SelectContext(ctx context.Context, dest any, query string, args ...any) error
}

// Store owns the connection pool.
type Store struct {
	db *sqlx.DB
}

// NewStore wraps an open pool.
func NewStore(db *sqlx.DB) (*Store, error) {
	if db == nil {
		return nil, errors.New("helpdesk: nil database")
	}
	return &Store{db: db}, nil
}

// Open connects to PostgreSQL at url and checks the connection.
func Open(ctx context.Context, url string) (*Store, error) {
	db, err := sqlx.Open("postgres", WithBinaryParameters(url))
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to database: %w", mapErr(err))
	}
	return &Store{db: db}, nil
}

// WithBinaryParameters asks lib/pq to send parameters in one round trip and
// bytea in binary (not hex text): half the round trips per statement, half
// the bytes for raw mail and attachments. An explicit setting in url wins.
func WithBinaryParameters(url string) string {
	if strings.Contains(url, "binary_parameters=") {
		return url
	}
	if strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://") {
		if strings.Contains(url, "?") {
			return url + "&binary_parameters=yes"
		}
		return url + "?binary_parameters=yes"
	}
	return url + " binary_parameters=yes"
}

// DB is the pool, for reads outside a unit of work.
func (s *Store) DB() *sqlx.DB { return s.db }

// Close closes the pool.
func (s *Store) Close() error { return s.db.Close() }

// WithTx runs fn in one transaction: committed when fn returns nil, rolled
// back otherwise (and on panic).
func (s *Store) WithTx(ctx context.Context, fn func(tx *sqlx.Tx) error) (err error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", mapErr(err))
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", mapErr(err))
	}
	return nil
}

// pgError lets errors.Is see both the sentinel and the original *pq.Error.
type pgError struct {
	kind error
	pq   *pq.Error
}

func (e *pgError) Error() string {
	if e.pq.Constraint != "" {
		return fmt.Sprintf("%v: %s (%s)", e.kind, e.pq.Message, e.pq.Constraint)
	}
	return fmt.Sprintf("%v: %s", e.kind, e.pq.Message)
}

func (e *pgError) Is(target error) bool { return target == e.kind }
func (e *pgError) Unwrap() error        { return e.pq }

// mapErr turns driver errors into the package's typed errors.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		switch pqErr.Code {
		case "23505": // unique_violation
			return &pgError{ErrConflict, pqErr}
		case "23503", "23514", "23502", "22P02", "22021", "22001": // fk, check, not null, bad text repr, bad encoding, too long
			return &pgError{ErrInvalid, pqErr}
		}
		switch pqErr.Code.Class() {
		case "08", "57": // connection exception, operator intervention (shutdown)
			return &pgError{ErrUnavailable, pqErr}
		}
		return err
	}
	if errors.Is(err, sql.ErrConnDone) || errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, io.EOF) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	var netErr interface{ Timeout() bool }
	if errors.As(err, &netErr) {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}

// MapErr maps a driver error to the package's typed errors, for callers that
// run their own SQL.
func MapErr(err error) error { return mapErr(err) }
