package web_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"chuangwen/internal/org"
	"chuangwen/internal/testcity"
)

// TestBrowserRevisitRelapsePhone: a grid worker on a 360 px phone opens
// the week's revisits, finds the problem back, takes a photo and sends
// the relapse; the case reopens, waiting for the dispatcher, with the
// note as the instruction and the photo as evidence. No page scrolls
// sideways.
func TestBrowserRevisitRelapsePhone(t *testing.T) {
	t.Parallel()
	chromium(t)
	f := newFixture(t, testcity.SQLite(t))
	ctx := context.Background()
	acc, hA, insp := f.login("acceptor"), f.login("handlerA"), f.login("inspector")
	c := f.closeCase(t, acc, hA, insp)
	if d, err := f.flow.DrawRevisits(ctx, org.System, time.Now().AddDate(0, 0, 7)); err != nil || d.Drawn != 1 {
		t.Fatalf("draw %+v %v", d, err)
	}
	photo := filepath.Join(t.TempDir(), "relapse.png")
	if err := os.WriteFile(photo, pngBytes(t), 0o600); err != nil {
		t.Fatal(err)
	}

	bctx := startBrowser(t)
	bc, cancel := chromedp.NewContext(bctx, chromedp.WithNewBrowserContext())
	defer cancel()
	tctx, cancel2 := context.WithTimeout(bc, 60*time.Second)
	defer cancel2()
	width := `document.documentElement.scrollWidth`
	fail := func(err error) {
		t.Helper()
		body, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`document.body ? document.body.innerText.slice(0, 800) : ''`))
		t.Fatalf("%v; page: %s", err, body)
	}
	err := chromedp.Do(tctx,
		chromedp.EmulateViewport(360, 740, chromedp.EmulateScale(2), chromedp.EmulateMobile),
		signIn(f, "grid"),
		chromedp.Navigate(f.url+"/revisits"),
		chromedp.WaitVisible(chromedp.CSS(`#revisits li.revisit a`)))
	if err != nil {
		fail(err)
	}
	w1, err := chromedp.Run(tctx, chromedp.Evaluate[int](width))
	if err == nil {
		err = chromedp.Do(tctx, chromedp.Click(chromedp.CSS(`#revisits li.revisit a`)), chromedp.WaitVisible(chromedp.ID("revisit-form")))
	}
	if err != nil {
		fail(err)
	}
	w2, err := chromedp.Run(tctx, chromedp.Evaluate[int](width))
	if err != nil {
		fail(err)
	}
	err = chromedp.Do(tctx,
		chromedp.Click(chromedp.CSS(`input[name=result][value=fail]`)),
		chromedp.SendKeys(chromedp.CSS(`textarea[name=note]`), "回访发现垃圾又堆起来了"),
		chromedp.SetUploadFiles(chromedp.CSS(`input[type=file][name=photo]`), []string{photo}, chromedp.NodeReady),
		chromedp.Click(chromedp.CSS(`#revisit-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("instruction")),
	)
	if err != nil {
		fail(err)
	}
	if w1 > 360 || w2 > 360 {
		t.Errorf("pages scroll sideways at 360 px: list %d, revisit %d", w1, w2)
	}
	got, err := chromedp.Run(tctx, chromedp.Evaluate[string](`location.pathname + '|' + document.getElementById('case-state').dataset.state + '|' + document.getElementById('instruction').textContent`))
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("/cases/%d|accepted|", c.ID); !strings.HasPrefix(got, want) || !strings.Contains(got, "回访发现垃圾又堆起来了") {
		t.Fatalf("after the relapse: %q", got)
	}
	var evidence int
	if err := f.db.Reader().QueryRow(ctx, `SELECT count(*) FROM photos WHERE case_id = ? AND kind = 'evidence'`, c.ID).Scan(&evidence); err != nil || evidence != 1 {
		t.Errorf("%d evidence photos (%v)", evidence, err)
	}
}
