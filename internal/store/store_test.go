package store_test

import (
	"context"
	"testing"

	"chuangwen/internal/store"
	"chuangwen/internal/store/storetest"
)

func TestMigrateTwiceAndAppendOnly(t *testing.T) {
	storetest.Both(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		applied, err := db.Migrate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(applied) != 0 {
			t.Fatalf("second migrate applied %v", applied)
		}
		err = db.WithTx(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO events (seq, at, actor_name, actor_role, action, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)`, 1, 1, "t", "admin", "x", "", "h")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.WithTx(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE events SET opinion = 'forged' WHERE seq = 1`)
			return err
		}); err == nil {
			t.Fatal("update of events succeeded; want append-only refusal")
		}
		if err := db.WithTx(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, `DELETE FROM events`)
			return err
		}); err == nil {
			t.Fatal("delete of events succeeded; want append-only refusal")
		}
	})
}

func TestRebindSkipsStrings(t *testing.T) {
	db := &store.DB{Dialect: store.Postgres}
	got := db.Rebind(`SELECT '?' , a FROM t WHERE b = ? AND c IN (?,?)`)
	want := `SELECT '?' , a FROM t WHERE b = $1 AND c IN ($2,$3)`
	if got != want {
		t.Fatalf("got %s", got)
	}
}
