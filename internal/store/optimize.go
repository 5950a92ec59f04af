package store

import (
	"context"
	"database/sql"
	_ "embed"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
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
	if _, err := db.floorStatistics(ctx); err != nil {
		return err
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

// KeepOptimized keeps the planner's statistics true until ctx ends.
// SQLite: Optimize every interval. PostgreSQL: at once and then every
// minute (or interval, if shorter), ANALYZE of the tables whose
// statistics have fallen behind (AnalyzeStale); autovacuum normally does
// that first, but a server may run with autovacuum off, and then nothing
// else would. Errors go to logf.
func (db *DB) KeepOptimized(ctx context.Context, interval time.Duration, logf func(string, ...any)) {
	pass := func() {
		var err error
		if db.Dialect == Postgres {
			var done []string
			if done, err = db.AnalyzeStale(ctx); err == nil && len(done) > 0 {
				logf("statistics: analysed %s (fallen behind; is autovacuum on?)", strings.Join(done, ", "))
			}
			if err == nil {
				if done, err = db.VacuumQueues(ctx); err == nil && len(done) > 0 {
					logf("queues: vacuumed %s (fallen behind; is autovacuum on?)", strings.Join(done, ", "))
				}
			}
		} else {
			err = db.Optimize(ctx)
		}
		if err != nil && ctx.Err() == nil {
			logf("statistics: %v", err)
		}
	}
	if db.Dialect == Postgres {
		pass()
		interval = min(interval, pgStaleCheckEvery)
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			pass()
		}
	}
}

// pgStaleCheckEvery bounds the interval of PostgreSQL's check: it costs
// one catalogue read, and analyses only what has changed enough.
const pgStaleCheckEvery = time.Minute

// queueTables are the tables whose rows are work to do: inserted, then
// deleted when done, all day. Their live rows are few and their dead ones
// many; a poll of an unvacuumed queue walks every dead entry (the trail's
// sealer asks whether anything waits twenty times a second: 3.5 ms each
// on an idle server after 590,000 events, 7 % of a core doing nothing).
var queueTables = []string{"audit_pending", "photo_jobs"}

// queueDeadRows is how many dead rows make a queue worth vacuuming, and
// queueBloatBytes how large a file of fewer live rows than that.
// queueVacuumAge is how long since a queue's last vacuum (by autovacuum
// or by VacuumQueues) before VacuumQueues considers it.
const (
	queueDeadRows   = 1000
	queueBloatBytes = 1 << 20
	queueVacuumAge  = 5 * time.Minute
)

// VacuumQueues (PostgreSQL) vacuums each queue table that no vacuum has
// visited for queueVacuumAge and that holds more than queueDeadRows dead
// rows, or a file of more than queueBloatBytes for fewer live rows than
// that; it returns their names. Where autovacuum runs it visits a busy
// queue every minute or so (the schema sets the trail queue's threshold
// to 1,000 dead rows), so the pass costs one catalogue read and leaves
// autovacuum's work to it; where it does not, a queue is vacuumed at
// most every queueVacuumAge, whether or not the last vacuum could remove
// everything (a long transaction holds dead rows back) or cut the file
// (a live row near its end). A queue's live rows are few, so its vacuum
// is short.
func (db *DB) VacuumQueues(ctx context.Context) ([]string, error) {
	if db.Dialect != Postgres {
		return nil, nil
	}
	// Dead rows, or a file far larger than its few live rows need: a
	// vacuum gives back the empty pages at the file's end (when the
	// queue's last rows are done), and until then the planner reads the
	// whole file for "is anything queued?", as it costs less than its
	// bloated index (5 ms a poll for 21 MB).
	due, err := Collect(ctx, db.Reader(), func(r Scanner) (name string, err error) { return name, r.Scan(&name) },
		`SELECT relname FROM pg_stat_user_tables
		WHERE schemaname = current_schema() AND relname = ANY(?)
		AND COALESCE(GREATEST(last_vacuum, last_autovacuum), 'epoch') < now() - make_interval(secs => ?)
		AND (n_dead_tup > ? OR pg_relation_size(relid) > ? AND n_live_tup < ?) ORDER BY relname`,
		queueTables, queueVacuumAge.Seconds(), queueDeadRows, queueBloatBytes, queueDeadRows)
	if err != nil {
		return nil, fmt.Errorf("queues to vacuum: %w", err)
	}
	for _, name := range due {
		// (VACUUM cannot run in a transaction: on the pool, not in one.)
		// INDEX_CLEANUP ON: with few dead rows left PostgreSQL skips the
		// index, and the pages that keep their dead line pointers stop the
		// file from being cut back.
		if _, err := db.w.ExecContext(ctx, `VACUUM (INDEX_CLEANUP ON) `+name); err != nil {
			return nil, fmt.Errorf("vacuum %s: %w", name, err)
		}
	}
	return due, nil
}

// AnalyzeStale (PostgreSQL) analyses each table of the schema with more
// rows changed since its last analysis than autovacuum's own threshold
// for it would allow (50 rows plus 2 % of the table, the scale factor the
// schema sets on its busy tables), and returns their names. Where
// autovacuum runs, it has mostly done this already and the pass costs one
// catalogue read.
func (db *DB) AnalyzeStale(ctx context.Context) ([]string, error) {
	if db.Dialect != Postgres {
		return nil, nil
	}
	stale, err := Collect(ctx, db.Reader(), func(r Scanner) (name string, err error) { return name, r.Scan(&name) },
		`SELECT relname FROM pg_stat_user_tables
		WHERE schemaname = current_schema() AND n_mod_since_analyze > 50 + 0.02 * GREATEST(n_live_tup, 0)
		ORDER BY relname`)
	if err != nil {
		return nil, fmt.Errorf("stale statistics: %w", err)
	}
	for _, name := range stale {
		ident := `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
		if _, err := db.w.ExecContext(ctx, `ANALYZE `+ident); err != nil {
			return nil, fmt.Errorf("analyze %s: %w", name, err)
		}
	}
	return stale, nil
}

// Statistics shipped with the schema. Measured statistics describe the
// table as it was when they were taken; a city's first weeks, or a bench
// database filled after the demo's handful of cases, leave statistics of
// a few rows, and plans made on them send a unit's queue through the
// city's open cases once the table has grown. So for the busy tables the
// program keeps a floor: where the measured statistics describe fewer
// rows than a city of floorRows cases, the statistics of such a city
// (statistics.sqlite.tsv, measured on a generated city) stand in their
// place, and the planner plans for a large city from the first day. A
// table that outgrows the floor keeps its own statistics.

//go:embed statistics.sqlite.tsv
var floorStatsTSV string

// floorStat is one sqlite_stat1 row of the shipped statistics.
type floorStat struct{ idx, stat string }

// floorStats parses the shipped statistics: table → its rows, and the
// table's row count.
func floorStats() (map[string][]floorStat, map[string]int64) {
	rows, sizes := map[string][]floorStat{}, map[string]int64{}
	for line := range strings.SplitSeq(floorStatsTSV, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			continue
		}
		rows[f[0]] = append(rows[f[0]], floorStat{f[1], f[2]})
		if n, err := strconv.ParseInt(strings.Fields(f[2])[0], 10, 64); err == nil {
			sizes[f[0]] = max(sizes[f[0]], n)
		}
	}
	return rows, sizes
}

// floorStatistics puts the shipped statistics in place of measured ones
// that describe a smaller table (SQLite; the writer connection reloads
// them, the caller renews the readers). It reports whether it changed any.
func (db *DB) floorStatistics(ctx context.Context) (bool, error) {
	if db.Dialect != SQLite {
		return false, nil
	}
	var have int
	if err := db.w.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE name = 'sqlite_stat1'`).Scan(&have); err != nil {
		return false, fmt.Errorf("statistics: %w", err)
	}
	if have == 0 {
		if _, err := db.w.ExecContext(ctx, `ANALYZE`); err != nil { // creates sqlite_stat1
			return false, fmt.Errorf("analyze: %w", err)
		}
	}
	rows, sizes := floorStats()
	changed := false
	for _, tbl := range slices.Sorted(maps.Keys(rows)) {
		var stat string
		err := db.w.QueryRowContext(ctx, `SELECT stat FROM sqlite_stat1 WHERE tbl = ? ORDER BY CAST(stat AS INTEGER) DESC LIMIT 1`, tbl).Scan(&stat)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return changed, fmt.Errorf("statistics of %s: %w", tbl, err)
		}
		if f := strings.Fields(stat); len(f) > 0 {
			if n, err := strconv.ParseInt(f[0], 10, 64); err == nil && n >= sizes[tbl] {
				continue
			}
		}
		if err := db.setStatistics(ctx, tbl, rows[tbl]); err != nil {
			return changed, err
		}
		changed = true
	}
	if changed {
		if _, err := db.w.ExecContext(ctx, `ANALYZE sqlite_schema`); err != nil {
			return changed, fmt.Errorf("reload statistics: %w", err)
		}
	}
	return changed, nil
}

// setStatistics replaces tbl's statistics with rows (indexes the schema no
// longer has are left out).
func (db *DB) setStatistics(ctx context.Context, tbl string, rows []floorStat) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, q := range []string{`DELETE FROM sqlite_stat1 WHERE tbl = ?`, `DELETE FROM sqlite_stat4 WHERE tbl = ?`} {
		if _, err := tx.ExecContext(ctx, q, tbl); err != nil && !strings.Contains(err.Error(), "no such table") {
			return fmt.Errorf("statistics of %s: %w", tbl, err)
		}
	}
	for _, r := range rows {
		if _, err := tx.ExecContext(ctx, `INSERT INTO sqlite_stat1 (tbl, idx, stat)
			SELECT ?, ?, ? WHERE EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'index' AND name = ? AND tbl_name = ?)`,
			tbl, r.idx, r.stat, r.idx, tbl); err != nil {
			return fmt.Errorf("statistics of %s: %w", tbl, err)
		}
	}
	return tx.Commit()
}
