package assess_test

import (
	"archive/zip"
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"chuangwen/internal/assess"
	"chuangwen/internal/store"
	"chuangwen/internal/testcity"

	"github.com/xuri/excelize/v2"
)

// wideWorkbook is a workbook of a few kilobytes whose rows after the
// header each hold one cell in the last column (XFD), written as the
// parts' XML directly (excelize itself takes seconds to write one).
func wideWorkbook(t *testing.T, header []string, rows int) []byte {
	t.Helper()
	var sheet strings.Builder
	sheet.WriteString(`<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1">`)
	for i, h := range header {
		cell, _ := excelize.CoordinatesToCellName(i+1, 1)
		fmt.Fprintf(&sheet, `<c r="%s" t="inlineStr"><is><t>%s</t></is></c>`, cell, h)
	}
	sheet.WriteString(`</row>`)
	for r := 2; r < rows+2; r++ {
		fmt.Fprintf(&sheet, `<row r="%d"><c r="XFD%d"><v>1</v></c></row>`, r, r)
	}
	sheet.WriteString(`</sheetData></worksheet>`)
	parts := map[string]string{
		"[Content_Types].xml":        `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>`,
		"_rels/.rels":                `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`,
		"xl/workbook.xml":            `<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`,
		"xl/_rels/workbook.xml.rels": `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`,
		"xl/worksheets/sheet1.xml":   sheet.String(),
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range parts {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(body))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// A sites workbook or a tree workbook whose rows reach column XFD is
// refused at its first such row, with the row and the limit, without
// unpacking every row into 16,384 cells (2,000 such rows took the server
// from 164 MB to 902 MB before).
func TestWideWorkbooksRefused(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.importTree(testTree)
		wide := wideWorkbook(t, []string{"code", "name", "type", "region"}, 2000)
		if len(wide) > 64<<10 {
			t.Fatalf("the workbook is %d bytes", len(wide))
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, problems, err := f.svc.ImportSites(f.ctx, f.c.Admin, bytes.NewReader(wide), assess.FormatXLSX)
		runtime.ReadMemStats(&after)
		if err == nil && len(problems) == 0 {
			t.Fatal("a workbook 16,384 columns wide was imported")
		}
		if len(problems) != 1 || problems[0].Key != "assess.too_wide" || problems[0].Line != 2 {
			t.Fatalf("problems %+v, err %v", problems, err)
		}
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
			t.Errorf("refusing it allocated %d MB", grew>>20)
		}
		_, tp := assess.ParseXLSX(bytes.NewReader(wideWorkbook(t, []string{"project"}, 50)), assess.ParseOptions{})
		if len(tp) != 1 || tp[0].Key != "assess.too_wide" {
			t.Fatalf("tree problems %+v", tp)
		}
	})
}
