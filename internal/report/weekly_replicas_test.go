package report_test

import (
	"sync"
	"testing"
	"time"

	"chuangwen/internal/org"
	"chuangwen/internal/report"
	"chuangwen/internal/store"
	"chuangwen/internal/testcity"
	"chuangwen/internal/workflow"
)

// TestWeeklyNoticesFromManyReplicas: four replicas of the program (four
// services on one database) find the week's notices due at the same
// moment and issue them at once. Each unit gets one notice with a number
// of its own, the four counts add up to the units, and a fifth round
// issues nothing. On PostgreSQL the four run truly side by side.
func TestWeeklyNoticesFromManyReplicas(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		c, ctx := f.c, f.ctx
		c.Clock.Set(time.Date(2026, 11, 19, 9, 0, 0, 0, testcity.Shanghai))
		f.dispatched(c.UnitA) // overdue by Friday
		listed := f.dispatched(c.UnitB)
		f.act(c.Acceptor, listed, workflow.ActInput{Action: workflow.Supervise, Opinion: "挂牌督办"})
		c.Clock.Set(time.Date(2026, 11, 20, 9, 0, 0, 0, testcity.Shanghai))

		const replicas = 4
		var wg sync.WaitGroup
		counts := make([]int, replicas)
		errs := make([]error, replicas)
		start := make(chan struct{})
		for i := range replicas {
			rs := &report.Service{DB: db, Flow: c.Flow, Assess: f.as, Location: testcity.Shanghai, Now: c.Clock.Now}
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				counts[i], errs[i] = rs.IssueWeekly(ctx, org.System, "2026-W47")
			}()
		}
		close(start)
		wg.Wait()
		total := 0
		for i := range replicas {
			if errs[i] != nil {
				t.Errorf("replica %d: %v", i, errs[i])
			}
			total += counts[i]
		}
		if total != 2 {
			t.Errorf("the replicas issued %v notices, %d in all, want 2 (one per unit with anything due)", counts, total)
		}
		all, err := f.rs.Notices(ctx, c.Leader, "2026-W47")
		if err != nil {
			t.Fatal(err)
		}
		units, nos := map[string]int{}, map[string]bool{}
		for _, n := range all {
			units[n.Doc.Unit]++
			if nos[n.Doc.No] {
				t.Errorf("notice number %s given twice", n.Doc.No)
			}
			nos[n.Doc.No] = true
		}
		if len(all) != 2 || units["A"] != 1 || units["B"] != 1 {
			t.Errorf("notices by unit %v (%d in all), want one each for A and B", units, len(all))
		}
		if n, err := f.rs.IssueWeekly(ctx, org.System, "2026-W47"); err != nil || n != 0 {
			t.Errorf("a fifth round issued %d (%v)", n, err)
		}
	})
}
