// Package geo holds the city's geography: coordinate datums (坐标系) and
// their conversions, polygons and point-in-polygon, the grid cells of the
// unit-grid management method (万米单元网格) read from and written to
// GeoJSON, and a spatial index that answers "which grid cell is this point
// in" fast enough to run for every report.
//
// Everything is stored and computed in WGS-84 longitude/latitude degrees;
// coordinates from Chinese map services (GCJ-02 for AMap/Tencent, BD-09 for
// Baidu) are converted at the edge with ToWGS84 and back with FromWGS84.
// The package imports only the standard library.
package geo

import (
	"fmt"
	"math"
	"strings"
)

// Datum names a geodetic datum (坐标系) in which a client sends or expects
// coordinates.
type Datum string

const (
	// WGS84 is the GPS datum and the one the platform stores.
	WGS84 Datum = "wgs84"
	// GCJ02 is the obfuscated datum mandated for published maps in mainland
	// China (国测局坐标, "Mars coordinates"), used by AMap and Tencent Maps.
	GCJ02 Datum = "gcj02"
	// BD09 is Baidu Maps' further offset of GCJ-02.
	BD09 Datum = "bd09"
)

// ParseDatum reads a datum name case-insensitively; "" means WGS84.
func ParseDatum(s string) (Datum, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "wgs84", "wgs-84":
		return WGS84, nil
	case "gcj02", "gcj-02":
		return GCJ02, nil
	case "bd09", "bd-09":
		return BD09, nil
	}
	return "", fmt.Errorf("geo: unknown datum %q (want wgs84, gcj02 or bd09)", s)
}

// Point is a position in degrees. Lon is east-positive, Lat north-positive.
type Point struct{ Lon, Lat float64 }

// Valid reports whether p is finite and within [-180,180]×[-90,90].
func Valid(p Point) bool {
	// NaN fails every comparison, so it is rejected here too.
	return p.Lon >= -180 && p.Lon <= 180 && p.Lat >= -90 && p.Lat <= 90
}

// EarthRadius is the mean Earth radius in metres (IUGG R1).
const EarthRadius = 6371008.8

// metresPerDegree is the length of one degree of latitude on the sphere.
const metresPerDegree = EarthRadius * math.Pi / 180

// Distance is the great-circle (haversine) distance between a and b in
// metres.
func Distance(a, b Point) float64 {
	const rad = math.Pi / 180
	φ1, φ2 := a.Lat*rad, b.Lat*rad
	dφ := (b.Lat - a.Lat) * rad
	dλ := (b.Lon - a.Lon) * rad
	s1, s2 := math.Sin(dφ/2), math.Sin(dλ/2)
	h := s1*s1 + math.Cos(φ1)*math.Cos(φ2)*s2*s2
	return 2 * EarthRadius * math.Asin(math.Sqrt(math.Min(1, h)))
}

// ToWGS84 converts p from datum d to WGS-84. A datum ParseDatum would not
// return is taken to be WGS-84: validate client input with ParseDatum.
func ToWGS84(p Point, d Datum) Point {
	switch d {
	case GCJ02:
		return gcjToWGS(p)
	case BD09:
		return gcjToWGS(bdToGCJ(p))
	}
	return p
}

// FromWGS84 converts a WGS-84 point p to datum d (unknown datums: as
// ToWGS84).
func FromWGS84(p Point, d Datum) Point {
	switch d {
	case GCJ02:
		return wgsToGCJ(p)
	case BD09:
		return gcjToBD(wgsToGCJ(p))
	}
	return p
}

// The GCJ-02 obfuscation is not published by its authors; the formula every
// open-source converter uses was recovered from leaked code and works on
// the Krasovsky 1940 ellipsoid.
const (
	krasovskyA  = 6378245.0
	krasovskyEE = 0.00669342162296594323 // first eccentricity squared
)

// outOfChina is the customary rough bounding box of mainland China outside
// which GCJ-02 equals WGS-84. It is a box, not the border: Mongolia, parts
// of Korea and South-East Asia fall inside it; that is what every other
// converter does too, so coordinates from map services agree with ours.
func outOfChina(p Point) bool {
	return p.Lon < 72.004 || p.Lon > 137.8347 || p.Lat < 0.8293 || p.Lat > 55.8271
}

func gcjOffsetLat(x, y float64) float64 {
	r := -100 + 2*x + 3*y + 0.2*y*y + 0.1*x*y + 0.2*math.Sqrt(math.Abs(x))
	r += (20*math.Sin(6*x*math.Pi) + 20*math.Sin(2*x*math.Pi)) * 2 / 3
	r += (20*math.Sin(y*math.Pi) + 40*math.Sin(y/3*math.Pi)) * 2 / 3
	r += (160*math.Sin(y/12*math.Pi) + 320*math.Sin(y*math.Pi/30)) * 2 / 3
	return r
}

func gcjOffsetLon(x, y float64) float64 {
	r := 300 + x + 2*y + 0.1*x*x + 0.1*x*y + 0.1*math.Sqrt(math.Abs(x))
	r += (20*math.Sin(6*x*math.Pi) + 20*math.Sin(2*x*math.Pi)) * 2 / 3
	r += (20*math.Sin(x*math.Pi) + 40*math.Sin(x/3*math.Pi)) * 2 / 3
	r += (150*math.Sin(x/12*math.Pi) + 300*math.Sin(x/30*math.Pi)) * 2 / 3
	return r
}

func wgsToGCJ(p Point) Point {
	if outOfChina(p) {
		return p
	}
	dLat := gcjOffsetLat(p.Lon-105, p.Lat-35)
	dLon := gcjOffsetLon(p.Lon-105, p.Lat-35)
	radLat := p.Lat / 180 * math.Pi
	s := math.Sin(radLat)
	magic := 1 - krasovskyEE*s*s
	sqrtMagic := math.Sqrt(magic)
	dLat = dLat * 180 / (krasovskyA * (1 - krasovskyEE) / (magic * sqrtMagic) * math.Pi)
	dLon = dLon * 180 / (krasovskyA / sqrtMagic * math.Cos(radLat) * math.Pi)
	return Point{Lon: p.Lon + dLon, Lat: p.Lat + dLat}
}

// gcjToWGS inverts wgsToGCJ by fixed-point iteration: the offset changes
// by well under a thousandth of the step between nearby points, so each
// round gains about three decimal digits and a few rounds reach the limits
// of float64. The usual one-step inverse (subtract the offset computed at
// the GCJ point) is off by up to a couple of metres.
func gcjToWGS(g Point) Point {
	if outOfChina(g) {
		return g
	}
	w := g
	for range 20 {
		c := wgsToGCJ(w)
		dLon, dLat := c.Lon-g.Lon, c.Lat-g.Lat
		w.Lon -= dLon
		w.Lat -= dLat
		if math.Abs(dLon) < 1e-13 && math.Abs(dLat) < 1e-13 {
			break
		}
	}
	return w
}

// xPi is the constant of Baidu's BD-09 offset (π·3000/180).
const xPi = math.Pi * 3000 / 180

func gcjToBD(p Point) Point {
	x, y := p.Lon, p.Lat
	z := math.Sqrt(x*x+y*y) + 0.00002*math.Sin(y*xPi)
	θ := math.Atan2(y, x) + 0.000003*math.Cos(x*xPi)
	return Point{Lon: z*math.Cos(θ) + 0.0065, Lat: z*math.Sin(θ) + 0.006}
}

// bdToGCJ is the customary closed-form inverse of gcjToBD. It is not
// exact (a round trip drifts by up to 0.22 m over China, most in the
// north-east), but it is what every other converter computes, so our
// conversions agree with theirs to the digit; 0.2 m is far below what a
// phone's position is worth anyway.
func bdToGCJ(p Point) Point {
	x, y := p.Lon-0.0065, p.Lat-0.006
	z := math.Sqrt(x*x+y*y) - 0.00002*math.Sin(y*xPi)
	θ := math.Atan2(y, x) - 0.000003*math.Cos(x*xPi)
	return Point{Lon: z * math.Cos(θ), Lat: z * math.Sin(θ)}
}
