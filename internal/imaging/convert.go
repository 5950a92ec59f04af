package imaging

import (
	"image"
	"image/color"
)

// toPlanar turns what the standard decoders return into planes, without
// copying when the layout already is planar. Transparent pixels are laid on
// white, as a JPEG has no alpha and photos of forms look right on paper.
func toPlanar(img image.Image) *planar {
	r := img.Bounds()
	w, h := r.Dx(), r.Dy()
	switch m := img.(type) {
	case *image.YCbCr:
		cx0, cy0, cx1, cy1 := chromaBounds(r, m.SubsampleRatio)
		return &planar{
			y:  plane{pix: m.Y[m.YOffset(r.Min.X, r.Min.Y):], w: w, h: h, stride: m.YStride},
			cb: plane{pix: m.Cb[m.COffset(r.Min.X, r.Min.Y):], w: cx1 - cx0, h: cy1 - cy0, stride: m.CStride},
			cr: plane{pix: m.Cr[m.COffset(r.Min.X, r.Min.Y):], w: cx1 - cx0, h: cy1 - cy0, stride: m.CStride},
		}
	case *image.Gray:
		return &planar{gray: true, y: plane{pix: m.Pix[m.PixOffset(r.Min.X, r.Min.Y):], w: w, h: h, stride: m.Stride}}
	case *image.NYCbCrA:
		return nycbcraToPlanar(m)
	}
	p := &planar{y: newPlane(w, h), cb: newPlane(w, h), cr: newPlane(w, h)}
	switch m := img.(type) {
	case *image.RGBA:
		for y := range h {
			row := m.Pix[m.PixOffset(r.Min.X, r.Min.Y+y):]
			for x := range w {
				px := row[4*x : 4*x+4 : 4*x+4]
				bg := 255 - px[3] // premultiplied: adding the white left uncovered
				p.set(x, y, px[0]+bg, px[1]+bg, px[2]+bg)
			}
		}
	case *image.NRGBA:
		for y := range h {
			row := m.Pix[m.PixOffset(r.Min.X, r.Min.Y+y):]
			for x := range w {
				px := row[4*x : 4*x+4 : 4*x+4]
				a := px[3]
				p.set(x, y, overWhite(px[0], a), overWhite(px[1], a), overWhite(px[2], a))
			}
		}
	case *image.Paletted:
		var lut [256][3]uint8
		for i, c := range m.Palette {
			if i >= len(lut) {
				break
			}
			lut[i] = ycc16(c)
		}
		for y := range h {
			row := m.Pix[m.PixOffset(r.Min.X, r.Min.Y+y):]
			for x := range w {
				v := lut[row[x]]
				p.y.pix[y*w+x], p.cb.pix[y*w+x], p.cr.pix[y*w+x] = v[0], v[1], v[2]
			}
		}
	default: // 16-bit PNGs, CMYK JPEGs and the like: rare, so the slow way
		for y := range h {
			for x := range w {
				v := ycc16(img.At(r.Min.X+x, r.Min.Y+y))
				p.y.pix[y*w+x], p.cb.pix[y*w+x], p.cr.pix[y*w+x] = v[0], v[1], v[2]
			}
		}
	}
	return p
}

func (p *planar) set(x, y int, r, g, b uint8) {
	i := y*p.y.stride + x
	p.y.pix[i], p.cb.pix[i], p.cr.pix[i] = color.RGBToYCbCr(r, g, b)
}

func overWhite(c, a uint8) uint8 {
	return uint8((int(c)*int(a) + 255*(255-int(a)) + 127) / 255)
}

// ycc16 converts any colour, laid on white, to Y, Cb, Cr.
func ycc16(c color.Color) [3]uint8 {
	r, g, b, a := c.RGBA() // premultiplied, 16-bit
	bg := 0xffff - a
	y, cb, cr := color.RGBToYCbCr(uint8((r+bg)>>8), uint8((g+bg)>>8), uint8((b+bg)>>8))
	return [3]uint8{y, cb, cr}
}

// chromaBounds returns the chroma sample range covering r.
func chromaBounds(r image.Rectangle, ratio image.YCbCrSubsampleRatio) (x0, y0, x1, y1 int) {
	dx, dy := 1, 1
	switch ratio {
	case image.YCbCrSubsampleRatio422:
		dx = 2
	case image.YCbCrSubsampleRatio420:
		dx, dy = 2, 2
	case image.YCbCrSubsampleRatio440:
		dy = 2
	case image.YCbCrSubsampleRatio411:
		dx = 4
	case image.YCbCrSubsampleRatio410:
		dx, dy = 4, 2
	}
	return r.Min.X / dx, r.Min.Y / dy, (r.Max.X + dx - 1) / dx, (r.Max.Y + dy - 1) / dy
}

// nycbcraToPlanar lays a WebP with alpha on white. Compositing in YCbCr is
// exact because the conversion from RGB is affine; white is (255, 128, 128).
func nycbcraToPlanar(m *image.NYCbCrA) *planar {
	r := m.Rect
	w, h := r.Dx(), r.Dy()
	cx0, cy0, cx1, cy1 := chromaBounds(r, m.SubsampleRatio)
	cw, ch := cx1-cx0, cy1-cy0
	p := &planar{y: newPlane(w, h), cb: newPlane(cw, ch), cr: newPlane(cw, ch)}
	for y := range h {
		for x := range w {
			p.y.pix[y*w+x] = blend(m.Y[m.YOffset(r.Min.X+x, r.Min.Y+y)], 255, m.A[m.AOffset(r.Min.X+x, r.Min.Y+y)])
		}
	}
	sx, sy := (r.Dx()+cw-1)/max(cw, 1), (r.Dy()+ch-1)/max(ch, 1) // luma pixels per chroma sample
	for cy := range ch {
		for cx := range cw {
			lx, ly := min(r.Min.X+cx*sx, r.Max.X-1), min(r.Min.Y+cy*sy, r.Max.Y-1)
			a := m.A[m.AOffset(lx, ly)]
			i := m.COffset(lx, ly)
			p.cb.pix[cy*cw+cx] = blend(m.Cb[i], 128, a)
			p.cr.pix[cy*cw+cx] = blend(m.Cr[i], 128, a)
		}
	}
	return p
}

func blend(v, bg, a uint8) uint8 {
	return uint8((int(v)*int(a) + int(bg)*(255-int(a)) + 127) / 255)
}
