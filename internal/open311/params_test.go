package open311_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"chuangwen/internal/open311"
)

// serve runs one request through a handler directly.
func serve(h http.Handler, method, target string, header ...string) *httptest.ResponseRecorder {
	var body string
	if method == http.MethodPost {
		target, body, _ = strings.Cut(target, " ")
	}
	r := httptest.NewRequest(method, prefix+target, strings.NewReader(body))
	if method == http.MethodPost {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// errorOf decodes a JSON error body.
func errorOf(t *testing.T, w *httptest.ResponseRecorder) (code any, desc string) {
	t.Helper()
	var errs []struct {
		Code        any    `json:"code"`
		Description string `json:"description"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &errs); err != nil || len(errs) != 1 {
		t.Fatalf("error body %q: %v", w.Body.String(), err)
	}
	return errs[0].Code, errs[0].Description
}

func day(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

func TestRequestsQuery(t *testing.T) {
	loc := shanghai()
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	window := func(q open311.Query) open311.Query {
		q.Start, q.End = testNow.Add(-day(90)), testNow
		return q
	}
	def := open311.Query{Page: 1, PageSize: 1000}
	with := func(f func(*open311.Query)) open311.Query {
		q := window(def)
		f(&q)
		return q
	}
	tests := []struct {
		name  string
		query string
		want  open311.Query
	}{
		{"defaults: last 90 days, the first 1000", "", window(def)},
		{"empty parameters are absent",
			"service_request_id=&service_code=&status=&start_date=&end_date=&updated_after=&updated_before=" +
				"&page=&page_size=&extensions=&jurisdiction_id=", window(def)},
		{"comma list and repeats of service_code, trimmed, without duplicates",
			"service_code=GARBAGE,%20GRAFFITI,&service_code=PARKING,GARBAGE",
			with(func(q *open311.Query) { q.ServiceCodes = []string{"GARBAGE", "GRAFFITI", "PARKING"} })},
		{"status open", "status=open", with(func(q *open311.Query) { q.Status = []string{"open"} })},
		{"status both, any case", "status=CLOSED,open", with(func(q *open311.Query) { q.Status = []string{"closed", "open"} })},
		{"status repeated", "status=open&status=closed&status=open", with(func(q *open311.Query) { q.Status = []string{"closed", "open"} })},
		{"service_request_id overrides every other argument, even invalid ones",
			"service_request_id=7,%208,7&service_code=X&status=bogus&start_date=never&page_size=9999&page=0",
			open311.Query{IDs: []string{"7", "8"}}},
		{"service_request_id keeps extensions", "service_request_id=7&extensions=true",
			open311.Query{IDs: []string{"7"}, View: open311.View{Extensions: true}}},
		{"extended_statuses asked for", "extended_statuses=true", with(func(q *open311.Query) { q.ExtendedStatuses = true })},
		{"start and end in UTC", "start_date=2026-05-01T00:00:00Z&end_date=2026-06-01T00:00:00Z",
			open311.Query{Start: at("2026-05-01T00:00:00Z"), End: at("2026-06-01T00:00:00Z"), Page: 1, PageSize: 1000}},
		{"a span of exactly 90 days is allowed", "start_date=2026-04-15T09:30:00%2B08:00&end_date=2026-07-14T09:30:00%2B08:00",
			open311.Query{Start: testNow.Add(-day(90)), End: testNow, Page: 1, PageSize: 1000}},
		{"start alone extends 90 days", "start_date=2026-05-01T00:00:00.5%2B08:00",
			open311.Query{Start: at("2026-05-01T00:00:00.5+08:00"), End: at("2026-05-01T00:00:00.5+08:00").Add(day(90)), Page: 1, PageSize: 1000}},
		{"end alone reaches back 90 days", "end_date=2026-06-01T12:00Z",
			open311.Query{Start: at("2026-06-01T12:00:00Z").Add(-day(90)), End: at("2026-06-01T12:00:00Z"), Page: 1, PageSize: 1000}},
		{"dates alone cover whole days in the office's zone", "start_date=2026-06-01&end_date=2026-06-30",
			open311.Query{Start: time.Date(2026, 6, 1, 0, 0, 0, 0, loc),
				End: time.Date(2026, 7, 1, 0, 0, 0, 0, loc).Add(-time.Nanosecond), Page: 1, PageSize: 1000}},
		{"an unencoded + in the offset arrives as a space", "start_date=2026-06-01T08:00:00+08:00&end_date=2026-06-02T08:00:00+08:00",
			open311.Query{Start: at("2026-06-01T00:00:00Z"), End: at("2026-06-02T00:00:00Z"), Page: 1, PageSize: 1000}},
		{"updated_after alone drops the default window", "updated_after=2026-07-10T00:00:00Z",
			open311.Query{UpdatedAfter: at("2026-07-10T00:00:00Z"), Page: 1, PageSize: 1000}},
		{"updated window with a requested window", "updated_after=2026-07-10T00:00:00Z&updated_before=2026-07-11T00:00:00Z&start_date=2026-07-01",
			open311.Query{UpdatedAfter: at("2026-07-10T00:00:00Z"), UpdatedBefore: at("2026-07-11T00:00:00Z"),
				Start: time.Date(2026, 7, 1, 0, 0, 0, 0, loc), End: time.Date(2026, 7, 1, 0, 0, 0, 0, loc).Add(day(90)), Page: 1, PageSize: 1000}},
		{"paging", "page=3&page_size=500", with(func(q *open311.Query) { q.Page, q.PageSize = 3, 500 })},
		{"page_size 1", "page_size=1", with(func(q *open311.Query) { q.PageSize = 1 })},
		{"extensions true", "extensions=TRUE", with(func(q *open311.Query) { q.Extensions = true })},
		{"extensions false", "extensions=false", window(def)},
		{"jurisdiction in another case", "jurisdiction_id=YunChuan.gov.cn", window(def)},
		{"unknown parameters are ignored", "foo=bar&api_key=x", window(def)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newBackend(testNow)
			w := serve(newHandler(b, nil), "GET", "requests.json?"+tc.query)
			if w.Code != http.StatusOK {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			got, ok := b.lastQuery()
			if !ok {
				t.Fatal("backend not asked")
			}
			if !queryEqual(got, tc.want) {
				t.Errorf("query\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func queryEqual(a, b open311.Query) bool {
	for _, p := range [][2]*time.Time{{&a.Start, &b.Start}, {&a.End, &b.End},
		{&a.UpdatedAfter, &b.UpdatedAfter}, {&a.UpdatedBefore, &b.UpdatedBefore}} {
		if !p[0].Equal(*p[1]) {
			return false
		}
		*p[0], *p[1] = time.Time{}, time.Time{}
	}
	return reflect.DeepEqual(a, b)
}

func TestRequestsQueryErrors(t *testing.T) {
	ids := make([]string, 501)
	for i := range ids {
		ids[i] = "id" + strings.Repeat("x", i%3) + string(rune('a'+i%26)) + strings.Repeat("y", i/26)
	}
	tests := []struct {
		query  string
		status int
		names  string // what the description must mention
	}{
		{"start_date=yesterday", 400, "start_date"},
		{"end_date=2026-13-01", 400, "end_date"},
		{"start_date=2026-07-14T09:30:00", 400, "start_date"}, // a time needs its zone
		{"updated_after=1720000000", 400, "updated_after"},
		{"updated_before=2026-07-14T25:00:00Z", 400, "updated_before"},
		{"start_date=2026-04-15T09:30:00%2B08:00&end_date=2026-07-14T09:30:01%2B08:00", 400, "90"},
		{"start_date=2026-01-01&end_date=2026-12-31", 400, "90"},
		{"start_date=2026-07-02&end_date=2026-07-01", 400, "end_date"},
		{"updated_after=2026-07-02T00:00:00Z&updated_before=2026-07-01T00:00:00Z", 400, "updated_before"},
		{"start_date=2026-07-01&start_date=2026-07-02", 400, "start_date"},
		{"page_size=1001", 400, "1000"},
		{"page_size=0", 400, "page_size"},
		{"page_size=-5", 400, "page_size"},
		{"page_size=ten", 400, "page_size"},
		{"page=0", 400, "page"},
		{"page=1.5", 400, "page"},
		{"page=99999999999999999999", 400, "page"},
		{"status=open,pending", 400, "pending"},
		{"extensions=yes", 400, "extensions"},
		{"service_request_id=" + strings.Join(ids, ",") + ",a%01b", 400, "service_request_id"},
		{"service_code=a%00b", 400, "service_code"},
		{"service_code=" + manyCodes(open311.MaxServiceCodes+1), 400, "service_code"},
		{"jurisdiction_id=other.gov.cn", 404, "other.gov.cn"},
		{"jurisdiction_id=yunchuan.gov.cn&jurisdiction_id=yunchuan.gov.cn", 400, "jurisdiction_id"},
		{"status=open;closed", 400, ""},
	}
	for _, tc := range tests {
		t.Run(tc.query[:min(len(tc.query), 60)], func(t *testing.T) {
			b := newBackend(testNow)
			w := serve(newHandler(b, func(o *open311.Options) { o.Language = func(string) string { return "en" } }),
				"GET", "requests.json?"+tc.query)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.status, w.Body)
			}
			code, desc := errorOf(t, w)
			if code != float64(tc.status) {
				t.Errorf("code %v, want %d", code, tc.status)
			}
			if !strings.Contains(desc, tc.names) {
				t.Errorf("description %q does not mention %q", desc, tc.names)
			}
			if _, asked := b.lastQuery(); asked {
				t.Error("the backend was asked despite the error")
			}
		})
	}
}

func TestJurisdiction(t *testing.T) {
	tests := []struct {
		configured, given string
		status            int
	}{
		{"yunchuan.gov.cn", "", 200},
		{"yunchuan.gov.cn", "yunchuan.gov.cn", 200},
		{"yunchuan.gov.cn", "other.gov.cn", 404},
		{"", "", 200},
		{"", "anything.example", 200}, // one jurisdiction: the parameter is ignored
	}
	for _, tc := range tests {
		for _, target := range []string{"services.xml", "services/GRAFFITI.json", "requests.json",
			"requests/2026-000001.xml", "tokens/tok-9.json"} {
			b := newBackend(testNow)
			h := newHandler(b, func(o *open311.Options) { o.Jurisdiction = tc.configured })
			w := serve(h, "GET", target+"?jurisdiction_id="+tc.given)
			if w.Code != tc.status {
				t.Errorf("%q serving %q, GET %s: status %d, want %d", tc.given, tc.configured, target, w.Code, tc.status)
			}
			w = serve(h, "POST", "requests.json api_key=key-123&service_code=GARBAGE&address_id=1&jurisdiction_id="+tc.given)
			if w.Code != tc.status {
				t.Errorf("%q serving %q, POST: status %d, want %d", tc.given, tc.configured, w.Code, tc.status)
			}
		}
	}
}

func TestRequestExtensions(t *testing.T) {
	b := newBackend(testNow)
	h := newHandler(b, nil)
	for _, tc := range []struct {
		query string
		want  bool
	}{{"", false}, {"?extensions=", false}, {"?extensions=false", false}, {"?extensions=true", true}} {
		w := serve(h, "GET", "requests/2026-000001.json"+tc.query)
		if w.Code != 200 {
			t.Fatalf("%s: %d %s", tc.query, w.Code, w.Body)
		}
		if got := b.extension[len(b.extension)-1]; got != tc.want {
			t.Errorf("%s: backend asked extensions=%v, want %v", tc.query, got, tc.want)
		}
		if has := strings.Contains(w.Body.String(), `"extended_attributes"`); has != tc.want {
			t.Errorf("%s: extended_attributes present = %v", tc.query, has)
		}
	}
	if w := serve(h, "GET", "requests/2026-000001.json?extensions=1"); w.Code != 400 {
		t.Errorf("extensions=1: status %d, want 400", w.Code)
	}
}

// TestExtensionsNeverLeak: without extensions=true nothing of Extended is
// written, even when a Backend fills it anyway.
func TestExtensionsNeverLeak(t *testing.T) {
	leaky := &leakyBackend{newBackend(testNow)}
	h := open311.NewHandler(leaky, prefix, testOptions())
	for _, target := range []string{"requests.json", "requests.xml", "requests/2026-000001.json", "requests/2026-000001.xml"} {
		w := serve(h, "GET", target)
		for _, s := range []string{"extended_attributes", "hotline", `"notes"`, "<notes>", `"attributes"`, "<attributes>"} {
			if strings.Contains(w.Body.String(), s) {
				t.Errorf("%s leaks %q:\n%s", target, s, w.Body)
			}
		}
	}
}

type leakyBackend struct{ *memBackend }

func (l *leakyBackend) Requests(ctx context.Context, lang string, q open311.Query) ([]open311.Request, error) {
	q.Extensions = true
	return l.memBackend.Requests(ctx, lang, q)
}

func (l *leakyBackend) Request(ctx context.Context, lang, id string, _ open311.View) (open311.Request, error) {
	return l.memBackend.Request(ctx, lang, id, open311.View{Extensions: true})
}

func TestLanguage(t *testing.T) {
	tests := []struct {
		target string
		header []string
		lang   string
	}{
		{"services.json", nil, "zh-CN"},
		{"services.json", []string{"Accept-Language", "en-GB,en;q=0.9"}, "en"},
		{"services.json", []string{"Accept-Language", "fr, en;q=0.5"}, "en"},
		{"services.json?locale=en", []string{"Accept-Language", "zh-CN"}, "en"},
		{"services.json?locale=zh-CN", []string{"Accept-Language", "en"}, "zh-CN"},
		{"requests.json?locale=en", nil, "en"},
	}
	for _, tc := range tests {
		b := newBackend(testNow)
		serve(newHandler(b, nil), "GET", tc.target, tc.header...)
		if got := b.lastLang(); got != tc.lang {
			t.Errorf("%s %v: backend got lang %q, want %q", tc.target, tc.header, got, tc.lang)
		}
	}

	// The handler's own messages follow the language, through Options.Messages.
	h := newHandler(newBackend(testNow), nil)
	_, zh := errorOf(t, serve(h, "GET", "requests.json?page_size=0"))
	_, en := errorOf(t, serve(h, "GET", "requests.json?page_size=0", "Accept-Language", "en"))
	_, enBody := errorOf(t, serve(h, "POST", "requests.json service_code=X&locale=en"))
	if zh != "page_size 必须是 1 到 1000 之间的整数" || en != "page_size must be a whole number from 1 to 1000" ||
		enBody != "An api_key is required to submit a request" {
		t.Errorf("messages: %q / %q / %q", zh, en, enBody)
	}
	var gotKey, gotLang string
	var gotArgs []string
	h = newHandler(newBackend(testNow), func(o *open311.Options) {
		o.Messages = func(lang, key string, args ...string) string {
			gotLang, gotKey, gotArgs = lang, key, args
			return "translated"
		}
		o.Language = func(pref string) string { return "xx:" + pref }
	})
	if _, desc := errorOf(t, serve(h, "GET", "requests.json?start_date=x", "Accept-Language", "de")); desc != "translated" ||
		gotKey != "open311.bad_date" || gotLang != "xx:de" || !reflect.DeepEqual(gotArgs, []string{"param", "start_date"}) {
		t.Errorf("custom Messages: desc %q, key %q, lang %q, args %q", desc, gotKey, gotLang, gotArgs)
	}
}

func TestBackendErrors(t *testing.T) {
	var logs bytes.Buffer
	b := newBackend(testNow)
	h := newHandler(b, func(o *open311.Options) { o.Log = slog.New(slog.NewTextHandler(&logs, nil)) })

	b.fail = &open311.Error{Status: 409, Code: "DUPLICATE", Description: "已有相同诉求"}
	w := serve(h, "GET", "services.json")
	if code, desc := errorOf(t, w); w.Code != 409 || code != "DUPLICATE" || desc != "已有相同诉求" {
		t.Errorf("custom error: %d %v %q", w.Code, code, desc)
	}
	b.fail = &open311.Error{Status: 400, Key: "open311.bad_body"}
	if _, desc := errorOf(t, serve(h, "GET", "services.json?locale=en")); desc != "The request body could not be read as a form" {
		t.Errorf("keyed backend error: %q", desc)
	}
	if logs.Len() != 0 {
		t.Errorf("client errors were logged: %s", logs.String())
	}

	b.fail = errors.New("disk on fire")
	w = serve(h, "GET", "requests/1.xml")
	if w.Code != 500 || strings.Contains(w.Body.String(), "fire") {
		t.Errorf("plain error: %d %s", w.Code, w.Body)
	}
	if !strings.Contains(logs.String(), "disk on fire") {
		t.Errorf("plain error not logged: %q", logs.String())
	}
	logs.Reset()
	b.fail = &open311.Error{Status: 0, Description: "no status"}
	if w := serve(h, "GET", "services.json"); w.Code != 500 {
		t.Errorf("error without status: %d", w.Code)
	}

	b.fail = nil
	b.custom = open311.Created{ID: "1", Token: "t"}
	w = serve(h, "POST", "requests.json api_key=key-123&service_code=CUSTOM&address_id=1")
	if w.Code != 500 || !strings.Contains(logs.String(), "want one of them") {
		t.Errorf("id and token together: %d %s; log %q", w.Code, w.Body, logs.String())
	}
	b.custom = open311.Created{Notice: "已受理"} // blackbox: neither id nor token
	w = serve(h, "POST", "requests.json api_key=key-123&service_code=CUSTOM&address_id=1")
	if w.Code != 200 || w.Body.String() != "[\n  {\n    \"service_notice\": \"已受理\",\n    \"account_id\": null\n  }\n]\n" {
		t.Errorf("blackbox: %d %s", w.Code, w.Body)
	}
}

func TestRouting(t *testing.T) {
	h := newHandler(newBackend(testNow), nil)
	tests := []struct {
		method, target string
		status         int
		contentType    string
	}{
		{"GET", "services.JSON", 200, "application/json; charset=utf-8"},
		{"GET", "services.Xml", 200, "text/xml; charset=utf-8"},
		{"HEAD", "services.json", 200, "application/json; charset=utf-8"},
		{"GET", "servic%65s.json", 200, "application/json; charset=utf-8"},
		{"GET", "services/GRAF%46ITI.json", 200, "application/json; charset=utf-8"},
		{"GET", "services/GRAFFITI.json/", 404, "text/xml; charset=utf-8"}, // the format is the last segment's
		{"GET", "services/a/b.json", 404, "application/json; charset=utf-8"},
		{"GET", "services/GRAFFITI", 404, "text/xml; charset=utf-8"},
		{"GET", "", 404, "text/xml; charset=utf-8"},
		{"GET", "discovery", 404, "text/xml; charset=utf-8"},
		{"GET", "services.yaml", 404, "text/xml; charset=utf-8"},
		{"GET", "unknown/x.json", 404, "application/json; charset=utf-8"},
		{"GET", "requests/.xml", 400, "text/xml; charset=utf-8"},
		{"GET", "tokens/.json", 400, "application/json; charset=utf-8"},
		{"POST", "services.json", 405, "application/json; charset=utf-8"},
		{"POST", "tokens/x.xml", 405, "text/xml; charset=utf-8"},
		{"PATCH", "requests/1.json", 405, "application/json; charset=utf-8"},
		{"OPTIONS", "discovery.json", 405, "application/json; charset=utf-8"},
	}
	for _, tc := range tests {
		r := httptest.NewRequest(tc.method, prefix+tc.target, nil)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tc.status || w.Header().Get("Content-Type") != tc.contentType {
			t.Errorf("%s %s: %d %q, want %d %q", tc.method, tc.target, w.Code, w.Header().Get("Content-Type"), tc.status, tc.contentType)
		}
	}
	// Outside the prefix (a mux mounting it elsewhere) is not ours.
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/api/v1/services.json", nil))
	if w.Code != 404 {
		t.Errorf("outside the prefix: %d", w.Code)
	}
	// A prefix without the final slash works the same.
	h2 := open311.NewHandler(newBackend(testNow), "/open311/v2", testOptions())
	w = httptest.NewRecorder()
	h2.ServeHTTP(w, httptest.NewRequest("GET", "/open311/v2/services.json", nil))
	if w.Code != 200 {
		t.Errorf("prefix without slash: %d", w.Code)
	}
}

func TestDiscoveryDefaults(t *testing.T) {
	h := open311.NewHandler(newBackend(testNow), prefix, open311.Options{Discovery: open311.Discovery{Changeset: "c1"}})
	r := httptest.NewRequest("GET", "http://city.example:8080/open311/v2/discovery.json", nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	want := `{
  "changeset": "c1",
  "contact": null,
  "key_service": null,
  "endpoints": [
    {
      "specification": "http://wiki.open311.org/GeoReport_v2",
      "url": "http://city.example:8080/open311/v2",
      "changeset": "c1",
      "type": "production",
      "formats": [
        "text/xml",
        "application/json"
      ]
    },
    {
      "specification": "https://github.com/mysociety/fixmystreet/wiki/Open311-FMS---Proposed-differences-to-Open311",
      "url": "http://city.example:8080/open311/v2",
      "changeset": "c1",
      "type": "production",
      "formats": [
        "text/xml",
        "application/json"
      ]
    }
  ]
}
`
	if w.Code != 200 || w.Body.String() != want {
		t.Errorf("discovery: %d\n%s", w.Code, w.Body)
	}
}

func TestDefinitionOrderLeavesBackendAlone(t *testing.T) {
	before := append([]open311.Attribute(nil), graffitiAttributes...)
	w := serve(newHandler(newBackend(testNow), nil), "GET", "services/GRAFFITI.json")
	var def struct {
		Attributes []struct{ Order int } `json:"attributes"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &def); err != nil {
		t.Fatal(err)
	}
	var orders []int
	for _, a := range def.Attributes {
		orders = append(orders, a.Order)
	}
	if !reflect.DeepEqual(orders, []int{1, 2, 3}) {
		t.Errorf("orders %v", orders)
	}
	if !reflect.DeepEqual(before, graffitiAttributes) {
		t.Error("the backend's slice was reordered")
	}
}

func TestTimesInLocation(t *testing.T) {
	b := newBackend(testNow.UTC()) // the backend's times are in UTC
	w := serve(newHandler(b, nil), "GET", "requests/2026-000001.xml")
	if !strings.Contains(w.Body.String(), "<requested_datetime>2026-07-12T09:30:00+08:00</requested_datetime>") {
		t.Errorf("times not in +08:00:\n%s", w.Body)
	}
	h := open311.NewHandler(b, prefix, open311.Options{})
	if w := serve(h, "GET", "requests/2026-000001.json"); !strings.Contains(w.Body.String(), `"2026-07-12T01:30:00Z"`) {
		t.Errorf("default zone is not UTC:\n%s", w.Body)
	}
}

func TestPost(t *testing.T) {
	const ok = "api_key=key-123&service_code=GARBAGE&address_string=x"
	post := func(h http.Handler, contentType, target, body string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", prefix+target, strings.NewReader(body))
		if contentType != "" {
			r.Header.Set("Content-Type", contentType)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	b := newBackend(testNow)
	h := newHandler(b, func(o *open311.Options) { o.MaxBodyBytes = 1000 })
	tests := []struct {
		name, contentType, target, body string
		status                          int
	}{
		{"form", "application/x-www-form-urlencoded", "requests.json", ok, 200},
		{"form with charset", "application/x-www-form-urlencoded; charset=UTF-8", "requests.json", ok, 200},
		{"no content type is read as a form", "", "requests.json", ok, 200},
		{"api_key in the query string", "application/x-www-form-urlencoded", "requests.json?api_key=key-123",
			"service_code=GARBAGE&address_id=1", 200},
		{"a parameter in both query and body is given twice", "application/x-www-form-urlencoded",
			"requests.json?service_code=GARBAGE", ok, 400},
		{"body at the limit", "application/x-www-form-urlencoded", "requests.json",
			ok + "&description=" + strings.Repeat("a", 1000-len(ok)-len("&description=")), 200},
		{"body one byte over", "application/x-www-form-urlencoded", "requests.json",
			ok + "&description=" + strings.Repeat("a", 1001-len(ok)-len("&description=")), 413},
		{"multipart over the limit", "multipart/form-data; boundary=x", "requests.json",
			"--x\r\nContent-Disposition: form-data; name=\"d\"\r\n\r\n" + strings.Repeat("a", 2000) + "\r\n--x--\r\n", 413},
		{"multipart without boundary", "multipart/form-data", "requests.json", ok, 400},
		{"multipart garbage", "multipart/form-data; boundary=x", "requests.json", "not multipart", 400},
		{"malformed form", "application/x-www-form-urlencoded", "requests.json", ok + "&a=%zz", 400},
		{"json body", "application/json", "requests.json", `{}`, 415},
		{"text body", "text/plain", "requests.xml", ok, 415},
		{"bad content type", "what/ever/;;", "requests.xml", ok, 415},
	}
	for _, tc := range tests {
		w := post(h, tc.contentType, tc.target, tc.body)
		if w.Code != tc.status {
			t.Errorf("%s: status %d, want %d: %s", tc.name, w.Code, tc.status, w.Body)
		}
	}
	if w := post(h, "", "requests.json", strings.Repeat("a", 2000)); !strings.Contains(w.Body.String(), "1000") {
		t.Errorf("413 does not name the limit: %s", w.Body)
	}

	// What the Backend receives.
	b = newBackend(testNow)
	h = newHandler(b, nil)
	body := "api_key=%20key-123%20&service_code=GRAFFITI&lat=25.0213&long=-102.71&coord=GCJ02&first_name=&phone=138" +
		"&attribute[surface]=wall&attribute[colour][]=red&attribute[colour][]=&attribute[colour][]=black&attribute[empty]=" +
		"&description=%E8%B7%AF%E5%8F%A3%0A%E5%A0%86%E6%94%BE&locale=en"
	if w := post(h, "application/x-www-form-urlencoded", "requests.json", body); w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	want := open311.NewRequest{APIKey: "key-123", ServiceCode: "GRAFFITI", Lat: ptr(25.0213), Long: ptr(-102.71),
		Coord: "gcj02", Phone: "138", Description: "路口\n堆放",
		Attributes: map[string][]string{"surface": {"wall"}, "colour": {"red", "black"}}}
	if got := b.created[0]; !reflect.DeepEqual(got, want) {
		t.Errorf("backend got\n%+v\nwant\n%+v", got, want)
	}
}

// TestParseNewRequest covers each rule of the POST form.
func TestParseNewRequest(t *testing.T) {
	const base = "api_key=k&service_code=S&address_string=a"
	tests := []struct {
		form   string
		status int    // 0: accepted
		key    string // the message key of the error
	}{
		{base, 0, ""},
		{"api_key=k&service_code=S&address_id=1", 0, ""},
		{"api_key=k&service_code=S&lat=0&long=0", 0, ""},
		{"api_key=k&service_code=S&lat=-90&long=180", 0, ""},
		{"api_key=k&service_code=S&lat=%2B22.5&long=1.135e2", 0, ""},
		{"service_code=S&address_string=a", 403, "open311.api_key_missing"},
		{"api_key=&service_code=S&address_string=a", 403, "open311.api_key_missing"},
		{"api_key=%20&service_code=S&address_string=a", 403, "open311.api_key_missing"},
		{"api_key=k&api_key=k&service_code=S&address_string=a", 400, "open311.duplicate_param"},
		{"api_key=k&address_string=a", 400, "open311.missing_param"},
		{"api_key=k&service_code=&address_string=a", 400, "open311.missing_param"},
		{"api_key=k&service_code=S", 400, "open311.location_missing"},
		{"api_key=k&service_code=S&lat=&long=&address_string=%20&address_id=", 400, "open311.location_missing"},
		{"api_key=k&service_code=S&lat=1", 400, "open311.lat_long_pair"},
		{"api_key=k&service_code=S&long=1&address_string=a", 400, "open311.lat_long_pair"},
		{"api_key=k&service_code=S&lat=NaN&long=1", 400, "open311.bad_number"},
		{"api_key=k&service_code=S&lat=Inf&long=1", 400, "open311.bad_number"},
		{"api_key=k&service_code=S&lat=0x1p-2&long=1", 400, "open311.bad_number"},
		{"api_key=k&service_code=S&lat=1e400&long=1", 400, "open311.bad_number"},
		{"api_key=k&service_code=S&lat=1,5&long=1", 400, "open311.bad_number"},
		{"api_key=k&service_code=S&lat=90.0001&long=1", 400, "open311.out_of_range"},
		{"api_key=k&service_code=S&lat=1&long=-180.5", 400, "open311.out_of_range"},
		{"api_key=k&service_code=S&lat=1&lat=2&long=1", 400, "open311.duplicate_param"},
		{base + "&coord=bd09", 0, ""},
		{base + "&coord=mars", 400, "open311.bad_coord"},
		{base + "&description=" + strings.Repeat("字", 4000), 0, ""},
		{base + "&description=" + strings.Repeat("字", 4001), 400, "open311.too_long"},
		{base + "&description=%20" + strings.Repeat("a", 4000) + "%20", 0, ""},
		{base + "&description=bad%FFutf8", 400, "open311.bad_text"},
		{base + "&description=nul%00", 400, "open311.bad_text"},
		{base + "&description=tab%09and%0D%0Alines", 0, ""},
		{base + "&email=a&email=b", 400, "open311.duplicate_param"},
		{base + "&media_url=http://x.example/p.jpg", 0, ""},
		{base + "&media_url=ftp://x.example/p.jpg", 400, "open311.bad_media_url"},
		{base + "&media_url=/p.jpg", 400, "open311.bad_media_url"},
		{base + "&attribute[a]=1&attribute[b][]=2&attribute[b][]=3", 0, ""},
		{base + "&attribute[a]=1&attribute[a]=2", 400, "open311.duplicate_param"},
		{base + "&attribute[a]=1&attribute[a][]=2", 400, "open311.attribute_conflict"},
		{base + "&attribute[a]=&attribute[a][]=2", 0, ""},
		{base + "&attribute[]=1", 400, "open311.bad_attribute"},
		{base + "&attribute[%20]=1", 400, "open311.bad_attribute"},
		{base + "&attribute[a=1", 400, "open311.bad_attribute"},
		{base + "&attribute[a][b]=1", 400, "open311.bad_attribute"},
		{base + "&attribute[a[b]=1", 400, "open311.bad_attribute"},
		{base + "&attribute[a][]x=1", 400, "open311.bad_attribute"},
		{base + "&attribute[a][]=%FF", 400, "open311.bad_text"},
		{base + "&attributes=ignored&unknown=1", 0, ""},
	}
	for _, tc := range tests {
		name := tc.form[:min(len(tc.form), 90)]
		form, err := url.ParseQuery(tc.form)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		in, err := open311.ParseNewRequest(form)
		if tc.status == 0 {
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
			continue
		}
		var e *open311.Error
		if !errors.As(err, &e) {
			t.Errorf("%s: err %v, want *Error %d %s", name, err, tc.status, tc.key)
			continue
		}
		if e.Status != tc.status || e.Key != tc.key {
			t.Errorf("%s: %d %s, want %d %s", name, e.Status, e.Key, tc.status, tc.key)
		}
		if !reflect.DeepEqual(in, open311.NewRequest{}) {
			t.Errorf("%s: a refused form returned %+v", name, in)
		}
	}
}

func TestParseNewRequestValues(t *testing.T) {
	form, _ := url.ParseQuery("api_key=k&jurisdiction_id=j&service_code=S&lat=22.5&long=113.9&address_string=%20A%20" +
		"&address_id=B&email=e&device_id=d&account_id=c&first_name=f&last_name=l&phone=p&description=x&media_url=https://m.example/" +
		"&attribute[a]=1&attribute[b][]=2&attribute[b][]=3")
	got, err := open311.ParseNewRequest(form)
	if err != nil {
		t.Fatal(err)
	}
	want := open311.NewRequest{APIKey: "k", JurisdictionID: "j", ServiceCode: "S", Lat: ptr(22.5), Long: ptr(113.9),
		AddressString: "A", AddressID: "B", Email: "e", DeviceID: "d", AccountID: "c", FirstName: "f", LastName: "l",
		Phone: "p", Description: "x", MediaURLs: []string{"https://m.example/"},
		Attributes: map[string][]string{"a": {"1"}, "b": {"2", "3"}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%+v\nwant\n%+v", got, want)
	}
	if _, err := open311.ParseNewRequest(nil); err == nil {
		t.Error("nil form accepted")
	}
}

func TestErrorText(t *testing.T) {
	if s := open311.NotFound("no such case").Error(); s != "open311 404: no such case" {
		t.Error(s)
	}
	form, _ := url.ParseQuery("api_key=k&service_code=S&lat=1")
	if _, err := open311.ParseNewRequest(form); err == nil || err.Error() != "open311 400: open311.lat_long_pair" {
		t.Errorf("%v", err)
	}
	if e := open311.Forbidden("x"); e.Status != 403 {
		t.Error(e)
	}
	if e := open311.BadRequest("x"); e.Status != 400 {
		t.Error(e)
	}
}

// manyCodes is a list of n distinct service codes.
func manyCodes(n int) string {
	codes := make([]string, n)
	for i := range codes {
		codes[i] = fmt.Sprintf("c%d", i)
	}
	return strings.Join(codes, ",")
}
