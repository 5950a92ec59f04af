package bench_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"chuangwen/internal/bench"
	"chuangwen/internal/demo"
	"chuangwen/internal/org"
	"chuangwen/internal/store/storetest"
	"chuangwen/internal/testcity"
	"chuangwen/internal/workflow"
)

// TestHotPlans: the pages a unit's handler opens first (the queue to
// handle, the dashboard counters) and the quarter's unit figures, on
// SQLite, planned with the statistics of a small city after it grew to
// 12,000 cases, and again after Optimize.
func TestHotPlans(t *testing.T) {
	ctx := context.Background()
	loc := testcity.Shanghai
	db := storetest.SQLite(t)
	orgs, flow := testcity.Services(t, db)
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, loc)
	if _, err := demo.Load(ctx, orgs, flow, demo.Options{Cases: 10, Now: now}); err != nil {
		t.Fatal(err)
	}
	if err := db.Optimize(ctx); err != nil { // the small city's statistics
		t.Fatal(err)
	}
	var busiest int64
	if err := bench.Generate(ctx, db, bench.GenOptions{Cases: 12000, Days: 120, Seed: 1, Now: now, Loc: loc, StaleStatistics: true}); err != nil {
		t.Fatal(err)
	}
	if err := db.Reader().QueryRow(ctx, `SELECT lead_unit_id FROM cases WHERE lead_unit_id IS NOT NULL GROUP BY lead_unit_id ORDER BY count(*) DESC LIMIT 1`).Scan(&busiest); err != nil {
		t.Fatal(err)
	}
	handler := org.Actor{Name: "t", Role: org.RoleHandler, UnitID: busiest, Scope: org.ScopeUnit}
	plans := func() map[string]string {
		got := map[string]string{}
		record := func(name string) func(q, p string) {
			return func(q, p string) { got[name] += q + "\n  => " + p + "\n" }
		}
		run := func(name string, fn func() error) {
			db.Plans = record(name)
			defer func() { db.Plans = nil }()
			if err := fn(); err != nil {
				t.Fatal(err)
			}
		}
		run("queue", func() error {
			_, err := flow.List(ctx, handler, workflow.Filter{Queue: workflow.QueueToHandle})
			return err
		})
		run("counters", func() error { _, err := flow.Counts(ctx, handler); return err })
		run("figures", func() error {
			_, err := flow.UnitPerformance(ctx, workflow.Period{From: now.AddDate(0, 0, -90), To: now})
			return err
		})
		return got
	}
	stale := plans()
	if err := db.Optimize(ctx); err != nil {
		t.Fatal(err)
	}
	fresh := plans()
	// With the statistics Optimize keeps, the handler's queue reads the
	// unit's own cases through cases_lead (and its cooperations), not the
	// city's open cases; the overdue counter through cases_open_unit; the
	// figures the quarter's dispatches by date.
	for k, want := range map[string][]string{
		"queue":    {"MULTI-INDEX OR", "USING INDEX cases_lead (lead_unit_id=? AND state=?)"},
		"counters": {"USING COVERING INDEX cases_open_unit (lead_unit_id=? AND overdue=? AND state=?)"},
		"figures":  {"SEARCH dispatches USING INDEX dispatches_dispatched (dispatched_at>? AND dispatched_at<?)"},
	} {
		for _, w := range want {
			if !strings.Contains(fresh[k], w) {
				t.Errorf("%s after Optimize: no %q in\n%s", k, w, fresh[k])
			}
		}
	}
	// What the small city's statistics would have planned (no Optimize
	// between the growth and the reads), for the record.
	if !strings.Contains(stale["queue"], "cases_lead") {
		t.Logf("the queue on stale statistics:\n%s", stale["queue"])
	}
}
