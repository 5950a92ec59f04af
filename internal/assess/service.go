package assess

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"chuangwen/internal/apperr"
	"chuangwen/internal/audit"
	"chuangwen/internal/blob"
	"chuangwen/internal/geo"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
	"chuangwen/internal/workflow"
)

// Service stores editions, sites, rounds, observations and values, and
// computes the stored rounds' scores and ledgers with the pure functions
// of this package.
//
// Every import checks the whole file first and stores nothing when it has
// a problem; a clean file is stored in one transaction with one trail
// entry. Imports and round creation need the administrator (or the
// system); reads need an office role (administrator, acceptor, leader).
type Service struct {
	DB       *store.DB
	Now      func() time.Time // nil: the wall clock
	Location *time.Location   // the city's zone, for inspection dates; nil: UTC
	// Locator places sites given by a point instead of a region code (the
	// grid store); nil refuses such sites.
	Locator Locator
	// Split, when set, overrides the stored settings' split of an
	// observation's loss between the site's unit and the lead unit.
	Split Split
	// Cases files the cases that failed observations raise; nil raises
	// none (the observations wait for RaiseCases).
	Cases *workflow.Service
	// Blobs keeps the evidence units upload for document standards (the
	// photos' store; keys under evidence/).
	Blobs blob.Store

	editions editionCache
}

// Locator places WGS-84 points in the city's grid (grid.Store does).
type Locator interface {
	Locate(ctx context.Context, lat, lon float64) (geo.Location, error)
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Service) loc() *time.Location {
	if s.Location != nil {
		return s.Location
	}
	return time.UTC
}

// Format is the form of an imported or exported file.
type Format string

const (
	FormatYAML Format = "yaml"
	FormatXLSX Format = "xlsx"
	FormatCSV  Format = "csv"
)

// FormatOf tells a file's format from its name's extension (.yaml or
// .yml, .xlsx, .csv), "" when it is none of them.
func FormatOf(name string) Format {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yaml", ".yml":
		return FormatYAML
	case ".xlsx":
		return FormatXLSX
	case ".csv":
		return FormatCSV
	}
	return ""
}

func badFormat(f Format, want ...Format) error {
	names := make([]string, len(want))
	for i, w := range want {
		names[i] = string(w)
	}
	return apperr.New(apperr.Invalid, "assess.bad_format", "format", string(f), "want", strings.Join(names, ", "))
}

// canWrite: imports and round creation are the office administrator's.
func canWrite(a org.Actor) error {
	if a.Role == org.RoleAdmin || a.Role == org.RoleSystem {
		return nil
	}
	return apperr.New(apperr.Forbidden, "forbidden")
}

// canRead: the office's roles read trees, samples, scores and ledgers.
func canRead(a org.Actor) error {
	switch a.Role {
	case org.RoleAdmin, org.RoleAcceptor, org.RoleLeader, org.RoleSystem:
		return nil
	}
	return apperr.New(apperr.Forbidden, "forbidden")
}

// problemsError is the error an import returns with its problems, so that
// a caller that looks only at the error still sees that nothing was
// stored.
func problemsError(ps []Problem) error {
	n := len(ps)
	if n > 0 && ps[n-1].Key == "assess.more_problems" {
		extra, _ := strconv.Atoi(ps[n-1].Arg("count"))
		n += extra - 1
	}
	return apperr.New(apperr.Invalid, "assess.import_problems", "count", strconv.Itoa(n))
}

// trail appends one trail entry for an administrative write.
func (s *Service) trail(ctx context.Context, tx *store.Tx, actor org.Actor, action string, data any) error {
	_, err := audit.Append(ctx, tx, actor.Entry(s.now(), action, data))
	return err
}

// region is a row of the regions table.
type region struct {
	ID       int64
	Code     string
	Name     string
	Level    Level
	ParentID int64
	Path     string
}

// regionIndex holds every region, for placing sites and scopes.
type regionIndex struct {
	byID   map[int64]*region
	byCode map[string]*region
	places map[int64]Place
}

func loadRegions(ctx context.Context, q store.Queryer) (*regionIndex, error) {
	rows, err := store.Collect(ctx, q, func(r store.Scanner) (*region, error) {
		g := &region{}
		var level string
		err := r.Scan(&g.ID, &g.Code, &g.Name, &level, &g.ParentID, &g.Path)
		g.Level = Level(level)
		return g, err
	}, `SELECT id, code, name, level, COALESCE(parent_id, 0), path FROM regions`)
	if err != nil {
		return nil, fmt.Errorf("load regions: %w", err)
	}
	ix := &regionIndex{byID: map[int64]*region{}, byCode: map[string]*region{}, places: map[int64]Place{}}
	for _, g := range rows {
		ix.byID[g.ID] = g
		ix.byCode[g.Code] = g
	}
	return ix, nil
}

// place returns the district, street and community of a region from its
// ancestry (the region itself included).
func (ix *regionIndex) place(id int64) Place {
	if p, ok := ix.places[id]; ok {
		return p
	}
	var p Place
	for g, n := ix.byID[id], 0; g != nil && n < 16; g, n = ix.byID[g.ParentID], n+1 {
		switch g.Level {
		case LevelDistrict:
			p.District = g.Code
		case LevelStreet:
			p.Street = g.Code
		case LevelCommunity:
			p.Community = g.Code
		}
	}
	ix.places[id] = p
	return p
}

// city returns the root region, nil when there is none.
func (ix *regionIndex) city() *region {
	for _, g := range ix.byID {
		if g.Level == LevelCity {
			return g
		}
	}
	return nil
}

// districts returns the district codes, sorted.
func (ix *regionIndex) districts() []string {
	var out []string
	for _, g := range ix.byID {
		if g.Level == LevelDistrict {
			out = append(out, g.Code)
		}
	}
	sort.Strings(out)
	return out
}

// codeMap runs a query of (code, id) rows into a map.
func codeMap(ctx context.Context, q store.Queryer, query string, args ...any) (map[string]int64, error) {
	type pair struct {
		code string
		id   int64
	}
	rows, err := store.Collect(ctx, q, func(r store.Scanner) (p pair, err error) {
		return p, r.Scan(&p.code, &p.id)
	}, query, args...)
	if err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(rows))
	for _, p := range rows {
		out[p.code] = p.id
	}
	return out, nil
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// sqlID writes an id as an SQL literal (NULL for 0), for the constant
// columns of a bulk insert.
func sqlID(id int64) string {
	if id == 0 {
		return "NULL"
	}
	return strconv.FormatInt(id, 10)
}

// sortBy sorts xs by a text key, in byte order.
func sortBy[T any](xs []T, key func(T) string) {
	sort.SliceStable(xs, func(i, j int) bool { return key(xs[i]) < key(xs[j]) })
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
