package web

import (
	"context"
	"errors"
	"math/big"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"chuangwen/internal/assess"
	"chuangwen/internal/report"
	"chuangwen/internal/workflow"
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

// TestReadAhead: rows arrive in order after begin; an error before begin
// is returned without it; a write error stops the reader.
func TestReadAhead(t *testing.T) {
	ctx := context.Background()
	rows := func(n int, failAt int) func(context.Context, func() error, func(*workflow.ExportRow) error) error {
		return func(ctx context.Context, begin func() error, emit func(*workflow.ExportRow) error) error {
			if failAt == 0 {
				return errors.New("bad filter")
			}
			if err := begin(); err != nil {
				return err
			}
			for i := 1; i <= n; i++ {
				if err := emit(&workflow.ExportRow{No: strconv.Itoa(i)}); err != nil {
					return err
				}
			}
			return nil
		}
	}
	var got []string
	began := false
	err := readAhead(ctx, rows(2000, -1), func() error { began = true; return nil }, func(e *workflow.ExportRow) error {
		if !began {
			t.Fatal("a row before begin")
		}
		got = append(got, e.No)
		return nil
	})
	if err != nil || len(got) != 2000 || got[0] != "1" || got[1999] != "2000" {
		t.Errorf("%v: %d rows, first %v", err, len(got), got[:1])
	}
	began = false
	if err := readAhead(ctx, rows(10, 0), func() error { began = true; return nil }, nil); err == nil || began {
		t.Errorf("an error before begin: %v, begun %v", err, began)
	}
	n := 0
	err = readAhead(ctx, rows(1_000_000, -1), func() error { return nil }, func(*workflow.ExportRow) error {
		if n++; n == 700 {
			return errors.New("client gone")
		}
		return nil
	})
	if err == nil || err.Error() != "client gone" {
		t.Errorf("a write error: %v", err)
	}
}

func TestExportTime(t *testing.T) {
	s := &Server{Location: time.FixedZone("CST", 8*3600)}
	for _, tm := range []time.Time{time.Date(2026, 12, 5, 1, 2, 3, 0, time.UTC), time.Date(2026, 2, 28, 23, 59, 0, 0, time.UTC), time.Date(999, 1, 1, 0, 0, 0, 0, time.UTC)} {
		if got, want := s.exportTime(tm), tm.In(s.Location).Format("2006-01-02 15:04"); got != want {
			t.Errorf("%v: %q, want %q", tm, got, want)
		}
	}
	if s.exportTime(time.Time{}) != "" {
		t.Error("zero time")
	}
}

// Every CSV table the console sends (rankings, ledgers, rounds' results)
// quotes a cell a spreadsheet would read as a formula, and leaves the
// caller's rows as they were.
func TestSendTableCSVHasNoFormula(t *testing.T) {
	rows := [][]string{{"单位", "得分", "备注"}, {"=HYPERLINK(\"http://evil.example\")", "-2.5", "@SUM(A1)"}, {"环卫处", "97", "-"}}
	rec := httptest.NewRecorder()
	(&Server{}).sendTable(rec, httptest.NewRequest("GET", "/x.csv", nil), "x.csv", "表", rows, 1)
	want := "\ufeff单位,得分,备注\n\"'=HYPERLINK(\"\"http://evil.example\"\")\",-2.5,'@SUM(A1)\n环卫处,97,'-\n"
	if got := rec.Body.String(); got != want {
		t.Fatalf("csv %q, want %q", got, want)
	}
	if rows[1][0] != "=HYPERLINK(\"http://evil.example\")" {
		t.Errorf("rows changed: %q", rows[1])
	}
}
