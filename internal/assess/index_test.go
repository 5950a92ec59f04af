package assess

import (
	"math/big"
	"testing"
	"time"
)

func TestQuarter(t *testing.T) {
	for date, want := range map[string][2]int{
		"2026-01-01": {2026, 1}, "2026-03-31": {2026, 1}, "2026-04-01": {2026, 2},
		"2026-09-30": {2026, 3}, "2026-10-01": {2026, 4}, "2026-12-31": {2026, 4},
	} {
		d, _ := time.Parse(time.DateOnly, date)
		if y, q := Quarter(d); y != want[0] || q != want[1] {
			t.Errorf("Quarter(%s) = %d Q%d", date, y, q)
		}
	}
}

// TestIndexGolden: the golden round's districts, by hand.
//
// D1: field = (4/3 + 1/2 + 2) ÷ (4 + 2 + 2) = 23/48 (A1.3 not assessed);
// survey = 8.5/10; documents = 2/3. Default weights: 100 × (60 × 23/48 +
// 40 × 0.85) ÷ 100 = 62.75.
// D2: field = (4 + 0 + 0) ÷ (4 + 3 + 2) = 4/9; survey = 0.9; no documents:
// 60 × 4/9 + 40 × 0.9 = 62.666… → 62.67.
func TestIndexGolden(t *testing.T) {
	ed := goldenEdition(t)
	obs, values := goldenRound()
	scores := func(d string) Scores {
		s, err := Score(ed, obs, values, DistrictScope(d))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	nothing, _ := Score(ed, nil, nil, DistrictScope("531904"))
	rounds := map[string][]Scores{
		d1:       {scores(d1)},
		d2:       {scores(d2)},
		"531904": {nothing},                // nothing assessed: no index, unranked
		"531905": {scores(d1), scores(d1)}, // two equal rounds pool to D1's rates
		"531906": {},                       // no round at all
	}
	got, err := Index(rounds, DefaultWeights())
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		district, index, printed string
		rank                     int
	}{
		{d1, "251/4", "62.75", 1},
		{"531905", "251/4", "62.75", 1},
		{d2, "188/3", "62.67", 3},
		{"531904", "nil", "", 0},
		{"531906", "nil", "", 0},
	}
	if len(got) != len(want) {
		t.Fatalf("%d districts", len(got))
	}
	for i, w := range want {
		g := got[i]
		if g.District != w.district || ratText(g.Index) != w.index || g.Rank != w.rank {
			t.Errorf("#%d = %s %s rank %d, want %s %s rank %d", i, g.District, ratText(g.Index), g.Rank, w.district, w.index, w.rank)
		}
		if g.Index != nil && RoundString(g.Index, PointPlaces) != w.printed {
			t.Errorf("%s prints %s", g.District, RoundString(g.Index, PointPlaces))
		}
	}
	d := got[0]
	if ratText(d.Field.Rate()) != "23/48" || ratText(d.Survey.Rate()) != "17/20" || ratText(d.Documents.Rate()) != "2/3" ||
		d.Field.Leaves != 3 || d.Rounds != 1 {
		t.Errorf("D1 components %+v", d)
	}
	if p := got[1]; ratText(p.Field.Score) != "23/3" || ratText(p.Field.Max) != "16" || p.Field.Leaves != 6 || p.Rounds != 2 {
		t.Errorf("pooled components %+v", p.Field)
	}
	if got[2].Documents.Rate() != nil {
		t.Error("D2 has a documents rate")
	}

	// Documents weighted 10: D1 = 100 × (60 × 23/48 + 40 × 17/20 + 10 × 2/3) ÷ 110;
	// D2 has no documents, so its index keeps the weights 60 and 40.
	w := DefaultWeights()
	w.Documents = big.NewRat(10, 1)
	got, _ = Index(map[string][]Scores{d1: {scores(d1)}, d2: {scores(d2)}}, w)
	if ratText(got[0].Index) != "4165/66" || RoundString(got[0].Index, 2) != "63.11" || got[0].District != d1 {
		t.Errorf("weighted documents: %s %s", got[0].District, ratText(got[0].Index))
	}
	if ratText(got[1].Index) != "188/3" {
		t.Errorf("D2 with documents weighted: %s", ratText(got[1].Index))
	}

	// Survey only.
	got, _ = Index(map[string][]Scores{d1: {scores(d1)}}, Weights{Field: new(big.Rat), Survey: big.NewRat(1, 1), Documents: new(big.Rat)})
	if ratText(got[0].Index) != "85" {
		t.Errorf("survey only: %s", ratText(got[0].Index))
	}
	if _, err := Index(rounds, Weights{Field: big.NewRat(-1, 1), Survey: new(big.Rat), Documents: new(big.Rat)}); err == nil {
		t.Error("negative weight accepted")
	}
	if _, err := Index(rounds, Weights{}); err == nil {
		t.Error("missing weights accepted")
	}
}

// TestRankTies: ties are judged on the printed index, and the rank after a
// tie skips (1, 1, 3).
func TestRankTies(t *testing.T) {
	out := []DistrictIndex{
		{District: "e", Index: rat("80")},
		{District: "d", Index: rat("90.004")}, // prints 90.00
		{District: "c", Index: rat("89.995")}, // prints 90.00 too
		{District: "b", Index: nil},
		{District: "a", Index: rat("90.005")}, // prints 90.01
		{District: "f", Index: rat("80")},
		{District: "g", Index: rat("79.99")},
	}
	rankIndexes(out)
	want := []struct {
		d    string
		rank int
	}{{"a", 1}, {"c", 2}, {"d", 2}, {"e", 4}, {"f", 4}, {"g", 6}, {"b", 0}}
	for i, w := range want {
		if out[i].District != w.d || out[i].Rank != w.rank {
			t.Errorf("#%d = %s rank %d, want %s rank %d", i, out[i].District, out[i].Rank, w.d, w.rank)
		}
	}
}
