package grid_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"chuangwen/internal/apperr"
	"chuangwen/internal/audit"
	"chuangwen/internal/geo"
	"chuangwen/internal/grid"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
	"chuangwen/internal/store/storetest"
	"chuangwen/internal/testcity"
)

// ---- GeoJSON building ----

type ring = [][2]float64

// square is a closed ring around the box [lon0,lon1]×[lat0,lat1].
func square(lon0, lat0, lon1, lat1 float64) ring {
	return ring{{lon0, lat0}, {lon1, lat0}, {lon1, lat1}, {lon0, lat1}, {lon0, lat0}}
}

func polygon(rings ...ring) map[string]any {
	return map[string]any{"type": "Polygon", "coordinates": rings}
}

func multiPolygon(polys ...[]ring) map[string]any {
	return map[string]any{"type": "MultiPolygon", "coordinates": polys}
}

// feature is one grid cell of a hand-built file.
type feature struct {
	Code, Name, Community, Street, District, Owner string
	Geom                                           any
	// Raw replaces the whole feature (for broken features).
	Raw string
}

func collection(t testing.TB, fs ...feature) string {
	t.Helper()
	var parts []string
	for _, f := range fs {
		if f.Raw != "" {
			parts = append(parts, f.Raw)
			continue
		}
		props := map[string]string{}
		for k, v := range map[string]string{"grid_code": f.Code, "name": f.Name, "community": f.Community, "street": f.Street, "district": f.District, "owner_unit": f.Owner} {
			if v != "" {
				props[k] = v
			}
		}
		b, err := json.Marshal(map[string]any{"type": "Feature", "properties": props, "geometry": f.Geom})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, string(b))
	}
	return `{"type":"FeatureCollection","features":[` + strings.Join(parts, ",\n") + `]}`
}

// ---- the city ----

// env is the test city (internal/testcity), whose region codes are
// unpadded GB/T 2260-style (district 6 digits, street 9, community 12), as
// the demo loader makes them, so that a 15-digit grid code starts with
// its region codes; plus a 新华社区 in each street and a second grid
// worker.
type env struct {
	t   *testing.T
	ctx context.Context
	db  *store.DB
	org *org.Store
	gs  *grid.Store
	clk *testcity.Clock

	city, district1, street1, community1, xinhua1 org.Region
	district2, street2, community2, xinhua2       org.Region
	unitA, unitB                                  org.Unit
	admin, acceptor, gridWorker, gridWorker2      org.Actor
	gridUserID, acceptorID                        int64
}

func newEnv(t *testing.T, db *store.DB) *env {
	t.Helper()
	c := testcity.New(t, db)
	e := &env{t: t, ctx: context.Background(), db: db, org: c.Org, clk: c.Clock,
		city: c.City, district1: c.District1, street1: c.Street1, community1: c.Community1,
		district2: c.District2, street2: c.Street2, community2: c.Community2,
		unitA: c.UnitA, unitB: c.UnitB,
		admin: c.Admin, acceptor: c.Acceptor, gridWorker: c.Grid,
		gridUserID: c.Grid.UserID, acceptorID: c.Acceptor.UserID}
	e.gs = grid.New(db, nil)
	e.gs.Now = e.clk.Now
	xinhua := func(street org.Region) org.Region {
		r, err := e.org.CreateRegion(e.ctx, org.System, org.Region{Code: street.Code + "002", Name: "新华社区", Level: "community", ParentID: street.ID})
		if err != nil {
			t.Fatalf("create 新华社区 in %s: %v", street.Name, err)
		}
		return r
	}
	e.xinhua1, e.xinhua2 = xinhua(e.street1), xinhua(e.street2)
	e.gridWorker2 = c.User(t, org.NewUser{Username: "grid2", Role: org.RoleGrid})
	return e
}

// The city file, base corner 120.150E 30.250N, cells 0.001° on a side
// (about 96 m × 111 m). Positions in the file are the indexes below.
const (
	ixEast    = 0 // 330102001001002: east half of a shared border, listed first
	ixWest    = 1 // 330102001001001: west half
	ixByNames = 2 // no region code: 米市巷社区 by names
	ixMulti   = 3 // MultiPolygon of two squares, 米市巷社区 by code
	ixHole    = 4 // a large square with a square hole
	ixXinhua  = 5 // 新华社区 exists twice; the street decides
	ixStreet  = 6 // unknown community under 清波街道: the street
	ixDistr   = 7 // unknown street under 上城区: the district
)

func cityFeatures() []feature {
	return []feature{
		ixEast:    {Code: "330102001001002", Name: "清波2号网格", Community: "清波社区", Street: "清波街道", District: "上城区", Owner: "B", Geom: polygon(square(120.151, 30.250, 120.152, 30.251))},
		ixWest:    {Code: "330102001001001", Name: "清波1号网格", Community: "清波社区", Street: "清波街道", District: "上城区", Owner: "环卫处", Geom: polygon(square(120.150, 30.250, 120.151, 30.251))},
		ixByNames: {Code: "GS-MSX-01", Name: "米市巷网格", Community: "米市巷社区", Street: "米市巷街道", District: "拱墅区", Geom: polygon(square(120.153, 30.250, 120.154, 30.251))},
		ixMulti: {Code: "330105001001001", Name: "两块网格", District: "拱墅区", Owner: "A", Geom: multiPolygon(
			[]ring{square(120.150, 30.253, 120.151, 30.254)},
			[]ring{square(120.152, 30.253, 120.153, 30.254)},
		)},
		ixHole: {Code: "330105001001002", Name: "湖心网格", District: "拱墅区", Geom: polygon(
			square(120.155, 30.250, 120.160, 30.255),
			square(120.156, 30.251, 120.159, 30.254),
		)},
		ixXinhua: {Code: "GS-XH-01", Name: "新华网格", Community: "新华社区", Street: "米市巷街道", District: "拱墅区", Geom: polygon(square(120.150, 30.256, 120.151, 30.257))},
		ixStreet: {Code: "330102001099001", Name: "清波街道网格", District: "上城区", Geom: polygon(square(120.152, 30.256, 120.153, 30.257))},
		ixDistr:  {Code: "330102999001001", Name: "上城区网格", District: "上城区", Geom: polygon(square(120.154, 30.256, 120.155, 30.257))},
	}
}

func (e *env) importFile(actor org.Actor, file string, dryRun bool) (grid.ImportReport, error) {
	e.t.Helper()
	return e.gs.Import(e.ctx, actor, strings.NewReader(file), dryRun)
}

func (e *env) mustImport(file string) grid.ImportReport {
	e.t.Helper()
	rep, err := e.importFile(e.admin, file, false)
	if err != nil {
		e.t.Fatalf("import: %v", err)
	}
	if rep.Errors != 0 {
		e.t.Fatalf("import found errors: %+v", rep.Problems)
	}
	return rep
}

// cellIDs returns the stored cell ids by code, read from the table.
func (e *env) cellIDs() map[string]int64 {
	e.t.Helper()
	rows, err := e.db.Reader().Query(e.ctx, `SELECT id, code FROM grid_cells`)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var id int64
		var code string
		if err := rows.Scan(&id, &code); err != nil {
			e.t.Fatal(err)
		}
		out[code] = id
	}
	if err := rows.Err(); err != nil {
		e.t.Fatal(err)
	}
	return out
}

func (e *env) tableCount(table string) int {
	e.t.Helper()
	var n int
	if err := e.db.Reader().QueryRow(e.ctx, `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *env) adminEvents(action string) []audit.Entry {
	e.t.Helper()
	es, err := audit.Recent(e.ctx, e.db.Reader(), 100)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []audit.Entry
	for _, en := range es {
		if en.Action == action {
			out = append(out, en)
		}
	}
	return out
}

func wantCode(t *testing.T, err error, code apperr.Code, key string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s %s", code, key)
	}
	ae, ok := apperr.As(err)
	if !ok || ae.Code != code || (key != "" && ae.Key != key) {
		t.Fatalf("got error %v, want %s %s", err, code, key)
	}
}

// metres east of lon at lat, in degrees of longitude.
func eastDeg(lat, m float64) float64 {
	return m / (geo.EarthRadius * math.Pi / 180 * math.Cos(lat*math.Pi/180))
}

// ---- tests ----

func TestImportAndLocate(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		rep := e.mustImport(collection(t, cityFeatures()...))
		if rep.Created != 8 || rep.Updated != 0 || rep.Errors != 0 || rep.Warnings != 0 || len(rep.Problems) != 0 {
			t.Fatalf("report = %+v, want 8 created and no problems", rep)
		}
		codes := cityFeatures()
		ids := e.cellIDs()
		if len(ids) != 8 {
			t.Fatalf("stored cells = %v", ids)
		}
		// Ids follow the file order, which is the index order.
		for i := 1; i < len(codes); i++ {
			if ids[codes[i].Code] <= ids[codes[i-1].Code] {
				t.Fatalf("cell ids not in file order: %v", ids)
			}
		}

		// Region and owner resolution.
		for _, tc := range []struct {
			ix     int
			region int64
			owner  int64
		}{
			{ixEast, e.community1.ID, e.unitB.ID},  // code prefix; owner by unit code
			{ixWest, e.community1.ID, e.unitA.ID},  // owner by unit name
			{ixByNames, e.community2.ID, 0},        // names only
			{ixMulti, e.community2.ID, e.unitA.ID}, // code prefix
			{ixHole, e.community2.ID, 0},           // code prefix
			{ixXinhua, e.xinhua2.ID, 0},            // repeated name, the street decides
			{ixStreet, e.street1.ID, 0},            // unknown community: the street's 9 digits
			{ixDistr, e.district1.ID, 0},           // unknown street: the district's 6 digits
		} {
			c, ok, err := e.gs.Cell(e.ctx, ids[codes[tc.ix].Code])
			if err != nil || !ok {
				t.Fatalf("cell %s: ok=%v err=%v", codes[tc.ix].Code, ok, err)
			}
			if c.RegionID != tc.region || c.OwnerUnitID != tc.owner {
				t.Errorf("cell %s: region %d owner %d, want region %d owner %d", c.Code, c.RegionID, c.OwnerUnitID, tc.region, tc.owner)
			}
			if c.Name != codes[tc.ix].Name || c.District != codes[tc.ix].District {
				t.Errorf("cell %s: name %q district %q", c.Code, c.Name, c.District)
			}
		}
		if _, ok, err := e.gs.Cell(e.ctx, 1<<40); ok || err != nil {
			t.Errorf("Cell(unknown) = ok %v err %v", ok, err)
		}
		if n, err := e.gs.Count(e.ctx); n != 8 || err != nil {
			t.Errorf("Count = %d, %v", n, err)
		}
		b, ok, err := e.gs.Bounds(e.ctx)
		if err != nil || !ok || b.Min != (geo.Point{Lon: 120.150, Lat: 30.250}) || b.Max != (geo.Point{Lon: 120.160, Lat: 30.257}) {
			t.Errorf("Bounds = %+v %v %v", b, ok, err)
		}

		id := func(ix int) int64 { return ids[codes[ix].Code] }
		holeEdge := geo.Distance(geo.Point{Lon: 120.1562, Lat: 30.2525}, geo.Point{Lon: 120.156, Lat: 30.2525})
		holeCentre := geo.Distance(geo.Point{Lon: 120.1575, Lat: 30.2525}, geo.Point{Lon: 120.156, Lat: 30.2525})
		gap := geo.Distance(geo.Point{Lon: 120.1522, Lat: 30.2505}, geo.Point{Lon: 120.152, Lat: 30.2505})
		for _, tc := range []struct {
			name      string
			lat, lon  float64
			fallbackM float64
			flag      string
			cell      int64
			region    int64
			owner     int64
			dist      float64
		}{
			{"inside west", 30.2505, 120.1505, 200, geo.LocCell, id(ixWest), e.community1.ID, e.unitA.ID, 0},
			{"inside east", 30.2505, 120.1515, 200, geo.LocCell, id(ixEast), e.community1.ID, e.unitB.ID, 0},
			// On the border both contain the point: the lower index (the
			// east cell, first in the file) wins, every time.
			{"shared border", 30.2505, 120.151, 200, geo.LocCell, id(ixEast), e.community1.ID, e.unitB.ID, 0},
			{"shared corner", 30.251, 120.151, 200, geo.LocCell, id(ixEast), e.community1.ID, e.unitB.ID, 0},
			{"outer vertex", 30.250, 120.150, 200, geo.LocCell, id(ixWest), e.community1.ID, e.unitA.ID, 0},
			{"by names", 30.2505, 120.1535, 200, geo.LocCell, id(ixByNames), e.community2.ID, 0, 0},
			{"multipolygon first part", 30.2535, 120.1505, 200, geo.LocCell, id(ixMulti), e.community2.ID, e.unitA.ID, 0},
			{"multipolygon second part", 30.2535, 120.1525, 200, geo.LocCell, id(ixMulti), e.community2.ID, e.unitA.ID, 0},
			{"hole cell body", 30.2505, 120.1555, 200, geo.LocCell, id(ixHole), e.community2.ID, 0, 0},
			{"hole near its edge", 30.2525, 120.1562, 200, geo.LocNearest, id(ixHole), e.community2.ID, 0, holeEdge},
			{"hole centre within fallback", 30.2525, 120.1575, 200, geo.LocNearest, id(ixHole), e.community2.ID, 0, holeCentre},
			{"hole centre beyond fallback", 30.2525, 120.1575, 100, geo.LocNone, 0, 0, 0, 0},
			{"gap between cells", 30.2505, 120.1522, 200, geo.LocNearest, id(ixEast), e.community1.ID, e.unitB.ID, gap},
			{"gap beyond fallback", 30.2505, 120.1522, 10, geo.LocNone, 0, 0, 0, 0},
			{"1 km east of the city", 30.252, 120.160 + eastDeg(30.252, 1000), 200, geo.LocNone, 0, 0, 0, 0},
			{"5 km east of the city", 30.252, 120.160 + eastDeg(30.252, 5000), 200, geo.LocOutside, 0, 0, 0, 0},
			{"Beijing", 39.9, 116.4, 200, geo.LocOutside, 0, 0, 0, 0},
		} {
			t.Run(tc.name, func(t *testing.T) {
				e.gs.FallbackM = tc.fallbackM
				defer func() { e.gs.FallbackM = grid.DefaultFallbackM }()
				for range 3 { // deterministic
					loc, err := e.gs.Locate(e.ctx, tc.lat, tc.lon)
					if err != nil {
						t.Fatal(err)
					}
					if loc.Flag != tc.flag || loc.CellID != tc.cell || loc.RegionID != tc.region || loc.OwnerUnitID != tc.owner {
						t.Fatalf("Locate = %+v, want flag %s cell %d region %d owner %d", loc, tc.flag, tc.cell, tc.region, tc.owner)
					}
					if math.Abs(loc.DistanceM-tc.dist) > 0.5 {
						t.Fatalf("distance = %.1f m, want %.1f m", loc.DistanceM, tc.dist)
					}
					if tc.cell != 0 {
						c, _, _ := e.gs.Cell(e.ctx, tc.cell)
						if loc.CellCode != c.Code || loc.CellName != c.Name {
							t.Fatalf("Locate = %+v, want code %s name %s", loc, c.Code, c.Name)
						}
					}
				}
			})
		}

		// Cells in a box: the two squares of the shared border only.
		box := geo.Rect{Min: geo.Point{Lon: 120.1502, Lat: 30.2502}, Max: geo.Point{Lon: 120.1518, Lat: 30.2508}}
		cells, more, err := e.gs.Cells(e.ctx, box, 10)
		if err != nil || more || len(cells) != 2 {
			t.Fatalf("Cells = %d cells, more %v, err %v", len(cells), more, err)
		}
		got := []string{cells[0].Code, cells[1].Code}
		if !slices.Equal(got, []string{codes[ixEast].Code, codes[ixWest].Code}) {
			t.Errorf("Cells codes = %v", got)
		}
		if cells, more, _ := e.gs.Cells(e.ctx, box, 1); len(cells) != 1 || !more {
			t.Errorf("Cells limit 1 = %d cells, more %v", len(cells), more)
		}
		far := geo.Rect{Min: geo.Point{Lon: 100, Lat: 10}, Max: geo.Point{Lon: 101, Lat: 11}}
		if cells, more, _ := e.gs.Cells(e.ctx, far, 10); len(cells) != 0 || more {
			t.Errorf("Cells far away = %d, more %v", len(cells), more)
		}
		if g := cells[0].GeometryJSON(); !json.Valid(g) || !strings.Contains(string(g), `"MultiPolygon"`) {
			t.Errorf("GeometryJSON = %s", g)
		}

		// Districts from the cells.
		ds, err := e.gs.Districts(e.ctx)
		if err != nil || len(ds) != 2 {
			t.Fatalf("Districts = %+v, %v", ds, err)
		}
		byName := map[string]grid.District{}
		for _, d := range ds {
			byName[d.Name] = d
		}
		sc, gs := byName["上城区"], byName["拱墅区"]
		if sc.Bounds.Min != (geo.Point{Lon: 120.150, Lat: 30.250}) || sc.Bounds.Max != (geo.Point{Lon: 120.155, Lat: 30.257}) {
			t.Errorf("上城区 bounds = %+v", sc.Bounds)
		}
		if gs.Bounds.Min != (geo.Point{Lon: 120.150, Lat: 30.250}) || gs.Bounds.Max != (geo.Point{Lon: 120.160, Lat: 30.257}) {
			t.Errorf("拱墅区 bounds = %+v", gs.Bounds)
		}
		if c := sc.Center; math.Abs(c.Lon-120.1525) > 1e-9 || math.Abs(c.Lat-30.2535) > 1e-9 {
			t.Errorf("上城区 centre = %+v", c)
		}

		// The import is on the trail.
		evs := e.adminEvents("grid.import")
		if len(evs) != 1 {
			t.Fatalf("grid.import events = %d", len(evs))
		}
		if evs[0].ActorID != e.admin.UserID || !strings.Contains(evs[0].Data, `"created":8`) {
			t.Errorf("grid.import event = %+v", evs[0])
		}
		if r, err := audit.Verify(e.ctx, e.db); err != nil || !r.OK {
			t.Errorf("audit chain: %+v %v", r, err)
		}
	})
}

func TestLocateEmptyGrid(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		for _, p := range [][2]float64{{30.2505, 120.1505}, {39.9, 116.4}} {
			loc, err := e.gs.Locate(e.ctx, p[0], p[1])
			if err != nil || loc != (geo.Location{}) {
				t.Errorf("Locate%v on an empty grid = %+v, %v; want the empty location", p, loc, err)
			}
		}
		if _, ok, err := e.gs.Bounds(e.ctx); ok || err != nil {
			t.Errorf("Bounds on an empty grid: ok %v err %v", ok, err)
		}
		if ds, err := e.gs.Districts(e.ctx); len(ds) != 0 || err != nil {
			t.Errorf("Districts = %v %v", ds, err)
		}
		var buf bytes.Buffer
		if err := e.gs.Export(e.ctx, &buf); err != nil {
			t.Fatal(err)
		}
		cells, problems, err := geo.ParseCells(&buf, 0)
		if err != nil || len(cells) != 0 || len(problems) != 0 {
			t.Errorf("export of an empty grid parses to %d cells, %v, %v", len(cells), problems, err)
		}
	})
}

func TestImportWithErrorsImportsNothing(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		good := cityFeatures()[ixWest]
		open := feature{Code: "330102001001003", Geom: map[string]any{"type": "Polygon", "coordinates": []ring{{{120.1, 30.1}, {120.2, 30.1}, {120.2, 30.2}, {120.1, 30.2}}}}}
		noCode := feature{Name: "无编码", Geom: polygon(square(120.170, 30.250, 120.171, 30.251))}
		dup := feature{Code: good.Code, Geom: polygon(square(120.180, 30.250, 120.181, 30.251))}
		point := feature{Raw: `{"type":"Feature","properties":{"grid_code":"P1"},"geometry":{"type":"Point","coordinates":[120.1,30.1]}}`}
		file := collection(t, good, open, noCode, dup, point)

		for _, dry := range []bool{true, false} {
			rep, err := e.importFile(e.admin, file, dry)
			if err != nil {
				t.Fatalf("dry %v: %v", dry, err)
			}
			if rep.Created != 0 || rep.Updated != 0 || rep.Errors != 4 {
				t.Fatalf("dry %v: report = %+v, want 4 errors and nothing written", dry, rep)
			}
			want := []struct {
				index int
				code  string
				key   string
			}{
				{1, "330102001001003", "grid.ring_not_closed"},
				{2, "", "grid.code_missing"},
				{3, good.Code, "grid.code_duplicate"},
				{4, "P1", "grid.geometry_type"},
			}
			if len(rep.Problems) != len(want) {
				t.Fatalf("problems = %+v", rep.Problems)
			}
			for i, w := range want {
				p := rep.Problems[i]
				if p.Index != w.index || p.Code != w.code || p.Key != w.key || p.Severity != geo.SeverityError {
					t.Errorf("problem %d = %+v, want index %d code %q key %s", i, p, w.index, w.code, w.key)
				}
				// People read 1-based positions.
				if len(p.Args) < 2 || p.Args[0] != "index" || p.Args[1] != string(rune('1'+w.index)) {
					t.Errorf("problem %d args = %v", i, p.Args)
				}
			}
		}
		if n := e.tableCount("grid_cells"); n != 0 {
			t.Fatalf("%d cells stored from a file with errors", n)
		}
		if n, _ := e.gs.Count(e.ctx); n != 0 {
			t.Fatalf("index holds %d cells", n)
		}
		if evs := e.adminEvents("grid.import"); len(evs) != 0 {
			t.Fatalf("grid.import logged for a refused file: %+v", evs)
		}

		// Files that are not a FeatureCollection at all.
		for _, bad := range []string{`not json`, `{"type":"Feature"}`, `[1,2]`} {
			_, err := e.importFile(e.admin, bad, false)
			wantCode(t, err, apperr.Invalid, "")
		}
		if n := e.tableCount("grid_cells"); n != 0 {
			t.Fatalf("%d cells stored", n)
		}
	})
}

func TestImportDryRunWritesNothing(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		rep, err := e.importFile(e.admin, collection(t, cityFeatures()...), true)
		if err != nil || rep.Errors != 0 || rep.Created != 0 || rep.Updated != 0 {
			t.Fatalf("dry run = %+v, %v", rep, err)
		}
		if n := e.tableCount("grid_cells"); n != 0 {
			t.Fatalf("dry run stored %d cells", n)
		}
		if evs := e.adminEvents("grid.import"); len(evs) != 0 {
			t.Fatalf("dry run logged an import")
		}
		if loc, _ := e.gs.Locate(e.ctx, 30.2505, 120.1505); loc.Flag != "" {
			t.Fatalf("dry run changed the index: %+v", loc)
		}
		// A dry run still reports warnings (overlap) without errors.
		f := cityFeatures()
		overlap := feature{Code: "330102001001009", Geom: polygon(square(120.1505, 30.2505, 120.1515, 30.2515))}
		rep, err = e.importFile(e.admin, collection(t, f[ixWest], overlap), true)
		if err != nil || rep.Errors != 0 || rep.Warnings != 1 || len(rep.Problems) != 1 || rep.Problems[0].Key != "grid.cells_overlap" || rep.Problems[0].Index != 1 {
			t.Fatalf("dry run with overlap = %+v, %v", rep, err)
		}
	})
}

func TestImportWarningsStillImport(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		f := cityFeatures()
		overlap := feature{Code: "330102001001009", Name: "重叠", Geom: polygon(square(120.1505, 30.2505, 120.1515, 30.2515))}
		rep, err := e.importFile(e.admin, collection(t, f[ixWest], overlap), false)
		if err != nil || rep.Created != 2 || rep.Warnings != 1 || rep.Errors != 0 {
			t.Fatalf("import with overlap = %+v, %v", rep, err)
		}
		ids := e.cellIDs()
		// In the overlap the earlier cell wins.
		if loc, _ := e.gs.Locate(e.ctx, 30.2508, 120.1508); loc.CellID != ids[f[ixWest].Code] {
			t.Errorf("overlap point located in %+v", loc)
		}
		if loc, _ := e.gs.Locate(e.ctx, 30.2512, 120.1512); loc.CellID != ids["330102001001009"] {
			t.Errorf("point only in the second cell located in %+v", loc)
		}
		if evs := e.adminEvents("grid.import"); len(evs) != 1 || !strings.Contains(evs[0].Data, `"warnings":1`) {
			t.Errorf("grid.import events = %+v", evs)
		}
	})
}

func TestReimportUpdatesByCode(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		f := cityFeatures()
		e.mustImport(collection(t, f[ixEast], f[ixWest]))
		before := e.cellIDs()
		if loc, _ := e.gs.Locate(e.ctx, 30.2505, 120.1505); loc.CellID != before[f[ixWest].Code] {
			t.Fatalf("before: %+v", loc)
		}

		// The west cell moves north and changes name and owner (its
		// region still comes from its code); a third cell arrives.
		e.clk.Advance(time.Hour)
		moved := f[ixWest]
		moved.Name, moved.Owner = "清波1号网格（调整）", "B"
		moved.Geom = polygon(square(120.150, 30.2515, 120.151, 30.2525))
		moved.Community, moved.Street, moved.District = "", "", ""
		rep := e.mustImport(collection(t, f[ixByNames], moved, f[ixEast]))
		if rep.Created != 1 || rep.Updated != 2 {
			t.Fatalf("re-import = %+v, want 1 created, 2 updated", rep)
		}
		after := e.cellIDs()
		if len(after) != 3 || after[f[ixWest].Code] != before[f[ixWest].Code] || after[f[ixEast].Code] != before[f[ixEast].Code] {
			t.Fatalf("ids changed: before %v after %v", before, after)
		}
		// The index follows at once.
		if loc, _ := e.gs.Locate(e.ctx, 30.2505, 120.1505); loc.Flag != geo.LocNearest || loc.CellID != before[f[ixEast].Code] {
			t.Errorf("old place of the moved cell: %+v", loc)
		}
		loc, _ := e.gs.Locate(e.ctx, 30.252, 120.1505)
		if loc.Flag != geo.LocCell || loc.CellID != before[f[ixWest].Code] || loc.CellName != moved.Name || loc.OwnerUnitID != e.unitB.ID || loc.RegionID != e.community1.ID {
			t.Errorf("new place of the moved cell: %+v", loc)
		}
		var updatedAt int64
		if err := db.Reader().QueryRow(e.ctx, `SELECT updated_at FROM grid_cells WHERE code = ?`, moved.Code).Scan(&updatedAt); err != nil || updatedAt != store.Ms(e.clk.Now()) {
			t.Errorf("updated_at = %d, want %d (%v)", updatedAt, store.Ms(e.clk.Now()), err)
		}
		if evs := e.adminEvents("grid.import"); len(evs) != 2 {
			t.Errorf("grid.import events = %d", len(evs))
		}
	})
}

func TestExportRoundTrip(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		e.mustImport(collection(t, cityFeatures()...))
		var first bytes.Buffer
		if err := e.gs.Export(e.ctx, &first); err != nil {
			t.Fatal(err)
		}
		exported, problems, err := geo.ParseCells(bytes.NewReader(first.Bytes()), 0)
		if err != nil || len(problems) != 0 || len(exported) != 8 {
			t.Fatalf("export parses to %d cells, %v, %v", len(exported), problems, err)
		}
		for i, f := range cityFeatures() {
			c := exported[i]
			if c.Code != f.Code || c.Name != f.Name || c.Community != f.Community || c.Street != f.Street || c.District != f.District || c.Owner != f.Owner {
				t.Errorf("exported cell %d = %+v, want %+v", i, c, f)
			}
		}
		if len(exported[ixMulti].Geometry) != 2 || len(exported[ixHole].Geometry[0]) != 2 {
			t.Errorf("multipolygon parts %d, hole rings %d", len(exported[ixMulti].Geometry), len(exported[ixHole].Geometry[0]))
		}

		locs := func() []geo.Location {
			var out []geo.Location
			for _, p := range [][2]float64{{30.2505, 120.1505}, {30.2505, 120.151}, {30.2535, 120.1525}, {30.2525, 120.1562}, {30.2565, 120.1505}} {
				l, err := e.gs.Locate(e.ctx, p[0], p[1])
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, l)
			}
			return out
		}
		beforeLocs, beforeIDs := locs(), e.cellIDs()

		e.clk.Advance(time.Minute)
		rep := e.mustImport(first.String())
		if rep.Created != 0 || rep.Updated != 8 || rep.Warnings != 0 {
			t.Fatalf("re-import of the export = %+v", rep)
		}
		var second bytes.Buffer
		if err := e.gs.Export(e.ctx, &second); err != nil {
			t.Fatal(err)
		}
		if first.String() != second.String() {
			t.Errorf("export changed after a round trip:\n%s\n---\n%s", first.String(), second.String())
		}
		if !slices.Equal(beforeLocs, locs()) {
			t.Errorf("locations changed: %+v → %+v", beforeLocs, locs())
		}
		afterIDs := e.cellIDs()
		for code, id := range beforeIDs {
			if afterIDs[code] != id {
				t.Errorf("cell %s id %d → %d", code, id, afterIDs[code])
			}
		}

		// Into a new city with the same regions: the same cells come out.
		e2 := newEnv(t, testcity.SQLite(t))
		rep = e2.mustImport(first.String())
		if rep.Created != 8 {
			t.Fatalf("import of the export elsewhere = %+v", rep)
		}
		var third bytes.Buffer
		if err := e2.gs.Export(e2.ctx, &third); err != nil {
			t.Fatal(err)
		}
		if third.String() != first.String() {
			t.Errorf("export of the copy differs")
		}
	})
}

func TestImportForbidden(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		file := collection(t, cityFeatures()...)
		for _, a := range []org.Actor{e.acceptor, e.gridWorker, {Name: "client", Role: org.RoleClient, Scope: org.ScopeCity}} {
			_, err := e.importFile(a, file, false)
			wantCode(t, err, apperr.Forbidden, "forbidden")
			_, err = e.importFile(a, file, true)
			wantCode(t, err, apperr.Forbidden, "forbidden")
		}
		if n := e.tableCount("grid_cells"); n != 0 {
			t.Fatalf("forbidden import stored %d cells", n)
		}
		// The system (command line) may import.
		if rep, err := e.importFile(org.System, file, false); err != nil || rep.Created != 8 {
			t.Fatalf("system import = %+v, %v", rep, err)
		}
	})
}

func TestAssign(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		e.mustImport(collection(t, cityFeatures()...))
		ids := e.cellIDs()
		f := cityFeatures()
		c1, c2, c3 := ids[f[ixWest].Code], ids[f[ixEast].Code], ids[f[ixHole].Code]

		if err := e.gs.Assign(e.ctx, e.admin, e.gridUserID, []int64{c3, c1, c1}); err != nil {
			t.Fatalf("assign: %v", err)
		}
		got, err := e.gs.Assigned(e.ctx, e.gridUserID)
		if err != nil || !slices.Equal(got, sortIDs(c1, c3)) {
			t.Fatalf("Assigned = %v, %v; want %v", got, err, sortIDs(c1, c3))
		}

		wantCode(t, e.gs.Assign(e.ctx, e.acceptor, e.gridUserID, []int64{c2}), apperr.Forbidden, "forbidden")
		wantCode(t, e.gs.Assign(e.ctx, e.admin, e.acceptorID, []int64{c2}), apperr.Invalid, "grid.assign_not_grid_worker")
		wantCode(t, e.gs.Assign(e.ctx, e.admin, 1<<40, []int64{c2}), apperr.NotFound, "user.not_found")
		// An unknown cell refuses the whole change: the old cells stay.
		wantCode(t, e.gs.Assign(e.ctx, e.admin, e.gridUserID, []int64{c2, 1 << 40}), apperr.Invalid, "grid.cell_not_found")
		if got, _ := e.gs.Assigned(e.ctx, e.gridUserID); !slices.Equal(got, sortIDs(c1, c3)) {
			t.Fatalf("after refused assignments: %v", got)
		}
		if n := e.tableCount("grid_assignments"); n != 2 {
			t.Fatalf("grid_assignments rows = %d", n)
		}

		// A new assignment replaces the old one; another worker's stay.
		if err := e.gs.Assign(e.ctx, e.admin, e.gridWorker2.UserID, []int64{c1}); err != nil {
			t.Fatal(err)
		}
		if err := e.gs.Assign(e.ctx, e.admin, e.gridUserID, []int64{c2}); err != nil {
			t.Fatal(err)
		}
		if got, _ := e.gs.Assigned(e.ctx, e.gridUserID); !slices.Equal(got, []int64{c2}) {
			t.Errorf("replaced assignment = %v", got)
		}
		if got, _ := e.gs.Assigned(e.ctx, e.gridWorker2.UserID); !slices.Equal(got, []int64{c1}) {
			t.Errorf("other worker = %v", got)
		}
		if err := e.gs.Assign(e.ctx, e.admin, e.gridUserID, nil); err != nil {
			t.Fatal(err)
		}
		if got, _ := e.gs.Assigned(e.ctx, e.gridUserID); len(got) != 0 {
			t.Errorf("cleared assignment = %v", got)
		}
		if evs := e.adminEvents("grid.assign"); len(evs) != 4 {
			t.Errorf("grid.assign events = %d, want 4 (refusals leave none)", len(evs))
		}
	})
}

func sortIDs(ids ...int64) []int64 {
	slices.Sort(ids)
	return ids
}

func TestReloadAndWatch(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		// Another replica over the same database, with its index loaded
		// before the import.
		other := grid.New(db, nil)
		if loc, err := other.Locate(e.ctx, 30.2505, 120.1505); err != nil || loc.Flag != "" {
			t.Fatalf("other before: %+v %v", loc, err)
		}
		f := cityFeatures()
		e.mustImport(collection(t, f[ixWest]))
		if n, _ := e.gs.Count(e.ctx); n != 1 {
			t.Fatalf("importing replica sees %d cells", n)
		}
		if n, _ := other.Count(e.ctx); n != 0 {
			t.Fatalf("other replica sees %d cells before Reload: its index is a snapshot", n)
		}
		if err := other.Reload(e.ctx); err != nil {
			t.Fatal(err)
		}
		if loc, _ := other.Locate(e.ctx, 30.2505, 120.1505); loc.Flag != geo.LocCell || loc.RegionID != e.community1.ID {
			t.Fatalf("other after Reload: %+v", loc)
		}

		// Watch notices imports by itself. Its first look at the table is
		// not observable, so a priming import is repeated (each with a
		// new updated_at) until the watching replica has picked one up;
		// from then on Watch is in its loop.
		ctx, cancel := context.WithCancel(e.ctx)
		done := make(chan struct{})
		go func() { other.Watch(ctx, 10*time.Millisecond); close(done) }()
		defer func() { cancel(); <-done }()
		waitFor := func(what string, ok func() bool, retry func()) {
			t.Helper()
			deadline := time.Now().Add(10 * time.Second)
			next := time.Now().Add(300 * time.Millisecond)
			for !ok() {
				if time.Now().After(deadline) {
					t.Fatalf("Watch did not pick up %s", what)
				}
				if retry != nil && time.Now().After(next) {
					retry()
					next = time.Now().Add(300 * time.Millisecond)
				}
				time.Sleep(5 * time.Millisecond)
			}
		}
		primed := 0
		westID := e.cellIDs()[f[ixWest].Code]
		prime := func() {
			primed++
			w := f[ixWest]
			w.Name = fmt.Sprintf("清波1号网格-%d", primed)
			e.clk.Advance(time.Second)
			e.mustImport(collection(t, w))
		}
		prime()
		waitFor("a priming import", func() bool {
			c, _, _ := other.Cell(e.ctx, westID)
			return c.Name == fmt.Sprintf("清波1号网格-%d", primed)
		}, prime)

		e.clk.Advance(time.Second)
		e.mustImport(collection(t, f[ixEast], f[ixHole]))
		waitFor("the import", func() bool { n, _ := other.Count(e.ctx); return n == 3 }, nil)
		if loc, _ := other.Locate(e.ctx, 30.2505, 120.1555); loc.Flag != geo.LocCell || loc.CellCode != f[ixHole].Code {
			t.Errorf("other after Watch: %+v", loc)
		}
	})
}

// Locate runs while imports replace the index (run with -race).
func TestLocateDuringImport(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		file := collection(t, cityFeatures()...)
		e.mustImport(file)
		ctx, cancel := context.WithCancel(e.ctx)
		var wg sync.WaitGroup
		errs := make(chan string, 4)
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					loc, err := e.gs.Locate(ctx, 30.2505, 120.1505)
					if err != nil || loc.Flag != geo.LocCell || loc.CellCode != cityFeatures()[ixWest].Code {
						select {
						case errs <- loc.Flag + " " + loc.CellCode:
						default:
						}
						return
					}
				}
			}()
		}
		for range 3 {
			e.clk.Advance(time.Second)
			e.mustImport(file)
		}
		cancel()
		wg.Wait()
		close(errs)
		for msg := range errs {
			t.Errorf("Locate during import: %s", msg)
		}
	})
}

// A replica whose index was loaded before its Watch started must still
// follow imports made on another replica in between.
func TestWatchCatchesUpWithStaleIndex(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		f := cityFeatures()
		e.mustImport(collection(t, f[ixWest]))
		other := grid.New(db, nil)
		if n, _ := other.Count(e.ctx); n != 1 { // index loaded: one cell
			t.Fatalf("other sees %d cells", n)
		}
		e.clk.Advance(time.Second)
		e.mustImport(collection(t, f[ixEast], f[ixHole])) // another replica imports

		ctx, cancel := context.WithCancel(e.ctx)
		done := make(chan struct{})
		go func() { other.Watch(ctx, 10*time.Millisecond); close(done) }()
		defer func() { cancel(); <-done }()
		deadline := time.Now().Add(2 * time.Second)
		for {
			if n, _ := other.Count(e.ctx); n == 3 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatal("Watch never reloads an index that was stale when it started: it takes its baseline from the table, not from the loaded snapshot")
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

func TestPlaceFromAddress(t *testing.T) {
	// One database is enough: Place reads the loaded grid, not SQL.
	e := newEnv(t, storetest.SQLite(t))
	e.mustImport(collection(t,
		feature{Code: "330102001001001", Name: "清波社区一网格", Community: "清波社区", Street: "清波街道", Geom: polygon(square(120.150, 30.250, 120.151, 30.251))},
		feature{Code: "330102001001002", Name: "清波社区二网格", Community: "清波社区", Street: "清波街道", Geom: polygon(square(120.151, 30.250, 120.152, 30.251))},
		feature{Code: "330102001002001", Name: "新华社区一网格", Community: "新华社区", Street: "清波街道", Geom: polygon(square(120.150, 30.251, 120.151, 30.252))},
	))
	for _, tc := range []struct {
		text, name, cell string
		ok               bool
	}{
		{"清波社区二网格旁边的垃圾桶", "清波社区二网格", "330102001001002", true}, // the cell's own name wins
		{"新华社区3幢门口", "新华社区", "330102001002001", true},         // a community of one cell
		{"清波社区南门", "清波社区", "330102001001001", true},           // several cells: the first by code
		{"清波街道某处", "清波街道", "330102001001001", true},           // a street
		{"某某路88号", "", "", false},
		{"", "", "", false},
	} {
		p, ok, err := e.gs.Place(e.ctx, tc.text)
		if err != nil {
			t.Fatal(err)
		}
		if ok != tc.ok || p.Name != tc.name || p.Cell != tc.cell {
			t.Errorf("Place(%q) = %+v %v, want %s %s %v", tc.text, p, ok, tc.name, tc.cell, tc.ok)
			continue
		}
		if ok {
			loc, err := e.gs.Locate(e.ctx, p.Point.Lat, p.Point.Lon)
			if err != nil || loc.CellCode != tc.cell {
				t.Errorf("Place(%q) gave a point in %q (%v), want %s", tc.text, loc.CellCode, err, tc.cell)
			}
		}
	}
}
