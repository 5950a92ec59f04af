package web

import (
	"net/http"
	"strings"

	"chuangwen/internal/org"
	"chuangwen/internal/workflow"
)

// Stock replies (常用语): the office's usual opinions per action, kept on
// one page and offered in every action form. One area, one file.

var replyEditors = []org.Role{org.RoleAdmin, org.RoleAcceptor}

// replyRoutes lists the routes of stock replies.
func (s *Server) replyRoutes() []route {
	return []route{
		{method: "GET", path: "/api/v1/replies", api: true, summary: "The stock replies (常用语) of every action, in order", resp: "StockReplies", h: s.apiReplies},
		{method: "PUT", path: "/api/v1/replies/{action}", api: true, roles: replyEditors, summary: "Replace an action's stock replies", body: "Replies", resp: "StockReplies", h: s.apiSetReplies},
		{method: "GET", path: "/admin/replies", roles: replyEditors, h: s.pageReplies},
		{method: "POST", path: "/admin/replies", roles: replyEditors, h: s.postReplies},
	}
}

func (s *Server) apiReplies(w http.ResponseWriter, r *http.Request) {
	rs, err := s.Flow.StockReplies(r.Context())
	respond(s, w, r, rs, err)
}

func (s *Server) apiSetReplies(w http.ResponseWriter, r *http.Request) {
	var texts []string
	if err := decodeJSON(r, &texts); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Flow.SetStockReplies(r.Context(), actorOf(r), workflow.Action(r.PathValue("action")), texts); err != nil {
		s.fail(w, r, err)
		return
	}
	s.apiReplies(w, r)
}

// replyRow is one action's replies on the page, one a line.
type replyRow struct {
	Action workflow.Action
	Text   string
}

func (s *Server) pageReplies(w http.ResponseWriter, r *http.Request) {
	s.showReplies(w, r, http.StatusOK, "", nil)
}

// showReplies renders the page; rows, when set, are what was sent (kept
// on a refusal).
func (s *Server) showReplies(w http.ResponseWriter, r *http.Request, code int, msg string, rows []replyRow) {
	if rows == nil {
		rs, err := s.Flow.StockReplies(r.Context())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, a := range workflow.Actions {
			rows = append(rows, replyRow{a, strings.Join(rs[a], "\n")})
		}
	}
	s.renderStatus(w, r, code, "admin_replies", map[string]any{"Rows": rows, "Error": msg, "Max": workflow.MaxStockReplies})
}

// postReplies saves every action's textarea (replies_<action>); the first
// refusal shows the page again with everything as typed.
func (s *Server) postReplies(w http.ResponseWriter, r *http.Request) {
	if err := s.parseForm(r); err != nil {
		s.fail(w, r, err)
		return
	}
	var rows []replyRow
	for _, a := range workflow.Actions {
		rows = append(rows, replyRow{a, r.FormValue("replies_" + string(a))})
	}
	rs, err := s.Flow.StockReplies(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, row := range rows {
		lines := strings.Split(strings.ReplaceAll(row.Text, "\r\n", "\n"), "\n")
		if strings.Join(rs[row.Action], "\n") == strings.TrimSpace(strings.Join(lines, "\n")) {
			continue // unchanged: no write, no audit entry
		}
		if err := s.Flow.SetStockReplies(r.Context(), actorOf(r), row.Action, lines); err != nil {
			code, msg := s.message(r, err)
			s.showReplies(w, r, status(code), s.Msg.T(s.lang(r), workflow.ActionKey(row.Action))+"："+msg, rows)
			return
		}
	}
	http.Redirect(w, r, "/admin/replies?msg=saved", http.StatusSeeOther)
}
