package tasks_test

import (
	"context"
	"strings"
	"testing"

	"chuangwen/internal/apperr"
	"chuangwen/internal/store"
	"chuangwen/internal/tasks"
	"chuangwen/internal/testcity"
)

// A task changes after its import: title, units, leaves, milestones
// reordered, added and removed; a refused edit changes nothing; a
// milestone with reports stays, and an accepted one stays as it is.
func TestUpdateTask(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		s, c := newService(t, db)
		ctx := context.Background()
		if _, err := s.Import(ctx, c.Admin, 2026, table(t, [][]any{header,
			{"T01", "背街小巷整治", "", "A", "", "摸底", "2026-11-30", "台账"},
			{"T01", "", "", "", "", "整治", "2026-12-15", ""},
			{"T01", "", "", "", "", "验收", "2026-12-31", ""},
		})); err != nil {
			t.Fatal(err)
		}
		list, _ := s.Tasks(ctx, c.Admin, tasks.Filter{Year: 2026})
		task := list[0]
		ms := task.Milestones
		edit := tasks.TaskEdit{Title: "背街小巷环境整治（调整）", Lead: "园林局", Coops: []string{"A", "A"}, Leaves: []string{"4.1.1"},
			Milestones: []tasks.MilestoneEdit{
				{ID: ms[1].ID, Title: "集中整治", Due: "2026/12/20", Deliverable: "照片"},
				{ID: ms[0].ID, Title: "摸底", Due: "2026-11-30", Deliverable: "台账"},
				{Title: "回头看", Due: "2027年1月15日"},
			}}
		for _, bad := range []struct {
			name string
			mod  func(*tasks.TaskEdit)
			code apperr.Code
			key  string
		}{
			{"no title", func(e *tasks.TaskEdit) { e.Title = " " }, apperr.Invalid, "task.import_missing"},
			{"unknown unit", func(e *tasks.TaskEdit) { e.Coops = []string{"无此单位"} }, apperr.Invalid, "task.import_unknown_unit"},
			{"lead cooperates", func(e *tasks.TaskEdit) { e.Coops = []string{"B"} }, apperr.Invalid, "task.import_lead_coop"},
			{"bad date", func(e *tasks.TaskEdit) { e.Milestones = []tasks.MilestoneEdit{{Title: "x", Due: "明年"}} }, apperr.Invalid, "task.import_bad_date"},
			{"other task's milestone", func(e *tasks.TaskEdit) {
				e.Milestones = []tasks.MilestoneEdit{{ID: 999999, Title: "x", Due: "2026-12-01"}}
			}, apperr.Invalid, "task.milestone_not_here"},
			{"no milestone", func(e *tasks.TaskEdit) { e.Milestones = nil }, apperr.Invalid, "task.import_missing"},
			{"too long", func(e *tasks.TaskEdit) { e.Title = strings.Repeat("长", tasks.MaxTextLen+1) }, apperr.Invalid, "task.import_too_long_text"},
		} {
			e := edit
			bad.mod(&e)
			err := s.UpdateTask(ctx, c.Admin, task.ID, e)
			if !apperr.Is(err, bad.code) || keyOf(err) != bad.key {
				t.Errorf("%s: %v, want %s", bad.name, err, bad.key)
			}
		}
		if err := s.UpdateTask(ctx, c.Acceptor, task.ID, edit); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("an acceptor edits: %v", err)
		}
		if err := s.UpdateTask(ctx, c.Admin, 424242, edit); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("a missing task: %v", err)
		}
		if got, _ := s.Task(ctx, c.Admin, task.ID); got.Title != task.Title || len(got.Milestones) != 3 {
			t.Fatalf("a refused edit changed the task: %+v", got)
		}

		// A report on 验收 keeps it from being removed.
		if _, err := s.AddReport(ctx, c.HandlerA, ms[2].ID, "已准备验收材料", nil); err != nil {
			t.Fatal(err)
		}
		if err := s.UpdateTask(ctx, c.Admin, task.ID, edit); !apperr.Is(err, apperr.Conflict) || keyOf(err) != "task.milestone_has_reports" {
			t.Fatalf("removing a reported milestone: %v", err)
		}
		edit.Milestones = append(edit.Milestones, tasks.MilestoneEdit{ID: ms[2].ID, Title: "验收", Due: "2026-12-31"})
		if err := s.UpdateTask(ctx, c.Admin, task.ID, edit); err != nil {
			t.Fatal(err)
		}
		got, err := s.Task(ctx, c.Admin, task.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Title != edit.Title || got.Lead.Code != "B" || len(got.Coops) != 1 || got.Coops[0].Code != "A" || len(got.Leaves) != 1 || got.Leaves[0] != "4.1.1" {
			t.Errorf("task after the edit: %+v", got)
		}
		var seq []string
		for _, m := range got.Milestones {
			seq = append(seq, m.Title+" "+m.Due)
		}
		if strings.Join(seq, "|") != "集中整治 2026-12-20|摸底 2026-11-30|回头看 2027-01-15|验收 2026-12-31" || len(got.Milestones[3].Reports) != 1 {
			t.Errorf("milestones after the edit: %v", seq)
		}
		// The unit that now leads sees it; the edit is on the trail.
		if l, _ := s.Tasks(ctx, c.HandlerB, tasks.Filter{Year: 2026}); len(l) != 1 {
			t.Errorf("the new lead sees %d tasks", len(l))
		}
		var n int
		if err := db.Reader().QueryRow(ctx, `SELECT count(*) FROM events WHERE action = 'task.update'`).Scan(&n); err != nil || n != 1 {
			t.Errorf("trail entries %d (%v)", n, err)
		}

		// An accepted milestone stays as it is.
		rep := got.Milestones[3].Reports[0]
		if err := s.Decide(ctx, c.Acceptor, rep.ID, true, ""); err != nil {
			t.Fatal(err)
		}
		edit.Milestones[3].Due = "2027-01-31"
		if err := s.UpdateTask(ctx, c.Admin, task.ID, edit); !apperr.Is(err, apperr.Conflict) || keyOf(err) != "task.milestone_done_fixed" {
			t.Errorf("changing an accepted milestone: %v", err)
		}
	})
}

func keyOf(err error) string {
	if e, ok := apperr.As(err); ok {
		return e.Key
	}
	return ""
}
