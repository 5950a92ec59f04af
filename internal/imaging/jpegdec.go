package imaging

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// A decoder for the JPEGs phones write: sequential (baseline or extended)
// Huffman-coded 8-bit, greyscale or YCbCr, any sampling factors, restart
// intervals, interleaved or not. It decodes straight into Y/Cb/Cr planes at
// n/8 scale, n = 8, 4, 3, 2 or 1. Progressive, arithmetic-coded, lossless,
// 12-bit, CMYK and RGB JPEGs return errNotFast and go to image/jpeg.
//
// The input is hostile: every length, table and index is checked, and the
// bit reader feeds zeros past the data instead of reading out of bounds;
// consuming any of those zeros means the scan was truncated (ErrCorrupt).

// errNotFast: a valid-looking JPEG that this decoder leaves to image/jpeg.
var errNotFast = errors.New("imaging: jpeg variant left to image/jpeg")

func corruptf(format string, a ...any) error {
	return fmt.Errorf("%w: jpeg: "+format, append([]any{ErrCorrupt}, a...)...)
}

// zigzag maps the k-th coefficient of the stream to its natural (row-major)
// position in the 8×8 block.
var zigzag = [64]uint8{
	0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
	12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
	35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
	58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
}

const (
	lutBits  = 9
	fastBits = 10
)

// huffTable decodes one Huffman table: a lookup on the next lutBits bits
// resolves short codes at once, longer ones walk the canonical code ranges.
type huffTable struct {
	lut     [1 << lutBits]uint16 // len<<8 | value; 0 = code longer than lutBits
	maxCode [17]int32            // largest code of each length, -1 if none
	valPtr  [17]int32            // value index of a code = valPtr[len] + code
	vals    [256]uint8
	// fastAC resolves an AC code and its value bits together when both fit
	// in fastBits: value<<8 | run<<4 | total length; 0 = not there.
	fastAC [1 << fastBits]int32
}

func (h *huffTable) build(counts []byte, vals []byte) error {
	*h = huffTable{}
	copy(h.vals[:], vals)
	code, k := int32(0), int32(0)
	for l := 1; l <= 16; l++ {
		n := int32(counts[l-1])
		h.valPtr[l] = k - code
		h.maxCode[l] = -1
		if n > 0 {
			if code+n > 1<<l {
				return corruptf("bad Huffman table")
			}
			h.maxCode[l] = code + n - 1
			if l <= lutBits {
				for i := range n {
					c := code + i
					e := uint16(l)<<8 | uint16(h.vals[k+i])
					lo := c << (lutBits - l)
					for j := lo; j < lo+1<<(lutBits-l); j++ {
						h.lut[j] = e
					}
				}
			}
		}
		// Codes whose value bits also fit in fastBits (AC tables only use
		// them; harmless for DC tables).
		for i := range n {
			rs := int(h.vals[k+i])
			run, size := rs>>4, rs&15
			if size == 0 || l+size > fastBits {
				continue
			}
			c := code + i
			for v := range int32(1) << size {
				val := v
				if val < 1<<(size-1) {
					val += -1<<size + 1
				}
				e := val<<8 | int32(run)<<4 | int32(l+size)
				lo := (c<<size | v) << (fastBits - l - size)
				for j := lo; j < lo+1<<(fastBits-l-size); j++ {
					h.fastAC[j] = e
				}
			}
		}
		code += n
		k += n
		code <<= 1
	}
	return nil
}

// bitReader reads entropy-coded data MSB first, removing stuffed zero bytes.
// At a marker or the end of data it feeds zero bytes and counts them.
type bitReader struct {
	data   []byte
	pos    int
	acc    uint64 // valid bits are the top n
	n      uint
	marker bool // a marker (or the end) was reached; no more real bytes
	fake   uint // zero bytes fed since
}

func (br *bitReader) fill() {
	if !br.marker && br.pos+8 <= len(br.data) {
		w := binary.BigEndian.Uint64(br.data[br.pos:])
		// No 0xFF byte in w: ^w then has no zero byte.
		x := ^w
		if (x-0x0101010101010101)&^x&0x8080808080808080 == 0 {
			k := (64 - br.n) >> 3
			w = w >> (64 - 8*k) << (64 - 8*k)
			br.acc |= w >> br.n
			br.n += 8 * k
			br.pos += int(k)
			return
		}
	}
	for br.n <= 56 {
		var b byte
		switch {
		case br.marker:
			br.fake++
		case br.pos >= len(br.data):
			br.marker = true
			br.fake++
		default:
			b = br.data[br.pos]
			if b == 0xFF {
				if br.pos+1 < len(br.data) && br.data[br.pos+1] == 0x00 {
					br.pos += 2
				} else {
					br.marker = true // leave pos on the marker
					br.fake++
					b = 0
				}
			} else {
				br.pos++
			}
		}
		br.acc |= uint64(b) << (56 - br.n)
		br.n += 8
	}
}

// overrun reports whether any fed zero bit has been consumed.
func (br *bitReader) overrun() bool { return br.fake*8 > br.n }

// slowDecode resolves a code longer than lutBits; br holds ≥ 16 bits.
func (h *huffTable) slowDecode(br *bitReader) (int, bool) {
	for l := uint(lutBits + 1); l <= 16; l++ {
		c := int32(br.acc >> (64 - l))
		if c <= h.maxCode[l] {
			br.acc <<= l
			br.n -= l
			i := h.valPtr[l] + c
			if i < 0 || i > 255 {
				return 0, false
			}
			return int(h.vals[i]), true
		}
	}
	return 0, false
}

type jpegComp struct {
	id      byte
	h, v    int // sampling factors
	tq      int // quantization table
	td, ta  int // Huffman tables of the current scan
	pred    int32
	decoded bool
	pix     []byte // scaled plane, padded to whole blocks
	stride  int
	rows    int // rows of blocks the buffer holds
	w, h2   int // true scaled plane size
	blocksW int // blocks per line in a non-interleaved scan
	blocksH int
}

type jpegDecoder struct {
	data         []byte
	width        int
	height       int
	comps        []jpegComp
	hmax, vmax   int
	mcusX, mcusY int
	scale        int // output pixels per block side: 8, 4, 3, 2 or 1
	qt           [4][64]int32
	qtOK         [4]bool
	dc, ac       [4]huffTable
	dcOK, acOK   [4]bool
	ri           int
	adobe        bool
	adobeXform   byte
	sel          [64]int8 // stream index k → position in the scaled coefficient block, -1 = unused
	coef         [64]int32
}

// decodeJPEG decodes data into planes. pickScale receives the frame size and
// returns how many output pixels a side of each 8×8 block yields: 8, 4, 3, 2
// or 1 (other values mean 8).
func decodeJPEG(data []byte, maxPixels int64, pickScale func(w, h int) int) (*planar, error) {
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		return nil, corruptf("missing SOI")
	}
	d := &jpegDecoder{data: data}
	pos := 2
	for {
		// Skip anything up to the next marker, as decoders commonly do.
		for pos < len(data) && data[pos] != 0xFF {
			pos++
		}
		for pos < len(data) && data[pos] == 0xFF {
			pos++
		}
		if pos >= len(data) {
			return nil, corruptf("truncated before the image data")
		}
		mk := data[pos]
		pos++
		switch {
		case mk == 0x00 || mk == 0x01 || mk == 0xD8 || (mk >= 0xD0 && mk <= 0xD7):
			continue
		case mk == 0xD9:
			return nil, corruptf("no image data")
		}
		if pos+2 > len(data) {
			return nil, corruptf("truncated segment")
		}
		n := int(binary.BigEndian.Uint16(data[pos:]))
		if n < 2 || pos+n > len(data) {
			return nil, corruptf("bad segment length")
		}
		seg := data[pos+2 : pos+n]
		pos += n
		var err error
		switch mk {
		case 0xC0, 0xC1:
			err = d.parseSOF(seg, maxPixels, pickScale)
		case 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF, 0xCC:
			return nil, errNotFast
		case 0xC4:
			err = d.parseDHT(seg)
		case 0xDB:
			err = d.parseDQT(seg)
		case 0xDD:
			if len(seg) < 2 {
				return nil, corruptf("bad DRI")
			}
			d.ri = int(binary.BigEndian.Uint16(seg))
		case 0xEE:
			if len(seg) >= 12 && string(seg[:5]) == "Adobe" {
				d.adobe, d.adobeXform = true, seg[11]
			}
		case 0xDA:
			pos, err = d.scan(seg, pos)
			if err == nil && d.allDecoded() {
				return d.planes(), nil
			}
		}
		if err != nil {
			return nil, err
		}
	}
}

func (d *jpegDecoder) allDecoded() bool {
	for i := range d.comps {
		if !d.comps[i].decoded {
			return false
		}
	}
	return true
}

func (d *jpegDecoder) parseSOF(seg []byte, maxPixels int64, pickScale func(w, h int) int) error {
	if d.comps != nil {
		return corruptf("second frame header")
	}
	if len(seg) < 6 {
		return corruptf("short SOF")
	}
	if seg[0] != 8 {
		return errNotFast // 12-bit
	}
	d.height = int(binary.BigEndian.Uint16(seg[1:]))
	d.width = int(binary.BigEndian.Uint16(seg[3:]))
	nc := int(seg[5])
	if d.width == 0 || d.height == 0 {
		return errNotFast // DNL-defined height: let image/jpeg decide
	}
	if int64(d.width)*int64(d.height) > maxPixels {
		return ErrTooManyPixels
	}
	if nc != 1 && nc != 3 {
		return errNotFast // CMYK/YCCK
	}
	if len(seg) < 6+3*nc {
		return corruptf("short SOF")
	}
	d.comps = make([]jpegComp, nc)
	d.hmax, d.vmax = 1, 1
	for i := range d.comps {
		c := &d.comps[i]
		p := seg[6+3*i:]
		c.id, c.h, c.v, c.tq = p[0], int(p[1]>>4), int(p[1]&15), int(p[2])
		if c.h < 1 || c.h > 4 || c.v < 1 || c.v > 4 || c.tq > 3 {
			return corruptf("bad component")
		}
		for j := range i {
			if d.comps[j].id == c.id {
				return corruptf("duplicate component")
			}
		}
		if nc == 1 { // a lone component is never interleaved: one block per MCU
			c.h, c.v = 1, 1
		}
		d.hmax, d.vmax = max(d.hmax, c.h), max(d.vmax, c.v)
	}
	if nc == 3 {
		if d.comps[0].id == 'R' && d.comps[1].id == 'G' && d.comps[2].id == 'B' {
			return errNotFast
		}
	}
	d.scale = pickScale(d.width, d.height)
	switch d.scale {
	case 1, 2, 3, 4, 8:
	default:
		d.scale = 8
	}
	s := d.scale
	d.mcusX = (d.width + 8*d.hmax - 1) / (8 * d.hmax)
	d.mcusY = (d.height + 8*d.vmax - 1) / (8 * d.vmax)
	for i := range d.comps {
		c := &d.comps[i]
		cw := (d.width*c.h + d.hmax - 1) / d.hmax
		chh := (d.height*c.v + d.vmax - 1) / d.vmax
		c.blocksW, c.blocksH = (cw+7)/8, (chh+7)/8
		c.w, c.h2 = (cw*s+7)/8, (chh*s+7)/8
		c.stride = d.mcusX * c.h * s
		c.rows = d.mcusY * c.v
		c.pix = make([]byte, c.stride*c.rows*s)
	}
	for k := range d.sel {
		n := int(zigzag[k])
		if r, col := n/8, n%8; r < s && col < s {
			d.sel[k] = int8(r*s + col)
		} else {
			d.sel[k] = -1
		}
	}
	return nil
}

func (d *jpegDecoder) parseDQT(seg []byte) error {
	for len(seg) > 0 {
		pq, tq := seg[0]>>4, int(seg[0]&15)
		if tq > 3 || pq > 1 {
			return corruptf("bad DQT")
		}
		size := 64 * int(pq+1)
		if len(seg) < 1+size {
			return corruptf("short DQT")
		}
		for k := range 64 {
			if pq == 0 {
				d.qt[tq][k] = int32(seg[1+k])
			} else {
				d.qt[tq][k] = int32(binary.BigEndian.Uint16(seg[1+2*k:]))
			}
		}
		d.qtOK[tq] = true
		seg = seg[1+size:]
	}
	return nil
}

func (d *jpegDecoder) parseDHT(seg []byte) error {
	for len(seg) > 0 {
		if len(seg) < 17 {
			return corruptf("short DHT")
		}
		tc, th := seg[0]>>4, int(seg[0]&15)
		if tc > 1 || th > 3 {
			return corruptf("bad DHT")
		}
		total := 0
		for _, c := range seg[1:17] {
			total += int(c)
		}
		if total > 256 || len(seg) < 17+total {
			return corruptf("bad DHT")
		}
		t, ok := &d.dc[th], &d.dcOK[th]
		if tc == 1 {
			t, ok = &d.ac[th], &d.acOK[th]
		}
		if err := t.build(seg[1:17], seg[17:17+total]); err != nil {
			return err
		}
		*ok = true
		seg = seg[17+total:]
	}
	return nil
}

// scan parses a scan header and decodes its entropy-coded data, which
// starts at pos; it returns the position of the marker that ends it.
func (d *jpegDecoder) scan(seg []byte, pos int) (int, error) {
	if d.comps == nil {
		return 0, corruptf("scan before frame header")
	}
	if len(seg) < 1 {
		return 0, corruptf("short SOS")
	}
	ns := int(seg[0])
	if ns < 1 || ns > len(d.comps) || len(seg) < 1+2*ns+3 {
		return 0, corruptf("bad SOS")
	}
	sc := make([]*jpegComp, 0, ns)
	for i := range ns {
		id, tables := seg[1+2*i], seg[2+2*i]
		var c *jpegComp
		for j := range d.comps {
			if d.comps[j].id == id {
				c = &d.comps[j]
			}
		}
		if c == nil || c.decoded {
			return 0, corruptf("bad scan component")
		}
		for _, o := range sc {
			if o == c {
				return 0, corruptf("bad scan component")
			}
		}
		c.td, c.ta = int(tables>>4), int(tables&15)
		if c.td > 3 || c.ta > 3 || !d.dcOK[c.td] || !d.acOK[c.ta] || !d.qtOK[c.tq] {
			return 0, corruptf("scan uses an undefined table")
		}
		c.pred = 0
		sc = append(sc, c)
	}
	if len(d.comps) == 3 && d.adobe && d.adobeXform == 0 {
		return 0, errNotFast // Adobe RGB-coded JPEG
	}
	br := &bitReader{data: d.data, pos: pos}
	var err error
	if ns == 1 {
		err = d.decodeSingle(br, sc[0])
	} else {
		err = d.decodeInterleaved(br, sc)
	}
	if err != nil {
		return 0, err
	}
	for _, c := range sc {
		c.decoded = true
	}
	// Continue after the entropy-coded data.
	p := br.pos
	for p+1 < len(d.data) && (d.data[p] != 0xFF || d.data[p+1] == 0x00 || (d.data[p+1] >= 0xD0 && d.data[p+1] <= 0xD7)) {
		p++
	}
	return p, nil
}

// restart handles a restart marker between intervals.
func (d *jpegDecoder) restart(br *bitReader, comps []*jpegComp) error {
	if br.overrun() {
		return corruptf("truncated scan")
	}
	p := br.pos
	for p+1 < len(d.data) && (d.data[p] != 0xFF || d.data[p+1] == 0x00 || d.data[p+1] == 0xFF) {
		p++
	}
	if p+1 >= len(d.data) || d.data[p+1] < 0xD0 || d.data[p+1] > 0xD7 {
		return corruptf("missing restart marker")
	}
	*br = bitReader{data: d.data, pos: p + 2}
	for _, c := range comps {
		c.pred = 0
	}
	return nil
}

func (d *jpegDecoder) decodeInterleaved(br *bitReader, sc []*jpegComp) error {
	s := d.scale
	mcu := 0
	for my := range d.mcusY {
		for mx := range d.mcusX {
			if d.ri > 0 && mcu > 0 && mcu%d.ri == 0 {
				if err := d.restart(br, sc); err != nil {
					return err
				}
			}
			mcu++
			for _, c := range sc {
				for by := range c.v {
					for bx := range c.h {
						off := ((my*c.v+by)*c.stride + (mx*c.h + bx)) * s
						if err := d.block(br, c, c.pix[off:], c.stride); err != nil {
							return err
						}
					}
				}
			}
		}
		if br.overrun() {
			return corruptf("truncated scan")
		}
	}
	return nil
}

func (d *jpegDecoder) decodeSingle(br *bitReader, c *jpegComp) error {
	s := d.scale
	mcu := 0
	one := []*jpegComp{c}
	for by := range c.blocksH {
		for bx := range c.blocksW {
			if d.ri > 0 && mcu > 0 && mcu%d.ri == 0 {
				if err := d.restart(br, one); err != nil {
					return err
				}
			}
			mcu++
			if err := d.block(br, c, c.pix[(by*c.stride+bx)*s:], c.stride); err != nil {
				return err
			}
		}
		if br.overrun() {
			return corruptf("truncated scan")
		}
	}
	return nil
}

// block decodes one 8×8 block and writes its scale×scale pixels to dst.
// The bit accumulator lives in locals for the whole block (written back
// around refills): this loop is where a decode spends most of its time.
func (d *jpegDecoder) block(br *bitReader, c *jpegComp, dst []byte, stride int) error {
	s := d.scale
	coef := &d.coef
	clear(coef[:s*s])
	q := &d.qt[c.tq]
	acc, n := br.acc, br.n

	// DC: a size category then that many bits of difference.
	if n < 32 {
		br.acc, br.n = acc, n
		br.fill()
		acc, n = br.acc, br.n
	}
	dc := &d.dc[c.td]
	var sz uint
	if e := dc.lut[acc>>(64-lutBits)]; e != 0 {
		l := uint(e >> 8)
		acc <<= l
		n -= l
		sz = uint(e & 0xff)
	} else {
		br.acc, br.n = acc, n
		v, ok := dc.slowDecode(br)
		if !ok {
			return corruptf("bad Huffman code")
		}
		acc, n, sz = br.acc, br.n, uint(v)
	}
	if sz > 16 {
		return corruptf("bad DC size")
	}
	if sz > 0 {
		v := int32(acc >> (64 - sz))
		acc <<= sz
		n -= sz
		if v < 1<<(sz-1) {
			v += -1<<sz + 1
		}
		c.pred += v
	}
	coef[0] = c.pred * q[0]

	// AC: (run, size) symbols until end of block. Short code+value pairs
	// resolve in one lookup of fastAC.
	ac := &d.ac[c.ta]
	sel := &d.sel
	for k := 1; k < 64; {
		if n < 32 {
			br.acc, br.n = acc, n
			br.fill()
			acc, n = br.acc, br.n
		}
		if f := ac.fastAC[acc>>(64-fastBits)]; f != 0 {
			k += int(f>>4) & 15
			l := uint(f & 15)
			acc <<= l
			n -= l
			if k > 63 {
				return corruptf("coefficient index out of range")
			}
			if i := sel[k]; i >= 0 {
				coef[i] = (f >> 8) * q[k]
			}
			k++
			continue
		}
		var rs int
		if e := ac.lut[acc>>(64-lutBits)]; e != 0 {
			l := uint(e >> 8)
			acc <<= l
			n -= l
			rs = int(e & 0xff)
		} else {
			br.acc, br.n = acc, n
			v, ok := ac.slowDecode(br)
			if !ok {
				return corruptf("bad Huffman code")
			}
			acc, n, rs = br.acc, br.n, v
		}
		r, sz := rs>>4, uint(rs&15)
		if sz == 0 {
			if r != 15 {
				break // end of block
			}
			k += 16
			continue
		}
		k += r
		if k > 63 {
			return corruptf("coefficient index out of range")
		}
		v := int32(acc >> (64 - sz))
		acc <<= sz
		n -= sz
		if i := sel[k]; i >= 0 {
			if v < 1<<(sz-1) {
				v += -1<<sz + 1
			}
			coef[i] = v * q[k]
		}
		k++
	}
	br.acc, br.n = acc, n

	switch s {
	case 8:
		idct8(coef, dst, stride)
	case 4:
		idct4((*[16]int32)(coef[:16]), dst, stride)
	case 3:
		idct3((*[9]int32)(coef[:9]), dst, stride)
	case 2:
		idct2((*[4]int32)(coef[:4]), dst, stride)
	default:
		idct1(coef[0], dst)
	}
	return nil
}

// planes hands the decoded buffers over as planar data.
func (d *jpegDecoder) planes() *planar {
	p := &planar{}
	mk := func(c *jpegComp) plane {
		return plane{pix: c.pix, w: c.w, h: c.h2, stride: c.stride}
	}
	p.y = mk(&d.comps[0])
	if len(d.comps) == 3 {
		p.cb, p.cr = mk(&d.comps[1]), mk(&d.comps[2])
	} else {
		p.gray = true
	}
	return p
}
