package workflow

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
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
	"chuangwen/internal/geo"
	"chuangwen/internal/org"
	"chuangwen/internal/photo"
	"chuangwen/internal/store"
	"chuangwen/internal/workcal"
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
	// SourceInspection is a failed observation of an assessment round
	// (模拟测评, 领导督导); internal/assess files these as the system.
	SourceInspection = "inspection"
	// SourceVolunteer is a report through 随手拍 by a volunteer signed in
	// on the volunteers' phone pages, as themselves.
	SourceVolunteer = "volunteer"
)

// Sources lists the sources of cases.
var Sources = []string{SourceCitizen, SourceInspector, SourceGrid, SourceLeader, SourceHotline, SourceAPI, SourceInspection, SourceVolunteer}

// Service runs the closed loop over one database.
type Service struct {
	DB     *store.DB
	Photos *photo.Store
	// PhotoJobs writes photo rows and makes their derived versions.
	PhotoJobs *photo.Worker
	Location  *time.Location
	Log       *slog.Logger
	// Now is the clock; tests and the demo loader set it.
	Now func() time.Time
	// AutoAccept lists the sources whose reports are accepted on arrival.
	AutoAccept []string
	cats       categoryCache
	// Locator places reported points in the grid; nil leaves cases unplaced.
	Locator Locator
	// Notifier, when set, is told of every change of state (residents'
	// status messages); nil tells no one.
	Notifier Notifier
	cal      calendarCache
	// walkFrom overrides searchWalkFrom (tests take both ways with few
	// cases); 0 keeps it.
	walkFrom int
	// walkWindow overrides the cases such a walk reads at most
	// (searchWalkWindow); 0 keeps it.
	walkWindow int
}

// NewService returns a Service with the product's defaults.
func NewService(db *store.DB, photos *photo.Store, loc *time.Location, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Service{DB: db, Photos: photos, Location: loc, Log: log, AutoAccept: []string{SourceInspector, SourceGrid}}
	s.PhotoJobs = photo.NewWorker(db, photos, log)
	s.PhotoJobs.Now = s.now // the worker keeps the service's clock
	return s
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
	ID           int64    `json:"id"`
	No           string   `json:"no"`
	Source       string   `json:"source"`
	CategoryID   int64    `json:"category_id"`
	CategoryName string   `json:"category_name"`
	Description  string   `json:"description"`
	Lat          *float64 `json:"lat,omitempty"`
	Lon          *float64 `json:"lon,omitempty"`
	Address      string   `json:"address,omitempty"`
	RegionID     int64    `json:"region_id,omitempty"`
	RegionName   string   `json:"region_name,omitempty"`
	Urgency      int      `json:"urgency"`
	State        State    `json:"state"`
	LeadUnitID   int64    `json:"lead_unit_id,omitempty"`
	LeadUnitName string   `json:"lead_unit_name,omitempty"`
	CoopUnitIDs  []int64  `json:"coop_unit_ids,omitempty"`
	// locked: loaded in the acting transaction with its row locked
	// (loadLocked), or filed in it: what apply requires.
	locked bool
	// held: a case filed in this transaction (ReportTx), whose actions
	// (the auto-accept and auto-dispatch) leave the row's changes to one
	// UPDATE at its end (writeHeld) instead of one each; cat: the
	// category as this transaction read it.
	held *heldRow
	cat  *Category
	// nextDispatchID: the id the dispatch row this action opens takes
	// (PostgreSQL; 0: the insert returns it).
	nextDispatchID int64
	DispatchID     int64     `json:"-"`
	Deadline       time.Time `json:"deadline,omitzero"`
	WarnAt         time.Time `json:"warn_at,omitzero"`
	Warning        int       `json:"warning"` // 0 none, 1 yellow, 2 red (overdue)
	Overdue        bool      `json:"overdue"`
	OverdueAt      time.Time `json:"overdue_at,omitzero"`
	Supervised     bool      `json:"supervised"`
	ReworkCount    int       `json:"rework_count"`
	ReturnCount    int       `json:"return_count"`
	ExtPending     bool      `json:"extension_pending"`
	ExtDeadline    time.Time `json:"extension_deadline,omitzero"`
	ExtReason      string    `json:"extension_reason,omitempty"`
	MergedInto     int64     `json:"merged_into,omitempty"`
	Reporter       *Reporter `json:"reporter,omitempty"`
	ReportedAt     time.Time `json:"reported_at"`
	AcceptedAt     time.Time `json:"accepted_at,omitzero"`
	DispatchedAt   time.Time `json:"dispatched_at,omitzero"`
	ClosedAt       time.Time `json:"closed_at,omitzero"`
	UpdatedAt      time.Time `json:"updated_at"`
	Version        int       `json:"version"`
	Photos         []Photo   `json:"photos,omitempty"`
	// Grid placement and routing (how the case got where it is).
	GridCellID   int64    `json:"grid_cell_id,omitempty"`
	LocationFlag string   `json:"location_flag,omitempty"`
	Routing      *Routing `json:"routing,omitempty"`
	// Client is what a client system sent beyond the case's fields (the
	// office only; filled in by Get).
	Client *ClientFields `json:"client_fields,omitempty"`
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
	// Ready is set once the derived versions exist; until then only the
	// office can open the original.
	Ready     bool   `json:"ready"`
	Failed    bool   `json:"failed,omitempty"`
	Path      string `json:"-"` // private original
	LargePath string `json:"-"`
	ThumbPath string `json:"-"`
}

// VariantKey returns the blob key of a derived version ("large", "thumb").
func (p Photo) VariantKey(v string) string {
	switch v {
	case "large":
		return p.LargePath
	case "thumb":
		return p.ThumbPath
	}
	return ""
}

const photoCols = `id, kind, mime, size, sha256, event_seq, created_at, path, large_path, thumb_path, derived_at, derive_error`

func scanPhoto(r store.Scanner) (Photo, error) {
	var p Photo
	var created, derived int64
	var derr string
	err := r.Scan(&p.ID, &p.Kind, &p.Mime, &p.Size, &p.SHA256, &p.EventSeq, &created, &p.Path, &p.LargePath, &p.ThumbPath, &derived, &derr)
	p.Created, p.Ready, p.Failed = store.Time(created), derived != 0, derr != ""
	return p, err
}

const caseCols = `c.id, c.no, c.source, c.category_id, COALESCE(cat.name, ''), c.description, c.lat, c.lon, c.address,
	COALESCE(c.region_id, 0), COALESCE(r.name, ''), c.urgency, c.state, COALESCE(c.lead_unit_id, 0), COALESCE(u.name, ''), COALESCE(c.dispatch_id, 0),
	c.deadline, c.warn_at, c.warning, c.overdue, c.overdue_at, c.supervised, c.rework_count, c.return_count,
	c.ext_pending, c.ext_deadline, c.ext_reason, COALESCE(c.merged_into, 0), c.reporter_name, c.reporter_phone, COALESCE(c.reporter_user_id, 0),
	c.reported_at, c.accepted_at, c.dispatched_at, c.closed_at, c.updated_at, c.version,
	COALESCE(c.grid_cell_id, 0), c.location_flag, c.routing`

const caseFrom = ` FROM cases c
	LEFT JOIN categories cat ON cat.id = c.category_id
	LEFT JOIN regions r ON r.id = c.region_id
	LEFT JOIN units u ON u.id = c.lead_unit_id`

func scanCase(row store.Scanner, extra ...any) (*Case, error) {
	var c Case
	var lat, lon sql.NullFloat64
	var state string
	var deadline, warnAt, overdueAt, extDeadline, reported, accepted, dispatched, closed, updated int64
	var rep Reporter
	var routing string
	dest := []any{&c.ID, &c.No, &c.Source, &c.CategoryID, &c.CategoryName, &c.Description, &lat, &lon, &c.Address,
		&c.RegionID, &c.RegionName, &c.Urgency, &state, &c.LeadUnitID, &c.LeadUnitName, &c.DispatchID,
		&deadline, &warnAt, &c.Warning, &c.Overdue, &overdueAt, &c.Supervised, &c.ReworkCount, &c.ReturnCount,
		&c.ExtPending, &extDeadline, &c.ExtReason, &c.MergedInto, &rep.Name, &rep.Phone, &rep.UserID,
		&reported, &accepted, &dispatched, &closed, &updated, &c.Version,
		&c.GridCellID, &c.LocationFlag, &routing}
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
	if routing != "" {
		c.Routing = new(Routing)
		if err := json.Unmarshal([]byte(routing), c.Routing); err != nil {
			c.Routing = nil
		}
	}
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
	return s.loadCase(ctx, q, actor, id, "")
}

// loadLocked loads a case to act on within tx: on PostgreSQL its row is
// locked as it is read (FOR UPDATE), so that concurrent actors take
// their turns and the one that waited reads the case as the first left
// it. (A SQLite write transaction holds the database's only write lock
// from its first statement, so there the lock is implied.) The same read
// takes the case's category (c.cat: a deadline needs its limits) and, on
// PostgreSQL, when action opens a dispatch row, that row's id from its
// sequence, so that the row's insert can wait for the next round trip
// (store.Tx.Defer): an acknowledgement is BEGIN with this read, the
// checks' reads, and the writes with the COMMIT.
func (s *Service) loadLocked(ctx context.Context, tx *store.Tx, actor org.Actor, id int64, action Action) (c *Case, err error) {
	var cat Category
	var unit string
	catCol := extraCol{caseCategoryCols, categoryDest(&cat, &unit)}
	defer func() {
		if c == nil {
			return
		}
		c.locked = true
		if cat.ID != 0 && cat.ID == c.CategoryID {
			cat.LimitUnit = workcal.Unit(unit)
			c.cat = &cat
		}
	}()
	if tx.Dialect() != store.Postgres {
		return s.loadCase(ctx, tx, actor, id, "", catCol)
	}
	// A statement that waited for the lock reads the case row as the one
	// before it left it, but everything else (its cooperating units, so
	// its scope; the names) as it was when the statement began: the
	// case's version read from that same older snapshot tells. Then the
	// case is read again, now that it is locked and no one can change it.
	var snapVersion int
	var next int64
	extra := []extraCol{catCol, {`(SELECT c2.version FROM cases c2 WHERE c2.id = c.id)`, []any{&snapVersion}}}
	if opensDispatch(action) {
		extra = append(extra, extraCol{`nextval(pg_get_serial_sequence('dispatches', 'id'))`, []any{&next}})
	}
	c, err = s.loadCase(ctx, tx, actor, id, " FOR UPDATE OF c", extra...)
	if err == nil && c.Version != snapVersion {
		return s.loadCase(ctx, tx, actor, id, "", catCol)
	}
	if c != nil {
		c.nextDispatchID = next
	}
	return c, err
}

// opensDispatch tells the actions whose step opens a new dispatch row
// (dispatchChange.create); another action that did would insert its row
// at once instead (apply).
func opensDispatch(a Action) bool { return a == Dispatch || a == VerifyFail }

// extraCol is one more expression a read of a case takes, and where it
// scans to.
type extraCol struct {
	sql  string
	dest []any
}

// loadCase reads a case in actor's scope; suffix ends the statement, and
// extra are more columns to read.
func (s *Service) loadCase(ctx context.Context, q store.Queryer, actor org.Actor, id int64, suffix string, extra ...extraCol) (*Case, error) {
	cond, args := actor.CaseScope(q.Dialect())
	var coops sql.NullString
	var c *Case
	cols := caseCols + `, ` + coopAgg[q.Dialect()]
	dest := []any{&coops}
	for _, e := range extra {
		cols += `, ` + e.sql
		dest = append(dest, e.dest...)
	}
	query, qargs := `SELECT `+cols+caseFrom+` WHERE c.id = ? AND `+cond+suffix, append([]any{id}, args...)
	var err error
	if tx, ok := q.(*store.Tx); ok && suffix != "" {
		// the locked read of an action: with the transaction's BEGIN in
		// one round trip on PostgreSQL
		err = tx.ReadRow(ctx, query, qargs, func(r store.Scanner) (err error) { c, err = scanCase(r, dest...); return err })
	} else {
		c, err = scanCase(q.QueryRow(ctx, query, qargs...), dest...)
	}
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
	// What a client system sent may name the reporter (its extra
	// fields): the office reads it, units do not.
	if actor.CanSeeReporter() {
		if c.Client, err = s.CaseClientFields(ctx, id); err != nil {
			return nil, err
		}
	}
	c.Photos, err = s.casePhotos(ctx, q, id)
	return c, err
}

func (s *Service) casePhotos(ctx context.Context, q store.Queryer, id int64) ([]Photo, error) {
	return store.Collect(ctx, q, scanPhoto, `SELECT `+photoCols+` FROM photos WHERE case_id = ? ORDER BY id`, id)
}

// Photo returns one photo of a case the actor may see.
func (s *Service) Photo(ctx context.Context, actor org.Actor, caseID, photoID int64) (Photo, error) {
	if _, err := s.load(ctx, s.DB.Reader(), actor, caseID); err != nil {
		return Photo{}, err
	}
	p, err := scanPhoto(s.DB.Reader().QueryRow(ctx, `SELECT `+photoCols+` FROM photos WHERE id = ? AND case_id = ?`, photoID, caseID))
	if errors.Is(err, sql.ErrNoRows) {
		return p, apperr.New(apperr.NotFound, "photo.not_found")
	}
	return p, err
}

// Timeline returns the trail of a case the actor may see.
func (s *Service) Timeline(ctx context.Context, actor org.Actor, id int64) ([]audit.Entry, error) {
	if _, err := s.load(ctx, s.DB.Reader(), actor, id); err != nil {
		return nil, err
	}
	evs, err := audit.ForCase(ctx, s.DB.Reader(), id)
	for i := range evs {
		evs[i].Data = withoutClientName(evs[i])
	}
	return evs, err
}

// withoutClientName is e's data without the name of the person a client
// system said wrote its update, which earlier versions kept there: the
// chain keeps it (an event is never rewritten), the timeline shows it to
// no one.
func withoutClientName(e audit.Entry) string {
	if e.Action != ActionClientUpdate || !strings.Contains(e.Data, `"name"`) {
		return e.Data
	}
	var m map[string]any
	if json.Unmarshal([]byte(e.Data), &m) != nil {
		return e.Data
	}
	delete(m, "name")
	b, err := json.Marshal(m)
	if err != nil {
		return e.Data
	}
	return string(b)
}

// NewCase is a report of a problem. Coordinates are WGS-84; the edges
// (API, Open311, public page) convert other datums before this point.
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
	ReporterEmail string
	DeviceID      string
	// Attributes are category-specific answers (Open311 attributes).
	Attributes map[string][]string
	// Client is what a client system sent beyond the case's fields.
	Client *ClientFields
	// Estimated marks Lat/Lon as estimated from the address text: the
	// case is placed in the cell found, flagged for the acceptor to check.
	Estimated bool
	Photos    []photo.File
	// MaxDescription overrides the length limit (the public page allows
	// fewer characters than the console).
	MaxDescription int
	// RequireInCity refuses a point outside the city instead of passing
	// it to the acceptor with a flag (public channels).
	RequireInCity bool
	// LeadUnitID, when set by the system, names the lead unit instead of
	// the responsibility table (an assessment's failed observation goes
	// to the site's responsible unit); CoopUnitIDs go with it.
	LeadUnitID  int64
	CoopUnitIDs []int64
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

// PreparedCase is a checked report, located in the grid, ready to be
// written by ReportTx.
type PreparedCase struct {
	in       NewCase
	actor    org.Actor
	location geo.Location
	cal      *workcal.Calendar
	// filed runs in ReportTx once the case and its trail are written,
	// before the case takes its number (see WhenFiled).
	filed func(ctx context.Context, tx *store.Tx, caseID int64) error
}

// WhenFiled returns p with fn to run within ReportTx's transaction once
// the case is written and before it takes its number: work of the
// caller's that does not need the number (the intake's receipt) is then
// done before the number's counter is held (on PostgreSQL the counter's
// row is locked from then to the commit).
func (p PreparedCase) WhenFiled(fn func(ctx context.Context, tx *store.Tx, caseID int64) error) PreparedCase {
	p.filed = fn
	return p
}

// Report files a new case (信息收集): it is placed in its grid cell, and
// accepted and dispatched at once when its source or category says so.
func (s *Service) Report(ctx context.Context, actor org.Actor, in NewCase) (*Case, error) {
	p, err := s.PrepareReport(ctx, actor, in)
	if err != nil {
		return nil, err
	}
	var out *Case
	err = s.DB.WithTx(ctx, func(tx *store.Tx) error {
		out, err = s.ReportTx(ctx, tx, p)
		return err
	})
	if err != nil {
		return nil, err
	}
	hideReporter(actor, out)
	return out, nil
}

// AsFiled is case id as the answer to its filing by actor showed it: the
// whole case, its reporter hidden from whoever may not see one, whatever
// the case's scope now. It answers a filing repeated under the same
// idempotency key (intake.Submit found the first one's case for the same
// caller); nothing else may call it with an id a caller chose.
func (s *Service) AsFiled(ctx context.Context, actor org.Actor, id int64) (*Case, error) {
	c, err := s.load(ctx, s.DB.Reader(), org.System, id)
	if err != nil {
		return nil, err
	}
	hideReporter(actor, c)
	return c, nil
}

// PrepareReport checks a report and locates it, outside any transaction.
func (s *Service) PrepareReport(ctx context.Context, actor org.Actor, in NewCase) (PreparedCase, error) {
	switch actor.Role {
	case org.RoleHandler, org.RoleVolunteer:
		return PreparedCase{}, apperr.New(apperr.Forbidden, "forbidden")
	}
	switch {
	case in.Source == "":
		in.Source = sourceFor(actor.Role)
	case actor.Role == org.RoleClient:
		// Another system files for citizens or a hotline, never as an
		// inspector or grid worker (whose reports skip the acceptor).
		if in.Source != SourceAPI && in.Source != SourceCitizen && in.Source != SourceHotline {
			in.Source = SourceAPI
		}
	case actor.Role != org.RoleAcceptor && actor.Role != org.RoleSystem && actor.Role != org.RoleAdmin:
		in.Source = sourceFor(actor.Role)
	}
	if !slices.Contains(Sources, in.Source) {
		return PreparedCase{}, apperr.New(apperr.Invalid, "case.bad_source")
	}
	in.Description = strings.TrimSpace(in.Description)
	if in.Description == "" {
		return PreparedCase{}, apperr.New(apperr.Invalid, "case.description_required")
	}
	max := MaxDescription
	if in.MaxDescription > 0 {
		max = in.MaxDescription
	}
	if utf8.RuneCountInString(in.Description) > max {
		return PreparedCase{}, apperr.New(apperr.Invalid, "case.description_too_long", "max", fmt.Sprint(max))
	}
	if in.Urgency == 0 {
		in.Urgency = UrgencyNormal
	}
	if in.Urgency < UrgencyNormal || in.Urgency > UrgencyCritical {
		return PreparedCase{}, apperr.New(apperr.Invalid, "case.bad_urgency")
	}
	if (in.Lat == nil) != (in.Lon == nil) {
		return PreparedCase{}, apperr.New(apperr.Invalid, "case.bad_location")
	}
	if in.Lat != nil && !ValidLatLon(*in.Lat, *in.Lon) {
		return PreparedCase{}, apperr.New(apperr.Invalid, "case.bad_location")
	}
	if in.Lat == nil && strings.TrimSpace(in.Address) == "" && in.RegionID == 0 {
		return PreparedCase{}, apperr.New(apperr.Invalid, "case.location_required")
	}
	p := PreparedCase{in: in, actor: actor}
	if in.Lat != nil && s.Locator != nil {
		loc, err := s.Locator.Locate(ctx, *in.Lat, *in.Lon)
		if err != nil {
			return p, err
		}
		if loc.Flag == geo.LocOutside && in.RequireInCity {
			return p, apperr.New(apperr.Invalid, "case.outside_city")
		}
		if in.Estimated && loc.Flag == geo.LocCell {
			loc.Flag = geo.LocAddress
		}
		p.location = loc
	}
	var err error
	p.cal, err = s.Calendar(ctx)
	return p, err
}

// ReportTx writes a prepared report within tx, with its trail, and its
// automatic acceptance and dispatch. The answer shows the reporter.
func (s *Service) ReportTx(ctx context.Context, tx *store.Tx, p PreparedCase) (*Case, error) {
	in, actor, loc := p.in, p.actor, p.location
	now := s.now()
	cat, err := s.Category(ctx, tx, in.CategoryID)
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		return nil, err // the database failed, not the input: no 400 for it
	}
	if err != nil || !cat.Active {
		return nil, apperr.New(apperr.Invalid, "category.not_found")
	}
	if cat.ParentID == 0 {
		return nil, apperr.New(apperr.Invalid, "case.category_leaf")
	}
	if in.RegionID == 0 {
		in.RegionID = loc.RegionID
		// A place named by its point: a district's or a street's staff
		// report within their area, as they would have had to name it.
		if actor.Scope == org.ScopeRegion {
			if in.RegionID == 0 && in.Lat == nil {
				// an address alone: their area cannot be told from it
				return nil, apperr.New(apperr.Invalid, "case.location_required")
			}
			var path string
			if in.RegionID != 0 {
				if err := tx.QueryRow(ctx, `SELECT path FROM regions WHERE id = ?`, in.RegionID).Scan(&path); err != nil {
					return nil, err
				}
			}
			if path == "" || !actor.SeesRegionPath(path) {
				return nil, apperr.New(apperr.Invalid, "case.location_out_of_scope")
			}
		}
	} else {
		var path string
		err := tx.QueryRow(ctx, `SELECT path FROM regions WHERE id = ?`, in.RegionID).Scan(&path)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, apperr.New(apperr.Invalid, "region.not_found")
		}
		if err != nil {
			return nil, err
		}
		if actor.Scope == org.ScopeRegion && !actor.SeesRegionPath(path) {
			return nil, apperr.New(apperr.Invalid, "case.region_out_of_scope")
		}
	}
	routing, err := s.route(ctx, tx, cat, in.RegionID, loc)
	if err != nil {
		return nil, err
	}
	if in.LeadUnitID != 0 && actor.Role == org.RoleSystem {
		routing.RuleID, routing.RuleCategory, routing.RuleRegion, routing.OwnerFallback = 0, 0, 0, false
		routing.LeadUnitID, routing.CoopUnitIDs = in.LeadUnitID, slices.DeleteFunc(slices.Clone(in.CoopUnitIDs), func(id int64) bool { return id == in.LeadUnitID })
	}
	// An assessment's finding was accepted by the office when it planned
	// the round: it is accepted and dispatched on arrival.
	inspection := in.Source == SourceInspection && actor.Role == org.RoleSystem
	switch {
	case inspection, slices.Contains(s.AutoAccept, in.Source):
		routing.AutoAccept = "source"
	case cat.AutoAccept:
		routing.AutoAccept = "category"
	}
	dispatch := cat.AutoDispatch || inspection
	routing.AutoDispatch = routing.AutoAccept != "" && dispatch && routing.LeadUnitID != 0
	routing.NoRule = routing.AutoAccept != "" && dispatch && routing.LeadUnitID == 0
	// The case's number is a counter's next value, and the counter's row
	// stays locked from that moment to the commit. On PostgreSQL, where
	// reports are written side by side, taking it first made every
	// report wait for the one before to commit (the intake ran at 150 a
	// second with eight clients, all waiting on that row): there the
	// case is written under a placeholder no one sees, and the number is
	// taken at the end of the report's work. SQLite writes
	// one transaction at a time and takes it at once.
	var no string
	if tx.Dialect() == store.Postgres {
		no = placeholderNo()
	} else if no, err = s.nextNo(ctx, tx, now); err != nil {
		return nil, err
	}
	var lat, lon any
	if in.Lat != nil {
		lat, lon = *in.Lat, *in.Lon
	}
	var attrs string
	if len(in.Attributes) > 0 {
		b, _ := json.Marshal(in.Attributes)
		attrs = string(b)
	}
	id, err := store.InsertID(ctx, tx, `INSERT INTO cases (no, source, category_id, description, lat, lon, address, region_id, urgency, state,
		reporter_name, reporter_phone, reporter_email, reporter_device, reporter_user_id, reported_at, updated_at,
		grid_cell_id, location_flag, routing, attributes, client_fields)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		no, in.Source, cat.ID, in.Description, lat, lon, strings.TrimSpace(in.Address), nullable(in.RegionID), in.Urgency, string(Reported),
		strings.TrimSpace(in.ReporterName), strings.TrimSpace(in.ReporterPhone), strings.TrimSpace(in.ReporterEmail), strings.TrimSpace(in.DeviceID),
		nullable(actor.UserID), store.Ms(now), store.Ms(now),
		nullable(loc.CellID), loc.Flag, routing.encode(), attrs, in.Client.encode())
	if err != nil {
		return nil, fmt.Errorf("insert case: %w", err)
	}
	indexNewCase(ctx, tx, id, &no, in.Description, in.Address)
	data := map[string]any{"source": in.Source, "category_id": cat.ID, "urgency": in.Urgency}
	if loc.Flag != "" {
		data["location"] = loc.Flag
		if loc.CellCode != "" {
			data["grid"] = loc.CellCode
		}
	}
	if len(in.Photos) > 0 {
		data["photos"] = photoDigests(in.Photos)
	}
	if in.Lat != nil {
		earlier, err := s.findRecurrence(ctx, tx, id, cat, *in.Lat, *in.Lon, now)
		if err != nil {
			return nil, err
		}
		if earlier != "" {
			data["recurrence_of"] = earlier
		}
	}
	if _, err := s.appendEvent(ctx, tx, actor, now, id, Report, "", Reported, "", data, false); err != nil {
		return nil, err
	}
	// (the photos name the event just appended: photo.LastEvent)
	if err := s.PhotoJobs.Insert(ctx, tx, id, "before", photo.LastEvent, now, in.Photos); err != nil {
		return nil, err
	}
	c, err := s.load(ctx, tx, org.System, id)
	if err != nil {
		return nil, err
	}
	c.locked = true // inserted by this transaction: no one else sees it yet
	c.cat = &cat
	// Each index that names a column a state change touches is rewritten
	// once per UPDATE, and the case row carries many: the auto-accept,
	// the auto-dispatch and the late number change the row once, at the
	// end of the report (writeHeld).
	c.held = &heldRow{base: caseColumns(c)}
	if routing.AutoAccept != "" {
		before := *c
		if err := s.apply(ctx, tx, p.cal, org.System, c, ActInput{Action: Accept}, now); err != nil {
			return nil, err
		}
		if routing.AutoDispatch {
			in := ActInput{Action: Dispatch, LeadUnitID: routing.LeadUnitID, CoopUnitIDs: routing.CoopUnitIDs}
			if err := s.apply(ctx, tx, p.cal, org.System, c, in, now); err != nil {
				return nil, err
			}
		}
		if err := refreshNames(ctx, tx, &before, c); err != nil {
			return nil, err
		}
	}
	c.cat = nil
	if p.filed != nil {
		if err := p.filed(ctx, tx, id); err != nil {
			return nil, err
		}
	}
	if tx.Dialect() == store.Postgres {
		// the number, taken last (above); writeHeld writes it with the
		// actions' changes
		if c.No, err = s.nextNo(ctx, tx, now); err != nil {
			return nil, err
		}
		no = c.No
	}
	if err := s.writeHeld(ctx, tx, c); err != nil {
		return nil, err
	}
	return c, nil
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

// placeholderNo is a new case's number until it takes its own at the
// end of its report: unique, and never seen outside the transaction.
func placeholderNo() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "~" + hex.EncodeToString(b[:])
}

func photoDigests(ps []photo.File) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.SHA256
	}
	return out
}

// appendEvent adds an action on a case to the trail; needSeq: the caller
// needs its sequence number (its photos name it), else the insert may
// wait for the next round trip.
func (s *Service) appendEvent(ctx context.Context, tx *store.Tx, actor org.Actor, now time.Time, caseID int64, a Action, from, to State, opinion string, data map[string]any, needSeq bool) (int64, error) {
	var d string
	if len(data) > 0 {
		b, err := json.Marshal(data)
		if err != nil {
			return 0, err
		}
		d = string(b)
	}
	e := actor.Entry(now, string(a), nil)
	e.CaseID, e.FromState, e.ToState, e.Opinion, e.Data = caseID, string(from), string(to), opinion, d
	if !needSeq {
		return 0, audit.AppendDeferred(ctx, tx, e)
	}
	return audit.Append(ctx, tx, e)
}

func (s *Service) logAdmin(ctx context.Context, tx *store.Tx, actor org.Actor, action string, data any) error {
	_, err := audit.Append(ctx, tx, actor.Entry(s.now(), action, data))
	return err
}
