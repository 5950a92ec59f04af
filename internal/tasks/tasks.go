// Package tasks keeps the campaign's task list (工作任务分解): the year's
// plan decomposed into tasks with the indicator leaves they serve, a lead
// unit and cooperating units, and milestones with due dates and
// deliverables; the units' progress reports with their attachments; the
// office's acceptance; and each milestone's status in working days.
// docs/tasks.md tells the rules.
package tasks

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"chuangwen/internal/apperr"
	"chuangwen/internal/audit"
	"chuangwen/internal/blob"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
	"chuangwen/internal/workcal"
)

// Service keeps the task list over one database.
type Service struct {
	DB       *store.DB
	Blobs    blob.Store // the attachments (keys under tasks/)
	Location *time.Location
	Now      func() time.Time // nil: the wall clock
	// Calendar is the city's working calendar (the workflow's).
	Calendar func(context.Context) (*workcal.Calendar, error)
	Log      *slog.Logger
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC().Truncate(time.Millisecond)
	}
	return time.Now().UTC().Truncate(time.Millisecond)
}

func (s *Service) loc() *time.Location {
	if s.Location != nil {
		return s.Location
	}
	return time.UTC
}

// Statuses of a milestone and a task.
const (
	Done     = "done"     // accepted by the office
	OnTrack  = "on_track" // 正常推进
	AtRisk   = "at_risk"  // 临期或被退回
	Overdue  = "overdue"  // 逾期
	Pending  = "pending"  // a report waits for the office
	Accepted = "accepted" // a report accepted
	Returned = "returned" // a report returned
	dateForm = "2006-01-02"
)

// Settings are the office's choices.
type Settings struct {
	// AtRiskDays: an open milestone due within this many working days is
	// at risk (临期).
	AtRiskDays int `json:"at_risk_days"`
}

const settingsKey = "tasks"

// DefaultSettings: at risk within five working days.
func DefaultSettings() Settings { return Settings{AtRiskDays: 5} }

// Settings returns the stored settings.
func (s *Service) Settings(ctx context.Context) (Settings, error) {
	return store.ReadSetting(ctx, s.DB.Reader(), settingsKey, DefaultSettings())
}

// SaveSettings stores the settings (the administrator's).
func (s *Service) SaveSettings(ctx context.Context, actor org.Actor, st Settings) error {
	if actor.Role != org.RoleAdmin {
		return apperr.New(apperr.Forbidden, "forbidden")
	}
	if st.AtRiskDays < 0 || st.AtRiskDays > 60 {
		return apperr.New(apperr.Invalid, "task.bad_at_risk_days", "max", "60")
	}
	return s.DB.WithTx(ctx, func(tx *store.Tx) error {
		if err := store.WriteSetting(ctx, tx, settingsKey, st); err != nil {
			return err
		}
		return s.trail(ctx, tx, actor, "task.settings", st)
	})
}

func (s *Service) trail(ctx context.Context, tx *store.Tx, actor org.Actor, action string, data any) error {
	_, err := audit.Append(ctx, tx, actor.Entry(s.now(), action, data))
	return err
}

// office: the roles that read every task; the first two also decide.
func office(a org.Actor) bool {
	return a.Role == org.RoleAdmin || a.Role == org.RoleAcceptor || a.Role == org.RoleLeader || a.Role == org.RoleSystem
}

func decides(a org.Actor) bool {
	return a.Role == org.RoleAdmin || a.Role == org.RoleAcceptor || a.Role == org.RoleSystem
}

// scope is the condition on the tasks (alias t) actor sees: the office
// all, a unit's handler those its unit leads or cooperates on.
func scope(a org.Actor) (string, []any, error) {
	switch {
	case office(a):
		return "1=1", nil, nil
	case a.Role == org.RoleHandler && a.UnitID != 0:
		return "(t.lead_unit_id = ? OR t.id IN (SELECT task_id FROM plan_task_coops WHERE unit_id = ?))", []any{a.UnitID, a.UnitID}, nil
	}
	return "", nil, apperr.New(apperr.Forbidden, "forbidden")
}

// Unit names a unit.
type Unit struct {
	ID   int64  `json:"id"`
	Code string `json:"code"`
	Name string `json:"name"`
}

// Milestone is a task's milestone with its status as of now.
type Milestone struct {
	ID          int64  `json:"id"`
	Ord         int    `json:"ord"`
	Title       string `json:"title"`
	Due         string `json:"due"` // YYYY-MM-DD, due at the end of the day in the city's zone
	Deliverable string `json:"deliverable,omitempty"`
	AcceptedAt  int64  `json:"accepted_at,omitempty"`
	Status      string `json:"status"`
	// DaysLeft: working days from now to the due time (negative once
	// overdue: the working days late); 0 for a done milestone.
	DaysLeft int `json:"days_left"`
	// Waiting: a report waits for the office; LastReturned: the latest
	// report was returned.
	Waiting      bool     `json:"waiting"`
	LastReturned bool     `json:"last_returned"`
	Reports      []Report `json:"reports,omitempty"`
}

// Task is a task with its milestones.
type Task struct {
	ID         int64       `json:"id"`
	Year       int         `json:"year"`
	Code       string      `json:"code"`
	Title      string      `json:"title"`
	Lead       Unit        `json:"lead"`
	Coops      []Unit      `json:"coops"`
	Leaves     []string    `json:"leaves"`
	Milestones []Milestone `json:"milestones"`
	Status     string      `json:"status"`
	Done       int         `json:"done"`
	Total      int         `json:"total"`
}

// Report is a unit's progress report on a milestone.
type Report struct {
	ID          int64  `json:"id"`
	MilestoneID int64  `json:"milestone_id"`
	Unit        string `json:"unit"`
	Body        string `json:"body"`
	By          string `json:"by"`
	At          int64  `json:"at"`
	Decision    string `json:"decision"`
	DecidedBy   string `json:"decided_by,omitempty"`
	DecidedAt   int64  `json:"decided_at,omitempty"`
	Note        string `json:"note,omitempty"`
	Files       []File `json:"files"`
}

// File is a report's attachment.
type File struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	Mime   string `json:"mime"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	path   string
}

// clock is what status computation needs: now, the calendar, the zone
// and the at-risk bound.
type clock struct {
	now    time.Time
	cal    *workcal.Calendar
	loc    *time.Location
	atRisk int
}

func (s *Service) clock(ctx context.Context) (clock, error) {
	c := clock{now: s.now(), loc: s.loc()}
	st, err := s.Settings(ctx)
	if err != nil {
		return c, err
	}
	c.atRisk = st.AtRiskDays
	if s.Calendar != nil {
		if c.cal, err = s.Calendar(ctx); err != nil {
			return c, err
		}
	}
	return c, nil
}

// dueAt is the end of a milestone's due day in the city's zone.
func (c clock) dueAt(due string) time.Time {
	d, err := time.ParseInLocation(dateForm, due, c.loc)
	if err != nil {
		return time.Time{}
	}
	return d.AddDate(0, 0, 1)
}

// workingDays between a and b (negative when b is before a), whole days
// rounded towards the later.
func (c clock) workingDays(a, b time.Time) int {
	if c.cal == nil {
		days := b.Sub(a).Hours() / 24
		if days < 0 {
			return -int(-days)
		}
		return int(days + 0.999)
	}
	per := c.cal.MinutesPerDay()
	if b.Before(a) {
		return -(c.cal.WorkingMinutesBetween(b, a) + per - 1) / per
	}
	return (c.cal.WorkingMinutesBetween(a, b) + per - 1) / per
}

// status sets a milestone's status as of c.now.
func (c clock) status(m *Milestone) {
	if m.AcceptedAt > 0 {
		m.Status, m.DaysLeft = Done, 0
		return
	}
	due := c.dueAt(m.Due)
	m.DaysLeft = c.workingDays(c.now, due)
	switch {
	case !c.now.Before(due):
		m.Status = Overdue
		if m.DaysLeft == 0 {
			m.DaysLeft = -1 // late by less than a working day
		}
	case m.DaysLeft <= c.atRisk || m.LastReturned:
		m.Status = AtRisk
	default:
		m.Status = OnTrack
	}
}

// rank orders statuses worst first.
var rank = map[string]int{Overdue: 0, AtRisk: 1, OnTrack: 2, Done: 3}

// summarize sets a task's status (its worst open milestone's; done when
// all are) and counts.
func (t *Task) summarize() {
	t.Status, t.Done, t.Total = Done, 0, len(t.Milestones)
	for _, m := range t.Milestones {
		if m.Status == Done {
			t.Done++
		}
		if rank[m.Status] < rank[t.Status] {
			t.Status = m.Status
		}
	}
	if t.Total == 0 {
		t.Status = OnTrack
	}
}

// Filter narrows the task list.
type Filter struct {
	Year   int    // 0: every year
	UnitID int64  // led or cooperated on by the unit
	Leaf   string // serving the indicator leaf
	Status string // the task's status
}

// Tasks lists the tasks actor sees, by code, with their milestones and
// statuses (no reports).
func (s *Service) Tasks(ctx context.Context, actor org.Actor, f Filter) ([]Task, error) {
	cond, args, err := scope(actor)
	if err != nil {
		return nil, err
	}
	where := []string{cond}
	if f.Year != 0 {
		where = append(where, "t.year = ?")
		args = append(args, f.Year)
	}
	if f.UnitID != 0 {
		where = append(where, "(t.lead_unit_id = ? OR t.id IN (SELECT task_id FROM plan_task_coops WHERE unit_id = ?))")
		args = append(args, f.UnitID, f.UnitID)
	}
	if f.Leaf = strings.TrimSpace(f.Leaf); f.Leaf != "" {
		where = append(where, "t.id IN (SELECT task_id FROM plan_task_leaves WHERE standard = ?)")
		args = append(args, f.Leaf)
	}
	switch f.Status {
	case "", Done, OnTrack, AtRisk, Overdue:
	default:
		return nil, apperr.New(apperr.Invalid, "task.bad_status")
	}
	q := s.DB.Reader()
	list, err := store.Collect(ctx, q, func(r store.Scanner) (t Task, err error) {
		return t, r.Scan(&t.ID, &t.Year, &t.Code, &t.Title, &t.Lead.ID, &t.Lead.Code, &t.Lead.Name)
	}, `SELECT t.id, t.year, t.code, t.title, u.id, u.code, u.name FROM plan_tasks t JOIN units u ON u.id = t.lead_unit_id
		WHERE `+strings.Join(where, " AND ")+` ORDER BY t.year DESC, t.code`, args...)
	if err != nil || len(list) == 0 {
		return list, err
	}
	if err := s.fill(ctx, q, list, false); err != nil {
		return nil, err
	}
	if f.Status == "" {
		return list, nil
	}
	return slices.DeleteFunc(list, func(t Task) bool { return t.Status != f.Status }), nil
}

// fill adds the tasks' cooperating units, leaves and milestones (with
// reports when withReports), and computes their statuses.
func (s *Service) fill(ctx context.Context, q store.Queryer, list []Task, withReports bool) error {
	c, err := s.clock(ctx)
	if err != nil {
		return err
	}
	byID := map[int64]*Task{}
	ids := make([]string, len(list))
	for i := range list {
		byID[list[i].ID] = &list[i]
		ids[i] = strconv.FormatInt(list[i].ID, 10)
		list[i].Coops, list[i].Leaves, list[i].Milestones = []Unit{}, []string{}, []Milestone{}
	}
	in := "(" + strings.Join(ids, ",") + ")"
	type coop struct {
		task int64
		Unit
	}
	coops, err := store.Collect(ctx, q, func(r store.Scanner) (x coop, err error) {
		return x, r.Scan(&x.task, &x.ID, &x.Code, &x.Name)
	}, `SELECT c.task_id, u.id, u.code, u.name FROM plan_task_coops c JOIN units u ON u.id = c.unit_id WHERE c.task_id IN `+in+` ORDER BY u.code`)
	if err != nil {
		return err
	}
	for _, x := range coops {
		byID[x.task].Coops = append(byID[x.task].Coops, x.Unit)
	}
	type leaf struct {
		task int64
		code string
	}
	leaves, err := store.Collect(ctx, q, func(r store.Scanner) (x leaf, err error) {
		return x, r.Scan(&x.task, &x.code)
	}, `SELECT task_id, standard FROM plan_task_leaves WHERE task_id IN `+in+` ORDER BY standard`)
	if err != nil {
		return err
	}
	for _, x := range leaves {
		byID[x.task].Leaves = append(byID[x.task].Leaves, x.code)
	}
	type ms struct {
		task int64
		Milestone
		last string
	}
	mss, err := store.Collect(ctx, q, func(r store.Scanner) (x ms, err error) {
		return x, r.Scan(&x.task, &x.ID, &x.Ord, &x.Title, &x.Due, &x.Deliverable, &x.AcceptedAt, &x.Waiting, &x.last)
	}, `SELECT m.task_id, m.id, m.ord, m.title, m.due, m.deliverable, m.accepted_at,
			EXISTS (SELECT 1 FROM plan_reports p WHERE p.milestone_id = m.id AND p.decision = 'pending'),
			COALESCE((SELECT p.decision FROM plan_reports p WHERE p.milestone_id = m.id ORDER BY p.id DESC LIMIT 1), '')
		FROM plan_milestones m WHERE m.task_id IN `+in+` ORDER BY m.task_id, m.ord`)
	if err != nil {
		return err
	}
	for _, x := range mss {
		m := x.Milestone
		m.LastReturned = x.last == Returned
		c.status(&m)
		byID[x.task].Milestones = append(byID[x.task].Milestones, m)
	}
	if withReports {
		if err := s.reports(ctx, q, list); err != nil {
			return err
		}
	}
	for i := range list {
		list[i].summarize()
	}
	return nil
}

// reports adds every milestone's reports, with their files.
func (s *Service) reports(ctx context.Context, q store.Queryer, list []Task) error {
	where := map[int64]*Milestone{}
	var ids []string
	for i := range list {
		for j := range list[i].Milestones {
			m := &list[i].Milestones[j]
			where[m.ID] = m
			ids = append(ids, strconv.FormatInt(m.ID, 10))
		}
	}
	if len(ids) == 0 {
		return nil
	}
	reps, err := store.Collect(ctx, q, func(r store.Scanner) (p Report, err error) {
		return p, r.Scan(&p.ID, &p.MilestoneID, &p.Unit, &p.Body, &p.By, &p.At, &p.Decision, &p.DecidedBy, &p.DecidedAt, &p.Note)
	}, `SELECT p.id, p.milestone_id, COALESCE(u.name, ''), p.body, COALESCE(a.display_name, ''), p.created_at, p.decision,
			COALESCE(d.display_name, ''), p.decided_at, p.decision_note
		FROM plan_reports p LEFT JOIN units u ON u.id = p.unit_id LEFT JOIN users a ON a.id = p.created_by LEFT JOIN users d ON d.id = p.decided_by
		WHERE p.milestone_id IN (`+strings.Join(ids, ",")+`) ORDER BY p.id`)
	if err != nil || len(reps) == 0 {
		return err
	}
	rids := make([]string, len(reps))
	for i := range reps {
		rids[i] = strconv.FormatInt(reps[i].ID, 10)
		reps[i].Files = []File{}
	}
	type rf struct {
		report int64
		File
	}
	files, err := store.Collect(ctx, q, func(r store.Scanner) (x rf, err error) {
		return x, r.Scan(&x.report, &x.ID, &x.Name, &x.Mime, &x.Size, &x.SHA256)
	}, `SELECT report_id, id, name, mime, size, sha256 FROM plan_report_files WHERE report_id IN (`+strings.Join(rids, ",")+`) ORDER BY id`)
	if err != nil {
		return err
	}
	for i := range reps {
		for _, f := range files {
			if f.report == reps[i].ID {
				reps[i].Files = append(reps[i].Files, f.File)
			}
		}
		m := where[reps[i].MilestoneID]
		m.Reports = append(m.Reports, reps[i])
	}
	return nil
}

// Task returns one task actor sees, with its reports.
func (s *Service) Task(ctx context.Context, actor org.Actor, id int64) (Task, error) {
	cond, args, err := scope(actor)
	if err != nil {
		return Task{}, err
	}
	q := s.DB.Reader()
	list, err := store.Collect(ctx, q, func(r store.Scanner) (t Task, err error) {
		return t, r.Scan(&t.ID, &t.Year, &t.Code, &t.Title, &t.Lead.ID, &t.Lead.Code, &t.Lead.Name)
	}, `SELECT t.id, t.year, t.code, t.title, u.id, u.code, u.name FROM plan_tasks t JOIN units u ON u.id = t.lead_unit_id
		WHERE t.id = ? AND `+cond, append([]any{id}, args...)...)
	if err != nil {
		return Task{}, err
	}
	if len(list) == 0 {
		return Task{}, apperr.New(apperr.NotFound, "task.not_found")
	}
	if err := s.fill(ctx, q, list, true); err != nil {
		return Task{}, err
	}
	return list[0], nil
}

// Board is the task list summed up: the city's completion, and rows per
// unit (as lead) and per indicator leaf.
type Board struct {
	Tasks      int            `json:"tasks"`
	Milestones int            `json:"milestones"`
	Done       int            `json:"done"`
	ByStatus   map[string]int `json:"by_status"` // tasks by status
	Units      []BoardRow     `json:"units"`
	Leaves     []BoardRow     `json:"leaves"`
}

// BoardRow is one unit's or leaf's tasks.
type BoardRow struct {
	Key        string `json:"key"` // unit code or standard code
	Name       string `json:"name"`
	Tasks      int    `json:"tasks"`
	Milestones int    `json:"milestones"`
	Done       int    `json:"done"`
	AtRisk     int    `json:"at_risk"` // milestones
	Overdue    int    `json:"overdue"` // milestones
}

// BoardOf sums up tasks (as Tasks returns them).
func BoardOf(list []Task) Board {
	b := Board{ByStatus: map[string]int{Done: 0, OnTrack: 0, AtRisk: 0, Overdue: 0}}
	units, leaves := map[string]*BoardRow{}, map[string]*BoardRow{}
	add := func(m map[string]*BoardRow, key, name string, t Task) {
		r := m[key]
		if r == nil {
			r = &BoardRow{Key: key, Name: name}
			m[key] = r
		}
		r.Tasks++
		for _, ms := range t.Milestones {
			r.Milestones++
			switch ms.Status {
			case Done:
				r.Done++
			case AtRisk:
				r.AtRisk++
			case Overdue:
				r.Overdue++
			}
		}
	}
	for _, t := range list {
		b.Tasks++
		b.Milestones += t.Total
		b.Done += t.Done
		b.ByStatus[t.Status]++
		add(units, t.Lead.Code, t.Lead.Name, t)
		for _, l := range t.Leaves {
			add(leaves, l, "", t)
		}
	}
	for _, m := range []struct {
		src map[string]*BoardRow
		dst *[]BoardRow
	}{{units, &b.Units}, {leaves, &b.Leaves}} {
		*m.dst = []BoardRow{}
		for _, k := range slices.Sorted(maps.Keys(m.src)) {
			*m.dst = append(*m.dst, *m.src[k])
		}
	}
	return b
}

// OverdueMilestone is a milestone past due, for a weekly notice.
type OverdueMilestone struct {
	Task      string `json:"task"`
	TaskTitle string `json:"task_title"`
	Milestone string `json:"milestone"`
	Due       string `json:"due"`
}

// OverdueByUnit returns the milestones past due at now and not accepted,
// of the tasks the units (ids) lead, by unit.
func (s *Service) OverdueByUnit(ctx context.Context, units []int64, now time.Time) (map[int64][]OverdueMilestone, error) {
	out := map[int64][]OverdueMilestone{}
	if len(units) == 0 {
		return out, nil
	}
	ids := make([]string, len(units))
	for i, u := range units {
		ids[i] = strconv.FormatInt(u, 10)
	}
	// due is a date; the milestone is overdue once its day has ended.
	today := now.In(s.loc()).Format(dateForm)
	type row struct {
		unit int64
		OverdueMilestone
	}
	rows, err := store.Collect(ctx, s.DB.Reader(), func(r store.Scanner) (x row, err error) {
		return x, r.Scan(&x.unit, &x.Task, &x.TaskTitle, &x.Milestone, &x.Due)
	}, `SELECT t.lead_unit_id, t.code, t.title, m.title, m.due FROM plan_milestones m JOIN plan_tasks t ON t.id = m.task_id
		WHERE m.accepted_at = 0 AND m.due < ? AND t.lead_unit_id IN (`+strings.Join(ids, ",")+`) ORDER BY t.lead_unit_id, m.due, t.code, m.ord`, today)
	if err != nil {
		return nil, fmt.Errorf("overdue milestones: %w", err)
	}
	for _, x := range rows {
		out[x.unit] = append(out[x.unit], x.OverdueMilestone)
	}
	return out, nil
}
