package photo

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"

	"chuangwen/internal/apperr"
	"chuangwen/internal/blob"
	"chuangwen/internal/imaging"
)

// DefaultMaxBytes is the default upload limit per photo.
const DefaultMaxBytes = 20 << 20

// metaPrefix is how much of an upload is kept in memory to read its EXIF
// (the APP1 segment sits at the start of a JPEG and is at most 64 KiB).
const metaPrefix = 128 << 10

// Store keeps photos in a blob store (a local folder or an S3
// bucket), never as database blobs. The original upload is private; units
// and the public only see derived versions (orientation applied, all
// metadata removed), made by the background worker.
type Store struct {
	Blobs    blob.Store
	MaxBytes int64
	// Variants are the derived sizes; DefaultVariants when empty.
	Variants []imaging.Variant
	Limits   imaging.Limits
}

// File is a stored photo, before it is tied to a case.
type File struct {
	Path   string // blob key of the original
	Mime   string
	Size   int64
	SHA256 string
	// Meta is what the original's EXIF says (orientation, GPS).
	Meta imaging.Meta
}

var photoExt = map[string]string{"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}

// limitReader fails once more than max bytes have been read, so that an
// oversized upload aborts the blob write instead of being cut short.
type limitReader struct {
	r   io.Reader
	n   int64
	max int64
	h   hash.Hash
	end *imaging.EndCheck // whether the file ends whole
}

func (l *limitReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	l.n += int64(n)
	l.h.Write(p[:n])
	if l.end != nil {
		l.end.Write(p[:n])
	}
	if l.n > l.max {
		return n, apperr.New(apperr.TooLarge, "photo.too_large", "mb", fmt.Sprint(l.max>>20))
	}
	return n, err
}

// Save stores one upload as a private original, checking its type from
// its first bytes (not its name) and its size as it streams. The write is
// atomic: a failed or oversized upload leaves nothing behind.
func (p *Store) Save(r io.Reader) (File, error) {
	return p.SaveContext(context.Background(), r)
}

// SaveContext is Save with a context for the blob store.
func (p *Store) SaveContext(ctx context.Context, r io.Reader) (File, error) {
	max := p.MaxBytes
	if max <= 0 {
		max = DefaultMaxBytes
	}
	br := bufio.NewReaderSize(r, metaPrefix)
	head, err := br.Peek(metaPrefix)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return File{}, fmt.Errorf("read upload: %w", err)
	}
	if len(head) == 0 {
		return File{}, apperr.New(apperr.Invalid, "photo.empty")
	}
	mime, ok := imaging.Sniff(head)
	if !ok {
		if imaging.IsHEIC(head) {
			return File{}, apperr.New(apperr.Unsupported, "photo.heic")
		}
		return File{}, apperr.New(apperr.Unsupported, "photo.bad_type")
	}
	meta, _ := imaging.ReadMeta(head) // best effort: a photo without EXIF is fine
	// A header that announces more pixels than a derivative may decode
	// (a 100,000 × 100,000 PNG of a few kilobytes) is refused now, not
	// found out by the worker after the case is filed.
	if limit := p.Limits.Pixels(); int64(meta.Width)*int64(meta.Height) > limit {
		return File{}, apperr.New(apperr.Invalid, "photo.too_many_pixels", "mp", fmt.Sprint(limit/1_000_000))
	}
	var rnd [12]byte
	_, _ = rand.Read(rnd[:])
	now := time.Now().UTC()
	key := "orig/" + now.Format("2006/01") + "/" + hex.EncodeToString(rnd[:]) + photoExt[mime]
	lr := &limitReader{r: br, max: max, h: sha256.New(), end: imaging.NewEndCheck(mime, head)}
	if err := p.Blobs.Put(ctx, key, lr, -1, mime); err != nil {
		var ae *apperr.Error
		if errors.As(err, &ae) {
			return File{}, ae
		}
		return File{}, fmt.Errorf("store photo: %w", err)
	}
	if !lr.end.Complete() {
		_ = p.Blobs.Delete(ctx, key)
		return File{}, apperr.New(apperr.Invalid, "photo.truncated")
	}
	return File{Path: key, Mime: mime, Size: lr.n, SHA256: hex.EncodeToString(lr.h.Sum(nil)), Meta: meta}, nil
}

// Open opens a stored object (an original or a derived version).
func (p *Store) Open(ctx context.Context, key string) (io.ReadCloser, int64, error) {
	rc, n, err := p.Blobs.Open(ctx, key)
	if errors.Is(err, blob.ErrNotFound) {
		return nil, 0, apperr.New(apperr.NotFound, "photo.not_found")
	}
	return rc, n, err
}

// Remove deletes stored originals whose case was never written (a
// refused request, or a replayed submission).
func (p *Store) Remove(files []File) {
	for _, f := range files {
		_ = p.Blobs.Delete(context.Background(), f.Path)
	}
}

func (p *Store) variants() []imaging.Variant {
	if len(p.Variants) > 0 {
		return p.Variants
	}
	return imaging.DefaultVariants
}
