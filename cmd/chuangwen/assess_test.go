package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"chuangwen/internal/assess"
	"chuangwen/internal/org"
	"chuangwen/internal/pdfdoc"
	"chuangwen/internal/pdfdoc/pdftest"

	"github.com/xuri/excelize/v2"
)

const cmdTree = `edition: t-2026
name: 测试体系(示例)
site_types: [主次干道, 农贸市场]
projects:
  - code: "A"
    name: 公共环境
    contents:
      - code: "A1"
        name: 市容市貌
        standards:
          - {code: "A1.1", name: 道路干净, points: 4, method: field, rule: pass_rate, site_types: [主次干道, 农贸市场], lead_unit: A}
          - {code: "A1.2", name: 无乱张贴, points: 2, method: field, rule: deduct, per_problem: 0.5, site_types: [主次干道], lead_unit: B}
      - code: "A2"
        name: 满意度
        standards:
          - {code: "A2.1", name: 市民满意度, points: 4, method: survey, rule: survey}
negative_list:
  - {code: N1, name: 重大安全事故}
`

// TestAssessCommands runs the assessment commands in the forms the
// contract fixes, on one data folder.
func TestAssessCommands(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	data, dir := t.TempDir(), t.TempDir()
	d := "--data=" + data
	err := withApp(ctx, "test", []string{d}, io.Discard, nil, func(a *app) error {
		city, err := a.orgs.CreateRegion(ctx, org.System, org.Region{Code: "3301", Name: "测试市", Level: "city"})
		if err != nil {
			return err
		}
		d1, err := a.orgs.CreateRegion(ctx, org.System, org.Region{Code: "330102", Name: "甲区", Level: "district", ParentID: city.ID})
		if err != nil {
			return err
		}
		if _, err := a.orgs.CreateRegion(ctx, org.System, org.Region{Code: "330102001", Name: "甲街道", Level: "street", ParentID: d1.ID}); err != nil {
			return err
		}
		if _, err := a.orgs.CreateRegion(ctx, org.System, org.Region{Code: "330105", Name: "乙区", Level: "district", ParentID: city.ID}); err != nil {
			return err
		}
		for _, u := range []string{"A", "B"} {
			if _, err := a.orgs.CreateUnit(ctx, org.System, org.Unit{Code: u, Name: "单位" + u, Kind: "department"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	file := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	must := func(args ...string) string {
		t.Helper()
		out, err := runCmd(t, args...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		return out
	}

	if out := must("assess", "import-tree", d, "--file", file("tree.yaml", cmdTree)); lastLine(out) != "t-2026" {
		t.Errorf("import-tree: %s", out)
	}
	ed, _ := assess.Parse(strings.NewReader(cmdTree), assess.ParseOptions{})
	var sheet bytes.Buffer
	if err := assess.WriteXLSX(&sheet, ed); err != nil {
		t.Fatal(err)
	}
	if out := must("assess", "import-tree", d, "--file", file("tree.xlsx", sheet.String())); lastLine(out) != "t-2026" || !strings.Contains(out, "version 2 (draft)") {
		t.Errorf("import-tree xlsx: %s", out)
	}
	out, err := runCmd(t, "assess", "import-tree", d, "--file", file("bad.yaml", strings.Replace(cmdTree, "lead_unit: B", "lead_unit: Z", 1)))
	if err == nil || !strings.Contains(out, "projects[0].contents[0].standards[1].lead_unit (line 12): unknown unit code Z") || !strings.Contains(err.Error(), "1 problem; nothing was imported") {
		t.Errorf("bad tree: %v\n%s", err, out)
	}

	sites := "code,name,type,region,lat,lon,address,unit,chief\nS1,甲路,主次干道,330102001,,,,A,\nS2,甲市场,农贸市场,330102,,,,,\nS3,乙路,主次干道,330105,,,,B,\n"
	if out := must("assess", "import-sites", d, "--file", file("sites.csv", sites)); !strings.Contains(out, "3 rows, 3 new") {
		t.Errorf("import-sites: %s", out)
	}
	out = must("assess", "round", "create", d, "--edition", "t-2026", "--name", "十一月模拟测评", "--sample", "all", "--seed", "7", "--date", "2026-11-16")
	round := lastLine(out)
	if round != "R2026-01" || !strings.Contains(out, "edition t-2026 version 2") {
		t.Errorf("round create: %s", out)
	}
	if out := must("assess", "round", "sites", d, "--round", round); out != "S1\nS2\nS3\n" {
		t.Errorf("round sites: %q", out)
	}

	bad := file("bad.csv", "site,standard,result,problems,note\nS1,A1.1,pass,,\nS9,A1.1,pass,,\nS2,A1.2,fail,1,\n")
	out, err = runCmd(t, "assess", "import-observations", d, "--round", round, "--file", bad)
	if err == nil || !strings.Contains(out, "bad.csv: row 3, column site: unknown site code S9") ||
		!strings.Contains(out, "bad.csv: row 4, column standard: standard A1.2 does not apply to sites of type 农贸市场") {
		t.Errorf("bad observations: %v\n%s", err, out)
	}
	obs := file("obs.csv", "site,standard,result,problems,note\nS1,A1.1,pass,,\nS1,A1.2,fail,3,乱张贴\nS2,A1.1,fail,,\nS2,N1,fail,,\nS3,A1.1,fail,,\nS3,A1.2,pass,,\n")
	if out := must("assess", "import-observations", d, "--round", round, "--file", obs); !strings.Contains(out, "6 rows, 6 new, 0 replaced") {
		t.Errorf("import-observations: %s", out)
	}
	if out := must("assess", "import-results", d, "--round", round, "--file", file("results.csv", "region,standard,value\n330102,A2.1,0.8\n,A2.1,0.75\n")); !strings.Contains(out, "2 rows, 2 new") {
		t.Errorf("import-results: %s", out)
	}

	// The JSON documents are the package's, byte for byte.
	for _, region := range []string{"", "330102", "330102001"} {
		args := []string{"--round", round, "--json"}
		if region != "" {
			args = append(args, "--region", region)
		}
		gotScores := must(append([]string{"assess", "scores", d}, args...)...)
		gotLedger := must(append([]string{"assess", "ledger", d}, args...)...)
		var wantScores, wantLedger []byte
		err := withApp(ctx, "test", []string{d}, io.Discard, nil, func(a *app) error {
			svc := &assess.Service{DB: a.db, Location: a.loc}
			sc, err := svc.Scores(ctx, org.System, round, region)
			if err != nil {
				return err
			}
			l, err := svc.Ledger(ctx, org.System, round, region)
			if err != nil {
				return err
			}
			wantScores, _ = json.Marshal(sc.Doc())
			wantLedger, _ = json.Marshal(l.Doc(round))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if gotScores != string(wantScores)+"\n" || gotLedger != string(wantLedger)+"\n" {
			t.Errorf("region %q:\n%s%s\nwant:\n%s\n%s", region, gotScores, gotLedger, wantScores, wantLedger)
		}
	}
	// City: A1.1 4 × 1/3, A1.2 2 − 0.5 × 3 = 0.5, A2.1 4 × 0.75 = 3.
	// Lost: A1.1's failures 4/3 each (S2 has no unit: the lead unit A;
	// S3's unit B), A1.2's 1.5 (S1's unit A), A2.1's 1 (no lead unit).
	if out := must("assess", "scores", d, "--round", round, "--json"); !strings.HasPrefix(out, `{"round":"R2026-01","scope":"3301","score":4.83,"max":10,"rate":0.4833,"vetoed":true,`) {
		t.Errorf("city scores: %s", out)
	}
	if out := must("assess", "ledger", d, "--round", round, "--json"); out != `{"round":"R2026-01","scope":"3301","lost":5.17,"units":[{"code":"A","lost":2.83,"items":2},{"code":"B","lost":1.33,"items":1}],"unattributed":1}`+"\n" {
		t.Errorf("city ledger: %s", out)
	}
	if out := must("assess", "scores", d, "--round", round); !strings.Contains(out, "VETOED by N1") || !strings.Contains(out, "districts:") {
		t.Errorf("scores as text: %s", out)
	}
	if out := must("assess", "ledger", d, "--round", round, "--region", "330105"); !strings.Contains(out, "4 points lost") {
		t.Errorf("ledger as text: %s", out)
	}
	// Closing stores the figures; check recomputes them and agrees, and
	// says so by its exit status when a stored observation is altered.
	if out, err := runCmd(t, "assess", "check", d, "--round", round); err == nil {
		t.Errorf("check of an open round: %s", out)
	}
	if out := must("assess", "round", "close", d, "--round", round); !strings.Contains(out, "closed") {
		t.Errorf("round close: %s", out)
	}
	if out := must("assess", "check", d, "--round", round); !strings.Contains(out, "equal") {
		t.Errorf("check: %s", out)
	}
	err = withApp(ctx, "test", []string{d}, io.Discard, nil, func(a *app) error {
		_, err := a.db.Exec(ctx, `UPDATE assess_observations SET problems = 1 WHERE standard = 'A1.2' AND result = 'fail'`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if out, err := runCmd(t, "assess", "check", d, "--round", round); err == nil || !strings.Contains(out, "differences") {
		t.Errorf("check after a change: %v\n%s", err, out)
	}
	for _, args := range [][]string{
		{"assess", "scores", d, "--round", "R1999-09", "--json"},
		{"assess", "scores", d, "--json"},
		{"assess", "round", "create", d, "--edition", "t-2026", "--name", "x", "--seed", "-1"},
		{"assess", "import-sites", d, "--file", file("sites.txt", sites)},
		{"assess", "frobnicate", d},
	} {
		if out, err := runCmd(t, args...); err == nil {
			t.Errorf("%v: no error\n%s", args, out)
		}
	}
}

func TestReportCommands(t *testing.T) {
	t.Parallel()
	d := "--data=" + t.TempDir()
	out, err := runCmd(t, "report", "quarterly", d, "--quarter", "2026Q5")
	if err == nil {
		t.Errorf("a bad quarter: %s", out)
	}
	out, err = runCmd(t, "report", "quarterly", d, "--quarter", "2026Q4", "--format", "json")
	if err != nil || !strings.HasPrefix(out, `{"quarter":"2026Q4","from":"2026-10-01","to":"2026-12-31"`) {
		t.Fatalf("quarterly: %v %s", err, out)
	}
	out, err = runCmd(t, "report", "publish", d, "--quarter", "2026Q4")
	if err != nil || lastLine(out) != "2026Q4-1" {
		t.Fatalf("publish: %v %s", err, out)
	}
	if out, err := runCmd(t, "report", "verify", d, "--bulletin", "2026Q4-1"); err != nil || !strings.Contains(out, "every figure recomputes") {
		t.Errorf("verify: %v %s", err, out)
	}
	if out, err := runCmd(t, "report", "verify", d, "--bulletin", "2026Q4-9"); err == nil {
		t.Errorf("verify of an unknown bulletin: %s", out)
	}
	xlsx := filepath.Join(t.TempDir(), "q.xlsx")
	if out, err := runCmd(t, "report", "quarterly", d, "--quarter", "2026Q4", "--format", "xlsx", "--out", xlsx); err != nil {
		t.Fatalf("xlsx: %v %s", err, out)
	}
	f, err := excelize.OpenFile(xlsx)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if sheets := f.GetSheetList(); len(sheets) != 5 || sheets[0] != "区县文明指数" || sheets[4] != "志愿服务" {
		t.Errorf("sheets %v", sheets)
	}
	// The printed forms of the three documents, to a file and to standard output.
	pdf := filepath.Join(t.TempDir(), "q.pdf")
	if out, err := runCmd(t, "report", "quarterly", d, "--quarter", "2026Q4", "--format", "pdf", "--out", pdf); err != nil {
		t.Fatalf("pdf: %v %s", err, out)
	}
	raw, err := os.ReadFile(pdf)
	if err != nil {
		t.Fatal(err)
	}
	if text, fonts := pdftest.Read(t, raw); !pdftest.Contains(text, "2026Q4 季度通报") || !pdftest.Embedded(fonts, pdfdoc.FontName) {
		t.Errorf("quarterly PDF:\n%s\n%s", text, fonts)
	}
	for _, args := range [][]string{{"monthly", "--month", "2026-11"}, {"weekly", "--week", "2026-W47"}} {
		out, err := runCmd(t, append(append([]string{"report"}, args...), d, "--format", "pdf")...)
		if err != nil || !strings.HasPrefix(out, "%PDF-") {
			t.Errorf("%s pdf: %v %.80q", args[0], err, out)
		}
	}
	if out, err := runCmd(t, "report", "monthly", d, "--month", "2026-11", "--format", "doc"); err == nil || !strings.Contains(err.Error(), "json, pdf or xlsx") {
		t.Errorf("an unknown format: %v %s", err, out)
	}
}
