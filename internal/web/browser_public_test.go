package web_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"chuangwen/internal/testcity"
)

// TestBrowserPhoneReport is a resident on a phone: the reporting page in a
// 360 × 640 viewport, a category, a description, a photo from the album,
// a pin placed by tapping the offline grid map, submit; the receipt code
// comes back and the status page it links to shows the case.
func TestBrowserPhoneReport(t *testing.T) {
	t.Parallel()
	chromium(t) // skips (or fails in CI) before the city is built
	f := newFixture(t, testcity.SQLite(t))
	photo := filepath.Join(t.TempDir(), "fire-lane.jpg")
	if err := os.WriteFile(photo, smallJPEG(), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := startBrowser(t)
	tctx, cancel2 := context.WithTimeout(ctx, 60*time.Second)
	defer cancel2()

	err := chromedp.Do(tctx,
		chromedp.EmulateViewport(360, 640, chromedp.EmulateScale(2), chromedp.EmulateMobile),
		chromedp.Navigate(f.url+"/report"),
		chromedp.WaitVisible(chromedp.ID("map")),
		// the category list is filled from the page's configuration
		chromedp.WaitReady(chromedp.CSS(fmt.Sprintf(`#category option[value="%d"]`, f.category.ID))),
		chromedp.SetValue(chromedp.ID("category"), fmt.Sprint(f.category.ID)),
		chromedp.SendKeys(chromedp.ID("description"), "消防通道被电动车堵住，车辆无法通行"),
		chromedp.SetUploadFiles(chromedp.ID("photos"), []string{photo}, chromedp.NodeReady),
		chromedp.ScrollIntoView(chromedp.ID("map")),
	)
	if err != nil {
		t.Fatal(err)
	}
	// The offline map draws the city's own 3 × 3 grid cells as outlines.
	if _, err := chromedp.Run(tctx, chromedp.Poll[bool](`document.querySelectorAll('#map path.cw-cell').length === 9`, chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		n, _ := chromedp.Run(tctx, chromedp.Evaluate[int](`document.querySelectorAll('#map path').length`))
		t.Fatalf("the map shows no 3 × 3 grid cell outlines (%d paths): %v", n, err)
	}
	if err := chromedp.Do(tctx, chromedp.Click(chromedp.ID("map"))); err != nil {
		t.Fatal(err)
	}
	// The tap sets the pin: the coordinates land in the form.
	var lat, lon string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && lat == ""; time.Sleep(100 * time.Millisecond) {
		lat, _ = chromedp.Run(tctx, chromedp.Value(chromedp.ID("lat"), chromedp.NodeReady))
		lon, _ = chromedp.Run(tctx, chromedp.Value(chromedp.ID("lon"), chromedp.NodeReady))
	}
	if lat == "" || lon == "" {
		t.Fatal("tapping the map set no location")
	}
	if !strings.HasPrefix(lat, "25.0") && !strings.HasPrefix(lat, "24.99") || !strings.HasPrefix(lon, "102.7") && !strings.HasPrefix(lon, "102.69") {
		t.Fatalf("pin at %s, %s: not in the city's grid around 25.0, 102.7", lat, lon)
	}
	// The pin stands where the finger was (its tip at the middle of the map,
	// where the tap went), in the cell it outlines in red, named below.
	pin, err := chromedp.Run(tctx, chromedp.Evaluate[map[string]any](`(function () {
		var m = document.getElementById('map').getBoundingClientRect(), p = document.querySelector('#map .map-pin');
		var r = p ? p.getBoundingClientRect() : null;
		return {pin: !!p, dx: r ? r.left + 15 - (m.left + m.width / 2) : 0, dy: r ? r.top + 42 - (m.top + m.height / 2) : 0,
			selected: document.querySelectorAll('#map path.cw-cell-selected').length, place: document.getElementById('place').textContent};
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if pin["pin"] != true || math.Abs(pin["dx"].(float64)) > 3 || math.Abs(pin["dy"].(float64)) > 3 || pin["selected"] != float64(1) || !strings.Contains(pin["place"].(string), "清波社区") {
		t.Fatalf("after the tap: %v (want the pin's tip at the tap, one cell selected, its community named)", pin)
	}
	// No horizontal scrolling on a phone.
	wide, err := chromedp.Run(tctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
	if err != nil {
		t.Fatal(err)
	}
	if wide {
		t.Error("the reporting page scrolls sideways at 360 px")
	}
	if err := chromedp.Do(tctx, chromedp.ScrollIntoView(chromedp.ID("submit")), chromedp.Click(chromedp.ID("submit"))); err != nil {
		t.Fatal(err)
	}
	var receipt string
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		receipt, _ = chromedp.Run(tctx, chromedp.Text(chromedp.ID("receipt"), chromedp.NodeReady))
		if receipt = strings.TrimSpace(receipt); receipt != "" {
			break
		}
	}
	if !regexp.MustCompile(`^[2-9A-HJ-NP-Z]{10}$`).MatchString(strings.ReplaceAll(receipt, "-", "")) {
		errText, _ := chromedp.Run(tctx, chromedp.Text(chromedp.ID("error"), chromedp.NodeReady))
		t.Fatalf("receipt %q after submit (error shown: %q)", receipt, errText)
	}
	code := strings.ReplaceAll(receipt, "-", "")

	// The case exists, placed in its grid cell, with the photo.
	var cell string
	var photos int
	if err := f.db.Reader().QueryRow(context.Background(), `SELECT g.code, (SELECT count(*) FROM photos p WHERE p.case_id = c.id)
		FROM receipts r JOIN cases c ON c.id = r.case_id JOIN grid_cells g ON g.id = c.grid_cell_id WHERE r.code = ?`, code).Scan(&cell, &photos); err != nil {
		t.Fatalf("case of receipt %s: %v", code, err)
	}
	if !strings.HasPrefix(cell, "330102001001") || photos != 1 {
		t.Fatalf("case in cell %q with %d photos", cell, photos)
	}

	// The status page by the link on the success panel.
	if err := chromedp.Do(tctx, chromedp.Click(chromedp.ID("status-link")), chromedp.WaitVisible(chromedp.ID("steps"))); err != nil {
		t.Fatal(err)
	}
	state, err := chromedp.Run(tctx, chromedp.AttributeValue(chromedp.ID("state"), "data-state"))
	if err != nil {
		t.Fatal(err)
	}
	page, err := chromedp.Run(tctx, chromedp.Text(chromedp.CSS("body")))
	if err != nil {
		t.Fatal(err)
	}
	url, err := chromedp.Run(tctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(url, "/track/"+code) || state.Value != "reported" || !strings.Contains(page, "消防通道被电动车堵住") || !strings.Contains(page, "已收到") {
		t.Fatalf("status page %s, state %q:\n%.600s", url, state.Value, page)
	}
	// Going back shows the receipt, not the form refilled for a second report.
	if err := chromedp.Do(tctx, chromedp.NavigateBack()); err != nil {
		t.Fatal(err)
	}
	var back string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		back, _ = chromedp.Run(tctx, chromedp.Evaluate[string](`(function () {
			var s = document.getElementById('success'), f = document.getElementById('report-form');
			return (s && !s.hidden ? 'receipt ' + document.getElementById('receipt').textContent : 'no receipt') + '|' + (f && !f.hidden ? 'form' : 'no form');
		})()`))
		if strings.HasPrefix(back, "receipt "+receipt) {
			break
		}
	}
	if back != "receipt "+receipt+"|no form" {
		t.Errorf("after going back: %q", back)
	}
}
