package assess

import (
	"bufio"
	"bytes"
	"chuangwen/internal/sheet"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// Limits on tabular files.
const (
	// MaxTableBytes is the largest CSV file read.
	MaxTableBytes = 256 << 20
	// MaxSheetColumns bounds a workbook row's width (the widest of the
	// assessment's tables has a few dozen columns).
	MaxSheetColumns = 200
	// MaxWorkbookBytes is the largest XLSX file read, and the most its
	// parts may unpack to is MaxWorkbookBytes × 8.
	MaxWorkbookBytes = 32 << 20
	// MaxProblems is how many problems an import lists; the rest are
	// counted in one assess.more_problems.
	MaxProblems = 500
	// MaxTextLen is the longest free text accepted in a cell (a note, an
	// address), in characters.
	MaxTextLen = 2000
)

// problemList collects the problems of one file, at most MaxProblems of
// them plus a count of the rest.
type problemList struct {
	list []Problem
	more int
}

func (pl *problemList) add(p Problem) {
	if len(pl.list) >= MaxProblems {
		pl.more++
		return
	}
	pl.list = append(pl.list, p)
}

func (pl *problemList) any() bool { return len(pl.list) > 0 }

// done returns the problems, with the count of those not listed.
func (pl *problemList) done() []Problem {
	if pl.more == 0 {
		return pl.list
	}
	return append(pl.list, Problem{Key: "assess.more_problems", Table: true,
		Args: []string{"path", "", "line", "0", "count", strconv.Itoa(pl.more)}})
}

// end closes a table's reading: a file without rows is a problem; the
// problems, if any, come back with the error an import returns.
func (t *table) end(pl *problemList, rows int) ([]Problem, error) {
	if !pl.any() && rows == 0 {
		t.add(0, "", "assess.no_rows")
	}
	if !pl.any() {
		return nil, nil
	}
	ps := pl.done()
	return ps, problemsError(ps)
}

// table is a file of rows under a header row: a CSV file, or the first
// sheet of an XLSX workbook. Column names are matched without regard to
// case or surrounding spaces.
type table struct {
	sheet string         // the sheet's name; "" for CSV
	names []string       // header names by position (lower case, trimmed)
	col   map[string]int // name → position
	pl    *problemList
	// next returns the next row's cells (trimmed) and its row number, or
	// io.EOF after the last row. Empty rows are skipped.
	next func() ([]string, int, error)
}

// column names a column for a problem: the name in a CSV file, the
// letter and the name in a sheet ("H (lead_unit)").
func (t *table) column(name string) string {
	if t.sheet == "" {
		return name
	}
	i, ok := t.col[name]
	if !ok {
		return name
	}
	letter, err := excelize.ColumnNumberToName(i + 1)
	if err != nil {
		return name
	}
	return letter + " (" + name + ")"
}

// add records a problem at a row and column (column "" for the row).
func (t *table) add(row int, column, key string, args ...string) {
	p := Problem{Line: row, Key: key, Table: true, Sheet: t.sheet,
		Args: append([]string{"path", "", "line", strconv.Itoa(row)}, args...)}
	if column != "" {
		p.Column = t.column(column)
	}
	t.pl.add(p)
}

// get returns the cell of the named column, "" when the file has no such
// column or the row is short.
func (t *table) get(rec []string, name string) string {
	i, ok := t.col[name]
	if !ok || i >= len(rec) {
		return ""
	}
	return rec[i]
}

// header reads the header row: every name must be one of columns, given
// once; the required ones must be there. It reports false when the rows
// cannot be read against it.
func (t *table) header(rec []string, row int, columns, required []string) bool {
	t.col = map[string]int{}
	t.names = make([]string, len(rec))
	ok := true
	for i, h := range rec {
		h = strings.ToLower(strings.TrimSpace(h))
		t.names[i] = h
		if h == "" {
			continue
		}
		if !contains(columns, h) {
			t.add(row, "", "assess.unknown_column", "column", h)
			ok = false
			continue
		}
		if _, dup := t.col[h]; dup {
			t.add(row, "", "assess.dup_column", "column", h)
			ok = false
			continue
		}
		t.col[h] = i
	}
	for _, c := range required {
		if _, has := t.col[c]; !has {
			t.add(row, "", "assess.header_missing", "column", c)
			ok = false
		}
	}
	return ok
}

// csvTable reads a CSV file (UTF-8, optionally with a byte order mark, as
// Excel's "CSV UTF-8" writes it) and its header row. It returns nil when
// not even the header can be read; the problem is then in pl.
func csvTable(r io.Reader, pl *problemList, columns, required []string) *table {
	t := &table{pl: pl}
	br := bufio.NewReaderSize(io.LimitReader(r, MaxTableBytes+1), 64<<10)
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, []byte{0xEF, 0xBB, 0xBF}) {
		br.Discard(3)
	}
	counted := &countingReader{r: br}
	cr := csv.NewReader(counted)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	row := 0
	read := func() ([]string, int, error) {
		rec, err := cr.Read()
		if counted.n > MaxTableBytes {
			t.add(0, "", "assess.read", "detail", fmt.Sprintf("larger than %d bytes", MaxTableBytes))
			return nil, 0, errStop
		}
		if err == io.EOF {
			return nil, 0, io.EOF
		}
		row++
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				t.add(row, "", "assess.csv_syntax", "detail", fmt.Sprintf("line %d: %v", pe.Line, pe.Err))
			} else {
				t.add(row, "", "assess.read", "detail", err.Error())
			}
			return nil, row, errStop
		}
		for i, f := range rec {
			if !utf8.ValidString(f) {
				t.add(row, "", "assess.not_utf8")
				return nil, row, errStop
			}
			rec[i] = sheet.UnquoteCSV(strings.TrimSpace(f))
		}
		return rec, row, nil
	}
	rec, hrow, err := read()
	if err == io.EOF {
		t.add(0, "", "assess.no_rows")
		return nil
	}
	if err != nil || !t.header(rec, hrow, columns, required) {
		return nil
	}
	width := len(rec)
	t.next = func() ([]string, int, error) {
		for {
			rec, row, err := read()
			if err != nil {
				return nil, row, err
			}
			if blank(rec) {
				continue
			}
			if len(rec) != width {
				t.add(row, "", "assess.field_count", "count", strconv.Itoa(len(rec)), "want", strconv.Itoa(width))
				continue
			}
			return rec, row, nil
		}
	}
	return t
}

// errStop ends the reading of a table after a problem that leaves the
// rest unreadable.
var errStop = errors.New("assess: stop reading")

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// openWorkbook reads an XLSX workbook with limits on its size and on what
// its parts unpack to.
func openWorkbook(r io.Reader) (*excelize.File, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxWorkbookBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxWorkbookBytes {
		return nil, fmt.Errorf("larger than %d bytes", MaxWorkbookBytes)
	}
	return excelize.OpenReader(bytes.NewReader(data), excelize.Options{
		UnzipSizeLimit: MaxWorkbookBytes * 8, UnzipXMLSizeLimit: MaxWorkbookBytes * 8,
	})
}

// sheetRows returns the rows of a workbook's first sheet as written in
// the file (numbers in their stored form, not as a format shows them),
// trimmed, with the sheet's name. Row i of the result is the sheet's row
// i + 1.
func sheetRows(r io.Reader) (string, [][]string, error) {
	f, err := openWorkbook(r)
	if err != nil {
		return "", nil, err
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return "", nil, errors.New("the workbook has no sheet")
	}
	// Row by row, each checked for its width as it comes: a workbook of a
	// few kilobytes whose rows each hold one cell in the last column
	// (XFD) would otherwise be expanded, whole, into 16,384 cells a row.
	it, err := f.Rows(sheets[0])
	if err != nil {
		return sheets[0], nil, err
	}
	defer it.Close()
	var rows [][]string
	empty := 0 // empty rows not yet kept: kept once a row follows them (a sheet formatted down to its last row ends in a million)
	for it.Next() {
		rec, err := it.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return sheets[0], nil, err
		}
		if len(rec) > MaxSheetColumns {
			return sheets[0], nil, tooWide{row: len(rows) + empty + 1, columns: len(rec)}
		}
		for i, c := range rec {
			rec[i] = strings.TrimSpace(c)
		}
		if blank(rec) {
			empty++
			continue
		}
		for ; empty > 0; empty-- {
			rows = append(rows, nil)
		}
		rows = append(rows, rec)
	}
	return sheets[0], rows, it.Error()
}

// tooWide is a workbook row wider than MaxSheetColumns.
type tooWide struct{ row, columns int }

func (e tooWide) Error() string {
	return fmt.Sprintf("row %d has %d columns, more than %d", e.row, e.columns, MaxSheetColumns)
}

// sheetProblem is the problem a workbook that sheetRows could not read
// has, in sheet.
func sheetProblem(sheet string, err error) Problem {
	var w tooWide
	if errors.As(err, &w) {
		return Problem{Line: w.row, Key: "assess.too_wide", Table: true, Sheet: sheet,
			Args: []string{"path", "", "line", strconv.Itoa(w.row), "columns", strconv.Itoa(w.columns), "max", strconv.Itoa(MaxSheetColumns)}}
	}
	return Problem{Key: "assess.xlsx_read", Table: true, Sheet: sheet, Args: []string{"path", "", "line", "0", "detail", err.Error()}}
}

// xlsxTable reads the first sheet of a workbook as a table whose header
// is its first non-empty row. It returns nil when the header cannot be
// read; the problem is then in pl.
func xlsxTable(r io.Reader, pl *problemList, columns, required []string) *table {
	t := &table{pl: pl}
	sheet, rows, err := sheetRows(r)
	t.sheet = sheet
	if err != nil {
		t.pl.add(sheetProblem(sheet, err))
		return nil
	}
	i := 0
	for i < len(rows) && blank(rows[i]) {
		i++
	}
	if i == len(rows) {
		t.add(0, "", "assess.no_rows")
		return nil
	}
	if !t.header(rows[i], i+1, columns, required) {
		return nil
	}
	i++
	t.next = func() ([]string, int, error) {
		for ; i < len(rows); i++ {
			if !blank(rows[i]) {
				i++
				return rows[i-1], i, nil
			}
		}
		return nil, 0, io.EOF
	}
	return t
}

// writeSheet writes rows into a new workbook's only sheet. Cells are text,
// except those whose column is in numeric: written as numbers with the
// exact decimal text given (never through a float).
func writeSheet(w io.Writer, sheet string, rows [][]string, numeric func(row, col int) bool) error {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	for r, rec := range rows {
		for c, v := range rec {
			if v == "" {
				continue
			}
			cell, err := excelize.CoordinatesToCellName(c+1, r+1)
			if err != nil {
				return err
			}
			if numeric != nil && numeric(r, c) {
				err = f.SetCellDefault(sheet, cell, v)
			} else {
				err = f.SetCellStr(sheet, cell, v)
			}
			if err != nil {
				return err
			}
		}
	}
	return f.Write(w)
}

// splitList reads a list written in one cell: items separated by commas
// (also the full-width ，), 、 or semicolons, spaces ignored.
func splitList(s string) []string {
	var out []string
	for _, part := range strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == '，' || r == '、' || r == ';' || r == '；' || r == '\n'
	}) {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// WriteTable writes a table (its first row the header) as a workbook of
// one sheet; cells of the columns numeric names (by index) are numbers
// written with their exact decimal text, the rest text. The console's
// XLSX exports of round results, ledgers and rankings use it.
func WriteTable(w io.Writer, sheet string, rows [][]string, numeric ...int) error {
	num := map[int]bool{}
	for _, c := range numeric {
		num[c] = true
	}
	return writeSheet(w, sheet, rows, func(row, col int) bool {
		if row == 0 || !num[col] {
			return false
		}
		_, ok := new(big.Rat).SetString(rows[row][col])
		return ok
	})
}
