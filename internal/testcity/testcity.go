// Package testcity is the one small city every package's tests run in:
// a city with two districts, each with a street and a community; two
// responsible units; one user of each role; a 大类 with a 小类 limited in
// working hours and one in working days; the working calendar as the
// product defaults it (09:00–12:00 and 13:00–18:00, Monday to Friday, no
// holiday loaded); and a settable clock that starts on Monday 2026-11-16
// at 09:00 in Shanghai.
//
// The city is built once per engine and test process into a template
// database (internal/store/storetest) and copied for each test, so a test
// pays for a file copy or a CREATE DATABASE instead of the migrations,
// the rows and the password hashes. Only tests import this package.
//
//	testcity.Both(t, func(t *testing.T, db *store.DB) {
//		c := testcity.New(t, db)
//		…
//	})
package testcity

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"chuangwen/internal/blob"
	"chuangwen/internal/org"
	"chuangwen/internal/photo"
	"chuangwen/internal/store"
	"chuangwen/internal/store/storetest"
	"chuangwen/internal/workcal"
	"chuangwen/internal/workflow"
)

// Shanghai is the city's zone.
var Shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return loc
}()

// At is a wall-clock time in Shanghai.
func At(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, Shanghai)
}

// Start is where every city's clock starts: Monday 2026-11-16 09:00 in
// Shanghai, a plain working day at the start of the working day.
var Start = At(2026, 11, 16, 9, 0)

// Password is every city user's password.
const Password = "Test-Passw0rd!"

// PasswordCost is the argon2 cost of the tests' password hashes: one hash
// at the product's cost takes most of a second under -race.
var PasswordCost = org.PasswordCost{Time: 1, MemoryKiB: 64}

// Clock is a settable clock, safe for concurrent readers.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// City is the test city in one database, with the services over it.
type City struct {
	DB    *store.DB
	Org   *org.Store        // Now is Clock.Now
	Flow  *workflow.Service // Now is Clock.Now; photos in the test's temp folder
	Clock *Clock            // at Start

	// 杭州市 3301 → 上城区 330102 → 清波街道 330102001 → 清波社区
	// 330102001001, and 拱墅区 330105 → 米市巷街道 330105001 → 米市巷社区
	// 330105001001: GB/T 2260-style codes unpadded, as the demo loader
	// makes them, so that a 15-digit grid code starts with its region's.
	City, District1, Street1, Community1 org.Region
	District2, Street2, Community2       org.Region

	// UnitA 环卫处 (code A) and UnitB 园林局 (code B).
	UnitA, UnitB org.Unit

	// One user of each role, by username: admin, acceptor, handlerA (of
	// UnitA), handlerB (of UnitB), inspector, grid, leader, volunteer;
	// all city-wide but the handlers, with the password Password.
	Admin, Acceptor, HandlerA, HandlerB, Inspector, Grid, Leader, Volunteer org.Actor

	// 01 市容环境 (大类) with 0101 暴露垃圾 (4 working hours) and 0102
	// 绿地养护 (5 working days).
	Major, Cat4h, Cat5d workflow.Category
}

// template holds the city on each engine; cities keeps what its Seed
// built, by engine, for the copies.
var (
	template = &storetest.Template{Name: "city", Seed: seed}
	cities   sync.Map // store.Dialect → City
	copies   sync.Map // *store.DB → struct{}: databases that hold the city
)

// SQLite returns a SQLite database holding the city, for New.
func SQLite(t testing.TB) *store.DB { return mark(t, template.SQLite(t)) }

// Postgres returns a database on the test server holding the city, for
// New; it skips the test without $CHUANGWEN_TEST_POSTGRES.
func Postgres(t testing.TB) *store.DB { return mark(t, template.Postgres(t)) }

// Like returns a fresh database holding the city, of db's engine.
func Like(t testing.TB, db *store.DB) *store.DB { return mark(t, template.Like(t, db)) }

// Both runs fn on a database holding the city on each engine, in
// parallel, as storetest.Both does with empty ones.
func Both(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	template.Both(t, func(t *testing.T, db *store.DB) { fn(t, mark(t, db)) })
}

// BothLong is Both in the long run (CI) and SQLite alone otherwise: for
// the HTTP tests, whose PostgreSQL half the store and domain tests cover
// in every run (storetest.Template.BothLong).
func BothLong(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	template.BothLong(t, func(t *testing.T, db *store.DB) { fn(t, mark(t, db)) })
}

func mark(t testing.TB, db *store.DB) *store.DB {
	copies.Store(db, struct{}{})
	t.Cleanup(func() { copies.Delete(db) })
	return db
}

// New returns the city in db with fresh services and a clock at Start. A
// database from SQLite, Postgres, Like or Both already holds the city;
// any other must be migrated and empty, and New builds the city in it.
func New(t testing.TB, db *store.DB) *City {
	t.Helper()
	c := &City{}
	if _, ok := copies.Load(db); ok {
		v, _ := cities.Load(db.Dialect)
		*c = v.(City)
		c.wire(db, t.TempDir())
		return c
	}
	c.wire(db, t.TempDir())
	if err := c.build(context.Background()); err != nil {
		t.Fatalf("testcity: %v", err)
	}
	return c
}

// Services returns an org.Store and a workflow.Service over db as the
// city has them, but on the wall clock and without building anything:
// for tests that load another city (the demo's).
func Services(t testing.TB, db *store.DB) (*org.Store, *workflow.Service) {
	orgs := &org.Store{DB: db, PasswordCost: PasswordCost}
	flow := workflow.NewService(db, &photo.Store{Blobs: blob.Local{Dir: t.TempDir()}}, Shanghai, nil)
	return orgs, flow
}

func (c *City) wire(db *store.DB, photos string) {
	c.DB = db
	c.Clock = &Clock{t: Start}
	c.Org = &org.Store{DB: db, PasswordCost: PasswordCost, Now: c.Clock.Now}
	c.Flow = workflow.NewService(db, &photo.Store{Blobs: blob.Local{Dir: photos}}, Shanghai, nil)
	c.Flow.Now = c.Clock.Now
}

// seed builds the template's city and keeps its values for the copies.
func seed(ctx context.Context, db *store.DB) error {
	dir, err := os.MkdirTemp("", "testcity-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	c := &City{}
	c.wire(db, dir)
	if err := c.build(ctx); err != nil {
		return err
	}
	v := *c
	v.DB, v.Org, v.Flow, v.Clock = nil, nil, nil, nil
	cities.Store(db.Dialect, v)
	return nil
}

func (c *City) build(ctx context.Context) error {
	var err error
	region := func(code, name, level string, parent int64) org.Region {
		if err != nil {
			return org.Region{}
		}
		var r org.Region
		r, err = c.Org.CreateRegion(ctx, org.System, org.Region{Code: code, Name: name, Level: level, ParentID: parent})
		if err != nil {
			err = fmt.Errorf("region %s: %w", code, err)
		}
		return r
	}
	c.City = region("3301", "杭州市", "city", 0)
	c.District1 = region("330102", "上城区", "district", c.City.ID)
	c.Street1 = region("330102001", "清波街道", "street", c.District1.ID)
	c.Community1 = region("330102001001", "清波社区", "community", c.Street1.ID)
	c.District2 = region("330105", "拱墅区", "district", c.City.ID)
	c.Street2 = region("330105001", "米市巷街道", "street", c.District2.ID)
	c.Community2 = region("330105001001", "米市巷社区", "community", c.Street2.ID)

	unit := func(code, name string) org.Unit {
		if err != nil {
			return org.Unit{}
		}
		var u org.Unit
		u, err = c.Org.CreateUnit(ctx, org.System, org.Unit{Code: code, Name: name, Kind: "department"})
		if err != nil {
			err = fmt.Errorf("unit %s: %w", code, err)
		}
		return u
	}
	c.UnitA = unit("A", "环卫处")
	c.UnitB = unit("B", "园林局")

	user := func(nu org.NewUser) org.Actor {
		if err != nil {
			return org.Actor{}
		}
		var a org.Actor
		a, err = c.user(ctx, nu)
		return a
	}
	c.Admin = user(org.NewUser{Username: "admin", DisplayName: "管理员", Role: org.RoleAdmin})
	c.Acceptor = user(org.NewUser{Username: "acceptor", DisplayName: "受理员", Role: org.RoleAcceptor})
	c.HandlerA = user(org.NewUser{Username: "handlerA", DisplayName: "经办人A", Role: org.RoleHandler, UnitID: c.UnitA.ID})
	c.HandlerB = user(org.NewUser{Username: "handlerB", DisplayName: "经办人B", Role: org.RoleHandler, UnitID: c.UnitB.ID})
	c.Inspector = user(org.NewUser{Username: "inspector", DisplayName: "督查员", Role: org.RoleInspector})
	c.Grid = user(org.NewUser{Username: "grid", DisplayName: "网格员", Role: org.RoleGrid})
	c.Leader = user(org.NewUser{Username: "leader", DisplayName: "领导", Role: org.RoleLeader})
	c.Volunteer = user(org.NewUser{Username: "volunteer", DisplayName: "志愿服务管理员", Role: org.RoleVolunteer})
	if err != nil {
		return err
	}

	if c.Major, err = c.Flow.SaveCategory(ctx, c.Admin, workflow.Category{Code: "01", Name: "市容环境"}); err != nil {
		return fmt.Errorf("大类: %w", err)
	}
	if c.Cat4h, err = c.Flow.SaveCategory(ctx, c.Admin, workflow.Category{Code: "0101", ParentID: c.Major.ID, Name: "暴露垃圾", LimitUnit: workcal.Hours, LimitNormal: 4}); err != nil {
		return fmt.Errorf("小类 0101: %w", err)
	}
	if c.Cat5d, err = c.Flow.SaveCategory(ctx, c.Admin, workflow.Category{Code: "0102", ParentID: c.Major.ID, Name: "绿地养护", LimitUnit: workcal.Days, LimitNormal: 5}); err != nil {
		return fmt.Errorf("小类 0102: %w", err)
	}
	return nil
}

// User adds an account (with the password Password unless nu has one)
// and returns its actor.
func (c *City) User(t testing.TB, nu org.NewUser) org.Actor {
	t.Helper()
	a, err := c.user(context.Background(), nu)
	if err != nil {
		t.Fatalf("testcity: %v", err)
	}
	return a
}

func (c *City) user(ctx context.Context, nu org.NewUser) (org.Actor, error) {
	if nu.Password == "" {
		nu.Password = Password
	}
	u, err := c.Org.CreateUser(ctx, org.System, nu)
	if err != nil {
		return org.Actor{}, fmt.Errorf("user %s: %w", nu.Username, err)
	}
	a, err := c.Org.ActorFor(ctx, u)
	if err != nil {
		return org.Actor{}, fmt.Errorf("actor of %s: %w", nu.Username, err)
	}
	return a, nil
}
