package volunteer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"chuangwen/internal/apperr"
	"chuangwen/internal/geo"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
)

// Activity kinds (the usual ones of a practice network).
var Kinds = []string{"persuasion", "environment", "traffic", "care", "publicity", "other"}

// Activity is a team's activity.
type Activity struct {
	ID          int64     `json:"id"`
	TeamID      int64     `json:"team_id"`
	Team        string    `json:"team"`
	Kind        string    `json:"kind"`
	Title       string    `json:"title"`
	Description string    `json:"description,omitempty"`
	Address     string    `json:"address"`
	Lat         float64   `json:"lat"`
	Lon         float64   `json:"lon"`
	RegionID    int64     `json:"region_id"`
	Region      string    `json:"region"`
	SiteCode    string    `json:"site_code,omitempty"` // the assessment site it serves, if any
	Site        string    `json:"site,omitempty"`
	StartsAt    time.Time `json:"starts_at"`
	EndsAt      time.Time `json:"ends_at"`
	Capacity    int       `json:"capacity"`
	RadiusM     int       `json:"radius_m"`
	SignedUp    int       `json:"signed_up"`
	Cancelled   bool      `json:"cancelled"`
	// CheckinToken is the secret in the activity's QR code; only its
	// organisers see it.
	CheckinToken string `json:"checkin_token,omitempty"`
}

// NewActivity is an activity to create.
type NewActivity struct {
	TeamID      int64   `json:"team_id"`
	Kind        string  `json:"kind"`
	Title       string  `json:"title"`
	Description string  `json:"description"`
	Address     string  `json:"address"`
	Lat         float64 `json:"lat"`
	Lon         float64 `json:"lon"`
	RegionID    int64   `json:"region_id"` // 0: the team's region
	// SiteCode names an assessment site (测评点位) the activity serves, e.g.
	// civility persuasion at a crossing: its place, address and region
	// are taken where the activity gives none.
	SiteCode string    `json:"site_code,omitempty"`
	StartsAt time.Time `json:"starts_at"`
	EndsAt   time.Time `json:"ends_at"`
	Capacity int       `json:"capacity"`
	RadiusM  int       `json:"radius_m"` // 0: the settings' default
}

// CreateActivity adds an activity of a team actor manages.
func (s *Service) CreateActivity(ctx context.Context, actor org.Actor, na NewActivity) (Activity, error) {
	if err := s.manages(ctx, actor, na.TeamID); err != nil {
		return Activity{}, err
	}
	na.Title, na.Address, na.Description = strings.TrimSpace(na.Title), strings.TrimSpace(na.Address), strings.TrimSpace(na.Description)
	var siteID int64
	if code := strings.TrimSpace(na.SiteCode); code != "" {
		var name, addr string
		var region int64
		var lat, lon sql.NullFloat64
		err := s.DB.Reader().QueryRow(ctx, `SELECT id, name, address, region_id, lat, lon FROM assess_sites WHERE code = ? AND active = TRUE`, code).Scan(&siteID, &name, &addr, &region, &lat, &lon)
		if errors.Is(err, sql.ErrNoRows) {
			return Activity{}, apperr.New(apperr.Invalid, "volunteer.site_unknown", "code", code)
		}
		if err != nil {
			return Activity{}, err
		}
		if na.Address == "" {
			na.Address = strings.TrimSpace(name + " " + addr)
		}
		if na.Lat == 0 && na.Lon == 0 && lat.Valid && lon.Valid {
			na.Lat, na.Lon = lat.Float64, lon.Float64
		}
		if na.RegionID == 0 {
			na.RegionID = region
		}
	}
	if err := checkName(na.Title, 64); err != nil {
		return Activity{}, err
	}
	if na.Address == "" || utf8.RuneCountInString(na.Address) > 128 {
		return Activity{}, apperr.New(apperr.Invalid, "volunteer.address_bad")
	}
	if utf8.RuneCountInString(na.Description) > 2000 {
		return Activity{}, apperr.New(apperr.Invalid, "volunteer.description_too_long")
	}
	if !validKind(na.Kind) {
		return Activity{}, apperr.New(apperr.Invalid, "volunteer.kind_bad")
	}
	if !geo.Valid(geo.Point{Lon: na.Lon, Lat: na.Lat}) || (na.Lat == 0 && na.Lon == 0) {
		return Activity{}, apperr.New(apperr.Invalid, "bad_coord")
	}
	if na.StartsAt.IsZero() || !na.EndsAt.After(na.StartsAt) {
		return Activity{}, apperr.New(apperr.Invalid, "volunteer.times_bad")
	}
	if na.EndsAt.Sub(na.StartsAt) > 24*time.Hour {
		return Activity{}, apperr.New(apperr.Invalid, "volunteer.too_long")
	}
	if na.Capacity < 1 || na.Capacity > 10000 {
		return Activity{}, apperr.New(apperr.Invalid, "volunteer.capacity_bad")
	}
	st, err := s.Settings(ctx)
	if err != nil {
		return Activity{}, err
	}
	if na.RadiusM == 0 {
		na.RadiusM = st.RadiusM
	}
	if na.RadiusM < 10 || na.RadiusM > 10000 {
		return Activity{}, apperr.New(apperr.Invalid, "volunteer.radius_bad")
	}
	var a Activity
	err = s.DB.WithTx(ctx, func(tx *store.Tx) error {
		if na.RegionID == 0 {
			if err := tx.QueryRow(ctx, `SELECT region_id FROM volunteer_teams WHERE id = ?`, na.TeamID).Scan(&na.RegionID); err != nil {
				return err
			}
		} else {
			// within the team's own area: a team does not add to another
			// district's statistics
			var n int
			if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM regions g, regions tr, volunteer_teams t
				WHERE g.id = ? AND t.id = ? AND tr.id = t.region_id AND g.path LIKE tr.path || '%'`, na.RegionID, na.TeamID).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return apperr.New(apperr.Invalid, "volunteer.region_outside")
			}
		}
		token := org.RandomToken(18)
		id, err := store.InsertID(ctx, tx, `INSERT INTO activities (team_id, kind, title, description, address, lat, lon, region_id, site_id, starts_at, ends_at, capacity, radius_m, checkin_token, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			na.TeamID, na.Kind, na.Title, na.Description, na.Address, na.Lat, na.Lon, na.RegionID, nullID(siteID), store.Ms(na.StartsAt), store.Ms(na.EndsAt), na.Capacity, na.RadiusM, token, nullID(actor.UserID), store.Ms(s.now()))
		if err != nil {
			return err
		}
		a = Activity{ID: id, TeamID: na.TeamID, Kind: na.Kind, Title: na.Title, Description: na.Description, Address: na.Address, Lat: na.Lat, Lon: na.Lon,
			RegionID: na.RegionID, SiteCode: strings.TrimSpace(na.SiteCode), StartsAt: na.StartsAt, EndsAt: na.EndsAt, Capacity: na.Capacity, RadiusM: na.RadiusM, CheckinToken: token}
		return s.log(ctx, tx, actor, "volunteer.activity_create", map[string]any{"activity_id": id, "team_id": na.TeamID, "title": na.Title})
	})
	return a, err
}

func validKind(k string) bool {
	for _, x := range Kinds {
		if x == k {
			return true
		}
	}
	return false
}

// CancelActivity cancels an activity that has not ended; sign-ups stay
// on record, check-ins stop.
func (s *Service) CancelActivity(ctx context.Context, actor org.Actor, id int64) error {
	a, err := s.Activity(ctx, actor, id)
	if err != nil {
		return err
	}
	if a.Cancelled || !s.now().Before(a.EndsAt) {
		return apperr.New(apperr.Conflict, "volunteer.activity_over")
	}
	return s.DB.WithTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE activities SET cancelled_at = ? WHERE id = ?`, store.Ms(s.now()), id); err != nil {
			return err
		}
		return s.log(ctx, tx, actor, "volunteer.activity_cancel", map[string]int64{"activity_id": id})
	})
}

const activityCols = `a.id, a.team_id, t.name, a.kind, a.title, a.description, a.address, a.lat, a.lon, a.region_id, g.name, COALESCE(st.code, ''), COALESCE(st.name, ''),
	a.starts_at, a.ends_at, a.capacity, a.radius_m, (SELECT COUNT(*) FROM activity_signups x WHERE x.activity_id = a.id), a.cancelled_at, a.checkin_token`

const activityFrom = ` FROM activities a JOIN volunteer_teams t ON t.id = a.team_id JOIN regions g ON g.id = a.region_id LEFT JOIN assess_sites st ON st.id = a.site_id`

func scanActivity(r store.Scanner) (Activity, error) {
	var a Activity
	var starts, ends, cancelled int64
	err := r.Scan(&a.ID, &a.TeamID, &a.Team, &a.Kind, &a.Title, &a.Description, &a.Address, &a.Lat, &a.Lon, &a.RegionID, &a.Region, &a.SiteCode, &a.Site,
		&starts, &ends, &a.Capacity, &a.RadiusM, &a.SignedUp, &cancelled, &a.CheckinToken)
	a.StartsAt, a.EndsAt, a.Cancelled = store.Time(starts), store.Time(ends), cancelled != 0
	return a, err
}

// Activities lists the activities of the teams actor manages, latest
// start first, optionally of one team.
func (s *Service) Activities(ctx context.Context, actor org.Actor, teamID int64, limit int) ([]Activity, error) {
	cond, args, err := s.teamScope(ctx, actor, "t")
	if err != nil {
		return nil, err
	}
	if teamID != 0 {
		cond += " AND a.team_id = ?"
		args = append(args, teamID)
	}
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	return store.Collect(ctx, s.DB.Reader(), scanActivity, `SELECT `+activityCols+activityFrom+` WHERE `+cond+` ORDER BY a.starts_at DESC LIMIT ?`, append(args, limit)...)
}

// Activity returns one activity of a team actor manages, with its QR token.
func (s *Service) Activity(ctx context.Context, actor org.Actor, id int64) (Activity, error) {
	cond, args, err := s.teamScope(ctx, actor, "t")
	if err != nil {
		return Activity{}, err
	}
	a, err := scanActivity(s.DB.Reader().QueryRow(ctx, `SELECT `+activityCols+activityFrom+` WHERE a.id = ? AND `+cond, append([]any{id}, args...)...))
	if errors.Is(err, sql.ErrNoRows) {
		return Activity{}, apperr.New(apperr.NotFound, "not_found")
	}
	return a, err
}

// Upcoming lists the activities a volunteer may sign up for: not
// cancelled, not yet ended; their own team's first. No QR tokens.
func (s *Service) Upcoming(ctx context.Context, volunteerID int64) ([]Activity, []bool, error) {
	now := store.Ms(s.now())
	var teamID int64
	if err := s.DB.Reader().QueryRow(ctx, `SELECT team_id FROM volunteers WHERE id = ?`, volunteerID).Scan(&teamID); err != nil {
		return nil, nil, err
	}
	list, err := store.Collect(ctx, s.DB.Reader(), scanActivity, `SELECT `+activityCols+activityFrom+`
		WHERE a.cancelled_at = 0 AND a.ends_at > ? ORDER BY CASE WHEN a.team_id = ? THEN 0 ELSE 1 END, a.starts_at LIMIT 100`, now, teamID)
	if err != nil {
		return nil, nil, err
	}
	mine, err := store.Int64s(ctx, s.DB.Reader(), `SELECT x.activity_id FROM activity_signups x JOIN activities a ON a.id = x.activity_id WHERE x.volunteer_id = ? AND a.ends_at > ?`, volunteerID, now)
	if err != nil {
		return nil, nil, err
	}
	signed := make([]bool, len(list))
	for i := range list {
		list[i].CheckinToken = ""
		for _, id := range mine {
			signed[i] = signed[i] || id == list[i].ID
		}
	}
	return list, signed, nil
}

// PublicActivity returns an activity as a volunteer sees it (no token).
func (s *Service) PublicActivity(ctx context.Context, id int64) (Activity, error) {
	a, err := scanActivity(s.DB.Reader().QueryRow(ctx, `SELECT `+activityCols+activityFrom+` WHERE a.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Activity{}, apperr.New(apperr.NotFound, "not_found")
	}
	a.CheckinToken = ""
	return a, err
}

// ActivityByToken returns the activity a QR code names (no token).
func (s *Service) ActivityByToken(ctx context.Context, token string) (Activity, error) {
	if token == "" || len(token) > 64 {
		return Activity{}, apperr.New(apperr.NotFound, "volunteer.qr_unknown")
	}
	a, err := scanActivity(s.DB.Reader().QueryRow(ctx, `SELECT `+activityCols+activityFrom+` WHERE a.checkin_token = ?`, token))
	if errors.Is(err, sql.ErrNoRows) {
		return Activity{}, apperr.New(apperr.NotFound, "volunteer.qr_unknown")
	}
	a.CheckinToken = ""
	return a, err
}

// SignUp puts a volunteer on an activity's list while places remain. A
// second sign-up is no error (a retried tap on a weak network).
func (s *Service) SignUp(ctx context.Context, volunteerID, activityID int64) error {
	return s.DB.WithTx(ctx, func(tx *store.Tx) error {
		return s.signUp(ctx, tx, volunteerID, activityID)
	})
}

// signUp adds the sign-up in tx, the activity's row locked so that two
// last places are not both taken; a walk-in at a full activity is
// refused like a sign-up.
func (s *Service) signUp(ctx context.Context, tx *store.Tx, volunteerID, activityID int64) error {
	var capacity int
	var ends, cancelled int64
	err := tx.QueryRow(ctx, `SELECT capacity, ends_at, cancelled_at FROM activities WHERE id = ?`+tx.Dialect().ForUpdate(), activityID).Scan(&capacity, &ends, &cancelled)
	if errors.Is(err, sql.ErrNoRows) {
		return apperr.New(apperr.NotFound, "not_found")
	}
	if err != nil {
		return err
	}
	if cancelled != 0 {
		return apperr.New(apperr.Conflict, "volunteer.activity_cancelled")
	}
	if store.Ms(s.now()) >= ends {
		return apperr.New(apperr.Conflict, "volunteer.activity_over")
	}
	var one int
	err = tx.QueryRow(ctx, `SELECT 1 FROM activity_signups WHERE activity_id = ? AND volunteer_id = ?`, activityID, volunteerID).Scan(&one)
	if err == nil {
		return nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	var n int
	if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM activity_signups WHERE activity_id = ?`, activityID).Scan(&n); err != nil {
		return err
	}
	if n >= capacity {
		return apperr.New(apperr.Conflict, "volunteer.activity_full")
	}
	_, err = tx.Exec(ctx, `INSERT INTO activity_signups (activity_id, volunteer_id, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, activityID, volunteerID, store.Ms(s.now()))
	return err
}

// Withdraw takes a volunteer off an activity before it starts (not
// after checking in).
func (s *Service) Withdraw(ctx context.Context, volunteerID, activityID int64) error {
	return s.DB.WithTx(ctx, func(tx *store.Tx) error {
		var in int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM service_records WHERE activity_id = ? AND volunteer_id = ?`, activityID, volunteerID).Scan(&in); err != nil {
			return err
		}
		if in > 0 {
			return apperr.New(apperr.Conflict, "volunteer.already_in")
		}
		var starts int64
		if err := tx.QueryRow(ctx, `SELECT starts_at FROM activities WHERE id = ?`, activityID).Scan(&starts); errors.Is(err, sql.ErrNoRows) {
			return apperr.New(apperr.NotFound, "not_found")
		} else if err != nil {
			return err
		}
		if store.Ms(s.now()) >= starts {
			return apperr.New(apperr.Conflict, "volunteer.already_started")
		}
		_, err := tx.Exec(ctx, `DELETE FROM activity_signups WHERE activity_id = ? AND volunteer_id = ?`, activityID, volunteerID)
		return err
	})
}

// Position is where a phone says it is, in WGS-84, and how sure it is.
type Position struct {
	Lat, Lon  float64
	AccuracyM float64
}

// Check is the answer to a check-in or check-out.
type Check struct {
	Activity  Activity  `json:"activity"`
	At        time.Time `json:"at"`
	DistanceM int       `json:"distance_m"`
	Minutes   int       `json:"minutes,omitempty"` // at check-out
	Again     bool      `json:"again,omitempty"`   // already done: the first time stands
}

// CheckIn records a volunteer's arrival at the activity whose QR code
// holds token: within the window (from CheckinEarlyMin before the start
// until the end) and within the activity's radius of its place. A
// volunteer not signed up is signed up if a place remains. A second
// check-in answers the first.
func (s *Service) CheckIn(ctx context.Context, volunteerID int64, token string, pos Position) (Check, error) {
	a, dist, err := s.checkPlace(ctx, token, pos, false)
	if err != nil {
		return Check{}, err
	}
	now := s.now()
	c := Check{Activity: a, At: now, DistanceM: dist}
	// A retry (a weak network, a second tap) answers the first check-in,
	// whenever it arrives.
	var in int64
	err = s.DB.Reader().QueryRow(ctx, `SELECT checkin_at FROM service_records WHERE activity_id = ? AND volunteer_id = ?`, a.ID, volunteerID).Scan(&in)
	if err == nil {
		c.At, c.Again = store.Time(in), true
		return c, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return Check{}, err
	}
	st, err := s.Settings(ctx)
	if err != nil {
		return Check{}, err
	}
	opens := a.StartsAt.Add(-time.Duration(st.CheckinEarlyMin) * time.Minute)
	if now.Before(opens) {
		return Check{}, apperr.New(apperr.Conflict, "volunteer.checkin_early", "time", opens.In(s.Location).Format("01-02 15:04"))
	}
	if !now.Before(a.EndsAt) {
		return Check{}, apperr.New(apperr.Conflict, "volunteer.checkin_late")
	}
	err = s.DB.WithTx(ctx, func(tx *store.Tx) error {
		if err := s.signUp(ctx, tx, volunteerID, a.ID); err != nil {
			return err
		}
		var regionID int64
		if err := tx.QueryRow(ctx, `SELECT region_id FROM volunteers WHERE id = ?`, volunteerID).Scan(&regionID); err != nil {
			return err
		}
		// ON CONFLICT DO NOTHING: a retry that committed first leaves this
		// transaction usable (PostgreSQL aborts one on a violation), and
		// the first time is read back.
		res, err := tx.Exec(ctx, `INSERT INTO service_records (activity_id, volunteer_id, region_id, checkin_at, checkin_m) VALUES (?, ?, ?, ?, ?) ON CONFLICT (activity_id, volunteer_id) DO NOTHING`,
			a.ID, volunteerID, regionID, store.Ms(now), dist)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			if err := tx.QueryRow(ctx, `SELECT checkin_at FROM service_records WHERE activity_id = ? AND volunteer_id = ?`, a.ID, volunteerID).Scan(&in); err != nil {
				return err
			}
			c.At, c.Again = store.Time(in), true
		}
		return nil
	})
	return c, err
}

// CheckOut records a volunteer's departure: after their check-in, until
// CheckoutLateMin after the end, within the radius. The minutes served
// are the check-in to check-out span clipped to the activity's times. A
// second check-out answers the first.
func (s *Service) CheckOut(ctx context.Context, volunteerID int64, token string, pos Position) (Check, error) {
	// check-out stays open on a cancelled activity for those already in
	a, dist, err := s.checkPlace(ctx, token, pos, true)
	if err != nil {
		return Check{}, err
	}
	st, err := s.Settings(ctx)
	if err != nil {
		return Check{}, err
	}
	now := s.now()
	if now.After(a.EndsAt.Add(time.Duration(st.CheckoutLateMin) * time.Minute)) {
		return Check{}, apperr.New(apperr.Conflict, "volunteer.checkout_late")
	}
	c := Check{Activity: a, At: now, DistanceM: dist}
	err = s.DB.WithTx(ctx, func(tx *store.Tx) error {
		var id, in, out int64
		var minutes int
		err := tx.QueryRow(ctx, `SELECT id, checkin_at, checkout_at, minutes FROM service_records WHERE activity_id = ? AND volunteer_id = ?`+tx.Dialect().ForUpdate(), a.ID, volunteerID).Scan(&id, &in, &out, &minutes)
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.New(apperr.Conflict, "volunteer.not_checked_in")
		}
		if err != nil {
			return err
		}
		if out != 0 {
			c.At, c.Minutes, c.Again = store.Time(out), minutes, true
			return nil
		}
		c.Minutes = ServedMinutes(store.Time(in), now, a.StartsAt, a.EndsAt)
		_, err = tx.Exec(ctx, `UPDATE service_records SET checkout_at = ?, checkout_m = ?, minutes = ? WHERE id = ? AND checkout_at = 0`, store.Ms(now), dist, c.Minutes, id)
		return err
	})
	return c, err
}

// ServedMinutes is the whole minutes between check-in and check-out that
// fall within the activity's start and end.
func ServedMinutes(in, out, starts, ends time.Time) int {
	from, to := in, out
	if from.Before(starts) {
		from = starts
	}
	if to.After(ends) {
		to = ends
	}
	if !to.After(from) {
		return 0
	}
	return int(to.Sub(from) / time.Minute)
}

// checkPlace finds the activity of token and checks the phone's position
// against its place: the distance less the phone's stated accuracy (up
// to 100 m of it) must be within the radius.
func (s *Service) checkPlace(ctx context.Context, token string, pos Position, cancelledOK bool) (Activity, int, error) {
	a, err := s.ActivityByToken(ctx, token)
	if err != nil {
		return a, 0, err
	}
	if a.Cancelled && !cancelledOK {
		return a, 0, apperr.New(apperr.Conflict, "volunteer.activity_cancelled")
	}
	p := geo.Point{Lon: pos.Lon, Lat: pos.Lat}
	if !geo.Valid(p) || (pos.Lat == 0 && pos.Lon == 0) || math.IsNaN(pos.AccuracyM) || pos.AccuracyM < 0 {
		return a, 0, apperr.New(apperr.Invalid, "volunteer.position_required")
	}
	d := geo.Distance(p, geo.Point{Lon: a.Lon, Lat: a.Lat})
	if d-min(pos.AccuracyM, 100) > float64(a.RadiusM) {
		return a, int(d), apperr.New(apperr.Conflict, "volunteer.too_far", "distance", fmt.Sprint(int(math.Round(d))), "radius", fmt.Sprint(a.RadiusM))
	}
	return a, int(math.Round(d)), nil
}

// Attendance is one volunteer's row on an activity's sheet, for its
// organiser: the phone masked.
type Attendance struct {
	RecordID         int64     `json:"record_id,omitempty"`
	VolunteerID      int64     `json:"volunteer_id"`
	Name             string    `json:"name"`
	Phone            string    `json:"phone"`
	SignedUpAt       time.Time `json:"signed_up_at,omitzero"`
	CheckinAt        time.Time `json:"checkin_at,omitzero"`
	CheckinM         int       `json:"checkin_m"`
	CheckoutAt       time.Time `json:"checkout_at,omitzero"`
	CheckoutM        int       `json:"checkout_m"`
	Minutes          int       `json:"minutes"`
	ConfirmedMinutes int       `json:"confirmed_minutes"`
	ConfirmedAt      time.Time `json:"confirmed_at,omitzero"`
}

// Attendance lists everyone signed up for or checked in to an activity
// of a team actor manages.
func (s *Service) Attendance(ctx context.Context, actor org.Actor, activityID int64) ([]Attendance, error) {
	if _, err := s.Activity(ctx, actor, activityID); err != nil {
		return nil, err
	}
	list, err := store.Collect(ctx, s.DB.Reader(), func(r store.Scanner) (Attendance, error) {
		var x Attendance
		var signed, in, out, conf sql.NullInt64
		var rec sql.NullInt64
		var inM, outM, mins, cmins sql.NullInt64
		err := r.Scan(&x.VolunteerID, &x.Name, &x.Phone, &signed, &rec, &in, &inM, &out, &outM, &mins, &cmins, &conf)
		x.RecordID, x.CheckinM, x.CheckoutM, x.Minutes, x.ConfirmedMinutes = rec.Int64, int(inM.Int64), int(outM.Int64), int(mins.Int64), int(cmins.Int64)
		x.SignedUpAt, x.CheckinAt, x.CheckoutAt, x.ConfirmedAt = optTime(signed), optTime(in), optTime(out), optTime(conf)
		x.Phone = MaskPhone(x.Phone)
		return x, err
	}, `SELECT v.id, v.name, v.phone, x.created_at, r.id, r.checkin_at, r.checkin_m, r.checkout_at, r.checkout_m, r.minutes, r.confirmed_minutes, r.confirmed_at
		FROM (SELECT volunteer_id FROM activity_signups WHERE activity_id = ? UNION SELECT volunteer_id FROM service_records WHERE activity_id = ?) p
		JOIN volunteers v ON v.id = p.volunteer_id
		LEFT JOIN activity_signups x ON x.activity_id = ? AND x.volunteer_id = v.id
		LEFT JOIN service_records r ON r.activity_id = ? AND r.volunteer_id = v.id
		ORDER BY COALESCE(r.checkin_at, x.created_at), v.id`, activityID, activityID, activityID, activityID)
	return list, err
}

func optTime(v sql.NullInt64) time.Time {
	if !v.Valid || v.Int64 == 0 {
		return time.Time{}
	}
	return store.Time(v.Int64)
}

// Confirm sets the minutes the organiser vouches for on one service
// record of their activity, once the activity has ended (谁组织谁记录).
// minutes < 0 takes the recorded span. A confirmation that differs from
// the span, or a change of an earlier one, needs a reason; every one is
// on the trail with the old and new figures, and the volunteer's total
// moves by the difference.
func (s *Service) Confirm(ctx context.Context, actor org.Actor, recordID int64, minutes int, reason string) error {
	var activityID, volunteerID, confirmedAt, regionID, checkin int64
	var span, old int
	err := s.DB.Reader().QueryRow(ctx, `SELECT activity_id, volunteer_id, minutes, confirmed_minutes, confirmed_at, region_id, checkin_at FROM service_records WHERE id = ?`, recordID).
		Scan(&activityID, &volunteerID, &span, &old, &confirmedAt, &regionID, &checkin)
	if errors.Is(err, sql.ErrNoRows) {
		return apperr.New(apperr.NotFound, "not_found")
	}
	if err != nil {
		return err
	}
	a, err := s.Activity(ctx, actor, activityID)
	if err != nil {
		return err
	}
	if s.now().Before(a.EndsAt) {
		return apperr.New(apperr.Conflict, "volunteer.not_ended")
	}
	var out int64
	if err := s.DB.Reader().QueryRow(ctx, `SELECT checkout_at FROM service_records WHERE id = ?`, recordID).Scan(&out); err != nil {
		return err
	}
	if out == 0 {
		// the volunteer may still check out: their own record first
		st, err := s.Settings(ctx)
		if err != nil {
			return err
		}
		if closes := a.EndsAt.Add(time.Duration(st.CheckoutLateMin) * time.Minute); s.now().Before(closes) {
			return apperr.New(apperr.Conflict, "volunteer.checkout_open", "time", closes.In(s.Location).Format("01-02 15:04"))
		}
	}
	if minutes < 0 {
		minutes = span
	}
	if max := int(a.EndsAt.Sub(a.StartsAt) / time.Minute); minutes > max {
		return apperr.New(apperr.Invalid, "volunteer.minutes_bad", "max", fmt.Sprint(max))
	}
	reason = strings.TrimSpace(reason)
	if (minutes != span || confirmedAt != 0) && reason == "" {
		return apperr.New(apperr.Invalid, "volunteer.reason_required")
	}
	if utf8.RuneCountInString(reason) > 200 {
		return apperr.New(apperr.Invalid, "volunteer.reason_too_long")
	}
	return s.DB.WithTx(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE service_records SET confirmed_minutes = ?, confirmed_at = ?, confirmed_by = ? WHERE id = ? AND confirmed_minutes = ? AND confirmed_at = ?`,
			minutes, store.Ms(s.now()), nullID(actor.UserID), recordID, old, confirmedAt)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return apperr.New(apperr.Conflict, "volunteer.changed_meanwhile")
		}
		if err := s.addMinutes(ctx, tx, volunteerID, regionID, checkin, minutes-old); err != nil {
			return err
		}
		return s.log(ctx, tx, actor, "volunteer.hours_confirm", map[string]any{"record_id": recordID, "activity_id": activityID, "volunteer_id": volunteerID,
			"recorded": span, "old": old, "new": minutes, "reason": reason})
	})
}

// ConfirmAll confirms every unconfirmed record of an ended activity at
// its recorded span (records without a check-out stay for one by one).
func (s *Service) ConfirmAll(ctx context.Context, actor org.Actor, activityID int64) (int, error) {
	list, err := s.Attendance(ctx, actor, activityID)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, x := range list {
		if x.RecordID == 0 || !x.ConfirmedAt.IsZero() || x.CheckoutAt.IsZero() {
			continue
		}
		if err := s.Confirm(ctx, actor, x.RecordID, -1, ""); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// SiteChoice is an assessment site an activity may serve.
type SiteChoice struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// Sites lists the active assessment sites, for the activity form.
func (s *Service) Sites(ctx context.Context) ([]SiteChoice, error) {
	return store.Collect(ctx, s.DB.Reader(), func(r store.Scanner) (SiteChoice, error) {
		var c SiteChoice
		return c, r.Scan(&c.Code, &c.Name)
	}, `SELECT code, name FROM assess_sites WHERE active = TRUE ORDER BY code`)
}
