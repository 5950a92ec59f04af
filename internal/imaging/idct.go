package imaging

import "math"

// Inverse DCTs producing n×n pixels (n = 8, 4, 3, 2, 1) from a block of
// dequantized coefficients. The reduced sizes evaluate the block's continuous cosine
// series at n evenly spaced points per side using only the n×n lowest
// frequencies, which is how a JPEG is decoded directly at n/8 of its size
// for a fraction of the cost (libjpeg's "scaled IDCT" idea; this
// implementation is our own).
//
// Arithmetic is fixed point with 13 fractional bits in int (64-bit), so no
// hostile coefficient can overflow; out-of-range results are clamped.

const (
	idctBits  = 13
	idctPass1 = 2 // extra precision bits kept between the two passes
)

func fix(x float64) int { return int(math.Round(x * (1 << idctBits))) }

var (
	fixR2 = fix(1 / math.Sqrt2)
	fixC1 = fix(math.Cos(1 * math.Pi / 16))
	fixC2 = fix(math.Cos(2 * math.Pi / 16))
	fixC3 = fix(math.Cos(3 * math.Pi / 16))
	fixC5 = fix(math.Cos(5 * math.Pi / 16))
	fixC6 = fix(math.Cos(6 * math.Pi / 16))
	fixC7 = fix(math.Cos(7 * math.Pi / 16))
	// 4-point reduced transform: cos(π/8), cos(3π/8).
	fixQ1 = fix(math.Cos(math.Pi / 8))
	fixQ3 = fix(math.Cos(3 * math.Pi / 8))
	// 3-point reduced transform.
	fixK3   = fix(math.Sqrt(3) / 2)
	fixHalf = fix(0.5)
)

func clamp8(v int) uint8 {
	if uint(v) > 255 {
		if v < 0 {
			return 0
		}
		return 255
	}
	return uint8(v)
}

// idct1d8 is the 8-point inverse transform without its ½ factor:
// out[n] = Σ c(k)·X[k]·cos((2n+1)kπ/16), c(0) = 1/√2, results scaled by
// 2^idctBits. Even and odd halves are shared between out[n] and out[7-n].
func idct1d8(x0, x1, x2, x3, x4, x5, x6, x7 int) (o0, o1, o2, o3, o4, o5, o6, o7 int) {
	ee0 := (x0 + x4) * fixR2
	ee1 := (x0 - x4) * fixR2
	eo0 := x2*fixC2 + x6*fixC6
	eo1 := x2*fixC6 - x6*fixC2
	e0, e3 := ee0+eo0, ee0-eo0
	e1, e2 := ee1+eo1, ee1-eo1
	d0 := x1*fixC1 + x3*fixC3 + x5*fixC5 + x7*fixC7
	d1 := x1*fixC3 - x3*fixC7 - x5*fixC1 - x7*fixC5
	d2 := x1*fixC5 - x3*fixC1 + x5*fixC7 + x7*fixC3
	d3 := x1*fixC7 - x3*fixC5 + x5*fixC3 - x7*fixC1
	return e0 + d0, e1 + d1, e2 + d2, e3 + d3, e3 - d3, e2 - d2, e1 - d1, e0 - d0
}

// idct8 writes the 8×8 pixels of c (natural order) to dst with stride.
func idct8(c *[64]int32, dst []byte, stride int) {
	var t [64]int
	const sh1 = idctBits - idctPass1
	const rnd1 = 1 << (sh1 - 1)
	for col := range 8 {
		x0 := int(c[col])
		if c[8+col] == 0 && c[16+col] == 0 && c[24+col] == 0 && c[32+col] == 0 &&
			c[40+col] == 0 && c[48+col] == 0 && c[56+col] == 0 {
			v := (x0*fixR2 + rnd1) >> sh1
			for r := range 8 {
				t[r*8+col] = v
			}
			continue
		}
		o0, o1, o2, o3, o4, o5, o6, o7 := idct1d8(x0, int(c[8+col]), int(c[16+col]), int(c[24+col]),
			int(c[32+col]), int(c[40+col]), int(c[48+col]), int(c[56+col]))
		t[col] = (o0 + rnd1) >> sh1
		t[8+col] = (o1 + rnd1) >> sh1
		t[16+col] = (o2 + rnd1) >> sh1
		t[24+col] = (o3 + rnd1) >> sh1
		t[32+col] = (o4 + rnd1) >> sh1
		t[40+col] = (o5 + rnd1) >> sh1
		t[48+col] = (o6 + rnd1) >> sh1
		t[56+col] = (o7 + rnd1) >> sh1
	}
	// Second pass: ×2^13 again, then remove 2^(13+pass1) and the 2-D ¼.
	const sh2 = idctBits + idctPass1 + 2
	const bias = 128<<sh2 + 1<<(sh2-1)
	for r := range 8 {
		row := t[r*8 : r*8+8 : r*8+8]
		d := dst[r*stride : r*stride+8 : r*stride+8]
		o0, o1, o2, o3, o4, o5, o6, o7 := idct1d8(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7])
		d[0] = clamp8((o0 + bias) >> sh2)
		d[1] = clamp8((o1 + bias) >> sh2)
		d[2] = clamp8((o2 + bias) >> sh2)
		d[3] = clamp8((o3 + bias) >> sh2)
		d[4] = clamp8((o4 + bias) >> sh2)
		d[5] = clamp8((o5 + bias) >> sh2)
		d[6] = clamp8((o6 + bias) >> sh2)
		d[7] = clamp8((o7 + bias) >> sh2)
	}
}

// idct1d4: out[n] = Σ_{k<4} c(k)·X[k]·cos((2n+1)kπ/8), scaled by 2^idctBits.
func idct1d4(x0, x1, x2, x3 int) (o0, o1, o2, o3 int) {
	e0 := (x0 + x2) * fixR2
	e1 := (x0 - x2) * fixR2
	d0 := x1*fixQ1 + x3*fixQ3
	d1 := x1*fixQ3 - x3*fixQ1
	return e0 + d0, e1 + d1, e1 - d1, e0 - d0
}

// idct4 writes 4×4 pixels from the low 4×4 coefficients c (row-major 4×4).
func idct4(c *[16]int32, dst []byte, stride int) {
	var t [16]int
	const sh1 = idctBits - idctPass1
	const rnd1 = 1 << (sh1 - 1)
	for col := range 4 {
		o0, o1, o2, o3 := idct1d4(int(c[col]), int(c[4+col]), int(c[8+col]), int(c[12+col]))
		t[col] = (o0 + rnd1) >> sh1
		t[4+col] = (o1 + rnd1) >> sh1
		t[8+col] = (o2 + rnd1) >> sh1
		t[12+col] = (o3 + rnd1) >> sh1
	}
	const sh2 = idctBits + idctPass1 + 2
	const bias = 128<<sh2 + 1<<(sh2-1)
	for r := range 4 {
		d := dst[r*stride : r*stride+4 : r*stride+4]
		o0, o1, o2, o3 := idct1d4(t[r*4], t[r*4+1], t[r*4+2], t[r*4+3])
		d[0] = clamp8((o0 + bias) >> sh2)
		d[1] = clamp8((o1 + bias) >> sh2)
		d[2] = clamp8((o2 + bias) >> sh2)
		d[3] = clamp8((o3 + bias) >> sh2)
	}
}

// idct2 writes 2×2 pixels from the low 2×2 coefficients c (row-major 2×2):
// cos(π/4) = 1/√2 in both directions, so f = (X00 ± X01 ± X10 ± X11)/8.
func idct2(c *[4]int32, dst []byte, stride int) {
	a, b, e, f := int(c[0]), int(c[1]), int(c[2]), int(c[3])
	const bias = 128<<3 + 4
	dst[0] = clamp8((a + b + e + f + bias) >> 3)
	dst[1] = clamp8((a - b + e - f + bias) >> 3)
	dst[stride] = clamp8((a + b - e - f + bias) >> 3)
	dst[stride+1] = clamp8((a - b - e + f + bias) >> 3)
}

// idct3 writes 3×3 pixels from the low 3×3 coefficients c (row-major 3×3),
// the size a 4000-pixel photo is decoded at for a 1280-pixel variant. The
// 3-point series: cos(π/6) = √3/2, cos(π/2) = 0, cos(π/3) = ½, cos(π) = -1:
//
//	out0 = X0/√2 + X1·√3/2 + X2/2
//	out1 = X0/√2          - X2
//	out2 = X0/√2 - X1·√3/2 + X2/2
func idct3(c *[9]int32, dst []byte, stride int) {
	var t [9]int
	const sh1 = idctBits - idctPass1
	const rnd1 = 1 << (sh1 - 1)
	for col := range 3 {
		x0, x1, x2 := int(c[col]), int(c[3+col]), int(c[6+col])
		e, d := x0*fixR2+x2*fixHalf, x1*fixK3
		t[col] = (e + d + rnd1) >> sh1
		t[3+col] = (x0*fixR2 - x2<<idctBits + rnd1) >> sh1
		t[6+col] = (e - d + rnd1) >> sh1
	}
	const sh2 = idctBits + idctPass1 + 2
	const bias = 128<<sh2 + 1<<(sh2-1)
	for r := range 3 {
		x0, x1, x2 := t[r*3], t[r*3+1], t[r*3+2]
		e, d := x0*fixR2+x2*fixHalf, x1*fixK3
		row := dst[r*stride : r*stride+3 : r*stride+3]
		row[0] = clamp8((e + d + bias) >> sh2)
		row[1] = clamp8((x0*fixR2 - x2<<idctBits + bias) >> sh2)
		row[2] = clamp8((e - d + bias) >> sh2)
	}
}

// idct1 is the DC term alone: the block's mean.
func idct1(dc int32, dst []byte) {
	dst[0] = clamp8((int(dc) + 128<<3 + 4) >> 3)
}
