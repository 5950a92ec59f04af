// Package pdfdoc lays out the office's printed documents (督办单, 调度报告,
// 通报) on A4 pages: headings, text, tables that wrap and repeat their
// header across pages, bar and line charts drawn as vectors, and a seal
// area. The text is set in an embedded CJK font (ChuangwenKai: LXGW
// WenKai under the SIL Open Font License 1.1, subset to GB 2312 and the
// project's own words and renamed, as the licence asks; font/OFL.txt,
// `make font`), so a document prints the same on every machine; each
// PDF carries only the glyphs it uses.
//
// A document is deterministic: the same content and date give the same
// bytes (a published bulletin's printed form changes only if its issuer,
// a setting, does; the bulletin's hash is of its JSON document).
package pdfdoc

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"io"
	"math"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"codeberg.org/go-pdf/fpdf"
)

//go:embed font/chuangwen-kai.ttf.gz
var fontGz []byte

// FontName is the font's name as pdffonts lists it (after the subset
// prefix fpdf adds).
const FontName = "ChuangwenKai"

var fontTTF = sync.OnceValues(func() ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(fontGz))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
})

// family is the font's name inside fpdf; see Write for subsetTag.
const (
	family    = "cw+" + FontName
	subsetTag = "CWKAIA+"
)

const (
	margin  = 18.0 // mm
	pageW   = 210.0
	pageH   = 297.0
	bodyPt  = 10.0
	lineMM  = 5.2
	cellPad = 1.2
)

// Doc is a document being laid out. Methods record the first error and
// do nothing after it; Write returns it.
type Doc struct {
	f      *fpdf.Fpdf
	err    error
	width  map[rune]float64 // at bodyPt, per rune, for wrapping
	size   float64
	footer string
}

// New starts an A4 portrait document. footer is printed at the bottom
// of every page beside "page n / N"; date stamps the file's metadata
// (so that equal documents are equal files).
func New(title, footer string, date time.Time) *Doc {
	title, footer = safe(title), safe(footer)
	ttf, err := fontTTF()
	f := fpdf.New("P", "mm", "A4", "")
	d := &Doc{f: f, err: err, width: map[rune]float64{}}
	if err != nil {
		return d
	}
	f.SetCatalogSort(true)
	f.SetCreationDate(date.UTC())
	f.SetModificationDate(date.UTC())
	f.SetProducer("chuangwen", false)
	f.SetTitle(title, true)
	f.SetMargins(margin, margin, margin)
	f.SetAutoPageBreak(false, margin)
	f.AddUTF8FontFromBytes(family, "", ttf)
	d.footer = footer
	f.AddPage()
	d.setSize(bodyPt)
	d.check()
	return d
}

func (d *Doc) check() {
	if d.err == nil && d.f.Err() {
		d.err = d.f.Error()
	}
}

func (d *Doc) setSize(pt float64) {
	d.size = pt
	d.f.SetFont(family, "", pt)
}

// textWidth is s's width in mm at the current size.
func (d *Doc) textWidth(s string) float64 {
	w := 0.0
	for _, r := range s {
		x, ok := d.width[r]
		if !ok {
			d.f.SetFontSize(bodyPt)
			x = d.f.GetStringWidth(string(r))
			d.f.SetFontSize(d.size)
			d.width[r] = x
		}
		w += x
	}
	return w * d.size / bodyPt
}

// wrap breaks s into lines no wider than w mm at the current size,
// between any two CJK characters or at spaces; explicit newlines stay.
func (d *Doc) wrap(s string, w float64) []string {
	var lines []string
	for _, para := range strings.Split(s, "\n") {
		var line []rune
		lw := 0.0
		lastSpace := -1
		for _, r := range para {
			rw := d.textWidth(string(r))
			if lw+rw > w && len(line) > 0 {
				if r != ' ' && lastSpace > 0 && !isCJK(r) {
					// break a Latin word at its space
					lines = append(lines, string(line[:lastSpace]))
					line = append([]rune{}, line[lastSpace+1:]...)
				} else {
					lines = append(lines, string(line))
					line = line[:0]
				}
				lastSpace = -1
				lw = d.textWidth(string(line))
				if r == ' ' {
					continue
				}
			}
			if r == ' ' {
				lastSpace = len(line)
			} else if isCJK(r) {
				lastSpace = -1
			}
			line = append(line, r)
			lw += rw
		}
		lines = append(lines, string(line))
	}
	return lines
}

// safe makes text printable by fpdf and the font: characters beyond the
// Basic Multilingual Plane (an emoji in a citizen's description, a rare
// hanzi of extension B), which fpdf's UTF-8 fonts cannot hold, become □;
// control characters but newlines become spaces.
func safe(s string) string {
	ok := true
	for _, r := range s {
		if r >= 0x10000 || r < 0x20 && r != '\n' || r == utf8.RuneError {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 0x10000 || r == utf8.RuneError:
			return '□'
		case r < 0x20 && r != '\n':
			return ' '
		}
		return r
	}, s)
}

func isCJK(r rune) bool {
	return r >= 0x2E80 && r <= 0x9FFF || r >= 0xF900 && r <= 0xFAFF || r >= 0xFF00 && r <= 0xFFEF
}

// ensure starts a new page unless h mm fit above the bottom margin.
// It tells whether it did.
func (d *Doc) ensure(h float64) bool {
	if d.f.GetY()+h > pageH-margin {
		d.f.AddPage()
		return true
	}
	return false
}

// NewPage starts a new page (a notice per page in a bundle).
func (d *Doc) NewPage() {
	if d.err != nil {
		return
	}
	d.f.AddPage()
	d.setSize(bodyPt)
}

// Title is the document's title, centred and large, with an optional
// line under it (the document number, the period).
func (d *Doc) Title(title, sub string) {
	if d.err != nil {
		return
	}
	title, sub = safe(title), safe(sub)
	d.setSize(20)
	d.f.SetTextColor(180, 20, 20)
	d.f.CellFormat(0, 11, title, "", 1, "C", false, 0, "")
	d.f.SetTextColor(0, 0, 0)
	if sub != "" {
		d.setSize(bodyPt + 1)
		d.f.CellFormat(0, 7, sub, "", 1, "C", false, 0, "")
	}
	y := d.f.GetY() + 1
	d.f.SetDrawColor(180, 20, 20)
	d.f.SetLineWidth(0.6)
	d.f.Line(margin, y, pageW-margin, y)
	d.f.SetLineWidth(0.2)
	d.f.SetDrawColor(0, 0, 0)
	d.f.SetY(y + 4)
	d.setSize(bodyPt)
	d.check()
}

// Heading starts a section; it keeps at least a few lines below it on
// the same page.
func (d *Doc) Heading(s string) {
	if d.err != nil {
		return
	}
	s = safe(s)
	d.ensure(8 + 4*lineMM)
	d.f.Ln(2)
	d.setSize(13)
	d.f.CellFormat(0, 8, s, "", 1, "L", false, 0, "")
	d.setSize(bodyPt)
	d.check()
}

// Text is a paragraph, wrapped to the page.
func (d *Doc) Text(s string) {
	if d.err != nil {
		return
	}
	s = safe(s)
	for _, line := range d.wrap(s, pageW-2*margin) {
		d.ensure(lineMM)
		d.f.CellFormat(0, lineMM, line, "", 1, "L", false, 0, "")
	}
	d.check()
}

// Col is a table column: its title, its share of the page's width and
// its alignment ("L", "C" or "R"; figures read best right-aligned).
type Col struct {
	Title string
	Width float64
	Align string
}

// Table draws rows under a header that repeats on every page the table
// runs onto; cells wrap. An empty table prints empty, one line saying so.
func (d *Doc) Table(cols []Col, rows [][]string, empty string) {
	if d.err != nil {
		return
	}
	empty = safe(empty)
	cols = append([]Col(nil), cols...)
	for i := range cols {
		cols[i].Title = safe(cols[i].Title)
	}
	clean := make([][]string, len(rows))
	for i, r := range rows {
		clean[i] = make([]string, len(r))
		for j, c := range r {
			clean[i][j] = safe(c)
		}
	}
	rows = clean
	d.setSize(9)
	total := 0.0
	for _, c := range cols {
		total += c.Width
	}
	ws := make([]float64, len(cols))
	for i, c := range cols {
		ws[i] = c.Width / total * (pageW - 2*margin)
	}
	line := 4.4
	header := func() {
		cells := make([]string, len(cols))
		for i, c := range cols {
			cells[i] = c.Title
		}
		d.f.SetFillColor(235, 235, 240)
		d.row(ws, cols, cells, line, true)
	}
	d.ensure(3 * line)
	header()
	if len(rows) == 0 {
		d.f.CellFormat(pageW-2*margin, line+2*cellPad, empty, "1", 1, "C", false, 0, "")
	}
	for _, r := range rows {
		h := d.rowHeight(ws, r, line)
		if d.ensure(h) {
			header()
		}
		d.row(ws, cols, r, line, false)
	}
	d.f.Ln(2)
	d.setSize(bodyPt)
	d.check()
}

func (d *Doc) rowHeight(ws []float64, cells []string, line float64) float64 {
	n := 1
	for i, c := range cells {
		if i < len(ws) {
			n = max(n, len(d.cellLines(c, ws[i]-2*cellPad, line)))
		}
	}
	return float64(n)*line + 2*cellPad
}

// cellLines wraps a cell's text to width w, at most as many lines as fit
// on a page under the table's header (a row is never split across
// pages): a longer text ends its last line with "…".
func (d *Doc) cellLines(text string, w, line float64) []string {
	lines := d.wrap(text, w)
	most := int((pageH - 2*margin - 40) / line)
	if len(lines) <= most {
		return lines
	}
	lines = lines[:most]
	last := []rune(lines[most-1])
	for len(last) > 0 && d.textWidth(string(last)+"…") > w {
		last = last[:len(last)-1]
	}
	lines[most-1] = string(last) + "…"
	return lines
}

func (d *Doc) row(ws []float64, cols []Col, cells []string, line float64, fill bool) {
	h := d.rowHeight(ws, cells, line)
	x0, y0 := d.f.GetXY()
	x := x0
	for i, w := range ws {
		style := "D"
		if fill {
			style = "FD"
		}
		d.f.Rect(x, y0, w, h, style)
		text := ""
		if i < len(cells) {
			text = cells[i]
		}
		align := cols[i].Align
		if fill {
			align = "C"
		}
		for j, l := range d.cellLines(text, w-2*cellPad, line) {
			d.f.SetXY(x+cellPad, y0+cellPad+float64(j)*line)
			d.f.CellFormat(w-2*cellPad, line, l, "", 0, align, false, 0, "")
		}
		x += w
	}
	d.f.SetXY(x0, y0+h)
}

// Bar is one bar of a chart.
type Bar struct {
	Label string
	Value float64
	Text  string // printed at the bar's end; the value when empty
}

// Bars draws a horizontal bar chart, a bar per entry from zero to the
// largest value (or to max when it is larger, e.g. 1 for rates).
func (d *Doc) Bars(title string, bars []Bar, maxValue float64) {
	if d.err != nil || len(bars) == 0 {
		return
	}
	title = safe(title)
	bars = append([]Bar(nil), bars...)
	for i := range bars {
		bars[i].Label, bars[i].Text = safe(bars[i].Label), safe(bars[i].Text)
	}
	barH, gap := 4.5, 1.6
	h := 8 + float64(len(bars))*(barH+gap)
	d.ensure(h)
	d.setSize(10)
	d.f.CellFormat(0, 6, title, "", 1, "L", false, 0, "")
	d.setSize(8)
	top := d.f.GetY() + 1
	labelW := 0.0
	for _, b := range bars {
		labelW = max(labelW, d.textWidth(b.Label))
	}
	labelW = math.Min(labelW+2, 55)
	for _, b := range bars {
		maxValue = math.Max(maxValue, b.Value)
	}
	if maxValue <= 0 {
		maxValue = 1
	}
	x0 := margin + labelW
	full := pageW - 2*margin - labelW - 22
	d.f.SetDrawColor(160, 160, 160)
	d.f.Line(x0, top, x0, top+float64(len(bars))*(barH+gap))
	for i, b := range bars {
		y := top + float64(i)*(barH+gap)
		d.f.SetXY(margin, y)
		d.f.CellFormat(labelW-1, barH, b.Label, "", 0, "R", false, 0, "")
		w := math.Max(0, b.Value) / maxValue * full
		d.f.SetFillColor(200, 50, 45)
		if w > 0 {
			d.f.Rect(x0, y, w, barH, "F")
		}
		text := b.Text
		if text == "" {
			text = trimFloat(b.Value)
		}
		d.f.SetXY(x0+w+1, y)
		d.f.CellFormat(21, barH, text, "", 0, "L", false, 0, "")
	}
	d.f.SetDrawColor(0, 0, 0)
	d.f.SetXY(margin, top+float64(len(bars))*(barH+gap)+3)
	d.setSize(bodyPt)
	d.check()
}

// Series is one line of a line chart.
type Series struct {
	Name   string
	Values []float64
	Color  [3]int
}

// Lines draws a line chart over the labels of the x axis, with a legend,
// horizontal grid lines and the axis's values.
func (d *Doc) Lines(title string, xs []string, series []Series) {
	if d.err != nil || len(xs) == 0 {
		return
	}
	title = safe(title)
	xs = append([]string(nil), xs...)
	for i := range xs {
		xs[i] = safe(xs[i])
	}
	series = append([]Series(nil), series...)
	for i := range series {
		series[i].Name = safe(series[i].Name)
	}
	h := 62.0
	d.ensure(h + 8)
	d.setSize(10)
	d.f.CellFormat(0, 6, title, "", 1, "L", false, 0, "")
	top := d.f.GetY() + 2
	left, right := margin+12, pageW-margin-10
	bottom := top + h - 14
	hi := 0.0
	for _, s := range series {
		for _, v := range s.Values {
			hi = math.Max(hi, v)
		}
	}
	step := niceStep(hi / 4)
	hi = step * math.Ceil(hi/step)
	if hi == 0 {
		hi, step = 4, 1
	}
	d.setSize(7)
	d.f.SetLineWidth(0.1)
	d.f.SetDrawColor(200, 200, 200)
	for v := 0.0; v <= hi+step/2; v += step {
		y := bottom - v/hi*(bottom-top)
		d.f.Line(left, y, right, y)
		d.f.SetXY(margin, y-2)
		d.f.CellFormat(11, 4, trimFloat(v), "", 0, "R", false, 0, "")
	}
	xAt := func(i int) float64 {
		if len(xs) == 1 {
			return (left + right) / 2
		}
		return left + float64(i)/float64(len(xs)-1)*(right-left)
	}
	every := int(math.Ceil(float64(len(xs)) / 12))
	for i, x := range xs {
		if i%every == 0 {
			d.f.SetXY(xAt(i)-10, bottom+1)
			d.f.CellFormat(20, 4, x, "", 0, "C", false, 0, "")
		}
	}
	d.f.SetLineWidth(0.5)
	for _, s := range series {
		d.f.SetDrawColor(s.Color[0], s.Color[1], s.Color[2])
		d.f.SetFillColor(s.Color[0], s.Color[1], s.Color[2])
		for i, v := range s.Values {
			y := bottom - v/hi*(bottom-top)
			if i > 0 {
				d.f.Line(xAt(i-1), bottom-s.Values[i-1]/hi*(bottom-top), xAt(i), y)
			}
			d.f.Circle(xAt(i), y, 0.7, "F")
		}
	}
	// legend
	x := left
	for _, s := range series {
		d.f.SetFillColor(s.Color[0], s.Color[1], s.Color[2])
		d.f.Rect(x, bottom+7, 4, 2.5, "F")
		d.f.SetXY(x+5, bottom+6)
		w := d.textWidth(s.Name) + 2
		d.f.CellFormat(w, 4.5, s.Name, "", 0, "L", false, 0, "")
		x += w + 10
	}
	d.f.SetLineWidth(0.2)
	d.f.SetDrawColor(0, 0, 0)
	d.f.SetXY(margin, top+h-2)
	d.setSize(bodyPt)
	d.check()
}

// niceStep rounds a raw step up to 1, 2 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	if raw <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if raw <= m*p {
			return m * p
		}
	}
	return 10 * p
}

func trimFloat(v float64) string {
	s := fmt.Sprintf("%.2f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s
}

// Seal is the closing block at the right: the issuer, the date, and a
// round seal area (盖章处) where the office stamps the printed copy.
func (d *Doc) Seal(issuer, date, label string) {
	if d.err != nil {
		return
	}
	issuer, date, label = safe(issuer), safe(date), safe(label)
	d.ensure(48)
	d.f.Ln(6)
	y := d.f.GetY()
	cx, cy, r := pageW-margin-30, y+20, 19.0
	d.f.SetDrawColor(200, 60, 60)
	d.f.SetDashPattern([]float64{1.2, 1}, 0)
	d.f.Circle(cx, cy, r, "D")
	d.f.SetDashPattern(nil, 0)
	d.f.SetDrawColor(0, 0, 0)
	d.setSize(8)
	d.f.SetTextColor(200, 60, 60)
	d.f.SetXY(cx-r, cy-2)
	d.f.CellFormat(2*r, 4, label, "", 0, "C", false, 0, "")
	d.f.SetTextColor(0, 0, 0)
	d.setSize(11)
	d.f.SetXY(margin, y+14)
	d.f.CellFormat(pageW-2*margin-62, 6, issuer, "", 2, "R", false, 0, "")
	d.f.SetX(margin)
	d.f.CellFormat(pageW-2*margin-62, 6, date, "", 1, "R", false, 0, "")
	d.f.SetY(y + 44)
	d.setSize(bodyPt)
	d.check()
}

// Code is a square two-dimensional code (a QR code's modules, true for
// dark, quiet zone included) drawn sizeMM wide at the left margin, with
// caption beside it: e.g. the address where anyone checks a certificate.
func (d *Doc) Code(modules [][]bool, sizeMM float64, caption string) {
	if d.err != nil || len(modules) == 0 {
		return
	}
	caption = safe(caption)
	d.ensure(sizeMM + 6)
	d.f.Ln(3)
	x0, y0 := margin, d.f.GetY()
	cell := sizeMM / float64(len(modules))
	d.f.SetFillColor(0, 0, 0)
	for i, row := range modules {
		for j := 0; j < len(row); {
			if !row[j] {
				j++
				continue
			}
			k := j
			for k < len(row) && row[k] {
				k++
			}
			// one rectangle per run of dark modules: a smaller file
			d.f.Rect(x0+float64(j)*cell, y0+float64(i)*cell, float64(k-j)*cell, cell, "F")
			j = k
		}
	}
	d.f.SetFillColor(255, 255, 255)
	d.setSize(9)
	d.f.SetXY(x0+sizeMM+4, y0+sizeMM/2-6)
	d.f.MultiCell(pageW-2*margin-sizeMM-4, 4.5, caption, "", "L", false)
	d.f.SetXY(margin, y0+sizeMM+3)
	d.setSize(bodyPt)
	d.check()
}

// Write renders the document.
func (d *Doc) Write(w io.Writer) error {
	if d.err != nil {
		return d.err
	}
	// The footer goes on last, when the number of pages is known (fpdf's
	// page-count alias does not reach text in a subset font).
	n := d.f.PageCount()
	d.setSize(8)
	d.f.SetTextColor(110, 110, 110)
	for p := 1; p <= n; p++ {
		d.f.SetPage(p)
		d.f.SetXY(margin, pageH-margin+6)
		d.f.CellFormat(pageW-2*margin, 4, fmt.Sprintf("%s    %d / %d", d.footer, p, n), "", 0, "C", false, 0, "")
	}
	var b bytes.Buffer
	if err := d.f.Output(&b); err != nil {
		return err
	}
	// Mark the font as the subset it is (PDF 32000 9.6.4: a six-letter
	// tag and a plus sign before the name), in place: the tag has the
	// length of fpdf's "utf8" prefix plus the two letters before the plus
	// in family, so no offset in the file moves.
	out := bytes.ReplaceAll(b.Bytes(), []byte("/utf8"+strings.ToLower(family)), []byte("/"+subsetTag+FontName))
	_, err := w.Write(out)
	return err
}
