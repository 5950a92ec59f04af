package geo_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"chuangwen/internal/geo"
)

func TestParseDatum(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want geo.Datum
		ok   bool
	}{
		{"", geo.WGS84, true},
		{"wgs84", geo.WGS84, true},
		{"WGS-84", geo.WGS84, true},
		{" gcj02 ", geo.GCJ02, true},
		{"GCJ-02", geo.GCJ02, true},
		{"bd09", geo.BD09, true},
		{"BD-09", geo.BD09, true},
		{"bd09mc", "", false},
		{"epsg:3857", "", false},
		{"gcj", "", false},
	} {
		got, err := geo.ParseDatum(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseDatum(%q) = %q, %v; want %q, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

// convert takes p from one datum to another through WGS-84, as the
// platform does.
func convert(p geo.Point, from, to geo.Datum) geo.Point {
	return geo.FromWGS84(geo.ToWGS84(p, from), to)
}

// TestPublishedPairs checks conversions against values published in the
// tests of two widely used open-source converters.
func TestPublishedPairs(t *testing.T) {
	for _, tc := range []struct {
		source   string
		from, to geo.Datum
		in, want geo.Point
	}{
		// wandergis/coordtransform, test/app.js (Tiananmen area, Beijing).
		{"coordtransform", geo.WGS84, geo.GCJ02, geo.Point{116.404, 39.915}, geo.Point{116.41024449916938, 39.91640428150164}},
		{"coordtransform", geo.GCJ02, geo.BD09, geo.Point{116.404, 39.915}, geo.Point{116.41036949371029, 39.92133699351021}},
		{"coordtransform", geo.BD09, geo.GCJ02, geo.Point{116.404, 39.915}, geo.Point{116.39762729119315, 39.90865673957631}},
		// hujiulong/gcoord, test/unit/crs/*.spec.ts (Heilongjiang/Jilin).
		{"gcoord", geo.WGS84, geo.GCJ02, geo.Point{123, 45}, geo.Point{123.00607541, 45.00197815}},
		{"gcoord", geo.WGS84, geo.BD09, geo.Point{123, 45}, geo.Point{123.0124491, 45.0083293}},
		{"gcoord", geo.GCJ02, geo.WGS84, geo.Point{123, 45}, geo.Point{122.99395597, 44.99804071}},
		{"gcoord", geo.GCJ02, geo.BD09, geo.Point{123, 45}, geo.Point{123.00636499, 45.00636899}},
		{"gcoord", geo.BD09, geo.GCJ02, geo.Point{123, 45}, geo.Point{122.99363304, 44.99365430}},
		{"gcoord", geo.BD09, geo.WGS84, geo.Point{123, 45}, geo.Point{122.98762210, 44.99171540}},
	} {
		got := convert(tc.in, tc.from, tc.to)
		if math.Abs(got.Lon-tc.want.Lon) > 1e-6 || math.Abs(got.Lat-tc.want.Lat) > 1e-6 {
			t.Errorf("%s: %s→%s %v = %.10f,%.10f; want %v", tc.source, tc.from, tc.to, tc.in, got.Lon, got.Lat, tc.want)
		}
	}
}

// TestGCJInverse checks that going to GCJ-02 and back, either way round,
// lands within a centimetre, over the whole of China.
func TestGCJInverse(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	worst := 0.0
	for range 20000 {
		p := geo.Point{Lon: 73.5 + rng.Float64()*61.5, Lat: 18 + rng.Float64()*35.5}
		back := geo.ToWGS84(geo.FromWGS84(p, geo.GCJ02), geo.GCJ02)
		worst = max(worst, geo.Distance(p, back))
		fwd := geo.FromWGS84(geo.ToWGS84(p, geo.GCJ02), geo.GCJ02)
		worst = max(worst, geo.Distance(p, fwd))
	}
	if worst >= 0.01 {
		t.Fatalf("GCJ-02 round trip off by %.6f m", worst)
	}
	t.Logf("worst GCJ-02 round trip error %.3g m", worst)
}

// TestBDRoundTrip: the customary BD-09 inverse is approximate, off by up
// to 0.22 m over China (measured on a 0.01°×0.05° grid); this test holds
// it to that.
func TestBDRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	worst := 0.0
	for range 20000 {
		p := geo.Point{Lon: 73.5 + rng.Float64()*61.5, Lat: 18 + rng.Float64()*35.5}
		worst = max(worst, geo.Distance(p, geo.ToWGS84(geo.FromWGS84(p, geo.BD09), geo.BD09)))
	}
	if worst >= 0.25 {
		t.Fatalf("BD-09 round trip off by %.6f m", worst)
	}
	t.Logf("worst BD-09 round trip error %.3g m", worst)
}

func TestOffsetSize(t *testing.T) {
	// The GCJ-02 offset is a few hundred metres in Beijing; a sign or unit
	// slip would make it kilometres or centimetres.
	p := geo.Point{116.3912757, 39.906217}
	if d := geo.Distance(p, geo.FromWGS84(p, geo.GCJ02)); d < 300 || d > 800 {
		t.Errorf("GCJ-02 offset in Beijing %.1f m", d)
	}
	if d := geo.Distance(p, geo.FromWGS84(p, geo.BD09)); d < 800 || d > 1600 {
		t.Errorf("BD-09 offset in Beijing %.1f m", d)
	}
}

func TestOutsideChina(t *testing.T) {
	for _, p := range []geo.Point{
		{2.3522, 48.8566},    // Paris
		{-74.006, 40.7128},   // New York
		{139.6917, 35.6895},  // Tokyo, east of the box
		{151.2093, -33.8688}, // Sydney
		{70.0, 30.0},         // west of the box
		{100.0, 56.0},        // north of the box
	} {
		if got := geo.FromWGS84(p, geo.GCJ02); got != p {
			t.Errorf("FromWGS84(%v, GCJ02) = %v, want unchanged", p, got)
		}
		if got := geo.ToWGS84(p, geo.GCJ02); got != p {
			t.Errorf("ToWGS84(%v, GCJ02) = %v, want unchanged", p, got)
		}
	}
	// Inside the box something must change.
	p := geo.Point{102.7, 25.04}
	if geo.FromWGS84(p, geo.GCJ02) == p {
		t.Error("Kunming not offset")
	}
	if geo.ToWGS84(p, geo.WGS84) != p || geo.FromWGS84(p, geo.WGS84) != p {
		t.Error("WGS84 to WGS84 changed the point")
	}
}

func TestValid(t *testing.T) {
	for _, tc := range []struct {
		p    geo.Point
		want bool
	}{
		{geo.Point{0, 0}, true},
		{geo.Point{180, 90}, true},
		{geo.Point{-180, -90}, true},
		{geo.Point{180.0000001, 0}, false},
		{geo.Point{0, -90.5}, false},
		{geo.Point{math.NaN(), 0}, false},
		{geo.Point{0, math.Inf(1)}, false},
	} {
		if got := geo.Valid(tc.p); got != tc.want {
			t.Errorf("Valid(%v) = %v", tc.p, got)
		}
	}
}

func TestDistance(t *testing.T) {
	const R = 6371008.8
	for _, tc := range []struct {
		a, b geo.Point
		want float64
	}{
		{geo.Point{0, 0}, geo.Point{0, 1}, R * math.Pi / 180},
		{geo.Point{0, 0}, geo.Point{1, 0}, R * math.Pi / 180},
		{geo.Point{0, 0}, geo.Point{90, 0}, R * math.Pi / 2},
		{geo.Point{0, 0}, geo.Point{180, 0}, R * math.Pi},
		{geo.Point{10, 89}, geo.Point{-170, 89}, R * 2 * math.Pi / 180}, // across the pole
		{geo.Point{116.4, 39.9}, geo.Point{116.4, 39.9}, 0},
		// Along 60°N the great circle is a little shorter than the
		// parallel (R·cos60°·π/180 = 55,597.54 m): 2R·asin(cos60°·sin 0.5°).
		{geo.Point{0, 60}, geo.Point{1, 60}, 2 * R * math.Asin(0.5*math.Sin(math.Pi/360))},
	} {
		if got := geo.Distance(tc.a, tc.b); math.Abs(got-tc.want) > 0.01 {
			t.Errorf("Distance(%v, %v) = %.3f, want %.3f", tc.a, tc.b, got, tc.want)
		}
	}
}
