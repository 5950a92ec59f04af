package imaging

import "testing"

func v2(src plane, h int, wt weights) plane {
	dst := newPlane(src.w, h)
	taps := wt.taps
	acc := make([]int32, src.w)
	for i := range h {
		ws := wt.w[i*taps : i*taps+taps]
		st := wt.start[i]
		t := 0
		first := true
		for ; t+1 < taps; t += 2 {
			c0, c1 := ws[t], ws[t+1]
			r0 := src.row(st + t)[:len(acc)]
			r1 := src.row(st + t + 1)[:len(acc)]
			if first {
				for x := range acc {
					acc[x] = 1<<(weightBits-1) + c0*int32(r0[x]) + c1*int32(r1[x])
				}
				first = false
				continue
			}
			for x := range acc {
				acc[x] += c0*int32(r0[x]) + c1*int32(r1[x])
			}
		}
		if t < taps {
			c0 := ws[t]
			r0 := src.row(st + t)[:len(acc)]
			if first {
				for x := range acc {
					acc[x] = 1<<(weightBits-1) + c0*int32(r0[x])
				}
			} else {
				for x := range acc {
					acc[x] += c0 * int32(r0[x])
				}
			}
		}
		drow := dst.row(i)[:len(acc)]
		for x, s := range acc {
			drow[x] = clamp8(int(s >> weightBits))
		}
	}
	return dst
}

func v4(src plane, h int, wt weights) plane {
	dst := newPlane(src.w, h)
	taps := wt.taps
	acc := make([]int32, src.w)
	for i := range h {
		ws := wt.w[i*taps : i*taps+taps]
		st := wt.start[i]
		for x := range acc {
			acc[x] = 1 << (weightBits - 1)
		}
		t := 0
		for ; t+3 < taps; t += 4 {
			c0, c1, c2, c3 := ws[t], ws[t+1], ws[t+2], ws[t+3]
			r0 := src.row(st + t)[:len(acc)]
			r1 := src.row(st + t + 1)[:len(acc)]
			r2 := src.row(st + t + 2)[:len(acc)]
			r3 := src.row(st + t + 3)[:len(acc)]
			for x := range acc {
				acc[x] += c0*int32(r0[x]) + c1*int32(r1[x]) + c2*int32(r2[x]) + c3*int32(r3[x])
			}
		}
		for ; t < taps; t++ {
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

func BenchmarkVvariants(b *testing.B) {
	src := newPlane(2000, 1500)
	for i := range src.pix {
		src.pix[i] = byte(i * 7)
	}
	wt := makeWeights(1500, 960)
	b.Logf("taps %d", wt.taps)
	for range 3 {
		b.Run("cur", func(b *testing.B) { loopCPU(b, func() { resampleV(src, 960, wt) }) })
		b.Run("v2", func(b *testing.B) { loopCPU(b, func() { v2(src, 960, wt) }) })
		b.Run("v4", func(b *testing.B) { loopCPU(b, func() { v4(src, 960, wt) }) })
	}
	a, c, d := resampleV(src, 960, wt), v2(src, 960, wt), v4(src, 960, wt)
	for i := range a.pix {
		if a.pix[i] != c.pix[i] || a.pix[i] != d.pix[i] {
			b.Fatal("mismatch")
		}
	}
}
