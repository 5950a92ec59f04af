package assess

import (
	"io"
	"math/big"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The XLSX form of a tree is one sheet (TreeSheet when written; the first
// sheet when read) in three blocks, described in docs/assessment.md:
//
//	edition    | 2026-demo
//	name       | 示例测评体系(非官方)
//	site_types | 主次干道,背街小巷
//
//	project | project_name | project_points | content | … | code | name | points | method | …
//	A       | 公共环境     | 10             | A1      | … | A1.1 | …
//	        |              |                |         | … | A1.2 | …
//
//	negative_list | name | site_types
//	N1            | …    | 主次干道
//
// One row per standard. An empty project or content cell continues the
// one above (as merged cells read), so a project's name and points are
// needed on its first row only; repeated on later rows they must agree.
// The sheet is turned into the same YAML tree Parse checks, its nodes
// carrying the rows as lines, so a sheet is checked exactly like a YAML
// file, and every problem is then placed by row and column.

// TreeSheet is the name of the sheet WriteXLSX writes.
const TreeSheet = "测评体系"

var (
	metaFields      = []string{"edition", "name", "site_types"}
	treeColumns     = []string{"project", "project_name", "project_points", "content", "content_name", "content_points", "code", "name", "points", "method", "rule", "per_problem", "site_types", "lead_unit", "coop_units"}
	treeRequired    = []string{"project", "project_name", "content", "content_name", "code", "name", "points", "method", "rule"}
	negativeColumns = []string{"negative_list", "name", "site_types"}
	treeListColumns = map[string]bool{"site_types": true, "coop_units": true}
)

// ParseXLSX reads a tree in the XLSX form and checks it as Parse checks
// the YAML form, returning every problem placed by sheet, row and column
// (and by the YAML path of the same place), ordered by row.
func ParseXLSX(r io.Reader, opt ParseOptions) (Edition, []Problem) {
	sheet, rows, err := sheetRows(r)
	if err != nil {
		return Edition{}, []Problem{sheetProblem(sheet, err)}
	}
	b := &sheetTree{pl: &problemList{}}
	b.meta = &table{sheet: sheet, pl: b.pl}
	b.std = &table{sheet: sheet, pl: b.pl}
	b.neg = &table{sheet: sheet, pl: b.pl}
	root := b.build(rows)
	p := &parser{opt: opt, codes: map[string]string{}}
	ed := p.edition(root)
	if !hasKey(root, "projects") {
		b.meta.add(0, "", "assess.no_header", "column", "project")
	}
	problems := b.pl.list
	for _, yp := range p.problems {
		if yp.Path == "projects" && yp.Key == "assess.missing" {
			continue // told as no_header
		}
		yp.Table, yp.Sheet, yp.Column = true, sheet, b.columnOf(yp.Path)
		problems = append(problems, yp)
	}
	sortProblems(problems)
	return ed, problems
}

// sheetTree builds the YAML tree of a sheet.
type sheetTree struct {
	pl             *problemList
	meta, std, neg *table // the blocks, for placing problems by column
	stdOK, negOK   bool   // whether the blocks' headers could be read

	project, content         *yaml.Node // the mappings being filled
	contents, standards      *yaml.Node // their lists
	projectCode, contentCode string
	firstRow                 map[*yaml.Node]map[string]int // where each field of a project or content was given
}

func scalar(v string, row int) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v, Line: row}
}

func put(m *yaml.Node, key string, v *yaml.Node) {
	m.Content = append(m.Content, scalar(key, v.Line), v)
}

// listNode is the list written in one cell.
func listNode(cell string, row int) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode, Line: row}
	for _, s := range splitList(cell) {
		n.Content = append(n.Content, scalar(s, row))
	}
	return n
}

func (b *sheetTree) build(rows [][]string) *yaml.Node {
	root := &yaml.Node{Kind: yaml.MappingNode}
	b.firstRow = map[*yaml.Node]map[string]int{}
	var projects, negatives *yaml.Node
	for i, rec := range rows {
		row := i + 1
		if blank(rec) {
			continue
		}
		first := strings.ToLower(rec[0])
		switch {
		case projects == nil && negatives == nil && first != "project" && first != "negative_list":
			value := ""
			if len(rec) > 1 {
				value = rec[1]
			}
			v := scalar(value, row)
			if first == "site_types" {
				v = listNode(value, row)
			}
			put(root, first, v)
		case first == "project" && projects == nil:
			b.stdOK = b.std.header(rec, row, treeColumns, treeRequired)
			projects = &yaml.Node{Kind: yaml.SequenceNode, Line: row}
			put(root, "projects", projects)
		case first == "negative_list" && negatives == nil:
			b.negOK = b.neg.header(rec, row, negativeColumns, []string{"negative_list", "name"})
			negatives = &yaml.Node{Kind: yaml.SequenceNode, Line: row}
			put(root, "negative_list", negatives)
		case negatives != nil:
			if b.negOK {
				negatives.Content = append(negatives.Content, b.negative(rec, row))
			}
		default:
			if b.stdOK {
				b.leaf(projects, rec, row)
			}
		}
	}
	return root
}

// leaf adds the standard of one row, starting a project or content when
// the row names a new one.
func (b *sheetTree) leaf(projects *yaml.Node, rec []string, row int) {
	t := b.std
	pcode, ccode := t.get(rec, "project"), t.get(rec, "content")
	if b.project == nil || pcode != "" && pcode != b.projectCode {
		b.project = &yaml.Node{Kind: yaml.MappingNode, Line: row}
		b.projectCode = pcode
		b.contents = &yaml.Node{Kind: yaml.SequenceNode, Line: row}
		put(b.project, "contents", b.contents)
		projects.Content = append(projects.Content, b.project)
		b.content = nil
	}
	b.level(b.project, rec, row, [][2]string{{"project", "code"}, {"project_name", "name"}, {"project_points", "points"}})
	if b.content == nil || ccode != "" && ccode != b.contentCode {
		b.content = &yaml.Node{Kind: yaml.MappingNode, Line: row}
		b.contentCode = ccode
		b.standards = &yaml.Node{Kind: yaml.SequenceNode, Line: row}
		put(b.content, "standards", b.standards)
		b.contents.Content = append(b.contents.Content, b.content)
	}
	b.level(b.content, rec, row, [][2]string{{"content", "code"}, {"content_name", "name"}, {"content_points", "points"}})
	s := &yaml.Node{Kind: yaml.MappingNode, Line: row}
	for _, f := range standardFields {
		v := t.get(rec, f)
		if v == "" {
			continue
		}
		if treeListColumns[f] {
			put(s, f, listNode(v, row))
		} else {
			put(s, f, scalar(v, row))
		}
	}
	b.standards.Content = append(b.standards.Content, s)
}

// level sets a project's or content's fields from a row: the first row
// giving a field sets it; a later row may leave it empty or repeat it.
// (The order of a mapping's fields does not matter to the parser.)
func (b *sheetTree) level(m *yaml.Node, rec []string, row int, cols [][2]string) {
	if b.firstRow[m] == nil {
		b.firstRow[m] = map[string]int{}
	}
	seen := b.firstRow[m]
	for _, c := range cols {
		v := b.std.get(rec, c[0])
		if v == "" {
			continue
		}
		if at, ok := seen[c[1]]; ok {
			if prev := fieldValue(m, c[1]); prev != v && !sameNumber(c[1], prev, v) {
				b.std.add(row, c[0], "assess.sheet_differs", "field", c[0], "value", v, "first_row", strconv.Itoa(at), "first", prev)
			}
			continue
		}
		put(m, c[1], scalar(v, row))
		seen[c[1]] = row
	}
}

// sameNumber reports whether two texts of a points field are the same
// number ("10" and "10.0").
func sameNumber(field, a, b string) bool {
	if field != "points" {
		return false
	}
	x, ok1 := ParseDecimal(a)
	y, ok2 := ParseDecimal(b)
	return ok1 && ok2 && x.Cmp(y) == 0
}

func hasKey(m *yaml.Node, key string) bool {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return true
		}
	}
	return false
}

func fieldValue(m *yaml.Node, key string) string {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1].Value
		}
	}
	return ""
}

func (b *sheetTree) negative(rec []string, row int) *yaml.Node {
	m := &yaml.Node{Kind: yaml.MappingNode, Line: row}
	if v := b.neg.get(rec, "negative_list"); v != "" {
		put(m, "code", scalar(v, row))
	}
	if v := b.neg.get(rec, "name"); v != "" {
		put(m, "name", scalar(v, row))
	}
	if v := b.neg.get(rec, "site_types"); v != "" {
		put(m, "site_types", listNode(v, row))
	}
	return m
}

var pathIndex = regexp.MustCompile(`\[[0-9]+\]`)

// columnOf finds the column of the sheet that holds the place a YAML path
// names: projects[0].contents[1].points is the content_points column.
func (b *sheetTree) columnOf(path string) string {
	if path == "" {
		return ""
	}
	parts := strings.Split(pathIndex.ReplaceAllString(path, ""), ".")
	field := parts[len(parts)-1]
	switch {
	case len(parts) == 1:
		if contains(metaFields, field) {
			return "B (" + field + ")"
		}
		if field == "projects" || field == "negative_list" {
			return ""
		}
		return "A"
	case parts[0] == "negative_list":
		if field == "code" {
			field = "negative_list"
		}
		return b.neg.column(field)
	case len(parts) == 2:
		switch field {
		case "code":
			return b.std.column("project")
		case "name", "points":
			return b.std.column("project_" + field)
		}
	case len(parts) == 3:
		switch field {
		case "code":
			return b.std.column("content")
		case "name", "points":
			return b.std.column("content_" + field)
		}
	case len(parts) == 4:
		return b.std.column(field)
	}
	return ""
}

// WriteXLSX writes the edition in the XLSX form ParseXLSX reads: codes
// and names as text, points as numbers holding the exact decimal. It
// fails only when a number has no finite decimal form.
func WriteXLSX(w io.Writer, ed Edition) error {
	var err error
	num := func(r *big.Rat) string {
		if r == nil {
			return ""
		}
		s, e := FormatDecimal(r)
		if e != nil && err == nil {
			err = e
		}
		return s
	}
	rows := [][]string{
		{"edition", ed.Code},
		{"name", ed.Name},
		{"site_types", strings.Join(ed.SiteTypes, ",")},
		nil,
		treeColumns,
	}
	numeric := map[int]map[int]bool{}
	for _, p := range ed.Projects {
		for ci, c := range p.Contents {
			for si, s := range c.Standards {
				rec := make([]string, len(treeColumns))
				if ci == 0 && si == 0 {
					rec[0], rec[1], rec[2] = p.Code, p.Name, num(p.Points)
				}
				if si == 0 {
					rec[3], rec[4], rec[5] = c.Code, c.Name, num(c.Points)
				}
				rec[6], rec[7], rec[8] = s.Code, s.Name, num(s.Points)
				rec[9], rec[10], rec[11] = string(s.Method), string(s.Rule), num(s.PerProblem)
				rec[12], rec[13], rec[14] = strings.Join(s.SiteTypes, ","), s.LeadUnit, strings.Join(s.CoopUnits, ",")
				numeric[len(rows)] = map[int]bool{2: true, 5: true, 8: true, 11: true}
				rows = append(rows, rec)
			}
		}
	}
	if len(ed.Negative) > 0 {
		rows = append(rows, nil, negativeColumns)
		for _, n := range ed.Negative {
			rows = append(rows, []string{n.Code, n.Name, strings.Join(n.SiteTypes, ",")})
		}
	}
	if err != nil {
		return err
	}
	return writeSheet(w, TreeSheet, rows, func(r, c int) bool { return numeric[r][c] })
}
