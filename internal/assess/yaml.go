package assess

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"
)

// ParseOptions are what Parse checks the file against.
type ParseOptions struct {
	// Units holds the known unit codes; lead_unit and coop_units must be
	// among them. Nil means unit codes are not checked (a tool that only
	// reads a file); an empty non-nil map means no unit code is known.
	Units map[string]bool
}

// MaxFileBytes is the largest indicator file Parse reads.
const MaxFileBytes = 8 << 20

// Field names of the indicator file, level by level.
var (
	editionFields  = []string{"edition", "name", "site_types", "projects", "negative_list"}
	projectFields  = []string{"code", "name", "points", "contents"}
	contentFields  = []string{"code", "name", "points", "standards"}
	standardFields = []string{"code", "name", "points", "method", "rule", "per_problem", "site_types", "lead_unit", "coop_units"}
	negativeFields = []string{"code", "name", "site_types"}
)

// Parse reads an indicator tree in the YAML form of docs/assessment.md and
// checks all of it, returning the edition and every problem found, ordered
// by line. A file with any problem must not be stored: the edition is then
// only as complete as the file allowed.
//
// Scalars are taken as written: `code: 01` is the code "01", and points
// are read from their decimal text, never through a float.
func Parse(r io.Reader, opt ParseOptions) (Edition, []Problem) {
	p := &parser{opt: opt, codes: map[string]string{}}
	data, err := io.ReadAll(io.LimitReader(r, MaxFileBytes+1))
	if err != nil {
		p.add("", 0, "assess.read", "detail", err.Error())
		return Edition{}, p.problems
	}
	if len(data) > MaxFileBytes {
		p.add("", 0, "assess.read", "detail", fmt.Sprintf("larger than %d bytes", MaxFileBytes))
		return Edition{}, p.problems
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.add("", 0, "assess.empty_file")
		} else {
			line, detail := syntaxError(err)
			p.add("", line, "assess.syntax", "detail", detail)
		}
		return Edition{}, p.problems
	}
	var more yaml.Node
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		line := 0
		if err == nil && len(more.Content) > 0 {
			line = more.Content[0].Line
		}
		p.add("", line, "assess.multiple_documents")
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			p.add("", 0, "assess.empty_file")
			return Edition{}, p.problems
		}
		root = root.Content[0]
	}
	ed := p.edition(root)
	sortProblems(p.problems)
	return ed, p.problems
}

// yamlLine finds the line number in the yaml package's error text.
var yamlLine = regexp.MustCompile(`line ([0-9]+)`)

func syntaxError(err error) (int, string) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
	}
	return line, msg
}

type parser struct {
	opt       ParseOptions
	problems  []Problem
	codes     map[string]string // code → path of its first use
	siteTypes map[string]bool   // the edition's site_types
}

func (p *parser) add(path string, line int, key string, args ...string) {
	p.problems = append(p.problems, Problem{
		Path: path, Line: line, Key: key,
		Args: append([]string{"path", path, "line", strconv.Itoa(line)}, args...),
	})
}

func join(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// mapping is a checked YAML mapping: its values by field name.
type mapping struct {
	path   string
	node   *yaml.Node
	values map[string]*yaml.Node
}

// fields checks that n is a mapping with only the allowed fields, each at
// most once. It reports the problem and returns ok=false when n is not a
// mapping at all.
func (p *parser) fields(path string, n *yaml.Node, allowed []string) (mapping, bool) {
	m := mapping{path: path, node: n, values: map[string]*yaml.Node{}}
	if !p.plain(path, n) {
		return m, false
	}
	if n.Kind != yaml.MappingNode {
		p.add(path, n.Line, "assess.want_mapping")
		return m, false
	}
	keyLine := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			p.add(path, k.Line, "assess.unknown_field", "field", "?")
			continue
		}
		name := k.Value
		if !contains(allowed, name) {
			p.add(join(path, name), k.Line, "assess.unknown_field", "field", name)
			continue
		}
		if first, dup := keyLine[name]; dup {
			p.add(join(path, name), k.Line, "assess.dup_key", "field", name, "first_line", strconv.Itoa(first))
			continue
		}
		keyLine[name] = k.Line
		m.values[name] = v
	}
	return m, true
}

// plain reports a YAML alias and returns false for one. Aliases are
// refused rather than followed: a repeated subtree would repeat codes, and
// nested aliases can make a small file expand enormously. An anchor alone
// is harmless and ignored.
func (p *parser) plain(path string, n *yaml.Node) bool {
	if n.Kind == yaml.AliasNode {
		p.add(path, n.Line, "assess.alias")
		return false
	}
	return true
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// text returns a field's scalar text; required fields report "missing"
// when absent, null or blank.
func (p *parser) text(m mapping, field string, required bool) (string, bool) {
	n := m.values[field]
	path := join(m.path, field)
	if isNull(n) {
		if required {
			p.add(path, m.node.Line, "assess.missing", "field", field)
		}
		return "", false
	}
	if !p.plain(path, n) {
		return "", false
	}
	if n.Kind != yaml.ScalarNode {
		p.add(path, n.Line, "assess.want_scalar")
		return "", false
	}
	if strings.TrimSpace(n.Value) == "" {
		if required {
			p.add(path, n.Line, "assess.missing", "field", field)
		}
		return "", false
	}
	return n.Value, true
}

// code reads a code field and claims it in the edition's namespace.
func (p *parser) code(m mapping) string {
	c, ok := p.text(m, "code", true)
	if !ok {
		return ""
	}
	path := join(m.path, "code")
	line := m.values["code"].Line
	if !validCode(c) {
		p.add(path, line, "assess.bad_code", "code", c)
	}
	if first, dup := p.codes[c]; dup {
		p.add(path, line, "assess.dup_code", "code", c, "first", first)
	} else {
		p.codes[c] = path
	}
	return c
}

func validCode(c string) bool {
	for _, r := range c {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// number reads a decimal field; negative numbers are reported. ok is
// false when the field is absent or unreadable.
func (p *parser) number(m mapping, field string, required bool) (*big.Rat, bool) {
	s, ok := p.text(m, field, required)
	if !ok {
		return nil, false
	}
	path := join(m.path, field)
	line := m.values[field].Line
	r, ok := ParseDecimal(strings.TrimSpace(s))
	if !ok {
		p.add(path, line, "assess.bad_number", "field", field, "value", s)
		return nil, false
	}
	if r.Sign() < 0 {
		p.add(path, line, "assess.negative", "field", field, "value", s)
		return nil, false
	}
	return r, true
}

// list returns the items of a list field, nil when absent; required lists
// report "missing" when absent and "empty_list" when empty.
func (p *parser) list(m mapping, field string, required bool) []*yaml.Node {
	n := m.values[field]
	path := join(m.path, field)
	if isNull(n) {
		if required {
			p.add(path, m.node.Line, "assess.missing", "field", field)
		}
		return nil
	}
	if !p.plain(path, n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		p.add(path, n.Line, "assess.want_list")
		return nil
	}
	if required && len(n.Content) == 0 {
		p.add(path, n.Line, "assess.empty_list", "field", field)
	}
	return n.Content
}

// textList reads a list of non-blank texts, reporting repeats with dupKey.
func (p *parser) textList(m mapping, field, dupKey, dupArg string) ([]string, []int) {
	var out []string
	var lines []int
	seen := map[string]bool{}
	for i, n := range p.list(m, field, false) {
		path := index(join(m.path, field), i)
		if !p.plain(path, n) {
			continue
		}
		if n.Kind != yaml.ScalarNode {
			p.add(path, n.Line, "assess.want_scalar")
			continue
		}
		if isNull(n) || strings.TrimSpace(n.Value) == "" {
			p.add(path, n.Line, "assess.missing", "field", field)
			continue
		}
		if seen[n.Value] {
			p.add(path, n.Line, dupKey, dupArg, n.Value)
			continue
		}
		seen[n.Value] = true
		out = append(out, n.Value)
		lines = append(lines, n.Line)
	}
	return out, lines
}

func (p *parser) edition(root *yaml.Node) Edition {
	var ed Edition
	m, ok := p.fields("", root, editionFields)
	if !ok {
		return ed
	}
	if c, ok := p.text(m, "edition", true); ok {
		ed.Code = c
		if !validCode(c) {
			p.add("edition", m.values["edition"].Line, "assess.bad_code", "code", c)
		}
	}
	ed.Name, _ = p.text(m, "name", true)
	ed.SiteTypes, _ = p.textList(m, "site_types", "assess.dup_site_type", "type")
	p.siteTypes = map[string]bool{}
	for _, t := range ed.SiteTypes {
		p.siteTypes[t] = true
	}
	for i, n := range p.list(m, "projects", true) {
		ed.Projects = append(ed.Projects, p.project(index("projects", i), n))
	}
	for i, n := range p.list(m, "negative_list", false) {
		ed.Negative = append(ed.Negative, p.negative(index("negative_list", i), n))
	}
	return ed
}

func (p *parser) project(path string, n *yaml.Node) Project {
	var pr Project
	m, ok := p.fields(path, n, projectFields)
	if !ok {
		return pr
	}
	pr.Code = p.code(m)
	pr.Name, _ = p.text(m, "name", true)
	pr.Points, _ = p.number(m, "points", false)
	complete := true
	for i, cn := range p.list(m, "contents", true) {
		c, ok := p.content(index(join(path, "contents"), i), cn)
		complete = complete && ok
		pr.Contents = append(pr.Contents, c)
	}
	if complete && pr.Points != nil {
		p.checkSum(m, pr.Points, pr.Sum())
	}
	return pr
}

// content returns ok=false when some leaf's points are unknown, so that
// no sum is checked against them.
func (p *parser) content(path string, n *yaml.Node) (Content, bool) {
	var c Content
	m, ok := p.fields(path, n, contentFields)
	if !ok {
		return c, false
	}
	c.Code = p.code(m)
	c.Name, _ = p.text(m, "name", true)
	c.Points, _ = p.number(m, "points", false)
	complete := true
	for i, sn := range p.list(m, "standards", true) {
		s := p.standard(index(join(path, "standards"), i), sn)
		complete = complete && s.Points != nil
		c.Standards = append(c.Standards, s)
	}
	if complete && c.Points != nil {
		p.checkSum(m, c.Points, c.Sum())
	}
	return c, complete
}

func (p *parser) checkSum(m mapping, given, sum *big.Rat) {
	if given.Cmp(sum) != 0 {
		g, _ := FormatDecimal(given)
		s, _ := FormatDecimal(sum)
		p.add(join(m.path, "points"), m.values["points"].Line, "assess.points_sum", "points", g, "sum", s)
	}
}

func (p *parser) standard(path string, n *yaml.Node) Standard {
	var s Standard
	m, ok := p.fields(path, n, standardFields)
	if !ok {
		return s
	}
	s.Code = p.code(m)
	s.Name, _ = p.text(m, "name", true)
	s.Points, _ = p.number(m, "points", true)

	methodOK, ruleOK := false, false
	if v, ok := p.text(m, "method", true); ok {
		s.Method = Method(v)
		if methodOK = s.Method.Valid(); !methodOK {
			p.add(join(path, "method"), m.values["method"].Line, "assess.unknown_method", "method", v)
		}
	}
	if v, ok := p.text(m, "rule", true); ok {
		s.Rule = Rule(v)
		if ruleOK = s.Rule.Valid(); !ruleOK {
			p.add(join(path, "rule"), m.values["rule"].Line, "assess.unknown_rule", "rule", v)
		}
	}
	if methodOK && ruleOK && !s.Rule.Fits(s.Method) {
		p.add(join(path, "rule"), m.values["rule"].Line, "assess.rule_method", "rule", string(s.Rule), "method", string(s.Method))
	}

	pp, given := p.number(m, "per_problem", false)
	present := !isNull(m.values["per_problem"])
	switch {
	case ruleOK && s.Rule == RuleDeduct && !present:
		p.add(join(path, "per_problem"), n.Line, "assess.per_problem_missing")
	case ruleOK && s.Rule != RuleDeduct && present:
		p.add(join(path, "per_problem"), m.values["per_problem"].Line, "assess.per_problem_not_used", "rule", string(s.Rule))
	case given && pp.Sign() == 0:
		p.add(join(path, "per_problem"), m.values["per_problem"].Line, "assess.per_problem_zero")
	case given:
		s.PerProblem = pp
	}

	types, lines := p.textList(m, "site_types", "assess.dup_site_type", "type")
	s.SiteTypes = types
	p.checkSiteTypes(path, types, lines)
	if methodOK {
		st := m.values["site_types"]
		listed := st != nil && st.Kind == yaml.SequenceNode && len(st.Content) > 0
		switch {
		case s.Method.AtSites() && !listed && (isNull(st) || st.Kind == yaml.SequenceNode):
			p.add(join(path, "site_types"), n.Line, "assess.site_types_missing", "method", string(s.Method))
		case !s.Method.AtSites() && listed:
			p.add(join(path, "site_types"), st.Line, "assess.site_types_not_used", "method", string(s.Method))
		}
	}

	if u, ok := p.text(m, "lead_unit", false); ok {
		s.LeadUnit = u
		p.checkUnit(join(path, "lead_unit"), m.values["lead_unit"].Line, u)
	}
	coops, clines := p.textList(m, "coop_units", "assess.dup_unit", "unit")
	for i, u := range coops {
		cpath := index(join(path, "coop_units"), i)
		if u == s.LeadUnit {
			p.add(cpath, clines[i], "assess.dup_unit", "unit", u)
			continue
		}
		p.checkUnit(cpath, clines[i], u)
		s.CoopUnits = append(s.CoopUnits, u)
	}
	return s
}

func (p *parser) negative(path string, n *yaml.Node) NegativeItem {
	var it NegativeItem
	m, ok := p.fields(path, n, negativeFields)
	if !ok {
		return it
	}
	it.Code = p.code(m)
	it.Name, _ = p.text(m, "name", true)
	types, lines := p.textList(m, "site_types", "assess.dup_site_type", "type")
	it.SiteTypes = types
	p.checkSiteTypes(path, types, lines)
	return it
}

func (p *parser) checkSiteTypes(path string, types []string, lines []int) {
	for i, t := range types {
		if !p.siteTypes[t] {
			p.add(index(join(path, "site_types"), i), lines[i], "assess.site_type_unlisted", "type", t)
		}
	}
}

func (p *parser) checkUnit(path string, line int, u string) {
	if p.opt.Units != nil && !p.opt.Units[u] {
		p.add(path, line, "assess.unknown_unit", "unit", u)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Write writes the edition in the YAML form Parse reads, fields in the
// order of docs/assessment.md, site type lists on one line. Parsing what
// it writes gives the same edition. It fails only when a number has no
// finite decimal form (an edition built in code with 1/3 points).
func Write(w io.Writer, ed Edition) error {
	root := &yaml.Node{Kind: yaml.MappingNode}
	put := func(m *yaml.Node, key string, v *yaml.Node) {
		m.Content = append(m.Content, str(key), v)
	}
	var err error
	num := func(r *big.Rat) *yaml.Node {
		s, e := FormatDecimal(r)
		if e != nil && err == nil {
			err = e
		}
		tag := "!!int"
		if strings.Contains(s, ".") {
			tag = "!!float"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: s}
	}
	// head is a node's code, name and (when given) points.
	head := func(code, name string, points *big.Rat) *yaml.Node {
		m := &yaml.Node{Kind: yaml.MappingNode}
		put(m, "code", quoted(code))
		put(m, "name", str(name))
		if points != nil {
			put(m, "points", num(points))
		}
		return m
	}
	put(root, "edition", str(ed.Code))
	put(root, "name", str(ed.Name))
	put(root, "site_types", flowList(ed.SiteTypes))
	projects := &yaml.Node{Kind: yaml.SequenceNode}
	for _, pr := range ed.Projects {
		pm := head(pr.Code, pr.Name, pr.Points)
		contents := &yaml.Node{Kind: yaml.SequenceNode}
		for _, c := range pr.Contents {
			cm := head(c.Code, c.Name, c.Points)
			standards := &yaml.Node{Kind: yaml.SequenceNode}
			for _, s := range c.Standards {
				sm := head(s.Code, s.Name, s.Points)
				put(sm, "method", str(string(s.Method)))
				put(sm, "rule", str(string(s.Rule)))
				if s.PerProblem != nil {
					put(sm, "per_problem", num(s.PerProblem))
				}
				if len(s.SiteTypes) > 0 {
					put(sm, "site_types", flowList(s.SiteTypes))
				}
				if s.LeadUnit != "" {
					put(sm, "lead_unit", str(s.LeadUnit))
				}
				if len(s.CoopUnits) > 0 {
					put(sm, "coop_units", flowList(s.CoopUnits))
				}
				standards.Content = append(standards.Content, sm)
			}
			put(cm, "standards", standards)
			contents.Content = append(contents.Content, cm)
		}
		put(pm, "contents", contents)
		projects.Content = append(projects.Content, pm)
	}
	put(root, "projects", projects)
	if len(ed.Negative) > 0 {
		neg := &yaml.Node{Kind: yaml.SequenceNode}
		for _, it := range ed.Negative {
			nm := &yaml.Node{Kind: yaml.MappingNode}
			put(nm, "code", quoted(it.Code))
			put(nm, "name", str(it.Name))
			if len(it.SiteTypes) > 0 {
				put(nm, "site_types", flowList(it.SiteTypes))
			}
			neg.Content = append(neg.Content, nm)
		}
		put(root, "negative_list", neg)
	}
	if err != nil {
		return err
	}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		return err
	}
	return enc.Close()
}

func str(s string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
	if yaml11Special(s) {
		n.Style = yaml.DoubleQuotedStyle
	}
	return n
}

// sexagesimal matches YAML 1.1's base-60 numbers (1:20).
var sexagesimal = regexp.MustCompile(`^[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?$`)

// yaml11Special reports text that a YAML 1.1 reader (PyYAML, for one)
// would take for a boolean or a number although YAML 1.2 does not, so
// that Write quotes it for such readers too.
func yaml11Special(s string) bool {
	switch strings.ToLower(s) {
	case "y", "yes", "n", "no", "on", "off":
		return true
	}
	return sexagesimal.MatchString(s)
}

// quoted writes codes in double quotes, so that "1.1" never reads as a number
// to another tool.
func quoted(s string) *yaml.Node {
	n := str(s)
	n.Style = yaml.DoubleQuotedStyle
	return n
}

func flowList(items []string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
	for _, s := range items {
		n.Content = append(n.Content, str(s))
	}
	return n
}
