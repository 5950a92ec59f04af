package geo_test

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"chuangwen/internal/geo"
)

func fc(features ...string) string {
	return `{"type":"FeatureCollection","features":[` + strings.Join(features, ",\n") + `]}`
}

func feature(props, geom string) string {
	return `{"type":"Feature","properties":` + props + `,"geometry":` + geom + `}`
}

func polygon(coords string) string { return `{"type":"Polygon","coordinates":` + coords + `}` }

const unitSquare = `[[[0,0],[1,0],[1,1],[0,1],[0,0]]]`

var okFeature = feature(`{"grid_code":"A1"}`, polygon(unitSquare))

func parse(t *testing.T, s string) ([]geo.Cell, []geo.Problem) {
	t.Helper()
	cells, problems, err := geo.ParseCells(strings.NewReader(s), 0)
	if err != nil {
		t.Fatalf("ParseCells: %v", err)
	}
	return cells, problems
}

func argsOf(p geo.Problem) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(p.Args); i += 2 {
		m[p.Args[i]] = p.Args[i+1]
	}
	return m
}

func TestSampleFile(t *testing.T) {
	f, err := os.Open("testdata/cells.geojson")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cells, problems, err := geo.ParseCells(f, 1<<20)
	if err != nil || len(problems) != 0 {
		t.Fatalf("err %v, problems %+v", err, problems)
	}
	if len(cells) != 4 {
		t.Fatalf("%d cells", len(cells))
	}
	want := geo.Cell{Code: "531902001002", Name: "翠湖社区第2网格", Community: "翠湖社区", Street: "华山街道", District: "明湖区", Owner: "明湖区城市管理局"}
	got := cells[1]
	if len(got.Geometry) != 1 || len(got.Geometry[0]) != 2 {
		t.Errorf("cell 2 geometry %v", got.Geometry)
	}
	got.Geometry = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("cell 2 = %+v", got)
	}
	if len(cells[3].Geometry) != 2 {
		t.Errorf("cell 4 should have two parts: %v", cells[3].Geometry)
	}
	ix := geo.NewIndex(geometries(cells))
	for _, tc := range []struct {
		p    geo.Point
		want int
	}{
		{geo.Point{102.7005, 25.0405}, 0},
		{geo.Point{102.7015, 25.0405}, -1}, // the hole in cell 2
		{geo.Point{102.7009, 25.0415}, 3},  // east of the bend
		{geo.Point{102.7007, 25.0415}, 2},  // west of it
		{geo.Point{102.7032, 25.0412}, 3},  // the detached part
	} {
		if got, _ := ix.Locate(tc.p); got != tc.want {
			t.Errorf("Locate(%v) = %d, want %d", tc.p, got, tc.want)
		}
	}
}

func TestProblems(t *testing.T) {
	for _, tc := range []struct {
		name    string
		feature string
		key     string
		code    string
		sev     geo.Severity
		args    map[string]string
	}{
		{"not an object", `5`, "grid.not_feature", "", geo.SeverityError, nil},
		{"not a Feature", `{"type":"Point","coordinates":[0,0]}`, "grid.not_feature", "", geo.SeverityError, nil},
		{"properties not an object", feature(`[1]`, polygon(unitSquare)), "grid.properties_invalid", "", geo.SeverityError, nil},
		{"no code", feature(`{"name":"x"}`, polygon(unitSquare)), "grid.code_missing", "", geo.SeverityError, nil},
		{"no properties", feature(`null`, polygon(unitSquare)), "grid.code_missing", "", geo.SeverityError, nil},
		{"blank code", feature(`{"grid_code":"  "}`, polygon(unitSquare)), "grid.code_missing", "", geo.SeverityError, nil},
		{"code not text", feature(`{"grid_code":true}`, polygon(unitSquare)), "grid.property_type", "", geo.SeverityError, map[string]string{"property": "grid_code"}},
		{"name not text", feature(`{"grid_code":"B","name":{"a":1}}`, polygon(`[[[5,5],[6,5],[6,6],[5,6],[5,5]]]`)), "grid.property_type", "B", geo.SeverityWarning, map[string]string{"property": "name"}},
		{"duplicate code", okFeature, "grid.code_duplicate", "A1", geo.SeverityError, map[string]string{"other_index": "1"}},
		{"null geometry", feature(`{"grid_code":"B"}`, `null`), "grid.geometry_missing", "B", geo.SeverityError, nil},
		{"no geometry", `{"type":"Feature","properties":{"grid_code":"B"}}`, "grid.geometry_missing", "B", geo.SeverityError, nil},
		{"point", feature(`{"grid_code":"B"}`, `{"type":"Point","coordinates":[0,0]}`), "grid.geometry_type", "B", geo.SeverityError, map[string]string{"type": "Point"}},
		{"collection", feature(`{"grid_code":"B"}`, `{"type":"GeometryCollection","geometries":[]}`), "grid.geometry_type", "B", geo.SeverityError, map[string]string{"type": "GeometryCollection"}},
		{"geometry not an object", feature(`{"grid_code":"B"}`, `[1,2]`), "grid.geometry_type", "B", geo.SeverityError, map[string]string{"type": "[1,2]"}},
		{"no rings", feature(`{"grid_code":"B"}`, polygon(`[]`)), "grid.geometry_empty", "B", geo.SeverityError, nil},
		{"no polygons", feature(`{"grid_code":"B"}`, `{"type":"MultiPolygon","coordinates":[]}`), "grid.geometry_empty", "B", geo.SeverityError, nil},
		{"empty polygon in multi", feature(`{"grid_code":"B"}`, `{"type":"MultiPolygon","coordinates":[[]]}`), "grid.geometry_empty", "B", geo.SeverityError, nil},
		{"no coordinates", feature(`{"grid_code":"B"}`, `{"type":"Polygon"}`), "grid.coordinates_invalid", "B", geo.SeverityError, nil},
		{"too shallow", feature(`{"grid_code":"B"}`, polygon(`[[0,0],[1,0],[1,1],[0,0]]`)), "grid.coordinates_invalid", "B", geo.SeverityError, nil},
		{"too deep", feature(`{"grid_code":"B"}`, polygon(`[`+unitSquare+`]`)), "grid.coordinates_invalid", "B", geo.SeverityError, nil},
		{"short position", feature(`{"grid_code":"B"}`, polygon(`[[[0],[1,0],[1,1],[0]]]`)), "grid.coordinates_invalid", "B", geo.SeverityError, nil},
		{"object position", feature(`{"grid_code":"B"}`, polygon(`[[{"x":0},[1,0],[1,1],[0,0]]]`)), "grid.coordinates_invalid", "B", geo.SeverityError, nil},
		{"text coordinate", feature(`{"grid_code":"B"}`, polygon(`[[["0",0],[1,0],[1,1],[0,0]]]`)), "grid.coordinate_not_number", "B", geo.SeverityError, nil},
		{"null coordinate", feature(`{"grid_code":"B"}`, polygon(`[[[0,null],[1,0],[1,1],[0,0]]]`)), "grid.coordinate_not_number", "B", geo.SeverityError, nil},
		{"overflowing coordinate", feature(`{"grid_code":"B"}`, polygon(`[[[1e400,0],[1,0],[1,1],[0,0]]]`)), "grid.coordinate_not_number", "B", geo.SeverityError, nil},
		{"longitude out of range", feature(`{"grid_code":"B"}`, polygon(`[[[0,0],[181,0],[1,1],[0,0]]]`)), "grid.coordinate_out_of_range", "B", geo.SeverityError, map[string]string{"lon": "181.0000000", "lat": "0.0000000"}},
		{"latitude out of range", feature(`{"grid_code":"B"}`, polygon(`[[[0,0],[1,-91],[1,1],[0,0]]]`)), "grid.coordinate_out_of_range", "B", geo.SeverityError, map[string]string{"lat": "-91.0000000"}},
		{"three positions", feature(`{"grid_code":"B"}`, polygon(`[[[0,0],[1,0],[0,0]]]`)), "grid.ring_too_short", "B", geo.SeverityError, map[string]string{"count": "3", "polygon": "1", "ring": "1"}},
		{"empty ring", feature(`{"grid_code":"B"}`, polygon(`[[]]`)), "grid.ring_too_short", "B", geo.SeverityError, map[string]string{"count": "0"}},
		{"open ring", feature(`{"grid_code":"B"}`, polygon(`[[[0,0],[1,0],[1,1],[0,1]]]`)), "grid.ring_not_closed", "B", geo.SeverityError, map[string]string{"polygon": "1", "ring": "1"}},
		{"collinear ring", feature(`{"grid_code":"B"}`, polygon(`[[[0,0],[1,0],[2,0],[0,0]]]`)), "grid.ring_degenerate", "B", geo.SeverityError, nil},
		{"two distinct positions", feature(`{"grid_code":"B"}`, polygon(`[[[0,0],[1,1],[1,1],[0,0]]]`)), "grid.ring_degenerate", "B", geo.SeverityError, nil},
		{"bow tie", feature(`{"grid_code":"B"}`, polygon(`[[[0,0],[1,1],[1,0],[0,1],[0,0]]]`)), "grid.ring_self_intersects", "B", geo.SeverityError, map[string]string{"lon": "0.5000000", "lat": "0.5000000"}},
		{"figure eight at a vertex", feature(`{"grid_code":"B"}`, polygon(`[[[0,0],[2,0],[1,1],[2,2],[0,2],[1,1],[0,0]]]`)), "grid.ring_self_intersects", "B", geo.SeverityError, map[string]string{"lon": "1.0000000", "lat": "1.0000000"}},
		{"spike", feature(`{"grid_code":"B"}`, polygon(`[[[0,0],[2,0],[2,2],[2,3],[2,1],[0,2],[0,0]]]`)), "grid.ring_self_intersects", "B", geo.SeverityError, nil},
		{"crossing in a hole", feature(`{"grid_code":"B"}`, polygon(`[[[0,0],[9,0],[9,9],[0,9],[0,0]],[[1,1],[3,3],[3,1],[1,3],[1,1]]]`)), "grid.ring_self_intersects", "B", geo.SeverityError, map[string]string{"ring": "2"}},
		{"hole outside", feature(`{"grid_code":"B"}`, polygon(`[[[0,0],[1,0],[1,1],[0,1],[0,0]],[[2,2],[2,3],[3,3],[3,2],[2,2]]]`)), "grid.hole_outside", "B", geo.SeverityError, map[string]string{"polygon": "1", "ring": "2"}},
		{"hole across the edge", feature(`{"grid_code":"B"}`, polygon(`[[[0,0],[2,0],[2,2],[0,2],[0,0]],[[1,1],[1,3],[3,3],[3,1],[1,1]]]`)), "grid.hole_outside", "B", geo.SeverityError, nil},
		{"hole across a notch", feature(`{"grid_code":"B"}`, polygon(`[[[0,0],[10,0],[10,4],[4,4],[4,10],[0,10],[0,0]],[[2,6],[2,8],[8,2],[6,2],[2,6]]]`)), "grid.hole_outside", "B", geo.SeverityError, nil},
		{"bad second polygon", feature(`{"grid_code":"B"}`, `{"type":"MultiPolygon","coordinates":[[[[5,5],[6,5],[6,6],[5,6],[5,5]]],[[[7,7],[8,7],[8,8],[7,7.5]]]]}`), "grid.ring_not_closed", "B", geo.SeverityError, map[string]string{"polygon": "2", "ring": "1"}},
		{"overlap", feature(`{"grid_code":"B"}`, polygon(`[[[0.5,0.5],[1.5,0.5],[1.5,1.5],[0.5,1.5],[0.5,0.5]]]`)), "grid.cells_overlap", "B", geo.SeverityWarning, map[string]string{"other": "A1", "other_index": "1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cells, problems := parse(t, fc(okFeature, tc.feature))
			if len(problems) != 1 {
				t.Fatalf("problems %+v", problems)
			}
			p := problems[0]
			if p.Index != 1 || p.Code != tc.code || p.Key != tc.key || p.Severity != tc.sev {
				t.Errorf("problem %+v; want index 1, code %q, key %s, %s", p, tc.code, tc.key, tc.sev)
			}
			args := argsOf(p)
			wantCode := tc.code
			if wantCode == "" {
				wantCode = "grid.no_code"
			}
			if len(p.Args) < 4 || p.Args[0] != "index" || p.Args[1] != "2" || p.Args[2] != "code" || p.Args[3] != wantCode {
				t.Errorf("args %q should start with index 2, code %s", p.Args, wantCode)
			}
			for k, v := range tc.args {
				if args[k] != v {
					t.Errorf("arg %s = %q, want %q (args %q)", k, args[k], v, p.Args)
				}
			}
			wantCells := 1
			if tc.sev == geo.SeverityWarning {
				wantCells = 2
			}
			if len(cells) != wantCells || cells[0].Code != "A1" {
				t.Errorf("%d cells returned, want %d", len(cells), wantCells)
			}
		})
	}
}

func TestProblemOrderAndSeveral(t *testing.T) {
	cells, problems := parse(t, fc(
		feature(`{"grid_code":"A"}`, polygon(`[[[0,0],[1,0],[1,1],[0,1]],[[0,0],[1,0]]]`)), // two bad rings
		okFeature,
		feature(`{"grid_code":"C","street":[]}`, polygon(`[[[0,0],[1,1],[1,0],[0,1],[0,0]]]`)), // warning and error
		feature(`{"grid_code":"A"}`, polygon(`[[[5,5],[6,5],[6,6],[5,6],[5,5]]]`)),             // duplicate of a rejected cell
	))
	var got []string
	for _, p := range problems {
		got = append(got, strings.Join([]string{string(rune('0' + p.Index)), p.Code, p.Key, string(p.Severity)}, " "))
	}
	want := []string{
		"0 A grid.ring_not_closed error",
		"0 A grid.ring_too_short error",
		"2 C grid.property_type warning",
		"2 C grid.ring_self_intersects error",
		"3 A grid.code_duplicate error",
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(cells) != 1 || cells[0].Code != "A1" {
		t.Errorf("cells %+v", cells)
	}
}

func TestFileErrors(t *testing.T) {
	big := fc(okFeature)
	for _, tc := range []struct {
		name string
		in   string
		max  int64
		want error
		key  string
	}{
		{"too large", big, int64(len(big) - 1), geo.ErrTooLarge, "grid.file_too_large"},
		{"empty", "", 0, geo.ErrNotJSON, "grid.file_not_json"},
		{"broken", `{"type":"FeatureCollection","features":[`, 0, geo.ErrNotJSON, "grid.file_not_json"},
		{"shapefile bytes", "\x00\x00\x27\x0a", 0, geo.ErrNotJSON, "grid.file_not_json"},
		{"array", `[]`, 0, geo.ErrNotFeatureCollection, "grid.file_not_feature_collection"},
		{"null", `null`, 0, geo.ErrNotFeatureCollection, "grid.file_not_feature_collection"},
		{"a feature", okFeature, 0, geo.ErrNotFeatureCollection, "grid.file_not_feature_collection"},
		{"type not text", `{"type":1,"features":[]}`, 0, geo.ErrNotFeatureCollection, "grid.file_not_feature_collection"},
		{"no features", `{"type":"FeatureCollection"}`, 0, geo.ErrNotFeatureCollection, "grid.file_not_feature_collection"},
		{"null features", `{"type":"FeatureCollection","features":null}`, 0, geo.ErrNotFeatureCollection, "grid.file_not_feature_collection"},
		{"features an object", `{"type":"FeatureCollection","features":{}}`, 0, geo.ErrNotFeatureCollection, "grid.file_not_feature_collection"},
	} {
		_, _, err := geo.ParseCells(strings.NewReader(tc.in), tc.max)
		if !errors.Is(err, tc.want) || geo.ErrorKey(err) != tc.key {
			t.Errorf("%s: err %v (key %q), want %v", tc.name, err, geo.ErrorKey(err), tc.want)
		}
	}
	for _, limit := range []int64{int64(len(big)), math.MaxInt64} {
		if _, _, err := geo.ParseCells(strings.NewReader(big), limit); err != nil {
			t.Errorf("limit %d: %v", limit, err)
		}
	}
	cells, problems, err := geo.ParseCells(strings.NewReader(`{"type":"FeatureCollection","features":[]}`), 0)
	if err != nil || len(cells) != 0 || len(problems) != 0 {
		t.Errorf("empty collection: %v %v %v", cells, problems, err)
	}
	if geo.ErrorKey(errors.New("other")) != "" {
		t.Error("ErrorKey of another error")
	}
}

func TestPropertiesAndFormats(t *testing.T) {
	cells, problems := parse(t, fc(
		feature(`{"grid_code":531902001001,"name":" 一号 ","community":12,"street":null,"owner_unit":"城管"}`,
			polygon(`[[[0,0,1500],[1,0,1500],[1,1,1500],[0,1,1500],[0,0,1500]]]`)),
		feature(`{"code":"X-2","district":"明湖区"}`, polygon(`[[[1,0],[2,0],[2,1],[1,1],[1,0]]]`)),
		feature(`{"grid_code":null,"code":"X-3"}`, polygon(`[[[2,0],[3,0],[3,1],[2,1],[2,0]]]`)),
		feature(`{"grid_code":"X-4","extra":{"nested":true}}`, `{"type":"MultiPolygon","coordinates":[[[[3,0],[4,0],[4,1],[3,1],[3,0]]]],"bbox":[3,0,4,1]}`),
	))
	if len(problems) != 0 {
		t.Fatalf("problems %+v", problems)
	}
	want := []geo.Cell{
		{Code: "531902001001", Name: "一号", Community: "12", Owner: "城管", Geometry: geo.MultiPolygon{{box(0, 0, 1, 1)}}},
		{Code: "X-2", District: "明湖区", Geometry: geo.MultiPolygon{{box(1, 0, 2, 1)}}},
		{Code: "X-3", Geometry: geo.MultiPolygon{{box(2, 0, 3, 1)}}},
		{Code: "X-4", Geometry: geo.MultiPolygon{{box(3, 0, 4, 1)}}},
	}
	if !reflect.DeepEqual(cells, want) {
		t.Errorf("cells\n%+v\nwant\n%+v", cells, want)
	}
}

func TestOverlaps(t *testing.T) {
	for _, tc := range []struct {
		name    string
		a, b    string // Polygon or MultiPolygon geometries
		overlap bool
	}{
		{"shared edge", polygon(`[[[0,0],[1,0],[1,1],[0,1],[0,0]]]`), polygon(`[[[1,0],[2,0],[2,1],[1,1],[1,0]]]`), false},
		{"shared vertex", polygon(`[[[0,0],[1,0],[1,1],[0,1],[0,0]]]`), polygon(`[[[1,1],[2,1],[2,2],[1,2],[1,1]]]`), false},
		{"part of an edge", polygon(`[[[0,0],[2,0],[2,1],[0,1],[0,0]]]`), polygon(`[[[1,1],[3,1],[3,2],[1,2],[1,1]]]`), false},
		{"shared slanted edge with extra vertex", polygon(`[[[0,0],[2,0],[0,2],[0,0]]]`), polygon(`[[[2,0],[2,2],[0,2],[1,1],[2,0]]]`), false},
		{"apart", polygon(`[[[0,0],[1,0],[1,1],[0,1],[0,0]]]`), polygon(`[[[3,3],[4,3],[4,4],[3,4],[3,3]]]`), false},
		{"island in a hole", polygon(`[[[0,0],[3,0],[3,3],[0,3],[0,0]],[[1,1],[1,2],[2,2],[2,1],[1,1]]]`), polygon(`[[[1,1],[2,1],[2,2],[1,2],[1,1]]]`), false},
		{"interlocking combs", polygon(`[[[0,0],[3,0],[3,1],[2,1],[2,2],[1,2],[1,1],[0,1],[0,0]]]`), polygon(`[[[0,1],[1,1],[1,2],[2,2],[2,1],[3,1],[3,3],[0,3],[0,1]]]`), false},
		{"identical", polygon(`[[[0,0],[1,0],[1,1],[0,1],[0,0]]]`), polygon(`[[[1,1],[0,1],[0,0],[1,0],[1,1]]]`), true},
		{"inside", polygon(`[[[0,0],[4,0],[4,4],[0,4],[0,0]]]`), polygon(`[[[1,1],[2,1],[2,2],[1,2],[1,1]]]`), true},
		{"inside, sharing an edge", polygon(`[[[0,0],[4,0],[4,4],[0,4],[0,0]]]`), polygon(`[[[0,0],[2,0],[2,2],[0,2],[0,0]]]`), true},
		{"half over, edges in line", polygon(`[[[0,0],[2,0],[2,2],[0,2],[0,0]]]`), polygon(`[[[1,0],[3,0],[3,2],[1,2],[1,0]]]`), true},
		{"cross", polygon(`[[[0,1],[3,1],[3,2],[0,2],[0,1]]]`), polygon(`[[[1,0],[2,0],[2,3],[1,3],[1,0]]]`), true},
		{"corner over", polygon(`[[[0,0],[2,0],[2,2],[0,2],[0,0]]]`), polygon(`[[[1,1],[3,1],[3,3],[1,3],[1,1]]]`), true},
		{"bigger than the hole", polygon(`[[[0,0],[3,0],[3,3],[0,3],[0,0]],[[1,1],[1,2],[2,2],[2,1],[1,1]]]`), polygon(`[[[0.5,0.5],[2.5,0.5],[2.5,2.5],[0.5,2.5],[0.5,0.5]]]`), true},
		{"second part over", polygon(`[[[0,0],[1,0],[1,1],[0,1],[0,0]]]`), `{"type":"MultiPolygon","coordinates":[[[[5,5],[6,5],[6,6],[5,6],[5,5]]],[[[0.9,0.9],[2,0.9],[2,2],[0.9,2],[0.9,0.9]]]]}`, true},
		{"sliver", polygon(`[[[0,0],[1,0],[1,1],[0,1],[0,0]]]`), polygon(`[[[0.9999,0],[2,0],[2,1],[0.9999,1],[0.9999,0]]]`), true},
	} {
		_, problems := parse(t, fc(feature(`{"grid_code":"A"}`, tc.a), feature(`{"grid_code":"B"}`, tc.b)))
		got := len(problems) == 1 && problems[0].Key == "grid.cells_overlap" && problems[0].Index == 1 &&
			problems[0].Code == "B" && argsOf(problems[0])["other"] == "A"
		if got != tc.overlap || len(problems) > 1 {
			t.Errorf("%s: problems %+v, want overlap=%v", tc.name, problems, tc.overlap)
		}
	}
}

func TestLatticeIsValid(t *testing.T) {
	for seed := range int64(4) {
		lat := geo.GenerateLattice(yunchuan, 40, 30, 100, seed)
		if len(lat) != 1200 || lat[0].Row != 0 || lat[0].Col != 0 || lat[41].Row != 1 || lat[41].Col != 1 {
			t.Fatalf("lattice order: %d cells", len(lat))
		}
		cells := make([]geo.Cell, len(lat))
		holes, bent := 0, 0
		for i, c := range lat {
			cells[i] = latticeCell(c, i)
			n := len(c.Geometry[0][0]) - 1
			if n < 4 || n > 12 {
				t.Errorf("cell %d has %d vertices", i, n)
			}
			if n >= 6 {
				bent++
			}
			if len(c.Geometry[0]) > 1 {
				holes++
			}
			if a := c.Geometry.Area(); a < 6000 || a > 13000 {
				t.Errorf("cell %d area %.0f m²", i, a)
			}
		}
		if holes == 0 || holes > 100 || bent < 300 {
			t.Errorf("seed %d: %d holes, %d cells with 6 or more vertices", seed, holes, bent)
		}
		var buf bytes.Buffer
		if err := geo.WriteCells(&buf, cells); err != nil {
			t.Fatal(err)
		}
		got, problems, err := geo.ParseCells(&buf, 0)
		if err != nil || len(problems) != 0 || len(got) != len(cells) {
			t.Fatalf("seed %d: %d cells, err %v, problems %+v", seed, len(got), err, problems[:min(5, len(problems))])
		}
	}
	a := geo.GenerateLattice(yunchuan, 5, 5, 100, 42)
	b := geo.GenerateLattice(yunchuan, 5, 5, 100, 42)
	if !reflect.DeepEqual(a, b) {
		t.Error("same seed, different lattice")
	}
	if geo.GenerateLattice(yunchuan, 0, 5, 100, 1) != nil {
		t.Error("empty lattice")
	}
}

func TestRoundTrip(t *testing.T) {
	sample, err := os.ReadFile("testdata/cells.geojson")
	if err != nil {
		t.Fatal(err)
	}
	for name, in := range map[string]string{
		"sample": string(sample),
		"city":   cityGeoJSON(t, 300),
		"odd": fc(
			feature(`{"grid_code":"1e5","name":"引号\"与\\反斜杠\u0001","community":"<&>"}`, polygon(`[[[1e-7,-1e-9],[1,0],[1,1],[0,1],[1e-7,-1e-9]]]`)),
			feature(`{"code":-0.5}`, `{"type":"MultiPolygon","coordinates":[[[[179.9999999999,89],[180,89],[180,90],[179.9999999999,89]]],[[[-180,-90],[-179,-90],[-179,-89],[-180,-90]]]]}`),
		),
	} {
		first, problems := parse(t, in)
		if len(problems) != 0 || len(first) == 0 {
			t.Fatalf("%s: problems %+v", name, problems)
		}
		var buf bytes.Buffer
		if err := geo.WriteCells(&buf, first); err != nil {
			t.Fatal(err)
		}
		second, problems := parse(t, buf.String())
		if len(problems) != 0 || !reflect.DeepEqual(first, second) {
			t.Errorf("%s: round trip changed the cells (problems %+v)\n%s", name, problems, buf.String()[:min(buf.Len(), 2000)])
		}
	}
}

func TestWriteCells(t *testing.T) {
	var buf bytes.Buffer
	err := geo.WriteCells(&buf, []geo.Cell{
		{Code: "A", Geometry: geo.MultiPolygon{{box(0, 0, 1, 1)}}},
		{Code: "B"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"grid_code":"A","name":"","community":"","street":"","district":"","owner_unit":""},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}},
{"type":"Feature","properties":{"grid_code":"B","name":"","community":"","street":"","district":"","owner_unit":""},"geometry":null}
]}
`
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
	bad := []geo.Cell{{Code: "N", Geometry: geo.MultiPolygon{{pts(0, 0, 1, 0, 0, math.Inf(1), 0, 0)}}}}
	if err := geo.WriteCells(&bytes.Buffer{}, bad); err == nil {
		t.Error("infinite coordinate written")
	}
}

func cityGeoJSON(t testing.TB, n int) string {
	var buf bytes.Buffer
	if err := geo.WriteCells(&buf, city(n, 11)); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// TestOverlapProperties checks the overlap test on many random pairs of
// small polygons with integer corners (so that shared edges, collinear
// runs and touching vertices are common): it must not depend on the order
// of the two cells, and a point found inside both must mean an overlap.
func TestOverlapProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	randomRing := func() (string, geo.MultiPolygon) {
		n := 3 + rng.IntN(4)
		r := make(geo.Ring, 0, n+1)
		for range n {
			r = append(r, geo.Point{Lon: float64(rng.IntN(5)), Lat: float64(rng.IntN(5))})
		}
		r = append(r, r[0])
		var b strings.Builder
		for i, p := range r {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "[%g,%g]", p.Lon, p.Lat)
		}
		return polygon("[[" + b.String() + "]]"), geo.MultiPolygon{{r}}
	}
	overlapOf := func(t *testing.T, a, b string) (bool, bool) {
		cells, problems := parse(t, fc(feature(`{"grid_code":"A"}`, a), feature(`{"grid_code":"B"}`, b)))
		if len(cells) != 2 {
			return false, false
		}
		return len(problems) == 1 && problems[0].Key == "grid.cells_overlap", true
	}
	pairs, overlapping := 0, 0
	for pairs < 3000 {
		ja, ga := randomRing()
		jb, gb := randomRing()
		ab, ok := overlapOf(t, ja, jb)
		if !ok {
			continue // one of them is not a valid cell
		}
		pairs++
		if ab {
			overlapping++
		}
		if ba, _ := overlapOf(t, jb, ja); ba != ab {
			t.Fatalf("overlap depends on order: %v then %v: %v, reversed %v", ga, gb, ab, ba)
		}
		if ab {
			continue
		}
		for k := range 32 {
			for l := range 32 {
				p := geo.Point{Lon: (float64(k) + 0.37) / 8, Lat: (float64(l) + 0.41) / 8}
				if ga.Contains(p) && gb.Contains(p) {
					t.Fatalf("%v and %v both contain %v, yet no overlap", ga, gb, p)
				}
			}
		}
	}
	if overlapping < pairs/10 || overlapping > pairs*9/10 {
		t.Errorf("%d of %d pairs overlap: the sample is lopsided", overlapping, pairs)
	}
}

// Whitespace wherever JSON allows it, as Python's json.dumps (", "), QGIS
// and GDAL ("[ 102.7, 25.0 ]") and pretty printers write it, reads as
// the compact form does.
func TestCoordinatesWithWhitespace(t *testing.T) {
	compact, problems := parse(t, fc(okFeature))
	if len(problems) != 0 || len(compact) != 1 {
		t.Fatalf("compact: %d cells, %+v", len(compact), problems)
	}
	for _, coords := range []string{
		`[[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]`,
		`[ [ [ 0, 0 ], [ 1, 0 ], [ 1, 1 ], [ 0, 1 ], [ 0, 0 ] ] ]`,
		"[\n  [\n    [\n      0,\n      0\n    ],\n    [1 ,0] ,\n\t[1,\t1],\r\n[0,1],[0,0, 12.5]\n  ]\n]",
	} {
		cells, problems := parse(t, fc(feature(`{"grid_code":"A1"}`, polygon(coords))))
		if len(problems) != 0 || len(cells) != 1 || !reflect.DeepEqual(cells[0].Geometry, compact[0].Geometry) {
			t.Errorf("%q: %d cells, %+v", coords, len(cells), problems)
		}
	}
}
