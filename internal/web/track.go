package web

import (
	"net/http"
	"time"

	"chuangwen/internal/apperr"
	"chuangwen/internal/intake"
	"chuangwen/internal/workflow"
)

// trackRoutes lists the routes of status pages for residents, by receipt code.
func (s *Server) trackRoutes() []route {
	return []route{
		{method: "GET", path: "/track", public: true, h: s.pageTrackLookup},
		{method: "GET", path: "/track/{code}", public: true, h: s.pageTrack},
		{method: "POST", path: "/track/{code}/rate", public: true, h: s.postTrackRate},
	}
}

// Keys of the plain-words texts of the status page (all present in the
// catalogue: track.state.*, track.step.*, track.note_rejected/voided).
func stateKey(st workflow.State) string { return "track.state." + string(st) }

func stepKey(step string) string { return "track.step." + step }

func noteKey(st workflow.State) string { return "track.note_" + string(st) }

func (s *Server) stateText(r *http.Request, st workflow.State) string {
	return s.Msg.T(s.lang(r), stateKey(st))
}

// ---- status page (查询) ----

type trackStep struct {
	Label         string
	At            time.Time
	Done, Current bool
}

type trackView struct {
	Receipt, CaseNo, Category, Description, StateText, State string
	Steps                                                    []trackStep
	Reported                                                 time.Time
	Before, After                                            []string
	CanRate                                                  bool
	Rating, RatingReason                                     string
	RatedAt                                                  time.Time
	Follower                                                 bool
	Note                                                     string
	Reply                                                    string
	ReplyAt, ExpectedBy                                      time.Time
}

func (s *Server) pageTrackLookup(w http.ResponseWriter, r *http.Request) {
	if !s.publicGuard(w, r, false) {
		return
	}
	if c := r.URL.Query().Get("code"); c != "" {
		if code, ok := intake.NormalizeCode(c); ok {
			http.Redirect(w, r, "/track/"+code, http.StatusSeeOther)
			return
		}
		s.renderStatus(w, r, http.StatusNotFound, "public_track_lookup", map[string]any{"Error": s.Msg.T(s.lang(r), "intake.receipt_not_found")})
		return
	}
	s.render(w, r, "public_track_lookup", map[string]any{})
}

func (s *Server) pageTrack(w http.ResponseWriter, r *http.Request) {
	if !s.publicGuard(w, r, false) {
		return
	}
	t, err := s.Intake.Track(r.Context(), r.PathValue("code"))
	if err != nil {
		if apperr.Is(err, apperr.NotFound) {
			s.renderStatus(w, r, http.StatusNotFound, "public_track_lookup", map[string]any{"Error": s.Msg.T(s.lang(r), "intake.receipt_not_found")})
			return
		}
		s.fail(w, r, err)
		return
	}
	lang := s.lang(r)
	v := trackView{Receipt: t.Code, CaseNo: t.Case.No, Category: t.Case.CategoryName, Description: t.Case.Description,
		State: string(t.Case.State), StateText: s.Msg.T(lang, stateKey(t.Case.State)), Reported: t.Case.ReportedAt,
		CanRate: t.CanRate, Rating: t.Rating, RatingReason: t.RatingReason, RatedAt: t.RatedAt, Follower: t.Kind == intake.KindFollower,
		Reply: t.Reply, ReplyAt: t.ReplyAt, ExpectedBy: t.ExpectedBy}
	if t.MergedInto != "" {
		v.Note = s.Msg.T(lang, "track.note_merged", "no", t.MergedInto)
	}
	for _, st := range t.Steps {
		v.Steps = append(v.Steps, trackStep{Label: s.Msg.T(lang, stepKey(st.Key)), At: st.At, Done: st.Done, Current: st.Current})
	}
	if t.Case.State == workflow.Rejected || t.Case.State == workflow.Voided {
		v.Note = s.Msg.T(lang, noteKey(t.Case.State))
	}
	for _, p := range t.Case.Photos {
		if !p.Ready {
			continue
		}
		u := "/track/" + t.Code + "/photos/" + itoa(p.ID) + "/thumb"
		switch p.Kind {
		case "before":
			v.Before = append(v.Before, u)
		case "after":
			v.After = append(v.After, u)
		}
	}
	msg := ""
	switch r.URL.Query().Get("msg") {
	case "rated":
		msg = s.Msg.T(lang, "track.rated")
	case "reopened":
		msg = s.Msg.T(lang, "track.reopened")
	}
	s.render(w, r, "public_track", map[string]any{"Track": v, "Message": msg})
}

func (s *Server) postTrackRate(w http.ResponseWriter, r *http.Request) {
	if !s.publicGuard(w, r, true) {
		return
	}
	if err := s.parseForm(r); err != nil {
		s.fail(w, r, err)
		return
	}
	code, _ := intake.NormalizeCode(r.PathValue("code"))
	rating := r.FormValue("rating")
	if err := s.Intake.Rate(r.Context(), code, rating, r.FormValue("reason")); err != nil {
		s.fail(w, r, err)
		return
	}
	msg := "rated"
	if rating == intake.Unsatisfied {
		msg = "reopened"
	}
	http.Redirect(w, r, "/track/"+code+"?msg="+msg, http.StatusSeeOther)
}
