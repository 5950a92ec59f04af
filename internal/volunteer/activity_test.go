package volunteer_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"chuangwen/internal/apperr"
	"chuangwen/internal/geo"
	"chuangwen/internal/store"
	"chuangwen/internal/testcity"
	"chuangwen/internal/volunteer"
)

// TestCreateActivity: what an activity needs, and its defaults.
func TestCreateActivity(t *testing.T) {
	t.Parallel()
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx, c, s := e.ctx, e.c, e.svc
		starts := testcity.At(2026, 11, 20, 9, 0)
		good := volunteer.NewActivity{TeamID: e.teamA.ID, Kind: "traffic", Title: " 文明交通劝导 ", Description: " 路口 ", Address: " 河坊街路口 ",
			Lat: placeLat, Lon: placeLon, StartsAt: starts, EndsAt: starts.Add(3 * time.Hour), Capacity: 20}
		for _, x := range []struct {
			name string
			edit func(*volunteer.NewActivity)
			key  string
		}{
			{"latitude 91", func(n *volunteer.NewActivity) { n.Lat = 91 }, "bad_coord"},
			{"longitude -181", func(n *volunteer.NewActivity) { n.Lon = -181 }, "bad_coord"},
			{"null island", func(n *volunteer.NewActivity) { n.Lat, n.Lon = 0, 0 }, "bad_coord"},
			{"NaN", func(n *volunteer.NewActivity) { n.Lat = math.NaN() }, "bad_coord"},
			{"end before start", func(n *volunteer.NewActivity) { n.EndsAt = starts.Add(-time.Minute) }, "volunteer.times_bad"},
			{"end at start", func(n *volunteer.NewActivity) { n.EndsAt = starts }, "volunteer.times_bad"},
			{"no start", func(n *volunteer.NewActivity) { n.StartsAt = time.Time{} }, "volunteer.times_bad"},
			{"over a day", func(n *volunteer.NewActivity) { n.EndsAt = starts.Add(24*time.Hour + time.Minute) }, "volunteer.too_long"},
			{"capacity 0", func(n *volunteer.NewActivity) { n.Capacity = 0 }, "volunteer.capacity_bad"},
			{"capacity -1", func(n *volunteer.NewActivity) { n.Capacity = -1 }, "volunteer.capacity_bad"},
			{"capacity 10001", func(n *volunteer.NewActivity) { n.Capacity = 10001 }, "volunteer.capacity_bad"},
			{"no title", func(n *volunteer.NewActivity) { n.Title = " " }, "volunteer.name_required"},
			{"long title", func(n *volunteer.NewActivity) { n.Title = strings.Repeat("题", 65) }, "volunteer.name_too_long"},
			{"no address", func(n *volunteer.NewActivity) { n.Address = "" }, "volunteer.address_bad"},
			{"long description", func(n *volunteer.NewActivity) { n.Description = strings.Repeat("字", 2001) }, "volunteer.description_too_long"},
			{"unknown kind", func(n *volunteer.NewActivity) { n.Kind = "party" }, "volunteer.kind_bad"},
			{"radius 9", func(n *volunteer.NewActivity) { n.RadiusM = 9 }, "volunteer.radius_bad"},
			{"radius 10001", func(n *volunteer.NewActivity) { n.RadiusM = 10001 }, "volunteer.radius_bad"},
			{"unknown region", func(n *volunteer.NewActivity) { n.RegionID = 999999 }, "volunteer.region_outside"},
			{"another district", func(n *volunteer.NewActivity) { n.RegionID = e.c.District2.ID }, "volunteer.region_outside"},
			{"the city above the team", func(n *volunteer.NewActivity) { n.RegionID = e.c.City.ID }, "volunteer.region_outside"},
		} {
			na := good
			x.edit(&na)
			_, err := s.CreateActivity(ctx, e.coordA, na)
			wantErr(t, err, apperr.Invalid, x.key, x.name)
		}
		if n := e.count(`SELECT COUNT(*) FROM activities`); n != 0 {
			t.Fatalf("%d activities stored by refused creations", n)
		}

		a, err := s.CreateActivity(ctx, e.coordA, good)
		must(t, err, "CreateActivity")
		if a.Title != "文明交通劝导" || a.Address != "河坊街路口" || a.Description != "路口" || a.RadiusM != 300 || a.RegionID != c.Street1.ID || len(a.CheckinToken) < 20 {
			t.Errorf("created = %+v", a)
		}
		edge := good
		edge.EndsAt, edge.Capacity, edge.RadiusM, edge.RegionID = starts.Add(24*time.Hour), 10000, 10, c.Community1.ID
		b, err := s.CreateActivity(ctx, e.coordA, edge)
		must(t, err, "CreateActivity at the limits")
		if b.CheckinToken == a.CheckinToken {
			t.Error("two activities share a QR token")
		}
		got, err := s.Activity(ctx, e.coordA, b.ID)
		must(t, err, "Activity")
		if got.RegionID != c.Community1.ID || got.Region != c.Community1.Name || got.RadiusM != 10 || got.Capacity != 10000 || !got.EndsAt.Equal(edge.EndsAt) ||
			got.Team != e.teamA.Name || got.CheckinToken != b.CheckinToken || got.SignedUp != 0 || got.Cancelled {
			t.Errorf("Activity = %+v", got)
		}
		if n := e.events("volunteer.activity_create"); n != 2 {
			t.Errorf("%d creations on the trail, want 2", n)
		}

		// the public views hide the token
		pub, err := s.PublicActivity(ctx, a.ID)
		must(t, err, "PublicActivity")
		if pub.CheckinToken != "" || pub.Title != a.Title {
			t.Errorf("PublicActivity = %+v", pub)
		}
		byToken, err := s.ActivityByToken(ctx, a.CheckinToken)
		must(t, err, "ActivityByToken")
		if byToken.ID != a.ID || byToken.CheckinToken != "" {
			t.Errorf("ActivityByToken = %+v", byToken)
		}
		for _, bad := range []string{"", "nope", strings.Repeat("a", 65)} {
			_, err := s.ActivityByToken(ctx, bad)
			wantErr(t, err, apperr.NotFound, "volunteer.qr_unknown", "ActivityByToken("+bad+")")
		}
		_, err = s.PublicActivity(ctx, 999999)
		wantErr(t, err, apperr.NotFound, "not_found", "PublicActivity of nothing")
	})
}

// TestSignUp: a second sign-up is no error; a full activity refuses; a
// cancelled or ended one too; withdrawing frees the place; Upcoming.
func TestSignUp(t *testing.T) {
	t.Parallel()
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx, c, s := e.ctx, e.c, e.svc
		v1, v2 := e.volunteer(e.teamA, "钱一"), e.volunteer(e.teamB, "钱二")
		starts := testcity.At(2026, 11, 16, 14, 0)
		one := e.activity(e.coordA, e.teamA, "一个名额", starts, starts.Add(2*time.Hour), 1)
		other := e.activity(e.coordB, e.teamB, "乙队活动", starts.Add(time.Hour), starts.Add(2*time.Hour), 5)

		must(t, s.SignUp(ctx, v1, one.ID), "SignUp")
		must(t, s.SignUp(ctx, v1, one.ID), "SignUp again")
		wantErr(t, s.SignUp(ctx, v2, one.ID), apperr.Conflict, "volunteer.activity_full", "SignUp when full")
		must(t, s.SignUp(ctx, v1, one.ID), "SignUp again when full")
		if a, _ := s.Activity(ctx, c.Admin, one.ID); a.SignedUp != 1 {
			t.Errorf("SignedUp = %d, want 1", a.SignedUp)
		}
		wantErr(t, s.SignUp(ctx, v1, 999999), apperr.NotFound, "not_found", "SignUp for nothing")

		// Upcoming: own team's first, signed-up flags, no tokens
		list, signed, err := s.Upcoming(ctx, v2)
		must(t, err, "Upcoming")
		if len(list) != 2 || list[0].ID != other.ID || list[1].ID != one.ID || signed[0] || signed[1] {
			t.Errorf("Upcoming(v2) = %v %v", list, signed)
		}
		list, signed, err = s.Upcoming(ctx, v1)
		must(t, err, "Upcoming")
		if len(list) != 2 || list[0].ID != one.ID || !signed[0] || signed[1] {
			t.Errorf("Upcoming(v1) = %v %v", list, signed)
		}
		for _, a := range list {
			if a.CheckinToken != "" {
				t.Errorf("Upcoming shows the token of %s", a.Title)
			}
		}

		must(t, s.Withdraw(ctx, v1, one.ID), "Withdraw")
		must(t, s.SignUp(ctx, v2, one.ID), "SignUp after a place freed")

		// cancelled: no sign-up, not upcoming, not cancelled twice
		wantErr(t, s.CancelActivity(ctx, e.coordA, other.ID), apperr.NotFound, "not_found", "coordA cancels teamB's")
		must(t, s.CancelActivity(ctx, e.coordB, other.ID), "CancelActivity")
		wantErr(t, s.CancelActivity(ctx, e.coordB, other.ID), apperr.Conflict, "volunteer.activity_over", "cancel twice")
		wantErr(t, s.SignUp(ctx, v1, other.ID), apperr.Conflict, "volunteer.activity_cancelled", "SignUp when cancelled")
		if list, _, _ := s.Upcoming(ctx, v1); len(list) != 1 || list[0].ID != one.ID {
			t.Errorf("Upcoming after the cancellation = %v", list)
		}
		if a, _ := s.Activity(ctx, c.Admin, other.ID); !a.Cancelled {
			t.Error("cancelled activity not marked")
		}

		// ended: no sign-up, no cancellation, not upcoming
		e.at(starts.Add(2 * time.Hour))
		wantErr(t, s.SignUp(ctx, v1, one.ID), apperr.Conflict, "volunteer.activity_over", "SignUp after the end")
		wantErr(t, s.CancelActivity(ctx, e.coordA, one.ID), apperr.Conflict, "volunteer.activity_over", "cancel after the end")
		if list, _, _ := s.Upcoming(ctx, v1); len(list) != 0 {
			t.Errorf("Upcoming after the end = %v", list)
		}
	})
}

// TestCapacityConcurrent: N+5 volunteers signing up at once for N places
// leave exactly N sign-ups; the others are told the activity is full.
func TestCapacityConcurrent(t *testing.T) {
	t.Parallel()
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		const places = 3
		var ids []int64
		for i := range places + 5 {
			ids = append(ids, e.volunteer(e.teamA, fmt.Sprintf("志愿者%d", i)))
		}
		starts := testcity.At(2026, 11, 16, 14, 0)
		a := e.activity(e.coordA, e.teamA, "限额活动", starts, starts.Add(2*time.Hour), places)

		errs := make([]error, len(ids))
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, id := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs[i] = e.svc.SignUp(context.Background(), id, a.ID)
			}()
		}
		close(start)
		wg.Wait()
		ok, full := 0, 0
		for i, err := range errs {
			switch {
			case err == nil:
				ok++
			case apperr.Is(err, apperr.Conflict) && err.(*apperr.Error).Key == "volunteer.activity_full":
				full++
			default:
				t.Errorf("volunteer %d: %v", ids[i], err)
			}
		}
		if ok != places || full != 5 {
			t.Errorf("%d signed up and %d told full, want %d and 5", ok, full, places)
		}
		if n := e.count(`SELECT COUNT(*) FROM activity_signups WHERE activity_id = ?`, a.ID); n != places {
			t.Errorf("%d sign-ups stored, want %d", n, places)
		}
		if got, _ := e.svc.Activity(e.ctx, e.c.Admin, a.ID); got.SignedUp != places {
			t.Errorf("SignedUp = %d, want %d", got.SignedUp, places)
		}
		// a walk-in at the full activity is refused too
		var walkIn int64
		for i, err := range errs {
			if err != nil {
				walkIn = ids[i]
				break
			}
		}
		e.at(starts)
		_, err := e.svc.CheckIn(e.ctx, walkIn, a.CheckinToken, here)
		wantErr(t, err, apperr.Conflict, "volunteer.activity_full", "walk-in at a full activity")
		if n := e.count(`SELECT COUNT(*) FROM service_records WHERE activity_id = ?`, a.ID); n != 0 {
			t.Errorf("%d records after a refused walk-in", n)
		}
	})
}

// TestCheckInOut: the window, the distance, repeated check-ins and
// check-outs, minutes clipped to the activity, a cancelled activity.
func TestCheckInOut(t *testing.T) {
	t.Parallel()
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx, s := e.ctx, e.svc
		var v [6]int64
		for i := range v {
			v[i] = e.volunteer(e.teamA, fmt.Sprintf("周%d", i))
		}
		starts := testcity.At(2026, 11, 16, 10, 0)
		ends := starts.Add(2 * time.Hour)
		a := e.activity(e.coordA, e.teamA, "河坊街清扫", starts, ends, 10) // radius 300 m
		for _, id := range v[:4] {
			must(t, s.SignUp(ctx, id, a.ID), "SignUp")
		}
		tok := a.CheckinToken

		// too early: opens 30 minutes before the start
		e.at(starts.Add(-31 * time.Minute))
		_, err := s.CheckIn(ctx, v[0], tok, here)
		if wantErr(t, err, apperr.Conflict, "volunteer.checkin_early", "31 minutes early") && errArg(err, "time") != "11-16 09:30" {
			t.Errorf("checkin_early time = %q, want 11-16 09:30 (Shanghai)", errArg(err, "time"))
		}
		e.at(starts.Add(-30*time.Minute - time.Second))
		_, err = s.CheckIn(ctx, v[0], tok, here)
		wantErr(t, err, apperr.Conflict, "volunteer.checkin_early", "a second before the window")

		// the window opens; the distance counts
		open := starts.Add(-30 * time.Minute)
		e.at(open)
		_, err = s.CheckIn(ctx, v[0], tok, north(1000, 10))
		if wantErr(t, err, apperr.Conflict, "volunteer.too_far", "1 km away") && (errArg(err, "distance") != "1000" || errArg(err, "radius") != "300") {
			t.Errorf("too_far args = %v", err)
		}
		_, err = s.CheckIn(ctx, v[0], tok, north(350, 20))
		wantErr(t, err, apperr.Conflict, "volunteer.too_far", "350 m, 20 m accuracy")
		_, err = s.CheckIn(ctx, v[0], tok, north(450, 500)) // accuracy counts up to 100 m
		wantErr(t, err, apperr.Conflict, "volunteer.too_far", "450 m, 500 m accuracy")
		for _, p := range []volunteer.Position{{}, {Lat: 91, Lon: placeLon}, {Lat: placeLat, Lon: placeLon, AccuracyM: -1}, {Lat: placeLat, Lon: placeLon, AccuracyM: math.NaN()}} {
			_, err = s.CheckIn(ctx, v[0], tok, p)
			wantErr(t, err, apperr.Invalid, "volunteer.position_required", fmt.Sprintf("position %+v", p))
		}
		_, err = s.CheckIn(ctx, v[0], "no-such-token", here)
		wantErr(t, err, apperr.NotFound, "volunteer.qr_unknown", "unknown QR")
		if n := e.count(`SELECT COUNT(*) FROM service_records`); n != 0 {
			t.Fatalf("%d records after refused check-ins", n)
		}

		in0, err := s.CheckIn(ctx, v[0], tok, north(250, 0))
		must(t, err, "check-in at 250 m")
		if !in0.At.Equal(open) || in0.Again || in0.DistanceM < 249 || in0.DistanceM > 251 || in0.Activity.ID != a.ID || in0.Activity.CheckinToken != "" {
			t.Errorf("check-in = %+v", in0)
		}
		if d := geo.Distance(geo.Point{Lat: north(250, 0).Lat, Lon: placeLon}, geo.Point{Lat: placeLat, Lon: placeLon}); math.Abs(d-250) > 1 {
			t.Fatalf("test position is %.1f m away, not 250", d)
		}
		in1, err := s.CheckIn(ctx, v[1], tok, north(380, 90)) // 380 - 90 = 290 m
		must(t, err, "check-in at 380 m with 90 m accuracy")
		if in1.DistanceM < 379 || in1.DistanceM > 381 {
			t.Errorf("distance = %d, want 380", in1.DistanceM)
		}

		// again: the first time stands
		e.at(starts.Add(-10 * time.Minute))
		again, err := s.CheckIn(ctx, v[0], tok, here)
		must(t, err, "check-in again")
		if !again.Again || !again.At.Equal(open) {
			t.Errorf("second check-in = %+v, want Again at %v", again, open)
		}
		if n := e.count(`SELECT COUNT(*) FROM service_records WHERE volunteer_id = ?`, v[0]); n != 1 {
			t.Errorf("%d records after two check-ins", n)
		}

		// a walk-in is signed up on check-in
		e.at(starts.Add(20 * time.Minute))
		e.checkIn(v[4], a)
		if r := e.row(a.ID, v[4]); r.SignedUpAt.IsZero() || r.RecordID == 0 {
			t.Errorf("walk-in's row = %+v", r)
		}
		e.checkIn(v[2], a)

		// check-out needs a check-in
		_, err = s.CheckOut(ctx, v[3], tok, here)
		wantErr(t, err, apperr.Conflict, "volunteer.not_checked_in", "check-out without check-in")
		_, err = s.CheckOut(ctx, v[0], tok, north(1000, 0))
		wantErr(t, err, apperr.Conflict, "volunteer.too_far", "check-out 1 km away")

		// in at 09:30, out at 11:15: 75 minutes from the start
		e.at(starts.Add(75 * time.Minute))
		out0 := e.checkOut(v[0], a)
		if out0.Minutes != 75 || out0.Again || !out0.At.Equal(starts.Add(75*time.Minute)) {
			t.Errorf("check-out = %+v, want 75 minutes", out0)
		}
		e.at(starts.Add(80 * time.Minute))
		again, err = s.CheckOut(ctx, v[0], tok, here)
		must(t, err, "check-out again")
		if !again.Again || again.Minutes != 75 || !again.At.Equal(starts.Add(75*time.Minute)) {
			t.Errorf("second check-out = %+v, want Again with 75 minutes at 11:15", again)
		}

		// after the end: no check-in; check-out until an hour after it,
		// the minutes clipped at the end
		e.at(ends)
		_, err = s.CheckIn(ctx, v[3], tok, here)
		wantErr(t, err, apperr.Conflict, "volunteer.checkin_late", "check-in at the end")
		e.at(ends.Add(30 * time.Minute))
		if out := e.checkOut(v[4], a); out.Minutes != 100 { // in 10:20, clipped at 12:00
			t.Errorf("walk-in's check-out = %d minutes, want 100", out.Minutes)
		}
		e.at(ends.Add(time.Hour))
		if out := e.checkOut(v[1], a); out.Minutes != 120 { // in 09:30 … 13:00, clipped to 10:00–12:00
			t.Errorf("check-out an hour after the end = %d minutes, want 120", out.Minutes)
		}
		e.at(ends.Add(time.Hour + time.Second))
		_, err = s.CheckOut(ctx, v[2], tok, here)
		wantErr(t, err, apperr.Conflict, "volunteer.checkout_late", "check-out over an hour after the end")

		// the sheet
		sheet, err := s.Attendance(ctx, e.coordA, a.ID)
		must(t, err, "Attendance")
		if len(sheet) != 5 { // v0–v4: four signed up, one walk-in
			t.Errorf("sheet has %d rows, want 5", len(sheet))
		}
		r0 := e.row(a.ID, v[0])
		if r0.Minutes != 75 || !r0.CheckinAt.Equal(open) || r0.CheckinM != 250 || r0.CheckoutM != 0 || !strings.Contains(r0.Phone, "****") || !r0.ConfirmedAt.IsZero() {
			t.Errorf("v0's row = %+v", r0)
		}
		if r3 := e.row(a.ID, v[3]); r3.RecordID != 0 || !r3.CheckinAt.IsZero() {
			t.Errorf("signed-up-only row = %+v", r3)
		}
		if r2 := e.row(a.ID, v[2]); r2.RecordID == 0 || !r2.CheckoutAt.IsZero() || r2.Minutes != 0 {
			t.Errorf("checked-in-only row = %+v", r2)
		}
		_, _, recs, err := s.Mine(ctx, v[0])
		must(t, err, "Mine")
		if len(recs) != 1 || recs[0].ActivityID != a.ID || recs[0].Minutes != 75 || recs[0].Confirmed || !recs[0].CheckoutAt.Equal(starts.Add(75*time.Minute)) {
			t.Errorf("Mine's records = %+v", recs)
		}
		wantErr(t, s.Withdraw(ctx, v[0], a.ID), apperr.Conflict, "volunteer.already_in", "withdraw after check-in")

		// a cancelled activity takes no check-in
		b := e.activity(e.coordA, e.teamA, "取消的活动", ends.Add(2*time.Hour), ends.Add(4*time.Hour), 10)
		must(t, s.SignUp(ctx, v[5], b.ID), "SignUp")
		must(t, s.CancelActivity(ctx, e.coordA, b.ID), "CancelActivity")
		e.at(b.StartsAt)
		_, err = s.CheckIn(ctx, v[5], b.CheckinToken, here)
		wantErr(t, err, apperr.Conflict, "volunteer.activity_cancelled", "check-in at a cancelled activity")
	})
}

// TestCheckInConcurrent: the same phone checking in twice at once (a
// retried request) records one check-in; both answers succeed, the
// second as Again with the first's time. On PostgreSQL the two requests
// are made to meet in the window the code handles ("the same phone's
// retry committed first"): both have looked for a record before either
// has written one.
func TestCheckInConcurrent(t *testing.T) {
	t.Parallel()
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := e.ctx
		vid := e.volunteer(e.teamA, "吴一")
		starts := testcity.At(2026, 11, 16, 10, 0)
		a := e.activity(e.coordA, e.teamA, "同时签到", starts, starts.Add(2*time.Hour), 10)
		first := starts.Add(-5 * time.Minute)
		e.at(first)

		type result struct {
			c   volunteer.Check
			err error
		}
		results := make(chan result, 2)
		checkIn := func() {
			c, err := e.svc.CheckIn(context.Background(), vid, a.CheckinToken, here)
			results <- result{c, err}
		}
		if db.Dialect == store.Postgres {
			// hold the activity's row, as another sign-up would, so that
			// both requests pass their look for a record and queue for it
			locked, release, done := make(chan error, 1), make(chan struct{}), make(chan error, 1)
			go func() {
				done <- db.WithTx(ctx, func(tx *store.Tx) error {
					var id int64
					err := tx.QueryRow(ctx, `SELECT id FROM activities WHERE id = ? FOR UPDATE`, a.ID).Scan(&id)
					locked <- err
					<-release
					return err
				})
			}()
			must(t, <-locked, "lock the activity")
			go checkIn()
			waitLockWaiters(t, db, 1)
			e.at(first.Add(time.Minute)) // the retry a minute later
			go checkIn()
			waitLockWaiters(t, db, 2)
			close(release)
			must(t, <-done, "release the activity")
		} else {
			go checkIn()
			go checkIn()
		}
		r1, r2 := <-results, <-results
		for _, r := range []result{r1, r2} {
			if r.err != nil {
				t.Errorf("concurrent check-in: %v", r.err)
			}
		}
		if t.Failed() {
			return
		}
		if r1.c.Again == r2.c.Again {
			t.Errorf("Again = %v and %v, want exactly one", r1.c.Again, r2.c.Again)
		}
		rec := e.row(a.ID, vid)
		for _, r := range []result{r1, r2} {
			if !r.c.At.Equal(rec.CheckinAt) {
				t.Errorf("answer says checked in at %v (Again %v), the record at %v", r.c.At, r.c.Again, rec.CheckinAt)
			}
		}
		if n := e.count(`SELECT COUNT(*) FROM service_records WHERE volunteer_id = ?`, vid); n != 1 {
			t.Errorf("%d records, want 1", n)
		}
	})
}

// TestWithdraw: Withdraw's comment says a volunteer comes off an activity
// "before it starts (not after checking in)": after the start (or the
// end) the sign-up stays, so that a no-show cannot be erased.
func TestWithdraw(t *testing.T) {
	t.Parallel()
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx, s := e.ctx, e.svc
		vid := e.volunteer(e.teamA, "陈一")
		starts := testcity.At(2026, 11, 16, 10, 0)
		a := e.activity(e.coordA, e.teamA, "退出", starts, starts.Add(2*time.Hour), 10)
		must(t, s.SignUp(ctx, vid, a.ID), "SignUp")
		must(t, s.Withdraw(ctx, vid, a.ID), "Withdraw before the start")
		if n := e.count(`SELECT COUNT(*) FROM activity_signups WHERE activity_id = ?`, a.ID); n != 0 {
			t.Errorf("%d sign-ups after withdrawing", n)
		}
		must(t, s.SignUp(ctx, vid, a.ID), "SignUp again")
		e.at(starts.Add(3 * time.Hour)) // ended, never came
		if err := s.Withdraw(ctx, vid, a.ID); !apperr.Is(err, apperr.Conflict) {
			t.Errorf("Withdraw after the activity ended = %v, want a Conflict", err)
		}
		if n := e.count(`SELECT COUNT(*) FROM activity_signups WHERE activity_id = ?`, a.ID); n != 1 {
			t.Errorf("%d sign-ups after a withdrawal past the start, want the no-show's 1", n)
		}
	})
}
