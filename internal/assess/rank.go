package assess

import (
	"math/big"
	"sort"
)

// Card is the card a district, street or unit gets for a round: green,
// yellow or red (红黄绿牌).
type Card string

const (
	CardGreen  Card = "green"
	CardYellow Card = "yellow"
	CardRed    Card = "red"
)

// Cards are the thresholds of the cards (see Settings).
type Cards struct {
	GreenRate, YellowRate *big.Rat // regions: rate ≥ GreenRate green, ≥ YellowRate yellow, else red
	YellowLost, RedLost   *big.Rat // units: lost ≥ RedLost red, ≥ YellowLost yellow, else green
}

// ForRate is a region's card; "" when nothing was assessed (rate nil).
func (c Cards) ForRate(rate *big.Rat) Card {
	switch {
	case rate == nil:
		return ""
	case rate.Cmp(c.GreenRate) >= 0:
		return CardGreen
	case rate.Cmp(c.YellowRate) >= 0:
		return CardYellow
	}
	return CardRed
}

// ForLost is a unit's card.
func (c Cards) ForLost(lost *big.Rat) Card {
	switch {
	case lost.Cmp(c.RedLost) >= 0:
		return CardRed
	case lost.Cmp(c.YellowLost) >= 0:
		return CardYellow
	}
	return CardGreen
}

// Standing is one line of a ranking: a district or street by its score
// rate, or a unit by the points it lost.
type Standing struct {
	Code   string
	Score  *big.Rat // regions only
	Max    *big.Rat // regions only
	Rate   *big.Rat // regions only; nil when nothing was assessed
	Lost   *big.Rat
	Items  int // units: ledger entries charged
	Sites  int // sampled sites in the region, or of the unit
	Vetoed bool
	// Rank: regions 1 for the best rate; units 1 for the most points lost
	// (the bottom place, 末位). Equal printed figures share a rank and the
	// next rank skips (1, 1, 3); 0 for a region with nothing assessed.
	Rank int
	Card Card
	// Against the previous round (nil, 0 when there is none or the subject
	// was not in it).
	PrevRank   int
	RateChange *big.Rat
	LostChange *big.Rat
}

// printedRat is r as printed with places decimals, so that ties are
// judged on what people see.
func printedRat(r *big.Rat, places int) *big.Rat {
	p, _ := new(big.Rat).SetString(RoundString(r, places))
	return p
}

// RankRegions sorts regions best rate first (vetoed regions after the
// others, regions with nothing assessed last, equal rates by code),
// ranks them and gives their cards.
func RankRegions(rows []Standing, cards Cards) {
	key := func(s Standing) *big.Rat {
		if s.Rate == nil {
			return nil
		}
		return printedRat(s.Rate, RatePlaces)
	}
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		ka, kb := key(a), key(b)
		if (ka == nil) != (kb == nil) {
			return ka != nil
		}
		if a.Vetoed != b.Vetoed {
			return !a.Vetoed
		}
		if ka != nil {
			if c := ka.Cmp(kb); c != 0 {
				return c > 0
			}
		}
		return a.Code < b.Code
	})
	for i := range rows {
		k := key(rows[i])
		switch {
		case k == nil:
			rows[i].Rank = 0
		case i > 0 && key(rows[i-1]) != nil && rows[i-1].Vetoed == rows[i].Vetoed && key(rows[i-1]).Cmp(k) == 0:
			rows[i].Rank = rows[i-1].Rank
		default:
			rows[i].Rank = i + 1
		}
		rows[i].Card = cards.ForRate(rows[i].Rate)
		if rows[i].Vetoed {
			rows[i].Card = CardRed
		}
	}
}

// RankUnits sorts units most points lost first (equal losses by code),
// ranks them (1 is the bottom place) and gives their cards.
func RankUnits(rows []Standing, cards Cards) {
	sort.SliceStable(rows, func(i, j int) bool {
		if c := printedRat(rows[i].Lost, PointPlaces).Cmp(printedRat(rows[j].Lost, PointPlaces)); c != 0 {
			return c > 0
		}
		return rows[i].Code < rows[j].Code
	})
	for i := range rows {
		if i > 0 && printedRat(rows[i-1].Lost, PointPlaces).Cmp(printedRat(rows[i].Lost, PointPlaces)) == 0 {
			rows[i].Rank = rows[i-1].Rank
		} else {
			rows[i].Rank = i + 1
		}
		rows[i].Card = cards.ForLost(rows[i].Lost)
	}
}

// CompareStandings fills each current row's change against the previous
// round's row of the same code.
func CompareStandings(cur, prev []Standing) {
	byCode := make(map[string]Standing, len(prev))
	for _, p := range prev {
		byCode[p.Code] = p
	}
	for i := range cur {
		p, ok := byCode[cur[i].Code]
		if !ok {
			continue
		}
		cur[i].PrevRank = p.Rank
		if cur[i].Rate != nil && p.Rate != nil {
			cur[i].RateChange = new(big.Rat).Sub(cur[i].Rate, p.Rate)
		}
		if cur[i].Lost != nil && p.Lost != nil {
			cur[i].LostChange = new(big.Rat).Sub(cur[i].Lost, p.Lost)
		}
	}
}

// Bottom returns the code of the bottom place of a ranked list: the last
// ranked region, or the unit that lost the most (and lost anything); ""
// when there is none or it is shared.
func Bottom(rows []Standing, units bool) string {
	if units {
		if len(rows) == 0 || rows[0].Lost.Sign() == 0 || len(rows) > 1 && rows[1].Rank == rows[0].Rank {
			return ""
		}
		return rows[0].Code
	}
	last := -1
	for i, r := range rows {
		if r.Rank != 0 {
			last = i
		}
	}
	if last < 1 || rows[last-1].Rank == rows[last].Rank {
		return ""
	}
	return rows[last].Code
}
