package org_test

import (
	"context"
	"strings"
	"testing"

	"chuangwen/internal/apperr"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
	"chuangwen/internal/store/storetest"
)

// A name is bounded (MaxName characters): a unit, a region, a user's
// display name and a token longer are refused and nothing changes.
func TestNamesBounded(t *testing.T) {
	storetest.Both(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := testStore(db, nil)
		long := strings.Repeat("环", org.MaxName+1)
		ok := strings.Repeat("环", org.MaxName)
		wantLong := func(what string, err error) {
			t.Helper()
			if e, is := apperr.As(err); !is || e.Code != apperr.Invalid || e.Key != "name.too_long" {
				t.Errorf("%s: %v", what, err)
			}
		}
		city, err := s.CreateRegion(ctx, admin, org.Region{Code: "531900", Name: ok, Level: "city"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.CreateRegion(ctx, admin, org.Region{Code: "531901", Name: long, Level: "district", ParentID: city.ID})
		wantLong("region", err)
		wantLong("region renamed", s.UpdateRegion(ctx, admin, city.ID, long))
		u, err := s.CreateUnit(ctx, admin, org.Unit{Code: "A", Name: ok, Kind: org.UnitKinds[0]})
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.CreateUnit(ctx, admin, org.Unit{Code: "B", Name: long, Kind: org.UnitKinds[0]})
		wantLong("unit", err)
		u.Name = long
		wantLong("unit renamed", s.UpdateUnit(ctx, admin, u))
		_, err = s.CreateUser(ctx, admin, org.NewUser{Username: "x", DisplayName: long, Password: pw, Role: org.RoleLeader})
		wantLong("user", err)
		_, err = s.CreateToken(ctx, admin, long, 0)
		wantLong("token", err)
		units, err := s.Units(ctx)
		if err != nil || len(units) != 1 || units[0].Name != ok {
			t.Errorf("units %+v %v", units, err)
		}
	})
}

// A name stored before the bound keeps working: its account can still be
// changed (disabled) as long as the name stays as it was.
func TestLongNameStoredBefore(t *testing.T) {
	storetest.Both(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := testStore(db, nil)
		u, err := s.CreateUser(ctx, admin, org.NewUser{Username: "old", DisplayName: "旧", Password: pw, Role: org.RoleLeader})
		if err != nil {
			t.Fatal(err)
		}
		long := strings.Repeat("长", org.MaxName+20)
		if _, err := db.Exec(ctx, `UPDATE users SET display_name = ? WHERE id = ?`, long, u.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.UpdateUser(ctx, admin, u.ID, org.NewUser{DisplayName: long, Role: org.RoleLeader}, true); err != nil {
			t.Errorf("disabling an account whose name is long: %v", err)
		}
		if err := s.UpdateUser(ctx, admin, u.ID, org.NewUser{DisplayName: long + "x", Role: org.RoleLeader}, true); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("a longer name: %v", err)
		}
	})
}
