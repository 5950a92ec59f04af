package photo

import (
	"context"
	"io"
)

// Uploads are the photos one request stores before its case is written.
// Unless Keep is called, Close removes them, so a refused or failed
// request leaves no file behind whichever way it ends:
//
//	up := photos.NewUploads()
//	defer up.Close()
//	f, err := up.Save(ctx, r) // ... write the case with up.Files()
//	up.Keep()
type Uploads struct {
	store *Store
	files []File
	kept  bool
}

// NewUploads starts the uploads of one request.
func (p *Store) NewUploads() *Uploads { return &Uploads{store: p} }

// Save stores one upload (see Store.SaveContext) and keeps it with the
// request's others.
func (u *Uploads) Save(ctx context.Context, r io.Reader) (File, error) {
	f, err := u.store.SaveContext(ctx, r)
	if err == nil {
		u.files = append(u.files, f)
	}
	return f, err
}

// Files are the photos stored so far.
func (u *Uploads) Files() []File { return u.files }

// Keep marks the photos as belonging to a written case.
func (u *Uploads) Keep() { u.kept = true }

// Close removes the photos unless they were kept.
func (u *Uploads) Close() {
	if !u.kept {
		u.store.Remove(u.files)
		u.files = nil
	}
}
