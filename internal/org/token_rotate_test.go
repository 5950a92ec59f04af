package org_test

import (
	"context"
	"strconv"
	"testing"

	"chuangwen/internal/apperr"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
	"chuangwen/internal/store/storetest"
)

// A token's name names one client system: a second live token of the
// name is refused; a rotation makes one, for the same client, and both
// work until the old one is revoked; a revoked name may be used again.
func TestTokenNamesAndRotation(t *testing.T) {
	storetest.Both(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := testStore(db, nil)
		first, err := s.CreateToken(ctx, admin, "区12345热线", 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateScopedToken(ctx, admin, " 区12345热线 ", 0, org.TokenOpen311); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("a second live token of the name: %v", err)
		}
		second, err := s.RotateToken(ctx, admin, first.ID)
		if err != nil {
			t.Fatal(err)
		}
		if second.ID == first.ID || second.Secret == first.Secret || second.Name != first.Name || second.Scope != first.Scope || second.Role != first.Role {
			t.Fatalf("rotated %+v from %+v", second, first)
		}
		a1, err1 := s.ActorForToken(ctx, first.Secret)
		a2, err2 := s.ActorForToken(ctx, second.Secret)
		if err1 != nil || err2 != nil || a1.Name != a2.Name || a2.TokenScope != org.TokenOpen311 {
			t.Fatalf("actors %+v %v / %+v %v", a1, err1, a2, err2)
		}
		if err := s.RevokeToken(ctx, admin, first.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ActorForToken(ctx, first.Secret); !apperr.Is(err, apperr.Unauthorized) {
			t.Errorf("the revoked old token: %v", err)
		}
		if _, err := s.RotateToken(ctx, admin, first.ID); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("rotating a revoked token: %v", err)
		}
		if _, err := s.RotateToken(ctx, admin, 987654); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("rotating no token: %v", err)
		}
		if err := s.RevokeToken(ctx, admin, second.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateToken(ctx, admin, "区12345热线", 0); err != nil {
			t.Errorf("the name again once no token of it is live: %v", err)
		}
		var n int
		if err := db.Reader().QueryRow(ctx, `SELECT COUNT(*) FROM events WHERE action = 'token.rotate' AND data LIKE ?`, `%"replaces":`+strconv.FormatInt(first.ID, 10)+`%`).Scan(&n); err != nil || n != 1 {
			t.Errorf("rotation on the trail: %d %v", n, err)
		}
	})
}
