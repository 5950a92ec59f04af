package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Work that queues while a transaction is written goes into the next one
// together, each piece under its own savepoint: a piece that fails takes
// its rows, its late writes and its after-commit functions with it and
// nothing else; the others commit together; a lone piece is alone in its
// transaction.
func TestGroupedCommitsTogether(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "g.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(ctx, `CREATE TABLE g (n INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	txOf := map[int]*Tx{}
	ran := map[int]bool{}
	boom := errors.New("boom")
	piece := func(n int, fail bool) func(ctx context.Context, tx *Tx) error {
		return func(ctx context.Context, tx *Tx) error {
			mu.Lock()
			txOf[n] = tx
			mu.Unlock()
			if _, err := tx.Exec(ctx, `INSERT INTO g (n) VALUES (?)`, n); err != nil {
				return err
			}
			tx.Late(func() error { _, err := tx.Exec(ctx, `INSERT INTO g (n) VALUES (?)`, n*10); return err })
			tx.AfterCommit(func() { mu.Lock(); ran[n] = true; mu.Unlock() })
			if fail {
				return boom
			}
			return nil
		}
	}
	release := make(chan struct{})
	first := make(chan error, 1)
	entered := make(chan struct{})
	go func() {
		first <- db.Grouped(ctx, func(ctx context.Context, tx *Tx) error {
			close(entered)
			<-release
			return piece(1, false)(ctx, tx)
		})
	}()
	<-entered
	errs := make(chan error, 3)
	results := map[int]error{}
	var wg sync.WaitGroup
	for _, p := range []struct {
		n    int
		fail bool
	}{{2, false}, {3, true}, {4, false}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := db.Grouped(ctx, piece(p.n, p.fail))
			mu.Lock()
			results[p.n] = err
			mu.Unlock()
			errs <- err
		}()
	}
	waitQueued(t, db, 3) // the three behind the first
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if results[2] != nil || results[4] != nil || !errors.Is(results[3], boom) {
		t.Fatalf("results %v", results)
	}
	if txOf[2] != txOf[4] || txOf[2] != txOf[3] || txOf[1] == txOf[2] {
		t.Errorf("transactions: the first alone, the three queued together; got %p %p %p %p", txOf[1], txOf[2], txOf[3], txOf[4])
	}
	if !ran[1] || !ran[2] || ran[3] || !ran[4] {
		t.Errorf("after-commit functions ran: %v, want 1, 2 and 4", ran)
	}
	got, err := Int64s(ctx, db.Reader(), `SELECT n FROM g ORDER BY n`)
	if err != nil {
		t.Fatal(err)
	}
	want := []int64{1, 2, 4, 10, 20, 40}
	if len(got) != len(want) {
		t.Fatalf("rows %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("rows %v, want %v", got, want)
		}
	}
}

// The WAL is copied into the database in the background, well before the
// writer's own limit: under a stream of commits the database file grows
// as they are written, not only once the WAL reaches walLimitPages.
func TestBackgroundCheckpoint(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "c.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(ctx, `CREATE TABLE c (id INTEGER PRIMARY KEY, pad TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	size := func() int64 {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	before := size()
	pad := strings.Repeat("x", 3000)
	const rows = 2000 // about 2,000 pages: a tenth of walLimitPages
	for i := 0; i < rows; i++ {
		if err := db.WithTx(ctx, func(tx *Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO c (pad) VALUES (?)`, pad)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	for deadline := time.Now().Add(5 * time.Second); size()-before < rows*3000; {
		if time.Now().After(deadline) {
			t.Fatalf("the database file grew by %d bytes after %d commits of 3 KB: the WAL was not copied back", size()-before, rows)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// A piece that panics fails alone: the pieces written with it commit,
// and the writer goes on taking work.
func TestGroupedPanicFailsOnePiece(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(ctx, `CREATE TABLE g (n INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	insert := func(n int) func(ctx context.Context, tx *Tx) error {
		return func(ctx context.Context, tx *Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO g (n) VALUES (?)`, n)
			return err
		}
	}
	release, entered := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- db.Grouped(ctx, func(ctx context.Context, tx *Tx) error {
			close(entered)
			<-release
			return insert(1)(ctx, tx)
		})
	}()
	<-entered
	errs := make(chan error, 3)
	go func() { errs <- db.Grouped(ctx, insert(2)) }()
	go func() {
		errs <- db.Grouped(ctx, func(ctx context.Context, tx *Tx) error {
			if _, err := tx.Exec(ctx, `INSERT INTO g (n) VALUES (?)`, 99); err != nil {
				return err
			}
			panic("boom")
		})
	}()
	go func() { errs <- db.Grouped(ctx, insert(3)) }()
	waitQueued(t, db, 3)
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	var panicked int
	for range 3 {
		if err := <-errs; err != nil {
			if !strings.Contains(err.Error(), "panic") || !strings.Contains(err.Error(), "boom") {
				t.Errorf("unexpected failure: %v", err)
			}
			panicked++
		}
	}
	if panicked != 1 {
		t.Errorf("%d pieces failed, want the one that panicked", panicked)
	}
	// A lone piece that panics, then the writer still works.
	if err := db.Grouped(ctx, func(context.Context, *Tx) error { panic("alone") }); err == nil || !strings.Contains(err.Error(), "alone") {
		t.Errorf("a lone panicking piece: %v", err)
	}
	if err := db.Grouped(ctx, insert(4)); err != nil {
		t.Fatal(err)
	}
	got, err := Int64s(ctx, db.Reader(), `SELECT n FROM g ORDER BY n`)
	if err != nil || len(got) != 4 || got[0] != 1 || got[3] != 4 {
		t.Fatalf("rows %v %v, want 1 2 3 4", got, err)
	}
}

// waitQueued waits until n pieces wait in db's group commit queue.
func waitQueued(t *testing.T, db *DB, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; {
		db.group.mu.Lock()
		have := len(db.group.queue)
		db.group.mu.Unlock()
		if have == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d pieces queued, want %d", have, n)
		}
		time.Sleep(time.Millisecond)
	}
}
