package web_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"chuangwen/internal/testcity"
)

// TestBrowserRefusedFormKeepsText: a merge into a case that does not
// exist is refused; the page comes back with the message, the merge form
// open and everything typed still in it.
func TestBrowserRefusedFormKeepsText(t *testing.T) {
	t.Parallel()
	chromium(t)
	f := newFixture(t, testcity.SQLite(t))
	c := f.report(f.login("acceptor"))
	ctx := startBrowser(t)
	tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	const opinion = "与早前上报的问题相同，合并处理。"
	err := chromedp.Do(tctx,
		signIn(f, "acceptor"),
		chromedp.Navigate(fmt.Sprintf("%s/cases/%d", f.url, c.ID)),
		chromedp.Click(chromedp.CSS("#act-merge summary")),
		chromedp.SendKeys(chromedp.CSS(`#act-merge input[name=merge_into_no]`), "2099-999999"),
		chromedp.SendKeys(chromedp.CSS(`#act-merge textarea[name=opinion]`), opinion),
		chromedp.Click(chromedp.ID("do-merge")),
		chromedp.WaitVisible(chromedp.ID("error")))
	if err != nil {
		t.Fatal(err)
	}
	got, err := chromedp.Run(tctx, chromedp.Evaluate[string](`[document.querySelector('#act-merge').open, document.querySelector('#act-merge input[name=merge_into_no]').value,
		document.querySelector('#act-merge textarea[name=opinion]').value, document.getElementById('error').innerText].join('|')`))
	if err != nil {
		t.Fatal(err)
	}
	if want := "true|2099-999999|" + opinion + "|请填写有效的被合并案件编号"; got != want {
		t.Errorf("after the refusal: %q, want %q", got, want)
	}
}

// TestBrowserAdminFormKeepsText: a refused administration form (a user
// whose name is taken) comes back with what was typed, but never the
// password.
func TestBrowserAdminFormKeepsText(t *testing.T) {
	t.Parallel()
	chromium(t)
	f := newFixture(t, testcity.SQLite(t))
	ctx := startBrowser(t)
	tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	form := `form[action="/admin/users"] `
	err := chromedp.Do(tctx,
		signIn(f, "admin"),
		chromedp.Navigate(f.url+"/admin/users"),
		chromedp.SendKeys(chromedp.CSS(form+`input[name=username]`), "acceptor"),
		chromedp.SendKeys(chromedp.CSS(form+`input[name=display_name]`), "新来的受理员"),
		chromedp.SendKeys(chromedp.CSS(form+`input[name=password]`), "Secret-pass-2026"),
		chromedp.SetValue(chromedp.CSS(form+`select[name=role]`), "inspector"),
		chromedp.Click(chromedp.CSS(form+`button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("error")))
	if err != nil {
		t.Fatal(err)
	}
	got, err := chromedp.Run(tctx, chromedp.Evaluate[string](`['username', 'display_name', 'password', 'role'].map(function (n) {
		return document.querySelector('form[action="/admin/users"] [name=' + n + ']').value; }).join('|')`))
	if err != nil {
		t.Fatal(err)
	}
	if want := "acceptor|新来的受理员||inspector"; got != want {
		t.Errorf("after the refusal: %q, want %q", got, want)
	}
	// a page that answers without an error forgets the copy
	left, err := chromedp.Run(tctx, chromedp.Evaluate[int](`(function () { var n = 0; for (var i = 0; i < sessionStorage.length; i++) if (sessionStorage.key(i).indexOf('chuangwen.form:') === 0) n++; return n; })()`))
	if err != nil || left != 0 {
		t.Errorf("kept copies after restoring: %d %v", left, err)
	}
}

// TestBrowserBackAfterSubmit: going back after filing a case shows the
// case, not the form refilled for a second, duplicate filing.
func TestBrowserBackAfterSubmit(t *testing.T) {
	t.Parallel()
	chromium(t)
	f := newFixture(t, testcity.SQLite(t))
	ctx := startBrowser(t)
	tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	err := chromedp.Do(tctx,
		signIn(f, "acceptor"),
		chromedp.Navigate(f.url+"/cases/new"),
		chromedp.WaitVisible(chromedp.ID("submit-case")),
		chromedp.SetValue(chromedp.CSS(`#new-case select[name=category_id]`), fmt.Sprint(f.category.ID)),
		chromedp.SendKeys(chromedp.CSS(`#new-case textarea[name=description]`), "热线来电：小区门口垃圾堆放"),
		chromedp.SetValue(chromedp.CSS(`#new-case select[name=region_id]`), fmt.Sprint(f.comm.ID)),
		chromedp.Click(chromedp.ID("submit-case")),
		chromedp.WaitVisible(chromedp.ID("case-state")))
	if err != nil {
		t.Fatal(err)
	}
	caseURL, err := chromedp.Run(tctx, chromedp.Evaluate[string](`location.pathname`))
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(tctx, chromedp.NavigateBack()); err != nil {
		t.Fatal(err)
	}
	var where string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if where, err = chromedp.Run(tctx, chromedp.Evaluate[string](`location.pathname + '|' + !!document.getElementById('case-state')`)); err == nil && where == caseURL+"|true" {
			break
		}
	}
	if where != caseURL+"|true" {
		t.Errorf("after going back: %q, want the filed case %s", where, caseURL)
	}
}
