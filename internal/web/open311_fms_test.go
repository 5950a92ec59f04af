package web_test

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/url"
	"strings"
	"testing"
	"time"

	"chuangwen/internal/org"
	"chuangwen/internal/store"
	"chuangwen/internal/testcity"
)

// Open311 as FixMyStreet's Open311 module drives it, over the real case
// store: what it sends (long descriptions with CR LF, several media_url,
// extra attributes, photo files, address-only reports, split names) and
// what it reads back (long id lists, media_url, detailed statuses, the
// servicerequestupdates feed), and its updates posted to our cases.
func TestOpen311FixMyStreet(t *testing.T) {
	testcity.BothLong(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		fms, err := f.orgs.CreateToken(ctx, org.System, "FixMyStreet", 0)
		if err != nil {
			t.Fatal(err)
		}
		other, err := f.orgs.CreateToken(ctx, org.System, "另一个系统", 0)
		if err != nil {
			t.Fatal(err)
		}
		o := &o311{t: t, f: f}
		code := f.category.Code
		post := func(form url.Values) (string, string) {
			t.Helper()
			form.Set("api_key", fms.Secret)
			form.Set("service_code", code)
			return o.created("POST", o.post("requests.json", form))
		}

		// 1. A report of 4,000 characters counted with CR LF as one break
		// (5,000 as sent): FixMyStreet's title, detail and link.
		long := "垃圾满溢\r\n\r\n" + strings.Repeat("幸福路口垃圾满溢无人清运。", 304) + "满溢满溢满溢满溢\r\n\r\nhttps://fms.example/report/4711\r\n"
		no1, _ := post(url.Values{"lat": {"25.0001"}, "long": {"102.7001"}, "description": {long},
			"first_name": {"Test"}, "last_name": {"User"},
			"media_url":       {"https://fms.example/photo/4711.0.full.jpeg", "https://fms.example/photo/4711.1.full.jpeg"},
			"attribute[uprn]": {"100023"}, "attribute[fixmystreet_id]": {"4711"}, "attribute[title]": {"垃圾满溢"}})
		s := f.staff()
		c1 := caseByNo(t, s.acc, no1)
		var stored string
		if err := db.Reader().QueryRow(ctx, `SELECT description FROM cases WHERE no = ?`, no1).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if n := len([]rune(stored)); n != 3999 || strings.Contains(stored, "\r") {
			t.Errorf("description stored with %d characters (CR %v), want 3,999 (4,000 less the final break, trimmed)", n, strings.Contains(stored, "\r"))
		}
		if c1.Reporter == nil || c1.Reporter.Name != "Test User" {
			t.Errorf("reporter %+v, want the name as given: Test User", c1.Reporter)
		}

		// 2. Unknown attributes and the photo links are kept, shown to
		// staff (API and case page), never published.
		res := s.acc.do("GET", fmt.Sprintf("/api/v1/cases/%d", c1.ID), nil, "")
		for _, want := range []string{`"client":"API:FixMyStreet"`, `"uprn":["100023"]`, `"fixmystreet_id":["4711"]`, "4711.1.full.jpeg"} {
			if !strings.Contains(res.body, want) {
				t.Errorf("case API lacks %s: %s", want, res.body)
			}
		}
		page := s.acc.do("GET", fmt.Sprintf("/cases/%d", c1.ID), nil, "")
		for _, want := range []string{`id="client-fields"`, "外部系统附加字段", "uprn", "100023", "https://fms.example/photo/4711.0.full.jpeg"} {
			if !strings.Contains(page.body, want) {
				t.Errorf("case page lacks %s", want)
			}
		}
		// media_url is the client's first link; extensions list them all
		// but keep the extra attributes to staff.
		res = o.get("requests/" + no1 + ".json?extensions=true")
		var rs []o311Request
		res.json(t, &rs)
		if len(rs) != 1 || rs[0].MediaURL == nil || *rs[0].MediaURL != "https://fms.example/photo/4711.0.full.jpeg" {
			t.Fatalf("media_url: %s", res.body)
		}
		if strings.Contains(res.body, "100023") || strings.Contains(res.body, "uprn") {
			t.Errorf("the client's extra attributes are published: %s", res.body)
		}

		// 3. Photo files in a multipart POST take the public page's path.
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		for k, v := range map[string]string{"api_key": fms.Secret, "service_code": code, "lat": "25.0002", "long": "102.7002",
			"description": "绿化带垃圾", "first_name": "王", "last_name": "小明"} {
			_ = mw.WriteField(k, v)
		}
		fw, _ := mw.CreateFormFile("photo1", "4712.0.full.jpeg")
		_, _ = fw.Write(jpegPhoto(t, 7))
		_ = mw.Close()
		res, err = send(f.url, "POST", "/open311/v2/requests.json", buf.Bytes(), mw.FormDataContentType(), nil)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("multipart with a photo: %v %d %s", err, res.StatusCode, res.body)
		}
		o.bodies = append(o.bodies, res.body)
		no2, _ := o.created("multipart", res)
		c2 := caseByNo(t, s.acc, no2)
		if len(getCase(t, s.acc, c2.ID).Photos) != 1 {
			t.Errorf("the uploaded photo is not the case's")
		}
		if c2.Reporter == nil || c2.Reporter.Name != "王小明" {
			t.Errorf("reporter %+v, want 王小明 (first_name 王, last_name 小明, in that order)", c2.Reporter)
		}
		// A file that is no photo is refused, and nothing is filed.
		count := f.caseCount()
		buf.Reset()
		mw = multipart.NewWriter(&buf)
		_ = mw.WriteField("api_key", fms.Secret)
		_ = mw.WriteField("service_code", code)
		_ = mw.WriteField("address_string", "清波社区")
		fw, _ = mw.CreateFormFile("photo1", "notes.txt")
		_, _ = fw.Write([]byte("not a photo at all"))
		_ = mw.Close()
		res, _ = send(f.url, "POST", "/open311/v2/requests.json", buf.Bytes(), mw.FormDataContentType(), nil)
		if res.StatusCode != 415 || f.caseCount() != count {
			t.Errorf("a text file as photo: %d (cases %d → %d) %s", res.StatusCode, count, f.caseCount(), res.body)
		}

		// 4. An address alone: placed in the cell it names, flagged as
		// estimated, and the answer says so; an unknown address waits.
		no3, _ := post(url.Values{"address_string": {"清波社区第005网格旁垃圾桶"}, "description": {"垃圾桶满溢"}})
		res = o.get("requests/" + no3 + ".json")
		if !strings.Contains(o.bodies[len(o.bodies)-2], "位置按地址中的“清波社区第005网格”估计") {
			t.Errorf("placed notice: %s", o.bodies[len(o.bodies)-2])
		}
		c3 := caseByNo(t, s.acc, no3)
		if c3.Routing == nil || c3.Routing.Location.CellCode != "330102001001005" || c3.Routing.Location.Flag != "address" {
			t.Errorf("placed from the address: %+v", c3.Routing)
		}
		if page := s.acc.do("GET", fmt.Sprintf("/cases/%d", c3.ID), nil, ""); !strings.Contains(page.body, `id="estimated"`) {
			t.Error("the case page does not say the place is estimated")
		}
		post(url.Values{"address_string": {"某某路88号"}, "description": {"路灯不亮"}})
		if !strings.Contains(o.bodies[len(o.bodies)-1], "位置待受理员确定") {
			t.Errorf("unplaced notice: %s", o.bodies[len(o.bodies)-1])
		}

		// 5. The loop runs; the statuses FixMyStreet reads follow it.
		s.close(t, c1.ID)
		// The unit that handled it reads the case, not what the client
		// sent with it (it may name the reporter).
		if res := s.hA.do("GET", fmt.Sprintf("/api/v1/cases/%d", c1.ID), nil, ""); res.StatusCode != 200 || strings.Contains(res.body, "client_fields") {
			t.Errorf("the unit's handler: %d, client fields shown: %v", res.StatusCode, strings.Contains(res.body, "client_fields"))
		}
		s.acc.act(t, c3.ID, map[string]any{"action": "merge", "merge_into_no": no2}, 200)
		s.acc.act(t, c2.ID, map[string]any{"action": "accept"}, 200)
		for id, want := range map[string]string{no1: "fixed", no2: "investigating", no3: "duplicate"} {
			res := o.get("requests/" + id + ".json?extended_statuses=true")
			var rs []o311Request
			res.json(t, &rs)
			if len(rs) != 1 || rs[0].Status != want {
				t.Errorf("%s: status %v, want %s", id, rs, want)
			}
			res = o.get("requests/" + id + ".json")
			res.json(t, &rs)
			if rs[0].Status != "open" && rs[0].Status != "closed" {
				t.Errorf("%s: without the extension the status is %s", id, rs[0].Status)
			}
		}

		// 6. A long id list (every open report of a body) in one GET and
		// as a POST form: the same answer, every known case in it.
		ids := []string{no1, no2, no3}
		for i := range 1500 {
			ids = append(ids, fmt.Sprintf("2025-%06d", i))
		}
		list := strings.Join(ids, ",")
		getRes := o.get("requests.xml?service_request_id=" + list)
		postRes := o.post("requests.xml", url.Values{"service_request_id": {list}})
		if getRes.StatusCode != 200 || postRes.StatusCode != 200 || getRes.body != postRes.body {
			t.Fatalf("long id list: GET %d, POST %d", getRes.StatusCode, postRes.StatusCode)
		}
		if n := strings.Count(getRes.body, "<request>"); n != 3 {
			t.Errorf("long id list answered %d requests, want 3", n)
		}

		// 7. servicerequestupdates: the changes of state, in order, with
		// the unit's reply where there is one.
		res = o.get("servicerequestupdates.json")
		var ups []struct {
			ID          string `json:"update_id"`
			RequestID   string `json:"service_request_id"`
			Status      string `json:"status"`
			Description string `json:"description"`
		}
		res.json(t, &ups)
		var mine []string
		for _, u := range ups {
			if u.RequestID == no1 {
				mine = append(mine, u.Status)
			}
		}
		if got := strings.Join(mine, " "); got != "INVESTIGATING IN_PROGRESS IN_PROGRESS IN_PROGRESS FIXED" {
			t.Errorf("updates of %s: %s\n%s", no1, got, res.body)
		}
		if _, err := f.flow.PhotoJobs.Derive(ctx, "test"); err != nil {
			t.Fatal(err)
		}
		res = o.get("servicerequestupdates.json")
		if !strings.Contains(res.body, "已清理完毕") || !strings.Contains(res.body, `"status": "DUPLICATE"`) || !strings.Contains(res.body, "/large") {
			t.Errorf("updates lack the unit's reply, its photo or the duplicate: %s", res.body)
		}
		if !strings.Contains(o.get("discovery.xml").body, "Open311-FMS---Proposed-differences-to-Open311") {
			t.Error("discovery does not list the updates extension")
		}

		// 8. FixMyStreet posts a comment: on the trail once, whatever the
		// retries; another client cannot post to our case.
		upd := url.Values{"api_key": {fms.Secret}, "service_request_id": {no2}, "update_id": {"fms-comment-88"},
			"status": {"OPEN"}, "description": {"还是很脏\r\n请再处理"}, "first_name": {"Test"}, "last_name": {"User"},
			"updated_datetime": {time.Now().Format(time.RFC3339)}, "media_url": {"https://fms.example/photo/c/88.jpeg"}}
		first := o.post("servicerequestupdates.xml", upd)
		again := o.post("servicerequestupdates.xml", upd)
		if first.StatusCode != 200 || first.body != again.body || !strings.Contains(first.body, "<update_id>") {
			t.Fatalf("update: %d %s / %s", first.StatusCode, first.body, again.body)
		}
		var n int
		if err := db.Reader().QueryRow(ctx, `SELECT COUNT(*) FROM events WHERE action = 'client.update' AND opinion = ?`, "还是很脏\n请再处理").Scan(&n); err != nil || n != 1 {
			t.Errorf("client updates on the trail: %d %v", n, err)
		}
		// The name the client sent with it is kept nowhere: the trail is
		// permanent and the case's units read it.
		if err := db.Reader().QueryRow(ctx, `SELECT COUNT(*) FROM events WHERE action = 'client.update' AND data LIKE ?`, "%Test%").Scan(&n); err != nil || n != 0 {
			t.Errorf("the updater's name on the trail: %d events %v", n, err)
		}
		if page := s.acc.do("GET", fmt.Sprintf("/cases/%d", c2.ID), nil, ""); !strings.Contains(page.body, "外部系统更新") {
			t.Error("the trail does not show the client's update")
		}
		upd.Set("service_request_id", no1)
		o.wantError("an update_id used for another request", o.post("servicerequestupdates.json", upd), 409, "fms-comment-88")
		upd.Set("api_key", other.Secret)
		upd.Set("update_id", "x-1")
		o.wantError("another client's case", o.post("servicerequestupdates.json", upd), 403, "不是由本系统提交的")
		upd.Set("api_key", fms.Secret)
		upd.Set("service_request_id", "2026-999999")
		o.wantError("unknown case", o.post("servicerequestupdates.json", upd), 404, "2026-999999")

		// Nothing personal in any answer.
		for _, b := range o.bodies {
			for _, secret := range []string{"Test User", "王小明", "t@example.org"} {
				if strings.Contains(b, secret) {
					t.Errorf("an answer holds %q", secret)
				}
			}
		}
	})
}
