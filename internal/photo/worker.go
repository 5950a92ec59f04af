package photo

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"chuangwen/internal/imaging"
	"chuangwen/internal/store"
)

// The derivative queue lives in the database (photo_jobs), so it survives
// a restart, and a job is leased before it is worked on, so two replicas
// never process the same photo at once. A worker that dies mid-job loses
// its lease after photoLease and the job runs again elsewhere.
const (
	photoLease       = 2 * time.Minute
	photoMaxAttempts = 5
)

// Worker makes the derived versions of queued photos: a job per photo in
// the photo_jobs table, written in the transaction that stores the photo
// row (Insert), worked by Run in the background of every replica.
type Worker struct {
	DB    *store.DB
	Store *Store
	Log   *slog.Logger
	// Now is the clock (tests set it); nil means time.Now.
	Now func() time.Time

	// wake nudges the worker after photos are queued in this process.
	wake chan struct{}
	// Uploads in flight and the end of the last one, for giving way.
	intakeActive atomic.Int64
	intakeLast   atomic.Int64
}

// NewWorker returns a worker for the photos of db kept in st.
func NewWorker(db *store.DB, st *Store, log *slog.Logger) *Worker {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Worker{DB: db, Store: st, Log: log, wake: make(chan struct{}, 1)}
}

func (s *Worker) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// LastEvent, as Insert's seq, names the trail event appended last in the
// same transaction, just before (audit.AppendDeferred): its number is read
// by the photo rows' insert itself, so that on PostgreSQL the event, the
// photos and their jobs wait for the transaction's next round trip
// together (store.Tx.Defer).
const LastEvent int64 = -1

// lastIDSQL reads the id the transaction's last insert into a table gave
// (its sequence's currval on PostgreSQL; SQLite, with one writer, has
// last_insert_rowid and, for the trail's numbers, the highest one).
var lastIDSQL = map[store.Dialect]map[string]string{
	store.Postgres: {
		"events": `currval(pg_get_serial_sequence('events', 'seq'))`,
		"photos": `currval(pg_get_serial_sequence('photos', 'id'))`,
	},
	store.SQLite: {
		"events": `(SELECT MAX(seq) FROM events)`,
		"photos": `last_insert_rowid()`,
	},
}

// Insert writes the photo rows of a case (kind: before, after, evidence;
// seq: the trail event they came with, or LastEvent) and queues each for
// its derived versions, inside tx; the worker is nudged once tx commits.
func (s *Worker) Insert(ctx context.Context, tx *store.Tx, caseID int64, kind string, seq int64, now time.Time, files []File) error {
	last := lastIDSQL[tx.Dialect()]
	for _, p := range files {
		args := []any{caseID, kind, p.Path, p.Mime, p.Size, p.SHA256, store.Ms(now)}
		if seq == LastEvent {
			err := tx.Defer(ctx, `INSERT INTO photos (case_id, kind, path, mime, size, sha256, created_at, event_seq) VALUES (?, ?, ?, ?, ?, ?, ?, `+last["events"]+`)`, args...)
			if err == nil {
				err = tx.Defer(ctx, `INSERT INTO photo_jobs (photo_id, run_after) VALUES (`+last["photos"]+`, ?)`, store.Ms(now))
			}
			if err != nil {
				return fmt.Errorf("insert photo: %w", err)
			}
			continue
		}
		id, err := store.InsertID(ctx, tx, `INSERT INTO photos (case_id, kind, path, mime, size, sha256, created_at, event_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			append(args, seq)...)
		if err != nil {
			return fmt.Errorf("insert photo: %w", err)
		}
		if err := tx.Defer(ctx, `INSERT INTO photo_jobs (photo_id, run_after) VALUES (?, ?)`, id, store.Ms(now)); err != nil {
			return fmt.Errorf("queue photo: %w", err)
		}
	}
	if len(files) > 0 {
		tx.AfterCommit(s.queued)
	}
	return nil
}

func (s *Worker) queued() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// claimPhoto leases the next due job for owner; 0 when none is due.
func (s *Worker) claimPhoto(ctx context.Context, owner string) (int64, int, error) {
	now := s.now()
	skip := s.DB.Dialect.SkipLocked()
	var id int64
	var attempts int
	err := s.DB.WithTx(ctx, func(tx *store.Tx) error {
		err := tx.QueryRow(ctx, `UPDATE photo_jobs SET lease_owner = ?, lease_until = ?, attempts = attempts + 1
			WHERE photo_id = (SELECT photo_id FROM photo_jobs WHERE run_after <= ? AND lease_until < ? ORDER BY run_after, photo_id LIMIT 1`+skip+`)
			RETURNING photo_id, attempts`,
			owner, store.Ms(now.Add(photoLease)), store.Ms(now), store.Ms(now)).Scan(&id, &attempts)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		return err
	})
	return id, attempts, err
}

// Derive works through the due jobs until none is left or ctx ends,
// and returns how many photos it derived.
func (s *Worker) Derive(ctx context.Context, owner string) (int, error) {
	return s.derivePhotos(ctx, owner, nil)
}

// derivePhotos works through the due jobs; with a derive thread (ch) it
// gives way to uploads and hands the image work to that thread.
func (s *Worker) derivePhotos(ctx context.Context, owner string, ch chan *deriveReq) (int, error) {
	giveWay := ch != nil
	done := 0
	for ctx.Err() == nil {
		if giveWay {
			s.giveWay(ctx)
		}
		id, attempts, err := s.claimPhoto(ctx, owner)
		if err != nil || id == 0 {
			return done, err
		}
		ok, err := s.derivePhoto(ctx, owner, id, attempts, ch)
		if err != nil {
			return done, err
		}
		if ok {
			done++
		}
	}
	return done, ctx.Err()
}

// Intake acknowledgement must not wait for image processing, and on a
// small machine the two compete for the same cores and disk. The worker
// therefore gives way: it starts the next photo only once no upload is in
// flight and none has finished for intakeQuiet — but never waits longer
// than intakeMaxWait, so a steady stream of uploads cannot starve it.
// sweepEvery is how often Run sweeps unreferenced files.
const sweepEvery = 6 * time.Hour

const (
	intakeQuiet   = 150 * time.Millisecond
	intakeMaxWait = 3 * time.Second
)

// IntakeStarted marks an upload in flight; call the returned func when it
// has been answered.
func (s *Worker) IntakeStarted() func() {
	s.intakeActive.Add(1)
	return func() {
		s.intakeLast.Store(time.Now().UnixNano())
		s.intakeActive.Add(-1)
	}
}

func (s *Worker) giveWay(ctx context.Context) {
	deadline := time.Now().Add(intakeMaxWait)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		quiet := time.Since(time.Unix(0, s.intakeLast.Load()))
		if s.intakeActive.Load() == 0 && quiet >= intakeQuiet {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// derivePhoto makes the derived versions of one photo and reports whether
// it did. Failures that a retry cannot fix (not an image after all, a
// decompression bomb) are recorded on the photo; others are retried later
// with backoff.
func (s *Worker) derivePhoto(ctx context.Context, owner string, id int64, attempts int, ch chan *deriveReq) (bool, error) {
	var key string
	if err := s.DB.Reader().QueryRow(ctx, `SELECT path FROM photos WHERE id = ?`, id).Scan(&key); err != nil {
		return false, fmt.Errorf("photo %d: %w", id, err)
	}
	outs, err := s.makeDerived(ctx, id, key, ch)
	now := s.now()
	if err != nil {
		permanent := errors.Is(err, imaging.ErrUnsupported) || errors.Is(err, imaging.ErrTooManyPixels) || errors.Is(err, imaging.ErrCorrupt)
		s.Log.Warn("photo derivative failed", "photo", id, "attempt", attempts, "err", err)
		return false, s.DB.WithTx(ctx, func(tx *store.Tx) error {
			if permanent || attempts >= photoMaxAttempts {
				if _, err := tx.Exec(ctx, `UPDATE photos SET derive_error = ? WHERE id = ?`, truncate(err.Error(), 500), id); err != nil {
					return err
				}
				_, err := tx.Exec(ctx, `DELETE FROM photo_jobs WHERE photo_id = ? AND lease_owner = ?`, id, owner)
				return err
			}
			backoff := time.Duration(1<<attempts) * 5 * time.Second
			_, err := tx.Exec(ctx, `UPDATE photo_jobs SET run_after = ?, lease_until = 0, lease_owner = '', last_error = ? WHERE photo_id = ? AND lease_owner = ?`,
				store.Ms(now.Add(backoff)), truncate(err.Error(), 500), id, owner)
			return err
		})
	}
	err = s.DB.WithTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE photos SET large_path = ?, thumb_path = ?, derived_at = ?, derive_error = '' WHERE id = ?`,
			outs["large"], outs["thumb"], store.Ms(now), id); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM photo_jobs WHERE photo_id = ? AND lease_owner = ?`, id, owner)
		return err
	})
	if err == nil {
		s.Log.Debug("photo derived", "photo", id, "owner", owner)
	}
	return true, err
}

// makeDerived decodes the original once and stores every variant; it
// returns the blob key of each by variant name.
func (s *Worker) makeDerived(ctx context.Context, id int64, key string, ch chan *deriveReq) (map[string]string, error) {
	rc, _, err := s.Store.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(rc, s.Store.maxBytes()+1))
	rc.Close()
	if err != nil {
		return nil, err
	}
	outs, err := s.derive(data, ch)
	if err != nil {
		return nil, err
	}
	keys := map[string]string{}
	for _, o := range outs {
		k := fmt.Sprintf("derived/%d/%d-%s.jpg", id/1000, id, o.Name)
		if err := s.Store.Blobs.Put(ctx, k, bytes.NewReader(o.Data), int64(len(o.Data)), o.Mime); err != nil {
			return nil, fmt.Errorf("store %s: %w", k, err)
		}
		keys[o.Name] = k
	}
	return keys, nil
}

// deriveReq is one image for the low-priority derive thread.
type deriveReq struct {
	data []byte
	outs []imaging.Output
	err  error
	done chan struct{}
}

// derive makes the derived versions: on the worker's low-priority thread
// when Run runs one, else right here (tests, tools).
func (s *Worker) derive(data []byte, ch chan *deriveReq) ([]imaging.Output, error) {
	if ch == nil {
		return imaging.Derive(data, s.Store.variants(), s.Store.Limits)
	}
	req := &deriveReq{data: data, done: make(chan struct{})}
	ch <- req
	<-req.done
	return req.outs, req.err
}

// deriveThread decodes and encodes images on an OS thread of its own at
// the lowest CPU priority, until ch is closed. Only the image work runs
// there: the database work of the worker stays at normal priority, so a
// starved thread never holds SQLite's single writer.
func (s *Worker) deriveThread(ch chan *deriveReq) {
	lowerPriority()
	for req := range ch {
		req.outs, req.err = imaging.Derive(req.data, s.Store.variants(), s.Store.Limits)
		close(req.done)
	}
}

func (p *Store) maxBytes() int64 {
	if p.MaxBytes > 0 {
		return p.MaxBytes
	}
	return DefaultMaxBytes
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// Run derives photos until ctx ends: at once when a photo is
// queued in this process, and every poll interval for jobs queued by
// other replicas or left over from before a restart.
func (s *Worker) Run(ctx context.Context, owner string, poll time.Duration) {
	ch := make(chan *deriveReq)
	go s.deriveThread(ch)
	defer close(ch)
	if poll <= 0 {
		poll = 5 * time.Second
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	// The sweep of unreferenced files runs a minute after start, then
	// every sweepEvery.
	sweep := time.NewTimer(time.Minute)
	defer sweep.Stop()
	for {
		if _, err := s.derivePhotos(ctx, owner, ch); err != nil && ctx.Err() == nil {
			s.Log.Error("photo worker", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-t.C:
		case <-sweep.C:
			if _, err := s.Sweep(ctx, DefaultSweepGrace); err != nil && !errors.Is(err, ErrCannotList) && ctx.Err() == nil {
				s.Log.Error("photo sweep", "err", err)
			}
			sweep.Reset(sweepEvery)
		}
	}
}
