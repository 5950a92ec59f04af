package tasks

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"chuangwen/internal/apperr"
	"chuangwen/internal/blob"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
)

// Upload is an attachment as received.
type Upload struct {
	Name string
	R    io.Reader
}

// MaxFileBytes bounds one attachment; MaxFiles the attachments of a report.
const (
	MaxFileBytes = 20 << 20
	MaxFiles     = 5
	MaxBodyLen   = 2000
)

// milestoneOf reads a milestone's task's lead unit and whether the
// milestone is done, checking that actor sees the task.
func milestoneOf(ctx context.Context, q store.Queryer, actor org.Actor, id int64) (taskID, lead int64, accepted bool, err error) {
	cond, args, err := scope(actor)
	if err != nil {
		return 0, 0, false, err
	}
	var at int64
	err = q.QueryRow(ctx, `SELECT t.id, t.lead_unit_id, m.accepted_at FROM plan_milestones m JOIN plan_tasks t ON t.id = m.task_id
		WHERE m.id = ? AND `+cond, append([]any{id}, args...)...).Scan(&taskID, &lead, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, false, apperr.New(apperr.NotFound, "task.milestone_not_found")
	}
	return taskID, lead, at > 0, err
}

// AddReport stores a unit's progress report on a milestone, with its
// attachments: the handler of the task's lead or a cooperating unit (the
// office may add one too). The files are stored first and removed again
// when the report is not written. A milestone already accepted takes no
// more reports.
func (s *Service) AddReport(ctx context.Context, actor org.Actor, milestoneID int64, body string, files []Upload) (Report, error) {
	if actor.Role != org.RoleHandler && !decides(actor) {
		return Report{}, apperr.New(apperr.Forbidden, "forbidden")
	}
	body = strings.TrimSpace(body)
	switch {
	case body == "":
		return Report{}, apperr.New(apperr.Invalid, "task.report_body_required")
	case utf8.RuneCountInString(body) > MaxBodyLen:
		return Report{}, apperr.New(apperr.Invalid, "task.report_too_long", "max", strconv.Itoa(MaxBodyLen))
	case len(files) > MaxFiles:
		return Report{}, apperr.New(apperr.Invalid, "task.too_many_files", "max", strconv.Itoa(MaxFiles))
	}
	taskID, _, accepted, err := milestoneOf(ctx, s.DB.Reader(), actor, milestoneID)
	if err != nil {
		return Report{}, err
	}
	if accepted {
		return Report{}, apperr.New(apperr.Conflict, "task.milestone_done")
	}
	if s.Blobs == nil && len(files) > 0 {
		return Report{}, fmt.Errorf("tasks: no blob store for attachments")
	}
	var stored []blob.Document
	cleanup := func() {
		for _, d := range stored {
			_ = s.Blobs.Delete(context.Background(), d.Key)
		}
	}
	for _, f := range files {
		d, err := blob.PutDocument(ctx, s.Blobs, "tasks", f.Name, f.R, MaxFileBytes, s.now())
		if err != nil {
			cleanup()
			switch {
			case errors.Is(err, blob.ErrDocumentEmpty):
				return Report{}, apperr.New(apperr.Invalid, "task.file_empty", "name", blob.CleanName(f.Name, "?"))
			case errors.Is(err, blob.ErrDocumentType):
				return Report{}, apperr.New(apperr.Unsupported, "task.file_type", "name", blob.CleanName(f.Name, "?"))
			case errors.Is(err, blob.ErrDocumentTooLarge):
				return Report{}, apperr.New(apperr.TooLarge, "task.file_too_large", "mb", strconv.Itoa(MaxFileBytes>>20))
			}
			return Report{}, fmt.Errorf("store attachment: %w", err)
		}
		stored = append(stored, d)
	}
	now := s.now()
	var out Report
	err = s.DB.WithTx(ctx, func(tx *store.Tx) error {
		// The milestone's row is locked (PostgreSQL; SQLite's writer holds
		// the database) so that a decision and a report do not cross.
		// Accepted meanwhile: refused, as above. One report at a time
		// waits for the office: the next comes after its decision.
		var at int64
		if err := tx.QueryRow(ctx, `SELECT accepted_at FROM plan_milestones WHERE id = ?`+tx.Dialect().ForUpdate(), milestoneID).Scan(&at); err != nil {
			return err
		}
		if at > 0 {
			return apperr.New(apperr.Conflict, "task.milestone_done")
		}
		var waiting int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM plan_reports WHERE milestone_id = ? AND decision = 'pending'`, milestoneID).Scan(&waiting); err != nil {
			return err
		}
		if waiting > 0 {
			return apperr.New(apperr.Conflict, "task.report_waiting")
		}
		var unit any
		if actor.UnitID != 0 {
			unit = actor.UnitID
		}
		var user any
		if actor.UserID != 0 {
			user = actor.UserID
		}
		id, err := store.InsertID(ctx, tx, `INSERT INTO plan_reports (milestone_id, unit_id, body, created_by, created_at) VALUES (?, ?, ?, ?, ?)`,
			milestoneID, unit, body, user, store.Ms(now))
		if err != nil {
			return fmt.Errorf("insert report: %w", err)
		}
		out = Report{ID: id, MilestoneID: milestoneID, Body: body, By: actor.Name, At: store.Ms(now), Decision: Pending, Files: []File{}}
		var digests []string
		for _, d := range stored {
			fid, err := store.InsertID(ctx, tx, `INSERT INTO plan_report_files (report_id, name, path, mime, size, sha256) VALUES (?, ?, ?, ?, ?, ?)`,
				id, d.Name, d.Key, d.Mime, d.Size, d.SHA256)
			if err != nil {
				return err
			}
			out.Files = append(out.Files, File{ID: fid, Name: d.Name, Mime: d.Mime, Size: d.Size, SHA256: d.SHA256})
			digests = append(digests, d.SHA256)
		}
		return s.trail(ctx, tx, actor, "task.report", map[string]any{"task": taskID, "milestone": milestoneID, "report": id, "files": digests})
	})
	if err != nil {
		cleanup()
		return Report{}, err
	}
	return out, nil
}

// Decide accepts a pending report (its milestone is done) or returns it
// with a reason (the unit reports again). The office's (administrator,
// acceptor); once.
func (s *Service) Decide(ctx context.Context, actor org.Actor, reportID int64, accept bool, note string) error {
	if !decides(actor) {
		return apperr.New(apperr.Forbidden, "forbidden")
	}
	note = strings.TrimSpace(note)
	if !accept && note == "" {
		return apperr.New(apperr.Invalid, "task.return_reason_required")
	}
	if utf8.RuneCountInString(note) > MaxBodyLen {
		return apperr.New(apperr.Invalid, "task.report_too_long", "max", strconv.Itoa(MaxBodyLen))
	}
	now := s.now()
	return s.DB.WithTx(ctx, func(tx *store.Tx) error {
		var milestone int64
		var decision string
		err := tx.QueryRow(ctx, `SELECT milestone_id, decision FROM plan_reports WHERE id = ?`, reportID).Scan(&milestone, &decision)
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.New(apperr.NotFound, "task.report_not_found")
		}
		if err != nil {
			return err
		}
		if decision != Pending {
			return apperr.New(apperr.Conflict, "task.report_decided", "decision", "task.decision."+decision)
		}
		var at int64
		if err := tx.QueryRow(ctx, `SELECT accepted_at FROM plan_milestones WHERE id = ?`+tx.Dialect().ForUpdate(), milestone).Scan(&at); err != nil {
			return err
		}
		d := Returned
		if accept {
			d = Accepted
			if err := tx.Change(ctx, apperr.New(apperr.Conflict, "task.milestone_done"), `UPDATE plan_milestones SET accepted_at = ? WHERE id = ? AND accepted_at = 0`, store.Ms(now), milestone); err != nil {
				return err
			}
		}
		if err := tx.Change(ctx, apperr.New(apperr.Conflict, "task.report_decided", "decision", "task.decision."+Accepted), `UPDATE plan_reports SET decision = ?, decided_by = ?, decided_at = ?, decision_note = ? WHERE id = ? AND decision = 'pending'`,
			d, nullable(actor.UserID), store.Ms(now), note, reportID); err != nil {
			return err
		}
		return s.trail(ctx, tx, actor, "task.decide", map[string]any{"report": reportID, "milestone": milestone, "decision": d, "note": note})
	})
}

func nullable(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// OpenFile opens an attachment for a reader of its task.
func (s *Service) OpenFile(ctx context.Context, actor org.Actor, fileID int64) (File, io.ReadCloser, error) {
	cond, args, err := scope(actor)
	if err != nil {
		return File{}, nil, err
	}
	var f File
	err = s.DB.Reader().QueryRow(ctx, `SELECT f.id, f.name, f.mime, f.size, f.sha256, f.path FROM plan_report_files f
		JOIN plan_reports p ON p.id = f.report_id JOIN plan_milestones m ON m.id = p.milestone_id JOIN plan_tasks t ON t.id = m.task_id
		WHERE f.id = ? AND `+cond, append([]any{fileID}, args...)...).Scan(&f.ID, &f.Name, &f.Mime, &f.Size, &f.SHA256, &f.path)
	if errors.Is(err, sql.ErrNoRows) {
		return File{}, nil, apperr.New(apperr.NotFound, "task.file_not_found")
	}
	if err != nil {
		return File{}, nil, err
	}
	rc, _, err := s.Blobs.Open(ctx, f.path)
	return f, rc, err
}

// TaskOfMilestone returns the id of a milestone's task, if actor sees it.
func (s *Service) TaskOfMilestone(ctx context.Context, actor org.Actor, milestoneID int64) (int64, error) {
	id, _, _, err := milestoneOf(ctx, s.DB.Reader(), actor, milestoneID)
	return id, err
}

// TaskOfReport returns the task a report belongs to, if actor sees it.
func (s *Service) TaskOfReport(ctx context.Context, actor org.Actor, reportID int64) (Task, error) {
	var milestone int64
	err := s.DB.Reader().QueryRow(ctx, `SELECT milestone_id FROM plan_reports WHERE id = ?`, reportID).Scan(&milestone)
	if errors.Is(err, sql.ErrNoRows) {
		return Task{}, apperr.New(apperr.NotFound, "task.report_not_found")
	}
	if err != nil {
		return Task{}, err
	}
	id, err := s.TaskOfMilestone(ctx, actor, milestone)
	if err != nil {
		return Task{}, err
	}
	return s.Task(ctx, actor, id)
}
