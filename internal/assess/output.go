package assess

import (
	"fmt"
	"math/big"
	"strings"
)

// Output precision: points print with 2 decimals, rates with 4.
const (
	PointPlaces = 2
	RatePlaces  = 4
)

// RoundString rounds r half away from zero to places decimals and writes
// it with exactly that many (0.125 → "0.13", -0.125 → "-0.13", 2/3 →
// "0.67"; never "-0.00"). It is the only rounding in the package: every
// figure is exact until it is printed.
func RoundString(r *big.Rat, places int) string {
	if r == nil {
		r = new(big.Rat)
	}
	scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(places)), nil)
	num := new(big.Int).Abs(r.Num())
	num.Mul(num, scale)
	q, rem := new(big.Int).QuoRem(num, r.Denom(), new(big.Int))
	if rem.Lsh(rem, 1).Cmp(r.Denom()) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	digits := q.String()
	if places > 0 {
		if len(digits) <= places {
			digits = strings.Repeat("0", places-len(digits)+1) + digits
		}
		digits = digits[:len(digits)-places] + "." + digits[len(digits)-places:]
	}
	if r.Sign() < 0 && q.Sign() != 0 {
		digits = "-" + digits
	}
	return digits
}

// RoundJSON is RoundString without trailing zeros after the point (and
// without the point when nothing follows it): 20, 12.5, 0.6426. These are
// the numbers the JSON documents carry.
func RoundJSON(r *big.Rat, places int) string {
	s := RoundString(r, places)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	return s
}

// JSONPoints is a number of points in a JSON document: rounded to 2
// decimals; nil prints 0.
type JSONPoints struct{ Rat *big.Rat }

// MarshalJSON implements json.Marshaler.
func (p JSONPoints) MarshalJSON() ([]byte, error) {
	return []byte(RoundJSON(p.Rat, PointPlaces)), nil
}

// JSONRate is a rate in a JSON document: rounded to 4 decimals; nil
// prints null (a rate of nothing assessed).
type JSONRate struct{ Rat *big.Rat }

// MarshalJSON implements json.Marshaler.
func (r JSONRate) MarshalJSON() ([]byte, error) {
	if r.Rat == nil {
		return []byte("null"), nil
	}
	return []byte(RoundJSON(r.Rat, RatePlaces)), nil
}

// ScoresDoc is the document `chuangwen assess scores --json` prints.
type ScoresDoc struct {
	Round     string        `json:"round"`
	Scope     string        `json:"scope"`
	Score     JSONPoints    `json:"score"`
	Max       JSONPoints    `json:"max"`
	Rate      JSONRate      `json:"rate"`
	Vetoed    bool          `json:"vetoed"`
	Projects  []ProjectDoc  `json:"projects"`
	Districts []DistrictDoc `json:"districts"`
}

// ProjectDoc is a project in ScoresDoc.
type ProjectDoc struct {
	Code     string       `json:"code"`
	Score    JSONPoints   `json:"score"`
	Max      JSONPoints   `json:"max"`
	Rate     JSONRate     `json:"rate"`
	Contents []ContentDoc `json:"contents"`
}

// ContentDoc is a content in ScoresDoc.
type ContentDoc struct {
	Code      string        `json:"code"`
	Score     JSONPoints    `json:"score"`
	Max       JSONPoints    `json:"max"`
	Rate      JSONRate      `json:"rate"`
	Standards []StandardDoc `json:"standards"`
}

// StandardDoc is a leaf in ScoresDoc; one not assessed has score 0 and
// max 0.
type StandardDoc struct {
	Code     string     `json:"code"`
	Score    JSONPoints `json:"score"`
	Max      JSONPoints `json:"max"`
	Assessed bool       `json:"assessed"`
}

// DistrictDoc is one district's total in ScoresDoc.
type DistrictDoc struct {
	Code   string     `json:"code"`
	Score  JSONPoints `json:"score"`
	Max    JSONPoints `json:"max"`
	Rate   JSONRate   `json:"rate"`
	Vetoed bool       `json:"vetoed"`
}

// Doc returns the JSON document of the scores of round for s's scope,
// with the totals of the given districts (see ScoreDistricts).
func (s Scores) Doc(round string, districts []Scores) ScoresDoc {
	d := ScoresDoc{
		Round: round, Scope: s.Scope.Code,
		Score: JSONPoints{s.Score}, Max: JSONPoints{s.Max}, Rate: JSONRate{s.Rate}, Vetoed: s.Vetoed,
		Projects: []ProjectDoc{}, Districts: []DistrictDoc{},
	}
	for _, p := range s.Projects {
		pd := ProjectDoc{Code: p.Code, Score: JSONPoints{p.Score}, Max: JSONPoints{p.Max}, Rate: JSONRate{p.Rate}, Contents: []ContentDoc{}}
		for _, c := range p.Contents {
			cd := ContentDoc{Code: c.Code, Score: JSONPoints{c.Score}, Max: JSONPoints{c.Max}, Rate: JSONRate{c.Rate}, Standards: []StandardDoc{}}
			for _, l := range c.Standards {
				cd.Standards = append(cd.Standards, StandardDoc{Code: l.Code, Score: JSONPoints{l.Score}, Max: JSONPoints{l.Max}, Assessed: l.Assessed})
			}
			pd.Contents = append(pd.Contents, cd)
		}
		d.Projects = append(d.Projects, pd)
	}
	for _, ds := range districts {
		d.Districts = append(d.Districts, DistrictDoc{Code: ds.Scope.Code, Score: JSONPoints{ds.Score}, Max: JSONPoints{ds.Max}, Rate: JSONRate{ds.Rate}, Vetoed: ds.Vetoed})
	}
	return d
}

// LedgerDoc is the document `chuangwen assess ledger --json` prints.
type LedgerDoc struct {
	Round        string        `json:"round"`
	Scope        string        `json:"scope"`
	Lost         JSONPoints    `json:"lost"`
	Units        []UnitLossDoc `json:"units"`
	Unattributed JSONPoints    `json:"unattributed"`
}

// UnitLossDoc is one unit in LedgerDoc.
type UnitLossDoc struct {
	Code  string     `json:"code"`
	Lost  JSONPoints `json:"lost"`
	Items int        `json:"items"`
}

// Doc returns the JSON document of the ledger of round.
func (l Ledger) Doc(round string) LedgerDoc {
	d := LedgerDoc{Round: round, Scope: l.Scope.Code, Lost: JSONPoints{l.Lost}, Units: []UnitLossDoc{}, Unattributed: JSONPoints{l.Unattributed}}
	for _, u := range l.Units {
		d.Units = append(d.Units, UnitLossDoc{Code: u.Code, Lost: JSONPoints{u.Lost}, Items: u.Items})
	}
	return d
}

// UnmarshalJSON reads a number of points back (a stored snapshot).
func (p *JSONPoints) UnmarshalJSON(b []byte) error {
	r, ok := new(big.Rat).SetString(string(b))
	if !ok {
		return fmt.Errorf("assess: points %s are not a number", b)
	}
	p.Rat = r
	return nil
}

// UnmarshalJSON reads a rate back; null is nil.
func (r *JSONRate) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		r.Rat = nil
		return nil
	}
	x, ok := new(big.Rat).SetString(string(b))
	if !ok {
		return fmt.Errorf("assess: rate %s is not a number", b)
	}
	r.Rat = x
	return nil
}

// Points prints points with 2 decimals, "—" for nil (nothing assessed).
func Points(r *big.Rat) string {
	if r == nil {
		return "—"
	}
	return RoundString(r, PointPlaces)
}

// Percent prints a rate as a percentage with 2 decimals, "—" for nil.
func Percent(r *big.Rat) string {
	if r == nil {
		return "—"
	}
	return RoundString(new(big.Rat).Mul(r, big.NewRat(100, 1)), 2) + "%"
}

// Change prints a change with its sign (+1.50, -0.25, 0.00); percent
// turns a rate's change into percentage points; "" for nil.
func Change(r *big.Rat, percent bool) string {
	if r == nil {
		return ""
	}
	x := r
	if percent {
		x = new(big.Rat).Mul(r, big.NewRat(100, 1))
	}
	out := RoundString(x, PointPlaces)
	if x.Sign() > 0 && out != "0.00" {
		out = "+" + out
	}
	return out
}
