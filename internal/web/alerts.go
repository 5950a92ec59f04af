package web

import (
	"net/http"
	"strconv"

	"chuangwen/internal/workflow"
)

// Staff alerts (消息提醒): the bell in the console's header counts what is
// new for the signed-in person; /alerts lists it. One area, one file.

func (s *Server) alertRoutes() []route {
	return []route{
		{method: "GET", path: "/api/v1/alerts", api: true, summary: "The caller's alerts, newest first, with how many are unread (people only; tokens get none)", query: []string{"before", "limit"}, resp: "Alerts", h: s.apiAlerts},
		{method: "POST", path: "/api/v1/alerts/read", api: true, summary: "Mark the caller's alerts read up to an id (0: all there are now)", body: "AlertsRead", resp: "Alerts", h: s.apiAlertsRead},
		{method: "GET", path: "/alerts", h: s.pageAlerts},
		{method: "POST", path: "/alerts/read", h: s.postAlertsRead},
	}
}

// alertPage is the caller's alerts and unread count.
type alertPage struct {
	Unread int              `json:"unread"` // at most workflow.MaxUnread+1
	Alerts []workflow.Alert `json:"alerts"`
}

// alertsRead is the API's mark.
type alertsRead struct {
	UpTo int64 `json:"up_to"`
}

func (s *Server) alertPage(r *http.Request) (alertPage, error) {
	q := r.URL.Query()
	var before int64
	var limit int
	if v := q.Get("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return alertPage{}, errInvalid("bad_number", "field", "before")
		}
		before = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			return alertPage{}, errInvalid("bad_number", "field", "limit")
		}
		limit = n
	}
	a := actorOf(r)
	unread, err := s.Flow.UnreadAlerts(r.Context(), a)
	if err != nil {
		return alertPage{}, err
	}
	list, err := s.Flow.Alerts(r.Context(), a, before, limit)
	return alertPage{Unread: unread, Alerts: nonNil(list)}, err
}

func (s *Server) apiAlerts(w http.ResponseWriter, r *http.Request) {
	p, err := s.alertPage(r)
	respond(s, w, r, p, err)
}

func (s *Server) apiAlertsRead(w http.ResponseWriter, r *http.Request) {
	var in alertsRead
	if err := decodeJSON(r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Flow.MarkAlertsRead(r.Context(), actorOf(r), in.UpTo); err != nil {
		s.fail(w, r, err)
		return
	}
	s.apiAlerts(w, r)
}

func (s *Server) pageAlerts(w http.ResponseWriter, r *http.Request) {
	p, err := s.alertPage(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var next int64
	if n := len(p.Alerts); n == 50 && r.URL.Query().Get("limit") == "" {
		next = p.Alerts[n-1].ID
	}
	s.render(w, r, "alerts", map[string]any{"Page": p, "Next": next})
}

func (s *Server) postAlertsRead(w http.ResponseWriter, r *http.Request) {
	err := s.parseForm(r)
	var upTo int64
	if err == nil {
		upTo, err = formInt(r, "up_to")
	}
	if err == nil {
		err = s.Flow.MarkAlertsRead(r.Context(), actorOf(r), upTo)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/alerts?msg=done", http.StatusSeeOther)
}
