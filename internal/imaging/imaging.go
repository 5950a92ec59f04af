// Package imaging turns citizens' uploaded photos (JPEG, PNG, WebP) into the
// derived versions that units and the public see, and reads the little
// metadata the server wants from them (the EXIF orientation and the GPS
// position offered as the case location, 案件位置).
//
// The original upload is kept privately by the caller; everything Derive
// returns is re-encoded from pixels, so no EXIF, GPS, XMP, ICC profile or
// comment of the original can leak into it.
//
// Speed matters because a 12-megapixel phone photo arrives with every
// report: a baseline JPEG is decoded once, by this package's own decoder,
// directly at 1/8, 2/8, 3/8 or 4/8 of its size when the largest variant
// allows (the reduced inverse DCT costs a fraction of a full one); the rest of
// the reduction is a box shrink by an integer factor followed by a
// Catmull-Rom filter working on the Y, Cb and Cr planes, each at its own
// resolution; smaller variants are made from larger ones; orientation is
// applied last, on the small result. Other inputs go through the standard
// decoders and the same planar pipeline.
package imaging

import (
	"errors"
)

// Errors returned by Sniff-based entry points. Callers map them to HTTP
// statuses: ErrUnsupported → 415, ErrTooManyPixels → 413, ErrCorrupt → 400.
var (
	// ErrUnsupported: the bytes are not a JPEG, PNG or WebP image (HEIC
	// included), or use a variant of the format no decoder here reads.
	ErrUnsupported = errors.New("imaging: unsupported image format")
	// ErrTooManyPixels: the header announces more pixels than Limits allow;
	// nothing was decoded (decompression bomb guard).
	ErrTooManyPixels = errors.New("imaging: image has too many pixels")
	// ErrCorrupt: the image is of a known format but truncated or malformed.
	ErrCorrupt = errors.New("imaging: corrupt image")
)

// Mime types returned by Sniff.
const (
	MimeJPEG = "image/jpeg"
	MimePNG  = "image/png"
	MimeWebP = "image/webp"
)

// DefaultMaxPixels is the pixel budget used when Limits.MaxPixels is zero:
// 60 megapixels covers every phone camera while bounding the memory a
// decode can claim (about 90 MB for a 4:2:0 JPEG).
const DefaultMaxPixels = 60_000_000

// Limits bound the work Derive accepts to do for one image.
type Limits struct {
	// MaxPixels is the largest width×height accepted; 0 means
	// DefaultMaxPixels.
	MaxPixels int64
}

// Pixels is the largest width×height accepted (MaxPixels, or the default).
func (l Limits) Pixels() int64 { return l.maxPixels() }

func (l Limits) maxPixels() int64 {
	if l.MaxPixels <= 0 {
		return DefaultMaxPixels
	}
	return l.MaxPixels
}

// Variant describes one derived version of a photo.
type Variant struct {
	Name    string // "large", "thumb", ...: the caller's storage key suffix
	MaxSide int    // longest side in pixels after orientation; never upscaled
	Quality int    // JPEG quality 1..100
}

// DefaultVariants are the versions shown to units and the public.
var DefaultVariants = []Variant{
	{Name: "large", MaxSide: 1280, Quality: 82},
	{Name: "thumb", MaxSide: 320, Quality: 75},
}

// Output is one derived image: always a metadata-free baseline JPEG, upright
// (orientation applied), Width×Height as displayed.
type Output struct {
	Name          string
	Data          []byte
	Width, Height int
	Mime          string
}
