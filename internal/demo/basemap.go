package demo

import (
	"math"

	"chuangwen/internal/basemap"
	"chuangwen/internal/geo"
)

// The demo city's base layer, drawn from its layout (cells.go): the river
// 盘江 runs north–south in the gap between the districts, 滨江大道 crosses
// it east–west in the other gap, a named road runs in every gap between
// the streets of a district and a lane (巷) between the communities that
// leave one, 明湖 fills the lake block, and a few communities have a park
// in their middle. All fictional, all on the lattice, so that the map's
// streets and the grid's gaps agree.

// streetRoads name the roads between the streets of a district.
var streetRoads = []string{"人民中路", "青年路", "东风路", "金碧路", "学府路", "春城路", "白塔路", "建设路", "龙泉路", "北京路", "新闻路", "穿金路"}

func (s *sim) baseLayer() []basemap.Feature {
	l := &s.layout
	pt := l.at
	// the centre lines of the two gaps between the districts, in lattice cells
	cx := (centreLon - l.origin.Lon) / l.kLon
	cy := (centreLat - l.origin.Lat) / l.kLat
	cols, rows := float64(l.cols), float64(l.rows)
	var out []basemap.Feature

	// 盘江: a river a little narrower than its gap, bending gently
	var left, right []geo.Point
	for y := -2.0; y <= rows+2; y += 1 {
		w := 0.15 * math.Sin(y/5)
		left = append(left, pt(cx-0.75+w, y))
		right = append(right, pt(cx+0.75+w, y))
	}
	for i := len(right) - 1; i >= 0; i-- {
		left = append(left, right[i])
	}
	out = append(out, basemap.Feature{Kind: basemap.Water, Name: "盘江", Points: left})

	// 明湖: the lake block, its corners cut
	if lk := l.lake; lk.x1 > lk.x0 {
		x0, y0, x1, y1 := float64(lk.x0)+0.1, float64(lk.y0)+0.1, float64(lk.x1)-0.1, float64(lk.y1)-0.1
		out = append(out, basemap.Feature{Kind: basemap.Water, Name: "明湖", Points: []geo.Point{
			pt(x0+1, y0), pt(x1-1, y0), pt(x1, y0+1), pt(x1, y1-1), pt(x1-1, y1), pt(x0+1, y1), pt(x0, y1-1), pt(x0, y0+1)}})
	}

	// parks in the middle of every fifth community
	for i, c := range s.communities {
		if i%5 != 2 || c.name == lakeCommunity {
			continue
		}
		b := c.block
		mx, my := float64(b.x0+b.x1)/2, float64(b.y0+b.y1)/2
		name := []rune(c.name)
		out = append(out, basemap.Feature{Kind: basemap.Park, Name: string(name[:len(name)-2]) + "公园", Points: []geo.Point{
			pt(mx-1.2, my-1), pt(mx+1.2, my-1), pt(mx+1.2, my+1), pt(mx-1.2, my+1)}})
	}

	// 滨江大道 across the city in the east–west gap
	out = append(out, basemap.Feature{Kind: basemap.Road, Name: "滨江大道", Points: []geo.Point{pt(-1, cy), pt(cols+1, cy)}})
	// a road between the streets of each district, a lane between the
	// communities that leave a gap
	n := 0
	for di, d := range districts {
		bands := l.blocks[di]
		ylo, yhi := rows, 0.0
		for _, band := range bands {
			for _, b := range band {
				ylo, yhi = math.Min(ylo, float64(b.y0)), math.Max(yhi, float64(b.y1))
			}
		}
		for si := 0; si+1 < len(bands); si++ {
			a := bands[si][0]
			x := float64(a.x1) + 0.5 // east of a band going east, west of it going west
			if !d.east {
				x = float64(a.x0) - 0.5
			}
			out = append(out, basemap.Feature{Kind: basemap.Road, Name: streetRoads[n%len(streetRoads)], Points: []geo.Point{pt(x, ylo), pt(x, yhi)}})
			n++
		}
		for si, band := range bands {
			for ci := 0; ci+1 < len(band); ci++ {
				if (di+si+ci)%3 != 0 {
					continue
				}
				b := band[ci]
				y := float64(b.y1) + 0.5
				if !d.north {
					y = float64(b.y0) - 0.5
				}
				name := []rune(d.streets[si].communities[ci])
				out = append(out, basemap.Feature{Kind: basemap.Road, Name: string(name[:len(name)-2]) + "巷", Points: []geo.Point{pt(float64(b.x0), y), pt(float64(b.x1), y)}})
			}
		}
	}
	return out
}
