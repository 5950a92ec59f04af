package web_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"chuangwen/internal/store"
	"chuangwen/internal/testcity"
)

// TestSavedFilters: a user keeps list queries under names, through the
// API and the console; another user neither sees nor deletes them; a
// refused save shows the list again with the name as typed.
func TestSavedFilters(t *testing.T) {
	testcity.BothLong(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		acc, insp := f.login("acceptor"), f.login("inspector")
		type saved struct {
			ID    int64  `json:"id"`
			Name  string `json:"name"`
			Query string `json:"query"`
		}
		res := acc.json("POST", "/api/v1/filters", map[string]string{"name": "红牌待派遣", "query": "?queue=to_dispatch&warning=2&page=3&before=9&state=&bogus=1"})
		var sf saved
		if res.StatusCode != 201 {
			t.Fatalf("save: %d %s", res.StatusCode, res.body)
		}
		res.json(t, &sf)
		if sf.Query != "queue=to_dispatch&warning=2" {
			t.Errorf("kept query %q: want the filters only", sf.Query)
		}
		// the same name replaces; the console lists it as a link
		res = acc.form("POST", "/cases/filters", url.Values{"name": {"红牌待派遣"}, "query": {"queue=to_dispatch&warning=1"}})
		if res.StatusCode != 303 || res.Header.Get("Location") != "/cases?queue=to_dispatch&warning=1" {
			t.Fatalf("console save: %d to %q", res.StatusCode, res.Header.Get("Location"))
		}
		if res := acc.do("GET", "/cases", nil, ""); !strings.Contains(res.body, `<a href="/cases?queue=to_dispatch&amp;warning=1">红牌待派遣</a>`) {
			i := strings.Index(res.body, "saved-filters")
			t.Errorf("the list does not link the saved filter: %d %.600s", res.StatusCode, res.body[max(i, 0):])
		}
		var mine []saved
		acc.json("GET", "/api/v1/filters", nil).json(t, &mine)
		if len(mine) != 1 || mine[0].ID != sf.ID || mine[0].Query != "queue=to_dispatch&warning=1" {
			t.Errorf("after replacing: %+v", mine)
		}
		// a refusal keeps the name and the list's query
		res = acc.form("POST", "/cases/filters", url.Values{"name": {strings.Repeat("名", 41)}, "query": {"warning=2"}})
		if res.StatusCode != 400 || !strings.Contains(res.body, `id="error"`) || !strings.Contains(res.body, strings.Repeat("名", 41)) ||
			!strings.Contains(res.body, `name="query" value="warning=2"`) {
			t.Errorf("refused save: %d, message, name or query lost", res.StatusCode)
		}
		if res := acc.json("POST", "/api/v1/filters", map[string]string{"name": "空", "query": "page=2"}); res.StatusCode != 400 {
			t.Errorf("empty filter: %d", res.StatusCode)
		}
		// another user's
		var theirs []saved
		insp.json("GET", "/api/v1/filters", nil).json(t, &theirs)
		if len(theirs) != 0 {
			t.Errorf("the inspector sees %+v", theirs)
		}
		if res := insp.json("DELETE", fmt.Sprintf("/api/v1/filters/%d", sf.ID), nil); res.StatusCode != 404 {
			t.Errorf("the inspector deletes the acceptor's filter: %d", res.StatusCode)
		}
		if res := acc.form("POST", fmt.Sprintf("/cases/filters/%d/delete", sf.ID), url.Values{"query": {"warning=1"}}); res.StatusCode != 303 {
			t.Errorf("console delete: %d", res.StatusCode)
		}
		acc.json("GET", "/api/v1/filters", nil).json(t, &mine)
		if len(mine) != 0 {
			t.Errorf("after deleting: %+v", mine)
		}
		// thirty at most
		for i := range 30 {
			if res := acc.json("POST", "/api/v1/filters", map[string]string{"name": fmt.Sprint("f", i), "query": "warning=1"}); res.StatusCode != 201 {
				t.Fatalf("filter %d: %d", i, res.StatusCode)
			}
		}
		if res := acc.json("POST", "/api/v1/filters", map[string]string{"name": "f30", "query": "warning=1"}); res.StatusCode != 409 {
			t.Errorf("31st filter: %d", res.StatusCode)
		}
		// without the CSRF token, nothing
		if res := acc.do("POST", "/cases/filters", strings.NewReader("name=x&query=warning%3D1"), "application/x-www-form-urlencoded"); res.StatusCode != 403 {
			t.Errorf("console save without a token: %d", res.StatusCode)
		}
	})
}

// TestErrorPages: an unknown address or method gets the product's page in
// the reader's language (JSON under /api/), with the right status.
func TestErrorPages(t *testing.T) {
	f := newFixture(t, testcity.SQLite(t))
	acc := f.login("acceptor")
	res := acc.do("GET", "/no/such/page", nil, "")
	if res.StatusCode != 404 || !strings.Contains(res.body, "没有这个页面") || !strings.Contains(res.body, "<title>页面不存在 · ") || !strings.Contains(res.body, `id="whoami"`) {
		t.Errorf("404 page: %d %.300s", res.StatusCode, res.body)
	}
	res = acc.do("DELETE", "/cases", nil, "")
	if res.StatusCode != 405 || res.Header.Get("Allow") == "" || !strings.Contains(res.body, "不支持此请求方式") {
		t.Errorf("405 page: %d allow %q", res.StatusCode, res.Header.Get("Allow"))
	}
	res = acc.do("GET", "/api/v1/no-such-thing", nil, "")
	if res.StatusCode != 404 || !strings.Contains(res.body, `"code":"not_found"`) {
		t.Errorf("API 404: %d %s", res.StatusCode, res.body)
	}
	if res := f.anon().do("GET", "/no/such/page", nil, ""); res.StatusCode != 404 || !strings.Contains(res.body, "没有这个页面") {
		t.Errorf("anonymous 404: %d", res.StatusCode)
	}
}

// TestDispatchSuggestion: the dispatch form preselects the units the
// responsibility table names for the case, and says so.
func TestDispatchSuggestion(t *testing.T) {
	f := newFixture(t, testcity.SQLite(t))
	acc := f.login("acceptor")
	c := f.report(acc)
	acc.act(t, c.ID, map[string]any{"action": "accept"}, 200)
	page := func() string { return acc.do("GET", fmt.Sprintf("/cases/%d", c.ID), nil, "").body }
	if body := page(); !strings.Contains(body, `id="suggest-reason"`) {
		t.Errorf("the dispatch form says nothing of a suggestion")
	}
	if res := f.login("admin").json("POST", "/api/v1/responsibilities", map[string]any{"category_id": f.category.ID, "region_id": f.district.ID,
		"lead_unit_id": f.unitB.ID, "coop_unit_ids": []int64{f.unitA.ID}}); res.StatusCode != 200 {
		t.Fatalf("responsibility: %d %s", res.StatusCode, res.body)
	}
	body := page()
	if !strings.Contains(body, fmt.Sprintf(`<option value="%d" selected>`, f.unitB.ID)) ||
		!strings.Contains(body, fmt.Sprintf(`name="coop_unit_ids" value="%d" checked>`, f.unitA.ID)) || !strings.Contains(body, "已按责任表") {
		t.Errorf("the form does not preselect the table's units")
	}
}

// TestNextInQueue: an action taken from a queue goes on to the queue's
// next case, and back to the queue when none is left.
func TestNextInQueue(t *testing.T) {
	f := newFixture(t, testcity.SQLite(t))
	acc := f.login("acceptor")
	a, b := f.report(acc), f.report(acc)
	accept := func(id int64) response {
		page := acc.do("GET", fmt.Sprintf("/cases/%d?queue=to_accept", id), nil, "")
		if !strings.Contains(page.body, `name="queue" value="to_accept"`) {
			t.Fatalf("case %d from the queue: no queue in its forms", id)
		}
		var c caseJSON
		acc.json("GET", fmt.Sprintf("/api/v1/cases/%d", id), nil).json(t, &c)
		return acc.form("POST", fmt.Sprintf("/cases/%d/act", id), url.Values{"action": {"accept"}, "version": {fmt.Sprint(c.Version)}, "queue": {"to_accept"}})
	}
	if res := accept(b.ID); res.StatusCode != 303 || res.Header.Get("Location") != fmt.Sprintf("/cases/%d?queue=to_accept&msg=done_next", a.ID) {
		t.Errorf("after the first: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	if res := accept(a.ID); res.StatusCode != 303 || res.Header.Get("Location") != "/cases?queue=to_accept&msg=queue_done" {
		t.Errorf("after the last: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
}

// TestInstructionOnTop: the handler sees the dispatcher's instruction at
// the top of the case, then a failed verification's reason, with the
// rework flagged in the page and the queue.
func TestInstructionOnTop(t *testing.T) {
	f := newFixture(t, testcity.SQLite(t))
	acc, hA, insp := f.login("acceptor"), f.login("handlerA"), f.login("inspector")
	c := f.report(acc)
	d := acc.act(t, c.ID, map[string]any{"action": "accept"}, 200)
	d = acc.act(t, c.ID, map[string]any{"action": "dispatch", "lead_unit_id": f.unitA.ID, "opinion": "请当天清理并拍照反馈", "version": d.Version}, 200)
	if body := hA.do("GET", fmt.Sprintf("/cases/%d", c.ID), nil, "").body; !strings.Contains(body, `id="instruction"`) || !strings.Contains(body, "请当天清理并拍照反馈") {
		t.Fatalf("the handler does not see the dispatcher's instruction on top")
	}
	d = hA.act(t, c.ID, map[string]any{"action": "acknowledge", "version": d.Version}, 200)
	feedback := hA.multipart(fmt.Sprintf("/api/v1/cases/%d/actions", c.ID), url.Values{"action": {"feedback"}, "opinion": {"已清理"}, "version": {fmt.Sprint(d.Version)}},
		map[string][]byte{"photo": jpegPhoto(t, 7)})
	if feedback.StatusCode != 200 {
		t.Fatalf("feedback: %d %s", feedback.StatusCode, feedback.body)
	}
	feedback.json(t, &d)
	insp.act(t, c.ID, map[string]any{"action": "verify_fail", "opinion": "路口东侧仍有垃圾", "version": d.Version}, 200)
	body := hA.do("GET", fmt.Sprintf("/cases/%d", c.ID), nil, "").body
	if !strings.Contains(body, "路口东侧仍有垃圾") || !strings.Contains(body, `id="rework-badge"`) {
		t.Errorf("after the failed verification: reason or rework flag missing")
	}
	if list := hA.do("GET", "/cases?queue=to_handle", nil, "").body; !strings.Contains(list, "返工 1 次") {
		t.Errorf("the queue does not flag the reworked case")
	}
}

// TestBatchAPI: a batch merge and supervision with a result per case;
// what makes the whole batch wrong is refused with nothing done; only the
// office may batch.
func TestBatchAPI(t *testing.T) {
	testcity.BothLong(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		acc := f.login("acceptor")
		target, dup1, dup2 := f.report(acc), f.report(acc), f.report(acc)
		type result struct {
			ID    int64  `json:"id"`
			OK    bool   `json:"ok"`
			State string `json:"state"`
			Error *struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		var res []result
		r := acc.json("POST", "/api/v1/cases/batch", map[string]any{"action": "merge", "ids": []int64{dup1.ID, dup2.ID, target.ID, dup1.ID}, "merge_into_no": target.No, "opinion": "重复上报"})
		if r.StatusCode != 200 {
			t.Fatalf("batch merge: %d %s", r.StatusCode, r.body)
		}
		r.json(t, &res)
		if len(res) != 3 || !res[0].OK || res[0].State != "merged" || !res[1].OK || res[2].OK || res[2].Error == nil || !strings.Contains(res[2].Error.Message, "自身") {
			t.Errorf("batch merge results: %+v", res)
		}
		for _, bad := range []map[string]any{
			{"action": "void", "ids": []int64{target.ID}},
			{"action": "accept", "ids": []int64{}},
			{"action": "merge", "ids": []int64{target.ID}, "merge_into_no": "2099-999999"},
		} {
			if r := acc.json("POST", "/api/v1/cases/batch", bad); r.StatusCode != 400 {
				t.Errorf("%v: %d", bad, r.StatusCode)
			}
		}
		if r := f.login("handlerA").json("POST", "/api/v1/cases/batch", map[string]any{"action": "accept", "ids": []int64{target.ID}}); r.StatusCode != 403 {
			t.Errorf("a handler's batch: %d", r.StatusCode)
		}
		r = f.login("leader").json("POST", "/api/v1/cases/batch", map[string]any{"action": "supervise", "ids": []int64{target.ID}, "opinion": "挂牌督办，限期整改"})
		r.json(t, &res)
		if len(res) != 1 || !res[0].OK {
			t.Errorf("batch supervision: %s", r.body)
		}
	})
}

// TestStockReplies: the office keeps stock replies per action; the action
// form offers them, and a picked one opens the opinion with the typed
// text after it. A refused page keeps everything typed.
func TestStockReplies(t *testing.T) {
	f := newFixture(t, testcity.SQLite(t))
	acc := f.login("acceptor")
	if r := acc.json("PUT", "/api/v1/replies/reject", []string{"不属于城市管理问题", " ", "重复上报"}); r.StatusCode != 200 || !strings.Contains(r.body, `"reject":["不属于城市管理问题","重复上报"]`) {
		t.Fatalf("set replies: %d %s", r.StatusCode, r.body)
	}
	if r := f.login("handlerA").json("PUT", "/api/v1/replies/reject", []string{"x"}); r.StatusCode != 403 {
		t.Errorf("a handler edits the replies: %d", r.StatusCode)
	}
	c := f.report(acc)
	if body := acc.do("GET", fmt.Sprintf("/cases/%d", c.ID), nil, "").body; !strings.Contains(body, `id="reply-reject"`) || !strings.Contains(body, "<option>重复上报</option>") {
		t.Fatalf("the reject form does not offer the replies")
	}
	res := acc.form("POST", fmt.Sprintf("/cases/%d/act", c.ID), url.Values{"action": {"reject"}, "version": {"1"}, "stock_reply": {"重复上报"}, "opinion": {"与 2026-000001 相同"}})
	if res.StatusCode != 303 {
		t.Fatalf("reject with a stock reply: %d %s", res.StatusCode, res.body)
	}
	if tl := acc.do("GET", fmt.Sprintf("/api/v1/cases/%d/timeline", c.ID), nil, "").body; !strings.Contains(tl, `"opinion":"重复上报；与 2026-000001 相同"`) {
		t.Errorf("trail opinion: %s", tl)
	}
	long := strings.Repeat("长", 201)
	res = acc.form("POST", "/admin/replies", url.Values{"replies_dispatch": {"请今日处理"}, "replies_reject": {"重复上报\n" + long}})
	if res.StatusCode != 400 || !strings.Contains(res.body, long) || !strings.Contains(res.body, "请今日处理") {
		t.Errorf("refused page: %d, text lost", res.StatusCode)
	}
}

// TestTrackReplyAndExpectedBy: while a unit works on it, the resident's
// page gives the deadline as the expected completion; once the unit has
// answered, its written reply.
func TestTrackReplyAndExpectedBy(t *testing.T) {
	f := newFixture(t, testcity.SQLite(t))
	rec := f.mustReport(f.reportFields("人行道上共享单车乱停放", f.cell.Lat, f.cell.Lon))
	s := f.staff()
	c := caseByNo(t, s.acc, rec.CaseNo)
	s.acc.act(t, c.ID, map[string]any{"action": "accept"}, 200)
	s.acc.act(t, c.ID, map[string]any{"action": "dispatch"}, 200)
	if page := f.get("/track/" + rec.Receipt); !strings.Contains(page.body, `id="expected-by"`) || strings.Contains(page.body, `id="reply"`) {
		t.Errorf("dispatched: expected completion missing, or a reply before any")
	}
	s.hA.act(t, c.ID, map[string]any{"action": "acknowledge"}, 200)
	res := s.hA.multipart(fmt.Sprintf("/api/v1/cases/%d/actions", c.ID), url.Values{"action": {"feedback"}, "opinion": {"已联系运维公司清运，现场已恢复通行"}},
		map[string][]byte{"after.jpg": jpegPhoto(t, 98)})
	if res.StatusCode != 200 {
		t.Fatalf("feedback: %d %s", res.StatusCode, res.body)
	}
	page := f.get("/track/" + rec.Receipt)
	if !strings.Contains(page.body, `id="reply"`) || !strings.Contains(page.body, "已联系运维公司清运，现场已恢复通行") || strings.Contains(page.body, `id="expected-by"`) {
		t.Errorf("after the unit's feedback: reply missing, or still an expected time")
	}
	if strings.Contains(page.body, "13800000000") {
		t.Errorf("the public page shows the reporter")
	}
}

// TestCasePoints: the map's points follow the list's filters and scope.
func TestCasePoints(t *testing.T) {
	f := newFixture(t, testcity.SQLite(t))
	acc := f.login("acceptor")
	a := f.report(acc)
	f.report(acc)
	acc.act(t, a.ID, map[string]any{"action": "accept"}, 200)
	acc.act(t, a.ID, map[string]any{"action": "dispatch", "lead_unit_id": f.unitA.ID}, 200)
	type points struct {
		Points []struct {
			ID      int64   `json:"id"`
			Lat     float64 `json:"lat"`
			Warning int     `json:"warning"`
		} `json:"points"`
		More bool `json:"more"`
	}
	var p points
	acc.json("GET", "/api/v1/cases/points", nil).json(t, &p)
	if len(p.Points) != 2 || p.More || p.Points[0].Lat != 25.0 {
		t.Errorf("acceptor's points: %+v", p)
	}
	acc.json("GET", "/api/v1/cases/points?state=dispatched", nil).json(t, &p)
	if len(p.Points) != 1 || p.Points[0].ID != a.ID {
		t.Errorf("dispatched points: %+v", p)
	}
	f.login("handlerB").json("GET", "/api/v1/cases/points", nil).json(t, &p)
	if len(p.Points) != 0 {
		t.Errorf("unit B's handler sees %+v", p)
	}
	if r := acc.json("GET", "/api/v1/cases/points?state=nonsense", nil); r.StatusCode != 400 {
		t.Errorf("a bad filter: %d", r.StatusCode)
	}
}

// TestReversedRange: a date range given backwards is answered as such,
// with the dates as typed still in the form.
func TestReversedRange(t *testing.T) {
	f := newFixture(t, testcity.SQLite(t))
	acc := f.login("acceptor")
	res := acc.do("GET", "/cases?from=2026-12-01&to=2026-11-01", nil, "")
	if res.StatusCode != 400 || !strings.Contains(res.body, "开始日期不能晚于结束日期") || !strings.Contains(res.body, `name="from" value="2026-12-01"`) ||
		!strings.Contains(res.body, `name="to" value="2026-11-01"`) {
		t.Errorf("case list: %d, message or dates lost", res.StatusCode)
	}
	res = acc.do("GET", "/performance?from=2026-12-01&to=2026-11-01", nil, "")
	if res.StatusCode != 400 || !strings.Contains(res.body, "开始日期不能晚于结束日期") || !strings.Contains(res.body, `value="2026-12-01"`) {
		t.Errorf("performance: %d, message or dates lost", res.StatusCode)
	}
	if res := acc.json("GET", "/api/v1/cases?from=2026-12-01&to=2026-11-01", nil); res.StatusCode != 400 || !strings.Contains(res.body, "bad_range") && !strings.Contains(res.body, "开始日期") {
		t.Errorf("API: %d %s", res.StatusCode, res.body)
	}
}

// TestFirstPages: every role lands on a page with something to do: the
// volunteer coordinator on the resident's ways in rather than an empty
// queue, the leader with the way to the leader's screen.
func TestFirstPages(t *testing.T) {
	f := newFixture(t, testcity.SQLite(t))
	for user, want := range map[string]string{"volunteer": `id="home-report"`, "leader": `id="home-leader"`, "handlerA": `id="queue-to_handle"`,
		"acceptor": `id="queue-to_accept"`, "inspector": `id="queue-to_verify"`, "grid": `id="queue-my_cells"`} {
		body := f.login(user).do("GET", "/", nil, "").body
		if !strings.Contains(body, want) {
			t.Errorf("%s's first page lacks %s", user, want)
		}
		if user == "volunteer" && strings.Contains(body, `id="queue-`) {
			t.Errorf("the volunteer coordinator gets case queues")
		}
	}
}

// TestGzipResponses: pages and JSON go out gzipped to a client that asks;
// downloads and photos as they are.
func TestGzipResponses(t *testing.T) {
	f := newFixture(t, testcity.SQLite(t))
	acc := f.login("acceptor")
	f.report(acc)
	get := func(path string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest("GET", f.url+path, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		hc := &http.Client{Jar: acc.hc.Jar, Transport: &http.Transport{DisableCompression: true}}
		res, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, b
	}
	for _, path := range []string{"/cases", "/api/v1/cases", "/report"} {
		res, b := get(path)
		if res.Header.Get("Content-Encoding") != "gzip" {
			t.Errorf("%s: not gzipped (%s)", path, res.Header.Get("Content-Type"))
			continue
		}
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		plain, err := io.ReadAll(zr)
		if err != nil || len(plain) <= len(b) {
			t.Errorf("%s: %d bytes gzipped to %d (%v)", path, len(plain), len(b), err)
		}
	}
	if res, _ := get("/cases/export?format=csv"); res.Header.Get("Content-Encoding") != "" {
		t.Errorf("the export download: %q", res.Header.Get("Content-Encoding"))
	}
}

// TestTimeLeft: the handler's queue gives each case's working time left.
func TestTimeLeft(t *testing.T) {
	f := newFixture(t, testcity.SQLite(t))
	acc := f.login("acceptor")
	c := f.report(acc)
	acc.act(t, c.ID, map[string]any{"action": "accept"}, 200)
	acc.act(t, c.ID, map[string]any{"action": "dispatch", "lead_unit_id": f.unitA.ID}, 200)
	body := f.login("handlerA").do("GET", "/cases?queue=to_handle", nil, "").body
	if !regexp.MustCompile(`<span class="left w0">(剩 \d+ 工时|剩 \d+ 个工作日)</span>`).MatchString(body) {
		i := strings.Index(body, `id="cases"`)
		t.Errorf("no working time left in the queue: %.800s", body[max(i, 0):])
	}
}
