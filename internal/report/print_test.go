package report_test

import (
	"bytes"
	"testing"

	"github.com/xuri/excelize/v2"

	"chuangwen/internal/i18n"
	"chuangwen/internal/pdfdoc"
	"chuangwen/internal/pdfdoc/pdftest"
	"chuangwen/internal/report"
	"chuangwen/internal/testcity"
)

// TestPrintedDocuments prints the hand-built quarter's bulletin, its
// November report and the notices of its week as PDF, reads their text
// back (pdftotext) and their fonts (pdffonts), and reopens the bulletin's
// workbook.
func TestPrintedDocuments(t *testing.T) {
	f := quarter(t, testcity.SQLite(t))
	msg, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	tr := func(k string) string { return msg.T("zh-CN", k) }
	check := func(name string, pdf []byte, wants ...string) {
		t.Helper()
		text, fonts := pdftest.Read(t, pdf)
		if !pdftest.Embedded(fonts, pdfdoc.FontName) {
			t.Errorf("%s: font not embedded:\n%s", name, fonts)
		}
		for _, w := range wants {
			if !pdftest.Contains(text, w) {
				t.Errorf("%s: text lacks %q:\n%s", name, w, text)
			}
		}
	}

	b, err := f.rs.Draft(f.ctx, f.c.Leader, "2026Q4")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := b.Doc.WritePDF(&buf, tr, "市创文办"); err != nil {
		t.Fatal(err)
	}
	// 拱墅区 96.00 ranks first, up 68; unit B scores 65 with on-time
	// handling 50%.
	check("bulletin", buf.Bytes(), "2026Q4 季度通报", "区县文明指数", "1 拱墅区 96.00 100.00% 90.00%", "+68.00",
		"2 上城区 50.00 50.00% 50.00%", "-42.00", "单位考核", "65.00", "50.00%", "模拟测评", "红黑榜", "市创文办", "（盖章）")

	buf.Reset()
	if err := b.Doc.WriteXLSX(&buf, tr); err != nil {
		t.Fatal(err)
	}
	x, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := x.GetRows("区县文明指数")
	if err != nil || len(rows) != 4 || rows[2][0] != "1" || rows[2][1] != "330105" || rows[2][3] != "96" || rows[3][9] != "-42" {
		t.Errorf("districts sheet %q %v", rows, err)
	}

	m, err := f.rs.Monthly(f.ctx, f.c.Leader, "2026-11")
	if err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	if err := m.WritePDF(&buf, tr, "市创文办"); err != nil {
		t.Fatal(err)
	}
	check("monthly", buf.Bytes(), "2026-11 月度调度", "趋势", "区县进度", "单位进度", "问题热点", "清波社区", "挂牌督办")

	docs, err := f.rs.WeekNotices(f.ctx, f.c.Leader, "2026-W47", "")
	if err != nil || len(docs) == 0 {
		t.Fatalf("notices %v %v", docs, err)
	}
	buf.Reset()
	if err := report.WriteNoticesPDF(&buf, docs, tr, "督办通知单 2026-W47"); err != nil {
		t.Fatal(err)
	}
	check("notices", buf.Bytes(), "督办通知单", docs[0].UnitName, "已超期", docs[0].Issuer, "（盖章）")
}
