package assess

import (
	"sort"
	"strconv"
	"strings"
)

// Problem is one thing wrong with an imported file, told as a message key
// and its arguments (like apperr.Error) so that the console can show it in
// the user's language through the catalogue, and placed: by YAML path and
// line in a YAML file, by row and column in a table (CSV, or a sheet of
// an XLSX workbook).
//
// Args always start with "path" and "line" (the same as Path and Line;
// line "0" when unknown), then the arguments of the key listed in
// ProblemKeys.
type Problem struct {
	Path string // e.g. projects[0].contents[1].standards[2].points; "" for the file as a whole
	Line int    // 1-based line in the file (in a table: the row, the header being row 1), 0 when unknown
	Key  string // e.g. "assess.dup_code"
	Args []string

	// Table is set for a problem in a table: Line is then the row as a
	// spreadsheet numbers it (the header row is 1; a CSV record spanning
	// several lines is one row), Column the column ("unit" in a CSV file,
	// "H (lead_unit)" in a sheet; "" for the row as a whole) and Sheet the
	// sheet's name in a workbook. A tree read from a sheet keeps the YAML
	// path of the same place in Path.
	Table  bool
	Sheet  string
	Column string
}

// Place tells where the problem is, in English: "projects[0].points (line
// 7)", "row 12, column unit", "sheet 测评体系, row 7, column I (points)".
func (p Problem) Place() string {
	if p.Table {
		var parts []string
		if p.Sheet != "" {
			parts = append(parts, "sheet "+p.Sheet)
		}
		if p.Line > 0 {
			parts = append(parts, "row "+strconv.Itoa(p.Line))
		}
		if p.Column != "" {
			parts = append(parts, "column "+p.Column)
		}
		return strings.Join(parts, ", ")
	}
	switch {
	case p.Path != "" && p.Line > 0:
		return p.Path + " (line " + strconv.Itoa(p.Line) + ")"
	case p.Path != "":
		return p.Path
	case p.Line > 0:
		return "line " + strconv.Itoa(p.Line)
	}
	return ""
}

// Arg returns the argument called name, "" when absent.
func (p Problem) Arg(name string) string {
	for i := 0; i+1 < len(p.Args); i += 2 {
		if p.Args[i] == name {
			return p.Args[i+1]
		}
	}
	return ""
}

// Error tells the problem in English, for the command line:
// "projects[0].points (line 7): ...", "row 12, column unit: ...".
func (p Problem) Error() string {
	var b strings.Builder
	if place := p.Place(); place != "" {
		b.WriteString(place + ": ")
	}
	msg, ok := problemText[p.Key]
	if !ok {
		b.WriteString(p.Key)
		for i := 0; i+1 < len(p.Args); i += 2 {
			b.WriteString(" " + p.Args[i] + "=" + p.Args[i+1])
		}
		return b.String()
	}
	pairs := make([]string, 0, len(p.Args))
	for i := 0; i+1 < len(p.Args); i += 2 {
		pairs = append(pairs, "{"+p.Args[i]+"}", p.Args[i+1])
	}
	b.WriteString(strings.NewReplacer(pairs...).Replace(msg))
	return b.String()
}

// problemText is the English text of every problem key; {name} is replaced
// by the argument of that name. The console's catalogue needs the same
// keys (ProblemKeys) in each of its languages.
var problemText = map[string]string{
	"assess.read":                 "the file cannot be read: {detail}",
	"assess.syntax":               "the file is not valid YAML: {detail}",
	"assess.empty_file":           "the file is empty",
	"assess.multiple_documents":   "the file holds more than one YAML document",
	"assess.alias":                "YAML anchors and aliases are not accepted; write the value out",
	"assess.want_mapping":         "expected a mapping of field names to values",
	"assess.want_list":            "expected a list",
	"assess.want_scalar":          "expected a single value, not a list or mapping",
	"assess.unknown_field":        "unknown field {field}",
	"assess.dup_key":              "field {field} is given twice (first on line {first_line})",
	"assess.missing":              "{field} is missing",
	"assess.empty_list":           "{field} lists nothing",
	"assess.bad_code":             "code {code} contains a space or control character",
	"assess.dup_code":             "code {code} is already used at {first}",
	"assess.bad_number":           "{field} {value} is not a decimal number (like 4 or 0.5)",
	"assess.negative":             "{field} {value} is negative",
	"assess.points_sum":           "points {points} differ from the sum of the children's points, {sum}",
	"assess.per_problem_missing":  "a deduct standard needs per_problem",
	"assess.per_problem_not_used": "per_problem is only for deduct standards, not rule {rule}",
	"assess.per_problem_zero":     "per_problem must be more than 0",
	"assess.unknown_method":       "unknown method {method} (field, call, document or survey)",
	"assess.unknown_rule":         "unknown rule {rule} (pass_rate, deduct, survey or graded)",
	"assess.rule_method":          "rule {rule} does not fit method {method} (survey needs survey, graded needs document, pass_rate and deduct need field or call)",
	"assess.site_types_missing":   "a {method} standard needs site_types",
	"assess.site_types_not_used":  "a {method} standard is checked at no site and takes no site_types",
	"assess.site_type_unlisted":   "site type {type} is not in the edition's site_types",
	"assess.dup_site_type":        "site type {type} is listed twice",
	"assess.unknown_unit":         "unknown unit code {unit}",
	"assess.dup_unit":             "unit {unit} is named twice for this entry",

	// Tables: CSV files and XLSX sheets.
	"assess.csv_syntax":        "the CSV text cannot be read: {detail}",
	"assess.xlsx_read":         "the file is not a readable XLSX workbook: {detail}",
	"assess.not_utf8":          "the text is not UTF-8 (save the file as “CSV UTF-8”)",
	"assess.no_rows":           "the file has no rows under its header",
	"assess.no_header":         "no header row (the row whose first cell is {column})",
	"assess.header_missing":    "the header has no column {column}",
	"assess.unknown_column":    "unknown column {column}",
	"assess.dup_column":        "column {column} appears twice in the header",
	"assess.field_count":       "the row has {count} fields, the header {want}",
	"assess.dup_row":           "{key} is already on row {first_row}",
	"assess.too_long":          "{field} is longer than {max} characters",
	"assess.more_problems":     "{count} more problems are not listed",
	"assess.sheet_differs":     "{field} {value} differs from row {first_row}, which gives {first}",
	"assess.unknown_region":    "unknown region code {region}",
	"assess.city_region":       "region {region} is the whole city: give a district, street or community",
	"assess.unknown_site_type": "unknown site type {type} (site types come with an imported edition)",
	"assess.coordinates":       "lat {lat} and lon {lon} are not a WGS-84 point (both or neither; latitude −90 to 90, longitude −180 to 180)",
	"assess.unlocated":         "no grid cell places the point {lat}, {lon}: give the region",
	"assess.no_place":          "give a region code, or lat and lon",
	"assess.unknown_site":      "unknown site code {site}",
	"assess.not_sampled":       "site {site} is not in the round's sample",
	"assess.unknown_standard":  "the round's edition has no standard or negative-list item {standard}",
	"assess.not_observed":      "standard {standard} ({rule}) takes values per region, not observations",
	"assess.type_excluded":     "standard {standard} does not apply to sites of type {type}",
	"assess.bad_result":        "result {value} is not pass, fail or na",
	"assess.bad_problems":      "problems {value} is not a whole number ≥ 0",
	"assess.not_district":      "region {region} is not a district (leave it empty for the whole city)",
	"assess.not_valued":        "standard {standard} ({rule}) is scored from observations, not values",
	"assess.value_range":       "value {value} is outside 0 to {max}",
}

// problemArgs lists the arguments of each key after "path" and "line".
var problemArgs = map[string][]string{
	"assess.read":                 {"detail"},
	"assess.syntax":               {"detail"},
	"assess.empty_file":           nil,
	"assess.multiple_documents":   nil,
	"assess.alias":                nil,
	"assess.want_mapping":         nil,
	"assess.want_list":            nil,
	"assess.want_scalar":          nil,
	"assess.unknown_field":        {"field"},
	"assess.dup_key":              {"field", "first_line"},
	"assess.missing":              {"field"},
	"assess.empty_list":           {"field"},
	"assess.bad_code":             {"code"},
	"assess.dup_code":             {"code", "first"},
	"assess.bad_number":           {"field", "value"},
	"assess.negative":             {"field", "value"},
	"assess.points_sum":           {"points", "sum"},
	"assess.per_problem_missing":  nil,
	"assess.per_problem_not_used": {"rule"},
	"assess.per_problem_zero":     nil,
	"assess.unknown_method":       {"method"},
	"assess.unknown_rule":         {"rule"},
	"assess.rule_method":          {"rule", "method"},
	"assess.site_types_missing":   {"method"},
	"assess.site_types_not_used":  {"method"},
	"assess.site_type_unlisted":   {"type"},
	"assess.dup_site_type":        {"type"},
	"assess.unknown_unit":         {"unit"},
	"assess.dup_unit":             {"unit"},

	"assess.csv_syntax":        {"detail"},
	"assess.xlsx_read":         {"detail"},
	"assess.not_utf8":          nil,
	"assess.no_rows":           nil,
	"assess.no_header":         {"column"},
	"assess.header_missing":    {"column"},
	"assess.unknown_column":    {"column"},
	"assess.dup_column":        {"column"},
	"assess.field_count":       {"count", "want"},
	"assess.dup_row":           {"key", "first_row"},
	"assess.too_long":          {"field", "max"},
	"assess.more_problems":     {"count"},
	"assess.sheet_differs":     {"field", "value", "first_row", "first"},
	"assess.unknown_region":    {"region"},
	"assess.city_region":       {"region"},
	"assess.unknown_site_type": {"type"},
	"assess.coordinates":       {"lat", "lon"},
	"assess.unlocated":         {"lat", "lon"},
	"assess.no_place":          nil,
	"assess.unknown_site":      {"site"},
	"assess.not_sampled":       {"site"},
	"assess.unknown_standard":  {"standard"},
	"assess.not_observed":      {"standard", "rule"},
	"assess.type_excluded":     {"standard", "type"},
	"assess.bad_result":        {"value"},
	"assess.bad_problems":      {"value"},
	"assess.not_district":      {"region"},
	"assess.not_valued":        {"standard", "rule"},
	"assess.value_range":       {"value", "max"},
}

// ProblemKeys returns every message key a Problem can carry, each with the
// names of all its arguments ("path" and "line" first), so that a test of
// the console's catalogue can check it has them all.
func ProblemKeys() map[string][]string {
	out := make(map[string][]string, len(problemArgs))
	for k, v := range problemArgs {
		out[k] = append([]string{"path", "line"}, v...)
	}
	return out
}

// sortProblems orders problems by line, keeping the order of discovery
// among problems of the same line.
func sortProblems(ps []Problem) {
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Line < ps[j].Line })
}
