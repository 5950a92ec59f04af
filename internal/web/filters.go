package web

import (
	"net/http"
	"net/url"

	"chuangwen/internal/workflow"
)

// Saved filters (常用筛选): a user's named case-list queries, as links
// above the list. One area, one file: its routes, API and console
// handlers.

// filterRoutes lists the routes of saved filters.
func (s *Server) filterRoutes() []route {
	return []route{
		{method: "GET", path: "/api/v1/filters", api: true, summary: "The caller's saved case-list filters, by name", resp: "SavedFilters", h: s.apiFilters},
		{method: "POST", path: "/api/v1/filters", api: true, status: 201, summary: "Save a case-list query under a name (a filter of the same name is replaced); only list filters are kept", body: "SavedFilter", resp: "SavedFilter", h: s.apiSaveFilter},
		{method: "DELETE", path: "/api/v1/filters/{id}", api: true, summary: "Delete one of the caller's saved filters", resp: "object", h: s.apiDeleteFilter},
		{method: "POST", path: "/cases/filters", h: s.postFilter},
		{method: "POST", path: "/cases/filters/{id}/delete", h: s.postDeleteFilter},
	}
}

func (s *Server) apiFilters(w http.ResponseWriter, r *http.Request) {
	fs, err := s.Flow.SavedFilters(r.Context(), actorOf(r))
	respond(s, w, r, nonNil(fs), err)
}

func (s *Server) apiSaveFilter(w http.ResponseWriter, r *http.Request) {
	var in workflow.SavedFilter
	if err := decodeJSON(r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	f, err := s.Flow.SaveFilter(r.Context(), actorOf(r), in.Name, in.Query)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, f)
}

func (s *Server) apiDeleteFilter(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err == nil {
		err = s.Flow.DeleteFilter(r.Context(), actorOf(r), id)
	}
	respond(s, w, r, map[string]bool{"ok": true}, err)
}

// postFilter saves the list's query (the form's "query") under the typed
// name and shows the list; on a refusal the list comes back with the
// message and the name as typed.
func (s *Server) postFilter(w http.ResponseWriter, r *http.Request) {
	query, name := r.FormValue("query"), r.FormValue("name")
	f, err := s.Flow.SaveFilter(r.Context(), actorOf(r), name, query)
	if err != nil {
		code, msg := s.message(r, err)
		list := r.Clone(r.Context())
		list.URL = &url.URL{Path: "/cases", RawQuery: query}
		s.showCases(w, list, status(code), msg, name)
		return
	}
	http.Redirect(w, r, "/cases?"+f.Query, http.StatusSeeOther)
}

func (s *Server) postDeleteFilter(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err == nil {
		err = s.Flow.DeleteFilter(r.Context(), actorOf(r), id)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/cases?"+r.FormValue("query"), http.StatusSeeOther)
}
