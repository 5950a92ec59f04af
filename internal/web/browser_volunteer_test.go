package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"chuangwen/internal/testcity"
	"chuangwen/internal/volunteer"
)

// TestBrowserVolunteerPhone: a volunteer on a 390 px phone registers,
// is approved by the office, signs in, signs up for an activity under
// way, and checks in and out on site by the phone's position (the
// browser's, set through the DevTools protocol): near the place it
// works, 2 km away the page says how far. Once the organiser confirms
// 90 minutes, the volunteer's page shows 1.5 hours. No page scrolls
// sideways.
func TestBrowserVolunteerPhone(t *testing.T) {
	t.Parallel()
	chromium(t)
	f := newFixture(t, testcity.SQLite(t))
	ctx := context.Background()
	// The server runs on the wall clock; skew moves the service's clock
	// past the activity's end for the organiser's confirmation only. It is
	// set before any request and read atomically, since the server reads
	// the clock while the test moves it.
	var skew atomic.Int64
	f.vol.Now = func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	u, err := f.orgs.UserByName(ctx, "admin")
	must(err)
	admin, err := f.orgs.ActorFor(ctx, u)
	must(err)
	street, err := f.orgs.Region(ctx, f.comm.ParentID)
	must(err)
	node, err := f.vol.CreateNode(ctx, admin, street.ID, "")
	must(err)
	team, err := f.vol.CreateTeam(ctx, admin, volunteer.NewTeam{Name: "清波文明劝导队", NodeID: node.ID})
	must(err)
	const placeLat, placeLon = 25.0, 102.7
	start := time.Now()
	act, err := f.vol.CreateActivity(ctx, admin, volunteer.NewActivity{TeamID: team.ID, Kind: "traffic", Title: "路口文明交通劝导",
		Address: "清波街道南山路口", Lat: placeLat, Lon: placeLon, StartsAt: start.Add(-10 * time.Minute), EndsAt: start.Add(2 * time.Hour),
		Capacity: 20, RadiusM: 300})
	must(err)

	const (
		phone    = "13700000001"
		password = "Volunteer#2026"
		width    = 390
	)
	id17 := "33010219900307123"
	idNumber := id17 + string(volunteer.IDCheckChar(id17))

	bctx := startBrowser(t)
	tctx, cancel := context.WithTimeout(bctx, 60*time.Second)
	defer cancel()
	run := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(tctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	// flat fails when the page is wider than the phone.
	flat := func(page string) {
		t.Helper()
		got, err := chromedp.Run(tctx, chromedp.Evaluate[string](`(function () {
			var de = document.documentElement, wide = [], W = `+strconv.Itoa(width)+`;
			if (de.scrollWidth > W || de.scrollWidth > window.innerWidth) {
				document.querySelectorAll('body *').forEach(function (el) {
					var r = el.getBoundingClientRect();
					if (r.right > W + 1 && el.offsetParent !== null) wide.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className && el.className.baseVal === undefined ? '.' + el.className : ''));
				});
			}
			return de.scrollWidth + '|' + window.innerWidth + '|' + wide.slice(0, 4).join(' ');
		})()`))
		if err != nil {
			t.Fatalf("%s: %v", page, err)
		}
		parts := strings.SplitN(got, "|", 3)
		sw, _ := strconv.Atoi(parts[0])
		iw, _ := strconv.Atoi(parts[1])
		if sw > width || sw > iw {
			t.Errorf("%s scrolls sideways at %d px: %d px wide (window %d px); widest: %s", page, width, sw, iw, parts[2])
		}
	}
	// submit clicks sel and waits (up to 10 s) for the page the submit
	// loads, once loaded, to show one of shows (CSS selectors); it returns
	// the one shown and its text. The page before is marked, so that a
	// check never reads it.
	submit := func(sel string, shows ...string) (string, string) {
		t.Helper()
		run("before "+sel, chromedp.Evaluate[chromedp.Void](`document.documentElement.dataset.stale = '1'`), chromedp.Click(chromedp.CSS(sel)))
		list, _ := json.Marshal(shows)
		expr := `(function () {
			if (document.documentElement.dataset.stale || document.readyState !== 'complete') return '';
			var sels = ` + string(list) + `;
			for (var i = 0; i < sels.length; i++) {
				var el = document.querySelector(sels[i]);
				if (el) return sels[i] + '\n' + el.textContent.trim();
			}
			return '';
		})()`
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			// errors while the page navigates are expected: retry
			if got, err := chromedp.Run(tctx, chromedp.Evaluate[string](expr)); err == nil && got != "" {
				shown, text, _ := strings.Cut(got, "\n")
				return shown, text
			}
		}
		body, _ := chromedp.Run(tctx, chromedp.Text(chromedp.CSS("body")))
		t.Fatalf("after %s: none of %v shows; page: %.400s", sel, shows, body)
		return "", ""
	}
	// at puts the phone's position north of the activity's place.
	at := func(metres float64) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			lat, lon, acc := placeLat+metres/111_195, placeLon, 10.0
			_, err := cdp.Call(ctx, tg, emulation.SetGeolocationOverride, emulation.SetGeolocationOverrideParams{Latitude: &lat, Longitude: &lon, Accuracy: &acc})
			return err
		})
	}

	// 1. register on the phone
	run("register page",
		chromedp.EmulateViewport(width, 844, chromedp.EmulateScale(3), chromedp.EmulateMobile),
		chromedp.Navigate(f.url+"/v/register"),
		chromedp.WaitVisible(chromedp.ID("vol-register")))
	flat("/v/register")
	run("register form",
		chromedp.SendKeys(chromedp.ID("name"), "李志愿"),
		chromedp.SendKeys(chromedp.ID("phone"), phone),
		chromedp.SendKeys(chromedp.ID("id_number"), idNumber),
		chromedp.SetValue(chromedp.ID("team"), strconv.FormatInt(team.ID, 10)),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.ID("consent")))
	if shown, text := submit("#register", "#registered", "#error"); shown != "#registered" {
		t.Fatalf("registration: %s %q, want #registered", shown, text)
	}

	// 2. the office approves
	var volID int64
	must(f.db.Reader().QueryRow(ctx, `SELECT id FROM volunteers WHERE phone = ?`, phone).Scan(&volID))
	must(f.vol.Decide(ctx, admin, volID, true))

	// 3. sign in, sign up for the activity
	run("login page",
		chromedp.Navigate(f.url+"/v/login"),
		chromedp.WaitVisible(chromedp.ID("vol-login")),
		chromedp.SendKeys(chromedp.ID("phone"), phone),
		chromedp.SendKeys(chromedp.ID("password"), password))
	if shown, text := submit("#login", "#my-hours", "#error"); shown != "#my-hours" {
		t.Fatalf("login: %s %q, want the volunteer's page", shown, text)
	}
	card := fmt.Sprintf("#a%d", act.ID)
	run("activities", chromedp.Navigate(f.url+"/v/activities"), chromedp.WaitVisible(chromedp.CSS(card+" .signup")))
	flat("/v/activities")
	shown, text := submit(card+" .signup", card+" .ok-text", "#error")
	if shown == "#error" {
		t.Fatalf("sign-up: %q", text)
	}
	// signed up to an activity under way: no withdrawing, check in on site
	got, err := chromedp.Run(tctx, chromedp.Text(chromedp.CSS(card)))
	if err != nil || !strings.Contains(got, "已报名") || !strings.Contains(got, "现场扫码签到") || strings.Contains(got, "取消报名") {
		t.Errorf("activity card after signing up: %q (%v), want 已报名, the on-site hint and no withdrawing", got, err)
	}

	// 4. check in and out on site by the phone's position
	a, err := f.vol.Activity(ctx, admin, act.ID)
	must(err)
	_, err = chromedp.CallBrowser(tctx, browser.SetPermission, browser.SetPermissionParams{Permission: &browser.PermissionDescriptor{Name: "geolocation"},
		Setting: browser.PermissionSettingGranted, Origin: f.url, BrowserContextID: chromedp.FromContext(tctx).BrowserContextID})
	must(err)
	run("check-in page", at(50), chromedp.Navigate(f.url+"/v/checkin/"+a.CheckinToken), chromedp.WaitVisible(chromedp.ID("checkin-form")))
	flat("/v/checkin/{token}")
	for _, step := range []struct {
		metres      float64
		button      string
		shown, want string
	}{
		{50, "#checkin", "#done", "签到成功"},
		{2000, "#checkout", "#error", "超出 300 米"},
		{50, "#checkout", "#done", "签退成功"},
	} {
		run("position", at(step.metres))
		shown, text := submit(step.button, "#done", "#error")
		if shown != step.shown || !strings.Contains(text, step.want) {
			t.Fatalf("%s at %g m: %s %q, want %s with %q", step.button, step.metres, shown, text, step.shown, step.want)
		}
	}
	var recID int64
	var inM, outM int
	must(f.db.Reader().QueryRow(ctx, `SELECT id, checkin_m, checkout_m FROM service_records WHERE activity_id = ? AND volunteer_id = ?`, act.ID, volID).Scan(&recID, &inM, &outM))
	if inM < 40 || inM > 60 || outM < 40 || outM > 60 {
		t.Errorf("recorded distances %d m in, %d m out; want about 50", inM, outM)
	}

	// 5. once the activity has ended, the organiser confirms 90 minutes;
	// the volunteer's page shows 1.5 hours
	skew.Store(int64(time.Until(act.EndsAt) + 10*time.Minute))
	err = f.vol.Confirm(ctx, admin, recID, 90, "现场核实")
	skew.Store(0)
	must(err)
	run("home", chromedp.Navigate(f.url+"/v"), chromedp.WaitVisible(chromedp.ID("my-hours")))
	flat("/v")
	hours, err := chromedp.Run(tctx, chromedp.Text(chromedp.ID("my-hours")))
	must(err)
	records, err := chromedp.Run(tctx, chromedp.Text(chromedp.ID("records")))
	must(err)
	if strings.TrimSpace(hours) != "1.5" {
		t.Errorf("#my-hours = %q, want 1.5", hours)
	}
	if !strings.Contains(records, "已确认 90 分钟") {
		t.Errorf("service records lack the confirmation: %q", records)
	}
}
