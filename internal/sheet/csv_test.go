package sheet_test

import (
	"strings"
	"testing"

	"chuangwen/internal/sheet"
)

func TestSafeCSV(t *testing.T) {
	in := []string{`=HYPERLINK("x")`, "+1+1", "-2+3", "@SUM(A1)", "\tx", "\r=1", "路边", "", "2026-000001", "-2", "-0.5", "+7", "12.25", "-", "-.5", "-1.", "1.2.3", "'=x"}
	want := []string{`'=HYPERLINK("x")`, "'+1+1", "'-2+3", "'@SUM(A1)", "'\tx", "'\r=1", "路边", "", "2026-000001", "-2", "-0.5", "+7", "12.25", "'-", "'-.5", "'-1.", "1.2.3", "''=x"}
	got := sheet.SafeCSV(append([]string(nil), in...))
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("SafeCSV(%q) = %q, want %q", in[i], got[i], want[i])
		}
		if back := sheet.UnquoteCSV(got[i]); back != in[i] {
			t.Errorf("UnquoteCSV(%q) = %q, want %q", got[i], back, in[i])
		}
	}
	for _, keep := range []string{"'", "'abc", "it's", "'1"} {
		if got := sheet.UnquoteCSV(keep); got != keep {
			t.Errorf("UnquoteCSV(%q) = %q", keep, got)
		}
	}
}

// A cell of tens of millions of apostrophes before a formula is quoted
// like any other (a recursive check had run out of stack and ended the
// process).
func TestSafeCSVManyApostrophes(t *testing.T) {
	c := strings.Repeat("'", 34<<20) + "=1"
	got := sheet.SafeCSV([]string{c})[0]
	if len(got) != len(c)+1 || got[0] != '\'' || sheet.UnquoteCSV(got) != c {
		t.Fatalf("a cell of %d characters came back as %d", len(c), len(got))
	}
}
