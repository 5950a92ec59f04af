package report_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"chuangwen/internal/apperr"
	"chuangwen/internal/report"
	"chuangwen/internal/store"
	"chuangwen/internal/testcity"
	"chuangwen/internal/workflow"
)

// TestOversight: the public page's figures per district, the exposure
// list once the office turns it on, the settings' checks, and no person
// anywhere in it.
func TestOversight(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		c, ctx := f.c, f.ctx
		sh := testcity.Shanghai
		c.Clock.Set(time.Date(2026, 11, 2, 9, 0, 0, 0, sh))
		// Two closed in district 1 (four hours after their report), one
		// listed and left overdue.
		for range 2 {
			f.closed(c.UnitA, c.HandlerA)
		}
		listed := f.dispatched(c.UnitA)
		f.act(c.Acceptor, listed, workflow.ActInput{Action: workflow.Supervise, Opinion: "挂牌督办"})
		if _, err := db.Exec(ctx, `UPDATE cases SET reporter_name = '李四', reporter_phone = '13812345678' WHERE id = ?`, listed); err != nil {
			t.Fatal(err)
		}
		// A satisfied and an unsatisfied rating.
		var closedIDs []int64
		rows, err := db.Reader().Query(ctx, `SELECT id FROM cases WHERE state = 'closed' ORDER BY id`)
		f.must(err)
		for rows.Next() {
			var id int64
			f.must(rows.Scan(&id))
			closedIDs = append(closedIDs, id)
		}
		rows.Close()
		for i, r := range []string{"satisfied", "unsatisfied"} {
			if _, err := db.Exec(ctx, `INSERT INTO receipts (code, case_id, kind, rating, rated_at, created_at) VALUES (?, ?, 'reporter', ?, ?, ?)`,
				"R"+r, closedIDs[i], r, store.Ms(c.Clock.Now()), store.Ms(c.Clock.Now())); err != nil {
				t.Fatal(err)
			}
		}
		c.Clock.Set(time.Date(2026, 11, 20, 9, 0, 0, 0, sh))
		if _, _, err := c.Flow.SweepDeadlines(ctx); err != nil {
			t.Fatal(err)
		}
		c.Clock.Set(time.Date(2026, 12, 5, 9, 0, 0, 0, sh))
		o, err := f.rs.Oversight(ctx)
		f.must(err)
		if o.City == nil || o.City.Received != 3 || o.City.Closed != 2 || o.City.Rated != 2 || *o.City.Satisfaction != 0.5 || o.City.AvgDays == nil {
			t.Fatalf("city %+v", o.City)
		}
		if len(o.Trend) != 12 || o.Trend[11].Month != "2026-12" || o.Trend[10].Reported != 3 {
			t.Errorf("trend %+v", o.Trend)
		}
		var d1 *report.PublicFigures
		for i := range o.Districts {
			if o.Districts[i].Code == c.District1.Code {
				d1 = &o.Districts[i]
			}
		}
		if d1 == nil || d1.Received != 3 || d1.OnTimeRate == nil {
			t.Errorf("district 1 %+v", d1)
		}
		if o.Exposure != nil {
			t.Errorf("exposure shown before the office chose it: %+v", o.Exposure)
		}
		// The office turns the exposure list on: the listed case, overdue
		// since 2 November, shows (after the cache's minutes, or at once
		// after a change of settings).
		if err := f.rs.SaveOversightSettings(ctx, c.Acceptor, report.DefaultOversight()); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("acceptor: %v", err)
		}
		bad := report.DefaultOversight()
		bad.ExposureDays = 0
		if err := f.rs.SaveOversightSettings(ctx, c.Admin, bad); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("0 days: %v", err)
		}
		st := report.DefaultOversight()
		st.Exposure = true
		f.must(f.rs.SaveOversightSettings(ctx, c.Admin, st))
		o, err = f.rs.Oversight(ctx)
		f.must(err)
		if len(o.Exposure) != 1 || o.Exposure[0].OverdueDays < 10 || o.Exposure[0].Unit != c.UnitA.Name {
			t.Fatalf("exposure %+v", o.Exposure)
		}
		b, _ := json.Marshal(o)
		for _, personal := range []string{"李四", "13812345678", "reporter"} {
			if strings.Contains(string(b), personal) {
				t.Errorf("the public page holds %q: %s", personal, b)
			}
		}
		// Everything off: nothing but the dates.
		f.must(f.rs.SaveOversightSettings(ctx, c.Admin, report.OversightSettings{ExposureDays: 10}))
		o, _ = f.rs.Oversight(ctx)
		if o.City != nil || o.Trend != nil || o.Exposure != nil || o.Honour != nil {
			t.Errorf("all off: %+v", o)
		}
	})
}
