package photo_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"chuangwen/internal/blob"
	"chuangwen/internal/photo"
	"chuangwen/internal/store"
	"chuangwen/internal/testcity"
	"chuangwen/internal/workflow"
)

func pngBytes(t *testing.T, shade uint8) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for i := range img.Pix {
		img.Pix[i] = shade
	}
	img.Set(0, 0, color.RGBA{R: 255, A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// age sets a stored file's modification time back by d.
func age(t *testing.T, dir, key string, d time.Duration) {
	t.Helper()
	old := time.Now().Add(-d)
	if err := os.Chtimes(filepath.Join(dir, filepath.FromSlash(key)), old, old); err != nil {
		t.Fatal(err)
	}
}

func exists(dir, key string) bool {
	_, err := os.Stat(filepath.Join(dir, filepath.FromSlash(key)))
	return err == nil
}

// TestUploadsRemovedUnlessKept: a request's photos go when it fails and
// stay when its case is written.
func TestUploadsRemovedUnlessKept(t *testing.T) {
	dir := t.TempDir()
	st := &photo.Store{Blobs: blob.Local{Dir: dir}}
	ctx := context.Background()

	up := st.NewUploads()
	a, err := up.Save(ctx, bytes.NewReader(pngBytes(t, 10)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := up.Save(ctx, bytes.NewReader([]byte("not an image"))); err == nil {
		t.Fatal("a text file was stored as a photo")
	}
	if n := len(up.Files()); n != 1 {
		t.Fatalf("%d files after one good and one bad upload", n)
	}
	up.Close()
	if exists(dir, a.Path) {
		t.Error("a failed request's photo stayed")
	}

	up = st.NewUploads()
	b, err := up.Save(ctx, bytes.NewReader(pngBytes(t, 20)))
	if err != nil {
		t.Fatal(err)
	}
	up.Keep()
	up.Close()
	if !exists(dir, b.Path) {
		t.Error("a kept photo was removed")
	}
}

// TestSweepRemovesOnlyOldUnreferencedFiles: files no photo row names go
// once older than the grace period; referenced originals and derived
// versions, and recent files (an upload whose case is being written),
// stay.
func TestSweepRemovesOnlyOldUnreferencedFiles(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		city := testcity.New(t, db)
		ctx := context.Background()
		dir := t.TempDir()
		st := &photo.Store{Blobs: blob.Local{Dir: dir}}
		city.Flow.Photos = st
		city.Flow.PhotoJobs.Store = st

		kept, err := st.Save(bytes.NewReader(pngBytes(t, 30)))
		if err != nil {
			t.Fatal(err)
		}
		c, err := city.Flow.Report(ctx, city.Acceptor, workflow.NewCase{Source: workflow.SourceCitizen, CategoryID: city.Cat4h.ID,
			Description: "路边暴露垃圾", RegionID: city.Community1.ID, Photos: []photo.File{kept}})
		if err != nil {
			t.Fatal(err)
		}
		if n, err := city.Flow.PhotoJobs.Derive(ctx, "test"); err != nil || n != 1 {
			t.Fatalf("derive: %d %v", n, err)
		}
		got, err := city.Flow.Get(ctx, city.Acceptor, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		ps := got.Photos
		if len(ps) != 1 || ps[0].LargePath == "" || ps[0].ThumbPath == "" {
			t.Fatalf("photos of the case: %+v", ps)
		}
		orphanOld, _ := st.Save(bytes.NewReader(pngBytes(t, 40)))
		orphanNew, _ := st.Save(bytes.NewReader(pngBytes(t, 50)))
		if err := st.Blobs.Put(ctx, "derived/9/9999-large.jpg", bytes.NewReader([]byte("x")), 1, "image/jpeg"); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{kept.Path, ps[0].LargePath, ps[0].ThumbPath, orphanOld.Path, "derived/9/9999-large.jpg"} {
			age(t, dir, k, 48*time.Hour)
		}

		// Temporary files of writes a crash cut short: an old one (which
		// may hold a reporter's original) and one being written now.
		for name, ago := range map[string]time.Duration{"orig/2026/11/.tmp-CRASHED": 2 * time.Hour, "orig/2026/11/.tmp-WRITING": 0} {
			p := filepath.Join(dir, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte("partial upload"), 0o600); err != nil {
				t.Fatal(err)
			}
			if ago > 0 {
				age(t, dir, name, ago)
			}
		}

		n, err := city.Flow.PhotoJobs.Sweep(ctx, 24*time.Hour)
		if err != nil || n != 3 {
			t.Fatalf("sweep removed %d (%v), want the old orphan original and derived file and the old temporary file", n, err)
		}
		if exists(dir, "orig/2026/11/.tmp-CRASHED") || !exists(dir, "orig/2026/11/.tmp-WRITING") {
			t.Errorf("temporary files after the sweep: old one %v, new one %v", exists(dir, "orig/2026/11/.tmp-CRASHED"), exists(dir, "orig/2026/11/.tmp-WRITING"))
		}
		for _, k := range []string{kept.Path, ps[0].LargePath, ps[0].ThumbPath, orphanNew.Path} {
			if !exists(dir, k) {
				t.Errorf("%s was swept", k)
			}
		}
		for _, k := range []string{orphanOld.Path, "derived/9/9999-large.jpg"} {
			if exists(dir, k) {
				t.Errorf("%s was not swept", k)
			}
		}
		// A store that cannot list says so instead of pretending.
		city.Flow.PhotoJobs.Store = &photo.Store{Blobs: struct{ blob.Store }{blob.Local{Dir: dir}}}
		if _, err := city.Flow.PhotoJobs.Sweep(ctx, time.Hour); err != photo.ErrCannotList {
			t.Errorf("sweep on a store without listing: %v", err)
		}
	})
}
