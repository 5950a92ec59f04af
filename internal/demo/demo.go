// Package demo loads a FICTIONAL demo city, 云川市, into an empty database:
// regions, responsible units, problem categories with their time limits,
// the responsibility table, the 2026 holiday calendar, demo accounts with
// printed passwords, the unit grid (万米单元网格) with its grid workers, and
// a few thousand cases at every stage of the closed loop. Every case is driven through the real workflow service on a
// simulated clock, so its trail, dispatches, deadlines, warnings and audit chain
// are exactly what the product would have recorded.
//
// The demo is for trying the product and for screenshots. Its passwords
// are public; never load it into a database used for real work.
package demo

import (
	"chuangwen/internal/basemap"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"chuangwen/internal/apperr"
	"chuangwen/internal/assess"
	"chuangwen/internal/geo"
	"chuangwen/internal/grid"
	"chuangwen/internal/org"
	"chuangwen/internal/tasks"
	"chuangwen/internal/volunteer"
	"chuangwen/internal/workcal"
	"chuangwen/internal/workflow"
)

// Options tune the demo.
type Options struct {
	Cases int                              // number of cases (default 2000)
	Days  int                              // spread over the last N days (default 120)
	Seed  int64                            // deterministic random seed (default 1)
	Now   time.Time                        // "today" (default time.Now())
	Log   func(format string, args ...any) // progress, may be nil
	// Grid, when set, receives the city's grid cells (imported as a grid
	// file would be) and places every demo case; nil loads no grid.
	Grid *grid.Store
	// Basemap, when set, receives the demo city's fictional base layer
	// (roads with names, the river, the lake, parks), drawn under the grid
	// when no tile service is configured. It needs Grid.
	Basemap *basemap.Store
	// Assess, when set, receives the demo city's assessment (模拟测评):
	// the sample indicator tree, about 300 sites, two closed rounds with
	// their observations, values and raised cases, a leader's visit and
	// today's round in progress (see assess.go); nil loads none. Its
	// Cases must be nil (Load uses flow while it runs) or flow.
	Assess *assess.Service
	// Volunteer, when set, receives the demo city's volunteer service
	// (see volunteer.go); nil loads none.
	Volunteer *volunteer.Service
	// Tasks, when set, receives the demo city's task list (see tasks.go).
	Tasks *tasks.Service
}

// Account is a demo login, printed for the newcomer. Password is the
// demo password (public on purpose). Unit is the handler's unit, or for
// other roles the part of the city the account sees.
type Account struct{ Username, Password, Role, Unit string }

// Load builds the demo city into an empty, migrated database and returns
// the demo accounts. It refuses (error) if the database already has
// regions (never overwrite a real city). An existing "admin" account (the
// first-start administrator) is kept with its own password.
//
// With opts.Grid, Load imports the grid cells into it and sets
// flow.Locator to it (and leaves it so), so that every case is placed in
// the grid by the workflow service itself: most in a cell of their
// community, some on a road near one (属地兜底), a few where no cell is near
// (unlocated). Load refuses a grid that already has cells.
//
// With opts.Assess, Load also loads the assessment through it, as the
// demo administrator and the demo inspectors and leader, its steps on the
// cases' simulated clock so that the cases its failed observations raise
// are handled along with the others.
//
// Load sets flow.Now, orgs.Now, opts.Grid.Now and opts.Assess.Now to its
// simulated clock while it runs and restores them before returning, so it
// must not run while the same services answer requests. It is not one
// transaction: if it fails (or ctx ends) half-way, the database holds part
// of the demo city and should be thrown away. The holiday calendar loaded is the 2026 one
// (workcal.China2026); days of other years count as plain weekdays and
// weekends.
func Load(ctx context.Context, orgs *org.Store, flow *workflow.Service, opts Options) ([]Account, error) {
	if opts.Cases <= 0 {
		opts.Cases = 2000
	}
	if opts.Days <= 0 {
		opts.Days = 120
	}
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	if opts.Log == nil {
		opts.Log = func(string, ...any) {}
	}
	if flow.Location == nil {
		return nil, errors.New("demo: the workflow service has no location")
	}
	if flow.Photos == nil {
		return nil, errors.New("demo: the workflow service has no photo store")
	}
	if opts.Assess != nil && opts.Assess.Cases != nil && opts.Assess.Cases != flow {
		return nil, errors.New("demo: the assessment service raises its cases through another workflow service")
	}
	regions, err := orgs.Regions(ctx)
	if err != nil {
		return nil, err
	}
	if len(regions) > 0 {
		return nil, errors.New("demo: the database already has regions; the demo city is only loaded into an empty database")
	}
	if opts.Grid != nil {
		n, err := opts.Grid.Count(ctx)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			return nil, errors.New("demo: the database already has grid cells; the demo city is only loaded into an empty database")
		}
	}

	s := &sim{
		ctx:  ctx,
		orgs: orgs,
		flow: flow,
		opts: opts,
		rng:  rand.New(rand.NewPCG(uint64(opts.Seed), 0x9e3779b97f4a7c15)),
		loc:  flow.Location,
		now:  opts.Now.UTC().Truncate(time.Second),
		grid: opts.Grid,
	}
	// The city is set up two days before the first case.
	s.clock = s.now.AddDate(0, 0, -opts.Days-2)
	s.clock = time.Date(s.clock.Year(), s.clock.Month(), s.clock.Day(), 9, 0, 0, 0, s.loc).UTC()
	prevFlow, prevOrg := flow.Now, orgs.Now
	flow.Now = func() time.Time { return s.clock }
	orgs.Now = func() time.Time { return s.clock }
	defer func() { flow.Now, orgs.Now = prevFlow, prevOrg }()
	if s.grid != nil {
		prevGrid := s.grid.Now
		s.grid.Now = func() time.Time { return s.clock }
		defer func() { s.grid.Now = prevGrid }()
	}
	if opts.Assess != nil {
		prevAssess := opts.Assess.Now
		opts.Assess.Now = func() time.Time { return s.clock }
		defer func() { opts.Assess.Now = prevAssess }()
		if opts.Assess.Cases == nil {
			opts.Assess.Cases = flow
			defer func() { opts.Assess.Cases = nil }()
		}
	}

	start := time.Now()
	accounts, err := s.buildCity()
	if err != nil {
		return nil, err
	}
	if err := s.stockReplies(); err != nil {
		return nil, err
	}
	opts.Log("demo: city set up (%d regions, %d units, %d categories, %d accounts) in %s",
		len(s.communities)+s.streetCount+len(districts)+1, len(s.units), s.catCount, len(accounts), time.Since(start).Round(time.Millisecond))
	if s.grid != nil {
		if err := s.loadGrid(); err != nil {
			return nil, err
		}
		if opts.Basemap != nil {
			if err := opts.Basemap.Replace(ctx, org.System, s.baseLayer()); err != nil {
				return nil, err
			}
		}
		// From here on the workflow service places every report.
		flow.Locator = s.grid
	}
	// The assessment's steps join the cases' on the simulated clock.
	var al *assessLoad
	if opts.Assess != nil {
		al = planAssessment(ctx, opts, s)
	}
	var vl *volLoad
	if opts.Volunteer != nil {
		prevVol := opts.Volunteer.Now
		opts.Volunteer.Now = func() time.Time { return s.clock }
		defer func() { opts.Volunteer.Now = prevVol }()
		if vl, err = planVolunteers(opts.Volunteer, s); err != nil {
			return nil, err
		}
	}
	if s.rechecks, err = planRechecks(s); err != nil {
		return nil, err
	}
	var tl *taskLoad
	if opts.Tasks != nil {
		prevTasks := opts.Tasks.Now
		opts.Tasks.Now = func() time.Time { return s.clock }
		defer func() { opts.Tasks.Now = prevTasks }()
		tl = planTasks(opts.Tasks, s)
	}
	if err := s.runCases(); err != nil {
		return nil, err
	}
	s.rechecks.report()
	if tl != nil {
		tl.summary()
	}
	if al != nil {
		al.report()
	}
	if vl != nil {
		vl.report()
		accounts = append(accounts, vl.account, Account{DemoVolunteerPhone, DemoPassword, "志愿者 (/v)", vl.account.Unit})
	}
	return accounts, nil
}

// community is a leaf region with what the case generator needs.
type community struct {
	region   org.Region
	name     string
	district int // index into districts
	street   org.Region
	streetNo int // index within the district
	office   int64
	grid     *org.Actor
	block    block      // its cells in the city's lattice
	cells    []geo.Cell // its grid cells, as imported
	roads    [2]string
	compound string
	address  string // "云川市明湖区湖滨街道春晖社区"
}

// buildCity creates the organisation, categories, responsibility table,
// holidays and accounts.
func (s *sim) buildCity() ([]Account, error) {
	ctx := s.ctx
	tick := func() { s.clock = s.clock.Add(7 * time.Second) }

	// Pre-check the demo usernames so that nothing is written when one is
	// taken.
	var adminUser *org.User
	for _, name := range s.usernames() {
		u, err := s.orgs.UserByName(ctx, name)
		if err == nil {
			if name == "admin" && u.Role == org.RoleAdmin {
				adminUser = &u
				continue
			}
			return nil, fmt.Errorf("demo: user %q already exists; the demo city is only loaded into an empty database", name)
		}
		if !apperr.Is(err, apperr.NotFound) {
			return nil, err
		}
	}

	var accounts []Account
	if adminUser == nil {
		u, err := s.orgs.CreateUser(ctx, org.System, org.NewUser{Username: "admin", DisplayName: "系统管理员", Password: DemoPassword,
			Role: org.RoleAdmin, Scope: org.ScopeCity, SkipPolicy: true})
		if err != nil {
			return nil, fmt.Errorf("demo: admin: %w", err)
		}
		adminUser = &u
		accounts = append(accounts, Account{"admin", DemoPassword, string(org.RoleAdmin), "全市"})
	} else {
		accounts = append(accounts, Account{"admin", "(unchanged)", string(org.RoleAdmin), "全市"})
	}
	tick()
	admin, err := s.orgs.ActorFor(ctx, *adminUser)
	if err != nil {
		return nil, err
	}
	s.admin = admin

	// Regions.
	city, err := s.orgs.CreateRegion(ctx, admin, org.Region{Code: cityCode, Name: cityName, Level: "city"})
	if err != nil {
		return nil, fmt.Errorf("demo: region: %w", err)
	}
	s.city = city
	tick()
	s.layout = layoutCity()
	roadIdx := 0
	for di, d := range districts {
		dr, err := s.orgs.CreateRegion(ctx, admin, org.Region{Code: fmt.Sprintf("%s%02d", cityCode[:4], di+2), Name: d.name, Level: "district", ParentID: city.ID})
		if err != nil {
			return nil, fmt.Errorf("demo: region: %w", err)
		}
		tick()
		s.districtRegions = append(s.districtRegions, dr)
		for si, st := range d.streets {
			sr, err := s.orgs.CreateRegion(ctx, admin, org.Region{Code: fmt.Sprintf("%s%03d", dr.Code, si+1), Name: st.name, Level: "street", ParentID: dr.ID})
			if err != nil {
				return nil, fmt.Errorf("demo: region: %w", err)
			}
			tick()
			s.streetCount++
			for ci, cn := range st.communities {
				cr, err := s.orgs.CreateRegion(ctx, admin, org.Region{Code: fmt.Sprintf("%s%03d", sr.Code, ci+1), Name: cn, Level: "community", ParentID: sr.ID})
				if err != nil {
					return nil, fmt.Errorf("demo: region: %w", err)
				}
				tick()
				n := len(roadNames)
				r1 := roadNames[roadIdx%n]
				r2 := roadNames[(roadIdx*5+17)%n]
				if r2 == r1 {
					r2 = roadNames[(roadIdx+1)%n]
				}
				s.communities = append(s.communities, &community{
					region: cr, name: cn, district: di, street: sr, streetNo: si, block: s.layout.blocks[di][si][ci],
					roads: [2]string{r1, r2}, compound: compoundNames[roadIdx%len(compoundNames)],
					address: cityName + d.name + st.name + cn,
				})
				roadIdx++
			}
		}
	}

	// Units: municipal departments and companies, district governments,
	// street offices.
	s.units = map[string]org.Unit{}
	for _, ud := range cityUnits {
		u, err := s.orgs.CreateUnit(ctx, admin, org.Unit{Code: ud.code, Name: ud.name, Kind: ud.kind})
		if err != nil {
			return nil, fmt.Errorf("demo: unit: %w", err)
		}
		tick()
		s.units[ud.key] = u
	}
	streetOffice := map[int64]int64{} // street region → office unit
	for di, d := range districts {
		dr := s.districtRegions[di]
		u, err := s.orgs.CreateUnit(ctx, admin, org.Unit{Code: "QZF-" + dr.Code, Name: d.name + "人民政府", Kind: "district", RegionID: dr.ID})
		if err != nil {
			return nil, fmt.Errorf("demo: unit: %w", err)
		}
		tick()
		s.units[d.key] = u
	}
	for _, c := range s.communities {
		st := districts[c.district].streets[c.streetNo]
		if !st.office {
			continue
		}
		if _, ok := streetOffice[c.street.ID]; !ok {
			u, err := s.orgs.CreateUnit(ctx, admin, org.Unit{Code: "JDB-" + c.street.Code, Name: st.name + "办事处", Kind: "street", RegionID: c.street.ID})
			if err != nil {
				return nil, fmt.Errorf("demo: unit: %w", err)
			}
			tick()
			s.units["jd-"+c.street.Code] = u
			streetOffice[c.street.ID] = u.ID
		}
		c.office = streetOffice[c.street.ID]
	}
	s.buildCells()
	s.byRegion = map[int64]*community{}
	for _, c := range s.communities {
		s.byRegion[c.region.ID] = c
	}

	// Categories.
	s.cats = map[string]*catInfo{}
	for _, g := range categoryTree {
		parent, err := s.flow.SaveCategory(ctx, admin, workflow.Category{Code: g.code, Name: g.name, Hint: g.hint, LimitUnit: workcal.Hours})
		if err != nil {
			return nil, fmt.Errorf("demo: category: %w", err)
		}
		tick()
		s.catCount++
		for i := range g.cats {
			cd := &g.cats[i]
			c, err := s.flow.SaveCategory(ctx, admin, workflow.Category{Code: cd.code, ParentID: parent.ID, Name: cd.name, Standard: cd.standard,
				LimitUnit: cd.unit, LimitNormal: cd.normal, LimitUrgent: cd.urgent, LimitCritical: cd.crit,
				Hint: cd.hint, AutoAccept: cd.auto, AutoDispatch: cd.auto})
			if err != nil {
				return nil, fmt.Errorf("demo: category %s: %w", cd.code, err)
			}
			tick()
			s.catCount++
			ci := &catInfo{def: cd, cat: c, group: g.name}
			s.cats[cd.code] = ci
			s.catList = append(s.catList, ci)
			s.catWeight += cd.weight
		}
	}

	// Responsibility table: a city-wide default per 小类, one override per
	// district (its government leads one kind of problem there), and for
	// the street offices a row per "local" 小类 adding the office as a
	// cooperating unit.
	for _, ci := range s.catList {
		lead, coops := s.units[ci.def.lead].ID, s.unitIDs(ci.def.coops)
		if err := s.saveResp(ci, city.ID, lead, coops); err != nil {
			return nil, err
		}
		tick()
	}
	type row struct {
		lead  int64
		coops []int64
	}
	districtRow := map[int]map[string]row{}
	for di, d := range districts {
		ci := s.cats[d.override]
		lead := s.units[d.key].ID
		coops := append(s.unitIDs(ci.def.coops), s.units[ci.def.lead].ID)
		if err := s.saveResp(ci, s.districtRegions[di].ID, lead, coops); err != nil {
			return nil, err
		}
		tick()
		districtRow[di] = map[string]row{d.override: {lead, coops}}
	}
	doneStreet := map[int64]bool{}
	for _, c := range s.communities {
		if c.office == 0 || doneStreet[c.street.ID] {
			continue
		}
		doneStreet[c.street.ID] = true
		for _, ci := range s.catList {
			if !ci.def.local {
				continue
			}
			lead, coops := s.units[ci.def.lead].ID, s.unitIDs(ci.def.coops)
			if o, ok := districtRow[c.district][ci.def.code]; ok {
				lead, coops = o.lead, o.coops
			}
			if err := s.saveResp(ci, c.street.ID, lead, append(append([]int64(nil), coops...), c.office)); err != nil {
				return nil, err
			}
			tick()
		}
	}

	// Holidays.
	if err := s.flow.SetHolidays(ctx, admin, workcal.China2026()); err != nil {
		return nil, fmt.Errorf("demo: holidays: %w", err)
	}
	tick()
	cal, err := s.flow.Calendar(ctx)
	if err != nil {
		return nil, err
	}
	s.cal = cal

	// Accounts.
	mk := func(username, name string, role org.Role, unitID int64, scope org.Scope, regionID int64, where string) (org.Actor, error) {
		u, err := s.orgs.CreateUser(ctx, admin, org.NewUser{Username: username, DisplayName: name, Password: DemoPassword, Role: role,
			UnitID: unitID, Scope: scope, ScopeRegionID: regionID, SkipPolicy: true})
		if err != nil {
			return org.Actor{}, fmt.Errorf("demo: user %s: %w", username, err)
		}
		tick()
		accounts = append(accounts, Account{username, DemoPassword, string(role), where})
		return s.orgs.ActorFor(ctx, u)
	}
	for i, name := range []string{"陈晓燕", "刘建华"} {
		a, err := mk(fmt.Sprintf("acceptor%d", i+1), name, org.RoleAcceptor, 0, org.ScopeCity, 0, "全市")
		if err != nil {
			return nil, err
		}
		s.acceptors = append(s.acceptors, a)
	}
	// The 12345 hotline platform files part of the hotline's calls over
	// Open311 with its own token: the token's name makes it the owner of
	// those cases (it alone may post updates to them).
	tok, err := s.orgs.CreateToken(ctx, org.System, hotlineClient, 0)
	if err != nil {
		return nil, fmt.Errorf("demo: hotline token: %w", err)
	}
	if s.hotline, err = s.orgs.ActorForToken(ctx, tok.Secret); err != nil {
		return nil, fmt.Errorf("demo: hotline token: %w", err)
	}
	s.handlers = map[int64]org.Actor{}
	for _, ud := range cityUnits {
		if ud.handler == "" {
			continue
		}
		u := s.units[ud.key]
		a, err := mk(ud.handler, ud.handlerName, org.RoleHandler, u.ID, org.ScopeUnit, 0, u.Name)
		if err != nil {
			return nil, err
		}
		s.handlers[u.ID] = a
		s.handlerUnits = append(s.handlerUnits, u.ID)
	}
	for _, d := range districts {
		u := s.units[d.key]
		a, err := mk("handler-"+d.key, d.handler, org.RoleHandler, u.ID, org.ScopeUnit, 0, u.Name)
		if err != nil {
			return nil, err
		}
		s.handlers[u.ID] = a
		s.handlerUnits = append(s.handlerUnits, u.ID)
	}
	for i, name := range []string{"赵敏", "孙磊"} {
		a, err := mk(fmt.Sprintf("inspector%d", i+1), name, org.RoleInspector, 0, org.ScopeCity, 0, "全市")
		if err != nil {
			return nil, err
		}
		s.inspectors = append(s.inspectors, a)
	}
	s.districtInspector, err = mk("inspector-"+districts[0].key, "周婷", org.RoleInspector, 0, org.ScopeRegion, s.districtRegions[0].ID, districts[0].name)
	if err != nil {
		return nil, err
	}
	gridByStreet := map[int64]*org.Actor{}
	for _, c := range s.communities {
		st := districts[c.district].streets[c.streetNo]
		if st.grid == "" {
			continue
		}
		if _, ok := gridByStreet[c.street.ID]; !ok {
			a, err := mk(st.grid, st.gridName, org.RoleGrid, 0, org.ScopeRegion, c.street.ID, districts[c.district].name+st.name)
			if err != nil {
				return nil, err
			}
			gridByStreet[c.street.ID] = &a
		}
		c.grid = gridByStreet[c.street.ID]
	}
	if s.leader, err = mk("leader1", "何志远", org.RoleLeader, 0, org.ScopeCity, 0, "全市"); err != nil {
		return nil, err
	}
	if _, err = mk("volunteer1", "林小雨", org.RoleVolunteer, 0, org.ScopeCity, 0, "全市"); err != nil {
		return nil, err
	}
	return accounts, nil
}

// usernames lists every demo account name, for the pre-check.
func (s *sim) usernames() []string {
	out := []string{"admin", "acceptor1", "acceptor2", "inspector1", "inspector2", "inspector-" + districts[0].key, "leader1", "volunteer1"}
	for _, ud := range cityUnits {
		if ud.handler != "" {
			out = append(out, ud.handler)
		}
	}
	for _, d := range districts {
		out = append(out, "handler-"+d.key)
		for _, st := range d.streets {
			if st.grid != "" {
				out = append(out, st.grid)
			}
		}
	}
	return out
}

func (s *sim) unitIDs(keys []string) []int64 {
	var out []int64
	for _, k := range keys {
		out = append(out, s.units[k].ID)
	}
	return out
}

func (s *sim) saveResp(ci *catInfo, regionID, lead int64, coops []int64) error {
	_, err := s.flow.SaveResponsibility(s.ctx, s.admin, workflow.Responsibility{CategoryID: ci.cat.ID, RegionID: regionID, LeadUnitID: lead, CoopUnitIDs: coops})
	if err != nil {
		return fmt.Errorf("demo: responsibility %s: %w", ci.def.code, err)
	}
	return nil
}

// demoReplies are the office's stock replies (常用语) in the demo city.
var demoReplies = map[workflow.Action][]string{
	workflow.Reject:     {"不属于城市管理和文明创建范围，已告知反映人通过其他渠道办理", "信息不全，无法定位，请补充具体地址后重新上报"},
	workflow.Dispatch:   {"请于时限内整改到位，并上传整改前后对比照片", "请牵头单位会同协办单位联合处置，按期反馈", "群众反映强烈，请优先处理"},
	workflow.Return:     {"不属于本单位职责，请重新派遣", "点位不在本单位管辖范围"},
	workflow.Feedback:   {"已整改到位，现场已清理干净", "已安排人员处置，设施已修复"},
	workflow.VerifyPass: {"现场核查已整改到位"},
	workflow.VerifyFail: {"现场仍有问题，请返工并重新反馈", "整改照片与现场不符，请重新整改"},
	workflow.Supervise:  {"多次返工仍未解决，挂牌督办，限期整改", "群众反映集中的突出问题，挂牌督办"},
}

func (s *sim) stockReplies() error {
	for _, a := range workflow.Actions {
		if texts, ok := demoReplies[a]; ok {
			if err := s.flow.SetStockReplies(s.ctx, s.admin, a, texts); err != nil {
				return err
			}
		}
	}
	return nil
}
