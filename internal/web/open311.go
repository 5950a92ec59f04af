package web

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"chuangwen/internal/apperr"
	"chuangwen/internal/geo"
	"chuangwen/internal/intake"
	"chuangwen/internal/open311"
	"chuangwen/internal/org"
	"chuangwen/internal/photo"
	"chuangwen/internal/workflow"
)

// Open311 GeoReport v2 over the case store. Services are the public 小类
// (group = 大类); service_request_id is the case number; api_key is a
// core API token of a client system; tokens are receipt codes. Reporter
// data never appears in an answer.

type open311Backend struct{ s *Server }

type ctxCoord struct{}

type ctxBase struct{}

// baseURL is the scheme and host the client used, for absolute media_url
// links (another system cannot resolve a bare path).
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// open311Handler wraps the protocol handler: rate limits, and the coord
// parameter (our extension) that picks the datum of coordinates written.
func (s *Server) open311Handler() http.Handler {
	h := open311.NewHandler(open311Backend{s}, "/open311/v2/", open311.Options{
		Jurisdiction: s.Open311Jurisdiction,
		Log:          s.Log,
		Location:     s.Location,
		Messages:     func(lang, key string, args ...string) string { return s.Msg.T(lang, key, args...) },
		// Photos sent as files take the public page's path: type sniffed,
		// metadata stripped, derivatives made.
		NewUploads:       func(r *http.Request) open311.Uploads { return &o311Uploads{up: s.Flow.Photos.NewUploads()} },
		MaxUploadBytes:   s.MaxUploadBytes,
		ExtendedStatuses: s.Open311ExtendedStatuses,
		Language:         s.Msg.Pick,
		Discovery:        open311.Discovery{Changeset: "2026-12-05 00:00", Contact: s.City, KeyService: s.Msg.T("zh-CN", "open311.key_service")},
		// POST needs an api_key (a revocable token of a known system), so
		// Open311 shares the reads' per-address limit rather than the
		// citizens' report limit, which would throttle a hotline.
		Guard: func(w http.ResponseWriter, r *http.Request) error {
			if ok, wait := s.PublicReadLimit.Allow(limitKey(s.clientIP(r))); !ok {
				secs := strconv.Itoa(int(math.Ceil(wait.Seconds())))
				w.Header().Set("Retry-After", secs)
				return &open311.Error{Status: http.StatusTooManyRequests, Key: "rate_limited", Args: []string{"seconds", secs}}
			}
			return nil
		},
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d, err := geo.ParseDatum(r.URL.Query().Get("coord"))
		if err != nil && r.Method == http.MethodGet {
			d = geo.WGS84
		}
		ctx := context.WithValue(context.WithValue(r.Context(), ctxCoord{}, d), ctxBase{}, baseURL(r))
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

func (b open311Backend) msg(lang, key string, args ...string) string {
	return b.s.Msg.T(lang, key, args...)
}

// o311err turns a domain error into the protocol's: 404 stays 404, 403
// stays 403, every other client error is 400.
func (b open311Backend) o311err(lang string, err error) error {
	e, ok := apperr.As(err)
	if !ok {
		return err
	}
	desc := b.msg(lang, e.Key, e.Args...)
	switch e.Code {
	case apperr.NotFound:
		return open311.NotFound(desc)
	case apperr.Forbidden, apperr.Unauthorized:
		return open311.Forbidden(desc)
	case apperr.Conflict:
		return &open311.Error{Status: http.StatusConflict, Description: desc}
	case apperr.Internal:
		return err
	}
	return open311.BadRequest(desc)
}

// catalog is the public 小类 by code, in code order, with their 大类's
// names and codes by id (one cached read per call).
type catalog struct {
	byCode map[string]workflow.Category
	public []workflow.Category
	group  map[int64]string
	code   map[int64]string
}

func (b open311Backend) catalog(ctx context.Context) (catalog, error) {
	cats, err := b.s.Flow.Categories(ctx)
	if err != nil {
		return catalog{}, err
	}
	k := catalog{byCode: map[string]workflow.Category{}, group: map[int64]string{}, code: map[int64]string{}}
	for _, c := range cats {
		k.code[c.ID] = c.Code
		if c.ParentID == 0 {
			k.group[c.ID] = c.Name
		}
	}
	for _, c := range cats {
		if c.ParentID != 0 && c.Active && !c.StaffOnly {
			k.byCode[c.Code] = c
			k.public = append(k.public, c)
		}
	}
	return k, nil
}

func (b open311Backend) Services(ctx context.Context, lang string) ([]open311.Service, error) {
	k, err := b.catalog(ctx)
	if err != nil {
		return nil, err
	}
	asks, err := b.s.Flow.AttributedCategories(ctx)
	if err != nil {
		return nil, err
	}
	var out []open311.Service
	for _, c := range k.public {
		desc := c.Hint
		if desc == "" {
			desc = c.Standard
		}
		out = append(out, open311.Service{Code: c.Code, Name: c.Name, Description: desc, Group: k.group[c.ParentID], Metadata: asks[c.ID],
			Type: "realtime", Keywords: keywords(c.Hint)})
	}
	return out, nil
}

// keywords splits a hint into a few comma-free words for Open311.
func keywords(hint string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(hint, func(r rune) bool { return strings.ContainsRune("，,、；; 。", r) }) {
		if f = strings.TrimSpace(f); f != "" && len(out) < 5 {
			out = append(out, f)
		}
	}
	return out
}

func (b open311Backend) Definition(ctx context.Context, lang, code string) ([]open311.Attribute, error) {
	k, err := b.catalog(ctx)
	if err != nil {
		return nil, err
	}
	c, ok := k.byCode[code]
	if !ok {
		return nil, open311.NotFound(b.msg(lang, "open311.unknown_service", "code", code))
	}
	attrs, err := b.s.Flow.CategoryAttributes(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	out := []open311.Attribute{}
	for _, a := range attrs {
		oa := open311.Attribute{Variable: true, Code: a.Code, Datatype: a.Datatype, Required: a.Required, Description: a.Description, Order: a.Order}
		for _, v := range a.Values {
			oa.Values = append(oa.Values, open311.Value{Key: v.Key, Name: v.Name})
		}
		out = append(out, oa)
	}
	return out, nil
}

func (b open311Backend) Create(ctx context.Context, r *http.Request, in open311.NewRequest) (open311.Created, error) {
	lang := open311.LanguageFrom(ctx)
	actor, err := b.s.Org.ActorForToken(ctx, in.APIKey)
	if err != nil && !apperr.Is(err, apperr.Unauthorized) {
		return open311.Created{}, err // the database failed, not the key: a 5xx the client retries
	}
	if err != nil || actor.Role != org.RoleClient || !mayOpen311(actor) {
		return open311.Created{}, open311.Forbidden(b.msg(lang, "open311.bad_api_key"))
	}
	k, err := b.catalog(ctx)
	if err != nil {
		return open311.Created{}, err
	}
	cat, ok := k.byCode[in.ServiceCode]
	if !ok {
		return open311.Created{}, open311.NotFound(b.msg(lang, "open311.unknown_service", "code", in.ServiceCode))
	}
	defs, err := b.s.Flow.CategoryAttributes(ctx, cat.ID)
	if err != nil {
		return open311.Created{}, err
	}
	// Only the attributes the category defines are checked; the rest
	// (FixMyStreet's extra fields) are kept as received, for the office.
	defined, extra := splitAttributes(defs, in.Attributes)
	answers, err := workflow.CheckAttributes(defs, defined)
	if err != nil {
		return open311.Created{}, b.o311err(lang, err)
	}
	nc := workflow.NewCase{Source: workflow.SourceAPI, CategoryID: cat.ID, Description: in.Description, RequireInCity: true,
		ReporterName: personName(in.FirstName, in.LastName), ReporterPhone: in.Phone, ReporterEmail: in.Email, DeviceID: in.DeviceID,
		Address: in.AddressString, Attributes: answers, MaxDescription: open311.MaxDescription,
		Client: &workflow.ClientFields{Client: actor.Name, MediaURLs: in.MediaURLs, Attributes: extra}}
	if nc.Address == "" && in.AddressID != "" {
		nc.Address = "address_id:" + in.AddressID
	}
	if strings.TrimSpace(nc.Description) == "" {
		nc.Description = cat.Name
	}
	if up, ok := in.Uploads.(*o311Uploads); ok {
		nc.Photos = up.up.Files()
	}
	notice := "open311.notice"
	var place string
	switch {
	case in.Lat != nil:
		p := geo.ToWGS84(geo.Point{Lon: *in.Long, Lat: *in.Lat}, geo.Datum(strings.ToLower(in.Coord)))
		nc.Lat, nc.Lon = &p.Lat, &p.Lon
	case in.AddressString != "":
		// An address alone: placed in the grid cell it names, if any,
		// flagged as estimated; otherwise the acceptor places it.
		pl, ok, err := b.s.Grid.Place(ctx, in.AddressString)
		if err != nil {
			return open311.Created{}, err
		}
		notice = "open311.notice_unplaced"
		if ok {
			nc.Lat, nc.Lon, nc.Estimated = &pl.Point.Lat, &pl.Point.Lon, true
			notice, place = "open311.notice_placed", pl.Name
		}
	default:
		notice = "open311.notice_unplaced"
	}
	key := strings.TrimSpace(r.Header.Get("Idempotency-Key"))
	rec, err := b.s.Intake.Submit(ctx, actor, intake.Submission{Scope: "token:" + strconv.FormatInt(actor.TokenID, 10), Key: key, Case: nc, IP: b.s.clientIP(r)})
	if err != nil {
		return open311.Created{}, b.o311err(lang, err)
	}
	if up, ok := in.Uploads.(*o311Uploads); ok {
		up.up.Keep()
	}
	return open311.Created{ID: rec.CaseNo, Notice: b.msg(lang, notice, "receipt", rec.Code, "place", place), AccountID: in.AccountID}, nil
}

// o311Uploads stores the files of an Open311 POST as case photos.
type o311Uploads struct{ up *photo.Uploads }

func (u *o311Uploads) Save(ctx context.Context, _ string, r io.Reader) error {
	if len(u.up.Files()) >= intake.MaxPublicPhotos {
		return apperrTo311(errInvalid("photo.too_many", "max", itoa(intake.MaxPublicPhotos)))
	}
	_, err := u.up.Save(ctx, r)
	return apperrTo311(err)
}

func (u *o311Uploads) Close() { u.up.Close() }

// apperrTo311 gives a photo refusal its protocol status (415 for a type,
// 413 for a size, 400 otherwise), in Chinese; the backend's language is
// not known inside Save.
func apperrTo311(err error) error {
	e, ok := apperr.As(err)
	if !ok {
		return err
	}
	status := http.StatusBadRequest
	switch e.Code {
	case apperr.Unsupported:
		status = http.StatusUnsupportedMediaType
	case apperr.TooLarge:
		status = http.StatusRequestEntityTooLarge
	case apperr.Internal:
		return err
	}
	return &open311.Error{Status: status, Key: e.Key, Args: e.Args}
}

// splitAttributes parts the client's attributes into those the category
// defines and the rest.
func splitAttributes(defs []workflow.Attribute, in map[string][]string) (defined, extra map[string][]string) {
	for code, vals := range in {
		if slices.ContainsFunc(defs, func(a workflow.Attribute) bool { return a.Code == code }) {
			if defined == nil {
				defined = map[string][]string{}
			}
			defined[code] = vals
			continue
		}
		if extra == nil {
			extra = map[string][]string{}
		}
		extra[code] = vals
	}
	return defined, extra
}

// personName joins a client's first and last name in the order given:
// with a space between Latin names ("Test User"), without one between
// Chinese ones ("王" + "小明" is 王小明); one part alone as it came.
func personName(first, last string) string {
	first, last = strings.TrimSpace(first), strings.TrimSpace(last)
	if first == "" || last == "" {
		return first + last
	}
	if isHan(lastRune(first)) && isHan(firstRune(last)) {
		return first + last
	}
	return first + " " + last
}

func isHan(r rune) bool { return unicode.Is(unicode.Han, r) }

func firstRune(s string) rune { r, _ := utf8.DecodeRuneInString(s); return r }

func lastRune(s string) rune { r, _ := utf8.DecodeLastRuneInString(s); return r }

func (b open311Backend) Token(ctx context.Context, token string) (string, error) {
	t, err := b.s.Intake.Track(ctx, token)
	if err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return "", open311.NotFound(b.msg(open311.LanguageFrom(ctx), "open311.unknown_token"))
		}
		return "", err
	}
	return t.FiledNo, nil
}

func (b open311Backend) Requests(ctx context.Context, lang string, q open311.Query) ([]open311.Request, error) {
	pq := workflow.PublicQuery{Nos: q.IDs, CategoryCodes: q.ServiceCodes, From: q.Start, To: q.End, UpdatedAfter: q.UpdatedAfter, UpdatedBefore: q.UpdatedBefore,
		Limit: q.PageSize, Offset: (q.Page - 1) * q.PageSize}
	for _, st := range q.Status {
		pq.Open = pq.Open || st == "open"
		pq.Closed = pq.Closed || st == "closed"
	}
	if len(q.IDs) > 0 {
		pq.Limit, pq.Offset = len(q.IDs), 0
	}
	cases, err := b.s.Flow.PublicCases(ctx, pq)
	if err != nil {
		return nil, err
	}
	k, err := b.catalog(ctx)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(cases))
	for i, c := range cases {
		ids[i] = c.ID
	}
	photos, err := b.s.Flow.PhotosOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	clients, err := b.s.Flow.ClientFieldsOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]open311.Request, 0, len(cases))
	for _, c := range cases {
		c.Photos, c.Client = photos[c.ID], clients[c.ID]
		r, err := b.request(ctx, lang, c, q.View, k)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func (b open311Backend) Request(ctx context.Context, lang, id string, v open311.View) (open311.Request, error) {
	c, err := b.s.Flow.PublicCase(ctx, id)
	if err != nil {
		return open311.Request{}, b.o311err(lang, err) // an id that is no text: 400
	}
	if c == nil {
		return open311.Request{}, open311.NotFound(b.msg(lang, "open311.unknown_request", "id", id))
	}
	k, err := b.catalog(ctx)
	if err != nil {
		return open311.Request{}, err
	}
	if c.Client, err = b.s.Flow.CaseClientFields(ctx, c.ID); err != nil {
		return open311.Request{}, err
	}
	return b.request(ctx, lang, c, v, k)
}

// request maps a case, its photos and client fields loaded, to a
// GeoReport request:
// public-safe fields only.
func (b open311Backend) request(ctx context.Context, lang string, c *workflow.Case, v open311.View, k catalog) (open311.Request, error) {
	r := open311.Request{ID: c.No, Status: "open", ServiceName: c.CategoryName, Description: c.Description, AgencyResponsible: c.LeadUnitName,
		Requested: c.ReportedAt, Updated: c.UpdatedAt, Expected: c.Deadline, Address: c.Address}
	if !c.State.Open() {
		r.Status = "closed"
	}
	if v.ExtendedStatuses {
		r.Status = detailedStatus(c.State)
	}
	r.StatusNotes = b.msg(lang, "track.state."+string(c.State))
	if c.Lat != nil {
		d, _ := ctx.Value(ctxCoord{}).(geo.Datum)
		p := geo.FromWGS84(geo.Point{Lon: *c.Lon, Lat: *c.Lat}, d)
		r.Lat, r.Long = &p.Lat, &p.Lon
	}
	r.ServiceCode = k.code[c.CategoryID]
	base, _ := ctx.Value(ctxBase{}).(string)
	var photos []string
	for _, p := range c.Photos {
		if p.Ready && (p.Kind == "before" || p.Kind == "after") {
			photos = append(photos, base+"/api/v1/public/photos/"+c.No+"/"+strconv.FormatInt(p.ID, 10)+"/large")
		}
	}
	// The links a client sent are its own to show: they come first, as
	// the client gave them; then our public versions of the photos.
	if c.Client != nil {
		photos = append(slices.Clone(c.Client.MediaURLs), photos...)
	}
	if len(photos) > 0 {
		r.MediaURL = photos[0]
	}
	if !v.Extensions {
		return r, nil
	}
	e := &open311.Extended{Channel: c.Source, Photos: photos, Duplicate: c.State == workflow.Merged}
	if c.MergedInto != 0 {
		if no, err := b.s.Flow.CaseNo(ctx, org.System, c.MergedInto); err == nil {
			e.ParentID = no
		}
	}
	// Only the category's own attributes: what a client sent beyond them
	// stays with staff.
	if a, err := b.s.Flow.CaseAttributes(ctx, c.ID); err == nil && a != "" {
		_ = json.Unmarshal([]byte(a), &e.Attributes)
		delete(e.Attributes, "media_url")
	}
	steps, err := b.s.Flow.PublicTimeline(ctx, c.ID)
	if err != nil {
		return r, err
	}
	for _, st := range steps {
		e.Notes = append(e.Notes, open311.Note{At: st.At, Type: "status_change", Summary: b.msg(lang, "action."+string(st.Action)),
			Description: b.msg(lang, "track.state."+string(st.To))})
	}
	r.Extended = e
	return r, nil
}

// detailedStatus is a state in the statuses FixMyStreet understands: a
// merged case is a duplicate, not fixed; a case closed unverified does
// not exist (closing is verifying).
func detailedStatus(s workflow.State) string {
	switch s {
	case workflow.Reported:
		return open311.StatusOpen
	case workflow.Accepted:
		return open311.StatusInvestigating
	case workflow.Dispatched, workflow.InProgress, workflow.Verifying:
		return open311.StatusInProgress
	case workflow.Postponed:
		return open311.StatusActionScheduled
	case workflow.Closed:
		return open311.StatusFixed
	case workflow.Rejected:
		return open311.StatusNotResponsible
	case workflow.Merged:
		return open311.StatusDuplicate
	case workflow.Voided:
		return open311.StatusNoFurtherAction
	}
	return open311.StatusOpen
}

// Updates is the servicerequestupdates feed: each change of state of a
// public case, with the unit's public reply where there is one.
func (b open311Backend) Updates(ctx context.Context, lang string, q open311.UpdateQuery, yield func(open311.Update) error) error {
	return b.s.Flow.PublicUpdates(ctx, q.Start, q.End, func(u workflow.PublicUpdate) error {
		desc := u.Reply
		if desc == "" {
			desc = b.msg(lang, "track.state."+string(u.To))
		}
		var media string
		if u.PhotoID != 0 {
			base, _ := ctx.Value(ctxBase{}).(string)
			media = base + "/api/v1/public/photos/" + u.CaseNo + "/" + strconv.FormatInt(u.PhotoID, 10) + "/large"
		}
		return yield(open311.Update{ID: strconv.FormatInt(u.Seq, 10), RequestID: u.CaseNo, At: u.At,
			Status: strings.ToUpper(detailedStatus(u.To)), Description: desc, MediaURL: media})
	})
}

// PostUpdate records a client's update to one of its own requests: a
// comment on the case's trail, once per update_id.
func (b open311Backend) PostUpdate(ctx context.Context, r *http.Request, in open311.NewUpdate) (string, error) {
	lang := open311.LanguageFrom(ctx)
	actor, err := b.s.Org.ActorForToken(ctx, in.APIKey)
	if err != nil && !apperr.Is(err, apperr.Unauthorized) {
		return "", err // the database failed, not the key: a 5xx the client retries
	}
	if err != nil || actor.Role != org.RoleClient || !mayOpen311(actor) {
		return "", open311.Forbidden(b.msg(lang, "open311.bad_api_key"))
	}
	// first_name, last_name, email and phone name a person: not kept with
	// an update (see workflow.PostClientUpdate).
	u := workflow.ClientUpdate{UpdateID: in.UpdateID, Status: in.Status, At: in.At, Description: in.Description,
		MediaURLs: in.MediaURLs, Attributes: in.Attributes}
	up, _ := in.Uploads.(*o311Uploads)
	if up != nil {
		u.Photos = up.up.Files()
	}
	seq, err := b.s.Flow.PostClientUpdate(ctx, actor, in.RequestID, u)
	if err != nil {
		return "", b.o311err(lang, err)
	}
	if up != nil {
		up.up.Keep()
	}
	return strconv.FormatInt(seq, 10), nil
}

// mayOpen311 says whether a client token may file and update on the
// Open311 endpoints: open311 and file tokens may; a read token may not
// write.
func mayOpen311(a org.Actor) bool {
	return a.TokenScope == org.TokenOpen311 || a.TokenScope == org.TokenFile
}
