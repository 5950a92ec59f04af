package imaging

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"testing"
)

// pngHeader is a PNG whose IHDR claims w×h at the given bit depth and
// colour type, with no image data after it.
func pngHeader(w, h uint32, depth, colorType byte) []byte {
	var b bytes.Buffer
	b.Write([]byte("\x89PNG\r\n\x1a\n"))
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = depth, colorType
	chunk := append([]byte("IHDR"), ihdr...)
	binary.Write(&b, binary.BigEndian, uint32(len(ihdr)))
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

// TestByteBudget: a 40-megapixel 16-bit RGBA PNG (8 bytes a pixel, 320 MB
// decoded) is refused before decoding although it is under the pixel
// limit; the same size at 8 bits passes the guard (and then fails as the
// truncated file it is).
func TestByteBudget(t *testing.T) {
	_, err := Derive(pngHeader(10000, 4000, 16, 6), DefaultVariants, Limits{})
	if !errors.Is(err, ErrTooManyPixels) {
		t.Fatalf("16-bit 40 MP PNG: %v, want ErrTooManyPixels", err)
	}
	_, err = Derive(pngHeader(10000, 4000, 8, 6), DefaultVariants, Limits{})
	if errors.Is(err, ErrTooManyPixels) || err == nil {
		t.Fatalf("8-bit 40 MP PNG header: %v, want a decode error, not the byte budget", err)
	}
}
