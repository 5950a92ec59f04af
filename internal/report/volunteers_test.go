package report_test

import (
	"bytes"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"chuangwen/internal/report"
	"chuangwen/internal/store"
	"chuangwen/internal/testcity"
	"chuangwen/internal/volunteer"
)

// TestBulletinVolunteers: with the volunteer service, the bulletin has
// its section (per district and the city: registered, share of
// residents, active, activities, hours, hours per volunteer, change
// since last quarter), in the JSON, the XLSX and the PDF; a published
// bulletin verifies, and hours corrected after publication show as a
// named difference.
func TestBulletinVolunteers(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := quarter(t, db)
		c := f.c
		seal, err := volunteer.NewSealer(make([]byte, volunteer.KeySize))
		f.must(err)
		vs := volunteer.New(db, c.Org, seal, testcity.Shanghai, nil)
		vs.Now = c.Clock.Now
		f.rs.Volunteer = vs
		node, err := vs.CreateNode(f.ctx, c.Admin, c.Street1.ID, "")
		f.must(err)
		team, err := vs.CreateTeam(f.ctx, c.Admin, volunteer.NewTeam{Name: "清波志愿服务队", NodeID: node.ID})
		f.must(err)
		f.must(vs.SetPopulation(f.ctx, c.Admin, map[int64]int64{c.Street1.ID: 1000}))
		first := "33010219800101001"
		rep, err := vs.ImportRoster(f.ctx, c.Admin, team.ID, []volunteer.Registration{
			{Name: "甲", Phone: "13800000001", IDNumber: first + string(volunteer.IDCheckChar(first))},
			{Name: "乙", Phone: "13800000002", IDNumber: "33010219800101002" + string(volunteer.IDCheckChar("33010219800101002"))}})
		if err != nil || rep.Stored != 2 {
			t.Fatalf("roster: %+v %v", rep, err)
		}
		ids, err := store.Int64s(f.ctx, db.Reader(), `SELECT id FROM volunteers ORDER BY id`)
		f.must(err)
		for i, day := range []int{3, 10} { // one in Q3, one in Q4
			start := testcity.At(2026, time.Month(9+i*2), day, 9, 0)
			a, err := vs.CreateActivity(f.ctx, c.Admin, volunteer.NewActivity{TeamID: team.ID, Kind: "care", Title: "走访", Address: "清波街道",
				Lat: 30.25, Lon: 120.15, StartsAt: start, EndsAt: start.Add(3 * time.Hour), Capacity: 5})
			f.must(err)
			past := []volunteer.PastService{{VolunteerID: ids[0], Minutes: 120}}
			if i == 1 {
				past = append(past, volunteer.PastService{VolunteerID: ids[1], Minutes: 180})
			}
			f.must(vs.RecordPast(f.ctx, c.Admin, a.ID, past, "签到表"))
		}
		b, err := f.rs.Draft(f.ctx, c.Leader, "2026Q4")
		f.must(err)
		v := b.Doc.Volunteers
		if v == nil || len(v.Districts) != 2 {
			t.Fatalf("volunteer section: %+v", v)
		}
		d1 := v.Districts[0]
		if d1.Code != c.District1.Code || d1.Registered != 2 || d1.Population != 1000 || d1.Share != 0.002 || d1.Active != 2 || d1.Activities != 1 ||
			d1.Hours != 5 || d1.PerCapita != 2.5 || d1.PreviousHours != 2 || d1.Change != 3 {
			t.Errorf("district 1: %+v", d1)
		}
		if v.City.Hours != 5 || v.Districts[1].Registered != 0 {
			t.Errorf("city %+v, district 2 %+v", v.City, v.Districts[1])
		}
		// The volunteer component weighs nothing by default; weighed 20
		// with a 1 % target, district 1's share of 0.2 % is a component of
		// 0.2: index 100 × (60 × ½ + 40 × ½ + 20 × 0.2) ÷ 120 = 45. District 2
		// has no population, hence no component: its index stays 96.
		if b.Doc.Districts[0].Volunteers != nil || strings.Contains(b.Doc.Formula, "volunteer") {
			t.Errorf("a volunteer component without a weight: %+v", b.Doc.Districts[0])
		}
		st := report.DefaultSettings()
		st.MinDue = 1
		st.Volunteers, st.VolunteerTarget = "20", "0.01"
		f.must(f.rs.SaveSettings(f.ctx, c.Admin, st))
		wb, err := f.rs.Draft(f.ctx, c.Leader, "2026Q4")
		f.must(err)
		for _, d := range wb.Doc.Districts {
			switch d.Code {
			case c.District1.Code:
				if d.Volunteers == nil || d.Volunteers.Rat.Cmp(big.NewRat(1, 5)) != 0 || d.Index.Rat.Cmp(big.NewRat(45, 1)) != 0 {
					t.Errorf("district 1 with volunteers: %+v", d)
				}
			default:
				if d.Volunteers != nil || d.Index.Rat == nil || d.Index.Rat.Cmp(big.NewRat(96, 1)) != 0 {
					t.Errorf("district %s: %+v", d.Code, d)
				}
			}
		}
		if !strings.Contains(wb.Doc.Formula, "volunteer_target") {
			t.Errorf("formula %q", wb.Doc.Formula)
		}
		// The leader's screen shows the same index, and follows a new
		// registration within five minutes (no round closes meanwhile).
		leaderIndex := func() *big.Rat {
			t.Helper()
			v, err := f.rs.Leader(f.ctx, c.Leader)
			f.must(err)
			for _, d := range v.Districts {
				if d.Code == c.District1.Code {
					return d.Index.Rat
				}
			}
			t.Fatalf("district 1 not on the leader's screen: %+v", v.Districts)
			return nil
		}
		if x := leaderIndex(); x == nil || x.Cmp(big.NewRat(45, 1)) != 0 {
			t.Errorf("leader's index of district 1: %v, want 45", x)
		}
		third := "33010219800101003"
		if rep, err := vs.ImportRoster(f.ctx, c.Admin, team.ID, []volunteer.Registration{{Name: "丙", Phone: "13800000003", IDNumber: third + string(volunteer.IDCheckChar(third))}}); err != nil || rep.Stored != 1 {
			t.Fatalf("third volunteer: %+v %v", rep, err)
		}
		c.Clock.Advance(6 * time.Minute)
		// 100 × (60 × ½ + 40 × ½ + 20 × 0.3) ÷ 120 = 140/3
		if x := leaderIndex(); x == nil || x.Cmp(big.NewRat(140, 3)) != 0 {
			t.Errorf("leader's index after a registration: %v, want 140/3", x)
		}
		bad := st
		bad.VolunteerTarget = ""
		if err := f.rs.SaveSettings(f.ctx, c.Admin, bad); err == nil {
			t.Error("a weight without a target is taken")
		}
		// The month's report counts November's activity alone, against October's nothing.
		m, err := f.rs.Monthly(f.ctx, c.Leader, "2026-11")
		f.must(err)
		if mv := m.Volunteers; mv == nil || mv.City.Hours != 5 || mv.City.PreviousHours != 0 || mv.City.Change != 5 || mv.Districts[0].Activities != 1 {
			t.Errorf("the month's volunteer section: %+v", mv)
		}
		var mx bytes.Buffer
		f.must(m.WriteXLSX(&mx, func(k string) string { return k }))
		if mb, err := excelize.OpenReader(&mx); err != nil {
			t.Error(err)
		} else if rows, err := mb.GetRows("report.sheet_volunteers"); err != nil || len(rows) != 4 {
			t.Errorf("the month's XLSX sheet: %v %v", rows, err)
		}
		var x bytes.Buffer
		f.must(b.Doc.WriteXLSX(&x, func(k string) string { return k }))
		book, err := excelize.OpenReader(&x)
		f.must(err)
		rows, err := book.GetRows("report.sheet_volunteers")
		if err != nil || len(rows) != 4 || rows[1][1] != c.District1.Name || rows[1][7] != "5" {
			t.Errorf("XLSX sheet: %v %v", rows, err)
		}
		var pdf bytes.Buffer
		f.must(b.Doc.WritePDF(&pdf, func(k string) string { return k }, "文明办"))
		if !bytes.HasPrefix(pdf.Bytes(), []byte("%PDF")) {
			t.Error("no PDF")
		}
		p, err := f.rs.Publish(f.ctx, c.Admin, "2026Q4")
		f.must(err)
		if diffs, err := f.rs.Verify(f.ctx, c.Leader, p.Code); err != nil || len(diffs) != 0 {
			t.Fatalf("verify: %+v %v", diffs, err)
		}
		// hours corrected after publication: named, not silent
		var rec int64
		f.must(db.Reader().QueryRow(f.ctx, `SELECT id FROM service_records WHERE volunteer_id = ? AND confirmed_minutes = 180`, ids[1]).Scan(&rec))
		f.must(vs.Confirm(f.ctx, c.Admin, rec, 120, "核减"))
		diffs, err := f.rs.Verify(f.ctx, c.Leader, p.Code)
		f.must(err)
		named := false
		for _, d := range diffs {
			named = named || strings.HasPrefix(d.Path, "volunteers.") && strings.HasSuffix(d.Path, ".hours") && d.Published == "5" && d.Recomputed == "4"
		}
		if !named {
			t.Errorf("differences after a correction: %+v", diffs)
		}
	})
}
