package workflow_test

import (
	"testing"
	"time"

	"chuangwen/internal/apperr"
	"chuangwen/internal/store"
	"chuangwen/internal/testcity"
	"chuangwen/internal/workflow"
)

// A deadline given by hand is within a year (a typo's year 9999 would
// keep the case off every overdue list); a year to the day is allowed.
func TestDeadlineWithinAYear(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		c := f.accepted()
		far := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
		f.actErr(apperr.Invalid, f.acceptor, c.ID, workflow.ActInput{Action: workflow.Dispatch, LeadUnitID: f.unitA.ID, Deadline: far})
		d := f.act(f.acceptor, c.ID, workflow.ActInput{Action: workflow.Dispatch, LeadUnitID: f.unitA.ID, Deadline: f.clk.Now().AddDate(1, 0, 0)})
		if !d.Deadline.Equal(f.clk.Now().AddDate(1, 0, 0)) {
			t.Fatalf("deadline %v", d.Deadline)
		}
		p := f.inProgress(f.unitA)
		f.actErr(apperr.Invalid, f.handlerA, p.ID, workflow.ActInput{Action: workflow.RequestExtension, Opinion: "需协调", Deadline: far})
		// nor can the approval set one further than the request
		f.act(f.handlerA, p.ID, workflow.ActInput{Action: workflow.RequestExtension, Opinion: "需协调", Deadline: p.Deadline.Add(48 * time.Hour)})
		f.actErr(apperr.Invalid, f.acceptor, p.ID, workflow.ActInput{Action: workflow.ApproveExtension, Deadline: far})
	})
}
