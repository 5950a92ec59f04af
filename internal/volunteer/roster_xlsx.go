package volunteer

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/xuri/excelize/v2"

	"chuangwen/internal/apperr"
	"chuangwen/internal/org"
	"chuangwen/internal/sheet"
)

// Roster columns, found by their header in the first row of the first
// sheet, in any order, under the names the national volunteer system's
// exports and the usual hand-made rosters give them. Name, phone and
// identity number are required; the others may be absent.
var rosterColumns = map[string][]string{
	"name":        {"姓名", "志愿者姓名", "name"},
	"phone":       {"手机号码", "手机号", "联系电话", "联系方式", "phone"},
	"id_number":   {"证件号码", "身份证号", "身份证号码", "公民身份号码", "id_number"},
	"national_no": {"志愿者编号", "全国志愿服务信息系统编号", "志愿者id", "national_no"},
	"skills":      {"服务技能", "技能特长", "专业技能", "skills"},
}

// MaxRosterBytes bounds a roster upload.
const MaxRosterBytes = 16 << 20

// maxRosterColumns bounds a roster row's width.
const maxRosterColumns = 200

// ParseRoster reads an XLSX roster: the rows, and the problems of the
// header (a missing required column is reported against row 1). Cells
// are trimmed; blank rows are skipped (their numbers still count, so
// that a problem names the row the spreadsheet shows).
func ParseRoster(r io.Reader) ([]Registration, []int, []RowProblem, error) {
	// The upload is bounded, and so is what it may unpack to: a few
	// kilobytes of XML can describe a sheet of millions of cells.
	f, err := excelize.OpenReader(io.LimitReader(r, MaxRosterBytes), excelize.Options{UnzipSizeLimit: 8 * MaxRosterBytes, UnzipXMLSizeLimit: 4 * MaxRosterBytes})
	if err != nil {
		return nil, nil, nil, apperr.New(apperr.Invalid, "volunteer.roster_unreadable")
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, nil, nil, apperr.New(apperr.Invalid, "volunteer.import_empty")
	}
	rows, err := f.Rows(sheets[0])
	if err != nil {
		return nil, nil, nil, apperr.New(apperr.Invalid, "volunteer.roster_unreadable")
	}
	defer rows.Close()
	// Row by row, keeping only the mapped columns: a row padded out to
	// its last cell (column XFD) costs nothing beyond its reading.
	col := map[string]int{}
	var out []Registration
	var lines []int
	line := 0
	for rows.Next() {
		line++
		row, err := rows.Columns()
		if err != nil {
			return nil, nil, nil, apperr.New(apperr.Invalid, "volunteer.roster_unreadable")
		}
		if len(row) > maxRosterColumns {
			// no roster has hundreds of columns; a cell at column XFD
			// makes every such row 16,384 cells wide
			return nil, nil, nil, apperr.New(apperr.Invalid, "volunteer.roster_too_wide", "row", fmt.Sprint(line), "max", fmt.Sprint(maxRosterColumns))
		}
		if line == 1 {
			col = sheet.Columns(row, rosterColumns)
			var problems []RowProblem
			for _, field := range []string{"name", "phone", "id_number"} {
				if _, ok := col[field]; !ok {
					problems = append(problems, RowProblem{Row: 1, Key: "volunteer.roster_no_column", Args: []string{"column", rosterColumns[field][0]}})
				}
			}
			if len(problems) > 0 {
				return nil, nil, problems, nil
			}
			continue
		}
		cell := func(field string) string {
			i, ok := col[field]
			if !ok || i >= len(row) {
				return ""
			}
			return strings.TrimSpace(row[i])
		}
		reg := Registration{Name: cell("name"), Phone: cell("phone"), IDNumber: cell("id_number"), NationalNo: cell("national_no"), Skills: cell("skills")}
		if reg == (Registration{}) {
			continue // a blank row (its number still counts)
		}
		if len(out) >= MaxImportRows {
			return nil, nil, nil, apperr.New(apperr.Invalid, "volunteer.import_too_many", "max", fmt.Sprint(MaxImportRows))
		}
		out = append(out, reg)
		lines = append(lines, line)
	}
	if err := rows.Error(); err != nil {
		return nil, nil, nil, apperr.New(apperr.Invalid, "volunteer.roster_unreadable")
	}
	if line == 0 || len(out) == 0 {
		return nil, nil, nil, apperr.New(apperr.Invalid, "volunteer.import_empty")
	}
	return out, lines, nil, nil
}

// ImportRosterXLSX reads an XLSX roster and imports it into a team actor
// manages (ImportRoster): every problem names the spreadsheet's row, and
// one bad row stores nothing.
func (s *Service) ImportRosterXLSX(ctx context.Context, actor org.Actor, teamID int64, r io.Reader) (ImportReport, error) {
	if err := s.manages(ctx, actor, teamID); err != nil {
		return ImportReport{}, err
	}
	rows, lines, problems, err := ParseRoster(r)
	if err != nil {
		return ImportReport{}, err
	}
	if len(problems) > 0 {
		return ImportReport{Problems: problems}, nil
	}
	rep, err := s.ImportRoster(ctx, actor, teamID, rows)
	for i := range rep.Problems {
		if n := rep.Problems[i].Row; n >= 1 && n <= len(lines) {
			rep.Problems[i].Row = lines[n-1]
		}
		for j := 0; j+1 < len(rep.Problems[i].Args); j += 2 {
			if rep.Problems[i].Args[j] == "row" {
				var n int
				if _, err := fmt.Sscan(rep.Problems[i].Args[j+1], &n); err == nil && n >= 1 && n <= len(lines) {
					rep.Problems[i].Args[j+1] = fmt.Sprint(lines[n-1])
				}
			}
		}
	}
	return rep, err
}
