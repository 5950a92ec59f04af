// Package storetest gives tests fresh, migrated databases on both engines:
// SQLite, and the PostgreSQL server named by $CHUANGWEN_TEST_POSTGRES.
// Each database is a copy of a template made once per test process (a
// SQLite file written into the test's temp folder; a PostgreSQL database
// made by CREATE DATABASE … TEMPLATE), so a test pays for a copy instead
// of the migrations. A Template can also hold data: internal/testcity
// keeps its city in one. Only tests import this package.
//
// A package whose tests use PostgreSQL databases from here calls Main
// from its TestMain, which drops the databases when the tests are done:
//
//	func TestMain(m *testing.M) { storetest.Main(m) }
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"chuangwen/internal/store"
)

// PostgresEnv names the environment variable holding the URL of the
// PostgreSQL server that tests use (CI sets it; see .ci/run). The user
// needs the CREATEDB privilege.
const PostgresEnv = "CHUANGWEN_TEST_POSTGRES"

// Template is a database state made once per engine and test process, on
// first use, and copied for each test that asks for it.
type Template struct {
	// Name tells the template's databases apart: lower-case letters
	// and digits.
	Name string
	// Seed fills the migrated template; nil leaves it empty.
	Seed func(ctx context.Context, db *store.DB) error

	sqliteOnce sync.Once
	sqliteFile []byte // the template's SQLite file, checkpointed
	sqliteErr  error

	pgOnce sync.Once
	pgName string // the template database
	pgErr  error
}

// migrated is the template of a database with the schema and nothing else.
var migrated = &Template{Name: "m"}

// Both runs fn once on a fresh, migrated SQLite database and once on a
// fresh, migrated PostgreSQL database, the two runs in parallel (subtests
// "sqlite" and "postgres", which start when the calling test's function
// has returned). Without $CHUANGWEN_TEST_POSTGRES the PostgreSQL run is
// skipped with a message saying so; CI always sets it.
func Both(t *testing.T, fn func(t *testing.T, db *store.DB)) { migrated.Both(t, fn) }

// BothLong is Both in the long run and SQLite alone otherwise
// (Template.BothLong).
func BothLong(t *testing.T, fn func(t *testing.T, db *store.DB)) { migrated.BothLong(t, fn) }

// SQLite returns a fresh, migrated SQLite database in t.TempDir().
func SQLite(t testing.TB) *store.DB { return migrated.SQLite(t) }

// Postgres returns a fresh, migrated database on the test server, dropped
// after the test; it skips the test without $CHUANGWEN_TEST_POSTGRES.
func Postgres(t testing.TB) *store.DB { return migrated.Postgres(t) }

// EmptyPostgres creates an empty database on the test server (no schema)
// and returns its URL, for tests of commands that take an address; the
// database is dropped after the test. It skips the test without
// $CHUANGWEN_TEST_POSTGRES.
func EmptyPostgres(t testing.TB) string {
	t.Helper()
	srv, admin := server(t)
	name := dbName("e")
	if _, err := admin.Exec(context.Background(), "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dropLater(admin, name) })
	return withDatabase(srv, name)
}

// server answers the test server's URL and the process's connection to
// it; it skips the test without $CHUANGWEN_TEST_POSTGRES.
func server(t testing.TB) (string, *store.DB) {
	t.Helper()
	srv := os.Getenv(PostgresEnv)
	if srv == "" {
		t.Skip(PostgresEnv + " is not set: PostgreSQL run skipped (CI sets it)")
	}
	if !mainRunning.Load() {
		t.Fatal("storetest: PostgreSQL databases need the package's TestMain to call storetest.Main(m), which drops them")
	}
	admin, err := pgAdmin(srv)
	if err != nil {
		t.Fatalf("postgres at %s: %v", srv, err)
	}
	return srv, admin
}

// Like returns a fresh, migrated database of db's engine.
func Like(t testing.TB, db *store.DB) *store.DB { return migrated.Like(t, db) }

// Both runs fn on a copy of the template on each engine, as the package's
// Both does.
func (tp *Template) Both(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { t.Parallel(); fn(t, tp.SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { t.Parallel(); fn(t, tp.Postgres(t)) })
}

// BothLong runs fn on SQLite and, in the long run (LongEnv set, as in CI),
// on PostgreSQL too: for tests above the store (HTTP, whole loads) whose
// PostgreSQL half repeats what the store and domain tests check on it in
// every run, at the price of a database copied per test.
func (tp *Template) BothLong(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	if os.Getenv(LongEnv) != "" {
		tp.Both(t, fn)
		return
	}
	t.Run("sqlite", func(t *testing.T) { t.Parallel(); fn(t, tp.SQLite(t)) })
}

// Like returns a copy of the template on db's engine.
func (tp *Template) Like(t testing.TB, db *store.DB) *store.DB {
	t.Helper()
	if db.Dialect == store.Postgres {
		return tp.Postgres(t)
	}
	return tp.SQLite(t)
}

// SQLite returns a copy of the template in a SQLite file in t.TempDir(),
// closed after the test.
func (tp *Template) SQLite(t testing.TB) *store.DB {
	t.Helper()
	tp.sqliteOnce.Do(func() { tp.sqliteFile, tp.sqliteErr = tp.makeSQLite() })
	if tp.sqliteErr != nil {
		t.Fatalf("storetest: SQLite template %s: %v", tp.Name, tp.sqliteErr)
	}
	path := filepath.Join(t.TempDir(), "test.db")
	if err := os.WriteFile(path, tp.sqliteFile, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	// No fsync at commit: a test's database outlives no power cut, and
	// the commits' fsyncs were a large share of the suite's time. The
	// writer is one connection kept open, so the setting holds for the
	// database's life; the tests about durability open their own.
	if _, err := db.Exec(context.Background(), "PRAGMA synchronous=OFF"); err != nil {
		t.Fatal(err)
	}
	return db
}

// makeSQLite migrates and seeds a SQLite file and returns its bytes. The
// close of its last connection checkpoints the WAL into the file and
// removes it, so the file alone is the whole database.
func (tp *Template) makeSQLite() ([]byte, error) {
	dir, err := os.MkdirTemp("", "storetest-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "template.db")
	ctx := context.Background()
	db, err := store.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	err = tp.fill(ctx, db)
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() > 0 {
		return nil, errors.New("the WAL was not checkpointed at close")
	}
	return os.ReadFile(path)
}

func (tp *Template) fill(ctx context.Context, db *store.DB) error {
	if _, err := db.Migrate(ctx); err != nil {
		return err
	}
	if tp.Seed != nil {
		return tp.Seed(ctx, db)
	}
	return nil
}

// Postgres returns a copy of the template as a database of its own on the
// test server, dropped after the test; it skips the test without
// $CHUANGWEN_TEST_POSTGRES.
func (tp *Template) Postgres(t testing.TB) *store.DB {
	t.Helper()
	srv, admin := server(t)
	ctx := context.Background()
	tp.pgOnce.Do(func() { tp.pgName, tp.pgErr = tp.makePostgres(ctx, srv, admin) })
	if tp.pgErr != nil {
		t.Fatalf("storetest: PostgreSQL template %s: %v", tp.Name, tp.pgErr)
	}
	name := dbName("t" + tp.Name)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE "+tp.pgName); err != nil {
		t.Fatal(err)
	}
	// Commits without waiting for the WAL's flush, as for SQLite above.
	db, err := store.Open(ctx, asyncCommit(withDatabase(srv, name)))
	if err != nil {
		dropLater(admin, name)
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db.Close()
		dropLater(admin, name)
	})
	return db
}

func (tp *Template) makePostgres(ctx context.Context, srv string, admin *store.DB) (string, error) {
	name := dbName("tmpl" + tp.Name)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", err
	}
	templates.Lock()
	templates.names = append(templates.names, name)
	templates.Unlock()
	db, err := store.Open(ctx, withDatabase(srv, name))
	if err != nil {
		return "", err
	}
	err = tp.fill(ctx, db)
	// A template may have no connections when it is copied.
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	return name, err
}

// Test databases are named cw_<kind>_<unix seconds>_<random>: unique,
// and old enough leftovers of a killed run are recognised and dropped.
var dbNameRe = regexp.MustCompile(`^cw_[a-z0-9]+_([0-9]+)_[0-9a-f]+$`)

func dbName(kind string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return fmt.Sprintf("cw_%s_%d_%s", kind, time.Now().Unix(), hex.EncodeToString(b))
}

// withDatabase returns the server URL srv naming database name instead.
func withDatabase(srv, name string) string {
	u, err := url.Parse(srv)
	if err != nil {
		return srv
	}
	u.Path = "/" + name
	return u.String()
}

// asyncCommit returns dsn asking the server not to wait for the WAL's
// flush at commit.
func asyncCommit(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn
	}
	q := u.Query()
	q.Set("synchronous_commit", "off")
	u.RawQuery = q.Encode()
	return u.String()
}

var (
	mainRunning atomic.Bool

	adminOnce sync.Once
	adminDB   *store.DB
	adminErr  error

	templates struct {
		sync.Mutex
		names []string
	}
	drops sync.WaitGroup
)

// pgAdmin returns the process's connection to the database named in the
// server URL, from which it creates and drops test databases. The first
// call drops the leftovers of test runs killed over an hour ago.
func pgAdmin(srv string) (*store.DB, error) {
	adminOnce.Do(func() {
		ctx := context.Background()
		adminDB, adminErr = store.Open(ctx, srv)
		if adminErr != nil {
			return
		}
		names, err := store.Collect(ctx, adminDB.Reader(), func(r store.Scanner) (s string, err error) { return s, r.Scan(&s) },
			`SELECT datname FROM pg_database WHERE datname LIKE 'cw\_%'`)
		if err != nil {
			return
		}
		for _, n := range names {
			m := dbNameRe.FindStringSubmatch(n)
			if m == nil {
				continue
			}
			if sec, _ := strconv.ParseInt(m[1], 10, 64); time.Since(time.Unix(sec, 0)) > time.Hour {
				// Without FORCE: a database still in use is left alone.
				_, _ = adminDB.Exec(ctx, "DROP DATABASE IF EXISTS "+n)
			}
		}
	})
	return adminDB, adminErr
}

// dropLater drops a test database in the background: the drop waits for a
// checkpoint, which the next test need not wait for. Main waits for it.
func dropLater(admin *store.DB, name string) {
	drops.Add(1)
	go func() {
		defer drops.Done()
		_, _ = admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	}()
}

// LongEnv names the variable that runs the long scenarios: whole demo
// loads compared, plans at twelve thousand cases, every console page in a
// phone's browser, a replica killed under load. `make test` leaves them
// out to stay quick on a small machine; CI sets it and runs them all.
const LongEnv = "CHUANGWEN_TEST_LONG"

// Long skips t unless the long scenarios were asked for (LongEnv=1).
func Long(t testing.TB) {
	t.Helper()
	if os.Getenv(LongEnv) == "" {
		t.Skip("a long scenario: set " + LongEnv + "=1 to run it (CI does)")
	}
}

// Main runs the tests and then drops the PostgreSQL databases they made,
// the templates last, and exits with the tests' status. Each of after
// runs once the tests are done (a package's shared resources).
func Main(m *testing.M, after ...func()) {
	mainRunning.Store(true)
	code := m.Run()
	for _, fn := range after {
		fn()
	}
	drops.Wait()
	if adminDB != nil {
		templates.Lock()
		for _, n := range templates.names {
			_, _ = adminDB.Exec(context.Background(), "DROP DATABASE IF EXISTS "+n+" WITH (FORCE)")
		}
		templates.Unlock()
		adminDB.Close()
	}
	os.Exit(code)
}
