package web_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"chuangwen/internal/assess"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
	"chuangwen/internal/testcity"
	"chuangwen/internal/web"
)

// assessTree is a small edition over the test city's units A and B: a
// pass-rate standard at roads and markets (lead unit A), a deducting one
// at roads only (lead unit B, A cooperating), a negative-list item.
const assessTree = `edition: w-2026
name: 网页测试体系(示例)
site_types: [主次干道, 农贸市场]
projects:
  - code: "A"
    name: 公共环境
    contents:
      - code: "A1"
        name: 市容市貌
        standards:
          - {code: "A1.1", name: 道路干净, points: 4, method: field, rule: pass_rate, site_types: [主次干道, 农贸市场], lead_unit: A}
          - {code: "A1.2", name: 无乱张贴, points: 2, method: field, rule: deduct, per_problem: 0.5, site_types: [主次干道], lead_unit: B, coop_units: [A]}
negative_list:
  - {code: N1, name: 重大安全事故, site_types: [农贸市场]}
`

// assessSites are five sites: S01–S03 in 上城区 (330102), S04–S05 in
// 拱墅区 (330105); S01 and S04 are unit A's, S02 and S05 unit B's, S03
// nobody's.
const assessSites = `code,name,type,region,lat,lon,address,unit,chief
S01,清波路,主次干道,330102001001,,,清波路1号,A,张三
S02,河坊街,主次干道,330102001,,,河坊街8号,B,
S03,清波菜场,农贸市场,330102,,,,,
S04,米市巷,主次干道,330105001001,,,,A,
S05,米市巷菜场,农贸市场,330105001,,,,B,李四
`

// assessFixture is the web fixture with the assessment: the tree and
// sites above, a mock round of every site (seed 1) on the wall clock,
// team 第一组 (inspector) at S01–S03 and 第二组 (leader) at S04–S05, both
// field standards mapped to the 4-hour category so that a fail raises a
// case.
type assessFixture struct {
	*fixture
	svc   *assess.Service
	round string
}

func newAssessFixture(t *testing.T, db *store.DB) *assessFixture {
	t.Helper()
	base := newFixture(t, db)
	svc := &assess.Service{DB: db, Location: testcity.Shanghai, Locator: base.grid, Cases: base.flow}
	f := &assessFixture{fixture: base.withServer(func(s *web.Server) { s.Assess = svc }), svc: svc}
	ctx, sys := context.Background(), org.System
	if _, ps, err := svc.ImportTree(ctx, sys, strings.NewReader(assessTree), assess.FormatYAML); err != nil {
		t.Fatalf("import tree: %v %v", err, ps)
	}
	if _, ps, err := svc.ImportSites(ctx, sys, strings.NewReader(assessSites), assess.FormatCSV); err != nil {
		t.Fatalf("import sites: %v %v", err, ps)
	}
	seed := uint64(1)
	rd, err := svc.CreateRound(ctx, sys, assess.NewRound{Edition: "w-2026", Name: "十一月模拟测评", Seed: &seed})
	if err != nil {
		t.Fatal(err)
	}
	f.round = rd.Code
	for _, tm := range []struct {
		name, member string
		sites        []string
	}{{"第一组", "inspector", []string{"S01", "S02", "S03"}}, {"第二组", "leader", []string{"S04", "S05"}}} {
		if _, err := svc.SaveTeam(ctx, sys, rd.Code, tm.name, []string{tm.member}); err != nil {
			t.Fatal(err)
		}
		if n, err := svc.AssignSites(ctx, sys, rd.Code, tm.name, tm.sites); err != nil || n != len(tm.sites) {
			t.Fatalf("assign %s: %d %v", tm.name, n, err)
		}
	}
	if err := svc.MapCategories(ctx, sys, map[string]int64{"A1.1": base.category.ID, "A1.2": base.category.ID}); err != nil {
		t.Fatal(err)
	}
	return f
}

// count counts a table's rows.
func (f *assessFixture) count(table string) int {
	f.t.Helper()
	var n int
	if err := f.db.Reader().QueryRow(context.Background(), `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

// submit records an observation through the service as the system.
func (f *assessFixture) submit(site, standard, result string, problems int) assess.Submitted {
	f.t.Helper()
	out, err := f.svc.Submit(context.Background(), org.System, assess.Submission{Round: f.round, Site: site, Standard: standard, Result: result, Problems: problems})
	if err != nil {
		f.t.Fatalf("submit %s %s: %v", site, standard, err)
	}
	return out
}

// path is a path under the round: /api/v1/assess/rounds/{code}+rest for
// api, /assess/rounds/{code}+rest otherwise.
func (f *assessFixture) path(api bool, rest string) string {
	if api {
		return "/api/v1/assess/rounds/" + f.round + rest
	}
	return "/assess/rounds/" + f.round + rest
}

// submittedJSON is the answer to an observation.
type submittedJSON struct {
	Observation struct {
		ID       int64  `json:"id"`
		Result   string `json:"result"`
		Problems int    `json:"problems"`
		Note     string `json:"note"`
		CaseID   int64  `json:"case_id"`
		CaseNo   string `json:"case_no"`
	} `json:"observation"`
	Replayed   bool `json:"replayed"`
	NoCategory bool `json:"no_category"`
}

type entryJSON struct {
	Standard string      `json:"standard"`
	Unit     string      `json:"unit"`
	Site     string      `json:"site"`
	Lost     json.Number `json:"lost"`
	CaseID   int64       `json:"case_id"`
	PhotoIDs []int64     `json:"photo_ids"`
}

// entryUnits reads an entries answer: its units and sites, sorted.
func entryUnits(t *testing.T, res response) (units, sites []string) {
	t.Helper()
	var rows []entryJSON
	res.json(t, &rows)
	for _, e := range rows {
		if !slices.Contains(units, e.Unit) {
			units = append(units, e.Unit)
		}
		if !slices.Contains(sites, e.Site) {
			sites = append(sites, e.Site)
		}
	}
	slices.Sort(units)
	slices.Sort(sites)
	return units, sites
}

var hanRe = regexp.MustCompile(`\p{Han}`)

// TestAssessRolesAndScopes: who may open which assessment page and call
// which endpoint, and which rows a unit's handler or a district's reader
// sees. Each refusal has a control where the right person is served.
func TestAssessRolesAndScopes(t *testing.T) {
	testcity.BothLong(t, func(t *testing.T, db *store.DB) {
		f := newAssessFixture(t, db)
		// Unit A loses at S01 (A1.2, its site), unit B at S02 (A1.1) and
		// S05 (A1.1, in the other district).
		f.submit("S01", "A1.2", "fail", 2)
		f.submit("S02", "A1.1", "fail", 0)
		f.submit("S05", "A1.1", "fail", 0)
		f.submit("S01", "A1.1", "pass", 0)
		if _, err := f.orgs.CreateUser(context.Background(), org.System, org.NewUser{Username: "district1", DisplayName: "上城区文明办",
			Password: testPassword, Role: org.RoleAcceptor, Scope: org.ScopeRegion, ScopeRegionID: f.district.ID}); err != nil {
			t.Fatal(err)
		}
		adm, acc, lead, hA, hB := f.login("admin"), f.login("acceptor"), f.login("leader"), f.login("handlerA"), f.login("handlerB")
		insp, grid, vol, dist := f.login("inspector"), f.login("grid"), f.login("volunteer"), f.login("district1")
		obs := f.path(true, "/observations")
		observe := func(c *client, site string) func() response {
			return func() response {
				return c.json("POST", obs, map[string]any{"site": site, "standard": "A1.1", "result": "fail", "note": "路面有垃圾"})
			}
		}
		get := func(c *client, path string) func() response {
			return func() response { return c.do("GET", path, nil, "") }
		}
		observationsBefore, casesBefore := f.count("assess_observations"), f.caseCount()

		type tc struct {
			name    string
			run     func() response
			status  int
			want    []string
			notWant []string
		}
		cases := []tc{
			// A unit's handler: none of the office's pages, only its own
			// unit's entries.
			{"handler: overview", get(hA, "/assess"), 403, []string{"无权"}, nil},
			{"handler: rankings", get(hA, f.path(true, "/rankings")), 403, []string{`"code":"forbidden"`}, nil},
			{"handler: scores", get(hA, f.path(true, "/scores")), 403, nil, nil},
			{"handler: teams page", get(hA, f.path(false, "/teams")), 403, nil, nil},
			{"handler: round page", get(hA, f.path(false, "")), 403, nil, nil},
			{"handler: inspect", get(hA, "/inspect"), 403, nil, nil},
			{"handler: observation", observe(hA, "S01"), 403, nil, nil},
			{"handler A: own entries", get(hA, f.path(true, "/entries")), 200, []string{`"unit":"A"`, `"site":"S01"`}, []string{`"unit":"B"`, "S02", "S05"}},
			{"handler A: unit B's entries asked", get(hA, f.path(true, "/entries?unit=B")), 200, []string{`"unit":"A"`}, []string{`"unit":"B"`, "S02", "S05"}},
			{"handler A: unit B's ledger page asked", get(hA, f.path(false, "/ledger?unit=B")), 200, []string{"清波路"}, []string{"河坊街", "米市巷菜场"}},
			{"handler B: own entries", get(hB, f.path(true, "/entries")), 200, []string{`"unit":"B"`, `"site":"S02"`, `"site":"S05"`}, []string{`"unit":"A"`, "S01"}},
			{"handler: own unit's lost points", get(hB, "/assess/mine"), 200, nil, nil},
			{"handler: results export", get(hA, f.path(false, "/export/results.xlsx")), 403, nil, nil},
			{"handler: rankings export", get(hA, f.path(false, "/export/rankings.xlsx")), 403, nil, nil},
			// Grid workers and volunteers do no assessment.
			{"grid: inspect", get(grid, "/inspect"), 403, nil, nil},
			{"grid: site", get(grid, "/inspect/"+f.round+"/S01"), 403, nil, nil},
			{"grid: assignments", get(grid, "/api/v1/assess/assignments"), 403, nil, nil},
			{"grid: observation", observe(grid, "S01"), 403, nil, nil},
			{"volunteer: inspect", get(vol, "/inspect"), 403, nil, nil},
			{"volunteer: observation", observe(vol, "S01"), 403, nil, nil},
			{"volunteer: checklist", get(vol, f.path(true, "/sites/S01/checklist")), 403, nil, nil},
			// An inspector works at its team's sites only.
			{"inspector: own sites", get(insp, "/inspect"), 200, []string{"清波路", "河坊街", "清波菜场"}, []string{"米市巷"}},
			{"inspector: own site", get(insp, "/inspect/"+f.round+"/S01"), 200, []string{"A1.1", "A1.2"}, nil},
			{"inspector: another team's site", get(insp, "/inspect/"+f.round+"/S04"), 403, []string{"未分配给您"}, nil},
			{"inspector: another team's checklist", get(insp, f.path(true, "/sites/S04/checklist")), 403, []string{"未分配给您"}, nil},
			{"inspector: observation at another team's site", observe(insp, "S04"), 403, []string{"未分配给您"}, nil},
			{"inspector: rankings", get(insp, f.path(true, "/rankings")), 403, nil, nil},
			{"inspector: entries", get(insp, f.path(true, "/entries")), 403, nil, nil},
			{"inspector: overview", get(insp, "/assess"), 403, nil, nil},
			// The office reads but only the administrator writes.
			{"acceptor: close (API)", func() response { return acc.json("POST", f.path(true, "/close"), nil) }, 403, nil, nil},
			{"leader: close (API)", func() response { return lead.json("POST", f.path(true, "/close"), nil) }, 403, nil, nil},
			{"acceptor: close (console)", func() response { return acc.form("POST", f.path(false, "/close"), url.Values{}) }, 403, nil, nil},
			{"leader: raise", func() response { return lead.json("POST", f.path(true, "/raise"), nil) }, 403, nil, nil},
			{"acceptor: import a tree", func() response {
				return acc.do("POST", "/api/v1/assess/editions", strings.NewReader(strings.Replace(assessTree, "w-2026", "x-2026", 1)), "application/yaml")
			}, 403, nil, nil},
			{"leader: import a tree (console)", func() response {
				return lead.form("POST", "/assess/editions", url.Values{"text": {strings.Replace(assessTree, "w-2026", "x-2026", 1)}})
			}, 403, nil, nil},
			{"leader: import sites", func() response {
				return lead.do("POST", "/api/v1/assess/sites", strings.NewReader(assessSites+"S09,新站,主次干道,330102,,,,,\n"), "text/csv")
			}, 403, nil, nil},
			{"acceptor: import observations", func() response {
				return acc.do("POST", f.path(true, "/observations/import"), strings.NewReader("site,standard,result\nS03,A1.1,fail\n"), "text/csv")
			}, 403, nil, nil},
			{"acceptor: save a team", func() response {
				return acc.json("PUT", f.path(true, "/teams/第三组"), map[string]any{"members": []string{"inspector"}, "sites": []string{"S04"}})
			}, 403, nil, nil},
			{"acceptor: teams page", get(acc, f.path(false, "/teams")), 403, nil, nil},
			{"acceptor: reads the rankings", get(acc, f.path(true, "/rankings")), 200, []string{`"districts"`}, nil},
			{"leader: reads the round", get(lead, f.path(false, "")), 200, []string{"十一月模拟测评"}, nil},
			{"admin: teams page", get(adm, f.path(false, "/teams")), 200, []string{"第一组", "第二组"}, nil},
			// A district's reader: its district, not the city.
			{"district: city scores", get(dist, f.path(true, "/scores")), 403, nil, nil},
			{"district: other district's scores", get(dist, f.path(true, "/scores?region=330105")), 403, nil, nil},
			{"district: own scores", get(dist, f.path(true, "/scores?region=330102")), 200, []string{`"scope":"330102"`}, nil},
			{"district: city ledger", get(dist, f.path(true, "/ledger")), 403, nil, nil},
			{"district: own ledger", get(dist, f.path(true, "/ledger?region=330102")), 200, []string{`"scope":"330102"`}, nil},
			{"district: rankings", get(dist, f.path(true, "/rankings")), 403, nil, nil},
			{"district: city entries", get(dist, f.path(true, "/entries")), 403, nil, nil},
			{"district: own entries", get(dist, f.path(true, "/entries?region=330102")), 200, []string{`"site":"S01"`, `"site":"S02"`}, []string{"S05"}},
			{"district: the round page opens on its district", get(dist, f.path(false, "")), 200, []string{"total-score", `<option value="330102" selected>`}, nil},
			{"district: own round page", get(dist, f.path(false, "?region=330102")), 200, []string{"total-score"}, nil},
			{"district: city results export", get(dist, f.path(false, "/export/results.xlsx")), 403, nil, nil},
			{"district: rankings export", get(dist, f.path(false, "/export/rankings.xlsx")), 403, nil, nil},
			// A cookie-authenticated write without the session's token.
			{"csrf: observation API", func() response {
				cc := *insp
				cc.csrf = ""
				return observe(&cc, "S03")()
			}, 403, []string{"页面已过期"}, nil},
			{"csrf: phone form", func() response {
				cc := *insp
				cc.csrf = ""
				return cc.multipart("/inspect/"+f.round+"/S03", url.Values{"standard": {"A1.1"}, "result": {"fail"}, "key": {"k-csrf"}}, nil)
			}, 403, []string{"页面已过期"}, nil},
			{"csrf: close (console)", func() response {
				cc := *adm
				cc.csrf = ""
				return cc.form("POST", f.path(false, "/close"), url.Values{"csrf": {"forged"}})
			}, 403, []string{"页面已过期"}, nil},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				res := tc.run()
				if res.StatusCode != tc.status {
					t.Fatalf("status %d, want %d: %.600s", res.StatusCode, tc.status, res.body)
				}
				for _, w := range tc.want {
					if !strings.Contains(res.body, w) {
						t.Errorf("body lacks %q: %.600s", w, res.body)
					}
				}
				for _, w := range tc.notWant {
					if strings.Contains(res.body, w) {
						t.Errorf("body has %q: %.600s", w, res.body)
					}
				}
			})
		}

		// The handlers' entries, read whole: only their own unit's.
		for _, h := range []struct {
			c     *client
			query string
			unit  string
			sites []string
		}{{hA, "", "A", []string{"S01"}}, {hA, "?unit=B", "A", []string{"S01"}}, {hA, "?unit=-", "A", []string{"S01"}}, {hB, "?unit=A", "B", []string{"S02", "S05"}}} {
			res := h.c.do("GET", f.path(true, "/entries"+h.query), nil, "")
			if res.StatusCode != 200 {
				t.Fatalf("entries%s: %d %s", h.query, res.StatusCode, res.body)
			}
			units, sites := entryUnits(t, res)
			if !slices.Equal(units, []string{h.unit}) || !slices.Equal(sites, h.sites) {
				t.Errorf("handler of %s, entries%s: units %v, sites %v; want [%s] %v", h.unit, h.query, units, sites, h.unit, h.sites)
			}
		}
		// The ledger's export follows the same rule.
		for _, h := range []struct {
			c     *client
			query string
			unit  string
			sites []string
		}{{hA, "?unit=B", "A", []string{"S01"}}, {hB, "", "B", []string{"S02", "S05"}}, {acc, "", "A,B", []string{"S01", "S02", "S05"}}} {
			res := h.c.do("GET", f.path(false, "/export/ledger.xlsx"+h.query), nil, "")
			if res.StatusCode != 200 {
				t.Fatalf("ledger.xlsx%s: %d %.300s", h.query, res.StatusCode, res.body)
			}
			x, err := excelize.OpenReader(strings.NewReader(res.body))
			if err != nil {
				t.Fatal(err)
			}
			rows, err := x.GetRows(x.GetSheetName(0))
			if err != nil || len(rows) < 2 {
				t.Fatalf("ledger.xlsx%s: %d rows, %v", h.query, len(rows), err)
			}
			var units, sites []string
			for _, r := range rows[1:] {
				if len(r) > 6 && !slices.Contains(units, r[2]) {
					units = append(units, r[2])
				}
				if len(r) > 6 && !slices.Contains(sites, r[6]) {
					sites = append(sites, r[6])
				}
			}
			slices.Sort(units)
			slices.Sort(sites)
			if strings.Join(units, ",") != h.unit || !slices.Equal(sites, h.sites) {
				t.Errorf("ledger.xlsx%s for %s's reader: units %v, sites %v", h.query, h.unit, units, sites)
			}
			// the CSV form holds the same rows
			res = h.c.do("GET", f.path(false, "/export/ledger.csv"+h.query), nil, "")
			if res.StatusCode != 200 || !strings.HasPrefix(res.body, "\ufeff") || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") {
				t.Fatalf("ledger.csv%s: %d %q", h.query, res.StatusCode, res.Header.Get("Content-Type"))
			}
			recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(res.body, "\ufeff"))).ReadAll()
			if err != nil || len(recs) != len(rows) || !slices.Equal(recs[0], rows[0]) {
				t.Errorf("ledger.csv%s: %d records for %d workbook rows (%v)", h.query, len(recs), len(rows), err)
			}
		}
		if res := hA.do("GET", f.path(false, "/export/ledger.pdf"), nil, ""); res.StatusCode != 404 {
			t.Errorf("ledger.pdf: %d", res.StatusCode)
		}
		// The office sees both units.
		if units, _ := entryUnits(t, acc.do("GET", f.path(true, "/entries"), nil, "")); !slices.Equal(units, []string{"A", "B"}) {
			t.Errorf("acceptor's entries: units %v", units)
		}

		// Nothing refused above changed anything.
		var rd struct{ State string }
		adm.do("GET", f.path(true, ""), nil, "").json(t, &rd)
		if rd.State != assess.RoundInProgress {
			t.Errorf("round state %q after refused closes", rd.State)
		}
		if n := f.count("assess_observations"); n != observationsBefore {
			t.Errorf("%d observations after refused submissions, want %d", n, observationsBefore)
		}
		if n := f.caseCount(); n != casesBefore {
			t.Errorf("%d cases after refused submissions, want %d", n, casesBefore)
		}
		if n := f.count("assess_editions"); n != 1 {
			t.Errorf("%d editions after refused imports", n)
		}
		if n := f.count("assess_sites"); n != 5 {
			t.Errorf("%d sites after a refused import", n)
		}
		if n := f.count("assess_teams"); n != 2 {
			t.Errorf("%d teams after a refused save", n)
		}
	})
}

// TestAssessBadInput: a wrong result, a broken tree and bad photos are
// refused in Chinese and store nothing.
func TestAssessBadInput(t *testing.T) {
	testcity.BothLong(t, func(t *testing.T, db *store.DB) {
		f := newAssessFixture(t, db)
		insp, adm := f.login("inspector"), f.login("admin")
		obs := f.path(true, "/observations")
		before := func() [4]int {
			return [4]int{f.count("assess_observations"), f.caseCount(), f.count("photos"), len(f.blobFiles())}
		}
		start := before()

		// A result that is none of pass, fail, na.
		res := insp.json("POST", obs, map[string]any{"site": "S01", "standard": "A1.1", "result": "bad", "key": "k-bad"})
		e := errorOf(t, res)
		if res.StatusCode != 400 || e.Error.Code != "invalid" || !strings.Contains(e.Error.Message, "应为 pass、fail 或 na") {
			t.Errorf("result bad: %d %s", res.StatusCode, res.body)
		}
		// The same from the phone's form.
		res = insp.multipart("/inspect/"+f.round+"/S01", url.Values{"standard": {"A1.1"}, "result": {"bad"}, "key": {"k-bad-form"}}, nil)
		if res.StatusCode != 400 || !strings.Contains(res.body, "应为 pass、fail 或 na") {
			t.Errorf("result bad (form): %d %.400s", res.StatusCode, res.body)
		}
		// A problem count that is no number; a standard not checked at the
		// site's type (A1.2 is for roads, S03 is a market).
		res = insp.multipart(obs, url.Values{"site": {"S01"}, "standard": {"A1.2"}, "result": {"fail"}, "problems": {"三"}}, nil)
		if e := errorOf(t, res); res.StatusCode != 400 || !hanRe.MatchString(e.Error.Message) || !strings.Contains(e.Error.Message, "三") {
			t.Errorf("problems 三: %d %s", res.StatusCode, res.body)
		}
		res = insp.json("POST", obs, map[string]any{"site": "S03", "standard": "A1.2", "result": "fail"})
		if e := errorOf(t, res); res.StatusCode != 400 || !hanRe.MatchString(e.Error.Message) {
			t.Errorf("standard of another type: %d %s", res.StatusCode, res.body)
		}
		res = insp.json("POST", obs, map[string]any{"site": "S01", "standard": "A1.1", "result": "fail", "colour": "red"})
		if res.StatusCode != 400 || !strings.Contains(res.body, "JSON") {
			t.Errorf("unknown field: %d %s", res.StatusCode, res.body)
		}

		// Photos: over the per-photo limit (1 MB here), not an image, and a
		// body over the whole request's limit (3 MB); each is refused and
		// leaves no observation, case, photo row or file behind.
		big := append(smallJPEG(), bytes.Repeat([]byte{0}, 3<<19)...)
		huge := append(smallJPEG(), bytes.Repeat([]byte{0}, 4<<20)...)
		for _, p := range []struct {
			name   string
			files  map[string][]byte
			status int
			want   string
		}{
			{"oversized photo", map[string][]byte{"big.jpg": big}, 413, "照片超过"},
			{"not an image", map[string][]byte{"evil.jpg": []byte("#!/bin/sh\necho hi\n")}, 415, "JPEG"},
			{"a PDF as a photo", map[string][]byte{"scan.pdf": []byte("%PDF-1.4\n%âãÏÓ\n1 0 obj\n")}, 415, "JPEG"},
			// (over the API, see TestAssessObservationBodyLimit)
			{"body over the limit", map[string][]byte{"huge.jpg": huge}, 413, "上传内容超过 3 MB"},
		} {
			fields := url.Values{"site": {"S02"}, "standard": {"A1.1"}, "result": {"fail"}, "note": {"垃圾成堆"}, "key": {"k-" + p.name}}
			for _, path := range []string{obs, "/inspect/" + f.round + "/S02"} {
				if p.name == "body over the limit" && path == obs {
					continue
				}
				res := insp.multipart(path, fields, p.files)
				if res.StatusCode != p.status || !strings.Contains(res.body, p.want) {
					t.Errorf("%s at %s: %d %.300s; want %d with %q", p.name, path, res.StatusCode, res.body, p.status, p.want)
				}
			}
		}
		if got := before(); got != start {
			t.Errorf("observations, cases, photos, files: %v after refusals, were %v", got, start)
		}

		// A tree with mistakes: 422, every problem placed and told in
		// Chinese, nothing stored.
		editions, standards := f.count("assess_editions"), f.count("assess_standards")
		bad := strings.NewReplacer("edition: w-2026", "edition: w-2027", "lead_unit: B", "lead_unit: ZZ", `code: "A1.2"`, `code: "A1.1"`, "points: 4", "points: -4").Replace(assessTree)
		res = adm.do("POST", "/api/v1/assess/editions", strings.NewReader(bad), "application/yaml")
		var doc struct {
			Error struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
			Problems []struct {
				Place   string `json:"place"`
				Line    int    `json:"line"`
				Key     string `json:"key"`
				Message string `json:"message"`
			} `json:"problems"`
		}
		res.json(t, &doc)
		if res.StatusCode != 422 || len(doc.Problems) < 2 || doc.Error.Code != "invalid" || !hanRe.MatchString(doc.Error.Message) {
			t.Fatalf("bad tree: %d %s", res.StatusCode, res.body)
		}
		keys := map[string]bool{}
		for _, p := range doc.Problems {
			keys[p.Key] = true
			if p.Line == 0 || !strings.Contains(p.Place, fmt.Sprintf("第 %d 行", p.Line)) || !hanRe.MatchString(p.Message) || strings.Contains(p.Message, p.Key) {
				t.Errorf("problem not placed or not in Chinese: %+v", p)
			}
		}
		if !keys["assess.unknown_unit"] || !keys["assess.dup_code"] {
			t.Errorf("problems %v lack the unknown unit or the duplicate code: %s", keys, res.body)
		}
		// The console's form shows the same problems on a page.
		res = adm.form("POST", "/assess/editions", url.Values{"text": {bad}})
		if res.StatusCode != 422 || !strings.Contains(res.body, "ZZ") || !strings.Contains(res.body, "行") {
			t.Errorf("bad tree (console): %d %.400s", res.StatusCode, res.body)
		}
		if f.count("assess_editions") != editions || f.count("assess_standards") != standards {
			t.Errorf("a refused tree stored rows")
		}
		var eds []assess.EditionInfo
		adm.do("GET", "/api/v1/assess/editions", nil, "").json(t, &eds)
		if len(eds) != 1 || eds[0].Code != "w-2026" {
			t.Errorf("editions after a refused import: %+v", eds)
		}
	})
}

// TestAssessIdempotentObservation: the phone resends an observation with
// the same key, as JSON or as a form with a photo; one observation and
// one case result, and the resend is answered 200 with replayed true.
func TestAssessIdempotentObservation(t *testing.T) {
	testcity.BothLong(t, func(t *testing.T, db *store.DB) {
		f := newAssessFixture(t, db)
		insp := f.login("inspector")
		obs := f.path(true, "/observations")
		// send posts an observation and reads the answer.
		send := func(what string, post func() response, want int) submittedJSON {
			t.Helper()
			res := post()
			if res.StatusCode != want {
				t.Fatalf("%s: status %d, want %d: %s", what, res.StatusCode, want, res.body)
			}
			var out submittedJSON
			res.json(t, &out)
			return out
		}
		// same checks a resend against the first answer.
		same := func(what string, first, again submittedJSON) {
			t.Helper()
			if first.Replayed || !again.Replayed || first.Observation.CaseID == 0 || first.Observation.CaseNo == "" ||
				again.Observation.ID != first.Observation.ID || again.Observation.CaseID != first.Observation.CaseID {
				t.Errorf("%s: first %+v, resend %+v", what, first, again)
			}
		}
		obs0, cases0 := f.count("assess_observations"), f.caseCount()

		// JSON, the key in the body.
		body := map[string]any{"site": "S01", "standard": "A1.2", "result": "fail", "problems": 2, "note": "电杆乱张贴", "key": "k-json-1"}
		first := send("JSON", func() response { return insp.json("POST", obs, body) }, 201)
		if first.Observation.Result != "fail" || first.Observation.Problems != 2 || first.Observation.Note != "电杆乱张贴" {
			t.Errorf("stored %+v", first.Observation)
		}
		same("JSON", first, send("JSON again", func() response { return insp.json("POST", obs, body) }, 200))

		// JSON, the key in the Idempotency-Key header.
		withHeader := func() response {
			b, _ := json.Marshal(map[string]any{"site": "S03", "standard": "A1.1", "result": "fail", "note": "菜场门口积水"})
			req, _ := http.NewRequest("POST", f.url+obs, bytes.NewReader(b))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-CSRF-Token", insp.csrf)
			req.Header.Set("Idempotency-Key", "k-header-1")
			r, err := insp.hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Body.Close()
			var buf bytes.Buffer
			buf.ReadFrom(r.Body)
			return response{StatusCode: r.StatusCode, Header: r.Header, body: buf.String()}
		}
		first = send("header", withHeader, 201)
		same("header", first, send("header again", withHeader, 200))

		// Multipart with a photo, the key as a form field.
		photo := jpegPhoto(t, 1)
		fields := url.Values{"site": {"S02"}, "standard": {"A1.1"}, "result": {"fail"}, "note": {"路面垃圾未清"}, "key": {"k-form-1"}}
		post := func() response { return insp.multipart(obs, fields, map[string][]byte{"road.jpg": photo}) }
		first = send("multipart", post, 201)
		same("multipart", first, send("multipart again", post, 200))

		if n := f.count("assess_observations"); n != obs0+3 {
			t.Errorf("%d observations, want %d", n, obs0+3)
		}
		if n := f.caseCount(); n != cases0+3 {
			t.Errorf("%d cases, want %d", n, cases0+3)
		}
		var photos int
		if err := db.Reader().QueryRow(context.Background(), `SELECT COUNT(*) FROM photos WHERE case_id = ?`, first.Observation.CaseID).Scan(&photos); err != nil {
			t.Fatal(err)
		}
		if photos != 1 {
			t.Errorf("the multipart case has %d photos, want 1", photos)
		}

		// The phone's form without script: a resend of the same key, and
		// both answers go back to the site's page.
		form := url.Values{"standard": {"A1.2"}, "result": {"fail"}, "problems": {"1"}, "note": {"广告"}, "key": {"k-page-1"}}
		for i := 0; i < 2; i++ {
			v := url.Values{}
			for k, vs := range form {
				v[k] = vs
			}
			v.Set("csrf", insp.csrf)
			req, _ := http.NewRequest("POST", f.url+"/inspect/"+f.round+"/S02", strings.NewReader(v.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Accept", "text/html,application/xhtml+xml")
			r, err := insp.hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			r.Body.Close()
			if loc := r.Header.Get("Location"); r.StatusCode != 303 || !strings.HasPrefix(loc, "/inspect/"+f.round+"/S02?msg=saved") {
				t.Fatalf("form post %d: %d %q", i, r.StatusCode, loc)
			}
		}
		if n := f.count("assess_observations"); n != obs0+4 {
			t.Errorf("%d observations after the form's resend, want %d", n, obs0+4)
		}
		if n := f.caseCount(); n != cases0+4 {
			t.Errorf("%d cases after the form's resend, want %d", n, cases0+4)
		}
		// The checklist shows what is recorded, with the case.
		var cl struct {
			Items []struct {
				Code     string `json:"code"`
				Recorded *struct {
					Result string `json:"result"`
					CaseNo string `json:"case_no"`
				} `json:"recorded"`
			} `json:"items"`
		}
		insp.do("GET", f.path(true, "/sites/S02/checklist"), nil, "").json(t, &cl)
		recorded := map[string]string{}
		for _, it := range cl.Items {
			if it.Recorded != nil && it.Recorded.CaseNo != "" {
				recorded[it.Code] = it.Recorded.Result
			}
		}
		if recorded["A1.1"] != "fail" || recorded["A1.2"] != "fail" {
			t.Errorf("S02's checklist: %+v", cl)
		}
	})
}

// TestAssessPhotosNotKeptWhenUnused: photos that an observation does not
// attach to a case (a resend of a stored key; a fail whose standard has
// no category, so no case) leave no file in the photo store.
func TestAssessPhotosNotKeptWhenUnused(t *testing.T) {
	testcity.BothLong(t, func(t *testing.T, db *store.DB) {
		f := newAssessFixture(t, db)
		insp := f.login("inspector")
		obs := f.path(true, "/observations")
		fields := url.Values{"site": {"S02"}, "standard": {"A1.1"}, "result": {"fail"}, "note": {"路面垃圾未清"}, "key": {"k-form-1"}}
		photo := map[string][]byte{"road.jpg": jpegPhoto(t, 2)}
		if res := insp.multipart(obs, fields, photo); res.StatusCode != 201 {
			t.Fatalf("first: %d %s", res.StatusCode, res.body)
		}
		files := f.blobFiles()
		if res := insp.multipart(obs, fields, photo); res.StatusCode != 200 || !strings.Contains(res.body, `"replayed":true`) {
			t.Fatalf("resend: %d %s", res.StatusCode, res.body)
		}
		if got := f.blobFiles(); len(got) != len(files) {
			t.Errorf("the resend left %d photo files behind: %v", len(got)-len(files), got)
		}
		// N1 has no category and there is no default: no case, no photo.
		res := insp.multipart(obs, url.Values{"site": {"S03"}, "standard": {"N1"}, "result": {"fail"}, "key": {"k-n1"}}, photo)
		if res.StatusCode != 201 || !strings.Contains(res.body, `"no_category":true`) {
			t.Fatalf("N1: %d %s", res.StatusCode, res.body)
		}
		if got := f.blobFiles(); len(got) != len(files) {
			t.Errorf("a fail that raised no case left %d photo files behind: %v", len(got)-len(files), got)
		}
	})
}

// TestAssessObservationBodyLimit: an observation's multipart body over the
// server's upload limit is refused as too large, whether the key comes in
// a header or in the form.
func TestAssessObservationBodyLimit(t *testing.T) {
	f := newAssessFixture(t, testcity.SQLite(t))
	insp := f.login("inspector")
	// A 4 MB note: over the 3 MB limit, and no photo to trip the per-photo
	// limit instead.
	fields := url.Values{"site": {"S02"}, "standard": {"A1.1"}, "result": {"fail"}, "note": {strings.Repeat("脏", 4<<20/3)}, "key": {"k-big"}}
	res := insp.multipart(f.path(true, "/observations"), fields, nil)
	if res.StatusCode != 413 || !strings.Contains(res.body, "上传内容超过 3 MB") {
		t.Errorf("4 MB body: %d %.300s", res.StatusCode, res.body)
	}
	res = insp.multipart(f.path(true, "/observations"), fields, map[string][]byte{"huge.jpg": append(smallJPEG(), bytes.Repeat([]byte{0}, 4<<20)...)})
	if res.StatusCode != 413 || !strings.Contains(res.body, "上传内容超过 3 MB") {
		t.Errorf("4 MB photo: %d %.300s", res.StatusCode, res.body)
	}
	if n := f.count("assess_observations"); n != 0 {
		t.Errorf("%d observations stored", n)
	}
}

// TestAssessOpenAPI: the API document lists the assessment's endpoints.
func TestAssessOpenAPI(t *testing.T) {
	f := newFixture(t, testcity.SQLite(t))
	var doc struct {
		Paths map[string]map[string]struct {
			Summary string `json:"summary"`
		} `json:"paths"`
	}
	f.anon().do("GET", "/api/v1/openapi.json", nil, "").json(t, &doc)
	for path, method := range map[string]string{
		"/api/v1/assess/editions":                             "post",
		"/api/v1/assess/sites":                                "post",
		"/api/v1/assess/rounds":                               "post",
		"/api/v1/assess/rounds/{code}/observations":           "post",
		"/api/v1/assess/rounds/{code}/entries":                "get",
		"/api/v1/assess/rounds/{code}/rankings":               "get",
		"/api/v1/assess/rounds/{code}/scores":                 "get",
		"/api/v1/assess/rounds/{code}/close":                  "post",
		"/api/v1/assess/rounds/{code}/teams/{team}":           "put",
		"/api/v1/assess/rounds/{code}/sites/{site}/checklist": "get",
		"/api/v1/assess/assignments":                          "get",
		"/api/v1/assess/editions/{code}/{version}/export":     "get",
		"/api/v1/assess/rounds/{code}/observations/import":    "post",
		"/api/v1/assess/escalations":                          "get",
		"/api/v1/assess/rounds/{code}/proposals":              "get",
		"/api/v1/assess/rounds/{code}/check":                  "get",
		"/api/v1/assess/editions/{code}/{version}/publish":    "post",
		"/api/v1/assess/rounds/{code}/results/import":         "post",
		"/api/v1/assess/rounds/{code}/ledger":                 "get",
		"/api/v1/assess/rounds/{code}/escalations":            "post",
		"/api/v1/assess/rounds/{code}/raise":                  "post",
		"/api/v1/assess/sites/export":                         "get",
		"/api/v1/assess/rounds/{code}/sites":                  "get",
		"/api/v1/assess/editions/{code}/{version}":            "get",
		"/api/v1/assess/rounds/{code}":                        "get",
		"/api/v1/assess/rounds/{code}/teams":                  "get",
	} {
		if op, ok := doc.Paths[path][method]; !ok || op.Summary == "" {
			t.Errorf("%s %s is not documented", method, path)
		}
	}
}
