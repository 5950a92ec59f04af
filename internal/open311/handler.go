package open311

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

const (
	contentXML  = "text/xml; charset=utf-8"
	contentJSON = "application/json; charset=utf-8"
	// The specification's examples spell the encoding in lower case;
	// encoding/xml's Header does not.
	xmlDeclaration = `<?xml version="1.0" encoding="utf-8"?>` + "\n"
)

type handler struct {
	b      Backend
	prefix string
	o      Options
}

// NewHandler serves GeoReport v2 for paths under prefix (e.g.
// "/open311/v2/"; a missing final slash is added). Mount it on the prefix
// without stripping it.
func NewHandler(b Backend, prefix string, o Options) http.Handler {
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.MaxUploadBytes <= 0 {
		o.MaxUploadBytes = DefaultMaxUploadBytes
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.Messages == nil {
		o.Messages = defaultMessages
	}
	if o.Language == nil {
		o.Language = defaultLanguage
	}
	return &handler{b: b, prefix: prefix, o: o}
}

type format int

const (
	formatXML format = iota
	formatJSON
)

// call is one request being served.
type call struct {
	h    *handler
	w    http.ResponseWriter
	r    *http.Request
	f    format
	lang string
}

// Resources, keyed by their first path segment; a trailing "/" marks the
// ones that take an argument in the second.
var resources = map[string]string{
	"discovery": "GET", "services": "GET", "requests": "GET POST",
	"services/": "GET", "requests/": "GET", "tokens/": "GET",
	"servicerequestupdates": "GET POST",
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	query, queryErr := url.ParseQuery(r.URL.RawQuery)
	c := &call{h: h, w: w, r: r, f: formatXML}
	c.setLanguage(query)

	res, arg, f, known := h.route(r.URL.EscapedPath())
	if _, ok := h.b.(UpdatesBackend); res == "servicerequestupdates" && !ok {
		res = ""
	}
	if res == "" {
		if known {
			c.f = f
		}
		c.fail(keyed(http.StatusNotFound, "open311.not_found", "path", r.URL.Path))
		return
	}
	if !known {
		c.fail(keyed(http.StatusNotFound, "open311.bad_format", "path", r.URL.Path))
		return
	}
	c.f = f
	if h.o.Guard != nil {
		if err := h.o.Guard(w, r); err != nil {
			c.fail(err)
			return
		}
	}

	methods := strings.Fields(resources[res])
	method := r.Method
	if method == http.MethodHead {
		method = http.MethodGet // the server drops the body
	}
	if !slices.Contains(methods, method) {
		allow := strings.Join(slices.Insert(methods, 1, http.MethodHead), ", ")
		w.Header().Set("Allow", allow)
		c.fail(keyed(http.StatusMethodNotAllowed, "open311.method_not_allowed", "method", r.Method, "allow", allow))
		return
	}
	if queryErr != nil {
		c.fail(keyed(http.StatusBadRequest, "open311.bad_query"))
		return
	}
	if method == http.MethodPost {
		if res == "servicerequestupdates" {
			c.postUpdate(query)
		} else {
			c.create(query)
		}
		return
	}
	if err := c.jurisdiction(query); err != nil {
		c.fail(err)
		return
	}
	if strings.HasSuffix(res, "/") && arg == "" {
		name := map[string]string{"services/": "service_code", "requests/": "service_request_id", "tokens/": "token"}[res]
		c.fail(keyed(http.StatusBadRequest, "open311.missing_param", "param", name))
		return
	}
	switch res {
	case "discovery":
		c.discovery()
	case "services":
		c.services()
	case "services/":
		c.definition(arg)
	case "requests":
		c.list(query)
	case "requests/":
		c.one(arg, query)
	case "tokens/":
		c.token(arg)
	case "servicerequestupdates":
		c.updates(query)
	}
}

// route splits a path into resource, argument and format. res is "" for an
// unknown resource; known reports whether the suffix named a format.
func (h *handler) route(path string) (res, arg string, f format, known bool) {
	rest, ok := strings.CutPrefix(path, h.prefix)
	if !ok {
		return "", "", formatXML, false
	}
	segs := strings.Split(rest, "/")
	last := segs[len(segs)-1]
	name, ext := last, ""
	if dot := strings.LastIndexByte(last, '.'); dot >= 0 {
		name, ext = last[:dot], last[dot+1:]
	}
	switch strings.ToLower(ext) {
	case "xml":
		f, known = formatXML, true
	case "json":
		f, known = formatJSON, true
	}
	name, err := url.PathUnescape(name)
	if err != nil {
		return "", "", f, known
	}
	switch len(segs) {
	case 1:
		res = name
	case 2:
		res, arg = segs[0]+"/", name
	default:
		return "", "", f, known
	}
	if _, ok := resources[res]; !ok {
		return "", "", f, known
	}
	return res, arg, f, known
}

func (c *call) setLanguage(form url.Values) {
	pref := strings.TrimSpace(form.Get("locale"))
	if pref == "" {
		pref = c.r.Header.Get("Accept-Language")
	}
	c.lang = c.h.o.Language(pref)
	c.r = c.r.WithContext(context.WithValue(c.r.Context(), langKey{}, c.lang))
}

type langKey struct{}

// LanguageFrom returns the language the handler picked for the request
// whose context ctx is ("" outside a request), so that a backend can
// speak it in methods that take no language argument.
func LanguageFrom(ctx context.Context) string {
	l, _ := ctx.Value(langKey{}).(string)
	return l
}

// jurisdiction checks jurisdiction_id against the one this server serves;
// see the package documentation.
func (c *call) jurisdiction(form url.Values) error {
	if c.h.o.Jurisdiction == "" {
		return nil
	}
	v, err := single(form, "jurisdiction_id")
	if err != nil {
		return err
	}
	if v != "" && !strings.EqualFold(v, c.h.o.Jurisdiction) {
		return keyed(http.StatusNotFound, "open311.jurisdiction_not_found", "id", v)
	}
	return nil
}

func (c *call) discovery() {
	d := c.h.o.Discovery
	if len(d.Endpoints) == 0 {
		scheme := "http"
		if c.r.TLS != nil {
			scheme = "https"
		}
		d.Endpoints = []Endpoint{{URL: scheme + "://" + c.r.Host + strings.TrimSuffix(c.h.prefix, "/")}}
	} else {
		d.Endpoints = slices.Clone(d.Endpoints)
	}
	if _, ok := c.h.b.(UpdatesBackend); ok && len(c.h.o.Discovery.Endpoints) == 0 {
		// The same URL also speaks mySociety's servicerequestupdates.
		d.Endpoints = append(d.Endpoints, Endpoint{Specification: UpdatesSpecification, URL: d.Endpoints[0].URL})
	}
	for i := range d.Endpoints {
		e := &d.Endpoints[i]
		if e.Specification == "" {
			e.Specification = Specification
		}
		if e.Changeset == "" {
			e.Changeset = d.Changeset
		}
		if e.Type == "" {
			e.Type = "production"
		}
		if len(e.Formats) == 0 {
			e.Formats = []string{"text/xml", "application/json"}
		}
	}
	x, j := encodeDiscovery(d)
	c.write(http.StatusOK, x, j)
}

func (c *call) services() {
	svcs, err := c.h.b.Services(c.r.Context(), c.lang)
	if err != nil {
		c.fail(err)
		return
	}
	x, j := encodeServices(svcs)
	c.write(http.StatusOK, x, j)
}

func (c *call) definition(code string) {
	attrs, err := c.h.b.Definition(c.r.Context(), c.lang, code)
	if err != nil {
		c.fail(err)
		return
	}
	x, j := encodeDefinition(code, attrs)
	c.write(http.StatusOK, x, j)
}

func (c *call) list(form url.Values) {
	q, err := parseQuery(form, c.h.o.Now(), c.h.o.Location, c.h.o.ExtendedStatuses)
	if err != nil {
		c.fail(err)
		return
	}
	ctx := c.r.Context()
	st := c.stream("service_requests", "request")
	if len(q.IDs) == 0 {
		rs, err := c.h.b.Requests(ctx, c.lang, q)
		if err == nil {
			err = st.requests(rs, q.Extensions)
		}
		st.finish(err)
		return
	}
	// A long id list is answered chunk by chunk: memory holds one chunk's
	// requests, whatever the list's length.
	ids := q.IDs
	for len(ids) > 0 && err == nil {
		n := min(len(ids), IDChunk)
		cq := q
		cq.IDs, ids = ids[:n:n], ids[n:]
		var rs []Request
		if rs, err = c.h.b.Requests(ctx, c.lang, cq); err == nil {
			err = st.requests(rs, q.Extensions)
		}
	}
	st.finish(err)
}

func (c *call) one(id string, form url.Values) {
	v, err := parseView(form, c.h.o.ExtendedStatuses)
	if err != nil {
		c.fail(err)
		return
	}
	r, err := c.h.b.Request(c.r.Context(), c.lang, id, v)
	if err != nil {
		c.fail(err)
		return
	}
	x, j := encodeRequests([]Request{r}, v.Extensions, c.h.o.Location)
	c.write(http.StatusOK, x, j)
}

// updates answers GET servicerequestupdates.{fmt}, streamed.
func (c *call) updates(form url.Values) {
	q, err := parseUpdateQuery(form, c.h.o.Now(), c.h.o.Location)
	if err != nil {
		c.fail(err)
		return
	}
	st := c.stream("service_request_updates", "request_update")
	err = c.h.b.(UpdatesBackend).Updates(c.r.Context(), c.lang, q, func(u Update) error {
		x, j := encodeUpdate(u, c.h.o.Location)
		return st.item(x, j)
	})
	st.finish(err)
}

// postUpdate answers POST servicerequestupdates.{fmt}.
func (c *call) postUpdate(query url.Values) {
	form, up, err := c.postedForm(query)
	if up != nil {
		defer up.Close()
	}
	if err != nil {
		c.fail(err)
		return
	}
	in, err := ParseNewUpdate(form, c.h.o.Location)
	if err != nil {
		c.fail(err)
		return
	}
	in.Uploads = up
	if in.Description == "" && len(in.MediaURLs) == 0 && up == nil {
		c.fail(keyed(http.StatusBadRequest, "open311.update_empty"))
		return
	}
	id, err := c.h.b.(UpdatesBackend).PostUpdate(c.r.Context(), c.r, in)
	if err != nil {
		c.fail(err)
		return
	}
	x, j := encodeUpdateID(id)
	c.write(http.StatusOK, x, j)
}

func (c *call) token(token string) {
	id, err := c.h.b.Token(c.r.Context(), token)
	if err != nil {
		c.fail(err)
		return
	}
	x, j := encodeToken(id, token)
	c.write(http.StatusOK, x, j)
}

func (c *call) create(query url.Values) {
	form, up, err := c.postedForm(query)
	if up != nil {
		defer up.Close()
	}
	if err != nil {
		c.fail(err)
		return
	}
	// A list of ids too long for a URL may come as a POST form: with
	// service_request_id and no service_code the POST is a query.
	if len(form["service_request_id"]) > 0 && len(form["service_code"]) == 0 && up == nil {
		c.list(form)
		return
	}
	in, err := ParseNewRequest(form)
	if err != nil {
		c.fail(err)
		return
	}
	in.Uploads = up
	created, err := c.h.b.Create(c.r.Context(), c.r, in)
	if err != nil {
		c.fail(err)
		return
	}
	if created.ID != "" && created.Token != "" {
		c.fail(fmt.Errorf("open311: backend created request %q with token %q; want one of them", created.ID, created.Token))
		return
	}
	x, j := encodeCreated(created)
	c.write(http.StatusOK, x, j)
}

// postedForm reads a POST's form (readForm), answers in its locale from
// then on, and checks its jurisdiction. The caller closes the Uploads,
// returned even with an error.
func (c *call) postedForm(query url.Values) (url.Values, Uploads, error) {
	form, up, err := c.readForm(query)
	if err != nil {
		return nil, up, err
	}
	if form.Get("locale") != "" {
		c.setLanguage(form)
	}
	return form, up, c.jurisdiction(form)
}

// readForm reads a POST body and appends the query string's parameters:
// form-urlencoded within MaxBodyBytes, or multipart whose text fields
// together stay within MaxBodyBytes and whose file parts stream into the
// request's Uploads (Options.NewUploads; refused without it) within
// MaxUploadBytes. The caller closes the Uploads, returned even with an
// error.
func (c *call) readForm(query url.Values) (url.Values, Uploads, error) {
	mediaType, params := "application/x-www-form-urlencoded", map[string]string(nil)
	if ct := c.r.Header.Get("Content-Type"); ct != "" {
		var err error
		if mediaType, params, err = mime.ParseMediaType(ct); err != nil {
			return nil, nil, keyed(http.StatusUnsupportedMediaType, "open311.unsupported_media_type")
		}
	}
	max := c.h.o.MaxBodyBytes
	tooLarge := func(n int64) error {
		return keyed(http.StatusRequestEntityTooLarge, "open311.body_too_large", "bytes", strconv.FormatInt(n, 10))
	}
	var form url.Values
	var up Uploads
	var err error
	switch mediaType {
	case "application/x-www-form-urlencoded":
		body, rerr := io.ReadAll(http.MaxBytesReader(c.w, c.r.Body, max))
		if rerr != nil {
			if _, ok := errors.AsType[*http.MaxBytesError](rerr); ok {
				return nil, nil, tooLarge(max)
			}
			return nil, nil, keyed(http.StatusBadRequest, "open311.bad_body")
		}
		if form, err = url.ParseQuery(string(body)); err != nil {
			return nil, nil, keyed(http.StatusBadRequest, "open311.bad_body")
		}
	case "multipart/form-data":
		if form, up, err = c.multipartForm(params["boundary"], tooLarge); err != nil {
			return nil, up, err
		}
	default:
		return nil, nil, keyed(http.StatusUnsupportedMediaType, "open311.unsupported_media_type")
	}
	for k, vs := range query {
		form[k] = append(form[k], vs...)
	}
	return form, up, nil
}

// multipartForm streams a multipart body: text fields into the form,
// files into the Uploads.
func (c *call) multipartForm(boundary string, tooLarge func(int64) error) (url.Values, Uploads, error) {
	bad := keyed(http.StatusBadRequest, "open311.bad_body")
	if boundary == "" {
		return nil, nil, bad
	}
	limit := c.h.o.MaxBodyBytes
	if c.h.o.NewUploads != nil {
		limit = c.h.o.MaxUploadBytes
	}
	readErr := func(err error) error {
		if mbe, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return tooLarge(mbe.Limit)
		}
		if _, ok := errors.AsType[*Error](err); ok {
			return err
		}
		return bad
	}
	form := url.Values{}
	var up Uploads
	files := 0
	textLeft := c.h.o.MaxBodyBytes
	mr := multipart.NewReader(http.MaxBytesReader(c.w, c.r.Body, limit), boundary)
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return form, up, nil
		}
		if err != nil {
			return nil, up, readErr(err)
		}
		if p.FileName() != "" {
			if c.h.o.NewUploads == nil {
				return nil, up, keyed(http.StatusBadRequest, "open311.files_not_accepted")
			}
			if files++; files > MaxMediaURLs {
				return nil, up, keyed(http.StatusBadRequest, "open311.too_many_files", "max", strconv.Itoa(MaxMediaURLs))
			}
			if up == nil {
				up = c.h.o.NewUploads(c.r)
			}
			if err := up.Save(c.r.Context(), p.FormName(), p); err != nil {
				return nil, up, readErr(err)
			}
			continue
		}
		v, err := io.ReadAll(io.LimitReader(p, textLeft+1))
		if err != nil {
			return nil, up, readErr(err)
		}
		if textLeft -= int64(len(v)); textLeft < 0 {
			return nil, up, tooLarge(c.h.o.MaxBodyBytes)
		}
		if name := p.FormName(); name != "" {
			form.Add(name, string(v))
		}
	}
}

// fail answers err: an *Error with its status, anything else 500 (logged).
func (c *call) fail(err error) {
	e, ok := errors.AsType[*Error](err)
	if !ok || e.Status < 400 || e.Status > 599 {
		e = keyed(http.StatusInternalServerError, "open311.internal")
	}
	if e.Status >= 500 && c.r.Context().Err() == nil {
		c.h.o.Log.ErrorContext(c.r.Context(), "open311 request failed",
			"method", c.r.Method, "path", c.r.URL.Path, "err", err)
	}
	desc := e.Description
	if desc == "" {
		desc = c.h.o.Messages(c.lang, e.Key, e.Args...)
	}
	code := e.Code
	if code == "" {
		code = strconv.Itoa(e.Status)
	}
	x, j := encodeError(code, desc)
	c.write(e.Status, x, j)
}

// write encodes the answer in the call's format: XML value x or JSON value j.
func (c *call) write(status int, x, j any) {
	var buf bytes.Buffer
	contentType := contentXML
	var err error
	if c.f == formatJSON {
		contentType = contentJSON
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		err = enc.Encode(j)
	} else {
		buf.WriteString(xmlDeclaration)
		enc := xml.NewEncoder(&buf)
		enc.Indent("", "  ")
		if err = enc.Encode(x); err == nil {
			buf.WriteByte('\n')
		}
	}
	if err != nil {
		// Only a programming error gets here (the values are plain
		// strings, numbers and booleans); an error body always encodes.
		if _, isErr := x.(xErrors); !isErr {
			c.fail(fmt.Errorf("open311: encode answer: %w", err))
			return
		}
	}
	hdr := c.w.Header()
	hdr.Set("Content-Type", contentType)
	hdr.Set("Content-Length", strconv.Itoa(buf.Len()))
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Add("Vary", "Accept-Language")
	c.w.WriteHeader(status)
	_, _ = c.w.Write(buf.Bytes())
}

// stream writes a list answer item by item: nothing is sent until the
// first item (or the end), so an early failure is still a proper error
// answer; a failure after that aborts the connection, so that the client
// sees a broken answer, never a short one that looks whole.
type stream struct {
	c          *call
	root, elem string
	n          int
	xenc       *xml.Encoder
	buf        bytes.Buffer
}

func (c *call) stream(root, elem string) *stream {
	return &stream{c: c, root: root, elem: elem}
}

func (st *stream) start() {
	hdr := st.c.w.Header()
	if st.c.f == formatJSON {
		hdr.Set("Content-Type", contentJSON)
	} else {
		hdr.Set("Content-Type", contentXML)
	}
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Add("Vary", "Accept-Language")
	st.c.w.WriteHeader(http.StatusOK)
	if st.c.f == formatJSON {
		_, _ = io.WriteString(st.c.w, "[")
		return
	}
	_, _ = io.WriteString(st.c.w, xmlDeclaration+"<"+st.root+">")
	st.xenc = xml.NewEncoder(st.c.w)
	st.xenc.Indent("  ", "  ")
}

// item writes one element: x in XML, j in JSON.
func (st *stream) item(x, j any) error {
	if st.n == 0 {
		st.start()
	}
	st.n++
	if st.c.f == formatJSON {
		st.buf.Reset()
		enc := json.NewEncoder(&st.buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent("  ", "  ")
		if err := enc.Encode(j); err != nil {
			return err
		}
		sep := ",\n  "
		if st.n == 1 {
			sep = "\n  "
		}
		_, err := io.WriteString(st.c.w, sep+strings.TrimSuffix(st.buf.String(), "\n"))
		return err
	}
	if st.n == 1 {
		_, _ = io.WriteString(st.c.w, "\n")
	}
	if err := st.xenc.EncodeElement(x, xml.StartElement{Name: xml.Name{Local: st.elem}}); err != nil {
		return err
	}
	return st.xenc.Flush()
}

func (st *stream) requests(rs []Request, extensions bool) error {
	x, j := encodeRequests(rs, extensions, st.c.h.o.Location)
	for i := range x.Items {
		if err := st.item(x.Items[i], j[i]); err != nil {
			return err
		}
	}
	return nil
}

// finish ends the list, or answers err.
func (st *stream) finish(err error) {
	if err != nil {
		if st.n == 0 {
			st.c.fail(err)
			return
		}
		st.c.h.o.Log.ErrorContext(st.c.r.Context(), "open311 list failed after its first items",
			"path", st.c.r.URL.Path, "items", st.n, "err", err)
		panic(http.ErrAbortHandler)
	}
	if st.n == 0 {
		st.start()
	}
	switch {
	case st.c.f == formatJSON && st.n == 0:
		_, _ = io.WriteString(st.c.w, "]\n")
	case st.c.f == formatJSON:
		_, _ = io.WriteString(st.c.w, "\n]\n")
	case st.n == 0:
		_, _ = io.WriteString(st.c.w, "</"+st.root+">\n")
	default:
		_, _ = io.WriteString(st.c.w, "\n</"+st.root+">\n")
	}
}
