package volunteer_test

import (
	"testing"
	"time"

	"chuangwen/internal/org"
	"chuangwen/internal/store"
	"chuangwen/internal/testcity"
	"chuangwen/internal/volunteer"
)

// TestQuarterTotalsMatchRecords: a quarter's statistics come from the
// per-quarter totals that every confirmation keeps; any other period
// from the service records. Across a quarter's boundary, with a
// confirmation, a correction down, an after-the-fact record and an
// unconfirmed check-out, both give the same figures.
func TestQuarterTotalsMatchRecords(t *testing.T) {
	t.Parallel()
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		v1, v2, v3 := e.volunteer(e.teamA, "甲"), e.volunteer(e.teamA, "乙"), e.volunteer(e.teamB, "丙")
		dec := testcity.At(2026, 12, 31, 20, 0) // ends in the new year: counted in Q4 by check-in
		jan := testcity.At(2027, 1, 2, 9, 0)
		a1 := e.activity(e.coordA, e.teamA, "跨年夜执勤", dec, dec.Add(3*time.Hour), 10)
		a2 := e.activity(e.coordB, e.teamB, "新年清洁", jan, jan.Add(2*time.Hour), 10)
		e.at(dec)
		e.checkIn(v1, a1)
		e.checkIn(v2, a1)
		e.at(dec.Add(3 * time.Hour))
		e.checkOut(v1, a1)
		e.checkOut(v2, a1)
		e.at(jan)
		e.checkIn(v3, a2)
		e.checkIn(v1, a2)
		e.at(jan.Add(2 * time.Hour))
		e.checkOut(v3, a2)
		e.checkOut(v1, a2) // never confirmed
		e.at(jan.Add(3 * time.Hour))
		if _, err := e.svc.ConfirmAll(e.ctx, e.coordA, a1.ID); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Confirm(e.ctx, e.coordA, e.row(a1.ID, v2).RecordID, 100, "提前离开"); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Confirm(e.ctx, e.coordB, e.row(a2.ID, v3).RecordID, -1, ""); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.RecordPast(e.ctx, e.coordB, a2.ID, []volunteer.PastService{{VolunteerID: v2, Minutes: 45}}, "纸质签到表"); err != nil {
			t.Fatal(err)
		}
		leader := org.Actor{Role: org.RoleLeader, Scope: org.ScopeCity}
		for _, q := range []time.Time{testcity.At(2026, 10, 1, 0, 0), testcity.At(2027, 1, 1, 0, 0)} {
			end := q.AddDate(0, 3, 0)
			quarter, err := e.svc.Stats(e.ctx, leader, q, end)
			if err != nil {
				t.Fatal(err)
			}
			// a millisecond short of the quarter: read from the records
			records, err := e.svc.Stats(e.ctx, leader, q, end.Add(-time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			all := func(s volunteer.Stats) []volunteer.RegionStats {
				return append(append([]volunteer.RegionStats{s.City}, s.Districts...), s.Streets...)
			}
			qa, ra := all(quarter), all(records)
			for i := range qa {
				if qa[i].Active != ra[i].Active || qa[i].Minutes != ra[i].Minutes {
					t.Errorf("%s %s: from the totals %d active, %d min; from the records %d active, %d min",
						volunteer.QuarterOf(q, testcity.Shanghai), qa[i].Name, qa[i].Active, qa[i].Minutes, ra[i].Active, ra[i].Minutes)
				}
			}
			want := map[string][2]int64{"2026Q4": {2, 180 + 100}, "2027Q1": {2, 120 + 45}}[volunteer.QuarterOf(q, testcity.Shanghai)]
			if quarter.City.Active != want[0] || quarter.City.Minutes != want[1] {
				t.Errorf("%s: %d active, %d min, want %v", volunteer.QuarterOf(q, testcity.Shanghai), quarter.City.Active, quarter.City.Minutes, want)
			}
		}
	})
}
