package workflow_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"sync"
	"testing"
	"time"

	"chuangwen/internal/apperr"
	"chuangwen/internal/audit"
	"chuangwen/internal/blob"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
	"chuangwen/internal/workcal"
	"chuangwen/internal/workflow"
)

// shanghai is the office's zone in every test.
var shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return loc
}()

// at builds a wall-clock time in Shanghai.
func at(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, shanghai)
}

// clock is a settable clock safe for concurrent readers.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fixture is a small city: one city, two districts, each with one street
// and one community; two responsible units A and B; one user per role; a
// 大类 with two 小类 (4 working hours, 5 working days).
type fixture struct {
	t   *testing.T
	ctx context.Context
	db  *store.DB
	svc *workflow.Service
	org *org.Store
	clk *clock

	city, district1, street1, community1 org.Region
	district2, street2, community2       org.Region
	unitA, unitB                         org.Unit

	admin, acceptor, handlerA, handlerB, inspector, leader, grid org.Actor

	bigCat, cat4h, cat5d workflow.Category
}

// start is Monday 2026-11-16 09:00 in Shanghai, a plain working day.
var start = at(2026, 11, 16, 9, 0)

func newFixture(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{t: t, ctx: ctx, db: db, clk: &clock{t: start}}
	f.org = &org.Store{DB: db, PasswordCost: org.PasswordCost{Time: 1, MemoryKiB: 64}, Now: f.clk.Now}
	f.svc = workflow.NewService(db, &workflow.PhotoStore{Blobs: blob.Local{Dir: t.TempDir()}}, shanghai, nil)
	f.svc.Now = f.clk.Now

	region := func(code, name, level string, parent int64) org.Region {
		r, err := f.org.CreateRegion(ctx, org.System, org.Region{Code: code, Name: name, Level: level, ParentID: parent})
		if err != nil {
			t.Fatalf("create region %s: %v", code, err)
		}
		return r
	}
	f.city = region("330100000000", "杭州市", "city", 0)
	f.district1 = region("330102000000", "上城区", "district", f.city.ID)
	f.street1 = region("330102001000", "清波街道", "street", f.district1.ID)
	f.community1 = region("330102001001", "清波社区", "community", f.street1.ID)
	f.district2 = region("330105000000", "拱墅区", "district", f.city.ID)
	f.street2 = region("330105001000", "米市巷街道", "street", f.district2.ID)
	f.community2 = region("330105001001", "米市巷社区", "community", f.street2.ID)

	unit := func(code, name string) org.Unit {
		u, err := f.org.CreateUnit(ctx, org.System, org.Unit{Code: code, Name: name, Kind: "department"})
		if err != nil {
			t.Fatalf("create unit %s: %v", code, err)
		}
		return u
	}
	f.unitA = unit("A", "环卫处")
	f.unitB = unit("B", "园林局")

	f.admin = f.user(org.NewUser{Username: "admin", DisplayName: "管理员", Role: org.RoleAdmin})
	f.acceptor = f.user(org.NewUser{Username: "acceptor", DisplayName: "受理员", Role: org.RoleAcceptor})
	f.handlerA = f.user(org.NewUser{Username: "handler_a", DisplayName: "经办人A", Role: org.RoleHandler, UnitID: f.unitA.ID})
	f.handlerB = f.user(org.NewUser{Username: "handler_b", DisplayName: "经办人B", Role: org.RoleHandler, UnitID: f.unitB.ID})
	f.inspector = f.user(org.NewUser{Username: "inspector", DisplayName: "督查员", Role: org.RoleInspector})
	f.leader = f.user(org.NewUser{Username: "leader", DisplayName: "领导", Role: org.RoleLeader})
	f.grid = f.user(org.NewUser{Username: "grid", DisplayName: "网格员", Role: org.RoleGrid})

	var err error
	f.bigCat, err = f.svc.SaveCategory(ctx, f.admin, workflow.Category{Code: "01", Name: "市容环境"})
	if err != nil {
		t.Fatalf("save 大类: %v", err)
	}
	f.cat4h, err = f.svc.SaveCategory(ctx, f.admin, workflow.Category{Code: "0101", ParentID: f.bigCat.ID, Name: "暴露垃圾", LimitUnit: workcal.Hours, LimitNormal: 4})
	if err != nil {
		t.Fatalf("save 小类: %v", err)
	}
	f.cat5d, err = f.svc.SaveCategory(ctx, f.admin, workflow.Category{Code: "0102", ParentID: f.bigCat.ID, Name: "绿地养护", LimitUnit: workcal.Days, LimitNormal: 5})
	if err != nil {
		t.Fatalf("save 小类: %v", err)
	}
	return f
}

// user creates an account and returns its actor.
func (f *fixture) user(nu org.NewUser) org.Actor {
	f.t.Helper()
	nu.Password, nu.SkipPolicy = "x", true
	u, err := f.org.CreateUser(f.ctx, org.System, nu)
	if err != nil {
		f.t.Fatalf("create user %s: %v", nu.Username, err)
	}
	a, err := f.org.ActorFor(f.ctx, u)
	if err != nil {
		f.t.Fatalf("actor for %s: %v", nu.Username, err)
	}
	return a
}

// report files a citizen case in community1 through the acceptor (hotline
// entry), so it stays in "reported".
func (f *fixture) report(mods ...func(*workflow.NewCase)) *workflow.Case {
	f.t.Helper()
	in := workflow.NewCase{
		Source:        workflow.SourceCitizen,
		CategoryID:    f.cat4h.ID,
		Description:   "路边暴露垃圾",
		RegionID:      f.community1.ID,
		ReporterName:  "张三",
		ReporterPhone: "13800000000",
	}
	for _, m := range mods {
		m(&in)
	}
	c, err := f.svc.Report(f.ctx, f.acceptor, in)
	if err != nil {
		f.t.Fatalf("report: %v", err)
	}
	return c
}

func inRegion(id int64) func(*workflow.NewCase) {
	return func(in *workflow.NewCase) { in.RegionID = id }
}

func inCategory(id int64) func(*workflow.NewCase) {
	return func(in *workflow.NewCase) { in.CategoryID = id }
}

// act performs an action that must succeed.
func (f *fixture) act(actor org.Actor, id int64, in workflow.ActInput) *workflow.Case {
	f.t.Helper()
	c, err := f.svc.Act(f.ctx, actor, id, in)
	if err != nil {
		f.t.Fatalf("%s by %s on case %d: %v", in.Action, actor.Name, id, err)
	}
	if c == nil {
		f.t.Fatalf("%s by %s on case %d: nil case", in.Action, actor.Name, id)
	}
	return c
}

// actErr performs an action that must fail with code.
func (f *fixture) actErr(code apperr.Code, actor org.Actor, id int64, in workflow.ActInput) {
	f.t.Helper()
	_, err := f.svc.Act(f.ctx, actor, id, in)
	wantCode(f.t, err, code)
}

func wantCode(t *testing.T, err error, code apperr.Code) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", code)
	}
	if got := apperr.CodeOf(err); got != code {
		t.Fatalf("got error %v (code %s), want code %s", err, got, code)
	}
}

// accepted reports and accepts a case.
func (f *fixture) accepted(mods ...func(*workflow.NewCase)) *workflow.Case {
	f.t.Helper()
	c := f.report(mods...)
	return f.act(f.acceptor, c.ID, workflow.ActInput{Action: workflow.Accept})
}

// dispatched takes a new case to "dispatched" with unit as lead.
func (f *fixture) dispatched(unit org.Unit, mods ...func(*workflow.NewCase)) *workflow.Case {
	f.t.Helper()
	c := f.accepted(mods...)
	return f.act(f.acceptor, c.ID, workflow.ActInput{Action: workflow.Dispatch, LeadUnitID: unit.ID})
}

// handlerOf returns the handler of unit A or B.
func (f *fixture) handlerOf(u org.Unit) org.Actor {
	if u.ID == f.unitA.ID {
		return f.handlerA
	}
	return f.handlerB
}

// inProgress takes a new case to "in_progress" with unit as lead.
func (f *fixture) inProgress(unit org.Unit, mods ...func(*workflow.NewCase)) *workflow.Case {
	f.t.Helper()
	c := f.dispatched(unit, mods...)
	return f.act(f.handlerOf(unit), c.ID, workflow.ActInput{Action: workflow.Acknowledge})
}

// feedback reports a case rectified, with a fresh after-photo.
func (f *fixture) feedback(unit org.Unit, id int64) *workflow.Case {
	f.t.Helper()
	return f.act(f.handlerOf(unit), id, workflow.ActInput{Action: workflow.Feedback, Opinion: "已清理", Photos: []workflow.PhotoFile{f.photo()}})
}

// verifying takes a new case to "verifying" with unit as lead.
func (f *fixture) verifying(unit org.Unit, mods ...func(*workflow.NewCase)) *workflow.Case {
	f.t.Helper()
	c := f.inProgress(unit, mods...)
	return f.feedback(unit, c.ID)
}

// photo stores a tiny, real PNG and returns it as an upload.
func (f *fixture) photo() workflow.PhotoFile {
	f.t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 2, 2))
	img.Set(0, 0, color.RGBA{R: 255, A: 255})
	img.Set(1, 1, color.RGBA{G: byte(time.Now().UnixNano()), A: 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		f.t.Fatal(err)
	}
	p, err := f.svc.Photos.Save(&buf)
	if err != nil {
		f.t.Fatalf("save photo: %v", err)
	}
	if p.Mime != "image/png" || p.Size == 0 || len(p.SHA256) != 64 {
		f.t.Fatalf("saved photo = %+v", p)
	}
	return p
}

// get reads a case as actor, failing the test on error.
func (f *fixture) get(actor org.Actor, id int64) *workflow.Case {
	f.t.Helper()
	c, err := f.svc.Get(f.ctx, actor, id)
	if err != nil {
		f.t.Fatalf("get case %d as %s: %v", id, actor.Name, err)
	}
	return c
}

// trail returns the events of a case.
func (f *fixture) trail(id int64) []audit.Entry {
	f.t.Helper()
	es, err := audit.ForCase(f.ctx, f.db.Reader(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	return es
}

// countEvents counts a case's events of one action.
func (f *fixture) countEvents(id int64, a workflow.Action) int {
	f.t.Helper()
	n := 0
	for _, e := range f.trail(id) {
		if e.Action == string(a) {
			n++
		}
	}
	return n
}

// task is one row of the tasks table, read directly.
type task struct {
	ID, UnitID                                                   int64
	DispatchedAt, Deadline, Acked, Returned, Handled, Closed, Rw int64
	Extensions                                                   int
	Postponed, Overdue                                           bool
}

func (f *fixture) tasks(caseID int64) []task {
	f.t.Helper()
	rows, err := f.db.Reader().Query(f.ctx, `SELECT id, unit_id, dispatched_at, deadline, acked_at, returned_at, handled_at, closed_at, reworked_at, extensions, postponed, overdue
		FROM tasks WHERE case_id = ? ORDER BY id`, caseID)
	if err != nil {
		f.t.Fatal(err)
	}
	defer rows.Close()
	var out []task
	for rows.Next() {
		var k task
		if err := rows.Scan(&k.ID, &k.UnitID, &k.DispatchedAt, &k.Deadline, &k.Acked, &k.Returned, &k.Handled, &k.Closed, &k.Rw, &k.Extensions, &k.Postponed, &k.Overdue); err != nil {
			f.t.Fatal(err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		f.t.Fatal(err)
	}
	return out
}

func sameInstant(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) {
		t.Errorf("%s = %s, want %s", what, got.In(shanghai).Format(time.DateTime+" MST"), want.In(shanghai).Format(time.DateTime+" MST"))
	}
}

// isConflict reports whether err is an apperr Conflict.
func isConflict(err error) bool {
	var e *apperr.Error
	return errors.As(err, &e) && e.Code == apperr.Conflict
}
