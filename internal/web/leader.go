package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// The leader's one screen (领导驾驶舱): the page carries the screen's JSON
// for its first paint, draws it with ECharts and Leaflet, and reads
// /api/v1/leader again every minute; every figure links to the cases
// behind it.

func (s *Server) leaderRoutes() []route {
	return []route{
		{method: "GET", path: "/api/v1/leader", api: true, roles: office, summary: "The leader's screen: counts, grid cells by open and overdue cases, the districts' index, units by overdue cases, 12 weeks, the latest round", resp: "LeaderView", h: s.apiLeader},
		{method: "GET", path: "/leader", roles: office, h: s.pageLeader},
	}
}

// leaderRefresh is how often the page reads the screen again, in seconds.
const leaderRefresh = 60

func (s *Server) apiLeader(w http.ResponseWriter, r *http.Request) {
	v, err := s.Report.Leader(r.Context(), actorOf(r))
	if err == nil {
		w.Header().Set("Cache-Control", "no-store")
	}
	respond(s, w, r, v, err)
}

// openStatesQuery selects the open cases in a case list's address.
const openStatesQuery = "state=reported&state=accepted&state=dispatched&state=in_progress&state=postponed&state=verifying"

type leaderTile struct {
	Key, Href string
	Red       bool
}

func (s *Server) pageLeader(w http.ResponseWriter, r *http.Request) {
	v, err := s.Report.Leader(r.Context(), actorOf(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	view, err := json.Marshal(v)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	lang := s.lang(r)
	labels := map[string]string{}
	for _, key := range []string{"leader.ui.reported", "leader.ui.closed", "leader.ui.overdue", "leader.ui.to_handle", "leader.ui.index",
		"leader.ui.updated", "leader.ui.no_index", "leader.ui.no_round", "leader.ui.open", "leader.ui.cell", "leader.ui.round",
		"leader.ui.refresh_failed", "leader.ui.none", "leader.ui.deadline"} {
		labels[strings.TrimPrefix(key, "leader.ui.")] = s.Msg.T(lang, key)
	}
	lb, _ := json.Marshal(labels)
	today := s.Report.Clock().In(s.Location).Format("2006-01-02")
	week := v.Weeks[len(v.Weeks)-1]
	day := url.Values{"from": {today}, "to": {today}}.Encode()
	closed := url.Values{"state": {"closed"}, "closed_from": {week.From}, "closed_to": {week.To}}.Encode()
	tiles := []leaderTile{
		{Key: "open", Href: "/cases?" + openStatesQuery},
		{Key: "overdue", Href: "/cases?queue=overdue", Red: true},
		{Key: "listed", Href: "/cases?queue=supervised", Red: true},
		{Key: "red", Href: "/cases?warning=2&" + openStatesQuery, Red: true},
		{Key: "to_verify", Href: "/cases?queue=to_verify"},
		{Key: "today", Href: "/cases?" + day},
		{Key: "closed_week", Href: "/cases?" + closed},
	}
	s.render(w, r, "leader", map[string]any{"Wide": true, "View": string(view), "Labels": string(lb),
		"Interval": strconv.Itoa(leaderRefresh), "Tiles": tiles, "Quarter": v.Quarter})
}
