package imaging

import (
	"bytes"
	"errors"
	"image"
	"image/jpeg"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// planeDiff compares a plane with reference samples of the same size and
// returns the mean and worst absolute difference.
func planeDiff(t *testing.T, got plane, want []byte, wantStride, w, h int) (mean float64, worst int) {
	t.Helper()
	if got.w != w || got.h != h {
		t.Fatalf("plane is %d×%d, want %d×%d", got.w, got.h, w, h)
	}
	sum := 0
	for y := range h {
		for x := range w {
			d := int(got.pix[y*got.stride+x]) - int(want[y*wantStride+x])
			if d < 0 {
				d = -d
			}
			sum += d
			worst = max(worst, d)
		}
	}
	return float64(sum) / float64(w*h), worst
}

// compareWithStdlib decodes data at full scale with both decoders; both
// compute exact inverse DCTs, so samples may differ by rounding only.
func compareWithStdlib(t *testing.T, data []byte) {
	t.Helper()
	want, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeJPEG(data, DefaultMaxPixels, func(int, int) int { return 8 })
	if err != nil {
		t.Fatal(err)
	}
	check := func(name string, p plane, pix []byte, stride, w, h int) {
		mean, worst := planeDiff(t, p, pix, stride, w, h)
		if worst > 2 || mean > 0.1 {
			t.Errorf("%s: mean difference %.3f, worst %d", name, mean, worst)
		}
	}
	switch w := want.(type) {
	case *image.Gray:
		if !got.gray {
			t.Fatal("grey JPEG decoded as colour")
		}
		check("Y", got.y, w.Pix, w.Stride, w.Rect.Dx(), w.Rect.Dy())
	case *image.YCbCr:
		if got.gray {
			t.Fatal("colour JPEG decoded as grey")
		}
		check("Y", got.y, w.Y, w.YStride, w.Rect.Dx(), w.Rect.Dy())
		cx0, cy0, cx1, cy1 := chromaBounds(w.Rect, w.SubsampleRatio)
		check("Cb", got.cb, w.Cb, w.CStride, cx1-cx0, cy1-cy0)
		check("Cr", got.cr, w.Cr, w.CStride, cx1-cx0, cy1-cy0)
	default:
		t.Fatalf("image/jpeg returned %T", want)
	}
}

func TestDecodeMatchesStdlib(t *testing.T) {
	gray := image.NewGray(image.Rect(0, 0, 77, 61))
	copy(gray.Pix, photoLike(77, 61).Y)
	cases := map[string][]byte{
		"420 odd size": encodeStd(t, photoLike(203, 151), 90),
		"420 q100":     encodeStd(t, photoLike(64, 48), 100),
		"420 q20":      encodeStd(t, photoLike(130, 70), 20),
		"1x1":          encodeStd(t, photoLike(1, 1), 90),
		"gray":         encodeStd(t, gray, 90),
	}
	// Reference encoder output: other samplings, restart markers, one scan
	// per component, optimized Huffman tables (long codes).
	for _, name := range []string{"420", "422", "440", "444", "gray", "restart", "scans", "optimized"} {
		data, err := os.ReadFile(filepath.Join("testdata", "ref-"+name+".jpg"))
		if err != nil {
			t.Fatal(err)
		}
		cases["libjpeg "+name] = data
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) { compareWithStdlib(t, data) })
	}
}

func TestDecodeLeavesOtherProcessesToStdlib(t *testing.T) {
	for _, name := range []string{"progressive", "arithmetic"} {
		data, err := os.ReadFile(filepath.Join("testdata", "ref-"+name+".jpg"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := decodeJPEG(data, DefaultMaxPixels, func(int, int) int { return 8 }); !errors.Is(err, errNotFast) {
			t.Errorf("%s: err = %v, want errNotFast", name, err)
		}
	}
}

// areaReference averages a full-size plane down to n/8 of its size: output
// sample i covers source pixels whose centres fall in [8i/n, 8(i+1)/n).
func areaReference(pix []byte, stride, w, h, n int) (out []byte, ow, oh int) {
	ow, oh = (w*n+7)/8, (h*n+7)/8
	// When the size is not a multiple of 8/n the last sample sits partly in
	// the encoder's padding, which repeats the edge: so does the reference.
	span := func(i, size int) (int, int) {
		lo, hi := (8*i*2+n-1)/(2*n), (8*(i+1)*2+n-1)/(2*n) // centres x+½ ≥ 8i/n
		lo = min(lo, size-1)
		return lo, min(max(hi, lo+1), size)
	}
	out = make([]byte, ow*oh)
	for oy := range oh {
		y0, y1 := span(oy, h)
		for ox := range ow {
			x0, x1 := span(ox, w)
			sum, cnt := 0, 0
			for y := y0; y < y1; y++ {
				for x := x0; x < x1; x++ {
					sum += int(pix[y*stride+x])
					cnt++
				}
			}
			out[oy*ow+ox] = uint8((sum + cnt/2) / max(cnt, 1))
		}
	}
	return out, ow, oh
}

// TestDecodeScaled checks the reduced inverse DCTs against the full decode
// averaged down: the scaled decode samples a low-passed picture, so it
// lands close to the area average but not on it.
func TestDecodeScaled(t *testing.T) {
	data := encodeStd(t, photoLike(203, 151), 90)
	full, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	ref := full.(*image.YCbCr)
	for _, n := range []int{1, 2, 3, 4} {
		got, err := decodeJPEG(data, DefaultMaxPixels, func(int, int) int { return n })
		if err != nil {
			t.Fatal(err)
		}
		want, ow, oh := areaReference(ref.Y, ref.YStride, 203, 151, n)
		mean, worst := planeDiff(t, got.y, want, ow, ow, oh)
		t.Logf("scale %d/8: Y mean difference %.2f, worst %d", n, mean, worst)
		// Integer-pixel boxes only approximate 8/3-pixel areas, so the
		// bound is loose; a misplaced block or wrong table is far above it.
		if mean > 1.2 {
			t.Errorf("scale %d/8: Y mean difference %.2f from the area average", n, mean)
		}
		cw, ch := chromaSize(203, 151)
		want, ow, oh = areaReference(ref.Cb, ref.CStride, cw, ch, n)
		if mean, _ := planeDiff(t, got.cb, want, ow, ow, oh); mean > 1.2 {
			t.Errorf("scale %d/8: Cb mean difference %.2f", n, mean)
		}
	}
}

// TestIDCTMatchesDefinition checks every reduced transform against the
// cosine series evaluated in floating point.
func TestIDCTMatchesDefinition(t *testing.T) {
	seed := uint32(1)
	rnd := func(n int) int32 {
		seed = seed*1664525 + 1013904223
		return int32(int(seed>>16)%(2*n+1) - n)
	}
	ref := func(c *[64]int32, s, x, y int) int {
		var sum float64
		for v := range s {
			for u := range s {
				cu, cv := 1.0, 1.0
				if u == 0 {
					cu = 1 / math.Sqrt2
				}
				if v == 0 {
					cv = 1 / math.Sqrt2
				}
				sum += cu * cv * float64(c[v*8+u]) *
					math.Cos(float64(2*x+1)*float64(u)*math.Pi/float64(2*s)) *
					math.Cos(float64(2*y+1)*float64(v)*math.Pi/float64(2*s))
			}
		}
		return int(clamp8(int(math.Round(sum/4 + 128))))
	}
	for range 200 {
		var c [64]int32
		for i := range c {
			c[i] = rnd(60 >> (i / 16))
		}
		c[0] = rnd(900)
		for _, s := range []int{8, 4, 3, 2, 1} {
			dst := make([]byte, 8*8)
			switch s {
			case 3:
				var cc [9]int32
				for v := range 3 {
					copy(cc[v*3:v*3+3], c[v*8:v*8+3])
				}
				idct3(&cc, dst, 8)
			case 8:
				cc := c
				idct8(&cc, dst, 8)
			case 4:
				var cc [16]int32
				for v := range 4 {
					copy(cc[v*4:v*4+4], c[v*8:v*8+4])
				}
				idct4(&cc, dst, 8)
			case 2:
				cc := [4]int32{c[0], c[1], c[8], c[9]}
				idct2(&cc, dst, 8)
			case 1:
				idct1(c[0], dst)
			}
			for y := range s {
				for x := range s {
					got, want := int(dst[y*8+x]), ref(&c, s, x, y)
					if got-want > 1 || want-got > 1 {
						t.Fatalf("scale %d: pixel (%d,%d) = %d, want %d", s, x, y, got, want)
					}
				}
			}
		}
	}
}
