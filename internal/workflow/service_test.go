package workflow_test

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"chuangwen/internal/apperr"
	"chuangwen/internal/audit"
	"chuangwen/internal/org"
	"chuangwen/internal/photo"
	"chuangwen/internal/store"
	"chuangwen/internal/testcity"
	"chuangwen/internal/workcal"
	"chuangwen/internal/workflow"
)

// wantEvent checks one trail entry.
func wantEvent(t *testing.T, e audit.Entry, action workflow.Action, from, to workflow.State, actor org.Actor, when time.Time) {
	t.Helper()
	if e.Action != string(action) || e.FromState != string(from) || e.ToState != string(to) {
		t.Errorf("event %d = %s %s→%s, want %s %s→%s", e.Seq, e.Action, e.FromState, e.ToState, action, from, to)
	}
	if e.ActorID != actor.UserID || e.ActorRole != string(actor.Role) || e.ActorName != actor.Name || e.ActorUnitID != actor.UnitID {
		t.Errorf("event %d (%s) actor = %d/%s/%s/unit %d, want %d/%s/%s/unit %d", e.Seq, e.Action,
			e.ActorID, e.ActorRole, e.ActorName, e.ActorUnitID, actor.UserID, actor.Role, actor.Name, actor.UnitID)
	}
	if !e.At.Equal(when) {
		t.Errorf("event %d (%s) at %s, want %s", e.Seq, e.Action, e.At, when)
	}
}

func eventData(t *testing.T, e audit.Entry) map[string]any {
	t.Helper()
	if e.Data == "" {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(e.Data), &m); err != nil {
		t.Fatalf("event %d data %q: %v", e.Seq, e.Data, err)
	}
	return m
}

func TestFullLoop(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		before := f.photo()
		c := f.report(func(in *workflow.NewCase) { in.Photos = []photo.File{before} })
		if c.State != workflow.Reported || c.Version != 1 || c.Source != workflow.SourceCitizen || c.CategoryName != "暴露垃圾" || c.RegionName != "清波社区" {
			t.Fatalf("reported case = %+v", c)
		}
		sameInstant(t, "reported_at", c.ReportedAt, start)
		times := []time.Time{start}

		step := func(actor org.Actor, in workflow.ActInput, want workflow.State) *workflow.Case {
			t.Helper()
			f.clk.Advance(10 * time.Minute)
			times = append(times, f.clk.Now())
			got := f.act(actor, c.ID, in)
			if got.State != want {
				t.Fatalf("after %s: state %s, want %s", in.Action, got.State, want)
			}
			if got.Version != len(times) {
				t.Errorf("after %s: version %d, want %d", in.Action, got.Version, len(times))
			}
			return got
		}

		c = step(f.acceptor, workflow.ActInput{Action: workflow.Accept}, workflow.Accepted)
		sameInstant(t, "accepted_at", c.AcceptedAt, at(2026, 11, 16, 9, 10))

		c = step(f.acceptor, workflow.ActInput{Action: workflow.Dispatch, LeadUnitID: f.unitA.ID}, workflow.Dispatched)
		if c.LeadUnitID != f.unitA.ID || c.LeadUnitName != "环卫处" || c.DispatchID == 0 {
			t.Fatalf("dispatched case = %+v", c)
		}
		// 09:20 + 4 working hours: 160 minutes before lunch, 80 after.
		sameInstant(t, "deadline", c.Deadline, at(2026, 11, 16, 14, 20))
		// 80% of 240 minutes = 192: 160 before lunch, 32 after.
		sameInstant(t, "warn_at", c.WarnAt, at(2026, 11, 16, 13, 32))
		sameInstant(t, "dispatched_at", c.DispatchedAt, at(2026, 11, 16, 9, 20))

		c = step(f.handlerA, workflow.ActInput{Action: workflow.Acknowledge}, workflow.InProgress)

		after := f.photo()
		c = step(f.handlerA, workflow.ActInput{Action: workflow.Feedback, Opinion: "已清理完毕", Photos: []photo.File{after}}, workflow.Verifying)

		c = step(f.inspector, workflow.ActInput{Action: workflow.VerifyPass, Opinion: "现场核查合格"}, workflow.Closed)
		sameInstant(t, "closed_at", c.ClosedAt, at(2026, 11, 16, 9, 50))
		if c.Warning != 0 || c.Overdue || c.ReworkCount != 0 || c.ReturnCount != 0 {
			t.Errorf("closed case = %+v", c)
		}

		// The trail: one event per action, with states, actors and times.
		trail, err := f.svc.Timeline(f.ctx, f.acceptor, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(trail) != 6 {
			t.Fatalf("trail has %d events, want 6: %+v", len(trail), trail)
		}
		wantEvent(t, trail[0], workflow.Report, "", workflow.Reported, f.acceptor, times[0])
		wantEvent(t, trail[1], workflow.Accept, workflow.Reported, workflow.Accepted, f.acceptor, times[1])
		wantEvent(t, trail[2], workflow.Dispatch, workflow.Accepted, workflow.Dispatched, f.acceptor, times[2])
		wantEvent(t, trail[3], workflow.Acknowledge, workflow.Dispatched, workflow.InProgress, f.handlerA, times[3])
		wantEvent(t, trail[4], workflow.Feedback, workflow.InProgress, workflow.Verifying, f.handlerA, times[4])
		wantEvent(t, trail[5], workflow.VerifyPass, workflow.Verifying, workflow.Closed, f.inspector, times[5])
		for i := 1; i < len(trail); i++ {
			if trail[i].Seq <= trail[i-1].Seq {
				t.Errorf("trail entry %d: seq %d after %d", i, trail[i].Seq, trail[i-1].Seq)
			}
		}
		if trail[4].Opinion != "已清理完毕" || trail[5].Opinion != "现场核查合格" {
			t.Errorf("opinions = %q, %q", trail[4].Opinion, trail[5].Opinion)
		}
		if d := eventData(t, trail[2]); d["lead_unit_id"] != float64(f.unitA.ID) || d["deadline"] == nil {
			t.Errorf("dispatch data = %v", d)
		}
		if d := eventData(t, trail[4]); d["on_time"] != true || fmt.Sprint(d["photos"]) != fmt.Sprint([]string{after.SHA256}) {
			t.Errorf("feedback data = %v", d)
		}
		if d := eventData(t, trail[0]); fmt.Sprint(d["photos"]) != fmt.Sprint([]string{before.SHA256}) {
			t.Errorf("report data = %v", d)
		}
		// The unit may read its case's trail too; audit.ForCase agrees.
		if tl, err := f.svc.Timeline(f.ctx, f.handlerA, c.ID); err != nil || len(tl) != 6 {
			t.Errorf("handler timeline: %d events, %v", len(tl), err)
		}
		if direct := f.trail(c.ID); len(direct) != 6 || direct[5].Seq != trail[5].Seq {
			t.Errorf("audit.ForCase = %+v", direct)
		}

		// Photos: the before-photo tied to the report, the after-photo to
		// the feedback.
		got := f.get(f.acceptor, c.ID)
		if len(got.Photos) != 2 {
			t.Fatalf("photos = %+v", got.Photos)
		}
		pb, pa := got.Photos[0], got.Photos[1]
		if pb.Kind != "before" || pb.SHA256 != before.SHA256 || pb.EventSeq != trail[0].Seq || pb.Mime != "image/png" {
			t.Errorf("before photo = %+v", pb)
		}
		if pa.Kind != "after" || pa.SHA256 != after.SHA256 || pa.EventSeq != trail[4].Seq || pa.Size != after.Size {
			t.Errorf("after photo = %+v", pa)
		}
		p, err := f.svc.Photo(f.ctx, f.handlerA, c.ID, pa.ID)
		if err != nil || p.Path != after.Path {
			t.Errorf("Photo as handler A = %+v, %v", p, err)
		}
		fh, _, err := f.svc.Photos.Open(f.ctx, p.Path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(fh)
		fh.Close()
		if int64(len(b)) != after.Size || !strings.HasPrefix(string(b), "\x89PNG") {
			t.Errorf("stored photo: %d bytes", len(b))
		}
		_, err = f.svc.Photo(f.ctx, f.handlerB, c.ID, pa.ID)
		wantCode(t, err, apperr.NotFound)

		// One dispatch, acknowledged, handled and closed on time.
		ts := f.dispatches(c.ID)
		if len(ts) != 1 {
			t.Fatalf("dispatches = %+v", ts)
		}
		k := ts[0]
		if k.UnitID != f.unitA.ID || k.DispatchedAt != store.Ms(times[2]) || k.Acked != store.Ms(times[3]) || k.Handled != store.Ms(times[4]) ||
			k.Closed != store.Ms(times[5]) || k.Returned != 0 || k.Rw != 0 || k.Overdue || k.Postponed || k.Deadline != store.Ms(at(2026, 11, 16, 14, 20)) {
			t.Errorf("dispatch = %+v", k)
		}

		rep, err := audit.Verify(f.ctx, db)
		if err != nil || !rep.OK {
			t.Errorf("audit.Verify = %+v, %v", rep, err)
		}
	})
}

func TestReworkPath(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		c := f.verifying(f.unitA) // dispatched Monday 09:00, deadline 14:00
		sameInstant(t, "first deadline", c.Deadline, at(2026, 11, 16, 14, 0))
		firstTask := c.DispatchID

		f.clk.Set(at(2026, 11, 16, 10, 0))
		f.actErr(apperr.Invalid, f.inspector, c.ID, workflow.ActInput{Action: workflow.VerifyFail}) // reason required
		evidence := f.photo()
		c = f.act(f.inspector, c.ID, workflow.ActInput{Action: workflow.VerifyFail, Opinion: "仍有垃圾", Photos: []photo.File{evidence}})
		if c.State != workflow.Dispatched || c.ReworkCount != 1 || c.LeadUnitID != f.unitA.ID {
			t.Fatalf("after verify_fail: %+v", c)
		}
		if c.DispatchID == 0 || c.DispatchID == firstTask {
			t.Errorf("dispatch id %d, want a new one (first was %d)", c.DispatchID, firstTask)
		}
		// New deadline: 4 working hours from 10:00 → 15:00.
		sameInstant(t, "rework deadline", c.Deadline, at(2026, 11, 16, 15, 0))
		sameInstant(t, "rework dispatched_at", c.DispatchedAt, at(2026, 11, 16, 10, 0))
		if c.Warning != 0 || c.Overdue {
			t.Errorf("rework timer not fresh: %+v", c)
		}
		ts := f.dispatches(c.ID)
		if len(ts) != 2 {
			t.Fatalf("dispatches = %+v", ts)
		}
		if ts[0].ID != firstTask || ts[0].Rw != store.Ms(at(2026, 11, 16, 10, 0)) || ts[0].Handled == 0 || ts[0].Closed != 0 {
			t.Errorf("reworked dispatch = %+v", ts[0])
		}
		if ts[1].ID != c.DispatchID || ts[1].UnitID != f.unitA.ID || ts[1].DispatchedAt != store.Ms(at(2026, 11, 16, 10, 0)) ||
			ts[1].Deadline != store.Ms(at(2026, 11, 16, 15, 0)) || ts[1].Handled != 0 || ts[1].Acked != 0 {
			t.Errorf("rework dispatch = %+v", ts[1])
		}
		trail := f.trail(c.ID)
		last := trail[len(trail)-1]
		wantEvent(t, last, workflow.VerifyFail, workflow.Verifying, workflow.Dispatched, f.inspector, at(2026, 11, 16, 10, 0))
		got := f.get(f.acceptor, c.ID)
		if n := len(got.Photos); n != 2 || got.Photos[0].Kind != "after" || got.Photos[1].Kind != "evidence" || got.Photos[1].EventSeq != last.Seq {
			t.Errorf("photos after verify_fail = %+v", got.Photos)
		}

		// The unit works it again; the second verification passes.
		f.clk.Set(at(2026, 11, 16, 11, 0))
		f.act(f.handlerA, c.ID, workflow.ActInput{Action: workflow.Acknowledge})
		f.feedback(f.unitA, c.ID)
		c = f.act(f.grid, c.ID, workflow.ActInput{Action: workflow.VerifyPass})
		if c.State != workflow.Closed || c.ReworkCount != 1 {
			t.Fatalf("closed after rework: %+v", c)
		}
		ts = f.dispatches(c.ID)
		if ts[0].Closed != 0 || ts[1].Closed == 0 || ts[1].Handled == 0 {
			t.Errorf("dispatches after close = %+v", ts)
		}

		// A second rework with an explicit deadline from the verifier.
		c2 := f.verifying(f.unitA)
		wantD := at(2026, 11, 18, 12, 0)
		c2 = f.act(f.acceptor, c2.ID, workflow.ActInput{Action: workflow.VerifyFail, Opinion: "不合格", Deadline: wantD})
		sameInstant(t, "explicit rework deadline", c2.Deadline, wantD)
		f.actErr(apperr.Invalid, f.acceptor, f.verifying(f.unitA).ID, workflow.ActInput{Action: workflow.VerifyFail, Opinion: "不合格", Deadline: f.clk.Now().Add(-time.Hour)})
	})
}

func TestReturnPath(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		c := f.accepted()
		c = f.act(f.acceptor, c.ID, workflow.ActInput{Action: workflow.Dispatch, LeadUnitID: f.unitA.ID, CoopUnitIDs: []int64{f.unitB.ID, f.unitA.ID, f.unitB.ID}})
		if !slices.Equal(c.CoopUnitIDs, []int64{f.unitB.ID}) {
			t.Fatalf("coop units = %v, want [B] (lead and duplicates dropped)", c.CoopUnitIDs)
		}
		// The cooperating unit sees the case but may not act as lead.
		f.get(f.handlerB, c.ID)
		f.actErr(apperr.Forbidden, f.handlerB, c.ID, workflow.ActInput{Action: workflow.Acknowledge})
		f.act(f.handlerB, c.ID, workflow.ActInput{Action: workflow.Comment, Opinion: "配合单位已知悉"})

		f.act(f.handlerA, c.ID, workflow.ActInput{Action: workflow.Acknowledge})
		f.actErr(apperr.Invalid, f.handlerA, c.ID, workflow.ActInput{Action: workflow.Return}) // reason required

		f.clk.Advance(30 * time.Minute)
		out := f.act(f.handlerA, c.ID, workflow.ActInput{Action: workflow.Return, Opinion: "非我单位职责"})
		if out.State != workflow.Accepted {
			t.Fatalf("returned case state %s", out.State)
		}
		got := f.get(f.acceptor, c.ID)
		if got.State != workflow.Accepted || got.LeadUnitID != 0 || got.CoopUnitIDs != nil || got.ReturnCount != 1 || got.DispatchID != 0 ||
			!got.Deadline.IsZero() || !got.WarnAt.IsZero() || got.Warning != 0 {
			t.Fatalf("returned case = %+v", got)
		}
		for _, h := range []org.Actor{f.handlerA, f.handlerB} {
			_, err := f.svc.Get(f.ctx, h, c.ID)
			wantCode(t, err, apperr.NotFound)
		}
		ts := f.dispatches(c.ID)
		if len(ts) != 1 || ts[0].Returned != store.Ms(f.clk.Now()) || ts[0].Acked == 0 {
			t.Errorf("dispatches = %+v", ts)
		}
		trail := f.trail(c.ID)
		last := trail[len(trail)-1]
		wantEvent(t, last, workflow.Return, workflow.InProgress, workflow.Accepted, f.handlerA, f.clk.Now())
		if d := eventData(t, last); d["unit_id"] != float64(f.unitA.ID) {
			t.Errorf("return data = %v", d)
		}

		// Re-dispatched to B: a second dispatch; B may return straight from
		// "dispatched" too.
		c = f.act(f.acceptor, c.ID, workflow.ActInput{Action: workflow.Dispatch, LeadUnitID: f.unitB.ID})
		if c.LeadUnitID != f.unitB.ID || c.State != workflow.Dispatched {
			t.Fatalf("re-dispatched = %+v", c)
		}
		c = f.act(f.handlerB, c.ID, workflow.ActInput{Action: workflow.Return, Opinion: "也不是我们"})
		if c.State != workflow.Accepted {
			t.Fatalf("returned from dispatched: %s", c.State)
		}
		if got := f.get(f.acceptor, c.ID); got.ReturnCount != 2 {
			t.Errorf("return count %d, want 2", got.ReturnCount)
		}
		if ts := f.dispatches(c.ID); len(ts) != 2 || ts[1].UnitID != f.unitB.ID || ts[1].Returned == 0 || ts[1].Acked != 0 {
			t.Errorf("dispatches = %+v", ts)
		}
	})
}

func TestExtension(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		tuesday18 := at(2026, 11, 17, 18, 0)

		t.Run("approve", func(t *testing.T) {
			f.clk.Set(start)
			c := f.inProgress(f.unitA) // deadline 14:00
			f.clk.Set(at(2026, 11, 16, 10, 0))
			f.actErr(apperr.Invalid, f.handlerA, c.ID, workflow.ActInput{Action: workflow.RequestExtension, Deadline: tuesday18})                 // no reason
			f.actErr(apperr.Invalid, f.handlerA, c.ID, workflow.ActInput{Action: workflow.RequestExtension, Opinion: "量大"})                       // no deadline
			f.actErr(apperr.Invalid, f.handlerA, c.ID, workflow.ActInput{Action: workflow.RequestExtension, Opinion: "量大", Deadline: c.Deadline}) // not later
			c = f.act(f.handlerA, c.ID, workflow.ActInput{Action: workflow.RequestExtension, Opinion: "需协调清运车辆", Deadline: tuesday18})
			if c.State != workflow.InProgress || !c.ExtPending || c.ExtReason != "需协调清运车辆" {
				t.Fatalf("after request: %+v", c)
			}
			sameInstant(t, "ext_deadline", c.ExtDeadline, tuesday18)
			sameInstant(t, "deadline while pending", c.Deadline, at(2026, 11, 16, 14, 0))
			f.actErr(apperr.Conflict, f.handlerA, c.ID, workflow.ActInput{Action: workflow.RequestExtension, Opinion: "again", Deadline: tuesday18.Add(time.Hour)})
			f.actErr(apperr.Forbidden, f.handlerA, c.ID, workflow.ActInput{Action: workflow.ApproveExtension})

			page, err := f.svc.List(f.ctx, f.acceptor, workflow.Filter{Queue: workflow.QueueExtension})
			if err != nil || len(page.Cases) != 1 || page.Cases[0].ID != c.ID {
				t.Fatalf("extension queue = %+v, %v", page, err)
			}

			f.clk.Set(at(2026, 11, 16, 10, 30))
			c = f.act(f.acceptor, c.ID, workflow.ActInput{Action: workflow.ApproveExtension})
			if c.ExtPending || !c.ExtDeadline.IsZero() || c.ExtReason != "" || c.State != workflow.InProgress {
				t.Fatalf("after approve: %+v", c)
			}
			sameInstant(t, "extended deadline", c.Deadline, tuesday18)
			// Warning recomputed over dispatch→new deadline: 80% of 16 h
			// = 768 min: Monday's 480, then 288 on Tuesday → 14:48.
			sameInstant(t, "extended warn_at", c.WarnAt, at(2026, 11, 17, 14, 48))
			ts := f.dispatches(c.ID)
			if len(ts) != 1 || ts[0].Deadline != store.Ms(tuesday18) || ts[0].Extensions != 1 {
				t.Errorf("dispatch = %+v", ts)
			}
			trail := f.trail(c.ID)
			wantEvent(t, trail[len(trail)-2], workflow.RequestExtension, workflow.InProgress, workflow.InProgress, f.handlerA, at(2026, 11, 16, 10, 0))
			wantEvent(t, trail[len(trail)-1], workflow.ApproveExtension, workflow.InProgress, workflow.InProgress, f.acceptor, at(2026, 11, 16, 10, 30))
			// Now handled after the original deadline but before the
			// extended one: on time.
			f.clk.Set(at(2026, 11, 16, 16, 0))
			f.feedback(f.unitA, c.ID)
			if ts := f.dispatches(c.ID); ts[0].Overdue || ts[0].Handled == 0 {
				t.Errorf("dispatch after feedback = %+v", ts[0])
			}
			if d := eventData(t, f.trail(c.ID)[len(f.trail(c.ID))-1]); d["on_time"] != true {
				t.Errorf("feedback data = %v", d)
			}
		})

		t.Run("approve with the dispatcher's own deadline", func(t *testing.T) {
			f.clk.Set(start)
			c := f.inProgress(f.unitA)
			f.act(f.handlerA, c.ID, workflow.ActInput{Action: workflow.RequestExtension, Opinion: "需要两天", Deadline: at(2026, 11, 18, 18, 0)})
			c = f.act(f.acceptor, c.ID, workflow.ActInput{Action: workflow.ApproveExtension, Deadline: tuesday18})
			sameInstant(t, "deadline", c.Deadline, tuesday18)
		})

		t.Run("deny", func(t *testing.T) {
			f.clk.Set(start)
			c := f.inProgress(f.unitA)
			f.act(f.handlerA, c.ID, workflow.ActInput{Action: workflow.RequestExtension, Opinion: "人手不足", Deadline: tuesday18})
			f.actErr(apperr.Invalid, f.acceptor, c.ID, workflow.ActInput{Action: workflow.DenyExtension}) // reason required
			c = f.act(f.acceptor, c.ID, workflow.ActInput{Action: workflow.DenyExtension, Opinion: "按期完成"})
			if c.ExtPending || !c.ExtDeadline.IsZero() || c.State != workflow.InProgress {
				t.Fatalf("after deny: %+v", c)
			}
			sameInstant(t, "deadline after deny", c.Deadline, at(2026, 11, 16, 14, 0))
			if ts := f.dispatches(c.ID); ts[0].Extensions != 0 || ts[0].Deadline != store.Ms(at(2026, 11, 16, 14, 0)) {
				t.Errorf("dispatch = %+v", ts[0])
			}
			f.actErr(apperr.Conflict, f.acceptor, c.ID, workflow.ActInput{Action: workflow.ApproveExtension}) // nothing pending
			// A new request may follow a denial.
			f.act(f.handlerA, c.ID, workflow.ActInput{Action: workflow.RequestExtension, Opinion: "再申请", Deadline: tuesday18})
		})

		t.Run("too late", func(t *testing.T) {
			f.clk.Set(start)
			c := f.inProgress(f.unitA)
			f.clk.Set(at(2026, 11, 16, 14, 0)) // exactly the deadline
			f.actErr(apperr.Conflict, f.handlerA, c.ID, workflow.ActInput{Action: workflow.RequestExtension, Opinion: "来不及", Deadline: tuesday18})
			f.clk.Set(at(2026, 11, 16, 15, 0))
			f.actErr(apperr.Conflict, f.handlerA, c.ID, workflow.ActInput{Action: workflow.RequestExtension, Opinion: "来不及", Deadline: tuesday18})
			if got := f.get(f.acceptor, c.ID); got.ExtPending {
				t.Errorf("late request left pending: %+v", got)
			}
		})
	})
}

func TestPostponeResume(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		c := f.inProgress(f.unitA) // deadline 14:00
		f.clk.Set(at(2026, 11, 16, 10, 0))
		f.actErr(apperr.Forbidden, f.handlerA, c.ID, workflow.ActInput{Action: workflow.Postpone, Opinion: "x"})
		f.actErr(apperr.Invalid, f.acceptor, c.ID, workflow.ActInput{Action: workflow.Postpone})
		c = f.act(f.acceptor, c.ID, workflow.ActInput{Action: workflow.Postpone, Opinion: "待上级协调"})
		if c.State != workflow.Postponed || !c.Deadline.IsZero() || !c.WarnAt.IsZero() || c.LeadUnitID != f.unitA.ID {
			t.Fatalf("postponed = %+v", c)
		}
		if ts := f.dispatches(c.ID); !ts[0].Postponed {
			t.Errorf("dispatch not marked postponed: %+v", ts[0])
		}
		// The clock does not run while postponed.
		f.clk.Set(at(2026, 11, 17, 10, 0))
		if w, o, err := f.svc.SweepDeadlines(f.ctx); err != nil || w != 0 || o != 0 {
			t.Errorf("sweep over postponed case = %d, %d, %v", w, o, err)
		}
		f.actErr(apperr.Conflict, f.handlerA, c.ID, workflow.ActInput{Action: workflow.Feedback, Opinion: "x", Photos: []photo.File{f.photo()}})
		f.actErr(apperr.Forbidden, f.handlerA, c.ID, workflow.ActInput{Action: workflow.Resume})

		c = f.act(f.acceptor, c.ID, workflow.ActInput{Action: workflow.Resume})
		if c.State != workflow.InProgress || c.Warning != 0 || c.Overdue {
			t.Fatalf("resumed = %+v", c)
		}
		// A fresh 4-working-hour limit from Tuesday 10:00 → 15:00.
		sameInstant(t, "resumed deadline", c.Deadline, at(2026, 11, 17, 15, 0))
		if ts := f.dispatches(c.ID); ts[0].Deadline != store.Ms(at(2026, 11, 17, 15, 0)) || !ts[0].Postponed {
			t.Errorf("dispatch after resume = %+v", ts[0])
		}
		trail := f.trail(c.ID)
		wantEvent(t, trail[len(trail)-2], workflow.Postpone, workflow.InProgress, workflow.Postponed, f.acceptor, at(2026, 11, 16, 10, 0))
		wantEvent(t, trail[len(trail)-1], workflow.Resume, workflow.Postponed, workflow.InProgress, f.acceptor, at(2026, 11, 17, 10, 0))
	})
}

func TestRejectMergeReopenVoid(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)

		t.Run("reject needs a reason and is final", func(t *testing.T) {
			c := f.report()
			f.actErr(apperr.Invalid, f.acceptor, c.ID, workflow.ActInput{Action: workflow.Reject})
			f.actErr(apperr.Invalid, f.acceptor, c.ID, workflow.ActInput{Action: workflow.Reject, Opinion: "   "})
			c = f.act(f.acceptor, c.ID, workflow.ActInput{Action: workflow.Reject, Opinion: "不属于受理范围"})
			if c.State != workflow.Rejected {
				t.Fatalf("state %s", c.State)
			}
			f.actErr(apperr.Conflict, f.acceptor, c.ID, workflow.ActInput{Action: workflow.Accept})
			f.actErr(apperr.Conflict, f.admin, c.ID, workflow.ActInput{Action: workflow.Void, Opinion: "x"})
			f.act(f.acceptor, c.ID, workflow.ActInput{Action: workflow.Comment, Opinion: "已电话告知市民"})
			trail := f.trail(c.ID)
			if trail[1].Opinion != "不属于受理范围" {
				t.Errorf("reject opinion = %q", trail[1].Opinion)
			}
		})

		t.Run("merge", func(t *testing.T) {
			orig := f.report()
			dup := f.report()
			f.actErr(apperr.Invalid, f.acceptor, dup.ID, workflow.ActInput{Action: workflow.Merge})
			f.actErr(apperr.Invalid, f.acceptor, dup.ID, workflow.ActInput{Action: workflow.Merge, MergeInto: dup.ID})
			f.actErr(apperr.Invalid, f.acceptor, dup.ID, workflow.ActInput{Action: workflow.Merge, MergeInto: 987654})
			rejected := f.report()
			f.act(f.acceptor, rejected.ID, workflow.ActInput{Action: workflow.Reject, Opinion: "x"})
			f.actErr(apperr.Invalid, f.acceptor, dup.ID, workflow.ActInput{Action: workflow.Merge, MergeInto: rejected.ID})
			f.actErr(apperr.Forbidden, f.inspector, dup.ID, workflow.ActInput{Action: workflow.Merge, MergeInto: orig.ID})

			c := f.act(f.acceptor, dup.ID, workflow.ActInput{Action: workflow.Merge, MergeInto: orig.ID})
			if c.State != workflow.Merged || c.MergedInto != orig.ID {
				t.Fatalf("merged = %+v", c)
			}
			if got := f.get(f.acceptor, orig.ID); got.State != workflow.Reported {
				t.Errorf("target changed: %+v", got)
			}
			trail := f.trail(dup.ID)
			if d := eventData(t, trail[len(trail)-1]); d["merge_into"] != orig.No {
				t.Errorf("merge data = %v", d)
			}
			// A merged case cannot be a merge target.
			other := f.report()
			f.actErr(apperr.Invalid, f.acceptor, other.ID, workflow.ActInput{Action: workflow.Merge, MergeInto: dup.ID})
		})

		t.Run("reopen", func(t *testing.T) {
			c := f.verifying(f.unitA)
			c = f.act(f.inspector, c.ID, workflow.ActInput{Action: workflow.VerifyPass})
			closedTask := c.DispatchID
			f.actErr(apperr.Forbidden, f.inspector, c.ID, workflow.ActInput{Action: workflow.Reopen, Opinion: "x"})
			f.actErr(apperr.Invalid, f.acceptor, c.ID, workflow.ActInput{Action: workflow.Reopen})
			c = f.act(f.acceptor, c.ID, workflow.ActInput{Action: workflow.Reopen, Opinion: "市民不满意，问题复发"})
			got := f.get(f.acceptor, c.ID)
			if got.State != workflow.Accepted || !got.ClosedAt.IsZero() || got.LeadUnitID != 0 || got.DispatchID != 0 || !got.Deadline.IsZero() {
				t.Fatalf("reopened = %+v", got)
			}
			c = f.act(f.acceptor, c.ID, workflow.ActInput{Action: workflow.Dispatch, LeadUnitID: f.unitB.ID})
			ts := f.dispatches(c.ID)
			if len(ts) != 2 || ts[0].ID != closedTask || ts[0].Closed == 0 || ts[1].UnitID != f.unitB.ID || ts[1].Closed != 0 {
				t.Errorf("dispatches after reopen = %+v", ts)
			}
			trail := f.trail(c.ID)
			wantEvent(t, trail[len(trail)-2], workflow.Reopen, workflow.Closed, workflow.Accepted, f.acceptor, f.clk.Now())
			// The system may reopen too (a recurrence detected automatically).
			c2 := f.verifying(f.unitA)
			f.act(f.inspector, c2.ID, workflow.ActInput{Action: workflow.VerifyPass})
			if c2 = f.act(org.System, c2.ID, workflow.ActInput{Action: workflow.Reopen, Opinion: "复发"}); c2.State != workflow.Accepted {
				t.Errorf("system reopen: %s", c2.State)
			}
		})

		t.Run("void", func(t *testing.T) {
			c := f.inProgress(f.unitA)
			f.actErr(apperr.Forbidden, f.acceptor, c.ID, workflow.ActInput{Action: workflow.Void, Opinion: "重复"})
			f.actErr(apperr.Forbidden, f.leader, c.ID, workflow.ActInput{Action: workflow.Void, Opinion: "重复"})
			f.actErr(apperr.Invalid, f.admin, c.ID, workflow.ActInput{Action: workflow.Void})
			c = f.act(f.admin, c.ID, workflow.ActInput{Action: workflow.Void, Opinion: "误报"})
			if c.State != workflow.Voided || !c.Deadline.IsZero() || c.Warning != 0 {
				t.Fatalf("voided = %+v", c)
			}
			f.actErr(apperr.Conflict, f.handlerA, c.ID, workflow.ActInput{Action: workflow.Feedback, Opinion: "x", Photos: []photo.File{f.photo()}})
			f.actErr(apperr.Conflict, f.admin, c.ID, workflow.ActInput{Action: workflow.Void, Opinion: "again"})
			// Every open state can be voided; a closed case cannot.
			for _, mk := range []func() *workflow.Case{
				func() *workflow.Case { return f.report() },
				func() *workflow.Case { return f.accepted() },
				func() *workflow.Case { return f.dispatched(f.unitB) },
				func() *workflow.Case { return f.verifying(f.unitB) },
			} {
				cc := mk()
				if v := f.act(f.admin, cc.ID, workflow.ActInput{Action: workflow.Void, Opinion: "作废"}); v.State != workflow.Voided {
					t.Errorf("void from %s: %s", cc.State, v.State)
				}
			}
			closed := f.act(f.inspector, f.verifying(f.unitA).ID, workflow.ActInput{Action: workflow.VerifyPass})
			f.actErr(apperr.Conflict, f.admin, closed.ID, workflow.ActInput{Action: workflow.Void, Opinion: "x"})
		})

		t.Run("supervise", func(t *testing.T) {
			c := f.inProgress(f.unitA)
			f.actErr(apperr.Invalid, f.leader, c.ID, workflow.ActInput{Action: workflow.Supervise})
			f.actErr(apperr.Forbidden, f.handlerA, c.ID, workflow.ActInput{Action: workflow.Supervise, Opinion: "x"})
			c = f.act(f.leader, c.ID, workflow.ActInput{Action: workflow.Supervise, Opinion: "挂牌督办"})
			if !c.Supervised || c.State != workflow.InProgress {
				t.Fatalf("supervised = %+v", c)
			}
			f.actErr(apperr.Conflict, f.acceptor, c.ID, workflow.ActInput{Action: workflow.Supervise, Opinion: "again"})
			c = f.act(f.admin, c.ID, workflow.ActInput{Action: workflow.Unsupervise})
			if c.Supervised {
				t.Fatalf("still supervised")
			}
			f.actErr(apperr.Conflict, f.admin, c.ID, workflow.ActInput{Action: workflow.Unsupervise})

			// A supervised case that leaves the loop without being closed
			// (rejected, merged, voided) is no longer supervised: a final
			// state allows no unsupervise, and the flag would stay in the
			// supervised list for good. The trail says so.
			target := f.report()
			for _, leave := range []workflow.ActInput{
				{Action: workflow.Reject, Opinion: "不属于受理范围"},
				{Action: workflow.Merge, MergeInto: target.ID},
				{Action: workflow.Void, Opinion: "重复录入"},
			} {
				r := f.report()
				f.act(f.leader, r.ID, workflow.ActInput{Action: workflow.Supervise, Opinion: "挂牌督办"})
				actor := f.acceptor
				if leave.Action == workflow.Void {
					actor = f.admin
				}
				if r = f.act(actor, r.ID, leave); r.Supervised {
					t.Errorf("%s: still supervised", leave.Action)
				}
				if got := f.get(f.admin, r.ID); got.Supervised {
					t.Errorf("%s: stored as supervised", leave.Action)
				}
				trail := f.trail(r.ID)
				if d := eventData(t, trail[len(trail)-1]); d["supervision_lifted"] != true {
					t.Errorf("%s: event data %v", leave.Action, d)
				}
			}
		})
	})
}

func TestPermissionsAndConflicts(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)

		t.Run("action in the wrong state is a conflict", func(t *testing.T) {
			r := f.report()
			f.actErr(apperr.Conflict, f.acceptor, r.ID, workflow.ActInput{Action: workflow.Dispatch, LeadUnitID: f.unitA.ID})
			f.actErr(apperr.Conflict, f.inspector, r.ID, workflow.ActInput{Action: workflow.VerifyPass})
			d := f.dispatched(f.unitA)
			f.actErr(apperr.Conflict, f.handlerA, d.ID, workflow.ActInput{Action: workflow.Feedback, Opinion: "x", Photos: []photo.File{f.photo()}})
			f.actErr(apperr.Conflict, f.acceptor, d.ID, workflow.ActInput{Action: workflow.Accept})
			f.actErr(apperr.Conflict, f.acceptor, d.ID, workflow.ActInput{Action: workflow.Reopen, Opinion: "x"})
		})

		t.Run("role may never take the action", func(t *testing.T) {
			v := f.verifying(f.unitA)
			f.actErr(apperr.Forbidden, f.handlerA, v.ID, workflow.ActInput{Action: workflow.VerifyPass})
			f.actErr(apperr.Forbidden, f.handlerA, v.ID, workflow.ActInput{Action: workflow.VerifyFail, Opinion: "x"})
			f.actErr(apperr.Forbidden, f.leader, v.ID, workflow.ActInput{Action: workflow.VerifyPass})
			f.actErr(apperr.Forbidden, f.acceptor, f.dispatched(f.unitA).ID, workflow.ActInput{Action: workflow.Acknowledge})
			_, err := f.svc.Report(f.ctx, f.handlerA, workflow.NewCase{CategoryID: f.cat4h.ID, Description: "x", RegionID: f.community1.ID})
			wantCode(t, err, apperr.Forbidden)
			f.actErr(apperr.Invalid, f.acceptor, v.ID, workflow.ActInput{Action: "teleport"})
			f.actErr(apperr.Invalid, f.handlerA, v.ID, workflow.ActInput{Action: workflow.Feedback, Opinion: "no photo"})
		})

		t.Run("other unit's case is not found", func(t *testing.T) {
			c := f.dispatched(f.unitA)
			_, err := f.svc.Get(f.ctx, f.handlerB, c.ID)
			wantCode(t, err, apperr.NotFound)
			f.actErr(apperr.NotFound, f.handlerB, c.ID, workflow.ActInput{Action: workflow.Acknowledge})
			f.actErr(apperr.NotFound, f.handlerB, c.ID, workflow.ActInput{Action: workflow.Comment, Opinion: "x"})
			_, err = f.svc.Timeline(f.ctx, f.handlerB, c.ID)
			wantCode(t, err, apperr.NotFound)
			_, err = f.svc.Get(f.ctx, f.handlerB, 987654)
			wantCode(t, err, apperr.NotFound)
			// Not yet dispatched: no unit sees it.
			a := f.accepted()
			_, err = f.svc.Get(f.ctx, f.handlerA, a.ID)
			wantCode(t, err, apperr.NotFound)
			if got := f.get(f.handlerA, c.ID); got.ID != c.ID {
				t.Errorf("lead handler cannot read own case")
			}
		})

		t.Run("region scope", func(t *testing.T) {
			office := f.user(org.NewUser{Username: "district2_office", DisplayName: "拱墅区受理员", Role: org.RoleAcceptor, Scope: org.ScopeRegion, ScopeRegionID: f.district2.ID})
			mine := f.report(inRegion(f.community2.ID))
			theirs := f.report(inRegion(f.community1.ID))
			f.get(office, mine.ID)
			_, err := f.svc.Get(f.ctx, office, theirs.ID)
			wantCode(t, err, apperr.NotFound)
			f.actErr(apperr.NotFound, office, theirs.ID, workflow.ActInput{Action: workflow.Accept})
			f.act(office, mine.ID, workflow.ActInput{Action: workflow.Accept})
			_, err = f.svc.Report(f.ctx, office, workflow.NewCase{CategoryID: f.cat4h.ID, Description: "x", RegionID: f.community1.ID})
			wantCode(t, err, apperr.Invalid)
		})

		t.Run("stale version", func(t *testing.T) {
			c := f.dispatched(f.unitA)
			seen := f.get(f.handlerA, c.ID)
			f.act(f.acceptor, c.ID, workflow.ActInput{Action: workflow.Comment, Opinion: "请尽快处理"}) // bumps the version
			f.actErr(apperr.Conflict, f.handlerA, c.ID, workflow.ActInput{Action: workflow.Acknowledge, Version: seen.Version})
			fresh := f.get(f.handlerA, c.ID)
			if fresh.Version != seen.Version+1 {
				t.Fatalf("version %d → %d", seen.Version, fresh.Version)
			}
			if got := f.act(f.handlerA, c.ID, workflow.ActInput{Action: workflow.Acknowledge, Version: fresh.Version}); got.Version != fresh.Version+1 {
				t.Errorf("version after acknowledge %d", got.Version)
			}
		})
	})
}

// race runs fns at once, released together, and returns their errors.
func race(fns ...func() error) []error {
	errs := make([]error, len(fns))
	var ready, done sync.WaitGroup
	gate := make(chan struct{})
	for i, fn := range fns {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			ready.Done()
			<-gate
			errs[i] = fn()
		}()
	}
	ready.Wait()
	close(gate)
	done.Wait()
	return errs
}

// oneWinner checks that exactly one of errs is nil and the others are
// conflicts (or, when the winner's action took the case out of the loser's
// scope, one of the extra codes).
func oneWinner(t *testing.T, round int, errs []error, extra ...apperr.Code) int {
	t.Helper()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil:
			if winner >= 0 {
				t.Errorf("round %d: both %d and %d succeeded", round, winner, i)
			}
			winner = i
		case !isConflict(err) && !slices.Contains(extra, apperr.CodeOf(err)):
			t.Errorf("round %d: goroutine %d failed with %v (code %s), want a conflict", round, i, err, apperr.CodeOf(err))
		}
	}
	if winner < 0 {
		t.Errorf("round %d: nobody succeeded: %v", round, errs)
	}
	return winner
}

func TestConcurrentActions(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		const rounds = 10

		t.Run("two acknowledge", func(t *testing.T) {
			for r := range rounds {
				c := f.dispatched(f.unitA)
				ack := func() error {
					_, err := f.svc.Act(f.ctx, f.handlerA, c.ID, workflow.ActInput{Action: workflow.Acknowledge})
					return err
				}
				oneWinner(t, r, race(ack, ack))
				if n := f.countEvents(c.ID, workflow.Acknowledge); n != 1 {
					t.Errorf("round %d: %d acknowledge events", r, n)
				}
				if got := f.get(f.acceptor, c.ID); got.State != workflow.InProgress || got.Version != c.Version+1 {
					t.Errorf("round %d: case %s v%d", r, got.State, got.Version)
				}
			}
		})

		t.Run("feedback against return", func(t *testing.T) {
			for r := range rounds {
				c := f.inProgress(f.unitA)
				pf := f.photo()
				errs := race(func() error {
					_, err := f.svc.Act(f.ctx, f.handlerA, c.ID, workflow.ActInput{Action: workflow.Feedback, Opinion: "done", Photos: []photo.File{pf}})
					return err
				}, func() error {
					_, err := f.svc.Act(f.ctx, f.handlerA, c.ID, workflow.ActInput{Action: workflow.Return, Opinion: "wrong unit"})
					return err
				})
				// A return that wins takes the case away from the unit: the
				// feedback then finds no case at all.
				w := oneWinner(t, r, errs, apperr.NotFound)
				want := map[int]workflow.State{0: workflow.Verifying, 1: workflow.Accepted}[w]
				got := f.get(f.acceptor, c.ID)
				if w >= 0 && got.State != want {
					t.Errorf("round %d: state %s, want %s", r, got.State, want)
				}
				if n := f.countEvents(c.ID, workflow.Feedback) + f.countEvents(c.ID, workflow.Return); n != 1 {
					t.Errorf("round %d: %d feedback/return events", r, n)
				}
				if ts := f.dispatches(c.ID); (ts[0].Handled != 0) == (ts[0].Returned != 0) {
					t.Errorf("round %d: dispatch = %+v", r, ts[0])
				}
				if len(got.Photos) != w^1 { // feedback won: one photo; return won: none
					t.Errorf("round %d: %d photos (winner %d)", r, len(got.Photos), w)
				}
			}
		})

		t.Run("two verifiers", func(t *testing.T) {
			for r := range rounds {
				c := f.verifying(f.unitA)
				errs := race(func() error {
					_, err := f.svc.Act(f.ctx, f.inspector, c.ID, workflow.ActInput{Action: workflow.VerifyPass})
					return err
				}, func() error {
					_, err := f.svc.Act(f.ctx, f.grid, c.ID, workflow.ActInput{Action: workflow.VerifyFail, Opinion: "不合格"})
					return err
				})
				oneWinner(t, r, errs)
				if ts := f.dispatches(c.ID); len(ts) != 1+int(min(1, f.countEvents(c.ID, workflow.VerifyFail))) {
					t.Errorf("round %d: %d dispatches", r, len(ts))
				}
			}
		})
	})
}

func TestReporterVisibility(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		c := f.report()
		if c.Reporter == nil || c.Reporter.Name != "张三" || c.Reporter.Phone != "13800000000" {
			t.Fatalf("acceptor's own report: reporter %+v", c.Reporter)
		}
		c = f.act(f.acceptor, c.ID, workflow.ActInput{Action: workflow.Accept})
		c = f.act(f.acceptor, c.ID, workflow.ActInput{Action: workflow.Dispatch, LeadUnitID: f.unitA.ID})
		if c.Reporter == nil || c.Reporter.Name != "张三" {
			t.Errorf("acceptor's act result: reporter %+v", c.Reporter)
		}
		for _, a := range []org.Actor{f.acceptor, f.admin} {
			if r := f.get(a, c.ID).Reporter; r == nil || r.Name != "张三" || r.Phone != "13800000000" || r.UserID != f.acceptor.UserID {
				t.Errorf("%s sees reporter %+v", a.Name, r)
			}
		}
		for _, a := range []org.Actor{f.handlerA, f.inspector, f.leader, f.grid} {
			if r := f.get(a, c.ID).Reporter; r != nil {
				t.Errorf("%s sees reporter %+v", a.Name, r)
			}
		}
		if got := f.act(f.handlerA, c.ID, workflow.ActInput{Action: workflow.Acknowledge}); got.Reporter != nil {
			t.Errorf("handler's act result carries reporter %+v", got.Reporter)
		}
		for _, a := range []org.Actor{f.handlerA, f.inspector} {
			page, err := f.svc.List(f.ctx, a, workflow.Filter{})
			if err != nil || len(page.Cases) == 0 {
				t.Fatalf("list as %s: %+v, %v", a.Name, page, err)
			}
			for _, pc := range page.Cases {
				if pc.Reporter != nil {
					t.Errorf("%s lists reporter %+v", a.Name, pc.Reporter)
				}
			}
		}
		page, err := f.svc.List(f.ctx, f.acceptor, workflow.Filter{})
		if err != nil || len(page.Cases) != 1 || page.Cases[0].Reporter == nil || page.Cases[0].Reporter.Phone != "13800000000" {
			t.Errorf("acceptor list: %+v, %v", page, err)
		}
		// An inspector's own report is accepted at once and hides the
		// reporter from the inspector too.
		ic, err := f.svc.Report(f.ctx, f.inspector, workflow.NewCase{CategoryID: f.cat4h.ID, Description: "巡查发现", RegionID: f.community1.ID, ReporterName: "李四"})
		if err != nil {
			t.Fatal(err)
		}
		if ic.Reporter != nil || ic.State != workflow.Accepted || ic.Source != workflow.SourceInspector {
			t.Errorf("inspector report = %+v", ic)
		}
		trail := f.trail(ic.ID)
		if len(trail) != 2 || trail[1].Action != string(workflow.Accept) || trail[1].ActorRole != string(org.RoleSystem) {
			t.Errorf("auto-accept trail = %+v", trail)
		}
	})
}

func TestCaseNumbers(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		re := regexp.MustCompile(`^\d{4}-\d{6}$`)
		var nos []string
		for range 3 {
			c := f.report()
			if !re.MatchString(c.No) {
				t.Errorf("case number %q", c.No)
			}
			nos = append(nos, c.No)
		}
		if want := []string{"2026-000001", "2026-000002", "2026-000003"}; !slices.Equal(nos, want) {
			t.Errorf("numbers %v, want %v", nos, want)
		}
		// The year is the office's: 00:30 on 1 January in Shanghai is still
		// 31 December in UTC.
		f.clk.Set(at(2027, 1, 1, 0, 30))
		if c := f.report(); c.No != "2027-000001" {
			t.Errorf("first case of 2027: %q", c.No)
		}
		f.clk.Set(at(2026, 12, 31, 23, 59))
		if c := f.report(); c.No != "2026-000004" {
			t.Errorf("late 2026 case: %q", c.No)
		}
		page, err := f.svc.List(f.ctx, f.acceptor, workflow.Filter{No: "2026-000002"})
		if err != nil || len(page.Cases) != 1 || page.Cases[0].No != "2026-000002" {
			t.Errorf("list by number: %+v, %v", page, err)
		}
		// Reports filed side by side take the next numbers, each once
		// and none skipped (on PostgreSQL a report takes its number at
		// the end of its transaction), and are found by them.
		const n = 12
		got := make(chan string, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := f.svc.Report(f.ctx, f.acceptor, workflow.NewCase{Source: workflow.SourceCitizen, CategoryID: f.cat4h.ID,
					Description: fmt.Sprintf("并发上报 %d", i), RegionID: f.community1.ID})
				if err != nil {
					t.Error(err)
					got <- ""
					return
				}
				got <- c.No
			}()
		}
		wg.Wait()
		close(got)
		var side []string
		for no := range got {
			side = append(side, no)
		}
		slices.Sort(side)
		for i, no := range side {
			if want := fmt.Sprintf("2026-%06d", 5+i); no != want {
				t.Fatalf("numbers of concurrent reports: %v, want 2026-000005 to 2026-%06d", side, 4+n)
			}
		}
		var stored int
		if err := db.Reader().QueryRow(f.ctx, `SELECT count(*) FROM cases WHERE no NOT LIKE '____-______'`).Scan(&stored); err != nil || stored != 0 {
			t.Errorf("%d cases stored without their number (%v)", stored, err)
		}
		page, err = f.svc.List(f.ctx, f.acceptor, workflow.Filter{Q: side[n-1]})
		if err != nil || len(page.Cases) != 1 || page.Cases[0].No != side[n-1] {
			t.Errorf("search by the number of a concurrent report: %+v, %v", page, err)
		}
	})
}

func ids(cs []*workflow.Case) []int64 {
	out := make([]int64, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

func idsOf(cs ...*workflow.Case) []int64 {
	out := ids(cs)
	slices.Sort(out)
	slices.Reverse(out) // lists are newest first
	return out
}

func TestListAndCounts(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		// Monday 09:00.
		r1 := f.report()
		r2 := f.report(inRegion(f.community2.ID))
		a1 := f.accepted()
		dA := f.dispatched(f.unitA) // deadline 14:00, warn 13:12
		vB := f.verifying(f.unitB, inRegion(f.community2.ID))
		s := f.accepted()
		s = f.act(f.leader, s.ID, workflow.ActInput{Action: workflow.Supervise, Opinion: "督办"})
		f.clk.Set(at(2026, 11, 16, 10, 0))
		pA := f.inProgress(f.unitA, inRegion(f.community2.ID)) // deadline 15:00, warn 14:12

		f.clk.Set(at(2026, 11, 16, 14, 5)) // dA past deadline, pA not yet warned
		if w, o, err := f.svc.SweepDeadlines(f.ctx); err != nil || w != 0 || o != 1 {
			t.Fatalf("sweep 14:05 = %d, %d, %v", w, o, err)
		}
		f.clk.Set(at(2026, 11, 16, 14, 15))
		if w, o, err := f.svc.SweepDeadlines(f.ctx); err != nil || w != 1 || o != 0 {
			t.Fatalf("sweep 14:15 = %d, %d, %v", w, o, err)
		}

		// Tuesday 09:00.
		f.clk.Set(at(2026, 11, 17, 9, 0))
		t1 := f.report()
		dB := f.dispatched(f.unitB)
		all := []*workflow.Case{r1, r2, a1, dA, vB, s, pA, t1, dB}

		tuesday := at(2026, 11, 17, 0, 0)
		cases := []struct {
			name  string
			actor org.Actor
			f     workflow.Filter
			want  []int64
		}{
			{"everything", f.acceptor, workflow.Filter{}, idsOf(all...)},
			{"to accept", f.acceptor, workflow.Filter{Queue: workflow.QueueToAccept}, idsOf(r1, r2, t1)},
			{"to dispatch", f.acceptor, workflow.Filter{Queue: workflow.QueueToDispatch}, idsOf(a1, s)},
			{"to handle, office", f.acceptor, workflow.Filter{Queue: workflow.QueueToHandle}, idsOf(dA, pA, dB)},
			{"to handle, unit A", f.handlerA, workflow.Filter{Queue: workflow.QueueToHandle}, idsOf(dA, pA)},
			{"to handle, unit B", f.handlerB, workflow.Filter{Queue: workflow.QueueToHandle}, idsOf(dB)},
			{"everything, unit B", f.handlerB, workflow.Filter{}, idsOf(vB, dB)},
			{"to verify", f.inspector, workflow.Filter{Queue: workflow.QueueToVerify}, idsOf(vB)},
			{"overdue", f.acceptor, workflow.Filter{Queue: workflow.QueueOverdue}, idsOf(dA)},
			{"overdue, unit B", f.handlerB, workflow.Filter{Queue: workflow.QueueOverdue}, nil},
			{"supervised queue", f.leader, workflow.Filter{Queue: workflow.QueueSupervised}, idsOf(s)},
			{"supervised flag", f.acceptor, workflow.Filter{Supervised: true}, idsOf(s)},
			{"extension queue", f.acceptor, workflow.Filter{Queue: workflow.QueueExtension}, nil},
			{"states", f.acceptor, workflow.Filter{States: []workflow.State{workflow.Accepted, workflow.Verifying}}, idsOf(a1, s, vB)},
			{"one state", f.acceptor, workflow.Filter{States: []workflow.State{workflow.InProgress}}, idsOf(pA)},
			{"unit A", f.acceptor, workflow.Filter{UnitID: f.unitA.ID}, idsOf(dA, pA)},
			{"unit B", f.acceptor, workflow.Filter{UnitID: f.unitB.ID}, idsOf(vB, dB)},
			{"district 1 subtree", f.acceptor, workflow.Filter{RegionID: f.district1.ID}, idsOf(r1, a1, dA, s, t1, dB)},
			{"district 2 subtree", f.acceptor, workflow.Filter{RegionID: f.district2.ID}, idsOf(r2, vB, pA)},
			{"street 2", f.acceptor, workflow.Filter{RegionID: f.street2.ID}, idsOf(r2, vB, pA)},
			{"community 2", f.acceptor, workflow.Filter{RegionID: f.community2.ID}, idsOf(r2, vB, pA)},
			{"city", f.acceptor, workflow.Filter{RegionID: f.city.ID}, idsOf(all...)},
			{"unknown region", f.acceptor, workflow.Filter{RegionID: 987654}, nil},
			{"unit A in district 2", f.acceptor, workflow.Filter{UnitID: f.unitA.ID, RegionID: f.district2.ID}, idsOf(pA)},
			{"yellow or worse", f.acceptor, workflow.Filter{Warning: 1}, idsOf(dA, pA)},
			{"red", f.acceptor, workflow.Filter{Warning: 2}, idsOf(dA)},
			{"from Tuesday", f.acceptor, workflow.Filter{From: tuesday}, idsOf(t1, dB)},
			{"before Tuesday", f.acceptor, workflow.Filter{To: tuesday}, idsOf(r1, r2, a1, dA, vB, s, pA)},
			{"Monday 09:00 to 10:00", f.acceptor, workflow.Filter{From: start, To: at(2026, 11, 16, 10, 0)}, idsOf(r1, r2, a1, dA, vB, s)},
			{"empty range", f.acceptor, workflow.Filter{From: tuesday, To: tuesday}, nil},
			{"大类 includes 小类", f.acceptor, workflow.Filter{CategoryID: f.bigCat.ID}, idsOf(all...)},
			{"other 小类", f.acceptor, workflow.Filter{CategoryID: f.cat5d.ID}, nil},
			{"by number", f.acceptor, workflow.Filter{No: dA.No}, idsOf(dA)},
			{"queue with region", f.acceptor, workflow.Filter{Queue: workflow.QueueToAccept, RegionID: f.district1.ID}, idsOf(r1, t1)},
		}
		for _, tc := range cases {
			page, err := f.svc.List(f.ctx, tc.actor, tc.f)
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
				continue
			}
			if got := ids(page.Cases); !slices.Equal(got, tc.want) {
				t.Errorf("%s: ids %v, want %v", tc.name, got, tc.want)
			}
			if page.Total != len(tc.want) || page.TotalCapped || page.Next != 0 {
				t.Errorf("%s: total %d (capped %v, next %d), want %d", tc.name, page.Total, page.TotalCapped, page.Next, len(tc.want))
			}
		}

		// A region-scoped office sees its district only.
		office := f.user(org.NewUser{Username: "d2", Role: org.RoleAcceptor, Scope: org.ScopeRegion, ScopeRegionID: f.district2.ID})
		page, err := f.svc.List(f.ctx, office, workflow.Filter{})
		if err != nil || !slices.Equal(ids(page.Cases), idsOf(r2, vB, pA)) {
			t.Errorf("district 2 office: %v, %v", ids(page.Cases), err)
		}
		page, err = f.svc.List(f.ctx, office, workflow.Filter{RegionID: f.district1.ID})
		if err != nil || len(page.Cases) != 0 {
			t.Errorf("district 2 office filtering district 1: %v, %v", ids(page.Cases), err)
		}

		// The dashboard counters.
		wantCounts := func(a org.Actor, want map[workflow.Queue]int) {
			t.Helper()
			got, err := f.svc.Counts(f.ctx, a)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("counts for %s = %v, want %v", a.Name, got, want)
			}
		}
		wantCounts(f.acceptor, map[workflow.Queue]int{
			workflow.QueueToAccept: 3, workflow.QueueToDispatch: 2, workflow.QueueExtension: 0,
			workflow.QueueToVerify: 1, workflow.QueueOverdue: 1, workflow.QueueSupervised: 1,
		})
		wantCounts(f.handlerA, map[workflow.Queue]int{workflow.QueueToHandle: 2, workflow.QueueOverdue: 1})
		wantCounts(f.handlerB, map[workflow.Queue]int{workflow.QueueToHandle: 1, workflow.QueueOverdue: 0})
		wantCounts(f.inspector, map[workflow.Queue]int{workflow.QueueToVerify: 1, workflow.QueueOverdue: 1})
		wantCounts(f.leader, map[workflow.Queue]int{workflow.QueueSupervised: 1, workflow.QueueOverdue: 1, workflow.QueueToVerify: 1})
		wantCounts(office, map[workflow.Queue]int{
			workflow.QueueToAccept: 1, workflow.QueueToDispatch: 0, workflow.QueueExtension: 0,
			workflow.QueueToVerify: 1, workflow.QueueOverdue: 0, workflow.QueueSupervised: 0,
		})
		sc, err := f.svc.StateCounts(f.ctx, f.acceptor)
		if err != nil || sc["reported"] != 3 || sc["accepted"] != 2 || sc["dispatched"] != 2 || sc["in_progress"] != 1 || sc["verifying"] != 1 {
			t.Errorf("state counts = %v, %v", sc, err)
		}
	})
}

func TestListPaging(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		const n = 23
		var want, wantD2 []int64
		for i := range n {
			region := f.community1.ID
			if i%3 == 0 {
				region = f.community2.ID
			}
			id := f.report(inRegion(region)).ID
			want = append(want, id)
			if region == f.community2.ID {
				wantD2 = append(wantD2, id)
			}
			f.clk.Advance(time.Minute)
		}
		slices.Reverse(want)
		slices.Reverse(wantD2)
		// Noise that the queue filter must skip.
		f.accepted()
		f.dispatched(f.unitA)

		for _, limit := range []int{1, 4, 5, 22, 23, 50} {
			var got []int64
			pages := 0
			filter := workflow.Filter{Queue: workflow.QueueToAccept, Limit: limit}
			for {
				page, err := f.svc.List(f.ctx, f.acceptor, filter)
				if err != nil {
					t.Fatal(err)
				}
				pages++
				if page.Total != n {
					t.Errorf("limit %d page %d: total %d, want %d", limit, pages, page.Total, n)
				}
				if len(page.Cases) > limit {
					t.Errorf("limit %d page %d: %d cases", limit, pages, len(page.Cases))
				}
				got = append(got, ids(page.Cases)...)
				if page.Next == 0 {
					break
				}
				if page.Next != page.Cases[len(page.Cases)-1].ID {
					t.Errorf("limit %d: next %d is not the last id on the page", limit, page.Next)
				}
				if pages > n+1 {
					t.Fatalf("limit %d: paging does not end", limit)
				}
				filter.Before = page.Next
			}
			if !slices.Equal(got, want) {
				t.Errorf("limit %d: paged ids %v, want %v (no gaps, no duplicates, newest first)", limit, got, want)
			}
			if wantPages := (n + limit - 1) / limit; pages != wantPages {
				t.Errorf("limit %d: %d pages, want %d", limit, pages, wantPages)
			}
		}
		// Paging combined with a region filter.
		var got []int64
		filter := workflow.Filter{RegionID: f.district2.ID, Limit: 3, States: []workflow.State{workflow.Reported}}
		for {
			page, err := f.svc.List(f.ctx, f.acceptor, filter)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, ids(page.Cases)...)
			if page.Next == 0 {
				break
			}
			filter.Before = page.Next
		}
		if !slices.Equal(got, wantD2) {
			t.Errorf("district 2 pages = %v, want %v", got, wantD2)
		}
		// Out-of-range limits fall back to the default page size.
		page, err := f.svc.List(f.ctx, f.acceptor, workflow.Filter{Limit: -1})
		if err != nil || len(page.Cases) != n+2 || page.Next != 0 {
			t.Errorf("default limit: %d cases, next %d, %v", len(page.Cases), page.Next, err)
		}
	})
}

func TestDeadlines(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)

		t.Run("over a weekend", func(t *testing.T) {
			f.clk.Set(at(2026, 11, 27, 16, 0)) // Friday
			c := f.dispatched(f.unitA)
			// Friday 16:00–18:00 is 2 h; Monday 09:00–11:00 the other 2.
			sameInstant(t, "deadline", c.Deadline, at(2026, 11, 30, 11, 0))
			// 192 min: 120 on Friday, 72 on Monday.
			sameInstant(t, "warn_at", c.WarnAt, at(2026, 11, 30, 10, 12))
			if ts := f.dispatches(c.ID); ts[0].Deadline != store.Ms(at(2026, 11, 30, 11, 0)) {
				t.Errorf("dispatch deadline %d", ts[0].Deadline)
			}
			// Dispatched during lunch: the clock starts at 13:00.
			f.clk.Set(at(2026, 11, 24, 12, 30))
			sameInstant(t, "lunch dispatch", f.dispatched(f.unitA).Deadline, at(2026, 11, 24, 17, 0))
			// On a Saturday: Monday 09:00 + 4 h.
			f.clk.Set(at(2026, 11, 28, 10, 0))
			sameInstant(t, "weekend dispatch", f.dispatched(f.unitA).Deadline, at(2026, 11, 30, 14, 0))
			// Working days: the dispatch day does not count; close of
			// business on the 5th working day after it.
			f.clk.Set(at(2026, 11, 27, 16, 0))
			sameInstant(t, "5 days", f.dispatched(f.unitA, inCategory(f.cat5d.ID)).Deadline, at(2026, 12, 4, 18, 0))
			// An explicit deadline wins; one in the past is refused.
			a := f.accepted()
			explicit := at(2026, 12, 1, 10, 0)
			c = f.act(f.acceptor, a.ID, workflow.ActInput{Action: workflow.Dispatch, LeadUnitID: f.unitA.ID, Deadline: explicit})
			sameInstant(t, "explicit", c.Deadline, explicit)
			a = f.accepted()
			f.actErr(apperr.Invalid, f.acceptor, a.ID, workflow.ActInput{Action: workflow.Dispatch, LeadUnitID: f.unitA.ID, Deadline: f.clk.Now()})
		})

		t.Run("National Day", func(t *testing.T) {
			f.clk.Set(at(2026, 9, 30, 16, 0)) // Wednesday before the holiday
			// Without the holiday table Thursday 1 October is a working day.
			sameInstant(t, "no holidays", f.dispatched(f.unitA).Deadline, at(2026, 10, 1, 11, 0))

			wantCode(t, f.svc.SetHolidays(f.ctx, f.acceptor, workcal.China2026()), apperr.Forbidden)
			if err := f.svc.SetHolidays(f.ctx, f.admin, workcal.China2026()); err != nil {
				t.Fatal(err)
			}
			days, err := f.svc.Holidays(f.ctx)
			if err != nil || len(days) != len(workcal.China2026()) {
				t.Fatalf("holidays: %d, %v", len(days), err)
			}
			// 2 h on 30 September, then 1–7 October off: Thursday 8 October 11:00.
			c := f.dispatched(f.unitA)
			sameInstant(t, "4 h over National Day", c.Deadline, at(2026, 10, 8, 11, 0))
			sameInstant(t, "warn over National Day", c.WarnAt, at(2026, 10, 8, 10, 12))
			// 5 working days: 8, 9, 10 (Saturday make-up day 调休), 12, 13 October.
			sameInstant(t, "5 days over National Day", f.dispatched(f.unitA, inCategory(f.cat5d.ID)).Deadline, at(2026, 10, 13, 18, 0))
			// Mid-Autumn (25–27 September) on a Friday.
			f.clk.Set(at(2026, 9, 24, 17, 0))
			sameInstant(t, "4 h over Mid-Autumn", f.dispatched(f.unitA).Deadline, at(2026, 9, 28, 12, 0))
		})
	})
}

func TestSweepDeadlines(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.clk.Set(at(2026, 11, 24, 14, 0)) // Tuesday
		c := f.dispatched(f.unitA)
		deadline, warnAt := at(2026, 11, 24, 18, 0), at(2026, 11, 24, 17, 12)
		sameInstant(t, "deadline", c.Deadline, deadline)
		sameInstant(t, "warn_at", c.WarnAt, warnAt)
		f.clk.Set(at(2026, 11, 24, 15, 0))
		other := f.inProgress(f.unitB) // deadline Wednesday 10:00, warning Wednesday 09:12
		sweep := func(wantW, wantO int) {
			t.Helper()
			w, o, err := f.svc.SweepDeadlines(f.ctx)
			if err != nil || w != wantW || o != wantO {
				t.Fatalf("sweep at %s = %d warned, %d overdue, %v; want %d, %d", f.clk.Now().In(shanghai), w, o, err, wantW, wantO)
			}
		}

		f.clk.Set(warnAt.Add(-time.Second))
		sweep(0, 0)
		f.clk.Set(warnAt)
		sweep(1, 0)
		got := f.get(f.acceptor, c.ID)
		if got.Warning != 1 || got.Overdue || got.Version != c.Version+1 {
			t.Fatalf("after warn: %+v", got)
		}
		trail := f.trail(c.ID)
		wantEvent(t, trail[len(trail)-1], workflow.Warn, workflow.Dispatched, workflow.Dispatched, org.System, warnAt)
		sweep(0, 0)
		if n := f.countEvents(c.ID, workflow.Warn); n != 1 {
			t.Errorf("%d warn events", n)
		}
		if got := f.get(f.acceptor, other.ID); got.Warning != 0 {
			t.Errorf("other case warned early: %+v", got)
		}

		// Acknowledging keeps the warning (the clock runs on).
		f.act(f.handlerA, c.ID, workflow.ActInput{Action: workflow.Acknowledge})
		f.clk.Set(deadline.Add(25 * time.Minute)) // the watch noticed late
		sweep(0, 1)
		got = f.get(f.acceptor, c.ID)
		if !got.Overdue || got.Warning != 2 {
			t.Fatalf("after overdue: %+v", got)
		}
		sameInstant(t, "overdue_at", got.OverdueAt, deadline)
		trail = f.trail(c.ID)
		last := trail[len(trail)-1]
		wantEvent(t, last, workflow.Overdue, workflow.InProgress, workflow.InProgress, org.System, deadline.Add(25*time.Minute))
		if ts := f.dispatches(c.ID); !ts[0].Overdue {
			t.Errorf("dispatch not overdue: %+v", ts[0])
		}
		before := len(f.trail(c.ID))
		sweep(0, 0)
		if after := len(f.trail(c.ID)); after != before {
			t.Errorf("second sweep wrote %d events", after-before)
		}
		if again := f.get(f.acceptor, c.ID); again.Version != got.Version {
			t.Errorf("second sweep bumped the version %d → %d", got.Version, again.Version)
		}

		// A case whose warning time and deadline both passed unseen gets
		// only the red card.
		f.clk.Set(at(2026, 11, 25, 12, 0))
		sweep(0, 1)
		if f.countEvents(other.ID, workflow.Warn) != 0 || f.countEvents(other.ID, workflow.Overdue) != 1 {
			t.Errorf("other case trail = %+v", f.trail(other.ID))
		}
		// Late feedback marks the dispatch overdue and not on time.
		fb := f.feedback(f.unitB, other.ID)
		if fb.State != workflow.Verifying {
			t.Fatalf("feedback: %s", fb.State)
		}
		tr := f.trail(other.ID)
		if d := eventData(t, tr[len(tr)-1]); d["on_time"] != false {
			t.Errorf("late feedback data = %v", d)
		}
		// Nothing in verifying, postponed or closed is swept.
		sweep(0, 0)
	})
}

func TestSweepDeadlinesConcurrent(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		const n = 30
		var cs []*workflow.Case
		for range n {
			cs = append(cs, f.dispatched(f.unitA)) // deadline 14:00, warn 13:12
		}
		for phase, tc := range []struct {
			at     time.Time
			action workflow.Action
		}{{at(2026, 11, 16, 13, 30), workflow.Warn}, {at(2026, 11, 16, 14, 30), workflow.Overdue}} {
			f.clk.Set(tc.at)
			var w, o [2]int
			errs := race(func() (err error) {
				w[0], o[0], err = f.svc.SweepDeadlines(f.ctx)
				return err
			}, func() (err error) {
				w[1], o[1], err = f.svc.SweepDeadlines(f.ctx)
				return err
			})
			for _, err := range errs {
				if err != nil {
					t.Fatalf("phase %d: %v", phase, err)
				}
			}
			marked := w[0] + w[1]
			if tc.action == workflow.Overdue {
				marked = o[0] + o[1]
			}
			if marked != n || (tc.action == workflow.Warn && o[0]+o[1] != 0) || (tc.action == workflow.Overdue && w[0]+w[1] != 0) {
				t.Errorf("phase %d: warned %v, overdue %v; want %d marked once", phase, w, o, n)
			}
			for _, c := range cs {
				if k := f.countEvents(c.ID, tc.action); k != 1 {
					t.Errorf("phase %d: case %d has %d %s events", phase, c.ID, k, tc.action)
				}
			}
		}
		var events int
		if err := db.Reader().QueryRow(f.ctx, `SELECT count(*) FROM events WHERE action IN ('warn', 'overdue')`).Scan(&events); err != nil {
			t.Fatal(err)
		}
		if events != 2*n {
			t.Errorf("%d watch events, want %d", events, 2*n)
		}
		rep, err := audit.Verify(f.ctx, db)
		if err != nil || !rep.OK {
			t.Errorf("audit after concurrent sweeps: %+v, %v", rep, err)
		}
	})
}

// runSomeActions puts a few cases through the loop.
func runSomeActions(f *fixture) (feedbackSeq int64) {
	f.t.Helper()
	c := f.verifying(f.unitA)
	tr := f.trail(c.ID)
	feedbackSeq = tr[len(tr)-1].Seq
	f.act(f.inspector, c.ID, workflow.ActInput{Action: workflow.VerifyFail, Opinion: "不合格"})
	f.act(f.handlerA, c.ID, workflow.ActInput{Action: workflow.Return, Opinion: "非本单位"})
	r := f.report()
	f.act(f.acceptor, r.ID, workflow.ActInput{Action: workflow.Reject, Opinion: "重复"})
	f.inProgress(f.unitB)
	f.clk.Advance(8 * time.Hour)
	if _, _, err := f.svc.SweepDeadlines(f.ctx); err != nil {
		f.t.Fatal(err)
	}
	return feedbackSeq
}

func dropAppendOnly(t *testing.T, db *store.DB, f *fixture) {
	t.Helper()
	stmts := []string{`DROP TRIGGER events_no_update ON events`}
	if db.Dialect == store.SQLite {
		stmts = []string{`DROP TRIGGER events_no_update`, `DROP TRIGGER events_no_delete`}
	}
	for _, s := range stmts {
		if _, err := db.Exec(f.ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func TestAuditTrailTamperEvident(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		t.Run("altered opinion", func(t *testing.T) {
			f := newFixture(t, db)
			seq := runSomeActions(f)
			rep, err := audit.Verify(f.ctx, db)
			if err != nil || !rep.OK || rep.BrokenSeq != 0 || rep.Entries != rep.HeadSeq || rep.Entries < seq+5 {
				t.Fatalf("clean trail: %+v, %v", rep, err)
			}
			// The trail refuses changes while its triggers stand.
			if _, err := db.Exec(f.ctx, fmt.Sprintf(`UPDATE events SET opinion = 'x' WHERE seq = %d`, seq)); err == nil {
				t.Fatal("update of an event succeeded with the triggers in place")
			}
			dropAppendOnly(t, db, f)
			if _, err := db.Exec(f.ctx, fmt.Sprintf(`UPDATE events SET opinion = '我们早就处理好了' WHERE seq = %d`, seq)); err != nil {
				t.Fatal(err)
			}
			rep, err = audit.Verify(f.ctx, db)
			if err != nil || rep.OK || rep.BrokenSeq != seq || !strings.Contains(rep.Problem, "altered") {
				t.Errorf("after tampering with seq %d: %+v, %v", seq, rep, err)
			}
		})
		// A fresh database for the second check (TestDBs gave us one; make
		// another of the same engine).
		t.Run("deleted middle row", func(t *testing.T) {
			db := freshLike(t, db)
			f := newFixture(t, db)
			seq := runSomeActions(f)
			if _, err := audit.Seal(f.ctx, db); err != nil {
				t.Fatal(err)
			}
			dropAppendOnly(t, db, f)
			if _, err := db.Exec(f.ctx, fmt.Sprintf(`DELETE FROM events WHERE seq = %d`, seq)); err != nil {
				t.Fatal(err)
			}
			rep, err := audit.Verify(f.ctx, db)
			if err != nil || rep.OK || rep.BrokenSeq != seq || !strings.Contains(rep.Problem, "removed") {
				t.Errorf("after deleting seq %d: %+v, %v", seq, rep, err)
			}
		})
		t.Run("deleted last row", func(t *testing.T) {
			db := freshLike(t, db)
			f := newFixture(t, db)
			runSomeActions(f)
			if _, err := audit.Seal(f.ctx, db); err != nil {
				t.Fatal(err)
			}
			dropAppendOnly(t, db, f)
			var last int64
			if err := db.Reader().QueryRow(f.ctx, `SELECT max(seq) FROM events`).Scan(&last); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(f.ctx, fmt.Sprintf(`DELETE FROM events WHERE seq = %d`, last)); err != nil {
				t.Fatal(err)
			}
			rep, err := audit.Verify(f.ctx, db)
			if err != nil || rep.OK || rep.BrokenSeq != last {
				t.Errorf("after deleting the last entry %d: %+v, %v", last, rep, err)
			}
		})
	})
}

// freshLike returns a new database of the same engine as db, holding the
// test city only.
func freshLike(t *testing.T, db *store.DB) *store.DB {
	t.Helper()
	return testcity.Like(t, db)
}
