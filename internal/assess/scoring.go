package assess

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sort"
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
	q, rd, err := s.readRound(ctx, actor, roundCode)
	if err != nil {
		return nil, err
	}
	l := &loaded{round: rd}
	if l.ed, err = s.loadEdition(ctx, q, EditionInfo{ID: rd.EditionID, Code: rd.Edition, Version: rd.EditionVersion}); err != nil {
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
	// Where each sampled site lay and who answered for it when drawn.
	type drawn struct {
		place Place
		unit  string
	}
	sites := map[int64]drawn{}
	sample, err := store.Collect(ctx, q, func(r store.Scanner) (x struct{ site, region, unit int64 }, err error) {
		return x, r.Scan(&x.site, &x.region, &x.unit)
	}, `SELECT site_id, region_id, COALESCE(unit_id, 0) FROM assess_round_sites WHERE round_id = ?`, rd.ID)
	if err != nil {
		return nil, err
	}
	for _, x := range sample {
		sites[x.site] = drawn{l.regions.place(x.region), unitCode[x.unit]}
	}
	// At most one observation of each observed item per site: room for
	// that many, or for a million.
	observed := len(l.ed.Negative)
	for _, st := range l.ed.Standards() {
		if st.Rule.Observed() {
			observed++
		}
	}
	l.obs = make([]Observation, 0, min(len(sample)*observed, 1<<20))
	// Codes repeat over many rows: keep one string per code.
	intern := map[string]string{}
	rows, err := q.Query(ctx, `SELECT id, site_id, standard, result, problems FROM assess_observations WHERE round_id = ?`, rd.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var std, res string
	for rows.Next() {
		var o Observation
		if err := rows.Scan(&o.ID, &o.SiteID, &std, &res, &o.Problems); err != nil {
			return nil, fmt.Errorf("load observations: %w", err)
		}
		code, ok := intern[std]
		if !ok {
			code = std
			intern[code] = code
		}
		d := sites[o.SiteID]
		o.Standard, o.Result, o.Place, o.Unit = code, Outcome(internOutcome(res)), d.place, d.unit
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

// internOutcome returns the constant for a stored result, so that the
// scanned string can be dropped.
func internOutcome(b string) string {
	switch b {
	case "pass":
		return "pass"
	case "fail":
		return "fail"
	case "na":
		return "na"
	}
	return b
}

// RoundView is a stored round loaded and checked once, for the scores
// and ledgers of any number of scopes (a page of every district and
// street, a ranking), with the reader's scope checks.
type RoundView struct {
	Round Round
	actor org.Actor
	l     *loaded
	p     *Prepared
	split Split
}

// Open loads a stored round for its scores and ledgers.
func (s *Service) Open(ctx context.Context, actor org.Actor, roundCode string) (*RoundView, error) {
	l, err := s.load(ctx, actor, roundCode)
	if err != nil {
		return nil, err
	}
	p, err := Prepare(l.ed, l.obs, l.values)
	if err != nil {
		return nil, fmt.Errorf("round %s: %w", l.round.Code, err)
	}
	split := s.Split
	if split.Site == nil && split.Lead == nil {
		if split, err = s.roundSplit(ctx, l.round); err != nil {
			return nil, err
		}
	}
	return &RoundView{Round: l.round, actor: actor, l: l, p: p, split: split}, nil
}

// Scopes lists the codes of the regions (districts, streets and
// communities) where the round has observations, sorted.
func (v *RoundView) Scopes() []string {
	seen := map[string]bool{}
	for _, o := range v.l.obs {
		for _, c := range []string{o.Place.District, o.Place.Street, o.Place.Community} {
			if c != "" {
				seen[c] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for c := range seen {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// Scores computes the round's scores for the city (regionCode "") or a
// region (a district, street or community code), exactly, with the totals
// of the districts inside the scope. A region-scoped reader sees its own
// region and those under it.
func (v *RoundView) Scores(regionCode string) (RoundScores, error) {
	sc, err := v.l.scope(v.actor, regionCode)
	if err != nil {
		return RoundScores{}, err
	}
	out := RoundScores{Round: v.Round.Code, Scores: v.p.r.score(sc)}
	var districts []string
	switch sc.Level {
	case LevelCity:
		districts = v.l.regions.districts()
	case LevelDistrict:
		districts = []string{sc.Code}
	}
	out.Districts = make([]Scores, 0, len(districts))
	for _, d := range districts {
		out.Districts = append(out.Districts, v.p.r.score(DistrictScope(d)))
	}
	return out, nil
}

// Ledger computes the round's point-loss ledger for the city (regionCode
// "") or a region, with the service's Split.
func (v *RoundView) Ledger(regionCode string) (Ledger, error) {
	sc, err := v.l.scope(v.actor, regionCode)
	if err != nil {
		return Ledger{}, err
	}
	return v.p.Attribute(sc, v.split)
}

// Scores computes a stored round's scores for one scope (see
// RoundView.Scores).
func (s *Service) Scores(ctx context.Context, actor org.Actor, roundCode, regionCode string) (RoundScores, error) {
	v, err := s.Open(ctx, actor, roundCode)
	if err != nil {
		return RoundScores{}, err
	}
	return v.Scores(regionCode)
}

// Ledger computes a stored round's point-loss ledger for one scope (see
// RoundView.Ledger).
func (s *Service) Ledger(ctx context.Context, actor org.Actor, roundCode, regionCode string) (Ledger, error) {
	v, err := s.Open(ctx, actor, roundCode)
	if err != nil {
		return Ledger{}, err
	}
	return v.Ledger(regionCode)
}

// roundSplit is the ledger's split for a round: the one a closed round
// was closed with, else the stored settings'.
func (s *Service) roundSplit(ctx context.Context, rd Round) (Split, error) {
	var text string
	if err := s.DB.Reader().QueryRow(ctx, `SELECT split FROM assess_rounds WHERE id = ?`, rd.ID).Scan(&text); err != nil {
		return Split{}, err
	}
	if site, lead, ok := strings.Cut(text, ":"); ok {
		a, ok1 := ParseDecimal(site)
		b, ok2 := ParseDecimal(lead)
		if ok1 && ok2 {
			return Split{Site: a, Lead: b}, nil
		}
	}
	st, err := loadSettings(ctx, s.DB.Reader())
	if err != nil {
		return Split{}, err
	}
	return st.Split(), nil
}
