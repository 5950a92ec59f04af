package photo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"chuangwen/internal/blob"
	"chuangwen/internal/store"
)

// DefaultSweepGrace is how old an unreferenced file must be before the
// sweep removes it: longer than any upload can wait for its case to be
// written.
const DefaultSweepGrace = 24 * time.Hour

// tempGrace is how old a temporary file of an unfinished write must be
// before the sweep removes it: a write takes seconds.
const tempGrace = time.Hour

// ErrCannotList is returned by Sweep when the blob store cannot enumerate
// its objects (a blob.Store that is not a blob.Lister).
var ErrCannotList = errors.New("photo: this store cannot list its files")

// Sweep removes the files under orig/ and derived/ that no photo row
// (of a case, or of an assessment site) references and that are older than grace: a crash between storing a
// file and committing its case leaves such a file, and so does a derived
// version written by a worker whose lease had run out. It also removes the
// temporary files of writes that a crash interrupted (an hour old; they may
// hold a reporter's original with its GPS position). It returns how many
// files it removed.
func (s *Worker) Sweep(ctx context.Context, grace time.Duration) (int, error) {
	lister, ok := s.Store.Blobs.(blob.Lister)
	if !ok {
		return 0, ErrCannotList
	}
	if grace <= 0 {
		grace = DefaultSweepGrace
	}
	// File times are the file system's, on the wall clock (not the
	// service's clock, which tests and the demo loader move).
	cutoff := time.Now().Add(-grace)
	var candidates []string
	for _, prefix := range []string{"orig/", "derived/"} {
		err := lister.List(ctx, prefix, func(key string, mod time.Time) error {
			if mod.Before(cutoff) {
				candidates = append(candidates, key)
			}
			return nil
		})
		if err != nil {
			return 0, fmt.Errorf("list %s: %w", prefix, err)
		}
	}
	removed := 0
	for i := 0; i < len(candidates); i += 500 {
		batch := candidates[i:min(i+500, len(candidates))]
		args := make([]any, 0, 4*len(batch))
		for range 4 {
			for _, k := range batch {
				args = append(args, k)
			}
		}
		in := store.In(len(batch))
		used, err := store.Collect(ctx, s.DB.Reader(), func(r store.Scanner) (k string, err error) { return k, r.Scan(&k) },
			`SELECT path FROM photos WHERE path IN `+in+` UNION SELECT large_path FROM photos WHERE large_path IN `+in+
				` UNION SELECT thumb_path FROM photos WHERE thumb_path IN `+in+
				// The assessment's site photos (点位照片) share the store.
				` UNION SELECT path FROM assess_site_photos WHERE path IN `+in, args...)
		if err != nil {
			return removed, fmt.Errorf("photo sweep: %w", err)
		}
		keep := map[string]bool{}
		for _, k := range used {
			keep[k] = true
		}
		for _, k := range batch {
			if keep[k] {
				continue
			}
			if err := s.Store.Blobs.Delete(ctx, k); err != nil {
				return removed, fmt.Errorf("photo sweep: remove %s: %w", k, err)
			}
			removed++
		}
	}
	if tr, ok := s.Store.Blobs.(blob.TempRemover); ok {
		n, err := tr.RemoveStaleTemp(ctx, time.Now().Add(-tempGrace))
		removed += n
		if err != nil {
			return removed, fmt.Errorf("photo sweep: temporary files: %w", err)
		}
	}
	if removed > 0 {
		s.Log.Info("photo sweep", "removed", removed)
	}
	return removed, nil
}
