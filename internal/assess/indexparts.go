package assess

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"sort"

	"chuangwen/internal/org"
	"chuangwen/internal/store"
)

// indexScope names the snapshot row in which a closed round keeps each
// district's index parts, exact (rationals as "a/b"), so that a bulletin
// reads a few hundred bytes per round instead of scoring its
// observations again. It cannot be a region code.
const indexScope = "#index"

type storedComponent struct {
	Score  string `json:"score"`
	Max    string `json:"max"`
	Leaves int    `json:"leaves"`
}

type storedParts struct {
	Field     storedComponent `json:"field"`
	Survey    storedComponent `json:"survey"`
	Documents storedComponent `json:"documents"`
}

func storeComponent(c Component) storedComponent {
	return storedComponent{Score: c.Score.RatString(), Max: c.Max.RatString(), Leaves: c.Leaves}
}

func (c storedComponent) component() (Component, error) {
	score, ok1 := new(big.Rat).SetString(c.Score)
	max, ok2 := new(big.Rat).SetString(c.Max)
	if !ok1 || !ok2 {
		return Component{}, fmt.Errorf("assess: stored index part %q/%q is not a number", c.Score, c.Max)
	}
	return Component{Score: score, Max: max, Leaves: c.Leaves}, nil
}

// indexSnapshot is the index parts of every district of an opened round,
// as the snapshot row indexScope stores them (districts in code order).
func (v *RoundView) indexSnapshot() (snapshot, error) {
	parts, err := v.indexParts()
	if err != nil {
		return snapshot{}, err
	}
	codes := make([]string, 0, len(parts))
	for d := range parts {
		codes = append(codes, d)
	}
	sort.Strings(codes)
	doc := make(map[string]storedParts, len(parts))
	for _, d := range codes {
		p := parts[d]
		doc[d] = storedParts{Field: storeComponent(p.Field), Survey: storeComponent(p.Survey), Documents: storeComponent(p.Documents)}
	}
	b, err := json.Marshal(doc) // map keys are written sorted
	if err != nil {
		return snapshot{}, err
	}
	return snapshot{Scope: indexScope, Scores: string(b)}, nil
}

// indexParts scores each district of an opened round for the index.
func (v *RoundView) indexParts() (map[string]IndexParts, error) {
	city, err := v.Scores("")
	if err != nil {
		return nil, err
	}
	out := make(map[string]IndexParts, len(city.Districts))
	for _, d := range city.Districts {
		p, err := PartsOf(d)
		if err != nil {
			return nil, err
		}
		out[d.Scope.Code] = p
	}
	return out, nil
}

// RoundIndexParts returns each district's parts of the civilization
// index in a round: a closed round's as stored when it closed, any other
// round's (or one closed before the parts were stored) scored now.
func (s *Service) RoundIndexParts(ctx context.Context, actor org.Actor, code string) (map[string]IndexParts, error) {
	q, rd, err := s.readRound(ctx, actor, code)
	if err != nil {
		return nil, err
	}
	if rd.State == RoundClosed {
		rows, err := store.Collect(ctx, q, func(r store.Scanner) (doc string, err error) {
			return doc, r.Scan(&doc)
		}, `SELECT scores FROM assess_snapshots WHERE round_id = ? AND scope = ?`, rd.ID, indexScope)
		if err != nil {
			return nil, err
		}
		if len(rows) == 1 {
			var doc map[string]storedParts
			if err := json.Unmarshal([]byte(rows[0]), &doc); err != nil {
				return nil, fmt.Errorf("round %s: index parts: %w", rd.Code, err)
			}
			out := make(map[string]IndexParts, len(doc))
			for d, sp := range doc {
				var p IndexParts
				for _, x := range []struct {
					to   *Component
					from storedComponent
				}{{&p.Field, sp.Field}, {&p.Survey, sp.Survey}, {&p.Documents, sp.Documents}} {
					if *x.to, err = x.from.component(); err != nil {
						return nil, fmt.Errorf("round %s: district %s: %w", rd.Code, d, err)
					}
				}
				out[d] = p
			}
			return out, nil
		}
	}
	return s.ScoreIndexParts(ctx, actor, code)
}

// ScoreIndexParts scores each district's parts of the index from the
// round's stored observations and values, whatever its state (a check
// that must see an input changed behind the program's back).
func (s *Service) ScoreIndexParts(ctx context.Context, actor org.Actor, code string) (map[string]IndexParts, error) {
	v, err := s.Open(ctx, actor, code)
	if err != nil {
		return nil, err
	}
	return v.indexParts()
}

// Totals are a round's city score, maximum and rate.
type Totals struct {
	Score, Max, Rate *big.Rat
}

// RoundTotals returns a round's city totals: a closed round's as its
// snapshot of the city prints them (points to 2 decimals, the rate to
// 4), any other round's scored now.
func (s *Service) RoundTotals(ctx context.Context, actor org.Actor, code string) (Totals, error) {
	q, rd, err := s.readRound(ctx, actor, code)
	if err != nil {
		return Totals{}, err
	}
	if rd.State == RoundClosed {
		city, err := s.cityCode(ctx, q)
		if err != nil {
			return Totals{}, err
		}
		docs, err := store.Collect(ctx, q, func(r store.Scanner) (doc string, err error) {
			return doc, r.Scan(&doc)
		}, `SELECT scores FROM assess_snapshots WHERE round_id = ? AND scope = ?`, rd.ID, city)
		if err != nil {
			return Totals{}, err
		}
		if len(docs) == 1 {
			var d struct {
				Score, Max JSONPoints
				Rate       JSONRate
			}
			if err := json.Unmarshal([]byte(docs[0]), &d); err != nil {
				return Totals{}, fmt.Errorf("round %s: city snapshot: %w", rd.Code, err)
			}
			return Totals{d.Score.Rat, d.Max.Rat, d.Rate.Rat}, nil
		}
	}
	sc, err := s.Scores(ctx, actor, code, "")
	if err != nil {
		return Totals{}, err
	}
	return Totals{sc.Scores.Score, sc.Scores.Max, sc.Scores.Rate}, nil
}
