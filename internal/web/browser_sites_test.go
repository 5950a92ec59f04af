package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"chuangwen/internal/assess"
	"chuangwen/internal/org"
	"chuangwen/internal/testcity"
)

// TestBrowserSiteNamesAreText: a site's name is shown on the sites map as
// text, whatever an import put in it; before, the marker's tooltip took it
// as HTML (an <img onerror> ran where no CSP stopped it).
func TestBrowserSiteNamesAreText(t *testing.T) {
	t.Parallel()
	chromium(t)
	f := newAssessFixture(t, testcity.SQLite(t))
	const name = `<b id="bold">粗</b>点位`
	csv := "code,name,type,region,lat,lon\nS09,\"" + strings.ReplaceAll(name, `"`, `""`) + "\",主次干道,,25.0,102.7\n"
	if _, ps, err := f.svc.ImportSites(context.Background(), org.System, strings.NewReader(csv), assess.FormatCSV); err != nil {
		t.Fatalf("import: %v %v", err, ps)
	}
	ctx, cancel := chromedp.NewContext(startBrowser(t), chromedp.WithNewBrowserContext())
	defer cancel()
	tctx, cancel2 := context.WithTimeout(ctx, 40*time.Second)
	defer cancel2()
	// The one located site is the map's centre: the mouse there opens its
	// tooltip (the markers are drawn on a canvas, which Leaflet hit-tests).
	if err := chromedp.Do(tctx, chromedp.Steps(signIn(f.fixture, "admin"), chromedp.Navigate(f.url+"/assess/sites"),
		chromedp.WaitVisible(`#sites-map canvas`))); err != nil {
		t.Fatal(err)
	}
	tip, err := chromedp.Run(tctx,
		chromedp.Poll[string](`(() => {
			const c = document.querySelector('#sites-map canvas');
			if (!c) return '';
			const r = document.getElementById('sites-map').getBoundingClientRect();
			const at = {clientX: r.left + r.width / 2, clientY: r.top + r.height / 2, bubbles: true};
			c.dispatchEvent(new MouseEvent('mousemove', at));
			const t = document.querySelector('.leaflet-tooltip');
			return t ? JSON.stringify({text: t.textContent, bold: !!document.getElementById('bold')}) : '';
		})()`, chromedp.WithPollingTimeout(15*time.Second), chromedp.WithPollingInterval(100*time.Millisecond)))
	if err != nil {
		dbg, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('sites-map').getAttribute('data-sites') + ' ' + JSON.stringify(document.querySelector('#sites-map canvas').getBoundingClientRect())`))
		t.Fatalf("no tooltip: %v; %s", err, dbg)
	}
	if !strings.Contains(tip, `"bold":false`) || !strings.Contains(tip, `\u003cb id=\"bold\"\u003e粗\u003c/b\u003e点位`) && !strings.Contains(tip, `<b id=\"bold\">粗</b>点位`) {
		t.Fatalf("tooltip %s: the name was not shown as text", tip)
	}
}
