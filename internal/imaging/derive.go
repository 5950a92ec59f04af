package imaging

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"slices"

	"golang.org/x/image/webp"
)

// Derive decodes data once and returns one upright, metadata-free JPEG per
// variant, in the order of variants. Each is scaled so its longest side is at
// most MaxSide (never enlarged). The pixel count announced by the header is
// checked against limits before anything is decoded.
//
// Errors wrap ErrUnsupported (not JPEG/PNG/WebP, including HEIC),
// ErrTooManyPixels or ErrCorrupt; an invalid variant is a plain error (a
// programming mistake, not the citizen's).
func Derive(data []byte, variants []Variant, limits Limits) ([]Output, error) {
	if len(variants) == 0 {
		return nil, errors.New("imaging: no variants requested")
	}
	for _, v := range variants {
		if v.MaxSide < 1 || v.Quality < 1 || v.Quality > 100 {
			return nil, fmt.Errorf("imaging: invalid variant %+v", v)
		}
	}
	mime, ok := Sniff(data)
	if !ok {
		if IsHEIC(data) {
			return nil, fmt.Errorf("%w: HEIC/HEIF", ErrUnsupported)
		}
		return nil, ErrUnsupported
	}
	// The decompression-bomb guard looks at the header twice: our own walk
	// (which sees a frame header even when nothing follows it) and the
	// decoder's DecodeConfig (the size the decoder will actually use).
	maxPixels := limits.maxPixels()
	meta, _ := ReadMeta(data)
	if int64(meta.Width)*int64(meta.Height) > maxPixels {
		return nil, fmt.Errorf("%w: %d×%d", ErrTooManyPixels, meta.Width, meta.Height)
	}
	cfg, err := decodeConfig(mime, data)
	if err != nil {
		return nil, err
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fmt.Errorf("%w: empty image", ErrCorrupt)
	}
	if int64(cfg.Width)*int64(cfg.Height) > maxPixels {
		return nil, fmt.Errorf("%w: %d×%d", ErrTooManyPixels, cfg.Width, cfg.Height)
	}
	// PNG and WebP decode at full size in the decoder's own pixel format:
	// a 16-bit RGBA PNG takes 8 bytes a pixel. Bound the bytes too (the
	// pixel limit at 4 bytes a pixel), so a small file cannot make the
	// worker allocate gigabytes.
	if mime != MimeJPEG && int64(cfg.Width)*int64(cfg.Height)*bytesPerPixel(cfg.ColorModel) > maxPixels*4 {
		return nil, fmt.Errorf("%w: %d×%d at %d bytes a pixel", ErrTooManyPixels, cfg.Width, cfg.Height, bytesPerPixel(cfg.ColorModel))
	}
	o := meta.Orientation
	turned := o >= 5 && o <= 8

	// Target sizes in stored orientation: the picture is turned at the end.
	type job struct {
		i    int
		w, h int
	}
	jobs := make([]job, len(variants))
	needW, needH := 0, 0
	for i, v := range variants {
		w, h := fitSize(cfg.Width, cfg.Height, v.MaxSide)
		jobs[i] = job{i: i, w: w, h: h}
		needW, needH = max(needW, w), max(needH, h)
	}
	src, err := decodePlanar(mime, data, maxPixels, func(w, h int) int {
		// The smallest n/8 decode that is still at least as large as the
		// largest variant: 3/8 for a 4000×3000 photo and 1280 pixels.
		for _, n := range []int{1, 2, 3, 4} {
			if (w*n+7)/8 >= needW && (h*n+7)/8 >= needH {
				return n
			}
		}
		return 8
	})
	if err != nil {
		return nil, err
	}

	// Largest first, so each variant can be made from the smallest larger
	// one already made instead of from the full picture.
	order := slices.Clone(jobs)
	slices.SortStableFunc(order, func(a, b job) int { return b.w*b.h - a.w*a.h })
	made := []*planar{src}
	out := make([]Output, len(variants))
	for _, j := range order {
		from := src
		for _, p := range made {
			if p.y.w >= j.w && p.y.h >= j.h && p.y.w*p.y.h < from.y.w*from.y.h {
				from = p
			}
		}
		r := from.resize(j.w, j.h)
		made = append(made, r)
		shown := r.orient(o)
		enc := encodePlanar(shown, variants[j.i].Quality)
		w, h := j.w, j.h
		if turned {
			w, h = h, w
		}
		out[j.i] = Output{Name: variants[j.i].Name, Data: enc, Width: w, Height: h, Mime: MimeJPEG}
	}
	return out, nil
}

// fitSize scales w×h so that its longest side is at most maxSide, keeping
// the aspect ratio and at least one pixel per side. The longest side is the
// same before and after orientation, so this works in stored orientation.
func fitSize(w, h, maxSide int) (int, int) {
	if w <= maxSide && h <= maxSide {
		return w, h
	}
	if w >= h {
		return maxSide, max(1, int((int64(h)*int64(maxSide)+int64(w)/2)/int64(w)))
	}
	return max(1, int((int64(w)*int64(maxSide)+int64(h)/2)/int64(h))), maxSide
}

func decodeConfig(mime string, data []byte) (image.Config, error) {
	var cfg image.Config
	var err error
	switch mime {
	case MimeJPEG:
		cfg, err = jpeg.DecodeConfig(bytes.NewReader(data))
	case MimePNG:
		cfg, err = png.DecodeConfig(bytes.NewReader(data))
	case MimeWebP:
		cfg, err = webp.DecodeConfig(bytes.NewReader(data))
	}
	return cfg, classify(err)
}

// decodePlanar decodes the whole image; JPEGs take the fast scaled path
// when they can.
func decodePlanar(mime string, data []byte, maxPixels int64, pickScale func(w, h int) int) (*planar, error) {
	var img image.Image
	var err error
	switch mime {
	case MimeJPEG:
		p, ferr := decodeJPEG(data, maxPixels, pickScale)
		if ferr == nil {
			return p, nil
		}
		if errors.Is(ferr, ErrTooManyPixels) {
			return nil, ferr
		}
		// Not for the fast decoder, or rejected by it: image/jpeg has the
		// last word, at full size.
		img, err = jpeg.Decode(bytes.NewReader(data))
	case MimePNG:
		img, err = png.Decode(bytes.NewReader(data))
	case MimeWebP:
		img, err = webp.Decode(bytes.NewReader(data))
	}
	if err != nil {
		return nil, classify(err)
	}
	if b := img.Bounds(); int64(b.Dx())*int64(b.Dy()) > maxPixels || b.Empty() {
		return nil, fmt.Errorf("%w: decoded size %v", ErrCorrupt, b.Size())
	}
	return toPlanar(img), nil
}

// classify maps decoder errors onto the package's sentinels.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var ju jpeg.UnsupportedError
	var pu png.UnsupportedError
	if errors.As(err, &ju) || errors.As(err, &pu) {
		return fmt.Errorf("%w: %v", ErrUnsupported, err)
	}
	return fmt.Errorf("%w: %v", ErrCorrupt, err)
}

// bytesPerPixel is what the standard decoders allocate per pixel for a
// colour model (unknown models count as the widest).
func bytesPerPixel(m color.Model) int64 {
	switch m {
	case color.GrayModel, color.AlphaModel:
		return 1
	case color.Gray16Model, color.Alpha16Model, color.YCbCrModel:
		return 2
	case color.RGBAModel, color.NRGBAModel, color.CMYKModel, color.NYCbCrAModel:
		return 4
	}
	if _, ok := m.(color.Palette); ok {
		return 1
	}
	return 8
}
