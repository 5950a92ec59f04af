package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"chuangwen/internal/apperr"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
	"chuangwen/internal/testcity"
	"chuangwen/internal/web"
)

type caseJSON struct {
	ID             int64    `json:"id"`
	No             string   `json:"no"`
	State          string   `json:"state"`
	Version        int      `json:"version"`
	LeadUnitID     int64    `json:"lead_unit_id"`
	AllowedActions []string `json:"allowed_actions"`
	Reporter       *struct {
		Name  string `json:"name"`
		Phone string `json:"phone"`
	} `json:"reporter"`
}

type errJSON struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// report files a case as the acceptor and returns it.
func (f *fixture) report(acceptor *client) caseJSON {
	f.t.Helper()
	res := acceptor.json("POST", "/api/v1/cases", map[string]any{
		"category_id": f.category.ID, "description": "幸福路口堆放垃圾", "region_id": f.comm.ID, "address": "幸福路1号",
		"lat": 25.0, "lon": 102.7, "source": "hotline", "reporter_name": "张先生", "reporter_phone": "13800000000",
	})
	if res.StatusCode != http.StatusCreated {
		f.t.Fatalf("report: %d %s", res.StatusCode, res.body)
	}
	var c caseJSON
	res.json(f.t, &c)
	return c
}

func (c *client) act(t *testing.T, id int64, body map[string]any, want int) caseJSON {
	t.Helper()
	res := c.json("POST", fmt.Sprintf("/api/v1/cases/%d/actions", id), body)
	if res.StatusCode != want {
		t.Fatalf("%v: status %d, want %d: %s", body["action"], res.StatusCode, want, res.body)
	}
	var out caseJSON
	if want == 200 {
		res.json(t, &out)
	}
	return out
}

func TestClosedLoopOverAPI(t *testing.T) {
	testcity.BothLong(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		acc, hA, hB, insp := f.login("acceptor"), f.login("handlerA"), f.login("handlerB"), f.login("inspector")
		c := f.report(acc)
		if c.State != "reported" || !strings.HasPrefix(c.No, "20") || c.Reporter == nil || c.Reporter.Phone != "13800000000" {
			t.Fatalf("reported case: %+v", c)
		}
		acc.act(t, c.ID, map[string]any{"action": "accept"}, 200)
		// dispatch with the responsibility table's default unit
		d := acc.act(t, c.ID, map[string]any{"action": "dispatch"}, 200)
		if d.LeadUnitID != f.unitA.ID || d.State != "dispatched" {
			t.Fatalf("dispatch: %+v", d)
		}
		// the unit handler sees no reporter
		var seen caseJSON
		hA.do("GET", fmt.Sprintf("/api/v1/cases/%d", c.ID), nil, "").json(t, &seen)
		if seen.Reporter != nil {
			t.Fatalf("handler sees reporter: %+v", seen.Reporter)
		}
		// another unit: not found, by API and by console URL
		if res := hB.do("GET", fmt.Sprintf("/api/v1/cases/%d", c.ID), nil, ""); res.StatusCode != 404 {
			t.Fatalf("other unit GET: %d", res.StatusCode)
		}
		if res := hB.do("GET", fmt.Sprintf("/cases/%d", c.ID), nil, ""); res.StatusCode != 404 {
			t.Fatalf("other unit console GET: %d", res.StatusCode)
		}
		hB.act(t, c.ID, map[string]any{"action": "acknowledge"}, 404)
		hA.act(t, c.ID, map[string]any{"action": "acknowledge", "version": d.Version}, 200)
		// a stale version conflicts
		hA.act(t, c.ID, map[string]any{"action": "comment", "opinion": "x", "version": d.Version}, 409)
		// handler may not close
		hA.act(t, c.ID, map[string]any{"action": "verify_pass"}, 403)
		// feedback without photo is refused; with one it passes (multipart)
		hA.act(t, c.ID, map[string]any{"action": "feedback", "opinion": "已清理"}, 400)
		res := hA.multipart(fmt.Sprintf("/api/v1/cases/%d/actions", c.ID), url.Values{"action": {"feedback"}, "opinion": {"已清理完毕"}}, map[string][]byte{"after.png": pngBytes(t)})
		if res.StatusCode != 200 {
			t.Fatalf("feedback: %d %s", res.StatusCode, res.body)
		}
		closed := insp.act(t, c.ID, map[string]any{"action": "verify_pass", "opinion": "现场核查已整改"}, 200)
		if closed.State != "closed" {
			t.Fatalf("after verify: %s", closed.State)
		}
		var trail []struct {
			Action, FromState, ToState string `json:"-"`
		}
		var raw []map[string]any
		tl := insp.do("GET", fmt.Sprintf("/api/v1/cases/%d/timeline", c.ID), nil, "")
		tl.json(t, &raw)
		var actions []string
		for _, e := range raw {
			actions = append(actions, e["action"].(string))
		}
		want := "report,accept,dispatch,acknowledge,feedback,verify_pass"
		if strings.Join(actions, ",") != want {
			t.Fatalf("timeline %v, want %s", actions, want)
		}
		_ = trail
		// a forbidden action names the state, in Chinese by default
		res = acc.json("POST", fmt.Sprintf("/api/v1/cases/%d/actions", c.ID), map[string]any{"action": "dispatch"})
		var e errJSON
		res.json(t, &e)
		if res.StatusCode != 409 || e.Error.Code != "conflict" || !strings.Contains(e.Error.Message, "已结案") {
			t.Fatalf("dispatch closed case: %d %s", res.StatusCode, res.body)
		}
		// the photo is served to the handler's unit but not to the other unit
		var full struct {
			Photos []struct{ ID int64 } `json:"photos"`
		}
		hA.do("GET", fmt.Sprintf("/api/v1/cases/%d", c.ID), nil, "").json(t, &full)
		if len(full.Photos) != 1 {
			t.Fatalf("photos: %+v", full)
		}
		p := fmt.Sprintf("/api/v1/cases/%d/photos/%d", c.ID, full.Photos[0].ID)
		// Until the worker has made the derived versions: 503, try again.
		if r := hA.do("GET", p, nil, ""); r.StatusCode != 503 || r.Header.Get("Retry-After") == "" {
			t.Fatalf("photo before derivation: %d %s", r.StatusCode, r.body)
		}
		if n, err := f.flow.PhotoJobs.Derive(context.Background(), "test"); err != nil || n != 1 {
			t.Fatalf("DerivePhotos = %d, %v", n, err)
		}
		for _, v := range []string{"", "?v=large", "?v=thumb"} {
			if r := hA.do("GET", p+v, nil, ""); r.StatusCode != 200 || r.Header.Get("Content-Type") != "image/jpeg" {
				t.Fatalf("photo%s: %d %s", v, r.StatusCode, r.Header.Get("Content-Type"))
			}
		}
		// The original is the office's only.
		if r := hA.do("GET", p+"?v=original", nil, ""); r.StatusCode != 403 {
			t.Fatalf("original for a handler: %d", r.StatusCode)
		}
		if r := acc.do("GET", p+"?v=original", nil, ""); r.StatusCode != 200 || r.Header.Get("Content-Type") != "image/png" {
			t.Fatalf("original for the acceptor: %d %s", r.StatusCode, r.Header.Get("Content-Type"))
		}
		if r := hB.do("GET", p, nil, ""); r.StatusCode != 404 {
			t.Fatalf("photo for other unit: %d", r.StatusCode)
		}
	})
}

// TestScenarios is the table of denials and bad input.
func TestScenarios(t *testing.T) {
	testcity.BothLong(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		acc := f.login("acceptor")
		c := f.report(acc)
		caseURL := fmt.Sprintf("/api/v1/cases/%d", c.ID)
		actURL := caseURL + "/actions"
		anon := f.anon()
		hA := f.login("handlerA")
		admin := f.login("admin")
		client := f.bearer(0)
		reader := f.bearerScoped(0, org.TokenRead)
		unitTok := f.bearer(f.unitB.ID)
		big := bytes.Repeat([]byte{0xff, 0xd8, 0xff, 0xe0}, 1<<20) // "JPEG" of 4 MB > 3 MB upload limit
		type tc struct {
			name    string
			run     func() response
			status  int
			want    []string
			notWant []string
		}
		cases := []tc{
			{"health", func() response { return anon.do("GET", "/healthz", nil, "") }, 200, []string{"ok"}, nil},
			{"metrics", func() response { return anon.do("GET", "/metrics", nil, "") }, 200, []string{"chuangwen_cases{state=\"reported\"} 1", "chuangwen_cases_overdue 0", "chuangwen_http_requests_total"}, nil},
			{"api needs auth", func() response { return anon.do("GET", "/api/v1/cases", nil, "") }, 401, []string{`"code":"unauthorized"`, "请先登录"}, nil},
			{"console redirects to login", func() response { return anon.do("GET", "/cases", nil, "") }, 303, nil, nil},
			{"bad bearer", func() response { c := f.anon(); c.token = "cw_forged"; return c.do("GET", "/api/v1/cases", nil, "") }, 401, []string{"令牌无效"}, nil},
			{"forged case id", func() response { return acc.do("GET", "/api/v1/cases/999999", nil, "") }, 404, []string{"not_found"}, nil},
			{"non-numeric case id", func() response { return acc.do("GET", "/api/v1/cases/abc", nil, "") }, 404, nil, nil},
			{"handler cannot see unassigned case", func() response { return hA.do("GET", caseURL, nil, "") }, 404, nil, []string{"张先生"}},
			{"unit token cannot see other unit's case", func() response { return unitTok.do("GET", caseURL, nil, "") }, 404, nil, nil},
			{"handler cannot accept", func() response { return hA.json("POST", actURL, map[string]any{"action": "accept"}) }, 404, nil, nil},
			{"acceptor cannot void", func() response { return acc.json("POST", actURL, map[string]any{"action": "void", "opinion": "x"}) }, 403, []string{"forbidden"}, nil},
			{"reject needs reason", func() response { return acc.json("POST", actURL, map[string]any{"action": "reject"}) }, 400, []string{"理由"}, nil},
			{"unknown action", func() response { return acc.json("POST", actURL, map[string]any{"action": "explode"}) }, 400, []string{"未知操作"}, nil},
			{"bad json", func() response { return acc.do("POST", actURL, strings.NewReader("{nope"), "application/json") }, 400, []string{"JSON"}, nil},
			{"unknown json field", func() response { return acc.json("POST", actURL, map[string]any{"action": "accept", "evil": 1}) }, 400, []string{"JSON"}, nil},
			{"bad coordinates", func() response {
				return acc.json("POST", "/api/v1/cases", map[string]any{"category_id": f.category.ID, "description": "x", "lat": 95.0, "lon": 102.0})
			}, 400, []string{"纬度"}, nil},
			{"half a coordinate", func() response {
				return acc.json("POST", "/api/v1/cases", map[string]any{"category_id": f.category.ID, "description": "x", "lat": 25.0})
			}, 400, []string{"坐标无效"}, nil},
			{"english errors on request", func() response {
				req, _ := http.NewRequest("GET", f.url+"/api/v1/cases/999999", nil)
				req.Header.Set("Authorization", "Bearer "+reader.token)
				req.Header.Set("Accept-Language", "en-US,en;q=0.9")
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				var b bytes.Buffer
				b.ReadFrom(res.Body)
				return response{StatusCode: res.StatusCode, body: b.String()}
			}, 404, []string{"Case not found"}, nil},
			{"oversized upload", func() response {
				return acc.multipart("/api/v1/cases", url.Values{"category_id": {fmt.Sprint(f.category.ID)}, "description": {"x"}, "address": {"a"}}, map[string][]byte{"big.jpg": big})
			}, 413, []string{"too_large"}, nil},
			{"photo over the per-file limit", func() response {
				return acc.multipart("/api/v1/cases", url.Values{"category_id": {fmt.Sprint(f.category.ID)}, "description": {"x"}, "address": {"a"}}, map[string][]byte{"big.jpg": big[:2<<20]})
			}, 413, []string{"照片超过"}, nil},
			{"not an image", func() response {
				return acc.multipart("/api/v1/cases", url.Values{"category_id": {fmt.Sprint(f.category.ID)}, "description": {"x"}, "address": {"a"}}, map[string][]byte{"evil.jpg": []byte("#!/bin/sh\necho hi\n")})
			}, 415, []string{"JPEG"}, nil},
			{"csrf missing on form", func() response {
				v := url.Values{"action": {"accept"}, "csrf": {"wrong"}}
				return acc.do("POST", fmt.Sprintf("/cases/%d/act", c.ID), strings.NewReader(v.Encode()), "application/x-www-form-urlencoded")
			}, 403, []string{"页面已过期"}, nil},
			{"csrf missing on cookie API write", func() response {
				cc := *acc
				cc.csrf = ""
				return cc.json("POST", actURL, map[string]any{"action": "accept"})
			}, 403, []string{"页面已过期"}, nil},
			{"cross-origin form", func() response {
				v := url.Values{"action": {"accept"}, "csrf": {acc.csrf}}
				req, _ := http.NewRequest("POST", f.url+fmt.Sprintf("/cases/%d/act", c.ID), strings.NewReader(v.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("Origin", "https://evil.example")
				res, err := acc.hc.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				return response{StatusCode: res.StatusCode}
			}, 403, nil, nil},
			{"admin-only route", func() response { return acc.do("GET", "/api/v1/users", nil, "") }, 403, nil, nil},
			{"admin lists users without hashes", func() response { return admin.do("GET", "/api/v1/users", nil, "") }, 200, []string{"acceptor"}, []string{"argon2id", "password_hash"}},
			{"client token may report", func() response {
				return client.json("POST", "/api/v1/cases", map[string]any{"category_id": f.category.ID, "description": "API 上报", "address": "建设路"})
			}, 201, []string{`"source":"api"`}, nil},
			{"client token cannot dispatch", func() response { return client.json("POST", actURL, map[string]any{"action": "dispatch"}) }, 403, nil, nil},
			{"must change password first", func() response { return f.login("fresh").do("GET", "/cases", nil, "") }, 303, nil, nil},
			{"must change password: api", func() response { return f.login("fresh").do("GET", "/api/v1/cases", nil, "") }, 403, []string{"修改初始密码"}, nil},
			{"openapi", func() response { return anon.do("GET", "/api/v1/openapi.json", nil, "") }, 200, []string{`"openapi":"3.0.3"`, "/api/v1/cases/{id}/actions"}, nil},
			{"list filters", func() response {
				return acc.do("GET", "/api/v1/cases?state=reported&category_id="+fmt.Sprint(f.category.ID)+"&from=2000-01-01&limit=5", nil, "")
			}, 200, []string{c.No}, nil},
			{"bad list filter", func() response { return acc.do("GET", "/api/v1/cases?from=yesterday", nil, "") }, 400, []string{"YYYY-MM-DD"}, nil},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				res := tc.run()
				if res.StatusCode != tc.status {
					t.Fatalf("status %d, want %d: %s", res.StatusCode, tc.status, res.body)
				}
				for _, w := range tc.want {
					if !strings.Contains(res.body, w) {
						t.Errorf("body lacks %q: %s", w, res.body)
					}
				}
				for _, w := range tc.notWant {
					if strings.Contains(res.body, w) {
						t.Errorf("body has %q: %s", w, res.body)
					}
				}
			})
		}
		// nothing above changed the case
		var after caseJSON
		acc.do("GET", caseURL, nil, "").json(t, &after)
		if after.State != "reported" || after.Version != c.Version {
			t.Fatalf("case changed by refused requests: %+v", after)
		}
	})
}

func TestLoginThrottle(t *testing.T) {
	f := newFixture(t, testcity.SQLite(t))
	clk := &testClock{t: time.Now()} // stands still unless moved
	f.orgs.Now = clk.Now
	c := f.anon()
	for i := 0; i < 5; i++ {
		res := c.form("POST", "/login", url.Values{"username": {"acceptor"}, "password": {"wrong"}})
		if res.StatusCode != 401 || !strings.Contains(res.body, "用户名或密码错误") {
			t.Fatalf("attempt %d: %d", i, res.StatusCode)
		}
	}
	// the fifth failure makes this address wait a second on this name
	res := c.form("POST", "/login", url.Values{"username": {"acceptor"}, "password": {testPassword}})
	if res.StatusCode != 429 || !strings.Contains(res.body, "1 秒后再试") {
		t.Fatalf("right after 5 failures the right password got %d", res.StatusCode)
	}
	clk.mu.Lock()
	clk.t = clk.t.Add(1100 * time.Millisecond)
	clk.mu.Unlock()
	if res := c.form("POST", "/login", url.Values{"username": {"acceptor"}, "password": {testPassword}}); res.StatusCode != 303 {
		t.Fatalf("after the wait the right password got %d", res.StatusCode)
	}
	// an unknown user answers like a wrong password
	res = f.anon().form("POST", "/login", url.Values{"username": {"nobody"}, "password": {"x"}})
	if res.StatusCode != 401 {
		t.Fatalf("unknown user: %d", res.StatusCode)
	}
}

// TestOpenAPIDocumentsEveryRoute checks the document against the routes
// the server actually answers: every /api/v1 path+method is documented and
// every documented operation answers (not 404/405 from the mux).
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	f := newFixture(t, testcity.SQLite(t))
	admin := f.login("admin")
	var doc struct {
		Paths map[string]map[string]struct {
			Summary   string         `json:"summary"`
			Responses map[string]any `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal([]byte(f.anon().do("GET", "/api/v1/openapi.json", nil, "").body), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Paths) < 20 {
		t.Fatalf("only %d paths documented", len(doc.Paths))
	}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			if op.Summary == "" || len(op.Responses) == 0 {
				t.Errorf("%s %s: no summary or responses", method, path)
			}
			p := strings.NewReplacer("{id}", "1", "{photo}", "1", "{day}", "2026-10-01").Replace(path)
			res := admin.do(strings.ToUpper(method), p, strings.NewReader("{}"), "application/json")
			if res.StatusCode == 405 || (res.StatusCode == 404 && strings.Contains(res.body, "404 page not found")) {
				t.Errorf("%s %s is documented but not routed (%d)", method, path, res.StatusCode)
			}
		}
	}
	// and the other direction: an undocumented API path is not served
	if res := admin.do("GET", "/api/v1/undocumented", nil, ""); res.StatusCode != 404 {
		t.Errorf("undocumented path answered %d", res.StatusCode)
	}
}

func TestSafeNext(t *testing.T) {
	f := newFixture(t, testcity.SQLite(t))
	for next, want := range map[string]string{
		"/cases?queue=overdue": "/cases?queue=overdue",
		"//evil.example":       "/",
		"/./\\evil.example":    "/",
		"/\t/evil.example":     "/",
		"https://evil.example": "/",
		"/a/../b":              "/b",
		"/%5cevil.example":     "/",
		"/%5Cevil.example":     "/",
		"/%09/evil.example":    "/",
		"/%2f%2fevil.example":  "/evil.example",
		"/cases/%E5%BE%85":     "/cases/%E5%BE%85",
	} {
		c := f.anon()
		res := c.form("POST", "/login", url.Values{"username": {"acceptor"}, "password": {testPassword}, "next": {next}})
		if loc := res.Header.Get("Location"); res.StatusCode != 303 || loc != want {
			t.Errorf("next=%q: %d Location %q, want %q", next, res.StatusCode, loc, want)
		}
	}
	// the language switch goes back to the Referer's path, checked alike
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for referer, want := range map[string]string{
		f.url + "/cases?queue=overdue":  "/cases?queue=overdue",
		f.url + "/%5cevil.example":      "/",
		f.url + "/%09/evil.example":     "/",
		"https://evil.example/anything": "/",
	} {
		req, _ := http.NewRequest("GET", f.url+"/lang/en", nil)
		req.Header.Set("Referer", referer)
		res, err := noFollow.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if loc := res.Header.Get("Location"); res.StatusCode != 303 || loc != want {
			t.Errorf("language switch from %q: %d Location %q, want %q", referer, res.StatusCode, loc, want)
		}
	}
	// a login posted from another site is refused
	req, _ := http.NewRequest("POST", f.url+"/login", strings.NewReader("username=acceptor&password="+url.QueryEscape(testPassword)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 403 {
		t.Errorf("cross-site login: %d", res.StatusCode)
	}
}

// TestMultipartTempFilesRemoved: a large multipart body spills to temp
// files; they must be gone once the request is answered, whether it was
// refused (bad CSRF token) or served.
func TestMultipartTempFilesRemoved(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	f := newFixture(t, testcity.SQLite(t))
	f.srv.MaxUploadBytes = 20 << 20
	acc := f.login("acceptor")
	c := f.report(acc)
	// 12 MB: more than the 8 MB a form keeps in memory, so it spills to
	// disk; over the 1 MB photo limit, under the 20 MB body limit
	body := bytes.Repeat([]byte{0xff, 0xd8, 0xff, 0xe0}, 12<<20/4)
	big := map[string][]byte{"a.jpg": body}
	bad := *acc
	bad.csrf = "wrong"
	for _, cl := range []*client{&bad, acc} {
		res := cl.multipart(fmt.Sprintf("/cases/%d/act", c.ID), url.Values{"action": {"comment"}, "opinion": {"x"}}, big)
		if res.StatusCode != 403 && res.StatusCode != 413 {
			t.Fatalf("status %d: %s", res.StatusCode, res.body)
		}
	}
	left, err := filepath.Glob(filepath.Join(tmp, "multipart-*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(left) > 0 {
		t.Fatalf("multipart temp files left behind: %v", left)
	}
}

// TestMetricsAccess: /metrics from this host straight to the program; a
// request a proxy relayed (forwarding headers), a unit's or a partner's
// API token, or a wrong scrape token is refused; the scrape token and an
// administrator's session read it.
func TestMetricsAccess(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testcity.SQLite(t)).withServer(func(s *web.Server) { s.MetricsToken = "scrape-secret-0123456789" })
	get := func(c *client, headers map[string]string) response {
		t.Helper()
		req, err := http.NewRequest("GET", f.url+"/metrics", nil)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		hc := http.DefaultClient
		if c != nil {
			hc = c.hc // its session cookie
			if c.token != "" {
				req.Header.Set("Authorization", "Bearer "+c.token)
			}
		}
		res, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return response{StatusCode: res.StatusCode, body: string(b)}
	}
	scraper := f.anon()
	scraper.token = "scrape-secret-0123456789"
	wrong := f.anon()
	wrong.token = "scrape-secret-0123456780"
	for _, tc := range []struct {
		name    string
		c       *client
		headers map[string]string
		status  int
	}{
		{"loopback, straight", nil, nil, 200},
		{"relayed: X-Forwarded-For", nil, map[string]string{"X-Forwarded-For": "203.0.113.9"}, 401},
		{"relayed: X-Real-IP", nil, map[string]string{"X-Real-IP": "203.0.113.9"}, 401},
		{"relayed: Forwarded", nil, map[string]string{"Forwarded": "for=203.0.113.9"}, 401},
		{"relayed, a unit's token", f.bearer(f.unitB.ID), map[string]string{"X-Forwarded-For": "203.0.113.9"}, 403},
		{"relayed, a partner's token", f.bearer(0), map[string]string{"X-Forwarded-For": "203.0.113.9"}, 403},
		{"relayed, a wrong scrape token", wrong, map[string]string{"X-Forwarded-For": "203.0.113.9"}, 401},
		{"relayed, the scrape token", scraper, map[string]string{"X-Forwarded-For": "203.0.113.9"}, 200},
		{"relayed, an acceptor", f.login("acceptor"), map[string]string{"X-Forwarded-For": "203.0.113.9"}, 403},
		{"relayed, an administrator", f.login("admin"), map[string]string{"X-Forwarded-For": "203.0.113.9"}, 200},
	} {
		res := get(tc.c, tc.headers)
		if res.StatusCode != tc.status {
			t.Errorf("%s: %d, want %d: %.200s", tc.name, res.StatusCode, tc.status, res.body)
		}
		if got := strings.Contains(res.body, "chuangwen_cases_overdue "); got != (tc.status == 200) {
			t.Errorf("%s: case counts in the answer: %v", tc.name, got)
		}
	}
}

// TestInvalidTextRefused: a NUL byte or bytes that are not UTF-8 get a 400
// with a message on every way text comes in (the API's JSON, as raw bytes
// or as a \u0000 escape; a console form; Open311; a search answers, never
// 500), on both
// engines: PostgreSQL answered 500 and SQLite stored them raw. Nothing is
// stored.
func TestInvalidTextRefused(t *testing.T) {
	testcity.BothLong(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		acc := f.login("acceptor")
		admin := f.login("admin")
		tok, err := f.orgs.CreateToken(context.Background(), org.System, "热线", 0)
		if err != nil {
			t.Fatal(err)
		}
		newCase := func(desc string) map[string]any {
			return map[string]any{"category_id": f.category.ID, "description": desc, "region_id": f.comm.ID, "address": "幸福路1号",
				"lat": 25.0, "lon": 102.7, "source": "hotline", "reporter_name": "张先生", "reporter_phone": "13800000000"}
		}
		raw, _ := json.Marshal(newCase("幸福路口REPLACE堆放垃圾"))
		for name, res := range map[string]response{
			"API, \\u0000":   acc.json("POST", "/api/v1/cases", newCase("幸福路口\x00堆放垃圾")),
			"API, raw bytes": acc.do("POST", "/api/v1/cases", bytes.NewReader(bytes.Replace(raw, []byte("REPLACE"), []byte{0xff, 0xfe}, 1)), "application/json"),
			"console form":   admin.form("POST", "/admin/units", url.Values{"code": {"XX"}, "name": {"单位\x00"}, "kind": {"department"}}),
			"Open311": func() response {
				res, err := send(f.url, "POST", "/open311/v2/requests.json", []byte(url.Values{"api_key": {tok.Secret}, "service_code": {f.category.Code},
					"lat": {"25.0001"}, "long": {"102.7001"}, "description": {"绿化带\xff垃圾"}}.Encode()), "application/x-www-form-urlencoded", nil)
				if err != nil {
					t.Fatal(err)
				}
				return res
			}(),
		} {
			if res.StatusCode != 400 || !strings.Contains(res.body, "无效字符") {
				t.Errorf("%s: %d %.300s", name, res.StatusCode, res.body)
			}
		}
		// An Open311 request id of such bytes is the client's error.
		for _, p := range []string{"/open311/v2/requests/%FF.json", "/open311/v2/requests/%00.xml"} {
			res, err := send(f.url, "GET", p, nil, "", nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != 400 {
				t.Errorf("GET %s: %d %.200s", p, res.StatusCode, res.body)
			}
		}
		// A search for such bytes finds nothing, and says so.
		for _, q := range []string{"%00", "%FF%FE", "%E5%9E"} {
			if res := acc.do("GET", "/api/v1/cases?q="+q, nil, ""); res.StatusCode != 200 && res.StatusCode != 400 {
				t.Errorf("search q=%s: %d %.200s", q, res.StatusCode, res.body)
			}
		}
		var n int
		if err := db.Reader().QueryRow(context.Background(), `SELECT count(*) FROM cases`).Scan(&n); err != nil || n != 0 {
			t.Errorf("%d cases stored (%v)", n, err)
		}
		if err := db.Reader().QueryRow(context.Background(), `SELECT count(*) FROM units WHERE code = 'XX'`).Scan(&n); err != nil || n != 0 {
			t.Errorf("the unit was stored: %d (%v)", n, err)
		}
	})
}

// TestTokenScopes: each API token scope opens what it names and nothing
// more. A partner's token (open311, the default without a unit) no longer
// reads the city's cases on the staff API; a file token files but does
// not read; a read token reads but does not write, here or on Open311; a
// unit token is its unit's handler.
func TestTokenScopes(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testcity.SQLite(t))
	c := f.report(f.login("acceptor"))
	caseURL := fmt.Sprintf("/api/v1/cases/%d", c.ID)
	newCase := map[string]any{"category_id": f.category.ID, "description": "热线转来：路灯不亮", "lat": 25.0, "lon": 102.7, "source": "hotline"}
	open311 := func(cl *client) response {
		res, err := send(f.url, "POST", "/open311/v2/requests.json", []byte(url.Values{"api_key": {cl.token}, "service_code": {f.category.Code},
			"lat": {"25.0001"}, "long": {"102.7001"}, "description": {"绿化带垃圾"}}.Encode()), "application/x-www-form-urlencoded", nil)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	def, err := f.orgs.CreateToken(context.Background(), org.System, "partner", 0)
	if err != nil || def.Scope != org.TokenOpen311 {
		t.Fatalf("a token without a unit: scope %q (%v), want open311", def.Scope, err)
	}
	partner := f.anon()
	partner.token = def.Secret
	for _, tc := range []struct {
		scope                                   string
		cl                                      *client
		list, read, file, act, openFiling, cats int
	}{
		{org.TokenOpen311, partner, 403, 403, 403, 403, 200, 403},
		{org.TokenFile, f.bearerScoped(0, org.TokenFile), 403, 403, 201, 403, 200, 200},
		{org.TokenRead, f.bearerScoped(0, org.TokenRead), 200, 200, 403, 403, 403, 200},
		{org.TokenUnit, f.bearerScoped(f.unitA.ID, org.TokenUnit), 200, 404, 403, 404, 403, 200},
	} {
		for what, got := range map[string][2]int{
			"list":          {tc.list, tc.cl.do("GET", "/api/v1/cases", nil, "").StatusCode},
			"read a case":   {tc.read, tc.cl.do("GET", caseURL, nil, "").StatusCode},
			"file a case":   {tc.file, tc.cl.json("POST", "/api/v1/cases", newCase).StatusCode},
			"act":           {tc.act, tc.cl.json("POST", caseURL+"/actions", map[string]any{"action": "comment", "opinion": "x"}).StatusCode},
			"Open311 files": {tc.openFiling, open311(tc.cl).StatusCode},
			"categories":    {tc.cats, tc.cl.do("GET", "/api/v1/categories", nil, "").StatusCode},
		} {
			if got[0] != got[1] {
				t.Errorf("%s token, %s: %d, want %d", tc.scope, what, got[1], got[0])
			}
		}
	}
	// what cannot be made
	for _, bad := range []struct {
		unit  int64
		scope string
	}{{0, org.TokenUnit}, {f.unitA.ID, org.TokenRead}, {0, "admin"}} {
		if _, err := f.orgs.CreateScopedToken(context.Background(), org.System, "x", bad.unit, bad.scope); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("unit %d scope %s: %v", bad.unit, bad.scope, err)
		}
	}
}

// TestSessionsListAndEnd: the account page lists the user's signed-in
// browsers; one can be signed out from another, or all others at once;
// an administrator signs a user out everywhere; another user's session
// cannot be named; each ending is on the trail.
func TestSessionsListAndEnd(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testcity.SQLite(t))
	phone, desk, laptop := f.login("leader"), f.login("leader"), f.login("leader")
	other := f.login("acceptor")
	page := desk.do("GET", "/password", nil, "")
	ids := regexp.MustCompile(`name="session" value="([0-9a-f]{64})"`).FindAllStringSubmatch(page.body, -1)
	if page.StatusCode != 200 || len(ids) != 2 || !strings.Contains(page.body, "本设备") || !strings.Contains(page.body, "退出其他所有设备") {
		t.Fatalf("account page: %d, %d other sessions listed", page.StatusCode, len(ids))
	}
	// the acceptor cannot end the leader's session by naming it
	if res := other.form("POST", "/account/sessions/end", url.Values{"session": {ids[0][1]}}); res.StatusCode != 404 {
		t.Errorf("another user's session: %d", res.StatusCode)
	}
	if res := desk.form("POST", "/account/sessions/end", url.Values{"session": {ids[0][1]}}); res.StatusCode != 303 {
		t.Fatalf("end one: %d %s", res.StatusCode, res.body)
	}
	alive := func(c *client) bool { return c.do("GET", "/api/v1/cases", nil, "").StatusCode == 200 }
	if n := btoi(alive(phone)) + btoi(alive(laptop)); n != 1 || !alive(desk) {
		t.Fatalf("after ending one of two others: %d others alive, desk %v", n, alive(desk))
	}
	if res := desk.form("POST", "/account/sessions/end", url.Values{"others": {"1"}}); res.StatusCode != 303 {
		t.Fatalf("end others: %d", res.StatusCode)
	}
	if alive(phone) || alive(laptop) || !alive(desk) {
		t.Fatalf("after ending the others: phone %v laptop %v desk %v", alive(phone), alive(laptop), alive(desk))
	}
	// the administrator signs the leader out everywhere
	var leaderID int64
	if err := f.db.Reader().QueryRow(context.Background(), `SELECT id FROM users WHERE username = 'leader'`).Scan(&leaderID); err != nil {
		t.Fatal(err)
	}
	if res := f.login("admin").form("POST", fmt.Sprintf("/admin/users/%d/sessions/end", leaderID), url.Values{}); res.StatusCode != 303 {
		t.Fatalf("admin: %d", res.StatusCode)
	}
	if alive(desk) || !alive(other) {
		t.Errorf("after the administrator's sign-out: leader %v, acceptor %v", alive(desk), alive(other))
	}
	var n int
	if err := f.db.Reader().QueryRow(context.Background(), `SELECT count(*) FROM events WHERE action = 'session.end'`).Scan(&n); err != nil || n != 3 {
		t.Errorf("%d session.end entries on the trail (%v), want 3", n, err)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
