package imaging

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"path/filepath"
	"strings"
	"testing"
)

// assertClean fails unless data is a plain JPEG: only the segments a
// baseline encoder needs before the scan (no APPn, no COM), and none of the
// original's metadata bytes anywhere.
func assertClean(t *testing.T, data []byte) {
	t.Helper()
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		t.Fatal("not a JPEG")
	}
	pos := 2
	for {
		if pos+4 > len(data) || data[pos] != 0xFF {
			t.Fatalf("broken segment structure at %d", pos)
		}
		mk := data[pos+1]
		switch mk {
		case 0xDB, 0xC0, 0xC4, 0xDD:
		case 0xDA:
			goto scan
		default:
			t.Fatalf("unexpected segment FF%02X at %d", mk, pos)
		}
		pos += 2 + int(binary.BigEndian.Uint16(data[pos+2:]))
	}
scan:
	for _, needle := range [][]byte{
		[]byte("Exif"), []byte("ns.adobe.com"), []byte("ICC_PROFILE"), []byte("TestCam"), comment,
		(&tiffWriter{bo: binary.LittleEndian}).dms(gpsLat), (&tiffWriter{bo: binary.BigEndian}).dms(gpsLat),
		(&tiffWriter{bo: binary.LittleEndian}).dms(gpsLon), (&tiffWriter{bo: binary.BigEndian}).dms(gpsLon),
	} {
		if bytes.Contains(data, needle) {
			t.Errorf("output contains %q", needle)
		}
	}
	if m, err := ReadMeta(data); err != nil || m.HasGPS || m.Orientation != 0 {
		t.Errorf("ReadMeta on output: %+v, %v", m, err)
	}
}

func decodeOutput(t *testing.T, o Output) image.Image {
	t.Helper()
	if o.Mime != MimeJPEG {
		t.Errorf("%s: mime %q", o.Name, o.Mime)
	}
	img, err := jpeg.Decode(bytes.NewReader(o.Data))
	if err != nil {
		t.Fatalf("%s: image/jpeg cannot decode the output: %v", o.Name, err)
	}
	if b := img.Bounds(); b.Dx() != o.Width || b.Dy() != o.Height {
		t.Errorf("%s: decoded %v, Output says %d×%d", o.Name, b.Size(), o.Width, o.Height)
	}
	return img
}

func TestDeriveStripsMetadata(t *testing.T) {
	pngGPS := withPNGChunk(encodePNG(t, testPattern(64, 48)), "eXIf", buildTIFF(gpsSpec))
	pngGPS = withPNGChunk(pngGPS, "tEXt", append([]byte("Comment\x00"), comment...))
	for _, tc := range []struct {
		name string
		data []byte
		w, h int // displayed
	}{
		{"committed jpeg", mustRead(t, "testdata/gps.jpg"), 48, 64},
		{"committed webp", mustRead(t, "testdata/gps.webp"), 30, 40},
		{"png with eXIf", pngGPS, 48, 64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if m, err := ReadMeta(tc.data); err != nil || !m.HasGPS {
				t.Fatalf("fixture has no GPS: %+v %v", m, err)
			}
			outs, err := Derive(tc.data, DefaultVariants, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if len(outs) != 2 || outs[0].Name != "large" || outs[1].Name != "thumb" {
				t.Fatalf("outputs %v", outs)
			}
			for _, o := range outs {
				assertClean(t, o.Data)
				decodeOutput(t, o)
				// Smaller than both variants: never enlarged, only turned.
				if o.Width != tc.w || o.Height != tc.h {
					t.Errorf("%s: %d×%d, want %d×%d", o.Name, o.Width, o.Height, tc.w, tc.h)
				}
			}
		})
	}
}

// corners of a displayed picture, in the order TL, TR, BL, BR.
type corner int

const (
	tl corner = iota
	tr
	bl
	br
)

// TestDeriveOrientation stores a picture with four coloured quadrants and
// checks where each stored corner appears for every EXIF orientation, as
// the EXIF specification describes it (0th row / 0th column positions).
func TestDeriveOrientation(t *testing.T) {
	const w, h = 48, 32
	colours := [4]color.RGBA{
		tl: {255, 0, 0, 255}, tr: {0, 255, 0, 255}, bl: {0, 0, 255, 255}, br: {255, 255, 255, 255},
	}
	stored := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			r, g, b := quadrants(x, y, w, h)
			switch {
			case r && g && b:
				stored.Set(x, y, colours[br])
			case r:
				stored.Set(x, y, colours[tl])
			case g:
				stored.Set(x, y, colours[tr])
			default:
				stored.Set(x, y, colours[bl])
			}
		}
	}
	base := encodeStd(t, stored, 95)
	// Which stored corner is shown at TL, TR, BL, BR.
	want := map[int][4]corner{
		1: {tl, tr, bl, br}, // 0th row top, 0th column left
		2: {tr, tl, br, bl}, // row top, column right: mirrored
		3: {br, bl, tr, tl}, // row bottom, column right: upside down
		4: {bl, br, tl, tr}, // row bottom, column left
		5: {tl, bl, tr, br}, // row left, column top: transposed
		6: {bl, tl, br, tr}, // row right, column top: turn clockwise
		7: {br, tr, bl, tl}, // row right, column bottom: transversed
		8: {tr, br, tl, bl}, // row left, column bottom: turn counter-clockwise
	}
	variants := []Variant{{"same", 100, 95}, {"half", 24, 95}}
	for o := 1; o <= 8; o++ {
		inputs := map[string][]byte{
			"jpeg": withSegments(base, exifSegment(exifSpec{orientation: o})),
		}
		if o == 6 || o == 7 {
			inputs["png"] = withPNGChunk(encodePNG(t, stored), "eXIf", buildTIFF(exifSpec{orientation: o, bigEndian: true}))
		}
		for kind, data := range inputs {
			outs, err := Derive(data, variants, Limits{})
			if err != nil {
				t.Fatalf("orientation %d %s: %v", o, kind, err)
			}
			for _, out := range outs {
				img := decodeOutput(t, out)
				dw, dh := w, h
				if o >= 5 {
					dw, dh = h, w
				}
				if out.Name == "half" {
					dw, dh = dw/2, dh/2
				}
				if out.Width != dw || out.Height != dh {
					t.Fatalf("orientation %d %s %s: %d×%d, want %d×%d", o, kind, out.Name, out.Width, out.Height, dw, dh)
				}
				// Sample the middle of each displayed quadrant.
				at := [4]image.Point{{dw / 4, dh / 4}, {3 * dw / 4, dh / 4}, {dw / 4, 3 * dh / 4}, {3 * dw / 4, 3 * dh / 4}}
				for pos, p := range at {
					got := color.RGBAModel.Convert(img.At(p.X, p.Y)).(color.RGBA)
					exp := colours[want[o][pos]]
					if diff(got.R, exp.R) > 40 || diff(got.G, exp.G) > 40 || diff(got.B, exp.B) > 40 {
						t.Errorf("orientation %d %s %s: corner %d is %v, want %v", o, kind, out.Name, pos, got, exp)
					}
				}
			}
		}
	}
}

func diff(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

func TestDeriveSizes(t *testing.T) {
	for _, tc := range []struct {
		w, h        int
		orientation int
		variants    []Variant
		want        [][2]int
	}{
		{1000, 750, 0, DefaultVariants, [][2]int{{1000, 750}, {320, 240}}},
		{3000, 2000, 0, DefaultVariants, [][2]int{{1280, 853}, {320, 213}}},
		{1400, 2100, 0, DefaultVariants, [][2]int{{853, 1280}, {213, 320}}},
		{1800, 1200, 8, DefaultVariants, [][2]int{{853, 1280}, {213, 320}}},
		{1300, 975, 6, DefaultVariants, [][2]int{{960, 1280}, {240, 320}}},
		{1500, 7, 0, DefaultVariants, [][2]int{{1280, 6}, {320, 1}}},
		{1281, 961, 0, DefaultVariants, [][2]int{{1280, 960}, {320, 240}}},
		// Order of variants is kept; smaller ones are made first here.
		{800, 600, 0, []Variant{{"s", 100, 80}, {"m", 400, 80}, {"l", 5000, 80}}, [][2]int{{100, 75}, {400, 300}, {800, 600}}},
	} {
		t.Run(fmt.Sprintf("%dx%d-o%d", tc.w, tc.h, tc.orientation), func(t *testing.T) {
			data := encodeStd(t, photoLike(tc.w, tc.h), 85)
			if tc.orientation != 0 {
				data = withSegments(data, exifSegment(exifSpec{orientation: tc.orientation}))
			}
			outs, err := Derive(data, tc.variants, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			for i, o := range outs {
				if o.Name != tc.variants[i].Name || o.Width != tc.want[i][0] || o.Height != tc.want[i][1] {
					t.Errorf("output %d: %s %d×%d, want %s %v", i, o.Name, o.Width, o.Height, tc.variants[i].Name, tc.want[i])
				}
				decodeOutput(t, o)
			}
		})
	}
}

// TestDeriveLooksRight compares a derived picture with the original scaled
// by x/image-free means (box average of the full decode): a wrong plane
// offset, chroma shift or filter bug shows up as a large error.
func TestDeriveLooksRight(t *testing.T) {
	const w, h = 1600, 1200 // decoded at 1/2 for an 800-pixel variant
	data := encodeStd(t, photoLike(w, h), 90)
	full, _ := jpeg.Decode(bytes.NewReader(data))
	outs, err := Derive(data, []Variant{{"x", 400, 95}}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	got := decodeOutput(t, outs[0])
	var sum float64
	for y := range 300 {
		for x := range 400 {
			var r0, g0, b0 int
			for dy := range 4 {
				for dx := range 4 {
					r, g, b, _ := full.At(4*x+dx, 4*y+dy).RGBA()
					r0, g0, b0 = r0+int(r>>8), g0+int(g>>8), b0+int(b>>8)
				}
			}
			r, g, b, _ := got.At(x, y).RGBA()
			sum += float64(absInt(int(r>>8)-r0/16) + absInt(int(g>>8)-g0/16) + absInt(int(b>>8)-b0/16))
		}
	}
	mean := sum / (300 * 400 * 3)
	t.Logf("mean RGB difference from the box-averaged original: %.2f", mean)
	if mean > 4 {
		t.Errorf("mean RGB difference %.2f", mean)
	}
}

func absInt(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// TestDeriveInputs runs every kind of input through Derive: reference
// encoders' JPEG variants (including progressive, which takes the
// image/jpeg path), WebP lossless and lossy, and PNG colour models.
func TestDeriveInputs(t *testing.T) {
	inputs := map[string][]byte{}
	for _, name := range []string{"420", "422", "440", "444", "gray", "restart", "scans", "optimized", "progressive"} {
		inputs["jpeg "+name] = mustRead(t, filepath.Join("testdata", "ref-"+name+".jpg"))
	}
	inputs["webp lossy"] = mustRead(t, "testdata/ref-lossy.webp")
	inputs["webp lossless"] = mustRead(t, "testdata/gps.webp")
	rgba := image.NewRGBA(image.Rect(0, 0, 30, 20))
	nrgba := image.NewNRGBA(image.Rect(0, 0, 30, 20))
	gray16 := image.NewGray16(image.Rect(0, 0, 30, 20))
	pal := image.NewPaletted(image.Rect(0, 0, 30, 20), color.Palette{color.Black, color.White, color.RGBA{200, 0, 0, 255}, color.Transparent})
	for y := range 20 {
		for x := range 30 {
			c := color.NRGBA{uint8(8 * x), uint8(12 * y), 90, uint8(255 - 4*x)}
			rgba.Set(x, y, c)
			nrgba.Set(x, y, c)
			gray16.SetGray16(x, y, color.Gray16{uint16(2000 * x)})
			pal.SetColorIndex(x, y, uint8((x+y)%4))
		}
	}
	inputs["png rgba"] = encodePNG(t, rgba)
	inputs["png nrgba"] = encodePNG(t, nrgba)
	inputs["png gray16"] = encodePNG(t, gray16)
	inputs["png paletted"] = encodePNG(t, pal)
	for name, data := range inputs {
		t.Run(name, func(t *testing.T) {
			outs, err := Derive(data, []Variant{{"l", 1280, 82}, {"t", 16, 75}}, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range outs {
				assertClean(t, o.Data)
				decodeOutput(t, o)
			}
		})
	}
}

// TestTransparencyOnWhite: JPEG has no alpha; transparent pixels must come
// out white, not black.
func TestTransparencyOnWhite(t *testing.T) {
	nrgba := image.NewNRGBA(image.Rect(0, 0, 16, 16)) // all transparent black
	ycca := image.NewNYCbCrA(image.Rect(0, 0, 16, 16), image.YCbCrSubsampleRatio420)
	for i := range ycca.Cb {
		ycca.Cb[i], ycca.Cr[i] = 128, 128 // transparent, colourless black
	}
	for name, p := range map[string]*planar{"nrgba": toPlanar(nrgba), "nycbcra": toPlanar(ycca)} {
		for i, v := range p.y.pix[:p.y.w] {
			if v != 255 {
				t.Fatalf("%s: luma %d at %d, want 255", name, v, i)
			}
		}
		if p.cb.pix[0] != 128 || p.cr.pix[0] != 128 {
			t.Errorf("%s: chroma %d,%d, want 128,128", name, p.cb.pix[0], p.cr.pix[0])
		}
	}
}

// bigHeaders are files whose header announces 30000×30000 pixels and
// nothing else worth decoding.
func bigHeaders(t *testing.T) map[string][]byte {
	sof := []byte{8, 0x75, 0x30, 0x75, 0x30, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1} // 30000×30000
	jpg := append([]byte{0xFF, 0xD8}, segment(0xC0, sof)...)
	jpg = append(jpg, 0xFF, 0xD9)

	var pngBuf bytes.Buffer
	if err := png.Encode(&pngBuf, image.NewGray(image.Rect(0, 0, 1, 1))); err != nil {
		t.Fatal(err)
	}
	pngBig := bytes.Clone(pngBuf.Bytes())
	binary.BigEndian.PutUint32(pngBig[16:], 30000)
	binary.BigEndian.PutUint32(pngBig[20:], 30000)
	crc := pngCRC(pngBig[12:29])
	binary.BigEndian.PutUint32(pngBig[29:], crc)

	webpBig := webpWithExif(16000, 16000, vp8l(1, 1, func(int, int) (bool, bool, bool) { return true, true, true }), buildTIFF(exifSpec{}))
	return map[string][]byte{"jpeg": jpg, "png": pngBig, "webp": webpBig}
}

func TestDeriveErrors(t *testing.T) {
	photo := mustRead(t, "testdata/gps.jpg")
	webpPhoto := mustRead(t, "testdata/ref-lossy.webp")
	cases := []struct {
		name   string
		data   []byte
		limits Limits
		want   error
	}{
		{"text", []byte("<html>not an image</html>"), Limits{}, ErrUnsupported},
		{"empty", nil, Limits{}, ErrUnsupported},
		{"gif", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), Limits{}, ErrUnsupported},
		{"heic", append(ftyp("heic", "mif1", "heic"), make([]byte, 100)...), Limits{}, ErrUnsupported},
		{"arithmetic jpeg", mustRead(t, "testdata/ref-arithmetic.jpg"), Limits{}, ErrUnsupported},
		{"custom pixel limit", photo, Limits{MaxPixels: 64*48 - 1}, ErrTooManyPixels},
		{"jpeg magic only", []byte{0xFF, 0xD8, 0xFF}, Limits{}, ErrCorrupt},
		{"jpeg garbage", append([]byte{0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04}, bytes.Repeat([]byte{0x55}, 100)...), Limits{}, ErrCorrupt},
		{"png truncated", encodePNG(t, testPattern(30, 30))[:60], Limits{}, ErrCorrupt},
		{"webp truncated", webpPhoto[:len(webpPhoto)/2], Limits{}, ErrCorrupt},
	}
	for name, data := range bigHeaders(t) {
		cases = append(cases, struct {
			name   string
			data   []byte
			limits Limits
			want   error
		}{name + " 30000×30000 header", data, Limits{}, ErrTooManyPixels})
	}
	// Every truncation of the photo inside its scan: the fast decoder and
	// image/jpeg both notice the missing data.
	sos := bytes.Index(photo, []byte{0xFF, 0xDA})
	for _, n := range []int{sos + 20, sos + 200, len(photo) - 200, len(photo) - 40} {
		cases = append(cases, struct {
			name   string
			data   []byte
			limits Limits
			want   error
		}{fmt.Sprintf("jpeg truncated at %d", n), photo[:n], Limits{}, ErrCorrupt})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			outs, err := Derive(tc.data, DefaultVariants, tc.limits)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if outs != nil {
				t.Errorf("outputs returned with an error")
			}
		})
	}
	for _, vs := range [][]Variant{nil, {{"bad", 0, 80}}, {{"bad", 100, 0}}, {{"bad", 100, 101}}} {
		if _, err := Derive(photo, vs, Limits{}); err == nil || errors.Is(err, ErrCorrupt) {
			t.Errorf("variants %v: err = %v", vs, err)
		}
	}
	if _, err := Derive(append(ftyp("heic", "mif1"), make([]byte, 64)...), DefaultVariants, Limits{}); err == nil || !strings.Contains(err.Error(), "HEIC") {
		t.Errorf("HEIC error does not say so: %v", err)
	}
}

func pngCRC(b []byte) uint32 { return crc32.ChecksumIEEE(b) }
