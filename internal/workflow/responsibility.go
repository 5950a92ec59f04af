package workflow

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strconv"
	"strings"

	"chuangwen/internal/apperr"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
)

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
		if err := tx.Change(ctx, apperr.New(apperr.NotFound, "responsibility.not_found"), `DELETE FROM responsibilities WHERE id = ?`, id); err != nil {
			return err
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
