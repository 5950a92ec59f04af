package workflow_test

import (
	"testing"
	"time"

	"chuangwen/internal/org"
	"chuangwen/internal/store"
	"chuangwen/internal/testcity"
	"chuangwen/internal/workflow"
)

// The alerts of a case's life reach the people who must act next, each
// in their scope only, and the read mark clears the count.
func TestStaffAlerts(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		kinds := func(a org.Actor) []workflow.AlertKind {
			t.Helper()
			list, err := f.svc.Alerts(f.ctx, a, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			var out []workflow.AlertKind
			for _, x := range list {
				out = append(out, x.Kind)
			}
			return out
		}
		unread := func(a org.Actor) int {
			t.Helper()
			n, err := f.svc.UnreadAlerts(f.ctx, a)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		want := func(a org.Actor, ks ...workflow.AlertKind) {
			t.Helper()
			got := kinds(a)
			if len(got) != len(ks) {
				t.Fatalf("%s's alerts = %v, want %v", a.Name, got, ks)
			}
			for i := range ks {
				if got[i] != ks[i] {
					t.Fatalf("%s's alerts = %v, want %v", a.Name, got, ks)
				}
			}
		}
		// An acceptor of the second district sees nothing of the first's.
		far := f.user(org.NewUser{Username: "acceptor-d2", DisplayName: "二区受理员", Password: testcity.Password, Role: org.RoleAcceptor, Scope: org.ScopeRegion, ScopeRegionID: f.district2.ID})

		c := f.accepted()
		c = f.act(f.acceptor, c.ID, workflow.ActInput{Action: workflow.Dispatch, LeadUnitID: f.unitA.ID, CoopUnitIDs: []int64{f.unitB.ID}})
		want(f.handlerA, workflow.AlertDispatched)
		want(f.handlerB, workflow.AlertCooperate)
		want(f.acceptor)
		if list, _ := f.svc.Alerts(f.ctx, f.handlerA, 0, 0); list[0].CaseNo != c.No || list[0].CaseID != c.ID || !list[0].Unread {
			t.Errorf("handler A's alert = %+v", list[0])
		}

		f.act(f.handlerA, c.ID, workflow.ActInput{Action: workflow.Acknowledge})
		f.act(f.handlerA, c.ID, workflow.ActInput{Action: workflow.RequestExtension, Opinion: "需协调", Deadline: at(2026, 11, 17, 18, 0)})
		want(f.acceptor, workflow.AlertExtensionAsked)
		want(far)
		f.act(f.acceptor, c.ID, workflow.ActInput{Action: workflow.DenyExtension, Opinion: "按期完成"})
		f.act(f.acceptor, c.ID, workflow.ActInput{Action: workflow.Supervise, Opinion: "挂牌"})
		want(f.handlerA, workflow.AlertListed, workflow.AlertExtensionDenied, workflow.AlertDispatched)

		// The deadline passes: the watch's warning and overdue reach the unit.
		f.clk.Set(at(2026, 11, 16, 15, 0))
		if _, _, err := f.svc.SweepDeadlines(f.ctx); err != nil {
			t.Fatal(err)
		}
		want(f.handlerA, workflow.AlertOverdue, workflow.AlertListed, workflow.AlertExtensionDenied, workflow.AlertDispatched)

		f.feedback(f.unitA, c.ID)
		want(f.inspector, workflow.AlertToVerify)
		f.act(f.inspector, c.ID, workflow.ActInput{Action: workflow.VerifyFail, Opinion: "仍有垃圾", Photos: nil, Deadline: f.clk.Now().Add(48 * time.Hour)})
		if got := kinds(f.handlerA); got[0] != workflow.AlertRework {
			t.Fatalf("handler A's newest alert = %v, want rework", got)
		}
		if n := unread(f.handlerA); n != 5 {
			t.Errorf("handler A's unread = %d, want 5", n)
		}

		// Read up to the newest: nothing unread; a later alert counts again.
		list, _ := f.svc.Alerts(f.ctx, f.handlerA, 0, 0)
		if err := f.svc.MarkAlertsRead(f.ctx, f.handlerA, list[0].ID); err != nil {
			t.Fatal(err)
		}
		if n := unread(f.handlerA); n != 0 {
			t.Errorf("unread after the mark = %d", n)
		}
		// The mark does not move back.
		if err := f.svc.MarkAlertsRead(f.ctx, f.handlerA, list[len(list)-1].ID); err != nil {
			t.Fatal(err)
		}
		if n := unread(f.handlerA); n != 0 {
			t.Errorf("unread after an older mark = %d", n)
		}
		if list, _ := f.svc.Alerts(f.ctx, f.handlerA, 0, 0); list[0].Unread {
			t.Errorf("newest alert still unread: %+v", list[0])
		}
		if n := unread(f.handlerB); n != 1 {
			t.Errorf("handler B's unread = %d (B's own mark is apart)", n)
		}

		// Returned and sent to B: A's alerts about the case go with it,
		// and the acceptors hear of the return.
		f.act(f.handlerA, c.ID, workflow.ActInput{Action: workflow.Return, Opinion: "非我单位职责"})
		want(f.acceptor, workflow.AlertReturned, workflow.AlertExtensionAsked)
		f.act(f.acceptor, c.ID, workflow.ActInput{Action: workflow.Dispatch, LeadUnitID: f.unitB.ID})
		want(f.handlerA)
		want(f.handlerB, workflow.AlertDispatched, workflow.AlertCooperate)

		// A case of the second district reaches its acceptor too; tokens
		// and the system get none.
		c2 := f.report(inRegion(f.community2.ID))
		c2 = f.act(f.acceptor, c2.ID, workflow.ActInput{Action: workflow.Accept})
		c2 = f.act(f.acceptor, c2.ID, workflow.ActInput{Action: workflow.Dispatch, LeadUnitID: f.unitA.ID})
		f.act(f.handlerA, c2.ID, workflow.ActInput{Action: workflow.Return, Opinion: "不是我们"})
		want(far, workflow.AlertReturned)
		if n, err := f.svc.UnreadAlerts(f.ctx, org.System); err != nil || n != 0 {
			t.Errorf("system's unread = %d, %v", n, err)
		}

		// A resident not satisfied reopens a closed case (the system's
		// action): the acceptors hear of it; an acceptor's own reopening
		// tells nobody. An acceptor whose account names a unit still gets
		// the acceptors' alerts, not the unit's.
		done := f.verifying(f.unitA)
		f.act(f.inspector, done.ID, workflow.ActInput{Action: workflow.VerifyPass})
		f.act(org.System, done.ID, workflow.ActInput{Action: workflow.Reopen, Opinion: "市民不满意"})
		if got := kinds(f.acceptor); got[0] != workflow.AlertReopened {
			t.Errorf("acceptor's newest alert = %v, want reopened", got)
		}
		unitAcceptor := f.user(org.NewUser{Username: "acceptor-a", DisplayName: "驻单位受理员", Password: testcity.Password, Role: org.RoleAcceptor, Scope: org.ScopeCity, UnitID: f.unitA.ID})
		if got := kinds(unitAcceptor); len(got) == 0 || got[0] != workflow.AlertReopened {
			t.Errorf("an acceptor with a unit gets %v, want the acceptors' alerts", got)
		}

		// A week on, what was not read no longer counts as new (it stays
		// in the list).
		if n := unread(f.handlerB); n == 0 {
			t.Fatal("handler B has nothing unread before the week passes")
		}
		f.clk.Advance(8 * 24 * time.Hour)
		if n := unread(f.handlerB); n != 0 {
			t.Errorf("handler B's unread after a week = %d", n)
		}
		if list, _ := f.svc.Alerts(f.ctx, f.handlerB, 0, 0); len(list) == 0 || list[0].Unread {
			t.Errorf("handler B's list after a week: %+v", list)
		}

		// A mark beyond the newest alert does not silence those to come.
		if err := f.svc.MarkAlertsRead(f.ctx, f.handlerA, 1<<60); err != nil {
			t.Fatal(err)
		}
		f.act(f.acceptor, c2.ID, workflow.ActInput{Action: workflow.Dispatch, LeadUnitID: f.unitA.ID})
		if n := unread(f.handlerA); n != 1 {
			t.Errorf("handler A's unread after a far mark and a dispatch = %d, want 1", n)
		}

		// Paging: before an id gives the older ones.
		all, _ := f.svc.Alerts(f.ctx, f.acceptor, 0, 0)
		older, _ := f.svc.Alerts(f.ctx, f.acceptor, all[0].ID, 0)
		if len(older) != len(all)-1 || older[0].ID != all[1].ID {
			t.Errorf("older than %d: %d alerts, want %d", all[0].ID, len(older), len(all)-1)
		}
	})
}
