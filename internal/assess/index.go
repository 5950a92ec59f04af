package assess

import (
	"fmt"
	"math/big"
	"sort"
	"time"
)

// Weights are the weights of the civilization index's components. The
// published bulletin keeps the weights it was computed with.
type Weights struct {
	Field     *big.Rat // pass_rate and deduct leaves (field and call)
	Survey    *big.Rat // survey leaves
	Documents *big.Rat // graded leaves
	// Volunteers weighs the volunteer component IndexWith is given (nil
	// or 0: none, the index of ASSESSMENT's formula).
	Volunteers *big.Rat
}

// DefaultWeights is one city's published formula: field 60, survey 40,
// documents 0.
func DefaultWeights() Weights {
	return Weights{Field: big.NewRat(60, 1), Survey: big.NewRat(40, 1), Documents: new(big.Rat)}
}

// Component is one component of a district's index: the sums over the
// assessed leaves of its kind in every round of the quarter.
type Component struct {
	Score  *big.Rat
	Max    *big.Rat
	Leaves int // assessed leaves counted (a leaf counts once per round)
}

// Rate returns Score ÷ Max, nil when nothing was assessed.
func (c Component) Rate() *big.Rat {
	if c.Max == nil {
		return nil
	}
	return rate(c.Score, c.Max)
}

// DistrictIndex is one district's civilization index (市域文明指数) for a
// quarter.
type DistrictIndex struct {
	District  string
	Rounds    int
	Field     Component
	Survey    Component
	Documents Component
	// Volunteers is the volunteer component's rate, when IndexWith was
	// given one for the district and its weight is above 0.
	Volunteers *big.Rat
	// Index is 100 × Σ wᵢ·rateᵢ ÷ Σ wᵢ over the components with an
	// assessed leaf (or the volunteer component) and a weight above 0;
	// nil when there is none.
	Index *big.Rat
	// Rank is 1 for the highest index; districts whose indexes print the
	// same (to 2 decimals) share a rank and the next rank skips (1, 1, 3).
	// 0 when Index is nil.
	Rank int
}

// Quarter returns the year and quarter (1–4) of a date, read in the
// date's own location: the rounds of a quarter are those whose inspection
// date falls in it.
func Quarter(date time.Time) (year, quarter int) {
	return date.Year(), (int(date.Month())-1)/3 + 1
}

// IndexParts are what one district contributes to the index in one
// round: the sums of its assessed leaves by component.
type IndexParts struct {
	Field     Component `json:"field"`
	Survey    Component `json:"survey"`
	Documents Component `json:"documents"`
}

// PartsOf sums a district's scores in a round by component; a leaf's
// kind is read from its rule.
func PartsOf(s Scores) (IndexParts, error) {
	p := IndexParts{Field: zeroComponent(), Survey: zeroComponent(), Documents: zeroComponent()}
	for _, l := range s.Leaves() {
		if !l.Assessed {
			continue
		}
		var c *Component
		switch l.Rule {
		case RulePassRate, RuleDeduct:
			c = &p.Field
		case RuleSurvey:
			c = &p.Survey
		case RuleGraded:
			c = &p.Documents
		default:
			return p, fmt.Errorf("assess: district %s: leaf %s has rule %q", s.Scope.Code, l.Code, l.Rule)
		}
		c.Score.Add(c.Score, l.Score)
		c.Max.Add(c.Max, l.Max)
		c.Leaves++
	}
	return p, nil
}

func zeroComponent() Component { return Component{Score: new(big.Rat), Max: new(big.Rat)} }

// Index computes the civilization index of each district from the scores
// of the quarter's rounds (for each district, its scores in each round,
// as from Score with the district's scope). Rounds may use different
// editions: a leaf's kind is read from its rule. The result is ranked:
// highest index first, equal indexes by district code, districts with no
// index last.
func Index(rounds map[string][]Scores, w Weights) ([]DistrictIndex, error) {
	parts := make(map[string][]IndexParts, len(rounds))
	for d, list := range rounds {
		parts[d] = []IndexParts{}
		for _, s := range list {
			p, err := PartsOf(s)
			if err != nil {
				return nil, err
			}
			parts[d] = append(parts[d], p)
		}
	}
	return IndexOf(parts, w)
}

// IndexOf is Index from each district's parts in each round (as PartsOf
// gives them, or as a closed round stored them: RoundIndexParts).
func IndexOf(rounds map[string][]IndexParts, w Weights) ([]DistrictIndex, error) {
	return IndexWith(rounds, w, nil)
}

// IndexWith is IndexOf with a further component per district: the
// volunteer component (registered volunteers' share of the residents
// against the city's target, at most 1), weighed by w.Volunteers. A
// district of rounds without a volunteer rate has no such component.
func IndexWith(rounds map[string][]IndexParts, w Weights, volunteers map[string]*big.Rat) ([]DistrictIndex, error) {
	for _, x := range []*big.Rat{w.Field, w.Survey, w.Documents} {
		if x == nil || x.Sign() < 0 {
			return nil, fmt.Errorf("assess: index weights must be given and ≥ 0")
		}
	}
	if w.Volunteers != nil && w.Volunteers.Sign() < 0 {
		return nil, fmt.Errorf("assess: index weights must be ≥ 0")
	}
	out := make([]DistrictIndex, 0, len(rounds))
	for d, list := range rounds {
		di := DistrictIndex{District: d, Rounds: len(list), Field: zeroComponent(), Survey: zeroComponent(), Documents: zeroComponent()}
		for _, p := range list {
			for _, x := range []struct{ to, from *Component }{{&di.Field, &p.Field}, {&di.Survey, &p.Survey}, {&di.Documents, &p.Documents}} {
				x.to.Score.Add(x.to.Score, x.from.Score)
				x.to.Max.Add(x.to.Max, x.from.Max)
				x.to.Leaves += x.from.Leaves
			}
		}
		sum, weights := new(big.Rat), new(big.Rat)
		for _, p := range []struct {
			c Component
			w *big.Rat
		}{{di.Field, w.Field}, {di.Survey, w.Survey}, {di.Documents, w.Documents}} {
			r := p.c.Rate()
			if r == nil || p.w.Sign() == 0 {
				continue
			}
			sum.Add(sum, new(big.Rat).Mul(p.w, r))
			weights.Add(weights, p.w)
		}
		if v := volunteers[d]; v != nil && w.Volunteers != nil && w.Volunteers.Sign() > 0 {
			di.Volunteers = v
			sum.Add(sum, new(big.Rat).Mul(w.Volunteers, v))
			weights.Add(weights, w.Volunteers)
		}
		if weights.Sign() > 0 {
			di.Index = sum.Quo(sum, weights)
			di.Index.Mul(di.Index, big.NewRat(100, 1))
		}
		out = append(out, di)
	}
	rankIndexes(out)
	return out, nil
}

// rankIndexes sorts and ranks; ties are judged on the printed value, so
// that two districts shown with the same index never get different ranks.
func rankIndexes(out []DistrictIndex) {
	printed := func(d DistrictIndex) *big.Rat {
		r, _ := new(big.Rat).SetString(RoundString(d.Index, PointPlaces))
		return r
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if (a.Index == nil) != (b.Index == nil) {
			return a.Index != nil
		}
		if a.Index != nil {
			if c := printed(a).Cmp(printed(b)); c != 0 {
				return c > 0
			}
		}
		return a.District < b.District
	})
	for i := range out {
		switch {
		case out[i].Index == nil:
			out[i].Rank = 0
		case i > 0 && out[i-1].Index != nil && printed(out[i-1]).Cmp(printed(out[i])) == 0:
			out[i].Rank = out[i-1].Rank
		default:
			out[i].Rank = i + 1
		}
	}
}
