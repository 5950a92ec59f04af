package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"chuangwen/internal/backup"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
	"chuangwen/internal/store/storetest"
)

func TestMain(m *testing.M) {
	if args := os.Getenv(runEnv); args != "" {
		// the test binary as the program: a process a test can kill
		if err := run(context.Background(), strings.Split(args, "\x1f"), os.Stdout, os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, "chuangwen:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	storetest.Main(m)
}

var headRe = regexp.MustCompile(`(\d+) entries, head ([0-9a-f]{64})`)

// backupDrill is the restore drill on a loaded data folder: a backup
// taken while the trail grows, restored into a new folder, checked
// against the manifest and the trail; the refusals an operator can meet;
// and the move of the installation to PostgreSQL with the trail verified
// there. TestCommands calls it on its demo city.
func backupDrill(t *testing.T, data string) {
	ctx := context.Background()
	d := "--data=" + data
	// Writes go on while the backup is taken: the copy is of one commit,
	// so its trail verifies whatever it cuts off.
	db, err := store.Open(ctx, filepath.Join(data, "chuangwen.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	orgs := &org.Store{DB: db}
	var parent int64
	if err := db.Reader().QueryRow(ctx, `SELECT id FROM regions WHERE level = 'district' ORDER BY id LIMIT 1`).Scan(&parent); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	done := make(chan error, 1)
	var written atomic.Int64
	go func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				done <- nil
				return
			default:
			}
			if _, err := orgs.CreateRegion(ctx, org.System, org.Region{Code: fmt.Sprintf("BK%04d", i), Name: fmt.Sprintf("备份中新增%d", i), Level: "street", ParentID: parent}); err != nil {
				done <- err
				return
			}
			written.Add(1)
		}
	}()
	out := filepath.Join(t.TempDir(), "backup")
	res, err := runCmd(t, "backup", d, "--out", out, "--with-key")
	close(stop)
	if werr := <-done; werr != nil {
		t.Fatal(werr)
	}
	if err != nil || !strings.Contains(res, "the copy's trail verifies") {
		t.Fatalf("backup: %v %s", err, res)
	}
	t.Logf("%d regions written during the backup", written.Load())
	m, err := backup.ReadManifest(out)
	if err != nil {
		t.Fatal(err)
	}
	if m.Photos == 0 || !m.WithKey || m.Engine != "sqlite" {
		t.Errorf("manifest: %+v", m)
	}
	for _, f := range []string{backup.SQLiteFile, backup.KeyFile, backup.ManifestFile} {
		fi, err := os.Stat(filepath.Join(out, f))
		if err != nil {
			t.Error(err)
		} else if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s in the backup has mode %v: the owner's only", f, fi.Mode())
		}
	}
	// A command pointed at the backup as its data folder is refused
	// before it opens (and migrates) the backup's database.
	if res, err := runCmd(t, "audit", "verify", "--data="+out); err == nil || !strings.Contains(err.Error(), "backup folder") {
		t.Errorf("a command on the backup folder: %v %s", err, res)
	}
	// A second backup into the same folder is refused.
	if res, err := runCmd(t, "backup", d, "--out", out); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("backup into a used folder: %v %s", err, res)
	}

	// Restore into a new folder: database, photos and key.
	target := t.TempDir()
	res, err = runCmd(t, "restore", "--data="+target, "--from", out)
	if err != nil || !strings.Contains(res, "data key restored") {
		t.Fatalf("restore: %v %s", err, res)
	}
	got := headRe.FindStringSubmatch(res)
	if got == nil || got[1] != fmt.Sprint(m.AuditEntries) || got[2] != m.AuditHead {
		t.Errorf("restored trail %v, backup's %d %s", got, m.AuditEntries, m.AuditHead)
	}
	if res, err := runCmd(t, "audit", "verify", "--data="+target); err != nil || !strings.HasPrefix(res, "OK:") {
		t.Errorf("audit verify on the restored folder: %v %s", err, res)
	}
	for _, f := range m.Files {
		if !strings.HasPrefix(f.Path, "photos/") {
			continue
		}
		a, err1 := os.ReadFile(filepath.Join(out, f.Path))
		b, err2 := os.ReadFile(filepath.Join(target, f.Path))
		if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
			t.Fatalf("photo %s not restored: %v %v", f.Path, err1, err2)
		}
	}
	key1, _ := os.ReadFile(filepath.Join(data, "data.key"))
	key2, _ := os.ReadFile(filepath.Join(target, "data.key"))
	if len(key1) == 0 || !bytes.Equal(key1, key2) {
		t.Error("the data key was not restored")
	}
	// Restoring over an installation is refused, and so is a damaged
	// backup, before anything is written.
	if res, err := runCmd(t, "restore", "--data="+target, "--from", out); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("restore over a database: %v %s", err, res)
	}
	// A backup folder inside the data or photo folder is refused (it
	// would be listed with the photos and copied into itself).
	if res, err := runCmd(t, "backup", d, "--out", filepath.Join(data, "photos", "bk")); err == nil || !strings.Contains(err.Error(), "inside") {
		t.Errorf("backup into the photo folder: %v %s", err, res)
	}
	if _, err := os.Stat(filepath.Join(data, "photos", "bk")); err == nil {
		t.Error("the refused backup made its folder in the photos")
	}
	// A restore that fails its checks leaves nothing it wrote: a manifest
	// whose trail head was edited, and one of an engine no one wrote.
	tamper := func(edit func(string) string) string {
		t.Helper()
		dir := t.TempDir()
		for _, f := range append(append([]backup.File(nil), m.Files...), backup.File{Path: backup.ManifestFile}) {
			b, err := os.ReadFile(filepath.Join(out, f.Path))
			if err != nil {
				t.Fatal(err)
			}
			if f.Path == backup.ManifestFile {
				b = []byte(edit(string(b)))
			}
			if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, f.Path)), 0o750); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, f.Path), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	for name, tc := range map[string]struct {
		edit func(string) string
		want string
	}{
		"an edited trail head": {func(s string) string { return strings.Replace(s, m.AuditHead, strings.Repeat("0", 64), 1) }, "trail ends at"},
		"an unknown engine":    {func(s string) string { return strings.Replace(s, `"engine": "sqlite"`, `"engine": "mysql"`, 1) }, "mysql"},
	} {
		from := tamper(tc.edit)
		target := t.TempDir()
		if res, err := runCmd(t, "restore", "--data="+target, "--from", from); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("restore of %s: %v %s", name, err, res)
		}
		var left []string
		filepath.WalkDir(target, func(p string, e os.DirEntry, err error) error {
			if err == nil && !e.IsDir() {
				left = append(left, p)
			}
			return nil
		})
		if len(left) > 0 {
			t.Errorf("restore of %s left %v", name, left)
		}
	}
	// A photo store that holds files already is not restored into.
	busy := t.TempDir()
	if err := os.MkdirAll(filepath.Join(busy, "photos", "orig"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(busy, "photos", "orig", "p1.jpg"), []byte("someone's photo"), 0o600); err != nil {
		t.Fatal(err)
	}
	if res, err := runCmd(t, "restore", "--data="+busy, "--from", out); err == nil || !strings.Contains(err.Error(), "photo store holds files") {
		t.Errorf("restore into a photo store with files: %v %s", err, res)
	}
	if b, _ := os.ReadFile(filepath.Join(busy, "photos", "orig", "p1.jpg")); string(b) != "someone's photo" {
		t.Error("the photo store's file was written over")
	}

	var photo string
	for _, f := range m.Files {
		if strings.HasPrefix(f.Path, "photos/") {
			photo = filepath.Join(out, f.Path)
			break
		}
	}
	if err := os.WriteFile(photo, []byte("not the photo"), 0o600); err != nil {
		t.Fatal(err)
	}
	other := t.TempDir()
	if res, err := runCmd(t, "restore", "--data="+other, "--from", out); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Errorf("restore of a damaged backup: %v %s", err, res)
	}
	if _, err := os.Stat(filepath.Join(other, "chuangwen.db")); err == nil {
		t.Error("a refused restore wrote the database")
	}

	// The move to PostgreSQL: every row, the trail verifying there with
	// the same head, the search index rebuilt, new ids past the old ones.
	pg := storetest.EmptyPostgres(t)
	res, err = runCmd(t, "copy", "--data="+target, "--to", pg)
	if err != nil {
		t.Fatalf("copy: %v %s", err, res)
	}

	if got := headRe.FindStringSubmatch(res); got == nil || got[2] != m.AuditHead {
		t.Errorf("the trail on PostgreSQL: %s, want head %s", res, m.AuditHead)
	}
	src, err := store.Open(ctx, filepath.Join(target, "chuangwen.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := store.Open(ctx, pg)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	for _, table := range []string{"regions", "units", "users", "cases", "dispatches", "events", "photos", "assess_observations", "volunteers", "plan_tasks"} {
		var a, b int64
		if err := src.Reader().QueryRow(ctx, `SELECT count(*) FROM `+table).Scan(&a); err != nil {
			t.Fatal(err)
		}
		if err := dst.Reader().QueryRow(ctx, `SELECT count(*) FROM `+table).Scan(&b); err != nil {
			t.Fatal(err)
		}
		if a != b || a == 0 {
			t.Errorf("%s: %d rows in SQLite, %d on PostgreSQL", table, a, b)
		}
	}
	// The cases' values, booleans and coordinates included, arrive as
	// they were.
	q := `SELECT COUNT(*), SUM(id * 7 + length(description) + deadline % 1000 + CASE WHEN overdue THEN 1 ELSE 0 END),
		CAST(SUM(ROUND(COALESCE(lat, 0) * 1000000)) AS BIGINT) FROM cases`
	var s1, s2 [3]int64
	if err := src.Reader().QueryRow(ctx, q).Scan(&s1[0], &s1[1], &s1[2]); err != nil {
		t.Fatal(err)
	}
	if err := dst.Reader().QueryRow(ctx, q).Scan(&s2[0], &s2[1], &s2[2]); err != nil {
		t.Fatal(err)
	}
	if s1 != s2 {
		t.Errorf("cases differ: %v in SQLite, %v on PostgreSQL", s1, s2)
	}
	res, err = runCmd(t, "user", "add", "--data="+target, "--db", pg, "--username", "after-copy", "--role", "inspector")
	if err != nil {
		t.Fatalf("a new user on the copy: %v %s", err, res)
	}
	// A second copy into the database, which holds the first, is refused
	// before it writes anything; so is one into a database that holds
	// another program's table (before, the schema was created beside it
	// and the copy failed halfway).
	if res, err := runCmd(t, "copy", "--data="+target, "--to", pg); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("a second copy into the same database: %v %s", err, res)
	}
	foreign := storetest.EmptyPostgres(t)
	if fdb, err := store.Open(ctx, foreign); err != nil {
		t.Fatal(err)
	} else {
		_, err := fdb.Exec(ctx, `CREATE TABLE other_app (x INT)`)
		fdb.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	if res, err := runCmd(t, "copy", "--data="+target, "--to", foreign); err == nil || !strings.Contains(err.Error(), "not empty (1 tables)") {
		t.Errorf("copy into another program's database: %v %s", err, res)
	}

	// A PostgreSQL installation backs up through pg_dump and restores
	// into an empty database with pg_restore, the trail intact.
	out2 := filepath.Join(t.TempDir(), "pgbackup")
	if res, err := runCmd(t, "backup", "--data="+target, "--db", pg, "--out", out2); err != nil {
		t.Fatalf("backup of PostgreSQL: %v %s", err, res)
	}
	pg2 := storetest.EmptyPostgres(t)
	res, err = runCmd(t, "restore", "--data="+t.TempDir(), "--db", pg2, "--from", out2)
	if err != nil {
		t.Fatalf("restore into PostgreSQL: %v %s", err, res)
	}
	if got := headRe.FindStringSubmatch(res); got == nil || got[1] != fmt.Sprint(m.AuditEntries+1) {
		t.Errorf("restored PostgreSQL trail: %s, want %d entries (the backup's and the user added)", res, m.AuditEntries+1)
	}
	if res, err := runCmd(t, "restore", "--data="+t.TempDir(), "--db", pg2, "--from", out2); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("restore into a used PostgreSQL database: %v %s", err, res)
	}
}
