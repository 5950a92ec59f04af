package web_test

import (
	"strings"
	"testing"

	"chuangwen/internal/report"
	"chuangwen/internal/testcity"
	"chuangwen/internal/web"
)

// A filter value that names nothing is refused 400 with what is wrong,
// not answered with an empty list that reads as "none".
func TestBadFilterValuesAreRefused(t *testing.T) {
	base := newAssessFixture(t, testcity.SQLite(t))
	rs := &report.Service{DB: base.db, Flow: base.flow, Assess: base.svc, Location: testcity.Shanghai, Now: base.flow.Now, Volunteer: base.vol}
	f := base.fixture.withServer(func(s *web.Server) { s.Assess, s.Report = base.svc, rs })
	admin := f.login("admin")
	for _, tc := range []struct{ path, want string }{
		{"/api/v1/notices?week=abc", "周次“abc”无效"},
		{"/api/v1/notices?week=2026-W99", "周次“2026-W99”无效"},
		{"/api/v1/notices?week=2025-W53", "周次“2025-W53”无效"}, // 2025 has 52 weeks (2026 has 53)
		{"/notices?week=abc", "周次“abc”无效"},
		{"/api/v1/revisits?week=abc", "周次“abc”无效"},
		{"/api/v1/revisits?week=2026-W00", "周次“2026-W00”无效"},
		{"/revisits?week=abc", "周次“abc”无效"},
		{"/api/v1/assess/escalations?kind=zzz", "问责对象类型“zzz”无效"},
		{"/api/v1/privacy/access?kind=zzz", "访问类型“zzz”无效"},
		{"/api/v1/privacy/access?user=abc", "user 不是有效的数字"},
		{"/api/v1/cases?warning=9", "预警等级应为"},
		{"/api/v1/webhooks/deliveries?webhook=abc", "webhook 不是有效的数字"},
		{"/api/v1/webhooks/deliveries?webhook=3000000000", "webhook 不是有效的数字"}, // (PostgreSQL's int4 had answered 500)
		{"/api/v1/webhooks/deliveries?webhook=-5", "webhook 不是有效的数字"},
	} {
		res := admin.do("GET", tc.path, nil, "")
		if res.StatusCode != 400 || !strings.Contains(res.body, tc.want) {
			t.Errorf("%s: %d %.300s, want 400 %q", tc.path, res.StatusCode, res.body, tc.want)
		}
	}
	if res := admin.do("GET", "/api/v1/assess/editions/x/3000000000", nil, ""); res.StatusCode != 404 {
		t.Errorf("an edition version beyond int4: %d %.200s", res.StatusCode, res.body)
	}
	for _, ok := range []string{"/api/v1/notices?week=2026-W49", "/api/v1/revisits?week=2026-W49", "/api/v1/assess/escalations?kind=unit",
		"/api/v1/privacy/access?kind=reporter", "/api/v1/cases?warning=2", "/notices?week=2026-W53", "/revisits?week=2020-W53"} {
		if res := admin.do("GET", ok, nil, ""); res.StatusCode != 200 {
			t.Errorf("%s: %d %.200s", ok, res.StatusCode, res.body)
		}
	}
}
