package demo

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"chuangwen/internal/assess"
	"chuangwen/internal/geo"
	"chuangwen/internal/org"
	"chuangwen/internal/photo"
	"chuangwen/internal/store"
	"chuangwen/internal/workcal"
	"chuangwen/internal/workflow"
)

// The demo city's assessment (模拟测评), loaded through assess.Service as
// an office would load it from files and record it on the phone: the
// sample indicator tree (published), about 300 sites (点位) of its site
// types in the four districts, the office's settings (a problem category
// for every observed standard, card thresholds), and four rounds:
//
//   - one in the previous calendar quarter and one in the current, each
//     with inspection teams of the demo inspectors, a sample, observations
//     at every sampled site and the districts' survey and document values,
//     and closed. Their failed observations raised cases (source
//     inspection) for the sites' units; the older round's cases were
//     mostly handled and closed, the newer round's mostly wait for the
//     re-check, a few are overdue (the street offices, which have no demo
//     handler, never take theirs up). About ten of the newer round's
//     failures were recorded on the phone with photos;
//   - a leader's supervision visit (领导督导) after the current quarter's
//     round, a few problems recorded on the phone, each a case, closed;
//   - today's round (in progress), a small sample of which the teams have
//     recorded part, so that the demo inspector finds today's sites on the
//     phone view, some done and some to do.
//
// The failure rates differ by district and by the sites' responsible
// units; three districts improve from the first round to the second and
// 青溪区 gets worse, so scores, changes, rankings, cards and the ledger all
// have something to show. About a tenth of the sites have no responsible
// unit (the banks, for which the demo city has no supervising unit, and a
// few others), so that the ledger shows losses going to the standards'
// lead units and unattributed ones.
//
// Every step is a job on the case simulation's clock (see cases.go), at
// the time an office would take it, so the raised cases are handled along
// with the others. The sites, samples, observations and values are drawn
// from their own generator seeded with opts.Seed, the rest (teams, phone
// observations, the visit, today's round, what becomes of the cases) from
// a second one, so the scored rounds are the same whatever the number of
// cases.

// assessRNG is the second word of the assessment generator's seed;
// assessLifeRNG that of the second generator.
const (
	assessRNG     = 0x61737365737331
	assessLifeRNG = 0x61737365737332
)

// assessGroup is the 大类 the office adds for what inspections find and
// citizens seldom report, offered to staff only. Its cases are led by the
// district governments (a responsibility row per district) unless the
// site's unit or the standard's lead unit takes them.
var assessGroup = groupDef{"09", "文明创建", "模拟测评和领导督导发现的文明实践阵地、窗口服务、不文明行为等问题", []catDef{
	{code: "0901", name: "文明阵地运行不正常", standard: "阵地有场地、有人值守、有活动记录，按公示时间开放。", unit: workcal.Days, normal: 5, urgent: 2,
		hint:  "新时代文明实践站、志愿服务站、心理辅导站、图书馆和文化馆无人值守、未按时开放或无活动记录",
		fixes: []string{"已安排专人值守，补齐活动记录并公示开放时间", "已恢复正常开放，完善值守和活动台账"}},
	{code: "0902", name: "服务经营不规范", standard: "服务规范和投诉电话公示，便民设施齐全，热线接听及时；经营场所不接纳未成年人、不向未成年人售烟酒。",
		unit: workcal.Days, normal: 3, urgent: 1,
		hint:  "窗口单位服务不规范、热线接听不及时，网吧和商店接纳未成年人或向其售烟酒",
		fixes: []string{"已补齐公示内容和便民设施，并对工作人员开展服务规范培训", "已约谈经营者并责令整改，悬挂禁止标识，纳入日常巡查"}},
	{code: "0903", name: "不文明行为", standard: "劝导到位，现场无闯红灯、不礼让行人、吸烟、随地吐痰、遛狗不拴绳等不文明行为。", unit: workcal.Days, normal: 2, urgent: 1,
		hint:  "闯红灯、机动车不礼让行人、公共场所吸烟、随地吐痰、遛狗不拴绳等",
		fixes: []string{"已在该点位增派文明劝导员，并设置提示标识", "已开展集中劝导和宣传，现场秩序明显好转"}},
	{code: "0904", name: "负面清单事项", standard: "事件已依法处置，责任已查明，整改措施已落实。", unit: workcal.Days, normal: 1,
		hint:  "测评负面清单所列的重大安全生产事故、重大刑事案件、重大环境污染等事件",
		fixes: []string{"已按规定上报并完成处置，整改措施已落实"}},
}}

// standardCategory files each observed standard and negative-list item of
// the sample tree under a 小类: the city's where one fits, else one of
// assessGroup's.
var standardCategory = map[string]string{
	"1.1.1": "0201", "1.1.2": "0201", "1.1.3": "0201", "1.1.4": "0201", "1.2.1": "0201",
	"1.3.1": "0902", "1.3.2": "0901", "2.1.1": "0901", "2.1.2": "0901",
	"3.1.1": "0903", "3.1.2": "0903", "3.1.3": "0401", "3.2.1": "0104", "3.2.2": "0801", "3.3.1": "0903", "3.3.2": "0903",
	"4.1.1": "0101", "4.1.2": "0105", "4.1.3": "0304", "4.1.4": "0103", "4.2.1": "0301", "4.2.2": "0303", "4.2.3": "0701",
	"4.3.1": "0701", "4.3.2": "0602", "5.1.1": "0902", "5.1.2": "0902", "5.1.3": "0902", "5.2.1": "0901", "5.2.2": "0901",
	"N1": "0904",
}

// cardSettings are the office's card thresholds: with the demo's rates
// (the city about 72% and then 78%, districts 73%–92%, streets 71%–97%)
// and units' losses (the worst two or three lose about 3 points a round,
// a few between 1.5 and 3, most under 1), every colour shows in both
// rounds.
var cardSettings = struct{ green, yellow, yellowLost, redLost string }{"0.85", "0.75", "1.5", "3"}

// siteKind is one site type of the sample tree: how many sites of it each
// district has (n plus a random 0..extra), how many a round draws in each
// district, and who answers for such a site (包保单位). "local" is the
// street office where the community has one, else the district
// government; "district" is the district government.
type siteKind struct {
	typ      string
	n, extra int
	draw     int
	units    []string
}

var siteKinds = []siteKind{
	{"主次干道", 4, 2, 3, []string{"CGJ", "CGJ", "JTJ", "ZJJ"}},
	{"商业大街", 2, 2, 2, []string{"SCJG", "SWJ", "CGJ"}},
	{"背街小巷", 5, 2, 3, []string{"local", "CGJ", "local"}},
	{"交通路口", 4, 2, 2, []string{"JJZD"}},
	{"公交车", 2, 1, 1, []string{"GJJT"}},
	{"公交站亭", 4, 2, 2, []string{"GJJT", "JTJ"}},
	{"政务服务大厅", 1, 0, 1, []string{"district"}},
	{"银行网点", 2, 2, 2, nil}, // no supervising unit in the demo city
	{"医院", 2, 1, 1, []string{"WJW"}},
	{"车站", 1, 0, 1, []string{"JTJ"}},
	{"商场超市", 2, 2, 2, []string{"SWJ", "SCJG"}},
	{"农贸市场", 2, 2, 2, []string{"SCJG", "local"}},
	{"居民小区", 5, 2, 3, []string{"ZJJ", "local", "local"}},
	{"社区", 4, 2, 2, []string{"local"}},
	{"公园广场", 2, 2, 2, []string{"YLJ"}},
	{"学校周边", 3, 2, 2, []string{"JYJ"}},
	{"网吧", 1, 2, 1, []string{"WLJ"}},
	{"心理健康辅导站", 1, 0, 1, []string{"JYJ"}},
	{"新时代文明实践站", 2, 1, 2, []string{"local"}},
	{"志愿服务站", 2, 1, 2, []string{"local", "district"}},
	{"公共厕所", 4, 2, 2, []string{"CGJ"}},
	{"建筑工地围挡", 2, 2, 2, []string{"ZJJ"}},
	{"图书馆", 1, 0, 1, []string{"WLJ"}},
	{"文化馆", 1, 1, 1, []string{"WLJ"}},
}

// hotlines are the 服务热线 sites, one in each district (where its call
// centre sits), checked by simulated calls.
var hotlines = []struct{ name, unit, address string }{
	{"12345政务服务便民热线", "", "云川市明湖区明珠大道88号市民服务中心"},
	{"12315消费者投诉举报热线", "SCJG", "云川市云岭区北苑路16号"},
	{"12319城建服务热线", "ZJJ", "云川市青溪区西苑路39号"},
	{"12328交通运输服务监督热线", "JTJ", "云川市南屏区站前路2号"},
}

// stations are the districts' 车站, in district order.
var stations = []string{"云川站(火车站)", "云川汽车客运北站", "云川汽车客运西站", "云川汽车客运南站"}

// failRate is each district's share of failed observations in the first
// and the second round (districts order): three improve, 青溪区 worsens.
var failRate = [][2]float64{{0.17, 0.10}, {0.25, 0.14}, {0.10, 0.25}, {0.30, 0.19}}

// unitFactor scales the failure rate at the sites of a unit; district
// governments (QZF-), street offices (JDB-) and sites without a unit have
// their own.
var unitFactor = map[string]float64{
	"CGJ": 1.1, "ZJJ": 1.35, "JTJ": 0.8, "JJZD": 1.25, "SCJG": 1.0, "SWJ": 0.9, "YLJ": 0.6,
	"WLJ": 0.75, "WJW": 0.7, "JYJ": 0.65, "GJJT": 1.15, "QZF-": 0.9, "JDB-": 1.05, "": 1.2,
}

// standardFactor: some pass_rate standards fail more often than others.
var standardFactor = map[string]float64{"3.1.1": 1.5, "4.1.2": 1.4, "4.1.3": 1.3, "4.3.1": 1.2, "1.3.2": 0.6, "5.2.1": 0.5, "5.1.3": 1.3}

// dayNA is the share of street lighting checks made in daylight (na).
const dayNA = 0.15

// deductLoss is the share of a deduct standard's points the city loses
// on average (before the districts' differences), by round: a deduct
// standard scores per_problem × problems over the whole scope, so its
// failure rate is set from the number of its observations.
var deductLoss = [2]float64{0.45, 0.35}

// meanProblems is the mean number of problems on a failed deduct
// observation (1, 2 or 3 with odds 7:2:1).
const meanProblems = 1.4

// failNotes are the inspectors' notes on failed observations.
var failNotes = map[string][]string{
	"1.1.1": {"该路段公益广告不足5处", "公益广告画面褪色破损", "公益广告被商业广告遮挡"},
	"1.1.2": {"车厢内未张贴核心价值观公益广告", "站亭公益广告位被商业广告占用"},
	"1.1.3": {"大厅内未见公益广告展示", "公益广告内容过期未更新"},
	"1.1.4": {"宣传栏内容陈旧未更新", "文化墙破损褪色"},
	"1.2.1": {"未设置身边好人宣传栏", "道德模范宣传栏内容缺失"},
	"1.3.1": {"周边商店向未成年人售烟", "网吧未悬挂未成年人禁入标志", "网吧接纳未成年人上网"},
	"1.3.2": {"辅导站无人值守", "无心理辅导记录"},
	"2.1.1": {"实践站大门紧锁，无活动记录", "活动记录不全"},
	"2.1.2": {"志愿服务站无人值守", "未公示志愿服务项目"},
	"3.1.1": {"机动车未在斑马线前礼让行人", "右转车辆抢行斑马线"},
	"3.1.2": {"行人闯红灯", "非机动车逆行", "电动车闯红灯"},
	"3.1.3": {"机动车占用人行道停放", "电动车占用盲道"},
	"3.2.1": {"商户出店经营", "流动摊贩占道经营"},
	"3.2.2": {"未设置公平秤", "部分摊位未明码标价", "摊位未划行归市"},
	"3.3.1": {"室内有人吸烟", "禁烟标识缺失"},
	"3.3.2": {"有人遛狗不拴绳", "地面有烟头纸屑", "有人随地吐痰"},
	"4.1.1": {"路面有暴露垃圾", "绿化带内有烟头杂物", "有散落建筑垃圾"},
	"4.1.2": {"垃圾桶满溢未及时清运", "垃圾未分类投放"},
	"4.1.3": {"公厕地面有积水、异味明显", "洗手液和厕纸缺失", "500米内无指引标识"},
	"4.1.4": {"电线杆上有小广告", "墙面有乱涂画", "围挡上张贴小广告"},
	"4.2.1": {"有路灯不亮", "部分路段未安装路灯"},
	"4.2.2": {"盲道被占用", "无障碍坡道破损", "无障碍卫生间无法使用"},
	"4.2.3": {"消防通道被车辆堵塞", "消防通道堆放杂物"},
	"4.3.1": {"楼道堆放杂物", "楼道灯不亮"},
	"4.3.2": {"围挡公益广告缺失", "裸土未覆盖，扬尘明显"},
	"5.1.1": {"未公示服务规范", "便民设施不全", "投诉电话未公示"},
	"5.1.2": {"报站与线路图不一致", "车内线路图缺失"},
	"5.1.3": {"电话无人接听", "接听不规范，未登记诉求", "等待时间过长"},
	"5.2.1": {"未公示开放时间", "开放时间未开门"},
	"5.2.2": {"近一个月无活动记录", "活动室长期关闭"},
}

// surveyBase is each survey standard's rate in an average district.
var surveyBase = map[string]float64{"2.2.3": 0.78, "6.1.1": 0.90, "6.1.2": 0.91, "6.1.3": 0.85}

var givenNames = []string{"建国", "秀英", "伟", "芳", "军", "敏", "静", "丽", "强", "磊", "洋", "艳", "勇", "杰", "娟", "涛",
	"明", "超", "霞", "平", "刚", "桂英", "志强", "海燕", "晓东", "玉兰", "文华", "红梅", "春生", "立新", "国庆", "丽华"}

var cnNumerals = []string{"一", "二", "三", "四", "五", "六", "七", "八", "九", "十"}

// demoSite is a generated site and what the loader remembers of it.
type demoSite struct {
	code, name, typ, region, address, unit, chief string
	lat, lon                                      string
	district                                      int
}

// assessLoad is the state of loading the assessment.
type assessLoad struct {
	ctx   context.Context
	svc   *assess.Service
	s     *sim
	seed  uint64
	rng   *rand.Rand // sites, round dates, the scored rounds' observations and values
	life  *rand.Rand // everything else
	names map[string]bool
	sites map[string]*demoSite // by code
	list  []*demoSite

	info   assess.EditionInfo
	ed     assess.Edition
	cats   map[int64]*catInfo   // every 小类 by id, the assessment's too
	people map[string]org.Actor // the demo inspectors and the leader by username
	rounds [2]assess.Round      // the previous and the current quarter's
	rows   [2][]obsRow
	visit  assess.Round
	queued map[string][]pendingObs // phone observations, by the steps that record them

	done    []string      // the summary's parts
	elapsed time.Duration // spent in the assessment's own steps
	raised  int           // cases raised
	photos  int           // photos sent with phone observations
	handled int           // raised cases the units' demo handlers took up
}

// obsRow is one observation as the demo draws it.
type obsRow struct {
	site, standard, result, note string
	problems                     int
	phone                        bool // recorded on the phone, not imported
}

// pendingObs is an observation one of the site's team records on the
// phone, with photos when it failed.
type pendingObs struct {
	obsRow
	round  string
	actor  org.Actor
	photos int
}

// teamDef is an inspection team: its name and its members' usernames.
type teamDef struct {
	name    string
	members []string
}

// The phone observations: failures of the current quarter's round, the
// problems of the visit, and the slots of today's round (more than it
// records).
const (
	phoneObs   = 10
	visitObs   = 5
	todaySlots = 40
)

// Small samples: per district, the visit's and today's.
const (
	visitPlan = "农贸市场:1,公共厕所:1,背街小巷:1"
	todayPlan = "背街小巷:1,农贸市场:1,公共厕所:1,居民小区:1"
)

// fate is what becomes of a round's raised cases by now: the shares
// handled and closed, handled and waiting for the re-check, acknowledged
// only; the rest are left as dispatched. Cases of units without a demo
// handler (the street offices) are left as dispatched too.
type fate struct{ closed, verifying, inProgress float64 }

var (
	roundFates = [2]fate{{0.93, 0, 0.04}, {0.3, 0.6, 0.07}}
	visitFate  = fate{0.4, 0.45, 0.1}
)

// planAssessment queues the assessment's steps on the simulation (see
// the comment at the top of this file); nothing is written until
// runCases runs them.
func planAssessment(ctx context.Context, opts Options, s *sim) *assessLoad {
	inspA, inspB, inspD := "inspector1", "inspector2", "inspector-"+districts[0].key
	a := &assessLoad{ctx: ctx, svc: opts.Assess, s: s, seed: uint64(opts.Seed),
		rng:   rand.New(rand.NewPCG(uint64(opts.Seed), assessRNG)),
		life:  rand.New(rand.NewPCG(uint64(opts.Seed), assessLifeRNG)),
		names: map[string]bool{}, sites: map[string]*demoSite{}, queued: map[string][]pendingObs{},
		people: map[string]org.Actor{inspA: s.inspectors[0], inspB: s.inspectors[1], inspD: s.districtInspector, "leader1": s.leader}}
	a.list = a.makeSites()
	dates := a.roundDates()

	loc := s.loc
	at := func(d time.Time, h, m int) time.Time { return time.Date(d.Year(), d.Month(), d.Day(), h, m, 0, 0, loc) }
	// Steps run in the order given, none before the city exists or after
	// now.
	last := s.clock
	step := func(t time.Time, what string, f func() error) {
		t = t.UTC()
		if t.Before(last) {
			t = last
		}
		if t.After(s.now) {
			t = s.now
		}
		last = t
		s.push(&run{}, t, func(*run) error {
			start := time.Now()
			err := f()
			a.elapsed += time.Since(start)
			if err != nil {
				return fmt.Errorf("assessment, %s: %w", what, err)
			}
			return nil
		})
	}
	today := at(s.now.In(loc), 0, 0)

	step(at(dates[0].AddDate(0, 0, -14), 10, 0), "set-up", a.setup)
	teams := [2][]teamDef{
		{{"第1测评组", []string{inspD, inspA}}, {"第2测评组", []string{inspB}}},
		{{"第1测评组", []string{inspD}}, {"第2测评组", []string{inspA}}, {"第3测评组", []string{inspB}}},
	}
	for ri, d := range dates {
		step(at(a.workday(d, -3), 15, 0), "round", func() error { return a.createRound(ri, d, teams[ri]) })
		if ri == 1 {
			for k := range phoneObs {
				step(at(d, 9, 30).Add(time.Duration(k)*35*time.Minute), "phone observation", func() error { return a.record("phone", k) })
			}
		}
		step(at(d, 18, 30), "observations", func() error { return a.importRound(ri) })
		step(at(a.workday(d, 2), 10, 0), "closing", func() error { return a.closeRound(ri) })
	}

	// The leader's visit, half-way from the current quarter's round to
	// today.
	vd := a.workday(dates[1].AddDate(0, 0, max(3, int(today.Sub(dates[1]).Hours()/24)/2)), 0)
	if vd.After(today) {
		vd = today
	}
	step(at(vd, 8, 30), "visit", func() error {
		return a.createVisit(vd, []teamDef{{"市领导督导组", []string{"leader1", inspB}}})
	})
	for k := range visitObs {
		step(at(vd, 9, 30).Add(time.Duration(k)*25*time.Minute), "visit observation", func() error { return a.record("visit", k) })
	}
	step(at(vd, 17, 0), "visit closing", a.closeVisit)

	// Today's round, planned the working day before and partly recorded
	// by now.
	step(at(a.workday(today, -1), 16, 0), "today's round", func() error {
		return a.createToday(today, []teamDef{{"第1测评组", []string{inspA, inspD}}, {"第2测评组", []string{inspB}}})
	})
	from, to := at(today, 9, 0), s.now.Add(-5*time.Minute)
	if !to.After(from) {
		from = s.now.Add(-time.Hour)
	}
	gap := min(8*time.Minute, to.Sub(from)/todaySlots)
	for k := range todaySlots {
		step(from.Add(time.Duration(k)*gap), "today's observation", func() error { return a.record("today", k) })
	}
	return a
}

// report logs what the assessment loaded.
func (a *assessLoad) report() {
	a.s.opts.Log("demo: assessment: edition %s v%d published, %d sites, rounds %s; %d cases raised (%d phone photos), %d taken up by the demo handlers; %s in its own steps",
		a.info.Code, a.info.Version, len(a.list), strings.Join(a.done, ", "), a.raised, a.photos, a.handled, a.elapsed.Round(time.Millisecond))
}

// workday moves the day d by n working days (back when n < 0); n = 0
// moves a day off to the next working day.
func (a *assessLoad) workday(d time.Time, n int) time.Time {
	is := func(t time.Time) bool { return a.s.cal.IsWorkday(workcal.DateOf(t, a.s.loc)) }
	if n == 0 {
		for !is(d) {
			d = d.AddDate(0, 0, 1)
		}
		return d
	}
	dir := 1
	if n < 0 {
		dir, n = -1, -n
	}
	for n > 0 {
		if d = d.AddDate(0, 0, dir); is(d) {
			n--
		}
	}
	return d
}

// ---- set-up ----

// setup adds the assessment's categories, imports and publishes the
// sample tree, imports the sites, maps every observed standard to a
// category and saves the settings.
func (a *assessLoad) setup() error {
	ctx, s := a.ctx, a.s
	if err := a.addCategories(); err != nil {
		return err
	}
	info, problems, err := a.svc.ImportTree(ctx, s.admin, bytes.NewReader(assess.SampleTree()), assess.FormatYAML)
	if err != nil {
		return importErr("sample tree", problems, err)
	}
	if a.info, err = a.svc.Publish(ctx, s.admin, info.Code, info.Version); err != nil {
		return fmt.Errorf("publish %s: %w", info.Code, err)
	}
	if _, a.ed, err = a.svc.Edition(ctx, s.admin, info.Code, info.Version); err != nil {
		return err
	}

	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write(assess.SiteColumns)
	for _, x := range a.list {
		_ = w.Write([]string{x.code, x.name, x.typ, x.region, x.lat, x.lon, x.address, x.unit, x.chief})
	}
	w.Flush()
	if _, problems, err := a.svc.ImportSites(ctx, s.admin, &buf, assess.FormatCSV); err != nil {
		return importErr("sites", problems, err)
	}

	byCode := map[string]int64{}
	for _, ci := range a.cats {
		byCode[ci.def.code] = ci.cat.ID
	}
	m := map[string]int64{}
	mapTo := func(code string) error {
		if m[code] = byCode[standardCategory[code]]; m[code] == 0 {
			return fmt.Errorf("no demo category for standard %s", code)
		}
		return nil
	}
	for _, st := range a.ed.Standards() {
		if st.Rule.Observed() {
			if err := mapTo(st.Code); err != nil {
				return err
			}
		}
	}
	for _, n := range a.ed.Negative {
		if err := mapTo(n.Code); err != nil {
			return err
		}
	}
	if err := a.svc.MapCategories(ctx, s.admin, m); err != nil {
		return err
	}
	st := assess.DefaultSettings()
	st.GreenRate, st.YellowRate, st.YellowLost, st.RedLost = cardSettings.green, cardSettings.yellow, cardSettings.yellowLost, cardSettings.redLost
	return a.svc.SaveSettings(ctx, s.admin, st)
}

// addCategories saves assessGroup (staff only) with a responsibility row
// per district (its government leads), and indexes every 小类 by id.
func (a *assessLoad) addCategories() error {
	ctx, s, g := a.ctx, a.s, &assessGroup
	a.cats = map[int64]*catInfo{}
	for _, ci := range s.catList {
		a.cats[ci.cat.ID] = ci
	}
	parent, err := s.flow.SaveCategory(ctx, s.admin, workflow.Category{Code: g.code, Name: g.name, Hint: g.hint, LimitUnit: workcal.Hours, StaffOnly: true})
	if err != nil {
		return fmt.Errorf("category: %w", err)
	}
	for i := range g.cats {
		cd := &g.cats[i]
		c, err := s.flow.SaveCategory(ctx, s.admin, workflow.Category{Code: cd.code, ParentID: parent.ID, Name: cd.name, Standard: cd.standard,
			LimitUnit: cd.unit, LimitNormal: cd.normal, LimitUrgent: cd.urgent, LimitCritical: cd.crit, Hint: cd.hint, StaffOnly: true})
		if err != nil {
			return fmt.Errorf("category %s: %w", cd.code, err)
		}
		a.cats[c.ID] = &catInfo{def: cd, cat: c, group: g.name}
	}
	for di, d := range districts {
		if _, err := s.flow.SaveResponsibility(ctx, s.admin, workflow.Responsibility{CategoryID: parent.ID, RegionID: s.districtRegions[di].ID,
			LeadUnitID: s.units[d.key].ID}); err != nil {
			return fmt.Errorf("responsibility %s: %w", g.code, err)
		}
	}
	return nil
}

// ---- the scored rounds ----

// createRound creates the ri-th scored round on day d with its teams,
// deals the sample to them by district and draws its observations; in the
// current quarter's round it picks the failures recorded on the phone.
func (a *assessLoad) createRound(ri int, d time.Time, teams []teamDef) error {
	var plan []string
	for _, k := range siteKinds {
		plan = append(plan, fmt.Sprintf("%s:%d", k.typ, k.draw))
	}
	plan = append(plan, "服务热线:1")
	seed := a.seed*100 + uint64(ri) + 1
	q := (int(d.Month())-1)/3 + 1
	rd, err := a.svc.CreateRound(a.ctx, a.s.admin, assess.NewRound{Edition: a.info.Code, Name: fmt.Sprintf("%d年第%d季度模拟测评", d.Year(), q),
		Plan: strings.Join(plan, ","), Seed: &seed, Date: d.Format(time.DateOnly)})
	if err != nil {
		return err
	}
	a.rounds[ri] = rd
	members, err := a.makeTeams(rd.Code, teams)
	if err != nil {
		return err
	}
	sample, err := a.svc.RoundSites(a.ctx, a.s.admin, rd.Code)
	if err != nil {
		return err
	}
	if a.rows[ri], err = a.obsRows(rd, ri, sample); err != nil {
		return err
	}
	if ri == 0 {
		return nil
	}
	// The phone failures: one at each of phoneObs sites.
	team := map[string]string{}
	for _, x := range sample {
		team[x.Code] = x.Team
	}
	var fails []int
	seen := map[string]bool{}
	for i, r := range a.rows[ri] {
		if r.result == string(assess.Fail) && !seen[r.site] {
			seen[r.site] = true
			fails = append(fails, i)
		}
	}
	a.life.Shuffle(len(fails), func(i, j int) { fails[i], fails[j] = fails[j], fails[i] })
	fails = fails[:min(phoneObs, len(fails))]
	slices.Sort(fails) // in the order of the sites' codes
	var q2 []pendingObs
	for _, i := range fails {
		r := &a.rows[ri][i]
		r.phone = true
		m := members[team[r.site]]
		if len(m) == 0 {
			return fmt.Errorf("site %s of round %s has no team", r.site, rd.Code)
		}
		q2 = append(q2, pendingObs{obsRow: *r, round: rd.Code, actor: a.people[m[a.life.IntN(len(m))]], photos: 1 + a.life.IntN(2)})
	}
	a.queued["phone"] = q2
	return nil
}

// makeTeams saves a round's teams and deals the sample to them by
// district; it returns the teams' members by team name.
func (a *assessLoad) makeTeams(code string, teams []teamDef) (map[string][]string, error) {
	out := map[string][]string{}
	for _, t := range teams {
		if _, err := a.svc.SaveTeam(a.ctx, a.s.admin, code, t.name, t.members); err != nil {
			return nil, fmt.Errorf("team %s: %w", t.name, err)
		}
		out[t.name] = t.members
	}
	if _, err := a.svc.AssignByDistrict(a.ctx, a.s.admin, code); err != nil {
		return nil, err
	}
	return out, nil
}

// importRound imports a scored round's observations (but the phone's)
// and values, raises the cases of its failures and sets what becomes of
// them.
func (a *assessLoad) importRound(ri int) error {
	rd := a.rounds[ri]
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write(assess.ObservationColumns)
	for _, r := range a.rows[ri] {
		if r.phone {
			continue
		}
		problems := ""
		if r.problems > 0 {
			problems = strconv.Itoa(r.problems)
		}
		_ = w.Write([]string{r.site, r.standard, r.result, problems, r.note})
	}
	w.Flush()
	if _, problems, err := a.svc.ImportObservations(a.ctx, a.s.admin, rd.Code, &buf); err != nil {
		return importErr("observations of "+rd.Code, problems, err)
	}
	if err := a.values(rd, ri, a.ed); err != nil {
		return err
	}
	rep, err := a.svc.RaiseCases(a.ctx, a.s.admin, rd.Code)
	if err != nil {
		return err
	}
	if rep.NoCategory > 0 {
		return fmt.Errorf("round %s: %d failures without a category", rd.Code, rep.NoCategory)
	}
	a.raised += rep.Raised
	return a.age(rd.Code, roundFates[ri])
}

// closeRound closes a scored round (its cases are raised already).
func (a *assessLoad) closeRound(ri int) error {
	rd, err := a.svc.CloseRound(a.ctx, a.s.admin, a.rounds[ri].Code)
	if err != nil {
		return err
	}
	a.rounds[ri] = rd
	a.done = append(a.done, fmt.Sprintf("%s on %s (%d sites, %d observations, closed)", rd.Code, rd.Date, rd.Sites, len(a.rows[ri])))
	if a.s.rechecks != nil {
		return a.s.rechecks.afterRound(a.svc, rd.Code)
	}
	return nil
}

// ---- the visit and today's round ----

// createVisit creates the leader's supervision visit on day d and picks
// the problems the leader records, one at each of visitObs sites.
func (a *assessLoad) createVisit(d time.Time, teams []teamDef) error {
	seed := a.seed*100 + 3
	rd, err := a.svc.CreateRound(a.ctx, a.s.admin, assess.NewRound{Edition: a.info.Code, Name: fmt.Sprintf("%d月市领导督导检查", int(d.Month())),
		Plan: visitPlan, Seed: &seed, Date: d.Format(time.DateOnly), Kind: assess.KindSupervision})
	if err != nil {
		return err
	}
	a.visit = rd
	if _, err := a.makeTeams(rd.Code, teams); err != nil {
		return err
	}
	sample, err := a.svc.RoundSites(a.ctx, a.s.admin, rd.Code)
	if err != nil {
		return err
	}
	a.life.Shuffle(len(sample), func(i, j int) { sample[i], sample[j] = sample[j], sample[i] })
	sample = sample[:min(visitObs, len(sample))]
	slices.SortFunc(sample, func(x, y assess.RoundSite) int { return strings.Compare(x.Code, y.Code) })
	var q []pendingObs
	for _, x := range sample {
		var items []checkItem
		for _, it := range a.items(x.Type) {
			if !it.negative && it.code != "4.2.1" {
				items = append(items, it)
			}
		}
		if len(items) == 0 {
			continue
		}
		it := items[a.life.IntN(len(items))]
		q = append(q, pendingObs{obsRow: a.draw(x.Code, it, 1), round: rd.Code, actor: a.people["leader1"], photos: 1})
	}
	a.queued["visit"] = q
	return nil
}

// closeVisit closes the visit and sets what becomes of its cases.
func (a *assessLoad) closeVisit() error {
	rd, err := a.svc.CloseRound(a.ctx, a.s.admin, a.visit.Code)
	if err != nil {
		return err
	}
	a.visit = rd
	if a.s.rechecks != nil {
		if err := a.s.rechecks.afterRound(a.svc, rd.Code); err != nil {
			return err
		}
	}
	a.done = append(a.done, fmt.Sprintf("%s on %s (leader's visit, %d sites, %d problems, closed)", rd.Code, rd.Date, rd.Sites, len(a.queued["visit"])))
	return a.age(rd.Code, visitFate)
}

// createToday creates today's round with its teams and queues what the
// teams record by now: each team the first half of its sites in code
// order, the last of them only in part.
func (a *assessLoad) createToday(d time.Time, teams []teamDef) error {
	seed := a.seed*100 + 4
	rd, err := a.svc.CreateRound(a.ctx, a.s.admin, assess.NewRound{Edition: a.info.Code, Name: cnMonth(d.Month()) + "模拟测评",
		Plan: todayPlan, Seed: &seed, Date: d.Format(time.DateOnly)})
	if err != nil {
		return err
	}
	members, err := a.makeTeams(rd.Code, teams)
	if err != nil {
		return err
	}
	sample, err := a.svc.RoundSites(a.ctx, a.s.admin, rd.Code)
	if err != nil {
		return err
	}
	var walks [][]pendingObs // each team's, site by site
	for _, t := range teams {
		var mine []assess.RoundSite
		for _, x := range sample {
			if x.Team == t.name {
				mine = append(mine, x)
			}
		}
		recorded := (len(mine) + 1) / 2
		for j, x := range mine[:recorded] {
			items := a.items(x.Type)
			if j == recorded-1 {
				items = items[:(len(items)+1)/2]
			}
			var walk []pendingObs
			for _, it := range items {
				o := pendingObs{obsRow: a.draw(x.Code, it, 0.15), round: rd.Code, actor: a.people[members[t.name][a.life.IntN(len(members[t.name]))]]}
				if o.result == string(assess.Fail) {
					o.photos = 1
				}
				walk = append(walk, o)
			}
			walks = append(walks, walk)
		}
	}
	// The teams walk at the same time: their sites interleave.
	n := len(teams)
	var q []pendingObs
	for i := 0; i < len(walks); i += n {
		for j := i; j < min(i+n, len(walks)); j++ {
			q = append(q, walks[j]...)
		}
	}
	a.queued["today"] = q[:min(todaySlots, len(q))]
	a.done = append(a.done, fmt.Sprintf("%s on %s (today, %d sites, %d of %d observations recorded, in progress)",
		rd.Code, rd.Date, rd.Sites, len(a.queued["today"]), a.checklistSize(sample)))
	return nil
}

// checklistSize counts the items of a sample's checklists.
func (a *assessLoad) checklistSize(sample []assess.RoundSite) int {
	n := 0
	for _, x := range sample {
		n += len(a.items(x.Type))
	}
	return n
}

// cnMonth names a month: 一月 … 十二月.
func cnMonth(m time.Month) string {
	if m <= 10 {
		return cnNumerals[m-1] + "月"
	}
	return "十" + cnNumerals[m-11] + "月"
}

// checkItem is a line of a site's checklist.
type checkItem struct {
	code             string
	deduct, negative bool
}

// items is the checklist of a site type: the observed standards that
// apply, then the negative-list items.
func (a *assessLoad) items(typ string) []checkItem {
	var out []checkItem
	for _, st := range a.ed.Standards() {
		if st.Rule.Observed() && st.AppliesTo(typ) {
			out = append(out, checkItem{code: st.Code, deduct: st.Rule == assess.RuleDeduct})
		}
	}
	for _, n := range a.ed.Negative {
		if n.AppliesTo(typ) {
			out = append(out, checkItem{code: n.Code, negative: true})
		}
	}
	return out
}

// draw draws a phone observation: a failure with probability fail (never
// a negative-list item), street lighting not applicable by day.
func (a *assessLoad) draw(site string, it checkItem, fail float64) obsRow {
	r := obsRow{site: site, standard: it.code, result: string(assess.Pass)}
	switch {
	case it.negative:
	case it.code == "4.2.1" && fail < 1:
		r.result, r.note = string(assess.NotApplicable), "白天检查，未能核验亮灯情况"
	case a.life.Float64() < fail:
		r.result, r.note = string(assess.Fail), "未达标"
		if notes := failNotes[it.code]; len(notes) > 0 {
			r.note = notes[a.life.IntN(len(notes))]
		}
		if it.deduct {
			if r.problems = 1 + a.life.IntN(2); r.problems > 1 {
				r.note += fmt.Sprintf("等%d处问题", r.problems)
			}
		}
	}
	return r
}

// record submits the k-th queued phone observation of a kind, as one of
// the site's team, with its photos; nothing when there is none.
func (a *assessLoad) record(kind string, k int) error {
	q := a.queued[kind]
	if k >= len(q) {
		return nil
	}
	p := q[k]
	up := a.s.flow.Photos.NewUploads()
	defer up.Close()
	var files []photo.File
	for i := range p.photos {
		f, err := up.Save(a.ctx, bytes.NewReader(a.s.photos.before[(k+i)%len(a.s.photos.before)]))
		if err != nil {
			return err
		}
		files = append(files, f)
	}
	res, err := a.svc.Submit(a.ctx, p.actor, assess.Submission{Round: p.round, Site: p.site, Standard: p.standard, Result: p.result,
		Problems: p.problems, Note: p.note, Key: fmt.Sprintf("demo-%s-%s-%s", p.round, p.site, p.standard), Photos: files})
	if err != nil {
		return fmt.Errorf("%s at %s by %s: %w", p.standard, p.site, p.actor, err)
	}
	up.Keep()
	if p.result == string(assess.Fail) {
		if res.Observation.CaseID == 0 {
			return fmt.Errorf("%s at %s raised no case", p.standard, p.site)
		}
		a.raised++
		a.photos += len(files)
	}
	return nil
}

// ---- the raised cases ----

// age sets what becomes of a round's raised cases (see fate): each that
// a demo handler can take up becomes a run of the case simulation,
// acknowledged within a working day and handled from there like the
// other cases (some late, some reworked).
func (a *assessLoad) age(code string, f fate) error {
	s := a.s
	ids, err := store.Collect(a.ctx, a.svc.DB.Reader(), func(r store.Scanner) (id int64, err error) { return id, r.Scan(&id) },
		`SELECT o.case_id FROM assess_observations o JOIN assess_rounds r ON r.id = o.round_id
		WHERE r.code = ? AND o.case_id IS NOT NULL ORDER BY o.case_id`, code)
	if err != nil {
		return err
	}
	for _, id := range ids {
		c, err := s.flow.Get(a.ctx, org.System, id)
		if err != nil {
			return err
		}
		if _, ok := s.handlers[c.LeadUnitID]; !ok || c.State != workflow.Dispatched {
			continue
		}
		r := &run{source: workflow.SourceInspection, id: c.ID, c: c, cat: a.cats[c.CategoryID], comm: a.community(c.RegionID)}
		if r.cat == nil || r.comm == nil {
			return fmt.Errorf("case %s: category %d or region %d unknown to the demo", c.No, c.CategoryID, c.RegionID)
		}
		switch x := a.life.Float64(); {
		case x < f.closed:
			r.out = outClosed
			r.late = a.life.Float64() < 0.12
			r.rework = a.life.Float64() < 0.06
		case x < f.closed+f.verifying:
			r.out = outVerifying
		case x < f.closed+f.verifying+f.inProgress:
			r.out = outInProgress
		default:
			continue
		}
		a.handled++
		s.schedule(r, s.work(s.clock, s.intn(20, 8*60)), s.stepAck)
	}
	return nil
}

// community is the community of a case's region, for who verifies it: a
// community itself, or for a district (buses, hotlines) one of its
// communities without a grid worker.
func (a *assessLoad) community(regionID int64) *community {
	if c := a.s.byRegion[regionID]; c != nil {
		return c
	}
	for di, dr := range a.s.districtRegions {
		if dr.ID != regionID {
			continue
		}
		for _, c := range a.s.communities {
			if c.district == di && c.grid == nil {
				return c
			}
		}
	}
	return nil
}

// importErr names the first problem of a refused import: the demo's own
// files have none unless the assessment's rules changed.
func importErr(what string, problems []assess.Problem, err error) error {
	if len(problems) > 0 {
		return fmt.Errorf("%s: %w (first: %s)", what, err, problems[0].Error())
	}
	return fmt.Errorf("%s: %w", what, err)
}

// roundDates returns the two inspection dates: one in the middle of the
// previous calendar quarter, one in the current quarter and not after
// today, on weekdays where possible.
func (a *assessLoad) roundDates() [2]time.Time {
	loc := a.s.loc
	t := a.s.now.In(loc)
	today := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
	qStart := time.Date(t.Year(), time.Month((int(t.Month())-1)/3*3+1), 1, 0, 0, 0, 0, loc)
	first := qStart.AddDate(0, -2, 8+a.rng.IntN(14))
	for first.Weekday() == time.Saturday || first.Weekday() == time.Sunday {
		first = first.AddDate(0, 0, 1)
	}
	elapsed := 0
	for d := qStart; d.Before(today); d = d.AddDate(0, 0, 1) {
		elapsed++
	}
	second := qStart.AddDate(0, 0, elapsed*2/3)
	for (second.Weekday() == time.Saturday || second.Weekday() == time.Sunday) && second.After(qStart) {
		second = second.AddDate(0, 0, -1)
	}
	return [2]time.Time{first, second}
}

// ---- sites ----

// makeSites generates the sites, district by district and type by type,
// coded YC-0001 on.
func (a *assessLoad) makeSites() []*demoSite {
	var out []*demoSite
	add := func(x *demoSite) {
		x.code = fmt.Sprintf("YC-%04d", len(out)+1)
		x.chief = surnames[a.rng.IntN(len(surnames))] + givenNames[a.rng.IntN(len(givenNames))]
		a.sites[x.code] = x
		out = append(out, x)
	}
	for di := range districts {
		var comms []*community
		for _, c := range a.s.communities {
			if c.district == di {
				comms = append(comms, c)
			}
		}
		next := a.rng.IntN(len(comms))
		for _, k := range siteKinds {
			n := k.n + a.rng.IntN(k.extra+1)
			for i := range n {
				c := comms[next%len(comms)]
				next++
				x := &demoSite{typ: k.typ, district: di, region: c.region.Code}
				var road string
				x.name, road = a.unique(func() (string, string) { return a.siteName(k.typ, c, i) }, c)
				switch k.typ {
				case "公交车":
					// A bus has no place: it belongs to its district.
					x.region = a.s.districtRegions[di].Code
					x.address = fmt.Sprintf("首末站：%s—%s", road, a.otherRoad(road))
				case "主次干道", "交通路口", "商业大街":
					x.address = cityName + districts[di].name + x.name
				case "背街小巷":
					x.address = c.address + x.name
				case "社区", "新时代文明实践站":
					x.address = c.address
				default:
					x.address = fmt.Sprintf("%s%s%s%d号", cityName, districts[di].name, road, 1+a.rng.IntN(298))
				}
				if k.typ != "公交车" {
					lat, lon := a.point(c)
					x.lat, x.lon = strconv.FormatFloat(lat, 'f', -1, 64), strconv.FormatFloat(lon, 'f', -1, 64)
				}
				x.unit = a.siteUnit(k.units, c)
				add(x)
			}
		}
		h := hotlines[di%len(hotlines)]
		add(&demoSite{typ: "服务热线", district: di, region: a.s.districtRegions[di].Code, name: h.name, address: h.address, unit: h.unit})
	}
	return out
}

// siteUnit draws the responsible unit of a site of a kind in c: about one
// in fourteen is left without one.
func (a *assessLoad) siteUnit(units []string, c *community) string {
	if len(units) == 0 || a.rng.Float64() < 0.07 {
		return ""
	}
	switch u := units[a.rng.IntN(len(units))]; u {
	case "local":
		if c.office != 0 {
			return "JDB-" + c.street.Code
		}
		return "QZF-" + a.s.districtRegions[c.district].Code
	case "district":
		return "QZF-" + a.s.districtRegions[c.district].Code
	default:
		return u
	}
}

// point returns a position near the middle of one of c's grid cells, so
// that the site lies in its community on the map: in a cell's first part
// (the lakeside cell's second part is the island), not in a pond.
func (a *assessLoad) point(c *community) (lat, lon float64) {
	var cell geo.Cell
	for range tries {
		cell = c.cells[a.rng.IntN(len(c.cells))]
		if len(cell.Geometry[0]) > 1 {
			continue // a cell with a pond
		}
		b := cell.Geometry[:1].Bounds()
		fx, fy := 0.3+0.4*a.rng.Float64(), 0.3+0.4*a.rng.Float64()
		p := geo.Point{Lat: round6(b.Min.Lat + fy*(b.Max.Lat-b.Min.Lat)), Lon: round6(b.Min.Lon + fx*(b.Max.Lon-b.Min.Lon))}
		if cell.Geometry.Contains(p) {
			return p.Lat, p.Lon
		}
	}
	p, _ := cell.Geometry.InteriorPoint()
	return round6(p.Lat), round6(p.Lon)
}

// unique draws names (with the road each lies on) until one is new,
// else marks the last with its community.
func (a *assessLoad) unique(draw func() (string, string), c *community) (string, string) {
	var name, road string
	for range 8 {
		if name, road = draw(); !a.names[name] {
			a.names[name] = true
			return name, road
		}
	}
	for i := 0; ; i++ {
		n := name + "(" + c.name + ")"
		if i > 0 {
			n = fmt.Sprintf("%s(%s%d)", name, c.name, i+1)
		}
		if !a.names[n] {
			a.names[n] = true
			return n, road
		}
	}
}

// otherRoad draws a road of the city other than the ones given.
func (a *assessLoad) otherRoad(not ...string) string {
	for {
		if x := roadNames[a.rng.IntN(len(roadNames))]; !slices.Contains(not, x) {
			return x
		}
	}
}

// siteName makes a plausible name for the i-th site of a type in c, and
// returns the road of c it lies on.
func (a *assessLoad) siteName(typ string, c *community, i int) (name, road string) {
	r := a.rng
	one := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	road = c.roads[r.IntN(2)]
	d := districts[c.district]
	dStem := strings.TrimSuffix(d.name, "区")
	street := d.streets[c.streetNo].name
	sStem := strings.TrimSuffix(street, "街道")
	cStem := strings.TrimSuffix(c.name, "社区")
	switch typ {
	case "主次干道":
		from := a.otherRoad(road)
		return fmt.Sprintf("%s(%s至%s段)", road, from, a.otherRoad(road, from)), road
	case "商业大街":
		return one(road+"商业街", sStem+"步行街", road+"美食街", cStem+"商业街"), road
	case "背街小巷":
		return one(road+cnNumerals[r.IntN(len(cnNumerals))]+"巷", cStem+"巷", cStem+"里", road+"支路"), road
	case "交通路口":
		return road + "与" + a.otherRoad(road) + "交叉口", road
	case "公交车":
		return fmt.Sprintf("%d路公交车", 1+r.IntN(120)), road
	case "公交站亭":
		return one(road+"口", road+"中段", c.compound, cStem+"社区", a.otherRoad(road)+"口") + "公交站亭", road
	case "政务服务大厅":
		return d.name + "政务服务中心", road
	case "银行网点":
		return one("云川银行", "云川农商银行", "云川银行", "云川村镇银行") + one(sStem, cStem, strings.TrimSuffix(road, "路")) + one("支行", "分理处"), road
	case "医院":
		return one(d.name+"人民医院", d.name+"中医医院", sStem+"社区卫生服务中心", fmt.Sprintf("云川市第%s人民医院", cnNumerals[r.IntN(6)]), d.name+"妇幼保健院"), road
	case "车站":
		return stations[c.district%len(stations)], road
	case "商场超市":
		return one(road+"购物中心", sStem+"生活超市", "云川百货"+dStem+"店", c.compound+"便民超市"), road
	case "农贸市场":
		return one(sStem, cStem) + "农贸市场", road
	case "居民小区":
		if i == 0 {
			return c.compound, road
		}
		return one(c.compound+"二期", compoundNames[r.IntN(len(compoundNames))], cStem+"新村", cStem+"花园"), road
	case "社区":
		return c.name, road
	case "公园广场":
		if c.name == lakeCommunity {
			return "明湖公园", road
		}
		return one(cStem+"公园", sStem+"广场", road+"街心花园", cStem+"游园"), road
	case "学校周边":
		return one(fmt.Sprintf("云川市第%s中学", cnNumerals[r.IntN(10)]), cStem+"小学", sStem+"中学", d.name+"实验小学") + "周边", road
	case "网吧":
		return one("极速", "星空", "飞扬", "蓝海", "无限") + "网咖(" + road + "店)", road
	case "心理健康辅导站":
		return d.name + "未成年人心理健康辅导站", road
	case "新时代文明实践站":
		if i%2 == 1 {
			return street + "新时代文明实践所", road
		}
		return c.name + "新时代文明实践站", road
	case "志愿服务站":
		return one(c.name+"学雷锋", road+"文明交通", cStem+"公园") + "志愿服务站", road
	case "公共厕所":
		return one(road, cStem+"公园", c.compound, road+"东段") + "公厕", road
	case "建筑工地围挡":
		return one(cStem+"安置房项目", road+"改造工程", sStem+"学校新建项目", c.compound+"二期项目") + "工地围挡", road
	case "图书馆":
		return d.name + "图书馆", road
	case "文化馆":
		if i == 0 {
			return d.name + "文化馆", road
		}
		return c.name + "文化活动中心", road
	}
	return cStem + typ, road
}

// ---- observations and values ----

// obsRows draws the observations of a scored round: every observed
// standard that applies at each sampled site, and the negative-list item
// as a pass at the sites where the inspectors ask about it.
func (a *assessLoad) obsRows(rd assess.Round, ri int, sample []assess.RoundSite) ([]obsRow, error) {
	var observed []assess.Standard
	for _, st := range a.ed.Standards() {
		if st.Rule.Observed() {
			observed = append(observed, st)
		}
	}
	// A deduct standard's failure rate comes from how many observations
	// it has: the city should lose about deductLoss of its points.
	applicable := map[string]int{}
	for _, x := range sample {
		for _, st := range observed {
			if st.AppliesTo(x.Type) {
				applicable[st.Code]++
			}
		}
	}
	mean := 0.0
	for _, r := range failRate {
		mean += r[ri]
	}
	mean /= float64(len(failRate))

	var out []obsRow
	for _, x := range sample {
		site := a.sites[x.Code]
		if site == nil {
			return nil, fmt.Errorf("round %s drew site %s, which the demo did not make", rd.Code, x.Code)
		}
		rate := failRate[site.district%len(failRate)][ri]
		unit := x.Unit
		if strings.HasPrefix(unit, "QZF-") || strings.HasPrefix(unit, "JDB-") {
			unit = unit[:4]
		}
		uf, ok := unitFactor[unit]
		if !ok {
			uf = 1
		}
		for _, st := range observed {
			if !st.AppliesTo(x.Type) {
				continue
			}
			r := obsRow{site: x.Code, standard: st.Code, result: string(assess.Pass)}
			var p float64
			if st.Rule == assess.RuleDeduct {
				most, _ := new(big.Rat).Quo(st.Points, st.PerProblem).Float64() // problems before the floor
				p = deductLoss[ri] * most / (float64(applicable[st.Code]) * meanProblems) * rate / mean * uf
			} else {
				p = rate * uf
				if f, ok := standardFactor[st.Code]; ok {
					p *= f
				}
			}
			p = math.Min(p, 0.8)
			switch {
			case st.Code == "4.2.1" && a.rng.Float64() < dayNA:
				r.result, r.note = string(assess.NotApplicable), "白天检查，未能核验亮灯情况"
			case a.rng.Float64() < p:
				r.result = string(assess.Fail)
				notes := failNotes[st.Code]
				r.note = "未达标"
				if len(notes) > 0 {
					r.note = notes[a.rng.IntN(len(notes))]
				}
				if st.Rule == assess.RuleDeduct {
					r.problems = 1 // problems found: 1, 2 or 3 (meanProblems on average)
					switch v := a.rng.Float64(); {
					case v < 0.1:
						r.problems = 3
					case v < 0.3:
						r.problems = 2
					}
					if r.problems > 1 {
						r.note += fmt.Sprintf("等%d处问题", r.problems)
					}
				}
			}
			out = append(out, r)
		}
		if x.Type == "政务服务大厅" || x.Type == "车站" || x.Type == "医院" {
			for _, neg := range a.ed.Negative {
				out = append(out, obsRow{site: x.Code, standard: neg.Code, result: string(assess.Pass)})
			}
		}
	}
	return out, nil
}

// values imports the survey rates and document points of every district
// for a round: better where the district's inspections went better.
func (a *assessLoad) values(rd assess.Round, ri int, ed assess.Edition) error {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write(assess.ResultColumns)
	for di, dr := range a.s.districtRegions {
		better := 0.2 - failRate[di%len(failRate)][ri]
		for _, st := range ed.Standards() {
			var v string
			switch st.Rule {
			case assess.RuleSurvey:
				base, ok := surveyBase[st.Code]
				if !ok {
					base = 0.85
				}
				x := base + 1.2*better + (a.rng.Float64()-0.5)*0.04
				k := int(math.Round(math.Max(0.5, math.Min(0.99, x)) * 1000)) // thousandths
				v = fmt.Sprintf("%d.%03d", k/1000, k%1000)
			case assess.RuleGraded:
				pts, _ := st.Points.Float64()
				x := 0.75 + 1.5*better + (a.rng.Float64()-0.5)*0.1
				q := math.Round(math.Max(0.4, math.Min(1, x))*pts*4) / 4 // quarter points
				v = strconv.FormatFloat(q, 'f', -1, 64)
			default:
				continue
			}
			_ = w.Write([]string{dr.Code, st.Code, v})
		}
	}
	w.Flush()
	if _, problems, err := a.svc.ImportResults(a.ctx, a.s.admin, rd.Code, &buf); err != nil {
		return importErr("values of "+rd.Code, problems, err)
	}
	return nil
}
