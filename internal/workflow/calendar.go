package workflow

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"chuangwen/internal/apperr"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
	"chuangwen/internal/workcal"
)

// ---- working calendar ----

// calendarCache holds the calendar built from the holidays table and the
// working-hours setting. It is reloaded after calendarTTL so that a change
// made on another replica takes effect there within that time, and at
// once on the replica that made it.
type calendarCache struct {
	mu     sync.Mutex
	cal    *workcal.Calendar
	loaded time.Time
}

const calendarTTL = 30 * time.Second

// SettingWorkSpans is the settings key for daily working hours, e.g.
// "09:00-12:00,13:00-18:00".
const SettingWorkSpans = "work_spans"

// Calendar returns the current working calendar.
func (s *Service) Calendar(ctx context.Context) (*workcal.Calendar, error) {
	s.cal.mu.Lock()
	defer s.cal.mu.Unlock()
	if s.cal.cal != nil && time.Since(s.cal.loaded) < calendarTTL {
		return s.cal.cal, nil
	}
	q := s.DB.Reader()
	spans := workcal.DefaultSpans()
	var text string
	err := q.QueryRow(ctx, `SELECT value FROM settings WHERE key = ?`, SettingWorkSpans).Scan(&text)
	if err == nil {
		if spans, err = ParseSpans(text); err != nil {
			return nil, err
		}
	} else if !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	days, err := s.Holidays(ctx)
	if err != nil {
		return nil, err
	}
	cal, err := workcal.New(s.Location, spans, days)
	if err != nil {
		return nil, fmt.Errorf("working calendar: %w", err)
	}
	s.cal.cal, s.cal.loaded = cal, time.Now()
	return cal, nil
}

func (s *Service) invalidateCalendar() {
	s.cal.mu.Lock()
	s.cal.cal = nil
	s.cal.mu.Unlock()
}

// ParseSpans reads "09:00-12:00,13:00-18:00".
func ParseSpans(text string) ([]workcal.Span, error) {
	var out []workcal.Span
	for _, part := range strings.Split(text, ",") {
		a, b, ok := strings.Cut(strings.TrimSpace(part), "-")
		if !ok {
			return nil, apperr.New(apperr.Invalid, "calendar.bad_spans")
		}
		start, err1 := parseClock(a)
		end, err2 := parseClock(b)
		if err1 != nil || err2 != nil || start >= end {
			return nil, apperr.New(apperr.Invalid, "calendar.bad_spans")
		}
		out = append(out, workcal.Span{Start: start, End: end})
	}
	if _, err := workcal.New(time.UTC, out, nil); err != nil {
		return nil, apperr.New(apperr.Invalid, "calendar.bad_spans")
	}
	return out, nil
}

func parseClock(s string) (int, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		return 0, err
	}
	return t.Hour()*60 + t.Minute(), nil
}

// FormatSpans writes spans as ParseSpans reads them.
func FormatSpans(spans []workcal.Span) string {
	var parts []string
	for _, sp := range spans {
		parts = append(parts, fmt.Sprintf("%02d:%02d-%02d:%02d", sp.Start/60, sp.Start%60, sp.End/60, sp.End%60))
	}
	return strings.Join(parts, ",")
}

// WorkSpans returns the configured working hours.
func (s *Service) WorkSpans(ctx context.Context) (string, error) {
	var text string
	err := s.DB.Reader().QueryRow(ctx, `SELECT value FROM settings WHERE key = ?`, SettingWorkSpans).Scan(&text)
	if errors.Is(err, sql.ErrNoRows) {
		return FormatSpans(workcal.DefaultSpans()), nil
	}
	return text, err
}

// SetWorkSpans changes the working hours.
func (s *Service) SetWorkSpans(ctx context.Context, actor org.Actor, text string) error {
	if actor.Role != org.RoleAdmin {
		return apperr.New(apperr.Forbidden, "forbidden")
	}
	spans, err := ParseSpans(text)
	if err != nil {
		return err
	}
	text = FormatSpans(spans)
	defer s.invalidateCalendar()
	return s.DB.WithTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, SettingWorkSpans, text); err != nil {
			return err
		}
		return s.logAdmin(ctx, tx, actor, "calendar.spans", map[string]string{"spans": text})
	})
}

// Holidays lists the calendar's overrides (holidays and make-up days).
func (s *Service) Holidays(ctx context.Context) ([]workcal.Override, error) {
	rows, err := s.DB.Reader().Query(ctx, `SELECT day, working, name FROM holidays ORDER BY day`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []workcal.Override
	for rows.Next() {
		var o workcal.Override
		var day string
		if err := rows.Scan(&day, &o.Working, &o.Name); err != nil {
			return nil, err
		}
		o.Date = workcal.Date(day)
		out = append(out, o)
	}
	return out, rows.Err()
}

// SetHolidays adds or replaces overrides.
func (s *Service) SetHolidays(ctx context.Context, actor org.Actor, days []workcal.Override) error {
	if actor.Role != org.RoleAdmin && actor.Role != org.RoleSystem {
		return apperr.New(apperr.Forbidden, "forbidden")
	}
	if _, err := workcal.New(time.UTC, workcal.DefaultSpans(), days); err != nil {
		return apperr.New(apperr.Invalid, "calendar.bad_day")
	}
	defer s.invalidateCalendar()
	return s.DB.WithTx(ctx, func(tx *store.Tx) error {
		for _, d := range days {
			if _, err := tx.Exec(ctx, `INSERT INTO holidays (day, working, name) VALUES (?, ?, ?) ON CONFLICT (day) DO UPDATE SET working = excluded.working, name = excluded.name`,
				string(d.Date), d.Working, d.Name); err != nil {
				return err
			}
		}
		return s.logAdmin(ctx, tx, actor, "calendar.set", days)
	})
}

// DeleteHoliday removes an override.
func (s *Service) DeleteHoliday(ctx context.Context, actor org.Actor, day string) error {
	if actor.Role != org.RoleAdmin {
		return apperr.New(apperr.Forbidden, "forbidden")
	}
	defer s.invalidateCalendar()
	return s.DB.WithTx(ctx, func(tx *store.Tx) error {
		if err := tx.Change(ctx, apperr.New(apperr.NotFound, "calendar.not_found"), `DELETE FROM holidays WHERE day = ?`, day); err != nil {
			return err
		}
		return s.logAdmin(ctx, tx, actor, "calendar.delete", map[string]string{"day": day})
	})
}
