package volunteer_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"chuangwen/internal/apperr"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
	"chuangwen/internal/testcity"
	"chuangwen/internal/volunteer"
)

// TestCityScopedCoordinator: a coordinator's account of city scope
// manages their team alone: no taking over another team, no new teams.
func TestCityScopedCoordinator(t *testing.T) {
	t.Parallel()
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		boss := e.c.User(t, org.NewUser{Username: "coordC", DisplayName: "协调员丙", Role: org.RoleVolunteer, Scope: org.ScopeCity})
		if err := e.svc.SetCoordinator(e.ctx, e.c.Admin, e.teamA.ID, boss.UserID); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.SetCoordinator(e.ctx, boss, e.teamB.ID, boss.UserID); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("a coordinator takes over another team: %v", err)
		}
		if _, err := e.svc.CreateTeam(e.ctx, boss, volunteer.NewTeam{Name: "新队", NodeID: e.nodeA.ID}); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("a coordinator creates a team: %v", err)
		}
		b := e.volunteer(e.teamB, "乙队员")
		if _, err := e.svc.Volunteer(e.ctx, boss, b); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("a coordinator reads another team's volunteer: %v", err)
		}
		teams, err := e.svc.Teams(e.ctx, boss)
		if err != nil || len(teams) != 1 || teams[0].ID != e.teamA.ID {
			t.Errorf("the coordinator's teams: %+v %v", teams, err)
		}
		// the city's volunteer office (coordinating nothing) still manages all
		if err := e.svc.SetCoordinator(e.ctx, e.c.Volunteer, e.teamB.ID, 0); err != nil {
			t.Errorf("the volunteer office: %v", err)
		}
	})
}

// TestRosterTooWide: a workbook of a few kilobytes whose rows reach
// column XFD is refused at its first such row, not unpacked into
// millions of cells.
func TestRosterTooWide(t *testing.T) {
	t.Parallel()
	f := excelize.NewFile()
	f.SetCellStr("Sheet1", "A1", "姓名")
	f.SetCellStr("Sheet1", "B1", "手机号码")
	f.SetCellStr("Sheet1", "C1", "证件号码")
	for r := 2; r < 20; r++ {
		cell, _ := excelize.CoordinatesToCellName(16384, r)
		f.SetCellStr("Sheet1", cell, "x")
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	_, _, _, err := volunteer.ParseRoster(&buf)
	if e, ok := apperr.As(err); !ok || e.Key != "volunteer.roster_too_wide" {
		t.Fatalf("a roster 16,384 columns wide: %v", err)
	}
}

// TestDataKeyCheck: the first start records which data key seals this
// database; a start with another key stops instead of sealing new
// numbers under it.
func TestDataKeyCheck(t *testing.T) {
	t.Parallel()
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		if err := e.svc.CheckKey(e.ctx); err != nil {
			t.Fatalf("first start: %v", err)
		}
		if err := e.svc.CheckKey(e.ctx); err != nil {
			t.Fatalf("the same key again: %v", err)
		}
		other := volunteer.New(db, e.c.Org, newSealer(t), testcity.Shanghai, nil)
		if err := other.CheckKey(e.ctx); err == nil {
			t.Fatal("another data key was accepted")
		}
	})
}

// TestConfirmAwaitsCheckout: a record without a check-out is not
// confirmed while its volunteer may still check out; afterwards it is.
func TestConfirmAwaitsCheckout(t *testing.T) {
	t.Parallel()
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		v := e.volunteer(e.teamA, "甲")
		start := e.c.Clock.Now().Add(time.Hour)
		a := e.activity(e.coordA, e.teamA, "测试", start, start.Add(2*time.Hour), 5)
		e.at(start)
		e.checkIn(v, a)
		e.at(start.Add(2*time.Hour + 10*time.Minute)) // ended; check-out open for 50 more minutes
		rec := e.row(a.ID, v).RecordID
		if err := e.svc.Confirm(e.ctx, e.coordA, rec, 100, "现场核实"); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("confirmed while check-out is open: %v", err)
		}
		e.at(start.Add(3*time.Hour + time.Minute))
		if err := e.svc.Confirm(e.ctx, e.coordA, rec, 100, "现场核实"); err != nil {
			t.Fatalf("after check-out closed: %v", err)
		}
		if e.minutes(v) != 100 {
			t.Errorf("minutes %d", e.minutes(v))
		}
	})
}
