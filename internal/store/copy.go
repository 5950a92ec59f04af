package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Moving an installation (SQLite to PostgreSQL, `chuangwen copy`) and
// taking a consistent copy of a live SQLite database (`chuangwen backup`).

// Version is the schema version the database is at: the highest migration
// applied (0 on a database never migrated).
func (db *DB) Version(ctx context.Context) (int, error) {
	var v sql.NullInt64
	err := db.r.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v)
	if err != nil {
		if db.missingTable(err) {
			return 0, nil
		}
		return 0, fmt.Errorf("schema version: %w", err)
	}
	return int(v.Int64), nil
}

// PublicTables counts the tables in the database's schema (this
// program's or any other's): a target that holds any is not empty.
func PublicTables(ctx context.Context, db *DB) (int, error) {
	q := `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()`
	if db.Dialect == SQLite {
		q = `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'`
	}
	var n int
	if err := db.r.QueryRowContext(ctx, q).Scan(&n); err != nil {
		return 0, fmt.Errorf("count tables: %w", err)
	}
	return n, nil
}

// LatestVersion is the schema version this program migrates to.
func LatestVersion() (int, error) {
	ms, err := loadMigrations()
	if err != nil || len(ms) == 0 {
		return 0, err
	}
	return ms[len(ms)-1].version, nil
}

func (db *DB) missingTable(err error) bool {
	s := err.Error()
	return strings.Contains(s, "no such table") || strings.Contains(s, "does not exist")
}

// SnapshotTo writes a consistent copy of a SQLite database to path (which
// must not exist) while others go on reading and writing it: VACUUM INTO
// reads the database in one read transaction, so the copy is the database
// as of one commit, compacted, without its WAL. The copy is synced to disk
// before SnapshotTo returns. It runs on the writer's connection (the
// readers are query-only) but takes no write lock: called from a process
// of its own, as `chuangwen backup` is, it holds up no one's writes.
func (db *DB) SnapshotTo(ctx context.Context, path string) error {
	if db.Dialect != SQLite {
		return errors.New("snapshot: only a SQLite database is copied this way (PostgreSQL: pg_dump)")
	}
	if _, err := db.w.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		return fmt.Errorf("snapshot into %s: %w", path, err)
	}
	// the copy holds what the database holds: its owner's eyes only
	if err := os.Chmod(path, 0o600); err != nil {
		return err
	}
	return syncFile(path)
}

// CopyReport says what Copy moved.
type CopyReport struct {
	// Rows is the number of rows copied per table.
	Rows map[string]int64
	// Skipped names the tables left out: the search index, which is
	// another structure on each engine and is rebuilt on the target.
	Skipped  []string
	Duration time.Duration
}

// copySkip are the source tables Copy leaves out: the schema's own
// bookkeeping (the target has its own, at the same version), SQLite's
// internal tables and the full-text index with its shadow tables (the
// target rebuilds its own index from the cases).
func copySkip(table string) bool {
	return table == "schema_migrations" || strings.HasPrefix(table, "sqlite_") ||
		table == "case_search" || strings.HasPrefix(table, "case_search_")
}

// copyBatch is how many rows one INSERT carries.
const copyBatch = 200

// Copy copies every row of src into dst, a PostgreSQL database migrated to
// the same schema version and holding no data yet, in one transaction on
// dst: the target ends with all of it or none. The source is read in one
// read transaction (a consistent state even if something writes to it;
// stop the server first all the same, or its later writes stay behind).
// Rows keep their ids; foreign keys are satisfied by copying tables
// parents first, and a reference that closes a cycle (a row pointing at a
// row of its own table, say) is filled in once every row is there. The
// identity sequences are moved past the highest id. The search index is
// not copied (see CopyReport.Skipped); the caller rebuilds it.
func Copy(ctx context.Context, src, dst *DB, progress func(table string, rows int64)) (CopyReport, error) {
	start := time.Now()
	rep := CopyReport{Rows: map[string]int64{}}
	if dst.Dialect != Postgres {
		return rep, errors.New("copy: the target must be a PostgreSQL database")
	}
	sv, err := src.Version(ctx)
	if err != nil {
		return rep, err
	}
	dv, err := dst.Version(ctx)
	if err != nil {
		return rep, err
	}
	if sv != dv {
		return rep, fmt.Errorf("copy: the source is at schema version %d and the target at %d; migrate both with this program first", sv, dv)
	}
	for _, t := range []string{"regions", "users", "cases", "events"} {
		var n int64
		if err := dst.r.QueryRowContext(ctx, `SELECT count(*) FROM `+t).Scan(&n); err != nil {
			return rep, fmt.Errorf("copy: target: %w", err)
		}
		if n > 0 {
			return rep, fmt.Errorf("copy: the target already holds data (%d rows in %s); copy into an empty database", n, t)
		}
	}
	tables, err := pgTables(ctx, dst)
	if err != nil {
		return rep, err
	}
	srcTables, err := sourceTables(ctx, src)
	if err != nil {
		return rep, err
	}
	for _, t := range srcTables {
		if copySkip(t) {
			rep.Skipped = append(rep.Skipped, t)
			continue
		}
		if _, ok := tables[t]; !ok {
			return rep, fmt.Errorf("copy: table %s of the source is not in the target", t)
		}
	}
	order, err := copyOrder(tables)
	if err != nil {
		return rep, err
	}
	// One read transaction on the source for every table.
	rtx, err := src.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return rep, fmt.Errorf("copy: read the source: %w", err)
	}
	defer rtx.Rollback()
	wtx, err := dst.w.BeginTx(ctx, nil)
	if err != nil {
		return rep, fmt.Errorf("copy: begin on the target: %w", err)
	}
	defer wtx.Rollback()
	pos := map[string]int{}
	for i, t := range order {
		pos[t] = i
	}
	type fixup struct {
		table, col string
	}
	var later []fixup
	for _, t := range order {
		if copySkip(t) {
			continue
		}
		ti := tables[t]
		srcCols, err := sourceColumns(ctx, src, rtx, t)
		if err != nil {
			return rep, err
		}
		var cols []pgColumn
		for _, c := range ti.cols {
			if !slices.Contains(srcCols, c.name) {
				return rep, fmt.Errorf("copy: column %s.%s of the target is not in the source", t, c.name)
			}
			cols = append(cols, c)
		}
		if len(cols) != len(srcCols) {
			return rep, fmt.Errorf("copy: table %s has %d columns in the source and %d in the target", t, len(srcCols), len(cols))
		}
		// References to this table or one copied after it wait.
		deferred := map[string]bool{}
		for col, ref := range ti.refs {
			if pos[ref] >= pos[t] {
				deferred[col] = true
				later = append(later, fixup{t, col})
			}
		}
		// The target's rows of a fresh migration (the trail's head, the
		// counters) give way to the source's.
		if _, err := wtx.ExecContext(ctx, `DELETE FROM `+t); err != nil {
			return rep, fmt.Errorf("copy: clear %s: %w", t, err)
		}
		n, err := copyTable(ctx, rtx, wtx, t, cols, deferred, ti.hasID)
		if err != nil {
			return rep, err
		}
		rep.Rows[t] = n
		if progress != nil {
			progress(t, n)
		}
	}
	for _, f := range later {
		if err := copyFixup(ctx, rtx, wtx, f.table, f.col); err != nil {
			return rep, err
		}
	}
	// The target's trigger queued every copied entry of the trail for
	// sealing; those the source had sealed are sealed already.
	if _, err := wtx.ExecContext(ctx, `DELETE FROM audit_pending p WHERE EXISTS (SELECT 1 FROM audit_seals s WHERE s.seq = p.seq)`); err != nil {
		return rep, fmt.Errorf("copy: trail queue: %w", err)
	}
	for _, t := range order {
		if tables[t].identity == "" || copySkip(t) {
			continue
		}
		col := tables[t].identity
		if _, err := wtx.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence($1, $2), GREATEST((SELECT MAX(`+col+`) FROM `+t+`), 1), (SELECT MAX(`+col+`) FROM `+t+`) IS NOT NULL)`, t, col); err != nil {
			return rep, fmt.Errorf("copy: identity of %s: %w", t, err)
		}
	}
	if err := wtx.Commit(); err != nil {
		return rep, fmt.Errorf("copy: commit: %w", err)
	}
	if _, err := dst.w.ExecContext(ctx, `ANALYZE`); err != nil {
		return rep, fmt.Errorf("copy: analyze: %w", err)
	}
	rep.Duration = time.Since(start)
	return rep, nil
}

type pgColumn struct {
	name string
	typ  string // information_schema data_type
}

type pgTable struct {
	cols     []pgColumn
	deps     []string          // the tables its foreign keys reference
	refs     map[string]string // column -> referenced table (single-column foreign keys)
	identity string            // the identity column, if any
	hasID    bool
}

// pgTables reads the target's tables, columns (generated ones left out)
// and foreign keys.
func pgTables(ctx context.Context, db *DB) (map[string]*pgTable, error) {
	out := map[string]*pgTable{}
	rows, err := db.r.QueryContext(ctx, `SELECT table_name, column_name, data_type, is_identity, is_generated
		FROM information_schema.columns c
		WHERE table_schema = current_schema() AND EXISTS (SELECT 1 FROM information_schema.tables t
			WHERE t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE')
		ORDER BY table_name, ordinal_position`)
	if err != nil {
		return nil, fmt.Errorf("copy: target columns: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var t, c, typ, ident, gen string
		if err := rows.Scan(&t, &c, &typ, &ident, &gen); err != nil {
			return nil, err
		}
		ti := out[t]
		if ti == nil {
			ti = &pgTable{refs: map[string]string{}}
			out[t] = ti
		}
		if gen == "ALWAYS" {
			continue
		}
		ti.cols = append(ti.cols, pgColumn{c, typ})
		if ident == "YES" {
			ti.identity = c
		}
		if c == "id" {
			ti.hasID = true
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	fks, err := db.r.QueryContext(ctx, `SELECT cl.relname, CASE WHEN cardinality(k.conkey) = 1 THEN a.attname ELSE '' END, rf.relname
		FROM pg_constraint k
		JOIN pg_class cl ON cl.oid = k.conrelid JOIN pg_class rf ON rf.oid = k.confrelid
		JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]
		WHERE k.contype = 'f' AND k.connamespace = current_schema()::regnamespace`)
	if err != nil {
		return nil, fmt.Errorf("copy: target foreign keys: %w", err)
	}
	defer fks.Close()
	for fks.Next() {
		var t, c, ref string
		if err := fks.Scan(&t, &c, &ref); err != nil {
			return nil, err
		}
		if ti := out[t]; ti != nil {
			ti.deps = append(ti.deps, ref)
			if c != "" {
				ti.refs[c] = ref
			}
		}
	}
	return out, fks.Err()
}

// copyOrder puts referenced tables before the tables that reference them;
// where references go round in a cycle, the table earliest by name goes
// first and its references into the cycle are filled in afterwards.
func copyOrder(tables map[string]*pgTable) ([]string, error) {
	names := make([]string, 0, len(tables))
	for t := range tables {
		names = append(names, t)
	}
	slices.Sort(names)
	done := map[string]bool{}
	var order []string
	for len(order) < len(names) {
		progressed := false
		for _, t := range names {
			if done[t] {
				continue
			}
			ready := true
			for _, ref := range tables[t].deps {
				if ref != t && !done[ref] {
					ready = false
					break
				}
			}
			if ready {
				done[t] = true
				order = append(order, t)
				progressed = true
			}
		}
		if !progressed {
			for _, t := range names {
				if !done[t] {
					done[t] = true
					order = append(order, t)
					break
				}
			}
		}
	}
	return order, nil
}

// sourceTables lists the source's tables.
func sourceTables(ctx context.Context, db *DB) ([]string, error) {
	q := `SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`
	if db.Dialect == Postgres {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`
	}
	rows, err := db.r.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("copy: source tables: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// sourceColumns lists a source table's columns.
func sourceColumns(ctx context.Context, db *DB, tx *sql.Tx, table string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT * FROM `+table+` WHERE 1 = 0`)
	if err != nil {
		return nil, fmt.Errorf("copy: columns of %s: %w", table, err)
	}
	defer rows.Close()
	return rows.Columns()
}

// copyTable copies one table's rows in batches, the deferred columns as
// NULL, and returns how many.
func copyTable(ctx context.Context, rtx, wtx *sql.Tx, table string, cols []pgColumn, deferred map[string]bool, byID bool) (int64, error) {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.name
	}
	q := `SELECT ` + strings.Join(names, ", ") + ` FROM ` + table
	switch {
	case table == "events":
		// the trail in its order (the target's trigger queues each row
		// for sealing; copy drops the queue rows of those sealed)
		q += ` ORDER BY seq`
	case table == "audit_seals":
		// each seal must be the chain's next link (migration 0033)
		q += ` ORDER BY link`
	case byID:
		q += ` ORDER BY id`
	}
	rows, err := rtx.QueryContext(ctx, q)
	if err != nil {
		return 0, fmt.Errorf("copy: read %s: %w", table, err)
	}
	defer rows.Close()
	var n int64
	args := make([]any, 0, copyBatch*len(cols))
	pending := 0
	flush := func() error {
		if pending == 0 {
			return nil
		}
		var b strings.Builder
		b.WriteString(`INSERT INTO ` + table + ` (` + strings.Join(names, ", ") + `) VALUES `)
		p := 0
		for r := 0; r < pending; r++ {
			if r > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('(')
			for i := range cols {
				if i > 0 {
					b.WriteByte(',')
				}
				p++
				fmt.Fprintf(&b, "$%d", p)
			}
			b.WriteByte(')')
		}
		if _, err := wtx.ExecContext(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("copy: write %s: %w", table, err)
		}
		args, pending = args[:0], 0
		return nil
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, fmt.Errorf("copy: read %s: %w", table, err)
		}
		for i, c := range cols {
			v, err := pgValue(vals[i], c.typ)
			if err != nil {
				return n, fmt.Errorf("copy: %s.%s: %w", table, c.name, err)
			}
			if deferred[c.name] {
				v = nil
			}
			args = append(args, v)
		}
		pending++
		n++
		if pending == copyBatch {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("copy: read %s: %w", table, err)
	}
	return n, flush()
}

// copyFixup fills in a deferred reference column once every row exists.
func copyFixup(ctx context.Context, rtx, wtx *sql.Tx, table, col string) error {
	rows, err := rtx.QueryContext(ctx, `SELECT id, `+col+` FROM `+table+` WHERE `+col+` IS NOT NULL`)
	if err != nil {
		return fmt.Errorf("copy: read %s.%s: %w", table, col, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, ref int64
		if err := rows.Scan(&id, &ref); err != nil {
			return err
		}
		if _, err := wtx.ExecContext(ctx, `UPDATE `+table+` SET `+col+` = $1 WHERE id = $2`, ref, id); err != nil {
			return fmt.Errorf("copy: %s.%s of row %d: %w", table, col, id, err)
		}
	}
	return rows.Err()
}

// pgValue converts a value read from the source into what the target's
// column type takes: SQLite keeps booleans as 0 and 1, and hands text
// back as bytes in some cases.
func pgValue(v any, typ string) (any, error) {
	switch typ {
	case "boolean":
		switch x := v.(type) {
		case int64:
			return x != 0, nil
		case bool, nil:
			return x, nil
		default:
			return nil, fmt.Errorf("%v (%T) is not a boolean", v, v)
		}
	case "text", "character varying":
		if b, ok := v.([]byte); ok {
			return string(b), nil
		}
	}
	return v, nil
}

// syncFile flushes a file and its folder's entry to disk.
func syncFile(path string) error {
	for _, p := range []string{path, filepath.Dir(path)} {
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		err = f.Sync()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("sync %s: %w", p, err)
		}
	}
	return nil
}
