package workflow_test

// Regression tests: each reproduced a defect found in review (the comment
// on each says what was wrong) and failed until it was fixed.

import (
	"context"
	"testing"
	"time"

	"chuangwen/internal/apperr"
	"chuangwen/internal/photo"
	"chuangwen/internal/store"
	"chuangwen/internal/testcity"
	"chuangwen/internal/workflow"
)

// BUG (act.go, apply: cases RequestExtension / Return / Feedback / Postpone /
// VerifyFail / Void): a pending extension request belongs to the dispatch it was
// made for, but nothing clears ext_pending, ext_deadline and ext_reason when
// that dispatch ends. After unit A asks for more time and then returns the case,
// the case is re-dispatched to unit B still carrying A's request: B's
// handler cannot ask for an extension (Allowed refuses RequestExtension while
// ExtPending) and the dispatcher's extension queue offers A's stale request,
// whose approval would set B's deadline to the date A asked for. The same
// happens after Feedback (then VerifyFail sends the rework dispatch out with the
// old request pending), Postpone and Void.
// Fix: in apply, clear c.ExtPending, c.ExtDeadline and c.ExtReason in every
// action that ends or suspends the dispatch (Return, Feedback, Postpone,
// VerifyFail, Void, Reopen), e.g. in clearTimer and in the Feedback case.
func TestRegressionPendingExtensionSurvivesReturn(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		c := f.inProgress(f.unitA) // deadline Monday 14:00
		f.clk.Set(at(2026, 11, 16, 10, 0))
		f.act(f.handlerA, c.ID, workflow.ActInput{Action: workflow.RequestExtension, Opinion: "需协调车辆", Deadline: at(2026, 11, 20, 18, 0)})
		f.act(f.handlerA, c.ID, workflow.ActInput{Action: workflow.Return, Opinion: "非本单位职责"})
		if got := f.get(f.acceptor, c.ID); got.ExtPending || !got.ExtDeadline.IsZero() || got.ExtReason != "" {
			t.Errorf("returned case still carries unit A's extension request: pending=%v deadline=%s reason=%q",
				got.ExtPending, got.ExtDeadline, got.ExtReason)
		}
		f.act(f.acceptor, c.ID, workflow.ActInput{Action: workflow.Dispatch, LeadUnitID: f.unitB.ID})
		f.act(f.handlerB, c.ID, workflow.ActInput{Action: workflow.Acknowledge})
		page, err := f.svc.List(f.ctx, f.acceptor, workflow.Filter{Queue: workflow.QueueExtension})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Cases) != 0 {
			t.Errorf("extension queue offers unit A's stale request on unit B's dispatch: %v", ids(page.Cases))
		}
		if _, err := f.svc.Act(f.ctx, f.handlerB, c.ID, workflow.ActInput{Action: workflow.RequestExtension, Opinion: "我们也需要时间", Deadline: at(2026, 11, 18, 18, 0)}); err != nil {
			t.Errorf("unit B cannot request its own extension: %v", err)
		}
	})
}

// BUG (act.go, apply, case Feedback): same defect as above, through
// feedback and rework: a request left pending at feedback survives the
// verification and is still pending on the rework dispatch.
func TestRegressionPendingExtensionSurvivesFeedback(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		c := f.inProgress(f.unitA)
		f.act(f.handlerA, c.ID, workflow.ActInput{Action: workflow.RequestExtension, Opinion: "需要时间", Deadline: at(2026, 11, 20, 18, 0)})
		f.feedback(f.unitA, c.ID) // handled before anyone decided on the request
		c = f.act(f.inspector, c.ID, workflow.ActInput{Action: workflow.VerifyFail, Opinion: "不合格"})
		if c.ExtPending {
			t.Errorf("rework dispatch starts with the old dispatch's extension request pending (ext deadline %s)", c.ExtDeadline)
		}
	})
}

// BUG (watch.go, SweepDeadlines, first loop): `n, err := s.sweep(ctx, now,
// true)` declares a new err that shadows the named result, so a failure of
// the overdue (red) pass is dropped: SweepDeadlines goes on with the yellow
// pass and returns err == nil. Worse, the yellow pass then gives a case that
// is past its deadline a yellow card instead of a red one, and Watch logs
// nothing. The test makes the red pass fail by putting a trigger on the
// dispatches table that refuses the `UPDATE dispatches SET overdue = TRUE`.
// Fix: `n, e := s.sweep(ctx, now, true); overdue += n; if e != nil { return
// warned, overdue, e }` (and do not run the yellow pass after a red failure).
func TestRegressionSweepDeadlinesLosesOverdueError(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		c := f.dispatched(f.unitA) // deadline 14:00, warning 13:12
		stmts := []string{`CREATE TRIGGER tasks_refuse BEFORE UPDATE ON dispatches BEGIN SELECT RAISE(ABORT, 'dispatches refused'); END`}
		if db.Dialect == store.Postgres {
			stmts = []string{
				`CREATE FUNCTION tasks_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'dispatches refused'; END; $$`,
				`CREATE TRIGGER tasks_refuse BEFORE UPDATE ON dispatches FOR EACH ROW EXECUTE FUNCTION tasks_refuse()`,
			}
		}
		for _, s := range stmts {
			if _, err := db.Exec(f.ctx, s); err != nil {
				t.Fatalf("%s: %v", s, err)
			}
		}
		f.clk.Set(at(2026, 11, 16, 15, 0))
		w, o, err := f.svc.SweepDeadlines(f.ctx)
		if err == nil {
			t.Errorf("SweepDeadlines = %d warned, %d overdue, nil error; want the overdue pass's error", w, o)
		}
		if got := f.get(f.acceptor, c.ID); got.Warning == 1 {
			t.Errorf("overdue case got a yellow card (warning=1, overdue=%v) after the red pass failed", got.Overdue)
		}
	})
}

// BUG (act.go, apply, after the switch): the child rows (dispatches,
// case_coop_units) are written before the version-checked UPDATE of the
// case row, and nothing locks the case row first. On PostgreSQL, two
// dispatchers dispatching the same case with the same cooperating unit at
// once both insert (case, unit) into case_coop_units; the second insert
// waits for the first transaction and then fails with a unique violation
// (SQLSTATE 23505), so the loser gets an internal error (HTTP 500) instead
// of the "case.stale" conflict Act promises ("Two people acting on the same
// case at once cannot both succeed: the update is conditional on the version
// read"). SQLite serialises writers and does not show it.
// Fix: do the conditional `UPDATE cases ... WHERE id = ? AND version = ?`
// first (or `SELECT ... FOR UPDATE` the case row in load when inside Act on
// PostgreSQL, re-checking the version), and only then write dispatches,
// case_coop_units, photos and the event.
func TestRegressionConcurrentDispatchWithCoopUnit(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		for r := range 10 {
			c := f.accepted()
			dispatch := func() error {
				_, err := f.svc.Act(f.ctx, f.acceptor, c.ID, workflow.ActInput{Action: workflow.Dispatch, LeadUnitID: f.unitA.ID, CoopUnitIDs: []int64{f.unitB.ID}})
				return err
			}
			oneWinner(t, r, race(dispatch, dispatch))
			if ts := f.dispatches(c.ID); len(ts) != 1 {
				t.Errorf("round %d: %d dispatches", r, len(ts))
			}
		}
	})
}

// BUG (act.go apply vs watch.go sweep): lock-order inversion on PostgreSQL.
// Act updates the dispatch row first and the case row last; the deadline sweep
// updates the case rows first and then the dispatch rows. A handler's feedback
// racing the watch on the same case deadlocks; PostgreSQL aborts one of the
// two (SQLSTATE 40P01) and the user gets an internal error, or the sweep
// fails. Exactly which side loses depends on timing, so the test runs many
// cases at once and only checks that nobody gets anything but success or a
// clean conflict.
// Fix: take the case row first in Act (the version-checked UPDATE of cases
// before any dispatch update, as for the previous test), so both sides lock the
// case row before the dispatch row.
func TestRegressionSweepRacingFeedbackDeadlocks(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		const n = 20
		// The window is narrow; a few rounds make the deadlock near certain.
		// SQLite has one writer and cannot deadlock: one round suffices.
		rounds := 5
		if db.Dialect == store.SQLite {
			rounds = 1
		}
		for round := range rounds {
			f.clk.Set(start)
			var cs []*workflow.Case
			var photos []photo.File
			for range n {
				cs = append(cs, f.inProgress(f.unitA)) // deadline 14:00
				photos = append(photos, f.photo())
			}
			f.clk.Set(at(2026, 11, 16, 14, 30))
			ctx, cancel := context.WithTimeout(f.ctx, 2*time.Minute)
			fns := []func() error{func() error { _, _, err := f.svc.SweepDeadlines(ctx); return err }}
			for i, c := range cs {
				fns = append(fns, func() error {
					_, err := f.svc.Act(ctx, f.handlerA, c.ID, workflow.ActInput{Action: workflow.Feedback, Opinion: "done", Photos: photos[i : i+1]})
					return err
				})
			}
			errs := race(fns...)
			cancel()
			if errs[0] != nil {
				t.Errorf("round %d: sweep racing feedback failed: %v", round, errs[0])
			}
			for i, err := range errs[1:] {
				if err != nil && !isConflict(err) {
					t.Errorf("round %d: feedback %d racing the sweep failed with %v (code %s), want success or a conflict", round, i, err, apperr.CodeOf(err))
				}
			}
			if t.Failed() {
				return
			}
		}
	})
}

// BUG (perf.go, dispatchFigures and Figures.Rates): Postponed counts every
// postponed dispatch, Closed counts postponed dispatches too, and the closure
// rates divide by Due − Postponed. A dispatch that was postponed, resumed,
// handled and closed is thus in the numerator of the closure rate but not in
// its denominator: a unit with two ordinary closed dispatches and one such dispatch
// gets a closure rate of 3 / (3 − 1) = 150%. And a dispatch postponed before its
// deadline is subtracted from Due before it is even in Due, so a unit whose
// only due dispatch was handled on time shows no on-time handling rate at all
// (1 / (1 − 1)).
// Fix: count Postponed among the due dispatches only (`postponed = TRUE AND
// returned_at = 0 AND (handled_at > 0 OR deadline <= asOf)`), and leave
// postponed dispatches out of the closure numerator as the on-time numerators
// already do (`closed_at > 0 AND postponed = FALSE`), or count a separate
// closed-not-postponed figure for the rate.
func TestRegressionPerfRatesInconsistent(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		t.Run("postponed, resumed and closed", func(t *testing.T) {
			f := newFixture(t, db)
			for range 2 {
				c := f.verifying(f.unitA)
				f.act(f.inspector, c.ID, workflow.ActInput{Action: workflow.VerifyPass})
			}
			c := f.inProgress(f.unitA)
			f.act(f.acceptor, c.ID, workflow.ActInput{Action: workflow.Postpone, Opinion: "待协调"})
			f.act(f.acceptor, c.ID, workflow.ActInput{Action: workflow.Resume})
			f.feedback(f.unitA, c.ID)
			f.act(f.inspector, c.ID, workflow.ActInput{Action: workflow.VerifyPass})
			f.clk.Set(at(2026, 11, 16, 12, 0))
			rows, err := f.svc.UnitPerformance(f.ctx, workflow.Period{From: at(2026, 11, 16, 0, 0), To: at(2026, 11, 23, 0, 0)})
			if err != nil || len(rows) != 1 {
				t.Fatalf("rows = %+v, %v", rows, err)
			}
			rt := rows[0].Rates
			for name, v := range map[string]*float64{"on-time handling": rt.OnTimeHandling, "closure": rt.Closure, "on-time closure": rt.OnTimeClosure} {
				if v != nil && (*v < 0 || *v > 1) {
					t.Errorf("%s rate = %.2f, outside [0, 1] (figures %v %s)", name, *v, figs(rows[0].Figures), figNames)
				}
			}
		})
		t.Run("postponed before its deadline", func(t *testing.T) {
			f := newFixture(t, freshLike(t, db))
			c := f.verifying(f.unitB)
			f.act(f.inspector, c.ID, workflow.ActInput{Action: workflow.VerifyPass})
			long := f.inProgress(f.unitB, inCategory(f.cat5d.ID)) // deadline Monday 23 November
			f.act(f.acceptor, long.ID, workflow.ActInput{Action: workflow.Postpone, Opinion: "待协调"})
			f.clk.Set(at(2026, 11, 16, 12, 0))
			rows, err := f.svc.UnitPerformance(f.ctx, workflow.Period{From: at(2026, 11, 16, 0, 0), To: at(2026, 11, 23, 0, 0)})
			if err != nil || len(rows) != 1 {
				t.Fatalf("rows = %+v, %v", rows, err)
			}
			// One dispatch due (handled on time), one postponed and not yet due:
			// the on-time handling rate is 1 / 1.
			checkRate(t, "on-time handling", rows[0].Rates.OnTimeHandling, r(1, 1))
			if t.Failed() {
				t.Logf("figures %v %s", figs(rows[0].Figures), figNames)
			}
		})
		// Same family: Overdue (and Extended) count returned dispatches, which Due
		// leaves out, so the overdue rate's numerator is not part of its
		// denominator. Fix: `overdue = TRUE AND returned_at = 0` and
		// `extensions > 0 AND returned_at = 0` in dispatchFigures (or, as a
		// policy, count a dispatch returned after its deadline as due and late).
		t.Run("overdue, then returned", func(t *testing.T) {
			f := newFixture(t, freshLike(t, db))
			ok := f.inProgress(f.unitA)
			f.clk.Set(at(2026, 11, 16, 10, 0))
			f.feedback(f.unitA, ok.ID) // on time
			late := f.inProgress(f.unitA)
			f.clk.Set(at(2026, 11, 16, 15, 0))
			if _, o, err := f.svc.SweepDeadlines(f.ctx); err != nil || o != 1 {
				t.Fatalf("sweep: %d overdue, %v", o, err)
			}
			f.act(f.handlerA, late.ID, workflow.ActInput{Action: workflow.Return, Opinion: "非本单位"})
			rows, err := f.svc.UnitPerformance(f.ctx, workflow.Period{From: at(2026, 11, 16, 0, 0), To: at(2026, 11, 23, 0, 0)})
			if err != nil || len(rows) != 1 {
				t.Fatalf("rows = %+v, %v", rows, err)
			}
			fg, rt := rows[0].Figures, rows[0].Rates
			if fg.Overdue > fg.Due {
				t.Errorf("overdue %d > due %d (figures %v %s)", fg.Overdue, fg.Due, figs(fg), figNames)
			}
			// The only due dispatch was handled on time: it cannot also be late.
			checkRate(t, "on-time handling", rt.OnTimeHandling, r(1, 1))
			checkRate(t, "overdue", rt.Overdue, r(0, 1))
		})
	})
}
