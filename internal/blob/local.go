package blob

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// Local keeps objects as files under Dir, one file per key, the key's
// slashes becoming subdirectories.
//
// Every access goes through an os.Root opened on Dir, so neither a key nor a
// symbolic link planted inside Dir can reach a file outside it. Put writes a
// temporary file next to its destination, syncs its data (fdatasync on
// Linux), renames it over the destination and fsyncs the directory: after
// a crash the key holds the old content or the new, and an acknowledged Put
// survives a power cut like the database's commits do. Directories are created with mode 0o750 and files
// with 0o640 (both before the umask): originals are private, so the world gets
// nothing.
//
// Local ignores the content type; serve files with a type derived from the
// key's extension or from the content.
type Local struct {
	Dir string
}

const (
	localDirPerm  fs.FileMode = 0o750
	localFilePerm fs.FileMode = 0o640
	// tempPrefix starts every temporary file's name. ValidKey refuses segments
	// that start with a dot, so no key can name a temporary file.
	tempPrefix = ".tmp-"
)

// String describes the store for logs.
func (l Local) String() string { return "file://" + l.Dir }

func (l Local) root(create bool) (*os.Root, error) {
	if l.Dir == "" {
		return nil, errors.New("blob: local store has no directory")
	}
	if create {
		if err := os.MkdirAll(l.Dir, localDirPerm); err != nil {
			return nil, fmt.Errorf("blob: create store directory: %w", err)
		}
	}
	r, err := os.OpenRoot(l.Dir)
	if err != nil {
		return nil, fmt.Errorf("blob: open store directory: %w", err)
	}
	return r, nil
}

// Put implements Store.
func (l Local) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	if err := ValidKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("blob: put %q: %w", key, err)
	}
	root, err := l.root(true)
	if err != nil {
		return err
	}
	defer root.Close()
	if err := l.put(ctx, root, key, r, size); err != nil {
		return fmt.Errorf("blob: put %q: %w", key, err)
	}
	return nil
}

func (l Local) put(ctx context.Context, root *os.Root, key string, r io.Reader, size int64) error {
	dir := path.Dir(key)
	if err := mkdirAllSynced(root, dir); err != nil {
		return err
	}
	tmp := path.Join(dir, tempPrefix+rand.Text())
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, localFilePerm)
	if err != nil {
		return err
	}
	committed := false
	defer func() {
		if !committed {
			f.Close()
			root.Remove(tmp)
		}
	}()
	n, err := io.Copy(f, ctxReader{ctx, r})
	if err != nil {
		return err
	}
	if size >= 0 && n != size {
		return fmt.Errorf("content is %d bytes, announced %d", n, size)
	}
	if err := datasync(f); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	// A last look at ctx: a caller that gave up must not find the object
	// replaced after Put returned its error.
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := root.Rename(tmp, key); err != nil {
		return err
	}
	committed = true
	return syncDir(root, dir)
}

// mkdirAllSynced creates dir and its missing parents inside root, fsyncing
// the parent of each directory it creates so that the new entries are as
// durable as the file about to be renamed into them.
func mkdirAllSynced(root *os.Root, dir string) error {
	if dir == "." {
		return nil
	}
	if fi, err := root.Stat(dir); err == nil && fi.IsDir() {
		return nil
	}
	parent := path.Dir(dir)
	if err := mkdirAllSynced(root, parent); err != nil {
		return err
	}
	err := root.Mkdir(dir, localDirPerm)
	if errors.Is(err, fs.ErrExist) {
		return nil // made by a concurrent Put; its creator syncs the parent
	}
	if err != nil {
		return err
	}
	return syncDir(root, parent)
}

func syncDir(root *os.Root, dir string) error {
	d, err := root.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// Open implements Store. The returned reader is an *os.File, which callers
// may use as an io.ReadSeeker (http.ServeContent, for instance).
func (l Local) Open(ctx context.Context, key string) (io.ReadCloser, int64, error) {
	if err := ValidKey(key); err != nil {
		return nil, 0, err
	}
	if err := ctx.Err(); err != nil {
		return nil, 0, fmt.Errorf("blob: open %q: %w", key, err)
	}
	root, err := l.root(false)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, fmt.Errorf("blob: open %q: %w", key, ErrNotFound)
	}
	if err != nil {
		return nil, 0, err
	}
	defer root.Close() // files opened through a Root outlive it
	f, err := root.Open(key)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, fmt.Errorf("blob: open %q: %w", key, ErrNotFound)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("blob: open %q: %w", key, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("blob: open %q: %w", key, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, 0, fmt.Errorf("blob: open %q: %w", key, ErrNotFound)
	}
	return f, fi.Size(), nil
}

// Delete implements Store. Directories left empty are kept: removing them
// would race with a concurrent Put into the same directory.
func (l Local) Delete(ctx context.Context, key string) error {
	if err := ValidKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("blob: delete %q: %w", key, err)
	}
	root, err := l.root(false)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer root.Close()
	fi, err := root.Lstat(key)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("blob: delete %q: %w", key, err)
	}
	if fi.IsDir() {
		return nil // a directory is not an object
	}
	if err := root.Remove(key); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("blob: delete %q: %w", key, err)
	}
	return nil
}

// ctxReader stops a copy soon after ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// walk visits every entry under dir (none when dir does not exist),
// stopping when ctx ends.
func walk(ctx context.Context, dir string, fn func(p string, d fs.DirEntry) error) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fn(p, d)
	})
}

// RemoveStaleTemp removes the temporary files of writes that never
// finished (the process died between creating one and renaming it) that
// were last written before cutoff, and returns how many. A write in
// progress keeps writing its file, so a cutoff well in the past spares it.
func (l Local) RemoveStaleTemp(ctx context.Context, cutoff time.Time) (int, error) {
	removed := 0
	err := walk(ctx, l.Dir, func(p string, d fs.DirEntry) error {
		if d.IsDir() || !d.Type().IsRegular() || !strings.HasPrefix(d.Name(), tempPrefix) {
			return nil
		}
		info, err := d.Info()
		if err != nil || !info.ModTime().Before(cutoff) {
			return nil
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		removed++
		return nil
	})
	return removed, err
}

// List calls fn with the key and modification time of every object under
// prefix (a folder key such as "orig/"), in no particular order; it skips
// the temporary files of writes in progress.
func (l Local) List(ctx context.Context, prefix string, fn func(key string, mod time.Time) error) error {
	base := filepath.Join(l.Dir, filepath.FromSlash(strings.TrimSuffix(prefix, "/")))
	err := walk(ctx, base, func(p string, d fs.DirEntry) error {
		if strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		rel, err := filepath.Rel(l.Dir, p)
		if err != nil {
			return err
		}
		return fn(filepath.ToSlash(rel), info.ModTime())
	})
	return err
}
