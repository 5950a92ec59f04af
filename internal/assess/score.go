package assess

import (
	"fmt"
	"math"
	"math/big"
	"sort"
)

// Outcome is what an inspector recorded for one standard at one site.
type Outcome string

const (
	Pass          Outcome = "pass"
	Fail          Outcome = "fail"
	NotApplicable Outcome = "na" // the standard could not be checked there: counts nowhere
)

// Valid reports whether o is pass, fail or na.
func (o Outcome) Valid() bool { return o == Pass || o == Fail || o == NotApplicable }

// Place is where a site lies: the codes of its district, street and
// community, "" for a level not known (a site located only to a street has
// no community).
type Place struct {
	District, Street, Community string
}

// Observation is one row of a round's observations: one standard (or
// negative-list item) checked at one site.
type Observation struct {
	ID       int64 // the row's id, carried into the ledger
	SiteID   int64
	Place    Place  // where the site lies
	Unit     string // the site's responsible unit (包保单位), "" when none
	Standard string // code of a field or call standard, or of a negative-list item
	Result   Outcome
	Problems int // problems found, ≥ 0
}

// Value is one row of a round's results for a survey or graded standard:
// a rate in [0, 1] (survey) or points in [0, the standard's points]
// (graded), for a district or, with Region "", for the whole city.
type Value struct {
	Region   string // a district code, or "" for the city
	Standard string
	Value    *big.Rat
}

// Level is the level of a region, as in the regions table.
type Level string

const (
	LevelCity      Level = "city"
	LevelDistrict  Level = "district"
	LevelStreet    Level = "street"
	LevelCommunity Level = "community"
)

// Scope is what a score is computed for: the city, or one region. Code is
// the region's code; for the city it is only carried into the output.
type Scope struct {
	Level Level
	Code  string
}

// CityScope returns the scope of the whole city with the city's code.
func CityScope(code string) Scope { return Scope{Level: LevelCity, Code: code} }

// DistrictScope returns the scope of one district.
func DistrictScope(code string) Scope { return Scope{Level: LevelDistrict, Code: code} }

// Contains reports whether a site at p lies inside the scope.
func (s Scope) Contains(p Place) bool {
	switch s.Level {
	case LevelCity:
		return true
	case LevelDistrict:
		return p.District == s.Code
	case LevelStreet:
		return p.Street == s.Code
	case LevelCommunity:
		return p.Community == s.Code
	}
	return false
}

func (s Scope) valid() bool {
	switch s.Level {
	case LevelCity:
		return true
	case LevelDistrict, LevelStreet, LevelCommunity:
		return s.Code != ""
	}
	return false
}

// Scores is the score of one scope in one round: the edition's tree with
// the score of every node. Every *big.Rat is a new value owned by the
// caller. Rate is nil wherever Max is 0.
type Scores struct {
	Scope    Scope
	Score    *big.Rat
	Max      *big.Rat
	Rate     *big.Rat
	Vetoed   bool
	Vetoes   []string // codes of the negative-list items failed in the scope, in edition order
	Projects []ProjectScore
}

// ProjectScore is a project's score: the sums over its assessed leaves.
type ProjectScore struct {
	Code, Name       string
	Score, Max, Rate *big.Rat
	Contents         []ContentScore
}

// ContentScore is a content's score: the sums over its assessed leaves.
type ContentScore struct {
	Code, Name       string
	Score, Max, Rate *big.Rat
	Standards        []StandardScore
}

// StandardScore is a leaf's score in the scope. A leaf not assessed has
// score 0 and max 0.
type StandardScore struct {
	Code, Name string
	Method     Method
	Rule       Rule
	Points     *big.Rat // the leaf's points, whether assessed or not
	Assessed   bool
	Score      *big.Rat
	Max        *big.Rat
	// pass_rate and deduct: the observations behind the score.
	Applicable int // results pass or fail
	Passes     int
	Problems   int // deduct: Σ problems, a fail with 0 counting 1, a pass 0
	// survey and graded: the value used (for the city possibly the mean
	// of the districts' values), nil when there is none.
	Value *big.Rat
}

// Standard returns the score of the leaf with the given code.
func (s *Scores) Standard(code string) (StandardScore, bool) {
	for _, p := range s.Projects {
		for _, c := range p.Contents {
			for _, l := range c.Standards {
				if l.Code == code {
					return l, true
				}
			}
		}
	}
	return StandardScore{}, false
}

// Leaves returns every leaf's score in tree order.
func (s *Scores) Leaves() []StandardScore {
	var out []StandardScore
	for _, p := range s.Projects {
		for _, c := range p.Contents {
			out = append(out, c.Standards...)
		}
	}
	return out
}

// Lost returns Max − Score (a new value).
func (s *Scores) Lost() *big.Rat { return new(big.Rat).Sub(s.Max, s.Score) }

// round is the checked input of one round. Observations stay in the
// caller's slice; the indexes hold their positions, so that the
// observations of a standard in any scope are found without scanning.
type round struct {
	ed        Edition
	leaves    map[string]Standard
	negative  map[string]bool
	obs       []Observation
	all       map[string][]int32     // code → observations of that standard or negative item, input order
	scoped    map[scopeCode][]int32  // (region, code) → its observations at sites in the region
	values    map[[2]string]*big.Rat // (region, standard) → value
	districts map[string][]*big.Rat  // standard → district values, in input order
}

// scopeCode is a standard's (or negative item's) code in one region.
type scopeCode struct {
	level  Level
	region string
	code   string
}

// prepare checks the inputs against the edition. Scoring bad input would
// give a wrong number quietly, so every inconsistency is an error.
func prepare(ed Edition, obs []Observation, values []Value) (*round, error) {
	r := &round{
		ed:        ed,
		leaves:    map[string]Standard{},
		negative:  map[string]bool{},
		obs:       obs,
		all:       map[string][]int32{},
		scoped:    map[scopeCode][]int32{},
		values:    map[[2]string]*big.Rat{},
		districts: map[string][]*big.Rat{},
	}
	for _, s := range ed.Standards() {
		if _, dup := r.leaves[s.Code]; dup {
			return nil, fmt.Errorf("assess: edition %s: code %s used twice", ed.Code, s.Code)
		}
		if s.Points == nil || s.Points.Sign() < 0 || !s.Rule.Fits(s.Method) ||
			s.Rule == RuleDeduct && (s.PerProblem == nil || s.PerProblem.Sign() < 0) {
			return nil, fmt.Errorf("assess: edition %s: standard %s is incomplete", ed.Code, s.Code)
		}
		r.leaves[s.Code] = s
	}
	for _, n := range ed.Negative {
		if _, dup := r.leaves[n.Code]; dup || r.negative[n.Code] {
			return nil, fmt.Errorf("assess: edition %s: code %s used twice", ed.Code, n.Code)
		}
		r.negative[n.Code] = true
	}
	if len(obs) > math.MaxInt32 {
		return nil, fmt.Errorf("assess: %d observations is too many", len(obs))
	}
	for i, o := range obs {
		if !o.Result.Valid() {
			return nil, fmt.Errorf("assess: observation %d: result %q is not pass, fail or na", o.ID, o.Result)
		}
		if o.Problems < 0 {
			return nil, fmt.Errorf("assess: observation %d: %d problems", o.ID, o.Problems)
		}
		if !r.negative[o.Standard] {
			s, ok := r.leaves[o.Standard]
			if !ok {
				return nil, fmt.Errorf("assess: observation %d: no standard %q in edition %s", o.ID, o.Standard, ed.Code)
			}
			if !s.Rule.Observed() {
				return nil, fmt.Errorf("assess: observation %d: standard %s (%s) takes values, not observations", o.ID, s.Code, s.Rule)
			}
		}
		r.all[o.Standard] = append(r.all[o.Standard], int32(i))
		for _, k := range [...]scopeCode{{LevelDistrict, o.Place.District, o.Standard}, {LevelStreet, o.Place.Street, o.Standard}, {LevelCommunity, o.Place.Community, o.Standard}} {
			if k.region != "" {
				r.scoped[k] = append(r.scoped[k], int32(i))
			}
		}
	}
	for _, v := range values {
		s, ok := r.leaves[v.Standard]
		if !ok {
			return nil, fmt.Errorf("assess: value for %q: no such standard in edition %s", v.Standard, ed.Code)
		}
		if s.Rule.Observed() {
			return nil, fmt.Errorf("assess: value for %s: a %s standard takes observations, not values", s.Code, s.Rule)
		}
		upper := big.NewRat(1, 1)
		if s.Rule == RuleGraded {
			upper = s.Points
		}
		if v.Value == nil || v.Value.Sign() < 0 || v.Value.Cmp(upper) > 0 {
			return nil, fmt.Errorf("assess: value for %s in %q: %v is outside [0, %s]", s.Code, v.Region, v.Value, upper.RatString())
		}
		k := [2]string{v.Region, v.Standard}
		if _, dup := r.values[k]; dup {
			return nil, fmt.Errorf("assess: value for %s in %q given twice", s.Code, v.Region)
		}
		r.values[k] = v.Value
		if v.Region != "" {
			r.districts[v.Standard] = append(r.districts[v.Standard], v.Value)
		}
	}
	return r, nil
}

// value returns the value of a survey or graded leaf for the scope: the
// district's own; for the city its own, else the plain mean of the
// districts' values; nil for streets and communities, or when none.
func (r *round) value(scope Scope, code string) *big.Rat {
	switch scope.Level {
	case LevelDistrict:
		return r.values[[2]string{scope.Code, code}]
	case LevelCity:
		if v, ok := r.values[[2]string{"", code}]; ok {
			return v
		}
		ds := r.districts[code]
		if len(ds) == 0 {
			return nil
		}
		sum := new(big.Rat)
		for _, v := range ds {
			sum.Add(sum, v)
		}
		return sum.Quo(sum, big.NewRat(int64(len(ds)), 1))
	}
	return nil
}

// inScope returns the positions of the observations of a standard (or
// negative item) at sites in the scope.
func (r *round) inScope(scope Scope, code string) []int32 {
	if scope.Level == LevelCity {
		return r.all[code]
	}
	return r.scoped[scopeCode{scope.Level, scope.Code, code}]
}

// counted is the number of problems an observation counts on a deduct
// leaf: a pass 0, a fail its problems but at least 1, na nothing.
func counted(o Observation) int {
	if o.Result != Fail {
		return 0
	}
	return max(o.Problems, 1)
}

// leaf scores one standard in the scope.
func (r *round) leaf(scope Scope, s Standard) StandardScore {
	ls := StandardScore{
		Code: s.Code, Name: s.Name, Method: s.Method, Rule: s.Rule,
		Points: new(big.Rat).Set(s.Points), Score: new(big.Rat), Max: new(big.Rat),
	}
	switch s.Rule {
	case RulePassRate, RuleDeduct:
		for _, i := range r.inScope(scope, s.Code) {
			o := &r.obs[i]
			if o.Result == NotApplicable {
				continue
			}
			ls.Applicable++
			if o.Result == Pass {
				ls.Passes++
			}
			ls.Problems += counted(*o)
		}
		if ls.Applicable == 0 {
			return ls
		}
		if s.Rule == RulePassRate {
			ls.Score.Mul(s.Points, big.NewRat(int64(ls.Passes), int64(ls.Applicable)))
		} else {
			ls.Score.Mul(s.PerProblem, big.NewRat(int64(ls.Problems), 1))
			ls.Score.Sub(s.Points, ls.Score)
			if ls.Score.Sign() < 0 {
				ls.Score.SetInt64(0)
			}
		}
	case RuleSurvey, RuleGraded:
		v := r.value(scope, s.Code)
		if v == nil {
			return ls
		}
		ls.Value = new(big.Rat).Set(v)
		if s.Rule == RuleSurvey {
			ls.Score.Mul(s.Points, v)
		} else {
			ls.Score.Set(v)
		}
	}
	ls.Assessed = true
	ls.Max.Set(s.Points)
	return ls
}

// rate returns score ÷ max, nil when max is 0.
func rate(score, max *big.Rat) *big.Rat {
	if max.Sign() == 0 {
		return nil
	}
	return new(big.Rat).Quo(score, max)
}

// Score computes the scores of one round for one scope, exactly, by the
// rules of docs/assessment.md: every leaf by its rule over the
// observations at sites inside the scope (or the value for the scope);
// contents, projects and the total as sums over assessed leaves; the veto
// when any negative-list item failed at a site inside the scope.
//
// It fails on input that does not fit the edition: an observation of an
// unknown standard or of a survey or graded one, a result other than pass,
// fail or na, negative problems, a value for an unknown or observed
// standard, out of range, or given twice for one region.
func Score(ed Edition, obs []Observation, values []Value, scope Scope) (Scores, error) {
	if !scope.valid() {
		return Scores{}, fmt.Errorf("assess: scope %q %q is not a city or a region", scope.Level, scope.Code)
	}
	r, err := prepare(ed, obs, values)
	if err != nil {
		return Scores{}, err
	}
	return r.score(scope), nil
}

func (r *round) score(scope Scope) Scores {
	out := Scores{Scope: scope, Score: new(big.Rat), Max: new(big.Rat)}
	for _, p := range r.ed.Projects {
		ps := ProjectScore{Code: p.Code, Name: p.Name, Score: new(big.Rat), Max: new(big.Rat)}
		for _, c := range p.Contents {
			cs := ContentScore{Code: c.Code, Name: c.Name, Score: new(big.Rat), Max: new(big.Rat)}
			for _, s := range c.Standards {
				ls := r.leaf(scope, s)
				cs.Score.Add(cs.Score, ls.Score)
				cs.Max.Add(cs.Max, ls.Max)
				cs.Standards = append(cs.Standards, ls)
			}
			cs.Rate = rate(cs.Score, cs.Max)
			ps.Score.Add(ps.Score, cs.Score)
			ps.Max.Add(ps.Max, cs.Max)
			ps.Contents = append(ps.Contents, cs)
		}
		ps.Rate = rate(ps.Score, ps.Max)
		out.Score.Add(out.Score, ps.Score)
		out.Max.Add(out.Max, ps.Max)
		out.Projects = append(out.Projects, ps)
	}
	out.Rate = rate(out.Score, out.Max)
	for _, n := range r.ed.Negative {
		for _, i := range r.inScope(scope, n.Code) {
			if r.obs[i].Result == Fail {
				out.Vetoed = true
				out.Vetoes = append(out.Vetoes, n.Code)
				break
			}
		}
	}
	return out
}

// Districts returns the district codes the observations and values name,
// sorted: the districts a city's scores can be broken down into when the
// caller has no list of its own.
func Districts(obs []Observation, values []Value) []string {
	seen := map[string]bool{}
	for _, o := range obs {
		if o.Place.District != "" {
			seen[o.Place.District] = true
		}
	}
	for _, v := range values {
		if v.Region != "" {
			seen[v.Region] = true
		}
	}
	out := make([]string, 0, len(seen))
	for d := range seen {
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}

// ScoreDistricts scores the districts inside the scope, for the
// "districts" of the scores document: for the city every district given
// (in the order given; see Districts), for a district that district alone,
// for a street or community none. A district with nothing assessed has
// max 0 and no rate.
func ScoreDistricts(ed Edition, obs []Observation, values []Value, scope Scope, districts []string) ([]Scores, error) {
	if !scope.valid() {
		return nil, fmt.Errorf("assess: scope %q %q is not a city or a region", scope.Level, scope.Code)
	}
	r, err := prepare(ed, obs, values)
	if err != nil {
		return nil, err
	}
	var codes []string
	switch scope.Level {
	case LevelCity:
		codes = districts
	case LevelDistrict:
		codes = []string{scope.Code}
	}
	out := make([]Scores, 0, len(codes))
	for _, d := range codes {
		out = append(out, r.score(DistrictScope(d)))
	}
	return out, nil
}

// Prepared is one round's input checked once, for the scores and ledgers
// of any number of scopes: what Score, ScoreDistricts and Attribute do for
// one scope, without checking and indexing the observations each time.
// It keeps the slices it was given; the caller must not change them.
type Prepared struct{ r *round }

// Prepare checks a round's input as Score does.
func Prepare(ed Edition, obs []Observation, values []Value) (*Prepared, error) {
	r, err := prepare(ed, obs, values)
	if err != nil {
		return nil, err
	}
	return &Prepared{r}, nil
}

// Score is Score for one scope of the prepared round.
func (p *Prepared) Score(scope Scope) (Scores, error) {
	if !scope.valid() {
		return Scores{}, fmt.Errorf("assess: scope %q %q is not a city or a region", scope.Level, scope.Code)
	}
	return p.r.score(scope), nil
}

// Attribute is Attribute for one scope of the prepared round.
func (p *Prepared) Attribute(scope Scope, split Split) (Ledger, error) {
	sp, err := split.normal()
	if err != nil {
		return Ledger{}, err
	}
	if !scope.valid() {
		return Ledger{}, fmt.Errorf("assess: scope %q %q is not a city or a region", scope.Level, scope.Code)
	}
	return p.r.attribute(scope, sp), nil
}
