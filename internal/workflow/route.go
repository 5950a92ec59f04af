package workflow

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"

	"chuangwen/internal/geo"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
)

// Locator places WGS-84 points in the grid; the grid package provides it.
type Locator interface {
	Locate(ctx context.Context, lat, lon float64) (geo.Location, error)
}

// Routing records why a case went where it went, for the dispatcher.
type Routing struct {
	Location      geo.Location `json:"location"`
	RuleID        int64        `json:"rule_id,omitempty"`          // responsibility row used
	RuleCategory  int64        `json:"rule_category_id,omitempty"` // its category (小类 or 大类)
	RuleRegion    int64        `json:"rule_region_id,omitempty"`   // its region
	OwnerFallback bool         `json:"owner_fallback,omitempty"`   // no rule: the cell's owner unit leads (属地兜底)
	LeadUnitID    int64        `json:"lead_unit_id,omitempty"`
	CoopUnitIDs   []int64      `json:"coop_unit_ids,omitempty"`
	AutoAccept    string       `json:"auto_accept,omitempty"` // "source" or "category" when accepted on arrival
	AutoDispatch  bool         `json:"auto_dispatch,omitempty"`
	NoRule        bool         `json:"no_rule,omitempty"` // auto-dispatch wanted but nothing matched
}

// route finds the units for a case of cat in regionID placed at loc: the
// responsibility table first, else the grid cell's owner unit.
func (s *Service) route(ctx context.Context, q store.Queryer, cat Category, regionID int64, loc geo.Location) (Routing, error) {
	r := Routing{Location: loc}
	m, err := s.matchResponsibility(ctx, q, cat, regionID)
	if err != nil {
		return r, err
	}
	// A deactivated unit leads nothing: the rule is passed over for the
	// cell's owner, and inactive cooperating units are left out.
	switch {
	case m.Lead != 0 && m.LeadActive:
		r.RuleID, r.RuleCategory, r.RuleRegion, r.LeadUnitID, r.CoopUnitIDs = m.ID, m.CategoryID, m.RegionID, m.Lead, m.ActiveCoops
	case loc.OwnerUnitID != 0:
		var active bool
		err := q.QueryRow(ctx, `SELECT active FROM units WHERE id = ?`, loc.OwnerUnitID).Scan(&active)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return r, err
		}
		if active {
			r.OwnerFallback, r.LeadUnitID = true, loc.OwnerUnitID
		}
	}
	return r, nil
}

func (r Routing) encode() string {
	b, _ := json.Marshal(r)
	return string(b)
}

// text is the stored form of a case's routing ("" when it has none).
func (r *Routing) text() string {
	if r == nil {
		return ""
	}
	return r.encode()
}

// NearbyCase is an open case close to a point: a likely duplicate.
type NearbyCase struct {
	ID          int64   `json:"id"`
	No          string  `json:"no"`
	CategoryID  int64   `json:"category_id"`
	Description string  `json:"description"`
	State       State   `json:"state"`
	Lat         float64 `json:"lat"`
	Lon         float64 `json:"lon"`
	DistanceM   float64 `json:"distance_m"`
	ReportedAt  int64   `json:"-"`
}

// metresPerDegLat is the length of one degree of latitude.
const metresPerDegLat = 111_320.0

// distanceM is the great-circle distance in metres between two WGS-84 points.
func distanceM(lat1, lon1, lat2, lon2 float64) float64 {
	const r = 6_371_008.8
	p1, p2 := lat1*math.Pi/180, lat2*math.Pi/180
	dp, dl := p2-p1, (lon2-lon1)*math.Pi/180
	a := math.Sin(dp/2)*math.Sin(dp/2) + math.Cos(p1)*math.Cos(p2)*math.Sin(dl/2)*math.Sin(dl/2)
	return 2 * r * math.Asin(math.Min(1, math.Sqrt(a)))
}

// Nearby lists the open cases of a category within radiusM metres of a
// WGS-84 point, nearest first. It reads only public-safe columns.
func (s *Service) Nearby(ctx context.Context, q store.Queryer, categoryID int64, lat, lon float64, radiusM float64, limit int) ([]NearbyCase, error) {
	if q == nil {
		q = s.DB.Reader()
	}
	if radiusM <= 0 {
		radiusM = DefaultDupRadiusM
	}
	dLat := radiusM / metresPerDegLat
	dLon := radiusM / (metresPerDegLat * math.Max(0.01, math.Cos(lat*math.Pi/180)))
	// The partial index cases_dup holds open cases by (category, lat).
	rows, err := q.Query(ctx, `SELECT id, no, category_id, description, state, lat, lon, reported_at FROM cases
		WHERE category_id = ? AND lat BETWEEN ? AND ? AND lon BETWEEN ? AND ?
		AND state IN ('reported','accepted','dispatched','in_progress','postponed','verifying')`,
		categoryID, lat-dLat, lat+dLat, lon-dLon, lon+dLon)
	if err != nil {
		return nil, fmt.Errorf("nearby cases: %w", err)
	}
	defer rows.Close()
	var out []NearbyCase
	for rows.Next() {
		var n NearbyCase
		var state string
		if err := rows.Scan(&n.ID, &n.No, &n.CategoryID, &n.Description, &state, &n.Lat, &n.Lon, &n.ReportedAt); err != nil {
			return nil, err
		}
		n.State = State(state)
		n.DistanceM = distanceM(lat, lon, n.Lat, n.Lon)
		if n.DistanceM <= radiusM {
			out = append(out, n)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].DistanceM != out[j].DistanceM {
			return out[i].DistanceM < out[j].DistanceM
		}
		return out[i].ID < out[j].ID
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// Duplicates suggests open cases that the case id may duplicate: same
// category, within the category's radius, reported earlier, visible to
// actor. The acceptor merges with one action.
func (s *Service) Duplicates(ctx context.Context, actor org.Actor, id int64) ([]NearbyCase, error) {
	q := s.DB.Reader()
	c, err := s.load(ctx, q, actor, id)
	if err != nil {
		return nil, err
	}
	if c.Lat == nil || !c.State.Open() {
		return nil, nil
	}
	cat, err := s.Category(ctx, q, c.CategoryID)
	if err != nil {
		return nil, err
	}
	near, err := s.Nearby(ctx, q, c.CategoryID, *c.Lat, *c.Lon, float64(cat.DupRadiusM), 20)
	if err != nil {
		return nil, err
	}
	out := near[:0]
	for _, n := range near {
		if n.ID == c.ID || n.ID > c.ID {
			continue // only earlier cases: the later one is the duplicate
		}
		if _, err := s.load(ctx, q, actor, n.ID); err != nil {
			continue // outside actor's scope
		}
		out = append(out, n)
	}
	return out, nil
}

// MapCase is an open case as a marker on the public map.
type MapCase struct {
	No         string  `json:"no"`
	CategoryID int64   `json:"-"`
	Category   string  `json:"category"`
	State      State   `json:"-"`
	StateText  string  `json:"state_text"`
	Lat        float64 `json:"lat"`
	Lon        float64 `json:"lon"`
}

// OpenInBox lists open cases located in a WGS-84 box, newest first, at
// most limit of them (public-safe columns only).
func (s *Service) OpenInBox(ctx context.Context, minLat, minLon, maxLat, maxLon float64, limit int) ([]MapCase, error) {
	out, err := store.Collect(ctx, s.DB.Reader(), func(row store.Scanner) (m MapCase, err error) {
		var st string
		err = row.Scan(&m.No, &m.CategoryID, &m.Category, &st, &m.Lat, &m.Lon)
		m.State = State(st)
		return m, err
	}, `SELECT c.no, c.category_id, COALESCE(cat.name, ''), c.state, c.lat, c.lon FROM cases c
		JOIN categories cat ON cat.id = c.category_id
		WHERE c.lat BETWEEN ? AND ? AND c.lon BETWEEN ? AND ? AND cat.staff_only = FALSE
		AND c.state IN ('reported','accepted','dispatched','in_progress','postponed','verifying')
		ORDER BY c.id DESC LIMIT ?`, minLat, maxLat, minLon, maxLon, limit)
	if err != nil {
		return nil, fmt.Errorf("cases in box: %w", err)
	}
	return out, nil
}

// SuggestDispatch is what the dispatch form offers for c now: the units
// the responsibility table names for its current category and region,
// else the owner of the grid cell it was placed in, with the reason in
// the Routing's rule fields. A zero LeadUnitID: nothing to suggest.
func (s *Service) SuggestDispatch(ctx context.Context, c *Case) (Routing, error) {
	q := s.DB.Reader()
	cat, err := s.Category(ctx, q, c.CategoryID)
	if err != nil {
		return Routing{}, err
	}
	var loc geo.Location
	if c.Routing != nil {
		loc = c.Routing.Location
	}
	return s.route(ctx, q, cat, c.RegionID, loc)
}
