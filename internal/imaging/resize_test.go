package imaging

import (
	"fmt"
	"testing"
)

func TestResizePlane(t *testing.T) {
	for _, tc := range []struct{ sw, sh, dw, dh int }{
		{2000, 1500, 1280, 960}, // the residual step after a 1/2 decode
		{1280, 960, 320, 240},   // box 2×, then 2×
		{640, 480, 101, 37},     // box 3×/6×, odd sizes
		{17, 9, 17, 4},          // one axis only
		{5, 5, 1, 1},
		{3, 2, 5, 4}, // enlarging (chroma of odd sizes can need it)
		{1, 1, 3, 3},
	} {
		t.Run(fmt.Sprintf("%dx%d→%dx%d", tc.sw, tc.sh, tc.dw, tc.dh), func(t *testing.T) {
			flat := newPlane(tc.sw, tc.sh)
			ramp := newPlane(tc.sw, tc.sh)
			for y := range tc.sh {
				for x := range tc.sw {
					flat.pix[y*flat.stride+x] = 77
					ramp.pix[y*ramp.stride+x] = uint8(x * 255 / max(1, tc.sw-1))
				}
			}
			f := resizePlane(flat, tc.dw, tc.dh)
			if f.w != tc.dw || f.h != tc.dh {
				t.Fatalf("size %d×%d", f.w, f.h)
			}
			for y := range f.h {
				for _, v := range f.row(y) {
					if v != 77 {
						t.Fatalf("flat plane became %d: gain is not exactly one", v)
					}
				}
			}
			r := resizePlane(ramp, tc.dw, tc.dh)
			for y := range r.h {
				row := r.row(y)
				for x := range row {
					// The sample's centre in source coordinates, on the ramp.
					cx := (float64(x)+0.5)*float64(tc.sw)/float64(tc.dw) - 0.5
					want := cx * 255 / float64(max(1, tc.sw-1))
					want = min(max(want, 0), 255)
					// Catmull-Rom reproduces a linear ramp exactly where its
					// support does not reach past the edges (which are clamped).
					reach := 2*max(1, float64(tc.sw)/float64(tc.dw)) + 1
					inside := cx-reach >= 0 && cx+reach <= float64(tc.sw-1)
					if d := float64(row[x]) - want; inside && (d > 2 || d < -2) {
						t.Fatalf("ramp at x=%d is %d, want about %.1f", x, row[x], want)
					}
					if x > 0 && row[x] < row[x-1] {
						t.Fatalf("ramp not monotonic at x=%d", x)
					}
				}
			}
		})
	}
}
