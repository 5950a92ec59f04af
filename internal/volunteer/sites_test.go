package volunteer_test

import (
	"testing"

	"chuangwen/internal/apperr"
	"chuangwen/internal/store"
	"chuangwen/internal/testcity"
	"chuangwen/internal/volunteer"
)

// TestActivityAtSite: an activity at an assessment site (文明劝导 at a
// crossing) takes the site's place, address and region; an unknown or
// retired site is refused by its code.
func TestActivityAtSite(t *testing.T) {
	t.Parallel()
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		if _, err := db.Exec(e.ctx, `INSERT INTO assess_site_types (name, created_at) VALUES ('主次干道', 0)`); err != nil {
			t.Fatal(err)
		}
		for _, s := range []struct {
			code   string
			active bool
		}{{"S-01", true}, {"S-02", false}} {
			if _, err := db.Exec(e.ctx, `INSERT INTO assess_sites (code, name, site_type_id, region_id, lat, lon, address, active, created_at, updated_at)
				VALUES (?, '清波路口', (SELECT id FROM assess_site_types), ?, 30.2512, 120.1511, '清波路与河坊街交叉口', ?, 0, 0)`, s.code, e.c.Community1.ID, s.active); err != nil {
				t.Fatal(err)
			}
		}
		start := e.c.Clock.Now().Add(24 * 3600e9)
		na := volunteer.NewActivity{TeamID: e.teamA.ID, Kind: "persuasion", Title: "路口文明劝导", SiteCode: "S-01", StartsAt: start, EndsAt: start.Add(2 * 3600e9), Capacity: 8}
		a, err := e.svc.CreateActivity(e.ctx, e.coordA, na)
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.svc.Activity(e.ctx, e.coordA, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.SiteCode != "S-01" || got.Site != "清波路口" || got.Lat != 30.2512 || got.Lon != 120.1511 || got.RegionID != e.c.Community1.ID || got.Address != "清波路口 清波路与河坊街交叉口" {
			t.Errorf("activity at a site: %+v", got)
		}
		for _, code := range []string{"S-02", "S-99"} {
			na.SiteCode = code
			if _, err := e.svc.CreateActivity(e.ctx, e.coordA, na); !apperr.Is(err, apperr.Invalid) {
				t.Errorf("site %s: %v", code, err)
			}
		}
		sites, err := e.svc.Sites(e.ctx)
		if err != nil || len(sites) != 1 || sites[0].Code != "S-01" {
			t.Errorf("the form's sites: %+v %v", sites, err)
		}
	})
}
