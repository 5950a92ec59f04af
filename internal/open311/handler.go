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
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	query, queryErr := url.ParseQuery(r.URL.RawQuery)
	c := &call{h: h, w: w, r: r, f: formatXML}
	c.setLanguage(query)

	res, arg, f, known := h.route(r.URL.EscapedPath())
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
		c.create(query)
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
	q, err := parseQuery(form, c.h.o.Now(), c.h.o.Location)
	if err != nil {
		c.fail(err)
		return
	}
	rs, err := c.h.b.Requests(c.r.Context(), c.lang, q)
	if err != nil {
		c.fail(err)
		return
	}
	x, j := encodeRequests(rs, q.Extensions, c.h.o.Location)
	c.write(http.StatusOK, x, j)
}

func (c *call) one(id string, form url.Values) {
	ext, err := boolParam(form, "extensions")
	if err != nil {
		c.fail(err)
		return
	}
	r, err := c.h.b.Request(c.r.Context(), c.lang, id, ext)
	if err != nil {
		c.fail(err)
		return
	}
	x, j := encodeRequests([]Request{r}, ext, c.h.o.Location)
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
	form, err := c.readForm(query)
	if err != nil {
		c.fail(err)
		return
	}
	if form.Get("locale") != "" {
		c.setLanguage(form)
	}
	if err := c.jurisdiction(form); err != nil {
		c.fail(err)
		return
	}
	in, err := ParseNewRequest(form)
	if err != nil {
		c.fail(err)
		return
	}
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

// readForm reads a POST body (form-urlencoded, or multipart without files)
// of at most MaxBodyBytes and appends the query string's parameters.
func (c *call) readForm(query url.Values) (url.Values, error) {
	mediaType, params := "application/x-www-form-urlencoded", map[string]string(nil)
	if ct := c.r.Header.Get("Content-Type"); ct != "" {
		var err error
		if mediaType, params, err = mime.ParseMediaType(ct); err != nil {
			return nil, keyed(http.StatusUnsupportedMediaType, "open311.unsupported_media_type")
		}
	}
	if mediaType != "application/x-www-form-urlencoded" && mediaType != "multipart/form-data" {
		return nil, keyed(http.StatusUnsupportedMediaType, "open311.unsupported_media_type")
	}
	max := c.h.o.MaxBodyBytes
	body, err := io.ReadAll(http.MaxBytesReader(c.w, c.r.Body, max))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, keyed(http.StatusRequestEntityTooLarge, "open311.body_too_large",
				"bytes", strconv.FormatInt(max, 10))
		}
		return nil, keyed(http.StatusBadRequest, "open311.bad_body")
	}
	var form url.Values
	if mediaType == "multipart/form-data" {
		if form, err = multipartForm(body, params["boundary"]); err != nil {
			return nil, err
		}
	} else if form, err = url.ParseQuery(string(body)); err != nil {
		return nil, keyed(http.StatusBadRequest, "open311.bad_body")
	}
	for k, vs := range query {
		form[k] = append(form[k], vs...)
	}
	return form, nil
}

// multipartForm reads the fields of a multipart body held in memory (its
// size is already bounded), refusing file parts.
func multipartForm(body []byte, boundary string) (url.Values, error) {
	bad := keyed(http.StatusBadRequest, "open311.bad_body")
	if boundary == "" {
		return nil, bad
	}
	form := url.Values{}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return form, nil
		}
		if err != nil {
			return nil, bad
		}
		if p.FileName() != "" {
			return nil, keyed(http.StatusBadRequest, "open311.files_not_accepted")
		}
		v, err := io.ReadAll(p)
		if err != nil {
			return nil, bad
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
