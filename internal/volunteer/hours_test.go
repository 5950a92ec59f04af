package volunteer_test

import (
	"crypto/rand"
	"encoding/json"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"chuangwen/internal/apperr"
	"chuangwen/internal/audit"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
	"chuangwen/internal/testcity"
	"chuangwen/internal/volunteer"
)

// TestConfirm: hours are confirmed by the organiser once the activity has
// ended; a figure other than the span, and any change, need a reason; the
// volunteer's total moves by the difference; each is on the trail.
func TestConfirm(t *testing.T) {
	t.Parallel()
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx, s := e.ctx, e.svc
		v1, v2 := e.volunteer(e.teamA, "郑一"), e.volunteer(e.teamA, "郑二")
		starts := testcity.At(2026, 11, 16, 10, 0)
		ends := starts.Add(2 * time.Hour)
		a := e.activity(e.coordA, e.teamA, "河坊街清扫", starts, ends, 10)
		e.at(starts.Add(-10 * time.Minute))
		e.checkIn(v1, a)
		e.at(starts.Add(10 * time.Minute))
		e.checkIn(v2, a)
		e.at(starts.Add(90 * time.Minute))
		if out := e.checkOut(v1, a); out.Minutes != 90 {
			t.Fatalf("v1 served %d minutes, want 90", out.Minutes)
		}
		e.at(starts.Add(100 * time.Minute))
		if out := e.checkOut(v2, a); out.Minutes != 90 {
			t.Fatalf("v2 served %d minutes, want 90", out.Minutes)
		}
		r1, r2 := e.row(a.ID, v1).RecordID, e.row(a.ID, v2).RecordID

		// not before the end
		e.at(ends.Add(-time.Minute))
		wantErr(t, s.Confirm(ctx, e.coordA, r1, -1, ""), apperr.Conflict, "volunteer.not_ended", "confirm before the end")
		wantErr(t, s.Confirm(ctx, e.coordA, 999999, -1, ""), apperr.NotFound, "not_found", "confirm no record")

		e.at(ends)
		// at the span, no reason needed
		must(t, s.Confirm(ctx, e.coordA, r1, -1, ""), "confirm at the span")
		if m := e.minutes(v1); m != 90 {
			t.Errorf("v1's total = %d, want 90", m)
		}
		// a change needs a reason, even to the span's figure
		wantErr(t, s.Confirm(ctx, e.coordA, r1, 100, ""), apperr.Invalid, "volunteer.reason_required", "change without a reason")
		wantErr(t, s.Confirm(ctx, e.coordA, r1, 90, "  "), apperr.Invalid, "volunteer.reason_required", "reconfirm without a reason")
		wantErr(t, s.Confirm(ctx, e.coordA, r1, 121, "多记"), apperr.Invalid, "volunteer.minutes_bad", "more than the activity")
		wantErr(t, s.Confirm(ctx, e.coordA, r1, 100, strings.Repeat("因", 201)), apperr.Invalid, "volunteer.reason_too_long", "long reason")
		if m := e.minutes(v1); m != 90 {
			t.Errorf("v1's total after refused changes = %d, want 90", m)
		}
		must(t, s.Confirm(ctx, e.coordA, r1, 120, "提前到场布置"), "change with a reason")
		if m := e.minutes(v1); m != 120 {
			t.Errorf("v1's total after the change = %d, want 120", m)
		}
		must(t, s.Confirm(ctx, e.coordA, r1, 30, "核减"), "change down")
		if m := e.minutes(v1); m != 30 {
			t.Errorf("v1's total after lowering = %d, want 30", m)
		}

		// a figure other than the span needs a reason the first time too
		wantErr(t, s.Confirm(ctx, e.coordA, r2, 60, ""), apperr.Invalid, "volunteer.reason_required", "other figure without a reason")
		must(t, s.Confirm(ctx, e.coordA, r2, 60, "中途离开"), "other figure with a reason")
		if m := e.minutes(v2); m != 60 {
			t.Errorf("v2's total = %d, want 60", m)
		}

		// the volunteer's own page
		mv, next, recs, err := s.Mine(ctx, v1)
		must(t, err, "Mine")
		if mv.Minutes != 30 || next != 100 || len(recs) != 1 || !recs[0].Confirmed || recs[0].ConfirmedMinutes != 30 || recs[0].Minutes != 90 {
			t.Errorf("Mine = %d min, next %d, records %+v", mv.Minutes, next, recs)
		}
		if row := e.row(a.ID, v1); row.ConfirmedMinutes != 30 || !row.ConfirmedAt.Equal(ends) {
			t.Errorf("v1's row = %+v", row)
		}

		// the trail: one entry per confirmation, with the figures
		if n := e.events("volunteer.hours_confirm"); n != 4 {
			t.Errorf("%d confirmations on the trail, want 4", n)
		}
		var data string
		must(t, db.Reader().QueryRow(ctx, `SELECT data FROM events WHERE action = 'volunteer.hours_confirm' ORDER BY seq DESC LIMIT 1`).Scan(&data), "last confirmation")
		var got map[string]any
		must(t, json.Unmarshal([]byte(data), &got), "trail data")
		if got["old"] != 0.0 || got["new"] != 60.0 || got["recorded"] != 90.0 || got["reason"] != "中途离开" || got["record_id"] != float64(r2) {
			t.Errorf("trail data = %s", data)
		}
		var actorID int64
		must(t, db.Reader().QueryRow(ctx, `SELECT actor_id FROM events WHERE action = 'volunteer.hours_confirm' ORDER BY seq LIMIT 1`).Scan(&actorID), "actor")
		if actorID != e.coordA.UserID {
			t.Errorf("confirmation by %d on the trail, want coordA %d", actorID, e.coordA.UserID)
		}
		rep, err := audit.Verify(ctx, db)
		must(t, err, "audit.Verify")
		if !rep.OK {
			t.Errorf("audit chain broken: %+v", rep)
		}
	})
}

// TestConfirmAll confirms the checked-out, unconfirmed records at their
// spans and leaves the rest.
func TestConfirmAll(t *testing.T) {
	t.Parallel()
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx, s := e.ctx, e.svc
		var v [5]int64
		for i := range v {
			v[i] = e.volunteer(e.teamA, "冯"+string(rune('一'+i)))
		}
		starts := testcity.At(2026, 11, 16, 10, 0)
		ends := starts.Add(2 * time.Hour)
		a := e.activity(e.coordA, e.teamA, "批量确认", starts, ends, 10)
		must(t, s.SignUp(ctx, v[4], a.ID), "SignUp") // signed up, never came
		e.at(starts)
		for _, id := range v[:4] {
			e.checkIn(id, a)
		}
		e.at(starts.Add(45 * time.Minute))
		e.checkOut(v[0], a)
		e.at(starts.Add(60 * time.Minute))
		e.checkOut(v[1], a)
		e.checkOut(v[3], a)
		// v[2] never checks out

		e.at(ends.Add(-time.Second))
		n, err := s.ConfirmAll(ctx, e.coordA, a.ID)
		if wantErr(t, err, apperr.Conflict, "volunteer.not_ended", "ConfirmAll before the end") && n != 0 {
			t.Errorf("ConfirmAll before the end confirmed %d", n)
		}
		e.at(ends)
		must(t, s.Confirm(ctx, e.coordA, e.row(a.ID, v[3]).RecordID, 50, "早退"), "confirm v3 by hand")
		n, err = s.ConfirmAll(ctx, e.coordA, a.ID)
		must(t, err, "ConfirmAll")
		if n != 2 {
			t.Errorf("ConfirmAll confirmed %d, want 2", n)
		}
		for i, want := range []int64{45, 60, 0, 50, 0} {
			if m := e.minutes(v[i]); m != want {
				t.Errorf("v%d's total = %d, want %d", i, m, want)
			}
		}
		if r := e.row(a.ID, v[2]); !r.ConfirmedAt.IsZero() {
			t.Errorf("record without check-out was confirmed: %+v", r)
		}
		n, err = s.ConfirmAll(ctx, e.coordA, a.ID)
		if err != nil || n != 0 {
			t.Errorf("ConfirmAll again = %d, %v; want 0", n, err)
		}
		if n := e.events("volunteer.hours_confirm"); n != 3 {
			t.Errorf("%d confirmations on the trail, want 3", n)
		}
	})
}

var codeFormat = regexp.MustCompile(`^[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}$`)

// TestCertificates: issue, verify (masked, any spelling of the code),
// forged and malformed codes, revoke.
func TestCertificates(t *testing.T) {
	t.Parallel()
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx, c, s := e.ctx, e.c, e.svc
		r := e.registration(e.teamA, "张三丰")
		r.NationalNo = "330100999"
		vid, err := s.Register(ctx, r)
		must(t, err, "Register")
		must(t, s.Decide(ctx, e.coordA, vid, true), "approve")
		from, to := testcity.At(2026, 11, 1, 0, 0), testcity.At(2026, 12, 1, 0, 0)

		_, err = s.Issue(ctx, e.coordA, vid, e.teamA.ID, from, to)
		wantErr(t, err, apperr.Conflict, "volunteer.nothing_to_certify", "issue with nothing served")

		starts := testcity.At(2026, 11, 16, 10, 0)
		a := e.activity(e.coordA, e.teamA, "河坊街清扫", starts, starts.Add(2*time.Hour), 10)
		b := e.activity(e.coordA, e.teamA, "河坊街劝导", starts.Add(3*time.Hour), starts.Add(5*time.Hour), 10)
		e.at(starts)
		e.checkIn(vid, a)
		e.at(starts.Add(100 * time.Minute))
		e.checkOut(vid, a)
		e.at(starts.Add(3 * time.Hour))
		e.checkIn(vid, b)
		e.at(starts.Add(4 * time.Hour))
		e.checkOut(vid, b)
		_, err = s.Issue(ctx, e.coordA, vid, e.teamA.ID, from, to)
		wantErr(t, err, apperr.Conflict, "volunteer.nothing_to_certify", "issue with nothing confirmed")
		must(t, s.Confirm(ctx, e.coordA, e.row(a.ID, vid).RecordID, -1, ""), "confirm a")
		e.at(starts.Add(5 * time.Hour))
		must(t, s.Confirm(ctx, e.coordA, e.row(b.ID, vid).RecordID, -1, ""), "confirm b")

		_, err = s.Issue(ctx, e.coordA, vid, e.teamA.ID, to, from)
		wantErr(t, err, apperr.Invalid, "volunteer.period_bad", "issue for a backwards period")
		_, err = s.Issue(ctx, e.coordA, vid, e.teamA.ID, testcity.At(2026, 10, 1, 0, 0), from)
		wantErr(t, err, apperr.Conflict, "volunteer.nothing_to_certify", "issue for a period without service")
		_, err = s.Issue(ctx, e.coordB, vid, e.teamA.ID, from, to)
		wantErr(t, err, apperr.NotFound, "not_found", "issue by another team's coordinator")
		_, err = s.Issue(ctx, e.coordB, vid, e.teamB.ID, from, to)
		wantErr(t, err, apperr.Conflict, "volunteer.nothing_to_certify", "issue for a team the volunteer did not serve")
		_, err = s.Issue(ctx, c.HandlerA, vid, e.teamA.ID, from, to)
		wantErr(t, err, apperr.NotFound, "not_found", "issue by a handler")

		cert, err := s.Issue(ctx, e.coordA, vid, e.teamA.ID, from, to)
		must(t, err, "Issue")
		if !codeFormat.MatchString(cert.Code) {
			t.Errorf("code %q is not four groups of the alphabet", cert.Code)
		}
		if cert.Minutes != 160 || cert.Hours != 160.0/60 || cert.Activities != 2 || cert.Name != "张三丰" || cert.VolunteerID != vid ||
			cert.TeamID != e.teamA.ID || cert.Team != e.teamA.Name || cert.IDMasked != volunteer.MaskID(r.IDNumber) || cert.NationalNo != "330100999" ||
			!cert.From.Equal(from) || !cert.To.Equal(to) || cert.Revoked {
			t.Errorf("issued = %+v", cert)
		}
		if n := e.events("volunteer.certificate_issue"); n != 1 {
			t.Errorf("%d issues on the trail", n)
		}

		// anyone verifies, in any spelling of the code
		plain := strings.ReplaceAll(cert.Code, "-", "")
		for _, code := range []string{cert.Code, strings.ToLower(cert.Code), plain, strings.ToLower(plain), " " + plain[:8] + " " + plain[8:] + " "} {
			got, err := s.Verify(ctx, code)
			if err != nil {
				t.Errorf("Verify(%q): %v", code, err)
				continue
			}
			if got.Code != cert.Code || got.Name != "张**" || got.IDMasked != "" || got.NationalNo != "" || got.VolunteerID != 0 || got.TeamID != 0 ||
				got.Minutes != 160 || got.Activities != 2 || got.Team != e.teamA.Name || got.Revoked {
				t.Errorf("Verify(%q) = %+v", code, got)
			}
			b, _ := json.Marshal(got)
			if strings.Contains(string(b), r.IDNumber[:6]) || strings.Contains(string(b), "张三丰") || strings.Contains(string(b), "330100999") {
				t.Errorf("the public answer shows the person: %s", b)
			}
		}
		// a forged code of the right form, and malformed ones
		forged := []byte(plain)
		for i := range forged {
			if forged[i] == 'A' {
				forged[i] = 'B'
			} else {
				forged[i] = 'A'
			}
		}
		random := make([]byte, 16)
		for i := range random {
			var b [1]byte
			if _, err := rand.Read(b[:]); err != nil {
				t.Fatal(err)
			}
			random[i] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"[int(b[0])%32]
		}
		if volunteer.NormalizeCode(string(random)) == "" {
			t.Fatalf("made-up code %s is malformed", random)
		}
		for _, code := range []string{string(forged), string(random), "ABCD-EFGH-JKLM-NPQR", "", "nope", cert.Code + "A", cert.Code[:18], strings.ReplaceAll(cert.Code, cert.Code[:1], "0")} {
			_, err := s.Verify(ctx, code)
			wantErr(t, err, apperr.NotFound, "volunteer.certificate_unknown", "Verify("+code+")")
		}

		// the office's copy, in scope
		if got, err := s.Certificate(ctx, c.Volunteer, strings.ToLower(cert.Code)); err != nil || got.Name != "张三丰" || got.VolunteerID != vid {
			t.Errorf("Certificate for the city officer = %+v, %v", got, err)
		}
		_, err = s.Certificate(ctx, e.coordB, cert.Code)
		wantErr(t, err, apperr.NotFound, "not_found", "Certificate for another team's coordinator")
		list, err := s.Certificates(ctx, vid)
		must(t, err, "Certificates")
		if len(list) != 1 || list[0].Code != cert.Code {
			t.Errorf("Certificates = %+v", list)
		}

		// revocation
		wantErr(t, s.Revoke(ctx, e.coordA, cert.Code, "  "), apperr.Invalid, "volunteer.reason_required", "revoke without a reason")
		wantErr(t, s.Revoke(ctx, e.coordB, cert.Code, "越权"), apperr.NotFound, "not_found", "revoke by another team's coordinator")
		wantErr(t, s.Revoke(ctx, e.coordA, "ABCD-EFGH-JKLM-NPQR", "无"), apperr.NotFound, "volunteer.certificate_unknown", "revoke an unknown code")
		if got, _ := s.Verify(ctx, cert.Code); got.Revoked {
			t.Fatal("revoked by a refused revocation")
		}
		e.c.Clock.Advance(time.Hour)
		revokedAt := e.c.Clock.Now()
		must(t, s.Revoke(ctx, e.coordA, strings.ToLower(plain), "时长登记有误"), "Revoke")
		got, err := s.Verify(ctx, cert.Code)
		must(t, err, "Verify after revocation")
		// the public check says revoked and when, not the office's reason
		if !got.Revoked || !got.RevokedAt.Equal(revokedAt) || got.RevokeReason != "" {
			t.Errorf("Verify after revocation = %+v", got)
		}
		if office, err := s.Certificate(ctx, e.coordA, cert.Code); err != nil || office.RevokeReason != "时长登记有误" {
			t.Errorf("the office's copy after revocation = %+v, %v", office, err)
		}
		wantErr(t, s.Revoke(ctx, e.coordA, cert.Code, "再撤"), apperr.Conflict, "volunteer.revoked_already", "revoke twice")
		if n := e.events("volunteer.certificate_revoke"); n != 1 {
			t.Errorf("%d revocations on the trail", n)
		}
	})
}

// TestStats: the figures of a period per street, rolled up to districts
// and the city; population from the streets.
func TestStats(t *testing.T) {
	t.Parallel()
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx, c, s := e.ctx, e.c, e.svc
		centre, err := s.CreateNode(ctx, c.Admin, c.District1.ID, "")
		must(t, err, "CreateNode district")
		teamD, err := s.CreateTeam(ctx, c.Admin, volunteer.NewTeam{Name: "上城区志愿服务总队", NodeID: centre.ID})
		must(t, err, "CreateTeam district")

		// registrations before the period
		e.at(testcity.At(2026, 11, 1, 10, 0))
		a1, a2 := e.volunteer(e.teamA, "甲一"), e.volunteer(e.teamA, "甲二")
		e.register(e.teamA, "甲三") // pending: not counted
		b1, b2 := e.volunteer(e.teamB, "乙一"), e.volunteer(e.teamB, "乙二")
		e.volunteer(teamD, "区一") // in the district itself
		rejected := e.register(e.teamB, "乙拒")
		must(t, s.Decide(ctx, c.Admin, rejected, false), "reject")

		// served before the period (a1, 60 minutes)
		old := testcity.At(2026, 11, 10, 10, 0)
		actOld := e.activity(c.Admin, e.teamA, "上周", old, old.Add(2*time.Hour), 10)
		e.at(old)
		e.checkIn(a1, actOld)
		e.at(old.Add(time.Hour))
		e.checkOut(a1, actOld)
		e.at(old.Add(2 * time.Hour))
		must(t, s.Confirm(ctx, c.Admin, e.row(actOld.ID, a1).RecordID, -1, ""), "confirm old")

		// in the period: teamA's activity in Community1 (a1 120, a2 60)
		ta := testcity.At(2026, 11, 17, 10, 0)
		actA, err := s.CreateActivity(ctx, e.coordA, volunteer.NewActivity{TeamID: e.teamA.ID, Kind: "environment", Title: "社区清扫", Address: "清波社区",
			Lat: placeLat, Lon: placeLon, RegionID: c.Community1.ID, StartsAt: ta, EndsAt: ta.Add(2 * time.Hour), Capacity: 10})
		must(t, err, "CreateActivity A")
		e.at(ta)
		e.checkIn(a1, actA)
		e.checkIn(a2, actA)
		e.at(ta.Add(time.Hour))
		e.checkOut(a2, actA)
		e.at(ta.Add(2 * time.Hour))
		e.checkOut(a1, actA)
		n, err := s.ConfirmAll(ctx, e.coordA, actA.ID)
		if err != nil || n != 2 {
			t.Fatalf("ConfirmAll A = %d, %v", n, err)
		}
		// teamB's (b1 90; b2 checked in, never confirmed) and a cancelled one
		tb := testcity.At(2026, 11, 18, 14, 0)
		actB := e.activity(e.coordB, e.teamB, "米市巷劝导", tb, tb.Add(2*time.Hour), 10)
		cancelled := e.activity(e.coordB, e.teamB, "取消", tb.Add(24*time.Hour), tb.Add(26*time.Hour), 10)
		must(t, s.CancelActivity(ctx, e.coordB, cancelled.ID), "cancel")
		e.at(tb)
		e.checkIn(b1, actB)
		e.checkIn(b2, actB)
		e.at(tb.Add(90 * time.Minute))
		e.checkOut(b1, actB)
		e.at(tb.Add(2 * time.Hour))
		must(t, s.Confirm(ctx, e.coordB, e.row(actB.ID, b1).RecordID, -1, ""), "confirm b1")

		// after the period: a2 served 60, b3 registered
		late := testcity.At(2026, 11, 24, 10, 0)
		actLate := e.activity(e.coordA, e.teamA, "下周", late, late.Add(2*time.Hour), 10)
		e.at(late)
		e.checkIn(a2, actLate)
		e.at(late.Add(time.Hour))
		e.checkOut(a2, actLate)
		e.at(late.Add(2 * time.Hour))
		must(t, s.Confirm(ctx, e.coordA, e.row(actLate.ID, a2).RecordID, -1, ""), "confirm late")
		e.at(testcity.At(2026, 11, 25, 9, 0))
		e.volunteer(e.teamB, "乙三")

		// population on the streets only
		wantErr(t, s.SetPopulation(ctx, c.Volunteer, map[int64]int64{c.Street1.ID: 1000}), apperr.Forbidden, "forbidden", "population by an officer")
		wantErr(t, s.SetPopulation(ctx, c.Admin, map[int64]int64{c.Street1.ID: -1}), apperr.Invalid, "volunteer.population_bad", "negative population")
		wantErr(t, s.SetPopulation(ctx, c.Admin, map[int64]int64{999999: 5}), apperr.Invalid, "region.not_found", "population of no region")
		must(t, s.SetPopulation(ctx, c.Admin, map[int64]int64{c.Street1.ID: 1000, c.Street2.ID: 500, c.Community2.ID: 7}), "SetPopulation")
		must(t, s.SetPopulation(ctx, c.Admin, map[int64]int64{c.Community2.ID: 0}), "SetPopulation removing")
		if n := e.count(`SELECT COUNT(*) FROM region_population`); n != 2 {
			t.Errorf("%d population figures, want 2", n)
		}

		from, to := testcity.At(2026, 11, 16, 0, 0), testcity.At(2026, 11, 23, 0, 0)
		_, err = s.Stats(ctx, c.Leader, to, from)
		wantErr(t, err, apperr.Invalid, "volunteer.period_bad", "backwards period")
		st, err := s.Stats(ctx, c.Leader, from, to)
		must(t, err, "Stats")
		if len(st.Districts) != 2 || len(st.Streets) != 2 {
			t.Fatalf("Stats has %d districts and %d streets, want 2 and 2", len(st.Districts), len(st.Streets))
		}
		if st.Districts[0].RegionID != c.District1.ID || st.Streets[0].RegionID != c.Street1.ID || st.Streets[1].ParentID != c.District2.ID {
			t.Errorf("rows out of order: %+v %+v", st.Districts, st.Streets)
		}
		type want struct {
			registered, active, activities, minutes, population int64
		}
		check := func(what string, got volunteer.RegionStats, w want) {
			t.Helper()
			if got.Registered != w.registered || got.Active != w.active || got.Activities != w.activities || got.Minutes != w.minutes || got.Population != w.population {
				t.Errorf("%s = registered %d, active %d, activities %d, minutes %d, population %d; want %+v",
					what, got.Registered, got.Active, got.Activities, got.Minutes, got.Population, w)
			}
			near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
			if !near(got.Hours, float64(w.minutes)/60) {
				t.Errorf("%s hours = %v, want %v", what, got.Hours, float64(w.minutes)/60)
			}
			share := 0.0
			if w.population > 0 {
				share = float64(w.registered) / float64(w.population)
			}
			if !near(got.Share, share) {
				t.Errorf("%s share = %v, want %v", what, got.Share, share)
			}
			per := 0.0
			if w.registered > 0 {
				per = float64(w.minutes) / 60 / float64(w.registered)
			}
			if !near(got.PerCapita, per) {
				t.Errorf("%s per capita = %v, want %v", what, got.PerCapita, per)
			}
		}
		check("Street1", st.Streets[0], want{registered: 2, active: 2, activities: 1, minutes: 180, population: 1000})
		check("Street2", st.Streets[1], want{registered: 2, active: 1, activities: 1, minutes: 90, population: 500})
		check("District1", st.Districts[0], want{registered: 3, active: 2, activities: 1, minutes: 180, population: 1000})
		check("District2", st.Districts[1], want{registered: 2, active: 1, activities: 1, minutes: 90, population: 500})
		check("city", st.City, want{registered: 5, active: 3, activities: 2, minutes: 270, population: 1500})
		if st.City.RegionID != c.City.ID || st.Streets[0].Hours != 3 || st.Streets[0].PerCapita != 1.5 || st.Streets[1].Share != 0.004 {
			t.Errorf("city %+v, Street1 %+v, Street2 %+v", st.City, st.Streets[0], st.Streets[1])
		}

		// the month: everything but the pending, the rejected and the cancelled
		st, err = s.Stats(ctx, c.Admin, testcity.At(2026, 11, 1, 0, 0), testcity.At(2026, 12, 1, 0, 0))
		must(t, err, "Stats of the month")
		check("city in the month", st.City, want{registered: 6, active: 3, activities: 4, minutes: 60 + 180 + 90 + 60, population: 1500})
		// a period with nothing in it
		st, err = s.Stats(ctx, c.Admin, testcity.At(2026, 10, 1, 0, 0), testcity.At(2026, 10, 2, 0, 0))
		must(t, err, "Stats of an empty day")
		check("city on an empty day", st.City, want{population: 1500})

		// a district's own figure wins over its streets'
		must(t, s.SetPopulation(ctx, c.Admin, map[int64]int64{c.District2.ID: 800}), "SetPopulation district")
		st, err = s.Stats(ctx, c.Leader, from, to)
		must(t, err, "Stats")
		if st.Districts[1].Population != 800 || st.Streets[1].Population != 500 || st.City.Population != 1800 {
			t.Errorf("populations = district2 %d, street2 %d, city %d; want 800, 500, 1800", st.Districts[1].Population, st.Streets[1].Population, st.City.Population)
		}
	})
}

// TestStatsAccess: the statistics are read: every office
// role but the handlers, inspectors and grid workers.
func TestStatsAccess(t *testing.T) {
	t.Parallel()
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		from, to := testcity.At(2026, 11, 1, 0, 0), testcity.At(2026, 12, 1, 0, 0)
		for _, x := range []struct {
			a  org.Actor
			ok bool
		}{
			{e.c.Admin, true}, {e.c.Leader, true}, {e.c.Volunteer, true}, {e.c.Acceptor, true}, {e.coordB, true},
			{e.c.HandlerA, false}, {e.c.Inspector, false}, {e.c.Grid, false}, {org.System, false},
		} {
			_, err := e.svc.Stats(e.ctx, x.a, from, to)
			if x.ok && err != nil {
				t.Errorf("Stats by %s: %v", x.a.Role, err)
			}
			if !x.ok {
				wantErr(t, err, apperr.Forbidden, "forbidden", "Stats by "+string(x.a.Role))
			}
		}
	})
}
