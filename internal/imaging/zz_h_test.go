package imaging

import "testing"

func h8(src plane, w int, wt weights) plane {
	dst := newPlane(w, src.h)
	for y := range src.h {
		row := src.row(y)
		drow := dst.row(y)
		ws := wt.w[:len(drow)*8]
		st := wt.start[:len(drow)]
		for i := range drow {
			w8 := (*[8]int32)(ws[i*8:])
			p8 := (*[8]byte)(row[st[i]:])
			s := int32(1<<(weightBits-1)) + w8[0]*int32(p8[0]) + w8[1]*int32(p8[1]) + w8[2]*int32(p8[2]) + w8[3]*int32(p8[3]) +
				w8[4]*int32(p8[4]) + w8[5]*int32(p8[5]) + w8[6]*int32(p8[6]) + w8[7]*int32(p8[7])
			drow[i] = clamp8(int(s >> weightBits))
		}
	}
	return dst
}

func h8x2(src plane, w int, wt weights) plane {
	dst := newPlane(w, src.h)
	y := 0
	for ; y+1 < src.h; y += 2 {
		r0, r1 := src.row(y), src.row(y+1)
		d0, d1 := dst.row(y), dst.row(y+1)
		d1 = d1[:len(d0)]
		ws := wt.w[:len(d0)*8]
		st := wt.start[:len(d0)]
		for i := range d0 {
			w8 := (*[8]int32)(ws[i*8:])
			a := (*[8]byte)(r0[st[i]:])
			b := (*[8]byte)(r1[st[i]:])
			s0 := int32(1 << (weightBits - 1))
			s1 := s0
			for t := range 8 {
				s0 += w8[t] * int32(a[t])
				s1 += w8[t] * int32(b[t])
			}
			d0[i] = clamp8(int(s0 >> weightBits))
			d1[i] = clamp8(int(s1 >> weightBits))
		}
	}
	return dst
}

func BenchmarkHvariants(b *testing.B) {
	src := newPlane(2000, 960)
	for i := range src.pix {
		src.pix[i] = byte(i * 7)
	}
	wt := makeWeights(2000, 1280)
	for range 3 {
		b.Run("cur", func(b *testing.B) { loopCPU(b, func() { resampleH(src, 1280, wt) }) })
		b.Run("h8", func(b *testing.B) { loopCPU(b, func() { h8(src, 1280, wt) }) })
		b.Run("h8x2", func(b *testing.B) { loopCPU(b, func() { h8x2(src, 1280, wt) }) })
	}
	a, c := resampleH(src, 1280, wt), h8(src, 1280, wt)
	for i := range a.pix {
		if a.pix[i] != c.pix[i] {
			b.Fatal("mismatch")
		}
	}
}
