package workflow_test

import (
	"testing"

	"chuangwen/internal/apperr"
	"chuangwen/internal/photo"
	"chuangwen/internal/store"
	"chuangwen/internal/testcity"
	"chuangwen/internal/workflow"
)

// The rows an action writes without reading their ids back (a dispatch
// row numbered by the action's locked read, photos naming the event just
// appended, their jobs naming the photo just inserted) land tied to the
// right rows, on both databases.
func TestActionRowsNamedWithoutReadingBack(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		dispatchRow := func(caseID int64) (id, unit int64, deadline int64) {
			t.Helper()
			err := db.Reader().QueryRow(f.ctx, `SELECT d.id, d.unit_id, d.deadline FROM cases c JOIN dispatches d ON d.id = c.dispatch_id
				WHERE c.id = ? AND d.case_id = c.id`, caseID).Scan(&id, &unit, &deadline)
			if err != nil {
				t.Fatalf("case %d's dispatch row: %v", caseID, err)
			}
			return id, unit, deadline
		}

		// A dispatch: the case names its new row, which names the lead
		// unit and the case's deadline.
		a := f.accepted()
		got := f.act(f.acceptor, a.ID, workflow.ActInput{Action: workflow.Dispatch, LeadUnitID: f.unitA.ID, CoopUnitIDs: []int64{f.unitB.ID}})
		id, unit, deadline := dispatchRow(a.ID)
		if id != got.DispatchID || unit != f.unitA.ID || deadline != store.Ms(got.Deadline) {
			t.Fatalf("dispatch row %d (unit %d, deadline %d), case answered dispatch %d, deadline %d", id, unit, deadline, got.DispatchID, store.Ms(got.Deadline))
		}
		if got.LeadUnitName != f.unitA.Name || len(got.CoopUnitIDs) != 1 || got.CoopUnitIDs[0] != f.unitB.ID {
			t.Fatalf("dispatched case = %+v", got)
		}

		// Two cases dispatched one after the other get rows of their own.
		b := f.dispatched(f.unitB)
		idB, unitB, _ := dispatchRow(b.ID)
		if idB == id || unitB != f.unitB.ID {
			t.Fatalf("second case's dispatch row %d (unit %d), first's %d", idB, unitB, id)
		}

		// Units are checked in one read: an inactive cooperating unit or
		// one that does not exist refuses the dispatch and writes nothing.
		c := f.accepted()
		if _, err := db.Exec(f.ctx, `UPDATE units SET active = FALSE WHERE id = ?`, f.unitB.ID); err != nil {
			t.Fatal(err)
		}
		for _, coops := range [][]int64{{f.unitB.ID}, {987654}} {
			f.actErr(apperr.Invalid, f.acceptor, c.ID, workflow.ActInput{Action: workflow.Dispatch, LeadUnitID: f.unitA.ID, CoopUnitIDs: coops})
		}
		f.actErr(apperr.Invalid, f.acceptor, c.ID, workflow.ActInput{Action: workflow.Dispatch, LeadUnitID: f.unitB.ID})
		// a list longer than a dispatch may name is refused before any
		// read (40,000 ids had failed the database's bound on variables)
		many := make([]int64, workflow.MaxCoopUnits+1)
		for i := range many {
			many[i] = int64(1000 + i)
		}
		f.actErr(apperr.Invalid, f.acceptor, c.ID, workflow.ActInput{Action: workflow.Dispatch, LeadUnitID: f.unitA.ID, CoopUnitIDs: many})
		if _, err := db.Exec(f.ctx, `UPDATE units SET active = TRUE WHERE id = ?`, f.unitB.ID); err != nil {
			t.Fatal(err)
		}
		if now := f.get(f.acceptor, c.ID); now.Version != c.Version || now.State != workflow.Accepted || now.DispatchID != 0 {
			t.Fatalf("after refused dispatches: %+v", now)
		}
		var n int
		if err := db.Reader().QueryRow(f.ctx, `SELECT COUNT(*) FROM dispatches WHERE case_id = ?`, c.ID).Scan(&n); err != nil || n != 0 {
			t.Fatalf("refused dispatches left %d rows (%v)", n, err)
		}

		// Feedback with two photos: each names the feedback's event and
		// has one job of its own.
		f.act(f.handlerA, a.ID, workflow.ActInput{Action: workflow.Acknowledge})
		p1, p2 := f.photo(), f.photo()
		f.act(f.handlerA, a.ID, workflow.ActInput{Action: workflow.Feedback, Opinion: "已整改", Photos: []photo.File{p1, p2}})
		trail := f.trail(a.ID)
		fb := trail[len(trail)-1]
		if fb.Action != string(workflow.Feedback) {
			t.Fatalf("last event %+v", fb)
		}
		rows, err := db.Reader().Query(f.ctx, `SELECT p.sha256, p.event_seq, p.kind, (SELECT COUNT(*) FROM photo_jobs j WHERE j.photo_id = p.id)
			FROM photos p WHERE p.case_id = ? ORDER BY p.id`, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		var shas []string
		for rows.Next() {
			var sha, kind string
			var seq int64
			var jobs int
			if err := rows.Scan(&sha, &seq, &kind, &jobs); err != nil {
				t.Fatal(err)
			}
			if seq != fb.Seq || kind != "after" || jobs != 1 {
				t.Errorf("photo %s: event %d (feedback's %d), kind %s, %d jobs", sha[:8], seq, fb.Seq, kind, jobs)
			}
			shas = append(shas, sha)
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
		if len(shas) != 2 || shas[0] != p1.SHA256 || shas[1] != p2.SHA256 {
			t.Fatalf("photos %v, want %s and %s", shas, p1.SHA256, p2.SHA256)
		}

		// A failed verification opens a new dispatch row for the rework.
		re := f.act(f.inspector, a.ID, workflow.ActInput{Action: workflow.VerifyFail, Opinion: "仍有垃圾"})
		idRe, unitRe, deadlineRe := dispatchRow(a.ID)
		if idRe == id || idRe != re.DispatchID || unitRe != f.unitA.ID || deadlineRe != store.Ms(re.Deadline) {
			t.Fatalf("rework dispatch row %d (unit %d, deadline %d), first %d; case answered %d, %d", idRe, unitRe, deadlineRe, id, re.DispatchID, store.Ms(re.Deadline))
		}
	})
}
