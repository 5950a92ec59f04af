package workflow_test

import (
	"errors"
	"testing"

	"chuangwen/internal/apperr"
	"chuangwen/internal/store"
	"chuangwen/internal/testcity"
	"chuangwen/internal/workflow"
)

// TestLostRaceIsAConflict: a unit's handler acts on the version it saw of
// a case that someone has since moved out of the unit's reach: the answer
// is 409 with the case's state now, not 404. A unit that never had the
// case, or a caller that sent no version (it saw nothing), still gets
// 404, so that other units' cases stay unseen.
func TestLostRaceIsAConflict(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		c := f.accepted()
		c = f.act(f.acceptor, c.ID, workflow.ActInput{Action: workflow.Dispatch, LeadUnitID: f.unitA.ID})
		seen := c.Version // what unit A's second browser tab shows
		f.act(f.handlerA, c.ID, workflow.ActInput{Action: workflow.Return, Opinion: "非我单位职责", Version: seen})

		moved := func(in workflow.ActInput, state string) {
			t.Helper()
			_, err := f.svc.Act(f.ctx, f.handlerA, c.ID, in)
			wantCode(t, err, apperr.Conflict)
			var e *apperr.Error
			if !errors.As(err, &e) || e.Key != "case.moved_on" || len(e.Args) != 2 || e.Args[1] != "state."+state {
				t.Errorf("lost race: %v, want case.moved_on with state %s", err, state)
			}
		}
		// the other tab acknowledges what it saw: the case went back to
		// the office
		moved(workflow.ActInput{Action: workflow.Acknowledge, Version: seen}, "accepted")
		// re-dispatched to unit B meanwhile
		f.act(f.acceptor, c.ID, workflow.ActInput{Action: workflow.Dispatch, LeadUnitID: f.unitB.ID})
		moved(workflow.ActInput{Action: workflow.Acknowledge, Version: seen}, "dispatched")

		// no version: nothing seen, 404 as before
		f.actErr(apperr.NotFound, f.handlerA, c.ID, workflow.ActInput{Action: workflow.Acknowledge})
		// a version no older than the case's own is no lost race either
		now := f.get(f.acceptor, c.ID).Version
		f.actErr(apperr.NotFound, f.handlerA, c.ID, workflow.ActInput{Action: workflow.Acknowledge, Version: now})

		// Unit B never had the second case: a guessed id and version say
		// nothing about it.
		other := f.accepted()
		f.act(f.acceptor, other.ID, workflow.ActInput{Action: workflow.Dispatch, LeadUnitID: f.unitA.ID})
		f.actErr(apperr.NotFound, f.handlerB, other.ID, workflow.ActInput{Action: workflow.Acknowledge, Version: 1})
	})
}
