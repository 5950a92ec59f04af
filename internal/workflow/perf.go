package workflow

import (
	"context"
	"fmt"
	"sort"
	"time"

	"chuangwen/internal/org"
	"chuangwen/internal/store"
)

// Figures are the unit performance counts (综合评价) over a period, and the
// rates computed from them. The definitions, in docs/performance.md:
//
// The cohort is every dispatch (one dispatch of a case to a lead unit, or one
// rework of it) dispatched within the period, except dispatches of voided
// cases; the figures are the cohort's outcome as known now.
//   - Dispatched: dispatches in the cohort. Returns: dispatches the unit sent back.
//   - Due: dispatches not returned that have been handled, or whose deadline
//     has passed.
//   - Handled: dispatches with a rectification report; HandledOnTime: reported by
//     the deadline in force (extensions included).
//   - Closed: dispatches whose verification passed; ClosedOnTime: closed and
//     handled on time.
//   - Reworks: dispatches whose verification failed. Overdue: dispatches that passed
//     their deadline unhandled (marked by the deadline watch or at a late
//     report; an approved extension lifts the mark). Extended: dispatches granted
//     an extension. Postponed: dispatches that were put on hold (缓办), left out
//     of the on-time and closure rates. Overdue, Extended and Postponed
//     count due dispatches only.
//   - Revisited: closed dispatches whose drawn revisit (回访) was recorded;
//     Relapses: revisited dispatches whose revisit failed (反弹).
type Figures struct {
	Dispatched    int `json:"dispatched"`
	Returns       int `json:"returns"`
	Due           int `json:"due"`
	Handled       int `json:"handled"`
	HandledOnTime int `json:"handled_on_time"`
	Closed        int `json:"closed"`
	ClosedOnTime  int `json:"closed_on_time"`
	Reworks       int `json:"reworks"`
	Overdue       int `json:"overdue"`
	Extended      int `json:"extended"`
	Postponed     int `json:"postponed"`
	Revisited     int `json:"revisited"`
	Relapses      int `json:"relapses"`
	// Acceptance figures are per region only: units do not accept cases.
	Reported int `json:"reported,omitempty"`
	Merged   int `json:"merged,omitempty"`
	Accepted int `json:"accepted,omitempty"`
	Rejected int `json:"rejected,omitempty"`
	// ClosedCounted is Closed without postponed dispatches: the closure rate's
	// numerator must come from its denominator's set.
	ClosedCounted int `json:"closed_counted"`
	withCases     bool
}

// Rates are the published indicators; nil where the denominator is 0.
type Rates struct {
	Acceptance     *float64 `json:"acceptance_rate,omitempty"` // 立案率
	OnTimeHandling *float64 `json:"on_time_handling_rate"`     // 按期处置率
	Closure        *float64 `json:"closure_rate"`              // 结案率
	OnTimeClosure  *float64 `json:"on_time_closure_rate"`      // 按期结案率
	Rework         *float64 `json:"rework_rate"`               // 返工率
	Overdue        *float64 `json:"overdue_rate"`              // 超期率
	Extension      *float64 `json:"extension_rate"`            // 延期率
	Return         *float64 `json:"return_rate"`               // 退回率
	Relapse        *float64 `json:"relapse_rate"`              // 反弹率
}

func ratio(a, b int) *float64 {
	if b <= 0 {
		return nil
	}
	r := float64(a) / float64(b)
	return &r
}

// Rates computes the 综合评价 indicators of docs/performance.md from f (terms in docs/domain.md).
func (f Figures) Rates() Rates {
	dueNet := f.Due - f.Postponed
	r := Rates{
		OnTimeHandling: ratio(f.HandledOnTime, dueNet),
		Closure:        ratio(f.ClosedCounted, dueNet),
		OnTimeClosure:  ratio(f.ClosedOnTime, dueNet),
		Rework:         ratio(f.Reworks, f.Handled),
		Overdue:        ratio(f.Overdue, f.Due),
		Extension:      ratio(f.Extended, f.Due),
		Return:         ratio(f.Returns, f.Dispatched),
		Relapse:        ratio(f.Relapses, f.Revisited),
	}
	if f.withCases {
		r.Acceptance = ratio(f.Accepted, f.Reported-f.Merged)
	}
	return r
}

// Add adds g's counts to f (a roll-up of units or regions).
func (f *Figures) Add(g Figures) {
	f.Dispatched += g.Dispatched
	f.Returns += g.Returns
	f.Due += g.Due
	f.Handled += g.Handled
	f.HandledOnTime += g.HandledOnTime
	f.Closed += g.Closed
	f.ClosedCounted += g.ClosedCounted
	f.ClosedOnTime += g.ClosedOnTime
	f.Reworks += g.Reworks
	f.Overdue += g.Overdue
	f.Extended += g.Extended
	f.Postponed += g.Postponed
	f.Revisited += g.Revisited
	f.Relapses += g.Relapses
	f.Reported += g.Reported
	f.Merged += g.Merged
	f.Accepted += g.Accepted
	f.Rejected += g.Rejected
}

// PerfRow is the figures of one unit or region.
type PerfRow struct {
	ID      int64   `json:"id"`
	Code    string  `json:"code"`
	Name    string  `json:"name"`
	Figures Figures `json:"figures"`
	Rates   Rates   `json:"rates"`
}

// Period is [From, To).
type Period struct{ From, To time.Time }

type perfKey struct{ unit, region int64 }

// dispatchFigures aggregates the cohort of dispatches dispatched in p, grouped by
// unit and region, in one pass over the dispatches table.
func (s *Service) dispatchFigures(ctx context.Context, p Period, at time.Time) (map[perfKey]Figures, error) {
	// The cohort's outcome as known now: a dispatch counts as due once handled
	// or past its deadline, whenever that happened. Overdue, extended and
	// postponed are subsets of due (each repeats the due condition), so
	// that their rates never count a dispatch their denominator leaves out: a
	// dispatch granted an extension and still open before its deadline is not
	// extended yet, and a dispatch marked overdue whose deadline in force lies
	// ahead again (resumed after a postponement) is not overdue until it
	// is due again. TrailFigures computes the same from the trail.
	now := store.Ms(at)
	rows, err := s.DB.Reader().Query(ctx, `SELECT unit_id, COALESCE(region_id, 0),
		count(*),
		SUM(CASE WHEN returned_at > 0 THEN 1 ELSE 0 END),
		SUM(CASE WHEN returned_at = 0 AND (handled_at > 0 OR deadline <= ?) THEN 1 ELSE 0 END),
		SUM(CASE WHEN handled_at > 0 THEN 1 ELSE 0 END),
		SUM(CASE WHEN handled_at > 0 AND handled_at <= deadline AND postponed = FALSE THEN 1 ELSE 0 END),
		SUM(CASE WHEN closed_at > 0 THEN 1 ELSE 0 END),
		SUM(CASE WHEN closed_at > 0 AND postponed = FALSE THEN 1 ELSE 0 END),
		SUM(CASE WHEN closed_at > 0 AND handled_at <= deadline AND postponed = FALSE THEN 1 ELSE 0 END),
		SUM(CASE WHEN reworked_at > 0 THEN 1 ELSE 0 END),
		SUM(CASE WHEN overdue = TRUE AND returned_at = 0 AND (handled_at > 0 OR deadline <= ?) THEN 1 ELSE 0 END),
		SUM(CASE WHEN extensions > 0 AND returned_at = 0 AND (handled_at > 0 OR deadline <= ?) THEN 1 ELSE 0 END),
		SUM(CASE WHEN postponed = TRUE AND returned_at = 0 AND (handled_at > 0 OR deadline <= ?) THEN 1 ELSE 0 END),
		SUM(CASE WHEN revisited_at > 0 THEN 1 ELSE 0 END),
		SUM(CASE WHEN relapsed_at > 0 THEN 1 ELSE 0 END)
		FROM dispatches WHERE dispatched_at >= ? AND dispatched_at < ? AND voided_at = 0
		GROUP BY unit_id, region_id`, now, now, now, now, store.Ms(p.From), store.Ms(p.To))
	if err != nil {
		return nil, fmt.Errorf("unit figures: %w", err)
	}
	defer rows.Close()
	out := map[perfKey]Figures{}
	for rows.Next() {
		var k perfKey
		var f Figures
		if err := rows.Scan(&k.unit, &k.region, &f.Dispatched, &f.Returns, &f.Due, &f.Handled, &f.HandledOnTime, &f.Closed, &f.ClosedCounted, &f.ClosedOnTime,
			&f.Reworks, &f.Overdue, &f.Extended, &f.Postponed, &f.Revisited, &f.Relapses); err != nil {
			return nil, err
		}
		out[k] = f
	}
	return out, rows.Err()
}

// UnitPerformance returns the figures of every unit that had dispatches in p,
// ordered by on-time closure rate, best first.
func (s *Service) UnitPerformance(ctx context.Context, p Period) ([]PerfRow, error) {
	return s.unitPerformance(ctx, p, s.now())
}

// unitPerformance is UnitPerformance as known at now.
func (s *Service) unitPerformance(ctx context.Context, p Period, now time.Time) ([]PerfRow, error) {
	figs, err := s.dispatchFigures(ctx, p, now)
	if err != nil {
		return nil, err
	}
	byUnit := map[int64]*Figures{}
	for k, f := range figs {
		if byUnit[k.unit] == nil {
			byUnit[k.unit] = &Figures{}
		}
		byUnit[k.unit].Add(f)
	}
	rows, err := s.DB.Reader().Query(ctx, `SELECT id, code, name FROM units`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []PerfRow
	for rows.Next() {
		var r PerfRow
		if err := rows.Scan(&r.ID, &r.Code, &r.Name); err != nil {
			return nil, err
		}
		if f := byUnit[r.ID]; f != nil {
			r.Figures, r.Rates = *f, f.Rates()
			out = append(out, r)
		}
	}
	sortRows(out)
	return out, rows.Err()
}

// RegionPerformance returns the figures of every region at level
// ("district" or "street"), each over its whole subtree, with acceptance
// figures from the cases reported in p.
func (s *Service) RegionPerformance(ctx context.Context, p Period, level string) ([]PerfRow, error) {
	return s.regionPerformance(ctx, p, level, s.now())
}

// regionPerformance is RegionPerformance as known at now.
func (s *Service) regionPerformance(ctx context.Context, p Period, level string, now time.Time) ([]PerfRow, error) {
	q := s.DB.Reader()
	regions, err := org.LoadRegions(ctx, q)
	if err != nil {
		return nil, err
	}
	tree := org.NewRegionTree(regions)
	type reg struct {
		row   PerfRow
		level string
	}
	regs := map[int64]*reg{}
	for _, r := range regions {
		regs[r.ID] = &reg{row: PerfRow{ID: r.ID, Code: r.Code, Name: r.Name}, level: r.Level}
	}
	// groupOf maps a region to its ancestor at level (itself included).
	groupOf := func(id int64) *reg {
		if a, ok := tree.At(id, level); ok {
			return regs[a.ID]
		}
		return nil
	}
	figs, err := s.dispatchFigures(ctx, p, now)
	if err != nil {
		return nil, err
	}
	for k, f := range figs {
		if g := groupOf(k.region); g != nil {
			g.row.Figures.Add(f)
		}
	}
	crows, err := q.Query(ctx, `SELECT COALESCE(region_id, 0), count(*),
		SUM(CASE WHEN state = 'merged' THEN 1 ELSE 0 END),
		SUM(CASE WHEN accepted_at > 0 THEN 1 ELSE 0 END),
		SUM(CASE WHEN state = 'rejected' THEN 1 ELSE 0 END)
		FROM cases WHERE reported_at >= ? AND reported_at < ? GROUP BY region_id`, store.Ms(p.From), store.Ms(p.To))
	if err != nil {
		return nil, fmt.Errorf("region acceptance: %w", err)
	}
	defer crows.Close()
	for crows.Next() {
		var rid int64
		var f Figures
		if err := crows.Scan(&rid, &f.Reported, &f.Merged, &f.Accepted, &f.Rejected); err != nil {
			return nil, err
		}
		if g := groupOf(rid); g != nil {
			g.row.Figures.Add(f)
		}
	}
	if err := crows.Err(); err != nil {
		return nil, err
	}
	var out []PerfRow
	for _, r := range regs {
		if r.level != level {
			continue
		}
		r.row.Figures.withCases = true
		r.row.Rates = r.row.Figures.Rates()
		out = append(out, r.row)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out, nil
}

func sortRows(rows []PerfRow) {
	val := func(p *float64) float64 {
		if p == nil {
			return -1
		}
		return *p
	}
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := val(rows[i].Rates.OnTimeClosure), val(rows[j].Rates.OnTimeClosure)
		if a != b {
			return a > b
		}
		return rows[i].Code < rows[j].Code
	})
}
