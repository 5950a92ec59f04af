package web_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"chuangwen/internal/privacy"
	"chuangwen/internal/testcity"
)

// TestPersonalDataAccessLog: reading a reporter's details (the case page,
// its JSON, an export, a search by phone) leaves a line in the access
// log; a unit's handler, who sees no reporter, leaves none. Only the
// administrator reads the log and sets the retention.
func TestPersonalDataAccessLog(t *testing.T) {
	f := newFixture(t, testcity.SQLite(t))
	acc, hA, adm := f.login("acceptor"), f.login("handlerA"), f.login("admin")
	c := f.report(acc)
	acc.act(t, c.ID, map[string]any{"action": "accept"}, 200)
	acc.act(t, c.ID, map[string]any{"action": "dispatch"}, 200)
	for _, p := range []string{fmt.Sprintf("/cases/%d", c.ID), fmt.Sprintf("/api/v1/cases/%d", c.ID), "/cases/export?format=csv", "/api/v1/cases?q=13800000000"} {
		if res := acc.do("GET", p, nil, ""); res.StatusCode != 200 {
			t.Fatalf("%s: %d", p, res.StatusCode)
		}
	}
	for _, p := range []string{fmt.Sprintf("/cases/%d", c.ID), fmt.Sprintf("/api/v1/cases/%d", c.ID)} {
		if res := hA.do("GET", p, nil, ""); res.StatusCode != 200 {
			t.Fatalf("handler %s: %d", p, res.StatusCode)
		}
	}
	if res := acc.do("GET", "/api/v1/privacy/access", nil, ""); res.StatusCode != 403 {
		t.Fatalf("acceptor reads the log: %d", res.StatusCode)
	}
	var log []privacy.Access
	adm.do("GET", "/api/v1/privacy/access", nil, "").json(t, &log)
	kinds := map[string]int{}
	for _, a := range log {
		kinds[a.Kind]++
		if a.Role != "acceptor" || a.Address == "" {
			t.Errorf("line %+v", a)
		}
	}
	if kinds[privacy.KindReporter] != 2 || kinds[privacy.KindCaseExport] != 1 || kinds[privacy.KindPhone] != 1 || kinds[privacy.KindCaseList] != 1 || len(log) != 5 {
		t.Fatalf("access log %v: %+v", kinds, log)
	}
	// The log says a number was searched, not which.
	for _, a := range log {
		if strings.Contains(a.Detail, "13800000000") {
			t.Errorf("the log keeps the number: %+v", a)
		}
	}
	page := adm.do("GET", "/admin/privacy?kind=reporter", nil, "")
	if page.StatusCode != 200 || !strings.Contains(page.body, "查看上报人信息") || !strings.Contains(page.body, fmt.Sprintf(`href="/cases/%d"`, c.ID)) {
		t.Fatalf("privacy page: %d %s", page.StatusCode, page.body)
	}
	if res := adm.form("POST", "/admin/privacy", url.Values{"retention_days": {"7"}}); res.StatusCode != 400 || !strings.Contains(res.body, "30 至 3650") {
		t.Fatalf("7 days: %d %s", res.StatusCode, res.body)
	}
	if res := adm.form("POST", "/admin/privacy", url.Values{"retention_days": {"730"}}); res.StatusCode != 303 {
		t.Fatalf("730 days: %d %s", res.StatusCode, res.body)
	}
	if res := adm.form("POST", "/admin/privacy/erase", url.Values{}); res.StatusCode != 303 {
		t.Fatalf("erase now: %d %s", res.StatusCode, res.body)
	}
	if res := acc.form("POST", "/admin/privacy/erase", url.Values{}); res.StatusCode != 403 {
		t.Fatalf("acceptor erases: %d", res.StatusCode)
	}
}
