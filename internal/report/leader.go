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
// the reader's scope except the index, which is the city's ranking.
//
// It is read often (the page refreshes itself) over a large table, so
// what cannot change is kept: finished weeks' counts for a few minutes,
// the index and the round's score for as long as the closed rounds are
// the same (a closed round is frozen). What changes by the minute —
// counts, cells, units, the current week — is read each time through
// covering indexes.

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
	index     map[string][]LeaderDistrict
	round     map[string]*LeaderRound
	cellCodes map[int64]string
	cellsAt   time.Time
	units     map[int64]unitName
	unitsAt   time.Time
}

type cachedWeek struct {
	reported, closed int
	at               time.Time
}

func (s *Service) cache() *leaderCache {
	s.leaderOnce.Do(func() {
		s.leader = &leaderCache{weeks: map[string]cachedWeek{}, index: map[string][]LeaderDistrict{}, round: map[string]*LeaderRound{}}
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
	q := s.DB.Reader()

	// Counts: the queues' own counters, then red warnings, today's and
	// this week's.
	queues, states, err := s.Flow.Dashboard(ctx, actor)
	if err != nil {
		return v, err
	}
	for _, st := range openCaseStates {
		v.Counts.Open += states[string(st)]
	}
	v.Counts.Overdue, v.Counts.Listed, v.Counts.ToVerify = queues[workflow.QueueOverdue], queues[workflow.QueueSupervised], queues[workflow.QueueToVerify]
	open := stateLiterals(openCaseStates)
	if err := q.QueryRow(ctx, `SELECT count(*) FROM cases c WHERE c.warning >= 2 AND c.state IN (`+open+`) AND `+scope, scopeArgs...).Scan(&v.Counts.Red); err != nil {
		return v, fmt.Errorf("red warnings: %w", err)
	}
	y, m, d := now.In(loc).Date()
	midnight := time.Date(y, m, d, 0, 0, 0, 0, loc)
	if err := q.QueryRow(ctx, `SELECT count(*) FROM cases c WHERE c.reported_at >= ? AND `+scope, append([]any{store.Ms(midnight)}, scopeArgs...)...).Scan(&v.Counts.Today); err != nil {
		return v, fmt.Errorf("reported today: %w", err)
	}

	// The latest listed cases.
	page, err := s.Flow.List(ctx, actor, workflow.Filter{Queue: workflow.QueueSupervised, Limit: LeaderListed})
	if err != nil {
		return v, err
	}
	for _, c := range page.Cases {
		lc := LeaderCase{ID: c.ID, No: c.No, Category: c.CategoryName, Region: c.RegionName, Unit: c.LeadUnitName, Warning: c.Warning}
		if !c.Deadline.IsZero() {
			lc.Deadline = c.Deadline.In(loc).Format("2006-01-02 15:04")
		}
		v.Listed = append(v.Listed, lc)
	}

	// Cells.
	codes, err := s.cellCodes(ctx)
	if err != nil {
		return v, err
	}
	rows, err := q.Query(ctx, `SELECT c.grid_cell_id, c.state, c.overdue, count(*) FROM cases c
		WHERE c.state IN (`+open+`) AND c.grid_cell_id IS NOT NULL AND `+scope+` GROUP BY c.grid_cell_id, c.state, c.overdue`, scopeArgs...)
	if err != nil {
		return v, fmt.Errorf("cells: %w", err)
	}
	cells := map[int64]*CellLoad{}
	for rows.Next() {
		var id int64
		var st string
		var overdue bool
		var n int
		if err := rows.Scan(&id, &st, &overdue, &n); err != nil {
			rows.Close()
			return v, err
		}
		c := cells[id]
		if c == nil {
			c = &CellLoad{ID: id, Code: codes[id]}
			cells[id] = c
		}
		c.Open += n
		if overdue && (st == string(workflow.Dispatched) || st == string(workflow.InProgress)) {
			c.Overdue += n
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return v, err
	}
	for _, c := range cells {
		v.Cells = append(v.Cells, *c)
	}
	sort.Slice(v.Cells, func(i, j int) bool { return v.Cells[i].ID < v.Cells[j].ID })

	// Units: cases to handle and overdue, the most overdue first.
	if v.Units, err = s.unitLoads(ctx, scope, scopeArgs); err != nil {
		return v, err
	}

	// Weeks, the current one last.
	if v.Weeks, err = s.leaderWeeks(ctx, actor, scope, scopeArgs, now); err != nil {
		return v, err
	}
	v.Counts.ClosedWeek = v.Weeks[len(v.Weeks)-1].Closed

	// The index and the latest round.
	if v.Quarter, v.Districts, err = s.leaderIndex(ctx, now); err != nil {
		return v, err
	}
	if v.Round, err = s.latestRound(ctx); err != nil {
		return v, err
	}
	return v, nil
}

// cellCodes maps grid cell ids to codes, read again after a minute (an
// import adds cells).
func (s *Service) cellCodes(ctx context.Context) (map[int64]string, error) {
	c := s.cache()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cellCodes != nil && s.now().Sub(c.cellsAt) < time.Minute {
		return c.cellCodes, nil
	}
	rows, err := s.DB.Reader().Query(ctx, `SELECT id, code FROM grid_cells`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	m := map[int64]string{}
	for rows.Next() {
		var id int64
		var code string
		if err := rows.Scan(&id, &code); err != nil {
			return nil, err
		}
		m[id] = code
	}
	c.cellCodes, c.cellsAt = m, s.now()
	return m, rows.Err()
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
	rows, err := s.DB.Reader().Query(ctx, `SELECT c.lead_unit_id, c.overdue, count(*) FROM cases c
		WHERE c.state IN ('dispatched','in_progress') AND c.lead_unit_id IS NOT NULL AND `+scope+` GROUP BY c.lead_unit_id, c.overdue`, args...)
	if err != nil {
		return nil, fmt.Errorf("units: %w", err)
	}
	defer rows.Close()
	by := map[int64]*UnitLoad{}
	for rows.Next() {
		var id int64
		var overdue bool
		var n int
		if err := rows.Scan(&id, &overdue, &n); err != nil {
			return nil, err
		}
		u := by[id]
		if u == nil {
			u = &UnitLoad{ID: id, Code: names[id].code, Name: names[id].name}
			by[id] = u
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
		q := s.DB.Reader()
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
// the closed rounds and the weights are the same.
func (s *Service) leaderIndex(ctx context.Context, now time.Time) (string, []LeaderDistrict, error) {
	t := now.In(s.loc())
	q := Quarter{t.Year(), (int(t.Month())-1)/3 + 1}
	var rounds []string
	var err error
	for range 2 {
		if rounds, err = s.closedRounds(ctx, q); err != nil {
			return "", nil, err
		}
		if len(rounds) > 0 {
			break
		}
		q = q.Prev()
	}
	if len(rounds) == 0 {
		return "", []LeaderDistrict{}, nil
	}
	st, err := s.Settings(ctx)
	if err != nil {
		return "", nil, err
	}
	key := strings.Join(rounds, ",") + "|" + st.Field + "|" + st.Survey + "|" + st.Documents
	c := s.cache()
	c.mu.Lock()
	cached, ok := c.index[key]
	c.mu.Unlock()
	if ok {
		return q.String(), cached, nil
	}
	idx, err := s.index(ctx, rounds, st)
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
	c.index[key] = out
	c.mu.Unlock()
	return q.String(), out, nil
}

// latestRound is the latest closed mock inspection's city score.
func (s *Service) latestRound(ctx context.Context) (*LeaderRound, error) {
	rounds, err := s.Assess.Rounds(ctx, org.System)
	if err != nil {
		return nil, err
	}
	for _, rd := range rounds {
		if rd.Kind != assess.KindMock || rd.State != assess.RoundClosed {
			continue
		}
		c := s.cache()
		c.mu.Lock()
		r, ok := c.round[rd.Code]
		c.mu.Unlock()
		if ok {
			return r, nil
		}
		sc, err := s.Assess.Scores(ctx, org.System, rd.Code, "")
		if err != nil {
			return nil, err
		}
		r = &LeaderRound{Code: rd.Code, Name: rd.Name, Date: rd.Date, Score: assess.JSONPoints{Rat: sc.Scores.Score},
			Max: assess.JSONPoints{Rat: sc.Scores.Max}, Rate: assess.JSONRate{Rat: sc.Scores.Rate}}
		c.mu.Lock()
		c.round[rd.Code] = r
		c.mu.Unlock()
		return r, nil
	}
	return nil, nil
}
