package imaging

import (
	"encoding/binary"
	"math"
)

// A baseline JPEG encoder for planar data that is already 4:2:0 (or grey),
// as resize produces: chroma blocks are coded straight from the half-size
// planes, the forward DCT is the AAN factorisation in float32 with its
// scale factors folded into the quantization divisors, and Huffman coding
// uses the example tables of the standard (Annex K). It writes SOI, DQT,
// SOF0, DHT, SOS, the scan and EOI: no APPn or COM segment, ever.

// Annex K example quantization tables, in zigzag order.
var stdQuant = [2][64]uint8{
	{ // luminance
		16, 11, 12, 14, 12, 10, 16, 14, 13, 14, 18, 17, 16, 19, 24, 40,
		26, 24, 22, 22, 24, 49, 35, 37, 29, 40, 58, 51, 61, 60, 57, 51,
		56, 55, 64, 72, 92, 78, 64, 68, 87, 69, 55, 56, 80, 109, 81, 87,
		95, 98, 103, 104, 103, 62, 77, 113, 121, 112, 100, 120, 92, 101, 103, 99,
	},
	{ // chrominance
		17, 18, 18, 24, 21, 24, 47, 26, 26, 47, 99, 66, 56, 66, 99, 99,
		99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
		99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
		99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
	},
}

// huffSpec is a Huffman table as a JPEG DHT segment carries it.
type huffSpec struct {
	counts [16]uint8
	vals   []uint8
}

// Annex K example Huffman tables: DC luma, AC luma, DC chroma, AC chroma.
var stdHuff = [4]huffSpec{
	{
		[16]uint8{0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0},
		[]uint8{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11},
	},
	{
		[16]uint8{0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d},
		[]uint8{
			0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07,
			0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0,
			0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25, 0x26, 0x27, 0x28,
			0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49,
			0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
			0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
			0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
			0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5,
			0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2,
			0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
			0xf9, 0xfa,
		},
	},
	{
		[16]uint8{0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0},
		[]uint8{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11},
	},
	{
		[16]uint8{0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77},
		[]uint8{
			0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71,
			0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33, 0x52, 0xf0,
			0x15, 0x62, 0x72, 0xd1, 0x0a, 0x16, 0x24, 0x34, 0xe1, 0x25, 0xf1, 0x17, 0x18, 0x19, 0x1a, 0x26,
			0x27, 0x28, 0x29, 0x2a, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48,
			0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68,
			0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87,
			0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5,
			0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3,
			0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda,
			0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
			0xf9, 0xfa,
		},
	},
}

// huffCode is a symbol's code: bits in the low len bits.
type huffCode struct {
	bits uint32
	len  uint8
}

// stdCodes are the canonical codes of stdHuff, indexed by symbol.
var stdCodes = func() (c [4][256]huffCode) {
	for t, spec := range stdHuff {
		code, k := uint32(0), 0
		for l := 1; l <= 16; l++ {
			for range spec.counts[l-1] {
				c[t][spec.vals[k]] = huffCode{bits: code, len: uint8(l)}
				code++
				k++
			}
			code <<= 1
		}
	}
	return c
}()

// aanScale[k] is the AAN output scale of frequency k: 1 for DC,
// cos(kπ/16)·√2 otherwise.
var aanScale = func() (s [8]float64) {
	s[0] = 1
	for k := 1; k < 8; k++ {
		s[k] = math.Cos(float64(k)*math.Pi/16) * math.Sqrt2
	}
	return s
}()

// quantTables returns the quantization tables for quality (IJG scaling, as
// image/jpeg and libjpeg use, so "quality 82" means the same thing) and the
// reciprocal divisors in natural order with the AAN scale folded in.
func quantTables(quality int) (q [2][64]uint8, recip [2][64]float32) {
	quality = min(max(quality, 1), 100)
	scale := 200 - 2*quality
	if quality < 50 {
		scale = 5000 / quality
	}
	for t := range 2 {
		for k := range 64 {
			v := (int(stdQuant[t][k])*scale + 50) / 100
			q[t][k] = uint8(min(max(v, 1), 255))
			n := zigzag[k]
			u, w := n%8, n/8
			recip[t][n] = float32(1 / (float64(q[t][k]) * aanScale[u] * aanScale[w] * 8))
		}
	}
	return q, recip
}

// fdct1d is the AAN forward transform of 8 samples (Arai, Agui, Nakajima
// 1988): output k is the DCT coefficient scaled by aanScale[k]·√8·… which
// the caller folds into the quantizer.
func fdct1d(d0, d1, d2, d3, d4, d5, d6, d7 float32) (o0, o1, o2, o3, o4, o5, o6, o7 float32) {
	const (
		r2  = 0.70710678118654752 // cos(π/4)
		c6  = 0.38268343236508977 // cos(6π/16)
		c26 = 0.54119610014619698 // cos(2π/16) - cos(6π/16)
		c62 = 1.30656296487637652 // cos(2π/16) + cos(6π/16)
	)
	t0, t7 := d0+d7, d0-d7
	t1, t6 := d1+d6, d1-d6
	t2, t5 := d2+d5, d2-d5
	t3, t4 := d3+d4, d3-d4

	e10, e13 := t0+t3, t0-t3
	e11, e12 := t1+t2, t1-t2
	o0, o4 = e10+e11, e10-e11
	z1 := (e12 + e13) * r2
	o2, o6 = e13+z1, e13-z1

	p10, p11, p12 := t4+t5, t5+t6, t6+t7
	z5 := (p10 - p12) * c6
	z2 := c26*p10 + z5
	z4 := c62*p12 + z5
	z3 := p11 * r2
	z11, z13 := t7+z3, t7-z3
	o5, o3 = z13+z2, z13-z2
	o1, o7 = z11+z4, z11-z4
	return
}

// fdct transforms the level-shifted block b (natural order) in place.
func fdct(b *[64]float32) {
	for r := 0; r < 64; r += 8 {
		row := (*[8]float32)(b[r:])
		row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7] =
			fdct1d(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7])
	}
	for c := range 8 {
		b[c], b[8+c], b[16+c], b[24+c], b[32+c], b[40+c], b[48+c], b[56+c] =
			fdct1d(b[c], b[8+c], b[16+c], b[24+c], b[32+c], b[40+c], b[48+c], b[56+c])
	}
}

// bitWriter appends Huffman-coded bits with 0xFF byte stuffing.
type bitWriter struct {
	out  []byte
	acc  uint64 // pending bits in the low n bits
	n    uint
	dcTb [2]*[256]huffCode
	acTb [2]*[256]huffCode
}

func (w *bitWriter) put(bits uint32, n uint) {
	w.acc = w.acc<<n | uint64(bits)&(1<<n-1)
	w.n += n
	for w.n >= 8 {
		w.n -= 8
		b := byte(w.acc >> w.n)
		w.out = append(w.out, b)
		if b == 0xFF {
			w.out = append(w.out, 0)
		}
	}
}

// flush pads the last byte with 1 bits, as the standard asks.
func (w *bitWriter) flush() {
	if w.n > 0 {
		w.put(0x7F, 8-w.n)
	}
}

// bitSize is the JPEG magnitude category of v and the bits coding it.
func bitSize(v int32) (uint, uint32) {
	a := v
	if a < 0 {
		a = -a
		v--
	}
	n := uint(0)
	for a != 0 {
		n++
		a >>= 1
	}
	return n, uint32(v)
}

// encodeBlock codes one block of samples (8×8, rows stride apart, already
// padded) and returns its quantized DC for the next prediction.
func (w *bitWriter) encodeBlock(src []byte, stride int, t int, recip *[64]float32, prevDC int32) int32 {
	var b [64]float32
	for y := range 8 {
		row := src[y*stride : y*stride+8 : y*stride+8]
		br := (*[8]float32)(b[y*8:])
		for x := range 8 {
			br[x] = float32(row[x]) - 128
		}
	}
	fdct(&b)
	var q [64]int32
	for i := range 64 {
		// Round half away from zero, as the inverse would expect.
		v := b[i] * recip[i]
		q[i] = min(max(int32(v+16384.5)-16384, -1023), 1023) // AC category ≤ 10
	}
	dc := q[0]
	n, bits := bitSize(dc - prevDC)
	c := w.dcTb[t][n]
	w.put(c.bits, uint(c.len))
	if n > 0 {
		w.put(bits, n)
	}
	ac := w.acTb[t]
	run := 0
	for k := 1; k < 64; k++ {
		v := q[zigzag[k]]
		if v == 0 {
			run++
			continue
		}
		for run > 15 {
			c := ac[0xF0]
			w.put(c.bits, uint(c.len))
			run -= 16
		}
		n, bits := bitSize(v)
		c := ac[run<<4|int(n)]
		w.put(c.bits, uint(c.len))
		w.put(bits, n)
		run = 0
	}
	if run > 0 {
		c := ac[0x00]
		w.put(c.bits, uint(c.len))
	}
	return dc
}

// padPlane returns p with width and height rounded up to multiples of m,
// edge samples repeated, so every block can be read without checks.
func padPlane(p plane, m int) plane {
	pw, ph := (p.w+m-1)/m*m, (p.h+m-1)/m*m
	if pw == p.w && ph == p.h {
		return p
	}
	q := newPlane(pw, ph)
	for y := range ph {
		src := p.row(min(y, p.h-1))
		dst := q.row(y)
		copy(dst, src)
		last := src[p.w-1]
		for x := p.w; x < pw; x++ {
			dst[x] = last
		}
	}
	return q
}

// encodePlanar writes p (grey, or Y with 4:2:0 chroma) as a baseline JPEG.
func encodePlanar(p *planar, quality int) []byte {
	w, h := p.y.w, p.y.h
	q, recip := quantTables(quality)
	ncomp := 3
	if p.gray {
		ncomp = 1
	}
	out := make([]byte, 0, w*h/3+1024)
	out = append(out, 0xFF, 0xD8)
	// DQT
	nq := min(ncomp, 2)
	out = append(out, 0xFF, 0xDB)
	out = binary.BigEndian.AppendUint16(out, uint16(2+65*nq))
	for t := range nq {
		out = append(out, byte(t))
		out = append(out, q[t][:]...)
	}
	// SOF0
	out = append(out, 0xFF, 0xC0)
	out = binary.BigEndian.AppendUint16(out, uint16(8+3*ncomp))
	out = append(out, 8)
	out = binary.BigEndian.AppendUint16(out, uint16(h))
	out = binary.BigEndian.AppendUint16(out, uint16(w))
	out = append(out, byte(ncomp))
	if p.gray {
		out = append(out, 1, 0x11, 0)
	} else {
		out = append(out, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1)
	}
	// DHT
	nh := 2 * nq
	size := 2
	for i := range nh {
		size += 17 + len(stdHuff[i].vals)
	}
	out = append(out, 0xFF, 0xC4)
	out = binary.BigEndian.AppendUint16(out, uint16(size))
	for i := range nh {
		class, id := byte(i%2), byte(i/2) // DC0, AC0, DC1, AC1
		out = append(out, class<<4|id)
		out = append(out, stdHuff[i].counts[:]...)
		out = append(out, stdHuff[i].vals...)
	}
	// SOS
	out = append(out, 0xFF, 0xDA)
	out = binary.BigEndian.AppendUint16(out, uint16(6+2*ncomp))
	out = append(out, byte(ncomp))
	if p.gray {
		out = append(out, 1, 0x00)
	} else {
		out = append(out, 1, 0x00, 2, 0x11, 3, 0x11)
	}
	out = append(out, 0, 63, 0)

	bw := &bitWriter{out: out}
	bw.dcTb = [2]*[256]huffCode{&stdCodes[0], &stdCodes[2]}
	bw.acTb = [2]*[256]huffCode{&stdCodes[1], &stdCodes[3]}
	if p.gray {
		y := padPlane(p.y, 8)
		var dc int32
		for by := 0; by < h; by += 8 {
			for bx := 0; bx < w; bx += 8 {
				dc = bw.encodeBlock(y.pix[by*y.stride+bx:], y.stride, 0, &recip[0], dc)
			}
		}
	} else {
		y := padPlane(p.y, 16)
		cb, cr := padPlane(p.cb, 8), padPlane(p.cr, 8)
		var dcY, dcB, dcR int32
		for my := 0; my < h; my += 16 {
			for mx := 0; mx < w; mx += 16 {
				for i := range 4 {
					off := (my+8*(i/2))*y.stride + mx + 8*(i%2)
					dcY = bw.encodeBlock(y.pix[off:], y.stride, 0, &recip[0], dcY)
				}
				coff := (my/2)*cb.stride + mx/2
				dcB = bw.encodeBlock(cb.pix[coff:], cb.stride, 1, &recip[1], dcB)
				coff = (my/2)*cr.stride + mx/2
				dcR = bw.encodeBlock(cr.pix[coff:], cr.stride, 1, &recip[1], dcR)
			}
		}
	}
	bw.flush()
	return append(bw.out, 0xFF, 0xD9)
}
