package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"chuangwen/internal/org"
	"chuangwen/internal/testcity"
	"chuangwen/internal/web"
)

// TestTwoFactorOverHTTP: with administrators and acceptors required to use
// two factors, an acceptor without them is sent to enrol before anything
// else (pages redirect, the API answers 403); enrolment by QR secret and a
// code shows the recovery codes once; the next sign-in asks for the code
// on its own page (a wrong one keeps the page, a right one signs in and
// honours next=); a recovery code signs in once; the administrator resets
// it from the users page; other roles are not asked; the code form wants
// the challenge cookie and a same-origin post.
func TestTwoFactorOverHTTP(t *testing.T) {
	t.Parallel()
	base := newFixture(t, testcity.SQLite(t))
	f := base.withServer(func(s *web.Server) { s.TwoFactorRoles = []org.Role{org.RoleAdmin, org.RoleAcceptor} })

	acc := f.login("acceptor")
	if res := acc.do("GET", "/cases", nil, ""); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/account/2fa" {
		t.Fatalf("an acceptor without two factors opened /cases: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	if res := acc.do("GET", "/api/v1/cases", nil, ""); res.StatusCode != http.StatusForbidden || !strings.Contains(res.body, "双因素") {
		t.Errorf("the API before enrolment: %d %s", res.StatusCode, res.body)
	}
	// Other roles are not asked.
	if res := f.login("handlerA").do("GET", "/cases", nil, ""); res.StatusCode != http.StatusOK {
		t.Errorf("a handler was held up: %d", res.StatusCode)
	}
	page := acc.do("GET", "/account/2fa", nil, "")
	secret := regexp.MustCompile(`id="secret" class="data">([A-Z2-7]+)<`).FindStringSubmatch(page.body)
	if page.StatusCode != 200 || secret == nil || !strings.Contains(page.body, "<svg") {
		t.Fatalf("enrolment page: %d %.600s", page.StatusCode, page.body)
	}
	if cc := page.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("the page with the secret may be cached: Cache-Control %q", cc)
	}
	code := func(at time.Time) string {
		c, err := org.TOTP(secret[1], at)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if res := acc.form("POST", "/account/2fa/enable", url.Values{"code": {"000000"}}); res.StatusCode != http.StatusBadRequest || !strings.Contains(res.body, "验证码不正确") {
		t.Errorf("a wrong code: %d %.300s", res.StatusCode, res.body)
	}
	now := time.Now()
	res := acc.form("POST", "/account/2fa/enable", url.Values{"code": {code(now)}})
	recovery := regexp.MustCompile(`<li><code>([a-z2-7]{4}-[a-z2-7]{4})</code></li>`).FindAllStringSubmatch(res.body, -1)
	if res.StatusCode != 200 || len(recovery) != org.RecoveryCodes {
		t.Fatalf("enable: %d, %d recovery codes: %.400s", res.StatusCode, len(recovery), res.body)
	}
	if res := acc.do("GET", "/cases", nil, ""); res.StatusCode != http.StatusOK {
		t.Errorf("after enrolment /cases: %d", res.StatusCode)
	}
	if res := acc.do("GET", "/account/2fa", nil, ""); strings.Contains(res.body, "recovery-codes") || !strings.Contains(res.body, "剩余恢复码 10 个") {
		t.Errorf("the recovery codes were shown again or not counted: %.500s", res.body)
	}

	// The next sign-in: password, then the code on its own page.
	c := f.anon()
	res = c.form("POST", "/login", url.Values{"username": {"acceptor"}, "password": {testPassword}, "next": {"/cases?state=new"}})
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login/code") {
		t.Fatalf("password step: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	if res := c.do("GET", "/cases", nil, ""); res.StatusCode == http.StatusOK {
		t.Fatal("the password alone opened /cases")
	}
	if res := c.do("GET", res.Header.Get("Location"), nil, ""); res.StatusCode != 200 || !strings.Contains(res.body, `name="code"`) || !strings.Contains(res.body, `value="/cases?state=new"`) {
		t.Fatalf("code page: %d %.300s", res.StatusCode, res.body)
	}
	if res := c.form("POST", "/login/code", url.Values{"code": {"123456"}, "next": {"/cases?state=new"}}); res.StatusCode != http.StatusUnauthorized || !strings.Contains(res.body, `name="code"`) {
		t.Errorf("a wrong code: %d %.300s", res.StatusCode, res.body)
	}
	// The enrolment's code is spent; the next step's is good.
	res = c.form("POST", "/login/code", url.Values{"code": {code(now.Add(30 * time.Second))}, "next": {"/cases?state=new"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/cases?state=new" {
		t.Fatalf("right code: %d %s %.300s", res.StatusCode, res.Header.Get("Location"), res.body)
	}
	if res := c.do("GET", "/cases", nil, ""); res.StatusCode != http.StatusOK {
		t.Errorf("signed in with two factors, /cases: %d", res.StatusCode)
	}
	// Without the challenge cookie the code page sends to /login; a post
	// from another site is refused.
	if res := f.anon().do("GET", "/login/code", nil, ""); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/login" {
		t.Errorf("code page without a challenge: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	req, _ := http.NewRequest("POST", f.url+"/login/code", strings.NewReader("code=123456"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("a cross-site code post: %v %v", resp.StatusCode, err)
	}

	// A recovery code, once.
	c2 := f.anon()
	c2.form("POST", "/login", url.Values{"username": {"acceptor"}, "password": {testPassword}})
	if res := c2.form("POST", "/login/code", url.Values{"code": {strings.ToUpper(recovery[3][1])}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("recovery code: %d %.300s", res.StatusCode, res.body)
	}
	// An acceptor cannot turn it off; the administrator resets it, and the
	// acceptor enrols again at the next sign-in.
	if res := acc.form("POST", "/account/2fa/disable", url.Values{"password": {testPassword}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("an acceptor turned two factors off: %d", res.StatusCode)
	}
	u, err := f.orgs.UserByName(t.Context(), "acceptor")
	if err != nil || !u.TwoFactor {
		t.Fatalf("acceptor: %+v %v", u, err)
	}
	adm := f.login("admin")
	if res := adm.do("GET", "/admin/users", nil, ""); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/account/2fa" {
		t.Fatalf("the administrator without two factors: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	// (the administrator enrols too, then resets the acceptor's)
	admPage := adm.do("GET", "/account/2fa", nil, "")
	admSecret := regexp.MustCompile(`id="secret" class="data">([A-Z2-7]+)<`).FindStringSubmatch(admPage.body)
	admCode, _ := org.TOTP(admSecret[1], time.Now())
	if res := adm.form("POST", "/account/2fa/enable", url.Values{"code": {admCode}}); res.StatusCode != 200 {
		t.Fatalf("administrator enrols: %d", res.StatusCode)
	}
	if res := adm.do("GET", "/admin/users", nil, ""); !strings.Contains(res.body, fmtAction(u.ID)) {
		t.Errorf("no reset button for the acceptor on the users page")
	}
	if res := adm.form("POST", fmtAction(u.ID), url.Values{}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("reset: %d %.300s", res.StatusCode, res.body)
	}
	if res := acc.do("GET", "/cases", nil, ""); res.StatusCode == http.StatusOK {
		t.Error("the acceptor's session survived the reset")
	}
	again := f.login("acceptor")
	if res := again.do("GET", "/cases", nil, ""); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/account/2fa" {
		t.Errorf("after the reset the acceptor is not sent to enrol: %d", res.StatusCode)
	}
}

func fmtAction(id int64) string { return fmt.Sprintf("/admin/users/%d/2fa/reset", id) }
