package web

import (
	"math/big"
	"testing"

	"chuangwen/internal/assess"
	"chuangwen/internal/report"
)

func TestRankingBars(t *testing.T) {
	rate := func(a, b int64) assess.JSONRate { return assess.JSONRate{Rat: big.NewRat(a, b)} }
	bars := rankingBars([]report.ProgressDoc{
		{Name: "东区", OnTimeClosureRate: rate(1, 2)},
		{Name: "西区", OnTimeClosureRate: rate(9, 10)},
		{Name: "南区"}, // nothing due: no rate, no bar
		{Name: "北区", OnTimeClosureRate: rate(1, 4)},
	})
	if len(bars) != 3 || bars[0].Name != "西区" || bars[0].Text != "90.0%" || bars[0].Width != 270 ||
		bars[2].Name != "北区" || !bars[2].Low || bars[1].Low || bars[1].Width != 150 {
		t.Errorf("bars %+v", bars)
	}
}

func TestCSVSafe(t *testing.T) {
	got := csvSafe([]string{"=HYPERLINK(\"x\")", "+1", "-2", "@SUM(A1)", "\tx", "路边", "", "2026-000001"})
	want := []string{"'=HYPERLINK(\"x\")", "'+1", "'-2", "'@SUM(A1)", "'\tx", "路边", "", "2026-000001"}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%d: %q, want %q", i, got[i], want[i])
		}
	}
}
