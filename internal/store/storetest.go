package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// PostgresTestEnv names the environment variable holding the URL of the
// PostgreSQL server that tests use (CI sets it; see .ci/run).
const PostgresTestEnv = "CHUANGWEN_TEST_POSTGRES"

// TestDBs runs fn once on a fresh, migrated SQLite database in a temp
// folder and once on a fresh schema of the PostgreSQL server named by
// $CHUANGWEN_TEST_POSTGRES. Without that variable the PostgreSQL run is
// skipped with a message saying so; CI always sets it.
func TestDBs(t *testing.T, fn func(t *testing.T, db *DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, NewTestSQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, NewTestPostgres(t)) })
}

// NewTestSQLite opens and migrates a SQLite database in t.TempDir().
func NewTestSQLite(t testing.TB) *DB {
	t.Helper()
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}

// NewTestPostgres creates a private schema on the test server, opens a DB
// whose search_path is that schema, migrates it, and drops the schema when
// the test ends.
func NewTestPostgres(t testing.TB) *DB {
	t.Helper()
	url := os.Getenv(PostgresTestEnv)
	if url == "" {
		t.Skip(PostgresTestEnv + " is not set: PostgreSQL run skipped (CI sets it)")
	}
	ctx := context.Background()
	admin, err := Open(ctx, url)
	if err != nil {
		t.Fatalf("postgres at %s: %v", url, err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	if _, err := admin.w.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		t.Fatal(err)
	}
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	db, err := Open(ctx, url+sep+"search_path="+schema)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db.Close()
		_, _ = admin.w.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		admin.Close()
	})
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}

// RawExec runs a statement without rebinding, outside any transaction;
// tests use it to tamper with rows the product never changes.
func (db *DB) RawExec(ctx context.Context, q string) error {
	_, err := db.w.ExecContext(ctx, q)
	return err
}
