package workflow_test

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"

	"chuangwen/internal/apperr"
	"chuangwen/internal/geo"
	"chuangwen/internal/grid"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
	"chuangwen/internal/testcity"
	"chuangwen/internal/workflow"
)

// Points of the routing tests: three grid cells 0.001° on a side.
//
//	cell1 330102001001001 in community1, owner unit B
//	cell2 330105001001001 in community2, owner unit B
//	cell3 330105001001002 in community2, no owner
var (
	inCell1 = [2]float64{30.2505, 120.1505}
	inCell2 = [2]float64{30.2505, 120.1605}
	inCell3 = [2]float64{30.2505, 120.1705}
	// about 19 m east of cell1, in no cell
	nearCell1 = [2]float64{30.2505, 120.1512}
	// about 1 km east of cell3: near the city, far from every cell
	nearCity = [2]float64{30.2505, 120.1813}
	beijing  = [2]float64{39.9042, 116.4074}
)

type routeFixture struct {
	*fixture
	gs                  *grid.Store
	cell1, cell2, cell3 grid.Cell
}

func cellFeature(code, owner string, lon, lat float64) string {
	ring := [][2]float64{{lon, lat}, {lon + 0.001, lat}, {lon + 0.001, lat + 0.001}, {lon, lat + 0.001}, {lon, lat}}
	b, _ := json.Marshal(map[string]any{
		"type":       "Feature",
		"properties": map[string]string{"grid_code": code, "name": "网格" + code[len(code)-3:], "owner_unit": owner},
		"geometry":   map[string]any{"type": "Polygon", "coordinates": [][][2]float64{ring}},
	})
	return string(b)
}

// newRouteFixture is the workflow fixture with a grid and the grid as the
// service's locator.
func newRouteFixture(t *testing.T, db *store.DB) *routeFixture {
	t.Helper()
	f := &routeFixture{fixture: newFixture(t, db)}
	f.gs = grid.New(db, nil)
	f.gs.Now = f.clk.Now
	file := `{"type":"FeatureCollection","features":[` + strings.Join([]string{
		cellFeature("330102001001001", "B", 120.150, 30.250),
		cellFeature("330105001001001", "园林局", 120.160, 30.250),
		cellFeature("330105001001002", "", 120.170, 30.250),
	}, ",") + `]}`
	rep, err := f.gs.Import(f.ctx, f.admin, strings.NewReader(file), false)
	if err != nil || rep.Errors != 0 || rep.Created != 3 {
		t.Fatalf("grid import: %+v, %v", rep, err)
	}
	cells, _, err := f.gs.Cells(f.ctx, geo.Rect{Min: geo.Point{Lon: 120, Lat: 30}, Max: geo.Point{Lon: 121, Lat: 31}}, 10)
	if err != nil || len(cells) != 3 {
		t.Fatalf("cells: %v %v", cells, err)
	}
	f.cell1, f.cell2, f.cell3 = cells[0], cells[1], cells[2]
	if f.cell1.RegionID != f.community1.ID || f.cell2.RegionID != f.community2.ID || f.cell3.RegionID != f.community2.ID ||
		f.cell1.OwnerUnitID != f.unitB.ID || f.cell2.OwnerUnitID != f.unitB.ID || f.cell3.OwnerUnitID != 0 {
		t.Fatalf("cells resolved to %+v", cells)
	}
	f.svc.Locator = f.gs
	return f
}

// at places a report at a point and leaves its region to the grid.
func atPoint(p [2]float64) func(*workflow.NewCase) {
	return func(in *workflow.NewCase) {
		lat, lon := p[0], p[1]
		in.Lat, in.Lon, in.RegionID = &lat, &lon, 0
	}
}

func bySource(s string) func(*workflow.NewCase) {
	return func(in *workflow.NewCase) { in.Source = s }
}

// reportAs files a report as actor.
func (f *routeFixture) reportAs(actor org.Actor, mods ...func(*workflow.NewCase)) *workflow.Case {
	f.t.Helper()
	in := workflow.NewCase{Source: workflow.SourceCitizen, CategoryID: f.cat4h.ID, Description: "路边暴露垃圾", ReporterName: "张三", ReporterPhone: "13800000000"}
	for _, m := range mods {
		m(&in)
	}
	c, err := f.svc.Report(f.ctx, actor, in)
	if err != nil {
		f.t.Fatalf("report as %s: %v", actor.Name, err)
	}
	return c
}

func (f *routeFixture) rule(cat workflow.Category, region org.Region, lead org.Unit, coops ...org.Unit) workflow.Responsibility {
	f.t.Helper()
	r := workflow.Responsibility{CategoryID: cat.ID, RegionID: region.ID, LeadUnitID: lead.ID}
	for _, u := range coops {
		r.CoopUnitIDs = append(r.CoopUnitIDs, u.ID)
	}
	r, err := f.svc.SaveResponsibility(f.ctx, f.admin, r)
	if err != nil {
		f.t.Fatal(err)
	}
	return r
}

// switches turns a category's intake switches on or off.
func (f *routeFixture) switches(c *workflow.Category, accept, dispatch bool, radius int) {
	f.t.Helper()
	c.AutoAccept, c.AutoDispatch, c.DupRadiusM = accept, dispatch, radius
	saved, err := f.svc.SaveCategory(f.ctx, f.admin, *c)
	if err != nil {
		f.t.Fatal(err)
	}
	*c = saved
}

func actions(f *fixture, id int64) []string {
	var out []string
	for _, e := range f.trail(id) {
		out = append(out, e.Action)
	}
	return out
}

func TestRoutingPlacesReportInCell(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newRouteFixture(t, db)
		rule := f.rule(f.cat4h, f.district1, f.unitA, f.unitB)

		c := f.reportAs(f.acceptor, atPoint(inCell1))
		if c.GridCellID != f.cell1.ID || c.RegionID != f.community1.ID || c.RegionName != "清波社区" || c.LocationFlag != geo.LocCell {
			t.Fatalf("placed = cell %d region %d %q flag %q", c.GridCellID, c.RegionID, c.RegionName, c.LocationFlag)
		}
		if c.State != workflow.Reported || c.LeadUnitID != 0 {
			t.Fatalf("a hotline report moved on by itself: %s, lead %d", c.State, c.LeadUnitID)
		}
		want := workflow.Routing{
			Location:     geo.Location{Flag: geo.LocCell, CellID: f.cell1.ID, CellCode: f.cell1.Code, CellName: f.cell1.Name, RegionID: f.community1.ID, OwnerUnitID: f.unitB.ID},
			RuleID:       rule.ID,
			RuleCategory: f.cat4h.ID,
			RuleRegion:   f.district1.ID, // found walking up from the community
			LeadUnitID:   f.unitA.ID,
			CoopUnitIDs:  []int64{f.unitB.ID},
		}
		checkRouting(t, "in cell1", c.Routing, want)
		// The routing is stored with the case.
		checkRouting(t, "stored", f.get(f.acceptor, c.ID).Routing, want)
		if d := eventData(t, f.trail(c.ID)[0]); d["location"] != geo.LocCell || d["grid"] != f.cell1.Code {
			t.Errorf("report event data = %v", d)
		}

		// In no cell, 19 m from cell1: the cell's locality (属地兜底).
		c = f.reportAs(f.acceptor, atPoint(nearCell1))
		if c.LocationFlag != geo.LocNearest || c.GridCellID != f.cell1.ID || c.RegionID != f.community1.ID {
			t.Errorf("near cell1: flag %q cell %d region %d", c.LocationFlag, c.GridCellID, c.RegionID)
		}
		if d := c.Routing.Location.DistanceM; math.Abs(d-19.2) > 1 {
			t.Errorf("near cell1: distance %.1f m", d)
		}
		if c.Routing.RuleID != rule.ID {
			t.Errorf("near cell1: routing %+v", c.Routing)
		}

		// Near the city but no cell near: for the acceptor to place.
		c = f.reportAs(f.acceptor, atPoint(nearCity))
		if c.LocationFlag != geo.LocNone || c.GridCellID != 0 || c.RegionID != 0 || c.Routing.LeadUnitID != 0 || c.Routing.OwnerFallback {
			t.Errorf("near the city: %+v routing %+v", c, c.Routing)
		}

		// Outside the city: kept with a flag for staff, refused for the public.
		c = f.reportAs(f.acceptor, atPoint(beijing))
		if c.LocationFlag != geo.LocOutside || c.GridCellID != 0 || c.RegionID != 0 {
			t.Errorf("outside: %+v", c)
		}
		before := countRows(t, f.fixture, "cases")
		_, err := f.svc.Report(f.ctx, org.System, workflow.NewCase{Source: workflow.SourceCitizen, CategoryID: f.cat4h.ID, Description: "x",
			Lat: &beijing[0], Lon: &beijing[1], RequireInCity: true})
		if ae, ok := apperr.As(err); !ok || ae.Code != apperr.Invalid || ae.Key != "case.outside_city" {
			t.Fatalf("public report outside the city: %v", err)
		}
		if n := countRows(t, f.fixture, "cases"); n != before {
			t.Fatalf("refused report stored a case")
		}
		// Only outside is refused: a point in no cell near the city is kept.
		if _, err := f.svc.Report(f.ctx, org.System, workflow.NewCase{Source: workflow.SourceCitizen, CategoryID: f.cat4h.ID, Description: "x",
			Lat: &nearCity[0], Lon: &nearCity[1], RequireInCity: true}); err != nil {
			t.Errorf("public report near the city: %v", err)
		}

		// A region given by the reporter stands; the cell is still recorded.
		c = f.reportAs(f.acceptor, atPoint(inCell1), inRegion(f.community2.ID))
		if c.RegionID != f.community2.ID || c.GridCellID != f.cell1.ID || c.Routing.RuleID != 0 || c.Routing.LeadUnitID != f.unitB.ID || !c.Routing.OwnerFallback {
			t.Errorf("explicit region: region %d cell %d routing %+v", c.RegionID, c.GridCellID, c.Routing)
		}

		// Without a locator, or without a point, nothing is placed.
		c = f.reportAs(f.acceptor, func(in *workflow.NewCase) { in.Address = "清波街1号"; in.RegionID = 0 })
		if c.LocationFlag != "" || c.GridCellID != 0 {
			t.Errorf("address only: flag %q cell %d", c.LocationFlag, c.GridCellID)
		}
		f.svc.Locator = nil
		c = f.reportAs(f.acceptor, atPoint(inCell1))
		if c.LocationFlag != "" || c.GridCellID != 0 || c.RegionID != 0 {
			t.Errorf("no locator: flag %q cell %d region %d", c.LocationFlag, c.GridCellID, c.RegionID)
		}
	})
}

func checkRouting(t *testing.T, what string, got *workflow.Routing, want workflow.Routing) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: no routing", what)
	}
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Errorf("%s: routing\n got %s\nwant %s", what, g, w)
	}
}

func countRows(t *testing.T, f *fixture, table string) int {
	t.Helper()
	var n int
	if err := f.db.Reader().QueryRow(f.ctx, `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestAutoAccept(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newRouteFixture(t, db)

		// By source: inspectors' and grid workers' reports are accepted on arrival.
		for _, actor := range []org.Actor{f.inspector, f.grid} {
			c := f.reportAs(actor, atPoint(inCell1))
			if c.State != workflow.Accepted || c.Routing.AutoAccept != "source" || c.Routing.AutoDispatch || c.Routing.NoRule {
				t.Errorf("%s: state %s routing %+v", actor.Name, c.State, c.Routing)
			}
			sameInstant(t, "accepted at", c.AcceptedAt, start)
			trail := f.trail(c.ID)
			if len(trail) != 2 || trail[1].Action != string(workflow.Accept) || trail[1].ActorRole != string(org.RoleSystem) || trail[0].ActorID != actor.UserID {
				t.Errorf("%s: trail %v", actor.Name, actions(f.fixture, c.ID))
			}
		}
		// A staff member claiming another source gets the role's own.
		if c := f.reportAs(f.inspector, bySource(workflow.SourceCitizen), atPoint(inCell1)); c.Source != workflow.SourceInspector || c.State != workflow.Accepted {
			t.Errorf("inspector as citizen: source %s state %s", c.Source, c.State)
		}
		// Other sources wait for the acceptor.
		for _, c := range []*workflow.Case{
			f.reportAs(f.leader, atPoint(inCell1)),
			f.reportAs(f.acceptor, atPoint(inCell1)),
			f.reportAs(org.System, atPoint(inCell1)),
		} {
			if c.State != workflow.Reported || c.Routing.AutoAccept != "" {
				t.Errorf("source %s: state %s routing %+v", c.Source, c.State, c.Routing)
			}
		}
		// The source list is configuration.
		f.svc.AutoAccept = nil
		if c := f.reportAs(f.inspector, atPoint(inCell1)); c.State != workflow.Reported {
			t.Errorf("auto-accept switched off: %s", c.State)
		}
		f.svc.AutoAccept = []string{workflow.SourceHotline}
		if c := f.reportAs(f.acceptor, bySource(workflow.SourceHotline), atPoint(inCell1)); c.State != workflow.Accepted || c.Routing.AutoAccept != "source" {
			t.Errorf("hotline auto-accepted: %s %+v", c.State, c.Routing)
		}

		// By category switch, whatever the source.
		f.switches(&f.cat5d, true, false, 0)
		c := f.reportAs(org.System, inCategory(f.cat5d.ID), atPoint(inCell1))
		if c.State != workflow.Accepted || c.Routing.AutoAccept != "category" || c.Routing.AutoDispatch || c.LeadUnitID != 0 {
			t.Errorf("category switch: state %s routing %+v", c.State, c.Routing)
		}
		// The source reason is named first when both apply.
		f.svc.AutoAccept = []string{workflow.SourceInspector}
		if c := f.reportAs(f.inspector, inCategory(f.cat5d.ID), atPoint(inCell1)); c.Routing.AutoAccept != "source" {
			t.Errorf("both: %+v", c.Routing)
		}
		if c := f.reportAs(org.System, inCategory(f.cat4h.ID), atPoint(inCell1)); c.State != workflow.Reported {
			t.Errorf("the other category: %s", c.State)
		}
	})
}

func TestAutoDispatch(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newRouteFixture(t, db)
		f.switches(&f.cat5d, true, true, 0)
		rule := f.rule(f.cat5d, f.community1, f.unitA, f.unitB)
		cal, err := f.svc.Calendar(f.ctx)
		if err != nil {
			t.Fatal(err)
		}
		deadline := cal.Deadline(start, f.cat5d.Limit(workflow.UrgencyNormal)).UTC()

		// By the responsibility table.
		c := f.reportAs(org.System, inCategory(f.cat5d.ID), atPoint(inCell1), func(in *workflow.NewCase) { in.Description = "路边窨井盖缺失" })
		if c.State != workflow.Dispatched || c.LeadUnitID != f.unitA.ID || !slices.Equal(c.CoopUnitIDs, []int64{f.unitB.ID}) || c.DispatchID == 0 {
			t.Fatalf("by table: state %s lead %d coops %v dispatch %d", c.State, c.LeadUnitID, c.CoopUnitIDs, c.DispatchID)
		}
		sameInstant(t, "deadline", c.Deadline, deadline)
		sameInstant(t, "dispatched at", c.DispatchedAt, start)
		checkRouting(t, "by table", c.Routing, workflow.Routing{
			Location: geo.Location{Flag: geo.LocCell, CellID: f.cell1.ID, CellCode: f.cell1.Code, CellName: f.cell1.Name, RegionID: f.community1.ID, OwnerUnitID: f.unitB.ID},
			RuleID:   rule.ID, RuleCategory: f.cat5d.ID, RuleRegion: f.community1.ID, LeadUnitID: f.unitA.ID, CoopUnitIDs: []int64{f.unitB.ID},
			AutoAccept: "category", AutoDispatch: true,
		})
		ts := f.dispatches(c.ID)
		if len(ts) != 1 || ts[0].ID != c.DispatchID || ts[0].UnitID != f.unitA.ID || ts[0].Deadline != store.Ms(deadline) || ts[0].DispatchedAt != store.Ms(start) {
			t.Errorf("dispatches = %+v", ts)
		}
		if got := actions(f.fixture, c.ID); !slices.Equal(got, []string{"report", "accept", "dispatch"}) {
			t.Errorf("trail = %v", got)
		}
		// The row as stored (written once, after both actions) is the case
		// as answered, its version counting the report and both actions.
		stored := f.get(f.handlerA, c.ID)
		if stored.State != c.State || stored.LeadUnitID != c.LeadUnitID || stored.DispatchID != c.DispatchID || stored.No != c.No ||
			!stored.Deadline.Equal(c.Deadline) || !stored.WarnAt.Equal(c.WarnAt) || !stored.AcceptedAt.Equal(c.AcceptedAt) ||
			!stored.DispatchedAt.Equal(c.DispatchedAt) || !stored.UpdatedAt.Equal(c.UpdatedAt) || stored.Version != c.Version || c.Version != 3 ||
			!slices.Equal(stored.CoopUnitIDs, c.CoopUnitIDs) || stored.Routing.RuleID != c.Routing.RuleID {
			t.Errorf("stored case %+v\nanswered %+v", stored, c)
		}
		// Its units find it by a word (on PostgreSQL through the unit
		// tokens its index row was given at the end of the report).
		for _, h := range []org.Actor{f.handlerA, f.handlerB} {
			if page, err := f.svc.List(f.ctx, h, workflow.Filter{Q: "窨井盖"}); err != nil || len(page.Cases) != 1 {
				t.Errorf("unit %d's search: %+v, %v", h.UnitID, page, err)
			}
		}
		// The unit sees it and can take it.
		f.act(f.handlerA, c.ID, workflow.ActInput{Action: workflow.Acknowledge})
		if got := f.get(f.handlerB, c.ID); got.State != workflow.InProgress {
			t.Errorf("cooperating unit sees %s", got.State)
		}

		// No rule for the region: the cell's owner unit (属地兜底).
		c = f.reportAs(org.System, inCategory(f.cat5d.ID), atPoint(inCell2))
		if c.State != workflow.Dispatched || c.LeadUnitID != f.unitB.ID || len(c.CoopUnitIDs) != 0 || c.DispatchID == 0 {
			t.Fatalf("owner fallback: state %s lead %d coops %v", c.State, c.LeadUnitID, c.CoopUnitIDs)
		}
		if r := c.Routing; !r.OwnerFallback || r.RuleID != 0 || r.LeadUnitID != f.unitB.ID || !r.AutoDispatch || r.NoRule {
			t.Errorf("owner fallback routing = %+v", r)
		}
		if ts := f.dispatches(c.ID); len(ts) != 1 || ts[0].UnitID != f.unitB.ID {
			t.Errorf("owner fallback dispatches = %+v", ts)
		}

		// Nothing matches: accepted, waiting for the dispatcher.
		for _, p := range [][2]float64{inCell3, nearCity} {
			c = f.reportAs(org.System, inCategory(f.cat5d.ID), atPoint(p))
			if c.State != workflow.Accepted || c.LeadUnitID != 0 || c.DispatchID != 0 {
				t.Fatalf("no rule at %v: state %s lead %d", p, c.State, c.LeadUnitID)
			}
			if r := c.Routing; !r.NoRule || r.AutoDispatch || r.OwnerFallback || r.AutoAccept != "category" {
				t.Errorf("no rule at %v: routing %+v", p, r)
			}
			if ts := f.dispatches(c.ID); len(ts) != 0 {
				t.Errorf("no rule: dispatches %+v", ts)
			}
		}

		// A rule for the 大类 at city level is more specific than no rule,
		// and beats the owner unit.
		cityRule := f.rule(f.bigCat, f.city, f.unitA)
		for _, p := range [][2]float64{inCell2, inCell3} {
			c = f.reportAs(org.System, inCategory(f.cat5d.ID), atPoint(p))
			if c.State != workflow.Dispatched || c.LeadUnitID != f.unitA.ID {
				t.Errorf("大类 rule at %v: state %s lead %d", p, c.State, c.LeadUnitID)
			}
			if r := c.Routing; r.RuleID != cityRule.ID || r.RuleCategory != f.bigCat.ID || r.RuleRegion != f.city.ID || r.OwnerFallback {
				t.Errorf("大类 rule at %v: routing %+v", p, r)
			}
		}

		// Auto-dispatch needs auto-accept: with only the dispatch switch on,
		// the report waits.
		f.switches(&f.cat5d, false, true, 0)
		c = f.reportAs(org.System, inCategory(f.cat5d.ID), atPoint(inCell1))
		if c.State != workflow.Reported || c.Routing.AutoDispatch || c.Routing.NoRule || c.Routing.LeadUnitID != f.unitA.ID {
			t.Errorf("dispatch switch alone: state %s routing %+v", c.State, c.Routing)
		}
	})
}

// A responsibility row may name a unit that has since been deactivated.
// A citizen's report routed there must still be filed (accepted, for the
// dispatcher), not refused.
func TestAutoDispatchToInactiveUnitKeepsReport(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newRouteFixture(t, db)
		f.switches(&f.cat5d, true, true, 0)
		f.rule(f.cat5d, f.community1, f.unitB)
		b := f.unitB
		b.Active = false
		if err := f.org.UpdateUnit(f.ctx, f.admin, b); err != nil {
			t.Fatal(err)
		}
		for _, p := range [][2]float64{inCell1, inCell2} { // by the table; by the cell's owner
			lat, lon := p[0], p[1]
			c, err := f.svc.Report(f.ctx, org.System, workflow.NewCase{Source: workflow.SourceCitizen, CategoryID: f.cat5d.ID, Description: "绿地缺株", Lat: &lat, Lon: &lon})
			if err != nil {
				t.Fatalf("report at %v routed to the deactivated unit %d is refused: %v", p, b.ID, err)
			}
			if c.State != workflow.Accepted || c.LeadUnitID != 0 {
				t.Errorf("report at %v: state %s lead %d", p, c.State, c.LeadUnitID)
			}
		}
	})
}

func TestNearbyAndDuplicates(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newRouteFixture(t, db)
		f.svc.Locator = nil // regions come from the reports
		f.switches(&f.cat4h, false, false, 100)
		base := inCell1
		north := func(m float64) [2]float64 {
			return [2]float64{base[0] + m/(geo.EarthRadius*math.Pi/180), base[1]}
		}
		here := func(p [2]float64, region int64) func(*workflow.NewCase) {
			return func(in *workflow.NewCase) {
				lat, lon := p[0], p[1]
				in.Lat, in.Lon, in.RegionID = &lat, &lon, region
			}
		}
		c1 := f.community1.ID
		far := f.report(here(north(150), c1))                            // beyond the category's 100 m
		otherCat := f.report(here(north(5), c1), inCategory(f.cat5d.ID)) // another category
		closed := f.verifying(f.unitA, here(north(10), c1))              // closed below
		voided := f.report(here(north(15), c1))                          // voided below
		otherRegion := f.report(here(north(20), f.community2.ID))        // outside a district1 acceptor's scope
		near := f.report(here(north(30), c1))                            // the likely original
		noPoint := f.report()                                            // no coordinates
		dup := f.report(here(base, c1))                                  // the new report
		f.act(f.inspector, closed.ID, workflow.ActInput{Action: workflow.VerifyPass})
		f.act(f.admin, voided.ID, workflow.ActInput{Action: workflow.Void, Opinion: "误报"})
		_ = far

		nos := func(ns []workflow.NearbyCase) []int64 {
			var out []int64
			for _, n := range ns {
				out = append(out, n.ID)
			}
			return out
		}
		nearby := func(cat int64, radius float64, limit int) []workflow.NearbyCase {
			t.Helper()
			ns, err := f.svc.Nearby(f.ctx, nil, cat, base[0], base[1], radius, limit)
			if err != nil {
				t.Fatal(err)
			}
			return ns
		}
		ns := nearby(f.cat4h.ID, 100, 0)
		if got := nos(ns); !slices.Equal(got, []int64{dup.ID, otherRegion.ID, near.ID}) {
			t.Fatalf("Nearby 100 m = %v, want %v", got, []int64{dup.ID, otherRegion.ID, near.ID})
		}
		for i, want := range []float64{0, 20, 30} {
			if math.Abs(ns[i].DistanceM-want) > 0.5 {
				t.Errorf("Nearby[%d] distance %.2f, want %.0f", i, ns[i].DistanceM, want)
			}
		}
		if ns[2].No != near.No || ns[2].State != workflow.Reported || ns[2].Description != near.Description || ns[2].CategoryID != f.cat4h.ID {
			t.Errorf("Nearby entry = %+v", ns[2])
		}
		if got := nos(nearby(f.cat4h.ID, 25, 0)); !slices.Equal(got, []int64{dup.ID, otherRegion.ID}) {
			t.Errorf("Nearby 25 m = %v", got)
		}
		if got := nos(nearby(f.cat4h.ID, 0, 0)); !slices.Equal(got, []int64{dup.ID, otherRegion.ID, near.ID}) {
			t.Errorf("Nearby default radius (%d m) = %v", workflow.DefaultDupRadiusM, got)
		}
		if got := nos(nearby(f.cat4h.ID, 200, 2)); !slices.Equal(got, []int64{dup.ID, otherRegion.ID}) {
			t.Errorf("Nearby limit 2 = %v", got)
		}
		if got := nos(nearby(f.cat4h.ID, 200, 0)); !slices.Equal(got, []int64{dup.ID, otherRegion.ID, near.ID, far.ID}) {
			t.Errorf("Nearby 200 m = %v", got)
		}
		if got := nos(nearby(f.cat5d.ID, 100, 0)); !slices.Equal(got, []int64{otherCat.ID}) {
			t.Errorf("Nearby of the other category = %v", got)
		}

		dups := func(actor org.Actor, id int64) []int64 {
			t.Helper()
			ns, err := f.svc.Duplicates(f.ctx, actor, id)
			if err != nil {
				t.Fatal(err)
			}
			return nos(ns)
		}
		// Earlier open cases of the category within its radius: not the
		// far one, not the other category, not closed or voided ones.
		if got := dups(f.acceptor, dup.ID); !slices.Equal(got, []int64{otherRegion.ID, near.ID}) {
			t.Errorf("Duplicates = %v, want %v", got, []int64{otherRegion.ID, near.ID})
		}
		// Only what the actor may see.
		scoped := f.user(org.NewUser{Username: "acceptor_d1", DisplayName: "上城区受理员", Role: org.RoleAcceptor, Scope: org.ScopeRegion, ScopeRegionID: f.district1.ID})
		if got := dups(scoped, dup.ID); !slices.Equal(got, []int64{near.ID}) {
			t.Errorf("Duplicates for a district acceptor = %v, want %v", got, []int64{near.ID})
		}
		if _, err := f.svc.Duplicates(f.ctx, f.handlerA, dup.ID); apperr.CodeOf(err) != apperr.NotFound {
			t.Errorf("Duplicates of a case the unit cannot see: %v", err)
		}
		// Later reports are not the original.
		if got := dups(f.acceptor, near.ID); !slices.Equal(got, []int64{otherRegion.ID}) {
			t.Errorf("Duplicates of the earlier case = %v", got)
		}
		if got := dups(f.acceptor, noPoint.ID); len(got) != 0 {
			t.Errorf("Duplicates without a point = %v", got)
		}
		if got := dups(f.acceptor, closed.ID); len(got) != 0 {
			t.Errorf("Duplicates of a closed case = %v", got)
		}

		// The public map shows the open cases in view, newest first.
		box, err := f.svc.OpenInBox(f.ctx, base[0]-0.01, base[1]-0.01, base[0]+0.01, base[1]+0.01, 10)
		if err != nil {
			t.Fatal(err)
		}
		var boxNos []string
		for _, m := range box {
			boxNos = append(boxNos, m.No)
		}
		if want := []string{dup.No, near.No, otherRegion.No, otherCat.No, far.No}; !slices.Equal(boxNos, want) {
			t.Errorf("OpenInBox = %v, want %v", boxNos, want)
		}
		if box[0].Category != f.cat4h.Name || box[3].Category != f.cat5d.Name {
			t.Errorf("OpenInBox categories = %+v", box)
		}
		if box, _ := f.svc.OpenInBox(f.ctx, base[0]-0.01, base[1]-0.01, base[0]+0.01, base[1]+0.01, 2); len(box) != 2 || box[0].No != dup.No {
			t.Errorf("OpenInBox limit 2 = %+v", box)
		}
		if box, _ := f.svc.OpenInBox(f.ctx, 10, 10, 11, 11, 10); len(box) != 0 {
			t.Errorf("OpenInBox elsewhere = %+v", box)
		}

		// The acceptor merges the duplicate, also once it is accepted.
		f.act(f.acceptor, dup.ID, workflow.ActInput{Action: workflow.Accept})
		// A district acceptor cannot merge into a case outside the district.
		dupScoped := f.report(here(north(1), c1))
		_, err = f.svc.Act(f.ctx, scoped, dupScoped.ID, workflow.ActInput{Action: workflow.Merge, MergeInto: otherRegion.ID})
		if ae, ok := apperr.As(err); !ok || ae.Code != apperr.Invalid || ae.Key != "case.merge_target" {
			t.Errorf("merge into a case out of scope: %v", err)
		}
		m := f.act(f.acceptor, dup.ID, workflow.ActInput{Action: workflow.Merge, MergeInto: near.ID})
		if m.State != workflow.Merged || m.MergedInto != near.ID {
			t.Fatalf("merged = %s into %d", m.State, m.MergedInto)
		}
		trail := f.trail(dup.ID)
		last := trail[len(trail)-1]
		if last.Action != string(workflow.Merge) || last.FromState != string(workflow.Accepted) || eventData(t, last)["merge_into"] != near.No {
			t.Errorf("merge event = %+v", last)
		}
		if got := nos(nearby(f.cat4h.ID, 100, 0)); slices.Contains(got, dup.ID) {
			t.Errorf("merged case still nearby: %v", got)
		}
		if got := dups(f.acceptor, dup.ID); len(got) != 0 {
			t.Errorf("Duplicates of a merged case = %v", got)
		}
		// Once dispatched it is too late to merge.
		d := f.dispatched(f.unitA, here(north(2), c1))
		f.actErr(apperr.Conflict, f.acceptor, d.ID, workflow.ActInput{Action: workflow.Merge, MergeInto: near.ID})
	})
}
