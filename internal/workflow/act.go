package workflow

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"chuangwen/internal/apperr"
	"chuangwen/internal/geo"
	"chuangwen/internal/org"
	"chuangwen/internal/photo"
	"chuangwen/internal/store"
	"chuangwen/internal/workcal"
)

// ActInput is one action on a case.
type ActInput struct {
	Action Action
	// Version, when set, must equal the case's version: the client saw the
	// case in that version and acts on what it saw (optimistic locking).
	Version int
	Opinion string
	// Dispatch: lead and cooperating units (the responsibility table fills
	// them in when LeadUnitID is 0).
	LeadUnitID  int64
	CoopUnitIDs []int64
	// Deadline overrides the category's limit on dispatch, rework and
	// resume; it is the requested new deadline of an extension.
	Deadline time.Time
	// MergeInto is the case this one duplicates.
	MergeInto int64
	// Accept may correct the category and urgency, and place a case the
	// grid could not (a region, or a point that is located again).
	CategoryID int64
	Urgency    int
	RegionID   int64
	Lat, Lon   *float64
	Photos     []photo.File
	// RevisitID is the drawn revisit a Revisit or Relapse records.
	RevisitID int64
}

// MaxCoopUnits is the most cooperating units one dispatch names.
const MaxCoopUnits = 50

// opinionRequired lists actions that must say why.
var opinionRequired = []Action{Reject, Return, RequestExtension, DenyExtension, Postpone, Feedback, VerifyFail, Reopen, Relapse, Void, Comment, Supervise}

// Act performs one action on a case for actor, inside one transaction that
// also writes the trail. Two people acting on the same case at once cannot
// both succeed: the update is conditional on the version read.
func (s *Service) Act(ctx context.Context, actor org.Actor, id int64, in ActInput) (*Case, error) {
	if err := checkInput(&in); err != nil {
		return nil, err
	}
	cal, err := s.Calendar(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var out *Case
	// Grouped: on SQLite, actions that arrive together share a commit.
	err = s.DB.Grouped(ctx, func(ctx context.Context, tx *store.Tx) error {
		c, err := s.loadLocked(ctx, tx, actor, id, in.Action)
		if apperr.Is(err, apperr.NotFound) {
			return s.lostRace(ctx, tx, actor, id, in.Version)
		}
		if err != nil {
			return err
		}
		before := *c
		if err := s.apply(ctx, tx, cal, actor, c, in, now); err != nil {
			return err
		}
		out = c
		return refreshNames(ctx, tx, &before, c)
	})
	if err != nil {
		return nil, err
	}
	hideReporter(actor, out)
	return out, nil
}

// refreshNames looks up again the names of what an action changed (the
// answer is the case as apply left it, not a second read of it).
func refreshNames(ctx context.Context, tx *store.Tx, before, c *Case) error {
	if c.LeadUnitID != before.LeadUnitID && (c.LeadUnitName == before.LeadUnitName || c.LeadUnitID == 0) {
		// (a dispatch names its unit already)
		c.LeadUnitName = ""
		if c.LeadUnitID != 0 {
			if err := tx.QueryRow(ctx, `SELECT name FROM units WHERE id = ?`, c.LeadUnitID).Scan(&c.LeadUnitName); err != nil {
				return err
			}
		}
	}
	if c.CategoryID != before.CategoryID {
		if err := tx.QueryRow(ctx, `SELECT name FROM categories WHERE id = ?`, c.CategoryID).Scan(&c.CategoryName); err != nil {
			return err
		}
	}
	if c.RegionID != before.RegionID {
		c.RegionName = ""
		if c.RegionID != 0 {
			if err := tx.QueryRow(ctx, `SELECT name FROM regions WHERE id = ?`, c.RegionID).Scan(&c.RegionName); err != nil {
				return err
			}
		}
	}
	return nil
}

// lostRace answers an action on a case that is not in actor's scope. A
// caller who acted on the version it saw, on a case dispatched to its
// unit at some time, lost a race: someone moved the case on and out of
// its reach (returned, dispatched elsewhere, closed) between its reading
// and its acting. It is told so, with the case's state now (409), not
// that the case does not exist. Anyone else gets the 404 that keeps
// other units' cases unseen: without a version, or a unit that never had
// the case, there is nothing the caller saw.
func (s *Service) lostRace(ctx context.Context, q store.Queryer, actor org.Actor, id int64, version int) error {
	notFound := apperr.New(apperr.NotFound, "case.not_found")
	if version == 0 || actor.UnitID == 0 {
		return notFound
	}
	var state string
	var now int
	err := q.QueryRow(ctx, `SELECT c.state, c.version FROM cases c
		WHERE c.id = ? AND EXISTS (SELECT 1 FROM dispatches d WHERE d.case_id = c.id AND d.unit_id = ?)`, id, actor.UnitID).Scan(&state, &now)
	if errors.Is(err, sql.ErrNoRows) || err == nil && now <= version {
		return notFound
	}
	if err != nil {
		return fmt.Errorf("lost race on case %d: %w", id, err)
	}
	return apperr.New(apperr.Conflict, "case.moved_on", "state", "state."+state)
}

func checkInput(in *ActInput) error {
	if _, ok := rules[in.Action]; !ok {
		return apperr.New(apperr.Invalid, "case.bad_action", "action", string(in.Action))
	}
	in.Opinion = strings.TrimSpace(in.Opinion)
	if slices.Contains(opinionRequired, in.Action) && in.Opinion == "" {
		return apperr.New(apperr.Invalid, "case.opinion_required", "action", "action."+string(in.Action))
	}
	if len([]rune(in.Opinion)) > MaxDescription {
		return apperr.New(apperr.Invalid, "case.description_too_long", "max", fmt.Sprint(MaxDescription))
	}
	if len(in.CoopUnitIDs) > MaxCoopUnits {
		return apperr.New(apperr.Invalid, "case.too_many_coops", "max", fmt.Sprint(MaxCoopUnits))
	}
	if in.Action == Feedback && len(in.Photos) == 0 {
		return apperr.New(apperr.Invalid, "case.after_photo_required")
	}
	if in.Action == Relapse && len(in.Photos) == 0 {
		return apperr.New(apperr.Invalid, "revisit.photo_required")
	}
	return nil
}

// ActTx is Act within a transaction the caller owns (a citizen's rating
// and the reopening it causes commit together).
func (s *Service) ActTx(ctx context.Context, tx *store.Tx, actor org.Actor, id int64, in ActInput) error {
	if err := checkInput(&in); err != nil {
		return err
	}
	cal, err := s.Calendar(ctx)
	if err != nil {
		return err
	}
	c, err := s.loadLocked(ctx, tx, actor, id, in.Action)
	if err != nil {
		return err
	}
	return s.apply(ctx, tx, cal, actor, c, in, s.now())
}

// apply checks and performs in on c (already loaded within tx) and writes
// the case row, its dispatch and the trail event.
func (s *Service) apply(ctx context.Context, tx *store.Tx, cal *workcal.Calendar, actor org.Actor, c *Case, in ActInput, now time.Time) error {
	if !RoleMay(actor.Role, in.Action) {
		return apperr.New(apperr.Forbidden, "case.role_forbidden", "action", "action."+string(in.Action))
	}
	next, ok := Next(c.State, in.Action)
	if !ok {
		return apperr.New(apperr.Conflict, "case.action_forbidden", "action", "action."+string(in.Action), "state", "state."+string(c.State))
	}
	if in.Version != 0 && in.Version != c.Version {
		return apperr.New(apperr.Conflict, "case.stale")
	}
	if actor.Role == org.RoleHandler && in.Action != Comment && c.LeadUnitID != actor.UnitID {
		return apperr.New(apperr.Forbidden, "case.not_lead_unit")
	}
	if !Allowed(actor, c, in.Action) {
		return apperr.New(apperr.Conflict, "case.action_not_now", "action", "action."+string(in.Action))
	}
	// The case row is locked before any other row is touched (dispatches,
	// cooperating units): the deadline watch locks cases before dispatches
	// too, so the two never deadlock, and a concurrent actor waits for
	// this one and then acts on the case as this one left it. loadLocked
	// takes the lock as it reads (on SQLite the transaction holds the
	// database's only write lock from its first statement); a case filed
	// in this transaction is seen by no one else.
	if !c.locked {
		return fmt.Errorf("case %d: acted on without its row locked", c.ID)
	}
	from := c.State
	before := caseColumns(c)
	if c.held != nil {
		before = c.held.base
	}
	a := &actCtx{s: s, ctx: ctx, tx: tx, cal: cal, actor: actor, c: c, in: in, now: now, data: map[string]any{}}
	if step := steps[in.Action]; step != nil {
		if err := step(a); err != nil {
			return err
		}
	}
	data, row, photoKind := a.data, a.row, a.photoKind
	if photoKind == "" && len(in.Photos) > 0 {
		photoKind = "evidence"
	}
	if len(in.Photos) > 0 {
		data["photos"] = photoDigests(in.Photos)
	}
	c.State = next
	if next != InProgress {
		// A pending extension request belongs to the handling that just
		// ended (returned, reported, postponed, voided...).
		c.ExtPending, c.ExtDeadline, c.ExtReason = false, time.Time{}, ""
	}

	// Dispatch rows: close out the current one, then open a new one if the
	// action dispatches.
	// (Writes whose answer is not read wait for the next round trip on
	// PostgreSQL: store.Tx.Defer.)
	if len(row.set) > 0 && c.DispatchID != 0 {
		if err := tx.Defer(ctx, `UPDATE dispatches SET `+strings.Join(row.set, ", ")+` WHERE id = ?`, append(row.args, c.DispatchID)...); err != nil {
			return fmt.Errorf("update dispatch: %w", err)
		}
	}
	if in.Action == Return || in.Action == Reopen || in.Action == Relapse {
		c.DispatchID = 0
	}
	if row.create {
		if err := openDispatch(ctx, tx, c, now); err != nil {
			return fmt.Errorf("insert dispatch: %w", err)
		}
	}
	if in.Action == Dispatch || in.Action == Return || in.Action == Reopen || in.Action == Relapse {
		if err := tx.Defer(ctx, `DELETE FROM case_coop_units WHERE case_id = ?`, c.ID); err != nil {
			return err
		}
		for _, u := range c.CoopUnitIDs {
			if err := tx.Defer(ctx, `INSERT INTO case_coop_units (case_id, unit_id) VALUES (?, ?)`, c.ID, u); err != nil {
				return err
			}
		}
	}

	c.Version++
	c.UpdatedAt = now
	if c.held != nil {
		c.held.bumps++ // written by writeHeld
	} else if err := writeCase(ctx, tx, c, before, 1); err != nil {
		return err
	}
	if (in.Action == Dispatch || in.Action == Return || in.Action == Reopen || in.Action == Relapse) && c.held == nil {
		// the case's units changed: their search tokens follow (PostgreSQL;
		// a case filed in this transaction has no index row yet, and gets
		// its tokens when it is indexed at the end: indexNewCase)
		if err := indexUnits(ctx, tx, c.ID); err != nil {
			return err
		}
	}
	if _, err := s.appendEvent(ctx, tx, actor, now, c.ID, in.Action, from, c.State, in.Opinion, data, false); err != nil {
		return err
	}
	// The photos name the event just appended (photo.LastEvent): they
	// follow it before any other write.
	if err := s.PhotoJobs.Insert(ctx, tx, c.ID, photoKind, photo.LastEvent, now, in.Photos); err != nil {
		return err
	}
	if err := alertAfter(ctx, tx, actor, c, in.Action, now); err != nil {
		return fmt.Errorf("staff alerts: %w", err)
	}
	if s.Notifier != nil && from != c.State {
		if err := s.Notifier.StateChanged(ctx, tx, c, from, in.Opinion, now); err != nil {
			return fmt.Errorf("notify: %w", err)
		}
	}
	return nil
}

// openDispatch inserts c's new dispatch row and sets c.DispatchID: with
// the id its locked read drew (loadLocked), the insert waits for the next
// round trip; without, it returns the id.
func openDispatch(ctx context.Context, tx *store.Tx, c *Case, now time.Time) error {
	const cols = `case_id, unit_id, region_id, dispatched_at, deadline`
	args := []any{c.ID, c.LeadUnitID, nullable(c.RegionID), store.Ms(now), store.Ms(c.Deadline)}
	if id := c.nextDispatchID; id != 0 {
		c.nextDispatchID = 0
		c.DispatchID = id
		return tx.Defer(ctx, `INSERT INTO dispatches (id, `+cols+`) VALUES (?, ?, ?, ?, ?, ?)`, append([]any{id}, args...)...)
	}
	id, err := store.InsertID(ctx, tx, `INSERT INTO dispatches (`+cols+`) VALUES (?, ?, ?, ?, ?)`, args...)
	c.DispatchID = id
	return err
}

// Notifier is told of every change of a case's state, inside the
// transaction that makes it (the residents' status messages queue there,
// so that a message goes out only for a change that happened). c is the
// case as changed, with its reporter; opinion is the action's.
type Notifier interface {
	StateChanged(ctx context.Context, tx *store.Tx, c *Case, from State, opinion string, at time.Time) error
}

// actCtx is one action in progress: the case as loaded and changed, the
// trail event's data, the change to the dispatch row, and the kind of the
// photos it brings.
type actCtx struct {
	s         *Service
	ctx       context.Context
	tx        *store.Tx
	cal       *workcal.Calendar
	actor     org.Actor
	c         *Case
	in        ActInput
	now       time.Time
	data      map[string]any
	row       dispatchChange
	photoKind string
}

// category is the case's category, as this transaction read it.
func (a *actCtx) category() (Category, error) {
	if a.c.cat != nil && a.c.cat.ID == a.c.CategoryID {
		return *a.c.cat, nil
	}
	return a.s.Category(a.ctx, a.tx, a.c.CategoryID)
}

// newDeadline picks the explicit deadline or the category's limit.
func (a *actCtx) newDeadline() (time.Time, error) {
	if !a.in.Deadline.IsZero() {
		if !a.in.Deadline.After(a.now) {
			return time.Time{}, apperr.New(apperr.Invalid, "case.deadline_past")
		}
		if err := a.withinAYear(a.in.Deadline); err != nil {
			return time.Time{}, err
		}
		return a.in.Deadline.UTC().Truncate(time.Millisecond), nil
	}
	cat, err := a.category()
	if err != nil {
		return time.Time{}, err
	}
	lim := cat.Limit(a.c.Urgency)
	if lim.Validate() != nil {
		return time.Time{}, apperr.New(apperr.Invalid, "category.bad_limit")
	}
	return a.cal.Deadline(a.now, lim).UTC(), nil
}

// withinAYear refuses a deadline given by hand more than a year away (a
// typo's year 9999 would keep the case off every overdue list).
func (a *actCtx) withinAYear(d time.Time) error {
	if d.After(a.now.AddDate(1, 0, 0)) {
		return apperr.New(apperr.Invalid, "case.deadline_far")
	}
	return nil
}

// setTimer starts the clock of a handling that runs from start.
func (a *actCtx) setTimer(start, deadline time.Time) {
	a.c.Deadline = deadline
	a.c.WarnAt = a.cal.WarnAt(start, deadline, WarnFraction).UTC()
	a.c.Warning, a.c.Overdue, a.c.OverdueAt = 0, false, time.Time{}
	a.data["deadline"] = deadline
}

// clearTimer stops the clock: no handling is running.
func (a *actCtx) clearTimer() {
	a.c.Deadline, a.c.WarnAt = time.Time{}, time.Time{}
	a.c.Warning, a.c.Overdue, a.c.OverdueAt = 0, false, time.Time{}
}

type dispatchChange struct {
	set    []string
	args   []any
	create bool
}

type column struct {
	name string
	val  any
}

// writeCase writes the columns of c that differ from before, with its
// updated_at, and raises the row's version by bumps (one per action).
// Write only the columns changed: SQLite rewrites every index whose
// columns are named in SET, and a case row carries many.
func writeCase(ctx context.Context, tx *store.Tx, c *Case, before []column, bumps int) error {
	sets := []string{"updated_at = ?", "version = version + ?"}
	args := []any{store.Ms(c.UpdatedAt), bumps}
	for i, col := range caseColumns(c) {
		if col.val != before[i].val {
			sets = append(sets, col.name+" = ?")
			args = append(args, col.val)
		}
	}
	if bumps == 0 && len(args) == 2 {
		return nil // no action, no change
	}
	// Locked since it was read: the version is the one read.
	if err := tx.Defer(ctx, `UPDATE cases SET `+strings.Join(sets, ", ")+` WHERE id = ?`, append(args, c.ID)...); err != nil {
		return fmt.Errorf("update case %d: %w", c.ID, err)
	}
	return nil
}

// heldRow is a case row's pending change: its columns as last written,
// and the actions applied since.
type heldRow struct {
	base  []column
	bumps int
}

// writeHeld writes the actions held on c (Case.held) in one UPDATE.
func (s *Service) writeHeld(ctx context.Context, tx *store.Tx, c *Case) error {
	h := c.held
	c.held = nil
	if h == nil {
		return nil
	}
	return writeCase(ctx, tx, c, h.base, h.bumps)
}

// caseColumns lists the case's writable columns with their stored values
// (comparable, so that changes can be found with !=).
func caseColumns(c *Case) []column {
	return []column{
		{"state", string(c.State)}, {"category_id", c.CategoryID}, {"urgency", c.Urgency}, {"lead_unit_id", nullable(c.LeadUnitID)},
		{"dispatch_id", nullable(c.DispatchID)}, {"deadline", store.Ms(c.Deadline)}, {"warn_at", store.Ms(c.WarnAt)}, {"warning", c.Warning},
		{"overdue", c.Overdue}, {"overdue_at", store.Ms(c.OverdueAt)}, {"supervised", c.Supervised}, {"rework_count", c.ReworkCount},
		{"return_count", c.ReturnCount}, {"ext_pending", c.ExtPending}, {"ext_deadline", store.Ms(c.ExtDeadline)}, {"ext_reason", c.ExtReason},
		{"merged_into", nullable(c.MergedInto)}, {"accepted_at", store.Ms(c.AcceptedAt)}, {"dispatched_at", store.Ms(c.DispatchedAt)},
		{"closed_at", store.Ms(c.ClosedAt)},
		{"region_id", nullable(c.RegionID)}, {"lat", nullableF(c.Lat)}, {"lon", nullableF(c.Lon)}, {"grid_cell_id", nullable(c.GridCellID)},
		{"location_flag", c.LocationFlag}, {"routing", c.Routing.text()}, {"no", c.No},
	}
}

func nullableF(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}

// relocate applies an acceptor's placement of a case on Accept: a new
// point is located in the grid again (and must lie in the city); a region
// alone replaces the region. The routing record follows.
func (s *Service) relocate(ctx context.Context, tx *store.Tx, actor org.Actor, c *Case, in ActInput, data map[string]any) error {
	if in.Lat == nil && in.Lon == nil && in.RegionID == 0 {
		return nil
	}
	if (in.Lat == nil) != (in.Lon == nil) || in.Lat != nil && !ValidLatLon(*in.Lat, *in.Lon) {
		return apperr.New(apperr.Invalid, "case.bad_location")
	}
	var loc geo.Location
	if in.Lat != nil {
		lat, lon := *in.Lat, *in.Lon
		c.Lat, c.Lon = &lat, &lon
		data["lat"], data["lon"] = lat, lon
		if s.Locator != nil {
			var err error
			if loc, err = s.Locator.Locate(ctx, lat, lon); err != nil {
				return err
			}
			if loc.Flag == geo.LocOutside {
				return apperr.New(apperr.Invalid, "case.outside_city")
			}
		}
		c.GridCellID, c.LocationFlag = loc.CellID, loc.Flag
		if loc.RegionID != 0 {
			if actor.Scope == org.ScopeRegion {
				var path string
				err := tx.QueryRow(ctx, `SELECT path FROM regions WHERE id = ?`, loc.RegionID).Scan(&path)
				if err != nil && !errors.Is(err, sql.ErrNoRows) {
					return err
				}
				if err != nil || !actor.SeesRegionPath(path) {
					return apperr.New(apperr.Invalid, "case.region_out_of_scope")
				}
			}
			c.RegionID = loc.RegionID
		}
	}
	if in.RegionID != 0 {
		var path string
		err := tx.QueryRow(ctx, `SELECT path FROM regions WHERE id = ?`, in.RegionID).Scan(&path)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if err != nil {
			return apperr.New(apperr.Invalid, "region.not_found")
		}
		if actor.Scope == org.ScopeRegion && !actor.SeesRegionPath(path) {
			return apperr.New(apperr.Invalid, "case.region_out_of_scope")
		}
		c.RegionID = in.RegionID
		if c.LocationFlag == geo.LocNone || c.LocationFlag == "" {
			c.LocationFlag = geo.LocManual
		}
	}
	data["region_id"] = c.RegionID
	cat, err := s.Category(ctx, tx, c.CategoryID)
	if err != nil {
		return err
	}
	r, err := s.route(ctx, tx, cat, c.RegionID, loc)
	if err != nil {
		return err
	}
	if loc.Flag == "" && c.Routing != nil {
		r.Location = c.Routing.Location
		r.Location.Flag = c.LocationFlag
	}
	c.Routing = &r
	return nil
}
