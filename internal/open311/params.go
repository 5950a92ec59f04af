package open311

import (
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// single returns the one value of a single-valued parameter, trimmed; ""
// when absent or empty. Two values are an error even if one is empty: the
// client sent something we would have to guess about.
func single(form url.Values, name string) (string, error) {
	vs := form[name]
	switch len(vs) {
	case 0:
		return "", nil
	case 1:
	default:
		return "", keyed(http.StatusBadRequest, "open311.duplicate_param", "param", name)
	}
	v := strings.TrimSpace(vs[0])
	if !validText(v) {
		return "", keyed(http.StatusBadRequest, "open311.bad_text", "param", name)
	}
	return v, nil
}

// validText reports whether s is UTF-8 without control characters other
// than tab, line feed and carriage return: what XML 1.0 can carry and what
// a person could have typed.
func validText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' {
			return false
		}
	}
	return true
}

// list gathers a comma-list parameter that may also be repeated, trimmed,
// without empties or repeats, in first-seen order. It is linear in the
// list's length: FixMyStreet sends every open report of a body at once.
// MaxServiceCodes is the most service codes one requests query names.
const MaxServiceCodes = 500

func list(form url.Values, name string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, v := range form[name] {
		for item := range strings.SplitSeq(v, ",") {
			item = strings.TrimSpace(item)
			if item == "" || seen[item] {
				continue
			}
			if !validText(item) {
				return nil, keyed(http.StatusBadRequest, "open311.bad_text", "param", name)
			}
			seen[item] = true
			out = append(out, item)
		}
	}
	return out, nil
}

// lineBreaks turns each CR LF pair and each lone CR into one LF, so that a
// break counts as one character whatever the client's platform.
func lineBreaks(s string) string {
	if !strings.ContainsRune(s, '\r') {
		return s
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}

// description reads a description: line breaks made LF, at most
// MaxDescription characters.
func description(form url.Values) (string, error) {
	d, err := single(form, "description")
	if err != nil {
		return "", err
	}
	d = lineBreaks(d)
	if utf8.RuneCountInString(d) > MaxDescription {
		return "", keyed(http.StatusBadRequest, "open311.too_long",
			"param", "description", "max", strconv.Itoa(MaxDescription))
	}
	return d, nil
}

// mediaURLs reads media_url, which may be repeated (FixMyStreet's
// multi-photo option sends one per photo): http(s) links only, at most
// MaxMediaURLs, repeats dropped.
func mediaURLs(form url.Values) ([]string, error) {
	var out []string
	for _, v := range form["media_url"] {
		v = strings.TrimSpace(v)
		if v == "" || slices.Contains(out, v) {
			continue
		}
		if !validText(v) || !webURL(v) {
			return nil, keyed(http.StatusBadRequest, "open311.bad_media_url")
		}
		out = append(out, v)
	}
	if len(out) > MaxMediaURLs {
		return nil, keyed(http.StatusBadRequest, "open311.too_many_media", "max", strconv.Itoa(MaxMediaURLs))
	}
	return out, nil
}

// ParseNewRequest reads the form of a POST requests.{fmt}. It returns an
// *Error: 403 without api_key, 400 for anything malformed. It does not
// check the api_key's validity, the service code's existence or the
// service's required attributes: those are the Backend's. Checks run in a
// fixed order and the first failure is returned.
func ParseNewRequest(form url.Values) (NewRequest, error) {
	var in NewRequest
	var err error
	if in.APIKey, err = single(form, "api_key"); err != nil {
		return NewRequest{}, err
	}
	if in.APIKey == "" {
		return NewRequest{}, keyed(http.StatusForbidden, "open311.api_key_missing")
	}
	if in.JurisdictionID, err = single(form, "jurisdiction_id"); err != nil {
		return NewRequest{}, err
	}
	if in.ServiceCode, err = single(form, "service_code"); err != nil {
		return NewRequest{}, err
	}
	if in.ServiceCode == "" {
		return NewRequest{}, keyed(http.StatusBadRequest, "open311.missing_param", "param", "service_code")
	}
	if in.Lat, err = coordinate(form, "lat", 90); err != nil {
		return NewRequest{}, err
	}
	if in.Long, err = coordinate(form, "long", 180); err != nil {
		return NewRequest{}, err
	}
	if (in.Lat == nil) != (in.Long == nil) {
		return NewRequest{}, keyed(http.StatusBadRequest, "open311.lat_long_pair")
	}
	coord, err := single(form, "coord")
	if err != nil {
		return NewRequest{}, err
	}
	switch coord = strings.ToLower(coord); coord {
	case "", "wgs84", "gcj02", "bd09":
		in.Coord = coord
	default:
		return NewRequest{}, keyed(http.StatusBadRequest, "open311.bad_coord", "value", coord)
	}
	if in.AddressString, err = single(form, "address_string"); err != nil {
		return NewRequest{}, err
	}
	if in.AddressID, err = single(form, "address_id"); err != nil {
		return NewRequest{}, err
	}
	if in.Lat == nil && in.AddressString == "" && in.AddressID == "" {
		return NewRequest{}, keyed(http.StatusBadRequest, "open311.location_missing")
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{
		{"email", &in.Email}, {"device_id", &in.DeviceID}, {"account_id", &in.AccountID},
		{"first_name", &in.FirstName}, {"last_name", &in.LastName}, {"phone", &in.Phone},
	} {
		if *f.dst, err = single(form, f.name); err != nil {
			return NewRequest{}, err
		}
	}
	if in.Description, err = description(form); err != nil {
		return NewRequest{}, err
	}
	if in.MediaURLs, err = mediaURLs(form); err != nil {
		return NewRequest{}, err
	}
	if in.Attributes, err = attributes(form); err != nil {
		return NewRequest{}, err
	}
	return in, nil
}

// coordinate parses lat or long: a plain decimal number (no hexadecimal,
// infinities or NaN, which strconv would accept) within ±limit.
func coordinate(form url.Values, name string, limit float64) (*float64, error) {
	s, err := single(form, name)
	if err != nil || s == "" {
		return nil, err
	}
	bad := keyed(http.StatusBadRequest, "open311.bad_number", "param", name)
	if strings.Trim(s, "0123456789.+-eE") != "" {
		return nil, bad
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return nil, bad
	}
	if v < -limit || v > limit {
		lim := strconv.FormatFloat(limit, 'f', -1, 64)
		return nil, keyed(http.StatusBadRequest, "open311.out_of_range", "param", name, "min", "-"+lim, "max", lim)
	}
	return &v, nil
}

func webURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// attributes reads attribute[CODE]=v and attribute[CODE][]=v1&... into a
// map of non-empty value lists; nil when there are none.
func attributes(form url.Values) (map[string][]string, error) {
	keys := make([]string, 0)
	for k := range form {
		if strings.HasPrefix(k, "attribute[") {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys) // deterministic: the same form always fails the same way
	var out map[string][]string
	for _, k := range keys {
		rest := k[len("attribute["):]
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return nil, keyed(http.StatusBadRequest, "open311.bad_attribute", "param", k)
		}
		// The code as sent, spaces around it aside (attribute[ x] is x).
		code, tail := strings.TrimSpace(rest[:end]), rest[end+1:]
		if code == "" || strings.ContainsRune(code, '[') || !validText(code) ||
			(tail != "" && tail != "[]") {
			return nil, keyed(http.StatusBadRequest, "open311.bad_attribute", "param", k)
		}
		var vals []string
		if tail == "" {
			v, err := single(form, k)
			if err != nil {
				return nil, err
			}
			if v != "" {
				vals = []string{v}
			}
		} else {
			for _, v := range form[k] {
				v = strings.TrimSpace(v)
				if v == "" {
					continue
				}
				if !validText(v) {
					return nil, keyed(http.StatusBadRequest, "open311.bad_text", "param", k)
				}
				vals = append(vals, v)
			}
		}
		if len(vals) == 0 {
			continue
		}
		// A code can reach here twice only as attribute[X] and
		// attribute[X][] together.
		if _, seen := out[code]; seen {
			return nil, keyed(http.StatusBadRequest, "open311.attribute_conflict", "code", code)
		}
		if out == nil {
			out = map[string][]string{}
		}
		out[code] = vals
	}
	return out, nil
}

// parseView reads extensions and extended_statuses; extended is the
// server's default for the latter.
func parseView(form url.Values, extended bool) (View, error) {
	var v View
	var err error
	if v.Extensions, err = boolParam(form, "extensions"); err != nil {
		return View{}, err
	}
	s, err := single(form, "extended_statuses")
	if err != nil {
		return View{}, err
	}
	v.ExtendedStatuses = extended
	if s != "" {
		if v.ExtendedStatuses, err = boolParam(form, "extended_statuses"); err != nil {
			return View{}, err
		}
	}
	return v, nil
}

// parseQuery reads GET requests.{fmt} parameters.
func parseQuery(form url.Values, now time.Time, loc *time.Location, extended bool) (Query, error) {
	var q Query
	var err error
	if q.View, err = parseView(form, extended); err != nil {
		return Query{}, err
	}
	if q.IDs, err = list(form, "service_request_id"); err != nil {
		return Query{}, err
	}
	if len(q.IDs) > 0 {
		// The specification: service_request_id "overrides all other
		// arguments", so the others are neither applied nor checked.
		// The list has no length limit (the body's or URL's size bounds
		// it); the handler answers it IDChunk at a time.
		return q, nil
	}
	if q.ServiceCodes, err = list(form, "service_code"); err != nil {
		return Query{}, err
	}
	if len(q.ServiceCodes) > MaxServiceCodes {
		// (a city has a few dozen services; the database binds each code)
		return Query{}, keyed(http.StatusBadRequest, "open311.too_many_values", "param", "service_code", "max", strconv.Itoa(MaxServiceCodes))
	}
	statuses, err := list(form, "status")
	if err != nil {
		return Query{}, err
	}
	for _, s := range statuses {
		switch s = strings.ToLower(s); s {
		case "open", "closed":
			if !slices.Contains(q.Status, s) {
				q.Status = append(q.Status, s)
			}
		default:
			return Query{}, keyed(http.StatusBadRequest, "open311.bad_status", "value", s)
		}
	}
	slices.Sort(q.Status)
	var dates [4]time.Time
	for i, name := range []string{"start_date", "end_date", "updated_after", "updated_before"} {
		if dates[i], err = dateParam(form, name, loc, i%2 == 1); err != nil {
			return Query{}, err
		}
	}
	q.Start, q.End, q.UpdatedAfter, q.UpdatedBefore = dates[0], dates[1], dates[2], dates[3]
	if q.Start, q.End, err = window(q.Start, q.End, now, q.UpdatedAfter.IsZero() && q.UpdatedBefore.IsZero()); err != nil {
		return Query{}, err
	}
	if !q.UpdatedAfter.IsZero() && !q.UpdatedBefore.IsZero() && q.UpdatedBefore.Before(q.UpdatedAfter) {
		return Query{}, keyed(http.StatusBadRequest, "open311.date_order", "start", "updated_after", "end", "updated_before")
	}
	if q.Page, err = intParam(form, "page", 1, MaxPage, "open311.bad_page"); err != nil {
		return Query{}, err
	}
	if q.PageSize, err = intParam(form, "page_size", DefaultPageSize, MaxPageSize, "open311.bad_page_size"); err != nil {
		return Query{}, err
	}
	return q, nil
}

// window completes and checks a start_date/end_date pair: at most MaxSpan
// apart; one alone extends MaxSpan from it; neither is the last MaxSpan
// before now when byDefault.
func window(start, end, now time.Time, byDefault bool) (time.Time, time.Time, error) {
	switch {
	case !start.IsZero() && !end.IsZero():
		if end.Before(start) {
			return start, end, keyed(http.StatusBadRequest, "open311.date_order", "start", "start_date", "end", "end_date")
		}
		if end.Sub(start) > MaxSpan {
			return start, end, keyed(http.StatusBadRequest, "open311.date_span", "days", strconv.Itoa(int(MaxSpan/(24*time.Hour))))
		}
	case !start.IsZero():
		end = start.Add(MaxSpan)
	case !end.IsZero():
		start = end.Add(-MaxSpan)
	case byDefault:
		end, start = now, now.Add(-MaxSpan)
	}
	return start, end, nil
}

// parseUpdateQuery reads GET servicerequestupdates.{fmt} parameters: the
// window's rules are those of requests.
func parseUpdateQuery(form url.Values, now time.Time, loc *time.Location) (UpdateQuery, error) {
	start, err := dateParam(form, "start_date", loc, false)
	if err != nil {
		return UpdateQuery{}, err
	}
	end, err := dateParam(form, "end_date", loc, true)
	if err != nil {
		return UpdateQuery{}, err
	}
	start, end, err = window(start, end, now, true)
	return UpdateQuery{Start: start, End: end}, err
}

// ParseNewUpdate reads the form of a POST servicerequestupdates.{fmt}:
// 403 without api_key; 400 without service_request_id or update_id, with
// neither a description nor media, or for malformed values.
func ParseNewUpdate(form url.Values, loc *time.Location) (NewUpdate, error) {
	var in NewUpdate
	var err error
	if in.APIKey, err = single(form, "api_key"); err != nil {
		return NewUpdate{}, err
	}
	if in.APIKey == "" {
		return NewUpdate{}, keyed(http.StatusForbidden, "open311.api_key_missing")
	}
	for _, f := range []struct {
		name     string
		dst      *string
		required bool
	}{
		{"jurisdiction_id", &in.JurisdictionID, false},
		{"service_request_id", &in.RequestID, true}, {"update_id", &in.UpdateID, true},
		{"status", &in.Status, false}, {"first_name", &in.FirstName, false}, {"last_name", &in.LastName, false},
		{"email", &in.Email, false}, {"phone", &in.Phone, false}, {"account_id", &in.AccountID, false},
		{"service_code", &in.ServiceCode, false},
	} {
		if *f.dst, err = single(form, f.name); err != nil {
			return NewUpdate{}, err
		}
		if f.required && *f.dst == "" {
			return NewUpdate{}, keyed(http.StatusBadRequest, "open311.missing_param", "param", f.name)
		}
	}
	if len(in.UpdateID) > 100 {
		return NewUpdate{}, keyed(http.StatusBadRequest, "open311.too_long", "param", "update_id", "max", "100")
	}
	sent := in.Status
	in.Status = strings.ToUpper(strings.ReplaceAll(in.Status, " ", "_"))
	if len(in.Status) > 40 || strings.Trim(in.Status, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") != "" {
		return NewUpdate{}, keyed(http.StatusBadRequest, "open311.bad_update_status", "value", sent)
	}
	if in.At, err = dateParam(form, "updated_datetime", loc, false); err != nil {
		return NewUpdate{}, err
	}
	if in.Description, err = description(form); err != nil {
		return NewUpdate{}, err
	}
	if in.MediaURLs, err = mediaURLs(form); err != nil {
		return NewUpdate{}, err
	}
	if in.Attributes, err = attributes(form); err != nil {
		return NewUpdate{}, err
	}
	return in, nil
}

func boolParam(form url.Values, name string) (bool, error) {
	s, err := single(form, name)
	if err != nil {
		return false, err
	}
	switch strings.ToLower(s) {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	}
	return false, keyed(http.StatusBadRequest, "open311.bad_bool", "param", name)
}

func intParam(form url.Values, name string, def, max int, key string) (int, error) {
	s, err := single(form, name)
	if err != nil || s == "" {
		return def, err
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > max {
		return 0, keyed(http.StatusBadRequest, key, "max", strconv.Itoa(max))
	}
	return n, nil
}

// dateParam parses a W3C-DTF date or date-time. A date alone is the start
// of that day in loc, or its last instant when endOfDay (an inclusive upper
// bound covers the whole day). A time must carry its zone.
func dateParam(form url.Values, name string, loc *time.Location, endOfDay bool) (time.Time, error) {
	s, err := single(form, name)
	if err != nil || s == "" {
		return time.Time{}, err
	}
	if t, err := time.ParseInLocation(time.DateOnly, s, loc); err == nil {
		if endOfDay {
			t = t.AddDate(0, 0, 1).Add(-time.Nanosecond)
		}
		return t, nil
	}
	// An unencoded "+" in a query string arrives as a space.
	if i := strings.LastIndexByte(s, ' '); i > len(time.DateOnly) && strings.Count(s, " ") == 1 {
		s = s[:i] + "+" + s[i+1:]
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, keyed(http.StatusBadRequest, "open311.bad_date", "param", name)
}
