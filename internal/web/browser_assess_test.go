package web_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"chuangwen/internal/testcity"
)

// TestBrowserAssessPhone drives the assessment's loop in headless
// Chromium, one browser per person: the inspector, on a phone 360 px
// wide, marks 道路干净 (A1.1) at 河坊街 (S02, unit B's) as 不合格 with a
// note and a photo and sends it; unit B's handler finds the case it
// raised in the unit's queue; the administrator sees the points lost on
// the round's page and follows 谁丢分 to the ledger, which names unit B
// and leads back to the case and its photo.
func TestBrowserAssessPhone(t *testing.T) {
	t.Parallel()
	chromium(t) // skips (or fails in CI) before the city is built
	start := time.Now()
	f := newAssessFixture(t, testcity.SQLite(t))
	photo := filepath.Join(t.TempDir(), "road.jpg")
	if err := os.WriteFile(photo, jpegPhoto(t, 5), 0o600); err != nil {
		t.Fatal(err)
	}
	type step = chromedp.Action[chromedp.Void]
	// One Chromium for the test; each person gets a browser context of
	// their own in it (own cookies, own IndexedDB), as a browser of their
	// own would.
	bctx := startBrowser(t)
	// browser logs user in, in a browser context of its own, on a phone
	// when phone is set, and runs steps; it returns the tab for more.
	browser := func(user string, phone bool, steps ...step) context.Context {
		t.Helper()
		began := time.Now()
		ctx, cancel := chromedp.NewContext(bctx, chromedp.WithNewBrowserContext())
		t.Cleanup(cancel)
		if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
			t.Fatal(err)
		}
		var all []step
		if phone {
			all = append(all, chromedp.EmulateViewport(360, 780, chromedp.EmulateScale(2), chromedp.EmulateMobile))
		}
		all = append(all, signIn(f.fixture, user))
		tctx, cancel2 := context.WithTimeout(ctx, 30*time.Second)
		defer cancel2()
		for i, s := range append(all, steps...) {
			if err := chromedp.Do(tctx, s); err != nil {
				loc, _ := chromedp.Run(ctx, chromedp.Location())
				body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText.slice(0, 600) : ''`))
				t.Fatalf("%s, step %d of %d: %v; at %s: %s", user, i+1, len(all)+len(steps), err, loc, body)
			}
		}
		t.Logf("%s: %v", user, time.Since(began).Round(time.Millisecond))
		return ctx
	}
	// waitFor polls a JavaScript expression until it is truthy (up to
	// 10 s) and returns its value as text.
	waitFor := func(ctx context.Context, what, expr string) string {
		t.Helper()
		tctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		v, err := chromedp.Run(tctx, chromedp.Poll[string](expr, chromedp.WithPollingTimeout(10*time.Second), chromedp.WithPollingInterval(50*time.Millisecond)))
		if err != nil {
			body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText.slice(0, 800) : ''`))
			t.Fatalf("%s: %v; page: %s", what, err, body)
		}
		return v
	}
	run := func(ctx context.Context, what string, steps ...step) {
		t.Helper()
		tctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		if err := chromedp.Do(tctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}

	// The inspector, on the phone.
	item := fmt.Sprintf(`form.obs[data-item="%s|S02|A1.1"]`, f.round)
	status := `document.querySelector('` + item + ` .status').textContent`
	insp := browser("inspector", true,
		chromedp.Navigate(f.url+"/inspect"),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/inspect/`+f.round+`/S02"]`)),
		chromedp.Click(chromedp.CSS(`a[href="/inspect/`+f.round+`/S02"]`)),
		chromedp.WaitVisible(chromedp.CSS(item)),
		chromedp.Click(chromedp.CSS(item+` label.res.fail`)),
		// inspect.js marks a failing item once it has taken over the
		// item's form (before that, a tap on 提交 posts the plain form).
		chromedp.WaitReady(chromedp.CSS(item+`.is-fail`)),
		chromedp.SendKeys(chromedp.CSS(item+` textarea[name=note]`), "路面有成堆垃圾未清扫"),
		chromedp.SetUploadFiles(chromedp.CSS(item+` input[type=file]`), []string{photo}, chromedp.NodeReady),
		chromedp.Click(chromedp.CSS(item+` button[type=submit]`)),
	)
	// The page fits the phone: nothing wider than the screen.
	if w, err := chromedp.Run(insp, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); err != nil || w > 360 {
		t.Errorf("the site's page is %d px wide on a 360 px phone (%v)", w, err)
	}
	// Sent: the status names the case, and no draft waits.
	sent := waitFor(insp, "the observation is sent", `(`+status+`.indexOf('已提交') >= 0 && `+status+`.indexOf('案件') >= 0) ? `+status+` : ''`)
	no := strings.TrimSpace(sent[strings.LastIndex(sent, "案件")+len("案件"):])
	if !strings.HasPrefix(no, "20") {
		t.Fatalf("no case number in %q", sent)
	}
	waitFor(insp, "no draft left", `document.getElementById('pending').hidden ? 'yes' : ''`)
	// After a reload the page shows it recorded, with the case.
	run(insp, "reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(item)))
	recorded := waitFor(insp, "recorded after reload", status)
	if !strings.Contains(recorded, "已记录") || !strings.Contains(recorded, "不合格") || !strings.Contains(recorded, no) {
		t.Errorf("after reload the item says %q, want 已记录 不合格 and case %s", recorded, no)
	}
	caseHref := waitFor(insp, "the case link", `(function () { var a = document.querySelector('`+item+` .status a'); return a ? a.getAttribute('href') : ''; })()`)
	caseID, err := strconv.ParseInt(strings.TrimPrefix(caseHref, "/cases/"), 10, 64)
	if err != nil {
		t.Fatalf("case link %q", caseHref)
	}
	// What the server holds: one observation, its case dispatched to unit
	// B with the photo and the note.
	if n := f.count("assess_observations"); n != 1 {
		t.Errorf("%d observations stored, want 1", n)
	}
	var leadUnit int64
	var desc string
	var photos int
	if err := f.db.Reader().QueryRow(context.Background(), `SELECT lead_unit_id, description, (SELECT COUNT(*) FROM photos p WHERE p.case_id = c.id) FROM cases c WHERE c.id = ? AND c.no = ?`, caseID, no).Scan(&leadUnit, &desc, &photos); err != nil {
		t.Fatalf("case %d %s: %v", caseID, no, err)
	}
	if leadUnit != f.unitB.ID || photos != 1 || !strings.Contains(desc, "路面有成堆垃圾未清扫") {
		t.Errorf("case %s: lead unit %d (B is %d), %d photos, %q", no, leadUnit, f.unitB.ID, photos, desc)
	}

	// Unit B's handler finds it in the unit's queue; unit A's does not.
	hB := browser("handlerB", false, chromedp.Navigate(f.url+"/cases"), chromedp.WaitVisible(chromedp.ID("cases")))
	queue, err := chromedp.Run(hB, chromedp.Text(chromedp.ID("cases")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(queue, no) || !strings.Contains(queue, "河坊街") {
		t.Errorf("unit B's queue lacks case %s:\n%s", no, queue)
	}
	if res := f.login("handlerA").do("GET", "/cases", nil, ""); res.StatusCode != 200 || strings.Contains(res.body, no) {
		t.Errorf("unit A's queue (%d) shows unit B's case %s", res.StatusCode, no)
	}

	// The administrator: the round's scores show the loss, 谁丢分 leads to
	// the ledger naming unit B, the case and its photo.
	adm := browser("admin", false, chromedp.Navigate(f.url+"/assess/rounds/"+f.round), chromedp.WaitVisible(chromedp.ID("scores")))
	type row struct {
		Score, Max, Link string
	}
	a11, err := chromedp.Run(adm, chromedp.Evaluate[row](`(function () {
		var tr = Array.prototype.find.call(document.querySelectorAll('#scores tbody tr'), function (tr) {
			var c = tr.querySelector('td'); return c && c.textContent.trim() === 'A1.1';
		});
		if (!tr) return {Score: '', Max: '', Link: ''};
		var td = tr.querySelectorAll('td'), a = tr.querySelector('a[href*="standard=A1.1"]');
		return {Score: td[2].textContent.trim(), Max: td[3].textContent.trim(), Link: a ? a.textContent.trim() : ''};
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	score, err1 := strconv.ParseFloat(a11.Score, 64)
	maxPts, err2 := strconv.ParseFloat(a11.Max, 64)
	// A1.1 was observed at S02 only, and failed there: 0 of 4.
	if err1 != nil || err2 != nil || maxPts != 4 || score != 0 || a11.Link != "谁丢分" {
		t.Errorf("A1.1 on the round's page: %+v, want 0 of 4 with 谁丢分", a11)
	}
	lost, err := chromedp.Run(adm, chromedp.Text(chromedp.ID("total-lost")))
	if v, e := strconv.ParseFloat(strings.TrimSpace(lost), 64); err != nil || e != nil || v < 4 {
		t.Errorf("total lost %q, want at least 4 (%v)", lost, err)
	}
	units, err := chromedp.Run(adm, chromedp.Text(chromedp.ID("ledger-units")))
	if err != nil || !strings.Contains(units, "园林局") {
		t.Errorf("the ledger's units lack 园林局 (unit B): %q %v", units, err)
	}
	run(adm, "who lost", chromedp.Click(chromedp.CSS(`#scores a[href*="standard=A1.1"]`)), chromedp.WaitVisible(chromedp.ID("entries")))
	entries, err := chromedp.Run(adm, chromedp.Text(chromedp.ID("entries")))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"A1.1", "园林局", "S02", "河坊街", "不合格", "路面有成堆垃圾未清扫", no} {
		if !strings.Contains(entries, w) {
			t.Errorf("the ledger lacks %q:\n%s", w, entries)
		}
	}
	links, err := chromedp.Run(adm, chromedp.Evaluate[[]string](`Array.prototype.map.call(document.querySelectorAll('#entries a'), function (a) { return a.getAttribute('href'); })`))
	if err != nil {
		t.Fatal(err)
	}
	var toCase, toPhoto int
	for _, h := range links {
		switch {
		case h == fmt.Sprintf("/cases/%d", caseID):
			toCase++
		case strings.HasPrefix(h, fmt.Sprintf("/cases/%d/photos/", caseID)):
			toPhoto++
		}
	}
	if toCase != 1 || toPhoto != 1 {
		t.Errorf("the ledger links the case %d time(s) and its photo %d time(s), want once each: %v", toCase, toPhoto, links)
	}
	t.Logf("whole test: %v", time.Since(start).Round(time.Millisecond))
}
