package blob

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"net/http"
	"path"
	"strings"
	"time"
	"unicode/utf8"
)

// Documents: the files units upload as evidence (assessment material,
// task progress): PDF, JPEG, PNG and the Office formats, told by their
// first bytes, never by the name alone.

var (
	// ErrDocumentType is returned by PutDocument for a file of another kind.
	ErrDocumentType = errors.New("blob: not an accepted document type")
	// ErrDocumentTooLarge is returned by PutDocument past its size bound.
	ErrDocumentTooLarge = errors.New("blob: document too large")
	// ErrDocumentEmpty is returned by PutDocument for an empty file.
	ErrDocumentEmpty = errors.New("blob: empty document")
)

// documentTypes are the accepted files by the type their first bytes show.
var documentTypes = map[string]string{
	"application/pdf": ".pdf",
	"image/jpeg":      ".jpg",
	"image/png":       ".png",
}

// officeTypes are the Office formats, zips told apart by their name.
var officeTypes = map[string]string{
	".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}

// Document is a stored document.
type Document struct {
	Key    string
	Name   string // the uploader's file name, cleaned
	Mime   string
	Size   int64
	SHA256 string
}

// CleanName is a file name as the uploader gave it, reduced to its base
// name; def when nothing usable is left.
func CleanName(name, def string) string {
	name = path.Base(strings.ReplaceAll(strings.TrimSpace(name), `\`, "/"))
	if name == "." || name == "/" || name == "" || !utf8.ValidString(name) || len(name) > 200 {
		return def
	}
	return name
}

// PutDocument stores the document r (named name by the uploader) under
// prefix/YYYY/MM/<random><ext>, at most max bytes, and returns what was
// stored. Nothing is left behind when it fails.
func PutDocument(ctx context.Context, s Store, prefix, name string, r io.Reader, max int64, now time.Time) (Document, error) {
	d := Document{Name: CleanName(name, "document")}
	br := bufio.NewReaderSize(r, 512)
	head, _ := br.Peek(512)
	if len(head) == 0 {
		return d, ErrDocumentEmpty
	}
	mime := http.DetectContentType(head)
	if i := strings.IndexByte(mime, ';'); i >= 0 {
		mime = mime[:i]
	}
	ext, ok := documentTypes[mime]
	if !ok && mime == "application/zip" {
		e := strings.ToLower(path.Ext(d.Name))
		if t, office := officeTypes[e]; office {
			mime, ext, ok = t, e, true
		}
	}
	if !ok {
		return d, ErrDocumentType
	}
	var rnd [12]byte
	_, _ = rand.Read(rnd[:])
	d.Key = prefix + "/" + now.Format("2006/01") + "/" + hex.EncodeToString(rnd[:]) + ext
	cr := &countingHash{r: br, h: sha256.New(), max: max}
	if err := s.Put(ctx, d.Key, cr, -1, mime); err != nil {
		if cr.n > max {
			return d, ErrDocumentTooLarge
		}
		return d, err
	}
	d.Mime, d.Size, d.SHA256 = mime, cr.n, hex.EncodeToString(cr.h.Sum(nil))
	return d, nil
}

// countingHash reads at most max bytes, hashing and counting them.
type countingHash struct {
	r   io.Reader
	h   hash.Hash
	n   int64
	max int64
}

func (c *countingHash) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	c.h.Write(p[:n])
	if c.n > c.max {
		return n, ErrDocumentTooLarge
	}
	return n, err
}
