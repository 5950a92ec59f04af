package tasks

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"chuangwen/internal/apperr"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
)

// TaskEdit is a task as the office changes it after the import: its
// title, units, indicator leaves and milestones. Units are given by code
// or full name, as in the table.
type TaskEdit struct {
	Title      string          `json:"title"`
	Lead       string          `json:"lead"`
	Coops      []string        `json:"coops"`
	Leaves     []string        `json:"leaves"`
	Milestones []MilestoneEdit `json:"milestones"`
}

// MilestoneEdit is one milestone of an edit, in the order the task is to
// have them. ID 0 adds a milestone; a milestone of the task that the edit
// leaves out is removed, which only one without reports may be. A done
// milestone (its report accepted) stays as it is.
type MilestoneEdit struct {
	ID          int64  `json:"id"`
	Title       string `json:"title"`
	Due         string `json:"due"` // 2026-03-31, or the table's other forms
	Deliverable string `json:"deliverable"`
}

// UpdateTask changes task id as e says: the administrator's. Every field
// is checked as the import checks it; nothing changes on a refusal.
func (s *Service) UpdateTask(ctx context.Context, actor org.Actor, id int64, e TaskEdit) error {
	if actor.Role != org.RoleAdmin {
		return apperr.New(apperr.Forbidden, "forbidden")
	}
	field := func(f string) string { return columns[f][0] }
	e.Title = strings.TrimSpace(e.Title)
	if e.Title == "" {
		return apperr.New(apperr.Invalid, "task.import_missing", "column", field("title"))
	}
	if utf8.RuneCountInString(e.Title) > MaxTextLen {
		return apperr.New(apperr.Invalid, "task.import_too_long_text", "column", field("title"), "max", strconv.Itoa(MaxTextLen))
	}
	if len(e.Milestones) == 0 {
		return apperr.New(apperr.Invalid, "task.import_missing", "column", field("milestone"))
	}
	if len(e.Milestones) > 50 {
		return apperr.New(apperr.Invalid, "task.too_many_milestones", "max", "50")
	}
	for i := range e.Milestones {
		m := &e.Milestones[i]
		m.Title, m.Deliverable = strings.TrimSpace(m.Title), strings.TrimSpace(m.Deliverable)
		if m.Title == "" {
			return apperr.New(apperr.Invalid, "task.import_missing", "column", field("milestone"))
		}
		for f, v := range map[string]string{"milestone": m.Title, "deliverable": m.Deliverable} {
			if utf8.RuneCountInString(v) > MaxTextLen {
				return apperr.New(apperr.Invalid, "task.import_too_long_text", "column", field(f), "max", strconv.Itoa(MaxTextLen))
			}
		}
		d, ok := ParseDate(strings.TrimSpace(m.Due))
		if !ok {
			return apperr.New(apperr.Invalid, "task.import_bad_date", "value", m.Due)
		}
		m.Due = d
	}
	if len(e.Leaves) > maxLeafList {
		return apperr.New(apperr.Invalid, "task.import_too_many_leaves", "max", strconv.Itoa(maxLeafList))
	}
	return s.DB.WithTx(ctx, func(tx *store.Tx) error {
		var year int
		var code string
		// The task and its milestones are locked (PostgreSQL) against
		// another edit and against a decision on one of its reports.
		if err := tx.QueryRow(ctx, `SELECT year, code FROM plan_tasks WHERE id = ?`+tx.Dialect().ForUpdate(), id).Scan(&year, &code); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return apperr.New(apperr.NotFound, "task.not_found")
			}
			return err
		}
		lead, coops, err := editUnits(ctx, tx, e)
		if err != nil {
			return err
		}
		leaves, err := editLeaves(ctx, tx, e.Leaves)
		if err != nil {
			return err
		}
		type have struct {
			title, due, deliverable string
			done, reported          bool
		}
		rows, err := store.Collect(ctx, tx, func(r store.Scanner) (x struct {
			id int64
			h  have
		}, err error) {
			var accepted int64
			err = r.Scan(&x.id, &x.h.title, &x.h.due, &x.h.deliverable, &accepted, &x.h.reported)
			x.h.done = accepted != 0
			return x, err
		}, `SELECT m.id, m.title, m.due, m.deliverable, m.accepted_at, EXISTS (SELECT 1 FROM plan_reports r WHERE r.milestone_id = m.id)
			FROM plan_milestones m WHERE m.task_id = ?`+tx.Dialect().ForUpdate(), id)
		if err != nil {
			return err
		}
		old := map[int64]have{}
		for _, x := range rows {
			old[x.id] = x.h
		}
		kept := map[int64]bool{}
		for _, m := range e.Milestones {
			if m.ID == 0 {
				continue
			}
			h, ok := old[m.ID]
			if !ok || kept[m.ID] {
				return apperr.New(apperr.Invalid, "task.milestone_not_here", "id", strconv.FormatInt(m.ID, 10))
			}
			kept[m.ID] = true
			if h.done && (m.Title != h.title || m.Due != h.due || m.Deliverable != h.deliverable) {
				return apperr.New(apperr.Conflict, "task.milestone_done_fixed", "milestone", h.title)
			}
		}
		var removed []int64
		for mid, h := range old {
			if !kept[mid] {
				if h.reported {
					return apperr.New(apperr.Conflict, "task.milestone_has_reports", "milestone", h.title)
				}
				removed = append(removed, mid)
			}
		}
		slices.Sort(removed)
		// The milestones' order is unique per task: move the kept ones out
		// of the way first, then number everything afresh.
		if _, err := tx.Exec(ctx, `UPDATE plan_milestones SET ord = -ord WHERE task_id = ?`, id); err != nil {
			return err
		}
		// Each write re-checks what was read: a report that came in, or
		// a decision that accepted a milestone, since is a conflict.
		for _, mid := range removed {
			if err := tx.Change(ctx, apperr.New(apperr.Conflict, "task.milestone_has_reports", "milestone", old[mid].title),
				`DELETE FROM plan_milestones WHERE id = ? AND NOT EXISTS (SELECT 1 FROM plan_reports r WHERE r.milestone_id = plan_milestones.id)`, mid); err != nil {
				return err
			}
		}
		for i, m := range e.Milestones {
			switch {
			case m.ID == 0:
				_, err = tx.Exec(ctx, `INSERT INTO plan_milestones (task_id, ord, title, due, deliverable) VALUES (?, ?, ?, ?, ?)`, id, i+1, m.Title, m.Due, m.Deliverable)
			case old[m.ID].done:
				_, err = tx.Exec(ctx, `UPDATE plan_milestones SET ord = ? WHERE id = ?`, i+1, m.ID)
			default:
				err = tx.Change(ctx, apperr.New(apperr.Conflict, "task.milestone_done_fixed", "milestone", old[m.ID].title),
					`UPDATE plan_milestones SET ord = ?, title = ?, due = ?, deliverable = ? WHERE id = ? AND accepted_at = 0`, i+1, m.Title, m.Due, m.Deliverable, m.ID)
			}
			if err != nil {
				return fmt.Errorf("milestone %d of task %d: %w", i+1, id, err)
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE plan_tasks SET title = ?, lead_unit_id = ? WHERE id = ?`, e.Title, lead, id); err != nil {
			return err
		}
		for _, q := range []string{`DELETE FROM plan_task_coops WHERE task_id = ?`, `DELETE FROM plan_task_leaves WHERE task_id = ?`} {
			if _, err := tx.Exec(ctx, q, id); err != nil {
				return err
			}
		}
		for _, u := range coops {
			if _, err := tx.Exec(ctx, `INSERT INTO plan_task_coops (task_id, unit_id) VALUES (?, ?)`, id, u); err != nil {
				return err
			}
		}
		for _, l := range leaves {
			if _, err := tx.Exec(ctx, `INSERT INTO plan_task_leaves (task_id, standard) VALUES (?, ?)`, id, l); err != nil {
				return err
			}
		}
		return s.trail(ctx, tx, actor, "task.update", map[string]any{"task": id, "year": year, "code": code, "title": e.Title, "lead_unit_id": lead,
			"coop_unit_ids": coops, "leaves": leaves, "milestones": len(e.Milestones), "removed_milestones": removed})
	})
}

// editUnits resolves an edit's lead and cooperating units (codes or
// names of active units): the lead may not cooperate, and a unit named
// twice counts once.
func editUnits(ctx context.Context, q store.Queryer, e TaskEdit) (lead int64, coops []int64, err error) {
	find := func(v string) (int64, error) {
		v = strings.TrimSpace(v)
		var id int64
		err := q.QueryRow(ctx, `SELECT id FROM units WHERE active = TRUE AND (code = ? OR name = ?) ORDER BY id LIMIT 1`, v, v).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, apperr.New(apperr.Invalid, "task.import_unknown_unit", "unit", v)
		}
		return id, err
	}
	if strings.TrimSpace(e.Lead) == "" {
		return 0, nil, apperr.New(apperr.Invalid, "task.import_missing", "column", columns["lead"][0])
	}
	if lead, err = find(e.Lead); err != nil {
		return 0, nil, err
	}
	for _, c := range e.Coops {
		if strings.TrimSpace(c) == "" {
			continue
		}
		id, err := find(c)
		if err != nil {
			return 0, nil, err
		}
		if id == lead {
			return 0, nil, apperr.New(apperr.Invalid, "task.import_lead_coop", "unit", c)
		}
		if !slices.Contains(coops, id) {
			coops = append(coops, id)
		}
	}
	return lead, coops, nil
}

// editLeaves checks an edit's indicator leaves against the imported
// editions (any code goes while none is imported), once each, in one
// query.
func editLeaves(ctx context.Context, q store.Queryer, in []string) ([]string, error) {
	var out []string
	for _, l := range in {
		if l = strings.TrimSpace(l); l != "" && !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	var imported int
	if err := q.QueryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM assess_standards LIMIT 1) x`).Scan(&imported); err != nil || imported == 0 {
		return out, err
	}
	args := make([]any, len(out))
	for i, l := range out {
		args[i] = l
	}
	known, err := store.Collect(ctx, q, func(r store.Scanner) (c string, err error) { return c, r.Scan(&c) },
		`SELECT DISTINCT code FROM assess_standards WHERE code IN `+store.In(len(out)), args...)
	if err != nil {
		return nil, err
	}
	for _, l := range out {
		if !slices.Contains(known, l) {
			return nil, apperr.New(apperr.Invalid, "task.import_unknown_leaf", "code", l)
		}
	}
	return out, nil
}
