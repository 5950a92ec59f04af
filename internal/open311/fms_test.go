package open311_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"chuangwen/internal/open311"
)

// What FixMyStreet's Open311 module sends, checked at the Backend: the
// golden files show the answers, these what the Backend is given.

func TestLongIDListAnsweredInChunks(t *testing.T) {
	b := newBackend(testNow)
	h := newHandler(b, nil)
	ids := make([]string, 0, 2600)
	for i := range 2597 {
		ids = append(ids, fmt.Sprintf("2025-%06d", i))
	}
	ids = append(ids, "2026-000003", "2026-000001", "2026-000002")
	get := serve(h, "GET", "requests.xml?service_request_id="+strings.Join(ids, ","))
	post := serve(h, "POST", "requests.xml "+url.Values{"service_request_id": {strings.Join(ids, ",")}}.Encode())
	if get.Code != 200 || post.Code != 200 {
		t.Fatalf("GET %d, POST %d: %s", get.Code, post.Code, post.Body)
	}
	if get.Body.String() != post.Body.String() {
		t.Error("the POST form answers differently from the GET query")
	}
	for _, id := range []string{"2026-000001", "2026-000002", "2026-000003"} {
		if !strings.Contains(get.Body.String(), "<service_request_id>"+id+"<") {
			t.Errorf("%s missing from the answer", id)
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.queries) != 12 { // 2 × ⌈2600/500⌉
		t.Errorf("backend asked %d times, want 12", len(b.queries))
	}
	for _, q := range b.queries {
		if len(q.IDs) > open311.IDChunk {
			t.Errorf("backend given %d ids at once", len(q.IDs))
		}
	}
}

func TestPostAsFixMyStreetSendsIt(t *testing.T) {
	b := newBackend(testNow)
	h := newHandler(b, nil)
	detail := strings.Repeat("路口垃圾满溢，", 280) // 1,960 characters
	desc := "垃圾满溢\r\n\r\n" + detail + "\r\n\r\nhttps://fms.example/report/4711\r\n"
	form := url.Values{
		"api_key": {"key-123"}, "service_code": {"GARBAGE"}, "lat": {"25.0213"}, "long": {"102.7101"},
		"description": {desc}, "first_name": {"Test"}, "last_name": {"User"},
		"media_url":        {"https://fms.example/p/1.jpeg", "https://fms.example/p/2.jpeg"},
		"attribute[uprn]":  {"100023"},
		"attribute[title]": {"垃圾满溢"},
	}
	w := serve(h, "POST", "requests.xml "+form.Encode())
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	b.mu.Lock()
	in := b.created[len(b.created)-1]
	b.mu.Unlock()
	if want := strings.TrimSpace(strings.ReplaceAll(desc, "\r\n", "\n")); in.Description != want {
		t.Errorf("description not normalised: %d characters, CR present %v", utf8.RuneCountInString(in.Description), strings.Contains(in.Description, "\r"))
	} else if n := utf8.RuneCountInString(desc); n <= open311.MaxDescription/2 {
		t.Fatalf("the test's description has only %d characters", n)
	}
	if strings.Join(in.MediaURLs, " ") != "https://fms.example/p/1.jpeg https://fms.example/p/2.jpeg" {
		t.Errorf("media urls %q", in.MediaURLs)
	}
	if in.Attributes["uprn"][0] != "100023" || in.Attributes["title"][0] != "垃圾满溢" {
		t.Errorf("attributes %v", in.Attributes)
	}
	if in.FirstName != "Test" || in.LastName != "User" {
		t.Errorf("name %q %q", in.FirstName, in.LastName)
	}
}

func TestFilesNeedUploads(t *testing.T) {
	ct, body := multipartBody("api_key", "key-123", "service_code", "GARBAGE", "address_string", "x", "@photo1", "\xff\xd8\xff")
	b := newBackend(testNow)
	w := serveWith(newHandler(b, func(o *open311.Options) { o.NewUploads = nil }), "POST", "requests.json", ct, body)
	if w.Code != http.StatusBadRequest {
		t.Fatalf("without NewUploads: status %d", w.Code)
	}
	w = serveWith(newHandler(b, nil), "POST", "requests.json", ct, body)
	if w.Code != http.StatusOK {
		t.Fatalf("with NewUploads: status %d: %s", w.Code, w.Body)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.uploads) != 1 || !b.uploads[0].closed || len(b.uploads[0].files["photo1"]) != 3 {
		t.Errorf("uploads %+v: want one, closed after the request, holding photo1", b.uploads)
	}
	if in := b.created[len(b.created)-1]; in.Uploads == nil {
		t.Error("the Backend was not given the uploads")
	}
}

func TestUploadBodyLimits(t *testing.T) {
	b := newBackend(testNow)
	h := newHandler(b, func(o *open311.Options) { o.MaxUploadBytes = 1 << 20; o.MaxBodyBytes = 4 << 10 })
	ct, body := multipartBody("api_key", "key-123", "service_code", "GARBAGE", "address_string", "x",
		"@photo1", "\xff\xd8\xff"+strings.Repeat("x", 2<<20))
	if w := serveWith(h, "POST", "requests.json", ct, body); w.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("a file over MaxUploadBytes: status %d", w.Code)
	}
	ct, body = multipartBody("api_key", "key-123", "service_code", "GARBAGE", "address_string", "x",
		"description", strings.Repeat("字", 2<<10))
	if w := serveWith(h, "POST", "requests.json", ct, body); w.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("text fields over MaxBodyBytes: status %d", w.Code)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, u := range b.uploads {
		if !u.closed {
			t.Error("uploads left open after a refusal")
		}
	}
}

func TestPostUpdateOnce(t *testing.T) {
	b := newBackend(testNow)
	h := newHandler(b, nil)
	form := url.Values{"api_key": {"key-123"}, "service_request_id": {"2026-000001"}, "update_id": {"fms-1"},
		"status": {"in progress"}, "description": {"还没清理\r\n请尽快"}, "first_name": {"王"}, "last_name": {"小明"},
		"updated_datetime": {"2026-07-14T09:00:00+08:00"}, "attribute[title]": {"MR"}}
	first := serve(h, "POST", "servicerequestupdates.json "+form.Encode())
	again := serve(h, "POST", "servicerequestupdates.json "+form.Encode())
	if first.Code != 200 || first.Body.String() != again.Body.String() {
		t.Fatalf("first %d %s, again %d %s", first.Code, first.Body, again.Code, again.Body)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.updatesIn) != 1 {
		t.Fatalf("%d updates recorded, want 1", len(b.updatesIn))
	}
	in := b.updatesIn[0]
	if in.Status != "IN_PROGRESS" || in.Description != "还没清理\n请尽快" || in.FirstName != "王" || in.LastName != "小明" ||
		!in.At.Equal(testNow.Add(-30*60e9)) || in.Attributes["title"][0] != "MR" {
		t.Errorf("update %+v", in)
	}
}

func TestUpdatesNeedTheExtension(t *testing.T) {
	h := open311.NewHandler(plainBackend{newBackend(testNow)}, prefix, testOptions())
	if w := serve(h, "GET", "servicerequestupdates.xml"); w.Code != http.StatusNotFound {
		t.Errorf("a Backend without updates: status %d", w.Code)
	}
}

// plainBackend hides the memBackend's UpdatesBackend methods.
type plainBackend struct{ open311.Backend }

// serveWith posts body with its content type.
func serveWith(h http.Handler, method, target, contentType, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, prefix+target, strings.NewReader(body))
	r.Header.Set("Content-Type", contentType)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}
