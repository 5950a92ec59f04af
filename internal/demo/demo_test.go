package demo_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"chuangwen/internal/audit"
	"chuangwen/internal/blob"
	"chuangwen/internal/demo"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
	"chuangwen/internal/workflow"
)

func shanghai(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

type env struct {
	db   *store.DB
	orgs *org.Store
	flow *workflow.Service
}

func newEnv(t testing.TB) env {
	db := store.NewTestSQLite(t)
	return env{db: db, orgs: &org.Store{DB: db}, flow: workflow.NewService(db, &workflow.PhotoStore{Blobs: blob.Local{Dir: t.TempDir()}}, shanghai(t), nil)}
}

// count runs a query returning one integer.
func count(t *testing.T, db *store.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.Reader().QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func groupCounts(t *testing.T, db *store.DB, q string) map[string]int {
	t.Helper()
	rows, err := db.Reader().Query(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			t.Fatal(err)
		}
		out[k] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestLoad(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	now := time.Date(2026, 11, 27, 16, 30, 0, 0, shanghai(t)) // a Friday afternoon
	accounts, err := demo.Load(ctx, e.orgs, e.flow, demo.Options{Cases: 200, Now: now, Log: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	if e.flow.Now != nil || e.orgs.Now != nil {
		t.Error("Load did not restore the clocks")
	}

	levels := groupCounts(t, e.db, `SELECT level, count(*) FROM regions GROUP BY level`)
	if levels["city"] != 1 || levels["district"] != 4 || levels["street"] < 12 || levels["community"] < 40 {
		t.Errorf("regions by level = %v", levels)
	}
	if n := count(t, e.db, `SELECT count(*) FROM units`); n < 25 {
		t.Errorf("%d units, want at least 25", n)
	}
	kinds := groupCounts(t, e.db, `SELECT kind, count(*) FROM units GROUP BY kind`)
	if kinds["district"] != 4 || kinds["street"] != 8 || kinds["company"] < 3 {
		t.Errorf("units by kind = %v", kinds)
	}
	if n := count(t, e.db, `SELECT count(*) FROM categories WHERE parent_id IS NOT NULL AND standard <> ''`); n < 20 {
		t.Errorf("%d 小类 with a standard", n)
	}

	roles := map[string]int{}
	for _, a := range accounts {
		roles[a.Role]++
		if a.Password != demo.DemoPassword || a.Username == "" || a.Unit == "" {
			t.Errorf("account %+v", a)
		}
	}
	for _, r := range org.Roles {
		if roles[string(r)] == 0 {
			t.Errorf("no demo account with role %s", r)
		}
	}
	if n := count(t, e.db, `SELECT count(*) FROM users WHERE must_change_password = TRUE`); n != 0 {
		t.Errorf("%d demo users must change their password", n)
	}
	for _, name := range []string{"admin", "acceptor1", "handler-cgj", "grid1"} {
		if _, err := e.orgs.Login(ctx, name, demo.DemoPassword, "127.0.0.1", "test"); err != nil {
			t.Errorf("login %s: %v", name, err)
		}
	}

	if n := count(t, e.db, `SELECT count(*) FROM cases`); n != 200 {
		t.Errorf("%d cases, want 200", n)
	}
	states := groupCounts(t, e.db, `SELECT state, count(*) FROM cases GROUP BY state`)
	t.Logf("cases by state: %v", states)
	for _, st := range workflow.States {
		if states[string(st)] == 0 {
			t.Errorf("no case in state %s", st)
		}
	}
	if states["closed"] < 100 {
		t.Errorf("only %d closed cases", states["closed"])
	}
	for name, q := range map[string]string{
		"overdue":                   `SELECT count(*) FROM cases WHERE overdue = TRUE`,
		"open overdue":              `SELECT count(*) FROM cases WHERE overdue = TRUE AND state IN ('dispatched', 'in_progress')`,
		"yellow":                    `SELECT count(*) FROM cases WHERE warning = 1`,
		"open yellow":               `SELECT count(*) FROM cases WHERE warning = 1 AND state IN ('dispatched', 'in_progress')`,
		"reworked":                  `SELECT count(*) FROM cases WHERE rework_count > 0`,
		"returned":                  `SELECT count(*) FROM cases WHERE return_count > 0`,
		"supervised":                `SELECT count(*) FROM cases WHERE supervised = TRUE`,
		"extension pending":         `SELECT count(*) FROM cases WHERE ext_pending = TRUE`,
		"extended":                  `SELECT count(*) FROM tasks WHERE extensions > 0`,
		"handled late":              `SELECT count(*) FROM tasks WHERE handled_at > deadline`,
		"after photos":              `SELECT count(*) FROM photos WHERE kind = 'after'`,
		"merged into a case":        `SELECT count(*) FROM cases WHERE merged_into IS NOT NULL`,
		"leader supervision":        `SELECT count(*) FROM events e JOIN users u ON u.id = e.actor_id WHERE e.action = 'supervise' AND u.username = 'leader1'`,
		"by district government":    `SELECT count(*) FROM cases c JOIN units u ON u.id = c.lead_unit_id WHERE u.kind = 'district'`,
		"street office cooperating": `SELECT count(*) FROM case_coop_units cu JOIN units u ON u.id = cu.unit_id WHERE u.kind = 'street'`,
	} {
		if n := count(t, e.db, q); n == 0 {
			t.Errorf("no %s cases (%s)", name, q)
		}
	}
	sources := groupCounts(t, e.db, `SELECT source, count(*) FROM cases GROUP BY source`)
	for _, src := range []string{workflow.SourceCitizen, workflow.SourceHotline, workflow.SourceInspector, workflow.SourceGrid} {
		if sources[src] == 0 {
			t.Errorf("no case from source %s (%v)", src, sources)
		}
	}
	// Nothing happens after "now", and the trail is in time order.
	if n := count(t, e.db, `SELECT count(*) FROM events WHERE at > ? AND action <> 'user.login'`, now.UnixMilli()); n != 0 {
		t.Errorf("%d events after now", n)
	}
	if n := count(t, e.db, `SELECT count(*) FROM events a JOIN events b ON b.seq = a.seq + 1 WHERE b.at < a.at AND b.action <> 'user.login'`); n != 0 {
		t.Errorf("%d events earlier than the one before them", n)
	}
	if n := count(t, e.db, `SELECT count(*) FROM cases WHERE reported_at < ?`, now.AddDate(0, 0, -120).UnixMilli()); n != 0 {
		t.Errorf("%d cases reported before the window", n)
	}

	rep, err := audit.Verify(ctx, e.db.Reader())
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK {
		t.Errorf("audit chain broken: %+v", rep)
	}

	if _, err := demo.Load(ctx, e.orgs, e.flow, demo.Options{Cases: 10, Now: now}); err == nil {
		t.Error("a second Load on the same database succeeded")
	}
}

// TestDeterministic loads twice with the same seed and compares the cases.
func TestDeterministic(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 27, 16, 30, 0, 0, shanghai(t))
	dump := func() string {
		e := newEnv(t)
		if _, err := demo.Load(ctx, e.orgs, e.flow, demo.Options{Cases: 60, Days: 30, Seed: 7, Now: now}); err != nil {
			t.Fatal(err)
		}
		rows, err := e.db.Reader().Query(ctx, `SELECT no, state, description, category_id, COALESCE(lead_unit_id, 0), reported_at, updated_at FROM cases ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var b strings.Builder
		for rows.Next() {
			var no, state, desc string
			var cat, lead, rep, upd int64
			if err := rows.Scan(&no, &state, &desc, &cat, &lead, &rep, &upd); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintln(&b, no, state, desc, cat, lead, rep, upd)
		}
		return b.String()
	}
	a, b := dump(), dump()
	if a != b {
		t.Error("two loads with the same seed differ")
	}
}

func TestRefusesExistingCity(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	if _, err := e.orgs.CreateRegion(ctx, org.System, org.Region{Code: "110000", Name: "某市", Level: "city"}); err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Load(ctx, e.orgs, e.flow, demo.Options{Cases: 10}); err == nil {
		t.Error("Load into a database with regions succeeded")
	}
}

// TestLoadFull times the default size. It runs only with
// CHUANGWEN_DEMO_FULL=1 (it takes tens of seconds on a slow disk).
func TestLoadFull(t *testing.T) {
	if os.Getenv("CHUANGWEN_DEMO_FULL") == "" {
		t.Skip("set CHUANGWEN_DEMO_FULL=1 to load 2000 demo cases")
	}
	e := newEnv(t)
	start := time.Now()
	if _, err := demo.Load(context.Background(), e.orgs, e.flow, demo.Options{Log: t.Logf}); err != nil {
		t.Fatal(err)
	}
	t.Logf("2000 cases loaded in %s", time.Since(start).Round(time.Millisecond))
	t.Logf("cases by state: %v", groupCounts(t, e.db, `SELECT state, count(*) FROM cases GROUP BY state`))
	t.Logf("events: %d", count(t, e.db, `SELECT count(*) FROM events`))
}
