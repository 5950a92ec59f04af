package imaging

import (
	"encoding/binary"
	"errors"
	"image"
	"math"
	"os"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

func TestReadMetaCommittedPhoto(t *testing.T) {
	data, err := os.ReadFile("testdata/gps.jpg")
	if err != nil {
		t.Fatal(err)
	}
	m, err := ReadMeta(data)
	if err != nil {
		t.Fatal(err)
	}
	if !m.HasGPS || !near(m.Lat, gpsLat) || !near(m.Lon, gpsLon) {
		t.Errorf("GPS = %v %v,%v, want %v,%v", m.HasGPS, m.Lat, m.Lon, gpsLat, gpsLon)
	}
	if m.Orientation != 6 || m.Width != 64 || m.Height != 48 {
		t.Errorf("orientation %d size %d×%d, want 6 and 64×48", m.Orientation, m.Width, m.Height)
	}
	if w, h := m.Displayed(); w != 48 || h != 64 {
		t.Errorf("Displayed() = %d×%d, want 48×64", w, h)
	}
}

func TestReadMeta(t *testing.T) {
	small := encodeStd(t, testPattern(8, 6), 80)
	pngSmall := encodePNG(t, image.NewGray(image.Rect(0, 0, 7, 5)))
	vp8lSmall := vp8l(5, 3, func(x, y int) (bool, bool, bool) { return quadrants(x, y, 5, 3) })
	southWest := exifSpec{bigEndian: true, orientation: 3, gps: true, lat: 33.8688, lon: 70.25, latRef: "S", lonRef: "W"}
	// A GPS IFD whose latitude rational points far outside the block.
	badOffset := buildTIFF(gpsSpec)
	{
		bo := binary.LittleEndian
		gps := bo.Uint32(badOffset[8+2+12*2+8:]) // IFD0: Make, Orientation, GPS pointer
		latEntry := int(gps) + 2 + 12*2
		bo.PutUint32(badOffset[latEntry+8:], 0xFFFFFFF0)
	}
	// A GPS seconds value with a zero denominator (not 0/0).
	zeroDen := buildTIFF(gpsSpec)
	{
		bo := binary.LittleEndian
		gps := bo.Uint32(zeroDen[8+2+12*2+8:])
		off := bo.Uint32(zeroDen[int(gps)+2+12*2+8:])
		bo.PutUint32(zeroDen[off+20:], 0)
	}
	// An IFD0 claiming 65535 entries.
	hugeCount := buildTIFF(gpsSpec)
	binary.LittleEndian.PutUint16(hugeCount[8:], 0xFFFF)

	for _, tc := range []struct {
		name        string
		data        []byte
		orientation int
		gps         bool
		lat, lon    float64
		w, h        int
		err         error
	}{
		{name: "jpeg without exif", data: small, w: 8, h: 6},
		{name: "jpeg big-endian south-west", data: withSegments(small, exifSegment(southWest)), orientation: 3, gps: true, lat: -33.8688, lon: -70.25, w: 8, h: 6},
		{name: "jpeg orientation only", data: withSegments(small, exifSegment(exifSpec{orientation: 8})), orientation: 8, w: 8, h: 6},
		{name: "jpeg invalid orientation", data: withSegments(small, exifSegment(exifSpec{orientation: 9})), w: 8, h: 6},
		{name: "jpeg GPS 0,0 is no fix", data: withSegments(small, exifSegment(exifSpec{gps: true, latRef: "N", lonRef: "E"})), w: 8, h: 6},
		{name: "jpeg bad GPS offset", data: withSegments(small, segment(0xE1, append([]byte("Exif\x00\x00"), badOffset...))), orientation: 6, w: 8, h: 6},
		{name: "jpeg zero denominator", data: withSegments(small, segment(0xE1, append([]byte("Exif\x00\x00"), zeroDen...))), orientation: 6, w: 8, h: 6},
		{name: "jpeg huge IFD count", data: withSegments(small, segment(0xE1, append([]byte("Exif\x00\x00"), hugeCount...))), orientation: 6, gps: true, lat: gpsLat, lon: gpsLon, w: 8, h: 6},
		{name: "jpeg XMP before EXIF", data: withSegments(small, segment(0xE1, xmpPacket), exifSegment(gpsSpec)), orientation: 6, gps: true, lat: gpsLat, lon: gpsLon, w: 8, h: 6},
		{name: "jpeg not TIFF", data: withSegments(small, segment(0xE1, []byte("Exif\x00\x00XX*\x00\x08\x00\x00\x00"))), w: 8, h: 6},
		{name: "png eXIf", data: withPNGChunk(pngSmall, "eXIf", buildTIFF(gpsSpec)), orientation: 6, gps: true, lat: gpsLat, lon: gpsLon, w: 7, h: 5},
		{name: "png without exif", data: pngSmall, w: 7, h: 5},
		{name: "webp EXIF", data: webpWithExif(5, 3, vp8lSmall, buildTIFF(southWest)), orientation: 3, gps: true, lat: -33.8688, lon: -70.25, w: 5, h: 3},
		{name: "webp EXIF with JPEG prefix", data: webpWithExif(5, 3, vp8lSmall, append([]byte("Exif\x00\x00"), buildTIFF(gpsSpec)...)), orientation: 6, gps: true, lat: gpsLat, lon: gpsLon, w: 5, h: 3},
		{name: "committed webp", data: mustRead(t, "testdata/gps.webp"), orientation: 6, gps: true, lat: gpsLat, lon: gpsLon, w: 40, h: 30},
		{name: "lossy webp", data: mustRead(t, "testdata/ref-lossy.webp"), w: 64, h: 48},
		{name: "jpeg truncated before SOF", data: small[:20], err: ErrCorrupt},
		{name: "not an image", data: []byte("hello, world"), err: ErrUnsupported},
		{name: "empty", data: nil, err: ErrUnsupported},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ReadMeta(tc.data)
			if !errors.Is(err, tc.err) || (tc.err == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if m.Orientation != tc.orientation || m.HasGPS != tc.gps || m.Width != tc.w || m.Height != tc.h {
				t.Errorf("got %+v, want orientation %d gps %v size %d×%d", m, tc.orientation, tc.gps, tc.w, tc.h)
			}
			if tc.gps && (!near(m.Lat, tc.lat) || !near(m.Lon, tc.lon)) {
				t.Errorf("position %v,%v, want %v,%v", m.Lat, m.Lon, tc.lat, tc.lon)
			}
		})
	}
}

// TestReadMetaTruncated reads every prefix of the fixtures: no panic, and
// once the EXIF block is whole, the same answer as for the whole file.
func TestReadMetaTruncated(t *testing.T) {
	for _, name := range []string{"testdata/gps.jpg", "testdata/gps.webp"} {
		data := mustRead(t, name)
		full, err := ReadMeta(data)
		if err != nil {
			t.Fatal(err)
		}
		for n := range data {
			m, _ := ReadMeta(data[:n])
			if m.HasGPS && (!near(m.Lat, full.Lat) || !near(m.Lon, full.Lon)) {
				t.Fatalf("%s[:%d]: wrong position %v,%v", name, n, m.Lat, m.Lon)
			}
		}
	}
}

func mustRead(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestSniff(t *testing.T) {
	for _, tc := range []struct {
		name string
		head []byte
		mime string
		heic bool
	}{
		{"jpeg", []byte{0xFF, 0xD8, 0xFF, 0xE0}, MimeJPEG, false},
		{"png", []byte("\x89PNG\r\n\x1a\n\x00\x00"), MimePNG, false},
		{"webp", []byte("RIFF\x10\x00\x00\x00WEBPVP8 "), MimeWebP, false},
		{"riff but wav", []byte("RIFF\x10\x00\x00\x00WAVEfmt "), "", false},
		{"gif", []byte("GIF89a"), "", false},
		{"short jpeg", []byte{0xFF, 0xD8}, "", false},
		{"empty", nil, "", false},
		{"heic", ftyp("heic", "mif1", "heic"), "", true},
		{"heix", ftyp("heix", "mif1"), "", true},
		{"hevc sequence", ftyp("hevc", "msf1"), "", true},
		{"mif1 with heic", ftyp("mif1", "mif1", "heic"), "", true},
		{"mif1 plain", ftyp("mif1", "mif1"), "", true},
		{"avif", ftyp("avif", "mif1", "avif"), "", false},
		{"mif1 avif", ftyp("mif1", "mif1", "avif"), "", false},
		{"mp4", ftyp("isom", "isom", "mp41"), "", false},
	} {
		mime, ok := Sniff(tc.head)
		if mime != tc.mime || ok != (tc.mime != "") {
			t.Errorf("%s: Sniff = %q %v, want %q", tc.name, mime, ok, tc.mime)
		}
		if got := IsHEIC(tc.head); got != tc.heic {
			t.Errorf("%s: IsHEIC = %v", tc.name, got)
		}
	}
}

// ftyp builds the ISO-BMFF file type box that starts HEIF and MP4 files.
func ftyp(major string, compatible ...string) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(16+4*len(compatible)))
	b = append(b, "ftyp"+major+"\x00\x00\x00\x00"...)
	for _, c := range compatible {
		b = append(b, c...)
	}
	return b
}
