package web_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"chuangwen/internal/testcity"
)

// chromium finds the browser; CI sets CHUANGWEN_REQUIRE_BROWSER=1 so that
// a missing browser fails the run instead of skipping the test.
func chromium(t testing.TB) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CHUANGWEN_REQUIRE_BROWSER") != "" {
		t.Fatal("no chromium on PATH and CHUANGWEN_REQUIRE_BROWSER is set")
	}
	t.Skip("no chromium on PATH (apt-get install chromium); CI installs it")
	return ""
}

// browser is the one headless Chromium that the package's browser tests
// share: starting one costs seconds of both cores, and there are more than
// a dozen tests. Each test works in browser contexts of its own (their own
// cookies and storage, like separate profiles), so sharing the process
// shares nothing the tests see.
var sharedChromium struct {
	once sync.Once
	ctx  context.Context // the browser's first tab; its first run started it
	err  error
	stop func()
}

// stopBrowser ends the shared browser, if one was started (TestMain).
func stopBrowser() {
	if sharedChromium.stop != nil {
		sharedChromium.stop()
	}
}

// startBrowser returns a tab of the shared headless Chromium in a browser
// context of the test's own, closed when the test ends. The browser itself
// is started by the first test that asks, without a timeout (a timeout on
// the run that starts it would stop it with it).
func startBrowser(t testing.TB) context.Context {
	t.Helper()
	path := chromium(t)
	sharedChromium.once.Do(func() {
		dir, err := os.MkdirTemp("", "chuangwen-browser-")
		if err != nil {
			sharedChromium.err = err
			return
		}
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.Headless, chromedp.DisableGPU,
			chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true),
			chromedp.UserDataDir(dir))
		actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancel := chromedp.NewContext(actx)
		sharedChromium.ctx = ctx
		sharedChromium.stop = func() { cancel(); cancelA(); os.RemoveAll(dir) }
		sharedChromium.err = chromedp.Do(ctx, chromedp.Navigate("about:blank"))
	})
	if sharedChromium.err != nil {
		t.Fatalf("starting the shared browser: %v", sharedChromium.err)
	}
	ctx, cancel := chromedp.NewContext(sharedChromium.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	return ctx
}

type browserSession struct{ ctx context.Context }

// TestBrowserClosedLoop drives the console in headless Chromium through
// the whole loop with three people: the acceptor accepts and dispatches,
// the unit handler reports rectification with a photo, the inspector
// verifies; the case ends closed with its full timeline.
func TestBrowserClosedLoop(t *testing.T) {
	t.Parallel()
	chromium(t)
	f := newFixture(t, testcity.SQLite(t))
	// The photo worker runs as in production: the page shows a photo once
	// its derived versions exist.
	wctx, stopWorker := context.WithCancel(context.Background())
	t.Cleanup(stopWorker)
	go f.flow.PhotoJobs.Run(wctx, "browser-test", time.Second)
	acc := f.login("acceptor")
	c := f.report(acc)

	photo := filepath.Join(t.TempDir(), "after.png")
	if err := os.WriteFile(photo, pngBytes(t), 0o600); err != nil {
		t.Fatal(err)
	}
	caseURL := fmt.Sprintf("%s/cases/%d", f.url, c.ID)
	type step = chromedp.Action[chromedp.Void]

	// each person in a browser of their own (own profile, own cookies)
	session := func(user string, steps ...step) *browserSession {
		t.Helper()
		ctx := startBrowser(t)
		login := []step{
			signIn(f, user),
			chromedp.Navigate(caseURL),
			chromedp.WaitVisible(chromedp.ID("case-state")),
		}
		tctx, cancel2 := context.WithTimeout(ctx, 60*time.Second)
		defer cancel2()
		if err := chromedp.Do(tctx, append(login, steps...)...); err != nil {
			t.Fatalf("%s: %v", user, err)
		}
		return &browserSession{ctx: ctx}
	}
	// state waits (up to 10 s) for the case page to show the state, so a
	// check never reads the page that was there before a submit.
	state := func(want string) step {
		return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			expr := `(document.getElementById('case-state') || {dataset: {}}).dataset.state || ''`
			var got string
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
				// errors while the page navigates are expected: retry
				if v, err := chromedp.Evaluate[string](expr)(ctx, tg); err == nil {
					if got = v; got == want {
						return chromedp.Void{}, nil
					}
				}
			}
			body, _ := chromedp.Text(chromedp.CSS("main"))(ctx, tg)
			return chromedp.Void{}, fmt.Errorf("state %q, want %q; page: %.400s", got, want, body)
		}
	}
	// open an action's <details>, fill it in, submit (the next state check
	// waits for the resulting page)
	act := func(action string, fill ...step) step {
		steps := []step{chromedp.Click(chromedp.CSS("#act-" + action + " summary"))}
		steps = append(steps, fill...)
		steps = append(steps, chromedp.Click(chromedp.ID("do-"+action)))
		return chromedp.Steps(steps...)
	}

	session("acceptor",
		state("reported"),
		act("accept"),
		state("accepted"),
		act("dispatch", chromedp.SetValue(chromedp.ID("lead_unit_id"), fmt.Sprint(f.unitA.ID)),
			chromedp.SendKeys(chromedp.CSS("#act-dispatch textarea"), "请于时限内清理")),
		state("dispatched"),
	)
	session("handlerA",
		act("acknowledge"),
		state("in_progress"),
		act("feedback",
			chromedp.SetUploadFiles(chromedp.CSS("#act-feedback input[type=file]"), []string{photo}),
			chromedp.SendKeys(chromedp.CSS("#act-feedback textarea"), "垃圾已清运完毕")),
		state("verifying"),
	)
	insp := session("inspector",
		act("verify_pass", chromedp.SendKeys(chromedp.CSS("#act-verify_pass textarea"), "现场核查已整改到位")),
		state("closed"),
	)
	timeline, err := chromedp.Run(insp.ctx, chromedp.Text(chromedp.ID("timeline")))
	if err != nil {
		t.Fatal(err)
	}
	// The derived photo is ready within moments of the feedback; reload
	// until it shows (up to 10 s).
	var photos int
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		photos, err = chromedp.Run(insp.ctx, chromedp.Evaluate[int](`document.querySelectorAll('.photos img').length`))
		if err != nil {
			t.Fatal(err)
		}
		if photos == 1 {
			break
		}
		if err := chromedp.Do(insp.ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("case-state"))); err != nil {
			t.Fatal(err)
		}
	}
	for _, w := range []string{"上报", "立案", "派遣", "签收", "处理反馈", "核查通过", "垃圾已清运完毕", "现场核查已整改到位", "已结案"} {
		if !strings.Contains(timeline, w) {
			t.Errorf("timeline lacks %q:\n%s", w, timeline)
		}
	}
	if photos != 1 {
		t.Errorf("case page shows %d photos, want 1", photos)
	}
}

// signIn is the steps that sign a user in at the console, ending on the
// page the login lands on.
func signIn(f *fixture, user string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Navigate(f.url+"/login"),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), user),
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
		chromedp.Click(chromedp.ID("login")),
		chromedp.WaitVisible(chromedp.ID("whoami")),
	)
}
