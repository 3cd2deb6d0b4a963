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
	"strconv"
	"strings"
	"time"

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

// PoolConfig bounds the connection pool and the work of each connection.
type PoolConfig struct {
	MaxConns        int           // open connections at most (0: no limit)
	MaxIdleConns    int           // connections kept for reuse while idle (0: MaxConns)
	ConnMaxIdleTime time.Duration // an idle connection is closed after this long (0: never)
	ConnMaxLifetime time.Duration // a connection is replaced after this long (0: never)
	// PostgreSQL settings of every connection: statement_timeout and
	// idle_in_transaction_session_timeout (0: none). A setting of the same
	// name in the URL wins.
	StatementTimeout time.Duration
	IdleTxTimeout    time.Duration
}

// DefaultPoolConfig is the pool Open uses: enough connections for ingest,
// the dispatcher, the timers and the HTTP listener to run at once without
// reconnecting, and no statement or idle transaction holding on forever.
func DefaultPoolConfig() PoolConfig {
	return PoolConfig{MaxConns: 10, MaxIdleConns: 10, ConnMaxIdleTime: 5 * time.Minute, ConnMaxLifetime: time.Hour,
		StatementTimeout: 30 * time.Second, IdleTxTimeout: time.Minute}
}

// Open connects to PostgreSQL at url with DefaultPoolConfig and checks the
// connection.
func Open(ctx context.Context, url string) (*Store, error) {
	return OpenWith(ctx, url, DefaultPoolConfig())
}

// OpenWith connects to PostgreSQL at url with the pool p and checks the
// connection.
func OpenWith(ctx context.Context, url string, p PoolConfig) (*Store, error) {
	if p.MaxConns < 0 || p.MaxIdleConns < 0 || p.ConnMaxIdleTime < 0 || p.ConnMaxLifetime < 0 || p.StatementTimeout < 0 || p.IdleTxTimeout < 0 {
		return nil, fmt.Errorf("open database: negative pool limit in %+v", p)
	}
	url = WithParameter(url, "statement_timeout", milliseconds(p.StatementTimeout))
	url = WithParameter(url, "idle_in_transaction_session_timeout", milliseconds(p.IdleTxTimeout))
	db, err := sqlx.Open("postgres", WithBinaryParameters(url))
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	idle := p.MaxIdleConns
	if idle == 0 {
		idle = p.MaxConns
	}
	db.SetMaxOpenConns(p.MaxConns)
	if idle > 0 { // else (no limit at all) database/sql's default of 2
		db.SetMaxIdleConns(idle)
	}
	db.SetConnMaxIdleTime(p.ConnMaxIdleTime)
	db.SetConnMaxLifetime(p.ConnMaxLifetime)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to database: %w", mapErr(err))
	}
	return &Store{db: db}, nil
}

// milliseconds is d as PostgreSQL reads a time setting without a unit.
func milliseconds(d time.Duration) string {
	return strconv.FormatInt(d.Milliseconds(), 10)
}

// WithParameter adds name=value to a PostgreSQL URL or key=value string
// unless it sets name already. lib/pq sends a parameter it does not know
// itself to the server as a setting of the session.
func WithParameter(url, name, value string) string {
	if strings.Contains(url, name+"=") {
		return url
	}
	if strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://") {
		if strings.Contains(url, "?") {
			return url + "&" + name + "=" + value
		}
		return url + "?" + name + "=" + value
	}
	return url + " " + name + "=" + value
}

// WithBinaryParameters asks lib/pq to send parameters in one round trip and
// bytea in binary (not hex text): half the round trips per statement, half
// the bytes for raw mail and attachments. An explicit setting in url wins.
func WithBinaryParameters(url string) string {
	return WithParameter(url, "binary_parameters", "yes")
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
