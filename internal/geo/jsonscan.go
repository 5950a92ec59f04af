package geo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Reading a grid file is mostly reading coordinates. encoding/json would
// scan them several times over (once per nested Unmarshal) and cannot say
// which number of which ring is wrong, so the file is split into features
// with one streaming pass of encoding/json, and coordinates, which by then
// are known to be valid JSON, are read by the small scanner below.

// featureJSON is one element of "features", its members still raw.
type featureJSON struct {
	Type       json.RawMessage `json:"type"`
	Properties json.RawMessage `json:"properties"`
	Geometry   json.RawMessage `json:"geometry"`
}

// readFeatures checks that data is a FeatureCollection and returns its
// features. An element that is not an object comes back empty (and is
// then reported as not a Feature).
func readFeatures(data []byte) ([]featureJSON, error) {
	notJSON := func(err error) error { return fmt.Errorf("%w: %v", ErrNotJSON, err) }
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, notJSON(err)
	}
	if tok != json.Delim('{') {
		if !json.Valid(data) {
			return nil, notJSON(errors.New("invalid JSON"))
		}
		return nil, ErrNotFeatureCollection
	}
	var (
		typ      string
		features []featureJSON
		found    bool
	)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, notJSON(err)
		}
		switch tok {
		case "type":
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return nil, notJSON(err)
			}
			typ, _ = rawString(raw)
		case "features":
			tok, err := dec.Token()
			if err != nil {
				return nil, notJSON(err)
			}
			if tok != json.Delim('[') {
				return nil, ErrNotFeatureCollection
			}
			found, features = true, features[:0]
			for dec.More() {
				var f featureJSON
				if err := dec.Decode(&f); err != nil {
					var te *json.UnmarshalTypeError
					if !errors.As(err, &te) {
						return nil, notJSON(err)
					}
					f = featureJSON{} // not an object: the value was consumed all the same
				}
				features = append(features, f)
			}
			if _, err := dec.Token(); err != nil {
				return nil, notJSON(err)
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, notJSON(err)
			}
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, notJSON(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, notJSON(errors.New("data after the top-level object"))
	}
	if typ != "FeatureCollection" || !found {
		return nil, ErrNotFeatureCollection
	}
	if features == nil {
		features = []featureJSON{}
	}
	return features, nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// skipValue returns the position just after the JSON value starting at
// b[i] (b is valid JSON, i at the value's first byte).
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return i
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '[', '{':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = skipString(b, i)
				continue
			case '[', '{':
				depth++
			case ']', '}':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	}
	for i < len(b) && !isSpace(b[i]) && b[i] != ',' && b[i] != ']' && b[i] != '}' {
		i++
	}
	return i
}

func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return i
}

// geometryMembers returns the raw "type" and "coordinates" members of a
// geometry object; ok is false when raw is not an object.
func geometryMembers(raw []byte) (typ, coords []byte, ok bool) {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return nil, nil, false
	}
	i = skipSpace(raw, i+1)
	for i < len(raw) && raw[i] == '"' {
		kEnd := skipString(raw, i)
		key := raw[i:kEnd]
		i = skipSpace(raw, kEnd)
		i = skipSpace(raw, i+1) // the colon
		vEnd := skipValue(raw, i)
		val := raw[i:vEnd]
		if bytes.IndexByte(key, '\\') >= 0 {
			var k string
			if json.Unmarshal(key, &k) == nil {
				key = []byte(strconv.Quote(k))
			}
		}
		switch string(key) {
		case `"type"`:
			typ = val
		case `"coordinates"`:
			coords = val
		}
		i = skipSpace(raw, vEnd)
		if i < len(raw) && raw[i] == ',' {
			i = skipSpace(raw, i+1)
		}
	}
	return typ, coords, true
}

// coordScanner reads Polygon and MultiPolygon coordinates from valid JSON.
type coordScanner struct {
	b []byte
	i int
}

var (
	errCoordsInvalid = &issue{key: "grid.coordinates_invalid"}
	errNotNumber     = &issue{key: "grid.coordinate_not_number"}
)

// open consumes the '[' of an array, or reports that there is none.
func (s *coordScanner) open() bool {
	s.i = skipSpace(s.b, s.i)
	if s.i < len(s.b) && s.b[s.i] == '[' {
		s.i++
		return true
	}
	return false
}

// next moves past the separator after an element, or the closing ']';
// more is false at the end of the array.
func (s *coordScanner) next(first bool) (more bool) {
	s.i = skipSpace(s.b, s.i)
	if s.i >= len(s.b) {
		return false
	}
	switch s.b[s.i] {
	case ']':
		s.i++
		return false
	case ',':
		if !first {
			s.i++
		}
	}
	return true
}

func (s *coordScanner) multiPolygon() (MultiPolygon, *issue) {
	if !s.open() {
		return nil, errCoordsInvalid
	}
	mp := MultiPolygon{}
	for first := true; s.next(first); first = false {
		pg, bad := s.polygon()
		if bad != nil {
			return nil, bad
		}
		mp = append(mp, pg)
	}
	return mp, nil
}

func (s *coordScanner) polygon() (Polygon, *issue) {
	if !s.open() {
		return nil, errCoordsInvalid
	}
	pg := Polygon{}
	for first := true; s.next(first); first = false {
		r, bad := s.ring()
		if bad != nil {
			return nil, bad
		}
		pg = append(pg, r)
	}
	return pg, nil
}

func (s *coordScanner) ring() (Ring, *issue) {
	if !s.open() {
		return nil, errCoordsInvalid
	}
	r := Ring{}
	for first := true; s.next(first); first = false {
		p, bad := s.position()
		if bad != nil {
			return nil, bad
		}
		r = append(r, p)
	}
	return r, nil
}

// position reads [lon, lat, ...]; members after the second (altitude and
// beyond) are skipped whatever they are.
func (s *coordScanner) position() (Point, *issue) {
	if !s.open() {
		return Point{}, errCoordsInvalid
	}
	var xy [2]float64
	n := 0
	for first := true; s.next(first); first = false {
		start := s.i
		end := skipValue(s.b, start)
		s.i = end
		if n >= 2 {
			n++
			continue
		}
		switch c := s.b[start]; {
		case c == '[' || c == '{':
			return Point{}, errCoordsInvalid
		case c == '-' || (c >= '0' && c <= '9'):
			f, err := strconv.ParseFloat(string(s.b[start:end]), 64)
			if err != nil {
				return Point{}, errNotNumber // beyond float64's range
			}
			xy[n] = f
		default:
			return Point{}, errNotNumber // text, null, true or false
		}
		n++
	}
	if n < 2 {
		return Point{}, errCoordsInvalid
	}
	return Point{Lon: xy[0], Lat: xy[1]}, nil
}
