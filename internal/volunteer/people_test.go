package volunteer_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"chuangwen/internal/apperr"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
	"chuangwen/internal/testcity"
	"chuangwen/internal/volunteer"
)

// TestNetworkAndTeams: nodes follow the region levels and link to the
// node above; teams need an owner and a volunteer-officer coordinator;
// only the administrator and a city volunteer officer make them.
func TestNetworkAndTeams(t *testing.T) {
	t.Parallel()
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx, c, s := e.ctx, e.c, e.svc

		if e.nodeA.Kind != volunteer.NodeInstitute || e.nodeA.Name != c.Street1.Name+"新时代文明实践所" {
			t.Errorf("street node = %+v", e.nodeA)
		}
		centre, err := s.CreateNode(ctx, c.Admin, c.District1.ID, "")
		must(t, err, "CreateNode district")
		station, err := s.CreateNode(ctx, c.Admin, c.Community1.ID, " 清波社区实践站 ")
		must(t, err, "CreateNode community")
		if centre.Kind != volunteer.NodeCentre || station.Kind != volunteer.NodeStation || station.Name != "清波社区实践站" {
			t.Errorf("centre %+v, station %+v", centre, station)
		}
		_, err = s.CreateNode(ctx, c.Admin, c.Street1.ID, "")
		wantErr(t, err, apperr.Conflict, "volunteer.node_exists", "second node of a street")
		_, err = s.CreateNode(ctx, c.Admin, c.City.ID, "")
		wantErr(t, err, apperr.Invalid, "volunteer.node_level", "node of the city")
		_, err = s.CreateNode(ctx, c.Volunteer, c.Community2.ID, "")
		wantErr(t, err, apperr.Forbidden, "forbidden", "node by a volunteer officer")

		nodes, err := s.Nodes(ctx)
		must(t, err, "Nodes")
		byID := map[int64]volunteer.Node{}
		for _, n := range nodes {
			byID[n.ID] = n
		}
		if len(nodes) != 4 {
			t.Fatalf("Nodes = %+v, want 4", nodes)
		}
		if byID[e.nodeA.ID].ParentID != centre.ID || byID[station.ID].ParentID != e.nodeA.ID || byID[centre.ID].ParentID != 0 || byID[e.nodeB.ID].ParentID != 0 {
			t.Errorf("node parents wrong: %+v", nodes)
		}
		if byID[e.nodeA.ID].Teams != 1 || byID[centre.ID].Teams != 0 {
			t.Errorf("node team counts wrong: %+v", nodes)
		}

		_, err = s.CreateTeam(ctx, e.coordA, volunteer.NewTeam{Name: "X队", NodeID: e.nodeA.ID})
		wantErr(t, err, apperr.Forbidden, "forbidden", "team by a region officer")
		_, err = s.CreateTeam(ctx, c.Leader, volunteer.NewTeam{Name: "X队", NodeID: e.nodeA.ID})
		wantErr(t, err, apperr.Forbidden, "forbidden", "team by a leader")
		_, err = s.CreateTeam(ctx, c.Admin, volunteer.NewTeam{Name: "X队", NodeID: e.nodeA.ID, UnitID: c.UnitA.ID})
		wantErr(t, err, apperr.Invalid, "volunteer.team_owner", "team with node and unit")
		_, err = s.CreateTeam(ctx, c.Admin, volunteer.NewTeam{Name: "X队"})
		wantErr(t, err, apperr.Invalid, "volunteer.team_owner", "team without owner")
		_, err = s.CreateTeam(ctx, c.Admin, volunteer.NewTeam{Name: "  ", NodeID: e.nodeA.ID})
		wantErr(t, err, apperr.Invalid, "volunteer.name_required", "team without a name")
		_, err = s.CreateTeam(ctx, c.Admin, volunteer.NewTeam{Name: e.teamA.Name, NodeID: e.nodeB.ID})
		wantErr(t, err, apperr.Conflict, "volunteer.team_exists", "team name again")
		_, err = s.CreateTeam(ctx, c.Admin, volunteer.NewTeam{Name: "X队", NodeID: e.nodeA.ID, CoordinatorID: c.HandlerA.UserID})
		wantErr(t, err, apperr.Invalid, "volunteer.coordinator_bad", "handler as coordinator")
		_, err = s.CreateTeam(ctx, c.Admin, volunteer.NewTeam{Name: "X队", NodeID: 999999})
		wantErr(t, err, apperr.Invalid, "volunteer.node_unknown", "unknown node")

		unitTeam, err := s.CreateTeam(ctx, c.Admin, volunteer.NewTeam{Name: "环卫处志愿服务队", UnitID: c.UnitA.ID})
		must(t, err, "CreateTeam of a unit")
		if unitTeam.RegionID != c.City.ID {
			t.Errorf("a unit team without a region is in region %d, want the city %d", unitTeam.RegionID, c.City.ID)
		}
		if e.teamA.RegionID != c.Street1.ID || e.teamB.RegionID != c.Street2.ID {
			t.Errorf("node teams in regions %d, %d; want the streets", e.teamA.RegionID, e.teamB.RegionID)
		}

		wantErr(t, s.SetCoordinator(ctx, e.coordA, unitTeam.ID, e.coordA.UserID), apperr.Forbidden, "forbidden", "SetCoordinator by a coordinator")
		wantErr(t, s.SetCoordinator(ctx, c.Admin, unitTeam.ID, c.Leader.UserID), apperr.Invalid, "volunteer.coordinator_bad", "leader as coordinator")
		wantErr(t, s.SetCoordinator(ctx, c.Admin, 999999, e.coordA.UserID), apperr.NotFound, "not_found", "SetCoordinator of no team")
		must(t, s.SetCoordinator(ctx, c.Volunteer, unitTeam.ID, e.coordB.UserID), "SetCoordinator")
		teams, err := s.Teams(ctx, e.coordB)
		must(t, err, "Teams")
		if len(teams) != 2 {
			t.Errorf("coordB coordinates %d teams after SetCoordinator, want 2: %+v", len(teams), teams)
		}
		must(t, s.SetCoordinator(ctx, c.Admin, unitTeam.ID, 0), "SetCoordinator none")
		if teams, _ := s.Teams(ctx, e.coordB); len(teams) != 1 {
			t.Errorf("coordB coordinates %d teams after removal, want 1", len(teams))
		}
		public, err := s.PublicTeams(ctx)
		must(t, err, "PublicTeams")
		if len(public) != 3 || public[0].Coordinator != "" || public[0].Volunteers != 0 {
			t.Errorf("PublicTeams = %+v", public)
		}
	})
}

// TestRegistration: consent, password policy, duplicates by identity
// number and phone (nothing stored for a refused one), sign-in refused
// while pending and allowed after approval, sessions.
func TestRegistration(t *testing.T) {
	t.Parallel()
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx, c, s := e.ctx, e.c, e.svc
		idX := xNumber(t)
		r := volunteer.Registration{Name: " 张三丰 ", Phone: "139 0000 0001", IDNumber: idX, NationalNo: "33010012345", Skills: "急救", TeamID: e.teamA.ID, Password: testcity.Password, Consent: true}

		refuse := func(edit func(*volunteer.Registration), code apperr.Code, key string) {
			t.Helper()
			x := r
			edit(&x)
			_, err := s.Register(ctx, x)
			wantErr(t, err, code, key, key)
		}
		refuse(func(x *volunteer.Registration) { x.Consent = false }, apperr.Invalid, "volunteer.consent_required")
		refuse(func(x *volunteer.Registration) { x.Password = "Ab1!" }, apperr.Invalid, "password.too_short")
		refuse(func(x *volunteer.Registration) { x.Password = "onlylowercaseletters" }, apperr.Invalid, "password.too_simple")
		refuse(func(x *volunteer.Registration) { x.Name = "  " }, apperr.Invalid, "volunteer.name_required")
		refuse(func(x *volunteer.Registration) { x.Name = strings.Repeat("名", 33) }, apperr.Invalid, "volunteer.name_too_long")
		refuse(func(x *volunteer.Registration) { x.Phone = "12345" }, apperr.Invalid, "volunteer.phone_bad")
		refuse(func(x *volunteer.Registration) { x.IDNumber = idX[:17] + "0" }, apperr.Invalid, "volunteer.id_checksum")
		refuse(func(x *volunteer.Registration) { x.NationalNo = "12 34" }, apperr.Invalid, "volunteer.national_no_bad")
		refuse(func(x *volunteer.Registration) { x.TeamID = 0 }, apperr.Invalid, "volunteer.team_required")
		refuse(func(x *volunteer.Registration) { x.TeamID = 999999 }, apperr.Invalid, "volunteer.team_unknown")
		if n := e.count(`SELECT COUNT(*) FROM volunteers`); n != 0 {
			t.Fatalf("%d volunteers stored by refused registrations", n)
		}

		id, err := s.Register(ctx, r)
		must(t, err, "Register")
		v, err := s.Volunteer(ctx, c.Admin, id)
		must(t, err, "Volunteer")
		if v.Name != "张三丰" || v.Phone != "13900000001" || v.IDMasked != volunteer.MaskID(idX) || v.Status != volunteer.StatusPending ||
			v.Source != volunteer.SourceSelf || v.TeamID != e.teamA.ID || v.RegionID != c.Street1.ID || v.NationalNo != "33010012345" || v.Skills != "急救" {
			t.Errorf("registered volunteer = %+v", v)
		}
		if !v.CreatedAt.Equal(testcity.Start) {
			t.Errorf("CreatedAt = %v, want %v", v.CreatedAt, testcity.Start)
		}
		// the number is nowhere in the clear
		var sealed, masked, hash string
		must(t, db.Reader().QueryRow(ctx, `SELECT id_sealed, id_masked, id_hash FROM volunteers WHERE id = ?`, id).Scan(&sealed, &masked, &hash), "read row")
		for _, col := range []string{sealed, masked, hash} {
			if strings.Contains(col, idX) || strings.Contains(col, idX[6:14]) {
				t.Errorf("a column shows the identity number or birthday: %q", col)
			}
		}

		// duplicates: the same number in lower case with another phone;
		// the same phone written otherwise with another number; both
		dupID := r
		dupID.IDNumber, dupID.Phone = strings.ToLower(idX), "13900000002"
		_, err = s.Register(ctx, dupID)
		wantErr(t, err, apperr.Conflict, "volunteer.id_registered", "same identity number")
		dupPhone := r
		dupPhone.IDNumber, dupPhone.Phone = idNumber(900), "+86 139-0000-0001"
		_, err = s.Register(ctx, dupPhone)
		wantErr(t, err, apperr.Conflict, "volunteer.phone_registered", "same phone")
		dupPhone.TeamID = e.teamB.ID // in another team too
		_, err = s.Register(ctx, dupPhone)
		wantErr(t, err, apperr.Conflict, "volunteer.phone_registered", "same phone, other team")
		_, err = s.Register(ctx, r)
		wantErr(t, err, apperr.Conflict, "volunteer.id_registered", "same number and phone")
		if n := e.count(`SELECT COUNT(*) FROM volunteers`); n != 1 {
			t.Errorf("%d volunteers stored, want 1", n)
		}
		if n := e.events("volunteer.register"); n != 1 {
			t.Errorf("%d registrations on the trail, want 1", n)
		}

		// pending: no sign-in
		_, err = s.Login(ctx, "13900000001", testcity.Password, "10.0.0.1")
		wantErr(t, err, apperr.Forbidden, "volunteer.login_pending", "login while pending")
		// the wrong password says nothing about the registration
		_, err = s.Login(ctx, "13900000001", "Wrong-Passw0rd!", "10.0.0.1")
		wantErr(t, err, apperr.Unauthorized, "login.failed", "wrong password while pending")

		// approved by the team's coordinator
		must(t, s.Decide(ctx, e.coordA, id, true), "Decide by coordinator")
		wantErr(t, s.Decide(ctx, e.coordA, id, false), apperr.Conflict, "volunteer.not_pending", "decide again")
		if n := e.events("volunteer.approve"); n != 1 {
			t.Errorf("%d approvals on the trail, want 1", n)
		}
		sess, err := s.Login(ctx, "+86 139 0000 0001", testcity.Password, "10.0.0.1")
		must(t, err, "Login after approval")
		if sess.Volunteer.ID != id || sess.Volunteer.Status != volunteer.StatusActive || sess.Token == "" || sess.CSRF == "" {
			t.Fatalf("session = %+v", sess)
		}
		got, err := s.SessionByToken(ctx, sess.Token)
		must(t, err, "SessionByToken")
		if got.Volunteer.ID != id || got.CSRF != sess.CSRF {
			t.Errorf("SessionByToken = %+v", got)
		}
		if n := e.count(`SELECT COUNT(*) FROM volunteer_sessions WHERE id = ?`, sess.Token); n != 0 {
			t.Error("the session token is stored in the clear")
		}
		for _, bad := range []string{"", "nope", sess.CSRF} {
			_, err := s.SessionByToken(ctx, bad)
			wantErr(t, err, apperr.Unauthorized, "volunteer.login_required", "SessionByToken("+bad+")")
		}
		must(t, s.Logout(ctx, sess.Token), "Logout")
		_, err = s.SessionByToken(ctx, sess.Token)
		wantErr(t, err, apperr.Unauthorized, "volunteer.login_required", "session after logout")

		// a person's data, the identity number opened, for the
		// administrator only, on the trail
		exp, err := s.ExportPerson(ctx, c.Admin, id)
		if err != nil || exp.IDNumber != idX || exp.Phone == "" || strings.Contains(exp.Phone, "*") || exp.ConsentAt.IsZero() {
			t.Errorf("ExportPerson = %+v, %v; want the identity number %q and the full phone", exp, err, idX)
		}
		_, err = s.ExportPerson(ctx, c.Volunteer, id)
		wantErr(t, err, apperr.Forbidden, "forbidden", "ExportPerson by an officer")
		_, err = s.ExportPerson(ctx, c.Admin, 999999)
		wantErr(t, err, apperr.NotFound, "not_found", "ExportPerson of nobody")
		if n := e.events("volunteer.export"); n != 1 {
			t.Errorf("%d exports on the trail, want 1", n)
		}
		// under another data key the number does not open
		other := volunteer.New(db, c.Org, newSealer(t), testcity.Shanghai, nil)
		other.Now = c.Clock.Now
		if _, err := other.ExportPerson(ctx, c.Admin, id); err == nil {
			t.Error("the identity number opened under another data key")
		}

		// a rejected registration cannot sign in, and holds neither the
		// phone nor the number: their owner registers (a registration in
		// someone else's name, rejected, frees them)
		e.n = 50 // past the numbers and phones used above
		rid := e.register(e.teamA, "李四")
		must(t, s.Decide(ctx, e.coordA, rid, false), "reject")
		_, err = s.Login(ctx, phone(e.n), testcity.Password, "10.0.0.1")
		wantErr(t, err, apperr.Unauthorized, "login.failed", "login when rejected")
		if v, _ := s.Volunteer(ctx, c.Admin, rid); v.Status != volunteer.StatusRejected || v.Phone != "" {
			t.Errorf("rejected volunteer = %+v", v)
		}
		owner := volunteer.Registration{Name: "李四本人", Phone: phone(e.n), IDNumber: idNumber(e.n), TeamID: e.teamA.ID, Password: testcity.Password, Consent: true}
		if _, err := s.Register(ctx, owner); err != nil {
			t.Errorf("the owner registers the freed phone and number: %v", err)
		}
	})
}

// TestSessionLifetime: a session slides while used and ends after a week
// idle, and after 30 days in any case.
func TestSessionLifetime(t *testing.T) {
	t.Parallel()
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx, s := e.ctx, e.svc
		e.volunteer(e.teamA, "王五")
		login := func() string {
			t.Helper()
			sess, err := s.Login(ctx, phone(e.n), testcity.Password, "10.0.0.9")
			must(t, err, "Login")
			return sess.Token
		}
		used := login()
		day := 24 * time.Hour
		for i := range 4 { // used every six days: alive for 24 days
			e.c.Clock.Advance(6 * day)
			if _, err := s.SessionByToken(ctx, used); err != nil {
				t.Fatalf("session used every 6 days ended after %d days: %v", 6*(i+1), err)
			}
		}
		e.c.Clock.Advance(6*day + time.Minute) // 30 days and a minute
		_, err := s.SessionByToken(ctx, used)
		wantErr(t, err, apperr.Unauthorized, "volunteer.login_required", "session after 30 days")

		idle := login()
		e.c.Clock.Advance(7*day - time.Minute)
		if _, err := s.SessionByToken(ctx, idle); err != nil {
			t.Fatalf("session idle under a week: %v", err)
		}
		e.c.Clock.Advance(7*day + time.Minute)
		_, err = s.SessionByToken(ctx, idle)
		wantErr(t, err, apperr.Unauthorized, "volunteer.login_required", "session idle over a week")
	})
}

// TestLoginThrottle: wrong passwords count under the staff throttle: after
// org.MaxFailures of them for a phone from one address the next attempt
// (even with the right password) is rate limited there, not elsewhere.
func TestLoginThrottle(t *testing.T) {
	t.Parallel()
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx, s := e.ctx, e.svc
		e.volunteer(e.teamA, "赵六")
		p := phone(e.n)
		for i := range org.MaxFailures {
			_, err := s.Login(ctx, p, "Wrong-Passw0rd!", "10.1.1.1")
			if !wantErr(t, err, apperr.Unauthorized, "login.failed", "wrong password") {
				t.Fatalf("attempt %d", i+1)
			}
		}
		_, err := s.Login(ctx, p, testcity.Password, "10.1.1.1")
		if !apperr.Is(err, apperr.RateLimited) {
			t.Fatalf("attempt after %d failures = %v, want rate limited", org.MaxFailures, err)
		}
		if _, err := s.Login(ctx, p, testcity.Password, "10.2.2.2"); err != nil {
			t.Errorf("login from another address: %v", err)
		}
		// the wait over, the right password gets in
		e.c.Clock.Advance(3 * time.Second)
		if _, err := s.Login(ctx, p, testcity.Password, "10.1.1.1"); err != nil {
			t.Errorf("login after the wait: %v", err)
		}

		// unknown and malformed phones fail like a wrong password
		_, err = s.Login(ctx, "13999999999", testcity.Password, "10.3.3.3")
		wantErr(t, err, apperr.Unauthorized, "login.failed", "unknown phone")
		_, err = s.Login(ctx, "not a phone", testcity.Password, "10.3.3.3")
		wantErr(t, err, apperr.Unauthorized, "login.failed", "malformed phone")
	})
}

// TestLoginCrowdBehindOneAddress: at an activity, many volunteers sign in
// from one address (the community's Wi-Fi); forty of them mistype once,
// and the next one and the office's staff at that address still get in
// without waiting, while the staff's own address count is apart.
func TestLoginCrowdBehindOneAddress(t *testing.T) {
	t.Parallel()
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx, s := e.ctx, e.svc
		const ip = "10.7.7.7"
		for i := range 40 {
			if _, err := s.Login(ctx, fmt.Sprintf("1380000%04d", i), "Wrong-Passw0rd!", ip); !wantErr(t, err, apperr.Unauthorized, "login.failed", "a mistyped password") {
				t.Fatalf("volunteer %d", i)
			}
		}
		e.volunteer(e.teamA, "钱七")
		if _, err := s.Login(ctx, phone(e.n), testcity.Password, ip); err != nil {
			t.Fatalf("a volunteer after forty others' typos: %v", err)
		}
		if _, err := e.c.Org.Login(ctx, "acceptor", testcity.Password, ip, "test"); err != nil {
			t.Errorf("the office's acceptor at the same address: %v", err)
		}
		// The address still bounds guessing: a hundred failures there
		// make the next attempt wait.
		for i := 40; i < 5*org.MaxFailures*4; i++ {
			s.Login(ctx, fmt.Sprintf("1380000%04d", i), "Wrong-Passw0rd!", ip)
		}
		if _, err := s.Login(ctx, phone(e.n), testcity.Password, ip); !apperr.Is(err, apperr.RateLimited) {
			t.Errorf("after a hundred failures at one address: %v, want rate limited", err)
		}
		if _, err := e.c.Org.Login(ctx, "acceptor", testcity.Password, ip, "test"); err != nil {
			t.Errorf("staff at the address after the volunteers' limit: %v", err)
		}
	})
}

// TestScope: a coordinator sees their own team's volunteers and
// activities only, other teams' are NotFound; a region or unit officer
// who coordinates nothing sees their region's or unit's teams; the city
// officer and the administrator see everything; a handler nothing.
func TestScope(t *testing.T) {
	t.Parallel()
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx, c, s := e.ctx, e.c, e.svc
		teamC, err := s.CreateTeam(ctx, c.Admin, volunteer.NewTeam{Name: "环卫处志愿服务队", UnitID: c.UnitA.ID})
		must(t, err, "CreateTeam C")
		regionOfficer := c.User(t, org.NewUser{Username: "volD1", Role: org.RoleVolunteer, Scope: org.ScopeRegion, ScopeRegionID: c.District1.ID})
		unitOfficer := c.User(t, org.NewUser{Username: "volUA", Role: org.RoleVolunteer, Scope: org.ScopeUnit, UnitID: c.UnitA.ID})

		vA := e.register(e.teamA, "甲一")
		vB := e.register(e.teamB, "乙一")
		vC := e.register(teamC, "丙一")

		teamIDs := func(a org.Actor) []int64 {
			t.Helper()
			teams, err := s.Teams(ctx, a)
			must(t, err, "Teams")
			var ids []int64
			for _, x := range teams {
				ids = append(ids, x.ID)
			}
			return ids
		}
		volIDs := func(a org.Actor) ([]int64, int) {
			t.Helper()
			list, total, err := s.Volunteers(ctx, a, volunteer.Filter{})
			must(t, err, "Volunteers")
			var ids []int64
			for _, v := range list {
				ids = append(ids, v.ID)
				if !strings.Contains(v.Phone, "****") {
					t.Errorf("list shows the phone %q", v.Phone)
				}
			}
			return ids, total
		}
		eq := func(what string, got []int64, want ...int64) {
			t.Helper()
			if len(got) != len(want) {
				t.Errorf("%s = %v, want %v", what, got, want)
				return
			}
			m := map[int64]bool{}
			for _, x := range got {
				m[x] = true
			}
			for _, x := range want {
				if !m[x] {
					t.Errorf("%s = %v, want %v", what, got, want)
					return
				}
			}
		}
		eq("coordA's teams", teamIDs(e.coordA), e.teamA.ID)
		eq("coordB's teams", teamIDs(e.coordB), e.teamB.ID)
		eq("region officer's teams", teamIDs(regionOfficer), e.teamA.ID)
		eq("unit officer's teams", teamIDs(unitOfficer), teamC.ID)
		eq("city officer's teams", teamIDs(c.Volunteer), e.teamA.ID, e.teamB.ID, teamC.ID)
		eq("admin's teams", teamIDs(c.Admin), e.teamA.ID, e.teamB.ID, teamC.ID)
		eq("handler's teams", teamIDs(c.HandlerA))
		eq("leader's teams", teamIDs(c.Leader))

		for _, x := range []struct {
			who  string
			a    org.Actor
			want []int64
		}{
			{"coordA", e.coordA, []int64{vA}},
			{"coordB", e.coordB, []int64{vB}},
			{"region officer", regionOfficer, []int64{vA}},
			{"unit officer", unitOfficer, []int64{vC}},
			{"city officer", c.Volunteer, []int64{vA, vB, vC}},
			{"admin", c.Admin, []int64{vA, vB, vC}},
			{"handler", c.HandlerA, nil},
			{"leader", c.Leader, nil},
		} {
			ids, total := volIDs(x.a)
			eq(x.who+"'s volunteers", ids, x.want...)
			if total != len(x.want) {
				t.Errorf("%s's total = %d, want %d", x.who, total, len(x.want))
			}
		}
		// a filter cannot reach past the scope
		if list, total, err := s.Volunteers(ctx, e.coordA, volunteer.Filter{TeamID: e.teamB.ID}); err != nil || total != 0 || len(list) != 0 {
			t.Errorf("coordA filtering teamB = %v, %d, %v", list, total, err)
		}

		_, err = s.Volunteer(ctx, e.coordA, vB)
		wantErr(t, err, apperr.NotFound, "not_found", "coordA reads vB")
		_, err = s.Volunteer(ctx, c.HandlerA, vA)
		wantErr(t, err, apperr.NotFound, "not_found", "handler reads vA")
		if v, err := s.Volunteer(ctx, e.coordA, vA); err != nil || v.Phone != phone(1) {
			t.Errorf("coordA reads vA = %+v, %v (want the full phone)", v, err)
		}
		if _, err := s.Volunteer(ctx, c.Volunteer, vB); err != nil {
			t.Errorf("city officer reads vB: %v", err)
		}
		wantErr(t, s.Decide(ctx, e.coordA, vB, true), apperr.NotFound, "not_found", "coordA decides vB")
		wantErr(t, s.Decide(ctx, c.HandlerA, vA, true), apperr.NotFound, "not_found", "handler decides vA")
		wantErr(t, s.Decide(ctx, regionOfficer, vB, true), apperr.NotFound, "not_found", "region officer decides vB")
		if v, _ := s.Volunteer(ctx, c.Admin, vB); v.Status != volunteer.StatusPending {
			t.Errorf("vB's status after refused decisions = %q", v.Status)
		}
		must(t, s.Decide(ctx, e.coordA, vA, true), "coordA approves vA")
		must(t, s.Decide(ctx, c.Volunteer, vB, true), "city officer approves vB")
		must(t, s.Decide(ctx, unitOfficer, vC, true), "unit officer approves vC")

		// activities
		starts := testcity.At(2026, 11, 16, 10, 0)
		actA := e.activity(e.coordA, e.teamA, "河坊街清扫", starts, starts.Add(2*time.Hour), 10)
		actB := e.activity(e.coordB, e.teamB, "米市巷劝导", starts, starts.Add(2*time.Hour), 10)
		_, err = s.CreateActivity(ctx, e.coordA, volunteer.NewActivity{TeamID: e.teamB.ID, Kind: "other", Title: "越权", Address: "某处", Lat: placeLat, Lon: placeLon, StartsAt: starts, EndsAt: starts.Add(time.Hour), Capacity: 5})
		wantErr(t, err, apperr.NotFound, "not_found", "coordA creates for teamB")
		_, err = s.CreateActivity(ctx, c.HandlerA, volunteer.NewActivity{TeamID: e.teamA.ID, Kind: "other", Title: "越权", Address: "某处", Lat: placeLat, Lon: placeLon, StartsAt: starts, EndsAt: starts.Add(time.Hour), Capacity: 5})
		wantErr(t, err, apperr.NotFound, "not_found", "handler creates for teamA")
		_, err = s.Activity(ctx, e.coordA, actB.ID)
		wantErr(t, err, apperr.NotFound, "not_found", "coordA reads actB")
		_, err = s.Attendance(ctx, e.coordA, actB.ID)
		wantErr(t, err, apperr.NotFound, "not_found", "coordA reads actB's sheet")
		wantErr(t, s.CancelActivity(ctx, e.coordA, actB.ID), apperr.NotFound, "not_found", "coordA cancels actB")
		_, err = s.Activity(ctx, c.HandlerA, actA.ID)
		wantErr(t, err, apperr.NotFound, "not_found", "handler reads actA")
		for _, a := range []org.Actor{c.Volunteer, c.Admin} {
			if _, err := s.Activity(ctx, a, actB.ID); err != nil {
				t.Errorf("%s reads actB: %v", a.Name, err)
			}
			if _, err := s.Attendance(ctx, a, actA.ID); err != nil {
				t.Errorf("%s reads actA's sheet: %v", a.Name, err)
			}
		}
		if list, err := s.Activities(ctx, e.coordA, 0, 0); err != nil || len(list) != 1 || list[0].ID != actA.ID {
			t.Errorf("coordA's activities = %+v, %v", list, err)
		}
		if list, err := s.Activities(ctx, c.Volunteer, 0, 0); err != nil || len(list) != 2 {
			t.Errorf("city officer's activities = %d, %v; want 2", len(list), err)
		}
		if list, err := s.Activities(ctx, c.HandlerA, 0, 0); err != nil || len(list) != 0 {
			t.Errorf("handler's activities = %d, %v; want none", len(list), err)
		}

		// hours
		e.at(starts)
		e.checkIn(vA, actA)
		e.checkIn(vB, actB)
		e.at(starts.Add(90 * time.Minute))
		e.checkOut(vA, actA)
		e.checkOut(vB, actB)
		e.at(starts.Add(3 * time.Hour))
		recB := e.row(actB.ID, vB).RecordID
		wantErr(t, s.Confirm(ctx, e.coordA, recB, -1, ""), apperr.NotFound, "not_found", "coordA confirms actB's record")
		wantErr(t, s.Confirm(ctx, c.HandlerA, recB, -1, ""), apperr.NotFound, "not_found", "handler confirms")
		_, err = s.ConfirmAll(ctx, e.coordA, actB.ID)
		wantErr(t, err, apperr.NotFound, "not_found", "coordA confirms all of actB")
		if e.minutes(vB) != 0 {
			t.Errorf("vB has minutes after refused confirmations")
		}
		must(t, s.Confirm(ctx, e.coordB, recB, -1, ""), "coordB confirms")
		must(t, s.Confirm(ctx, c.Volunteer, e.row(actA.ID, vA).RecordID, -1, ""), "city officer confirms actA's record")
		_, err = s.Issue(ctx, e.coordA, vB, e.teamB.ID, starts.Add(-time.Hour), starts.Add(time.Hour))
		wantErr(t, err, apperr.NotFound, "not_found", "coordA issues for teamB")

		// statistics: no person, but not for handlers
		from, to := testcity.At(2026, 11, 1, 0, 0), testcity.At(2026, 12, 1, 0, 0)
		for _, a := range []org.Actor{c.HandlerA, c.HandlerB, c.Inspector, c.Grid} {
			_, err := s.Stats(ctx, a, from, to)
			wantErr(t, err, apperr.Forbidden, "forbidden", "Stats by "+string(a.Role))
		}
		for _, a := range []org.Actor{c.Leader, c.Admin, c.Volunteer, e.coordA} {
			st, err := s.Stats(ctx, a, from, to)
			if err != nil {
				t.Errorf("Stats by %s: %v", a.Name, err)
			} else if st.City.Minutes != 180 {
				t.Errorf("Stats by %s: city minutes %d, want 180", a.Name, st.City.Minutes)
			}
		}
	})
}

// TestSettings: the administrator keeps the rules; stars follow them.
func TestSettings(t *testing.T) {
	t.Parallel()
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx, c, s := e.ctx, e.c, e.svc
		st, err := s.Settings(ctx)
		must(t, err, "Settings")
		if st.RadiusM != 300 || st.CheckinEarlyMin != 30 || st.CheckoutLateMin != 60 || len(st.StarHours) != 5 {
			t.Errorf("default settings = %+v", st)
		}
		st.StarHours = []int{1, 2, 3, 4, 5}
		st.RadiusM = 50
		wantErr(t, s.SaveSettings(ctx, c.Volunteer, st), apperr.Forbidden, "forbidden", "settings by an officer")
		bad := st
		bad.RadiusM = 5
		wantErr(t, s.SaveSettings(ctx, c.Admin, bad), apperr.Invalid, "volunteer.radius_bad", "bad settings")
		must(t, s.SaveSettings(ctx, c.Admin, st), "SaveSettings")
		got, err := s.Settings(ctx)
		must(t, err, "Settings")
		if got.RadiusM != 50 || got.StarHours[0] != 1 || got.StarHours[4] != 5 {
			t.Errorf("settings read back = %+v", got)
		}
		if n := e.events("volunteer.settings"); n != 1 {
			t.Errorf("%d settings entries on the trail", n)
		}
		// the new default radius applies to new activities
		starts := testcity.At(2026, 11, 16, 10, 0)
		a := e.activity(e.coordA, e.teamA, "小半径", starts, starts.Add(3*time.Hour), 5)
		if a.RadiusM != 50 {
			t.Errorf("new activity's radius = %d, want the settings' 50", a.RadiusM)
		}
		// stars on the new scale: 150 minutes is two stars, next at 3 h
		vid := e.volunteer(e.teamA, "孙七")
		e.at(starts)
		e.checkIn(vid, a)
		e.at(starts.Add(150 * time.Minute))
		e.checkOut(vid, a)
		e.at(starts.Add(3 * time.Hour))
		must(t, s.Confirm(ctx, e.coordA, e.row(a.ID, vid).RecordID, -1, ""), "Confirm")
		v, err := s.Volunteer(ctx, c.Admin, vid)
		must(t, err, "Volunteer")
		if v.Minutes != 150 || v.Hours != 2.5 || v.Stars != 2 {
			t.Errorf("volunteer = %d min, %.2f h, %d stars; want 150, 2.5, 2", v.Minutes, v.Hours, v.Stars)
		}
		mv, next, _, err := s.Mine(ctx, vid)
		must(t, err, "Mine")
		if mv.Stars != 2 || next != 3 {
			t.Errorf("Mine: %d stars, next at %d h; want 2 and 3", mv.Stars, next)
		}
	})
}

// TestRegisterPhoneRace (PostgreSQL): a registration whose phone another
// registration takes while it runs (so that only the unique index sees
// the repeat) is refused as a repeated phone, not a repeated identity
// number.
func TestRegisterPhoneRace(t *testing.T) {
	t.Parallel()
	db := testcity.Postgres(t)
	e := newEnv(t, db)
	ctx := e.ctx
	const taken = "13911112222"
	// another registration of the phone, not yet committed
	inserted, commit := make(chan error, 1), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- db.WithTx(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO volunteers (name, phone, id_hash, id_sealed, id_masked, team_id, region_id, status, source, consent_at, created_at)
				VALUES ('先到', ?, 'other-hash', 'x', 'x', ?, ?, 'pending', 'self', 1, 1)`, taken, e.teamA.ID, e.teamA.RegionID)
			inserted <- err
			if err != nil {
				return err
			}
			<-commit
			return nil
		})
	}()
	must(t, <-inserted, "insert the other registration")
	r := e.registration(e.teamA, "后到")
	r.Phone = taken
	regErr := make(chan error, 1)
	go func() { _, err := e.svc.Register(ctx, r); regErr <- err }()
	waitLockWaiters(t, db, 1)
	close(commit)
	must(t, <-done, "commit the other registration")
	wantErr(t, <-regErr, apperr.Conflict, "volunteer.phone_registered", "registration whose phone was taken meanwhile")
}

// waitLockWaiters waits until n sessions of db's database wait for a lock
// (PostgreSQL).
func waitLockWaiters(t *testing.T, db *store.DB, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var waiting int
		err := db.Reader().QueryRow(context.Background(), `SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting)
		must(t, err, "pg_stat_activity")
		if waiting >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d sessions wait for a lock after 10 s, want %d", waiting, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestVolunteerFilter: the office's list by team, status, and name or the
// phone's last digits (LIKE's wildcards taken literally), paged.
func TestVolunteerFilter(t *testing.T) {
	t.Parallel()
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx, c, s := e.ctx, e.c, e.svc
		zhang := e.volunteer(e.teamA, "张伟")   // phone(1) 13900000001
		zhangB := e.volunteer(e.teamB, "张伟明") // phone(2)
		li := e.register(e.teamA, "李100%")    // phone(3), pending
		find := func(f volunteer.Filter) ([]int64, int) {
			t.Helper()
			list, total, err := s.Volunteers(ctx, c.Admin, f)
			must(t, err, "Volunteers")
			var ids []int64
			for _, v := range list {
				ids = append(ids, v.ID)
			}
			return ids, total
		}
		same := func(what string, got []int64, want ...int64) {
			t.Helper()
			if len(got) != len(want) {
				t.Errorf("%s = %v, want %v", what, got, want)
				return
			}
			for i := range got {
				if got[i] != want[i] {
					t.Errorf("%s = %v, want %v", what, got, want)
					return
				}
			}
		}
		ids, total := find(volunteer.Filter{})
		same("all, newest first", ids, li, zhangB, zhang)
		if total != 3 {
			t.Errorf("total = %d", total)
		}
		ids, _ = find(volunteer.Filter{TeamID: e.teamA.ID})
		same("team A", ids, li, zhang)
		ids, _ = find(volunteer.Filter{Status: volunteer.StatusPending})
		same("pending", ids, li)
		ids, _ = find(volunteer.Filter{Query: "张伟"})
		same("name 张伟", ids, zhangB, zhang)
		ids, _ = find(volunteer.Filter{Query: "0002"})
		same("phone ending 0002", ids, zhangB)
		ids, _ = find(volunteer.Filter{Query: "1390000"})
		same("phone's start", ids)
		ids, _ = find(volunteer.Filter{Query: "%"})
		same("a literal %", ids, li)
		ids, _ = find(volunteer.Filter{Query: "_"})
		same("a literal _", ids)
		ids, total = find(volunteer.Filter{Limit: 2, Offset: 2})
		same("second page", ids, zhang)
		if total != 3 {
			t.Errorf("paged total = %d, want 3", total)
		}
		_, _, err := s.Volunteers(ctx, c.Admin, volunteer.Filter{Status: "deleted"})
		wantErr(t, err, apperr.Invalid, "volunteer.status_bad", "unknown status")
		_, _, err = s.Volunteers(ctx, c.Admin, volunteer.Filter{Query: strings.Repeat("查", 33)})
		wantErr(t, err, apperr.Invalid, "volunteer.query_too_long", "long query")
		teams, err := s.Teams(ctx, c.Admin)
		must(t, err, "Teams")
		for _, x := range teams {
			if x.ID == e.teamA.ID && (x.Volunteers != 1 || x.Pending != 1 || x.Coordinator != e.coordA.Name || x.Node != e.nodeA.Name) {
				t.Errorf("team A = %+v", x)
			}
		}
	})
}
