package report

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"chuangwen/internal/apperr"
	"chuangwen/internal/assess"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
	"chuangwen/internal/workflow"
)

// The leader's one screen (领导驾驶舱): the counts that matter today, the
// grid cells by open and overdue cases, the districts' civilization
// index, the units with the most overdue work, twelve weeks of reported
// and closed cases and the latest mock inspection. Every figure is in
// the reader's scope except the index and the latest round, the city's.
//
// It is read often (the page refreshes itself) over a large table, so
// what cannot change is kept: finished weeks' counts for a few minutes,
// the index and the round's score for as long as the closed rounds are
// the same (a closed round is frozen). What changes by the minute —
// counts, cells, units, the current week — is read each time, each from
// an index in its own order (migration 0013): the counts of open,
// overdue and to-verify cases come from the same pass as the cells, and
// agree with the queues' counters (already overdue: dispatched or in
// progress past the deadline; to verify: verifying).

// LeaderView is the screen's data, as GET /api/v1/leader gives it.
type LeaderView struct {
	At        string           `json:"at"` // when read, in the city's zone
	Counts    LeaderCounts     `json:"counts"`
	Cells     []CellLoad       `json:"cells"`
	Districts []LeaderDistrict `json:"districts"`
	Quarter   string           `json:"quarter"` // of the index's rounds; "" when none closed
	Units     []UnitLoad       `json:"units"`
	Weeks     []WeekCount      `json:"weeks"`
	Round     *LeaderRound     `json:"round"`  // the latest closed mock inspection
	Listed    []LeaderCase     `json:"listed"` // listed cases (挂牌督办), the latest first
}

// LeaderCase is a case as the screen lists it: what, where, who, by when.
type LeaderCase struct {
	ID       int64  `json:"id"`
	No       string `json:"no"`
	Category string `json:"category"`
	Region   string `json:"region"`
	Unit     string `json:"unit"`
	Deadline string `json:"deadline,omitempty"` // in the city's zone
	Warning  int    `json:"warning"`
}

// LeaderListed is how many listed cases the screen shows.
const LeaderListed = 8

// LeaderCounts are the headline counts of open work.
type LeaderCounts struct {
	Open       int `json:"open"`        // not yet closed, rejected, merged or voided
	Overdue    int `json:"overdue"`     // 已超期
	Listed     int `json:"listed"`      // 挂牌督办, open
	ToVerify   int `json:"to_verify"`   // 待核查
	Red        int `json:"red"`         // red warnings, open
	Today      int `json:"today"`       // reported since midnight
	ClosedWeek int `json:"closed_week"` // closed this ISO week
}

// CellLoad is a grid cell's open and overdue cases.
type CellLoad struct {
	ID      int64  `json:"id"`
	Code    string `json:"code"`
	Open    int    `json:"open"`
	Overdue int    `json:"overdue"`
}

// LeaderDistrict is a district's place in the index ranking.
type LeaderDistrict struct {
	RegionID int64   `json:"region_id"`
	Code     string  `json:"code"`
	Name     string  `json:"name"`
	Index    Points2 `json:"index"`
	Rank     int     `json:"rank"`
}

// UnitLoad is a unit's cases to handle and overdue.
type UnitLoad struct {
	ID       int64  `json:"id"`
	Code     string `json:"code"`
	Name     string `json:"name"`
	ToHandle int    `json:"to_handle"`
	Overdue  int    `json:"overdue"`
}

// WeekCount is one ISO week: cases reported and closed in it.
type WeekCount struct {
	Week     string `json:"week"`
	From     string `json:"from"` // Monday
	To       string `json:"to"`   // Sunday
	Reported int    `json:"reported"`
	Closed   int    `json:"closed"`
}

// LeaderRound is a mock inspection's city result.
type LeaderRound struct {
	Code  string            `json:"code"`
	Name  string            `json:"name"`
	Date  string            `json:"date"`
	Score assess.JSONPoints `json:"score"`
	Max   assess.JSONPoints `json:"max"`
	Rate  assess.JSONRate   `json:"rate"`
}

// LeaderWeeks is how many weeks the trend shows.
const LeaderWeeks = 12

// weekTTL is how long a finished week's counts are kept.
const weekTTL = 5 * time.Minute

// leaderCache keeps what the screen reads again and again.
type leaderCache struct {
	mu        sync.Mutex
	weeks     map[string]cachedWeek // scope key + week start
	index     map[string]cachedIndex
	round     map[string]*LeaderRound
	cellCodes map[int64]string
	cellIDs   []int64
	cellsAt   time.Time
	units     map[int64]unitName
	unitsAt   time.Time
}

type cachedWeek struct {
	reported, closed int
	at               time.Time
}

// cachedIndex is the districts' index as computed at at.
type cachedIndex struct {
	districts []LeaderDistrict
	at        time.Time
}

func (s *Service) cache() *leaderCache {
	s.leaderOnce.Do(func() {
		s.leader = &leaderCache{weeks: map[string]cachedWeek{}, index: map[string]cachedIndex{}, round: map[string]*LeaderRound{}}
	})
	return s.leader
}

// openCaseStates are the states of a case not yet finished.
var openCaseStates = []workflow.State{workflow.Reported, workflow.Accepted, workflow.Dispatched, workflow.InProgress, workflow.Postponed, workflow.Verifying}

func stateLiterals(states []workflow.State) string {
	q := make([]string, len(states))
	for i, st := range states {
		q[i] = "'" + string(st) + "'"
	}
	return strings.Join(q, ",")
}

// Leader reads the screen for actor: the office's roles, city-wide or
// over a district (its cases only; the index ranking stays the city's).
func (s *Service) Leader(ctx context.Context, actor org.Actor) (LeaderView, error) {
	switch {
	case actor.Role != org.RoleAdmin && actor.Role != org.RoleAcceptor && actor.Role != org.RoleLeader && actor.Role != org.RoleSystem,
		actor.Scope != org.ScopeCity && actor.Scope != org.ScopeRegion:
		return LeaderView{}, apperr.New(apperr.Forbidden, "forbidden")
	}
	now, loc := s.now(), s.loc()
	v := LeaderView{At: now.In(loc).Format(time.RFC3339), Cells: []CellLoad{}, Districts: []LeaderDistrict{}, Units: []UnitLoad{}, Listed: []LeaderCase{}}
	scope, scopeArgs := actor.CaseScope(s.DB.Dialect)
	// Three independent parts on connections of their own: the open
	// cases' pass (the longest), the rest of the live figures, and what
	// is mostly cached. Each writes its own fields of v.
	var wg sync.WaitGroup
	var errs [3]error
	wg.Add(2)
	go func() {
		defer wg.Done()
		errs[0] = s.leaderOpen(ctx, &v, scope, scopeArgs)
	}()
	go func() {
		defer wg.Done()
		errs[1] = s.leaderLive(ctx, actor, &v, scope, scopeArgs, now)
	}()
	var rounds []assess.Round
	if rounds, errs[2] = s.Assess.Rounds(ctx, org.System); errs[2] == nil {
		if v.Quarter, v.Districts, errs[2] = s.leaderIndex(ctx, rounds, now); errs[2] == nil {
			v.Round, errs[2] = s.latestRound(ctx, rounds)
		}
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return LeaderView{}, err
		}
	}
	v.Counts.ClosedWeek = v.Weeks[len(v.Weeks)-1].Closed
	return v, nil
}

// leaderOpen reads the open cases in cell order (cases_open_cell), a
// row per cell plus one for the cases without a cell: the cells, and
// the counts of open, overdue, to-verify, listed and red cases. On
// SQLite the cells are read in two halves at once (by cell id), since
// this pass is the screen's longest; PostgreSQL runs it on parallel
// workers of its own.
func (s *Service) leaderOpen(ctx context.Context, v *LeaderView, scope string, args []any) error {
	codes, ids, err := s.cellCodes(ctx)
	if err != nil {
		return err
	}
	parts := []string{"1=1"} // no cells known yet (a grid imported within the minute): one pass over all
	var partArgs [][]any
	if len(ids) > 0 && s.DB.Dialect == store.SQLite { // PostgreSQL splits a pass over its own workers
		mid := ids[len(ids)/2]
		parts = []string{"(c.grid_cell_id IS NULL OR c.grid_cell_id < ?)", "c.grid_cell_id >= ?"}
		partArgs = [][]any{{mid}, {mid}}
	} else {
		partArgs = [][]any{nil}
	}
	type part struct {
		counts LeaderCounts
		cells  []CellLoad
		err    error
	}
	out := make([]part, len(parts))
	var wg sync.WaitGroup
	for i := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := &out[i]
			rows, err := s.DB.Standby(ctx).Query(ctx, `SELECT c.grid_cell_id, count(*),
				count(*) FILTER (WHERE c.overdue = TRUE AND (c.state = 'dispatched' OR c.state = 'in_progress')),
				count(*) FILTER (WHERE c.state = 'verifying'),
				count(*) FILTER (WHERE c.supervised = TRUE),
				count(*) FILTER (WHERE c.warning >= 2)
				FROM cases c WHERE c.state IN (`+stateLiterals(openCaseStates)+`) AND `+parts[i]+` AND `+scope+`
				GROUP BY c.grid_cell_id`, append(append([]any{}, partArgs[i]...), args...)...)
			if err != nil {
				p.err = fmt.Errorf("cells: %w", err)
				return
			}
			defer rows.Close()
			for rows.Next() {
				var id *int64
				var n, overdue, verifying, listed, red int
				if p.err = rows.Scan(&id, &n, &overdue, &verifying, &listed, &red); p.err != nil {
					return
				}
				p.counts.Open += n
				p.counts.Overdue += overdue
				p.counts.ToVerify += verifying
				p.counts.Listed += listed
				p.counts.Red += red
				if id != nil {
					p.cells = append(p.cells, CellLoad{ID: *id, Code: codes[*id], Open: n, Overdue: overdue})
				}
			}
			p.err = rows.Err()
		}()
	}
	wg.Wait()
	for _, p := range out {
		if p.err != nil {
			return p.err
		}
		v.Counts.Open += p.counts.Open
		v.Counts.Overdue += p.counts.Overdue
		v.Counts.ToVerify += p.counts.ToVerify
		v.Counts.Listed += p.counts.Listed
		v.Counts.Red += p.counts.Red
		v.Cells = append(v.Cells, p.cells...)
	}
	return nil
}

// leaderLive reads the other live figures: today's reports, the latest
// listed cases, the units and the weeks.
func (s *Service) leaderLive(ctx context.Context, actor org.Actor, v *LeaderView, scope string, args []any, now time.Time) error {
	loc := s.loc()
	y, m, d := now.In(loc).Date()
	midnight := time.Date(y, m, d, 0, 0, 0, 0, loc)
	if err := s.DB.Standby(ctx).QueryRow(ctx, `SELECT count(*) FROM cases c WHERE c.reported_at >= ? AND `+scope, append([]any{store.Ms(midnight)}, args...)...).Scan(&v.Counts.Today); err != nil {
		return fmt.Errorf("reported today: %w", err)
	}
	page, err := s.Flow.List(ctx, actor, workflow.Filter{Queue: workflow.QueueSupervised, Limit: LeaderListed})
	if err != nil {
		return err
	}
	for _, c := range page.Cases {
		lc := LeaderCase{ID: c.ID, No: c.No, Category: c.CategoryName, Region: c.RegionName, Unit: c.LeadUnitName, Warning: c.Warning}
		if !c.Deadline.IsZero() {
			lc.Deadline = c.Deadline.In(loc).Format("2006-01-02 15:04")
		}
		v.Listed = append(v.Listed, lc)
	}
	if v.Units, err = s.unitLoads(ctx, scope, args); err != nil {
		return err
	}
	v.Weeks, err = s.leaderWeeks(ctx, actor, scope, args, now)
	return err
}

// cellCodes maps grid cell ids to codes, and lists the ids in order;
// read again after a minute (an import adds cells).
func (s *Service) cellCodes(ctx context.Context) (map[int64]string, []int64, error) {
	c := s.cache()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cellCodes != nil && s.now().Sub(c.cellsAt) < time.Minute && !s.now().Before(c.cellsAt) {
		return c.cellCodes, c.cellIDs, nil
	}
	rows, err := s.DB.Reader().Query(ctx, `SELECT id, code FROM grid_cells ORDER BY id`)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	m := map[int64]string{}
	var ids []int64
	for rows.Next() {
		var id int64
		var code string
		if err := rows.Scan(&id, &code); err != nil {
			return nil, nil, err
		}
		m[id] = code
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	c.cellCodes, c.cellIDs, c.cellsAt = m, ids, s.now()
	return m, ids, nil
}

func (s *Service) unitLoads(ctx context.Context, scope string, args []any) ([]UnitLoad, error) {
	c := s.cache()
	c.mu.Lock()
	if c.units == nil || s.now().Sub(c.unitsAt) > time.Minute {
		units, err := s.units(ctx)
		if err != nil {
			c.mu.Unlock()
			return nil, err
		}
		c.units, c.unitsAt = units, s.now()
	}
	names := c.units
	c.mu.Unlock()
	// One pass over cases_open_unit, in unit order.
	rows, err := s.DB.Standby(ctx).Query(ctx, `SELECT c.lead_unit_id, c.overdue, count(*) FROM cases c
		WHERE c.state IN ('dispatched','in_progress') AND `+scope+` GROUP BY c.lead_unit_id, c.overdue`, args...)
	if err != nil {
		return nil, fmt.Errorf("units: %w", err)
	}
	defer rows.Close()
	by := map[int64]*UnitLoad{}
	for rows.Next() {
		var id *int64
		var overdue bool
		var n int
		if err := rows.Scan(&id, &overdue, &n); err != nil {
			return nil, err
		}
		if id == nil {
			continue
		}
		u := by[*id]
		if u == nil {
			u = &UnitLoad{ID: *id, Code: names[*id].code, Name: names[*id].name}
			by[*id] = u
		}
		u.ToHandle += n
		if overdue {
			u.Overdue += n
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]UnitLoad, 0, len(by))
	for _, u := range by {
		out = append(out, *u)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Overdue != b.Overdue {
			return a.Overdue > b.Overdue
		}
		if a.ToHandle != b.ToHandle {
			return a.ToHandle > b.ToHandle
		}
		return a.Code < b.Code
	})
	return out, nil
}

// leaderWeeks counts the last LeaderWeeks ISO weeks; finished weeks come
// from the cache while fresh.
func (s *Service) leaderWeeks(ctx context.Context, actor org.Actor, scope string, args []any, now time.Time) ([]WeekCount, error) {
	loc := s.loc()
	key := string(actor.Scope) + "/" + actor.RegionPath + "/" + strconv.FormatInt(actor.UnitID, 10)
	start := WeekOf(now, loc).Start(loc).AddDate(0, 0, -7*(LeaderWeeks-1))
	out := make([]WeekCount, LeaderWeeks)
	c := s.cache()
	for i := range out {
		from := start.AddDate(0, 0, 7*i)
		to := from.AddDate(0, 0, 7)
		wk := WeekOf(from, loc)
		out[i] = WeekCount{Week: wk.String(), From: from.Format("2006-01-02"), To: to.AddDate(0, 0, -1).Format("2006-01-02")}
		ck := key + "/" + strconv.FormatInt(from.Unix(), 10)
		finished := !to.After(now)
		c.mu.Lock()
		cw, ok := c.weeks[ck]
		c.mu.Unlock()
		if finished && ok && now.Sub(cw.at) < weekTTL && !now.Before(cw.at) {
			out[i].Reported, out[i].Closed = cw.reported, cw.closed
			continue
		}
		q := s.DB.Standby(ctx)
		a := append([]any{store.Ms(from), store.Ms(to)}, args...)
		if err := q.QueryRow(ctx, `SELECT count(*) FROM cases c WHERE c.reported_at >= ? AND c.reported_at < ? AND `+scope, a...).Scan(&out[i].Reported); err != nil {
			return nil, fmt.Errorf("week reported: %w", err)
		}
		if err := q.QueryRow(ctx, `SELECT count(*) FROM cases c WHERE c.closed_at >= ? AND c.closed_at < ? AND c.state = 'closed' AND `+scope, a...).Scan(&out[i].Closed); err != nil {
			return nil, fmt.Errorf("week closed: %w", err)
		}
		if finished {
			c.mu.Lock()
			c.weeks[ck] = cachedWeek{reported: out[i].Reported, closed: out[i].Closed, at: now}
			c.mu.Unlock()
		}
	}
	return out, nil
}

// leaderIndex is the index over the latest quarter with closed mock
// inspections (this quarter, else the one before), kept for as long as
// the closed rounds and the weights are the same; when the weights count
// volunteer registrations, which change without a round, for weekTTL at
// most.
func (s *Service) leaderIndex(ctx context.Context, all []assess.Round, now time.Time) (string, []LeaderDistrict, error) {
	t := now.In(s.loc())
	q := Quarter{t.Year(), (int(t.Month())-1)/3 + 1}
	rounds := closedIn(all, q)
	if len(rounds) == 0 {
		q = q.Prev()
		rounds = closedIn(all, q)
	}
	if len(rounds) == 0 {
		return "", []LeaderDistrict{}, nil
	}
	st, err := s.Settings(ctx)
	if err != nil {
		return "", nil, err
	}
	key := strings.Join(rounds, ",") + "|" + st.Field + "|" + st.Survey + "|" + st.Documents + "|" + st.Volunteers + "|" + st.VolunteerTarget
	c := s.cache()
	c.mu.Lock()
	cached, ok := c.index[key]
	c.mu.Unlock()
	volunteers := st.Volunteers != "" && st.Volunteers != "0"
	if ok && (!volunteers || now.Sub(cached.at) < weekTTL) {
		return q.String(), cached.districts, nil
	}
	idx, err := s.index(ctx, rounds, st, false, q)
	if err != nil {
		return "", nil, err
	}
	type region struct {
		id   int64
		name string
	}
	regions := map[string]region{}
	rows, err := s.DB.Reader().Query(ctx, `SELECT id, code, name FROM regions WHERE level = 'district'`)
	if err != nil {
		return "", nil, err
	}
	for rows.Next() {
		var r region
		var code string
		if err := rows.Scan(&r.id, &code, &r.name); err != nil {
			rows.Close()
			return "", nil, err
		}
		regions[code] = r
	}
	rows.Close()
	out := make([]LeaderDistrict, 0, len(idx))
	for _, d := range idx {
		r := regions[d.District]
		out = append(out, LeaderDistrict{RegionID: r.id, Code: d.District, Name: r.name, Index: Points2{Rat: d.Index}, Rank: d.Rank})
	}
	c.mu.Lock()
	c.index[key] = cachedIndex{districts: out, at: now}
	c.mu.Unlock()
	return q.String(), out, nil
}

// latestRound is the latest closed mock inspection's city score.
func (s *Service) latestRound(ctx context.Context, rounds []assess.Round) (*LeaderRound, error) {
	rd := latestClosed(rounds)
	if rd == nil {
		return nil, nil
	}
	c := s.cache()
	c.mu.Lock()
	r, ok := c.round[rd.Code]
	c.mu.Unlock()
	if ok {
		return r, nil
	}
	tot, err := s.Assess.RoundTotals(ctx, org.System, rd.Code)
	if err != nil {
		return nil, err
	}
	r = &LeaderRound{Code: rd.Code, Name: rd.Name, Date: rd.Date, Score: assess.JSONPoints{Rat: tot.Score},
		Max: assess.JSONPoints{Rat: tot.Max}, Rate: assess.JSONRate{Rat: tot.Rate}}
	c.mu.Lock()
	c.round[rd.Code] = r
	c.mu.Unlock()
	return r, nil
}
