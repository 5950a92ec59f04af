package workflow_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"testing"
	"time"

	"chuangwen/internal/apperr"
	"chuangwen/internal/audit"
	"chuangwen/internal/org"
	"chuangwen/internal/photo"
	"chuangwen/internal/store"
	"chuangwen/internal/testcity"
	"chuangwen/internal/workflow"
)

// shanghai is the office's zone in every test.
var shanghai = testcity.Shanghai

// at builds a wall-clock time in Shanghai.
var at = testcity.At

// start is Monday 2026-11-16 09:00 in Shanghai, a plain working day.
var start = testcity.Start

// fixture is the test city (internal/testcity): one city, two districts,
// each with one street and one community; two responsible units A and B;
// one user per role; a 大类 with two 小类 (4 working hours, 5 working
// days); the clock at start.
type fixture struct {
	t   *testing.T
	ctx context.Context
	db  *store.DB
	svc *workflow.Service
	org *org.Store
	clk *testcity.Clock
	tc  *testcity.City

	city, district1, street1, community1 org.Region
	district2, street2, community2       org.Region
	unitA, unitB                         org.Unit

	admin, acceptor, handlerA, handlerB, inspector, leader, grid org.Actor

	bigCat, cat4h, cat5d workflow.Category
}

// newFixture is the test city in db, a database from testcity (Both,
// SQLite, Postgres or Like).
func newFixture(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	c := testcity.New(t, db)
	return &fixture{t: t, ctx: context.Background(), db: db, svc: c.Flow, org: c.Org, clk: c.Clock, tc: c,
		city: c.City, district1: c.District1, street1: c.Street1, community1: c.Community1,
		district2: c.District2, street2: c.Street2, community2: c.Community2,
		unitA: c.UnitA, unitB: c.UnitB,
		admin: c.Admin, acceptor: c.Acceptor, handlerA: c.HandlerA, handlerB: c.HandlerB, inspector: c.Inspector, leader: c.Leader, grid: c.Grid,
		bigCat: c.Major, cat4h: c.Cat4h, cat5d: c.Cat5d}
}

// user creates an account and returns its actor.
func (f *fixture) user(nu org.NewUser) org.Actor {
	f.t.Helper()
	return f.tc.User(f.t, nu)
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
	return f.act(f.handlerOf(unit), id, workflow.ActInput{Action: workflow.Feedback, Opinion: "已清理", Photos: []photo.File{f.photo()}})
}

// verifying takes a new case to "verifying" with unit as lead.
func (f *fixture) verifying(unit org.Unit, mods ...func(*workflow.NewCase)) *workflow.Case {
	f.t.Helper()
	c := f.inProgress(unit, mods...)
	return f.feedback(unit, c.ID)
}

// photo stores a tiny, real PNG and returns it as an upload.
func (f *fixture) photo() photo.File {
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

// dispatch is one row of the dispatches table, read directly.
type dispatch struct {
	ID, UnitID                                                   int64
	DispatchedAt, Deadline, Acked, Returned, Handled, Closed, Rw int64
	Extensions                                                   int
	Postponed, Overdue                                           bool
}

func (f *fixture) dispatches(caseID int64) []dispatch {
	f.t.Helper()
	rows, err := f.db.Reader().Query(f.ctx, `SELECT id, unit_id, dispatched_at, deadline, acked_at, returned_at, handled_at, closed_at, reworked_at, extensions, postponed, overdue
		FROM dispatches WHERE case_id = ? ORDER BY id`, caseID)
	if err != nil {
		f.t.Fatal(err)
	}
	defer rows.Close()
	var out []dispatch
	for rows.Next() {
		var k dispatch
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
