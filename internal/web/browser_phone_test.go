package web_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"chuangwen/internal/org"
	"chuangwen/internal/report"
	"chuangwen/internal/store/storetest"
	"chuangwen/internal/testcity"
	"chuangwen/internal/web"
)

// TestBrowserEveryPageAt360 opens every console page on a 360 px phone,
// each as a user of the first role that may open it (and the case page
// as every role), and fails when the page scrolls sideways or its title
// repeats itself. Wide tables scroll inside their own box.
func TestBrowserEveryPageAt360(t *testing.T) {
	storetest.Long(t)
	t.Parallel()
	chromium(t)
	base := newAssessFixture(t, testcity.SQLite(t))
	rs := &report.Service{DB: base.db, Flow: base.flow, Assess: base.svc, Location: testcity.Shanghai, Now: base.flow.Now}
	f := base.fixture.withServer(func(s *web.Server) { s.Assess, s.Report = base.svc, rs })
	base.submit("S01", "A1.2", "fail", 1)
	c := f.report(f.login("acceptor"))

	users := []struct {
		name string
		role org.Role
	}{{"admin", org.RoleAdmin}, {"acceptor", org.RoleAcceptor}, {"leader", org.RoleLeader}, {"handlerA", org.RoleHandler},
		{"inspector", org.RoleInspector}, {"grid", org.RoleGrid}, {"volunteer", org.RoleVolunteer}}
	visit := map[string][]string{} // user → paths
	for _, p := range f.srv.Pages() {
		if strings.HasSuffix(p.Path, ".xlsx") || strings.HasSuffix(p.Path, ".pdf") || strings.HasSuffix(p.Path, "/export") || p.Path == "/password" {
			continue // downloads, and the form that changes the password
		}
		for _, u := range users {
			if p.Roles == nil || slices.Contains(p.Roles, u.role) {
				visit[u.name] = append(visit[u.name], p.Path)
				break
			}
		}
	}
	for _, u := range users {
		visit[u.name] = append(visit[u.name], "/", fmt.Sprintf("/cases/%d", c.ID))
	}

	bctx := startBrowser(t)
	const check = `(function () {
		var de = document.documentElement, wide = [], W = 360;
		if (de.scrollWidth > W) {
			document.querySelectorAll('body *').forEach(function (el) {
				var r = el.getBoundingClientRect();
				if (r.right > W + 1 && el.offsetParent !== null) wide.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className && el.className.baseVal === undefined ? '.' + el.className : ''));
			});
		}
		return document.title + '|' + de.scrollWidth + '|' + W + '|' + wide.slice(0, 4).join(' ');
	})()`
	for _, u := range users {
		t.Run(u.name, func(t *testing.T) {
			ctx, cancel := chromedp.NewContext(bctx, chromedp.WithNewBrowserContext())
			defer cancel()
			tctx, cancel2 := context.WithTimeout(ctx, 90*time.Second)
			defer cancel2()
			err := chromedp.Do(tctx,
				chromedp.EmulateViewport(360, 740, chromedp.EmulateScale(2), chromedp.EmulateMobile),
				signIn(f, u.name))
			if err != nil {
				t.Fatal(err)
			}
			for _, path := range visit[u.name] {
				err := chromedp.Do(tctx, chromedp.Navigate(f.url+path), chromedp.WaitReady(chromedp.CSS("main")))
				var got string
				if err == nil {
					got, err = chromedp.Run(tctx, chromedp.Evaluate[string](check))
				}
				if err != nil {
					t.Errorf("%s: %v", path, err)
					continue
				}
				parts := strings.SplitN(got, "|", 4)
				if w, _ := strconv.Atoi(parts[1]); w > 360 {
					t.Errorf("%s scrolls sideways at 360 px: %s px wide; widest: %s", path, parts[1], parts[3])
				}
				if a, b, ok := strings.Cut(parts[0], " · "); ok && a == b || strings.Count(parts[0], " · ") > 1 {
					t.Errorf("%s: title repeats itself: %q", path, parts[0])
				}
			}
		})
	}
}
