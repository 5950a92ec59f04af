package org

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"chuangwen/internal/apperr"
	"chuangwen/internal/audit"
	"chuangwen/internal/store"
)

// Region is a node of the administrative tree.
type Region struct {
	ID       int64  `json:"id"`
	Code     string `json:"code"` // GB/T 2260-style: 6-digit county + 3 street + 3 community
	Name     string `json:"name"`
	Level    string `json:"level"` // city, district, street, community
	ParentID int64  `json:"parent_id,omitempty"`
	Path     string `json:"-"`
}

// Region levels, top down.
var Levels = []string{"city", "district", "street", "community"}

// Unit is a responsible unit (责任单位).
type Unit struct {
	ID       int64  `json:"id"`
	Code     string `json:"code"`
	Name     string `json:"name"`
	Kind     string `json:"kind"` // department, district, street, company, other
	RegionID int64  `json:"region_id,omitempty"`
	Active   bool   `json:"active"`
}

// UnitKinds lists the kinds of unit.
var UnitKinds = []string{"department", "district", "street", "company", "other"}

// User is a person with an account.
type User struct {
	ID                 int64  `json:"id"`
	Username           string `json:"username"`
	DisplayName        string `json:"display_name"`
	Role               Role   `json:"role"`
	UnitID             int64  `json:"unit_id,omitempty"`
	Scope              Scope  `json:"scope"`
	ScopeRegionID      int64  `json:"scope_region_id,omitempty"`
	MustChangePassword bool   `json:"must_change_password"`
	Disabled           bool   `json:"disabled"`
	// TwoFactor: the account signs in with a code from an authenticator
	// app as well (TOTP).
	TwoFactor    bool `json:"two_factor"`
	passwordHash string
}

// Store reads and writes the organisation.
type Store struct {
	DB  *store.DB
	Now func() time.Time
	// PasswordCost is the argon2id cost of new password hashes (zero: the
	// default). Tests lower it: under the race detector one default hash
	// takes most of a second.
	PasswordCost PasswordCost
	// SecretKey seals the accounts' two-factor secrets (the data key);
	// without it no one can enrol.
	SecretKey []byte

	dummyOnce sync.Once
	dummy     string
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// Entry starts a trail entry of action taken by a at time at: who (user,
// name, role and unit) is filled in, so that no call site forgets a part.
// data, when not nil, is stored as JSON.
func (a Actor) Entry(at time.Time, action string, data any) *audit.Entry {
	e := &audit.Entry{At: at, ActorID: a.UserID, ActorName: a.Name, ActorRole: string(a.Role), ActorUnitID: a.UnitID, Action: action}
	if data != nil {
		b, _ := json.Marshal(data)
		e.Data = string(b)
	}
	return e
}

func (s *Store) logAdmin(ctx context.Context, tx *store.Tx, actor Actor, action string, data any) error {
	_, err := audit.Append(ctx, tx, actor.Entry(s.now(), action, data))
	return err
}

// ---- regions ----

// CreateRegion adds a region under parent (0 for the city itself).
func (s *Store) CreateRegion(ctx context.Context, actor Actor, r Region) (Region, error) {
	r.Code = strings.TrimSpace(r.Code)
	r.Name = strings.TrimSpace(r.Name)
	if r.Code == "" || r.Name == "" {
		return r, apperr.New(apperr.Invalid, "region.required")
	}
	if err := CheckName(r.Name); err != nil {
		return r, err
	}
	if !slicesContains(Levels, r.Level) {
		return r, apperr.New(apperr.Invalid, "region.bad_level", "level", r.Level)
	}
	err := s.DB.WithTx(ctx, func(tx *store.Tx) error {
		parentPath := "/"
		if r.ParentID != 0 {
			var plevel string
			if err := tx.QueryRow(ctx, `SELECT path, level FROM regions WHERE id = ?`, r.ParentID).Scan(&parentPath, &plevel); err != nil {
				if errors.Is(err, sql.ErrNoRows) {
					return apperr.New(apperr.Invalid, "region.parent_missing")
				}
				return err
			}
			if levelIndex(r.Level) <= levelIndex(plevel) {
				return apperr.New(apperr.Invalid, "region.level_order")
			}
		} else if r.Level != "city" {
			return apperr.New(apperr.Invalid, "region.parent_missing")
		}
		id, err := store.InsertID(ctx, tx, `INSERT INTO regions (code, name, level, parent_id, path) VALUES (?, ?, ?, ?, '')`, r.Code, r.Name, r.Level, nullable(r.ParentID))
		if err != nil {
			if store.IsUniqueViolation(err) {
				return apperr.New(apperr.Conflict, "region.code_taken", "code", r.Code)
			}
			return err
		}
		r.ID = id
		r.Path = parentPath + strconv.FormatInt(id, 10) + "/"
		if _, err := tx.Exec(ctx, `UPDATE regions SET path = ? WHERE id = ?`, r.Path, id); err != nil {
			return err
		}
		return s.logAdmin(ctx, tx, actor, "region.create", r)
	})
	return r, err
}

func levelIndex(l string) int {
	for i, x := range Levels {
		if x == l {
			return i
		}
	}
	return -1
}

func slicesContains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func nullable(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// UpdateRegion renames a region (code and tree position are fixed once
// cases refer to them).
func (s *Store) UpdateRegion(ctx context.Context, actor Actor, id int64, name string) error {
	name = strings.TrimSpace(name)
	if name == "" {
		return apperr.New(apperr.Invalid, "region.required")
	}
	if err := CheckName(name); err != nil {
		return err
	}
	return s.DB.WithTx(ctx, func(tx *store.Tx) error {
		if err := tx.Change(ctx, apperr.New(apperr.NotFound, "region.not_found"), `UPDATE regions SET name = ? WHERE id = ?`, name, id); err != nil {
			return err
		}
		return s.logAdmin(ctx, tx, actor, "region.update", map[string]any{"id": id, "name": name})
	})
}

// Regions returns every region in tree order (by path).
func (s *Store) Regions(ctx context.Context) ([]Region, error) {
	return LoadRegions(ctx, s.DB.Reader())
}

// LoadRegions reads every region through q, by code.
func LoadRegions(ctx context.Context, q store.Queryer) ([]Region, error) {
	out, err := store.Collect(ctx, q, func(row store.Scanner) (r Region, err error) {
		return r, row.Scan(&r.ID, &r.Code, &r.Name, &r.Level, &r.ParentID, &r.Path)
	}, `SELECT id, code, name, level, COALESCE(parent_id, 0), path FROM regions ORDER BY code`)
	if err != nil {
		return nil, fmt.Errorf("list regions: %w", err)
	}
	return out, nil
}

// RegionTree is the regions by id, for rolling a region's figures up to
// the district (or another level) it counts for.
type RegionTree map[int64]Region

// NewRegionTree indexes regions.
func NewRegionTree(regions []Region) RegionTree {
	t := make(RegionTree, len(regions))
	for _, r := range regions {
		t[r.ID] = r
	}
	return t
}

// At returns region id itself or its ancestor at level; false when it has
// none (or id is no region).
func (t RegionTree) At(id int64, level string) (Region, bool) {
	r, ok := t[id]
	if !ok {
		return Region{}, false
	}
	for _, part := range strings.Split(strings.Trim(r.Path, "/"), "/") {
		aid, _ := strconv.ParseInt(part, 10, 64)
		if a, ok := t[aid]; ok && a.Level == level {
			return a, true
		}
	}
	return Region{}, false
}

// Region returns one region.
func (s *Store) Region(ctx context.Context, id int64) (Region, error) {
	var r Region
	err := s.DB.Reader().QueryRow(ctx, `SELECT id, code, name, level, COALESCE(parent_id, 0), path FROM regions WHERE id = ?`, id).
		Scan(&r.ID, &r.Code, &r.Name, &r.Level, &r.ParentID, &r.Path)
	if errors.Is(err, sql.ErrNoRows) {
		return r, apperr.New(apperr.NotFound, "region.not_found")
	}
	return r, err
}

// ---- units ----

// CreateUnit adds a responsible unit.
func (s *Store) CreateUnit(ctx context.Context, actor Actor, u Unit) (Unit, error) {
	u.Code = strings.TrimSpace(u.Code)
	if u.Code == "" {
		return u, apperr.New(apperr.Invalid, "unit.required")
	}
	if err := checkUnit(&u); err != nil {
		return u, err
	}
	if err := CheckName(u.Name); err != nil {
		return u, err
	}
	u.Active = true
	err := s.DB.WithTx(ctx, func(tx *store.Tx) error {
		if err := unitRegionExists(ctx, tx, u); err != nil {
			return err
		}
		id, err := store.InsertID(ctx, tx, `INSERT INTO units (code, name, kind, region_id, active) VALUES (?, ?, ?, ?, TRUE)`, u.Code, u.Name, u.Kind, nullable(u.RegionID))
		if err != nil {
			if store.IsUniqueViolation(err) {
				return apperr.New(apperr.Conflict, "unit.code_taken", "code", u.Code)
			}
			return err
		}
		u.ID = id
		return s.logAdmin(ctx, tx, actor, "unit.create", u)
	})
	return u, err
}

// UpdateUnit changes a unit's name, kind, region and active flag.
func (s *Store) UpdateUnit(ctx context.Context, actor Actor, u Unit) error {
	if err := checkUnit(&u); err != nil {
		return err
	}
	return s.DB.WithTx(ctx, func(tx *store.Tx) error {
		if err := unitRegionExists(ctx, tx, u); err != nil {
			return err
		}
		if err := nameChanged(ctx, tx, `SELECT name FROM units WHERE id = ?`, u.ID, u.Name); err != nil {
			return err
		}
		if err := tx.Change(ctx, apperr.New(apperr.NotFound, "unit.not_found"), `UPDATE units SET name = ?, kind = ?, region_id = ?, active = ? WHERE id = ?`, u.Name, u.Kind, nullable(u.RegionID), u.Active, u.ID); err != nil {
			return err
		}
		return s.logAdmin(ctx, tx, actor, "unit.update", u)
	})
}

// MaxName is the most characters the name of a region, a unit, a user, a
// token or a category has (a name is a table's cell and a document's
// heading; the longest of the city's units' full names is a few dozen).
const MaxName = 100

// CheckName refuses a name longer than MaxName characters.
func CheckName(name string) error {
	if utf8.RuneCountInString(name) > MaxName {
		return apperr.New(apperr.Invalid, "name.too_long", "max", strconv.Itoa(MaxName))
	}
	return nil
}

// nameChanged checks a new name against MaxName when it is not the one
// stored (read by query for id): a name stored before the bound keeps
// working until it is changed, so that an account with one can still be
// disabled.
func nameChanged(ctx context.Context, tx *store.Tx, query string, id int64, name string) error {
	var was string
	if err := tx.QueryRow(ctx, query, id).Scan(&was); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if was == name {
		return nil
	}
	return CheckName(name)
}

// checkUnit trims a unit's name and checks it and the kind.
func checkUnit(u *Unit) error {
	u.Name = strings.TrimSpace(u.Name)
	if u.Name == "" {
		return apperr.New(apperr.Invalid, "unit.required")
	}
	if !slicesContains(UnitKinds, u.Kind) {
		return apperr.New(apperr.Invalid, "unit.bad_kind", "kind", u.Kind)
	}
	return nil
}

// unitRegionExists checks the region a unit names, if any.
func unitRegionExists(ctx context.Context, q store.Queryer, u Unit) error {
	if u.RegionID == 0 {
		return nil
	}
	return exists(ctx, q, "regions", u.RegionID, "region.not_found")
}

// exists answers the error key when the row is missing.
func exists(ctx context.Context, q store.Queryer, table string, id int64, key string) error {
	ok, err := store.Exists(ctx, q, table, id)
	if err == nil && !ok {
		err = apperr.New(apperr.Invalid, key)
	}
	return err
}

// Units returns every unit ordered by code.
func (s *Store) Units(ctx context.Context) ([]Unit, error) {
	out, err := store.Collect(ctx, s.DB.Reader(), func(row store.Scanner) (u Unit, err error) {
		return u, row.Scan(&u.ID, &u.Code, &u.Name, &u.Kind, &u.RegionID, &u.Active)
	}, `SELECT id, code, name, kind, COALESCE(region_id, 0), active FROM units ORDER BY code`)
	if err != nil {
		return nil, fmt.Errorf("list units: %w", err)
	}
	return out, nil
}

// Unit returns one unit.
func (s *Store) Unit(ctx context.Context, id int64) (Unit, error) {
	var u Unit
	err := s.DB.Reader().QueryRow(ctx, `SELECT id, code, name, kind, COALESCE(region_id, 0), active FROM units WHERE id = ?`, id).
		Scan(&u.ID, &u.Code, &u.Name, &u.Kind, &u.RegionID, &u.Active)
	if errors.Is(err, sql.ErrNoRows) {
		return u, apperr.New(apperr.NotFound, "unit.not_found")
	}
	return u, err
}

// UnitByCode finds a unit by its code.
func (s *Store) UnitByCode(ctx context.Context, code string) (Unit, error) {
	var id int64
	err := s.DB.Reader().QueryRow(ctx, `SELECT id FROM units WHERE code = ?`, code).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return Unit{}, apperr.New(apperr.NotFound, "unit.not_found")
	}
	if err != nil {
		return Unit{}, err
	}
	return s.Unit(ctx, id)
}

// ---- users ----

// NewUser is the input for CreateUser.
type NewUser struct {
	Username      string
	DisplayName   string
	Password      string
	Role          Role
	UnitID        int64
	Scope         Scope
	ScopeRegionID int64
	// MustChange forces a password change at first login.
	MustChange bool
	// SkipPolicy lets the demo loader set its printed demo passwords.
	SkipPolicy bool
}

func validateUser(u *NewUser) error {
	u.Username = strings.TrimSpace(u.Username)
	u.DisplayName = strings.TrimSpace(u.DisplayName)
	if u.Username == "" || len(u.Username) > 64 || strings.ContainsAny(u.Username, " \t\r\n/") {
		return apperr.New(apperr.Invalid, "user.bad_username")
	}
	if u.DisplayName == "" {
		u.DisplayName = u.Username
	}
	if !u.Role.Valid() || u.Role == RoleClient {
		return apperr.New(apperr.Invalid, "user.bad_role", "role", string(u.Role))
	}
	if u.Scope == "" {
		u.Scope = DefaultScope(u.Role)
	}
	if !u.Scope.Valid() {
		return apperr.New(apperr.Invalid, "user.bad_scope")
	}
	if u.Role == RoleHandler && u.UnitID == 0 {
		return apperr.New(apperr.Invalid, "user.handler_needs_unit")
	}
	if u.Role == RoleHandler && u.Scope != ScopeUnit {
		// a unit's handler sees its own unit's cases, never more
		return apperr.New(apperr.Invalid, "user.handler_unit_scope")
	}
	if u.Scope == ScopeUnit && u.UnitID == 0 {
		return apperr.New(apperr.Invalid, "user.handler_needs_unit")
	}
	if u.Scope == ScopeRegion && u.ScopeRegionID == 0 {
		return apperr.New(apperr.Invalid, "user.scope_needs_region")
	}
	if u.Role == RoleAdmin && u.Scope != ScopeCity {
		return apperr.New(apperr.Invalid, "user.admin_city_scope")
	}
	return nil
}

// DefaultScope is the scope a role gets unless told otherwise.
func DefaultScope(r Role) Scope {
	if r == RoleHandler {
		return ScopeUnit
	}
	return ScopeCity
}

// CreateUser adds an account.
func (s *Store) CreateUser(ctx context.Context, actor Actor, nu NewUser) (User, error) {
	if err := validateUser(&nu); err != nil {
		return User{}, err
	}
	if err := CheckName(nu.DisplayName); err != nil {
		return User{}, err
	}
	if !nu.SkipPolicy {
		if key := CheckPasswordPolicy(nu.Password); key != "" {
			return User{}, apperr.New(apperr.Invalid, key)
		}
	}
	hash, err := s.PasswordCost.hash(ctx, nu.Password)
	if err != nil {
		return User{}, err
	}
	u := User{Username: nu.Username, DisplayName: nu.DisplayName, Role: nu.Role, UnitID: nu.UnitID, Scope: nu.Scope, ScopeRegionID: nu.ScopeRegionID, MustChangePassword: nu.MustChange}
	err = s.DB.WithTx(ctx, func(tx *store.Tx) error {
		if u.UnitID != 0 {
			if err := exists(ctx, tx, "units", u.UnitID, "unit.not_found"); err != nil {
				return err
			}
		}
		if u.ScopeRegionID != 0 {
			if err := exists(ctx, tx, "regions", u.ScopeRegionID, "region.not_found"); err != nil {
				return err
			}
		}
		now := s.now()
		id, err := store.InsertID(ctx, tx, `INSERT INTO users (username, display_name, password_hash, role, unit_id, scope, scope_region_id, must_change_password, disabled, created_at, password_changed_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, FALSE, ?, ?)`,
			u.Username, u.DisplayName, hash, string(u.Role), nullable(u.UnitID), string(u.Scope), nullable(u.ScopeRegionID), u.MustChangePassword, store.Ms(now), store.Ms(now))
		if err != nil {
			if store.IsUniqueViolation(err) {
				return apperr.New(apperr.Conflict, "user.username_taken", "username", u.Username)
			}
			return err
		}
		u.ID = id
		return s.logAdmin(ctx, tx, actor, "user.create", u)
	})
	return u, err
}

// UpdateUser changes a user's name, role, unit, scope and disabled flag.
// Disabling a user ends their sessions.
func (s *Store) UpdateUser(ctx context.Context, actor Actor, id int64, nu NewUser, disabled bool) error {
	nu.Username = "x" // not changed; satisfies validation
	if err := validateUser(&nu); err != nil {
		return err
	}
	return s.DB.WithTx(ctx, func(tx *store.Tx) error {
		if err := nameChanged(ctx, tx, `SELECT display_name FROM users WHERE id = ?`, id, nu.DisplayName); err != nil {
			return err
		}
		if err := tx.Change(ctx, apperr.New(apperr.NotFound, "user.not_found"), `UPDATE users SET display_name = ?, role = ?, unit_id = ?, scope = ?, scope_region_id = ?, disabled = ? WHERE id = ?`,
			nu.DisplayName, string(nu.Role), nullable(nu.UnitID), string(nu.Scope), nullable(nu.ScopeRegionID), disabled, id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = ?`, id); err != nil {
			return err
		}
		return s.logAdmin(ctx, tx, actor, "user.update", map[string]any{"id": id, "role": nu.Role, "unit_id": nu.UnitID, "scope": nu.Scope, "scope_region_id": nu.ScopeRegionID, "disabled": disabled})
	})
}

const userCols = `id, username, display_name, password_hash, role, COALESCE(unit_id, 0), scope, COALESCE(scope_region_id, 0), must_change_password, disabled, totp_secret <> ''`

func scanUser(r store.Scanner) (User, error) {
	var u User
	var role, scope string
	err := r.Scan(&u.ID, &u.Username, &u.DisplayName, &u.passwordHash, &role, &u.UnitID, &scope, &u.ScopeRegionID, &u.MustChangePassword, &u.Disabled, &u.TwoFactor)
	u.Role, u.Scope = Role(role), Scope(scope)
	return u, err
}

// Users lists all accounts.
func (s *Store) Users(ctx context.Context) ([]User, error) {
	out, err := store.Collect(ctx, s.DB.Reader(), scanUser, `SELECT `+userCols+` FROM users ORDER BY username`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return out, nil
}

// User returns one account.
func (s *Store) User(ctx context.Context, id int64) (User, error) {
	u, err := scanUser(s.DB.Reader().QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return u, apperr.New(apperr.NotFound, "user.not_found")
	}
	return u, err
}

// UserByName returns one account by username.
func (s *Store) UserByName(ctx context.Context, username string) (User, error) {
	u, err := scanUser(s.DB.Reader().QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE username = ?`, username))
	if errors.Is(err, sql.ErrNoRows) {
		return u, apperr.New(apperr.NotFound, "user.not_found")
	}
	return u, err
}

// SetPassword sets a new password (enforcing the policy), clears or sets
// the forced-change flag and ends the user's other sessions and any
// sign-in waiting for its second factor.
func (s *Store) SetPassword(ctx context.Context, actor Actor, id int64, pw string, mustChange bool, keepSession string) error {
	if key := CheckPasswordPolicy(pw); key != "" {
		return apperr.New(apperr.Invalid, key)
	}
	hash, err := s.PasswordCost.hash(ctx, pw)
	if err != nil {
		return err
	}
	return s.DB.WithTx(ctx, func(tx *store.Tx) error {
		if err := tx.Change(ctx, apperr.New(apperr.NotFound, "user.not_found"), `UPDATE users SET password_hash = ?, must_change_password = ?, password_changed_at = ? WHERE id = ?`, hash, mustChange, store.Ms(s.now()), id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = ? AND id <> ?`, id, sessionKey(keepSession)); err != nil {
			return err
		}
		// A sign-in half done with the old password (its second factor
		// still to come) ends too: the new password is the one that counts.
		if _, err := tx.Exec(ctx, `DELETE FROM login_challenges WHERE user_id = ?`, id); err != nil {
			return err
		}
		return s.logAdmin(ctx, tx, actor, "user.password", map[string]any{"id": id, "must_change": mustChange})
	})
}

// ActorFor builds the Actor of a user, resolving the scope region's path.
func (s *Store) ActorFor(ctx context.Context, u User) (Actor, error) {
	a := Actor{UserID: u.ID, Name: u.DisplayName, Role: u.Role, UnitID: u.UnitID, Scope: u.Scope, RegionID: u.ScopeRegionID}
	if u.Scope == ScopeRegion {
		r, err := s.Region(ctx, u.ScopeRegionID)
		if err != nil {
			return a, err
		}
		a.RegionPath = r.Path
		rows, err := s.DB.Reader().Query(ctx, `SELECT id FROM regions WHERE path LIKE ? ORDER BY id`, r.Path+"%")
		if err != nil {
			return a, err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return a, err
			}
			a.RegionIDs = append(a.RegionIDs, id)
		}
		if err := rows.Err(); err != nil {
			return a, err
		}
	}
	return a, nil
}

func sessionKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
