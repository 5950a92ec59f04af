package imaging

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Meta is what the server wants to know about an upload besides its pixels.
type Meta struct {
	// Orientation is the EXIF orientation, 1..8 (1 = upright), 0 when the
	// file carries none or an invalid one (treated as 1).
	Orientation int
	// HasGPS tells whether Lat/Lon hold a usable EXIF GPS position (WGS-84
	// as the phone wrote it; 0,0 is taken as "no fix" and dropped).
	HasGPS   bool
	Lat, Lon float64
	// Width and Height are the stored pixel dimensions, before orientation;
	// see Displayed.
	Width, Height int
}

// Displayed returns the width and height as the photo is shown, with
// Orientation applied (5..8 turn it a quarter).
func (m Meta) Displayed() (w, h int) {
	if m.Orientation >= 5 && m.Orientation <= 8 {
		return m.Height, m.Width
	}
	return m.Width, m.Height
}

// ReadMeta reads the dimensions, EXIF orientation and EXIF GPS position of a
// JPEG (APP1 "Exif"), WebP (EXIF chunk) or PNG (eXIf chunk) without decoding
// pixels. A malformed EXIF block is ignored (the fields stay zero): metadata
// is a convenience, never a reason to refuse a photo. The error is
// ErrUnsupported for other formats and ErrCorrupt when the dimensions could
// not be found; Meta then still holds whatever was read.
func ReadMeta(data []byte) (Meta, error) {
	mime, ok := Sniff(data)
	if !ok {
		return Meta{}, ErrUnsupported
	}
	var m Meta
	switch mime {
	case MimeJPEG:
		jpegMeta(data, &m)
	case MimePNG:
		pngMeta(data, &m)
	case MimeWebP:
		webpMeta(data, &m)
	}
	if m.Width <= 0 || m.Height <= 0 {
		m.Width, m.Height = 0, 0
		return m, fmt.Errorf("%w: no image header found", ErrCorrupt)
	}
	return m, nil
}

// jpegMeta walks the marker segments before the first scan.
func jpegMeta(b []byte, m *Meta) {
	exifSeen := false
	pos := 2
	for pos+2 <= len(b) {
		if b[pos] != 0xFF {
			return
		}
		mk := b[pos+1]
		if mk == 0xFF { // fill byte
			pos++
			continue
		}
		pos += 2
		if mk == 0xD8 || mk == 0x01 || (mk >= 0xD0 && mk <= 0xD7) {
			continue // markers without a length
		}
		if mk == 0xD9 || mk == 0xDA || pos+2 > len(b) {
			return
		}
		n := int(binary.BigEndian.Uint16(b[pos:]))
		if n < 2 {
			return
		}
		end := min(pos+n, len(b))
		seg := b[pos+2 : end]
		switch {
		case mk == 0xE1 && !exifSeen && len(seg) >= 6 && string(seg[:5]) == "Exif\x00":
			exifSeen = true
			parseTIFF(seg[6:], m)
		case isSOF(mk) && len(seg) >= 5:
			m.Height = int(binary.BigEndian.Uint16(seg[1:]))
			m.Width = int(binary.BigEndian.Uint16(seg[3:]))
		}
		pos = end
	}
}

// isSOF reports the start-of-frame markers (all coding processes).
func isSOF(mk byte) bool {
	return mk >= 0xC0 && mk <= 0xCF && mk != 0xC4 && mk != 0xC8 && mk != 0xCC
}

// pngMeta walks PNG chunks; lengths are checked against what is there.
func pngMeta(b []byte, m *Meta) {
	pos := 8
	for pos+8 <= len(b) {
		n := uint64(binary.BigEndian.Uint32(b[pos:]))
		typ := string(b[pos+4 : pos+8])
		start := pos + 8
		if n > uint64(len(b)-start) {
			return
		}
		data := b[start : start+int(n)]
		switch typ {
		case "IHDR":
			if len(data) >= 8 {
				m.Width = clampDim(binary.BigEndian.Uint32(data))
				m.Height = clampDim(binary.BigEndian.Uint32(data[4:]))
			}
		case "eXIf":
			parseTIFF(data, m)
		case "IEND":
			return
		}
		pos = start + int(n) + 4 // CRC
	}
}

// webpMeta walks the RIFF chunks of a WebP file.
func webpMeta(b []byte, m *Meta) {
	pos := 12
	vp8x := false
	for pos+8 <= len(b) {
		fourcc := string(b[pos : pos+4])
		n := uint64(binary.LittleEndian.Uint32(b[pos+4:]))
		start := pos + 8
		if n > uint64(len(b)-start) {
			n = uint64(len(b) - start) // a truncated last chunk: read what is there
		}
		data := b[start : start+int(n)]
		switch fourcc {
		case "VP8X":
			if len(data) >= 10 {
				vp8x = true
				m.Width = int(uint32(data[4])|uint32(data[5])<<8|uint32(data[6])<<16) + 1
				m.Height = int(uint32(data[7])|uint32(data[8])<<8|uint32(data[9])<<16) + 1
			}
		case "VP8 ":
			// Frame tag (3 bytes), start code 9d 01 2a, then 14-bit sizes.
			if !vp8x && len(data) >= 10 && data[3] == 0x9d && data[4] == 0x01 && data[5] == 0x2a {
				m.Width = int(binary.LittleEndian.Uint16(data[6:]) & 0x3fff)
				m.Height = int(binary.LittleEndian.Uint16(data[8:]) & 0x3fff)
			}
		case "VP8L":
			if !vp8x && len(data) >= 5 && data[0] == 0x2f {
				v := binary.LittleEndian.Uint32(data[1:])
				m.Width = int(v&0x3fff) + 1
				m.Height = int(v>>14&0x3fff) + 1
			}
		case "EXIF":
			// Some writers keep the JPEG APP1 prefix inside the chunk.
			if len(data) >= 6 && string(data[:6]) == "Exif\x00\x00" {
				data = data[6:]
			}
			parseTIFF(data, m)
		}
		pos = start + int(n) + int(n&1)
	}
}

func clampDim(v uint32) int {
	if v > 1<<30 {
		return 1 << 30
	}
	return int(v)
}

// TIFF structure as used by EXIF.
const (
	tagOrientation  = 0x0112
	tagGPSIFD       = 0x8825
	tagGPSLatRef    = 1
	tagGPSLat       = 2
	tagGPSLonRef    = 3
	tagGPSLon       = 4
	typeASCII       = 2
	typeShort       = 3
	typeLong        = 4
	typeRational    = 5
	typeSRational   = 10
	maxIFDEntries   = 512 // real IFD0s have a few dozen; bounds a hostile count
	tiffHeaderBytes = 8
)

type tiffData struct {
	b  []byte
	bo binary.ByteOrder
}

type ifdEntry struct {
	tag, typ uint16
	count    uint32
	field    []byte // the 4-byte value/offset field
}

var typeSizes = [...]uint64{1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8}

// value returns the bytes of e's value, inline or at its offset, or nil when
// they are not all inside the TIFF block.
func (t tiffData) value(e ifdEntry) []byte {
	if int(e.typ) >= len(typeSizes) || typeSizes[e.typ] == 0 {
		return nil
	}
	size := typeSizes[e.typ] * uint64(e.count)
	if size <= 4 {
		return e.field[:size]
	}
	off := uint64(t.bo.Uint32(e.field))
	if off+size > uint64(len(t.b)) {
		return nil
	}
	return t.b[off : off+size]
}

// entries returns the entries of the IFD at off that lie inside the block.
// Only IFD0 and the GPS IFD are read, by explicit offsets, so a hostile
// offset chain cannot make this loop.
func (t tiffData) entries(off uint32) []ifdEntry {
	if uint64(off)+2 > uint64(len(t.b)) || off < tiffHeaderBytes {
		return nil
	}
	n := int(t.bo.Uint16(t.b[off:]))
	n = min(n, maxIFDEntries, (len(t.b)-int(off)-2)/12)
	out := make([]ifdEntry, 0, n)
	p := int(off) + 2
	for range n {
		e := t.b[p : p+12]
		out = append(out, ifdEntry{
			tag:   t.bo.Uint16(e),
			typ:   t.bo.Uint16(e[2:]),
			count: t.bo.Uint32(e[4:]),
			field: e[8:12],
		})
		p += 12
	}
	return out
}

// parseTIFF fills m.Orientation and the GPS fields from an EXIF TIFF block.
func parseTIFF(b []byte, m *Meta) {
	if len(b) < tiffHeaderBytes {
		return
	}
	t := tiffData{b: b}
	switch string(b[:4]) {
	case "II*\x00":
		t.bo = binary.LittleEndian
	case "MM\x00*":
		t.bo = binary.BigEndian
	default:
		return
	}
	var gpsOff uint32
	for _, e := range t.entries(t.bo.Uint32(b[4:])) {
		switch e.tag {
		case tagOrientation:
			v := t.value(e)
			o := 0
			switch {
			case e.typ == typeShort && len(v) >= 2:
				o = int(t.bo.Uint16(v))
			case e.typ == typeLong && len(v) >= 4:
				o = int(t.bo.Uint32(v))
			}
			if o >= 1 && o <= 8 {
				m.Orientation = o
			}
		case tagGPSIFD:
			if (e.typ == typeLong || e.typ == 13 /* IFD */) && e.count == 1 {
				gpsOff = t.bo.Uint32(e.field)
			}
		}
	}
	if gpsOff == 0 {
		return
	}
	var latRef, lonRef byte
	var lat, lon float64
	latOK, lonOK := false, false
	for _, e := range t.entries(gpsOff) {
		switch e.tag {
		case tagGPSLatRef, tagGPSLonRef:
			v := t.value(e)
			if e.typ != typeASCII || len(v) == 0 {
				continue
			}
			if e.tag == tagGPSLatRef {
				latRef = v[0]
			} else {
				lonRef = v[0]
			}
		case tagGPSLat:
			lat, latOK = t.degrees(e)
		case tagGPSLon:
			lon, lonOK = t.degrees(e)
		}
	}
	if !latOK || !lonOK || lat > 90 || lon > 180 || (lat == 0 && lon == 0) {
		return
	}
	switch latRef {
	case 'S', 's':
		lat = -lat
	case 'N', 'n', 0:
	default:
		return
	}
	switch lonRef {
	case 'W', 'w':
		lon = -lon
	case 'E', 'e', 0:
	default:
		return
	}
	m.HasGPS, m.Lat, m.Lon = true, lat, lon
}

// degrees reads a GPSLatitude/GPSLongitude value: up to three rationals,
// degrees, minutes and seconds.
func (t tiffData) degrees(e ifdEntry) (float64, bool) {
	if (e.typ != typeRational && e.typ != typeSRational) || e.count == 0 {
		return 0, false
	}
	v := t.value(e)
	if v == nil {
		return 0, false
	}
	total := 0.0
	for i, div := range []float64{1, 60, 3600} {
		if (i+1)*8 > len(v) {
			break
		}
		var num, den float64
		if e.typ == typeRational {
			num, den = float64(t.bo.Uint32(v[i*8:])), float64(t.bo.Uint32(v[i*8+4:]))
		} else {
			num, den = float64(int32(t.bo.Uint32(v[i*8:]))), float64(int32(t.bo.Uint32(v[i*8+4:])))
		}
		switch {
		case den == 0 && num == 0: // "unknown" seconds some phones write
			continue
		case den == 0:
			return 0, false
		}
		x := num / den
		if x < 0 || math.IsNaN(x) || math.IsInf(x, 0) {
			return 0, false
		}
		total += x / div
	}
	return total, true
}
