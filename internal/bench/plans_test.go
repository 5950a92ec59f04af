package bench_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"chuangwen/internal/bench"
	"chuangwen/internal/demo"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
	"chuangwen/internal/store/storetest"
	"chuangwen/internal/testcity"
	"chuangwen/internal/workflow"
)

// TestHotPlans: the pages a unit's handler opens first (the queue to
// handle, the dashboard counters) and the quarter's unit figures, on
// SQLite, planned with the statistics of a small city after it grew to
// 12,000 cases, and again after Optimize: the same intended indexes both
// times.
func TestHotPlans(t *testing.T) {
	storetest.Long(t)
	t.Parallel()
	stale, fresh := hotPlans(t, storetest.SQLite(t))
	// On the statistics of the small city it grew from (the floor shipped
	// with the schema stands under them) and after Optimize alike, the
	// handler's queue reads the unit's own cases through cases_lead (and
	// its cooperations), not the city's open cases; the counters through
	// cases_lead and cases_open_unit; the figures the quarter's
	// dispatches by date; the office's queues, red warnings and counters
	// count in their own small indexes.
	for name, got := range map[string]map[string]string{"on stale statistics": stale, "after Optimize": fresh} {
		byUnit := `USING (COVERING )?INDEX cases_lead(_deadline)? \(lead_unit_id=\? AND state=\?`
		for k, want := range map[string][]string{
			"queue":             {`MULTI-INDEX OR`, byUnit},
			"queue by deadline": {`USING (COVERING )?INDEX cases_q_handle_due \(lead_unit_id=\?`},
			"counters":          {byUnit, `USING COVERING INDEX cases_open_unit \(lead_unit_id=\? AND overdue=\? AND state=\?\)`},
			"figures":           {`SEARCH dispatches USING .*dispatched_at>\? AND dispatched_at<\?\)`},
			// the office's queues and lists count their cases in a small
			// index each
			"acceptor 待受理":          {`USING COVERING INDEX cases_state_region \(state=\?\)`},
			"acceptor 待派遣":          {`USING COVERING INDEX cases_state_region \(state=\?\)`},
			"acceptor 已超期":          {`USING COVERING INDEX (cases_open_unit|cases_n_overdue|cases_q_overdue)\b`},
			"acceptor 延期待审":         {`USING COVERING INDEX cases_n_extension \(ext_pending=\? AND state=\?\)`},
			"acceptor 挂牌督办":         {`USING COVERING INDEX cases_n_supervised \(supervised=\? AND state=\?\)`},
			"acceptor red warnings": {`USING COVERING INDEX cases_warning \(warning>\?\)`},
			"acceptor counters":     {`USING COVERING INDEX cases_state_region \(state=\?\)`, `USING COVERING INDEX cases_n_extension`},
		} {
			for _, w := range want {
				if !regexp.MustCompile(w).MatchString(got[k]) {
					t.Errorf("%s %s: no %s in\n%s", k, name, w, got[k])
				}
			}
		}
	}
}

// TestHotPlansPostgres: the same reads on PostgreSQL, whose planner scales
// its statistics to the table's present size: the handler's queue and
// counters read the unit's cases through an index led by the unit (or a
// partial index of the queue), never a scan of the cases table, before
// ANALYZE and after. (The quarter's figures read most of the dispatches of
// the generated 120 days: a scan of them is the right plan.)
func TestHotPlansPostgres(t *testing.T) {
	storetest.Long(t)
	t.Parallel()
	stale, fresh := hotPlans(t, storetest.Postgres(t))
	unitIndex := regexp.MustCompile(`(Index|Index Only|Bitmap Index) Scan (using|on) (cases_lead|cases_lead_deadline|cases_q_handle|cases_q_handle_due|cases_open_unit|cases_q_overdue_unit|cases_q_overdue)\b`)
	for name, got := range map[string]map[string]string{"on stale statistics": stale, "after ANALYZE": fresh} {
		for _, k := range []string{"queue", "queue by deadline", "counters"} {
			if !unitIndex.MatchString(got[k]) || strings.Contains(got[k], "Seq Scan on cases ") {
				t.Errorf("%s %s: not through the unit's index:\n%s", k, name, got[k])
			}
		}
		// The handler's queue by deadline reads its page through the
		// unit's deadline index (the count goes through another).
		if !strings.Contains(got["queue by deadline"], "cases_q_handle_due") {
			t.Errorf("queue by deadline %s: not through cases_q_handle_due:\n%s", name, got["queue by deadline"])
		}
		// The office's queues never scan the cases. (Red warnings, a
		// tenth of this small city, may rightly be a scan here.)
		for _, k := range []string{"acceptor 待受理", "acceptor 待派遣", "acceptor 已超期", "acceptor 延期待审", "acceptor 挂牌督办", "acceptor counters"} {
			if strings.Contains(got[k], "Seq Scan on cases ") {
				t.Errorf("%s %s: a scan of the cases:\n%s", k, name, got[k])
			}
		}
	}
}

// hotPlans loads the demo's small city into db, takes its statistics,
// generates 12,000 cases without refreshing them, and returns the plans
// of the handler's queue, counters and the quarter's figures then
// (stale) and after Optimize (fresh).
func hotPlans(t *testing.T, db *store.DB) (stale, fresh map[string]string) {
	ctx := context.Background()
	loc := testcity.Shanghai
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
	acceptor := org.Actor{Name: "t", Role: org.RoleAcceptor, Scope: org.ScopeCity}
	var district int64
	if err := db.Reader().QueryRow(ctx, `SELECT id FROM regions WHERE level = 'district' ORDER BY id LIMIT 1`).Scan(&district); err != nil {
		t.Fatal(err)
	}
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
		run("queue by deadline", func() error {
			_, err := flow.List(ctx, handler, workflow.Filter{Queue: workflow.QueueToHandle, Sort: workflow.SortDeadline})
			return err
		})
		run("counters", func() error { _, err := flow.Counts(ctx, handler); return err })
		// The office's lists, queues and counters.
		for name, f := range map[string]workflow.Filter{
			"acceptor 待受理": {Queue: workflow.QueueToAccept}, "acceptor 待派遣": {Queue: workflow.QueueToDispatch},
			"acceptor 已超期": {Queue: workflow.QueueOverdue}, "acceptor 延期待审": {Queue: workflow.QueueExtension},
			"acceptor 挂牌督办": {Queue: workflow.QueueSupervised}, "acceptor red warnings": {Warning: 2},
			"acceptor district": {RegionID: district},
		} {
			run(name, func() error { _, err := flow.List(ctx, acceptor, f); return err })
		}
		run("acceptor counters", func() error { _, err := flow.Counts(ctx, acceptor); return err })
		run("figures", func() error {
			_, err := flow.UnitPerformance(ctx, workflow.Period{From: now.AddDate(0, 0, -90), To: now})
			return err
		})
		return got
	}
	stale = plans()
	if err := db.Optimize(ctx); err != nil {
		t.Fatal(err)
	}
	return stale, plans()
}
