package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"chuangwen/internal/store"
	"chuangwen/internal/testcity"
)

// A staff filing sent twice (a double tap, a hotline system's retry) files
// one case when it names an idempotency key: the API's Idempotency-Key
// header, the console form's one-time field. The key is the caller's own.
func TestStaffFilingOncePerKey(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		acc := f.login("acceptor")
		count := func() int {
			var n int
			if err := db.Reader().QueryRow(context.Background(), `SELECT COUNT(*) FROM cases`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		body := map[string]any{"category_id": f.category.ID, "description": "幸福路口堆放垃圾", "region_id": f.comm.ID, "source": "hotline",
			"reporter_name": "张先生", "reporter_phone": "13800000000"}
		post := func(c *client, key string, body map[string]any) response {
			b, _ := json.Marshal(body)
			req, _ := http.NewRequest("POST", f.url+"/api/v1/cases", bytes.NewReader(b))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Idempotency-Key", key)
			if c.token != "" {
				req.Header.Set("Authorization", "Bearer "+c.token)
			} else {
				req.Header.Set("X-CSRF-Token", c.csrf)
			}
			res, err := c.hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var buf bytes.Buffer
			buf.ReadFrom(res.Body)
			return response{StatusCode: res.StatusCode, Header: res.Header, body: buf.String()}
		}
		before := count()
		first := post(acc, "hotline-call-1", body)
		again := post(acc, "hotline-call-1", body)
		var c1, c2 caseJSON
		json.Unmarshal([]byte(first.body), &c1)
		json.Unmarshal([]byte(again.body), &c2)
		if first.StatusCode != 201 || again.StatusCode != 200 || c1.ID == 0 || c2.ID != c1.ID || c2.No != c1.No || c2.Reporter == nil {
			t.Fatalf("first %d %s; again %d %s", first.StatusCode, first.body, again.StatusCode, again.body)
		}
		if n := count(); n != before+1 {
			t.Fatalf("%d cases filed, want 1", n-before)
		}
		// the same key for other content is refused; another caller's key
		// is their own
		other := map[string]any{}
		for k, v := range body {
			other[k] = v
		}
		other["description"] = "另一件事"
		if res := post(acc, "hotline-call-1", other); res.StatusCode != 409 {
			t.Errorf("the key for other content: %d %s", res.StatusCode, res.body)
		}
		other["description"], other["urgency"] = body["description"], 2
		if res := post(acc, "hotline-call-1", other); res.StatusCode != 409 {
			t.Errorf("the key for another urgency: %d %s", res.StatusCode, res.body)
		}
		tok := f.bearer(0)
		if res := post(tok, "hotline-call-1", body); res.StatusCode != 201 {
			t.Errorf("another caller's same key: %d %s", res.StatusCode, res.body)
		}
		if n := count(); n != before+2 {
			t.Fatalf("%d cases filed, want 2", n-before)
		}

		// The console's form carries a one-time key: sent twice, one case.
		page := acc.do("GET", "/cases/new", nil, "")
		m := regexp.MustCompile(`name="idempotency_key" value="([^"]+)"`).FindStringSubmatch(page.body)
		if m == nil {
			t.Fatalf("the form has no one-time key: %.300s", page.body)
		}
		form := url.Values{"category_id": {strconv.FormatInt(f.category.ID, 10)}, "description": {"桥下堆放垃圾"}, "region_id": {strconv.FormatInt(f.comm.ID, 10)},
			"source": {"hotline"}, "idempotency_key": {m[1]}}
		r1 := acc.multipart("/cases", form, nil)
		r2 := acc.multipart("/cases", form, nil)
		loc := r1.Header.Get("Location")
		if r1.StatusCode != 303 || r2.StatusCode != 303 || loc == "" || r2.Header.Get("Location") != loc || !strings.HasPrefix(loc, "/cases/") {
			t.Fatalf("form twice: %d %q, %d %q", r1.StatusCode, loc, r2.StatusCode, r2.Header.Get("Location"))
		}
		if n := count(); n != before+3 {
			t.Fatalf("%d cases filed, want 3", n-before)
		}
		if cc := page.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("the form may be kept by the browser: Cache-Control %q", cc)
		}
		// The same form back from the browser's history, edited into
		// another report: told so, with a new key to send it under.
		form.Set("description", "另一处堆放垃圾")
		r3 := acc.multipart("/cases", form, nil)
		m3 := regexp.MustCompile(`name="idempotency_key" value="([^"]+)"`).FindStringSubmatch(r3.body)
		if r3.StatusCode != 409 || !strings.Contains(r3.body, "这份表单已经提交过") || m3 == nil || m3[1] == m[1] {
			t.Fatalf("the form sent again with other content: %d %.300s", r3.StatusCode, r3.body)
		}
		form.Set("idempotency_key", m3[1])
		if r4 := acc.multipart("/cases", form, nil); r4.StatusCode != 303 || r4.Header.Get("Location") == loc {
			t.Fatalf("sent under its new key: %d %q", r4.StatusCode, r4.Header.Get("Location"))
		}
		if n := count(); n != before+4 {
			t.Fatalf("%d cases filed, want 4", n-before)
		}
		// A partner's token filing by key gets no receipt, as without one.
		var receipts int
		if err := db.Reader().QueryRow(context.Background(), `SELECT COUNT(*) FROM receipts`).Scan(&receipts); err != nil || receipts != 0 {
			t.Errorf("%d receipts for staff API filings (%v)", receipts, err)
		}
	})
}
