package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"

	"chuangwen/internal/apperr"
	"chuangwen/internal/assess"
	"chuangwen/internal/org"
	"chuangwen/internal/photo"
	"chuangwen/internal/workflow"
)

// The assessment (测评体系, 点位, 模拟测评, 谁丢分谁负责): console pages for
// the office, the inspectors' phone view, a unit's view of where it lost
// points, and the API. Every read and write goes through assess.Service,
// which checks roles and scopes again.

var (
	inspectors = []org.Role{org.RoleAdmin, org.RoleInspector, org.RoleLeader}
	// lossReaders read a round's ledger entries: the office, and a unit's
	// handler for its own unit (the service narrows the handler's view).
	lossReaders = []org.Role{org.RoleAdmin, org.RoleAcceptor, org.RoleLeader, org.RoleHandler}
)

// maxImportBytes bounds an uploaded tree, site list or round file.
const maxImportBytes = 64 << 20

func (s *Server) assessRoutes() []route {
	return []route{
		// Editions.
		{method: "GET", path: "/api/v1/assess/editions", api: true, roles: office, summary: "Editions of the indicator tree (测评体系), every version", resp: "Editions", h: actorListJSON(s, s.Assess.Editions)},
		{method: "POST", path: "/api/v1/assess/editions", api: true, roles: admin, summary: "Import a tree (YAML, or XLSX with an xlsx content type) as a new draft version; 422 lists every problem by place", body: "binary", resp: "EditionInfo", status: http.StatusCreated, h: s.apiImportTree},
		{method: "GET", path: "/api/v1/assess/editions/{code}/{version}", api: true, roles: office, summary: "One version of an edition with its tree", resp: "Tree", h: s.apiEdition},
		{method: "GET", path: "/api/v1/assess/editions/{code}/{version}/export", api: true, roles: office, summary: "Export a version as YAML or XLSX (the import forms)", query: []string{"format"}, resp: "binary", h: s.exportEdition},
		{method: "POST", path: "/api/v1/assess/editions/{code}/{version}/publish", api: true, roles: admin, summary: "Publish a draft version (it never changes afterwards)", resp: "EditionInfo", h: s.apiPublish},
		{method: "GET", path: "/assess", roles: office, h: s.pageAssess},
		{method: "POST", path: "/assess/editions", roles: admin, h: s.postImportTree},
		{method: "GET", path: "/assess/editions/{code}/{version}", roles: office, h: s.pageEdition},
		{method: "GET", path: "/assess/editions/{code}/{version}/export", roles: office, h: s.exportEdition},
		{method: "POST", path: "/assess/editions/{code}/{version}/publish", roles: admin, h: s.postPublish},
		// Sites.
		{method: "GET", path: "/api/v1/assess/sites", api: true, roles: office, summary: "The site registry (点位) with each site's latest result", resp: "Sites", h: s.apiSites},
		{method: "POST", path: "/api/v1/assess/sites", api: true, roles: admin, summary: "Import sites from CSV (text/csv) or XLSX; all or nothing", body: "binary", resp: "ImportReport", h: s.apiImportSites},
		{method: "GET", path: "/api/v1/assess/sites/export", api: true, roles: office, summary: "Export the registry as CSV or XLSX (the import form)", query: []string{"format"}, resp: "binary", h: s.exportSites},
		{method: "GET", path: "/assess/sites", roles: office, h: s.pageSites},
		{method: "POST", path: "/assess/sites/import", roles: admin, h: s.postImportSites},
		{method: "GET", path: "/assess/sites/export", roles: office, h: s.exportSites},
		{method: "GET", path: "/api/v1/assess/sites/{code}", api: true, roles: office, summary: "A site with its photos and every round that sampled it", resp: "SiteDetail", h: codeJSON(s, s.Assess.Site)},
		{method: "GET", path: "/assess/sites/{code}", roles: office, h: s.pageSite},
		{method: "POST", path: "/assess/sites/{code}/active", roles: admin, h: s.postSiteActive},
		{method: "POST", path: "/assess/sites/{code}/photos", roles: admin, h: s.postSitePhotos},
		{method: "GET", path: "/assess/sites/{code}/photos/{id}", roles: office, h: s.sitePhoto},
		// Rounds.
		{method: "GET", path: "/api/v1/assess/rounds", api: true, roles: office, summary: "Rounds (模拟测评, 领导督导), newest first", resp: "Rounds", h: actorListJSON(s, s.Assess.Rounds)},
		{method: "POST", path: "/api/v1/assess/rounds", api: true, roles: admin, summary: "Create a round and draw its sample", body: "NewRound", resp: "Round", status: http.StatusCreated, h: s.apiCreateRound},
		{method: "GET", path: "/api/v1/assess/rounds/{code}", api: true, roles: office, summary: "A round", resp: "Round", h: codeJSON(s, s.Assess.Round)},
		{method: "GET", path: "/api/v1/assess/rounds/{code}/sites", api: true, roles: office, summary: "A round's sample, by site code", resp: "RoundSites", h: codeListJSON(s, s.Assess.RoundSites)},
		{method: "GET", path: "/api/v1/assess/rounds/{code}/scores", api: true, roles: office, summary: "Scores of the city or a region (the document of assess scores --json)", query: []string{"region"}, resp: "ScoresDoc", h: s.apiScores},
		{method: "GET", path: "/api/v1/assess/rounds/{code}/ledger", api: true, roles: office, summary: "The point-loss ledger of the city or a region (assess ledger --json)", query: []string{"region"}, resp: "LedgerDoc", h: s.apiLedger},
		{method: "GET", path: "/api/v1/assess/rounds/{code}/entries", api: true, roles: lossReaders, summary: "The ledger's entries, each back to its observation, case and photos; a unit's handler sees its own unit's", query: []string{"region", "unit", "standard"}, resp: "Entries", h: s.apiEntries},
		{method: "GET", path: "/api/v1/assess/rounds/{code}/rankings", api: true, roles: office, summary: "Rankings of districts, streets and units with cards and changes against the previous round", resp: "Rankings", h: s.apiRankings},
		{method: "GET", path: "/api/v1/assess/rounds/{code}/proposals", api: true, roles: office, summary: "The escalation ladder's proposals for a closed round", resp: "Proposals", h: codeListJSON(s, s.Assess.Proposals)},
		{method: "POST", path: "/api/v1/assess/rounds/{code}/escalations", api: true, roles: admin, summary: "Confirm a proposed step of the ladder", body: "EscalationIn", resp: "Escalation", status: http.StatusCreated, h: s.apiConfirmEscalation},
		{method: "GET", path: "/api/v1/assess/escalations", api: true, roles: office, summary: "Confirmed steps of the ladder", query: []string{"kind", "subject"}, resp: "Escalations", h: s.apiEscalations},
		{method: "POST", path: "/api/v1/assess/rounds/{code}/close", api: true, roles: admin, summary: "Close a round: raise owed cases, store its figures", resp: "Round", h: codeJSON(s, s.Assess.CloseRound)},
		{method: "POST", path: "/api/v1/assess/rounds/{code}/raise", api: true, roles: admin, summary: "Raise the cases owed to failed observations", resp: "RaiseReport", h: codeJSON(s, s.Assess.RaiseCases)},
		{method: "GET", path: "/api/v1/assess/rounds/{code}/check", api: true, roles: office, summary: "Recompute a closed round and list every difference from its stored figures", resp: "Differences", h: codeListJSON(s, s.Assess.CheckRound)},
		{method: "POST", path: "/api/v1/assess/rounds/{code}/observations/import", api: true, roles: admin, summary: "Import observations from CSV; all or nothing", body: "binary", resp: "ImportReport", h: s.apiImportObservations},
		{method: "POST", path: "/api/v1/assess/rounds/{code}/results/import", api: true, roles: admin, summary: "Import survey and document values from CSV; all or nothing", body: "binary", resp: "ImportReport", h: s.apiImportResults},
		{method: "GET", path: "/api/v1/assess/rounds/{code}/teams", api: true, roles: office, summary: "A round's teams", resp: "Teams", h: codeListJSON(s, s.Assess.Teams)},
		{method: "PUT", path: "/api/v1/assess/rounds/{code}/teams/{team}", api: true, roles: admin, summary: "Create a team or replace its members and sites", body: "TeamIn", resp: "Team", h: s.apiSaveTeam},
		{method: "GET", path: "/api/v1/assess/assignments", api: true, roles: inspectors, summary: "The caller's sites in open rounds", resp: "Assignments", h: actorListJSON(s, s.Assess.MyAssignments)},
		{method: "GET", path: "/api/v1/assess/rounds/{code}/sites/{site}/checklist", api: true, roles: inspectors, summary: "A site's checklist with what is recorded", resp: "Checklist", h: s.apiChecklist},
		{method: "POST", path: "/api/v1/assess/rounds/{code}/observations", api: true, roles: inspectors, summary: "Record one observation (JSON, or multipart with photos); a resent key changes nothing; a fail raises its case", body: "ObservationIn", resp: "Submitted", h: s.apiSubmit},
		{method: "GET", path: "/api/v1/assess/rounds/{code}/values", api: true, roles: office, summary: "Values of survey and document standards: standard → district code (\"\" the city) → value", resp: "object", h: codeJSON(s, s.Assess.Values)},
		{method: "PUT", path: "/api/v1/assess/rounds/{code}/values", api: true, roles: admin, summary: "Set values of survey and document standards (grading, survey results); checked as an import", body: "Values", resp: "object", h: s.apiSetValues},
		{method: "GET", path: "/api/v1/assess/rounds/{code}/evidence", api: true, roles: lossReaders, summary: "Evidence files for document standards; a unit's handler sees its own", resp: "EvidenceFiles", h: codeListJSON(s, s.Assess.EvidenceList)},
		{method: "POST", path: "/api/v1/assess/rounds/{code}/evidence", api: true, roles: []org.Role{org.RoleAdmin, org.RoleHandler}, summary: "Upload evidence for a document standard (multipart: file, standard, region, note)", body: "EvidenceForm", resp: "EvidenceFile", status: http.StatusCreated, h: s.apiAddEvidence},
		{method: "GET", path: "/api/v1/assess/rounds/{code}/evidence/{id}", api: true, roles: lossReaders, summary: "An evidence file", resp: "binary", h: s.downloadEvidence},
		{method: "GET", path: "/assess/rounds/{code}/evidence/{id}", roles: lossReaders, h: s.downloadEvidence},
		{method: "POST", path: "/assess/rounds/{code}/evidence", roles: []org.Role{org.RoleAdmin, org.RoleHandler}, h: s.postEvidence},
		{method: "POST", path: "/assess/rounds/{code}/values", roles: admin, h: s.postValues},
		{method: "GET", path: "/assess/rounds/{code}", roles: office, h: s.pageRound},
		{method: "GET", path: "/assess/rounds/{code}/ledger", roles: lossReaders, h: s.pageEntries},
		{method: "GET", path: "/assess/rounds/{code}/check", roles: office, h: s.pageCheck},
		{method: "GET", path: "/assess/rounds/{code}/teams", roles: admin, h: s.pageTeams},
		{method: "GET", path: "/assess/rounds/{code}/export/{table}", roles: lossReaders, h: s.exportRound},
		{method: "POST", path: "/assess/rounds", roles: admin, h: s.postCreateRound},
		{method: "POST", path: "/assess/rounds/{code}/{action}", roles: admin, h: s.postRoundAction},
		{method: "GET", path: "/assess/settings", roles: admin, h: s.pageAssessSettings},
		{method: "POST", path: "/assess/settings", roles: admin, h: s.postAssessSettings},
		{method: "GET", path: "/assess/mine", roles: []org.Role{org.RoleHandler}, h: s.pageMine},
		// The inspectors' phone view.
		{method: "GET", path: "/inspect", roles: inspectors, h: s.pageInspect},
		{method: "GET", path: "/inspect/{code}/{site}", roles: inspectors, h: s.pageInspectSite},
		{method: "POST", path: "/inspect/{code}/{site}", roles: inspectors, h: s.postInspect},
	}
}

// ---- editions ----

// problemJSON is an import problem in the user's language, placed.
type problemJSON struct {
	Place   string `json:"place"`
	Path    string `json:"path,omitempty"`
	Line    int    `json:"line,omitempty"`
	Column  string `json:"column,omitempty"`
	Sheet   string `json:"sheet,omitempty"`
	Key     string `json:"key"`
	Message string `json:"message"`
}

func (s *Server) problems(r *http.Request, ps []assess.Problem) []problemJSON {
	lang := s.lang(r)
	out := make([]problemJSON, len(ps))
	for i, p := range ps {
		var place string
		switch {
		case p.Table && p.Sheet != "":
			place = s.Msg.T(lang, "assess.place_sheet", "sheet", p.Sheet, "row", strconv.Itoa(p.Line), "column", p.Column)
		case p.Table && p.Column != "":
			place = s.Msg.T(lang, "assess.place_cell", "row", strconv.Itoa(p.Line), "column", p.Column)
		case p.Table && p.Line > 0:
			place = s.Msg.T(lang, "assess.place_row", "row", strconv.Itoa(p.Line))
		case p.Line > 0:
			place = s.Msg.T(lang, "assess.place_line", "line", strconv.Itoa(p.Line), "path", p.Path)
		default:
			place = s.Msg.T(lang, "assess.place_file")
		}
		out[i] = problemJSON{Place: place, Path: p.Path, Line: p.Line, Column: p.Column, Sheet: p.Sheet, Key: p.Key, Message: s.Msg.T(lang, p.Key, p.Args...)}
	}
	return out
}

// importFailed answers an import with problems: 422 with each problem.
func (s *Server) importFailed(w http.ResponseWriter, r *http.Request, ps []assess.Problem, err error) {
	if len(ps) == 0 {
		s.fail(w, r, err)
		return
	}
	code, msg := s.message(r, err)
	var body struct {
		apiError
		Problems []problemJSON `json:"problems"`
	}
	body.Error.Code, body.Error.Message, body.Problems = string(code), msg, s.problems(r, ps)
	writeJSON(w, http.StatusUnprocessableEntity, body)
}

// bodyFormat tells an uploaded body's format from its content type (or
// the format query parameter).
func bodyFormat(r *http.Request, def assess.Format) assess.Format {
	if f := r.URL.Query().Get("format"); f != "" {
		return assess.Format(f)
	}
	ct := r.Header.Get("Content-Type")
	switch {
	case strings.Contains(ct, "spreadsheetml"), strings.Contains(ct, "xlsx"):
		return assess.FormatXLSX
	case strings.Contains(ct, "csv"):
		return assess.FormatCSV
	case strings.Contains(ct, "yaml"):
		return assess.FormatYAML
	}
	return def
}

func (s *Server) apiImportTree(w http.ResponseWriter, r *http.Request) {
	body := http.MaxBytesReader(w, r.Body, maxImportBytes)
	info, ps, err := s.Assess.ImportTree(r.Context(), actorOf(r), body, bodyFormat(r, assess.FormatYAML))
	if err != nil {
		s.importFailed(w, r, ps, err)
		return
	}
	writeJSON(w, http.StatusCreated, info)
}

// editionPath reads {code} and {version}.
func editionPath(r *http.Request) (string, int, error) {
	v, err := strconv.Atoi(r.PathValue("version"))
	if err != nil || v < 1 || v > math.MaxInt32 {
		return "", 0, apperr.New(apperr.NotFound, "not_found")
	}
	return r.PathValue("code"), v, nil
}

// treeJSON is an edition's tree with exact decimals as text.
type treeJSON struct {
	Edition   assess.EditionInfo `json:"edition"`
	Sample    bool               `json:"sample"` // illustrative, not an official text
	SiteTypes []string           `json:"site_types"`
	Projects  []projectJSON      `json:"projects"`
	Negative  []negativeJSON     `json:"negative_list"`
	Total     string             `json:"total"`
}

type projectJSON struct {
	Code     string        `json:"code"`
	Name     string        `json:"name"`
	Points   string        `json:"points"`
	Contents []contentJSON `json:"contents"`
}

type contentJSON struct {
	Code      string         `json:"code"`
	Name      string         `json:"name"`
	Points    string         `json:"points"`
	Standards []standardJSON `json:"standards"`
}

type standardJSON struct {
	Code       string   `json:"code"`
	Name       string   `json:"name"`
	Points     string   `json:"points"`
	Method     string   `json:"method"`
	Rule       string   `json:"rule"`
	PerProblem string   `json:"per_problem,omitempty"`
	SiteTypes  []string `json:"site_types,omitempty"`
	LeadUnit   string   `json:"lead_unit,omitempty"`
	CoopUnits  []string `json:"coop_units,omitempty"`
}

type negativeJSON struct {
	Code      string   `json:"code"`
	Name      string   `json:"name"`
	SiteTypes []string `json:"site_types,omitempty"`
}

func newTreeJSON(info assess.EditionInfo, ed assess.Edition) treeJSON {
	t := treeJSON{Edition: info, Sample: isSample(info), SiteTypes: nonNil(ed.SiteTypes), Projects: []projectJSON{}, Negative: []negativeJSON{}}
	t.Total, _ = assess.FormatDecimal(ed.Total())
	for _, p := range ed.Projects {
		pj := projectJSON{Code: p.Code, Name: p.Name, Points: pointsText(p.Points, projectSum(p)), Contents: []contentJSON{}}
		for _, c := range p.Contents {
			cj := contentJSON{Code: c.Code, Name: c.Name, Points: pointsText(c.Points, contentSum(c)), Standards: []standardJSON{}}
			for _, st := range c.Standards {
				sj := standardJSON{Code: st.Code, Name: st.Name, Method: string(st.Method), Rule: string(st.Rule), SiteTypes: st.SiteTypes, LeadUnit: st.LeadUnit, CoopUnits: st.CoopUnits}
				sj.Points, _ = assess.FormatDecimal(st.Points)
				if st.PerProblem != nil {
					sj.PerProblem, _ = assess.FormatDecimal(st.PerProblem)
				}
				cj.Standards = append(cj.Standards, sj)
			}
			pj.Contents = append(pj.Contents, cj)
		}
		t.Projects = append(t.Projects, pj)
	}
	for _, n := range ed.Negative {
		t.Negative = append(t.Negative, negativeJSON{Code: n.Code, Name: n.Name, SiteTypes: n.SiteTypes})
	}
	return t
}

// isSample tells an illustrative edition (示例): its code starts with
// "sample" or its name says 示例.
func isSample(info assess.EditionInfo) bool {
	return strings.HasPrefix(info.Code, "sample") || strings.Contains(info.Name, "示例")
}

func (s *Server) loadTree(r *http.Request) (treeJSON, error) {
	code, v, err := editionPath(r)
	if err != nil {
		return treeJSON{}, err
	}
	info, ed, err := s.Assess.Edition(r.Context(), actorOf(r), code, v)
	if err != nil {
		return treeJSON{}, err
	}
	return newTreeJSON(info, ed), nil
}

func (s *Server) apiEdition(w http.ResponseWriter, r *http.Request) {
	t, err := s.loadTree(r)
	respond(s, w, r, t, err)
}

func (s *Server) exportEdition(w http.ResponseWriter, r *http.Request) {
	code, v, err := editionPath(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f := assess.Format(r.URL.Query().Get("format"))
	if f == "" {
		f = assess.FormatYAML
	}
	var buf bytes.Buffer
	if err := s.Assess.ExportTree(r.Context(), actorOf(r), code, v, f, &buf); err != nil {
		s.fail(w, r, err)
		return
	}
	download(w, code+"-v"+strconv.Itoa(v)+"."+string(f), f, buf.Bytes())
}

// download sends a file as an attachment.
func download(w http.ResponseWriter, name string, f assess.Format, b []byte) {
	sendFile(w, name, map[assess.Format]string{
		assess.FormatYAML: "application/yaml; charset=utf-8",
		assess.FormatCSV:  "text/csv; charset=utf-8",
		assess.FormatXLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	}[f], b)
}

// sendFile sends b as a download named name.
func sendFile(w http.ResponseWriter, name, contentType string, b []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"; filename*=UTF-8''`+urlPathEscape(name))
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b)
}

func (s *Server) apiPublish(w http.ResponseWriter, r *http.Request) {
	code, v, err := editionPath(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	info, err := s.Assess.Publish(r.Context(), actorOf(r), code, v)
	respond(s, w, r, info, err)
}

func (s *Server) postPublish(w http.ResponseWriter, r *http.Request) {
	code, v, err := editionPath(r)
	if err == nil {
		_, err = s.Assess.Publish(r.Context(), actorOf(r), code, v)
	}
	s.formDone(w, r, "/assess/editions/"+code+"/"+strconv.Itoa(v), err)
}

// formDone goes back to a page after a console form, with its outcome.
func (s *Server) formDone(w http.ResponseWriter, r *http.Request, back string, err error) {
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, back+"?msg=saved", http.StatusSeeOther)
}

// uploaded returns the form's file (field "file") or, failing that, the
// text of the field text, with the format the file's name gives.
func (s *Server) uploaded(r *http.Request, def assess.Format) (io.Reader, assess.Format, error) {
	if err := s.parseForm(r); err != nil {
		return nil, "", err
	}
	if r.MultipartForm != nil {
		if fhs := r.MultipartForm.File["file"]; len(fhs) > 0 && fhs[0].Size > 0 {
			f, err := fhs[0].Open()
			if err != nil {
				return nil, "", err
			}
			format := assess.FormatOf(fhs[0].Filename)
			if format == "" {
				format = def
			}
			return f, format, nil
		}
	}
	if text := r.FormValue("text"); strings.TrimSpace(text) != "" {
		return strings.NewReader(text), def, nil
	}
	return nil, "", apperr.New(apperr.Invalid, "assess.no_file")
}

// pageImport shows an import's problems on a page of their own.
func (s *Server) pageImportProblems(w http.ResponseWriter, r *http.Request, back string, ps []assess.Problem, err error) {
	if len(ps) == 0 {
		s.fail(w, r, err)
		return
	}
	_, msg := s.message(r, err)
	s.renderStatus(w, r, http.StatusUnprocessableEntity, "assess_problems", map[string]any{"Error": msg, "Problems": s.problems(r, ps), "Back": back, "Text": r.FormValue("text")})
}

func (s *Server) postImportTree(w http.ResponseWriter, r *http.Request) {
	body, f, err := s.uploaded(r, assess.FormatYAML)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	info, ps, err := s.Assess.ImportTree(r.Context(), actorOf(r), body, f)
	if err != nil {
		s.pageImportProblems(w, r, "/assess", ps, err)
		return
	}
	http.Redirect(w, r, "/assess/editions/"+info.Code+"/"+strconv.Itoa(info.Version)+"?msg=saved", http.StatusSeeOther)
}

func (s *Server) pageEdition(w http.ResponseWriter, r *http.Request) {
	var l loader
	t := load(&l, func() (treeJSON, error) { return s.loadTree(r) })
	var yaml bytes.Buffer
	load(&l, func() (any, error) {
		return nil, s.Assess.ExportTree(r.Context(), actorOf(r), t.Edition.Code, t.Edition.Version, assess.FormatYAML, &yaml)
	})
	s.page(w, r, &l, "assess_edition", map[string]any{"Tree": t, "YAML": yaml.String()})
}

// ---- overview ----

func (s *Server) pageAssess(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	var l loader
	eds := load(&l, func() ([]assess.EditionInfo, error) { return s.Assess.Editions(ctx, a) })
	rounds := load(&l, func() ([]assess.Round, error) { return s.Assess.Rounds(ctx, a) })
	esc := load(&l, func() ([]assess.Escalation, error) { return s.Assess.Escalations(ctx, a, "", "") })
	names := load(&l, func() (assessNames, error) { return s.assessNames(ctx) })
	samples := map[int64]bool{}
	for _, e := range eds {
		samples[e.ID] = isSample(e)
	}
	s.page(w, r, &l, "assess", map[string]any{"Editions": eds, "Samples": samples, "Rounds": rounds, "Escalations": esc, "Names": names})
}

// assessNames are the names of units and regions by code, for pages.
type assessNames struct {
	Units   map[string]string
	Regions map[string]string
	Levels  map[string]string
	byID    map[int64]string // region codes
}

func (n assessNames) Unit(code string) string {
	if code == "" {
		return ""
	}
	if v, ok := n.Units[code]; ok {
		return v
	}
	return code
}

func (n assessNames) Region(code string) string {
	if v, ok := n.Regions[code]; ok {
		return v
	}
	return code
}

// districts are the district codes, sorted.
func (n assessNames) districts() []string {
	var out []string
	for c, lvl := range n.Levels {
		if lvl == "district" {
			out = append(out, c)
		}
	}
	sortStrings(out)
	return out
}

func (s *Server) assessNames(ctx context.Context) (assessNames, error) {
	n := assessNames{Units: map[string]string{}, Regions: map[string]string{}, Levels: map[string]string{}, byID: map[int64]string{}}
	units, err := s.Org.Units(ctx)
	if err != nil {
		return n, err
	}
	for _, u := range units {
		n.Units[u.Code] = u.Name
	}
	regions, err := s.Org.Regions(ctx)
	if err != nil {
		return n, err
	}
	for _, g := range regions {
		n.Regions[g.Code], n.Levels[g.Code], n.byID[g.ID] = g.Name, g.Level, g.Code
	}
	return n, nil
}

// ---- sites ----

// siteJSON is a site with its latest result.
type siteJSON struct {
	assess.SiteRow
	Latest *assess.SiteResult `json:"latest,omitempty"`
}

func (s *Server) sitesWithResults(r *http.Request) ([]siteJSON, error) {
	var l loader
	sites := load(&l, func() ([]assess.SiteRow, error) { return s.Assess.Sites(r.Context(), actorOf(r)) })
	latest := load(&l, func() (map[int64]assess.SiteResult, error) { return s.Assess.LatestResults(r.Context(), actorOf(r)) })
	out := make([]siteJSON, len(sites))
	for i, st := range sites {
		out[i] = siteJSON{SiteRow: st}
		if res, ok := latest[st.ID]; ok {
			out[i].Latest = &res
		}
	}
	return out, l.err
}

func (s *Server) apiSites(w http.ResponseWriter, r *http.Request) {
	out, err := s.sitesWithResults(r)
	respond(s, w, r, nonNil(out), err)
}

func (s *Server) apiImportSites(w http.ResponseWriter, r *http.Request) {
	body := http.MaxBytesReader(w, r.Body, maxImportBytes)
	rep, ps, err := s.Assess.ImportSites(r.Context(), actorOf(r), body, bodyFormat(r, assess.FormatCSV))
	if err != nil {
		s.importFailed(w, r, ps, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

func (s *Server) exportSites(w http.ResponseWriter, r *http.Request) {
	f := assess.Format(r.URL.Query().Get("format"))
	if f == "" {
		f = assess.FormatCSV
	}
	var buf bytes.Buffer
	if err := s.Assess.ExportSites(r.Context(), actorOf(r), f, &buf); err != nil {
		s.fail(w, r, err)
		return
	}
	download(w, "sites."+string(f), f, buf.Bytes())
}

func (s *Server) postImportSites(w http.ResponseWriter, r *http.Request) {
	body, f, err := s.uploaded(r, assess.FormatCSV)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	_, ps, err := s.Assess.ImportSites(r.Context(), actorOf(r), body, f)
	if err != nil {
		s.pageImportProblems(w, r, "/assess/sites", ps, err)
		return
	}
	http.Redirect(w, r, "/assess/sites?msg=saved", http.StatusSeeOther)
}

func (s *Server) pageSites(w http.ResponseWriter, r *http.Request) {
	var l loader
	all := load(&l, func() ([]siteJSON, error) { return s.sitesWithResults(r) })
	names := load(&l, func() (assessNames, error) { return s.assessNames(r.Context()) })
	typ, district := r.URL.Query().Get("type"), r.URL.Query().Get("district")
	types, districts := map[string]int{}, map[string]int{}
	var shown []siteJSON
	for _, st := range all {
		d := st.Region
		if len(d) > 6 {
			d = d[:6]
		}
		types[st.Type]++
		districts[d]++
		if (typ == "" || st.Type == typ) && (district == "" || d == district) {
			shown = append(shown, st)
		}
	}
	points, _ := json.Marshal(sitePoints(shown))
	s.page(w, r, &l, "assess_sites", map[string]any{"Sites": shown, "Total": len(all), "Types": types, "Districts": districts,
		"Type": typ, "District": district, "Names": names, "Points": string(points), "Query": r.URL.RawQuery})
}

// sitePoint is a site on the sites map: where, what, and its latest
// result (the colour).
type sitePoint struct {
	Lat  float64 `json:"lat"`
	Lon  float64 `json:"lon"`
	Code string  `json:"code"`
	Name string  `json:"name"`
	Type string  `json:"type"`
	Fail int     `json:"fail"`
	Seen bool    `json:"seen"`
}

func sitePoints(sites []siteJSON) []sitePoint {
	out := []sitePoint{}
	for _, st := range sites {
		if st.Lat == nil || st.Lon == nil {
			continue
		}
		p := sitePoint{Lat: *st.Lat, Lon: *st.Lon, Code: st.Code, Name: st.Name, Type: st.Type}
		if st.Latest != nil {
			p.Fail, p.Seen = st.Latest.Fail, true
		}
		out = append(out, p)
	}
	return out
}

// ---- rounds ----

// newRoundJSON is the body of a new round.
type newRoundJSON struct {
	Edition string  `json:"edition"`
	Name    string  `json:"name"`
	Plan    string  `json:"plan,omitempty"` // "all" or "TYPE:N,..."
	Seed    *uint64 `json:"seed,omitempty,string"`
	Date    string  `json:"inspection_date,omitempty"`
	Kind    string  `json:"kind,omitempty"` // mock (default) or supervision
}

func (s *Server) apiCreateRound(w http.ResponseWriter, r *http.Request) {
	var in newRoundJSON
	if err := decodeJSON(r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	rd, err := s.Assess.CreateRound(r.Context(), actorOf(r), assess.NewRound{Edition: in.Edition, Name: in.Name, Plan: in.Plan, Seed: in.Seed, Date: in.Date, Kind: in.Kind})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, rd)
}

func (s *Server) postCreateRound(w http.ResponseWriter, r *http.Request) {
	if err := s.parseForm(r); err != nil {
		s.fail(w, r, err)
		return
	}
	in := assess.NewRound{Edition: r.FormValue("edition"), Name: r.FormValue("name"), Plan: r.FormValue("plan"), Date: r.FormValue("date"), Kind: r.FormValue("kind")}
	if v := strings.TrimSpace(r.FormValue("seed")); v != "" {
		seed, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			s.fail(w, r, errInvalid("bad_number", "field", "seed"))
			return
		}
		in.Seed = &seed
	}
	rd, err := s.Assess.CreateRound(r.Context(), actorOf(r), in)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/assess/rounds/"+rd.Code+"/teams?msg=saved", http.StatusSeeOther)
}

func (s *Server) apiScores(w http.ResponseWriter, r *http.Request) {
	sc, err := s.Assess.Scores(r.Context(), actorOf(r), r.PathValue("code"), r.URL.Query().Get("region"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sc.Doc())
}

func (s *Server) apiLedger(w http.ResponseWriter, r *http.Request) {
	lg, err := s.Assess.Ledger(r.Context(), actorOf(r), r.PathValue("code"), r.URL.Query().Get("region"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, lg.Doc(r.PathValue("code")))
}

func entryFilter(r *http.Request) assess.EntryFilter {
	q := r.URL.Query()
	return assess.EntryFilter{Region: q.Get("region"), Unit: q.Get("unit"), Standard: q.Get("standard")}
}

func (s *Server) apiEntries(w http.ResponseWriter, r *http.Request) {
	out, err := s.Assess.Entries(r.Context(), actorOf(r), r.PathValue("code"), entryFilter(r))
	respond(s, w, r, nonNil(out), err)
}

// standingJSON is a line of a ranking, printed as the documents print.
type standingJSON struct {
	Code       string           `json:"code"`
	Name       string           `json:"name"`
	Score      *assess.JSONRate `json:"score,omitempty"`
	Max        *assess.JSONRate `json:"max,omitempty"`
	Rate       assess.JSONRate  `json:"rate"`
	Lost       assess.JSONRate  `json:"lost"`
	Items      int              `json:"items,omitempty"`
	Sites      int              `json:"sites"`
	Vetoed     bool             `json:"vetoed,omitempty"`
	Rank       int              `json:"rank"`
	Card       string           `json:"card"`
	PrevRank   int              `json:"previous_rank,omitempty"`
	RateChange assess.JSONRate  `json:"rate_change"`
	LostChange assess.JSONRate  `json:"lost_change"`
}

// rankingsJSON is Rankings in the API.
type rankingsJSON struct {
	Round     assess.Round   `json:"round"`
	Previous  *assess.Round  `json:"previous,omitempty"`
	Districts []standingJSON `json:"districts"`
	Streets   []standingJSON `json:"streets"`
	Units     []standingJSON `json:"units"`
}

func standingsJSON(xs []assess.Standing, name func(string) string) []standingJSON {
	out := make([]standingJSON, len(xs))
	for i, x := range xs {
		out[i] = standingJSON{Code: x.Code, Name: name(x.Code), Rate: assess.JSONRate{Rat: x.Rate}, Lost: assess.JSONRate{Rat: x.Lost},
			Items: x.Items, Sites: x.Sites, Vetoed: x.Vetoed, Rank: x.Rank, Card: string(x.Card), PrevRank: x.PrevRank,
			RateChange: assess.JSONRate{Rat: x.RateChange}, LostChange: assess.JSONRate{Rat: x.LostChange}}
		if x.Score != nil {
			out[i].Score, out[i].Max = &assess.JSONRate{Rat: x.Score}, &assess.JSONRate{Rat: x.Max}
		}
	}
	return out
}

func (s *Server) apiRankings(w http.ResponseWriter, r *http.Request) {
	rk, err := s.Assess.Rankings(r.Context(), actorOf(r), r.PathValue("code"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	names, err := s.assessNames(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rankingsJSON{Round: rk.Round, Previous: rk.Previous,
		Districts: standingsJSON(rk.Districts, names.Region), Streets: standingsJSON(rk.Streets, names.Region), Units: standingsJSON(rk.Units, names.Unit)})
}

// escalationJSON confirms a step of the ladder.
type escalationJSON struct {
	Kind    string `json:"kind"` // district or unit
	Subject string `json:"subject"`
	Note    string `json:"note"`
}

func (s *Server) apiConfirmEscalation(w http.ResponseWriter, r *http.Request) {
	var in escalationJSON
	if err := decodeJSON(r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	e, err := s.Assess.ConfirmEscalation(r.Context(), actorOf(r), r.PathValue("code"), in.Kind, in.Subject, in.Note)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, e)
}

func (s *Server) apiEscalations(w http.ResponseWriter, r *http.Request) {
	out, err := s.Assess.Escalations(r.Context(), actorOf(r), r.URL.Query().Get("kind"), r.URL.Query().Get("subject"))
	respond(s, w, r, nonNil(out), err)
}

func (s *Server) apiImportObservations(w http.ResponseWriter, r *http.Request) {
	body := http.MaxBytesReader(w, r.Body, maxImportBytes)
	rep, ps, err := s.Assess.ImportObservations(r.Context(), actorOf(r), r.PathValue("code"), body)
	if err != nil {
		s.importFailed(w, r, ps, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

func (s *Server) apiImportResults(w http.ResponseWriter, r *http.Request) {
	body := http.MaxBytesReader(w, r.Body, maxImportBytes)
	rep, ps, err := s.Assess.ImportResults(r.Context(), actorOf(r), r.PathValue("code"), body)
	if err != nil {
		s.importFailed(w, r, ps, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

// teamJSON sets a team's members (usernames) and, when given, its sites.
type teamJSON struct {
	Members []string `json:"members"`
	Sites   []string `json:"sites,omitempty"`
}

func (s *Server) apiSaveTeam(w http.ResponseWriter, r *http.Request) {
	var in teamJSON
	if err := decodeJSON(r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	code, name := r.PathValue("code"), r.PathValue("team")
	t, err := s.Assess.SaveTeam(r.Context(), actorOf(r), code, name, in.Members)
	if err == nil && len(in.Sites) > 0 {
		if _, err = s.Assess.AssignSites(r.Context(), actorOf(r), code, name, in.Sites); err == nil {
			t.Sites = len(in.Sites)
		}
	}
	respond(s, w, r, t, err)
}

func (s *Server) apiChecklist(w http.ResponseWriter, r *http.Request) {
	cl, err := s.Assess.Checklist(r.Context(), actorOf(r), r.PathValue("code"), r.PathValue("site"))
	respond(s, w, r, cl, err)
}

// observationJSON is one observation from a phone or another system.
type observationJSON struct {
	Site     string `json:"site"`
	Standard string `json:"standard"`
	Result   string `json:"result"` // pass, fail, na
	Problems int    `json:"problems"`
	Note     string `json:"note"`
	Key      string `json:"key"` // the client's key: a resend with the same key changes nothing
}

// submission reads an observation from JSON or from a (multipart) form
// with photos; the key comes from the body or the Idempotency-Key header.
func (s *Server) submission(r *http.Request, code, site string, up *photo.Uploads) (assess.Submission, error) {
	sub := assess.Submission{Round: code, Site: site}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		sub.Key = idempotencyKey(r)
		var in observationJSON
		if err := decodeJSON(r, &in); err != nil {
			return sub, err
		}
		if sub.Site == "" {
			sub.Site = in.Site
		}
		sub.Standard, sub.Result, sub.Problems, sub.Note = in.Standard, in.Result, in.Problems, in.Note
		if in.Key != "" {
			sub.Key = in.Key
		}
		return sub, nil
	}
	// The form first, within the upload limit; then the key, which may
	// be one of its fields.
	if err := s.parseForm(r); err != nil {
		return sub, err
	}
	sub.Key = idempotencyKey(r)
	if sub.Site == "" {
		sub.Site = r.FormValue("site")
	}
	sub.Standard, sub.Result, sub.Note = r.FormValue("standard"), r.FormValue("result"), r.FormValue("note")
	if k := r.FormValue("key"); k != "" {
		sub.Key = k
	}
	if v := strings.TrimSpace(r.FormValue("problems")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return sub, apperr.New(apperr.Invalid, "assess.bad_problems", "value", v)
		}
		sub.Problems = n
	}
	var err error
	sub.Photos, err = s.savePhotos(r, up)
	return sub, err
}

func (s *Server) apiSubmit(w http.ResponseWriter, r *http.Request) {
	s.submit(w, r, r.PathValue("code"), "")
}

func (s *Server) submit(w http.ResponseWriter, r *http.Request, code, site string) {
	up := s.Flow.Photos.NewUploads()
	defer up.Close()
	if isMultipart(r) {
		defer s.Flow.PhotoJobs.IntakeStarted()()
	}
	sub, err := s.submission(r, code, site, up)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out, err := s.Assess.Submit(r.Context(), actorOf(r), sub)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !out.Replayed && !out.NoCategory {
		up.Keep() // stored with the observation's case; otherwise removed
	}
	if wantsHTML(r) {
		http.Redirect(w, r, "/inspect/"+code+"/"+site+"?msg=saved#item-"+sub.Standard, http.StatusSeeOther)
		return
	}
	status := http.StatusCreated
	if out.Replayed {
		status = http.StatusOK
	}
	writeJSON(w, status, out)
}

// ---- round pages ----

func (s *Server) pageRound(w http.ResponseWriter, r *http.Request) {
	ctx, a, code, region := r.Context(), actorOf(r), r.PathValue("code"), r.URL.Query().Get("region")
	var l loader
	rd := load(&l, func() (assess.Round, error) { return s.Assess.Round(ctx, a, code) })
	names := load(&l, func() (assessNames, error) { return s.assessNames(ctx) })
	if region == "" && a.Scope == org.ScopeRegion {
		region = names.byID[a.RegionID] // a district's reader starts at its district
	}
	data := map[string]any{"Round": rd, "Names": names, "Region": region}
	data["Teams"] = load(&l, func() ([]assess.Team, error) { return s.Assess.Teams(ctx, a, code) })
	if l.err == nil && rd.Scored() {
		data["Values"] = load(&l, func() (map[string]map[string]string, error) { return s.Assess.Values(ctx, a, code) })
		data["Evidence"] = load(&l, func() ([]assess.EvidenceFile, error) { return s.Assess.EvidenceList(ctx, a, code) })
		data["Districts"] = names.districts()
		v := load(&l, func() (*assess.RoundView, error) { return s.Assess.Open(ctx, a, code) })
		if v != nil {
			data["Scores"] = load(&l, func() (assess.RoundScores, error) { return v.Scores(region) })
			data["Ledger"] = load(&l, func() (assess.Ledger, error) { return v.Ledger(region) })
			data["Scopes"] = v.Scopes()
		}
		ed := load(&l, func() (assess.Edition, error) {
			_, ed, err := s.Assess.Edition(ctx, a, rd.Edition, rd.EditionVersion)
			return ed, err
		})
		data["Tree"] = newTreeJSON(assess.EditionInfo{Code: rd.Edition, Version: rd.EditionVersion}, ed)
		if a.Scope == org.ScopeCity {
			rk := load(&l, func() (assess.Rankings, error) { return s.Assess.Rankings(ctx, a, code) })
			data["Rankings"] = rk
			if rk.Previous != nil {
				data["Previous"] = load(&l, func() (assess.RoundScores, error) { return s.Assess.Scores(ctx, a, rk.Previous.Code, region) })
			}
			if rd.State == assess.RoundClosed {
				data["Proposals"] = load(&l, func() ([]assess.Proposal, error) { return s.Assess.Proposals(ctx, a, code) })
			}
		}
	}
	s.page(w, r, &l, "assess_round", data)
}

func (s *Server) pageEntries(w http.ResponseWriter, r *http.Request) {
	code, f := r.PathValue("code"), entryFilter(r)
	var l loader
	rows := load(&l, func() ([]assess.EntryRow, error) { return s.Assess.Entries(r.Context(), actorOf(r), code, f) })
	names := load(&l, func() (assessNames, error) { return s.assessNames(r.Context()) })
	s.page(w, r, &l, "assess_ledger", map[string]any{"Code": code, "Rows": rows, "Filter": f, "Names": names,
		"Total": assess.JSONPoints{Rat: sumLost(rows)}, "Query": r.URL.RawQuery})
}

func (s *Server) pageCheck(w http.ResponseWriter, r *http.Request) {
	var l loader
	diffs := load(&l, func() ([]assess.Difference, error) {
		return s.Assess.CheckRound(r.Context(), actorOf(r), r.PathValue("code"))
	})
	s.page(w, r, &l, "assess_check", map[string]any{"Code": r.PathValue("code"), "Diffs": diffs})
}

func (s *Server) pageTeams(w http.ResponseWriter, r *http.Request) {
	ctx, a, code := r.Context(), actorOf(r), r.PathValue("code")
	var l loader
	rd := load(&l, func() (assess.Round, error) { return s.Assess.Round(ctx, a, code) })
	teams := load(&l, func() ([]assess.Team, error) { return s.Assess.Teams(ctx, a, code) })
	sites := load(&l, func() ([]assess.RoundSite, error) { return s.Assess.RoundSites(ctx, a, code) })
	names := load(&l, func() (assessNames, error) { return s.assessNames(ctx) })
	s.page(w, r, &l, "assess_teams", map[string]any{"Round": rd, "Teams": teams, "Sites": sites, "Names": names})
}

// postRoundAction runs a round's console actions: close, raise, team,
// assign, auto-assign, observations and results imports, escalate.
func (s *Server) postRoundAction(w http.ResponseWriter, r *http.Request) {
	a, code, action := actorOf(r), r.PathValue("code"), r.PathValue("action")
	back := "/assess/rounds/" + code
	var err error
	switch action {
	case "close":
		_, err = s.Assess.CloseRound(r.Context(), a, code)
	case "raise":
		_, err = s.Assess.RaiseCases(r.Context(), a, code)
	case "team", "assign", "auto-assign":
		back += "/teams"
		if err = s.parseForm(r); err != nil {
			break
		}
		switch action {
		case "team":
			_, err = s.Assess.SaveTeam(r.Context(), a, code, r.FormValue("name"), strings.FieldsFunc(r.FormValue("members"), isListSep))
		case "assign":
			_, err = s.Assess.AssignSites(r.Context(), a, code, r.FormValue("team"), strings.FieldsFunc(r.FormValue("sites"), isListSep))
		default:
			_, err = s.Assess.AssignByDistrict(r.Context(), a, code)
		}
	case "observations", "results":
		body, _, ferr := s.uploaded(r, assess.FormatCSV)
		if ferr != nil {
			err = ferr
			break
		}
		var ps []assess.Problem
		if action == "observations" {
			_, ps, err = s.Assess.ImportObservations(r.Context(), a, code, body)
		} else {
			_, ps, err = s.Assess.ImportResults(r.Context(), a, code, body)
		}
		if err != nil {
			s.pageImportProblems(w, r, back, ps, err)
			return
		}
	case "escalate":
		if err = s.parseForm(r); err == nil {
			_, err = s.Assess.ConfirmEscalation(r.Context(), a, code, r.FormValue("kind"), r.FormValue("subject"), r.FormValue("note"))
		}
	default:
		err = apperr.New(apperr.NotFound, "not_found")
	}
	s.formDone(w, r, back, err)
}

func isListSep(r rune) bool {
	return r == ',' || r == '，' || r == '、' || r == ';' || r == ' ' || r == '\n' || r == '\r' || r == '\t'
}

// ---- settings ----

func (s *Server) pageAssessSettings(w http.ResponseWriter, r *http.Request) {
	var l loader
	st := load(&l, func() (assess.Settings, error) { return s.Assess.Settings(r.Context()) })
	m := load(&l, func() (map[string]int64, error) { return s.Assess.CategoryMap(r.Context(), actorOf(r)) })
	cats := load(&l, func() ([]workflow.Category, error) { return s.Flow.Categories(r.Context()) })
	codes := map[int64]string{}
	for _, c := range cats {
		codes[c.ID] = c.Code
	}
	var lines []string
	for std, id := range m {
		lines = append(lines, std+","+codes[id])
	}
	sortStrings(lines)
	s.page(w, r, &l, "assess_settings", map[string]any{"Settings": st, "Categories": cats, "Map": strings.Join(lines, "\n")})
}

func (s *Server) postAssessSettings(w http.ResponseWriter, r *http.Request) {
	if err := s.parseForm(r); err != nil {
		s.fail(w, r, err)
		return
	}
	st := assess.Settings{CaseUnit: r.FormValue("case_unit"), SplitSite: r.FormValue("split_site"), SplitLead: r.FormValue("split_lead"),
		GreenRate: r.FormValue("green_rate"), YellowRate: r.FormValue("yellow_rate"), YellowLost: r.FormValue("yellow_lost"), RedLost: r.FormValue("red_lost")}
	var err error
	if st.DefaultCategory, err = formInt(r, "default_category"); err != nil {
		s.fail(w, r, err)
		return
	}
	days, err := formInt(r, "recheck_days")
	if err != nil || days > 60 {
		s.fail(w, r, errInvalid("assess.bad_setting", "field", "recheck_days"))
		return
	}
	st.RecheckDays = int(days)
	cats, err := s.Flow.Categories(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ids := map[string]int64{}
	for _, c := range cats {
		ids[c.Code] = c.ID
	}
	m := map[string]int64{}
	old, err := s.Assess.CategoryMap(r.Context(), actorOf(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for std := range old {
		m[std] = 0
	}
	for _, line := range strings.Split(r.FormValue("map"), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		std, cat, ok := strings.Cut(strings.ReplaceAll(line, "，", ","), ",")
		std, cat = strings.TrimSpace(std), strings.TrimSpace(cat)
		if !ok || ids[cat] == 0 {
			s.fail(w, r, apperr.New(apperr.Invalid, "assess.bad_map_line", "line", line))
			return
		}
		m[std] = ids[cat]
	}
	if err := s.Assess.SaveSettings(r.Context(), actorOf(r), st); err != nil {
		s.fail(w, r, err)
		return
	}
	s.formDone(w, r, "/assess/settings", s.Assess.MapCategories(r.Context(), actorOf(r), m))
}

// ---- a unit's view ----

func (s *Server) pageMine(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	var l loader
	rounds := load(&l, func() ([]assess.Round, error) { return s.Assess.Rounds(ctx, org.System) })
	names := load(&l, func() (assessNames, error) { return s.assessNames(ctx) })
	var closed []assess.Round
	for _, rd := range rounds {
		if rd.Scored() && rd.State == assess.RoundClosed {
			closed = append(closed, rd)
		}
	}
	code := r.URL.Query().Get("round")
	if code == "" && len(closed) > 0 {
		code = closed[0].Code
	}
	var rows []assess.EntryRow
	if code != "" {
		rows = load(&l, func() ([]assess.EntryRow, error) { return s.Assess.Entries(ctx, a, code, assess.EntryFilter{}) })
	}
	// Evidence: the document standards of the rounds still open, and what
	// the unit uploaded to them.
	type option struct{ Value, Label string }
	var options []option
	var evidence []assess.EvidenceFile
	for _, rd := range rounds {
		if !rd.Scored() || rd.State == assess.RoundClosed {
			continue
		}
		ed := load(&l, func() (assess.Edition, error) {
			_, ed, err := s.Assess.Edition(ctx, org.System, rd.Edition, rd.EditionVersion)
			return ed, err
		})
		for _, st := range ed.Standards() {
			if st.Rule == assess.RuleGraded {
				options = append(options, option{rd.Code + "|" + st.Code, rd.Code + " " + rd.Name + " · " + st.Code + " " + st.Name})
			}
		}
		evidence = append(evidence, load(&l, func() ([]assess.EvidenceFile, error) { return s.Assess.EvidenceList(ctx, a, rd.Code) })...)
	}
	s.page(w, r, &l, "assess_mine", map[string]any{"Rounds": closed, "Code": code, "Rows": rows, "Names": names,
		"Total": assess.JSONPoints{Rat: sumLost(rows)}, "Uploads": options, "Evidence": evidence, "Districts": names.districts()})
}

// ---- the phone view ----

func (s *Server) pageInspect(w http.ResponseWriter, r *http.Request) {
	var l loader
	list := load(&l, func() ([]assess.Assignment, error) { return s.Assess.MyAssignments(r.Context(), actorOf(r)) })
	s.page(w, r, &l, "inspect", map[string]any{"Assignments": list})
}

func (s *Server) pageInspectSite(w http.ResponseWriter, r *http.Request) {
	cl, err := s.Assess.Checklist(r.Context(), actorOf(r), r.PathValue("code"), r.PathValue("site"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// Each item's form carries a fresh key, so that a form posted twice
	// (a double tap, a resend) stores one observation.
	keys := map[string]string{}
	for _, it := range cl.Items {
		keys[it.Code] = randomKey()
	}
	s.render(w, r, "inspect_site", map[string]any{"List": cl, "Keys": keys})
}

func randomKey() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (s *Server) postInspect(w http.ResponseWriter, r *http.Request) {
	s.submit(w, r, r.PathValue("code"), r.PathValue("site"))
}

// ---- document review and survey values ----

func (s *Server) apiValues(w http.ResponseWriter, r *http.Request) {
	out, err := s.Assess.Values(r.Context(), actorOf(r), r.PathValue("code"))
	respond(s, w, r, out, err)
}

func (s *Server) apiSetValues(w http.ResponseWriter, r *http.Request) {
	var in []assess.ValueIn
	if err := decodeJSON(r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	ps, err := s.Assess.SetValues(r.Context(), actorOf(r), r.PathValue("code"), in)
	if err != nil {
		s.importFailed(w, r, ps, err)
		return
	}
	s.apiValues(w, r)
}

// addEvidence stores the multipart request's file with its fields.
func (s *Server) addEvidence(r *http.Request) (assess.EvidenceFile, error) {
	if err := s.parseForm(r); err != nil {
		return assess.EvidenceFile{}, err
	}
	if r.MultipartForm == nil || len(r.MultipartForm.File["file"]) == 0 {
		return assess.EvidenceFile{}, apperr.New(apperr.Invalid, "assess.no_file")
	}
	fh := r.MultipartForm.File["file"][0]
	f, err := fh.Open()
	if err != nil {
		return assess.EvidenceFile{}, err
	}
	defer f.Close()
	code := r.PathValue("code")
	standard := r.FormValue("standard")
	if rs, std, ok := strings.Cut(standard, "|"); ok { // the unit's form names the round with the standard
		code, standard = rs, std
	}
	return s.Assess.AddEvidence(r.Context(), actorOf(r), assess.NewEvidence{Round: code, Standard: standard, Region: r.FormValue("region"), Name: fh.Filename, Note: r.FormValue("note")}, f)
}

func (s *Server) apiAddEvidence(w http.ResponseWriter, r *http.Request) {
	ev, err := s.addEvidence(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, ev)
}

func (s *Server) postEvidence(w http.ResponseWriter, r *http.Request) {
	_, err := s.addEvidence(r)
	back := "/assess/rounds/" + r.PathValue("code")
	if actorOf(r).Role == org.RoleHandler {
		back = "/assess/mine"
	}
	s.formDone(w, r, back, err)
}

func (s *Server) downloadEvidence(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ev, rc, err := s.Assess.OpenEvidence(r.Context(), actorOf(r), r.PathValue("code"), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer rc.Close()
	w.Header().Set("Content-Type", ev.Mime)
	w.Header().Set("Content-Length", strconv.FormatInt(ev.Size, 10))
	w.Header().Set("Content-Disposition", `attachment; filename="evidence`+strconv.FormatInt(ev.ID, 10)+`"; filename*=UTF-8''`+urlPathEscape(ev.Name))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "private, no-store")
	_, _ = io.Copy(w, rc)
}

// postValues stores the grading form: fields v|STANDARD|REGION (REGION
// empty for the city); empty fields are left as they are.
func (s *Server) postValues(w http.ResponseWriter, r *http.Request) {
	if err := s.parseForm(r); err != nil {
		s.fail(w, r, err)
		return
	}
	var values []assess.ValueIn
	for k, vs := range r.PostForm {
		parts := strings.Split(k, "|")
		if len(parts) != 3 || parts[0] != "v" || len(vs) == 0 || strings.TrimSpace(vs[0]) == "" {
			continue
		}
		values = append(values, assess.ValueIn{Standard: parts[1], Region: parts[2], Value: strings.TrimSpace(vs[0])})
	}
	code := r.PathValue("code")
	ps, err := s.Assess.SetValues(r.Context(), actorOf(r), code, values)
	if err != nil {
		s.pageImportProblems(w, r, "/assess/rounds/"+code, ps, err)
		return
	}
	http.Redirect(w, r, "/assess/rounds/"+code+"?msg=saved#values", http.StatusSeeOther)
}

// ---- a site's page ----

func (s *Server) pageSite(w http.ResponseWriter, r *http.Request) {
	var l loader
	d := load(&l, func() (assess.SiteDetail, error) { return s.Assess.Site(r.Context(), actorOf(r), r.PathValue("code")) })
	names := load(&l, func() (assessNames, error) { return s.assessNames(r.Context()) })
	s.page(w, r, &l, "assess_site", map[string]any{"D": d, "Names": names})
}

func (s *Server) postSiteActive(w http.ResponseWriter, r *http.Request) {
	code := r.PathValue("code")
	err := s.parseForm(r)
	if err == nil {
		err = s.Assess.SetSiteActive(r.Context(), actorOf(r), code, r.FormValue("active") == "1")
	}
	s.formDone(w, r, "/assess/sites/"+code, err)
}

func (s *Server) postSitePhotos(w http.ResponseWriter, r *http.Request) {
	code := r.PathValue("code")
	up := s.Flow.Photos.NewUploads()
	defer up.Close()
	err := s.parseForm(r)
	var files []photo.File
	if err == nil {
		files, err = s.savePhotos(r, up)
	}
	if err == nil && len(files) == 0 {
		err = apperr.New(apperr.Invalid, "assess.no_file")
	}
	if err == nil {
		if err = s.Assess.AddSitePhotos(r.Context(), actorOf(r), code, files); err == nil {
			up.Keep()
		}
	}
	s.formDone(w, r, "/assess/sites/"+code, err)
}

func (s *Server) sitePhoto(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := s.Assess.SitePhotoPath(r.Context(), actorOf(r), r.PathValue("code"), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rc, _, err := s.Flow.Photos.Open(r.Context(), p.Path())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer rc.Close()
	w.Header().Set("Content-Type", p.Mime)
	w.Header().Set("Cache-Control", "private, max-age=3600")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = io.Copy(w, rc)
}

// page renders a page whose reads went through l, or l's error.
func (s *Server) page(w http.ResponseWriter, r *http.Request, l *loader, name string, data map[string]any) {
	if l.err != nil {
		s.fail(w, r, l.err)
		return
	}
	s.render(w, r, name, data)
}
