package assess_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"regexp"
	"slices"
	"strings"
	"testing"

	"chuangwen/internal/apperr"
	"chuangwen/internal/assess"
	"chuangwen/internal/grid"
	"chuangwen/internal/i18n"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
	"chuangwen/internal/testcity"

	"github.com/xuri/excelize/v2"
)

// testTree is a small edition over the test city's units A and B: every
// rule, a standard without a lead unit, a negative-list item.
const testTree = `edition: t-2026
name: 测试体系(示例)
site_types: [主次干道, 农贸市场, 公共厕所]
projects:
  - code: "A"
    name: 公共环境
    points: 10
    contents:
      - code: "A1"
        name: 市容市貌
        standards:
          - {code: "A1.1", name: 道路干净, points: 4, method: field, rule: pass_rate, site_types: [主次干道, 农贸市场], lead_unit: A}
          - {code: "A1.2", name: 无乱张贴, points: 2, method: field, rule: deduct, per_problem: 0.5, site_types: [主次干道], lead_unit: B, coop_units: [A]}
      - code: "A2"
        name: 公厕
        standards:
          - {code: "A2.1", name: 公厕干净, points: 4, method: field, rule: pass_rate, site_types: [公共厕所]}
  - code: "B"
    name: 群众满意
    contents:
      - code: "B1"
        name: 问卷与材料
        standards:
          - {code: "B1.1", name: 市民满意度, points: 6, method: survey, rule: survey, lead_unit: A}
          - {code: "B1.2", name: 台账资料, points: 4, method: document, rule: graded}
negative_list:
  - {code: N1, name: 重大安全事故, site_types: [农贸市场]}
`

// S06 is placed by the grid (the cell of 清波社区); the others by region.
const testSites = `code,name,type,region,lat,lon,address,unit,chief
S01,清波路,主次干道,330102001001,,,清波路1号,A,张三
S02,河坊街,主次干道,330102001,,,,B,
S03,清波菜场,农贸市场,330102,,,,,
S04,米市巷,主次干道,330105001001,,,,A,
S05,米市巷菜场,农贸市场,330105001,,,,B,李四
S06,公厕一,公共厕所,,30.2505,120.1505,,,
S07,公厕二,公共厕所,330105,,,,,
S08,解放路,主次干道,330105,,,,,
`

const testObservations = `site,standard,result,problems,note
S01,A1.1,pass,,
S01,A1.2,fail,3,乱张贴
S02,A1.1,fail,,
S02,A1.2,fail,0,
S03,A1.1,pass,,
S03,N1,fail,,重大安全事故
S04,A1.1,na,,
S04,A1.2,pass,2,
S05,A1.1,fail,,
S06,A2.1,pass,,
S07,A2.1,fail,,
S08,A1.2,fail,5,
`

const testResults = `region,standard,value
330102,B1.1,0.8
330105,B1.1,0.9
,B1.2,3.5
`

// testPlaces is where the test sites lie and who answers for them, as the
// pure functions take it: written out here, not read from the database.
var testPlaces = map[string]struct {
	place assess.Place
	unit  string
}{
	"S01": {assess.Place{District: "330102", Street: "330102001", Community: "330102001001"}, "A"},
	"S02": {assess.Place{District: "330102", Street: "330102001"}, "B"},
	"S03": {assess.Place{District: "330102"}, ""},
	"S04": {assess.Place{District: "330105", Street: "330105001", Community: "330105001001"}, "A"},
	"S05": {assess.Place{District: "330105", Street: "330105001"}, "B"},
	"S06": {assess.Place{District: "330102", Street: "330102001", Community: "330102001001"}, ""},
	"S07": {assess.Place{District: "330105"}, ""},
	"S08": {assess.Place{District: "330105"}, ""},
}

type fixture struct {
	t   *testing.T
	ctx context.Context
	db  *store.DB
	c   *testcity.City
	svc *assess.Service
}

// cellFeature is a grid cell 0.001° on a side with its south-west corner
// at lon, lat.
func cellFeature(code string, lon, lat float64) string {
	ring := [][2]float64{{lon, lat}, {lon + 0.001, lat}, {lon + 0.001, lat + 0.001}, {lon, lat + 0.001}, {lon, lat}}
	b, _ := json.Marshal(map[string]any{
		"type":       "Feature",
		"properties": map[string]string{"grid_code": code, "name": "网格" + code[len(code)-3:]},
		"geometry":   map[string]any{"type": "Polygon", "coordinates": [][][2]float64{ring}},
	})
	return string(b)
}

// newFixture is the test city with one grid cell in 清波社区 and the
// assessment service over it, the grid as its locator.
func newFixture(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	c := testcity.New(t, db)
	f := &fixture{t: t, ctx: context.Background(), db: db, c: c}
	gs := grid.New(db, nil)
	file := `{"type":"FeatureCollection","features":[` + cellFeature("330102001001001", 120.150, 30.250) + `]}`
	if rep, err := gs.Import(f.ctx, c.Admin, strings.NewReader(file), false); err != nil || rep.Created != 1 {
		t.Fatalf("grid import: %+v %v", rep, err)
	}
	f.svc = &assess.Service{DB: db, Now: c.Clock.Now, Location: testcity.Shanghai, Locator: gs}
	return f
}

func (f *fixture) must(err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) count(table string) int {
	f.t.Helper()
	var n int
	f.must(f.db.Reader().QueryRow(f.ctx, `SELECT COUNT(*) FROM `+table).Scan(&n))
	return n
}

// tables are every table the service writes, and the trail.
var tables = []string{"assess_editions", "assess_site_types", "assess_projects", "assess_contents", "assess_standards",
	"assess_standard_site_types", "assess_standard_coops", "assess_negative_items", "assess_sites", "assess_rounds",
	"assess_round_sites", "assess_observations", "assess_results", "events"}

func (f *fixture) counts() map[string]int {
	out := map[string]int{}
	for _, tb := range tables {
		out[tb] = f.count(tb)
	}
	return out
}

// unchanged checks that nothing was stored since before.
func (f *fixture) unchanged(before map[string]int) {
	f.t.Helper()
	if after := f.counts(); fmt.Sprint(after) != fmt.Sprint(before) {
		f.t.Errorf("rows changed: %v → %v", before, after)
	}
}

func (f *fixture) importTree(text string) assess.EditionInfo {
	f.t.Helper()
	info, problems, err := f.svc.ImportTree(f.ctx, f.c.Admin, strings.NewReader(text), assess.FormatYAML)
	if err != nil {
		f.t.Fatalf("import tree: %v %v", err, problems)
	}
	return info
}

func (f *fixture) importSites(text string) assess.ImportReport {
	f.t.Helper()
	rep, problems, err := f.svc.ImportSites(f.ctx, f.c.Admin, strings.NewReader(text), assess.FormatCSV)
	if err != nil {
		f.t.Fatalf("import sites: %v %v", err, problems)
	}
	return rep
}

// round is the test tree, the test sites and a round of all of them.
func (f *fixture) round() assess.Round {
	f.t.Helper()
	f.importTree(testTree)
	f.importSites(testSites)
	seed := uint64(1)
	rd, err := f.svc.CreateRound(f.ctx, f.c.Admin, assess.NewRound{Edition: "t-2026", Name: "十一月模拟测评", Seed: &seed})
	f.must(err)
	return rd
}

// problemsOf checks that an import failed with problems and returns them
// as "place: key" lines.
func problemsOf(t *testing.T, problems []assess.Problem, err error) []string {
	t.Helper()
	if !apperr.Is(err, apperr.Invalid) || len(problems) == 0 {
		t.Fatalf("want problems, got %v %v", err, problems)
	}
	if e, _ := apperr.As(err); e.Key != "assess.import_problems" {
		t.Errorf("error %v", err)
	}
	var out []string
	for _, p := range problems {
		out = append(out, p.Place()+": "+p.Key)
		if strings.Contains(p.Error(), "{") {
			t.Errorf("placeholder left: %s", p.Error())
		}
	}
	return out
}

func sameLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n%s\nwant:\n%s", what, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// The tree survives import and export in both forms; importing a code
// again makes the next version, a draft; a published version stays as
// it was.
func TestTreeImportExport(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		v1 := f.importTree(testTree)
		if v1.Code != "t-2026" || v1.Version != 1 || v1.Status != assess.StatusDraft {
			t.Fatalf("v1 = %+v", v1)
		}
		ed, problems := assess.Parse(strings.NewReader(testTree), assess.ParseOptions{})
		if len(problems) > 0 {
			t.Fatal(problems)
		}
		var want, got, sheet bytes.Buffer
		f.must(assess.Write(&want, ed))
		f.must(f.svc.ExportTree(f.ctx, f.c.Admin, "t-2026", 0, assess.FormatYAML, &got))
		if got.String() != want.String() {
			t.Errorf("YAML export:\n%s\nwant:\n%s", got.String(), want.String())
		}
		f.must(f.svc.ExportTree(f.ctx, f.c.Leader, "t-2026", 1, assess.FormatXLSX, &sheet))
		v2, problems, err := f.svc.ImportTree(f.ctx, f.c.Admin, bytes.NewReader(sheet.Bytes()), assess.FormatXLSX)
		if err != nil {
			t.Fatal(err, problems)
		}
		if v2.Version != 2 || v2.Status != assess.StatusDraft {
			t.Errorf("v2 = %+v", v2)
		}
		got.Reset()
		f.must(f.svc.ExportTree(f.ctx, f.c.Admin, "t-2026", 2, assess.FormatYAML, &got))
		if got.String() != want.String() {
			t.Errorf("YAML export of the XLSX import:\n%s\nwant:\n%s", got.String(), want.String())
		}
		if n := f.count("assess_site_types"); n != 3 {
			t.Errorf("%d site types after two imports of three names", n)
		}

		pub, err := f.svc.Publish(f.ctx, f.c.Admin, "t-2026", 1)
		if err != nil || pub.Status != assess.StatusPublished {
			t.Fatalf("publish: %+v %v", pub, err)
		}
		if _, err := f.svc.Publish(f.ctx, f.c.Admin, "t-2026", 1); !apperr.Is(err, apperr.Conflict) {
			t.Errorf("publishing twice: %v", err)
		}
		changed := strings.Replace(testTree, "name: 道路干净", "name: 道路整洁", 1)
		v3 := f.importTree(changed)
		if v3.Version != 3 || v3.Status != assess.StatusDraft {
			t.Errorf("v3 = %+v", v3)
		}
		got.Reset()
		f.must(f.svc.ExportTree(f.ctx, f.c.Admin, "t-2026", 1, assess.FormatYAML, &got))
		if got.String() != want.String() {
			t.Error("the published version changed")
		}
		list, err := f.svc.Editions(f.ctx, f.c.Acceptor)
		f.must(err)
		var vs []string
		for _, e := range list {
			vs = append(vs, fmt.Sprintf("%s v%d %s", e.Code, e.Version, e.Status))
		}
		sameLines(t, "editions", vs, []string{"t-2026 v1 published", "t-2026 v2 draft", "t-2026 v3 draft"})
		if err := f.svc.ExportTree(f.ctx, f.c.Admin, "nope", 0, assess.FormatYAML, &got); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("export of an unknown code: %v", err)
		}
		if err := f.svc.ExportTree(f.ctx, f.c.HandlerA, "t-2026", 0, assess.FormatYAML, &got); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("export by a handler: %v", err)
		}
	})
}

// An import with problems names each place and stores nothing.
func TestTreeImportProblems(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		before := f.counts()
		bad := strings.NewReplacer(
			"method: field, rule: deduct", "method: field, rule: graded",
			"lead_unit: B", "lead_unit: ZZ",
			`code: "A2.1"`, `code: "A1.1"`,
		).Replace(testTree)
		_, problems, err := f.svc.ImportTree(f.ctx, f.c.Admin, strings.NewReader(bad), assess.FormatYAML)
		sameLines(t, "YAML problems", problemsOf(t, problems, err), []string{
			"projects[0].contents[0].standards[1].rule (line 13): assess.rule_method",
			"projects[0].contents[0].standards[1].per_problem (line 13): assess.per_problem_not_used",
			"projects[0].contents[0].standards[1].lead_unit (line 13): assess.unknown_unit",
			"projects[0].contents[1].standards[0].code (line 17): assess.dup_code",
		})
		f.unchanged(before)

		// The same mistakes in a sheet are placed by row and column.
		ed, _ := assess.Parse(strings.NewReader(testTree), assess.ParseOptions{})
		ed.Projects[0].Contents[0].Standards[1].LeadUnit = "ZZ"
		ed.Projects[0].Contents[1].Standards[0].Code = "A1.1"
		var sheet bytes.Buffer
		f.must(assess.WriteXLSX(&sheet, ed))
		_, problems, err = f.svc.ImportTree(f.ctx, f.c.Admin, bytes.NewReader(sheet.Bytes()), assess.FormatXLSX)
		sameLines(t, "XLSX problems", problemsOf(t, problems, err), []string{
			"sheet 测评体系, row 7, column N (lead_unit): assess.unknown_unit",
			"sheet 测评体系, row 8, column G (code): assess.dup_code",
		})
		f.unchanged(before)

		_, _, err = f.svc.ImportTree(f.ctx, f.c.Inspector, strings.NewReader(testTree), assess.FormatYAML)
		if !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("inspector imports a tree: %v", err)
		}
		_, _, err = f.svc.ImportTree(f.ctx, f.c.Admin, strings.NewReader(testTree), assess.FormatCSV)
		if !apperr.Is(err, apperr.Invalid) {
			t.Errorf("tree as CSV: %v", err)
		}
		f.unchanged(before)
	})
}

// Sites from CSV and XLSX; a re-import updates; every problem names its
// row and column and stores nothing.
func TestSitesImport(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.importTree(testTree)
		if rep := f.importSites(testSites); rep.Created != 8 || rep.Updated != 0 {
			t.Errorf("first import: %+v", rep)
		}
		sites, err := f.svc.Sites(f.ctx, f.c.Admin)
		f.must(err)
		var got []string
		for _, s := range sites {
			got = append(got, fmt.Sprintf("%s %s %s %s %s", s.Code, s.Type, s.Region, s.Unit, s.Chief))
		}
		sameLines(t, "sites", got, []string{
			"S01 主次干道 330102001001 A 张三", "S02 主次干道 330102001 B ", "S03 农贸市场 330102  ",
			"S04 主次干道 330105001001 A ", "S05 农贸市场 330105001 B 李四", "S06 公共厕所 330102001001  ",
			"S07 公共厕所 330105  ", "S08 主次干道 330105  ",
		})
		if s := sites[5]; s.Lat == nil || *s.Lat != 30.2505 || *s.Lon != 120.1505 {
			t.Errorf("S06 point: %+v", s)
		}

		// Re-import: S02 changes unit and name; S09 is new.
		rep := f.importSites("code,name,type,region,unit\nS02,河坊街(东),主次干道,330102001,A\nS09,新点位,主次干道,330105001,\n")
		if rep.Created != 1 || rep.Updated != 1 || rep.Rows != 2 {
			t.Errorf("re-import: %+v", rep)
		}
		sites, _ = f.svc.Sites(f.ctx, f.c.Admin)
		if s := sites[1]; s.Name != "河坊街(东)" || s.Unit != "A" || len(sites) != 9 {
			t.Errorf("S02 after re-import: %+v (%d sites)", s, len(sites))
		}

		// XLSX: the export imports back unchanged.
		var sheet, csv1, csv2 bytes.Buffer
		f.must(f.svc.ExportSites(f.ctx, f.c.Admin, assess.FormatXLSX, &sheet))
		f.must(f.svc.ExportSites(f.ctx, f.c.Admin, assess.FormatCSV, &csv1))
		rep, problems, err := f.svc.ImportSites(f.ctx, f.c.Admin, bytes.NewReader(sheet.Bytes()), assess.FormatXLSX)
		if err != nil || rep.Updated != 9 || rep.Created != 0 {
			t.Fatalf("XLSX re-import: %+v %v %v", rep, err, problems)
		}
		f.must(f.svc.ExportSites(f.ctx, f.c.Admin, assess.FormatCSV, &csv2))
		if csv1.String() != csv2.String() {
			t.Errorf("sites changed by their own export:\n%s\n%s", csv1.String(), csv2.String())
		}

		before := f.counts()
		bad := `code,name,type,region,lat,lon,address,unit,chief
S10,甲,主次干道,3301,,,,,
S11,乙,主干道,330102,,,,,
S12,丙,主次干道,999999,,,,,
S13,丁,主次干道,,91,120,,,
S14,戊,主次干道,,39.9,116.4,,,
S15,,主次干道,330102,,,,,
S10,己,主次干道,330102,,,,ZZ,
S 16,庚,主次干道,330102,,,,,
S17,辛,主次干道,,,,,,
S18,壬,主次干道,,30.2505,abc,,,
`
		_, problems, err = f.svc.ImportSites(f.ctx, f.c.Admin, strings.NewReader(bad), assess.FormatCSV)
		sameLines(t, "CSV problems", problemsOf(t, problems, err), []string{
			"row 2, column region: assess.city_region",
			"row 3, column type: assess.unknown_site_type",
			"row 4, column region: assess.unknown_region",
			"row 5, column lat: assess.coordinates",
			"row 6, column lat: assess.unlocated",
			"row 7, column name: assess.missing",
			"row 8, column code: assess.dup_row",
			"row 8, column unit: assess.unknown_unit",
			"row 9, column code: assess.bad_code",
			"row 10, column region: assess.no_place",
			"row 11, column lon: assess.coordinates",
		})
		for _, p := range problems {
			if p.Key == "assess.dup_row" && (p.Arg("first_row") != "2" || p.Error() != "row 8, column code: S10 is already on row 2") {
				t.Errorf("dup: %s", p.Error())
			}
		}
		_, problems, err = f.svc.ImportSites(f.ctx, f.c.Admin, strings.NewReader("code,name,kind\nS1,x,y\n"), assess.FormatCSV)
		sameLines(t, "header problems", problemsOf(t, problems, err), []string{"row 1: assess.unknown_column", "row 1: assess.header_missing"})
		_, problems, err = f.svc.ImportSites(f.ctx, f.c.Admin, strings.NewReader("code,name,type\n"), assess.FormatCSV)
		sameLines(t, "no rows", problemsOf(t, problems, err), []string{": assess.no_rows"})

		// The same problems in a sheet name the sheet and the column's letter.
		rows := strings.Split(strings.TrimSpace(bad), "\n")
		var cells [][]string
		for _, r := range rows[:4] {
			cells = append(cells, strings.Split(r, ","))
		}
		var xl bytes.Buffer
		f.must(writeXLSX(&xl, "点位", cells))
		_, problems, err = f.svc.ImportSites(f.ctx, f.c.Admin, bytes.NewReader(xl.Bytes()), assess.FormatXLSX)
		sameLines(t, "XLSX problems", problemsOf(t, problems, err), []string{
			"sheet 点位, row 2, column D (region): assess.city_region",
			"sheet 点位, row 3, column C (type): assess.unknown_site_type",
			"sheet 点位, row 4, column D (region): assess.unknown_region",
		})
		f.unchanged(before)
	})
}

// The same sites, plan and seed draw the same sample on SQLite and
// PostgreSQL, whatever order the sites were imported in, and it is the
// sample assess.Sample draws from the plain list.
func TestSampleSameOnBothEngines(t *testing.T) {
	var lines []string
	var pure []assess.Site
	types := []string{"主次干道", "农贸市场", "公共厕所"}
	places := []string{"330102001001", "330102001", "330102", "330105001001", "330105001", "330105"}
	for i := 0; i < 240; i++ {
		code := fmt.Sprintf("P%03d", (i*97)%240) // codes not in import order
		typ, region := types[i%3], places[(i/3)%6]
		lines = append(lines, fmt.Sprintf("%s,点位%d,%s,%s", code, i, typ, region))
		pure = append(pure, assess.Site{Code: code, Type: typ, District: region[:6]})
	}
	plan, err := assess.ParsePlan("主次干道:7，农贸市场:3,公共厕所:100")
	if err != nil {
		t.Fatal(err)
	}
	const seed = 20261116
	drawn, err := assess.Sample(pure, plan, seed)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, s := range drawn {
		want = append(want, s.Code)
	}
	if len(want) != 2*7+2*3+80 {
		t.Fatalf("pure sample of %d", len(want))
	}
	draw := func(t *testing.T, db *store.DB, order []string) []string {
		f := newFixture(t, db)
		f.importTree(testTree)
		f.importSites("code,name,type,region\n" + strings.Join(order, "\n") + "\n")
		s := uint64(seed)
		rd, err := f.svc.CreateRound(f.ctx, f.c.Admin, assess.NewRound{Edition: "t-2026", Name: "抽样", Plan: "主次干道:7，农贸市场:3,公共厕所:100", Seed: &s, Date: "2026-11-20"})
		f.must(err)
		if rd.Code != "R2026-01" || rd.Sites != len(want) || rd.Plan != "主次干道:7,农贸市场:3,公共厕所:100" {
			t.Errorf("round %+v", rd)
		}
		sites, err := f.svc.RoundSites(f.ctx, f.c.Leader, rd.Code)
		f.must(err)
		var got []string
		for _, s := range sites {
			got = append(got, s.Code)
		}
		return got
	}
	reversed := slices.Clone(lines)
	slices.Reverse(reversed)
	sameLines(t, "SQLite sample", draw(t, testcity.SQLite(t), lines), want)
	sameLines(t, "SQLite sample, sites imported in reverse", draw(t, testcity.SQLite(t), reversed), want)
	sameLines(t, "PostgreSQL sample", draw(t, testcity.Postgres(t), reversed), want)
}

func TestCreateRound(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		rd := f.round()
		if rd.Code != "R2026-01" || rd.Date != "2026-11-16" || rd.State != assess.RoundDraft || rd.Sites != 8 || rd.Plan != "all" || rd.EditionVersion != 1 || rd.Seed != 1 {
			t.Errorf("round %+v", rd)
		}
		got, err := f.svc.Round(f.ctx, f.c.Admin, rd.Code)
		if err != nil || fmt.Sprint(got) != fmt.Sprint(rd) {
			t.Errorf("stored round %+v %v, want %+v", got, err, rd)
		}
		// A draft version made later is what the next round binds.
		f.importTree(testTree)
		rd2, err := f.svc.CreateRound(f.ctx, f.c.Admin, assess.NewRound{Edition: "t-2026", Name: "第二轮", Plan: "农贸市场:1", Date: "2026-12-01"})
		f.must(err)
		if rd2.Code != "R2026-02" || rd2.EditionVersion != 2 || rd2.Sites != 2 || rd2.Seed >= assess.MaxRandomSeed {
			t.Errorf("second round %+v", rd2)
		}
		sites, _ := f.svc.RoundSites(f.ctx, f.c.Admin, rd2.Code)
		if len(sites) != 2 || sites[0].Type != "农贸市场" || sites[1].Type != "农贸市场" {
			t.Errorf("one market per district: %+v", sites)
		}
		for _, c := range []struct {
			in   assess.NewRound
			code apperr.Code
			key  string
		}{
			{assess.NewRound{Edition: "t-2026"}, apperr.Invalid, "assess.name_required"},
			{assess.NewRound{Edition: "nope", Name: "x"}, apperr.NotFound, "assess.no_edition"},
			{assess.NewRound{Edition: "t-2026", Name: "x", Plan: "学校:2"}, apperr.Invalid, "assess.plan_type"},
			{assess.NewRound{Edition: "t-2026", Name: "x", Plan: "农贸市场:0"}, apperr.Invalid, "assess.bad_plan"},
			{assess.NewRound{Edition: "t-2026", Name: "x", Date: "2026-13-01"}, apperr.Invalid, "assess.bad_date"},
		} {
			_, err := f.svc.CreateRound(f.ctx, f.c.Admin, c.in)
			if e, ok := apperr.As(err); !ok || e.Code != c.code || e.Key != c.key {
				t.Errorf("%+v: %v, want %s %s", c.in, err, c.code, c.key)
			}
		}
		if _, err := f.svc.CreateRound(f.ctx, f.c.Leader, assess.NewRound{Edition: "t-2026", Name: "x"}); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("leader creates a round: %v", err)
		}
		if _, err := f.svc.RoundSites(f.ctx, f.c.HandlerA, rd.Code); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("handler reads a sample: %v", err)
		}
	})
}

// Observations: every row problem named, nothing stored; a good file
// stores all; a re-import replaces; a closed round takes nothing.
func TestObservationsImport(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		rd := f.round()
		f.importSites("code,name,type,region\nS99,新点位,主次干道,330102\n") // after the draw: not sampled
		before := f.counts()
		bad := `site,standard,result,problems,note
S01,A1.1,pass,,
S99,A1.1,pass,,
S77,A1.1,pass,,
S01,Z9,pass,,
S06,A1.1,pass,,
S01,B1.1,pass,,
S01,A1.2,good,,
S02,A1.2,fail,-1,
S01,A1.1,fail,,
S01,N1,fail,,
,A1.1,,,
`
		_, problems, err := f.svc.ImportObservations(f.ctx, f.c.Admin, rd.Code, strings.NewReader(bad))
		sameLines(t, "observation problems", problemsOf(t, problems, err), []string{
			"row 3, column site: assess.not_sampled",
			"row 4, column site: assess.unknown_site",
			"row 5, column standard: assess.unknown_standard",
			"row 6, column standard: assess.type_excluded",
			"row 7, column standard: assess.not_observed",
			"row 8, column result: assess.bad_result",
			"row 9, column problems: assess.bad_problems",
			"row 10: assess.dup_row",
			"row 11, column standard: assess.type_excluded",
			"row 12, column site: assess.missing",
			"row 12, column result: assess.missing",
		})
		for _, p := range problems {
			if p.Key == "assess.type_excluded" && p.Line == 6 && p.Error() != "row 6, column standard: standard A1.1 does not apply to sites of type 公共厕所" {
				t.Errorf("text: %s", p.Error())
			}
		}
		f.unchanged(before)

		rep, problems, err := f.svc.ImportObservations(f.ctx, f.c.Admin, rd.Code, strings.NewReader(testObservations))
		if err != nil || rep.Created != 12 || rep.Updated != 0 {
			t.Fatalf("import: %+v %v %v", rep, err, problems)
		}
		if got, _ := f.svc.Round(f.ctx, f.c.Admin, rd.Code); got.State != assess.RoundInProgress {
			t.Errorf("state after the first import: %s", got.State)
		}
		rep, _, err = f.svc.ImportObservations(f.ctx, f.c.Admin, rd.Code, strings.NewReader("site,standard,result\nS01,A1.1,fail\nS07,A2.1,pass\nS08,A1.1,pass\n"))
		if err != nil || rep.Created != 1 || rep.Updated != 2 {
			t.Errorf("re-import: %+v %v", rep, err)
		}
		var result, source string
		f.must(db.Reader().QueryRow(f.ctx, `SELECT o.result, o.source FROM assess_observations o JOIN assess_sites s ON s.id = o.site_id WHERE s.code = 'S01' AND o.standard = 'A1.1'`).Scan(&result, &source))
		if result != "fail" || source != assess.SourceImport || f.count("assess_observations") != 13 {
			t.Errorf("S01 A1.1 = %s %s; %d observations", result, source, f.count("assess_observations"))
		}
		// Notes are kept as written, whatever they hold.
		note := "井盖\"松动\"，\\ 见照片\n第二行\t\u0001 😀"
		_, _, err = f.svc.ImportObservations(f.ctx, f.c.Admin, rd.Code, strings.NewReader("site,standard,result,problems,note\nS05,A1.1,fail,2,\""+strings.ReplaceAll(note, `"`, `""`)+"\"\n"))
		f.must(err)
		var stored string
		var nProblems int
		f.must(db.Reader().QueryRow(f.ctx, `SELECT o.note, o.problems FROM assess_observations o JOIN assess_sites s ON s.id = o.site_id WHERE s.code = 'S05' AND o.standard = 'A1.1'`).Scan(&stored, &nProblems))
		if stored != strings.TrimSpace(note) || nProblems != 2 {
			t.Errorf("note %q (%d problems), want %q", stored, nProblems, note)
		}

		_, err = db.Exec(f.ctx, `UPDATE assess_rounds SET state = 'closed' WHERE id = ?`, rd.ID)
		f.must(err)
		if _, _, err := f.svc.ImportObservations(f.ctx, f.c.Admin, rd.Code, strings.NewReader(testObservations)); !apperr.Is(err, apperr.Conflict) {
			t.Errorf("closed round took observations: %v", err)
		}
		if _, _, err := f.svc.ImportResults(f.ctx, f.c.Admin, rd.Code, strings.NewReader(testResults)); !apperr.Is(err, apperr.Conflict) {
			t.Errorf("closed round took values: %v", err)
		}
		if _, _, err := f.svc.ImportObservations(f.ctx, f.c.Admin, "R1999-01", strings.NewReader(testObservations)); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("unknown round: %v", err)
		}
	})
}

func TestResultsImport(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		rd := f.round()
		before := f.counts()
		bad := `region,standard,value
330102,B1.1,1.2
330102001,B1.1,0.5
999,B1.1,0.5
,A1.1,1
,N1,1
,B1.2,4.5
,B1.2,0.5e1
330105,B1.1,0.9
330105,B1.1,0.8
,B1.3,1
`
		_, problems, err := f.svc.ImportResults(f.ctx, f.c.Admin, rd.Code, strings.NewReader(bad))
		sameLines(t, "result problems", problemsOf(t, problems, err), []string{
			"row 2, column value: assess.value_range",
			"row 3, column region: assess.not_district",
			"row 4, column region: assess.unknown_region",
			"row 5, column standard: assess.not_valued",
			"row 6, column standard: assess.not_valued",
			"row 7, column value: assess.value_range",
			"row 8, column value: assess.bad_number",
			"row 8: assess.dup_row",
			"row 10: assess.dup_row",
			"row 11, column standard: assess.unknown_standard",
		})
		f.unchanged(before)
		rep, problems, err := f.svc.ImportResults(f.ctx, f.c.Admin, rd.Code, strings.NewReader(testResults))
		if err != nil || rep.Created != 3 {
			t.Fatalf("import: %+v %v %v", rep, err, problems)
		}
		rep, _, err = f.svc.ImportResults(f.ctx, f.c.Admin, rd.Code, strings.NewReader("region,standard,value\n,B1.2,3.50\n330102,B1.2,4\n"))
		if err != nil || rep.Created != 1 || rep.Updated != 1 {
			t.Errorf("re-import: %+v %v", rep, err)
		}
		var v string
		f.must(db.Reader().QueryRow(f.ctx, `SELECT value FROM assess_results WHERE region_id IS NULL AND standard = 'B1.2'`).Scan(&v))
		if v != "3.5" {
			t.Errorf("stored value %q", v)
		}
	})
}

// pureRound is the test round as plain values, from the test's own
// tables rather than the database.
func pureRound(t *testing.T) (assess.Edition, []assess.Observation, []assess.Value) {
	t.Helper()
	ed, problems := assess.Parse(strings.NewReader(testTree), assess.ParseOptions{})
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	var obs []assess.Observation
	for i, line := range strings.Split(strings.TrimSpace(testObservations), "\n")[1:] {
		f := strings.Split(line, ",")
		n := 0
		fmt.Sscan(f[3], &n)
		p := testPlaces[f[0]]
		obs = append(obs, assess.Observation{ID: int64(i + 1), Place: p.place, Unit: p.unit, Standard: f[1], Result: assess.Outcome(f[2]), Problems: n})
	}
	var values []assess.Value
	for _, line := range strings.Split(strings.TrimSpace(testResults), "\n")[1:] {
		f := strings.Split(line, ",")
		x, _ := assess.ParseDecimal(f[2])
		values = append(values, assess.Value{Region: f[0], Standard: f[1], Value: x})
	}
	return ed, obs, values
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The scores and ledger of an imported round are the pure functions'
// over the same plain values, in every kind of scope, and each ledger
// adds up exactly to the points lost.
func TestScoresAndLedger(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		rd := f.round()
		_, _, err := f.svc.ImportObservations(f.ctx, f.c.Admin, rd.Code, strings.NewReader(testObservations))
		f.must(err)
		_, _, err = f.svc.ImportResults(f.ctx, f.c.Admin, rd.Code, strings.NewReader(testResults))
		f.must(err)
		ed, obs, values := pureRound(t)
		for _, sc := range []assess.Scope{
			assess.CityScope("3301"), assess.DistrictScope("330102"), assess.DistrictScope("330105"),
			{Level: assess.LevelStreet, Code: "330102001"}, {Level: assess.LevelCommunity, Code: "330102001001"},
		} {
			region := sc.Code
			if sc.Level == assess.LevelCity {
				region = ""
			}
			got, err := f.svc.Scores(f.ctx, f.c.Leader, rd.Code, region)
			f.must(err)
			want, err := assess.Score(ed, obs, values, sc)
			f.must(err)
			districts, err := assess.ScoreDistricts(ed, obs, values, sc, []string{"330102", "330105"})
			f.must(err)
			if a, b := jsonOf(t, got.Doc()), jsonOf(t, want.Doc(rd.Code, districts)); a != b {
				t.Errorf("%v scores:\n%s\nwant:\n%s", sc, a, b)
			}
			ledger, err := f.svc.Ledger(f.ctx, f.c.Acceptor, rd.Code, region)
			f.must(err)
			wantLedger, err := assess.Attribute(ed, obs, values, sc, assess.Split{})
			f.must(err)
			if a, b := jsonOf(t, ledger.Doc(rd.Code)), jsonOf(t, wantLedger.Doc(rd.Code)); a != b {
				t.Errorf("%v ledger:\n%s\nwant:\n%s", sc, a, b)
			}
			sum := new(big.Rat).Set(ledger.Unattributed)
			for _, u := range ledger.Units {
				sum.Add(sum, u.Lost)
			}
			if sum.Cmp(ledger.Lost) != 0 || ledger.Lost.Cmp(got.Scores.Lost()) != 0 {
				t.Errorf("%v: ledger sums to %s, lost %s, scores lost %s", sc, sum.RatString(), ledger.Lost.RatString(), got.Scores.Lost().RatString())
			}
		}
		// Numbers worked by hand for the city: A1.1 4 × 2/4 = 2; A1.2
		// 2 − 0.5 × (3 + 1 + 5) = 0 (floor); A2.1 4 × 1/2 = 2; B1.1 6 ×
		// mean(0.8, 0.9) = 5.1; B1.2 3.5: 12.6 of 20; vetoed by S03's N1.
		// Lost 7.4: B answers for S02's and S05's A1.1 (1 each) and for
		// S02's and S08's A1.2 (no site unit: the lead unit) scaled by 2 ÷
		// 4.5 (2/9 + 10/9); A for S01's A1.2 (2/3) and B1.1 (0.9); S07's
		// A2.1 (2) and B1.2 (0.5) have no unit.
		city, err := f.svc.Scores(f.ctx, f.c.Admin, rd.Code, "")
		f.must(err)
		doc := jsonOf(t, city.Doc())
		if !strings.HasPrefix(doc, `{"round":"R2026-01","scope":"3301","score":12.6,"max":20,"rate":0.63,"vetoed":true,`) {
			t.Errorf("city doc %s", doc)
		}
		ledger, err := f.svc.Ledger(f.ctx, f.c.Admin, rd.Code, "")
		f.must(err)
		if d := jsonOf(t, ledger.Doc(rd.Code)); d != `{"round":"R2026-01","scope":"3301","lost":7.4,"units":[{"code":"B","lost":3.33,"items":4},{"code":"A","lost":1.57,"items":2}],"unattributed":2.5}` {
			t.Errorf("city ledger %s", d)
		}

		// Scope checks: a district leader reads the district, not the city.
		dl := f.c.User(t, org.NewUser{Username: "leader-d1", Role: org.RoleLeader, Scope: org.ScopeRegion, ScopeRegionID: f.c.District1.ID})
		if _, err := f.svc.Scores(f.ctx, dl, rd.Code, "330102001"); err != nil {
			t.Errorf("district leader, own street: %v", err)
		}
		for _, region := range []string{"", "330105"} {
			if _, err := f.svc.Ledger(f.ctx, dl, rd.Code, region); !apperr.Is(err, apperr.Forbidden) {
				t.Errorf("district leader reads %q: %v", region, err)
			}
		}
		if _, err := f.svc.Scores(f.ctx, f.c.Inspector, rd.Code, ""); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("inspector reads scores: %v", err)
		}
		if _, err := f.svc.Scores(f.ctx, f.c.Admin, rd.Code, "000000"); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("unknown region: %v", err)
		}

		// The sample keeps a site's unit and region as drawn.
		f.importSites("code,name,type,region,unit\nS02,河坊街,主次干道,330105,A\n")
		again, err := f.svc.Ledger(f.ctx, f.c.Admin, rd.Code, "")
		f.must(err)
		if jsonOf(t, again.Doc(rd.Code)) != jsonOf(t, ledger.Doc(rd.Code)) {
			t.Error("moving a site changed a drawn round's ledger")
		}
	})
}

// writeXLSX writes rows of text as a one-sheet workbook.
func writeXLSX(w io.Writer, sheet string, rows [][]string) error {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	for r, rec := range rows {
		for c, v := range rec {
			cell, err := excelize.CoordinatesToCellName(c+1, r+1)
			if err != nil {
				return err
			}
			if err := f.SetCellStr(sheet, cell, v); err != nil {
				return err
			}
		}
	}
	return f.Write(w)
}

// The console's catalogue has every problem key in both languages, with
// no placeholder the key does not carry.
func TestCatalogueHasEveryProblemKey(t *testing.T) {
	msg, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	placeholder := regexp.MustCompile(`\{([a-z_]+)\}`)
	for key, args := range assess.ProblemKeys() {
		for _, lang := range []string{"zh-CN", "en"} {
			if !msg.Has(key) {
				t.Errorf("%s: not in the catalogue", key)
				continue
			}
			text := msg.T(lang, key)
			for _, m := range placeholder.FindAllStringSubmatch(text, -1) {
				if !slices.Contains(args, m[1]) {
					t.Errorf("%s %s: {%s} is not an argument of the key", lang, key, m[1])
				}
			}
		}
	}
}
