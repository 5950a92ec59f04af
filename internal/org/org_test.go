package org_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"chuangwen/internal/apperr"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
	"chuangwen/internal/store/storetest"
)

const pw = "Str0ng-Passw0rd"

func TestPasswords(t *testing.T) {
	h, err := org.HashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$") || !org.CheckPassword(h, pw) || org.CheckPassword(h, pw+"x") {
		t.Fatalf("hash %s does not check out", h)
	}
	h2, _ := org.HashPassword(pw)
	if h2 == h {
		t.Fatal("two hashes of one password are equal: no salt")
	}
	for p, want := range map[string]string{"short1A!": "password.too_short", "alllowercaseletters": "password.too_simple", "lowercase123456": "password.too_simple", "Lower-case-123": "", "密码密码密码Ab12": ""} {
		if got := org.CheckPasswordPolicy(p); got != want {
			t.Errorf("policy(%q) = %q, want %q", p, got, want)
		}
	}
}

type clock struct{ t time.Time }

// admin is the administrator the tests act as.
var admin = org.Actor{Name: "admin", Role: org.RoleAdmin, Scope: org.ScopeCity}

// testStore is an org.Store on db with a cheap password cost and clk's
// time (the wall clock when clk is nil).
func testStore(db *store.DB, clk *clock) *org.Store {
	s := &org.Store{DB: db, PasswordCost: org.PasswordCost{Time: 1, MemoryKiB: 64}}
	if clk != nil {
		s.Now = clk.now
	}
	return s
}

func (c *clock) now() time.Time { return c.t }

func TestAccountsSessionsTokens(t *testing.T) {
	storetest.Both(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := &clock{t: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)}
		s := testStore(db, clk)
		city, err := s.CreateRegion(ctx, admin, org.Region{Code: "531900", Name: "云川市", Level: "city"})
		if err != nil {
			t.Fatal(err)
		}
		d, err := s.CreateRegion(ctx, admin, org.Region{Code: "531902", Name: "明湖区", Level: "district", ParentID: city.ID})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateRegion(ctx, admin, org.Region{Code: "531903", Name: "x", Level: "city", ParentID: d.ID}); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("a city under a district: %v", err)
		}
		if _, err := s.CreateRegion(ctx, admin, org.Region{Code: "531902", Name: "重复", Level: "district", ParentID: city.ID}); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("duplicate region code: %v", err)
		}
		unit, err := s.CreateUnit(ctx, admin, org.Unit{Code: "CGJ", Name: "城市管理局", Kind: "department"})
		if err != nil {
			t.Fatal(err)
		}
		// validation
		bad := []org.NewUser{
			{Username: "h", Password: pw, Role: org.RoleHandler},                                            // handler without unit
			{Username: "r", Password: pw, Role: org.RoleInspector, Scope: org.ScopeRegion},                  // region scope without region
			{Username: "a", Password: pw, Role: org.RoleAdmin, Scope: org.ScopeRegion, ScopeRegionID: d.ID}, // admin not city-wide
			{Username: "w", Password: "weak", Role: org.RoleLeader},                                         // weak password
			{Username: "bad name", Password: pw, Role: org.RoleLeader},
			{Username: "x", Password: pw, Role: "king"},
		}
		for _, nu := range bad {
			if _, err := s.CreateUser(ctx, admin, nu); !apperr.Is(err, apperr.Invalid) {
				t.Errorf("%+v: %v, want invalid", nu, err)
			}
		}
		insp, err := s.CreateUser(ctx, admin, org.NewUser{Username: "insp", Password: pw, Role: org.RoleInspector, Scope: org.ScopeRegion, ScopeRegionID: d.ID})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateUser(ctx, admin, org.NewUser{Username: "insp", Password: pw, Role: org.RoleLeader}); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("duplicate username: %v", err)
		}
		sess, err := s.Login(ctx, "insp", pw, "10.0.0.1", "test")
		if err != nil {
			t.Fatal(err)
		}
		if sess.Actor.RegionPath != d.Path || !sess.Actor.SeesRegionPath(d.Path+"99/") || sess.Actor.SeesRegionPath(city.Path) {
			t.Fatalf("region scope: %+v", sess.Actor)
		}
		if _, err := s.SessionByToken(ctx, sess.Token); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SessionByToken(ctx, sess.Token+"x"); !apperr.Is(err, apperr.Unauthorized) {
			t.Fatalf("forged session: %v", err)
		}
		// idle timeout
		clk.t = clk.t.Add(org.SessionIdleTimeout + time.Minute)
		if _, err := s.SessionByToken(ctx, sess.Token); !apperr.Is(err, apperr.Unauthorized) {
			t.Fatalf("idle session still valid: %v", err)
		}
		// disabling a user ends their sessions and stops logins
		sess, err = s.Login(ctx, "insp", pw, "10.0.0.1", "test")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.UpdateUser(ctx, admin, insp.ID, org.NewUser{DisplayName: "督查员", Role: org.RoleInspector, Scope: org.ScopeCity}, true); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SessionByToken(ctx, sess.Token); !apperr.Is(err, apperr.Unauthorized) {
			t.Fatalf("session of a disabled user: %v", err)
		}
		if _, err := s.Login(ctx, "insp", pw, "10.0.0.1", "test"); !apperr.Is(err, apperr.Unauthorized) {
			t.Fatalf("disabled user logged in: %v", err)
		}
		// throttling: five failures on a name from an address make that
		// address wait, longer with each further failure; the name's user
		// at another address is not held up
		if _, err := s.CreateUser(ctx, admin, org.NewUser{Username: "lead", Password: pw, Role: org.RoleLeader}); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < org.MaxFailures; i++ {
			if _, err := s.Login(ctx, "lead", "wrong", "10.0.0.2", "t"); !apperr.Is(err, apperr.Unauthorized) {
				t.Fatalf("failure %d: %v", i, err)
			}
		}
		if _, err := s.Login(ctx, "lead", pw, "10.0.0.2", "t"); !apperr.Is(err, apperr.RateLimited) {
			t.Fatalf("the failing address, at once: %v", err)
		}
		if _, err := s.Login(ctx, "lead", pw, "10.0.0.3", "t"); err != nil {
			t.Fatalf("the user at another address: %v", err)
		}
		for i, wait := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
			clk.t = clk.t.Add(wait - time.Millisecond)
			if _, err := s.Login(ctx, "lead", "wrong", "10.0.0.2", "t"); !apperr.Is(err, apperr.RateLimited) {
				t.Fatalf("failure %d: before its delay of %s: %v", org.MaxFailures+i+1, wait, err)
			}
			clk.t = clk.t.Add(2 * time.Millisecond)
			if _, err := s.Login(ctx, "lead", "wrong", "10.0.0.2", "t"); !apperr.Is(err, apperr.Unauthorized) {
				t.Fatalf("failure %d: after its delay of %s: %v", org.MaxFailures+i+1, wait, err)
			}
		}
		clk.t = clk.t.Add(8 * time.Second)
		if _, err := s.Login(ctx, "lead", pw, "10.0.0.2", "t"); err != nil {
			t.Fatalf("after the delay: %v", err)
		}
		// tokens
		tok, err := s.CreateToken(ctx, admin, "热线", unit.ID)
		if err != nil {
			t.Fatal(err)
		}
		a, err := s.ActorForToken(ctx, tok.Secret)
		if err != nil || a.Role != org.RoleHandler || a.UnitID != unit.ID || a.Scope != org.ScopeUnit {
			t.Fatalf("unit token actor %+v %v", a, err)
		}
		if err := s.RevokeToken(ctx, admin, tok.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ActorForToken(ctx, tok.Secret); !apperr.Is(err, apperr.Unauthorized) {
			t.Fatalf("revoked token: %v", err)
		}
		// a password change ends other sessions but keeps the current one
		s1, _ := s.Login(ctx, "lead", pw, "10.0.0.3", "t")
		s2, _ := s.Login(ctx, "lead", pw, "10.0.0.4", "t")
		lead, _ := s.UserByName(ctx, "lead")
		if err := s.SetPassword(ctx, s1.Actor, lead.ID, "N3w-Passw0rd!", false, s1.Token); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SessionByToken(ctx, s1.Token); err != nil {
			t.Fatalf("current session ended: %v", err)
		}
		if _, err := s.SessionByToken(ctx, s2.Token); !apperr.Is(err, apperr.Unauthorized) {
			t.Fatalf("other session survived a password change: %v", err)
		}
	})
}

func TestCaseScope(t *testing.T) {
	cases := []struct {
		a    org.Actor
		want string
	}{
		{org.Actor{Role: org.RoleAcceptor, Scope: org.ScopeCity}, "1=1"},
		{org.Actor{Role: org.RoleVolunteer, Scope: org.ScopeCity}, "1=0"},
		{org.Actor{Role: org.RoleInspector, Scope: org.ScopeRegion, RegionPath: "/1/2/", RegionIDs: []int64{2, 5, 9}}, "c.region_id IN (2,5,9)"},
		{org.Actor{Role: org.RoleInspector, Scope: org.ScopeRegion}, "1=0"},
		{org.Actor{Role: org.RoleHandler, Scope: org.ScopeUnit}, "1=0"},
	}
	for _, tc := range cases {
		if got, _ := tc.a.CaseScope(store.SQLite); got != tc.want {
			t.Errorf("%+v: %s, want %s", tc.a, got, tc.want)
		}
	}
	h := org.Actor{Role: org.RoleHandler, Scope: org.ScopeUnit, UnitID: 7}
	if got, args := h.CaseScope(store.Postgres); !strings.Contains(got, "ANY(ARRAY(") || len(args) != 2 {
		t.Errorf("postgres unit scope: %s %v", got, args)
	}
}
