package migrations_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/helpdesk/helpdesk/helpdesk/pgtest"
	"github.com/helpdesk/helpdesk/migrations"
)

func openSchema(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("postgres", pgtest.Schema(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestUp_SecondRunIsNoOp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openSchema(t)

	first, err := migrations.Up(ctx, db)
	if err != nil {
		t.Fatalf("first Up: %v", err)
	}
	if len(first) != migrations.Latest() || first[0] != 1 {
		t.Fatalf("first Up applied %v, want 1..%d", first, migrations.Latest())
	}
	second, err := migrations.Up(ctx, db)
	if err != nil {
		t.Fatalf("second Up: %v", err)
	}
	if len(second) != 0 {
		t.Fatalf("second Up applied %v, want nothing", second)
	}
	cur, latest, err := migrations.Status(ctx, db)
	if err != nil || cur != latest {
		t.Fatalf("Status = %d, %d, %v; want current == latest", cur, latest, err)
	}
}

func TestUp_RefusesNewerSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openSchema(t)
	if _, err := migrations.Up(ctx, db); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO schema_migrations (version, name) VALUES ($1, 'from_the_future')`, migrations.Latest()+1); err != nil {
		t.Fatal(err)
	}
	_, err := migrations.Up(ctx, db)
	if !errors.Is(err, migrations.ErrSchemaTooNew) {
		t.Fatalf("Up on a newer schema: err = %v, want ErrSchemaTooNew", err)
	}
}

func TestUp_ConcurrentMigratorsDoNotCollide(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.Schema(t)
	const n = 4
	results := make([][]int, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Separate pools: separate sessions, like separate daemons.
			db, err := sql.Open("postgres", url)
			if err != nil {
				errs[i] = err
				return
			}
			defer db.Close()
			results[i], errs[i] = migrations.Up(ctx, db)
		}()
	}
	wg.Wait()
	total := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("migrator %d: %v", i, errs[i])
		}
		total += len(results[i])
	}
	if total != migrations.Latest() {
		t.Fatalf("migrators applied %d migrations in total, want each of %d exactly once: %v", total, migrations.Latest(), results)
	}
	check, err := sql.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	defer check.Close()
	var rows int
	if err := check.QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != migrations.Latest() {
		t.Fatalf("schema_migrations has %d rows, want %d", rows, migrations.Latest())
	}
}

func TestApply_FailedMigrationLeavesNoTrace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openSchema(t)
	ms, err := migrations.Load(fstest.MapFS{
		"0001_good.sql": {Data: []byte(`CREATE TABLE a (id int);`)},
		"0002_bad.sql":  {Data: []byte(`CREATE TABLE b (id int); SELECT no_such_function();`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	applied, err := migrations.Apply(ctx, db, ms)
	if err == nil {
		t.Fatal("Apply of a broken migration succeeded")
	}
	if len(applied) != 1 || applied[0] != 1 {
		t.Fatalf("applied = %v, want [1]", applied)
	}
	var b sql.NullString
	if err := db.QueryRow(`SELECT to_regclass('b')::text`).Scan(&b); err != nil {
		t.Fatal(err)
	}
	if b.Valid {
		t.Fatal("table b of the failed migration exists: the migration was not rolled back")
	}
	var v int
	if err := db.QueryRow(`SELECT max(version) FROM schema_migrations`).Scan(&v); err != nil || v != 1 {
		t.Fatalf("recorded version = %d (%v), want 1", v, err)
	}
}

func TestLoad_RejectsBadNames(t *testing.T) {
	t.Parallel()
	for name, fsys := range map[string]fstest.MapFS{
		"gap in numbering": {"0001_a.sql": {}, "0003_c.sql": {}},
		"bad file name":    {"0001_a.sql": {}, "2_b.sql": {}},
		"upper case name":  {"0001_Init.sql": {}},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := migrations.Load(fsys); err == nil {
				t.Fatal("Load accepted it")
			}
		})
	}
}

func TestAll_EmbeddedMigrationsAreWellFormed(t *testing.T) {
	t.Parallel()
	ms, err := migrations.All()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 || ms[0].Version != 1 {
		t.Fatalf("All() = %d migrations", len(ms))
	}
}

func TestApply_AMigrationOutlastsThePoolsStatementTimeout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	u := pgtest.Schema(t)
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	db, err := sql.Open("postgres", u+sep+"statement_timeout=100")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1) // the migration's connection is the one checked after
	ms, err := migrations.Load(fstest.MapFS{"0001_slow.sql": {Data: []byte(`SELECT pg_sleep(0.3); CREATE TABLE a (id int);`)}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := migrations.Apply(ctx, db, ms); err != nil {
		t.Fatalf("a migration longer than the statement timeout failed: %v", err)
	}
	var timeout string
	if err := db.QueryRow(`SHOW statement_timeout`).Scan(&timeout); err != nil || timeout != "100ms" {
		t.Fatalf("the connection's statement timeout after migrating: %q (%v), want its own 100ms back", timeout, err)
	}
}
