package imaging

import "math"

// plane is one 8-bit channel: w×h samples, rows stride bytes apart.
type plane struct {
	pix    []byte
	w, h   int
	stride int
}

func newPlane(w, h int) plane {
	return plane{pix: make([]byte, w*h), w: w, h: h, stride: w}
}

func (p plane) row(y int) []byte { return p.pix[y*p.stride : y*p.stride+p.w] }

// planar is a decoded or resized picture: luma and, unless gray, two chroma
// planes at whatever resolution they have (4:2:0 chroma is half size).
type planar struct {
	y, cb, cr plane
	gray      bool
}

// chromaSize is the 4:2:0 chroma size for a w×h picture, what the encoder
// writes.
func chromaSize(w, h int) (int, int) { return (w + 1) / 2, (h + 1) / 2 }

// resize scales every plane of p so that luma is w×h and chroma is 4:2:0.
func (p *planar) resize(w, h int) *planar {
	out := &planar{gray: p.gray, y: resizePlane(p.y, w, h)}
	if !p.gray {
		cw, ch := chromaSize(w, h)
		out.cb = resizePlane(p.cb, cw, ch)
		out.cr = resizePlane(p.cr, cw, ch)
	}
	return out
}

// resizePlane scales src to w×h: first a box average by the integer factor
// that leaves at least a 2× reduction (cheap, and an adequate pre-filter at
// those ratios), then Catmull-Rom for the rest, each axis separately.
// A plane already at the size is returned as is (shared, never modified).
func resizePlane(src plane, w, h int) plane {
	if src.w == w && src.h == h {
		return src
	}
	kx, ky := max(1, src.w/(2*w)), max(1, src.h/(2*h))
	if kx > 1 || ky > 1 {
		src = boxShrink(src, kx, ky)
	}
	// Vertical first: it runs along whole rows (cache-friendly) and leaves
	// the costlier horizontal pass fewer rows to do.
	if src.h != h {
		src = resampleV(src, h, makeWeights(src.h, h, false))
	}
	if src.w != w {
		src = resampleH(src, w, makeWeights(src.w, w, true))
	}
	return src
}

// boxShrink averages kx×ky blocks; the last row and column of blocks may be
// partial and average what they cover. Divisions are multiplications by a
// 32-bit reciprocal, exact while a block has fewer than 4096 samples.
func boxShrink(src plane, kx, ky int) plane {
	ow, oh := (src.w+kx-1)/kx, (src.h+ky-1)/ky
	dst := newPlane(ow, oh)
	sums := make([]uint32, src.w)
	exact := kx*ky < 4096
	for oy := range oh {
		y0, y1 := oy*ky, min(oy*ky+ky, src.h)
		clear(sums)
		for y := y0; y < y1; y++ {
			row := src.row(y)
			row = row[:len(sums)]
			for x, v := range row {
				sums[x] += uint32(v)
			}
		}
		drow := dst.row(oy)
		rows := uint32(y1 - y0)
		full := uint32(kx) * rows
		recip := (1<<32 + uint64(full) - 1) / uint64(full)
		for ox := range drow {
			x0, x1 := ox*kx, min(ox*kx+kx, src.w)
			var s uint32
			for _, v := range sums[x0:x1] {
				s += v
			}
			cnt := uint32(x1-x0) * rows
			switch {
			case cnt == full && exact:
				drow[ox] = uint8((uint64(s+cnt/2) * recip) >> 32)
			default:
				drow[ox] = uint8((s + cnt/2) / cnt)
			}
		}
	}
	return dst
}

// catmullRom is the cubic convolution kernel with a = -0.5: sharp without
// the ringing of Lanczos-3, and only 4 taps per unit of scale.
func catmullRom(x float64) float64 {
	x = math.Abs(x)
	switch {
	case x < 1:
		return (1.5*x-2.5)*x*x + 1
	case x < 2:
		return ((-0.5*x+2.5)*x-4)*x + 2
	}
	return 0
}

const (
	weightBits = 14
	kernelSize = 2 // catmullRom's support radius
)

// weights holds, for each output sample, taps fixed-point weights over the
// input samples start..start+taps-1 (edges clamped, window kept in range).
type weights struct {
	taps  int
	start []int
	w     []int32
}

// makeWeights computes the filter for n input samples to m outputs. With
// pad the tap count is rounded up to 8, 16 or a multiple of 4 (with
// zero weights) when the input is long enough, for the horizontal pass's
// unrolled loops.
func makeWeights(n, m int, pad bool) weights {
	scale := float64(n) / float64(m)
	fs := max(scale, 1) // widen the kernel when reducing (anti-aliasing)
	support := kernelSize * fs
	taps := int(math.Ceil(2*support)) + 1
	if pad {
		padded := (taps + 3) &^ 3
		switch {
		case taps <= 8:
			padded = 8
		case taps <= 16:
			padded = 16
		}
		if padded <= n {
			taps = padded
		}
	}
	taps = min(taps, n)
	wt := weights{taps: taps, start: make([]int, m), w: make([]int32, m*taps)}
	acc := make([]float64, n)
	for i := range m {
		center := (float64(i) + 0.5) * scale
		lo := max(int(math.Floor(center-support)), 0)
		hi := min(int(math.Ceil(center+support)), n-1)
		first, last := n, -1
		for j := int(math.Floor(center - support)); j <= int(math.Ceil(center+support)); j++ {
			k := catmullRom((float64(j) + 0.5 - center) / fs)
			if k == 0 {
				continue
			}
			jj := min(max(j, 0), n-1)
			acc[jj] += k
			first, last = min(first, jj), max(last, jj)
		}
		if last < 0 { // cannot happen for a sane kernel; fall back to nearest
			first = min(int(center), n-1)
			last = first
			acc[first] = 1
		}
		start := min(first, n-taps)
		var sum float64
		for j := first; j <= last; j++ {
			sum += acc[j]
		}
		ws := wt.w[i*taps : i*taps+taps]
		var total int32
		big := first - start
		for j := first; j <= last; j++ {
			v := int32(math.Round(acc[j] / sum * (1 << weightBits)))
			ws[j-start] = v
			total += v
			if v > ws[big] {
				big = j - start
			}
		}
		ws[big] += 1<<weightBits - total // exact unity gain
		wt.start[i] = start
		clear(acc[lo : hi+1])
	}
	return wt
}

const half = 1 << (weightBits - 1) // rounding

// resampleH filters along rows. The 8- and 16-tap cases (every reduction
// up to 2× and up to 3.5×) use fixed-size array views, which lets the
// compiler drop the bounds checks from the inner loop.
func resampleH(src plane, w int, wt weights) plane {
	dst := newPlane(w, src.h)
	taps := wt.taps
	st := wt.start[:w]
	for y := range src.h {
		row := src.row(y)
		drow := dst.row(y)[:w]
		switch taps {
		case 8:
			ws := wt.w[:w*8]
			for i := range drow {
				c := (*[8]int32)(ws[i*8:])
				p := (*[8]byte)(row[st[i]:])
				s := half + c[0]*int32(p[0]) + c[1]*int32(p[1]) + c[2]*int32(p[2]) + c[3]*int32(p[3]) +
					c[4]*int32(p[4]) + c[5]*int32(p[5]) + c[6]*int32(p[6]) + c[7]*int32(p[7])
				drow[i] = clamp8(int(s >> weightBits))
			}
		case 16:
			ws := wt.w[:w*16]
			for i := range drow {
				c := (*[16]int32)(ws[i*16:])
				p := (*[16]byte)(row[st[i]:])
				s := half + c[0]*int32(p[0]) + c[1]*int32(p[1]) + c[2]*int32(p[2]) + c[3]*int32(p[3]) +
					c[4]*int32(p[4]) + c[5]*int32(p[5]) + c[6]*int32(p[6]) + c[7]*int32(p[7]) +
					c[8]*int32(p[8]) + c[9]*int32(p[9]) + c[10]*int32(p[10]) + c[11]*int32(p[11]) +
					c[12]*int32(p[12]) + c[13]*int32(p[13]) + c[14]*int32(p[14]) + c[15]*int32(p[15])
				drow[i] = clamp8(int(s >> weightBits))
			}
		default:
			for i := range drow {
				ws := wt.w[i*taps : i*taps+taps]
				px := row[st[i]:]
				px = px[:len(ws)]
				s := int32(half)
				for t, c := range ws {
					s += c * int32(px[t])
				}
				drow[i] = clamp8(int(s >> weightBits))
			}
		}
	}
	return dst
}

// resampleV filters along columns, a whole row at a time and two input rows
// per sweep of the accumulator.
func resampleV(src plane, h int, wt weights) plane {
	dst := newPlane(src.w, h)
	taps := wt.taps
	acc := make([]int32, src.w)
	for i := range h {
		ws := wt.w[i*taps : i*taps+taps]
		st := wt.start[i]
		for x := range acc {
			acc[x] = half
		}
		t := 0
		for ; t+1 < taps; t += 2 {
			c0, c1 := ws[t], ws[t+1]
			r0 := src.row(st + t)[:len(acc)]
			r1 := src.row(st + t + 1)[:len(acc)]
			for x := range acc {
				acc[x] += c0*int32(r0[x]) + c1*int32(r1[x])
			}
		}
		if t < taps {
			c0 := ws[t]
			r0 := src.row(st + t)[:len(acc)]
			for x := range acc {
				acc[x] += c0 * int32(r0[x])
			}
		}
		drow := dst.row(i)[:len(acc)]
		for x, s := range acc {
			drow[x] = clamp8(int(s >> weightBits))
		}
	}
	return dst
}
