package volunteer

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"chuangwen/internal/apperr"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
)

// Volunteer statuses.
const (
	StatusPending  = "pending"  // registered, awaiting the coordinator
	StatusActive   = "active"   // approved
	StatusRejected = "rejected" // not approved
)

// Sources of a volunteer's record.
const (
	SourceSelf   = "self"   // registered on the phone page
	SourceImport = "import" // from a roster import
)

// Volunteer is a volunteer as the office sees them: identity and phone
// masked (the full phone only on the detail, for the coordinator).
type Volunteer struct {
	ID         int64     `json:"id"`
	Name       string    `json:"name"`
	Phone      string    `json:"phone"` // masked in lists
	IDMasked   string    `json:"id_number"`
	NationalNo string    `json:"national_no,omitempty"`
	Skills     string    `json:"skills,omitempty"`
	TeamID     int64     `json:"team_id"`
	Team       string    `json:"team"`
	RegionID   int64     `json:"region_id"`
	Region     string    `json:"region"`
	Status     string    `json:"status"`
	Source     string    `json:"source"`
	CreatedAt  time.Time `json:"created_at"`
	Minutes    int64     `json:"minutes"`
	Hours      float64   `json:"hours"`
	Stars      int       `json:"stars"`
}

// Registration is what a volunteer fills in on the phone page.
type Registration struct {
	Name       string `json:"name"`
	Phone      string `json:"phone"`
	IDNumber   string `json:"id_number"`
	NationalNo string `json:"national_no"`
	Skills     string `json:"skills"`
	TeamID     int64  `json:"team_id"`
	Password   string `json:"password"`
	Consent    bool   `json:"consent"`
}

// checked validates r in place: trimmed, the phone and identity number
// normalised.
func (r *Registration) checked() error {
	r.Name = strings.TrimSpace(r.Name)
	if r.Name == "" {
		return apperr.New(apperr.Invalid, "volunteer.name_required")
	}
	if utf8.RuneCountInString(r.Name) > 32 {
		return apperr.New(apperr.Invalid, "volunteer.name_too_long", "max", "32")
	}
	var err error
	if r.Phone, err = NormalizePhone(r.Phone); err != nil {
		return err
	}
	if r.IDNumber, err = NormalizeIDNumber(r.IDNumber); err != nil {
		return err
	}
	r.NationalNo = strings.TrimSpace(r.NationalNo)
	if len(r.NationalNo) > 32 || strings.ContainsFunc(r.NationalNo, func(c rune) bool { return c < '0' || (c > '9' && c < 'A') || c > 'z' }) {
		return apperr.New(apperr.Invalid, "volunteer.national_no_bad")
	}
	r.Skills = strings.TrimSpace(r.Skills)
	if utf8.RuneCountInString(r.Skills) > 200 {
		return apperr.New(apperr.Invalid, "volunteer.skills_too_long")
	}
	if r.TeamID == 0 {
		return apperr.New(apperr.Invalid, "volunteer.team_required")
	}
	return nil
}

// Register records a self-registration, pending the team coordinator's
// approval. The privacy notice must have been accepted; one registration
// per identity number and per phone.
func (s *Service) Register(ctx context.Context, r Registration) (int64, error) {
	if !r.Consent {
		return 0, apperr.New(apperr.Invalid, "volunteer.consent_required")
	}
	if err := r.checked(); err != nil {
		return 0, err
	}
	if msg := org.CheckPasswordPolicy(r.Password); msg != "" {
		return 0, apperr.New(apperr.Invalid, msg)
	}
	if ok, err := store.Exists(ctx, s.DB.Reader(), "volunteer_teams", r.TeamID); err != nil {
		return 0, err
	} else if !ok {
		return 0, apperr.New(apperr.Invalid, "volunteer.team_unknown")
	}
	// The password is hashed before the duplicates are looked for, so
	// that a registration of a phone or a number already held takes as
	// long as a new one: the public page answers both alike
	// (web.postVolRegister), and the time must not tell either.
	hash, err := s.Org.HashSecret(ctx, r.Password)
	if err != nil {
		return 0, err
	}
	var dupID, dupPhone int
	if err := s.DB.Reader().QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM volunteers WHERE id_hash = ?), (SELECT COUNT(*) FROM volunteers WHERE phone = ?)`,
		s.Seal.hash(r.IDNumber), r.Phone).Scan(&dupID, &dupPhone); err != nil {
		return 0, err
	}
	if dupID > 0 {
		return 0, apperr.New(apperr.Conflict, "volunteer.id_registered")
	}
	if dupPhone > 0 {
		return 0, apperr.New(apperr.Conflict, "volunteer.phone_registered")
	}
	var id int64
	err = s.DB.WithTx(ctx, func(tx *store.Tx) error {
		var err error
		id, err = s.insert(ctx, tx, r, hash, StatusPending, SourceSelf)
		if err != nil {
			return err
		}
		return s.log(ctx, tx, org.System, "volunteer.register", map[string]any{"volunteer_id": id, "team_id": r.TeamID})
	})
	return id, err
}

// insert stores a checked registration. Duplicates are Conflict, named by
// what repeats.
func (s *Service) insert(ctx context.Context, tx *store.Tx, r Registration, hash, status, source string) (int64, error) {
	var regionID int64
	if err := tx.QueryRow(ctx, `SELECT region_id FROM volunteer_teams WHERE id = ?`, r.TeamID).Scan(&regionID); errors.Is(err, sql.ErrNoRows) {
		return 0, apperr.New(apperr.Invalid, "volunteer.team_unknown")
	} else if err != nil {
		return 0, err
	}
	idHash := s.Seal.hash(r.IDNumber)
	var dup int64
	err := tx.QueryRow(ctx, `SELECT id FROM volunteers WHERE id_hash = ? OR phone = ?`, idHash, r.Phone).Scan(&dup)
	if err == nil {
		var sameID int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM volunteers WHERE id_hash = ?`, idHash).Scan(&sameID); err != nil {
			return 0, err
		}
		if sameID > 0 {
			return 0, apperr.New(apperr.Conflict, "volunteer.id_registered")
		}
		return 0, apperr.New(apperr.Conflict, "volunteer.phone_registered")
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, err
	}
	now := store.Ms(s.now())
	decided, consent := int64(0), now
	if status == StatusActive {
		decided = now
	}
	if source == SourceImport {
		consent = 0 // a roster's people did not accept the notice here
	}
	// ON CONFLICT DO NOTHING: a registration with the same number or
	// phone that committed in between leaves the transaction usable, to
	// say which of the two it was.
	var id int64
	err = tx.QueryRow(ctx, `INSERT INTO volunteers (name, phone, id_hash, id_sealed, id_masked, national_no, skills, team_id, region_id, status, source, password_hash, consent_at, created_at, decided_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id`,
		r.Name, r.Phone, idHash, s.Seal.seal(r.IDNumber, "id_number"), MaskID(r.IDNumber), r.NationalNo, r.Skills, r.TeamID, regionID, status, source, hash, consent, now, decided).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		var sameID int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM volunteers WHERE id_hash = ?`, idHash).Scan(&sameID); err != nil {
			return 0, err
		}
		if sameID > 0 {
			return 0, apperr.New(apperr.Conflict, "volunteer.id_registered")
		}
		return 0, apperr.New(apperr.Conflict, "volunteer.phone_registered")
	}
	return id, err
}

// Decide approves or rejects a pending volunteer (the team's coordinator
// or an officer over the team).
func (s *Service) Decide(ctx context.Context, actor org.Actor, id int64, approve bool) error {
	v, err := s.Volunteer(ctx, actor, id)
	if err != nil {
		return err
	}
	if v.Status != StatusPending {
		return apperr.New(apperr.Conflict, "volunteer.not_pending")
	}
	status := StatusRejected
	if approve {
		status = StatusActive
	}
	return s.DB.WithTx(ctx, func(tx *store.Tx) error {
		if err := tx.Change(ctx, apperr.New(apperr.Conflict, "volunteer.not_pending"), `UPDATE volunteers SET status = ?, decided_at = ?, decided_by = ? WHERE id = ? AND status = 'pending'`, status, store.Ms(s.now()), nullID(actor.UserID), id); err != nil {
			return err
		}
		if !approve {
			if _, err := tx.Exec(ctx, `DELETE FROM volunteer_sessions WHERE volunteer_id = ?`, id); err != nil {
				return err
			}
			// A rejected registration holds neither the phone nor the
			// identity number: whoever they belong to may register
			// (a registration made in someone else's name is rejected by
			// the coordinator, who calls the phone, and frees it).
			if _, err := tx.Exec(ctx, `UPDATE volunteers SET phone = '', id_hash = ? WHERE id = ?`, fmt.Sprintf("released:%d", id), id); err != nil {
				return err
			}
		}
		return s.log(ctx, tx, actor, "volunteer."+map[bool]string{true: "approve", false: "reject"}[approve], map[string]int64{"volunteer_id": id})
	})
}

// Filter selects volunteers for the office's list.
type Filter struct {
	TeamID int64
	Status string
	Query  string // name or the phone's last digits
	Limit  int
	Offset int
}

const volunteerCols = `v.id, v.name, v.phone, v.id_masked, v.national_no, v.skills, v.team_id, t.name, v.region_id, g.name, v.status, v.source, v.created_at, v.minutes`

func (s *Service) scanVolunteer(st Settings) func(store.Scanner) (Volunteer, error) {
	return func(r store.Scanner) (Volunteer, error) {
		var v Volunteer
		var created int64
		err := r.Scan(&v.ID, &v.Name, &v.Phone, &v.IDMasked, &v.NationalNo, &v.Skills, &v.TeamID, &v.Team, &v.RegionID, &v.Region, &v.Status, &v.Source, &created, &v.Minutes)
		v.CreatedAt = store.Time(created)
		v.Hours = float64(v.Minutes) / 60
		v.Stars = st.Stars(v.Minutes)
		return v, err
	}
}

// Volunteers lists the volunteers of the teams actor manages, phones
// masked, newest first; total counts all that match.
func (s *Service) Volunteers(ctx context.Context, actor org.Actor, f Filter) (list []Volunteer, total int, err error) {
	scope, args, err := s.teamScope(ctx, actor, "t")
	if err != nil {
		return nil, 0, err
	}
	cond := scope
	if f.TeamID != 0 {
		cond += " AND v.team_id = ?"
		args = append(args, f.TeamID)
	}
	if f.Status != "" {
		if f.Status != StatusPending && f.Status != StatusActive && f.Status != StatusRejected {
			return nil, 0, apperr.New(apperr.Invalid, "volunteer.status_bad")
		}
		cond += " AND v.status = ?"
		args = append(args, f.Status)
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		if utf8.RuneCountInString(q) > 32 {
			return nil, 0, apperr.New(apperr.Invalid, "volunteer.query_too_long")
		}
		esc := strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(q)
		cond += ` AND (v.name LIKE ? ESCAPE '\' OR v.phone LIKE ? ESCAPE '\')`
		args = append(args, "%"+esc+"%", "%"+esc)
	}
	from := ` FROM volunteers v JOIN volunteer_teams t ON t.id = v.team_id JOIN regions g ON g.id = v.region_id WHERE ` + cond
	// the total without the joins the rows need: the teams in scope as a
	// list of ids (200,000 volunteers: 320 ms joined, a few ms not)
	count := `SELECT COUNT(*) FROM volunteers v WHERE v.team_id IN (SELECT t.id FROM volunteer_teams t WHERE ` + scope + `)` + strings.TrimPrefix(cond, scope)
	if err := s.DB.Reader().QueryRow(ctx, count, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	limit := f.Limit
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	st, err := s.Settings(ctx)
	if err != nil {
		return nil, 0, err
	}
	list, err = store.Collect(ctx, s.DB.Reader(), s.scanVolunteer(st), `SELECT `+volunteerCols+from+` ORDER BY v.id DESC LIMIT ? OFFSET ?`, append(args, limit, max(f.Offset, 0))...)
	for i := range list {
		list[i].Phone = MaskPhone(list[i].Phone)
	}
	return list, total, err
}

// Volunteer returns one volunteer of a team actor manages (NotFound
// otherwise), with the full phone number for contacting them.
func (s *Service) Volunteer(ctx context.Context, actor org.Actor, id int64) (Volunteer, error) {
	cond, args, err := s.teamScope(ctx, actor, "t")
	if err != nil {
		return Volunteer{}, err
	}
	st, err := s.Settings(ctx)
	if err != nil {
		return Volunteer{}, err
	}
	v, err := s.scanVolunteer(st)(s.DB.Reader().QueryRow(ctx, `SELECT `+volunteerCols+` FROM volunteers v JOIN volunteer_teams t ON t.id = v.team_id JOIN regions g ON g.id = v.region_id WHERE v.id = ? AND `+cond, append([]any{id}, args...)...))
	if errors.Is(err, sql.ErrNoRows) {
		return Volunteer{}, apperr.New(apperr.NotFound, "not_found")
	}
	return v, err
}

// self returns a volunteer by id, unscoped (their own pages).
func (s *Service) self(ctx context.Context, id int64) (Volunteer, error) {
	st, err := s.Settings(ctx)
	if err != nil {
		return Volunteer{}, err
	}
	v, err := s.scanVolunteer(st)(s.DB.Reader().QueryRow(ctx, `SELECT `+volunteerCols+` FROM volunteers v JOIN volunteer_teams t ON t.id = v.team_id JOIN regions g ON g.id = v.region_id WHERE v.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Volunteer{}, apperr.New(apperr.NotFound, "not_found")
	}
	return v, err
}

// ---- the volunteers' own sign-in ----

// Session lifetimes of a volunteer's phone: long, since the phone is
// theirs and check-in happens in the street, but idle ones end.
const (
	SessionMaxAge      = 30 * 24 * time.Hour
	SessionIdleTimeout = 7 * 24 * time.Hour
)

// Session is a volunteer's signed-in phone.
type Session struct {
	Token     string
	CSRF      string
	Volunteer Volunteer
}

func sessionKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Login checks a volunteer's phone and password under the staff login
// throttle and opens a session. Pending and rejected registrations
// cannot sign in; the answer says which.
func (s *Service) Login(ctx context.Context, phone, password, ip string) (*Session, error) {
	phone, perr := NormalizePhone(phone)
	var id int64
	var status string
	err := s.Org.CheckSecret(ctx, "vol", phone, ip, password, func() (string, error) {
		if perr != nil {
			return "", apperr.New(apperr.NotFound, "not_found")
		}
		var hash string
		err := s.DB.Reader().QueryRow(ctx, `SELECT id, status, password_hash FROM volunteers WHERE phone = ?`, phone).Scan(&id, &status, &hash)
		if errors.Is(err, sql.ErrNoRows) {
			return "", apperr.New(apperr.NotFound, "not_found")
		}
		return hash, err
	})
	if err != nil {
		return nil, err
	}
	switch status {
	case StatusPending:
		return nil, apperr.New(apperr.Forbidden, "volunteer.login_pending")
	case StatusRejected:
		return nil, apperr.New(apperr.Forbidden, "volunteer.login_rejected")
	}
	v, err := s.self(ctx, id)
	if err != nil {
		return nil, err
	}
	sess := &Session{Token: org.RandomToken(32), CSRF: org.RandomToken(24), Volunteer: v}
	now := s.now()
	err = s.DB.WithTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM volunteer_sessions WHERE expires_at < ?`, store.Ms(now)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO volunteer_sessions (id, volunteer_id, csrf, created_at, expires_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?)`,
			sessionKey(sess.Token), id, sess.CSRF, store.Ms(now), store.Ms(now.Add(SessionMaxAge)), store.Ms(now))
		return err
	})
	if err != nil {
		return nil, err
	}
	return sess, nil
}

// SessionByToken returns a volunteer's live session (Unauthorized when
// unknown, expired, idle, or the volunteer is no longer active).
func (s *Service) SessionByToken(ctx context.Context, token string) (*Session, error) {
	if token == "" {
		return nil, apperr.New(apperr.Unauthorized, "volunteer.login_required")
	}
	now := s.now()
	key := sessionKey(token)
	var id, expires, lastSeen int64
	var csrf string
	err := s.DB.Reader().QueryRow(ctx, `SELECT volunteer_id, csrf, expires_at, last_seen_at FROM volunteer_sessions WHERE id = ?`, key).Scan(&id, &csrf, &expires, &lastSeen)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.New(apperr.Unauthorized, "volunteer.login_required")
	}
	if err != nil {
		return nil, err
	}
	if store.Ms(now) > expires || store.Ms(now)-lastSeen > SessionIdleTimeout.Milliseconds() {
		return nil, apperr.New(apperr.Unauthorized, "volunteer.login_required")
	}
	v, err := s.self(ctx, id)
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		return nil, err
	}
	if err != nil || v.Status != StatusActive {
		return nil, apperr.New(apperr.Unauthorized, "volunteer.login_required")
	}
	if store.Ms(now)-lastSeen > time.Hour.Milliseconds() {
		if _, err := s.DB.Exec(ctx, `UPDATE volunteer_sessions SET last_seen_at = ? WHERE id = ?`, store.Ms(now), key); err != nil {
			return nil, err
		}
	}
	return &Session{Token: token, CSRF: csrf, Volunteer: v}, nil
}

// Logout ends a volunteer's session.
func (s *Service) Logout(ctx context.Context, token string) error {
	_, err := s.DB.Exec(ctx, `DELETE FROM volunteer_sessions WHERE id = ?`, sessionKey(token))
	return err
}

// ServiceRecord is one service record as its volunteer sees it.
type ServiceRecord struct {
	ActivityID       int64     `json:"activity_id"`
	Activity         string    `json:"activity"`
	Team             string    `json:"team"`
	StartsAt         time.Time `json:"starts_at"`
	CheckinAt        time.Time `json:"checkin_at"`
	CheckoutAt       time.Time `json:"checkout_at,omitzero"`
	Minutes          int       `json:"minutes"`
	ConfirmedMinutes int       `json:"confirmed_minutes"`
	Confirmed        bool      `json:"confirmed"`
}

// Mine returns a volunteer's record and their latest services.
func (s *Service) Mine(ctx context.Context, volunteerID int64) (Volunteer, int, []ServiceRecord, error) {
	v, err := s.self(ctx, volunteerID)
	if err != nil {
		return v, 0, nil, err
	}
	st, err := s.Settings(ctx)
	if err != nil {
		return v, 0, nil, err
	}
	recs, err := store.Collect(ctx, s.DB.Reader(), scanRecord, `SELECT a.id, a.title, t.name, a.starts_at, r.checkin_at, r.checkout_at, r.minutes, r.confirmed_minutes, r.confirmed_at
		FROM service_records r JOIN activities a ON a.id = r.activity_id JOIN volunteer_teams t ON t.id = a.team_id
		WHERE r.volunteer_id = ? ORDER BY r.checkin_at DESC LIMIT 100`, volunteerID)
	return v, st.NextStar(v.Minutes), recs, err
}

func scanRecord(r store.Scanner) (ServiceRecord, error) {
	var x ServiceRecord
	var starts, in, out, confirmed int64
	err := r.Scan(&x.ActivityID, &x.Activity, &x.Team, &starts, &in, &out, &x.Minutes, &x.ConfirmedMinutes, &confirmed)
	x.StartsAt, x.CheckinAt = store.Time(starts), store.Time(in)
	if out != 0 {
		x.CheckoutAt = store.Time(out)
	}
	x.Confirmed = confirmed != 0
	return x, err
}

// Export is everything kept about one volunteer, for their request to
// see their data (个人信息保护法 art. 45): the record with the identity
// number opened and the full phone, every service record, the
// sign-ups and the certificates.
type Export struct {
	Volunteer    Volunteer       `json:"volunteer"`
	IDNumber     string          `json:"id_number"`
	Phone        string          `json:"phone"`
	ConsentAt    time.Time       `json:"consent_at,omitzero"` // none for a roster's people
	Services     []ServiceRecord `json:"services"`
	SignUps      []int64         `json:"signed_up_activities"`
	Certificates []Certificate   `json:"certificates"`
	ExportedAt   time.Time       `json:"exported_at"`
	ExportedBy   string          `json:"exported_by"`
}

// ExportPerson opens one volunteer's data for their request
// (administrator only); the opening is on the audit trail.
func (s *Service) ExportPerson(ctx context.Context, actor org.Actor, id int64) (Export, error) {
	if actor.Role != org.RoleAdmin {
		return Export{}, apperr.New(apperr.Forbidden, "forbidden")
	}
	v, err := s.self(ctx, id)
	if err != nil {
		return Export{}, err
	}
	var sealed string
	var consent int64
	if err := s.DB.Reader().QueryRow(ctx, `SELECT id_sealed, consent_at FROM volunteers WHERE id = ?`, id).Scan(&sealed, &consent); err != nil {
		return Export{}, err
	}
	out := Export{Volunteer: v, Phone: v.Phone, ExportedAt: s.now(), ExportedBy: actor.Name}
	if consent != 0 {
		out.ConsentAt = store.Time(consent)
	}
	if sealed != "-" { // generated benchmark rows carry no sealed number
		if out.IDNumber, err = s.Seal.open(sealed, "id_number"); err != nil {
			return Export{}, fmt.Errorf("volunteer %d: %w", id, err)
		}
	}
	out.Services, err = store.Collect(ctx, s.DB.Reader(), scanRecord, `SELECT a.id, a.title, t.name, a.starts_at, r.checkin_at, r.checkout_at, r.minutes, r.confirmed_minutes, r.confirmed_at
		FROM service_records r JOIN activities a ON a.id = r.activity_id JOIN volunteer_teams t ON t.id = a.team_id
		WHERE r.volunteer_id = ? ORDER BY r.checkin_at`, id)
	if err != nil {
		return Export{}, err
	}
	if out.SignUps, err = store.Int64s(ctx, s.DB.Reader(), `SELECT activity_id FROM activity_signups WHERE volunteer_id = ? ORDER BY activity_id`, id); err != nil {
		return Export{}, err
	}
	if out.Certificates, err = s.Certificates(ctx, id); err != nil {
		return Export{}, err
	}
	err = s.DB.WithTx(ctx, func(tx *store.Tx) error {
		return s.log(ctx, tx, actor, "volunteer.export", map[string]int64{"volunteer_id": id})
	})
	return out, err
}

// ResetPassword gives a volunteer of a team actor manages a new random
// password, shown once to the coordinator to pass on (a roster's people
// have none; others forget theirs), and ends their sessions. The
// volunteer changes it on their page.
func (s *Service) ResetPassword(ctx context.Context, actor org.Actor, id int64) (string, error) {
	v, err := s.Volunteer(ctx, actor, id)
	if err != nil {
		return "", err
	}
	if v.Status != StatusActive {
		return "", apperr.New(apperr.Conflict, "volunteer.not_active")
	}
	pw := org.RandomToken(9) // 12 characters, 72 bits
	hash, err := s.Org.HashSecret(ctx, pw)
	if err != nil {
		return "", err
	}
	err = s.DB.WithTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE volunteers SET password_hash = ? WHERE id = ?`, hash, id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM volunteer_sessions WHERE volunteer_id = ?`, id); err != nil {
			return err
		}
		return s.log(ctx, tx, actor, "volunteer.password_reset", map[string]int64{"volunteer_id": id})
	})
	return pw, err
}

// ChangePassword sets a signed-in volunteer's own password, after their
// current one checks under the sign-in throttle; their other sessions end.
func (s *Service) ChangePassword(ctx context.Context, sess *Session, current, next, ip string) error {
	if msg := org.CheckPasswordPolicy(next); msg != "" {
		return apperr.New(apperr.Invalid, msg)
	}
	id := sess.Volunteer.ID
	err := s.Org.CheckSecret(ctx, "vol", sess.Volunteer.Phone, ip, current, func() (string, error) {
		var hash string
		err := s.DB.Reader().QueryRow(ctx, `SELECT password_hash FROM volunteers WHERE id = ?`, id).Scan(&hash)
		return hash, err
	})
	if err != nil {
		if apperr.Is(err, apperr.Unauthorized) {
			return apperr.New(apperr.Invalid, "volunteer.password_wrong")
		}
		return err
	}
	hash, err := s.Org.HashSecret(ctx, next)
	if err != nil {
		return err
	}
	return s.DB.WithTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE volunteers SET password_hash = ? WHERE id = ?`, hash, id); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM volunteer_sessions WHERE volunteer_id = ? AND id <> ?`, id, sessionKey(sess.Token))
		return err
	})
}
