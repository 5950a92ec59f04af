package bench_test

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"chuangwen/internal/audit"
	"chuangwen/internal/bench"
	"chuangwen/internal/demo"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
	"chuangwen/internal/store/storetest"
	"chuangwen/internal/testcity"
	"chuangwen/internal/workflow"
)

// TestGenerateAndMeasure runs the benchmark path at a small size on both
// databases: the generated cases are well formed (the trail verifies, the
// figures add up) and every timed scenario runs.
func TestGenerateAndMeasure(t *testing.T) {
	storetest.Both(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		loc := testcity.Shanghai
		orgs, flow := testcity.Services(t, db)
		now := time.Date(2026, 11, 27, 10, 0, 0, 0, loc)
		if _, err := demo.Load(ctx, orgs, flow, demo.Options{Cases: 10, Now: now}); err != nil {
			t.Fatal(err)
		}
		if err := bench.Generate(ctx, db, bench.GenOptions{Cases: 6000, Days: 120, Seed: 1, Now: now, Loc: loc}); err != nil {
			t.Fatal(err)
		}
		var n, dispatches, bad int
		q := db.Reader()
		if err := q.QueryRow(ctx, `SELECT count(*) FROM cases`).Scan(&n); err != nil || n != 6010 {
			t.Fatalf("cases %d %v", n, err)
		}
		if err := q.QueryRow(ctx, `SELECT count(*) FROM dispatches`).Scan(&dispatches); err != nil || dispatches < 4000 {
			t.Fatalf("dispatches %d %v", dispatches, err)
		}
		// every dispatched-or-later case points at a task of its lead unit
		if err := q.QueryRow(ctx, `SELECT count(*) FROM cases c LEFT JOIN dispatches t ON t.id = c.dispatch_id
			WHERE c.state IN ('dispatched','in_progress','verifying','closed') AND (t.id IS NULL OR t.unit_id <> c.lead_unit_id)`).Scan(&bad); err != nil || bad != 0 {
			t.Fatalf("%d cases without their task (%v)", bad, err)
		}
		if rep, err := audit.Verify(ctx, db); err != nil || !rep.OK {
			t.Fatalf("trail: %+v %v", rep, err)
		}
		// a unit's handler finds its generated cases by a word (on
		// PostgreSQL through the unit token each index row was given)
		var lead int64
		var desc string
		if err := q.QueryRow(ctx, `SELECT lead_unit_id, description FROM cases WHERE id > 10 AND lead_unit_id IS NOT NULL ORDER BY id LIMIT 1`).Scan(&lead, &desc); err != nil {
			t.Fatal(err)
		}
		word := string([]rune(desc)[:4])
		found, err := flow.List(ctx, org.Actor{Name: "t", Role: org.RoleHandler, UnitID: lead, Scope: org.ScopeUnit}, workflow.Filter{Q: word})
		if err != nil || found.Total == 0 {
			t.Fatalf("unit %d's search for %q: %d cases, %v", lead, word, found.Total, err)
		}
		for _, c := range found.Cases {
			if c.LeadUnitID != lead && !slices.Contains(c.CoopUnitIDs, lead) {
				t.Fatalf("unit %d's search found case %d of unit %d", lead, c.ID, c.LeadUnitID)
			}
		}
		// the numbering continues after the generated cases
		c, err := flow.Report(ctx, org.Actor{Name: "t", Role: org.RoleAcceptor, Scope: org.ScopeCity}, workflow.NewCase{CategoryID: 2, Description: "x", Address: "y"})
		if err != nil {
			t.Fatal(err)
		}
		if c.ID != 6011 {
			t.Fatalf("next case id %d", c.ID)
		}
		// a list that matches more than CountCap says so and pages on
		page, err := flow.List(ctx, org.Actor{Name: "t", Role: org.RoleAcceptor, Scope: org.ScopeCity}, workflow.Filter{})
		if err != nil || !page.TotalCapped || page.Total != workflow.CountCap || len(page.Cases) != 50 || page.Next == 0 {
			t.Fatalf("capped list: total %d capped %v, %d cases, next %d, %v", page.Total, page.TotalCapped, len(page.Cases), page.Next, err)
		}
		var out bytes.Buffer
		if err := bench.Reads(ctx, db, flow, now, 3, &out); err != nil {
			t.Fatal(err)
		}
		if err := bench.Search(ctx, db, flow, 3, &out); err != nil {
			t.Fatal(err)
		}
		if err := bench.Rechecks(ctx, db, flow, now, 3, 3, &out); err != nil {
			t.Fatal(err)
		}
		var drawn, linked int
		if err := q.QueryRow(ctx, `SELECT (SELECT count(*) FROM revisits), (SELECT count(*) FROM case_recurrences)`).Scan(&drawn, &linked); err != nil || drawn == 0 || linked != 3 {
			t.Errorf("%d revisits drawn, %d recurrences linked (want 3: the reports with the check on) (%v)", drawn, linked, err)
		}
		if err := bench.Transitions(ctx, db, flow, 10, 2, &out); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"queue 待受理", "per unit", "all kinds together", "weekly draw (3 weeks", "recurrence check on", "| " + string(db.Dialect) + " | 2 | 40 |"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("report lacks %q:\n%s", want, out.String())
			}
		}
	})
}
