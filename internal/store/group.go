package store

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
)

// maxGroup bounds the pieces of work one group transaction carries.
const maxGroup = 64

// group is the queue of the group commit (DB.Grouped).
type group struct {
	mu      sync.Mutex
	queue   []*groupJob
	writing bool
}

type groupJob struct {
	ctx  context.Context
	fn   func(ctx context.Context, tx *Tx) error
	err  error
	done chan struct{}
}

// Grouped runs fn in a write transaction as WithTx does, and answers its
// error; but on SQLite, work that arrives while another transaction is
// being written waits for the next one and is written together with the
// rest that waited, each piece under its own savepoint. A piece that fails
// is rolled back to its savepoint alone (with its late writes and
// after-commit functions), the others commit, and the group shares one
// durable commit instead of queueing for one each: SQLite has one writer,
// and a commit's fsync and the pages it writes cost more than most
// transactions' statements. A lone piece is written at once, in its own
// transaction, exactly as WithTx would.
//
// PostgreSQL runs transactions side by side and coalesces their WAL
// flushes itself, so there Grouped is WithTx.
//
// fn must not call Grouped or WithTx itself (the writer is taken), nor
// keep tx after it returns. Once queued, fn is written even if ctx ends
// (the caller's request may have gone; its work may be stored all the
// same, so the caller must not act as if it was not): fn gets a context
// with ctx's values that does not end, and must use it.
func (db *DB) Grouped(ctx context.Context, fn func(ctx context.Context, tx *Tx) error) error {
	ctx = context.WithoutCancel(ctx)
	if db.Dialect == Postgres {
		return db.WithTx(ctx, func(tx *Tx) error { return fn(ctx, tx) })
	}
	j := &groupJob{ctx: ctx, fn: fn, done: make(chan struct{})}
	g := &db.group
	g.mu.Lock()
	g.queue = append(g.queue, j)
	start := !g.writing
	g.writing = true
	g.mu.Unlock()
	if start {
		// The caller writes the first batch itself (a lone piece goes
		// straight through) and leaves the rest to a writer of its own.
		db.writeGroups(true)
	}
	<-j.done
	return j.err
}

// writeGroups writes queued work until the queue is empty; inline, one
// batch, and the rest goes to a new goroutine.
func (db *DB) writeGroups(inline bool) {
	g := &db.group
	for {
		g.mu.Lock()
		n := min(len(g.queue), maxGroup)
		if n == 0 {
			g.writing = false
			g.mu.Unlock()
			return
		}
		batch := g.queue[:n:n]
		g.queue = g.queue[n:]
		g.mu.Unlock()
		db.writeGroup(batch)
		if inline {
			go db.writeGroups(false)
			return
		}
	}
}

func (db *DB) writeGroup(batch []*groupJob) {
	ctx := context.Background()
	var err error
	// Every piece gets its answer, whatever happens to the transaction
	// (a panic outside the pieces too: in a late write or the commit).
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic in a group commit: %v\n%s", r, debug.Stack())
		}
		for _, j := range batch {
			if err != nil && j.err == nil {
				j.err = err
			}
			close(j.done)
		}
	}()
	err = db.WithTx(ctx, func(tx *Tx) error {
		if len(batch) == 1 {
			// Alone in its transaction: its failure rolls back the whole.
			batch[0].err = runPiece(batch[0], tx)
			return batch[0].err
		}
		for i, j := range batch {
			sp := fmt.Sprintf("g%d", i)
			if _, err := tx.Exec(ctx, "SAVEPOINT "+sp); err != nil {
				return err
			}
			late, after := len(tx.late), len(tx.after)
			j.err = runPiece(j, tx)
			if j.err != nil {
				if _, err := tx.Exec(ctx, "ROLLBACK TO SAVEPOINT "+sp); err != nil {
					return err
				}
				tx.late, tx.after = tx.late[:late], tx.after[:after]
			}
			if _, err := tx.Exec(ctx, "RELEASE SAVEPOINT "+sp); err != nil {
				return err
			}
		}
		return nil
	})
}

// runPiece runs one piece of a group; a panic in it is that piece's
// failure (with its stack), not the writer's: the other pieces and every
// later one are written all the same.
func runPiece(j *groupJob, tx *Tx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic in a grouped write: %v\n%s", r, debug.Stack())
		}
	}()
	return j.fn(j.ctx, tx)
}
