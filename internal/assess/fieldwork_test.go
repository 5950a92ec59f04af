package assess_test

import (
	"fmt"
	"io"
	"strings"
	"testing"

	"chuangwen/internal/apperr"
	"chuangwen/internal/assess"
	"chuangwen/internal/blob"
	"chuangwen/internal/store"
	"chuangwen/internal/testcity"
	"chuangwen/internal/workflow"
)

// withCases gives the fixture's service the test city's case service and
// maps the test tree's field standards to the test categories.
func (f *fixture) withCases() {
	f.t.Helper()
	f.svc.Cases = f.c.Flow
	f.must(f.svc.MapCategories(f.ctx, f.c.Admin, map[string]int64{"A1.1": f.c.Cat4h.ID, "A1.2": f.c.Cat5d.ID}))
}

func TestFieldworkRaisesCasesOnce(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		rd := f.round()
		f.withCases()
		if _, err := f.svc.SaveTeam(f.ctx, f.c.Admin, rd.Code, "第一组", []string{"inspector"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.SaveTeam(f.ctx, f.c.Admin, rd.Code, "第二组", []string{"grid"}); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("a grid worker in a team: %v", err)
		}
		if n, err := f.svc.AssignSites(f.ctx, f.c.Admin, rd.Code, "第一组", []string{"S01", "S02", "S03"}); err != nil || n != 3 {
			t.Fatalf("assign: %d %v", n, err)
		}
		mine, err := f.svc.MyAssignments(f.ctx, f.c.Inspector)
		if err != nil || len(mine) != 3 || mine[0].SiteCode != "S01" || mine[0].Items != 2 {
			t.Fatalf("assignments %+v %v", mine, err)
		}

		// A team sees only its sites; other roles none.
		if _, err := f.svc.Checklist(f.ctx, f.c.Inspector, rd.Code, "S04"); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("another team's site: %v", err)
		}
		if _, err := f.svc.Checklist(f.ctx, f.c.HandlerA, rd.Code, "S01"); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("a handler's checklist: %v", err)
		}
		sub := assess.Submission{Round: rd.Code, Site: "S01", Standard: "A1.2", Result: "fail", Problems: 2, Note: "电杆乱张贴", Key: "k1"}
		if _, err := f.svc.Submit(f.ctx, f.c.Inspector, assess.Submission{Round: rd.Code, Site: "S04", Standard: "A1.2", Result: "fail"}); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("submit at another team's site: %v", err)
		}
		if _, err := f.svc.Submit(f.ctx, f.c.Inspector, assess.Submission{Round: rd.Code, Site: "S01", Standard: "A2.1", Result: "fail"}); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("a standard of another site type: %v", err)
		}
		if _, err := f.svc.Submit(f.ctx, f.c.Inspector, assess.Submission{Round: rd.Code, Site: "S01", Standard: "A1.2", Result: "bad"}); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("a bad result: %v", err)
		}
		got, err := f.svc.Submit(f.ctx, f.c.Inspector, sub)
		if err != nil || got.Observation.CaseID == 0 || got.Replayed {
			t.Fatalf("submit: %+v %v", got, err)
		}
		// The phone resends: nothing changes, no second case.
		again, err := f.svc.Submit(f.ctx, f.c.Inspector, sub)
		if err != nil || !again.Replayed || again.Observation.CaseID != got.Observation.CaseID || again.Observation.CaseNo == "" || again.Observation.CaseNo != got.Observation.CaseNo {
			t.Fatalf("resend: %+v %v", again, err)
		}
		// A correction with a new key keeps the case.
		sub.Key, sub.Problems = "k2", 3
		fixed, err := f.svc.Submit(f.ctx, f.c.Inspector, sub)
		if err != nil || fixed.Replayed || fixed.Observation.CaseID != got.Observation.CaseID || fixed.Observation.Problems != 3 {
			t.Fatalf("correction: %+v %v", fixed, err)
		}
		if n := f.count("cases"); n != 1 {
			t.Errorf("%d cases", n)
		}
		// The case: inspection, dispatched to the site's unit A, filed under
		// the mapped category, and linked back.
		c, err := f.c.Flow.Get(f.ctx, f.c.Admin, got.Observation.CaseID)
		if err != nil {
			t.Fatal(err)
		}
		if c.Source != workflow.SourceInspection || c.State != workflow.Dispatched || c.LeadUnitID != f.c.UnitA.ID || c.CategoryID != f.c.Cat5d.ID {
			t.Errorf("case %+v", c)
		}
		if !strings.Contains(c.Description, "A1.2") || !strings.Contains(c.Description, "S01") {
			t.Errorf("description %q", c.Description)
		}
		r, site, std, ok, err := f.svc.ObservationOfCase(f.ctx, c.ID)
		if err != nil || !ok || r != rd.Code || site != "S01" || std != "A1.2" {
			t.Errorf("link back: %s %s %s %v %v", r, site, std, ok, err)
		}
		// A site with no unit: the standard's lead unit (B) leads, its
		// cooperating unit (A) cooperates.
		if _, err := f.svc.AssignSites(f.ctx, f.c.Admin, rd.Code, "第一组", []string{"S08"}); err != nil {
			t.Fatal(err)
		}
		s8, err := f.svc.Submit(f.ctx, f.c.Inspector, assess.Submission{Round: rd.Code, Site: "S08", Standard: "A1.2", Result: "fail", Problems: 1})
		if err != nil {
			t.Fatal(err)
		}
		c8, _ := f.c.Flow.Get(f.ctx, f.c.Admin, s8.Observation.CaseID)
		if c8 == nil || c8.LeadUnitID != f.c.UnitB.ID || len(c8.CoopUnitIDs) != 1 || c8.CoopUnitIDs[0] != f.c.UnitA.ID {
			t.Errorf("lead-unit case %+v", c8)
		}

		// Imported fails raise their cases when asked, once.
		if _, ps, err := f.svc.ImportObservations(f.ctx, f.c.Admin, rd.Code, strings.NewReader(testObservations)); err != nil {
			t.Fatal(ps, err)
		}
		rep, err := f.svc.RaiseCases(f.ctx, f.c.Admin, rd.Code)
		if err != nil {
			t.Fatal(err)
		}
		// Fails in testObservations: S01 A1.2 (has its case), S02 A1.1, S02
		// A1.2, S03 N1 (no category), S05 A1.1, S07 A2.1 (no category), S08
		// A1.2 (has its case).
		if rep.Raised != 3 || rep.NoCategory != 2 {
			t.Errorf("raise %+v", rep)
		}
		if rep, _ := f.svc.RaiseCases(f.ctx, f.c.Admin, rd.Code); rep.Raised != 0 {
			t.Errorf("second raise %+v", rep)
		}

		// Closing stores the figures; recomputing gives the same.
		if _, err := f.svc.CloseRound(f.ctx, f.c.Acceptor, rd.Code); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("an acceptor closes: %v", err)
		}
		closed, err := f.svc.CloseRound(f.ctx, f.c.Admin, rd.Code)
		if err != nil || closed.State != assess.RoundClosed || closed.ClosedAt == 0 {
			t.Fatalf("close %+v %v", closed, err)
		}
		if _, err := f.svc.Submit(f.ctx, f.c.Inspector, sub); !apperr.Is(err, apperr.Conflict) {
			t.Errorf("submit after close: %v", err)
		}
		diffs, err := f.svc.CheckRound(f.ctx, f.c.Leader, rd.Code)
		if err != nil || len(diffs) != 0 {
			t.Fatalf("check: %+v %v", diffs, err)
		}
		// The index parts stored at the close are those the round scores to.
		stored, err := f.svc.RoundIndexParts(f.ctx, f.c.Leader, rd.Code)
		f.must(err)
		scored, err := f.svc.ScoreIndexParts(f.ctx, f.c.Leader, rd.Code)
		f.must(err)
		if len(stored) == 0 || fmt.Sprint(stored) != fmt.Sprint(scored) {
			t.Errorf("index parts stored %v, scored %v", stored, scored)
		}
		// So are its city totals, as printed.
		tot, err := f.svc.RoundTotals(f.ctx, f.c.Leader, rd.Code)
		f.must(err)
		city, err := f.svc.Scores(f.ctx, f.c.Leader, rd.Code, "")
		f.must(err)
		if assess.RoundString(tot.Score, 2) != assess.RoundString(city.Scores.Score, 2) || assess.RoundString(tot.Max, 2) != assess.RoundString(city.Scores.Max, 2) ||
			assess.RoundString(tot.Rate, 4) != assess.RoundString(city.Scores.Rate, 4) || tot.Max.Sign() == 0 {
			t.Errorf("totals %v/%v %v, scored %v/%v %v", tot.Score, tot.Max, tot.Rate, city.Scores.Score, city.Scores.Max, city.Scores.Rate)
		}
		var rows int
		f.must(db.Reader().QueryRow(f.ctx, `SELECT COUNT(*) FROM assess_snapshots WHERE scope = '#index'`).Scan(&rows))
		if rows != 1 {
			t.Errorf("%d index snapshots", rows)
		}
		// A round closed before rounds stored their parts still checks, and
		// its parts are scored.
		if _, err := db.Exec(f.ctx, `DELETE FROM assess_snapshots WHERE scope = '#index'`); err != nil {
			t.Fatal(err)
		}
		if diffs, err := f.svc.CheckRound(f.ctx, f.c.Leader, rd.Code); err != nil || len(diffs) != 0 {
			t.Fatalf("check without index parts: %+v %v", diffs, err)
		}
		if again, err := f.svc.RoundIndexParts(f.ctx, f.c.Leader, rd.Code); err != nil || fmt.Sprint(again) != fmt.Sprint(scored) {
			t.Errorf("parts without the snapshot %v %v", again, err)
		}
		// A later change of the split leaves the closed round as it closed.
		st := assess.DefaultSettings()
		st.SplitSite, st.SplitLead = "0.5", "0.5"
		f.must(f.svc.SaveSettings(f.ctx, f.c.Admin, st))
		if diffs, err := f.svc.CheckRound(f.ctx, f.c.Leader, rd.Code); err != nil || len(diffs) != 0 {
			t.Fatalf("check after a change of split: %+v %v", diffs, err)
		}
		// Tampering with a stored observation shows.
		if _, err := db.Exec(f.ctx, `UPDATE assess_observations SET result = 'pass' WHERE standard = 'A1.1' AND result = 'fail'`); err != nil {
			t.Fatal(err)
		}
		if diffs, err := f.svc.CheckRound(f.ctx, f.c.Leader, rd.Code); err != nil || len(diffs) == 0 {
			t.Errorf("check after tampering: %d %v", len(diffs), err)
		}
		if _, err := f.svc.CheckRound(f.ctx, f.c.HandlerA, rd.Code); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("a handler checks: %v", err)
		}
	})
}

func TestRankingsAndLadder(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.importTree(testTree)
		f.importSites(testSites)
		// Three closed rounds where unit B loses the most every time and
		// 上城区 (330102: 2 of 4) is the worse district every time (拱墅区
		// 330105: 3.5 of 6).
		var codes []string
		for i, date := range []string{"2026-03-10", "2026-06-10", "2026-09-10"} {
			seed := uint64(i + 1)
			rd, err := f.svc.CreateRound(f.ctx, f.c.Admin, assess.NewRound{Edition: "t-2026", Name: "第" + string(rune('一'+i)) + "轮", Seed: &seed, Date: date})
			f.must(err)
			obs := "site,standard,result,problems\nS01,A1.1,pass,\nS02,A1.1,fail,\nS05,A1.1,fail,\nS04,A1.1,pass,\nS08,A1.2,fail,1\n"
			if _, ps, err := f.svc.ImportObservations(f.ctx, f.c.Admin, rd.Code, strings.NewReader(obs)); err != nil {
				t.Fatal(ps, err)
			}
			if _, err := f.svc.CloseRound(f.ctx, f.c.Admin, rd.Code); err != nil {
				t.Fatal(err)
			}
			codes = append(codes, rd.Code)
		}
		rk, err := f.svc.Rankings(f.ctx, f.c.Leader, codes[2])
		if err != nil {
			t.Fatal(err)
		}
		if rk.Previous == nil || rk.Previous.Code != codes[1] {
			t.Fatalf("previous %+v", rk.Previous)
		}
		if len(rk.Districts) != 2 || rk.Districts[0].Code != "330105" || rk.Districts[1].Rank != 2 || rk.Districts[1].PrevRank != 2 {
			t.Errorf("districts %+v", rk.Districts)
		}
		if rk.Districts[0].RateChange == nil || rk.Districts[0].RateChange.Sign() != 0 {
			t.Errorf("change %+v", rk.Districts[0])
		}
		// B: S02 and S05 fail A1.1 (4 × 1/2 each in the city: 4 points
		// over 4 applicable → 1 each), S08 has no unit → lead unit B for
		// A1.2 (0.5). A: nothing lost.
		if len(rk.Units) != 2 || rk.Units[0].Code != "B" || assess.RoundString(rk.Units[0].Lost, 2) != "2.50" || rk.Units[1].Code != "A" || rk.Units[1].Lost.Sign() != 0 {
			for _, u := range rk.Units {
				t.Logf("%s %s %d", u.Code, assess.RoundString(u.Lost, 2), u.Rank)
			}
			t.Errorf("units")
		}
		if rk.Units[1].Card != assess.CardGreen || rk.Units[0].Card == assess.CardGreen {
			t.Errorf("cards %s %s", rk.Units[0].Card, rk.Units[1].Card)
		}
		if _, err := f.svc.Rankings(f.ctx, f.c.HandlerA, codes[2]); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("a handler ranks: %v", err)
		}

		props, err := f.svc.Proposals(f.ctx, f.c.Admin, codes[2])
		if err != nil || len(props) != 2 {
			t.Fatalf("proposals %+v %v", props, err)
		}
		for _, p := range props {
			if p.Level != 3 || len(p.Evidence) != 3 {
				t.Errorf("proposal %+v", p)
			}
		}
		props1, _ := f.svc.Proposals(f.ctx, f.c.Admin, codes[0])
		if len(props1) != 2 || props1[0].Level != 1 {
			t.Errorf("first round's proposals %+v", props1)
		}
		e, err := f.svc.ConfirmEscalation(f.ctx, f.c.Admin, codes[2], assess.SubjectUnit, "B", "连续三轮末位")
		if err != nil || e.Level != 3 || len(e.Evidence) != 3 {
			t.Fatalf("confirm %+v %v", e, err)
		}
		if _, err := f.svc.ConfirmEscalation(f.ctx, f.c.Admin, codes[2], assess.SubjectUnit, "B", ""); !apperr.Is(err, apperr.Conflict) {
			t.Errorf("confirm twice: %v", err)
		}
		if _, err := f.svc.ConfirmEscalation(f.ctx, f.c.Admin, codes[2], assess.SubjectUnit, "A", ""); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("confirm a unit not at the bottom: %v", err)
		}
		if _, err := f.svc.ConfirmEscalation(f.ctx, f.c.Leader, codes[2], assess.SubjectDistrict, "330105", ""); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("a leader confirms: %v", err)
		}
		list, err := f.svc.Escalations(f.ctx, f.c.Leader, assess.SubjectUnit, "B")
		if err != nil || len(list) != 1 {
			t.Errorf("escalations %+v %v", list, err)
		}
	})
}

func TestEvidenceAndValues(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		rd := f.round()
		f.svc.Blobs = blob.Local{Dir: t.TempDir()}
		pdf := "%PDF-1.4\n台账\n%%EOF\n"
		in := assess.NewEvidence{Round: rd.Code, Standard: "B1.2", Region: "330102", Name: "台账.pdf", Note: "2026年台账"}
		ev, err := f.svc.AddEvidence(f.ctx, f.c.HandlerA, in, strings.NewReader(pdf))
		if err != nil || ev.Unit != "A" || ev.Mime != "application/pdf" || ev.Size != int64(len(pdf)) {
			t.Fatalf("add: %+v %v", ev, err)
		}
		bad := []struct {
			who  string
			in   assess.NewEvidence
			body string
			code apperr.Code
		}{
			{"a survey standard", assess.NewEvidence{Round: rd.Code, Standard: "B1.1"}, pdf, apperr.Invalid},
			{"a street", assess.NewEvidence{Round: rd.Code, Standard: "B1.2", Region: "330102001"}, pdf, apperr.Invalid},
			{"a script", assess.NewEvidence{Round: rd.Code, Standard: "B1.2", Name: "x.pdf"}, "<script>alert(1)</script>", apperr.Unsupported},
			{"a zip not named as an Office file", assess.NewEvidence{Round: rd.Code, Standard: "B1.2", Name: "x.zip"}, "PK\x03\x04rest", apperr.Unsupported},
			{"nothing", assess.NewEvidence{Round: rd.Code, Standard: "B1.2"}, "", apperr.Invalid},
		}
		for _, b := range bad {
			if _, err := f.svc.AddEvidence(f.ctx, f.c.HandlerA, b.in, strings.NewReader(b.body)); !apperr.Is(err, b.code) {
				t.Errorf("%s: %v", b.who, err)
			}
		}
		if _, err := f.svc.AddEvidence(f.ctx, f.c.Inspector, in, strings.NewReader(pdf)); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("an inspector uploads: %v", err)
		}
		big := strings.NewReader("%PDF-" + strings.Repeat("x", assess.MaxEvidenceBytes))
		if _, err := f.svc.AddEvidence(f.ctx, f.c.HandlerA, in, big); !apperr.Is(err, apperr.TooLarge) {
			t.Errorf("too large: %v", err)
		}
		// A unit sees its own evidence only; the office all of it.
		if list, err := f.svc.EvidenceList(f.ctx, f.c.HandlerB, rd.Code); err != nil || len(list) != 0 {
			t.Errorf("unit B's list: %+v %v", list, err)
		}
		if _, _, err := f.svc.OpenEvidence(f.ctx, f.c.HandlerB, rd.Code, ev.ID); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("unit B opens unit A's file: %v", err)
		}
		list, err := f.svc.EvidenceList(f.ctx, f.c.Leader, rd.Code)
		if err != nil || len(list) != 1 {
			t.Fatalf("office list: %+v %v", list, err)
		}
		got, rc, err := f.svc.OpenEvidence(f.ctx, f.c.Acceptor, rd.Code, ev.ID)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(rc)
		rc.Close()
		if string(body) != pdf || got.Name != "台账.pdf" {
			t.Errorf("opened %q %+v", body, got)
		}
		if n := f.count("assess_evidence"); n != 1 {
			t.Errorf("%d evidence rows", n)
		}

		// Grading stores values as an import would, and refuses as one.
		if ps, err := f.svc.SetValues(f.ctx, f.c.Admin, rd.Code, []assess.ValueIn{{Region: "330102", Standard: "B1.2", Value: "3.5"}, {Standard: "B1.1", Value: "0.85"}}); err != nil {
			t.Fatal(ps, err)
		}
		if ps, err := f.svc.SetValues(f.ctx, f.c.Admin, rd.Code, []assess.ValueIn{{Region: "330102", Standard: "B1.2", Value: "9"}}); err == nil || len(ps) != 1 || ps[0].Key != "assess.value_range" {
			t.Errorf("out of range: %v %v", ps, err)
		}
		if _, err := f.svc.SetValues(f.ctx, f.c.Acceptor, rd.Code, []assess.ValueIn{{Standard: "B1.1", Value: "0.5"}}); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("an acceptor grades: %v", err)
		}
		vals, err := f.svc.Values(f.ctx, f.c.Leader, rd.Code)
		if err != nil || vals["B1.2"]["330102"] != "3.5" || vals["B1.1"][""] != "0.85" {
			t.Errorf("values %v %v", vals, err)
		}
	})
}

func TestSitePage(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		rd := f.round()
		if _, ps, err := f.svc.ImportObservations(f.ctx, f.c.Admin, rd.Code, strings.NewReader(testObservations)); err != nil {
			t.Fatal(ps, err)
		}
		d, err := f.svc.Site(f.ctx, f.c.Leader, "S01")
		if err != nil || len(d.Visits) != 1 || d.Visits[0].Pass != 1 || d.Visits[0].Fail != 1 || d.Site.Unit != "A" {
			t.Fatalf("site %+v %v", d, err)
		}
		if _, err := f.svc.Site(f.ctx, f.c.HandlerA, "S01"); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("a handler reads a site: %v", err)
		}
		if err := f.svc.SetSiteActive(f.ctx, f.c.Acceptor, "S01", false); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("an acceptor deactivates: %v", err)
		}
		f.must(f.svc.SetSiteActive(f.ctx, f.c.Admin, "S01", false))
		seed := uint64(1)
		next, err := f.svc.CreateRound(f.ctx, f.c.Admin, assess.NewRound{Edition: "t-2026", Name: "下一轮", Seed: &seed})
		f.must(err)
		sites, _ := f.svc.RoundSites(f.ctx, f.c.Admin, next.Code)
		for _, s := range sites {
			if s.Code == "S01" {
				t.Errorf("an inactive site was drawn")
			}
		}
		if len(sites) != 7 {
			t.Errorf("%d sites drawn", len(sites))
		}
		if err := f.svc.SetSiteActive(f.ctx, f.c.Admin, "S99", true); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("an unknown site: %v", err)
		}
	})
}
