package workflow

import (
	"bufio"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"chuangwen/internal/apperr"
)

// DefaultMaxPhotoBytes is the default upload limit per photo.
const DefaultMaxPhotoBytes = 20 << 20

// PhotoStore keeps photos as files under Dir (never as database blobs).
// Writes are atomic: a temp file is written and fsynced, then renamed into
// place, so a crash leaves either the whole photo or none.
type PhotoStore struct {
	Dir      string
	MaxBytes int64
}

// PhotoFile is a stored photo, before it is tied to a case.
type PhotoFile struct {
	Path   string // relative to Dir
	Mime   string
	Size   int64
	SHA256 string
}

var photoExt = map[string]string{"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}

// Save stores one upload, checking its type from its first bytes (not its
// name) and its size as it streams.
func (p *PhotoStore) Save(r io.Reader) (PhotoFile, error) {
	max := p.MaxBytes
	if max <= 0 {
		max = DefaultMaxPhotoBytes
	}
	br := bufio.NewReaderSize(r, 512)
	head, err := br.Peek(512)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return PhotoFile{}, fmt.Errorf("read upload: %w", err)
	}
	if len(head) == 0 {
		return PhotoFile{}, apperr.New(apperr.Invalid, "photo.empty")
	}
	mime := http.DetectContentType(head)
	ext, ok := photoExt[mime]
	if !ok {
		if isHEIC(head) {
			return PhotoFile{}, apperr.New(apperr.Unsupported, "photo.heic")
		}
		return PhotoFile{}, apperr.New(apperr.Unsupported, "photo.bad_type")
	}
	now := time.Now().UTC()
	dir := filepath.Join(p.Dir, now.Format("2006"), now.Format("01"))
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return PhotoFile{}, err
	}
	tmp, err := os.CreateTemp(dir, ".upload-*")
	if err != nil {
		return PhotoFile{}, err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(br, max+1))
	if err == nil && n > max {
		err = apperr.New(apperr.TooLarge, "photo.too_large", "mb", fmt.Sprint(max>>20))
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return PhotoFile{}, err
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	name := hex.EncodeToString(rnd[:]) + ext
	if err := os.Rename(tmp.Name(), filepath.Join(dir, name)); err != nil {
		return PhotoFile{}, err
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // make the rename itself durable
		d.Close()
	}
	rel := filepath.ToSlash(filepath.Join(now.Format("2006"), now.Format("01"), name))
	return PhotoFile{Path: rel, Mime: mime, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// isHEIC recognises the ISO-BMFF brand of HEIC/HEIF photos (iPhones), so
// the user is told that format is not supported yet rather than "not an
// image".
func isHEIC(head []byte) bool {
	if len(head) < 12 || string(head[4:8]) != "ftyp" {
		return false
	}
	brand := string(head[8:12])
	return strings.HasPrefix(brand, "hei") || strings.HasPrefix(brand, "mif") || brand == "hevc"
}

// Open opens a stored photo for reading.
func (p *PhotoStore) Open(rel string) (*os.File, error) {
	clean := filepath.Clean(filepath.FromSlash(rel))
	if strings.HasPrefix(clean, "..") || filepath.IsAbs(clean) {
		return nil, apperr.New(apperr.NotFound, "photo.not_found")
	}
	return os.Open(filepath.Join(p.Dir, clean))
}

// Remove deletes stored files whose case was never written.
func (p *PhotoStore) Remove(files []PhotoFile) {
	for _, f := range files {
		_ = os.Remove(filepath.Join(p.Dir, filepath.FromSlash(f.Path)))
	}
}
