// Package org holds the campaign's organisation: regions (city → district
// 区 → street 街道 → community 社区), responsible units (责任单位), users with
// roles and data scopes, sessions and API tokens. It decides who may see
// which cases; the workflow package decides who may do what to them.
package org

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"chuangwen/internal/store"
)

// Role is what a person does in the campaign.
type Role string

const (
	RoleAdmin     Role = "admin"     // 文明办管理员
	RoleAcceptor  Role = "acceptor"  // 受理员 / 派遣员
	RoleHandler   Role = "handler"   // 责任单位经办人
	RoleInspector Role = "inspector" // 督查员
	RoleGrid      Role = "grid"      // 网格员
	RoleLeader    Role = "leader"    // 领导
	RoleVolunteer Role = "volunteer" // 志愿服务管理员
	RoleClient    Role = "client"    // machine client (hotline, app) with an API token
	RoleSystem    Role = "system"    // the product itself (deadline watch, auto rules)
)

// Roles lists the roles a person can hold, in display order.
var Roles = []Role{RoleAdmin, RoleAcceptor, RoleHandler, RoleInspector, RoleGrid, RoleLeader, RoleVolunteer}

// Valid reports whether r is a role a user or token can hold.
func (r Role) Valid() bool { return slices.Contains(Roles, r) || r == RoleClient }

// Staff reports whether r is a role of the console's users (not a
// partner system's client token, not the product itself, whose actor
// files the public's reports).
func (r Role) Staff() bool { return slices.Contains(Roles, r) }

// Scope is the part of the city whose cases a user sees.
type Scope string

const (
	ScopeCity   Scope = "city"   // everything
	ScopeRegion Scope = "region" // a region and everything under it
	ScopeUnit   Scope = "unit"   // cases where the user's unit is lead or cooperating
)

// Valid reports whether s is a known scope.
func (s Scope) Valid() bool { return s == ScopeCity || s == ScopeRegion || s == ScopeUnit }

// Actor is whoever makes a request: a logged-in user, an API token, or the
// system. Every domain call that reads or writes takes one.
type Actor struct {
	UserID  int64 // 0 for tokens and the system
	TokenID int64 // set for API tokens
	// TokenScope is an API token's scope (TokenOpen311…); "" for people.
	TokenScope string
	Name       string // shown on the trail
	Role       Role
	UnitID     int64 // the unit a handler (or unit token) acts for
	Scope      Scope
	RegionID   int64 // for ScopeRegion
	// RegionPath is the materialised path of RegionID ("/1/4/"), filled in
	// at authentication so scope checks need no extra query.
	RegionPath string
	// RegionIDs lists the region and everything under it, also filled in
	// at authentication: the scope condition names them as literals,
	// which lets the planners use the (state, region) index.
	RegionIDs []int64
}

// System is the actor for automatic actions.
var System = Actor{Name: "系统", Role: RoleSystem, Scope: ScopeCity}

// CaseScope returns an SQL condition (and its arguments) that keeps the
// cases table, aliased c, to what a sees. The condition is meant to be
// ANDed into a WHERE clause.
//
// The cooperating-unit lookup is the dialect's InSubquery, so that both
// planners combine the two index lookups.
func (a Actor) CaseScope(d store.Dialect) (string, []any) {
	if a.Role == RoleVolunteer {
		// Volunteer coordinators run activities and hours; they have no
		// business with cases and the people who reported them.
		return "1=0", nil
	}
	switch a.Scope {
	case ScopeCity:
		return "1=1", nil
	case ScopeRegion:
		if len(a.RegionIDs) == 0 {
			if a.RegionPath == "" {
				return "1=0", nil
			}
			return "c.region_id IN (SELECT id FROM regions WHERE path LIKE ?)", []any{a.RegionPath + "%"}
		}
		ids := make([]string, len(a.RegionIDs))
		for i, id := range a.RegionIDs {
			ids[i] = strconv.FormatInt(id, 10)
		}
		return "c.region_id IN (" + strings.Join(ids, ",") + ")", nil
	case ScopeUnit:
		if a.UnitID == 0 {
			return "1=0", nil
		}
		// "lead = ? OR id IN (...)" rather than "OR EXISTS": both engines
		// answer each side from an index and combine them.
		return "(c.lead_unit_id = ? OR " + d.InSubquery("c.id", "SELECT case_id FROM case_coop_units WHERE unit_id = ?") + ")", []any{a.UnitID, a.UnitID}
	}
	return "1=0", nil
}

// SeesRegionPath reports whether a region (by materialised path) lies in
// a's scope; unit-scoped actors see no region as a whole.
func (a Actor) SeesRegionPath(path string) bool {
	switch a.Scope {
	case ScopeCity:
		return true
	case ScopeRegion:
		return a.RegionPath != "" && strings.HasPrefix(path, a.RegionPath)
	}
	return false
}

// CanSeeReporter reports whether a may see who reported a case: only the
// office (acceptors, administrators). Units and the public never do.
func (a Actor) CanSeeReporter() bool { return a.Role == RoleAcceptor || a.Role == RoleAdmin }

func (a Actor) String() string { return fmt.Sprintf("%s(%s)", a.Name, a.Role) }
