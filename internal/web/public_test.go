package web_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io/fs"
	"math"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"chuangwen/internal/blob"
	"chuangwen/internal/geo"
	"chuangwen/internal/i18n"
	"chuangwen/internal/imaging"
	"chuangwen/internal/org"
	"chuangwen/internal/privacy"
	"chuangwen/internal/ratelimit"
	"chuangwen/internal/store"
	"chuangwen/internal/testcity"
	"chuangwen/internal/web"
	"chuangwen/internal/workflow"
)

// Tests of the public side (随手拍): reporting without login, receipts and
// the status page, rate limits, the abuse list, and the staff pages that
// go with intake (duplicates, the grid). Every test runs on SQLite and
// PostgreSQL through testcity.Both against a real HTTP server.

// ---- helpers ----

// testClock is a settable clock for the case service and intake. With a
// step it moves on by that much at every reading, so that two events are
// never in the same millisecond.
type testClock struct {
	mu   sync.Mutex
	t    time.Time
	step time.Duration
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(c.step)
	return c.t
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// useClock makes the fixture's case service and intake read clk.
func (f *fixture) useClock(start time.Time, step time.Duration) *testClock {
	clk := &testClock{t: start, step: step}
	f.flow.Now = clk.Now
	f.intake.Now = clk.Now
	return clk
}

// jpegPhoto encodes a small JPEG with the standard library; seed changes
// its pixels so that two photos have different digests.
func jpegPhoto(t testing.TB, seed int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for y := 0; y < 48; y++ {
		for x := 0; x < 64; x++ {
			img.Set(x, y, color.RGBA{uint8(x*4 + seed*13), uint8(y * 5), uint8(seed * 37), 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// heicHead is the start of an iPhone HEIC file: an ftyp box with the heic
// major brand.
func heicHead() []byte {
	b := []byte{0, 0, 0, 0x18}
	b = append(b, "ftypheic"...)
	b = append(b, 0, 0, 0, 0)
	b = append(b, "mif1heic"...)
	return append(b, make([]byte, 200)...)
}

// upload is one file of a multipart body.
type upload struct {
	name string
	data []byte
}

// multipartBody builds a multipart/form-data body: the fields in key
// order, then every file as a "photos" part.
func multipartBody(t testing.TB, fields url.Values, files ...upload) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range fields[k] {
			if err := mw.WriteField(k, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, f := range files {
		w, err := mw.CreateFormFile("photos", f.name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(f.data)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), mw.FormDataContentType()
}

var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// send makes one anonymous request and reads the answer. It does not fail
// the test, so goroutines may call it.
func send(base, method, path string, body []byte, contentType string, hdr http.Header) (response, error) {
	req, err := http.NewRequest(method, base+path, bytes.NewReader(body))
	if err != nil {
		return response{}, err
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := noRedirects.Do(req)
	if err != nil {
		return response{}, err
	}
	defer res.Body.Close()
	var b bytes.Buffer
	_, err = b.ReadFrom(res.Body)
	return response{StatusCode: res.StatusCode, Header: res.Header, body: b.String()}, err
}

// get fetches path anonymously.
func (f *fixture) get(path string) response {
	f.t.Helper()
	res, err := send(f.url, "GET", path, nil, "", nil)
	if err != nil {
		f.t.Fatalf("GET %s: %v", path, err)
	}
	return res
}

// submit posts a public report (multipart) with optional headers.
func (f *fixture) submit(fields url.Values, hdr http.Header, files ...upload) response {
	f.t.Helper()
	body, ct := multipartBody(f.t, fields, files...)
	res, err := send(f.url, "POST", "/api/v1/public/reports", body, ct, hdr)
	if err != nil {
		f.t.Fatalf("public report: %v", err)
	}
	return res
}

func ftoa(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// reportFields are the fields of a valid public report of the fixture's
// category at (lat, lon).
func (f *fixture) reportFields(desc string, lat, lon float64) url.Values {
	return url.Values{"category_id": {strconv.FormatInt(f.category.ID, 10)}, "description": {desc}, "lat": {ftoa(lat)}, "lon": {ftoa(lon)}}
}

type receiptJSON struct {
	Receipt   string `json:"receipt"`
	CaseNo    string `json:"case_no"`
	StatusURL string `json:"status_url"`
	StateText string `json:"state_text"`
	Kind      string `json:"kind"`
}

var receiptRe = regexp.MustCompile(`^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{10}$`)

// mustReport files a valid public report and returns its receipt.
func (f *fixture) mustReport(fields url.Values, files ...upload) receiptJSON {
	f.t.Helper()
	if len(files) == 0 {
		files = []upload{{"scene.jpg", jpegPhoto(f.t, 1)}}
	}
	res := f.submit(fields, nil, files...)
	if res.StatusCode != http.StatusCreated {
		f.t.Fatalf("public report: %d %s", res.StatusCode, res.body)
	}
	var rec receiptJSON
	res.json(f.t, &rec)
	return rec
}

// fullCase is a case as the JSON API shows it.
type fullCase struct {
	ID           int64    `json:"id"`
	No           string   `json:"no"`
	Source       string   `json:"source"`
	State        string   `json:"state"`
	Version      int      `json:"version"`
	Description  string   `json:"description"`
	Lat          *float64 `json:"lat"`
	Lon          *float64 `json:"lon"`
	RegionID     int64    `json:"region_id"`
	RegionName   string   `json:"region_name"`
	LeadUnitID   int64    `json:"lead_unit_id"`
	MergedInto   int64    `json:"merged_into"`
	GridCellID   int64    `json:"grid_cell_id"`
	LocationFlag string   `json:"location_flag"`
	Routing      *struct {
		Location struct {
			Flag     string `json:"flag"`
			CellCode string `json:"cell_code"`
		} `json:"location"`
		RuleID        int64 `json:"rule_id"`
		OwnerFallback bool  `json:"owner_fallback"`
		LeadUnitID    int64 `json:"lead_unit_id"`
	} `json:"routing"`
	Reporter *struct {
		Name  string `json:"name"`
		Phone string `json:"phone"`
	} `json:"reporter"`
	Photos []struct {
		ID    int64  `json:"id"`
		Kind  string `json:"kind"`
		Ready bool   `json:"ready"`
	} `json:"photos"`
}

// caseByNo finds a case by number through the list API and returns it
// as c sees it.
func caseByNo(t *testing.T, c *client, no string) fullCase {
	t.Helper()
	var page struct {
		Cases []fullCase `json:"cases"`
	}
	res := c.do("GET", "/api/v1/cases?no="+url.QueryEscape(no), nil, "")
	if res.StatusCode != 200 {
		t.Fatalf("list by no %s: %d %s", no, res.StatusCode, res.body)
	}
	res.json(t, &page)
	if len(page.Cases) != 1 {
		t.Fatalf("no case %s: %s", no, res.body)
	}
	return getCase(t, c, page.Cases[0].ID)
}

func getCase(t *testing.T, c *client, id int64) fullCase {
	t.Helper()
	res := c.do("GET", fmt.Sprintf("/api/v1/cases/%d", id), nil, "")
	if res.StatusCode != 200 {
		t.Fatalf("GET case %d: %d %s", id, res.StatusCode, res.body)
	}
	var fc fullCase
	res.json(t, &fc)
	return fc
}

// caseCount counts every case in the database.
func (f *fixture) caseCount() int {
	f.t.Helper()
	var n int
	if err := f.db.Reader().QueryRow(context.Background(), `SELECT COUNT(*) FROM cases`).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

// blobFiles lists the files of the photo store's folder (originals and
// derived versions), relative and sorted.
func (f *fixture) blobFiles() []string {
	f.t.Helper()
	dir := f.flow.Photos.Blobs.(blob.Local).Dir
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		f.t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func originals(files []string) []string {
	var out []string
	for _, f := range files {
		if strings.HasPrefix(f, "orig/") {
			out = append(out, f)
		}
	}
	return out
}

// staff are the logged-in office users a test drives cases with.
type staff struct {
	acc, hA, insp *client
}

func (f *fixture) staff() staff {
	return staff{acc: f.login("acceptor"), hA: f.login("handlerA"), insp: f.login("inspector")}
}

// toVerifying drives a reported or accepted case to verifying through the
// API: accept, dispatch by the responsibility table, acknowledge, feedback
// with a photo.
func (s staff) toVerifying(t *testing.T, id int64) {
	t.Helper()
	if c := getCase(t, s.acc, id); c.State == "reported" {
		s.acc.act(t, id, map[string]any{"action": "accept"}, 200)
	}
	s.acc.act(t, id, map[string]any{"action": "dispatch"}, 200)
	s.hA.act(t, id, map[string]any{"action": "acknowledge"}, 200)
	res := s.hA.multipart(fmt.Sprintf("/api/v1/cases/%d/actions", id), url.Values{"action": {"feedback"}, "opinion": {"已清理完毕"}},
		map[string][]byte{"after.jpg": jpegPhoto(t, 99)})
	if res.StatusCode != 200 {
		t.Fatalf("feedback: %d %s", res.StatusCode, res.body)
	}
}

// close drives a case on to closed.
func (s staff) close(t *testing.T, id int64) {
	t.Helper()
	s.toVerifying(t, id)
	if c := s.insp.act(t, id, map[string]any{"action": "verify_pass", "opinion": "现场已整改"}, 200); c.State != "closed" {
		t.Fatalf("after verify_pass: %s", c.State)
	}
}

// withServer starts a second server over the fixture's services, changed
// by mod (rate limits, say), and returns a fixture copy pointing at it.
func (f *fixture) withServer(mod func(*web.Server)) *fixture {
	f.t.Helper()
	msg, err := i18n.Load()
	if err != nil {
		f.t.Fatal(err)
	}
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		f.t.Fatal(err)
	}
	s := &web.Server{DB: f.db, Org: f.orgs, Flow: f.flow, Msg: msg, Location: loc, MaxUploadBytes: 3 << 20,
		Grid: f.grid, Intake: f.intake, City: "测试市", Volunteer: f.vol, Tasks: f.tasks, Privacy: &privacy.Service{DB: f.db}}
	mod(s)
	srv, err := web.New(s)
	if err != nil {
		f.t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	f.t.Cleanup(ts.Close)
	g := *f
	g.srv, g.url = srv, ts.URL
	return &g
}

func errorOf(t *testing.T, res response) errJSON {
	t.Helper()
	var e errJSON
	res.json(t, &e)
	return e
}

// wantError checks a JSON error answer: status, code and a fragment of
// the (Chinese) message.
func wantError(t *testing.T, what string, res response, status int, code, msg string) {
	t.Helper()
	if res.StatusCode != status {
		t.Errorf("%s: status %d, want %d: %s", what, res.StatusCode, status, res.body)
		return
	}
	e := errorOf(t, res)
	if e.Error.Code != code || !strings.Contains(e.Error.Message, msg) {
		t.Errorf("%s: error %q %q, want %q containing %q", what, e.Error.Code, e.Error.Message, code, msg)
	}
}

func near(a, b, eps float64) bool { return math.Abs(a-b) <= eps }

// ---- tests ----

func TestPublicConfigAndMap(t *testing.T) {
	testcity.BothLong(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		admin := org.Actor{Name: "test", Role: org.RoleAdmin, Scope: org.ScopeCity}
		cat := f.category
		cat.Hint = "垃圾堆放、散落垃圾"
		if _, err := f.flow.SaveCategory(ctx, admin, cat); err != nil {
			t.Fatal(err)
		}
		staffOnly, err := f.flow.SaveCategory(ctx, admin, workflow.Category{Code: "0104", ParentID: cat.ParentID, Name: "内部巡查项", LimitUnit: "hours", LimitNormal: 4, StaffOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		old, err := f.flow.SaveCategory(ctx, admin, workflow.Category{Code: "0105", ParentID: cat.ParentID, Name: "已停用类别", LimitUnit: "hours", LimitNormal: 4})
		if err != nil {
			t.Fatal(err)
		}
		old.Active = false
		if _, err := f.flow.SaveCategory(ctx, admin, old); err != nil {
			t.Fatal(err)
		}
		major2, err := f.flow.SaveCategory(ctx, admin, workflow.Category{Code: "02", Name: "交通秩序"})
		if err != nil {
			t.Fatal(err)
		}
		parking, err := f.flow.SaveCategory(ctx, admin, workflow.Category{Code: "0201", ParentID: major2.ID, Name: "占道停车", LimitUnit: "hours", LimitNormal: 2, Hint: "机动车占用人行道"})
		if err != nil {
			t.Fatal(err)
		}

		res := f.get("/api/v1/public/config")
		if res.StatusCode != 200 {
			t.Fatalf("config: %d %s", res.StatusCode, res.body)
		}
		var cfg struct {
			City       string     `json:"city"`
			Bounds     [4]float64 `json:"bounds"`
			Center     struct{ Lat, Lon float64 }
			MaxPhotos  int   `json:"max_photos"`
			MaxPhotoMB int64 `json:"max_photo_mb"`
			Categories []struct {
				ID                      int64
				Code, Name, Group, Hint string
			} `json:"categories"`
		}
		res.json(t, &cfg)
		type cat3 struct{ code, group, hint string }
		var got []cat3
		for _, c := range cfg.Categories {
			got = append(got, cat3{c.Code, c.Group, c.Hint})
		}
		want := []cat3{{"0101", "市容环境", "垃圾堆放、散落垃圾"}, {"0102", "市容环境", ""}, {"0201", "交通秩序", "机动车占用人行道"}}
		if !slices.Equal(got, want) {
			t.Errorf("public categories %+v, want %+v (staff-only %d, inactive %d and 大类 left out)", got, want, staffOnly.ID, old.ID)
		}
		if cfg.Categories[2].ID != parking.ID || cfg.Categories[2].Name != "占道停车" {
			t.Errorf("category: %+v", cfg.Categories[2])
		}
		wantBounds := [4]float64{102.6985, 24.99865, 102.7015, 25.00135}
		for i := range wantBounds {
			if !near(cfg.Bounds[i], wantBounds[i], 1e-9) {
				t.Errorf("bounds %v, want %v", cfg.Bounds, wantBounds)
				break
			}
		}
		if !near(cfg.Center.Lat, 25.0, 1e-9) || !near(cfg.Center.Lon, 102.7, 1e-9) || cfg.City != "测试市" || cfg.MaxPhotoMB != 1 || cfg.MaxPhotos != 9 {
			t.Errorf("config: %+v", cfg)
		}

		// the grid for the offline map
		res = f.get("/api/v1/public/grid?bbox=102.69,24.99,102.71,25.01")
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/geo+json") {
			t.Fatalf("public grid: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
		}
		var fc struct {
			Type     string
			Features []struct {
				Properties struct{ Code, Community string }
			}
		}
		res.json(t, &fc)
		if fc.Type != "FeatureCollection" || len(fc.Features) != 9 || fc.Features[4].Properties.Code != "330102001001005" || fc.Features[4].Properties.Community != "清波社区" {
			t.Errorf("public grid: %s", res.body)
		}
		wantError(t, "bad bbox", f.get("/api/v1/public/grid?bbox=1,2,3"), 400, "invalid", "bbox")

		// the staff-only category cannot be reported publicly
		fields := f.reportFields("内部问题", f.cell.Lat, f.cell.Lon)
		fields.Set("category_id", strconv.FormatInt(staffOnly.ID, 10))
		wantError(t, "staff-only category", f.submit(fields, nil, upload{"a.jpg", jpegPhoto(t, 1)}), 400, "invalid", "问题类别不存在")
		fields.Set("category_id", strconv.FormatInt(old.ID, 10))
		wantError(t, "inactive category", f.submit(fields, nil, upload{"a.jpg", jpegPhoto(t, 1)}), 400, "invalid", "问题类别不存在")
		if n := f.caseCount(); n != 0 {
			t.Errorf("%d cases after refused reports", n)
		}
		if files := f.blobFiles(); len(files) != 0 {
			t.Errorf("photos left behind: %v", files)
		}

		// the reporting page itself
		if res := f.get("/report"); res.StatusCode != 200 || !strings.Contains(res.body, "暴露垃圾") {
			t.Errorf("/report: %d", res.StatusCode)
		}
	})
}

// TestPublicReport files a report the way the phone page does and follows
// it into the office: placement in the grid, routing, and the reporter's
// data that only the office sees.
func TestPublicReport(t *testing.T) {
	testcity.BothLong(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.useClock(time.Date(2026, 7, 14, 9, 0, 0, 0, f.flow.Location), time.Second)
		fields := f.reportFields("幸福路口堆放生活垃圾", f.cell.Lat+0.0001, f.cell.Lon+0.0001)
		fields.Set("name", "王小明")
		fields.Set("phone", "13800001111")
		fields.Set("device_id", "dev-1")
		rec := f.mustReport(fields)
		if !receiptRe.MatchString(rec.Receipt) || !regexp.MustCompile(`^2026-\d{6}$`).MatchString(rec.CaseNo) ||
			rec.StatusURL != "/track/"+rec.Receipt || rec.StateText != "已收到，等待受理" || rec.Kind != "reporter" {
			t.Fatalf("receipt: %+v", rec)
		}
		s := f.staff()
		c := caseByNo(t, s.acc, rec.CaseNo)
		if c.Source != "citizen" || c.State != "reported" || c.RegionID != f.comm.ID || c.RegionName != "清波社区" || c.LocationFlag != "cell" || c.GridCellID == 0 {
			t.Errorf("placement: %+v", c)
		}
		if c.Routing == nil || c.Routing.Location.CellCode != "330102001001005" || c.Routing.RuleID == 0 || c.Routing.OwnerFallback || c.Routing.LeadUnitID != f.unitA.ID {
			t.Errorf("routing: %+v", c.Routing)
		}
		if c.Reporter == nil || c.Reporter.Name != "王小明" || c.Reporter.Phone != "13800001111" {
			t.Errorf("the acceptor should see the reporter: %+v", c.Reporter)
		}
		if len(c.Photos) != 1 || c.Photos[0].Kind != "before" {
			t.Errorf("photos: %+v", c.Photos)
		}
		s.acc.act(t, c.ID, map[string]any{"action": "accept"}, 200)
		if d := s.acc.act(t, c.ID, map[string]any{"action": "dispatch"}, 200); d.LeadUnitID != f.unitA.ID {
			t.Errorf("dispatched to %d, want unit A %d", d.LeadUnitID, f.unitA.ID)
		}
		// The unit's handler sees the case without its reporter, in the
		// API and on the console page.
		res := s.hA.do("GET", fmt.Sprintf("/api/v1/cases/%d", c.ID), nil, "")
		if res.StatusCode != 200 || strings.Contains(res.body, `"reporter"`) || strings.Contains(res.body, "王小明") || strings.Contains(res.body, "13800001111") {
			t.Errorf("handler's view: %d %s", res.StatusCode, res.body)
		}
		if res := s.hA.do("GET", fmt.Sprintf("/cases/%d", c.ID), nil, ""); res.StatusCode != 200 || strings.Contains(res.body, "王小明") || strings.Contains(res.body, "13800001111") {
			t.Errorf("handler's console page: %d, reporter shown: %v", res.StatusCode, strings.Contains(res.body, "王小明"))
		}
		// The status page and the public map do not show it either.
		res = f.get(rec.StatusURL)
		if res.StatusCode != 200 || !strings.Contains(res.body, rec.CaseNo) || !strings.Contains(res.body, "已派给责任单位") {
			t.Errorf("status page: %d", res.StatusCode)
		}
		for _, p := range []string{rec.StatusURL, "/api/v1/public/cases?bbox=102.69,24.99,102.71,25.01", "/open311/v2/requests/" + rec.CaseNo + ".json?extensions=true",
			"/open311/v2/requests/" + rec.CaseNo + ".xml?extensions=true"} {
			res := f.get(p)
			if res.StatusCode != 200 {
				t.Errorf("%s: %d %s", p, res.StatusCode, res.body)
			}
			for _, secret := range []string{"王小明", "13800001111", "dev-1"} {
				if strings.Contains(res.body, secret) {
					t.Errorf("%s shows %q", p, secret)
				}
			}
		}
		var markers struct {
			Cases []struct {
				No, Category string
				StateText    string `json:"state_text"`
			}
		}
		f.get("/api/v1/public/cases?bbox=102.69,24.99,102.71,25.01").json(t, &markers)
		if len(markers.Cases) != 1 || markers.Cases[0].No != rec.CaseNo || markers.Cases[0].StateText != "已派给责任单位" || markers.Cases[0].Category != "暴露垃圾" {
			t.Errorf("map markers: %+v", markers)
		}
	})
}

func TestPublicIdempotency(t *testing.T) {
	testcity.BothLong(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		photo := upload{"scene.jpg", jpegPhoto(t, 3)}
		fields := f.reportFields("消防通道堆放杂物", f.cell.Lat, f.cell.Lon)
		key := http.Header{"Idempotency-Key": {"2f1c6a7e-retry-1"}}

		first := f.submit(fields, key, photo)
		if first.StatusCode != 201 {
			t.Fatalf("first: %d %s", first.StatusCode, first.body)
		}
		var r1 receiptJSON
		first.json(t, &r1)
		for i := range 2 {
			again := f.submit(fields, key, photo)
			var r receiptJSON
			again.json(t, &r)
			if again.StatusCode != 200 || r != r1 {
				t.Fatalf("retry %d: %d %+v, want 200 %+v", i, again.StatusCode, r, r1)
			}
		}
		// the key may also come as a form field
		withField := url.Values{}
		for k, v := range fields {
			withField[k] = v
		}
		withField.Set("idempotency_key", "2f1c6a7e-retry-1")
		if res := f.submit(withField, nil, photo); res.StatusCode != 200 || !strings.Contains(res.body, r1.Receipt) {
			t.Fatalf("retry with the key as a form field: %d %s", res.StatusCode, res.body)
		}
		// the same key with other content is a client bug, not a retry
		other := f.reportFields("另一处问题", f.cell.Lat, f.cell.Lon)
		wantError(t, "key reused", f.submit(other, key, photo), 409, "conflict", "提交标识已用于另一条不同内容的上报")
		if n := f.caseCount(); n != 1 {
			t.Fatalf("%d cases after retries, want 1", n)
		}
		if o := originals(f.blobFiles()); len(o) != 1 {
			t.Fatalf("originals after retries: %v, want one", o)
		}

		// Six phones' worth of retries at once: one case, one receipt.
		concurrent := f.reportFields("井盖缺失", f.cell.Lat+0.0003, f.cell.Lon)
		body, ct := multipartBody(t, concurrent, upload{"scene.jpg", jpegPhoto(t, 4)})
		hdr := http.Header{"Idempotency-Key": {"concurrent-key-6"}}
		var wg sync.WaitGroup
		results := make([]response, 6)
		errs := make([]error, 6)
		for i := range results {
			wg.Go(func() {
				results[i], errs[i] = send(f.url, "POST", "/api/v1/public/reports", body, ct, hdr)
			})
		}
		wg.Wait()
		created, codes := 0, map[string]bool{}
		for i, res := range results {
			if errs[i] != nil {
				t.Fatalf("request %d: %v", i, errs[i])
			}
			switch res.StatusCode {
			case 201:
				created++
			case 200:
			default:
				t.Fatalf("request %d: %d %s", i, res.StatusCode, res.body)
			}
			var r receiptJSON
			res.json(t, &r)
			codes[r.Receipt+" "+r.CaseNo] = true
		}
		if created != 1 || len(codes) != 1 {
			t.Fatalf("concurrent retries: %d created, answers %v", created, codes)
		}
		if n := f.caseCount(); n != 2 {
			t.Fatalf("%d cases, want 2", n)
		}
		if o := originals(f.blobFiles()); len(o) != 2 {
			t.Fatalf("originals: %v, want two", o)
		}
		var receipts int
		if err := db.Reader().QueryRow(context.Background(), `SELECT COUNT(*) FROM receipts`).Scan(&receipts); err != nil || receipts != 2 {
			t.Fatalf("receipts: %d %v, want 2", receipts, err)
		}
	})
}

// TestPublicCoordinateDatums sends a known WGS-84 point as GCJ-02 and as
// BD-09 (what AMap and Baidu give a phone) and expects it stored as the
// WGS-84 point, in the same cell.
func TestPublicCoordinateDatums(t *testing.T) {
	testcity.BothLong(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		acc := f.login("acceptor")
		w := geo.Point{Lon: f.cell.Lon + 0.0002, Lat: f.cell.Lat - 0.0001}
		for i, d := range []geo.Datum{geo.WGS84, geo.GCJ02, geo.BD09} {
			p := geo.FromWGS84(w, d)
			if d != geo.WGS84 && geo.Distance(p, w) < 300 {
				t.Fatalf("%s offset only %.0f m: the test would not tell the datums apart", d, geo.Distance(p, w))
			}
			fields := f.reportFields(fmt.Sprintf("坐标系测试 %s", d), p.Lat, p.Lon)
			fields.Set("coord", strings.ToUpper(string(d)))
			rec := f.mustReport(fields, upload{"a.jpg", jpegPhoto(t, 10+i)})
			c := caseByNo(t, acc, rec.CaseNo)
			if c.Lat == nil || !near(*c.Lat, w.Lat, 1e-5) || !near(*c.Lon, w.Lon, 1e-5) {
				t.Errorf("%s: stored %v,%v, want %v", d, deref(c.Lat), deref(c.Lon), w)
			}
			if c.Routing == nil || c.Routing.Location.CellCode != "330102001001005" || c.LocationFlag != "cell" {
				t.Errorf("%s: placed %+v", d, c.Routing)
			}
		}
		// locate speaks the same datums
		g := geo.FromWGS84(w, geo.GCJ02)
		var loc struct {
			Flag     string `json:"flag"`
			CellCode string `json:"cell_code"`
		}
		acc.do("GET", fmt.Sprintf("/api/v1/grid/locate?lat=%s&lon=%s&coord=gcj02", ftoa(g.Lat), ftoa(g.Lon)), nil, "").json(t, &loc)
		if loc.CellCode != "330102001001005" {
			t.Errorf("locate gcj02: %+v", loc)
		}
	})
}

func deref(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

// TestPublicReportRefusals: each bad report is refused with its status
// and a Chinese message, and leaves nothing behind: no case, no photo.
func TestPublicReportRefusals(t *testing.T) {
	testcity.BothLong(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ok := func() url.Values { return f.reportFields("路边垃圾", f.cell.Lat, f.cell.Lon) }
		with := func(k, v string) url.Values {
			fs := ok()
			if v == "" {
				fs.Del(k)
			} else {
				fs.Set(k, v)
			}
			return fs
		}
		photo := upload{"scene.jpg", jpegPhoto(t, 5)}
		bigPhoto := append([]byte{0xff, 0xd8, 0xff, 0xe0}, bytes.Repeat([]byte{0x55}, 2<<20)...)
		// Each part is under the photo limit; together they pass the
		// body limit (the photos are streamed, so the first ones are
		// stored before the limit is met, and must be removed again).
		partPhoto := append(append([]byte{0xff, 0xd8, 0xff, 0xe0}, bytes.Repeat([]byte{0x55}, 900<<10)...), 0xff, 0xd9) // whole as far as intake checks
		multi := func(fields url.Values, files ...upload) func() (response, error) {
			return func() (response, error) {
				body, ct := multipartBody(t, fields, files...)
				return send(f.url, "POST", "/api/v1/public/reports", body, ct, nil)
			}
		}
		cases := []struct {
			name   string
			run    func() (response, error)
			status int
			code   string
			msg    string
		}{
			{"no photo", multi(ok()), 400, "invalid", "请至少上传一张照片"},
			{"text renamed .jpg", multi(ok(), upload{"evil.jpg", []byte("#!/bin/sh\necho hi\n")}), 415, "unsupported", "只接受 JPEG、PNG、WebP"},
			{"HEIC", multi(ok(), upload{"IMG_0001.HEIC", heicHead()}), 415, "unsupported", "HEIC"},
			{"photo over the photo limit", multi(ok(), upload{"big.jpg", bigPhoto}), 413, "too_large", "照片超过 1 MB"},
			{"photo cut short", multi(ok(), upload{"cut.jpg", jpegPhoto(t, 5)[:600]}), 400, "invalid", "照片文件不完整"},
			{"body over the upload limit", multi(ok(), upload{"a.jpg", partPhoto}, upload{"b.jpg", partPhoto}, upload{"c.jpg", partPhoto}, upload{"d.jpg", partPhoto}), 413, "too_large", "上传内容超过 3 MB"},
			{"second photo bad", multi(ok(), photo, upload{"evil.jpg", []byte("not an image at all")}), 415, "unsupported", "只接受"},
			{"malformed lat", multi(with("lat", "abc"), photo), 400, "invalid", "坐标无效"},
			{"lat out of range", multi(with("lat", "95"), photo), 400, "invalid", "坐标无效"},
			{"unknown datum", multi(with("coord", "xyz"), photo), 400, "invalid", "坐标系参数"},
			{"only lat", multi(with("lon", ""), photo), 400, "invalid", "坐标无效"},
			{"outside the city", multi(with("lat", "40"), photo), 400, "invalid", "不在本市范围"},
			{"outside the city (Beijing)", multi(func() url.Values { v := with("lat", "40"); v.Set("lon", "116"); return v }(), photo), 400, "invalid", "不在本市范围"},
			{"description too long", multi(with("description", strings.Repeat("垃", 501)), photo), 400, "invalid", "不能超过 500 个字"},
			{"NUL in the description", multi(with("description", "路边\x00垃圾"), photo), 400, "invalid", "无效字符"},
			{"description not UTF-8", multi(with("description", "路边\xff\xfe垃圾"), photo), 400, "invalid", "无效字符"},
			{"name not UTF-8", multi(with("name", "王\xc3"), photo), 400, "invalid", "无效字符"},
			{"no description", multi(with("description", "   "), photo), 400, "invalid", ""},
			{"no category", multi(with("category_id", ""), photo), 400, "invalid", "问题类别不存在"},
			{"大类 category", multi(with("category_id", strconv.FormatInt(f.category.ParentID, 10)), photo), 400, "invalid", ""},
			{"bad phone", multi(with("phone", "call me maybe"), photo), 400, "invalid", "手机号格式不正确"},
			{"JSON body", func() (response, error) {
				return send(f.url, "POST", "/api/v1/public/reports", []byte(`{"category_id":1,"description":"x","lat":25,"lon":102.7}`), "application/json", nil)
			}, 415, "unsupported", "multipart/form-data"},
			{"cross-site", func() (response, error) {
				body, ct := multipartBody(t, ok(), photo)
				return send(f.url, "POST", "/api/v1/public/reports", body, ct, http.Header{"Origin": {"https://evil.example"}})
			}, 403, "forbidden", "请求来源无效"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before := f.blobFiles()
				res, err := tc.run()
				if err != nil {
					t.Fatal(err)
				}
				wantError(t, tc.name, res, tc.status, tc.code, tc.msg)
				if n := f.caseCount(); n != 0 {
					t.Errorf("a case was stored: %d", n)
				}
				if after := f.blobFiles(); !slices.Equal(before, after) {
					t.Errorf("photo store changed: %v → %v", before, after)
				}
			})
		}
		// the longest description allowed passes
		f.mustReport(with("description", strings.Repeat("垃", 500)), photo)
		if n := f.caseCount(); n != 1 {
			t.Fatalf("cases: %d", n)
		}
	})
}

// TestPublicEXIFLocation: without lat/lon the first photo's GPS position
// is the report's.
func TestPublicEXIFLocation(t *testing.T) {
	testcity.BothLong(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		gps, err := os.ReadFile("../imaging/testdata/gps.jpg")
		if err != nil {
			t.Fatal(err)
		}
		meta, err := imaging.ReadMeta(gps)
		if err != nil || !meta.HasGPS {
			t.Fatalf("gps.jpg has no position: %+v %v", meta, err)
		}
		fields := f.reportFields("照片自带位置", 0, 0)
		fields.Del("lat")
		fields.Del("lon")
		// gps.jpg was taken about 5 km north of the test grid, farther
		// than the 3 km margin: the photo's position is used, and it is
		// outside the city.
		wantError(t, "photo taken outside the city", f.submit(fields, nil, upload{"gps.jpg", gps}), 400, "invalid", "不在本市范围")
		// A photo without a position and no coordinates: the place is needed.
		wantError(t, "no position at all", f.submit(fields, nil, upload{"plain.jpg", jpegPhoto(t, 6)}), 400, "invalid", "请提供位置")
		if n, files := f.caseCount(), f.blobFiles(); n != 0 || len(files) != 0 {
			t.Fatalf("after refusals: %d cases, files %v", n, files)
		}

		// With a wider city margin the same photo is taken in, unlocated
		// (for the acceptor to place), at the photo's position.
		f.grid.OutsideM = 10_000
		rec := f.mustReport(fields, upload{"gps.jpg", gps}, upload{"plain.jpg", jpegPhoto(t, 7)})
		f.grid.OutsideM = 3000
		acc := f.login("acceptor")
		c := caseByNo(t, acc, rec.CaseNo)
		if c.Lat == nil || !near(*c.Lat, meta.Lat, 1e-9) || !near(*c.Lon, meta.Lon, 1e-9) || !near(*c.Lat, 25.0478, 1e-3) || !near(*c.Lon, 102.7123, 1e-3) {
			t.Errorf("stored position %v,%v, want the photo's %v,%v", deref(c.Lat), deref(c.Lon), meta.Lat, meta.Lon)
		}
		if c.LocationFlag != "unlocated" || c.GridCellID != 0 {
			t.Errorf("placement: %q cell %d, want unlocated", c.LocationFlag, c.GridCellID)
		}
		// The GPS-tagged original stays in the office; what the public
		// gets has no position in it.
		if _, err := f.flow.PhotoJobs.Derive(context.Background(), "test"); err != nil {
			t.Fatal(err)
		}
		c = getCase(t, acc, c.ID)
		if len(c.Photos) != 2 || !c.Photos[0].Ready {
			t.Fatalf("photos: %+v", c.Photos)
		}
		for _, v := range []string{"thumb", "large"} {
			res := f.get(fmt.Sprintf("/track/%s/photos/%d/%s", rec.Receipt, c.Photos[0].ID, v))
			if res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/jpeg" {
				t.Fatalf("%s: %d %s", v, res.StatusCode, res.Header.Get("Content-Type"))
			}
			if m, _ := imaging.ReadMeta([]byte(res.body)); m.HasGPS {
				t.Errorf("the public %s version carries the GPS position", v)
			}
		}
	})
}

func TestPublicRateLimits(t *testing.T) {
	testcity.BothLong(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		g := f.withServer(func(s *web.Server) {
			s.PublicWriteLimit = ratelimit.New(2, time.Hour, 2)
			s.PublicReadLimit = ratelimit.New(3, time.Hour, 3)
		})
		for i := range 2 {
			g.mustReport(g.reportFields(fmt.Sprintf("问题%d", i), f.cell.Lat, f.cell.Lon), upload{"a.jpg", jpegPhoto(t, 20+i)})
		}
		before := f.blobFiles()
		res := g.submit(g.reportFields("第三次", f.cell.Lat, f.cell.Lon), nil, upload{"a.jpg", jpegPhoto(t, 22)})
		wantError(t, "third report", res, 429, "rate_limited", "请求过于频繁")
		if secs, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || secs < 1 || secs > 1800 {
			t.Errorf("Retry-After %q", res.Header.Get("Retry-After"))
		}
		if n := f.caseCount(); n != 2 || !slices.Equal(before, f.blobFiles()) {
			t.Errorf("the refused report left a case or a photo: %d cases", n)
		}
		// reads have their own bucket: the reports did not use it
		for i := range 3 {
			if res := g.get("/api/v1/public/config"); res.StatusCode != 200 {
				t.Fatalf("read %d: %d", i, res.StatusCode)
			}
		}
		res = g.get("/api/v1/public/config")
		wantError(t, "fourth read", res, 429, "rate_limited", "秒后再试")
		if res.Header.Get("Retry-After") == "" {
			t.Error("no Retry-After on a refused read")
		}
		// the status page shares the read limit (a page, not JSON)
		if res := g.get("/track/ABCDEFGHJK"); res.StatusCode != 429 || !strings.Contains(res.body, "请求过于频繁") {
			t.Errorf("status page over the limit: %d", res.StatusCode)
		}
		// the fixture's own server has no limits
		if res := f.get("/api/v1/public/config"); res.StatusCode != 200 {
			t.Errorf("unlimited server: %d", res.StatusCode)
		}
	})
}

func TestBlocklist(t *testing.T) {
	testcity.BothLong(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		acc, hA := f.login("acceptor"), f.login("handlerA")
		if res := acc.json("POST", "/api/v1/blocklist", map[string]any{"kind": "phone", "value": "13800000000", "reason": "反复恶意上报"}); res.StatusCode != 201 {
			t.Fatalf("block: %d %s", res.StatusCode, res.body)
		}
		wantError(t, "bad kind", acc.json("POST", "/api/v1/blocklist", map[string]any{"kind": "email", "value": "x@example.com"}), 400, "invalid", "封禁类型")
		fields := f.reportFields("被封禁号码的上报", f.cell.Lat, f.cell.Lon)
		fields.Set("phone", "+86 138-0000-0000")
		wantError(t, "blocked phone", f.submit(fields, nil, upload{"a.jpg", jpegPhoto(t, 30)}), 403, "forbidden", "暂停上报")
		if n, files := f.caseCount(), f.blobFiles(); n != 0 || len(files) != 0 {
			t.Fatalf("blocked report left %d cases, files %v", n, files)
		}
		// another number still reports
		other := f.reportFields("其他号码", f.cell.Lat, f.cell.Lon)
		other.Set("phone", "13900000000")
		f.mustReport(other, upload{"a.jpg", jpegPhoto(t, 31)})

		res := acc.do("GET", "/api/v1/blocklist", nil, "")
		var blocks []struct {
			Kind, ID, Label, Reason string
		}
		res.json(t, &blocks)
		if res.StatusCode != 200 || len(blocks) != 1 || blocks[0].Kind != "phone" || blocks[0].Label != "138****0000" || blocks[0].Reason != "反复恶意上报" {
			t.Fatalf("blocklist: %d %s", res.StatusCode, res.body)
		}
		if strings.Contains(res.body, "13800000000") || strings.Contains(res.body, "8613800000000") {
			t.Errorf("the blocklist shows the full number: %s", res.body)
		}
		if page := acc.do("GET", "/admin/blocklist", nil, ""); page.StatusCode != 200 || strings.Contains(page.body, "13800000000") || !strings.Contains(page.body, "138****0000") {
			t.Errorf("console blocklist page: %d", page.StatusCode)
		}
		// handlers have no business with the abuse list
		if res := hA.do("GET", "/api/v1/blocklist", nil, ""); res.StatusCode != 403 {
			t.Errorf("handler lists blocks: %d", res.StatusCode)
		}
		if res := hA.json("POST", "/api/v1/blocklist", map[string]any{"kind": "phone", "value": "13900000000"}); res.StatusCode != 403 {
			t.Errorf("handler adds a block: %d", res.StatusCode)
		}
		if res := hA.do("DELETE", "/api/v1/blocklist/phone/"+blocks[0].ID, nil, ""); res.StatusCode != 403 {
			t.Errorf("handler lifts a block: %d", res.StatusCode)
		}
		// lifting the block restores reporting
		if res := acc.do("DELETE", "/api/v1/blocklist/phone/"+blocks[0].ID, nil, ""); res.StatusCode != 200 {
			t.Fatalf("lift: %d %s", res.StatusCode, res.body)
		}
		if res := acc.do("DELETE", "/api/v1/blocklist/phone/"+blocks[0].ID, nil, ""); res.StatusCode != 404 {
			t.Errorf("lift twice: %d", res.StatusCode)
		}
		f.mustReport(fields, upload{"a.jpg", jpegPhoto(t, 32)})
		if n := f.caseCount(); n != 2 {
			t.Errorf("cases: %d", n)
		}
		// a blocked device is refused too
		if res := acc.json("POST", "/api/v1/blocklist", map[string]any{"kind": "device", "value": "dev-abuser"}); res.StatusCode != 201 {
			t.Fatalf("block device: %d", res.StatusCode)
		}
		fields.Set("device_id", "dev-abuser")
		wantError(t, "blocked device", f.submit(fields, nil, upload{"a.jpg", jpegPhoto(t, 33)}), 403, "forbidden", "暂停上报")
	})
}

func TestPublicNearbyAndFollow(t *testing.T) {
	testcity.BothLong(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		first := f.mustReport(f.reportFields("人行道井盖破损", f.cell.Lat, f.cell.Lon))
		type nearby struct {
			Cases []struct {
				No        string `json:"no"`
				DistanceM int    `json:"distance_m"`
				StateText string `json:"state_text"`
				Thumb     string `json:"thumb"`
			} `json:"cases"`
		}
		look := func(lat, lon float64, extra string) nearby {
			t.Helper()
			res := f.get(fmt.Sprintf("/api/v1/public/nearby?category_id=%d&lat=%s&lon=%s%s", f.category.ID, ftoa(lat), ftoa(lon), extra))
			if res.StatusCode != 200 {
				t.Fatalf("nearby: %d %s", res.StatusCode, res.body)
			}
			var n nearby
			res.json(t, &n)
			return n
		}
		// about 22 m away: within the category's 50 m
		n := look(f.cell.Lat+0.0002, f.cell.Lon, "")
		if len(n.Cases) != 1 || n.Cases[0].No != first.CaseNo || n.Cases[0].DistanceM < 20 || n.Cases[0].DistanceM > 25 || n.Cases[0].StateText != "已收到，等待受理" {
			t.Fatalf("near: %+v", n)
		}
		// once its photo is derived, the existing case shows it
		if n.Cases[0].Thumb != "" {
			t.Errorf("a thumbnail before the photo is derived: %q", n.Cases[0].Thumb)
		}
		if _, err := f.flow.PhotoJobs.Derive(context.Background(), "test"); err != nil {
			t.Fatal(err)
		}
		n = look(f.cell.Lat+0.0002, f.cell.Lon, "")
		if th := n.Cases[0].Thumb; !strings.HasPrefix(th, "/api/v1/public/photos/"+first.CaseNo+"/") || !strings.HasSuffix(th, "/thumb") {
			t.Errorf("thumbnail: %q", th)
		} else if res := f.get(th); res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/jpeg" {
			t.Errorf("the thumbnail: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
		}
		// about 150 m away: not the same problem
		if n := look(f.cell.Lat, f.cell.Lon+0.0015, ""); len(n.Cases) != 0 {
			t.Fatalf("far: %+v", n)
		}
		// the same point sent in GCJ-02
		g := geo.FromWGS84(geo.Point{Lon: f.cell.Lon, Lat: f.cell.Lat + 0.0002}, geo.GCJ02)
		if n := look(g.Lat, g.Lon, "&coord=gcj02"); len(n.Cases) != 1 {
			t.Fatalf("near in gcj02: %+v", n)
		}
		wantError(t, "nearby without a point", f.get(fmt.Sprintf("/api/v1/public/nearby?category_id=%d", f.category.ID)), 400, "invalid", "请提供位置")

		// Instead of a second report, the citizen follows the first.
		res, err := send(f.url, "POST", "/api/v1/public/follow", []byte(`{"case_no":"`+first.CaseNo+`","device_id":"dev-2"}`), "application/json", nil)
		if err != nil || res.StatusCode != 201 {
			t.Fatalf("follow: %d %s %v", res.StatusCode, res.body, err)
		}
		var rec receiptJSON
		res.json(t, &rec)
		if rec.Kind != "follower" || rec.CaseNo != first.CaseNo || !receiptRe.MatchString(rec.Receipt) || rec.Receipt == first.Receipt {
			t.Fatalf("follower receipt: %+v", rec)
		}
		page := f.get("/track/" + rec.Receipt)
		if page.StatusCode != 200 || !strings.Contains(page.body, first.CaseNo) || !strings.Contains(page.body, `id="follower"`) || !strings.Contains(page.body, "人行道井盖破损") {
			t.Fatalf("follower's status page: %d", page.StatusCode)
		}
		if n := f.caseCount(); n != 1 {
			t.Errorf("following made a case: %d", n)
		}
		res, _ = send(f.url, "POST", "/api/v1/public/follow", []byte(`{"case_no":"2026-999999"}`), "application/json", nil)
		wantError(t, "follow an unknown case", res, 404, "not_found", "")
	})
}

var photoURLRe = regexp.MustCompile(`"(/[^"]*/photos/[^"]*)"`)

func TestTrackPage(t *testing.T) {
	testcity.BothLong(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		fields := f.reportFields("广场东侧垃圾桶满溢", f.cell.Lat, f.cell.Lon)
		fields.Set("name", "赵女士")
		fields.Set("phone", "13700002222")
		rec := f.mustReport(fields)
		other := f.mustReport(f.reportFields("另一处问题", f.cell.Lat+0.001, f.cell.Lon), upload{"b.jpg", jpegPhoto(t, 40)})

		page := f.get("/track/" + rec.Receipt)
		if page.StatusCode != 200 || !strings.HasPrefix(page.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("status page: %d %s", page.StatusCode, page.Header.Get("Content-Type"))
		}
		for _, want := range []string{rec.Receipt, rec.CaseNo, `id="steps"`, "已收到", "已受理", "处理中", "核查中", "已办结", "已收到，等待受理", "广场东侧垃圾桶满溢", "暴露垃圾"} {
			if !strings.Contains(page.body, want) {
				t.Errorf("status page lacks %q", want)
			}
		}
		for _, secret := range []string{"赵女士", "13700002222"} {
			if strings.Contains(page.body, secret) {
				t.Errorf("status page shows %q", secret)
			}
		}
		if m := photoURLRe.FindAllString(page.body, -1); len(m) != 0 {
			t.Errorf("photos listed before their public versions exist: %v", m)
		}
		// unknown and malformed codes
		for _, code := range []string{"ZZZZZZZZZZ", "abc", "2222222222"} {
			if res := f.get("/track/" + code); res.StatusCode != 404 || !strings.Contains(res.body, "查询码不存在") {
				t.Errorf("/track/%s: %d", code, res.StatusCode)
			}
		}
		// as typed: lower case with a dash
		typed := strings.ToLower(rec.Receipt[:5]) + "-" + strings.ToLower(rec.Receipt[5:])
		res := f.get("/track?code=" + url.QueryEscape(typed))
		if res.StatusCode != 303 || res.Header.Get("Location") != "/track/"+rec.Receipt {
			t.Fatalf("lookup %q: %d %q", typed, res.StatusCode, res.Header.Get("Location"))
		}
		if res := f.get(res.Header.Get("Location")); res.StatusCode != 200 || !strings.Contains(res.body, rec.CaseNo) {
			t.Errorf("after the lookup: %d", res.StatusCode)
		}
		if res := f.get("/track/" + strings.ToLower(rec.Receipt)); res.StatusCode != 200 {
			t.Errorf("lower-case code in the path: %d", res.StatusCode)
		}
		if res := f.get("/track?code=nope"); res.StatusCode != 404 || !strings.Contains(res.body, "查询码不存在") {
			t.Errorf("lookup of a bad code: %d", res.StatusCode)
		}

		// After the worker made the public versions: thumbnails only.
		if _, err := f.flow.PhotoJobs.Derive(context.Background(), "test"); err != nil {
			t.Fatal(err)
		}
		page = f.get("/track/" + rec.Receipt)
		urls := photoURLRe.FindAllStringSubmatch(page.body, -1)
		if len(urls) == 0 {
			t.Fatalf("no photo on the status page")
		}
		imgs := regexp.MustCompile(`<img src="([^"]+)"`).FindAllStringSubmatch(page.body, -1)
		if len(imgs) != 1 {
			t.Fatalf("images on the status page: %v", imgs)
		}
		own := regexp.MustCompile(`^/track/` + rec.Receipt + `/photos/(\d+)/(thumb|large)$`)
		for _, u := range urls {
			if !own.MatchString(u[1]) {
				t.Errorf("photo URL %q is not a derived version under the receipt", u[1])
			}
		}
		thumb := imgs[0][1]
		if !strings.HasSuffix(thumb, "/thumb") || !own.MatchString(thumb) {
			t.Fatalf("image %q is not a thumbnail", thumb)
		}
		if res := f.get(thumb); res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/jpeg" {
			t.Fatalf("thumbnail: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
		}
		pid := own.FindStringSubmatch(thumb)[1]
		base := "/track/" + rec.Receipt + "/photos/"
		for _, p := range []string{base + pid + "/original", base + pid + "/orig", base + pid + "/thumb/../original"} {
			if res := f.get(p); res.StatusCode == 200 {
				t.Errorf("%s: 200, the original must not be public", p)
			}
		}
		if res := f.get(base + pid + "/large?v=original"); res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/jpeg" {
			t.Errorf("large: %d", res.StatusCode)
		}
		// the other case's photo through this receipt
		acc := f.login("acceptor")
		oc := caseByNo(t, acc, other.CaseNo)
		if res := f.get(fmt.Sprintf("%s%d/thumb", base, oc.Photos[0].ID)); res.StatusCode != 404 {
			t.Errorf("another case's photo through this receipt: %d", res.StatusCode)
		}
		if res := f.get(fmt.Sprintf("/track/%s/photos/%d/thumb", other.Receipt, oc.Photos[0].ID)); res.StatusCode != 200 {
			t.Errorf("the other case's photo through its own receipt: %d", res.StatusCode)
		}
		// the Open311 media URL serves derived versions only, too
		pub := "/api/v1/public/photos/" + rec.CaseNo + "/" + pid + "/"
		if res := f.get(pub + "large"); res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/jpeg" {
			t.Errorf("public photo: %d", res.StatusCode)
		}
		for _, v := range []string{"original", "orig"} {
			if res := f.get(pub + v); res.StatusCode != 404 {
				t.Errorf("public photo %s: %d", v, res.StatusCode)
			}
		}
		if res := f.get(fmt.Sprintf("/api/v1/public/photos/%s/%d/thumb", rec.CaseNo, oc.Photos[0].ID)); res.StatusCode != 404 {
			t.Errorf("another case's photo under this number: %d", res.StatusCode)
		}
	})
}

func TestTrackRating(t *testing.T) {
	testcity.BothLong(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.useClock(time.Date(2026, 7, 14, 9, 0, 0, 0, f.flow.Location), time.Second)
		rec := f.mustReport(f.reportFields("公交站台小广告", f.cell.Lat, f.cell.Lon))
		s := f.staff()
		c := caseByNo(t, s.acc, rec.CaseNo)
		rate := func(rating, reason string) response {
			t.Helper()
			res, err := send(f.url, "POST", "/track/"+rec.Receipt+"/rate", []byte(url.Values{"rating": {rating}, "reason": {reason}}.Encode()), "application/x-www-form-urlencoded", nil)
			if err != nil {
				t.Fatal(err)
			}
			return res
		}
		// not before the case is closed
		if res := rate("satisfied", ""); res.StatusCode != 409 || !strings.Contains(res.body, "办结后才能评价") {
			t.Fatalf("rating an open case: %d", res.StatusCode)
		}
		s.close(t, c.ID)
		page := f.get("/track/" + rec.Receipt)
		if !strings.Contains(page.body, `id="rate-form"`) || !strings.Contains(page.body, "已办结") {
			t.Fatalf("closed case without a rating form")
		}
		if res := rate("unsatisfied", ""); res.StatusCode != 400 || !strings.Contains(res.body, "请说明原因") {
			t.Errorf("unsatisfied without a reason: %d", res.StatusCode)
		}
		if res := rate("so-so", ""); res.StatusCode != 400 {
			t.Errorf("bad rating: %d", res.StatusCode)
		}
		reason := "垃圾只清理了一半，旁边还有"
		res := rate("unsatisfied", reason)
		if res.StatusCode != 303 || res.Header.Get("Location") != "/track/"+rec.Receipt+"?msg=reopened" {
			t.Fatalf("unsatisfied: %d %q %s", res.StatusCode, res.Header.Get("Location"), res.body)
		}
		if page := f.get(res.Header.Get("Location")); !strings.Contains(page.body, "已重新交办") {
			t.Errorf("no reopened message")
		}
		after := getCase(t, s.acc, c.ID)
		if after.State != "accepted" {
			t.Fatalf("after an unsatisfied rating: %s, want accepted", after.State)
		}
		var trail []struct {
			Action, Opinion string
			ToState         string `json:"to_state"`
		}
		s.acc.do("GET", fmt.Sprintf("/api/v1/cases/%d/timeline", c.ID), nil, "").json(t, &trail)
		found := false
		for _, e := range trail {
			if e.Action == "reopen" && e.ToState == "accepted" && e.Opinion == reason {
				found = true
			}
		}
		if !found {
			t.Errorf("no reopening with the citizen's reason in the trail: %+v", trail)
		}
		if res := rate("satisfied", ""); res.StatusCode != 409 {
			t.Errorf("rating the reopened case: %d", res.StatusCode)
		}
		// closed again: one rating per closure
		s.close(t, c.ID)
		if res := rate("satisfied", ""); res.StatusCode != 303 || !strings.HasSuffix(res.Header.Get("Location"), "?msg=rated") {
			t.Fatalf("satisfied: %d %s", res.StatusCode, res.body)
		}
		if res := rate("satisfied", ""); res.StatusCode != 409 || !strings.Contains(res.body, "已评价") {
			t.Errorf("second rating: %d", res.StatusCode)
		}
		if c := getCase(t, s.acc, c.ID); c.State != "closed" {
			t.Errorf("a satisfied rating changed the case: %s", c.State)
		}
		page = f.get("/track/" + rec.Receipt)
		if strings.Contains(page.body, `id="rate-form"`) || !strings.Contains(page.body, `data-rating="satisfied"`) {
			t.Errorf("rated page: form still there or rating missing")
		}
		// a cross-site rating is refused
		res, _ = send(f.url, "POST", "/track/"+rec.Receipt+"/rate", []byte("rating=satisfied"), "application/x-www-form-urlencoded", http.Header{"Origin": {"https://evil.example"}})
		if res.StatusCode != 403 {
			t.Errorf("cross-site rating: %d", res.StatusCode)
		}
	})
}

// TestDuplicatesAndMerge: a second report of the same problem is offered
// to the acceptor as a duplicate and merged with one action.
func TestDuplicatesAndMerge(t *testing.T) {
	testcity.BothLong(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		first := f.mustReport(f.reportFields("路灯不亮", f.cell.Lat, f.cell.Lon))
		second := f.mustReport(f.reportFields("这里路灯坏了", f.cell.Lat+0.0002, f.cell.Lon), upload{"b.jpg", jpegPhoto(t, 50)})
		far := f.mustReport(f.reportFields("远处路灯", f.cell.Lat+0.0008, f.cell.Lon), upload{"c.jpg", jpegPhoto(t, 51)})
		acc, hA := f.login("acceptor"), f.login("handlerA")
		a, b, c := caseByNo(t, acc, first.CaseNo), caseByNo(t, acc, second.CaseNo), caseByNo(t, acc, far.CaseNo)
		dups := func(id int64) []struct {
			ID        int64   `json:"id"`
			No        string  `json:"no"`
			DistanceM float64 `json:"distance_m"`
		} {
			t.Helper()
			res := acc.do("GET", fmt.Sprintf("/api/v1/cases/%d/duplicates", id), nil, "")
			if res.StatusCode != 200 {
				t.Fatalf("duplicates: %d %s", res.StatusCode, res.body)
			}
			var d []struct {
				ID        int64   `json:"id"`
				No        string  `json:"no"`
				DistanceM float64 `json:"distance_m"`
			}
			res.json(t, &d)
			return d
		}
		if d := dups(b.ID); len(d) != 1 || d[0].No != a.No || d[0].DistanceM < 20 || d[0].DistanceM > 25 {
			t.Fatalf("duplicates of the second: %+v", d)
		}
		if d := dups(a.ID); len(d) != 0 {
			t.Errorf("the first report has no earlier duplicate: %+v", d)
		}
		if d := dups(c.ID); len(d) != 0 {
			t.Errorf("a report 89 m away is not a duplicate: %+v", d)
		}
		if res := hA.do("GET", fmt.Sprintf("/api/v1/cases/%d/duplicates", b.ID), nil, ""); res.StatusCode != 403 {
			t.Errorf("handler asks for duplicates: %d", res.StatusCode)
		}
		page := acc.do("GET", fmt.Sprintf("/cases/%d", b.ID), nil, "")
		if page.StatusCode != 200 || !strings.Contains(page.body, `id="routing"`) || !strings.Contains(page.body, `id="duplicates"`) || !strings.Contains(page.body, `data-no="`+a.No+`"`) {
			t.Fatalf("console case page: %d, routing %v, duplicates %v", page.StatusCode, strings.Contains(page.body, `id="routing"`), strings.Contains(page.body, `id="duplicates"`))
		}
		acc.act(t, b.ID, map[string]any{"action": "accept"}, 200)
		acc.act(t, b.ID, map[string]any{"action": "merge", "merge_into_no": "2026-999999"}, 400)
		acc.act(t, b.ID, map[string]any{"action": "merge", "merge_into_no": a.No}, 200)
		merged := getCase(t, acc, b.ID)
		if merged.State != "merged" || merged.MergedInto != a.ID {
			t.Fatalf("after merge: %s into %d, want merged into %d", merged.State, merged.MergedInto, a.ID)
		}
		// The second reporter's receipt now follows the first case.
		track := f.get("/track/" + second.Receipt)
		if track.StatusCode != 200 || !strings.Contains(track.body, `id="note"`) || !strings.Contains(track.body, a.No) {
			t.Errorf("merged receipt's page: %d", track.StatusCode)
		}
		if d := dups(b.ID); len(d) != 0 {
			t.Errorf("a merged case offers duplicates: %+v", d)
		}

		// Once the first case is closed, the second reporter's status page
		// (which follows it) offers the rating form; the rating must then
		// be taken, like the first reporter's.
		s := staff{acc: acc, hA: hA, insp: f.login("inspector")}
		s.close(t, a.ID)
		track = f.get("/track/" + second.Receipt)
		if !strings.Contains(track.body, "已办结") || !strings.Contains(track.body, `id="rate-form"`) {
			t.Fatalf("merged receipt's page after closure: no rating form")
		}
		res, err := send(f.url, "POST", "/track/"+second.Receipt+"/rate", []byte("rating=satisfied"), "application/x-www-form-urlencoded", nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != 303 {
			t.Errorf("rating through a merged case's receipt: %d, want 303 (the page offered the form): %s", res.StatusCode, excerptOf(res.body))
		}
		res, _ = send(f.url, "POST", "/track/"+first.Receipt+"/rate", []byte("rating=satisfied"), "application/x-www-form-urlencoded", nil)
		if res.StatusCode != 303 {
			t.Errorf("rating through the first receipt: %d", res.StatusCode)
		}
	})
}

// excerptOf keeps the message of an error page short in test output.
func excerptOf(body string) string {
	if m := regexp.MustCompile(`(?s)<main[^>]*>(.*?)</main>`).FindStringSubmatch(body); m != nil {
		body = m[1]
	}
	body = regexp.MustCompile(`<[^>]+>|\s+`).ReplaceAllString(body, " ")
	if len(body) > 300 {
		body = body[:300]
	}
	return strings.TrimSpace(body)
}

// TestPublicHidesStaffOnlyCases: cases of a staff-only category (内部巡查
// items) are kept from every public reader, as Open311 keeps them: the
// map, following by number, nearby, photos.
func TestPublicHidesStaffOnlyCases(t *testing.T) {
	testcity.BothLong(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		internal, err := f.flow.SaveCategory(context.Background(), org.Actor{Name: "test", Role: org.RoleAdmin, Scope: org.ScopeCity},
			workflow.Category{Code: "0109", ParentID: f.category.ParentID, Name: "内部巡查项", LimitUnit: "hours", LimitNormal: 4, StaffOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		acc := f.login("acceptor")
		res := acc.json("POST", "/api/v1/cases", map[string]any{"category_id": internal.ID, "description": "内部督查：某单位门前台账问题", "lat": f.cell.Lat, "lon": f.cell.Lon, "source": "hotline"})
		if res.StatusCode != 201 {
			t.Fatalf("staff report: %d %s", res.StatusCode, res.body)
		}
		var c caseJSON
		res.json(t, &c)
		public := f.mustReport(f.reportFields("公开类别的问题", f.cell.Lat, f.cell.Lon))

		// Open311 hides it (the reference behaviour)
		if res := f.get("/open311/v2/requests/" + c.No + ".json"); res.StatusCode != 404 {
			t.Errorf("Open311 shows the staff-only case: %d", res.StatusCode)
		}
		if res := f.get(fmt.Sprintf("/api/v1/public/nearby?category_id=%d&lat=25&lon=102.7", internal.ID)); res.StatusCode != 400 {
			t.Errorf("nearby of a staff-only category: %d", res.StatusCode)
		}
		// the public map
		var markers struct {
			Cases []struct{ No, Category string }
		}
		f.get("/api/v1/public/cases?bbox=102.69,24.99,102.71,25.01").json(t, &markers)
		var nos []string
		for _, m := range markers.Cases {
			nos = append(nos, m.No)
		}
		if !slices.Equal(nos, []string{public.CaseNo}) {
			t.Errorf("public map markers %v, want only %s (not the staff-only %s)", nos, public.CaseNo, c.No)
		}
		// following it by number would open its status page to anyone
		res, err = send(f.url, "POST", "/api/v1/public/follow", []byte(`{"case_no":"`+c.No+`"}`), "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != 404 {
			var rec receiptJSON
			res.json(t, &rec)
			page := f.get("/track/" + rec.Receipt)
			t.Errorf("following a staff-only case: %d, want 404; its status page then shows the description: %v",
				res.StatusCode, strings.Contains(page.body, "内部督查"))
		}
	})
}

func TestGridAPI(t *testing.T) {
	testcity.BothLong(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		admin, acc, hA := f.login("admin"), f.login("acceptor"), f.login("handlerA")
		type importReport struct {
			Created, Updated, Errors, Warnings int
			Problems                           []struct {
				Index    int
				Code     string
				Severity string
				Key      string
				Message  string
			}
		}
		imp := func(c *client, body, query string) (response, importReport) {
			t.Helper()
			res := c.do("POST", "/api/v1/grid/import"+query, strings.NewReader(body), "application/geo+json")
			var rep importReport
			if res.StatusCode == 200 {
				res.json(t, &rep)
			}
			return res, rep
		}
		count := func() int {
			t.Helper()
			n, err := f.grid.Count(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		type location struct {
			Flag      string  `json:"flag"`
			CellCode  string  `json:"cell_code"`
			RegionID  int64   `json:"region_id"`
			DistanceM float64 `json:"distance_m"`
		}
		locate := func(lat, lon float64) location {
			t.Helper()
			res := acc.do("GET", fmt.Sprintf("/api/v1/grid/locate?lat=%s&lon=%s", ftoa(lat), ftoa(lon)), nil, "")
			if res.StatusCode != 200 {
				t.Fatalf("locate: %d %s", res.StatusCode, res.body)
			}
			var l location
			res.json(t, &l)
			return l
		}

		// export, and the export imports back as it is
		res := acc.do("GET", "/api/v1/grid/export", nil, "")
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/geo+json") {
			t.Fatalf("export: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
		}
		var exported struct {
			Type     string
			Features []struct {
				Type       string
				Properties map[string]any
			}
		}
		res.json(t, &exported)
		if exported.Type != "FeatureCollection" || len(exported.Features) != 9 || exported.Features[0].Properties["grid_code"] != "330102001001001" {
			t.Fatalf("export: %s", res.body)
		}
		if res := hA.do("GET", "/api/v1/grid/export", nil, ""); res.StatusCode != 403 {
			t.Errorf("handler exports the grid: %d", res.StatusCode)
		}
		if r, rep := imp(admin, res.body, ""); r.StatusCode != 200 || rep.Updated != 9 || rep.Created != 0 || rep.Errors != 0 {
			t.Fatalf("re-import of the export: %d %+v %s", r.StatusCode, rep, r.body)
		}

		// a broken file: every problem named by feature, nothing imported
		newCell := `{"type":"Feature","properties":{"grid_code":"330102001001010","name":"新网格","community":"清波社区","owner_unit":"A"},"geometry":{"type":"Polygon","coordinates":[[[102.702,24.99955],[102.703,24.99955],[102.703,25.00045],[102.702,25.00045],[102.702,24.99955]]]}}`
		noCode := `{"type":"Feature","properties":{"name":"无编码"},"geometry":{"type":"Polygon","coordinates":[[[102.704,24.99955],[102.705,24.99955],[102.705,25.00045],[102.704,24.99955]]]}}`
		openRing := `{"type":"Feature","properties":{"grid_code":"330102001001012"},"geometry":{"type":"Polygon","coordinates":[[[102.706,24.99955],[102.707,24.99955],[102.707,25.00045],[102.706,25.00045]]]}}`
		broken := `{"type":"FeatureCollection","features":[` + newCell + "," + noCode + "," + openRing + `]}`
		r, rep := imp(admin, broken, "")
		if r.StatusCode != 200 || rep.Errors < 2 || rep.Created != 0 || rep.Updated != 0 {
			t.Fatalf("broken file: %d %+v", r.StatusCode, rep)
		}
		han := regexp.MustCompile(`\p{Han}`)
		seen := map[int]bool{}
		for _, p := range rep.Problems {
			seen[p.Index] = true
			if p.Message == p.Key || !han.MatchString(p.Message) || !strings.Contains(p.Message, strconv.Itoa(p.Index+1)) {
				t.Errorf("problem of feature %d: message %q (key %s) is not a Chinese sentence naming the feature", p.Index+1, p.Message, p.Key)
			}
		}
		if !seen[1] || !seen[2] || seen[0] {
			t.Errorf("problems by feature: %v, want features 2 and 3 only", seen)
		}
		if n := count(); n != 9 {
			t.Fatalf("a broken file imported cells: %d", n)
		}
		if res := admin.do("POST", "/api/v1/grid/import", strings.NewReader("this is not json"), "application/json"); res.StatusCode != 400 || !han.MatchString(errorOf(t, res).Error.Message) {
			t.Errorf("not JSON: %d %s", res.StatusCode, res.body)
		}
		// a dry run checks without writing
		good := `{"type":"FeatureCollection","features":[` + newCell + `]}`
		if r, rep := imp(admin, good, "?dry_run=1"); r.StatusCode != 200 || rep.Errors != 0 {
			t.Fatalf("dry run: %d %+v", r.StatusCode, rep)
		}
		if n := count(); n != 9 {
			t.Fatalf("a dry run imported: %d cells", n)
		}
		if l := locate(25.0, 102.7025); l.Flag == "cell" {
			t.Fatalf("the dry run's cell is in the index: %+v", l)
		}
		// only the administrator imports
		if r, _ := imp(acc, good, ""); r.StatusCode != 403 {
			t.Errorf("acceptor imports: %d", r.StatusCode)
		}
		if n := count(); n != 9 {
			t.Fatalf("cells: %d", n)
		}

		// locate: in a cell, near one (属地兜底), near the city, outside
		if l := locate(f.cell.Lat, f.cell.Lon); l.Flag != "cell" || l.CellCode != "330102001001005" || l.RegionID != f.comm.ID {
			t.Errorf("centre: %+v", l)
		}
		if l := locate(25.0, 102.702); l.Flag != "nearest" || l.CellCode != "330102001001006" || l.DistanceM < 40 || l.DistanceM > 60 {
			t.Errorf("50 m east of the block: %+v", l)
		}
		if l := locate(25.0, 102.71); l.Flag != "unlocated" || l.CellCode != "" {
			t.Errorf("850 m east: %+v", l)
		}
		if l := locate(40, 116); l.Flag != "outside" {
			t.Errorf("Beijing: %+v", l)
		}
		wantError(t, "locate without a point", acc.do("GET", "/api/v1/grid/locate?lat=25", nil, ""), 400, "invalid", "坐标无效")
		if res := f.anon().do("GET", "/api/v1/grid/locate?lat=25&lon=102.7", nil, ""); res.StatusCode != 401 {
			t.Errorf("anonymous locate: %d", res.StatusCode)
		}

		// and the real import of the good file
		if r, rep := imp(admin, good, ""); r.StatusCode != 200 || rep.Created != 1 {
			t.Fatalf("import: %d %+v", r.StatusCode, rep)
		}
		if l := locate(25.0, 102.7025); l.Flag != "cell" || l.CellCode != "330102001001010" {
			t.Errorf("the new cell: %+v", l)
		}
	})
}

// TestGridWorkerQueue: a grid worker's my_cells queue holds the cases
// waiting for a check in the cells assigned to them, no others.
func TestGridWorkerQueue(t *testing.T) {
	testcity.BothLong(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		gu, err := f.orgs.CreateUser(context.Background(), org.Actor{Name: "test", Role: org.RoleAdmin, Scope: org.ScopeCity},
			org.NewUser{Username: "grid1", Role: org.RoleGrid, Password: testPassword})
		if err != nil {
			t.Fatal(err)
		}
		admin, gw := f.login("admin"), f.login("grid1")
		s := f.staff()
		assign := func(c *client, uid int64, codes ...string) response {
			t.Helper()
			return c.json("PUT", fmt.Sprintf("/api/v1/grid/assignments/%d", uid), map[string]any{"cell_codes": codes})
		}
		if res := assign(admin, gu.ID, "330102001001005"); res.StatusCode != 200 || !strings.Contains(res.body, `"cells":1`) {
			t.Fatalf("assign: %d %s", res.StatusCode, res.body)
		}
		wantError(t, "unknown cell", assign(admin, gu.ID, "330102001001999"), 400, "invalid", "330102001001999")
		if res := assign(admin, f.unitA.ID+1000, "330102001001005"); res.StatusCode != 404 {
			t.Errorf("assign to nobody: %d", res.StatusCode)
		}
		accUser, err := f.orgs.UserByName(context.Background(), "acceptor")
		if err != nil {
			t.Fatal(err)
		}
		wantError(t, "assign to an acceptor", assign(admin, accUser.ID, "330102001001005"), 400, "invalid", "网格员")
		if res := assign(s.acc, gu.ID, "330102001001001"); res.StatusCode != 403 {
			t.Errorf("acceptor assigns: %d", res.StatusCode)
		}

		mine := f.mustReport(f.reportFields("我的网格内", f.cell.Lat, f.cell.Lon))
		elsewhere := f.mustReport(f.reportFields("其他网格内", 24.9991, 102.699), upload{"b.jpg", jpegPhoto(t, 60)})
		pending := f.mustReport(f.reportFields("我的网格内但未处理", f.cell.Lat+0.0002, f.cell.Lon), upload{"c.jpg", jpegPhoto(t, 61)})
		m, e := caseByNo(t, s.acc, mine.CaseNo), caseByNo(t, s.acc, elsewhere.CaseNo)
		if e.Routing == nil || e.Routing.Location.CellCode != "330102001001001" {
			t.Fatalf("second case placed in %+v", e.Routing)
		}
		s.toVerifying(t, m.ID)
		s.toVerifying(t, e.ID)
		queue := func(q string) []string {
			t.Helper()
			res := gw.do("GET", "/api/v1/cases?queue="+q, nil, "")
			if res.StatusCode != 200 {
				t.Fatalf("queue %s: %d %s", q, res.StatusCode, res.body)
			}
			var page struct {
				Cases []struct{ No string }
			}
			res.json(t, &page)
			var nos []string
			for _, c := range page.Cases {
				nos = append(nos, c.No)
			}
			sort.Strings(nos)
			return nos
		}
		if got := queue("my_cells"); !slices.Equal(got, []string{mine.CaseNo}) {
			t.Errorf("my_cells: %v, want only %s (not %s elsewhere, nor %s not yet handled)", got, mine.CaseNo, elsewhere.CaseNo, pending.CaseNo)
		}
		if got := queue("to_verify"); !slices.Equal(got, []string{mine.CaseNo, elsewhere.CaseNo}) {
			t.Errorf("to_verify: %v", got)
		}
		// the grid worker checks on site and closes it
		gw.act(t, m.ID, map[string]any{"action": "verify_pass", "opinion": "现场已整改"}, 200)
		if got := queue("my_cells"); len(got) != 0 {
			t.Errorf("my_cells after the check: %v", got)
		}
		// the console's grid page lists the worker's cells
		if page := admin.do("GET", "/admin/grid", nil, ""); page.StatusCode != 200 || !strings.Contains(page.body, "330102001001005") {
			t.Errorf("grid page: %d", page.StatusCode)
		}
	})
}
