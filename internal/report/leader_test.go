package report_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"chuangwen/internal/apperr"
	"chuangwen/internal/grid"
	"chuangwen/internal/org"
	"chuangwen/internal/report"
	"chuangwen/internal/store"
	"chuangwen/internal/testcity"
	"chuangwen/internal/workflow"
)

// TestLeaderView reads the leader's screen over the hand-built quarter
// (see quarter): on Wednesday 18 November 2026, 09:00, unit B has one
// case open past its deadline; a case reported this morning falls in a
// grid cell; the screen counts, shades, ranks and links them, in the
// reader's scope, and a case reported after a read shows at the next.
func TestLeaderView(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := quarter(t, db)
		ctx, c := f.ctx, f.c
		gs := grid.New(db, nil)
		cell := `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"grid_code":"330102001001001","name":"网格001"},` +
			`"geometry":{"type":"Polygon","coordinates":[[[120.15,30.25],[120.151,30.25],[120.151,30.251],[120.15,30.251],[120.15,30.25]]]}}]}`
		if rep, err := gs.Import(ctx, c.Admin, strings.NewReader(cell), false); err != nil || rep.Created != 1 {
			t.Fatalf("grid import: %+v %v", rep, err)
		}
		c.Flow.Locator = gs
		// the open case of unit B, overdue by the deadline watch, and listed
		if _, _, err := c.Flow.SweepDeadlines(ctx); err != nil {
			t.Fatal(err)
		}
		var openB int64
		f.must(db.Reader().QueryRow(ctx, `SELECT id FROM cases WHERE state = 'dispatched'`).Scan(&openB))
		f.act(c.Acceptor, openB, workflow.ActInput{Action: workflow.Supervise, Opinion: "挂牌"})
		lat, lon := 30.2505, 120.1505
		fresh, err := c.Flow.Report(ctx, c.Acceptor, workflow.NewCase{CategoryID: c.Cat4h.ID, Description: "路边垃圾", Lat: &lat, Lon: &lon})
		f.must(err)

		v, err := f.rs.Leader(ctx, c.Leader)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(v)
		t.Logf("%s", raw)
		want := report.LeaderCounts{Open: 2, Overdue: 1, Listed: 1, Red: 1, Today: 1, ClosedWeek: 3}
		if v.Counts != want {
			t.Errorf("counts %+v, want %+v", v.Counts, want)
		}
		if len(v.Cells) != 1 || v.Cells[0].Code != "330102001001001" || v.Cells[0].Open != 1 || v.Cells[0].Overdue != 0 || v.Cells[0].ID == 0 {
			t.Errorf("cells %+v", v.Cells)
		}
		if len(v.Units) != 1 || v.Units[0].Code != "B" || v.Units[0].ToHandle != 1 || v.Units[0].Overdue != 1 || v.Units[0].ID != c.UnitB.ID {
			t.Errorf("units %+v", v.Units)
		}
		if len(v.Weeks) != report.LeaderWeeks {
			t.Fatalf("%d weeks", len(v.Weeks))
		}
		last := v.Weeks[len(v.Weeks)-1]
		if last.Week != "2026-W47" || last.From != "2026-11-16" || last.To != "2026-11-22" || last.Reported != 5 || last.Closed != 3 {
			t.Errorf("this week %+v", last)
		}
		if first := v.Weeks[0]; first.Week != "2026-W36" || first.Reported != 0 {
			t.Errorf("the first week %+v", first)
		}
		if v.Quarter != "2026Q4" || len(v.Districts) != 2 || v.Districts[0].Code != "330105" || v.Districts[0].Rank != 1 ||
			v.Districts[0].RegionID != c.District2.ID || v.Districts[1].Name != "上城区" {
			t.Errorf("districts %s", raw)
		}
		if !strings.Contains(string(raw), `"index":96`) || !strings.Contains(string(raw), `"index":50`) {
			t.Errorf("the index figures: %s", raw)
		}
		if v.Round == nil || v.Round.Date != "2026-11-10" || v.Round.Rate.Rat == nil {
			t.Errorf("round %+v", v.Round)
		}
		if len(v.Listed) != 1 || v.Listed[0].ID != openB || v.Listed[0].Unit != "园林局" || v.Listed[0].Warning != 2 {
			t.Errorf("listed %+v", v.Listed)
		}

		// The current week is read live: a case reported now counts at once.
		c.Clock.Advance(time.Minute)
		_, err = c.Flow.Report(ctx, c.Acceptor, workflow.NewCase{CategoryID: c.Cat4h.ID, Description: "又一处", RegionID: c.Community2.ID})
		f.must(err)
		v2, err := f.rs.Leader(ctx, c.Leader)
		f.must(err)
		if v2.Weeks[len(v2.Weeks)-1].Reported != 6 || v2.Counts.Today != 2 || v2.Counts.Open != 3 {
			t.Errorf("after one more case: %+v %+v", v2.Counts, v2.Weeks[len(v2.Weeks)-1])
		}

		// Scope: a leader of 拱墅区 sees its own district's cases only; the
		// index stays the city's ranking.
		district := c.User(t, org.NewUser{Username: "leader-gs", DisplayName: "区领导", Role: org.RoleLeader, Scope: org.ScopeRegion, ScopeRegionID: c.District2.ID})
		vd, err := f.rs.Leader(ctx, district)
		f.must(err)
		if vd.Counts.Open != 1 || vd.Counts.Overdue != 0 || len(vd.Units) != 0 || len(vd.Cells) != 0 || len(vd.Listed) != 0 || vd.Weeks[len(vd.Weeks)-1].Reported != 1 || len(vd.Districts) != 2 {
			t.Errorf("the district leader's screen: %+v", vd)
		}
		if _, err := f.rs.Leader(ctx, c.HandlerB); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("a handler reads the screen: %v", err)
		}
		_ = fresh
	})
}
