package workflow

import "testing"

// The acceptance rate exists only for region figures (withCases), and is
// nil when nothing validly reported remains after duplicates.
func TestAcceptanceRateDenominator(t *testing.T) {
	cases := []struct {
		f    Figures
		want *float64
	}{
		{Figures{withCases: true}, nil},
		{Figures{withCases: true, Reported: 3, Merged: 3}, nil},
		{Figures{withCases: true, Reported: 2, Merged: 3, Accepted: 1}, nil},
		{Figures{withCases: true, Reported: 4, Merged: 1, Accepted: 2}, ptr(2.0 / 3.0)},
		{Figures{withCases: true, Reported: 5, Accepted: 5, Rejected: 0}, ptr(1)},
		{Figures{Reported: 5, Accepted: 5}, nil}, // unit figures: units accept nothing
	}
	for _, tc := range cases {
		got := tc.f.Rates().Acceptance
		if (got == nil) != (tc.want == nil) || got != nil && *got != *tc.want {
			t.Errorf("%+v: acceptance %v, want %v", tc.f, deref(got), deref(tc.want))
		}
	}
}

func ptr(v float64) *float64 { return &v }

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}
