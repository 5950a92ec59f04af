package imaging

import (
	"bytes"
	"image"
	"image/jpeg"
	"math"
	"testing"
)

// TestFDCTMatchesDefinition checks the AAN transform and its folded scale
// factors against the DCT's textbook formula.
func TestFDCTMatchesDefinition(t *testing.T) {
	var in [64]float32
	seed := uint32(7)
	for i := range in {
		seed = seed*1664525 + 1013904223
		in[i] = float32(int(seed>>24)) - 128
	}
	got := in
	fdct(&got)
	for v := range 8 {
		for u := range 8 {
			var sum float64
			for y := range 8 {
				for x := range 8 {
					sum += float64(in[y*8+x]) * math.Cos(float64(2*x+1)*float64(u)*math.Pi/16) *
						math.Cos(float64(2*y+1)*float64(v)*math.Pi/16)
				}
			}
			cu, cv := 1.0, 1.0
			if u == 0 {
				cu = 1 / math.Sqrt2
			}
			if v == 0 {
				cv = 1 / math.Sqrt2
			}
			want := sum * cu * cv / 4
			g := float64(got[v*8+u]) / (8 * aanScale[u] * aanScale[v])
			if math.Abs(g-want) > 1e-3*(1+math.Abs(want)) {
				t.Errorf("F(%d,%d) = %.4f, want %.4f", u, v, g, want)
			}
		}
	}
}

func mse(a, b []byte, aStride, bStride, w, h int) float64 {
	var s float64
	for y := range h {
		for x := range w {
			d := float64(a[y*aStride+x]) - float64(b[y*bStride+x])
			s += d * d
		}
	}
	return s / float64(w*h)
}

// TestEncodeRoundTrip decodes our JPEGs with image/jpeg and compares the
// error with that of image/jpeg's own encoder at the same quality: ours
// must be a valid JPEG and not noticeably lossier.
func TestEncodeRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		w, h, q int
		gray    bool
	}{
		{64, 48, 82, false}, {203, 151, 75, false}, {1, 1, 90, false}, {17, 9, 100, false},
		{40, 40, 1, false}, {33, 70, 82, true}, {8, 8, 100, true},
	} {
		src := photoLike(tc.w, tc.h)
		p := toPlanar(src)
		var ref image.Image = src
		if tc.gray {
			p = &planar{gray: true, y: p.y}
			g := image.NewGray(src.Rect)
			copy(g.Pix, src.Y)
			ref = g
		}
		data := encodePlanar(p, tc.q)
		got, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%+v: image/jpeg rejects our output: %v", tc, err)
		}
		if got.Bounds() != src.Rect {
			t.Fatalf("%+v: bounds %v", tc, got.Bounds())
		}
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, ref, &jpeg.Options{Quality: tc.q}); err != nil {
			t.Fatal(err)
		}
		std, _ := jpeg.Decode(bytes.NewReader(buf.Bytes()))
		var ours, theirs float64
		switch g := got.(type) {
		case *image.Gray:
			if !tc.gray {
				t.Fatalf("%+v: colour image came back grey", tc)
			}
			s := std.(*image.Gray)
			ours = mse(g.Pix, src.Y, g.Stride, src.YStride, tc.w, tc.h)
			theirs = mse(s.Pix, src.Y, s.Stride, src.YStride, tc.w, tc.h)
		case *image.YCbCr:
			s := std.(*image.YCbCr)
			if g.SubsampleRatio != image.YCbCrSubsampleRatio420 {
				t.Errorf("%+v: subsampling %v", tc, g.SubsampleRatio)
			}
			cw, ch := chromaSize(tc.w, tc.h)
			ours = mse(g.Y, src.Y, g.YStride, src.YStride, tc.w, tc.h) + mse(g.Cb, src.Cb, g.CStride, src.CStride, cw, ch)
			theirs = mse(s.Y, src.Y, s.YStride, src.YStride, tc.w, tc.h) + mse(s.Cb, src.Cb, s.CStride, src.CStride, cw, ch)
		default:
			t.Fatalf("%+v: decoded as %T", tc, got)
		}
		t.Logf("%+v: MSE ours %.2f, image/jpeg %.2f, %d vs %d bytes", tc, ours, theirs, len(data), buf.Len())
		if ours > theirs*1.15+0.5 {
			t.Errorf("%+v: MSE %.2f, image/jpeg's encoder %.2f", tc, ours, theirs)
		}
	}
}
