package workflow

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"chuangwen/internal/apperr"
	"chuangwen/internal/audit"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
)

// WarnFraction is the share of the time limit after which a case gets a
// yellow warning (黄牌预警).
const WarnFraction = 0.8

// Sources of cases.
const (
	SourceCitizen   = "citizen"   // 市民随手拍
	SourceInspector = "inspector" // 督查员
	SourceGrid      = "grid"      // 网格员
	SourceLeader    = "leader"    // 领导交办
	SourceHotline   = "hotline"   // 热线
	SourceAPI       = "api"       // 外部系统
)

// Sources lists the sources of cases.
var Sources = []string{SourceCitizen, SourceInspector, SourceGrid, SourceLeader, SourceHotline, SourceAPI}

// Service runs the closed loop over one database.
type Service struct {
	DB       *store.DB
	Photos   *PhotoStore
	Location *time.Location
	Log      *slog.Logger
	// Now is the clock; tests and the demo loader set it.
	Now func() time.Time
	// AutoAccept lists the sources whose reports are accepted on arrival.
	AutoAccept []string
	cal        calendarCache
}

// NewService returns a Service with the product's defaults.
func NewService(db *store.DB, photos *PhotoStore, loc *time.Location, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{DB: db, Photos: photos, Location: loc, Log: log, AutoAccept: []string{SourceInspector, SourceGrid}}
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC().Truncate(time.Millisecond)
	}
	return time.Now().UTC().Truncate(time.Millisecond)
}

// Reporter is who filed a case; only the office sees it.
type Reporter struct {
	Name   string `json:"name,omitempty"`
	Phone  string `json:"phone,omitempty"`
	UserID int64  `json:"user_id,omitempty"`
}

// Case is one problem in the closed loop.
type Case struct {
	ID           int64     `json:"id"`
	No           string    `json:"no"`
	Source       string    `json:"source"`
	CategoryID   int64     `json:"category_id"`
	CategoryName string    `json:"category_name"`
	Description  string    `json:"description"`
	Lat          *float64  `json:"lat,omitempty"`
	Lon          *float64  `json:"lon,omitempty"`
	Address      string    `json:"address,omitempty"`
	RegionID     int64     `json:"region_id,omitempty"`
	RegionName   string    `json:"region_name,omitempty"`
	Urgency      int       `json:"urgency"`
	State        State     `json:"state"`
	LeadUnitID   int64     `json:"lead_unit_id,omitempty"`
	LeadUnitName string    `json:"lead_unit_name,omitempty"`
	CoopUnitIDs  []int64   `json:"coop_unit_ids,omitempty"`
	TaskID       int64     `json:"-"`
	Deadline     time.Time `json:"deadline,omitzero"`
	WarnAt       time.Time `json:"warn_at,omitzero"`
	Warning      int       `json:"warning"` // 0 none, 1 yellow, 2 red (overdue)
	Overdue      bool      `json:"overdue"`
	OverdueAt    time.Time `json:"overdue_at,omitzero"`
	Supervised   bool      `json:"supervised"`
	ReworkCount  int       `json:"rework_count"`
	ReturnCount  int       `json:"return_count"`
	ExtPending   bool      `json:"extension_pending"`
	ExtDeadline  time.Time `json:"extension_deadline,omitzero"`
	ExtReason    string    `json:"extension_reason,omitempty"`
	MergedInto   int64     `json:"merged_into,omitempty"`
	Reporter     *Reporter `json:"reporter,omitempty"`
	ReportedAt   time.Time `json:"reported_at"`
	AcceptedAt   time.Time `json:"accepted_at,omitzero"`
	DispatchedAt time.Time `json:"dispatched_at,omitzero"`
	ClosedAt     time.Time `json:"closed_at,omitzero"`
	UpdatedAt    time.Time `json:"updated_at"`
	Version      int       `json:"version"`
	Photos       []Photo   `json:"photos,omitempty"`
}

// Photo is a photo tied to a case.
type Photo struct {
	ID       int64     `json:"id"`
	Kind     string    `json:"kind"` // before, after, evidence
	Mime     string    `json:"mime"`
	Size     int64     `json:"size"`
	SHA256   string    `json:"sha256"`
	EventSeq int64     `json:"event_seq,omitempty"`
	Created  time.Time `json:"created_at"`
	Path     string    `json:"-"`
}

const caseCols = `c.id, c.no, c.source, c.category_id, COALESCE(cat.name, ''), c.description, c.lat, c.lon, c.address,
	COALESCE(c.region_id, 0), COALESCE(r.name, ''), c.urgency, c.state, COALESCE(c.lead_unit_id, 0), COALESCE(u.name, ''), COALESCE(c.task_id, 0),
	c.deadline, c.warn_at, c.warning, c.overdue, c.overdue_at, c.supervised, c.rework_count, c.return_count,
	c.ext_pending, c.ext_deadline, c.ext_reason, COALESCE(c.merged_into, 0), c.reporter_name, c.reporter_phone, COALESCE(c.reporter_user_id, 0),
	c.reported_at, c.accepted_at, c.dispatched_at, c.closed_at, c.updated_at, c.version`

const caseFrom = ` FROM cases c
	LEFT JOIN categories cat ON cat.id = c.category_id
	LEFT JOIN regions r ON r.id = c.region_id
	LEFT JOIN units u ON u.id = c.lead_unit_id`

func scanCase(row interface{ Scan(...any) error }, extra ...any) (*Case, error) {
	var c Case
	var lat, lon sql.NullFloat64
	var state string
	var deadline, warnAt, overdueAt, extDeadline, reported, accepted, dispatched, closed, updated int64
	var rep Reporter
	dest := []any{&c.ID, &c.No, &c.Source, &c.CategoryID, &c.CategoryName, &c.Description, &lat, &lon, &c.Address,
		&c.RegionID, &c.RegionName, &c.Urgency, &state, &c.LeadUnitID, &c.LeadUnitName, &c.TaskID,
		&deadline, &warnAt, &c.Warning, &c.Overdue, &overdueAt, &c.Supervised, &c.ReworkCount, &c.ReturnCount,
		&c.ExtPending, &extDeadline, &c.ExtReason, &c.MergedInto, &rep.Name, &rep.Phone, &rep.UserID,
		&reported, &accepted, &dispatched, &closed, &updated, &c.Version}
	if err := row.Scan(append(dest, extra...)...); err != nil {
		return nil, err
	}
	if lat.Valid && lon.Valid {
		c.Lat, c.Lon = &lat.Float64, &lon.Float64
	}
	c.State = State(state)
	c.Deadline, c.WarnAt, c.OverdueAt, c.ExtDeadline = store.Time(deadline), store.Time(warnAt), store.Time(overdueAt), store.Time(extDeadline)
	c.ReportedAt, c.AcceptedAt, c.DispatchedAt, c.ClosedAt, c.UpdatedAt = store.Time(reported), store.Time(accepted), store.Time(dispatched), store.Time(closed), store.Time(updated)
	c.Reporter = &rep
	return &c, nil
}

// hideReporter drops the reporter's identity unless actor may see it.
func hideReporter(actor org.Actor, c *Case) {
	if !actor.CanSeeReporter() || (c.Reporter != nil && *c.Reporter == Reporter{}) {
		c.Reporter = nil
	}
}

// load reads a case if actor may see it; otherwise NotFound, so that
// probing ids of other units' cases learns nothing.
// The cooperating units come with the row as one comma-separated column,
// saving a query on every load (each transition loads its case).
var coopAgg = map[store.Dialect]string{
	store.SQLite:   `(SELECT group_concat(unit_id) FROM case_coop_units WHERE case_id = c.id)`,
	store.Postgres: `(SELECT string_agg(unit_id::text, ',') FROM case_coop_units WHERE case_id = c.id)`,
}

func (s *Service) load(ctx context.Context, q store.Queryer, actor org.Actor, id int64) (*Case, error) {
	cond, args := actor.CaseScope(q.Dialect())
	var coops sql.NullString
	var c *Case
	row := q.QueryRow(ctx, `SELECT `+caseCols+`, `+coopAgg[q.Dialect()]+caseFrom+` WHERE c.id = ? AND `+cond, append([]any{id}, args...)...)
	c, err := scanCase(row, &coops)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.New(apperr.NotFound, "case.not_found")
	}
	if err != nil {
		return nil, fmt.Errorf("load case %d: %w", id, err)
	}
	for _, part := range strings.Split(coops.String, ",") {
		if u, err := strconv.ParseInt(part, 10, 64); err == nil {
			c.CoopUnitIDs = append(c.CoopUnitIDs, u)
		}
	}
	slices.Sort(c.CoopUnitIDs)
	return c, nil
}

// Get returns a case with its photos, as actor may see it.
func (s *Service) Get(ctx context.Context, actor org.Actor, id int64) (*Case, error) {
	q := s.DB.Reader()
	c, err := s.load(ctx, q, actor, id)
	if err != nil {
		return nil, err
	}
	hideReporter(actor, c)
	rows, err := q.Query(ctx, `SELECT id, kind, mime, size, sha256, event_seq, created_at, path FROM photos WHERE case_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var p Photo
		var created int64
		if err := rows.Scan(&p.ID, &p.Kind, &p.Mime, &p.Size, &p.SHA256, &p.EventSeq, &created, &p.Path); err != nil {
			return nil, err
		}
		p.Created = store.Time(created)
		c.Photos = append(c.Photos, p)
	}
	return c, rows.Err()
}

// Photo returns one photo of a case the actor may see.
func (s *Service) Photo(ctx context.Context, actor org.Actor, caseID, photoID int64) (Photo, error) {
	if _, err := s.load(ctx, s.DB.Reader(), actor, caseID); err != nil {
		return Photo{}, err
	}
	var p Photo
	var created int64
	err := s.DB.Reader().QueryRow(ctx, `SELECT id, kind, mime, size, sha256, event_seq, created_at, path FROM photos WHERE id = ? AND case_id = ?`, photoID, caseID).
		Scan(&p.ID, &p.Kind, &p.Mime, &p.Size, &p.SHA256, &p.EventSeq, &created, &p.Path)
	if errors.Is(err, sql.ErrNoRows) {
		return p, apperr.New(apperr.NotFound, "photo.not_found")
	}
	p.Created = store.Time(created)
	return p, err
}

// Timeline returns the trail of a case the actor may see.
func (s *Service) Timeline(ctx context.Context, actor org.Actor, id int64) ([]audit.Entry, error) {
	if _, err := s.load(ctx, s.DB.Reader(), actor, id); err != nil {
		return nil, err
	}
	return audit.ForCase(ctx, s.DB.Reader(), id)
}

// NewCase is a report of a problem.
type NewCase struct {
	Source        string
	CategoryID    int64
	Description   string
	Lat, Lon      *float64
	Address       string
	RegionID      int64
	Urgency       int
	ReporterName  string
	ReporterPhone string
	Photos        []PhotoFile
}

// MaxDescription is the longest description accepted, in characters.
const MaxDescription = 2000

func sourceFor(role org.Role) string {
	switch role {
	case org.RoleInspector:
		return SourceInspector
	case org.RoleGrid:
		return SourceGrid
	case org.RoleLeader:
		return SourceLeader
	case org.RoleClient:
		return SourceAPI
	case org.RoleSystem:
		return SourceCitizen
	}
	return SourceHotline
}

// Report files a new case (信息收集). Reports from the sources in
// AutoAccept are accepted at once by the system.
func (s *Service) Report(ctx context.Context, actor org.Actor, in NewCase) (*Case, error) {
	switch actor.Role {
	case org.RoleHandler, org.RoleVolunteer:
		return nil, apperr.New(apperr.Forbidden, "forbidden")
	}
	if in.Source == "" || actor.Role != org.RoleAcceptor && actor.Role != org.RoleSystem && actor.Role != org.RoleAdmin {
		in.Source = sourceFor(actor.Role)
	}
	if !slices.Contains(Sources, in.Source) {
		return nil, apperr.New(apperr.Invalid, "case.bad_source")
	}
	in.Description = strings.TrimSpace(in.Description)
	if in.Description == "" {
		return nil, apperr.New(apperr.Invalid, "case.description_required")
	}
	if utf8.RuneCountInString(in.Description) > MaxDescription {
		return nil, apperr.New(apperr.Invalid, "case.description_too_long", "max", fmt.Sprint(MaxDescription))
	}
	if in.Urgency == 0 {
		in.Urgency = UrgencyNormal
	}
	if in.Urgency < UrgencyNormal || in.Urgency > UrgencyCritical {
		return nil, apperr.New(apperr.Invalid, "case.bad_urgency")
	}
	if (in.Lat == nil) != (in.Lon == nil) {
		return nil, apperr.New(apperr.Invalid, "case.bad_location")
	}
	if in.Lat != nil && !ValidLatLon(*in.Lat, *in.Lon) {
		return nil, apperr.New(apperr.Invalid, "case.bad_location")
	}
	if in.Lat == nil && strings.TrimSpace(in.Address) == "" && in.RegionID == 0 {
		return nil, apperr.New(apperr.Invalid, "case.location_required")
	}
	now := s.now()
	var out *Case
	err := s.DB.WithTx(ctx, func(tx *store.Tx) error {
		cat, err := s.Category(ctx, tx, in.CategoryID)
		if err != nil || !cat.Active {
			return apperr.New(apperr.Invalid, "category.not_found")
		}
		if cat.ParentID == 0 {
			return apperr.New(apperr.Invalid, "case.category_leaf")
		}
		if in.RegionID != 0 {
			var path string
			if err := tx.QueryRow(ctx, `SELECT path FROM regions WHERE id = ?`, in.RegionID).Scan(&path); err != nil {
				return apperr.New(apperr.Invalid, "region.not_found")
			}
			if actor.Scope == org.ScopeRegion && !actor.SeesRegionPath(path) {
				return apperr.New(apperr.Invalid, "case.region_out_of_scope")
			}
		}
		no, err := s.nextNo(ctx, tx, now)
		if err != nil {
			return err
		}
		var lat, lon any
		if in.Lat != nil {
			lat, lon = *in.Lat, *in.Lon
		}
		id, err := store.InsertID(ctx, tx, `INSERT INTO cases (no, source, category_id, description, lat, lon, address, region_id, urgency, state,
			reporter_name, reporter_phone, reporter_user_id, reported_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			no, in.Source, cat.ID, in.Description, lat, lon, strings.TrimSpace(in.Address), nullable(in.RegionID), in.Urgency, string(Reported),
			strings.TrimSpace(in.ReporterName), strings.TrimSpace(in.ReporterPhone), nullable(actor.UserID), store.Ms(now), store.Ms(now))
		if err != nil {
			return fmt.Errorf("insert case: %w", err)
		}
		data := map[string]any{"source": in.Source, "category_id": cat.ID, "urgency": in.Urgency}
		if len(in.Photos) > 0 {
			data["photos"] = photoDigests(in.Photos)
		}
		seq, err := s.appendEvent(ctx, tx, actor, now, id, Report, "", Reported, "", data)
		if err != nil {
			return err
		}
		if err := insertPhotos(ctx, tx, id, "before", seq, now, in.Photos); err != nil {
			return err
		}
		if slices.Contains(s.AutoAccept, in.Source) {
			if _, err := tx.Exec(ctx, `UPDATE cases SET state = ?, accepted_at = ?, version = version + 1 WHERE id = ?`, string(Accepted), store.Ms(now), id); err != nil {
				return err
			}
			if _, err := s.appendEvent(ctx, tx, org.System, now, id, Accept, Reported, Accepted, "", map[string]any{"auto": true}); err != nil {
				return err
			}
		}
		out, err = s.load(ctx, tx, org.System, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	hideReporter(actor, out)
	return out, nil
}

// ValidLatLon checks a WGS-84 coordinate pair.
func ValidLatLon(lat, lon float64) bool {
	return !math.IsNaN(lat) && !math.IsNaN(lon) && lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180
}

// nextNo returns the next readable case number of the year, "2026-000123".
func (s *Service) nextNo(ctx context.Context, tx *store.Tx, now time.Time) (string, error) {
	year := now.In(s.Location).Format("2006")
	var n int64
	err := tx.QueryRow(ctx, `INSERT INTO counters (name, value) VALUES (?, 1) ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value`, "case_no_"+year).Scan(&n)
	if err != nil {
		return "", fmt.Errorf("case number: %w", err)
	}
	return fmt.Sprintf("%s-%06d", year, n), nil
}

func photoDigests(ps []PhotoFile) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.SHA256
	}
	return out
}

func insertPhotos(ctx context.Context, tx *store.Tx, caseID int64, kind string, seq int64, now time.Time, ps []PhotoFile) error {
	for _, p := range ps {
		if _, err := tx.Exec(ctx, `INSERT INTO photos (case_id, kind, path, mime, size, sha256, event_seq, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			caseID, kind, p.Path, p.Mime, p.Size, p.SHA256, seq, store.Ms(now)); err != nil {
			return fmt.Errorf("insert photo: %w", err)
		}
	}
	return nil
}

func (s *Service) appendEvent(ctx context.Context, tx *store.Tx, actor org.Actor, now time.Time, caseID int64, a Action, from, to State, opinion string, data map[string]any) (int64, error) {
	var d string
	if len(data) > 0 {
		b, err := json.Marshal(data)
		if err != nil {
			return 0, err
		}
		d = string(b)
	}
	return audit.Append(ctx, tx, &audit.Entry{At: now, ActorID: actor.UserID, ActorName: actor.Name, ActorRole: string(actor.Role), ActorUnitID: actor.UnitID,
		Action: string(a), CaseID: caseID, FromState: string(from), ToState: string(to), Opinion: opinion, Data: d})
}

func (s *Service) logAdmin(ctx context.Context, tx *store.Tx, actor org.Actor, action string, data any) error {
	b, _ := json.Marshal(data)
	_, err := audit.Append(ctx, tx, &audit.Entry{At: s.now(), ActorID: actor.UserID, ActorName: actor.Name, ActorRole: string(actor.Role), ActorUnitID: actor.UnitID, Action: action, Data: string(b)})
	return err
}
