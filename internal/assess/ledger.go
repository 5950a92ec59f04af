package assess

import (
	"fmt"
	"math/big"
	"sort"
)

// Split says how an observation's lost points are shared when the site
// has a responsible unit and the standard has a lead unit: the site's
// unit takes Site ÷ (Site + Lead) of it, the lead unit the rest. When only
// one of the two units exists it takes the whole share, and with neither
// the share is unattributed. A zero Split (both nil) is DefaultSplit.
//
// Survey and graded losses have no site: they always go to the lead unit.
type Split struct {
	Site *big.Rat
	Lead *big.Rat
}

// DefaultSplit gives everything to the site's unit when there is one
// (else to the lead unit).
func DefaultSplit() Split { return Split{Site: big.NewRat(1, 1), Lead: new(big.Rat)} }

// HalfSplit gives half to the site's unit and half to the lead unit.
func HalfSplit() Split { return Split{Site: big.NewRat(1, 2), Lead: big.NewRat(1, 2)} }

func (sp Split) normal() (Split, error) {
	if sp.Site == nil && sp.Lead == nil {
		return DefaultSplit(), nil
	}
	if sp.Site == nil || sp.Lead == nil || sp.Site.Sign() < 0 || sp.Lead.Sign() < 0 ||
		sp.Site.Sign() == 0 && sp.Lead.Sign() == 0 {
		return sp, fmt.Errorf("assess: split weights must both be given, ≥ 0 and not both 0")
	}
	return sp, nil
}

// Via says how a ledger entry found its unit.
type Via string

const (
	ViaSite Via = "site" // the site's responsible unit
	ViaLead Via = "lead" // the standard's lead unit
	ViaNone Via = "none" // no unit: unattributed
)

// Entry is one share of lost points: what one observation (or, for a
// survey or graded leaf, the leaf itself) cost, and who answers for it.
type Entry struct {
	Standard      string
	ObservationID int64 // 0 for a survey or graded loss
	SiteID        int64 // 0 for a survey or graded loss
	Unit          string
	Via           Via
	Lost          *big.Rat
}

// UnitLoss is what one unit lost in the scope.
type UnitLoss struct {
	Code  string
	Lost  *big.Rat
	Items int // entries charged to the unit
}

// Ledger is the point-loss account of one scope (谁丢分、谁负责): Lost =
// Σ Units[i].Lost + Unattributed = the scope's Max − Score, exactly.
type Ledger struct {
	Scope        Scope
	Lost         *big.Rat
	Units        []UnitLoss // most lost first, then by code
	Unattributed *big.Rat
	Entries      []Entry // in tree order, then observation order
}

// Attribute computes the ledger of one round for one scope: for each
// assessed leaf, lost = max − score, shared among its causes exactly.
//
//   - pass_rate: each failed observation carries points ÷ applicable.
//   - deduct: each observation carries per_problem × its counted problems
//     (a fail with 0 problems counts 1, a pass 0); when the floor at 0 cut
//     the deduction, every share is scaled by lost ÷ Σ shares.
//   - survey and graded: the whole loss is the leaf's, to its lead unit.
//
// Each observation's share is then split between the site's unit and the
// leaf's lead unit by split (the lead unit's part is the share minus the
// site unit's, so the parts add up to the share). Entries of 0 are left
// out, and a site whose unit is the lead unit gives one entry. Inputs are
// checked as by Score.
func Attribute(ed Edition, obs []Observation, values []Value, scope Scope, split Split) (Ledger, error) {
	sp, err := split.normal()
	if err != nil {
		return Ledger{}, err
	}
	if !scope.valid() {
		return Ledger{}, fmt.Errorf("assess: scope %q %q is not a city or a region", scope.Level, scope.Code)
	}
	r, err := prepare(ed, obs, values)
	if err != nil {
		return Ledger{}, err
	}
	return r.attribute(scope, sp), nil
}

// attribute computes the ledger of a checked round for a valid scope.
func (r *round) attribute(scope Scope, sp Split) Ledger {
	scores := r.score(scope)
	l := Ledger{Scope: scope, Lost: new(big.Rat), Unattributed: new(big.Rat)}
	byUnit := map[string]*UnitLoss{}
	charge := func(unit string, lost *big.Rat, items int) {
		if unit == "" {
			l.Unattributed.Add(l.Unattributed, lost)
			return
		}
		u := byUnit[unit]
		if u == nil {
			u = &UnitLoss{Code: unit, Lost: new(big.Rat)}
			byUnit[unit] = u
		}
		u.Lost.Add(u.Lost, lost)
		u.Items += items
	}
	for _, ls := range scores.Leaves() {
		if !ls.Assessed {
			continue
		}
		lost := new(big.Rat).Sub(ls.Max, ls.Score)
		if lost.Sign() == 0 {
			continue
		}
		l.Lost.Add(l.Lost, lost)
		s := r.leaves[ls.Code]
		if !s.Rule.Observed() {
			e := Entry{Standard: s.Code, Unit: s.LeadUnit, Via: ViaLead, Lost: lost}
			if s.LeadUnit == "" {
				e.Via = ViaNone
			}
			l.Entries = append(l.Entries, e)
			charge(e.Unit, new(big.Rat).Set(lost), 1)
			continue
		}
		var totals map[string]*unitShare
		var entries []Entry
		entries, totals = shares(s, r.obs, r.inScope(scope, s.Code), lost, sp)
		l.Entries = append(l.Entries, entries...)
		for unit, t := range totals {
			charge(unit, t.lost, t.items)
		}
	}
	for _, u := range byUnit {
		l.Units = append(l.Units, *u)
	}
	sort.Slice(l.Units, func(i, j int) bool {
		if c := l.Units[i].Lost.Cmp(l.Units[j].Lost); c != 0 {
			return c > 0
		}
		return l.Units[i].Code < l.Units[j].Code
	})
	return l
}

// unitShare is what one unit answers for on one leaf.
type unitShare struct {
	lost  *big.Rat
	items int
}

// shares divides the loss of an observed leaf among its observations (at
// the positions given) and then between units, and totals it per unit
// ("" for the unattributed part).
//
// Each observation weighs what it cost: a failure 1 on a pass_rate leaf
// (each carrying points ÷ applicable), its counted problems on a deduct
// leaf (each carrying per_problem × problems). Since those shares add up
// to the loss, or are all scaled by the same factor when the deduction
// floor cut it, a share is exactly lost × weight ÷ Σ weights. A unit's
// total is therefore a whole multiple of that unit of loss (or of its
// site or lead part), summed as integers and multiplied once.
func shares(s Standard, all []Observation, at []int32, lost *big.Rat, sp Split) ([]Entry, map[string]*unitShare) {
	weight := func(o *Observation) int64 {
		if s.Rule == RulePassRate {
			if o.Result == Fail {
				return 1
			}
			return 0
		}
		return int64(counted(*o))
	}
	var total int64
	for _, k := range at {
		total += weight(&all[k])
	}
	if total == 0 {
		return nil, nil // cannot happen when lost > 0
	}
	per := new(big.Rat).Quo(lost, new(big.Rat).SetInt64(total))
	sitePer := new(big.Rat).Mul(per, new(big.Rat).Quo(sp.Site, new(big.Rat).Add(sp.Site, sp.Lead)))
	leadPer := new(big.Rat).Sub(per, sitePer)
	// The values of a share of weight w, made once per weight.
	type values struct{ whole, site, lead *big.Rat }
	byWeight := map[int64]values{}
	valuesOf := func(w int64) values {
		v, ok := byWeight[w]
		if !ok {
			n := new(big.Rat).SetInt64(w)
			v = values{new(big.Rat).Mul(per, n), new(big.Rat).Mul(sitePer, n), new(big.Rat).Mul(leadPer, n)}
			byWeight[w] = v
		}
		return v
	}
	// Σ weights per unit: wholly, as the site's part, as the lead's part.
	type sums struct {
		whole, site, lead int64
		items             int
	}
	perUnit := map[string]*sums{}
	add := func(unit string) *sums {
		u := perUnit[unit]
		if u == nil {
			u = &sums{}
			perUnit[unit] = u
		}
		u.items++
		return u
	}
	var out []Entry
	for _, k := range at {
		o := &all[k]
		w := weight(o)
		if w == 0 {
			continue
		}
		v := valuesOf(w)
		base := Entry{Standard: s.Code, ObservationID: o.ID, SiteID: o.SiteID}
		switch {
		case o.Unit != "" && s.LeadUnit != "" && o.Unit != s.LeadUnit:
			if v.site.Sign() > 0 {
				out = append(out, with(base, o.Unit, ViaSite, new(big.Rat).Set(v.site)))
				add(o.Unit).site += w
			}
			if v.lead.Sign() > 0 {
				out = append(out, with(base, s.LeadUnit, ViaLead, new(big.Rat).Set(v.lead)))
				add(s.LeadUnit).lead += w
			}
		case o.Unit != "":
			out = append(out, with(base, o.Unit, ViaSite, new(big.Rat).Set(v.whole)))
			add(o.Unit).whole += w
		case s.LeadUnit != "":
			out = append(out, with(base, s.LeadUnit, ViaLead, new(big.Rat).Set(v.whole)))
			add(s.LeadUnit).whole += w
		default:
			out = append(out, with(base, "", ViaNone, new(big.Rat).Set(v.whole)))
			add("").whole += w
		}
	}
	totals := make(map[string]*unitShare, len(perUnit))
	for unit, u := range perUnit {
		t := new(big.Rat)
		for _, part := range []struct {
			n   int64
			per *big.Rat
		}{{u.whole, per}, {u.site, sitePer}, {u.lead, leadPer}} {
			if part.n != 0 {
				t.Add(t, new(big.Rat).Mul(part.per, new(big.Rat).SetInt64(part.n)))
			}
		}
		totals[unit] = &unitShare{lost: t, items: u.items}
	}
	return out, totals
}

func with(e Entry, unit string, via Via, lost *big.Rat) Entry {
	e.Unit, e.Via, e.Lost = unit, via, lost
	return e
}
