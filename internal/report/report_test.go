package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"chuangwen/internal/apperr"
	"chuangwen/internal/assess"
	"chuangwen/internal/org"
	"chuangwen/internal/photo"
	"chuangwen/internal/report"
	"chuangwen/internal/store"
	"chuangwen/internal/store/storetest"
	"chuangwen/internal/testcity"
	"chuangwen/internal/workcal"
	"chuangwen/internal/workflow"
)

func TestMain(m *testing.M) { storetest.Main(m) }

const tree = `edition: r-2026
name: 通报测试(示例)
site_types: [主次干道]
projects:
  - code: "A"
    name: 环境
    contents:
      - code: "A1"
        name: 市容
        standards:
          - {code: "A1.1", name: 道路干净, points: 6, method: field, rule: pass_rate, site_types: [主次干道], lead_unit: A}
          - {code: "A1.2", name: 满意度, points: 4, method: survey, rule: survey}
`

const sites = `code,name,type,region,unit
S1,清波路,主次干道,330102001001,A
S2,河坊街,主次干道,330102001,B
S3,米市巷,主次干道,330105,B
`

type fixture struct {
	t   *testing.T
	ctx context.Context
	db  *store.DB
	c   *testcity.City
	as  *assess.Service
	rs  *report.Service
}

func (f *fixture) must(err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
}

// round creates, fills and closes a round of the three sites.
func (f *fixture) round(date, obs, values string) {
	f.t.Helper()
	seed := uint64(1)
	rd, err := f.as.CreateRound(f.ctx, f.c.Admin, assess.NewRound{Edition: "r-2026", Name: date, Seed: &seed, Date: date})
	f.must(err)
	if _, ps, err := f.as.ImportObservations(f.ctx, f.c.Admin, rd.Code, strings.NewReader("site,standard,result\n"+obs)); err != nil {
		f.t.Fatal(ps, err)
	}
	if _, ps, err := f.as.ImportResults(f.ctx, f.c.Admin, rd.Code, strings.NewReader("region,standard,value\n"+values)); err != nil {
		f.t.Fatal(ps, err)
	}
	_, err = f.as.CloseRound(f.ctx, f.c.Admin, rd.Code)
	f.must(err)
}

func (f *fixture) act(actor org.Actor, id int64, in workflow.ActInput) {
	f.t.Helper()
	if _, err := f.c.Flow.Act(f.ctx, actor, id, in); err != nil {
		f.t.Fatalf("%s: %v", in.Action, err)
	}
}

func (f *fixture) photo() photo.File {
	f.t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 2, 2))
	img.Set(0, 0, color.RGBA{R: 255, A: 255})
	var buf bytes.Buffer
	f.must(png.Encode(&buf, img))
	p, err := f.c.Flow.Photos.Save(&buf)
	f.must(err)
	return p
}

// dispatched files a case in 清波社区 and dispatches it to unit.
func (f *fixture) dispatched(unit org.Unit) int64 {
	f.t.Helper()
	c, err := f.c.Flow.Report(f.ctx, f.c.Acceptor, workflow.NewCase{CategoryID: f.c.Cat4h.ID, Description: "垃圾", RegionID: f.c.Community1.ID})
	f.must(err)
	f.act(f.c.Acceptor, c.ID, workflow.ActInput{Action: workflow.Accept})
	f.act(f.c.Acceptor, c.ID, workflow.ActInput{Action: workflow.Dispatch, LeadUnitID: unit.ID})
	return c.ID
}

// closed handles and closes a dispatched case at once.
func (f *fixture) closed(unit org.Unit, handler org.Actor) {
	f.t.Helper()
	id := f.dispatched(unit)
	f.act(handler, id, workflow.ActInput{Action: workflow.Acknowledge})
	f.act(handler, id, workflow.ActInput{Action: workflow.Feedback, Opinion: "已清理", Photos: []photo.File{f.photo()}})
	f.act(f.c.Inspector, id, workflow.ActInput{Action: workflow.VerifyPass})
}

// newFixture is the test city in db with the assessment and report
// services on its clock.
func newFixture(t *testing.T, db *store.DB) *fixture {
	c := testcity.New(t, db)
	f := &fixture{t: t, ctx: context.Background(), db: db, c: c}
	f.as = &assess.Service{DB: db, Now: c.Clock.Now, Location: testcity.Shanghai}
	f.rs = &report.Service{DB: db, Flow: c.Flow, Assess: f.as, Location: testcity.Shanghai, Now: c.Clock.Now}
	return f
}

// quarter is a hand-built 2026Q4 with a Q3 before it:
//
//	Q3 round 2026-08-10: S1 pass, S2 pass, S3 fail; surveys 上城区 0.8, 拱墅区 0.7
//	   上城区 field 6/6 = 1, survey 0.8 → index 100 × (60 + 32) ÷ 100 = 92
//	   拱墅区 field 0/6 = 0, survey 0.7 → index 28
//	Q4 round 2026-11-10: S1 pass, S2 fail, S3 pass; surveys 0.5 and 0.9
//	   上城区 field 3/6 = 0.5, survey 0.5 → 50 (change −42)
//	   拱墅区 field 1, survey 0.9 → 96 (change +68)
//	Q4 cases (4-hour category, dispatched on Monday 16 November 09:00):
//	   unit A: two handled at once and closed → every rate 1 (or 0 for the
//	   bad ones) → score 100
//	   unit B: one handled and closed, one left open past its deadline →
//	   due 2, on time 1, closed 1, rework 0 of 1, overdue 0 (no watch ran)
//	   → 100 × (40 × ½ + 30 × ½ + 15 + 15) ÷ 100 = 65
func quarter(t *testing.T, db *store.DB) *fixture {
	f := newFixture(t, db)
	c := f.c
	if _, ps, err := f.as.ImportTree(f.ctx, c.Admin, strings.NewReader(tree), assess.FormatYAML); err != nil {
		t.Fatal(ps, err)
	}
	if _, ps, err := f.as.ImportSites(f.ctx, c.Admin, strings.NewReader(sites), assess.FormatCSV); err != nil {
		t.Fatal(ps, err)
	}
	f.round("2026-08-10", "S1,A1.1,pass\nS2,A1.1,pass\nS3,A1.1,fail\n", "330102,A1.2,0.8\n330105,A1.2,0.7\n")
	f.round("2026-11-10", "S1,A1.1,pass\nS2,A1.1,fail\nS3,A1.1,pass\n", "330102,A1.2,0.5\n330105,A1.2,0.9\n")
	st := report.DefaultSettings()
	st.MinDue = 1
	f.must(f.rs.SaveSettings(f.ctx, c.Admin, st))
	shanghai := testcity.Shanghai
	c.Clock.Set(time.Date(2026, 11, 16, 9, 0, 0, 0, shanghai))
	f.closed(c.UnitA, c.HandlerA)
	f.closed(c.UnitA, c.HandlerA)
	f.closed(c.UnitB, c.HandlerB)
	f.dispatched(c.UnitB)
	c.Clock.Set(time.Date(2026, 11, 18, 9, 0, 0, 0, shanghai)) // the open one is past its deadline
	return f
}

func TestQuarterlyBulletin(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := quarter(t, db)
		b, err := f.rs.Draft(f.ctx, f.c.Leader, "2026Q4")
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(b.Doc)
		var doc struct {
			Districts []struct {
				Code                  string
				Index                 *float64
				Rank                  int
				Field, Survey, Change *float64
				PreviousIndex         *float64 `json:"previous_index"`
				Rounds                int
			}
			Units []struct {
				Code               string
				Due, HandledOnTime int `json:"-"`
				Score, Change      *float64
				Rank               int
				OnTimeHandlingRate *float64 `json:"on_time_handling_rate"`
				ClosureRate        *float64 `json:"closure_rate"`
			}
			Rounds    []struct{ Code string }
			RedList   []struct{ Kind, Code string } `json:"red_list"`
			BlackList []struct{ Kind, Code string } `json:"black_list"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s", raw)
		want := []struct {
			code                  string
			index                 float64
			rank                  int
			field, survey, change float64
		}{{"330105", 96, 1, 1, 0.9, 68}, {"330102", 50, 2, 0.5, 0.5, -42}}
		if len(doc.Districts) != 2 {
			t.Fatalf("districts %+v", doc.Districts)
		}
		for i, w := range want {
			d := doc.Districts[i]
			if d.Code != w.code || d.Index == nil || *d.Index != w.index || d.Rank != w.rank || *d.Field != w.field || *d.Survey != w.survey || d.Change == nil || *d.Change != w.change || d.Rounds != 1 {
				t.Errorf("district %d: %+v, want %+v", i, d, w)
			}
		}
		if len(doc.Units) != 2 || doc.Units[0].Code != "A" || *doc.Units[0].Score != 100 || doc.Units[0].Rank != 1 ||
			doc.Units[1].Code != "B" || *doc.Units[1].Score != 65 || doc.Units[1].Rank != 2 || *doc.Units[1].OnTimeHandlingRate != 0.5 {
			t.Errorf("units %s", raw)
		}
		if len(doc.Rounds) != 1 {
			t.Errorf("rounds %+v", doc.Rounds)
		}
		if _, err := f.rs.Draft(f.ctx, f.c.HandlerA, "2026Q4"); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("a handler drafts: %v", err)
		}
		if _, err := f.rs.Draft(f.ctx, f.c.Leader, "2026Q5"); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("a bad quarter: %v", err)
		}
	})
}

func TestPublishAndVerify(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := quarter(t, db)
		if _, err := f.rs.Publish(f.ctx, f.c.Leader, "2026Q4"); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("a leader publishes: %v", err)
		}
		p, err := f.rs.Publish(f.ctx, f.c.Admin, "2026Q4")
		if err != nil {
			t.Fatal(err)
		}
		if p.Code != "2026Q4-1" || len(p.SHA256) != 64 {
			t.Fatalf("published %+v", p)
		}
		diffs, err := f.rs.Verify(f.ctx, f.c.Leader, p.Code)
		if err != nil || len(diffs) != 0 {
			t.Fatalf("verify at once: %+v %v", diffs, err)
		}
		// Work goes on after publication: the open case is handled late and
		// closed. The bulletin's figures are those known at its cut-off.
		f.c.Clock.Advance(time.Hour)
		var open int64
		f.must(db.Reader().QueryRow(f.ctx, `SELECT id FROM cases WHERE state = 'dispatched'`).Scan(&open))
		f.act(f.c.HandlerB, open, workflow.ActInput{Action: workflow.Acknowledge})
		f.act(f.c.HandlerB, open, workflow.ActInput{Action: workflow.Feedback, Opinion: "已清理", Photos: []photo.File{f.photo()}})
		if diffs, err := f.rs.Verify(f.ctx, f.c.Leader, p.Code); err != nil || len(diffs) != 0 {
			t.Fatalf("verify after later work: %+v %v", diffs, err)
		}
		// A stored input changed behind the program's back shows, named.
		if _, err := db.Exec(f.ctx, `UPDATE assess_results SET value = '0.6' WHERE value = '0.5'`); err != nil {
			t.Fatal(err)
		}
		diffs, err = f.rs.Verify(f.ctx, f.c.Leader, p.Code)
		if err != nil || len(diffs) == 0 {
			t.Fatalf("verify after a change: %+v %v", diffs, err)
		}
		named := false
		for _, d := range diffs {
			if d.Path == "districts[330102].index" && d.Published == "50" && d.Recomputed == "54" {
				named = true
			}
		}
		if !named {
			t.Errorf("differences %+v do not name 上城区's index 50 → 54", diffs)
		}
		// The stored document edited: its hash no longer matches.
		if _, err := db.Exec(f.ctx, `UPDATE bulletins SET doc = REPLACE(doc, '"quarter":"2026Q4"', '"quarter":"2026Q3"')`); err != nil {
			t.Fatal(err)
		}
		diffs, _ = f.rs.Verify(f.ctx, f.c.Leader, p.Code)
		hash := false
		for _, d := range diffs {
			hash = hash || d.Path == "sha256"
		}
		if !hash {
			t.Errorf("an edited document passes the hash: %+v", diffs)
		}
		// A second publication of the quarter gets the next code.
		p2, err := f.rs.Publish(f.ctx, f.c.Admin, "2026Q4")
		if err != nil || p2.Code != "2026Q4-2" {
			t.Errorf("second: %+v %v", p2.Code, err)
		}
		// Public only when the office says so.
		if _, err := f.rs.Bulletin(f.ctx, org.Actor{}, p2.Code); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("anonymous read of a private bulletin: %v", err)
		}
		f.must(f.rs.SetPublic(f.ctx, f.c.Admin, p2.Code, true))
		if _, err := f.rs.Bulletin(f.ctx, org.Actor{}, p2.Code); err != nil {
			t.Errorf("anonymous read of a public bulletin: %v", err)
		}
	})
}

func TestWeeklyNotices(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		c, ctx := f.c, f.ctx
		sh := testcity.Shanghai
		// Friday 20 November 2026, 09:00: a 4-working-hour case dispatched
		// Thursday is overdue; one of 5 working days dispatched Wednesday
		// 18 November is due Wednesday 25th (not within 2 working days of
		// Friday: Tuesday 09:00); one dispatched Monday 16th is due Monday
		// 23rd: due soon across the weekend. Unit B gets a listed case.
		c.Clock.Set(time.Date(2026, 11, 19, 9, 0, 0, 0, sh))
		overdue := f.dispatched(c.UnitA)
		dispatch5d := func(at time.Time) int64 {
			c.Clock.Set(at)
			cs, err := c.Flow.Report(ctx, c.Acceptor, workflow.NewCase{CategoryID: c.Cat5d.ID, Description: "绿地", RegionID: c.Community1.ID})
			f.must(err)
			f.act(c.Acceptor, cs.ID, workflow.ActInput{Action: workflow.Accept})
			f.act(c.Acceptor, cs.ID, workflow.ActInput{Action: workflow.Dispatch, LeadUnitID: c.UnitA.ID})
			return cs.ID
		}
		later := dispatch5d(time.Date(2026, 11, 18, 9, 0, 0, 0, sh))
		soon := dispatch5d(time.Date(2026, 11, 16, 9, 0, 0, 0, sh))
		listed := f.dispatched(c.UnitB)
		f.act(c.Acceptor, listed, workflow.ActInput{Action: workflow.Supervise, Opinion: "挂牌督办"})
		c.Clock.Set(time.Date(2026, 11, 20, 9, 0, 0, 0, sh))

		docs, err := f.rs.WeekNotices(ctx, c.Leader, "2026-W47", "")
		if err != nil || len(docs) != 2 {
			t.Fatalf("drafts %+v %v", docs, err)
		}
		a, b := docs[0], docs[1]
		ids := func(cs []report.NoticeCase) (out []int64) {
			for _, c := range cs {
				out = append(out, c.ID)
			}
			return out
		}
		if a.Unit != "A" || a.No != "" || len(a.Overdue) != 1 || a.Overdue[0].ID != overdue || len(a.DueSoon) != 1 || a.DueSoon[0].ID != soon {
			t.Errorf("unit A: overdue %v, due soon %v (later %d)", ids(a.Overdue), ids(a.DueSoon), later)
		}
		if b.Unit != "B" || len(b.Listed) != 1 || b.Listed[0].ID != listed {
			t.Errorf("unit B: %+v", b)
		}

		// Issued once, whoever issues it again.
		if _, err := f.rs.IssueWeekly(ctx, c.Leader, "2026-W47"); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("a leader issues: %v", err)
		}
		n, err := f.rs.IssueWeekly(ctx, org.System, "2026-W47")
		if err != nil || n != 2 {
			t.Fatalf("issue: %d %v", n, err)
		}
		if n, _ := f.rs.IssueWeekly(ctx, org.System, "2026-W47"); n != 0 {
			t.Errorf("issued again: %d", n)
		}
		mine, err := f.rs.Notices(ctx, c.HandlerA, "")
		if err != nil || len(mine) != 1 || mine[0].Doc.Unit != "A" || mine[0].Doc.No != "2026-W47-001" && mine[0].Doc.No != "2026-W47-002" {
			t.Fatalf("unit A's notices %+v %v", mine, err)
		}
		noA := mine[0].Doc.No
		if err := f.rs.Acknowledge(ctx, c.HandlerB, noA); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("unit B signs unit A's: %v", err)
		}
		f.must(f.rs.Acknowledge(ctx, c.HandlerA, noA))
		if err := f.rs.Acknowledge(ctx, c.HandlerA, noA); !apperr.Is(err, apperr.Conflict) {
			t.Errorf("signed twice: %v", err)
		}
		// Next week: B never signed, so its notice is escalated and names
		// the unsigned one; A's is not.
		c.Clock.Set(time.Date(2026, 11, 30, 10, 0, 0, 0, sh))
		if _, err := f.rs.IssueWeekly(ctx, org.System, "2026-W49"); err != nil {
			t.Fatal(err)
		}
		all, err := f.rs.Notices(ctx, c.Leader, "2026-W49")
		if err != nil || len(all) != 2 {
			t.Fatalf("week 49 %+v %v", all, err)
		}
		for _, n := range all {
			switch n.Doc.Unit {
			case "A":
				if n.Doc.Escalated {
					t.Errorf("A escalated")
				}
			case "B":
				if !n.Doc.Escalated || len(n.Doc.Unacknowledged) != 1 {
					t.Errorf("B %+v", n.Doc)
				}
			}
		}
		// An instant notice about one case goes to its lead unit.
		var no string
		f.must(db.Reader().QueryRow(ctx, `SELECT no FROM cases WHERE id = ?`, overdue).Scan(&no))
		if _, err := f.rs.Instant(ctx, c.HandlerA, "", no, "x"); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("a handler issues: %v", err)
		}
		d, err := f.rs.Instant(ctx, c.Acceptor, "", no, "请于今日内处置")
		if err != nil || d.Kind != "instant" || d.Unit != "A" || d.Case == nil || d.Case.ID != overdue || d.Note != "请于今日内处置" {
			t.Errorf("instant %+v %v", d, err)
		}
		if _, err := f.rs.WeekNotices(ctx, c.Leader, "2026-W60", ""); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("a bad week: %v", err)
		}
	})
}

func TestISOWeeks(t *testing.T) {
	for _, tc := range []struct {
		week  string
		start string
	}{{"2026-W01", "2025-12-29"}, {"2026-W49", "2026-11-30"}, {"2026-W53", "2026-12-28"}, {"2027-W01", "2027-01-04"}} {
		w, err := report.ParseWeek(tc.week)
		if err != nil || w.Start(time.UTC).Format(time.DateOnly) != tc.start {
			t.Errorf("%s: %v %v", tc.week, w.Start(time.UTC), err)
		}
	}
	if _, err := report.ParseWeek("2027-W53"); err == nil {
		t.Errorf("2027 has no week 53")
	}
}

func TestMonthlyReport(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := quarter(t, db)
		d, err := f.rs.Monthly(f.ctx, f.c.Leader, "2026-11")
		if err != nil {
			t.Fatal(err)
		}
		units := map[string]report.ProgressDoc{}
		for _, u := range d.Units {
			units[u.Code] = u
		}
		if a, b := units["A"], units["B"]; a.Dispatched != 2 || a.Closed != 2 || b.Dispatched != 2 || b.Closed != 1 || b.Due != 2 {
			t.Errorf("units %+v", d.Units)
		}
		if d.City.Dispatched != 4 || d.City.Reported != 4 {
			t.Errorf("city %+v", d.City)
		}
		if len(d.TopCategories) != 1 || d.TopCategories[0].Count != 4 || d.TopCategories[0].Previous != 0 {
			t.Errorf("categories %+v", d.TopCategories)
		}
		if len(d.Hotspots) != 1 || d.Hotspots[0].Region != "清波社区" || d.Hotspots[0].Count != 4 {
			t.Errorf("hotspots %+v", d.Hotspots)
		}
		if len(d.Trend) != 6 || d.Trend[5].Month != "2026-11" || d.Trend[5].Reported != 4 || d.Trend[5].Closed != 3 {
			t.Errorf("trend %+v", d.Trend)
		}
		if d.LatestRound == nil || d.LatestRound.Date != "2026-11-10" {
			t.Errorf("latest round %+v", d.LatestRound)
		}
		if _, err := f.rs.Monthly(f.ctx, f.c.HandlerA, "2026-11"); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("a handler: %v", err)
		}
		if _, err := f.rs.Monthly(f.ctx, f.c.Leader, "2026-13"); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("month 13: %v", err)
		}
	})
}

func TestWebhooks(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		c, ctx := f.c, f.ctx
		// A receiver that checks the signature and fails its first two
		// requests.
		var got []string
		fails := 2
		var secret string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			ts, _ := strconv.ParseInt(r.Header.Get("X-Chuangwen-Timestamp"), 10, 64)
			if r.Header.Get("X-Chuangwen-Signature") != report.Sign(secret, ts, body) {
				http.Error(w, "bad signature", http.StatusUnauthorized)
				return
			}
			if fails > 0 {
				fails--
				http.Error(w, "busy", http.StatusServiceUnavailable)
				return
			}
			got = append(got, string(body))
		}))
		defer srv.Close()
		if _, err := f.rs.AddWebhook(ctx, c.Leader, srv.URL, "A"); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("a leader adds a webhook: %v", err)
		}
		if _, err := f.rs.AddWebhook(ctx, c.Admin, "ftp://example.org/x", ""); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("an ftp webhook: %v", err)
		}
		hook, err := f.rs.AddWebhook(ctx, c.Admin, srv.URL+"/hook", "A")
		f.must(err)
		secret = hook.Secret
		// Unit A's notice is queued for the hook; unit B's is not.
		c.Clock.Set(time.Date(2026, 11, 16, 9, 0, 0, 0, testcity.Shanghai))
		f.dispatched(c.UnitA)
		f.dispatched(c.UnitB)
		c.Clock.Set(time.Date(2026, 11, 17, 9, 0, 0, 0, testcity.Shanghai))
		if n, err := f.rs.IssueWeekly(ctx, org.System, "2026-W47"); err != nil || n != 2 {
			t.Fatalf("issue: %d %v", n, err)
		}
		deliver := func() int {
			n, err := f.rs.DeliverDue(ctx, srv.Client())
			f.must(err)
			return n
		}
		if n := deliver(); n != 1 || len(got) != 0 {
			t.Fatalf("first attempt: %d attempted, %d received", n, len(got))
		}
		if n := deliver(); n != 0 {
			t.Errorf("retried before its backoff: %d", n)
		}
		c.Clock.Advance(report.Backoff[0])
		deliver()
		c.Clock.Advance(report.Backoff[1])
		deliver()
		if len(got) != 1 || !strings.Contains(got[0], `"unit":"A"`) {
			t.Fatalf("received %v", got)
		}
		log, err := f.rs.Deliveries(ctx, c.Admin, hook.ID, 0)
		if err != nil || len(log) != 1 || log[0].Status != "delivered" || log[0].Attempts != 3 || log[0].LastStatus != 200 {
			t.Errorf("log %+v %v", log, err)
		}
		c.Clock.Advance(24 * time.Hour)
		if n := deliver(); n != 0 {
			t.Errorf("delivered twice: %d", n)
		}
	})
}

// TestWeeklyNoticeHolidayWeek: a notice issued on Wednesday 30 September
// 2026 at 09:00, the eve of the National Day week (1–7 October off,
// Saturday 10 October worked), counts its two working days of "due soon"
// (the test city works 09:00–18:00) across the holiday: Wednesday, then
// Thursday 8 October, to 18:00. A case due on 8 October at 17:00 and one
// due on the holiday are due soon; one due on Friday 9 October is not.
// Without the holiday the window would end on Thursday 1 October and the
// first would not be listed.
func TestWeeklyNoticeHolidayWeek(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		c, ctx := f.c, f.ctx
		f.must(c.Flow.SetHolidays(ctx, c.Admin, workcal.China2026()))
		sh := testcity.Shanghai
		c.Clock.Set(time.Date(2026, 9, 29, 9, 0, 0, 0, sh))
		due := func(at time.Time) int64 {
			id := f.dispatched(c.UnitA)
			_, err := db.Exec(ctx, `UPDATE cases SET deadline = ? WHERE id = ?`, store.Ms(at), id) // the deadline under test
			f.must(err)
			return id
		}
		afterHoliday := due(time.Date(2026, 10, 8, 17, 0, 0, 0, sh))
		onHoliday := due(time.Date(2026, 10, 1, 10, 0, 0, 0, sh))
		onFriday := due(time.Date(2026, 10, 9, 10, 0, 0, 0, sh))
		c.Clock.Set(time.Date(2026, 9, 30, 9, 0, 0, 0, sh))
		docs, err := f.rs.WeekNotices(ctx, c.Leader, "2026-W40", "A")
		if err != nil || len(docs) != 1 {
			t.Fatalf("notices %+v %v", docs, err)
		}
		var soon []int64
		for _, nc := range docs[0].DueSoon {
			soon = append(soon, nc.ID)
		}
		if len(soon) != 2 || soon[0] != onHoliday || soon[1] != afterHoliday {
			t.Errorf("due soon %v, want [%d %d] (not %d)", soon, onHoliday, afterHoliday, onFriday)
		}
		if len(docs[0].Overdue) != 0 {
			t.Errorf("overdue %+v", docs[0].Overdue)
		}
	})
}
