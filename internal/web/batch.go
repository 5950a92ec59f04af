package web

import (
	"html/template"
	"net/http"
	"strconv"

	"chuangwen/internal/workflow"
)

// Batch actions on the case list (批量处理): accept, dispatch to the
// suggested units, merge, list for supervision, each case with its own
// result. One area, one file.

// batchRoutes lists the routes of batch actions.
func (s *Server) batchRoutes() []route {
	return []route{
		{method: "POST", path: "/api/v1/cases/batch", api: true, roles: office, summary: "Act on many cases at once (accept, dispatch to the suggested units, merge, supervise); one result per case, each case in its own transaction", body: "Batch", resp: "BatchResults", h: s.apiBatch},
		{method: "POST", path: "/cases/batch", roles: office, h: s.postBatch},
	}
}

// batchResultJSON is one case's result as the API and the page give it.
type batchResultJSON struct {
	ID    int64          `json:"id"`
	No    string         `json:"no,omitempty"`
	OK    bool           `json:"ok"`
	State workflow.State `json:"state,omitempty"`
	Error *errorBody     `json:"error,omitempty"`
}

func (s *Server) batchResults(r *http.Request, in workflow.BatchResult) batchResultJSON {
	out := batchResultJSON{ID: in.ID, No: in.No, OK: in.OK, State: in.State}
	if in.Err != nil {
		code, msg := s.message(r, in.Err)
		out.Error = &errorBody{Code: string(code), Message: msg}
	}
	return out
}

func (s *Server) apiBatch(w http.ResponseWriter, r *http.Request) {
	var in workflow.BatchInput
	if err := decodeJSON(r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	res, err := s.Flow.Batch(r.Context(), actorOf(r), in)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]batchResultJSON, len(res))
	for i, x := range res {
		out[i] = s.batchResults(r, x)
	}
	writeJSON(w, http.StatusOK, out)
}

// postBatch acts on the ticked cases and shows each one's result, with
// the way back to the list they were ticked in.
func (s *Server) postBatch(w http.ResponseWriter, r *http.Request) {
	if err := s.parseForm(r); err != nil {
		s.fail(w, r, err)
		return
	}
	in := workflow.BatchInput{Action: workflow.Action(r.FormValue("action")), MergeIntoNo: r.FormValue("merge_into_no"), Opinion: r.FormValue("opinion")}
	for _, v := range r.Form["ids"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			s.fail(w, r, errInvalid("bad_number", "field", "ids"))
			return
		}
		in.IDs = append(in.IDs, id)
	}
	back := template.URL("/cases?" + r.FormValue("query"))
	res, err := s.Flow.Batch(r.Context(), actorOf(r), in)
	if err != nil {
		code, msg := s.message(r, err)
		s.renderStatus(w, r, status(code), "batch", map[string]any{"Error": msg, "Back": back, "Action": in.Action})
		return
	}
	out := make([]batchResultJSON, len(res))
	ok := 0
	for i, x := range res {
		out[i] = s.batchResults(r, x)
		if x.OK {
			ok++
		}
	}
	s.render(w, r, "batch", map[string]any{"Results": out, "OK": ok, "Failed": len(out) - ok, "Back": back, "Action": in.Action})
}
