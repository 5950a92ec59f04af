// Package sheet streams one large worksheet as an XLSX workbook: rows go
// out as they come, compressed, with memory bounded whatever the number
// of rows. It is for the exports that can reach a million rows (the case
// list); every other workbook is written with excelize.
//
// excelize's stream writer spends 15–20 µs on a row of 17 cells (its
// cell model, references and type checks), which bounds an export to
// about 50,000 rows a second; here a row is written as SpreadsheetML text
// directly (inline strings, no cell references: both optional in the
// format) and compressed on a second goroutine, so that reading the
// rows and compressing them overlap. The file holds the parts a
// spreadsheet needs — content types, relationships, workbook, styles,
// one sheet — and opens in Excel, WPS and LibreOffice; the tests read it
// back with excelize.
package sheet

import (
	"archive/zip"
	"bufio"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Writer writes a worksheet (more, when the rows exceed what one sheet
// holds). Row adds a row; Close ends the workbook, Abort leaves it
// unfinished. A Writer is not for concurrent use.
type Writer struct {
	zw     *zip.Writer
	name   string
	sheets int      // sheets started
	header []string // the first row, repeated at the top of every further sheet
	inRows int      // rows in the current sheet
	buf    []byte
	rows   int
	chunks chan chunk // filled buffers, to the compressor
	free   chan []byte
	failed chan error    // the compressor's first error, as it happens
	done   chan struct{} // closed when the compressor has stopped
	final  error         // the compressor's error, read after done
	closed bool
	err    error
}

// chunk is a filled buffer; next, when set, is the entry the compressor
// opens after writing it (the next sheet).
type chunk struct {
	b    []byte
	next string
}

// MaxRows is how many rows a sheet holds (Excel's limit); row MaxRows+1
// starts a new sheet, named after the first with a number, under the
// first row again.
const MaxRows = 1 << 20

// maxRows is MaxRows but in the package's tests.
var maxRows = MaxRows

const chunkSize = 256 << 10

// New starts a workbook on w whose first sheet is named name (made
// acceptable by SafeName).
func New(w io.Writer, name string) (*Writer, error) {
	zw := zip.NewWriter(w)
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, flate.BestSpeed)
	})
	// The content types name the workbook and the styles; every other .xml
	// part is a worksheet by default, so the sheets need not be known yet.
	// The workbook, which lists them, is written at Close.
	for _, p := range []struct{ name, body string }{{"[Content_Types].xml", contentTypes}, {"_rels/.rels", rootRels}, {"xl/styles.xml", styles}} {
		f, err := zw.Create(p.name)
		if err != nil {
			return nil, err
		}
		if _, err := io.WriteString(f, p.body); err != nil {
			return nil, err
		}
	}
	f, err := zw.Create("xl/worksheets/sheet1.xml")
	if err != nil {
		return nil, err
	}
	s := &Writer{zw: zw, name: SafeName(name), sheets: 1, chunks: make(chan chunk, 2), free: make(chan []byte, 3),
		failed: make(chan error, 1), done: make(chan struct{})}
	for range 3 {
		s.free <- make([]byte, 0, chunkSize+4096)
	}
	go s.compress(f)
	s.buf = <-s.free
	s.buf = append(s.buf, sheetHead...)
	return s, nil
}

// compress writes the filled buffers into the current sheet's entry,
// opening the next one when told. Its first error goes to done at once,
// so that Row stops early (a client that went away); it keeps taking
// buffers until Close or Abort.
func (s *Writer) compress(f io.Writer) {
	defer close(s.done)
	bw := bufio.NewWriterSize(f, 64<<10)
	var err error
	fail := func(e error) {
		if err == nil && e != nil {
			err = e
			s.failed <- err
		}
	}
	for c := range s.chunks {
		if err == nil {
			_, e := bw.Write(c.b)
			fail(e)
			if err == nil && c.next != "" {
				fail(bw.Flush())
				if err == nil {
					f, e = s.zw.Create(c.next)
					fail(e)
					bw.Reset(f)
				}
			}
		}
		s.free <- c.b[:0]
	}
	if err == nil {
		err = bw.Flush()
	}
	s.final = err
}

// Row appends a row of text cells.
func (s *Writer) Row(cells []string) error {
	if s.err != nil {
		return s.err
	}
	if s.closed {
		return errors.New("sheet: row after close")
	}
	if s.header == nil {
		s.header = append([]string{}, cells...)
	}
	if s.inRows == maxRows {
		s.sheets++
		s.buf = append(s.buf, sheetTail...)
		if err := s.send("xl/worksheets/sheet" + strconv.Itoa(s.sheets) + ".xml"); err != nil {
			return err
		}
		s.buf = append(s.buf, sheetHead...)
		s.inRows = 0
		s.row(s.header)
	}
	s.rows++
	s.row(cells)
	if len(s.buf) >= chunkSize {
		return s.send("")
	}
	return nil
}

func (s *Writer) row(cells []string) {
	s.inRows++
	s.buf = append(s.buf, `<row>`...)
	for _, c := range cells {
		if c == "" {
			s.buf = append(s.buf, `<c/>`...)
			continue
		}
		s.buf = append(s.buf, `<c t="inlineStr"><is><t xml:space="preserve">`...)
		s.buf = escape(s.buf, c)
		s.buf = append(s.buf, `</t></is></c>`...)
	}
	s.buf = append(s.buf, `</row>`...)
}

// send hands the buffer to the compressor (with the next entry's name,
// if any) and takes a free one.
func (s *Writer) send(next string) error {
	select {
	case err := <-s.failed:
		s.err = err
		return err
	default:
	}
	s.chunks <- chunk{s.buf, next}
	s.buf = <-s.free
	return nil
}

// Rows is how many rows were written (the repeated first rows of later
// sheets not counted).
func (s *Writer) Rows() int { return s.rows }

// Close ends the sheet and the workbook (it does not close the
// underlying writer). After an error, Close returns that error.
func (s *Writer) Close() error {
	if s.closed {
		return s.err
	}
	s.closed = true
	s.buf = append(s.buf, sheetTail...)
	s.chunks <- chunk{b: s.buf}
	close(s.chunks)
	<-s.done
	if s.final != nil {
		s.err = s.final
		return s.err
	}
	var sheets, rels strings.Builder
	for i := 1; i <= s.sheets; i++ {
		name := s.name
		if i > 1 {
			suffix := " " + strconv.Itoa(i)
			name = SafeName(string([]rune(name)[:min(len([]rune(name)), 31-len(suffix))]) + suffix)
		}
		fmt.Fprintf(&sheets, `<sheet name="%s" sheetId="%d" r:id="rId%d"/>`, strings.ReplaceAll(string(escape(nil, name)), `"`, "&quot;"), i, i)
		fmt.Fprintf(&rels, `<Relationship Id="rId%d" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet%d.xml"/>`, i, i)
	}
	fmt.Fprintf(&rels, `<Relationship Id="rId%d" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>`, s.sheets+1)
	for _, p := range []struct{ name, body string }{
		{"xl/workbook.xml", workbookHead + sheets.String() + workbookTail},
		{"xl/_rels/workbook.xml.rels", relsHead + rels.String() + relsTail},
	} {
		f, err := s.zw.Create(p.name)
		if err == nil {
			_, err = io.WriteString(f, p.body)
		}
		if err != nil {
			s.err = err
			return err
		}
	}
	s.err = s.zw.Close()
	return s.err
}

// Abort stops the workbook unfinished, without its last entries: a reader
// finds the file damaged rather than whole but short. For a failure after
// the first bytes went out.
func (s *Writer) Abort() {
	if s.closed {
		return
	}
	s.closed = true
	if s.err == nil {
		s.err = errors.New("sheet: aborted")
	}
	close(s.chunks)
	<-s.done
}

// escape appends text as XML character data: the markup characters
// escaped, characters XML 1.0 cannot hold (most control characters)
// dropped, invalid UTF-8 replaced.
func escape(dst []byte, text string) []byte {
	start := 0
	for i := 0; i < len(text); {
		b := text[i]
		if b < utf8.RuneSelf {
			var rep string
			switch {
			case b == '&':
				rep = "&amp;"
			case b == '<':
				rep = "&lt;"
			case b == '>':
				rep = "&gt;"
			case b < 0x20 && b != '\t' && b != '\n' && b != '\r':
				rep = ""
			default:
				i++
				continue
			}
			dst = append(dst, text[start:i]...)
			dst = append(dst, rep...)
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		if r == utf8.RuneError && size == 1 || r == 0xFFFE || r == 0xFFFF {
			dst = append(dst, text[start:i]...)
			dst = append(dst, "\uFFFD"...)
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(dst, text[start:]...)
}

// SafeName makes a sheet name Excel accepts: at most 31 characters,
// none of []:*?/\.
func SafeName(name string) string {
	out := make([]rune, 0, 31)
	for _, r := range name {
		switch r {
		case '[', ']', ':', '*', '?', '/', '\\':
			r = '_'
		}
		if len(out) == 31 {
			break
		}
		out = append(out, r)
	}
	if len(out) == 0 {
		return "Sheet1"
	}
	return string(out)
}

const contentTypes = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>`

const rootRels = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`

const workbookHead = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>`

const workbookTail = `</sheets></workbook>`

const relsHead = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`

const relsTail = `</Relationships>`

const styles = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs></styleSheet>`

const sheetHead = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`

const sheetTail = `</sheetData></worksheet>`

// Columns finds the columns of an imported sheet by its header row: for
// each field, the first cell whose text (trimmed, case aside) is one of
// the field's names. A field none of whose names is there is absent.
func Columns(header []string, names map[string][]string) map[string]int {
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		for field, alts := range names {
			if _, found := col[field]; found {
				continue
			}
			for _, n := range alts {
				if h == strings.ToLower(n) {
					col[field] = i
					break
				}
			}
		}
	}
	return col
}
