package assess

import (
	"encoding/json"
	"fmt"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestLedgerGolden(t *testing.T) {
	ed := goldenEdition(t)
	obs, values := goldenRound()
	type unit struct {
		code, lost string
		items      int
	}
	cases := []struct {
		name         string
		scope        Scope
		split        Split
		lost         string
		units        []unit
		unattributed string
	}{
		{"city, default split", CityScope(city), Split{}, "177/20", []unit{
			{"U2", "7/2", 2},   // A1.3 site 7: 5 of 6 problems × 3 lost = 2.5; A2.1 site 10: 1
			{"U1", "23/10", 3}, // A1.1 site 2: 4 ÷ 5 = 0.8; A1.2 sites 1 and 2: 0.5 and 1
			{"WLJ", "5/4", 1},  // B1.1: 10 − 8.75, the lead unit's
			{"CGJ", "4/5", 1},  // A1.1 site 4 has no unit: the lead unit's
			{"SCJG", "1/2", 1}, // A1.3 site 8 has no unit: 1 of 6 × 3
		}, "1/2"}, // B1.2 has no lead unit
		{"city, half split", CityScope(city), HalfSplit(), "177/20", []unit{
			{"SCJG", "9/4", 3}, // 1.25 + 0.5 + 0.5
			{"CGJ", "39/20", 4},
			{"U2", "7/4", 2},
			{"WLJ", "5/4", 1},
			{"U1", "23/20", 3},
		}, "1/2"},
		{"district 1", DistrictScope(d1), Split{}, "20/3", []unit{
			{"U1", "17/6", 3}, // 4/3 + 1/2 + 1
			{"WLJ", "3/2", 1},
			{"CGJ", "4/3", 1},
		}, "1"},
		{"district 2, lead units only", DistrictScope(d2), Split{Site: new(big.Rat), Lead: big.NewRat(1, 1)}, "6", []unit{
			{"SCJG", "5", 3}, // A1.3: 2.5 + 0.5, A2.1: 2 — the sites' units get nothing
			{"WLJ", "1", 1},
		}, "0"},
		{"street 2", Scope{LevelStreet, s2}, Split{}, "4", []unit{
			{"CGJ", "4", 1}, // A1.1 site 4 failed alone: 4 ÷ 1
		}, "0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l, err := Attribute(ed, obs, values, c.scope, c.split)
			if err != nil {
				t.Fatal(err)
			}
			if l.Lost.RatString() != c.lost || l.Unattributed.RatString() != c.unattributed {
				t.Errorf("lost %s unattributed %s, want %s and %s", l.Lost.RatString(), l.Unattributed.RatString(), c.lost, c.unattributed)
			}
			var got, want []string
			for _, u := range l.Units {
				got = append(got, fmt.Sprintf("%s %s %d", u.Code, u.Lost.RatString(), u.Items))
			}
			for _, u := range c.units {
				want = append(want, fmt.Sprintf("%s %s %d", u.code, u.lost, u.items))
			}
			if strings.Join(got, "; ") != strings.Join(want, "; ") {
				t.Errorf("units\n%v\nwant\n%v", got, want)
			}
			checkLedger(t, ed, obs, values, c.scope, l)
		})
	}
}

func TestLedgerEntries(t *testing.T) {
	ed := goldenEdition(t)
	obs, values := goldenRound()
	l, err := Attribute(ed, obs, values, CityScope(city), Split{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range l.Entries {
		got = append(got, fmt.Sprintf("%s #%d site %d %s/%s %s", e.Standard, e.ObservationID, e.SiteID, e.Unit, e.Via, e.Lost.RatString()))
	}
	want := []string{
		"A1.1 #2 site 2 U1/site 4/5",
		"A1.1 #4 site 4 CGJ/lead 4/5",
		"A1.2 #7 site 1 U1/site 1/2",
		"A1.2 #8 site 2 U1/site 1",
		"A1.3 #10 site 7 U2/site 5/2", // scaled: 5 × 1 × 3/6
		"A1.3 #11 site 8 SCJG/lead 1/2",
		"A2.1 #13 site 10 U2/site 1",
		"B1.1 #0 site 0 WLJ/lead 5/4",
		"B1.2 #0 site 0 /none 1/2",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("entries:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	doc, _ := json.Marshal(l.Doc("R1"))
	wantDoc := `{"round":"R1","scope":"531900","lost":8.85,"units":[{"code":"U2","lost":3.5,"items":2},{"code":"U1","lost":2.3,"items":3},` +
		`{"code":"WLJ","lost":1.25,"items":1},{"code":"CGJ","lost":0.8,"items":1},{"code":"SCJG","lost":0.5,"items":1}],"unattributed":0.5}`
	if string(doc) != wantDoc {
		t.Errorf("ledger document:\n%s\nwant\n%s", doc, wantDoc)
	}
}

func TestLedgerSiteUnitIsLeadUnit(t *testing.T) {
	ed := goldenEdition(t)
	obs := []Observation{{ID: 1, SiteID: 1, Place: Place{District: d1}, Unit: "CGJ", Standard: "A1.1", Result: Fail}}
	l, err := Attribute(ed, obs, nil, CityScope(city), HalfSplit())
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Entries) != 1 || l.Entries[0].Unit != "CGJ" || l.Entries[0].Lost.RatString() != "4" || l.Units[0].Items != 1 {
		t.Errorf("ledger = %+v", l)
	}
}

func TestSplitChecked(t *testing.T) {
	ed := goldenEdition(t)
	for _, sp := range []Split{
		{Site: big.NewRat(1, 1)},
		{Site: new(big.Rat), Lead: new(big.Rat)},
		{Site: big.NewRat(-1, 2), Lead: big.NewRat(3, 2)},
	} {
		if _, err := Attribute(ed, nil, nil, CityScope(city), sp); err == nil {
			t.Errorf("split %v accepted", sp)
		}
	}
}

// TestLedgerAddsUp is the property test: for random editions and rounds,
// in every scope and with random splits, the ledger adds up exactly to the
// points lost, entry by entry and unit by unit, and no share is negative.
func TestLedgerAddsUp(t *testing.T) {
	rng := rand.New(rand.NewPCG(2026, 8))
	scopes := []Scope{CityScope(city), DistrictScope(d1), DistrictScope(d2), {LevelStreet, s1}, {LevelStreet, s2}, {LevelStreet, s3}, {LevelCommunity, c1}}
	places := []Place{{d1, s1, c1}, {d1, s1, ""}, {d1, s2, ""}, {d2, s3, ""}, {d2, "", ""}}
	units := []string{"", "", "U1", "U2", "U3", "CGJ"}
	rounds := 300
	if testing.Short() {
		rounds = 50
	}
	for n := range rounds {
		ed := randomEdition(rng)
		var obs []Observation
		for i := range rng.IntN(60) {
			leaves := ed.Standards()
			s := leaves[rng.IntN(len(leaves))]
			code := s.Code
			if !s.Rule.Observed() {
				code = "N1"
			}
			res := []Outcome{Pass, Fail, Fail, NotApplicable}[rng.IntN(4)]
			site := rng.IntN(15)
			obs = append(obs, Observation{
				ID: int64(i + 1), SiteID: int64(site), Place: places[site%len(places)], Unit: units[site%len(units)],
				Standard: code, Result: res, Problems: rng.IntN(4),
			})
		}
		var values []Value
		for _, s := range ed.Standards() {
			if s.Rule.Observed() {
				continue
			}
			for _, region := range []string{"", d1, d2} {
				if rng.IntN(2) == 0 {
					continue
				}
				v := big.NewRat(int64(rng.IntN(101)), 100)
				if s.Rule == RuleGraded {
					v.Mul(v, s.Points)
				}
				values = append(values, Value{Region: region, Standard: s.Code, Value: v})
			}
		}
		split := Split{Site: big.NewRat(int64(rng.IntN(4)), 1), Lead: big.NewRat(int64(rng.IntN(3)+1), int64(rng.IntN(3)+1))}
		prepared, err := Prepare(ed, obs, values)
		if err != nil {
			t.Fatalf("round %d: %v", n, err)
		}
		for _, scope := range scopes {
			l, err := Attribute(ed, obs, values, scope, split)
			if err != nil {
				t.Fatalf("round %d: %v", n, err)
			}
			if !checkLedger(t, ed, obs, values, scope, l) {
				t.Fatalf("round %d, scope %s", n, scope.Code)
			}
			checkPrepared(t, prepared, ed, obs, values, scope, split, l)
		}
	}
}

// checkLedger checks that the ledger adds up to the scope's lost points.
func checkLedger(t *testing.T, ed Edition, obs []Observation, values []Value, scope Scope, l Ledger) bool {
	t.Helper()
	s, err := Score(ed, obs, values, scope)
	if err != nil {
		t.Fatal(err)
	}
	ok := true
	if l.Lost.Cmp(s.Lost()) != 0 {
		t.Errorf("%s: ledger lost %s, scores lost %s", scope.Code, l.Lost.RatString(), s.Lost().RatString())
		ok = false
	}
	entries, units := new(big.Rat), new(big.Rat).Set(l.Unattributed)
	perUnit := map[string]*big.Rat{}
	items := map[string]int{}
	for _, e := range l.Entries {
		items[e.Unit]++
		if e.Lost.Sign() <= 0 {
			t.Errorf("%s: entry %+v", scope.Code, e)
			ok = false
		}
		entries.Add(entries, e.Lost)
		if e.Unit != "" {
			if perUnit[e.Unit] == nil {
				perUnit[e.Unit] = new(big.Rat)
			}
			perUnit[e.Unit].Add(perUnit[e.Unit], e.Lost)
		}
	}
	for i, u := range l.Units {
		units.Add(units, u.Lost)
		if u.Items != items[u.Code] {
			t.Errorf("%s: unit %s has %d items, %d entries", scope.Code, u.Code, u.Items, items[u.Code])
			ok = false
		}
		if perUnit[u.Code] == nil || perUnit[u.Code].Cmp(u.Lost) != 0 {
			t.Errorf("%s: unit %s lost %s, entries say %v", scope.Code, u.Code, u.Lost.RatString(), perUnit[u.Code])
			ok = false
		}
		if i > 0 && l.Units[i-1].Lost.Cmp(u.Lost) < 0 {
			t.Errorf("%s: units out of order", scope.Code)
			ok = false
		}
	}
	if entries.Cmp(l.Lost) != 0 || units.Cmp(l.Lost) != 0 {
		t.Errorf("%s: entries %s, units + unattributed %s, lost %s", scope.Code, entries.RatString(), units.RatString(), l.Lost.RatString())
		ok = false
	}
	// Each leaf's entries add up to its own loss.
	byLeaf := map[string]*big.Rat{}
	for _, e := range l.Entries {
		if byLeaf[e.Standard] == nil {
			byLeaf[e.Standard] = new(big.Rat)
		}
		byLeaf[e.Standard].Add(byLeaf[e.Standard], e.Lost)
	}
	for _, leaf := range s.Leaves() {
		lost := new(big.Rat).Sub(leaf.Max, leaf.Score)
		got := byLeaf[leaf.Code]
		if got == nil {
			got = new(big.Rat)
		}
		if got.Cmp(lost) != 0 || lost.Sign() < 0 || leaf.Score.Sign() < 0 {
			t.Errorf("%s %s: entries %s, lost %s", scope.Code, leaf.Code, got.RatString(), lost.RatString())
			ok = false
		}
	}
	return ok
}

// randomEdition builds a valid edition of 1–8 leaves with random rules,
// decimal points and deductions, and one negative-list item.
func randomEdition(rng *rand.Rand) Edition {
	ed := Edition{Code: "rand", Name: "随机", SiteTypes: []string{"x"}, Negative: []NegativeItem{{Code: "N1", Name: "n"}}}
	n := 1 + rng.IntN(8)
	c := Content{Code: "C", Name: "c"}
	for i := range n {
		s := Standard{Code: fmt.Sprintf("S%d", i), Name: "s", Points: big.NewRat(int64(rng.IntN(41)), 4)}
		switch rng.IntN(5) {
		case 0, 1:
			s.Method, s.Rule, s.SiteTypes = MethodField, RulePassRate, []string{"x"}
		case 2, 3:
			s.Method, s.Rule, s.SiteTypes = MethodCall, RuleDeduct, []string{"x"}
			s.PerProblem = big.NewRat(int64(1+rng.IntN(8)), 4)
		case 4:
			s.Method, s.Rule = MethodSurvey, RuleSurvey
			if rng.IntN(2) == 0 {
				s.Method, s.Rule = MethodDocument, RuleGraded
			}
		}
		if rng.IntN(2) == 0 {
			s.LeadUnit = []string{"CGJ", "U1", "L9"}[rng.IntN(3)]
		}
		c.Standards = append(c.Standards, s)
	}
	ed.Projects = []Project{{Code: "P", Name: "p", Contents: []Content{c}}}
	return ed
}

// checkPrepared checks that a prepared round gives what the one-scope
// functions give, and that its index of observations by region agrees
// with Scope.Contains.
func checkPrepared(t *testing.T, p *Prepared, ed Edition, obs []Observation, values []Value, scope Scope, split Split, l Ledger) {
	t.Helper()
	want, err := Score(ed, obs, values, scope)
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.Score(scope)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(got.Doc("r", nil))
	b, _ := json.Marshal(want.Doc("r", nil))
	if string(a) != string(b) {
		t.Fatalf("prepared scores %s, want %s", a, b)
	}
	pl, err := p.Attribute(scope, split)
	if err != nil {
		t.Fatal(err)
	}
	a, _ = json.Marshal(pl.Doc("r"))
	b, _ = json.Marshal(l.Doc("r"))
	if string(a) != string(b) || len(pl.Entries) != len(l.Entries) {
		t.Fatalf("prepared ledger %s, want %s", a, b)
	}
	for _, ls := range got.Leaves() {
		if !ls.Rule.Observed() {
			continue
		}
		var applicable, passes int
		for _, o := range obs {
			if o.Standard == ls.Code && scope.Contains(o.Place) && o.Result != NotApplicable {
				applicable++
				if o.Result == Pass {
					passes++
				}
			}
		}
		if ls.Applicable != applicable || ls.Passes != passes {
			t.Fatalf("%s in %v: %d of %d passed, want %d of %d", ls.Code, scope, ls.Passes, ls.Applicable, passes, applicable)
		}
	}
	vetoed := false
	for _, o := range obs {
		if o.Standard == "N1" && o.Result == Fail && scope.Contains(o.Place) {
			vetoed = true
		}
	}
	if got.Vetoed != vetoed {
		t.Fatalf("%v: vetoed %v, want %v", scope, got.Vetoed, vetoed)
	}
}
