package imaging

// EXIF orientation values say where the stored rows and columns belong:
//
//	1 upright            5 transposed (mirror along the main diagonal)
//	2 mirrored left-right 6 turned: rotate 90° clockwise to show
//	3 upside down        7 transversed (mirror along the anti-diagonal)
//	4 mirrored top-bottom 8 turned: rotate 90° counter-clockwise to show
//
// orientPlane returns src as it must be displayed. Each case is an affine
// walk through src: display pixel (x, y) is src.pix[off + x*ax + y*ay].
func orientPlane(src plane, o int) plane {
	if o < 2 || o > 8 {
		return src
	}
	w, h := src.w, src.h
	if o >= 5 {
		w, h = h, w
	}
	s := src.stride
	var off, ax, ay int
	switch o {
	case 2: // (x,y) ← (W-1-x, y)
		off, ax, ay = w-1, -1, s
	case 3: // ← (W-1-x, H-1-y)
		off, ax, ay = (h-1)*s+w-1, -1, -s
	case 4: // ← (x, H-1-y)
		off, ax, ay = (h-1)*s, 1, -s
	case 5: // ← (y, x)
		off, ax, ay = 0, s, 1
	case 6: // ← (y, W-1-x)
		off, ax, ay = (w-1)*s, -s, 1
	case 7: // ← (H-1-y, W-1-x)
		off, ax, ay = (w-1)*s+h-1, -s, -1
	case 8: // ← (H-1-y, x)
		off, ax, ay = h-1, s, -1
	}
	dst := newPlane(w, h)
	for y := range h {
		i := off + y*ay
		drow := dst.row(y)
		for x := range drow {
			drow[x] = src.pix[i]
			i += ax
		}
	}
	return dst
}

func (p *planar) orient(o int) *planar {
	if o < 2 || o > 8 {
		return p
	}
	out := &planar{gray: p.gray, y: orientPlane(p.y, o)}
	if !p.gray {
		out.cb, out.cr = orientPlane(p.cb, o), orientPlane(p.cr, o)
	}
	return out
}
