package store_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"chuangwen/internal/store"
	"chuangwen/internal/store/storetest"
)

// TestHelpers runs the dialect helpers, the row collector, error wrapping
// and the unique-violation check on both engines.
func TestHelpers(t *testing.T) {
	storetest.Both(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.Exec(ctx, `CREATE TABLE h (id BIGINT PRIMARY KEY, grp TEXT NOT NULL, at BIGINT NOT NULL, code TEXT UNIQUE)`); err != nil {
			t.Fatal(err)
		}
		shanghai, _ := time.LoadLocation("Asia/Shanghai")
		// Instants around the bucket edges in Shanghai (UTC+8): a Sunday
		// night and the Monday after, a month's and a quarter's last
		// minute and the next, a leap day, the turn of a year.
		instants := []time.Time{
			time.Date(2026, 11, 29, 23, 59, 0, 0, shanghai), // Sunday
			time.Date(2026, 11, 30, 0, 0, 0, 0, shanghai),   // Monday
			time.Date(2026, 9, 30, 23, 59, 59, 0, shanghai),
			time.Date(2026, 10, 1, 0, 0, 0, 0, shanghai),
			time.Date(2028, 2, 29, 7, 59, 0, 0, shanghai), // before UTC midnight turns
			time.Date(2026, 12, 31, 23, 30, 0, 0, shanghai),
			time.Date(2027, 1, 1, 7, 30, 0, 0, shanghai), // UTC still 2026
			time.Date(2027, 1, 3, 12, 0, 0, 0, shanghai), // Sunday: week of 2026-12-28
		}
		err := db.WithTx(ctx, func(tx *store.Tx) error {
			for i, at := range instants {
				grp := "a"
				if i%2 == 1 {
					grp = "b"
				}
				if _, err := tx.Exec(ctx, `INSERT INTO h (id, grp, at) VALUES (?, ?, ?)`, i+1, grp, store.Ms(at)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range []store.Bucket{store.Day, store.Week, store.Month, store.Quarter} {
			got, err := store.Collect(ctx, db.Reader(), func(r store.Scanner) (s string, err error) { return s, r.Scan(&s) },
				`SELECT `+db.Dialect.TimeBucket(b, "at", shanghai)+` FROM h ORDER BY id`)
			if err != nil {
				t.Fatalf("%s: %v", b, err)
			}
			for i, at := range instants {
				if want := store.BucketLabel(b, at, shanghai); got[i] != want {
					t.Errorf("%s bucket of %s: SQL %q, Go %q", b, at, got[i], want)
				}
			}
		}
		// String aggregation and subquery membership.
		var agg string
		if err := db.Reader().QueryRow(ctx, `SELECT `+db.Dialect.StringAgg("id", ",")+` FROM (SELECT id FROM h WHERE grp = 'a' ORDER BY id) x`).Scan(&agg); err != nil {
			t.Fatal(err)
		}
		parts := strings.Split(agg, ",")
		if len(parts) != 4 {
			t.Errorf("string_agg = %q", agg)
		}
		ids, err := store.Int64s(ctx, db.Reader(), `SELECT id FROM h WHERE `+db.Dialect.InSubquery("id", "SELECT id FROM h WHERE grp = 'b'")+` ORDER BY id`)
		if err != nil || len(ids) != 4 || ids[0] != 2 {
			t.Errorf("in subquery: %v %v", ids, err)
		}
		// A unique violation is recognised through the wrapping; other
		// errors are not.
		err = db.WithTx(ctx, func(tx *store.Tx) error {
			if _, err := tx.Exec(ctx, `UPDATE h SET code = 'x' WHERE id = 1`); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `UPDATE h SET code = 'x' WHERE id = 2`)
			return err
		})
		if !store.IsUniqueViolation(err) {
			t.Errorf("duplicate code: %v not recognised as a unique violation", err)
		}
		var qe *store.QueryError
		if !errors.As(err, &qe) || !strings.Contains(qe.Query, "UPDATE h SET code") {
			t.Errorf("error does not name its statement: %v", err)
		}
		_, err = db.Exec(ctx, `INSERT INTO h (id, grp, at) VALUES (1, 'dup', 0)`)
		if !store.IsUniqueViolation(err) {
			t.Errorf("duplicate primary key: %v", err)
		}
		_, err = db.Exec(ctx, `INSERT INTO h (id, grp, at) VALUES (99, NULL, 0)`)
		if err == nil || store.IsUniqueViolation(err) {
			t.Errorf("NOT NULL failure taken for a unique violation: %v", err)
		}
		// No rows stays sql.ErrNoRows, unwrapped in meaning.
		var n int
		err = db.Reader().QueryRow(ctx, `SELECT id FROM h WHERE id = -1`).Scan(&n)
		if !errors.Is(err, sql.ErrNoRows) {
			t.Errorf("no rows: %v", err)
		}
		// A failing scan names the query.
		var s int
		err = db.Reader().QueryRow(ctx, `SELECT grp FROM h WHERE id = 1`).Scan(&s)
		if err == nil || !strings.Contains(err.Error(), "SELECT grp FROM h") {
			t.Errorf("scan error: %v", err)
		}
	})
}
