package web_test

import (
	"context"
	"flag"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"chuangwen/internal/geo"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
	"chuangwen/internal/testcity"
	"chuangwen/internal/workflow"
)

// Open311 GeoReport v2 end to end over the real case store: the protocol
// layer has its own golden tests against an in-memory backend; these check
// the backend (services from categories, requests from cases, tokens from
// receipts) and that no reporter data ever leaves through it.

var update = flag.Bool("update", false, "rewrite the golden files under testdata/open311")

// o311 talks to the fixture's Open311 endpoint and keeps every answer for
// the privacy check at the end.
type o311 struct {
	t      *testing.T
	f      *fixture
	bodies []string
}

func (o *o311) get(path string) response {
	o.t.Helper()
	res, err := send(o.f.url, "GET", "/open311/v2/"+path, nil, "", nil)
	if err != nil {
		o.t.Fatalf("GET %s: %v", path, err)
	}
	o.bodies = append(o.bodies, res.body)
	return res
}

func (o *o311) post(path string, form url.Values) response {
	o.t.Helper()
	res, err := send(o.f.url, "POST", "/open311/v2/"+path, []byte(form.Encode()), "application/x-www-form-urlencoded", nil)
	if err != nil {
		o.t.Fatalf("POST %s: %v", path, err)
	}
	o.bodies = append(o.bodies, res.body)
	return res
}

// noticeReceipt finds the receipt code in a POST answer's service_notice.
var noticeReceipt = regexp.MustCompile(`查询码 ([23456789ABCDEFGHJKMNPQRSTUVWXYZ]{10})`)

// golden compares an answer with testdata/open311/name after replacing
// what changes from run to run: the server's address and the receipt
// code (random by design).
func (o *o311) golden(name string, res response) {
	o.t.Helper()
	if res.StatusCode != 200 {
		o.t.Errorf("%s: status %d: %s", name, res.StatusCode, res.body)
		return
	}
	wantCT := "application/json; charset=utf-8"
	if strings.HasSuffix(name, ".xml") {
		wantCT = "text/xml; charset=utf-8"
	}
	if ct := res.Header.Get("Content-Type"); ct != wantCT {
		o.t.Errorf("%s: Content-Type %q, want %q", name, ct, wantCT)
	}
	body := strings.ReplaceAll(res.body, strings.TrimPrefix(o.f.url, "http://"), "HOST")
	body = noticeReceipt.ReplaceAllString(body, "查询码 RECEIPT")
	path := filepath.Join("testdata", "open311", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			o.t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			o.t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		o.t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(want) != body {
		o.t.Errorf("%s differs from the golden file (run with -update after checking):\n--- got\n%s\n--- want\n%s", name, body, want)
	}
}

// o311Request is a service request as GeoReport JSON shows it.
type o311Request struct {
	ID                string   `json:"service_request_id"`
	Status            string   `json:"status"`
	StatusNotes       *string  `json:"status_notes"`
	ServiceCode       string   `json:"service_code"`
	ServiceName       string   `json:"service_name"`
	Description       string   `json:"description"`
	AgencyResponsible *string  `json:"agency_responsible"`
	Requested         string   `json:"requested_datetime"`
	Updated           string   `json:"updated_datetime"`
	Expected          *string  `json:"expected_datetime"`
	Address           *string  `json:"address"`
	Lat               *float64 `json:"lat"`
	Long              *float64 `json:"long"`
	MediaURL          *string  `json:"media_url"`
	Attributes        []struct {
		Code, Value string
	} `json:"attributes"`
	Extended *struct {
		Channel string `json:"channel"`
		Photos  []struct {
			MediaURL string `json:"media_url"`
		} `json:"photos"`
		Duplicate bool    `json:"duplicate"`
		ParentID  *string `json:"parent_service_request_id"`
	} `json:"extended_attributes"`
	Notes []struct {
		At          string `json:"datetime"`
		Description string `json:"description"`
		Type        string `json:"type"`
		Summary     string `json:"summary"`
	} `json:"notes"`
}

func (o *o311) requests(query string) []o311Request {
	o.t.Helper()
	res := o.get("requests.json?" + query)
	if res.StatusCode != 200 {
		o.t.Fatalf("requests?%s: %d %s", query, res.StatusCode, res.body)
	}
	var rs []o311Request
	res.json(o.t, &rs)
	return rs
}

func (o *o311) ids(query string) []string {
	o.t.Helper()
	var out []string
	for _, r := range o.requests(query) {
		out = append(out, r.ID)
	}
	return out
}

func (o *o311) one(id, query string) o311Request {
	o.t.Helper()
	res := o.get("requests/" + id + ".json?" + query)
	var rs []o311Request
	if res.StatusCode != 200 {
		o.t.Fatalf("request %s: %d %s", id, res.StatusCode, res.body)
	}
	res.json(o.t, &rs)
	if len(rs) != 1 {
		o.t.Fatalf("request %s: %s", id, res.body)
	}
	return rs[0]
}

// wantO311Error checks a GeoReport error answer: the status, and the
// body's code and (Chinese) description.
func (o *o311) wantError(what string, res response, status int, desc string) {
	o.t.Helper()
	if res.StatusCode != status {
		o.t.Errorf("%s: status %d, want %d: %s", what, res.StatusCode, status, res.body)
		return
	}
	var errs []struct {
		Code        int    `json:"code"`
		Description string `json:"description"`
	}
	res.json(o.t, &errs)
	if len(errs) != 1 || errs[0].Code != status || !strings.Contains(errs[0].Description, desc) {
		o.t.Errorf("%s: %s, want code %d with %q", what, res.body, status, desc)
	}
}

// created reads a POST answer and returns the request id and receipt.
func (o *o311) created(what string, res response) (id, receipt string) {
	o.t.Helper()
	if res.StatusCode != 200 {
		o.t.Fatalf("%s: %d %s", what, res.StatusCode, res.body)
	}
	m := noticeReceipt.FindStringSubmatch(res.body)
	if m == nil {
		o.t.Fatalf("%s: no receipt in the notice: %s", what, res.body)
	}
	if strings.HasSuffix(strings.TrimSpace(res.body), ">") { // XML
		id = regexp.MustCompile(`<service_request_id>([^<]+)</service_request_id>`).FindStringSubmatch(res.body)[1]
		return id, m[1]
	}
	var rs []struct {
		ID string `json:"service_request_id"`
	}
	res.json(o.t, &rs)
	if len(rs) != 1 || rs[0].ID == "" {
		o.t.Fatalf("%s: %s", what, res.body)
	}
	return rs[0].ID, m[1]
}

func TestOpen311EndToEnd(t *testing.T) {
	testcity.BothLong(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		loc := f.flow.Location
		clk := f.useClock(time.Date(2026, 7, 14, 9, 30, 0, 0, loc), 0)
		at := func(day, h, m int) { clk.Set(time.Date(2026, 7, day, h, m, 0, 0, loc)) }
		admin := org.Actor{Name: "test", Role: org.RoleAdmin, Scope: org.ScopeCity}
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		// The catalogue: three public 小类 in two 大类 (the test city's
		// two and 占道停车), one staff-only, one switched off.
		garbage := f.category
		garbage.Hint = "生活垃圾、建筑垃圾，散落垃圾"
		_, err := f.flow.SaveCategory(ctx, admin, garbage)
		must(err)
		must(f.flow.SetCategoryAttributes(ctx, admin, garbage.ID, []workflow.Attribute{
			{Code: "blind_lane", Datatype: "singlevaluelist", Required: true, Description: "是否占用盲道", Order: 1,
				Values: []workflow.AttrValue{{Key: "yes", Name: "是"}, {Key: "no", Name: "否"}}},
			{Code: "pieces", Datatype: "number", Description: "堆放数量（袋）", Order: 2},
		}))
		_, err = f.flow.SaveCategory(ctx, admin, workflow.Category{Code: "0104", ParentID: garbage.ParentID, Name: "内部巡查项", LimitUnit: "hours", LimitNormal: 4, StaffOnly: true})
		must(err)
		off, err := f.flow.SaveCategory(ctx, admin, workflow.Category{Code: "0105", ParentID: garbage.ParentID, Name: "已停用类别", LimitUnit: "hours", LimitNormal: 4})
		must(err)
		off.Active = false
		_, err = f.flow.SaveCategory(ctx, admin, off)
		must(err)
		traffic, err := f.flow.SaveCategory(ctx, admin, workflow.Category{Code: "02", Name: "交通秩序"})
		must(err)
		_, err = f.flow.SaveCategory(ctx, admin, workflow.Category{Code: "0201", ParentID: traffic.ID, Name: "占道停车", LimitUnit: "hours", LimitNormal: 2, Hint: "机动车占用人行道、盲道"})
		must(err)
		clientTok, err := f.orgs.CreateToken(ctx, org.System, "12345热线", 0)
		must(err)
		unitTok, err := f.orgs.CreateToken(ctx, org.System, "城管业务系统", f.unitA.ID)
		must(err)

		o := &o311{t: t, f: f}
		for _, ext := range []string{"json", "xml"} {
			o.golden("discovery."+ext, o.get("discovery."+ext))
			o.golden("services."+ext, o.get("services."+ext))
			o.golden("definition_0101."+ext, o.get("services/0101."+ext))
		}

		// Reporter data goes in and must never come out.
		secrets := []string{"李雷", "13912345678", "lilei@example.com", "韩梅梅", "13700007777", "hanmeimei@example.com", "open311-device-7", "钱先生", "13600006666"}
		base := func(code, lat, long, desc string) url.Values {
			return url.Values{"api_key": {clientTok.Secret}, "service_code": {code}, "lat": {lat}, "long": {long}, "description": {desc}}
		}
		first := base("0101", "25.0001", "102.7001", "幸福路口堆放建筑垃圾约三袋")
		first.Set("address_string", "幸福路12号")
		// FixMyStreet splits "李 雷" at the space: first_name 李, last_name 雷.
		first.Set("first_name", "李")
		first.Set("last_name", "雷")
		first.Set("phone", "13912345678")
		first.Set("email", "lilei@example.com")
		first.Set("device_id", "open311-device-7")
		first.Set("account_id", "acct-42")
		first.Set("attribute[blind_lane]", "yes")
		first.Set("attribute[pieces]", "3")
		res := o.post("requests.json", first)
		o.golden("post.json", res)
		no1, receipt1 := o.created("first POST", res)

		at(14, 9, 35)
		second := base("0201", "24.9992", "102.6991", "人行道上停放多辆机动车")
		second.Set("first_name", "韩")
		second.Set("last_name", "梅梅")
		second.Set("phone", "13700007777")
		second.Set("email", "hanmeimei@example.com")
		res = o.post("requests.xml", second)
		o.golden("post.xml", res)
		no2, _ := o.created("second POST", res)
		if no1 != "2026-000001" || no2 != "2026-000002" {
			t.Fatalf("request ids %s %s: the case numbers", no1, no2)
		}

		// a citizen's report with a photo, from the public page
		at(14, 9, 40)
		pub := f.reportFields("绿化带内散落垃圾", 25.0006, 102.7)
		pub.Set("name", "钱先生")
		pub.Set("phone", "13600006666")
		rec3 := f.mustReport(pub)
		no3 := rec3.CaseNo
		at(14, 9, 41)
		if n, err := f.flow.PhotoJobs.Derive(ctx, "test"); err != nil || n != 1 {
			t.Fatalf("DerivePhotos: %d %v", n, err)
		}
		// the first request goes through the office to the unit
		s := f.staff()
		c1 := caseByNo(t, s.acc, no1)
		if c1.Reporter == nil || c1.Reporter.Name != "李雷" || c1.Reporter.Phone != "13912345678" || c1.Source != "api" {
			t.Fatalf("the office should see the Open311 reporter: %+v source %s", c1.Reporter, c1.Source)
		}
		if c1.Routing == nil || c1.Routing.Location.CellCode != "330102001001005" {
			t.Fatalf("placed: %+v", c1.Routing)
		}
		at(14, 9, 50)
		s.acc.act(t, c1.ID, map[string]any{"action": "accept"}, 200)
		at(14, 9, 55)
		s.acc.act(t, c1.ID, map[string]any{"action": "dispatch"}, 200)
		at(14, 10, 5)
		s.hA.act(t, c1.ID, map[string]any{"action": "acknowledge"}, 200)

		for _, ext := range []string{"json", "xml"} {
			o.golden("requests."+ext, o.get("requests."+ext+"?start_date=2026-07-14&end_date=2026-07-14"))
			o.golden("request."+ext, o.get("requests/"+no1+"."+ext+"?extensions=true"))
		}

		// tokens are receipt codes
		res = o.get("tokens/" + receipt1 + ".json")
		var toks []struct {
			ID    string `json:"service_request_id"`
			Token string `json:"token"`
		}
		res.json(t, &toks)
		if res.StatusCode != 200 || len(toks) != 1 || toks[0].ID != no1 || toks[0].Token != receipt1 {
			t.Errorf("token: %d %s", res.StatusCode, res.body)
		}
		if res := o.get("tokens/" + strings.ToLower(receipt1) + ".xml"); res.StatusCode != 200 || !strings.Contains(res.body, "<service_request_id>"+no1+"</service_request_id>") {
			t.Errorf("token in lower case, XML: %d %s", res.StatusCode, res.body)
		}
		o.wantError("unknown token", o.get("tokens/ZZZZZZZZZZ.json"), 404, "不存在的令牌")
		// the receipt also opens the citizen's status page
		if page := f.get("/track/" + receipt1); page.StatusCode != 200 || !strings.Contains(page.body, no1) {
			t.Errorf("status page of an Open311 receipt: %d", page.StatusCode)
		}

		// filters
		day := "start_date=2026-07-14&end_date=2026-07-14"
		if got := o.ids("service_request_id=" + no1 + "," + no3); !slices.Equal(got, []string{no3, no1}) {
			t.Errorf("by id: %v", got)
		}
		if got := o.ids("service_code=0201&" + day); !slices.Equal(got, []string{no2}) {
			t.Errorf("by service: %v", got)
		}
		if got := o.ids("service_code=0101,0201&" + day); !slices.Equal(got, []string{no3, no2, no1}) {
			t.Errorf("by two services: %v", got)
		}
		at(14, 10, 10)
		s.acc.act(t, caseByNo(t, s.acc, no2).ID, map[string]any{"action": "reject", "opinion": "属物业管理范围"}, 200)
		if got := o.ids("status=closed&" + day); !slices.Equal(got, []string{no2}) {
			t.Errorf("closed: %v", got)
		}
		if got := o.ids("status=open&" + day); !slices.Equal(got, []string{no3, no1}) {
			t.Errorf("open: %v", got)
		}
		if got := o.ids("status=open,closed&" + day); len(got) != 3 {
			t.Errorf("open and closed: %v", got)
		}
		o.wantError("bad status", o.get("requests.json?status=done&"+day), 400, "不支持的状态")
		if r := o.one(no2, ""); r.Status != "closed" || r.StatusNotes == nil || *r.StatusNotes != "不予受理" {
			t.Errorf("rejected request: %+v", r)
		}

		// two days later, a request sent in GCJ-02 (AMap) coordinates
		at(16, 10, 0)
		w4 := geo.Point{Lon: 102.7004, Lat: 25.0004}
		g4 := geo.FromWGS84(w4, geo.GCJ02)
		fourth := base("0201", ftoa(g4.Lat), ftoa(g4.Lon), "小区门口车辆乱停")
		fourth.Set("coord", "gcj02")
		no4, _ := o.created("GCJ-02 POST", o.post("requests.json", fourth))
		r4 := o.one(no4, "")
		if r4.Lat == nil || !near(*r4.Lat, w4.Lat, 1e-5) || !near(*r4.Long, w4.Lon, 1e-5) {
			t.Errorf("stored position %v,%v, want WGS-84 %v", deref(r4.Lat), deref(r4.Long), w4)
		}
		if c := caseByNo(t, s.acc, no4); c.Routing == nil || c.Routing.Location.CellCode != "330102001001005" {
			t.Errorf("GCJ-02 request placed in %+v", c.Routing)
		}
		// and read back in GCJ-02
		wantG := geo.FromWGS84(geo.Point{Lon: *r4.Long, Lat: *r4.Lat}, geo.GCJ02)
		if r := o.one(no4, "coord=gcj02"); r.Lat == nil || !near(*r.Lat, wantG.Lat, 1e-9) || !near(*r.Long, wantG.Lon, 1e-9) || near(*r.Lat, *r4.Lat, 1e-5) {
			t.Errorf("coord=gcj02: %v,%v, want %v", deref(r.Lat), deref(r.Long), wantG)
		}
		wantB := geo.FromWGS84(geo.Point{Lon: *r4.Long, Lat: *r4.Lat}, geo.BD09)
		if rs := o.requests("service_request_id=" + no4 + "&coord=bd09"); len(rs) != 1 || !near(*rs[0].Lat, wantB.Lat, 1e-9) || !near(*rs[0].Long, wantB.Lon, 1e-9) {
			t.Errorf("coord=bd09 on the list: %+v", rs)
		}

		week := "start_date=2026-07-14&end_date=2026-07-20"
		if got := o.ids("start_date=2026-07-15&end_date=2026-07-20"); !slices.Equal(got, []string{no4}) {
			t.Errorf("from the 15th: %v", got)
		}
		if got := o.ids(day); !slices.Equal(got, []string{no3, no2, no1}) {
			t.Errorf("the 14th: %v", got)
		}
		if got := o.ids("start_date=" + url.QueryEscape("2026-07-14T09:36:00+08:00") + "&end_date=" + url.QueryEscape("2026-07-16T09:59:59+08:00")); !slices.Equal(got, []string{no3}) {
			t.Errorf("between two times: %v", got)
		}
		if got := o.ids(week); !slices.Equal(got, []string{no4, no3, no2, no1}) {
			t.Errorf("the week: %v", got)
		}
		o.wantError("span over 90 days", o.get("requests.json?start_date=2026-01-01&end_date=2026-07-14"), 400, "90")

		// updated_after: what changed since the last sync
		at(16, 11, 0)
		s.acc.act(t, caseByNo(t, s.acc, no3).ID, map[string]any{"action": "accept"}, 200)
		if got := o.ids("updated_after=" + url.QueryEscape("2026-07-16T10:30:00+08:00")); !slices.Equal(got, []string{no3}) {
			t.Errorf("updated after 10:30: %v", got)
		}
		if got := o.ids("updated_after=" + url.QueryEscape("2026-07-16T09:00:00+08:00")); !slices.Equal(got, []string{no4, no3}) {
			t.Errorf("updated after 09:00: %v", got)
		}
		if got := o.ids("updated_after=2026-07-14T10:07:00%2B08:00&updated_before=2026-07-14T10:20:00%2B08:00"); !slices.Equal(got, []string{no2}) {
			t.Errorf("updated between: %v", got)
		}

		// paging
		if got := o.ids("page_size=3&" + week); !slices.Equal(got, []string{no4, no3, no2}) {
			t.Errorf("page 1: %v", got)
		}
		if got := o.ids("page_size=3&page=2&" + week); !slices.Equal(got, []string{no1}) {
			t.Errorf("page 2: %v", got)
		}
		if got := o.ids("page_size=3&page=3&" + week); len(got) != 0 {
			t.Errorf("page 3: %v", got)
		}
		o.wantError("page size 0", o.get("requests.json?page_size=0"), 400, "page_size")

		// extensions: attributes, channel, photos, notes
		rs := o.requests("extensions=true&" + week)
		byID := map[string]o311Request{}
		for _, r := range rs {
			byID[r.ID] = r
		}
		r1 := byID[no1]
		if r1.Extended == nil || r1.Extended.Channel != "api" || len(r1.Attributes) != 2 || r1.Attributes[0].Code != "blind_lane" || r1.Attributes[0].Value != "yes" ||
			r1.Attributes[1].Code != "pieces" || r1.Attributes[1].Value != "3" {
			t.Errorf("extensions of the first request: %+v %+v", r1.Extended, r1.Attributes)
		}
		var summaries []string
		for _, n := range r1.Notes {
			summaries = append(summaries, n.Summary)
		}
		if !slices.Equal(summaries, []string{"上报", "立案", "派遣", "签收"}) || r1.Notes[2].At != "2026-07-14T09:55:00+08:00" || r1.Notes[3].Description != "责任单位正在处理" {
			t.Errorf("notes: %+v", r1.Notes)
		}
		if r1.AgencyResponsible == nil || *r1.AgencyResponsible != "环卫处" || r1.Expected == nil {
			t.Errorf("agency and expected time: %+v", r1)
		}
		r3 := byID[no3]
		if r3.Extended == nil || r3.Extended.Channel != "citizen" || len(r3.Extended.Photos) != 1 || r3.MediaURL == nil || *r3.MediaURL != r3.Extended.Photos[0].MediaURL ||
			!regexp.MustCompile(`^`+regexp.QuoteMeta(f.url)+`/api/v1/public/photos/`+no3+`/\d+/large$`).MatchString(*r3.MediaURL) {
			t.Fatalf("photos of the citizen's request: %+v %+v", r3.MediaURL, r3.Extended)
		}
		if res := f.get(strings.TrimPrefix(*r3.MediaURL, f.url)); res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/jpeg" {
			t.Errorf("media_url: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
		}
		if r := byID[no2]; r.Extended == nil || len(r.Attributes) != 0 || r.Attributes == nil {
			t.Errorf("a request without attributes lists none: %+v", r)
		}
		if rs := o.requests(week); rs[0].Extended != nil || rs[0].Notes != nil {
			t.Errorf("extensions without extensions=true: %+v", rs[0])
		}

		// a duplicate merged into the first request
		at(16, 12, 0)
		dup := base("0101", "25.0001", "102.7001", "同一处建筑垃圾")
		dup.Set("attribute[blind_lane]", "no")
		no5, receipt5 := o.created("duplicate POST", o.post("requests.json", dup))
		at(16, 12, 5)
		s.acc.act(t, caseByNo(t, s.acc, no5).ID, map[string]any{"action": "merge", "merge_into_no": no1}, 200)
		r5 := o.one(no5, "extensions=true")
		if r5.Status != "closed" || r5.Extended == nil || !r5.Extended.Duplicate || r5.Extended.ParentID == nil || *r5.Extended.ParentID != no1 {
			t.Errorf("merged request: %+v %+v", r5, r5.Extended)
		}
		// GET tokens/{token} answers the id of the request filed under the
		// token (the Backend's contract), not the one it was merged into.
		res = o.get("tokens/" + receipt5 + ".json")
		toks = nil
		res.json(t, &toks)
		if len(toks) != 1 || toks[0].ID != no5 {
			t.Errorf("token of a merged request: %s, want service_request_id %s (the request filed under it)", res.body, no5)
		}

		// one request, and unknown ones
		if r := o.one(no1, ""); r.ServiceCode != "0101" || r.ServiceName != "暴露垃圾" || r.Address == nil || *r.Address != "幸福路12号" || r.Status != "open" {
			t.Errorf("one request: %+v", r)
		}
		o.wantError("unknown request", o.get("requests/2026-999999.json"), 404, "不存在的诉求")
		o.wantError("unknown service", o.get("services/9999.json"), 404, "不存在的服务类别")
		o.wantError("staff-only service", o.get("services/0104.json"), 404, "0104")
		o.wantError("inactive service", o.get("services/0105.json"), 404, "0105")
		o.wantError("大类", o.get("services/01.json"), 404, "01")

		// refused POSTs
		count := f.caseCount()
		without := func(k string) url.Values {
			v := base("0101", "25.0001", "102.7001", "测试")
			v.Set("attribute[blind_lane]", "yes")
			if strings.HasPrefix(k, "+") {
				kv := strings.SplitN(k[1:], "=", 2)
				v.Set(kv[0], kv[1])
			} else if k != "" {
				v.Del(k)
			}
			return v
		}
		o.wantError("no api_key", o.post("requests.json", without("api_key")), 403, "api_key")
		o.wantError("wrong api_key", o.post("requests.json", without("+api_key=cw_not-a-token")), 403, "api_key 缺失或无效")
		o.wantError("a unit's token", o.post("requests.json", without("+api_key="+unitTok.Secret)), 403, "api_key 缺失或无效")
		o.wantError("unknown service", o.post("requests.json", without("+service_code=9999")), 404, "不存在的服务类别")
		o.wantError("staff-only service", o.post("requests.json", without("+service_code=0104")), 404, "0104")
		o.wantError("inactive service", o.post("requests.json", without("+service_code=0105")), 404, "0105")
		o.wantError("required attribute missing", o.post("requests.json", without("attribute[blind_lane]")), 400, "是否占用盲道")
		o.wantError("list value not offered", o.post("requests.json", without("+attribute[blind_lane]=maybe")), 400, "blind_lane")
		o.wantError("not a number", o.post("requests.json", without("+attribute[pieces]=many")), 400, "pieces")
		noPlace := without("lat")
		noPlace.Del("long")
		o.wantError("no location", o.post("requests.json", noPlace), 400, "必须提供位置")
		o.wantError("lat without long", o.post("requests.json", without("long")), 400, "lat 与 long")
		o.wantError("outside the city", o.post("requests.json", without("+lat=40")), 400, "不在本市范围")
		o.wantError("bad datum", o.post("requests.json", without("+coord=xyz")), 400, "xyz")
		o.wantError("description over the limit", o.post("requests.json", without("+description="+strings.Repeat("垃", 4001))), 400, "4000")
		// The language asked for (locale, or Accept-Language) is the
		// backend's too, not only the protocol layer's.
		inEnglish := func(v url.Values) url.Values { v.Set("locale", "en"); return v }
		o.wantError("protocol error in English", o.post("requests.json", inEnglish(without("api_key"))), 403, "An api_key is required")
		o.wantError("definition error in English", o.get("services/9999.json?locale=en"), 404, "Unknown service code: 9999")
		o.wantError("unknown service on POST in English", o.post("requests.json", inEnglish(without("+service_code=9999"))), 404, "Unknown service code: 9999")
		o.wantError("missing attribute in English", o.post("requests.json", inEnglish(without("attribute[blind_lane]"))), 400, "Please fill in")
		o.wantError("unknown token in English", o.get("tokens/ZZZZZZZZZZ.json?locale=en"), 404, "Unknown token")
		if res := o.post("requests.xml", without("api_key")); res.StatusCode != 403 || !strings.Contains(res.body, "<errors>") || !strings.Contains(res.body, "<code>403</code>") {
			t.Errorf("XML error: %d %s", res.StatusCode, res.body)
		}
		if n := f.caseCount(); n != count {
			t.Errorf("refused POSTs filed %d cases", n-count)
		}

		// Nothing personal in any answer, in either format.
		for _, ext := range []string{"json", "xml"} {
			o.get("requests." + ext + "?extensions=true&" + week)
			o.get("requests/" + no1 + "." + ext + "?extensions=true")
			o.get("requests/" + no3 + "." + ext + "?extensions=true")
		}
		for i, b := range o.bodies {
			for _, secret := range secrets {
				if strings.Contains(b, secret) {
					t.Errorf("answer %d carries %q: %s", i, secret, b)
				}
			}
		}
		if len(o.bodies) < 40 {
			t.Errorf("only %d answers checked", len(o.bodies))
		}
	})
}
