package web_test

import (
	"encoding/csv"
	"net/url"
	"strings"
	"testing"
	"time"

	"chuangwen/internal/pdfdoc/pdftest"
	"chuangwen/internal/report"
	"chuangwen/internal/store"
	"chuangwen/internal/testcity"
	"chuangwen/internal/web"

	"github.com/xuri/excelize/v2"
)

// TestBulletinPages: the office drafts and publishes, verifies, makes a
// bulletin public; units and the anonymous public see only what they may.
func TestBulletinPages(t *testing.T) {
	testcity.BothLong(t, func(t *testing.T, db *store.DB) {
		base := newAssessFixture(t, db)
		rs := &report.Service{DB: db, Flow: base.flow, Assess: base.svc, Location: testcity.Shanghai, Now: base.flow.Now, Volunteer: base.vol}
		f := base.fixture.withServer(func(s *web.Server) { s.Assess, s.Report = base.svc, rs })
		adm, lead, hA, anon := f.login("admin"), f.login("leader"), f.login("handlerA"), f.anon()

		if res := hA.do("GET", "/reports", nil, ""); res.StatusCode != 403 {
			t.Errorf("a handler's /reports: %d", res.StatusCode)
		}
		if res := hA.do("GET", "/api/v1/reports/quarterly?quarter=2026Q4", nil, ""); res.StatusCode != 403 {
			t.Errorf("a handler's draft: %d", res.StatusCode)
		}
		res := lead.do("GET", "/api/v1/reports/quarterly?quarter=2026Q4", nil, "")
		if res.StatusCode != 200 || !strings.HasPrefix(res.body, `{"quarter":"2026Q4"`) || !strings.Contains(res.body, `"volunteers":{"city":`) {
			t.Fatalf("leader's draft (with its volunteer section): %d %s", res.StatusCode, res.body)
		}
		if res := lead.do("GET", "/api/v1/reports/quarterly?quarter=2026Q9", nil, ""); res.StatusCode != 400 || !strings.Contains(res.body, "2026Q4") {
			t.Errorf("a bad quarter: %d %s", res.StatusCode, res.body)
		}
		if res := hA.do("GET", "/reports/quarterly.pdf?quarter=2026Q4", nil, ""); res.StatusCode != 403 {
			t.Errorf("a handler's draft PDF: %d", res.StatusCode)
		}
		res = lead.do("GET", "/reports/quarterly.pdf?quarter=2026Q4", nil, "")
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/pdf" {
			t.Fatalf("draft PDF: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
		}
		if text, _ := pdftest.Read(t, []byte(res.body)); !pdftest.Contains(text, "2026Q4 季度通报") || !pdftest.Contains(text, "区县文明指数") || !pdftest.Contains(text, "注册志愿者") {
			t.Errorf("draft PDF text:\n%s", text)
		}
		if res := lead.do("GET", "/reports/monthly?month=2026-11", nil, ""); res.StatusCode != 200 || !strings.Contains(res.body, `id="m-reported"`) || !strings.Contains(res.body, `id="pdf-link"`) {
			t.Errorf("monthly page: %d", res.StatusCode)
		}
		if res := lead.do("GET", "/reports/monthly.pdf?month=2026-11", nil, ""); res.StatusCode != 200 || !strings.HasPrefix(res.body, "%PDF-") {
			t.Errorf("monthly PDF: %d", res.StatusCode)
		}
		// The leader's screen: the office's, not a unit's nor the public's.
		if res := hA.do("GET", "/api/v1/leader", nil, ""); res.StatusCode != 403 {
			t.Errorf("a handler's leader screen: %d", res.StatusCode)
		}
		if res := hA.do("GET", "/leader", nil, ""); res.StatusCode != 403 {
			t.Errorf("a handler's leader page: %d", res.StatusCode)
		}
		if res := anon.do("GET", "/api/v1/leader", nil, ""); res.StatusCode != 401 {
			t.Errorf("the leader screen without a login: %d", res.StatusCode)
		}
		if res := lead.do("GET", "/api/v1/leader", nil, ""); res.StatusCode != 200 || !strings.Contains(res.body, `"counts":{"open":`) ||
			res.Header.Get("Cache-Control") != "no-store" || strings.Contains(res.body, "reporter") {
			t.Errorf("the leader screen: %d %.200s", res.StatusCode, res.body)
		}
		if res := lead.json("POST", "/api/v1/reports/bulletins", map[string]string{"quarter": "2026Q4"}); res.StatusCode != 403 {
			t.Errorf("a leader publishes: %d", res.StatusCode)
		}
		res = adm.form("POST", "/reports/publish", url.Values{"quarter": {"2026Q4"}})
		if res.StatusCode != 303 || !strings.HasPrefix(res.Header.Get("Location"), "/reports/bulletins/2026Q4-1") {
			t.Fatalf("publish: %d %s", res.StatusCode, res.Header.Get("Location"))
		}
		if res := lead.do("GET", "/reports/bulletins/2026Q4-1?verify=1", nil, ""); res.StatusCode != 200 || !strings.Contains(res.body, `id="verify-result">复核通过`) {
			t.Errorf("verify page: %d", res.StatusCode)
		}
		if res := lead.do("GET", "/reports/bulletins/2026Q4-1/pdf", nil, ""); res.StatusCode != 200 || !strings.HasPrefix(res.body, "%PDF-") ||
			!strings.Contains(res.Header.Get("Content-Disposition"), "bulletin-2026Q4-1.pdf") {
			t.Errorf("published PDF: %d %s", res.StatusCode, res.Header.Get("Content-Disposition"))
		}
		if res := lead.do("GET", "/api/v1/reports/bulletins/2026Q4-1/verify", nil, ""); res.StatusCode != 200 || res.body != "[]\n" {
			t.Errorf("verify API: %d %q", res.StatusCode, res.body)
		}
		// Public only when made so, and without a login.
		if res := anon.do("GET", "/bulletins/2026Q4-1", nil, ""); res.StatusCode != 404 {
			t.Errorf("a private bulletin in public: %d", res.StatusCode)
		}
		if res := lead.form("POST", "/reports/bulletins/2026Q4-1/public", url.Values{"public": {"1"}}); res.StatusCode != 403 {
			t.Errorf("a leader makes it public: %d", res.StatusCode)
		}
		if res := adm.form("POST", "/reports/bulletins/2026Q4-1/public", url.Values{"public": {"1"}}); res.StatusCode != 303 {
			t.Errorf("make public: %d", res.StatusCode)
		}
		res = anon.do("GET", "/bulletins/2026Q4-1", nil, "")
		if res.StatusCode != 200 || !strings.Contains(res.body, "2026Q4 季度通报") || strings.Contains(res.body, "handler") {
			t.Errorf("the public bulletin: %d", res.StatusCode)
		}
		if res := anon.do("GET", "/api/v1/reports/bulletins/2026Q4-1", nil, ""); res.StatusCode != 401 {
			t.Errorf("the API without a login: %d", res.StatusCode)
		}
	})
}

// TestNoticePages: a unit sees and signs its own notices only; the office
// issues them and sees all.
func TestNoticePages(t *testing.T) {
	testcity.BothLong(t, func(t *testing.T, db *store.DB) {
		base := newAssessFixture(t, db)
		rs := &report.Service{DB: db, Flow: base.flow, Assess: base.svc, Location: testcity.Shanghai, Now: base.flow.Now, Volunteer: base.vol}
		f := base.fixture.withServer(func(s *web.Server) { s.Assess, s.Report = base.svc, rs })
		acc, adm, hA, hB, grid := f.login("acceptor"), f.login("admin"), f.login("handlerA"), f.login("handlerB"), f.login("grid")
		// One open case of unit A, listed: unit A gets a notice.
		base.submit("S01", "A1.2", "fail", 1)
		res := acc.json("POST", "/api/v1/notices", map[string]string{"unit": "A", "note": "请本周内完成整改"})
		if res.StatusCode != 201 {
			t.Fatalf("instant notice: %d %s", res.StatusCode, res.body)
		}
		var doc struct {
			No, Unit string
		}
		res.json(t, &doc)
		if doc.Unit != "A" || doc.No == "" {
			t.Fatalf("notice %+v", doc)
		}
		if res := hA.json("POST", "/api/v1/notices", map[string]string{"unit": "A"}); res.StatusCode != 403 {
			t.Errorf("a handler issues: %d", res.StatusCode)
		}
		if res := grid.do("GET", "/notices", nil, ""); res.StatusCode != 403 {
			t.Errorf("a grid worker's inbox: %d", res.StatusCode)
		}
		if res := hB.do("GET", "/notices/"+doc.No, nil, ""); res.StatusCode != 404 {
			t.Errorf("unit B reads unit A's notice: %d", res.StatusCode)
		}
		if res := hB.json("POST", "/api/v1/notices/"+doc.No+"/acknowledge", nil); res.StatusCode != 404 {
			t.Errorf("unit B signs unit A's notice: %d", res.StatusCode)
		}
		if res := hB.do("GET", "/api/v1/notices", nil, ""); res.StatusCode != 200 || res.body != "[]\n" {
			t.Errorf("unit B's inbox: %d %s", res.StatusCode, res.body)
		}
		if res := hA.do("GET", "/notices/"+doc.No, nil, ""); res.StatusCode != 200 || !strings.Contains(res.body, "请本周内完成整改") || !strings.Contains(res.body, `id="acknowledge"`) {
			t.Errorf("unit A's notice: %d", res.StatusCode)
		}
		// The notice as PDF and XLSX: the unit's own, not another unit's.
		res = hA.do("GET", "/notices/"+doc.No+"/notice.pdf", nil, "")
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/pdf" {
			t.Fatalf("unit A's notice PDF: %d", res.StatusCode)
		}
		if text, _ := pdftest.Read(t, []byte(res.body)); !pdftest.Contains(text, doc.No) || !pdftest.Contains(text, "请本周内完成整改") {
			t.Errorf("notice PDF text:\n%s", text)
		}
		if res := hB.do("GET", "/notices/"+doc.No+"/notice.pdf", nil, ""); res.StatusCode != 404 {
			t.Errorf("unit B prints unit A's notice: %d", res.StatusCode)
		}
		if res := hA.do("GET", "/notices/"+doc.No+"/notice.exe", nil, ""); res.StatusCode != 404 {
			t.Errorf("an unknown file: %d", res.StatusCode)
		}
		if res := hA.do("GET", "/notices/export/notices.pdf?week=x.html%22%3B%20x%3D%22", nil, ""); res.StatusCode != 400 {
			t.Errorf("a week that is not one: %d %s", res.StatusCode, res.Header.Get("Content-Disposition"))
		}
		res = hB.do("GET", "/notices/export/notices.xlsx", nil, "")
		if res.StatusCode != 200 || !strings.HasPrefix(res.body, "PK") {
			t.Fatalf("unit B's notices XLSX: %d", res.StatusCode)
		}
		if x, err := excelize.OpenReader(strings.NewReader(res.body)); err != nil {
			t.Error(err)
		} else if rows, _ := x.GetRows("督办清单"); len(rows) != 1 {
			t.Errorf("unit B's workbook holds another unit's notices: %q", rows)
		}
		res = adm.do("GET", "/notices/export/notices.xlsx", nil, "")
		if x, err := excelize.OpenReader(strings.NewReader(res.body)); err != nil {
			t.Error(err)
		} else if rows, _ := x.GetRows("督办清单"); len(rows) < 2 || rows[1][0] != doc.No {
			t.Errorf("the office's workbook: %q", rows)
		}
		if res := hA.form("POST", "/notices/"+doc.No+"/acknowledge", url.Values{}); res.StatusCode != 303 {
			t.Errorf("sign: %d %s", res.StatusCode, res.body)
		}
		if res := adm.do("GET", "/notices", nil, ""); res.StatusCode != 200 || !strings.Contains(res.body, doc.No) || strings.Contains(res.body, "未签收</span></td></tr>\n<tr") {
			t.Errorf("the office's list: %d", res.StatusCode)
		}
	})
}

// TestPerformanceExport: the performance page's tables export with its
// period, to the office only.
func TestPerformanceExport(t *testing.T) {
	f := newFixture(t, testcity.SQLite(t))
	acc, hA := f.login("acceptor"), f.login("handlerA")
	c := f.report(acc)
	acc.act(t, c.ID, map[string]any{"action": "accept"}, 200)
	acc.act(t, c.ID, map[string]any{"action": "dispatch", "lead_unit_id": f.unitA.ID}, 200)
	day := time.Now().In(testcity.Shanghai).Format("2006-01-02")
	res := acc.do("GET", "/performance/units.csv?from="+day+"&to="+day, nil, "")
	if res.StatusCode != 200 || !strings.HasPrefix(res.body, "\ufeff编码,单位,派遣") {
		t.Fatalf("units.csv: %d %.200q", res.StatusCode, res.body)
	}
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(res.body, "\ufeff"))).ReadAll()
	if err != nil || len(recs) != 2 || recs[1][2] != "1" {
		t.Errorf("units.csv records %q %v", recs, err)
	}
	res = acc.do("GET", "/performance/regions.xlsx?level=street&from="+day+"&to="+day, nil, "")
	if res.StatusCode != 200 || !strings.Contains(res.Header.Get("Content-Disposition"), "performance-regions-street-") {
		t.Fatalf("regions.xlsx: %d %s", res.StatusCode, res.Header.Get("Content-Disposition"))
	}
	x, err := excelize.OpenReader(strings.NewReader(res.body))
	if err != nil {
		t.Fatal(err)
	}
	if rows, _ := x.GetRows(x.GetSheetName(0)); len(rows) < 2 || rows[0][1] != "区域" || len(rows[0]) != 25 || rows[0][24] != "反弹率" {
		t.Errorf("regions.xlsx rows %q", rows)
	}
	for path, want := range map[string]int{
		"/performance/units.csv":                 403,
		"/performance/units.exe":                 404,
		"/performance/cases.csv":                 404,
		"/performance/regions.csv?level=planet":  400,
		"/performance/units.csv?from=2026-13-01": 400,
	} {
		client := acc
		if want == 403 {
			client = hA
		}
		if res := client.do("GET", path, nil, ""); res.StatusCode != want {
			t.Errorf("%s: %d, want %d", path, res.StatusCode, want)
		}
	}
}

// TestCaseExport: the case list exports with its filters and the caller's
// scope, as CSV with a BOM and as XLSX.
func TestCaseExport(t *testing.T) {
	testcity.BothLong(t, func(t *testing.T, db *store.DB) {
		base := newAssessFixture(t, db)
		base.submit("S01", "A1.2", "fail", 1) // a case for unit A
		base.submit("S02", "A1.1", "fail", 0) // a case for unit B
		f := base.fixture
		acc, hB := f.login("acceptor"), f.login("handlerB")
		res := acc.do("GET", "/cases/export?format=csv", nil, "")
		if res.StatusCode != 200 || !strings.HasPrefix(res.body, "\ufeff案件编号,") || strings.Count(res.body, "测评发现") != 2 {
			t.Fatalf("acceptor's CSV: %d %q", res.StatusCode, res.body)
		}
		res = hB.do("GET", "/cases/export?format=csv", nil, "")
		if res.StatusCode != 200 || strings.Count(res.body, "测评发现") != 1 || !strings.Contains(res.body, "园林局") || strings.Contains(res.body, "环卫处") {
			t.Errorf("unit B's CSV shows another unit's case: %q", res.body)
		}
		if res := acc.do("GET", "/cases/export?format=csv&state=closed", nil, ""); res.StatusCode != 200 || strings.Contains(res.body, "测评发现") {
			t.Errorf("the filter is not applied: %q", res.body)
		}
		res = acc.do("GET", "/cases/export?format=xlsx", nil, "")
		if res.StatusCode != 200 || !strings.HasPrefix(res.body, "PK") {
			t.Fatalf("xlsx: %d", res.StatusCode)
		}
		x, err := excelize.OpenReader(strings.NewReader(res.body))
		if err != nil {
			t.Fatal(err)
		}
		rows, _ := x.GetRows(x.GetSheetName(0))
		if len(rows) != 3 || rows[0][0] != "案件编号" || x.GetSheetName(0) != "案件" {
			t.Errorf("xlsx rows %v", rows)
		}
		if res := acc.do("GET", "/cases/export?format=pdf", nil, ""); res.StatusCode != 400 {
			t.Errorf("pdf: %d", res.StatusCode)
		}
		for _, format := range []string{"csv", "xlsx"} {
			if res := acc.do("GET", "/cases/export?format="+format+"&state=lost", nil, ""); res.StatusCode != 400 || !strings.Contains(res.body, "lost") {
				t.Errorf("%s with an unknown state: %d %.100s", format, res.StatusCode, res.body)
			}
		}
	})
}
