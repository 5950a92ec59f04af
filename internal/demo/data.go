package demo

import "chuangwen/internal/workcal"

// The demo city is FICTIONAL. "云川市" does not exist, and its code 531900
// was chosen because the prefix 5319 is not assigned in GB/T 2260 (530900
// is 临沧市, a real city). District codes follow the usual pattern
// (county = city prefix + 02..05), street codes add three digits and
// community codes three more; grid cell codes add a 3-digit sequence to
// the community's (15 digits, as in Beijing). Coordinates lie in an
// arbitrary box, lat 24.90–25.10, lon 102.60–102.90; each district is one
// quadrant of it, built up near the centre (see cells.go).

const (
	cityCode = "531900"
	cityName = "云川市"
	// DemoPassword is the password of every demo account. It is printed on
	// purpose: the demo database is for trying the product, never for real
	// work.
	DemoPassword = "Demo-2026!"
)

// Box of the fictional city.
const (
	latMin, latMax = 24.90, 25.10
	lonMin, lonMax = 102.60, 102.90
)

type streetDef struct {
	name        string
	office      bool   // has a street office (街道办事处) among the units
	grid        string // username of the grid worker patrolling it, if any
	gridName    string
	communities []string
}

type districtDef struct {
	key      string // short key for usernames and unit codes
	name     string
	north    bool // quadrant of the box
	east     bool
	handler  string // display name of the district government's handler
	streets  []streetDef
	override string // 小类 code the district government leads here
}

var districts = []districtDef{
	{key: "minghu", name: "明湖区", north: true, east: true, handler: "罗霞", override: "0101", streets: []streetDef{
		{name: "湖滨街道", office: true, grid: "grid1", gridName: "吴刚", communities: []string{"春晖社区", "湖畔社区", "柳岸社区", "渔港社区"}},
		{name: "明珠街道", office: true, communities: []string{"明珠社区", "锦华社区", "星光社区", "东园社区"}},
		{name: "东风街道", communities: []string{"东风社区", "朝阳社区", "红旗社区"}},
	}},
	{key: "yunling", name: "云岭区", north: true, handler: "梁斌", override: "0601", streets: []streetDef{
		{name: "北苑街道", office: true, communities: []string{"北苑社区", "松涛社区", "月华社区", "桂香社区"}},
		{name: "松林街道", office: true, grid: "grid2", gridName: "郑丽", communities: []string{"松林社区", "青松社区", "林荫社区"}},
		{name: "翠屏街道", communities: []string{"翠屏社区", "云峰社区", "石桥社区", "兰亭社区"}},
	}},
	{key: "qingxi", name: "青溪区", handler: "宋丹", override: "0104", streets: []streetDef{
		{name: "青溪街道", office: true, communities: []string{"青溪社区", "溪岸社区", "荷塘社区"}},
		{name: "西苑街道", communities: []string{"西苑社区", "丰收社区", "杏林社区", "文苑社区"}},
		{name: "清泉街道", office: true, grid: "grid3", gridName: "冯涛", communities: []string{"清泉社区", "泉源社区", "龙井社区"}},
	}},
	{key: "nanping", name: "南屏区", east: true, handler: "唐明", override: "0304", streets: []streetDef{
		{name: "南屏街道", office: true, communities: []string{"南屏社区", "新桥社区", "和平社区", "幸福社区"}},
		{name: "长虹街道", office: true, communities: []string{"长虹社区", "彩云社区", "金沙社区"}},
		{name: "新城街道", communities: []string{"新城社区", "创业社区", "学府社区", "康宁社区"}},
	}},
}

// unitDef is a municipal department or company.
type unitDef struct {
	key, code, name, kind string
	handler, handlerName  string // demo handler account, if any
}

var cityUnits = []unitDef{
	{key: "cgj", code: "CGJ", name: "云川市城市管理局", kind: "department", handler: "handler-cgj", handlerName: "王强"},
	{key: "zjj", code: "ZJJ", name: "云川市住房和城乡建设局", kind: "department", handler: "handler-zjj", handlerName: "李娜"},
	{key: "jtj", code: "JTJ", name: "云川市交通运输局", kind: "department", handler: "handler-jtj", handlerName: "张伟"},
	{key: "jj", code: "JJZD", name: "云川市公安局交通管理支队", kind: "department", handler: "handler-jj", handlerName: "杨帆"},
	{key: "scjg", code: "SCJG", name: "云川市市场监督管理局", kind: "department", handler: "handler-scjg", handlerName: "黄磊"},
	{key: "sthj", code: "STHJ", name: "云川市生态环境局", kind: "department", handler: "handler-sthj", handlerName: "徐静"},
	{key: "ylj", code: "YLJ", name: "云川市园林绿化局", kind: "department", handler: "handler-ylj", handlerName: "马超"},
	{key: "wlj", code: "WLJ", name: "云川市文化和旅游局", kind: "department", handler: "handler-wlj", handlerName: "高洁"},
	{key: "wjw", code: "WJW", name: "云川市卫生健康委员会", kind: "department", handler: "handler-wjw", handlerName: "谢芳"},
	{key: "jyj", code: "JYJ", name: "云川市教育局", kind: "department", handler: "handler-jyj", handlerName: "韩雪"},
	{key: "swj", code: "SWJ", name: "云川市商务局", kind: "department", handler: "handler-swj", handlerName: "曹阳"},
	{key: "xf", code: "XFZD", name: "云川市消防救援支队", kind: "department", handler: "handler-xf", handlerName: "郭亮"},
	{key: "gd", code: "GDGS", name: "云川市供电公司", kind: "company", handler: "handler-gd", handlerName: "胡军"},
	{key: "zls", code: "ZLSGS", name: "云川市自来水公司", kind: "company"},
	{key: "rq", code: "RQGS", name: "云川市燃气公司", kind: "company"},
	{key: "gj", code: "GJJT", name: "云川市公交集团有限公司", kind: "company", handler: "handler-gj", handlerName: "彭飞"},
}

// Location kinds of a category: where such a problem is typically found.
const (
	locStreet = iota // roads, crossings, pavements
	locHome          // residential compounds
	locMarket        // farmers' markets
	locToilet        // public toilets
	locSite          // construction sites
)

type catDef struct {
	code, name, standard string
	unit                 workcal.Unit
	normal, urgent, crit int
	hint                 string   // what citizens report under it (shown on the public page)
	auto                 bool     // clear-cut: accepted and dispatched on arrival, by the responsibility table
	lead                 string   // unit key of the default lead unit
	coops                []string // unit keys of cooperating units
	local                bool     // the street office cooperates where there is one
	weight               int      // relative frequency among reports
	urgentShare          float64  // share of reports that are urgent (a tenth of them critical)
	loc                  int
	problems             []string // what is wrong, appended to a location; {n} is a small number
	fixes                []string // the unit's rectification report
}

type groupDef struct {
	code, name, hint string
	cats             []catDef
}

var categoryTree = []groupDef{
	{"01", "市容环境", "垃圾、脏乱、小广告、占道经营等街面环境问题", []catDef{
		{code: "0101", name: "暴露垃圾", standard: "现场无暴露垃圾和积存渣土，垃圾已清运至指定地点。", unit: workcal.Hours, normal: 4, urgent: 2,
			hint: "路边、绿化带、空地上堆放或散落的垃圾、渣土", auto: true,
			lead: "cgj", local: true, weight: 12, urgentShare: 0.1, loc: locStreet,
			problems: []string{"堆放建筑垃圾约{n}立方米，未做覆盖", "有生活垃圾散落，无人清理", "绿化带内有大量白色垃圾", "有装修垃圾随意倾倒，占用部分人行道"},
			fixes:    []string{"已组织环卫人员将垃圾全部清运，现场已清理干净", "已清运建筑垃圾并对周边进行冲洗，已安排专人巡查"}},
		{code: "0102", name: "道路不洁", standard: "路面干净整洁，无泥浆、油污、积水和明显垃圾。", unit: workcal.Hours, normal: 2, urgent: 1,
			hint: "路面泥浆、油污、撒漏物，落叶烟头未清扫",
			lead: "cgj", local: true, weight: 6, urgentShare: 0.05, loc: locStreet,
			problems: []string{"路面有大量泥浆和油污，行人易滑倒", "人行道落叶和烟头较多，未及时清扫", "路面有撒漏的砂石，长约{n}0米"},
			fixes:    []string{"已安排洒水车和保洁员对路面进行冲洗清扫，现场已恢复整洁", "已完成路面清扫，并加密该路段保洁频次"}},
		{code: "0103", name: "乱张贴", standard: "立面、杆体、站牌无小广告，清除后无明显残留痕迹。", unit: workcal.Hours, normal: 8,
			hint: "电线杆、墙面、站牌上的小广告和涂写",
			lead: "cgj", local: true, weight: 6, loc: locStreet,
			problems: []string{"电线杆上张贴大量小广告", "墙面有喷涂的办证电话号码", "公交站牌被贴满开锁、疏通广告"},
			fixes:    []string{"已铲除小广告并对墙面进行覆盖粉刷", "已清除全部小广告，对涉及的电话号码已报请停机处理"}},
		{code: "0104", name: "占道经营", standard: "经营活动退回店内或规定区域，人行道畅通无占用。", unit: workcal.Hours, normal: 4, urgent: 2,
			hint: "流动摊贩或店铺在人行道、路边摆摊经营",
			lead: "cgj", coops: []string{"scjg"}, local: true, weight: 8, urgentShare: 0.05, loc: locStreet,
			problems: []string{"有流动摊贩占用人行道售卖水果", "餐馆在门前人行道摆放桌椅经营", "早点摊占道经营，地面油污较多"},
			fixes:    []string{"已劝离流动摊贩，并对商户进行教育，现场已恢复通行", "已责令商户将桌椅收回店内，签订门前三包责任书"}},
		{code: "0105", name: "垃圾桶满溢", standard: "垃圾桶已清运，桶体完好，周边无散落垃圾和污水。", unit: workcal.Hours, normal: 4, urgent: 2,
			hint: "垃圾桶、垃圾箱装满未清运，周边散落垃圾", auto: true,
			lead: "cgj", weight: 5, urgentShare: 0.05, loc: locHome,
			problems: []string{"垃圾桶满溢，周边散落垃圾", "分类垃圾桶已满未及时清运，异味明显"},
			fixes:    []string{"已清运满溢垃圾桶并清洗桶体，已调整该点位清运频次", "已完成清运，周边散落垃圾已清理"}},
	}},
	{"02", "宣传广告", "公益广告缺损、违规设置的户外广告", []catDef{
		{code: "0201", name: "公益广告缺失破损", standard: "公益广告画面完整清晰、内容规范，无破损、褪色和遮挡。", unit: workcal.Days, normal: 5, urgent: 2,
			hint: "公益广告画面破损、褪色、被遮挡，灯箱不亮",
			lead: "cgj", coops: []string{"wlj"}, weight: 3, urgentShare: 0.05, loc: locStreet,
			problems: []string{"围挡上的公益广告画面破损褪色", "公益广告牌被遮挡，内容缺失", "公益广告灯箱损坏，夜间不亮"},
			fixes:    []string{"已更换新的公益广告画面，内容符合规范", "已修复灯箱并更新公益广告内容"}},
		{code: "0202", name: "违规户外广告", standard: "违规广告已拆除，设置点位恢复原状，无安全隐患。", unit: workcal.Days, normal: 5, urgent: 1,
			hint: "私设落地广告牌，楼顶广告牌锈蚀松动，未经审批的广告屏",
			lead: "cgj", coops: []string{"scjg"}, weight: 3, urgentShare: 0.1, loc: locStreet,
			problems: []string{"商铺私自设置落地广告牌占用人行道", "楼顶广告牌锈蚀松动，存在安全隐患", "店面外挂设LED屏未经审批"},
			fixes:    []string{"已依法拆除违规广告设施", "已督促商户自行拆除广告牌，现场已恢复原状"}},
	}},
	{"03", "设施管理", "路灯、井盖、盲道、公厕等市政设施问题", []catDef{
		{code: "0301", name: "路灯不亮", standard: "路灯夜间正常亮灯，灯杆灯具完好无倾斜。", unit: workcal.Days, normal: 2, urgent: 1,
			hint: "路灯夜间不亮、白天常亮，灯杆倾斜或灯具损坏",
			lead: "gd", coops: []string{"cgj"}, weight: 4, urgentShare: 0.1, loc: locStreet,
			problems: []string{"连续{n}盏路灯夜间不亮", "路灯灯杆倾斜，灯具损坏", "路灯白天常亮，夜间反而熄灭"},
			fixes:    []string{"已更换损坏的灯具和线路，夜间复查已正常亮灯", "已扶正灯杆并更换灯具，经测试亮灯正常"}},
		{code: "0302", name: "井盖缺失破损", standard: "井盖齐全完好、平稳无异响，与路面高差符合规范。", unit: workcal.Hours, normal: 4, urgent: 2, crit: 1,
			hint: "井盖丢失、破损、下沉或松动，行人车辆有危险",
			lead: "zjj", coops: []string{"zls", "rq"}, weight: 3, urgentShare: 0.4, loc: locStreet,
			problems: []string{"雨水井盖缺失，已有行人险些跌落", "污水井盖破损下沉，车辆经过有异响", "井盖松动移位，存在安全隐患"},
			fixes:    []string{"已设置警示并更换新的防坠井盖", "已对井座进行加固并更换井盖，经测试车辆通过无异响"}},
		{code: "0303", name: "盲道被占", standard: "盲道连续畅通，无占用、无破损缺失。", unit: workcal.Days, normal: 1,
			hint: "盲道被车辆、杂物占用，或盲道砖破损中断",
			lead: "cgj", coops: []string{"jj"}, local: true, weight: 3, loc: locStreet,
			problems: []string{"盲道被电动车占用约{n}米", "盲道砖破损缺失，盲道中断", "盲道上堆放杂物"},
			fixes:    []string{"已清理占用盲道的车辆和杂物，并设置提示牌", "已修补破损盲道砖，盲道已恢复连续"}},
		{code: "0304", name: "公厕脏乱", standard: "公厕地面干净无积水、无异味，设施完好，厕纸洗手液齐备。", unit: workcal.Hours, normal: 4,
			hint: "公共厕所脏、有异味，设施损坏，缺厕纸洗手液",
			lead: "cgj", weight: 3, loc: locToilet,
			problems: []string{"地面湿滑有积水，异味较大", "洗手池损坏，无洗手液和厕纸", "蹲位堵塞，无人保洁"},
			fixes:    []string{"已安排保洁员全面清洁并修复洗手池，已补充厕纸和洗手液", "已疏通堵塞蹲位，加强日常保洁巡查"}},
	}},
	{"04", "交通秩序", "机动车、非机动车乱停乱放", []catDef{
		{code: "0401", name: "乱停车", standard: "违停车辆已驶离或依法处理，路口和人行道通行顺畅。", unit: workcal.Hours, normal: 2, urgent: 1,
			hint: "机动车停在人行道、斑马线、公交站台等处",
			lead: "jj", weight: 8, urgentShare: 0.1, loc: locStreet,
			problems: []string{"有{n}辆机动车占用人行道停放", "路口斑马线上有车辆违停", "车辆在公交站台违停，影响公交进站"},
			fixes:    []string{"已对违停车辆贴单处罚并拖移，现场通行恢复", "已联系车主将车辆驶离，并加强该路段巡逻"}},
		{code: "0402", name: "非机动车乱停放", standard: "非机动车在划线区域内整齐停放，不占用盲道和人行道。", unit: workcal.Hours, normal: 2,
			hint: "共享单车、电动车乱停乱放，占用盲道和人行道",
			lead: "jtj", coops: []string{"jj"}, local: true, weight: 6, loc: locStreet,
			problems: []string{"共享单车堆放杂乱，占用盲道和人行道", "电动自行车停放无序，影响行人通行"},
			fixes:    []string{"已通知共享单车企业清运调度，现场已摆放整齐", "已组织人员规范停放并施划非机动车停放线"}},
	}},
	{"05", "园林绿化", "绿地缺管、树木倒伏等绿化问题", []catDef{
		{code: "0501", name: "绿地养护不到位", standard: "绿地无杂草、无黄土裸露，缺株已补植，植物长势良好。", unit: workcal.Days, normal: 5,
			hint: "绿化带杂草丛生、黄土裸露、缺株死株",
			lead: "ylj", weight: 4, loc: locStreet,
			problems: []string{"绿化带杂草丛生，有裸露黄土", "行道树缺株{n}处，树池未补植", "绿篱大面积枯死未补种"},
			fixes:    []string{"已完成除草和补植，裸露黄土已覆绿", "已补植行道树并修整树池"}},
		{code: "0502", name: "树木倒伏", standard: "倒伏树木已清理或扶正加固，道路通行安全。", unit: workcal.Hours, normal: 4, urgent: 2, crit: 1,
			hint: "树木倒伏、严重倾斜，断枝挂在电线上",
			lead: "ylj", coops: []string{"gd"}, weight: 1, urgentShare: 0.5, loc: locStreet,
			problems: []string{"行道树被风吹倒，压住部分车道", "大树倾斜严重，有倒伏风险", "断枝悬挂在电线上"},
			fixes:    []string{"已清理倒伏树木并恢复交通", "已对倾斜树木进行修剪并支撑加固"}},
	}},
	{"06", "施工管理", "违法建设、工地围挡和扬尘", []catDef{
		// Category limits have one unit for every urgency level, so "20
		// working days, urgent 4 working hours" is given in hours:
		// 160 working hours is 20 working days of 8 hours.
		{code: "0601", name: "违法建设", standard: "违法建设已停工并依法拆除，现场恢复原状。", unit: workcal.Hours, normal: 160, urgent: 4,
			hint: "私搭乱建、楼顶加建、圈占绿地和公共通道",
			lead: "cgj", coops: []string{"zjj"}, local: true, weight: 3, urgentShare: 0.3, loc: locHome,
			problems: []string{"楼顶搭建彩钢瓦房约{n}0平方米", "底商违规扩建门面，占用公共通道", "有住户私自圈占绿地搭建棚屋"},
			fixes:    []string{"已下达责令停止违法行为通知书，违建已全部拆除", "已组织联合执法拆除违法建筑，现场已恢复原状"}},
		{code: "0602", name: "工地围挡破损", standard: "围挡连续完整、稳固整洁，公益广告齐全。", unit: workcal.Days, normal: 2,
			hint: "工地围挡破损、倒塌、脏污，缺少公益广告",
			lead: "zjj", weight: 2, loc: locSite,
			problems: []string{"围挡破损倒塌约{n}米", "围挡公益广告缺失，围挡脏污"},
			fixes:    []string{"已督促施工单位修复围挡并更换公益广告", "施工单位已重新设置围挡并清洗"}},
		{code: "0603", name: "扬尘", standard: "裸土全部覆盖，车辆冲洗到位，无明显扬尘。", unit: workcal.Hours, normal: 4, urgent: 2,
			hint: "工地裸土未覆盖、渣土车撒漏、车辆带泥上路",
			lead: "sthj", coops: []string{"zjj"}, weight: 3, urgentShare: 0.15, loc: locSite,
			problems: []string{"裸露土方未覆盖，扬尘明显", "渣土车未密闭运输，出口沿路撒漏", "车辆出场未冲洗，带泥上路"},
			fixes:    []string{"已督促施工单位覆盖裸土并增设喷淋设施", "已责令工地整改，出口冲洗设施已恢复使用"}},
	}},
	{"07", "消防安全", "消防通道、疏散通道被占用", []catDef{
		{code: "0701", name: "消防通道堵塞", standard: "消防通道畅通无占用，标识清晰。", unit: workcal.Hours, normal: 2, urgent: 1,
			hint: "车辆或杂物堵塞消防通道、登高作业面",
			lead: "xf", local: true, weight: 3, urgentShare: 0.3, loc: locHome,
			problems: []string{"消防通道被私家车堵塞", "楼道内堆放杂物并有电动车充电，堵塞疏散通道", "消防通道被地锁圈占"},
			fixes:    []string{"已清理占用消防通道的车辆和杂物，并施划禁停标线", "已清除楼道杂物，并对住户进行消防安全宣传"}},
	}},
	{"08", "农贸市场", "农贸市场内外的秩序和卫生", []catDef{
		{code: "0801", name: "市场秩序混乱", standard: "摊位划行归市、整齐有序，地面干净，无占道经营。", unit: workcal.Days, normal: 1,
			hint: "农贸市场内外占道经营、卫生脏乱、摊位无序",
			lead: "scjg", coops: []string{"swj"}, local: true, weight: 4, loc: locMarket,
			problems: []string{"外围摊贩占道经营，秩序混乱", "活禽区卫生差，污水横流", "摊位超出划线经营，通道拥堵"},
			fixes:    []string{"已督促市场开办方整顿秩序，外围摊贩已劝离", "已组织市场全面清洁消杀，落实专人保洁"}},
	}},
}

// Streets, 小区 and landmarks give each community plausible places.
var roadNames = []string{
	"幸福路", "建设街", "人民路", "文明路", "团结路", "和平街", "春城路", "湖滨路", "明珠大道", "东风路", "朝阳路", "红旗街",
	"北苑路", "松涛路", "月华街", "桂香路", "青松路", "林荫路", "翠屏路", "云峰街", "石桥路", "兰亭路", "青溪路", "溪岸街",
	"荷塘路", "西苑路", "丰收路", "杏林街", "文苑路", "清泉路", "泉源街", "南屏街", "新桥路", "长虹路", "彩云路", "金沙街",
	"新城大道", "创业路", "学府路", "康宁街", "环湖东路", "环湖西路", "科技路", "商贸街", "站前路", "工业路", "花园路", "书院街",
}

var compoundNames = []string{
	"阳光花园", "锦绣家园", "金色港湾", "碧水苑", "书香门第", "滨湖雅苑", "翠柳小区", "康乐小区", "明珠花园", "东方明苑",
	"春晖园", "红星小区", "松涛苑", "桂园小区", "林荫小区", "云峰苑", "兰亭雅居", "荷塘小区", "丰收小区", "杏林苑",
	"文苑小区", "清泉雅苑", "新桥小区", "和平小区", "幸福里", "彩云苑", "金沙小区", "学府花园", "康宁小区", "创业小区", "石桥新村",
}

var landmarks = []string{"便民超市", "社区卫生服务站", "银行网点", "药店", "快递驿站", "社区服务中心", "幼儿园", "小学", "五金店", "餐馆", "茶馆", "水果店"}

var corners = []string{"东北角", "东南角", "西北角", "西南角"}

// People and words for the trail.
var surnames = []string{"张", "王", "李", "赵", "刘", "陈", "杨", "黄", "周", "吴", "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林", "罗"}

var rejectReasons = []string{
	"经现场核实，未发现所反映的问题",
	"不属于本平台受理范围，已告知市民拨打12345政务服务热线",
	"描述不清且无法联系上报人，无法确定问题位置",
	"所反映问题属于小区物业内部管理事项，已告知联系物业服务企业",
}

var returnReasons = []string{
	"该问题不属于本单位职责范围，请重新派遣",
	"经现场查看，该点位权属为其他单位，请核实后重新派遣",
	"派遣类别有误，该问题应由属地或相关行业主管部门处置",
}

var extensionReasons = []string{
	"需协调产权单位共同处置，申请延期",
	"需采购配件，申请延期",
	"近期连续降雨无法施工，申请延期",
	"涉及多户居民，需逐户做工作，申请延期",
}

var postponeReasons = []string{
	"涉及产权纠纷，需待法院裁定后处置，同意缓办",
	"需纳入年度改造计划统一实施，同意缓办",
	"涉及地铁施工围挡范围，待施工结束后处置，同意缓办",
}

var reworkReasons = []string{
	"现场复核仍未整改到位，请返工",
	"整改不彻底，周边仍有残留，请返工",
	"反馈照片与现场情况不符，请重新处置",
}

var voidReasons = []string{
	"同一问题重复立案，作废本件",
	"录入信息有误，已按正确信息重新上报",
	"经核实为误报，作废本件",
}

var superviseOpinions = []string{
	"群众反映强烈，列入挂牌督办，请责任单位限期整改",
	"该问题已超期，挂牌督办，请主要负责同志亲自督办落实",
	"点位位于迎检重点线路，挂牌督办，请加快处置",
}

var verifyOpinions = []string{"经现场核查，已整改到位，同意结案", "现场复核情况属实，整改到位，予以结案", "已整改，符合结案标准"}
