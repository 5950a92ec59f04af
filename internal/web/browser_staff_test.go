package web_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"chuangwen/internal/testcity"
)

// TestBrowserStaffLocate: a grid worker reports from the console on a
// phone; "use my position" fills the form from the phone's GPS (the
// browser's position, set through the DevTools protocol) and shows the
// pin; the case lands in the grid cell there.
func TestBrowserStaffLocate(t *testing.T) {
	t.Parallel()
	chromium(t)
	f := newFixture(t, testcity.SQLite(t))
	ctx := startBrowser(t)
	tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	lat, lon, acc := f.cell.Lat, f.cell.Lon, 8.0
	err := chromedp.Do(tctx,
		chromedp.EmulateViewport(360, 740, chromedp.EmulateScale(2), chromedp.EmulateMobile),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			if _, err := cdp.Call(ctx, tg, browser.SetPermission, browser.SetPermissionParams{Permission: &browser.PermissionDescriptor{Name: "geolocation"},
				Setting: browser.PermissionSettingGranted, BrowserContextID: chromedp.FromContext(ctx).BrowserContextID}); err != nil {
				t.Logf("permission: %v", err)
			}
			_, err := cdp.Call(ctx, tg, emulation.SetGeolocationOverride, emulation.SetGeolocationOverrideParams{Latitude: &lat, Longitude: &lon, Accuracy: &acc})
			return err
		}),
		signIn(f, "grid"),
		chromedp.Navigate(f.url+"/cases/new"),
		chromedp.WaitVisible(chromedp.ID("use-gps")),
		chromedp.Click(chromedp.ID("use-gps")))
	if err != nil {
		t.Fatal(err)
	}
	got, err := chromedp.Run(tctx, chromedp.Poll[string](`(function () {
		var f = document.getElementById('new-case');
		return f.elements.lat.value && document.querySelector('#new-case-map .pin') ? f.elements.lat.value + ',' + f.elements.lon.value + '|' + document.getElementById('locate-status').textContent : '';
	})()`, chromedp.WithPollingTimeout(10*time.Second)))
	if err != nil {
		st, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`document.getElementById('locate-status').textContent`))
		t.Fatalf("no position from the phone: %v (status %q)", err, st)
	}
	want := strconv.FormatFloat(lat, 'f', 6, 64) + "," + strconv.FormatFloat(lon, 'f', 6, 64) + "|已按手机定位填写经纬度"
	if got != want {
		t.Errorf("form after GPS: %q, want %q", got, want)
	}
	// filed from there, the case lands in that grid cell
	err = chromedp.Do(tctx,
		chromedp.SetValue(chromedp.CSS(`#new-case select[name=category_id]`), strconv.FormatInt(f.category.ID, 10)),
		chromedp.SendKeys(chromedp.CSS(`#new-case textarea[name=description]`), "巡查发现路灯不亮"),
		chromedp.Click(chromedp.ID("submit-case")),
		chromedp.WaitVisible(chromedp.ID("case-state")))
	if err != nil {
		t.Fatal(err)
	}
	cell, err := chromedp.Run(tctx, chromedp.Evaluate[string](`(document.getElementById('case-map') || {dataset: {}}).dataset.cell || ''`))
	if err != nil || cell != "330102001001005" {
		t.Errorf("the case's cell: %q, want 330102001001005 (%v)", cell, err)
	}
}
