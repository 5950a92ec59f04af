package workflow_test

import (
	"fmt"
	"math"
	"testing"

	"chuangwen/internal/store"
	"chuangwen/internal/testcity"
	"chuangwen/internal/workflow"
)

// figs lists every count of f in a fixed order, so that whole rows compare
// at once (Figures has an unexported field and cannot be built here).
func figs(f workflow.Figures) [15]int {
	return [15]int{f.Dispatched, f.Returns, f.Due, f.Handled, f.HandledOnTime, f.Closed, f.ClosedOnTime,
		f.Reworks, f.Overdue, f.Extended, f.Postponed, f.Reported, f.Merged, f.Accepted, f.Rejected}
}

const figNames = "[dispatched returns due handled handled_on_time closed closed_on_time reworks overdue extended postponed reported merged accepted rejected]"

// r is an expected rate: nil (no denominator) or num/den.
func r(num, den int) *float64 {
	v := float64(num) / float64(den)
	return &v
}

func rateString(p *float64) string {
	if p == nil {
		return "nil"
	}
	return fmt.Sprintf("%.4f", *p)
}

func checkRate(t *testing.T, what string, got, want *float64) {
	t.Helper()
	if (got == nil) != (want == nil) || (got != nil && math.Abs(*got-*want) > 1e-9) {
		t.Errorf("%s = %s, want %s", what, rateString(got), rateString(want))
	}
}

func checkRates(t *testing.T, who string, got, want workflow.Rates) {
	t.Helper()
	checkRate(t, who+" acceptance", got.Acceptance, want.Acceptance)
	checkRate(t, who+" on-time handling", got.OnTimeHandling, want.OnTimeHandling)
	checkRate(t, who+" closure", got.Closure, want.Closure)
	checkRate(t, who+" on-time closure", got.OnTimeClosure, want.OnTimeClosure)
	checkRate(t, who+" rework", got.Rework, want.Rework)
	checkRate(t, who+" overdue", got.Overdue, want.Overdue)
	checkRate(t, who+" extension", got.Extension, want.Extension)
	checkRate(t, who+" return", got.Return, want.Return)
}

func checkFigures(t *testing.T, who string, got workflow.Figures, want [15]int) {
	t.Helper()
	if figs(got) != want {
		t.Errorf("%s figures\n got %v\nwant %v\n     %s", who, figs(got), want, figNames)
	}
}

// perfScenario builds the week of Monday 16 November 2026 (4-working-hour
// category, every first deadline Monday 14:00) and returns the period.
//
// Unit A, cases in district 1:
//
//	A1 handled 10:00 (on time), closed                        → 1 dispatch
//	A2 marked overdue by the watch at 15:00, handled 15:30,
//	   closed (handled late)                                  → 1 dispatch
//	A3 handled 10:00, verification failed 10:30 (rework, new
//	   deadline 15:30), handled 11:00, closed                 → 2 dispatches
//	A4 returned 09:30 without acknowledging                   → 1 dispatch
//
// Unit B, cases in district 2:
//
//	B1 postponed 10:00 and still postponed                    → 1 dispatch
//	B2 extension to Tuesday 18:00 approved 10:30, handled
//	   15:00 (after the first deadline, before the extended
//	   one), closed                                           → 1 dispatch
//
// Acceptance: in district 1 also one rejected report, one merged into A1
// and one still waiting; in district 2 also one inspector report
// (accepted on arrival). One report without a region counts nowhere. A case
// dispatched to A the Friday before is outside the period.
func perfScenario(t *testing.T, f *fixture) workflow.Period {
	t.Helper()
	// The week before.
	f.clk.Set(at(2026, 11, 13, 9, 0))
	prev := f.verifying(f.unitA)
	f.act(f.inspector, prev.ID, workflow.ActInput{Action: workflow.VerifyPass})

	f.clk.Set(at(2026, 11, 16, 8, 30))
	a1, a2, a3, a4 := f.accepted(), f.accepted(), f.accepted(), f.accepted()
	b1, b2 := f.accepted(inRegion(f.community2.ID)), f.accepted(inRegion(f.community2.ID))
	rej := f.report()
	f.act(f.acceptor, rej.ID, workflow.ActInput{Action: workflow.Reject, Opinion: "不属实"})
	dup := f.report()
	f.act(f.acceptor, dup.ID, workflow.ActInput{Action: workflow.Merge, MergeInto: a1.ID})
	f.report() // waiting for acceptance
	if _, err := f.svc.Report(f.ctx, f.inspector, workflow.NewCase{CategoryID: f.cat4h.ID, Description: "巡查", RegionID: f.community2.ID}); err != nil {
		t.Fatal(err)
	}
	f.report(func(in *workflow.NewCase) { in.RegionID, in.Address = 0, "某路口" })

	set := func(h, m int) { f.clk.Set(at(2026, 11, 16, h, m)) }

	set(9, 0)
	for _, c := range []*workflow.Case{a1, a2, a3, a4} {
		f.act(f.acceptor, c.ID, workflow.ActInput{Action: workflow.Dispatch, LeadUnitID: f.unitA.ID})
	}
	for _, c := range []*workflow.Case{b1, b2} {
		f.act(f.acceptor, c.ID, workflow.ActInput{Action: workflow.Dispatch, LeadUnitID: f.unitB.ID})
	}
	set(9, 10)
	for _, c := range []*workflow.Case{a1, a2, a3} {
		f.act(f.handlerA, c.ID, workflow.ActInput{Action: workflow.Acknowledge})
	}
	for _, c := range []*workflow.Case{b1, b2} {
		f.act(f.handlerB, c.ID, workflow.ActInput{Action: workflow.Acknowledge})
	}
	set(9, 30)
	f.act(f.handlerA, a4.ID, workflow.ActInput{Action: workflow.Return, Opinion: "非本单位"})
	set(10, 0)
	f.feedback(f.unitA, a1.ID)
	f.feedback(f.unitA, a3.ID)
	f.act(f.acceptor, b1.ID, workflow.ActInput{Action: workflow.Postpone, Opinion: "待协调"})
	f.act(f.handlerB, b2.ID, workflow.ActInput{Action: workflow.RequestExtension, Opinion: "需要苗木", Deadline: at(2026, 11, 17, 18, 0)})
	set(10, 15)
	f.act(f.inspector, a1.ID, workflow.ActInput{Action: workflow.VerifyPass})
	set(10, 30)
	if c := f.act(f.inspector, a3.ID, workflow.ActInput{Action: workflow.VerifyFail, Opinion: "不合格"}); !c.Deadline.Equal(at(2026, 11, 16, 15, 30)) {
		t.Fatalf("rework deadline %s", c.Deadline)
	}
	f.act(f.acceptor, b2.ID, workflow.ActInput{Action: workflow.ApproveExtension})
	set(11, 0)
	f.act(f.handlerA, a3.ID, workflow.ActInput{Action: workflow.Acknowledge})
	f.feedback(f.unitA, a3.ID)
	set(11, 15)
	f.act(f.inspector, a3.ID, workflow.ActInput{Action: workflow.VerifyPass})
	set(15, 0)
	if w, o, err := f.svc.SweepDeadlines(f.ctx); err != nil || w != 0 || o != 1 {
		t.Fatalf("sweep at 15:00 = %d, %d, %v; want only A2 overdue", w, o, err)
	}
	f.feedback(f.unitB, b2.ID)
	set(15, 30)
	f.feedback(f.unitA, a2.ID)
	set(15, 45)
	f.act(f.inspector, a2.ID, workflow.ActInput{Action: workflow.VerifyPass})
	f.act(f.inspector, b2.ID, workflow.ActInput{Action: workflow.VerifyPass})

	// Figures are read on Tuesday at noon.
	f.clk.Set(at(2026, 11, 17, 12, 0))
	return workflow.Period{From: at(2026, 11, 16, 0, 0), To: at(2026, 11, 23, 0, 0)}
}

// Expected figures, counted by hand from the definitions in perf.go:
//
// Unit A — dispatches A1, A2, A3 (first), A3 (rework), A4:
//
//	dispatched 5; returns 1 (A4)
//	due 4: the four not returned, all handled
//	handled 4; handled on time 3 (A2 late)
//	closed 3 (A1, A2, A3 rework; the first A3 dispatch was reworked, not closed)
//	closed on time 2 (A1, A3 rework)
//	reworks 1; overdue 1 (A2); extended 0; postponed 0
var wantA = [15]int{5, 1, 4, 4, 3, 3, 2, 1, 1, 0, 0, 0, 0, 0, 0}

// Unit B — dispatches B1, B2:
//
//	dispatched 2; returns 0
//	due 2: B2 handled, B1's deadline (Monday 14:00, unchanged by the
//	postponement) passed before Tuesday noon
//	handled 1, on time 1 (B2 by its extended deadline)
//	closed 1, on time 1; reworks 0; overdue 0 (B1 is postponed, the watch
//	leaves it alone); extended 1 (B2); postponed 1 (B1)
var wantB = [15]int{2, 0, 2, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0}

// Rates from Figures.Rates: the on-time and closure rates divide by
// due − postponed; rework by handled; overdue and extension by due; return
// by dispatched.
var (
	ratesA = workflow.Rates{
		OnTimeHandling: r(3, 4), Closure: r(3, 4), OnTimeClosure: r(2, 4),
		Rework: r(1, 4), Overdue: r(1, 4), Extension: r(0, 4), Return: r(1, 5),
	}
	ratesB = workflow.Rates{
		OnTimeHandling: r(1, 1), Closure: r(1, 1), OnTimeClosure: r(1, 1),
		Rework: r(0, 1), Overdue: r(0, 2), Extension: r(1, 2), Return: r(0, 2),
	}
)

func TestUnitPerformance(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		p := perfScenario(t, f)
		rows, err := f.svc.UnitPerformance(f.ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 2 {
			t.Fatalf("rows = %+v", rows)
		}
		// Best on-time closure first: B (100%) before A (50%).
		if rows[0].ID != f.unitB.ID || rows[0].Code != "B" || rows[0].Name != "园林局" || rows[1].ID != f.unitA.ID {
			t.Fatalf("order = %s, %s", rows[0].Code, rows[1].Code)
		}
		checkFigures(t, "unit B", rows[0].Figures, wantB)
		checkRates(t, "unit B", rows[0].Rates, ratesB)
		checkFigures(t, "unit A", rows[1].Figures, wantA)
		checkRates(t, "unit A", rows[1].Rates, ratesA)
		checkRates(t, "unit A recomputed", rows[1].Figures.Rates(), ratesA)

		// The week before: only the Friday case, handled and closed on time.
		prev, err := f.svc.UnitPerformance(f.ctx, workflow.Period{From: at(2026, 11, 9, 0, 0), To: at(2026, 11, 16, 0, 0)})
		if err != nil || len(prev) != 1 || prev[0].ID != f.unitA.ID {
			t.Fatalf("previous week = %+v, %v", prev, err)
		}
		checkFigures(t, "unit A, week before", prev[0].Figures, [15]int{1, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0})

		// A period with no dispatch has no rows.
		none, err := f.svc.UnitPerformance(f.ctx, workflow.Period{From: at(2026, 12, 1, 0, 0), To: at(2026, 12, 8, 0, 0)})
		if err != nil || len(none) != 0 {
			t.Errorf("empty period = %+v, %v", none, err)
		}
	})
}

func TestRegionPerformance(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		p := perfScenario(t, f)

		rows, err := f.svc.RegionPerformance(f.ctx, p, "district")
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 2 || rows[0].ID != f.district1.ID || rows[1].ID != f.district2.ID || rows[0].Code != "330102" || rows[1].Name != "拱墅区" {
			t.Fatalf("district rows = %+v", rows)
		}
		// District 1 holds unit A's dispatches; its reports: A1–A4 (accepted),
		// one rejected, one merged, one waiting → reported 7, merged 1,
		// accepted 4, rejected 1; acceptance = 4 / (7 − 1).
		d1 := wantA
		d1[11], d1[12], d1[13], d1[14] = 7, 1, 4, 1
		checkFigures(t, "district 1", rows[0].Figures, d1)
		r1 := ratesA
		r1.Acceptance = r(4, 6)
		checkRates(t, "district 1", rows[0].Rates, r1)
		// District 2 holds unit B's dispatches; reports B1, B2 and the
		// inspector's → reported 3, accepted 3; acceptance = 3 / 3.
		d2 := wantB
		d2[11], d2[12], d2[13], d2[14] = 3, 0, 3, 0
		checkFigures(t, "district 2", rows[1].Figures, d2)
		r2 := ratesB
		r2.Acceptance = r(3, 3)
		checkRates(t, "district 2", rows[1].Rates, r2)

		// Streets hold the same as their districts.
		streets, err := f.svc.RegionPerformance(f.ctx, p, "street")
		if err != nil || len(streets) != 2 || streets[0].ID != f.street1.ID {
			t.Fatalf("street rows = %+v, %v", streets, err)
		}
		checkFigures(t, "street 1", streets[0].Figures, d1)
		checkFigures(t, "street 2", streets[1].Figures, d2)

		// The city sums both (the report without a region counts nowhere).
		city, err := f.svc.RegionPerformance(f.ctx, p, "city")
		if err != nil || len(city) != 1 {
			t.Fatalf("city rows = %+v, %v", city, err)
		}
		var sum [15]int
		for i := range sum {
			sum[i] = d1[i] + d2[i]
		}
		checkFigures(t, "city", city[0].Figures, sum)
		checkRate(t, "city acceptance", city[0].Rates.Acceptance, r(7, 9))

		// A period without reports or dispatches: rows with nothing, rates nil.
		empty, err := f.svc.RegionPerformance(f.ctx, workflow.Period{From: at(2026, 12, 1, 0, 0), To: at(2026, 12, 8, 0, 0)}, "district")
		if err != nil || len(empty) != 2 {
			t.Fatalf("empty period = %+v, %v", empty, err)
		}
		for _, row := range empty {
			checkFigures(t, "empty "+row.Code, row.Figures, [15]int{})
			checkRates(t, "empty "+row.Code, row.Rates, workflow.Rates{})
		}
		if none, err := f.svc.RegionPerformance(f.ctx, p, "province"); err != nil || len(none) != 0 {
			t.Errorf("unknown level = %+v, %v", none, err)
		}
	})
}

func TestRatesZeroDenominators(t *testing.T) {
	cases := []struct {
		name string
		f    workflow.Figures
		want workflow.Rates
	}{
		{"nothing at all", workflow.Figures{}, workflow.Rates{}},
		{"all returned", workflow.Figures{Dispatched: 2, Returns: 2}, workflow.Rates{Return: r(2, 2)}},
		{"everything due is postponed", workflow.Figures{Dispatched: 3, Due: 3, Postponed: 3, Overdue: 1, Extended: 1},
			workflow.Rates{Overdue: r(1, 3), Extension: r(1, 3), Return: r(0, 3)}},
		{"more postponed than due", workflow.Figures{Dispatched: 3, Due: 1, Postponed: 2, Handled: 1, HandledOnTime: 1},
			workflow.Rates{Rework: r(0, 1), Overdue: r(0, 1), Extension: r(0, 1), Return: r(0, 3)}},
		{"handled none", workflow.Figures{Dispatched: 1, Due: 1, Overdue: 1},
			workflow.Rates{OnTimeHandling: r(0, 1), Closure: r(0, 1), OnTimeClosure: r(0, 1), Overdue: r(1, 1), Extension: r(0, 1), Return: r(0, 1)}},
		{"acceptance needs region figures", workflow.Figures{Reported: 4, Accepted: 2}, workflow.Rates{}},
		{"ordinary", workflow.Figures{Dispatched: 10, Returns: 1, Due: 8, Handled: 8, HandledOnTime: 6, Closed: 7, ClosedCounted: 7, ClosedOnTime: 5, Reworks: 2, Overdue: 2, Extended: 1, Postponed: 1},
			workflow.Rates{OnTimeHandling: r(6, 7), Closure: r(7, 7), OnTimeClosure: r(5, 7), Rework: r(2, 8), Overdue: r(2, 8), Extension: r(1, 8), Return: r(1, 10)}},
	}
	for _, tc := range cases {
		checkRates(t, tc.name, tc.f.Rates(), tc.want)
	}
}

// The period is a cohort by dispatch time.
func TestPerformanceCohortBoundaries(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.clk.Set(at(2026, 11, 16, 0, 0)) // midnight: inside [From, To)
		f.dispatched(f.unitA, inCategory(f.cat5d.ID))
		f.clk.Set(at(2026, 11, 23, 0, 0)) // next Monday midnight: outside
		f.dispatched(f.unitA, inCategory(f.cat5d.ID))
		f.clk.Set(at(2026, 11, 30, 0, 0))
		rows, err := f.svc.UnitPerformance(f.ctx, workflow.Period{From: at(2026, 11, 16, 0, 0), To: at(2026, 11, 23, 0, 0)})
		if err != nil || len(rows) != 1 {
			t.Fatalf("rows = %+v, %v", rows, err)
		}
		// One dispatch, unhandled, its deadline (Monday 23rd 18:00) after the
		// period but before now: the figures are the cohort's outcome as
		// known now (docs/performance.md), so it is due and not handled.
		checkFigures(t, "unit A", rows[0].Figures, [15]int{1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
		checkRates(t, "unit A", rows[0].Rates, workflow.Rates{OnTimeHandling: r(0, 1), Closure: r(0, 1), OnTimeClosure: r(0, 1), Overdue: r(0, 1), Extension: r(0, 1), Return: r(0, 1)})
		// Read while the period is still running, "now" bounds what is due.
		f.clk.Set(at(2026, 11, 20, 12, 0))
		rows, err = f.svc.UnitPerformance(f.ctx, workflow.Period{From: at(2026, 11, 16, 0, 0), To: at(2026, 12, 31, 0, 0)})
		if err != nil || len(rows) != 1 {
			t.Fatalf("rows = %+v, %v", rows, err)
		}
		if due := rows[0].Figures.Due; due != 0 {
			t.Errorf("due before any deadline passed = %d", due)
		}
	})
}
