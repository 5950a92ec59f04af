package volunteer_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"chuangwen/internal/apperr"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
	"chuangwen/internal/testcity"
	"chuangwen/internal/volunteer"
)

// env is the test city (internal/testcity) with the volunteer service on
// its clock, the institutes of both streets, and a team in each:
//
//   - teamA (清波志愿服务队, region Street1) coordinated by coordA, a
//     volunteer officer of region scope (Street1);
//   - teamB (米市巷志愿服务队, region Street2) coordinated by coordB, a
//     volunteer officer of unit scope (UnitB).
type env struct {
	t   *testing.T
	ctx context.Context
	c   *testcity.City
	db  *store.DB
	svc *volunteer.Service

	nodeA, nodeB   volunteer.Node
	teamA, teamB   volunteer.Team
	coordA, coordB org.Actor

	n int // volunteers made so far: their numbers and phones
}

func newEnv(t *testing.T, db *store.DB) *env {
	t.Helper()
	c := testcity.New(t, db)
	if c.Org.PasswordCost != testcity.PasswordCost {
		t.Fatalf("org store's password cost = %+v, want the tests' %+v", c.Org.PasswordCost, testcity.PasswordCost)
	}
	e := &env{t: t, ctx: context.Background(), c: c, db: db}
	e.svc = volunteer.New(db, c.Org, newSealer(t), testcity.Shanghai, nil)
	e.svc.Now = c.Clock.Now

	e.coordA = c.User(t, org.NewUser{Username: "coordA", DisplayName: "协调员甲", Role: org.RoleVolunteer, Scope: org.ScopeRegion, ScopeRegionID: c.Street1.ID})
	e.coordB = c.User(t, org.NewUser{Username: "coordB", DisplayName: "协调员乙", Role: org.RoleVolunteer, Scope: org.ScopeUnit, UnitID: c.UnitB.ID})
	var err error
	if e.nodeA, err = e.svc.CreateNode(e.ctx, c.Admin, c.Street1.ID, ""); err != nil {
		t.Fatalf("CreateNode Street1: %v", err)
	}
	if e.nodeB, err = e.svc.CreateNode(e.ctx, c.Admin, c.Street2.ID, ""); err != nil {
		t.Fatalf("CreateNode Street2: %v", err)
	}
	if e.teamA, err = e.svc.CreateTeam(e.ctx, c.Volunteer, volunteer.NewTeam{Name: "清波志愿服务队", NodeID: e.nodeA.ID, CoordinatorID: e.coordA.UserID}); err != nil {
		t.Fatalf("CreateTeam A: %v", err)
	}
	if e.teamB, err = e.svc.CreateTeam(e.ctx, c.Admin, volunteer.NewTeam{Name: "米市巷志愿服务队", NodeID: e.nodeB.ID, CoordinatorID: e.coordB.UserID}); err != nil {
		t.Fatalf("CreateTeam B: %v", err)
	}
	return e
}

func newSealer(t testing.TB) *volunteer.Sealer {
	t.Helper()
	key := make([]byte, volunteer.KeySize)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	s, err := volunteer.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// idNumber is a valid identity number, different for each n < 1000.
func idNumber(n int) string {
	first := fmt.Sprintf("33010219900101%03d", n%1000)
	return first + string(volunteer.IDCheckChar(first))
}

// phone is a mobile number, different for each n < 10000.
func phone(n int) string { return fmt.Sprintf("1390000%04d", n%10000) }

// registration is the n-th made-up volunteer's form for team.
func (e *env) registration(team volunteer.Team, name string) volunteer.Registration {
	e.n++
	return volunteer.Registration{Name: name, Phone: phone(e.n), IDNumber: idNumber(e.n), TeamID: team.ID, Password: testcity.Password, Consent: true}
}

// register records a registration (pending) and returns its id.
func (e *env) register(team volunteer.Team, name string) int64 {
	e.t.Helper()
	id, err := e.svc.Register(e.ctx, e.registration(team, name))
	if err != nil {
		e.t.Fatalf("Register %s: %v", name, err)
	}
	return id
}

// volunteer registers a volunteer in team and has the administrator
// approve them.
func (e *env) volunteer(team volunteer.Team, name string) int64 {
	e.t.Helper()
	id := e.register(team, name)
	if err := e.svc.Decide(e.ctx, e.c.Admin, id, true); err != nil {
		e.t.Fatalf("approve %s: %v", name, err)
	}
	return id
}

// The activities' place.
const placeLat, placeLon = 30.25, 120.15

// metresPerDegree is a degree of latitude on geo's sphere.
const metresPerDegree = 6371008.8 * 3.141592653589793 / 180

// north is a phone position m metres north of the place.
func north(m, accuracy float64) volunteer.Position {
	return volunteer.Position{Lat: placeLat + m/metresPerDegree, Lon: placeLon, AccuracyM: accuracy}
}

var here = north(0, 10)

// activity creates an activity of team at the place, as actor.
func (e *env) activity(actor org.Actor, team volunteer.Team, title string, starts, ends time.Time, capacity int) volunteer.Activity {
	e.t.Helper()
	a, err := e.svc.CreateActivity(e.ctx, actor, volunteer.NewActivity{TeamID: team.ID, Kind: "environment", Title: title, Address: "清波街道河坊街1号",
		Lat: placeLat, Lon: placeLon, StartsAt: starts, EndsAt: ends, Capacity: capacity})
	if err != nil {
		e.t.Fatalf("CreateActivity %s: %v", title, err)
	}
	return a
}

// at moves the clock.
func (e *env) at(t time.Time) { e.c.Clock.Set(t) }

// checkIn and checkOut at the place, failing the test on an error.
func (e *env) checkIn(volunteerID int64, a volunteer.Activity) volunteer.Check {
	e.t.Helper()
	c, err := e.svc.CheckIn(e.ctx, volunteerID, a.CheckinToken, here)
	if err != nil {
		e.t.Fatalf("CheckIn %d at %s: %v", volunteerID, a.Title, err)
	}
	return c
}

func (e *env) checkOut(volunteerID int64, a volunteer.Activity) volunteer.Check {
	e.t.Helper()
	c, err := e.svc.CheckOut(e.ctx, volunteerID, a.CheckinToken, here)
	if err != nil {
		e.t.Fatalf("CheckOut %d at %s: %v", volunteerID, a.Title, err)
	}
	return c
}

// row is a volunteer's row on an activity's sheet (as the administrator
// reads it).
func (e *env) row(activityID, volunteerID int64) volunteer.Attendance {
	e.t.Helper()
	list, err := e.svc.Attendance(e.ctx, e.c.Admin, activityID)
	if err != nil {
		e.t.Fatalf("Attendance: %v", err)
	}
	for _, x := range list {
		if x.VolunteerID == volunteerID {
			return x
		}
	}
	e.t.Fatalf("volunteer %d not on the sheet of activity %d", volunteerID, activityID)
	return volunteer.Attendance{}
}

// minutes is a volunteer's confirmed total.
func (e *env) minutes(volunteerID int64) int64 {
	e.t.Helper()
	v, err := e.svc.Volunteer(e.ctx, e.c.Admin, volunteerID)
	if err != nil {
		e.t.Fatalf("Volunteer %d: %v", volunteerID, err)
	}
	return v.Minutes
}

// count runs a COUNT query.
func (e *env) count(q string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.db.Reader().QueryRow(e.ctx, q, args...).Scan(&n); err != nil {
		e.t.Fatalf("%s: %v", q, err)
	}
	return n
}

// events counts the audit trail's entries of an action.
func (e *env) events(action string) int {
	e.t.Helper()
	return e.count(`SELECT COUNT(*) FROM events WHERE action = ?`, action)
}

// must fails the test on an error.
func must(t testing.TB, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// wantErr checks that err is an *apperr.Error with code and key.
func wantErr(t testing.TB, err error, code apperr.Code, key string, what string) bool {
	t.Helper()
	e, ok := apperr.As(err)
	if !ok || e.Code != code || e.Key != key {
		t.Errorf("%s: err = %v, want %s: %s", what, err, code, key)
		return false
	}
	return true
}

// errArg is the value of an *apperr.Error's argument.
func errArg(err error, name string) string {
	e, ok := apperr.As(err)
	if !ok {
		return ""
	}
	for i := 0; i+1 < len(e.Args); i += 2 {
		if e.Args[i] == name {
			return e.Args[i+1]
		}
	}
	return ""
}
