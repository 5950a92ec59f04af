package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"chuangwen/internal/store"
	"chuangwen/internal/store/storetest"
)

// TestUpgradeWithData: a database that has lived through every schema
// version, with rows written at each, migrates to the current one on both
// engines. The database is made at version 1 with two rows in every table,
// then taken one version up at a time, and after each step two more rows
// go into every table as that version has it (the rows are made from the
// schema itself: every column filled, foreign keys pointing at rows of
// the referenced tables). So each migration runs over rows written under
// every earlier schema: one that adds a column without a default, makes
// an index unique, or rewrites rows in a way older data breaks, fails here.
// At the end no row written along the way is lost.
func TestUpgradeWithData(t *testing.T) {
	t.Parallel()
	latest, err := store.LatestVersion()
	if err != nil {
		t.Fatal(err)
	}
	run := func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		written := map[string]int64{}
		last := map[string][]map[string]any{} // table -> its last rows' values
		for v := 1; v <= latest; v++ {
			if _, err := db.MigrateTo(ctx, v); err != nil {
				t.Fatalf("migrating to %d over rows written at versions 1..%d: %v", v, v-1, err)
			}
			if got, err := db.Version(ctx); err != nil || got != v {
				t.Fatalf("version %d, %v; want %d", got, err, v)
			}
			schema, err := readSchema(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			// A table whose rows were written earlier is still there,
			// or has a new name.
			for tb, n := range written {
				if schema.tables[tb] != nil {
					continue
				}
				to, ok := renamed[tb]
				if !ok || schema.tables[to] == nil {
					t.Fatalf("version %d: table %s and its %d rows are gone", v, tb, n)
				}
				written[to] += n
				delete(written, tb)
			}
			// one transaction a version: the rows, not the commits, are
			// what the next migration is about
			err = db.WithTx(ctx, func(tx *store.Tx) error {
				for _, tb := range schema.order() {
					for r := 0; r < 2; r++ {
						if err := insertRow(ctx, tx, schema.tables[tb], last, v, r); err != nil {
							return fmt.Errorf("a row in %s: %w", tb, err)
						}
						written[tb]++
					}
				}
				return nil
			})
			if err != nil {
				t.Fatalf("version %d: %v", v, err)
			}
		}
		for tb, n := range written {
			var have int64
			if err := db.Reader().QueryRow(ctx, `SELECT count(*) FROM `+tb).Scan(&have); err != nil {
				t.Errorf("%s: %v", tb, err)
				continue
			}
			if have < n {
				t.Errorf("%s: %d rows written along the way, %d left", tb, n, have)
			}
		}
	}
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "up.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		run(t, db)
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		db, err := store.Open(context.Background(), storetest.EmptyPostgres(t))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		run(t, db)
	})
}

// renamed: the tables a migration renamed (0008: tasks became dispatches).
var renamed = map[string]string{"tasks": "dispatches"}

type column struct {
	name, typ string
	notNull   bool
	autoID    bool // the integer primary key the database numbers
}

type foreignKey struct {
	from  []string
	table string
	to    []string
}

type table struct {
	name string
	cols []column
	fks  []foreignKey
}

type schema struct{ tables map[string]*table }

// skipTable: bookkeeping and the search index (different on each engine,
// filled by the program).
func skipTable(name string) bool {
	return name == "schema_migrations" || strings.HasPrefix(name, "sqlite_") || strings.HasPrefix(name, "case_search")
}

// readSchema reads tables, columns and foreign keys from the catalogue.
func readSchema(ctx context.Context, db *store.DB) (schema, error) {
	s := schema{tables: map[string]*table{}}
	q := db.Reader()
	if db.Dialect == store.SQLite {
		names, err := store.Collect(ctx, q, func(r store.Scanner) (n string, err error) { return n, r.Scan(&n) },
			`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
		if err != nil {
			return s, err
		}
		for _, n := range names {
			if skipTable(n) {
				continue
			}
			tb := &table{name: n}
			type info struct {
				name, typ   string
				notNull, pk int
			}
			cols, err := store.Collect(ctx, q, func(r store.Scanner) (c info, err error) { return c, r.Scan(&c.name, &c.typ, &c.notNull, &c.pk) },
				`SELECT name, type, "notnull", pk FROM pragma_table_info(?) ORDER BY cid`, n)
			if err != nil {
				return s, err
			}
			pks := 0
			for _, c := range cols {
				if c.pk > 0 {
					pks++
				}
			}
			for _, c := range cols {
				tb.cols = append(tb.cols, column{name: c.name, typ: strings.ToUpper(c.typ), notNull: c.notNull == 1 || c.pk > 0,
					autoID: pks == 1 && c.pk == 1 && strings.EqualFold(c.typ, "INTEGER")})
			}
			type fk struct {
				id       int
				tbl, frm string
				to       sql.NullString
			}
			fks, err := store.Collect(ctx, q, func(r store.Scanner) (f fk, err error) { return f, r.Scan(&f.id, &f.tbl, &f.frm, &f.to) },
				`SELECT id, "table", "from", "to" FROM pragma_foreign_key_list(?) ORDER BY id, seq`, n)
			if err != nil {
				return s, err
			}
			for i := 0; i < len(fks); {
				k := foreignKey{table: fks[i].tbl}
				id := fks[i].id
				for ; i < len(fks) && fks[i].id == id; i++ {
					k.from = append(k.from, fks[i].frm)
					k.to = append(k.to, fks[i].to.String) // empty: the parent's key, filled below
				}
				tb.fks = append(tb.fks, k)
			}
			s.tables[n] = tb
		}
		// A reference without columns names the parent's primary key.
		for _, tb := range s.tables {
			for i, k := range tb.fks {
				if k.to[0] == "" {
					if p := s.tables[k.table]; p != nil {
						for _, c := range p.cols {
							if c.autoID {
								tb.fks[i].to = []string{c.name}
							}
						}
					}
				}
			}
		}
		return s, nil
	}
	type pgcol struct {
		table, name, typ, nullable, def string
	}
	cols, err := store.Collect(ctx, q, func(r store.Scanner) (c pgcol, err error) {
		return c, r.Scan(&c.table, &c.name, &c.typ, &c.nullable, &c.def)
	}, `SELECT c.table_name, c.column_name, c.data_type, c.is_nullable, CASE WHEN c.is_identity = 'YES' THEN 'identity' ELSE '' END
		FROM information_schema.columns c JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
		WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' ORDER BY c.table_name, c.ordinal_position`)
	if err != nil {
		return s, err
	}
	for _, c := range cols {
		if skipTable(c.table) {
			continue
		}
		tb := s.tables[c.table]
		if tb == nil {
			tb = &table{name: c.table}
			s.tables[c.table] = tb
		}
		tb.cols = append(tb.cols, column{name: c.name, typ: strings.ToUpper(c.typ), notNull: c.nullable == "NO", autoID: c.def == "identity"})
	}
	type pgfk struct {
		name, table, from, ref, to string
	}
	fks, err := store.Collect(ctx, q, func(r store.Scanner) (f pgfk, err error) {
		return f, r.Scan(&f.name, &f.table, &f.from, &f.ref, &f.to)
	}, `SELECT k.conname, cl.relname, a.attname, rf.relname, b.attname
		FROM pg_constraint k CROSS JOIN LATERAL unnest(k.conkey, k.confkey) WITH ORDINALITY AS u(fromnum, tonum, ord)
		JOIN pg_class cl ON cl.oid = k.conrelid JOIN pg_class rf ON rf.oid = k.confrelid
		JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.fromnum
		JOIN pg_attribute b ON b.attrelid = k.confrelid AND b.attnum = u.tonum
		WHERE k.contype = 'f' AND k.connamespace = current_schema()::regnamespace ORDER BY k.conname, u.ord`)
	if err != nil {
		return s, err
	}
	for i := 0; i < len(fks); {
		k := foreignKey{table: fks[i].ref}
		tb, name := s.tables[fks[i].table], fks[i].name
		for ; i < len(fks) && fks[i].name == name; i++ {
			k.from = append(k.from, fks[i].from)
			k.to = append(k.to, fks[i].to)
		}
		if tb != nil {
			tb.fks = append(tb.fks, k)
		}
	}
	return s, nil
}

// order lists the tables parents first (references to the table itself,
// or round a cycle, are left NULL where they may be).
func (s schema) order() []string {
	var names []string
	for n := range s.tables {
		names = append(names, n)
	}
	slices.Sort(names)
	done := map[string]bool{}
	var out []string
	for len(out) < len(names) {
		moved := false
		for _, n := range names {
			if done[n] {
				continue
			}
			ready := true
			for _, k := range s.tables[n].fks {
				if k.table != n && !done[k.table] && s.tables[k.table] != nil {
					ready = false
				}
			}
			if ready {
				done[n], moved = true, true
				out = append(out, n)
			}
		}
		if !moved {
			for _, n := range names {
				if !done[n] {
					done[n] = true
					out = append(out, n)
					break
				}
			}
		}
	}
	return out
}

// insertRow writes one row into tb: a value for every column, each
// foreign key pointing at the last row written into its table.
func insertRow(ctx context.Context, tx *store.Tx, tb *table, last map[string][]map[string]any, version, r int) error {
	vals := map[string]any{}
	for _, k := range tb.fks {
		// row r points at the parent's row r of the same step, so that
		// two rows never share a parent where a unique index spans it
		var parent map[string]any
		if rows := last[k.table]; len(rows) > 0 {
			parent = rows[min(r, len(rows)-1)]
		}
		for i, from := range k.from {
			if parent != nil {
				vals[from] = parent[k.to[i]]
			} else {
				vals[from] = nil
			}
		}
	}
	if tb.name == "audit_seals" {
		// a seal can only be the chain's next link (migration 0033)
		var next int64
		if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(link), 0) + 1 FROM audit_seals`).Scan(&next); err != nil {
			return err
		}
		vals["link"] = next
	}
	var names []string
	var args []any
	var auto string
	for _, c := range tb.cols {
		if c.autoID {
			auto = c.name
			continue
		}
		v, ok := vals[c.name]
		if !ok {
			v = sampleValue(c, tb.name, version, r)
		}
		if v == nil && c.notNull {
			v = sampleValue(c, tb.name, version, r)
		}
		names = append(names, c.name)
		args = append(args, v)
	}
	q := `INSERT INTO ` + tb.name + ` (` + strings.Join(names, ", ") + `) VALUES ` + store.In(len(names))
	row := map[string]any{}
	for i, n := range names {
		row[n] = args[i]
	}
	if auto != "" {
		var id int64
		if err := tx.QueryRow(ctx, q+" RETURNING "+auto, args...).Scan(&id); err != nil {
			return err
		}
		row[auto] = id
	} else if _, err := tx.Exec(ctx, q, args...); err != nil {
		return err
	}
	if r == 0 {
		last[tb.name] = nil
	}
	last[tb.name] = append(last[tb.name], row)
	return nil
}

// sampleValue is a value of the column's type, unique to the version and
// row where a unique index may ask for it.
func sampleValue(c column, table string, version, r int) any {
	n := version*10 + r + 1
	switch {
	case strings.Contains(c.typ, "BOOL"):
		return r == 0
	case strings.Contains(c.typ, "INT"):
		return int64(n)
	case strings.Contains(c.typ, "DOUBLE"), strings.Contains(c.typ, "REAL"):
		return 25.0 + float64(n)/1000
	case strings.Contains(c.typ, "BYTEA"), strings.Contains(c.typ, "BLOB"):
		return []byte(fmt.Sprintf("b%d", n))
	}
	return fmt.Sprintf("%s-%s-%d", table, c.name, n)
}
