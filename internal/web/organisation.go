package web

import (
	"context"
	"net/http"

	"chuangwen/internal/org"
)

// organisationRoutes lists the routes of organisation administration: regions, units, users, API tokens.
func (s *Server) organisationRoutes() []route {
	return []route{
		{method: "GET", path: "/api/v1/regions", api: true, summary: "The region tree", resp: "Regions", h: listJSON(s, s.Org.Regions)},
		{method: "POST", path: "/api/v1/regions", api: true, status: 201, roles: admin, summary: "Add a region", body: "Region", resp: "Region", h: createJSON(s, s.Org.CreateRegion)},
		{method: "PUT", path: "/api/v1/regions/{id}", api: true, roles: admin, summary: "Rename a region", body: "Region", resp: "object", h: updateJSON(s, s.renameRegion)},
		{method: "GET", path: "/api/v1/units", api: true, summary: "Responsible units", resp: "Units", h: listJSON(s, s.Org.Units)},
		{method: "POST", path: "/api/v1/units", api: true, status: 201, roles: admin, summary: "Add a unit", body: "Unit", resp: "Unit", h: createJSON(s, s.Org.CreateUnit)},
		{method: "PUT", path: "/api/v1/units/{id}", api: true, roles: admin, summary: "Change a unit", body: "Unit", resp: "object", h: updateJSON(s, s.updateUnit)},
		{method: "GET", path: "/api/v1/users", api: true, roles: admin, summary: "User accounts", resp: "Users", h: listJSON(s, s.Org.Users)},
		{method: "POST", path: "/api/v1/users", api: true, status: 201, roles: admin, summary: "Add a user", body: "NewUser", resp: "User", h: createJSON(s, s.createUser)},
		{method: "PUT", path: "/api/v1/users/{id}", api: true, roles: admin, summary: "Change a user's role, unit, scope or disabled flag", body: "NewUser", resp: "object", h: updateJSON(s, s.updateUser)},
		{method: "POST", path: "/api/v1/users/{id}/password", api: true, roles: admin, summary: "Reset a user's password (forces a change at next login)", body: "Password", resp: "object", h: updateJSON(s, s.resetPassword)},
		{method: "GET", path: "/api/v1/tokens", api: true, roles: admin, summary: "API tokens (without secrets)", resp: "Tokens", h: listJSON(s, s.Org.Tokens)},
		{method: "POST", path: "/api/v1/tokens", api: true, status: 201, roles: admin, summary: "Create an API token; the secret is in the answer only", body: "NewToken", resp: "Token", h: createJSON(s, s.createToken)},
		{method: "DELETE", path: "/api/v1/tokens/{id}", api: true, roles: admin, summary: "Revoke a token", resp: "object", h: s.apiRevokeToken},
		{method: "POST", path: "/api/v1/tokens/{id}/rotate", api: true, status: 201, roles: admin, summary: "A new token for the same client (name, role, unit, scope); the old one stays valid until revoked; the secret is in the answer only", resp: "Token", h: s.apiRotateToken},
		{method: "GET", path: "/admin/users", roles: admin, h: s.pageUsers},
		{method: "POST", path: "/admin/users", roles: admin, h: s.postUser},
		{method: "POST", path: "/admin/users/{id}", roles: admin, h: s.postUserUpdate},
		{method: "POST", path: "/admin/users/{id}/password", roles: admin, h: s.postUserPassword},
		{method: "POST", path: "/admin/users/{id}/sessions/end", roles: admin, h: s.postUserSessionsEnd},
		{method: "GET", path: "/admin/units", roles: admin, h: s.pageUnits},
		{method: "POST", path: "/admin/units", roles: admin, h: s.postUnit},
		{method: "GET", path: "/admin/regions", roles: admin, h: s.pageRegions},
		{method: "POST", path: "/admin/regions", roles: admin, h: s.postRegion},
		{method: "GET", path: "/admin/tokens", roles: admin, h: s.pageTokens},
		{method: "POST", path: "/admin/tokens", roles: admin, h: s.postToken},
		{method: "POST", path: "/admin/tokens/{id}/revoke", roles: admin, h: s.postRevokeToken},
		{method: "POST", path: "/admin/tokens/{id}/rotate", roles: admin, h: s.postRotateToken},
	}
}

// ---- organisation ----

// renameRegion changes a region's name (its code and place in the tree
// are fixed).
func (s *Server) renameRegion(ctx context.Context, a org.Actor, id int64, in org.Region) error {
	return s.Org.UpdateRegion(ctx, a, id, in.Name)
}

func (s *Server) createUser(ctx context.Context, a org.Actor, j newUserJSON) (org.User, error) {
	return s.Org.CreateUser(ctx, a, j.user())
}

func (s *Server) updateUser(ctx context.Context, a org.Actor, id int64, j newUserJSON) error {
	return s.Org.UpdateUser(ctx, a, id, j.user(), j.Disabled)
}

// resetPassword sets a user's password, to be changed at the next login.
func (s *Server) resetPassword(ctx context.Context, a org.Actor, id int64, j passwordJSON) error {
	return s.Org.SetPassword(ctx, a, id, j.Password, true, "")
}

func (s *Server) createToken(ctx context.Context, a org.Actor, j newTokenJSON) (org.Token, error) {
	return s.Org.CreateScopedToken(ctx, a, j.Name, j.UnitID, j.Scope)
}

func (s *Server) updateUnit(ctx context.Context, a org.Actor, id int64, in org.Unit) error {
	in.ID = id
	return s.Org.UpdateUnit(ctx, a, in)
}

// newUserJSON is the JSON body for creating or changing a user.
type newUserJSON struct {
	Username      string `json:"username"`
	DisplayName   string `json:"display_name"`
	Password      string `json:"password"`
	Role          string `json:"role"`
	UnitID        int64  `json:"unit_id"`
	Scope         string `json:"scope"`
	ScopeRegionID int64  `json:"scope_region_id"`
	Disabled      bool   `json:"disabled"`
}

func (j newUserJSON) user() org.NewUser {
	return org.NewUser{Username: j.Username, DisplayName: j.DisplayName, Password: j.Password, Role: org.Role(j.Role), UnitID: j.UnitID,
		Scope: org.Scope(j.Scope), ScopeRegionID: j.ScopeRegionID, MustChange: true}
}

func (s *Server) apiRevokeToken(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	respond(s, w, r, map[string]bool{"ok": true}, s.Org.RevokeToken(r.Context(), actorOf(r), id))
}

func (s *Server) apiRotateToken(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var t org.Token
	if err == nil {
		t, err = s.Org.RotateToken(r.Context(), actorOf(r), id)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, t)
}

func (s *Server) pageUsers(w http.ResponseWriter, r *http.Request) { s.showUsers(w, r, 200, "") }

func (s *Server) showUsers(w http.ResponseWriter, r *http.Request, code int, msg string) {
	users, err := s.Org.Users(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	l, err := s.lookups(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	regionName := map[int64]string{}
	for _, rg := range l.Regions {
		regionName[rg.ID] = rg.Name
	}
	s.renderStatus(w, r, code, "admin_users", map[string]any{"Users": users, "L": l, "Roles": org.Roles, "RegionName": regionName, "Error": msg})
}

func (s *Server) userFromForm(r *http.Request) (org.NewUser, error) {
	if err := s.parseForm(r); err != nil {
		return org.NewUser{}, err
	}
	unit, err := formInt(r, "unit_id")
	if err != nil {
		return org.NewUser{}, err
	}
	region, err := formInt(r, "scope_region_id")
	if err != nil {
		return org.NewUser{}, err
	}
	return org.NewUser{Username: r.FormValue("username"), DisplayName: r.FormValue("display_name"), Password: r.FormValue("password"),
		Role: org.Role(r.FormValue("role")), UnitID: unit, Scope: org.Scope(r.FormValue("scope")), ScopeRegionID: region, MustChange: true}, nil
}

func (s *Server) postUser(w http.ResponseWriter, r *http.Request) {
	nu, err := s.userFromForm(r)
	if err == nil {
		_, err = s.Org.CreateUser(r.Context(), actorOf(r), nu)
	}
	s.adminDone(w, r, "/admin/users", err, func(c int, m string) { s.showUsers(w, r, c, m) })
}

func (s *Server) postUserUpdate(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	nu, err := s.userFromForm(r)
	if err == nil {
		err = s.Org.UpdateUser(r.Context(), actorOf(r), id, nu, r.FormValue("disabled") == "on")
	}
	s.adminDone(w, r, "/admin/users", err, func(c int, m string) { s.showUsers(w, r, c, m) })
}

func (s *Server) postUserPassword(w http.ResponseWriter, r *http.Request) {
	s.userForm(w, r, func(id int64) error {
		return s.Org.SetPassword(r.Context(), actorOf(r), id, r.FormValue("password"), true, "")
	})
}

// postUserSessionsEnd signs a user out of every browser (a lost phone, a
// colleague who left).
func (s *Server) postUserSessionsEnd(w http.ResponseWriter, r *http.Request) {
	s.userForm(w, r, func(id int64) error {
		_, err := s.Org.EndSessions(r.Context(), actorOf(r), id, "", "")
		return err
	})
}

// userForm answers an administrator's form about the user in the path:
// save runs on its id, and the browser goes back to the users page.
func (s *Server) userForm(w http.ResponseWriter, r *http.Request, save func(id int64) error) {
	id, err := pathID(r, "id")
	if err == nil {
		err = s.parseForm(r)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.adminDone(w, r, "/admin/users", save(id), func(c int, m string) { s.showUsers(w, r, c, m) })
}

func (s *Server) pageUnits(w http.ResponseWriter, r *http.Request) { s.showUnits(w, r, 200, "") }

func (s *Server) showUnits(w http.ResponseWriter, r *http.Request, code int, msg string) {
	s.renderWithLookups(w, r, code, "admin_units", map[string]any{"Kinds": org.UnitKinds, "Error": msg})
}

func (s *Server) postUnit(w http.ResponseWriter, r *http.Request) {
	s.adminForm(w, r, "/admin/units", func(c int, m string) { s.showUnits(w, r, c, m) }, func() error {
		region, err := formInt(r, "region_id")
		if err == nil {
			u := org.Unit{Code: r.FormValue("code"), Name: r.FormValue("name"), Kind: r.FormValue("kind"), RegionID: region, Active: r.FormValue("active") != "off"}
			if id, _ := formInt(r, "id"); id != 0 {
				u.ID = id
				err = s.Org.UpdateUnit(r.Context(), actorOf(r), u)
			} else {
				_, err = s.Org.CreateUnit(r.Context(), actorOf(r), u)
			}
		}
		return err
	})
}

func (s *Server) pageRegions(w http.ResponseWriter, r *http.Request) { s.showRegions(w, r, 200, "") }

func (s *Server) showRegions(w http.ResponseWriter, r *http.Request, code int, msg string) {
	s.renderWithLookups(w, r, code, "admin_regions", map[string]any{"Levels": org.Levels, "Error": msg})
}

func (s *Server) postRegion(w http.ResponseWriter, r *http.Request) {
	s.adminForm(w, r, "/admin/regions", func(c int, m string) { s.showRegions(w, r, c, m) }, func() error {
		parent, err := formInt(r, "parent_id")
		if err == nil {
			if id, _ := formInt(r, "id"); id != 0 {
				err = s.Org.UpdateRegion(r.Context(), actorOf(r), id, r.FormValue("name"))
			} else {
				_, err = s.Org.CreateRegion(r.Context(), actorOf(r), org.Region{Code: r.FormValue("code"), Name: r.FormValue("name"), Level: r.FormValue("level"), ParentID: parent})
			}
		}
		return err
	})
}

func (s *Server) pageTokens(w http.ResponseWriter, r *http.Request) { s.showTokens(w, r, 200, "", "") }

func (s *Server) showTokens(w http.ResponseWriter, r *http.Request, code int, msg, secret string) {
	ts, err := s.Org.Tokens(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	l, err := s.lookups(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderStatus(w, r, code, "admin_tokens", map[string]any{"Tokens": ts, "L": l, "Error": msg, "Secret": secret, "Scopes": org.TokenScopes})
}

func (s *Server) postToken(w http.ResponseWriter, r *http.Request) {
	if err := s.parseForm(r); err != nil {
		s.fail(w, r, err)
		return
	}
	unit, err := formInt(r, "unit_id")
	var t org.Token
	if err == nil {
		t, err = s.Org.CreateScopedToken(r.Context(), actorOf(r), r.FormValue("name"), unit, r.FormValue("scope"))
	}
	if err != nil {
		code, msg := s.message(r, err)
		s.showTokens(w, r, status(code), msg, "")
		return
	}
	// The secret is shown once, on this response, never in a URL.
	s.showTokens(w, r, http.StatusOK, "", t.Secret)
}

func (s *Server) postRevokeToken(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err == nil {
		err = s.Org.RevokeToken(r.Context(), actorOf(r), id)
	}
	s.adminDone(w, r, "/admin/tokens", err, func(c int, m string) { s.showTokens(w, r, c, m, "") })
}

// postRotateToken shows the rotated token's new secret once, as a new
// token's.
func (s *Server) postRotateToken(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var t org.Token
	if err == nil {
		t, err = s.Org.RotateToken(r.Context(), actorOf(r), id)
	}
	if err != nil {
		code, msg := s.message(r, err)
		s.showTokens(w, r, status(code), msg, "")
		return
	}
	s.showTokens(w, r, http.StatusOK, "", t.Secret)
}

// passwordJSON is the body of a password reset.
type passwordJSON struct {
	Password string `json:"password"`
}

// newTokenJSON is the body of a token request.
type newTokenJSON struct {
	Name   string `json:"name"`
	UnitID int64  `json:"unit_id"`
	// Scope: open311 (the default without a unit), file, read, or unit
	// (the default with one).
	Scope string `json:"scope,omitempty"`
}
