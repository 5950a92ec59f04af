package workflow_test

import (
	"testing"

	"chuangwen/internal/apperr"
	"chuangwen/internal/store"
	"chuangwen/internal/testcity"
	"chuangwen/internal/workcal"
	"chuangwen/internal/workflow"
)

// A category's time limits are at most a working year, for a 大类's
// defaults too (3,000,000,000 hours had overflowed PostgreSQL's column:
// a 500).
func TestCategoryLimitsBounded(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		for _, c := range []workflow.Category{
			{Code: "X1", Name: "大类", LimitNormal: 3000000000, LimitUnit: workcal.Hours},
			{Code: "X2", Name: "小类", ParentID: f.bigCat.ID, LimitNormal: 4, LimitUrgent: workflow.MaxLimitHours + 1, LimitUnit: workcal.Hours},
			{Code: "X3", Name: "小类", ParentID: f.bigCat.ID, LimitNormal: workflow.MaxLimitDays + 1, LimitUnit: workcal.Days},
		} {
			if _, err := f.svc.SaveCategory(f.ctx, f.admin, c); !apperr.Is(err, apperr.Invalid) {
				t.Errorf("%s %d/%d %s: %v", c.Code, c.LimitNormal, c.LimitUrgent, c.LimitUnit, err)
			}
		}
		if _, err := f.svc.SaveCategory(f.ctx, f.admin, workflow.Category{Code: "X4", Name: "小类", ParentID: f.bigCat.ID, LimitNormal: workflow.MaxLimitDays, LimitUnit: workcal.Days}); err != nil {
			t.Errorf("a working year's limit: %v", err)
		}
	})
}
