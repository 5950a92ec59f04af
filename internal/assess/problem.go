package assess

import (
	"sort"
	"strconv"
	"strings"
)

// Problem is one thing wrong with an indicator file, told as a message key
// and its arguments (like apperr.Error) so that the console can show it in
// the user's language through the catalogue, and placed by its YAML path
// and line.
//
// Args always start with "path" and "line" (the same as Path and Line;
// line "0" when unknown), then the arguments of the key listed in
// ProblemKeys.
type Problem struct {
	Path string // e.g. projects[0].contents[1].standards[2].points; "" for the file as a whole
	Line int    // 1-based line in the file, 0 when unknown
	Key  string // e.g. "assess.dup_code"
	Args []string
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
// "projects[0].points (line 7): ...".
func (p Problem) Error() string {
	var b strings.Builder
	switch {
	case p.Path != "" && p.Line > 0:
		b.WriteString(p.Path + " (line " + strconv.Itoa(p.Line) + "): ")
	case p.Path != "":
		b.WriteString(p.Path + ": ")
	case p.Line > 0:
		b.WriteString("line " + strconv.Itoa(p.Line) + ": ")
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
