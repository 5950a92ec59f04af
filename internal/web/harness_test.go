package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"chuangwen/internal/grid"
	"chuangwen/internal/i18n"
	"chuangwen/internal/intake"
	"chuangwen/internal/org"
	"chuangwen/internal/privacy"
	"chuangwen/internal/store"
	"chuangwen/internal/tasks"
	"chuangwen/internal/testcity"
	"chuangwen/internal/volunteer"
	"chuangwen/internal/web"
	"chuangwen/internal/workflow"
)

const testPassword = testcity.Password

// fixture is the test city (internal/testcity) behind a real HTTP server:
// its users (and "fresh", an acceptor who must change the password) log
// in with testPassword; its 暴露垃圾 goes to unit A anywhere in the city;
// a 3 × 3 block of grid cells lies in its first community.
type fixture struct {
	t        testing.TB
	tokens   int // tokens made (bearerScoped)
	url      string
	db       *store.DB
	orgs     *org.Store
	flow     *workflow.Service
	unitA    org.Unit
	unitB    org.Unit
	district org.Region
	comm     org.Region
	category workflow.Category
	srv      *web.Server
	grid     *grid.Store
	intake   *intake.Service
	vol      *volunteer.Service
	tasks    *tasks.Service
	// cell is the centre of grid cell 330102001001005 (清波社区, the
	// middle of a 3 × 3 block of 100 m cells).
	cell struct{ Lat, Lon float64 }
}

// gridGeoJSON is a 3 × 3 block of about 100 m cells around (25.0, 102.7),
// coded 330102001001001 to …009 in 清波社区, owned by unit A.
func gridGeoJSON(c *testcity.City) string {
	var feats []string
	n := 0
	for row := 0; row < 3; row++ {
		for col := 0; col < 3; col++ {
			n++
			x0, y0 := 102.7+float64(col-1)*0.001-0.0005, 25.0+float64(row-1)*0.0009-0.00045
			x1, y1 := x0+0.001, y0+0.0009
			feats = append(feats, fmt.Sprintf(`{"type":"Feature","properties":{"grid_code":"%s%03d","name":"%s第%03d网格","community":%q,"street":%q,"district":%q,"owner_unit":%q},`+
				`"geometry":{"type":"Polygon","coordinates":[[[%.6f,%.6f],[%.6f,%.6f],[%.6f,%.6f],[%.6f,%.6f],[%.6f,%.6f]]]}}`,
				c.Community1.Code, n, c.Community1.Name, n, c.Community1.Name, c.Street1.Name, c.District1.Name, c.UnitA.Code, x0, y0, x1, y0, x1, y1, x0, y1, x0, y0))
		}
	}
	return `{"type":"FeatureCollection","features":[` + strings.Join(feats, ",") + `]}`
}

// newFixture serves the test city in db, a database from testcity (Both,
// SQLite or Postgres).
func newFixture(t testing.TB, db *store.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	c := testcity.New(t, db)
	// The server runs on the wall clock, as the cookie jar and the
	// browser that expire its sessions do.
	c.Org.Now, c.Flow.Now = nil, nil
	c.Org.SecretKey = []byte("a test data key of 32 bytes.....")
	c.Flow.Photos.MaxBytes = 1 << 20
	f := &fixture{t: t, db: db, orgs: c.Org, flow: c.Flow, unitA: c.UnitA, unitB: c.UnitB, district: c.District1, comm: c.Community1, category: c.Cat4h}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err := f.flow.SaveResponsibility(ctx, c.Admin, workflow.Responsibility{CategoryID: f.category.ID, RegionID: c.City.ID, LeadUnitID: f.unitA.ID})
	must(err)
	c.User(t, org.NewUser{Username: "fresh", Role: org.RoleAcceptor, MustChange: true})
	f.grid = grid.New(db, nil)
	f.flow.Locator = f.grid
	rep, err := f.grid.Import(ctx, c.Admin, strings.NewReader(gridGeoJSON(c)), false)
	must(err)
	if rep.Created != 9 || rep.Errors != 0 {
		t.Fatalf("grid import: %+v", rep)
	}
	f.cell.Lat, f.cell.Lon = 25.0, 102.7
	f.intake, err = intake.New(ctx, f.flow)
	must(err)
	msg, err := i18n.Load()
	must(err)
	seal, err := volunteer.NewSealer(make([]byte, volunteer.KeySize))
	must(err)
	f.vol = volunteer.New(db, f.orgs, seal, testcity.Shanghai, nil)
	f.tasks = &tasks.Service{DB: db, Blobs: f.flow.Photos.Blobs, Location: testcity.Shanghai, Calendar: f.flow.Calendar}
	srv, err := web.New(&web.Server{DB: db, Org: f.orgs, Flow: f.flow, Msg: msg, Location: testcity.Shanghai, MaxUploadBytes: 3 << 20,
		Grid: f.grid, Intake: f.intake, City: "测试市", Volunteer: f.vol, Tasks: f.tasks, Privacy: &privacy.Service{DB: f.db}})
	must(err)
	f.srv = srv
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	f.url = ts.URL
	return f
}

// client is a browser-like HTTP client: a cookie jar, no redirects
// followed, and the session's CSRF token once logged in.
type client struct {
	f     *fixture
	hc    *http.Client
	csrf  string
	token string // Bearer token instead of a session
}

func (f *fixture) anon() *client {
	jar, _ := cookiejar.New(nil)
	return &client{f: f, hc: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// login logs username in through the console form and picks up the CSRF
// token from a page.
func (f *fixture) login(username string) *client {
	f.t.Helper()
	c := f.anon()
	res := c.form("POST", "/login", url.Values{"username": {username}, "password": {testPassword}})
	if res.StatusCode != http.StatusSeeOther {
		f.t.Fatalf("login %s: status %d: %s", username, res.StatusCode, res.body)
	}
	page := c.do("GET", "/password", nil, "")
	m := csrfRe.FindStringSubmatch(page.body)
	if m == nil {
		f.t.Fatalf("no csrf token on page: %s", page.body)
	}
	c.csrf = m[1]
	return c
}

// bearer returns a client authenticating with a new API token.
// bearer is a client with an API token: a unit's handler, or without a
// unit a partner system that files cases (scope file).
func (f *fixture) bearer(unitID int64) *client {
	f.t.Helper()
	scope := org.TokenFile
	if unitID != 0 {
		scope = org.TokenUnit
	}
	return f.bearerScoped(unitID, scope)
}

func (f *fixture) bearerScoped(unitID int64, scope string) *client {
	f.t.Helper()
	f.tokens++ // (a token's name names one client system)
	tok, err := f.orgs.CreateScopedToken(context.Background(), org.System, fmt.Sprintf("test-%d", f.tokens), unitID, scope)
	if err != nil {
		f.t.Fatal(err)
	}
	c := f.anon()
	c.token = tok.Secret
	return c
}

type response struct {
	StatusCode int
	Header     http.Header
	body       string
}

func (r response) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(r.body), v); err != nil {
		t.Fatalf("bad JSON (%v): %s", err, r.body)
	}
}

func (c *client) do(method, path string, body io.Reader, contentType string) response {
	c.f.t.Helper()
	req, err := http.NewRequest(method, c.f.url+path, body)
	if err != nil {
		c.f.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	} else if c.csrf != "" && strings.HasPrefix(path, "/api/") && method != "GET" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	res, err := c.hc.Do(req)
	if err != nil {
		c.f.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{StatusCode: res.StatusCode, Header: res.Header, body: string(b)}
}

func (c *client) json(method, path string, v any) response {
	var body io.Reader
	if v != nil {
		b, _ := json.Marshal(v)
		body = bytes.NewReader(b)
	}
	return c.do(method, path, body, "application/json")
}

// form posts a urlencoded form, adding the CSRF token when logged in.
func (c *client) form(method, path string, v url.Values) response {
	if c.csrf != "" && v.Get("csrf") == "" {
		v.Set("csrf", c.csrf)
	}
	return c.do(method, path, strings.NewReader(v.Encode()), "application/x-www-form-urlencoded")
}

// multipart posts fields and files (name -> content) as multipart/form-data,
// the files under the field "photo".
func (c *client) multipart(path string, fields url.Values, files map[string][]byte) response {
	return c.multipartAs(path, "photo", fields, files)
}

// multipartAs is multipart with the files under the field named field.
func (c *client) multipartAs(path, field string, fields url.Values, files map[string][]byte) response {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if c.csrf != "" && !strings.HasPrefix(path, "/api/") {
		fields.Set("csrf", c.csrf)
	}
	for k, vs := range fields {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	for name, content := range files {
		w, _ := mw.CreateFormFile(field, name)
		w.Write(content)
	}
	mw.Close()
	return c.do("POST", path, &buf, mw.FormDataContentType())
}

func pngBytes(t *testing.T) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for i := 0; i < 16; i++ {
		img.Set(i, i, color.RGBA{200, 30, 30, 255})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
