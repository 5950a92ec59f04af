package assess

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"slices"
	"strings"
	"testing"
)

// demoUnits are the unit codes of the demo city, which the sample tree's
// lead and cooperating units use.
var demoUnits = map[string]bool{
	"CGJ": true, "ZJJ": true, "JTJ": true, "JJZD": true, "SCJG": true, "STHJ": true, "YLJ": true,
	"WLJ": true, "WJW": true, "JYJ": true, "SWJ": true, "XFZD": true, "GDGS": true, "ZLSGS": true,
	"RQGS": true, "GJJT": true,
}

func loadSample(t *testing.T) Edition {
	t.Helper()
	f, err := os.Open("testdata/sample-tree.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ed, problems := Parse(f, ParseOptions{Units: demoUnits})
	for _, p := range problems {
		t.Errorf("sample tree: %v", p)
	}
	return ed
}

func TestSampleTree(t *testing.T) {
	ed := loadSample(t)
	if got := len(ed.Standards()); got != 37 {
		t.Errorf("leaves = %d, want 37", got)
	}
	if got := ed.Total(); got.Cmp(big.NewRat(100, 1)) != 0 {
		t.Errorf("total = %s, want 100", got.RatString())
	}
	if !strings.Contains(ed.Name, "示例") || !strings.Contains(ed.Name, "非官方") {
		t.Errorf("name %q does not say it is a sample", ed.Name)
	}
	wantProjects := []string{"15", "12", "18", "25", "10", "20"}
	for i, p := range ed.Projects {
		if p.Points == nil || p.Points.RatString() != wantProjects[i] || p.Sum().RatString() != wantProjects[i] {
			t.Errorf("project %s points %v sum %s, want %s", p.Code, p.Points, p.Sum().RatString(), wantProjects[i])
		}
	}
	count := map[Method]int{}
	for _, s := range ed.Standards() {
		count[s.Method]++
		if s.Method.AtSites() && len(s.SiteTypes) == 0 {
			t.Errorf("%s: no site types", s.Code)
		}
	}
	if count[MethodField] != 29 || count[MethodCall] != 1 || count[MethodDocument] != 3 || count[MethodSurvey] != 4 {
		t.Errorf("methods = %v", count)
	}
	s, _ := ed.Standard("1.1.1")
	if s.PerProblem.Cmp(big.NewRat(1, 2)) != 0 || !s.AppliesTo("主次干道") || s.AppliesTo("农贸市场") {
		t.Errorf("1.1.1 = %+v", s)
	}
	if len(ed.Negative) != 1 || !ed.Negative[0].AppliesTo("农贸市场") {
		t.Errorf("negative list = %+v", ed.Negative)
	}
}

// canonical renders an edition for comparison (big.Rat values as text).
func canonical(t *testing.T, ed Edition) string {
	t.Helper()
	b, err := json.MarshalIndent(ed, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRoundTripSample(t *testing.T) {
	ed := loadSample(t)
	var buf bytes.Buffer
	if err := Write(&buf, ed); err != nil {
		t.Fatal(err)
	}
	again, problems := Parse(bytes.NewReader(buf.Bytes()), ParseOptions{Units: demoUnits})
	for _, p := range problems {
		t.Errorf("re-parse: %v", p)
	}
	if a, b := canonical(t, ed), canonical(t, again); a != b {
		t.Errorf("round trip differs:\n%s\n---\n%s", a, b)
	}
	var buf2 bytes.Buffer
	if err := Write(&buf2, again); err != nil {
		t.Fatal(err)
	}
	if buf.String() != buf2.String() {
		t.Error("writing twice gives different text")
	}
}

func TestRoundTripAwkwardValues(t *testing.T) {
	dec := func(s string) *big.Rat { r, _ := ParseDecimal(s); return r }
	ed := Edition{
		Code: "2026", Name: "null", SiteTypes: []string{"yes", "1.5", "a: b", "#x", "On", "1:20"},
		Projects: []Project{{
			Code: "01", Name: "~", Points: dec("3.125"),
			Contents: []Content{{
				Code: "1.10", Name: "'quoted' \"double\"",
				Standards: []Standard{
					{Code: "true", Name: "第一\n第二", Points: dec("3"), Method: MethodField, Rule: RuleDeduct, PerProblem: dec("0.125"), SiteTypes: []string{"yes", "a: b"}, LeadUnit: "007", CoopUnits: []string{"1e3"}},
					{Code: "- x", Name: "x", Points: dec("0.125"), Method: MethodDocument, Rule: RuleGraded},
				},
			}},
		}},
		Negative: []NegativeItem{{Code: "N 1", Name: "n", SiteTypes: []string{"#x"}}},
	}
	var buf bytes.Buffer
	if err := Write(&buf, ed); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `site_types: ["yes", "1.5", 'a: b', '#x', "On", "1:20"]`) {
		t.Errorf("YAML 1.1 booleans and numbers not quoted:\n%s", buf.String())
	}
	again, problems := Parse(bytes.NewReader(buf.Bytes()), ParseOptions{})
	// "- x" and "N 1" carry spaces, which the parser refuses; everything
	// else must come back as it was.
	var keys []string
	for _, p := range problems {
		keys = append(keys, p.Key+"@"+p.Path)
	}
	want := []string{"assess.bad_code@projects[0].contents[0].standards[1].code", "assess.bad_code@negative_list[0].code"}
	if !slices.Equal(keys, want) {
		t.Errorf("problems = %v, want %v\n%s", keys, want, buf.String())
	}
	if a, b := canonical(t, ed), canonical(t, again); a != b {
		t.Errorf("round trip differs:\n%s\n---\n%s\n%s", a, b, buf.String())
	}
}

func TestWriteRefusesInexactPoints(t *testing.T) {
	ed := Edition{Code: "x", Name: "x", Projects: []Project{{Code: "A", Name: "a", Contents: []Content{{Code: "A1", Name: "a",
		Standards: []Standard{{Code: "A1.1", Name: "a", Points: big.NewRat(1, 3), Method: MethodDocument, Rule: RuleGraded}}}}}}}
	if err := Write(&bytes.Buffer{}, ed); err == nil {
		t.Error("1/3 points written")
	}
}

func TestScalarsAsWritten(t *testing.T) {
	doc := strings.Replace(baseDoc, "code: A1.1", "code: 01", 1)
	doc = strings.Replace(doc, "points: 4", "points: 4.10", 1)
	ed, problems := Parse(strings.NewReader(doc), ParseOptions{Units: baseUnits})
	if len(problems) != 2 || problems[0].Key != "assess.points_sum" || problems[1].Key != "assess.points_sum" {
		t.Fatalf("problems = %v", problems) // the content's and the project's totals
	}
	s := ed.Projects[0].Contents[0].Standards[0]
	if s.Code != "01" || s.Points.Cmp(big.NewRat(41, 10)) != 0 {
		t.Errorf("code %q points %s", s.Code, s.Points.RatString())
	}
}

func TestParseDecimal(t *testing.T) {
	for in, want := range map[string]string{"0.5": "1/2", "4": "4", "2.125": "17/8", "-1.25": "-5/4", "007": "7", "0.1": "1/10"} {
		r, ok := ParseDecimal(in)
		if !ok || r.RatString() != want {
			t.Errorf("ParseDecimal(%q) = %v, %v; want %s", in, r, ok, want)
		}
	}
	for _, in := range []string{"", "1e2", ".5", "5.", "+1", "0x10", "1,5", "½", "NaN", "inf", "1 000"} {
		if _, ok := ParseDecimal(in); ok {
			t.Errorf("ParseDecimal(%q) accepted", in)
		}
	}
	for in, want := range map[string]string{"1/2": "0.5", "4": "4", "17/8": "2.125", "1/40": "0.025", "3/20": "0.15", "0": "0"} {
		r, _ := new(big.Rat).SetString(in)
		if got, err := FormatDecimal(r); err != nil || got != want {
			t.Errorf("FormatDecimal(%s) = %q, %v; want %s", in, got, err, want)
		}
	}
}

const baseDoc = `edition: t
name: 测试
site_types: [主次干道, 农贸市场]
projects:
  - code: A
    name: 环境
    points: 6
    contents:
      - code: A1
        name: 市容
        points: 6
        standards:
          - code: A1.1
            name: 道路
            points: 4
            method: field
            rule: pass_rate
            site_types: [主次干道]
            lead_unit: CGJ
          - code: A1.2
            name: 张贴
            points: 2
            method: field
            rule: deduct
            per_problem: 0.5
            site_types: [主次干道]
            coop_units: [ZJJ]
  - code: B
    name: 评价
    contents:
      - code: B1
        name: 问卷
        standards:
          - {code: B1.1, name: 满意率, points: 10, method: survey, rule: survey}
          - {code: B1.2, name: 材料, points: 3, method: document, rule: graded}
negative_list:
  - code: N1
    name: 事故
    site_types: [农贸市场]
`

var baseUnits = map[string]bool{"CGJ": true, "ZJJ": true}

func TestBaseDocIsValid(t *testing.T) {
	ed, problems := Parse(strings.NewReader(baseDoc), ParseOptions{Units: baseUnits})
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	if ed.Total().RatString() != "19" || len(ed.Negative) != 1 {
		t.Errorf("edition = %+v", ed)
	}
}

// lineOf returns the 1-based number of the last line of doc containing s.
func lineOf(doc, s string) int {
	n := 0
	for i, l := range strings.Split(doc, "\n") {
		if strings.Contains(l, s) {
			n = i + 1
		}
	}
	return n
}

// TestProblems checks one error of each kind, named by its place.
func TestProblems(t *testing.T) {
	const (
		leaf1 = "projects[0].contents[0].standards[0]"
		leaf2 = "projects[0].contents[0].standards[1]"
	)
	cases := []struct {
		name      string
		old, new  string // replaced once in baseDoc
		key, path string
		at        string // text on the line the problem names ("" = line 0)
		args      []string
	}{
		{"syntax", "name: 测试", "name: [测试", "assess.syntax", "", "name: [测试", nil},
		{"want mapping", "  - code: B\n", "  - 17\n  - code: B\n", "assess.want_mapping", "projects[1]", "  - 17", nil},
		{"want list 2", "site_types: [农贸市场]", "site_types: 农贸市场", "assess.want_list", "negative_list[0].site_types", "site_types: 农贸市场", nil},
		{"want scalar", "name: 道路", "name: [道路]", "assess.want_scalar", leaf1 + ".name", "name: [道路]", nil},
		{"unknown field", "lead_unit: CGJ", "lead_units: CGJ", "assess.unknown_field", leaf1 + ".lead_units", "lead_units", []string{"field", "lead_units"}},
		{"duplicate key", "name: 张贴", "name: 张贴\n            name: 又一个", "assess.dup_key", leaf2 + ".name", "又一个", []string{"field", "name", "first_line", "21"}},
		{"missing points", "            points: 4\n", "", "assess.missing", leaf1 + ".points", "- code: A1.1", []string{"field", "points"}},
		{"missing name", "name: 市容", "name: ''", "assess.missing", "projects[0].contents[0].name", "name: ''", []string{"field", "name"}},
		{"missing edition", "edition: t\n", "", "assess.missing", "edition", "name: 测试", []string{"field", "edition"}},
		{"null code", "code: N1", "code: ~", "assess.missing", "negative_list[0].code", "- code: ~", []string{"field", "code"}},
		{"empty list", "    contents:\n      - code: B1\n        name: 问卷\n        standards:\n          - {code: B1.1, name: 满意率, points: 10, method: survey, rule: survey}\n          - {code: B1.2, name: 材料, points: 3, method: document, rule: graded}\n", "    contents: []\n", "assess.empty_list", "projects[1].contents", "contents: []", []string{"field", "contents"}},
		{"bad code", "code: A1.2", "code: A1 .2", "assess.bad_code", leaf2 + ".code", "A1 .2", []string{"code", "A1 .2"}},
		{"duplicate code", "code: B1.2", "code: A1", "assess.dup_code", "projects[1].contents[0].standards[1].code", "{code: A1,", []string{"code", "A1", "first", "projects[0].contents[0].code"}},
		{"duplicate code negative", "code: N1", "code: A", "assess.dup_code", "negative_list[0].code", "- code: A", []string{"code", "A", "first", "projects[0].code"}},
		{"bad number", "points: 4", "points: 1e2", "assess.bad_number", leaf1 + ".points", "points: 1e2", []string{"field", "points", "value", "1e2"}},
		{"bad number hex", "per_problem: 0.5", "per_problem: 0x1", "assess.bad_number", leaf2 + ".per_problem", "0x1", []string{"field", "per_problem", "value", "0x1"}},
		{"negative points", "points: 2\n", "points: -2\n", "assess.negative", leaf2 + ".points", "points: -2", []string{"field", "points", "value", "-2"}},
		{"negative per_problem", "per_problem: 0.5", "per_problem: -0.5", "assess.negative", leaf2 + ".per_problem", "-0.5", []string{"field", "per_problem", "value", "-0.5"}},
		{"content sum", "        points: 6", "        points: 5", "assess.points_sum", "projects[0].contents[0].points", "        points: 5", []string{"points", "5", "sum", "6"}},
		{"project sum", "    points: 6\n    contents", "    points: 6.5\n    contents", "assess.points_sum", "projects[0].points", "points: 6.5", []string{"points", "6.5", "sum", "6"}},
		{"per_problem missing", "            per_problem: 0.5\n", "", "assess.per_problem_missing", leaf2 + ".per_problem", "- code: A1.2", nil},
		{"per_problem on pass_rate", "rule: pass_rate", "rule: pass_rate\n            per_problem: 1", "assess.per_problem_not_used", leaf1 + ".per_problem", "per_problem: 1", []string{"rule", "pass_rate"}},
		{"per_problem zero", "per_problem: 0.5", "per_problem: 0.0", "assess.per_problem_zero", leaf2 + ".per_problem", "per_problem: 0.0", nil},
		{"unknown method", "method: field\n            rule: pass_rate", "method: visit\n            rule: pass_rate", "assess.unknown_method", leaf1 + ".method", "method: visit", []string{"method", "visit"}},
		{"unknown rule", "rule: deduct", "rule: minus", "assess.unknown_rule", leaf2 + ".rule", "rule: minus", []string{"rule", "minus"}},
		{"rule does not fit method", "method: survey, rule: survey", "method: survey, rule: graded", "assess.rule_method", "projects[1].contents[0].standards[0].rule", "B1.1", []string{"rule", "graded", "method", "survey"}},
		{"pass_rate on document", "method: document, rule: graded", "method: document, rule: pass_rate", "assess.rule_method", "projects[1].contents[0].standards[1].rule", "B1.2", []string{"rule", "pass_rate", "method", "document"}},
		{"site types missing", "site_types: [主次干道]\n            lead_unit", "lead_unit", "assess.site_types_missing", leaf1 + ".site_types", "- code: A1.1", []string{"method", "field"}},
		{"site types on survey", "rule: survey}", "rule: survey, site_types: [主次干道]}", "assess.site_types_not_used", "projects[1].contents[0].standards[0].site_types", "B1.1", []string{"method", "survey"}},
		{"site type unlisted", "site_types: [主次干道]\n            lead_unit", "site_types: [主次干道, 主次干路]\n            lead_unit", "assess.site_type_unlisted", leaf1 + ".site_types[1]", "主次干路", []string{"type", "主次干路"}},
		{"negative site type unlisted", "site_types: [农贸市场]", "site_types: [菜市场]", "assess.site_type_unlisted", "negative_list[0].site_types[0]", "菜市场", []string{"type", "菜市场"}},
		{"duplicate site type", "site_types: [主次干道, 农贸市场]", "site_types: [主次干道, 农贸市场, 主次干道]", "assess.dup_site_type", "site_types[2]", "site_types: [主次干道, 农贸市场, 主次干道]", []string{"type", "主次干道"}},
		{"unknown lead unit", "lead_unit: CGJ", "lead_unit: CGX", "assess.unknown_unit", leaf1 + ".lead_unit", "CGX", []string{"unit", "CGX"}},
		{"unknown coop unit", "coop_units: [ZJJ]", "coop_units: [ZJJ, JTJ]", "assess.unknown_unit", leaf2 + ".coop_units[1]", "JTJ", []string{"unit", "JTJ"}},
		{"coop is lead", "lead_unit: CGJ", "lead_unit: CGJ\n            coop_units: [CGJ]", "assess.dup_unit", leaf1 + ".coop_units[0]", "coop_units: [CGJ]", []string{"unit", "CGJ"}},
		{"unknown alias", "name: 张贴", "name: *x", "assess.syntax", "", "", nil},
		{"multiple documents", "    site_types: [农贸市场]\n", "    site_types: [农贸市场]\n---\nedition: u\n", "assess.multiple_documents", "", "edition: u", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(baseDoc, c.old) {
				t.Fatalf("%q not in the base document", c.old)
			}
			doc := strings.Replace(baseDoc, c.old, c.new, 1)
			_, problems := Parse(strings.NewReader(doc), ParseOptions{Units: baseUnits})
			if len(problems) != 1 {
				t.Fatalf("%d problems, want 1: %v\n%s", len(problems), problems, doc)
			}
			p := problems[0]
			wantLine := 0
			if c.at != "" {
				wantLine = lineOf(doc, c.at)
			}
			if p.Key != c.key || p.Path != c.path || (p.Key != "assess.syntax" && p.Line != wantLine) {
				t.Errorf("got %s at %q line %d; want %s at %q line %d", p.Key, p.Path, p.Line, c.key, c.path, wantLine)
			}
			for i := 0; i+1 < len(c.args); i += 2 {
				if got := p.Arg(c.args[i]); got != c.args[i+1] {
					t.Errorf("arg %s = %q, want %q", c.args[i], got, c.args[i+1])
				}
			}
			checkProblem(t, p)
		})
	}
}

// checkProblem checks that a problem carries exactly the arguments its key
// declares and that its English text has no placeholder left.
func checkProblem(t *testing.T, p Problem) {
	t.Helper()
	want, ok := ProblemKeys()[p.Key]
	if !ok {
		t.Errorf("key %s not in ProblemKeys", p.Key)
		return
	}
	var names []string
	for i := 0; i < len(p.Args); i += 2 {
		names = append(names, p.Args[i])
	}
	if !slices.Equal(names, want) {
		t.Errorf("%s args %v, want %v", p.Key, names, want)
	}
	if p.Arg("path") != p.Path {
		t.Errorf("path arg %q, field %q", p.Arg("path"), p.Path)
	}
	msg := p.Error()
	if strings.Contains(msg, "{") || !strings.HasPrefix(msg, p.Place()) {
		t.Errorf("message %q", msg)
	}
}

func TestAlias(t *testing.T) {
	doc := strings.Replace(baseDoc, "name: 市容", "name: &x 市容", 1)
	doc = strings.Replace(doc, "name: 张贴", "name: *x", 1)
	_, problems := Parse(strings.NewReader(doc), ParseOptions{Units: baseUnits})
	if len(problems) != 1 {
		t.Fatalf("problems: %v", problems)
	}
	p := problems[0]
	if p.Key != "assess.alias" || p.Path != "projects[0].contents[0].standards[1].name" || p.Line != lineOf(doc, "*x") {
		t.Errorf("got %v", p)
	}
	checkProblem(t, p)
	_, problems = Parse(strings.NewReader("edition: [\n"), ParseOptions{})
	if len(problems) != 1 || problems[0].Key != "assess.syntax" || problems[0].Line == 0 {
		t.Errorf("syntax error without its line: %v", problems)
	}
}

func TestUnitsNotChecked(t *testing.T) {
	doc := strings.Replace(baseDoc, "lead_unit: CGJ", "lead_unit: ANY", 1)
	if _, problems := Parse(strings.NewReader(doc), ParseOptions{}); len(problems) > 0 {
		t.Errorf("nil Units: %v", problems)
	}
	_, problems := Parse(strings.NewReader(doc), ParseOptions{Units: map[string]bool{}})
	if len(problems) != 2 { // ANY and ZJJ
		t.Errorf("empty Units: %v", problems)
	}
}

func TestEmptyAndUnreadable(t *testing.T) {
	for _, in := range []string{"", "\n# nothing\n"} {
		_, problems := Parse(strings.NewReader(in), ParseOptions{})
		if len(problems) != 1 || problems[0].Key != "assess.empty_file" {
			t.Errorf("%q: %v", in, problems)
		}
	}
	_, problems := Parse(errReader{}, ParseOptions{})
	if len(problems) != 1 || problems[0].Key != "assess.read" {
		t.Errorf("unreadable: %v", problems)
	}
	_, problems = Parse(strings.NewReader("- a\n- b\n"), ParseOptions{})
	if len(problems) != 1 || problems[0].Key != "assess.want_mapping" || problems[0].Line != 1 {
		t.Errorf("list at the top: %v", problems)
	}
	_, problems = Parse(strings.NewReader("edition: x\nname: y\nprojects: []\n"), ParseOptions{})
	if len(problems) != 1 || problems[0].Key != "assess.empty_list" || problems[0].Path != "projects" {
		t.Errorf("no projects: %v", problems)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

// TestAllProblemsCollected checks that a file with many errors reports
// every one of them, in line order.
func TestAllProblemsCollected(t *testing.T) {
	doc := baseDoc
	for _, r := range [][2]string{
		{"points: 4", "points: x"},
		{"rule: deduct", "rule: minus"},
		{"code: B1.2", "code: A1.1"},
		{"lead_unit: CGJ", "lead_unit: NOPE"},
		{"    name: 事故", "    name: 事故\n    colour: red"},
	} {
		doc = strings.Replace(doc, r[0], r[1], 1)
	}
	_, problems := Parse(strings.NewReader(doc), ParseOptions{Units: baseUnits})
	var keys []string
	for i, p := range problems {
		keys = append(keys, p.Key)
		if i > 0 && p.Line < problems[i-1].Line {
			t.Errorf("problems out of line order: %v", problems)
		}
		checkProblem(t, p)
	}
	want := []string{"assess.bad_number", "assess.unknown_unit", "assess.unknown_rule", "assess.dup_code", "assess.unknown_field"}
	if !slices.Equal(keys, want) {
		t.Errorf("keys = %v, want %v", keys, want)
	}
}

func TestProblemTextForEveryKey(t *testing.T) {
	for k, args := range ProblemKeys() {
		msg, ok := problemText[k]
		if !ok {
			t.Errorf("%s has no English text", k)
			continue
		}
		p := Problem{Path: "x", Line: 3, Key: k}
		for _, a := range args {
			p.Args = append(p.Args, a, "v")
		}
		if strings.Contains(p.Error(), "{") {
			t.Errorf("%s: placeholder left in %q (text %q)", k, p.Error(), msg)
		}
	}
	if len(problemText) != len(problemArgs) {
		t.Errorf("%d texts for %d keys", len(problemText), len(problemArgs))
	}
}

// TestDocExample parses the YAML example of docs/assessment.md.
func TestDocExample(t *testing.T) {
	b, err := os.ReadFile("../../docs/assessment.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "```yaml\n")
	example, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("no yaml example")
	}
	ed, problems := Parse(strings.NewReader(example), ParseOptions{Units: map[string]bool{"CGJ": true}})
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	if ed.Total().RatString() != "5" || len(ed.Standards()) != 2 || len(ed.Negative) != 1 {
		t.Errorf("example = %+v", ed)
	}
}
