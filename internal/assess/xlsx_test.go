package assess

import (
	"bytes"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// The sample tree survives YAML → XLSX → edition unchanged, and the
// sheet says what docs/assessment.md says it does.
func TestXLSXRoundTripSample(t *testing.T) {
	ed := loadSample(t)
	var buf bytes.Buffer
	if err := WriteXLSX(&buf, ed); err != nil {
		t.Fatal(err)
	}
	again, problems := ParseXLSX(bytes.NewReader(buf.Bytes()), ParseOptions{Units: demoUnits})
	for _, p := range problems {
		t.Errorf("re-parse: %v", p)
	}
	if a, b := canonical(t, ed), canonical(t, again); a != b {
		t.Errorf("round trip differs:\n%s\n---\n%s", a, b)
	}
	f, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.GetSheetList(); !slices.Equal(got, []string{TreeSheet}) {
		t.Errorf("sheets %v", got)
	}
	for cell, want := range map[string]string{"A1": "edition", "B1": "sample-2026", "A5": "project", "G5": "code", "G6": "1.1.1", "I6": "2", "L6": "0.5", "A6": "1", "A7": ""} {
		if got, _ := f.GetCellValue(TreeSheet, cell); got != want {
			t.Errorf("%s = %q, want %q", cell, got, want)
		}
	}
	// Points are numbers in the sheet, codes are text.
	if typ, _ := f.GetCellType(TreeSheet, "I6"); typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber {
		t.Errorf("points cell type %v", typ)
	}
	if typ, _ := f.GetCellType(TreeSheet, "G6"); typ == excelize.CellTypeNumber || typ == excelize.CellTypeUnset {
		t.Errorf("code cell type %v", typ)
	}
}

func TestXLSXRoundTripAwkwardValues(t *testing.T) {
	dec := func(s string) *big.Rat { r, _ := ParseDecimal(s); return r }
	ed := Edition{
		Code: "2026", Name: "null", SiteTypes: []string{"yes", "1.5", "a: b", "#x", "On", "1:20"},
		Projects: []Project{{
			Code: "01", Name: "~", Points: dec("3.125"),
			Contents: []Content{{
				Code: "1.10", Name: "'quoted' \"double\"",
				Standards: []Standard{
					{Code: "true", Name: "第一\n第二", Points: dec("3"), Method: MethodField, Rule: RuleDeduct, PerProblem: dec("0.125"), SiteTypes: []string{"yes", "a: b"}, LeadUnit: "007", CoopUnits: []string{"1e3"}},
					{Code: "x", Name: "x", Points: dec("0.125"), Method: MethodDocument, Rule: RuleGraded},
					{Code: "y", Name: "y", Points: dec("12345678901234567890.123456789"), Method: MethodDocument, Rule: RuleGraded},
				},
			}},
		}},
		Negative: []NegativeItem{{Code: "N1", Name: "n", SiteTypes: []string{"#x"}}},
	}
	ed.Projects[0].Points = ed.Projects[0].Sum()
	var buf bytes.Buffer
	if err := WriteXLSX(&buf, ed); err != nil {
		t.Fatal(err)
	}
	again, problems := ParseXLSX(bytes.NewReader(buf.Bytes()), ParseOptions{})
	for _, p := range problems {
		t.Errorf("re-parse: %v", p)
	}
	if a, b := canonical(t, ed), canonical(t, again); a != b {
		t.Errorf("round trip differs:\n%s\n---\n%s", a, b)
	}
}

// workbook builds a workbook from rows, every cell as text.
func workbook(t *testing.T, name string, rows [][]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := writeSheet(&buf, name, rows, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var header = []string{"project", "project_name", "project_points", "content", "content_name", "content_points", "code", "name", "points", "method", "rule", "per_problem", "site_types", "lead_unit", "coop_units"}

// A hand-made sheet: columns in another order, merged-cell style (the
// project and content named on their first row only), a list with 、.
func TestXLSXHandMade(t *testing.T) {
	rows := [][]string{
		{"Edition", "city-2026"},
		{"name", "本市测评"},
		{"site_types", "背街小巷、公共厕所"},
		{},
		{"project", "content", "code", "name", "points", "method", "rule", "per_problem", "site_types", "project_name", "content_name", "content_points"},
		{"4", "4.1", "4.1.1", "无暴露垃圾", "3", "field", "deduct", "0.5", "背街小巷", "城市环境", "环境卫生", "5"},
		{"", "", "4.1.2", "公厕干净", "2", "field", "pass_rate", "", "公共厕所", "", "", ""},
		{"", "4.2", "4.2.1", "问卷", "1", "survey", "survey", "", "", "", "满意度", ""},
		{"5", "5.1", "5.1.1", "材料", "1", "document", "graded", "", "", "文明实践", "台账", ""},
	}
	ed, problems := ParseXLSX(bytes.NewReader(workbook(t, "Sheet1", rows)), ParseOptions{})
	for _, p := range problems {
		t.Errorf("%v", p)
	}
	var got []string
	for _, p := range ed.Projects {
		for _, c := range p.Contents {
			for _, s := range c.Standards {
				got = append(got, p.Code+"/"+c.Code+"/"+s.Code)
			}
		}
	}
	if want := []string{"4/4.1/4.1.1", "4/4.1/4.1.2", "4/4.2/4.2.1", "5/5.1/5.1.1"}; !slices.Equal(got, want) {
		t.Errorf("tree %v, want %v", got, want)
	}
	if ed.Code != "city-2026" || !slices.Equal(ed.SiteTypes, []string{"背街小巷", "公共厕所"}) || ed.Projects[0].Contents[0].Points.RatString() != "5" {
		t.Errorf("edition %+v", ed)
	}
}

// Every problem of a sheet names the sheet, the row and the column.
func TestXLSXProblemsPlaced(t *testing.T) {
	rows := [][]string{
		{"edition", "x"},
		{"name", ""},
		{"site_types", "主次干道"},
		{"colour", "red"},
		{},
		header,
		{"A", "甲", "9", "A1", "甲一", "", "A1.1", "一", "4", "feild", "pass_rate", "", "主次干道", "", ""},
		{"A", "乙", "", "A1", "", "", "A1.2", "二", "-1", "field", "deduct", "", "主次干道", "NOPE", ""},
		{"", "", "", "A2", "甲二", "", "A1.1", "三", "2", "survey", "survey", "", "", "", ""},
		{},
		{"negative_list", "name", "site_types"},
		{"N1", "", "背街小巷"},
	}
	_, problems := ParseXLSX(bytes.NewReader(workbook(t, "体系", rows)), ParseOptions{Units: map[string]bool{}})
	var got []string
	for _, p := range problems {
		if p.Sheet != "体系" || !p.Table {
			t.Errorf("%v: sheet %q", p, p.Sheet)
		}
		got = append(got, fmt.Sprintf("%d %s %s", p.Line, p.Column, p.Key))
		checkProblem(t, p)
	}
	want := []string{
		"2 B (name) assess.missing",
		"4 A assess.unknown_field",
		"7 J (method) assess.unknown_method",
		"8 B (project_name) assess.sheet_differs",
		"8 I (points) assess.negative",
		"8 L (per_problem) assess.per_problem_missing",
		"8 N (lead_unit) assess.unknown_unit",
		"9 G (code) assess.dup_code",
		"12 B (name) assess.missing",
		"12 C (site_types) assess.site_type_unlisted",
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, p := range problems {
		if p.Key == "assess.unknown_method" && p.Error() != "sheet 体系, row 7, column J (method): unknown method feild (field, call, document or survey)" {
			t.Errorf("text: %s", p.Error())
		}
	}
}

func TestXLSXBadHeaderAndFile(t *testing.T) {
	rows := [][]string{{"edition", "x"}, {"name", "x"}, {"project", "code", "name", "pionts"}}
	_, problems := ParseXLSX(bytes.NewReader(workbook(t, "S", rows)), ParseOptions{})
	var keys []string
	for _, p := range problems {
		keys = append(keys, p.Key+" "+p.Arg("column")+" "+fmt.Sprint(p.Line))
	}
	for _, want := range []string{"assess.unknown_column pionts 3", "assess.header_missing points 3", "assess.header_missing method 3"} {
		if !slices.Contains(keys, want) {
			t.Errorf("no %q in %v", want, keys)
		}
	}
	_, problems = ParseXLSX(strings.NewReader("not a zip"), ParseOptions{})
	if len(problems) != 1 || problems[0].Key != "assess.xlsx_read" {
		t.Errorf("not a workbook: %v", problems)
	}
}

// A table's problems are placed by row and column; CSV rows count
// records, the header being row 1.
func TestCSVTable(t *testing.T) {
	pl := &problemList{}
	in := "\xEF\xBB\xBFSite,standard,result\r\nS1,A,\"pass\"\r\n\r\nS2,B,\"multi\nline\"\r\nS3,C\r\nS4,D,fail\r\n"
	tb := csvTable(strings.NewReader(in), pl, []string{"site", "standard", "result", "note"}, []string{"site", "result"})
	if tb == nil {
		t.Fatal(pl.done())
	}
	var got []string
	for {
		rec, row, err := tb.next()
		if err != nil {
			break
		}
		got = append(got, fmt.Sprint(row, rec))
	}
	if want := []string{"2 [S1 A pass]", "3 [S2 B multi\nline]", "5 [S4 D fail]"}; !slices.Equal(got, want) {
		t.Errorf("rows %q, want %q", got, want)
	}
	if ps := pl.done(); len(ps) != 1 || ps[0].Error() != "row 4: the row has 2 fields, the header 3" {
		t.Errorf("problems %v", ps)
	}

	pl = &problemList{}
	if tb := csvTable(strings.NewReader("site,\"x\n"), pl, []string{"site"}, nil); tb != nil || pl.done()[0].Key != "assess.csv_syntax" {
		t.Errorf("syntax: %v", pl.done())
	}
	pl = &problemList{}
	if tb := csvTable(strings.NewReader("site\n\xB5\xE3\n"), pl, []string{"site"}, nil); tb == nil {
		t.Fatal(pl.done())
	} else if _, _, err := tb.next(); err != errStop || pl.done()[0].Key != "assess.not_utf8" || pl.done()[0].Line != 2 {
		t.Errorf("GBK text: %v %v", err, pl.done())
	}
	pl = &problemList{}
	for i := 0; i < MaxProblems+7; i++ {
		pl.add(Problem{Key: "assess.no_rows"})
	}
	if ps := pl.done(); len(ps) != MaxProblems+1 || ps[MaxProblems].Arg("count") != "7" {
		t.Errorf("cap: %d problems, last %v", len(ps), ps[len(ps)-1])
	}
}
