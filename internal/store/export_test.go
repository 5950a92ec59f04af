package store

import "context"

// FloorStatistics runs the statistics floor alone (tests).
func (db *DB) FloorStatistics(ctx context.Context) (bool, error) { return db.floorStatistics(ctx) }
