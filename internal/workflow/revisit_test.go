package workflow_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"chuangwen/internal/apperr"
	"chuangwen/internal/org"
	"chuangwen/internal/photo"
	"chuangwen/internal/store"
	"chuangwen/internal/testcity"
	"chuangwen/internal/workflow"
)

func TestSampleRevisitsReproducible(t *testing.T) {
	seed := []byte("the city's draw seed, 32 bytes..")
	var cands []workflow.RevisitCandidate
	for i := int64(1); i <= 40; i++ {
		cands = append(cands, workflow.RevisitCandidate{DispatchID: i, CaseID: 100 + i, UnitID: 1 + i%3})
	}
	a := workflow.SampleRevisits(seed, "2026-W49", 0.1, cands)
	// Shuffled input, same sample.
	rev := slices.Clone(cands)
	slices.Reverse(rev)
	if b := workflow.SampleRevisits(seed, "2026-W49", 0.1, rev); !slices.Equal(a, b) {
		t.Fatalf("the order of the candidates changed the sample:\n%v\n%v", a, b)
	}
	// Units of 14, 13 and 13 candidates: ceil(1.4) + ceil(1.3) + ceil(1.3).
	if len(a) != 6 {
		t.Fatalf("drew %d, want 6: %v", len(a), a)
	}
	perUnit := map[int64]int{}
	for _, c := range a {
		perUnit[c.UnitID]++
	}
	if perUnit[1] != 2 || perUnit[2] != 2 || perUnit[3] != 2 {
		t.Errorf("per unit %v, want 2 each", perUnit)
	}
	// Another week or another seed draws another sample.
	if b := workflow.SampleRevisits(seed, "2026-W50", 0.1, cands); slices.Equal(a, b) {
		t.Error("the week does not change the sample")
	}
	if b := workflow.SampleRevisits([]byte("another seed"), "2026-W49", 0.1, cands); slices.Equal(a, b) {
		t.Error("the seed does not change the sample")
	}
	// A bigger share keeps what the smaller one drew (ranks are per candidate).
	big := workflow.SampleRevisits(seed, "2026-W49", 0.5, cands)
	for _, c := range a {
		if !slices.Contains(big, c) {
			t.Errorf("share 0.5 lost %v drawn at 0.1", c)
		}
	}
	// Removing an undrawn candidate leaves the sample as it was.
	var fewer []workflow.RevisitCandidate
	for _, c := range cands {
		if slices.Contains(a, c) || c.UnitID != 2 || len(fewer) > 30 {
			fewer = append(fewer, c)
		}
	}
	if b := workflow.SampleRevisits(seed, "2026-W49", 0.1, fewer); len(b) > len(a) {
		t.Errorf("fewer candidates drew more: %d > %d", len(b), len(a))
	}
	if got := workflow.SampleRevisits(seed, "2026-W49", 0, cands); len(got) != 0 {
		t.Errorf("share 0 drew %d", len(got))
	}
	if got := workflow.SampleRevisits(seed, "2026-W49", 1, cands); len(got) != len(cands) {
		t.Errorf("share 1 drew %d of %d", len(got), len(cands))
	}
	one := workflow.SampleRevisits(seed, "2026-W49", 0.01, cands[:1])
	if len(one) != 1 {
		t.Errorf("a unit with one closure and a share above 0 drew %d", len(one))
	}
}

func TestWeekMonday(t *testing.T) {
	for _, tc := range []struct {
		in   time.Time
		want string
		week string
	}{
		{at(2026, 11, 30, 0, 0), "2026-11-30", "2026-W49"},
		{at(2026, 12, 6, 23, 59), "2026-11-30", "2026-W49"},
		{at(2026, 12, 7, 0, 0), "2026-12-07", "2026-W50"},
		{at(2027, 1, 1, 12, 0), "2026-12-28", "2026-W53"},
	} {
		m := workflow.WeekMonday(tc.in, shanghai)
		if got := m.Format("2006-01-02"); got != tc.want || m.Hour() != 0 {
			t.Errorf("WeekMonday(%s) = %s", tc.in, m)
		}
		if got := workflow.RevisitWeek(m); got != tc.week {
			t.Errorf("RevisitWeek(%s) = %s, want %s", m, got, tc.week)
		}
	}
}

// closed takes a new case of unit to closed, verified by the inspector.
func (f *fixture) closed(unit org.Unit, mods ...func(*workflow.NewCase)) *workflow.Case {
	f.t.Helper()
	c := f.verifying(unit, mods...)
	return f.act(f.inspector, c.ID, workflow.ActInput{Action: workflow.VerifyPass, Opinion: "现场核查已整改"})
}

func at2(lat, lon float64) func(*workflow.NewCase) {
	return func(in *workflow.NewCase) { in.Lat, in.Lon = &lat, &lon }
}

func TestRevisitsEndToEnd(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := f.ctx
		// Week W48 (23-29 November): unit A closes 12 cases, unit B 3.
		f.clk.Set(at(2026, 11, 23, 9, 0))
		var closedA, closedB []*workflow.Case
		for range 12 {
			closedA = append(closedA, f.closed(f.unitA))
		}
		for range 3 {
			closedB = append(closedB, f.closed(f.unitB))
		}
		// A case reopened before the draw is no candidate.
		reopened := f.closed(f.unitA)
		f.act(f.acceptor, reopened.ID, workflow.ActInput{Action: workflow.Reopen, Opinion: "市民不满意"})

		if err := f.svc.SaveRecheckSettings(ctx, f.acceptor, workflow.DefaultRecheckSettings()); apperr.CodeOf(err) != apperr.Forbidden {
			t.Fatalf("acceptor saves settings: %v", err)
		}
		for _, bad := range []workflow.RecheckSettings{{RevisitShare: -0.1, RevisitDays: 5}, {RevisitShare: 1.5, RevisitDays: 5}, {RevisitShare: 0.2, RevisitDays: 0}, {RevisitShare: 0.2, RevisitDays: 5, RecurrenceDays: -1}} {
			if err := f.svc.SaveRecheckSettings(ctx, f.admin, bad); apperr.CodeOf(err) != apperr.Invalid {
				t.Errorf("settings %+v: %v", bad, err)
			}
		}
		st := workflow.RecheckSettings{RevisitShare: 0.25, RevisitDays: 3, RecurrenceDays: 30}
		if err := f.svc.SaveRecheckSettings(ctx, f.admin, st); err != nil {
			t.Fatal(err)
		}

		// Monday of W49: the draw takes ceil(12/4) = 3 of A's and ceil(3/4) = 1 of B's.
		f.clk.Set(at(2026, 11, 30, 8, 0))
		if _, err := f.svc.DrawRevisits(ctx, f.inspector, f.clk.Now()); apperr.CodeOf(err) != apperr.Forbidden {
			t.Fatalf("inspector draws: %v", err)
		}
		d, err := f.svc.DrawRevisits(ctx, org.System, f.clk.Now())
		if err != nil {
			t.Fatal(err)
		}
		if d.Week != "2026-W49" || d.Candidates != 15 || d.Drawn != 4 || !d.New {
			t.Fatalf("draw = %+v", d)
		}
		// Drawn again (a restart, a second replica): the same draw, nothing added.
		f.clk.Advance(time.Hour)
		again, err := f.svc.DrawRevisits(ctx, f.admin, f.clk.Now())
		if err != nil {
			t.Fatal(err)
		}
		if again.New || again.Drawn != 4 || again.Candidates != 15 {
			t.Fatalf("second draw = %+v", again)
		}
		list, err := f.svc.Revisits(ctx, f.inspector, workflow.RevisitFilter{State: workflow.RevisitPending})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 4 {
			t.Fatalf("inspector sees %d pending revisits, want 4", len(list))
		}
		byUnit := map[int64][]workflow.RevisitItem{}
		for _, it := range list {
			byUnit[it.UnitID] = append(byUnit[it.UnitID], it)
			if it.CaseID == reopened.ID {
				t.Error("the reopened case was drawn")
			}
			// 3 working days from Monday 09:00 (the draw ran at 08:00,
			// before the working day): Wednesday's end or Thursday's start.
			if it.DueAt.Before(at(2026, 12, 2, 17, 0)) || it.DueAt.After(at(2026, 12, 3, 9, 0)) {
				t.Errorf("due %s", it.DueAt.In(shanghai))
			}
		}
		if len(byUnit[f.unitA.ID]) != 3 || len(byUnit[f.unitB.ID]) != 1 {
			t.Fatalf("per unit A %d, B %d", len(byUnit[f.unitA.ID]), len(byUnit[f.unitB.ID]))
		}
		// A unit's handler sees no pending revisit: it would tell the unit
		// which closures will be looked at.
		hb, err := f.svc.Revisits(ctx, f.handlerB, workflow.RevisitFilter{})
		if err != nil || len(hb) != 0 {
			t.Fatalf("handler B sees %v, %v", hb, err)
		}

		passID, failID := byUnit[f.unitA.ID][0], byUnit[f.unitA.ID][1]
		// A handler does not record revisits, nor does the administrator.
		if _, err := f.svc.RecordRevisit(ctx, f.handlerA, passID.ID, workflow.RevisitResult{Pass: true}); apperr.CodeOf(err) != apperr.Forbidden {
			t.Errorf("handler records: %v", err)
		}
		if _, err := f.svc.RecordRevisit(ctx, f.admin, passID.ID, workflow.RevisitResult{Pass: true}); apperr.CodeOf(err) != apperr.Forbidden {
			t.Errorf("admin records: %v", err)
		}
		// A grid worker whose region is the other district does not see it.
		far := f.user(org.NewUser{Username: "grid2", DisplayName: "网格员2", Role: org.RoleGrid, Scope: org.ScopeRegion, ScopeRegionID: f.district2.ID})
		if _, err := f.svc.RecordRevisit(ctx, far, passID.ID, workflow.RevisitResult{Pass: true}); apperr.CodeOf(err) != apperr.NotFound {
			t.Errorf("out-of-scope grid worker records: %v", err)
		}
		if _, err := f.svc.RecordRevisit(ctx, f.grid, 987654, workflow.RevisitResult{Pass: true}); apperr.CodeOf(err) != apperr.NotFound {
			t.Errorf("unknown revisit: %v", err)
		}
		// A revisit action on the case without a drawn revisit is refused.
		f.actErr(apperr.Invalid, f.inspector, closedA[0].ID, workflow.ActInput{Action: workflow.Revisit})
		f.actErr(apperr.Invalid, f.inspector, failID.CaseID, workflow.ActInput{Action: workflow.Revisit, RevisitID: passID.ID})

		// Pass: the case stays closed, the trail says so.
		c, err := f.svc.RecordRevisit(ctx, f.grid, passID.ID, workflow.RevisitResult{Pass: true, Note: "回访未见反弹"})
		if err != nil {
			t.Fatal(err)
		}
		if c.State != workflow.Closed || f.countEvents(c.ID, workflow.Revisit) != 1 {
			t.Fatalf("after pass: state %s, %d revisit events", c.State, f.countEvents(c.ID, workflow.Revisit))
		}
		// Recorded twice (a phone that sent the form again): refused, nothing changes.
		if _, err := f.svc.RecordRevisit(ctx, f.grid, passID.ID, workflow.RevisitResult{Pass: false, Note: "x", Photos: []photo.File{f.photo()}}); apperr.CodeOf(err) != apperr.Conflict {
			t.Fatalf("second record: %v", err)
		}
		if got := f.get(f.acceptor, passID.CaseID); got.State != workflow.Closed {
			t.Fatalf("second record moved the case to %s", got.State)
		}

		// Fail: a note and a photo are required; then the case reopens.
		if _, err := f.svc.RecordRevisit(ctx, f.inspector, failID.ID, workflow.RevisitResult{Note: "垃圾又堆起来了"}); apperr.CodeOf(err) != apperr.Invalid {
			t.Errorf("relapse without photo: %v", err)
		}
		if _, err := f.svc.RecordRevisit(ctx, f.inspector, failID.ID, workflow.RevisitResult{Photos: []photo.File{f.photo()}}); apperr.CodeOf(err) != apperr.Invalid {
			t.Errorf("relapse without note: %v", err)
		}
		c, err = f.svc.RecordRevisit(ctx, f.inspector, failID.ID, workflow.RevisitResult{Note: "垃圾又堆起来了", Photos: []photo.File{f.photo()}})
		if err != nil {
			t.Fatal(err)
		}
		if c.State != workflow.Accepted || c.LeadUnitID != 0 || !c.ClosedAt.IsZero() {
			t.Fatalf("after relapse: %s lead %d closed %s", c.State, c.LeadUnitID, c.ClosedAt)
		}
		tr := f.trail(c.ID)
		last := tr[len(tr)-1]
		if last.Action != string(workflow.Relapse) || last.Opinion != "垃圾又堆起来了" {
			t.Fatalf("last event %s %q", last.Action, last.Opinion)
		}
		full := f.get(f.acceptor, c.ID)
		evidence := 0
		for _, p := range full.Photos {
			if p.Kind == "evidence" {
				evidence++
			}
		}
		if evidence != 1 {
			t.Errorf("%d evidence photos on the relapsed case", evidence)
		}
		// The relapsed case is dispatched again like any other.
		c = f.act(f.acceptor, c.ID, workflow.ActInput{Action: workflow.Dispatch, LeadUnitID: f.unitA.ID})
		if c.State != workflow.Dispatched {
			t.Fatalf("redispatch: %s", c.State)
		}

		// Done, A's handler reads both of its unit's revisits, the relapsed
		// case's too (it has no unit now); B's handler none of them.
		ha, err := f.svc.Revisits(ctx, f.handlerA, workflow.RevisitFilter{})
		if err != nil || len(ha) != 2 {
			t.Fatalf("handler A sees %d done revisits (%v), want 2", len(ha), err)
		}
		if hb, _ := f.svc.Revisits(ctx, f.handlerB, workflow.RevisitFilter{}); len(hb) != 0 {
			t.Errorf("handler B sees A's revisits: %v", hb)
		}
		// A drawn case reopened after the draw: its revisit is moot.
		moot := byUnit[f.unitA.ID][2]
		f.act(f.acceptor, moot.CaseID, workflow.ActInput{Action: workflow.Reopen, Opinion: "市民来电"})
		if _, err := f.svc.RecordRevisit(ctx, f.grid, moot.ID, workflow.RevisitResult{Pass: true}); apperr.CodeOf(err) != apperr.Conflict {
			t.Errorf("moot revisit: %v", err)
		}
		pend, err := f.svc.Revisits(ctx, f.acceptor, workflow.RevisitFilter{State: workflow.RevisitPending})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range pend {
			if it.ID == moot.ID && !it.Moot {
				t.Error("a revisit of a reopened case is not shown moot")
			}
		}

		// The figures: unit A's W48 cohort has 2 revisited, 1 relapse.
		p := workflow.Period{From: at(2026, 11, 23, 0, 0), To: at(2026, 11, 30, 0, 0)}
		rows, err := f.svc.UnitPerformance(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range rows {
			want := [2]int{}
			var rate *float64
			if row.ID == f.unitA.ID {
				want, rate = [2]int{2, 1}, r(1, 2)
			}
			if got := [2]int{row.Figures.Revisited, row.Figures.Relapses}; got != want {
				t.Errorf("unit %s revisited, relapses = %v, want %v", row.Code, got, want)
			}
			checkRate(t, row.Code+" relapse", row.Rates.Relapse, rate)
		}
		check, err := f.svc.CompareFigures(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if len(check.Diffs) > 0 || len(check.Anomalies) > 0 {
			t.Fatalf("stored figures and trail disagree: %+v %v", check.Diffs, check.Anomalies)
		}

		// Late: past the due time, a pending revisit shows late.
		f.clk.Set(at(2026, 12, 4, 9, 0))
		pend, _ = f.svc.Revisits(ctx, f.inspector, workflow.RevisitFilter{State: workflow.RevisitPending})
		if len(pend) == 0 || !pend[0].Late {
			t.Errorf("pending revisits past due not late: %+v", pend)
		}
		draws, err := f.svc.RevisitDraws(ctx, 10)
		if err != nil || len(draws) != 1 || draws[0].Drawn != 4 {
			t.Errorf("draws %+v %v", draws, err)
		}
		_ = closedB
	})
}

func TestRecurrence(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := f.ctx
		const lat, lon = 31.2304, 121.4737
		f.clk.Set(at(2026, 11, 2, 9, 0))
		old := f.closed(f.unitA, at2(lat, lon))
		f.clk.Set(at(2026, 11, 16, 9, 0))
		earlier := f.closed(f.unitA, at2(lat+0.0001, lon))
		// 20 m away, same category, 10 days later: a recurrence of the
		// nearest closed case.
		f.clk.Set(at(2026, 11, 26, 9, 0))
		again := f.report(at2(lat+0.0001+20/111320.0, lon))
		of, later, err := f.svc.Recurrences(ctx, f.acceptor, again.ID)
		if err != nil {
			t.Fatal(err)
		}
		if of == nil || of.EarlierID != earlier.ID || of.DistanceM != 20 {
			t.Fatalf("recurrence of %+v, want case %d at 20 m", of, earlier.ID)
		}
		if len(later) != 0 {
			t.Errorf("later %v", later)
		}
		_, later, err = f.svc.Recurrences(ctx, f.acceptor, earlier.ID)
		if err != nil || len(later) != 1 || later[0].CaseID != again.ID {
			t.Fatalf("the earlier case's recurrences: %+v %v", later, err)
		}
		tr := f.trail(again.ID)
		if tr[0].Data == "" || !strings.Contains(tr[0].Data, `"recurrence_of":"`+earlier.No+`"`) {
			t.Errorf("report event data %s", tr[0].Data)
		}
		// Another category, farther than the radius, or the earlier case
		// still open: no recurrence.
		for name, mods := range map[string][]func(*workflow.NewCase){
			"other category": {at2(lat+0.0001, lon), inCategory(f.cat5d.ID)},
			"200 m away":     {at2(lat+0.0001+200/111320.0, lon)},
			"no location":    nil,
		} {
			c := f.report(mods...)
			if of, _, err := f.svc.Recurrences(ctx, f.acceptor, c.ID); err != nil || of != nil {
				t.Errorf("%s: recurrence %+v %v", name, of, err)
			}
		}
		// Past the window (30 days after the earlier closing): none.
		f.clk.Set(at(2026, 12, 17, 10, 0))
		c := f.report(at2(lat+0.0001, lon))
		if of, _, err := f.svc.Recurrences(ctx, f.acceptor, c.ID); err != nil || of != nil {
			t.Errorf("after the window: %+v %v", of, err)
		}
		// Turned off: none.
		if err := f.svc.SaveRecheckSettings(ctx, f.admin, workflow.RecheckSettings{RevisitShare: 0.1, RevisitDays: 5}); err != nil {
			t.Fatal(err)
		}
		f.clk.Set(at(2026, 11, 27, 9, 0))
		c = f.report(at2(lat+0.0001, lon))
		if of, _, _ := f.svc.Recurrences(ctx, f.acceptor, c.ID); of != nil {
			t.Errorf("recurrence check off, still linked: %+v", of)
		}
		// A unit handler sees the link only for cases it sees.
		if _, _, err := f.svc.Recurrences(ctx, f.handlerB, again.ID); apperr.CodeOf(err) != apperr.NotFound {
			t.Errorf("handler B reads a case it does not see: %v", err)
		}
		_ = old
	})
}

// TestRevisitSeed: with an announced seed, anyone holding it draws what
// the platform drew.
func TestRevisitSeed(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		seed := []byte("announced at the office, 2026-11")
		if err := f.svc.SetRevisitSeed(f.ctx, f.inspector, seed); apperr.CodeOf(err) != apperr.Forbidden {
			t.Errorf("inspector sets the seed: %v", err)
		}
		if err := f.svc.SetRevisitSeed(f.ctx, f.admin, []byte("short")); apperr.CodeOf(err) != apperr.Invalid {
			t.Errorf("short seed: %v", err)
		}
		if err := f.svc.SetRevisitSeed(f.ctx, f.admin, seed); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.SaveRecheckSettings(f.ctx, f.admin, workflow.RecheckSettings{RevisitShare: 0.3, RevisitDays: 5}); err != nil {
			t.Fatal(err)
		}
		f.clk.Set(at(2026, 11, 23, 9, 0))
		var cands []workflow.RevisitCandidate
		for range 7 {
			c := f.closed(f.unitA)
			cands = append(cands, workflow.RevisitCandidate{DispatchID: f.dispatches(c.ID)[0].ID, CaseID: c.ID, UnitID: f.unitA.ID})
		}
		f.clk.Set(at(2026, 11, 30, 8, 0))
		if _, err := f.svc.DrawRevisits(f.ctx, f.admin, f.clk.Now()); err != nil {
			t.Fatal(err)
		}
		items, err := f.svc.Revisits(f.ctx, f.admin, workflow.RevisitFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var drawn []int64
		for _, it := range items {
			drawn = append(drawn, it.CaseID)
		}
		var want []int64
		for _, c := range workflow.SampleRevisits(seed, "2026-W49", 0.3, cands) {
			want = append(want, c.CaseID)
		}
		slices.Sort(drawn)
		slices.Sort(want)
		if len(want) != 3 || !slices.Equal(drawn, want) {
			t.Fatalf("drawn %v, the seed's holder draws %v", drawn, want)
		}
	})
}
