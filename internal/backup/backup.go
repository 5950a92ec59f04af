// Package backup takes a consistent copy of an installation (备份) and puts
// one back (恢复): the database, the photo files and, when asked, the data
// key that seals volunteers' identity numbers.
//
// A backup is a folder:
//
//	manifest.json      what is in it, each file's size and SHA-256; written last
//	chuangwen.db       the SQLite database as of one commit (VACUUM INTO), or
//	chuangwen.pgdump   a pg_dump archive (custom format) of a PostgreSQL database
//	photos/…           every photo file, under its key
//	data.key           the data key, only with Options.WithKey
//
// The database is copied first and the photos after it, so every photo the
// copied rows name is in the folder (photo files are written before their
// rows commit, and only unreferenced ones are ever swept). The manifest's
// checksums let Restore refuse a damaged or incomplete backup before it
// writes anything.
package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"chuangwen/internal/audit"
	"chuangwen/internal/blob"
	"chuangwen/internal/store"
)

// Format is the manifest's format number.
const Format = 1

// The names inside a backup folder.
const (
	ManifestFile = "manifest.json"
	SQLiteFile   = "chuangwen.db"
	PgDumpFile   = "chuangwen.pgdump"
	PhotosDir    = "photos"
	KeyFile      = "data.key"
)

// Manifest describes a backup (manifest.json).
type Manifest struct {
	Format        int       `json:"format"`
	CreatedAt     time.Time `json:"created_at"`
	Engine        string    `json:"engine"` // sqlite or postgres
	SchemaVersion int       `json:"schema_version"`
	Database      string    `json:"database"` // the database file's name in the folder
	// The trail as the backup holds it (SQLite backups: checked when taken).
	AuditEntries int64  `json:"audit_entries,omitempty"`
	AuditHead    string `json:"audit_head,omitempty"`
	Photos       int    `json:"photos"`
	PhotoBytes   int64  `json:"photo_bytes"`
	// PhotosGone counts files listed but gone before they were copied
	// (swept as unreferenced, or erased by retention, meanwhile).
	PhotosGone int    `json:"photos_gone,omitempty"`
	WithKey    bool   `json:"with_key"`
	Files      []File `json:"files"`
}

// File is one file of a backup, its path relative to the folder.
type File struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Options say what Backup copies and where to.
type Options struct {
	DB *store.DB
	// DSN is the database's address, for pg_dump.
	DSN    string
	Photos blob.Store
	// KeyFile is the data key's file; WithKey puts it in the backup.
	KeyFile string
	WithKey bool
	// Out is the backup folder: absent or empty, and in none of Outside
	// (the data folder, the photo folder: a backup written inside the
	// photos would be listed and copied into itself).
	Out     string
	Outside []string
	Log     *slog.Logger
	Now     func() time.Time
}

// Backup writes a backup of the installation to o.Out.
func Backup(ctx context.Context, o Options) (Manifest, error) {
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := Manifest{Format: Format, CreatedAt: now().UTC().Truncate(time.Second), WithKey: o.WithKey}
	for _, dir := range o.Outside {
		if dir != "" && within(o.Out, dir) {
			return m, fmt.Errorf("backup: %s is inside %s, which the backup copies or serves from; name a folder elsewhere", o.Out, dir)
		}
	}
	if err := emptyFolder(o.Out); err != nil {
		return m, err
	}
	lister, ok := o.Photos.(blob.Lister)
	if !ok {
		return m, errors.New("backup: the photo store cannot list its files")
	}
	var err error
	if m.SchemaVersion, err = o.DB.Version(ctx); err != nil {
		return m, err
	}
	// The trail's queued entries are chained first, so that the copy's
	// chain is the live one (a few committed after this are chained in
	// the copy when it is verified).
	if _, err := audit.Seal(ctx, o.DB); store.IsBusy(err) {
		// A server writing without a pause kept the write lock: the copy
		// chains what it finds queued when it is verified, as it does for
		// what commits during the copy.
		log.Warn("backup: the trail's queue was not sealed first: the database stayed busy", "err", err)
	} else if err != nil {
		return m, fmt.Errorf("backup: %w", err)
	}
	switch o.DB.Dialect {
	case store.SQLite:
		m.Engine, m.Database = "sqlite", SQLiteFile
		path := filepath.Join(o.Out, SQLiteFile)
		if err := o.DB.SnapshotTo(ctx, path); err != nil {
			return m, err
		}
		// The copy's own trail must verify: a backup of a broken trail is
		// worth knowing about when it is taken, not when it is needed.
		rep, err := verifySQLite(ctx, path)
		if err != nil {
			return m, err
		}
		if !rep.OK {
			return m, fmt.Errorf("backup: the copied trail is broken at entry %d: %s", rep.BrokenSeq, rep.Problem)
		}
		m.AuditEntries, m.AuditHead = rep.Entries, rep.HeadHash
	case store.Postgres:
		m.Engine, m.Database = "postgres", PgDumpFile
		pgDump, err := exec.LookPath("pg_dump")
		if err != nil {
			return m, errors.New("backup: pg_dump is not on PATH (Debian: postgresql-client, the server's major version); see docs/deploy.md")
		}
		dsn, env := pgPassword(o.DSN)
		cmd := exec.CommandContext(ctx, pgDump, "--format=custom", "--no-owner", "--no-privileges", "--file", filepath.Join(o.Out, PgDumpFile), "--dbname", dsn)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			return m, fmt.Errorf("backup: pg_dump: %v: %s", err, out)
		}
		// pg_dump creates the file under the umask: it holds every
		// reporter's and volunteer's record, for the owner only.
		if err := os.Chmod(filepath.Join(o.Out, PgDumpFile), 0o600); err != nil {
			return m, fmt.Errorf("backup: %w", err)
		}
	}
	log.Info("backup: database copied", "engine", m.Engine, "schema", m.SchemaVersion)

	photos := blob.Local{Dir: filepath.Join(o.Out, PhotosDir)}
	err = lister.List(ctx, "", func(key string, _ time.Time) error {
		n, err := copyObject(ctx, o.Photos, photos, key)
		if errors.Is(err, blob.ErrNotFound) {
			m.PhotosGone++ // removed between the listing and the copy
			log.Warn("backup: a listed photo was gone before its copy", "key", key)
			return nil
		}
		if err != nil {
			return err
		}
		m.Photos++
		m.PhotoBytes += n
		return nil
	})
	if err != nil {
		return m, fmt.Errorf("backup: photos: %w", err)
	}
	log.Info("backup: photos copied", "files", m.Photos, "bytes", m.PhotoBytes)

	if o.WithKey {
		if err := copyFile(o.KeyFile, filepath.Join(o.Out, KeyFile), 0o600); err != nil {
			return m, fmt.Errorf("backup: data key: %w", err)
		}
	}
	if m.Files, err = checksums(o.Out); err != nil {
		return m, err
	}
	return m, writeManifest(o.Out, m)
}

// RestoreOptions say where Restore puts a backup back.
type RestoreOptions struct {
	From string
	// DB is the target database's address: a SQLite file that must not
	// exist, or an empty PostgreSQL database (restored with pg_restore).
	DB      string
	Photos  blob.Store
	KeyFile string
	Log     *slog.Logger
}

// RestoreReport says what Restore did.
type RestoreReport struct {
	Manifest Manifest
	Photos   int
	// AuditEntries and AuditHead: the restored trail, verified.
	AuditEntries int64
	AuditHead    string
	KeyRestored  bool
}

// Restore checks every file of a backup against its manifest and puts the
// database, the photos and the data key in place. It refuses to write over
// an existing SQLite file or a different data key: restoring is for an
// empty installation (move the old one aside first).
func Restore(ctx context.Context, o RestoreOptions) (rep RestoreReport, err error) {
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m, err := ReadManifest(o.From)
	if err != nil {
		return rep, err
	}
	rep.Manifest = m
	if err := Check(o.From, m); err != nil {
		return rep, err
	}
	if m.Engine != "sqlite" && m.Engine != "postgres" || m.SchemaVersion < 1 {
		return rep, fmt.Errorf("restore: the manifest names engine %q, schema version %d: not a backup this program took", m.Engine, m.SchemaVersion)
	}
	latest, err := store.LatestVersion()
	if err != nil {
		return rep, err
	}
	if m.SchemaVersion > latest {
		return rep, fmt.Errorf("restore: the backup's schema version %d is newer than this program's %d: restore it with the program that took it or a newer one", m.SchemaVersion, latest)
	}
	toPG := store.IsPostgres(o.DB)
	switch {
	case m.Engine == "sqlite" && toPG:
		return rep, errors.New("restore: this is a SQLite backup: restore it to a SQLite file, then move it with `chuangwen copy --to postgres://…`")
	case m.Engine == "postgres" && !toPG:
		return rep, errors.New("restore: this is a PostgreSQL backup: restore it into an empty PostgreSQL database (--db postgres://…)")
	}
	// The key first: a backup whose key differs from the one in place
	// would leave identity numbers that nothing can open.
	keyData, err := os.ReadFile(filepath.Join(o.From, KeyFile))
	switch {
	case m.WithKey && err != nil:
		return rep, fmt.Errorf("restore: data key: %w", err)
	case m.WithKey:
		have, err := os.ReadFile(o.KeyFile)
		switch {
		case err == nil && string(have) != string(keyData):
			return rep, fmt.Errorf("restore: %s holds another data key than the backup's; move it aside first", o.KeyFile)
		case errors.Is(err, fs.ErrNotExist):
			rep.KeyRestored = true
		case err != nil:
			return rep, fmt.Errorf("restore: data key: %w", err)
		}
	}
	// The refusals first, then the files, the database last: a restore
	// that fails leaves nothing it wrote (the photos, the key, the
	// database are removed again), and can simply be run again.
	if toPG {
		if err := pgEmpty(ctx, o.DB); err != nil {
			return rep, err
		}
	} else if _, err := os.Stat(o.DB); err == nil {
		return rep, fmt.Errorf("restore: %s exists; restore into a new data folder, or move it aside first", o.DB)
	}
	if lister, ok := o.Photos.(blob.Lister); ok {
		held := errors.New("held")
		err := lister.List(ctx, "", func(string, time.Time) error { return held })
		if errors.Is(err, held) {
			return rep, errors.New("restore: the photo store holds files already; restore into an empty one")
		}
		if err != nil {
			return rep, fmt.Errorf("restore: photos: %w", err)
		}
	}
	var undo []func()
	defer func() {
		if err != nil {
			for i := len(undo) - 1; i >= 0; i-- {
				undo[i]()
			}
		}
	}()
	if rep.KeyRestored {
		if err := os.MkdirAll(filepath.Dir(o.KeyFile), 0o750); err != nil {
			return rep, err
		}
		if err := copyFile(filepath.Join(o.From, KeyFile), o.KeyFile, 0o600); err != nil {
			return rep, fmt.Errorf("restore: data key: %w", err)
		}
		undo = append(undo, func() { _ = os.Remove(o.KeyFile) })
	}
	src := blob.Local{Dir: filepath.Join(o.From, PhotosDir)}
	for _, f := range m.Files {
		key, ok := photoKey(f.Path)
		if !ok {
			continue
		}
		if _, err := copyObject(ctx, src, o.Photos, key); err != nil {
			return rep, fmt.Errorf("restore: photo %s: %w", key, err)
		}
		undo = append(undo, func() { _ = o.Photos.Delete(context.WithoutCancel(ctx), key) })
		rep.Photos++
	}
	log.Info("restore: photos in place", "files", rep.Photos)
	var ar audit.Report
	if toPG {
		// the target was empty (pgEmpty): a failure takes it back to empty
		undo = append(undo, func() { pgClear(context.WithoutCancel(ctx), o.DB, log) })
		if err := pgRestore(ctx, o.From, o.DB); err != nil {
			return rep, err
		}
	} else {
		if err := os.MkdirAll(filepath.Dir(o.DB), 0o750); err != nil {
			return rep, err
		}
		tmp := o.DB + ".restoring"
		removeSQLite(tmp) // an earlier attempt's
		undo = append(undo, func() { removeSQLite(tmp) })
		if err := copyFile(filepath.Join(o.From, SQLiteFile), tmp, 0o600); err != nil {
			return rep, fmt.Errorf("restore: database: %w", err)
		}
		// The copy is checked under its temporary name: a database that
		// does not open, or whose trail is not the backup's, never takes
		// the database's name.
		tdb, err := store.Open(ctx, tmp)
		if err != nil {
			return rep, fmt.Errorf("restore: the backup's database does not open: %w", err)
		}
		ar, err = checkRestored(ctx, tdb, m)
		tdb.Close()
		if err != nil {
			return rep, err
		}
		if err := os.Rename(tmp, o.DB); err != nil {
			return rep, fmt.Errorf("restore: database: %w", err)
		}
		undo = append(undo, func() { removeSQLite(o.DB) })
	}
	log.Info("restore: database in place", "engine", m.Engine)

	db, err := store.Open(ctx, o.DB)
	if err != nil {
		return rep, err
	}
	defer db.Close()
	if toPG { // (a SQLite copy was checked before it took its name)
		if ar, err = checkRestored(ctx, db, m); err != nil {
			return rep, err
		}
	}
	rep.AuditEntries, rep.AuditHead = ar.Entries, ar.HeadHash
	// Restored statistics may not fit the plans: bring them up to date.
	if err := db.Optimize(ctx); err != nil {
		return rep, err
	}
	return rep, nil
}

// checkRestored checks a restored database: its schema is the
// manifest's, and its trail verifies and ends where the manifest says.
func checkRestored(ctx context.Context, db *store.DB, m Manifest) (audit.Report, error) {
	v, err := db.Version(ctx)
	if err != nil {
		return audit.Report{}, fmt.Errorf("restore: the backup's database cannot be read: %w", err)
	}
	if v != m.SchemaVersion {
		return audit.Report{}, fmt.Errorf("restore: the database is at schema version %d, the manifest says %d", v, m.SchemaVersion)
	}
	ar, err := audit.Verify(ctx, db)
	if err != nil {
		return ar, fmt.Errorf("restore: the trail cannot be read: %w", err)
	}
	if !ar.OK {
		return ar, fmt.Errorf("restore: the restored trail is broken at entry %d: %s", ar.BrokenSeq, ar.Problem)
	}
	if m.AuditHead != "" && ar.HeadHash != m.AuditHead {
		return ar, fmt.Errorf("restore: the restored trail ends at %s, the backup's at %s", ar.HeadHash, m.AuditHead)
	}
	return ar, nil
}

// removeSQLite removes a SQLite database file and its journal files.
func removeSQLite(path string) {
	for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		_ = os.Remove(p)
	}
}

// pgClear takes a PostgreSQL database that was empty before a restore
// back to empty.
func pgClear(ctx context.Context, dsn string, log *slog.Logger) {
	db, err := store.Open(ctx, dsn)
	if err == nil {
		if _, err = db.Exec(ctx, `DROP SCHEMA public CASCADE`); err == nil {
			_, err = db.Exec(ctx, `CREATE SCHEMA public`)
		}
		db.Close()
	}
	if err != nil {
		log.Error("restore: the target database could not be emptied again; drop and create it before another attempt", "err", err)
	}
}

// ReadManifest reads a backup folder's manifest.
func ReadManifest(dir string) (Manifest, error) {
	var m Manifest
	b, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if errors.Is(err, fs.ErrNotExist) {
		return m, fmt.Errorf("%s has no %s: not a backup, or one that did not finish", dir, ManifestFile)
	}
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("%s: %w", ManifestFile, err)
	}
	if m.Format != Format {
		return m, fmt.Errorf("%s: format %d, this program reads %d", ManifestFile, m.Format, Format)
	}
	return m, nil
}

// Check compares every file of a backup folder with its manifest: the
// same files, sizes and checksums.
func Check(dir string, m Manifest) error {
	have, err := checksums(dir)
	if err != nil {
		return err
	}
	byPath := map[string]File{}
	for _, f := range have {
		byPath[f.Path] = f
	}
	var problems []error
	for _, f := range m.Files {
		h, ok := byPath[f.Path]
		switch {
		case !ok:
			problems = append(problems, fmt.Errorf("%s is missing", f.Path))
		case h.Size != f.Size || h.SHA256 != f.SHA256:
			problems = append(problems, fmt.Errorf("%s differs from the manifest (size %d, want %d)", f.Path, h.Size, f.Size))
		}
		delete(byPath, f.Path)
	}
	for p := range byPath {
		problems = append(problems, fmt.Errorf("%s is not in the manifest", p))
	}
	if len(problems) > 0 {
		if len(problems) > 10 {
			problems = append(problems[:10], fmt.Errorf("and %d more", len(problems)-10))
		}
		return fmt.Errorf("backup %s is damaged: %w", dir, errors.Join(problems...))
	}
	return nil
}

func photoKey(path string) (string, bool) {
	rel, err := filepath.Rel(PhotosDir, filepath.FromSlash(path))
	if err != nil || rel == "." || rel[0] == '.' {
		return "", false
	}
	return filepath.ToSlash(rel), true
}

func verifySQLite(ctx context.Context, path string) (audit.Report, error) {
	db, err := store.Open(ctx, path)
	if err != nil {
		return audit.Report{}, err
	}
	defer db.Close()
	return audit.Verify(ctx, db)
}

// pgEmpty refuses a PostgreSQL target that holds any table (of this
// program or another).
func pgEmpty(ctx context.Context, dsn string) error {
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	n, err := store.PublicTables(ctx, db)
	if err != nil {
		return err
	}
	if n != 0 {
		return fmt.Errorf("restore: the target database is not empty (%d tables); create an empty one", n)
	}
	return nil
}

func pgRestore(ctx context.Context, from, dsn string) error {
	bin, err := exec.LookPath("pg_restore")
	if err != nil {
		return errors.New("restore: pg_restore is not on PATH (Debian: postgresql-client, the server's major version)")
	}
	plain, env := pgPassword(dsn)
	cmd := exec.CommandContext(ctx, bin, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", "--dbname", plain, filepath.Join(from, PgDumpFile))
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("restore: pg_restore: %v: %s", err, out)
	}
	return nil
}

// pgPassword takes the password out of a PostgreSQL URL and hands it to
// pg_dump and pg_restore in their environment (PGPASSWORD) instead: a
// command line is readable by every user of the machine.
func pgPassword(dsn string) (string, []string) {
	env := os.Environ()
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn, env
	}
	pw, ok := u.User.Password()
	if !ok {
		return dsn, env
	}
	u.User = url.User(u.User.Username())
	return u.String(), append(env, "PGPASSWORD="+pw)
}

// within tells whether path is dir or inside it, symbolic links followed
// (path need not exist yet: its nearest existing parent is resolved).
func within(path, dir string) bool {
	real := func(p string) string {
		p, err := filepath.Abs(p)
		if err != nil {
			return p
		}
		var rest []string
		for {
			if r, err := filepath.EvalSymlinks(p); err == nil {
				return filepath.Join(append([]string{r}, rest...)...)
			}
			parent := filepath.Dir(p)
			if parent == p {
				return p
			}
			rest = append([]string{filepath.Base(p)}, rest...)
			p = parent
		}
	}
	p, d := real(path), real(dir)
	return p == d || strings.HasPrefix(p, d+string(filepath.Separator))
}

// emptyFolder makes dir, or accepts it if it exists and is empty.
func emptyFolder(dir string) error {
	if dir == "" {
		return errors.New("backup: name the backup folder (--out)")
	}
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return os.MkdirAll(dir, 0o750)
	case err != nil:
		return err
	case len(entries) > 0:
		return fmt.Errorf("backup: %s is not empty; name a new folder", dir)
	}
	return nil
}

func copyObject(ctx context.Context, from, to blob.Store, key string) (int64, error) {
	rc, size, err := from.Open(ctx, key)
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	if err := to.Put(ctx, key, rc, size, ""); err != nil {
		return 0, err
	}
	return size, nil
}

// copyFile copies a file, synced, with the given mode.
func copyFile(from, to string, mode os.FileMode) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// checksums lists every file below dir but the manifest, sorted.
func checksums(dir string) ([]File, error) {
	var out []File
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel == ManifestFile {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		h := sha256.New()
		n, err := io.Copy(h, f)
		if err != nil {
			return err
		}
		out = append(out, File{Path: rel, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))})
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, err
}

// writeManifest writes manifest.json through a synced temporary file:
// its presence says the backup is whole.
func writeManifest(dir string, m Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, ".manifest.tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, ManifestFile)); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
