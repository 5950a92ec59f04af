package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Statistics that stay true while the server runs for months and the data
// grows under it.
//
// SQLite's planner reads the statistics (sqlite_stat1) when a connection
// loads the schema, and a connection keeps them for its life: plans made
// for a small database stay in force as it grows. So the statistics are
// refreshed now and then (PRAGMA optimize, which analyses only the tables
// whose size changed a lot, each on a sample of analysisLimit rows) and
// after bulk work, and the readers' connections are renewed so that new
// statistics reach them. PostgreSQL's autovacuum analyses as the tables
// grow (its thresholds for the busy tables are lowered in migration 0018);
// after bulk work Optimize runs ANALYZE.

// analysisLimit is the rows PRAGMA optimize samples per index.
const analysisLimit = 1000

// readerLifetime bounds a SQLite reader connection's life, so that no
// plan outlives the statistics by more than this.
const readerLifetime = 30 * time.Minute

// Optimize brings the planner's statistics up to date: on SQLite it runs
// PRAGMA optimize on the writer and renews the idle reader connections;
// on PostgreSQL, ANALYZE of the tables named (all when none is). Call it
// after bulk writes (an import, the demo, generated data); serve runs it
// periodically on SQLite.
func (db *DB) Optimize(ctx context.Context, tables ...string) error {
	if db.Dialect == Postgres {
		q := `ANALYZE`
		if len(tables) > 0 {
			q += " " + strings.Join(tables, ", ") // names from the code, never from input
		}
		if _, err := db.w.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("analyze: %w", err)
		}
		return nil
	}
	if _, err := db.w.ExecContext(ctx, fmt.Sprintf(`PRAGMA analysis_limit=%d`, analysisLimit)); err != nil {
		return fmt.Errorf("optimize: %w", err)
	}
	if _, err := db.w.ExecContext(ctx, `PRAGMA optimize=0x10002`); err != nil {
		return fmt.Errorf("optimize: %w", err)
	}
	db.renewReaders()
	return nil
}

// renewReaders closes the idle reader connections; the next reads open
// new ones, which load the statistics afresh. (A connection busy now
// keeps its plans until its lifetime ends.)
func (db *DB) renewReaders() {
	if db.Dialect != SQLite {
		return
	}
	db.r.SetMaxIdleConns(0)
	db.r.SetMaxIdleConns(readerConns)
}

// KeepOptimized runs Optimize every interval until ctx ends (SQLite; on
// PostgreSQL autovacuum does this). Errors go to logf.
func (db *DB) KeepOptimized(ctx context.Context, interval time.Duration, logf func(string, ...any)) {
	if db.Dialect != SQLite {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := db.Optimize(ctx); err != nil && ctx.Err() == nil {
				logf("statistics: %v", err)
			}
		}
	}
}
