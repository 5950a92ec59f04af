package web

import (
	"net/http"

	"chuangwen/internal/org"
)

// blocklistRoutes lists the routes of the public reporting blocklist.
func (s *Server) blocklistRoutes() []route {
	return []route{
		{method: "GET", path: "/api/v1/blocklist", api: true, roles: []org.Role{org.RoleAdmin, org.RoleAcceptor}, summary: "Blocked devices, phone numbers and addresses (masked)", resp: "Blocks", h: s.apiBlocks},
		{method: "POST", path: "/api/v1/blocklist", api: true, status: 201, roles: []org.Role{org.RoleAdmin, org.RoleAcceptor}, summary: "Block a device, phone number or address from public reporting", body: "Block", resp: "object", h: s.apiAddBlock},
		{method: "DELETE", path: "/api/v1/blocklist/{kind}/{id}", api: true, roles: []org.Role{org.RoleAdmin, org.RoleAcceptor}, summary: "Lift a block", resp: "object", h: s.apiRemoveBlock},
		{method: "GET", path: "/admin/blocklist", roles: []org.Role{org.RoleAdmin, org.RoleAcceptor}, h: s.pageBlocklist},
		{method: "POST", path: "/admin/blocklist", roles: []org.Role{org.RoleAdmin, org.RoleAcceptor}, h: s.postBlock},
		{method: "POST", path: "/admin/blocklist/{kind}/{id}/delete", roles: []org.Role{org.RoleAdmin, org.RoleAcceptor}, h: s.postUnblock},
	}
}

func (s *Server) apiBlocks(w http.ResponseWriter, r *http.Request) {
	bs, err := s.Intake.Blocks(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if bs == nil {
		writeJSON(w, 200, []any{})
		return
	}
	writeJSON(w, 200, bs)
}

func (s *Server) apiAddBlock(w http.ResponseWriter, r *http.Request) {
	var body blockJSON
	if err := decodeJSON(r, &body); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Intake.AddBlock(r.Context(), actorOf(r), body.Kind, body.Value, body.Reason); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, 201, map[string]bool{"ok": true})
}

func (s *Server) apiRemoveBlock(w http.ResponseWriter, r *http.Request) {
	if err := s.Intake.RemoveBlock(r.Context(), actorOf(r), r.PathValue("kind"), r.PathValue("id")); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, 200, map[string]bool{"ok": true})
}

func (s *Server) pageBlocklist(w http.ResponseWriter, r *http.Request) {
	bs, err := s.Intake.Blocks(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "admin_blocklist", map[string]any{"Blocks": bs})
}

func (s *Server) postBlock(w http.ResponseWriter, r *http.Request) {
	if err := s.parseForm(r); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Intake.AddBlock(r.Context(), actorOf(r), r.FormValue("kind"), r.FormValue("value"), r.FormValue("reason")); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/blocklist?msg=saved", http.StatusSeeOther)
}

func (s *Server) postUnblock(w http.ResponseWriter, r *http.Request) {
	if err := s.Intake.RemoveBlock(r.Context(), actorOf(r), r.PathValue("kind"), r.PathValue("id")); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/blocklist?msg=done", http.StatusSeeOther)
}

// blockJSON is the body that blocks a device, phone number or address.
type blockJSON struct {
	Kind   string `json:"kind"`
	Value  string `json:"value"`
	Reason string `json:"reason"`
}
