package workflow_test

import (
	"testing"

	"chuangwen/internal/apperr"
	"chuangwen/internal/geo"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
	"chuangwen/internal/testcity"
	"chuangwen/internal/workflow"
)

// TestAcceptRelocates: on accept the acceptor may place a case again; a
// point is located in the grid, and a district-scoped acceptor cannot
// move a case into another district by its coordinates.
func TestAcceptRelocates(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newRouteFixture(t, db)
		acc := f.acceptor
		acc.Scope, acc.RegionID, acc.RegionPath = org.ScopeRegion, f.district1.ID, f.district1.Path
		acc.RegionIDs = []int64{f.district1.ID, f.street1.ID, f.community1.ID}

		c := f.reportAs(f.acceptor, atPoint(nearCity))
		if c.LocationFlag != geo.LocNone {
			t.Fatalf("setup: flag %q", c.LocationFlag)
		}
		// Placed by the city-wide acceptor first, into community1.
		lat, lon := inCell1[0], inCell1[1]
		got, err := f.svc.Act(f.ctx, f.acceptor, c.ID, workflow.ActInput{Action: workflow.Accept, Lat: &lat, Lon: &lon})
		if err != nil {
			t.Fatal(err)
		}
		if got.RegionID != f.community1.ID || got.GridCellID != f.cell1.ID || got.LocationFlag != geo.LocCell {
			t.Fatalf("relocated: region %d cell %d flag %q", got.RegionID, got.GridCellID, got.LocationFlag)
		}

		// A district-1 acceptor cannot send a case to district 2 by a point.
		c2 := f.reportAs(f.acceptor, atPoint(inCell1))
		lat2, lon2 := inCell2[0], inCell2[1]
		_, err = f.svc.Act(f.ctx, acc, c2.ID, workflow.ActInput{Action: workflow.Accept, Lat: &lat2, Lon: &lon2})
		if ae, ok := apperr.As(err); !ok || ae.Key != "case.region_out_of_scope" {
			t.Fatalf("relocation out of scope: %v", err)
		}
		if got, _ := f.svc.Get(f.ctx, f.acceptor, c2.ID); got.RegionID != f.community1.ID || got.State != workflow.Reported {
			t.Fatalf("the refused relocation changed the case: region %d state %s", got.RegionID, got.State)
		}
		// Nor leave the city.
		lat3, lon3 := beijing[0], beijing[1]
		_, err = f.svc.Act(f.ctx, f.acceptor, c2.ID, workflow.ActInput{Action: workflow.Accept, Lat: &lat3, Lon: &lon3})
		if ae, ok := apperr.As(err); !ok || ae.Key != "case.outside_city" {
			t.Fatalf("relocation outside the city: %v", err)
		}
	})
}
