package assess

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"chuangwen/internal/apperr"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
)

// RoundScores is a stored round's scores for one scope, with the totals
// of the districts inside it (all of the city's for the city, the
// district itself for a district, none below).
type RoundScores struct {
	Round     string
	Scores    Scores
	Districts []Scores
}

// Doc returns the document of `chuangwen assess scores --json`.
func (rs RoundScores) Doc() ScoresDoc { return rs.Scores.Doc(rs.Round, rs.Districts) }

// loaded is a stored round as the pure functions take it.
type loaded struct {
	round   Round
	ed      Edition
	obs     []Observation
	values  []Value
	regions *regionIndex
}

// scope resolves a region code to a scope the actor may read: "" is the
// city (its code, when a city region exists, is the document's scope).
func (l *loaded) scope(actor org.Actor, code string) (Scope, error) {
	code = strings.TrimSpace(code)
	if code == "" {
		if actor.Scope != org.ScopeCity {
			return Scope{}, apperr.New(apperr.Forbidden, "forbidden")
		}
		sc := Scope{Level: LevelCity}
		if c := l.regions.city(); c != nil {
			sc.Code = c.Code
		}
		return sc, nil
	}
	g := l.regions.byCode[code]
	if g == nil {
		return Scope{}, apperr.New(apperr.NotFound, "assess.no_region", "code", code)
	}
	if !actor.SeesRegionPath(g.Path) {
		return Scope{}, apperr.New(apperr.Forbidden, "forbidden")
	}
	return Scope{Level: g.Level, Code: g.Code}, nil
}

// load reads a round's edition, observations (each placed by its site's
// region when drawn, with the site's unit then) and values.
func (s *Service) load(ctx context.Context, actor org.Actor, roundCode string) (*loaded, error) {
	if err := canRead(actor); err != nil {
		return nil, err
	}
	q := s.DB.Reader()
	rd, err := roundByCode(ctx, q, roundCode)
	if err != nil {
		return nil, err
	}
	l := &loaded{round: rd}
	if l.ed, err = loadEdition(ctx, q, EditionInfo{ID: rd.EditionID, Code: rd.Edition, Version: rd.EditionVersion}); err != nil {
		return nil, err
	}
	if l.regions, err = loadRegions(ctx, q); err != nil {
		return nil, err
	}
	units, err := store.Collect(ctx, q, func(r store.Scanner) (x struct {
		id   int64
		code string
	}, err error) {
		return x, r.Scan(&x.id, &x.code)
	}, `SELECT id, code FROM units`)
	if err != nil {
		return nil, err
	}
	unitCode := make(map[int64]string, len(units))
	for _, u := range units {
		unitCode[u.id] = u.code
	}
	// Codes repeat over many rows: keep one string per code.
	intern := map[string]string{}
	rows, err := q.Query(ctx, `SELECT o.id, o.site_id, o.standard, o.result, o.problems, x.region_id, COALESCE(x.unit_id, 0)
		FROM assess_observations o JOIN assess_round_sites x ON x.round_id = o.round_id AND x.site_id = o.site_id
		WHERE o.round_id = ?`, rd.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var std, res []byte
	for rows.Next() {
		var o Observation
		var regionID, unitID int64
		if err := rows.Scan(&o.ID, &o.SiteID, &std, &res, &o.Problems, &regionID, &unitID); err != nil {
			return nil, fmt.Errorf("load observations: %w", err)
		}
		code, ok := intern[string(std)]
		if !ok {
			code = string(std)
			intern[code] = code
		}
		o.Standard, o.Result = code, Outcome(internOutcome(res))
		o.Place, o.Unit = l.regions.place(regionID), unitCode[unitID]
		l.obs = append(l.obs, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load observations: %w", err)
	}
	slices.SortFunc(l.obs, func(a, b Observation) int { return cmp.Compare(a.ID, b.ID) })
	vals, err := store.Collect(ctx, q, func(r store.Scanner) (v struct {
		region, standard, value string
	}, err error) {
		return v, r.Scan(&v.region, &v.standard, &v.value)
	}, `SELECT COALESCE(g.code, ''), v.standard, v.value FROM assess_results v LEFT JOIN regions g ON g.id = v.region_id WHERE v.round_id = ? ORDER BY v.id`, rd.ID)
	if err != nil {
		return nil, err
	}
	for _, v := range vals {
		x, ok := ParseDecimal(v.value)
		if !ok {
			return nil, fmt.Errorf("assess: round %s: stored value %q of %s is not a decimal", rd.Code, v.value, v.standard)
		}
		l.values = append(l.values, Value{Region: v.region, Standard: v.standard, Value: x})
	}
	return l, nil
}

func internOutcome(b []byte) string {
	switch string(b) {
	case "pass":
		return "pass"
	case "fail":
		return "fail"
	case "na":
		return "na"
	}
	return string(b)
}

// Scores computes a stored round's scores for the city (regionCode "")
// or a region (a district, street or community code), exactly, with the
// totals of the districts inside the scope. A region-scoped reader sees
// its own region and those under it.
func (s *Service) Scores(ctx context.Context, actor org.Actor, roundCode, regionCode string) (RoundScores, error) {
	l, err := s.load(ctx, actor, roundCode)
	if err != nil {
		return RoundScores{}, err
	}
	sc, err := l.scope(actor, regionCode)
	if err != nil {
		return RoundScores{}, err
	}
	p, err := prepare(l.ed, l.obs, l.values)
	if err != nil {
		return RoundScores{}, err
	}
	out := RoundScores{Round: l.round.Code, Scores: p.score(sc)}
	var districts []string
	switch sc.Level {
	case LevelCity:
		districts = l.regions.districts()
	case LevelDistrict:
		districts = []string{sc.Code}
	}
	out.Districts = make([]Scores, 0, len(districts))
	for _, d := range districts {
		out.Districts = append(out.Districts, p.score(DistrictScope(d)))
	}
	return out, nil
}

// Ledger computes a stored round's point-loss ledger for the city
// (regionCode "") or a region, with the service's Split.
func (s *Service) Ledger(ctx context.Context, actor org.Actor, roundCode, regionCode string) (Ledger, error) {
	l, err := s.load(ctx, actor, roundCode)
	if err != nil {
		return Ledger{}, err
	}
	sc, err := l.scope(actor, regionCode)
	if err != nil {
		return Ledger{}, err
	}
	return Attribute(l.ed, l.obs, l.values, sc, s.Split)
}
