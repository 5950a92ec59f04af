package web_test

import (
	"bytes"
	"context"
	"math"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"chuangwen/internal/geo"
	"chuangwen/internal/store"
	"chuangwen/internal/testcity"
)

// TestStaffUseThePublicPage: a signed-in inspector or grid worker files
// through the same phone page and reports as themselves (source inspector,
// accepted on arrival); their session's CSRF token is required.
func TestStaffUseThePublicPage(t *testing.T) {
	testcity.BothLong(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		insp := f.login("inspector")
		page := insp.do("GET", "/report", nil, "")
		if page.StatusCode != 200 || !strings.Contains(page.body, `name="csrf" value="`+insp.csrf+`"`) {
			t.Fatalf("report page for a signed-in inspector: %d, csrf field present: %v", page.StatusCode, strings.Contains(page.body, insp.csrf))
		}
		post := func(csrf string) response {
			var buf bytes.Buffer
			mw := multipart.NewWriter(&buf)
			for k, v := range map[string]string{"category_id": strconv.FormatInt(f.category.ID, 10), "description": "巡查发现人行道破损",
				"lat": "25.0", "lon": "102.7", "csrf": csrf} {
				mw.WriteField(k, v)
			}
			w, _ := mw.CreateFormFile("photos", "p.jpg")
			w.Write(smallJPEG())
			mw.Close()
			req, _ := http.NewRequest("POST", f.url+"/api/v1/public/reports", &buf)
			req.Header.Set("Content-Type", mw.FormDataContentType())
			res, err := insp.hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var b bytes.Buffer
			b.ReadFrom(res.Body)
			return response{StatusCode: res.StatusCode, Header: res.Header, body: b.String()}
		}
		if r := post("forged"); r.StatusCode != 403 {
			t.Fatalf("staff report without the session's CSRF token: %d %s", r.StatusCode, r.body)
		}
		r := post(insp.csrf)
		if r.StatusCode != 201 {
			t.Fatalf("staff report: %d %s", r.StatusCode, r.body)
		}
		var rec struct {
			CaseNo string `json:"case_no"`
		}
		r.json(t, &rec)
		var source, state string
		var reporter int64
		var eligible bool
		if err := db.Reader().QueryRow(context.Background(), `SELECT c.source, c.state, COALESCE(c.reporter_user_id, 0), r.reward_eligible FROM cases c JOIN receipts r ON r.case_id = c.id WHERE c.no = ?`, rec.CaseNo).
			Scan(&source, &state, &reporter, &eligible); err != nil {
			t.Fatal(err)
		}
		if source != "inspector" || state != "accepted" || reporter == 0 || eligible {
			t.Fatalf("staff case: source %s state %s reporter %d reward-eligible %v", source, state, reporter, eligible)
		}
	})
}

// TestOutputDatumAndReceipts: coordinates go out in the datum asked for;
// the page renders the categories without script; the office sees the
// receipts of a case with their reward eligibility.
func TestOutputDatumAndReceipts(t *testing.T) {
	testcity.BothLong(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		anon := f.anon()
		page := anon.do("GET", "/report", nil, "")
		if !strings.Contains(page.body, `<option value="`+strconv.FormatInt(f.category.ID, 10)+`">暴露垃圾</option>`) {
			t.Fatalf("the reporting page does not list the categories without script:\n%.2000s", page.body)
		}
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		for k, v := range map[string]string{"category_id": strconv.FormatInt(f.category.ID, 10), "description": "垃圾堆放",
			"lat": "25.0", "lon": "102.7", "phone": "13800138000"} {
			mw.WriteField(k, v)
		}
		w, _ := mw.CreateFormFile("photos", "p.jpg")
		w.Write(smallJPEG())
		mw.Close()
		res := anon.do("POST", "/api/v1/public/reports", &buf, mw.FormDataContentType())
		if res.StatusCode != 201 {
			t.Fatalf("report: %d %s", res.StatusCode, res.body)
		}
		var id int64
		if err := db.Reader().QueryRow(context.Background(), `SELECT id FROM cases ORDER BY id DESC LIMIT 1`).Scan(&id); err != nil {
			t.Fatal(err)
		}
		acc := f.login("acceptor")
		var c struct{ Lat, Lon float64 }
		acc.do("GET", "/api/v1/cases/"+strconv.FormatInt(id, 10)+"?coord=gcj02", nil, "").json(t, &c)
		want := geo.FromWGS84(geo.Point{Lon: 102.7, Lat: 25.0}, geo.GCJ02)
		if math.Abs(c.Lat-want.Lat) > 1e-9 || math.Abs(c.Lon-want.Lon) > 1e-9 || math.Abs(c.Lat-25.0) < 1e-4 {
			t.Fatalf("GCJ-02 output %v,%v, want %v,%v", c.Lat, c.Lon, want.Lat, want.Lon)
		}
		if r := acc.do("GET", "/api/v1/cases/"+strconv.FormatInt(id, 10)+"?coord=xyz", nil, ""); r.StatusCode != 400 {
			t.Fatalf("coord=xyz: %d", r.StatusCode)
		}
		casePage := acc.do("GET", "/cases/"+strconv.FormatInt(id, 10), nil, "")
		if !strings.Contains(casePage.body, `id="receipts"`) || !strings.Contains(casePage.body, "首位上报人") {
			t.Fatalf("the acceptor's case page lacks the receipts with reward eligibility")
		}
		if strings.Contains(casePage.body, "13800138000") == false {
			t.Fatalf("the acceptor should see the reporter's phone")
		}
		for _, a := range []map[string]any{{"action": "accept"}, {"action": "dispatch", "lead_unit_id": f.unitA.ID}} {
			if r := acc.json("POST", "/api/v1/cases/"+strconv.FormatInt(id, 10)+"/actions", a); r.StatusCode != 200 {
				t.Fatalf("%v: %d %s", a, r.StatusCode, r.body)
			}
		}
		h := f.login("handlerA")
		hp := h.do("GET", "/cases/"+strconv.FormatInt(id, 10), nil, "")
		if hp.StatusCode != 200 || strings.Contains(hp.body, `id="receipts"`) || strings.Contains(hp.body, "13800138000") {
			t.Fatalf("the lead unit's handler: status %d, sees receipts or the phone", hp.StatusCode)
		}
	})
}

// TestPublicReportFieldBounds: many small text fields are refused before
// any photo is read, and nothing is stored.
func TestPublicReportFieldBounds(t *testing.T) {
	f := newFixture(t, testcity.SQLite(t))
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for i := range 60 {
		mw.WriteField("f"+strconv.Itoa(i), strings.Repeat("x", 100))
	}
	w, _ := mw.CreateFormFile("photos", "p.jpg")
	w.Write(smallJPEG())
	mw.Close()
	res := f.anon().do("POST", "/api/v1/public/reports", &buf, mw.FormDataContentType())
	if res.StatusCode != 413 {
		t.Fatalf("60 fields: %d %s", res.StatusCode, res.body)
	}
	var n int
	if err := f.db.Reader().QueryRow(context.Background(), `SELECT count(*) FROM photos`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("photos stored: %d %v", n, err)
	}
}

// TestClientCannotClaimStaffSource: an API client may file as api,
// citizen or hotline, never as an inspector whose reports skip the
// acceptor.
func TestClientCannotClaimStaffSource(t *testing.T) {
	f := newFixture(t, testcity.SQLite(t))
	cl := f.bearer(0)
	var c struct {
		Source string `json:"source"`
		State  string `json:"state"`
	}
	res := cl.json("POST", "/api/v1/cases", map[string]any{"category_id": f.category.ID, "description": "路面坑洼", "lat": 25.0, "lon": 102.7, "source": "inspector"})
	if res.StatusCode != 201 {
		t.Fatalf("report: %d %s", res.StatusCode, res.body)
	}
	res.json(t, &c)
	if c.Source != "api" || c.State != "reported" {
		t.Fatalf("a client claiming inspector: source %s state %s", c.Source, c.State)
	}
	cl.json("POST", "/api/v1/cases", map[string]any{"category_id": f.category.ID, "description": "热线转来", "lat": 25.0, "lon": 102.7, "source": "hotline"}).json(t, &c)
	if c.Source != "hotline" {
		t.Fatalf("a hotline client: source %s", c.Source)
	}
}

// TestNearbyAnswersInTheDatumAsked: a GCJ-02 query gets GCJ-02 positions.
func TestNearbyAnswersInTheDatumAsked(t *testing.T) {
	f := newFixture(t, testcity.SQLite(t))
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range map[string]string{"category_id": strconv.FormatInt(f.category.ID, 10), "description": "垃圾", "lat": "25.0", "lon": "102.7"} {
		mw.WriteField(k, v)
	}
	w, _ := mw.CreateFormFile("photos", "p.jpg")
	w.Write(smallJPEG())
	mw.Close()
	if r := f.anon().do("POST", "/api/v1/public/reports", &buf, mw.FormDataContentType()); r.StatusCode != 201 {
		t.Fatalf("report: %d %s", r.StatusCode, r.body)
	}
	g := geo.FromWGS84(geo.Point{Lon: 102.7, Lat: 25.0}, geo.GCJ02)
	var near struct {
		Cases []struct{ Lat, Lon float64 }
	}
	f.anon().do("GET", "/api/v1/public/nearby?category_id="+strconv.FormatInt(f.category.ID, 10)+
		"&lat="+strconv.FormatFloat(g.Lat, 'f', -1, 64)+"&lon="+strconv.FormatFloat(g.Lon, 'f', -1, 64)+"&coord=gcj02", nil, "").json(t, &near)
	if len(near.Cases) != 1 || math.Abs(near.Cases[0].Lat-g.Lat) > 1e-6 || math.Abs(near.Cases[0].Lon-g.Lon) > 1e-6 {
		t.Fatalf("nearby in GCJ-02: %+v, want %v,%v", near.Cases, g.Lat, g.Lon)
	}
}
