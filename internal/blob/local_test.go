package blob_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"chuangwen/internal/blob"
)

// tempFiles lists the leftovers of Put under dir.
func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), ".") && p != dir {
			found = append(found, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

func TestLocalAtomicity(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := blob.Local{Dir: dir}
	key := "orig/2026/11/ab12.jpg"
	old := data(1, 100_000)

	if err := s.Put(ctx, key, bytes.NewReader(old), int64(len(old)), "image/jpeg"); err != nil {
		t.Fatal(err)
	}
	if l := tempFiles(t, dir); len(l) != 0 {
		t.Fatalf("after a successful put: %v", l)
	}

	failures := []struct {
		name string
		// put makes one failing Put of key.
		put func(key string) error
	}{
		{"reader fails midway", func(key string) error {
			r := io.MultiReader(bytes.NewReader(data(2, 300_000)), iotest.ErrReader(errBoom))
			return s.Put(ctx, key, r, -1, "image/jpeg")
		}},
		{"content shorter than announced", func(key string) error {
			return s.Put(ctx, key, bytes.NewReader(data(2, 1000)), 2000, "image/jpeg")
		}},
		{"content longer than announced", func(key string) error {
			return s.Put(ctx, key, bytes.NewReader(data(2, 3000)), 2000, "image/jpeg")
		}},
		{"canceled midway", func(key string) error {
			ctx, cancel := context.WithCancel(ctx)
			defer cancel()
			return s.Put(ctx, key, cancelOnRead{bytes.NewReader(data(3, 500_000)), cancel}, -1, "image/jpeg")
		}},
	}
	for _, f := range failures {
		t.Run(f.name, func(t *testing.T) {
			for _, k := range []string{key, "orig/2026/12/new.jpg"} {
				if err := f.put(k); err == nil {
					t.Fatalf("put %q: no error", k)
				}
			}
			if l := tempFiles(t, dir); len(l) != 0 {
				t.Errorf("temporary files left: %v", l)
			}
			got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(key)))
			if err != nil || !bytes.Equal(got, old) {
				t.Errorf("existing object changed: %d bytes, %v", len(got), err)
			}
			if _, err := os.Stat(filepath.Join(dir, "orig/2026/12/new.jpg")); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("failed new object exists: %v", err)
			}
		})
	}
}

func TestLocalPermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "photos") // created by Put
	s := blob.Local{Dir: dir}
	if err := s.Put(context.Background(), "orig/2026/11/p.jpg", strings.NewReader("x"), 1, ""); err != nil {
		t.Fatal(err)
	}
	for p, max := range map[string]fs.FileMode{
		dir:                                      0o750,
		filepath.Join(dir, "orig"):               0o750,
		filepath.Join(dir, "orig/2026/11"):       0o750,
		filepath.Join(dir, "orig/2026/11/p.jpg"): 0o640,
	} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm&^max != 0 || perm&0o600 != 0o600 {
			t.Errorf("%s: mode %v, want within %v (the umask may clear bits)", p, perm, max)
		}
	}
}

// Neither a key nor a symbolic link inside the store leads outside it.
func TestLocalStaysInsideDir(t *testing.T) {
	ctx := context.Background()
	base := t.TempDir()
	dir := filepath.Join(base, "store")
	outside := filepath.Join(base, "outside")
	for _, d := range []string{dir, outside} {
		if err := os.Mkdir(d, 0o750); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(outside, "secret.txt"), []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Links planted in the store: relative and absolute, to a directory and to
	// a file outside.
	if err := os.Symlink("../outside", filepath.Join(dir, "rel")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "abs")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../outside/secret.txt", filepath.Join(dir, "file.txt")); err != nil {
		t.Fatal(err)
	}
	s := blob.Local{Dir: dir}
	for _, key := range []string{"rel/secret.txt", "abs/secret.txt", "file.txt"} {
		if rc, _, err := s.Open(ctx, key); err == nil {
			b, _ := io.ReadAll(rc)
			rc.Close()
			t.Errorf("open %q through a link read %q", key, b)
		}
	}
	for _, key := range []string{"rel/x.jpg", "abs/x.jpg", "rel/secret.txt", "abs/secret.txt"} {
		if err := s.Put(ctx, key, strings.NewReader("pwned"), 5, ""); err == nil {
			t.Errorf("put %q through a link: no error", key)
		}
		s.Delete(ctx, key)
	}
	// Put over a link replaces the link, not its target.
	if err := s.Put(ctx, "file.txt", strings.NewReader("inside"), 6, ""); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(filepath.Join(dir, "file.txt")); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("file.txt after put: %v, %v", fi, err)
	}
	if err := s.Delete(ctx, "file.txt"); err != nil {
		t.Error(err)
	}
	entries, _ := os.ReadDir(outside)
	if len(entries) != 1 {
		t.Errorf("outside directory now holds %d entries", len(entries))
	}
	got, _ := os.ReadFile(filepath.Join(outside, "secret.txt"))
	if string(got) != "secret" {
		t.Errorf("outside file now %q", got)
	}
}

func TestLocalMissingDir(t *testing.T) {
	ctx := context.Background()
	s := blob.Local{Dir: filepath.Join(t.TempDir(), "not", "yet")}
	if _, _, err := s.Open(ctx, "a.jpg"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("open: %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, "a.jpg"); err != nil {
		t.Errorf("delete: %v", err)
	}
	if err := s.Put(ctx, "a.jpg", strings.NewReader("a"), 1, ""); err != nil {
		t.Fatalf("put creates the directory: %v", err)
	}
	if err := (blob.Local{}).Put(ctx, "a.jpg", strings.NewReader("a"), 1, ""); err == nil {
		t.Error("Local without Dir: no error")
	}
}

// Open hands back the file itself, so that http.ServeContent can seek in it.
func TestLocalOpenSeekable(t *testing.T) {
	ctx := context.Background()
	s := blob.Local{Dir: t.TempDir()}
	if err := s.Put(ctx, "a/b.jpg", strings.NewReader("0123456789"), 10, ""); err != nil {
		t.Fatal(err)
	}
	rc, _, err := s.Open(ctx, "a/b.jpg")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	rs, ok := rc.(io.ReadSeeker)
	if !ok {
		t.Fatalf("%T is no io.ReadSeeker", rc)
	}
	if _, err := rs.Seek(7, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(rs); string(b) != "789" {
		t.Fatalf("read %q after seek", b)
	}
}

func BenchmarkLocalPut(b *testing.B) {
	ctx := context.Background()
	s := blob.Local{Dir: b.TempDir()}
	content := data(1, 2<<20) // a typical phone photo
	b.SetBytes(int64(len(content)))
	for b.Loop() {
		if err := s.Put(ctx, "orig/2026/11/bench.jpg", bytes.NewReader(content), int64(len(content)), "image/jpeg"); err != nil {
			b.Fatal(err)
		}
	}
}
