package workflow_test

import (
	"testing"

	"chuangwen/internal/apperr"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
	"chuangwen/internal/testcity"
	"chuangwen/internal/workflow"
)

// A district's staff report within their district whether they name the
// region or only the point: a point in another district, or in no
// region, is refused and nothing is stored; the city's staff report
// anywhere.
func TestRegionStaffReportWithinTheirArea(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newRouteFixture(t, db)
		insp := f.inspector
		insp.Scope, insp.RegionID, insp.RegionPath = org.ScopeRegion, f.district1.ID, f.district1.Path
		insp.RegionIDs = []int64{f.district1.ID, f.street1.ID, f.community1.ID}
		inspection := bySource(workflow.SourceInspector)

		if c := f.reportAs(insp, inspection, atPoint(inCell1)); c.RegionID != f.community1.ID {
			t.Fatalf("in district 1: region %d", c.RegionID)
		}
		before := countRows(t, f.fixture, "cases")
		refuse := func(what string, mods ...func(*workflow.NewCase)) {
			t.Helper()
			in := workflow.NewCase{Source: workflow.SourceInspector, CategoryID: f.cat4h.ID, Description: "区外位置"}
			for _, m := range mods {
				m(&in)
			}
			_, err := f.svc.Report(f.ctx, insp, in)
			want := "case.location_out_of_scope"
			if in.Lat == nil {
				want = "case.location_required" // (an address alone tells no area)
			}
			if ae, ok := apperr.As(err); !ok || ae.Code != apperr.Invalid || ae.Key != want {
				t.Errorf("%s: %v", what, err)
			}
		}
		refuse("a point in district 2", atPoint(inCell2))
		refuse("a point in no region", atPoint(nearCity))
		refuse("an address alone", func(in *workflow.NewCase) { in.Address = "某路口" })
		if _, err := f.svc.Report(f.ctx, insp, workflow.NewCase{Source: workflow.SourceInspector, CategoryID: f.cat4h.ID, Description: "区外", RegionID: f.community2.ID}); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("district 2 named: %v", err)
		}
		if n := countRows(t, f.fixture, "cases"); n != before {
			t.Fatalf("refused reports stored: %d cases, were %d", n, before)
		}

		// The city's inspector reports in district 2 by its point.
		if c := f.reportAs(f.inspector, inspection, atPoint(inCell2)); c.RegionID == f.community1.ID || c.RegionID == 0 {
			t.Fatalf("city inspector in district 2: region %d", c.RegionID)
		}
	})
}
