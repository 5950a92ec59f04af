package assess

import (
	"encoding/json"
	"math/big"
	"strings"
	"testing"
)

// goldenDoc is a small edition with every rule: a pass_rate and a deduct
// leaf on roads, a deduct leaf on markets (where the floor is hit), a call
// leaf, a survey and a graded leaf, and a negative-list item.
const goldenDoc = `edition: g
name: 金标准
site_types: [主次干道, 背街小巷, 农贸市场, 热线]
projects:
  - code: A
    name: 环境
    contents:
      - code: A1
        name: 市容
        standards:
          - {code: A1.1, name: 道路, points: 4, method: field, rule: pass_rate, site_types: [主次干道, 背街小巷], lead_unit: CGJ}
          - {code: A1.2, name: 张贴, points: 2, method: field, rule: deduct, per_problem: 0.5, site_types: [主次干道], lead_unit: CGJ}
          - {code: A1.3, name: 市场, points: 3, method: field, rule: deduct, per_problem: 1, site_types: [农贸市场], lead_unit: SCJG}
      - code: A2
        name: 热线
        standards:
          - {code: A2.1, name: 热线, points: 2, method: call, rule: pass_rate, site_types: [热线], lead_unit: SCJG}
  - code: B
    name: 评价
    contents:
      - code: B1
        name: 问卷与材料
        standards:
          - {code: B1.1, name: 满意率, points: 10, method: survey, rule: survey, lead_unit: WLJ}
          - {code: B1.2, name: 材料, points: 3, method: document, rule: graded}
negative_list:
  - {code: N1, name: 事故}
`

const (
	city = "531900"
	d1   = "531902"
	s1   = "531902001"
	c1   = "531902001001"
	s2   = "531902002"
	d2   = "531903"
	s3   = "531903001"
)

func goldenEdition(t *testing.T) Edition {
	t.Helper()
	ed, problems := Parse(strings.NewReader(goldenDoc), ParseOptions{})
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	return ed
}

// goldenRound is a hand-built round. Sites: 1 (D1/S1/C1, unit U1), 2
// (D1/S1, U1), 3 (D1/S1), 4 (D1/S2), 5 and 6 (D2/S3, U2), 7 (D2/S3, U2),
// 8 (D2/S3), 9 (D1/S1), 10 (D2/S3, U2).
func goldenRound() ([]Observation, []Value) {
	place := map[int64]Place{
		1: {d1, s1, c1}, 2: {d1, s1, ""}, 3: {d1, s1, ""}, 4: {d1, s2, ""}, 5: {d2, s3, ""},
		6: {d2, s3, ""}, 7: {d2, s3, ""}, 8: {d2, s3, ""}, 9: {d1, s1, ""}, 10: {d2, s3, ""},
	}
	unit := map[int64]string{1: "U1", 2: "U1", 5: "U2", 6: "U2", 7: "U2", 10: "U2"}
	o := func(id, site int64, std string, res Outcome, problems int) Observation {
		return Observation{ID: id, SiteID: site, Place: place[site], Unit: unit[site], Standard: std, Result: res, Problems: problems}
	}
	obs := []Observation{
		o(1, 1, "A1.1", Pass, 0),
		o(2, 2, "A1.1", Fail, 1),
		o(3, 3, "A1.1", NotApplicable, 0),
		o(4, 4, "A1.1", Fail, 0),
		o(5, 5, "A1.1", Pass, 0),
		o(6, 6, "A1.1", Pass, 0),
		o(7, 1, "A1.2", Fail, 0), // counts 1 problem
		o(8, 2, "A1.2", Fail, 2),
		o(9, 4, "A1.2", Pass, 3), // a pass counts 0
		o(10, 7, "A1.3", Fail, 5),
		o(11, 8, "A1.3", Fail, 1), // 6 problems on 3 points: the floor
		o(12, 9, "A2.1", Pass, 0),
		o(13, 10, "A2.1", Fail, 0),
		o(14, 5, "N1", Fail, 0),
		o(15, 1, "N1", Pass, 0),
	}
	values := []Value{
		{Region: d1, Standard: "B1.1", Value: rat("0.85")},
		{Region: d2, Standard: "B1.1", Value: rat("0.9")},
		{Region: "", Standard: "B1.2", Value: rat("2.5")},
		{Region: d1, Standard: "B1.2", Value: rat("2")},
	}
	return obs, values
}

// rat reads "2.5" or "4/3".
func rat(s string) *big.Rat {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		panic(s)
	}
	return r
}

func ratText(r *big.Rat) string {
	if r == nil {
		return "nil"
	}
	return r.RatString()
}

// TestScoreGolden checks every node of every scope number by number.
// Rows: node code ("" = the total), score, max, rate ("nil" = none).
func TestScoreGolden(t *testing.T) {
	ed := goldenEdition(t)
	obs, values := goldenRound()
	type row struct{ code, score, max, rate string }
	cases := []struct {
		scope  Scope
		vetoed bool
		rows   []row
	}{
		{CityScope(city), true, []row{
			{"", "303/20", "24", "101/160"}, // 15.15 of 24 = 0.63125
			{"A", "39/10", "11", "39/110"},
			{"A1", "29/10", "9", "29/90"},
			{"A1.1", "12/5", "4", ""}, // 4 × 3 passes ÷ 5 applicable (na left out)
			{"A1.2", "1/2", "2", ""},  // 2 − 0.5 × (1 + 2 + 0)
			{"A1.3", "0", "3", ""},    // 3 − 1 × 6, floored
			{"A2", "1", "2", "1/2"},
			{"A2.1", "1", "2", ""},
			{"B", "45/4", "13", "45/52"},
			{"B1", "45/4", "13", "45/52"},
			{"B1.1", "35/4", "10", ""}, // 10 × mean(0.85, 0.9)
			{"B1.2", "5/2", "3", ""},   // the city's own value, not the mean
		}},
		{DistrictScope(d1), false, []row{
			{"", "43/3", "21", "43/63"},
			{"A", "23/6", "8", "23/48"},
			{"A1", "11/6", "6", "11/36"},
			{"A1.1", "4/3", "4", ""},
			{"A1.2", "1/2", "2", ""},
			{"A1.3", "0", "0", ""}, // not assessed
			{"A2", "2", "2", "1"},
			{"B", "21/2", "13", "21/26"},
			{"B1.1", "17/2", "10", ""},
			{"B1.2", "2", "3", ""},
		}},
		{DistrictScope(d2), true, []row{ // the veto changes no score
			{"", "13", "19", "13/19"},
			{"A", "4", "9", "4/9"},
			{"A1", "4", "7", "4/7"},
			{"A1.1", "4", "4", ""},
			{"A1.2", "0", "0", ""},
			{"A1.3", "0", "3", ""},
			{"A2", "0", "2", "0"},
			{"B1.1", "9", "10", ""},
			{"B1.2", "0", "0", ""}, // no value for D2, none for the city used
		}},
		{Scope{LevelStreet, s1}, false, []row{
			{"", "9/2", "8", "9/16"},
			{"A1.1", "2", "4", ""},
			{"A1.2", "1/2", "2", ""},
			{"A2.1", "2", "2", ""},
			{"B", "0", "0", "nil"}, // streets have no survey or graded values
			{"B1.1", "0", "0", ""},
		}},
		{Scope{LevelStreet, s2}, false, []row{
			{"", "2", "6", "1/3"},
			{"A1.1", "0", "4", ""},
			{"A1.2", "2", "2", ""}, // one pass with 3 problems noted: nothing deducted
			{"A2", "0", "0", "nil"},
		}},
		{Scope{LevelStreet, s3}, true, []row{
			{"", "4", "9", "4/9"},
		}},
		{Scope{LevelCommunity, c1}, false, []row{
			{"", "11/2", "6", "11/12"},
			{"A1.1", "4", "4", ""},
			{"A1.2", "3/2", "2", ""}, // a fail with 0 problems counts 1
		}},
	}
	for _, c := range cases {
		s, err := Score(ed, obs, values, c.scope)
		if err != nil {
			t.Fatal(err)
		}
		if s.Vetoed != c.vetoed {
			t.Errorf("%s: vetoed = %v", c.scope.Code, s.Vetoed)
		}
		nodes := map[string][3]*big.Rat{"": {s.Score, s.Max, s.Rate}}
		for _, p := range s.Projects {
			nodes[p.Code] = [3]*big.Rat{p.Score, p.Max, p.Rate}
			for _, ct := range p.Contents {
				nodes[ct.Code] = [3]*big.Rat{ct.Score, ct.Max, ct.Rate}
				for _, l := range ct.Standards {
					nodes[l.Code] = [3]*big.Rat{l.Score, l.Max, nil}
					if l.Assessed != (l.Max.Sign() > 0) {
						t.Errorf("%s %s: assessed %v with max %s", c.scope.Code, l.Code, l.Assessed, l.Max.RatString())
					}
				}
			}
		}
		for _, r := range c.rows {
			n, ok := nodes[r.code]
			if !ok {
				t.Errorf("%s: no node %q", c.scope.Code, r.code)
				continue
			}
			if got := ratText(n[0]); got != r.score {
				t.Errorf("%s %q: score %s, want %s", c.scope.Code, r.code, got, r.score)
			}
			if got := ratText(n[1]); got != r.max {
				t.Errorf("%s %q: max %s, want %s", c.scope.Code, r.code, got, r.max)
			}
			if r.rate != "" {
				if got := ratText(n[2]); got != r.rate {
					t.Errorf("%s %q: rate %s, want %s", c.scope.Code, r.code, got, r.rate)
				}
			}
		}
	}
}

func TestScoreCounts(t *testing.T) {
	ed := goldenEdition(t)
	obs, values := goldenRound()
	s, err := Score(ed, obs, values, CityScope(city))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		code                         string
		applicable, passes, problems int
		value                        string
	}{
		{"A1.1", 5, 3, 2, "nil"}, // two fails with 0 and 1 problems: 2 counted, unused by pass_rate
		{"A1.2", 3, 1, 3, "nil"},
		{"A1.3", 2, 0, 6, "nil"},
		{"A2.1", 2, 1, 1, "nil"},
		{"B1.1", 0, 0, 0, "7/8"},
		{"B1.2", 0, 0, 0, "5/2"},
	} {
		l, ok := s.Standard(c.code)
		if !ok || l.Applicable != c.applicable || l.Passes != c.passes || l.Problems != c.problems || ratText(l.Value) != c.value {
			t.Errorf("%s = %d/%d/%d value %s, want %d/%d/%d value %s", c.code, l.Applicable, l.Passes, l.Problems, ratText(l.Value),
				c.applicable, c.passes, c.problems, c.value)
		}
	}
	if len(s.Vetoes) != 1 || s.Vetoes[0] != "N1" {
		t.Errorf("vetoes = %v", s.Vetoes)
	}
}

// TestScoresJSON checks the documents byte for byte, with the rounding.
func TestScoresJSON(t *testing.T) {
	ed := goldenEdition(t)
	obs, values := goldenRound()
	cityScores, err := Score(ed, obs, values, CityScope(city))
	if err != nil {
		t.Fatal(err)
	}
	districts, err := ScoreDistricts(ed, obs, values, CityScope(city), Districts(obs, values))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(cityScores.Doc("R1", districts))
	want := `{"round":"R1","scope":"531900","score":15.15,"max":24,"rate":0.6313,"vetoed":true,"projects":[` +
		`{"code":"A","score":3.9,"max":11,"rate":0.3545,"contents":[` +
		`{"code":"A1","score":2.9,"max":9,"rate":0.3222,"standards":[{"code":"A1.1","score":2.4,"max":4,"assessed":true},{"code":"A1.2","score":0.5,"max":2,"assessed":true},{"code":"A1.3","score":0,"max":3,"assessed":true}]},` +
		`{"code":"A2","score":1,"max":2,"rate":0.5,"standards":[{"code":"A2.1","score":1,"max":2,"assessed":true}]}]},` +
		`{"code":"B","score":11.25,"max":13,"rate":0.8654,"contents":[` +
		`{"code":"B1","score":11.25,"max":13,"rate":0.8654,"standards":[{"code":"B1.1","score":8.75,"max":10,"assessed":true},{"code":"B1.2","score":2.5,"max":3,"assessed":true}]}]}],` +
		`"districts":[{"code":"531902","score":14.33,"max":21,"rate":0.6825,"vetoed":false},{"code":"531903","score":13,"max":19,"rate":0.6842,"vetoed":true}]}`
	if string(got) != want {
		t.Errorf("city document:\n%s\nwant\n%s", got, want)
	}

	street := Scope{LevelStreet, s2}
	s, _ := Score(ed, obs, values, street)
	none, _ := ScoreDistricts(ed, obs, values, street, Districts(obs, values))
	got, _ = json.Marshal(s.Doc("R1", none))
	want = `{"round":"R1","scope":"531902002","score":2,"max":6,"rate":0.3333,"vetoed":false,"projects":[` +
		`{"code":"A","score":2,"max":6,"rate":0.3333,"contents":[` +
		`{"code":"A1","score":2,"max":6,"rate":0.3333,"standards":[{"code":"A1.1","score":0,"max":4,"assessed":true},{"code":"A1.2","score":2,"max":2,"assessed":true},{"code":"A1.3","score":0,"max":0,"assessed":false}]},` +
		`{"code":"A2","score":0,"max":0,"rate":null,"standards":[{"code":"A2.1","score":0,"max":0,"assessed":false}]}]},` +
		`{"code":"B","score":0,"max":0,"rate":null,"contents":[` +
		`{"code":"B1","score":0,"max":0,"rate":null,"standards":[{"code":"B1.1","score":0,"max":0,"assessed":false},{"code":"B1.2","score":0,"max":0,"assessed":false}]}]}],` +
		`"districts":[]}`
	if string(got) != want {
		t.Errorf("street document:\n%s\nwant\n%s", got, want)
	}

	one, _ := ScoreDistricts(ed, obs, values, DistrictScope(d1), []string{d1, d2})
	if len(one) != 1 || one[0].Scope.Code != d1 {
		t.Errorf("districts inside a district: %+v", one)
	}
}

// TestRoundingInScores runs the rounding edges through the arithmetic.
func TestRoundingInScores(t *testing.T) {
	doc := `edition: r
name: 舍入
site_types: [x]
projects:
  - code: P
    name: p
    contents:
      - code: C
        name: c
        standards:
          - {code: eighth, name: e, points: 1, method: field, rule: pass_rate, site_types: [x]}
          - {code: third, name: t, points: 2, method: field, rule: pass_rate, site_types: [x]}
          - {code: floor, name: f, points: 1, method: field, rule: deduct, per_problem: 0.5, site_types: [x]}
          - {code: survey, name: s, points: 3, method: survey, rule: survey}
`
	ed, problems := Parse(strings.NewReader(doc), ParseOptions{})
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	var obs []Observation
	add := func(std string, res Outcome, n, problems int) {
		for range n {
			obs = append(obs, Observation{ID: int64(len(obs) + 1), SiteID: int64(len(obs) + 1), Place: Place{District: d1}, Standard: std, Result: res, Problems: problems})
		}
	}
	add("eighth", Pass, 1, 0)
	add("eighth", Fail, 7, 0)
	add("third", Pass, 1, 0)
	add("third", Fail, 2, 0)
	add("floor", Fail, 1, 3)
	values := []Value{{Region: d1, Standard: "survey", Value: rat("0.6426")}}
	s, err := Score(ed, obs, values, DistrictScope(d1))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ code, exact, printed string }{
		{"eighth", "1/8", "0.13"}, // 0.125 rounds away from zero
		{"third", "2/3", "0.67"},
		{"floor", "0", "0.00"}, // 1 − 1.5 floored at 0
		{"survey", "9639/5000", "1.93"},
	} {
		l, _ := s.Standard(c.code)
		if l.Score.RatString() != c.exact || RoundString(l.Score, PointPlaces) != c.printed {
			t.Errorf("%s = %s (%s), want %s (%s)", c.code, l.Score.RatString(), RoundString(l.Score, PointPlaces), c.exact, c.printed)
		}
	}
	// total 0.125 + 2/3 + 0 + 1.9278 = 5099/1875 = 2.71946666… of 7: rate 0.388495…
	if s.Score.RatString() != "5099/1875" {
		t.Errorf("total %s", s.Score.RatString())
	}
	if got := RoundString(s.Score, PointPlaces); got != "2.72" {
		t.Errorf("total prints %s", got)
	}
	if got := RoundString(s.Rate, RatePlaces); got != "0.3885" {
		t.Errorf("rate prints %s", got)
	}
}

func TestRoundString(t *testing.T) {
	for _, c := range []struct {
		in     string
		places int
		want   string
		json   string
	}{
		{"1/8", 2, "0.13", "0.13"},
		{"-1/8", 2, "-0.13", "-0.13"},
		{"2/3", 2, "0.67", "0.67"},
		{"2/3", 4, "0.6667", "0.6667"},
		{"1/3", 4, "0.3333", "0.3333"},
		{"6426/10000", 4, "0.6426", "0.6426"},
		{"101/160", 4, "0.6313", "0.6313"}, // 0.63125
		{"1/200", 2, "0.01", "0.01"},       // 0.005
		{"4999/1000000", 2, "0.00", "0"},
		{"-1/1000", 2, "0.00", "0"}, // never -0.00
		{"25/2", 2, "12.50", "12.5"},
		{"20", 2, "20.00", "20"},
		{"199995/1000", 2, "200.00", "200"},
		{"5/2", 0, "3", "3"},
		{"-5/2", 0, "-3", "-3"},
		{"0", 4, "0.0000", "0"},
	} {
		r := rat(c.in)
		if got := RoundString(r, c.places); got != c.want {
			t.Errorf("RoundString(%s, %d) = %s, want %s", c.in, c.places, got, c.want)
		}
		if got := RoundJSON(r, c.places); got != c.json {
			t.Errorf("RoundJSON(%s, %d) = %s, want %s", c.in, c.places, got, c.json)
		}
	}
	if RoundString(nil, 2) != "0.00" {
		t.Error("nil")
	}
	b, _ := json.Marshal(struct {
		P JSONPoints
		R JSONRate
		N JSONRate
	}{JSONPoints{rat("1/8")}, JSONRate{rat("2/3")}, JSONRate{}})
	if string(b) != `{"P":0.13,"R":0.6667,"N":null}` {
		t.Errorf("json %s", b)
	}
}

func TestScoreRejectsBadInput(t *testing.T) {
	ed := goldenEdition(t)
	ok := Observation{ID: 1, SiteID: 1, Place: Place{District: d1}, Standard: "A1.1", Result: Pass}
	bad := func(f func(*Observation)) []Observation {
		o := ok
		f(&o)
		return []Observation{o}
	}
	v := func(region, std, val string) []Value {
		return []Value{{Region: region, Standard: std, Value: rat(val)}}
	}
	for name, c := range map[string]struct {
		obs    []Observation
		values []Value
		scope  Scope
	}{
		"unknown standard":     {bad(func(o *Observation) { o.Standard = "Z9" }), nil, CityScope(city)},
		"observed survey leaf": {bad(func(o *Observation) { o.Standard = "B1.1" }), nil, CityScope(city)},
		"bad result":           {bad(func(o *Observation) { o.Result = "ok" }), nil, CityScope(city)},
		"negative problems":    {bad(func(o *Observation) { o.Problems = -1 }), nil, CityScope(city)},
		"value of field leaf":  {nil, v(d1, "A1.1", "1"), CityScope(city)},
		"value unknown":        {nil, v(d1, "Z9", "1"), CityScope(city)},
		"survey above 1":       {nil, v(d1, "B1.1", "1.01"), CityScope(city)},
		"survey below 0":       {nil, v(d1, "B1.1", "-0.01"), CityScope(city)},
		"graded above points":  {nil, v("", "B1.2", "3.5"), CityScope(city)},
		"value twice":          {nil, append(v(d1, "B1.2", "1"), v(d1, "B1.2", "2")...), CityScope(city)},
		"nil value":            {nil, []Value{{Region: d1, Standard: "B1.2"}}, CityScope(city)},
		"bad scope":            {nil, nil, Scope{Level: "province", Code: "53"}},
		"scope without code":   {nil, nil, Scope{Level: LevelDistrict}},
	} {
		if _, err := Score(ed, c.obs, c.values, c.scope); err == nil {
			t.Errorf("%s: accepted", name)
		}
		if _, err := Attribute(ed, c.obs, c.values, c.scope, Split{}); err == nil {
			t.Errorf("%s: ledger accepted", name)
		}
	}
	if _, err := Score(ed, []Observation{ok}, v("", "B1.2", "3"), CityScope("")); err != nil {
		t.Errorf("good input refused: %v", err)
	}
}

func TestDistricts(t *testing.T) {
	obs, values := goldenRound()
	got := Districts(obs, values)
	if strings.Join(got, ",") != d1+","+d2 {
		t.Errorf("districts = %v", got)
	}
}
