package workflow_test

import (
	"testing"
	"time"

	"chuangwen/internal/org"
	"chuangwen/internal/store"
	"chuangwen/internal/testcity"
	"chuangwen/internal/workflow"
)

// TestEachExportRow: every column of the export row on both databases,
// the reporter for those who may see it only, and a description holding
// the separator the rows travel with (a space in the export).
func TestEachExportRow(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		plain := f.report()
		odd := f.report(func(in *workflow.NewCase) { in.Description = "先导入" })
		if _, err := db.Exec(f.ctx, `UPDATE cases SET description = ? WHERE id = ?`, "导入的\x1f分隔符", odd.ID); err != nil {
			t.Fatal(err)
		}
		f.act(f.acceptor, plain.ID, workflow.ActInput{Action: workflow.Accept})
		f.act(f.acceptor, plain.ID, workflow.ActInput{Action: workflow.Dispatch, LeadUnitID: f.unitA.ID})
		f.act(f.acceptor, plain.ID, workflow.ActInput{Action: workflow.Supervise, Opinion: "挂牌"})
		rows := map[string]workflow.ExportRow{}
		read := func(a org.Actor) {
			clear(rows)
			if err := f.svc.EachExportRow(f.ctx, a, workflow.Filter{}, nil, func(e *workflow.ExportRow) error {
				rows[e.No] = *e
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
		read(f.acceptor)
		p, o := rows[plain.No], rows[odd.No]
		if len(rows) != 2 || p.Description != "路边暴露垃圾" || p.Category != f.cat4h.Name || p.Region != f.community1.Name || p.State != workflow.Dispatched ||
			p.LeadUnit != f.unitA.Name || !p.Supervised || p.Overdue || p.Deadline.IsZero() || !p.ReportedAt.Equal(plain.ReportedAt) || !p.ClosedAt.IsZero() ||
			p.ReporterName != "张三" || p.ReporterPhone != "13800000000" || p.Source != string(workflow.SourceCitizen) {
			t.Errorf("dispatched case %+v", p)
		}
		if o.Description != "导入的 分隔符" || o.State != workflow.Reported || o.LeadUnit != "" || o.ReporterName != "张三" {
			t.Errorf("the case with the separator %+v", o)
		}
		// A filter that fails is told before begin.
		began := false
		err := f.svc.EachExportRow(f.ctx, f.acceptor, workflow.Filter{States: []workflow.State{"lost"}}, func() error { began = true; return nil }, nil)
		if err == nil || began {
			t.Errorf("a bad filter: %v, begun %v", err, began)
		}
		// Overdue and warned, as the watch marks them.
		f.clk.Advance(72 * time.Hour)
		if _, _, err := f.svc.SweepDeadlines(f.ctx); err != nil {
			t.Fatal(err)
		}
		read(f.handlerA) // the unit's own case, no reporter
		p = rows[plain.No]
		if len(rows) != 1 || !p.Overdue || p.Warning != 2 || p.ReporterName != "" || p.ReporterPhone != "" {
			t.Errorf("the unit's export %+v", rows)
		}
	})
}
