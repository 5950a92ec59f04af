package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"chuangwen/internal/testcity"
)

// TestBrowserBatchDispatch ticks the cases waiting for dispatch in
// headless Chromium and dispatches them in one go: the two the
// responsibility table covers go to its unit, the one it does not is
// refused alone, and the page says which.
func TestBrowserBatchDispatch(t *testing.T) {
	t.Parallel()
	chromium(t)
	f := newFixture(t, testcity.SQLite(t))
	acc := f.login("acceptor")
	if res := f.login("admin").json("POST", "/api/v1/responsibilities", map[string]any{"category_id": f.category.ID, "region_id": f.district.ID,
		"lead_unit_id": f.unitB.ID}); res.StatusCode != 200 {
		t.Fatalf("responsibility: %d %s", res.StatusCode, res.body)
	}
	var covered []int64
	for range 2 {
		c := f.report(acc)
		acc.act(t, c.ID, map[string]any{"action": "accept"}, 200)
		covered = append(covered, c.ID)
	}
	// a case of another category, not placed in any cell: nothing to suggest
	var cats []struct {
		ID       int64 `json:"id"`
		ParentID int64 `json:"parent_id"`
	}
	acc.json("GET", "/api/v1/categories", nil).json(t, &cats)
	other := int64(0)
	for _, c := range cats {
		if c.ParentID != 0 && c.ID != f.category.ID {
			other = c.ID
		}
	}
	res := acc.json("POST", "/api/v1/cases", map[string]any{"category_id": other, "description": "无人负责的问题", "region_id": f.comm.ID, "source": "hotline"})
	var lone caseJSON
	res.json(t, &lone)
	acc.act(t, lone.ID, map[string]any{"action": "accept"}, 200)

	ctx := startBrowser(t)
	tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	err := chromedp.Do(tctx,
		signIn(f, "acceptor"),
		chromedp.Navigate(f.url+"/cases?queue=to_dispatch"),
		chromedp.WaitVisible(chromedp.ID("batch-apply")),
		chromedp.Evaluate[chromedp.Void](`document.querySelectorAll('#cases input[name=ids]').forEach(function (b) { b.checked = true; })`),
		chromedp.SetValue(chromedp.ID("batch-action"), "dispatch"),
		chromedp.Click(chromedp.ID("batch-apply")),
		chromedp.WaitVisible(chromedp.ID("batch-summary")))
	if err != nil {
		t.Fatal(err)
	}
	got, err := chromedp.Run(tctx, chromedp.Evaluate[string](`document.getElementById('batch-summary').innerText + '|' +
		Array.from(document.querySelectorAll('#batch-results tr.failed td a')).map(function (a) { return a.innerText; }).join(',')`))
	if err != nil {
		t.Fatal(err)
	}
	if want := "成功 2 件，未执行 1 件|" + lone.No; got != want {
		t.Errorf("results: %q, want %q", got, want)
	}
	for _, id := range covered {
		var c caseJSON
		acc.json("GET", fmt.Sprintf("/api/v1/cases/%d", id), nil).json(t, &c)
		if c.State != "dispatched" {
			t.Errorf("case %d: %s, want dispatched", id, c.State)
		}
	}
	if body := acc.do("GET", fmt.Sprintf("/cases/%d", lone.ID), nil, "").body; !strings.Contains(body, `data-state="accepted"`) {
		t.Errorf("the refused case moved")
	}
}
