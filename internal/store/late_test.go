package store_test

import (
	"context"
	"errors"
	"testing"

	"chuangwen/internal/store"
	"chuangwen/internal/store/storetest"
)

// Late writes run in the transaction after its body, in order; a failing
// one rolls the whole transaction back. (Those of a group commit's piece
// that fails go with it: group_test.go.)
func TestLateWrites(t *testing.T) {
	storetest.Both(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.Exec(ctx, `CREATE TABLE l (n INTEGER NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		insert := func(tx *store.Tx, n int) func() error {
			return func() error { _, err := tx.Exec(ctx, `INSERT INTO l (n) VALUES (?)`, n); return err }
		}
		err := db.WithTx(ctx, func(tx *store.Tx) error {
			tx.Late(insert(tx, 1))
			tx.Late(insert(tx, 3))
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM l`).Scan(&n); err != nil || n != 0 {
				t.Errorf("late writes ran early: %d rows, %v", n, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := store.Int64s(ctx, db.Reader(), `SELECT n FROM l ORDER BY n`)
		if err != nil || len(got) != 2 || got[0] != 1 || got[1] != 3 {
			t.Fatalf("rows after commit: %v %v, want [1 3]", got, err)
		}
		boom := errors.New("boom")
		err = db.WithTx(ctx, func(tx *store.Tx) error {
			if _, err := tx.Exec(ctx, `INSERT INTO l (n) VALUES (4)`); err != nil {
				return err
			}
			tx.Late(func() error { return boom })
			return nil
		})
		if !errors.Is(err, boom) {
			t.Fatalf("a failing late write: %v", err)
		}
		if got, _ := store.Int64s(ctx, db.Reader(), `SELECT n FROM l ORDER BY n`); len(got) != 2 {
			t.Errorf("a failing late write kept the body's row: %v", got)
		}
	})
}
