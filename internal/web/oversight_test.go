package web_test

import (
	"net/url"
	"strings"
	"testing"

	"chuangwen/internal/report"
	"chuangwen/internal/testcity"
	"chuangwen/internal/web"
)

// TestOversightPage: anyone reads the public page and its JSON; the
// administrator alone chooses what it shows.
func TestOversightPage(t *testing.T) {
	base := newFixture(t, testcity.SQLite(t))
	rs := &report.Service{DB: base.db, Flow: base.flow, Location: testcity.Shanghai}
	f := base.withServer(func(s *web.Server) { s.Report = rs })
	acc := f.login("acceptor")
	f.report(acc)
	anon := f.anon()
	page := anon.do("GET", "/oversight", nil, "")
	if page.StatusCode != 200 || !strings.Contains(page.body, "创文公开监督") || !strings.Contains(page.body, `id="city-figures"`) || strings.Contains(page.body, "13800000000") {
		t.Fatalf("public page: %d %s", page.StatusCode, page.body)
	}
	var o report.Oversight
	anon.do("GET", "/api/v1/public/oversight", nil, "").json(t, &o)
	if o.City == nil || o.City.Received != 1 || len(o.Trend) != 12 {
		t.Fatalf("JSON %+v", o)
	}
	adm := f.login("admin")
	if res := acc.form("POST", "/admin/oversight", url.Values{"stats": {"1"}, "exposure_days": {"10"}}); res.StatusCode != 403 {
		t.Fatalf("acceptor sets: %d", res.StatusCode)
	}
	if res := adm.form("POST", "/admin/oversight", url.Values{"stats": {"1"}, "exposure": {"1"}, "exposure_days": {"0"}}); res.StatusCode != 400 || !strings.Contains(res.body, "1 至 365") {
		t.Fatalf("0 days: %d %s", res.StatusCode, res.body)
	}
	if res := adm.form("POST", "/admin/oversight", url.Values{"exposure": {"1"}, "exposure_days": {"5"}}); res.StatusCode != 303 {
		t.Fatalf("save: %d %s", res.StatusCode, res.body)
	}
	page = anon.do("GET", "/oversight", nil, "")
	if strings.Contains(page.body, `id="city-figures"`) || !strings.Contains(page.body, `id="exposure"`) {
		t.Fatalf("after the office's choice: %s", page.body)
	}
}
