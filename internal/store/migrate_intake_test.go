package store

import (
	"context"
	"path/filepath"
	"testing"
)

// TestIntakeMigrationQueuesOldPhotos: photos stored before 0004 get a
// derivative job, so units do not find them "processing" for ever.
func TestIntakeMigrationQueuesOldPhotos(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.MigrateTo(ctx, 3); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO categories (id, code, name) VALUES (1, '0101', '暴露垃圾')`,
		`INSERT INTO cases (id, no, source, category_id, description, state, reported_at, updated_at) VALUES (1, '2026-000001', 'citizen', 1, 'x', 'closed', 1, 1)`,
		`INSERT INTO photos (case_id, kind, path, mime, size, sha256, created_at) VALUES (1, 'before', '2026/11/a.jpg', 'image/jpeg', 10, 'h1', 1)`,
		`INSERT INTO photos (case_id, kind, path, mime, size, sha256, created_at) VALUES (1, 'after', '2026/11/b.jpg', 'image/jpeg', 10, 'h2', 1)`,
	} {
		if _, err := db.w.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var jobs int
	if err := db.Reader().QueryRow(ctx, `SELECT count(*) FROM photo_jobs j JOIN photos p ON p.id = j.photo_id WHERE p.derived_at = 0`).Scan(&jobs); err != nil {
		t.Fatal(err)
	}
	if jobs != 2 {
		t.Fatalf("%d derivative jobs for the 2 photos from before the migration", jobs)
	}
}
