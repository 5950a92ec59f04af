package assess

import (
	"fmt"
	"math/big"
	"regexp"
	"slices"
)

// Method is how a standard is checked (测评方法).
type Method string

const (
	MethodField    Method = "field"    // 实地考察: an inspector at a site
	MethodCall     Method = "call"     // 模拟验证: a simulated call, e.g. dialling a hotline
	MethodDocument Method = "document" // 材料审核: evidence uploaded by the units
	MethodSurvey   Method = "survey"   // 问卷调查: a household survey
)

// Methods lists the methods in the order the file format gives them.
var Methods = []Method{MethodField, MethodCall, MethodDocument, MethodSurvey}

// Valid reports whether m is one of Methods.
func (m Method) Valid() bool { return slices.Contains(Methods, m) }

// AtSites reports whether standards of this method are observed at sites
// (field and call), as opposed to receiving one value per region (document
// and survey).
func (m Method) AtSites() bool { return m == MethodField || m == MethodCall }

// Rule is how a standard's score is computed (计分规则).
type Rule string

const (
	RulePassRate Rule = "pass_rate" // points × passes ÷ applicable observations
	RuleDeduct   Rule = "deduct"    // points − per_problem × problems, never below 0
	RuleSurvey   Rule = "survey"    // points × the surveyed rate
	RuleGraded   Rule = "graded"    // the points the reviewers gave
)

// Rules lists the rules in the order the file format gives them.
var Rules = []Rule{RulePassRate, RuleDeduct, RuleSurvey, RuleGraded}

// Valid reports whether r is one of Rules.
func (r Rule) Valid() bool { return slices.Contains(Rules, r) }

// Fits reports whether rule r may score a standard checked by method m:
// survey with survey, graded with document, pass_rate and deduct with
// field and call.
func (r Rule) Fits(m Method) bool {
	switch r {
	case RuleSurvey:
		return m == MethodSurvey
	case RuleGraded:
		return m == MethodDocument
	case RulePassRate, RuleDeduct:
		return m.AtSites()
	}
	return false
}

// Observed reports whether the rule scores observations at sites (true)
// or values entered per region (false).
func (r Rule) Observed() bool { return r == RulePassRate || r == RuleDeduct }

// Edition is one indicator tree (测评体系), e.g. a year's national text or
// a city's trial version. Points are exact: every *big.Rat in an edition
// holds the decimal written in the file, and nothing in this package
// modifies them; callers must not either.
type Edition struct {
	Code      string   // unique among editions
	Name      string   // shown wherever the tree is shown
	SiteTypes []string // the site types (点位类型) the edition uses
	Projects  []Project
	Negative  []NegativeItem // 负面清单
}

// Project is a 测评项目, the top level of the tree.
type Project struct {
	Code     string
	Name     string
	Points   *big.Rat // optional: nil when the file gives none; else the sum of its contents
	Contents []Content
}

// Content is a 测评内容, the middle level.
type Content struct {
	Code      string
	Name      string
	Points    *big.Rat // optional, like Project.Points
	Standards []Standard
}

// Standard is a 测评标准, a scored leaf.
type Standard struct {
	Code       string
	Name       string
	Points     *big.Rat
	Method     Method
	Rule       Rule
	PerProblem *big.Rat // deduct only: points taken per problem found
	SiteTypes  []string // field and call only: where it is checked
	LeadUnit   string   // 牵头单位 code, "" when none
	CoopUnits  []string // 配合单位 codes
}

// AppliesTo reports whether the standard is checked at sites of type t.
// Document and survey standards are checked at no site.
func (s Standard) AppliesTo(t string) bool {
	return s.Method.AtSites() && slices.Contains(s.SiteTypes, t)
}

// NegativeItem is an entry of the negative list: it has no points, and
// one failure anywhere in a scope vetoes that scope (一票否决).
type NegativeItem struct {
	Code      string
	Name      string
	SiteTypes []string // where it can be recorded; empty = at a site of any type
}

// AppliesTo reports whether the item can be recorded at a site of type t:
// any type when the item lists none.
func (n NegativeItem) AppliesTo(t string) bool {
	return len(n.SiteTypes) == 0 || slices.Contains(n.SiteTypes, t)
}

// Standards returns every leaf of the edition in tree order.
func (ed Edition) Standards() []Standard {
	var out []Standard
	for _, p := range ed.Projects {
		for _, c := range p.Contents {
			out = append(out, c.Standards...)
		}
	}
	return out
}

// Standard returns the leaf with the given code.
func (ed Edition) Standard(code string) (Standard, bool) {
	for _, p := range ed.Projects {
		for _, c := range p.Contents {
			for _, s := range c.Standards {
				if s.Code == code {
					return s, true
				}
			}
		}
	}
	return Standard{}, false
}

// NegativeItem returns the negative-list item with the given code.
func (ed Edition) NegativeItem(code string) (NegativeItem, bool) {
	for _, n := range ed.Negative {
		if n.Code == code {
			return n, true
		}
	}
	return NegativeItem{}, false
}

// Total returns the sum of the points of every leaf (a new value).
func (ed Edition) Total() *big.Rat {
	t := new(big.Rat)
	for _, s := range ed.Standards() {
		if s.Points != nil {
			t.Add(t, s.Points)
		}
	}
	return t
}

// Sum returns the sum of the points of the project's leaves (a new value).
func (p Project) Sum() *big.Rat {
	t := new(big.Rat)
	for _, c := range p.Contents {
		t.Add(t, c.Sum())
	}
	return t
}

// Sum returns the sum of the points of the content's leaves (a new value).
func (c Content) Sum() *big.Rat {
	t := new(big.Rat)
	for _, s := range c.Standards {
		if s.Points != nil {
			t.Add(t, s.Points)
		}
	}
	return t
}

// decimalText is the only form a number takes in an indicator file: digits,
// optionally a point and more digits, optionally a leading minus (so that a
// negative number is reported as negative rather than unreadable).
var decimalText = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)

// ParseDecimal reads a decimal such as "4", "0.5" or "-1.25" exactly. It
// accepts nothing else: no exponent, no leading "+" or ".", no hex.
func ParseDecimal(s string) (*big.Rat, bool) {
	if !decimalText.MatchString(s) || len(s) > 40 {
		return nil, false
	}
	r, ok := new(big.Rat).SetString(s)
	return r, ok
}

// FormatDecimal writes r as a plain decimal with no more digits than it
// needs ("4", "0.5", "2.125"). It fails when r has no finite decimal
// expansion (1/3), which cannot happen for points read by ParseDecimal.
func FormatDecimal(r *big.Rat) (string, error) {
	d := new(big.Int).Set(r.Denom())
	places := 0
	two, five, ten := big.NewInt(2), big.NewInt(5), big.NewInt(10)
	var m big.Int
	for d.Cmp(big.NewInt(1)) != 0 {
		switch {
		case m.Mod(d, ten).Sign() == 0:
			d.Quo(d, ten)
		case m.Mod(d, two).Sign() == 0:
			d.Quo(d, two)
		case m.Mod(d, five).Sign() == 0:
			d.Quo(d, five)
		default:
			return "", fmt.Errorf("assess: %s has no finite decimal form", r.RatString())
		}
		places++
	}
	return r.FloatString(places), nil
}
