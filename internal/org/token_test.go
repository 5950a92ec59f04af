package org_test

import (
	"context"
	"testing"

	"chuangwen/internal/org"
	"chuangwen/internal/store"
	"chuangwen/internal/store/storetest"
)

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
