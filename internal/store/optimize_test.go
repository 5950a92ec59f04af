package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

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
