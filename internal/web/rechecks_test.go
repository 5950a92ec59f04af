package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"chuangwen/internal/org"
	"chuangwen/internal/store"
	"chuangwen/internal/testcity"
	"chuangwen/internal/workflow"
)

// closeCase takes a new case through the loop to closed over the API.
func (f *fixture) closeCase(t *testing.T, acc, hA, insp *client) caseJSON {
	t.Helper()
	c := f.report(acc)
	acc.act(t, c.ID, map[string]any{"action": "accept"}, 200)
	acc.act(t, c.ID, map[string]any{"action": "dispatch"}, 200)
	hA.act(t, c.ID, map[string]any{"action": "acknowledge"}, 200)
	res := hA.multipart(fmt.Sprintf("/api/v1/cases/%d/actions", c.ID), url.Values{"action": {"feedback"}, "opinion": {"已清理完毕"}}, map[string][]byte{"after.png": pngBytes(t)})
	if res.StatusCode != 200 {
		t.Fatalf("feedback: %d %s", res.StatusCode, res.body)
	}
	return insp.act(t, c.ID, map[string]any{"action": "verify_pass", "opinion": "现场核查已整改"}, 200)
}

func TestRevisitsOverHTTP(t *testing.T) {
	testcity.BothLong(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		acc, hA, hB, insp, grid, adm := f.login("acceptor"), f.login("handlerA"), f.login("handlerB"), f.login("inspector"), f.login("grid"), f.login("admin")

		// Settings: the share is typed in percent; a bad one comes back in Chinese with the form as typed.
		res := adm.form("POST", "/admin/rechecks", url.Values{"share": {"150"}, "days": {"5"}, "recurrence_days": {"30"}})
		if res.StatusCode != 400 || !strings.Contains(res.body, "回访抽取比例") || !strings.Contains(res.body, `value="150"`) {
			t.Fatalf("bad share: %d %s", res.StatusCode, res.body)
		}
		if res := adm.form("POST", "/admin/rechecks", url.Values{"share": {"100"}, "days": {"5"}, "recurrence_days": {"30"}}); res.StatusCode != 303 {
			t.Fatalf("save settings: %d %s", res.StatusCode, res.body)
		}
		if res := acc.form("POST", "/admin/rechecks", url.Values{"share": {"100"}, "days": {"5"}, "recurrence_days": {"30"}}); res.StatusCode != 403 {
			t.Fatalf("acceptor saves settings: %d", res.StatusCode)
		}

		a1, a2 := f.closeCase(t, acc, hA, insp), f.closeCase(t, acc, hA, insp)
		// Next week's draw takes this week's closures (all of them at 100%).
		d, err := f.flow.DrawRevisits(ctx, org.System, time.Now().AddDate(0, 0, 7))
		if err != nil || d.Drawn != 2 {
			t.Fatalf("draw: %+v %v", d, err)
		}
		var items []workflow.RevisitItem
		insp.do("GET", "/api/v1/revisits?state=pending", nil, "").json(t, &items)
		if len(items) != 2 {
			t.Fatalf("inspector sees %d revisits", len(items))
		}
		ids := map[int64]int64{}
		for _, it := range items {
			ids[it.CaseID] = it.ID
		}
		pass, fail := ids[a1.ID], ids[a2.ID]
		if pass == 0 || fail == 0 {
			t.Fatalf("revisits %+v", items)
		}
		// The list page for the grid worker; the handler of the other unit sees none.
		page := grid.do("GET", "/revisits", nil, "")
		if page.StatusCode != 200 || !strings.Contains(page.body, a1.No) || !strings.Contains(page.body, "待回访 2 件") {
			t.Fatalf("revisits page: %d %s", page.StatusCode, page.body)
		}
		if res := hB.do("GET", fmt.Sprintf("/revisits/%d", pass), nil, ""); res.StatusCode != 404 {
			t.Fatalf("handler B opens unit A's revisit: %d", res.StatusCode)
		}
		if res := hA.do("GET", fmt.Sprintf("/revisits/%d", pass), nil, ""); res.StatusCode != 404 {
			t.Fatalf("handler A reads its pending revisit: %d", res.StatusCode)
		}
		one := grid.do("GET", fmt.Sprintf("/revisits/%d", pass), nil, "")
		if one.StatusCode != 200 || !strings.Contains(one.body, `id="revisit-form"`) {
			t.Fatalf("revisit page: %d %s", one.StatusCode, one.body)
		}
		// No result chosen: 400 in Chinese. A handler may not record.
		if res := grid.multipart(fmt.Sprintf("/revisits/%d", pass), url.Values{"note": {"看过了"}}, nil); res.StatusCode != 400 || !strings.Contains(res.body, "请选择回访结果") {
			t.Fatalf("no result: %d %s", res.StatusCode, res.body)
		}
		if res := hA.multipart(fmt.Sprintf("/revisits/%d", pass), url.Values{"result": {"pass"}}, nil); res.StatusCode != 403 {
			t.Fatalf("handler records: %d", res.StatusCode)
		}
		// Passed from the phone page.
		res = grid.multipart(fmt.Sprintf("/revisits/%d", pass), url.Values{"result": {"pass"}, "note": {"回访未见反弹"}}, nil)
		if res.StatusCode != 303 || res.Header.Get("Location") != "/revisits?msg=done" {
			t.Fatalf("pass: %d %s", res.StatusCode, res.body)
		}
		// Done, the unit's handler reads it, without a form.
		if res := hA.do("GET", fmt.Sprintf("/revisits/%d", pass), nil, ""); res.StatusCode != 200 || strings.Contains(res.body, `id="revisit-form"`) {
			t.Fatalf("handler A reads its done revisit: %d", res.StatusCode)
		}
		// Sent again by a flaky network: 409, nothing changes.
		if res := grid.multipart(fmt.Sprintf("/revisits/%d", pass), url.Values{"result": {"pass"}}, nil); res.StatusCode != 409 || !strings.Contains(res.body, "不能重复登记") {
			t.Fatalf("again: %d %s", res.StatusCode, res.body)
		}
		// A relapse without a photo: refused, the note kept in the form.
		res = insp.multipart(fmt.Sprintf("/revisits/%d", fail), url.Values{"result": {"fail"}, "note": {"垃圾又堆起来了"}}, nil)
		if res.StatusCode != 400 || !strings.Contains(res.body, "须附现场照片") || !strings.Contains(res.body, "垃圾又堆起来了") {
			t.Fatalf("relapse without photo: %d %s", res.StatusCode, res.body)
		}
		// A wrong file type is refused in Chinese too.
		res = insp.multipart(fmt.Sprintf("/api/v1/revisits/%d", fail), url.Values{"result": {"fail"}, "note": {"x"}}, map[string][]byte{"a.txt": []byte("not an image")})
		if res.StatusCode != http.StatusUnsupportedMediaType || !strings.Contains(res.body, "照片") {
			t.Fatalf("text file as photo: %d %s", res.StatusCode, res.body)
		}
		// Over the API with a photo: the case reopens, waiting for the dispatcher.
		res = insp.multipart(fmt.Sprintf("/api/v1/revisits/%d", fail), url.Values{"result": {"fail"}, "note": {"垃圾又堆起来了"}}, map[string][]byte{"relapse.png": pngBytes(t)})
		if res.StatusCode != 200 {
			t.Fatalf("relapse: %d %s", res.StatusCode, res.body)
		}
		var c caseJSON
		res.json(t, &c)
		if c.State != "accepted" || c.LeadUnitID != 0 {
			t.Fatalf("relapsed case %+v", c)
		}
		// The case page shows the relapse's note as the instruction to the dispatcher.
		cp := acc.do("GET", fmt.Sprintf("/cases/%d", a2.ID), nil, "")
		if !strings.Contains(cp.body, `id="instruction"`) || !strings.Contains(cp.body, "回访反弹") {
			t.Fatalf("case page after relapse: %s", cp.body)
		}
		// The unit's figures over today: 2 revisited, 1 relapse, 50%.
		day := time.Now().In(testcity.Shanghai).Format("2006-01-02")
		perf := adm.do("GET", "/performance?from="+day+"&to="+day, nil, "")
		if perf.StatusCode != 200 || !strings.Contains(perf.body, "50.0%") || !strings.Contains(perf.body, "反弹率") {
			t.Fatalf("performance page: %d %s", perf.StatusCode, perf.body)
		}
		csv := adm.do("GET", "/performance/units.csv?from="+day+"&to="+day, nil, "")
		if !strings.Contains(csv.body, "回访数,反弹数,反弹率") || !strings.Contains(csv.body, ",2,1,0.5000") {
			t.Fatalf("performance CSV: %s", csv.body)
		}
		// Settings page lists the draw.
		sp := adm.do("GET", "/admin/rechecks", nil, "")
		if sp.StatusCode != 200 || !strings.Contains(sp.body, d.Week) {
			t.Fatalf("settings page: %d %s", sp.StatusCode, sp.body)
		}
		if res := adm.form("POST", "/admin/rechecks/draw", url.Values{}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("draw now: %d %s", res.StatusCode, res.body)
		}

		// A recurrence: the same problem reported again at the same place.
		again := f.report(acc)
		var rec struct {
			Of *workflow.Recurrence `json:"of"`
		}
		acc.do("GET", fmt.Sprintf("/api/v1/cases/%d/recurrences", again.ID), nil, "").json(t, &rec)
		if rec.Of == nil || rec.Of.EarlierID != a1.ID {
			t.Fatalf("recurrence of %+v, want %d", rec.Of, a1.ID)
		}
		cp = acc.do("GET", fmt.Sprintf("/cases/%d", again.ID), nil, "")
		if !strings.Contains(cp.body, `id="recurrence-of"`) || !strings.Contains(cp.body, a1.No) {
			t.Fatalf("case page lacks the recurrence: %s", cp.body)
		}
		cp = acc.do("GET", fmt.Sprintf("/cases/%d", a1.ID), nil, "")
		if !strings.Contains(cp.body, `id="recurrence-later"`) || !strings.Contains(cp.body, again.No) {
			t.Fatalf("earlier case page lacks the later report: %s", cp.body)
		}
	})
}

func TestSiteRechecksOverHTTP(t *testing.T) {
	f := newAssessFixture(t, testcity.SQLite(t))
	ctx := context.Background()
	f.submit("S01", "A1.1", "pass", 0)
	f.submit("S01", "A1.2", "fail", 3)
	f.submit("S04", "A1.1", "fail", 0)
	if _, err := f.svc.CloseRound(ctx, org.System, f.round); err != nil {
		t.Fatal(err)
	}
	insp, hA, hB, acc := f.login("inspector"), f.login("handlerA"), f.login("handlerB"), f.login("acceptor")
	page := insp.do("GET", "/assess/rechecks", nil, "")
	if page.StatusCode != 200 || !strings.Contains(page.body, `data-site="S01"`) || !strings.Contains(page.body, `data-site="S04"`) {
		t.Fatalf("list: %d %s", page.StatusCode, page.body)
	}
	// Unit B's handler has no site to re-inspect; A's sees S01 and S04, without a form.
	if res := hB.do("GET", "/assess/rechecks/"+f.round+"/S01", nil, ""); res.StatusCode != 404 {
		t.Fatalf("handler B opens S01: %d", res.StatusCode)
	}
	if res := hA.do("GET", "/assess/rechecks/"+f.round+"/S01", nil, ""); res.StatusCode != 200 || strings.Contains(res.body, `name="result_A1.2"`) {
		t.Fatalf("handler A reads S01: %d", res.StatusCode)
	}
	one := insp.do("GET", "/assess/rechecks/"+f.round+"/S01", nil, "")
	if one.StatusCode != 200 || !strings.Contains(one.body, `name="result_A1.2"`) || strings.Contains(one.body, `name="result_A1.1"`) || !strings.Contains(one.body, "3 处问题") {
		t.Fatalf("S01 page: %d %s", one.StatusCode, one.body)
	}
	// A missing result: 400 in Chinese, nothing stored.
	res := insp.form("POST", "/assess/rechecks/"+f.round+"/S01", url.Values{"note": {"x"}})
	if res.StatusCode != 400 || !strings.Contains(res.body, "请填写标准 A1.2") {
		t.Fatalf("missing result: %d %s", res.StatusCode, res.body)
	}
	if res := hA.form("POST", "/assess/rechecks/"+f.round+"/S01", url.Values{"result_A1.2": {"pass"}}); res.StatusCode != 403 {
		t.Fatalf("handler records: %d", res.StatusCode)
	}
	res = insp.form("POST", "/assess/rechecks/"+f.round+"/S01", url.Values{"result_A1.2": {"fail"}, "problems_A1.2": {"1"}, "note_A1.2": {"仍有一处"}, "note": {"已督促"}})
	if res.StatusCode != 303 {
		t.Fatalf("record: %d %s", res.StatusCode, res.body)
	}
	done := acc.do("GET", "/assess/rechecks/"+f.round+"/S01", nil, "")
	if !strings.Contains(done.body, `data-state="failed"`) || !strings.Contains(done.body, "仍有一处") {
		t.Fatalf("after record: %s", done.body)
	}
	// The API: S04 passes; a second record conflicts.
	body := map[string]any{"results": []map[string]any{{"standard": "A1.1", "result": "pass"}}, "note": "整改到位"}
	if res := acc.json("POST", "/api/v1/assess/rechecks/"+f.round+"/S04", body); res.StatusCode != 200 || !strings.Contains(res.body, `"state":"passed"`) {
		t.Fatalf("API record: %d %s", res.StatusCode, res.body)
	}
	if res := acc.json("POST", "/api/v1/assess/rechecks/"+f.round+"/S04", body); res.StatusCode != 409 {
		t.Fatalf("API record twice: %d %s", res.StatusCode, res.body)
	}
	var ks []map[string]any
	acc.do("GET", "/api/v1/assess/rechecks?state=", nil, "").json(t, &ks)
	if len(ks) != 2 {
		t.Fatalf("API list %v", ks)
	}
	// The settings form takes the time limit; a bad one is refused.
	adm := f.login("admin")
	if res := adm.form("POST", "/assess/settings", url.Values{"case_unit": {"site"}, "split_site": {"1"}, "split_lead": {"0"}, "green_rate": {"0.9"}, "yellow_rate": {"0.8"},
		"yellow_lost": {"1"}, "red_lost": {"3"}, "recheck_days": {"99"}}); res.StatusCode != 400 {
		t.Fatalf("recheck_days 99: %d", res.StatusCode)
	}
}
