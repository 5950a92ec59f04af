// Package volunteer runs the volunteer service of the civilization
// practice network (新时代文明实践志愿服务): the network's nodes tied to the
// region tree (centre 中心 for a district, institute 所 for a street,
// station 站 for a community), volunteer teams (志愿服务队), volunteers
// who register from a phone and are approved by their team's
// coordinator, activities with sign-up and on-site check-in by QR code
// within a time window and a distance, the hours the organiser confirms
// (谁组织谁记录), star levels, certificates anyone can verify, and the
// statistics per district and street that the bulletin reports.
//
// Who sees what: the administrator and a volunteer officer (role
// volunteer) of city scope see every team; a team's coordinator sees the
// teams they coordinate and nothing else; a volunteer officer of region
// scope sees the teams of their region, of unit scope their unit's.
// Leaders read the statistics, which carry no person. Volunteers are not
// staff users: they sign in with their phone number on their own pages,
// and see only themselves.
package volunteer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"chuangwen/internal/apperr"
	"chuangwen/internal/audit"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
)

// Service is the volunteer service over one database.
type Service struct {
	DB       *store.DB
	Org      *org.Store
	Seal     *Sealer
	Log      *slog.Logger
	Location *time.Location
	Now      func() time.Time
}

// New returns a service; seal protects identity numbers.
func New(db *store.DB, orgs *org.Store, seal *Sealer, loc *time.Location, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if loc == nil {
		loc = time.UTC
	}
	return &Service{DB: db, Org: orgs, Seal: seal, Log: log, Location: loc, Now: time.Now}
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// ---- settings ----

// Settings are the volunteer service's rules, kept in the settings table.
type Settings struct {
	// StarHours are the cumulative hours of stars 1–5 (一星…五星).
	StarHours []int `json:"star_hours"`
	// CheckinEarlyMin is how long before an activity's start check-in opens.
	CheckinEarlyMin int `json:"checkin_early_min"`
	// CheckoutLateMin is how long after its end check-out stays open.
	CheckoutLateMin int `json:"checkout_late_min"`
	// RadiusM is the default distance from an activity's place within
	// which a phone may check in or out.
	RadiusM int `json:"radius_m"`
}

// DefaultSettings are the product's defaults: the common 100/300/600/
// 1000/1500-hour star scale, check-in from 30 minutes before the start,
// check-out until an hour after the end, within 300 m.
func DefaultSettings() Settings {
	return Settings{StarHours: []int{100, 300, 600, 1000, 1500}, CheckinEarlyMin: 30, CheckoutLateMin: 60, RadiusM: 300}
}

const settingsKey = "volunteer"

// Check reports the first thing wrong with st.
func (st Settings) Check() error {
	if len(st.StarHours) != 5 {
		return apperr.New(apperr.Invalid, "volunteer.stars_bad")
	}
	for i, h := range st.StarHours {
		if h <= 0 || (i > 0 && h <= st.StarHours[i-1]) {
			return apperr.New(apperr.Invalid, "volunteer.stars_bad")
		}
	}
	if st.CheckinEarlyMin < 0 || st.CheckinEarlyMin > 24*60 || st.CheckoutLateMin < 0 || st.CheckoutLateMin > 24*60 {
		return apperr.New(apperr.Invalid, "volunteer.window_bad")
	}
	if st.RadiusM < 10 || st.RadiusM > 10000 {
		return apperr.New(apperr.Invalid, "volunteer.radius_bad")
	}
	return nil
}

// Settings returns the stored settings, or the defaults.
func (s *Service) Settings(ctx context.Context) (Settings, error) {
	return store.ReadSetting(ctx, s.DB.Reader(), settingsKey, DefaultSettings())
}

// SaveSettings stores st (administrator only).
func (s *Service) SaveSettings(ctx context.Context, actor org.Actor, st Settings) error {
	if actor.Role != org.RoleAdmin {
		return apperr.New(apperr.Forbidden, "forbidden")
	}
	if err := st.Check(); err != nil {
		return err
	}
	return s.DB.WithTx(ctx, func(tx *store.Tx) error {
		if err := store.WriteSetting(ctx, tx, settingsKey, st); err != nil {
			return err
		}
		return s.log(ctx, tx, actor, "volunteer.settings", st)
	})
}

// Stars is the star level (0–5) of a volunteer with minutes of confirmed
// service: a level is reached at exactly its hours.
func (st Settings) Stars(minutes int64) int {
	n := 0
	for _, h := range st.StarHours {
		if minutes >= int64(h)*60 {
			n++
		}
	}
	return n
}

// NextStar is the hours of the next star level, 0 at five stars.
func (st Settings) NextStar(minutes int64) int {
	if n := st.Stars(minutes); n < len(st.StarHours) {
		return st.StarHours[n]
	}
	return 0
}

func (s *Service) log(ctx context.Context, tx *store.Tx, actor org.Actor, action string, data any) error {
	_, err := audit.Append(ctx, tx, actor.Entry(s.now(), action, data))
	return err
}

// ---- the practice network and teams ----

// Node kinds follow the region levels they serve.
const (
	NodeCentre    = "centre"    // 新时代文明实践中心 (district)
	NodeInstitute = "institute" // 新时代文明实践所 (street)
	NodeStation   = "station"   // 新时代文明实践站 (community)
)

// NodeKindFor is the node kind serving a region level ("" for none).
func NodeKindFor(level string) string {
	switch level {
	case "district":
		return NodeCentre
	case "street":
		return NodeInstitute
	case "community":
		return NodeStation
	}
	return ""
}

// Node is a practice network node.
type Node struct {
	ID       int64  `json:"id"`
	Kind     string `json:"kind"`
	Name     string `json:"name"`
	RegionID int64  `json:"region_id"`
	Region   string `json:"region"`
	ParentID int64  `json:"parent_id,omitempty"` // the node of the region above, if any
	Teams    int    `json:"teams"`
}

// Team is a volunteer team.
type Team struct {
	ID            int64  `json:"id"`
	Name          string `json:"name"`
	NodeID        int64  `json:"node_id,omitempty"`
	Node          string `json:"node,omitempty"`
	UnitID        int64  `json:"unit_id,omitempty"`
	Unit          string `json:"unit,omitempty"`
	RegionID      int64  `json:"region_id"`
	Region        string `json:"region"`
	CoordinatorID int64  `json:"coordinator_id,omitempty"`
	Coordinator   string `json:"coordinator,omitempty"`
	Volunteers    int    `json:"volunteers"`
	Pending       int    `json:"pending"`
}

// CreateNode opens the node serving a region (administrator only): its
// kind follows the region's level, its name defaults to the usual one.
func (s *Service) CreateNode(ctx context.Context, actor org.Actor, regionID int64, name string) (Node, error) {
	if actor.Role != org.RoleAdmin {
		return Node{}, apperr.New(apperr.Forbidden, "forbidden")
	}
	r, err := s.Org.Region(ctx, regionID)
	if err != nil {
		return Node{}, err
	}
	kind := NodeKindFor(r.Level)
	if kind == "" {
		return Node{}, apperr.New(apperr.Invalid, "volunteer.node_level")
	}
	name = strings.TrimSpace(name)
	if name == "" {
		name = r.Name + map[string]string{NodeCentre: "新时代文明实践中心", NodeInstitute: "新时代文明实践所", NodeStation: "新时代文明实践站"}[kind]
	}
	if err := checkName(name, 64); err != nil {
		return Node{}, err
	}
	n := Node{Kind: kind, Name: name, RegionID: r.ID, Region: r.Name}
	err = s.DB.WithTx(ctx, func(tx *store.Tx) error {
		id, err := store.InsertID(ctx, tx, `INSERT INTO practice_nodes (kind, name, region_id, created_at) VALUES (?, ?, ?, ?)`, kind, name, r.ID, store.Ms(s.now()))
		if store.IsUniqueViolation(err) {
			return apperr.New(apperr.Conflict, "volunteer.node_exists")
		}
		if err != nil {
			return err
		}
		n.ID = id
		return s.log(ctx, tx, actor, "volunteer.node_create", n)
	})
	return n, err
}

// Nodes lists the network, centres first.
func (s *Service) Nodes(ctx context.Context) ([]Node, error) {
	nodes, err := store.Collect(ctx, s.DB.Reader(), func(r store.Scanner) (Node, error) {
		var n Node
		var parent sql.NullInt64
		err := r.Scan(&n.ID, &n.Kind, &n.Name, &n.RegionID, &n.Region, &parent, &n.Teams)
		n.ParentID = parent.Int64
		return n, err
	}, `SELECT n.id, n.kind, n.name, n.region_id, g.name,
			(SELECT p.id FROM practice_nodes p WHERE p.region_id = g.parent_id),
			(SELECT COUNT(*) FROM volunteer_teams t WHERE t.node_id = n.id)
		FROM practice_nodes n JOIN regions g ON g.id = n.region_id ORDER BY g.path`)
	return nodes, err
}

// NewTeam is a team to create.
type NewTeam struct {
	Name          string `json:"name"`
	NodeID        int64  `json:"node_id,omitempty"`
	UnitID        int64  `json:"unit_id,omitempty"`
	CoordinatorID int64  `json:"coordinator_id,omitempty"`
}

// CreateTeam adds a team under a node or a unit (administrator or a city
// volunteer officer). Its region is the node's, or the unit's (the city
// for a unit without one).
func (s *Service) CreateTeam(ctx context.Context, actor org.Actor, nt NewTeam) (Team, error) {
	if ok, err := s.officeWide(ctx, actor); err != nil {
		return Team{}, err
	} else if !ok {
		return Team{}, apperr.New(apperr.Forbidden, "forbidden")
	}
	nt.Name = strings.TrimSpace(nt.Name)
	if err := checkName(nt.Name, 64); err != nil {
		return Team{}, err
	}
	if (nt.NodeID == 0) == (nt.UnitID == 0) {
		return Team{}, apperr.New(apperr.Invalid, "volunteer.team_owner")
	}
	var t Team
	err := s.DB.WithTx(ctx, func(tx *store.Tx) error {
		var regionID int64
		if nt.NodeID != 0 {
			if err := tx.QueryRow(ctx, `SELECT region_id FROM practice_nodes WHERE id = ?`, nt.NodeID).Scan(&regionID); errors.Is(err, sql.ErrNoRows) {
				return apperr.New(apperr.Invalid, "volunteer.node_unknown")
			} else if err != nil {
				return err
			}
		} else {
			var rid sql.NullInt64
			if err := tx.QueryRow(ctx, `SELECT region_id FROM units WHERE id = ?`, nt.UnitID).Scan(&rid); errors.Is(err, sql.ErrNoRows) {
				return apperr.New(apperr.Invalid, "unit.not_found")
			} else if err != nil {
				return err
			}
			regionID = rid.Int64
			if regionID == 0 {
				if err := tx.QueryRow(ctx, `SELECT id FROM regions WHERE parent_id IS NULL ORDER BY id LIMIT 1`).Scan(&regionID); err != nil {
					return apperr.New(apperr.Invalid, "volunteer.no_region")
				}
			}
		}
		if nt.CoordinatorID != 0 {
			if err := checkCoordinator(ctx, tx, nt.CoordinatorID); err != nil {
				return err
			}
		}
		id, err := store.InsertID(ctx, tx, `INSERT INTO volunteer_teams (name, node_id, unit_id, region_id, coordinator_id, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			nt.Name, nullID(nt.NodeID), nullID(nt.UnitID), regionID, nullID(nt.CoordinatorID), store.Ms(s.now()))
		if store.IsUniqueViolation(err) {
			return apperr.New(apperr.Conflict, "volunteer.team_exists")
		}
		if err != nil {
			return err
		}
		t = Team{ID: id, Name: nt.Name, NodeID: nt.NodeID, UnitID: nt.UnitID, RegionID: regionID, CoordinatorID: nt.CoordinatorID}
		return s.log(ctx, tx, actor, "volunteer.team_create", t)
	})
	return t, err
}

// SetCoordinator names a team's coordinator (0: none).
func (s *Service) SetCoordinator(ctx context.Context, actor org.Actor, teamID, userID int64) error {
	if ok, err := s.officeWide(ctx, actor); err != nil {
		return err
	} else if !ok {
		return apperr.New(apperr.Forbidden, "forbidden")
	}
	return s.DB.WithTx(ctx, func(tx *store.Tx) error {
		if userID != 0 {
			if err := checkCoordinator(ctx, tx, userID); err != nil {
				return err
			}
		}
		if err := tx.Change(ctx, apperr.New(apperr.NotFound, "not_found"), `UPDATE volunteer_teams SET coordinator_id = ? WHERE id = ?`, nullID(userID), teamID); err != nil {
			return err
		}
		return s.log(ctx, tx, actor, "volunteer.team_coordinator", map[string]int64{"team_id": teamID, "user_id": userID})
	})
}

func checkCoordinator(ctx context.Context, q store.Queryer, userID int64) error {
	var role string
	var disabled bool
	err := q.QueryRow(ctx, `SELECT role, disabled FROM users WHERE id = ?`, userID).Scan(&role, &disabled)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && (role != string(org.RoleVolunteer) || disabled)) {
		return apperr.New(apperr.Invalid, "volunteer.coordinator_bad")
	}
	return err
}

// Teams lists the teams actor sees, with their volunteer counts.
func (s *Service) Teams(ctx context.Context, actor org.Actor) ([]Team, error) {
	cond, args, err := s.teamScope(ctx, actor, "t")
	if err != nil {
		return nil, err
	}
	return store.Collect(ctx, s.DB.Reader(), scanTeam, `SELECT t.id, t.name, COALESCE(t.node_id, 0), COALESCE(n.name, ''), COALESCE(t.unit_id, 0), COALESCE(u.name, ''),
			t.region_id, g.name, COALESCE(t.coordinator_id, 0), COALESCE(c.display_name, ''),
			(SELECT COUNT(*) FROM volunteers v WHERE v.team_id = t.id AND v.status = 'active'),
			(SELECT COUNT(*) FROM volunteers v WHERE v.team_id = t.id AND v.status = 'pending')
		FROM volunteer_teams t JOIN regions g ON g.id = t.region_id
		LEFT JOIN practice_nodes n ON n.id = t.node_id LEFT JOIN units u ON u.id = t.unit_id LEFT JOIN users c ON c.id = t.coordinator_id
		WHERE `+cond+` ORDER BY g.path, t.name`, args...)
}

func scanTeam(r store.Scanner) (Team, error) {
	var t Team
	err := r.Scan(&t.ID, &t.Name, &t.NodeID, &t.Node, &t.UnitID, &t.Unit, &t.RegionID, &t.Region, &t.CoordinatorID, &t.Coordinator, &t.Volunteers, &t.Pending)
	return t, err
}

// PublicTeams lists every team by name and region, for the registration
// page (no counts, no coordinators).
func (s *Service) PublicTeams(ctx context.Context) ([]Team, error) {
	return store.Collect(ctx, s.DB.Reader(), func(r store.Scanner) (Team, error) {
		var t Team
		err := r.Scan(&t.ID, &t.Name, &t.RegionID, &t.Region)
		return t, err
	}, `SELECT t.id, t.name, t.region_id, g.name FROM volunteer_teams t JOIN regions g ON g.id = t.region_id ORDER BY g.path, t.name`)
}

// officeWide reports whether actor manages the whole volunteer service:
// the administrator, or a volunteer officer of city scope who coordinates
// no team (a team's coordinator manages that team alone, whatever the
// scope of their account).
func (s *Service) officeWide(ctx context.Context, a org.Actor) (bool, error) {
	if a.Role == org.RoleAdmin {
		return true, nil
	}
	if a.Role != org.RoleVolunteer || a.Scope != org.ScopeCity || a.UserID == 0 {
		return false, nil
	}
	n, err := s.coordinates(ctx, a.UserID)
	return n == 0, err
}

// coordinates counts the teams a user coordinates.
func (s *Service) coordinates(ctx context.Context, userID int64) (int, error) {
	var n int
	err := s.DB.Reader().QueryRow(ctx, `SELECT COUNT(*) FROM volunteer_teams WHERE coordinator_id = ?`, userID).Scan(&n)
	return n, err
}

// teamScope returns an SQL condition keeping the teams table (aliased
// alias) to those actor manages; see the package comment.
func (s *Service) teamScope(ctx context.Context, a org.Actor, alias string) (string, []any, error) {
	if a.Role != org.RoleAdmin && a.Role != org.RoleVolunteer {
		return "1=0", nil, nil
	}
	if a.Role == org.RoleVolunteer {
		n, err := s.coordinates(ctx, a.UserID)
		if err != nil {
			return "", nil, err
		}
		if n > 0 {
			return alias + ".coordinator_id = ?", []any{a.UserID}, nil
		}
	}
	if a.Role == org.RoleAdmin || a.Scope == org.ScopeCity {
		return "1=1", nil, nil
	}
	switch a.Scope {
	case org.ScopeRegion:
		return alias + ".region_id IN (SELECT id FROM regions WHERE path LIKE ?)", []any{a.RegionPath + "%"}, nil
	case org.ScopeUnit:
		return alias + ".unit_id = ?", []any{a.UnitID}, nil
	}
	return "1=0", nil, nil
}

// manages reports whether actor manages team teamID; a team outside the
// actor's scope is NotFound, as if it did not exist.
func (s *Service) manages(ctx context.Context, a org.Actor, teamID int64) error {
	cond, args, err := s.teamScope(ctx, a, "t")
	if err != nil {
		return err
	}
	var one int
	err = s.DB.Reader().QueryRow(ctx, `SELECT 1 FROM volunteer_teams t WHERE t.id = ? AND `+cond, append([]any{teamID}, args...)...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return apperr.New(apperr.NotFound, "not_found")
	}
	return err
}

// SetPopulation sets the resident population of regions (administrator
// only); 0 removes a figure.
func (s *Service) SetPopulation(ctx context.Context, actor org.Actor, pop map[int64]int64) error {
	if actor.Role != org.RoleAdmin {
		return apperr.New(apperr.Forbidden, "forbidden")
	}
	ids := make([]int64, 0, len(pop))
	for id, n := range pop {
		if n < 0 || n > 100_000_000 {
			return apperr.New(apperr.Invalid, "volunteer.population_bad")
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return s.DB.WithTx(ctx, func(tx *store.Tx) error {
		for _, id := range ids {
			if ok, err := store.Exists(ctx, tx, "regions", id); err != nil {
				return err
			} else if !ok {
				return apperr.New(apperr.Invalid, "region.not_found")
			}
			if pop[id] == 0 {
				if _, err := tx.Exec(ctx, `DELETE FROM region_population WHERE region_id = ?`, id); err != nil {
					return err
				}
				continue
			}
			if _, err := tx.Exec(ctx, `INSERT INTO region_population (region_id, population) VALUES (?, ?) ON CONFLICT (region_id) DO UPDATE SET population = excluded.population`, id, pop[id]); err != nil {
				return err
			}
		}
		return s.log(ctx, tx, actor, "volunteer.population", pop)
	})
}

// Population returns the configured resident population by region.
func (s *Service) Population(ctx context.Context) (map[int64]int64, error) {
	out := map[int64]int64{}
	err := store.Each(ctx, s.DB.Reader(), func(r store.Scanner) error {
		var id, n int64
		if err := r.Scan(&id, &n); err != nil {
			return err
		}
		out[id] = n
		return nil
	}, `SELECT region_id, population FROM region_population`)
	return out, err
}

func checkName(s string, max int) error {
	if s == "" {
		return apperr.New(apperr.Invalid, "volunteer.name_required")
	}
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > max {
		return apperr.New(apperr.Invalid, "volunteer.name_too_long", "max", fmt.Sprint(max))
	}
	return nil
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}
