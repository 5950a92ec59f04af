package store_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"chuangwen/internal/store"
	"chuangwen/internal/store/storetest"
)

// A queue of three due rows: claims that run at once get different rows,
// a leased row is not claimed again, and Settle walks a failing row
// through its retry schedule to 'failed' and a good one to done.
func TestClaimAndSettle(t *testing.T) {
	storetest.Both(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.Exec(ctx, `CREATE TABLE q (id BIGINT PRIMARY KEY, status TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,
			next_at BIGINT NOT NULL, lease_until BIGINT NOT NULL DEFAULT 0, last_error TEXT NOT NULL DEFAULT '', done_at BIGINT NOT NULL DEFAULT 0)`); err != nil {
			t.Fatal(err)
		}
		now := time.UnixMilli(1_800_000_000_000)
		for id := 1; id <= 3; id++ {
			if _, err := db.Exec(ctx, `INSERT INTO q (id, next_at) VALUES (?, ?)`, id, store.Ms(now)-int64(id)); err != nil {
				t.Fatal(err)
			}
		}
		claim := func(at time.Time) (id, attempts int64, ok bool) {
			t.Helper()
			ok, err := db.Claim(ctx, "q", at.Add(time.Minute), func(r store.Scanner) (int64, error) {
				err := r.Scan(&id, &attempts)
				return id, err
			},
				`SELECT id, attempts FROM q WHERE status = 'pending' AND next_at <= ? AND lease_until < ? ORDER BY next_at, id LIMIT 1`, store.Ms(at), store.Ms(at))
			if err != nil {
				t.Fatal(err)
			}
			return id, attempts, ok
		}

		var mu sync.Mutex
		got := map[int64]bool{}
		var wg sync.WaitGroup
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				id, _, ok := claim(now)
				mu.Lock()
				defer mu.Unlock()
				if !ok || got[id] {
					t.Errorf("claim: id %d ok %v, already claimed %v", id, ok, got[id])
				}
				got[id] = true
			}()
		}
		wg.Wait()
		if _, _, ok := claim(now); ok {
			t.Fatal("a fourth claim found a row while all three are leased")
		}

		schedule := []time.Duration{time.Minute, time.Hour}
		bad := errors.New("gateway says no\x00" + strings.Repeat("长", 600))
		if err := db.Settle(ctx, "q", 3, 1, bad, "sent", now, schedule); err != nil {
			t.Fatal(err)
		}
		if err := db.Settle(ctx, "q", 2, 1, nil, "sent", now, schedule, store.Col{Name: "done_at", Value: store.Ms(now)}); err != nil {
			t.Fatal(err)
		}
		// The lease is released, but row 3 waits a minute for its retry.
		if _, _, ok := claim(now.Add(time.Second)); ok {
			t.Fatal("a row was claimed before its retry was due")
		}
		id, attempts, ok := claim(now.Add(time.Minute))
		if !ok || id != 3 || attempts != 1 {
			t.Fatalf("retry claim: id %d attempts %d ok %v", id, attempts, ok)
		}
		for _, a := range []int64{2, 3} {
			if err := db.Settle(ctx, "q", 3, a, bad, "sent", now, schedule); err != nil {
				t.Fatal(err)
			}
		}
		type row struct {
			status, lastError string
			attempts          int64
			lease, done       int64
		}
		read := func(id int64) (r row) {
			t.Helper()
			if err := db.Reader().QueryRow(ctx, `SELECT status, last_error, attempts, lease_until, done_at FROM q WHERE id = ?`, id).Scan(&r.status, &r.lastError, &r.attempts, &r.lease, &r.done); err != nil {
				t.Fatal(err)
			}
			return r
		}
		if r := read(3); r.status != "failed" || r.attempts != 3 || r.lease != 0 || strings.Contains(r.lastError, "\x00") || len([]rune(r.lastError)) != 500 {
			t.Errorf("row 3 after its schedule: %+v (last_error %d characters)", r, len([]rune(r.lastError)))
		}
		if r := read(2); r.status != "sent" || r.attempts != 1 || r.lastError != "" || r.done != store.Ms(now) || r.lease != 0 {
			t.Errorf("row 2 after success: %+v", r)
		}
	})
}
