package org_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"chuangwen/internal/apperr"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
	"chuangwen/internal/store/storetest"
)

// TestLoginThrottleInParallel: attempts made at once are counted one by
// one before any password is checked. 30 wrong passwords at once from one
// address check at most five, and do not hold up the user at their own
// address; eleven wrong and the right one at once check at most nine wrong
// ones (the right one's success starts the count again); an address
// guessing many names is held up after twenty; and 30 successful logins
// from an office's shared address do not hold it up.
func TestLoginThrottleInParallel(t *testing.T) {
	storetest.Both(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := &clock{t: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)}
		s := testStore(db, clk)
		for _, name := range []string{"lead1", "lead2", "lead3"} {
			if _, err := s.CreateUser(ctx, admin, org.NewUser{Username: name, DisplayName: name, Password: pw, Role: org.RoleLeader}); err != nil {
				t.Fatal(err)
			}
		}
		// burst logs in n attempts at once and counts the answers
		burst := func(user string, addr func(int) string, passwords []string) (ok, wrong, locked int) {
			var mu sync.Mutex
			var wg sync.WaitGroup
			for i, p := range passwords {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := s.Login(ctx, user, p, addr(i), "t")
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						ok++
					case apperr.Is(err, apperr.Unauthorized):
						wrong++
					case apperr.Is(err, apperr.RateLimited):
						locked++
					default:
						t.Errorf("login: %v", err)
					}
				}()
			}
			wg.Wait()
			return
		}
		wrongs := func(n int) []string {
			out := make([]string, n)
			for i := range out {
				out[i] = "wrong password"
			}
			return out
		}
		one := func(a string) func(int) string { return func(int) string { return a } }
		// 30 wrong at once from one address
		if ok, wrong, locked := burst("lead1", one("10.1.0.1"), wrongs(30)); ok != 0 || wrong > org.MaxFailures || wrong+locked != 30 {
			t.Errorf("30 wrong at once: %d in, %d checked, %d refused; want at most %d checked", ok, wrong, locked, org.MaxFailures)
		}
		if _, err := s.Login(ctx, "lead1", pw, "10.1.0.1", "t"); !apperr.Is(err, apperr.RateLimited) {
			t.Errorf("the right password from that address after the burst: %v, want a wait", err)
		}
		// the real user at their own address is not held up
		if _, err := s.Login(ctx, "lead1", pw, "10.1.9.9", "t"); err != nil {
			t.Errorf("the right password from the user's own address: %v", err)
		}
		// 11 wrong and the right one at once. Counted later than fifth, the
		// right one is refused and exactly five wrong ones are checked.
		// Counted p-th (p ≤ 5), it gets in and its success starts the count
		// again: p-1 wrong ones were checked before it and at most five
		// after; at least four in all, since its own count stands among the
		// five that lock the name until it is taken back.
		ok, wrong, locked := burst("lead2", one("10.2.0.1"), append(wrongs(11), pw))
		serial := ok == 0 && wrong == org.MaxFailures || ok == 1 && wrong >= org.MaxFailures-1 && wrong <= 2*org.MaxFailures-1
		if !serial || ok+wrong+locked != 12 {
			t.Errorf("11 wrong and 1 right at once: %d in, %d wrong checked, %d refused: not what counting each attempt first allows", ok, wrong, locked)
		}
		// One address trying many names: its own limit (twenty) holds it
		// up after that many failures, whatever the names.
		for i := range 4 * org.MaxFailures {
			if _, err := s.Login(ctx, fmt.Sprintf("guess%d", i), "wrong password", "10.4.0.1", "t"); !apperr.Is(err, apperr.Unauthorized) {
				t.Fatalf("guess %d: %v", i, err)
			}
		}
		if _, err := s.Login(ctx, "guess99", "wrong password", "10.4.0.1", "t"); !apperr.Is(err, apperr.RateLimited) {
			t.Errorf("an address after %d failures on other names: %v, want a wait", 4*org.MaxFailures, err)
		}
		// An office behind one address: 30 good logins from it, of three
		// people, do not lock the address.
		for i := range 30 {
			if _, err := s.Login(ctx, "lead3", pw, "10.3.0.1", "t"); err != nil {
				t.Fatalf("good login %d from the office's address: %v", i, err)
			}
		}
	})
}

// TestPasswordHashingBounded: 32 logins at once for unknown users (each
// an argon2id computation holding its memory cost) run at most one a
// slot at a time; with no time to wait for a slot, the ones left over are
// told to try again (429) at once, without a computation.
func TestPasswordHashingBounded(t *testing.T) {
	db := storetest.SQLite(t)
	ctx := context.Background()
	s := &org.Store{DB: db, PasswordCost: org.PasswordCost{Time: 1, MemoryKiB: 4 * 1024}}
	login := func(n int) (ok, busy int) {
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.Login(ctx, fmt.Sprintf("nobody%d", i), "wrong password", fmt.Sprintf("10.5.%d.%d", i/200, i%200), "t")
				mu.Lock()
				defer mu.Unlock()
				switch {
				case apperr.Is(err, apperr.Unauthorized):
					ok++
				case apperr.Is(err, apperr.RateLimited):
					busy++
				default:
					t.Errorf("login: %v", err)
				}
			}()
		}
		wg.Wait()
		return
	}
	restore := org.SetHashWait(time.Minute) // time enough on any machine
	if ok, busy := login(32); ok != 32 || busy != 0 {
		t.Errorf("32 at once with time to wait: %d answered, %d refused", ok, busy)
	}
	restore()
	if peak := org.HashPeak(); peak > int64(org.HashSlots()) || peak < 1 {
		t.Errorf("%d computations at once, slots %d", peak, org.HashSlots())
	}
	defer org.SetHashWait(time.Nanosecond)()
	if ok, busy := login(64); busy == 0 || ok+busy != 64 {
		t.Errorf("64 at once without time to wait: %d answered, %d refused; want some refused", ok, busy)
	}
}

// TestTokenScopeMigration: tokens made before scopes keep what they did
// on behalf of a unit (unit), and a partner's token keeps filing cases
// but loses reading the city (file); new tokens without a unit get the
// least, open311.
func TestTokenScopeMigration(t *testing.T) {
	storetest.Both(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := testStore(db, nil)
		unit, err := s.CreateUnit(ctx, admin, org.Unit{Code: "CGJ", Name: "城市管理局", Kind: "department"})
		if err != nil {
			t.Fatal(err)
		}
		// the schema as it was before migration 0021, with two tokens
		err = db.WithTx(ctx, func(tx *store.Tx) error {
			for _, q := range []string{
				`ALTER TABLE api_tokens DROP COLUMN scope`,
				`DELETE FROM schema_migrations WHERE version = 21`,
				`INSERT INTO api_tokens (name, token_hash, role, unit_id, created_at) VALUES ('12345 热线', 'h1', 'client', NULL, 1)`,
			} {
				if _, err := tx.Exec(ctx, q); err != nil {
					return err
				}
			}
			_, err := tx.Exec(ctx, `INSERT INTO api_tokens (name, token_hash, role, unit_id, created_at) VALUES ('城管局系统', 'h2', 'handler', ?, 1)`, unit.ID)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if applied, err := db.Migrate(ctx); err != nil || len(applied) != 1 {
			t.Fatalf("migrate: %v %v", applied, err)
		}
		toks, err := s.Tokens(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, tk := range toks {
			got[tk.Name] = tk.Scope
		}
		if got["12345 热线"] != org.TokenFile || got["城管局系统"] != org.TokenUnit {
			t.Errorf("scopes after the migration: %v", got)
		}
		if tk, err := s.CreateToken(ctx, admin, "新伙伴", 0); err != nil || tk.Scope != org.TokenOpen311 {
			t.Errorf("a new token without a unit: %+v %v", tk, err)
		}
	})
}

// TestFailedLoginsOnTheTrail: a failed sign-in (a wrong password, an
// unknown name) goes on the audit chain with the name as typed and the
// address, as a successful one does.
func TestFailedLoginsOnTheTrail(t *testing.T) {
	db := storetest.SQLite(t)
	ctx := context.Background()
	s := testStore(db, nil)
	if _, err := s.CreateUser(ctx, admin, org.NewUser{Username: "lead", Password: pw, Role: org.RoleLeader}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"lead", "nobody"} {
		if _, err := s.Login(ctx, name, "wrong password", "10.7.0.1", "t"); err == nil {
			t.Fatal("a wrong password signed in")
		}
	}
	if _, err := s.Login(ctx, "lead", pw, "10.7.0.2", "t"); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	err := store.Each(ctx, db.Reader(), func(r store.Scanner) error {
		var action, data string
		if err := r.Scan(&action, &data); err != nil {
			return err
		}
		got[action+" "+data]++
		return nil
	}, `SELECT action, data FROM events WHERE action LIKE 'user.login%' ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`user.login_failed {"ip":"10.7.0.1","username":"lead"}`, `user.login_failed {"ip":"10.7.0.1","username":"nobody"}`, `user.login {"ip":"10.7.0.2"}`} {
		if got[want] != 1 {
			t.Errorf("trail lacks %s: %v", want, got)
		}
	}
}
