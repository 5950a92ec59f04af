package backup

import (
	"context"
	"log/slog"
	"testing"

	"chuangwen/internal/store"
	"chuangwen/internal/store/storetest"
)

// TestPgClear: a restore that fails after pg_restore takes the (empty
// before) target back to empty, so that it can simply be run again.
func TestPgClear(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.EmptyPostgres(t)
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := store.PublicTables(ctx, db); err != nil || n == 0 {
		t.Fatalf("after migrating: %d tables, %v", n, err)
	}
	pgClear(ctx, dsn, slog.New(slog.DiscardHandler))
	if err := pgEmpty(ctx, dsn); err != nil {
		t.Fatalf("not empty after the clean-up: %v", err)
	}
}
