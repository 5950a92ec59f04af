package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"chuangwen/internal/store"
	"chuangwen/internal/store/storetest"
)

// TestOptimizeRenewsPlans: a SQLite database analysed while small, then
// grown: the readers plan with the small database's statistics until
// Optimize refreshes them and renews the readers' connections.
func TestOptimizeRenewsPlans(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.Exec(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	plan := func() string {
		t.Helper()
		rows, err := db.Reader().Query(ctx, `EXPLAIN QUERY PLAN SELECT id FROM growth WHERE a = 1 AND b = 0`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			out = append(out, detail)
		}
		return strings.Join(out, "; ")
	}
	exec(`CREATE TABLE growth (id INTEGER PRIMARY KEY, a INTEGER NOT NULL, b INTEGER NOT NULL)`)
	exec(`CREATE INDEX growth_a ON growth(a)`)
	exec(`CREATE INDEX growth_b ON growth(b)`)
	// small: a tells rows apart, b does not
	for i := range 100 {
		exec(`INSERT INTO growth (a, b) VALUES (?, 0)`, i)
	}
	exec(`ANALYZE`)
	// every reader connection in use at once, so each has loaded the schema
	var conns []*sql.Rows
	for range 8 {
		r, err := db.Reader().Query(ctx, `SELECT 1`)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, r)
	}
	for _, r := range conns {
		r.Close()
	}
	if p := plan(); !strings.Contains(p, "growth_a") {
		t.Fatalf("small database: %s", p)
	}
	// grown: now a = 1 is most of the table, and b = 0 still 100 rows
	var b strings.Builder
	b.WriteString(`INSERT INTO growth (a, b) VALUES `)
	for i := range 20000 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "(1, %d)", i+1)
	}
	exec(b.String())
	stale := plan()
	if err := db.Optimize(ctx); err != nil {
		t.Fatal(err)
	}
	if p := plan(); !strings.Contains(p, "growth_b") {
		t.Errorf("after Optimize the readers still plan %q (before: %q)", p, stale)
	}
	t.Logf("before Optimize: %s", stale)
}

// TestStatisticsFloor: a new database plans with the shipped statistics of
// a large city for its busy tables, from the migrations on and after every
// Optimize; a table whose own statistics describe more rows keeps them.
func TestStatisticsFloor(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	rows := func(tbl string) int64 {
		t.Helper()
		var stat string
		if err := db.Reader().QueryRow(ctx, `SELECT stat FROM sqlite_stat1 WHERE tbl = ? ORDER BY idx LIMIT 1`, tbl).Scan(&stat); err != nil {
			t.Fatalf("statistics of %s: %v", tbl, err)
		}
		var n int64
		fmt.Sscan(stat, &n)
		return n
	}
	floor := rows("cases")
	if floor < 100000 {
		t.Fatalf("an empty database's cases are planned as %d rows, want the shipped floor", floor)
	}
	for _, tbl := range []string{"dispatches", "case_coop_units"} {
		if rows(tbl) < 10000 {
			t.Errorf("%s planned as %d rows", tbl, rows(tbl))
		}
	}
	// Optimize analyses the (empty) tables again and puts the floor back.
	if err := db.Optimize(ctx); err != nil {
		t.Fatal(err)
	}
	if n := rows("cases"); n != floor {
		t.Errorf("after Optimize the cases are planned as %d rows, want %d", n, floor)
	}
	// Statistics of a larger table stand.
	if _, err := db.Exec(ctx, `UPDATE sqlite_stat1 SET stat = ? || substr(stat, instr(stat, ' ')) WHERE tbl = 'cases'`, fmt.Sprint(floor*10)); err != nil {
		t.Fatal(err)
	}
	changed, err := db.FloorStatistics(ctx)
	if err != nil || changed {
		t.Fatalf("floor over a larger table's statistics: changed %v, %v", changed, err)
	}
	if n := rows("cases"); n != floor*10 {
		t.Errorf("a larger table's statistics were replaced: %d rows", n)
	}
}

// TestAnalyzeStale: on PostgreSQL a table whose rows changed since its
// last analysis by more than autovacuum's threshold is analysed, whether
// or not autovacuum runs (the test server runs without it), and then no
// longer counts as stale; on SQLite there is nothing to do.
func TestAnalyzeStale(t *testing.T) {
	ctx := context.Background()
	if got, err := storetest.SQLite(t).AnalyzeStale(ctx); err != nil || got != nil {
		t.Errorf("SQLite: %v, %v", got, err)
	}
	db := storetest.Postgres(t)
	err := db.WithTx(ctx, func(tx *store.Tx) error {
		for i := range 400 {
			if _, err := tx.Exec(ctx, `INSERT INTO login_throttle (key, failures, window_start, locked_until) VALUES (?, 1, 0, 0)`, fmt.Sprintf("ip:10.9.%d.%d", i/200, i%200)); err != nil {
				return err
			}
		}
		// the counts reach the statistics when this transaction ends,
		// not up to ten seconds later
		_, err := tx.Exec(ctx, `SELECT pg_stat_force_next_flush()`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if got, err = db.AnalyzeStale(ctx); err != nil {
			t.Fatal(err)
		}
		if slices.Contains(got, "login_throttle") {
			break
		}
	}
	if !slices.Contains(got, "login_throttle") {
		t.Fatalf("400 new rows in login_throttle, not analysed: %v", got)
	}
	var analysed sql.NullTime
	if err := db.Reader().QueryRow(ctx, `SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'login_throttle' AND schemaname = current_schema()`).Scan(&analysed); err != nil || !analysed.Valid {
		t.Errorf("last_analyze of login_throttle: %v %v", analysed, err)
	}
	if again, err := db.AnalyzeStale(ctx); err != nil || slices.Contains(again, "login_throttle") {
		t.Errorf("analysed again at once: %v, %v", again, err)
	}
}

// TestVacuumQueues: on PostgreSQL a queue table that 1,500 rows passed
// through (inserted, then deleted when done) and that no vacuum has
// visited is vacuumed (the test server runs without autovacuum), and then
// not again for a while, however many rows pass through it; a table that
// is no queue is left alone; on SQLite there is nothing to do.
func TestVacuumQueues(t *testing.T) {
	ctx := context.Background()
	if got, err := storetest.SQLite(t).VacuumQueues(ctx); err != nil || got != nil {
		t.Errorf("SQLite: %v, %v", got, err)
	}
	db := storetest.Postgres(t)
	for _, q := range []string{
		`INSERT INTO audit_pending (seq) SELECT i FROM generate_series(1000001, 1001500) AS i`,
		`DELETE FROM audit_pending WHERE seq > 1000000`,
		`INSERT INTO login_throttle (key, failures, window_start, locked_until) SELECT 'ip:10.8.' || i, 1, 0, 0 FROM generate_series(1, 1500) AS i`,
		`DELETE FROM login_throttle WHERE key LIKE 'ip:10.8.%'`,
	} {
		if _, err := db.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec(ctx, `SELECT pg_stat_force_next_flush()`); err != nil {
		t.Fatal(err)
	}
	var got []string
	var err error
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if got, err = db.VacuumQueues(ctx); err != nil {
			t.Fatal(err)
		}
		if len(got) > 0 {
			break
		}
	}
	if !slices.Equal(got, []string{"audit_pending"}) {
		t.Fatalf("vacuumed %v, want the trail's queue alone", got)
	}
	var vacuumed sql.NullTime
	if err := db.Reader().QueryRow(ctx, `SELECT last_vacuum FROM pg_stat_user_tables WHERE relname = 'audit_pending' AND schemaname = current_schema()`).Scan(&vacuumed); err != nil || !vacuumed.Valid {
		t.Errorf("last_vacuum of audit_pending: %v %v", vacuumed, err)
	}
	// Vacuumed a moment ago (as autovacuum would have): left alone
	// however many rows pass through it meanwhile, until the interval
	// has passed.
	err = db.WithTx(ctx, func(tx *store.Tx) error {
		for _, q := range []string{
			`INSERT INTO audit_pending (seq) SELECT i FROM generate_series(2000001, 2001500) AS i`,
			`DELETE FROM audit_pending WHERE seq > 2000000`,
			`SELECT pg_stat_force_next_flush()`,
		} {
			if _, err := tx.Exec(ctx, q); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		var dead int
		if err := db.Reader().QueryRow(ctx, `SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'audit_pending' AND schemaname = current_schema()`).Scan(&dead); err != nil {
			t.Fatal(err)
		}
		if dead > 1000 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the second 1,500 dead rows not in the statistics: %d", dead)
		}
	}
	if again, err := db.VacuumQueues(ctx); err != nil || len(again) > 0 {
		t.Errorf("vacuumed again at once: %v, %v", again, err)
	}
}
