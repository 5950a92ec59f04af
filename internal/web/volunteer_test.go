package web_test

import (
	"bytes"
	"chuangwen/internal/ratelimit"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"chuangwen/internal/org"
	"chuangwen/internal/store"
	"chuangwen/internal/testcity"
	"chuangwen/internal/volunteer"
	"chuangwen/internal/web"
)

// volCity is the test city's volunteer service: a team under street 1's
// institute run by coordinator "coordA", another under street 2's run by
// "coordB", and an activity of team A on now at (25.0, 102.7).
type volCity struct {
	admin          org.Actor
	teamA, teamB   volunteer.Team
	activity       volunteer.Activity
	coordA, coordB *client
}

func (f *fixture) actor(username string) org.Actor {
	f.t.Helper()
	ctx := context.Background()
	u, err := f.orgs.UserByName(ctx, username)
	if err != nil {
		f.t.Fatal(err)
	}
	a, err := f.orgs.ActorFor(ctx, u)
	if err != nil {
		f.t.Fatal(err)
	}
	return a
}

func (f *fixture) volunteerCity() *volCity {
	t := f.t
	t.Helper()
	ctx := context.Background()
	vc := &volCity{admin: f.actor("admin")}
	streets := map[int64]org.Region{}
	regions, err := f.orgs.Regions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, r := range regions {
		if r.Level == "street" {
			streets[r.ID] = r
			ids = append(ids, r.ID)
		}
	}
	if len(ids) < 2 {
		t.Fatalf("%d streets in the test city", len(ids))
	}
	var teams []volunteer.Team
	for i, id := range ids[:2] {
		name := fmt.Sprintf("coord%c", 'A'+i)
		u, err := f.orgs.CreateUser(ctx, org.System, org.NewUser{Username: name, DisplayName: name, Password: testPassword, Role: org.RoleVolunteer,
			Scope: org.ScopeRegion, ScopeRegionID: id})
		if err != nil {
			t.Fatal(err)
		}
		n, err := f.vol.CreateNode(ctx, vc.admin, id, "")
		if err != nil {
			t.Fatal(err)
		}
		tm, err := f.vol.CreateTeam(ctx, vc.admin, volunteer.NewTeam{Name: streets[id].Name + "服务队", NodeID: n.ID, CoordinatorID: u.ID})
		if err != nil {
			t.Fatal(err)
		}
		teams = append(teams, tm)
	}
	vc.teamA, vc.teamB = teams[0], teams[1]
	now := time.Now()
	vc.activity, err = f.vol.CreateActivity(ctx, vc.admin, volunteer.NewActivity{TeamID: vc.teamA.ID, Kind: "persuasion", Title: "路口文明劝导", Address: "清波路口",
		Lat: 25.0, Lon: 102.7, StartsAt: now.Add(-10 * time.Minute), EndsAt: now.Add(2 * time.Hour), Capacity: 10, RadiusM: 300})
	if err != nil {
		t.Fatal(err)
	}
	vc.coordA, vc.coordB = f.login("coordA"), f.login("coordB")
	return vc
}

// idNumber is a valid identity number ending in n.
func idNumber(n int) string {
	first := fmt.Sprintf("33010219900101%03d", n%1000)
	return first + string(volunteer.IDCheckChar(first))
}

var volCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// person is a volunteer's phone: signed in on /v, with the CSRF token of
// its session.
func (f *fixture) person(phone, password string) *client {
	f.t.Helper()
	c := f.anon()
	res := c.form("POST", "/v/login", url.Values{"phone": {phone}, "password": {password}, "next": {"/v"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/v" {
		f.t.Fatalf("volunteer sign-in: %d %s %s", res.StatusCode, res.Header.Get("Location"), res.body)
	}
	home := c.do("GET", "/v", nil, "")
	m := volCSRF.FindStringSubmatch(home.body)
	if home.StatusCode != 200 || m == nil {
		f.t.Fatalf("volunteer home: %d %s", home.StatusCode, home.body)
	}
	c.csrf = m[1]
	return c
}

// TestVolunteerJourney walks a volunteer from registration on the phone
// page to confirmed hours and a certificate anyone can verify, with the
// refusals each step owes the people on both sides.
func TestVolunteerJourney(t *testing.T) {
	t.Parallel()
	testcity.BothLong(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		vc := f.volunteerCity()
		ctx := context.Background()
		const phone, password = "13800000001", "Volunteer-2026!"

		// Register: the form's refusals are in Chinese and keep what was typed.
		anon := f.anon()
		form := url.Values{"name": {"王小明"}, "phone": {phone}, "id_number": {idNumber(7)[:17] + "0"}, "team": {fmt.Sprint(vc.teamA.ID)},
			"password": {password}, "consent": {"1"}}
		if idNumber(7)[17] == '0' {
			form.Set("id_number", idNumber(7)[:17]+"1")
		}
		res := anon.form("POST", "/v/register", form)
		if res.StatusCode != 400 || !strings.Contains(res.body, "校验位") || !strings.Contains(res.body, `value="王小明"`) {
			t.Fatalf("bad check digit: %d %s", res.StatusCode, res.body)
		}
		form.Set("id_number", idNumber(7))
		form.Del("consent")
		if res = anon.form("POST", "/v/register", form); res.StatusCode != 400 || !strings.Contains(res.body, "隐私告知") {
			t.Fatalf("no consent: %d", res.StatusCode)
		}
		form.Set("consent", "1")
		if res = anon.form("POST", "/v/register", form); res.StatusCode != 303 || res.Header.Get("Location") != "/v/login?registered=1" {
			t.Fatalf("register: %d %s", res.StatusCode, res.body)
		}
		if res = anon.do("GET", "/v/login?registered=1", nil, ""); !strings.Contains(res.body, `id="registered"`) {
			t.Fatalf("after registering: %s", res.body)
		}
		// A phone or an identity number registered already is answered
		// as a new registration, and nothing is stored: the page tells no
		// one whose they are.
		again := url.Values{}
		for k, v := range form {
			again[k] = v
		}
		again.Set("name", "冒名者")
		again.Set("id_number", idNumber(8))
		if res = anon.form("POST", "/v/register", again); res.StatusCode != 303 || res.Header.Get("Location") != "/v/login?registered=1" {
			t.Fatalf("the phone again: %d %s", res.StatusCode, res.body)
		}
		again.Set("phone", "13800000088")
		again.Set("id_number", idNumber(7))
		if res = anon.form("POST", "/v/register", again); res.StatusCode != 303 || res.Header.Get("Location") != "/v/login?registered=1" {
			t.Fatalf("the identity number again: %d %s", res.StatusCode, res.body)
		}
		var held int
		if err := f.db.Reader().QueryRow(context.Background(), `SELECT COUNT(*) FROM volunteers WHERE name = '冒名者'`).Scan(&held); err != nil || held != 0 {
			t.Fatalf("duplicates stored: %d %v", held, err)
		}
		// a cross-site form is refused
		req, _ := http.NewRequest("POST", f.url+"/v/register", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "https://evil.example")
		if r, err := http.DefaultClient.Do(req); err != nil || r.StatusCode != 403 {
			t.Fatalf("cross-site registration: %v %v", r, err)
		}

		// Pending: no sign-in yet, and the coordinator sees the request.
		if res = anon.form("POST", "/v/login", url.Values{"phone": {phone}, "password": {password}}); res.StatusCode != 403 || !strings.Contains(res.body, "审核") {
			t.Fatalf("pending sign-in: %d", res.StatusCode)
		}
		var id int64
		if err := db.Reader().QueryRow(ctx, `SELECT id FROM volunteers WHERE phone = ?`, phone).Scan(&id); err != nil {
			t.Fatal(err)
		}
		page := vc.coordA.do("GET", "/volunteer/people?status=pending", nil, "")
		if page.StatusCode != 200 || !strings.Contains(page.body, "王小明") || strings.Contains(page.body, phone) || !strings.Contains(page.body, "138****0001") {
			t.Fatalf("coordinator's pending list (phone masked): %d %s", page.StatusCode, page.body)
		}
		// the other team's coordinator neither sees nor decides
		if res = vc.coordB.do("GET", fmt.Sprintf("/volunteer/people/%d", id), nil, ""); res.StatusCode != 404 {
			t.Fatalf("coordinator B reads team A's volunteer: %d", res.StatusCode)
		}
		if res = vc.coordB.form("POST", fmt.Sprintf("/volunteer/people/%d/decide", id), url.Values{"decision": {"approve"}}); res.StatusCode != 404 {
			t.Fatalf("coordinator B approves team A's volunteer: %d", res.StatusCode)
		}
		if strings.Contains(vc.coordB.do("GET", "/volunteer/people", nil, "").body, "王小明") {
			t.Fatal("coordinator B lists team A's volunteer")
		}
		if res = f.login("handlerA").do("GET", "/volunteer/people", nil, ""); res.StatusCode != 403 {
			t.Fatalf("a handler lists volunteers: %d", res.StatusCode)
		}
		if res = vc.coordA.form("POST", fmt.Sprintf("/volunteer/people/%d/decide", id), url.Values{"decision": {"approve"}}); res.StatusCode != 303 {
			t.Fatalf("approve: %d %s", res.StatusCode, res.body)
		}

		// Signed in: the phone pages, never the console.
		me := f.person(phone, password)
		if res = me.do("GET", "/cases", nil, ""); res.StatusCode != 303 || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
			t.Fatalf("a volunteer's session opens the console: %d", res.StatusCode)
		}
		acts := me.do("GET", "/v/activities", nil, "")
		if !strings.Contains(acts.body, "路口文明劝导") || strings.Contains(acts.body, vc.activity.CheckinToken) {
			t.Fatalf("activities (no QR token): %s", acts.body)
		}
		if res = me.form("POST", fmt.Sprintf("/v/activities/%d/signup", vc.activity.ID), url.Values{"csrf": {"forged"}}); res.StatusCode != 403 {
			t.Fatalf("sign-up with a forged token: %d", res.StatusCode)
		}
		for range 2 { // a second tap is no error
			if res = me.form("POST", fmt.Sprintf("/v/activities/%d/signup", vc.activity.ID), url.Values{}); res.StatusCode != 303 {
				t.Fatalf("sign-up: %d %s", res.StatusCode, res.body)
			}
		}

		// Check-in: refused far away, with the distance; recorded near.
		checkin := "/v/checkin/" + vc.activity.CheckinToken
		if res = me.form("POST", checkin, url.Values{"action": {"in"}}); res.StatusCode != 400 || !strings.Contains(res.body, "定位") {
			t.Fatalf("check-in without a position: %d", res.StatusCode)
		}
		if res = me.form("POST", checkin, url.Values{"action": {"in"}, "lat": {"25.02"}, "lon": {"102.7"}, "accuracy": {"20"}}); res.StatusCode != 409 || !strings.Contains(res.body, "超出 300 米") {
			t.Fatalf("check-in 2 km away: %d %s", res.StatusCode, res.body)
		}
		if res = me.form("POST", checkin, url.Values{"action": {"in"}, "lat": {"25.001"}, "lon": {"102.7"}, "accuracy": {"20"}}); res.StatusCode != 200 || !strings.Contains(res.body, "签到成功") {
			t.Fatalf("check-in 110 m away: %d %s", res.StatusCode, res.body)
		}
		if res = me.form("POST", "/v/checkin/not-a-token", url.Values{"action": {"in"}, "lat": {"25.0"}, "lon": {"102.7"}}); res.StatusCode != 404 {
			t.Fatalf("a forged QR code: %d", res.StatusCode)
		}
		if res = me.form("POST", fmt.Sprintf("/v/activities/%d/withdraw", vc.activity.ID), url.Values{}); res.StatusCode != 409 {
			t.Fatalf("withdraw after check-in: %d", res.StatusCode)
		}
		if res = me.form("POST", checkin, url.Values{"action": {"out"}, "lat": {"25.0"}, "lon": {"102.7"}}); res.StatusCode != 200 || !strings.Contains(res.body, "签退成功") {
			t.Fatalf("check-out: %d %s", res.StatusCode, res.body)
		}

		// The organiser's sheet: the QR code, the phone masked; hours are
		// confirmed once the activity has ended.
		sheet := vc.coordA.do("GET", fmt.Sprintf("/volunteer/activities/%d", vc.activity.ID), nil, "")
		if sheet.StatusCode != 200 || !strings.Contains(sheet.body, "<svg") || !strings.Contains(sheet.body, "王小明") || strings.Contains(sheet.body, phone) {
			t.Fatalf("the activity's sheet: %d", sheet.StatusCode)
		}
		if res = vc.coordB.do("GET", fmt.Sprintf("/volunteer/activities/%d", vc.activity.ID), nil, ""); res.StatusCode != 404 {
			t.Fatalf("coordinator B opens team A's activity: %d", res.StatusCode)
		}
		var rec int64
		if err := db.Reader().QueryRow(ctx, `SELECT id FROM service_records WHERE volunteer_id = ?`, id).Scan(&rec); err != nil {
			t.Fatal(err)
		}
		confirm := fmt.Sprintf("/volunteer/activities/%d/confirm", vc.activity.ID)
		if res = vc.coordA.form("POST", confirm, url.Values{"record": {fmt.Sprint(rec)}, "minutes": {"120"}, "reason": {"现场核实"}}); res.StatusCode != 409 || !strings.Contains(res.body, "活动结束后") {
			t.Fatalf("confirm before the end: %d", res.StatusCode)
		}
		later := time.Now().Add(3 * time.Hour)
		f.vol.Now = func() time.Time { return later }
		defer func() { f.vol.Now = time.Now }()
		if res = vc.coordA.form("POST", confirm, url.Values{"record": {fmt.Sprint(rec)}, "minutes": {"120"}}); res.StatusCode != 400 || !strings.Contains(res.body, "原因") {
			t.Fatalf("confirm a changed figure without a reason: %d", res.StatusCode)
		}
		if res = vc.coordA.form("POST", confirm, url.Values{"record": {fmt.Sprint(rec)}, "minutes": {"120"}, "reason": {"现场核实"}}); res.StatusCode != 303 {
			t.Fatalf("confirm: %d %s", res.StatusCode, res.body)
		}
		if home := me.do("GET", "/v", nil, ""); !strings.Contains(home.body, `id="my-hours">2.0<`) {
			t.Fatalf("the volunteer's hours: %s", home.body)
		}

		// A certificate: printed with a QR code; checked by anyone, the
		// name masked and no identity number.
		if res = vc.coordA.form("POST", fmt.Sprintf("/volunteer/people/%d/certificates", id), url.Values{"team": {fmt.Sprint(vc.teamA.ID)},
			"from": {later.AddDate(0, 0, -30).In(testcity.Shanghai).Format("2006-01-02")}, "to": {later.In(testcity.Shanghai).Format("2006-01-02")}}); res.StatusCode != 303 {
			t.Fatalf("issue: %d %s", res.StatusCode, res.body)
		}
		var code string
		if err := db.Reader().QueryRow(ctx, `SELECT code FROM volunteer_certificates WHERE volunteer_id = ?`, id).Scan(&code); err != nil {
			t.Fatal(err)
		}
		if pdf := vc.coordA.do("GET", "/volunteer/certificates/"+code, nil, ""); pdf.StatusCode != 200 || pdf.Header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(pdf.body, "%PDF") {
			t.Fatalf("certificate PDF: %d %s", pdf.StatusCode, pdf.Header.Get("Content-Type"))
		}
		if res = vc.coordB.do("GET", "/volunteer/certificates/"+code, nil, ""); res.StatusCode != 404 {
			t.Fatalf("coordinator B prints team A's certificate: %d", res.StatusCode)
		}
		check := f.anon().do("GET", "/verify/"+strings.ToLower(strings.ReplaceAll(code, "-", "")), nil, "")
		if check.StatusCode != 200 || !strings.Contains(check.body, "证明真实有效") || !strings.Contains(check.body, "王**") || strings.Contains(check.body, "王小明") || strings.Contains(check.body, idNumber(7)[:6]) {
			t.Fatalf("public check: %d %s", check.StatusCode, check.body)
		}
		var api volunteer.Certificate
		if res = f.anon().do("GET", "/api/v1/public/certificates/"+code, nil, ""); res.StatusCode != 200 {
			t.Fatalf("public check API: %d", res.StatusCode)
		}
		res.json(t, &api)
		if api.Name != "王**" || api.Hours != 2 || api.VolunteerID != 0 || api.IDMasked != "" {
			t.Fatalf("public check API: %+v", api)
		}
		if res = f.anon().do("GET", "/verify/ABCD-EFGH-JKLM-NPQR", nil, ""); res.StatusCode != 404 || !strings.Contains(res.body, "没有这个证明编号") {
			t.Fatalf("forged code: %d", res.StatusCode)
		}
		if res = vc.coordA.form("POST", "/volunteer/certificates/"+code+"/revoke", url.Values{"reason": {"时长登记有误"}}); res.StatusCode != 303 {
			t.Fatalf("revoke: %d %s", res.StatusCode, res.body)
		}
		if res = f.anon().do("GET", "/verify/"+code, nil, ""); !strings.Contains(res.body, "撤销") {
			t.Fatalf("revoked certificate: %s", res.body)
		}

		// The person's request for their data: the administrator's export,
		// the identity number opened; nobody else's.
		if res = vc.coordA.do("GET", fmt.Sprintf("/volunteer/people/%d/export", id), nil, ""); res.StatusCode != 403 {
			t.Fatalf("a coordinator exports a person's data: %d", res.StatusCode)
		}
		exp := f.login("admin").do("GET", fmt.Sprintf("/volunteer/people/%d/export", id), nil, "")
		if exp.StatusCode != 200 || !strings.Contains(exp.Header.Get("Content-Disposition"), "attachment") || !strings.Contains(exp.body, idNumber(7)) || !strings.Contains(exp.body, phone) {
			t.Fatalf("export: %d %s", exp.StatusCode, exp.body)
		}

		// Statistics: every office role but a unit's handler.
		var st volunteer.Stats
		leader := f.login("leader")
		if res = leader.do("GET", "/api/v1/volunteer/stats?quarter=2026Q9", nil, ""); res.StatusCode != 400 {
			t.Fatalf("a bad quarter: %d", res.StatusCode)
		}
		res = leader.do("GET", "/api/v1/volunteer/stats", nil, "")
		res.json(t, &st)
		if res.StatusCode != 200 || st.City.Registered != 1 {
			t.Fatalf("statistics: %d %+v", res.StatusCode, st.City)
		}
		if res = leader.do("GET", "/volunteer", nil, ""); res.StatusCode != 200 || strings.Contains(res.body, "王小明") || !strings.Contains(res.body, `id="trend"`) {
			t.Fatalf("the leader's page carries no person: %d", res.StatusCode)
		}
	})
}

// TestVolunteerSignInThrottleApart: volunteers' failed sign-ins at one
// address are counted apart from the staff's, with a higher limit (a
// crowd at an activity behind one address): past the staff's limit the
// volunteers and the staff still get in; past the volunteers' own, the
// volunteers wait while the staff do not.
func TestVolunteerSignInThrottleApart(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testcity.SQLite(t))
	c := f.anon()
	fail := func(from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			res := c.form("POST", "/v/login", url.Values{"phone": {fmt.Sprintf("139%08d", i)}, "password": {"wrong-Passw0rd"}})
			if res.StatusCode != 401 {
				t.Fatalf("attempt %d: %d", i, res.StatusCode)
			}
		}
	}
	fail(0, org.MaxFailures*4)
	if res := c.form("POST", "/v/login", url.Values{"phone": {"13900000099"}, "password": {"wrong-Passw0rd"}}); res.StatusCode != 401 {
		t.Fatalf("volunteer sign-in past the staff's address limit: %d, want 401 (counted apart)", res.StatusCode)
	}
	fail(org.MaxFailures*4+1, org.MaxFailures*20)
	if res := c.form("POST", "/v/login", url.Values{"phone": {"13900000098"}, "password": {"wrong-Passw0rd"}}); res.StatusCode != 429 {
		t.Fatalf("volunteer sign-in past the volunteers' address limit: %d, want 429", res.StatusCode)
	}
	if res := c.form("POST", "/login", url.Values{"username": {"admin"}, "password": {testPassword}}); res.StatusCode != 303 {
		t.Fatalf("staff sign-in from the same address: %d, want 303", res.StatusCode)
	}
}

// TestVolunteerWritesHaveTheirOwnLimit: the volunteers' sign-ins at one
// address are not counted against the residents' report limit (a crowd at
// an activity shares an address): past the residents' limit the
// volunteers still sign in, until their own limit, which answers 429.
func TestVolunteerWritesHaveTheirOwnLimit(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testcity.SQLite(t))
	g := f.withServer(func(s *web.Server) {
		s.PublicWriteLimit = ratelimit.New(2, time.Hour, 2)
		s.VolunteerWriteLimit = ratelimit.New(8, time.Hour, 8)
	})
	c := g.anon()
	for i := range 8 {
		res := c.form("POST", "/v/login", url.Values{"phone": {fmt.Sprintf("139%08d", i)}, "password": {"wrong-Passw0rd"}})
		if res.StatusCode != 401 {
			t.Fatalf("volunteer sign-in %d past the residents' limit of 2: %d", i, res.StatusCode)
		}
	}
	res := c.form("POST", "/v/login", url.Values{"phone": {"13900000099"}, "password": {"wrong-Passw0rd"}})
	if res.StatusCode != 429 || res.Header.Get("Retry-After") == "" || !strings.Contains(res.body, "请求过于频繁") {
		t.Fatalf("past the volunteers' own limit: %d", res.StatusCode)
	}
}

// TestRosterUpload: the console's roster form and the API take an XLSX
// roster; a bad one is 422 with every row's problem in Chinese and
// stores nothing.
func TestRosterUpload(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testcity.SQLite(t))
	vc := f.volunteerCity()
	book := func(rows ...[]string) []byte {
		x := excelize.NewFile()
		for i, row := range rows {
			for j, v := range row {
				cell, _ := excelize.CoordinatesToCellName(j+1, i+1)
				x.SetCellStr("Sheet1", cell, v)
			}
		}
		var buf bytes.Buffer
		if err := x.Write(&buf); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	upload := func(c *client, team int64, file []byte) response {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		mw.WriteField("csrf", c.csrf)
		mw.WriteField("team", fmt.Sprint(team))
		w, _ := mw.CreateFormFile("file", "roster.xlsx")
		w.Write(file)
		mw.Close()
		return c.do("POST", "/volunteer/people/import", &buf, mw.FormDataContentType())
	}
	header := []string{"姓名", "手机号码", "证件号码"}
	bad := book(header, []string{"甲", "13800000011", idNumber(11)}, []string{"乙", "13800000011", idNumber(12)})
	res := upload(vc.coordA, vc.teamA.ID, bad)
	if res.StatusCode != 422 || !strings.Contains(res.body, "第 3 行") || !strings.Contains(res.body, "手机号与第 2 行重复") {
		t.Fatalf("bad roster: %d %s", res.StatusCode, res.body)
	}
	if res = upload(vc.coordB, vc.teamA.ID, book(header, []string{"甲", "13800000011", idNumber(11)})); res.StatusCode != 404 {
		t.Fatalf("coordinator B uploads into team A: %d", res.StatusCode)
	}
	if res = upload(vc.coordA, vc.teamA.ID, book(header, []string{"甲", "13800000011", idNumber(11)})); res.StatusCode != 303 {
		t.Fatalf("good roster: %d %s", res.StatusCode, res.body)
	}
	if list := vc.coordA.do("GET", fmt.Sprintf("/volunteer/people?team=%d", vc.teamA.ID), nil, ""); !strings.Contains(list.body, "138****0011") {
		t.Fatalf("the imported volunteer is not listed: %s", list.body)
	}
	// a roster's people sign in once their coordinator issues a password,
	// and then choose their own
	var imported int64
	if err := f.db.Reader().QueryRow(context.Background(), `SELECT id FROM volunteers WHERE phone = '13800000011'`).Scan(&imported); err != nil {
		t.Fatal(err)
	}
	if res := f.anon().form("POST", "/v/login", url.Values{"phone": {"13800000011"}, "password": {""}}); res.StatusCode != 401 {
		t.Fatalf("an imported volunteer signs in without a password: %d", res.StatusCode)
	}
	if res := vc.coordB.form("POST", fmt.Sprintf("/volunteer/people/%d/password", imported), url.Values{}); res.StatusCode != 404 {
		t.Fatalf("coordinator B issues team A's password: %d", res.StatusCode)
	}
	issued := vc.coordA.form("POST", fmt.Sprintf("/volunteer/people/%d/password", imported), url.Values{})
	m := regexp.MustCompile(`新密码：(\S+)（`).FindStringSubmatch(issued.body)
	if issued.StatusCode != 200 || m == nil {
		t.Fatalf("issue a password: %d %s", issued.StatusCode, issued.body)
	}
	me := f.person("13800000011", m[1])
	if res := me.form("POST", "/v/password", url.Values{"current": {"wrong"}, "password": {"Mine-Passw0rd!"}}); res.StatusCode != 400 || !strings.Contains(res.body, "当前密码不正确") {
		t.Fatalf("change with a wrong current password: %d", res.StatusCode)
	}
	if res := me.form("POST", "/v/password", url.Values{"current": {m[1]}, "password": {"Mine-Passw0rd!"}}); res.StatusCode != 303 {
		t.Fatalf("change password: %d %s", res.StatusCode, res.body)
	}
	f.person("13800000011", "Mine-Passw0rd!")
	api := vc.coordA.do("POST", fmt.Sprintf("/api/v1/volunteer/teams/%d/roster", vc.teamA.ID), bytes.NewReader(book(header, []string{"丙", "138", idNumber(13)})),
		"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	var rep struct {
		Stored   int `json:"stored"`
		Problems []struct {
			Row     int    `json:"row"`
			Message string `json:"message"`
		} `json:"problems"`
	}
	api.json(t, &rep)
	if api.StatusCode != 422 || rep.Stored != 0 || len(rep.Problems) != 1 || rep.Problems[0].Row != 2 || !strings.Contains(rep.Problems[0].Message, "11 位") {
		t.Fatalf("API roster: %d %+v", api.StatusCode, rep)
	}
}

// TestVolunteerSettingsForms: the administrator sets the residents and
// the rules on the teams page; the statistics and the star scale follow;
// a wrong scale is refused in Chinese and changes nothing; nobody else
// may post them.
func TestVolunteerSettingsForms(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testcity.SQLite(t))
	vc := f.volunteerCity()
	ad := f.login("admin")
	street := vc.teamA.RegionID
	if res := ad.form("POST", "/volunteer/population", url.Values{"pop_" + fmt.Sprint(street): {"4000"}}); res.StatusCode != 303 {
		t.Fatalf("population: %d %s", res.StatusCode, res.body)
	}
	if res := ad.form("POST", "/volunteer/settings", url.Values{"stars": {"50,100,200,400,800"}, "early": {"15"}, "late": {"30"}, "radius": {"200"}}); res.StatusCode != 303 {
		t.Fatalf("settings: %d %s", res.StatusCode, res.body)
	}
	if res := ad.form("POST", "/volunteer/settings", url.Values{"stars": {"100,50,200,400,800"}, "early": {"15"}, "late": {"30"}, "radius": {"200"}}); res.StatusCode != 400 || !strings.Contains(res.body, "递增") {
		t.Fatalf("a decreasing scale: %d", res.StatusCode)
	}
	st, err := f.vol.Settings(context.Background())
	if err != nil || st.StarHours[0] != 50 || st.RadiusM != 200 || st.Stars(50*60) != 1 {
		t.Fatalf("settings after the refused change: %+v %v", st, err)
	}
	page := ad.do("GET", "/volunteer/teams", nil, "")
	if !strings.Contains(page.body, `value="4000"`) || !strings.Contains(page.body, `value="50,100,200,400,800"`) {
		t.Fatalf("the teams page does not show what was saved")
	}
	for _, c := range []*client{vc.coordA, f.login("volunteer"), f.login("leader")} {
		if res := c.form("POST", "/volunteer/population", url.Values{"pop_" + fmt.Sprint(street): {"1"}}); res.StatusCode != 403 {
			t.Errorf("a non-administrator sets the population: %d", res.StatusCode)
		}
	}
	if res := ad.form("POST", "/volunteer/population", url.Values{"pop_" + fmt.Sprint(street): {""}}); res.StatusCode != 303 {
		t.Fatalf("clear population: %d", res.StatusCode)
	}
	if pop, _ := f.vol.Population(context.Background()); len(pop) != 0 {
		t.Errorf("population after clearing: %v", pop)
	}
}

// TestVolunteerReports: a volunteer signed in on the phone pages who
// reports through 随手拍 files as themselves (source volunteer, their name
// and phone for the office); signed out, the same page files as a
// citizen.
func TestVolunteerReports(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testcity.SQLite(t))
	vc := f.volunteerCity()
	ctx := context.Background()
	id, err := f.vol.Register(ctx, volunteer.Registration{Name: "林志", Phone: "13800000077", IDNumber: idNumber(77), TeamID: vc.teamA.ID, Password: "Volunteer-2026!", Consent: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.vol.Decide(ctx, vc.admin, id, true); err != nil {
		t.Fatal(err)
	}
	report := func(c *client) string {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		for k, v := range map[string]string{"category_id": fmt.Sprint(f.category.ID), "description": "路边垃圾", "lat": "25.0", "lon": "102.7"} {
			mw.WriteField(k, v)
		}
		w, _ := mw.CreateFormFile("photos", "p.jpg")
		w.Write(smallJPEG())
		mw.Close()
		if res := c.do("POST", "/api/v1/public/reports", &buf, mw.FormDataContentType()); res.StatusCode != 201 {
			t.Fatalf("report: %d %s", res.StatusCode, res.body)
		}
		var source, name, phone string
		if err := f.db.Reader().QueryRow(ctx, `SELECT source, reporter_name, reporter_phone FROM cases ORDER BY id DESC LIMIT 1`).Scan(&source, &name, &phone); err != nil {
			t.Fatal(err)
		}
		return source + "|" + name + "|" + phone
	}
	if got := report(f.person("13800000077", "Volunteer-2026!")); got != "volunteer|志愿者 林志|" {
		t.Errorf("a volunteer's report: %s", got)
	}
	if got := report(f.anon()); !strings.HasPrefix(got, "citizen|") {
		t.Errorf("a resident's report: %s", got)
	}
}

// TestCheckinLinkAddress: the check-in link under the QR code is the
// request's own address, or the configured public one behind a proxy.
func TestCheckinLinkAddress(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testcity.SQLite(t))
	vc := f.volunteerCity()
	path := fmt.Sprintf("/volunteer/activities/%d", vc.activity.ID)
	if page := vc.coordA.do("GET", path, nil, ""); !strings.Contains(page.body, `<code id="checkin-url">`+f.url+"/v/checkin/"+vc.activity.CheckinToken+"</code>") {
		t.Errorf("the check-in link without a public address: %s", page.body)
	}
	g := f.withServer(func(s *web.Server) { s.PublicURL = "https://cw.example.gov.cn/" })
	coord := g.login("coordA")
	if page := coord.do("GET", path, nil, ""); !strings.Contains(page.body, `<code id="checkin-url">https://cw.example.gov.cn/v/checkin/`+vc.activity.CheckinToken+"</code>") {
		t.Errorf("the check-in link with a public address: %s", page.body)
	}
}
