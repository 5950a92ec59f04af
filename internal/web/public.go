package web

import (
	"encoding/json"
	"errors"
	"html/template"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"chuangwen/internal/apperr"
	"chuangwen/internal/geo"
	"chuangwen/internal/intake"
	"chuangwen/internal/org"
	"chuangwen/internal/photo"
	"chuangwen/internal/ratelimit"
	"chuangwen/internal/workflow"
)

// publicRoutes lists the routes of public reporting (随手拍): no login, rate-limited per client.
func (s *Server) publicRoutes() []route {
	return []route{
		{method: "GET", path: "/api/v1/public/config", api: true, public: true, summary: "Public page settings: city, categories with hints, limits, map", resp: "PublicConfig", h: s.apiPublicConfig},
		{method: "GET", path: "/api/v1/public/grid", api: true, public: true, summary: "Grid cells in a box for the offline map (GeoJSON, at most 3000)", query: []string{"bbox"}, resp: "GeoJSON", h: s.apiPublicGrid},
		{method: "GET", path: "/api/v1/public/cases", api: true, public: true, summary: "Open cases in a box, as map markers", query: []string{"bbox"}, resp: "object", h: s.apiPublicCases},
		{method: "GET", path: "/api/v1/public/nearby", api: true, public: true, summary: "Open cases of a category near a point (likely the same problem)", query: []string{"category_id", "lat", "lon", "coord"}, resp: "object", h: s.apiPublicNearby},
		{method: "POST", path: "/api/v1/public/reports", api: true, public: true, status: 201, summary: "Report a problem (multipart: category_id, description, lat, lon, coord, name, phone, device_id, photos); Idempotency-Key header makes retries safe (200 with the first answer)", body: "PublicReport", resp: "Receipt", h: s.apiPublicReport},
		{method: "POST", path: "/api/v1/public/follow", api: true, public: true, status: 201, summary: "Follow an existing open case instead of reporting it again", body: "Follow", resp: "Receipt", h: s.apiPublicFollow},
		{method: "GET", path: "/report", public: true, h: s.pageReport},
	}
}

// The public side (随手拍): the phone reporting page, its JSON endpoints
// and the status page reachable by receipt code. No login; rate limits
// per client address; reporter data never leaves the office.

// TileConfig is an optional street-map tile service for the public map
// (off by default: the map draws the city's own grid cells).
type TileConfig struct {
	URL         string `json:"url"`
	Subdomains  string `json:"subdomains,omitempty"`
	Datum       string `json:"datum"` // wgs84 (also CGCS2000 services such as Tianditu) or gcj02
	Attribution string `json:"attribution,omitempty"`
	MaxZoom     int    `json:"max_zoom,omitempty"`
}

type publicCategory struct {
	ID    int64  `json:"id"`
	Code  string `json:"code"`
	Name  string `json:"name"`
	Group string `json:"group"`
	Hint  string `json:"hint,omitempty"`
}

type latLon struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

type publicDistrict struct {
	Name   string     `json:"name"`
	Center latLon     `json:"center"`
	Bounds [4]float64 `json:"bounds"`
}

type publicConfig struct {
	City           string           `json:"city"`
	Center         latLon           `json:"center"`
	Bounds         [4]float64       `json:"bounds"` // minLon, minLat, maxLon, maxLat
	Districts      []publicDistrict `json:"districts"`
	Categories     []publicCategory `json:"categories"`
	MaxPhotos      int              `json:"max_photos"`
	MaxPhotoMB     int64            `json:"max_photo_mb"`
	MaxDescription int              `json:"max_description"`
	// BasemapURL is where the map fetches the city's own base layer
	// (roads, water, parks) when no tile service is configured.
	BasemapURL string      `json:"basemap_url,omitempty"`
	Tiles      *TileConfig `json:"tiles"`
	GridURL    string      `json:"grid_url"`
	CasesURL   string      `json:"cases_url"`
}

// publicGuard applies the per-client rate limit and refuses cross-site
// writes (a browser always sends Origin on a cross-site POST).
func (s *Server) publicGuard(w http.ResponseWriter, r *http.Request, write bool) bool {
	return s.guardWith(w, r, write, s.PublicWriteLimit)
}

// volunteerGuard is publicGuard for the volunteers' phone pages, whose
// writes (sign-in, sign-up, check-in) come in crowds from one address at
// an activity: they have a limit of their own, far above the residents'
// reports (the sign-in throttle still bounds password guessing).
func (s *Server) volunteerGuard(w http.ResponseWriter, r *http.Request, write bool) bool {
	return s.guardWith(w, r, write, s.VolunteerWriteLimit)
}

func (s *Server) guardWith(w http.ResponseWriter, r *http.Request, write bool, writeLimit *ratelimit.Limiter) bool {
	lim := s.PublicReadLimit
	if write {
		lim = writeLimit
		if err := s.checkCSRF(r, nil, nil); err != nil {
			s.fail(w, r, err)
			return false
		}
	}
	if ok, wait := lim.Allow(limitKey(s.clientIP(r))); !ok {
		secs := int(math.Ceil(wait.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		s.fail(w, r, apperr.New(apperr.RateLimited, "rate_limited", "seconds", strconv.Itoa(secs)))
		return false
	}
	return true
}

func (s *Server) publicConfig(r *http.Request) (publicConfig, error) {
	ctx := r.Context()
	cfg := publicConfig{City: s.City, MaxPhotos: intake.MaxPublicPhotos, MaxPhotoMB: s.Flow.Photos.MaxBytes >> 20,
		MaxDescription: intake.MaxPublicDescription, Tiles: s.Tiles, GridURL: "/api/v1/public/grid", CasesURL: "/api/v1/public/cases",
		Districts: []publicDistrict{}, Categories: []publicCategory{}}
	if cfg.MaxPhotoMB == 0 {
		cfg.MaxPhotoMB = photo.DefaultMaxBytes >> 20
	}
	cats, err := s.Flow.Categories(ctx)
	if err != nil {
		return cfg, err
	}
	groups := map[int64]string{}
	for _, c := range cats {
		if c.ParentID == 0 {
			groups[c.ID] = c.Name
		}
	}
	for _, c := range cats {
		if c.ParentID != 0 && c.Active && !c.StaffOnly && groups[c.ParentID] != "" {
			cfg.Categories = append(cfg.Categories, publicCategory{ID: c.ID, Code: c.Code, Name: c.Name, Group: groups[c.ParentID], Hint: c.Hint})
		}
	}
	if s.Tiles == nil && s.Basemap != nil {
		empty, err := s.Basemap.Empty(ctx)
		if err != nil {
			return cfg, err
		}
		if !empty {
			cfg.BasemapURL = "/api/v1/public/basemap"
		}
	}
	if s.Grid != nil {
		b, ok, err := s.Grid.Bounds(ctx)
		if err != nil {
			return cfg, err
		}
		if ok {
			cfg.Bounds = [4]float64{b.Min.Lon, b.Min.Lat, b.Max.Lon, b.Max.Lat}
			cfg.Center = latLon{Lat: (b.Min.Lat + b.Max.Lat) / 2, Lon: (b.Min.Lon + b.Max.Lon) / 2}
		}
		ds, err := s.Grid.Districts(ctx)
		if err != nil {
			return cfg, err
		}
		for _, d := range ds {
			cfg.Districts = append(cfg.Districts, publicDistrict{Name: d.Name, Center: latLon{Lat: d.Center.Lat, Lon: d.Center.Lon},
				Bounds: [4]float64{d.Bounds.Min.Lon, d.Bounds.Min.Lat, d.Bounds.Max.Lon, d.Bounds.Max.Lat}})
		}
	}
	return cfg, nil
}

// staffReporter returns the request with its principal when a signed-in
// inspector, grid worker or other reporting role uses the public page:
// they report as themselves (their source is accepted on arrival when so
// configured). Anyone else is an anonymous citizen.
func (s *Server) staffReporter(r *http.Request) (*http.Request, bool, error) {
	if _, err := r.Cookie(sessionCookie); err != nil {
		return r, false, nil
	}
	p, err := s.authenticate(r)
	if err != nil && !apperr.Is(err, apperr.Unauthorized) {
		// the session could not be read (the database): not a reason to
		// file a staff member's report as a resident's
		return r, false, err
	}
	if err != nil || p.session == nil || !slices.Contains(reporters, p.actor.Role) || p.session.User.MustChangePassword {
		return r, false, nil
	}
	return r.WithContext(withPrincipal(r.Context(), p)), true, nil
}

func (s *Server) pageReport(w http.ResponseWriter, r *http.Request) {
	if !s.publicGuard(w, r, false) {
		return
	}
	r, _, err := s.staffReporter(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	cfg, err := s.publicConfig(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	b, _ := json.Marshal(cfg)
	// The categories are also rendered into the page, so the form works
	// before (or without) the script.
	type group struct {
		Name       string
		Categories []publicCategory
	}
	var groups []group
	for _, c := range cfg.Categories {
		if len(groups) == 0 || groups[len(groups)-1].Name != c.Group {
			groups = append(groups, group{Name: c.Group})
		}
		g := &groups[len(groups)-1]
		g.Categories = append(g.Categories, c)
	}
	s.render(w, r, "public_report", map[string]any{"Config": template.JS(b), "Groups": groups})
}

func (s *Server) apiPublicConfig(w http.ResponseWriter, r *http.Request) {
	if !s.publicGuard(w, r, false) {
		return
	}
	cfg, err := s.publicConfig(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, 200, cfg)
}

// publicBox guards a public map read and reads its bbox; false means the
// answer (a refusal) has been written.
func (s *Server) publicBox(w http.ResponseWriter, r *http.Request) (geo.Rect, bool) {
	if !s.publicGuard(w, r, false) {
		return geo.Rect{}, false
	}
	box, err := parseBBox(r.URL.Query().Get("bbox"))
	if err != nil {
		s.fail(w, r, err)
		return geo.Rect{}, false
	}
	return box, true
}

// maxMapCells bounds the cells one map request returns.
const maxMapCells = 3000

func (s *Server) apiPublicGrid(w http.ResponseWriter, r *http.Request) {
	box, ok := s.publicBox(w, r)
	if !ok {
		return
	}
	cells, truncated, err := s.Grid.Cells(r.Context(), box, maxMapCells)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	type props struct {
		Code      string `json:"code"`
		Name      string `json:"name"`
		Community string `json:"community"`
		Street    string `json:"street"`
		District  string `json:"district"`
	}
	type feature struct {
		Type       string          `json:"type"`
		Properties props           `json:"properties"`
		Geometry   json.RawMessage `json:"geometry"`
	}
	fc := struct {
		Type      string    `json:"type"`
		Features  []feature `json:"features"`
		Truncated bool      `json:"truncated,omitempty"`
	}{Type: "FeatureCollection", Features: make([]feature, 0, len(cells)), Truncated: truncated}
	for _, c := range cells {
		fc.Features = append(fc.Features, feature{Type: "Feature", Geometry: c.GeometryJSON(),
			Properties: props{Code: c.Code, Name: c.Name, Community: c.Community, Street: c.Street, District: c.District}})
	}
	// A square of cells is about 500 KB of GeoJSON and a tenth of it
	// gzipped (compress.go): on a phone's network that is most of the
	// map's wait.
	w.Header().Set("Content-Type", "application/geo+json; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_ = json.NewEncoder(w).Encode(fc)
}

func (s *Server) apiPublicCases(w http.ResponseWriter, r *http.Request) {
	box, ok := s.publicBox(w, r)
	if !ok {
		return
	}
	cases, err := s.Flow.OpenInBox(r.Context(), box.Min.Lat, box.Min.Lon, box.Max.Lat, box.Max.Lon, 500)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for i := range cases {
		cases[i].StateText = s.stateText(r, cases[i].State)
	}
	if cases == nil {
		cases = []workflow.MapCase{}
	}
	writeJSON(w, 200, map[string]any{"cases": cases})
}

func (s *Server) apiPublicNearby(w http.ResponseWriter, r *http.Request) {
	if !s.publicGuard(w, r, false) {
		return
	}
	q := r.URL.Query()
	lat, lon, err := queryPoint(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	catID, err := strconv.ParseInt(q.Get("category_id"), 10, 64)
	if err != nil {
		s.fail(w, r, apperr.New(apperr.Invalid, "category.not_found"))
		return
	}
	cat, err := s.Flow.Category(r.Context(), s.DB.Reader(), catID)
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		s.fail(w, r, err)
		return
	}
	if err != nil || cat.StaffOnly || !cat.Active {
		s.fail(w, r, apperr.New(apperr.Invalid, "category.not_found"))
		return
	}
	near, err := s.Flow.Nearby(r.Context(), nil, catID, *lat, *lon, float64(cat.DupRadiusM), 5)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	type item struct {
		No          string  `json:"no"`
		Category    string  `json:"category"`
		Description string  `json:"description"`
		StateText   string  `json:"state_text"`
		DistanceM   int     `json:"distance_m"`
		ReportedAt  string  `json:"reported_at"`
		Thumb       string  `json:"thumb"`
		Lat         float64 `json:"lat"`
		Lon         float64 `json:"lon"`
	}
	// Positions go out in the datum the point came in (coord). Each case
	// shows its first photo, derived (no metadata), so that the resident
	// recognises the problem: the photos of all of them in one read.
	datum, _ := geo.ParseDatum(q.Get("coord"))
	ids := make([]int64, len(near))
	for i, n := range near {
		ids[i] = n.ID
	}
	photos, err := s.Flow.PhotosOf(r.Context(), ids)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := []item{}
	for _, n := range near {
		p := geo.FromWGS84(geo.Point{Lon: n.Lon, Lat: n.Lat}, datum)
		it := item{No: n.No, Category: cat.Name, Description: excerpt(n.Description, 80), StateText: s.stateText(r, n.State),
			DistanceM: int(math.Round(n.DistanceM)), ReportedAt: time.UnixMilli(n.ReportedAt).In(s.Location).Format(time.RFC3339), Lat: p.Lat, Lon: p.Lon}
		for _, ph := range photos[n.ID] {
			if ph.Ready && ph.Kind == "before" {
				it.Thumb = "/api/v1/public/photos/" + url.PathEscape(n.No) + "/" + itoa(ph.ID) + "/thumb"
				break
			}
		}
		out = append(out, it)
	}
	writeJSON(w, 200, map[string]any{"cases": out})
}

func excerpt(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// publicReceipt is the answer to a public report or follow.
type publicReceipt struct {
	Receipt   string `json:"receipt"`
	CaseNo    string `json:"case_no"`
	StatusURL string `json:"status_url"`
	StateText string `json:"state_text"`
	Kind      string `json:"kind"`
}

func (s *Server) receiptAnswer(w http.ResponseWriter, r *http.Request, rec intake.Receipt) {
	code := http.StatusCreated
	if rec.Replayed {
		code = http.StatusOK
	}
	writeJSON(w, code, publicReceipt{Receipt: rec.Code, CaseNo: rec.CaseNo, StatusURL: "/track/" + rec.Code, StateText: s.stateText(r, rec.State), Kind: rec.Kind})
}

// Bounds of a public report's text fields: each, all together, and how
// many.
const (
	maxFieldBytes = 16 << 10
	maxTextBytes  = 64 << 10
	maxFields     = 50
)

// readPublicReport streams a multipart report: text fields into memory
// (bounded), each photo straight into the photo store as it arrives (no
// second copy of a 20 MB file in memory or a temp file), among the
// request's uploads.
func (s *Server) readPublicReport(w http.ResponseWriter, r *http.Request, up *photo.Uploads) (url.Values, []photo.File, error) {
	r.Body = http.MaxBytesReader(w, r.Body, s.MaxUploadBytes)
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, nil, apperr.New(apperr.Invalid, "bad_form")
	}
	fields := url.Values{}
	textBytes, nFields := 0, 0
	fail := func(err error) (url.Values, []photo.File, error) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, nil, apperr.New(apperr.TooLarge, "body_too_large", "mb", itoa(mbe.Limit>>20))
		}
		if _, ok := apperr.As(err); ok {
			return nil, nil, err
		}
		return nil, nil, apperr.New(apperr.Invalid, "bad_form")
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fail(err)
		}
		name := part.FormName()
		if part.FileName() == "" {
			b, err := io.ReadAll(io.LimitReader(part, maxFieldBytes+1))
			part.Close()
			if err != nil {
				return fail(err)
			}
			if len(b) > maxFieldBytes {
				return fail(errInvalid("public.field_too_long", "field", name))
			}
			// A report has a dozen short fields: bound their number and
			// total size, not only each one's.
			textBytes += len(b)
			if nFields++; nFields > maxFields || textBytes > maxTextBytes {
				return fail(apperr.New(apperr.TooLarge, "body_too_large", "mb", "1"))
			}
			fields.Add(name, string(b))
			continue
		}
		if name != "photos" && name != "photo" {
			part.Close()
			continue
		}
		if len(up.Files()) == intake.MaxPublicPhotos {
			return fail(errInvalid("photo.too_many", "max", itoa(intake.MaxPublicPhotos)))
		}
		_, err = up.Save(r.Context(), part)
		part.Close()
		if err != nil {
			if apperr.Is(err, apperr.Invalid) && len(up.Files()) > 0 {
				continue // an empty extra file input
			}
			return fail(err)
		}
	}
	if len(up.Files()) == 0 {
		return fail(apperr.New(apperr.Invalid, "photo.required"))
	}
	return fields, up.Files(), nil
}

func (s *Server) apiPublicReport(w http.ResponseWriter, r *http.Request) {
	if !s.publicGuard(w, r, true) {
		return
	}
	if !isMultipart(r) {
		s.fail(w, r, apperr.New(apperr.Unsupported, "public.multipart_required"))
		return
	}
	defer s.Flow.PhotoJobs.IntakeStarted()()
	in := workflow.NewCase{Source: workflow.SourceCitizen, MaxDescription: intake.MaxPublicDescription, RequireInCity: true}
	actor, scope := org.System, "public"
	var volunteerName string
	sr, staff, err := s.staffReporter(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	up := s.Flow.Photos.NewUploads()
	defer up.Close() // every refusal before Submit removes the stored photos
	fields, photos, err := s.readPublicReport(w, r, up)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	in.Photos = photos
	refuse := func(err error) { s.fail(w, r, err) }
	if staff {
		// A signed-in reporter: the session's CSRF token must come back
		// (header, or the streamed form's field).
		p := principalOf(sr)
		if err := s.checkCSRF(r, p.session, fields.Get); err != nil {
			refuse(err)
			return
		}
		actor, scope, in.Source = p.actor, "user:"+strconv.FormatInt(p.actor.UserID, 10), ""
	} else if v := s.volunteerOf(r); v != nil {
		// A volunteer signed in on the phone pages reports as themselves
		// (the cookie is SameSite=Lax and the Origin was checked above).
		scope, in.Source = "vol:"+strconv.FormatInt(v.ID, 10), workflow.SourceVolunteer
		volunteerName = v.Name
	}
	cat, err := strconv.ParseInt(strings.TrimSpace(fields.Get("category_id")), 10, 64)
	if err != nil || cat <= 0 {
		refuse(apperr.New(apperr.Invalid, "category.not_found"))
		return
	}
	in.CategoryID = cat
	if c, err := s.Flow.Category(r.Context(), s.DB.Reader(), in.CategoryID); err != nil && !apperr.Is(err, apperr.NotFound) {
		refuse(err)
		return
	} else if err != nil || c.StaffOnly {
		refuse(apperr.New(apperr.Invalid, "category.not_found"))
		return
	}
	if in.Lat, in.Lon, err = readPoint(fields.Get("lat"), fields.Get("lon"), fields.Get("coord")); err != nil {
		refuse(err)
		return
	}
	in.Description = fields.Get("description")
	in.ReporterName = excerpt(strings.TrimSpace(fields.Get("name")), 50)
	in.ReporterPhone = strings.TrimSpace(fields.Get("phone"))
	if volunteerName != "" {
		// the name says who reported; the phone only if they typed one
		in.ReporterName = excerpt("志愿者 "+volunteerName, 50)
	}
	if in.ReporterPhone != "" && !validPhone(in.ReporterPhone) {
		refuse(apperr.New(apperr.Invalid, "public.bad_phone"))
		return
	}
	in.DeviceID = excerpt(strings.TrimSpace(fields.Get("device_id")), 100)
	// No location given: the first photo's EXIF position, if it has one.
	if in.Lat == nil && in.Photos[0].Meta.HasGPS {
		lat, lon := in.Photos[0].Meta.Lat, in.Photos[0].Meta.Lon
		in.Lat, in.Lon = &lat, &lon
	}
	if in.Lat == nil {
		refuse(apperr.New(apperr.Invalid, "case.location_required"))
		return
	}
	key := strings.TrimSpace(r.Header.Get("Idempotency-Key"))
	if key == "" {
		key = strings.TrimSpace(fields.Get("idempotency_key"))
	}
	// Submit removes the photos itself when it refuses or replays.
	up.Keep()
	rec, err := s.Intake.Submit(r.Context(), actor, intake.Submission{Scope: scope, Key: key, Case: in, IP: s.clientIP(r), WantReceipt: true})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if wantsHTML(r) {
		// The page's form posted without JavaScript: go to the status page.
		http.Redirect(w, r, "/track/"+rec.Code, http.StatusSeeOther)
		return
	}
	s.receiptAnswer(w, r, rec)
}

// validPhone accepts mainland mobile and landline numbers as people type
// them (digits, spaces, dashes, an optional +86).
func validPhone(p string) bool {
	digits := 0
	for i, c := range p {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == ' ' || c == '-':
		case c == '+' && i == 0:
		default:
			return false
		}
	}
	return digits >= 7 && digits <= 15
}

func (s *Server) apiPublicFollow(w http.ResponseWriter, r *http.Request) {
	if !s.publicGuard(w, r, true) {
		return
	}
	var body followJSON
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		if err := decodeJSON(r, &body); err != nil {
			s.fail(w, r, err)
			return
		}
	} else {
		if err := s.parseForm(r); err != nil {
			s.fail(w, r, err)
			return
		}
		body.CaseNo, body.DeviceID = r.FormValue("case_no"), r.FormValue("device_id")
	}
	rec, err := s.Intake.Follow(r.Context(), "public-follow", idempotencyKey(r), strings.TrimSpace(body.CaseNo), excerpt(strings.TrimSpace(body.DeviceID), 100), s.clientIP(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.receiptAnswer(w, r, rec)
}

// followJSON is the body of a follow (JSON or form fields of these names).
type followJSON struct {
	CaseNo   string `json:"case_no"`
	DeviceID string `json:"device_id"`
}
