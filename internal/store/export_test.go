package store

import (
	"context"
	"time"
)

// FloorStatistics runs the statistics floor alone (tests).
func (db *DB) FloorStatistics(ctx context.Context) (bool, error) { return db.floorStatistics(ctx) }

// MarkStandbyCaughtUp makes the attached standby usable for d, as a check
// that found it caught up does (tests of what happens between checks).
func (db *DB) MarkStandbyCaughtUp(d time.Duration) {
	db.standbyUntil.Store(time.Now().Add(d).UnixNano())
}
