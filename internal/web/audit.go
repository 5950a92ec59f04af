package web

import (
	"net/http"

	"chuangwen/internal/audit"
)

// auditRoutes lists the routes of the trail: verification and recent entries.
func (s *Server) auditRoutes() []route {
	return []route{
		{method: "GET", path: "/api/v1/audit/verify", api: true, roles: admin, summary: "Walk the hash-chained trail and report the first broken link", resp: "AuditReport", h: s.apiAuditVerify},
		{method: "GET", path: "/admin/audit", roles: admin, h: s.pageAudit},
	}
}

func (s *Server) apiAuditVerify(w http.ResponseWriter, r *http.Request) {
	rep, err := audit.Verify(r.Context(), s.DB)
	respond(s, w, r, rep, err)
}

func (s *Server) pageAudit(w http.ResponseWriter, r *http.Request) {
	rep, err := audit.Verify(r.Context(), s.DB)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	recent, err := audit.Recent(r.Context(), s.DB.Reader(), 100)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "admin_audit", map[string]any{"Report": rep, "Recent": recent})
}
