package tasks

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"chuangwen/internal/apperr"
	"chuangwen/internal/org"
	"chuangwen/internal/sheet"
	"chuangwen/internal/store"
)

// The office's task table (任务分解表) as XLSX: the first sheet, a header
// row, then one row per milestone. Columns are found by their header in
// any order, under the names such tables give them. A task's rows share
// its code; its title, lead unit, cooperating units and indicators are
// taken from its first row, and a later row that gives them differently
// is a problem.
var columns = map[string][]string{
	"code":        {"任务编号", "编号", "任务代码", "code"},
	"title":       {"任务名称", "工作任务", "任务内容", "重点任务", "title"},
	"leaves":      {"测评指标", "对应指标", "指标编号", "对应测评指标", "indicators"},
	"lead":        {"牵头单位", "责任单位", "lead_unit"},
	"coops":       {"配合单位", "协办单位", "coop_units"},
	"milestone":   {"节点", "时间节点", "节点任务", "阶段目标", "milestone"},
	"due":         {"完成时限", "完成时间", "截止时间", "截止日期", "due"},
	"deliverable": {"成果形式", "工作成果", "交付成果", "deliverable"},
}

var required = []string{"code", "title", "lead", "milestone", "due"}

// MaxImportBytes bounds an uploaded task table.
const MaxImportBytes = 8 << 20

const maxColumns = 100

// Bounds on what a table may hold.
const (
	MaxTextLen  = 500
	maxRows     = 5000
	maxCodeLen  = 40
	maxLeafList = 40
)

// RowProblem is one problem of an imported row (row 1 is the header).
type RowProblem struct {
	Row  int      `json:"row"`
	Key  string   `json:"key"`
	Args []string `json:"args,omitempty"`
}

// ImportReport is the outcome of an import: every task stored, or none
// and every row's problem.
type ImportReport struct {
	Year       int          `json:"year"`
	Tasks      int          `json:"tasks"`
	Milestones int          `json:"milestones"`
	Problems   []RowProblem `json:"problems,omitempty"`
}

type rowIn struct {
	line                                        int
	code, title, lead, coops, leaves, milestone string
	due, deliverable                            string
}

// ParseTable reads the table's rows (blank rows skipped, their numbers
// still counted) and the problems of its header.
func ParseTable(r io.Reader) ([]rowIn, []RowProblem, error) {
	f, err := excelize.OpenReader(io.LimitReader(r, MaxImportBytes), excelize.Options{UnzipSizeLimit: 8 * MaxImportBytes, UnzipXMLSizeLimit: 4 * MaxImportBytes})
	if err != nil {
		return nil, nil, apperr.New(apperr.Invalid, "task.import_unreadable")
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, nil, apperr.New(apperr.Invalid, "task.import_empty")
	}
	rows, err := f.Rows(sheets[0])
	if err != nil {
		return nil, nil, apperr.New(apperr.Invalid, "task.import_unreadable")
	}
	defer rows.Close()
	col := map[string]int{}
	var out []rowIn
	line := 0
	for rows.Next() {
		line++
		cells, err := rows.Columns()
		if err != nil {
			return nil, nil, apperr.New(apperr.Invalid, "task.import_unreadable")
		}
		if len(cells) > maxColumns {
			return nil, nil, apperr.New(apperr.Invalid, "task.import_too_wide", "row", strconv.Itoa(line), "max", strconv.Itoa(maxColumns))
		}
		if line == 1 {
			col = sheet.Columns(cells, columns)
			var ps []RowProblem
			for _, field := range required {
				if _, ok := col[field]; !ok {
					ps = append(ps, RowProblem{Row: 1, Key: "task.import_no_column", Args: []string{"column", columns[field][0]}})
				}
			}
			if len(ps) > 0 {
				return nil, ps, nil
			}
			continue
		}
		get := func(field string) string {
			i, ok := col[field]
			if !ok || i >= len(cells) {
				return ""
			}
			return strings.TrimSpace(cells[i])
		}
		in := rowIn{line: line, code: get("code"), title: get("title"), lead: get("lead"), coops: get("coops"), leaves: get("leaves"),
			milestone: get("milestone"), due: get("due"), deliverable: get("deliverable")}
		if in == (rowIn{line: line}) {
			continue
		}
		if len(out) >= maxRows {
			return nil, nil, apperr.New(apperr.Invalid, "task.import_too_long", "max", strconv.Itoa(maxRows))
		}
		out = append(out, in)
	}
	if line == 0 {
		return nil, nil, apperr.New(apperr.Invalid, "task.import_empty")
	}
	return out, nil, nil
}

var (
	ymd       = regexp.MustCompile(`^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$`)
	mdyy      = regexp.MustCompile(`^(\d{1,2})-(\d{1,2})-(\d{2})$`) // Excel's built-in date format (mm-dd-yy)
	serial    = regexp.MustCompile(`^\d{5}(\.\d+)?$`)               // an Excel date serial
	splitList = regexp.MustCompile(`[、,，;；\s]+`)
)

// ParseDate reads a due date as tables write it: 2026-03-31, 2026/3/31,
// 2026.3.31, 2026年3月31日, Excel's 03-31-26, or a date serial.
func ParseDate(s string) (string, bool) {
	s = strings.TrimSpace(s)
	var y, m, d int
	switch {
	case ymd.MatchString(s):
		p := ymd.FindStringSubmatch(s)
		y, _ = strconv.Atoi(p[1])
		m, _ = strconv.Atoi(p[2])
		d, _ = strconv.Atoi(p[3])
	case mdyy.MatchString(s):
		p := mdyy.FindStringSubmatch(s)
		m, _ = strconv.Atoi(p[1])
		d, _ = strconv.Atoi(p[2])
		y, _ = strconv.Atoi(p[3])
		y += 2000
	case serial.MatchString(s):
		n, _ := strconv.ParseFloat(s, 64)
		t := time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int(n))
		y, m, d = t.Year(), int(t.Month()), t.Day()
	default:
		return "", false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Year() != y || int(t.Month()) != m || t.Day() != d || y < 2000 || y > 2100 {
		return "", false
	}
	return t.Format(dateForm), true
}

// SplitList splits a cell of several codes or names (、 , ； or spaces).
func SplitList(s string) []string {
	var out []string
	for _, p := range splitList.Split(strings.TrimSpace(s), -1) {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

type taskIn struct {
	first      int
	code       string
	title      string
	lead       int64
	coops      []int64
	leaves     []string
	milestones []rowIn
	leadText   string
	coopText   string
	leafText   string
}

// Import stores the task table r as the year's tasks: every row checked
// first, nothing stored when any row has a problem, and a task code
// already in the year is a problem (an import adds tasks; it does not
// change them). The administrator's.
func (s *Service) Import(ctx context.Context, actor org.Actor, year int, r io.Reader) (ImportReport, error) {
	rep := ImportReport{Year: year}
	if actor.Role != org.RoleAdmin {
		return rep, apperr.New(apperr.Forbidden, "forbidden")
	}
	if year < 2000 || year > 2100 {
		return rep, apperr.New(apperr.Invalid, "task.bad_year")
	}
	rows, ps, err := ParseTable(r)
	if err != nil {
		return rep, err
	}
	if len(ps) > 0 {
		rep.Problems = ps
		return rep, nil
	}
	if len(rows) == 0 {
		return rep, apperr.New(apperr.Invalid, "task.import_empty")
	}
	q := s.DB.Reader()
	units := map[string]int64{} // by code and by name
	urows, err := store.Collect(ctx, q, func(sc store.Scanner) (u Unit, err error) {
		return u, sc.Scan(&u.ID, &u.Code, &u.Name)
	}, `SELECT id, code, name FROM units WHERE active = TRUE`)
	if err != nil {
		return rep, err
	}
	for _, u := range urows {
		units[u.Code], units[u.Name] = u.ID, u.ID
	}
	known, err := store.Collect(ctx, q, func(sc store.Scanner) (c string, err error) {
		return c, sc.Scan(&c)
	}, `SELECT DISTINCT code FROM assess_standards`)
	if err != nil {
		return rep, err
	}
	leafOK := map[string]bool{}
	for _, c := range known {
		leafOK[c] = true
	}
	existing, err := store.Collect(ctx, q, func(sc store.Scanner) (c string, err error) {
		return c, sc.Scan(&c)
	}, `SELECT code FROM plan_tasks WHERE year = ?`, year)
	if err != nil {
		return rep, err
	}
	exists := map[string]bool{}
	for _, c := range existing {
		exists[c] = true
	}
	problem := func(row int, key string, args ...string) {
		rep.Problems = append(rep.Problems, RowProblem{Row: row, Key: key, Args: args})
	}
	text := func(row int, field, v string) {
		if utf8.RuneCountInString(v) > MaxTextLen {
			problem(row, "task.import_too_long_text", "column", columns[field][0], "max", strconv.Itoa(MaxTextLen))
		}
	}
	var order []string
	byCode := map[string]*taskIn{}
	reported := map[string]bool{}
	for _, in := range rows {
		for _, f := range required {
			v := map[string]string{"code": in.code, "title": in.title, "lead": in.lead, "milestone": in.milestone, "due": in.due}[f]
			if v == "" && (f == "code" || f == "milestone" || f == "due") {
				problem(in.line, "task.import_missing", "column", columns[f][0])
			}
		}
		if in.code == "" {
			continue
		}
		if utf8.RuneCountInString(in.code) > maxCodeLen || strings.ContainsAny(in.code, " \t\r\n") {
			problem(in.line, "task.import_bad_code", "code", in.code)
			continue
		}
		for f, v := range map[string]string{"title": in.title, "milestone": in.milestone, "deliverable": in.deliverable} {
			text(in.line, f, v)
		}
		if in.due != "" {
			if d, ok := ParseDate(in.due); !ok {
				problem(in.line, "task.import_bad_date", "value", in.due)
			} else {
				in.due = d
			}
		}
		t := byCode[in.code]
		if t == nil {
			if exists[in.code] {
				if !reported[in.code] { // once, on the task's first row
					problem(in.line, "task.import_exists", "code", in.code, "year", strconv.Itoa(year))
					reported[in.code] = true
				}
				continue
			}
			t = &taskIn{first: in.line, code: in.code, title: in.title, leadText: in.lead, coopText: in.coops, leafText: in.leaves}
			byCode[in.code] = t
			order = append(order, in.code)
			if in.title == "" {
				problem(in.line, "task.import_missing", "column", columns["title"][0])
			}
			if in.lead == "" {
				problem(in.line, "task.import_missing", "column", columns["lead"][0])
			} else if t.lead = units[in.lead]; t.lead == 0 {
				problem(in.line, "task.import_unknown_unit", "unit", in.lead)
			}
			for _, c := range SplitList(in.coops) {
				id := units[c]
				switch {
				case id == 0:
					problem(in.line, "task.import_unknown_unit", "unit", c)
				case id == t.lead:
					problem(in.line, "task.import_lead_coop", "unit", c)
				default:
					t.coops = append(t.coops, id)
				}
			}
			leaves := SplitList(in.leaves)
			if len(leaves) > maxLeafList {
				problem(in.line, "task.import_too_many_leaves", "max", strconv.Itoa(maxLeafList))
			}
			for _, l := range leaves {
				if len(leafOK) > 0 && !leafOK[l] {
					problem(in.line, "task.import_unknown_leaf", "code", l)
				}
				t.leaves = append(t.leaves, l)
			}
		} else {
			// Later rows of a task repeat its fields or leave them blank.
			for _, c := range []struct{ field, got, want string }{{"title", in.title, t.title}, {"lead", in.lead, t.leadText},
				{"coops", in.coops, t.coopText}, {"leaves", in.leaves, t.leafText}} {
				if c.got != "" && c.got != c.want {
					problem(in.line, "task.import_disagrees", "column", columns[c.field][0], "code", in.code, "row", strconv.Itoa(t.first))
				}
			}
		}
		if len(t.milestones) >= 50 {
			problem(in.line, "task.import_too_many_milestones", "code", in.code, "max", "50")
			continue
		}
		t.milestones = append(t.milestones, in)
	}
	if len(rep.Problems) > 0 {
		return rep, nil
	}
	now := s.now()
	err = s.DB.WithTx(ctx, func(tx *store.Tx) error {
		for _, code := range order {
			t := byCode[code]
			id, err := store.InsertID(ctx, tx, `INSERT INTO plan_tasks (year, code, title, lead_unit_id, created_at) VALUES (?, ?, ?, ?, ?)`,
				year, t.code, t.title, t.lead, store.Ms(now))
			if store.IsUniqueViolation(err) {
				return apperr.New(apperr.Conflict, "task.import_exists", "code", t.code, "year", strconv.Itoa(year))
			}
			if err != nil {
				return fmt.Errorf("insert task %s: %w", t.code, err)
			}
			seen := map[int64]bool{}
			for _, u := range t.coops {
				if !seen[u] {
					seen[u] = true
					if _, err := tx.Exec(ctx, `INSERT INTO plan_task_coops (task_id, unit_id) VALUES (?, ?)`, id, u); err != nil {
						return err
					}
				}
			}
			leafSeen := map[string]bool{}
			for _, l := range t.leaves {
				if !leafSeen[l] {
					leafSeen[l] = true
					if _, err := tx.Exec(ctx, `INSERT INTO plan_task_leaves (task_id, standard) VALUES (?, ?)`, id, l); err != nil {
						return err
					}
				}
			}
			for i, m := range t.milestones {
				if _, err := tx.Exec(ctx, `INSERT INTO plan_milestones (task_id, ord, title, due, deliverable) VALUES (?, ?, ?, ?, ?)`,
					id, i+1, m.milestone, m.due, m.deliverable); err != nil {
					return err
				}
				rep.Milestones++
			}
			rep.Tasks++
		}
		return s.trail(ctx, tx, actor, "task.import", map[string]any{"year": year, "tasks": rep.Tasks, "milestones": rep.Milestones})
	})
	if err != nil {
		rep.Tasks, rep.Milestones = 0, 0
	}
	return rep, err
}
