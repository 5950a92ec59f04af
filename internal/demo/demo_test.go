package demo_test

import (
	"context"
	"fmt"
	"math/big"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"chuangwen/internal/assess"
	"chuangwen/internal/audit"
	"chuangwen/internal/basemap"
	"chuangwen/internal/demo"
	"chuangwen/internal/geo"
	"chuangwen/internal/grid"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
	"chuangwen/internal/store/storetest"
	"chuangwen/internal/tasks"
	"chuangwen/internal/testcity"
	"chuangwen/internal/volunteer"
	"chuangwen/internal/workflow"
)

type env struct {
	db     *store.DB
	orgs   *org.Store
	flow   *workflow.Service
	grid   *grid.Store
	assess *assess.Service
	vol    *volunteer.Service
	tasks  *tasks.Service
}

func newEnv(t testing.TB) env {
	return newEnvOn(t, storetest.SQLite(t))
}

func newEnvOn(t testing.TB, db *store.DB) env {
	orgs, flow := testcity.Services(t, db)
	g := grid.New(db, nil)
	seal, err := volunteer.NewSealer(make([]byte, volunteer.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return env{db: db, orgs: orgs, flow: flow, grid: g, assess: &assess.Service{DB: db, Location: testcity.Shanghai, Locator: g, Cases: flow},
		vol:   volunteer.New(db, orgs, seal, testcity.Shanghai, nil),
		tasks: &tasks.Service{DB: db, Blobs: flow.Photos.Blobs, Location: testcity.Shanghai, Calendar: flow.Calendar}}
}

// count runs a query returning one integer.
func count(t *testing.T, db *store.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.Reader().QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func groupCounts(t *testing.T, db *store.DB, q string) map[string]int {
	t.Helper()
	rows, err := db.Reader().Query(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			t.Fatal(err)
		}
		out[k] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestLoad(t *testing.T) {
	t.Parallel()
	// the demo on PostgreSQL (a whole load, about 40 s under -race) in the
	// long run; the packages it drives are tested on PostgreSQL every run
	storetest.BothLong(t, func(t *testing.T, db *store.DB) { testLoad(t, newEnvOn(t, db)) })
}

func testLoad(t *testing.T, e env) {
	ctx := context.Background()
	now := time.Date(2026, 11, 27, 16, 30, 0, 0, testcity.Shanghai) // a Friday afternoon
	accounts, err := demo.Load(ctx, e.orgs, e.flow, demo.Options{Cases: 200, Now: now, Log: t.Logf, Grid: e.grid, Assess: e.assess, Basemap: &basemap.Store{DB: e.db}, Volunteer: e.vol, Tasks: e.tasks})
	if err != nil {
		t.Fatal(err)
	}
	checkBaseLayer(t, e)
	if e.flow.Now != nil || e.orgs.Now != nil || e.grid.Now != nil || e.assess.Now != nil {
		t.Error("Load did not restore the clocks")
	}
	if e.flow.Locator != e.grid {
		t.Error("Load did not set the workflow's locator to the grid")
	}

	levels := groupCounts(t, e.db, `SELECT level, count(*) FROM regions GROUP BY level`)
	if levels["city"] != 1 || levels["district"] != 4 || levels["street"] < 12 || levels["community"] < 40 {
		t.Errorf("regions by level = %v", levels)
	}
	if n := count(t, e.db, `SELECT count(*) FROM units`); n < 25 {
		t.Errorf("%d units, want at least 25", n)
	}
	kinds := groupCounts(t, e.db, `SELECT kind, count(*) FROM units GROUP BY kind`)
	if kinds["district"] != 4 || kinds["street"] != 8 || kinds["company"] < 3 {
		t.Errorf("units by kind = %v", kinds)
	}
	if n := count(t, e.db, `SELECT count(*) FROM categories WHERE parent_id IS NOT NULL AND standard <> ''`); n < 20 {
		t.Errorf("%d 小类 with a standard", n)
	}
	if n := count(t, e.db, `SELECT count(*) FROM categories WHERE hint = ''`); n != 0 {
		t.Errorf("%d categories without a hint", n)
	}
	if n := count(t, e.db, `SELECT count(*) FROM categories WHERE auto_accept = TRUE AND auto_dispatch = TRUE AND parent_id IS NOT NULL`); n < 1 || n > 2 {
		t.Errorf("%d categories accepted and dispatched on arrival, want 1 or 2", n)
	}
	if n := count(t, e.db, `SELECT count(*) FROM categories WHERE auto_accept <> auto_dispatch`); n != 0 {
		t.Errorf("%d categories with only one of the automatic switches", n)
	}
	checkGrid(t, e)

	roles := map[string]int{}
	for _, a := range accounts {
		roles[a.Role]++
		if a.Password != demo.DemoPassword || a.Username == "" || a.Unit == "" {
			t.Errorf("account %+v", a)
		}
	}
	for _, r := range org.Roles {
		if roles[string(r)] == 0 {
			t.Errorf("no demo account with role %s", r)
		}
	}
	if n := count(t, e.db, `SELECT count(*) FROM users WHERE must_change_password = TRUE`); n != 0 {
		t.Errorf("%d demo users must change their password", n)
	}
	for _, name := range []string{"admin", "acceptor1", "handler-cgj", "grid1"} {
		if _, err := e.orgs.Login(ctx, name, demo.DemoPassword, "127.0.0.1", "test"); err != nil {
			t.Errorf("login %s: %v", name, err)
		}
	}

	if n := count(t, e.db, `SELECT count(*) FROM cases WHERE source <> 'inspection'`); n != 200 {
		t.Errorf("%d cases besides the assessment's, want 200", n)
	}
	states := groupCounts(t, e.db, `SELECT state, count(*) FROM cases GROUP BY state`)
	t.Logf("cases by state: %v", states)
	for _, st := range workflow.States {
		if states[string(st)] == 0 {
			t.Errorf("no case in state %s", st)
		}
	}
	if states["closed"] < 100 {
		t.Errorf("only %d closed cases", states["closed"])
	}
	for name, q := range map[string]string{
		"overdue":                   `SELECT count(*) FROM cases WHERE overdue = TRUE`,
		"open overdue":              `SELECT count(*) FROM cases WHERE overdue = TRUE AND state IN ('dispatched', 'in_progress')`,
		"yellow":                    `SELECT count(*) FROM cases WHERE warning = 1`,
		"open yellow":               `SELECT count(*) FROM cases WHERE warning = 1 AND state IN ('dispatched', 'in_progress')`,
		"reworked":                  `SELECT count(*) FROM cases WHERE rework_count > 0`,
		"returned":                  `SELECT count(*) FROM cases WHERE return_count > 0`,
		"supervised":                `SELECT count(*) FROM cases WHERE supervised = TRUE`,
		"extension pending":         `SELECT count(*) FROM cases WHERE ext_pending = TRUE`,
		"extended":                  `SELECT count(*) FROM dispatches WHERE extensions > 0`,
		"handled late":              `SELECT count(*) FROM dispatches WHERE handled_at > deadline`,
		"after photos":              `SELECT count(*) FROM photos WHERE kind = 'after'`,
		"merged into a case":        `SELECT count(*) FROM cases WHERE merged_into IS NOT NULL`,
		"leader supervision":        `SELECT count(*) FROM events e JOIN users u ON u.id = e.actor_id WHERE e.action = 'supervise' AND u.username = 'leader1'`,
		"by district government":    `SELECT count(*) FROM cases c JOIN units u ON u.id = c.lead_unit_id WHERE u.kind = 'district'`,
		"street office cooperating": `SELECT count(*) FROM case_coop_units cu JOIN units u ON u.id = cu.unit_id WHERE u.kind = 'street'`,
	} {
		if n := count(t, e.db, q); n == 0 {
			t.Errorf("no %s cases (%s)", name, q)
		}
	}
	// Re-checks: revisits in every state, relapses in the figures, recurrences flagged.
	revisits := groupCounts(t, e.db, `SELECT state, count(*) FROM revisits GROUP BY state`)
	for _, st := range []string{workflow.RevisitPending, workflow.RevisitPassed, workflow.RevisitFailed} {
		if revisits[st] == 0 {
			t.Errorf("no revisit %s: %v", st, revisits)
		}
	}
	if n := count(t, e.db, `SELECT count(*) FROM dispatches WHERE relapsed_at > 0`); n != revisits[workflow.RevisitFailed] {
		t.Errorf("%d relapsed dispatches, %d failed revisits", n, revisits[workflow.RevisitFailed])
	}
	if n := count(t, e.db, `SELECT count(*) FROM case_recurrences`); n == 0 {
		t.Error("no recurrence flagged")
	}
	// The task list: milestones in every state, reports accepted and returned.
	tl, err := e.tasks.Tasks(ctx, org.System, tasks.Filter{Year: now.In(testcity.Shanghai).Year()})
	if err != nil {
		t.Fatal(err)
	}
	msStates := map[string]int{}
	for _, tk := range tl {
		for _, m := range tk.Milestones {
			msStates[m.Status]++
		}
	}
	t.Logf("task milestones by status: %v", msStates)
	for _, st := range []string{tasks.Done, tasks.OnTrack, tasks.AtRisk, tasks.Overdue} {
		if len(tl) != 16 || msStates[st] == 0 {
			t.Errorf("%d tasks; no milestone %s: %v", len(tl), st, msStates)
		}
	}
	decisions := groupCounts(t, e.db, `SELECT decision, count(*) FROM plan_reports GROUP BY decision`)
	for _, d := range []string{tasks.Accepted, tasks.Returned} {
		if decisions[d] == 0 {
			t.Errorf("no report %s: %v", d, decisions)
		}
	}
	siteRechecks := groupCounts(t, e.db, `SELECT state, count(*) FROM assess_rechecks GROUP BY state`)
	for _, st := range []string{"pending", "passed", "failed"} {
		if siteRechecks[st] == 0 {
			t.Errorf("no site re-inspection %s: %v", st, siteRechecks)
		}
	}
	sources := groupCounts(t, e.db, `SELECT source, count(*) FROM cases GROUP BY source`)
	for _, src := range []string{workflow.SourceCitizen, workflow.SourceHotline, workflow.SourceInspector, workflow.SourceGrid} {
		if sources[src] == 0 {
			t.Errorf("no case from source %s (%v)", src, sources)
		}
	}
	// Nothing happens after "now", and the trail is in time order.
	if n := count(t, e.db, `SELECT count(*) FROM events WHERE at > ? AND action <> 'user.login'`, now.UnixMilli()); n != 0 {
		t.Errorf("%d events after now", n)
	}
	if n := count(t, e.db, `SELECT count(*) FROM events a JOIN events b ON b.seq = a.seq + 1 WHERE b.at < a.at AND b.action <> 'user.login'`); n != 0 {
		t.Errorf("%d events earlier than the one before them", n)
	}
	if n := count(t, e.db, `SELECT count(*) FROM cases WHERE reported_at < ?`, now.AddDate(0, 0, -120).UnixMilli()); n != 0 {
		t.Errorf("%d cases reported before the window", n)
	}

	checkPlacement(t, e, 200)
	checkAssessment(t, e, now)
	checkVolunteers(t, e, now, 200)

	rep, err := audit.Verify(ctx, e.db)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK {
		t.Errorf("audit chain broken: %+v", rep)
	}

	if _, err := demo.Load(ctx, e.orgs, e.flow, demo.Options{Cases: 10, Now: now}); err == nil {
		t.Error("a second Load on the same database succeeded")
	}
}

// checkGrid checks the demo city's grid cells and their grid workers.
func checkGrid(t *testing.T, e env) {
	t.Helper()
	ctx := context.Background()
	cells := count(t, e.db, `SELECT count(*) FROM grid_cells`)
	if cells < 4000 || cells > 5000 {
		t.Errorf("%d grid cells, want 4000..5000", cells)
	}
	if n, err := e.grid.Count(ctx); err != nil || n != cells {
		t.Errorf("grid index holds %d cells (%v), the table %d", n, err, cells)
	}
	// Every cell lies in its community: the code starts with the
	// community's, the names agree, and the owner unit is known.
	if n := count(t, e.db, `SELECT count(*) FROM grid_cells g JOIN regions r ON r.id = g.region_id
		JOIN regions st ON st.id = r.parent_id JOIN regions d ON d.id = st.parent_id
		WHERE r.level = 'community' AND g.community = r.name AND g.street = st.name AND g.district = d.name
		AND substr(g.code, 1, 12) = r.code AND length(g.code) = 15`); n != cells {
		t.Errorf("%d of %d cells resolved to their community", n, cells)
	}
	if n := count(t, e.db, `SELECT count(*) FROM grid_cells g JOIN units u ON u.id = g.owner_unit_id WHERE u.code = g.owner AND u.kind IN ('street', 'district')`); n != cells {
		t.Errorf("%d of %d cells with a street office or district government as owner", n, cells)
	}
	if n := count(t, e.db, `SELECT count(*) FROM regions r WHERE r.level = 'community' AND NOT EXISTS (SELECT 1 FROM grid_cells g WHERE g.region_id = r.id)`); n != 0 {
		t.Errorf("%d communities without cells", n)
	}
	all, more, err := e.grid.Cells(ctx, geo.Rect{Min: geo.Point{Lon: 102.60, Lat: 24.90}, Max: geo.Point{Lon: 102.90, Lat: 25.10}}, 10000)
	if err != nil || more || len(all) != cells {
		t.Fatalf("%d cells in the city box (more %v, %v), want %d", len(all), more, err, cells)
	}
	multi, holes := 0, 0
	for _, c := range all {
		if len(c.Geometry) > 1 {
			multi++
		}
		for _, pg := range c.Geometry {
			if len(pg) > 1 {
				holes++
			}
		}
		if c.Name != c.Community+"第"+c.Code[12:]+"网格" {
			t.Errorf("cell %s is named %q", c.Code, c.Name)
		}
	}
	if multi == 0 || holes == 0 {
		t.Errorf("%d multi-part cells and %d holes, want some of each", multi, holes)
	}
	// Each grid worker patrols every cell of their street and no other.
	for _, name := range []string{"grid1", "grid2", "grid3"} {
		var id, street int64
		if err := e.db.Reader().QueryRow(ctx, `SELECT id, scope_region_id FROM users WHERE username = ?`, name).Scan(&id, &street); err != nil {
			t.Fatal(err)
		}
		ids, err := e.grid.Assigned(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		own := count(t, e.db, `SELECT count(*) FROM grid_cells g JOIN regions r ON r.id = g.region_id WHERE r.parent_id = ?`, street)
		inStreet := count(t, e.db, `SELECT count(*) FROM grid_assignments a JOIN grid_cells g ON g.id = a.cell_id
			JOIN regions r ON r.id = g.region_id WHERE a.user_id = ? AND r.parent_id = ?`, id, street)
		if own < 200 || len(ids) != own || inStreet != own {
			t.Errorf("%s patrols %d cells, %d of them in their street of %d cells", name, len(ids), inStreet, own)
		}
	}
}

// checkPlacement checks that the grid placed the demo cases: most in a
// cell, some near one (属地兜底), a few unlocated, none lost.
func checkPlacement(t *testing.T, e env, cases int) {
	t.Helper()
	flags := groupCounts(t, e.db, `SELECT location_flag, count(*) FROM cases WHERE source <> 'inspection' GROUP BY location_flag`)
	t.Logf("cases by location: %v", flags)
	if flags[geo.LocCell] < cases*85/100 {
		t.Errorf("%d of %d cases in a cell, want most", flags[geo.LocCell], cases)
	}
	if n := flags[geo.LocNearest]; n < 5 || n > cases/5 {
		t.Errorf("%d cases placed in the nearest cell, want some", n)
	}
	if n := flags[geo.LocNone]; n < 1 || n > cases/20 {
		t.Errorf("%d unlocated cases, want a few", n)
	}
	if n := flags[geo.LocCell] + flags[geo.LocNearest] + flags[geo.LocNone]; n != cases {
		t.Errorf("cases by location %v: %d of %d placed", flags, n, cases)
	}
	// A placed case takes its cell's community; an unlocated one keeps
	// the community of the address it gave, and has no cell.
	if n := count(t, e.db, `SELECT count(*) FROM cases c JOIN grid_cells g ON g.id = c.grid_cell_id WHERE c.region_id = g.region_id AND c.source <> 'inspection'`); n != flags[geo.LocCell]+flags[geo.LocNearest] {
		t.Errorf("%d placed cases in their cell's community", n)
	}
	if n := count(t, e.db, `SELECT count(*) FROM cases c JOIN regions r ON r.id = c.region_id WHERE c.location_flag = ? AND c.grid_cell_id IS NULL AND r.level = 'community'`, geo.LocNone); n != flags[geo.LocNone] {
		t.Errorf("%d of %d unlocated cases with a community and no cell", n, flags[geo.LocNone])
	}
	if n := count(t, e.db, `SELECT count(*) FROM cases WHERE location_flag = ? AND routing LIKE '%"distance_m":%'`, geo.LocNearest); n != flags[geo.LocNearest] {
		t.Errorf("%d of %d nearest-cell cases record the distance", n, flags[geo.LocNearest])
	}
	// Grid workers report in their own streets.
	if n := count(t, e.db, `SELECT count(*) FROM cases c JOIN users u ON u.id = c.reporter_user_id JOIN regions r ON r.id = c.region_id
		WHERE c.source = 'grid' AND r.parent_id <> u.scope_region_id`); n != 0 {
		t.Errorf("%d grid workers' cases outside their street", n)
	}
	// The clear-cut categories went straight to the unit.
	if n := count(t, e.db, `SELECT count(*) FROM cases WHERE source IN ('citizen', 'hotline') AND routing LIKE '%"auto_accept":"category"%' AND routing LIKE '%"auto_dispatch":true%'`); n == 0 {
		t.Error("no case accepted and dispatched on arrival by its category")
	}
}

// checkAssessment checks the demo city's assessment: the sample tree
// published, about 300 sites on the map, two closed rounds (previous and
// current quarter) with teams, observations, values and a case for every
// failure, scores below the maximum, a ledger that adds up exactly to the
// points lost, rankings with cards and proposals; the leader's closed
// visit, and today's round, partly recorded.
func checkAssessment(t *testing.T, e env, now time.Time) {
	t.Helper()
	ctx := context.Background()
	svc, reader := e.assess, org.System
	eds, err := svc.Editions(ctx, reader)
	if err != nil {
		t.Fatal(err)
	}
	if len(eds) != 1 || eds[0].Code != "sample-2026" || eds[0].Status != assess.StatusPublished {
		t.Errorf("editions %+v, want sample-2026 published", eds)
	}

	sites, err := svc.Sites(ctx, reader)
	if err != nil {
		t.Fatal(err)
	}
	if len(sites) < 250 || len(sites) > 350 {
		t.Errorf("%d sites, want about 300", len(sites))
	}
	types, noUnit, names := map[string]int{}, 0, map[string]bool{}
	for i, x := range sites {
		types[x.Type]++
		if x.Unit == "" {
			noUnit++
		}
		if want := fmt.Sprintf("YC-%04d", i+1); x.Code != want || x.Name == "" || x.Chief == "" || x.Address == "" || names[x.Name] {
			t.Errorf("site %d: %+v (want code %s, a new name, a chief and an address)", i, x, want)
		}
		names[x.Name] = true
		if x.Lat != nil && (*x.Lat < 24.9 || *x.Lat > 25.1 || *x.Lon < 102.6 || *x.Lon > 102.9) {
			t.Errorf("site %s at %v, %v: outside the city", x.Code, *x.Lat, *x.Lon)
		}
	}
	if len(types) != 25 {
		t.Errorf("sites of %d types, want every one of the tree's 25: %v", len(types), types)
	}
	if noUnit < len(sites)/20 || noUnit > len(sites)/5 {
		t.Errorf("%d of %d sites without a responsible unit, want about a tenth", noUnit, len(sites))
	}
	// A located site lies in a cell of its community.
	if n := count(t, e.db, `SELECT count(*) FROM assess_sites s JOIN regions r ON r.id = s.region_id
		WHERE s.lat IS NOT NULL AND r.level = 'community'`); n < len(sites)*9/10 {
		t.Errorf("%d of %d sites in a community with coordinates", n, len(sites))
	}
	for _, x := range sites {
		if x.Lat == nil {
			continue
		}
		loc, err := e.grid.Locate(ctx, *x.Lat, *x.Lon)
		if err != nil {
			t.Fatal(err)
		}
		if loc.Flag != geo.LocCell || loc.RegionID != x.RegionID {
			t.Errorf("site %s %s at %v, %v: placed %s in region %d, its region is %d", x.Code, x.Name, *x.Lat, *x.Lon, loc.Flag, loc.RegionID, x.RegionID)
		}
	}

	rounds, err := svc.Rounds(ctx, reader)
	if err != nil {
		t.Fatal(err)
	}
	// Newest first: today's round, the leader's visit, the current and
	// the previous quarter's.
	if len(rounds) != 4 {
		t.Fatalf("%d rounds, want 4", len(rounds))
	}
	quarter := func(d string) int {
		day, err := time.ParseInLocation(time.DateOnly, d, testcity.Shanghai)
		if err != nil {
			t.Fatal(err)
		}
		return day.Year()*4 + (int(day.Month())-1)/3
	}
	today := now.In(testcity.Shanghai).Format(time.DateOnly)
	todays, visit, cur, prev := rounds[0], rounds[1], rounds[2], rounds[3]
	if quarter(cur.Date) != quarter(today) || cur.Date > today || quarter(prev.Date) != quarter(today)-1 {
		t.Errorf("rounds on %s and %s, want one in the previous quarter and one in this quarter by %s", prev.Date, cur.Date, today)
	}
	if todays.Date != today || todays.State != assess.RoundInProgress || todays.Kind != assess.KindMock || todays.Name != "十一月模拟测评" {
		t.Errorf("today's round %+v, want 十一月模拟测评 in progress on %s", todays, today)
	}
	if visit.Kind != assess.KindSupervision || visit.State != assess.RoundClosed || visit.Date <= cur.Date || visit.Date > today {
		t.Errorf("the visit %+v, want a closed supervision between %s and %s", visit, cur.Date, today)
	}

	// Every failed observation of a closed round has its case, accepted
	// and dispatched to a unit at once, never twice.
	for _, rd := range []assess.Round{prev, cur, visit} {
		fails := count(t, e.db, `SELECT count(*) FROM assess_observations o JOIN assess_rounds r ON r.id = o.round_id WHERE r.code = ? AND o.result = 'fail'`, rd.Code)
		withCase := count(t, e.db, `SELECT count(DISTINCT c.id) FROM assess_observations o JOIN assess_rounds r ON r.id = o.round_id JOIN cases c ON c.id = o.case_id
			WHERE r.code = ? AND o.result = 'fail' AND c.source = 'inspection' AND c.lead_unit_id IS NOT NULL AND c.dispatched_at IS NOT NULL`, rd.Code)
		if fails == 0 || withCase != fails {
			t.Errorf("round %s: %d of %d failures with a dispatched inspection case", rd.Code, withCase, fails)
		}
		if diffs, err := svc.CheckRound(ctx, reader, rd.Code); err != nil || len(diffs) != 0 {
			t.Errorf("round %s: CheckRound %v, %d differences", rd.Code, err, len(diffs))
		}
	}
	if n := count(t, e.db, `SELECT count(*) FROM cases c WHERE c.source = 'inspection' AND NOT EXISTS (SELECT 1 FROM assess_observations o WHERE o.case_id = c.id)`); n != 0 {
		t.Errorf("%d inspection cases without their observation", n)
	}
	caseStates := func(rd assess.Round) map[string]int {
		return groupCounts(t, e.db, `SELECT c.state, count(*) FROM assess_observations o JOIN assess_rounds r ON r.id = o.round_id JOIN cases c ON c.id = o.case_id
			WHERE r.code = '`+rd.Code+`' GROUP BY c.state`)
	}
	overdue := func(rd assess.Round) int {
		return count(t, e.db, `SELECT count(*) FROM assess_observations o JOIN assess_rounds r ON r.id = o.round_id JOIN cases c ON c.id = o.case_id
			WHERE r.code = ? AND c.overdue = TRUE AND c.state IN ('dispatched', 'in_progress')`, rd.Code)
	}
	// The older round's cases are mostly closed; the newer round's mostly
	// open, a few overdue.
	older, newer := caseStates(prev), caseStates(cur)
	t.Logf("cases of %s: %v; of %s: %v (%d overdue); of the visit: %v", prev.Code, older, cur.Code, newer, overdue(cur), caseStates(visit))
	sum := func(m map[string]int, states ...string) (n int) {
		for _, st := range states {
			n += m[st]
		}
		return n
	}
	all := func(m map[string]int) (n int) {
		for _, k := range m {
			n += k
		}
		return n
	}
	for _, m := range []map[string]int{older, newer} {
		if n := sum(m, "dispatched", "in_progress", "verifying", "closed"); n != all(m) {
			t.Errorf("raised cases %v, want them dispatched, in progress, verifying or closed", m)
		}
	}
	if sum(older, "closed") < all(older)/2 {
		t.Errorf("cases of the older round: %v, want most closed", older)
	}
	if n := overdue(cur); sum(newer, "closed") > all(newer)/2 || newer["verifying"] == 0 || n == 0 || n > all(newer)/2 {
		t.Errorf("cases of the newer round: %v (%d overdue), want most open and a few overdue", newer, n)
	}
	// About ten of the newer round's failures came from the phone, with
	// photos the case keeps.
	if n := count(t, e.db, `SELECT count(DISTINCT o.id) FROM assess_observations o JOIN assess_rounds r ON r.id = o.round_id JOIN photos p ON p.case_id = o.case_id
		WHERE r.code = ? AND o.source = 'phone' AND o.result = 'fail' AND p.kind = 'before'`, cur.Code); n < 5 || n > 15 {
		t.Errorf("round %s: %d phone failures with photos, want about 10", cur.Code, n)
	}

	// Teams: the scored rounds' of the demo inspectors, the visit's with
	// the leader, and today's, half recorded.
	for _, rd := range []assess.Round{prev, cur, todays} {
		teams, err := svc.Teams(ctx, reader, rd.Code)
		if err != nil {
			t.Fatal(err)
		}
		assigned := 0
		for _, tm := range teams {
			assigned += tm.Sites
			if len(tm.Members) == 0 || tm.Sites == 0 {
				t.Errorf("round %s: team %+v", rd.Code, tm)
			}
		}
		if len(teams) < 2 || len(teams) > 4 || assigned != rd.Sites {
			t.Errorf("round %s: %d teams with %d of %d sites", rd.Code, len(teams), assigned, rd.Sites)
		}
	}
	if teams, err := svc.Teams(ctx, reader, visit.Code); err != nil || len(teams) != 1 || !slices.ContainsFunc(teams[0].Members, func(m assess.TeamMember) bool { return m.Username == "leader1" }) {
		t.Errorf("the visit's teams %+v (%v), want one with leader1", teams, err)
	}
	u, err := e.orgs.UserByName(ctx, "inspector1")
	if err != nil {
		t.Fatal(err)
	}
	inspector, err := e.orgs.ActorFor(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	mine, err := svc.MyAssignments(ctx, inspector)
	if err != nil {
		t.Fatal(err)
	}
	done, some, todo := 0, 0, 0
	for _, x := range mine {
		switch {
		case x.Round != todays.Code:
			t.Errorf("inspector1 is assigned %s of round %s", x.SiteCode, x.Round)
		case x.Recorded == x.Items:
			done++
		case x.Recorded > 0:
			some++
		default:
			todo++
		}
	}
	if done == 0 || todo == 0 {
		t.Errorf("inspector1's sites today: %d done, %d begun, %d to do; want some done and some to do", done, some, todo)
	}
	if n := count(t, e.db, `SELECT count(*) FROM assess_round_sites x JOIN assess_rounds r ON r.id = x.round_id WHERE r.code = ?
		AND NOT EXISTS (SELECT 1 FROM assess_observations o WHERE o.round_id = x.round_id AND o.site_id = x.site_id)`, todays.Code); n == 0 || n == todays.Sites {
		t.Errorf("today's round: %d of %d sites unrecorded, want some", n, todays.Sites)
	}

	// Every observed standard has its category.
	cm, err := svc.CategoryMap(ctx, reader)
	if err != nil {
		t.Fatal(err)
	}
	_, ed, err := svc.Edition(ctx, reader, eds[0].Code, eds[0].Version)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range ed.Standards() {
		if st.Rule.Observed() && cm[st.Code] == 0 {
			t.Errorf("standard %s has no category", st.Code)
		}
	}
	// The categories added for the assessment are the staff's.
	if n := count(t, e.db, `SELECT count(*) FROM categories c JOIN assess_category_map m ON m.category_id = c.id WHERE c.staff_only = TRUE`); n == 0 {
		t.Error("no standard filed under a staff-only category")
	}
	if n := count(t, e.db, `SELECT count(*) FROM categories c JOIN cases k ON k.category_id = c.id WHERE c.staff_only = TRUE AND k.source <> 'inspection'`); n != 0 {
		t.Errorf("%d reports under the assessment's staff-only categories", n)
	}

	// Rankings of the current round against the previous, with cards of
	// every colour, and the ladder's proposals.
	rk, err := svc.Rankings(ctx, reader, cur.Code)
	if err != nil {
		t.Fatal(err)
	}
	cards := map[assess.Card]int{}
	for _, list := range [][]assess.Standing{rk.Districts, rk.Streets, rk.Units} {
		for _, st := range list {
			cards[st.Card]++
		}
	}
	t.Logf("cards of %s: %v", cur.Code, cards)
	if rk.Previous == nil || rk.Previous.Code != prev.Code || cards[assess.CardGreen] == 0 || cards[assess.CardYellow] == 0 || cards[assess.CardRed] == 0 {
		t.Errorf("rankings of %s: previous %v, cards %v; want %s and every colour", cur.Code, rk.Previous, cards, prev.Code)
	}
	if props, err := svc.Proposals(ctx, reader, cur.Code); err != nil || len(props) == 0 {
		t.Errorf("proposals of %s: %v, %v", cur.Code, props, err)
	}

	var rates [2]map[string]float64
	for i, rd := range []assess.Round{cur, prev} {
		if rd.State != assess.RoundClosed || rd.Sites < 100 || rd.Sites >= len(sites) {
			t.Errorf("round %s: %s with %d sites", rd.Code, rd.State, rd.Sites)
		}
		obs := groupCounts(t, e.db, `SELECT o.result, count(*) FROM assess_observations o JOIN assess_rounds r ON r.id = o.round_id
			WHERE r.code = '`+rd.Code+`' GROUP BY o.result`)
		if obs["pass"] < rd.Sites || obs["fail"] < rd.Sites/10 {
			t.Errorf("round %s: observations %v", rd.Code, obs)
		}
		if n := count(t, e.db, `SELECT count(*) FROM assess_round_sites x JOIN assess_rounds r ON r.id = x.round_id WHERE r.code = ?
			AND NOT EXISTS (SELECT 1 FROM assess_observations o WHERE o.round_id = x.round_id AND o.site_id = x.site_id)`, rd.Code); n != 0 {
			t.Errorf("round %s: %d sampled sites without observations", rd.Code, n)
		}
		if n := count(t, e.db, `SELECT count(*) FROM assess_observations o JOIN assess_rounds r ON r.id = o.round_id
			WHERE r.code = ? AND o.result = 'fail' AND o.note = ''`, rd.Code); n != 0 {
			t.Errorf("round %s: %d failures without a note", rd.Code, n)
		}
		if n := count(t, e.db, `SELECT count(*) FROM assess_results v JOIN assess_rounds r ON r.id = v.round_id WHERE r.code = ?`, rd.Code); n != 4*7 {
			t.Errorf("round %s: %d values, want 7 for each of 4 districts", rd.Code, n)
		}

		view, err := svc.Open(ctx, reader, rd.Code)
		if err != nil {
			t.Fatal(err)
		}
		city, err := view.Scores("")
		if err != nil {
			t.Fatal(err)
		}
		rates[i] = map[string]float64{}
		for _, d := range city.Districts {
			r, _ := d.Rate.Float64()
			rates[i][d.Scope.Code] = r
		}
		t.Logf("round %s on %s: city %s of %s, districts %v", rd.Code, rd.Date, city.Scores.Score.FloatString(2), city.Scores.Max.FloatString(2), rates[i])
		district, err := view.Scores(city.Districts[0].Scope.Code)
		if err != nil {
			t.Fatal(err)
		}
		for _, sc := range []assess.Scores{city.Scores, district.Scores} {
			if sc.Max.Sign() <= 0 || sc.Score.Cmp(sc.Max) >= 0 || sc.Score.Sign() <= 0 {
				t.Errorf("round %s, %s: score %s of %s", rd.Code, sc.Scope.Code, sc.Score.RatString(), sc.Max.RatString())
			}
		}
		ledger, err := view.Ledger("")
		if err != nil {
			t.Fatal(err)
		}
		sum := new(big.Rat).Set(ledger.Unattributed)
		for _, u := range ledger.Units {
			sum.Add(sum, u.Lost)
		}
		if lost := city.Scores.Lost(); sum.Cmp(lost) != 0 || ledger.Lost.Cmp(lost) != 0 || len(ledger.Units) < 8 || ledger.Unattributed.Sign() <= 0 {
			t.Errorf("round %s: ledger of %d units and %s unattributed adds up to %s (ledger %s), lost %s",
				rd.Code, len(ledger.Units), ledger.Unattributed.RatString(), sum.RatString(), ledger.Lost.RatString(), lost.RatString())
		}
		via := map[assess.Via]int{}
		for _, en := range ledger.Entries {
			via[en.Via]++
		}
		if via[assess.ViaSite] == 0 || via[assess.ViaLead] == 0 || via[assess.ViaNone] == 0 {
			t.Errorf("round %s: ledger entries by attribution %v, want some of each", rd.Code, via)
		}
	}
	// Most districts improve from the first round (rates[1]) to the
	// second, and one gets worse.
	better, worse := 0, 0
	for d, r := range rates[0] {
		if r > rates[1][d] {
			better++
		} else {
			worse++
		}
	}
	if len(rates[0]) != 4 || better < 2 || worse < 1 {
		t.Errorf("from the first round to the second %d districts improved and %d did not, want most and at least one", better, worse)
	}
}

// TestDeterministic loads twice with the same seed and compares the cases
// and the assessment.
func TestDeterministic(t *testing.T) {
	storetest.Long(t)
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 11, 27, 16, 30, 0, 0, testcity.Shanghai)
	dump := func(t *testing.T) string {
		e := newEnv(t)
		if _, err := demo.Load(ctx, e.orgs, e.flow, demo.Options{Cases: 60, Days: 30, Seed: 7, Now: now, Grid: e.grid, Assess: e.assess}); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		// The assessment: sites, rounds with their samples and teams,
		// observations with their cases, and values.
		for _, q := range []string{
			`SELECT code || name || region_id || COALESCE(lat, 0) || COALESCE(lon, 0) || address || COALESCE(unit_id, 0) || chief FROM assess_sites ORDER BY code`,
			`SELECT code || name || inspection_date || plan || seed || kind || state || created_at || COALESCE(closed_at, 0) FROM assess_rounds ORDER BY code`,
			`SELECT round_id || '/' || site_id || '/' || COALESCE(team_id, 0) FROM assess_round_sites ORDER BY round_id, site_id`,
			`SELECT t.round_id || t.name || u.username FROM assess_teams t JOIN assess_team_members m ON m.team_id = t.id JOIN users u ON u.id = m.user_id ORDER BY t.round_id, t.name, u.username`,
			`SELECT round_id || site_id || standard || result || problems || note || source || COALESCE(case_id, 0) || updated_at FROM assess_observations ORDER BY round_id, site_id, standard`,
			`SELECT round_id || COALESCE(region_id, 0) || standard || value FROM assess_results ORDER BY round_id, region_id, standard`,
		} {
			rows, err := e.db.Reader().Query(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for rows.Next() {
				var line string
				if err := rows.Scan(&line); err != nil {
					t.Fatal(err)
				}
				fmt.Fprintln(&b, line)
				n++
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			rows.Close()
			if n == 0 {
				t.Errorf("nothing from %s", q)
			}
		}
		rows, err := e.db.Reader().Query(ctx, `SELECT no, state, description, category_id, COALESCE(lead_unit_id, 0), reported_at, updated_at,
			COALESCE(lat, 0), COALESCE(lon, 0), COALESCE(region_id, 0), COALESCE(grid_cell_id, 0), location_flag FROM cases ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var no, state, desc, flag string
			var cat, lead, rep, upd, region, cell int64
			var lat, lon float64
			if err := rows.Scan(&no, &state, &desc, &cat, &lead, &rep, &upd, &lat, &lon, &region, &cell, &flag); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintln(&b, no, state, desc, cat, lead, rep, upd, lat, lon, region, cell, flag)
		}
		return b.String()
	}
	// the two loads side by side, each in a database of its own
	var dumps [2]string
	t.Run("loads", func(t *testing.T) {
		for i := range dumps {
			t.Run(fmt.Sprint(i), func(t *testing.T) { t.Parallel(); dumps[i] = dump(t) })
		}
	})
	a, b := dumps[0], dumps[1]
	if t.Failed() {
		return
	}
	if a != b {
		t.Error("two loads with the same seed differ")
	}
	if !strings.Contains(a, " cell\n") {
		t.Error("no case placed in a cell")
	}
}

// checkBaseLayer (in TestLoad, on both engines): the demo city's
// fictional base layer lies on its grid: the river and the roads run in the gaps between the cells, named; the
// lake fills its hole; parks sit inside communities.
func checkBaseLayer(t *testing.T, e env) {
	t.Helper()
	ctx := context.Background()
	kinds := groupCounts(t, e.db, `SELECT kind, count(*) FROM basemap_features GROUP BY kind`)
	if kinds["water"] != 2 || kinds["park"] < 5 || kinds["road"] < 10 {
		t.Fatalf("features by kind: %v", kinds)
	}
	rows, err := e.db.Reader().Query(ctx, `SELECT kind, name, min_lon, min_lat, max_lon, max_lat FROM basemap_features`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	names := map[string]bool{}
	for rows.Next() {
		var kind, name string
		var x0, y0, x1, y1 float64
		if err := rows.Scan(&kind, &name, &x0, &y0, &x1, &y1); err != nil {
			t.Fatal(err)
		}
		if name == "" || names[kind+name] && kind != "road" {
			t.Errorf("%s without a name or twice: %q", kind, name)
		}
		names[kind+name] = true
		// the middle of a road or of the river is in no cell; of a park, in one
		loc, err := e.grid.Locate(ctx, (y0+y1)/2, (x0+x1)/2)
		if err != nil {
			t.Fatal(err)
		}
		inCell := loc.Flag == geo.LocCell
		if (kind == "road" || name == "盘江") && inCell || kind == "park" && !inCell {
			t.Errorf("%s %s: middle in a cell: %v", kind, name, inCell)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"water盘江", "water明湖", "road滨江大道"} {
		if !names[want] {
			t.Errorf("no %s", want)
		}
	}
}

// TestLoadWithoutGrid loads the demo city for a caller that gives no grid
// store: no cells, and every case in the community of its address.
func TestLoadWithoutGrid(t *testing.T) {
	storetest.Long(t)
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	now := time.Date(2026, 11, 27, 16, 30, 0, 0, testcity.Shanghai)
	e.assess.Locator = nil
	if _, err := demo.Load(ctx, e.orgs, e.flow, demo.Options{Cases: 40, Days: 30, Now: now, Assess: e.assess}); err != nil {
		t.Fatal(err)
	}
	if n := count(t, e.db, `SELECT count(*) FROM grid_cells`); n != 0 {
		t.Errorf("%d grid cells loaded without a grid store", n)
	}
	if n := count(t, e.db, `SELECT count(*) FROM cases c JOIN regions r ON r.id = c.region_id
		WHERE r.level = 'community' AND c.location_flag = '' AND c.lat BETWEEN 24.9 AND 25.1 AND c.lon BETWEEN 102.6 AND 102.9 AND c.source <> 'inspection'`); n != 40 {
		t.Errorf("%d of 40 reported cases in a community of the city box, unplaced", n)
	}
	if e.flow.Locator != nil {
		t.Error("Load without a grid set a locator")
	}
	// The sites need no grid: they name their community.
	if n := count(t, e.db, `SELECT count(*) FROM assess_sites s JOIN regions r ON r.id = s.region_id WHERE r.level = 'community'`); n < 250 {
		t.Errorf("%d sites in a community, want most of about 300", n)
	}
	if n := count(t, e.db, `SELECT count(*) FROM assess_observations`); n < 500 {
		t.Errorf("%d observations without a grid", n)
	}
}

// TestRefusesExistingGrid: the demo grid is not laid over a real one.
func TestRefusesExistingGrid(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	var buf strings.Builder
	cells := geo.GenerateLattice(geo.Point{Lon: 116.4, Lat: 39.9}, 1, 1, 100, 1)
	if err := geo.WriteCells(&buf, []geo.Cell{{Code: "110101001001001", Name: "某网格", Geometry: cells[0].Geometry}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.grid.Import(ctx, org.System, strings.NewReader(buf.String()), false); err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Load(ctx, e.orgs, e.flow, demo.Options{Cases: 10, Grid: e.grid}); err == nil {
		t.Error("Load into a database with grid cells succeeded")
	}
	if n := count(t, e.db, `SELECT count(*) FROM regions`); n != 0 {
		t.Errorf("the refused Load wrote %d regions", n)
	}
}

func TestRefusesExistingCity(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	if _, err := e.orgs.CreateRegion(ctx, org.System, org.Region{Code: "110000", Name: "某市", Level: "city"}); err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Load(ctx, e.orgs, e.flow, demo.Options{Cases: 10}); err == nil {
		t.Error("Load into a database with regions succeeded")
	}
}

// TestLoadFull times the default size. It runs only with
// CHUANGWEN_DEMO_FULL=1 (it takes tens of seconds on a slow disk).
func TestLoadFull(t *testing.T) {
	if os.Getenv("CHUANGWEN_DEMO_FULL") == "" {
		t.Skip("set CHUANGWEN_DEMO_FULL=1 to load 2000 demo cases")
	}
	e := newEnv(t)
	start := time.Now()
	if _, err := demo.Load(context.Background(), e.orgs, e.flow, demo.Options{Log: t.Logf, Grid: e.grid, Now: start, Volunteer: e.vol}); err != nil {
		t.Fatal(err)
	}
	checkVolunteers(t, e, start.UTC().Truncate(time.Second), 2000)
	t.Logf("2000 cases loaded in %s", time.Since(start).Round(time.Millisecond))
	t.Logf("cases by state: %v", groupCounts(t, e.db, `SELECT state, count(*) FROM cases GROUP BY state`))
	t.Logf("events: %d", count(t, e.db, `SELECT count(*) FROM events`))
	checkGrid(t, e)
	checkPlacement(t, e, 2000)
}

// checkVolunteers: the volunteer service is alive on every page: teams
// with rosters, hours over the days with some veterans past a star,
// last week's activities checked in on site (some still to confirm),
// registrations waiting, a certificate that verifies, and today's
// activity on now with the demo volunteer signed up.
func checkVolunteers(t *testing.T, e env, now time.Time, cases int) {
	t.Helper()
	ctx := context.Background()
	if n := count(t, e.db, `SELECT count(*) FROM practice_nodes`); n < 16 {
		t.Errorf("%d practice nodes, want a centre per district and an institute per street", n)
	}
	if n := count(t, e.db, `SELECT count(*) FROM volunteer_teams`); n < 12 {
		t.Errorf("%d teams", n)
	}
	if n := count(t, e.db, `SELECT count(*) FROM volunteers WHERE status = 'active'`); n < cases*7/10 || n > cases*13/10 {
		t.Errorf("%d active volunteers, want about one for each of the %d cases", n, cases)
	}
	if n := count(t, e.db, `SELECT count(*) FROM volunteers WHERE status = 'pending'`); n != demo.PendingRegistrations(cases) {
		t.Errorf("%d pending registrations, want %d", n, demo.PendingRegistrations(cases))
	}
	if n := count(t, e.db, `SELECT count(*) FROM volunteers WHERE minutes > 0`); n < cases/4 {
		t.Errorf("%d volunteers with hours", n)
	}
	// the full demo's veterans reach a star (a smaller one holds fewer
	// activities)
	if n := count(t, e.db, `SELECT count(*) FROM volunteers WHERE minutes >= 6000`); cases >= 2000 && n < 10 {
		t.Errorf("%d volunteers past 100 hours", n)
	}
	if n := count(t, e.db, `SELECT count(*) FROM service_records WHERE checkin_m >= 0 AND confirmed_at = 0`); n == 0 {
		t.Error("no on-site check-in awaits confirmation")
	}
	if n := count(t, e.db, `SELECT count(*) FROM service_records WHERE checkin_m >= 0 AND confirmed_at <> 0`); n == 0 {
		t.Error("no on-site check-in is confirmed")
	}
	if n := count(t, e.db, `SELECT count(*) FROM service_records r JOIN volunteers v ON v.id = r.volunteer_id WHERE r.checkin_at > ? OR r.confirmed_at > ?`, store.Ms(now), store.Ms(now)); n != 0 {
		t.Errorf("%d service records after now", n)
	}
	if n := count(t, e.db, `SELECT count(*) FROM activities a JOIN activity_signups x ON x.activity_id = a.id JOIN volunteers v ON v.id = x.volunteer_id
		WHERE a.starts_at <= ? AND a.ends_at > ? AND v.phone = ?`, store.Ms(now), store.Ms(now), demo.DemoVolunteerPhone); n != 1 {
		t.Errorf("the demo volunteer is signed up for %d activities on now, want 1", n)
	}
	var code string
	if err := e.db.Reader().QueryRow(ctx, `SELECT code FROM volunteer_certificates`).Scan(&code); err != nil {
		t.Fatal(err)
	}
	if c, err := e.vol.Verify(ctx, code); err != nil || c.Revoked || c.Hours <= 0 {
		t.Errorf("the demo certificate %s verifies as %+v, %v", code, c, err)
	}
	st, err := e.vol.Stats(ctx, org.Actor{Role: org.RoleLeader, Scope: org.ScopeCity}, now.AddDate(0, 0, -90), now)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Districts) != 4 || st.City.Hours <= 0 || st.City.Share <= 0 {
		t.Errorf("statistics: %d districts, %.1f hours, share %.3f", len(st.Districts), st.City.Hours, st.City.Share)
	}
	for _, d := range st.Districts {
		if d.Registered == 0 || d.Active == 0 || d.Activities == 0 || d.Population == 0 {
			t.Errorf("district %s: %+v", d.Name, d)
		}
	}
}
