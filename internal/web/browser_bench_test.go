package web_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"chuangwen/internal/testcity"
)

// BenchmarkPublicPageLoad loads the resident's reporting page in headless
// Chromium on a phone over a throttled 400 kbit/s link (300 ms latency),
// with an empty cache each time, and reports what a resident meets on
// first load: the bytes transferred (compressed, headers included: every
// script, style, the configuration and the grid cells; no map tiles are
// configured) and the time until the form can be used (the category list
// filled by the script) and until the map shows the grid.
//
//	go test -run '^$' -bench PublicPageLoad -benchtime 3x ./internal/web
func BenchmarkPublicPageLoad(b *testing.B) {
	chromium(b)
	f := newFixture(b, testcity.SQLite(b))
	bctx := startBrowser(b)
	var kb, ready, mapped float64
	for i := 0; i < b.N; i++ {
		ctx, cancel := chromedp.NewContext(bctx, chromedp.WithNewBrowserContext())
		tctx, cancel2 := context.WithTimeout(ctx, 120*time.Second)
		err := chromedp.Do(tctx,
			chromedp.EmulateViewport(360, 640, chromedp.EmulateScale(2), chromedp.EmulateMobile),
			chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				if _, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{}); err != nil {
					return err
				}
				if _, err := cdp.Call(ctx, tg, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true}); err != nil {
					return err
				}
				_, err := cdp.Call(ctx, tg, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
					MatchedNetworkConditions: []*network.Conditions{{Latency: 300, DownloadThroughput: 400_000 / 8, UploadThroughput: 400_000 / 8}}})
				return err
			}))
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if err := chromedp.Do(tctx, chromedp.Navigate(f.url+"/report")); err != nil {
			b.Fatal(err)
		}
		wait := func(cond string) time.Duration {
			for time.Since(start) < 100*time.Second {
				if ok, err := chromedp.Run(tctx, chromedp.Evaluate[bool](cond)); err == nil && ok {
					return time.Since(start)
				}
				time.Sleep(20 * time.Millisecond)
			}
			b.Fatalf("never: %s", cond)
			return 0
		}
		r := wait(fmt.Sprintf(`!!document.querySelector('#category option[value="%d"]')`, f.category.ID))
		m := wait(`document.querySelectorAll('#map path.cw-cell').length > 0`)
		bytes, err := chromedp.Run(tctx, chromedp.Evaluate[float64](`performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))
			.reduce(function (s, e) { return s + (e.transferSize || 0); }, 0)`))
		if err != nil {
			b.Fatal(err)
		}
		kb += bytes / 1024
		ready += float64(r.Milliseconds())
		mapped += float64(m.Milliseconds())
		b.Logf("run %d: %.1f KB, form usable after %d ms, grid drawn after %d ms", i+1, bytes/1024, r.Milliseconds(), m.Milliseconds())
		cancel2()
		cancel()
	}
	n := float64(b.N)
	b.ReportMetric(kb/n, "KB/load")
	b.ReportMetric(ready/n, "ms-usable")
	b.ReportMetric(mapped/n, "ms-grid")
}
