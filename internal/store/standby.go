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
	// a standby cut off by the network fails its check in seconds instead
	// of holding the reads sent to it
	p, err := openPool(withParam(dsn, "connect_timeout=2"))
	if err != nil {
		return fmt.Errorf("standby: %w", err)
	}
	db.standby = p
	return nil
}

// standbyBudget is how far behind the primary a standby may be when it
// serves a read: the check that found it caught up must have read the
// primary's position no longer ago than this. It stays below the web
// layer's read-your-writes window (5 s).
const standbyBudget = 3 * time.Second

// standbyUsable reports whether the standby passed a check recent enough.
func (db *DB) standbyUsable() bool {
	return db.standby != nil && time.Now().UnixNano() < db.standbyUntil.Load()
}

// HasStandby reports whether a standby is attached.
func (db *DB) HasStandby() bool { return db.standby != nil }

// StandbyInUse reports whether reads go to the standby now.
func (db *DB) StandbyInUse() bool { return db.standbyUsable() }

// Standby returns the Queryer for the reads that may be served slightly
// behind the primary: the standby while it is caught up and ctx is not
// marked Primary, else the read pool.
func (db *DB) Standby(ctx context.Context) Queryer {
	if !db.standbyUsable() {
		return db.Reader()
	}
	if v, _ := ctx.Value(primaryKey{}).(bool); v {
		return db.Reader()
	}
	return standbyReader{db}
}

// WatchStandby checks the standby every interval until ctx ends: in use
// while it is a streaming copy of this primary that has replayed at least
// what the primary had written at the check before, and then only until
// that position is standbyBudget old; otherwise reads go to the primary
// until it catches up.
func (db *DB) WatchStandby(ctx context.Context, every time.Duration, log *slog.Logger) {
	if db.standby == nil {
		return
	}
	prev, prevAt, inUse, why := "", time.Time{}, false, ""
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		at := time.Now()
		ok, lsn, err := db.checkStandby(ctx, prev)
		if ok {
			// what the standby has replayed was on the primary at prevAt:
			// it serves reads until that is standbyBudget old
			db.standbyUntil.Store(prevAt.Add(standbyBudget).UnixNano())
		} else {
			db.standbyUntil.Store(0)
		}
		// said once per change: taken into use, or left out for a reason
		// (also the first time, so that a wrong --db-replica shows)
		switch {
		case log == nil:
		case ok && !inUse:
			log.Info("standby caught up: list reads go to it")
			why = ""
		case !ok && err != nil && err.Error() != why:
			log.Warn("standby not in use: reads go to the primary", "err", err)
			why = err.Error()
		}
		inUse = ok
		if lsn != "" {
			prev, prevAt = lsn, at
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
	var system string
	if err := db.r.QueryRowContext(cctx, `SELECT pg_current_wal_lsn()::text, (SELECT system_identifier::text FROM pg_control_system())`).Scan(&lsn, &system); err != nil {
		// The primary is down or in recovery itself: nothing to compare with.
		return false, "", fmt.Errorf("primary position: %w", err)
	}
	if prev == "" {
		return false, lsn, nil
	}
	var recovering, caughtUp sql.NullBool
	var standbySystem string
	var receiver sql.NullString
	err = db.standby.QueryRowContext(cctx, `SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn() >= $1::pg_lsn,
		(SELECT system_identifier::text FROM pg_control_system()), (SELECT status FROM pg_stat_wal_receiver)`, prev).
		Scan(&recovering, &caughtUp, &standbySystem, &receiver)
	switch {
	case err != nil:
		return false, lsn, fmt.Errorf("standby: %w", err)
	case standbySystem != system:
		return false, lsn, errors.New("the standby is not a copy of this primary (another system identifier)")
	case !recovering.Bool:
		// promoted, or not a standby at all: its data may not be the primary's
		return false, lsn, errors.New("the standby is not in recovery")
	case receiver.Valid && receiver.String != "streaming":
		// left behind by a failover, or cut off: what it has may not be
		// the current primary's (a role without pg_read_all_stats sees no
		// status, and then only the other checks apply)
		return false, lsn, fmt.Errorf("the standby is not streaming from a primary (%s)", receiver.String)
	case !caughtUp.Bool:
		return false, lsn, errors.New("the standby is behind")
	}
	return true, lsn, nil
}

type standbyReader struct{ db *DB }

// A query the standby fails (down, cut off, or a query cancelled by a
// replication conflict) runs again on the primary, and the standby is
// out of use until its next successful check.
func (r standbyReader) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if err := checkText(args); err != nil {
		return nil, err
	}
	rows, err := r.db.standby.QueryContext(ctx, r.db.Rebind(q), args...)
	if err != nil && ctx.Err() == nil {
		r.db.standbyUntil.Store(0)
		return r.db.Reader().Query(ctx, q, args...)
	}
	return rows, queryError(q, err)
}

// QueryRow runs the query at once (not when the row is scanned), so that
// a failure on the standby can still go to the primary.
func (r standbyReader) QueryRow(ctx context.Context, q string, args ...any) *Row {
	rows, err := r.Query(ctx, q, args...)
	if err != nil {
		return &Row{q: q, err: err}
	}
	return &Row{rows: rows, q: q}
}

func (r standbyReader) Dialect() Dialect { return r.db.Dialect }
