package demo

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"time"

	"chuangwen/internal/geo"
)

// The demo city's unit grid (万米单元网格). One lattice of cells about
// 100 m square is laid over the city centre (geo.GenerateLattice: cells
// that tile exactly, with bent edges and the odd pond); each community
// keeps a block of it, and the cells between blocks are dropped: the
// river and ring road between the districts (two cells wide), a road
// between the streets of a district (one cell), and between some of the
// communities of a street. 湖畔社区 wraps around 明湖, a lake of 9×7 dropped
// cells with one island cell, which belongs to a lakeside cell as the
// second part of a MultiPolygon.
//
// So the demo shows every way a point can fall: in a cell, in a road or
// on the lake shore near a cell (属地兜底: the nearest cell's locality),
// and in the middle of the lake or out of town, where no cell is near
// enough (unlocated: the acceptor places it).

const (
	cellM       = 100.0  // side of a cell in metres
	latticeSeed = 531900 // the city's lattice is the same whatever the case seed
	centreLat   = 25.00  // the city centre, in the middle of the box
	centreLon   = 102.75
	riverGap    = 2 // cells between the districts
	roadGap     = 1 // cells between the streets of a district
	// The lake: lakeW×lakeH cells dropped from 湖畔社区's block, with
	// lakeShore cells of land all round.
	lakeW, lakeH, lakeShore = 9, 7, 3
)

// lakeCommunity is the community whose block surrounds the lake.
const lakeCommunity = "湖畔社区"

// block is a rectangle of lattice cells: columns x0..x1-1 from the west,
// rows y0..y1-1 from the south.
type block struct{ x0, y0, x1, y1 int }

func (b block) has(x, y int) bool { return x >= b.x0 && x < b.x1 && y >= b.y0 && y < b.y1 }

// cityLayout is where every community's block lies in the lattice.
type cityLayout struct {
	origin     geo.Point // south-west corner of the lattice
	cols, rows int
	kLat, kLon float64 // degrees per cell
	blocks     [][][]block
	lake       block
	island     [2]int // x, y of the island cell
}

// streetWidth is the width in cells of a street's band of communities.
func streetWidth(di, si int, st streetDef) int {
	for _, c := range st.communities {
		if c == lakeCommunity {
			return lakeW + 2*lakeShore
		}
	}
	return 10 + (di+2*si)%3
}

// communityHeight is the height in cells of a community's block.
func communityHeight(di, si, ci int, name string) int {
	if name == lakeCommunity {
		return lakeH + 2*lakeShore
	}
	return 8 + (di+si+2*ci)%3
}

// layoutCity places the blocks: each district fills its quadrant from the
// centre outwards, its streets side by side (away from the centre east or
// west), the communities of a street stacked (away from it north or south).
func layoutCity() cityLayout {
	var l cityLayout
	l.blocks = make([][][]block, len(districts))
	minX, minY, maxX, maxY := 0, 0, 0, 0
	lakeAt := [3]int{-1, -1, -1}
	for di, d := range districts {
		l.blocks[di] = make([][]block, len(d.streets))
		xOff := riverGap / 2
		for si, st := range d.streets {
			w := streetWidth(di, si, st)
			x0 := xOff
			if !d.east {
				x0 = -xOff - w
			}
			xOff += w + roadGap
			yOff := riverGap / 2
			for ci, name := range st.communities {
				h := communityHeight(di, si, ci, name)
				y0 := yOff
				if !d.north {
					y0 = -yOff - h
				}
				yOff += h
				if (di+si+ci)%3 == 0 {
					yOff += roadGap // a lane between this community and the next
				}
				b := block{x0, y0, x0 + w, y0 + h}
				l.blocks[di][si] = append(l.blocks[di][si], b)
				minX, minY = min(minX, b.x0), min(minY, b.y0)
				maxX, maxY = max(maxX, b.x1), max(maxY, b.y1)
				if name == lakeCommunity {
					lakeAt = [3]int{di, si, ci}
				}
			}
		}
	}
	// Shift to lattice coordinates (0, 0 at the south-west corner).
	for di := range l.blocks {
		for si := range l.blocks[di] {
			for ci := range l.blocks[di][si] {
				b := &l.blocks[di][si][ci]
				b.x0, b.x1, b.y0, b.y1 = b.x0-minX, b.x1-minX, b.y0-minY, b.y1-minY
			}
		}
	}
	l.cols, l.rows = maxX-minX, maxY-minY
	if lakeAt[0] >= 0 {
		b := l.blocks[lakeAt[0]][lakeAt[1]][lakeAt[2]]
		l.lake = block{b.x0 + lakeShore, b.y0 + lakeShore, b.x0 + lakeShore + lakeW, b.y0 + lakeShore + lakeH}
		l.island = [2]int{l.lake.x0 + 1, l.lake.y0 + 1}
	}
	// The same degrees per cell as GenerateLattice, so that lattice
	// coordinates convert to the cells' positions.
	l.kLat = cellM / (geo.EarthRadius * math.Pi / 180)
	l.origin.Lat = centreLat + float64(minY)*l.kLat
	l.kLon = l.kLat / math.Cos(l.origin.Lat*math.Pi/180)
	l.origin.Lon = centreLon + float64(minX)*l.kLon
	return l
}

// at converts lattice coordinates (in cells, fractions allowed) to a
// position.
func (l *cityLayout) at(x, y float64) geo.Point {
	return geo.Point{Lon: l.origin.Lon + x*l.kLon, Lat: l.origin.Lat + y*l.kLat}
}

// buildCells makes every community's cells: codes (the community's 12
// digits and a sequence, numbered in reading order from the north-west),
// names, localities and owner units.
func (s *sim) buildCells() {
	l := &s.layout
	lattice := geo.GenerateLattice(l.origin, l.cols, l.rows, cellM, latticeSeed)
	shape := func(x, y int) geo.MultiPolygon { return roundShape(lattice[y*l.cols+x].Geometry) }
	for _, c := range s.communities {
		d, st := districts[c.district], districts[c.district].streets[c.streetNo]
		owner := "QZF-" + s.districtRegions[c.district].Code
		if st.office {
			owner = "JDB-" + c.street.Code
		}
		b := c.block
		for y := b.y1 - 1; y >= b.y0; y-- {
			for x := b.x0; x < b.x1; x++ {
				if l.lake.has(x, y) {
					continue
				}
				g := shape(x, y)
				if x == l.lake.x0-1 && y == l.island[1] && l.lake.has(x+1, y) {
					// The lakeside cell opposite the island answers for it.
					g = append(g, shape(l.island[0], l.island[1])...)
				}
				n := len(c.cells) + 1
				c.cells = append(c.cells, geo.Cell{
					Code: fmt.Sprintf("%s%03d", c.region.Code, n), Name: fmt.Sprintf("%s第%03d网格", c.name, n),
					Community: c.name, Street: st.name, District: d.name, Owner: owner, Geometry: g,
				})
			}
		}
	}
}

// roundShape rounds positions to 1e-7 degrees (about a centimetre), as a
// surveyed grid file would give them. Shared corners round alike, so the
// cells still tile.
func roundShape(m geo.MultiPolygon) geo.MultiPolygon {
	out := make(geo.MultiPolygon, len(m))
	for i, pg := range m {
		out[i] = make(geo.Polygon, len(pg))
		for j, r := range pg {
			out[i][j] = make(geo.Ring, len(r))
			for k, p := range r {
				out[i][j][k] = geo.Point{Lon: math.Round(p.Lon*1e7) / 1e7, Lat: math.Round(p.Lat*1e7) / 1e7}
			}
		}
	}
	return out
}

// loadGrid imports the cells through the grid store's import, as an
// administrator would upload a grid file, and gives the grid workers the
// cells of their streets.
func (s *sim) loadGrid() error {
	ctx := s.ctx
	start := time.Now()
	var cells []geo.Cell
	for _, c := range s.communities {
		cells = append(cells, c.cells...)
	}
	var buf bytes.Buffer
	if err := geo.WriteCells(&buf, cells); err != nil {
		return fmt.Errorf("demo: grid file: %w", err)
	}
	size := buf.Len()
	rep, err := s.grid.Import(ctx, s.admin, &buf, false)
	if err != nil {
		return fmt.Errorf("demo: grid import: %w", err)
	}
	if rep.Errors > 0 || rep.Created != len(cells) {
		first := ""
		if len(rep.Problems) > 0 {
			p := rep.Problems[0]
			first = fmt.Sprintf(" (first: %s %v)", p.Key, p.Args)
		}
		return fmt.Errorf("demo: grid import created %d of %d cells, %d errors%s", rep.Created, len(cells), rep.Errors, first)
	}
	s.clock = s.clock.Add(time.Minute)
	s.opts.Log("demo: grid of %d cells imported (%d KB of GeoJSON, %d warnings) in %s", rep.Created, size>>10, rep.Warnings, time.Since(start).Round(time.Millisecond))
	start = time.Now()

	// Grid workers patrol every cell of their street.
	stored, more, err := s.grid.Cells(ctx, geo.Rect{Min: geo.Point{Lon: -180, Lat: -90}, Max: geo.Point{Lon: 180, Lat: 90}}, len(cells))
	if err != nil {
		return err
	}
	if more {
		return errors.New("demo: more grid cells stored than imported")
	}
	cellsOf := map[int64][]int64{} // community region → its cell ids
	for _, c := range stored {
		cellsOf[c.RegionID] = append(cellsOf[c.RegionID], c.ID)
	}
	assigned := map[int64][]int64{} // grid worker → cells
	var workers []int64
	for _, c := range s.communities {
		if c.grid == nil {
			continue
		}
		if _, ok := assigned[c.grid.UserID]; !ok {
			workers = append(workers, c.grid.UserID)
		}
		assigned[c.grid.UserID] = append(assigned[c.grid.UserID], cellsOf[c.region.ID]...)
	}
	n := 0
	for _, u := range workers {
		if err := s.grid.Assign(ctx, s.admin, u, assigned[u]); err != nil {
			return fmt.Errorf("demo: grid assignment: %w", err)
		}
		n += len(assigned[u])
		s.clock = s.clock.Add(7 * time.Second)
	}
	s.opts.Log("demo: %d grid workers assigned to %d cells in %s", len(workers), n, time.Since(start).Round(time.Millisecond))
	return nil
}

// ---- placing reports ----

// placement is where a case's point lies with respect to the grid.
type placement int

const (
	inCell  placement = iota
	inGap             // near a cell of its community, in none: 属地兜底
	offGrid           // far from every cell: unlocated, for the acceptor
)

// tries bounds the attempts at drawing a point that the grid places as
// wanted.
const tries = 40

// located reports whether the grid places (lat, lon) with flag in c (any
// community when c is nil).
func (s *sim) located(lat, lon float64, flag string, c *community) (bool, error) {
	loc, err := s.grid.Locate(s.ctx, lat, lon)
	if err != nil {
		return false, err
	}
	return loc.Flag == flag && (c == nil || loc.RegionID == c.region.ID), nil
}

func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }

// placePoint draws r's coordinates for its placement. Without a grid the
// point is anywhere in the community's block. A placement the grid
// cannot give (the fallback distance is configurable) becomes a point in
// a cell; an off-grid point may move the case to a community at the edge
// of town or by the lake.
func (s *sim) placePoint(r *run) error {
	c := r.comm
	if s.grid == nil {
		b := c.block
		p := s.layout.at(float64(b.x0)+s.rng.Float64()*float64(b.x1-b.x0), float64(b.y0)+s.rng.Float64()*float64(b.y1-b.y0))
		r.lat, r.lon = round6(p.Lat), round6(p.Lon)
		return nil
	}
	switch r.placement {
	case offGrid:
		ok, err := s.offGridPoint(r)
		if ok || err != nil {
			return err
		}
	case inGap:
		ok, err := s.gapPoint(r)
		if ok || err != nil {
			return err
		}
	}
	r.placement = inCell
	return s.cellPoint(r)
}

// cellPoint puts r in one of its community's cells.
func (s *sim) cellPoint(r *run) error {
	c := r.comm
	var cell geo.Cell
	for range tries {
		cell = pick(s, c.cells)
		b := cell.Geometry.Bounds()
		fx, fy := 0.15+0.7*s.rng.Float64(), 0.15+0.7*s.rng.Float64()
		lat, lon := round6(b.Min.Lat+fy*(b.Max.Lat-b.Min.Lat)), round6(b.Min.Lon+fx*(b.Max.Lon-b.Min.Lon))
		ok, err := s.located(lat, lon, geo.LocCell, c)
		if err != nil {
			return err
		}
		if ok {
			r.lat, r.lon = lat, lon
			return nil
		}
	}
	p, _ := cell.Geometry.InteriorPoint()
	r.lat, r.lon = round6(p.Lat), round6(p.Lon)
	return nil
}

// gapPoint puts r just off its community's block, on a road or the lake
// shore, where the nearest cell is one of the community's.
func (s *sim) gapPoint(r *run) (bool, error) {
	c := r.comm
	b := c.block
	for range tries {
		off := (15 + 30*s.rng.Float64()) / cellM // metres off the block's edge, in cells
		var x, y float64
		switch s.rng.IntN(4) {
		case 0:
			x, y = float64(b.x0)+s.rng.Float64()*float64(b.x1-b.x0), float64(b.y1)+off
		case 1:
			x, y = float64(b.x0)+s.rng.Float64()*float64(b.x1-b.x0), float64(b.y0)-off
		case 2:
			x, y = float64(b.x1)+off, float64(b.y0)+s.rng.Float64()*float64(b.y1-b.y0)
		default:
			x, y = float64(b.x0)-off, float64(b.y0)+s.rng.Float64()*float64(b.y1-b.y0)
		}
		if c.name == lakeCommunity && s.p(0.3) {
			// On the lake shore path.
			l := s.layout.lake
			x, y = float64(l.x0)+s.rng.Float64()*float64(l.x1-l.x0), float64(l.y1)-off
		}
		p := s.layout.at(x, y)
		lat, lon := round6(p.Lat), round6(p.Lon)
		ok, err := s.located(lat, lon, geo.LocNearest, c)
		if err != nil {
			return false, err
		}
		if ok {
			r.lat, r.lon = lat, lon
			return true, nil
		}
	}
	return false, nil
}

// offGridPoint puts r where no cell is near: out of town beyond its
// community's block, or (when its community is not at the edge of town)
// in the middle of the lake, moving the case to the lake's community.
func (s *sim) offGridPoint(r *run) (bool, error) {
	try := func(c *community, draw func() geo.Point) (bool, error) {
		for range tries {
			p := draw()
			lat, lon := round6(p.Lat), round6(p.Lon)
			if lat < latMin || lat > latMax || lon < lonMin || lon > lonMax {
				continue
			}
			ok, err := s.located(lat, lon, geo.LocNone, nil)
			if err != nil {
				return false, err
			}
			if ok {
				r.comm, r.lat, r.lon = c, lat, lon
				return true, nil
			}
		}
		return false, nil
	}
	b := r.comm.block
	if r.comm.name != lakeCommunity {
		ok, err := try(r.comm, func() geo.Point {
			off := (300 + 600*s.rng.Float64()) / cellM
			switch s.rng.IntN(4) {
			case 0:
				return s.layout.at(float64(b.x0)+s.rng.Float64()*float64(b.x1-b.x0), float64(b.y1)+off)
			case 1:
				return s.layout.at(float64(b.x0)+s.rng.Float64()*float64(b.x1-b.x0), float64(b.y0)-off)
			case 2:
				return s.layout.at(float64(b.x1)+off, float64(b.y0)+s.rng.Float64()*float64(b.y1-b.y0))
			}
			return s.layout.at(float64(b.x0)-off, float64(b.y0)+s.rng.Float64()*float64(b.y1-b.y0))
		})
		if ok || err != nil {
			return ok, err
		}
	}
	lake := s.lakeCommunity()
	if lake == nil {
		return false, nil
	}
	l := s.layout.lake
	return try(lake, func() geo.Point {
		cx, cy := float64(l.x0+l.x1)/2, float64(l.y0+l.y1)/2
		return s.layout.at(cx+(s.rng.Float64()*2-1)*1.2, cy+(s.rng.Float64()*2-1)*0.6)
	})
}

func (s *sim) lakeCommunity() *community {
	for _, c := range s.communities {
		if c.name == lakeCommunity {
			return c
		}
	}
	return nil
}
