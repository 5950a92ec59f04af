package photo_test

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"

	"chuangwen/internal/apperr"
	"chuangwen/internal/blob"
	"chuangwen/internal/photo"
)

// TestSaveRefusesWhatCannotBeAPhoto: an upload cut short (a JPEG without
// an end marker after its scan began, a PNG without its IEND chunk, a WebP
// shorter than its header says) and a header announcing more pixels than a derivative may
// decode (a 100,000 × 100,000 PNG, a 20,000 × 20,000 one) are refused at
// intake with a message, and leave no file; whole photos pass, also with
// data after their end (as Samsung phones write) or an EXIF thumbnail's
// end marker before their scan.
func TestSaveRefusesWhatCannotBeAPhoto(t *testing.T) {
	dir := t.TempDir()
	st := &photo.Store{Blobs: blob.Local{Dir: dir}}
	var jb bytes.Buffer
	if err := jpeg.Encode(&jb, image.NewGray(image.Rect(0, 0, 64, 48)), nil); err != nil {
		t.Fatal(err)
	}
	whole := jb.Bytes()
	png := pngBytes(t, 9)
	// a PNG whose IHDR announces w×h, with a valid CRC and an empty image
	bomb := func(w, h uint32) []byte {
		var b bytes.Buffer
		b.WriteString("\x89PNG\r\n\x1a\n")
		chunk := func(typ string, data []byte) {
			_ = binary.Write(&b, binary.BigEndian, uint32(len(data)))
			b.WriteString(typ)
			b.Write(data)
			_ = binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(typ), data...)))
		}
		ihdr := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, w), h)
		chunk("IHDR", append(ihdr, 8, 0, 0, 0, 0))
		chunk("IEND", nil)
		return b.Bytes()
	}
	webp := func(declared uint32, body int) []byte {
		b := []byte("RIFF")
		b = binary.LittleEndian.AppendUint32(b, declared)
		b = append(b, "WEBPVP8 "...)
		return append(b, make([]byte, body)...)
	}
	// A JPEG whose APP1 segment (where an EXIF thumbnail sits, with end
	// markers of its own) holds FF D9: cut short, it is still refused.
	app1 := append([]byte{0xFF, 0xE1, 0x00, 0x0A}, []byte("Exif\x00\x00\xff\xd9")...)
	withThumb := append(append(append([]byte{}, whole[:2]...), app1...), whole[2:]...)
	for _, tc := range []struct {
		name string
		data []byte
		key  string // the refusal's message key; "" for accepted
	}{
		{"whole JPEG", whole, ""},
		{"whole PNG", png, ""},
		{"JPEG with data after its end (Samsung)", append(append([]byte{}, whole...), bytes.Repeat([]byte("SEFH"), 40000)...), ""},
		{"JPEG with a thumbnail's end marker", withThumb, ""},
		{"JPEG cut short", whole[:len(whole)-40], "photo.truncated"},
		{"JPEG with a thumbnail's end marker, cut short", withThumb[:len(withThumb)-40], "photo.truncated"},
		{"PNG cut short", png[:len(png)-5], "photo.truncated"},
		{"WebP shorter than its header", webp(4000, 100), "photo.truncated"},
		{"PNG of 100,000 × 100,000", bomb(100000, 100000), "photo.too_many_pixels"},
		{"PNG of 20,000 × 20,000", bomb(20000, 20000), "photo.too_many_pixels"},
	} {
		before := countFiles(t, dir)
		_, err := st.Save(bytes.NewReader(tc.data))
		ae, isApp := apperr.As(err)
		switch {
		case tc.key == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.key != "" && !(isApp && ae.Key == tc.key && ae.Code == apperr.Invalid):
			t.Errorf("%s: %v, want %s", tc.name, err, tc.key)
		case tc.key != "" && countFiles(t, dir) != before:
			t.Errorf("%s: a file was left behind", tc.name)
		}
	}
}

func countFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	err := filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			n++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
