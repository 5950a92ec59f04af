package geo

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Reading a grid file is mostly reading coordinates. encoding/json would
// scan them once per nested Unmarshal and cannot say which number of which
// ring is wrong, so the file is checked once with json.Valid and then
// walked by the small scanner below, which may assume valid JSON.

// featureJSON is one element of "features", its members still raw.
type featureJSON struct {
	Type, Properties, Geometry []byte
}

// readFeatures checks that data is a FeatureCollection and returns its
// features. An element that is not an object comes back empty (and is
// then reported as not a Feature).
func readFeatures(data []byte) ([]featureJSON, error) {
	if !json.Valid(data) {
		err := json.Unmarshal(data, new(json.RawMessage)) // to say where
		return nil, fmt.Errorf("%w: %v", ErrNotJSON, err)
	}
	var typ, list []byte
	_, isObject := scanObject(data, 0, func(k string, v []byte) {
		switch k {
		case "type":
			typ = v
		case "features":
			list = v
		}
	})
	if s, _ := rawString(typ); !isObject || s != "FeatureCollection" {
		return nil, ErrNotFeatureCollection
	}
	i := skipSpace(list, 0)
	if i >= len(list) || list[i] != '[' {
		return nil, ErrNotFeatureCollection
	}
	features := []featureJSON{}
	for i = skipSpace(list, i+1); i < len(list) && list[i] != ']'; {
		var f featureJSON
		end, isObject := scanObject(list, i, func(k string, v []byte) {
			switch k {
			case "type":
				f.Type = v
			case "properties":
				f.Properties = v
			case "geometry":
				f.Geometry = v
			}
		})
		if !isObject {
			end = skipValue(list, i)
		}
		features = append(features, f)
		if i = skipSpace(list, end); i < len(list) && list[i] == ',' {
			i = skipSpace(list, i+1)
		}
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

// scanObject calls fn with each member of the JSON object starting at
// raw[i] (raw is valid JSON): the key unquoted, the value raw. It returns
// the position after the object, or ok false when there is no object at
// i. Like encoding/json, a repeated key's last value wins when fn stores
// by key.
func scanObject(raw []byte, i int, fn func(key string, val []byte)) (end int, ok bool) {
	i = skipSpace(raw, i)
	if i >= len(raw) || raw[i] != '{' {
		return i, false
	}
	i = skipSpace(raw, i+1)
	for i < len(raw) && raw[i] == '"' {
		kEnd := skipString(raw, i)
		key := string(raw[i+1 : kEnd-1])
		if strings.IndexByte(key, '\\') >= 0 {
			_ = json.Unmarshal(raw[i:kEnd], &key)
		}
		i = skipSpace(raw, kEnd)
		i = skipSpace(raw, i+1) // the colon
		vEnd := skipValue(raw, i)
		fn(key, raw[i:vEnd])
		i = skipSpace(raw, vEnd)
		if i < len(raw) && raw[i] == ',' {
			i = skipSpace(raw, i+1)
		}
	}
	return i + 1, true // past the closing brace
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
			s.i = skipSpace(s.b, s.i+1)
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
