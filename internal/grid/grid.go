// Package grid keeps the city's unit grid cells (万米单元网格): their
// import and export as GeoJSON, the in-memory spatial index that places
// every reported point in its cell (hence community, street and district),
// and the grid workers' cell assignments.
package grid

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"chuangwen/internal/apperr"
	"chuangwen/internal/audit"
	"chuangwen/internal/geo"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
)

// Defaults for placing points that fall in no cell.
const (
	// DefaultFallbackM is how far the nearest cell may be for a point in
	// no cell to take that cell's locality (属地兜底).
	DefaultFallbackM = 200
	// DefaultOutsideM is how far beyond the cells' bounding box a point
	// may lie and still count as inside the city.
	DefaultOutsideM = 3000
	// MaxImportBytes bounds a GeoJSON import.
	MaxImportBytes = 64 << 20
)

// Store is the grid over one database. Locate reads an immutable snapshot,
// so lookups take no lock beyond an atomic-ish pointer read under RLock.
type Store struct {
	DB        *store.DB
	Log       *slog.Logger
	FallbackM float64
	OutsideM  float64
	Now       func() time.Time

	mu   sync.RWMutex
	snap *snapshot
}

// Cell is a stored grid cell.
type Cell struct {
	ID          int64            `json:"id"`
	Code        string           `json:"code"`
	Name        string           `json:"name"`
	Community   string           `json:"community"`
	Street      string           `json:"street"`
	District    string           `json:"district"`
	Owner       string           `json:"owner"`
	RegionID    int64            `json:"region_id,omitempty"`
	OwnerUnitID int64            `json:"owner_unit_id,omitempty"`
	Geometry    geo.MultiPolygon `json:"-"`
}

type snapshot struct {
	version   string // cell count and latest change when loaded
	ix        *geo.Index
	cells     []Cell
	boxes     []geo.Rect // each cell's bounding box
	districts []District
	bounds    geo.Rect
	empty     bool
}

// New returns a grid store with the default distances.
func New(db *store.DB, log *slog.Logger) *Store {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Store{DB: db, Log: log, FallbackM: DefaultFallbackM, OutsideM: DefaultOutsideM}
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// version identifies the cells' state: their count and latest change.
func (s *Store) version(ctx context.Context) (string, error) {
	var n, at int64
	err := s.DB.Reader().QueryRow(ctx, `SELECT COUNT(*), COALESCE(MAX(updated_at), 0) FROM grid_cells`).Scan(&n, &at)
	return fmt.Sprint(n, "/", at), err
}

// Reload rebuilds the index from the database.
func (s *Store) Reload(ctx context.Context) error {
	version, err := s.version(ctx)
	if err != nil {
		return err
	}
	cells, err := store.Collect(ctx, s.DB.Reader(), func(row store.Scanner) (c Cell, err error) {
		var g string
		if err := row.Scan(&c.ID, &c.Code, &c.Name, &c.Community, &c.Street, &c.District, &c.Owner, &c.RegionID, &c.OwnerUnitID, &g); err != nil {
			return c, err
		}
		if c.Geometry, err = decodeGeometry(g); err != nil {
			return c, fmt.Errorf("grid cell %s: %w", c.Code, err)
		}
		return c, nil
	}, `SELECT id, code, name, community, street, district, owner, COALESCE(region_id, 0), COALESCE(owner_unit_id, 0), geometry FROM grid_cells ORDER BY id`)
	if err != nil {
		return fmt.Errorf("load grid: %w", err)
	}
	s.install(cells, version)
	return nil
}

func (s *Store) install(cells []Cell, version string) {
	geoms := make([]geo.MultiPolygon, len(cells))
	snap := &snapshot{cells: cells, empty: len(cells) == 0, version: version, boxes: make([]geo.Rect, len(cells))}
	at := map[string]int{}
	for i, c := range cells {
		geoms[i] = c.Geometry
		b := c.Geometry.Bounds()
		snap.boxes[i] = b
		if i == 0 {
			snap.bounds = b
		} else {
			snap.bounds = union(snap.bounds, b)
		}
		if c.District == "" {
			continue
		}
		if j, ok := at[c.District]; ok {
			snap.districts[j].Bounds = union(snap.districts[j].Bounds, b)
		} else {
			at[c.District] = len(snap.districts)
			snap.districts = append(snap.districts, District{Name: c.District, Bounds: b})
		}
	}
	for i := range snap.districts {
		b := snap.districts[i].Bounds
		snap.districts[i].Center = geo.Point{Lon: (b.Min.Lon + b.Max.Lon) / 2, Lat: (b.Min.Lat + b.Max.Lat) / 2}
	}
	snap.ix = geo.NewIndex(geoms)
	s.mu.Lock()
	s.snap = snap
	s.mu.Unlock()
}

func union(a, b geo.Rect) geo.Rect {
	return geo.Rect{Min: geo.Point{Lon: math.Min(a.Min.Lon, b.Min.Lon), Lat: math.Min(a.Min.Lat, b.Min.Lat)},
		Max: geo.Point{Lon: math.Max(a.Max.Lon, b.Max.Lon), Lat: math.Max(a.Max.Lat, b.Max.Lat)}}
}

func (s *Store) current(ctx context.Context) (*snapshot, error) {
	s.mu.RLock()
	snap := s.snap
	s.mu.RUnlock()
	if snap != nil {
		return snap, nil
	}
	if err := s.Reload(ctx); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.snap, nil
}

// Bounds returns the bounding box of all cells, and false when the city
// has no grid yet.
func (s *Store) Bounds(ctx context.Context) (geo.Rect, bool, error) {
	snap, err := s.current(ctx)
	if err != nil {
		return geo.Rect{}, false, err
	}
	return snap.bounds, !snap.empty, nil
}

// Locate places a WGS-84 point: its cell; else the nearest cell's
// locality within FallbackM (属地兜底); else unlocated (for the acceptor)
// when it still lies near the city; else outside. With no grid loaded
// the point stays unplaced (empty flag).
func (s *Store) Locate(ctx context.Context, lat, lon float64) (geo.Location, error) {
	snap, err := s.current(ctx)
	if err != nil || snap.empty {
		return geo.Location{}, err
	}
	p := geo.Point{Lon: lon, Lat: lat}
	if i, ok := snap.ix.Locate(p); ok {
		return snap.location(i, geo.LocCell, 0), nil
	}
	if i, d, ok := snap.ix.Nearest(p, s.FallbackM); ok {
		return snap.location(i, geo.LocNearest, d), nil
	}
	if snap.near(p, s.OutsideM) {
		return geo.Location{Flag: geo.LocNone}, nil
	}
	return geo.Location{Flag: geo.LocOutside}, nil
}

func (snap *snapshot) location(i int, flag string, d float64) geo.Location {
	c := snap.cells[i]
	return geo.Location{Flag: flag, CellID: c.ID, CellCode: c.Code, CellName: c.Name, RegionID: c.RegionID, OwnerUnitID: c.OwnerUnitID, DistanceM: math.Round(d*10) / 10}
}

// near reports whether p lies within m metres of the cells' bounding box.
func (snap *snapshot) near(p geo.Point, m float64) bool {
	dLat := m / 111_320
	dLon := m / (111_320 * math.Max(0.01, math.Cos(p.Lat*math.Pi/180)))
	b := snap.bounds
	return p.Lat >= b.Min.Lat-dLat && p.Lat <= b.Max.Lat+dLat && p.Lon >= b.Min.Lon-dLon && p.Lon <= b.Max.Lon+dLon
}

// ImportReport says what an import did and what it found wrong.
type ImportReport struct {
	Created  int           `json:"created"`
	Updated  int           `json:"updated"`
	Problems []geo.Problem `json:"problems,omitempty"`
	Errors   int           `json:"errors"`
	Warnings int           `json:"warnings"`
}

// Import reads a GeoJSON FeatureCollection of cells and creates or
// updates them by grid code, all in one transaction. With dryRun nothing
// is written. A file with any error imports nothing: the report names
// every problem with its feature, so the operator fixes the file first.
func (s *Store) Import(ctx context.Context, actor org.Actor, r io.Reader, dryRun bool) (ImportReport, error) {
	var rep ImportReport
	if actor.Role != org.RoleAdmin && actor.Role != org.RoleSystem {
		return rep, apperr.New(apperr.Forbidden, "forbidden")
	}
	cells, problems, err := geo.ParseCells(r, MaxImportBytes)
	if err != nil {
		switch key := geo.ErrorKey(err); key {
		case "grid.file_too_large":
			return rep, apperr.New(apperr.TooLarge, key, "max_mb", fmt.Sprint(MaxImportBytes>>20))
		case "":
			return rep, apperr.New(apperr.Invalid, "grid.bad_file", "detail", err.Error())
		default:
			return rep, apperr.New(apperr.Invalid, key)
		}
	}
	rep.Problems = problems
	for _, p := range problems {
		if p.Severity == geo.SeverityError {
			rep.Errors++
		} else {
			rep.Warnings++
		}
	}
	if rep.Errors > 0 || dryRun {
		return rep, nil
	}
	regions, err := s.regionCodes(ctx)
	if err != nil {
		return rep, err
	}
	units, err := s.unitKeys(ctx)
	if err != nil {
		return rep, err
	}
	now := store.Ms(s.now())
	err = s.DB.WithTx(ctx, func(tx *store.Tx) error {
		for _, c := range cells {
			region := regions.resolve(c)
			owner := units[strings.TrimSpace(c.Owner)]
			b := c.Geometry.Bounds()
			g := encodeGeometry(c.Geometry)
			res, err := tx.Exec(ctx, `UPDATE grid_cells SET name = ?, community = ?, street = ?, district = ?, owner = ?, region_id = ?, owner_unit_id = ?,
				geometry = ?, min_lon = ?, min_lat = ?, max_lon = ?, max_lat = ?, updated_at = ? WHERE code = ?`,
				c.Name, c.Community, c.Street, c.District, c.Owner, nullable(region), nullable(owner), g, b.Min.Lon, b.Min.Lat, b.Max.Lon, b.Max.Lat, now, c.Code)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n > 0 {
				rep.Updated++
				continue
			}
			if _, err := tx.Exec(ctx, `INSERT INTO grid_cells (code, name, community, street, district, owner, region_id, owner_unit_id, geometry, min_lon, min_lat, max_lon, max_lat, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				c.Code, c.Name, c.Community, c.Street, c.District, c.Owner, nullable(region), nullable(owner), g, b.Min.Lon, b.Min.Lat, b.Max.Lon, b.Max.Lat, now); err != nil {
				return err
			}
			rep.Created++
		}
		_, err := audit.Append(ctx, tx, actor.Entry(s.now(), "grid.import", map[string]int{"created": rep.Created, "updated": rep.Updated, "warnings": rep.Warnings}))
		return err
	})
	if err != nil {
		return rep, err
	}
	// thousands of cells at once: the planner's statistics follow
	if err := s.DB.Optimize(ctx, "grid_cells"); err != nil {
		return rep, err
	}
	return rep, s.Reload(ctx)
}

// Export writes every cell as a GeoJSON FeatureCollection, in the format
// Import reads.
func (s *Store) Export(ctx context.Context, w io.Writer) error {
	snap, err := s.current(ctx)
	if err != nil {
		return err
	}
	out := make([]geo.Cell, len(snap.cells))
	for i, c := range snap.cells {
		out[i] = geo.Cell{Code: c.Code, Name: c.Name, Community: c.Community, Street: c.Street, District: c.District, Owner: c.Owner, Geometry: c.Geometry}
	}
	return geo.WriteCells(w, out)
}

// Cells returns the cells whose bounding boxes meet the given box, at
// most limit of them, and whether more were left out.
func (s *Store) Cells(ctx context.Context, box geo.Rect, limit int) ([]Cell, bool, error) {
	snap, err := s.current(ctx)
	if err != nil {
		return nil, false, err
	}
	var out []Cell
	for i, c := range snap.cells {
		if !snap.boxes[i].Intersects(box) {
			continue
		}
		if len(out) == limit {
			return out, true, nil
		}
		out = append(out, c)
	}
	return out, false, nil
}

// Cell returns one cell by id.
func (s *Store) Cell(ctx context.Context, id int64) (Cell, bool, error) {
	snap, err := s.current(ctx)
	if err != nil {
		return Cell{}, false, err
	}
	for _, c := range snap.cells {
		if c.ID == id {
			return c, true, nil
		}
	}
	return Cell{}, false, nil
}

// Count returns the number of cells.
func (s *Store) Count(ctx context.Context) (int, error) {
	snap, err := s.current(ctx)
	if err != nil {
		return 0, err
	}
	return len(snap.cells), nil
}

func nullable(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// regionIndex resolves a cell's region: by the grid code's prefix (a
// 15-digit code starts with the 12-digit community code, which starts
// with the street's 9 and the district's 6 digits), else by names.
type regionIndex struct {
	byCode map[string]int64
	byName map[string][]int64 // name → ids (names may repeat)
	path   map[int64]string
}

func (s *Store) regionCodes(ctx context.Context) (*regionIndex, error) {
	ix := &regionIndex{byCode: map[string]int64{}, byName: map[string][]int64{}, path: map[int64]string{}}
	err := store.Each(ctx, s.DB.Reader(), func(row store.Scanner) error {
		var id int64
		var code, name, path string
		if err := row.Scan(&id, &code, &name, &path); err != nil {
			return err
		}
		ix.byCode[code] = id
		ix.byName[name] = append(ix.byName[name], id)
		ix.path[id] = path
		return nil
	}, `SELECT id, code, name, path FROM regions`)
	return ix, err
}

func (ix *regionIndex) resolve(c geo.Cell) int64 {
	for _, n := range []int{12, 9, 6} {
		if len(c.Code) >= n {
			// Codes are kept either as they grow (6, 9, 12 digits) or
			// padded with zeros to 12 (330102001000 for a street).
			if id, ok := ix.byCode[c.Code[:n]]; ok {
				return id
			}
			if id, ok := ix.byCode[c.Code[:n]+strings.Repeat("0", 12-n)]; ok {
				return id
			}
		}
	}
	// By names, most specific first; a community name must sit under the
	// named street when one is given.
	for _, name := range []string{c.Community, c.Street, c.District} {
		ids := ix.byName[strings.TrimSpace(name)]
		if len(ids) == 1 {
			return ids[0]
		}
		for _, id := range ids {
			for _, parent := range ix.byName[strings.TrimSpace(c.Street)] {
				if strings.Contains(ix.path[id], fmt.Sprintf("/%d/", parent)) {
					return id
				}
			}
		}
	}
	return 0
}

func (s *Store) unitKeys(ctx context.Context) (map[string]int64, error) {
	out := map[string]int64{}
	err := store.Each(ctx, s.DB.Reader(), func(row store.Scanner) error {
		var id int64
		var code, name string
		err := row.Scan(&id, &code, &name)
		out[code], out[name] = id, id
		return err
	}, `SELECT id, code, name FROM units`)
	return out, err
}

// Assign sets the cells a grid worker (网格员) patrols.
func (s *Store) Assign(ctx context.Context, actor org.Actor, userID int64, cellIDs []int64) error {
	if actor.Role != org.RoleAdmin {
		return apperr.New(apperr.Forbidden, "forbidden")
	}
	return s.DB.WithTx(ctx, func(tx *store.Tx) error {
		var role string
		if err := tx.QueryRow(ctx, `SELECT role FROM users WHERE id = ?`, userID).Scan(&role); errors.Is(err, sql.ErrNoRows) {
			return apperr.New(apperr.NotFound, "user.not_found")
		} else if err != nil {
			return err
		}
		if role != string(org.RoleGrid) {
			return apperr.New(apperr.Invalid, "grid.assign_not_grid_worker")
		}
		if _, err := tx.Exec(ctx, `DELETE FROM grid_assignments WHERE user_id = ?`, userID); err != nil {
			return err
		}
		for _, id := range cellIDs {
			if ok, err := store.Exists(ctx, tx, "grid_cells", id); err != nil {
				return err
			} else if !ok {
				return apperr.New(apperr.Invalid, "grid.cell_not_found")
			}
			if _, err := tx.Exec(ctx, `INSERT INTO grid_assignments (cell_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, id, userID); err != nil {
				return err
			}
		}
		_, err := audit.Append(ctx, tx, actor.Entry(s.now(), "grid.assign", map[string]any{"user_id": userID, "cells": len(cellIDs)}))
		return err
	})
}

// CellIDsByCode resolves grid codes (blank ones skipped) to cell ids; an
// unknown code is an error naming it.
func (s *Store) CellIDsByCode(ctx context.Context, codes []string) ([]int64, error) {
	var ids []int64
	for _, code := range codes {
		code = strings.TrimSpace(code)
		if code == "" {
			continue
		}
		var id int64
		err := s.DB.Reader().QueryRow(ctx, `SELECT id FROM grid_cells WHERE code = ?`, code).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, apperr.New(apperr.Invalid, "grid.cell_code_unknown", "code", code)
		}
		if err != nil {
			return nil, fmt.Errorf("grid cell %q: %w", code, err)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// Assigned returns the ids of the cells a user patrols.
func (s *Store) Assigned(ctx context.Context, userID int64) ([]int64, error) {
	return store.Int64s(ctx, s.DB.Reader(), `SELECT cell_id FROM grid_assignments WHERE user_id = ? ORDER BY cell_id`, userID)
}

// District is a district's extent on the map, from its cells.
type District struct {
	Name   string
	Center geo.Point
	Bounds geo.Rect
}

// Districts returns each district named by the cells with the box of its
// cells, for labels on a zoomed-out map.
func (s *Store) Districts(ctx context.Context) ([]District, error) {
	snap, err := s.current(ctx)
	if err != nil {
		return nil, err
	}
	return slices.Clone(snap.districts), nil
}

// Watch reloads the cells every interval until ctx ends whenever the
// table differs from the loaded snapshot, so an import on another replica
// reaches this one's index.
func (s *Store) Watch(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		v, err := s.version(ctx)
		if err != nil {
			continue
		}
		s.mu.RLock()
		loaded := s.snap
		s.mu.RUnlock()
		if loaded == nil || loaded.version != v {
			if err := s.Reload(ctx); err != nil {
				s.Log.Error("grid reload", "err", err)
			}
		}
	}
}

// Place is a point estimated from address text: the interior of the grid
// cell whose name, community or street the text names.
type Place struct {
	Point geo.Point
	Name  string // the name found in the text
	Cell  string // the cell's code
}

// Place finds the most specific place the text names among the grid's
// cells: the longest name that occurs in it, a cell's own name before its
// community before its street; several cells of one community or street
// give the first by code. ok is false when the text names none (two
// characters at least count as a name).
func (s *Store) Place(ctx context.Context, text string) (p Place, ok bool, err error) {
	snap, err := s.current(ctx)
	if err != nil || text == "" {
		return Place{}, false, err
	}
	best, bestLen, bestRank := -1, 0, 0
	for i, c := range snap.cells {
		for rank, name := range []string{c.Street, c.Community, c.Name} {
			n := utf8.RuneCountInString(name)
			if n < 2 || !strings.Contains(text, name) {
				continue
			}
			better := n > bestLen || (n == bestLen && rank > bestRank) ||
				(n == bestLen && rank == bestRank && c.Code < snap.cells[best].Code)
			if best < 0 || better {
				best, bestLen, bestRank = i, n, rank
				p.Name = name
			}
		}
	}
	if best < 0 {
		return Place{}, false, nil
	}
	c := snap.cells[best]
	pt, inside := c.Geometry.InteriorPoint()
	if !inside {
		pt = c.Geometry.Centroid()
	}
	p.Point, p.Cell = pt, c.Code
	return p, true, nil
}
