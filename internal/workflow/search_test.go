package workflow_test

import (
	"chuangwen/internal/org"
	"slices"
	"strconv"
	"strings"
	"testing"

	"chuangwen/internal/store"
	"chuangwen/internal/testcity"
	"chuangwen/internal/workflow"
)

func TestSearchTerms(t *testing.T) {
	got := workflow.SearchTerms("2026-000123", "井盖缺失！", "人民路８８号")
	want := "000123 00123 0123 123 23 3 人民 民路 路 88 8 号 井盖 盖缺 缺失 失"
	if got != want {
		t.Errorf("terms:\n got %s\nwant %s", got, want)
	}
}

// TestSearch finds cases by a part of the number, words of the address
// and description, a receipt code and (for the office only) the phone.
func TestSearch(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		withText := func(desc, addr, phone string) func(*workflow.NewCase) {
			return func(in *workflow.NewCase) { in.Description, in.Address, in.ReporterPhone = desc, addr, phone }
		}
		a := f.report(withText("人行道井盖缺失，有安全隐患", "五华区人民中路88号", "13912345678"))
		b := f.report(withText("垃圾桶满溢无人清运", "盘龙区北京路１２０号", "13700001111"))
		c := f.report(withText("共享单车乱停放", "人民西路口", ""))
		if _, err := db.Exec(f.ctx, `INSERT INTO receipts (code, case_id, kind, created_at) VALUES ('ABCD234567', ?, 'reporter', 0)`, b.ID); err != nil {
			t.Fatal(err)
		}
		search := func(q string) []string {
			t.Helper()
			page, err := f.svc.List(f.ctx, f.acceptor, workflow.Filter{Q: q})
			if err != nil {
				t.Fatalf("search %q: %v", q, err)
			}
			var nos []string
			for _, x := range page.Cases {
				nos = append(nos, x.No)
			}
			slices.Sort(nos)
			return nos
		}
		cases := map[string][]*workflow.Case{
			"井盖":                              {a},
			"井盖缺失":                            {a},
			"盖":                               {a},
			"缺失 人民":                           {a},
			"人民":                              {a, c},
			"人民路":                             nil, // 人民中路, 人民西路: not the phrase
			"北京路120":                          {b},
			"１２０号":                            {b},
			"满溢":                              {b},
			"溢满":                              nil,
			a.No:                              {a},
			strings.ReplaceAll(a.No, "-", ""): {a},
			a.No[len(a.No)-4:]:                {a},
			"ABCD-234567":                     {b},
			"abcd 234567":                     {b},
			"13912345678":                     {a},
			"139 1234 5678":                   {a},
			"！！":                              nil,
			"清运 单车":                           nil,
		}
		check := func(q string, want []*workflow.Case) {
			t.Helper()
			var nos []string
			for _, x := range want {
				nos = append(nos, x.No)
			}
			slices.Sort(nos)
			if got := search(q); !slices.Equal(got, nos) {
				t.Errorf("search %q: got %v, want %v", q, got, nos)
			}
		}
		for q, want := range cases {
			check(q, want)
		}
		// PostgreSQL pages many matches by walking the cases: the same
		// answers that way (here from the first match on)
		if db.Dialect == store.Postgres {
			restore := f.svc.SetSearchWalkFrom(1)
			for q, want := range cases {
				check(q, want)
			}
			restore()
		}
		// The cases filed before the index existed are indexed by the
		// backlog run, once.
		clear := `DELETE FROM case_search`
		if db.Dialect == store.SQLite {
			clear = `INSERT INTO case_search (case_search) VALUES ('delete-all')`
		}
		if _, err := db.Exec(f.ctx, clear); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(f.ctx, `UPDATE counters SET value = ? WHERE name = 'search_backfill'`, c.ID); err != nil {
			t.Fatal(err)
		}
		if got := search("人民"); len(got) != 0 {
			t.Fatalf("emptied index still finds %v", got)
		}
		for i, want := range []int{3, 0} {
			n, err := f.svc.IndexBacklog(f.ctx)
			if err != nil || n != want {
				t.Fatalf("backlog run %d: %d indexed, %v; want %d", i+1, n, err, want)
			}
		}
		if got := search("人民"); len(got) != 2 {
			t.Errorf("after the backlog run: %v", got)
		}
		// A unit's handler does not find cases by the reporter's phone.
		f.act(f.acceptor, a.ID, workflow.ActInput{Action: workflow.Accept})
		f.act(f.acceptor, a.ID, workflow.ActInput{Action: workflow.Dispatch, LeadUnitID: f.unitA.ID})
		for q, want := range map[string]int{"13912345678": 0, "井盖": 1} {
			page, err := f.svc.List(f.ctx, f.handlerA, workflow.Filter{Q: q})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Cases) != want {
				t.Errorf("handler's search %q: %d cases, want %d", q, len(page.Cases), want)
			}
		}
		// Nor, outside the scope, anything at all.
		if page, _ := f.svc.List(f.ctx, f.handlerB, workflow.Filter{Q: "井盖"}); len(page.Cases) != 0 {
			t.Errorf("unit B's handler found unit A's case")
		}
		// The units' search follows the case: returned, nobody's;
		// dispatched to B with A cooperating, both find it; the index
		// rebuilt from the cases, still.
		finds := func(h org.Actor, want int) {
			t.Helper()
			page, err := f.svc.List(f.ctx, h, workflow.Filter{Q: "井盖"})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Cases) != want {
				t.Errorf("%s finds %d cases, want %d", h.Name, len(page.Cases), want)
			}
		}
		f.act(f.handlerA, a.ID, workflow.ActInput{Action: workflow.Return, Opinion: "非我单位职责"})
		finds(f.handlerA, 0)
		f.act(f.acceptor, a.ID, workflow.ActInput{Action: workflow.Dispatch, LeadUnitID: f.unitB.ID, CoopUnitIDs: []int64{f.unitA.ID}})
		finds(f.handlerA, 1)
		finds(f.handlerB, 1)
		if err := f.svc.ResetSearchIndex(f.ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.IndexBacklog(f.ctx); err != nil {
			t.Fatal(err)
		}
		finds(f.handlerA, 1)
		finds(f.handlerB, 1)
		// The unit tokens are not words anyone can search for.
		for _, q := range []string{"u" + strconv.FormatInt(f.unitB.ID, 10), "#u" + strconv.FormatInt(f.unitB.ID, 10)} {
			if page, _ := f.svc.List(f.ctx, f.acceptor, workflow.Filter{Q: q}); len(page.Cases) != 0 {
				t.Errorf("search %q found %d cases", q, len(page.Cases))
			}
		}
	})
}

// TestListOrdersAndPages: the orders a list offers and its numbered
// pages.
func TestListOrdersAndPages(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		var ids []int64
		for range 5 {
			ids = append(ids, f.report().ID)
		}
		slow := f.dispatched(f.unitA, inCategory(f.cat5d.ID)) // deadline in 5 working days
		fast := f.dispatched(f.unitA)                         // in 4 working hours
		if _, err := db.Exec(f.ctx, `UPDATE cases SET warning = 2 WHERE id = ?`, slow.ID); err != nil {
			t.Fatal(err)
		}
		list := func(fl workflow.Filter) ([]int64, workflow.Page) {
			t.Helper()
			page, err := f.svc.List(f.ctx, f.acceptor, fl)
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, c := range page.Cases {
				got = append(got, c.ID)
			}
			return got, page
		}
		all := append(slices.Clone(ids), slow.ID, fast.ID)
		var pages [][]int64
		for n := 1; n <= 5; n++ {
			got, page := list(workflow.Filter{Sort: workflow.SortOldest, Page: n, Limit: 3})
			if page.Total != 7 || page.Pages != 3 || page.Next != 0 {
				t.Fatalf("page %d: total %d pages %d next %d", n, page.Total, page.Pages, page.Next)
			}
			pages = append(pages, got)
		}
		if want := [][]int64{all[:3], all[3:6], all[6:], nil, nil}; !slices.EqualFunc(pages, want, slices.Equal) {
			t.Errorf("oldest first, pages of 3: %v, want %v", pages, want)
		}
		if got, _ := list(workflow.Filter{Sort: workflow.SortDeadline}); !slices.Equal(got[:2], []int64{fast.ID, slow.ID}) || len(got) != 7 {
			t.Errorf("soonest deadline first: %v (fast %d, slow %d)", got, fast.ID, slow.ID)
		}
		if got, _ := list(workflow.Filter{Sort: workflow.SortWarning}); !slices.Equal(got[:2], []int64{slow.ID, fast.ID}) {
			t.Errorf("worst warning first: %v (red %d)", got, slow.ID)
		}
		if got, page := list(workflow.Filter{Page: 2, Limit: 4, ExactTotal: true}); !slices.Equal(got, []int64{ids[2], ids[1], ids[0]}) || page.Total != 7 {
			t.Errorf("newest first, page 2 of 4: %v total %d", got, page.Total)
		}
		for _, bad := range []workflow.Filter{{Sort: "nonsense"}, {Page: -1}} {
			if _, err := f.svc.List(f.ctx, f.acceptor, bad); err == nil {
				t.Errorf("%+v accepted", bad)
			}
		}
	})
}

// TestSearchPagesEveryWay: a search's pages are the same whichever way
// PostgreSQL reads them (the matches from the index; a walk of the newest
// cases that finds the page in its window; a walk whose window is too
// short, which falls back to the index), newest first by cursor and by
// page number, oldest first.
func TestSearchPagesEveryWay(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		var want []string // newest first
		for i := range 24 {
			desc := "人行道井盖缺失"
			if i%2 == 1 {
				desc = "路边暴露垃圾"
			}
			c := f.report(func(in *workflow.NewCase) { in.Description = desc })
			if i%2 == 0 {
				want = append([]string{c.No}, want...)
			}
		}
		read := func(f0 workflow.Filter) []string {
			t.Helper()
			var got []string
			for {
				page, err := f.svc.List(f.ctx, f.acceptor, f0)
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range page.Cases {
					got = append(got, c.No)
				}
				switch {
				case f0.Page > 0 && f0.Page < page.Pages:
					f0.Page++
				case f0.Page == 0 && page.Next != 0:
					f0.Before = page.Next
				default:
					return got
				}
			}
		}
		oldest := slices.Clone(want)
		slices.Reverse(oldest)
		check := func(way string) {
			t.Helper()
			if got := read(workflow.Filter{Q: "井盖", Limit: 5}); !slices.Equal(got, want) {
				t.Errorf("%s, by cursor: %v, want %v", way, got, want)
			}
			if got := read(workflow.Filter{Q: "井盖", Limit: 5, Page: 1}); !slices.Equal(got, want) {
				t.Errorf("%s, by page: %v, want %v", way, got, want)
			}
			if got := read(workflow.Filter{Q: "井盖", Limit: 5, Page: 1, Sort: workflow.SortOldest}); !slices.Equal(got, oldest) {
				t.Errorf("%s, oldest first: %v, want %v", way, got, oldest)
			}
		}
		check("the engine's own way")
		if db.Dialect == store.Postgres {
			defer f.svc.SetSearchWalkFrom(1)()
			check("walking, the page in the window")
			restore := f.svc.SetSearchWalkWindow(14)
			check("walking a window shorter than the list")
			restore()
			defer f.svc.SetSearchWalkWindow(7)()
			check("walking a short window, then the index")
		}
	})
}
