package imaging_test

import (
	"bytes"
	"image"
	"image/jpeg"
	"image/png"
	"testing"

	"chuangwen/internal/imaging"
)

// TestEndCheckAcrossWrites: the end marks are found however the stream is
// cut into writes (a marker split between two of them), and not in a
// file cut short.
func TestEndCheckAcrossWrites(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 40, 30))
	var jb, pb bytes.Buffer
	if err := jpeg.Encode(&jb, img, nil); err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(&pb, img); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		mime string
		data []byte
	}{{imaging.MimeJPEG, jb.Bytes()}, {imaging.MimePNG, pb.Bytes()}} {
		for _, step := range []int{1, 2, 3, 7, 4096} {
			for cut, want := range map[int]bool{0: true, 1: false, 9: false} {
				data := tc.data[:len(tc.data)-cut]
				e := imaging.NewEndCheck(tc.mime, data[:min(len(data), 1024)])
				for i := 0; i < len(data); i += step {
					e.Write(data[i:min(i+step, len(data))])
				}
				if got := e.Complete(); got != want {
					t.Errorf("%s in writes of %d, last %d bytes cut: complete %v, want %v", tc.mime, step, cut, got, want)
				}
			}
		}
	}
}
