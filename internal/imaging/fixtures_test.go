package imaging

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// Test fixtures are crafted here, byte by byte where it matters (EXIF, the
// WebP container), so that the committed files under testdata/ can be
// checked against their recipe: `go test -run TestGolden -update` rewrites
// them. Fixtures made by reference encoders (libjpeg-turbo, libwebp) come
// from testdata/make-fixtures.sh instead.

var update = flag.Bool("update", false, "rewrite testdata files from their recipes")

// Where the committed gps.jpg says it was taken: Kunming, Yunnan.
const (
	gpsLat = 25.0478
	gpsLon = 102.7123
)

// exifSpec describes the EXIF block to craft.
type exifSpec struct {
	bigEndian   bool
	orientation int  // 0: no Orientation tag
	gps         bool // write a GPS IFD
	lat, lon    float64
	latRef      string // "N", "S"
	lonRef      string // "E", "W"
}

// tiffWriter lays out IFD entries and their out-of-line values.
type tiffWriter struct {
	bo interface {
		binary.ByteOrder
		binary.AppendByteOrder
	}
	buf []byte
}

type tiffEntry struct {
	tag, typ uint16
	count    uint32
	data     []byte // the value's bytes; ≤ 4 inline, else stored after the IFD
}

func (t *tiffWriter) u16(v uint16) []byte { return t.bo.AppendUint16(nil, v) }
func (t *tiffWriter) u32(v uint32) []byte { return t.bo.AppendUint32(nil, v) }

// ifd writes entries at the end of buf and returns the IFD's offset.
// Entries whose value points at another IFD are patched by the caller.
func (t *tiffWriter) ifd(entries []tiffEntry) (off uint32, fieldAt map[uint16]int) {
	off = uint32(len(t.buf))
	fieldAt = map[uint16]int{}
	dataAt := int(off) + 2 + 12*len(entries) + 4
	var data []byte
	t.buf = append(t.buf, t.u16(uint16(len(entries)))...)
	for _, e := range entries {
		t.buf = append(t.buf, t.u16(e.tag)...)
		t.buf = append(t.buf, t.u16(e.typ)...)
		t.buf = append(t.buf, t.u32(e.count)...)
		fieldAt[e.tag] = len(t.buf)
		if len(e.data) <= 4 {
			field := make([]byte, 4)
			copy(field, e.data)
			t.buf = append(t.buf, field...)
		} else {
			t.buf = append(t.buf, t.u32(uint32(dataAt+len(data)))...)
			data = append(data, e.data...)
			if len(data)%2 == 1 {
				data = append(data, 0)
			}
		}
	}
	t.buf = append(t.buf, 0, 0, 0, 0) // no next IFD
	t.buf = append(t.buf, data...)
	return off, fieldAt
}

// dms writes a coordinate as degrees, minutes and hundredths of seconds.
func (t *tiffWriter) dms(v float64) []byte {
	deg := math.Floor(v)
	minutes := math.Floor((v - deg) * 60)
	sec := math.Round(((v-deg)*60 - minutes) * 60 * 100)
	var b []byte
	for _, r := range [][2]uint32{{uint32(deg), 1}, {uint32(minutes), 1}, {uint32(sec), 100}} {
		b = append(b, t.u32(r[0])...)
		b = append(b, t.u32(r[1])...)
	}
	return b
}

// buildTIFF returns an EXIF TIFF block as cameras write it.
func buildTIFF(s exifSpec) []byte {
	t := &tiffWriter{bo: binary.LittleEndian}
	t.buf = []byte("II*\x00")
	if s.bigEndian {
		t.bo = binary.BigEndian
		t.buf = []byte("MM\x00*")
	}
	t.buf = append(t.buf, t.u32(8)...)
	ifd0 := []tiffEntry{{tag: 0x010F, typ: typeASCII, count: 8, data: []byte("TestCam\x00")}}
	if s.orientation != 0 {
		ifd0 = append(ifd0, tiffEntry{tag: tagOrientation, typ: typeShort, count: 1, data: t.u16(uint16(s.orientation))})
	}
	if s.gps {
		ifd0 = append(ifd0, tiffEntry{tag: tagGPSIFD, typ: typeLong, count: 1, data: t.u32(0)})
	}
	_, fields := t.ifd(ifd0)
	if s.gps {
		gpsOff, _ := t.ifd([]tiffEntry{
			{tag: 0, typ: 1, count: 4, data: []byte{2, 3, 0, 0}},
			{tag: tagGPSLatRef, typ: typeASCII, count: 2, data: []byte(s.latRef + "\x00")},
			{tag: tagGPSLat, typ: typeRational, count: 3, data: t.dms(s.lat)},
			{tag: tagGPSLonRef, typ: typeASCII, count: 2, data: []byte(s.lonRef + "\x00")},
			{tag: tagGPSLon, typ: typeRational, count: 3, data: t.dms(s.lon)},
		})
		t.bo.PutUint32(t.buf[fields[tagGPSIFD]:], gpsOff)
	}
	return t.buf
}

// segment returns a JPEG marker segment.
func segment(marker byte, payload []byte) []byte {
	b := []byte{0xFF, marker}
	b = binary.BigEndian.AppendUint16(b, uint16(len(payload)+2))
	return append(b, payload...)
}

// Metadata that must never reach a derived image.
var (
	xmpPacket = []byte("http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta><exif:GPSLatitude>25,2.868N</exif:GPSLatitude></x:xmpmeta>")
	iccChunk  = append([]byte("ICC_PROFILE\x00\x01\x01"), bytes.Repeat([]byte("iccdata!"), 8)...)
	comment   = []byte("GPS 25.0478N 102.7123E reporter 13800000000")
)

// withSegments inserts segments right after a JPEG's SOI.
func withSegments(jpg []byte, segs ...[]byte) []byte {
	out := append([]byte{}, jpg[:2]...)
	for _, s := range segs {
		out = append(out, s...)
	}
	return append(out, jpg[2:]...)
}

func exifSegment(s exifSpec) []byte {
	return segment(0xE1, append([]byte("Exif\x00\x00"), buildTIFF(s)...))
}

func encodeStd(t testing.TB, img image.Image, q int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: q}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var gpsSpec = exifSpec{orientation: 6, gps: true, lat: gpsLat, lon: gpsLon, latRef: "N", lonRef: "E"}

// testPattern is a small picture computed with integers only (so that the
// committed fixtures are the same on every platform): gradients, a diagonal
// texture and noise over the four quadrant colours.
func testPattern(w, h int) *image.YCbCr {
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio444)
	seed := uint32(99)
	for y := range h {
		for x := range w {
			seed = seed*1664525 + 1013904223
			r, g, b := quadrants(x, y, w, h)
			c := func(on bool, grad int) uint8 {
				v := 40 + grad + int(seed>>28) + ((x+y)%5)*3
				if on {
					v += 120
				}
				return uint8(min(v, 255))
			}
			yy, cb, cr := color.RGBToYCbCr(c(r, 60*x/w), c(g, 60*y/h), c(b, 30*(x+y)/(w+h)))
			i := img.YOffset(x, y)
			img.Y[i], img.Cb[i], img.Cr[i] = yy, cb, cr
		}
	}
	return img
}

// gpsJPEG is testdata/gps.jpg: a 64×48 photo carrying EXIF (GPS,
// Orientation 6), XMP, an ICC profile chunk and a comment.
func gpsJPEG(t testing.TB) []byte {
	return withSegments(encodeStd(t, testPattern(64, 48), 90),
		exifSegment(gpsSpec), segment(0xE1, xmpPacket), segment(0xE2, iccChunk), segment(0xFE, comment))
}

// withPNGChunk inserts a chunk after a PNG's IHDR.
func withPNGChunk(p []byte, typ string, data []byte) []byte {
	const afterIHDR = 8 + 8 + 13 + 4
	c := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	c = append(c, typ...)
	c = append(c, data...)
	c = binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(c[4:]))
	out := append([]byte{}, p[:afterIHDR]...)
	out = append(out, c...)
	return append(out, p[afterIHDR:]...)
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// lsbWriter writes bits least significant first, as VP8L wants.
type lsbWriter struct {
	buf  []byte
	acc  uint64
	nacc uint
}

func (w *lsbWriter) put(v uint64, n uint) {
	w.acc |= v << w.nacc
	w.nacc += n
	for w.nacc >= 8 {
		w.buf = append(w.buf, byte(w.acc))
		w.acc >>= 8
		w.nacc -= 8
	}
}

func (w *lsbWriter) bytes() []byte {
	if w.nacc > 0 {
		w.buf = append(w.buf, byte(w.acc))
	}
	return w.buf
}

// vp8l codes a lossless WebP bitstream of an image whose channels are each
// 0 or 255: every channel gets a two-symbol prefix code {0, 255} (one bit a
// pixel), alpha and distance one-symbol codes (no bits). That is the whole
// format needed here: no transforms, no colour cache, no back-references.
func vp8l(w, h int, at func(x, y int) (r, g, b bool)) []byte {
	bw := &lsbWriter{}
	bw.put(0x2f, 8)
	bw.put(uint64(w-1), 14)
	bw.put(uint64(h-1), 14)
	bw.put(0, 1) // alpha_is_used
	bw.put(0, 3) // version
	bw.put(0, 1) // no transform
	bw.put(0, 1) // no colour cache
	bw.put(0, 1) // no meta prefix codes
	twoSymbols := func() {
		bw.put(1, 1) // simple code
		bw.put(1, 1) // two symbols
		bw.put(1, 1) // first symbol has 8 bits
		bw.put(0, 8)
		bw.put(255, 8)
	}
	twoSymbols() // green
	twoSymbols() // red
	twoSymbols() // blue
	bw.put(1, 1) // alpha: simple, one 8-bit symbol 255
	bw.put(0, 1)
	bw.put(1, 1)
	bw.put(255, 8)
	bw.put(1, 1) // distance: simple, one 1-bit symbol 0
	bw.put(0, 1)
	bw.put(0, 1)
	bw.put(0, 1)
	bit := func(v bool) uint64 {
		if v {
			return 1
		}
		return 0
	}
	for y := range h {
		for x := range w {
			r, g, b := at(x, y)
			bw.put(bit(g), 1)
			bw.put(bit(r), 1)
			bw.put(bit(b), 1)
		}
	}
	return bw.bytes()
}

func riffChunk(fourcc string, data []byte) []byte {
	c := append([]byte(fourcc), binary.LittleEndian.AppendUint32(nil, uint32(len(data)))...)
	c = append(c, data...)
	if len(data)%2 == 1 {
		c = append(c, 0)
	}
	return c
}

// webpWithExif wraps a VP8L bitstream in an extended (VP8X) WebP with an
// EXIF chunk.
func webpWithExif(w, h int, bitstream, tiff []byte) []byte {
	x := []byte{0x08, 0, 0, 0} // flags: EXIF
	x = append(x, byte(w-1), byte((w-1)>>8), byte((w-1)>>16), byte(h-1), byte((h-1)>>8), byte((h-1)>>16))
	body := []byte("WEBP")
	body = append(body, riffChunk("VP8X", x)...)
	body = append(body, riffChunk("VP8L", bitstream)...)
	body = append(body, riffChunk("EXIF", tiff)...)
	return append(append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(len(body)))...), body...)
}

// quadrants paints four distinct colours so that every orientation gives
// a distinct picture: red top-left, green top-right, blue bottom-left,
// white bottom-right.
func quadrants(x, y, w, h int) (r, g, b bool) {
	left, top := x < w/2, y < h/2
	switch {
	case top && left:
		return true, false, false
	case top:
		return false, true, false
	case left:
		return false, false, true
	}
	return true, true, true
}

// gpsWebP is testdata/gps.webp: 40×30 lossless, EXIF with GPS and
// Orientation 6.
func gpsWebP() []byte {
	const w, h = 40, 30
	return webpWithExif(w, h, vp8l(w, h, func(x, y int) (bool, bool, bool) { return quadrants(x, y, w, h) }), buildTIFF(gpsSpec))
}

// fuzzSeed renders data in the go test fuzz corpus file format.
func fuzzSeed(data []byte) []byte {
	return fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", data)
}

// TestGolden checks that the committed fixtures are what their recipes make
// (or rewrites them with -update), so nobody has to trust a binary blob.
func TestGolden(t *testing.T) {
	files := map[string][]byte{
		"gps.jpg":  gpsJPEG(t),
		"gps.webp": gpsWebP(),
		// Seeds for the fuzzers, besides their f.Add calls.
		"fuzz/FuzzReadMeta/gps-jpeg":        fuzzSeed(gpsJPEG(t)[:600]),
		"fuzz/FuzzReadMeta/gps-webp-be":     fuzzSeed(webpWithExif(2, 2, vp8l(2, 2, func(x, y int) (bool, bool, bool) { return quadrants(x, y, 2, 2) }), buildTIFF(exifSpec{bigEndian: true, orientation: 8, gps: true, lat: 1.5, lon: 2.5, latRef: "S", lonRef: "W"}))),
		"fuzz/FuzzReadMeta/png-exif":        fuzzSeed(withPNGChunk(encodePNG(t, image.NewGray(image.Rect(0, 0, 2, 2))), "eXIf", buildTIFF(gpsSpec))),
		"fuzz/FuzzDerive/tiny-jpeg-exif":    fuzzSeed(withSegments(encodeStd(t, testPattern(9, 7), 50), exifSegment(exifSpec{orientation: 5}))),
		"fuzz/FuzzDerive/tiny-jpeg-gray":    fuzzSeed(encodeStd(t, image.NewGray(image.Rect(0, 0, 3, 17)), 50)),
		"fuzz/FuzzDerive/tiny-webp":         fuzzSeed(webpWithExif(3, 2, vp8l(3, 2, func(x, y int) (bool, bool, bool) { return quadrants(x, y, 3, 2) }), buildTIFF(exifSpec{orientation: 3}))),
		"fuzz/FuzzDerive/tiny-png-paletted": fuzzSeed(encodePNG(t, image.NewPaletted(image.Rect(0, 0, 5, 3), []color.Color{color.White, color.Black}))),
	}
	for name, want := range files {
		path := filepath.Join("testdata", filepath.FromSlash(name))
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -run TestGolden -update)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from its recipe (run go test -run TestGolden -update)", path)
		}
	}
}
