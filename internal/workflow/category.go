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

// The longest time limits a category may set: a working year.
const (
	MaxLimitHours = 2000
	MaxLimitDays  = 250
)

func (c *Category) validate() error {
	c.Code = strings.TrimSpace(c.Code)
	c.Name = strings.TrimSpace(c.Name)
	if c.Code == "" || c.Name == "" {
		return apperr.New(apperr.Invalid, "category.required")
	}
	if err := org.CheckName(c.Name); err != nil {
		return err
	}
	if c.DupRadiusM == 0 {
		c.DupRadiusM = DefaultDupRadiusM
	}
	if c.DupRadiusM < 0 || c.DupRadiusM > 5000 {
		return apperr.New(apperr.Invalid, "category.bad_dup_radius")
	}
	c.Hint = strings.TrimSpace(c.Hint)
	// A time limit is at most a working year (250 days, 2,000 hours): a
	// longer one is a typo, and would keep the city's cases off every
	// overdue list (and overflow the database's column).
	most, unit := MaxLimitHours, "limit.hours"
	if c.LimitUnit == workcal.Days {
		most, unit = MaxLimitDays, "limit.days"
	}
	if max(c.LimitNormal, c.LimitUrgent, c.LimitCritical) > most {
		return apperr.New(apperr.Invalid, "category.limit_too_long", "max", strconv.Itoa(most), "unit", unit)
	}
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
	err := r.Scan(categoryDest(&c, &unit)...)
	c.LimitUnit = workcal.Unit(unit)
	return c, err
}

// categoryDest is where categoryCols (or caseCategoryCols) scan to; the
// caller sets LimitUnit from unit.
func categoryDest(c *Category, unit *string) []any {
	return []any{&c.ID, &c.Code, &c.ParentID, &c.Name, &c.Standard, unit, &c.LimitNormal, &c.LimitUrgent, &c.LimitCritical, &c.Active,
		&c.Hint, &c.StaffOnly, &c.AutoAccept, &c.AutoDispatch, &c.DupRadiusM}
}

// caseCategoryCols are categoryCols read through a case's join (caseFrom's
// cat), for the action's locked read: a category that is gone reads as ID 0.
const caseCategoryCols = `COALESCE(cat.id, 0), COALESCE(cat.code, ''), COALESCE(cat.parent_id, 0), COALESCE(cat.name, ''), COALESCE(cat.standard, ''),
	COALESCE(cat.limit_unit, ''), COALESCE(cat.limit_normal, 0), COALESCE(cat.limit_urgent, 0), COALESCE(cat.limit_critical, 0), COALESCE(cat.active, FALSE),
	COALESCE(cat.hint, ''), COALESCE(cat.staff_only, FALSE), COALESCE(cat.auto_accept, FALSE), COALESCE(cat.auto_dispatch, FALSE), COALESCE(cat.dup_radius_m, 0)`

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
			if err != nil && !apperr.Is(err, apperr.NotFound) {
				return err
			}
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
