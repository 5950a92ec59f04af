package imaging

import (
	"bytes"
	"errors"
	"image/jpeg"
	"math"
	"testing"
)

func FuzzReadMeta(f *testing.F) {
	f.Add(mustRead(f, "testdata/gps.jpg"))
	f.Add(mustRead(f, "testdata/gps.webp"))
	f.Add(withSegments(encodeStd(f, testPattern(4, 4), 50), exifSegment(exifSpec{bigEndian: true, orientation: 2, gps: true, lat: 10, lon: 20, latRef: "N", lonRef: "W"})))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ReadMeta(data)
		if err != nil && !errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("unexpected error %v", err)
		}
		if m.Orientation < 0 || m.Orientation > 8 || m.Width < 0 || m.Height < 0 {
			t.Fatalf("out of range: %+v", m)
		}
		if m.HasGPS && (math.IsNaN(m.Lat) || math.IsNaN(m.Lon) || math.Abs(m.Lat) > 90 || math.Abs(m.Lon) > 180) {
			t.Fatalf("bad position: %+v", m)
		}
	})
}

// FuzzDerive feeds small images: whatever the input, Derive returns a
// sentinel error or clean, decodable JPEGs no larger than asked.
func FuzzDerive(f *testing.F) {
	f.Add(mustRead(f, "testdata/gps.jpg"))
	f.Add(mustRead(f, "testdata/ref-restart.jpg"))
	f.Add(mustRead(f, "testdata/ref-scans.jpg"))
	f.Add(mustRead(f, "testdata/ref-lossy.webp"))
	variants := []Variant{{"a", 32, 80}, {"b", 8, 60}}
	f.Fuzz(func(t *testing.T, data []byte) {
		outs, err := Derive(data, variants, Limits{MaxPixels: 1 << 18})
		if err != nil {
			if !errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrTooManyPixels) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		for i, o := range outs {
			if o.Width < 1 || o.Height < 1 || max(o.Width, o.Height) > variants[i].MaxSide {
				t.Fatalf("%s: %d×%d", o.Name, o.Width, o.Height)
			}
			img, err := jpeg.Decode(bytes.NewReader(o.Data))
			if err != nil {
				t.Fatalf("%s: output does not decode: %v", o.Name, err)
			}
			if b := img.Bounds(); b.Dx() != o.Width || b.Dy() != o.Height {
				t.Fatalf("%s: decoded %v, want %d×%d", o.Name, b, o.Width, o.Height)
			}
			if m, _ := ReadMeta(o.Data); m.HasGPS || m.Orientation != 0 {
				t.Fatalf("%s: metadata survived", o.Name)
			}
		}
	})
}
