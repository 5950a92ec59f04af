package geo

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Cell is a grid cell (单元网格) of the unit-grid management method: the
// smallest area a grid worker answers for. The administrative fields hold
// what the file gives, codes or names, as text.
type Cell struct {
	Code      string // grid_code, unique: 网格编码
	Name      string // 网格名称
	Community string // 社区
	Street    string // 街道
	District  string // 区县
	Owner     string // owner_unit: the unit in charge (责任单位)
	Geometry  MultiPolygon
}

// Severity says whether a Problem keeps a cell out (error) or only
// deserves a look (warning). The message keys grid.severity.error and
// grid.severity.warning name them.
type Severity string

const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Problem is something wrong with one feature of a grid file, told as a
// message key and its arguments. Args always start with "index" (the
// feature's 1-based position, for people) and "code" (its grid code, or
// the key grid.no_code when it has none).
type Problem struct {
	Index    int    // 0-based position of the feature in the file
	Code     string // the feature's grid code, "" when unknown
	Key      string
	Args     []string
	Severity Severity
}

// Errors ParseCells returns when it cannot read the file at all.
var (
	ErrTooLarge             = errors.New("geo: grid file too large")
	ErrNotJSON              = errors.New("geo: grid file is not JSON")
	ErrNotFeatureCollection = errors.New("geo: grid file is not a GeoJSON FeatureCollection")
)

// ErrorKey returns the message key for an error of ParseCells (with the
// argument "max_mb" for grid.file_too_large), or "" for other errors.
func ErrorKey(err error) string {
	switch {
	case errors.Is(err, ErrTooLarge):
		return "grid.file_too_large"
	case errors.Is(err, ErrNotJSON):
		return "grid.file_not_json"
	case errors.Is(err, ErrNotFeatureCollection):
		return "grid.file_not_feature_collection"
	}
	return ""
}

// DefaultMaxBytes is the size limit ParseCells applies when given none.
const DefaultMaxBytes = 64 << 20

// ParseCells reads a GeoJSON FeatureCollection of grid cells: Features
// with Polygon or MultiPolygon geometry in WGS-84 [lon, lat] and the
// properties grid_code (or code), name, community, street, district and
// owner_unit, strings or numbers. Other members are ignored, and so are
// altitudes.
//
// It returns the cells without errors, in file order, and the problems
// found, ordered by feature. The error is for a file it cannot read at
// all: larger than maxBytes (DefaultMaxBytes when maxBytes <= 0), not
// JSON, or not a FeatureCollection (see ErrorKey).
//
// Errors: a feature that is not a Feature; missing or other geometry;
// coordinates not arrays of positions or not finite numbers, or outside
// [-180,180]×[-90,90]; a ring with fewer than four positions, open, of no
// area, or crossing or touching itself; a hole not inside its outer ring;
// a grid code missing, or used by an earlier feature. Warnings: a property
// that is not text or a number (it is dropped); two cells whose interiors
// overlap (told on the later one). Holes are not checked against each
// other, nor the parts of a MultiPolygon.
func ParseCells(r io.Reader, maxBytes int64) ([]Cell, []Problem, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	data, err := io.ReadAll(io.LimitReader(r, min(maxBytes, math.MaxInt64-1)+1))
	if err != nil {
		return nil, nil, fmt.Errorf("read grid file: %w", err)
	}
	if int64(len(data)) > maxBytes {
		return nil, nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, maxBytes)
	}
	features, err := readFeatures(data)
	if err != nil {
		return nil, nil, err
	}

	var (
		problems []Problem
		parsed   = make([]Cell, len(features))
		rejected = make([]bool, len(features))
		first    = map[string]int{}
	)
	for i, raw := range features {
		cell, ps := parseFeature(i, raw)
		if cell.Code != "" {
			if j, dup := first[cell.Code]; dup {
				ps = append(ps, newProblem(i, cell.Code, SeverityError, "grid.code_duplicate", "other_index", strconv.Itoa(j+1)))
			} else {
				first[cell.Code] = i
			}
		}
		for _, p := range ps {
			if p.Severity == SeverityError {
				rejected[i] = true
			}
		}
		parsed[i] = cell
		problems = append(problems, ps...)
	}

	var cells []Cell
	var at []int // feature position of each cell
	for i, c := range parsed {
		if !rejected[i] {
			cells = append(cells, c)
			at = append(at, i)
		}
	}
	for _, ov := range overlaps(cells) {
		a, b := cells[ov[0]], cells[ov[1]]
		problems = append(problems, newProblem(at[ov[1]], b.Code, SeverityWarning, "grid.cells_overlap",
			"other", a.Code, "other_index", strconv.Itoa(at[ov[0]]+1)))
	}
	slices.SortStableFunc(problems, func(a, b Problem) int { return a.Index - b.Index })
	return cells, problems, nil
}

func newProblem(i int, code string, sev Severity, key string, args ...string) Problem {
	shown := code
	if shown == "" {
		shown = "grid.no_code"
	}
	return Problem{
		Index: i, Code: code, Key: key, Severity: sev,
		Args: append([]string{"index", strconv.Itoa(i + 1), "code", shown}, args...),
	}
}

// parseFeature reads feature i; the cell is meaningful only when no
// problem is an error.
func parseFeature(i int, f featureJSON) (Cell, []Problem) {
	if s, _ := rawString(f.Type); s != "Feature" {
		return Cell{}, []Problem{newProblem(i, "", SeverityError, "grid.not_feature")}
	}
	props := map[string][]byte{}
	_, isObject := scanObject(f.Properties, 0, func(k string, v []byte) { props[k] = v })
	propsOK := isNull(f.Properties) || isObject

	var c Cell
	var ps []Problem
	codeBad := false
	for _, name := range []string{"grid_code", "code"} {
		v, ok := props[name]
		if !ok || isNull(v) {
			continue
		}
		s, ok := propertyText(v)
		if !ok {
			codeBad = true
			ps = append(ps, newProblem(i, "", SeverityError, "grid.property_type", "property", name))
			break
		}
		if s != "" {
			c.Code = s
			break
		}
	}
	switch {
	case !propsOK:
		ps = append(ps, newProblem(i, "", SeverityError, "grid.properties_invalid"))
	case c.Code == "" && !codeBad:
		ps = append(ps, newProblem(i, "", SeverityError, "grid.code_missing"))
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{
		{"name", &c.Name}, {"community", &c.Community}, {"street", &c.Street},
		{"district", &c.District}, {"owner_unit", &c.Owner},
	} {
		v, ok := props[f.name]
		if !ok {
			continue
		}
		s, ok := propertyText(v)
		if !ok {
			ps = append(ps, newProblem(i, c.Code, SeverityWarning, "grid.property_type", "property", f.name))
			continue
		}
		*f.dst = s
	}

	geom, issues := parseGeometry(f.Geometry)
	for _, is := range issues {
		ps = append(ps, newProblem(i, c.Code, SeverityError, is.key, is.args...))
	}
	c.Geometry = geom
	return c, ps
}

type issue struct {
	key  string
	args []string
}

func oneIssue(key string, args ...string) []issue { return []issue{{key, args}} }

// parseGeometry reads and checks a Polygon or MultiPolygon geometry.
func parseGeometry(raw json.RawMessage) (MultiPolygon, []issue) {
	if isNull(raw) {
		return nil, oneIssue("grid.geometry_missing")
	}
	var rawType, coords []byte
	_, isObject := scanObject(raw, 0, func(k string, v []byte) {
		switch k {
		case "type":
			rawType = v
		case "coordinates":
			coords = v
		}
	})
	if !isObject {
		return nil, oneIssue("grid.geometry_type", "type", shorten(raw))
	}
	typ, ok := rawString(rawType)
	if !ok {
		typ = shorten(rawType)
	}
	var mp MultiPolygon
	var bad *issue
	s := &coordScanner{b: coords}
	switch typ {
	case "Polygon":
		var pg Polygon
		if pg, bad = s.polygon(); bad == nil {
			mp = MultiPolygon{pg}
		}
	case "MultiPolygon":
		mp, bad = s.multiPolygon()
	default:
		return nil, oneIssue("grid.geometry_type", "type", typ)
	}
	if bad != nil {
		return nil, []issue{*bad}
	}
	if len(mp) == 0 {
		return nil, oneIssue("grid.geometry_empty")
	}
	for _, pg := range mp {
		if len(pg) == 0 {
			return nil, oneIssue("grid.geometry_empty")
		}
		for _, r := range pg {
			for _, p := range r {
				if !Valid(p) {
					return nil, oneIssue("grid.coordinate_out_of_range", "lon", fmtCoord(p.Lon), "lat", fmtCoord(p.Lat))
				}
			}
		}
	}
	var issues []issue
	for pi, pg := range mp {
		ringsOK := true
		for ri, r := range pg {
			if key, args := ringProblem(r); key != "" {
				ringsOK = false
				issues = append(issues, issue{key, append([]string{"polygon", strconv.Itoa(pi + 1), "ring", strconv.Itoa(ri + 1)}, args...)})
			}
		}
		if !ringsOK {
			continue
		}
		for ri, h := range pg[1:] {
			if !holeInside(pg[0], h) {
				issues = append(issues, issue{"grid.hole_outside", []string{"polygon", strconv.Itoa(pi + 1), "ring", strconv.Itoa(ri + 2)}})
			}
		}
	}
	return mp, issues
}

// propertyText reads a property value as text: strings (trimmed) and
// numbers (as written) are text, null is "", anything else is not.
func propertyText(v json.RawMessage) (string, bool) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 || isNull(v) {
		return "", true
	}
	switch c := v[0]; {
	case c == '"':
		if inner := v[1 : len(v)-1]; bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
			return strings.TrimSpace(string(inner)), true // the usual case, without escapes
		}
		var s string
		if json.Unmarshal(v, &s) != nil {
			return "", false
		}
		return strings.TrimSpace(s), true
	case c == '-' || (c >= '0' && c <= '9'):
		return string(v), true
	}
	return "", false
}

func rawString(v json.RawMessage) (string, bool) {
	var s string
	if len(v) == 0 || v[0] != '"' || json.Unmarshal(v, &s) != nil {
		return "", false
	}
	return s, true
}

func isNull(v json.RawMessage) bool {
	v = bytes.TrimSpace(v)
	return len(v) == 0 || string(v) == "null"
}

// shorten quotes a bit of raw JSON for a message.
func shorten(v json.RawMessage) string {
	s := strings.Join(strings.Fields(string(v)), " ")
	if r := []rune(s); len(r) > 40 {
		s = string(r[:40]) + "…"
	}
	return s
}

// overlaps returns the pairs (i, j), i < j, of cells whose interiors
// overlap, finding candidates with a box index so that a city of 10,000
// cells costs about 10,000 small tests, not 50 million.
func overlaps(cells []Cell) [][2]int {
	if len(cells) < 2 {
		return nil
	}
	shapes := make([]*shape, len(cells))
	boxes := make([]Rect, len(cells))
	for i, c := range cells {
		shapes[i] = newShape(c.Geometry)
		boxes[i] = shapes[i].box
	}
	ix := newBoxIndex(boxes)
	seen := make([]int, len(cells))
	for i := range seen {
		seen[i] = -1
	}
	var out [][2]int
	for i := range cells {
		var found []int
		ix.candidates(boxes[i], func(j int) {
			if j <= i || seen[j] == i {
				return
			}
			seen[j] = i
			if boxes[i].Intersects(boxes[j]) && interiorsIntersect(shapes[i], shapes[j]) {
				found = append(found, j)
			}
		})
		slices.Sort(found)
		for _, j := range found {
			out = append(out, [2]int{i, j})
		}
	}
	slices.SortFunc(out, func(a, b [2]int) int {
		if a[1] != b[1] {
			return a[1] - b[1]
		}
		return a[0] - b[0]
	})
	return out
}

// WriteCells writes cells as a GeoJSON FeatureCollection, one feature a
// line, that ParseCells reads back to the same cells. A cell with one
// polygon is written as a Polygon, one with none with a null geometry; a
// coordinate that is not finite is an error.
func WriteCells(w io.Writer, cells []Cell) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(`{"type":"FeatureCollection","features":[`)
	var buf []byte
	for i, c := range cells {
		buf = buf[:0]
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, "\n"+`{"type":"Feature","properties":{`...)
		for j, f := range [...]struct{ k, v string }{
			{"grid_code", c.Code}, {"name", c.Name}, {"community", c.Community},
			{"street", c.Street}, {"district", c.District}, {"owner_unit", c.Owner},
		} {
			if j > 0 {
				buf = append(buf, ',')
			}
			buf = appendKeyString(buf, f.k, f.v)
		}
		buf = append(buf, `},"geometry":`...)
		var err error
		if buf, err = appendGeometry(buf, c.Geometry); err != nil {
			return fmt.Errorf("write cell %q: %w", c.Code, err)
		}
		buf = append(buf, '}')
		if _, err := bw.Write(buf); err != nil {
			return err
		}
	}
	bw.WriteString("\n]}\n")
	return bw.Flush()
}

func appendKeyString(buf []byte, k, v string) []byte {
	kb, _ := json.Marshal(k)
	vb, _ := json.Marshal(v)
	buf = append(buf, kb...)
	buf = append(buf, ':')
	return append(buf, vb...)
}

func appendGeometry(buf []byte, m MultiPolygon) ([]byte, error) {
	switch len(m) {
	case 0:
		return append(buf, "null"...), nil
	case 1:
		buf = append(buf, `{"type":"Polygon","coordinates":`...)
	default:
		buf = append(buf, `{"type":"MultiPolygon","coordinates":[`...)
	}
	for i, pg := range m {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, '[')
		for j, r := range pg {
			if j > 0 {
				buf = append(buf, ',')
			}
			buf = append(buf, '[')
			for k, p := range r {
				if math.IsNaN(p.Lon) || math.IsInf(p.Lon, 0) || math.IsNaN(p.Lat) || math.IsInf(p.Lat, 0) {
					return buf, errors.New("coordinate not finite")
				}
				if k > 0 {
					buf = append(buf, ',')
				}
				buf = append(buf, '[')
				buf = appendNumber(buf, p.Lon)
				buf = append(buf, ',')
				buf = appendNumber(buf, p.Lat)
				buf = append(buf, ']')
			}
			buf = append(buf, ']')
		}
		buf = append(buf, ']')
	}
	if len(m) > 1 {
		buf = append(buf, ']')
	}
	return append(buf, '}'), nil
}

// appendNumber writes the shortest decimal that reads back as v.
func appendNumber(buf []byte, v float64) []byte {
	if a := math.Abs(v); a != 0 && a < 1e-6 {
		return strconv.AppendFloat(buf, v, 'e', -1, 64)
	}
	return strconv.AppendFloat(buf, v, 'f', -1, 64)
}
