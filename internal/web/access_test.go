package web_test

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"chuangwen/internal/org"
	"chuangwen/internal/report"
	"chuangwen/internal/testcity"
	"chuangwen/internal/web"
)

// TestAccessMatrix tries every route of the route table as every kind of
// caller: anonymous, a user of each role, a handler of another unit, an
// inspector of another district, and a token of each scope. The statuses
// are kept in testdata/access.golden, one line a route, so that a new
// route fails the build until its line is written (go test -run
// TestAccessMatrix -update) and read in review, and a change of who may
// call what shows as a changed line. Whatever the file says, some things
// never answer 2xx: a non-public route to an anonymous caller or to an
// Open311 token, a write to a read token, anything but filing to a file
// token, a case to the volunteer coordinator, and unit A's case in
// district 1 to unit B or to district 2's inspector.
func TestAccessMatrix(t *testing.T) {
	t.Parallel()
	// the whole server: assessment and reports too
	base := newAssessFixture(t, testcity.SQLite(t))
	rs := &report.Service{DB: base.db, Flow: base.flow, Assess: base.svc, Location: testcity.Shanghai, Now: base.flow.Now, Volunteer: base.vol}
	f := base.fixture.withServer(func(s *web.Server) { s.Assess, s.Report = base.svc, rs })
	// sign-in delays measured on a clock that stands still, so that the
	// empty sign-ins sent to /login answer the same on any machine
	t0 := time.Now()
	f.orgs.Now = func() time.Time { return t0 }
	ctx := context.Background()
	acc := f.login("acceptor")
	c := f.report(acc)
	acc.act(t, c.ID, map[string]any{"action": "accept"}, 200)
	acc.act(t, c.ID, map[string]any{"action": "dispatch", "lead_unit_id": f.unitA.ID}, 200)
	var d2 int64
	if err := f.db.Reader().QueryRow(ctx, `SELECT id FROM regions WHERE level = 'district' AND id <> ? ORDER BY id LIMIT 1`, f.district.ID).Scan(&d2); err != nil {
		t.Fatal(err)
	}
	if _, err := f.orgs.CreateUser(ctx, org.System, org.NewUser{Username: "inspector2", DisplayName: "二区督查员", Password: testPassword,
		Role: org.RoleInspector, Scope: org.ScopeRegion, ScopeRegionID: d2}); err != nil {
		t.Fatal(err)
	}
	type caller struct {
		name string
		c    *client
	}
	callers := []caller{{"anon", f.anon()}}
	for _, u := range []string{"admin", "acceptor", "leader", "handlerA", "handlerB", "inspector", "inspector2", "grid", "volunteer"} {
		callers = append(callers, caller{u, f.login(u)})
	}
	callers = append(callers, caller{"tok:open311", f.bearerScoped(0, org.TokenOpen311)}, caller{"tok:file", f.bearerScoped(0, org.TokenFile)},
		caller{"tok:read", f.bearerScoped(0, org.TokenRead)}, caller{"tok:unitA", f.bearerScoped(f.unitA.ID, org.TokenUnit)})

	param := regexp.MustCompile(`\{[a-z_]+\}`)
	fill := func(p string) string {
		p = strings.TrimSuffix(p, "{$}")
		if strings.HasSuffix(p, "/") && p != "/" {
			p += "app.css" // the static files' prefix
		}
		// the case's id in a case's routes; elsewhere an id that names
		// nothing, so that no caller's request changes what the next sees
		// (a token revoked, a user disabled)
		isCase := strings.HasPrefix(p, "/cases/{id}") || strings.HasPrefix(p, "/api/v1/cases/{id}")
		return param.ReplaceAllStringFunc(p, func(m string) string {
			if m == "{id}" && isCase {
				return fmt.Sprint(c.ID)
			}
			return "0"
		})
	}
	// The sign-in forms last: the empty sign-ins sent to them count
	// against this address, and /logout and /password sign in afresh.
	// The staff's and the volunteers' forms share the address's count (one
	// budget for a guesser, whichever form), so each starts from none.
	signIn := func(p string) bool { return p == "/login" || p == "/v/login" }
	routes := f.srv.Routes()
	slices.SortStableFunc(routes, func(a, b web.Route) int {
		return strings.Compare(fmt.Sprint(signIn(a.Path)), fmt.Sprint(signIn(b.Path)))
	})
	var lines []string
	for _, rt := range routes {
		path := fill(rt.Path)
		if signIn(rt.Path) && rt.Method == "POST" {
			if _, err := f.db.Exec(ctx, `DELETE FROM login_throttle`); err != nil {
				t.Fatal(err)
			}
		}
		var cells []string
		for _, cl := range callers {
			who := cl.c
			if rt.Path == "/logout" || rt.Path == "/password" && rt.Method != "GET" {
				// a session of its own, so that the others stay signed in
				if who.csrf != "" {
					who = f.login(cl.name)
				}
			}
			var res response
			switch {
			case rt.Method == "GET" || rt.Method == "HEAD":
				res = who.do(rt.Method, path, nil, "")
			case rt.API:
				res = who.do(rt.Method, path, bytes.NewReader([]byte("{}")), "application/json")
			default:
				res = who.form(rt.Method, path, url.Values{})
			}
			st := res.StatusCode
			cells = append(cells, fmt.Sprintf("%s=%d", cl.name, st))
			ok := st >= 200 && st < 300
			switch {
			case !ok:
			case !rt.Public && (cl.name == "anon" || cl.name == "tok:open311"):
				t.Errorf("%s %s answers %d to %s", rt.Method, rt.Path, st, cl.name)
			case cl.name == "tok:read" && rt.Method != "GET" && !rt.Public:
				t.Errorf("%s %s: a read token wrote (%d)", rt.Method, rt.Path, st)
			case cl.name == "tok:file" && !rt.Public && !(rt.Method == "POST" && rt.Path == "/api/v1/cases" || rt.Path == "/api/v1/categories"):
				t.Errorf("%s %s: a file token got %d", rt.Method, rt.Path, st)
			case cl.name == "volunteer" && strings.Contains(rt.Path, "/cases/{id}"):
				t.Errorf("%s %s: the volunteer coordinator reads a case (%d)", rt.Method, rt.Path, st)
			case (cl.name == "handlerB" || cl.name == "inspector2") && strings.Contains(rt.Path, "/cases/{id}") && rt.Method == "GET":
				t.Errorf("%s %s: %s reads unit A's case in district 1 (%d)", rt.Method, rt.Path, cl.name, st)
			}
		}
		lines = append(lines, rt.Method+" "+rt.Path+"\t"+strings.Join(cells, " "))
	}
	slices.Sort(lines)
	got := strings.Join(lines, "\n") + "\n"
	golden := filepath.Join("testdata", "access.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (write it with -update)", err)
	}
	wantLines := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(want)), "\n") {
		k, v, _ := strings.Cut(l, "\t")
		wantLines[k] = v
	}
	for _, l := range lines {
		k, v, _ := strings.Cut(l, "\t")
		w, ok := wantLines[k]
		switch {
		case !ok:
			t.Errorf("%s has no line in %s: who may call it? Write it with -update and read it:\n%s", k, golden, v)
		case w != v:
			t.Errorf("%s:\n got %s\nwant %s", k, v, w)
		}
		delete(wantLines, k)
	}
	for k := range wantLines {
		t.Errorf("%s is in %s but not in the route table", k, golden)
	}
}
