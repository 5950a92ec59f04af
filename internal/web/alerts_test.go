package web_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"chuangwen/internal/testcity"
)

// The bell counts a dispatch for the unit's handler only; the alerts page
// links the case; marking read clears the bell and the API agrees.
func TestAlertsBell(t *testing.T) {
	f := newFixture(t, testcity.SQLite(t))
	acc := f.login("acceptor")
	c := f.report(acc)
	acc.act(t, c.ID, map[string]any{"action": "accept"}, 200)
	acc.act(t, c.ID, map[string]any{"action": "dispatch", "lead_unit_id": f.unitA.ID}, 200)

	hA, hB := f.login("handlerA"), f.login("handlerB")
	if body := hA.do("GET", "/", nil, "").body; !strings.Contains(body, `id="bell-count">1<`) {
		t.Fatalf("handler A's bell does not count the dispatch")
	}
	if body := hB.do("GET", "/", nil, "").body; strings.Contains(body, `id="bell-count"`) || !strings.Contains(body, `id="bell"`) {
		t.Errorf("handler B's bell counts another unit's dispatch, or is missing")
	}
	page := hA.do("GET", "/alerts", nil, "")
	if page.StatusCode != 200 || !strings.Contains(page.body, fmt.Sprintf(`href="/cases/%d">%s<`, c.ID, c.No)) || !strings.Contains(page.body, "新派遣案件") {
		t.Fatalf("alerts page: %d, case link or words missing", page.StatusCode)
	}
	if body := hB.do("GET", "/alerts", nil, "").body; strings.Contains(body, c.No) {
		t.Errorf("handler B's alerts name A's case")
	}
	if r := hA.form("POST", "/alerts/read", url.Values{"up_to": {"x"}}); r.StatusCode != 400 {
		t.Errorf("a bad mark: %d", r.StatusCode)
	}
	if r := hA.form("POST", "/alerts/read", url.Values{"up_to": {"0"}}); r.StatusCode != 303 {
		t.Fatalf("mark read: %d %s", r.StatusCode, r.body)
	}
	if body := hA.do("GET", "/", nil, "").body; strings.Contains(body, `id="bell-count"`) {
		t.Errorf("the bell still counts after marking read")
	}
	if r := hA.do("GET", "/api/v1/alerts?limit=5", nil, ""); r.StatusCode != 200 || !strings.Contains(r.body, `"unread":0`) || !strings.Contains(r.body, `"kind":"dispatched"`) {
		t.Errorf("API after the mark: %d %s", r.StatusCode, r.body)
	}
	if r := hA.do("GET", "/api/v1/alerts?limit=500", nil, ""); r.StatusCode != 400 {
		t.Errorf("limit 500: %d", r.StatusCode)
	}
}
