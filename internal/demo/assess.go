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
)

// The demo city's assessment (模拟测评), loaded through assess.Service as
// an office would load it from files: the sample indicator tree
// (published), about 300 sites (点位) of its site types in the four
// districts, and two rounds, one in the previous calendar quarter and one
// in the current, each with a sample, observations at every sampled site
// and the districts' survey and document values.
//
// The failure rates differ by district and by the sites' responsible
// units; three districts improve from the first round to the second and
// 青溪区 gets worse, so scores, changes, rankings and the ledger all have
// something to show. About a tenth of the sites have no responsible unit
// (the banks, for which the demo city has no supervising unit, and a few
// others), so that the ledger shows losses going to the standards' lead
// units and unattributed ones.
//
// Everything is drawn from its own generator seeded with opts.Seed, so
// the assessment is the same whatever the number of cases.

// assessRNG is the second word of the assessment generator's seed.
const assessRNG = 0x61737365737331

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
	rng   *rand.Rand
	names map[string]bool
	sites map[string]*demoSite // by code
}

// loadAssessment loads the demo city's assessment through opts.Assess
// (nothing when it is nil), acting as the demo administrator at the
// simulated clock, after the cases.
func loadAssessment(ctx context.Context, opts Options, s *sim) error {
	if opts.Assess == nil {
		return nil
	}
	start := time.Now()
	a := &assessLoad{ctx: ctx, svc: opts.Assess, s: s, rng: rand.New(rand.NewPCG(uint64(opts.Seed), assessRNG)),
		names: map[string]bool{}, sites: map[string]*demoSite{}}

	info, problems, err := a.svc.ImportTree(ctx, s.admin, bytes.NewReader(assess.SampleTree()), assess.FormatYAML)
	if err != nil {
		return importErr("sample tree", problems, err)
	}
	if info, err = a.svc.Publish(ctx, s.admin, info.Code, info.Version); err != nil {
		return fmt.Errorf("demo: publish %s: %w", info.Code, err)
	}
	_, ed, err := a.svc.Edition(ctx, s.admin, info.Code, info.Version)
	if err != nil {
		return err
	}

	sites := a.makeSites()
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write(assess.SiteColumns)
	for _, x := range sites {
		_ = w.Write([]string{x.code, x.name, x.typ, x.region, x.lat, x.lon, x.address, x.unit, x.chief})
	}
	w.Flush()
	if _, problems, err := a.svc.ImportSites(ctx, s.admin, &buf, assess.FormatCSV); err != nil {
		return importErr("sites", problems, err)
	}

	var plan []string
	for _, k := range siteKinds {
		plan = append(plan, fmt.Sprintf("%s:%d", k.typ, k.draw))
	}
	plan = append(plan, "服务热线:1")
	var done []string
	for ri, day := range a.roundDates() {
		seed := uint64(opts.Seed)*100 + uint64(ri) + 1
		q := (int(day.Month())-1)/3 + 1
		rd, err := a.svc.CreateRound(ctx, s.admin, assess.NewRound{Edition: info.Code, Name: fmt.Sprintf("%d年第%d季度模拟测评", day.Year(), q),
			Plan: strings.Join(plan, ","), Seed: &seed, Date: day.Format(time.DateOnly)})
		if err != nil {
			return fmt.Errorf("demo: round: %w", err)
		}
		n, err := a.observe(rd, ri, ed)
		if err != nil {
			return err
		}
		if err := a.values(rd, ri, ed); err != nil {
			return err
		}
		done = append(done, fmt.Sprintf("%s on %s (%d sites, %d observations)", rd.Code, rd.Date, rd.Sites, n))
	}
	opts.Log("demo: assessment: edition %s v%d published, %d sites, rounds %s, in %s",
		info.Code, info.Version, len(sites), strings.Join(done, " and "), time.Since(start).Round(time.Millisecond))
	return nil
}

// importErr names the first problem of a refused import: the demo's own
// files have none unless the assessment's rules changed.
func importErr(what string, problems []assess.Problem, err error) error {
	if len(problems) > 0 {
		return fmt.Errorf("demo: %s: %w (first: %s)", what, err, problems[0].Error())
	}
	return fmt.Errorf("demo: %s: %w", what, err)
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

// observe imports the observations of a round: every observed standard
// that applies at each sampled site, and the negative-list item as a pass
// at the sites where the inspectors ask about it. It returns their count.
func (a *assessLoad) observe(rd assess.Round, ri int, ed assess.Edition) (int, error) {
	sample, err := a.svc.RoundSites(a.ctx, a.s.admin, rd.Code)
	if err != nil {
		return 0, err
	}
	var observed []assess.Standard
	for _, st := range ed.Standards() {
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

	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write(assess.ObservationColumns)
	n := 0
	for _, x := range sample {
		site := a.sites[x.Code]
		if site == nil {
			return 0, fmt.Errorf("demo: round %s drew site %s, which the demo did not make", rd.Code, x.Code)
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
			result, problems, note := "pass", "", ""
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
				result, note = "na", "白天检查，未能核验亮灯情况"
			case a.rng.Float64() < p:
				result = "fail"
				notes := failNotes[st.Code]
				note = "未达标"
				if len(notes) > 0 {
					note = notes[a.rng.IntN(len(notes))]
				}
				if st.Rule == assess.RuleDeduct {
					k := 1 // problems found: 1, 2 or 3 (meanProblems on average)
					switch v := a.rng.Float64(); {
					case v < 0.1:
						k = 3
					case v < 0.3:
						k = 2
					}
					problems = strconv.Itoa(k)
					if k > 1 {
						note += fmt.Sprintf("等%d处问题", k)
					}
				}
			}
			_ = w.Write([]string{x.Code, st.Code, result, problems, note})
			n++
		}
		if x.Type == "政务服务大厅" || x.Type == "车站" || x.Type == "医院" {
			for _, neg := range ed.Negative {
				_ = w.Write([]string{x.Code, neg.Code, "pass", "", ""})
				n++
			}
		}
	}
	w.Flush()
	if _, problems, err := a.svc.ImportObservations(a.ctx, a.s.admin, rd.Code, &buf); err != nil {
		return 0, importErr("observations of "+rd.Code, problems, err)
	}
	return n, nil
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
