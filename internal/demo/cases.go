package demo

import (
	"bytes"
	"container/heap"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"chuangwen/internal/grid"
	"chuangwen/internal/org"
	"chuangwen/internal/photo"
	"chuangwen/internal/workcal"
	"chuangwen/internal/workflow"
)

// The cases are simulated as a discrete-event run: every case has a plan
// (where it should end up, and what happens on the way), each step of a
// case is a job on a time-ordered queue, and the jobs of all cases run in
// the order of the simulated clock. So the audit chain is in time order,
// case numbers follow the report times, and the deadline watch
// (SweepDeadlines) runs along the way as it would in production, marking
// yellow warnings and overdue cases at the right moments.

type catInfo struct {
	def   *catDef
	cat   workflow.Category
	group string
}

// sim holds the demo city and the simulation state.
type sim struct {
	ctx   context.Context
	orgs  *org.Store
	flow  *workflow.Service
	opts  Options
	rng   *rand.Rand
	loc   *time.Location
	cal   *workcal.Calendar
	now   time.Time // "today": nothing happens after it
	clock time.Time // the simulated clock, read by flow.Now and orgs.Now
	grid  *grid.Store

	admin, leader, districtInspector org.Actor
	hotline                          org.Actor // the 12345 platform's Open311 client
	acceptors, inspectors            []org.Actor
	handlers                         map[int64]org.Actor // unit → its demo handler
	handlerUnits                     []int64

	city            org.Region
	districtRegions []org.Region
	communities     []*community
	byRegion        map[int64]*community
	layout          cityLayout
	streetCount     int
	units           map[string]org.Unit
	cats            map[string]*catInfo
	catList         []*catInfo
	catWeight       int
	catCount        int

	photos    photoSet
	runs      []*run
	queue     jobQueue
	seq       uint64
	lastSweep time.Time
	reported  int
	acts      int
	rechecks  *recheckLoad
}

// outcome is the state a case is planned to end in.
type outcome int

const (
	outClosed outcome = iota
	outReported
	outAccepted
	outDispatched
	outInProgress
	outPostponed
	outVerifying
	outRejected
	outMerged
	outVoided
)

// variant refines an outcome.
type variant int

const (
	varNone          variant = iota
	varFresh                 // dispatched recently, deadline still ahead
	varWarning               // past 80% of its time today: yellow warning
	varStuck                 // dispatched long ago and never handled: overdue
	varExtPending            // an extension request waits for approval
	varReturned              // returned by the wrong unit, waiting for re-dispatch
	varAfterDispatch         // voided after dispatch (otherwise after acceptance)
)

// mix is the share of each outcome other than closed (the rest), and the
// minimum count once there are enough cases, so every state shows up.
var mix = []struct {
	out   outcome
	share float64
	min   int
	vars  []variant // cycled through by the plans of this outcome
}{
	{outReported, 0.02, 2, nil},
	{outAccepted, 0.02, 2, []variant{varNone, varReturned, varNone}},
	{outDispatched, 0.03, 3, []variant{varStuck, varFresh}},
	{outInProgress, 0.05, 5, []variant{varStuck, varWarning, varFresh, varExtPending, varWarning, varStuck, varFresh}},
	{outPostponed, 0.015, 1, nil},
	{outVerifying, 0.03, 2, nil},
	{outRejected, 0.04, 2, nil},
	{outMerged, 0.03, 2, nil},
	{outVoided, 0.015, 1, []variant{varNone, varAfterDispatch}},
}

// run is one case: its plan and its progress.
type run struct {
	idx     int
	out     outcome
	variant variant
	// must: the case has to reach its planned state before "now", so steps
	// that would fall later are squeezed into the time left. Closed cases
	// simply stop where "now" catches them.
	must bool

	source    string
	reporter  org.Actor
	comm      *community
	cat       *catInfo
	reportCat *catInfo // the category the reporter chose (citizens err)
	urgency   int
	place     string // location within the community
	placement placement
	lat, lon  float64
	address   string
	photo     bool
	named     bool
	orig      *run // merged: the case this one duplicates

	reportAt, acceptAt, dispatchAt time.Time // acceptAt, dispatchAt: precomputed for some plans

	returned, rework, ext, extDenied, late, supervise, reopen, postponeResume bool

	id                                                                          int64
	c                                                                           *workflow.Case
	didReturn, didRework, didReopen, didPostpone, didLate, didExt, didSupervise bool
}

type job struct {
	at   time.Time
	seq  uint64
	r    *run
	step func(*run) error
}

type jobQueue []*job

func (q jobQueue) Len() int { return len(q) }
func (q jobQueue) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].seq < q[j].seq
}
func (q jobQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *jobQueue) Push(x any)   { *q = append(*q, x.(*job)) }
func (q *jobQueue) Pop() any {
	old := *q
	j := old[len(old)-1]
	*q = old[:len(old)-1]
	return j
}

// sweepEvery is how often (in simulated time) the deadline watch runs.
const sweepEvery = 30 * time.Minute

func (s *sim) runCases() error {
	started := time.Now()
	ps, err := makePhotos()
	if err != nil {
		return fmt.Errorf("demo: photos: %w", err)
	}
	s.photos = ps
	if err := s.planCases(); err != nil {
		return err
	}
	for _, r := range s.runs {
		s.schedule(r, r.reportAt, s.stepReport)
	}
	for s.queue.Len() > 0 {
		if err := s.ctx.Err(); err != nil {
			return err
		}
		j := heap.Pop(&s.queue).(*job)
		if j.at.Sub(s.lastSweep) >= sweepEvery {
			s.clock = j.at
			if err := s.sweep(); err != nil {
				return err
			}
		}
		s.clock = j.at
		if err := j.step(j.r); err != nil {
			no := ""
			if j.r.c != nil {
				no = " " + j.r.c.No
			}
			return fmt.Errorf("demo: case%s at %s: %w", no, s.clock.In(s.loc).Format("2006-01-02 15:04"), err)
		}
	}
	s.clock = s.now
	if err := s.sweep(); err != nil {
		return err
	}
	s.opts.Log("demo: %d cases and %d actions loaded in %s", s.reported, s.acts, time.Since(started).Round(time.Millisecond))
	return nil
}

func (s *sim) sweep() error {
	s.lastSweep = s.clock
	if _, _, err := s.flow.SweepDeadlines(s.ctx); err != nil {
		return fmt.Errorf("demo: deadline sweep: %w", err)
	}
	return nil
}

// schedule queues a step of r at (or after) at. Steps later than "now" are
// dropped, unless r must reach its planned state: then they are squeezed
// into the time left.
func (s *sim) schedule(r *run, at time.Time, step func(*run) error) {
	if at.After(s.now) {
		if !r.must {
			return
		}
		at = s.between(s.clock, s.now)
	}
	s.push(r, at, step)
}

// scheduleOpt queues an optional step: dropped if later than "now".
func (s *sim) scheduleOpt(r *run, at time.Time, step func(*run) error) {
	if !at.After(s.now) {
		s.push(r, at, step)
	}
}

func (s *sim) push(r *run, at time.Time, step func(*run) error) {
	if at.Before(s.clock) {
		at = s.clock
	}
	s.seq++
	heap.Push(&s.queue, &job{at: at.UTC(), seq: s.seq, r: r, step: step})
}

// ---- random helpers ----

func (s *sim) p(prob float64) bool { return s.rng.Float64() < prob }

func (s *sim) intn(a, b int) int { return a + s.rng.IntN(b-a+1) }

func pick[T any](s *sim, xs []T) T { return xs[s.rng.IntN(len(xs))] }

// minutes returns a random duration of a to b minutes, with seconds.
func (s *sim) minutes(a, b int) time.Duration {
	return time.Duration(s.intn(a, b))*time.Minute + time.Duration(s.rng.IntN(60))*time.Second
}

// between returns a random instant in [a, b].
func (s *sim) between(a, b time.Time) time.Time {
	if !b.After(a) {
		return a
	}
	return a.Add(time.Duration(s.rng.Int64N(int64(b.Sub(a)) + 1))).Truncate(time.Second)
}

// office moves t into the duty desk's hours (08:00–21:00 every day).
func (s *sim) office(t time.Time) time.Time {
	lt := t.In(s.loc)
	if h := lt.Hour(); h >= 8 && h < 21 {
		return t
	}
	day := time.Date(lt.Year(), lt.Month(), lt.Day(), 8, 0, 0, 0, s.loc)
	if lt.Hour() >= 21 {
		day = day.AddDate(0, 0, 1)
	}
	return day.Add(s.minutes(0, 45)).UTC()
}

// work returns the instant m working minutes after t (units work in
// working hours), with random seconds.
func (s *sim) work(t time.Time, m int) time.Time {
	return s.cal.AddWorkingMinutes(t, m).Add(time.Duration(s.rng.IntN(60)) * time.Second).UTC()
}

// hourWeight is how likely a report is at each hour of the day.
var hourWeight = [24]float64{0.02, 0.01, 0.01, 0.01, 0.01, 0.02, 0.05, 0.3, 0.7, 1, 1, 1, 0.6, 0.6, 0.9, 0.9, 0.9, 0.9, 0.5, 0.5, 0.3, 0.3, 0.1, 0.05}

// reportTime draws a report time in [from, to]: mostly daytime, fewer on
// weekends and holidays.
func (s *sim) reportTime(from, to time.Time) time.Time {
	if !to.After(from) {
		return from
	}
	for range 500 {
		t := s.between(from, to)
		w := hourWeight[t.In(s.loc).Hour()]
		if !s.cal.IsWorkday(workcal.DateOf(t, s.loc)) {
			w *= 0.45
		}
		if s.p(w) {
			return t
		}
	}
	return s.between(from, to)
}

// ---- plans ----

func (s *sim) planCases() error {
	n := s.opts.Cases
	var outs []outcome
	var vars []variant
	for _, m := range mix {
		k := int(math.Round(m.share * float64(n)))
		if n >= 40 {
			k = max(k, m.min)
		}
		for i := range k {
			outs = append(outs, m.out)
			v := varNone
			if len(m.vars) > 0 {
				v = m.vars[i%len(m.vars)]
			}
			vars = append(vars, v)
		}
	}
	if len(outs) > n {
		outs, vars = outs[:n], vars[:n]
	}
	for len(outs) < n {
		outs = append(outs, outClosed)
		vars = append(vars, varNone)
	}
	// With a grid, a few cases lie off the cells: some near one, very
	// few far from any.
	places := make([]placement, n)
	if s.grid != nil {
		off, gap := int(math.Round(0.01*float64(n))), int(math.Round(0.06*float64(n)))
		if n >= 40 {
			off, gap = max(off, 2), max(gap, 6)
		}
		for i := range min(off+gap, n) {
			places[i] = inGap
			if i < off {
				places[i] = offGrid
			}
		}
		s.rng.Shuffle(n, func(i, j int) { places[i], places[j] = places[j], places[i] })
	}
	for i := range outs {
		r, err := s.plan(outs[i], vars[i], places[i])
		if err != nil {
			return fmt.Errorf("demo: plan: %w", err)
		}
		s.runs = append(s.runs, r)
	}
	slices.SortStableFunc(s.runs, func(a, b *run) int { return a.reportAt.Compare(b.reportAt) })
	for i, r := range s.runs {
		r.idx = i
	}
	return nil
}

func (s *sim) pickCategory() *catInfo {
	x := s.rng.IntN(s.catWeight)
	for _, ci := range s.catList {
		if x < ci.def.weight {
			return ci
		}
		x -= ci.def.weight
	}
	return s.catList[len(s.catList)-1]
}

func (s *sim) pickUrgency(ci *catInfo) int {
	if !s.p(ci.def.urgentShare) {
		return workflow.UrgencyNormal
	}
	if ci.def.crit > 0 && s.p(0.1) {
		return workflow.UrgencyCritical
	}
	return workflow.UrgencyUrgent
}

func (s *sim) plan(out outcome, v variant, pl placement) (*run, error) {
	r := &run{out: out, variant: v, must: out != outClosed, placement: pl}
	windowStart := s.now.Add(-time.Duration(s.opts.Days) * 24 * time.Hour)
	ago := func(d time.Duration) time.Time {
		t := s.now.Add(-d)
		if t.Before(windowStart) {
			return windowStart
		}
		return t
	}
	const day = 24 * time.Hour

	// Source, place, category.
	citizenOnly := out == outReported || out == outRejected || out == outMerged
	x := s.rng.IntN(100)
	switch {
	case citizenOnly && x < 70, !citizenOnly && x < 38:
		r.source = workflow.SourceCitizen
	case citizenOnly, x < 52:
		r.source = workflow.SourceHotline
	case x < 86:
		r.source = workflow.SourceInspector
	default:
		r.source = workflow.SourceGrid
	}
	if r.source == workflow.SourceGrid && pl == offGrid {
		// Grid workers know where they stand; a lost point comes from
		// the hotline.
		r.source = workflow.SourceHotline
	}
	if r.source == workflow.SourceGrid {
		var gc []*community
		for _, c := range s.communities {
			if c.grid != nil {
				gc = append(gc, c)
			}
		}
		r.comm = pick(s, gc)
		r.reporter = *r.comm.grid
	} else {
		r.comm = pick(s, s.communities)
	}
	if err := s.placePoint(r); err != nil {
		return nil, err
	}
	switch r.source {
	case workflow.SourceHotline:
		r.reporter = pick(s, s.acceptors)
		if s.hotline.TokenID != 0 && s.p(0.3) {
			r.source, r.reporter = workflow.SourceAPI, s.hotline
		}
	case workflow.SourceCitizen:
		r.reporter = pick(s, s.acceptors)
	case workflow.SourceInspector:
		r.reporter = pick(s, s.inspectors)
		if r.comm.district == 0 && s.p(0.5) {
			r.reporter = s.districtInspector
		}
	}
	r.cat = s.pickCategory()
	// Reports of the categories accepted and dispatched on arrival never
	// wait for the acceptor: the outcomes that need one take another.
	acceptorOnly := citizenOnly || out == outAccepted
	for acceptorOnly && r.cat.def.auto {
		r.cat = s.pickCategory()
	}
	r.urgency = s.pickUrgency(r.cat)
	r.reportCat = r.cat
	switch r.source {
	case workflow.SourceCitizen:
		r.photo = s.p(0.9)
		r.named = s.p(0.85)
	case workflow.SourceHotline:
		r.named = s.p(0.8)
	default:
		r.photo = true
	}

	switch out {
	case outClosed:
		end := ago(min(3*day, time.Duration(s.opts.Days)*day/2))
		r.reportAt = s.reportTime(windowStart, end)
		r.returned = !r.cat.def.auto && s.p(0.05)
		r.rework = s.p(0.08)
		r.ext = s.p(0.05)
		r.extDenied = r.ext && s.p(0.25)
		r.late = !r.ext && s.p(0.12)
		r.supervise = s.p(0.03)
		r.reopen = s.p(0.012)
		r.postponeResume = s.p(0.01)
		if r.source == workflow.SourceCitizen && s.p(0.06) {
			// The citizen picked a neighbouring category; the acceptor
			// corrects it on acceptance.
			for {
				other := pick(s, s.catList)
				if other != r.cat && !other.def.auto {
					r.reportCat = other
					break
				}
			}
		}
	case outReported:
		r.reportAt = s.reportTime(ago(4*time.Hour), ago(5*time.Minute))
	case outAccepted:
		if v == varReturned {
			r.returned = true
			r.reportAt = s.reportTime(ago(3*day), ago(day))
		} else {
			r.reportAt = s.reportTime(ago(20*time.Hour), ago(time.Hour))
		}
	case outDispatched, outInProgress:
		s.planDispatch(r, windowStart)
	case outPostponed:
		r.reportAt = s.reportTime(ago(60*day), ago(5*day))
	case outVerifying:
		r.reportAt = s.reportTime(ago(4*day), ago(6*time.Hour))
	case outRejected, outMerged:
		r.reportAt = s.reportTime(windowStart, ago(2*time.Hour))
	case outVoided:
		r.reportAt = s.reportTime(windowStart, ago(2*day))
	}
	if (r.source == workflow.SourceInspector || r.source == workflow.SourceGrid) && r.dispatchAt.IsZero() && s.p(0.85) {
		// Inspectors and grid workers mostly patrol in working hours: a
		// report drawn outside them moves into the next working hours.
		if !s.cal.AddWorkingMinutes(r.reportAt, 0).Equal(r.reportAt) {
			t := s.work(r.reportAt, s.intn(10, 7*60))
			if t.Before(s.now.Add(-time.Hour)) && t.Sub(r.reportAt) < 4*day {
				r.reportAt = t
			}
		}
	}
	s.describe(r)
	return r, nil
}

// planDispatch fixes the dispatch time of a case that must be waiting,
// in progress, yellow or overdue today, trying other categories when its
// own cannot be.
func (s *sim) planDispatch(r *run, windowStart time.Time) {
	for range 40 {
		var t time.Time
		ok := false
		switch r.variant {
		case varFresh, varExtPending:
			t, ok = s.findStart(r, func(dl, warn time.Time) bool { return dl.After(s.now) && warn.After(s.now) })
		case varWarning:
			t, ok = s.findStart(r, func(dl, warn time.Time) bool { return !warn.After(s.now) && dl.After(s.now) })
		default: // stuck
			from := s.now.Add(-40 * 24 * time.Hour)
			if lo := windowStart.Add(4 * time.Hour); from.Before(lo) {
				from = lo
			}
			to := s.now.Add(-2 * 24 * time.Hour)
			if to.After(from) {
				t = s.office(s.reportTime(from, to))
				dl := s.cal.Deadline(t, r.cat.cat.Limit(r.urgency))
				ok = t.Before(to) && dl.Before(s.now.Add(-2*time.Hour))
			}
		}
		if ok {
			gap := s.minutes(20, 150)
			if r.cat.def.auto {
				gap = 0 // dispatched on arrival
			}
			r.dispatchAt = t
			r.reportAt = t.Add(-gap)
			r.acceptAt = r.reportAt.Add(time.Duration(float64(gap) * (0.2 + 0.6*s.rng.Float64()))).Truncate(time.Second)
			if r.variant == varStuck {
				r.supervise = s.p(0.5)
			}
			return
		}
		r.cat = s.pickCategory()
		r.reportCat = r.cat
		r.urgency = workflow.UrgencyNormal
	}
	// No fitting time (a very short window): let it simply be closed.
	r.out, r.variant, r.must = outClosed, varNone, false
	r.reportAt = s.reportTime(windowStart, s.now.Add(-time.Hour))
}

// findStart looks back from now, in half-hour steps during the duty
// desk's hours, for dispatch times whose deadline and warning time satisfy
// ok, and returns one of them.
func (s *sim) findStart(r *run, ok func(dl, warn time.Time) bool) (time.Time, bool) {
	lim := r.cat.cat.Limit(r.urgency)
	var found []time.Time
	for t := s.now.Add(-10 * time.Minute).Truncate(time.Minute); t.After(s.now.Add(-14 * 24 * time.Hour)); t = t.Add(-30 * time.Minute) {
		if h := t.In(s.loc).Hour(); h < 8 || h >= 21 {
			continue
		}
		dl := s.cal.Deadline(t, lim)
		if ok(dl, s.cal.WarnAt(t, dl, workflow.WarnFraction)) {
			found = append(found, t)
		} else if len(found) > 0 {
			break
		}
	}
	if len(found) == 0 {
		return time.Time{}, false
	}
	return pick(s, found).UTC(), true
}

// describe writes the description and address.
func (s *sim) describe(r *run) {
	c := r.comm
	road1, road2 := c.roads[0], c.roads[1]
	var place string
	num := s.intn(1, 320)
	switch r.cat.def.loc {
	case locHome:
		switch s.rng.IntN(3) {
		case 0:
			place = fmt.Sprintf("%s%d栋楼下", c.compound, s.intn(1, 24))
		case 1:
			place = fmt.Sprintf("%s%d栋与%d栋之间", c.compound, s.intn(1, 12), s.intn(13, 24))
		default:
			place = c.compound + pick(s, []string{"东门", "南门", "北门"}) + "附近"
		}
		r.address = c.address + c.compound
	case locMarket:
		place = strings.TrimSuffix(c.name, "社区") + "农贸市场"
		r.address = c.address + road1 + strconv.Itoa(num) + "号"
	case locToilet:
		place = road1 + pick(s, []string{"", "与" + road2 + "交叉口"}) + "公厕"
		r.address = c.address + road1
	case locSite:
		road := road1
		switch s.rng.IntN(3) {
		case 0:
			place = road1 + "北侧在建工地"
		case 1:
			place = c.compound + "二期项目工地"
		default:
			place, road = road2+"道路改造工地", road2
		}
		r.address = c.address + road
	default:
		road := road1
		switch s.rng.IntN(4) {
		case 0:
			place = fmt.Sprintf("%s与%s交叉口%s", road1, road2, pick(s, corners))
		case 1:
			place = fmt.Sprintf("%s%d号%s门前", road1, num, pick(s, landmarks))
		case 2:
			place, road = road2+"中段人行道", road2
		default:
			place = road1 + "公交站旁"
		}
		r.address = fmt.Sprintf("%s%s%d号附近", c.address, road, num)
	}
	r.place = c.name + place
}

func (s *sim) problem(r *run) string {
	p := pick(s, r.cat.def.problems)
	return strings.ReplaceAll(p, "{n}", strconv.Itoa(s.intn(2, 9)))
}

func (s *sim) description(r *run) string {
	prefix := ""
	switch r.source {
	case workflow.SourceHotline:
		prefix = "市民来电反映："
	case workflow.SourceInspector:
		prefix = "督查发现："
	case workflow.SourceGrid:
		prefix = "网格巡查发现："
	}
	return prefix + r.place + s.problem(r) + "。"
}

// ---- actors ----

func (s *sim) acceptor() org.Actor { return pick(s, s.acceptors) }

func (s *sim) handler(r *run) (org.Actor, error) {
	a, ok := s.handlers[r.c.LeadUnitID]
	if !ok {
		return a, fmt.Errorf("no demo handler for unit %d (%s)", r.c.LeadUnitID, r.c.LeadUnitName)
	}
	return a, nil
}

func (s *sim) verifier(r *run) org.Actor {
	x := s.rng.Float64()
	switch {
	case r.comm.grid != nil && x < 0.3:
		return *r.comm.grid
	case r.comm.district == 0 && x < 0.55:
		return s.districtInspector
	case x < 0.8:
		return pick(s, s.inspectors)
	}
	return s.acceptor()
}

// expectedLead is the unit the responsibility table names for r.
func (s *sim) expectedLead(r *run) int64 {
	if districts[r.comm.district].override == r.cat.def.code {
		return s.units[districts[r.comm.district].key].ID
	}
	return s.units[r.cat.def.lead].ID
}

func (s *sim) act(r *run, a org.Actor, in workflow.ActInput) error {
	c, err := s.flow.Act(s.ctx, a, r.id, in)
	if err != nil {
		return fmt.Errorf("%s by %s: %w", in.Action, a, err)
	}
	r.c = c
	s.acts++
	return nil
}

func (s *sim) savePhoto(imgs [][]byte) (photo.File, error) {
	return s.flow.Photos.Save(bytes.NewReader(pick(s, imgs)))
}

// ---- steps ----

func (s *sim) stepReport(r *run) error {
	if r.out == outMerged {
		if r.orig = s.findOriginal(r); r.orig == nil {
			r.out = outRejected
		} else {
			o := r.orig
			r.comm, r.cat, r.reportCat, r.place, r.address = o.comm, o.cat, o.cat, o.place, o.address
			r.lat = math.Round((o.lat+(s.rng.Float64()-0.5)*0.0004)*1e6) / 1e6
			r.lon = math.Round((o.lon+(s.rng.Float64()-0.5)*0.0004)*1e6) / 1e6
		}
	}
	if s.rechecks != nil {
		s.rechecks.recur(r)
	}
	in := workflow.NewCase{Source: r.source, CategoryID: r.reportCat.cat.ID, Description: s.description(r), Lat: &r.lat, Lon: &r.lon,
		Address: r.address, RegionID: r.comm.region.ID, Urgency: r.urgency}
	if s.grid != nil {
		loc, err := s.grid.Locate(s.ctx, r.lat, r.lon)
		if err != nil {
			return err
		}
		if c := s.byRegion[loc.RegionID]; c != nil {
			// The grid names the community: the report leaves the region
			// to it. Only where no cell is near does the reporter's
			// address give it.
			in.RegionID, r.comm = 0, c
		}
	}
	if r.named {
		in.ReporterName = pick(s, surnames) + pick(s, []string{"先生", "女士"})
		in.ReporterPhone = strconv.Itoa(13800000000 + r.idx)
	} else if r.source == workflow.SourceHotline {
		in.ReporterPhone = strconv.Itoa(13800000000 + r.idx)
	}
	if r.source == workflow.SourceAPI {
		// What the platform sends beyond a case's fields: its ticket.
		in.Client = &workflow.ClientFields{Client: r.reporter.Name,
			Attributes: map[string][]string{"ticket_no": {fmt.Sprintf("RX%s%05d", s.clock.In(s.loc).Format("060102"), r.idx)}}}
	}
	if r.photo {
		pf, err := s.savePhoto(s.photos.before)
		if err != nil {
			return err
		}
		in.Photos = []photo.File{pf}
	}
	c, err := s.flow.Report(s.ctx, r.reporter, in)
	if err != nil {
		return fmt.Errorf("report by %s: %w", r.reporter, err)
	}
	r.id, r.c = c.ID, c
	s.reported++
	if r.source == workflow.SourceAPI && s.p(0.2) {
		// The caller rings the hotline again; the platform passes it on.
		u := workflow.ClientUpdate{UpdateID: fmt.Sprintf("RX-%d-1", r.idx), Status: "OPEN",
			Description: pick(s, []string{"市民再次来电催办，希望尽快处理。", "市民来电补充：问题仍在，晚上更严重。", "市民询问办理进度。"})}
		if _, err := s.flow.PostClientUpdate(s.ctx, r.reporter, c.No, u); err != nil {
			return fmt.Errorf("hotline update: %w", err)
		}
	}
	if s.reported%500 == 0 {
		s.opts.Log("demo: %d/%d cases reported (simulated date %s)", s.reported, s.opts.Cases, s.clock.In(s.loc).Format("2006-01-02"))
	}
	if r.out == outReported {
		return nil
	}
	switch c.State {
	case workflow.Dispatched: // a category dispatched on arrival
		s.afterDispatch(r, false)
		return nil
	case workflow.Accepted: // inspectors' and grid workers' reports
		return s.afterAccept(r)
	}
	at := r.acceptAt
	if at.IsZero() {
		at = s.office(s.clock.Add(s.minutes(5, 40)))
	}
	s.schedule(r, at, s.stepAccept)
	return nil
}

// hotlineClient names the 12345 platform's Open311 token.
const hotlineClient = "12345热线平台"

// findOriginal picks an earlier, still valid case for a duplicate report.
func (s *sim) findOriginal(r *run) *run {
	var cands []*run
	for i := r.idx - 1; i >= 0 && len(cands) < 20; i-- {
		o := s.runs[i]
		if o.reportAt.Before(s.clock.Add(-10 * 24 * time.Hour)) {
			break
		}
		if o.c == nil || o.orig != nil || o.c.State == workflow.Reported || o.c.State.Final() || o.cat.def.auto {
			continue
		}
		cands = append(cands, o)
	}
	if len(cands) == 0 {
		return nil
	}
	return pick(s, cands)
}

func (s *sim) stepAccept(r *run) error {
	a := s.acceptor()
	switch r.out {
	case outRejected:
		return s.act(r, a, workflow.ActInput{Action: workflow.Reject, Opinion: pick(s, rejectReasons)})
	case outMerged:
		if !r.orig.c.State.Open() {
			return s.act(r, a, workflow.ActInput{Action: workflow.Reject, Opinion: "重复上报，原案件已办结"})
		}
		return s.act(r, a, workflow.ActInput{Action: workflow.Merge, MergeInto: r.orig.id, Opinion: fmt.Sprintf("与案件%s反映同一问题，予以合并", r.orig.c.No)})
	}
	in := workflow.ActInput{Action: workflow.Accept, Opinion: "情况属实，予以立案"}
	if r.reportCat != r.cat {
		in.CategoryID = r.cat.cat.ID
		in.Opinion = "上报类别有误，立案时更正为“" + r.cat.def.name + "”"
	}
	if err := s.act(r, a, in); err != nil {
		return err
	}
	return s.afterAccept(r)
}

func (s *sim) afterAccept(r *run) error {
	switch {
	case r.out == outAccepted && r.variant != varReturned:
		return nil
	case r.out == outVoided && r.variant != varAfterDispatch:
		s.schedule(r, s.office(s.clock.Add(s.minutes(60, 30*60))), s.stepVoid)
		return nil
	}
	at := r.dispatchAt
	if at.IsZero() {
		at = s.office(s.clock.Add(s.minutes(3, 30)))
	}
	s.schedule(r, at, s.stepDispatch)
	return nil
}

func (s *sim) stepDispatch(r *run) error {
	in := workflow.ActInput{Action: workflow.Dispatch, Opinion: "请按时限要求处置并反馈"}
	wrong := r.returned && !r.didReturn
	if wrong {
		// A wrong dispatch, sent back by the unit.
		want := s.expectedLead(r)
		for {
			if u := pick(s, s.handlerUnits); u != want {
				in.LeadUnitID = u
				break
			}
		}
	}
	if err := s.act(r, s.acceptor(), in); err != nil {
		return err
	}
	s.afterDispatch(r, wrong)
	return nil
}

// afterDispatch schedules what follows a dispatch (wrong: to the wrong
// unit, which returns it).
func (s *sim) afterDispatch(r *run, wrong bool) {
	switch {
	case wrong:
		s.schedule(r, s.work(s.clock, s.intn(20, 180)), s.stepReturn)
		return
	case r.out == outVoided:
		s.schedule(r, s.office(s.clock.Add(s.minutes(60, 20*60))), s.stepVoid)
		return
	case r.out == outDispatched:
		if r.variant == varStuck && r.supervise {
			s.scheduleOpt(r, s.office(r.c.Deadline.Add(s.minutes(24*60, 72*60))), s.stepLateSupervise)
		}
		return
	case r.supervise && !r.didSupervise && r.variant != varStuck:
		s.schedule(r, s.office(s.clock.Add(s.minutes(20, 180))), s.stepSupervise)
		return
	}
	s.schedule(r, s.work(s.clock, s.intn(5, 90)), s.stepAck)
}

func (s *sim) stepReturn(r *run) error {
	h, err := s.handler(r)
	if err != nil {
		return err
	}
	if err := s.act(r, h, workflow.ActInput{Action: workflow.Return, Opinion: pick(s, returnReasons)}); err != nil {
		return err
	}
	r.didReturn = true
	if r.out == outAccepted {
		return nil
	}
	s.schedule(r, s.office(s.clock.Add(s.minutes(10, 90))), s.stepDispatch)
	return nil
}

func (s *sim) stepSupervise(r *run) error {
	if err := s.act(r, s.leader, workflow.ActInput{Action: workflow.Supervise, Opinion: superviseOpinions[2]}); err != nil {
		return err
	}
	r.didSupervise = true
	s.schedule(r, s.work(s.clock, s.intn(5, 60)), s.stepAck)
	return nil
}

// stepLateSupervise flags an overdue case; nothing follows.
func (s *sim) stepLateSupervise(r *run) error {
	if r.c.Supervised || !r.c.State.Timed() {
		return nil
	}
	return s.act(r, s.leader, workflow.ActInput{Action: workflow.Supervise, Opinion: superviseOpinions[s.rng.IntN(2)]})
}

func (s *sim) stepVoid(r *run) error {
	return s.act(r, s.admin, workflow.ActInput{Action: workflow.Void, Opinion: pick(s, voidReasons)})
}

func (s *sim) stepAck(r *run) error {
	h, err := s.handler(r)
	if err != nil {
		return err
	}
	if err := s.act(r, h, workflow.ActInput{Action: workflow.Acknowledge, Opinion: "已签收，安排人员现场处置"}); err != nil {
		return err
	}
	switch r.out {
	case outInProgress:
		switch r.variant {
		case varExtPending:
			s.schedule(r, s.between(s.clock, minTime(s.now, r.c.Deadline.Add(-time.Minute))), s.stepRequestExt)
		case varStuck:
			if r.supervise {
				s.scheduleOpt(r, s.office(r.c.Deadline.Add(s.minutes(24*60, 72*60))), s.stepLateSupervise)
			}
		}
		return nil
	case outPostponed:
		s.schedule(r, s.work(s.clock, s.intn(60, 600)), s.stepAskPostpone)
		return nil
	}
	if r.postponeResume && !r.didPostpone {
		s.schedule(r, s.work(s.clock, s.intn(60, 600)), s.stepAskPostpone)
		return nil
	}
	if r.ext && !r.didExt {
		if avail := s.cal.WorkingMinutesBetween(s.clock, r.c.Deadline); avail >= 20 {
			at := s.work(s.clock, int(float64(avail)*(0.3+0.4*s.rng.Float64())))
			if at.Before(r.c.Deadline) {
				s.schedule(r, at, s.stepRequestExt)
				return nil
			}
		}
	}
	s.scheduleFeedback(r)
	return nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func (s *sim) stepRequestExt(r *run) error {
	h, err := s.handler(r)
	if err != nil {
		return err
	}
	var d time.Time
	if r.cat.cat.LimitUnit == workcal.Hours {
		d = s.cal.AddWorkingMinutes(r.c.Deadline, s.intn(1, 2)*s.cal.MinutesPerDay())
	} else {
		d = s.cal.Deadline(r.c.Deadline, workcal.Limit{Value: s.intn(2, 5), Unit: workcal.Days})
	}
	reason := pick(s, extensionReasons)
	if err := s.act(r, h, workflow.ActInput{Action: workflow.RequestExtension, Deadline: d, Opinion: reason}); err != nil {
		return err
	}
	r.didExt = true
	if r.out == outInProgress {
		return nil
	}
	step := s.stepApproveExt
	if r.extDenied {
		step = s.stepDenyExt
	}
	s.schedule(r, s.office(s.clock.Add(s.minutes(10, 120))), step)
	return nil
}

func (s *sim) stepApproveExt(r *run) error {
	if err := s.act(r, s.acceptor(), workflow.ActInput{Action: workflow.ApproveExtension, Opinion: "理由充分，同意延期"}); err != nil {
		return err
	}
	s.scheduleFeedback(r)
	return nil
}

func (s *sim) stepDenyExt(r *run) error {
	if err := s.act(r, s.acceptor(), workflow.ActInput{Action: workflow.DenyExtension, Opinion: "该问题可在原时限内完成，不同意延期"}); err != nil {
		return err
	}
	r.late = s.p(0.5)
	s.scheduleFeedback(r)
	return nil
}

func (s *sim) stepAskPostpone(r *run) error {
	h, err := s.handler(r)
	if err != nil {
		return err
	}
	if err := s.act(r, h, workflow.ActInput{Action: workflow.Comment, Opinion: "申请缓办：问题涉及产权或规划调整，短期内无法整改到位"}); err != nil {
		return err
	}
	s.schedule(r, s.office(s.clock.Add(s.minutes(30, 240))), s.stepPostpone)
	return nil
}

func (s *sim) stepPostpone(r *run) error {
	if err := s.act(r, s.acceptor(), workflow.ActInput{Action: workflow.Postpone, Opinion: pick(s, postponeReasons)}); err != nil {
		return err
	}
	r.didPostpone = true
	if r.out == outPostponed {
		return nil
	}
	s.schedule(r, s.office(s.clock.Add(s.minutes(3*24*60, 15*24*60))), s.stepResume)
	return nil
}

func (s *sim) stepResume(r *run) error {
	if err := s.act(r, s.acceptor(), workflow.ActInput{Action: workflow.Resume, Opinion: "缓办事由已消除，恢复办理"}); err != nil {
		return err
	}
	s.scheduleFeedback(r)
	return nil
}

func (s *sim) scheduleFeedback(r *run) {
	dl := r.c.Deadline
	var at time.Time
	if r.late && !r.didLate {
		r.didLate = true
		at = s.work(dl, s.intn(30, 900))
	} else if avail := s.cal.WorkingMinutesBetween(s.clock, dl); avail > 2 {
		at = s.work(s.clock, max(1, int(float64(avail)*(0.15+0.75*s.rng.Float64()))))
		if !at.Before(dl) {
			at = dl.Add(-time.Minute)
		}
	} else {
		at = s.work(s.clock, s.intn(5, 60))
	}
	s.schedule(r, at, s.stepFeedback)
}

func (s *sim) stepFeedback(r *run) error {
	h, err := s.handler(r)
	if err != nil {
		return err
	}
	pf, err := s.savePhoto(s.photos.after)
	if err != nil {
		return err
	}
	if err := s.act(r, h, workflow.ActInput{Action: workflow.Feedback, Opinion: pick(s, r.cat.def.fixes), Photos: []photo.File{pf}}); err != nil {
		return err
	}
	if r.out == outVerifying {
		return nil
	}
	s.schedule(r, s.work(s.clock, s.intn(30, 480)), s.stepVerify)
	return nil
}

func (s *sim) stepVerify(r *run) error {
	v := s.verifier(r)
	if r.rework && !r.didRework {
		pf, err := s.savePhoto(s.photos.before)
		if err != nil {
			return err
		}
		if err := s.act(r, v, workflow.ActInput{Action: workflow.VerifyFail, Opinion: pick(s, reworkReasons), Photos: []photo.File{pf}}); err != nil {
			return err
		}
		r.didRework = true
		s.schedule(r, s.work(s.clock, s.intn(5, 120)), s.stepAck)
		return nil
	}
	if err := s.act(r, v, workflow.ActInput{Action: workflow.VerifyPass, Opinion: pick(s, verifyOpinions)}); err != nil {
		return err
	}
	if r.reopen && !r.didReopen {
		s.scheduleOpt(r, s.office(s.clock.Add(s.minutes(24*60, 5*24*60))), s.stepReopen)
	}
	return nil
}

func (s *sim) stepReopen(r *run) error {
	if err := s.act(r, s.acceptor(), workflow.ActInput{Action: workflow.Reopen, Opinion: "回访市民不满意，反映问题仍然存在，重新办理"}); err != nil {
		return err
	}
	r.didReopen = true
	s.schedule(r, s.office(s.clock.Add(s.minutes(10, 60))), s.stepDispatch)
	return nil
}
