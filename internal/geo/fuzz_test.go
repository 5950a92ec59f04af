package geo_test

import (
	"bytes"
	"os"
	"reflect"
	"strings"
	"testing"

	"chuangwen/internal/geo"
)

// fuzzSeeds are small files touching each path of ParseCells. The same
// inputs are committed under testdata/fuzz/FuzzParseCells.
func fuzzSeeds() []string {
	return []string{
		fc(okFeature),
		fc(okFeature, feature(`{"grid_code":"B"}`, polygon(`[[[0.5,0.5],[1.5,0.5],[1.5,1.5],[0.5,1.5],[0.5,0.5]]]`))),
		fc(feature(`{"code":12,"name":"a\u00e9\"b","street":[1]}`, `{"type":"MultiPolygon","coordinates":[[[[0,0,9],[1,0,9],[1,1,9],[0,0,9]]],[[[2,2],[3,2],[3,3],[2,2]]]]}`)),
		fc(feature(`{"grid_code":"H"}`, polygon(`[[[0,0],[9,0],[9,9],[0,9],[0,0]],[[1,1],[1,2],[2,2],[2,1],[1,1]]]`)), feature(`{"grid_code":"I"}`, polygon(`[[[1,1],[2,1],[2,2],[1,2],[1,1]]]`))),
		fc(feature(`{"grid_code":"X"}`, polygon(`[[[0,0],[1,1],[1,0],[0,1],[0,0]]]`)), `5`, `null`, feature(`null`, `null`)),
		fc(feature(`{"grid_code":"Y"}`, polygon(`[[[1e400,0],["0",1],[null,0]]]`)), feature(`{"grid_code":"Y"}`, `{"type":"Point","coordinates":[0,0]}`)),
		`{"type":"FeatureCollection","features":[]}`,
		`{"type":"FeatureCollection","features":{}}`,
		`[1,2`,
		``,
	}
}

func FuzzParseCells(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add([]byte(s))
	}
	if sample, err := os.ReadFile("testdata/cells.geojson"); err == nil {
		f.Add(sample)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cells, problems, err := geo.ParseCells(bytes.NewReader(data), 1<<20)
		if err != nil {
			if cells != nil || problems != nil || geo.ErrorKey(err) == "" {
				t.Fatalf("error %v with cells or problems, or without a key", err)
			}
			return
		}
		last := 0
		for _, p := range problems {
			if !strings.HasPrefix(p.Key, "grid.") || (p.Severity != geo.SeverityError && p.Severity != geo.SeverityWarning) ||
				len(p.Args) < 4 || len(p.Args)%2 != 0 || p.Args[0] != "index" || p.Args[2] != "code" || p.Index < last {
				t.Fatalf("malformed problem %+v", p)
			}
			last = p.Index
		}
		seen := map[string]bool{}
		for _, c := range cells {
			if c.Code == "" || seen[c.Code] {
				t.Fatalf("code %q empty or repeated", c.Code)
			}
			seen[c.Code] = true
			for _, pg := range c.Geometry {
				for _, r := range pg {
					for _, p := range r {
						if !geo.Valid(p) {
							t.Fatalf("cell %s has invalid point %v", c.Code, p)
						}
					}
				}
			}
		}

		var buf bytes.Buffer
		if err := geo.WriteCells(&buf, cells); err != nil {
			t.Fatalf("WriteCells: %v", err)
		}
		again, problems2, err := geo.ParseCells(&buf, 0)
		if err != nil {
			t.Fatalf("re-parse: %v\n%s", err, buf.String())
		}
		for _, p := range problems2 {
			if p.Severity == geo.SeverityError {
				t.Fatalf("re-parse found %+v", p)
			}
		}
		if len(cells) != len(again) || (len(cells) > 0 && !reflect.DeepEqual(cells, again)) {
			t.Fatalf("round trip changed the cells:\n%+v\n%+v", cells, again)
		}

		// The index agrees with Contains at a point inside each cell.
		geoms := geometries(cells)
		ix := geo.NewIndex(geoms)
		bf := newBrute(geoms)
		for _, g := range geoms {
			p, ok := g.InteriorPoint()
			if !ok {
				continue
			}
			gi, gok := ix.Locate(p)
			wi, wok := bf.locate(p)
			if gi != wi || gok != wok || !gok {
				t.Fatalf("Locate(%v) = %d,%v; brute force %d,%v", p, gi, gok, wi, wok)
			}
		}
	})
}
