package demo

import (
	"fmt"
	"math/rand/v2"
	"time"

	"chuangwen/internal/org"
	"chuangwen/internal/store"
	"chuangwen/internal/volunteer"
)

// The demo city's volunteer service (新时代文明实践志愿服务): a practice
// centre per district and an institute per street, a team per street
// and one of the city management bureau, about 2,000 volunteers from
// the teams' rosters, two activities a week per team over the demo's
// days with their confirmed hours (a few dozen veterans with a star),
// the last week's activities checked in on site (some hours still to
// confirm), pending registrations, certificates, and the next days'
// activities open for sign-up: one of them today, near 春晖社区, with
// the demo volunteer signed up, so that check-in can be tried at once.

// DemoVolunteerPhone is the demo volunteer's sign-in on /v (password
// DemoPassword).
const DemoVolunteerPhone = "13900000001"

type volTeam struct {
	team     volunteer.Team
	place    *community
	members  []int64
	veterans []int64
	guests   []int64 // the previous team's veterans, who join in
}

// volLoad is the volunteer service's part of the demo, with its own
// random source so that the cases come out the same with or without it.
type volLoad struct {
	s       *sim
	v       *volunteer.Service
	rng     *rand.Rand
	teams   []*volTeam
	seq     int
	me      int64
	records int
	acts    int
	elapsed time.Duration
	account Account
}

const volRNG = 0x5bd1e995

func (l *volLoad) intn(a, b int) int { return a + l.rng.IntN(b-a+1) }

func volPick[T any](l *volLoad, xs []T) T { return xs[l.rng.IntN(len(xs))] }

// planVolunteers sets up the network, teams and rosters now (the city's
// set-up time) and queues the activities' steps on the simulation, so
// that the trail stays in time order; runCases runs them.
func planVolunteers(v *volunteer.Service, s *sim) (*volLoad, error) {
	l := &volLoad{s: s, v: v, rng: rand.New(rand.NewPCG(uint64(s.opts.Seed), volRNG))}
	ctx, admin := s.ctx, s.admin
	started := time.Now()
	// The network: a centre per district, an institute per street.
	streets := map[int64]*community{} // street → its first community
	var order []int64
	for _, c := range s.communities {
		if streets[c.street.ID] == nil {
			streets[c.street.ID] = c
			order = append(order, c.street.ID)
		}
	}
	for _, d := range s.districtRegions {
		if _, err := v.CreateNode(ctx, admin, d.ID, ""); err != nil {
			return nil, fmt.Errorf("demo: practice centre: %w", err)
		}
	}
	nodeOf := map[int64]int64{}
	pop := map[int64]int64{}
	for _, id := range order {
		n, err := v.CreateNode(ctx, admin, id, "")
		if err != nil {
			return nil, fmt.Errorf("demo: practice institute: %w", err)
		}
		nodeOf[id] = n.ID
		// a scaled-down city: about one resident in twelve volunteers
		pop[id] = int64(l.intn(15, 40)) * int64(max(1, s.opts.Cases/20))
	}
	if err := v.SetPopulation(ctx, admin, pop); err != nil {
		return nil, err
	}
	// A coordinator for 湖滨街道's team; the others are run by the
	// volunteer office (volunteer1).
	coordUser, err := s.orgs.CreateUser(ctx, admin, org.NewUser{Username: "vol-hubin", DisplayName: "何晓燕", Password: DemoPassword, Role: org.RoleVolunteer,
		Scope: org.ScopeRegion, ScopeRegionID: streets[order[0]].street.ID, SkipPolicy: true})
	if err != nil {
		return nil, fmt.Errorf("demo: coordinator: %w", err)
	}
	for i, id := range order {
		c := streets[id]
		nt := volunteer.NewTeam{Name: c.street.Name + "志愿服务队", NodeID: nodeOf[id]}
		if i == 0 {
			nt.CoordinatorID = coordUser.ID
		}
		t, err := v.CreateTeam(ctx, admin, nt)
		if err != nil {
			return nil, fmt.Errorf("demo: team: %w", err)
		}
		l.teams = append(l.teams, &volTeam{team: t, place: c})
	}
	if u, ok := s.units["CGJ"]; ok {
		t, err := v.CreateTeam(ctx, admin, volunteer.NewTeam{Name: u.Name + "志愿服务队", UnitID: u.ID})
		if err != nil {
			return nil, fmt.Errorf("demo: team: %w", err)
		}
		l.teams = append(l.teams, &volTeam{team: t, place: s.communities[l.rng.IntN(len(s.communities))]})
	}
	l.account = Account{"vol-hubin", DemoPassword, string(org.RoleVolunteer), l.teams[0].team.Name}
	// Rosters: a volunteer for each case (about 2,000).
	per := max(12, s.opts.Cases/len(l.teams))
	for ti, t := range l.teams {
		rows := make([]volunteer.Registration, 0, per)
		for range per + l.intn(-per/5, per/5) {
			l.seq++
			rows = append(rows, l.row())
		}
		rep, err := v.ImportRoster(ctx, admin, t.team.ID, rows)
		if err != nil {
			return nil, fmt.Errorf("demo: roster: %w", err)
		}
		if len(rep.Problems) > 0 {
			return nil, fmt.Errorf("demo: roster of %s: row %d: %s %v", t.team.Name, rep.Problems[0].Row, rep.Problems[0].Key, rep.Problems[0].Args)
		}
		ids, err := store.Int64s(ctx, s.flow.DB.Reader(), `SELECT id FROM volunteers WHERE team_id = ? ORDER BY id`, t.team.ID)
		if err != nil {
			return nil, err
		}
		t.members = ids
		t.veterans = t.members[:min(len(t.members), 4+ti%3)]
	}
	// The demo volunteer registers on the phone page and is approved.
	l.seq++
	me := l.row()
	me.Name, me.Phone, me.Password, me.Consent, me.TeamID = "陈思远", DemoVolunteerPhone, DemoPassword, true, l.teams[0].team.ID
	meID, err := v.Register(ctx, me)
	if err != nil {
		return nil, fmt.Errorf("demo: volunteer: %w", err)
	}
	if err := v.Decide(ctx, admin, meID, true); err != nil {
		return nil, err
	}
	l.me = meID
	l.teams[0].members = append(l.teams[0].members, meID)
	l.teams[0].veterans = append(l.teams[0].veterans, meID)
	// Veterans also serve at the next team's activities: they reach a
	// star over the demo's months.
	for i, t := range l.teams {
		next := l.teams[(i+1)%len(l.teams)]
		next.guests = append(next.guests, t.veterans...)
	}
	l.elapsed += time.Since(started)
	l.plan()
	return l, nil
}

// step queues f at t (not before the clock, not after now).
func (l *volLoad) step(t time.Time, what string, f func() error) {
	s := l.s
	t = t.UTC()
	if t.After(s.now) {
		t = s.now
	}
	s.push(&run{}, t, func(*run) error {
		start := time.Now()
		err := f()
		l.elapsed += time.Since(start)
		if err != nil {
			return fmt.Errorf("volunteer service, %s: %w", what, err)
		}
		return nil
	})
}

// plan queues two activities a week per team from the start to two weeks
// ahead: created five days before; those ended before last week with
// their hours recorded by the organiser the next day; last week's
// checked in and out on site (the older half confirmed); the coming ones
// with a few sign-ups. Then today's activity, a certificate and a few
// registrations waiting.
func (l *volLoad) plan() {
	s, v, admin := l.s, l.v, l.s.admin
	ctx := s.ctx
	kinds := []string{"persuasion", "environment", "traffic", "care", "publicity"}
	titles := map[string][]string{
		"persuasion":  {"路口文明劝导", "农贸市场文明劝导", "公交站台文明引导"},
		"environment": {"背街小巷环境整治", "社区卫生大扫除", "河道沿岸清洁"},
		"traffic":     {"斑马线礼让宣传", "电动车佩戴头盔劝导"},
		"care":        {"关爱空巢老人走访", "助残服务"},
		"publicity":   {"文明城市创建宣传", "垃圾分类入户宣传"},
	}
	first := s.now.AddDate(0, 0, -s.opts.Days)
	lastWeek := s.now.AddDate(0, 0, -7)
	var recent int
	// A smaller demo (the tests') holds fewer activities: at the full
	// 2,000 cases every team every Wednesday and Saturday, at 200 one
	// team in five of them.
	every := min(6, max(1, (1000+s.opts.Cases-1)/s.opts.Cases))
	slot := 0
	for day := first; day.Before(s.now.AddDate(0, 0, 14)); day = day.AddDate(0, 0, 1) {
		d := day.In(s.loc)
		if d.Weekday() != time.Wednesday && d.Weekday() != time.Saturday {
			continue
		}
		slot++
		for ti, t := range l.teams {
			if (slot+ti)%every != 0 && !(ti == 0 && !day.Before(lastWeek)) {
				continue // team 0 keeps its last week's and coming activities
			}
			kind := volPick(l, kinds)
			begin := time.Date(d.Year(), d.Month(), d.Day(), volPick(l, []int{8, 9, 14, 15}), 0, 0, 0, s.loc)
			hours := l.intn(2, 4)
			na := volunteer.NewActivity{TeamID: t.team.ID, Kind: kind, Title: volPick(l, titles[kind]), Address: t.place.address,
				StartsAt: begin, EndsAt: begin.Add(time.Duration(hours) * time.Hour), Capacity: l.intn(15, 40)}
			na.Lat, na.Lon = s.communityPoint(t.place)
			a := new(volunteer.Activity)
			created := begin.AddDate(0, 0, -5)
			if lim := s.now.Add(-12 * time.Hour); created.After(lim) {
				created = lim // published before anyone signs up
			}
			l.step(created, "activity", func() error {
				var err error
				*a, err = v.CreateActivity(ctx, admin, na)
				l.acts++
				return err
			})
			switch {
			case na.EndsAt.Before(lastWeek):
				var past []volunteer.PastService
				seen := map[int64]bool{}
				for _, id := range append(t.veterans, t.guests...) {
					if !seen[id] {
						past = append(past, volunteer.PastService{VolunteerID: id, Minutes: hours * 60})
						seen[id] = true
					}
				}
				room := max(0, na.Capacity-len(past))
				for range l.intn(min(5, room), room) {
					id := t.members[l.rng.IntN(len(t.members))]
					if !seen[id] {
						seen[id] = true
						past = append(past, volunteer.PastService{VolunteerID: id, Minutes: hours*60 - l.intn(0, 3)*15})
					}
				}
				l.step(na.EndsAt.Add(26*time.Hour), "hours", func() error {
					l.records += len(past)
					return v.RecordPast(ctx, admin, a.ID, past, "按签到表补录")
				})
			case na.EndsAt.Before(s.now):
				recent++
				l.onSite(t, na, a, recent%2 == 1)
			default:
				for range l.intn(2, 8) {
					id := t.members[l.rng.IntN(len(t.members))]
					l.step(s.now.Add(-time.Duration(l.intn(60, 600))*time.Minute), "sign-up", func() error { return v.SignUp(ctx, id, a.ID) })
				}
			}
		}
	}
	// Today's activity near 春晖社区, on now, with the demo volunteer
	// signed up; a certificate for a veteran; registrations waiting.
	t0 := l.teams[0]
	today := s.now.In(s.loc).Truncate(time.Minute)
	na := volunteer.NewActivity{TeamID: t0.team.ID, Kind: "persuasion", Title: "湖滨路口文明劝导（今日）", Address: t0.place.address,
		StartsAt: today.Add(-time.Hour), EndsAt: today.Add(3 * time.Hour), Capacity: 30, RadiusM: 500}
	na.Lat, na.Lon = s.communityPoint(t0.place)
	l.step(s.now.Add(-48*time.Hour), "today's activity", func() error {
		a, err := v.CreateActivity(ctx, admin, na)
		if err != nil {
			return err
		}
		return v.SignUp(ctx, l.me, a.ID)
	})
	l.step(s.now.Add(-2*time.Hour), "certificate", func() error {
		_, err := v.Issue(ctx, admin, t0.veterans[0], t0.team.ID, first, s.now)
		return err
	})
	for i := range PendingRegistrations(s.opts.Cases) {
		l.seq++
		r := l.row()
		r.Password, r.Consent, r.TeamID = fmt.Sprintf("Pending-%d-Aa!", 1000+i), true, l.teams[i%2].team.ID
		l.step(s.now.Add(-time.Duration(90-10*i)*time.Minute), "registration", func() error {
			_, err := v.Register(ctx, r)
			return err
		})
	}
}

// onSite queues check-ins and check-outs on site for an activity of
// last week, and the organiser's confirmation the next morning.
func (l *volLoad) onSite(t *volTeam, na volunteer.NewActivity, a *volunteer.Activity, confirm bool) {
	s, v := l.s, l.v
	ctx := s.ctx
	n := min(l.intn(6, 14), len(t.members))
	seen := map[int64]bool{}
	for j := range n {
		id := t.members[l.rng.IntN(len(t.members))]
		if seen[id] {
			continue
		}
		seen[id] = true
		pos := volunteer.Position{Lat: na.Lat + float64(l.intn(-50, 50))*1e-6, Lon: na.Lon + float64(l.intn(-50, 50))*1e-6, AccuracyM: 15}
		l.step(na.StartsAt.Add(-time.Duration(l.intn(0, 20))*time.Minute), "check-in", func() error {
			_, err := v.CheckIn(ctx, id, a.CheckinToken, pos)
			l.records++
			return err
		})
		if j%7 == 6 {
			continue // forgot to check out
		}
		l.step(na.EndsAt.Add(time.Duration(l.intn(-20, 15))*time.Minute), "check-out", func() error {
			_, err := v.CheckOut(ctx, id, a.CheckinToken, pos)
			return err
		})
	}
	if confirm {
		l.step(na.EndsAt.Add(20*time.Hour), "confirmation", func() error {
			_, err := v.ConfirmAll(ctx, s.admin, a.ID)
			return err
		})
	}
}

func (l *volLoad) report() {
	l.s.opts.Log("demo: volunteer service: %d teams, %d volunteers, %d activities, %d service records; %s in its own steps",
		len(l.teams), l.seq, l.acts, l.records, l.elapsed.Round(time.Millisecond))
}

// PendingRegistrations is how many registrations the demo leaves for the
// coordinators to decide: five in the full demo, fewer in a small one
// (each costs a password hash).
func PendingRegistrations(cases int) int { return min(5, max(1, cases/100)) }

// row is a made-up roster row: a name, a unique mobile number
// and a valid identity number (GB 11643 check character) of the demo
// city's fictional area code.
func (l *volLoad) row() volunteer.Registration {
	seq := l.seq
	// the birthday's residue mod 3 carries seq/1000, so that no two rows
	// share the birthday and the sequence digits
	birth := time.Date(1955, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, l.rng.IntN(50*365/3)*3+seq/1000%3)
	first17 := fmt.Sprintf("530102%s%03d", birth.Format("20060102"), seq%1000)
	skills := []string{"", "", "医疗救护", "摄影", "外语", "法律咨询", "心理疏导", "文艺演出"}
	return volunteer.Registration{
		Name:     volPick(l, surnames) + volPick(l, givenNames),
		Phone:    fmt.Sprintf("139%08d", 10000000+seq),
		IDNumber: first17 + string(volunteer.IDCheckChar(first17)),
		Skills:   volPick(l, skills),
	}
}

// communityPoint is the middle of a community's block.
func (s *sim) communityPoint(c *community) (lat, lon float64) {
	p := s.layout.at(float64(c.block.x0+c.block.x1)/2, float64(c.block.y0+c.block.y1)/2)
	return round6(p.Lat), round6(p.Lon)
}
