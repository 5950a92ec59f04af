package imaging

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"math"
	"sync"
	"testing"

	"golang.org/x/image/draw"
)

// photoLike draws a deterministic w×h picture with what makes real photos
// expensive to code: smooth gradients, fine texture and sensor-like noise,
// in 4:2:0 like a camera's output.
func photoLike(w, h int) *image.YCbCr {
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	// sin(5x/w + 3y/h) and sin(0.09x)·cos(0.07y) are separable, so the
	// trigonometry is done once per row and column.
	sx, cx, tx := make([]float64, w), make([]float64, w), make([]float64, w)
	for x := range w {
		sx[x], cx[x] = math.Sincos(5 * float64(x) / float64(w))
		tx[x] = 25 * math.Sin(float64(x)*0.09)
	}
	seed := uint32(12345)
	for y := range h {
		sy, cy := math.Sincos(3 * float64(y) / float64(h))
		ty := math.Cos(float64(y) * 0.07)
		row := img.Y[y*img.YStride : y*img.YStride+w]
		for x := range row {
			seed = seed*1664525 + 1013904223
			noise := float64(int(seed>>24)-128) / 128 * 6
			v := 110 + 70*(sx[x]*cy+cx[x]*sy) + tx[x]*ty + noise
			row[x] = uint8(max(0, min(255, v)))
		}
	}
	cw, ch := (w+1)/2, (h+1)/2
	for y := range ch {
		fy := float64(y) / float64(ch)
		for x := range cw {
			fx := float64(x) / float64(cw)
			img.Cb[y*img.CStride+x] = uint8(128 + 40*math.Cos(fx*4-fy*2))
			img.Cr[y*img.CStride+x] = uint8(128 + 35*math.Sin(fy*5+fx))
		}
	}
	return img
}

var (
	photo12MPOnce sync.Once
	photo12MP     []byte
)

// jpeg12MP is a 4000×3000 photo-like JPEG at quality 90, about 3.3 MB:
// photoLike plus fine grain, which is what makes a phone photo's entropy
// decoding expensive.
func jpeg12MP(b *testing.B) []byte {
	photo12MPOnce.Do(func() {
		img := photoLike(4000, 3000)
		seed := uint32(5)
		for i, v := range img.Y {
			seed = seed*1664525 + 1013904223
			img.Y[i] = uint8(min(255, max(0, int(v)+int(seed>>28)-8)))
		}
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
			panic(err)
		}
		photo12MP = buf.Bytes()
	})
	b.SetBytes(int64(len(photo12MP)))
	return photo12MP
}

// loopCPU runs f b.N times and reports, besides wall time, the process CPU
// time per operation (cpu-ns/op), the figure that matters on a shared
// machine; GC work done meanwhile is part of it.
func loopCPU(b *testing.B, f func()) {
	b.Helper()
	b.ResetTimer()
	start := processCPU()
	n := 0
	for b.Loop() {
		f()
		n++
	}
	if cpu := processCPU() - start; cpu > 0 && n > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(n), "cpu-ns/op")
	}
}

func BenchmarkDerive12MP(b *testing.B) {
	data := jpeg12MP(b)
	loopCPU(b, func() {
		if _, err := Derive(data, DefaultVariants, Limits{}); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkStages12MP splits BenchmarkDerive12MP into its steps.
func BenchmarkStages12MP(b *testing.B) {
	data := jpeg12MP(b)
	// 3/8 is what Derive picks for 4000×3000 and a 1280-pixel variant.
	src, err := decodeJPEG(data, DefaultMaxPixels, func(int, int) int { return 3 })
	if err != nil {
		b.Fatal(err)
	}
	large := src.resize(1280, 960)
	thumb := large.resize(320, 240)
	b.Run("decode-3:8", func(b *testing.B) {
		loopCPU(b, func() { _, _ = decodeJPEG(data, DefaultMaxPixels, func(int, int) int { return 3 }) })
	})
	b.Run("resize-large", func(b *testing.B) { loopCPU(b, func() { src.resize(1280, 960) }) })
	b.Run("resize-thumb", func(b *testing.B) { loopCPU(b, func() { large.resize(320, 240) }) })
	b.Run("orient6-large", func(b *testing.B) { loopCPU(b, func() { large.orient(6) }) })
	b.Run("encode-large", func(b *testing.B) { loopCPU(b, func() { encodePlanar(large, 82) }) })
	b.Run("encode-thumb", func(b *testing.B) { loopCPU(b, func() { encodePlanar(thumb, 75) }) })
}

// BenchmarkNaive12MP is the obvious way, for comparison: full decode,
// high-quality thumbnail from full size, full-size re-encode to drop
// metadata.
func BenchmarkNaive12MP(b *testing.B) {
	data := jpeg12MP(b)
	loopCPU(b, func() {
		img, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		thumb := image.NewRGBA(image.Rect(0, 0, 320, 240))
		draw.CatmullRom.Scale(thumb, thumb.Rect, img, img.Bounds(), draw.Src, nil)
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, thumb, &jpeg.Options{Quality: 75}); err != nil {
			b.Fatal(err)
		}
		buf.Reset()
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 82}); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkDecodeStdlib12MP: image/jpeg's full decode alone, the floor of
// any pipeline built on it.
func BenchmarkDecodeStdlib12MP(b *testing.B) {
	data := jpeg12MP(b)
	loopCPU(b, func() {
		if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkDecodeFast12MP: this package's decoder at full size and reduced
// sizes; 3/8 is what Derive uses for a 1280-pixel variant of a 4000-pixel
// photo.
func BenchmarkDecodeFast12MP(b *testing.B) {
	data := jpeg12MP(b)
	for _, s := range []int{8, 4, 3, 1} {
		b.Run(fmt.Sprintf("%d:8", s), func(b *testing.B) {
			loopCPU(b, func() {
				if _, err := decodeJPEG(data, DefaultMaxPixels, func(int, int) int { return s }); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}
