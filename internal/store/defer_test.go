package store_test

import (
	"context"
	"testing"

	"chuangwen/internal/store"
	"chuangwen/internal/store/storetest"
)

// Deferred writes run in the transaction's order: a read after them sees
// them, an Exec after them reports its own rows, the commit sends what is
// left; a deferred write that fails fails the statement it went with and
// the whole transaction.
func TestDeferredWrites(t *testing.T) {
	storetest.Both(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.Exec(ctx, `CREATE TABLE d (n INTEGER PRIMARY KEY, v TEXT NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		err := db.WithTx(ctx, func(tx *store.Tx) error {
			for n := 1; n <= 3; n++ {
				if err := tx.Defer(ctx, `INSERT INTO d (n, v) VALUES (?, ?)`, n, "甲"); err != nil {
					return err
				}
			}
			var c int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM d`).Scan(&c); err != nil || c != 3 {
				t.Errorf("a read after three deferred inserts sees %d rows (%v)", c, err)
			}
			if err := tx.Defer(ctx, `UPDATE d SET v = ? WHERE n = ?`, "乙", 2); err != nil {
				return err
			}
			res, err := tx.Exec(ctx, `UPDATE d SET v = ? WHERE n >= ?`, "丙", 3)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n != 1 {
				t.Errorf("the Exec after a deferred write reports %d rows, want its own 1", n)
			}
			return tx.Defer(ctx, `INSERT INTO d (n, v) VALUES (?, ?)`, 4, "丁") // sent with the commit
		})
		if err != nil {
			t.Fatal(err)
		}
		rows, err := store.Collect(ctx, db.Reader(), func(r store.Scanner) (v string, err error) { return v, r.Scan(&v) }, `SELECT v FROM d ORDER BY n`)
		if err != nil || len(rows) != 4 || rows[0] != "甲" || rows[1] != "乙" || rows[2] != "丙" || rows[3] != "丁" {
			t.Fatalf("rows after commit: %v %v", rows, err)
		}
		// A deferred write that fails (a duplicate key) fails the
		// transaction, whether found by a later statement or by the commit.
		for _, later := range []bool{true, false} {
			err = db.WithTx(ctx, func(tx *store.Tx) error {
				if err := tx.Defer(ctx, `INSERT INTO d (n, v) VALUES (?, ?)`, 5, "戊"); err != nil {
					return err
				}
				if err := tx.Defer(ctx, `INSERT INTO d (n, v) VALUES (?, ?)`, 1, "dup"); err != nil {
					return err
				}
				if later {
					_, err := tx.Exec(ctx, `UPDATE d SET v = v WHERE n = 1`)
					return err
				}
				return nil
			})
			if err == nil || !store.IsUniqueViolation(err) {
				t.Errorf("a failing deferred write (found by a later statement: %v): %v", later, err)
			}
			var c int
			if err := db.Reader().QueryRow(ctx, `SELECT count(*) FROM d`).Scan(&c); err != nil || c != 4 {
				t.Errorf("after the failed transaction: %d rows (%v), want 4", c, err)
			}
		}
		// A transaction that PostgreSQL aborted (a statement failed, its
		// error ignored) does not pass for committed. (SQLite undoes the
		// failed statement alone and commits the rest.)
		err = db.WithTx(ctx, func(tx *store.Tx) error {
			_, _ = tx.Exec(ctx, `INSERT INTO d (n, v) VALUES (?, ?)`, 1, "dup") // error ignored
			return nil
		})
		if (err == nil) != (db.Dialect == store.SQLite) {
			t.Errorf("commit after a failed statement on %s: %v", db.Dialect, err)
		}
		// A batch that fails before reaching the server (a value the
		// driver cannot send) fails the transaction all the same, even if
		// the caller goes on regardless.
		if db.Dialect == store.Postgres {
			err = db.WithTx(ctx, func(tx *store.Tx) error {
				if err := tx.Defer(ctx, `INSERT INTO d (n, v) VALUES (?, ?)`, 7, make(chan int)); err != nil {
					return err
				}
				_, _ = tx.Exec(ctx, `UPDATE d SET v = v WHERE n = 1`) // error ignored
				return tx.Defer(ctx, `INSERT INTO d (n, v) VALUES (?, ?)`, 8, "庚")
			})
			if err == nil {
				t.Error("a transaction whose held writes never reached the server committed")
			}
			var c int
			if err := db.Reader().QueryRow(ctx, `SELECT count(*) FROM d WHERE n IN (7, 8)`).Scan(&c); err != nil || c != 0 {
				t.Errorf("rows of the failed transaction: %d (%v)", c, err)
			}
		}
		// The pool's connections are fine afterwards.
		if err := db.WithTx(ctx, func(tx *store.Tx) error {
			return tx.Defer(ctx, `INSERT INTO d (n, v) VALUES (?, ?)`, 6, "己")
		}); err != nil {
			t.Fatal(err)
		}
	})
}
