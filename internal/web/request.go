package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"chuangwen/internal/apperr"
	"chuangwen/internal/geo"
	"chuangwen/internal/workflow"
)

const maxJSONBytes = 1 << 20

// decodeJSON reads a JSON body into v with a size limit and a clear error.
func decodeJSON(r *http.Request, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxJSONBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return apperr.New(apperr.TooLarge, "body_too_large", "mb", "1")
		}
		return apperr.New(apperr.Invalid, "json.unreadable")
	}
	// encoding/json would quietly turn bytes that are not UTF-8 into
	// U+FFFD; the sender is told instead (a \u0000 escape is caught where
	// the text is stored).
	if !utf8.Valid(body) {
		return apperr.New(apperr.Invalid, "text.bad_bytes")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return apperr.New(apperr.Invalid, "json.trailing")
	}
	return nil
}

// jsonError says in the user's words what is wrong with a JSON body (the
// decoder's own message names Go's types).
func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return apperr.New(apperr.Invalid, "json.empty")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return apperr.New(apperr.Invalid, "json.truncated")
	case errors.As(err, &syn):
		return apperr.New(apperr.Invalid, "json.syntax", "offset", strconv.FormatInt(syn.Offset, 10))
	case errors.As(err, &typ):
		if typ.Field == "" {
			return apperr.New(apperr.Invalid, "json.wrong_body", "want", "json.type."+jsonKind(typ.Type))
		}
		return apperr.New(apperr.Invalid, "json.wrong_type", "field", typ.Field, "want", "json.type."+jsonKind(typ.Type))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return apperr.New(apperr.Invalid, "json.unknown_field", "field", strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`))
	}
	return apperr.New(apperr.Invalid, "json.invalid")
}

// jsonKind names the JSON value a Go type takes.
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "value"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "bool"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Struct, reflect.Map:
		return "object"
	}
	return "value"
}

func isMultipart(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data")
}

// parseDay reads YYYY-MM-DD as the start of that day in the city's zone.
func (s *Server) parseDay(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.ParseInLocation("2006-01-02", v, s.Location)
	if err != nil {
		return time.Time{}, errInvalid("bad_date")
	}
	return t, nil
}

func formInt(r *http.Request, name string) (int64, error) {
	v := strings.TrimSpace(r.FormValue(name))
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, errInvalid("bad_number", "field", name)
	}
	return n, nil
}

// parseDeadline reads an RFC 3339 instant, or a date meaning the close of
// business of that day (18:00 local time by default hours).
func (s *Server) parseDeadline(v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation("2006-01-02T15:04", v, s.Location); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation("2006-01-02", v, s.Location); err == nil {
		return t.Add(18 * time.Hour), nil
	}
	return time.Time{}, errInvalid("bad_date")
}

// period reads from/to (YYYY-MM-DD, to inclusive), defaulting to the
// current quarter.
func (s *Server) period(r *http.Request) (workflow.Period, error) {
	from, err := s.parseDay(r.URL.Query().Get("from"))
	if err != nil {
		return workflow.Period{}, err
	}
	to, err := s.parseDay(r.URL.Query().Get("to"))
	if err != nil {
		return workflow.Period{}, err
	}
	now := time.Now().In(s.Location)
	if from.IsZero() {
		q := (int(now.Month()) - 1) / 3
		from = time.Date(now.Year(), time.Month(q*3+1), 1, 0, 0, 0, 0, s.Location)
	}
	if to.IsZero() {
		to = from.AddDate(0, 3, 0)
	} else {
		to = to.AddDate(0, 0, 1)
	}
	if !to.After(from) {
		return workflow.Period{}, errInvalid("bad_range")
	}
	return workflow.Period{From: from, To: to}, nil
}

// peerIP is the address of the TCP peer.
func peerIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// clientIP is the client's address: the TCP peer, or, behind a trusted
// reverse proxy (TrustProxy, and the peer is loopback or private), the
// address the proxy put in the one header the operator named
// (ProxyHeader, X-Forwarded-For unless set): of X-Forwarded-For only the
// last hop, the one the proxy appended, since a client may send the
// header with any addresses in it, and a proxy may add its hop as a line
// of its own. No other header is read: a client-sent X-Real-IP must not
// outrank the proxy's X-Forwarded-For.
func (s *Server) clientIP(r *http.Request) string {
	peer := peerIP(r)
	if !s.TrustProxy {
		return peer
	}
	if ip := net.ParseIP(peer); ip == nil || !(ip.IsLoopback() || ip.IsPrivate()) {
		return peer
	}
	name := s.ProxyHeader
	if name == "" {
		name = DefaultProxyHeader
	}
	lines := r.Header.Values(name)
	if len(lines) == 0 {
		return peer
	}
	last := lines[len(lines)-1]
	if i := strings.LastIndexByte(last, ','); i >= 0 {
		last = last[i+1:]
	}
	if v := strings.TrimSpace(last); net.ParseIP(v) != nil {
		return v
	}
	return peer
}

// DefaultProxyHeader is the header a trusted proxy's client address is
// read from unless ProxyHeader names another.
const DefaultProxyHeader = "X-Forwarded-For"

// limitKey is the rate-limit bucket of an address: IPv4 as is, IPv6 by
// its /64 (one household or phone gets a whole /64).
func limitKey(addr string) string {
	ip := net.ParseIP(addr)
	if ip == nil || ip.To4() != nil {
		return addr
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// parseBBox reads "minLon,minLat,maxLon,maxLat" (WGS-84).
func parseBBox(v string) (geo.Rect, error) {
	parts := strings.Split(v, ",")
	bad := apperr.New(apperr.Invalid, "bad_bbox")
	if len(parts) != 4 {
		return geo.Rect{}, bad
	}
	var f [4]float64
	for i, p := range parts {
		x, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return geo.Rect{}, bad
		}
		f[i] = x
	}
	box := geo.Rect{Min: geo.Point{Lon: f[0], Lat: f[1]}, Max: geo.Point{Lon: f[2], Lat: f[3]}}
	if !geo.Valid(box.Min) || !geo.Valid(box.Max) || box.Min.Lon > box.Max.Lon || box.Min.Lat > box.Max.Lat {
		return geo.Rect{}, bad
	}
	return box, nil
}

// queryPoint reads the required lat, lon and coord query parameters.
func queryPoint(r *http.Request) (*float64, *float64, error) {
	q := r.URL.Query()
	lat, lon, err := readPoint(q.Get("lat"), q.Get("lon"), q.Get("coord"))
	if err == nil && lat == nil {
		err = apperr.New(apperr.Invalid, "case.location_required")
	}
	return lat, lon, err
}

// readPoint reads lat/lon in the datum named by coord (default WGS-84)
// and returns WGS-84.
func readPoint(latS, lonS, coord string) (*float64, *float64, error) {
	latS, lonS = strings.TrimSpace(latS), strings.TrimSpace(lonS)
	if latS == "" && lonS == "" {
		return nil, nil, nil
	}
	bad := apperr.New(apperr.Invalid, "case.bad_location")
	lat, err1 := strconv.ParseFloat(latS, 64)
	lon, err2 := strconv.ParseFloat(lonS, 64)
	if err1 != nil || err2 != nil {
		return nil, nil, bad
	}
	d, err := geo.ParseDatum(coord)
	if err != nil {
		return nil, nil, apperr.New(apperr.Invalid, "bad_coord")
	}
	p := geo.Point{Lon: lon, Lat: lat}
	if !geo.Valid(p) {
		return nil, nil, bad
	}
	w := geo.ToWGS84(p, d)
	return &w.Lat, &w.Lon, nil
}

func idempotencyKey(r *http.Request) string {
	if k := strings.TrimSpace(r.Header.Get("Idempotency-Key")); k != "" {
		return k
	}
	return strings.TrimSpace(r.FormValue("idempotency_key"))
}

// wantsHTML reports whether a browser posted a plain form (no script):
// it asks for HTML first, where fetch and XHR ask for JSON or anything.
func wantsHTML(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("Accept"), "text/html")
}

// parseForm parses a urlencoded or multipart body under the upload limit,
// so an oversized upload is refused with 413 before it fills memory or
// disk.
func (s *Server) parseForm(r *http.Request) error {
	if r.MultipartForm != nil || r.PostForm != nil {
		return nil
	}
	r.Body = http.MaxBytesReader(nil, r.Body, s.MaxUploadBytes)
	var err error
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		err = r.ParseMultipartForm(8 << 20)
	} else {
		err = r.ParseForm()
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return apperr.New(apperr.TooLarge, "body_too_large", "mb", itoa(mbe.Limit>>20))
	}
	if err != nil {
		return apperr.New(apperr.Invalid, "bad_form")
	}
	return nil
}

func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, apperr.New(apperr.NotFound, "not_found")
	}
	return id, nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
