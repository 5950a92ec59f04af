package assess_test

import (
	"strings"
	"testing"
	"time"

	"chuangwen/internal/apperr"
	"chuangwen/internal/assess"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
	"chuangwen/internal/testcity"
)

func TestRechecks(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		rd := f.round()
		if _, ps, err := f.svc.ImportObservations(f.ctx, f.c.Admin, rd.Code, strings.NewReader(testObservations)); err != nil {
			t.Fatal(ps, err)
		}
		// Nothing before the round closes.
		if ks, err := f.svc.Rechecks(f.ctx, f.c.Admin, ""); err != nil || len(ks) != 0 {
			t.Fatalf("before close: %v %v", ks, err)
		}
		closedAt := f.c.Clock.Now()
		if _, err := f.svc.CloseRound(f.ctx, f.c.Admin, rd.Code); err != nil {
			t.Fatal(err)
		}
		// Sites with a failed standard: S01, S02, S03, S05, S07, S08.
		ks, err := f.svc.Rechecks(f.ctx, f.c.Admin, assess.RecheckPending)
		if err != nil {
			t.Fatal(err)
		}
		var sites []string
		for _, k := range ks {
			sites = append(sites, k.Site)
			if want := closedAt.AddDate(0, 0, 10); !k.DueAt.Equal(want.Truncate(time.Millisecond)) {
				t.Errorf("%s due %s, want %s", k.Site, k.DueAt, want)
			}
		}
		if strings.Join(sites, ",") != "S01,S02,S03,S05,S07,S08" {
			t.Fatalf("re-inspections of %v", sites)
		}
		// Unit A's handler sees its site S01 only; a volunteer officer nothing.
		mine, err := f.svc.Rechecks(f.ctx, f.c.HandlerA, "")
		if err != nil || len(mine) != 1 || mine[0].Site != "S01" {
			t.Fatalf("handler A sees %+v %v", mine, err)
		}
		vol := f.c.User(t, org.NewUser{Username: "vol", DisplayName: "志愿", Role: org.RoleVolunteer})
		if _, err := f.svc.Rechecks(f.ctx, vol, ""); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("volunteer officer: %v", err)
		}
		// An inspector of 拱墅区 (330105) sees the sites there only.
		var gongshu int64
		f.must(db.Reader().QueryRow(f.ctx, `SELECT id FROM regions WHERE code = '330105'`).Scan(&gongshu))
		insp2 := f.c.User(t, org.NewUser{Username: "insp2", DisplayName: "二区督查", Role: org.RoleInspector, Scope: org.ScopeRegion, ScopeRegionID: gongshu})
		theirs, err := f.svc.Rechecks(f.ctx, insp2, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range theirs {
			if k.Site == "S01" || k.Site == "S02" || k.Site == "S03" {
				t.Errorf("district 2's inspector sees %s", k.Site)
			}
		}
		if _, err := f.svc.RecheckOf(f.ctx, insp2, rd.Code, "S02"); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("district 2's inspector opens S02: %v", err)
		}

		// S02 failed A1.1 and A1.2: both shown with the originals.
		k, err := f.svc.RecheckOf(f.ctx, f.c.Inspector, rd.Code, "S02")
		if err != nil {
			t.Fatal(err)
		}
		if len(k.Items) != 2 || k.Items[0].Standard != "A1.1" || k.Items[1].Standard != "A1.2" || k.Items[0].Original.Result != "fail" || k.Items[0].Result != "" {
			t.Fatalf("S02 items %+v", k.Items)
		}
		pass := []assess.RecheckResult{{Standard: "A1.1", Result: "pass"}, {Standard: "A1.2", Result: "pass", Note: "已清理"}}
		for name, bad := range map[string][]assess.RecheckResult{
			"a standard missing": pass[:1],
			"an extra standard":  append(append([]assess.RecheckResult{}, pass...), assess.RecheckResult{Standard: "A2.1", Result: "pass"}),
			"twice the same":     {pass[0], pass[0], pass[1]},
			"a bad result":       {pass[0], {Standard: "A1.2", Result: "na"}},
			"negative problems":  {pass[0], {Standard: "A1.2", Result: "fail", Problems: -1}},
		} {
			if _, err := f.svc.RecordRecheck(f.ctx, f.c.Inspector, rd.Code, "S02", bad, ""); !apperr.Is(err, apperr.Invalid) {
				t.Errorf("%s: %v", name, err)
			}
		}
		if _, err := f.svc.RecordRecheck(f.ctx, f.c.HandlerB, rd.Code, "S02", pass, ""); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("a handler records: %v", err)
		}
		if n := f.count("assess_recheck_items"); n != 0 {
			t.Fatalf("a refused record stored %d items", n)
		}
		f.c.Clock.Advance(48 * time.Hour)
		got, err := f.svc.RecordRecheck(f.ctx, f.c.Inspector, rd.Code, "S02", pass, "复查整改到位")
		if err != nil {
			t.Fatal(err)
		}
		if got.State != assess.RecheckPassed || got.Items[1].Result != "pass" || got.Items[1].Note != "已清理" || got.Note != "复查整改到位" || got.DoneBy == "" {
			t.Fatalf("recorded %+v", got)
		}
		if _, err := f.svc.RecordRecheck(f.ctx, f.c.Inspector, rd.Code, "S02", pass, ""); !apperr.Is(err, apperr.Conflict) {
			t.Errorf("recorded twice: %v", err)
		}
		// S01 fails again: on unit A's list of the week.
		if _, err := f.svc.RecordRecheck(f.ctx, f.c.Grid, rd.Code, "S01", []assess.RecheckResult{{Standard: "A1.2", Result: "fail", Problems: 2, Note: "仍有乱张贴"}}, ""); err != nil {
			t.Fatal(err)
		}
		failed, err := f.svc.FailedRechecks(f.ctx, closedAt, f.c.Clock.Now().Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if len(failed) != 1 || len(failed[f.c.UnitA.ID]) != 1 || failed[f.c.UnitA.ID][0].Site != "S01" {
			t.Fatalf("failed re-inspections %+v", failed)
		}
		// Late: pending past the due time.
		f.c.Clock.Advance(15 * 24 * time.Hour)
		ks, _ = f.svc.Rechecks(f.ctx, f.c.Admin, assess.RecheckPending)
		if len(ks) != 4 || !ks[0].Late {
			t.Errorf("pending after the due time: %+v", ks)
		}
		// RecheckDays 0 opens none.
		st := assess.DefaultSettings()
		st.RecheckDays = 0
		f.must(f.svc.SaveSettings(f.ctx, f.c.Admin, st))
		seed := uint64(2)
		rd2, err := f.svc.CreateRound(f.ctx, f.c.Admin, assess.NewRound{Edition: "t-2026", Name: "十二月", Seed: &seed})
		f.must(err)
		if _, ps, err := f.svc.ImportObservations(f.ctx, f.c.Admin, rd2.Code, strings.NewReader(testObservations)); err != nil {
			t.Fatal(ps, err)
		}
		if _, err := f.svc.CloseRound(f.ctx, f.c.Admin, rd2.Code); err != nil {
			t.Fatal(err)
		}
		if n := f.count("assess_rechecks"); n != 6 {
			t.Errorf("%d re-inspections after a round closed with recheck_days 0, want the first round's 6", n)
		}
	})
}
