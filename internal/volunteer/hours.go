package volunteer

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"chuangwen/internal/apperr"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
)

// ---- certificates (志愿服务记录证明) ----

// Certificate is a service record certificate: the hours a volunteer
// served in a team's activities over a period, as the team certifies
// them (谁记录谁证明).
type Certificate struct {
	Code         string    `json:"code"`
	VolunteerID  int64     `json:"volunteer_id,omitempty"`
	Name         string    `json:"name"`
	NationalNo   string    `json:"national_no,omitempty"`
	IDMasked     string    `json:"id_number,omitempty"`
	TeamID       int64     `json:"team_id,omitempty"`
	Team         string    `json:"team"`
	From         time.Time `json:"from"`
	To           time.Time `json:"to"`    // exclusive
	Until        time.Time `json:"until"` // the last day covered: To less a day
	Minutes      int64     `json:"minutes"`
	Hours        float64   `json:"hours"`
	Activities   int       `json:"activities"`
	IssuedAt     time.Time `json:"issued_at"`
	Revoked      bool      `json:"revoked"`
	RevokedAt    time.Time `json:"revoked_at,omitzero"`
	RevokeReason string    `json:"revoke_reason,omitempty"`
}

// codeAlphabet leaves out letters read as digits (I, O) and digits read
// as letters (0, 1).
const codeAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// newCode is a certificate code: 16 random characters (80 bits) in four
// groups, e.g. K7QD-3MZP-…, that cannot be guessed.
func newCode() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	var sb strings.Builder
	for i, c := range b {
		if i > 0 && i%4 == 0 {
			sb.WriteByte('-')
		}
		sb.WriteByte(codeAlphabet[int(c)%len(codeAlphabet)])
	}
	return sb.String()
}

// NormalizeCode reads a code as typed: case and spaces aside, dashes
// optional.
func NormalizeCode(v string) string {
	v = strings.ToUpper(strings.NewReplacer(" ", "", "-", "").Replace(strings.TrimSpace(v)))
	if len(v) != 16 {
		return ""
	}
	for i := range len(v) {
		if !strings.ContainsRune(codeAlphabet, rune(v[i])) {
			return ""
		}
	}
	return v[0:4] + "-" + v[4:8] + "-" + v[8:12] + "-" + v[12:16]
}

// Issue makes a certificate of a volunteer's confirmed service in one
// team's activities that started in [from, to): the team must be one
// actor manages and must have confirmed hours to certify.
func (s *Service) Issue(ctx context.Context, actor org.Actor, volunteerID, teamID int64, from, to time.Time) (Certificate, error) {
	if err := s.manages(ctx, actor, teamID); err != nil {
		return Certificate{}, err
	}
	if from.IsZero() || to.IsZero() || !to.After(from) {
		return Certificate{}, apperr.New(apperr.Invalid, "volunteer.period_bad")
	}
	var c Certificate
	err := s.DB.WithTx(ctx, func(tx *store.Tx) error {
		err := tx.QueryRow(ctx, `SELECT COALESCE(SUM(r.confirmed_minutes), 0), COUNT(*) FROM service_records r JOIN activities a ON a.id = r.activity_id
			WHERE r.volunteer_id = ? AND a.team_id = ? AND r.confirmed_at <> 0 AND r.confirmed_minutes > 0 AND a.starts_at >= ? AND a.starts_at < ?`,
			volunteerID, teamID, store.Ms(from), store.Ms(to)).Scan(&c.Minutes, &c.Activities)
		if err != nil {
			return err
		}
		if c.Activities == 0 {
			return apperr.New(apperr.Conflict, "volunteer.nothing_to_certify")
		}
		c.Code, c.IssuedAt, c.From, c.To, c.VolunteerID, c.TeamID = newCode(), s.now(), from, to, volunteerID, teamID
		if _, err := tx.Exec(ctx, `INSERT INTO volunteer_certificates (code, volunteer_id, team_id, from_at, to_at, minutes, activities, issued_at, issued_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.Code, volunteerID, teamID, store.Ms(from), store.Ms(to), c.Minutes, c.Activities, store.Ms(c.IssuedAt), nullID(actor.UserID)); err != nil {
			return err
		}
		return s.log(ctx, tx, actor, "volunteer.certificate_issue", map[string]any{"code": c.Code, "volunteer_id": volunteerID, "team_id": teamID, "minutes": c.Minutes})
	})
	if err != nil {
		return Certificate{}, err
	}
	return s.certificate(ctx, c.Code, false)
}

// Revoke withdraws a certificate issued by a team actor manages, with a
// reason; verification then says so.
func (s *Service) Revoke(ctx context.Context, actor org.Actor, code, reason string) error {
	c, err := s.certificate(ctx, NormalizeCode(code), false)
	if err != nil {
		return err
	}
	if err := s.manages(ctx, actor, c.TeamID); err != nil {
		return err
	}
	reason = strings.TrimSpace(reason)
	if reason == "" || utf8.RuneCountInString(reason) > 200 {
		return apperr.New(apperr.Invalid, "volunteer.reason_required")
	}
	return s.DB.WithTx(ctx, func(tx *store.Tx) error {
		if err := tx.Change(ctx, apperr.New(apperr.Conflict, "volunteer.revoked_already"), `UPDATE volunteer_certificates SET revoked_at = ?, revoked_by = ?, revoke_reason = ? WHERE code = ? AND revoked_at = 0`,
			store.Ms(s.now()), nullID(actor.UserID), reason, c.Code); err != nil {
			return err
		}
		return s.log(ctx, tx, actor, "volunteer.certificate_revoke", map[string]string{"code": c.Code, "reason": reason})
	})
}

// Certificate returns a certificate for the office's copy (a team actor
// manages), unmasked.
func (s *Service) Certificate(ctx context.Context, actor org.Actor, code string) (Certificate, error) {
	c, err := s.certificate(ctx, NormalizeCode(code), false)
	if err != nil {
		return c, err
	}
	if err := s.manages(ctx, actor, c.TeamID); err != nil {
		return Certificate{}, err
	}
	return c, nil
}

// Verify answers the public check of a certificate code: the name masked,
// no identity number, no ids. An unknown or malformed code is NotFound.
func (s *Service) Verify(ctx context.Context, code string) (Certificate, error) {
	return s.certificate(ctx, NormalizeCode(code), true)
}

// Certificates lists a volunteer's certificates, newest first.
func (s *Service) Certificates(ctx context.Context, volunteerID int64) ([]Certificate, error) {
	return store.Collect(ctx, s.DB.Reader(), scanCertificate, certificateSelect+` WHERE c.volunteer_id = ? ORDER BY c.issued_at DESC`, volunteerID)
}

const certificateSelect = `SELECT c.code, c.volunteer_id, v.name, v.national_no, v.id_masked, c.team_id, t.name, c.from_at, c.to_at, c.minutes, c.activities, c.issued_at, c.revoked_at, c.revoke_reason
	FROM volunteer_certificates c JOIN volunteers v ON v.id = c.volunteer_id JOIN volunteer_teams t ON t.id = c.team_id`

func scanCertificate(r store.Scanner) (Certificate, error) {
	var c Certificate
	var from, to, issued, revoked int64
	if err := r.Scan(&c.Code, &c.VolunteerID, &c.Name, &c.NationalNo, &c.IDMasked, &c.TeamID, &c.Team, &from, &to, &c.Minutes, &c.Activities, &issued, &revoked, &c.RevokeReason); err != nil {
		return c, err
	}
	c.From, c.To, c.IssuedAt = store.Time(from), store.Time(to), store.Time(issued)
	c.Until = c.To.AddDate(0, 0, -1)
	c.Hours = float64(c.Minutes) / 60
	if revoked != 0 {
		c.Revoked, c.RevokedAt = true, store.Time(revoked)
	}
	return c, nil
}

func (s *Service) certificate(ctx context.Context, code string, public bool) (Certificate, error) {
	if code == "" {
		return Certificate{}, apperr.New(apperr.NotFound, "volunteer.certificate_unknown")
	}
	c, err := scanCertificate(s.DB.Reader().QueryRow(ctx, certificateSelect+` WHERE c.code = ?`, code))
	if errors.Is(err, sql.ErrNoRows) {
		return Certificate{}, apperr.New(apperr.NotFound, "volunteer.certificate_unknown")
	}
	if err != nil {
		return Certificate{}, err
	}
	if public {
		c.Name, c.VolunteerID, c.TeamID, c.NationalNo, c.IDMasked, c.RevokeReason = MaskName(c.Name), 0, 0, "", "", ""
	}
	return c, nil
}

// ---- statistics ----

// RegionStats are one district's or street's volunteer figures over a
// period. Hours and active volunteers count by the volunteer's home
// region (kept on each service record at check-in); activities by where
// they took place.
type RegionStats struct {
	RegionID   int64   `json:"region_id"`
	Code       string  `json:"code"`
	Name       string  `json:"name"`
	Level      string  `json:"level"`
	ParentID   int64   `json:"parent_id,omitempty"`
	Registered int64   `json:"registered"`
	Population int64   `json:"population"`
	Share      float64 `json:"share"` // registered / population (0 without a population)
	Active     int64   `json:"active"`
	Activities int64   `json:"activities"`
	Minutes    int64   `json:"minutes"`
	Hours      float64 `json:"hours"`
	PerCapita  float64 `json:"per_capita_hours"` // hours per registered volunteer
}

// Stats are the figures of a period, per district and per street, and
// the city's total.
type Stats struct {
	From      time.Time     `json:"from"`
	To        time.Time     `json:"to"`
	City      RegionStats   `json:"city"`
	Districts []RegionStats `json:"districts"`
	Streets   []RegionStats `json:"streets"`
}

// Stats computes the figures of [from, to): volunteers approved (or
// imported) before to, so that a past period's figure never changes, those with confirmed service in the period, the
// activities held, the confirmed hours. Four grouped queries over the
// indexes, rolled up the region tree here. They carry no person, and
// every office role reads them.
func (s *Service) Stats(ctx context.Context, actor org.Actor, from, to time.Time) (Stats, error) {
	switch actor.Role {
	case org.RoleAdmin, org.RoleVolunteer, org.RoleLeader, org.RoleAcceptor:
	default:
		return Stats{}, apperr.New(apperr.Forbidden, "forbidden")
	}
	if !to.After(from) {
		return Stats{}, apperr.New(apperr.Invalid, "volunteer.period_bad")
	}
	out := Stats{From: from, To: to}
	regions, err := s.Org.Regions(ctx)
	if err != nil {
		return out, err
	}
	type acc struct{ reg, active, acts, mins, pop int64 }
	own := map[int64]*acc{}
	get := func(id int64) *acc {
		if own[id] == nil {
			own[id] = &acc{}
		}
		return own[id]
	}
	r := s.DB.Reader()
	f, t := store.Ms(from), store.Ms(to)
	type pair struct{ id, n int64 }
	scanPair := func(sc store.Scanner) (pair, error) {
		var p pair
		return p, sc.Scan(&p.id, &p.n)
	}
	steps := []struct {
		q    string
		args []any
		put  func(*acc, int64)
	}{
		{`SELECT region_id, COUNT(*) FROM volunteers WHERE status = 'active' AND decided_at < ? GROUP BY region_id`, []any{t}, func(a *acc, n int64) { a.reg = n }},
		{`SELECT region_id, COUNT(*) FROM activities WHERE starts_at >= ? AND starts_at < ? AND cancelled_at = 0 GROUP BY region_id`, []any{f, t}, func(a *acc, n int64) { a.acts = n }},
		{`SELECT region_id, population FROM region_population`, nil, func(a *acc, n int64) { a.pop = n }},
	}
	// A quarter's service from the per-quarter totals (one row a
	// volunteer); any other period from the records themselves, in one
	// pass over their covering index.
	type served struct{ id, active, mins int64 }
	scanServed := func(sc store.Scanner) (served, error) {
		var x served
		return x, sc.Scan(&x.id, &x.active, &x.mins)
	}
	var rows []served
	if q, ok := quarterSpan(from, to, s.Location); ok {
		rows, err = store.Collect(ctx, r, scanServed, `SELECT region_id, COUNT(CASE WHEN minutes > 0 THEN 1 END), COALESCE(SUM(minutes), 0)
			FROM volunteer_quarters WHERE quarter = ? GROUP BY region_id`, q)
	} else {
		rows, err = store.Collect(ctx, r, scanServed, `SELECT region_id, COUNT(DISTINCT CASE WHEN confirmed_minutes > 0 THEN volunteer_id END), COALESCE(SUM(confirmed_minutes), 0)
			FROM service_records WHERE checkin_at >= ? AND checkin_at < ? GROUP BY region_id`, f, t)
	}
	if err != nil {
		return out, err
	}
	for _, x := range rows {
		a := get(x.id)
		a.active, a.mins = x.active, x.mins
	}
	for _, st := range steps {
		pairs, err := store.Collect(ctx, r, scanPair, st.q, st.args...)
		if err != nil {
			return out, err
		}
		for _, p := range pairs {
			st.put(get(p.id), p.n)
		}
	}
	// Roll each region's own figures up to every ancestor; population is
	// configuration per region: a region without its own figure takes
	// the sum of its children's.
	byID := map[int64]org.Region{}
	for _, rg := range regions {
		byID[rg.ID] = rg
	}
	total := map[int64]*acc{}
	for id, a := range own {
		for cur := id; cur != 0; cur = byID[cur].ParentID {
			if _, ok := byID[cur]; !ok {
				break
			}
			tt := total[cur]
			if tt == nil {
				tt = &acc{}
				total[cur] = tt
			}
			tt.reg += a.reg
			tt.active += a.active
			tt.acts += a.acts
			tt.mins += a.mins
		}
	}
	var population func(id int64) int64
	children := map[int64][]int64{}
	for _, rg := range regions {
		children[rg.ParentID] = append(children[rg.ParentID], rg.ID)
	}
	population = func(id int64) int64 {
		if a := own[id]; a != nil && a.pop > 0 {
			return a.pop
		}
		var sum int64
		for _, c := range children[id] {
			sum += population(c)
		}
		return sum
	}
	row := func(rg org.Region) RegionStats {
		x := RegionStats{RegionID: rg.ID, Code: rg.Code, Name: rg.Name, Level: rg.Level, ParentID: rg.ParentID, Population: population(rg.ID)}
		if a := total[rg.ID]; a != nil {
			x.Registered, x.Active, x.Activities, x.Minutes = a.reg, a.active, a.acts, a.mins
		}
		x.Hours = float64(x.Minutes) / 60
		if x.Population > 0 {
			x.Share = float64(x.Registered) / float64(x.Population)
		}
		if x.Registered > 0 {
			x.PerCapita = x.Hours / float64(x.Registered)
		}
		return x
	}
	for _, rg := range regions {
		switch rg.Level {
		case "city":
			if out.City.RegionID == 0 {
				out.City = row(rg)
			}
		case "district":
			out.Districts = append(out.Districts, row(rg))
		case "street":
			out.Streets = append(out.Streets, row(rg))
		}
	}
	byCode := func(a, b RegionStats) int { return strings.Compare(a.Code, b.Code) }
	slices.SortFunc(out.Districts, byCode)
	slices.SortFunc(out.Streets, byCode)
	return out, nil
}

// QuarterOf is the quarter (2026Q4) a time falls in, in loc.
func QuarterOf(t time.Time, loc *time.Location) string {
	t = t.In(loc)
	return fmt.Sprintf("%dQ%d", t.Year(), (int(t.Month())-1)/3+1)
}

// addMinutes moves a volunteer's confirmed minutes by delta, in their
// total (for the stars) and in the quarter of the record's check-in (for
// the statistics), in the transaction of the confirmation.
func (s *Service) addMinutes(ctx context.Context, tx *store.Tx, volunteerID, regionID, checkinAt int64, delta int) error {
	if delta == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, `UPDATE volunteers SET minutes = minutes + ? WHERE id = ?`, delta, volunteerID); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `INSERT INTO volunteer_quarters (quarter, volunteer_id, region_id, minutes) VALUES (?, ?, ?, ?)
		ON CONFLICT (quarter, volunteer_id) DO UPDATE SET minutes = volunteer_quarters.minutes + excluded.minutes`,
		QuarterOf(store.Time(checkinAt), s.Location), volunteerID, regionID, delta)
	return err
}

// quarterSpan reports whether [from, to) is exactly one quarter in loc,
// and which.
func quarterSpan(from, to time.Time, loc *time.Location) (string, bool) {
	f := from.In(loc)
	if f.Day() != 1 || (f.Month()-1)%3 != 0 || f.Hour() != 0 || f.Minute() != 0 || f.Second() != 0 || f.Nanosecond() != 0 {
		return "", false
	}
	if !f.AddDate(0, 3, 0).Equal(to) {
		return "", false
	}
	return QuarterOf(f, loc), true
}
