package web

import (
	"bytes"
	"io"
	"net/http"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"chuangwen/internal/apperr"
	"chuangwen/internal/org"
	"chuangwen/internal/report"
)

// The campaign's documents: the quarterly bulletin drafted on demand,
// published frozen, verified, exported, and shown to the public when the
// office chooses.

func (s *Server) reportRoutes() []route {
	return []route{
		{method: "GET", path: "/api/v1/reports/quarterly", api: true, roles: office, summary: "Draft a quarter's bulletin (the document of report quarterly --format json)", query: []string{"quarter"}, resp: "Bulletin", h: s.apiQuarterly},
		{method: "GET", path: "/api/v1/reports/bulletins", api: true, roles: office, summary: "Published bulletins, newest first", resp: "Bulletins", h: actorListJSON(s, s.Report.Bulletins)},
		{method: "POST", path: "/api/v1/reports/bulletins", api: true, roles: admin, summary: "Publish a quarter's bulletin: frozen, its hash on the audit chain", body: "PublishIn", resp: "Published", status: http.StatusCreated, h: s.apiPublishBulletin},
		{method: "GET", path: "/api/v1/reports/bulletins/{code}", api: true, roles: office, summary: "A published bulletin", resp: "Published", h: codeJSON(s, s.Report.Bulletin)},
		{method: "GET", path: "/api/v1/reports/bulletins/{code}/verify", api: true, roles: office, summary: "Recompute a published bulletin; every difference (none: it recomputes)", resp: "BulletinDifferences", h: codeListJSON(s, s.Report.Verify)},
		{method: "GET", path: "/api/v1/reports/monthly", api: true, roles: office, summary: "The month's scheduling report (the document of report monthly --format json)", query: []string{"month"}, resp: "MonthReport", h: s.apiMonthly},
		{method: "GET", path: "/reports/monthly", roles: office, h: s.pageMonthly},
		{method: "GET", path: "/reports/monthly.xlsx", roles: office, h: s.monthlyFile},
		{method: "GET", path: "/reports/monthly.pdf", roles: office, h: s.monthlyFile},
		{method: "GET", path: "/reports", roles: office, h: s.pageReports},
		{method: "GET", path: "/reports/quarterly", roles: office, h: s.pageQuarterly},
		{method: "GET", path: "/reports/quarterly.xlsx", roles: office, h: s.quarterlyFile},
		{method: "GET", path: "/reports/quarterly.pdf", roles: office, h: s.quarterlyFile},
		{method: "POST", path: "/reports/publish", roles: admin, h: s.postPublishBulletin},
		{method: "GET", path: "/reports/bulletins/{code}", roles: office, h: s.pageBulletin},
		{method: "GET", path: "/reports/bulletins/{code}/xlsx", roles: office, h: s.bulletinFile},
		{method: "GET", path: "/reports/bulletins/{code}/pdf", roles: office, h: s.bulletinFile},
		{method: "POST", path: "/reports/bulletins/{code}/public", roles: admin, h: s.postBulletinPublic},
		{method: "GET", path: "/bulletins/{code}", public: true, h: s.pagePublicBulletin},
	}
}

func (s *Server) draft(r *http.Request) (report.Bulletin, error) {
	q := r.URL.Query().Get("quarter")
	if q == "" {
		q = currentQuarter(s.Report.Now, s.Location)
	}
	return s.Report.Draft(r.Context(), actorOf(r), q)
}

func (s *Server) apiQuarterly(w http.ResponseWriter, r *http.Request) {
	b, err := s.draft(r)
	respond(s, w, r, b.Doc, err)
}

// publishJSON names the quarter to publish.
type publishJSON struct {
	Quarter string `json:"quarter"`
}

func (s *Server) apiPublishBulletin(w http.ResponseWriter, r *http.Request) {
	var in publishJSON
	if err := decodeJSON(r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := s.Report.Publish(r.Context(), actorOf(r), in.Quarter)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, p)
}

func (s *Server) pageReports(w http.ResponseWriter, r *http.Request) {
	var l loader
	list := load(&l, func() ([]report.Published, error) { return s.Report.Bulletins(r.Context(), actorOf(r)) })
	s.page(w, r, &l, "reports", map[string]any{"Bulletins": list, "Quarter": currentQuarter(s.Report.Now, s.Location)})
}

func (s *Server) pageQuarterly(w http.ResponseWriter, r *http.Request) {
	var l loader
	b := load(&l, func() (report.Bulletin, error) { return s.draft(r) })
	s.page(w, r, &l, "report_bulletin", map[string]any{"Doc": b.Doc, "Draft": true})
}

func (s *Server) quarterlyFile(w http.ResponseWriter, r *http.Request) {
	b, err := s.draft(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.sendDocument(w, r, "bulletin-"+b.Doc.Quarter+"-draft"+path.Ext(r.URL.Path), b.Doc.WriteXLSX, b.Doc.WritePDF)
}

// sendDocument sends a document as the download name's extension says,
// .xlsx or .pdf (signed with the office's name), in the reader's
// language.
func (s *Server) sendDocument(w http.ResponseWriter, r *http.Request, name string, xlsx func(io.Writer, func(string) string) error,
	pdf func(io.Writer, func(string) string, string) error) {
	lang := s.lang(r)
	tr := func(k string) string { return s.Msg.T(lang, k) }
	var buf bytes.Buffer
	var err error
	ct := "application/pdf"
	if strings.HasSuffix(name, ".xlsx") {
		ct = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
		err = xlsx(&buf, tr)
	} else {
		var st report.NoticeSettings
		if st, err = s.Report.NoticeSettings(r.Context()); err == nil {
			err = pdf(&buf, tr, st.Issuer)
		}
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sendFile(w, name, ct, buf.Bytes())
}

func (s *Server) postPublishBulletin(w http.ResponseWriter, r *http.Request) {
	if err := s.parseForm(r); err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := s.Report.Publish(r.Context(), actorOf(r), r.FormValue("quarter"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/reports/bulletins/"+p.Code+"?msg=saved", http.StatusSeeOther)
}

func (s *Server) pageBulletin(w http.ResponseWriter, r *http.Request) {
	ctx, a, code := r.Context(), actorOf(r), r.PathValue("code")
	var l loader
	p := load(&l, func() (report.Published, error) { return s.Report.Bulletin(ctx, a, code) })
	data := map[string]any{"Doc": p.Doc, "Published": p}
	if r.URL.Query().Get("verify") == "1" {
		data["Verified"] = true
		data["Diffs"] = load(&l, func() ([]report.Difference, error) { return s.Report.Verify(ctx, a, code) })
	}
	s.page(w, r, &l, "report_bulletin", data)
}

func (s *Server) bulletinFile(w http.ResponseWriter, r *http.Request) {
	p, err := s.Report.Bulletin(r.Context(), actorOf(r), r.PathValue("code"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.sendDocument(w, r, "bulletin-"+p.Code+"."+path.Base(r.URL.Path), p.Doc.WriteXLSX, p.Doc.WritePDF)
}

func (s *Server) postBulletinPublic(w http.ResponseWriter, r *http.Request) {
	code := r.PathValue("code")
	err := s.parseForm(r)
	if err == nil {
		err = s.Report.SetPublic(r.Context(), actorOf(r), code, r.FormValue("public") == "1")
	}
	s.formDone(w, r, "/reports/bulletins/"+code, err)
}

// pagePublicBulletin shows a bulletin the office made public: districts,
// units, rounds and the lists; nothing about a case or a person is in it.
func (s *Server) pagePublicBulletin(w http.ResponseWriter, r *http.Request) {
	if !s.publicGuard(w, r, false) {
		return
	}
	p, err := s.Report.Bulletin(r.Context(), org.Actor{}, r.PathValue("code"))
	if err != nil {
		if apperr.Is(err, apperr.Forbidden) {
			err = apperr.New(apperr.NotFound, "report.no_bulletin", "code", r.PathValue("code"))
		}
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "public_bulletin", map[string]any{"Doc": p.Doc, "Published": p})
}

// currentQuarter is the quarter of now in the city's zone, 2026Q4.
func currentQuarter(now func() time.Time, loc *time.Location) string {
	t := time.Now()
	if now != nil {
		t = now()
	}
	if loc != nil {
		t = t.In(loc)
	}
	return strconv.Itoa(t.Year()) + "Q" + strconv.Itoa((int(t.Month())-1)/3+1)
}

func (s *Server) monthly(r *http.Request) (report.MonthDoc, error) {
	m := r.URL.Query().Get("month")
	if m == "" {
		m = s.Report.Clock().In(s.Location).Format("2006-01")
	}
	return s.Report.Monthly(r.Context(), actorOf(r), m)
}

func (s *Server) apiMonthly(w http.ResponseWriter, r *http.Request) {
	d, err := s.monthly(r)
	respond(s, w, r, d, err)
}

func (s *Server) pageMonthly(w http.ResponseWriter, r *http.Request) {
	var l loader
	d := load(&l, func() (report.MonthDoc, error) { return s.monthly(r) })
	most := 1
	for _, t := range d.Trend {
		most = max(most, t.Reported, t.Closed)
	}
	s.page(w, r, &l, "report_monthly", map[string]any{"Doc": d, "Most": most, "Ranking": rankingBars(d.Districts)})
}

func (s *Server) monthlyFile(w http.ResponseWriter, r *http.Request) {
	d, err := s.monthly(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.sendDocument(w, r, "monthly-"+d.Month+path.Ext(r.URL.Path), d.WriteXLSX, d.WritePDF)
}

// rankBar is a bar of the monthly page's ranking: a district's on-time
// closure rate, 300 px for 100%.
type rankBar struct {
	Name, Text string
	Width      int
	Low        bool // the lowest third
}

// rankingBars ranks the districts by on-time closure rate, best first;
// those without a rate are left out.
func rankingBars(ds []report.ProgressDoc) []rankBar {
	type kv struct {
		name string
		rate float64
	}
	var xs []kv
	for _, d := range ds {
		if d.OnTimeClosureRate.Rat != nil {
			f, _ := d.OnTimeClosureRate.Rat.Float64()
			xs = append(xs, kv{d.Name, f})
		}
	}
	sort.SliceStable(xs, func(i, j int) bool { return xs[i].rate > xs[j].rate })
	out := make([]rankBar, len(xs))
	for i, x := range xs {
		out[i] = rankBar{Name: x.name, Text: strconv.FormatFloat(x.rate*100, 'f', 1, 64) + "%", Width: int(x.rate*300 + 0.5), Low: len(xs) >= 3 && i >= len(xs)-len(xs)/3}
	}
	return out
}
