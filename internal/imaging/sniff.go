package imaging

import "bytes"

// SniffLen is the number of leading bytes Sniff and IsHEIC need to decide.
const SniffLen = 64

// Sniff identifies an image by its magic bytes, never by a file name or a
// client-declared type. head is the start of the file (SniffLen bytes are
// plenty). It reports image/jpeg, image/png or image/webp.
func Sniff(head []byte) (mime string, ok bool) {
	switch {
	case len(head) >= 3 && head[0] == 0xFF && head[1] == 0xD8 && head[2] == 0xFF:
		return MimeJPEG, true
	case len(head) >= 8 && string(head[:8]) == "\x89PNG\r\n\x1a\n":
		return MimePNG, true
	case len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "WEBP":
		return MimeWebP, true
	}
	return "", false
}

// heicBrands are ISO-BMFF brands of HEVC-coded HEIF images, what iPhones
// save by default.
var heicBrands = []string{"heic", "heix", "heim", "heis", "hevc", "hevx"}

// IsHEIC reports whether head starts an HEIF/HEIC file (ftyp box with a
// heic, heix, hevc or similar major brand, or the generic mif1/msf1 brands
// unless the compatible brands say it is really AVIF). The caller uses it to
// tell the citizen to pick "most compatible" in the phone's camera settings
// rather than to show a generic "unsupported format".
func IsHEIC(head []byte) bool {
	if len(head) < 12 || string(head[4:8]) != "ftyp" {
		return false
	}
	boxLen := int(uint32(head[0])<<24 | uint32(head[1])<<16 | uint32(head[2])<<8 | uint32(head[3]))
	if boxLen < 16 || boxLen > len(head) {
		boxLen = len(head) // read what is there; a short head still has the major brand
	}
	major := string(head[8:12])
	for _, b := range heicBrands {
		if major == b {
			return true
		}
	}
	if major != "mif1" && major != "msf1" {
		return false
	}
	// Compatible brands follow the 4-byte minor version.
	avif := false
	for i := 16; i+4 <= boxLen; i += 4 {
		b := head[i : i+4]
		for _, h := range heicBrands {
			if string(b) == h {
				return true
			}
		}
		if bytes.Equal(b, []byte("avif")) || bytes.Equal(b, []byte("avis")) {
			avif = true
		}
	}
	return !avif
}

// EndCheck watches an upload stream past (it is an io.Writer) and tells
// whether it ended as a whole file of its format does: a JPEG with an
// end-of-image marker after its first scan began, a PNG with its IEND
// chunk, a WebP as long as its RIFF header says. An upload cut short on a
// phone's network fails it; watching costs next to nothing. Data after
// the end (Samsung phones append their own after a JPEG's end marker) is
// allowed.
type EndCheck struct {
	mime      string
	mark      []byte // the bytes that end the format: a JPEG's EOI, a PNG's IEND chunk
	head      []byte
	scanStart int64 // JPEG: where the first scan's marker starts
	n         int64
	prev      []byte // the last bytes of the previous write
	ended     bool
}

// NewEndCheck watches an upload of type mime whose first bytes are head.
func NewEndCheck(mime string, head []byte) *EndCheck {
	e := &EndCheck{mime: mime, head: head}
	switch mime {
	case MimeJPEG:
		e.mark = []byte{0xff, 0xd9}
		e.scanStart = int64(jpegScanStart(head))
	case MimePNG:
		e.mark = []byte("IEND\xaeB`\x82")
	}
	return e
}

// Write watches p go by.
func (e *EndCheck) Write(p []byte) (int, error) {
	if e.mark != nil && !e.ended {
		// a mark split between the previous write and this one, then p
		k := len(e.mark) - 1
		seam := append(append(make([]byte, 0, 2*k), e.prev...), p[:min(len(p), k)]...)
		e.find(seam, e.n-int64(len(e.prev)))
		e.find(p, e.n)
		if len(p) >= k {
			e.prev = append(e.prev[:0], p[len(p)-k:]...)
		} else {
			e.prev = append(e.prev[:0], seam[max(0, len(seam)-k):]...)
		}
	}
	e.n += int64(len(p))
	return len(p), nil
}

// find looks for the end mark in b, which starts at offset base of the
// file.
func (e *EndCheck) find(b []byte, base int64) {
	for off := 0; !e.ended; {
		i := bytes.Index(b[off:], e.mark)
		if i < 0 {
			return
		}
		if at := base + int64(off+i); e.mime == MimePNG || at > e.scanStart {
			e.ended = true
		}
		off += i + 1
	}
}

// Complete reports whether the stream seen so far is a whole file.
func (e *EndCheck) Complete() bool {
	switch e.mime {
	case MimeJPEG, MimePNG:
		return e.ended
	case MimeWebP:
		if len(e.head) < 8 {
			return false
		}
		n := int64(e.head[4]) | int64(e.head[5])<<8 | int64(e.head[6])<<16 | int64(e.head[7])<<24
		return e.n >= n+8
	}
	return false
}

// jpegScanStart is the offset of the first start-of-scan marker in head
// (0 when head ends before it).
func jpegScanStart(b []byte) int {
	pos := 2
	for pos+4 <= len(b) {
		if b[pos] != 0xFF {
			return 0
		}
		mk := b[pos+1]
		if mk == 0xFF {
			pos++
			continue
		}
		if mk == 0xDA {
			return pos
		}
		if mk == 0xD8 || mk == 0x01 || (mk >= 0xD0 && mk <= 0xD7) {
			pos += 2
			continue
		}
		pos += 2 + (int(b[pos+2])<<8 | int(b[pos+3]))
	}
	return 0
}
