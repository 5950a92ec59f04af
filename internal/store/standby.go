package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// A standby is a PostgreSQL streaming replica that takes the reads of the
// busiest pages (lists, counters, the leader's screen) off the primary
// (`--db-replica`). It is used only while it is caught up: a watcher
// compares its replayed position with the primary's every interval, and
// a standby that is behind, unreachable or promoted sends every read back
// to the primary. A request marked with Primary (a user who has just
// written) reads from the primary whatever the standby's state, so that
// nobody misses their own change.

type primaryKey struct{}

// Primary marks ctx so that Standby reads from the primary: read-your-
// writes for the requests that follow a user's change.
func Primary(ctx context.Context) context.Context {
	return context.WithValue(ctx, primaryKey{}, true)
}

// AttachStandby opens the standby at dsn (PostgreSQL, with a PostgreSQL
// primary). It is not used until WatchStandby has seen it caught up, and
// may be down when attached.
func (db *DB) AttachStandby(dsn string) error {
	if db.Dialect != Postgres || !IsPostgres(dsn) {
		return errors.New("a standby for reads needs PostgreSQL as both the database and the standby")
	}
	p, err := openPool(dsn)
	if err != nil {
		return fmt.Errorf("standby: %w", err)
	}
	db.standby = p
	return nil
}

// HasStandby reports whether a standby is attached.
func (db *DB) HasStandby() bool { return db.standby != nil }

// StandbyInUse reports whether reads go to the standby now.
func (db *DB) StandbyInUse() bool { return db.standby != nil && db.standbyOK.Load() }

// Standby returns the Queryer for the reads that may be served slightly
// behind the primary: the standby while it is caught up and ctx is not
// marked Primary, else the read pool.
func (db *DB) Standby(ctx context.Context) Queryer {
	if db.standby == nil || !db.standbyOK.Load() {
		return db.Reader()
	}
	if v, _ := ctx.Value(primaryKey{}).(bool); v {
		return db.Reader()
	}
	return standbyReader{db}
}

// WatchStandby checks the standby every interval until ctx ends: in use
// while it is in recovery and has replayed at least what the primary had
// written at the check before (so it is at most about two intervals
// behind); otherwise reads go to the primary until it catches up.
func (db *DB) WatchStandby(ctx context.Context, every time.Duration, log *slog.Logger) {
	if db.standby == nil {
		return
	}
	prev := ""
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		ok, lsn, err := db.checkStandby(ctx, prev)
		if was := db.standbyOK.Swap(ok); was != ok && log != nil {
			if ok {
				log.Info("standby caught up: list reads go to it")
			} else {
				log.Warn("standby not in use: reads go to the primary", "err", err)
			}
		}
		if lsn != "" {
			prev = lsn
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// checkStandby reads the primary's WAL position and reports whether the
// standby had replayed prev (the primary's position at the last check).
func (db *DB) checkStandby(ctx context.Context, prev string) (ok bool, lsn string, err error) {
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := db.r.QueryRowContext(cctx, `SELECT pg_current_wal_lsn()::text`).Scan(&lsn); err != nil {
		// The primary is down or in recovery itself: nothing to compare with.
		return false, "", fmt.Errorf("primary position: %w", err)
	}
	if prev == "" {
		return false, lsn, nil
	}
	var recovering, caughtUp sql.NullBool
	err = db.standby.QueryRowContext(cctx, `SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn() >= $1::pg_lsn`, prev).Scan(&recovering, &caughtUp)
	switch {
	case err != nil:
		return false, lsn, fmt.Errorf("standby: %w", err)
	case !recovering.Bool:
		// promoted, or not a standby at all: its data may not be the primary's
		return false, lsn, errors.New("the standby is not in recovery")
	case !caughtUp.Bool:
		return false, lsn, errors.New("the standby is behind")
	}
	return true, lsn, nil
}

type standbyReader struct{ db *DB }

func (r standbyReader) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if err := checkText(args); err != nil {
		return nil, err
	}
	rows, err := r.db.standby.QueryContext(ctx, r.db.Rebind(q), args...)
	return rows, queryError(q, err)
}

func (r standbyReader) QueryRow(ctx context.Context, q string, args ...any) *Row {
	if err := checkText(args); err != nil {
		return &Row{q: q, err: err}
	}
	return &Row{row: r.db.standby.QueryRowContext(ctx, r.db.Rebind(q), args...), q: q}
}

func (r standbyReader) Dialect() Dialect { return r.db.Dialect }
