package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// On PostgreSQL each statement is a round trip to the server, and a
// case's transition is a dozen statements of which most are writes whose
// answer nobody reads (the dispatch row's times, the trail's event, the
// staff's alerts): the round trips, not the server's work, bounded the
// closed loop (docs/benchmarks.md). So a transaction runs on a connection
// of its own, where such writes can wait (Defer) and go to the server
// together with the next statement that needs an answer, or with the
// COMMIT, in one pipelined batch (pgx's extended protocol: each statement
// prepared and cached as any other).

// deferredWrite is a write held for the next round trip.
type deferredWrite struct {
	q    string
	args []any
}

// Defer runs a write whose result the caller does not need: no RETURNING,
// no count of changed rows. On PostgreSQL it is held and sent with the
// transaction's next statement or its commit, in one round trip; its
// failure fails that statement (or the commit), and so the transaction.
// On SQLite it runs at once (there are no round trips to save). The
// order of the transaction's statements is kept either way.
func (t *Tx) Defer(ctx context.Context, q string, args ...any) error {
	if t.conn == nil {
		_, err := t.Exec(ctx, q, args...)
		return err
	}
	if err := checkText(args); err != nil {
		return err
	}
	if t.failed != nil {
		return t.failed
	}
	t.deferred = append(t.deferred, deferredWrite{q: q, args: args})
	return nil
}

// pgResult is the sql.Result of a statement run in a batch.
type pgResult struct{ tag pgconn.CommandTag }

func (r pgResult) LastInsertId() (int64, error) {
	return 0, errors.New("LastInsertId is not supported by PostgreSQL; use RETURNING")
}
func (r pgResult) RowsAffected() (int64, error) { return r.tag.RowsAffected(), nil }

// send sends the held writes and then q, when it is not empty, in one
// batch; last reads q's result from the batch. A failure of the batch
// fails the transaction (t.failed): the writes may never have reached the
// server, which then would not have aborted the transaction itself.
func (t *Tx) send(ctx context.Context, q string, args []any, last func(pgx.BatchResults) error) error {
	if t.failed != nil {
		return t.failed
	}
	writes := t.deferred
	t.deferred = nil
	err := t.conn.Raw(func(dc any) error {
		b := &pgx.Batch{}
		for _, w := range writes {
			b.Queue(rebind(w.q), w.args...)
		}
		if q != "" {
			b.Queue(rebind(q), args...)
		}
		br := dc.(*stdlib.Conn).Conn().SendBatch(ctx, b)
		for _, w := range writes {
			if _, err := br.Exec(); err != nil {
				br.Close()
				return queryError(w.q, err)
			}
		}
		if q != "" {
			if err := last(br); err != nil {
				br.Close()
				return err
			}
		}
		return br.Close()
	})
	if err != nil {
		t.failed = err
	}
	return err
}

// flush sends the held writes, and then q when it is not empty, in one
// batch, and answers q's result.
func (t *Tx) flush(ctx context.Context, q string, args []any) (sql.Result, error) {
	if t.failed != nil || len(t.deferred) == 0 {
		return nil, t.failed
	}
	var tag pgconn.CommandTag
	err := t.send(ctx, q, args, func(br pgx.BatchResults) (err error) {
		tag, err = br.Exec()
		return queryError(q, err)
	})
	if err != nil {
		return nil, err
	}
	return pgResult{tag}, nil
}

// ReadRow runs a query for one row in the transaction and gives the row
// to scan; on PostgreSQL the held writes (and the transaction's BEGIN, if
// this is its first statement) go with it in one round trip, and the row
// is scanned by pgx: destinations of Go's basic types or sql.Scanners.
// No row scans as sql.ErrNoRows, as QueryRow's does.
func (t *Tx) ReadRow(ctx context.Context, q string, args []any, scan func(Scanner) error) error {
	if t.conn == nil || len(t.deferred) == 0 || t.failed != nil {
		return scan(t.QueryRow(ctx, q, args...)) // (a failed transaction's Row answers its failure)
	}
	if err := checkText(args); err != nil {
		return err
	}
	var scanErr error
	err := t.send(ctx, q, args, func(br pgx.BatchResults) error {
		// the row's own answer (no row, a type) is the caller's; the
		// server's failure shows in the batch's Close
		scanErr = scan(pgRow{br.QueryRow(), q})
		return nil
	})
	if err != nil {
		return err
	}
	return scanErr
}

// pgRow is a pgx row scanned as database/sql's: no row is sql.ErrNoRows.
type pgRow struct {
	row pgx.Row
	q   string
}

func (r pgRow) Scan(dest ...any) error {
	err := r.row.Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return sql.ErrNoRows
	}
	return queryError(r.q, err)
}

// withConnTx is WithTx on PostgreSQL: BEGIN, fn and the late writes on
// one connection, then the held writes and COMMIT in one batch.
func (db *DB) withConnTx(ctx context.Context, fn func(tx *Tx) error) (err error) {
	conn, err := db.w.Conn(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	done := false
	defer func() {
		if !done {
			// fn failed or panicked: roll back; a connection that cannot
			// is dropped from the pool, never reused inside our
			// transaction.
			if _, rerr := conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK"); rerr != nil {
				_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			}
		}
		conn.Close()
	}()
	// BEGIN goes with the transaction's first statement (or with its
	// held writes, or with its COMMIT).
	tx := &Tx{db: db, conn: conn, deferred: []deferredWrite{{q: "BEGIN"}}}
	err = fn(tx)
	for i := 0; err == nil && i < len(tx.late); i++ {
		err = tx.late[i]()
	}
	if err != nil {
		return err
	}
	if err := tx.commit(ctx); err != nil {
		return err
	}
	done = true
	for _, fn := range tx.after {
		fn()
	}
	return nil
}

// commit sends the held writes and COMMIT together. A transaction that
// PostgreSQL had already aborted answers COMMIT with ROLLBACK: that is a
// failure, not a commit.
func (t *Tx) commit(ctx context.Context) error {
	var tag pgconn.CommandTag
	err := t.send(ctx, "COMMIT", nil, func(br pgx.BatchResults) (err error) {
		tag, err = br.Exec()
		return err
	})
	if err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	if tag.String() != "COMMIT" {
		return fmt.Errorf("commit: the server answered %q: the transaction had failed", tag.String())
	}
	return nil
}
