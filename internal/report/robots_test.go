package report_test

import (
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"chuangwen/internal/apperr"
	"chuangwen/internal/i18n"
	"chuangwen/internal/org"
	"chuangwen/internal/report"
	"chuangwen/internal/store"
	"chuangwen/internal/testcity"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// robot is a local receiver that answers like WeCom's or DingTalk's group
// robot: it checks DingTalk's signature when it has a secret, keeps the
// bodies, and answers errcode 0, or errcode 310000 (DingTalk's "sign not
// match") the first fail times.
type robot struct {
	mu     sync.Mutex
	secret string
	fail   int
	bodies [][]byte
	srv    *httptest.Server
	t      *testing.T
}

func newRobot(t *testing.T, secret string, fail int) *robot {
	rb := &robot{secret: secret, fail: fail, t: t}
	rb.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rb.mu.Lock()
		defer rb.mu.Unlock()
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get("Content-Type") != "application/json; charset=utf-8" {
			t.Errorf("content type %q", r.Header.Get("Content-Type"))
		}
		if rb.secret != "" {
			ts, _ := strconv.ParseInt(r.URL.Query().Get("timestamp"), 10, 64)
			if r.URL.Query().Get("sign") != report.DingTalkSign(rb.secret, ts) || r.URL.Query().Get("access_token") != "TOKEN" {
				w.Write([]byte(`{"errcode":310000,"errmsg":"sign not match"}`))
				return
			}
		}
		if rb.fail > 0 {
			rb.fail--
			w.Write([]byte(`{"errcode":45009,"errmsg":"api freq out of limit"}`))
			return
		}
		rb.bodies = append(rb.bodies, body)
		w.Write([]byte(`{"errcode":0,"errmsg":"ok"}`))
	}))
	t.Cleanup(rb.srv.Close)
	return rb
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	var v any
	if err := json.Unmarshal(got, &v); err != nil {
		t.Fatalf("%s: not JSON: %s", name, got)
	}
	pretty, _ := json.MarshalIndent(v, "", "  ")
	pretty = append(pretty, '\n')
	if *update {
		if err := os.WriteFile(path, pretty, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (write it with -update)", err)
	}
	if string(want) != string(pretty) {
		t.Errorf("%s differs from the golden file:\n%s\nwant:\n%s", name, pretty, want)
	}
}

// TestGroupRobots: a unit's weekly notice goes to a WeCom robot and a
// signing DingTalk robot as their markdown messages (golden files), a
// robot's errcode is a failed attempt retried with backoff, and a
// DingTalk request without the right signature is refused by the robot.
func TestGroupRobots(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		c, ctx := f.c, f.ctx
		msg, err := i18n.Load()
		f.must(err)
		f.rs.Text = func(key string, args ...string) string { return msg.T("zh-CN", key, args...) }
		f.rs.ConsoleURL = "https://cw.example.gov.cn/"
		wecom := newRobot(t, "", 1)
		ding := newRobot(t, "SECabc123", 0)
		if _, err := f.rs.AddEndpoint(ctx, c.Admin, report.NewWebhook{URL: wecom.srv.URL, Format: "telegram"}); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("unknown format: %v", err)
		}
		wh, err := f.rs.AddEndpoint(ctx, c.Admin, report.NewWebhook{URL: wecom.srv.URL + "/cgi-bin/webhook/send?key=KEY", Unit: "A", Format: report.FormatWeCom})
		f.must(err)
		if wh.Secret != "" || wh.Format != report.FormatWeCom {
			t.Errorf("WeCom endpoint %+v", wh)
		}
		_, err = f.rs.AddEndpoint(ctx, c.Admin, report.NewWebhook{URL: ding.srv.URL + "/robot/send?access_token=TOKEN", Unit: "A", Format: report.FormatDingTalk, Secret: "SECabc123"})
		f.must(err)
		// A DingTalk robot whose secret we got wrong refuses every request.
		wrong := newRobot(t, "SECright", 0)
		_, err = f.rs.AddEndpoint(ctx, c.Admin, report.NewWebhook{URL: wrong.srv.URL + "/robot/send?access_token=TOKEN", Unit: "A", Format: report.FormatDingTalk, Secret: "SECwrong"})
		f.must(err)

		c.Clock.Set(time.Date(2026, 11, 16, 9, 0, 0, 0, testcity.Shanghai))
		f.dispatched(c.UnitA)
		c.Clock.Set(time.Date(2026, 11, 17, 9, 0, 0, 0, testcity.Shanghai))
		if n, err := f.rs.IssueWeekly(ctx, org.System, "2026-W47"); err != nil || n != 1 {
			t.Fatalf("issue: %d %v", n, err)
		}
		client := &http.Client{Timeout: 5 * time.Second}
		for range 3 {
			_, err := f.rs.DeliverDue(ctx, client)
			f.must(err)
			c.Clock.Advance(report.Backoff[0] + time.Second)
		}
		if len(wecom.bodies) != 1 || len(ding.bodies) != 1 || len(wrong.bodies) != 0 {
			t.Fatalf("received: WeCom %d, DingTalk %d, wrong secret %d", len(wecom.bodies), len(ding.bodies), len(wrong.bodies))
		}
		golden(t, "robot_wecom.json", wecom.bodies[0])
		golden(t, "robot_dingtalk.json", ding.bodies[0])
		log, err := f.rs.Deliveries(ctx, c.Admin, 0, 0)
		f.must(err)
		states := map[string]int{}
		for _, d := range log {
			states[d.Status]++
			if d.Status == "pending" && !strings.Contains(d.LastError, "errcode 310000") {
				t.Errorf("the wrong secret's delivery says %q", d.LastError)
			}
		}
		if states["delivered"] != 2 || states["pending"] != 1 {
			t.Errorf("deliveries %v", states)
		}
		// The DingTalk signature itself, against a value worked out by hand:
		// base64(HMAC-SHA256("SEC1", "1700000000000\nSEC1")).
		if got := report.DingTalkSign("SEC1", 1700000000000); got != dingTalkSEC1 {
			t.Errorf("sign %s", got)
		}
	})
}

// dingTalkSEC1 was computed outside Go (Python's hmac and base64).
const dingTalkSEC1 = "ukR4+WoOOBTGaOauYqugxVrMSFyr92q4hPxJxuOkiio="
