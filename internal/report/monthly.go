package report

import (
	"context"
	"fmt"
	"math/big"
	"regexp"
	"sort"
	"strconv"
	"time"

	"chuangwen/internal/apperr"
	"chuangwen/internal/assess"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
	"chuangwen/internal/workflow"
)

// The monthly scheduling report (调度): progress by district and unit for
// the month against the month before, the top problem categories and
// hotspots, the worst units, the listed cases and six months of trend.

// Month is a calendar month, 2026-11.
type Month struct {
	Year  int
	Month time.Month
}

var monthRe = regexp.MustCompile(`^(\d{4})-(\d{2})$`)

// ParseMonth reads "2026-11".
func ParseMonth(s string) (Month, error) {
	m := monthRe.FindStringSubmatch(s)
	if m == nil {
		return Month{}, apperr.New(apperr.Invalid, "report.bad_month", "month", s)
	}
	y, _ := strconv.Atoi(m[1])
	mo, _ := strconv.Atoi(m[2])
	if mo < 1 || mo > 12 {
		return Month{}, apperr.New(apperr.Invalid, "report.bad_month", "month", s)
	}
	return Month{y, time.Month(mo)}, nil
}

func (m Month) String() string { return fmt.Sprintf("%d-%02d", m.Year, int(m.Month)) }

// Start is the month's first instant in loc.
func (m Month) Start(loc *time.Location) time.Time {
	return time.Date(m.Year, m.Month, 1, 0, 0, 0, 0, loc)
}

// Prev is the month before.
func (m Month) Prev() Month {
	t := time.Date(m.Year, m.Month, 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0)
	return Month{t.Year(), t.Month()}
}

// MonthDoc is the report as `report monthly --format json` prints it.
type MonthDoc struct {
	Month         string          `json:"month"`
	From          string          `json:"from"`
	To            string          `json:"to"`
	Cutoff        string          `json:"cutoff"`
	City          ProgressDoc     `json:"city"`
	Districts     []ProgressDoc   `json:"districts"`
	Units         []ProgressDoc   `json:"units"`
	WorstUnits    []ProgressDoc   `json:"worst_units"`
	TopCategories []CountDoc      `json:"top_categories"`
	Hotspots      []CountDoc      `json:"hotspots"`
	Listed        []NoticeCase    `json:"listed"`
	Trend         []TrendDoc      `json:"trend"`
	LatestRound   *assess.Round   `json:"latest_round,omitempty"`
	RoundRate     assess.JSONRate `json:"latest_round_rate"`
	// Volunteers is the month's volunteer service, as the bulletin's
	// section counts a quarter (absent without the volunteer service).
	Volunteers *VolunteerDoc `json:"volunteers,omitempty"`
}

// ProgressDoc is a district's or unit's progress in the month: the counts
// and rates of docs/performance.md, and the change of the on-time closure
// rate against the month before.
type ProgressDoc struct {
	Code               string          `json:"code"`
	Name               string          `json:"name"`
	Reported           int             `json:"reported,omitempty"`
	Accepted           int             `json:"accepted,omitempty"`
	Dispatched         int             `json:"dispatched"`
	Due                int             `json:"due"`
	Closed             int             `json:"closed"`
	Overdue            int             `json:"overdue"`
	OnTimeHandlingRate assess.JSONRate `json:"on_time_handling_rate"`
	OnTimeClosureRate  assess.JSONRate `json:"on_time_closure_rate"`
	OverdueRate        assess.JSONRate `json:"overdue_rate"`
	PreviousRate       assess.JSONRate `json:"previous_on_time_closure_rate"`
	Change             assess.JSONRate `json:"change"` // of the on-time closure rate
}

// CountDoc is a count of new cases by category, or by category and area.
type CountDoc struct {
	Category string `json:"category"`
	Region   string `json:"region,omitempty"`
	Count    int    `json:"count"`
	Previous int    `json:"previous"`
}

// TrendDoc is one month of the trend: cases reported and closed.
type TrendDoc struct {
	Month    string `json:"month"`
	Reported int    `json:"reported"`
	Closed   int    `json:"closed"`
}

func progress(code, name string, f workflow.Figures) ProgressDoc {
	onTime, _, onTimeClosure, _, overdue, _, _ := unitRates(f)
	return ProgressDoc{Code: code, Name: name, Reported: f.Reported, Accepted: f.Accepted, Dispatched: f.Dispatched, Due: f.Due,
		Closed: f.ClosedCounted, Overdue: f.Overdue, OnTimeHandlingRate: assess.JSONRate{Rat: onTime},
		OnTimeClosureRate: assess.JSONRate{Rat: onTimeClosure}, OverdueRate: assess.JSONRate{Rat: overdue}}
}

func compare(cur []ProgressDoc, prev map[string]*big.Rat) {
	for i := range cur {
		p := prev[cur[i].Code]
		cur[i].PreviousRate = assess.JSONRate{Rat: p}
		if p != nil && cur[i].OnTimeClosureRate.Rat != nil {
			cur[i].Change = assess.JSONRate{Rat: new(big.Rat).Sub(cur[i].OnTimeClosureRate.Rat, p)}
		}
	}
}

// begin is how a document starts: the actor may read reports, its period
// parses, and the office's settings are read.
func begin[P any](ctx context.Context, s *Service, actor org.Actor, parse func(string) (P, error), period string) (P, Settings, error) {
	var p P
	if err := canRead(actor); err != nil {
		return p, Settings{}, err
	}
	p, err := parse(period)
	if err != nil {
		return p, Settings{}, err
	}
	st, err := s.Settings(ctx)
	return p, st, err
}

// Monthly drafts the month's scheduling report as of now.
func (s *Service) Monthly(ctx context.Context, actor org.Actor, month string) (MonthDoc, error) {
	m, st, err := begin(ctx, s, actor, ParseMonth, month)
	if err != nil {
		return MonthDoc{}, err
	}
	loc, now := s.loc(), s.now()
	cur := workflow.Period{From: m.Start(loc), To: m.Start(loc).AddDate(0, 1, 0)}
	prev := workflow.Period{From: m.Prev().Start(loc), To: m.Start(loc)}
	doc := MonthDoc{Month: m.String(), From: cur.From.Format(time.DateOnly), To: cur.To.AddDate(0, 0, -1).Format(time.DateOnly),
		Cutoff: now.In(loc).Format(time.RFC3339), Districts: []ProgressDoc{}, Units: []ProgressDoc{}, WorstUnits: []ProgressDoc{},
		TopCategories: []CountDoc{}, Hotspots: []CountDoc{}, Listed: []NoticeCase{}, Trend: []TrendDoc{}}

	if s.Volunteer != nil {
		if doc.Volunteers, err = s.volunteersIn(ctx, cur.From, cur.To, prev.From, prev.To); err != nil {
			return doc, err
		}
	}

	// Districts and the city.
	rows, err := s.Flow.RegionPerformance(ctx, cur, "district")
	if err != nil {
		return doc, err
	}
	prevRows, err := s.Flow.RegionPerformance(ctx, prev, "district")
	if err != nil {
		return doc, err
	}
	var city, prevCity workflow.Figures
	prevRate := map[string]*big.Rat{}
	for _, r := range prevRows {
		_, _, oc, _, _, _, _ := unitRates(r.Figures)
		prevRate[r.Code] = oc
		prevCity.Add(r.Figures)
	}
	for _, r := range rows {
		doc.Districts = append(doc.Districts, progress(r.Code, r.Name, r.Figures))
		city.Add(r.Figures)
	}
	compare(doc.Districts, prevRate)
	sort.Slice(doc.Districts, func(i, j int) bool { return doc.Districts[i].Code < doc.Districts[j].Code })
	doc.City = progress("", "", city)
	_, _, pc, _, _, _, _ := unitRates(prevCity)
	doc.City.PreviousRate = assess.JSONRate{Rat: pc}
	if pc != nil && doc.City.OnTimeClosureRate.Rat != nil {
		doc.City.Change = assess.JSONRate{Rat: new(big.Rat).Sub(doc.City.OnTimeClosureRate.Rat, pc)}
	}

	// Units, and the worst of those with enough due dispatches.
	urows, err := s.Flow.UnitPerformance(ctx, cur)
	if err != nil {
		return doc, err
	}
	uprev, err := s.Flow.UnitPerformance(ctx, prev)
	if err != nil {
		return doc, err
	}
	prevRate = map[string]*big.Rat{}
	for _, r := range uprev {
		_, _, oc, _, _, _, _ := unitRates(r.Figures)
		prevRate[r.Code] = oc
	}
	for _, r := range urows {
		doc.Units = append(doc.Units, progress(r.Code, r.Name, r.Figures))
	}
	compare(doc.Units, prevRate)
	for _, u := range doc.Units {
		if u.Due >= st.MinDue && u.OnTimeHandlingRate.Rat != nil {
			doc.WorstUnits = append(doc.WorstUnits, u)
		}
	}
	sort.SliceStable(doc.WorstUnits, func(i, j int) bool {
		if c := doc.WorstUnits[i].OnTimeHandlingRate.Rat.Cmp(doc.WorstUnits[j].OnTimeHandlingRate.Rat); c != 0 {
			return c < 0
		}
		return doc.WorstUnits[i].Code < doc.WorstUnits[j].Code
	})
	if len(doc.WorstUnits) > 5 {
		doc.WorstUnits = doc.WorstUnits[:5]
	}

	// Categories and hotspots of the month's new cases.
	if doc.TopCategories, err = s.counts(ctx, cur, prev, false); err != nil {
		return doc, err
	}
	if doc.Hotspots, err = s.counts(ctx, cur, prev, true); err != nil {
		return doc, err
	}

	// Listed cases still open.
	f := workflow.Filter{Supervised: true, States: openStates, Limit: 200}
	page, err := s.Flow.List(ctx, org.System, f)
	if err != nil {
		return doc, err
	}
	for _, c := range page.Cases {
		doc.Listed = append(doc.Listed, s.noticeCase(caseWork(c)))
	}

	// Six months of trend, ending with this one.
	if doc.Trend, err = s.trend(ctx, m, 6); err != nil {
		return doc, err
	}

	// The latest closed mock inspection's city rate.
	rounds, err := s.Assess.Rounds(ctx, org.System)
	if err != nil {
		return doc, err
	}
	if rd := latestClosed(rounds); rd != nil {
		tot, err := s.Assess.RoundTotals(ctx, org.System, rd.Code)
		if err != nil {
			return doc, err
		}
		doc.LatestRound, doc.RoundRate = rd, assess.JSONRate{Rat: tot.Rate}
	}
	return doc, nil
}

// counts are the month's new valid cases by category (or by category and
// community), the ten largest, with the same count the month before.
func (s *Service) counts(ctx context.Context, cur, prev workflow.Period, byRegion bool) ([]CountDoc, error) {
	cols, group := `cat.name, ''`, `cat.name`
	join := ``
	if byRegion {
		cols, group = `cat.name, COALESCE(g.name, '')`, `cat.name, g.name`
		join = ` LEFT JOIN regions g ON g.id = c.region_id`
	}
	q := `SELECT ` + cols + `, COUNT(*) FROM cases c JOIN categories cat ON cat.id = c.category_id` + join + `
		WHERE c.reported_at >= ? AND c.reported_at < ? AND c.state NOT IN ('rejected', 'merged', 'voided')
		GROUP BY ` + group + ` ORDER BY COUNT(*) DESC, ` + group + ` LIMIT ?`
	read := func(p workflow.Period, limit int) ([]CountDoc, error) {
		return store.Collect(ctx, s.DB.Reader(), func(r store.Scanner) (x CountDoc, err error) {
			return x, r.Scan(&x.Category, &x.Region, &x.Count)
		}, q, store.Ms(p.From), store.Ms(p.To), limit)
	}
	out, err := read(cur, 10)
	if err != nil {
		return nil, err
	}
	before, err := read(prev, 100000)
	if err != nil {
		return nil, err
	}
	for i := range out {
		for _, b := range before {
			if b.Category == out[i].Category && b.Region == out[i].Region {
				out[i].Previous = b.Count
			}
		}
	}
	if out == nil {
		out = []CountDoc{}
	}
	return out, nil
}

// trend counts the cases reported and closed in each of n months ending
// with m.
func (s *Service) trend(ctx context.Context, m Month, n int) ([]TrendDoc, error) {
	loc := s.loc()
	first := m
	for i := 1; i < n; i++ {
		first = first.Prev()
	}
	from, to := store.Ms(first.Start(loc)), store.Ms(m.Start(loc).AddDate(0, 1, 0))
	d := s.DB.Dialect
	reported := d.TimeBucket(store.Month, "reported_at", loc)
	closed := d.TimeBucket(store.Month, "closed_at", loc)
	type kv struct {
		k string
		n int
	}
	scan := func(r store.Scanner) (x kv, err error) { return x, r.Scan(&x.k, &x.n) }
	rep, err := store.Collect(ctx, s.DB.Reader(), scan, `SELECT `+reported+`, COUNT(*) FROM cases WHERE reported_at >= ? AND reported_at < ? AND state NOT IN ('rejected', 'merged', 'voided') GROUP BY `+reported, from, to)
	if err != nil {
		return nil, err
	}
	clo, err := store.Collect(ctx, s.DB.Reader(), scan, `SELECT `+closed+`, COUNT(*) FROM cases WHERE closed_at >= ? AND closed_at < ? AND state = 'closed' GROUP BY `+closed, from, to)
	if err != nil {
		return nil, err
	}
	out := make([]TrendDoc, 0, n)
	for mm, i := first, 0; i < n; mm, i = nextMonth(mm), i+1 {
		t := TrendDoc{Month: mm.String()}
		for _, x := range rep {
			if x.k == t.Month {
				t.Reported = x.n
			}
		}
		for _, x := range clo {
			if x.k == t.Month {
				t.Closed = x.n
			}
		}
		out = append(out, t)
	}
	return out, nil
}

func nextMonth(m Month) Month {
	t := time.Date(m.Year, m.Month, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 1, 0)
	return Month{t.Year(), t.Month()}
}
