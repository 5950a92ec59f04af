package workflow_test

import (
	"slices"
	"testing"
	"time"

	"chuangwen/internal/apperr"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
	"chuangwen/internal/testcity"
	"chuangwen/internal/workflow"
)

// TestUnitQueueByDeadline: a handler's queues in handling, soonest
// deadline first, read as merged short ranges, page for page the same as
// the whole queue sorted: cases the unit leads and cooperates on, equal
// deadlines (the newest first), a case without a deadline (last), overdue
// ones, across pages of two.
func TestUnitQueueByDeadline(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		var ids []int64
		for i := range 9 {
			f.clk.Set(start.Add(time.Duration(max(0, i-6)) * time.Hour)) // seven share a deadline
			c := f.dispatched(f.unitA)
			ids = append(ids, c.ID)
		}
		coop := f.accepted()
		f.act(f.acceptor, coop.ID, workflow.ActInput{Action: workflow.Dispatch, LeadUnitID: f.unitB.ID, CoopUnitIDs: []int64{f.unitA.ID}})
		other := f.dispatched(f.unitB) // not A's
		if _, err := db.Exec(f.ctx, `UPDATE cases SET deadline = 0 WHERE id = ?`, ids[4]); err != nil {
			t.Fatal(err)
		}
		f.clk.Set(start.Add(30 * time.Hour))
		if _, _, err := f.svc.SweepDeadlines(f.ctx); err != nil {
			t.Fatal(err)
		}
		for _, q := range []workflow.Queue{workflow.QueueToHandle, workflow.QueueOverdue} {
			// The whole queue, sorted here by the list's rule.
			all, err := f.svc.List(f.ctx, f.handlerA, workflow.Filter{Queue: q, Limit: 200, Sort: workflow.SortOldest})
			if err != nil {
				t.Fatal(err)
			}
			want := slices.Clone(all.Cases)
			slices.SortFunc(want, func(a, b *workflow.Case) int {
				za, zb := a.Deadline.IsZero(), b.Deadline.IsZero()
				switch {
				case za != zb && za:
					return 1
				case za != zb:
					return -1
				case !a.Deadline.Equal(b.Deadline):
					return a.Deadline.Compare(b.Deadline)
				}
				return int(b.ID - a.ID)
			})
			var wantIDs, got []int64
			for _, c := range want {
				wantIDs = append(wantIDs, c.ID)
				if c.ID == other.ID {
					t.Fatalf("%s: another unit's case in A's queue", q)
				}
			}
			for page := 1; ; page++ {
				p, err := f.svc.List(f.ctx, f.handlerA, workflow.Filter{Queue: q, Limit: 2, Page: page, Sort: workflow.SortDeadline})
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range p.Cases {
					got = append(got, c.ID)
				}
				if page >= p.Pages {
					break
				}
			}
			if !slices.Equal(got, wantIDs) {
				t.Errorf("%s by deadline in pages: %v, want %v", q, got, wantIDs)
			}
			if q == workflow.QueueToHandle && (len(got) != 10 || !slices.Contains(got, coop.ID) || got[len(got)-1] != ids[4]) {
				t.Errorf("to_handle: %v (want 10 with the cooperation, the case without deadline last)", got)
			}
		}
		// A volunteer officer whose account names the unit sees no case
		// (their scope has none), by deadline or otherwise.
		vol := f.user(org.NewUser{Username: "vol-unit-a", DisplayName: "单位志愿服务管理员", Password: testcity.Password, Role: org.RoleVolunteer, Scope: org.ScopeUnit, UnitID: f.unitA.ID})
		if p, err := f.svc.List(f.ctx, vol, workflow.Filter{Queue: workflow.QueueToHandle, Sort: workflow.SortDeadline}); err != nil || len(p.Cases) != 0 {
			t.Errorf("a volunteer officer of unit A lists %d cases (%v)", len(p.Cases), err)
		}
	})
}

// TestPageNumberBounded: a page number whose offset would overflow is
// refused as the caller's error, on every path of the list (the merged
// deadline queue, a sorted list, the newest first).
func TestPageNumberBounded(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.dispatched(f.unitA)
		for _, fl := range []workflow.Filter{
			{Queue: workflow.QueueToHandle, Sort: workflow.SortDeadline, Page: 1 << 62},
			{Sort: workflow.SortOldest, Page: workflow.MaxPage + 1},
			{Page: 9_223_372_036_854_775_807},
		} {
			if _, err := f.svc.List(f.ctx, f.handlerA, fl); !apperr.Is(err, apperr.Invalid) {
				t.Errorf("page %d (%s): %v, want invalid", fl.Page, fl.Sort, err)
			}
		}
		if p, err := f.svc.List(f.ctx, f.handlerA, workflow.Filter{Page: workflow.MaxPage}); err != nil || len(p.Cases) != 0 {
			t.Errorf("the last page allowed: %d cases, %v", len(p.Cases), err)
		}
	})
}
