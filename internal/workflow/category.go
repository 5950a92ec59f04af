package workflow

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"chuangwen/internal/apperr"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
	"chuangwen/internal/workcal"
)

// Category is a problem category (问题类别): a 大类 (no parent) or a 小类.
// Time limits are per urgency level: normal, urgent, critical.
type Category struct {
	ID            int64        `json:"id"`
	Code          string       `json:"code"`
	ParentID      int64        `json:"parent_id,omitempty"`
	Name          string       `json:"name"`
	Standard      string       `json:"standard"` // acceptance standard (结案标准)
	LimitUnit     workcal.Unit `json:"limit_unit"`
	LimitNormal   int          `json:"limit_normal"`
	LimitUrgent   int          `json:"limit_urgent"`
	LimitCritical int          `json:"limit_critical"`
	Active        bool         `json:"active"`
	// Intake settings: the hint shown to citizens, whether only staff may
	// choose the category (not offered on the public page or Open311), whether its reports are accepted and
	// dispatched (by the responsibility table) without waiting for an
	// acceptor, and the radius within which an open case of the same
	// category counts as a likely duplicate.
	Hint         string `json:"hint,omitempty"`
	StaffOnly    bool   `json:"staff_only"`
	AutoAccept   bool   `json:"auto_accept"`
	AutoDispatch bool   `json:"auto_dispatch"`
	DupRadiusM   int    `json:"dup_radius_m"`
}

// DefaultDupRadiusM is the duplicate radius of a category that sets none.
const DefaultDupRadiusM = 50

// Urgency levels of a case.
const (
	UrgencyNormal   = 1 // 一般
	UrgencyUrgent   = 2 // 紧急
	UrgencyCritical = 3 // 特急
)

// Limit returns the category's time limit for an urgency level; a level
// without its own limit falls back to the normal one.
func (c Category) Limit(urgency int) workcal.Limit {
	v := c.LimitNormal
	switch urgency {
	case UrgencyUrgent:
		if c.LimitUrgent > 0 {
			v = c.LimitUrgent
		}
	case UrgencyCritical:
		if c.LimitCritical > 0 {
			v = c.LimitCritical
		} else if c.LimitUrgent > 0 {
			v = c.LimitUrgent
		}
	}
	return workcal.Limit{Value: v, Unit: c.LimitUnit}
}

func (c *Category) validate() error {
	c.Code = strings.TrimSpace(c.Code)
	c.Name = strings.TrimSpace(c.Name)
	if c.Code == "" || c.Name == "" {
		return apperr.New(apperr.Invalid, "category.required")
	}
	if c.DupRadiusM == 0 {
		c.DupRadiusM = DefaultDupRadiusM
	}
	if c.DupRadiusM < 0 || c.DupRadiusM > 5000 {
		return apperr.New(apperr.Invalid, "category.bad_dup_radius")
	}
	c.Hint = strings.TrimSpace(c.Hint)
	if c.ParentID == 0 {
		// A 大类 groups 小类; its limit is only a default for new children.
		if c.LimitUnit == "" {
			c.LimitUnit = workcal.Hours
		}
		return nil
	}
	if err := (workcal.Limit{Value: c.LimitNormal, Unit: c.LimitUnit}).Validate(); err != nil {
		return apperr.New(apperr.Invalid, "category.bad_limit")
	}
	if c.LimitUrgent < 0 || c.LimitCritical < 0 {
		return apperr.New(apperr.Invalid, "category.bad_limit")
	}
	return nil
}

const categoryCols = `id, code, COALESCE(parent_id, 0), name, standard, limit_unit, limit_normal, limit_urgent, limit_critical, active,
	hint, staff_only, auto_accept, auto_dispatch, dup_radius_m`

func scanCategory(r store.Scanner) (Category, error) {
	var c Category
	var unit string
	err := r.Scan(&c.ID, &c.Code, &c.ParentID, &c.Name, &c.Standard, &unit, &c.LimitNormal, &c.LimitUrgent, &c.LimitCritical, &c.Active,
		&c.Hint, &c.StaffOnly, &c.AutoAccept, &c.AutoDispatch, &c.DupRadiusM)
	c.LimitUnit = workcal.Unit(unit)
	return c, err
}

// Categories lists all categories ordered by code (大类 before its 小类).
// They change rarely and are read on every public page, Open311 call and
// report, so they are cached like the calendar: reloaded after
// calendarTTL (a change on another replica), and at once after a save
// here. Callers get their own copy.
func (s *Service) Categories(ctx context.Context) ([]Category, error) {
	s.cats.mu.Lock()
	defer s.cats.mu.Unlock()
	if s.cats.list == nil || time.Since(s.cats.loaded) >= calendarTTL {
		list, err := s.loadCategories(ctx)
		if err != nil {
			return nil, err
		}
		s.cats.list, s.cats.loaded = list, time.Now()
	}
	return slices.Clone(s.cats.list), nil
}

// categoryCache is the cached category list (see Categories).
type categoryCache struct {
	mu     sync.Mutex
	list   []Category
	loaded time.Time
}

func (s *Service) invalidateCategories() {
	s.cats.mu.Lock()
	s.cats.list = nil
	s.cats.mu.Unlock()
}

func (s *Service) loadCategories(ctx context.Context) ([]Category, error) {
	out, err := store.Collect(ctx, s.DB.Reader(), scanCategory, `SELECT `+categoryCols+` FROM categories ORDER BY code`)
	if err != nil {
		return nil, fmt.Errorf("list categories: %w", err)
	}
	return out, nil
}

// Category returns one category.
func (s *Service) Category(ctx context.Context, q store.Queryer, id int64) (Category, error) {
	c, err := scanCategory(q.QueryRow(ctx, `SELECT `+categoryCols+` FROM categories WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, apperr.New(apperr.NotFound, "category.not_found")
	}
	return c, err
}

// SaveCategory creates (ID 0) or updates a category.
func (s *Service) SaveCategory(ctx context.Context, actor org.Actor, c Category) (Category, error) {
	if actor.Role != org.RoleAdmin {
		return c, apperr.New(apperr.Forbidden, "forbidden")
	}
	if err := c.validate(); err != nil {
		return c, err
	}
	defer s.invalidateCategories()
	err := s.DB.WithTx(ctx, func(tx *store.Tx) error {
		if c.ParentID != 0 {
			p, err := s.Category(ctx, tx, c.ParentID)
			if err != nil {
				return apperr.New(apperr.Invalid, "category.parent_missing")
			}
			if p.ParentID != 0 {
				return apperr.New(apperr.Invalid, "category.two_levels")
			}
		}
		var err error
		if c.ID == 0 {
			c.Active = true
			c.ID, err = store.InsertID(ctx, tx, `INSERT INTO categories (code, parent_id, name, standard, limit_unit, limit_normal, limit_urgent, limit_critical, active,
				hint, staff_only, auto_accept, auto_dispatch, dup_radius_m) VALUES (?, ?, ?, ?, ?, ?, ?, ?, TRUE, ?, ?, ?, ?, ?)`,
				c.Code, nullable(c.ParentID), c.Name, c.Standard, string(c.LimitUnit), c.LimitNormal, c.LimitUrgent, c.LimitCritical,
				c.Hint, c.StaffOnly, c.AutoAccept, c.AutoDispatch, c.DupRadiusM)
		} else {
			var res sql.Result
			res, err = tx.Exec(ctx, `UPDATE categories SET name = ?, standard = ?, limit_unit = ?, limit_normal = ?, limit_urgent = ?, limit_critical = ?, active = ?,
				hint = ?, staff_only = ?, auto_accept = ?, auto_dispatch = ?, dup_radius_m = ? WHERE id = ?`,
				c.Name, c.Standard, string(c.LimitUnit), c.LimitNormal, c.LimitUrgent, c.LimitCritical, c.Active,
				c.Hint, c.StaffOnly, c.AutoAccept, c.AutoDispatch, c.DupRadiusM, c.ID)
			if err == nil {
				if n, _ := res.RowsAffected(); n == 0 {
					return apperr.New(apperr.NotFound, "category.not_found")
				}
			}
		}
		if store.IsUniqueViolation(err) {
			return apperr.New(apperr.Conflict, "category.code_taken", "code", c.Code)
		}
		if err != nil {
			return err
		}
		return s.logAdmin(ctx, tx, actor, "category.save", c)
	})
	return c, err
}

func nullable(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// Responsibility is one row of the responsibility table: for a category
// in a region, the default lead unit and cooperating units.
type Responsibility struct {
	ID          int64   `json:"id"`
	CategoryID  int64   `json:"category_id"`
	RegionID    int64   `json:"region_id"`
	LeadUnitID  int64   `json:"lead_unit_id"`
	CoopUnitIDs []int64 `json:"coop_unit_ids"`
}

// Responsibilities returns the whole table.
func (s *Service) Responsibilities(ctx context.Context) ([]Responsibility, error) {
	q := s.DB.Reader()
	out, err := store.Collect(ctx, q, func(row store.Scanner) (r Responsibility, err error) {
		return r, row.Scan(&r.ID, &r.CategoryID, &r.RegionID, &r.LeadUnitID)
	}, `SELECT id, category_id, region_id, lead_unit_id FROM responsibilities ORDER BY category_id, region_id`)
	if err != nil {
		return nil, err
	}
	idx := map[int64]int{}
	for i, r := range out {
		idx[r.ID] = i
	}
	type coop struct{ rid, uid int64 }
	coops, err := store.Collect(ctx, q, func(row store.Scanner) (c coop, err error) { return c, row.Scan(&c.rid, &c.uid) },
		`SELECT responsibility_id, unit_id FROM responsibility_coops ORDER BY unit_id`)
	if err != nil {
		return nil, err
	}
	for _, c := range coops {
		if i, ok := idx[c.rid]; ok {
			out[i].CoopUnitIDs = append(out[i].CoopUnitIDs, c.uid)
		}
	}
	return out, nil
}

// SaveResponsibility sets the row for (category, region), replacing any.
func (s *Service) SaveResponsibility(ctx context.Context, actor org.Actor, r Responsibility) (Responsibility, error) {
	if actor.Role != org.RoleAdmin {
		return r, apperr.New(apperr.Forbidden, "forbidden")
	}
	if r.CategoryID == 0 || r.RegionID == 0 || r.LeadUnitID == 0 {
		return r, apperr.New(apperr.Invalid, "responsibility.required")
	}
	r.CoopUnitIDs = dedupe(r.CoopUnitIDs, r.LeadUnitID)
	err := s.DB.WithTx(ctx, func(tx *store.Tx) error {
		if err := mustExist(ctx, tx, "categories", r.CategoryID, "category.not_found"); err != nil {
			return err
		}
		if err := mustExist(ctx, tx, "regions", r.RegionID, "region.not_found"); err != nil {
			return err
		}
		for _, u := range append([]int64{r.LeadUnitID}, r.CoopUnitIDs...) {
			if err := mustExist(ctx, tx, "units", u, "unit.not_found"); err != nil {
				return err
			}
		}
		err := tx.QueryRow(ctx, `INSERT INTO responsibilities (category_id, region_id, lead_unit_id) VALUES (?, ?, ?)
			ON CONFLICT (category_id, region_id) DO UPDATE SET lead_unit_id = excluded.lead_unit_id RETURNING id`,
			r.CategoryID, r.RegionID, r.LeadUnitID).Scan(&r.ID)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM responsibility_coops WHERE responsibility_id = ?`, r.ID); err != nil {
			return err
		}
		for _, u := range r.CoopUnitIDs {
			if _, err := tx.Exec(ctx, `INSERT INTO responsibility_coops (responsibility_id, unit_id) VALUES (?, ?)`, r.ID, u); err != nil {
				return err
			}
		}
		return s.logAdmin(ctx, tx, actor, "responsibility.save", r)
	})
	return r, err
}

// DeleteResponsibility removes a row of the table.
func (s *Service) DeleteResponsibility(ctx context.Context, actor org.Actor, id int64) error {
	if actor.Role != org.RoleAdmin {
		return apperr.New(apperr.Forbidden, "forbidden")
	}
	return s.DB.WithTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM responsibility_coops WHERE responsibility_id = ?`, id); err != nil {
			return err
		}
		res, err := tx.Exec(ctx, `DELETE FROM responsibilities WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return apperr.New(apperr.NotFound, "responsibility.not_found")
		}
		return s.logAdmin(ctx, tx, actor, "responsibility.delete", map[string]any{"id": id})
	})
}

// DefaultDispatch finds the lead and cooperating units for a case of
// category cat in region regionID: the most specific row wins, walking up
// the region tree first, then from the 小类 to its 大类.
func (s *Service) DefaultDispatch(ctx context.Context, q store.Queryer, cat Category, regionID int64) (lead int64, coops []int64, err error) {
	m, err := s.matchResponsibility(ctx, q, cat, regionID)
	return m.Lead, m.Coops, err
}

// ruleMatch is the responsibility row that decides a dispatch.
type ruleMatch struct {
	ID         int64
	CategoryID int64
	RegionID   int64
	Lead       int64
	Coops      []int64
	// Whether the lead is active, and the active cooperating units, read
	// with the rule: routing on arrival passes over deactivated units.
	LeadActive  bool
	ActiveCoops []int64
}

func (s *Service) matchResponsibility(ctx context.Context, q store.Queryer, cat Category, regionID int64) (ruleMatch, error) {
	var regionIDs []int64
	if regionID != 0 {
		var path string
		if err := q.QueryRow(ctx, `SELECT path FROM regions WHERE id = ?`, regionID).Scan(&path); err != nil {
			return ruleMatch{}, err
		}
		for _, p := range strings.Split(strings.Trim(path, "/"), "/") {
			id, _ := strconv.ParseInt(p, 10, 64)
			regionIDs = append(regionIDs, id)
		}
		slices.Reverse(regionIDs) // deepest first
	}
	for _, catID := range []int64{cat.ID, cat.ParentID} {
		if catID == 0 {
			continue
		}
		for _, rid := range regionIDs {
			m := ruleMatch{CategoryID: catID, RegionID: rid}
			err := q.QueryRow(ctx, `SELECT r.id, r.lead_unit_id, u.active FROM responsibilities r JOIN units u ON u.id = r.lead_unit_id
				WHERE r.category_id = ? AND r.region_id = ?`, catID, rid).Scan(&m.ID, &m.Lead, &m.LeadActive)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return ruleMatch{}, err
			}
			rows, err := q.Query(ctx, `SELECT c.unit_id, u.active FROM responsibility_coops c JOIN units u ON u.id = c.unit_id
				WHERE c.responsibility_id = ? ORDER BY c.unit_id`, m.ID)
			if err != nil {
				return ruleMatch{}, err
			}
			for rows.Next() {
				var u int64
				var active bool
				if err := rows.Scan(&u, &active); err != nil {
					rows.Close()
					return ruleMatch{}, err
				}
				m.Coops = append(m.Coops, u)
				if active {
					m.ActiveCoops = append(m.ActiveCoops, u)
				}
			}
			rows.Close()
			return m, rows.Err()
		}
	}
	return ruleMatch{}, nil
}

func mustExist(ctx context.Context, q store.Queryer, table string, id int64, key string) error {
	ok, err := store.Exists(ctx, q, table, id)
	if err == nil && !ok {
		err = apperr.New(apperr.Invalid, key)
	}
	return err
}

func dedupe(ids []int64, except int64) []int64 {
	var out []int64
	for _, id := range ids {
		if id != 0 && id != except && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

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
		res, err := tx.Exec(ctx, `DELETE FROM holidays WHERE day = ?`, day)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return apperr.New(apperr.NotFound, "calendar.not_found")
		}
		return s.logAdmin(ctx, tx, actor, "calendar.delete", map[string]string{"day": day})
	})
}
