package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgconn"

	"chuangwen/internal/apperr"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Scanner is a row to scan: *sql.Row, *sql.Rows and Row all are.
type Scanner interface {
	Scan(dest ...any) error
}

// Row is one row of a QueryRow. Its Scan names the query in any error but
// sql.ErrNoRows (which errors.Is still finds, and which is an answer, not
// a failure).
type Row struct {
	row  *sql.Row
	rows *sql.Rows // instead of row: a query already run (the standby's)
	q    string
	err  error // the arguments' own fault, found before the query ran
}

// Scan copies the row's columns into dest.
func (r *Row) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	if r.rows != nil {
		return r.scanRows(dest)
	}
	err := r.row.Scan(dest...)
	if err == nil || errors.Is(err, sql.ErrNoRows) {
		return err
	}
	return queryError(r.q, err)
}

// scanRows scans the first row of r.rows, as sql.Row does.
func (r *Row) scanRows(dest []any) error {
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return queryError(r.q, err)
		}
		return sql.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return queryError(r.q, err)
	}
	return queryError(r.q, r.rows.Close())
}

// Collect runs query and scans each row with scan, so that a list query
// is one call instead of a hand-written rows.Next loop.
func Collect[T any](ctx context.Context, q Queryer, scan func(Scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, queryError(query, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, queryError(query, err)
	}
	return out, nil
}

// Each runs query and calls fn for each row: for results folded into maps
// or totals rather than collected as a list.
func Each(ctx context.Context, q Queryer, fn func(Scanner) error, query string, args ...any) error {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return queryError(query, err)
		}
	}
	return queryError(query, rows.Err())
}

// queryError wraps err with the start of the query that failed, so that a
// 500 in the log says which statement it was.
func queryError(q string, err error) error {
	if err == nil {
		return nil
	}
	var qe *QueryError
	if errors.As(err, &qe) {
		return err
	}
	return &QueryError{Query: summarize(q), Err: err}
}

// QueryError is a failed statement: the start of its text and the cause.
type QueryError struct {
	Query string
	Err   error
}

func (e *QueryError) Error() string { return fmt.Sprintf("query %q: %v", e.Query, e.Err) }
func (e *QueryError) Unwrap() error { return e.Err }

// summarize is the first 80 characters of q with its whitespace folded.
func summarize(q string) string {
	q = strings.Join(strings.Fields(q), " ")
	if r := []rune(q); len(r) > 80 {
		q = string(r[:80]) + "…"
	}
	return q
}

// IsUniqueViolation reports whether err is a unique-constraint failure on
// either engine (SQLite's UNIQUE or PRIMARY KEY constraint, PostgreSQL's
// SQLSTATE 23505), through any wrapping.
func IsUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// IsBusy reports whether err is SQLite's SQLITE_BUSY: the database's write
// lock stayed taken longer than the busy timeout (another process writing
// without a pause).
func IsBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}

// checkText refuses a text argument with a NUL byte or bytes that are not
// UTF-8, whatever path it came by (a form, JSON's \u0000, an import):
// PostgreSQL rejects both (SQLSTATE 22021, a 500 for the user) and SQLite
// would store them raw. It is an answer to the user, not a failure of the
// statement, so it is an apperr (400) and the statement does not run.
func checkText(args []any) error {
	for _, a := range args {
		var s string
		switch v := a.(type) {
		case string:
			s = v
		case *string:
			if v == nil {
				continue
			}
			s = *v
		default:
			continue
		}
		if strings.IndexByte(s, 0) >= 0 || !utf8.ValidString(s) {
			return apperr.New(apperr.Invalid, "text.bad_bytes")
		}
	}
	return nil
}

// ReadSetting returns the JSON setting key decoded over def: def itself
// when the key is absent, or when its value no longer decodes (written by
// another version), so that a setting can always be read.
func ReadSetting[T any](ctx context.Context, q Queryer, key string, def T) (T, error) {
	var text string
	err := q.QueryRow(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&text)
	if errors.Is(err, sql.ErrNoRows) {
		return def, nil
	}
	if err != nil {
		return def, err
	}
	v := def
	if json.Unmarshal([]byte(text), &v) != nil {
		return def, nil
	}
	return v, nil
}

// WriteSetting stores v as the JSON setting key, in tx.
func WriteSetting(ctx context.Context, tx *Tx, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, string(b))
	return err
}
