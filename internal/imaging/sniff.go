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
