package demo

import (
	"bytes"
	"chuangwen/internal/apperr"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"time"

	"chuangwen/internal/assess"
	"chuangwen/internal/org"
	"chuangwen/internal/photo"
	"chuangwen/internal/workflow"
)

// The demo city's re-checks (动态管理): every Monday morning a tenth of
// each unit's closures of the week before is drawn for a revisit (回访);
// inspectors and grid workers go back within the week, and about one in
// eight finds the problem back (反弹): the case reopens with the photo
// and is dispatched again. The last week's revisits are still pending.
// Some citizens report a problem again at the spot of a case closed
// days before, which the platform flags as a recurrence (复发).

// recheckLoad is the re-checks' part of the demo, with its own random
// source so that the cases come out the same with or without it.
type recheckLoad struct {
	s                      *sim
	rng                    *rand.Rand
	byCase                 map[int64]*run
	draws, drawn           int
	passed, relapsed       int
	recurrences, moved     int
	sitesDone, sitesFailed int
}

const recheckRNG = 0x27d4eb2f

func (l *recheckLoad) p(prob float64) bool { return l.rng.Float64() < prob }

func recheckPick[T any](l *recheckLoad, xs []T) T { return xs[l.rng.IntN(len(xs))] }

// planRechecks stores the settings and queues a draw every Monday 08:00
// of the demo's days.
func planRechecks(s *sim) (*recheckLoad, error) {
	l := &recheckLoad{s: s, rng: rand.New(rand.NewPCG(uint64(s.opts.Seed), recheckRNG)), byCase: map[int64]*run{}}
	if err := s.flow.SaveRecheckSettings(s.ctx, s.admin, workflow.RecheckSettings{RevisitShare: 0.1, RevisitDays: 5, RecurrenceDays: 30}); err != nil {
		return nil, fmt.Errorf("demo: recheck settings: %w", err)
	}
	// The city's draw seed from the demo's seed, so that two loads draw
	// the same revisits.
	seed := sha256.Sum256([]byte(fmt.Sprintf("demo revisits %d", s.opts.Seed)))
	if err := s.flow.SetRevisitSeed(s.ctx, s.admin, seed[:]); err != nil {
		return nil, fmt.Errorf("demo: revisit seed: %w", err)
	}
	monday := workflow.WeekMonday(s.clock, s.loc).AddDate(0, 0, 7)
	for ; !monday.After(s.now); monday = monday.AddDate(0, 0, 7) {
		at := monday.Add(8 * time.Hour)
		if at.After(s.now) {
			break
		}
		s.push(&run{}, at, l.draw)
	}
	return l, nil
}

// draw draws the week's revisits and queues each one's visit within its
// five working days (those that fall after "now" stay pending).
func (l *recheckLoad) draw(*run) error {
	s := l.s
	d, err := s.flow.DrawRevisits(s.ctx, org.System, s.clock)
	if err != nil {
		return fmt.Errorf("revisit draw: %w", err)
	}
	l.draws++
	l.drawn += d.Drawn
	items, err := s.flow.Revisits(s.ctx, s.admin, workflow.RevisitFilter{Week: d.Week, State: workflow.RevisitPending})
	if err != nil {
		return err
	}
	recent := s.now.Sub(s.clock) < 7*24*time.Hour
	for i, it := range items {
		at := s.work(s.clock, l.rng.IntN(5*8*60))
		if recent && (i == 0 || l.p(0.4)) {
			continue // this week's: some still to do
		}
		s.scheduleOpt(&run{}, at, func(*run) error { return l.visit(it) })
	}
	return nil
}

// visit records one revisit: passed, or (about one in eight, for cases
// nothing else will move) a relapse with a photo, dispatched again a few
// office hours later.
func (l *recheckLoad) visit(it workflow.RevisitItem) error {
	s := l.s
	if l.byCase[it.CaseID] == nil {
		for _, r := range s.runs {
			if r.id != 0 {
				l.byCase[r.id] = r
			}
		}
	}
	r := l.byCase[it.CaseID]
	if r == nil {
		// A case the assessment raised: nothing else moves it once closed.
		c, err := s.flow.Get(s.ctx, s.admin, it.CaseID)
		if err != nil {
			return err
		}
		r = &run{id: c.ID, c: c}
	}
	if r.c == nil || r.c.State != workflow.Closed {
		return nil // reopened since the draw: moot
	}
	by := recheckPick(l, s.inspectors)
	if r.comm != nil && r.comm.grid != nil && l.p(0.5) {
		by = *r.comm.grid
	}
	// A case the plan reopens later stays closed until then, and so does
	// one the assessment raised (its steps are not this file's).
	fail := r.comm != nil && !(r.reopen && !r.didReopen) && l.p(0.13)
	res := workflow.RevisitResult{Pass: !fail, Note: recheckPick(l, revisitPassNotes)}
	if fail {
		pf, err := s.flow.Photos.Save(bytes.NewReader(recheckPick(l, s.photos.before)))
		if err != nil {
			return err
		}
		res.Note, res.Photos = recheckPick(l, relapseNotes), []photo.File{pf}
	}
	c, err := s.flow.RecordRevisit(s.ctx, by, it.ID, res)
	if e, ok := apperr.As(err); ok && e.Key == "revisit.moot" {
		// closed again on another dispatch since the draw (reopened
		// and handled anew): the product refuses the visit, and so it
		// stays undone, as an office's would
		return nil
	}
	if err != nil {
		return fmt.Errorf("revisit of %s by %s: %w", it.CaseNo, by.Name, err)
	}
	r.c = c
	s.acts++
	if !fail {
		l.passed++
		return nil
	}
	l.relapsed++
	s.scheduleOpt(r, s.work(s.clock, l.rng.IntN(4*60)+30), func(r *run) error {
		return s.act(r, recheckPick(l, s.acceptors), workflow.ActInput{Action: workflow.Dispatch, Opinion: "回访发现问题反弹，请重新整改并巩固成效"})
	})
	return nil
}

// recur moves a citizen's report, now and then, to the spot of a case of
// the same category and community closed in the last weeks: the same
// problem back (a recurrence).
func (l *recheckLoad) recur(r *run) {
	if r.out == outMerged || r.source != workflow.SourceCitizen || r.reportCat != r.cat || !l.p(0.35) {
		return
	}
	s := l.s
	var cands []*run
	for _, o := range s.runs {
		if o == r || o.c == nil || o.comm != r.comm || o.cat != r.cat || o.c.State != workflow.Closed {
			continue
		}
		if closed := o.c.ClosedAt; !closed.IsZero() && s.clock.Sub(closed) < 25*24*time.Hour && s.clock.After(closed) {
			cands = append(cands, o)
		}
	}
	if len(cands) == 0 {
		return
	}
	o := cands[l.rng.IntN(len(cands))]
	r.lat, r.lon, r.place, r.address = o.lat, o.lon, o.place, o.address
	l.moved++
}

// afterRound queues the re-inspections a closed round opened: an
// inspector goes back within twelve working days (those after "now" stay
// pending, some late); a standard fails again one time in five.
func (l *recheckLoad) afterRound(svc *assess.Service, round string) error {
	s := l.s
	ks, err := svc.Rechecks(s.ctx, s.admin, assess.RecheckPending)
	if err != nil {
		return err
	}
	recent := s.now.Sub(s.clock) < 14*24*time.Hour
	for _, k := range ks {
		if k.Round != round || recent && l.p(0.4) {
			continue // a recent round's: some still to do
		}
		at := s.work(s.clock, 60+l.rng.IntN(12*8*60))
		s.scheduleOpt(&run{}, at, func(*run) error { return l.recordSite(svc, k.Round, k.Site) })
	}
	return nil
}

func (l *recheckLoad) recordSite(svc *assess.Service, round, site string) error {
	s := l.s
	k, err := svc.RecheckOf(s.ctx, s.admin, round, site)
	if err != nil {
		return err
	}
	var res []assess.RecheckResult
	failed := false
	for _, it := range k.Items {
		r := assess.RecheckResult{Standard: it.Standard, Result: "pass", Note: recheckPick(l, sitePassNotes)}
		if l.p(0.2) {
			r.Result, r.Problems, r.Note, failed = "fail", 1+l.rng.IntN(2), recheckPick(l, siteFailNotes), true
		}
		res = append(res, r)
	}
	note := "复查整改到位"
	if failed {
		note = "部分问题未整改到位，已通知包保单位"
	}
	if _, err := svc.RecordRecheck(s.ctx, recheckPick(l, s.inspectors), round, site, res, note); err != nil {
		return fmt.Errorf("re-inspection of %s after %s: %w", site, round, err)
	}
	l.sitesDone++
	if failed {
		l.sitesFailed++
	}
	return nil
}

var sitePassNotes = []string{"已整改", "现场复查合格", "问题已消除"}

var siteFailNotes = []string{"仍存在同类问题", "整改不彻底", "复查时问题再次出现"}

func (l *recheckLoad) report() {
	var n int
	if err := l.s.flow.DB.Reader().QueryRow(l.s.ctx, `SELECT count(*) FROM case_recurrences`).Scan(&n); err == nil {
		l.recurrences = n
	}
	l.s.opts.Log("demo: %d weekly revisit draws (%d revisits: %d passed, %d relapsed), %d recurrences flagged, %d site re-inspections (%d failed again)",
		l.draws, l.drawn, l.passed, l.relapsed, l.recurrences, l.sitesDone, l.sitesFailed)
}

var revisitPassNotes = []string{
	"回访现场，整改成果保持良好，未见反弹。",
	"实地回访，问题未复发，周边群众反映满意。",
	"夜间回访查看，设施运行正常。",
	"回访时与店主沟通，已建立日常巡查，未见反弹。",
}

var relapseNotes = []string{
	"回访发现问题反弹：原处又出现同类问题，附现场照片。",
	"回访现场，整改未巩固，问题再次出现。",
	"回访时发现整改后又恢复原状，群众有意见。",
}
