package geo

import (
	"math"
	"math/rand/v2"
)

// LatticeCell is one cell made by GenerateLattice: its place in the
// lattice (row 0 is the southern edge, column 0 the western) and its shape.
type LatticeCell struct {
	Row, Col int
	Geometry MultiPolygon
}

// GenerateLattice makes cols×rows grid cells of about cellMeters square
// whose south-west corner is near origin, for tests, benchmarks and the
// demo city. It returns geometry only, row by row from the south-west;
// callers give the cells their codes and names (for example
// fmt.Sprintf("531902001%03d", i+1)).
//
// The cells tile without gaps or overlaps, as real grids do: lattice
// corners are moved by up to 8% of a cell, about half the shared edges get
// one or two bends (so cells have 4 to 12 vertices, concave ones
// included), and one cell in 40 has a square hole (a courtyard or a pond
// that belongs to no cell). The same seed gives the same cells.
func GenerateLattice(origin Point, cols, rows int, cellMeters float64, seed int64) []LatticeCell {
	if cols <= 0 || rows <= 0 {
		return nil
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15))
	jitter := func(amp float64) float64 { return (rng.Float64()*2 - 1) * amp }
	// Work in cell units, then convert: x east, y north.
	type xy struct{ x, y float64 }
	corner := make([][]xy, rows+1)
	for r := range corner {
		corner[r] = make([]xy, cols+1)
		for c := range corner[r] {
			corner[r][c] = xy{float64(c) + jitter(0.08), float64(r) + jitter(0.08)}
		}
	}
	// bends returns the inner points of the edge from p to q.
	bends := func(p, q xy) []xy {
		var ts []float64
		switch u := rng.Float64(); {
		case u < 0.5:
			return nil
		case u < 0.75:
			ts = []float64{0.5 + jitter(0.05)}
		default:
			ts = []float64{1.0/3 + jitter(0.05), 2.0/3 + jitter(0.05)}
		}
		// Unit normal to pq (pq is about one cell long).
		nx, ny := -(q.y - p.y), q.x-p.x
		l := math.Hypot(nx, ny)
		nx, ny = nx/l, ny/l
		out := make([]xy, len(ts))
		for i, t := range ts {
			off := jitter(0.06)
			out[i] = xy{p.x + t*(q.x-p.x) + off*nx, p.y + t*(q.y-p.y) + off*ny}
		}
		return out
	}
	// horiz[r][c] runs west to east from corner (r,c); vert[r][c] south to
	// north from corner (r,c). Neighbours share these, so they share edges
	// exactly.
	horiz := make([][][]xy, rows+1)
	for r := range horiz {
		horiz[r] = make([][]xy, cols)
		for c := range horiz[r] {
			horiz[r][c] = bends(corner[r][c], corner[r][c+1])
		}
	}
	vert := make([][][]xy, rows)
	for r := range vert {
		vert[r] = make([][]xy, cols+1)
		for c := range vert[r] {
			vert[r][c] = bends(corner[r][c], corner[r+1][c])
		}
	}
	kLat := cellMeters / metresPerDegree
	kLon := kLat / math.Cos(origin.Lat*math.Pi/180)
	pt := func(p xy) Point { return Point{Lon: origin.Lon + p.x*kLon, Lat: origin.Lat + p.y*kLat} }

	cells := make([]LatticeCell, 0, rows*cols)
	for r := range rows {
		for c := range cols {
			// Counter-clockwise (RFC 7946): south edge west→east, east edge
			// south→north, north edge east→west, west edge north→south.
			var ring Ring
			ring = append(ring, pt(corner[r][c]))
			for _, p := range horiz[r][c] {
				ring = append(ring, pt(p))
			}
			ring = append(ring, pt(corner[r][c+1]))
			for _, p := range vert[r][c+1] {
				ring = append(ring, pt(p))
			}
			ring = append(ring, pt(corner[r+1][c+1]))
			north := horiz[r+1][c]
			for i := len(north) - 1; i >= 0; i-- {
				ring = append(ring, pt(north[i]))
			}
			ring = append(ring, pt(corner[r+1][c]))
			west := vert[r][c]
			for i := len(west) - 1; i >= 0; i-- {
				ring = append(ring, pt(west[i]))
			}
			ring = append(ring, ring[0])
			poly := Polygon{ring}
			if rng.IntN(40) == 0 {
				cx, cy := float64(c)+0.5+jitter(0.05), float64(r)+0.5+jitter(0.05)
				s := 0.08 + rng.Float64()*0.06
				// Clockwise, as holes are in RFC 7946.
				poly = append(poly, Ring{
					pt(xy{cx - s, cy - s}), pt(xy{cx - s, cy + s}), pt(xy{cx + s, cy + s}),
					pt(xy{cx + s, cy - s}), pt(xy{cx - s, cy - s}),
				})
			}
			cells = append(cells, LatticeCell{Row: r, Col: c, Geometry: MultiPolygon{poly}})
		}
	}
	return cells
}
