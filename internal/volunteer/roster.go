package volunteer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"chuangwen/internal/apperr"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
)

// RowProblem is what is wrong with one row of an import (1-based, as a
// spreadsheet numbers its rows after the header).
type RowProblem struct {
	Row  int      `json:"row"`
	Key  string   `json:"key"`
	Args []string `json:"args,omitempty"`
}

// ImportReport is the outcome of a roster import: all rows stored, or
// none and every row's problem.
type ImportReport struct {
	Rows     int          `json:"rows"`
	Stored   int          `json:"stored"`
	Problems []RowProblem `json:"problems,omitempty"`
}

// ImportRoster stores an existing roster (名册) of volunteers into a team
// actor manages, approved at once (the team vouches for its roster) and
// without a password: their hours and statistics are kept from the
// start, and they sign in on the phone pages once they have one. Every
// row is checked first, duplicates too (by identity number and phone,
// within the file and against those stored); one bad row stores nothing.
func (s *Service) ImportRoster(ctx context.Context, actor org.Actor, teamID int64, rows []Registration) (ImportReport, error) {
	rep := ImportReport{Rows: len(rows)}
	if err := s.manages(ctx, actor, teamID); err != nil {
		return rep, err
	}
	if len(rows) == 0 {
		return rep, apperr.New(apperr.Invalid, "volunteer.import_empty")
	}
	if len(rows) > MaxImportRows {
		return rep, apperr.New(apperr.Invalid, "volunteer.import_too_many", "max", fmt.Sprint(MaxImportRows))
	}
	seenID, seenPhone := map[string]int{}, map[string]int{}
	for i := range rows {
		r := &rows[i]
		r.TeamID = teamID
		if err := r.checked(); err != nil {
			e, _ := apperr.As(err)
			rep.Problems = append(rep.Problems, RowProblem{Row: i + 1, Key: e.Key, Args: e.Args})
			continue
		}
		if j, ok := seenID[r.IDNumber]; ok {
			rep.Problems = append(rep.Problems, RowProblem{Row: i + 1, Key: "volunteer.import_dup_id", Args: []string{"row", fmt.Sprint(j)}})
			continue
		}
		if j, ok := seenPhone[r.Phone]; ok {
			rep.Problems = append(rep.Problems, RowProblem{Row: i + 1, Key: "volunteer.import_dup_phone", Args: []string{"row", fmt.Sprint(j)}})
			continue
		}
		seenID[r.IDNumber], seenPhone[r.Phone] = i+1, i+1
	}
	if len(rep.Problems) > 0 {
		return rep, nil
	}
	err := s.DB.WithTx(ctx, func(tx *store.Tx) error {
		for i, r := range rows {
			_, err := s.insert(ctx, tx, r, "", StatusActive, SourceImport)
			if e, ok := apperr.As(err); ok {
				rep.Problems = append(rep.Problems, RowProblem{Row: i + 1, Key: e.Key, Args: e.Args})
				continue
			}
			if err != nil {
				return err
			}
		}
		if len(rep.Problems) > 0 {
			return errRollback
		}
		rep.Stored = len(rows)
		return s.log(ctx, tx, actor, "volunteer.import", map[string]any{"team_id": teamID, "rows": len(rows)})
	})
	if err == errRollback {
		return rep, nil
	}
	return rep, err
}

// MaxImportRows bounds one roster import.
const MaxImportRows = 20000

var errRollback = apperr.New(apperr.Conflict, "volunteer.import_failed")

// PastService is one volunteer's time at an activity recorded after the
// fact (补录): someone who served but could not scan.
type PastService struct {
	VolunteerID int64 `json:"volunteer_id"`
	Minutes     int   `json:"minutes"`
}

// RecordPast records, for an ended activity of a team actor manages, the
// service of volunteers who did not check in, confirmed at once by the
// organiser who records it (谁组织谁记录), with a reason, in one
// transaction. A volunteer already on the sheet is refused: their time is
// corrected with Confirm.
func (s *Service) RecordPast(ctx context.Context, actor org.Actor, activityID int64, list []PastService, reason string) error {
	a, err := s.Activity(ctx, actor, activityID)
	if err != nil {
		return err
	}
	if s.now().Before(a.EndsAt) {
		return apperr.New(apperr.Conflict, "volunteer.not_ended")
	}
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return apperr.New(apperr.Invalid, "volunteer.reason_required")
	}
	span := int(a.EndsAt.Sub(a.StartsAt) / time.Minute)
	now := store.Ms(s.now())
	return s.DB.WithTx(ctx, func(tx *store.Tx) error {
		for _, p := range list {
			if p.Minutes <= 0 || p.Minutes > span {
				return apperr.New(apperr.Invalid, "volunteer.minutes_bad", "max", fmt.Sprint(span))
			}
			var regionID int64
			var status string
			err := tx.QueryRow(ctx, `SELECT region_id, status FROM volunteers WHERE id = ?`, p.VolunteerID).Scan(&regionID, &status)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			if err != nil || status != StatusActive {
				return apperr.New(apperr.Invalid, "volunteer.unknown")
			}
			if _, err := tx.Exec(ctx, `INSERT INTO activity_signups (activity_id, volunteer_id, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, activityID, p.VolunteerID, now); err != nil {
				return err
			}
			in := store.Ms(a.StartsAt)
			_, err = tx.Exec(ctx, `INSERT INTO service_records (activity_id, volunteer_id, region_id, checkin_at, checkin_m, checkout_at, checkout_m, minutes, confirmed_minutes, confirmed_at, confirmed_by)
				VALUES (?, ?, ?, ?, -1, ?, -1, ?, ?, ?, ?)`, activityID, p.VolunteerID, regionID, in, in+int64(p.Minutes)*60_000, p.Minutes, p.Minutes, now, nullID(actor.UserID))
			if store.IsUniqueViolation(err) {
				return apperr.New(apperr.Conflict, "volunteer.already_recorded")
			}
			if err != nil {
				return err
			}
			if err := s.addMinutes(ctx, tx, p.VolunteerID, regionID, in, p.Minutes); err != nil {
				return err
			}
		}
		return s.log(ctx, tx, actor, "volunteer.hours_record", map[string]any{"activity_id": activityID, "services": list, "reason": reason})
	})
}
