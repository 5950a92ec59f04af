package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"chuangwen/internal/org"
	"chuangwen/internal/testcity"
	"chuangwen/internal/workflow"
)

// TestBrowserSearch types into the case list's search box in headless
// Chromium as the acceptor: a resident's receipt code finds the case it
// names, a fragment of an address the case at that address; the query
// stays in the address bar and in the box.
func TestBrowserSearch(t *testing.T) {
	t.Parallel()
	chromium(t)
	f := newFixture(t, testcity.SQLite(t))
	rec := f.mustReport(f.reportFields("小区门口垃圾桶满溢", f.cell.Lat, f.cell.Lon))
	atRoad, err := f.flow.Report(context.Background(), org.System, workflow.NewCase{Source: workflow.SourceHotline, CategoryID: f.category.ID,
		Description: "共享单车乱停放", Address: "人民中路88号", RegionID: f.comm.ID})
	if err != nil {
		t.Fatal(err)
	}
	f.report(f.login("acceptor")) // one more case, which neither search finds

	ctx := startBrowser(t)
	tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	type step = chromedp.Action[chromedp.Void]
	search := func(q string) []step {
		return []step{
			chromedp.Navigate(f.url + "/cases"),
			chromedp.WaitVisible(chromedp.ID("q")),
			chromedp.SendKeys(chromedp.ID("q"), q+"\n"),
			// the results page, not the form it replaces
			func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
				expr := `location.search.indexOf('q=') >= 0 && document.readyState === 'complete' && !!document.querySelector('#cases tbody tr')`
				for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
					// errors while the page navigates are expected: retry
					if ok, err := chromedp.Evaluate[bool](expr)(ctx, tg); err == nil && ok {
						return chromedp.Void{}, nil
					}
				}
				return chromedp.Void{}, fmt.Errorf("no results page for %q", q)
			},
		}
	}
	rows := func() string {
		got, err := chromedp.Run(tctx, chromedp.Evaluate[string](`Array.from(document.querySelectorAll('#cases tbody tr')).map(function (r) { var a = r.querySelector('td a'); return a ? a.innerText.trim() : ''; }).join('|')`))
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	steps := []step{
		signIn(f, "acceptor"),
	}
	if err := chromedp.Do(tctx, append(steps, search(strings.ToLower(rec.Receipt[:5])+"-"+rec.Receipt[5:])...)...); err != nil {
		t.Fatal(err)
	}
	if got := rows(); got != rec.CaseNo {
		t.Errorf("search by receipt code: rows %q, want %q", got, rec.CaseNo)
	}
	if err := chromedp.Do(tctx, search("中路8")...); err != nil {
		t.Fatal(err)
	}
	if got := rows(); got != atRoad.No {
		t.Errorf("search by an address fragment: rows %q, want %q", got, atRoad.No)
	}
	state, err := chromedp.Run(tctx, chromedp.Evaluate[string](`location.search + '|' + document.getElementById('q').value`))
	if err != nil {
		t.Fatal(err)
	}
	if state != "?q=%E4%B8%AD%E8%B7%AF8|中路8" {
		t.Errorf("address bar and box after the search: %q", state)
	}
}
