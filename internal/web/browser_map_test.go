package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"chuangwen/internal/geo"
	"chuangwen/internal/testcity"
)

// TestBrowserCaseMap opens a case placed in a grid cell in headless
// Chromium: the map shows the point with its cell outlined, and the map
// apps' links carry the point in each app's datum. The list's map view
// draws the list's cases.
func TestBrowserCaseMap(t *testing.T) {
	t.Parallel()
	chromium(t)
	f := newFixture(t, testcity.SQLite(t))
	acc := f.login("acceptor")
	rec := f.mustReport(f.reportFields("路口井盖缺失", f.cell.Lat, f.cell.Lon))
	c := caseByNo(t, acc, rec.CaseNo)
	f.report(acc)

	ctx := startBrowser(t)
	tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	err := chromedp.Do(tctx,
		signIn(f, "acceptor"),
		chromedp.Navigate(fmt.Sprintf("%s/cases/%d", f.url, c.ID)),
		chromedp.WaitVisible(chromedp.ID("case-map")))
	if err != nil {
		t.Fatal(err)
	}
	// the point and its cell, outlined in red, among the cells around
	drawn, err := chromedp.Run(tctx, chromedp.Poll[string](`(function () {
		var paths = document.querySelectorAll('#case-map path');
		var cell = Array.prototype.filter.call(paths, function (p) { return p.getAttribute('stroke') === '#d93025'; });
		var point = Array.prototype.filter.call(paths, function (p) { return p.getAttribute('fill') === '#d93025'; });
		return cell.length === 1 && point.length === 1 && paths.length > 2 ? paths.length + '|' + cell.length : '';
	})()`, chromedp.WithPollingTimeout(10*time.Second)))
	if err != nil {
		dbg, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`document.getElementById('case-map').outerHTML.slice(0, 1500) + ' L=' + typeof L`))
		t.Fatalf("the case map did not draw its point and cell: %v\n%s", err, dbg)
	}
	t.Logf("case map paths|red: %s", drawn)
	links, err := chromedp.Run(tctx, chromedp.Evaluate[string](`Array.from(document.querySelectorAll('#nav-links a')).map(function (a) { return a.dataset.app + '=' + a.getAttribute('href'); }).join('\n')`))
	if err != nil {
		t.Fatal(err)
	}
	g := geo.FromWGS84(geo.Point{Lat: f.cell.Lat, Lon: f.cell.Lon}, geo.GCJ02)
	b := geo.FromWGS84(geo.Point{Lat: f.cell.Lat, Lon: f.cell.Lon}, geo.BD09)
	for _, want := range []string{
		fmt.Sprintf("amap=https://uri.amap.com/marker?position=%.6f,%.6f", g.Lon, g.Lat),
		fmt.Sprintf("baidu=https://api.map.baidu.com/marker?location=%.6f,%.6f", b.Lat, b.Lon),
		fmt.Sprintf("tencent=https://apis.map.qq.com/uri/v1/marker?marker=coord:%.6f,%.6f", g.Lat, g.Lon),
		fmt.Sprintf("geo=geo:%.6f,%.6f", f.cell.Lat, f.cell.Lon),
	} {
		if !strings.Contains(links, want) {
			t.Errorf("map app links lack %q:\n%s", want, links)
		}
	}
	// the list as a map
	err = chromedp.Do(tctx, chromedp.Navigate(f.url+"/cases?view=map"), chromedp.WaitVisible(chromedp.ID("cases-map")))
	if err != nil {
		t.Fatal(err)
	}
	n, err := chromedp.Run(tctx, chromedp.Poll[string](`(function () {
		var c = document.getElementById('cases-map-count').textContent;
		return c !== '…' && document.querySelector('#cases-map canvas, #cases-map .cluster') ? c : '';
	})()`, chromedp.WithPollingTimeout(10*time.Second)))
	if err != nil || n != "2" {
		t.Errorf("the list's map: %q cases, %v", n, err)
	}
}
