package assess

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"

	"chuangwen/internal/apperr"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
)

// Rankings are one round's standings of districts, streets and units,
// each with its card and its change against the previous round.
type Rankings struct {
	Round     Round
	Previous  *Round // the previous closed mock round of the same edition code; nil when none
	Districts []Standing
	Streets   []Standing
	Units     []Standing
}

// scopeFigures are a scope's totals.
type scopeFigures struct {
	score, max, rate *big.Rat
	vetoed           bool
}

// roundFigures are what a ranking needs of a round: every region's totals
// and the units' losses in the city.
type roundFigures struct {
	scopes map[string]scopeFigures
	units  []UnitLoss
}

// figures reads a round's figures: a closed round's from its snapshot, any
// other's computed now.
func (s *Service) figures(ctx context.Context, q store.Queryer, rd Round, regions *regionIndex) (roundFigures, error) {
	f := roundFigures{scopes: map[string]scopeFigures{}}
	if rd.State == RoundClosed {
		snaps, err := loadSnapshots(ctx, q, rd.ID)
		if err != nil {
			return f, err
		}
		if len(snaps) > 0 {
			city, err := s.cityCode(ctx, q)
			if err != nil {
				return f, err
			}
			for _, sn := range snaps {
				// Rankings are of districts and streets: the other scopes'
				// documents are not read, and of those read only the totals.
				if g := regions.byCode[sn.Scope]; g == nil || g.Level != LevelDistrict && g.Level != LevelStreet {
					continue
				}
				var d struct {
					Score, Max JSONPoints
					Rate       JSONRate
					Vetoed     bool
				}
				if err := json.Unmarshal([]byte(sn.Scores), &d); err != nil {
					return f, fmt.Errorf("round %s: snapshot %s: %w", rd.Code, sn.Scope, err)
				}
				f.scopes[sn.Scope] = scopeFigures{d.Score.Rat, d.Max.Rat, d.Rate.Rat, d.Vetoed}
			}
			for _, sn := range snaps {
				if sn.Scope != city {
					continue
				}
				var l LedgerDoc
				if err := json.Unmarshal([]byte(sn.Ledger), &l); err != nil {
					return f, fmt.Errorf("round %s: snapshot %s: %w", rd.Code, sn.Scope, err)
				}
				for _, u := range l.Units {
					f.units = append(f.units, UnitLoss{Code: u.Code, Lost: u.Lost.Rat, Items: u.Items})
				}
			}
			return f, nil
		}
	}
	v, err := s.Open(ctx, org.System, rd.Code)
	if err != nil {
		return f, err
	}
	for _, code := range v.Scopes() {
		sc, err := v.l.scope(org.System, code)
		if err != nil {
			return f, err
		}
		x := v.p.r.score(sc)
		f.scopes[code] = scopeFigures{x.Score, x.Max, x.Rate, x.Vetoed}
	}
	lg, err := v.Ledger("")
	if err != nil {
		return f, err
	}
	f.units = lg.Units
	return f, nil
}

func (s *Service) cityCode(ctx context.Context, q store.Queryer) (string, error) {
	var code string
	err := q.QueryRow(ctx, `SELECT COALESCE(MIN(code), '') FROM regions WHERE level = ?`, string(LevelCity)).Scan(&code)
	return code, err
}

// previousRound is the closed mock round of the same edition code that
// comes last before rd (by inspection date, then creation).
func previousRound(ctx context.Context, q store.Queryer, rd Round) (*Round, error) {
	prev, err := store.Collect(ctx, q, scanRound, `SELECT `+roundCols+` FROM assess_rounds r JOIN assess_editions e ON e.id = r.edition_id
		WHERE e.code = ? AND r.kind = ? AND r.state = ? AND (r.inspection_date < ? OR r.inspection_date = ? AND r.id < ?)
		ORDER BY r.inspection_date DESC, r.id DESC LIMIT 1`, rd.Edition, KindMock, RoundClosed, rd.Date, rd.Date, rd.ID)
	if err != nil || len(prev) == 0 {
		return nil, err
	}
	return &prev[0], nil
}

// standings ranks one round's figures.
func standings(rd Round, f roundFigures, regions *regionIndex, sites []siteCount, cards Cards) Rankings {
	out := Rankings{Round: rd, Districts: []Standing{}, Streets: []Standing{}, Units: []Standing{}}
	regionSites, unitSites := map[string]int{}, map[string]int{}
	for _, s := range sites {
		p := regions.place(s.region)
		regionSites[p.District] += s.n
		if p.Street != "" {
			regionSites[p.Street] += s.n
		}
		if s.unit != "" {
			unitSites[s.unit] += s.n
		}
	}
	for code, x := range f.scopes {
		g := regions.byCode[code]
		if g == nil || g.Level != LevelDistrict && g.Level != LevelStreet {
			continue
		}
		st := Standing{Code: code, Score: x.score, Max: x.max, Rate: x.rate, Vetoed: x.vetoed, Sites: regionSites[code]}
		if x.max != nil && x.score != nil {
			st.Lost = new(big.Rat).Sub(x.max, x.score)
		}
		if g.Level == LevelDistrict {
			out.Districts = append(out.Districts, st)
		} else {
			out.Streets = append(out.Streets, st)
		}
	}
	seen := map[string]bool{}
	for _, u := range f.units {
		out.Units = append(out.Units, Standing{Code: u.Code, Lost: u.Lost, Items: u.Items, Sites: unitSites[u.Code]})
		seen[u.Code] = true
	}
	for code, n := range unitSites {
		if !seen[code] {
			out.Units = append(out.Units, Standing{Code: code, Lost: new(big.Rat), Sites: n})
		}
	}
	RankRegions(out.Districts, cards)
	RankRegions(out.Streets, cards)
	RankUnits(out.Units, cards)
	return out
}

// siteCount is a number of sampled sites in a region of one unit.
type siteCount struct {
	region int64
	unit   string
	n      int
}

func sampleCounts(ctx context.Context, q store.Queryer, roundID int64) ([]siteCount, error) {
	return store.Collect(ctx, q, func(r store.Scanner) (c siteCount, err error) {
		return c, r.Scan(&c.region, &c.unit, &c.n)
	}, `SELECT x.region_id, COALESCE(u.code, ''), COUNT(*) FROM assess_round_sites x LEFT JOIN units u ON u.id = x.unit_id
		WHERE x.round_id = ? GROUP BY x.region_id, u.code`, roundID)
}

// rankRound ranks one round without its previous.
func (s *Service) rankRound(ctx context.Context, q store.Queryer, rd Round, regions *regionIndex, cards Cards) (Rankings, error) {
	if !rd.Scored() {
		return Rankings{}, apperr.New(apperr.Invalid, "assess.not_scored", "round", rd.Code)
	}
	f, err := s.figures(ctx, q, rd, regions)
	if err != nil {
		return Rankings{}, err
	}
	sites, err := sampleCounts(ctx, q, rd.ID)
	if err != nil {
		return Rankings{}, err
	}
	return standings(rd, f, regions, sites, cards), nil
}

// Rankings ranks a round's districts, streets and units, with cards by
// the stored thresholds and the changes against the previous closed round
// of the same edition code. City-wide readers only.
func (s *Service) Rankings(ctx context.Context, actor org.Actor, code string) (Rankings, error) {
	if err := canRead(actor); err != nil {
		return Rankings{}, err
	}
	if actor.Scope != org.ScopeCity {
		return Rankings{}, apperr.New(apperr.Forbidden, "forbidden")
	}
	q := s.DB.Reader()
	rd, err := roundByCode(ctx, q, code)
	if err != nil {
		return Rankings{}, err
	}
	st, err := loadSettings(ctx, q)
	if err != nil {
		return Rankings{}, err
	}
	regions, err := loadRegions(ctx, q)
	if err != nil {
		return Rankings{}, err
	}
	out, err := s.rankRound(ctx, q, rd, regions, st.Cards())
	if err != nil {
		return Rankings{}, err
	}
	prev, err := previousRound(ctx, q, rd)
	if err != nil || prev == nil {
		return out, err
	}
	p, err := s.rankRound(ctx, q, *prev, regions, st.Cards())
	if err != nil {
		return Rankings{}, err
	}
	out.Previous = prev
	CompareStandings(out.Districts, p.Districts)
	CompareStandings(out.Streets, p.Streets)
	CompareStandings(out.Units, p.Units)
	return out, nil
}

// Trend ranks every scored round of an edition code in inspection order,
// each against the one before it: a year of rounds on one page. Closed
// rounds are read from their snapshots.
func (s *Service) Trend(ctx context.Context, actor org.Actor, edition string) ([]Rankings, error) {
	return s.trend(ctx, actor, edition, false)
}

// trend is Trend, of the closed rounds only when closedOnly (the ladder's
// streaks, which need no live computation of an open round).
func (s *Service) trend(ctx context.Context, actor org.Actor, edition string, closedOnly bool) ([]Rankings, error) {
	if err := canRead(actor); err != nil {
		return nil, err
	}
	if actor.Scope != org.ScopeCity {
		return nil, apperr.New(apperr.Forbidden, "forbidden")
	}
	q := s.DB.Reader()
	state := "%"
	if closedOnly {
		state = RoundClosed
	}
	rounds, err := store.Collect(ctx, q, scanRound, `SELECT `+roundCols+` FROM assess_rounds r JOIN assess_editions e ON e.id = r.edition_id
		WHERE e.code = ? AND r.kind = ? AND r.state LIKE ? ORDER BY r.inspection_date, r.id`, edition, KindMock, state)
	if err != nil {
		return nil, err
	}
	st, err := loadSettings(ctx, q)
	if err != nil {
		return nil, err
	}
	regions, err := loadRegions(ctx, q)
	if err != nil {
		return nil, err
	}
	out := make([]Rankings, 0, len(rounds))
	var last *Rankings
	for _, rd := range rounds {
		r, err := s.rankRound(ctx, q, rd, regions, st.Cards())
		if err != nil {
			return nil, err
		}
		if last != nil && last.Round.State == RoundClosed {
			prev := last.Round
			r.Previous = &prev
			CompareStandings(r.Districts, last.Districts)
			CompareStandings(r.Streets, last.Streets)
			CompareStandings(r.Units, last.Units)
		}
		out = append(out, r)
		if rd.State == RoundClosed {
			last = &out[len(out)-1]
		}
	}
	return out, nil
}
