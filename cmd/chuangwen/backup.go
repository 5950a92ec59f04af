package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"chuangwen/internal/audit"
	"chuangwen/internal/backup"
	"chuangwen/internal/blob"
	"chuangwen/internal/photo"
	"chuangwen/internal/store"
	"chuangwen/internal/workflow"
)

// cmdBackup writes a backup folder. It does not migrate: a backup taken
// before an upgrade is of the schema as it was.
func cmdBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var out string
	var withKey bool
	cfg, log, err := parseConfig("backup", args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&out, "out", "", "the backup folder to create (absent or empty)")
		fs.BoolVar(&withKey, "with-key", false, "also copy the data key (then keep the backup as safe as the key itself)")
	})
	if err != nil {
		return err
	}
	if out == "" {
		return errors.New("backup: name the backup folder: --out DIR")
	}
	if withKey && cfg.DataKey != "" {
		return errors.New("backup: the data key comes from CHUANGWEN_DATA_KEY, not a file: keep it where the environment's secrets are kept, and leave out --with-key")
	}
	db, err := store.Open(ctx, cfg.DB)
	if err != nil {
		return err
	}
	defer db.Close()
	photos, err := blob.Open(cfg.Photos)
	if err != nil {
		return fmt.Errorf("--photos: %w", err)
	}
	start := time.Now()
	outside := []string{cfg.Data}
	if !store.IsPostgres(cfg.DB) {
		outside = append(outside, filepath.Dir(cfg.DB))
	}
	if l, ok := photos.(blob.Local); ok {
		outside = append(outside, l.Dir)
	}
	m, err := backup.Backup(ctx, backup.Options{DB: db, DSN: cfg.DB, Photos: photos, KeyFile: cfg.DataKeyFile, WithKey: withKey, Out: out, Outside: outside, Log: log})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backup written to %s in %s: %s database at schema version %d, %d photos (%d bytes), %d files checksummed in %s\n",
		out, time.Since(start).Round(time.Millisecond), m.Engine, m.SchemaVersion, m.Photos, m.PhotoBytes, len(m.Files), backup.ManifestFile)
	if m.PhotosGone > 0 {
		fmt.Fprintf(stdout, "%d listed photo files were gone before their copy (swept or erased meanwhile); the log names them\n", m.PhotosGone)
	}
	if m.AuditHead != "" {
		fmt.Fprintf(stdout, "the copy's trail verifies: %d entries, head %s\n", m.AuditEntries, m.AuditHead)
	}
	if !withKey {
		fmt.Fprintf(stdout, "the data key (%s) is not in the backup: keep a copy of it apart, or volunteers' identity numbers cannot be read after a restore\n", cfg.DataKeyFile)
	}
	return nil
}

// cmdRestore puts a backup into the installation the common flags name.
func cmdRestore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var from string
	cfg, log, err := parseConfig("restore", args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&from, "from", "", "the backup folder")
	})
	if err != nil {
		return err
	}
	if from == "" {
		return errors.New("restore: name the backup folder: --from DIR")
	}
	photos, err := blob.Open(cfg.Photos)
	if err != nil {
		return fmt.Errorf("--photos: %w", err)
	}
	start := time.Now()
	rep, err := backup.Restore(ctx, backup.RestoreOptions{From: from, DB: cfg.DB, Photos: photos, KeyFile: cfg.DataKeyFile, Log: log})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored %s (taken %s, schema version %d) in %s: %d photos; the trail verifies: %d entries, head %s\n",
		from, rep.Manifest.CreatedAt.Format(time.RFC3339), rep.Manifest.SchemaVersion, time.Since(start).Round(time.Millisecond), rep.Photos, rep.AuditEntries, rep.AuditHead)
	if rep.KeyRestored {
		fmt.Fprintf(stdout, "data key restored to %s\n", cfg.DataKeyFile)
	}
	return nil
}

// cmdCopy moves the installation's database to an empty PostgreSQL
// database. The photos stay where --photos says; the data key is the same.
func cmdCopy(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var to string
	return withApp(ctx, "copy", args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&to, "to", "", "the target: postgres://… naming an empty database")
	}, func(a *app) error {
		if !store.IsPostgres(to) {
			return errors.New("copy: --to must name a PostgreSQL database (postgres://…)")
		}
		if a.db.Dialect != store.SQLite {
			return errors.New("copy: the source (--db) must be a SQLite database")
		}
		start := time.Now()
		dst, err := store.Open(ctx, to)
		if err != nil {
			return err
		}
		defer dst.Close()
		// Only an empty database: one that holds anything (an earlier
		// attempt, another program's tables) would be mixed with the copy.
		if n, err := store.PublicTables(ctx, dst); err != nil {
			return err
		} else if n > 0 {
			return fmt.Errorf("copy: the target database is not empty (%d tables); create an empty one (or drop the earlier attempt's)", n)
		}
		if _, err := dst.Migrate(ctx); err != nil {
			return err
		}
		rep, err := store.Copy(ctx, a.db, dst, func(table string, n int64) {
			if n > 0 {
				a.log.Info("copied", "table", table, "rows", n)
			}
		})
		if err != nil {
			return err
		}
		var rows int64
		for _, n := range rep.Rows {
			rows += n
		}
		// The search index is built anew on the target.
		photos, err := blob.Open(a.cfg.Photos)
		if err != nil {
			return err
		}
		flow := workflow.NewService(dst, &photo.Store{Blobs: photos}, a.loc, a.log)
		if err := flow.ResetSearchIndex(ctx); err != nil {
			return err
		}
		indexed, err := flow.IndexBacklog(ctx)
		if err != nil {
			return err
		}
		srcRep, err := audit.Verify(ctx, a.db)
		if err != nil {
			return err
		}
		dstRep, err := audit.Verify(ctx, dst)
		if err != nil {
			return err
		}
		if !dstRep.OK {
			return fmt.Errorf("copy: the trail on the target is broken at entry %d: %s", dstRep.BrokenSeq, dstRep.Problem)
		}
		if dstRep.HeadHash != srcRep.HeadHash || dstRep.Entries != srcRep.Entries {
			return fmt.Errorf("copy: the target's trail (%d entries, head %s) is not the source's (%d, %s)", dstRep.Entries, dstRep.HeadHash, srcRep.Entries, srcRep.HeadHash)
		}
		fmt.Fprintf(stdout, "copied %d rows in %d tables to PostgreSQL in %s; %d cases indexed for search; the trail verifies there: %d entries, head %s\n",
			rows, len(rep.Rows), time.Since(start).Round(time.Millisecond), indexed, dstRep.Entries, dstRep.HeadHash)
		fmt.Fprintln(stdout, "serve from it with --db set to the same address; the photos stay where --photos says")
		return nil
	})
}
