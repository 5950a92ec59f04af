package web_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"chuangwen/internal/report"
	"chuangwen/internal/testcity"
	"chuangwen/internal/web"
)

// TestBrowserLeaderScreen opens the leader's screen in headless Chromium
// at 1920×1080 and on a 360 px phone: the counts, the charts and the
// shaded grid draw; at 1920×1080 everything fits one screen, on the
// phone nothing is wider than the screen; the overdue count leads to the
// overdue cases. Screenshots go to $CHUANGWEN_SCREENSHOTS when set.
func TestBrowserLeaderScreen(t *testing.T) {
	t.Parallel()
	chromium(t) // skips (or fails in CI) before the city is built
	base := newAssessFixture(t, testcity.SQLite(t))
	rs := &report.Service{DB: base.db, Flow: base.flow, Assess: base.svc, Location: testcity.Shanghai, Now: base.flow.Now}
	f := base.fixture.withServer(func(s *web.Server) { s.Assess, s.Report = base.svc, rs })
	base.submit("S01", "A1.2", "fail", 1) // an open case in a grid cell, for unit A
	f.report(f.login("acceptor"))

	shots := os.Getenv("CHUANGWEN_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	bctx := startBrowser(t)
	type step = chromedp.Action[chromedp.Void]
	for _, size := range []struct {
		name  string
		w, h  int64
		phone bool
	}{{"desktop", 1920, 1080, false}, {"phone", 360, 740, true}} {
		t.Run(size.name, func(t *testing.T) {
			ctx, cancel := chromedp.NewContext(bctx, chromedp.WithNewBrowserContext())
			defer cancel()
			view := chromedp.EmulateViewport(size.w, size.h)
			if size.phone {
				view = chromedp.EmulateViewport(size.w, size.h, chromedp.EmulateScale(2), chromedp.EmulateMobile)
			}
			tctx, cancel2 := context.WithTimeout(ctx, 40*time.Second)
			defer cancel2()
			steps := []step{
				view,
				signIn(f, "leader"),
				chromedp.Navigate(f.url + "/leader"),
				chromedp.WaitVisible(chromedp.ID("chart-weeks")),
			}
			if err := chromedp.Do(tctx, steps...); err != nil {
				t.Fatal(err)
			}
			// drawn: counts filled in, a canvas in each chart, the cells on the map
			ready := `(function () {
				var open = document.querySelector('[data-count="open"]');
				if (!open || open.textContent === '—') return '';
				var ids = ['chart-weeks', 'chart-districts', 'chart-units'];
				for (var i = 0; i < ids.length; i++) if (!document.querySelector('#' + ids[i] + ' canvas')) return '';
				if (!document.querySelector('#leader-map canvas, #leader-map path')) return '';
				return open.textContent + '|' + document.querySelector('[data-count="overdue"]').textContent;
			})()`
			got, err := chromedp.Run(tctx, chromedp.Poll[string](ready, chromedp.WithPollingTimeout(15*time.Second), chromedp.WithPollingInterval(100*time.Millisecond)))
			if err != nil {
				body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText.slice(0, 600)`))
				t.Fatalf("the screen did not draw: %v; %s", err, body)
			}
			if got != "2|0" {
				t.Errorf("open|overdue = %s, want 2|0", got)
			}
			width, err := chromedp.Run(tctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
			if err != nil || width > int(size.w) {
				t.Errorf("the page is %d px wide at %d px (%v)", width, size.w, err)
			}
			// each panel lies inside the page's width
			over, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`Array.prototype.filter.call(document.querySelectorAll('.leader-grid .panel, .leader-tiles .tile'),
				function (e) { var r = e.getBoundingClientRect(); return r.right > window.innerWidth + 0.5 || r.left < -0.5; }).map(function (e) { return e.id || e.className; }).join(',')`))
			if over != "" {
				t.Errorf("panels beyond the screen's edge: %s", over)
			}
			if !size.phone {
				bottom, _ := chromedp.Run(tctx, chromedp.Evaluate[float64](`document.querySelector('.leader-grid').getBoundingClientRect().bottom`))
				if bottom > float64(size.h) {
					t.Errorf("at 1920×1080 the screen ends at %.0f px: more than one screen", bottom)
				}
			}
			var shot []byte
			if size.phone {
				shot, err = chromedp.Run(tctx, chromedp.FullScreenshot(100))
			} else {
				shot, err = chromedp.Run(tctx, chromedp.CaptureScreenshot())
			}
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(shots, "leader-"+size.name+".png")
			if err := os.WriteFile(path, shot, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("screenshot %s (%d bytes)", path, len(shot))
			// the overdue count leads to the overdue queue
			if err := chromedp.Do(tctx, chromedp.Click(chromedp.ID("tile-overdue")), chromedp.WaitVisible(chromedp.ID("cases"))); err != nil {
				t.Fatal(err)
			}
			loc, _ := chromedp.Run(tctx, chromedp.Location())
			if !strings.HasSuffix(loc, "/cases?queue=overdue") {
				t.Errorf("the overdue tile led to %s", loc)
			}
		})
	}
}
