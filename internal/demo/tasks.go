package demo

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/xuri/excelize/v2"

	"chuangwen/internal/org"
	"chuangwen/internal/tasks"
)

// The demo city's task list (工作任务分解): the second half-year's plan,
// sixteen tasks of three milestones each, imported through the real
// importer a few days into the demo's days (after the indicator tree,
// whose leaves they name). The units report each milestone before (or
// now and then after) its due date, with a site photo; the office accepts
// most reports, returns some; a few milestones were never reported and
// are overdue, a few wait for review, the later ones lie ahead.

type demoTask struct {
	code, title, lead, coops, leaves string
}

var demoTasks = []demoTask{
	{"2026-01", "主次干道环境卫生长效管理", "CGJ", "ZJJ", "4.1.1、4.1.2"},
	{"2026-02", "背街小巷路灯及设施补齐", "CGJ", "GDGS", "4.2.1"},
	{"2026-03", "公共厕所提质改造", "CGJ", "", "4.1.3"},
	{"2026-04", "农贸市场规范化整治", "SCJG", "CGJ", "3.2.2"},
	{"2026-05", "占道经营综合治理", "CGJ", "SCJG", "3.2.1"},
	{"2026-06", "文明交通劝导与礼让斑马线", "JJZD", "JTJ", "3.1.1、3.1.2"},
	{"2026-07", "非机动车停放秩序整治", "JJZD", "CGJ", "3.1.3"},
	{"2026-08", "公益广告刊播全覆盖", "WLJ", "CGJ、GJJT", "1.1.1、1.1.2"},
	{"2026-09", "建筑工地围挡与扬尘管控", "ZJJ", "STHJ", "4.3.2"},
	{"2026-10", "老旧小区楼道整治", "ZJJ", "", "4.3.1"},
	{"2026-11", "公交站点服务提升", "JTJ", "GJJT", "5.1.2"},
	{"2026-12", "绿地养护与裸土覆绿", "YLJ", "", "4.1.1"},
	{"2026-13", "消防通道畅通专项行动", "XFZD", "ZJJ", "4.2.3"},
	{"2026-14", "窗口单位文明服务提升", "SWJ", "SCJG", "5.1.1、5.1.3"},
	{"2026-15", "校园周边环境整治", "JYJ", "SCJG、JJZD", "1.3.1"},
	{"2026-16", "无障碍设施排查修复", "ZJJ", "CGJ", "4.2.2"},
}

var demoMilestones = []string{"制定方案、摸底排查", "集中整治", "巩固提升、迎检验收"}

type taskLoad struct {
	s        *sim
	svc      *tasks.Service
	rng      *rand.Rand
	reported int
	accepted int
	returned int
}

const taskRNG = 0x85ebca6b

// planTasks queues the import a week into the demo's days and the
// reports around each milestone's due date.
func planTasks(svc *tasks.Service, s *sim) *taskLoad {
	l := &taskLoad{s: s, svc: svc, rng: rand.New(rand.NewPCG(uint64(s.opts.Seed), taskRNG))}
	year := s.now.In(s.loc).Year()
	start := s.clock.Add(8 * 24 * time.Hour)
	// Due dates: the first milestone three weeks after the import, the
	// last ones in December; each task a little apart.
	var rows [][]any
	rows = append(rows, []any{"任务编号", "任务名称", "测评指标", "牵头单位", "配合单位", "节点", "完成时限", "成果形式"})
	type due struct {
		code string
		ord  int
		at   time.Time
	}
	var dues []due
	for i, t := range demoTasks {
		first := start.AddDate(0, 0, 21+i*2)
		for k, m := range demoMilestones {
			d := first.AddDate(0, 0, k*42+(i%3)*5)
			if end := time.Date(year, 12, 31, 0, 0, 0, 0, s.loc); d.After(end) {
				d = end
			}
			day := d.In(s.loc).Format("2006-01-02")
			row := []any{t.code, "", "", "", "", m, day, []string{"工作方案、排查台账", "整治前后对比照片", "验收报告"}[k]}
			if k == 0 {
				row[1], row[2], row[3], row[4] = t.title, t.leaves, t.lead, t.coops
			}
			rows = append(rows, row)
			dues = append(dues, due{t.code, k + 1, time.Date(d.In(s.loc).Year(), d.In(s.loc).Month(), d.In(s.loc).Day(), 17, 0, 0, 0, s.loc)})
		}
	}
	s.push(&run{}, start, func(*run) error {
		f := excelize.NewFile()
		defer f.Close()
		for i, r := range rows {
			cell, _ := excelize.CoordinatesToCellName(1, i+1)
			if err := f.SetSheetRow("Sheet1", cell, &r); err != nil {
				return err
			}
		}
		var buf bytes.Buffer
		if err := f.Write(&buf); err != nil {
			return err
		}
		rep, err := svc.Import(s.ctx, s.admin, year, &buf)
		if err != nil {
			return fmt.Errorf("task list: %w", err)
		}
		if len(rep.Problems) > 0 {
			return fmt.Errorf("task list: %d problems, the first %+v", len(rep.Problems), rep.Problems[0])
		}
		list, err := svc.Tasks(s.ctx, s.admin, tasks.Filter{Year: year})
		if err != nil {
			return err
		}
		for _, t := range list {
			for _, m := range t.Milestones {
				for _, d := range dues {
					if d.code == t.Code && d.ord == m.Ord {
						l.plan(t, m, d.at)
					}
				}
			}
		}
		return nil
	})
	return l
}

// plan queues what becomes of one milestone due at due.
func (l *taskLoad) plan(t tasks.Task, m tasks.Milestone, due time.Time) {
	s := l.s
	handler, ok := s.handlers[t.Lead.ID]
	if !ok {
		return
	}
	x := l.rng.Float64()
	switch {
	case x < 0.08: // never reported: overdue once its day has passed
		return
	case x < 0.16: // reported, returned, reported again
		at := due.Add(-time.Duration(3+l.rng.IntN(5)) * 24 * time.Hour)
		l.report(handler, m.ID, at, func(id int64) {
			s.scheduleOpt(&run{}, at.Add(26*time.Hour), func(*run) error {
				l.returned++
				return l.svc.Decide(s.ctx, s.acceptors[0], id, false, "佐证材料不全，请补充整改前后对比照片")
			})
			l.report(handler, m.ID, at.Add(3*24*time.Hour), l.accept(at.Add(5*24*time.Hour)))
		})
	case x < 0.26: // reported late
		at := due.Add(time.Duration(2+l.rng.IntN(4)) * 24 * time.Hour)
		l.report(handler, m.ID, at, l.accept(at.Add(30*time.Hour)))
	default: // reported in time, accepted a day or two later
		at := due.Add(-time.Duration(1+l.rng.IntN(8)) * 24 * time.Hour)
		l.report(handler, m.ID, at, l.accept(at.Add(time.Duration(20+l.rng.IntN(40))*time.Hour)))
	}
}

// report queues a report by handler at (if before now), then next.
func (l *taskLoad) report(actor org.Actor, milestone int64, at time.Time, next func(id int64)) {
	s := l.s
	s.scheduleOpt(&run{}, s.office(at), func(*run) error {
		img := s.photos.after[l.rng.IntN(len(s.photos.after))]
		r, err := l.svc.AddReport(s.ctx, actor, milestone, "已按节点要求完成，附现场照片。", []tasks.Upload{{Name: "现场照片.jpg", R: bytes.NewReader(img)}})
		if err != nil {
			return fmt.Errorf("task report: %w", err)
		}
		l.reported++
		if next != nil {
			next(r.ID)
		}
		return nil
	})
}

// accept returns a step that accepts a report at at.
func (l *taskLoad) accept(at time.Time) func(id int64) {
	s := l.s
	return func(id int64) {
		s.scheduleOpt(&run{}, s.office(at), func(*run) error {
			l.accepted++
			return l.svc.Decide(s.ctx, s.acceptors[0], id, true, "")
		})
	}
}

func (l *taskLoad) summary() {
	l.s.opts.Log("demo: task list: %d tasks, %d milestones; %d reports, %d accepted, %d returned",
		len(demoTasks), len(demoTasks)*len(demoMilestones), l.reported, l.accepted, l.returned)
}
