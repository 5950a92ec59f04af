package workflow_test

import (
	"context"
	"testing"
	"time"

	"chuangwen/internal/apperr"
	"chuangwen/internal/store"
	"chuangwen/internal/testcity"
	"chuangwen/internal/workflow"
)

// An action that waits for another transaction holding its case acts on
// the case as that one left it, all of it: a unit taken off the case's
// cooperating units while its handler's comment waited cannot comment.
// On PostgreSQL the case is locked as it is read, and a read that waited
// must not keep the rest of the case from before the wait. (SQLite has no
// such wait: its one writer holds the database's write lock from a
// transaction's first statement.)
func TestActionAfterWaitingSeesTheCaseAsLeft(t *testing.T) {
	db := testcity.Postgres(t)
	f := newFixture(t, db)
	c := f.report()
	for _, in := range []workflow.ActInput{{Action: workflow.Accept}, {Action: workflow.Dispatch, LeadUnitID: f.unitA.ID, CoopUnitIDs: []int64{f.unitB.ID}}} {
		if _, err := f.svc.Act(f.ctx, f.acceptor, c.ID, in); err != nil {
			t.Fatal(err)
		}
	}
	locked, done := make(chan struct{}), make(chan error, 1)
	go func() {
		done <- db.WithTx(context.Background(), func(tx *store.Tx) error {
			if _, err := tx.Exec(f.ctx, `UPDATE cases SET version = version + 1 WHERE id = ?`, c.ID); err != nil {
				return err
			}
			if _, err := tx.Exec(f.ctx, `DELETE FROM case_coop_units WHERE case_id = ?`, c.ID); err != nil {
				return err
			}
			close(locked)
			time.Sleep(300 * time.Millisecond) // the comment below waits meanwhile
			return nil
		})
	}()
	<-locked
	_, err := f.svc.Act(f.ctx, f.handlerB, c.ID, workflow.ActInput{Action: workflow.Comment, Opinion: "配合单位意见"})
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !apperr.Is(err, apperr.NotFound) && !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("a unit taken off the case while its comment waited: %v, want not found or conflict", err)
	}
	trail, err := f.svc.Timeline(f.ctx, f.acceptor, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range trail {
		if e.Action == string(workflow.Comment) {
			t.Errorf("the comment was recorded: %+v", e)
		}
	}
}
