package workflow

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"chuangwen/internal/store"
)

// The unit figures a second time, from the trail.
//
// dispatchFigures aggregates the dispatches table in SQL. TrailFigures recomputes
// the same figures from the events alone (dispatches, returns, reports,
// verifications, extensions, postponements, voids, overdue marks), replaying
// each case's trail in plain Go and applying the definitions of
// docs/performance.md dispatch by dispatch. The two share nothing but the
// definitions and the case's region (the figures are grouped "by the
// region of the case", which is fixed once the case is accepted), so a
// figure on which they disagree is a bug in one of them, or a row that
// no longer matches its trail. CompareFigures lists such figures; the
// property test in trailfigures_test.go and `chuangwen audit figures` use it.

// FigureSet is a period's figures unit by unit and region by region. A
// region's figures cover its whole subtree (with the acceptance figures of
// the cases reported in the period); a unit or region missing from a map
// has no figures at all.
type FigureSet struct {
	Units   map[int64]Figures
	Regions map[int64]Figures
}

// trailDispatch is one dispatch as the trail tells it; times are unix ms, 0 = not.
type trailDispatch struct {
	unit                                                int64
	dispatched, deadline, handled, returned, closed, rw int64
	revisited, relapsed                                 int64
	extensions                                          int
	postponed, overdue, voided                          bool
}

// figures counts one dispatch by the definitions of docs/performance.md, as
// known at now (unix ms).
func (t *trailDispatch) figures(now int64) Figures {
	one := func(b bool) int {
		if b {
			return 1
		}
		return 0
	}
	returned := t.returned > 0
	handled := t.handled > 0
	due := !returned && (handled || t.deadline <= now)
	onTime := handled && t.handled <= t.deadline && !t.postponed
	closed := t.closed > 0
	return Figures{
		Dispatched:    1,
		Returns:       one(returned),
		Due:           one(due),
		Handled:       one(handled),
		HandledOnTime: one(onTime),
		Closed:        one(closed),
		ClosedCounted: one(closed && !t.postponed),
		ClosedOnTime:  one(closed && onTime),
		Reworks:       one(t.rw > 0),
		Overdue:       one(due && t.overdue),
		Extended:      one(due && t.extensions > 0),
		Postponed:     one(due && t.postponed),
		Revisited:     one(t.revisited > 0),
		Relapses:      one(t.relapsed > 0),
	}
}

// trailCase replays one case's trail.
type trailCase struct {
	caseID, region             int64
	reported                   int64 // the report's time
	accepted, merged, rejected bool
	dispatches                 []*trailDispatch
	current                    *trailDispatch // the dispatch in force
	lead                       int64          // the lead unit in force
	anomalies                  []string
}

// eventFacts are the particulars of an event the figures need.
type eventFacts struct {
	Deadline   time.Time `json:"deadline"`
	LeadUnitID int64     `json:"lead_unit_id"`
	UnitID     int64     `json:"unit_id"`
}

// step applies one event to the case. Events that need a dispatch in force
// and find none are recorded as anomalies (a trail the actions cannot
// have written).
func (c *trailCase) step(seq, at int64, action Action, f eventFacts) {
	cur := c.current
	need := func() bool {
		if cur == nil {
			c.anomalies = append(c.anomalies, fmt.Sprintf("case %d event %d (%s): no dispatch in force", c.caseID, seq, action))
		}
		return cur != nil
	}
	switch action {
	case Report:
		c.reported = at
	case Accept:
		c.accepted = true
	case Reject:
		c.rejected = true
	case Merge:
		c.merged = true
	case Dispatch:
		c.lead = f.LeadUnitID
		c.begin(at, f.Deadline)
	case Return:
		if need() {
			cur.returned = at
		}
		c.current, c.lead = nil, 0
	case ApproveExtension:
		// The approved deadline is the one in force, and an overdue mark
		// against the old one is lifted.
		if need() {
			cur.deadline = store.Ms(f.Deadline)
			cur.extensions++
			cur.overdue = false
		}
	case Postpone:
		if need() {
			cur.postponed = true
		}
	case Resume:
		// A fresh full limit; the postponement stays on the dispatch.
		if need() {
			cur.deadline = store.Ms(f.Deadline)
		}
	case Feedback:
		if need() {
			cur.handled = at
			if at > cur.deadline {
				cur.overdue = true // reported after the deadline
			}
		}
	case VerifyPass:
		if need() {
			cur.closed = at
		}
	case VerifyFail:
		// The failed dispatch ends as reworked; the same lead unit gets a new
		// dispatch with a new deadline.
		if need() {
			cur.rw = at
		}
		if f.UnitID != 0 {
			c.lead = f.UnitID
		}
		c.begin(at, f.Deadline)
	case Reopen:
		c.current, c.lead = nil, 0
	case Revisit:
		// A drawn revisit found the closed dispatch's work holding.
		if need() {
			cur.revisited = at
		}
	case Relapse:
		// A drawn revisit found the problem back: the closed dispatch is
		// revisited and relapsed, and the case waits with no unit.
		if need() {
			cur.revisited, cur.relapsed = at, at
		}
		c.current, c.lead = nil, 0
	case Void:
		// A voided case was never a valid case: all its dispatches leave.
		for _, t := range c.dispatches {
			t.voided = true
		}
		c.current = nil
	case Overdue:
		if need() {
			cur.overdue = true
		}
	}
}

func (c *trailCase) begin(at int64, deadline time.Time) {
	t := &trailDispatch{unit: c.lead, dispatched: at, deadline: store.Ms(deadline)}
	if t.unit == 0 {
		c.anomalies = append(c.anomalies, fmt.Sprintf("case %d: a dispatch begins at %s without a lead unit", c.caseID, store.Time(at).Format(time.RFC3339)))
	}
	c.dispatches = append(c.dispatches, t)
	c.current = t
}

// trailActions are the actions that change a figure; the others (comments,
// warnings, supervision, acknowledgement, extension requests and denials)
// are not read.
var trailActions = []Action{Report, Accept, Reject, Merge, Dispatch, Return, ApproveExtension, Postpone, Resume, Feedback, VerifyPass, VerifyFail, Reopen, Revisit, Relapse, Void, Overdue}

// TrailFigures recomputes the figures of p from the trail, unit by unit
// and region by region, as known now.
func (s *Service) TrailFigures(ctx context.Context, p Period) (FigureSet, error) {
	set, _, err := s.trailFigures(ctx, p, s.now())
	return set, err
}

// TrailFiguresAt recomputes the figures of p from the trail as they were
// known at the time at: events after it are not read. With at the time
// the SQL figures were read, the two agree (TestFiguresAgreeWithTrail);
// a published bulletin is verified this way.
func (s *Service) TrailFiguresAt(ctx context.Context, p Period, at time.Time) (FigureSet, error) {
	set, _, err := s.trailFigures(ctx, p, at)
	return set, err
}

// UnitPerformanceAt is UnitPerformance as computed at the time at, which
// must be now (the figures read the dispatches' current state; for a past
// time use TrailFiguresAt).
func (s *Service) UnitPerformanceAt(ctx context.Context, p Period, at time.Time) ([]PerfRow, error) {
	return s.unitPerformance(ctx, p, at)
}

// trailFigures is TrailFigures as known at now; it also returns the
// anomalies found on the way (events that need a dispatch when none is in
// force, dispatches without a unit).
func (s *Service) trailFigures(ctx context.Context, p Period, now time.Time) (FigureSet, []string, error) {
	set := FigureSet{Units: map[int64]Figures{}, Regions: map[int64]Figures{}}
	q := s.DB.Reader()
	ancestors, err := regionAncestors(ctx, q)
	if err != nil {
		return set, nil, err
	}
	from, to, asOf := store.Ms(p.From), store.Ms(p.To), store.Ms(now)
	acts := make([]any, len(trailActions))
	for i, a := range trailActions {
		acts[i] = string(a)
	}
	// Every case reported or dispatched (or sent to rework) in the period,
	// with its whole trail: what happened before the period (the lead unit
	// of a rework) and after it (a late report, a void) counts too.
	// Events after asOf are not read, so that the figures are those known
	// at that time (a published bulletin's) whatever happened since.
	args := append(append([]any{from, to, asOf}, acts...), asOf)
	rows, err := q.Query(ctx, `SELECT e.case_id, COALESCE(c.region_id, 0), e.seq, e.at, e.action, e.data
		FROM events e JOIN cases c ON c.id = e.case_id
		WHERE e.case_id IN (SELECT case_id FROM events WHERE at >= ? AND at < ? AND at <= ? AND action IN ('report', 'dispatch', 'verify_fail'))
		AND e.action IN `+store.In(len(trailActions))+` AND e.at <= ?
		ORDER BY e.case_id, e.seq`, args...)
	if err != nil {
		return set, nil, fmt.Errorf("trail figures: %w", err)
	}
	defer rows.Close()
	var anomalies []string
	var c *trailCase
	flush := func() {
		if c == nil {
			return
		}
		anomalies = append(anomalies, c.anomalies...)
		c.count(&set, ancestors, from, to, asOf)
	}
	for rows.Next() {
		var caseID, region, seq, at int64
		var action, data string
		if err := rows.Scan(&caseID, &region, &seq, &at, &action, &data); err != nil {
			return set, nil, err
		}
		if c == nil || c.caseID != caseID {
			flush()
			c = &trailCase{caseID: caseID, region: region}
		}
		var f eventFacts
		if data != "" {
			if err := json.Unmarshal([]byte(data), &f); err != nil {
				return set, nil, fmt.Errorf("trail figures: event %d: %w", seq, err)
			}
		}
		c.step(seq, at, Action(action), f)
	}
	if err := rows.Err(); err != nil {
		return set, nil, err
	}
	flush()
	return set, anomalies, nil
}

// count adds the case's share of the period's figures to set: its dispatches
// dispatched in [from, to) unless voided, to their unit and to the case's
// region and every region above it; its report, if made in [from, to), to
// the regions' acceptance figures.
func (c *trailCase) count(set *FigureSet, ancestors map[int64][]int64, from, to, now int64) {
	addRegions := func(g Figures) {
		for _, r := range ancestors[c.region] {
			f := set.Regions[r]
			f.Add(g)
			f.withCases = true
			set.Regions[r] = f
		}
	}
	for _, t := range c.dispatches {
		if t.voided || t.dispatched < from || t.dispatched >= to {
			continue
		}
		g := t.figures(now)
		u := set.Units[t.unit]
		u.Add(g)
		set.Units[t.unit] = u
		addRegions(g)
	}
	if c.reported != 0 && c.reported >= from && c.reported < to {
		one := func(b bool) int {
			if b {
				return 1
			}
			return 0
		}
		addRegions(Figures{Reported: 1, Merged: one(c.merged), Accepted: one(c.accepted), Rejected: one(c.rejected)})
	}
}

// regionAncestors maps every region to itself and the regions above it,
// following parent_id (the stored path is what RegionPerformance reads).
func regionAncestors(ctx context.Context, q store.Queryer) (map[int64][]int64, error) {
	rows, err := q.Query(ctx, `SELECT id, COALESCE(parent_id, 0) FROM regions`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	parent := map[int64]int64{}
	for rows.Next() {
		var id, p int64
		if err := rows.Scan(&id, &p); err != nil {
			return nil, err
		}
		parent[id] = p
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := map[int64][]int64{}
	for id := range parent {
		seen := map[int64]bool{}
		for r := id; r != 0 && !seen[r]; r = parent[r] {
			if _, ok := parent[r]; !ok {
				break
			}
			seen[r] = true
			out[id] = append(out[id], r)
		}
	}
	return out, nil
}

// StoredFigures is the same set as the published figures have it:
// UnitPerformance, and RegionPerformance at every level of region.
func (s *Service) StoredFigures(ctx context.Context, p Period) (FigureSet, error) {
	return s.storedFigures(ctx, p, s.now())
}

func (s *Service) storedFigures(ctx context.Context, p Period, now time.Time) (FigureSet, error) {
	set := FigureSet{Units: map[int64]Figures{}, Regions: map[int64]Figures{}}
	units, err := s.unitPerformance(ctx, p, now)
	if err != nil {
		return set, err
	}
	for _, r := range units {
		set.Units[r.ID] = r.Figures
	}
	rows, err := s.DB.Reader().Query(ctx, `SELECT DISTINCT level FROM regions`)
	if err != nil {
		return set, err
	}
	var levels []string
	for rows.Next() {
		var l string
		if err := rows.Scan(&l); err != nil {
			rows.Close()
			return set, err
		}
		levels = append(levels, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return set, err
	}
	for _, l := range levels {
		regions, err := s.regionPerformance(ctx, p, l, now)
		if err != nil {
			return set, err
		}
		for _, r := range regions {
			if r.Figures.counts() != (Figures{}).counts() {
				set.Regions[r.ID] = r.Figures
			}
		}
	}
	return set, nil
}

// FigureNames names the counts of Figures in the order counts lists them
// (the JSON names).
var FigureNames = [...]string{"dispatched", "returns", "due", "handled", "handled_on_time", "closed", "closed_counted", "closed_on_time",
	"reworks", "overdue", "extended", "postponed", "revisited", "relapses", "reported", "merged", "accepted", "rejected"}

// counts lists every count of f in the order of FigureNames.
func (f Figures) counts() [len(FigureNames)]int {
	return [...]int{f.Dispatched, f.Returns, f.Due, f.Handled, f.HandledOnTime, f.Closed, f.ClosedCounted, f.ClosedOnTime,
		f.Reworks, f.Overdue, f.Extended, f.Postponed, f.Revisited, f.Relapses, f.Reported, f.Merged, f.Accepted, f.Rejected}
}

// FigureDiff is one figure of one unit or region on which the stored
// figures and the trail disagree.
type FigureDiff struct {
	Kind   string `json:"kind"` // "unit" or "region"
	ID     int64  `json:"id"`
	Code   string `json:"code"`
	Name   string `json:"name"`
	Figure string `json:"figure"` // a name of FigureNames
	Stored int    `json:"stored"`
	Trail  int    `json:"trail"`
}

// FigureCheck is the outcome of CompareFigures.
type FigureCheck struct {
	// Units and Regions count those with figures in either computation.
	Units, Regions int
	Diffs          []FigureDiff
	// Anomalies are trail events the replay could not place (an event
	// that needs a dispatch in force when none is); none can be written by
	// the actions, so any is worth a look even when the figures agree.
	Anomalies []string
}

// CompareFigures computes p's figures both ways, as known at one instant,
// and lists every figure on which they differ, units first (by code), then
// regions (by code). On a database in use an action can fall between the
// two reads, so a difference is checked once more before it is reported.
func (s *Service) CompareFigures(ctx context.Context, p Period) (FigureCheck, error) {
	var check FigureCheck
	var err error
	for range 2 {
		if check, err = s.compareFigures(ctx, p, s.now()); err != nil || len(check.Diffs) == 0 {
			break
		}
	}
	return check, err
}

func (s *Service) compareFigures(ctx context.Context, p Period, now time.Time) (FigureCheck, error) {
	var check FigureCheck
	stored, err := s.storedFigures(ctx, p, now)
	if err != nil {
		return check, err
	}
	trail, anomalies, err := s.trailFigures(ctx, p, now)
	if err != nil {
		return check, err
	}
	check.Anomalies = anomalies
	type named struct{ code, name string }
	load := func(table string) (map[int64]named, error) {
		rows, err := s.DB.Reader().Query(ctx, `SELECT id, code, name FROM `+table)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		out := map[int64]named{}
		for rows.Next() {
			var id int64
			var n named
			if err := rows.Scan(&id, &n.code, &n.name); err != nil {
				return nil, err
			}
			out[id] = n
		}
		return out, rows.Err()
	}
	for _, kind := range []string{"unit", "region"} {
		a, b := stored.Units, trail.Units
		if kind == "region" {
			a, b = stored.Regions, trail.Regions
		}
		names, err := load(kind + "s")
		if err != nil {
			return check, err
		}
		ids := map[int64]bool{}
		for id := range a {
			ids[id] = true
		}
		for id := range b {
			ids[id] = true
		}
		if kind == "unit" {
			check.Units = len(ids)
		} else {
			check.Regions = len(ids)
		}
		var diffs []FigureDiff
		for id := range ids {
			x, y := a[id].counts(), b[id].counts()
			for i := range x {
				if x[i] != y[i] {
					n := names[id]
					diffs = append(diffs, FigureDiff{Kind: kind, ID: id, Code: n.code, Name: n.name, Figure: FigureNames[i], Stored: x[i], Trail: y[i]})
				}
			}
		}
		order := map[string]int{}
		for i, n := range FigureNames {
			order[n] = i
		}
		sort.Slice(diffs, func(i, j int) bool {
			if diffs[i].Code != diffs[j].Code {
				return diffs[i].Code < diffs[j].Code
			}
			if diffs[i].ID != diffs[j].ID {
				return diffs[i].ID < diffs[j].ID
			}
			return order[diffs[i].Figure] < order[diffs[j].Figure]
		})
		check.Diffs = append(check.Diffs, diffs...)
	}
	return check, nil
}
