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
	"io"
	"strings"
	"unicode/utf8"
)

// Writer writes one worksheet. Row adds a row; Close ends the workbook.
// A Writer is not for concurrent use.
type Writer struct {
	zw     *zip.Writer
	buf    []byte
	rows   int
	chunks chan []byte // filled buffers, to the compressor
	free   chan []byte // buffers back from it
	done   chan error
	closed bool
}

const chunkSize = 256 << 10

// New starts a workbook on w with one sheet named name (at most 31
// characters; see SafeName).
func New(w io.Writer, name string) (*Writer, error) {
	zw := zip.NewWriter(w)
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, flate.BestSpeed)
	})
	parts := []struct{ name, body string }{
		{"[Content_Types].xml", contentTypes},
		{"_rels/.rels", rootRels},
		{"xl/workbook.xml", workbookHead + `<sheet name="` + strings.ReplaceAll(string(escape(nil, SafeName(name))), `"`, "&quot;") + `" sheetId="1" r:id="rId1"/>` + workbookTail},
		{"xl/_rels/workbook.xml.rels", workbookRels},
		{"xl/styles.xml", styles},
	}
	for _, p := range parts {
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
	s := &Writer{zw: zw, chunks: make(chan []byte, 2), free: make(chan []byte, 3), done: make(chan error, 1)}
	for range 3 {
		s.free <- make([]byte, 0, chunkSize+4096)
	}
	go s.compress(f)
	s.buf = <-s.free
	s.buf = append(s.buf, sheetHead...)
	return s, nil
}

// compress writes the filled buffers into the sheet's entry. Its first
// error goes to done at once, so that Row stops early (a client that went
// away); it keeps taking buffers until Close.
func (s *Writer) compress(f io.Writer) {
	bw := bufio.NewWriterSize(f, 64<<10)
	var err error
	for b := range s.chunks {
		if err == nil {
			if _, err = bw.Write(b); err != nil {
				s.done <- err
			}
		}
		s.free <- b[:0]
	}
	if err == nil {
		s.done <- bw.Flush()
	}
}

// Row appends a row of text cells.
func (s *Writer) Row(cells []string) error {
	if s.closed {
		return errors.New("sheet: row after close")
	}
	s.rows++
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
	if len(s.buf) >= chunkSize {
		return s.flush()
	}
	return nil
}

// flush hands the buffer to the compressor and takes a free one.
func (s *Writer) flush() error {
	select {
	case err := <-s.done: // only an error comes before Close
		s.done <- err
		return err
	default:
	}
	s.chunks <- s.buf
	s.buf = <-s.free
	return nil
}

// Rows is how many rows were written.
func (s *Writer) Rows() int { return s.rows }

// Close ends the sheet and the workbook (it does not close the
// underlying writer).
func (s *Writer) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	s.buf = append(s.buf, sheetTail...)
	s.chunks <- s.buf
	close(s.chunks)
	if err := <-s.done; err != nil {
		return err
	}
	return s.zw.Close()
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
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>`

const rootRels = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`

const workbookHead = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>`

const workbookTail = `</sheets></workbook>`

const workbookRels = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>`

const styles = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs></styleSheet>`

const sheetHead = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`

const sheetTail = `</sheetData></worksheet>`
